"""NIR import (tlmsim.snn.graph.load_nir): the IR, shapes through every supported node,
file round trips, and the errors for files and graphs it refuses."""

import dataclasses
import pickle

import nir
import numpy as np
import pytest

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import SUPPORTED, load_nir


def f32(*values):
    return np.array(values, dtype=np.float32)


def lif(shape, tau=2.0, r=2.0, thr=1.0):
    return nir.LIF(tau=np.full(shape, tau), r=np.full(shape, r), v_leak=np.zeros(shape),
                   v_threshold=np.full(shape, thr))


def mlp_graph():
    """Input(6) -> Affine(4) -> LIF -> Affine(3) -> LIF -> Output."""
    rng = np.random.default_rng(7)
    return nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([6])}),
               "fc1": nir.Affine(weight=rng.normal(size=(4, 6)).astype(np.float32), bias=f32(1, 2, 3, 4)),
               "lif1": lif(4),
               "fc2": nir.Affine(weight=rng.normal(size=(3, 4)).astype(np.float32), bias=np.zeros(3, np.float32)),
               "lif2": lif(3),
               "output": nir.Output(output_type={"output": np.array([3])})},
        edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")],
    )


def resnet_block():
    """A residual block: input -> conv1 -> if1 -> conv2 -+-> lif -> output
                              \\------------------------/   (identity skip, summed)"""
    rng = np.random.default_rng(3)
    conv = lambda: nir.Conv2d(input_shape=(5, 5), weight=rng.normal(size=(2, 2, 3, 3)), stride=1,  # noqa: E731
                              padding=1, dilation=1, groups=1, bias=np.zeros(2))
    return nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([2, 5, 5])}),
               "conv1": conv(), "if1": nir.IF(r=np.ones((2, 5, 5)), v_threshold=np.ones((2, 5, 5))),
               "conv2": conv(), "lif": lif((2, 5, 5)),
               "output": nir.Output(output_type={"output": np.array([2, 5, 5])})},
        edges=[("input", "conv1"), ("conv1", "if1"), ("if1", "conv2"), ("conv2", "lif"), ("input", "lif"),
               ("lif", "output")],
    )


def roundtrip(graph, tmp_path, name="g.nir"):
    path = tmp_path / name
    nir.write(str(path), graph)
    return load_nir(path)


def test_mlp_file_round_trip_keeps_order_inputs_shapes_and_parameters(tmp_path):
    src = mlp_graph()
    g = roundtrip(src, tmp_path)
    assert [(n.name, n.kind, n.inputs, n.in_shape, n.out_shape) for n in g.nodes] == [
        ("input", "input", (), (6,), (6,)),
        ("fc1", "affine", ("input",), (6,), (4,)),
        ("lif1", "lif", ("fc1",), (4,), (4,)),
        ("fc2", "affine", ("lif1",), (4,), (3,)),
        ("lif2", "lif", ("fc2",), (3,), (3,)),
        ("output", "output", ("lif2",), (3,), (3,)),
    ]
    fc1 = g["fc1"].params
    assert fc1["weight"].dtype == np.float64 and np.array_equal(fc1["weight"], src.nodes["fc1"].weight)
    assert fc1["bias"].tolist() == [1, 2, 3, 4]
    # LIF parameters as arrays of the node's shape; v_reset defaults to 0 (NIR's default)
    assert sorted(g["lif1"].params) == ["r", "tau", "v_leak", "v_reset", "v_threshold"]
    assert all(a.shape == (4,) for a in g["lif1"].params.values())
    assert g["lif1"].params["v_reset"].tolist() == [0, 0, 0, 0]
    assert [n.name for n in g.inputs] == ["input"] and [n.name for n in g.outputs] == ["output"]
    assert {n.kind for n in g.nodes} <= set(SUPPORTED.values())


def test_the_ir_is_frozen():
    g = load_nir(mlp_graph())
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.nodes[0].name = "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.nodes = ()


def test_residual_block_lists_both_inputs_of_the_summing_node(tmp_path):
    g = roundtrip(resnet_block(), tmp_path)
    order = [n.name for n in g.nodes]
    assert order.index("conv2") < order.index("lif") and order.index("input") < order.index("lif")
    assert sorted(g["lif"].inputs) == ["conv2", "input"]
    assert all(n.out_shape == (2, 5, 5) for n in g.nodes)


