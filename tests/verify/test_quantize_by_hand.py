"""quantize() and reference() of tlmsim/verify/fixed_point.py by hand, on tiny hand-made
graphs whose every number is worked out below: weight scale and rounding (half to even,
clipping), bias, per-kind neuron factors with a dt that is not 1, units through a chain of
layers (spikes, a layer without a neuron, average and sum pooling, a weightless layer with a
neuron), the recurrent synapse's shared scale and bias, the shortcut's factor, and the
errors of graphs that lack a node the layers name.

Both sides of ``--verify`` use these rules, so the bit-exact runs cannot catch a wrong one;
these tests can."""

import numpy as np
import pytest

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import Node, SnnGraph
from tlmsim.verify.fixed_point import FRAC_BITS, neuron_node, quantize, reference
from tlmsim.workload import Layer

ONE = 1 << FRAC_BITS


def L(index, name, op, in_shape, out_shape, *, neuron=None, kernel=(1, 1), stride=(1, 1), padding=(0, 0),
      source=None, residual=-1, recurrent=False):
    return Layer(index=index, name=name, op=op, in_shape=tuple(in_shape), out_shape=tuple(out_shape), kernel=kernel,
                 stride=stride, padding=padding, neuron=neuron, weight_sparsity=0.0, firing_rate=0.5,
                 source=index - 1 if source is None else source, residual=residual, recurrent=recurrent)


def N(name, kind, inputs, in_shape, out_shape, delayed=(), **params):
    return Node(name, kind, tuple(inputs), tuple(in_shape), tuple(out_shape), params, tuple(delayed))


# fc: 3 -> 2, max|W| = 2; 4-bit weights: qmax 7, s_w = 2 / 7; W / s_w = 3.5 W
W = np.array([[0.5, -1.0, 0.25], [2.0, 0.0, -0.5]])
#   [[1.75, -3.5, 0.875], [7, 0, -1.75]] -> rint (half to even) [[2, -4, 1], [7, 0, -2]]
WQ = [[2, 7], [-4, 0], [1, -2]]  # stored (K, N): transposed
S_W = 2 / 7


def lif_graph(kind="lif", **neuron):
    fc = N("fc", "linear", ["in"], (3,), (2,), weight=W, bias=np.array([0.3, -0.2]))
    return SnnGraph((N("in", "input", [], (3,), (3,)), fc, N("n", kind, ["fc"], (2,), (2,), **neuron),
                     N("out", "output", ["n"], (2,), (2,))))


