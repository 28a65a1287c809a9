"""SystolicDataflow._emit and _plan_gemm by hand: hand-made tile steps turned into
moves with exact DRAM and GLB addresses (weight, spike, membrane and output offsets,
their rounding to bytes, the clamp at the end of a tensor and the wrap of an oversized
read), the staging halves, the prologue and epilogue of resident tensors, the neuron
cycles and updates, a recurrent layer's feed-forward/recurrent split and signals, the
spiking and partial-sum shortcuts, the spike formats counted, and the tiling the
planner picks among candidates."""

import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.systolic import GemmCandidate, Step
from tlmsim.engine.plan import Move, Tile
from tlmsim.engine.transaction import DataClass
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload

W, S, MEM, OUT, PSUM = DataClass.WEIGHTS, DataClass.SPIKES, DataClass.MEMBRANE, DataClass.OUT_SPIKES, DataClass.PSUM
#: the DMA staging space 2 x dataflow.dma_outstanding 4 x dataflow.dma_chunk_bytes 4096; tile i uses half i % 2
HALF = 2 * 4 * 4096 // 2


def _wl(tmp_path, layers: str, T: int, bits: int = 4):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: h\ntimesteps: {T}\nweight_bits: {bits}\nlayers:\n{layers}")
    return load_workload(f, seed=0)


def _df(wl, *sets):
    # 4 neuron units, a LIF update of 3 cycles, a 12-bit membrane: none of them a power of two or a byte
    return make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws", "pe_array.cols=4",
                                                         "pe_array.lif_update_cycles=3", "pe_array.membrane_bits=12",
                                                         *sets]), wl)


FC = "  - {name: fc, op: linear, in_shape: [20], out_features: 6, neuron: lif}\n"


def _fc_steps():
    # Step(t0, t1, n0, nc, m0, mm, k0, k1, cycles, w_bytes, s_bytes, dense_ops, acc_ops, pe_weight_loads, tag_bits)
    return [
        Step(0, 2, 0, 3, 0, 1, 0, 12, 10, 18, 3, 36, 7, 36, 5, last_k=False),
        Step(0, 2, 0, 3, 0, 1, 12, 20, 9, 12, 2, 24, 5, 24, 0),
        Step(2, 3, 3, 3, 0, 1, 0, 20, 8, 30, 3, 60, 11, 60, 2),
    ]


def test_emit_three_tiles_of_a_linear_layer_with_weights_and_membrane_in_the_glb(tmp_path):
    wl = _wl(tmp_path, FC, T=3)
    df = _df(wl)
    (fc,) = wl.layers
    # K = 20, N = 6, 4-bit weights: 60 bytes; inputs ceil(3 x 20 / 8) = 8; membrane ceil(6 x 12 / 8) = 9;
    # outputs ceil(3 x 6 / 8) = 3
    sizes = df._sizes(fc)
    assert sizes == {"weights": 60, "inputs": 8, "membrane": 9, "outputs": 3}
    lay = df.layout
    wb, ib, mb, ob = lay.weights[0], lay.inputs[0], lay.membrane[0], lay.outputs[0]
    assert len({wb, ib, mb, ob}) == 4
    res = {"weights": 0, "membrane": 0}
    glb = df._glb_layout(sizes, res, fc)
    gw, gm = glb["weights"], glb["membrane"]
    assert gw != gm
    plan = df._emit(fc, _fc_steps(), sizes, res, False)
    # the prologue brings the 60 weight bytes into the GLB; the inputs (not resident) and outputs (not resident)
    # have none
    assert plan.prologue == [Move(W, 60, True, wb, gw, level=0)]
    assert plan.epilogue == []
    t0, t1, t2 = plan.tiles
    # tile 0 (staging half 0): weights at ceil((n0 x K + k0 x nc) x 4 / 8) = 0 in the GLB, spikes
    # t0 x ceil(20 / 8) + (m0 x K + k0) // 8 = 0 from DRAM; a partial reduction: no store, no neuron update
    assert t0 == Tile(0, 0, 1, [Move(W, 18, False, wb, gw, level=0), Move(S, 3, True, ib, 0)], [], 10, 0, 36, 7, 0,
                      36, 5, "lif", True, ("gemm", 0, 2, 0, 3, 0, 1, 0, 12, False))
    # tile 1 (half 1): weights at ceil((0 + 12 x 3) x 4 / 8) = 18, spikes at 12 // 8 = 1; it finishes outputs
    # 0-2 for t 0-1: updates 1 x 3 x 2 = 6, 3 cycles x ceil(3 / 4) x 2 = 6; outputs ceil(6 / 8) = 1 byte at
    # 0 x 1 + 0 // 8 = 0; membrane ceil(3 x 12 / 8) = 5 bytes at 0, stored for t1 = 2 < T
    assert t1 == Tile(1, 0, 1, [Move(W, 12, False, wb + 18, gw + 18, level=0), Move(S, 2, True, ib + 1, HALF)],
                      [Move(OUT, 1, True, ob, HALF),
                       Move(MEM, 5, False, mb, gm, signals=(0, "membrane", 0, 0, 2), level=0)],
                      9 + 6, 6, 24, 5, 6, 24, 0, "lif", False, ("gemm", 0, 2, 0, 3, 0, 1, 12, 20, True))
    # tile 2 (half 0): weights at ceil(3 x 20 x 4 / 8) = 30 (exactly 60 - 30: not clamped); spikes at
    # 2 x 3 = 6, clamped to 8 - 3 = 5; membrane of channels 3-5 at 3 x 12 // 8 = 4 (= 9 - 5, the end),
    # loaded after t 0-1's store; outputs at 2 x 1 + 3 // 8 = 2; no membrane store at t1 = T
    assert t2 == Tile(2, 2, 2, [Move(W, 30, False, wb + 30, gw + 30, level=0), Move(S, 3, True, ib + 5, 0),
                                Move(MEM, 5, False, mb + 4, gm + 4, after=(0, "membrane", 3, 0, 2), level=0)],
                      [Move(OUT, 1, True, ob + 2, 0)],
                      8 + 3, 3, 60, 11, 3, 60, 2, "lif", False, ("gemm", 2, 3, 3, 3, 0, 1, 0, 20, True))
    assert plan.resident == {"weights": True, "inputs": False, "membrane": True, "outputs": False}
    assert plan.resident_bytes == {0: 69} and plan.levels == {"weights": 0, "membrane": 0}
    # L1 bytes per tile: 18 + 3 = 21, 12 + 2 + 1 + 5 = 20, 30 + 3 + 5 + 1 = 39
    assert plan.l1_tile_bytes == 39
    assert plan.spike_formats == {"bitmap": 3}


