"""The pairing estimate's latency (:meth:`Controller.latency`) is derived from the routes the
DMA books (:meth:`Controller.route`, through :meth:`Controller.route_hops`), so the two cannot
drift: on every shipped platform, for every pair of positions and every core, the hops are
the path the estimate documents (the source's read, a NoC transfer per neighbouring pair,
the staging write and read of each level passed, the destination's write), and booking the
route's steps with idle resources takes exactly the hops' cycles."""

from __future__ import annotations

from pathlib import Path

import pytest
import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.controller import _READ, hop_cycles
from tlmsim.platform import load_platform
from tlmsim.soc.build import build
from tlmsim.workload import load_workload

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = sorted(p.name for p in (ROOT / "platforms").glob("*.yaml"))


@pytest.fixture(scope="module")
def workload():
    return load_workload("digits-snn", seed=0)


def controller(name: str, workload):
    plat = load_platform(str(ROOT / "platforms" / name), [])
    _comps, ctrl, _plans = build(plat, workload, simpy.Environment(), Recorder(sinks=[]))
    return ctrl


def pairs(ctrl):
    top = len(ctrl._ends) - 1
    return [(s, d, c) for s in range(top + 1) for d in range(top + 1) if s != d for c in range(ctrl.ncores)]


def walk(ctrl, src: int, dst: int, core: int) -> tuple:
    """The path by hand, from the positions alone (0 DRAM, 1..n the levels, n + 1 L1): a
    private level's instance is the core's own, a shared level's its one instance."""
    top = len(ctrl._ends) - 1

    def mem(p):
        if p == top:
            return ctrl.l1s[core]
        insts = ctrl.level_insts[p - 1]
        return insts[core] if len(insts) > 1 else insts[0]

    def name(p):
        return "dram" if p == 0 else mem(p).name

    out = [ctrl._dram_hop(False) if src == 0 else ctrl._sram_hop(mem(src), False)]
    step = 1 if dst > src else -1
    for p in range(src, dst, step):
        out.append(ctrl._noc_hop(name(p), name(p + step)))
        if p + step != dst:
            out += [ctrl._sram_hop(mem(p + step), True), ctrl._sram_hop(mem(p + step), False)]
    out.append(ctrl._dram_hop(True) if dst == 0 else ctrl._sram_hop(mem(dst), True))
    return tuple(out)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_latency_path_is_the_route_on_every_shipped_platform(platform, workload):
    ctrl = controller(platform, workload)
    top = len(ctrl._ends) - 1
    # the platforms' shapes: no GLB (one position between DRAM and L1) to an L2 under the GLB, one or 4 cores
    assert (top, ctrl.ncores) == {"no-glb.yaml": (1, 1), "l2-glb.yaml": (3, 1), "mesh-4core.yaml": (2, 4),
                                  "mesh-4core-l2.yaml": (3, 4)}.get(platform, (2, 1))
    for src, dst, c in pairs(ctrl):
        assert ctrl.route_hops(src, dst, c) == walk(ctrl, src, dst, c), (src, dst, c)
    # the estimate's loads into L1 and stores out of it: the slowest core's route for a full block
    lat = ctrl.latency()
    for p in range(top):
        for got, (s, d) in ((lat.loads[p], (p, top)), (lat.stores[p], (top, p))):
            routes = [ctrl.route_hops(s, d, c) for c in range(ctrl.ncores)]
            assert got in routes
            assert hop_cycles(got, ctrl.chunk) == max(hop_cycles(h, ctrl.chunk) for h in routes)
    assert len(lat.loads) == len(lat.stores) == top


@pytest.mark.parametrize("platform", PLATFORMS)
def test_booking_a_route_with_idle_resources_takes_its_hops_cycles(platform, workload):
    # the route's SRAM and NoC steps booked as the DMA books them (a _READ as one resident read, no wrap),
    # each block far after the last so that every bank, link and staging slot is idle again; DRAM's ends
    # are event-driven (tests/hw/test_pipeline_latency.py checks its hop against the idle DRAM model)
    ctrl = controller(platform, workload)
    period, booked = ctrl.pe.period_ps, ctrl.recorder.booked
    start = 0
    for src, dst, c in pairs(ctrl):
        hops = ctrl.route_hops(src, dst, c)
        body = hops[(src == 0):len(hops) - (dst == 0)]
        for n in (32, ctrl.chunk):
            start += 10 ** 9
            t = start
            for kind, x in ctrl.route(src, dst, c):
                if kind == _READ:
                    mem = ctrl._bufs[x]
                    t = booked(mem, Cmd.READ, DataClass.WEIGHTS, ctrl.staging_bytes, n, mem.name, "noc", t, 0, 0, -1)
                else:
                    t = ctrl._book(t, ((kind, x),), DataClass.WEIGHTS, n, ctrl.staging_bytes, 0, 0, 0, -1)
            assert t - start == pytest.approx(hop_cycles(body, n) * period, abs=1e-6), (src, dst, c, n)
