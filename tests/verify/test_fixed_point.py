"""The fixed-point rules of --verify by hand (tlmsim/verify/fixed_point.py): every neuron
kind's update with floor shifts and saturation, a neuron subset (sel), the signed
saturation bounds, per-neuron parameter grids, integer pooling with padding, and the
shortcut term."""

import numpy as np
import pytest

from tlmsim.verify.fixed_point import (
    FRAC_BITS, QLayer, QNeuron, _grid, _q, grid_shape, pool_values, residual_term, saturate, weightless_current,
)
from tlmsim.workload import Layer

HALF, ONE = 1 << (FRAC_BITS - 1), 1 << FRAC_BITS


def _p(**kw):
    return {k: np.full((1, 1), v, dtype=np.int64) for k, v in kw.items()}


def _run(n: QNeuron, currents):
    st = n.initial_state((1, 1))
    return [int(n.step(st, np.full((1, 1), i, dtype=np.int64))[0, 0]) for i in currents], st


def test_saturate_is_signed_at_the_width():
    x = np.array([-200, -129, -128, -1, 0, 127, 128, 500])
    assert saturate(x, 8).tolist() == [-128, -128, -128, -1, 0, 127, 127, 127]
    assert saturate(np.array([40000, -40000]), 16).tolist() == [32767, -32768]


def test_if_update_and_floor_of_negative_currents():
    # v += (r I) >> F with r = 1: 6, then 12 >= 10: spike and reset to 0
    outs, st = _run(QNeuron("if", _p(r=ONE, v_threshold=10, v_reset=0), 16), [6, 6])
    assert outs == [0, 1] and int(st["v"][0, 0]) == 0
    # r = 0.5: 0.5 x (-3) = -1.5 floors to -2; the threshold is reached at equality
    outs, st = _run(QNeuron("if", _p(r=HALF, v_threshold=-2, v_reset=7), 16), [-3])
    assert outs == [1] and int(st["v"][0, 0]) == 7


def test_cuba_lif_update_by_hand():
    # a_syn = w_in = a = 0.5, r = 1, v_leak = 2, threshold 10, reset 1; I = 8 three times:
    # i = 0 + (0.5 x 8 - 0.5 x 0) = 4; v = 0 + (0.5 (2 - 0) + 1 x 4) = 5
    # i = 4 + (4 - 2) = 6;             v = 5 + floor(0.5 (2 - 5) + 6) = 5 + floor(4.5) = 9
    # i = 6 + (4 - 3) = 7;             v = 9 + floor(0.5 (2 - 9) + 7) = 9 + floor(3.5) = 12 >= 10: spike, v = 1
    p = _p(a_syn=HALF, w_in=HALF, a=HALF, r=ONE, v_leak=2, v_threshold=10, v_reset=1)
    outs, st = _run(QNeuron("cuba_lif", p, 16), [8, 8, 8])
    assert outs == [0, 0, 1] and int(st["i"][0, 0]) == 7 and int(st["v"][0, 0]) == 1
    # cuba_li: the same without a threshold; the output is the membrane
    p = _p(a_syn=HALF, w_in=HALF, a=HALF, r=ONE, v_leak=2)
    outs, st = _run(QNeuron("cuba_li", p, 16), [8, 8, 8])
    assert outs == [5, 9, 12] and int(st["v"][0, 0]) == 12 and int(st["i"][0, 0]) == 7


def test_li_update_and_the_synaptic_current_saturates():
    # li: a = r = 0.5, v_leak = 0: 0 + 0.5 x 8 = 4; 4 + (0.5 x (-4) + 4) = 6
    outs, _ = _run(QNeuron("li", _p(a=HALF, r=HALF, v_leak=0), 16), [8, 8])
    assert outs == [4, 6]
    # 8-bit state: i = sat(0 + 1 x 1000) = 127, v = sat(0 + 1 x 127) = 127
    outs, st = _run(QNeuron("cuba_li", _p(a_syn=0, w_in=ONE, a=0, r=ONE, v_leak=0), 8), [1000])
    assert int(st["i"][0, 0]) == 127 and outs == [127]


