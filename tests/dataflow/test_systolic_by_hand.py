"""The shared systolic tiler/emitter (tlmsim/dataflow/systolic.py) at its boundaries,
with hand-computed exact values: folds run back to back with and without the weight
double buffer, time windows that do not divide T, tensor moves clamped at the end of
their tensor, resident bytes per level, GLB offsets at both ends of a level, a
pooling layer split into channel groups (partial last group, membrane hand-over,
L1 tile bytes), the recurrent loads split among the producer tiles of t - 1, the
traffic and exposed-cycle estimates the tiler compares."""


from dataclasses import replace

import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.systolic import Step, _level_bytes, _tensor_move
from tlmsim.engine.plan import Move
from tlmsim.engine.transaction import DataClass
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def _wl(tmp_path, layers: str, T: int = 1):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: h\ntimesteps: {T}\nweight_bits: 8\nlayers:\n{layers}")
    return load_workload(f, seed=0)


def _df(wl, *sets, dataflow: str = "dense-ws"):
    return make_dataflow(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}", *sets]), wl)


FC = "  - {name: fc, op: linear, in_shape: [16], out_features: 8, neuron: lif}\n"


# -- run_cycles -------------------------------------------------------------------------
@pytest.mark.parametrize("fills, streams, plain, double", [
    # R = 4, C = 3: skew = R + C - 2 = 5
    ([], [], 0, 0),
    ([4], [10], 4 + 10 + 5, 4 + 10 + 5),
    # plain: 8 + 19 + 3 x 5 = 42; double: 4 + 19 + (max(0, 0 - 10) + max(0, 4 - 7) = 0) + 5 = 28
    ([4, 0, 4], [10, 7, 2], 42, 28),
    # a fill longer than the previous stream shows its excess: 4 + 10 + max(0, 4 - 1) + 5 = 22
    ([4, 4], [1, 9], 8 + 10 + 10, 22),
    # first fill 0 (array already holds it): only the skew and the streams
    ([0, 4], [3, 2], 4 + 5 + 10, 0 + 5 + 1 + 5),
])
def test_run_cycles_of_folds_back_to_back(tmp_path, fills, streams, plain, double):
    wl = _wl(tmp_path, FC)
    assert _df(wl, "pe_array.rows=4", "pe_array.cols=3", "pe_array.weight_double_buffer=false").run_cycles(
        fills, streams) == plain
    assert _df(wl, "pe_array.rows=4", "pe_array.cols=3", "pe_array.weight_double_buffer=true").run_cycles(
        fills, streams) == double


# -- time windows -----------------------------------------------------------------------
@pytest.mark.parametrize("T, sets, window, windows", [
    (7, ["dataflow.time_window=3"], 3, 3),  # 3 + 3 + 1: the last window is partial
    (6, ["dataflow.time_window=3"], 3, 2),
    (4, ["dataflow.time_window=10"], 4, 1),  # at most T
    (5, [], 1, 5),  # unset: DEFAULT_WINDOW = 1 for the dense dataflows
])
def test_windows_that_do_not_divide_T(tmp_path, T, sets, window, windows):
    df = _df(_wl(tmp_path, FC, T=T), *sets)
    assert (df.window, df.windows) == (window, windows)


def test_ptb_default_window_is_two_and_capped_by_T(tmp_path):
    assert (_df(_wl(tmp_path, FC, T=5), dataflow="ptb").window, _df(_wl(tmp_path, FC, T=5), dataflow="ptb").windows) \
        == (2, 3)
    assert _df(_wl(tmp_path, FC, T=1), dataflow="ptb").window == 1


# -- _tensor_move, _level_bytes -----------------------------------------------------------
def test_tensor_move_clamps_to_the_tensor_and_wraps_an_oversized_read():
    sizes, res, glb = {"w": 100, "x": 40}, {"w": 1}, {"w": 1000}
    # resident, inside: offset kept
    assert _tensor_move(sizes, res, glb, DataClass.WEIGHTS, 30, "w", 10, 5000, 7) == \
        Move(DataClass.WEIGHTS, 30, False, 5010, 1010, level_span=0, level=1)
    # resident, past the end: offset clamped to 100 - 30 = 70
    assert _tensor_move(sizes, res, glb, DataClass.WEIGHTS, 30, "w", 90, 5000, 7) == \
        Move(DataClass.WEIGHTS, 30, False, 5070, 1070, level_span=0, level=1)
    # exactly at the end: kept
    assert _tensor_move(sizes, res, glb, DataClass.WEIGHTS, 30, "w", 70, 5000, 7).dram_address == 5070
    # larger than the tensor: offset 0 and the reads wrap over the tensor's 100 bytes
    assert _tensor_move(sizes, res, glb, DataClass.SPIKES, 150, "w", 20, 5000, 7) == \
        Move(DataClass.SPIKES, 150, False, 5000, 1000, level_span=100, level=1)
    # exactly the tensor: no wrap
    assert _tensor_move(sizes, res, glb, DataClass.SPIKES, 100, "w", 0, 5000, 7).level_span == 0
    # not resident: from DRAM through the staging address, clamped the same way (40 - 8 = 32)
    assert _tensor_move(sizes, res, glb, DataClass.SPIKES, 8, "x", 39, 300, 64, after=("a",)) == \
        Move(DataClass.SPIKES, 8, True, 332, 64, after=("a",))


def test_level_bytes_sums_the_resident_tensors_per_level():
    assert _level_bytes({"a": 10, "b": 20, "c": 5, "d": 7}, {"a": 0, "b": 1, "c": 0}) == {0: 15, 1: 20}
    assert _level_bytes({"a": 10}, {}) == {}


