"""The controller run by hand: small hand-made plans in, every number out (end time,
the stall ledger per component, reason and layer, each hop's component, command, data
class, address, bytes and times, the layer records, the controller's statistics, what
each level allocates and frees, the sentence naming what is blocked).

Memories are fixed-latency stand-ins (10 ns per hop unless said otherwise, no
contention: tests/hw/test_controller.py), the array runs at 1 ns per cycle, so every
time below is computed by hand from the rules of the module docstring of
tlmsim/hw/controller.py. Only public entry points are used (a plan list in; the
recorder, the controller's layer records, statistics and ``describe_blocked`` out), so
the tests hold for any implementation with the same behaviour. The builder and helpers
are tests/hw/controller_rig.py's, shared with the other by-hand controller tests.
"""

from __future__ import annotations

from tests.hw.controller_rig import (  # noqa: F401  (Hops, Level, MulticastNoc, P, SlowFirst: imported from here by older tests)
    NS,
    Hops,
    Level,
    M,
    MulticastNoc,
    O,
    P,
    S,
    SlowFirst,
    W,
    build,
    dram,
    glb,
    layer,
    run,
    slow_dram,
    stalls,
    tile,
)
from tlmsim.engine.plan import LayerPlan, Move


# ------------------------------------------------------------------ what is blocked, in one sentence

def test_a_deadlock_sentence_names_every_process_in_name_order():
    # tile 0 waits for a store nobody makes; the array and the writer wait for work
    key = ("never",)
    plan = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(M, 64, 0, after=key)], [dram(O, 8, 0)])])
    env, _rec, ctrl, _sink, _ = build([plan])
    assert ctrl.describe_blocked() == "no pipeline process started"
    env.run()
    assert not ctrl.done.triggered
    assert ctrl.describe_blocked() == (
        "compute waits for a loaded tile (queue 'ready tiles') (layer 0); "
        "loader waits for the store ('never',) it depends on (layer 0, tile 0); "
        "writer waits for outputs to store (queue 'outputs') (layer 0)")


def test_the_controller_waits_for_the_prologue_after_its_tiles():
    # one tile with no operands and 10 cycles: done at 10 ns; the 8-KiB resident prologue on
    # one lane: block 0 DRAM [0,10] NoC [10,20] GLB [20,30], block 1 [30,60]: the layer ends at 60
    plan = LayerPlan(layer=layer(0), tiles=[tile(0, cycles=10)], prologue=[dram(W, 8192, 0)],
                     resident_bytes={0: 8192})
    env, _rec, ctrl, sink, _ = build([plan], outstanding=1)
    env.run(until=30 * NS)
    assert ctrl.describe_blocked() == "controller waits for the layer's resident tensors to arrive (layer 0)"
    env.run(until=ctrl.done)
    assert env.now == 60 * NS and ctrl.layers[0].end_ps == 60 * NS
    assert ctrl.describe_blocked() == "no pipeline process started"
    assert sink.of("glb") == [("write", "weights", 0, 4096, 0, -1, 20, 30),
                              ("write", "weights", 4096, 4096, 0, -1, 50, 60)]


def _two_core_plan():
    # two cores, one 128-B L1 each (single-buffered): tiles 0 and 1 load 32 B and store 96 B to
    # DRAM; tile 2 (core 0 again) loads 96 B, which reach into tile 0's outputs at [32, 128)
    return LayerPlan(layer=layer(0), tiles=[
        tile(0, [glb(W, 32, 1000)], [dram(O, 96, 0)]),
        tile(1, [glb(W, 32, 2000)], [dram(O, 96, 4096)]),
        tile(2, [glb(S, 96, 3000)]),
    ])


def test_two_cores_name_the_core_a_process_and_a_wait_belong_to():
    # step 1: tiles 0 (core 0) and 1 (core 1) load [0,30]; each computes [30,50], writes its
    # outputs into L1 [50,60] (at 128 - 96 = 32) and frees its half at 60; the writers: L1 read
    # [60,70], NoC, GLB staging write and read, NoC [70,110], DRAM write [110,120].
    # step 2: tile 2 waits for core 0's half (to 60), then for tile 0's outputs to drain (to 120):
    # load [120,150], compute [150,170] -> the layer ends at 170 ns
    env, rec, ctrl, sink, _ = build([_two_core_plan()], cores=2, double_buffered=False, l1_bytes=128)
    env.run(until=45 * NS)
    assert ctrl.describe_blocked() == (
        "compute 0 waits for the PE array (layer 0, tile 0); "
        "compute 1 waits for the PE array (layer 0, tile 1); "
        "loader waits for a free L1 half of core 0 (queue 'l1 halves') (layer 0, tile 2); "
        "writer 0 waits for outputs to store (queue 'outputs') (layer 0); "
        "writer 1 waits for outputs to store (queue 'outputs') (layer 0)")
    env.run(until=100 * NS)
    assert ctrl.describe_blocked() == (
        "compute 0 waits for a loaded tile (queue 'ready tiles') (layer 0); "
        "compute 1 waits for the PE array (layer 0, tile 1); "
        "loader waits for outputs draining out of L1 half 0 of core 0 (layer 0, tile 2); "
        "writer 0 waits for its DMA stores (L1/NoC/levels/DRAM) (layer 0, tile 0); "
        "writer 1 waits for its DMA stores (L1/NoC/levels/DRAM) (layer 0, tile 1)")
    env.run(until=ctrl.done)
    assert env.now == 170 * NS
    assert stalls(rec) == {
        ("controller", "l1_full", 0): (1, 90),
        ("pe_array_0", "waiting_for_operands", 0): (2, 30 + 90),
        ("pe_array_1", "waiting_for_operands", 0): (1, 30),
    }
    assert sink.of("l1_0") == [
        ("write", "weights", 0, 32, 0, 0, 20, 30), ("read", "weights", 0, 32, 0, 0, 30, 40),
        ("write", "out_spikes", 32, 96, 0, 0, 50, 60), ("read", "out_spikes", 32, 96, 0, 0, 60, 70),
        ("write", "spikes", 0, 96, 0, 2, 140, 150), ("read", "spikes", 0, 96, 0, 2, 150, 160)]
    assert [h for h in sink.of("dram")] == [("write", "out_spikes", 0, 96, 0, 0, 110, 120),
                                            ("write", "out_spikes", 4096, 96, 0, 1, 110, 120)]
    r = ctrl.layers[0]
    assert (r.tiles, r.compute_cycles, r.start_ps, r.end_ps) == (3, 60, 0, 170 * NS)
    assert [pe.stats.c["tiles"] for pe in ctrl.pes] == [2, 1]


