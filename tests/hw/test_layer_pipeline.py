"""Layer pipelining (pe_array.multicore: pipeline, docs/hierarchy.md "Layer pipelining"):
two consecutive layers at once on disjoint core groups, by hand (fixed 10 ns hops, the
array at 1 ns per cycle: the rules of tests/hw/test_controller_by_hand.py); the pairing
rule, its fallbacks and refusals; the default unchanged."""

from __future__ import annotations

import pytest
import simpy

from tests.hw.test_controller import NS, Fixed
from tests.hw.test_controller_by_hand import Hops, Level, MulticastNoc, dram, glb, layer, stalls, tile
from tlmsim.engine.plan import LayerPlan, Move
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import DataClass
from tlmsim.errors import ConfigError
from tlmsim.hw.controller import Controller, Rates, alone_cycles, layer_timeline, pair_cycles, pipeline_stages
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform import load_platform
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig

W, S, O = DataClass.WEIGHTS, DataClass.SPIKES, DataClass.OUT_SPIKES


def build(plans, *, cores=2, multicore="pipeline", capacity=1 << 20, pairing="fit"):
    """A controller over fixed 10 ns hops; ``pairing`` "fit" (the default here) pairs whatever
    fits, so the hand examples of how a pair runs stay pairs whatever the estimate says."""
    env = simpy.Environment()
    sink = Hops()
    rec = Recorder(sinks=[sink])
    mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)  # noqa: E731
    glb_ = Level(name="glb", env=env, recorder=rec, latency_ps=10 * NS)
    glb_.capacity_bytes = capacity
    l1 = [mk(f"l1_{c}") for c in range(cores)]
    pe = [PeArray(name=f"pe_array_{c}", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=NS,
                  energy=EnergyTable()) for c in range(cores)]
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=mk("dram"),
                      noc=MulticastNoc(name="noc", env=env, recorder=rec, latency_ps=10 * NS), levels=[glb_],
                      l1=l1, pe=pe, plans=plans, chunk_bytes=4096, outstanding=4, double_buffered=True,
                      multicore=multicore, pairing=pairing)
    return env, rec, ctrl, sink, glb_


def run(plans, **kw):
    env, rec, ctrl, sink, glb_ = build(plans, **kw)
    env.run(until=ctrl.done)
    assert rec.issued == rec.completed
    return env.now // NS, rec, ctrl, sink, glb_


def producer():
    """Layer 0: two tiles, each reads the GLB weights at 1000 and stores 64 output bytes at
    2000 + 64 i in the GLB."""
    return LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 32, 1000)], [glb(O, 64, 2000)]),
                                            tile(1, [glb(W, 32, 1000)], [glb(O, 64, 2064)])])


