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

from functools import partial

import pytest
import simpy

from tests.hw import controller_rig
from tests.hw.controller_rig import (
    NS,
    Fixed,
    M,
    O,
    S,
    W,
    chain_of,
    dram,
    glb,
    hops_of,
    layer,
    slow_dram,
    stalls,
    tile,
)
from tlmsim.engine.plan import LayerPlan, Move
from tlmsim.engine.recorder import Recorder
from tlmsim.hw.controller import Controller
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig

#: the rig with a NoC that multicasts (a level given as a tuple of names is private: one per core)
build = partial(controller_rig.build, multicast=True)
run = partial(controller_rig.run, multicast=True)


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
    end, rec, ctrl, sink, _ = run([plan], levels=("glb", ("l2_0", "l2_1")), cores=2)
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
    end, rec, ctrl, sink, _ = run([plan], levels=("glb", ("l2_0", "l2_1")), cores=2)
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


# ------------------------------------------------------------------ routes and the set-up's refusals


def _names(ctrl, steps):
    """A route's steps with names: hops as (component, command, address selector, source, destination)."""
    out = []
    for kind, x in steps:
        if kind == 0:  # hops
            out.append(("hops", [(h[0].name, h[1].label, h[2], h[3], h[4]) for h in x]))
        else:
            out.append(("stage" if kind == 1 else "read", ctrl._bufs[x].name))
    return out


def test_routes_between_every_kind_of_position_with_two_levels():
    _env, _rec, ctrl, _sink, _ = build([], levels=("l2", "glb"))
    # 0 DRAM, 1 l2, 2 glb, 3 L1; address selector 0 none (NoC), 1 the level address, 2 the L1 address
    assert _names(ctrl, ctrl.route(0, 1)) == [("hops", [("noc", "write", 0, "dram", "l2"), ("l2", "write", 1, "noc", "l2")])]
    assert _names(ctrl, ctrl.route(0, 3)) == [
        ("hops", [("noc", "write", 0, "dram", "l2")]), ("stage", "l2"), ("hops", [("noc", "write", 0, "l2", "glb")]),
        ("stage", "glb"), ("hops", [("noc", "write", 0, "glb", "l1"), ("l1", "write", 2, "noc", "l1")])]
    assert _names(ctrl, ctrl.route(1, 3)) == [
        ("read", "l2"), ("hops", [("noc", "write", 0, "l2", "glb")]), ("stage", "glb"),
        ("hops", [("noc", "write", 0, "glb", "l1"), ("l1", "write", 2, "noc", "l1")])]
    # outward: a store from L1 into the outer level, and an epilogue from the GLB to DRAM (no write step: DRAM's hop
    # is event-driven)
    assert _names(ctrl, ctrl.route(3, 1)) == [
        ("hops", [("l1", "read", 2, "l1", "noc"), ("noc", "write", 0, "l1", "glb")]), ("stage", "glb"),
        ("hops", [("noc", "write", 0, "glb", "l2"), ("l2", "write", 1, "noc", "l2")])]
    assert _names(ctrl, ctrl.route(2, 0)) == [
        ("read", "glb"), ("hops", [("noc", "write", 0, "glb", "l2")]), ("stage", "l2"),
        ("hops", [("noc", "write", 0, "l2", "dram")])]
    assert _names(ctrl, ctrl.route(3, 0)) == [
        ("hops", [("l1", "read", 2, "l1", "noc"), ("noc", "write", 0, "l1", "glb")]), ("stage", "glb"),
        ("hops", [("noc", "write", 0, "glb", "l2")]), ("stage", "l2"), ("hops", [("noc", "write", 0, "l2", "dram")])]
    assert _names(ctrl, ctrl.route(2, 1)) == [("read", "glb"), ("hops", [("noc", "write", 0, "glb", "l2"),
                                                                        ("l2", "write", 1, "noc", "l2")])]
    assert ctrl.route(3, 0) is ctrl.route(3, 0)


@pytest.mark.parametrize("src, dst", [(2, 2), (-1, 1), (0, 4), (4, 0), (0, -1), (1, 1)])
def test_a_route_outside_the_hierarchy_is_refused_naming_both_positions(src, dst):
    _env, _rec, ctrl, _sink, _ = build([], levels=("l2", "glb"))
    with pytest.raises(ValueError) as e:
        ctrl.route(src, dst)
    assert str(e.value) == f"no route from position {src} to {dst} of ('dram', 'l2', 'glb', 'l1')"


