"""The numpy reference simulator (tlmsim.snn.refsim) on small graphs worked out by hand:
dt other than 1, leak voltages, resets, per-neuron parameters, summed branches, the
recording options and the errors of a bad call. Values are chosen to be exact in
binary floating point, so sequences are compared exactly."""

import nir
import numpy as np
import pytest

from tests.snn.test_graph_and_refsim import naive_conv
from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import load_nir
from tlmsim.snn.refsim import predict, simulate_graph


def vec(*values):
    return np.array(values, dtype=np.float64)


def single(neuron, n=1):
    """Input(n) -> neuron -> Output: the input is the neuron's current."""
    return load_nir(nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([n])}), "n": neuron,
               "out": nir.Output(output_type={"output": np.array([n])})},
        edges=[("in", "n"), ("n", "out")],
    ))


def constant(current, T, n=1, batch=1):
    return np.full((T, batch, n), current, dtype=np.float64)


def test_lif_with_half_step_and_leak_voltage():
    # tau = 2, dt = 0.5, r = 1, v_leak = 0.5, threshold 1, reset to 0, I = 1.5:
    # v <- v + (0.5 / 2) (0.5 - v + 1.5) = 0.75 v + 0.5
    # v1 = 0.5, v2 = 0.875, v3 = 1.15625 -> spike, v = 0; v4 = 0.5, v5 = 0.875, v6 = 1.15625 -> spike
    g = single(nir.LIF(tau=vec(2), r=vec(1), v_leak=vec(0.5), v_threshold=vec(1)))
    s = simulate_graph(g, constant(1.5, 6), dt=0.5).outputs["n"][:, 0, 0]
    assert s.dtype == bool and s.tolist() == [False, False, True, False, False, True]


def test_li_membrane_with_half_step_and_leak_voltage():
    # the same update without threshold: v = 0.5, 0.875, 1.15625, 1.3671875 (0.75 * 1.15625 + 0.5)
    g = single(nir.LI(tau=vec(2), r=vec(1), v_leak=vec(0.5)))
    v = simulate_graph(g, constant(1.5, 4), dt=0.5).outputs["n"][:, 0, 0]
    assert v.tolist() == [0.5, 0.875, 1.15625, 1.3671875]


def test_lif_leaks_towards_v_leak_without_input():
    # tau = 4, dt = 1, r = 1, v_leak = -1, I = 0: v <- v + 0.25 (-1 - v) = 0.75 v - 0.25
    # v = -0.25, -0.4375, -0.578125 (never spikes; LI shows the same membrane)
    g = single(nir.LI(tau=vec(4), r=vec(1), v_leak=vec(-1)))
    assert simulate_graph(g, constant(0.0, 3)).outputs["n"][:, 0, 0].tolist() == [-0.25, -0.4375, -0.578125]


def test_if_resets_to_v_reset():
    # r = 0.5, threshold 1, v_reset = -0.5, I = 1: v = 0.5, 1.0 -> spike (v >= threshold), v = -0.5;
    # v = 0.0, 0.5, 1.0 -> spike, v = -0.5; v = 0.0
    g = single(nir.IF(r=vec(0.5), v_threshold=vec(1), v_reset=vec(-0.5)))
    s = simulate_graph(g, constant(1.0, 6)).outputs["n"][:, 0, 0]
    assert np.flatnonzero(s).tolist() == [1, 4]


def test_a_membrane_equal_to_the_threshold_fires():
    # r = 1, threshold 1, I = 0.25: v = 0.25, 0.5, 0.75, 1.0 -> spike at the 4th step (>=, not NIR's >)
    g = single(nir.IF(r=vec(1), v_threshold=vec(1)))
    assert np.flatnonzero(simulate_graph(g, constant(0.25, 4)).outputs["n"][:, 0, 0]).tolist() == [3]


