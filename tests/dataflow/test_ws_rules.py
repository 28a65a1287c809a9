"""The weight-stationary base (tlmsim/dataflow/ws.py) by hand, through dense-ws and
spikex: weight blocks compressed by their real nonzeros, a reduction split into
one-fold tiles (partial last fold), spikex without skipping in a sparse format, spikex
skipping with bitmaps, and a chunk with no spike at all (only its tags move)."""

from dataclasses import replace

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def _df(tmp_path, dataflow: str, K: int, T: int, *sets, spikes=None, masks=None):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: w\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n"
                 f"  - {{name: fc, op: linear, in_shape: [{K}], out_features: 2, neuron: lif}}\n")
    wl = load_workload(f, seed=0)
    if spikes is not None:
        wl = replace(wl, spikes={**wl.spikes, "fc": spikes})
    if masks is not None:
        wl = replace(wl, weight_masks={"fc": masks})
    df = make_dataflow(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}", "pe_array.rows=2",
                                                       "pe_array.cols=2", *sets]), wl)
    return df, wl.layers[0]


def test_dense_ws_compressed_weights_by_the_real_nonzeros(tmp_path):
    # K = 4 in two folds of 2 rows x 2 channels; fold 0 holds 1 nonzero, fold 1 all 4.
    # fold 0 compressed: bits_for(5) + 3 x bits_for(2) + 1 x (bits_for(2) + 8) = 3 + 3 + 9 = 15 bits
    # = 2 bytes; fold 1: 3 + 3 x 3 + 4 x 9 = 48 bits > the dense 32: 4 bytes
    mask = np.zeros((4, 2), dtype=bool)
    mask[0, 0] = True
    mask[2:, :] = True
    df, layer = _df(tmp_path, "dense-ws", 4, 1, "dataflow.weight_compression=true", masks=mask)
    assert sum(s.w_bytes for s in df.gemm_candidates(layer)[0].steps) == 2 + 4
    # dense weights: compression never pays: 2 x 4 bytes
    df, layer = _df(tmp_path, "dense-ws", 4, 1, "dataflow.weight_compression=true")
    assert sum(s.w_bytes for s in df.gemm_candidates(layer)[0].steps) == 8


def test_dense_ws_one_fold_per_tile_with_a_partial_last_fold(tmp_path):
    # K = 5: folds of 2, 2, 1 rows; L1 half 18 bytes: footprint(1 pixel, g folds) = 4 g weight
    # bytes + ceil(2 g / 8) spike bytes + the outputs of 2 neurons (4 + 8 + 1 = 13): g = 1 -> 18
    df, layer = _df(tmp_path, "dense-ws", 5, 1, "buffers.l1.capacity_bytes=36", "buffers.l1.double_buffered=true")
    cand = df.gemm_candidates(layer)[0]
    assert cand.label == "n>m>k, m=1, folds/tile=1"
    assert [(s.k0, s.k1, s.s_bytes, s.w_bytes, s.last_k) for s in cand.steps] == [
        (0, 2, 1, 4, False), (2, 4, 1, 4, False), (4, 5, 1, 2, True)]
    with pytest.raises(MappingError, match=r"the smallest dense-ws tile \(one fold and output pixel\) needs 18 bytes"):
        _df(tmp_path, "dense-ws", 5, 1, "buffers.l1.capacity_bytes=34")[0].gemm_candidates(layer)


SPIKES = np.array([[1, 0, 0, 0], [0, 1, 0, 1]], dtype=bool)  # T = 2: input 0 at t = 0, inputs 1 and 3 at t = 1


def test_spikex_without_skipping_moves_spikes_in_the_format_it_is_told(tmp_path):
    # one tile, all 4 inputs, 2 timesteps, 1 pixel: AER of 3 events in 8 positions:
    # bits_for(9) + 3 x (bits_for(2) + bits_for(4)) = 4 + 3 x 3 = 13 bits = 2 bytes (bitmap: 1)
    df, layer = _df(tmp_path, "spikex", 4, 2, "dataflow.zero_skip=false", "dataflow.spike_format=aer",
                    spikes=SPIKES)
    (step,) = df.gemm_candidates(layer)[0].steps
    assert (step.spike_format, step.s_bytes, step.tag_bits) == ("aer", 2, 0)


def test_spikex_skips_with_bitmap_spikes_too(tmp_path):
    # only input 0 spikes: one compacted fold of 1 row; its 1 x 2 weights move (2 bytes, not 8)
    x = np.zeros((2, 4), dtype=bool)
    x[0, 0] = True
    df, layer = _df(tmp_path, "spikex", 4, 2, "dataflow.spike_format=bitmap", spikes=x)
    (step,) = df.gemm_candidates(layer)[0].steps
    assert (step.spike_format, step.w_bytes, step.acc_ops) == ("bitmap", 2, 2)


