"""event's per-block tables by hand (tlmsim/dataflow/event.py, ``_block_tables``), written
against the survivors of mutation run s10evt: the busiest bank of each timestep on its own,
the read-modify-write rate of partial sums in L1 when it does not divide the updates, the
AER count field when the group's positions + 1 is a power of two, and the bitmap of a
channel group without zero skipping (whole numbers in every field)."""

from dataclasses import replace

import numpy as np

from tlmsim.dataflow import make_dataflow
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def _event(tmp_path, layers: str, *sets, spikes=None, T: int = 1, weight_bits: int = 8):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: e\ntimesteps: {T}\nweight_bits: {weight_bits}\nfiring_rate: 0.5\nlayers:\n{layers}")
    wl = load_workload(f, seed=0)
    if spikes is not None:
        wl = replace(wl, spikes={**wl.spikes, **spikes})
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=event", *sets]), wl)
    return df, wl.layers[0]


# conv 1 -> 1, 3x3 input, 3x3 kernel, padding 1: 9 output pixels
ONE = "  - {name: c, op: conv2d, in_shape: [1, 3, 3], out_channels: 1, kernel: 3, padding: 1, neuron: if}\n"


def test_each_timestep_has_its_own_busiest_bank(tmp_path):
    # R = C = 2, a block of 1 channel: 2 column groups x 2 rows = 4 banks, pixels 0..8 in banks
    # 0 2 1 3 0 2 1 3 0; fill 2 + log2(4) = 4. t = 0: an event at the centre feeds all 9 pixels,
    # 3 in bank 0: busy 3 -> 7 cycles. t = 1: the corner (0, 0) feeds pixels 0, 1, 3, 4 (banks 0,
    # 2, 3, 0): 2 in bank 0 -> 6 cycles (the centre's bank 0 is not this timestep's)
    x = np.zeros((2, 1, 3, 3), dtype=bool)
    x[0, 0, 1, 1] = x[1, 0, 0, 0] = True
    df, layer = _event(tmp_path, ONE, "pe_array.rows=2", "pe_array.cols=2", spikes={"c": x}, T=2)
    (cand,) = df.gemm_candidates(layer)
    assert [(s.t0, s.cycles, s.acc_ops) for s in cand.steps] == [(0, 7, 9), (1, 6, 4)]
    assert cand.totals.cycles == 13


def test_the_read_modify_write_rate_rounds_up(tmp_path):
    # one event at the centre: 9 targets x 1 channel = 9 updates; 8 banks (4 rows x 2 column
    # groups) hold ceil(9 / 8) = 2 sums each, 4 bytes: a 2-byte scratchpad cannot; L1 is 1 bank x
    # 8 bytes: 8 // (2 x 2 bytes) = 2 updates per cycle -> ceil(9 / 2) = 5
    # cycles (the weights: 9 one-byte vectors, ceil(9 / 8) = 2; at most 2 targets per bank of 8);
    # fill 2 + log2(4 rows x 2 column groups) = 5 -> 10
    x = np.zeros((1, 1, 3, 3), dtype=bool)
    x[0, 0, 1, 1] = True
    df, layer = _event(tmp_path, ONE, "pe_array.rows=4", "pe_array.cols=2", "buffers.l1.banks=1",
                       "buffers.l1.port_width_bytes=8", "pe_array.scratchpad_bytes=2", spikes={"c": x})
    assert not df.psums_in_pes(9, 1) and df.psums_in_pes(8, 1)
    (step,) = df.gemm_candidates(layer)[0].steps
    assert (step.cycles, step.acc_ops) == (10, 9)


def test_the_aer_count_field_when_positions_plus_one_is_a_power_of_two(tmp_path):
    # linear 3 -> 2: one group of 3 input neurons (n = 3 positions), 2 events: the count field
    # holds 0 .. 3 (bits_for(4) = 2 bits), each event 1 + bits_for(3) = 3 bits: 2 + 6 = 8 bits,
    # one byte (a count field of 3 bits would make it 9 bits, 2 bytes)
    lin = "  - {name: f, op: linear, in_shape: [3], out_features: 2, neuron: lif}\n"
    df, layer = _event(tmp_path, lin, "pe_array.rows=2", "pe_array.cols=2",
                       spikes={"f": np.array([[True, False, True]])})
    (step,) = df.gemm_candidates(layer)[0].steps
    assert (step.k0, step.k1, step.s_bytes, step.spike_format) == (0, 3, 1, "aer")


