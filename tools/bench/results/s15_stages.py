"""Instructions of `tlmsim run`'s stages (session 15, speedImp): the five-dense run of
tools/bench/throughput.py part 2 done as cli.cmd_run does it, ended by os._exit right after
stage STOP, so that `valgrind --tool=cachegrind --cache-sim=no` of one process per STOP gives
the cumulative instructions up to that stage (differences of successive STOPs: the stages).

    python tools/bench/results/s13_breakdown.py prepare /tmp/si   # writes /tmp/si/five_dense.csv
    STOP=load|sim|report|write|all [OLD=1] valgrind --tool=cachegrind --cache-sim=no \
        --cachegrind-out-file=/dev/null python tools/bench/results/s15_stages.py /tmp/si

OLD=1: as main 8fb5375 (no gc.freeze; STOP=all ends with the interpreter's teardown)."""
import os
import sys

stop, old, work = os.environ["STOP"], bool(os.environ.get("OLD")), sys.argv[1]
from tlmsim import cli
from tlmsim.outputs import check_outputs
from tlmsim.report import build_report, console_summary, write_tables
from tlmsim.soc.run import simulate

overrides = ["pe_array.rows=16", "pe_array.cols=16", "dataflow.name=dense-ws"]
platform, workload = cli._load("ddr4-baseline", f"{work}/five_dense.csv", overrides, 0)
if stop == "load":
    os._exit(0)
if not old:
    import gc

    gc.freeze()
check_outputs(dirs=[("--out", f"{work}/stages_out")], files=[])
result = simulate(platform, workload, seed=0)
if stop == "sim":
    os._exit(0)
report = build_report(result)
if stop == "report":
    os._exit(0)
write_tables(report.tables(), f"{work}/stages_out")
if stop == "write":
    os._exit(0)
console_summary(result, report)
if old:
    sys.exit(0)
os._exit(0)