def _pes(env, rec, n):
    return [PeArray(name=f"pe_array_{c}", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=NS,
                    energy=EnergyTable()) for c in range(n)]


def test_the_set_up_refuses_l1s_and_arrays_in_different_numbers_and_levels_with_the_wrong_instances():
    def make(levels, l1, pes):
        env, rec = simpy.Environment(), Recorder()
        mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)  # noqa: E731
        lv = [tuple(mk(n) for n in x) if isinstance(x, tuple) else mk(x) for x in levels]
        return Controller(name="controller", env=env, recorder=rec, dram=mk("dram"), noc=mk("noc"), levels=lv,
                          l1=tuple(mk(n) for n in l1) if isinstance(l1, tuple) else mk(l1), pe=_pes(env, rec, pes),
                          plans=[], chunk_bytes=4096, outstanding=4, double_buffered=True)

    with pytest.raises(ValueError) as e:
        make(["glb"], ("l1_0", "l1_1"), 3)
    assert str(e.value) == "2 L1s for 3 PE arrays: one of each per core"
    with pytest.raises(ValueError) as e:
        make(["glb"], "l1", 2)
    assert str(e.value) == "1 L1s for 2 PE arrays: one of each per core"
    with pytest.raises(ValueError) as e:  # three instances of a level for two cores
        make(["glb", ("l2_0", "l2_1", "l2_2")], ("l1_0", "l1_1"), 2)
    assert str(e.value) == ("level 1: 3 instances for 2 cores (one, or one per core for a private level, every "
                            "level inside a private one private too)")
    with pytest.raises(ValueError) as e:  # a shared level inside a private one
        make([("l2_0", "l2_1"), "glb"], ("l1_0", "l1_1"), 2)
    assert str(e.value) == ("level 1: 1 instances for 2 cores (one, or one per core for a private level, every "
                            "level inside a private one private too)")
    # two private levels one inside the other, and the shared one outside, are fine
    ctrl = make(["glb", ("l2_0", "l2_1"), ("l3_0", "l3_1")], ("l1_0", "l1_1"), 2)
    assert [lv.name for lv in ctrl.levels] == ["glb", "l2_0", "l3_0"]
    assert [b.name for b in ctrl._bufs] == ["glb", "l2_0", "l3_0", "l2_1", "l3_1"]
    assert _names(ctrl, ctrl.route(0, 4, 1)) == [
        ("hops", [("noc", "write", 0, "dram", "glb")]), ("stage", "glb"), ("hops", [("noc", "write", 0, "glb", "l2_1")]),
        ("stage", "l2_1"), ("hops", [("noc", "write", 0, "l2_1", "l3_1")]), ("stage", "l3_1"),
        ("hops", [("noc", "write", 0, "l3_1", "l1_1"), ("l1_1", "write", 2, "noc", "l1_1")])]
    assert _names(ctrl, ctrl.route(0, 4, 0))[3] == ("stage", "l2_0")


# ------------------------------------------------------------------ several cores: halves, records, what is blocked