def test_the_second_layer_s_first_tile_starts_when_the_rows_it_reads_are_stored():
    # layer 0 on core 0: tile 0 loads [0,30] (GLB read, NoC, L1 write), computes [30,50], writes its
    # outputs into L1 [50,60]; the writer: L1 read, NoC, GLB write [60,90]: stored at 90.
    # tile 1 loads [30,60], computes [60,80], L1 [80,90], stored [90,120].
    # layer 1 on core 1: tile 0 reads tile 0's outputs (2000..2064): waits to 90, loads [90,120],
    # computes [120,140], L1 [140,150], stores to DRAM (L1 read, NoC, GLB staging write + read,
    # NoC, DRAM write) [150,210]; tile 1 reads 2064..2128, stored at 120: loads [120,150], computes
    # [150,170], L1 [170,180], its store waits for the writer (to 210): [210,270].
    consumer = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 64, 2000)], [dram(O, 8, 0)]),
                                                tile(1, [glb(S, 64, 2064)], [dram(O, 8, 8)])])
    end, rec, ctrl, sink, _ = run([producer(), consumer])
    assert end == 270
    # the estimate (compute only: these test doubles give no rates) says the pair loses: layer 0 on
    # one core stores at 20 and 40, layer 1's tiles wait for them: 60; one after the other on both
    # cores 20 + 20 = 40 (measured here: 270 ns against 210 ns)
    figures = "(est. 60 cycles together vs 40 one after the other)"
    assert ctrl.pipeline_notes == {0: f"with 'l1' on core 0 {figures}", 1: f"with 'l0' on core 1 {figures}"}
    assert [(r.index, r.start_ps // NS, r.end_ps // NS) for r in ctrl.layers] == [(0, 0, 120), (1, 0, 270)]
    assert [h[:8] for h in sink.of("l1_1")][:2] == [
        ("write", "spikes", 0, 64, 1, 0, 110, 120), ("read", "spikes", 0, 64, 1, 0, 120, 130)]
    assert [h for h in sink.of("glb") if h[0] == "write" and h[4] == 0] == [
        ("write", "out_spikes", 2000, 64, 0, 0, 80, 90), ("write", "out_spikes", 2064, 64, 0, 1, 110, 120)]
    assert [h[6:8] for h in sink.of("dram")] == [(200, 210), (260, 270)]
    assert stalls(rec)[("controller", "layer_dependency", 1)] == (1, 90)


def test_each_pipelined_layer_s_loader_says_what_it_waits_for():
    consumer = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 64, 2000)], [dram(O, 8, 0)])])
    env, _rec, ctrl, _sink, _ = build([producer(), consumer])
    env.run(until=45 * NS)  # layer 0's tile 0 computes, tile 1 loads; layer 1 waits for tile 0's store
    assert ctrl.describe_blocked() == (
        "compute 0 waits for the PE array (layer 0, tile 0); "
        "compute 1 waits for a loaded tile (queue 'ready tiles') (layer 1); "
        "loader 0 waits for its DMA loads (DRAM/NoC/levels/L1) (layer 0, tile 1); "
        "loader 1 waits for the previous layer's stores it reads (layer 1, tile 0); "
        "writer 0 waits for outputs to store (queue 'outputs') (layer 0); "
        "writer 1 waits for outputs to store (queue 'outputs') (layer 1)")


def test_split_runs_the_same_layers_one_after_the_other():
    consumer = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 64, 2000)], [dram(O, 8, 0)]),
                                                tile(1, [glb(S, 64, 2064)], [dram(O, 8, 8)])])
    end, _rec, ctrl, _sink, _ = run([producer(), consumer], multicore="split")
    assert ctrl.stages is None and ctrl.pipeline_notes == {}
    # both tiles of a layer at once on the two cores (the shared weights loaded once): layer 0
    # loads [0,30], computes [30,50], L1 [50,60], stores [60,90]; layer 1 from 90: loads [90,120],
    # computes [120,140], L1 [140,150], stores to DRAM [150,210]
    assert [(r.start_ps // NS, r.end_ps // NS) for r in ctrl.layers] == [(0, 90), (90, 210)]
    assert end == 210


def test_a_pair_with_no_expected_gain_runs_one_layer_after_the_other_as_with_split():
    consumer = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 64, 2000)], [dram(O, 8, 0)]),
                                                tile(1, [glb(S, 64, 2064)], [dram(O, 8, 8)])])
    end, _rec, ctrl, _sink, _ = run([producer(), consumer], pairing="gain")
    assert ctrl.pipeline_notes == {
        0: "alone on cores 0-1: no expected gain with 'l1' (est. 60 cycles together vs 40 one after the other)",
        1: "alone on cores 0-1: the last layer"}
    assert [(r.start_ps // NS, r.end_ps // NS) for r in ctrl.layers] == [(0, 90), (90, 210)] and end == 210
    with pytest.raises(ValueError, match="pairing 'all'"):
        build([producer(), consumer], pairing="all")


def test_a_store_waits_until_the_layer_beside_it_has_read_the_bytes_it_overwrites():
    # layer 1 (core 1) writes over layer 0's weights at 1000, which both of layer 0's tiles read
    # (loaded at 30 and 60): layer 1's tile loads its own spikes [0,30], computes [30,40] (5 cycles,
    # but its operands stream out of L1 for 10 ns), L1 [40,50]; its store waits [50,60], then L1
    # read, NoC, GLB write [60,90]
    over = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 64, 5000)], [glb(O, 32, 1000)], cycles=5)])
    end, rec, ctrl, sink, _ = run([producer(), over])
    assert [(r.index, r.start_ps // NS, r.end_ps // NS) for r in ctrl.layers] == [(0, 0, 120), (1, 0, 90)]
    assert stalls(rec)[("controller", "layer_overwrite", 1)] == (1, 10)
    assert ("write", "out_spikes", 1000, 32, 1, 0, 80, 90) in sink.of("glb")
    assert end == 120


def test_a_prologue_fill_waits_for_the_reads_of_the_bytes_it_overwrites():
    # layer 1 keeps weights at 1000 (a prologue fill from DRAM) where layer 0 reads its weights
    # (loaded at 30 and 60): the fill waits to 60, then DRAM read, NoC, GLB write [60,90]; layer 1's
    # tile reads them: loads [90,120], computes [120,140], L1 [140,150], stores [150,210]
    nxt = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(W, 32, 1000)], [dram(O, 8, 0)])],
                    prologue=[Move(W, 32, True, 4096, 1000)], resident_bytes={0: 32})
    end, rec, ctrl, sink, _ = run([producer(), nxt])
    assert stalls(rec)[("controller", "layer_overwrite", 1)] == (1, 60)
    assert [h[:8] for h in sink.of("dram")][0] == ("read", "weights", 4096, 32, 1, -1, 60, 70)
    assert end == 210


