"""The cyclic collector's thresholds during a run (sessions 19 and 20): :func:`simulate` builds, runs
and checks with :data:`RUN_GC_THRESHOLD` and gives the caller's thresholds back, also when the run
fails; the numbers do not depend on them; and a run leaves no array in cyclic garbage, which the
higher threshold would keep alive for longer (the DRAM timing checker's compiled build did: every
checked chunk's command log)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from tests.hw.trace_sink import ProbingSink
from tlmsim.platform import load_platform
from tlmsim.report import build_report
from tlmsim.soc.run import RUN_GC_THRESHOLD, collector_thresholds, simulate
from tlmsim.workload import load_workload


@pytest.fixture
def caller_threshold():
    """A threshold of the caller's own (not Python's default), put back after the test."""
    before = gc.get_threshold()
    gc.set_threshold(1234, 5, 6)
    yield (1234, 5, 6)
    gc.set_threshold(*before)


def Seen(fail: bool = False) -> ProbingSink:
    """A trace sink that records the collector's thresholds at the first hop of each command kind; ``fail`` raises
    at the first compute."""
    return ProbingSink(gc.get_threshold, fail)


def test_the_run_threshold_is_fifty_thousand_young_objects():
    assert RUN_GC_THRESHOLD == (50_000, 20, 20)


def test_collector_thresholds_sets_and_restores(caller_threshold):
    with collector_thresholds((9000, 7, 8)):
        assert gc.get_threshold() == (9000, 7, 8)
    assert gc.get_threshold() == caller_threshold
    with collector_thresholds():
        assert gc.get_threshold() == RUN_GC_THRESHOLD
    assert gc.get_threshold() == caller_threshold


def test_collector_thresholds_restores_when_the_body_raises(caller_threshold):
    with pytest.raises(KeyError), collector_thresholds((9000, 7, 8)):
        raise KeyError("x")
    assert gc.get_threshold() == caller_threshold


def test_collector_thresholds_leaves_a_disabled_collector_disabled(caller_threshold):
    gc.disable()
    try:
        with collector_thresholds():
            assert not gc.isenabled()
        assert not gc.isenabled() and gc.get_threshold() == caller_threshold
    finally:
        gc.enable()


def test_simulate_runs_with_the_run_threshold_and_gives_the_callers_back(caller_threshold):
    sink = Seen()
    simulate(load_platform("ddr4-baseline"), load_workload("digits-snn", seed=0), sinks=(sink,))
    assert {"READ", "COMPUTE"} <= set(sink.seen)
    assert set(sink.seen.values()) == {RUN_GC_THRESHOLD}
    assert gc.get_threshold() == caller_threshold


def test_simulate_gives_the_callers_threshold_back_when_the_run_fails(caller_threshold):
    sink = Seen(fail=True)
    with pytest.raises(RuntimeError, match="sink failed"):
        simulate(load_platform("ddr4-baseline"), load_workload("digits-snn", seed=0), sinks=(sink,))
    assert sink.seen["COMPUTE"] == RUN_GC_THRESHOLD
    assert gc.get_threshold() == caller_threshold


def test_the_numbers_do_not_depend_on_the_threshold(monkeypatch):
    platform, workload = load_platform("edge-lpddr4", ["dataflow.name=event"]), load_workload("lenet5-mnist", seed=0)
    ours = build_report(simulate(platform, workload))
    from tlmsim.soc import run

    monkeypatch.setattr(run, "RUN_GC_THRESHOLD", (10, 2, 2))  # young collections about every 10 allocations
    sink = Seen()
    theirs = build_report(simulate(platform, workload, sinks=(sink,)))
    assert set(sink.seen.values()) == {(10, 2, 2)}
    for name, frame in ours.tables().items():
        assert frame.equals(theirs.frame(name)), name


def cyclic_garbage(run):
    """What only the cyclic collector would free of what ``run()`` made (its result kept): the
    objects, and the bytes of the NumPy arrays they or their ``__dict__`` refer to."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        kept = run()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    del kept
    arrays = {}
    for ref in gc.get_referents(*found):
        for a in (ref, *(gc.get_referents(ref) if isinstance(ref, dict) else ())):
            if isinstance(a, np.ndarray):
                arrays[id(a)] = a
    return found, sum(a.nbytes for a in arrays.values())


def test_cyclic_garbage_counts_the_arrays_a_cycle_holds():
    class Holder:
        pass

    def run():
        h = Holder()
        h.me, h.log = h, np.zeros(1000, dtype=np.int64)  # a cycle that holds 8,000 bytes

    found, nbytes = cyclic_garbage(run)
    assert nbytes == 8000 and any(isinstance(o, Holder) for o in found)


def test_a_run_leaves_no_array_in_cyclic_garbage():
    """lenet5 / edge-lpddr4 / event: its command log is checked in chunks during the run. With the
    checker compiled (Cython keeps ``_check``'s closure variables, its nested ``emit`` among them, in
    one record: a cycle) each chunk's log was cyclic garbage: 139,001 bytes of arrays here."""
    platform, workload = load_platform("edge-lpddr4", ["dataflow.name=event"]), load_workload("lenet5-mnist", seed=0)
    found, nbytes = cyclic_garbage(lambda: simulate(platform, workload))
    assert nbytes == 0, sorted({type(o).__name__ for o in found})