def test_step_on_a_subset_of_the_grid():
    n = QNeuron("if", {"r": np.full((2, 3), ONE, dtype=np.int64), "v_threshold": np.full((2, 3), 5, dtype=np.int64),
                       "v_reset": np.zeros((2, 3), dtype=np.int64)}, 16)
    st = n.initial_state((2, 3))
    out = n.step(st, np.array([[4, 6]]), (slice(1, 2), slice(1, 3)))
    assert out.tolist() == [[0, 1]]
    assert st["v"].tolist() == [[0, 0, 0], [0, 4, 0]]  # only the selected neurons moved


def test_q_rounds_half_to_even_and_grids_broadcast():
    assert _q(np.array([0.5, 1.0, -0.25, 1.5 / ONE, 2.5 / ONE])).tolist() == [HALF, ONE, -(ONE // 4), 2, 2]
    layer = Layer(index=0, name="c", op="conv2d", in_shape=(1, 2, 3), out_shape=(2, 2, 3), kernel=(3, 3),
                  stride=(1, 1), padding=(1, 1), neuron="lif", weight_sparsity=0.0, firing_rate=0.5)
    assert grid_shape(layer) == (2, 6)
    assert _grid(3.0, layer).tolist() == [[3.0] * 6] * 2
    per_channel = _grid(np.array([[[1.0]], [[2.0]]]), layer)
    assert per_channel.tolist() == [[1.0] * 6, [2.0] * 6]
    per_neuron = _grid(np.arange(12.0), layer)  # as many values as outputs: one each
    assert per_neuron.tolist() == [list(range(6)), list(range(6, 12))]


def _pool(op, in_shape, kernel, stride, padding, out_shape):
    return Layer(index=0, name="p", op=op, in_shape=in_shape, out_shape=out_shape, kernel=kernel, stride=stride,
                 padding=padding, neuron=None, weight_sparsity=0.0, firing_rate=0.5)


def test_integer_pooling_with_zero_padding():
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9]).reshape(1, 1, 3, 3)
    s = _pool("sumpool2d", (1, 3, 3), (2, 2), (2, 2), (1, 1), (1, 2, 2))
    # padded 5 x 5, windows at rows/cols 0-1 and 2-3: {1}, {2, 3}, {4, 7}, {5, 6, 8, 9}
    assert pool_values(s, x).tolist() == [[[[1, 5], [11, 28]]]]
    m = _pool("maxpool2d", (1, 3, 3), (2, 2), (2, 2), (1, 1), (1, 2, 2))
    assert pool_values(m, x).tolist() == [[[[1, 3], [7, 9]]]]
    # the zero padding is in the first three windows; the last one, {5, 6, 8, 9}, has none
    assert pool_values(m, -x).tolist() == [[[[0, 0], [0, -5]]]]
    a = _pool("avgpool2d", (1, 3, 3), (3, 3), (1, 1), (0, 0), (1, 1, 1))
    assert pool_values(a, x).tolist() == [[[[45]]]]  # the sum: the division is in the unit
    assert pool_values(a, x).dtype == np.int64
    ident = QLayer(_pool("identity", (1, 3, 3), (1, 1), (1, 1), (0, 0), (1, 3, 3)))
    assert weightless_current(ident, x == 5).tolist() == (x == 5).astype(int).tolist()


def test_residual_term_floors_the_scaled_shortcut():
    q = QLayer(_pool("identity", (2,), (1, 1), (1, 1), (0, 0), (2,)), res_gain=np.array([[HALF], [3 * ONE]]))
    # 0.5 x 3 = 1.5 -> 1; 0.5 x (-3) = -1.5 -> -2; 3 x 2 = 6
    assert residual_term(q, np.array([[3], [2]])).tolist() == [[1], [6]]
    assert residual_term(q, np.array([[-3], [2]])).tolist() == [[-2], [6]]
    assert residual_term(q, np.array([[5]]), (slice(1, 2), slice(None))).tolist() == [[15]]


@pytest.mark.parametrize("kind, keys", [("if", {"v"}), ("lif", {"v"}), ("cuba_lif", {"v", "i"})])
def test_initial_state_is_zero(kind, keys):
    st = QNeuron(kind, {}, 16).initial_state((2, 2))
    assert keys <= set(st) and all(int(np.abs(a).sum()) == 0 and a.dtype == np.int64 for a in st.values())
