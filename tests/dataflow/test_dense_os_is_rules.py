"""dense-os and dense-is tile by tile, by hand (tlmsim/dataflow/dense_os.py, dense_is.py):
a reduction split into chunks with a partial last one, partial row and column blocks,
both loop orders, the L1 footprint that sets the chunk, and the error when not even one
element fits."""


import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload

# 1x1 conv: M = 3 pixels, K = 7 input channels, N = 4 output channels
CONV = "  - {name: c, op: conv2d, in_shape: [7, 1, 3], out_channels: 4, kernel: 1, neuron: lif}\n"


def _df(tmp_path, dataflow: str, *sets, T: int = 2, layers: str = CONV):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: d\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n{layers}")
    wl = load_workload(f, seed=0)
    df = make_dataflow(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}", *sets]), wl)
    return df, wl.layers[0]


def _row(s):
    return (s.t0, s.m0, s.mm, s.n0, s.nc, s.k0, s.k1, s.cycles, s.w_bytes, s.s_bytes, s.dense_ops, s.acc_ops, s.last_k)


OS_ARRAY = ("pe_array.rows=2", "pe_array.cols=3", "buffers.l1.capacity_bytes=96", "buffers.l1.double_buffered=true")


def test_dense_os_chunks_the_reduction_and_pays_the_pipeline_once_per_block(tmp_path):
    # R = 2 pixels x C = 3 channels; L1 half 48 bytes. footprint(kk) = ceil(2 kk / 8) spike bytes
    # + 3 kk weight bytes + outputs of 6 PEs (6 x 16-bit psums 12, membranes in and out 12 + 12,
    # 6 spike bits 1: 37): kk = 3 -> 1 + 9 + 37 = 47, kk = 4 -> 1 + 12 + 37 = 50: chunks of 3, 3, 1
    df, layer = _df(tmp_path, "dense-os", *OS_ARRAY)
    mnk, nmk = df.gemm_candidates(layer)
    assert (mnk.label, nmk.label) == ("m>n>k, k chunk=3", "n>m>k, k chunk=3")
    # pixel blocks of 2 and 1 (m0 0, 2), channel blocks of 3 and 1 (n0 0, 3); the last chunk pays
    # the pipeline R + C - 2 = 3: cycles 3, 3, 1 + 3
    expect_block = [  # (t, m0, mm, n0, nc, k0, k1, cycles, w bytes, spike bytes, dense, acc, last)
        (0, 0, 2, 0, 3, 0, 3, 3, 9, 1, 18, 18, False),
        (0, 0, 2, 0, 3, 3, 6, 3, 9, 1, 18, 18, False),
        (0, 0, 2, 0, 3, 6, 7, 4, 3, 1, 6, 6, True),
    ]
    assert [_row(s) for s in mnk.steps[:3]] == expect_block
    # the corner block: 1 pixel x 1 channel; a 1 x 3 spike slice is 1 byte, a 1 x 3 weight slice 3
    assert [_row(s) for s in mnk.steps[9:12]] == [
        (0, 2, 1, 3, 1, 0, 3, 3, 3, 1, 3, 3, False),
        (0, 2, 1, 3, 1, 3, 6, 3, 3, 1, 3, 3, False),
        (0, 2, 1, 3, 1, 6, 7, 4, 1, 1, 1, 1, True),
    ]
    assert len(mnk.steps) == 2 * 4 * 3  # T x blocks x chunks
    order = lambda c: [(s.m0, s.n0) for s in c.steps[:12:3]]  # noqa: E731
    assert order(mnk) == [(0, 0), (0, 3), (2, 0), (2, 3)]
    assert order(nmk) == [(0, 0), (2, 0), (0, 3), (2, 3)]
    assert [_row(s) for s in nmk.steps[:3]] == expect_block
    # L1 half 50 = footprint(4): chunks of 4 and 3
    df, layer = _df(tmp_path, "dense-os", *OS_ARRAY[:2], "buffers.l1.capacity_bytes=100")
    assert df.gemm_candidates(layer)[0].label == "m>n>k, k chunk=4"
    # weight compression (dense weights: never smaller) moves the same bytes
    df, layer = _df(tmp_path, "dense-os", *OS_ARRAY, "dataflow.weight_compression=true")
    assert [s.w_bytes for s in df.gemm_candidates(layer)[0].steps[:3]] == [9, 9, 3]


@pytest.mark.parametrize("dataflow, what, need", [("dense-os", "reduction element", 41),
                                                  ("dense-is", "fold and output channel", 22)])
def test_the_smallest_tile_must_fit_an_l1_half(tmp_path, dataflow, what, need):
    # dense-os, one reduction element: 1 spike byte + 1 x 3 weight bytes + 37 output bytes = 41;
    # dense-is, one fold of R x C = 6 input bits (1 byte) x one channel: 2 x 1 weight bytes + the
    # outputs of C = 3 pixels (3 x 16-bit psums 6, membranes in and out 6 + 6, 3 spike bits 1) = 22
    df, layer = _df(tmp_path, dataflow, *OS_ARRAY[:2], "buffers.l1.capacity_bytes=20")
    with pytest.raises(MappingError, match=rf"layer 'c': the smallest {dataflow} tile \(one {what}\) needs "
                                           rf"{need} bytes, more than an L1 half \(10 bytes\)"):
        df.gemm_candidates(layer)


