"""ptb's cost rules at their boundaries, by hand (tlmsim/dataflow/ptb.py): T not divisible
by the window (a short last TW), more TWs than columns (rounds), a reduction split in
chunks whose last one streams nothing (the drain is still paid), partial channel blocks
and pixel groups in both loop orders, the scratchpad limit, and the weight mask (rows
with no nonzero weight into a block are not streamed, per block)."""

from dataclasses import replace

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.ptb import pair_slots
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def _df(tmp_path, layers: str, T: int, *sets, spikes=None, masks=None):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: p\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n{layers}")
    wl = load_workload(f, seed=0)
    if spikes is not None:
        wl = replace(wl, spikes={**wl.spikes, **spikes})
    if masks is not None:
        wl = replace(wl, weight_masks=masks)
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=ptb", *sets]), wl)
    return df, wl.layers[0]


def _linear(K: int, N: int) -> str:
    return f"  - {{name: fc, op: linear, in_shape: [{K}], out_features: {N}, neuron: lif}}\n"


def test_pair_slots_pairs_two_inputs_whose_columns_do_not_overlap():
    two = np.array([[1, 0], [0, 1]], dtype=bool)
    assert pair_slots(two, True) == 1 and pair_slots(two, False) == 2
    assert pair_slots(np.array([[1, 1], [0, 1]], dtype=bool), True) == 2  # overlap in column 1
    # three compatible neighbours: one pair and one alone
    assert pair_slots(np.array([[1, 0], [0, 1], [1, 0]], dtype=bool), True) == 2
    assert pair_slots(np.zeros((1, 2), dtype=bool), True) == 1


def test_the_partial_sums_of_a_window_must_fit_the_scratchpad(tmp_path):
    # W = 4 partial sums of 16 bits = 8 bytes per PE
    args = (tmp_path, _linear(2, 1), 4, "dataflow.time_window=4")
    df, _ = _df(*args, "pe_array.scratchpad_bytes=8")
    assert df.window == 4
    with pytest.raises(MappingError, match=r"ptb: a PE keeps the 4 partial sums .* \(8 bytes\), more than "
                                           r"pe_array.scratchpad_bytes \(7\); lower dataflow.time_window"):
        _df(*args, "pe_array.scratchpad_bytes=7")


ROUNDS = ("pe_array.rows=4", "pe_array.cols=2", "dataflow.spike_format=bitmap")


def test_a_short_last_window_in_a_round_of_its_own(tmp_path):
    # T = 5, W = 2: TWs {0,1} {2,3} {4}; C = 2 columns: P = 2 TWs side by side, one pixel;
    # round 0 holds TWs 0-1 (slots of W = 2 cycles), round 1 only TW 2 (1 timestep: 1 cycle)
    x = np.zeros((5, 2), dtype=bool)
    x[0, 0] = x[4, 0] = True  # input 0 spikes in TW 0 and TW 2; input 1 is silent
    df, layer = _df(tmp_path, _linear(2, 1), 5, *ROUNDS, spikes={"fc": x})
    assert (df.window, df.windows, df.parallel) == (2, 3, 2)
    assert [df._round_len(r0) for r0 in (0, 2)] == [2, 1]
    (step,) = df.gemm_candidates(layer)[0].steps
    # one slot in each round: 2 + 1 = 3 cycles, then the drain R + C - 2 = 4; tags: 2 input
    # tags + 1 live input x 2 columns = 4 bits (1 cycle at 64 per cycle)
    assert step.cycles == 3 + 4 and step.tag_bits == 4
    assert step.acc_ops == 2 and step.dense_ops == 1 * 2 * 1 * 5
    # no skipping: both inputs stream in both rounds: 2 x 2 + 2 x 1 = 6, + drain; no tags;
    # every dense op is an accumulate; the 5 x 2 bitmap = 10 bits = 2 bytes
    df, layer = _df(tmp_path, _linear(2, 1), 5, *ROUNDS, "dataflow.zero_skip=false", spikes={"fc": x})
    (step,) = df.gemm_candidates(layer)[0].steps
    assert step.cycles == 6 + 4 and step.tag_bits == 0
    assert step.acc_ops == step.dense_ops == 10 and step.s_bytes == 2


def test_a_one_cycle_stream_still_drains(tmp_path):
    # T = 1: W = 1, one TW; one spike: one slot of 1 cycle, then the drain R + C - 2 = 4
    x = np.array([[True, False]])
    df, layer = _df(tmp_path, _linear(2, 1), 1, *ROUNDS, spikes={"fc": x})
    (step,) = df.gemm_candidates(layer)[0].steps
    assert step.cycles == 1 + 4


