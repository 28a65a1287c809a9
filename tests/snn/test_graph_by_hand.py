"""NIR import by hand (tlmsim/snn/graph.py): small hand-made NIR graphs and the SnnGraph each
must give, written out (node order, inputs, delayed edges, shapes, parameters, notes, dt), and
every refusal as its exact line. Written against the surviving mutants of the session-7
mutation run (tools/mutation/results/s7graph/)."""

import warnings
from types import SimpleNamespace as S
from typing import ClassVar

import nir
import numpy as np
import pytest

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import (
    _batch_inputs,
    _convert,
    _flatten,
    _node,
    _shape_of,
    _spyx_cell,
    infer_dt,
    load_nir,
    magnitude_prune,
)


def inp(*shape):
    return nir.Input(input_type={"input": np.array(shape)})


def out(*shape):
    return nir.Output(output_type={"output": np.array(shape)})


def if_(n, thr=1.0):
    return nir.IF(r=np.ones(n), v_threshold=np.full(n, thr))


def lif(n, tau=2.0, r=2.0):
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, r), v_leak=np.zeros(n), v_threshold=np.ones(n))


def with_(node, **attrs):
    """``node`` with attributes set after nir's own checks (which refuse some of what is tested here)."""
    for k, v in attrs.items():
        setattr(node, k, v)
    return node


def graph(nodes, edges, **kw):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False, **kw)


def refused(g) -> str:
    with pytest.raises(WorkloadError) as e:
        load_nir(g)
    return str(e.value)


def table(g):
    return [(n.name, n.kind, n.inputs, n.delayed, n.in_shape, n.out_shape) for n in g.nodes]


# --- Spyx's recurrent cell -------------------------------------------------------------------

def spyx_cell(neuron, w, extra_edges=()):
    return graph({"in": inp(2), "w": w, "n": neuron, "out": out(2)},
                 [("in", "w"), ("w", "n"), ("n", "w"), ("n", "out"), *extra_edges])


@pytest.mark.parametrize("neuron", ["IF", "LIF", "CubaLIF"])
@pytest.mark.parametrize("w", ["Linear", "Affine"])
def test_spyx_cell_is_found_for_each_spiking_neuron_and_each_weight_type(neuron, w):
    n = {"IF": if_(2), "LIF": lif(2),
         "CubaLIF": nir.CubaLIF(tau_syn=np.ones(2), tau_mem=np.ones(2), r=np.ones(2), v_leak=np.zeros(2),
                                v_threshold=np.ones(2))}[neuron]
    ww = nir.Linear(weight=np.eye(2)) if w == "Linear" else nir.Affine(weight=np.eye(2), bias=np.zeros(2))
    assert _spyx_cell(spyx_cell(n, ww)) == ("in", "w", "n")
    # imported inside a graph: the cell's input goes straight to the neuron; W carries the recurrent spikes only
    g = load_nir(graph({"input": inp(3), "fc": nir.Linear(weight=np.ones((2, 3))), "cell": spyx_cell(n, ww),
                        "output": out(2)},
                       [("input", "fc"), ("fc", "cell"), ("cell", "output")]))
    assert table(g) == [("input", "input", (), (), (3,), (3,)), ("fc", "linear", ("input",), (), (3,), (2,)),
                        ("cell.n", neuron.lower().replace("cubalif", "cuba_lif"), ("cell.w", "fc"), ("cell.w",),
                         (2,), (2,)),
                        ("cell.w", w.lower(), ("cell.n",), (), (2,), (2,)), ("output", "output", ("cell.n",), (), (2,), (2,))]
    assert g.notes[0] == ("recurrent cell 'cell' (Input -> w <-> n, as Spyx writes it) read as Spyx computes it: the "
                          "cell's input goes straight to 'n', 'w' carries only the recurrent spikes")


def test_what_is_not_spyxs_cell_is_read_literally():
    assert _spyx_cell(spyx_cell(nir.LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2)),
                                nir.Linear(weight=np.eye(2)))) is None  # no spiking neuron
    assert _spyx_cell(spyx_cell(if_(2), nir.Linear(weight=np.ones((2, 3))))) is None  # W not square
    assert _spyx_cell(spyx_cell(if_(2), nir.Linear(weight=np.ones((2, 2, 1))))) is None  # W not a matrix
    assert _spyx_cell(spyx_cell(if_(2), nir.Linear(weight=np.eye(2)), [("in", "n")])) is None  # one edge more
    five = graph({"in": inp(2), "w": nir.Linear(weight=np.eye(2)), "n": if_(2), "x": if_(2), "out": out(2)},
                 [("in", "w"), ("w", "n"), ("n", "w"), ("n", "out")])
    assert _spyx_cell(five) is None
    missing = graph({"in": inp(2), "w": nir.Linear(weight=np.eye(2)), "n": if_(2), "out": out(2)},
                    [("in", "w"), ("w", "n"), ("n", "out")])  # no recurrent edge
    assert _spyx_cell(missing) is None
    # read literally, W takes the cell's input and the neuron's delayed spikes (the edges through the cell's
    # Input node come after the cell's own edges)
    g = load_nir(graph({"input": inp(2), "cell": spyx_cell(if_(2), nir.Linear(weight=np.eye(2)), [("in", "n")]),
                        "output": out(2)}, [("input", "cell"), ("cell", "output")]))
    assert table(g) == [("input", "input", (), (), (2,), (2,)),
                        ("cell.w", "linear", ("cell.n", "input"), ("cell.n",), (2,), (2,)),
                        ("cell.n", "if", ("cell.w", "input"), (), (2,), (2,)),
                        ("output", "output", ("cell.n",), (), (2,), (2,))]
    assert g.notes == ()