def test_cores_are_split_to_minimise_the_pair_s_estimate():
    big = LayerPlan(layer=layer(0), tiles=[tile(i, cycles=100) for i in range(6)])
    small = LayerPlan(layer=layer(1), tiles=[tile(i, cycles=100) for i in range(2)])
    none = Rates(levels=(0.0,))
    # on k cores: groups of k units, each step as long as its longest tile
    assert [layer_timeline(big, k, none)[0] for k in (1, 2, 3, 4)] == [600, 300, 200, 200]
    chained = LayerPlan(layer=layer(2), tiles=[tile(0, cycles=50, keeps_state=True), tile(1, cycles=70),
                                               tile(2, cycles=30)])
    # units (50, 70) and (30): one core 150; two: step 0 max(50, 30), step 1 70
    assert [layer_timeline(chained, k, none)[0] for k in (1, 2)] == [150, 120]
    # 4 cores: big on 3 (200) beside small on 1 (200); on 2 beside 2: max(300, 100); on 1: 600
    assert [pair_cycles(big, small, k, 4, none) for k in (1, 2, 3)] == [600, 300, 200]
    # one after the other on 4 cores: 200 + 100
    assert alone_cycles(big, 4, none) + alone_cycles(small, 4, none) == 300
    stages, notes = pipeline_stages([big, small], 4, [1 << 20], 0)
    assert [[(p.layer.index, c) for p, c in st] for st in stages] == [[(0, (0, 1, 2)), (1, (3,))]]
    figures = "(est. 200 cycles together vs 300 one after the other)"
    assert notes == {0: f"with 'l1' on cores 0-2 {figures}", 1: f"with 'l0' on core 3 {figures}"}