# ------------------------------------------------------------------ staging slots, DMA blocks and lanes

def test_a_block_takes_the_earliest_free_staging_slot_and_stalls_from_its_arrival():
    # one lane per move -> 2 staging slots of one 64-B block, at GLB addresses 0 and 64.
    # Four 64-B DRAM loads whose DRAM reads take 10, 20, 30 and 35 ns; then NoC 10 ns, the GLB
    # staging write and read 10 ns each, NoC, L1 write:
    #   A: NoC [10,20], slot 0 (both free) W [20,30] R [30,40]          -> L1 [50,60]
    #   B: NoC [20,30], slot 1 (free since 0, slot 0 busy to 40) [30,50] -> L1 [60,70]
    #   C: NoC [30,40], slots free at 40 and 50: slot 0 [40,60]          -> L1 [70,80]
    #   D: NoC [35,45], slots free at 60 and 50: slot 1, waits 45 -> 50 (staging_full), [50,70] -> L1 [80,90]
    # the tile is in at 90, computes 20 ns -> 110
    loads = [dram(W, 64, 0), dram(S, 64, 4096), dram(M, 64, 8192), dram(P, 64, 12288)]
    end, rec, ctrl, sink, _ = run([LayerPlan(layer=layer(0), tiles=[tile(0, loads)])], chunk=64, outstanding=1,
                                  dram=slow_dram({0: 10, 4096: 20, 8192: 30, 12288: 35}))
    assert end == 110
    assert sink.of("glb") == [
        ("write", "weights", 0, 64, 0, 0, 20, 30), ("read", "weights", 0, 64, 0, 0, 30, 40),
        ("write", "spikes", 64, 64, 0, 0, 30, 40), ("read", "spikes", 64, 64, 0, 0, 40, 50),
        ("write", "membrane", 0, 64, 0, 0, 40, 50), ("read", "membrane", 0, 64, 0, 0, 50, 60),
        ("write", "psum", 64, 64, 0, 0, 50, 60), ("read", "psum", 64, 64, 0, 0, 60, 70)]
    assert [h[1:] for h in sink.hops if h[0] == "glb"][:2] == [
        ("write", "weights", 0, 64, 0, 0, 20, 30, "noc", "glb"), ("read", "weights", 0, 64, 0, 0, 30, 40, "glb", "noc")]
    assert sink.stalls == [("controller", "staging_full", 0, 45, 50), ("pe_array", "waiting_for_operands", 0, 0, 90)]
    # each staging hop is issued when it starts (D's write after its wait) and done when it ends
    assert sink.issued_done("glb") == [("write", 20, 30), ("read", 30, 40), ("write", 30, 40), ("read", 40, 50),
                                       ("write", 40, 50), ("read", 50, 60), ("write", 50, 60), ("read", 60, 70)]
    assert stalls(rec) == {("controller", "staging_full", 0): (1, 5), ("pe_array", "waiting_for_operands", 0): (1, 90)}
    # the operands sit one after the other at the bottom of half 0
    assert [h[2:8] for h in sink.of("l1") if h[0] == "write"] == [
        (0, 64, 0, 0, 50, 60), (64, 64, 0, 0, 60, 70), (128, 64, 0, 0, 70, 80), (192, 64, 0, 0, 80, 90)]
    assert ctrl.stats.c["dma_blocks"] == 4
    # each block's hops share one chain (the timeline's flow); the array's hops have none
    route = ["dram", "noc", "glb", "glb", "noc", "l1"]
    assert sorted(([c for c, _, _ in hops], {d for _, _, d in hops}) for k, hops in sink.chains.items() if k >= 0) == \
        sorted((route, {d}) for d in ("weights", "spikes", "membrane", "psum"))
    assert [(c, cmd) for c, cmd, _ in sink.chains[-1]] == [("l1", "read"), ("pe_array", "compute")]


def test_a_move_is_cut_into_blocks_dealt_round_robin_to_its_lanes():
    # 300 B from the GLB-resident tensor at 5000 in 64-B blocks: 64, 64, 64, 64 and 44 B; 2 lanes:
    # lane 0 takes the blocks at 0, 128, 256 and lane 1 those at 64, 192, each block GLB read, NoC,
    # L1 write (30 ns) after the lane's previous one: lane 0 [0,30] [30,60] [60,90], lane 1 [0,30] [30,60]
    end, rec, ctrl, sink, _ = run([LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 300, 5000)], cycles=10)])],
                                  chunk=64, outstanding=2)
    assert sink.of("glb") == [
        ("read", "weights", 5000, 64, 0, 0, 0, 10), ("read", "weights", 5064, 64, 0, 0, 0, 10),
        ("read", "weights", 5128, 64, 0, 0, 30, 40), ("read", "weights", 5192, 64, 0, 0, 30, 40),
        ("read", "weights", 5256, 44, 0, 0, 60, 70)]
    assert [h[2:8] for h in sink.of("l1") if h[0] == "write"] == [
        (0, 64, 0, 0, 20, 30), (64, 64, 0, 0, 20, 30), (128, 64, 0, 0, 50, 60), (192, 64, 0, 0, 50, 60),
        (256, 44, 0, 0, 80, 90)]
    # the array reads the 300 operand bytes in one hop while it computes 10 cycles: [90,100]
    assert sink.of("l1")[-1] == ("read", "weights", 0, 300, 0, 0, 90, 100)
    assert end == 100 and ctrl.stats.c["dma_blocks"] == 5
    assert rec.flows[("noc", "l1", int(W), 0)] == 300


# ------------------------------------------------------------------ resident tensors arriving beside the tiles

