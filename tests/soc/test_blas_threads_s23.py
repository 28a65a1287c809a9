"""numpy's BLAS threads during a run (session 23): :func:`simulate` builds, runs and checks
with at most :data:`RUN_BLAS_THREADS` BLAS threads (OpenBLAS's idle workers spin between the
run's few small matrix products, burning a second core) and gives the caller's limits back,
also when the run fails; the numbers do not depend on the thread count."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from tests.hw.trace_sink import ProbingSink
from tlmsim.platform import load_platform
from tlmsim.report import build_report
from tlmsim.soc.run import RUN_BLAS_THREADS, blas_threads, simulate
from tlmsim.workload import load_workload

BLAS = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
needs_blas = pytest.mark.skipif(not BLAS, reason="numpy has no BLAS that threadpoolctl controls")


def blas_counts() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


@pytest.fixture
def caller_threads():
    """Three BLAS threads of the caller's own (not the machine's default), put back after the test."""
    with threadpool_limits(limits=3, user_api="blas"):
        yield [3] * len(BLAS)


def Seen(fail: bool = False) -> ProbingSink:
    """A trace sink that records the BLAS thread counts at the first hop of each command kind; ``fail`` raises
    at the first compute."""
    return ProbingSink(blas_counts, fail)


def test_the_run_uses_one_blas_thread():
    assert RUN_BLAS_THREADS == 1


@needs_blas
def test_blas_threads_sets_and_restores(caller_threads):
    with blas_threads(2):
        assert blas_counts() == [2] * len(BLAS)
    assert blas_counts() == caller_threads
    with blas_threads():
        assert blas_counts() == [1] * len(BLAS)
    assert blas_counts() == caller_threads


@needs_blas
def test_blas_threads_restores_when_the_body_raises(caller_threads):
    with pytest.raises(KeyError), blas_threads():
        raise KeyError("x")
    assert blas_counts() == caller_threads


@needs_blas
def test_simulate_runs_on_one_blas_thread_and_gives_the_callers_back(caller_threads):
    sink = Seen()
    simulate(load_platform("ddr4-baseline", ["dataflow.name=event"]), load_workload("digits-snn", seed=0),
             sinks=(sink,))
    assert {"READ", "COMPUTE"} <= set(sink.seen)
    assert all(v == [1] * len(BLAS) for v in sink.seen.values()), sink.seen
    assert blas_counts() == caller_threads


@needs_blas
def test_a_failing_run_gives_the_callers_threads_back(caller_threads):
    with pytest.raises(RuntimeError, match="sink failed"):
        simulate(load_platform("ddr4-baseline"), load_workload("digits-snn", seed=0), sinks=(Seen(fail=True),))
    assert blas_counts() == caller_threads


@needs_blas
def test_the_numbers_do_not_depend_on_the_blas_threads(monkeypatch):
    """The event dataflow's bank demand (a float64 matrix product) on one thread and on three."""
    platform, workload = load_platform("edge-lpddr4", ["dataflow.name=event"]), load_workload("lenet5-mnist", seed=0)
    ours = build_report(simulate(platform, workload))
    from tlmsim.soc import run

    monkeypatch.setattr(run, "RUN_BLAS_THREADS", 3)
    sink = Seen()
    theirs = build_report(simulate(platform, workload, sinks=(sink,)))
    assert all(v == [3] * len(BLAS) for v in sink.seen.values()), sink.seen
    for name, frame in ours.tables().items():
        assert frame.equals(theirs.frame(name)), name
