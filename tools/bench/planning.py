"""Planning alone: its CPU time and a hash of the plans it makes.

Loads a platform (with ``dataflow.name`` and any ``--set`` overrides) and a workload
(seed 0), then times ``make_dataflow(platform, workload).plan()`` in CPU seconds (user +
system of this process, :func:`time.process_time`) and prints a SHA-256 of every
layer's plan: its tiling, residency, levels, L1 footprint, spike formats, prologue,
epilogue and tiles (every field, through their ``repr``). Two versions of the planner
make the same plans when the hashes are equal; planning speed is compared by the best
CPU time of several fresh processes (``--repeat`` runs each one in its own interpreter,
so that no cache carries over).

    python tools/bench/planning.py --platform ddr4-baseline --workload vgg16-cifar10 --dataflow spikex
        [--set pe_array.rows=8 ...] [--repeat 3]

Prints one line: ``<platform> <workload> <dataflow> cpu=<best s> [<all s>] hash=<sha256 prefix>``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time


def plan_once(platform: str, workload: str, dataflow: str, sets: list[str]) -> tuple[float, str]:
    """CPU seconds of one planning and the hash of its plans."""
    from tlmsim.dataflow import make_dataflow
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload

    plat = load_platform(platform, [f"dataflow.name={dataflow}", *sets])
    wl = load_workload(workload, seed=0)
    c0 = time.process_time()
    plans = make_dataflow(plat, wl).plan()
    cpu = time.process_time() - c0
    h = hashlib.sha256()
    for p in plans:
        h.update(repr((p.layer.name, p.tiling, p.resident, p.resident_bytes, p.levels, p.l1_tile_bytes,
                       p.spike_formats, p.prologue, p.epilogue)).encode())
        for t in p.tiles:
            h.update(repr(t).encode())
    return cpu, h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--platform", default="ddr4-baseline")
    ap.add_argument("--workload", default="vgg16-cifar10")
    ap.add_argument("--dataflow", default="spikex")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="a platform override, KEY=VALUE")
    ap.add_argument("--repeat", type=int, default=1, help="fresh processes to run (best CPU time reported)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        cpu, digest = plan_once(a.platform, a.workload, a.dataflow, a.sets)
        print(json.dumps({"cpu": cpu, "hash": digest}))
        return 0
    runs = []
    for _ in range(a.repeat):
        cmd = [sys.executable, __file__, "--child", "--platform", a.platform, "--workload", a.workload,
               "--dataflow", a.dataflow] + [x for s in a.sets for x in ("--set", s)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    hashes = {r["hash"] for r in runs}
    if len(hashes) != 1:
        print(f"plans differ between runs: {sorted(hashes)}", file=sys.stderr)
        return 1
    cpus = [r["cpu"] for r in runs]
    print(f"{a.platform} {a.workload} {a.dataflow} cpu={min(cpus):.3f} [{' '.join(f'{c:.3f}' for c in cpus)}] "
          f"hash={hashes.pop()[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