def test_a_tile_waits_for_the_arrived_prefix_of_the_resident_bytes_it_reads():
    # the prologue: 192 B of weights from DRAM 0 into the GLB at 1024, 3 blocks of 64 B on 3 lanes
    # (DRAM read, NoC, GLB write); the DRAM reads of blocks 0 and 2 take 10 ns, block 1's 150 ns:
    # blocks 0 and 2 are in at 30, block 1 at 170. Single-buffered L1; a tile's load from the GLB
    # takes 30 ns (GLB read, NoC, L1 write), its compute 20 ns.
    #   tile 0 reads [1024,1088) (block 0): waits to 30; load [30,60] compute [60,80]
    #   tile 1 reads the same bytes at 80 (the half is free): in already (the prefix ends at 1088 exactly)
    #     load [80,110] compute [110,130]
    #   tile 2 reads [1088,1248) (blocks 1 and 2, and 32 B above the tensor): block 2 is in, but the
    #     prefix ends at 1088 until block 1 lands at 170: load [170,200] compute [200,220]
    plan = LayerPlan(layer=layer(0), prologue=[dram(W, 192, 0)], resident_bytes={-1: 192}, tiles=[
        tile(0, [glb(W, 64, 1024)]), tile(1, [glb(W, 64, 1024)]), tile(2, [glb(W, 160, 1088)])])
    plan.prologue[0].level_address = 1024
    end, rec, ctrl, sink, lvls = run([plan], chunk=64, outstanding=3, double_buffered=False,
                                     dram=slow_dram({64: 150}))
    assert end == 220
    assert [h[2:8] for h in sink.of("glb") if h[0] == "write"] == [
        (1024, 64, 0, -1, 20, 30), (1152, 64, 0, -1, 20, 30), (1088, 64, 0, -1, 160, 170)]
    assert stalls(rec) == {
        ("controller", "resident_data", 0): (2, 30 + 40),
        ("controller", "l1_full", 0): (2, 20 + 20),
        ("pe_array", "waiting_for_operands", 0): (3, 60 + 30 + 70),
    }
    assert [h[2:8] for h in sink.of("glb") if h[0] == "read"] == [
        (1024, 64, 0, 0, 30, 40), (1024, 64, 0, 1, 80, 90),
        (1088, 64, 0, 2, 170, 180), (1152, 64, 0, 2, 170, 180), (1216, 32, 0, 2, 170, 180)]
    # the GLB holds the staging area (2 x 3 lanes x 64 B) and the 192 resident bytes for the layer
    assert lvls[0].log == [("allocate", 384 + 192, "layer 'l0' (resident tensors + DMA staging)"), ("free", 576)]
    assert ctrl.layers[0].end_ps == 220 * NS and ctrl.stats.c["dma_blocks"] == 3 + 1 + 1 + 3  # tile 2's 160 B: 64, 64, 32


# ------------------------------------------------------------------ prefetching the next layer's weights

STAGING = 2 * 1 * 4096  # one lane of 4-KiB blocks: the staging area is GLB [0, 8192)


def _layers_a_b(b_addr=65536, a_loads=None, b_prologue=None, a_extra=None):
    """Layer a: one tile reading 64 resident bytes at 40000 for 200 ns (load [0,30], compute
    [30,230]). Layer b: 8 KiB of weights from DRAM into the GLB at ``b_addr``, one tile reading
    its first 4 KiB for 100 ns."""
    a = LayerPlan(layer=layer(0, "a"), tiles=[tile(0, a_loads or [glb(W, 64, 40000)], cycles=200)],
                  resident_bytes={0: 64}, **(a_extra or {}))
    b = LayerPlan(layer=layer(1, "b"), tiles=[tile(0, [glb(W, 4096, b_addr)], cycles=100)],
                  prologue=b_prologue or [Move(W, 8192, True, 0, b_addr)], resident_bytes={0: 8192})
    return [a, b]


def _prefetched(plans, **kw):
    end, _rec, ctrl, _sink, lvls = run(plans, outstanding=1, **kw)
    return end, ctrl.stats.c["prefetched_bytes"], lvls[0].log


def test_prefetched_weights_are_allocated_by_the_prefetch_and_not_again():
    # prefetched during a ([0,30], [30,60]), b's tile loads at once: [230,260] + 100 ns -> 360
    end, nbytes, log = _prefetched(_layers_a_b())
    assert (end, nbytes) == (360, 8192)
    assert log == [("allocate", STAGING + 64, "layer 'a' (resident tensors + DMA staging)"),
                   ("allocate", 8192, "layer 'b' (prefetched weights)"),
                   ("free", STAGING + 64),
                   ("allocate", STAGING + 8192 - 8192, "layer 'b' (resident tensors + DMA staging)"),
                   ("free", STAGING + 8192)]


def test_weights_that_just_fit_the_free_bytes_prefetch_and_one_byte_less_does_not():
    end, nbytes, _ = _prefetched(_layers_a_b(), level_free=STAGING + 64 + 8192)
    assert (end, nbytes) == (360, 8192)
    # b starts at 230: its first block is in at 260 (DRAM, NoC, GLB write), the load [260,290], compute -> 390
    end, nbytes, log = _prefetched(_layers_a_b(), level_free=STAGING + 64 + 8191)
    assert (end, nbytes) == (390, 0)
    assert log[2] == ("allocate", STAGING + 8192, "layer 'b' (resident tensors + DMA staging)")


def test_weights_reaching_into_the_staging_area_are_not_prefetched():
    assert _prefetched(_layers_a_b(b_addr=STAGING))[:2] == (360, 8192)
    assert _prefetched(_layers_a_b(b_addr=STAGING - 1))[:2] == (390, 0)