def test_a_step_lasts_its_longest_part_compute_link_dram_or_level():
    # two tiles side by side; both load the same 400 DRAM bytes (fetched once), each 100 GLB bytes
    # of its own; tile 0 stores 200 bytes into the GLB
    step = [(0, tile(0, [dram(W, 400, 0), glb(S, 100, 5000)], [glb(O, 200, 9000)], cycles=10)),
            (1, tile(1, [dram(W, 400, 0), glb(S, 100, 5100)], [], cycles=30))]
    plan = LayerPlan(layer=layer(0), tiles=[t for _, t in step])
    # DRAM 400 bytes; GLB: the DRAM block staged (written and read) 800 + reads 100 + 100 + the
    # store 200 = 1200; core 0's link 400 + 100 + 200 = 700, core 1's 500; compute 30
    def cycles(**kw):
        return layer_timeline(plan, 2, Rates(**{"dram": 100.0, "levels": (100.0,), "link": 50.0, **kw}))[0]

    assert cycles() == 30  # compute (DRAM 4, GLB 12, link 14)
    assert cycles(dram=10.0) == 40  # 400 / 10
    assert cycles(levels=(20.0,)) == 60  # 1200 / 20
    assert cycles(link=20.0) == 35  # 700 / 20
    assert cycles(dram=0.0, levels=(0.0,), link=0.0) == 30  # no rate: no limit
    # alone: at least the layer's bytes over the rates, the loads counted per tile here (800 DRAM),
    # plus the epilogue's DRAM bytes after the last tile
    assert alone_cycles(plan, 2, Rates(dram=10.0, levels=(0.0,))) == 80
    drained = LayerPlan(layer=layer(0), tiles=plan.tiles, epilogue=[Move(O, 50, True, 0, 9000)])
    # the tiles' 800 bytes: 80, then the 50 drained bytes: 5
    assert alone_cycles(drained, 2, Rates(dram=10.0, levels=(0.0,))) == 85
    # a prologue (DRAM -> the GLB) counts before the last tile: 800 + 200 bytes, 100; in the GLB the
    # tiles' 1600 (DRAM blocks staged) + 100 + 100 + 200 = 2000 and the fill's 200 written: 2200 / 20 = 110
    filled = LayerPlan(layer=layer(0), tiles=plan.tiles, prologue=[Move(W, 200, True, 0, 12000)])
    assert alone_cycles(filled, 2, Rates(dram=10.0, levels=(0.0,))) == 100
    assert alone_cycles(filled, 2, Rates(levels=(20.0,))) == 110


def test_the_pair_estimate_waits_for_the_stores_it_reads_and_the_reads_it_overwrites():
    # producer: 4 tiles of 10 cycles storing 64 bytes each at 2000 + 64 i; on 2 cores steps [0,10]
    # (tiles 0, 1) and [10,20] (tiles 2, 3)
    prod = LayerPlan(layer=layer(0), tiles=[tile(i, [glb(W, 32, 1000)], [glb(O, 64, 2000 + 64 * i)], cycles=10)
                                            for i in range(4)])
    none = Rates(levels=(0.0,))
    # consumer tile j reads the producer's tile 3 - j: tile 0 waits for 20, tile 1 for 20, ...
    late = LayerPlan(layer=layer(1), tiles=[tile(j, [glb(S, 64, 2000 + 64 * (3 - j))], [dram(O, 8, 8 * j)],
                                                 cycles=5) for j in range(2)])
    # on 2 + 2 cores: consumer's one step (tiles 0, 1) starts at 20 (tile 0 reads tile 3), ends 25
    assert pair_cycles(prod, late, 2, 4, none) == 25
    # on 3 + 1: producer steps [0,10] (0-2), [10,20] (3); consumer tile 0 from 20 to 25, tile 1 (reads
    # tile 2, stored at 10) from 25 to 30
    assert pair_cycles(prod, late, 3, 4, none) == 30
    # one after the other on 4 cores: 10 + 5 = 15 > 25: not paired, and the note says so
    stages, notes = pipeline_stages([prod, late], 4, [1 << 20], 0)
    assert [[p.layer.index for p, _ in st] for st in stages] == [[0], [1]]
    assert notes[0] == ("alone on cores 0-3: no expected gain with 'l1' (est. 25 cycles together vs 15 one "
                        "after the other)")
    assert pipeline_stages([prod, late], 4, [1 << 20], 0, by_gain=False)[1][0] == (
        "with 'l1' on cores 0-1 (est. 25 cycles together vs 15 one after the other)")
    # a consumer whose store overwrites the producer's weights at 1000 (read by all 4 tiles): its
    # 1-cycle tile may not end before the producer's last load of them, 30 with the producer on one
    # core (steps of one tile: the pair 40), 10 on 2 or 3 (the last step loads at 10: the pair 20)
    over = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 8, 9000)], [glb(O, 8, 1000)], cycles=1)])
    assert [pair_cycles(prod, over, k, 4, none) for k in (1, 2, 3)] == [40, 20, 20]
    # a prologue fill over the producer's weights delays the consumer's first step to their last
    # load (10 on 2 cores): its 15-cycle tile 10 -> 25, after the producer's end (20)
    filled = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 8, 9000)], [dram(O, 8, 0)], cycles=15)],
                       prologue=[Move(W, 32, True, 0, 1000)], resident_bytes={0: 32})
    assert pair_cycles(prod, filled, 2, 4, none) == 25


