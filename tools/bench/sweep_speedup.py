"""Sweep speed-up: the same points run serially and on a 2-worker Dask LocalCluster.

    python tools/bench/sweep_speedup.py [--points 100] [--workers 2] [--workload lenet5-mnist]

Prints the serial wall time, the wall time on a LocalCluster the sweep starts itself
(start-up included), the start-up alone, and the wall time on a cluster already up
(as with ``--scheduler``), the speed-ups, and checks that the tables are identical.
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
    from distributed import Client, LocalCluster

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        a, _ = run_sweep(spec, Path(d) / "serial", workers=0, progress=False)
        serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_sweep(spec, Path(d) / "dask", workers=args.workers, progress=False)  # compared below by its results.csv
        parallel = time.perf_counter() - t0
        # the same on a cluster that is already up (what `--scheduler ADDRESS` sees)
        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None)
        with Client(cluster) as client:
            client.run(lambda: __import__("tlmsim.soc.run"))  # workers import tlmsim once
            startup = time.perf_counter() - t0
            t0 = time.perf_counter()
            run_sweep(spec, Path(d) / "running", scheduler=cluster.scheduler_address, progress=False)
            warm = time.perf_counter() - t0
        cluster.close()
        out = {name: (Path(d) / name / "results.csv").read_bytes() for name in ("serial", "dask", "running")}
        same = out["serial"] == out["dask"] == out["running"]
    print(f"{args.points} points of {args.workload} (random sample; duplicates run once): {len(a)} distinct rows")
    print(f"serial                     {serial:8.1f} s")
    print(f"dask, {args.workers} workers            {parallel:8.1f} s  (LocalCluster started by the sweep)")
    print(f"speed-up                   {serial / parallel:8.2f}x   (aim >= 1.8)")
    print(f"cluster start-up           {startup:8.1f} s  (2 worker processes importing tlmsim)")
    print(f"dask, cluster already up   {warm:8.1f} s  -> speed-up {serial / warm:.2f}x")
    print(f"identical results          {same}")

if __name__ == "__main__":
    main()
