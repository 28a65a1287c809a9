"""The controller by hand, session 14 (tags s14ctl*): the module-level rules of
tlmsim/hw/controller.py that no earlier mutation run judged (``_common_bytes``,
``lockstep_schedule``, ``_space``, ``layer_hazards``), each value computed by hand from its
docstring, and the mutants of the controller's processes the other tests let live: mostly layer
pipelining (``Controller._run_stage``: a pair's room in the levels, its prefetch of the next layer,
its records, its waits as describe_blocked names them), run over two fixed-latency levels.

The moves are made with tests/hw/controller_rig.py's helpers; ``Move``'s fields in order:
data class, bytes, in DRAM, DRAM address, level address, after, signals, level span, level.
"""

from __future__ import annotations

import simpy

from tests.hw.controller_rig import (
    NS,
    Fixed,
    Hops,
    Level,
    MulticastNoc,
    O,
    S,
    W,
    dram,
    glb,
    layer,
    tile,
)
from tlmsim.engine.plan import LayerPlan, Move
from tlmsim.engine.recorder import Recorder
from tlmsim.hw.controller import (
    Controller,
    _common_bytes,
    _space,
    layer_hazards,
    lockstep_schedule,
)
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig

# ------------------------------------------------------------------ _common_bytes


def test_common_bytes_sums_the_overlap_of_every_pair_and_nothing_for_disjoint_ones():
    # a = [0,10) [20,30), b = [5,25) [40,50): [5,10) 5 B + [20,25) 5 B; the other pairs are apart
    # ([0,10) and [40,50): min 10 - max 40 = -30 counts 0, not -30)
    assert _common_bytes([(0, 10), (20, 30)], [(5, 25), (40, 50)]) == 10
    # touching ranges share no byte; one range inside another shares all of it
    assert _common_bytes([(0, 10)], [(10, 20)]) == 0
    assert _common_bytes([(100, 200)], [(120, 130)]) == 10
    assert _common_bytes([(120, 130)], [(100, 200)]) == 10
    assert _common_bytes([], [(0, 5)]) == 0


# ------------------------------------------------------------------ lockstep_schedule


def _plan(tiles):
    return LayerPlan(layer=layer(0), tiles=tiles)


def _sched(plan, n, **kw):
    """The schedule as (core, tile index) per step."""
    return [[(c, t.index) for c, t in step] for step in lockstep_schedule(plan, n, **kw)]


def _indep(i):
    # a tile with a load that waits for nothing and a store that signals nothing (after/signals None)
    return tile(i, [dram(S, 8, 64 * i)], [dram(O, 8, 4096 + 64 * i)])


def test_independent_tiles_fill_the_cores_in_plan_order():
    # 5 units on 2 cores: groups {0,1} {2,3} {4}, one step each (units of one tile)
    plan = _plan([_indep(i) for i in range(5)])
    assert _sched(plan, 2) == [[(0, 0), (1, 1)], [(0, 2), (1, 3)], [(0, 4)]]
    assert _sched(plan, 3) == [[(0, 0), (1, 1), (2, 2)], [(0, 3), (1, 4)]]
    assert _sched(plan, 1) == [[(0, i)] for i in range(5)]


def test_tiles_joined_by_keeps_state_run_on_one_core_in_order():
    # keeps_state joins a tile to the next: units [0,1] [2,3,4] [5]; on 2 cores group {u0, u1}: step r holds
    # the r-th tile of each unit (u0 has 2, u1 3: the third step has u1's only), then group {u2}
    tiles = [_indep(i) for i in range(6)]
    for i in (0, 2, 3):
        tiles[i].keeps_state = True
    assert _sched(_plan(tiles), 2) == [[(0, 0), (1, 2)], [(0, 1), (1, 3)], [(1, 4)], [(0, 5)]]


def _chain(i, after=None, signals=None):
    return tile(i, [dram(S, 8, 64 * i, after=after)], [dram(O, 8, 4096 + 64 * i, signals=signals)])


def test_a_unit_waiting_for_a_store_goes_to_a_later_group_and_the_next_ones_move_up():
    # tile 1 waits for tile 0's store (key a): it cannot join 0's group; tile 2 takes its place; tile 3 waits
    # for tile 1 (key b), placed in group 2 -> group 3. Tiles 0 and 2 load and store with after/signals None:
    # a store signalling None is no producer (were it one, every load waiting for None would wait for it)
    plan = _plan([_chain(0, signals=("a",)), _chain(1, after=("a",), signals=("b",)), _indep(2),
                  _chain(3, after=("b",)), _indep(4)])
    assert _sched(plan, 2) == [[(0, 0), (1, 2)], [(0, 1), (1, 4)], [(0, 3)]]
    # a load waiting for a key nobody signals waits for no unit
    lone = _plan([_chain(0, after=("nobody",)), _indep(1)])
    assert _sched(lone, 2) == [[(0, 0), (1, 1)]]


