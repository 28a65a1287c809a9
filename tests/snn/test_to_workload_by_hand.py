"""snn/to_workload.py on hand-made graphs: every layer dict, feed, refusal, recurrent
synapse, spike trace and weight mask written out by hand (exact values)."""

from types import SimpleNamespace

import numpy as np
import pytest

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import Node, SnnGraph
from tlmsim.snn.to_workload import (Feed, graph_layers, layer_spikes, recurrent_key, recurrent_weights,
                                    weight_masks)


def N(name, kind, inputs, in_shape, out_shape, delayed=(), **params):
    return Node(name, kind, tuple(inputs), tuple(in_shape), tuple(out_shape), params, tuple(delayed))


def G(*nodes):
    return SnnGraph(tuple(nodes))


def zeros_in(shape, nzero):
    """Ones with the first ``nzero`` entries (C order) zero."""
    w = np.ones(int(np.prod(shape)))
    w[:nzero] = 0
    return w.reshape(shape)


def conv(name, inp, in_shape, out_shape, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, kind="conv2d"):
    return N(name, kind, [inp], in_shape, out_shape, weight=w, stride=stride, padding=padding, dilation=dilation,
             groups=groups)


def fc(name, inp, n_in, w, kind="affine"):
    return N(name, kind, [inp], (n_in,), (w.shape[0],), weight=w, bias=np.zeros(w.shape[0]))


def x(shape, name="x"):
    return N(name, "input", [], shape, shape)


def err(graph):
    with pytest.raises(WorkloadError) as e:
        graph_layers(graph)
    return str(e.value)


def test_a_feed_forward_chain_maps_node_by_node():
    g = G(x((2, 5, 5)),
          conv("c1", "x", (2, 5, 5), (4, 3, 3), zeros_in((4, 2, 3, 3), 18), stride=(1, 2), padding=(0, 1)),
          N("n1", "lif", ["c1"], (4, 3, 3), (4, 3, 3)),
          N("p1", "sumpool2d", ["n1"], (4, 3, 3), (4, 2, 1), kernel=(2, 3), stride=(1, 2), padding=(0, 0)),
          N("n2", "if", ["p1"], (4, 2, 1), (4, 2, 1)),
          N("f", "flatten", ["n2"], (4, 2, 1), (8,)),
          fc("fc", "f", 8, zeros_in((3, 8), 3), kind="linear"),
          N("n3", "cuba_li", ["fc"], (3,), (3,)),
          N("o", "output", ["n3"], (3,), (3,)))
    layers, feeds = graph_layers(g)
    assert layers == [
        {"name": "c1", "op": "conv2d", "in_shape": [2, 5, 5], "out_channels": 4, "kernel": [3, 3], "stride": [1, 2],
         "padding": [0, 1], "weight_sparsity": 0.25, "neuron": "lif"},
        {"name": "p1", "op": "sumpool2d", "in_shape": [4, 3, 3], "kernel": [2, 3], "stride": [1, 2],
         "padding": [0, 0], "neuron": "if"},
        {"name": "f", "op": "flatten", "in_shape": [4, 2, 1]},
        {"name": "fc", "op": "linear", "in_shape": [8], "out_features": 3, "weight_sparsity": 0.125,
         "neuron": "cuba_li"}]
    assert feeds == {"c1": ("x", (2, 5, 5), 0), "p1": ("n1", (4, 3, 3), 0), "f": ("n2", (4, 2, 1), 0),
                     "fc": ("f", (8,), 0)}
    assert all(type(f) is Feed for f in feeds.values())


@pytest.mark.parametrize("kind,neuron", [("avgpool2d", "cuba_lif"), ("affine", "li")])
def test_every_neuron_kind_and_host_op(kind, neuron):
    if kind == "avgpool2d":
        host = N("h", kind, ["x"], (1, 4, 4), (1, 2, 2), kernel=(2, 2), stride=(2, 2), padding=(1, 0))
        want = {"name": "h", "op": "avgpool2d", "in_shape": [1, 4, 4], "kernel": [2, 2], "stride": [2, 2],
                "padding": [1, 0], "neuron": neuron}
        xs = (1, 4, 4)
    else:
        host = fc("h", "x", 4, zeros_in((2, 4), 1))
        want = {"name": "h", "op": "linear", "in_shape": [4], "out_features": 2, "weight_sparsity": 0.125,
                "neuron": neuron}
        xs = (4,)
    layers, _ = graph_layers(G(x(xs), host, N("n", neuron, ["h"], host.out_shape, host.out_shape)))
    assert layers == [want]