# -- output destinations, footprints ------------------------------------------------------
RES_CHAIN = """  - {name: a, op: linear, in_shape: [16], out_features: 8, neuron: lif}
  - {name: b, op: linear, in_shape: [8], out_features: 8, neuron: lif}
  - {name: c, op: linear, in_shape: [8], out_features: 8, neuron: lif, residual: a}
"""


def test_outputs_reach_dram_for_a_network_output_a_residual_source_or_a_far_reader(tmp_path):
    df = _df(_wl(tmp_path, RES_CHAIN))
    # a: read by b only, but c's shortcut source; b: read by c (the next) only; c: the network output
    assert [df._outputs_to_dram(layer) for layer in df.workload.layers] == [True, False, True]
    far = _wl(tmp_path, """  - {name: x, op: linear, in_shape: [16], out_features: 8, neuron: lif}
  - {name: y, op: linear, in_shape: [8], out_features: 8, neuron: lif}
  - {name: z, op: linear, in_shape: [8], out_features: 4, neuron: lif, input: x}
""")
    df = _df(far)
    # x: read by y (next) and z (not next); y: read by nobody (a network output)
    assert [df._outputs_to_dram(layer) for layer in df.workload.layers] == [True, True, True]


def test_out_footprint_adds_the_shortcut_slice_in_its_source_bits(tmp_path):
    # 5 outputs x 3 timesteps, accumulator 16, membrane 16 bits: psums ceil(240 / 8) = 30, membrane
    # in + out 2 x ceil(80 / 8) = 20, spikes ceil(15 / 8) = 2 -> 52
    df = _df(_wl(tmp_path, RES_CHAIN, T=3))
    a, _, c = df.workload.layers
    assert df.out_footprint(a, 5, 3) == 52
    assert df.out_footprint(c, 5, 3) == 52 + 2  # shortcut from a spiking layer: 15 bits
    assert df.out_footprint(a, 1, 1) == 2 + 2 * 2 + 1  # ceil(16 / 8) + 2 x 2 + ceil(1 / 8)
    psum = _wl(tmp_path, RES_CHAIN.replace("out_features: 8, neuron: lif}\n  - {name: b", "out_features: 8}\n  - {name: b"),
               T=3)
    df = _df(psum)
    assert df.workload.layers[0].neuron is None
    assert df.out_footprint(df.workload.layers[2], 5, 3) == 52 + 30  # shortcut of partial sums: 240 bits


# -- GLB layout --------------------------------------------------------------------------
def test_glb_layout_alternates_ends_and_skips_flatten(tmp_path):
    wl = _wl(tmp_path, """  - {name: cv, op: conv2d, in_shape: [1, 4, 4], out_channels: 2, kernel: 3, padding: 1, neuron: lif}
  - {name: fl, op: flatten, in_shape: [2, 4, 4]}
  - {name: fc, op: linear, in_shape: [32], out_features: 4, neuron: lif}
""")
    df = _df(wl)
    S, cap = df.staging, df.level_capacities[0]
    sizes = {"inputs": 100, "membrane": 50, "weights": 200, "outputs": 30}
    every = {n: 0 for n in sizes}
    cv, _, fc = wl.layers
    # layer 0: inputs at the bottom (above the staging area), membrane and weights stacked on them,
    # outputs at the top
    assert df._glb_layout(sizes, every, cv) == {"inputs": S, "membrane": S + 100, "weights": S + 150,
                                                "outputs": cap - 30}
    # fc: one non-flatten layer before it (the flatten does not count): the other way round
    assert df._glb_layout(sizes, every, fc) == {"inputs": cap - 100, "membrane": cap - 150, "weights": cap - 350,
                                                "outputs": S}
    # a tensor not resident takes no space: the weights sit directly on the inputs
    assert df._glb_layout(sizes, {"inputs": 0, "weights": 0}, cv) == {"inputs": S, "weights": S + 100}
    # two levels: each laid out on its own, from its own capacity
    df.level_capacities = [5000, 900]
    assert df._glb_layout(sizes, {"inputs": 1, "weights": 0, "outputs": 1}, fc) == {
        "weights": 5000 - 200, "inputs": 900 - 100, "outputs": S}
    assert df._glb_layout(sizes, {"inputs": 1, "weights": 0, "outputs": 1}, cv) == {
        "weights": S, "inputs": S, "outputs": 900 - 30}


# -- traffic and exposed cycles ----------------------------------------------------------
def _steps():
    # Step(t0, t1, n0, nc, m0, mm, k0, k1, cycles, w_bytes, s_bytes, dense_ops, acc_ops, last_k=...)
    return [
        Step(0, 2, 0, 3, 0, 5, 0, 8, 10, 7, 11, 0, 0),
        Step(2, 4, 0, 3, 0, 5, 0, 8, 10, 0, 13, 0, 0),
        Step(1, 3, 3, 1, 0, 1, 0, 8, 10, 0, 0, 0, 0),
        Step(0, 4, 4, 8, 0, 8, 0, 4, 10, 5, 3, 0, 0, last_k=False),
    ]


def test_traffic_counts_outputs_and_membranes_of_finishing_tiles_only(tmp_path):
    df = _df(_wl(tmp_path, FC, T=4))  # membrane 16 bits
    # outputs: ceil(5 x 3 x 2 / 8) = 4, 4, ceil(1 x 1 x 2 / 8) = 1 -> 9 (the partial-K tile stores none)
    # membrane: ceil(15 x 16 / 8) = 30 x (t0 > 0: 0 + t1 < T: 1) + 30 x (1 + 0) + 2 x (1 + 1) = 64
    assert df._traffic(df.workload.layers[0], _steps(), {}) == {"weights": 12, "inputs": 27, "membrane": 64,
                                                                 "outputs": 9}
    assert df._traffic(df.workload.layers[0], [], {}) == {"weights": 0, "inputs": 0, "membrane": 0, "outputs": 0}