def test_each_core_loads_its_second_tile_into_its_second_half_and_stores_from_the_top_of_each_half():
    # 2 cores, double-buffered 1-MiB L1s (halves [0, 524288) and [524288, 1048576)); 4 independent tiles
    # of layer index 5, each loading 64 GLB bytes and storing 16 output bytes to DRAM, 20 cycles.
    # step 1 (tiles 0, 1): GLB read [0,10], NoC [10,20], L1 write at 0 [20,30]; step 2 (tiles 2, 3) takes
    # each core's half 1 at once: L1 write at 524288 [50,60]. Tiles 0/1 compute [30,50] (operands read
    # [30,40]), write their outputs at 524288 - 16 [50,60]; the writer: L1 read [60,70], NoC, GLB
    # staging, NoC, DRAM write [110,120]. Tiles 2/3 compute [60,80], outputs at 1048576 - 16 [80,90];
    # stored after the first store (one writer per core): L1 read [120,130] ... DRAM [170,180]
    tiles = [tile(i, [glb(W, 64, 1000 + 64 * i)], [dram(O, 16, 4096 * i)], cycles=20) for i in range(4)]
    end, rec, ctrl, sink, _ = run([LayerPlan(layer=layer(5), tiles=tiles)], cores=2)
    assert end == 180
    for c in range(2):
        assert hops_of(sink, f"l1_{c}") == [
            ("write", "weights", 0, 64, 5, c, 20, 30, "noc", f"l1_{c}"),
            ("read", "weights", 0, 64, 5, c, 30, 40, f"l1_{c}", f"pe_array_{c}"),
            ("write", "weights", 524288, 64, 5, 2 + c, 50, 60, "noc", f"l1_{c}"),
            ("write", "out_spikes", 524272, 16, 5, c, 50, 60, f"pe_array_{c}", f"l1_{c}"),
            ("read", "out_spikes", 524272, 16, 5, c, 60, 70, f"l1_{c}", "noc"),
            ("read", "weights", 524288, 64, 5, 2 + c, 60, 70, f"l1_{c}", f"pe_array_{c}"),
            ("write", "out_spikes", 1048560, 16, 5, 2 + c, 80, 90, f"pe_array_{c}", f"l1_{c}"),
            ("read", "out_spikes", 1048560, 16, 5, 2 + c, 120, 130, f"l1_{c}", "noc")]
    assert hops_of(sink, "dram") == [("write", "out_spikes", 4096 * i, 16, 5, i, t, t + 10, "noc", "dram")
                                     for i, t in ((0, 110), (1, 110), (2, 170), (3, 170))]
    assert stalls(rec) == {("pe_array_0", "waiting_for_operands", 5): (1, 30),
                           ("pe_array_1", "waiting_for_operands", 5): (1, 30)}
    r = ctrl.layers[0]
    assert (r.index, r.tiles, r.compute_cycles, r.end_ps) == (5, 4, 80, 180 * NS)
    assert [pe.stats.c["tiles"] for pe in ctrl.pes] == [2, 2]
    assert ctrl.stats.c["dma_blocks"] == 8 and ctrl.stats.c["layers"] == 1


@pytest.mark.parametrize("cores", [1, 2])
def test_the_loader_names_the_resident_data_it_waits_for_then_its_dma_loads(cores):
    # 64 resident weight bytes into the GLB at 1024 (DRAM 0, a 100-ns read): DRAM [0,100], NoC, GLB write
    # [110,120]. Each tile (one per core) reads them: waits to 120, loads [120,150], computes 20 -> 170
    plan = LayerPlan(layer=layer(3), prologue=[Move(W, 64, True, 0, 1024, level=0)], resident_bytes={0: 64},
                     tiles=[tile(i, [glb(W, 64, 1024, level=0)]) for i in range(cores)])
    env, rec, ctrl, _sink, _ = build([plan], cores=cores, dram=slow_dram({0: 100}))
    env.run(until=50 * NS)
    computes = ["compute"] if cores == 1 else ["compute 0", "compute 1"]
    assert ctrl.describe_blocked() == "; ".join(
        [f"{p} waits for a loaded tile (queue 'ready tiles') (layer 3)" for p in computes]
        + ["loader waits for resident data arriving in its level (layer 3, tile 0)"])
    env.run(until=130 * NS)
    assert ctrl.describe_blocked().endswith("; loader waits for its DMA loads (DRAM/NoC/levels/L1) (layer 3, tile 0)")
    env.run(until=ctrl.done)
    assert env.now == 170 * NS
    pes = ["pe_array"] if cores == 1 else ["pe_array_0", "pe_array_1"]
    assert stalls(rec) == {("controller", "resident_data", 3): (1, 120),  # one wait: the tile (one core) or the step
                           **{(p, "waiting_for_operands", 3): (1, 150) for p in pes}}


# ------------------------------------------------------------------ a failing DRAM request


class FailingDram(Fixed):
    """A DRAM stand-in with the one-event request (``submit``): 10 ns, or a failed event for address ``bad``."""

    def __init__(self, *, bad, **kw):
        super().__init__(**kw)
        self.bad = bad
        self.raised: list[Exception] = []

    def submit(self, txn):
        if txn.address == self.bad:
            ev = self.env.event()
            self.raised.append(ValueError(f"bad address {txn.address}"))
            ev.fail(self.raised[-1])
            return ev
        return self.env.timeout(self.reserve(txn, self.env.now) - self.env.now)


