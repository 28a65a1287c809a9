"""event's rules by hand (tlmsim/dataflow/event.py): accumulator banks of a conv and a
linear layer, the scratchpad limit of the partial sums at equality, the read-modify-write
rate of partial sums in L1, tile shapes from the L1 footprint, tiles of a partial output
block and a second channel group (with and without zero skipping), and channels whose
weights into a block are all zero (or exactly one nonzero) with compressed weights."""

from dataclasses import replace

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.event import bank_fanout
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload

# conv 3 -> 3 channels, 2x2 input, 3x3 kernel, padding 1: every input position feeds all
# M = 4 output pixels; K = 27, 9 weights per input channel
CONV = "  - {name: c, op: conv2d, in_shape: [3, 2, 2], out_channels: 3, kernel: 3, padding: 1, neuron: lif}\n"


def _event(tmp_path, layers: str, *sets, spikes=None, masks=None, T: int = 1):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: e\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n{layers}")
    wl = load_workload(f, seed=0)
    if spikes is not None:
        wl = replace(wl, spikes={**wl.spikes, **spikes})
    if masks is not None:
        wl = replace(wl, weight_masks=masks)
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=event", *sets]), wl)
    return df, wl.layers[0]


def test_bank_fanout_by_hand(tmp_path):
    # conv 1 -> 1, 3x3 input, 3x3 kernel, padding 1: 9 output pixels; 2 column groups x 2 rows:
    # pixel m in bank (m mod 2) x 2 + (m // 2) mod 2 -> pixels 0..8 in banks 0 2 1 3 0 2 1 3 0
    _, conv = _event(tmp_path, "  - {name: c, op: conv2d, in_shape: [1, 3, 3], out_channels: 1, kernel: 3, "
                               "padding: 1, neuron: lif}\n")
    d = bank_fanout(conv, 2, 2)
    assert d.shape == (9, 4)
    assert d[0].tolist() == [2, 0, 1, 1]  # corner (0, 0) feeds pixels 0, 1, 3, 4
    assert d[4].tolist() == [3, 2, 2, 2]  # the centre feeds all 9
    assert d[2].tolist() == [1, 1, 2, 0]  # corner (0, 2) feeds pixels 1, 2, 4, 5: banks 2, 1, 0, 2
    assert d.sum() == 4 * 4 + 4 * 6 + 9  # corners 4 outputs, edges 6, centre 9
    _, lin = _event(tmp_path, "  - {name: f, op: linear, in_shape: [3], out_features: 2, neuron: lif}\n")
    assert bank_fanout(lin, 2, 2).tolist() == [[1, 0, 0, 0]]


def test_partial_sums_fit_the_scratchpad_up_to_equality(tmp_path):
    # C = 5 columns, R = 2 rows, blocks of 2 channels: g = 5 // 2 = 2 column groups; 16-bit sums
    # in a 64-byte scratchpad: ceil(M / 4) x 2 <= 64 -> M <= 128
    df, _ = _event(tmp_path, CONV, "pe_array.rows=2", "pe_array.cols=5")
    assert df.psums_in_pes(128, 2) and not df.psums_in_pes(129, 2)
    assert df.psums_in_pes(64, 5) and not df.psums_in_pes(65, 5)  # one group: ceil(M / 2) x 2


@pytest.mark.parametrize("port, cycles", [(8, 4 + 9 + 9), (6, 4 + 18 + 9)])
def test_read_modify_write_rate_of_partial_sums_in_l1(tmp_path, port, cycles):
    # one event at the centre of a 3x3 input, 3x3 kernel: 9 targets x 2 channels = 18 updates;
    # a 4-byte scratchpad cannot hold the sums; L1 moves 1 bank x port bytes per cycle:
    # port 8 -> 8 // (2 x 2 bytes) = 2 updates per cycle (9 cycles), port 6 -> 1 (18 cycles);
    # fill 2 + log2(4 banks) = 4; neuron update 18 IF updates on 2 units = 9
    layers = "  - {name: c, op: conv2d, in_shape: [1, 3, 3], out_channels: 2, kernel: 3, padding: 1, neuron: if}\n"
    x = np.zeros((1, 1, 3, 3), dtype=bool)
    x[0, 0, 1, 1] = True
    df, _ = _event(tmp_path, layers, "pe_array.rows=4", "pe_array.cols=2", "buffers.l1.banks=1",
                   f"buffers.l1.port_width_bytes={port}", "pe_array.scratchpad_bytes=4", spikes={"c": x})
    (plan,) = df.plan()
    assert plan.tiles[0].compute_cycles == cycles