def test_what_the_current_layer_keeps_in_the_level_blocks_the_prefetch():
    # a's tile reads [40000, 40064): weights from 40064 on are clear, from 40063 they are not
    assert _prefetched(_layers_a_b(b_addr=40064))[1] == 8192
    assert _prefetched(_layers_a_b(b_addr=40064 - 8192 - 64))[1] == 8192  # ends where a's range begins
    assert _prefetched(_layers_a_b(b_addr=40063))[1] == 0
    # a read that wraps inside a 32-byte span keeps only those 32 bytes
    assert _prefetched(_layers_a_b(b_addr=40032, a_loads=[glb(W, 64, 40000, level_span=32)]))[1] == 8192
    assert _prefetched(_layers_a_b(b_addr=40031, a_loads=[glb(W, 64, 40000, level_span=32)]))[1] == 0
    # a load from DRAM keeps nothing in the GLB whatever its level address
    assert _prefetched(_layers_a_b(b_addr=40000, a_loads=[Move(W, 64, True, 0, 40000)]))[1] == 8192
    # a resident store, a's own prologue and epilogue block it too
    a_store = _layers_a_b(b_addr=50000)
    a_store[0].tiles[0].stores.append(glb(O, 100, 58100))  # [58100, 58200) inside b's [50000, 58192)
    assert _prefetched(a_store)[1] == 0
    for key in ("prologue", "epilogue"):
        plans = _layers_a_b(b_addr=50000, a_extra={key: [Move(M, 16, True, 1 << 20, 58191)]})
        assert _prefetched(plans)[1] == 0, key
        plans = _layers_a_b(b_addr=50000, a_extra={key: [Move(M, 16, True, 1 << 20, 58192)]})
        assert _prefetched(plans)[1] == 8192, key


def test_only_weights_prefetch_and_the_rest_of_the_prologue_comes_when_the_layer_starts():
    # b also keeps 4 KiB of spikes at 80000 (DRAM 16384): not prefetched; they arrive when b starts:
    # DRAM [230,240] NoC [240,250] GLB write [250,260]; b's tile reads the weights only -> 360
    prologue = [Move(W, 8192, True, 0, 65536), Move(S, 4096, True, 16384, 80000)]
    end, _rec, ctrl, sink, _lvls = run(_layers_a_b(b_prologue=prologue), outstanding=1)
    assert (end, ctrl.stats.c["prefetched_bytes"]) == (360, 8192)
    assert [h[1:8] for h in sink.of("glb") if h[0] == "write"] == [
        ("weights", 65536, 4096, 1, -1, 20, 30), ("weights", 69632, 4096, 1, -1, 50, 60),
        ("spikes", 80000, 4096, 1, -1, 250, 260)]
    assert [(r.name, r.start_ps // NS, r.end_ps // NS) for r in ctrl.layers] == [("a", 0, 230), ("b", 230, 360)]


def test_a_layer_that_starts_before_the_prefetch_could_run_is_not_prefetched():
    # a has neither tiles nor resident tensors: it ends at 0 before its prefetch process runs,
    # so b loads its own weights: DRAM [0,10] NoC GLB write [20,30]; load [30,60] compute [60,160]
    plans = _layers_a_b()
    plans[0].tiles, plans[0].resident_bytes = [], {}
    end, nbytes, log = _prefetched(plans)
    assert (end, nbytes) == (160, 0)
    assert log == [("allocate", STAGING, "layer 'a' (resident tensors + DMA staging)"), ("free", STAGING),
                   ("allocate", STAGING + 8192, "layer 'b' (resident tensors + DMA staging)"),
                   ("free", STAGING + 8192)]


def test_two_levels_each_tile_waits_for_the_fill_of_its_own_level_only():
    # levels l2 (outer) and glb, 64-B blocks on one lane: 128 B of staging at the bottom of each.
    # prologue X: 64 B of weights into l2 at 1000 (DRAM 0): DRAM [0,10] NoC [10,20] l2 write [20,30];
    # prologue Y: 64 B into the glb at 1000 (DRAM 4096, a 100-ns read): DRAM [0,100] NoC, l2 staging
    #   (slot 1: slot 0 is busy to 70) [110,130], NoC, glb write [140,150].
    # tile 0 reads l2 [1000,1064): waits for X only (Y is in the other level) to 30, then two loads:
    #   A from l2: read [30,40] NoC, glb staging slot 0 [50,70], NoC, L1 [80,90];
    #   B from DRAM (its level address 1000 is no resident byte): DRAM [30,40] NoC, l2 staging slot 0
    #   [50,70], NoC, glb staging slot 1 (slot 0 busy to 70) [80,100], NoC, L1 [110,120]; compute [120,140]
    # tile 1 reads glb [1000,1064): waits for Y to 150; glb read, NoC, L1 [150,180]; compute [180,200]
    plan = LayerPlan(layer=layer(0), resident_bytes={0: 64, -1: 64},
                     prologue=[Move(W, 64, True, 0, 1000, level=0), Move(W, 64, True, 4096, 1000, level=-1)],
                     tiles=[tile(0, [glb(W, 64, 1000, level=0), Move(S, 64, True, 8192, 1000)]),
                            tile(1, [glb(W, 64, 1000, level=-1)])])
    end, rec, _ctrl, sink, lvls = run([plan], levels=("l2", "glb"), chunk=64, outstanding=1,
                                     dram=slow_dram({4096: 100}))
    assert end == 200
    assert sorted(sink.of("l2"), key=lambda h: (h[6], h[0])) == [
        ("write", "weights", 1000, 64, 0, -1, 20, 30), ("read", "weights", 1000, 64, 0, 0, 30, 40),
        ("write", "spikes", 0, 64, 0, 0, 50, 60), ("read", "spikes", 0, 64, 0, 0, 60, 70),
        ("write", "weights", 64, 64, 0, -1, 110, 120), ("read", "weights", 64, 64, 0, -1, 120, 130)]
    assert sorted(sink.of("glb"), key=lambda h: (h[6], h[0])) == [
        ("write", "weights", 0, 64, 0, 0, 50, 60), ("read", "weights", 0, 64, 0, 0, 60, 70),
        ("write", "spikes", 64, 64, 0, 0, 80, 90), ("read", "spikes", 64, 64, 0, 0, 90, 100),
        ("write", "weights", 1000, 64, 0, -1, 140, 150), ("read", "weights", 1000, 64, 0, 1, 150, 160)]
    assert stalls(rec) == {("controller", "resident_data", 0): (2, 30 + 30),
                           ("pe_array", "waiting_for_operands", 0): (2, 120 + 40)}
    for lv in lvls:  # 128 B of staging and the 64 resident bytes each (level -1 is the glb)
        assert lv.log == [("allocate", 192, "layer 'l0' (resident tensors + DMA staging)"), ("free", 192)]


def test_an_empty_prologue_move_is_in_at_once():
    plan = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 64, 5000)])], prologue=[dram(W, 0, 0)])
    end, _rec, ctrl, _sink, _ = run([plan])
    assert end == 30 + 20 and ctrl.stats.c["dma_blocks"] == 1