def test_a_silent_chunk_moves_only_its_group_tags(tmp_path):
    # no spike: no fold streams, no weight moves; the 2 group tags of K = 4 (1 byte) move and are read
    df, layer = _df(tmp_path, "spikex", 4, 2, spikes=np.zeros((2, 4), dtype=bool))
    (step,) = df.gemm_candidates(layer)[0].steps
    assert (step.w_bytes, step.s_bytes, step.tag_bits, step.acc_ops) == (0, 1, 2, 0)


@pytest.mark.parametrize("zero_row, tiles", [
    # row 4 keeps one nonzero weight (into channel 0): its fold streams, in a second tile
    ((4, 1), [(0, 4, 4, 1 + 1, 4), (4, 6, 2, 1 + 1, 2)]),
    # row 4 has no nonzero weight: its fold is skipped, one tile covers the whole reduction; its
    # tags: 3 group tags + rows of groups 0-2 (2 + 2 + 2) = 9 bits = 2 bytes
    ((4, slice(None)), [(0, 6, 4, 1 + 2, 4)]),
])
def test_spikex_compacted_folds_split_over_tiles(tmp_path, zero_row, tiles):
    # K = 6, inputs 0, 3 and 4 spike: compacted folds {0, 3} and {4}; L1 half 19 bytes holds one
    # fold per tile: 4 weight bytes + ceil((2 spike bits + 3 group + 6 row tag bits) / 8) = 2
    # + the outputs of 2 neurons (13) = 19. A tile's rows run from its first fold's first row to
    # the next tile's. Spikes in AER: tile 1 (rows 0 and 3, both spiking): bits_for(3) + 2 x
    # (1 + 1) = 6 bits = 1 byte, + its tags (2 group + 4 row bits) 1 byte; tile 2 (row 4):
    # 1 + 1 x 2 = 3 bits, + 1 group + 2 row tags: 1 + 1
    x = np.zeros((1, 6), dtype=bool)
    x[0, [0, 3, 4]] = True
    mask = np.ones((6, 2), dtype=bool)
    mask[zero_row] = False
    df, layer = _df(tmp_path, "spikex", 6, 1, "buffers.l1.capacity_bytes=38", "buffers.l1.double_buffered=true",
                    "dataflow.spike_format=aer", spikes=x, masks=mask)
    cand = df.gemm_candidates(layer)[0]
    assert cand.label == "n>m>k, m=1, folds/tile=1"
    # (k0, k1, weight bytes, spike + tag bytes, accumulates)
    assert [(s.k0, s.k1, s.w_bytes, s.s_bytes, s.acc_ops) for s in cand.steps] == tiles


# -- tile shapes (issue 17): (pixels, folds) pairs that fit an L1 half ------------------------

def test_fold_ladder_is_the_balanced_splits_of_the_reduction():
    from tlmsim.dataflow.ws import fold_ladder
    # 36 folds in q = 1, 2, 4, 8, 16, 32 tiles: ceil(36 / q) = 36, 18, 9, 5, 3, 2; plus 1
    assert fold_ladder(36, 36) == [1, 2, 3, 5, 9, 18, 36]
    # 72 folds: 72, 36, 18, 9, 5, 3, 2 (q up to 64); above gmax = 31 left out, 31 itself added
    assert fold_ladder(72, 31) == [1, 2, 3, 5, 9, 18, 31]
    assert fold_ladder(1, 1) == [1]


def test_tile_shapes_by_hand():
    from tlmsim.dataflow.ws import tile_shapes

    def fp(m, g):  # an edge-like half: 256-byte folds, 100 bytes per pixel, 2 spike bytes per pixel and fold
        return 256 * g + 100 * m + 2 * m * g

    # gmax: 258 g + 100 <= 8192 -> 31; m1 = (8192 - 256) // 102 = 77, g1 = 1 (410 g + 7700 <= 8192).
    # m_g = (8192 - 256 g) // (100 + 2 g): g 1, 2, 3, 5, 9, 18 -> 77, 73, 70, 62, 49, 26, with
    # ceil(256 / m) x ceil(72 / g) = 288, 144, 96, 75, 48, 40 tiles; g = 31 -> m = 1: 768 tiles, left out
    assert tile_shapes(8192, 256, 72, fp) == [(77, 1), (73, 2), (70, 3), (62, 5), (49, 9), (26, 18)]
    # 4 pixels: they fit up to g1 = 29 folds (264 g + 400 <= 8192); g 1..18 give m = 4 and make way for
    # more folds; (4, 29): 1 x 3 tiles; g = 31 -> m = 1: 4 x 3 = 12 tiles, left out
    assert tile_shapes(8192, 4, 72, fp) == [(4, 29)]
    assert tile_shapes(100, 4, 72, fp) == []  # one pixel of one fold needs 358 bytes