def test_exposed_cycles_are_the_first_tiles_prologue_slices_and_the_epilogue(tmp_path):
    df = _df(_wl(tmp_path, RES_CHAIN))
    # DDR4-3200 x64 (DRAMsim3 tCK 0.63 ns): 8 B x 2 per 0.63 ns, at 500 MHz (2 ns) = 50.79 bytes per cycle
    assert df.dram_bytes_per_cycle == pytest.approx(8 * 2 / 0.63 * 2)
    _, b, c = df.workload.layers
    sizes = {"weights": 64, "inputs": 2, "membrane": 0, "outputs": 100}
    steps = _steps()

    def nbytes(layer, res, resident_input=False, st=steps):
        return df._exposed_cycles(layer, st, sizes, res, resident_input) * df.dram_bytes_per_cycle

    assert nbytes(c, {}) == 0
    assert nbytes(c, {n: 0 for n in sizes}, st=[]) == 0
    assert nbytes(c, {"weights": 0}) == pytest.approx(7)  # the first tile's weight slice
    assert nbytes(c, {"inputs": 0}) == pytest.approx(11)  # its spike slice
    assert nbytes(c, {"inputs": 0}, resident_input=True) == 0  # already in the level
    assert nbytes(c, {"outputs": 0}) == pytest.approx(100)  # the whole outputs written back after the last tile
    assert nbytes(b, {"outputs": 0}) == 0  # b's outputs stay for c
    assert nbytes(c, {"weights": 0, "inputs": 0, "outputs": 0, "membrane": 0}) == pytest.approx(118)


# -- recurrent loads -----------------------------------------------------------------------
def test_recurrent_loads_split_the_bytes_among_the_producer_tiles():
    from tlmsim.dataflow.systolic import SystolicDataflow

    def move(dc, nbytes, tensor, offset, base, stage, after=None, signals=None):
        return (dc, nbytes, tensor, offset, base, stage, after)

    K = 10
    # rows k 6..22: recurrent rows k >= 10 -> outputs 0..12 of t - 1 = 1; producers (n0, nc) of t - 1
    s = Step(2, 3, 0, 4, 0, 1, 6, 22, 0, 0, 0, 0, 0)
    prods = [(0, 5), (5, 5), (10, 6)]
    # rows per producer 5, 5, 2 of 12: 24 x 5 // 12 = 10, 24 x 10 // 12 - 10 = 10, 24 - 20 = 4;
    # offsets (t - 1) x out_step 3 + max(r0, n0) // 8 = 3 + 0, 3 + 0, 3 + 1
    assert SystolicDataflow._recurrent_loads(7, s, K, 24, prods, 3, 1000, 64, move) == [
        (DataClass.SPIKES, 10, "outputs", 3, 1000, 64, (7, "spikes", 1, 0)),
        (DataClass.SPIKES, 10, "outputs", 3, 1000, 64, (7, "spikes", 1, 5)),
        (DataClass.SPIKES, 4, "outputs", 4, 1000, 64, (7, "spikes", 1, 10)),
    ]
    # rows 13..19 -> outputs 3..9 (r0 = 3, r1 = 9, 6 rows): producer rows 2, 4, 0 (it only waits);
    # 7 bytes: 7 x 2 // 6 = 2, 7 x 6 // 6 - 2 = 5, 0; offsets t - 1 = 0: max(3, n0) // 8 = 0, 0, 1
    s = Step(1, 2, 0, 4, 0, 1, 13, 19, 0, 0, 0, 0, 0)
    assert SystolicDataflow._recurrent_loads(7, s, K, 7, prods, 3, 1000, 64, move) == [
        (DataClass.SPIKES, 2, "outputs", 0, 1000, 64, (7, "spikes", 0, 0)),
        (DataClass.SPIKES, 5, "outputs", 0, 1000, 64, (7, "spikes", 0, 5)),
        (DataClass.SPIKES, 0, "outputs", 1, 1000, 64, (7, "spikes", 0, 10)),
    ]
    # producers at multiples of 8: offsets 0 // 8, 8 // 8, 16 // 8 = 0, 1, 2 (bytes of the t - 1 = 0 outputs)
    s = Step(1, 2, 0, 4, 0, 1, 10, 30, 0, 0, 0, 0, 0)
    assert SystolicDataflow._recurrent_loads(7, s, K, 20, [(0, 8), (8, 8), (16, 4)], 3, 1000, 64, move) == [
        (DataClass.SPIKES, 8, "outputs", 0, 1000, 64, (7, "spikes", 0, 0)),
        (DataClass.SPIKES, 8, "outputs", 1, 1000, 64, (7, "spikes", 0, 8)),
        (DataClass.SPIKES, 4, "outputs", 2, 1000, 64, (7, "spikes", 0, 16)),
    ]


# -- pooling in channel groups -----------------------------------------------------------------
POOL = "  - {name: p, op: maxpool2d, in_shape: [5, 6, 6], kernel: 2, stride: 2, neuron: lif}\n"