def test_a_conv1d_is_a_conv2d_on_a_one_row_image():
    g = G(x((2, 7)),
          conv("c", "x", (2, 7), (4, 5), zeros_in((4, 2, 1, 3), 6), kind="conv1d"),
          N("n", "if", ["c"], (4, 5), (4, 5)),
          N("f", "flatten", ["n"], (4, 5), (20,)))
    layers, feeds = graph_layers(g)
    assert layers == [
        {"name": "c", "op": "conv2d", "in_shape": [2, 1, 7], "out_channels": 4, "kernel": [1, 3], "stride": [1, 1],
         "padding": [0, 0], "weight_sparsity": 0.25, "neuron": "if"},
        {"name": "f", "op": "flatten", "in_shape": [4, 1, 5]}]
    assert feeds == {"c": ("x", (2, 1, 7), 0), "f": ("n", (4, 1, 5), 0)}


def test_all_zero_weights_count_as_999_per_mille():
    layers, _ = graph_layers(G(x((2,)), fc("fc", "x", 2, np.zeros((3, 2)))))
    assert layers[0]["weight_sparsity"] == 0.999


def test_a_shortcut_becomes_the_residual_of_the_synaptic_path():
    for order in (["fc2", "n1"], ["n1", "fc2"]):
        g = G(x((3,)), fc("fc1", "x", 3, np.ones((4, 3))), N("n1", "lif", ["fc1"], (4,), (4,)),
              fc("fc2", "n1", 4, np.ones((4, 4))), N("n2", "lif", order, (4,), (4,)),
              N("o", "output", ["n2"], (4,), (4,)))
        layers, feeds = graph_layers(g)
        assert layers == [
            {"name": "fc1", "op": "linear", "in_shape": [3], "out_features": 4, "weight_sparsity": 0.0,
             "neuron": "lif"},
            {"name": "fc2", "op": "linear", "in_shape": [4], "out_features": 4, "weight_sparsity": 0.0,
             "neuron": "lif", "residual": "fc1"}], order
        assert feeds == {"fc1": ("x", (3,), 0), "fc2": ("n1", (4,), 0)}


def test_a_synaptic_path_is_preferred_over_a_pooling_one_and_a_layer_not_after_its_feed_names_its_input():
    for order in (["p", "c"], ["c", "p"]):
        g = G(x((1, 4, 4)), N("p", "sumpool2d", ["x"], (1, 4, 4), (1, 4, 4), kernel=(1, 1), stride=(1, 1),
                              padding=(0, 0)),
              conv("c", "x", (1, 4, 4), (1, 4, 4), np.ones((1, 1, 1, 1))),
              N("n", "if", order, (1, 4, 4), (1, 4, 4)),
              N("f", "flatten", ["n"], (1, 4, 4), (16,)))
        layers, feeds = graph_layers(g)
        assert layers == [
            {"name": "p", "op": "sumpool2d", "in_shape": [1, 4, 4], "kernel": [1, 1], "stride": [1, 1],
             "padding": [0, 0]},
            {"name": "c", "op": "conv2d", "in_shape": [1, 4, 4], "input": "input", "out_channels": 1,
             "kernel": [1, 1], "stride": [1, 1], "padding": [0, 0], "weight_sparsity": 0.0, "neuron": "if",
             "residual": "p"},
            {"name": "f", "op": "flatten", "in_shape": [1, 4, 4]}], order
        assert feeds == {"p": ("x", (1, 4, 4), 0), "c": ("x", (1, 4, 4), 0), "f": ("n", (1, 4, 4), 0)}