@pytest.mark.parametrize("capacity, labels", [
    (180, ["out block=2, channels/tile=2", "out block=1, channels/tile=3"]),
    (178, ["out block=2, channels/tile=1", "out block=1, channels/tile=3"]),
    (136, ["out block=1, channels/tile=3"]),
])
def test_tile_shapes_from_the_l1_footprint(tmp_path, capacity, labels):
    # footprint(ob, cg): AER of cg x 4 positions (n = 4 cg: bits_for(n + 1) + n (1 + bits_for(n))),
    # cg x 9 x ob weight bytes, the outputs of ob x 4 neurons (o: 2 o psum + 4 o membrane bytes +
    # ceil(o / 8)): (2, 1) = 2 + 18 + 49 = 69, (2, 2) = 5 + 36 + 49 = 90, (1, 3) = 8 + 27 + 25 = 60.
    # The widest block first (at most C = 2), then the ladder of N = 3 (2, 1): one channel per
    # block takes all 3 input channels, 3 x 1 tiles per timestep, fewer than 2 x 2 or 2 x 3
    df, layer = _event(tmp_path, CONV, "pe_array.rows=2", "pe_array.cols=2",
                       f"buffers.l1.capacity_bytes={capacity}", "buffers.l1.double_buffered=true")
    assert [c.label for c in df.gemm_candidates(layer)] == [f"t>n>c, {x}" for x in labels]


def test_a_narrower_block_with_no_fewer_tiles_is_left_out(tmp_path):
    # 3 -> 4 channels; L1 half 120: the widest block is C = 2 channels with all 3 input
    # channels (AER 8 + 54 weight bytes + 49 = 111), 2 x 1 tiles; one channel: 4 x 1, left out
    conv = "  - {name: c, op: conv2d, in_shape: [3, 2, 2], out_channels: 4, kernel: 3, padding: 1, neuron: lif}\n"
    df, layer = _event(tmp_path, conv, "pe_array.rows=2", "pe_array.cols=2", "buffers.l1.capacity_bytes=240",
                       "buffers.l1.double_buffered=true")
    assert [c.label for c in df.gemm_candidates(layer)] == ["t>n>c, out block=2, channels/tile=3"]


def test_the_estimate_keeps_one_channel_per_block_and_every_input_channel_per_tile(tmp_path):
    # the spikes of _conv_spikes: 1 event in channel 0, 2 in channel 2 (every one feeds all 4
    # pixels). Two output channels x two input channels per tile (the steps of
    # test_tiles_of_a_partial_block_and_a_second_channel_group): 5 + 7 + 5 + 6 = 23 cycles in 4
    # tiles. One output channel x all three input channels: 2 column groups x 2 rows = 4 banks,
    # fill 2 + 2 = 4; 3 events, 12 targets, 3 per bank, 12 weight bytes in one L1 cycle: busy 3,
    # 7 cycles per tile, 3 tiles: 21. Fewer cycles (the tiny DRAM traffic hides behind them): kept
    df, layer = _event(tmp_path, CONV, *ARRAY, spikes=_conv_spikes())
    wide, narrow = df.gemm_candidates(layer)
    assert (wide.totals.cycles, wide.totals.count, narrow.totals.cycles, narrow.totals.count) == (23, 4, 21, 3)
    assert [_row(s) for s in narrow.steps] == [(n0, 1, 0, 27, 7, 18, 3, 4 * 27, 12, True, "aer") for n0 in range(3)]
    plan = df.plan()[0]
    assert (plan.tiling, len(plan.tiles)) == ("t>n>c, out block=1, channels/tile=3", 3)


