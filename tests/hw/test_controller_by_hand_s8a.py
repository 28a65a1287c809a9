"""The controller run by hand, part 2 (session 8, tag s8ctlA): the array's side of a tile
(the wait for a loaded tile and for the outputs of its half, the operand read, the compute
transaction, the output write), a layer's set-up and end (allocations per level, prologue,
prefetch, epilogue, records) and the DMA lanes (every field of every hop's transaction, the
DRAM's one-event ``submit`` and its ``access`` generator, stores to DRAM, multicasts).

Same conventions as tests/hw/test_controller_by_hand.py (the helpers: tests/hw/controller_rig.py): memories
are fixed-latency stand-ins (10 ns per hop unless said otherwise, no contention), the array
runs at 1 ns per cycle, every time is computed by hand from the rules of the module
docstring of tlmsim/hw/controller.py, and only public entry points are used (a plan list in;
the recorder, its trace sinks, the controller's layer records, statistics and
``describe_blocked`` out).
"""

from __future__ import annotations

from tests.hw.controller_rig import NS, Fixed, MulticastNoc, O, S, W, build, dram, glb, layer, run, stalls, tile, txns
from tlmsim.engine.plan import LayerPlan, Move


# ------------------------------------------------------------------ the array's side of a tile

def _drain_plan(n=2):
    # single-buffered 128-B L1 (test_controller.py's "outputs wait for the earlier outputs of their half"):
    # each tile loads 32 B from the GLB and stores 96 B to DRAM
    return LayerPlan(layer=layer(0), tiles=[tile(i, [glb(W, 32, 1000 + 64 * i)], [dram(O, 96, 4096 * i)])
                                            for i in range(n)])


def test_the_array_waits_for_the_outputs_of_its_half_and_says_so():
    # load0 [0,30] compute0 [30,50] outputs into L1 [50,60] drain0 (L1 read, NoC, GLB staging W+R, NoC, DRAM W)
    # [60,120]; load1 [60,90] (its 32 B are clear of tile 0's outputs at [32,128)); compute1 waits for drain0
    # from 90 to 120: [120,140], outputs [140,150], drain1 [150,210]
    env, rec, ctrl, _sink, _ = build([_drain_plan()], double_buffered=False, l1_bytes=128)
    env.run(until=100 * NS)
    assert ctrl.describe_blocked() == (
        "compute waits for earlier outputs draining out of L1 half 0 (layer 0, tile 1); "
        "loader waits for its DMA loads (DRAM/NoC/levels/L1) (layer 0, tile 1); "
        "writer waits for its DMA stores (L1/NoC/levels/DRAM) (layer 0, tile 0)")
    env.run(until=ctrl.done)
    assert env.now == 210 * NS
    assert stalls(rec) == {
        ("controller", "l1_full", 0): (1, 30),  # the loader waited for the only half 30 -> 60
        ("pe_array", "waiting_for_operands", 0): (2, 30 + 30),  # 0 -> 30, 60 (its outputs in L1) -> 90
        ("pe_array", "waiting_for_output_buffer", 0): (1, 30),  # 90 -> 120
    }


def test_the_array_names_the_half_whose_outputs_it_waits_for():
    # double-buffered 256-B L1 (halves [0,128) and [128,256)); 4 tiles, each 32 B from the GLB
    # (30 ns), 10 cycles, 16 B of outputs to DRAM (drain 60 ns, one writer):
    #   t0 h0 load [0,30] compute [30,40] L1 [40,50] drain [50,110]
    #   t1 h1 load [30,60] compute [60,70] L1 [70,80] drain [110,170]
    #   t2 h0 load [60,90] (h0 free since 50): the array, free at 80, waits for it to 90, then for drain0 to 110;
    #      compute [110,120] L1 [120,130]
    #   t3 h1 load [90,120] (h1 free since 80): compute at 130 waits -> 170 for drain1; [170,180] L1 [180,190]
    #   drain2 [170,230], drain3 [230,290]
    plan = LayerPlan(layer=layer(2), tiles=[tile(i, [glb(W, 32, 64 * i)], [dram(O, 16, 4096 * i)], cycles=10)
                                            for i in range(4)])
    env, rec, ctrl, _sink, _ = build([plan], l1_bytes=256)
    env.run(until=150 * NS)
    assert ctrl.describe_blocked().startswith(
        "compute waits for earlier outputs draining out of L1 half 1 (layer 2, tile 3); ")
    env.run(until=ctrl.done)
    assert env.now == 290 * NS
    assert stalls(rec) == {
        ("pe_array", "waiting_for_operands", 2): (3, 30 + (60 - 50) + (90 - 80)),  # t0, t1 and t2; t3 is in
        ("pe_array", "waiting_for_output_buffer", 2): (2, 20 + 40),
    }
    r = ctrl.layers[0]
    assert (r.index, r.tiles, r.compute_cycles, r.end_ps) == (2, 4, 40, 290 * NS)