IS_ARRAY = ("pe_array.rows=2", "pe_array.cols=3", "buffers.l1.capacity_bytes=82", "buffers.l1.double_buffered=true")
# 1x1 conv: M = 7 pixels (pixel blocks of C = 3: 3, 3, 1), K = 5 (folds of R = 2: 2, 2, 1), N = 2
IS_CONV = "  - {name: c, op: conv2d, in_shape: [5, 1, 7], out_channels: 2, kernel: 1, neuron: lif}\n"


def test_dense_is_tile_shapes_from_the_l1_footprint(tmp_path):
    # L1 half 41 bytes; footprint(nn, g, gm) = gm x ceil(6 g / 8) input bytes + 2 g nn weight bytes
    # + the outputs of gm x 3 x nn pixels (o of them: 16-bit psums 2 o, membranes in and out 4 o,
    # o spike bits). One channel only (nn = 2 with one fold: 1 + 4 + 36 + 1 = 42). Folds g = 1, 2, 3
    # (the ladder of fk = 3; g = 3: 3 + 6 + 18 + 1 = 28 fits): g = 1 takes gm = 2 pixel blocks
    # (2 + 2 + 36 + 1 = 41; chunks (fk, N, fm) = (3, 2, 2)), g = 2 and 3 one block (g = 2, gm = 2:
    # 4 + 4 + 37 = 45; chunks (2, 2, 3) and (1, 2, 3)); (1, 2, 3) needs no more chunks than (2, 2, 3)
    df, layer = _df(tmp_path, "dense-is", *IS_ARRAY, layers=IS_CONV)
    cands = df.gemm_candidates(layer)
    shapes = ["n chunk=1, folds/tile=1, pixel blocks/tile=2", "n chunk=1, folds/tile=3, pixel blocks/tile=1"]
    assert [c.label for c in cands] == [f"{o}, {s}" for s in shapes for o in ("m>n>k", "n>m>k")]
    mnk, nmk = cands[0], cands[1]
    # a tile of 2 pixel blocks x 1 fold: 2 folds, each loads R = 2 input rows; double-buffered,
    # the second load hides behind the first stream (N chunk = 1 cycle) except 1 cycle:
    # 2 + 1 + 1 + 1 (hidden excess) + skew R + C - 2 = 3 -> 8; a lone block: 2 + 1 + 3 = 6
    # (t, m0, mm, n0, nc, k0, k1, cycles, w bytes, spike bytes, dense, acc, last)
    assert [_row(s) for s in mnk.steps[:3]] == [
        (0, 0, 6, 0, 1, 0, 2, 8, 2, 2, 12, 12, False),
        (0, 0, 6, 0, 1, 2, 4, 8, 2, 2, 12, 12, False),
        (0, 0, 6, 0, 1, 4, 5, 8, 1, 2, 6, 6, True),
    ]
    assert [_row(s) for s in mnk.steps[6:9]] == [
        (0, 6, 1, 0, 1, 0, 2, 6, 2, 1, 2, 2, False),
        (0, 6, 1, 0, 1, 2, 4, 6, 2, 1, 2, 2, False),
        (0, 6, 1, 0, 1, 4, 5, 6, 1, 1, 1, 1, True),
    ]
    assert [(s.m0, s.n0) for s in mnk.steps[:12:3]] == [(0, 0), (0, 1), (6, 0), (6, 1)]
    assert [(s.m0, s.n0) for s in nmk.steps[:12:3]] == [(0, 0), (6, 0), (0, 1), (6, 1)]
    assert len(mnk.steps) == 2 * 4 * 3
    # weight compression (dense weights: never smaller) changes no byte
    df, layer = _df(tmp_path, "dense-is", *IS_ARRAY, "dataflow.weight_compression=true", layers=IS_CONV)
    assert [s.w_bytes for s in df.gemm_candidates(layer)[0].steps[:3]] == [2, 2, 1]


def test_dense_is_keeps_the_inputs_the_array_already_holds(tmp_path):
    # K = 2 fits one fold; tiles of 1 pixel block x 1 channel. Pixels outer: the two channel
    # tiles of a block share its inputs, the second loads none: 0 + 1 + 3 = 4 cycles instead of
    # 2 + 1 + 3 = 6. Channels outer: consecutive tiles change block, every tile loads
    conv = "  - {name: c, op: conv2d, in_shape: [2, 1, 7], out_channels: 2, kernel: 1, neuron: lif}\n"
    df, layer = _df(tmp_path, "dense-is", *IS_ARRAY, layers=conv)
    mnk, nmk = (df._steps(layer, 1, 1, 1, order) for order in ("m>n>k", "n>m>k"))
    assert [(s.m0, s.n0, s.cycles, s.s_bytes) for s in mnk[:6]] == [
        (0, 0, 6, 1), (0, 1, 4, 0), (3, 0, 6, 1), (3, 1, 4, 0), (6, 0, 6, 1), (6, 1, 4, 0)]
    assert mnk[6].cycles == 6  # the next timestep's inputs are new
    assert [(s.m0, s.n0, s.cycles, s.s_bytes) for s in nmk[:6]] == [
        (0, 0, 6, 1), (3, 0, 6, 1), (6, 0, 6, 1), (0, 1, 6, 1), (3, 1, 6, 1), (6, 1, 6, 1)]