def test_pooling_in_channel_groups_with_a_partial_last_group(tmp_path):
    # 5 channels of 6 x 6 -> 3 x 3; per channel in L1: inputs ceil(36 / 8) = 5, outputs ceil(9 / 8) = 2,
    # membrane ceil(9 x 16 / 8) = 18 -> 25 bytes; an L1 half of 60 bytes holds 2 channels (50 bytes)
    wl = _wl(tmp_path, POOL, T=3)
    (plan,) = _df(wl, "buffers.l1.capacity_bytes=120", "pe_array.rows=4", "pe_array.cols=5",
                  "pe_array.lif_update_cycles=2").plan()
    assert plan.l1_tile_bytes == 50
    assert plan.tiling == "t>c, channels/tile=2"
    # t outer, channel groups (0, 2), (2, 2), (4, 1) inner
    assert [t.region for t in plan.tiles] == [("pool", t, g0, g) for t in range(3) for g0, g in ((0, 2), (2, 2), (4, 1))]
    assert [t.index for t in plan.tiles] == list(range(9))
    assert {t.neuron for t in plan.tiles} == {"lif"}
    assert [(t.t_first, t.t_last) for t in plan.tiles] == [(t, t) for t in range(3) for _ in range(3)]
    # ops g x 9 x 2 x 2 = 72, 72, 36 on 4 x 5 = 20 adders: 4, 4, 2 cycles; LIF updates g x 9 = 18, 18, 9 on 5
    # units x 2 cycles: ceil(18 / 5) x 2 = 8, 8, ceil(9 / 5) x 2 = 4
    assert [(t.compute_cycles, t.neuron_cycles, t.neuron_updates, t.dense_ops, t.acc_ops) for t in plan.tiles[:3]] == [
        (12, 8, 18, 72, 72), (12, 8, 18, 72, 72), (6, 4, 9, 36, 36)]
    assert plan.tiles[3:6] == plan.tiles[3:6] and [t.compute_cycles for t in plan.tiles] == [12, 12, 6] * 3
    # residency (choose_resident): the membrane (reuse 2 x (T - 1) = 4) and the outputs (always, if they fit)
    # stay in the GLB; the inputs (read once, reuse 1) come from DRAM: ceil(540 / 8) = 68 bytes in all,
    # outputs ceil(135 / 8) = 17, membrane ceil(45 x 16 / 8) = 90
    assert plan.resident == {"inputs": False, "membrane": True, "outputs": True}
    assert plan.resident_bytes == {0: 90 + 17}
    assert plan.prologue == [] and [m.nbytes for m in plan.epilogue] == [17]  # outputs: the network output
    spikes = [[(m.nbytes, m.dram_address - plan.tiles[0].loads[0].dram_address, m.in_dram, m.level_address)
               for m in t.loads if m.data_class == DataClass.SPIKES] for t in plan.tiles]
    # inputs of (t, g0): t x 23 + g0 x 36 // 8, ceil(g x 36 / 8) = 9, 9, 5 bytes; the last one
    # (46 + 18 = 64, 5 bytes) is clamped to 68 - 5 = 63; through the staging halves (i % 2) x 32 KiB / 2
    h = 2 * 4 * 4096 // 2
    assert spikes == [[(9, 0, True, 0)], [(9, 9, True, h)], [(5, 18, True, 0)], [(9, 23, True, h)],
                      [(9, 32, True, 0)], [(5, 41, True, h)], [(9, 46, True, 0)], [(9, 55, True, h)],
                      [(5, 63, True, 0)]]
    outs = [[(m.nbytes, m.dram_address - plan.tiles[0].stores[0].dram_address,
              m.level_address - plan.tiles[0].stores[0].level_address) for m in t.stores
             if m.data_class == DataClass.OUT_SPIKES] for t in plan.tiles]
    # outputs of (t, g0): t x 6 + g0 x 9 // 8, ceil(g x 9 / 8) = 3, 3, 2 bytes; the last (12 + 4 = 16)
    # clamped to 17 - 2 = 15; the same offsets inside the GLB copy
    assert outs == [[(3, o, o)] for o in (0, 2)] + [[(2, 4, 4)]] + [[(3, o, o)] for o in (6, 8)] + [[(2, 10, 10)]] \
        + [[(3, o, o)] for o in (12, 14)] + [[(2, 15, 15)]]
    assert all(not m.in_dram and m.level == 0 for t in plan.tiles for m in t.stores)
    # membrane: loaded at t > 0 after t - 1's store of the same group, stored at t < T - 1;
    # ceil(g x 9 x 16 / 8) = 36, 36, 18 bytes at g0 x 9 x 16 / 8 = 0, 36, 72
    mem_ld = [[(m.nbytes, m.level_address - plan.tiles[0].stores[1].level_address, m.after) for m in t.loads
               if m.data_class == DataClass.MEMBRANE] for t in plan.tiles]
    mem_st = [[(m.nbytes, m.level_address - plan.tiles[0].stores[1].level_address, m.signals) for m in t.stores
               if m.data_class == DataClass.MEMBRANE] for t in plan.tiles]
    groups = ((0, 36, 0), (2, 36, 36), (4, 18, 72))
    assert mem_ld == [[]] * 3 + [[(nb, off, (0, "membrane", t - 1, g0))] for t in (1, 2) for g0, nb, off in groups]
    assert mem_st == [[(nb, off, (0, "membrane", t, g0))] for t in (0, 1) for g0, nb, off in groups] + [[]] * 3


def test_pooling_tile_that_needs_more_than_an_l1_half_is_refused(tmp_path):
    from tlmsim.errors import MappingError

    # one channel needs 25 bytes; an L1 of 48 bytes double-buffered has a 24-byte half
    with pytest.raises(MappingError, match=r"one channel\) needs 25 bytes, more than an L1 half \(24 bytes\)"):
        _df(_wl(tmp_path, POOL, T=3), "buffers.l1.capacity_bytes=48").plan()


