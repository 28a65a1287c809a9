"""The weight-stationary base (tlmsim/dataflow/ws.py) by hand, against the survivors of its
session-8 mutation run (tags s8ws, s8wsb): the tile shapes the tiler keeps when a fold count
gives no fewer tiles, the spike bound of a tile whose bitmap fills whole bytes, and the spike
slices of tiles that read activity without skipping (each tile its own pixels and rows)."""

from dataclasses import replace

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.ws import tile_shapes
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def _wl(tmp_path, layer: str, T: int = 1):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: w\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n  - {layer}\n")
    return load_workload(f, seed=0)


def _df(wl, dataflow: str, *sets):
    return make_dataflow(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}", *sets]), wl)


# -- tile_shapes: a shape with fewer pixels and no fewer tiles is left out, the next is still tried --

def test_tile_shapes_skip_a_fold_count_without_fewer_tiles_and_go_on():
    # footprint m x g within 12 bytes, 10 pixels, 6 folds: gmax = 6 (1 x 6), m1 = 10, g1 = 1 (10 x 2 > 12);
    # ladder of 6 folds: 1, ceil(6 / 2) = 3, ceil(6 / 4) = 2, 6 -> 1, 2, 3, 6.
    # g = 1: m = 10, ceil(10 / 10) x 6 = 6 tiles, kept; g = 2: m = 6, 2 x 3 = 6 tiles (not fewer): left out;
    # g = 3: m = 4, 3 x 2 = 6: left out; g = 6: m = 2, 5 x 1 = 5 tiles: kept
    assert tile_shapes(12, 10, 6, lambda m, g: m * g) == [(10, 1), (2, 6)]


# -- the L1 footprint of a dense-ws tile: no activity tags, a bitmap that fills whole bytes --------

@pytest.mark.parametrize("l1, fits", [(60, True), (58, False)])
def test_dense_ws_footprint_of_a_one_byte_bitmap_has_no_tag_bits(tmp_path, l1, fits):
    # R = 8 rows, 2 columns: one fold of 8 x 2 8-bit weights = 16 bytes; one pixel's spikes for it:
    # 8 bits = 1 byte (no tag bit: dense-ws reads no activity tags; one more bit would make it 2);
    # the outputs of 2 neurons at T = 1 (psums 4 + membrane 8 + spikes 1, as in test_ws_rules.py) 13:
    # 30 bytes, an L1 half of 30 (capacity 60, double buffered) holds it, one of 29 does not
    wl = _wl(tmp_path, "{name: fc, op: linear, in_shape: [8], out_features: 2, neuron: lif}")
    df = _df(wl, "dense-ws", "pe_array.rows=8", "pe_array.cols=2", f"buffers.l1.capacity_bytes={l1}",
             "buffers.l1.double_buffered=true")
    if fits:
        assert [c.label for c in df.gemm_candidates(wl.layers[0])] == ["n>m>k, m=1, folds/tile=1",
                                                                       "m>n>k, m=1, folds/tile=1"]
    else:
        with pytest.raises(MappingError, match=r"\(one fold and output pixel\) needs 30 bytes, more than an "
                                               r"L1 half \(29 bytes\)"):
            df.gemm_candidates(wl.layers[0])


# -- spike slices read without skipping: each tile its own pixels and rows ------------------------

