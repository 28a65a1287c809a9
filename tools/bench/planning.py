"""Planning alone: its CPU time and a hash of the plans it makes.

Loads a platform (with ``dataflow.name`` and any ``--set`` overrides) and a workload
(seed 0), then times ``make_dataflow(platform, workload).plan()`` in CPU seconds (user +
system of this process, :func:`time.process_time`) and prints a SHA-256 of every
layer's plan: its tiling, residency, levels, L1 footprint, spike formats, prologue,
epilogue and tiles (every field, through their ``repr``). Two versions of the planner
make the same plans when the hashes are equal; planning speed is compared by the best
CPU time of several fresh processes (``--repeat`` runs each one in its own interpreter,
so that no cache carries over).

``--lazy`` times what a run does instead (docs/performance.md, "Session 10"): the first
pass of :class:`tlmsim.dataflow.base.LazyPlans` (every layer planned, checked and summarised),
then every layer's plan asked for in order and released, as the controller does (the plans
the first pass did not keep, beyond ``KEEP_TILES`` tiles, are planned again); ``--keep-tiles
N`` overrides ``KEEP_TILES`` (0: every layer planned twice). The hash is of the plans handed
out, so it equals the plain planning's when the plans are the same. ``--check`` (without
``--lazy``) adds :func:`tlmsim.soc.build.check_plan` of every plan to the plain planning:
what a run paid before LazyPlans.

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


def _digest(h, p) -> None:
    h.update(repr((p.layer.name, p.tiling, p.resident, p.resident_bytes, p.levels, p.l1_tile_bytes,
                   p.spike_formats, p.prologue, p.epilogue)).encode())
    for t in p.tiles:
        h.update(repr(t).encode())


def plan_once(platform: str, workload: str, dataflow: str, sets: list[str], lazy: bool = False,
              keep_tiles: int | None = None, check: bool = False) -> tuple[float, str]:
    """CPU seconds of one planning and the hash of its plans (``lazy``: a run's, see the docstring;
    ``check``: the plain planning followed by :func:`check_plan` of every plan)."""
    from tlmsim.dataflow import make_dataflow
    from tlmsim.dataflow.base import LazyPlans
    from tlmsim.platform import load_platform
    from tlmsim.soc.build import check_plan
    from tlmsim.workload import load_workload

    plat = load_platform(platform, [f"dataflow.name={dataflow}", *sets])
    wl = load_workload(workload, seed=0).with_weight_bits(plat.pe_array.weight_bits)
    h = hashlib.sha256()
    if lazy:
        cpu = 0.0
        c0 = time.process_time()
        plans = LazyPlans(make_dataflow(plat, wl), check=lambda p: check_plan(plat, p), keep_tiles=keep_tiles)
        for i in range(len(plans)):
            p = plans[i]
            cpu += time.process_time() - c0
            _digest(h, p)  # not timed
            c0 = time.process_time()
            plans.release(i)
            del p
        cpu += time.process_time() - c0
        return cpu, h.hexdigest()
    c0 = time.process_time()
    plans = make_dataflow(plat, wl).plan()
    cpu = time.process_time() - c0
    if check:  # as build() did before LazyPlans: plan every layer, then check every plan
        c0 = time.process_time()
        for p in plans:
            check_plan(plat, p)
        cpu += time.process_time() - c0
    for p in plans:
        _digest(h, p)
    return cpu, h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--platform", default="ddr4-baseline")
    ap.add_argument("--workload", default="vgg16-cifar10")
    ap.add_argument("--dataflow", default="spikex")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="a platform override, KEY=VALUE")
    ap.add_argument("--repeat", type=int, default=1, help="fresh processes to run (best CPU time reported)")
    ap.add_argument("--lazy", action="store_true", help="time a run's planning (LazyPlans: first pass, then in order)")
    ap.add_argument("--check", action="store_true", help="without --lazy: time check_plan of every plan too")
    ap.add_argument("--keep-tiles", type=int, help="with --lazy: override KEEP_TILES (0: plan every layer twice)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        cpu, digest = plan_once(a.platform, a.workload, a.dataflow, a.sets, a.lazy, a.keep_tiles, a.check)
        print(json.dumps({"cpu": cpu, "hash": digest}))
        return 0
    runs = []
    for _ in range(a.repeat):
        cmd = [sys.executable, __file__, "--child", "--platform", a.platform, "--workload", a.workload,
               "--dataflow", a.dataflow] + [x for s in a.sets for x in ("--set", s)] + (["--lazy"] if a.lazy else []) + (["--check"] if a.check else []) \
            + (["--keep-tiles", str(a.keep_tiles)] if a.keep_tiles is not None else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    hashes = {r["hash"] for r in runs}
    if len(hashes) != 1:
        print(f"plans differ between runs: {sorted(hashes)}", file=sys.stderr)
        return 1
    cpus = [r["cpu"] for r in runs]
    mode = (" lazy" + (f" keep={a.keep_tiles}" if a.keep_tiles is not None else "")) if a.lazy else (
        " checked" if a.check else "")
    print(f"{a.platform} {a.workload} {a.dataflow}{mode} cpu={min(cpus):.3f} [{' '.join(f'{c:.3f}' for c in cpus)}] "
          f"hash={hashes.pop()[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