def test_memory_bound_layers_gain_from_pairing_when_the_consumer_streams_behind():
    # producer: 8 tiles of 10 cycles each loading 400 DRAM bytes of its own (DRAM 10 bytes a
    # cycle: 40 cycles a tile, 80 a step of 2 on 2 cores: the DRAM bounds it whatever the cores);
    # consumer tile j reads producer tile j's outputs
    rates = Rates(dram=10.0, levels=(0.0,))
    prod = LayerPlan(layer=layer(0), tiles=[tile(i, [dram(W, 400, 400 * i)], [glb(O, 8, 8000 + 8 * i)], cycles=10)
                                            for i in range(8)])
    cons = LayerPlan(layer=layer(1), tiles=[tile(j, [glb(S, 8, 8000 + 8 * j)], [glb(O, 8, 9000 + 8 * j)],
                                                 cycles=40) for j in range(8)])
    # alone: the producer 3200 DRAM bytes: 320 cycles on any cores; the consumer 8 x 40 on 4 cores: 2 steps, 80
    assert alone_cycles(prod, 4, rates) == 320 and alone_cycles(cons, 4, rates) == 80
    # 3 + 1: producer steps of 3, 3, 2 tiles: 120, 120, 80 (ends 120, 240, 320); the consumer's tile j
    # waits for its producer tile, 40 cycles each: 0-2 at 120-240, 3-5 at 240-360, 6-7 at 360-440
    assert pair_cycles(prod, cons, 3, 4, rates) == 440
    # 2 + 2: producer steps of 80 (ends 80, 160, 240, 320); consumer steps of 2 tiles (40) each after its pair
    assert pair_cycles(prod, cons, 2, 4, rates) == 360
    # 1 + 3: producer steps of 40 (ends 40 .. 320); consumer on 3 cores: steps (0-2) waits for 120, ends 160;
    # (3-5) from 240 to 280; (6, 7) from 320 to 360
    assert pair_cycles(prod, cons, 1, 4, rates) == 360
    stages, notes = pipeline_stages([prod, cons], 4, [1 << 20], 0, rates=rates)
    assert [[(p.layer.index, c) for p, c in st] for st in stages] == [[(0, (0,)), (1, (1, 2, 3))]]
    assert notes[1] == "with 'l0' on cores 1-3 (est. 360 cycles together vs 400 one after the other)"


def test_a_pair_that_does_not_fit_the_level_runs_one_layer_after_the_other_with_the_reason():
    # each layer keeps 600 bytes (weights at 100 and 700) in the innermost level (-1: the GLB); with 64
    # staging bytes the pair needs 1264
    a = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 600, 100)], [dram(O, 8, 0)])], resident_bytes={-1: 600})
    b = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(W, 600, 700)], [dram(O, 8, 8)])], resident_bytes={-1: 600})
    stages, notes = pipeline_stages([a, b], 2, [1200], 64, ["glb"])
    assert [[(p.layer.index, c) for p, c in st] for st in stages] == [[(0, (0, 1))], [(1, (0, 1))]]  # every core
    assert notes[0] == ("alone on cores 0-1: with 'l1' the level 'glb' would hold 1264 bytes (staging 64 + both "
                        "layers' resident tensors), more than its 1200")
    assert notes[1] == "alone on cores 0-1: the last layer"
    # bytes the two keep at the same addresses (the first's outputs, the second's inputs) count once
    c = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 600, 100)], [dram(O, 8, 8)])], resident_bytes={0: 600})
    stages, _ = pipeline_stages([a, c], 2, [1200], 64, ["glb"])
    assert [[p.layer.index for p, _ in st] for st in stages] == [[0, 1]]
    # 64 + 600 + 0 = 664 bytes: a level of exactly 664 takes the pair, one of 663 does not
    assert [len(st) for st in pipeline_stages([a, c], 2, [664], 64, ["glb"])[0]] == [2]
    assert [len(st) for st in pipeline_stages([a, c], 2, [663], 64, ["glb"])[0]] == [1, 1]
    # run (4 lanes of 4096 bytes: 32 KiB staging): the level is claimed once for the pair, staging
    # + 600 (+ 0 for c's shared bytes)
    _end, _rec, _ctrl, _sink, lvl = run([a, c])
    assert [x for x in lvl.log if x[0] == "allocate"] == [
        ("allocate", 2 * 4 * 4096 + 600, "layers 'l0' and 'l1' (pipelined: resident tensors + DMA staging)")]