# ------------------------------------------------------------------ stores: the writer

def test_a_tiles_stores_leave_the_top_of_its_half_one_after_the_other_then_signal():
    # double-buffered 1-MiB L1: half 0 is [0, 524288). Tile 0 loads 64 B from the GLB [0,30],
    # computes [30,50], writes its 96 output bytes (two data classes: "none") at 524288 - 96 [50,60];
    # the writer moves both stores at once from 60: A (32 B of the top at 524192) to DRAM: L1 read,
    # NoC, GLB staging slot 0 [80,100], NoC, DRAM write [110,120]; B (64 B from 524224) into the
    # GLB at 9000: L1 read, NoC, GLB write [80,90]. Then A's key: tile 1's membrane load (DRAM)
    # waited 30 -> 120 (dependency): DRAM [120,130], NoC, GLB staging slot 1 (slot 0 is free since
    # 100, but slot 1 since 0) [140,160], NoC, L1 [170,180]; compute [180,200].
    key = (0, "membrane", 0)
    plan = LayerPlan(layer=layer(0), tiles=[
        tile(0, [glb(W, 64, 100)], [dram(O, 32, 4096, signals=key), glb(M, 64, 9000)]),
        tile(1, [dram(M, 32, 4096, after=key)])])
    end, rec, _ctrl, sink, _ = run([plan])
    assert end == 200
    assert sorted(sink.of("l1"), key=lambda h: (h[6], h[2])) == [
        ("write", "weights", 0, 64, 0, 0, 20, 30), ("read", "weights", 0, 64, 0, 0, 30, 40),
        ("write", "none", 524192, 96, 0, 0, 50, 60),
        ("read", "out_spikes", 524192, 32, 0, 0, 60, 70), ("read", "membrane", 524224, 64, 0, 0, 60, 70),
        ("write", "membrane", 524288, 32, 0, 1, 170, 180), ("read", "membrane", 524288, 32, 0, 1, 180, 190)]
    assert sorted(sink.of("glb"), key=lambda h: (h[6], h[2])) == [
        ("read", "weights", 100, 64, 0, 0, 0, 10),
        ("write", "out_spikes", 0, 32, 0, 0, 80, 90), ("write", "membrane", 9000, 64, 0, 0, 80, 90),
        ("read", "out_spikes", 0, 32, 0, 0, 90, 100),
        ("write", "membrane", 4096, 32, 0, 1, 140, 150), ("read", "membrane", 4096, 32, 0, 1, 150, 160)]
    assert sink.of("dram") == [("write", "out_spikes", 4096, 32, 0, 0, 110, 120),
                               ("read", "membrane", 4096, 32, 0, 1, 120, 130)]
    assert stalls(rec) == {("controller", "dependency", 0): (1, 90),
                           ("pe_array", "waiting_for_operands", 0): (2, 30 + (180 - 60))}


# ------------------------------------------------------------------ several cores: which core runs which tile

def _on_cores(tiles, cores):
    """The lockstep steps of the schedule and, running the plan, the tiles each array computed in order."""
    plan = LayerPlan(layer=layer(0), tiles=tiles)
    env, _rec, ctrl, sink, _ = build([plan], cores=cores)
    steps = [[(c, t.index) for c, t in step] for step in ctrl.schedule(plan)]
    env.run(until=ctrl.done)
    ran = {c: [h[6] for h in sink.hops if h[0] == f"pe_array_{c}" and h[1] == "compute"] for c in range(cores)}
    return steps, ran


def _t(i, keeps=False, after=None, signals=None):
    loads = [dram(M, 8, 64 * i, after=after)] if after else [glb(W, 8, 64 * i)]
    stores = [dram(M, 8, 64 * i, signals=signals)] if signals else []
    return tile(i, loads, stores, cycles=1, keeps_state=keeps)


def test_a_reduction_over_three_tiles_is_one_unit_on_one_core():
    # units: (0, 1, 2) and (3); the unit's r-th tile goes in step r
    steps, ran = _on_cores([_t(0, keeps=True), _t(1, keeps=True), _t(2), _t(3)], 2)
    assert steps == [[(0, 0), (1, 3)], [(0, 1)], [(0, 2)]]
    assert ran == {0: [0, 1, 2], 1: [3]}


def test_a_unit_waiting_for_a_later_unit_goes_after_it():
    # tile 0 waits for the store of tile 2: tiles 1 and 2 form the first group, tile 0 the second
    steps, ran = _on_cores([_t(0, after=("k", 2)), _t(1), _t(2, signals=("k", 2))], 2)
    assert steps == [[(0, 1), (1, 2)], [(0, 0)]]
    assert ran == {0: [1, 0], 1: [2]}
    # three cores: the same (tile 0 cannot join the group of the tile it waits for)
    assert _on_cores([_t(0, after=("k", 2)), _t(1), _t(2, signals=("k", 2))], 3)[0] == [[(0, 1), (1, 2)], [(0, 0)]]


def test_a_wait_for_a_store_no_tile_of_the_layer_makes_does_not_hold_a_unit_back():
    # the key (from an earlier layer, say) has no producer here: the schedule ignores it; with the
    # key signalled by nobody the run would deadlock, so it is only scheduled, not run
    plan = LayerPlan(layer=layer(0), tiles=[_t(0), _t(1, after=("earlier",)), _t(2)])
    _env, _rec, ctrl, _sink, _ = build([plan], cores=2)
    assert [[(c, t.index) for c, t in s] for s in ctrl.schedule(plan)] == [[(0, 0), (1, 1)], [(0, 2)]]