@pytest.mark.parametrize("syn", ["conv2d", "affine", "linear"])
def test_the_synaptic_path_wins_whatever_the_names_and_input_order(syn):
    """A pooling layer named before the synaptic one ("a" < "z") and listed first or last."""
    pool = N("a", "sumpool2d", ["x"], (1, 1, 4), (1, 1, 4), kernel=(1, 1), stride=(1, 1), padding=(0, 0))
    if syn == "conv2d":
        z = conv("z", "x", (1, 1, 4), (1, 1, 4), np.ones((1, 1, 1, 1)))
    else:
        z = N("z", syn, ["x"], (1, 1, 4), (4,), weight=np.ones((4, 4)), bias=np.zeros(4))
    for order in (["a", "z"], ["z", "a"]):
        layers, _ = graph_layers(G(x((1, 1, 4)), pool, z, N("n", "if", order, (4,), (4,))))
        assert [(ly["name"], ly.get("neuron"), ly.get("residual")) for ly in layers] == [
            ("a", None, None), ("z", "if", "a")], order


def test_a_neuron_with_no_layer_of_its_own_is_an_identity_layer():
    g = G(x((5,)), N("n", "lif", ["x"], (5,), (5,)), fc("fc", "n", 5, np.ones((2, 5))),
          N("n2", "if", ["fc"], (2,), (2,)))
    layers, feeds = graph_layers(g)
    assert layers == [{"name": "n", "op": "identity", "in_shape": [5], "neuron": "lif"},
                      {"name": "fc", "op": "linear", "in_shape": [5], "out_features": 2, "weight_sparsity": 0.0,
                       "neuron": "if"}]
    assert feeds == {"n": ("x", (5,), 0), "fc": ("n", (5,), 0)}


def test_an_identity_layer_on_two_neurons_takes_the_second_as_residual():
    g = G(x((4,)), fc("fc1", "x", 4, np.ones((4, 4))), N("n1", "lif", ["fc1"], (4,), (4,)),
          fc("fc2", "n1", 4, np.ones((4, 4))), N("n2", "lif", ["fc2"], (4,), (4,)),
          N("n3", "if", ["n2", "n1"], (4,), (4,)), fc("fc3", "n3", 4, np.ones((2, 4))))
    layers, feeds = graph_layers(g)
    assert [ly["name"] for ly in layers] == ["fc1", "fc2", "n3", "fc3"]
    assert layers[2] == {"name": "n3", "op": "identity", "in_shape": [4], "neuron": "if", "residual": "fc1"}
    assert layers[3] == {"name": "fc3", "op": "linear", "in_shape": [4], "out_features": 2, "weight_sparsity": 0.0}
    assert feeds["n3"] == ("n2", (4,), 0) and feeds["fc3"] == ("n3", (4,), 0)


def test_a_conv_identity_layer_keeps_its_image_shape():
    g = G(x((2, 3, 3)), N("n", "if", ["x"], (2, 3, 3), (2, 3, 3)),
          conv("c", "n", (2, 3, 3), (1, 3, 3), np.ones((1, 2, 1, 1))))
    layers, feeds = graph_layers(g)
    assert layers[0] == {"name": "n", "op": "identity", "in_shape": [2, 3, 3], "neuron": "if"}
    assert layers[1]["in_shape"] == [2, 3, 3] and "input" not in layers[1]
    assert feeds == {"n": ("x", (2, 3, 3), 0), "c": ("n", (2, 3, 3), 0)}


def test_scale_and_output_nodes_pass_their_source_through():
    # a Scale after the neuron: the next layer reads the neuron's layer
    g = G(x((3,)), fc("fc", "x", 3, np.ones((3, 3))), N("n", "lif", ["fc"], (3,), (3,)),
          N("s", "scale", ["n"], (3,), (3,), scale=np.ones(3)), fc("fc2", "s", 3, np.ones((2, 3))),
          N("n2", "lif", ["fc2"], (2,), (2,)), N("o", "output", ["n2", "n2"], (2,), (2,)))
    layers, feeds = graph_layers(g)
    assert [ly["name"] for ly in layers] == ["fc", "fc2"] and "input" not in layers[1]
    assert layers[1]["in_shape"] == [3] and feeds["fc2"] == ("s", (3,), 0)
    # a Scale between a layer and its neuron: the neuron is an identity layer on the Scale, reading fc
    g = G(x((3,)), fc("fc", "x", 3, np.ones((3, 3))), N("s", "scale", ["fc"], (3,), (3,), scale=np.ones(3)),
          N("n", "lif", ["s"], (3,), (3,)), N("o", "output", ["n"], (3,), (3,)))
    layers, feeds = graph_layers(g)
    assert layers == [{"name": "fc", "op": "linear", "in_shape": [3], "out_features": 3, "weight_sparsity": 0.0},
                      {"name": "n", "op": "identity", "in_shape": [3], "neuron": "lif"}]
    assert feeds == {"fc": ("x", (3,), 0), "n": ("s", (3,), 0)}


