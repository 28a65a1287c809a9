"""Where tlmsim's whole-process CPU goes in the SCALE-Sim comparison (throughput.py part 2).

    python breakdown.py prepare DIR          # the five-dense topology as throughput.py writes it
    python breakdown.py staged DIR [PLATFORM] # one `tlmsim run` done stage by stage, CPU s of each

`staged` repeats cli.cmd_run's steps in a fresh interpreter and reads time.process_time()
(user + system of this process since it started) after each: the first reading is the
interpreter's start-up (site, encodings) before this file's first import."""
import time

T0 = time.process_time()  # interpreter start-up, before any import of this file
import sys  # noqa: E402

stages = [("interpreter start", T0)]
last = [T0]


def mark(name):
    now = time.process_time()
    stages.append((name, now - last[0]))
    last[0] = now


if sys.argv[1] == "prepare":
    from pathlib import Path
    sys.path.insert(0, sys.argv[3] if len(sys.argv) > 3 else "/work/wt/bench/tools")
    import scalesim_golden as g
    layers = g.LAYERS[:5]
    work = Path(sys.argv[2]); work.mkdir(parents=True, exist_ok=True)
    (work / "five_dense.csv").write_text(g.topology_text(layers[0]).splitlines()[0] + "\n" + "".join(
        g.topology_text(layer).splitlines()[1] + "\n" for layer in layers))
    (work / "scale.cfg").write_text(g.config_text("five_dense", "ws", 16, 16))
    (work / "layout.csv").write_text(g.layout_text(layers[0]).splitlines()[0] + "\n" + "".join(
        g.layout_text(layer).splitlines()[1] + "\n" for layer in layers))
    print("layers", [l.name for l in layers])
    sys.exit(0)

work = sys.argv[2]
platform_name = sys.argv[3] if len(sys.argv) > 3 else "ddr4-baseline"
import numpy  # noqa: E402,F401
mark("import numpy")
import yaml  # noqa: E402,F401
mark("import yaml")
import pydantic  # noqa: E402,F401
mark("import pydantic")
import simpy  # noqa: E402,F401
mark("import simpy")
import pandas  # noqa: E402,F401
mark("import pandas")
from tlmsim import cli  # noqa: E402
mark("import tlmsim.cli")
from tlmsim.outputs import check_outputs  # noqa: E402
from tlmsim.report import build_report, console_summary, write_tables  # noqa: E402
from tlmsim.soc.run import simulate  # noqa: E402
mark("import tlmsim run modules")
import tlmsim.dataflow.base as base  # noqa: E402
import tlmsim.soc.run as runmod  # noqa: E402

planning = [0.0]
orig_init, orig_plan, orig_build = base.LazyPlans.__init__, base.LazyPlans._plan, runmod.build


def timed(fn):
    def w(*a, **k):
        c = time.process_time()
        try:
            return fn(*a, **k)
        finally:
            planning[0] += time.process_time() - c
    return w


base.LazyPlans.__init__, base.LazyPlans._plan = timed(orig_init), timed(orig_plan)
overrides = ["pe_array.rows=16", "pe_array.cols=16", "dataflow.name=dense-ws"]
platform, workload = cli._load(platform_name, f"{work}/five_dense.csv", overrides, 0)
mark("load platform + workload")
check_outputs(dirs=[("--out", f"{work}/tlm")], files=[])
result = simulate(platform, workload, seed=0)
sim = time.process_time() - last[0]
stages.append(("plan (LazyPlans first pass + replans)", planning[0]))
stages.append(("simulate (build SoC, events, checks)", sim - planning[0]))
last[0] = time.process_time()
report = build_report(result)
mark("build report")
written = write_tables(report.tables(), f"{work}/tlm")
mark(f"write {len(written)} tables")
text = console_summary(result, report)
from tlmsim.kernels import describe  # noqa: E402
text += describe()
mark("console summary")
import resource  # noqa: E402
ru = resource.getrusage(resource.RUSAGE_SELF)
total = ru.ru_utime + ru.ru_stime
for name, s in stages:
    print(f"{name:<42} {s:7.3f}")
print(f"{'sum of stages':<42} {sum(s for _, s in stages):7.3f}")
print(f"{'process total (getrusage)':<42} {total:7.3f}")
print(f"transactions {result.recorder.issued}, latency cycles {int(report.summary.iloc[0]['latency_cycles'])}; {describe()}")