def test_emit_inputs_and_outputs_in_the_glb_with_an_oversized_spike_read(tmp_path):
    wl = _wl(tmp_path, FC, T=3)
    df = _df(wl)
    (fc,) = wl.layers
    sizes = df._sizes(fc)
    lay = df.layout
    res = {n: 0 for n in sizes}
    glb = df._glb_layout(sizes, res, fc)
    # one tile of every timestep and channel: its 10 spike bytes (an im2col slice may re-read) exceed the
    # 8-byte inputs: offset 0 - 2 clamped to 0, the reads wrap over the 8 bytes (level_span 8); the
    # 60 weight bytes are exactly the tensor (no wrap); 9 membrane bytes neither loaded (t0 = 0) nor stored (T)
    steps = [Step(0, 3, 0, 6, 0, 1, 0, 20, 5, 60, 10, 120, 30)]
    for resident_input, prologue in ((False, [Move(W, 60, True, lay.weights[0], glb["weights"], level=0),
                                              Move(S, 8, True, lay.inputs[0], glb["inputs"], level=0)]),
                                     (True, [Move(W, 60, True, lay.weights[0], glb["weights"], level=0)])):
        plan = df._emit(fc, steps, sizes, res, resident_input)
        assert plan.prologue == prologue
        # fc is the network output: its resident outputs go back to DRAM after the last tile
        assert plan.epilogue == [Move(OUT, 3, True, lay.outputs[0], glb["outputs"], level=0)]
        (t,) = plan.tiles
        assert t.loads == [Move(W, 60, False, lay.weights[0], glb["weights"], level=0),
                           Move(S, 10, False, lay.inputs[0], glb["inputs"], level_span=8, level=0)]
        # outputs ceil(18 / 8) = 3 bytes: the whole tensor, no wrap
        assert t.stores == [Move(OUT, 3, False, lay.outputs[0], glb["outputs"], level=0)]
        # updates 6 x 3 = 18, 3 cycles x ceil(6 / 4) x 3 = 18
        assert (t.compute_cycles, t.neuron_cycles, t.neuron_updates, t.keeps_state) == (5 + 18, 18, 18, False)
        assert plan.l1_tile_bytes == 60 + 10 + 3
        assert plan.resident_bytes == {0: 60 + 8 + 9 + 3}
    # a later timestep's oversized read is clamped the same way (3 x 1 = 3 -> 8 - 10 < 0 -> 0)
    plan = df._emit(fc, [Step(1, 3, 0, 6, 0, 1, 0, 20, 5, 0, 10, 0, 0)], sizes, res, True)
    assert plan.tiles[0].loads[0] == Move(S, 10, False, lay.inputs[0], glb["inputs"], level_span=8, level=0)


def test_emit_refuses_inputs_said_resident_but_not_kept(tmp_path):
    wl = _wl(tmp_path, FC, T=3)
    df = _df(wl)
    (fc,) = wl.layers
    with pytest.raises(MappingError) as e:
        df._emit(fc, _fc_steps(), df._sizes(fc), {"weights": 0}, True)
    assert str(e.value) == "layer 'fc': inputs left their level unexpectedly"


def test_emit_outputs_kept_for_the_next_layer_have_no_epilogue(tmp_path):
    wl = _wl(tmp_path, FC + "  - {name: fc2, op: linear, in_shape: [6], out_features: 2, neuron: lif}\n", T=3)
    df = _df(wl)
    fc = wl.layers[0]
    sizes = df._sizes(fc)
    plan = df._emit(fc, _fc_steps(), sizes, {"outputs": 0}, False)
    assert plan.epilogue == [] and plan.prologue == []
    glb = df._glb_layout(sizes, {"outputs": 0}, fc)
    # the outputs stay in the GLB at their offsets: 0 and 2 x 1 + 3 // 8 = 2
    assert [t.stores[0] for t in plan.tiles[1:]] == [Move(OUT, 1, False, df.layout.outputs[0], glb["outputs"], level=0),
                                                     Move(OUT, 1, False, df.layout.outputs[0] + 2, glb["outputs"] + 2,
                                                          level=0)]


