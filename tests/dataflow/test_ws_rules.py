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
