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


def test_ptb_skips_silent_windows(tmp_path):
    w = _workload(tmp_path, LINEAR, ONE_SPIKE, 4)
    _, plans = _plan(w, *SMALL, "dataflow.name=ptb", "dataflow.time_window=2")
    tiles = plans[0].tiles
    # K = 4 = R, N = 2 = C: one fold; two windows of 2 timesteps, one tile each
    # window 0: fill R = 4 + pipeline R + C - 2 = 4 + 1 active row x 2 timesteps = 10,
    #           + neuron update: 2 outputs on 2 units x 1 cycle x 2 timesteps = 2
    # window 1: the array still holds the fold (no fill) + pipeline 4 + no active row = 4, + 2
    assert [t.compute_cycles for t in tiles] == [12, 6]
    # one spike meets 2 weights; the dense count is 1 x 4 x 2 per timestep
    assert [t.acc_ops for t in tiles] == [2, 0]
    assert [t.dense_ops for t in tiles] == [16, 16]
    # the membrane crosses from window 0 to window 1
    assert tiles[1].loads[-1].after == tiles[0].stores[-1].signals


def test_spikex_keeps_weights_over_all_timesteps(tmp_path):
    w = _workload(tmp_path, LINEAR, ONE_SPIKE, 4)
    df, plans = _plan(w, *SMALL, "dataflow.name=spikex")
    (tile,) = plans[0].tiles  # one tile covers all 4 timesteps
    # fill 4 + pipeline 4 + 1 active (pixel, window) element x 1 timestep = 9; neuron: 1 x 4 timesteps
    assert tile.compute_cycles == 13 and tile.neuron_cycles == 4
    assert tile.acc_ops == 2 and tile.dense_ops == 32
    # weights loaded once (8 x 8 bits), no membrane traffic at all
    assert [m.nbytes for m in tile.loads if m.data_class.name == "WEIGHTS"] == [8]
    assert not [m for m in tile.loads + tile.stores if m.data_class.name == "MEMBRANE"]
    # zero skipping off: every element streams (4 timesteps) and every dense accumulate happens
    _, plans = _plan(w, *SMALL, "dataflow.name=spikex", "dataflow.zero_skip=false")
    (tile,) = plans[0].tiles
    assert tile.compute_cycles == 4 + 4 + 4 + 4 and tile.acc_ops == tile.dense_ops == 32


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
    # fan-out 9 positions x 2 channels = 18 accumulates on 8 PEs: ceil(18 / 8) = 3 cycles;
    # its weights 9 x 2 bytes read in 1 cycle; neuron update: 9 x 2 IF updates on 2 units = 9
    assert tile.acc_ops == 18
    assert tile.compute_cycles == 3 + 9
    # one AER event: count field ceil(log2 10) = 4 bits + (1 time bit + 4 address bits) = 9 bits -> 2 bytes
    assert [m.nbytes for m in tile.loads if m.data_class.name == "SPIKES"] == [2]
    # a corner spike feeds 4 outputs: 8 accumulates, 1 cycle
    x2 = np.zeros((1, 1, 3, 3), dtype=bool)
    x2[0, 0, 0, 0] = True
    _, plans = _plan(_workload(tmp_path, layers, {"c": x2}, 1), *SMALL, "dataflow.name=event")
    assert plans[0].tiles[0].acc_ops == 8 and plans[0].tiles[0].compute_cycles == 1 + 9


def test_event_partial_sums_in_l1_are_bound_by_its_bandwidth(tmp_path):
    layers = "  - {name: c, op: conv2d, in_shape: [1, 3, 3], out_channels: 2, kernel: 3, padding: 1, neuron: if}\n"
    x = np.zeros((1, 1, 3, 3), dtype=bool)
    x[0, 0, 1, 1] = True
    w = _workload(tmp_path, layers, {"c": x}, 1)
    # 2 x 9 outputs do not fit 4 x 2 PEs: partial sums in L1, which moves 1 bank x 8 bytes per cycle,
    # i.e. 8 / (2 x 2 bytes) = 2 read-modify-writes of a 16-bit psum per cycle
    _, plans = _plan(w, *SMALL, "dataflow.name=event", "buffers.l1.banks=1", "buffers.l1.port_width_bytes=8")
    # 18 accumulates / 2 per cycle = 9 cycles (the weight fetch, 18 bytes / 8 = 3 cycles, is shorter)
    assert plans[0].tiles[0].compute_cycles == 9 + 9


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
    _, plans = _plan(w, *SMALL, "dataflow.name=dense-is")
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
    ptb = _totals(ones_workload, "dataflow.name=ptb", "dataflow.time_window=2")
    dense = _totals(ones_workload, "dataflow.name=dense-ws", "dataflow.time_window=2")
    assert ptb[0] >= dense[0]
    spx = _totals(ones_workload, "dataflow.name=spikex", "dataflow.packing=none")
    dense_t = _totals(ones_workload, "dataflow.name=dense-ws", f"dataflow.time_window={T}")
    assert spx[0] >= dense_t[0]


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
    # M = 36 pixels = 9 blocks of C = 4, K = 18 = 5 folds (4, 4, 4, 4, 2), N = 4
    steps = df._steps(w.layers[0], nn=4, g=5, gm=3, order="m>n>k")
    assert len(steps) == 3  # 9 blocks / 3 per tile
    s = steps[0]
    # 3 blocks x 5 folds, each 2R + C + N - 2 = 8 + 4 + 4 - 2 = 14 cycles
    assert s.cycles == 3 * 5 * 14 and (s.m0, s.mm, s.k0, s.k1) == (0, 12, 0, 18)
    # the weights (18 x 4 at 8 bits) are loaded once for the three blocks; the stationary
    # inputs once per block and fold: 4 folds x 16 bits + 1 fold x 8 bits = 9 bytes per block
    assert s.w_bytes == 72 and s.s_bytes == 3 * 9
    assert sum(x.dense_ops for x in steps) == 36 * 18 * 4
