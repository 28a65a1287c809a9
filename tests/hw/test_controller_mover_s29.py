"""The controller's per-tile path after issue 17's session 29 (``transfer``: a one-block move is
its lane itself, a larger one dealt to lanes; the PE array's halves; the L1 bookings of a
tile's operands and results as single calls), by hand: a multi-block store leaves its own core's
L1, a move of no bytes moves nothing, and a tile's L1 hops belong to no DMA block (chain -1)."""

import simpy

from tests.hw.test_controller import LAYER, NS, Fixed
from tlmsim.engine.plan import LayerPlan, Move, Tile
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import DataClass
from tlmsim.hw.controller import Controller
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig


class _ChainSink:
    """Keeps each hop's component and its transaction's chain."""

    def __init__(self):
        self.hops = []

    def hop(self, txn, component, start_ps, end_ps, wait_ps, busy_ps):
        self.hops.append((component, txn.cmd.name, txn.chain))

    def stall(self, *a):
        pass

    def close(self):
        pass


def _run(tiles, cores=1, sinks=()):
    env, rec = simpy.Environment(), Recorder(sinks=sinks)
    mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)
    pes = [PeArray(name=f"pe_array_{c}" if cores > 1 else "pe_array", env=env, recorder=rec,
                   config=PeArrayConfig(), clock_period_ps=NS, energy=EnergyTable()) for c in range(cores)]
    l1s = [mk(f"l1_{c}" if cores > 1 else "l1") for c in range(cores)]
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=mk("dram"), noc=mk("noc"), levels=[mk("glb")],
                      l1=l1s, pe=pes, plans=[LayerPlan(layer=LAYER, tiles=tiles)], chunk_bytes=4096,
                      outstanding=4, double_buffered=True)
    env.run(until=ctrl.done)
    return rec, ctrl


def test_each_cores_store_of_several_blocks_leaves_its_own_l1():
    # two cores, one tile each; each stores 5,000 bytes (two DMA blocks: 4,096 + 904) into the GLB
    tiles = [Tile(index=i, t_first=0, t_last=0, loads=[], compute_cycles=10,
                  stores=[Move(DataClass.OUT_SPIKES, 5000, False, 0, 16384 + 8192 * i, level=0)]) for i in range(2)]
    rec, ctrl = _run(tiles, cores=2)
    assert rec.stats["l1_0"].c["read_bytes"] == rec.stats["l1_1"].c["read_bytes"] == 5000
    assert (rec.stats["l1_0"].c["reads"], rec.stats["l1_1"].c["reads"]) == (2, 2)
    assert rec.stats["glb"].c["write_bytes"] == 10000
    assert ctrl.stats.c["dma_blocks"] == 4


def test_a_move_of_no_bytes_moves_nothing():
    # one tile loading 64 spike bytes from the GLB and an empty weights move: one block in all
    with_empty = [Tile(index=0, t_first=0, t_last=0, stores=[], compute_cycles=10,
                       loads=[Move(DataClass.WEIGHTS, 0, False, 0, 4096, level=0),
                              Move(DataClass.SPIKES, 64, False, 0, 8192, level=0)])]
    alone = [Tile(index=0, t_first=0, t_last=0, stores=[], compute_cycles=10,
                  loads=[Move(DataClass.SPIKES, 64, False, 0, 8192, level=0)])]
    (rec, ctrl), (rec1, ctrl1) = _run(with_empty), _run(alone)
    assert ctrl.stats.c["dma_blocks"] == ctrl1.stats.c["dma_blocks"] == 1
    assert rec.stats["glb"].c["reads"] == 1 and rec.stats["l1"].c["writes"] == 1
    assert ctrl.env.now == ctrl1.env.now and rec.issued == rec1.issued


def test_a_tiles_own_l1_hops_belong_to_no_dma_block():
    # a tile loads 64 bytes from the GLB (a DMA block: its hops share a chain >= 0), the array reads
    # them out of L1 and writes 8 output bytes into L1 (the tile's own hops: chain -1), which the
    # writer stores into the GLB (another block)
    tiles = [Tile(index=0, t_first=0, t_last=0, compute_cycles=10,
                  loads=[Move(DataClass.SPIKES, 64, False, 0, 8192, level=0)],
                  stores=[Move(DataClass.OUT_SPIKES, 8, False, 0, 16384, level=0)])]
    sink = _ChainSink()
    _run(tiles, sinks=[sink])
    l1 = [(cmd, chain) for comp, cmd, chain in sink.hops if comp == "l1"]
    # the load's L1 write, the operands' read, the results' write, the store's L1 read
    assert [cmd for cmd, _ in l1] == ["WRITE", "READ", "WRITE", "READ"]
    assert l1[1][1] == l1[2][1] == -1 and l1[0][1] >= 0 and l1[3][1] >= 0 and l1[0][1] != l1[3][1]