def test_a_unit_does_not_join_the_group_of_the_unit_it_waits_for_even_with_cores_free():
    # 3 cores: tile 1 waits for tile 0 -> groups {0, 2} and {1}
    plan = _plan([_chain(0, signals=("a",)), _chain(1, after=("a",)), _indep(2)])
    assert _sched(plan, 3) == [[(0, 0), (1, 2)], [(0, 1)]]


def test_the_lookahead_bounds_how_far_a_group_looks_for_units():
    # units 0 (signals a), 1 (waits for a), 2: lookahead 2 sees units 0 and 1 only -> {0} then {1, 2};
    # lookahead 3 (or the default) finds 2 for the first group -> {0, 2} then {1}
    plan = _plan([_chain(0, signals=("a",)), _chain(1, after=("a",)), _indep(2)])
    assert _sched(plan, 2, lookahead=2) == [[(0, 0)], [(0, 1), (1, 2)]]
    assert _sched(plan, 2, lookahead=3) == [[(0, 0), (1, 2)], [(0, 1)]]
    assert _sched(plan, 2, lookahead=1) == [[(0, 0)], [(0, 1)], [(0, 2)]]


def test_the_default_lookahead_is_256_units_the_controllers_too():
    # unit 0 signals a, units 1..255 wait for it, unit 256 waits for nothing: 256 units ahead of unit 0 are
    # units 0..255, so the first group is {0} alone (257 would take unit 256 beside it)
    tiles = [_chain(0, signals=("a",))] + [_chain(i, after=("a",)) for i in range(1, 256)] + [_indep(256)]
    plan = _plan(tiles)
    steps = _sched(plan, 2)
    assert steps[0] == [(0, 0)]
    assert steps[1] == [(0, 1), (1, 2)]
    assert steps[-1] == [(0, 255), (1, 256)]
    assert len(steps) == 1 + 128
    assert Controller.LOOKAHEAD == 256


# ------------------------------------------------------------------ _space


def test_space_names_dram_or_the_level_modulo_the_levels_and_the_byte_range():
    assert _space(Move(W, 100, True, 5000, 7, level=1), 2) == (("dram",), 5000, 5100)
    # a level move: its level modulo the number of levels (-1: the innermost; 3 of 2 levels: level 1)
    assert _space(Move(W, 100, False, 9, 300, level=-1), 2) == (("level", 1), 300, 400)
    assert _space(Move(W, 100, False, 9, 300, level=3), 2) == (("level", 1), 300, 400)
    assert _space(Move(W, 100, False, 9, 300, level=0), 3) == (("level", 0), 300, 400)
    # a wrapping resident load (level_span) covers its span only
    assert _space(Move(W, 100, False, 9, 300, level_span=16, level=2), 3) == (("level", 2), 300, 316)


# ------------------------------------------------------------------ layer_hazards


def _lv(dc, n, addr, level, **kw):
    return Move(dc, n, False, 0, addr, level=level, **kw)


