"""The reference simulator (tlmsim/snn/refsim.py) on hand-made graphs whose numbers are
worked out below: a CubaLI whose input current and input weight are not 1, the subtract
reset with a threshold that is not 1, and the error of a node kind it has no model for."""

import numpy as np
import pytest

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import Node, SnnGraph
from tlmsim.snn.refsim import simulate_graph


def N(name, kind, inputs, shape, **params):
    return Node(name, kind, tuple(inputs), shape, shape, params)


def test_cuba_li_with_an_input_weight_and_a_current_not_one():
    g = SnnGraph((N("in", "input", [], (1,)), N("n", "cuba_li", ["in"], (1,), tau_syn=2.0, tau_mem=4.0, w_in=2.0,
                                                    r=1.0, v_leak=0.0)))
    v = simulate_graph(g, np.full((2, 1, 1), 3.0)).outputs["n"][:, 0, 0]
    # i1 = 0 + (1/2)(2 x 3 - 0) = 3;    v1 = 0 + (1/4)(0 - 0 + 3) = 0.75
    # i2 = 3 + (1/2)(6 - 3) = 4.5;      v2 = 0.75 + (1/4)(-0.75 + 4.5) = 1.6875
    assert v.tolist() == [0.75, 1.6875]


def test_subtract_reset_with_a_threshold_of_two():
    g = SnnGraph((N("in", "input", [], (1,)), N("n", "if", ["in"], (1,), r=1.0, v_threshold=2.0, v_reset=0.0)))
    s = simulate_graph(g, np.full((6, 1, 1), 1.5), reset="subtract").outputs["n"][:, 0, 0]
    # v: 1.5; 3.0 -> spike, 1.0; 2.5 -> spike, 0.5; 2.0 -> spike, 0.0; 1.5; 3.0 -> spike
    assert s.tolist() == [False, True, True, True, False, True]


def test_a_node_kind_without_a_model_is_refused_naming_the_node():
    g = SnnGraph((N("in", "input", [], (1,)), N("d", "delay", ["in"], (1,))))
    with pytest.raises(WorkloadError) as e:
        simulate_graph(g, np.zeros((1, 1, 1)))
    assert str(e.value) == "d: node kind 'delay' has no reference model"


def test_input_errors_name_what_is_missing():
    g = SnnGraph((N("a", "input", [], (1,)), N("b", "input", [], (1,)), N("n", "if", ["a", "b"], (1,), r=1.0,
                                                                                v_threshold=1.0, v_reset=0.0)))
    with pytest.raises(WorkloadError) as e:
        simulate_graph(g, np.zeros((1, 1, 1)))
    assert str(e.value) == "the graph has 2 inputs; pass a dict by Input name"
    with pytest.raises(WorkloadError) as e:
        simulate_graph(g, {"a": np.zeros((1, 1, 1))})
    assert str(e.value) == "input 'b' needs shape (T, batch, *[1]), got None"


def test_spike_inputs_are_recorded_as_values_not_as_spikes():
    g = SnnGraph((N("in", "input", [], (2,)), N("n", "if", ["in"], (2,), r=1.0, v_threshold=1.0, v_reset=0.0)))
    x = np.array([[[True, False]], [[True, True]]])
    r = simulate_graph(g, x)
    assert r.outputs["in"].dtype == np.float64 and r.outputs["in"][:, 0].tolist() == [[1.0, 0.0], [1.0, 1.0]]
    assert r.firing_rates() == {"n": 0.75}  # the input is not a spiking node