def test_a_scale_on_the_input_keeps_the_input_shape():
    g = G(x((2, 3)), N("s", "scale", ["x"], (2, 3), (2, 3), scale=np.ones(2)), N("f", "flatten", ["s"], (2, 3), (6,)))
    layers, feeds = graph_layers(g)
    assert layers == [{"name": "f", "op": "flatten", "in_shape": [2, 3]}]
    assert feeds == {"f": ("s", (2, 3), 0)}


def test_the_refusals_name_the_node():
    two = G(x((2,)), fc("a", "x", 2, np.ones((2, 2))), N("na", "lif", ["a"], (2,), (2,)),
            fc("b", "x", 2, np.ones((2, 2))), N("nb", "lif", ["b"], (2,), (2,)),
            N("o", "output", ["na", "nb"], (2,), (2,)))
    assert err(two) == "o: output node 'o' sums several paths; not supported"
    two_s = G(*two.nodes[:-1], N("s", "scale", ["na", "nb"], (2,), (2,), scale=np.ones(2)))
    assert err(two_s) == "s: scale node 's' sums several paths; not supported"
    sums = G(x((2,)), N("f", "flatten", ["x", "x"], (2,), (2,)))
    assert err(sums) == "f: node 'f' (flatten) sums 2 inputs; only neurons may"
    for kw in ({"groups": 2}, {"dilation": (1, 2)}, {"dilation": (2, 1)}):
        g = G(x((2, 3, 3)), conv("c", "x", (2, 3, 3), (2, 3, 3), np.ones((2, 1, 1, 1)), **kw))
        assert err(g) == "c: conv 'c': groups and dilation other than 1 are not mapped yet", kw
    three = G(*two.nodes[:-1], fc("c", "x", 2, np.ones((2, 2))), N("nc", "lif", ["c"], (2,), (2,)),
              N("n", "if", ["na", "nb", "nc"], (2,), (2,)))
    assert err(three) == "n: neuron 'n' sums 3 paths; at most 2 are mapped"
    fromin = G(x((2,)), fc("a", "x", 2, np.ones((2, 2))), N("n", "if", ["a", "x"], (2,), (2,)))
    assert err(fromin) == "n: neuron 'n': a shortcut from the network input is not mapped"
    intopool = G(x((1, 2, 2)), conv("c", "x", (1, 2, 2), (1, 2, 2), np.ones((1, 1, 1, 1))),
                 N("n1", "lif", ["c"], (1, 2, 2), (1, 2, 2)),
                 N("p", "avgpool2d", ["n1"], (1, 2, 2), (1, 2, 2), kernel=(1, 1), stride=(1, 1), padding=(0, 0)),
                 N("n", "if", ["p", "n1"], (1, 2, 2), (1, 2, 2)))
    assert err(intopool) == "n: neuron 'n': a shortcut into a avgpool2d layer is not mapped"
    odd = G(x((2,)), N("w", "weird", ["x"], (2,), (2,)))
    assert err(odd) == "w: node kind 'weird' cannot be mapped"
    cyc = G(x((2,)), N("a", "affine", ["x", "n"], (2,), (2,), delayed=["n"], weight=np.ones((2, 2))),
            N("n", "lif", ["a"], (2,), (2,)))
    assert err(cyc) == "a: the recurrent connection into 'a' (affine) is not mapped: only a neuron may close a cycle"