CONV = "  - {name: cv, op: conv2d, in_shape: [2, 4, 4], out_channels: 5, kernel: 3, padding: 1, neuron: lif}\n"


def test_emit_offsets_of_a_conv_tile_round_to_bytes(tmp_path):
    wl = _wl(tmp_path, CONV, T=2)
    df = _df(wl)
    (cv,) = wl.layers
    assert cv.gemm == (16, 18, 5)
    sizes = df._sizes(cv)
    # weights ceil(18 x 5 x 4 / 8) = 45; inputs ceil(2 x 32 / 8) = 8; membrane ceil(80 x 12 / 8) = 120;
    # outputs ceil(2 x 80 / 8) = 20
    assert sizes == {"weights": 45, "inputs": 8, "membrane": 120, "outputs": 20}
    lay = df.layout
    # output channels 1-3, output pixels 1-5, reduction rows 3-17, timestep 1 (of 2), every tensor in DRAM
    s = Step(1, 2, 1, 3, 1, 5, 3, 18, 7, 5, 1, 0, 0)
    (t,) = df._emit(cv, [s], sizes, {}, False).tiles
    # weights: ceil((1 x 18 + 3 x 3) x 4 / 8) = ceil(13.5) = 14; spikes: 1 x ceil(32 / 8) + (1 x 18 + 3) // 8 = 6;
    # membrane: ceil(5 x 3 x 12 / 8) = ceil(22.5) = 23 bytes at (1 x 16 + 1 x 3) x 12 // 8 = 28 (28.5 down),
    # after t 0's store
    assert t.loads == [Move(W, 5, True, lay.weights[0] + 14, 0), Move(S, 1, True, lay.inputs[0] + 6, 0),
                       Move(MEM, 23, True, lay.membrane[0] + 28, 0, after=(0, "membrane", 1, 1, 1))]
    # outputs ceil(15 / 8) = 2 bytes at 1 x ceil(80 / 8) + (16 + 3) // 8 = 12; no membrane store at t1 = T
    assert t.stores == [Move(OUT, 2, True, lay.outputs[0] + 12, 0)]
    # updates 5 x 3 = 15 on 4 units: 3 cycles x ceil(15 / 4) = 12
    assert (t.compute_cycles, t.neuron_cycles, t.neuron_updates) == (7 + 12, 12, 15)


REC = "  - {name: r, op: linear, in_shape: [4], out_features: 8, neuron: lif, recurrent: true}\n"


def test_emit_recurrent_tiles_split_their_spikes_and_signal_their_outputs(tmp_path):
    wl = _wl(tmp_path, REC, T=3, bits=8)
    df = _df(wl)
    (r,) = wl.layers
    assert r.gemm == (1, 4, 8) and df.gemm_view(r).gemm == (1, 12, 8)
    sizes = df._sizes(r)
    lay = df.layout
    ob = lay.outputs[0]
    # two output tiles per timestep (channels 0-3 and 4-7) over every row k 0-11 (4 feed-forward, 8 recurrent);
    # at t 2 the second tile reads rows 6-11 only (recurrent: no feed-forward spike load)
    steps = [Step(0, 1, 0, 4, 0, 1, 0, 12, 5, 48, 2, 0, 0), Step(0, 1, 4, 4, 0, 1, 0, 12, 5, 48, 2, 0, 0),
             Step(1, 2, 0, 4, 0, 1, 0, 12, 5, 48, 2, 0, 0), Step(1, 2, 4, 4, 0, 1, 0, 12, 5, 48, 2, 0, 0),
             Step(2, 3, 4, 4, 0, 1, 6, 12, 5, 24, 2, 0, 0)]
    plan = df._emit(r, steps, sizes, {}, False)
    tiles = plan.tiles
    # L1 of a t 1 tile: weights 48 + feed-forward spikes 1 + recurrent spikes 0 + 1 + membrane in
    # ceil(4 x 12 / 8) = 6 + outputs 1 + membrane out 6 = 63 (t 0: 48 + 1 + 1 + 6 = 56; t 2: 24 + 2 + 6 + 1 = 33)
    assert plan.l1_tile_bytes == 63
    # weights at (n0 x (K + N) + k0 x nc) x 8 / 8: 0, 48, 0, 48, 48 + 24 = 72
    assert [m.dram_address - lay.weights[0] for t in tiles for m in t.loads if m.data_class == W] == [0, 48, 0, 48, 72]
    # t 0: the 2 spike bytes' feed-forward part ceil(2 x 4 / 12) = 1 byte at 0 x 1 + 0; no recurrent input yet
    assert [m for m in tiles[0].loads if m.data_class == S] == [Move(S, 1, True, lay.inputs[0], 0)]
    # t 1: the feed-forward byte at 1 x ceil(4 / 8) = 1, then the other 1 byte from t 0's output tiles
    # (0, 4) and (4, 4), each after its store: 1 x 4 // 8 = 0 and 1 x 8 // 8 - 0 = 1, at 0 + n0 // 8 = 0
    assert [m for m in tiles[2].loads if m.data_class == S] == [
        Move(S, 1, True, lay.inputs[0] + 1, 0), Move(S, 0, True, ob, 0, after=(0, "spikes", 0, 0)),
        Move(S, 1, True, ob, 0, after=(0, "spikes", 0, 4))]
    # t 2, rows 6-11: no feed-forward row (max(0, 4 - 6) = 0); the 2 bytes from t 1's outputs 2-7: 2 of 6
    # rows in tile (0, 4) -> 2 x 2 // 6 = 0, 6 of 6 -> 2 - 0 = 2; at 1 x 1 + max(2, n0) // 8 = 1
    assert [m for m in tiles[4].loads if m.data_class == S] == [
        Move(S, 0, True, ob + 1, 0, after=(0, "spikes", 1, 0)), Move(S, 2, True, ob + 1, 0, after=(0, "spikes", 1, 4))]
    # each output store signals its (layer, "spikes", t, n0) for t < T - 1: the next timestep's tiles wait on it
    assert [[(m.data_class, m.signals) for m in t.stores if m.data_class == OUT] for t in tiles] == [
        [(OUT, (0, "spikes", 0, 0))], [(OUT, (0, "spikes", 0, 4))], [(OUT, (0, "spikes", 1, 0))],
        [(OUT, (0, "spikes", 1, 4))], [(OUT, None)]]
    # membrane (in DRAM here) stored after t 0 and t 1 through the tile's staging half, (i % 2) x HALF: 6 bytes
    # at (n0 x 1 + 0) x 12 // 8 = 0 and 6, signalling (layer, "membrane", n0, m0, t1)
    mb = df.layout.membrane[0]
    assert [[m for m in t.stores if m.data_class == MEM] for t in tiles] == [
        [Move(MEM, 6, True, mb, 0, signals=(0, "membrane", 0, 0, 1))],
        [Move(MEM, 6, True, mb + 6, HALF, signals=(0, "membrane", 4, 0, 1))],
        [Move(MEM, 6, True, mb, 0, signals=(0, "membrane", 0, 0, 2))],
        [Move(MEM, 6, True, mb + 6, HALF, signals=(0, "membrane", 4, 0, 2))], []]
    # outputs ceil(4 / 8) = 1 byte at t x 1 + n0 // 8 = t
    assert [m.dram_address - ob for t in tiles for m in t.stores if m.data_class == OUT] == [0, 0, 1, 1, 2]