def test_layer_hazards_by_hand():
    # two levels (0 and 1; -1 and 3 are level 1, 2 is level 0). p's accesses (tile indices 5, 6, 7):
    #   5: loads level 1 [1000,1100)        stores DRAM [5000,5050)
    #   6: loads level 0 [200,240)          stores level 1 [2000,2030)
    #   7: loads DRAM [5040,5104), level 1 [4000,4010) (500 B wrapping in a 10-B span)
    #                                       stores level 1 [3000,3016)
    p = LayerPlan(layer=layer(0), tiles=[
        tile(5, [_lv(W, 100, 1000, -1)], [dram(O, 50, 5000)]),
        tile(6, [_lv(S, 40, 200, 0)], [_lv(O, 30, 2000, -1)]),
        tile(7, [dram(S, 64, 5040), _lv(W, 500, 4000, 1, level_span=10)], [_lv(O, 16, 3000, 1)]),
    ])
    q = LayerPlan(layer=layer(1), tiles=[
        # 10: reads DRAM [5030,5050): 5's store (7's load of [5040,5104) is no write) -> raw {5};
        #     writes level 1 [1095,1105) (level 3): 5 loaded [1000,1100) -> war {(5, loaded)}
        tile(10, [dram(S, 20, 5030)], [_lv(O, 10, 1095, 3)]),
        # 11: reads level 1 [2029,2059) (6's store, one byte), [3016,3026) and [1992,2000) (touching 7's and 6's
        #     stores: no byte in common) -> raw {6}; writes DRAM [5100,5108) (7 loaded [5040,5104)), level 0
        #     [210,214) (6 loaded [200,240)), level 1 [3010,3015) (7 stored [3000,3016))
        tile(11, [_lv(W, 30, 2029, -1), _lv(W, 10, 3016, 1), _lv(W, 8, 1992, 1)],
             [dram(O, 8, 5100), _lv(O, 4, 210, 2), _lv(O, 5, 3010, 1)]),
        # 12: reads 1000 B wrapping in [2100,2150) (its span: clear of 7's store at 3000); writes level 1
        #     [4020,4026) (clear of 7's 10-B span at 4000) and 0 bytes at 1050 (an empty range: nothing)
        tile(12, [_lv(S, 1000, 2100, 1, level_span=50)], [_lv(O, 6, 4020, 1), _lv(O, 0, 1050, 1)]),
    ], prologue=[
        Move(W, 20, True, 9000, 1090, level=-1),  # level 1 [1090,1110): 5 loaded [1000,1100)
        Move(W, 10, True, 9100, 2030, level=-1),  # level 1 [2030,2040): touches 6's store only
        Move(W, 10, True, 9200, 205, level=2),  # level 0 [205,215): 6 loaded [200,240)
        Move(W, 4, True, 9300, 3012, level=1),  # level 1 [3012,3016): 7 stored [3000,3016)
        Move(W, 10, True, 9400, 990, level=1),  # level 1 [990,1000): ends where 5's load begins: nothing
    ])
    raw, war, fills = layer_hazards(p, q, 2)
    assert raw == {10: {5}, 11: {6}}
    assert war == {10: {(5, "loaded")}, 11: {(7, "loaded"), (6, "loaded"), (7, "stored")}}
    assert fills == {0: {(5, "loaded")}, 2: {(6, "loaded")}, 3: {(7, "stored")}}


def test_layer_hazards_with_nothing_of_p_in_the_space_are_empty():
    # p only touches DRAM; q reads and writes level 0 and 1 and fills level 1 at the same addresses: no hazard
    p = LayerPlan(layer=layer(0), tiles=[tile(0, [dram(W, 64, 0)], [dram(O, 64, 64)])])
    q = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 64, 0)], [_lv(O, 64, 64, 0)])],
                  prologue=[Move(W, 64, True, 0, 0, level=-1)])
    assert layer_hazards(p, q, 2) == ({}, {}, {})
    # the other way round: the DRAM bytes the second reads and writes, the first never touches
    assert layer_hazards(q, p, 2) == ({}, {}, {})


def test_a_fill_of_a_level_the_first_layer_does_not_use_is_skipped_and_the_next_fills_still_looked_at():
    # p loads level 1 [0,64); q fills level 0 [0,8) (p has nothing there) and then level 1 [32,40)
    p = LayerPlan(layer=layer(0), tiles=[tile(3, [_lv(W, 64, 0, 1)], [dram(O, 8, 0)])])
    q = LayerPlan(layer=layer(1), tiles=[tile(0, [dram(S, 8, 64)], [dram(O, 8, 128)])],
                  prologue=[Move(W, 8, True, 0, 0, level=0), Move(W, 8, True, 8, 32, level=1)])
    assert layer_hazards(p, q, 2) == ({}, {}, {1: {(3, "loaded")}})


# ------------------------------------------------------------------ _run_stage: a pair's room in the levels