def test_the_smallest_tile_must_fit_an_l1_half(tmp_path):
    df, layer = _event(tmp_path, CONV, "pe_array.rows=2", "pe_array.cols=2", "buffers.l1.capacity_bytes=70")
    with pytest.raises(MappingError, match=r"the smallest event tile \(one input channel and output channel\) "
                                           r"needs 36 bytes"):
        df.gemm_candidates(layer)


def _conv_spikes():
    x = np.zeros((1, 3, 2, 2), dtype=bool)
    x[0, 0, 0, 0] = True  # channel 0: one event; channel 1 silent; channel 2: two events
    x[0, 2, 0, 0] = x[0, 2, 1, 1] = True
    return {"c": x}


def _row(s):
    return (s.n0, s.nc, s.k0, s.k1, s.cycles, s.w_bytes, s.s_bytes, s.dense_ops, s.acc_ops, s.last_k, s.spike_format)


ARRAY = ("pe_array.rows=2", "pe_array.cols=2", "buffers.l1.capacity_bytes=180", "buffers.l1.double_buffered=true")


def test_tiles_of_a_partial_block_and_a_second_channel_group(tmp_path):
    df, layer = _event(tmp_path, CONV, *ARRAY, spikes=_conv_spikes())
    cand = df.gemm_candidates(layer)[0]  # the widest block
    # blocks of 2 and 1 output channels; channel groups {0, 1} and {2}.
    # block 0 (2 channels: 1 column group, 2 banks: pixel m in bank m mod 2): group {0, 1}: one
    # event, 4 targets (2 per bank), 8 updates; fill 2 + 1 = 3, busy max(1 event, 2, 1) = 2;
    # AER of 8 positions: bits_for(9) + 1 x (1 + 3) = 8 bits; weights of channel 0 only: 9 x 2.
    # group {2}: 2 events, 8 targets (4 per bank): 3 + 4; AER of 4: 3 + 2 x (1 + 2) = 9 bits
    # block 1 (1 channel: 2 column groups x 2 rows = 4 banks, one pixel each): fill 2 + 2 = 4;
    # group {0, 1}: busy 1 -> 5; group {2}: 2 events -> 6
    assert [_row(s) for s in cand.steps] == [
        (0, 2, 0, 18, 5, 18, 1, 4 * 18 * 2, 8, False, "aer"),
        (0, 2, 18, 27, 7, 18, 2, 4 * 9 * 2, 16, True, "aer"),
        (2, 1, 0, 18, 5, 9, 1, 4 * 18 * 1, 4, False, "aer"),
        (2, 1, 18, 27, 6, 9, 2, 4 * 9 * 1, 8, True, "aer"),
    ]
    # no skipping: every position is an event (8 and 4 per group), every channel's weights move,
    # spikes as bitmaps (8 and 4 bits). Block 0, group {0, 1}: 8 events x 4 targets, 16 per bank:
    # 3 + 16; group {2}: 3 + 8. Block 1: 4 banks, 8 per bank: 4 + 8; 4 + max(4 events, 4)
    df, layer = _event(tmp_path, CONV, *ARRAY, "dataflow.zero_skip=false", spikes=_conv_spikes())
    cand = df.gemm_candidates(layer)[0]
    assert [_row(s) for s in cand.steps] == [
        (0, 2, 0, 18, 19, 36, 1, 144, 64, False, "bitmap"),
        (0, 2, 18, 27, 11, 18, 1, 72, 32, True, "bitmap"),
        (2, 1, 0, 18, 12, 18, 1, 72, 32, False, "bitmap"),
        (2, 1, 18, 27, 8, 9, 1, 36, 16, True, "bitmap"),
    ]