RES = """  - {name: a, op: linear, in_shape: [16], out_features: 16, neuron: lif}
  - {name: b, op: linear, in_shape: [16], out_features: 16, neuron: lif}
  - {name: c, op: linear, in_shape: [16], out_features: 16, neuron: lif, residual: a}
"""


@pytest.mark.parametrize("spiking", [True, False])
def test_emit_shortcut_slices_in_the_source_bits(tmp_path, spiking):
    layers = RES if spiking else RES.replace("out_features: 16, neuron: lif}\n  - {name: b",
                                             "out_features: 16}\n  - {name: b")
    wl = _wl(tmp_path, layers, T=3)
    df = _df(wl)
    a, _, c = wl.layers
    assert (a.neuron is not None) == spiking
    sizes = df._sizes(c)
    # channels 3-7 for t 1-2: a spiking source has 1 bit per output (2 bytes per timestep of 16), a partial-sum
    # source 16 accumulator bits (32 bytes per timestep)
    s = Step(1, 3, 3, 5, 0, 1, 0, 16, 7, 0, 0, 80, 40)
    (t,) = df._emit(c, [s], sizes, {}, False).tiles
    src = df.layout.outputs[0]
    assert src != df.layout.outputs[2]
    if spiking:
        # ceil(5 x 1 x 2 / 8) = 2 bytes at 1 x 2 + 3 x 1 // 8 = 2
        shortcut = Move(S, 2, True, src + 2, 0)
    else:
        # ceil(5 x 16 x 2 / 8) = 20 bytes at 1 x 32 + 3 x 16 // 8 = 38
        shortcut = Move(PSUM, 20, True, src + 38, 0)
    # the membrane of t 0 first (ceil(5 x 12 / 8) = 8 bytes at 3 x 12 // 8 = 4), then the shortcut
    assert t.loads == [Move(MEM, 8, True, df.layout.membrane[2] + 4, 0, after=(2, "membrane", 3, 0, 1)), shortcut]
    # the neuron units add the shortcut, one output row per cycle: ceil(5 / 4) x 2 = 4 cycles besides the
    # update 3 x ceil(5 / 4) x 2 = 12; 5 x 2 = 10 adds counted as dense and performed operations
    assert (t.compute_cycles, t.neuron_cycles, t.neuron_updates, t.dense_ops, t.acc_ops) == (7 + 16, 16, 10, 90, 50)
    # L1: membrane 8 + outputs ceil(10 / 8) = 2 + shortcut
    assert df._emit(c, [s], sizes, {}, False).l1_tile_bytes == 8 + 2 + (2 if spiking else 20)
    # a second tile (index 1) loads its shortcut slice through the other staging half
    t2 = df._emit(c, [s, s], sizes, {}, False).tiles[1]
    assert t2.loads[-1] == Move(shortcut.data_class, shortcut.nbytes, True, shortcut.dram_address, HALF)