# --- batch axes ------------------------------------------------------------------------------

def test_batch_inputs_are_inputs_whose_shape_starts_with_one_and_has_another_axis():
    nodes = {"a": inp(1, 4), "b": inp(1), "c": inp(2, 1), "d": inp(1, 1, 3), "n": if_(2), "e": inp(4)}
    assert _batch_inputs(nodes) == ["a", "d"]


def test_a_graph_that_fits_neither_with_nor_without_the_batch_axis_gives_the_first_error():
    g = graph({"input": inp(1, 10), "fc": nir.Linear(weight=np.ones((3, 7))), "output": out(3)},
              [("input", "fc"), ("fc", "output")])
    assert refused(g) == "<NIRGraph>: nodes.fc.weight: weight [3, 7] does not fit the input shape [1, 10]"


def test_the_batch_axis_is_dropped_with_its_note_and_notes_come_in_order(tmp_path):
    cell = spyx_cell(if_(3), nir.Linear(weight=np.eye(3)))
    g = graph({"input": inp(1, 10), "fc": nir.Linear(weight=np.ones((3, 10))), "cell": cell, "output": out(3)},
              [("input", "fc"), ("fc", "cell"), ("cell", "output")], metadata={"dt": 0.25})
    got = load_nir(g)
    assert got["input"].out_shape == (10,) and got["fc"].in_shape == (10,)
    assert got.dt == 0.25 and got.source == "<NIRGraph>"  # the retry's graph names its source too
    assert got.notes == (
        ("recurrent cell 'cell' (Input -> w <-> n, as Spyx writes it) read as Spyx computes it: the cell's input "
         "goes straight to 'n', 'w' carries only the recurrent spikes"),
        "Input 'input': shape [1, 10] has a leading axis of size 1 (a batch axis); dropped, the input is [10]",
        "dt = 0.25 from the graph's metadata")


# --- order and recurrence --------------------------------------------------------------------

def test_the_order_takes_ready_nodes_first_in_first_out():
    # two branches from the input, its edges to a then b, listed b before a in the file: a is ready first
    g = load_nir(graph({"output": out(2), "n": if_(2), "b": nir.Linear(weight=np.eye(2)),
                        "a": nir.Linear(weight=np.eye(2)), "c": nir.Linear(weight=np.eye(2)), "input": inp(2)},
                       [("input", "a"), ("input", "b"), ("a", "c"), ("c", "n"), ("b", "n"), ("n", "output")]))
    assert [n.name for n in g.nodes] == ["input", "a", "b", "c", "n", "output"]
    assert g["n"].inputs == ("c", "b") and not g.recurrent
    # two Input nodes are ready at the start: in the file's order
    g = load_nir(graph({"in2": inp(2), "in1": inp(2), "n": if_(2), "output": out(2)},
                       [("in1", "n"), ("in2", "n"), ("n", "output")]))
    assert [n.name for n in g.nodes] == ["in2", "in1", "n", "output"] and g["n"].inputs == ("in1", "in2")
    assert [n.name for n in g.inputs] == ["in2", "in1"] and [n.name for n in g.outputs] == ["output"]


def test_the_walk_starts_at_the_inputs_whatever_the_files_order():
    # the recurrent Linear listed first: the walk from the Input still closes the cycle at rec -> n
    g = load_nir(graph({"rec": nir.Linear(weight=np.eye(2)), "n": lif(2), "fc": nir.Linear(weight=np.eye(2)),
                        "output": out(2), "input": inp(2)},
                       [("n", "rec"), ("rec", "n"), ("input", "fc"), ("fc", "n"), ("n", "output")]))
    assert table(g) == [("input", "input", (), (), (2,), (2,)), ("fc", "linear", ("input",), (), (2,), (2,)),
                        ("n", "lif", ("rec", "fc"), ("rec",), (2,), (2,)), ("rec", "linear", ("n",), (), (2,), (2,)),
                        ("output", "output", ("n",), (), (2,), (2,))]
    assert g.recurrent


def test_two_cycles_through_one_neuron_and_a_node_reached_twice():
    # n -> r1 -> n and n -> r2 -> n: both closing edges delayed; output reached from n and from s
    g = load_nir(graph({"input": inp(2), "n": if_(2), "r1": nir.Linear(weight=np.eye(2)),
                        "r2": nir.Linear(weight=np.eye(2)), "s": nir.Scale(scale=np.ones(2)), "output": out(2)},
                       [("input", "n"), ("n", "r1"), ("r1", "n"), ("n", "r2"), ("r2", "n"), ("n", "s"),
                        ("s", "output"), ("n", "output")]))
    assert table(g) == [("input", "input", (), (), (2,), (2,)),
                        ("n", "if", ("input", "r1", "r2"), ("r1", "r2"), (2,), (2,)),
                        ("r1", "linear", ("n",), (), (2,), (2,)), ("r2", "linear", ("n",), (), (2,), (2,)),
                        ("s", "scale", ("n",), (), (2,), (2,)), ("output", "output", ("s", "n"), (), (2,), (2,))]


def test_a_cycle_without_a_neuron_deeper_in_the_graph_names_only_the_loop():
    g = graph({"input": inp(2), "n": if_(2), "a": nir.Linear(weight=np.eye(2)), "b": nir.Scale(scale=np.ones(2)),
               "output": out(2)},
              [("input", "n"), ("n", "a"), ("a", "b"), ("b", "a"), ("b", "output")])
    assert refused(g) == ("<NIRGraph>: nodes.a: the graph has a cycle with no neuron on it (an instantaneous loop): "
                          "a -> b -> a")


