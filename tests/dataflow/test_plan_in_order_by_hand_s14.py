"""Dataflow.plan_in_order and LayerPlan.__iter__/summary by hand (session 14, mutation runs s14base
and s14plan).

``plan_in_order`` hands each layer the level its inputs are in: the level the previous layer's
plan keeps its outputs in (``resident["outputs"]`` true, ``levels["outputs"]``) when the layer
reads the previous layer (``layer.source`` is the previous layer's index); otherwise None (in
DRAM). The dataflow below plans every layer from a table (resident or not, which level) and logs
its calls, so each input level is known by hand:

    layer  source  its plan's outputs          input level handed to it
    a      -1      resident in level 1         None (the first layer)
    b      0       resident in level 0         1 (a's, and b reads a)
    c      1       resident in level 2         0 (b's: level 0 counts, though falsy)
    d      1       level 1, not resident       None (d reads b, not c)
    e      3       levels says 2, no resident  None (d's outputs are in DRAM)
    f      4       -                           None (e's plan has no resident entry: DRAM)
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tlmsim.dataflow.base import Dataflow
from tlmsim.engine.plan import LayerPlan, LayerSummary, Move, Tile
from tlmsim.engine.transaction import DataClass
from tlmsim.errors import MappingError

#: name, source, resident["outputs"] (None: no entry), levels["outputs"] (None: no entry)
TABLE = [("a", -1, True, 1), ("b", 0, True, 0), ("c", 1, True, 2), ("d", 1, False, 1), ("e", 3, None, 2),
         ("f", 4, None, None)]
WANT = [None, 1, 0, None, None, None]


def _layer(index, name, source, *, op="linear", recurrent=False):
    return SimpleNamespace(index=index, name=name, source=source, op=op, recurrent=recurrent)


class Logged(Dataflow):
    NAME = "logged"

    def __init__(self, layers, table):
        super().__init__(platform=None, workload=SimpleNamespace(layers=layers))
        self.table = table
        self.calls: list[tuple[str, int | None]] = []

    def plan_layer(self, layer, input_level):
        self.calls.append((layer.name, input_level))
        _name, _src, res, lv = self.table[layer.index]
        return LayerPlan(layer=layer, tiles=[], resident={} if res is None else {"outputs": res},
                         levels={} if lv is None else {"outputs": lv})


def _dataflow():
    return Logged([_layer(i, n, s) for i, (n, s, _r, _l) in enumerate(TABLE)], TABLE)


def test_each_layer_gets_the_level_the_previous_layer_keeps_its_outputs_in_if_it_reads_them():
    df = _dataflow()
    got = list(df.plan_in_order())
    assert [lv for lv, _p in got] == WANT
    assert [p.layer.name for _lv, p in got] == ["a", "b", "c", "d", "e", "f"]
    assert [p.layer is layer for (_lv, p), layer in zip(got, df.workload.layers)] == [True] * 6
    assert df.calls == list(zip("abcdef", WANT))  # planned with the level it yields


def test_plan_is_the_plans_of_plan_in_order():
    df = _dataflow()
    plans = df.plan()
    assert [p.layer.name for p in plans] == ["a", "b", "c", "d", "e", "f"]
    assert df.calls == list(zip("abcdef", WANT))


def test_a_layer_is_planned_only_when_the_caller_asks_for_it():
    df = _dataflow()
    it = df.plan_in_order()
    assert df.calls == []
    assert next(it)[0] is None and df.calls == [("a", None)]
    assert next(it)[0] == 1 and df.calls == [("a", None), ("b", 1)]


def test_a_recurrent_identity_layer_is_refused_naming_the_dataflow_after_the_layers_before_it():
    layers = [_layer(0, "a", -1), _layer(1, "rec", 0, op="identity", recurrent=True)]
    df = Logged(layers, TABLE)
    with pytest.raises(MappingError, match=r"layer 'rec' is a recurrent identity layer .* the logged dataflow "
                                           r"schedules recurrent linear layers only"):
        list(df.plan_in_order())
    assert df.calls == [("a", None)]
    # a recurrent linear layer is planned
    ok = Logged([_layer(0, "a", -1), _layer(1, "rl", 0, recurrent=True)], TABLE)
    assert [lv for lv, _p in ok.plan_in_order()] == [None, 1]


# -- LayerPlan.__iter__ and summary ------------------------------------------------------------


def _tile(i):
    return Tile(index=i, t_first=0, t_last=1, loads=[Move(DataClass.WEIGHTS, 64, True)], stores=[],
                compute_cycles=10 + i)


def test_a_plan_iterates_over_its_tiles_and_its_summary_is_the_plan_without_them():
    layer = _layer(7, "fc", 6)
    pro, epi = [Move(DataClass.WEIGHTS, 128, False, level=0)], [Move(DataClass.MEMBRANE, 32, False, level=1)]
    plan = LayerPlan(layer=layer, tiles=[_tile(i) for i in range(3)], prologue=pro, epilogue=epi,
                     resident={"weights": True, "outputs": False}, resident_bytes={0: 128, 1: 32},
                     levels={"weights": 0, "membrane": 1}, l1_tile_bytes=4096, tiling="k-outer 3x1",
                     spike_formats={"aer": 2})
    assert [t.index for t in plan] == [0, 1, 2]
    assert [a is b for a, b in zip(plan, plan.tiles)] == [True] * 3
    s = plan.summary()
    assert type(s) is LayerSummary
    assert s.layer is layer and s.ntiles == 3
    assert s.prologue is pro and s.epilogue is epi
    assert s.resident == {"weights": True, "outputs": False} and s.resident is plan.resident
    assert s.resident_bytes == {0: 128, 1: 32} and s.resident_bytes is plan.resident_bytes
    assert s.levels == {"weights": 0, "membrane": 1} and s.levels is plan.levels
    assert s.l1_tile_bytes == 4096 and s.tiling == "k-outer 3x1"
    assert s.spike_formats == {"aer": 2} and s.spike_formats is plan.spike_formats
    assert LayerPlan(layer=layer, tiles=[]).summary().ntiles == 0
    assert list(LayerPlan(layer=layer, tiles=[])) == []