@pytest.mark.parametrize("bad", [0, 4096])
def test_a_failed_dram_request_stops_the_run_with_its_error_as_the_cause(bad):
    # 8 KiB from DRAM in two 4-KiB blocks on two lanes: block 0 (DRAM 0) runs in the loader itself,
    # block 1 (DRAM 4096) in the second lane; either request fails at once (time 0)
    drams = []

    def mk(env, rec):
        drams.append(FailingDram(name="dram", env=env, recorder=rec, latency_ps=10 * NS, bad=bad))
        return drams[0]

    plan = LayerPlan(layer=layer(0), tiles=[tile(0, [dram(W, 8192, 0)])])
    env, _rec, ctrl, _sink, _ = build([plan], dram=mk, outstanding=2)
    with pytest.raises(ValueError) as e:
        env.run(until=ctrl.done)
    assert str(e.value) == f"bad address {bad}" and env.now == 0
    root = e.value
    while root.__cause__ is not None:
        root = root.__cause__
    assert root is drams[0].raised[0]  # the traceback leads to the DRAM's own exception
    assert not ctrl.done.triggered
    if bad == 0:  # the loader process failed: so did the controller's process, with the same error
        assert ctrl.process.triggered and not ctrl.process.ok and str(ctrl.process.value) == "bad address 0"


def test_a_private_fill_no_tile_reads_goes_to_core_0s_instance_and_a_shared_fill_to_the_shared_level():
    # prologue A: 64 B into the private L2 at 8192 (DRAM 0), which no tile reads: unicast into l2_0 (core 0's):
    #   DRAM [0,10], NoC [10,20], GLB staging slot 0 [20,40], NoC glb > l2_0 [40,50], l2_0 write [50,60];
    # prologue B: 64 B into the shared GLB at 20000 (DRAM 4096): DRAM [0,10], NoC [10,20], GLB write [20,30].
    # Both tiles (one per core) read B: wait to 30; GLB read [30,40], NoC, L2 staging [50,70], NoC, L1 [80,90];
    # compute 20 -> 110; the layer also waits for A (in at 60): ends at 110
    fills = [Move(W, 64, True, 0, 8192, level=1), Move(W, 64, True, 4096, 20000, level=0)]
    tiles = [tile(i, [glb(W, 64, 20000, level=0)]) for i in range(2)]
    plan = LayerPlan(layer=layer(0), tiles=tiles, prologue=fills, resident_bytes={0: 64, 1: 64})
    end, rec, ctrl, sink, _ = run([plan], levels=("glb", ("l2_0", "l2_1")), cores=2)
    assert end == 110
    assert [h for h in hops_of(sink, "l2_0") if h[4] == -1 or h[2] == 8192] == [
        ("write", "weights", 8192, 64, 0, -1, 50, 60, "noc", "l2_0")]
    assert [h for h in hops_of(sink, "l2_1") if h[5] == -1] == []
    assert [h for h in hops_of(sink, "glb") if h[5] == -1] == [
        ("write", "weights", 0, 64, 0, -1, 20, 30, "noc", "glb"), ("read", "weights", 0, 64, 0, -1, 30, 40, "glb", "noc"),
        ("write", "weights", 20000, 64, 0, -1, 20, 30, "noc", "glb")]
    assert ctrl.noc.multicasts == [("glb", ("l2_0", "l2_1"), 64, 40 * NS)]  # the tiles' shared load of B
    assert stalls(rec)[("controller", "resident_data", 0)] == (1, 30)


# ------------------------------------------------------------------ DMA lanes: the event order of one process per lane


class NotANoc:
    """A NoC that is not a :class:`Noc` (the controller then schedules every lane's end event as a process's
    would be): every call goes to the real one."""

    def __init__(self, noc):
        self.__dict__["_noc"] = noc

    def __getattr__(self, key):
        return getattr(self._noc, key)