LINEAR = "  - {name: f, op: linear, in_shape: [3], out_features: 8, neuron: lif}\n"


def _linear_mask():
    # input 0 feeds outputs 0 and 1, input 1 none, input 2 exactly one (output 0)
    m = np.zeros((3, 8), dtype=bool)
    m[0, 0] = m[0, 1] = m[2, 0] = True
    return {"f": m}


def test_channels_without_a_nonzero_weight_are_skipped_and_weights_compressed(tmp_path):
    sets = ("pe_array.rows=2", "pe_array.cols=8", "dataflow.weight_compression=true")
    spikes = {"f": np.ones((1, 3), dtype=bool)}
    df, layer = _event(tmp_path, LINEAR, *sets, spikes=spikes, masks=_linear_mask())
    (step,) = df.gemm_candidates(layer)[0].steps
    # inputs 0 and 2 are live: 2 targets x 8 channels = 16 updates; their 2 x 8 block holds 3
    # nonzeros: compressed bits_for(17) + 9 x bits_for(4) + 3 x (bits_for(2) + 8) = 5 + 18 + 27 = 50
    # bits = 7 bytes (dense: 16)
    assert (step.acc_ops, step.w_bytes) == (16, 7)
    # the block tables stay integer where a channel's weights are masked out (Python ints in the step)
    assert [type(v) for v in (step.cycles, step.w_bytes, step.s_bytes, step.acc_ops)] == [int] * 4
    # without skipping all 3 inputs stream: 24 updates; 3 x 8 block, 3 nonzeros: 5 + 18 + 3 x (2 + 8)
    df, layer = _event(tmp_path, LINEAR, *sets, "dataflow.zero_skip=false", spikes=spikes, masks=_linear_mask())
    (step,) = df.gemm_candidates(layer)[0].steps
    assert (step.acc_ops, step.w_bytes) == (24, 7)
    # and uncompressed, input 1's row of zeros is read too: 3 x 8 bytes (not input 0's and 2's 2 x 8)
    df, layer = _event(tmp_path, LINEAR, *sets[:2], "dataflow.zero_skip=false", spikes=spikes, masks=_linear_mask())
    (step,) = df.gemm_candidates(layer)[0].steps
    assert (step.acc_ops, step.w_bytes) == (24, 24)
    # dense weights: compression never pays, 3 x 8 bytes
    df, layer = _event(tmp_path, LINEAR, *sets, spikes=spikes)
    (step,) = df.gemm_candidates(layer)[0].steps
    assert (step.acc_ops, step.w_bytes) == (24, 24)


@pytest.mark.parametrize("sets", [(), ("dataflow.zero_skip=false",), ("dataflow.weight_compression=true",)])
def test_totals_are_the_sums_of_the_steps(tmp_path, sets):
    # what the tiler ranks a candidate by (made from the per-block tables without the steps)
    # equals the sums over its steps; 5 -> 7 channels, T = 3, a random weight mask; L1 half 310:
    # blocks of 4 channels x 2 input channels, or of 2 x all 5 (fewer tiles)

    from tlmsim.dataflow.systolic import StepTotals

    conv = "  - {name: c, op: conv2d, in_shape: [5, 3, 3], out_channels: 7, kernel: 3, padding: 1, neuron: lif}\n"
    rng = np.random.default_rng(1)
    mask = rng.random((45, 7)) < 0.4
    df, layer = _event(tmp_path, conv, "pe_array.rows=2", "pe_array.cols=4", "buffers.l1.capacity_bytes=620",
                       *sets, masks={"c": mask}, T=3)
    cands = df.gemm_candidates(layer)
    assert len(cands) > 1
    for c in cands:
        steps = c.steps
        ref = StepTotals(sum(s.cycles for s in steps), df._traffic(layer, steps, {}), steps[0], len(steps))
        assert (c.totals.cycles, c.totals.moved, c.totals.first, c.totals.count) == \
               (ref.cycles, ref.moved, ref.first, ref.count)