def test_branches_of_different_shapes_cannot_be_summed():
    g = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([3])}),
               "a": nir.Linear(weight=np.ones((2, 3))), "b": nir.Linear(weight=np.ones((4, 3))),
               "n": nir.IF(r=np.ones(2), v_threshold=np.ones(2)),
               "output": nir.Output(output_type={"output": np.array([2])})},
        edges=[("input", "a"), ("input", "b"), ("a", "n"), ("b", "n"), ("n", "output")],
        type_check=False,
    )
    with pytest.raises(WorkloadError, match=r"nodes.n: inputs of different shapes are summed: \[\(2,\), \(4,\)\]"):
        load_nir(g)


@pytest.mark.parametrize("hw, k, stride, padding, dilation, out_hw", [
    ((7, 6), 3, 1, 0, 1, (5, 4)),            # (7 - 2 - 1) // 1 + 1 = 5; (6 - 3) + 1 = 4
    ((7, 6), 3, 2, 1, 1, (4, 3)),            # (7 + 2 - 2 - 1) // 2 + 1 = 4; (6 + 2 - 3) // 2 + 1 = 3
    ((7, 6), 3, (2, 1), (0, 2), (1, 2), (3, 6)),  # (7-3)//2+1 = 3; (6 + 4 - 4 - 1) // 1 + 1 = 6
    ((9, 9), 3, 1, 0, 3, (3, 3)),            # (9 - 6 - 1) + 1 = 3
    ((7, 6), 3, 1, "valid", 1, (5, 4)),
    ((7, 6), 3, 1, "same", 1, (7, 6)),
    ((7, 6), 3, 1, "same", 2, (7, 6)),       # pads d (k - 1) / 2 = 2 on each side
])
def test_conv2d_output_shape(tmp_path, hw, k, stride, padding, dilation, out_hw):
    g = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([2, *hw])}),
               "conv": nir.Conv2d(input_shape=hw, weight=np.ones((3, 2, k, k)), stride=stride, padding=padding,
                                  dilation=dilation, groups=1, bias=np.zeros(3)),
               "output": nir.Output(output_type={"output": np.array([3, *out_hw])})},
        edges=[("input", "conv"), ("conv", "output")],
    )
    node = roundtrip(g, tmp_path)["conv"]
    assert node.in_shape == (2, *hw) and node.out_shape == (3, *out_hw)


def grouped_graph():
    return nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([4, 6, 6])}),
               # 4 groups of 1 input channel, 2 output channels each; no input_shape: nir 1.0.8
               # would declare C_in = weight.shape[1] = 1 and refuse the graph
               "conv": nir.Conv2d(input_shape=None, weight=np.ones((8, 1, 3, 3)), stride=1, padding=1,
                                  dilation=1, groups=4, bias=np.zeros(8)),
               "sum": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
               "avg": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([1, 1])),
               "flat": nir.Flatten(input_type={"input": np.array([8, 2, 2])}, start_dim=0),
               "lin": nir.Linear(weight=np.ones((5, 32))),
               "scale": nir.Scale(scale=np.full(5, 0.5)),
               "li": nir.LI(tau=np.ones(5), r=np.ones(5), v_leak=np.zeros(5)),
               "output": nir.Output(output_type={"output": np.array([5])})},
        edges=[("input", "conv"), ("conv", "sum"), ("sum", "avg"), ("avg", "flat"), ("flat", "lin"),
               ("lin", "scale"), ("scale", "li"), ("li", "output")],
    )


def test_grouped_conv_pooling_scale_and_linear_shapes():
    g = load_nir(grouped_graph())
    # sum pool 6x6 -> 3x3; avg pool with padding 1: (3 + 2 - 2) // 2 + 1 = 2
    assert {n.name: n.out_shape for n in g.nodes} == {
        "input": (4, 6, 6), "conv": (8, 6, 6), "sum": (8, 3, 3), "avg": (8, 2, 2), "flat": (32,),
        "lin": (5,), "scale": (5,), "li": (5,), "output": (5,)}
    assert g["conv"].params["groups"] == 4
    assert g["lin"].params["bias"].tolist() == [0.0] * 5
    assert [n.kind for n in g.nodes] == ["input", "conv2d", "sumpool2d", "avgpool2d", "flatten", "linear", "scale",
                                         "li", "output"]


