"""The end-of-run invariants hold on real runs and catch injected faults."""

import pytest

from tlmsim.engine.invariants import check_run
from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


@pytest.fixture(scope="module")
def run():
    return simulate(load_platform("ddr4-baseline"), load_workload("digits-conv", seed=0))


def test_a_real_run_breaks_no_invariant(run):
    assert check_run(run.recorder, run.components, run.end_ps) == []


def _inject(run, component, stat, delta):
    c = run.recorder.stats[component].c
    old = c[stat]
    c[stat] = old + delta if delta is not None else float("nan")
    try:
        return check_run(run.recorder, run.components, run.end_ps)
    finally:
        c[stat] = old


def test_lost_bytes_are_caught(run):
    broken = _inject(run, "glb", "read_bytes", 64)
    assert any("glb: served" in b and "read bytes" in b for b in broken)
    broken = _inject(run, "noc", "write_bytes", -8)
    assert any(b.startswith("noc: served") for b in broken)


def test_a_noc_transfer_that_lost_bytes_is_caught(run):
    flows = run.recorder.flows
    key = next(k for k in flows if k[0] == "dram" and k[1] == "glb")
    flows[key] -= 1
    try:
        broken = check_run(run.recorder, run.components, run.end_ps)
    finally:
        flows[key] += 1
    assert any("entered the NoC at 'dram'" in b for b in broken)


def test_nan_negative_and_overfull_utilisation_are_caught(run):
    with pytest.raises(TypeError):  # a statistic is a 64-bit integer (tlmsim.engine.stats.Counters): never NaN
        _inject(run, "pe_array", "acc_ops", None)
    assert run.recorder.stats["pe_array"].c["acc_ops"] > 0  # left as it was
    assert any("is negative" in b for b in _inject(run, "l1", "line_reads", -10**9))
    assert any("utilisation" in b and "> 1" in b for b in _inject(run, "pe_array", "busy_ps", 10 * run.end_ps))


def test_an_incomplete_transaction_is_caught(run):
    run.recorder.issued += 1
    try:
        broken = check_run(run.recorder, run.components, run.end_ps)
    finally:
        run.recorder.issued -= 1
    assert broken and "1 of" in broken[0] and "never completed" in broken[0]