def _mesh(cores, wrap):
    from tlmsim.hw.noc import Noc
    from tlmsim.platform.noc import NocConfig

    def mk(env, rec):
        noc = Noc(name="noc", env=env, recorder=rec, accel_clock_mhz=1000, cores=cores, config=NocConfig(
            topology="mesh", mesh_cols=3, mesh_rows=1, link_width_bytes=32, router_latency_cycles=2,
            link_latency_cycles=1, buffer_flits=8, credit_latency_cycles=1, multicast=True,
            nodes={"dram": (0, 0), "glb": (0, 0), "l1": [(1, 0), (2, 0)][:cores] if cores > 1 else (1, 0)}))
        return NotANoc(noc) if wrap else noc
    return mk


@pytest.mark.parametrize("cores", [1, 2])
def test_lanes_that_end_lazily_give_every_hop_the_times_of_one_process_per_lane(cores):
    # the real NoC (link contention, so the order in which lanes book matters): with it the controller
    # schedules a lane's end only when it wakes the transfer; without it (the same NoC behind a wrapper)
    # every end is an event, as a process's is. Every hop must be the same, in the same order; and the
    # events counted (ids taken less those never scheduled) are the events the run processed
    def plan():
        tiles = [tile(i, [dram(W, 3 * 64 + 8, 4096 * i), glb(S, 200, 64 * i, level=0), glb(W, 130, 9000, level=0)],
                      [dram(O, 150, 65536 + 4096 * i), glb(M, 100, 20000 + 128 * i, level=0)], cycles=7)
                 for i in range(5)]
        return [LayerPlan(layer=layer(0), tiles=tiles, prologue=[Move(W, 300, True, 1 << 20, 30000, level=0)],
                          resident_bytes={0: 300}),
                LayerPlan(layer=layer(1), tiles=[tile(0, [glb(W, 256, 30000, level=0)], [dram(O, 130, 0)])])]

    seen = []
    for wrap in (False, True):
        env, rec, ctrl, sink, _ = build(plan(), cores=cores, noc=_mesh(cores, wrap), chunk=64, outstanding=3)
        processed = 0
        while env._queue:
            env.step()
            processed += 1
        assert ctrl.done.triggered and rec.issued == rec.completed
        assert next(env._eid) - ctrl.eids_unscheduled == processed
        assert (ctrl.eids_unscheduled > 0) is not wrap
        seen.append((env.now, sink.hops, [(r.start_ps, r.end_ps) for r in ctrl.layers]))
    assert seen[0] == seen[1]


def test_two_loads_both_cores_share_one_from_dram_one_from_the_glb_are_each_multicast_once():
    # both tiles load the same 128 weight bytes from DRAM 0 and the same 64 spike bytes of the GLB at 3000.
    # weights: DRAM [0,10], NoC dram > glb [10,20], GLB staging slot 0 [20,40], one NoC transfer glb > both
    #   L1s [40,50], each L1 writes its copy at 0 [50,60];
    # spikes: GLB read at 3000 [0,10], one NoC transfer [10,20], each L1 writes at 128 [20,30].
    # both tiles are in at 60 and compute 20 -> 80. Hops are recorded as booked: the spikes' at 0, the
    # weights' once their DRAM read is done (10)
    plan = LayerPlan(layer=layer(0), tiles=[tile(i, [dram(W, 128, 0), glb(S, 64, 3000, level=0)]) for i in range(2)])
    end, rec, ctrl, sink, _ = run([plan], cores=2)
    assert end == 80
    assert ctrl.noc.multicasts == [("glb", ("l1_0", "l1_1"), 64, 10 * NS), ("glb", ("l1_0", "l1_1"), 128, 40 * NS)]
    assert hops_of(sink, "dram") == [("read", "weights", 0, 128, 0, 0, 0, 10, "dram", "noc")]
    assert hops_of(sink, "glb") == [("read", "spikes", 3000, 64, 0, 0, 0, 10, "glb", "noc"),
                                    ("write", "weights", 0, 128, 0, 0, 20, 30, "noc", "glb"),
                                    ("read", "weights", 0, 128, 0, 0, 30, 40, "glb", "noc")]
    assert hops_of(sink, "noc") == [("write", "spikes", 0, 64, 0, 0, 10, 20, "glb", "l1_0+l1_1"),
                                    ("write", "weights", 0, 128, 0, 0, 10, 20, "dram", "glb"),
                                    ("write", "weights", 0, 128, 0, 0, 40, 50, "glb", "l1_0+l1_1")]
    for c in range(2):
        assert [h for h in hops_of(sink, f"l1_{c}") if h[0] == "write"] == [
            ("write", "spikes", 128, 64, 0, 0, 20, 30, "noc", f"l1_{c}"),
            ("write", "weights", 0, 128, 0, 0, 50, 60, "noc", f"l1_{c}")]
    # the steps of a load several cores share are built once per source, cores and destination
    assert ctrl.fanout(0, (0, 1)) is ctrl.fanout(0, (0, 1))
    assert ctrl.fanout(1, (0, 1)) is ctrl.fanout(1, (0, 1)) and ctrl.fanout(1, (0, 1)) != ctrl.fanout(0, (0, 1))