def test_without_zero_skipping_a_group_moves_its_bitmap_in_whole_numbers(tmp_path):
    # conv 3 -> 2 on a 2x2 input, 3x3 kernel, padding 1 (every position feeds all 4 pixels), one
    # group of all 3 channels: a bitmap of 3 x 4 = 12 bits, 2 bytes; every position is an event:
    # 12 events x 4 targets x 2 channels = 96 updates, 12 x 2 = 24 per bank of 2 (C = 2: one column
    # group, 2 rows); fill 2 + 1 = 3 -> 27 cycles; all 27 x 2 weight bytes
    conv = "  - {name: c, op: conv2d, in_shape: [3, 2, 2], out_channels: 2, kernel: 3, padding: 1, neuron: lif}\n"
    df, layer = _event(tmp_path, conv, "pe_array.rows=2", "pe_array.cols=2", "dataflow.zero_skip=false",
                       spikes={"c": np.zeros((1, 3, 2, 2), dtype=bool)})
    (step,) = df.gemm_candidates(layer)[0].steps
    fields = (step.cycles, step.w_bytes, step.s_bytes, step.dense_ops, step.acc_ops)
    assert (fields, step.spike_format) == ((27, 54, 2, 4 * 27 * 2, 96), "bitmap")
    assert all(type(v) is int for v in fields)  # Step's fields are ints, not numpy or float values



def test_the_aer_bound_of_a_tile_counts_positions_plus_one(tmp_path):
    # linear 10 -> 2, C = 2: blocks of 2 outputs; footprint(2, cg) = the AER bound of n = cg
    # positions, bits_for(n + 1) + n (1 + bits_for(n)), + 2 cg weight bytes + the outputs of 2
    # neurons (2 x 16-bit psums 4, membranes in and out 4 + 4, 1 spike byte: 13).
    # cg = 8: 4 + 8 x 4 = 36 bits, 5 bytes -> 34; cg = 9: bits_for(10) = 4, 4 + 9 x 5 = 49 bits,
    # 7 bytes -> 38 (a count field of bits_for(8) = 3 bits would make it 48 bits, 6 bytes, 37).
    # L1 half 37: 8 channels per tile, 2 tiles; half 38: 9 channels, still 2 tiles. Blocks of one
    # output (7 output bytes) take all 10 channels (7 + 10 + 7 = 24) in 2 x 1 tiles, no fewer: left out
    lin = "  - {name: f, op: linear, in_shape: [10], out_features: 2, neuron: lif}\n"
    df, layer = _event(tmp_path, lin, "pe_array.rows=2", "pe_array.cols=2", "buffers.l1.capacity_bytes=74",
                       "buffers.l1.double_buffered=true")
    assert [c.label for c in df.gemm_candidates(layer)] == ["t>n>c, out block=2, channels/tile=8"]
    df, layer = _event(tmp_path, lin, "pe_array.rows=2", "pe_array.cols=2", "buffers.l1.capacity_bytes=76",
                       "buffers.l1.double_buffered=true")
    assert [c.label for c in df.gemm_candidates(layer)] == ["t>n>c, out block=2, channels/tile=9"]


def test_a_narrower_block_after_one_left_out_is_still_tried(tmp_path):
    # linear 7 -> 3, C = 3: blocks of 3, 2 and 1 outputs (the ladder of N = 3). footprint(ob, cg) =
    # the AER bound of cg positions (cg = 2: 1 byte, 5: 3, 7: 4) + cg x ob weight bytes + the
    # outputs (2 + 4 bytes each and ceil(ob / 8)): L1 half 26 takes ob = 3 with cg = 2 (1 + 6 + 19;
    # cg = 3: 2 + 9 + 19 = 30), 1 x 4 tiles; ob = 2 with cg = 5 (3 + 10 + 13; 6: 4 + 12 + 13 = 29),
    # 2 x 2 tiles, no fewer: left out; ob = 1 with all 7 (4 + 7 + 7 = 18), 3 x 1 tiles: kept
    lin = "  - {name: f, op: linear, in_shape: [7], out_features: 3, neuron: lif}\n"
    df, layer = _event(tmp_path, lin, "pe_array.rows=2", "pe_array.cols=3", "buffers.l1.capacity_bytes=52",
                       "buffers.l1.double_buffered=true")
    assert [c.label for c in df.gemm_candidates(layer)] == ["t>n>c, out block=3, channels/tile=2",
                                                            "t>n>c, out block=1, channels/tile=7"]
