"""ptb's :meth:`Ptb._chunks` (every reduction chunk of a pixel group at once, issue 17's
session 29) gives the same tuples as :meth:`Ptb._chunk`, chunk by chunk: stream cycles
(rounds, pairing across a chunk's boundary refused), live inputs, spikes, tag bits, the
spike format picked and its bytes. Random activity over the cases that change a rule:
T a multiple of the window or not, more windows than columns (rounds), packing on and
off, a weight mask or none, every format allowed or one, chunks that stream nothing."""


import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.activity import Im2col
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def _ptb(tmp_path, T: int, K: int, *sets):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: p\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n"
                 f"  - {{name: fc, op: linear, in_shape: [{K}], out_features: 4, neuron: lif}}\n")
    wl = load_workload(f, seed=0)
    return make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=ptb", *sets]), wl), wl.layers[0]


class _Act:
    def __init__(self, x):
        self.x = x


CASES = [
    (4, (), 0.3),  # T = 2 windows of 2, one round
    (5, (), 0.2),  # a short last window (padding)
    (8, ("pe_array.cols=2",), 0.1),  # 4 windows on 2 columns: rounds
    (7, ("pe_array.cols=2", "dataflow.time_window=3"), 0.15),  # rounds and a short window
    (4, ("dataflow.packing=none",), 0.3),
    (6, ("dataflow.spike_format=rle",), 0.05),
    (6, ("dataflow.spike_format=aer",), 0.4),
    (4, (), 0.0),  # nothing streams
    (4, (), 0.9),
]


@pytest.mark.parametrize("T, sets, rate", CASES)
@pytest.mark.parametrize("masked", [False, True])
def test_chunks_equal_chunk_by_chunk(tmp_path, T, sets, rate, masked):
    df, _ = _ptb(tmp_path, T, 8, *sets)
    rng = np.random.default_rng(T * 100 + int(rate * 10) + masked)
    M, K = 11, 203
    x = rng.random((T, M, K)) < rate
    x[:, :, 40:60] = False  # a run of silent inputs: a chunk that streams little or nothing
    act = _Act(x)
    cache: dict = {}  # the pixel groups' activity, kept over chunk sizes and weight masks
    for m0, mm in ((0, 8), (8, 3)):
        for kc in (1, 7, 50, 203, 300):
            wlive = (rng.random(K) < 0.7) if masked else None  # each call another block's mask
            got = df._chunks(act, m0, mm, kc, None if wlive is None else wlive.copy(), cache)
            want = [df._chunk(act, m0, mm, k0, min(K, k0 + kc), None if wlive is None else wlive[k0:k0 + kc])
                    for k0 in range(0, K, kc)]
            assert len(got) == len(want)
            for g, w in zip(got, want):
                assert g[0] == w[0] and g[2:] == w[2:], (m0, mm, kc)
                assert np.array_equal(g[1], w[1])


def test_chunks_of_a_real_layer_equal_chunk_by_chunk(tmp_path):
    """A conv layer's im2col activity (overlapping windows) and its synthetic weight mask."""
    f = tmp_path / "w.yaml"
    f.write_text("name: p\ntimesteps: 4\nweight_bits: 8\nfiring_rate: 0.3\nlayers:\n"
                 "  - {name: c, op: conv2d, in_shape: [3, 8, 8], out_channels: 16, kernel: 3, padding: 1, neuron: lif, weight_sparsity: 0.5}\n")
    wl = load_workload(f, seed=1)
    df = make_dataflow(load_platform("edge-lpddr4", ["dataflow.name=ptb"]), wl)
    layer = wl.layers[0]
    act = Im2col(layer, wl.spikes[layer.name])
    blocks = df.weight_blocks(layer)
    assert not blocks.dense
    wlive = blocks.row_counts(0, 16) > 0
    K = act.K
    for kc in (5, 9, 27):
        got = df._chunks(act, 8, 8, kc, wlive)
        want = [df._chunk(act, 8, 8, k0, min(K, k0 + kc), None if wlive is None else wlive[k0:k0 + kc])
                for k0 in range(0, K, kc)]
        for g, w in zip(got, want):
            assert g[0] == w[0] and g[2:] == w[2:] and np.array_equal(g[1], w[1])


def test_chunks_read_a_pixel_groups_activity_from_the_cache(tmp_path):
    """The activity of a pixel group is worked out once and kept under ("activity", m0, mm): a
    later call for the group (another channel block) reads it there, not from ``act``."""
    df, _ = _ptb(tmp_path, 4, 8)
    x = np.random.default_rng(5).random((4, 8, 30)) < 0.3
    silent = _Act(np.zeros_like(x))
    cache: dict = {}
    first = df._chunks(_Act(x), 0, 8, 10, None, cache)
    assert list(cache) == [("activity", 0, 8)] and isinstance(cache["activity", 0, 8], tuple)
    assert all(c[0] > 0 for c in first)
    again = df._chunks(silent, 0, 8, 10, None, cache)
    assert [c[0] for c in again] == [c[0] for c in first] and [c[2] for c in again] == [c[2] for c in first]
    assert all(c[0] == 0 for c in df._chunks(silent, 0, 8, 10, None))  # no cache: the silent activity


def test_two_active_inputs_with_disjoint_columns_share_one_slot(tmp_path):
    # T = 4, W = 2: two TWs side by side (P = 2), one pixel: input 0 spikes in TW 0, input 1 in
    # TW 1: their column masks do not overlap, so they share one slot of W = 2 cycles
    df, _ = _ptb(tmp_path, 4, 8)
    x = np.zeros((4, 1, 2), dtype=bool)
    x[0, 0, 0] = x[3, 0, 1] = True
    (chunk,) = df._chunks(_Act(x), 0, 1, 2, None)
    assert chunk[0] == 2 and chunk[2] == 2
    x[1, 0, 1] = True  # input 1 now in TW 0 too: the masks overlap, two slots
    (chunk,) = df._chunks(_Act(x), 0, 1, 2, None)
    assert chunk[0] == 4


def test_without_skipping_every_chunk_streams_all_its_inputs(tmp_path):
    # tests/dataflow/test_ptb_rules.py's two-chunk layer (T = 2, one TW; R = 4, C = 2: one pixel;
    # k chunk 4 of K = 8) with zero_skip false: each chunk streams its 4 inputs, a slot of W = 2
    # cycles each; the last drains R + C - 2 = 4; its 2 x 4 bitmap is one byte, no tags
    f = tmp_path / "w.yaml"
    f.write_text("name: p\ntimesteps: 2\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n"
                 "  - {name: fc, op: linear, in_shape: [8], out_features: 1, neuron: lif}\n")
    wl = load_workload(f, seed=0)
    sets = ["dataflow.name=ptb", "pe_array.rows=4", "pe_array.cols=2", "dataflow.spike_format=bitmap",
            "buffers.l1.capacity_bytes=30", "buffers.l1.double_buffered=true", "dataflow.zero_skip=false"]
    df = make_dataflow(load_platform("ddr4-baseline", sets), wl)
    cand = df.gemm_candidates(wl.layers[0])[0]
    assert cand.label == "n>m>k, pixels/tile=1, k chunk=4"
    assert [(s.k0, s.k1, s.cycles, s.s_bytes, s.tag_bits) for s in cand.steps] == [(0, 4, 8, 1, 0), (4, 8, 12, 1, 0)]