def test_a_cycle_not_reached_from_the_input_is_walked_too():
    # input -> output; n <-> rec apart: n's only input is the delayed one
    g = graph({"input": inp(2), "output": out(2), "n": if_(2), "rec": nir.Linear(weight=np.eye(2))},
              [("input", "output"), ("n", "rec"), ("rec", "n")])
    assert refused(g) == ("<NIRGraph>: nodes.n: node has only recurrent (delayed) inputs; it needs a feed-forward "
                          "one")


# --- the refusals of _convert ----------------------------------------------------------------

def test_a_node_without_an_input_edge_is_refused():
    g = graph({"input": inp(2), "fc": nir.Linear(weight=np.eye(2)), "output": out(2)}, [("input", "output")])
    assert refused(g) == "<NIRGraph>: nodes.fc: node has no input edge"


def test_an_empty_output_is_refused_and_a_size_of_one_is_not():
    g = graph({"input": inp(1, 2, 2), "conv": nir.Conv2d(input_shape=None, weight=np.ones((1, 1, 3, 3)), stride=1,
                                                         padding=0, dilation=1, groups=1, bias=np.zeros(1)),
               "output": out(1)}, [("input", "conv"), ("conv", "output")])
    assert refused(g) == "<NIRGraph>: nodes.conv: output shape [1, 0, 0] is empty"
    g = graph({"input": inp(1, 3, 3), "conv": nir.Conv2d(input_shape=None, weight=np.ones((1, 1, 3, 3)), stride=1,
                                                         padding=0, dilation=1, groups=1, bias=np.zeros(1)),
               "output": out(1)}, [("input", "conv"), ("conv", "output")])
    assert load_nir(g)["conv"].out_shape == (1, 1, 1)


def test_the_neuron_limit_counts_every_node_and_admits_exactly_the_limit():
    # Input and Output of n neurons each: 2 n per timestep; the limit is 50 000 000
    ok = load_nir(graph({"input": inp(25_000_000), "output": out(25_000_000)}, [("input", "output")]))
    assert ok["output"].out_shape == (25_000_000,)
    g = graph({"input": inp(25_000_001), "output": out(25_000_001)}, [("input", "output")])
    assert refused(g) == "<NIRGraph>: nodes.output: more than 50000000 neurons"


def test_a_recurrent_input_of_another_shape_is_refused():
    g = graph({"input": inp(3), "n": if_(3), "rec": nir.Linear(weight=np.ones((2, 3))), "output": out(3)},
              [("input", "n"), ("n", "rec"), ("rec", "n"), ("n", "output")])
    assert refused(g) == "<NIRGraph>: nodes.n: the recurrent input from 'rec' has shape [2], but the node's input is [3]"


def test_an_empty_graph_and_an_input_without_a_shape_are_refused():
    assert refused(graph({}, [])) == "<NIRGraph>: the graph has no Input node"
    assert table(load_nir(graph({"input": inp(3)}, []))) == [("input", "input", (), (), (3,), (3,))]  # Input alone

    class Input:  # an Input node whose type holds no shape
        input_type: ClassVar[dict] = {}

    class Output:
        pass

    with pytest.raises(WorkloadError) as e:
        _convert({"x": Input(), "y": Output()}, [("x", "y")], "g.nir", drop_batch=False)
    assert str(e.value) == "g.nir: nodes.x.input_type: the Input node has no shape"
    with pytest.raises(WorkloadError) as e:
        _convert({"x": Input(), "y": Output()}, [("x", "z")], "g.nir", drop_batch=False)
    assert str(e.value) == "g.nir: edges: edge ('x', 'z') names a node that does not exist"


def test_a_node_type_without_a_reason_lists_what_is_allowed():
    class Spiral:
        pass

    with pytest.raises(WorkloadError) as e:
        _convert({"s": Spiral()}, [], "g.nir", drop_batch=False)
    assert str(e.value) == (
        "g.nir: nodes.s: node type Spiral is not supported; allowed: Input, Output, Affine, Linear, Scale, Conv1d, "
        "Conv2d, Flatten, SumPool2d, AvgPool2d, IF, LIF, LI, CubaLIF, CubaLI, NIRGraph (nested)")
    g = graph({"input": inp(2), "t": nir.Threshold(threshold=np.ones(2)), "output": out(2)},
              [("input", "t"), ("t", "output")])
    assert refused(g).startswith("<NIRGraph>: nodes.t: node type Threshold is not supported (a bare threshold (no "
                                 "membrane) is not modelled); allowed: Input, ")


# --- dt ----------------------------------------------------------------------------------------

def dt_of(*neurons, metadata=None):
    """infer_dt of Input(2) -> each neuron in turn -> Output."""
    nodes, edges, prev = {"input": inp(2)}, [], "input"
    for i, n in enumerate(neurons):
        nodes[f"n{i}"] = n
        edges.append((prev, f"n{i}"))
        prev = f"n{i}"
    nodes["output"] = out(2)
    edges.append((prev, "output"))
    return infer_dt(load_nir(graph(nodes, edges)), metadata)


def lif2(tau, r):
    return nir.LIF(tau=np.array(tau, float), r=np.array(r, float), v_leak=np.zeros(2), v_threshold=np.ones(2))


