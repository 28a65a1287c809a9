"""tlmsim/dataflow/activity.py by hand: im2col matrices written out (padding on one axis
only, stride per axis, the (c, kh, kw) column order, integer values kept), Im2col's
bool view and sizes, fan-out maps with different kernels, strides and paddings per
axis, fold sums and their dtype, the size of a tile in every spike format with its
field widths, best_bits' ties and run width, and the unknown-format refusal."""

import numpy as np
import pytest

from tlmsim.dataflow.activity import (
    Im2col,
    best_bits,
    fanout_map,
    fold_sums,
    im2col,
    spike_bits,
)
from tlmsim.workload import Layer


def _conv(in_shape, out_shape, kernel, stride=(1, 1), padding=(0, 0)) -> Layer:
    return Layer(index=0, name="c", op="conv2d", in_shape=in_shape, out_shape=out_shape, kernel=kernel,
                 stride=stride, padding=padding, neuron="lif", weight_sparsity=0.0, firing_rate=0.5)


def _linear(K: int) -> Layer:
    return Layer(index=0, name="fc", op="linear", in_shape=(K,), out_shape=(3,), kernel=(1, 1), stride=(1, 1),
                 padding=(0, 0), neuron="lif", weight_sparsity=0.0, firing_rate=0.5)


X = np.array([[[[1, 2], [3, 4]]]])  # T = 1, one channel, 2 x 2


def test_im2col_pads_the_width_alone():
    # kernel 1 x 2, padding (0, 1): padded rows [0 1 2 0] and [0 3 4 0]; 2 x 3 outputs
    layer = _conv((1, 2, 2), (1, 2, 3), (1, 2), padding=(0, 1))
    got = im2col(layer, X)
    assert got.tolist() == [[[0, 1], [1, 2], [2, 0], [0, 3], [3, 4], [4, 0]]]
    assert got.dtype == X.dtype  # integer values stay integers (verification mode)


def test_im2col_pads_the_height_alone():
    # kernel 2 x 1, padding (1, 0): padded columns [0 1 3 0] and [0 2 4 0]; 3 x 2 outputs
    layer = _conv((1, 2, 2), (1, 3, 2), (2, 1), padding=(1, 0))
    assert im2col(layer, X).tolist() == [[[0, 1], [0, 2], [1, 3], [2, 4], [3, 0], [4, 0]]]


def test_im2col_columns_are_channel_then_kernel_row_then_kernel_column():
    # 2 channels of 3 x 4 (values 0..23, then +100 at t = 1), kernel 2 x 2, stride (1, 2): 2 x 2 outputs
    x0 = np.arange(24).reshape(2, 3, 4)
    x = np.stack([x0, x0 + 100])
    layer = _conv((2, 3, 4), (5, 2, 2), (2, 2), stride=(1, 2))
    rows = [[0, 1, 4, 5, 12, 13, 16, 17],  # output (0, 0): rows 0-1, columns 0-1
            [2, 3, 6, 7, 14, 15, 18, 19],  # (0, 1): columns 2-3 (stride 2)
            [4, 5, 8, 9, 16, 17, 20, 21],  # (1, 0): rows 1-2 (stride 1)
            [6, 7, 10, 11, 18, 19, 22, 23]]
    got = im2col(layer, x)
    assert got.shape == (2, 4, 8)
    assert got[0].tolist() == rows
    assert got[1].tolist() == (np.array(rows) + 100).tolist()


def test_im2col_of_a_linear_layer_is_one_row_per_timestep():
    x = np.arange(6).reshape(2, 3)
    assert im2col(_linear(3), x).tolist() == [[[0, 1, 2]], [[3, 4, 5]]]


def test_im2col_class_holds_the_spikes_as_bool_and_its_sizes():
    x = np.array([[[[0, 2], [3, 0]]], [[[1, 0], [0, 0]]]])  # T = 2; nonzero values are spikes
    layer = _conv((1, 2, 2), (1, 1, 2), (2, 1))
    a = Im2col(layer, x)
    assert a.x.dtype == bool
    assert a.x.tolist() == [[[False, True], [True, False]], [[True, False], [False, False]]]
    assert (a.T, a.M, a.K) == (2, 2, 2)