def test_emit_counts_the_spike_formats_of_the_tiles_that_load_spikes_sorted(tmp_path):
    wl = _wl(tmp_path, FC, T=3)
    df = _df(wl)
    (fc,) = wl.layers
    steps = [Step(0, 1, 0, 6, 0, 1, 0, 20, 1, 0, 3, 0, 0, spike_format="rle"),
             Step(1, 2, 0, 6, 0, 1, 0, 20, 1, 0, 3, 0, 0, spike_format="bitmap"),
             Step(2, 3, 0, 6, 0, 1, 0, 20, 1, 0, 0, 0, 0, spike_format="csr"),  # no spike bytes: not counted
             Step(2, 3, 0, 6, 0, 1, 0, 20, 1, 0, 2, 0, 0, spike_format="rle")]
    plan = df._emit(fc, steps, df._sizes(fc), {}, False)
    assert list(plan.spike_formats.items()) == [("bitmap", 1), ("rle", 2)]
    # a tile without weight or spike bytes loads nothing but its membrane
    assert [m.data_class for m in plan.tiles[2].loads] == [MEM]


# -- _plan_gemm: the candidate it picks ------------------------------------------------------
def _plan_with(df, layer, cands, input_level=None):
    df.gemm_candidates = lambda lay: cands
    # a round DRAM rate (the platform's is 8 x 2 / 0.63 ns x 2 ns = 50.79 bytes per cycle) for hand keys
    df.dram_bytes_per_cycle = 2.0
    return df._plan_gemm(layer, input_level)


def _step(n0, nc, cycles, w, s):
    return Step(0, 1, n0, nc, 0, 1, 0, 20, cycles, w, s, 0, 0)


def _pick(wl, cands, input_level=None, *sets):
    df = _df(wl, *sets)
    plan = _plan_with(df, wl.layers[0], cands, input_level)
    assert df.chosen == {0: plan.tiling}
    return plan.tiling


# The layer of FC at T = 1: weights 60 bytes, inputs 3, membrane 0, outputs 1 (its outputs are the
# network's: they go to DRAM). The key of a tiling: (max(cycles, DRAM bytes / 2) + exposed cycles,
# DRAM bytes, tiles). "q": the weights twice (reuse 2: resident, 60 DRAM bytes once, brought by the
# prologue: the first tile's 60 bytes are exposed), the inputs once (3), the outputs resident and
# written back (1): 64 DRAM bytes -> max(2, 32) + (60 + 1) / 2 = 62.5. "p": one tile of c cycles,
# weights and inputs once from DRAM (60 + 3), outputs 1: max(c, 32) + 1 / 2.
def _q():
    return GemmCandidate("q", [_step(0, 6, 1, 60, 3), _step(0, 6, 1, 60, 0)])


def _p(c):
    return GemmCandidate("p", [_step(0, 6, c, 60, 3)])


@pytest.mark.parametrize("c, want", [(61, "p"), (62, "p"), (63, "q")])
def test_plan_gemm_key_is_the_roofline_plus_the_exposed_prologue(tmp_path, c, want):
    wl = _wl(tmp_path, FC, T=1)
    assert _pick(wl, [_p(c), _q()]) == want  # c = 62: 62.5 both, 64 bytes both, 1 tile < 2
    assert _pick(wl, [_q(), _p(c)]) == want


TWO_CORES = 'noc.nodes={"dram": [0, 0], "glb": [1, 0], "l1": [[1, 1], [0, 1]]}'


@pytest.mark.parametrize("c, want", [(123, "p"), (124, "p"), (125, "q")])
def test_plan_gemm_cycles_are_shared_by_the_cores(tmp_path, c, want):
    # two cores: p's c / 2 cycles against q's 62.5
    wl = _wl(tmp_path, FC, T=1)
    assert _pick(wl, [_p(c), _q()], None, "pe_array.cores=2", TWO_CORES) == want


@pytest.mark.parametrize("c, want", [(60, "p"), (61, "q")])
def test_plan_gemm_inputs_left_in_the_glb_cost_no_dram_bytes(tmp_path, c, want):
    # inputs in level 0 already: q's DRAM bytes 60 + 0 + 1 = 61, exposed (60 + 1) / 2: 30.5 + 30.5 = 61;
    # p's 61 bytes: max(c, 30.5) + 0.5 (counting the inputs would make q 32 + 32 = 64)
    wl = _wl(tmp_path, FC, T=1)
    assert _pick(wl, [_p(c), _q()], 0) == want
    # p without spike bytes: the same key; exposing q's first 3 spike bytes would make q 30.5 + 32 = 62.5
    assert _pick(wl, [GemmCandidate("p", [_step(0, 6, c, 60, 0)]), _q()], 0) == want


@pytest.mark.parametrize("c, want", [(61, "p"), (62, "q")])
def test_plan_gemm_outputs_kept_for_the_next_layer_cost_no_dram_bytes(tmp_path, c, want):
    # fc's outputs stay for fc2: q's bytes 60 + 3 = 63, exposed 60 / 2: 31.5 + 30 = 61.5; p: max(c, 31.5)
    # (counting the outputs would make q 32 + 30.5 = 62.5, a tie p wins at c = 62)
    wl = _wl(tmp_path, FC + "  - {name: fc2, op: linear, in_shape: [6], out_features: 2, neuron: lif}\n", T=1)
    assert _pick(wl, [_p(c), _q()]) == want