# -- residency over two levels -------------------------------------------------------------------
@pytest.mark.parametrize("layer_i, input_level, want", [
    # level 1 (innermost, 300 bytes free) first: weights (reuse 1.5, 250) fit, 50 left: outputs (100) go to
    # level 0; the inputs (reuse 1) stay in DRAM; the membrane (0 bytes) is no candidate despite reuse 9
    (2, None, {"weights": 1, "outputs": 0}),
    # b's outputs stay for c: reuse 2 > 1.5, placed first in level 1; the weights then go to level 0
    (1, None, {"outputs": 1, "weights": 0}),
    # inputs left in level 1 by the previous layer stay there first; the weights no longer fit it
    (2, 1, {"inputs": 1, "outputs": 1, "weights": 0}),
    # inputs left in level 0: nowhere else (not level 1), first in level 0's order
    (2, 0, {"weights": 1, "inputs": 0, "outputs": 0}),
])
def test_residency_fills_the_innermost_level_first(tmp_path, layer_i, input_level, want):
    df = _df(_wl(tmp_path, RES_CHAIN))
    S = df.staging
    df.level_capacities = [S + 1000, S + 300]
    sizes = {"weights": 250, "inputs": 100, "membrane": 0, "outputs": 100}
    reuse = {"weights": 1.5, "inputs": 1.0, "membrane": 9.0, "outputs": 1.0}
    assert df._residency(df.workload.layers[layer_i], sizes, reuse, input_level) == want


def test_identity_with_a_shortcut_in_channel_groups(tmp_path):
    wl = _wl(tmp_path, """  - {name: a, op: identity, in_shape: [3, 4, 4], neuron: if}
  - {name: c, op: identity, in_shape: [3, 4, 4], input: input, residual: a, neuron: lif}
""", T=2)
    df = _df(wl, "buffers.l1.capacity_bytes=160", "pe_array.rows=16", "pe_array.cols=8", "pe_array.lif_update_cycles=2")
    a, c = df.plan()
    # c per channel: inputs ceil(16 / 8) = 2, outputs 2, membrane ceil(16 x 16 / 8) = 32, shortcut slice from a
    # spiking source (1 bit) 2 -> 38 bytes; an 80-byte L1 half holds 2 channels: groups (0, 2), (2, 1)
    assert c.l1_tile_bytes == 76 and c.tiling == "t>c, channels/tile=2"
    assert [t.region for t in c.tiles] == [("identity", t, g0, g) for t in (0, 1) for g0, g in ((0, 2), (2, 1))]
    # 1x1: ops g x 16 = 32, 16 on 128 adders: 1 cycle; LIF ceil(32 / 8) x 2 = 8, ceil(16 / 8) x 2 = 4, plus the
    # shortcut one row of 8 per cycle: 4, 2 -> neuron cycles 12, 6; ops += g x 16
    assert [(t.compute_cycles, t.neuron_cycles, t.neuron_updates, t.dense_ops, t.acc_ops) for t in c.tiles] == [
        (13, 12, 32, 64, 64), (7, 6, 16, 32, 32)] * 2
    # the shortcut slice: a's outputs in DRAM, t x ceil(48 / 8) + g0 x 16 // 8, ceil(g x 16 / 8) bytes, spikes
    base = df.layout.outputs[0]
    h = 2 * 4 * 4096 // 2
    sc = [[(m.data_class, m.nbytes, m.in_dram, m.dram_address - base, m.level_address) for m in t.loads
           if m.dram_address >= base and m.dram_address < base + 12 and m.in_dram] for t in c.tiles]
    assert sc == [[(DataClass.SPIKES, 4, True, 0, 0)], [(DataClass.SPIKES, 2, True, 4, h)],
                  [(DataClass.SPIKES, 4, True, 6, 0)], [(DataClass.SPIKES, 2, True, 10, h)]]
    assert c.spike_formats == {"bitmap": 4}
    # a: 3 channels x (2 + 2 + 32) = 36 bytes each: 2 channels per 80-byte half
    assert a.l1_tile_bytes == 72 and [t.region[0] for t in a.tiles] == ["identity"] * 4


def test_identity_with_a_partial_sum_shortcut(tmp_path):
    wl = _wl(tmp_path, """  - {name: a, op: conv2d, in_shape: [1, 4, 4], out_channels: 3, kernel: 3, padding: 1}
  - {name: c, op: identity, in_shape: [3, 4, 4], input: input, residual: a, neuron: lif}
""", T=2)
    df = _df(wl, "buffers.l1.capacity_bytes=224", "pe_array.rows=16", "pe_array.cols=8", "pe_array.lif_update_cycles=2")
    c = df.plan()[1]
    # per channel: inputs 2, outputs 2, membrane 32, shortcut of 16-bit partial sums ceil(16 x 16 / 8) = 32
    # -> 68 bytes; a 112-byte L1 half holds 1 channel
    assert c.l1_tile_bytes == 68 and c.tiling == "t>c, channels/tile=1"
    base = df.layout.outputs[0]
    # slices t x ceil(48 x 16 / 8) + g0 x 16 x 16 // 8 = 96 t + 32 g0, 32 bytes each, partial sums from DRAM
    sc = [[(m.nbytes, m.dram_address - base) for m in t.loads if m.data_class == DataClass.PSUM] for t in c.tiles]
    assert sc == [[(32, 96 * t + 32 * g0)] for t in (0, 1) for g0 in (0, 1, 2)]
    # ops 16 + the shortcut 16; LIF ceil(16 / 8) x 2 = 4 + shortcut 2 = 6 neuron cycles
    assert {(t.compute_cycles, t.neuron_cycles, t.dense_ops) for t in c.tiles} == {(7, 6, 32)}
    # output stores at t x ceil(48 / 8) + g0 x 16 // 8, ceil(16 / 8) = 2 bytes each
    out = [[(m.nbytes, m.dram_address - df.layout.outputs[1]) for m in t.stores if m.data_class == DataClass.OUT_SPIKES]
           for t in c.tiles]
    assert out == [[(2, 6 * t + 2 * g0)] for t in (0, 1) for g0 in (0, 1, 2)]


