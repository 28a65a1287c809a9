"""NIR import and the numpy reference simulator, against hand-computed values."""

import nir
import numpy as np
import pytest

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import load_nir
from tlmsim.snn.refsim import conv2d, pool2d, predict, simulate_graph


def one(v):
    return np.array([v], dtype=np.float32)


def chain(neuron, n=1):
    """Input(1) -> Affine(w=1) -> neuron -> Output."""
    return nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([n])}),
               "fc": nir.Affine(weight=np.eye(n, dtype=np.float32), bias=np.zeros(n, dtype=np.float32)),
               "n": neuron, "out": nir.Output(output_type={"output": np.array([n])})},
        edges=[("in", "fc"), ("fc", "n"), ("n", "out")],
    )


def run(graph, current, T, **kw):
    x = np.full((T, 1, 1), current)
    return simulate_graph(load_nir(graph), x, record="all", **kw).outputs


def test_lif_zero_reset_by_hand():
    # tau=2, dt=1, r=2, v_leak=0, threshold 1, I=0.6: v <- v + 0.5 (-v + 1.2)
    # v1 = 0.6, v2 = 0.9, v3 = 1.05 -> spike, reset to 0; v4 = 0.6, v5 = 0.9, v6 = 1.05 -> spike
    g = chain(nir.LIF(tau=one(2), r=one(2), v_leak=one(0), v_threshold=one(1), v_reset=one(0)))
    s = run(g, 0.6, 6)["n"][:, 0, 0]
    assert s.tolist() == [False, False, True, False, False, True]


def test_lif_subtract_reset_by_hand():
    # as above but v <- v - 1 on a spike: v3 = 1.05 -> 0.05; v4 = 0.05 + 0.5 (1.2 - 0.05) = 0.625;
    # v5 = 0.9125; v6 = 1.05625 -> spike
    g = chain(nir.LIF(tau=one(2), r=one(2), v_leak=one(0), v_threshold=one(1)))
    s = run(g, 0.6, 6, reset="subtract")["n"][:, 0, 0]
    assert s.tolist() == [False, False, True, False, False, True]
    s7 = run(g, 0.6, 9, reset="subtract")["n"][:, 0, 0]
    # v7 = 0.05625 + 0.5 (1.2 - 0.05625) = 0.628125; v8 = 0.9140625; v9 = 1.05703125 -> spike
    assert s7.tolist()[6:] == [False, False, True]


def test_if_by_hand():
    # r = 1, threshold 1, I = 0.4: v = 0.4, 0.8, 1.2 -> spike, 0, 0.4, 0.8, 1.2 -> spike
    g = chain(nir.IF(r=one(1), v_threshold=one(1)))
    assert np.flatnonzero(run(g, 0.4, 6)["n"][:, 0, 0]).tolist() == [2, 5]


def test_cuba_lif_by_hand():
    # tau_syn = tau_mem = 2, r = 2, w_in = 1, I = 1:
    # i1 = 0.5, v1 = 0.5 (0 + 2 * 0.5) = 0.5; i2 = 0.75, v2 = 0.5 + 0.5 (-0.5 + 1.5) = 1.0 -> spike, v = 0
    # i3 = 0.875, v3 = 0.875; i4 = 0.9375, v4 = 0.875 + 0.5 (-0.875 + 1.875) = 1.375 -> spike
    g = chain(nir.CubaLIF(tau_syn=one(2), tau_mem=one(2), r=one(2), v_leak=one(0), v_threshold=one(1)))
    assert run(g, 1.0, 4)["n"][:, 0, 0].tolist() == [False, True, False, True]


def test_li_by_hand():
    # tau = 2, r = 1, I = 1: v = 0.5, 0.75, 0.875 (no spikes; the output is v)
    g = chain(nir.LI(tau=one(2), r=one(1), v_leak=one(0)))
    assert np.allclose(run(g, 1.0, 3)["n"][:, 0, 0], [0.5, 0.75, 0.875])


