"""Run ``tlmsim bench dram`` on every row of tests/golden/dramsim3_bench.csv and print the
table tlmsim vs DRAMsim3 (bandwidth, mean read latency) as Markdown.

    python tools/dram_vs_dramsim3.py [--presets DDR4-3200 ...]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from tlmsim.bench.dram import run_dram_bench

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden" / "dramsim3_bench.csv"


def rows(presets=None):
    with GOLDEN.open() as f:
        for g in csv.DictReader(f):
            if presets and g["preset"] not in presets:
                continue
            yield g


def measure(g: dict):
    kw = {}
    if g["pattern"] == "dma":
        kw = dict(streams=int(g["streams"]), outstanding=int(g["outstanding"]), block_bytes=int(g["block_bytes"]),
                  write_every=int(g["write_every"]))
    return run_dram_bench(preset=g["preset"], pattern=g["pattern"], requests=20000, seed=int(g["seed"]), **kw).iloc[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="*")
    args = ap.parse_args()
    print("| preset | pattern | tlmsim GB/s | DRAMsim3 GB/s | diff | tlmsim latency ns | DRAMsim3 latency ns | diff |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for g in rows(args.presets):
        r = measure(g)
        name = g["pattern"]
        if name == "dma":
            name += f" S={g['streams']}" + (f" W={g['write_every']}" if g["write_every"] != "0" else "")
        bw, gbw = r.bandwidth_gb_per_s, float(g["bandwidth_gb_per_s"])
        lat, glat = r.read_latency_mean_ns, float(g["read_latency_mean_ns"])
        print(f"| {g['preset']} | {name} | {bw:.2f} | {gbw:.2f} | {100 * (bw / gbw - 1):+.1f} % | {lat:.1f} | {glat:.1f} "
              f"| {100 * (lat / glat - 1):+.1f} % |", flush=True)


if __name__ == "__main__":
    main()
