"""NIR as the frameworks write it: recurrence (by hand), nested graphs, Conv1d,
CubaLI, v_reset, neurons after the input or after pooling, batch axes, dt, and the
mapping of each to workload layers and spikes."""

import nir
import numpy as np
import pytest

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import infer_dt, load_nir
from tlmsim.snn.refsim import simulate_graph
from tlmsim.snn.to_workload import graph_layers, layer_spikes


def f32(a):
    return np.asarray(a, dtype=np.float32)


def io(n_in, n_out):
    return (nir.Input(input_type={"input": np.array(n_in)}), nir.Output(output_type={"output": np.array(n_out)}))


def if_(n, thr=1.0, v_reset=0.0):
    return nir.IF(r=f32(np.ones(n)), v_threshold=f32(np.full(n, thr)), v_reset=f32(np.full(n, v_reset)))


def recurrent_if(w_in, w_rec, b_rec=None, thr=1.5):
    """Input(1) -> Linear(w_in) -> IF <-> recurrent Affine(w_rec, b_rec) -> Output."""
    i, o = io([1], [1])
    rec = nir.Affine(weight=f32([[w_rec]]), bias=f32([0.0 if b_rec is None else b_rec]))
    return nir.NIRGraph(nodes={"input": i, "fc": nir.Linear(weight=f32([[w_in]])), "n": if_(1, thr), "rec": rec,
                               "output": o},
                        edges=[("input", "fc"), ("fc", "n"), ("n", "rec"), ("rec", "n"), ("n", "output")],
                        type_check=False)


def spikes_of(graph, x):
    return simulate_graph(load_nir(graph), np.asarray(x, dtype=float).reshape(len(x), 1, 1)).outputs["n"][:, 0, 0]


def test_a_recurrent_spike_arrives_one_timestep_later():
    # IF, threshold 1.5, input 1 at t = 0 and 1 only, recurrent weight 2:
    # t0: v = 1 -> no spike; t1: v = 2 >= 1.5 -> spike, v = 0; t2: v = 0 + 2 (its own spike of t1) -> spike;
    # t3: v = 2 -> spike ... the recurrence keeps it firing with no input
    assert spikes_of(recurrent_if(1.0, 2.0), [1, 1, 0, 0, 0]).tolist() == [False, True, True, True, True]
    # with no delay the spike of t1 would already count at t1; with a negative weight it inhibits the next step:
    # t0 v=1; t1 v=2 spike; t2 v = 0 + 1 - 3 = -2; t3 v = -1; t4 v = 0
    assert spikes_of(recurrent_if(1.0, -3.0), [1, 1, 1, 1, 1]).tolist() == [False, True, False, False, False]


def test_a_recurrent_affine_gives_its_bias_from_the_first_timestep():
    # at rest the neuron is silent, so the recurrent Affine delivers its bias (0.5) already at t0 (snnTorch's
    # recurrent Linear(0) = bias): t0 v = 0 + 1 + 0.5 = 1.5 -> spike, v = 0; t1 v = 0.5; t2 v = 1.0; t3 v = 1.5 spike
    assert spikes_of(recurrent_if(1.0, 0.0, b_rec=0.5), [1, 0, 0, 0]).tolist() == [True, False, False, True]


