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


def test_ptb_maps_time_windows_to_columns_and_streams_only_active_inputs(tmp_path):
    w = _workload(tmp_path, LINEAR, ONE_SPIKE, 4)
    _, plans = _plan(w, *SMALL, "dataflow.name=ptb")  # time_window unset: ptb's default 2
    (tile,) = plans[0].tiles
    # T = 4, W = 2: 2 TWs side by side on the C = 2 columns (1 pixel each); rows: the N = 2 output
    # channels; one tile covers all 4 timesteps. Only input 0 spikes (in TW 0): 1 slot of W = 2
    # cycles, then the drain R + C - 2 = 4; tags: 4 input tags + 1 input x 2 columns = 6 bits
    # (1 cycle, hidden); neuron update: 2 outputs on 2 units x 4 timesteps = 4
    assert (tile.t_first, tile.t_last) == (0, 3)
    assert tile.compute_cycles == 2 + 4 + 4 and tile.tag_bits == 6
    # only the active input's weights move (1 x 2 bytes); one spike meets 2 weights
    assert [m.nbytes for m in tile.loads if m.data_class.name == "WEIGHTS"] == [2]
    assert tile.acc_ops == 2 and tile.dense_ops == 32
    # the membrane never leaves the neuron units
    assert not [m for m in tile.loads + tile.stores if m.data_class.name == "MEMBRANE"]


def test_ptb_pairs_inputs_whose_active_columns_do_not_overlap(tmp_path):
    # a 1x1 conv over 2 pixels: M = 2, K = 8, N = 2; on 4 x 4 PEs: 2 TWs x 2 pixels on the columns
    layers = "  - {name: c, op: conv2d, in_shape: [8, 1, 2], out_channels: 2, kernel: 1, neuron: lif}\n"
    x = np.zeros((4, 8, 1, 2), dtype=bool)
    x[0, 0, 0, 0] = True  # input 0: pixel 0, TW 0
    x[3, 1, 0, 1] = True  # input 1: pixel 1, TW 1
    x[1, 2, 0, 0] = True  # input 2: pixel 0, TW 0
    w = _workload(tmp_path, layers, {"c": x}, 4)
    arr = ("pe_array.rows=4", "pe_array.cols=4", "dataflow.name=ptb")

    def tile(*sets):
        (t,) = _plan(w, *arr, *sets)[1][0].tiles
        return t

    # inputs 3-7 are silent: not streamed, their weights never move; inputs 0 and 1 share a slot
    # (columns (TW 0, pixel 0) and (TW 1, pixel 1)), input 2 takes a second: 2 slots x W = 2 = 4,
    # + the drain R + C - 2 = 6; neuron update: 4 outputs on 4 units x 4 timesteps = 4
    packed = tile()
    assert packed.compute_cycles == 4 + 6 + 4
    assert sum(m.nbytes for m in packed.loads if m.data_class.name == "WEIGHTS") == 3 * 2
    # tags: 8 input tags + 3 active inputs x 4 columns
    assert packed.tag_bits == 8 + 12
    assert packed.acc_ops == 3 * 2 and packed.dense_ops == 2 * 8 * 2 * 4
    # no packing: 3 slots x 2 = 6
    assert tile("dataflow.packing=none").compute_cycles == 6 + 6 + 4
    # no skipping: all 8 inputs stream (16 cycles) and all 8 x 2 weights move
    dense = tile("dataflow.zero_skip=false")
    assert dense.compute_cycles == 16 + 6 + 4
    assert sum(m.nbytes for m in dense.loads if m.data_class.name == "WEIGHTS") == 16


def test_pair_slots_greedy_rule():
    from tlmsim.dataflow.ptb import pair_slots

    def masks(*sets):
        return np.array([[c in s for c in range(2)] for s in sets], dtype=bool)

    # {0}-{1} pair, {0,1} alone, {1}-{0} pair: 3 slots; unpacked: 5
    m = masks({0}, {1}, {0, 1}, {1}, {0})
    assert pair_slots(m, True) == 3 and pair_slots(m, False) == 5
    # a chain of 3 compatible neighbours: the greedy scan pairs the first two, the third is alone
    assert pair_slots(masks({0}, {1}, {0}), True) == 2
    assert pair_slots(masks({0}, {1}, {0}, {1}), True) == 2


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
    # the block's 2 channels fill the C = 2 columns (one column group), whose R = 4 rows are the
    # accumulator banks (pixel m in bank m mod 4); the event feeds the 9 output pixels: bank 0 gets
    # pixels 0, 4, 8 -> 3 cycles (its 9 x 2 weight bytes are read from L1 in 1 cycle); pipeline fill
    # 2 + log2(4 banks) = 4; neuron update: 9 x 2 IF updates on 2 units = 9
    assert tile.acc_ops == 18 and tile.pe_weight_loads == 18
    assert tile.compute_cycles == 4 + 3 + 9
    # one AER event: count field ceil(log2 10) = 4 bits + (1 time bit + 4 address bits) = 9 bits -> 2 bytes
    assert [m.nbytes for m in tile.loads if m.data_class.name == "SPIKES"] == [2]
    # a corner spike feeds 4 outputs: 8 accumulates, 1 cycle
    x2 = np.zeros((1, 1, 3, 3), dtype=bool)
    x2[0, 0, 0, 0] = True
    _, plans = _plan(_workload(tmp_path, layers, {"c": x2}, 1), *SMALL, "dataflow.name=event")
    # (pixels 0, 1, 3, 4: banks 0, 1, 3, 0 -> 2 cycles)
    assert plans[0].tiles[0].acc_ops == 8 and plans[0].tiles[0].compute_cycles == 4 + 2 + 9