def test_if_subtract_reset_keeps_the_excess():
    # r = 1, threshold 1, I = 0.75, v <- v - 1 on a spike:
    # v = 0.75, 1.5 -> spike, 0.5; 1.25 -> spike, 0.25; 1.0 -> spike, 0; 0.75; 1.5 -> spike
    # (reset to zero instead: 0.75, 1.5 -> spike, 0; 0.75, 1.5 -> spike, 0; 0.75, 1.5 -> spike)
    g = single(nir.IF(r=vec(1), v_threshold=vec(1)))
    sub = simulate_graph(g, constant(0.75, 6), reset="subtract").outputs["n"][:, 0, 0]
    zero = simulate_graph(g, constant(0.75, 6), reset="zero").outputs["n"][:, 0, 0]
    assert np.flatnonzero(sub).tolist() == [1, 2, 3, 5]
    assert np.flatnonzero(zero).tolist() == [1, 3, 5]


def test_cuba_lif_with_input_weight_keeps_its_current_through_a_spike():
    # tau_syn = 2, tau_mem = 4, r = 1, w_in = 2, v_leak = 0, threshold 0.5, I = 1, dt = 1:
    # i <- i + 0.5 (2 - i): i = 1, 1.5, 1.75, 1.875 (not reset by a spike)
    # v <- v + 0.25 (i - v): v1 = 0.25; v2 = 0.25 + 0.25 (1.5 - 0.25) = 0.5625 -> spike, v = 0;
    # v3 = 0.25 * 1.75 = 0.4375; v4 = 0.4375 + 0.25 (1.875 - 0.4375) = 0.796875 -> spike
    g = single(nir.CubaLIF(tau_syn=vec(2), tau_mem=vec(4), r=vec(1), v_leak=vec(0), v_threshold=vec(0.5),
                           w_in=vec(2)))
    assert simulate_graph(g, constant(1.0, 4)).outputs["n"][:, 0, 0].tolist() == [False, True, False, True]


def test_per_neuron_thresholds_and_firing_rates():
    # r = 1, I = 0.5, thresholds 0.5, 1, 2 (reset to 0):
    # neuron 0 fires every step; neuron 1 every second step (0.5, 1.0); neuron 2 at the 4th (0.5 .. 2.0)
    g = single(nir.IF(r=vec(1, 1, 1), v_threshold=vec(0.5, 1, 2)), n=3)
    r = simulate_graph(g, constant(0.5, 4, n=3))
    assert r.outputs["n"][:, 0].astype(int).T.tolist() == [[1, 1, 1, 1], [0, 1, 0, 1], [0, 0, 0, 1]]
    assert r.firing_rates() == {"n": 7 / 12}


def test_linear_then_scale_currents():
    # W x = [1 + 3, 2 * 2] = [4, 4]; scaled by [0.5, 0.25] = [2, 1]
    g = load_nir(nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([3])}),
               "lin": nir.Linear(weight=np.array([[1.0, 0, 1], [0, 2, 0]])),
               "sc": nir.Scale(scale=vec(0.5, 0.25)),
               "out": nir.Output(output_type={"output": np.array([2])})},
        edges=[("in", "lin"), ("lin", "sc"), ("sc", "out")],
    ))
    r = simulate_graph(g, np.array([[[1.0, 2.0, 3.0]]]))
    assert r.outputs["lin"].tolist() == [[[4, 4]]] and r.outputs["out"].tolist() == [[[2, 1]]]


def test_average_pooling_counts_the_zero_padding():
    # x = [[0 1 2] [3 4 5] [6 7 8]], kernel 2, stride 2, padding 1: the windows hold
    # {0}, {1, 2}, {3, 6}, {4, 5, 7, 8} plus zeros -> sums 0, 3, 9, 24 -> / 4 = 0, 0.75, 2.25, 6
    g = load_nir(nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([1, 3, 3])}),
               "avg": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([1, 1])),
               "out": nir.Output(output_type={"output": np.array([1, 2, 2])})},
        edges=[("in", "avg"), ("avg", "out")],
    ))
    y = simulate_graph(g, np.arange(9.0).reshape(1, 1, 1, 3, 3)).outputs["out"]
    assert y[0, 0, 0].tolist() == [[0, 0.75], [2.25, 6]]