def test_a_block_reaching_a_staging_slot_at_time_0_does_not_wait():
    # DRAM and NoC take no time: the block is at the GLB's staging area at 0, where every slot is free
    # since 0: no staging_full stall; staging write [0,10] and read [10,20], L1 write [20,30]
    def instant(name):
        return lambda env, rec: Fixed(name=name, env=env, recorder=rec, latency_ps=0)

    plan = LayerPlan(layer=layer(0), tiles=[tile(0, [dram(W, 64, 0)], cycles=5)])
    end, rec, _ctrl, sink, _ = run([plan], dram=instant("dram"), noc=instant("noc"))
    assert [h[:8] for h in hops_of(sink, "glb")] == [("write", "weights", 0, 64, 0, 0, 0, 10),
                                                     ("read", "weights", 0, 64, 0, 0, 10, 20)]
    assert [k for k in rec.stalls.entries if k[1] == "staging_full"] == []
    assert end == 30 + 10  # the array's L1 read [30,40] is longer than its 5 cycles


def _fixed_lazy_noc(env, rec):
    """A 10-ns NoC that is a :class:`Noc` for the controller (so lane ends are scheduled lazily) but books as
    the fixed-latency stand-ins do."""
    from tlmsim.hw.noc import Noc

    from tlmsim.engine.component import Component

    class FixedNoc(Noc):
        book = None  # the recorder books through reserve, as for the other stand-ins
        reserve = Fixed.reserve

        def __init__(self, **kw):
            Component.__init__(self, **kw)
            self.latency_ps = 10 * NS

    return FixedNoc(name="noc", env=env, recorder=rec)


@pytest.mark.parametrize("wrap", [False, True])
def test_a_lane_ending_at_the_same_time_just_before_the_transfer_joins_it(wrap):
    # 192 B from DRAM in three 64-B blocks on two lanes (lane 0: blocks 0 and 2, lane 1: block 1), 4 staging
    # slots; block 1's DRAM read takes 70 ns. Lane 0: block 0 DRAM [0,10] NoC [10,20] GLB slot 0 [20,40] NoC
    # [40,50] L1 at 0 [50,60]; block 2 DRAM [60,70]. Lane 1: block 1 DRAM [0,70] (its wake-up made at 0, before
    # block 2's at 60, so it books first): NoC [70,80], slot 1 [80,100], NoC, L1 at 64 [110,120]; then block 2:
    # slot 2 [80,100], L1 at 128 [110,120]. Lane 1 ends at 120 just before lane 0, whose transfer then joins a
    # lane that has ended at this very time. The tile is in at 120; its 20 cycles -> 140
    plan = LayerPlan(layer=layer(0), tiles=[tile(0, [dram(W, 192, 0)])])
    noc = (lambda env, rec: NotANoc(_fixed_lazy_noc(env, rec))) if wrap else _fixed_lazy_noc
    env, rec, ctrl, sink, _ = build([plan], chunk=64, outstanding=2, dram=slow_dram({64: 70}), noc=noc)
    processed = 0
    while env._queue:
        env.step()
        processed += 1
    assert env.now == 140 * NS and ctrl.done.triggered
    assert [h[:8] for h in hops_of(sink, "glb")] == [
        ("write", "weights", 0, 64, 0, 0, 20, 30), ("read", "weights", 0, 64, 0, 0, 30, 40),
        ("write", "weights", 64, 64, 0, 0, 80, 90), ("read", "weights", 64, 64, 0, 0, 90, 100),
        ("write", "weights", 128, 64, 0, 0, 80, 90), ("read", "weights", 128, 64, 0, 0, 90, 100)]
    assert [h[:8] for h in hops_of(sink, "l1")] == [
        ("write", "weights", 0, 64, 0, 0, 50, 60), ("write", "weights", 64, 64, 0, 0, 110, 120),
        ("write", "weights", 128, 64, 0, 0, 110, 120), ("read", "weights", 0, 192, 0, 0, 120, 130)]
    assert stalls(rec) == {("pe_array", "waiting_for_operands", 0): (1, 120)}
    assert next(env._eid) - ctrl.eids_unscheduled == processed
    assert ctrl.eids_unscheduled == 0  # the one end event left unscheduled was put in the queue at its place


