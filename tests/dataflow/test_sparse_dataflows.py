"""ptb, spikex, event, dense-os, dense-is: cycles, operations and bytes computed by hand,
and the properties the sparse dataflows must keep (no free lunch at density 1)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.activity import fanout_map, im2col, spike_bits
from tlmsim.dataflow.formats import SPIKE_FORMATS, SpikeCodec
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload, save_spike_trace


def _workload(tmp_path, layers: str, spikes: dict, T: int):
    save_spike_trace(tmp_path / "s.npz", spikes)
    p = tmp_path / "w.yaml"
    p.write_text(f"name: t\ntimesteps: {T}\nweight_bits: 8\nspikes: s.npz\nlayers:\n{layers}")
    return load_workload(p, seed=0)


def _plan(workload, *sets):
    platform = load_platform("ddr4-baseline", list(sets))
    df = make_dataflow(platform, workload)
    return df, df.plan()


LINEAR = "  - {name: fc, op: linear, in_shape: [4], out_features: 2, neuron: lif}\n"
ONE_SPIKE = {"fc": np.array([[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=bool)}
SMALL = ("pe_array.rows=4", "pe_array.cols=2")


def test_ptb_maps_windows_to_column_groups_and_skips_silent_folds(tmp_path):
    w = _workload(tmp_path, LINEAR, ONE_SPIKE, 4)
    _, plans = _plan(w, *SMALL, "dataflow.name=ptb")  # time_window unset: ptb's default 2
    tiles = plans[0].tiles
    # T = 4, W = 2: two windows run in parallel, P = min(2, C = 2) column groups, so a fold is
    # C // P = 1 output channel wide: N = 2 -> two tiles, each covering all 4 timesteps
    assert len(tiles) == 2 and all((t.t_first, t.t_last) == (0, 3) for t in tiles)
    # fill R = 4, one slot (the pixel is active in window 0 only) x W = 2 cycles, skew R + C - 2 = 4
    # once: 10; tags: 1 fold tag + 1 pixel x 2 windows x 1 fold checked = 3 bits (1 cycle, hidden);
    # neuron update: 1 output on 2 units x 4 timesteps = 4
    assert [t.compute_cycles for t in tiles] == [14, 14]
    assert [t.tag_bits for t in tiles] == [3, 3]
    # the fold's 4 x 1 weights move once and are copied into both column groups
    assert [m.nbytes for m in tiles[0].loads if m.data_class.name == "WEIGHTS"] == [4]
    assert [t.pe_weight_loads for t in tiles] == [8, 8]
    # one spike meets 1 weight per tile; the dense count is 1 x 4 x 1 per timestep
    assert [t.acc_ops for t in tiles] == [1, 1]
    assert [t.dense_ops for t in tiles] == [16, 16]
    # the membrane never leaves the neuron units
    assert not [m for t in tiles for m in t.loads + t.stores if m.data_class.name == "MEMBRANE"]


def test_ptb_packs_rows_whose_active_windows_do_not_overlap(tmp_path):
    # a 1x1 conv over 3 pixels: M = 3, K = 8 (two folds of R = 4), N = 2
    layers = "  - {name: c, op: conv2d, in_shape: [8, 1, 3], out_channels: 2, kernel: 1, neuron: lif}\n"
    x = np.zeros((4, 8, 1, 3), dtype=bool)
    x[0, 0, 0, 0] = True  # pixel 0, window 0 (t 0)
    x[3, 1, 0, 1] = True  # pixel 1, window 1 (t 3)
    x[1, 2, 0, 2] = True  # pixel 2, window 0 (t 1)
    w = _workload(tmp_path, layers, {"c": x}, 4)
    arr = (*SMALL, "dataflow.name=ptb")

    def tiles(*sets):
        return _plan(w, *arr, *sets)[1][0].tiles

    # fold 1 (inputs 4-7) is silent: skipped, its weights never move; fold 0 streams pixels 0 and 1
    # in one slot (windows {0} and {1}), pixel 2 (window 0, taken) opens a second: 2 slots x W = 4;
    # fill 4 + 4 + skew 4 = 12; neuron update: 3 outputs on 2 units x 4 timesteps = 8
    packed = tiles()
    assert [t.compute_cycles for t in packed] == [20, 20]
    assert [sum(m.nbytes for m in t.loads if m.data_class.name == "WEIGHTS") for t in packed] == [4, 4]
    # tags: 2 fold tags + 3 pixels x 2 windows checked in the one streamed fold
    assert [t.tag_bits for t in packed] == [8, 8]
    # no packing: 3 slots x 2 = 6 -> 14 + 8
    assert [t.compute_cycles for t in tiles("dataflow.packing=none")] == [22, 22]
    # no skipping: both folds stream all 3 pixels (3 x 2 cycles); the second fill hides behind the
    # first stream: 4 + 6 + 6 + 4 = 20, + 8; all 8 x 1 weights move
    dense = tiles("dataflow.zero_skip=false")
    assert [t.compute_cycles for t in dense] == [28, 28]
    assert [sum(m.nbytes for m in t.loads if m.data_class.name == "WEIGHTS") for t in dense] == [8, 8]


def test_pack_slots_greedy_rule():
    from tlmsim.dataflow.ptb import pack_slots

    # windows x pixels for one fold: masks {0}, {1}, {}, {0, 1}, {1}, {0}
    a = np.array([[1, 0, 0, 1, 0, 1], [0, 1, 0, 1, 1, 0]], dtype=bool)[:, :, None]
    # slots: [{0}, {1}] -> [{0, 1}] -> [{1}, {0}]: 3; without packing: 5 active pixels
    assert pack_slots(a, True).tolist() == [3]
    assert pack_slots(a, False).tolist() == [5]


def test_spikex_keeps_weights_over_all_timesteps(tmp_path):
    w = _workload(tmp_path, LINEAR, ONE_SPIKE, 4)
    df, plans = _plan(w, *SMALL, "dataflow.name=spikex")
    (tile,) = plans[0].tiles  # one tile covers all 4 timesteps
    # only input 0 ever spikes: the active rows compact into one fold of 1 row;
    # fill 4 + 1 active (pixel, window) element x 1 timestep + skew 4 = 9; neuron: 1 x 4 timesteps
    assert tile.compute_cycles == 13 and tile.neuron_cycles == 4
    assert tile.acc_ops == 2 and tile.dense_ops == 32
    # tags: 1 group tag + 4 row tags of the active group (moved), + 1 pixel x 4 windows checked
    assert tile.tag_bits == 9
    # weights of the active row only, loaded once (1 x 2 x 8 bits), no membrane traffic at all
    assert [m.nbytes for m in tile.loads if m.data_class.name == "WEIGHTS"] == [2]
    assert tile.pe_weight_loads == 2
    assert not [m for m in tile.loads + tile.stores if m.data_class.name == "MEMBRANE"]
    # zero skipping off: every element streams (4 timesteps) and every dense accumulate happens
    _, plans = _plan(w, *SMALL, "dataflow.name=spikex", "dataflow.zero_skip=false")
    (tile,) = plans[0].tiles
    assert tile.compute_cycles == 4 + 4 + 4 + 4 and tile.acc_ops == tile.dense_ops == 32
    assert tile.tag_bits == 0 and [m.nbytes for m in tile.loads if m.data_class.name == "WEIGHTS"] == [8]


def test_spikex_compacts_active_rows_and_skips_silent_chunks(tmp_path):
    # K = 12 inputs on R = 4 rows: 3 plain folds; inputs 1, 6 and 11 spike -> one compacted fold
    layers = "  - {name: fc, op: linear, in_shape: [12], out_features: 2, neuron: lif}\n"
    x = np.zeros((2, 12), dtype=bool)
    x[0, 1] = x[1, 6] = x[1, 11] = True
    w = _workload(tmp_path, layers, {"fc": x}, 2)
    (tile,) = _plan(w, *SMALL, "dataflow.name=spikex")[1][0].tiles
    # one fold of 3 rows: fill 4 + 2 windows active (t 0 and t 1) + skew 4 = 10; neuron 1 x 2 = 2
    assert tile.compute_cycles == 12
    assert [m.nbytes for m in tile.loads if m.data_class.name == "WEIGHTS"] == [3 * 2]
    # tags: 3 group tags + 3 x 4 row tags (every group has an active row) + 1 pixel x 2 windows
    assert tile.tag_bits == 3 + 12 + 2
    # density 0: no fold, no weight; the tile reads 3 group tags (1 cycle) and updates the neurons
    w0 = _workload(tmp_path, layers, {"fc": np.zeros((2, 12), dtype=bool)}, 2)
    (tile,) = _plan(w0, *SMALL, "dataflow.name=spikex")[1][0].tiles
    assert tile.compute_cycles == 1 + 2 and tile.tag_bits == 3
    assert not [m for m in tile.loads if m.data_class.name == "WEIGHTS"]


def test_spikex_packs_idle_columns_in_time(tmp_path):
    # N = 1 output on a 4-column array: p = 4 column groups; 4 windows all active
    layers = "  - {name: fc, op: linear, in_shape: [4], out_features: 1, neuron: lif}\n"
    w = _workload(tmp_path, layers, {"fc": np.ones((4, 4), dtype=bool)}, 4)
    arr = ("pe_array.rows=4", "pe_array.cols=4", "dataflow.name=spikex")
    cyc = {mode: _plan(w, *arr, f"dataflow.packing={mode}")[1][0].tiles[0] for mode in ("none", "time", "space")}
    # none: fill 4 + pipeline 6 + 4 windows = 14; time: 4 windows on 4 groups -> 1 cycle: 11;
    # space needs more than one pixel (M = 1): no gain. Neuron: 1 output x 4 timesteps = 4
    assert {m: t.compute_cycles for m, t in cyc.items()} == {"none": 18, "time": 15, "space": 18}
    # packed groups hold copies of the fold's weights
    assert cyc["time"].pe_weight_loads == 4 * cyc["none"].pe_weight_loads


def test_event_cost_follows_the_spike_count(tmp_path):
    layers = "  - {name: c, op: conv2d, in_shape: [1, 3, 3], out_channels: 2, kernel: 3, padding: 1, neuron: if}\n"
    x = np.zeros((1, 1, 3, 3), dtype=bool)
    x[0, 0, 1, 1] = True  # the centre feeds all 9 outputs
    w = _workload(tmp_path, layers, {"c": x}, 1)
    _, plans = _plan(w, *SMALL, "dataflow.name=event")
    (tile,) = plans[0].tiles
    # the block's 2 channels fill the C = 2 columns (one column group); the event feeds 9 output
    # pixels: 9 weight vectors down the columns, one per cycle = 9 cycles (its 9 x 2 weight bytes are
    # read in 1 cycle); + the pipeline fill R = 4; neuron update: 9 x 2 IF updates on 2 units = 9
    assert tile.acc_ops == 18 and tile.pe_weight_loads == 18
    assert tile.compute_cycles == 4 + 9 + 9
    # one AER event: count field ceil(log2 10) = 4 bits + (1 time bit + 4 address bits) = 9 bits -> 2 bytes
    assert [m.nbytes for m in tile.loads if m.data_class.name == "SPIKES"] == [2]
    # a corner spike feeds 4 outputs: 8 accumulates, 1 cycle
    x2 = np.zeros((1, 1, 3, 3), dtype=bool)
    x2[0, 0, 0, 0] = True
    _, plans = _plan(_workload(tmp_path, layers, {"c": x2}, 1), *SMALL, "dataflow.name=event")
    assert plans[0].tiles[0].acc_ops == 8 and plans[0].tiles[0].compute_cycles == 4 + 4 + 9


def test_event_partial_sums_in_l1_are_bound_by_its_bandwidth(tmp_path):
    layers = "  - {name: c, op: conv2d, in_shape: [1, 3, 3], out_channels: 2, kernel: 3, padding: 1, neuron: if}\n"
    x = np.zeros((1, 1, 3, 3), dtype=bool)
    x[0, 0, 1, 1] = True
    w = _workload(tmp_path, layers, {"c": x}, 1)
    l1 = ("buffers.l1.banks=1", "buffers.l1.port_width_bytes=4")
    # 9 pixels on 4 rows: 3 partial sums of 2 bytes per PE fit a 64-byte scratchpad: the column
    # buses bind (9 cycles; the weight read, 18 bytes / 4 per cycle = 5 cycles, is shorter)
    _, plans = _plan(w, *SMALL, "dataflow.name=event", *l1)
    assert plans[0].tiles[0].compute_cycles == 4 + 9 + 9
    # a 4-byte scratchpad (2 double-buffered 8-bit weights) cannot hold them: partial sums in L1,
    # which moves 4 bytes per cycle = 4 / (2 x 2 bytes) = 1 read-modify-write per cycle: 18 cycles
    _, plans = _plan(w, *SMALL, "dataflow.name=event", *l1, "pe_array.scratchpad_bytes=4")
    assert plans[0].tiles[0].compute_cycles == 4 + 18 + 9


def test_event_column_groups_conflict_and_dispatch_is_bounded(tmp_path):
    from tlmsim.dataflow.event import group_fanout

    layers = "  - {name: c, op: conv2d, in_shape: [1, 1, 4], out_channels: 1, kernel: [1, 3], padding: [0, 1], neuron: if}\n"
    # 1 x 4 input, 1 x 3 kernel, padding 1: output pixels 0..3; position p feeds pixels p-1, p, p+1
    layer = _workload(tmp_path, layers, {"c": np.zeros((1, 1, 1, 4), dtype=bool)}, 1).layers[0]
    # 2 column groups (pixel m in group m mod 2): position 1 feeds pixels 0, 1, 2 -> groups 0, 1, 0
    assert group_fanout(layer, 2).tolist() == [[1, 1], [2, 1], [1, 2], [1, 1]]
    x = np.zeros((1, 1, 1, 4), dtype=bool)
    x[0, 0, 0, 1] = x[0, 0, 0, 2] = True
    w = _workload(tmp_path, layers, {"c": x}, 1)
    # N = 1 channel on C = 4 columns: 4 groups; the events feed pixels {0, 1, 2} and {1, 2, 3}:
    # group loads 1, 2, 2, 1 -> 2 cycles, and 2 events dispatched one per cycle -> 2; fill R = 4;
    # neuron update: 4 outputs on 4 units = 1
    arr = ("pe_array.rows=4", "pe_array.cols=4", "dataflow.name=event")
    assert _plan(w, *arr)[1][0].tiles[0].compute_cycles == 4 + 2 + 1
    # one column group (C = 1): 6 target pixels in one group -> 6 cycles
    assert _plan(w, "pe_array.rows=4", "pe_array.cols=1", "dataflow.name=event")[1][0].tiles[0].compute_cycles \
        == 4 + 6 + 4


def test_fanout_map_counts_output_windows():
    w = load_workload("digits-conv", seed=0)
    conv = w.layers[0]
    fm = fanout_map(conv)
    x = im2col(conv, np.ones((1,) + conv.in_shape, dtype=bool))
    # every 1 in the im2col matrix is one (input position, output pixel) pair
    assert fm.sum() * conv.in_shape[0] == x.sum()


def test_dense_os_and_is_fold_rules(tmp_path):
    layers = "  - {name: c, op: conv2d, in_shape: [2, 4, 4], out_channels: 3, kernel: 3, padding: 0, neuron: lif}\n"
    w = _workload(tmp_path, layers, {"c": np.ones((1, 2, 4, 4), dtype=bool)}, 1)
    # M = 4 pixels, K = 18, N = 3 on a 4 x 2 array
    _, plans = _plan(w, *SMALL, "dataflow.name=dense-os")
    # OS: ceil(4/4) x ceil(3/2) = 2 folds of K + R + C - 2 = 18 + 4 = 22 cycles
    assert sum(t.compute_cycles - t.neuron_cycles for t in plans[0].tiles) == 2 * 22
    _, plans = _plan(w, *SMALL, "dataflow.name=dense-is", "pe_array.weight_double_buffer=false")
    # IS: ceil(18/4) x ceil(4/2) = 10 folds of 2R + C + N - 2 = 8 + 2 + 3 - 2 = 11 cycles
    assert sum(t.compute_cycles - t.neuron_cycles for t in plans[0].tiles) == 10 * 11
    # neuron updates: 12 outputs, LIF, on 2 units -> 6 cycles in either
    assert sum(t.neuron_cycles for t in plans[0].tiles) == 6


def test_cuba_lif_costs_two_cycles_per_update(tmp_path):
    layers = "  - {name: fc, op: linear, in_shape: [4], out_features: 2, neuron: cuba_lif}\n"
    w = _workload(tmp_path, layers, ONE_SPIKE, 4)
    _, plans = _plan(w, *SMALL, "dataflow.name=spikex")
    assert plans[0].tiles[0].neuron_cycles == 2 * 1 * 4  # 2 cycles x ceil(2 outputs / 2 units) x 4 timesteps


DATAFLOWS = ("ptb", "spikex", "event")


@pytest.fixture(scope="module")
def ones_workload(tmp_path_factory):
    base = load_workload("digits-conv", seed=0)
    spikes = {l.name: np.ones((base.timesteps,) + l.in_shape, dtype=bool) for l in base.layers}
    import dataclasses
    return dataclasses.replace(base, spikes=spikes, spike_source="all ones")


def _totals(workload, *sets):
    _, plans = _plan(workload, *sets)
    tiles = [t for p in plans for t in p.tiles]
    return sum(t.compute_cycles for t in tiles), sum(t.acc_ops for t in tiles), sum(t.dense_ops for t in tiles)


@pytest.mark.parametrize("name", DATAFLOWS)
def test_all_ones_spikes_skipping_gains_nothing(ones_workload, name):
    on = _totals(ones_workload, f"dataflow.name={name}")
    off = _totals(ones_workload, f"dataflow.name={name}", "dataflow.zero_skip=false")
    assert on[0] >= off[0]  # not faster than its own dense execution
    # the only work skipped is the padding: (pixel, input) pairs that carry no input at all
    T = ones_workload.timesteps
    padding = sum(T * (l.gemm[0] * l.gemm[1] - int(im2col(l, ones_workload.spikes[l.name][:1]).sum())) * l.gemm[2]
                  for l in ones_workload.layers if l.has_weights)
    assert on[2] - on[1] == padding


def test_all_ones_sparse_not_faster_than_dense_with_the_same_weight_reuse(ones_workload):
    T = ones_workload.timesteps
    dense_t = _totals(ones_workload, "dataflow.name=dense-ws", f"dataflow.time_window={T}")
    for sets in (("dataflow.name=ptb",), ("dataflow.name=ptb", "dataflow.time_window=1"),
                 ("dataflow.name=spikex", "dataflow.packing=none")):
        assert _totals(ones_workload, *sets)[0] >= dense_t[0], sets


def test_spikex_without_skipping_does_exactly_the_dense_accumulates():
    w = load_workload("digits-snn", seed=0)
    _, plans = _plan(w, "dataflow.name=spikex", "dataflow.zero_skip=false")
    tiles = [t for p in plans for t in p.tiles]
    assert sum(t.acc_ops for t in tiles) == sum(t.dense_ops for t in tiles)
    _, dense = _plan(w, "dataflow.name=dense-ws")
    assert sum(t.dense_ops for p in dense for t in p.tiles) == sum(t.dense_ops for t in tiles)
    # with skipping: one accumulate per (spike, output) pair of the real trace
    _, plans = _plan(w, "dataflow.name=spikex")
    gemm = [l for l in w.layers if l.has_weights]
    expect = sum(int(im2col(l, w.spikes[l.name]).sum()) * l.gemm[2] for l in gemm)
    assert sum(t.acc_ops for p in plans for t in p.tiles if p.layer.has_weights) == expect


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(1, 5), st.integers(1, 40), st.floats(0, 1), st.integers(0, 2**31 - 1))
def test_spike_bits_equal_the_codec_sizes(T, N, density, seed):
    a = np.random.default_rng(seed).random((T, N)) < density
    codec = SpikeCodec(T, N)
    for fmt in SPIKE_FORMATS:
        assert spike_bits(fmt, a) == codec.size_bits(fmt, a) == codec.encode(fmt, a).nbits


def test_weight_compression_uses_the_stated_sparsity(tmp_path):
    layers = "  - {name: fc, op: linear, in_shape: [64], out_features: 16, neuron: lif, weight_sparsity: 0.75}\n"
    w = _workload(tmp_path, layers, {"fc": np.ones((1, 64), dtype=bool)}, 1)
    df, _ = _plan(w, "dataflow.name=spikex", "dataflow.weight_compression=true")
    # 64 x 16 block, 256 nonzeros: count field 11 bits + 17 pointers x 9 bits + 256 x (6 row + 8 value) bits
    assert df.weight_bytes(w.layers[0], 64, 16) == -(-(11 + 17 * 9 + 256 * 14) // 8)
    df, _ = _plan(w, "dataflow.name=spikex")
    assert df.weight_bytes(w.layers[0], 64, 16) == 64 * 16


@pytest.mark.parametrize("name", ("dense-os", "dense-is", "ptb", "spikex", "event"))
def test_l1_too_small_is_a_mapping_error(name):
    platform = load_platform("ddr4-baseline", [f"dataflow.name={name}", "buffers.l1.capacity_bytes=256"])
    with pytest.raises(MappingError, match="L1 half"):
        make_dataflow(platform, load_workload("vgg9-cifar10", seed=0)).plan()


def test_dense_is_tile_streams_its_weights_through_several_pixel_blocks(tmp_path):
    layers = "  - {name: c, op: conv2d, in_shape: [2, 6, 6], out_channels: 4, kernel: 3, padding: 1, neuron: lif}\n"
    w = _workload(tmp_path, layers, {"c": np.ones((1, 2, 6, 6), dtype=bool)}, 1)
    df, _ = _plan(w, "pe_array.rows=4", "pe_array.cols=4", "dataflow.name=dense-is")
    nodb, _ = _plan(w, "pe_array.rows=4", "pe_array.cols=4", "dataflow.name=dense-is",
                    "pe_array.weight_double_buffer=false")
    # without double buffering: 15 folds of 2R + C + N - 2 = 8 + 4 + 4 - 2 = 14 cycles
    assert nodb._steps(w.layers[0], nn=4, g=5, gm=3, order="m>n>k")[0].cycles == 15 * 14
    # M = 36 pixels = 9 blocks of C = 4, K = 18 = 5 folds (4, 4, 4, 4, 2), N = 4
    steps = df._steps(w.layers[0], nn=4, g=5, gm=3, order="m>n>k")
    assert len(steps) == 3  # 9 blocks / 3 per tile
    s = steps[0]
    # 3 blocks x 5 folds back to back: the first fill R = 4, 15 streams of N = 4 hiding the
    # next fills (4 <= 4), the skew R + C - 2 = 6 once: 4 + 60 + 6 = 70
    assert s.cycles == 4 + 15 * 4 + 6 and (s.m0, s.mm, s.k0, s.k1) == (0, 12, 0, 18)
    # the weights (18 x 4 at 8 bits) are loaded once for the three blocks; the stationary
    # inputs once per block and fold: 4 folds x 16 bits + 1 fold x 8 bits = 9 bytes per block
    assert s.w_bytes == 72 and s.s_bytes == 3 * 9
    assert sum(x.dense_ops for x in steps) == 36 * 18 * 4