def _two_level_pipeline(plans, *, cores=2, until=None, l1_bytes=1 << 20):
    """Two shared levels (``l2`` = level 0, ``glb`` = level 1: :class:`Level`, logging what they
    are asked to allocate and free), ``cores`` cores, fixed 10-ns hops, 64-B DMA blocks, 2 in
    flight (staging 2 x 2 x 64 = 256 B per level), layer pipelining pairing whatever fits."""
    env = simpy.Environment()
    sink = Hops()
    rec = Recorder(sinks=[sink])
    mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)
    lvls = [Level(name=n, env=env, recorder=rec, latency_ps=10 * NS, capacity_bytes=1 << 20) for n in ("l2", "glb")]
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=mk("dram"),
                      noc=MulticastNoc(name="noc", env=env, recorder=rec, latency_ps=10 * NS), levels=lvls,
                      l1=[Fixed(name=f"l1_{c}", env=env, recorder=rec, latency_ps=10 * NS, capacity_bytes=l1_bytes)
                          for c in range(cores)],
                      pe=[PeArray(name=f"pe_array_{c}", env=env, recorder=rec, config=PeArrayConfig(),
                                  clock_period_ps=NS, energy=EnergyTable()) for c in range(cores)],
                      plans=plans, chunk_bytes=64, outstanding=2, double_buffered=True, multicore="pipeline",
                      pairing="fit")
    if until is not None:  # stopped early: (controller, env)
        env.run(until=until)
        return ctrl, env
    env.run(until=ctrl.done)
    assert rec.issued == rec.completed
    return ctrl, lvls


def _three_layers(p_cycles=20):
    # a (layer 0) drains a tensor to DRAM after its last tile (an epilogue): alone; p (1) and q (2) a pair.
    # p: weights resident in the glb [1000,1040) and the l2 [400,430) (its prologue, prefetched while a runs),
    #    stores its outputs in the glb [2000,2064); a second tile of p_cycles that nobody reads
    # q: tile 0 reads p's outputs [2000,2064) (its 64 resident glb bytes: all in common with p) and its own l2
    #    weights [600,620) (its prologue); tile 1 reads p's outputs again (two waits for one store of p);
    #    its resident bytes keyed -1 (the glb) and 2 (level 2 of 2: the l2)
    a = LayerPlan(layer=layer(0), tiles=[tile(0, [dram(S, 8, 0)], [dram(O, 8, 64)])],
                  epilogue=[Move(O, 8, True, 128, 300, level=1)], resident_bytes={1: 8})
    p = LayerPlan(layer=layer(1), tiles=[
        tile(0, [glb(W, 40, 1000), Move(W, 30, False, 0, 400, level=0)], [glb(O, 64, 2000)]),
        tile(1, [glb(W, 40, 1000)], [dram(O, 8, 512)], cycles=p_cycles)],
        prologue=[Move(W, 40, True, 0, 1000, level=1), Move(W, 30, True, 512, 400, level=0)],
        resident_bytes={-1: 104, 0: 30})
    q = LayerPlan(layer=layer(2), tiles=[tile(0, [glb(S, 64, 2000), Move(W, 20, False, 0, 600, level=0)],
                                              [dram(O, 8, 256)]),
                                         tile(1, [glb(S, 64, 2000)], [dram(O, 8, 264)])],
                  prologue=[Move(W, 20, True, 1024, 600, level=0)], resident_bytes={-1: 64, 2: 20})
    return [a, p, q]


def _then(r_weights: Move, resident: dict):
    """:func:`_three_layers` and a layer r (3) after the pair, alone (the last layer): one tile reading
    ``r_weights`` (its prologue, resident: ``resident``), storing 8 B to DRAM."""
    w = r_weights
    r = LayerPlan(layer=layer(3), tiles=[tile(0, [Move(W, w.nbytes, False, 0, w.level_address, level=w.level)],
                                              [dram(O, 8, 1024)])], prologue=[w], resident_bytes=resident)
    return _three_layers() + [r]


def test_a_pipelined_pair_claims_staging_both_layers_resident_bytes_less_the_common_ones_less_the_prefetch():
    # level 0 (l2): staging 256 + p's 30 + q's 20 (nothing in common) = 306; level 1 (glb): 256 + p's 104 +
    # max(0, q's 64 - 64 in common) = 360. a's prefetch of p's weights claimed 30 and 40 of them before: the
    # stage asks for 276 and 320 and frees 306 and 360 after both layers
    ctrl, (l2, glb_) = _two_level_pipeline(_three_layers())
    assert ctrl.pipeline_notes[0].startswith("alone on cores 0-1: 'l0' drains")
    stage = "layers 'l1' and 'l2' (pipelined: resident tensors + DMA staging)"
    assert l2.log == [("allocate", 256, "layer 'l0' (resident tensors + DMA staging)"),
                      ("allocate", 30, "layer 'l1' (prefetched weights)"), ("free", 256),
                      ("allocate", 276, stage), ("free", 306)]
    assert glb_.log == [("allocate", 264, "layer 'l0' (resident tensors + DMA staging)"),
                        ("allocate", 40, "layer 'l1' (prefetched weights)"), ("free", 264),
                        ("allocate", 320, stage), ("free", 360)]
    assert [r.index for r in ctrl.layers] == [0, 1, 2]