def test_a_grouped_conv_survives_a_file_round_trip(tmp_path):
    assert roundtrip(grouped_graph(), tmp_path)["conv"].out_shape == (8, 6, 6)


def test_cuba_lif_parameters_default_w_in_to_one():
    g = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([2])}),
               "n": nir.CubaLIF(tau_syn=f32(2, 2), tau_mem=f32(4, 4), r=f32(1, 1), v_leak=f32(0, 0),
                                v_threshold=f32(1, 1)),
               "output": nir.Output(output_type={"output": np.array([2])})},
        edges=[("input", "n"), ("n", "output")],
    )
    p = load_nir(g)["n"].params
    assert p["w_in"].tolist() == [1, 1] and p["v_reset"].tolist() == [0, 0] and p["tau_mem"].tolist() == [4, 4]


def test_an_unsupported_node_is_named_with_its_type_on_one_line():
    g = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([2])}),
               "wait": nir.Delay(delay=f32(1, 1)),
               "output": nir.Output(output_type={"output": np.array([2])})},
        edges=[("input", "wait"), ("wait", "output")],
    )
    with pytest.raises(WorkloadError) as e:
        load_nir(g)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("<NIRGraph>: nodes.wait: node type Delay is not supported (synaptic delays are not "
                          "modelled); allowed: ")
    assert all(t in msg for t in ("Input", "Output", "Affine", "Linear", "Scale", "Conv2d", "Flatten", "SumPool2d",
                                  "AvgPool2d", "IF", "LIF", "LI", "CubaLIF"))


def test_recurrence_through_a_neuron_is_a_delayed_edge(tmp_path):
    g = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([3])}),
               "fc": nir.Linear(weight=np.ones((3, 3))), "n": lif(3), "rec": nir.Linear(weight=np.eye(3)),
               "output": nir.Output(output_type={"output": np.array([3])})},
        edges=[("input", "fc"), ("fc", "n"), ("n", "rec"), ("rec", "n"), ("n", "output")],
        type_check=False,
    )
    ir = roundtrip(g, tmp_path)
    # the edge closing the cycle (rec -> n) is read one timestep late; the order puts rec after n
    assert [n.name for n in ir.nodes] == ["input", "fc", "n", "rec", "output"]
    assert ir["n"].inputs == ("fc", "rec") and ir["n"].delayed == ("rec",) and ir.recurrent
    assert all(not n.delayed for n in ir.nodes if n.name != "n")


def test_a_cycle_without_a_neuron_is_refused_with_its_path():
    g = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([3])}),
               "a": nir.Linear(weight=np.eye(3)), "b": nir.Linear(weight=np.eye(3)), "n": lif(3),
               "output": nir.Output(output_type={"output": np.array([3])})},
        edges=[("input", "a"), ("a", "b"), ("b", "a"), ("b", "n"), ("n", "output")],
        type_check=False,
    )
    with pytest.raises(WorkloadError, match=r"<NIRGraph>: nodes.a: the graph has a cycle with no neuron on it "
                                            r"\(an instantaneous loop\): a -> b -> a$"):
        load_nir(g)


def test_missing_and_foreign_files_are_named(tmp_path):
    with pytest.raises(WorkloadError, match=r"nope\.nir: NIR file not found"):
        load_nir(tmp_path / "nope.nir")
    with pytest.raises(WorkloadError, match="NIR file not found"):
        load_nir(tmp_path)  # a directory
    h5py = pytest.importorskip("h5py")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(WorkloadError, match=r"other\.h5: not a readable NIR graph \(KeyError"):
        load_nir(other)


class _Trap:
    """Unpickling this would create a marker file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_is_never_unpickled(tmp_path):
    marker = tmp_path / "was_unpickled"
    bad = tmp_path / "graph.nir"
    bad.write_bytes(pickle.dumps(_Trap(str(marker))))
    with pytest.raises(WorkloadError, match=r"graph\.nir: not a readable NIR graph"):
        load_nir(bad)
    assert not marker.exists()