def test_dt_from_the_metadata_when_it_is_a_positive_finite_number():
    assert dt_of(lif2([2, 2], [2, 2]), metadata={"dt": np.array([0.25])}) == (
        0.25, "dt = 0.25 from the graph's metadata")
    assert dt_of(lif2([2, 2], [2, 2]), metadata={"dt": 3}) == (3.0, "dt = 3 from the graph's metadata")
    for bad in (0, -1.0, float("nan"), float("inf"), "fast", [], None):
        assert dt_of(lif2([2.5, 3.0], [10, 10]), metadata={"dt": bad}) == (
            0.25, "dt = 0.25 inferred from tau / r (the r = tau / dt convention)"), bad
    assert dt_of(lif2([2.5, 3.0], [10, 10]), metadata=[("dt", 0.5)]) == (
        0.25, "dt = 0.25 inferred from tau / r (the r = tau / dt convention)")


def test_dt_from_tau_over_r_within_twenty_per_cent_else_the_smallest_time_constant():
    # tau / r = 0.25 and 0.3: 0.3 = 1.2 x 0.25 exactly, accepted: the smallest, 0.25
    assert dt_of(lif2([2.5, 3.0], [10, 10]))[0] == 0.25
    # 0.25 and 0.30001: more than 20 % apart; the smallest tau is 2.5 >= 1: dt = 1, no note
    assert dt_of(lif2([2.5, 3.0001], [10, 10])) == (1.0, "")
    # time constants below 1 with r = 1 (Norse): the smallest of them, 6 digits
    assert dt_of(lif2([0.5, np.float32(0.01)], [1, 1])) == (
        0.01, ("dt = 0.01: the graph's smallest time constant (no dt in the file, and r is not tau / dt); set 'dt' "
               "in a workload YAML to change it"))
    assert dt_of(lif2([1.0, 4.0], [1, 1])) == (1.0, "")  # the smallest is exactly 1


def test_r_must_exceed_one_by_more_than_the_rounding_margin_everywhere():
    # r = 1.00001: tau / r is within 1e-4 of tau, read as r = 1 (no convention): tau = 0.5 -> dt 0.5
    assert dt_of(lif2([0.5, 0.5], [1.00001, 1.00001]))[0] == 0.5
    # r = 1.001: the convention, dt = 0.5 / 1.001 (6 digits)
    assert dt_of(lif2([0.5, 0.5], [1.001, 1.001]))[0] == float(f"{0.5 / 1.001:.6g}")
    # one neuron with r = 1 spoils it for the whole graph: the smallest tau, 0.5
    assert dt_of(lif2([0.5, 0.5], [5, 5]), lif2([0.5, 0.5], [1, 1]))[0] == 0.5
    assert dt_of(lif2([0.5, 0.5], [1, 1]), lif2([0.5, 0.5], [5, 5]))[0] == 0.5
    # both with r > 1 and ratios 0.1 and 0.1: dt 0.1
    assert dt_of(lif2([0.5, 0.5], [5, 5]), lif2([0.8, 0.8], [8, 8])) == (
        0.1, "dt = 0.1 inferred from tau / r (the r = tau / dt convention)")
    # r = tau: tau / r = 1, dt = 1 without a note
    assert dt_of(lif2([10, 10], [10, 10])) == (1.0, "")