def test_plan_gemm_emits_the_chosen_tiling_with_its_residency(tmp_path):
    wl = _wl(tmp_path, FC, T=1)
    df = _df(wl)
    plan = _plan_with(df, wl.layers[0], [_p(100), _q()])
    assert plan.tiling == "q" and len(plan.tiles) == 2
    # q's residency: the weights (reuse 2) and the outputs in the GLB, the inputs from DRAM
    assert plan.resident == {"weights": True, "inputs": False, "membrane": False, "outputs": True}
    assert [m.data_class for m in plan.prologue] == [W] and [m.data_class for m in plan.epilogue] == [OUT]
    # an identical candidate after it does not replace it
    df = _df(wl)
    assert _plan_with(df, wl.layers[0], [GemmCandidate("a", _q().steps), GemmCandidate("b", _q().steps)]).tiling == "a"


# -- spike_slice -------------------------------------------------------------------------------
def _act():
    from types import SimpleNamespace

    import numpy as np

    x = np.zeros((3, 4, 8), dtype=bool)  # (T, M, K) im2col spikes
    x[1, 2, 3] = x[1, 3, 5] = x[2, 2, 4] = True  # inside the slice below
    x[0, 2, 3] = x[1, 1, 3] = x[1, 2, 7] = True  # outside it (t 0, pixel 1, row 7)
    return SimpleNamespace(x=x)


@pytest.mark.parametrize("formats, want", [
    # the slice t 1-2, pixels 2-3, rows 3-6 as a (2, 8) tile: [1 0 0 0 0 0 1 0], [0 1 0 0 0 0 0 0], 3 spikes
    (("aer",), ("aer", 3)),  # count bits_for(17) = 5 + 3 x (bits_for(2) 1 + bits_for(8) 3) = 17 bits
    (("csr",), ("csr", 3)),  # 5 + (2 + 1) x bits_for(4) 2 + 3 x 3 = 20 bits
    (("rle",), ("rle", 2)),  # runs 0, 5, 2 of 4-bit fields (none reaches 15): 12 bits
    (("csr", "aer"), ("aer", 3)),  # the smaller: aer
    (("aer", "csr", "rle"), ("rle", 2)),
    (("csr", "aer", "bitmap"), ("bitmap", 2)),  # 16 bits: bitmap is the smallest
])
def test_spike_slice_sizes_the_tile_in_the_dataflows_formats(tmp_path, formats, want):
    df = _df(_wl(tmp_path, FC, T=3))
    df.SPIKE_FORMATS = formats
    assert df.spike_slice(_act(), 1, 3, 2, 4, 3, 7) == want


def test_spike_slice_of_bitmaps_counts_the_slice_without_reading_it(tmp_path):
    df = _df(_wl(tmp_path, FC, T=3))
    assert df.SPIKE_FORMATS == ("bitmap",)
    # 2 timesteps x 2 pixels x 5 rows = 20 bits -> 3 bytes; the spikes are not read (act None)
    assert df.spike_slice(None, 1, 3, 3, 5, 2, 7) == ("bitmap", 3)
    assert df.spike_slice(None, 0, 1, 0, 1, 0, 8) == ("bitmap", 1)
    # one timestep of the tile above: [0 0 0 1 0 0 0 0 ...]: aer 1 spike: bits_for(9) 4 + 1 x (1 + 3) = 8 bits
    df.SPIKE_FORMATS = ("aer",)
    assert df.spike_slice(_act(), 2, 3, 2, 4, 3, 7) == ("aer", 1)


# -- __init__ --------------------------------------------------------------------------------
def test_the_set_up_reads_the_platform(tmp_path):
    f = tmp_path / "w.yaml"
    f.write_text("name: h\ntimesteps: 2\nlayers:\n" + FC)  # no weight_bits: the platform's
    wl = load_workload(f, seed=0)
    df = make_dataflow(load_platform("ddr4-baseline", [
        "dataflow.name=dense-ws", "pe_array.rows=5", "pe_array.cols=7", "pe_array.weight_bits=6",
        "pe_array.accumulator_bits=20", "pe_array.membrane_bits=12", "buffers.l1.capacity_bytes=1000",
        "dataflow.dma_outstanding=3", "dataflow.dma_chunk_bytes=64"]), wl)
    assert (df.R, df.C, df.cores, df.wb, df.ab, df.mb) == (5, 7, 1, 6, 20, 12)
    assert df.l1_half == 500  # double-buffered L1: half of it per tile
    assert df.staging == 2 * 3 * 64
    assert df.level_capacities == [512 * 1024]
    # DDR4-3200 x64 (DRAMsim3 tCK 0.63 ns): 8 bytes x 2 per 0.63 ns = 25.397 GB/s, x 2 ns per accelerator cycle
    assert df.dram_bytes_per_cycle == pytest.approx(8 * 2 / 0.63 * 2.0)
    assert df.chosen == {} and df._wblocks == {}
    assert df.readers == {0: []}  # the network output: no reader
    # the weights are the platform's width: 20 x 6 weights of 6 bits = 90 bytes, laid out before the inputs
    assert df.layout.inputs[0] - df.layout.weights[0] >= 90
    assert df.layer_weight_bytes(wl.layers[0]) == 90
    single = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws", "buffers.l1.capacity_bytes=1000",
                                                           "buffers.l1.double_buffered=false"]), wl)
    assert single.l1_half == 1000


