"""The controller run by hand, second part (session 8, tag s8ctlB): small hand-made plans
through the public entry points (a plan list in; every hop, the stall ledger, the layer
records, the statistics and the errors out), written against the mutants of
tlmsim/hw/controller.py that the other tests let live: the multicast tails' addresses,
data classes and chains, private levels, the core schedule's corner cases, the set-up's
refusals, DMA lanes and their failures.

As in tests/hw/test_controller_by_hand.py the memories are fixed-latency stand-ins (10 ns
per hop, no contention), the array runs at 1 ns per cycle, so every time below is
computed by hand from the rules of the module docstring of tlmsim/hw/controller.py.
"""

from __future__ import annotations

import pytest
import simpy

from tests.hw.test_controller import NS, Fixed
from tests.hw.test_controller_by_hand import Hops, Level, MulticastNoc, dram, glb, layer, stalls, tile
from tlmsim.engine.plan import LayerPlan, Move
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import DataClass
from tlmsim.hw.controller import Controller
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig

W, S, M, O = DataClass.WEIGHTS, DataClass.SPIKES, DataClass.MEMBRANE, DataClass.OUT_SPIKES


def build(plans, *, levels=("glb",), cores=1, chunk=4096, outstanding=4, double_buffered=True, l1_bytes=1 << 20,
          dram=None, noc=None):
    """Like test_controller_by_hand.build; a level given as a tuple of names is private (one per core)."""
    env = simpy.Environment()
    sink = Hops()
    rec = Recorder(sinks=[sink])
    mk = lambda name, cap=1 << 20: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS,  # noqa: E731
                                         capacity_bytes=cap)
    lv = lambda n: Level(name=n, env=env, recorder=rec, latency_ps=10 * NS)  # noqa: E731
    dram = dram(env, rec) if dram else mk("dram")
    noc = noc(env, rec) if noc else MulticastNoc(name="noc", env=env, recorder=rec, latency_ps=10 * NS)
    lvls = [[lv(x) for x in n] if isinstance(n, tuple) else lv(n) for n in levels]
    if cores == 1:
        l1, pe = mk("l1", l1_bytes), PeArray(name="pe_array", env=env, recorder=rec, config=PeArrayConfig(),
                                              clock_period_ps=NS, energy=EnergyTable())
    else:
        l1 = [mk(f"l1_{c}", l1_bytes) for c in range(cores)]
        pe = [PeArray(name=f"pe_array_{c}", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=NS,
                      energy=EnergyTable()) for c in range(cores)]
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=dram, noc=noc, levels=lvls, l1=l1, pe=pe,
                      plans=plans, chunk_bytes=chunk, outstanding=outstanding, double_buffered=double_buffered)
    return env, rec, ctrl, sink


def run(plans, **kw):
    env, rec, ctrl, sink = build(plans, **kw)
    env.run(until=ctrl.done)
    assert rec.issued == rec.completed
    return env.now // NS, rec, ctrl, sink


def hops_of(sink, comp):
    """(command, data class, address, bytes, layer, tile, start ns, end ns, source, destination) of ``comp``'s hops."""
    return [h[1:] for h in sink.hops if h[0] == comp]


def chain_of(sink, comp, address):
    """The hops (component, command, data class) of the DMA block whose ``comp`` hop has ``address``."""
    for c, txn in sink.txns:
        if c == comp and txn.address == address:
            return sink.chains[txn.chain]
    raise AssertionError(f"no hop of {comp} at {address}")


# ------------------------------------------------------------------ a load several cores share: the tails


