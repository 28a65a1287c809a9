"""Sweep speed-up: the same points run serially and on a 2-worker Dask LocalCluster.

    python tools/bench/sweep_speedup.py [--points 100] [--workers 2] [--workload lenet5-mnist]

Prints both wall times (cluster start-up included) and their ratio, and checks that
the two results tables are identical.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tlmsim.explore.sweep import SweepSpec, run_sweep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--workload", default="lenet5-mnist")
    args = ap.parse_args()
    spec = SweepSpec(platform="ddr4-baseline", workload=args.workload, mode="random", samples=args.points,
                     random_seed=1, parameters={
                         "pe_array.rows": [8, 16, 32], "pe_array.cols": [8, 16, 32],
                         "buffers.glb.capacity_bytes": ["256KiB", "512KiB", "1MiB"],
                         "dram.preset": ["DDR4-3200", "LPDDR4", "HBM2"],
                         "dataflow.dma_chunk_bytes": [1024, 2048, 4096]})
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        a, _ = run_sweep(spec, Path(d) / "serial", workers=0, progress=False)
        serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        b, _ = run_sweep(spec, Path(d) / "dask", workers=args.workers, progress=False)
        parallel = time.perf_counter() - t0
        same = (Path(d) / "serial" / "results.csv").read_bytes() == (Path(d) / "dask" / "results.csv").read_bytes()
    print(f"{args.points} points of {args.workload} (random sample; duplicates run once): {len(a)} distinct rows")
    print(f"serial                 {serial:8.1f} s")
    print(f"dask, {args.workers} workers        {parallel:8.1f} s  (cluster start-up included)")
    print(f"speed-up               {serial / parallel:8.2f}x   (aim >= 1.8)")
    print(f"identical results      {same}")


if __name__ == "__main__":
    main()