def test_pooling_residency_when_the_glb_holds_only_one_tensor(tmp_path):
    # maxpool 5 x 6 x 6 -> 5 x 3 x 3, LIF, T = 2: membrane ceil(45 x 16 / 8) = 90 bytes (reuse 2 x (T - 1) = 2),
    # outputs ceil(90 / 8) = 12 (reuse 1, kept if they fit), inputs 45 (reuse 1: stay in DRAM)
    df = _df(_wl(tmp_path, POOL, T=2))
    layer = df.workload.layers[0]
    df.level_capacities = [df.staging + 100]  # 100 bytes free: the membrane first, then the outputs no longer fit
    plan = df.plan_layer(layer, None)
    assert plan.resident == {"inputs": False, "membrane": True, "outputs": False}
    assert plan.resident_bytes == {0: 90} and plan.epilogue == [] and plan.prologue == []
    # outputs through DRAM: each store via the staging half of its tile, (i % 2) x 16 KiB
    h = 2 * 4 * 4096 // 2
    assert [[(m.in_dram, m.level_address) for m in t.stores if m.data_class == DataClass.OUT_SPIKES]
            for t in plan.tiles] == [[(True, (i % 2) * h)] for i in range(len(plan.tiles))]
    # 10 bytes free: nothing resident; membranes and outputs through the tiles' staging halves
    df.level_capacities = [df.staging + 10]
    plan = df.plan_layer(layer, None)
    assert plan.resident_bytes == {}
    # 2 timesteps x 1 group (5 channels x 25 bytes fit a 32 KiB half): tile 0 stores the membrane, tile 1 loads it
    assert [[(m.data_class, m.in_dram, m.level_address) for m in t.loads + t.stores
             if m.data_class == DataClass.MEMBRANE] for t in plan.tiles] == [
        [(DataClass.MEMBRANE, True, 0)], [(DataClass.MEMBRANE, True, h)]]
    df.level_capacities = [df.staging + 200]
    plan = df.plan_layer(layer, None)
    assert plan.resident == {"inputs": False, "membrane": True, "outputs": True}
    assert plan.resident_bytes == {0: 102} and [m.nbytes for m in plan.epilogue] == [12]
    # inputs left in the GLB by the previous layer: no prologue; they are read in place
    df.level_capacities = [df.staging + 1000]
    plan = df.plan_layer(layer, 0)
    assert plan.resident == {"inputs": True, "membrane": True, "outputs": True} and plan.prologue == []
    assert all(not m.in_dram for t in plan.tiles for m in t.loads)
    plan = df.plan_layer(layer, None)  # the same capacity, inputs in DRAM: not worth keeping (read once)
    assert plan.resident["inputs"] is False


def test_pooling_without_a_neuron_has_no_membrane(tmp_path):
    df = _df(_wl(tmp_path, POOL.replace(", neuron: lif", ""), T=3))
    (plan,) = df.plan()
    assert plan.resident == {"inputs": False, "membrane": False, "outputs": True}
    assert plan.resident_bytes == {0: 17}  # outputs ceil(135 / 8)
    assert all(m.data_class != DataClass.MEMBRANE for t in plan.tiles for m in t.loads + t.stores)
    # per channel 5 + 2 = 7 bytes: all 5 channels in one tile per timestep
    assert plan.l1_tile_bytes == 35 and [t.region for t in plan.tiles] == [("pool", t, 0, 5) for t in range(3)]


def test_an_identity_ignores_a_kernel_it_was_given(tmp_path):
    # the workload accepts `kernel` on any layer; an identity is a 1x1 pooling whatever it says:
    # 3 x 16 ops on 16 x 8 adders = 1 cycle (a 3x3 kernel would count 432 ops, 4 cycles); IF 48 on 8 units = 6 x 1
    wl = _wl(tmp_path, "  - {name: a, op: identity, in_shape: [3, 4, 4], kernel: 3, neuron: if}\n")
    assert wl.layers[0].kernel == (3, 3)
    (plan,) = _df(wl, "pe_array.rows=16", "pe_array.cols=8", "pe_array.if_update_cycles=1").plan()
    assert [(t.compute_cycles, t.neuron_cycles, t.dense_ops) for t in plan.tiles] == [(1 + 6, 6, 48)]


def test_pooling_epilogue_writes_the_resident_outputs_back(tmp_path):
    # POOL at T = 3 is the network output: its outputs (17 bytes, resident at the top of the GLB since the
    # layer is the first: cap - 17) are written to their DRAM place after the last tile
    df = _df(_wl(tmp_path, POOL, T=3))
    (plan,) = df.plan()
    cap = df.level_capacities[0]
    assert plan.epilogue == [Move(DataClass.OUT_SPIKES, 17, True, df.layout.outputs[0], cap - 17, level=0)]
    # the stores go to the same GLB copy, at its offsets
    assert plan.tiles[0].stores[0].level_address == cap - 17 and plan.tiles[0].stores[0].level == 0