def test_groups_fill_every_core_then_start_again_at_the_first_unplaced_unit():
    # a chain 0 -> 1 -> 2 and independent tiles 3, 4, 5 on 2 cores: group 1 takes 0 and 3, group 2
    # 1 and 4, group 3 2 and 5
    tiles = [_t(0, signals=("a", 1)), _t(1, after=("a", 1), signals=("a", 2)), _t(2, after=("a", 2)),
             _t(3), _t(4), _t(5)]
    steps, ran = _on_cores(tiles, 2)
    assert steps == [[(0, 0), (1, 3)], [(0, 1), (1, 4)], [(0, 2), (1, 5)]]
    assert ran == {0: [0, 1, 2], 1: [3, 4, 5]}
    # the times (GLB loads 30 ns; a 1-cycle tile takes the 10-ns L1 operand read: 9 ns l1_bandwidth):
    # step 1 loads [0,30]; tile 0 computes [30,40], outputs into L1 [40,50], store (L1, NoC, GLB
    # staging, NoC: 50 ns, DRAM write 10 ns) [50,110]: key a1.
    # step 2 waits for a1 (30 -> 110); tile 1 from DRAM [110,170], tile 4 from the GLB [110,140]:
    # each core's tile is ready when its own loads are; tile 1 computes [170,180], L1 [180,190],
    # store [190,250]: key a2. Step 3 waits for a2 (170 -> 250); tile 2 [250,310], compute [310,320];
    # tile 5 [250,280], compute [280,290] -> the layer ends at 320
    plan = LayerPlan(layer=layer(0), tiles=tiles)
    end, rec, _ctrl, _sink, _ = run([plan], cores=2)
    assert end == 320
    assert stalls(rec) == {
        ("controller", "dependency", 0): (2, 80 + 80),
        ("pe_array_0", "waiting_for_operands", 0): (3, 30 + (170 - 50) + (310 - 190)),
        ("pe_array_1", "waiting_for_operands", 0): (3, 30 + (140 - 40) + (280 - 150)),
        ("pe_array_0", "l1_bandwidth", 0): (3, 27),
        ("pe_array_1", "l1_bandwidth", 0): (3, 27),
    }
    # 4 cores: 0, 3, 4, 5 first; then 1; then 2
    steps, ran = _on_cores(tiles, 4)
    assert steps == [[(0, 0), (1, 3), (2, 4), (3, 5)], [(0, 1)], [(0, 2)]]
    assert ran == {0: [0, 1, 2], 1: [3], 2: [4], 3: [5]}


# ------------------------------------------------------------------ layer records and the barrier between layers

def test_each_layer_record_sums_its_tiles_and_the_next_layer_starts_after_the_last_store():
    # layer 0 (index 3, "first"): two tiles, each GLB load [.., +30], compute 40, outputs to DRAM
    # (L1 write 10, then L1 read, NoC, GLB staging write + read, NoC, DRAM write: 60 ns):
    #   t0 load [0,30] compute [30,70] L1 [70,80] store [80,140]; t1 load [30,60] compute [80,120]
    #   L1 [120,130] store [140,200] (after t0's: one writer) -> layer 0 ends at 200
    # layer 1 (index 4, "second"): one tile, load [200,230] compute 15 -> 245
    l0 = LayerPlan(layer=layer(3, "first"), resident={"weights": True}, tiles=[
        tile(0, [glb(W, 64, 0)], [dram(O, 16, 0)], cycles=40, neuron_cycles=5, dense_ops=100, acc_ops=60,
             neuron_updates=8),
        tile(1, [glb(W, 64, 64)], [dram(O, 16, 16)], cycles=40, neuron_cycles=7, dense_ops=200, acc_ops=30,
             neuron_updates=9)])
    l1 = LayerPlan(layer=layer(4, "second"), tiles=[tile(0, [glb(S, 8, 4096)], cycles=15, dense_ops=1, acc_ops=1)])
    end, rec, ctrl, _sink, _ = run([l0, l1])
    assert end == 245
    a, b = ctrl.layers
    assert (a.index, a.name, a.start_ps, a.end_ps, a.tiles, a.compute_cycles, a.neuron_cycles, a.dense_ops,
            a.acc_ops, a.neuron_updates, a.resident) == (3, "first", 0, 200 * NS, 2, 80, 12, 300, 90, 17,
                                                         {"weights": True})
    assert (b.index, b.name, b.start_ps, b.end_ps, b.tiles, b.compute_cycles, b.neuron_cycles, b.dense_ops,
            b.acc_ops, b.neuron_updates, b.resident) == (4, "second", 200 * NS, 245 * NS, 1, 15, 0, 1, 1, 0, {})
    assert ctrl.stats.c["layers"] == 2 and ctrl.stats.c["dma_blocks"] == 2 + 2 + 1
    assert stalls(rec) == {
        ("pe_array", "waiting_for_operands", 3): (1, 30),
        ("pe_array", "waiting_for_operands", 4): (1, 30),  # 200 -> 230: the loads start after the barrier
    }


def test_a_resident_read_larger_than_its_span_rereads_the_span_from_where_the_block_begins():
    # 100 B read from a 48-B span at 2000 (an im2col slice), 64-B blocks on one lane:
    # block 0 (bytes 0..63): 2000 + 48 B, then 2000 + 16 B; block 1 (bytes 64..99 = span offset 16):
    # 2016 + 32 B, then 2000 + 4 B; each GLB read 10 ns, then NoC and L1 write
    end, rec, ctrl, sink, _ = run([LayerPlan(layer=layer(0), tiles=[tile(0, [glb(S, 100, 2000, level_span=48)])])],
                                  chunk=64, outstanding=1)
    assert sink.of("glb") == [("read", "spikes", 2000, 48, 0, 0, 0, 10), ("read", "spikes", 2000, 16, 0, 0, 10, 20),
                              ("read", "spikes", 2016, 32, 0, 0, 40, 50), ("read", "spikes", 2000, 4, 0, 0, 50, 60)]
    assert [h[2:8] for h in sink.of("l1") if h[0] == "write"] == [(0, 64, 0, 0, 30, 40), (64, 36, 0, 0, 70, 80)]
    assert end == 80 + 20
    # 49 B from the 48-B span: the last piece is 1 byte
    end, rec, ctrl, sink, _ = run([LayerPlan(layer=layer(0), tiles=[tile(0, [glb(S, 49, 2000, level_span=48)])])],
                                  chunk=64, outstanding=1)
    assert sink.of("glb") == [("read", "spikes", 2000, 48, 0, 0, 0, 10), ("read", "spikes", 2000, 1, 0, 0, 10, 20)]
    # a span as large as the read: no wrap, one read per block
    end, _rec, _ctrl, sink, _ = run([LayerPlan(layer=layer(0), tiles=[tile(0, [glb(S, 100, 2000, level_span=100)])])],
                                  chunk=64, outstanding=1)
    assert sink.of("glb") == [("read", "spikes", 2000, 64, 0, 0, 0, 10), ("read", "spikes", 2064, 36, 0, 0, 30, 40)]