def test_a_later_step_of_two_cores_waits_for_resident_data_from_when_it_is_ready_to_load():
    # the prologue: 64 B into the GLB at 1024 (DRAM 0, a 100-ns read): in at 120. Step 1 (tiles 0, 1) loads
    # its own GLB bytes [0,30] and computes [30,50]; step 2 (tiles 2, 3, the other halves) is ready to load at
    # 30 and waits for the resident bytes both read to 120 (a 90-ns stall); they are read once and multicast:
    # GLB [120,130], NoC [130,140], each L1 [140,150]; compute [150,170]
    tiles = [tile(i, [glb(W, 64, 5000 + 64 * i, level=0)]) for i in range(2)]
    tiles += [tile(i, [glb(W, 64, 1024, level=0)]) for i in (2, 3)]
    plan = LayerPlan(layer=layer(3), prologue=[Move(W, 64, True, 0, 1024, level=0)], resident_bytes={0: 64},
                     tiles=tiles)
    end, rec, ctrl, _sink, _ = run([plan], cores=2, dram=slow_dram({0: 100}))
    assert end == 170
    assert ctrl.noc.multicasts == [("glb", ("l1_0", "l1_1"), 64, 130 * NS)]
    assert stalls(rec) == {("controller", "resident_data", 3): (1, 90),
                           ("pe_array_0", "waiting_for_operands", 3): (2, 30 + 100),
                           ("pe_array_1", "waiting_for_operands", 3): (2, 30 + 100)}


def test_every_block_of_a_shared_load_on_several_lanes_goes_to_every_core():
    # 200 shared weight bytes of the GLB at 6000 in 64-B blocks on 2 lanes: lane 0 takes the blocks at 0 and
    # 128, lane 1 those at 64 and 192 (8 B). Each block: GLB read, one NoC transfer to both L1s, each L1
    # writes it at its offset [0,30], the lane's next block [30,60]. Both tiles are in at 60; 20 cycles -> 80
    plan = LayerPlan(layer=layer(0), tiles=[tile(i, [glb(W, 200, 6000, level=0)]) for i in range(2)])
    end, rec, ctrl, sink, _ = run([plan], cores=2, chunk=64, outstanding=2)
    assert end == 80
    assert ctrl.noc.multicasts == [("glb", ("l1_0", "l1_1"), n, t * NS) for n, t in ((64, 10), (64, 10), (64, 40), (8, 40))]
    for c in range(2):
        assert [h[:8] for h in hops_of(sink, f"l1_{c}") if h[0] == "write"] == [
            ("write", "weights", 0, 64, 0, 0, 20, 30), ("write", "weights", 64, 64, 0, 0, 20, 30),
            ("write", "weights", 128, 64, 0, 0, 50, 60), ("write", "weights", 192, 8, 0, 0, 50, 60)]
    assert ctrl.stats.c["dma_blocks"] == 4