def test_a_layer_with_no_tile_or_an_epilogue_is_not_paired():
    empty = LayerPlan(layer=layer(0, "flatten"), tiles=[])
    a = LayerPlan(layer=layer(1), tiles=[tile(0, [], [dram(O, 8, 0)])], epilogue=[Move(O, 8, True, 64, 0)])
    c = LayerPlan(layer=layer(2), tiles=[tile(0, [], [dram(O, 8, 8)])])
    d = LayerPlan(layer=layer(3), tiles=[tile(0, [], [dram(O, 8, 16)])])
    # the layer with no tile named when it is the second one
    assert pipeline_stages([d, empty], 2, [1 << 20], 0)[1][3] == "alone on cores 0-1: 'flatten' has no tile"
    e = LayerPlan(layer=layer(4), tiles=[tile(0, [], [dram(O, 8, 24)])])
    stages, notes = pipeline_stages([empty, a, c, d, e], 2, [1 << 20], 0)
    assert notes == {0: "alone on cores 0-1: 'flatten' has no tile",
                     1: "alone on cores 0-1: 'l1' drains a tensor to DRAM after its last tile",
                     2: "with 'l3' on core 0 (est. 20 cycles together vs 40 one after the other)",
                     3: "with 'l2' on core 1 (est. 20 cycles together vs 40 one after the other)",
                     4: "alone on cores 0-1: the last layer"}  # the layer after a pair is considered next
    assert [[p.layer.index for p, _ in st] for st in stages] == [[0], [1], [2, 3], [4]]


def test_pipelining_needs_two_cores_refused_in_one_line_naming_the_key(tmp_path, capsys):
    with pytest.raises(ConfigError) as err:
        load_platform("platforms/mesh-4core.yaml", ["pe_array.cores=1", "pe_array.multicore=pipeline"])
    text = str(err.value)
    assert "\n" not in text and "pe_array.multicore" in text and "pe_array.cores is 1" in text
    from tlmsim.cli import main

    f = tmp_path / "p.yaml"
    f.write_text("name: one\npe_array: {multicore: pipeline}\n")
    assert main(["validate", str(f)]) == 2
    out = capsys.readouterr().err.strip()
    assert len(out.splitlines()) == 1 and "pe_array.multicore" in out and str(f) in out
    with pytest.raises(ConfigError, match="pe_array.multicore"):
        load_platform("platforms/mesh-4core.yaml", ["pe_array.multicore=layers"])


def test_the_default_is_split():
    assert load_platform("platforms/mesh-4core.yaml").pe_array.multicore == "split"