def test_a_zero_or_negative_r_falls_back_to_the_time_constants():
    # r = 0: tau / r undefined (NaN, computed without a division by zero); r < 0: a negative ratio
    g = load_nir(graph({"input": inp(2), "n": lif2([0.5, 0.5], [0, 5]), "output": out(2)},
                       [("input", "n"), ("n", "output")]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert infer_dt(g)[0] == 0.5
    assert dt_of(lif2([0.5, 0.5], [-5, 5]))[0] == 0.5


def test_r_exactly_at_the_rounding_margin_is_read_as_one():
    # tau = 10, r = 1.000100010001: tau / r == tau x (1 - 1e-4) exactly in float64, not below it: no
    # convention, and the smallest tau (10) is >= 1: dt = 1
    assert 10.0 / 1.000100010001 == 10.0 * (1 - 1e-4)
    assert dt_of(lif2([10.0, 10.0], [1.000100010001, 1.000100010001])) == (1.0, "")


def test_cuba_neurons_give_both_time_constants_and_r_against_tau_mem():
    cuba = nir.CubaLIF(tau_syn=np.full(2, 0.2), tau_mem=np.full(2, 0.5), r=np.ones(2), v_leak=np.zeros(2),
                       v_threshold=np.ones(2))
    assert dt_of(cuba)[0] == 0.2  # r = 1: the smallest time constant, tau_syn
    cuba = nir.CubaLI(tau_syn=np.full(2, 0.5), tau_mem=np.full(2, 2.0), r=np.full(2, 4.0), v_leak=np.zeros(2))
    assert dt_of(cuba) == (0.5, "dt = 0.5 inferred from tau / r (the r = tau / dt convention)")  # tau_mem / r
    li = nir.LI(tau=np.full(2, 0.3), r=np.full(2, 3.0), v_leak=np.zeros(2))
    assert dt_of(li) == (0.1, "dt = 0.1 inferred from tau / r (the r = tau / dt convention)")


def test_a_graph_without_time_constants_has_dt_one():
    assert dt_of(if_(2)) == (1.0, "")
    assert dt_of(if_(2), lif2([0.5, 0.5], [1, 1]))[0] == 0.5


# --- magnitude pruning -------------------------------------------------------------------------

def test_magnitude_pruning_by_hand_with_ties_broken_by_position():
    w = np.array([[(-1) ** i * (1 + (i % 3 == 0)) for i in range(20)]], dtype=float)
    g = load_nir(graph({"input": inp(20), "fc": nir.Linear(weight=w), "n": if_(1), "output": out(1)},
                       [("input", "fc"), ("fc", "n"), ("n", "output")]))
    # |w| is 1 at the 13 positions i % 3 != 0, 2 elsewhere; 30 % of 20 = 6: the first six 1s go
    p = magnitude_prune(g, 0.3)
    want = w.copy()
    want[0, [1, 2, 4, 5, 7, 8]] = 0.0
    assert p["fc"].params["weight"].tolist() == want.tolist()
    assert g["fc"].params["weight"].tolist() == w.tolist()  # the graph itself is not changed
    assert p["n"] is g["n"] and p.source == g.source
    assert magnitude_prune(g, 0.04)["fc"].params["weight"].tolist() == w.tolist()  # 0.8 of a weight: none
    assert magnitude_prune(g, 1.0)["fc"].params["weight"].tolist() == [[0.0] * 20]


def test_magnitude_pruning_prunes_every_synaptic_node():
    g = load_nir(graph({"input": inp(1, 2, 2),
                        "conv": nir.Conv2d(input_shape=None, weight=np.array([[[[1.0, -3.0], [2.0, 0.5]]]]), stride=1,
                                           padding=0, dilation=1, groups=1, bias=np.zeros(1)),
                        "flat": nir.Flatten(input_type={"input": np.array([1, 1, 1])}, start_dim=0),
                        "fc": nir.Affine(weight=np.array([[4.0], [-0.1]]), bias=np.array([1.0, 2.0])),
                        "output": out(2)},
                       [("input", "conv"), ("conv", "flat"), ("flat", "fc"), ("fc", "output")]))
    p = magnitude_prune(g, 0.5)
    assert p["conv"].params["weight"].tolist() == [[[[0.0, -3.0], [2.0, 0.0]]]]
    assert p["fc"].params["weight"].tolist() == [[4.0], [0.0]] and p["fc"].params["bias"].tolist() == [1.0, 2.0]


def test_the_graph_names_its_source():
    g = graph({"input": inp(2), "output": out(2)}, [("input", "output")])
    assert load_nir(g).source == "<NIRGraph>"


def test_a_ratio_that_underflows_to_zero_is_not_a_time_step():
    # tau / r = 1e-300 / 1e300 = 0.0 in float64: no convention; the smallest time constant, 1e-300
    dt, why = dt_of(lif2([1e-300, 1e-300], [1e300, 1e300]))
    assert dt == 1e-300 and why.startswith("dt = 1e-300: the graph's smallest time constant")


# --- nodes: synapses, scale, flatten, pooling, neurons -----------------------------------------

def one(node, *in_shape, then=None):
    """load_nir of Input(in_shape) -> node [-> then] -> Output: the node."""
    nodes = {"input": inp(*in_shape), "x": node}
    edges = [("input", "x")]
    last = "x"
    if then is not None:
        nodes["y"] = then
        edges.append(("x", "y"))
        last = "y"
    nodes["output"] = out(1)
    edges.append((last, "output"))
    return load_nir(graph(nodes, edges))["x"]


def one_refused(node, *in_shape) -> str:
    with pytest.raises(WorkloadError) as e:
        one(node, *in_shape)
    return str(e.value)


def test_affine_and_linear_weights_and_biases():
    n = one(nir.Affine(weight=np.array([[1, 2, 3], [4, 5, 6]]), bias=np.array(0.5)), 3)
    assert n.out_shape == (2,) and n.params["weight"].dtype == np.float64
    assert n.params["weight"].tolist() == [[1, 2, 3], [4, 5, 6]] and n.params["bias"].tolist() == [0.5, 0.5]
    n.params["bias"][0] = 7.0  # a copy, writable
    assert n.params["bias"].tolist() == [7.0, 0.5]
    n = one(nir.Linear(weight=np.array([[True, False]])), 2)
    assert n.params["weight"].tolist() == [[1.0, 0.0]] and n.params["bias"].tolist() == [0.0]
    assert one_refused(with_(nir.Linear(weight=np.ones((1, 3))), weight=np.ones(3)), 3) == (
        "<NIRGraph>: nodes.x.weight: weight [3] does not fit the input shape [3]")
    assert one_refused(nir.Linear(weight=np.ones((2, 3))), 4) == (
        "<NIRGraph>: nodes.x.weight: weight [2, 3] does not fit the input shape [4]")
    assert one_refused(nir.Linear(weight=np.ones((2, 3))), 2, 3) == (
        "<NIRGraph>: nodes.x.weight: weight [2, 3] does not fit the input shape [2, 3]")


def test_non_real_or_non_finite_parameters_are_a_malformed_graph():
    assert one_refused(nir.Linear(weight=np.ones((2, 2)) * 1j), 2) == (
        "<NIRGraph>: malformed NIR graph (ValueError: parameters must be real numbers, got dtype complex128)")
    assert one_refused(nir.Linear(weight=np.array([[1.0, np.nan]])), 2) == (
        "<NIRGraph>: malformed NIR graph (ValueError: parameters must be finite (no NaN or inf))")
    assert one_refused(nir.Scale(scale=np.array([1.0, np.inf])), 2) == (
        "<NIRGraph>: malformed NIR graph (ValueError: parameters must be finite (no NaN or inf))")
    assert one(nir.Scale(scale=np.array([2, 3], dtype=np.uint8)), 2).params["scale"].tolist() == [2.0, 3.0]


def test_scale_of_the_input_size_takes_its_shape_else_broadcasts():
    n = one(nir.Scale(scale=np.arange(6.0)), 2, 3)
    assert n.out_shape == (2, 3) and n.params["scale"].tolist() == [[0, 1, 2], [3, 4, 5]]
    n = one(nir.Scale(scale=np.array([1.0, 2.0, 3.0])), 2, 3)
    assert n.params["scale"].tolist() == [[1, 2, 3], [1, 2, 3]]
    n = one(nir.Scale(scale=np.array(4.0)), 2, 3)
    assert n.params["scale"].tolist() == [[4, 4, 4], [4, 4, 4]]
    n.params["scale"][0, 0] = 0.0  # a copy, writable
    assert n.params["scale"][1, 0] == 4.0


def flat(start, end):
    return with_(nir.Flatten(input_type={"input": np.array([2, 3, 4])}, start_dim=0, end_dim=-1), start_dim=start,
                 end_dim=end)


@pytest.mark.parametrize("start, end, shape", [
    (1, 2, (2, 12)), (-2, -1, (2, 12)), (0, 1, (6, 4)), (0, -2, (6, 4)), (1, 1, (2, 3, 4)), (0, 0, (2, 3, 4)),
    (2, 2, (2, 3, 4)), (0, 2, (24,)), (-3, 2, (24,)),
    (2, 1, (24,)), (0, 3, (24,)), (-4, 1, (24,)), (3, 3, (24,)), (1, -4, (24,)),  # out of range: everything
])
def test_flatten_dims_counted_from_either_end(start, end, shape):
    assert one(flat(start, end), 2, 3, 4, then=if_(int(np.prod(shape)))).out_shape == shape


def test_a_flatten_feeding_an_affine_or_linear_flattens_everything():
    assert one(flat(1, 2), 2, 3, 4, then=nir.Linear(weight=np.ones((1, 24)))).out_shape == (24,)
    assert one(flat(1, 1), 2, 3, 4, then=nir.Affine(weight=np.ones((1, 24)), bias=np.zeros(1))).out_shape == (24,)
    # one successor of two is dense: everything
    g = load_nir(graph({"input": inp(2, 3, 4), "f": flat(1, 2), "n": if_(24), "fc": nir.Linear(weight=np.ones((1, 24))),
                        "output": out(1)},
                       [("input", "f"), ("f", "n"), ("f", "fc"), ("fc", "output")]))
    assert g["f"].out_shape == (24,) and g["n"].out_shape == (24,)


def test_pooling_shapes_per_axis_and_its_parameters():
    # H: (5 + 2x1 - 2) // 2 + 1 = 3; W: (7 + 0 - 3) // 1 + 1 = 5
    n = one(nir.SumPool2d(kernel_size=np.array([2, 3]), stride=np.array([2, 1]), padding=np.array([1, 0])), 2, 5, 7)
    assert n.out_shape == (2, 3, 5) and n.kind == "sumpool2d"
    assert n.params == {"kernel": (2, 3), "stride": (2, 1), "padding": (1, 0)}
    # one number for both axes: (6 + 2 - 3) // 3 + 1 = 2
    n = one(nir.AvgPool2d(kernel_size=3, stride=3, padding=1), 1, 6, 6)
    assert n.out_shape == (1, 2, 2) and n.params == {"kernel": (3, 3), "stride": (3, 3), "padding": (1, 1)}
    assert one_refused(nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
                       4) == "<NIRGraph>: nodes.x: pooling needs a [C, H, W] input, got [4]"


def test_neuron_parameters_per_kind_with_their_defaults():
    # a parameter absent (None; NIR before 2025 had no v_reset, w_in is optional): v_reset 0, w_in 1
    n = one(with_(if_(2), r=np.array([1.0, 2.0]), v_threshold=np.array(3.0), v_reset=None), 2)
    assert {k: v.tolist() for k, v in n.params.items()} == {"r": [1, 2], "v_threshold": [3, 3], "v_reset": [0, 0]}
    n = one(nir.LI(tau=np.array(2.0), r=np.array(1.0), v_leak=np.array(-1.0)), 2)
    assert {k: v.tolist() for k, v in n.params.items()} == {"tau": [2, 2], "r": [1, 1], "v_leak": [-1, -1]}
    n = one(nir.LIF(tau=np.array(2.0), r=np.array(1.0), v_leak=np.array(0.0), v_threshold=np.array(1.0),
                    v_reset=np.array(-0.5)), 1)
    assert {k: v.tolist() for k, v in n.params.items()} == {
        "tau": [2], "r": [1], "v_leak": [0], "v_threshold": [1], "v_reset": [-0.5]}
    n = one(with_(nir.CubaLI(tau_syn=np.array(2.0), tau_mem=np.array(4.0), r=np.array(1.0), v_leak=np.array(0.0)),
                  w_in=None), 1)
    assert {k: v.tolist() for k, v in n.params.items()} == {
        "tau_syn": [2], "tau_mem": [4], "r": [1], "v_leak": [0], "w_in": [1]}
    n = one(nir.CubaLIF(tau_syn=np.array(2.0), tau_mem=np.array(4.0), r=np.array(1.0), v_leak=np.array(0.0),
                        v_threshold=np.array(1.0), w_in=np.array(0.5)), 1)
    assert {k: v.tolist() for k, v in n.params.items()} == {
        "tau_syn": [2], "tau_mem": [4], "r": [1], "v_leak": [0], "v_threshold": [1], "v_reset": [0], "w_in": [0.5]}


def test_neuron_parameters_take_the_nodes_shape_or_broadcast():
    n = one(with_(if_(2), r=np.arange(6.0), v_threshold=np.array([1.0, 2.0, 3.0]), v_reset=np.array(0.0)), 2, 3)
    assert n.params["r"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert n.params["v_threshold"].tolist() == [[1, 2, 3], [1, 2, 3]]
    n.params["v_threshold"][0, 0] = 9.0  # a copy, writable
    assert n.params["v_threshold"][1, 0] == 1.0
    assert one_refused(with_(if_(2), r=np.ones(3)), 2) == (
        "<NIRGraph>: nodes.x.r: parameter r of shape [3] does not fit the input [2]")
    assert one_refused(with_(if_(2), r=np.array(1.0), v_threshold=np.ones((2, 2))), 2, 3) == (
        "<NIRGraph>: nodes.x.v_threshold: parameter v_threshold of shape [2, 2] does not fit the input [2, 3]")


def test_time_constants_must_be_positive():
    assert one_refused(nir.LIF(tau=np.array([1.0, 0.0]), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2)),
                       2) == "<NIRGraph>: nodes.x.tau: tau must be > 0"
    assert one_refused(nir.LI(tau=np.array([-1.0, 1.0]), r=np.ones(2), v_leak=np.zeros(2)),
                       2) == "<NIRGraph>: nodes.x.tau: tau must be > 0"
    cuba = {"r": np.ones(2), "v_leak": np.zeros(2), "v_threshold": np.ones(2)}
    assert one_refused(nir.CubaLIF(tau_syn=np.array([1.0, 0.0]), tau_mem=np.ones(2), **cuba), 2) == (
        "<NIRGraph>: nodes.x.tau_syn: tau_syn must be > 0")
    assert one_refused(nir.CubaLIF(tau_syn=np.ones(2), tau_mem=np.array([0.0, 1.0]), **cuba), 2) == (
        "<NIRGraph>: nodes.x.tau_mem: tau_mem must be > 0")
    assert one(with_(lif(2), tau=np.array(1e-9), v_leak=np.array(-2.0), v_threshold=np.array(-1.0)),
               2).params["tau"].tolist() == [1e-9, 1e-9]  # other parameters may be negative


# --- nested graphs ------------------------------------------------------------------------------

def test_nested_graphs_flatten_with_dotted_names_two_levels_deep():
    inner = graph({"i": inp(2), "n": if_(2), "o": out(2)}, [("i", "n"), ("n", "o")])
    mid = graph({"i": inp(2), "sub": inner, "s": nir.Scale(scale=np.full(2, 2.0)), "o": out(2)},
                [("i", "sub"), ("sub", "s"), ("s", "o")])
    g = load_nir(graph({"input": inp(2), "mid": mid, "output": out(2)}, [("input", "mid"), ("mid", "output")]))
    assert table(g) == [("input", "input", (), (), (2,), (2,)), ("mid.sub.n", "if", ("input",), (), (2,), (2,)),
                        ("mid.s", "scale", ("mid.sub.n",), (), (2,), (2,)),
                        ("output", "output", ("mid.s",), (), (2,), (2,))]


def test_a_subgraphs_input_port_joins_every_predecessor_to_every_successor():
    sub = graph({"i": inp(2), "a": if_(2), "b": lif(2), "o": out(2)}, [("i", "a"), ("i", "b"), ("a", "o"), ("b", "o")])
    g = load_nir(graph({"in1": inp(2), "in2": inp(2), "sub": sub, "output": out(2)},
                       [("in1", "sub"), ("in2", "sub"), ("sub", "output")]))
    assert table(g) == [("in1", "input", (), (), (2,), (2,)), ("in2", "input", (), (), (2,), (2,)),
                        ("sub.a", "if", ("in1", "in2"), (), (2,), (2,)), ("sub.b", "lif", ("in1", "in2"), (), (2,), (2,)),
                        ("output", "output", ("sub.a", "sub.b"), (), (2,), (2,))]


def test_nested_graph_refusals():
    two_out = graph({"i": inp(2), "n": if_(2), "o1": out(2), "o2": out(2)}, [("i", "n"), ("n", "o1"), ("n", "o2")])
    g = graph({"input": inp(2), "cell": two_out, "output": out(2)}, [("input", "cell"), ("cell", "output")])
    assert refused(g) == ("<NIRGraph>: edges: the edge names the nested graph 'cell', which has 2 Output nodes; name "
                          "one as 'cell.NODE'")
    sub = graph({"i": inp(2), "n": if_(2), "o": out(2)}, [("i", "n"), ("n", "o")])
    g = graph({"input": inp(2), "cell.n": if_(2), "cell": sub, "output": out(2)},
              [("input", "cell.n"), ("cell.n", "cell"), ("cell", "output")])
    assert refused(g) == "<NIRGraph>: nodes.cell.n: two nodes get this name when the nested graph is flattened"
    g = graph({"input": inp(2), "cell": sub, "cell.n": if_(2), "output": out(2)},
              [("input", "cell"), ("cell", "cell.n"), ("cell.n", "output")])
    assert refused(g) == "<NIRGraph>: nodes.cell.n: two nodes get this name when the nested graph is flattened"
    g = graph({"input": inp(2), "output": out(2)}, [("input", "output"), ("input", "ghost")])
    assert refused(g) == "<NIRGraph>: edges: edge names a node that does not exist: 'ghost'"


# --- files ----------------------------------------------------------------------------------------

def test_a_file_names_itself_and_a_file_holding_a_node_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "g.nir"
    nir.write(str(path), graph({"input": inp(2), "n": if_(2), "output": out(2)},
                               [("input", "n"), ("n", "output")]))
    g = load_nir(path)
    assert g.source == str(path) and [n.name for n in g.nodes] == ["input", "n", "output"]
    assert load_nir(str(path)).source == str(path)
    monkeypatch.setattr(nir, "read", lambda *a, **kw: if_(2))
    with pytest.raises(WorkloadError) as e:
        load_nir(path)
    assert str(e.value) == f"{path}: the file holds a IF, not a NIR graph"


def test_looking_up_a_missing_node_names_it():
    g = load_nir(graph({"input": inp(2), "output": out(2)}, [("input", "output")]))
    with pytest.raises(KeyError, match="'nope'"):
        g["nope"]
    assert g["output"].inputs == ("input",)


def test_a_conv_refusal_names_the_file_and_the_node():
    conv = with_(nir.Conv2d(input_shape=None, weight=np.ones((1, 1, 3, 3)), stride=1, padding=0, dilation=1, groups=1,
                            bias=np.zeros(1)))
    assert one_refused(conv, 4) == (
        "<NIRGraph>: nodes.x.weight: Conv2d weight [1, 1, 3, 3] / input [4] are not 2D convolutions")


def test_a_neuron_object_without_v_reset_or_w_in_reads_their_defaults():
    # an object without the attribute at all (NIR before 2025 had no v_reset; w_in is optional)
    shape, p = _node(S(r=np.ones(2), v_threshold=np.ones(2)), "if", (2,), "n", "g.nir", {}, {})
    assert shape == (2,) and p["v_reset"].tolist() == [0.0, 0.0]
    _, p = _node(S(tau_syn=np.ones(1), tau_mem=np.ones(1), r=np.ones(1), v_leak=np.zeros(1)), "cuba_li", (1,), "n",
                 "g.nir", {}, {})
    assert p["w_in"].tolist() == [1.0]


def test_errors_and_notes_from_inside_a_nested_graph():
    # a Spyx cell two levels down: its note reaches the graph's notes
    cell = spyx_cell(if_(2), nir.Linear(weight=np.eye(2)))
    mid = graph({"i": inp(2), "cell": cell, "o": out(2)}, [("i", "cell"), ("cell", "o")])
    g = load_nir(graph({"input": inp(2), "mid": mid, "output": out(2)}, [("input", "mid"), ("mid", "output")]))
    assert g["mid.cell.n"].inputs == ("mid.cell.w", "input") and g["mid.cell.n"].delayed == ("mid.cell.w",)
    assert g.notes == (("recurrent cell 'mid.cell' (Input -> w <-> n, as Spyx writes it) read as Spyx computes it: "
                        "the cell's input goes straight to 'n', 'w' carries only the recurrent spikes"),)
    # a bad edge inside a nested graph names the file
    bad = graph({"i": inp(2), "n": if_(2), "o": out(2)}, [("i", "n"), ("n", "o"), ("n", "ghost")])
    g = graph({"input": inp(2), "sub": bad, "output": out(2)}, [("input", "sub"), ("sub", "output")])
    assert refused(g) == "<NIRGraph>: edges: edge names a node that does not exist: 'sub.ghost'"


def test_flatten_called_without_a_notes_list_keeps_its_own():
    g = graph({"input": inp(2), "cell": spyx_cell(if_(2), nir.Linear(weight=np.eye(2))), "output": out(2)},
              [("input", "cell"), ("cell", "output")])
    nodes, edges = _flatten(g, "g.nir")
    assert list(nodes) == ["input", "cell.w", "cell.n", "output"]
    assert sorted(edges) == [("cell.n", "cell.w"), ("cell.n", "output"), ("cell.w", "cell.n"), ("input", "cell.n")]


def test_a_shape_is_read_only_from_a_dict_of_types():
    assert _shape_of(S(input_type={"input": np.array([[2, 3]])}), "input_type") == (2, 3)
    assert _shape_of(S(input_type=(2, 3)), "input_type") is None  # not a dict
    assert _shape_of(S(input_type={}), "input_type") is None
    assert _shape_of(S(), "input_type") is None  # no such attribute


def test_two_nested_graphs_keep_both_their_inner_edges():
    def block():
        return graph({"i": inp(2), "f": nir.Linear(weight=np.eye(2)), "n": if_(2), "o": out(2)},
                     [("i", "f"), ("f", "n"), ("n", "o")])

    g = load_nir(graph({"input": inp(2), "a": block(), "b": block(), "output": out(2)},
                       [("input", "a"), ("a", "b"), ("b", "output")]))
    assert [(n.name, n.inputs) for n in g.nodes] == [
        ("input", ()), ("a.f", ("input",)), ("a.n", ("a.f",)), ("b.f", ("a.n",)), ("b.n", ("b.f",)),
        ("output", ("b.n",))]


def test_inputs_of_different_shapes_are_refused_in_one_line():
    g = graph({"input": inp(3), "a": nir.Linear(weight=np.ones((2, 3))), "b": nir.Linear(weight=np.ones((4, 3))),
               "n": if_(2), "output": out(2)},
              [("input", "a"), ("input", "b"), ("a", "n"), ("b", "n"), ("n", "output")])
    assert refused(g) == "<NIRGraph>: nodes.n: inputs of different shapes are summed: [(2,), (4,)]"


def test_a_conv_object_without_a_bias_attribute_gets_zeros():
    from tlmsim.snn.graph import _conv

    shape, p = _conv(S(weight=np.ones((2, 1, 1, 1)), stride=1, padding=0, dilation=1, groups=1), "conv2d", (1, 3, 3),
                     "nodes.c", "g.nir")
    assert shape == (2, 3, 3) and p["bias"].tolist() == [0.0, 0.0]