def test_the_last_chunk_drains_what_an_earlier_chunk_streamed(tmp_path):
    # T = 2 (W = 2, one TW), R = 4, C = 2: 1 pixel; L1 half 15 bytes. footprint(kc) =
    # kc weight bytes + ceil((2 kc spike bits + kc tags) / 8) + outputs (2 x 16-bit psums = 4,
    # membrane in and out 2 + 2, 2 spike bits = 1: 9): kc = 4 -> 4 + 2 + 9 = 15, kc = 5 -> 16
    x = np.zeros((2, 8), dtype=bool)
    x[0, 1] = True  # only input 1 (first chunk) spikes
    sets = (*ROUNDS, "buffers.l1.capacity_bytes=30", "buffers.l1.double_buffered=true")
    df, layer = _df(tmp_path, _linear(8, 1), 2, *sets, spikes={"fc": x})
    cand = df.gemm_candidates(layer)[0]
    assert cand.label == "n>m>k, pixels/tile=1, k chunk=4"
    # chunk 0: one slot of 2 cycles; chunk 1 streams nothing but pays the drain of 4
    assert [(s.k0, s.k1, s.cycles, s.last_k) for s in cand.steps] == [(0, 4, 2, False), (4, 8, 4, True)]
    with pytest.raises(MappingError, match=r"the smallest ptb tile \(one reduction element\) needs 11 bytes"):
        _df(tmp_path, _linear(8, 1), 2, *ROUNDS, "buffers.l1.capacity_bytes=20")[0].gemm_candidates(layer)


def test_partial_channel_blocks_and_pixel_groups_in_both_orders(tmp_path):
    # 1x1 conv: M = 3 pixels, K = 3, N = 5; R = 4 rows: channel blocks of 4 and 1; C = 4, T = 4,
    # W = 2: P = 2 TWs x C // P = 2 pixels: pixel groups of 2 and 1
    conv = "  - {name: c, op: conv2d, in_shape: [3, 1, 3], out_channels: 5, kernel: 1, neuron: lif}\n"
    df, layer = _df(tmp_path, conv, 4, "pe_array.rows=4", "pe_array.cols=4")
    nmk, mnk = df.gemm_candidates(layer)
    assert nmk.label == "n>m>k, pixels/tile=2, k chunk=3" and mnk.label == "m>n>k, pixels/tile=2, k chunk=3"
    assert [(s.n0, s.nc, s.m0, s.mm) for s in nmk.steps] == [(0, 4, 0, 2), (0, 4, 2, 1), (4, 1, 0, 2), (4, 1, 2, 1)]
    assert [(s.n0, s.nc, s.m0, s.mm) for s in mnk.steps] == [(0, 4, 0, 2), (4, 1, 0, 2), (0, 4, 2, 1), (4, 1, 2, 1)]
    # C = 2 columns for 2 TWs: one pixel per group
    df, layer = _df(tmp_path, conv, 4, "pe_array.rows=4", "pe_array.cols=2")
    assert [(s.m0, s.mm) for s in df.gemm_candidates(layer)[0].steps[:3]] == [(0, 1), (1, 1), (2, 1)]


def test_rows_without_a_nonzero_weight_into_the_block_are_not_streamed(tmp_path):
    # linear 4 -> 2 on R = 1 (one channel per block), C = 2, T = 1; inputs 0-2 spike;
    # channel 0 has weights from inputs 0 and 1, channel 1 only from input 2
    mask = np.zeros((4, 2), dtype=bool)
    mask[0, 0] = mask[1, 0] = mask[2, 1] = True
    x = np.array([[True, True, True, False]])
    df, layer = _df(tmp_path, _linear(4, 2), 1, "pe_array.rows=1", "pe_array.cols=2", spikes={"fc": x},
                    masks={"fc": mask})
    s0, s1 = df.gemm_candidates(layer)[0].steps
    # block 0: inputs 0 and 1 (same column: no pairing): 2 slots + drain R + C - 2 = 1; 2 weight bytes
    assert (s0.n0, s0.cycles, s0.w_bytes, s0.acc_ops) == (0, 2 + 1, 2, 2)
    # block 1: input 2 only
    assert (s1.n0, s1.cycles, s1.w_bytes, s1.acc_ops) == (1, 1 + 1, 1, 1)
    # without skipping every input streams into both blocks: 4 slots + drain, 4 weight bytes each
    df, layer = _df(tmp_path, _linear(4, 2), 1, "pe_array.rows=1", "pe_array.cols=2", "dataflow.zero_skip=false",
                    spikes={"fc": x}, masks={"fc": mask})
    assert [(s.n0, s.cycles, s.w_bytes) for s in df.gemm_candidates(layer)[0].steps] == [(0, 4 + 1, 4), (1, 4 + 1, 4)]


def test_compressed_weights_are_sized_by_the_real_nonzeros_of_the_live_rows(tmp_path):
    # linear 16 -> 2, R = 2 (one block), T = 1, every input spikes; channel 0 has weights from
    # inputs 0-7, channel 1 none: 8 live rows x 2 columns, 8 nonzeros. Compressed: count
    # bits_for(17) = 5, (2 + 1) column pointers x bits_for(9) = 12, 8 x (bits_for(8) + 8) = 88:
    # 105 bits = 14 bytes < the dense 8 x 2 bytes = 16
    mask = np.zeros((16, 2), dtype=bool)
    mask[:8, 0] = True
    x = np.ones((1, 16), dtype=bool)
    sets = ("pe_array.rows=2", "pe_array.cols=2", "dataflow.weight_compression=true")
    df, layer = _df(tmp_path, _linear(16, 2), 1, *sets, spikes={"fc": x}, masks={"fc": mask})
    (step,) = df.gemm_candidates(layer)[0].steps
    assert step.w_bytes == 14
    # dense weights (no mask): 16 rows x 2 x 8 bits = 32 bytes (compression does not pay)
    df, layer = _df(tmp_path, _linear(16, 2), 1, *sets, spikes={"fc": x})
    (step,) = df.gemm_candidates(layer)[0].steps
    assert step.w_bytes == 32
