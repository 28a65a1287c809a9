"""A DMA block's booked hops in one call (session 17, ctlPath): ``Controller._book_block``
books the SRAM and NoC hops of one block on its route (:meth:`Controller._block_plan`) when
every trace sink needs only a hop's layer, instead of one :meth:`Recorder.booked` per hop.

It must leave everything as the hop-by-hop path does (bookings, counters, flows, stalls,
transaction ids, the per-layer attribution), and it hands each component only its last hop
of the block (the per-layer attribution keeps, of consecutive same-layer hops of a
component, the counters at the last one). Real SRAMs and NoC (a 2x2 mesh: dram (0,0),
glb (1,0), l1 (1,1)), a fixed-latency DRAM stand-in.
"""

from __future__ import annotations

import simpy

from tests.hw.test_controller import NS, Fixed
from tlmsim.engine.attribution import LayerCounters
from tlmsim.engine.plan import Move
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import DataClass
from tlmsim.hw.controller import Controller
from tlmsim.hw.noc import Noc
from tlmsim.hw.pe_array import PeArray
from tlmsim.hw.sram import Sram
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.noc import NocConfig
from tlmsim.platform.pe_array import PeArrayConfig
from tlmsim.platform.sram import SramConfig

W, S, O = DataClass.WEIGHTS, DataClass.SPIKES, DataClass.OUT_SPIKES
P = 2000  # 500 MHz


class Handed:
    """A layer-only sink that logs the hops handed to it, the timed stalls and the busy time
    left for ``tail``."""

    layer_only = True

    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []
        self.stalls: list[tuple] = []
        self.tails: list[tuple[str, float]] = []

    def hop(self, txn, component, start_ps, end_ps, wait_ps, busy_ps):
        self.hop_layer(component, txn.layer)

    def hop_layer(self, component, layer):
        self.log.append((component, layer))

    def stall(self, *a):
        self.stalls.append(a)

    def tail(self, component, start_ps, busy_ps):
        self.tails.append((component, busy_ps))

    def close(self):
        pass

    def abort(self):
        pass


class Full(Handed):
    """The same sink wanting every hop's transaction: the recorder books hop by hop."""

    layer_only = False


def build(sinks, chunk=256, outstanding=2, glb_banks=4, cores=1, glb_stand_in=False):
    """``cores`` 2: L1s l1_0 at (1,1) and l1_1 at (0,1); ``glb_stand_in``: a fixed-latency GLB
    (no ``book``: its blocks are booked hop by hop)."""
    env = simpy.Environment()
    rec = Recorder(sinks=sinks)
    e = EnergyTable()
    dram = Fixed(name="dram", env=env, recorder=rec, latency_ps=10 * NS)
    nodes = {"dram": (0, 0), "glb": (1, 0), "l1": (1, 1) if cores == 1 else [(1, 1), (0, 1)]}
    noc = Noc(name="noc", env=env, recorder=rec, config=NocConfig(nodes=nodes), accel_clock_mhz=500, cores=cores)
    if glb_stand_in:
        glb = Fixed(name="glb", env=env, recorder=rec, latency_ps=10 * NS)
    else:
        glb = Sram(name="glb", env=env, recorder=rec,
                   config=SramConfig(capacity_bytes=65536, banks=glb_banks, ports=2), clock_period_ps=P, energy=e)
    l1s = [Sram(name="l1" if cores == 1 else f"l1_{c}", env=env, recorder=rec,
                config=SramConfig(capacity_bytes=16384, banks=4, ports=2), clock_period_ps=P, energy=e)
           for c in range(cores)]
    pes = [PeArray(name="pe_array" if cores == 1 else f"pe_array_{c}", env=env, recorder=rec, config=PeArrayConfig(),
                   clock_period_ps=P, energy=e) for c in range(cores)]
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=dram, noc=noc, levels=[glb], l1=l1s, pe=pes,
                      plans=[], chunk_bytes=chunk, outstanding=outstanding, double_buffered=True)
    for s in sinks:
        if hasattr(s, "attach"):
            s.attach(components=rec.components)
    env.run(until=ctrl.done)  # no plans: done at 0
    return env, rec, ctrl


