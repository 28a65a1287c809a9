"""How a NIR Conv1d/Conv2d node becomes an SnnGraph node (tlmsim/snn/graph.py: _conv), by
hand: output shapes with stride, padding, dilation and groups all different per axis, the
'same' and 'valid' paddings, a Conv1d in its [C, 1, L] form, and every refusal with its exact
sentence (file, key, reason)."""

from types import SimpleNamespace as S

import numpy as np
import pytest

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import _conv


def conv(shape_w, in_shape, *, kind="conv2d", stride=1, padding=0, dilation=1, groups=1, bias=None):
    node = S(weight=np.arange(float(np.prod(shape_w))).reshape(shape_w), bias=bias, stride=stride, padding=padding,
             dilation=dilation, groups=groups)
    return _conv(node, kind, in_shape, "nodes.c", "g.nir")


def refused(*a, **kw) -> str:
    with pytest.raises(WorkloadError) as e:
        conv(*a, **kw)
    return str(e.value)


def test_conv2d_shapes_with_every_parameter_different_per_axis():
    # H: (11 + 2x1 - 2x(3-1) - 1) // 2 + 1 = 5; W: (13 + 2x3 - 1x(2-1) - 1) // 3 + 1 = 6
    out, p = conv((6, 2, 3, 2), (4, 11, 13), stride=(2, 3), padding=(1, 3), dilation=(2, 1), groups=2,
                  bias=np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    assert out == (6, 5, 6)
    assert (p["stride"], p["padding"], p["dilation"], p["groups"]) == ((2, 3), (1, 3), (2, 1), 2)
    assert p["weight"].shape == (6, 2, 3, 2) and p["bias"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_conv2d_without_a_bias_and_with_a_scalar_one():
    _, p = conv((3, 1, 1, 1), (1, 2, 2))
    assert p["bias"].tolist() == [0.0, 0.0, 0.0]
    _, p = conv((3, 1, 1, 1), (1, 2, 2), bias=np.array(0.5))
    assert p["bias"].tolist() == [0.5, 0.5, 0.5]
    p["bias"][0] = 9.0  # a copy: writable, not a broadcast view
    assert p["bias"].tolist() == [9.0, 0.5, 0.5]


def test_same_and_valid_padding():
    # 'same' with dilation 2 and a 3x5 kernel: padding (2 x 2 // 2, 2 x 4 // 2) = (2, 4); the size is kept
    out, p = conv((1, 1, 3, 5), (1, 7, 9), padding="same", dilation=2)
    assert out == (1, 7, 9) and p["padding"] == (2, 4)
    out, p = conv((1, 1, 3, 3), (1, 7, 9), padding=b"valid")
    assert out == (1, 5, 7) and p["padding"] == (0, 0)
    out, p = conv((1, 1, 3, 3), (1, 7, 9), padding=np.array(["same"]))
    assert out == (1, 7, 9) and p["padding"] == (1, 1)


def test_conv1d_is_kept_1d_with_2d_parameters():
    # L: (20 + 2x2 - 3x(4-1) - 1) // 2 + 1 = 8
    out, p = conv((5, 3, 4), (3, 20), kind="conv1d", stride=2, padding=2, dilation=3)
    assert out == (5, 8)
    assert p["weight"].shape == (5, 3, 1, 4)
    assert (p["stride"], p["padding"], p["dilation"]) == ((1, 2), (0, 2), (1, 3))
    out, p = conv((5, 3, 3), (3, 20), kind="conv1d", padding="same")
    assert out == (5, 20) and p["padding"] == (0, 1)


def test_refusals_name_the_file_the_key_and_the_reason():
    assert refused((2, 1, 3), (1, 4, 4)) == "g.nir: nodes.c.weight: Conv2d weight [2, 1, 3] / input [1, 4, 4] are not 2D convolutions"
    assert refused((2, 1, 3, 3), (4, 4)) == "g.nir: nodes.c.weight: Conv2d weight [2, 1, 3, 3] / input [4, 4] are not 2D convolutions"
    assert refused((2, 1, 3, 3), (1, 4), kind="conv1d") == (
        "g.nir: nodes.c.weight: Conv1d weight [2, 1, 3, 3] / input [1, 4] are not 1D convolutions")
    assert refused((2, 1, 3), (1, 4, 4), kind="conv1d") == (
        "g.nir: nodes.c.weight: Conv1d weight [2, 1, 3] / input [1, 4, 4] are not 1D convolutions")
    fit = "g.nir: nodes.c.weight: weight {} with groups={} does not fit {} input channels"
    assert refused((4, 2, 1, 1), (4, 3, 3), groups=0) == fit.format([4, 2, 1, 1], 0, 4)
    assert refused((4, 2, 1, 1), (5, 3, 3), groups=2) == fit.format([4, 2, 1, 1], 2, 5)  # 5 % 2
    assert refused((4, 1, 1, 1), (4, 3, 3), groups=2) == fit.format([4, 1, 1, 1], 2, 4)  # 1 x 2 != 4
    assert refused((3, 2, 1, 1), (4, 3, 3), groups=2) == fit.format([3, 2, 1, 1], 2, 4)  # 3 % 2
    assert conv((4, 2, 1, 1), (4, 3, 3), groups=2)[0] == (4, 3, 3)
    assert refused((1, 1, 3, 3), (1, 7, 7), padding="same", stride=(1, 2)) == (
        "g.nir: nodes.c.padding: padding 'same' needs stride 1")
    assert refused((1, 1, 2, 3), (1, 7, 7), padding="same") == (
        "g.nir: nodes.c.padding: padding 'same' with an even kernel extent is not supported")
    assert refused((1, 1, 3, 2), (1, 7, 7), padding="same") == (
        "g.nir: nodes.c.padding: padding 'same' with an even kernel extent is not supported")
    assert conv((1, 1, 2, 3), (1, 7, 7), padding="same", dilation=(2, 1))[1]["padding"] == (1, 1)  # extent 2 x 1
    assert refused((1, 1, 3, 3), (1, 7, 7), padding="full") == (
        "g.nir: nodes.c.padding: padding must be an int, a pair, 'same' or 'valid' (got 'full')")