def test_event_partial_sums_in_l1_are_bound_by_its_bandwidth(tmp_path):
    layers = "  - {name: c, op: conv2d, in_shape: [1, 3, 3], out_channels: 2, kernel: 3, padding: 1, neuron: if}\n"
    x = np.zeros((1, 1, 3, 3), dtype=bool)
    x[0, 0, 1, 1] = True
    w = _workload(tmp_path, layers, {"c": x}, 1)
    l1 = ("buffers.l1.banks=1", "buffers.l1.port_width_bytes=4")
    # 9 pixels on 4 rows: 3 partial sums of 2 bytes per PE fit a 64-byte scratchpad; the weight
    # read binds: 9 vectors x 2 bytes / 4 bytes per cycle = 5 cycles (bank conflicts: 3)
    _, plans = _plan(w, *SMALL, "dataflow.name=event", *l1)
    assert plans[0].tiles[0].compute_cycles == 4 + 5 + 9
    # a 4-byte scratchpad (2 double-buffered 8-bit weights) cannot hold them: partial sums in L1,
    # which moves 4 bytes per cycle = 4 / (2 x 2 bytes) = 1 read-modify-write per cycle: 18 cycles
    _, plans = _plan(w, *SMALL, "dataflow.name=event", *l1, "pe_array.scratchpad_bytes=4")
    assert plans[0].tiles[0].compute_cycles == 4 + 18 + 9


def test_event_banks_conflict_and_dispatch_is_bounded(tmp_path):
    from tlmsim.dataflow.event import bank_fanout

    layers = "  - {name: c, op: conv2d, in_shape: [1, 1, 4], out_channels: 1, kernel: [1, 3], padding: [0, 1], neuron: if}\n"
    # 1 x 4 input, 1 x 3 kernel, padding 1: output pixels 0..3; position p feeds pixels p-1, p, p+1
    layer = _workload(tmp_path, layers, {"c": np.zeros((1, 1, 1, 4), dtype=bool)}, 1).layers[0]
    # 2 column groups of 1 row (pixel m in bank m mod 2): position 1 feeds pixels 0, 1, 2 -> banks 0, 1, 0
    assert bank_fanout(layer, 2, 1).tolist() == [[1, 1], [2, 1], [1, 2], [1, 1]]
    # 1 group of 2 rows: the same banks (row m mod 2)
    assert bank_fanout(layer, 1, 2).tolist() == bank_fanout(layer, 2, 1).tolist()
    x = np.zeros((1, 1, 1, 4), dtype=bool)
    x[0, 0, 0, 1] = x[0, 0, 0, 2] = True
    w = _workload(tmp_path, layers, {"c": x}, 1)
    # the events feed pixels {0, 1, 2} and {1, 2, 3}. N = 1 channel on 4 x 4 PEs: 4 column groups x 4
    # rows = 16 banks, every pixel its own: the busiest banks (pixels 1, 2) take 2 updates; 2 events
    # dispatched one per cycle: 2 cycles; fill 2 + log2(16) = 6; neuron update: 4 outputs on 4 units = 1
    arr = ("pe_array.rows=4", "pe_array.cols=4", "dataflow.name=event")
    assert _plan(w, *arr)[1][0].tiles[0].compute_cycles == 6 + 2 + 1
    # 2 x 1 PEs: 2 banks (pixels 0, 2 and 1, 3): 3 updates each -> 3 cycles; fill 2 + 1; neuron 4
    assert _plan(w, "pe_array.rows=2", "pe_array.cols=1", "dataflow.name=event")[1][0].tiles[0].compute_cycles \
        == 3 + 3 + 4
    # dispatch binds when the events are many and their fan-out is spread: every position spikes at
    # 4 x 4 PEs: 4 events, bank loads 2, 3, 3, 2 -> 4 cycles (one event per cycle), 2 with 2 per cycle
    w4 = _workload(tmp_path, layers, {"c": np.ones((1, 1, 1, 4), dtype=bool)}, 1)
    assert _plan(w4, *arr)[1][0].tiles[0].compute_cycles == 6 + 4 + 1
    assert _plan(w4, *arr, "pe_array.event_dispatch_per_cycle=2")[1][0].tiles[0].compute_cycles == 6 + 3 + 1


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
def test_all_ones_spikes_skipping_gains_nothing(ones_workload, name, tmp_path):
    # without padding there is nothing at all to skip: not faster than its own dense execution
    layers = ("  - {name: c, op: conv2d, in_shape: [4, 6, 6], out_channels: 40, kernel: 3, neuron: lif}\n"
              "  - {name: f, op: flatten, in_shape: [40, 4, 4]}\n"
              "  - {name: fc, op: linear, in_shape: [640], out_features: 10, neuron: lif}\n")
    ones = {"c": np.ones((4, 4, 6, 6), dtype=bool), "f": np.ones((4, 40, 4, 4), dtype=bool),
            "fc": np.ones((4, 640), dtype=bool)}
    w = _workload(tmp_path, layers, ones, 4)
    assert _totals(w, f"dataflow.name={name}")[0] >= _totals(w, f"dataflow.name={name}", "dataflow.zero_skip=false")[0]
    on = _totals(ones_workload, f"dataflow.name={name}")
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