def test_spikex_without_skipping_sizes_each_tiles_own_slice(tmp_path):
    # a 1 x 1 conv on 4 channels x 1 x 4 pixels: im2col row p, column c is input channel c at pixel p;
    # M = 4 pixels, K = 4 rows in 2 folds of R = 2, 2 output channels. An L1 of 72 (halves of 36) gives
    # tiles of 2 pixels x 1 fold: (pixels 0-1, rows 0-1), (0-1, 2-3), (2-3, 0-1), (2-3, 2-3) (n>m>k).
    # Spikes at T = 1: rows 2-3 of pixels 0-1 (4), row 0 of pixel 2 (1), row 3 of pixel 2 and row 2 of pixel 3 (2).
    # AER of a tile (1 timestep, 2 x 2 = 4 positions): count bits_for(5) = 3, then bits_for(1) + bits_for(4)
    # = 3 bits per spike: 0 spikes 3 bits -> 1 byte, 4 -> 15 -> 2, 1 -> 6 -> 1, 2 -> 9 -> 2.
    # (A slice from pixel 0 or row 0, or to the last pixel or row, would hold 8 positions and more spikes:
    # 4 + 4 per spike bits, e.g. 6 spikes of pixels 0-3, rows 2-3 -> 28 bits -> 4 bytes.)
    wl = _wl(tmp_path, "{name: c1, op: conv2d, in_shape: [4, 1, 4], out_channels: 2, kernel: 1, neuron: lif}")
    x = np.zeros((1, 4, 1, 4), dtype=bool)  # (T, channel, row, column)
    x[0, 2:4, 0, 0:2] = True
    x[0, 0, 0, 2] = True
    x[0, 3, 0, 2] = x[0, 2, 0, 3] = True
    wl = replace(wl, spikes={**wl.spikes, "c1": x.reshape(1, -1)})
    df = _df(wl, "spikex", "dataflow.zero_skip=false", "dataflow.spike_format=aer", "pe_array.rows=2",
             "pe_array.cols=2", "buffers.l1.capacity_bytes=72", "buffers.l1.double_buffered=true")
    cands = {c.label: c for c in df.gemm_candidates(wl.layers[0])}
    assert list(cands) == ["n>m>k, m=2, folds/tile=1", "m>n>k, m=2, folds/tile=1"]
    steps = cands["n>m>k, m=2, folds/tile=1"].steps
    assert [(s.m0, s.mm, s.k0, s.k1, s.spike_format, s.s_bytes, s.tag_bits) for s in steps] == [
        (0, 2, 0, 2, "aer", 1, 0), (0, 2, 2, 4, "aer", 2, 0), (2, 2, 0, 2, "aer", 1, 0), (2, 2, 2, 4, "aer", 2, 0)]
    # the other loop order reads the same slices (shared cache), in the same order here (one output block)
    assert [(s.m0, s.k0, s.s_bytes) for s in cands["m>n>k, m=2, folds/tile=1"].steps] == [
        (s.m0, s.k0, s.s_bytes) for s in steps]


# -- weights kept across pixel chunks: only with one core ----------------------------------------

TWO_CORES = ["pe_array.cores=2", 'noc.nodes={"dram": [0, 0], "glb": [1, 0], "l1": [[1, 1], [0, 1]]}']


@pytest.mark.parametrize("cores, second", [(1, (6, 0, 0)), (2, (10, 8, 8))])
def test_dense_ws_keeps_the_one_fold_for_the_next_pixel_chunk_on_one_core_only(tmp_path, cores, second):
    # a 1 x 1 conv, K = 4 input channels in one fold of R = 4 rows x 2 output channels (one output
    # block), M = 4 pixels in chunks of 2 (an L1 of 72, halves of 36). A tile: fill R = 4 + stream 2 pixels
    # x 1 timestep + skew R + C - 2 = 4: 10 cycles, 4 x 2 8-bit weights = 8 bytes and 8 PE weight loads.
    # One core: the second chunk finds the fold in the array: 0 + 2 + 4 = 6 cycles, no weight moved.
    # Two cores: the second chunk may run on the other core: it loads the fold again.
    wl = _wl(tmp_path, "{name: c1, op: conv2d, in_shape: [4, 1, 4], out_channels: 2, kernel: 1, neuron: lif}")
    df = _df(wl, "dense-ws", "pe_array.rows=4", "pe_array.cols=2", "buffers.l1.capacity_bytes=72",
             "buffers.l1.double_buffered=true", *(TWO_CORES if cores == 2 else []))
    for cand in df.gemm_candidates(wl.layers[0]):  # n>m>k and m>n>k: the same tiles with one output block
        assert cand.label.endswith("m=2, folds/tile=1")
        assert [(s.m0, s.cycles, s.w_bytes, s.pe_weight_loads) for s in cand.steps] == [(0, 10, 8, 8), (2, *second)]