def test_a_pair_s_records_stay_in_layer_order_when_the_second_layer_ends_first():
    # p's second tile computes 2000 ns (2000 cycles at 1 ns) and nobody waits for it; q's one tile waits for p's
    # first (a few hundred ns at 10 ns a hop): q ends first, its record is appended first, the stage puts the
    # pair's records back in layer order
    ctrl, _ = _two_level_pipeline(_three_layers(p_cycles=2000))
    by = {r.index: r for r in ctrl.layers}
    assert by[2].end_ps < by[1].start_ps + 2000 * NS < by[1].end_ps
    assert [r.index for r in ctrl.layers] == [0, 1, 2]


def test_the_second_layer_of_a_pair_prefetches_the_next_layer_s_weights_clear_of_both_layers():
    # r's weights in the l2 [800,816): clear of p's [400,430), q's [600,620) and the staging [0,256): q prefetches
    # them once its prologue is in (16 B claimed in the l2 during the stage); r then claims 256 + 16 - 16
    ctrl, (l2, glb_) = _two_level_pipeline(_then(Move(W, 16, True, 2048, 800, level=0), {0: 16}))
    stage = "layers 'l1' and 'l2' (pipelined: resident tensors + DMA staging)"
    r = "layer 'l3' (resident tensors + DMA staging)"
    assert l2.log[3:] == [("allocate", 276, stage), ("allocate", 16, "layer 'l3' (prefetched weights)"),
                          ("free", 306), ("allocate", 256, r), ("free", 272)]
    assert glb_.log[3:] == [("allocate", 320, stage), ("free", 360), ("allocate", 256, r), ("free", 256)]
    assert [x.index for x in ctrl.layers] == [0, 1, 2, 3]


def test_the_next_layer_s_weights_are_not_prefetched_over_the_first_layer_of_the_pair():
    # r's weights in the glb [1000,1040): where p's are (q keeps [2000,2064) there only): not prefetched while
    # the pair runs; r claims 256 + 40 itself after the stage
    _ctrl, (l2, glb_) = _two_level_pipeline(_then(Move(W, 40, True, 2048, 1000, level=1), {1: 40}))
    stage = "layers 'l1' and 'l2' (pipelined: resident tensors + DMA staging)"
    r = "layer 'l3' (resident tensors + DMA staging)"
    assert glb_.log[3:] == [("allocate", 320, stage), ("free", 360), ("allocate", 296, r), ("free", 296)]
    assert l2.log[3:] == [("allocate", 276, stage), ("free", 306), ("allocate", 256, r), ("free", 256)]


def test_the_second_layer_s_writer_says_it_waits_for_the_first_layer_s_reads_of_the_bytes_it_overwrites():
    # p (core 0): three tiles reading the glb weights [1000,1032), the first computing 500 ns: the third
    # loads into the first's L1 half once that has computed (after 500 ns). q (core 1): one tile from DRAM
    # whose outputs go to the glb at [1000,1016), over p's weights: its writer waits for p's third load.
    # At 300 ns q's tile has long computed (its loads take 6 hops, 60 ns; 20 ns; its L1 write 10 ns)
    p = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 32, 1000)], [dram(O, 8, 0)], cycles=500),
                                         tile(1, [glb(W, 32, 1000)], [dram(O, 8, 8)]),
                                         tile(2, [glb(W, 32, 1000)], [dram(O, 8, 16)])])
    q = LayerPlan(layer=layer(1), tiles=[tile(0, [dram(S, 8, 64)], [glb(O, 16, 1000)])])
    ctrl, env = _two_level_pipeline([p, q], until=300 * NS)
    assert "writer 1 waits for the previous layer's accesses to the bytes it overwrites (layer 1, tile 0)" in \
        ctrl.describe_blocked()
    env.run(until=ctrl.done)
    assert [r.index for r in ctrl.layers] == [0, 1]