def test_the_ranges_a_plan_keeps_in_a_level_are_merged_and_sorted():
    from tlmsim.hw.controller import level_ranges

    plan = LayerPlan(layer=layer(0), tiles=[
        tile(0, [glb(S, 64, 300, level=-1, level_span=16),  # wraps in [300, 316)
                 glb(S, 0, 400, level=-1),  # no byte
                 Move(S, 64, True, 0, 1000, level=-1),  # from DRAM: nothing kept
                 glb(S, 30, 310, level=1)],  # [310, 340): joins [300, 316)
             [glb(O, 10, 320, level=-1), glb(O, 10, 250, level=-1)])],  # inside [300, 340); [250, 260)
        prologue=[Move(W, 50, True, 0, 100, level=-1), Move(W, 10, True, 0, 5000, level=0)],
        epilogue=[Move(M, 20, True, 0, 150, level=1)])  # touches [100, 150)
    assert level_ranges(plan, 1, 2) == [(100, 170), (250, 260), (300, 340)]
    assert level_ranges(plan, 0, 2) == [(5000, 5010)]
    # one level: every move's level is that level
    assert level_ranges(plan, 0, 1) == [(100, 170), (250, 260), (300, 340), (5000, 5010)]


def test_level_bounds_are_the_first_start_and_the_last_end_of_the_level_ranges():
    from tlmsim.hw.controller import level_bounds, level_ranges

    plan = LayerPlan(layer=layer(0), tiles=[
        tile(0, [glb(S, 64, 300, level=-1, level_span=16),  # [300, 316)
                 glb(S, 0, 90, level=-1),  # no byte: not a bound (a lower start than every range's)
                 Move(S, 64, True, 0, 10, level=-1),  # from DRAM: nothing kept
                 glb(S, 30, 310, level=1)],  # [310, 340)
             [glb(O, 10, 320, level=-1), glb(O, 10, 250, level=-1)])],  # [320, 330), [250, 260)
        prologue=[Move(W, 50, True, 0, 100, level=-1), Move(W, 10, True, 0, 5000, level=0),
                  Move(W, 0, True, 0, 7000, level=0)],  # no byte
        epilogue=[Move(M, 20, True, 0, 150, level=1), Move(M, 1, True, 0, 6000, level=0)])  # one byte: [6000, 6001)
    for lv, n in ((1, 2), (0, 2), (0, 1)):
        ranges = level_ranges(plan, lv, n)
        assert level_bounds(plan, lv, n) == (ranges[0][0], ranges[-1][1])
    assert level_bounds(plan, 1, 2) == (100, 340)  # the prologue's [100, 150) .. the tile's [310, 340)
    assert level_bounds(plan, 0, 2) == (5000, 6001)
    assert level_bounds(plan, 0, 1) == (100, 6001)
    # no prologue: the first range found is a tile's, and a later one starts lower and ends higher
    later = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(S, 64, 300, level=-1, level_span=16)]),
                                             tile(1, [glb(S, 10, 250, level=-1)], [glb(O, 10, 400, level=-1)])])
    assert level_ranges(later, 0, 1) == [(250, 260), (300, 316), (400, 410)]
    assert level_bounds(later, 0, 1) == (250, 410)
    # a level nothing is kept in (a move from DRAM, a move of no byte): no bounds
    empty = LayerPlan(layer=layer(0), tiles=[tile(0, [Move(S, 64, True, 0, 10, level=0), glb(S, 0, 40, level=0)])])
    assert level_ranges(empty, 0, 1) == [] and level_bounds(empty, 0, 1) is None


def test_first_tile_over_names_the_first_tile_whose_operands_and_outputs_exceed_the_limit():
    from tlmsim.hw.controller import first_tile_over

    tiles = [tile(0, [glb(S, 60, 0)], [glb(O, 40, 0)]),  # 100 bytes
             tile(1, [glb(S, 50, 0), glb(W, 51, 0)]),  # 101
             tile(2, [], [glb(O, 200, 0)])]  # 200
    plan = LayerPlan(layer=layer(0), tiles=tiles)
    assert first_tile_over(plan, 100) is tiles[1]  # 100 is not over 100
    assert first_tile_over(plan, 99) is tiles[0]
    assert first_tile_over(plan, 101) is tiles[2]
    assert first_tile_over(plan, 200) is None
    assert first_tile_over(LayerPlan(layer=layer(0), tiles=[]), 0) is None


def test_a_load_two_cores_share_is_read_once_and_multicast_to_both_l1s():
    # tile 0 (core 0) loads the GLB weights [4096, +256) twice and its spikes; tile 1 (core 1) the
    # same weights once and its own spikes. The first occurrence on both cores is one transfer:
    # GLB read [0,10], one NoC multicast from the GLB to both L1s [10,20], each L1 writes its copy
    # at its own address [20,30]; tile 0's second copy and the spikes go to their core alone
    # (GLB read, NoC, L1 write [0,30]). Both tiles are in at 30 and compute 100 ns -> 130
    w = lambda: glb(W, 256, 4096)
    plan = LayerPlan(layer=layer(0), tiles=[tile(0, [w(), w(), glb(S, 64, 8192)], cycles=100),
                                            tile(1, [w(), glb(S, 64, 8256)], cycles=100)])
    noc = []

    def mk_noc(env, rec):
        noc.append(MulticastNoc(name="noc", env=env, recorder=rec, latency_ps=10 * NS))
        return noc[0]

    end, rec, ctrl, sink, _ = run([plan], cores=2, noc=mk_noc)
    assert end == 130
    assert noc[0].multicasts == [("glb", ("l1_0", "l1_1"), 256, 10 * NS)]
    assert [h[1:] for h in sink.hops if h[0] == "noc" and h[-1] == "l1_0+l1_1"] == [
        ("write", "weights", 0, 256, 0, 0, 10, 20, "glb", "l1_0+l1_1")]
    assert sorted(sink.of("glb")) == [("read", "spikes", 8192, 64, 0, 0, 0, 10), ("read", "spikes", 8256, 64, 0, 1, 0, 10),
                                      ("read", "weights", 4096, 256, 0, 0, 0, 10),
                                      ("read", "weights", 4096, 256, 0, 0, 0, 10)]
    assert sorted(sink.of("l1_0")) == [("read", "none", 0, 576, 0, 0, 30, 40),
                                       ("write", "spikes", 512, 64, 0, 0, 20, 30),
                                       ("write", "weights", 0, 256, 0, 0, 20, 30),
                                       ("write", "weights", 256, 256, 0, 0, 20, 30)]
    # the shared copy is booked under the tile that asked first (tile 0)
    assert sorted(sink.of("l1_1")) == [("read", "none", 0, 320, 0, 1, 30, 40),
                                       ("write", "spikes", 256, 64, 0, 1, 20, 30),
                                       ("write", "weights", 0, 256, 0, 0, 20, 30)]
    assert [h[-2:] for h in sink.hops if h[0] in ("l1_0", "l1_1") and h[1] == "write" and h[2] == "weights"] == [
        ("noc", "l1_0"), ("noc", "l1_1"), ("noc", "l1_0")]
    assert ctrl.stats.c["dma_blocks"] == 4
    assert rec.flows[("glb", "l1_0+l1_1", int(W), 0)] == 256 and rec.flows[("noc", "l1_1", int(W), 0)] == 256