def test_a_nested_graph_runs_like_the_flat_one(tmp_path):
    rng = np.random.default_rng(1)
    w_in, w_rec, w_out = rng.normal(size=(6, 4)), rng.normal(size=(6, 6)), rng.normal(size=(3, 6))
    i, o = io([4], [3])
    flat = nir.NIRGraph(
        nodes={"input": i, "fc": nir.Linear(weight=w_in), "cell.lif": if_(6), "cell.w_rec": nir.Linear(weight=w_rec),
               "out_fc": nir.Linear(weight=w_out), "n2": if_(3), "output": o},
        edges=[("input", "fc"), ("fc", "cell.lif"), ("cell.lif", "cell.w_rec"), ("cell.w_rec", "cell.lif"),
               ("cell.lif", "out_fc"), ("out_fc", "n2"), ("n2", "output")], type_check=False)
    cell = nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([6])}), "lif": if_(6), "w_rec": nir.Linear(weight=w_rec),
               "out": nir.Output(output_type={"output": np.array([6])})},
        edges=[("in", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "out")], type_check=False)
    nested = nir.NIRGraph(nodes={"input": i, "fc": nir.Linear(weight=w_in), "cell": cell,
                                 "out_fc": nir.Linear(weight=w_out), "n2": if_(3), "output": o},
                          edges=[("input", "fc"), ("fc", "cell"), ("cell", "out_fc"), ("out_fc", "n2"),
                                 ("n2", "output")], type_check=False)
    path = tmp_path / "nested.nir"
    nir.write(str(path), nested)
    a, b = load_nir(flat), load_nir(path)
    assert {n.name for n in b.nodes} == {n.name for n in a.nodes}
    assert b["cell.lif"].delayed == ("cell.w_rec",)
    x = (rng.random((12, 2, 4)) < 0.5).astype(float)
    ra, rb = simulate_graph(a, x).outputs, simulate_graph(b, x).outputs
    assert np.array_equal(ra["n2"], rb["n2"]) and ra["cell.lif"].any()
    # the subgraph's ports may also be named explicitly, as SUBGRAPH.NODE
    ported = nir.NIRGraph(nodes=dict(nested.nodes),
                          edges=[("input", "fc"), ("fc", "cell.in"), ("cell.out", "out_fc"), ("out_fc", "n2"),
                                 ("n2", "output")], type_check=False)
    assert np.array_equal(simulate_graph(load_nir(ported), x).outputs["n2"], rb["n2"])
    # an edge into a subgraph with two Input nodes must name one
    two = nir.NIRGraph(nodes={"a": nir.Input(input_type={"input": np.array([6])}),
                              "b": nir.Input(input_type={"input": np.array([6])}), "lif": if_(6),
                              "out": nir.Output(output_type={"output": np.array([6])})},
                       edges=[("a", "lif"), ("b", "lif"), ("lif", "out")], type_check=False)
    bad = nir.NIRGraph(nodes={"input": i, "fc": nir.Linear(weight=w_in), "cell": two, "output": o},
                       edges=[("input", "fc"), ("fc", "cell"), ("cell", "output")], type_check=False)
    with pytest.raises(WorkloadError, match="names the nested graph 'cell', which has 2 Input nodes; name one"):
        load_nir(bad)


def conv1d_loop(x, w, b, stride, pad):
    """Reference Conv1d by loops: x (B, C, L), w (O, C, K)."""
    B, C, L = x.shape
    O, _, K = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    Lo = (L + 2 * pad - K) // stride + 1
    y = np.zeros((B, O, Lo))
    for o in range(O):
        for j in range(Lo):
            y[:, o, j] = (xp[:, :, j * stride:j * stride + K] * w[o]).sum(axis=(1, 2)) + b[o]
    return y


@pytest.mark.parametrize("stride,pad,length", [(1, 0, 10), (2, 1, 11), (3, 2, 16), (1, "same", 9)])
def test_conv1d_is_pytorchs_conv1d(stride, pad, length):
    rng = np.random.default_rng(2)
    w, b = rng.normal(size=(3, 2, 3)), rng.normal(size=3)
    i, _ = io([2, length], [1])
    node = nir.Conv1d(input_shape=length, weight=w, stride=stride, padding=pad, dilation=1, groups=1, bias=b)
    g = load_nir(nir.NIRGraph(nodes={"input": i, "conv": node, "output": nir.Output(output_type={"output": None})},
                              edges=[("input", "conv"), ("conv", "output")], type_check=False))
    p = 1 if pad == "same" else pad
    lo = (length + 2 * p - 3) // stride + 1
    assert g["conv"].out_shape == (3, lo)
    x = rng.normal(size=(1, 2, 2, length))
    y = simulate_graph(g, x).outputs["conv"][0]
    assert np.allclose(y, conv1d_loop(x[0], w, b, stride, p))


def test_cuba_li_integrates_without_spiking_and_v_reset_is_read():
    # CubaLI, tau_syn = 2, tau_mem = 4, r = 4, w_in = 2, dt = 1, input 1 every step:
    # i1 = 0 + 0.5 (2 - 0) = 1; v1 = 0 + 0.25 (0 - 0 + 4 x 1) = 1
    # i2 = 1 + 0.5 (2 - 1) = 1.5; v2 = 1 + 0.25 (-1 + 6) = 2.25
    i, o = io([1], [1])
    li = nir.CubaLI(tau_syn=f32([2]), tau_mem=f32([4]), r=f32([4]), v_leak=f32([0]), w_in=f32([2]))
    g = load_nir(nir.NIRGraph(nodes={"input": i, "n": li, "output": o}, edges=[("input", "n"), ("n", "output")],
                              type_check=False))
    assert g.dt == 1.0 and g["n"].kind == "cuba_li"
    v = simulate_graph(g, np.ones((2, 1, 1))).outputs["n"][:, 0, 0]
    assert v.tolist() == [1.0, 2.25] and v.dtype == np.float64
    # LIF with v_reset = -1: input 1.2, tau = r = 2 (v <- v/2 + 1.2), threshold 1:
    # v1 = 1.2 spike -> -1; v2 = -0.5 + 1.2 = 0.7; v3 = 0.35 + 1.2 = 1.55 spike -> -1
    lif = nir.LIF(tau=f32([2]), r=f32([2]), v_leak=f32([0]), v_threshold=f32([1]), v_reset=f32([-1]))
    g = load_nir(nir.NIRGraph(nodes={"input": i, "n": lif, "output": o}, edges=[("input", "n"), ("n", "output")],
                              type_check=False))
    assert g["n"].params["v_reset"].tolist() == [-1.0]
    assert simulate_graph(g, np.full((3, 1, 1), 1.2)).outputs["n"][:, 0, 0].tolist() == [True, False, True]


