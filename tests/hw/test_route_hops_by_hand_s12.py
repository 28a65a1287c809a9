"""Controller.route_hops by hand (session 12, mutation run s12ctl): the zero-load hops of a
block along each route, with every SRAM's read and write latencies distinct, so a read booked
as a write (or a staging slot's write and read swapped) shows.

Platform l2-glb (positions 0 DRAM, 1 L2, 2 GLB, 3 L1), latencies set apart: L2 read 3, write 5;
GLB read 4, write 6; L1 read 2, write 7 cycles. An SRAM hop is ``(latency - 1, banks x port
width, 1.0)``: L2 and GLB 16 banks x 32 B = 512 B per cycle, L1 8 x 32 = 256. The NoC (a mesh,
at the array's 500 MHz clock): DRAM (0,0) - L2 (1,0) - GLB (2,0) - L1 (2,1), one hop between
neighbouring positions, router 2 + link 1 = 3 cycles, 64-byte flits: ``(3.0, 64, 1.0)``. DRAM
(DDR4-3200, tCK 630 ps, so 0.315 array cycles per tCK): a read's first burst tRCD 22 + RL 22 +
burst 4 = 48 tCK after it arrives, the next bursts of the block tCCD_L 8 apart (consecutive
64-byte bursts are neighbouring columns of one bank), so ``((48 - 8) x 0.315, 64, 8 x 0.315)``;
a write is posted, done a tCK after it arrives: ``(0.315, 1, 0.0)``.
"""

from __future__ import annotations

import pytest
import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.platform import load_platform
from tlmsim.soc.build import build
from tlmsim.workload import load_workload

LATENCIES = ["buffers.levels.0.read_latency_cycles=3", "buffers.levels.0.write_latency_cycles=5",
             "buffers.levels.1.read_latency_cycles=4", "buffers.levels.1.write_latency_cycles=6",
             "buffers.l1.read_latency_cycles=2", "buffers.l1.write_latency_cycles=7"]

D_RD, D_WR = (40 * 0.315, 64, 8 * 0.315), (0.315, 1, 0.0)
NOC = (3.0, 64, 1.0)
L2_RD, L2_WR = (2.0, 512, 1.0), (4.0, 512, 1.0)
GLB_RD, GLB_WR = (3.0, 512, 1.0), (5.0, 512, 1.0)
L1_RD, L1_WR = (1.0, 256, 1.0), (6.0, 256, 1.0)

#: (src, dst) -> hops: the source's read (DRAM's, a resident read of a level, L1's), a NoC
#: transfer per neighbouring pair, each level passed written and read out of a staging slot,
#: the destination's write
WANT = {
    (0, 3): (D_RD, NOC, L2_WR, L2_RD, NOC, GLB_WR, GLB_RD, NOC, L1_WR),
    (3, 0): (L1_RD, NOC, GLB_WR, GLB_RD, NOC, L2_WR, L2_RD, NOC, D_WR),
    (0, 1): (D_RD, NOC, L2_WR),
    (1, 0): (L2_RD, NOC, D_WR),
    (0, 2): (D_RD, NOC, L2_WR, L2_RD, NOC, GLB_WR),
    (2, 0): (GLB_RD, NOC, L2_WR, L2_RD, NOC, D_WR),
    (1, 2): (L2_RD, NOC, GLB_WR),
    (2, 1): (GLB_RD, NOC, L2_WR),
    (1, 3): (L2_RD, NOC, GLB_WR, GLB_RD, NOC, L1_WR),
    (3, 1): (L1_RD, NOC, GLB_WR, GLB_RD, NOC, L2_WR),
    (2, 3): (GLB_RD, NOC, L1_WR),
    (3, 2): (L1_RD, NOC, GLB_WR),
}


@pytest.fixture(scope="module")
def ctrl():
    plat = load_platform("l2-glb", LATENCIES)
    _comps, c, _plans = build(plat, load_workload("digits-snn", seed=0), simpy.Environment(), Recorder(sinks=[]))
    return c


def flat(hops):
    return [v for h in hops for v in h]


@pytest.mark.parametrize("src, dst", sorted(WANT))
def test_every_route_of_l2_glb_with_distinct_read_and_write_latencies(ctrl, src, dst):
    got = ctrl.route_hops(src, dst)
    assert len(got) == len(WANT[src, dst])
    assert flat(got) == pytest.approx(flat(WANT[src, dst]), rel=1e-12)
    assert ctrl.route_hops(src, dst, 0) == got  # the default core is core 0


def test_the_estimates_latency_takes_these_hops(ctrl):
    # one core: the loads into L1 are the routes 0, 1, 2 -> 3, the stores 3 -> 0, 1, 2; L1's own hops
    lat = ctrl.latency()
    assert [flat(h) for h in lat.loads] == [pytest.approx(flat(WANT[p, 3]), rel=1e-12) for p in range(3)]
    assert [flat(h) for h in lat.stores] == [pytest.approx(flat(WANT[3, p]), rel=1e-12) for p in range(3)]
    assert (lat.l1_read, lat.l1_write) == (L1_RD, L1_WR)