def test_a_pair_must_gain_at_least_a_cycle():
    # two DRAM-bound layers (1000 bytes at 10 a cycle, 1 cycle of compute): 100 each alone, and
    # together the DRAM still moves 2000 bytes: 200 against 100 + 100, no gain
    rates = Rates(dram=10.0, levels=(0.0,))
    a = LayerPlan(layer=layer(0), tiles=[tile(0, [dram(W, 1000, 0)], [glb(O, 8, 9000)], cycles=1)])
    b = LayerPlan(layer=layer(1), tiles=[tile(0, [dram(W, 1000, 4000)], [glb(O, 8, 9008)], cycles=1)])
    _stages, notes = pipeline_stages([a, b], 2, [1 << 20], 0, rates=rates)
    assert notes[0] == ("alone on cores 0-1: no expected gain with 'l1' (est. 200 cycles together vs 200 one "
                        "after the other)")
    # the same with GLB-bound layers (1000 GLB bytes each at 10 a cycle, plus 8 stored)
    a = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 992, 0)], [glb(O, 8, 9000)], cycles=1)])
    b = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(W, 992, 4000)], [glb(O, 8, 9008)], cycles=1)])
    _stages, notes = pipeline_stages([a, b], 2, [1 << 20], 0, rates=Rates(levels=(10.0,)))
    assert notes[0] == ("alone on cores 0-1: no expected gain with 'l1' (est. 200 cycles together vs 200 one "
                        "after the other)")
    # 3 cores: two 10-cycle tiles on 2 beside a 1-cycle tile on 1: 10 against 10 + 1, a gain of one cycle
    p = LayerPlan(layer=layer(0), tiles=[tile(i, cycles=10) for i in range(2)])
    q = LayerPlan(layer=layer(1), tiles=[tile(0, cycles=1)])
    _stages, notes = pipeline_stages([p, q], 3, [1 << 20], 0)
    assert notes[0] == "with 'l1' on cores 0-1 (est. 10 cycles together vs 11 one after the other)"


def test_on_mesh_4core_the_rates_come_from_the_platform_and_no_gain_runs_as_split():
    import simpy as _simpy

    from tlmsim.report import build_report
    from tlmsim.soc.build import build as build_soc
    from tlmsim.soc.run import simulate
    from tlmsim.workload import load_workload

    digits = load_workload("digits-snn", seed=0)
    plat = load_platform("platforms/mesh-4core.yaml", ["dataflow.name=ptb", "pe_array.multicore=pipeline"])
    res = simulate(plat, digits, seed=0)
    # DRAM: 4 channels x 64 B per 4 tCK of 630 ps, per 2000 ps cycle (500 MHz); the GLB 32 banks x 64 B;
    # a link 256 B at the array's clock
    rates = res.controller.rates()
    assert (rates.dram, rates.levels, rates.link) == (pytest.approx(4 * 64 / (4 * 630) * 2000), (2048.0,), 256.0)
    assert rates.latency == res.controller.latency()  # the routes' latency: tests/hw/test_pipeline_latency.py
    notes = build_report(res).layers.set_index("name")["pipeline"].to_dict()
    assert notes["conv1"] == ("alone on cores 0-3: no expected gain with 'pool1' (est. 826 cycles together vs 506 "
                              "one after the other)")
    assert notes["fc1"] == ("alone on cores 0-3: no expected gain with 'fc2' (est. 629 cycles together vs 629 "
                            "one after the other)")
    split = simulate(load_platform("platforms/mesh-4core.yaml", ["dataflow.name=ptb"]), digits, seed=0)
    assert res.end_ps == split.end_ps  # every layer alone on every core: the split run, cycle for cycle
    # a private level (one instance per core) is no shared limit
    l2 = load_platform("platforms/mesh-4core-l2.yaml", ["pe_array.multicore=pipeline"])
    _comps, ctrl, _plans = build_soc(l2, digits, _simpy.Environment(), Recorder(sinks=[]))
    assert ctrl.rates().levels == (2048.0, 0.0)