def test_a_batch_axis_of_one_is_dropped_with_a_note_but_a_channel_of_one_is_kept():
    i = nir.Input(input_type={"input": np.array([1, 10])})
    g = load_nir(nir.NIRGraph(nodes={"input": i, "fc": nir.Linear(weight=np.ones((3, 10))), "n": if_(3),
                                     "output": nir.Output(output_type={"output": np.array([1, 3])})},
                              edges=[("input", "fc"), ("fc", "n"), ("n", "output")], type_check=False))
    assert g["input"].out_shape == (10,)
    assert any("leading axis of size 1" in n and "[10]" in n for n in g.notes)
    conv = nir.Conv2d(input_shape=(4, 4), weight=np.ones((2, 1, 3, 3)), stride=1, padding=1, dilation=1, groups=1,
                      bias=np.zeros(2))
    g = load_nir(nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([1, 4, 4])}), "conv": conv,
                                     "output": nir.Output(output_type={"output": np.array([2, 4, 4])})},
                              edges=[("input", "conv"), ("conv", "output")], type_check=False))
    assert g["input"].out_shape == (1, 4, 4) and not g.notes


def lif_graph(tau, r, metadata=None):
    i, o = io([2], [2])
    lif = nir.LIF(tau=f32(tau), r=f32(r), v_leak=f32([0, 0]), v_threshold=f32([1, 1]))
    g = nir.NIRGraph(nodes={"input": i, "n": lif, "output": o}, edges=[("input", "n"), ("n", "output")],
                     type_check=False)
    return load_nir(g), metadata


@pytest.mark.parametrize("tau,r,metadata,dt", [
    ([1e-3, 1e-3], [10, 10], None, 1e-4),  # snnTorch: r = tau / dt
    ([0.02, 0.01], [19.0246, 9.04837], None, 0.00105127),  # Rockpool: r = tau exp(-dt/tau) / dt, dt = 1e-3
    ([20, 20], [1, 1], None, 1.0),  # Sinabs: r = 1, dt = 1
    ([0.01, 0.005], [1, 1], None, 0.005),  # Norse: r = 1, time constants below 1: the smallest
    ([10, 10], [10, 10], None, 1.0),  # tlmsim's trainers (r = tau, dt = 1)
    ([1e-3, 1e-3], [10, 10], {"dt": 0.5}, 0.5),  # the graph says so
])
def test_dt_comes_from_the_metadata_or_the_exporters_convention(tau, r, metadata, dt):
    g, md = lif_graph(tau, r, metadata)
    got, why = infer_dt(g, md)
    assert got == pytest.approx(dt, rel=1e-5)
    assert (why == "") == (dt == 1.0)


def test_recurrent_layer_mapping_and_its_shifted_spike_record():
    rng = np.random.default_rng(3)
    i, o = io([5], [2])
    w_rec = rng.normal(size=(4, 4))
    w_rec[0, :] = 0
    g = load_nir(nir.NIRGraph(
        nodes={"input": i, "fc": nir.Affine(weight=rng.normal(size=(4, 5)) * 2, bias=np.zeros(4)), "n": if_(4, 0.5),
               "rec": nir.Affine(weight=w_rec, bias=np.zeros(4)), "fc2": nir.Linear(weight=rng.normal(size=(2, 4))),
               "n2": if_(2), "output": o},
        edges=[("input", "fc"), ("fc", "n"), ("n", "rec"), ("rec", "n"), ("n", "fc2"), ("fc2", "n2"), ("n2", "output")],
        type_check=False))
    layers, feeds = graph_layers(g)
    assert [(l["name"], l["op"], l.get("neuron"), l.get("recurrent", False)) for l in layers] == [
        ("fc", "linear", "if", True), ("fc2", "linear", "if", False)]
    assert layers[0]["recurrent_sparsity"] == pytest.approx(0.25)
    assert feeds["fc.recurrent"] == ("n", (4,), 1)
    x = (rng.random((6, 1, 5)) < 0.6).astype(float)
    r = simulate_graph(g, x)
    sp = layer_spikes(g, r.outputs, feeds)
    assert not sp["fc.recurrent"][0].any()
    assert np.array_equal(sp["fc.recurrent"][1:], r.outputs["n"][:-1, 0])
    assert np.array_equal(sp["fc2"], r.outputs["n"][:, 0])  # the next layer reads the same spikes, unshifted


