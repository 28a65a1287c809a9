"""The dataflow interface (tlmsim/dataflow/base.py) on a recording dataflow: which SRAM
level each layer is told holds its inputs, and the refusal of recurrent layers other than
linear ones."""

from types import SimpleNamespace

import pytest

from tlmsim.dataflow.base import Dataflow, refuse_unplanned
from tlmsim.engine.plan import LayerPlan
from tlmsim.errors import MappingError
from tlmsim.workload import Layer


def L(index, source, *, op="linear", recurrent=False, name=None):
    return Layer(index=index, name=name or f"l{index}", op=op, in_shape=(4,), out_shape=(4,), kernel=(1, 1),
                 stride=(1, 1), padding=(0, 0), neuron="if", weight_sparsity=0.0, firing_rate=0.5, source=source,
                 recurrent=recurrent)


class Recording(Dataflow):
    NAME = "recording"

    def __init__(self, layers, keeps):
        super().__init__(platform="the platform", workload=SimpleNamespace(layers=layers))
        self.keeps = keeps  #: layer index -> (outputs resident?, their level)
        self.told: list[tuple[int, int | None]] = []

    def plan_layer(self, layer, input_level):
        self.told.append((layer.index, input_level))
        kept, level = self.keeps.get(layer.index, (False, None))
        return LayerPlan(layer=layer, tiles=[], resident={"outputs": kept},
                         levels={"outputs": level} if level is not None else {})


def test_the_base_keeps_what_it_is_given():
    df = Recording([], {})
    assert df.platform == "the platform" and df.workload.layers == [] and df.plan() == []
    with pytest.raises(NotImplementedError):
        Dataflow(platform=None, workload=None).plan_layer(L(0, -1), None)


def test_outputs_left_in_a_level_serve_only_the_layer_reading_them():
    layers = [L(0, -1), L(1, 0), L(2, 1), L(3, 1), L(4, 3), L(5, 4)]
    keeps = {0: (True, 1), 1: (True, 0), 2: (True, 2), 3: (False, 1), 4: (True, None)}
    df = Recording(layers, keeps)
    plans = df.plan()
    assert [p.layer.index for p in plans] == [0, 1, 2, 3, 4, 5]
    # layer 0: no producer; 1 reads 0 (level 1); 2 reads 1 (level 0); 3 reads 1 but 2 ran in between: DRAM;
    # 4 reads 3, whose outputs are not resident (a level named but not kept): DRAM;
    # 5 reads 4, kept without a level: None
    assert df.told == [(0, None), (1, 1), (2, 0), (3, None), (4, None), (5, None)]


def test_the_first_layer_never_gets_a_level():
    # a first layer whose source index happens to equal nothing planned yet
    df = Recording([L(0, 0), L(1, 0)], {0: (True, 0)})
    df.plan()
    assert df.told == [(0, None), (1, 0)]


def test_only_recurrent_linear_layers_are_planned():
    refuse_unplanned(L(0, -1, recurrent=True), "x")  # a recurrent linear layer: planned
    refuse_unplanned(L(0, -1, op="identity"), "x")  # not recurrent: planned
    with pytest.raises(MappingError) as e:
        refuse_unplanned(L(0, -1, op="identity", recurrent=True, name="r"), "ptb")
    assert str(e.value) == ("layer 'r' is a recurrent identity layer (a neuron reading its own spikes of the previous "
                            "timestep with no feed-forward weights); the ptb dataflow schedules recurrent linear "
                            "layers only")
    df = Recording([L(0, -1), L(1, 0, op="identity", recurrent=True)], {})
    with pytest.raises(MappingError, match="the recording dataflow schedules"):
        df.plan()
    assert df.told == [(0, None)]  # refused before it is planned
