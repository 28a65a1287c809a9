"""The cyclic collector is paused while LazyPlans plans (session 23): off during the first pass
and while a dropped plan is made again, as the caller had it afterwards, also when a plan is
refused; and planning leaves no reference cycle that holds a plan, so pausing keeps no
garbage of any size."""

import gc
from collections import Counter

import pytest

from tlmsim.dataflow import DATAFLOWS, make_dataflow
from tlmsim.dataflow.base import LazyPlans, collector_paused
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_collector_paused_restores_an_enabled_collector(collector_on):
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), collector_paused():
        raise KeyError("x")
    assert gc.isenabled()


def test_collector_paused_leaves_a_disabled_collector_disabled(collector_on):
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    gc.enable()


class Watching:
    """A dataflow wrapper that records whether the collector was on at each plan_layer."""

    def __init__(self, df):
        self.df, self.seen = df, []
        self.workload = df.workload

    def plan_in_order(self, tiles=None):
        for item in self.df.plan_in_order(tiles):
            self.seen.append(gc.isenabled())
            yield item

    def plan_layer(self, layer, level, tiles=None):
        self.seen.append(gc.isenabled())
        return self.df.plan_layer(layer, level, tiles)


def _lenet(dataflow="dense-ws"):
    return make_dataflow(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}"]),
                         load_workload("lenet5-mnist", seed=0))


def test_lazy_plans_plan_with_the_collector_off(collector_on):
    w = Watching(_lenet())
    lazy = LazyPlans(w, keep_tiles=0)
    n = len(w.seen)
    assert n == len(lazy.layers) and not any(w.seen)
    assert gc.isenabled()
    lazy[1]  # dropped: planned again
    assert w.seen[n:] == [False] and gc.isenabled()
    assert lazy.replanned == 1


def test_a_refused_plan_gives_the_collector_back(collector_on):
    def refuse(plan):
        raise MappingError("no")

    with pytest.raises(MappingError):
        LazyPlans(_lenet(), check=refuse)
    assert gc.isenabled()


@pytest.mark.parametrize("dataflow", sorted(DATAFLOWS))
def test_planning_makes_no_reference_cycle_with_a_tile(dataflow, collector_on):
    """The pure build makes no cycle; the compiled one makes only a candidate list's closure and
    its scope per layer (a Cython closure refers to its scope), never one holding a plan."""
    df = _lenet(dataflow)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        with collector_paused():
            plans = [p for _, p in df.plan_in_order()]
            tiles, layers = sum(len(p.tiles) for p in plans), len(plans)
            del plans
        gc.collect()
        kinds = Counter(type(o).__name__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert tiles > 0
    assert all(k == "cython_function_or_method" or k.startswith("__pyx_scope_struct") for k in kinds), kinds
    assert sum(kinds.values()) <= 2 * layers
