"""Memory-level comparison table: one workload on several platforms, per dataflow, as
docs/hierarchy.md prints it ("VGG16: mesh-4core-l2 against mesh-4core").

    python tools/bench/levels.py [--platforms platforms/mesh-4core.yaml platforms/mesh-4core-l2.yaml]
        [--workload vgg16-cifar10] [--dataflows dense-ws ...] [--set KEY=VALUE ...] [--json FILE]

Columns (seed 0): latency (cycles; after the first platform its ratio to the first),
DRAM bytes (summary.csv read + write), GLB bytes (components.csv ``glb`` read + write
bytes), L2 bytes (the ``l2`` instances' read + write bytes summed), NoC link bytes
(``noc_link`` rows' ``write_bytes`` summed: a multicast counts once per link of its tree),
energy (summary.csv) and the energy of DRAM, NoC, GLB, L2 and L1 (energy.csv summed over
the component and its instances, e.g. ``l1_0`` .. ``l1_3``). Prints a markdown table;
``--json FILE`` also appends one JSON line per run (platform, dataflow and the figures).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# tools/bench/runs.py (this script's folder is first on sys.path)
from runs import reports

from tlmsim.platform.dataflow import DATAFLOWS
from tlmsim.workload import load_workload

ROOT = Path(__file__).resolve().parents[2]
GROUPS = ("dram", "noc", "glb", "l2", "l1")


def _group(component: str) -> str | None:
    """The level a component's energy counts under (an instance ``l2_3`` under ``l2``)."""
    base = component.rsplit("_", 1)[0] if component.rsplit("_", 1)[-1].isdigit() else component
    return base if base in GROUPS else None


def row(platform: str, dataflow: str, rep) -> dict:
    """The figures of one run's report (``rep``) of ``platform`` with ``dataflow``."""
    s = rep.summary.iloc[0]
    comp = rep.components
    mine = comp[comp["kind"] != "noc_link"]
    links = comp[comp["kind"] == "noc_link"]

    def rw(pred) -> int:
        m = mine[mine["component"].map(pred)]
        return int(m["read_bytes"].sum() + m["write_bytes"].sum())

    energy = {g: 0.0 for g in GROUPS}
    for name, e in rep.energy.groupby("component")["energy_pj"].sum().items():
        g = _group(str(name))
        if g is not None:
            energy[g] += float(e) / 1e6
    return {
        "platform": Path(platform).stem,
        "dataflow": dataflow,
        "latency": float(s["latency_cycles"]),
        "dram_bytes": int(s["dram_read_bytes"] + s["dram_write_bytes"]),
        "glb_bytes": rw(lambda c: c == "glb"),
        "l2_bytes": rw(lambda c: _group(c) == "l2"),
        "link_bytes": int(links["write_bytes"].sum()) if len(links) else 0,
        "energy_uj": float(s["energy_pj"]) / 1e6,
        "energy_by_level_uj": energy,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platforms", nargs="*", default=[str(ROOT / "platforms" / "mesh-4core.yaml"),
                                                      str(ROOT / "platforms" / "mesh-4core-l2.yaml")])
    ap.add_argument("--workload", default="vgg16-cifar10")
    ap.add_argument("--dataflows", nargs="*", default=list(DATAFLOWS))
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--json", default=None, help="append one JSON line per run to this file")
    args = ap.parse_args()

    workload = load_workload(args.workload, seed=0)
    print("| dataflow | platform | latency (cycles) | DRAM bytes | GLB bytes (r+w) | L2 bytes (r+w, all instances) "
          "| NoC link bytes | energy (uJ) | DRAM / NoC / GLB / L2 / L1 (uJ) |")
    print("|---|---|---|---|---|---|---|---|---|")
    base = 0.0
    for df, i, rep in reports(workload, args.dataflows, [(p, []) for p in args.platforms], args.sets):
        r = row(args.platforms[i], df, rep)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(r) + "\n")
        lat = f"{round(r['latency']):,}"
        if i == 0:
            base = r["latency"]
        else:
            lat += f" ({r['latency'] / base:.3f}x)"
        e = r["energy_by_level_uj"]
        print(f"| {df} | {r['platform']} | {lat} | {r['dram_bytes']:,} | {r['glb_bytes']:,} | {r['l2_bytes']:,} "
              f"| {r['link_bytes']:,} | {r['energy_uj']:,.0f} | " + " / ".join(f"{e[g]:,.0f}" for g in GROUPS)
              + " |", flush=True)


if __name__ == "__main__":
    main()
