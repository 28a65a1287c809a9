"""The controller run by hand, session 9 (tags s9ctl, s9ctlb): the mutants of
tlmsim/hw/controller.py's set-up, routes, transfers, loader and core schedule that the
other tests let live.

The rig and its conventions are tests/hw/controller_rig.py's: fixed-latency memories (10 ns
per hop), the array at 1 ns per cycle, every time computed by hand from the rules of the
module docstring of tlmsim/hw/controller.py.
"""

from __future__ import annotations

from tests.hw.controller_rig import NS, O, W, build, dram, glb, layer, run, tile
from tlmsim.engine.plan import LayerPlan, Move


# ------------------------------------------------------------------ a transfer's event order


def test_a_one_block_transfer_returns_in_the_event_that_ends_its_block():
    # 64 B from the GLB to L1 (one block, so one lane, run inline): GLB read [0,10], NoC [10,20], L1 write
    # [20,30], waited for with one timeout made at 0. A process started at 29 ns waits 1 ns: its timeout
    # is made after the block's, so at 30 the transfer's caller runs first (an event more, e.g. a join of
    # lanes, would put it after the bystander)
    env, _rec, ctrl, sink, _ = build([], chunk=64, outstanding=4)
    env.run(until=ctrl.done)  # no plans: done at 0
    log = []

    def mover():
        yield from ctrl.transfer(1, 2, glb(W, 64, 512), 128, 0, 0)
        log.append((env.now // NS, "transfer"))

    def bystander():
        yield env.timeout(29 * NS)
        yield env.timeout(1 * NS)
        log.append((env.now // NS, "bystander"))

    env.process(mover())
    env.process(bystander())
    env.run()
    assert log == [(30, "transfer"), (30, "bystander")]
    assert sink.of("l1") == [("write", "weights", 128, 64, 0, 0, 20, 30)]


# ------------------------------------------------------------------ the set-up: layer pipelining asked for


def _pair(b_addr=700):
    # two layers of one tile each, 600 resident weight bytes each in the GLB (at 100 and at b_addr), 8 output
    # bytes to DRAM
    a = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 600, 100)], [dram(O, 8, 0)])], resident_bytes={0: 600})
    b = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(W, 600, b_addr)], [dram(O, 8, 8)])], resident_bytes={0: 600})
    return [a, b]


def test_one_core_asked_to_pipeline_layers_runs_them_one_after_the_other():
    # one core: "pipeline" is split (no stage, no note, the loader named without a layer); the two layers
    # would fit the GLB together, so with stages the pairing would be tried (and need two cores)
    env, _rec, ctrl, _sink, _ = build(_pair(), chunk=8, outstanding=4, multicore="pipeline")
    env.run(until=5 * NS)
    assert ctrl.describe_blocked().startswith("compute waits for a loaded tile (queue 'ready tiles') (layer 0); "
                                              "loader waits for its DMA loads")
    env.run(until=ctrl.done)
    assert ctrl.pipeline_notes == {}
    assert [r.index for r in ctrl.layers] == [0, 1]
    split = build(_pair(), chunk=8, outstanding=4)
    split[0].run(until=split[2].done)
    assert env.now == split[0].now


def test_a_pair_refused_for_room_names_the_level_in_its_note():
    # two cores; staging 2 x 4 lanes x 8 B = 64 B; with both layers' 600 bytes the GLB would hold 1264 > 1200
    env, _rec, ctrl, _sink, _ = build(_pair(), cores=2, chunk=8, outstanding=4, level_bytes=1200,
                                      multicore="pipeline", multicast=True)
    env.run(until=ctrl.done)
    assert "the level 'glb' would hold 1264 bytes" in ctrl.pipeline_notes[0]


# ------------------------------------------------------------------ prefetch: always the next layer's weights


def test_each_layer_prefetches_the_weights_of_the_layer_after_it_not_of_a_later_one():
    # one lane of 4-KiB blocks: staging 2 x 4096 = 8192 B at the GLB's bottom.
    # a: one tile reading 64 resident bytes at 40000: load [0,30], compute 200 -> 230.
    # b: 8 KiB of weights from DRAM into the GLB at 65536, prefetched during a (its prologue is empty, so at 0):
    #    blocks [0,30], [30,60]; b starts at 230, its tile loads 4 KiB [230,260] and computes 100 -> 360.
    # c: 4 KiB of weights into the GLB at 131072, prefetched during b (b's prologue is in): [230,260];
    #    c starts at 360: load [360,390], compute 10 -> 400
    staging = 2 * 4096
    a = LayerPlan(layer=layer(0, "a"), tiles=[tile(0, [glb(W, 64, 40000)], cycles=200)], resident_bytes={0: 64})
    b = LayerPlan(layer=layer(1, "b"), tiles=[tile(0, [glb(W, 4096, 65536)], cycles=100)],
                  prologue=[Move(W, 8192, True, 0, 65536)], resident_bytes={0: 8192})
    c = LayerPlan(layer=layer(2, "c"), tiles=[tile(0, [glb(W, 4096, 131072)], cycles=10)],
                  prologue=[Move(W, 4096, True, 16384, 131072)], resident_bytes={0: 4096})
    end, _rec, ctrl, sink, lvls = run([a, b, c], outstanding=1)
    assert end == 400
    assert ctrl.stats.c["prefetched_bytes"] == 8192 + 4096
    assert lvls[0].log == [("allocate", staging + 64, "layer 'a' (resident tensors + DMA staging)"),
                           ("allocate", 8192, "layer 'b' (prefetched weights)"),
                           ("free", staging + 64),
                           ("allocate", staging, "layer 'b' (resident tensors + DMA staging)"),
                           ("allocate", 4096, "layer 'c' (prefetched weights)"),
                           ("free", staging + 8192),
                           ("allocate", staging, "layer 'c' (resident tensors + DMA staging)"),
                           ("free", staging + 4096)]
    assert [h[6:8] for h in sink.of("dram")] == [(0, 10), (30, 40), (230, 240)]


def test_with_layer_pipelining_each_stage_prefetches_the_weights_of_the_next_stage():
    # two cores asked to pipeline; three layers, each keeping 8 KiB of weights (prologue from DRAM) in a 24575-B
    # GLB with 8 KiB of staging (one lane of 4-KiB blocks): no two fit together, so each is a stage alone, and
    # each stage prefetches the next one's weights (clear of what it keeps and of the staging area)
    def lay(i, name):
        addr = 65536 + 8192 * i
        return LayerPlan(layer=layer(i, name), tiles=[tile(0, [glb(W, 64, addr)], cycles=10)],
                         prologue=[Move(W, 8192, True, 8192 * i, addr)], resident_bytes={0: 8192})

    _end, _rec, ctrl, _sink, lvls = run([lay(0, "a"), lay(1, "b"), lay(2, "c")], cores=2, outstanding=1,
                                        level_bytes=3 * 8192 - 1, multicore="pipeline", multicast=True)
    assert [len(st) for st in ctrl.stages] == [1, 1, 1]
    assert [x[2] for x in lvls[0].log if x[0] == "allocate" and "prefetched" in x[2]] == [
        "layer 'b' (prefetched weights)", "layer 'c' (prefetched weights)"]
    assert ctrl.stats.c["prefetched_bytes"] == 2 * 8192