def test_bytes_per_level_with_two_levels():
    # DRAM -> level 0 -> level 1 -> L1: a DRAM load is staged (written and read) in both levels, a
    # load from level 0 read there and staged in level 1, a load from level 1 read there only
    t = tile(0, [dram(W, 100, 0), Move(S, 50, False, 0, 0, level=0), Move(S, 30, False, 0, 500, level=1)],
             [Move(O, 10, False, 0, 900, level=0)], cycles=1)
    plan = LayerPlan(layer=layer(0), tiles=[t])
    # level 0: 200 + 50 + 10 = 260; level 1: 200 + 100 + 30 + 20 = 350; DRAM 100; the link 190
    assert layer_timeline(plan, 1, Rates(levels=(1.0, 0.0)))[0] == 260
    assert layer_timeline(plan, 1, Rates(levels=(0.0, 1.0)))[0] == 350
    assert layer_timeline(plan, 1, Rates(dram=1.0, levels=(0.0, 0.0)))[0] == 100
    assert layer_timeline(plan, 1, Rates(levels=(0.0, 0.0), link=1.0))[0] == 190
    # a prologue into level 1: staged in level 0 (80), written in level 1 (40), 40 DRAM bytes
    filled = LayerPlan(layer=layer(0), tiles=[t], prologue=[Move(W, 40, True, 0, 700, level=1)])
    assert alone_cycles(filled, 1, Rates(levels=(1.0, 0.0))) == 340
    assert alone_cycles(filled, 1, Rates(levels=(0.0, 1.0))) == 390
    assert alone_cycles(filled, 1, Rates(dram=1.0, levels=(0.0, 0.0))) == 140


def test_components_without_a_rate_are_no_limit():
    # the test doubles have no DRAM peak, no banks and no link width: every rate 0 (no limit)
    _env, _rec, ctrl, _sink, _ = build([producer()])
    assert ctrl.rates() == Rates(dram=0.0, levels=(0.0,), link=0.0)
    # a NoC with a link width but no clock, or a clock but no width: still no limit
    ctrl.noc.width = 256
    assert ctrl.rates().link == 0.0
    del ctrl.noc.width
    ctrl.noc.period_ps = 2000
    assert ctrl.rates().link == 0.0
    # with a width: bytes per array cycle (1 ns here) = width x 1000 / 2000
    ctrl.noc.width = 256
    assert ctrl.rates().link == 128.0


def test_the_pair_estimate_waits_for_the_reads_and_writes_its_stores_overwrite():
    # producer on one core: 4 tiles of 10 cycles, tile i loaded at 10 i and stored at 10 (i + 1)
    prod = LayerPlan(layer=layer(0), tiles=[tile(i, [glb(W, 32, 1000)], [glb(O, 64, 2000 + 64 * i)], cycles=10)
                                            for i in range(4)])
    none = Rates(levels=(0.0,))
    # the consumer's first tile overwrites the weights every producer tile reads (the last loaded at
    # 30), its second (15 cycles, the same unit: the next step) nothing: step 0 ends at 30, step 1 at 45
    over = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 8, 9000)], [glb(O, 8, 1000)], cycles=1, keeps_state=True),
                                            tile(1, [glb(S, 8, 9008)], [dram(O, 8, 0)], cycles=15)])
    assert pair_cycles(prod, over, 1, 2, none) == 45
    # overwriting the producer's last outputs (tile 3, stored at 40) instead: 40, then 55
    again = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 8, 9000)], [glb(O, 8, 2192)], cycles=1, keeps_state=True),
                                             tile(1, [glb(S, 8, 9008)], [dram(O, 8, 0)], cycles=15)])
    assert pair_cycles(prod, again, 1, 2, none) == 55
    # nothing to wait for and nothing to compute: no cycle
    idle = LayerPlan(layer=layer(0), tiles=[tile(0, cycles=0)])
    assert pair_cycles(idle, LayerPlan(layer=layer(1), tiles=[tile(0, cycles=0)]), 1, 2, none) == 0
    # the second layer's epilogue drains after the pair: 10 cycles each at once, then 50 bytes at 10 a cycle
    drains = LayerPlan(layer=layer(1), tiles=[tile(0, cycles=10)], epilogue=[Move(O, 50, True, 0, 9000)])
    ten = LayerPlan(layer=layer(0), tiles=[tile(0, cycles=10)])
    assert pair_cycles(ten, drains, 1, 2, Rates(dram=10.0, levels=(0.0,))) == 15


def test_a_step_s_stores_to_dram_count_against_its_rate():
    # one tile storing 400 bytes to DRAM at 10 a cycle: 40 cycles, whatever its 1 cycle of compute
    plan = LayerPlan(layer=layer(0), tiles=[tile(0, [], [dram(O, 400, 0)], cycles=1)])
    assert layer_timeline(plan, 1, Rates(dram=10.0, levels=(0.0,)))[0] == 40