def test_pooling_membrane_offsets_round_down_to_bytes(tmp_path):
    # maxpool 3 x 2 x 2 -> 3 x 1 x 1, 12-bit membranes, T = 2: per channel inputs 1 + outputs 1 + membrane
    # ceil(12 / 8) = 2 -> 4 bytes; a 10-byte L1 (5-byte half) holds one channel: groups g0 = 0, 1, 2; the
    # membrane of group g0 at g0 x 1 x 12 // 8 = 0, 1, 3 bytes (not 1.5)
    wl = _wl(tmp_path, "  - {name: p, op: maxpool2d, in_shape: [3, 2, 2], kernel: 2, stride: 2, neuron: lif}\n", T=2)
    df = _df(wl, "buffers.l1.capacity_bytes=10", "pe_array.membrane_bits=12")
    (plan,) = df.plan()
    assert plan.l1_tile_bytes == 4
    base = plan.tiles[0].stores[1].level_address
    assert [[(m.nbytes, m.level_address - base) for m in t.stores if m.data_class == DataClass.MEMBRANE]
            for t in plan.tiles] == [[(2, 0)], [(2, 1)], [(2, 3)], [], [], []]


def test_identity_shortcut_offsets_round_down_to_bytes(tmp_path):
    # identity 3 x 3 x 3 with a spiking shortcut, T = 2: per channel inputs ceil(9 / 8) = 2, outputs 2,
    # membrane ceil(9 x 16 / 8) = 18, shortcut 2 -> 24 bytes; a 50-byte L1 (25-byte half): one channel per tile.
    # Shortcut slice of (t, g0) at t x ceil(27 / 8) + g0 x 9 // 8 = 4 t + (0, 1, 2), ceil(9 / 8) = 2 bytes
    wl = _wl(tmp_path, """  - {name: a, op: identity, in_shape: [3, 3, 3], neuron: if}
  - {name: c, op: identity, in_shape: [3, 3, 3], input: input, residual: a, neuron: lif}
""", T=2)
    df = _df(wl, "buffers.l1.capacity_bytes=50")
    c = df.plan()[1]
    assert c.l1_tile_bytes == 24
    base = df.layout.outputs[0]
    assert [[(m.nbytes, m.dram_address - base) for m in t.loads if m.in_dram and base <= m.dram_address < base + 8]
            for t in c.tiles] == [[(2, 4 * t + g0)] for t in (0, 1) for g0 in (0, 1, 2)]


def test_residency_ranks_kept_outputs_at_reuse_two_and_keeps_one_byte_tensors(tmp_path):
    df = _df(_wl(tmp_path, RES_CHAIN))
    S = df.staging
    df.level_capacities = [S + 1000, S + 300]
    b = df.workload.layers[1]  # its outputs stay for c: reuse 2
    sizes = {"weights": 250, "inputs": 1, "membrane": 0, "outputs": 100}
    # weights reuse 2.5 rank before b's outputs (2): weights in level 1 (50 left), outputs to level 0;
    # the 1-byte inputs (reuse 3) first of all
    reuse = {"weights": 2.5, "inputs": 3.0, "membrane": 0.0, "outputs": 1.0}
    assert df._residency(b, sizes, reuse, None) == {"inputs": 1, "weights": 1, "outputs": 0}
    # weights reuse 1.5 rank after them: outputs in level 1, weights to level 0
    assert df._residency(b, sizes, {**reuse, "weights": 1.5}, None) == {"inputs": 1, "outputs": 1, "weights": 0}


def test_inputs_left_in_an_outer_level_stay_there_even_when_worth_moving_in(tmp_path):
    df = _df(_wl(tmp_path, RES_CHAIN))
    S = df.staging
    df.level_capacities = [S + 1000, S + 300]
    sizes = {"weights": 250, "inputs": 100, "membrane": 0, "outputs": 100}
    reuse = {"weights": 1.5, "inputs": 3.0, "membrane": 0.0, "outputs": 1.0}
    # inputs (reuse 3) would rank first in level 1, but they are in level 0 already: weights take level 1
    assert df._residency(df.workload.layers[2], sizes, reuse, 0) == {"weights": 1, "inputs": 0, "outputs": 0}
    # not yet anywhere: they go to level 1 first
    assert df._residency(df.workload.layers[2], sizes, reuse, None) == {"inputs": 1, "outputs": 1, "weights": 0}


def test_recurrent_weight_blocks_stack_the_synthetic_recurrent_mask_under_the_feed_forward_block(tmp_path):
    import numpy as np

    from tlmsim.workload import synthetic_weight_mask

    wl = _wl(tmp_path, "  - {name: r, op: linear, in_shape: [4], out_features: 3, neuron: lif, recurrent: true, "
                       "recurrent_sparsity: 0.5}\n", T=2)
    df = _df(wl)
    layer = wl.layers[0]
    wb = df.weight_blocks(layer)
    # K + N = 4 + 3 = 7 rows; the dense feed-forward block (4 x 3, no weight mask) over the 3 x 3 recurrent block
    # with round(9 x 0.5) = 4 zeros (round half to even): 12 + 5 = 17 nonzeros
    assert (wb.K, wb.N) == (7, 3) and wb.mask.shape == (7, 3)
    assert wb.mask[:4].all() and int(wb.mask[4:].sum()) == 5 and wb.total() == 17
    # the recurrent block: the deterministic mask of a 3-input layer named r.recurrent (seeded by that name)
    want = synthetic_weight_mask(replace(layer, name=layer.recurrent_key, in_shape=(3,), weight_sparsity=0.5))
    assert np.array_equal(wb.mask[4:], want)
    assert df.weight_blocks(layer) is wb  # cached per layer
    assert wb.mask.dtype == bool