def test_the_lanes_of_a_transfer_start_before_other_work_woken_at_the_same_time():
    # levels l2 and glb, single-buffered L1. Tile 0 loads 64 B of the GLB [0,30], computes [30,50], writes its
    # two 16-B outputs (DRAM 0 and 4096) into L1 [50,60]. At 60 the writer and the loader (tile 1, waiting
    # for the half) wake, in that order. The writer starts both stores at once: store A in the writer itself,
    # store B on a lane of its own, which starts at once, before the loader goes on (as a process started
    # then would): A and B take the GLB's staging slots 0 and 1 (L1 read [60,70], NoC, slot [80,100]), tile
    # 1's load from l2 (l2 read [60,70], NoC) slot 2. The stores pass l2's slots 0 and 1 [110,130] and reach
    # DRAM [140,150]; tile 1 is in at 120 and computes [120,140]: the layer ends at 150
    plan = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 64, 2000)], [dram(O, 16, 0), dram(O, 16, 4096)]),
                                            tile(1, [glb(S, 64, 1000, level=0)])])
    end, rec, _ctrl, sink, _ = run([plan], levels=("l2", "glb"), double_buffered=False)
    assert end == 150
    assert [h[:8] for h in hops_of(sink, "glb")] == [
        ("read", "weights", 2000, 64, 0, 0, 0, 10),
        ("write", "out_spikes", 0, 16, 0, 0, 80, 90), ("read", "out_spikes", 0, 16, 0, 0, 90, 100),
        ("write", "out_spikes", 4096, 16, 0, 0, 80, 90), ("read", "out_spikes", 4096, 16, 0, 0, 90, 100),
        ("write", "spikes", 8192, 64, 0, 1, 80, 90), ("read", "spikes", 8192, 64, 0, 1, 90, 100)]
    assert [h[:8] for h in hops_of(sink, "dram")] == [("write", "out_spikes", 0, 16, 0, 0, 140, 150),
                                                      ("write", "out_spikes", 4096, 16, 0, 0, 140, 150)]
    assert stalls(rec) == {("pe_array", "waiting_for_operands", 0): (2, 30 + 60), ("controller", "l1_full", 0): (1, 30)}


@pytest.mark.parametrize("other", ["adjacent", "elsewhere"])
def test_only_the_cores_whose_tiles_read_a_private_fills_bytes_get_a_copy(other):
    # 256 weight bytes filled into the private L2 at [8192, 8448); tile 0 (core 0) reads them. Tile 1 (core 1)
    # reads bytes next to them (just below and just above, in the L2), or the same addresses elsewhere (streamed
    # from DRAM, or in the shared GLB): core 1 is no reader, so the fill is one unicast into l2_0:
    # DRAM [0,10], NoC [10,20], GLB staging [20,40], NoC [40,50], l2_0 write at 8192 [50,60]
    fill = Move(W, 256, True, 0, 8192, level=1)
    if other == "adjacent":
        loads = [glb(W, 64, 8128, level=1), glb(W, 64, 8448, level=1)]
    else:
        loads = [Move(W, 64, True, 4096, 8192, level=1), glb(W, 64, 8192, level=0)]
    tiles = [tile(0, [glb(W, 256, 8192, level=1)]), tile(1, loads)]
    plan = LayerPlan(layer=layer(0), tiles=tiles, prologue=[fill], resident_bytes={1: 256})
    _end, _rec, ctrl, sink, _ = run([plan], levels=("glb", ("l2_0", "l2_1")), cores=2)
    assert ctrl.noc.multicasts == []
    assert [h[:8] for h in hops_of(sink, "l2_0") if h[5] == -1] == [("write", "weights", 8192, 256, 0, -1, 50, 60)]
    assert [h for h in hops_of(sink, "l2_1") if h[5] == -1] == []


def test_two_cores_name_the_store_a_step_waits_for_with_its_layer_and_tile():
    # tile 1 (core 1) waits for a store nobody makes: the step never loads; every process waits
    plan = LayerPlan(layer=layer(4), tiles=[tile(0, [glb(W, 64, 0, level=0)], [dram(O, 8, 0)]),
                                            tile(1, [glb(M, 64, 64, level=0, after=("never",))], [dram(O, 8, 64)])])
    env, _rec, ctrl, _sink, _ = build([plan], cores=2)
    env.run()
    assert not ctrl.done.triggered and env.now == 0
    assert ctrl.describe_blocked() == (
        "compute 0 waits for a loaded tile (queue 'ready tiles') (layer 4); "
        "compute 1 waits for a loaded tile (queue 'ready tiles') (layer 4); "
        "loader waits for the store ('never',) it depends on (layer 4, tile 1); "
        "writer 0 waits for outputs to store (queue 'outputs') (layer 4); "
        "writer 1 waits for outputs to store (queue 'outputs') (layer 4)")