def _conv_df(tmp_path, dataflow: str, l1: int):
    # 2 x 4 x 4 input, 2 output channels, 3 x 3, padding 1: M = 16 pixels, K = 18 (9 folds of R = 2)
    f = tmp_path / "c.yaml"
    f.write_text("name: c\ntimesteps: 1\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n"
                 "  - {name: c1, op: conv2d, in_shape: [2, 4, 4], out_channels: 2, kernel: 3, padding: 1, "
                 "neuron: lif}\n")
    wl = load_workload(f, seed=0)
    df = make_dataflow(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}", "pe_array.rows=2",
                                                       "pe_array.cols=2", f"buffers.l1.capacity_bytes={l1}",
                                                       "buffers.l1.double_buffered=true"]), wl)
    return df, wl.layers[0]


def test_dense_ws_tries_the_shapes_between_one_fold_and_all_folds(tmp_path):
    # L1 half 100 bytes; footprint(m, g) = 4 g weight bytes + ceil(2 m g / 8) spike bytes + the
    # outputs of 2 m neurons (2 x 2m psum, 2 x 2 x 2m membrane, ceil(2m / 8) spike bytes) = 12 m + ceil(m / 4):
    # g = 1: m1 = 7 (92 bytes; 8: 104), g1 = 2 (98); ladder of 9 folds: 1, 2, 3, 5, 9.
    # g = 2 -> m = 7 (replaces g = 1), g = 3 -> 6 (91; 7: 104), g = 5 -> 5 (89; 6: 102), g = 9 -> 4 (94; 5: 110);
    # tiles 3 x 5 = 15, 3 x 3 = 9, 4 x 2 = 8, 4 x 1 = 4: each fewer than the last, all kept. Before issue 17
    # only (7, 2) and (4, 9) were tried.
    df, layer = _conv_df(tmp_path, "dense-ws", 200)
    labels = [c.label for c in df.gemm_candidates(layer)]
    assert labels == [f"{o}, m={m}, folds/tile={g}" for m, g in ((7, 2), (6, 3), (5, 5), (4, 9))
                      for o in ("n>m>k", "m>n>k")]
    cand = df.gemm_candidates(layer)[4]  # n>m>k, 5 pixels x 5 folds: tiles (m0, k0, k1) over 4 chunks x 2 groups
    assert [(s.m0, s.mm, s.k0, s.k1, s.w_bytes, s.s_bytes, s.last_k) for s in cand.steps][:2] == [
        (0, 5, 0, 10, 5 * 4, 7, False), (0, 5, 10, 18, 4 * 4, 5, True)]  # spikes: ceil(5 x 10 / 8), ceil(5 x 8 / 8)


@pytest.mark.parametrize("sets", [(), ("pe_array.weight_double_buffer=false",), ("dataflow.weight_compression=true",),
                                  ("dataflow.time_window=2",)])
def test_dense_ws_memoised_tiles_equal_the_fold_loop(tmp_path, sets):
    # the memoised plain path of WsStreaming._steps against the per-fold loop (taken when a
    # subclass has its own _fold_stream, here the same rule), for every candidate
    from tlmsim.dataflow.dense_ws import DenseWS

    class Loop(DenseWS):
        def _fold_stream(self, cf, f, w0, w1, nc):
            return DenseWS._fold_stream(self, cf, f, w0, w1, nc)

    f = tmp_path / "c.yaml"
    f.write_text("name: c\ntimesteps: 3\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n"
                 "  - {name: c1, op: conv2d, in_shape: [3, 5, 5], out_channels: 5, kernel: 3, padding: 1, "
                 "neuron: lif, weight_sparsity: 0.5}\n")
    wl = load_workload(f, seed=0)
    p = load_platform("ddr4-baseline", ["dataflow.name=dense-ws", "pe_array.rows=4", "pe_array.cols=2",
                                        "buffers.l1.capacity_bytes=600", *sets])
    layer = wl.layers[0]
    fast, loop = DenseWS(platform=p, workload=wl).gemm_candidates(layer), Loop(platform=p, workload=wl).gemm_candidates(layer)
    assert len(fast) > 2 and [c.label for c in fast] == [c.label for c in loop]
    for a, b in zip(fast, loop):
        assert a.steps == b.steps