def residual(w1, w2, skip_gain=1.0):
    """input -> conv1 -> if1 -> conv2 -+-> lif -> output, with input -> Scale(skip_gain) -> lif."""
    c = w1.shape[0]
    shape = (c, 4, 4)
    return load_nir(nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array(shape)}),
               "conv1": nir.Conv2d(input_shape=(4, 4), weight=w1, stride=1, padding="same", dilation=1, groups=1,
                                   bias=np.zeros(c)),
               "if1": nir.IF(r=np.ones(shape), v_threshold=np.ones(shape)),
               "conv2": nir.Conv2d(input_shape=(4, 4), weight=w2, stride=1, padding=1, dilation=1, groups=1,
                                   bias=np.zeros(c)),
               "skip": nir.Scale(scale=np.full(shape, skip_gain)),
               "lif": nir.LIF(tau=np.full(shape, 2.0), r=np.ones(shape), v_leak=np.zeros(shape),
                              v_threshold=np.ones(shape)),
               "output": nir.Output(output_type={"output": np.array(shape)})},
        edges=[("input", "conv1"), ("conv1", "if1"), ("if1", "conv2"), ("conv2", "lif"), ("input", "skip"),
               ("skip", "lif"), ("lif", "output")],
    ))


def test_two_paths_summed_into_one_lif_by_hand():
    # centre-tap convs: conv1 = x, conv2 = 0.5 * if1; x = 1 everywhere: if1 fires every step, so the LIF
    # gets 0.5 (conv path) + 1 (skip) = 1.5: v <- v + 0.5 (1.5 - v) = 0.5 v + 0.75:
    # v = 0.75, 1.125 -> spike, 0; 0.75, 1.125 -> spike. Either path alone never fires it
    # (0.5 v + 0.25 tends to 0.5; 0.5 v + 0.5 tends to 1 from below).
    w1 = np.zeros((1, 1, 3, 3))
    w1[0, 0, 1, 1] = 1.0
    w2 = 0.5 * w1
    x = np.ones((4, 1, 1, 4, 4))
    s = simulate_graph(residual(w1, w2), x).outputs["lif"]
    assert s[:, 0, 0].all(axis=(1, 2)).tolist() == [False, True, False, True]
    assert not simulate_graph(residual(w1, w2, skip_gain=0.0), x).outputs["lif"].any()
    assert not simulate_graph(residual(w1, 0 * w2), x).outputs["lif"].any()


def test_residual_block_equals_a_step_by_step_numpy_model():
    rng = np.random.default_rng(11)
    w1, w2 = rng.normal(0, 0.6, (2, 2, 3, 3)), rng.normal(0, 0.6, (2, 2, 3, 3))
    T, B = 6, 3
    x = (rng.random((T, B, 2, 4, 4)) < 0.5).astype(float)
    r = simulate_graph(residual(w1, w2), x)
    v_if, v_lif = np.zeros((B, 2, 4, 4)), np.zeros((B, 2, 4, 4))
    for t in range(T):
        v_if = v_if + naive_conv(x[t], w1, np.zeros(2), (1, 1), (1, 1), (1, 1), 1)
        s_if = v_if >= 1
        v_if[s_if] = 0
        i = naive_conv(s_if.astype(float), w2, np.zeros(2), (1, 1), (1, 1), (1, 1), 1) + x[t]
        v_lif = v_lif + 0.5 * (-v_lif + i)
        s_lif = v_lif >= 1
        v_lif[s_lif] = 0
        assert np.array_equal(r.outputs["if1"][t], s_if) and np.array_equal(r.outputs["lif"][t], s_lif)
    assert r.outputs["lif"].any() and not r.outputs["lif"].all()