@pytest.mark.parametrize("sets, fits, msg", [
    (["pe_array.scratchpad_bytes=2"], True, ""),
    (["pe_array.scratchpad_bytes=1"], False, "2 x a 8-bit stationary weight (pe_array.weight_double_buffer: true) "
                                             "does not fit a PE scratchpad of 1 bytes; raise pe_array.scratchpad_bytes"),
    (["pe_array.scratchpad_bytes=1", "pe_array.weight_double_buffer=false"], True, ""),
    (["pe_array.scratchpad_bytes=0", "pe_array.weight_double_buffer=false"], False,
     "1 x a 8-bit stationary weight (pe_array.weight_double_buffer: false) does not fit a PE scratchpad of 0 bytes; "
     "raise pe_array.scratchpad_bytes"),
    (["pe_array.scratchpad_bytes=3", "pe_array.weight_bits=12"], False,
     "2 x a 12-bit stationary weight (pe_array.weight_double_buffer: true) does not fit a PE scratchpad of 3 bytes; "
     "raise pe_array.scratchpad_bytes"),
    (["pe_array.scratchpad_bytes=4", "pe_array.weight_bits=12"], True, ""),
])
def test_the_stationary_weights_must_fit_the_scratchpad(tmp_path, sets, fits, msg):
    f = tmp_path / "w.yaml"
    f.write_text("name: h\ntimesteps: 2\nlayers:\n" + FC)
    wl = load_workload(f, seed=0)
    platform = load_platform("ddr4-baseline", ["dataflow.name=dense-ws", *sets])
    if fits:
        make_dataflow(platform, wl)
    else:
        with pytest.raises(MappingError) as e:
            make_dataflow(platform, wl)
        assert str(e.value) == msg


def test_a_level_smaller_than_twice_the_staging_space_is_refused(tmp_path):
    # the platform check refuses it when loading; the dataflow refuses a platform built around that check
    wl = _wl(tmp_path, FC, T=2)
    platform = load_platform("l2-glb", ["dataflow.name=dense-ws", "dataflow.dma_outstanding=1",
                                        "dataflow.dma_chunk_bytes=64"])
    make_dataflow(platform, wl)  # staging 2 x 1 x 64 = 128: every level holds 256
    bufs = platform.buffers.model_dump(exclude_unset=True)
    levels = list(platform.buffers.levels)
    for cap, ok in ((256, True), (255, False)):
        bufs["levels"][1]["capacity_bytes"] = cap
        small = platform.model_copy(update={"buffers": type(platform.buffers).model_validate(bufs)})
        if ok:
            assert make_dataflow(small, wl).level_capacities == [levels[0].capacity_bytes, 256]
            continue
        with pytest.raises(MappingError) as e:
            make_dataflow(small, wl)
        assert str(e.value) == (
            f"buffers.levels[1].capacity_bytes 255 is smaller than twice the DMA staging space (2 x "
            f"dataflow.dma_outstanding x dataflow.dma_chunk_bytes = 128); lower dataflow.dma_chunk_bytes or raise "
            f"the capacity of {levels[1].name}")


# -- recurrent_candidates ------------------------------------------------------------------------
def test_recurrent_candidates_tile_each_timestep_on_its_own_spikes(tmp_path):
    import numpy as np

    from tlmsim.workload import save_spike_trace

    # feed-forward spikes (4 inputs) and the layer's own spikes of t - 1 (8 recurrent inputs) per timestep:
    # rows k 0-3 then 4-11 of timestep t's one-timestep GEMM
    ff = np.array([[1, 0, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
    rec = np.array([[0] * 8, [1, 0, 0, 0, 0, 0, 0, 1], [0, 1, 0, 0, 0, 0, 0, 0]], dtype=bool)
    save_spike_trace(tmp_path / "s.npz", {"r": ff, "r.recurrent": rec})
    (tmp_path / "w.yaml").write_text("name: t\ntimesteps: 3\nweight_bits: 8\nspikes: s.npz\nlayers:\n" + REC)
    wl = load_workload(tmp_path / "w.yaml", seed=0)
    # spikex loads the weights of the active rows only (compacted, 8 rows per fold): active rows 2 + 0, 0 + 2,
    # 4 + 1 at t = 0, 1, 2, times the block's 4 columns of 8-bit weights: 8, 8, 20 bytes
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=spikex", "pe_array.rows=8", "pe_array.cols=4",
                                                       "dataflow.spike_format=aer"]), wl)
    (r,) = wl.layers
    cands = df.recurrent_candidates(r)
    assert [c.label for c in cands] == ["per timestep, n>m>k, m=1, folds/tile=2", "per timestep, m>n>k, m=1, folds/tile=2"]
    for c in cands:
        # the timesteps in order, each its 2 blocks of output channels over every row k 0-11
        assert [(s.t0, s.t1, s.n0, s.nc, s.k0, s.k1) for s in c.steps] == [
            (t, t + 1, n0, 4, 0, 12) for t in range(3) for n0 in (0, 4)]
        assert [s.w_bytes for s in c.steps] == [8, 8, 8, 8, 20, 20]
        assert [s.acc_ops for s in c.steps] == [8, 8, 8, 8, 20, 20]  # one accumulate per active row and column
    # the one-timestep planners share this layer's weight blocks (K + N = 12 rows)
    assert set(df._wblocks) == {0} and (df._wblocks[0].K, df._wblocks[0].N) == (12, 8)
    # dense-ws: the same tiles every timestep (bitmaps of 12 bits: 2 bytes)
    dense = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws", "pe_array.rows=8",
                                                          "pe_array.cols=4"]), wl)
    for c in dense.recurrent_candidates(r):
        assert c.label.startswith("per timestep, ") and len(c.steps) == 6
        assert [(s.t0, s.t1, s.w_bytes, s.s_bytes) for s in c.steps] == [(t, t + 1, 48, 2) for t in range(3) for _ in "ab"]