def test_the_epilogue_drains_its_level_to_dram_after_the_tiles():
    # one 50-cycle tile without operands ends at 50; the epilogue then moves 64 B of membrane from the
    # outer level l2 at 7000 to DRAM 12345: l2 read [50,60], NoC [60,70], DRAM write [70,80]
    plan = LayerPlan(layer=layer(0), tiles=[tile(0, cycles=50)],
                     epilogue=[Move(M, 64, True, 12345, 7000, level=0)], resident_bytes={0: 64})
    end, _rec, ctrl, sink, lvls = run([plan], levels=("l2", "glb"))
    assert end == 80 and ctrl.layers[0].end_ps == 80 * NS
    assert [h[:9] for h in sink.hops if h[5] == -1 and h[6] == -1] == []  # every hop names its layer
    assert [h[:9] for h in sink.hops if h[0] != "pe_array"] == [
        ("l2", "read", "membrane", 7000, 64, 0, -1, 50, 60), ("noc", "write", "membrane", 0, 64, 0, -1, 60, 70),
        ("dram", "write", "membrane", 12345, 64, 0, -1, 70, 80)]
    assert [h[-2:] for h in sink.hops if h[0] != "pe_array"] == [("l2", "noc"), ("l2", "dram"), ("noc", "dram")]
    staging = 2 * 4 * 4096
    assert lvls[0].log == [("allocate", staging + 64, "layer 'l0' (resident tensors + DMA staging)"),
                           ("free", staging + 64)]
    assert lvls[1].log == [("allocate", staging, "layer 'l0' (resident tensors + DMA staging)"), ("free", staging)]


def test_two_weight_tensors_of_one_level_prefetch_together():
    # b's weights in two 4-KiB tensors of the GLB: one allocation of both, 8 KiB prefetched
    prologue = [Move(W, 4096, True, 0, 65536), Move(W, 4096, True, 4096, 69632)]
    end, nbytes, log = _prefetched(_layers_a_b(b_prologue=prologue))
    assert (end, nbytes) == (360, 8192)
    assert log[1] == ("allocate", 8192, "layer 'b' (prefetched weights)")


def test_a_weight_byte_at_the_bottom_of_the_level_is_in_the_staging_area():
    # one weight byte at GLB address 0 lies in the staging area [0, 8192): not prefetched
    plans = _layers_a_b(b_addr=0, b_prologue=[Move(W, 1, True, 0, 0)])
    plans[1].tiles[0].loads[0].nbytes = 1
    assert _prefetched(plans)[1] == 0
    plans = _layers_a_b(b_addr=STAGING, b_prologue=[Move(W, 1, True, 0, STAGING)])
    plans[1].tiles[0].loads[0].nbytes = 1
    assert _prefetched(plans)[1] == 1


def test_bytes_just_outside_an_arriving_tensor_do_not_wait_for_it():
    # the prologue: 128 B into the GLB at 1024 in two 64-B blocks; block 1's DRAM read takes 100 ns:
    # in at 120. Tiles reading [960, 1024) and [1152, 1216), just below and just above it, load at
    # once: [0,30] and [30,60], compute [30,50] and [60,80]; the layer ends when the prologue is in
    for reads in ((960, 64), (1152, 64)):
        plan = LayerPlan(layer=layer(0), prologue=[Move(W, 128, True, 0, 1024)], resident_bytes={0: 128},
                         tiles=[tile(0, [glb(W, reads[1], reads[0])])])
        end, rec, _ctrl, _sink, _ = run([plan], chunk=64, outstanding=2, dram=slow_dram({64: 100}))
        assert end == 120, reads
        assert stalls(rec) == {("pe_array", "waiting_for_operands", 0): (1, 30)}, reads


def test_one_core_names_no_core_in_the_loaders_wait():
    # single-buffered 128-B L1: tile 0 loads 32 B [0,30], computes [30,50], writes 96 output bytes
    # at 32 [50,60], which drain to DRAM [60,120]; tile 1's 96 B reach into them
    plan = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 32, 1000)], [dram(O, 96, 0)]), tile(1, [glb(S, 96, 3000)])])
    env, _rec, ctrl, _sink, _ = build([plan], double_buffered=False, l1_bytes=128)
    env.run(until=45 * NS)
    assert ctrl.describe_blocked() == (
        "compute waits for the PE array (layer 0, tile 0); "
        "loader waits for a free L1 half (queue 'l1 halves') (layer 0, tile 1); "
        "writer waits for outputs to store (queue 'outputs') (layer 0)")
    env.run(until=100 * NS)
    assert ctrl.describe_blocked() == (
        "compute waits for a loaded tile (queue 'ready tiles') (layer 0); "
        "loader waits for outputs draining out of L1 half 0 (layer 0, tile 1); "
        "writer waits for its DMA stores (L1/NoC/levels/DRAM) (layer 0, tile 0)")
    env.run(until=ctrl.done)
    assert env.now == 170 * NS  # tile 1: load [120,150], compute [150,170]