def test_a_shared_load_lands_at_each_cores_own_l1_address_through_its_own_private_staging():
    # a shared GLB and a private L2 (l2_0, l2_1); 4-KiB blocks, 4 lanes: 8 staging slots of 4 KiB per buffer.
    # tile 0 (core 0) loads its own 64 spike bytes (GLB 100), then the shared 256 weight bytes (GLB 4096);
    # tile 1 (core 1) its own 32 spike bytes (GLB 200), then the same weights. The transfers start in the
    # order of the step's loads: core 0's spikes, the shared weights, core 1's spikes; each books its block
    # at once (GLB read [0,10], NoC [10,20], a slot of the core's L2 [20,30] write and [30,40] read, NoC
    # [40,50], L1 write [50,60]):
    #   spikes 0 take l2_0's slot 0 (address 0); the weights, one NoC transfer glb > l2_0+l2_1, then l2_0's
    #   slot 1 (4096: slot 0 is busy to 40) and l2_1's slot 0 (0), L1 writes at 64 (core 0, after its
    #   64 spike bytes) and 32 (core 1); spikes 1 take l2_1's slot 1 (4096), L1 at 0.
    # both tiles are in at 60 and compute 100 cycles -> 160
    w = lambda: glb(W, 256, 4096, level=0)  # noqa: E731
    plan = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(S, 64, 100, level=0), w()], cycles=100),
                                            tile(1, [glb(S, 32, 200, level=0), w()], cycles=100)])
    end, rec, ctrl, sink = run([plan], levels=("glb", ("l2_0", "l2_1")), cores=2)
    assert end == 160
    assert ctrl.noc.multicasts == [("glb", ("l2_0", "l2_1"), 256, 10 * NS)]
    assert hops_of(sink, "l2_0") == [
        ("write", "spikes", 0, 64, 0, 0, 20, 30, "noc", "l2_0"), ("read", "spikes", 0, 64, 0, 0, 30, 40, "l2_0", "noc"),
        ("write", "weights", 4096, 256, 0, 0, 20, 30, "noc", "l2_0"),
        ("read", "weights", 4096, 256, 0, 0, 30, 40, "l2_0", "noc")]
    assert hops_of(sink, "l2_1") == [
        ("write", "weights", 0, 256, 0, 0, 20, 30, "noc", "l2_1"), ("read", "weights", 0, 256, 0, 0, 30, 40, "l2_1", "noc"),
        ("write", "spikes", 4096, 32, 0, 1, 20, 30, "noc", "l2_1"),
        ("read", "spikes", 4096, 32, 0, 1, 30, 40, "l2_1", "noc")]
    assert [h for h in hops_of(sink, "l1_0") if h[0] == "write"] == [
        ("write", "spikes", 0, 64, 0, 0, 50, 60, "noc", "l1_0"), ("write", "weights", 64, 256, 0, 0, 50, 60, "noc", "l1_0")]
    assert [h for h in hops_of(sink, "l1_1") if h[0] == "write"] == [
        ("write", "weights", 32, 256, 0, 0, 50, 60, "noc", "l1_1"), ("write", "spikes", 0, 32, 0, 1, 50, 60, "noc", "l1_1")]
    # the shared block is one chain: GLB read, the multicast, then each core's tail in the order of the cores
    assert chain_of(sink, "l1_0", 64) == [
        ("glb", "read", "weights"), ("noc", "write", "weights"),
        ("l2_0", "write", "weights"), ("l2_0", "read", "weights"), ("noc", "write", "weights"),
        ("l1_0", "write", "weights"),
        ("l2_1", "write", "weights"), ("l2_1", "read", "weights"), ("noc", "write", "weights"),
        ("l1_1", "write", "weights")]
    # NoC hops carry no address: 2 + 3 for the spikes, 1 + 2 for the weights
    assert sorted((h[2], h[6], h[7]) for h in hops_of(sink, "noc")) == [(0, 10, 20)] * 3 + [(0, 40, 50)] * 4
    assert ctrl.stats.c["dma_blocks"] == 3


def test_a_resident_tensor_both_cores_read_is_written_at_its_level_address_in_each_private_level():
    # 256 weight bytes resident in the private L2 at 8192 (DRAM 0): DRAM read [0,10], NoC [10,20], GLB
    # staging slot 0 [20,40], one NoC transfer glb > l2_0+l2_1 [40,50], each L2 writes its copy at 8192
    # [50,60]. Both tiles read their own copy: L2 read [60,70], NoC [70,80], L1 [80,90]; compute 50 -> 140
    fill = Move(W, 256, True, 0, 8192, level=1)
    tiles = [tile(i, [glb(W, 256, 8192, level=1)], cycles=50) for i in range(2)]
    plan = LayerPlan(layer=layer(0), tiles=tiles, prologue=[fill], resident_bytes={1: 256})
    end, rec, ctrl, sink = run([plan], levels=("glb", ("l2_0", "l2_1")), cores=2)
    assert end == 140
    for c in range(2):
        assert hops_of(sink, f"l2_{c}") == [
            ("write", "weights", 8192, 256, 0, -1, 50, 60, "noc", f"l2_{c}"),
            ("read", "weights", 8192, 256, 0, c, 60, 70, f"l2_{c}", "noc")]
    assert hops_of(sink, "glb") == [("write", "weights", 0, 256, 0, -1, 20, 30, "noc", "glb"),
                                    ("read", "weights", 0, 256, 0, -1, 30, 40, "glb", "noc")]
    assert ctrl.noc.multicasts == [("glb", ("l2_0", "l2_1"), 256, 40 * NS)]
    assert chain_of(sink, "l2_1", 8192)[-1] == ("l2_1", "write", "weights")
    assert stalls(rec) == {("controller", "resident_data", 0): (1, 60),
                           ("pe_array_0", "waiting_for_operands", 0): (1, 90),
                           ("pe_array_1", "waiting_for_operands", 0): (1, 90)}