def test_identity_layers_neurons_after_pooling_and_conv1d_shapes():
    rng = np.random.default_rng(4)
    i, o = io([2, 12], [3])
    conv = nir.Conv1d(input_shape=12, weight=rng.normal(size=(4, 2, 3)), stride=1, padding=1, dilation=1, groups=1,
                      bias=np.zeros(4))
    g = load_nir(nir.NIRGraph(
        nodes={"input": i, "n0": if_((2, 12), 0.5), "conv": conv, "n1": if_((4, 12)),
               "flat": nir.Flatten(input_type={"input": np.array([4, 12])}, start_dim=0, end_dim=-1),
               "fc": nir.Linear(weight=rng.normal(size=(3, 48))), "n2": if_(3), "output": o},
        edges=[("input", "n0"), ("n0", "conv"), ("conv", "n1"), ("n1", "flat"), ("flat", "fc"), ("fc", "n2"),
               ("n2", "output")], type_check=False))
    layers, feeds = graph_layers(g)
    assert [(l["name"], l["op"], l["in_shape"], l.get("neuron")) for l in layers] == [
        ("n0", "identity", [2, 12], "if"), ("conv", "conv2d", [2, 1, 12], "if"), ("flat", "flatten", [4, 1, 12], None),
        ("fc", "linear", [48], "if")]
    assert layers[1]["kernel"] == [1, 3] and layers[1]["padding"] == [0, 1]
    x = (rng.random((4, 1, 2, 12)) < 0.5).astype(float)
    sp = layer_spikes(g, simulate_graph(g, x).outputs, feeds)
    assert sp["conv"].shape == (4, 2, 1, 12) and sp["flat"].shape == (4, 4, 1, 12)
    # pooling then a neuron: the neuron belongs to the pooling layer
    conv2 = nir.Conv2d(input_shape=(4, 4), weight=rng.normal(size=(2, 1, 3, 3)), stride=1, padding=1, dilation=1,
                       groups=1, bias=np.zeros(2))
    g = load_nir(nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([1, 4, 4])}), "conv": conv2,
               "pool": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
               "n": if_((2, 2, 2)), "output": nir.Output(output_type={"output": np.array([2, 2, 2])})},
        edges=[("input", "conv"), ("conv", "pool"), ("pool", "n"), ("n", "output")], type_check=False))
    layers, _ = graph_layers(g)
    assert [(l["op"], l.get("neuron")) for l in layers] == [("conv2d", None), ("avgpool2d", "if")]


def test_unmapped_recurrence_and_unsupported_nodes_name_node_reason_and_file(tmp_path):
    from tlmsim.workload import load_workload

    # a recurrent Conv2d back into a conv neuron is not mapped (recurrence is mapped for 1-D layers)
    conv = lambda: nir.Conv2d(input_shape=(3, 3), weight=np.ones((1, 1, 1, 1)), stride=1, padding=0,  # noqa: E731
                              dilation=1, groups=1, bias=np.zeros(1))
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([1, 3, 3])}), "conv": conv(),
                            "n": if_((1, 3, 3)), "rec": conv(),
                            "output": nir.Output(output_type={"output": np.array([1, 3, 3])})},
                     edges=[("input", "conv"), ("conv", "n"), ("n", "rec"), ("rec", "n"), ("n", "output")],
                     type_check=False)
    path = tmp_path / "convrec.nir"
    nir.write(str(path), g)
    with pytest.raises(WorkloadError) as e:
        load_workload(path)
    assert str(e.value) == (f"{path}: rec: the recurrent connection 'rec' (conv2d) into 'n' is not mapped: only an "
                            "Affine, Linear or Scale from the neuron's own output back into it")
    i, o = io([2], [2])
    g = nir.NIRGraph(nodes={"input": i, "d": nir.Delay(delay=f32([1, 1])), "output": o},
                     edges=[("input", "d"), ("d", "output")], type_check=False)
    path = tmp_path / "delay.nir"
    nir.write(str(path), g)
    with pytest.raises(WorkloadError, match=rf"^{path}: nodes.d: node type Delay is not supported \(synaptic delays "
                                            r"are not modelled\)"):
        load_workload(path)
