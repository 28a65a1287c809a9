"""Multi-core scaling table: one workload on one multi-core platform at 1, 2 and 4 cores
(``--set pe_array.cores=N``), per dataflow, as docs/hierarchy.md prints it.

    python tools/bench/scaling.py [--platform platforms/mesh-4core.yaml] [--workload vgg16-cifar10]
        [--cores 1 2 4] [--dataflows dense-ws ...] [--set KEY=VALUE ...]

Columns: latency (cycles), speed-up over the first core count, DRAM bandwidth used (of the
platform's peak), NoC multicast bytes (stats.csv ``multicast_bytes``), link stalls (the
``stall_link_busy_cycles`` / ``stall_link_credit_cycles`` of components.csv's ``noc_link``
rows, summed) and NoC link bytes (their ``write_bytes`` summed: a multicast counts once per
link of its tree). Seed 0. Prints a markdown table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

# tools/bench/runs.py (this script's folder is first on sys.path)
from runs import reports

from tlmsim.platform.dataflow import DATAFLOWS
from tlmsim.workload import load_workload

ROOT = Path(__file__).resolve().parents[2]


def row(rep) -> dict:
    """The figures of one run's report."""
    s = rep.summary.iloc[0]
    comp = rep.components
    links = comp[comp["kind"] == "noc_link"]
    st = rep.stats
    mc = st[(st["component"] == "noc") & (st["stat"] == "multicast_bytes")]["value"]

    def col(name: str) -> int:
        return int(links[name].sum()) if name in links else 0

    return {
        "latency": float(s["latency_cycles"]),
        "gbps": float(s["dram_bandwidth_gb_per_s"]),
        "peak": float(s["dram_peak_gb_per_s"]),
        "multicast": int(mc.sum()) if len(mc) else 0,
        "busy": col("stall_link_busy_cycles"),
        "credit": col("stall_link_credit_cycles"),
        "link_bytes": col("write_bytes"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platform", default=str(ROOT / "platforms" / "mesh-4core.yaml"))
    ap.add_argument("--workload", default="vgg16-cifar10")
    ap.add_argument("--cores", nargs="*", type=int, default=[1, 2, 4])
    ap.add_argument("--dataflows", nargs="*", default=list(DATAFLOWS))
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()

    workload = load_workload(args.workload, seed=0)
    print("| dataflow | cores | latency (cycles) | speedup | DRAM GB/s (of peak) | multicast bytes "
          "| link stalls busy / credit (cycles) | NoC link bytes |")
    print("|---|---|---|---|---|---|---|---|")
    variants = [(args.platform, [f"pe_array.cores={n}"]) for n in args.cores]
    base = 0.0
    for df, i, rep in reports(workload, args.dataflows, variants, args.sets):
        r = row(rep)
        if i == 0:
            base = r["latency"]
        pct = 100 * r["gbps"] / r["peak"]
        print(f"| {df} | {args.cores[i]} | {round(r['latency']):,} | {base / r['latency']:.2f}x "
              f"| {r['gbps']:.1f} ({pct:.0f} %) | {r['multicast']:,} | {r['busy']:,} / {r['credit']:,} "
              f"| {r['link_bytes']:,} |", flush=True)


if __name__ == "__main__":
    main()