def test_a_block_hands_each_component_its_last_hop_only():
    # one 256 B block per transfer. DRAM -> L1: NoC dram->glb, GLB staging write and read, NoC glb->l1,
    # L1 write: the NoC's first hop is not its last, so the sink sees the GLB, the NoC and L1 once each,
    # in the order of their last hops. A resident read GLB -> L1: GLB read, NoC, L1 write. A store
    # L1 -> DRAM: L1 read, NoC l1->glb, GLB staging, NoC glb->dram, then the DRAM's own hop.
    sink = Handed()
    env, rec, ctrl = build([sink])

    def run():
        for _ in range(2):  # the second time on the block plans the first one built
            yield from ctrl.transfer(0, 2, Move(W, 256, True, 0, 0), 0, 3, 0)
            yield from ctrl.transfer(1, 2, Move(S, 256, False, 0, 1024), 512, 4, 1)
            yield from ctrl.transfer(2, 0, Move(O, 256, True, 4096, 0), 1024, 5, 2)
        # a resident read of a 100 B tensor re-read as 256 B (an im2col slice): three GLB reads, one handed
        yield from ctrl.transfer(1, 2, Move(S, 256, False, 0, 2048, level_span=100), 512, 6, 3)

    env.process(run())
    env.run()
    assert sink.log == 2 * [("dram", 3), ("glb", 3), ("noc", 3), ("l1", 3),
                            ("glb", 4), ("noc", 4), ("l1", 4),
                            ("l1", 5), ("glb", 5), ("noc", 5), ("dram", 5)] + [("glb", 6), ("noc", 6), ("l1", 6)]
    # every hop still took its id and completed: 2 x (1 + 5, 3, 5 + 1) + 3 + 2 transactions
    assert rec.issued == rec.completed == 2 * 15 + 5
    assert rec.flows[("glb", "noc", int(S), 6)] == 256
    # each component's busy time went with its hops: nothing is left for the tail
    for comp in rec.components.values():
        comp.flush_busy(env.now)
    assert sink.tails == []
    assert ctrl.stats.c["dma_blocks"] == 7


def test_a_block_for_another_core_takes_that_core_s_route():
    # two cores: a load into core 1's L1 (l1_1, router (0,1)) crosses the NoC glb -> l1_1
    sink = Handed()
    env, rec, ctrl = build([sink], cores=2)
    env.process(ctrl.transfer(0, 2, Move(W, 256, True, 0, 0), 64, 2, 0, core=1))
    env.run()
    assert sink.log == [("dram", 2), ("glb", 2), ("noc", 2), ("l1_1", 2)]
    assert rec.flows[("noc", "l1_1", int(W), 2)] == 256 and ("noc", "l1_0", int(W), 2) not in rec.flows
    assert rec.stats["l1_1"].c["write_bytes"] == 256 and rec.stats["l1_0"].c["write_bytes"] == 0


def test_a_level_that_cannot_book_alone_is_booked_hop_by_hop():
    # a GLB stand-in without ``book`` (fixed 10 ns): the blocks through it take Recorder.booked, hop by hop,
    # so the sink sees every hop, the NoC's twice
    sink = Handed()
    env, rec, ctrl = build([sink], glb_stand_in=True)
    env.process(ctrl.transfer(0, 2, Move(W, 256, True, 0, 0), 0, 1, 0))
    env.run()
    assert sink.log == [("dram", 1), ("noc", 1), ("glb", 1), ("glb", 1), ("noc", 1), ("l1", 1)]
    assert rec.issued == rec.completed == 6


def _scenario(sinks):
    """Several layers of contended moves (two lanes each, shared NoC links, GLB banks and
    staging slots), a resident read that wraps (an im2col slice), stores to the GLB and
    to DRAM; returns everything the run measured."""
    lc = LayerCounters()
    env, rec, ctrl = build([lc, *sinks], chunk=256, outstanding=2, glb_banks=4)
    ends = []

    def mover(tag, src, dst, mv, l1, layer, delay):
        yield env.timeout(delay)
        yield from ctrl.transfer(src, dst, mv, l1, layer, 0)
        ends.append((tag, env.now))

    moves = [
        ("a", 0, 2, Move(W, 1000, True, 0, 0), 0, 0, 0),
        ("b", 0, 2, Move(S, 700, True, 1 << 20, 0), 2048, 0, 0),
        ("c", 1, 2, Move(S, 900, False, 0, 100, level_span=300), 4096, 1, 3 * NS),
        ("d", 1, 2, Move(W, 513, False, 0, 5000), 6000, 1, 3 * NS),
        ("e", 2, 1, Move(O, 600, False, 0, 8000), 8192, 2, 5 * NS),
        ("f", 2, 0, Move(O, 777, True, 1 << 21, 0), 9000, 2, 5 * NS),
        ("g", 0, 1, Move(W, 1100, True, 1 << 22, 0, level=0), 0, 3, 7 * NS),
    ]
    for m in moves:
        env.process(mover(*m))
    env.run()
    names = list(rec.components)
    return (env.now, sorted(ends), dict(rec.flows), {k: list(v) for k, v in rec.stalls.entries.items()},
            rec.issued, rec.completed, {n: dict(rec.stats[n].c) for n in names},
            {n: lc.by_layer(n, 3) for n in names}, [s.stalls for s in sinks])


def test_one_call_per_block_measures_what_hop_by_hop_booking_measures():
    # the layer-only sink (booked block by block) and the full one (hop by hop) see the same timed stalls
    fast, slow = _scenario([Handed()]), _scenario([Full()])
    assert fast == slow
    _end, ends, flows, stalls, issued, completed, _stats, by_layer, timed = fast
    assert len(ends) == 7 and issued == completed
    assert stalls  # the lanes contended for banks, links or staging slots
    # the staging slots' waits, from when the block reached the level
    staging = [x for x in timed[0] if x[1] == "staging_full"]
    assert staging and all(x[0] == "controller" and x[4] > x[3] for x in staging)
    # the wrapped read re-read the 300 B tensor: 900 B left the GLB for layer 1's spikes
    assert flows[("glb", "noc", int(S), 1)] == 900
    assert by_layer["glb"][1]["read_bytes"] == 900 + 513