def test_every_field_of_the_arrays_transactions():
    # one tile: 64 B of weights from the GLB at 100: GLB read [0,10], NoC [10,20], L1 write at 0 [20,30];
    # the array: reads its 64 operand bytes from L1 [30,40] while it computes 20 cycles [30,50] (a COMPUTE
    # transaction from the controller to the array, no bytes, its cycles); then writes the 32 output bytes
    # at the top of half 0 (524288 - 32) [50,60]; the writer: L1 read [60,70] ... DRAM write [110,120]
    plan = LayerPlan(layer=layer(5), tiles=[tile(7, [glb(W, 64, 100)], [dram(O, 32, 4096)], cycles=20)])
    end, rec, _ctrl, sink, _ = run([plan])
    assert end == 120
    assert txns(sink, "pe_array") == [("compute", "none", 0, 0, "controller", "pe_array", 5, 7, 0, 0, 20, 30, 50)]
    assert txns(sink, "l1") == [
        ("write", "weights", 0, 64, "noc", "l1", 5, 7, 0, 0, 0, 20, 30),
        ("read", "weights", 0, 64, "l1", "pe_array", 5, 7, 0, 0, 0, 30, 40),
        ("write", "out_spikes", 524256, 32, "pe_array", "l1", 5, 7, 0, 0, 0, 50, 60),
        ("read", "out_spikes", 524256, 32, "l1", "noc", 5, 7, 0, 0, 0, 60, 70)]
    assert [h[1:] for h in sink.hops if h[0] == "pe_array"] == [
        ("compute", "none", 0, 0, 5, 7, 30, 50, "controller", "pe_array")]
    assert rec.issued == rec.completed


def test_a_tile_without_outputs_does_not_wait_for_the_outputs_of_its_half():
    # as above, but tile 1 stores nothing: load1 [60,90], compute1 [90,110] while tile 0's outputs still
    # drain [60,120] (it writes none of its own into the half); the layer ends with drain0 at 120
    plan = _drain_plan()
    plan.tiles[1].stores = []
    end, rec, _ctrl, _sink, _ = run([plan], double_buffered=False, l1_bytes=128)
    assert end == 120
    assert stalls(rec) == {("controller", "l1_full", 0): (1, 30), ("pe_array", "waiting_for_operands", 0): (2, 30 + 30)}


# ------------------------------------------------------------------ DMA lanes: every field of every hop