def test_recurrent_candidates_of_a_single_timestep(tmp_path):
    # T = 1: the recurrent inputs are all zero; one timestep's tilings, relabelled
    wl = _wl(tmp_path, REC, T=1, bits=8)
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws", "pe_array.rows=8", "pe_array.cols=4"]),
                       wl)
    cands = df.recurrent_candidates(wl.layers[0])
    assert [c.label for c in cands] == ["per timestep, n>m>k, m=1, folds/tile=2", "per timestep, m>n>k, m=1, folds/tile=2"]
    for c in cands:
        assert [(s.t0, s.t1, s.n0, s.k0, s.k1, s.w_bytes, s.s_bytes) for s in c.steps] == [
            (0, 1, 0, 0, 12, 48, 2), (0, 1, 4, 0, 12, 48, 2)]
    (plan,) = df.plan()
    assert plan.tiling == "per timestep, n>m>k, m=1, folds/tile=2" and len(plan.tiles) == 2


def test_emit_tiles_that_move_no_byte_need_no_l1(tmp_path):
    # a tile that keeps the array's weights (w_bytes 0), reads no spike byte and does not finish its outputs
    wl = _wl(tmp_path, FC, T=3)
    df = _df(wl)
    (fc,) = wl.layers
    plan = df._emit(fc, [Step(0, 1, 0, 6, 0, 1, 0, 12, 5, 0, 0, 0, 0, last_k=False)], df._sizes(fc), {}, False)
    assert plan.l1_tile_bytes == 0
    assert plan.tiles[0].loads == [] and plan.tiles[0].stores == [] and plan.spike_formats == {}
    assert df._emit(fc, [], df._sizes(fc), {}, False).l1_tile_bytes == 0


def test_emit_recurrent_tile_starting_inside_the_feed_forward_rows(tmp_path):
    wl = _wl(tmp_path, REC, T=3, bits=8)
    df = _df(wl)
    (r,) = wl.layers
    ob = df.layout.outputs[0]
    steps = [Step(0, 1, 0, 4, 0, 1, 0, 12, 5, 48, 2, 0, 0), Step(0, 1, 4, 4, 0, 1, 0, 12, 5, 48, 2, 0, 0),
             Step(1, 2, 0, 4, 0, 1, 2, 12, 5, 40, 7, 0, 0)]
    tile = df._emit(r, steps, df._sizes(r), {}, False).tiles[2]
    # rows 2-11 (K = 4): 2 feed-forward rows of 10 -> ceil(7 x 2 / 10) = 2 of the 7 spike bytes; the other 5
    # from t 0's outputs 0-7: 5 x 4 // 8 = 2 after tile (0, 4), 5 - 2 = 3 after tile (4, 4)
    assert [(m.nbytes, m.after) for m in tile.loads if m.data_class == S] == [
        (2, None), (2, (0, "spikes", 0, 0)), (3, (0, "spikes", 0, 4))]
    assert [m.dram_address - ob for m in tile.loads if m.data_class == S][1:] == [0, 0]


@pytest.mark.parametrize("c, want", [(33, "p"), (34, "r")])
def test_plan_gemm_inputs_the_prologue_brings_cost_their_dram_bytes_once(tmp_path, c, want):
    # "r": two tiles of 3 channels, each reading the 3 input bytes (reuse 2: resident, brought once by the
    # prologue from DRAM, the first tile's 3 bytes exposed), the weights 30 + 30 once (60), the outputs
    # resident and written back (1): 64 DRAM bytes -> max(2, 32) + (3 + 1) / 2 = 34. p: max(c, 32) + 0.5.
    # (not counting the prologue's 3 input bytes would make r max(2, 30.5) + 2 = 32.5, below p at c = 33)
    wl = _wl(tmp_path, FC, T=1)
    r = GemmCandidate("r", [_step(0, 3, 1, 30, 3), _step(3, 3, 1, 30, 3)])
    assert _pick(wl, [_p(c), r]) == want
    assert _pick(wl, [r, _p(c)]) == want
    df = _df(wl)
    plan = _plan_with(df, wl.layers[0], [r])
    assert plan.resident == {"weights": False, "inputs": True, "membrane": False, "outputs": True}
    assert [(m.data_class, m.nbytes) for m in plan.prologue] == [(S, 3)]
