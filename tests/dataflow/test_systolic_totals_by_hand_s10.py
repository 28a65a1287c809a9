"""The tiler's totals by hand (tlmsim/dataflow/systolic.py: StepTotals, GemmCandidate, _plan_gemm),
against the survivors of the session-10 mutation run s10sys: totals added to empty totals and with
tensors the running totals lack, the message refusing a candidate with both or neither of steps and
make(), and a ranking that reads a candidate's totals without making its steps."""

import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.systolic import GemmCandidate, Step, StepTotals
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def _step(cycles: int) -> Step:
    return Step(0, 1, 0, 1, 0, 1, 0, 1, cycles, 0, 0, 0, 0)


def test_totals_add_tensors_the_running_totals_lack_from_zero():
    # empty totals take the first step of what they add; a tensor first seen starts from 0 bytes
    a, b = _step(5), _step(7)
    tot = StepTotals(0, {}, None, 0)
    tot.add(StepTotals(5, {"weights": 3}, a, 1))
    assert (tot.cycles, tot.moved, tot.first, tot.count) == (5, {"weights": 3}, a, 1)
    tot.add(StepTotals(7 + 9, {"weights": 2, "inputs": 4}, b, 2))
    assert (tot.cycles, tot.moved, tot.first, tot.count) == (21, {"weights": 5, "inputs": 4}, a, 3)


def test_a_candidate_with_both_or_neither_is_refused_with_its_message():
    msg = r"^a GemmCandidate takes its steps or a make\(\) for them, not both$"
    with pytest.raises(ValueError, match=msg):
        GemmCandidate("x")
    with pytest.raises(ValueError, match=msg):
        GemmCandidate("x", [_step(1)], make=lambda: [_step(1)])


def test_the_ranking_reads_totals_and_makes_only_the_chosen_candidates_steps(tmp_path):
    # a linear layer of 8 inputs x 2 outputs on dense-ws (one candidate shape, its totals given). Two
    # candidates with the same steps: "dear" claims 10 x their cycles + 1000 in its totals, "cheap"
    # the true totals. The ranking reads the totals: "cheap" is chosen though it comes second (a tie
    # would keep the first), and only its steps are made.
    f = tmp_path / "w.yaml"
    f.write_text("name: w\ntimesteps: 1\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n"
                 "  - {name: fc, op: linear, in_shape: [8], out_features: 2, neuron: lif}\n")
    wl = load_workload(f, seed=0)
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws"]), wl)
    layer = wl.layers[0]
    steps = df.gemm_candidates(layer)[0].steps
    true = StepTotals(sum(s.cycles for s in steps), df._traffic(layer, steps, {}), steps[0], len(steps))
    dear = StepTotals(10 * true.cycles + 1000, dict(true.moved), steps[0], len(steps))
    made = []

    def make(label):
        def f():
            made.append(label)
            return list(steps)
        return f

    df.gemm_candidates = lambda layer: [GemmCandidate("dear", make=make("dear"), totals=dear),
                                        GemmCandidate("cheap", make=make("cheap"), totals=true)]
    plan = df._plan_gemm(layer, None)
    assert (plan.tiling, made, df.chosen[layer.index]) == ("cheap", ["cheap"], "cheap")