class SubmitDram(Fixed):
    """A fixed-latency DRAM stand-in with the real model's one-event ``submit`` (and no ``access``)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.submitted: list[tuple] = []

    def submit(self, txn):
        self.submitted.append((txn.cmd.label, txn.address, txn.nbytes, self.env.now // NS))
        return self.env.timeout(self.reserve(txn, self.env.now) - self.env.now)

    access = None


def _dram_round_trip(mk_dram=None):
    # one tile: 64 B of weights from DRAM 8192 (64-B blocks, one lane: 2 GLB staging slots at 0 and 64):
    # DRAM read [0,10], NoC [10,20], GLB staging write [20,30] read [30,40] (slot 0), NoC [40,50], L1 write
    # at 0 [50,60]; the array reads them [60,70] and computes 20 cycles [60,80], writes its 32 output bytes
    # at 524288 - 32 [80,90]; the writer: L1 read [90,100], NoC [100,110], GLB staging in slot 1 at 64 (free
    # since 0, slot 0 since 40: the earliest free) [110,130], NoC [130,140], DRAM write at 4096 [140,150]
    plan = LayerPlan(layer=layer(3), tiles=[tile(6, [dram(W, 64, 8192)], [dram(O, 32, 4096)], cycles=20)])
    env, rec, ctrl, sink, lvls = build([plan], chunk=64, outstanding=1, dram=mk_dram)
    sink.at_hop = []  # (component, done) of every hop's transaction as a sink sees it at the hop: not done yet
    hop = sink.hop
    sink.hop = lambda txn, component, *a: (sink.at_hop.append((component, txn.done_ps)), hop(txn, component, *a))
    env.run(until=ctrl.done)
    return env.now // NS, rec, ctrl, sink, lvls


def test_every_field_of_a_blocks_hops_to_and_from_dram():
    for mk in (None, lambda env, rec: SubmitDram(name="dram", env=env, recorder=rec, latency_ps=10 * NS)):
        end, rec, ctrl, sink, _ = _dram_round_trip(mk)
        assert end == 150
        assert txns(sink, "dram") == [("read", "weights", 8192, 64, "dram", "noc", 3, 6, 0, 0, 0, 0, 10),
                                      ("write", "out_spikes", 4096, 32, "noc", "dram", 3, 6, 0, 0, 0, 140, 150)]
        assert txns(sink, "noc") == [
            ("write", "weights", 0, 64, "dram", "glb", 3, 6, 0, 0, 0, 10, 20),
            ("write", "weights", 0, 64, "glb", "l1", 3, 6, 0, 0, 0, 40, 50),
            ("write", "out_spikes", 0, 32, "l1", "glb", 3, 6, 0, 0, 0, 100, 110),
            ("write", "out_spikes", 0, 32, "glb", "dram", 3, 6, 0, 0, 0, 130, 140)]
        assert txns(sink, "glb") == [
            ("write", "weights", 0, 64, "noc", "glb", 3, 6, 0, 0, 0, 20, 30),
            ("read", "weights", 0, 64, "glb", "noc", 3, 6, 0, 0, 0, 30, 40),
            ("write", "out_spikes", 64, 32, "noc", "glb", 3, 6, 0, 0, 0, 110, 120),
            ("read", "out_spikes", 64, 32, "glb", "noc", 3, 6, 0, 0, 0, 120, 130)]
        # the two blocks: each one chain for all its hops, DRAM's included, in route order
        chains = sorted(sink.chains.items())
        assert [hops for k, hops in chains if k >= 0] == [
            [("dram", "read", "weights"), ("noc", "write", "weights"), ("glb", "write", "weights"),
             ("glb", "read", "weights"), ("noc", "write", "weights"), ("l1", "write", "weights")],
            [("l1", "read", "out_spikes"), ("noc", "write", "out_spikes"), ("glb", "write", "out_spikes"),
             ("glb", "read", "out_spikes"), ("noc", "write", "out_spikes"), ("dram", "write", "out_spikes")]]
        assert rec.flows[("dram", "noc", int(W), 3)] == 64 and rec.flows[("noc", "dram", int(O), 3)] == 32
        assert rec.issued == rec.completed == 2 + 4 + 4 + 4 + 1  # dram, noc, glb, l1 (2 DMA, 2 array), compute
        assert ctrl.stats.c["dma_blocks"] == 2
        assert {done for _c, done in sink.at_hop} == {-1} and len(sink.at_hop) == 15
        if mk is not None:
            assert ctrl.dram.submitted == [("read", 8192, 64, 0), ("write", 4096, 32, 140)]


# ------------------------------------------------------------------ a private level: one instance per core


def run_private(plans, chunk=64, outstanding=1):
    """Two cores; levels: the shared GLB (position 1), then a private buffer ``pb`` (position 2: pb_0 for
    core 0, pb_1 for core 1); a NoC that multicasts; every hop 10 ns."""
    end, rec, ctrl, sink, levels = run(plans, levels=("glb", ("pb_0", "pb_1")), cores=2, chunk=chunk,
                                       outstanding=outstanding, multicast=True)
    return end, rec, ctrl, sink, ctrl.noc, levels


def _pb(dc, n, addr):
    return Move(dc, n, False, 0, addr, level=1)


def test_a_prologue_into_a_private_level_is_multicast_to_the_cores_that_read_it():
    # 64 B of weights from DRAM 512 into pb at 1000, read by tile 0 (core 0) and tile 1 (core 1): one DRAM read
    # [0,10], NoC [10,20], GLB staging slot 0 [20,40], one NoC multicast GLB -> pb_0 + pb_1 [40,50], each
    # instance writes its copy at 1000 [50,60]. Each tile waits for it (resident_data 0 -> 60), then reads its own
    # copy: pb_c read [60,70], NoC [70,80], L1 write [80,90]; computes 20 cycles [90,110]
    plan = LayerPlan(layer=layer(4), prologue=[Move(W, 64, True, 512, 1000, level=1)], resident_bytes={1: 64},
                     tiles=[tile(0, [_pb(W, 64, 1000)]), tile(1, [_pb(W, 64, 1000)])])
    end, rec, ctrl, sink, noc, (glb_, (pb0, pb1)) = run_private([plan])
    assert end == 110
    assert noc.multicasts == [("glb", ("pb_0", "pb_1"), 64, 40 * NS)]
    assert txns(sink, "noc")[:2] == [
        ("write", "weights", 0, 64, "dram", "glb", 4, -1, 0, 0, 0, 10, 20),
        ("write", "weights", 0, 64, "glb", "pb_0+pb_1", 4, -1, 0, 0, 0, 40, 50)]
    for c, pb in enumerate((pb0, pb1)):
        assert txns(sink, pb.name) == [("write", "weights", 1000, 64, "noc", pb.name, 4, -1, 0, 0, 0, 50, 60),
                                       ("read", "weights", 1000, 64, pb.name, "noc", 4, c, 0, 0, 0, 60, 70)]
        # the room for the layer: 2 x 1 lane x 64 B of staging and the 64 resident bytes, in every instance
        assert pb.log == [("allocate", 128 + 64, "layer 'l4' (resident tensors + DMA staging)"), ("free", 192)]
    assert glb_.log == [("allocate", 128, "layer 'l4' (resident tensors + DMA staging)"), ("free", 128)]
    # the block's hops: one chain from DRAM to both copies
    assert next(hops for k, hops in sorted(sink.chains.items()) if k >= 0) == [
        ("dram", "read", "weights"), ("noc", "write", "weights"), ("glb", "write", "weights"),
        ("glb", "read", "weights"), ("noc", "write", "weights"), ("pb_0", "write", "weights"),
        ("pb_1", "write", "weights")]
    assert stalls(rec) == {("controller", "resident_data", 0 + 4): (1, 60),
                           ("pe_array_0", "waiting_for_operands", 4): (1, 90),
                           ("pe_array_1", "waiting_for_operands", 4): (1, 90)}
    assert rec.flows[("glb", "pb_0+pb_1", int(W), 4)] == 64 and ctrl.stats.c["dma_blocks"] == 1 + 2


def test_a_prologue_into_a_private_level_read_by_one_core_goes_to_its_instance_alone():
    # tile 1 (core 1) reads other bytes of pb; only core 0's instance gets the prologue: DRAM [0,10], NoC
    # [10,20], GLB staging [20,40], NoC GLB -> pb_0 [40,50], pb_0 write [50,60]. The step (both tiles) waits for
    # tile 0's bytes: both read [60,70] ... L1 [80,90], compute [90,110]
    plan = LayerPlan(layer=layer(0), prologue=[Move(W, 64, True, 512, 1000, level=1)], resident_bytes={1: 64},
                     tiles=[tile(0, [_pb(W, 64, 1000)]), tile(1, [_pb(W, 64, 3000)])])
    end, _rec, _ctrl, sink, noc, (_glb, (_pb0, _pb1)) = run_private([plan])
    assert end == 110
    assert noc.multicasts == []
    assert [h[:9] for h in sink.hops if h[6] == -1] == [
        ("dram", "read", "weights", 512, 64, 0, -1, 0, 10), ("noc", "write", "weights", 0, 64, 0, -1, 10, 20),
        ("glb", "write", "weights", 0, 64, 0, -1, 20, 30), ("glb", "read", "weights", 0, 64, 0, -1, 30, 40),
        ("noc", "write", "weights", 0, 64, 0, -1, 40, 50), ("pb_0", "write", "weights", 1000, 64, 0, -1, 50, 60)]
    assert txns(sink, "pb_1") == [("read", "weights", 3000, 64, "pb_1", "noc", 0, 1, 0, 0, 0, 60, 70)]


def test_a_shared_load_of_two_blocks_lands_at_each_cores_own_address_and_waits_for_the_slowest_copy():
    # 2 cores, 64-B blocks on one lane. Tile 0 (core 0) loads the GLB weights [4096, +128); tile 1 (core 1)
    # first 32 B of its own spikes, then the same weights: one transfer of 2 blocks to L1 0 at 0 and L1 1 at 32.
    # Block 0: GLB read [0,10], one multicast [10,20], each L1 writes its copy: l1_0 at 0, l1_1 at 32 from 20;
    # block 1 (offset 64) follows when both copies are in: l1_0 at 64, l1_1 at 96.
    # L1 0 takes 20 ns a hop here, L1 1 10 ns: block 0's copies end at 40 and 30, so block 1 starts at 40:
    # GLB [40,50], multicast [50,60], copies [60,80] and [60,70]; both tiles are in at 80 and compute 20 cycles
    # (core 0's operand read [80,100], core 1's [80,90]) -> 100
    w = lambda: glb(W, 128, 4096)
    plan = LayerPlan(layer=layer(1), tiles=[tile(0, [w()]), tile(1, [glb(S, 32, 8192), w()])])
    mcast = []

    def mk_noc(env, rec):
        mcast.append(MulticastNoc(name="noc", env=env, recorder=rec, latency_ps=10 * NS))
        return mcast[0]

    env, rec, ctrl, sink, _ = build([plan], cores=2, noc=mk_noc, chunk=64, outstanding=1)
    ctrl.l1s[0].latency_ps = 20 * NS
    env.run(until=ctrl.done)
    assert env.now == 100 * NS and rec.issued == rec.completed
    assert mcast[0].multicasts == [("glb", ("l1_0", "l1_1"), 64, 10 * NS), ("glb", ("l1_0", "l1_1"), 64, 50 * NS)]
    assert [t for t in txns(sink, "noc") if t[5] == "l1_0+l1_1"] == [
        ("write", "weights", 0, 64, "glb", "l1_0+l1_1", 1, 0, 0, 0, 0, 10, 20),
        ("write", "weights", 0, 64, "glb", "l1_0+l1_1", 1, 0, 0, 0, 0, 50, 60)]
    assert [t for t in txns(sink, "l1_0") if t[0] == "write"] == [
        ("write", "weights", 0, 64, "noc", "l1_0", 1, 0, 0, 0, 0, 20, 40),
        ("write", "weights", 64, 64, "noc", "l1_0", 1, 0, 0, 0, 0, 60, 80)]
    assert [t for t in txns(sink, "l1_1") if t[0] == "write"] == [  # in booking order: the shared transfer first
        ("write", "weights", 32, 64, "noc", "l1_1", 1, 0, 0, 0, 0, 20, 30),
        ("write", "spikes", 0, 32, "noc", "l1_1", 1, 1, 0, 0, 0, 20, 30),
        ("write", "weights", 96, 64, "noc", "l1_1", 1, 0, 0, 0, 0, 60, 70)]
    assert txns(sink, "glb") == [
        ("read", "weights", 4096, 64, "glb", "noc", 1, 0, 0, 0, 0, 0, 10),
        ("read", "spikes", 8192, 32, "glb", "noc", 1, 1, 0, 0, 0, 0, 10),
        ("read", "weights", 4160, 64, "glb", "noc", 1, 0, 0, 0, 0, 40, 50)]
    # each block: one chain, its GLB read, the multicast and both copies
    assert [hops for k, hops in sorted(sink.chains.items()) if k >= 0 and len(hops) == 4] == [
        [("glb", "read", "weights"), ("noc", "write", "weights"), ("l1_0", "write", "weights"),
         ("l1_1", "write", "weights")]] * 2
    assert ctrl.stats.c["dma_blocks"] == 3
    assert rec.flows[("glb", "l1_0+l1_1", int(W), 1)] == 128
