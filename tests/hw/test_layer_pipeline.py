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
from tlmsim.hw.controller import Controller, estimate_cycles, pipeline_stages
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform import load_platform
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig

W, S, O = DataClass.WEIGHTS, DataClass.SPIKES, DataClass.OUT_SPIKES


def build(plans, *, cores=2, multicore="pipeline", capacity=1 << 20):
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
                      multicore=multicore)
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
    assert ctrl.pipeline_notes == {0: "with 'l1' on core 0", 1: "with 'l0' on core 1"}
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


def test_cores_are_split_to_balance_the_estimated_cycles():
    big = LayerPlan(layer=layer(0), tiles=[tile(i, cycles=100) for i in range(6)])
    small = LayerPlan(layer=layer(1), tiles=[tile(i, cycles=100) for i in range(2)])
    # on k cores: groups of k units, each as long as its longest
    assert [estimate_cycles(big, k) for k in (1, 2, 3)] == [600, 300, 200]
    chained = LayerPlan(layer=layer(2), tiles=[tile(0, cycles=50, keeps_state=True), tile(1, cycles=70),
                                               tile(2, cycles=30)])
    assert [estimate_cycles(chained, k) for k in (1, 2)] == [150, 120]  # units 120 and 30
    # 4 cores: big on 3 (200) beside small on 1 (200); on 2 beside 2: max(300, 100)
    stages, notes = pipeline_stages([big, small], 4, [1 << 20], 0)
    assert [[(p.layer.index, c) for p, c in st] for st in stages] == [[(0, (0, 1, 2)), (1, (3,))]]
    assert notes == {0: "with 'l1' on cores 0-2", 1: "with 'l0' on core 3"}


def test_a_pair_that_does_not_fit_the_level_runs_one_layer_after_the_other_with_the_reason():
    # each layer keeps 600 bytes (weights at 100 and 700); with 64 staging bytes the pair needs 1264
    a = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 600, 100)], [dram(O, 8, 0)])], resident_bytes={0: 600})
    b = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(W, 600, 700)], [dram(O, 8, 8)])], resident_bytes={0: 600})
    stages, notes = pipeline_stages([a, b], 2, [1200], 64, ["glb"])
    assert [[p.layer.index for p, _ in st] for st in stages] == [[0], [1]]
    assert notes[0] == ("alone on cores 0-1: with 'l1' the level 'glb' would hold 1264 bytes (staging 64 + both "
                        "layers' resident tensors), more than its 1200")
    assert notes[1] == "alone on cores 0-1: the last layer"
    # bytes the two keep at the same addresses (the first's outputs, the second's inputs) count once
    c = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 600, 100)], [dram(O, 8, 8)])], resident_bytes={0: 600})
    stages, _ = pipeline_stages([a, c], 2, [1200], 64, ["glb"])
    assert [[p.layer.index for p, _ in st] for st in stages] == [[0, 1]]
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
    _stages, notes = pipeline_stages([empty, a, c, d], 2, [1 << 20], 0)
    assert notes == {0: "alone on cores 0-1: 'flatten' has no tile",
                     1: "alone on cores 0-1: 'l1' drains a tensor to DRAM after its last tile",
                     2: "with 'l3' on core 0", 3: "with 'l2' on core 1"}


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