def rnn(rec_kind="affine", w=None, neuron="lif", rec_inputs=("n",), extra_reader=False, delayed=("r",),
        feed="fc", shape=(4,)):
    """x(3) -> fc(4) -> n (+ delayed r) ; r: n -> n one timestep late; n -> o."""
    n = shape[0]
    nodes = [x((3,)), fc("fc", "x", 3, np.ones((n, 3)))]
    if feed == "x":
        nodes = [x(shape)]
    if rec_kind == "scale":
        r = N("r", "scale", rec_inputs, shape, shape, scale=w)
    elif rec_kind == "conv2d":
        r = N("r", "conv2d", rec_inputs, shape, shape, weight=w)
    else:
        r = N("r", rec_kind, rec_inputs, shape, shape, weight=w, bias=np.arange(n) + 1.0)
    nodes += [N("n", neuron, [feed, *delayed], shape, shape, delayed=delayed), r]
    if "r2" in delayed:
        nodes.append(N("r2", rec_kind, rec_inputs, shape, shape, weight=w, bias=np.zeros(n)))
    nodes.append(N("o", "output", ["n", "r"] if extra_reader else ["n"], shape, shape))
    return G(*nodes)


def test_a_recurrent_affine_folds_into_its_neurons_layer():
    w = zeros_in((4, 4), 12)
    layers, feeds = graph_layers(rnn(w=w))
    assert layers == [{"name": "fc", "op": "linear", "in_shape": [3], "out_features": 4, "weight_sparsity": 0.0,
                       "neuron": "lif", "recurrent": True, "recurrent_sparsity": 0.75}]
    assert feeds == {"fc": ("x", (3,), 0), "fc.recurrent": ("n", (4,), 1)}
    assert recurrent_key("fc") == "fc.recurrent"
    for kind in ("linear", "affine"):
        assert graph_layers(rnn(kind, w=np.zeros((4, 4))))[0][0]["recurrent_sparsity"] == 0.999


def test_a_recurrent_scale_is_a_diagonal_matrix():
    layers, feeds = graph_layers(rnn("scale", w=np.array([0.0, 2.0, 0.0, 0.0])))
    assert layers[0]["recurrent"] is True and layers[0]["recurrent_sparsity"] == 15 / 16
    assert feeds["fc.recurrent"] == ("n", (4,), 1)
    assert graph_layers(rnn("scale", w=np.ones(4)))[0][0]["recurrent_sparsity"] == 12 / 16


def test_recurrent_weights_are_the_matrix_and_bias_or_none():
    w = np.arange(16.0).reshape(4, 4)
    got_w, got_b = recurrent_weights(rnn(w=w), "n")
    assert np.array_equal(got_w, w) and np.array_equal(got_b, [1.0, 2.0, 3.0, 4.0])
    got_w, got_b = recurrent_weights(rnn("scale", w=np.array([1.0, 0.0, 3.0, 4.0])), "n")
    assert np.array_equal(got_w, np.diag([1.0, 0.0, 3.0, 4.0])) and np.array_equal(got_b, np.zeros(4))
    assert got_b.shape == (4,)
    assert recurrent_weights(rnn(w=w), "fc") is None


def rec_err(g):
    return err(g)


def test_the_recurrent_refusals_name_the_node():
    w = np.ones((4, 4))
    assert rec_err(rnn(w=w, delayed=("r", "r2"))) == "n: neuron 'n' has 2 recurrent inputs; one is mapped"
    tail = "is not mapped: only an Affine, Linear or Scale from the neuron's own output back into it"
    assert rec_err(rnn("conv2d", w=w)) == f"r: the recurrent connection 'r' (conv2d) into 'n' {tail}"
    assert rec_err(rnn(w=w, rec_inputs=("fc",))) == f"r: the recurrent connection 'r' (affine) into 'n' {tail}"
    assert rec_err(rnn(w=w, rec_inputs=("n", "fc"))) == f"r: the recurrent connection 'r' (affine) into 'n' {tail}"
    assert rec_err(rnn(w=w, extra_reader=True)) == f"r: the recurrent connection 'r' (affine) into 'n' {tail}"
    for li in ("li", "cuba_li"):
        assert rec_err(rnn(w=w, neuron=li)) == (f"n: neuron 'n' ({li}) has no spikes to feed back; a recurrent "
                                                "connection is mapped for spiking neurons only")
    for sp in ("if", "cuba_lif"):
        assert graph_layers(rnn(w=w, neuron=sp))[0][0]["recurrent"] is True
    g = rnn(w=w, feed="x", shape=(2, 2))
    assert rec_err(g) == ("n: recurrent neuron 'n' has shape [2, 2]; recurrence is mapped for 1-D layers after an "
                          "Affine/Linear")
    assert rec_err(rnn(w=w, feed="x")) == (
        "n: recurrent neuron 'n' has no Affine/Linear before it (its feed-forward synapse is the identity); no "
        "dataflow schedules such a recurrent identity layer: put an Affine/Linear before the neuron")