def test_strided_dilated_grouped_conv_in_a_graph_equals_a_naive_loop():
    rng = np.random.default_rng(5)
    w, b = rng.normal(size=(6, 2, 3, 3)), rng.normal(size=6)
    g = load_nir(nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([4, 9, 8])}),
               "conv": nir.Conv2d(input_shape=None, weight=w, stride=(2, 1), padding=(1, 2), dilation=(2, 1),
                                  groups=2, bias=b),
               "out": nir.Output(output_type={"output": np.array([6, 4, 10])})},
        edges=[("in", "conv"), ("conv", "out")], type_check=False,
    ))
    # (9 + 2 - 4 - 1) // 2 + 1 = 4; (8 + 4 - 2 - 1) // 1 + 1 = 10
    assert g["conv"].out_shape == (6, 4, 10)
    x = rng.random((2, 3, 4, 9, 8))
    y = simulate_graph(g, x).outputs["out"]
    for t in range(2):
        assert np.allclose(y[t], naive_conv(x[t], w, b, (2, 1), (1, 2), (2, 1), 2))


def mlp():
    rng = np.random.default_rng(2)
    lif = lambda n: nir.LIF(tau=np.full(n, 4.0), r=np.full(n, 4.0), v_leak=np.zeros(n),  # noqa: E731
                            v_threshold=np.ones(n))
    return load_nir(nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([10])}),
               "fc1": nir.Affine(weight=rng.normal(0, 0.7, (8, 10)), bias=np.zeros(8)), "lif1": lif(8),
               "fc2": nir.Affine(weight=rng.normal(0, 0.7, (4, 8)), bias=np.zeros(4)), "lif2": lif(4),
               "output": nir.Output(output_type={"output": np.array([4])})},
        edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")],
    ))


def test_a_batch_gives_the_same_spikes_as_its_samples_one_by_one():
    # currents agree to the last bits only: BLAS sums a batch of 1 and of 5 in different orders
    g = mlp()
    x = (np.random.default_rng(0).random((12, 5, 10)) < 0.4).astype(float)
    whole = simulate_graph(g, x).outputs
    for b in range(5):
        alone = simulate_graph(g, x[:, b:b + 1]).outputs
        for k in ("input", "lif1", "lif2", "output"):
            assert np.array_equal(whole[k][:, b:b + 1], alone[k]), k
        for k in ("fc1", "fc2"):
            assert np.allclose(whole[k][:, b:b + 1], alone[k], rtol=0, atol=1e-12), k


def test_recording_spikes_only_keeps_inputs_neurons_and_outputs():
    g = mlp()
    x = (np.random.default_rng(1).random((8, 2, 10)) < 0.5).astype(float)
    full = simulate_graph(g, x, record="all")
    lean = simulate_graph(g, x, record="spikes")
    assert set(full.outputs) == {"input", "fc1", "lif1", "fc2", "lif2", "output"}
    assert set(lean.outputs) == {"input", "lif1", "lif2", "output"}
    assert lean.outputs["lif1"].dtype == bool and lean.outputs["lif1"].shape == (8, 2, 8)
    assert all(np.array_equal(lean.outputs[k], full.outputs[k]) for k in lean.outputs)
    assert (lean.timesteps, lean.batch) == (8, 2)
    assert set(lean.firing_rates()) == {"lif1", "lif2"}
    # fc1's current is lif1's input; fc2's input spikes are lif1's output
    assert full.outputs["fc1"].shape == (8, 2, 8) and full.outputs["fc1"].dtype == np.float64


def test_predict_takes_the_largest_membrane_sum_of_an_li_output():
    g = single(nir.LI(tau=vec(2, 2, 2), r=vec(1, 1, 1), v_leak=vec(0, 0, 0)), n=3)
    x = np.empty((5, 2, 3))
    x[:, 0] = [0.2, 0.9, 0.5]
    x[:, 1] = [0.7, -1.0, 0.1]
    assert predict(simulate_graph(g, x)).tolist() == [1, 0]


def test_bad_inputs_and_reset_names_are_refused():
    g = mlp()
    with pytest.raises(WorkloadError, match=r"input 'input' needs shape \(T, batch, \*\[10\]\), got \[4, 1, 9\]"):
        simulate_graph(g, np.zeros((4, 1, 9)))
    with pytest.raises(WorkloadError, match=r"reset: reset must be 'zero' or 'subtract' \(got 'hard'\)"):
        simulate_graph(g, np.zeros((4, 1, 10)), reset="hard")
