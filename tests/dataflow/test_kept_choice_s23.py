"""A layer's chosen tiling kept for planning it again (session 23, ``KEEP_CHOICE``): the event
dataflow plans a dropped layer again from the chosen candidate's ``make()`` without ranking its
candidates (their block tables are most of its planning), and the plan is the same field for
field; another input level, or a dataflow that keeps no choice, ranks again. ``sparse``:
tests/dataflow/conftest.py."""

from tests.dataflow.test_lazy_plans import SMALL
from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.event import Event
from tlmsim.dataflow.systolic import SystolicDataflow
from tlmsim.platform import load_platform


def counting(monkeypatch, cls):
    """Count the calls of ``cls.gemm_candidates``."""
    calls = []
    orig = cls.gemm_candidates

    def gemm_candidates(self, layer):
        calls.append(layer.name)
        return orig(self, layer)

    monkeypatch.setattr(cls, "gemm_candidates", gemm_candidates)
    return calls


def test_only_the_event_dataflow_keeps_its_choice():
    assert SystolicDataflow.KEEP_CHOICE is False and Event.KEEP_CHOICE is True


def test_the_event_dataflow_plans_a_layer_again_without_ranking(sparse, monkeypatch):
    calls = counting(monkeypatch, Event)
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=event", *SMALL]), sparse)
    first = list(df.plan_in_order())
    gemm = [p.layer.name for _, p in first if p.layer.op in ("conv2d", "linear")]
    assert calls == gemm == ["conv1", "conv2", "conv3", "fc"]
    assert sorted(k[0] for k in df._kept_choice) == [p.layer.index for _, p in first if p.layer.name in gemm]
    for inp, plan in reversed(first):
        again = df.plan_layer(plan.layer, inp)
        assert repr(again) == repr(plan), plan.layer.name
        assert again.tiling == plan.tiling
        if plan.layer.name in gemm:
            assert df.chosen[plan.layer.index] == plan.tiling
    assert calls == gemm  # no candidate ranked again
    assert len(first[0][1].tiles) > 1


def test_another_input_level_ranks_again(sparse, monkeypatch):
    calls = counting(monkeypatch, Event)
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=event", *SMALL]), sparse)
    first = {p.layer.name: (inp, p) for inp, p in df.plan_in_order()}
    inp, conv2 = first["conv2"]
    other = None if inp is not None else 0
    n = len(calls)
    again = df.plan_layer(conv2.layer, other)
    assert calls[n:] == ["conv2"]
    assert (conv2.layer.index, other) in df._kept_choice
    assert repr(again) == repr(make_dataflow(df.platform, sparse).plan_layer(conv2.layer, other))


def test_a_dataflow_that_keeps_no_choice_ranks_again(sparse, monkeypatch):
    platform = load_platform("ddr4-baseline", ["dataflow.name=dense-is", *SMALL])
    df = make_dataflow(platform, sparse)
    calls = counting(monkeypatch, type(df))
    first = list(df.plan_in_order())
    n = len(calls)
    for inp, plan in first:
        assert repr(df.plan_layer(plan.layer, inp)) == repr(plan)
    assert len(calls) == 2 * n and df._kept_choice == {}