@pytest.mark.parametrize("ff_sparsity, rec_sparsity, total", [
    (0.5, 0.0, 6 + 9),  # a sparse feed-forward block (round(12 x 0.5) = 6 zeros) over a dense recurrent one
    (0.0, 0.0, 21),  # neither has a zero: no mask, K x N = 7 x 3
])
def test_recurrent_weight_blocks_with_one_or_no_sparse_block(tmp_path, ff_sparsity, rec_sparsity, total):
    wl = _wl(tmp_path, f"  - {{name: r, op: linear, in_shape: [4], out_features: 3, neuron: lif, recurrent: true, "
                       f"weight_sparsity: {ff_sparsity}, recurrent_sparsity: {rec_sparsity}}}\n", T=2)
    wb = _df(wl).weight_blocks(wl.layers[0])
    assert (wb.K, wb.N, wb.total()) == (7, 3, total)
    if total == 21:
        assert wb.mask is None
    else:
        assert wb.mask.dtype == bool and wb.mask.shape == (7, 3) and wb.mask[4:].all()
        assert int(wb.mask[:4].sum()) == 6


def test_compressed_recurrent_weights_count_the_real_nonzeros_of_both_blocks(tmp_path):
    # linear 64 -> 16, recurrent: K = 80, N = 16, 8-bit weights. Nonzeros: feed-forward 1024 - round(921.6) = 102,
    # recurrent 256 - round(128.0) = 128 -> 230 (the layer's weight_sparsity alone would say round(1280 x 0.1) = 128).
    # CSC: bits_for(1281) = 11 + 17 x bits_for(231) = 8 + 230 x (bits_for(80) = 7 + 8) = 3597 bits -> 450 bytes
    # (dense 80 x 16 x 8 / 8 = 1280)
    wl = _wl(tmp_path, "  - {name: r, op: linear, in_shape: [64], out_features: 16, neuron: lif, recurrent: true, "
                       "weight_sparsity: 0.9, recurrent_sparsity: 0.5}\n", T=2)
    layer = wl.layers[0]
    assert _df(wl, "dataflow.weight_compression=true").layer_weight_bytes(layer) == 450
    assert _df(wl, "dataflow.weight_compression=false").layer_weight_bytes(layer) == 1280


def test_compressed_weight_block_bytes_at_their_bit_boundaries(tmp_path):
    df = _df(_wl(tmp_path, FC), "dataflow.weight_compression=true")  # 8-bit weights
    layer = df.workload.layers[0]
    # 1 x 4 block, 1 nonzero: bits_for(5) = 3 + 5 x bits_for(2) = 5 + 1 x (bits_for(1) = 1 + 8) = 17 bits -> 3 bytes
    # (dense 32 bits = 4)
    assert df.weight_bytes(layer, 1, 4, 1) == 3
    # 1 x 3 block, 1 nonzero: bits_for(4) = 2 + 4 x bits_for(2) = 4 + 9 = 15 bits -> 2 bytes (dense 3)
    assert df.weight_bytes(layer, 1, 3, 1) == 2
    # 3 x 5 block, 5 nonzeros: bits_for(16) = 4 + 6 x bits_for(6) = 18 + 5 x (2 + 8) = 72 bits -> 9 bytes (dense 15)
    assert df.weight_bytes(layer, 3, 5, 5) == 9
    assert df.weight_bytes(layer, 3, 0, 0) == 0 and df.weight_bytes(layer, 0, 3, 0) == 0  # an empty block
    # nnz from the stated sparsity (0 here): round(3 x 5 x 1) = 15 -> dense is smaller: 15 bytes
    assert df.weight_bytes(layer, 3, 5) == 15


def test_a_one_weight_block_of_16_bit_weights_compresses_when_zero(tmp_path):
    f = tmp_path / "w16.yaml"
    f.write_text(f"name: h\ntimesteps: 1\nweight_bits: 16\nlayers:\n{FC}")
    df = _df(load_workload(f, seed=0), "dataflow.weight_compression=true", "pe_array.weight_bits=16")
    assert df.wb == 16
    layer = df.workload.layers[0]
    # 1 x 1 block, no nonzero: bits_for(2) = 1 + 2 x bits_for(1) = 2 -> 3 bits, 1 byte (dense 2 bytes)
    assert df.weight_bytes(layer, 1, 1, 0) == 1
    assert df.weight_bytes(layer, 1, 1, 1) == 2  # 1 + 2 + (1 + 16) = 20 bits > 16: dense


def test_a_flatten_keeps_its_inputs_level_or_names_none(tmp_path):
    df = _df(_wl(tmp_path, FC))
    flat = replace(df.workload.layers[0], op="flatten")
    plan = df.plan_layer(flat, None)
    assert (plan.tiles, plan.resident, plan.levels) == ([], {"inputs": False, "outputs": False}, {})
    plan = df.plan_layer(flat, 0)
    assert (plan.tiles, plan.resident, plan.levels) == ([], {"inputs": True, "outputs": True},
                                                        {"inputs": 0, "outputs": 0})


def test_a_real_recurrent_mask_of_the_workload_wins_over_the_synthetic_one(tmp_path):
    import numpy as np

    wl = _wl(tmp_path, "  - {name: r, op: linear, in_shape: [4], out_features: 3, neuron: lif, recurrent: true}\n", T=2)
    layer = wl.layers[0]
    wl = replace(wl, weight_masks={**wl.weight_masks, layer.recurrent_key: np.eye(3, dtype=bool)})
    wb = _df(wl).weight_blocks(layer)
    # the dense 4 x 3 feed-forward block over the given diagonal: 12 + 3 nonzeros (recurrent_sparsity 0 would
    # give no mask at all, 21)
    assert wb.total() == 15 and np.array_equal(wb.mask[4:], np.eye(3, dtype=bool))
