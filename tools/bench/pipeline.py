"""Layer pipelining against split, with the pairing estimate beside the measured times, as
docs/hierarchy.md prints it ("Layer pipelining").

    python tools/bench/pipeline.py [--platform platforms/mesh-4core.yaml] [--workloads vgg16-cifar10 digits-snn]
        [--dataflows dense-ws ...] [--set KEY=VALUE ...] [--json FILE]

Per workload and dataflow (seed 0) two runs, ``pe_array.multicore=split`` and ``pipeline``.
Columns: measured latency of each (cycles) and the speed-up; the pairs the estimate chose;
the estimate of the run one layer after the other (the layers' :func:`alone_cycles` summed)
and of the chosen stages (a pair's :func:`pair_cycles` on its cores, a lone layer's
:func:`alone_cycles`), each as a ratio to the measured latency of its run; and the estimate
of pairing whatever fits (session 8's rule, ``by_gain=False``), from the plans only (not run).
``--json FILE`` appends one JSON line per workload and dataflow with every figure, per stage
too (its layers, cores, estimate and measured span). ``est_*_nolat``: the same estimates
without the latency term (``Rates.latency`` None: session 9's estimate), for comparison.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from tlmsim.dataflow import make_dataflow
from tlmsim.hw.controller import alone_cycles, pair_cycles, pipeline_stages
from tlmsim.platform import load_platform
from tlmsim.platform.dataflow import DATAFLOWS
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload

ROOT = Path(__file__).resolve().parents[2]


def stage_estimate(stage, ncores: int, rates) -> float:
    if len(stage) == 1:
        return alone_cycles(stage[0][0], ncores, rates)
    (p, cp), (q, _) = stage
    return pair_cycles(p, q, len(cp), ncores, rates)


def compare(platform: str, workload, dataflow: str, sets: list[str]) -> dict:
    out: dict = {"dataflow": dataflow}
    for mode in ("split", "pipeline"):
        plat = load_platform(platform, [f"dataflow.name={dataflow}", f"pe_array.multicore={mode}", *sets])
        res = simulate(plat, workload, seed=0)
        ctrl, period = res.controller, plat.clock_period_ps
        n, rates = ctrl.ncores, ctrl.rates()
        nolat = dataclasses.replace(rates, latency=None)
        span = {r.index: (r.start_ps / period, r.end_ps / period) for r in ctrl.layers}
        out[mode] = res.end_ps / period
        # a run keeps only its plans' summaries (the tiles go once their layer has run): the
        # estimates read the tiles, so the layers are planned again (the same plans: LazyPlans)
        plans = make_dataflow(plat, res.workload).plan()
        if mode == "split":
            out["layers"] = [{"layer": p.layer.name, "est": alone_cycles(p, n, rates),
                              "measured": span[p.layer.index][1] - span[p.layer.index][0]} for p in plans]
            out["est_split"] = sum(x["est"] for x in out["layers"])
            out["est_split_nolat"] = sum(alone_cycles(p, n, nolat) for p in plans)
            caps = [x[0].capacity_bytes for x in ctrl.level_insts]
            fit, _ = pipeline_stages(plans, n, caps, ctrl.staging_bytes, rates=rates, by_gain=False)
            out["est_fit"] = sum(stage_estimate(st, n, rates) for st in fit)
            continue
        by_index = {p.layer.index: p for p in plans}
        stages = [[(by_index[s.layer.index], c) for s, c in st] for st in ctrl.stages or []] or [
            [(p, tuple(range(n)))] for p in plans]
        rows = []
        for st in stages:
            idx = [p.layer.index for p, _ in st]
            rows.append({"layers": [p.layer.name for p, _ in st], "cores": [list(c) for _, c in st],
                         "est": stage_estimate(st, n, rates),
                         "measured": max(span[i][1] for i in idx) - min(span[i][0] for i in idx)})
        out["stages"] = rows
        out["est_pipeline"] = sum(x["est"] for x in rows)
        out["est_pipeline_nolat"] = sum(stage_estimate(st, n, nolat) for st in stages)
        out["pairs"] = ["+".join(x["layers"]) for x in rows if len(x["layers"]) == 2]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platform", default=str(ROOT / "platforms" / "mesh-4core.yaml"))
    ap.add_argument("--workloads", nargs="*", default=["vgg16-cifar10", "digits-snn"])
    ap.add_argument("--dataflows", nargs="*", default=list(DATAFLOWS))
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--json", default=None, help="append one JSON line per workload and dataflow to this file")
    args = ap.parse_args()

    print("| workload | dataflow | split (cycles) | pipeline (cycles) | speed-up | pairs chosen | est. split "
          "(/ measured) | est. pipeline (/ measured) | without the latency term: split, pipeline (/ measured) | "
          "est. pairing all that fit |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.workloads:
        workload = load_workload(name, seed=0)
        for df in args.dataflows:
            r = compare(args.platform, workload, df, args.sets)
            r["workload"] = name
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(r) + "\n")
            print(f"| {name} | {df} | {round(r['split']):,} | {round(r['pipeline']):,} | "
                  f"{r['split'] / r['pipeline']:.2f}x | {', '.join(r['pairs']) or 'none'} | "
                  f"{round(r['est_split']):,} ({r['est_split'] / r['split']:.2f}) | "
                  f"{round(r['est_pipeline']):,} ({r['est_pipeline'] / r['pipeline']:.2f}) | "
                  f"{r['est_split_nolat'] / r['split']:.2f}, {r['est_pipeline_nolat'] / r['pipeline']:.2f} | "
                  f"{round(r['est_fit']):,} |", flush=True)


if __name__ == "__main__":
    main()