def test_fanout_map_with_a_different_kernel_and_padding_per_axis():
    # height: 3 inputs, kernel 2, stride 1, no padding -> outputs at 0-1, 1-2: counts 1, 2, 1
    # width: 2 inputs, kernel 3, stride 1, padding 1 -> padded 0-2, 1-3: padded counts 1, 2, 2, 1 -> 2, 2
    fm = fanout_map(_conv((1, 3, 2), (4, 2, 2), (2, 3), padding=(0, 1)))
    assert fm.tolist() == [[2, 2], [4, 4], [2, 2]]
    assert fm.dtype == np.int64


def test_fanout_map_with_a_stride_wider_than_the_kernel():
    # width 5, kernel 1, stride 2: outputs read positions 0, 2, 4; positions 1 and 3 feed nothing
    # height 4, kernel 3, stride 1, padding 2: padded 8, outputs 0-2 .. 3-5; padded counts
    # 1, 2, 3, 3, 2, 1, 0, 0 -> positions 2..5: 3, 3, 2, 1
    fm = fanout_map(_conv((1, 4, 5), (1, 4, 3), (3, 1), stride=(1, 2), padding=(2, 0)))
    assert fm.tolist() == np.outer([3, 3, 2, 1], [1, 0, 1, 0, 1]).tolist()


def test_fanout_map_of_a_linear_layer_is_int_ones():
    fm = fanout_map(_linear(4))
    assert fm.tolist() == [1, 1, 1, 1] and fm.dtype == np.int64


def test_fold_sums_with_and_without_a_partial_last_group():
    x = np.array([[[1, 1, 0, 1, 1, 1, 0]]], dtype=bool)  # T = 1, M = 1, n = 7
    got = fold_sums(x, 3)  # groups 0-2, 3-5, 6
    assert got.tolist() == [[[2, 3, 0]]] and got.dtype == np.int32
    got = fold_sums(x[:, :, :6], 2)  # exact groups: no padding
    assert got.tolist() == [[[2, 1, 2]]] and got.dtype == np.int32


def test_spike_bits_of_one_tile_in_every_format():
    a = np.zeros((2, 6), dtype=bool)  # T = 2, N = 6: 12 positions, count field bits_for(13) = 4
    a[0, 1] = a[0, 5] = a[1, 3] = True  # flat positions 1, 5, 9
    assert spike_bits("bitmap", a) == 12
    # aer: 4 + 3 x (bits_for(2) + bits_for(6)) = 4 + 3 x (1 + 3) = 16
    assert spike_bits("aer", a) == 16
    # csr: 4 + (2 + 1) x bits_for(4) + 3 x bits_for(6) = 4 + 3 x 2 + 3 x 3 = 19
    assert spike_bits("csr", a) == 19
    # rle, 4-bit runs: zero runs 1, 3, 3 -> 3 codes = 12; 2-bit runs (escape 3): 1; 3 = escape + 0; same: 5 codes
    assert spike_bits("rle", a) == 12
    assert spike_bits("rle", a, run_bits=2) == 10


def test_rle_counts_the_zeros_before_the_first_spike_from_position_0():
    # 14 zeros then a spike: one 4-bit code (14 < escape 15); 15 zeros would need an escape first
    b = np.zeros((1, 20), dtype=bool)
    b[0, 14] = True
    assert spike_bits("rle", b) == 4
    b[0, 14], b[0, 15] = False, True
    assert spike_bits("rle", b) == 8


def test_spike_bits_refuses_an_unknown_format_naming_the_allowed_ones():
    with pytest.raises(ValueError) as e:
        spike_bits("png", np.zeros((1, 1), dtype=bool))
    assert str(e.value) == "unknown spike format 'png'; allowed: bitmap, aer, csr, rle, auto"


def test_best_bits_takes_the_smallest_and_the_earlier_of_a_tie():
    a = np.zeros((2, 6), dtype=bool)
    a[0, 1] = a[0, 5] = a[1, 3] = True  # bitmap 12, aer 16, csr 19, rle 12 (as above)
    assert best_bits(("aer", "csr"), a) == ("aer", 16)
    assert best_bits(("csr", "aer"), a) == ("aer", 16)
    assert best_bits(("bitmap", "rle"), a) == ("bitmap", 12)
    assert best_bits(("rle", "bitmap"), a) == ("rle", 12)
    assert best_bits(("rle", "bitmap"), a, run_bits=2) == ("rle", 10)  # the run width is passed on
    assert best_bits(("aer",), a) == ("aer", 16)