def naive_conv(x, w, bias, stride, pad, dil, groups):
    """Cross-correlation written as loops over every output element."""
    B, C, H, W = x.shape
    O, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    ho = (H + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (W + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((B, O, ho, wo))
    og = O // groups
    for b in range(B):
        for o in range(O):
            g = o // og
            for i in range(ho):
                for j in range(wo):
                    acc = bias[o]
                    for c in range(cg):
                        for u in range(kh):
                            for v in range(kw):
                                acc += (xp[b, g * cg + c, i * stride[0] + u * dil[0], j * stride[1] + v * dil[1]]
                                        * w[o, c, u, v])
                    y[b, o, i, j] = acc
    return y


@pytest.mark.parametrize("stride, pad, dil, groups", [((1, 1), (1, 1), (1, 1), 1), ((2, 1), (0, 2), (1, 2), 2)])
def test_conv2d_equals_a_naive_loop(stride, pad, dil, groups):
    rng = np.random.default_rng(0)
    x = rng.random((2, 4, 7, 6))
    w = rng.standard_normal((6, 4 // groups, 3, 2))
    bias = rng.standard_normal(6)
    assert np.allclose(conv2d(x, w, bias, stride, pad, dil, groups), naive_conv(x, w, bias, stride, pad, dil, groups))


def test_pooling_by_hand():
    x = np.arange(16, dtype=float).reshape(1, 1, 4, 4)
    # windows 2x2 stride 2: [0,1,4,5]=10, [2,3,6,7]=18, [8,9,12,13]=42, [10,11,14,15]=50
    assert pool2d(x, (2, 2), (2, 2), (0, 0), mean=False)[0, 0].tolist() == [[10, 18], [42, 50]]
    assert pool2d(x, (2, 2), (2, 2), (0, 0), mean=True)[0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]


def conv_graph():
    w = np.zeros((2, 1, 3, 3), dtype=np.float32)
    w[:, 0, 1, 1] = 1.0
    return nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([1, 4, 4])}),
            "conv": nir.Conv2d(input_shape=(4, 4), weight=w, stride=1, padding=1, dilation=1, groups=1,
                               bias=np.zeros(2, dtype=np.float32)),
            "if1": nir.IF(r=np.ones((2, 4, 4), dtype=np.float32), v_threshold=np.ones((2, 4, 4), dtype=np.float32)),
            "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
            "flat": nir.Flatten(input_type={"input": np.array([2, 2, 2])}, start_dim=0),
            "fc": nir.Affine(weight=np.ones((3, 8), dtype=np.float32), bias=np.zeros(3, dtype=np.float32)),
            "lif": nir.LIF(tau=np.full(3, 2.0, dtype=np.float32), r=np.full(3, 2.0, dtype=np.float32),
                           v_leak=np.zeros(3, dtype=np.float32), v_threshold=np.ones(3, dtype=np.float32)),
            "output": nir.Output(output_type={"output": np.array([3])}),
        },
        edges=[("input", "conv"), ("conv", "if1"), ("if1", "pool"), ("pool", "flat"), ("flat", "fc"), ("fc", "lif"),
               ("lif", "output")],
    )


def test_conv_graph_shapes_survive_a_file_round_trip(tmp_path):
    path = tmp_path / "conv.nir"
    nir.write(str(path), conv_graph())
    g = load_nir(path)
    shapes = {n.name: n.out_shape for n in g.nodes}
    assert shapes == {"input": (1, 4, 4), "conv": (2, 4, 4), "if1": (2, 4, 4), "pool": (2, 2, 2), "flat": (8,),
                      "fc": (3,), "lif": (3,), "output": (3,)}
    # all-ones input: the identity conv gives 1 everywhere -> IF spikes every step; each pool
    # window sums 4 spikes; fc sums 8 windows x 4 = 32 -> the LIF crosses threshold at once
    r = simulate_graph(g, np.ones((3, 1, 1, 4, 4)))
    assert r.outputs["if1"].all() and r.outputs["lif"].all()