def test_layer_spikes_are_the_nonzero_pattern_and_a_recurrent_feed_is_one_timestep_late():
    a = np.zeros((3, 2, 4))
    a[0, 0] = [1, 0, 2, 0]
    a[1, 0] = [0, -1, 0, 0]
    a[2, 0] = [0, 0, 0, 3]
    a[0, 1] = [0, 0, 0, 1]
    a[2, 1] = [1, 1, 0, 0]
    feeds = {"img": Feed("a", (2, 2)), "rec": Feed("a", (4,), 1), "raw": "a"}
    s0 = layer_spikes(G(), {"a": a}, feeds)
    t = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], bool)
    assert s0["img"].dtype == bool and s0["img"].shape == (3, 2, 2)
    assert np.array_equal(s0["img"], t.reshape(3, 2, 2))
    assert np.array_equal(s0["raw"], t)
    assert np.array_equal(s0["rec"], [[0, 0, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0]])
    s1 = layer_spikes(G(), {"a": a}, feeds, sample=1)
    assert np.array_equal(s1["rec"], [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    assert np.array_equal(s1["raw"], [[0, 0, 0, 1], [0, 0, 0, 0], [1, 1, 0, 0]])
    every = layer_spikes(G(), {"a": a}, feeds, sample=None)
    assert every["img"].shape == (2, 3, 2, 2) and every["rec"].shape == (2, 3, 4)
    assert np.array_equal(every["rec"][0], s0["rec"]) and np.array_equal(every["rec"][1], s1["rec"])
    assert np.array_equal(every["raw"][1], s1["raw"])
    two = layer_spikes(G(), {"a": a}, {"d2": Feed("a", (4,), 2)})["d2"]
    assert np.array_equal(two, [[0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0]])


def test_weight_masks_are_the_gemm_layout_of_the_nonzeros():
    wc = np.array([[[[1.0, 0.0], [0.0, 2.0]]], [[[0.0, 0.0], [3.0, 0.0]]]])  # (2, 1, 2, 2)
    w1 = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])  # (3, 2)
    w1r = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    w2 = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # (2, 3)
    w2r = np.array([[0.0, 5.0], [0.0, 0.0]])
    g = G(x((1, 2, 2)), conv("c", "x", (1, 2, 2), (2, 1, 1), wc), N("nc", "if", ["c"], (2, 1, 1), (2, 1, 1)),
          N("f", "flatten", ["nc"], (2, 1, 1), (2,)),
          fc("l1", "f", 2, w1), N("n1", "lif", ["l1", "r1"], (3,), (3,), delayed=["r1"]),
          N("r1", "affine", ["n1"], (3,), (3,), weight=w1r, bias=np.zeros(3)),
          fc("l2", "n1", 3, w2), N("n2", "lif", ["l2", "r2"], (2,), (2,), delayed=["r2"]),
          N("r2", "affine", ["n2"], (2,), (2,), weight=w2r, bias=np.zeros(2)))
    L = SimpleNamespace
    layers = [L(name="c", has_weights=True, recurrent=False), L(name="f", has_weights=False, recurrent=False),
              L(name="l1", has_weights=True, recurrent=True), L(name="l2", has_weights=True, recurrent=True)]
    m = weight_masks(g, layers)
    assert sorted(m) == ["c", "l1", "l1.recurrent", "l2", "l2.recurrent"]
    assert np.array_equal(m["c"], [[1, 0], [0, 0], [0, 1], [1, 0]])  # K = (c, kh, kw) rows, N = 2 columns
    assert np.array_equal(m["l1"], [[0, 1, 0], [1, 1, 0]])
    assert np.array_equal(m["l1.recurrent"], [[0, 0, 1], [1, 0, 1], [0, 0, 0]])
    assert np.array_equal(m["l2"], [[1, 0], [0, 0], [0, 1]])
    assert np.array_equal(m["l2.recurrent"], [[0, 0], [1, 0]])
    assert all(v.dtype == bool and v.flags.c_contiguous for v in m.values())
    assert weight_masks(g, [L(name="f", has_weights=False, recurrent=False)]) == {}
