"""The controller's DMA lanes and concurrent transfers: the order in which they issue
DRAM requests (one process per lane and per transfer of a tile: SimPy Initialize
events, then an AllOf), which the DRAM scheduler and the trace's transaction ids
depend on, and how a lane walks its blocks. Any rework of the lanes (callbacks instead
of processes, fewer events) must keep these orders."""

import simpy

from tlmsim.engine.plan import LayerPlan, Move, Tile
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import DataClass
from tlmsim.hw.controller import Controller
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig

from tests.hw.test_controller import LAYER, NS, Fixed


class Submitting(Fixed):
    """A DRAM stand-in with the DRAM model's one-event ``submit``: every request is
    done ``latency_ps`` after it arrives; the arrival order is logged."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.log: list[tuple[int, int, str]] = []  # (arrival ps, address, read/write)

    def submit(self, txn):
        now = self.env.now
        self.log.append((now, txn.address, txn.cmd.label))
        self.record(txn, now, now + self.latency_ps, 0)
        return self.env.timeout(self.latency_ps)

    def access(self, txn):  # as the DRAM model's: one event
        yield self.submit(txn)


def _run(loads, stores=(), chunk=64, outstanding=3):
    env = simpy.Environment()
    rec = Recorder()
    dram = Submitting(name="dram", env=env, recorder=rec, latency_ps=50 * NS)
    noc, glb, l1 = (Fixed(name=n, env=env, recorder=rec, latency_ps=10 * NS) for n in ("noc", "glb", "l1"))
    pe = PeArray(name="pe_array", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=1 * NS,
                 energy=EnergyTable())
    tile = Tile(index=0, t_first=0, t_last=0, loads=list(loads), stores=list(stores), compute_cycles=10)
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=dram, noc=noc, levels=[glb], l1=l1, pe=pe,
                      plans=[LayerPlan(layer=LAYER, tiles=[tile])], chunk_bytes=chunk, outstanding=outstanding,
                      double_buffered=True)
    env.run(until=ctrl.done)
    return env, rec, dram, ctrl


def test_two_loads_of_three_lanes_arrive_in_process_order():
    # tile loads A (DRAM 0.., 3 blocks of 64 B) and B (DRAM 4096.., 3 blocks), 3 lanes each.
    # One process per transfer and lane would issue: A's lane 0 inline (A+0); B's process
    # starts (its Initialize was scheduled before A's lanes'): B+0; then A's lanes 1, 2; then B's.
    a = Move(DataClass.WEIGHTS, 192, True, 0)
    b = Move(DataClass.SPIKES, 192, True, 4096)
    env, rec, dram, ctrl = _run([a, b])
    assert [x[1] for x in dram.log] == [0, 4096, 64, 128, 4160, 4224]
    assert {x[0] for x in dram.log} == {0}  # all six in flight at once
    # every block: DRAM 50 ns, then NoC, GLB staging write + read, NoC, L1 write (10 ns each):
    # (the stand-ins never contend) all six end at 100 ns; then 10 cycles (10 ns) of compute,
    # the 10 ns L1 operand read inside it
    assert ctrl.stats.c["dma_blocks"] == 6
    assert ctrl.layers[0].end_ps == 110 * NS
    assert rec.issued == rec.completed


def test_lanes_take_every_outstanding_th_block_in_turn():
    # 5 blocks on 2 lanes: lane 0 takes blocks 0, 2, 4 and lane 1 blocks 1, 3; each lane's next
    # request goes out when its previous block is in L1 (50 + 5 x 10 = 100 ns per block, the
    # stand-ins never contend): both lanes go at 0 and 100, lane 0 alone at 200
    m = Move(DataClass.WEIGHTS, 5 * 64, True, 0)
    env, rec, dram, ctrl = _run([m], outstanding=2)
    assert [(t // NS, a) for t, a, _ in dram.log] == [(0, 0), (0, 64), (100, 128), (100, 192), (200, 256)]
    assert ctrl.stats.c["dma_blocks"] == 5


def test_stores_to_dram_are_written_after_their_booked_hops():
    # one output move of 2 blocks to DRAM: L1 read, NoC, GLB staging write + read, NoC
    # (5 x 10 ns) then the DRAM write, per lane, both lanes at once
    load = Move(DataClass.WEIGHTS, 64, True, 0)
    out = Move(DataClass.OUT_SPIKES, 128, True, 8192)
    env, rec, dram, ctrl = _run([load], stores=[out], outstanding=2)
    writes = [(t, a) for t, a, cmd in dram.log if cmd != dram.log[0][2]]
    assert [a for _, a in writes] == [8192, 8256]
    assert rec.issued == rec.completed