def test_branches_sum_into_a_neuron_and_map_to_a_residual(tmp_path):
    from tlmsim.soc.run import simulate
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload

    f = lambda n, m: nir.Affine(weight=np.full((m, n), 0.3, dtype=np.float32), bias=np.zeros(m, dtype=np.float32))  # noqa
    lif = lambda n: nir.LIF(tau=np.full(n, 2.0, dtype=np.float32), r=np.full(n, 2.0, dtype=np.float32),  # noqa
                            v_leak=np.zeros(n, dtype=np.float32), v_threshold=np.ones(n, dtype=np.float32))
    g = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([6])}), "a": f(6, 4), "l1": lif(4), "b": f(4, 4),
               "l2": lif(4), "output": nir.Output(output_type={"output": np.array([4])})},
        edges=[("input", "a"), ("a", "l1"), ("l1", "b"), ("b", "l2"), ("l1", "l2"), ("l2", "output")],
    )
    path = tmp_path / "skip.nir"
    nir.write(str(path), g)
    w = load_workload(path, seed=0)
    assert [(l.name, l.neuron, l.residual) for l in w.layers] == [("a", "lif", -1), ("b", "lif", 0)]
    r = simulate(load_platform("ddr4-baseline"), w)
    # dense-ws: b's GEMM is 1 x 4 x 4 per timestep, plus one add per output for the shortcut
    T = w.timesteps
    assert [(l.dense_ops, l.acc_ops) for l in r.controller.layers] == [(6 * 4 * T, 6 * 4 * T),
                                                                      ((16 + 4) * T, (16 + 4) * T)]


def test_unsupported_node_and_cycles_are_clear_errors(tmp_path):
    g = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([2])}),
               "thr": nir.Threshold(threshold=np.ones(2, dtype=np.float32)),
               "output": nir.Output(output_type={"output": np.array([2])})},
        edges=[("input", "thr"), ("thr", "output")],
    )
    with pytest.raises(WorkloadError) as e:
        load_nir(g)
    msg = str(e.value)
    assert "nodes.thr: node type Threshold is not supported" in msg and "allowed: Input, Output, Affine" in msg
    cyc = chain(nir.IF(r=one(1), v_threshold=one(1)))
    cyc.edges.append(("n", "fc"))  # through a neuron: a recurrent (delayed) edge, accepted
    assert load_nir(cyc)["fc"].delayed == ("n",)
    loop = chain(nir.IF(r=one(1), v_threshold=one(1)))
    loop.edges.append(("fc", "fc"))  # no neuron on the cycle: refused
    with pytest.raises(WorkloadError, match="nodes.fc: the graph has a cycle with no neuron on it"):
        load_nir(loop)
    bad = tmp_path / "bad.nir"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(WorkloadError, match="bad.nir: not a readable NIR graph"):
        load_nir(bad)


def test_predict_counts_output_spikes():
    from tlmsim.snn.refsim import ReferenceResult

    out = np.zeros((3, 2, 4), dtype=bool)
    out[:, 0, 2] = True  # sample 0: class 2 fires 3 times
    out[0, 1, 1] = out[1, 1, 3] = out[2, 1, 3] = True  # sample 1: class 3 twice
    assert predict(ReferenceResult(outputs={"output": out}, timesteps=3, batch=2)).tolist() == [2, 3]


def test_if_integrates_with_the_step_width():
    # dt = 0.5, r = 1, threshold 1, I = 1: v = 0.5, 1.0 -> spike at the second step
    g = chain(nir.IF(r=one(1), v_threshold=one(1)))
    assert run(g, 1.0, 3, dt=0.5)["n"][:, 0, 0].tolist() == [False, True, False]
