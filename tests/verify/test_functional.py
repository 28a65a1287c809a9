"""--verify: the fixed-point rules by hand, bit-exact runs, and faults it must catch."""

import dataclasses

import numpy as np
import pytest

from tlmsim.cli import main
from tlmsim.dataflow import make_dataflow
from tlmsim.engine.simulation import simulate
from tlmsim.errors import SimulationError
from tlmsim.platform import load_platform
from tlmsim.platform.dataflow import DATAFLOWS
from tlmsim.resources import shipped
from tlmsim.verify.fixed_point import FRAC_BITS, QNeuron, quantize, reference
from tlmsim.verify.functional import FunctionalModel, VerificationError
from tlmsim.workload import load_workload


@pytest.fixture(scope="module")
def digits():
    return load_workload("digits-snn", seed=0)


def test_lif_step_by_hand():
    # tau = 2, r = 1, v_leak = 0, threshold 10, reset 0 (in weight units): a = r/tau = 0.5 -> 32768
    half = 1 << (FRAC_BITS - 1)
    one = lambda v: np.full((1, 1), v, dtype=np.int64)  # noqa: E731
    n = QNeuron("lif", {"a": one(half), "r": one(half), "v_leak": one(0), "v_threshold": one(10), "v_reset": one(0)}, 16)
    st = n.initial_state((1, 1))
    # v = 0 + (0.5 (0 - 0) + 0.5 x 8) = 4; then 4 + (0.5 (0 - 4) + 0.5 x 8) = 6; then 6 + (-3 + 12) = 15 >= 10: spike, reset
    outs = [int(n.step(st, one(i))[0, 0]) for i in (8, 8, 24)]
    assert outs == [0, 0, 1] and int(st["v"][0, 0]) == 0
    # floor, not truncation: 0.5 x (-3) = -1.5 -> -2
    n.step(st, one(-3))
    assert int(st["v"][0, 0]) == -2


def test_membrane_saturates_at_its_width():
    one = lambda v: np.full((1, 1), v, dtype=np.int64)  # noqa: E731
    n = QNeuron("if", {"r": one(1 << FRAC_BITS), "v_threshold": one(1 << 20), "v_reset": one(0)}, 8)
    st = n.initial_state((1, 1))
    n.step(st, one(1000))
    assert int(st["v"][0, 0]) == 127  # 8-bit signed


def test_weights_round_half_to_even_per_layer_scale(digits):
    q = quantize(digits.graph, digits.layers, weight_bits=8, membrane_bits=16)
    w = np.asarray(digits.graph["fc2"].params["weight"])
    s = np.abs(w).max() / 127
    assert q[4].scale == pytest.approx(s)
    assert np.array_equal(q[4].weights, np.rint(w / s).astype(np.int64).T)
    assert np.abs(q[4].weights).max() == 127


def test_fixed_point_reference_tracks_the_float_network(digits):
    # the quantised network is the same network: most output spikes agree with the float reference
    from tlmsim.snn.refsim import simulate_graph

    q = quantize(digits.graph, digits.layers, weight_bits=8, membrane_bits=16)
    inp = {0: digits.spikes["conv1"].astype(np.int64)}
    ref = reference(q, inp, digits.timesteps, accumulator_bits=16)
    fl = simulate_graph(digits.graph, digits.spikes["conv1"].astype(float)[:, None])
    for layer, node in (("conv1", "lif1"), ("fc1", "lif2"), ("fc2", "lif3")):
        i = next(l.index for l in digits.layers if l.name == layer)
        a, b = ref[i].astype(bool), fl.outputs[node][:, 0].reshape(ref[i].shape)
        assert (a == b).mean() > 0.9
        assert a.any()  # not trivially silent


@pytest.mark.parametrize("platform", sorted(shipped("platforms")))
@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_verify_is_bit_exact_for_every_dataflow_and_platform(digits, platform, dataflow):
    p = load_platform(platform, [f"dataflow.name={dataflow}"])
    result = simulate(p, digits, verify=True)
    assert result.verified.startswith("verify: all 5 layers bit-exact")


def _model_and_plans(digits, dataflow="dense-ws"):
    p = load_platform("ddr4-baseline", [f"dataflow.name={dataflow}"])
    return FunctionalModel(digits, membrane_bits=16, accumulator_bits=16), make_dataflow(p, digits).plan()


def test_a_missing_tile_is_caught(digits):
    model, plans = _model_and_plans(digits)
    for plan in plans:
        tiles = plan.tiles
        if plan.layer.name == "fc1":
            tiles = tiles[:-1]  # the last timestep of one output block never runs
        for tile in tiles:
            model.execute(plan, tile)
    with pytest.raises(VerificationError, match="layer 'fc1'.*updated for 15 of 16 timesteps"):
        model.check()


def test_a_wrong_reduction_range_is_caught_with_layer_neuron_and_timestep(digits):
    model, plans = _model_and_plans(digits, "spikex")
    for plan in plans:
        for tile in plan.tiles:
            if plan.layer.name == "fc1":
                r = list(tile.region)
                r[7] += 64  # the tile starts 64 inputs (two 32-row folds) too late
                tile = dataclasses.replace(tile, region=tuple(r))
            model.execute(plan, tile)
    with pytest.raises(VerificationError, match=r"layer '(fc1|fc2)': neuron \(\d+,\) at timestep \d+ is \d, the fixed-point reference gives \d"):
        model.check()


def test_timesteps_out_of_order_are_caught(digits):
    model, plans = _model_and_plans(digits)
    conv = plans[0]
    with pytest.raises(VerificationError, match="at timestep 1, but its last update was for timestep -1"):
        model.execute(conv, conv.tiles[1])  # timestep 1 before timestep 0


def test_a_dataflow_bug_fails_the_run(digits, monkeypatch):
    from tlmsim.dataflow.ws import WsStreaming

    orig = WsStreaming._steps

    def drop_one(self, *a, **k):
        steps = orig(self, *a, **k)
        return steps[:-1] if len(steps) > 1 else steps

    monkeypatch.setattr(WsStreaming, "_steps", drop_one)
    with pytest.raises(SimulationError, match="layer"):
        simulate(load_platform("ddr4-baseline"), digits, verify=True)


def test_cli_verify(tmp_path, capsys):
    assert main(["run", "--verify", "--dataflow", "spikex", "--out", str(tmp_path)]) == 0
    assert "bit-exact" in capsys.readouterr().out
    # a workload without a graph cannot be verified: one line, exit 2
    assert main(["run", "vgg9-cifar10", "--verify", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "--verify needs a workload built from a NIR graph" in err and "Traceback" not in err