def test_a_pipelined_layer_s_loader_says_it_waits_for_outputs_draining_out_of_an_l1_half():
    # L1s of 128 B: halves [0,64) and [64,128). p (core 0): tiles of 32 load bytes (glb, 3 hops: 30 ns) and 48
    # output bytes (at the top of the half: [16,64)) to DRAM. Tile 0 loads [0,30], computes [30,50], writes
    # its outputs [50,60] and frees half 0; tile 1 loads into half 1 [30,60]; tile 2 takes half 0 at 60, but its
    # 32 bytes reach into tile 0's outputs, which drain until they are in DRAM (L1 read, NoC, glb staging write
    # and read, NoC, l2 staging write and read, NoC, DRAM write: [60,150]): at 100 the loader waits for them
    p = LayerPlan(layer=layer(0), tiles=[tile(i, [glb(W, 32, 1000)], [dram(O, 48, 64 * i)]) for i in range(3)])
    q = LayerPlan(layer=layer(1), tiles=[tile(0, [dram(S, 8, 1024)], [dram(O, 8, 1088)])])
    ctrl, env = _two_level_pipeline([p, q], until=100 * NS, l1_bytes=128)
    assert "loader 0 waits for outputs draining out of L1 half 0 of core 0 (layer 0, tile 2)" in ctrl.describe_blocked()
    env.run(until=ctrl.done)
    assert [r.index for r in ctrl.layers] == [0, 1]


def test_a_pipelined_layer_that_ended_leaves_nothing_in_describe_blocked_while_the_other_runs():
    # p (layer 0, core 0): three tiles reading the glb weights [1000,1032); tile 0 computes 500 ns, so tile 2
    # loads after 500 ns, and computes 5000 ns. q (layer 1, core 1): one tile from DRAM to DRAM (done within
    # some 200 ns) and a prologue fill of [1000,1016) in the glb, over p's weights: it waits for p's three
    # loads, so q's tiles end before its resident tensor is in, and q waits for it ("controller"). Once q's
    # record is made, nothing of layer 1 is left among the waits, while p still computes
    p = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 32, 1000)], [dram(O, 8, 0)], cycles=500),
                                         tile(1, [glb(W, 32, 1000)], [dram(O, 8, 8)]),
                                         tile(2, [glb(W, 32, 1000)], [dram(O, 8, 16)], cycles=5000)])
    q = LayerPlan(layer=layer(1), tiles=[tile(0, [dram(S, 8, 64)], [dram(O, 8, 128)])],
                  prologue=[Move(W, 16, True, 2048, 1000, level=1)], resident_bytes={1: 16})
    ctrl, env = _two_level_pipeline([p, q], until=1)
    seen = set()
    while not ctrl.layers:
        env.step()
        seen.add(ctrl.describe_blocked())
    waits = [s for s in seen if "controller waits for the layer's resident tensors to arrive (layer 1)" in s]
    assert waits
    # while q waits for its prologue, its loader, compute and writer (theirs ended) are not listed
    assert all("loader 1 " not in s and "compute 1 " not in s and "writer 1 " not in s for s in waits)
    assert [r.index for r in ctrl.layers] == [1]
    left = ctrl.describe_blocked()
    assert "(layer 1" not in left and "controller" not in left and "compute 0 waits for the PE array (layer 0" in left
    env.run(until=ctrl.done)
    assert [r.index for r in ctrl.layers] == [0, 1]


def test_the_first_layer_of_a_pair_ending_keeps_the_second_layer_s_store_signals():
    # p (layer 0, core 0): one short tile. q (layer 1, core 1): tile 0 computes 500 ns and its store signals
    # (1, "membrane", 0, 0) (the dataflows' key: layer index first); tile 1 waits for it. p ends while q's loader
    # waits for that signal: p's clean-up drops p's signals only, so q's writer fires the event q's loader waits
    # for and q ends (its tile 1 loads once tile 0's store is out)
    key = (1, "membrane", 0, 0)
    p = LayerPlan(layer=layer(0), tiles=[tile(0, [dram(S, 8, 0)], [dram(O, 8, 8)])])
    q = LayerPlan(layer=layer(1), tiles=[tile(0, [dram(S, 8, 64)], [dram(O, 8, 128, signals=key)], cycles=500),
                                         tile(1, [dram(S, 8, 128, after=key)], [dram(O, 8, 192)])])
    ctrl, env = _two_level_pipeline([p, q], until=1)
    while not ctrl.layers:
        env.step()
    assert [r.index for r in ctrl.layers] == [0]
    assert "loader 1 waits for the store (1, 'membrane', 0, 0) it depends on (layer 1, tile 1)" in ctrl.describe_blocked()
    env.run(until=ctrl.done)
    assert [r.index for r in ctrl.layers] == [0, 1]