def test_linear_weights_bias_and_lif_factors():
    g = lif_graph(tau=np.array([2.0, 4.0]), r=np.array([1.0, 2.0]), v_leak=np.array([0.1, -0.3]),
                  v_threshold=np.array([1.0, 0.5]), v_reset=np.array([0.0, 0.15]))
    (q,) = quantize(g, [L(0, "fc", "linear", (3,), (2,), neuron="lif", source=-1)], weight_bits=4,
                    membrane_bits=12, dt=0.5)
    assert q.weights.tolist() == WQ and q.weights.dtype == np.int64
    assert q.scale == pytest.approx(S_W) and q.unit == 1.0  # spikes out
    # bias / s: 0.3 x 3.5 = 1.05 -> 1; -0.2 x 3.5 = -0.7 -> -1
    assert q.bias.tolist() == [1, -1]
    p = q.neuron.params
    # a = q(dt / tau) = q(0.25), q(0.125); r = q(dt r / tau) = q(0.25), q(0.25)
    assert p["a"].tolist() == [[ONE // 4], [ONE // 8]]
    assert p["r"].tolist() == [[ONE // 4], [ONE // 4]]
    # v_leak / s: 0.35 -> 0, -1.05 -> -1; threshold 3.5 -> 4 (half to even), 1.75 -> 2; reset 0, 0.525 -> 1
    assert p["v_leak"].tolist() == [[0], [-1]]
    assert p["v_threshold"].tolist() == [[4], [2]] and p["v_reset"].tolist() == [[0], [1]]
    assert q.neuron.kind == "lif" and q.neuron.membrane_bits == 12
    assert q.conv == {} and q.rec_weights is None and q.res_gain is None and q.reduction == 3


def test_weights_clip_to_the_signed_range():
    # 2-bit weights: qmax 1, s_w = 2; W / 2 = [[0.25, -0.5, 0.125], [1, 0, -0.25]] -> [[0, -0, 0], [1, 0, -0]]
    g = lif_graph(tau=2.0, r=1.0, v_leak=0.0, v_threshold=1.0, v_reset=0.0)
    (q,) = quantize(g, [L(0, "fc", "linear", (3,), (2,), neuron="lif", source=-1)], weight_bits=2, membrane_bits=8)
    assert q.weights.tolist() == [[0, 1], [0, 0], [0, 0]]
    # a negative weight at -max|W| rounds to -qmax, inside [-qmax - 1, qmax]; a zero weight matrix keeps s_w = 1
    g0 = SnnGraph((N("in", "input", [], (3,), (3,)), N("fc", "linear", ["in"], (3,), (2,), weight=np.zeros((2, 3))),
                   N("n", "if", ["fc"], (2,), (2,), r=1.0, v_threshold=1.0, v_reset=0.0)))
    (q,) = quantize(g0, [L(0, "fc", "linear", (3,), (2,), neuron="if", source=-1)], weight_bits=8, membrane_bits=8)
    assert q.scale == 1.0 and q.weights.tolist() == [[0, 0]] * 3 and q.bias.tolist() == [0, 0]


def test_if_and_cuba_factors_with_dt():
    g = lif_graph("if", r=np.array([1.0, 3.0]), v_threshold=1.0, v_reset=-0.5)
    (q,) = quantize(g, [L(0, "fc", "linear", (3,), (2,), neuron="if", source=-1)], weight_bits=4,
                    membrane_bits=16, dt=0.25)
    p = q.neuron.params
    assert set(p) == {"r", "v_threshold", "v_reset"}
    assert p["r"].tolist() == [[ONE // 4], [3 * ONE // 4]]  # q(dt r)
    assert p["v_threshold"].tolist() == [[4], [4]] and p["v_reset"].tolist() == [[-2], [-2]]  # -1.75 -> -2
    g = lif_graph("cuba_lif", tau_syn=0.5, tau_mem=4.0, w_in=np.array([1.0, 2.0]), r=1.0, v_leak=0.0,
                  v_threshold=1.0, v_reset=0.0)
    (q,) = quantize(g, [L(0, "fc", "linear", (3,), (2,), neuron="cuba_lif", source=-1)], weight_bits=4,
                    membrane_bits=16, dt=0.25)
    p = q.neuron.params
    # a_syn = q(dt / tau_syn) = q(0.5); w_in = q(dt w_in / tau_syn) = q(0.5), q(1); a = q(1/16); r = q(1/16)
    assert p["a_syn"].tolist() == [[ONE // 2]] * 2 and p["w_in"].tolist() == [[ONE // 2], [ONE]]
    assert p["a"].tolist() == [[ONE // 16]] * 2 and p["r"].tolist() == [[ONE // 16]] * 2
    assert p["v_leak"].tolist() == [[0]] * 2 and p["v_threshold"].tolist() == [[4]] * 2
    assert q.unit == 1.0
    # an integrator's output is its membrane: the unit is the current's
    g = lif_graph("cuba_li", tau_syn=0.5, tau_mem=4.0, w_in=1.0, r=1.0, v_leak=0.7)
    (q,) = quantize(g, [L(0, "fc", "linear", (3,), (2,), neuron="cuba_li", source=-1)], weight_bits=4,
                    membrane_bits=16, dt=0.25)
    assert "v_threshold" not in q.neuron.params and q.neuron.params["v_leak"].tolist() == [[2]] * 2  # 2.45 -> 2
    assert q.unit == pytest.approx(S_W)
    g = lif_graph("li", tau=2.0, r=1.0, v_leak=0.0)
    (q,) = quantize(g, [L(0, "fc", "linear", (3,), (2,), neuron="li", source=-1)], weight_bits=4, membrane_bits=16)
    assert q.unit == pytest.approx(S_W) and set(q.neuron.params) == {"a", "r", "v_leak"}


def chain_graph():
    """conv (no neuron) -> avgpool 2x2 with an IF -> flatten -> fc with an IF."""
    wc = np.array([[[[1.0]]], [[[-0.5]]]])  # 2 output channels of a 1x1 conv on 1 channel: s_w = 1/127
    return SnnGraph((
        N("in", "input", [], (1, 2, 2), (1, 2, 2)),
        N("conv", "conv2d", ["in"], (1, 2, 2), (2, 2, 2), weight=wc, bias=np.array([0.0, 0.0])),
        N("pool", "avgpool2d", ["conv"], (2, 2, 2), (2, 1, 1)),
        N("pn", "if", ["pool"], (2, 1, 1), (2, 1, 1), r=1.0, v_threshold=np.array([0.01, 0.02]).reshape(2, 1, 1),
          v_reset=0.0),
        N("flat", "flatten", ["pn"], (2, 1, 1), (2,)),
        N("fc", "linear", ["flat"], (2,), (1,), weight=np.array([[0.5, 0.25]])),
        N("n", "if", ["fc"], (1,), (1,), r=1.0, v_threshold=0.5, v_reset=0.0),
    ))


def chain_layers():
    return [L(0, "conv", "conv2d", (1, 2, 2), (2, 2, 2), source=-1),
            L(1, "pool", "avgpool2d", (2, 2, 2), (2, 1, 1), neuron="if", kernel=(2, 2), stride=(2, 2)),
            L(2, "flat", "flatten", (2, 1, 1), (2,)),
            L(3, "fc", "linear", (2,), (1,), neuron="if")]


def test_units_through_a_chain_of_layers():
    q = quantize(chain_graph(), chain_layers(), weight_bits=8, membrane_bits=16)
    conv, pool, flat, fc = q
    assert conv.scale == conv.unit == pytest.approx(1 / 127) and conv.neuron is None
    assert conv.weights.tolist() == [[127, -64]]  # -63.5 -> -64 (half to even)
    assert conv.conv["w"].shape == (2, 1, 1, 1) and conv.conv["stride"] == (1, 1) and conv.conv["padding"] == (0, 0)
    # avgpool: unit u_in / 4; with a neuron its current is 127 x sum: scale u_in / 4 / 127
    assert pool.gain == 127 and pool.weights is None
    assert pool.scale == pytest.approx(1 / 127 / 4 / 127) and pool.unit == 1.0
    # thresholds 0.01 and 0.02 in units of 1 / 64516: 645.16 -> 645, 1290.32 -> 1290
    assert pool.neuron.params["v_threshold"].tolist() == [[645], [1290]]
    assert flat.scale == flat.unit == 1.0 and flat.neuron is None and flat.gain == 1
    # fc reads spikes: s = 0.5 / 127
    assert fc.scale == pytest.approx(0.5 / 127) and fc.weights.tolist() == [[127], [64]]
    assert fc.bias.tolist() == [0]  # no bias in the graph: zero


def test_the_reference_of_the_chain_by_hand():
    q = quantize(chain_graph(), chain_layers(), weight_bits=8, membrane_bits=16)
    # input 2 timesteps: t0 all ones, t1 only pixel (0, 0)
    x = np.array([[[[1, 1], [1, 1]]], [[[1, 0], [0, 0]]]], dtype=np.int64)
    out = reference(q, {0: x}, 2, accumulator_bits=16)
    # conv: channel 0 = 127 x, channel 1 = -64 x
    assert out[0].tolist() == [[[[127, 127], [127, 127]], [[-64, -64], [-64, -64]]],
                               [[[127, 0], [0, 0]], [[-64, 0], [0, 0]]]]
    # pool sums: t0 508 and -256, t1 127 and -64; current 127 x sum: 64516, -32512 (saturate 16 bit: 32767,
    # -32512), then 16129, -8128. IF (r = 1): v0 = 32767 >= 645: spike, reset 0; v1 = -32512 < 1290
    # t1: v0 = 16129: spike; v1 = -32512 - 8128 = -40640 -> -32768 (membrane saturates)
    assert out[1].reshape(2, 2).tolist() == [[1, 0], [1, 0]]
    assert out[2].tolist() == [[1, 0], [1, 0]]
    # fc: 127 x s0 + 64 x s1 = 127 >= rint(0.5 / (0.5/127)) = 127: spike at both timesteps
    assert fc_threshold(q) == 127
    assert out[3].tolist() == [[1], [1]]


def fc_threshold(q):
    return int(q[3].neuron.params["v_threshold"][0, 0])


def test_a_pool_without_a_neuron_passes_sums_on_in_its_unit():
    g = SnnGraph((N("in", "input", [], (1, 2, 2), (1, 2, 2)),
                  N("pool", "sumpool2d", ["in"], (1, 2, 2), (1, 1, 1)),
                  N("fc", "linear", ["pool"], (1,), (1,), weight=np.array([[2.0]])),
                  N("n", "if", ["fc"], (1,), (1,), r=1.0, v_threshold=6.0, v_reset=0.0)))
    layers = [L(0, "pool", "sumpool2d", (1, 2, 2), (1, 1, 1), kernel=(2, 2), stride=(2, 2), source=-1),
              L(1, "fc", "linear", (1,), (1,), neuron="if")]
    pool, fc = quantize(g, layers, weight_bits=8, membrane_bits=16)
    assert pool.scale == pool.unit == 1.0 and pool.gain == 1 and pool.neuron is None
    # fc: s_w = 2 / 127, u_in 1: threshold 6 / (2/127) = 381
    assert fc.weights.tolist() == [[127]] and int(fc.neuron.params["v_threshold"][0, 0]) == 381
    x = np.array([[[[1, 1], [1, 0]]], [[[0, 0], [0, 0]]], [[[1, 0], [0, 0]]]], dtype=np.int64)
    out = reference([pool, fc], {0: x}, 3, accumulator_bits=16)
    assert out[0].reshape(-1).tolist() == [3, 0, 1]
    # currents 381, 0, 127: v = 381 >= 381: spike at t0; then 0; then 127
    assert out[1].reshape(-1).tolist() == [1, 0, 0]
    # an identity layer without a neuron is refused
    gi = SnnGraph((N("in", "input", [], (2,), (2,)),))
    with pytest.raises(WorkloadError) as e:
        quantize(gi, [L(0, "id", "identity", (2,), (2,), source=-1)], weight_bits=8, membrane_bits=16)
    assert str(e.value) == "id: --verify: an identity layer needs a neuron"


def test_an_avgpool_without_a_neuron_divides_its_unit_by_the_window():
    g = SnnGraph((N("in", "input", [], (1, 2, 2), (1, 2, 2)), N("pool", "avgpool2d", ["in"], (1, 2, 2), (1, 1, 1))))
    (pool,) = quantize(g, [L(0, "pool", "avgpool2d", (1, 2, 2), (1, 1, 1), kernel=(2, 2), stride=(2, 2), source=-1)],
                       weight_bits=8, membrane_bits=16)
    assert pool.scale == pool.unit == 0.25
    g = SnnGraph((N("in", "input", [], (1, 2, 3), (1, 2, 3)), N("pool", "maxpool2d", ["in"], (1, 2, 3), (1, 1, 1))))
    (pool,) = quantize(g, [L(0, "pool", "maxpool2d", (1, 2, 3), (1, 1, 1), kernel=(2, 3), stride=(2, 3), source=-1)],
                       weight_bits=8, membrane_bits=16)
    assert pool.scale == pool.unit == 1.0


def rsnn_graph(rec_weight, rec_bias):
    return SnnGraph((
        N("in", "input", [], (2,), (2,)),
        N("fc", "linear", ["in"], (2,), (2,), weight=np.array([[1.0, 0.0], [0.0, 0.5]]), bias=np.array([0.1, 0.0])),
        N("rec", "linear", ["n"], (2,), (2,), weight=rec_weight, bias=rec_bias),
        N("n", "if", ["fc"], (2,), (2,), delayed=("rec",), r=1.0, v_threshold=np.array([0.5, 2.0]), v_reset=0.0),
    ))


def test_the_recurrent_synapse_shares_the_layers_scale():
    # max|W_in| = 1, max|W_rec| = 3: s_w = 3 / 7 (4-bit); W_in / s_w = [[2.33, 0], [0, 1.17]] -> [[2, 0], [0, 1]]
    g = rsnn_graph(np.array([[0.0, 3.0], [1.5, 0.0]]), np.array([0.0, 0.3]))
    layer = L(0, "fc", "linear", (2,), (2,), neuron="if", source=-1, recurrent=True)
    (q,) = quantize(g, [layer], weight_bits=4, membrane_bits=16)
    assert q.scale == pytest.approx(3 / 7)
    assert q.weights.tolist() == [[2, 0], [0, 1]]
    # W_rec (out, in) / s = [[0, 7], [3.5, 0]] -> [[0, 7], [4, 0]] (half to even), stored transposed (k -> n)
    assert q.rec_weights.tolist() == [[0, 4], [7, 0]]
    # bias (W_in's + W_rec's) / s: [0.1, 0.3] x 7 / 3 = [0.23, 0.7] -> [0, 1]
    assert q.bias.tolist() == [0, 1]
    assert q.reduction == 4
    # the recurrence: thresholds 0.5 x 7/3 = 1.17 -> 1, 2 x 7/3 = 4.67 -> 5
    x = np.array([[1, 0], [0, 0], [0, 0]], dtype=np.int64)
    out = reference([q], {0: x}, 3, accumulator_bits=16)
    # t0: acc = [2, 0] + bias [0, 1] = [2, 1]: v = [2, 1]: spikes [1, 0], v = [0, 1]
    # t1: acc = bias [0, 1] + prev [1, 0] @ rec = [0, 1] + [0, 4] = [0, 5]: v = [0, 6] >= 5: spikes [0, 1], v = 0
    # t2: acc = [0, 1] + [0, 1] @ rec = [0, 1] + [7, 0] = [7, 1]: v = [7, 1]: spikes [1, 0]
    assert out[0].tolist() == [[1, 0], [0, 1], [1, 0]]


def test_a_small_recurrent_weight_is_measured_in_input_units():
    # an input unit above 1 (a layer without a neuron before it) divides W_rec's magnitude: here the inputs
    # are spikes (u_in 1), so max(1, 0.5 / 1) = 1 and W_in sets the scale: s_w = 1 / 7
    g = rsnn_graph(np.array([[0.0, 0.5], [0.0, 0.0]]), np.array([0.0, 0.0]))
    (q,) = quantize(g, [L(0, "fc", "linear", (2,), (2,), neuron="if", source=-1, recurrent=True)], weight_bits=4,
                    membrane_bits=16)
    assert q.scale == pytest.approx(1 / 7)
    assert q.rec_weights.tolist() == [[0, 0], [4, 0]]  # 0.5 x 7 = 3.5 -> 4


def test_a_recurrent_layer_without_its_synapse_or_neuron_is_refused():
    g = rsnn_graph(np.eye(2), np.zeros(2))
    nodes = tuple(n if n.name != "n" else N("n", "if", ["fc"], (2,), (2,), r=1.0, v_threshold=1.0, v_reset=0.0)
                  for n in g.nodes)
    layer = L(0, "fc", "linear", (2,), (2,), neuron="if", source=-1, recurrent=True)
    with pytest.raises(WorkloadError) as e:
        quantize(SnnGraph(nodes), [layer], weight_bits=8, membrane_bits=16)
    assert str(e.value) == "fc: --verify: the recurrent synapse of this layer is not in the graph"
    no_neuron = SnnGraph(tuple(n for n in g.nodes if n.name != "n"))
    with pytest.raises(WorkloadError, match="the recurrent synapse of this layer is not in the graph"):
        quantize(no_neuron, [layer], weight_bits=8, membrane_bits=16)
    layer = L(0, "fc", "linear", (2,), (2,), neuron="if", source=-1)
    with pytest.raises(WorkloadError) as e:
        quantize(no_neuron, [layer], weight_bits=8, membrane_bits=16)
    assert str(e.value) == "fc: --verify: the neuron after this layer is not in the graph"


def residual_graph(scale=None):
    """fc1 (IF) -> fc2, whose neuron also adds fc1's spikes (times a Scale's gain, if any)."""
    short = ["n1"] if scale is None else ["sc"]
    nodes = [N("in", "input", [], (2,), (2,)),
             N("fc1", "linear", ["in"], (2,), (2,), weight=np.eye(2)),
             N("n1", "if", ["fc1"], (2,), (2,), r=1.0, v_threshold=0.5, v_reset=0.0),
             N("fc2", "linear", ["n1"], (2,), (2,), weight=np.array([[0.5, 0.0], [0.0, 0.25]])),
             N("n2", "if", ["fc2", *short], (2,), (2,), r=1.0, v_threshold=np.array([0.5, 3.0]), v_reset=0.0)]
    if scale is not None:
        nodes.insert(3, N("sc", "scale", ["n1"], (2,), (2,), scale=np.array(scale)))
    return SnnGraph(tuple(nodes))


RES_LAYERS = [L(0, "fc1", "linear", (2,), (2,), neuron="if", source=-1),
              L(1, "fc2", "linear", (2,), (2,), neuron="if", residual=0)]


def test_the_shortcut_factor_by_hand():
    q = quantize(residual_graph(), RES_LAYERS, weight_bits=8, membrane_bits=16)
    # fc2: s = 0.5 / 127; the shortcut's spikes (unit 1) in units of s: q(1 / s) = q(254)
    assert q[1].scale == pytest.approx(0.5 / 127)
    assert q[1].res_gain.tolist() == [[254 * ONE], [254 * ONE]]
    q = quantize(residual_graph(scale=[2.0, -1.0]), RES_LAYERS, weight_bits=8, membrane_bits=16)
    assert q[1].res_gain.tolist() == [[508 * ONE], [-254 * ONE]]
    x = np.array([[1, 1], [0, 1]], dtype=np.int64)
    out = reference(q, {0: x}, 2, accumulator_bits=16)
    assert out[0].tolist() == [[1, 1], [0, 1]]
    # thresholds: 0.5 / s = 127, 3 / s = 762. t0: acc = [127 x 1, 64 x 1] + [508, -254] = [635, -190]: [1, 0]
    # t1: acc = [0, 64] + [0, -254] = [0, -190]; v = [0, -380]: no spike
    assert out[1].tolist() == [[1, 0], [0, 0]]


def test_the_reference_saturates_the_accumulator_once():
    g = lif_graph("if", r=1.0, v_threshold=100.0, v_reset=0.0)
    (q,) = quantize(g, [L(0, "fc", "linear", (3,), (2,), neuron=None, source=-1)], weight_bits=4, membrane_bits=16)
    assert q.neuron is None and q.unit == q.scale
    x = np.array([[1, 1, 1], [1, 0, 0]], dtype=np.int64)
    # no neuron: the output is the saturated current; columns [2, -4, 1] and [7, 0, -2], bias [1, -1]
    out = reference([q], {0: x}, 2, accumulator_bits=16)
    assert out[0].tolist() == [[0, 4], [3, 6]]
    out = reference([q], {0: x}, 2, accumulator_bits=3)  # [-4, 3]
    assert out[0].tolist() == [[0, 3], [3, 3]]


def test_neuron_node_finds_the_neuron_after_a_layer():
    g = residual_graph()
    assert neuron_node(g, RES_LAYERS[1]).name == "n2"
    assert neuron_node(g, L(0, "fc1", "linear", (2,), (2,), source=-1)) is None  # the layer has no neuron
    assert neuron_node(g, L(5, "zz", "linear", (2,), (2,), neuron="if")) is None  # no node reads it
    gi = SnnGraph((N("in", "input", [], (2,), (2,)), N("id", "lif", ["in"], (2,), (2,))))
    assert neuron_node(gi, L(0, "id", "identity", (2,), (2,), neuron="lif", source=-1)).name == "id"


def test_a_shortcut_from_a_layer_without_a_neuron():
    # fc1 has no neuron: its currents (unit s1 = 1/127) are the shortcut; fc2's unit s2 = (0.5/127) x s1, so the
    # factor is q(s1 / s2) = q(254)
    g = SnnGraph((N("in", "input", [], (2,), (2,)),
                  N("fc1", "linear", ["in"], (2,), (2,), weight=np.eye(2)),
                  N("fc2", "linear", ["fc1"], (2,), (2,), weight=np.array([[0.5, 0.0], [0.0, 0.25]])),
                  N("n2", "if", ["fc2", "fc1"], (2,), (2,), r=1.0, v_threshold=1.0, v_reset=0.0)))
    layers = [L(0, "fc1", "linear", (2,), (2,), source=-1), L(1, "fc2", "linear", (2,), (2,), neuron="if", residual=0)]
    q = quantize(g, layers, weight_bits=8, membrane_bits=16)
    assert q[0].unit == pytest.approx(1 / 127) and q[1].scale == pytest.approx(0.5 / 127 / 127)
    assert q[1].res_gain.tolist() == [[254 * ONE], [254 * ONE]]


def test_a_shortcut_through_a_scale_and_an_output_node():
    nodes = list(residual_graph().nodes)
    nodes[-1] = N("n2", "if", ["fc2", "o1"], (2,), (2,), r=1.0, v_threshold=1.0, v_reset=0.0)
    nodes[3:3] = [N("sc", "scale", ["n1"], (2,), (2,), scale=np.array([2.0, -1.0])), N("o1", "output", ["sc"], (2,), (2,))]
    q = quantize(SnnGraph(tuple(nodes)), RES_LAYERS, weight_bits=8, membrane_bits=16)
    assert q[1].res_gain.tolist() == [[508 * ONE], [-254 * ONE]]


def test_a_shortcut_the_neurons_inputs_do_not_reach_has_gain_one():
    from tlmsim.verify.fixed_point import _shortcut_gain

    g = SnnGraph((N("n1", "if", [], (2,), (2,)), N("flat", "flatten", ["n1"], (2,), (2,)),
                  N("sc", "scale", ["flat"], (2,), (2,), scale=np.array([3.0, 3.0])),
                  N("n2", "if", ["sc"], (2,), (2,))))
    # the walk back from n2 stops at the flatten (not a Scale or an Output) without meeting n1
    assert _shortcut_gain(g, g["n2"], "n1", (2,)).tolist() == [1.0, 1.0]
    assert _shortcut_gain(g, g["n2"], "flat", (2,)).tolist() == [3.0, 3.0]


def test_an_avgpool_divides_by_a_non_square_window():
    g = SnnGraph((N("in", "input", [], (1, 2, 3), (1, 2, 3)), N("pool", "avgpool2d", ["in"], (1, 2, 3), (1, 1, 1))))
    (pool,) = quantize(g, [L(0, "pool", "avgpool2d", (1, 2, 3), (1, 1, 1), kernel=(2, 3), stride=(2, 3), source=-1)],
                       weight_bits=8, membrane_bits=16)
    assert pool.unit == pytest.approx(1 / 6)


def test_the_reference_reshapes_a_flat_input_to_the_layers_shape():
    q = quantize(chain_graph(), chain_layers()[:1], weight_bits=8, membrane_bits=16)
    flat = np.array([[1, 0, 0, 1]], dtype=np.int64)  # (T, C x H x W) for in_shape (1, 2, 2)
    out = reference(q, {0: flat}, 1, accumulator_bits=16)
    assert out[0].tolist() == [[[[127, 0], [0, 127]], [[-64, 0], [0, -64]]]]


def test_a_recurrent_weight_is_measured_in_the_input_unit():
    # 4-bit weights (qmax 7): fc0 (no neuron, W = I) has the unit 1/7 and feeds the recurrent fc; max|W_in| = 1,
    # max|W_rec| = 0.2 in units of the input: 0.2 / (1/7) = 1.4 sets s_w = 1.4 / 7 = 0.2; s = s_w / 7
    g = SnnGraph((N("in", "input", [], (2,), (2,)), N("fc0", "linear", ["in"], (2,), (2,), weight=np.eye(2)),
                  N("fc", "linear", ["fc0"], (2,), (2,), weight=np.array([[1.0, 0.0], [0.0, 0.5]])),
                  N("rec", "linear", ["n"], (2,), (2,), weight=np.array([[0.0, 0.2], [0.1, 0.0]]), bias=np.zeros(2)),
                  N("n", "if", ["fc"], (2,), (2,), delayed=("rec",), r=1.0, v_threshold=1.0, v_reset=0.0)))
    layers = [L(0, "fc0", "linear", (2,), (2,), source=-1),
              L(1, "fc", "linear", (2,), (2,), neuron="if", recurrent=True)]
    q = quantize(g, layers, weight_bits=4, membrane_bits=16)
    assert q[0].unit == pytest.approx(1 / 7) and q[1].scale == pytest.approx(0.2 / 7)
    # W_in / s_w = [[5, 0], [0, 2.5]] -> [[5, 0], [0, 2]]; W_rec / s = [[0, 7], [3.5, 0]] -> [[0, 7], [4, 0]]
    assert q[1].weights.tolist() == [[5, 0], [0, 2]]
    assert q[1].rec_weights.tolist() == [[0, 4], [7, 0]]


def test_the_largest_negative_recurrent_weight_keeps_its_full_magnitude():
    # max|W_rec| = 3 is a negative weight: -3 / (3/7) = -7 = -qmax, inside [-qmax - 1, qmax]
    g = rsnn_graph(np.array([[0.0, -3.0], [1.5, 0.0]]), np.zeros(2))
    (q,) = quantize(g, [L(0, "fc", "linear", (2,), (2,), neuron="if", source=-1, recurrent=True)], weight_bits=4,
                    membrane_bits=16)
    assert q.rec_weights.tolist() == [[0, 4], [-7, 0]]


def test_a_shortcut_into_a_layer_without_a_neuron_has_gain_one():
    # fc2 outputs its currents plus fc1's spikes: factor q(1 x 1 / s2) with s2 = 0.5 / 127
    g = residual_graph()
    layers = [RES_LAYERS[0], L(1, "fc2", "linear", (2,), (2,), residual=0)]
    q = quantize(g, layers, weight_bits=8, membrane_bits=16)
    assert q[1].neuron is None and q[1].res_gain.tolist() == [[254 * ONE], [254 * ONE]]
