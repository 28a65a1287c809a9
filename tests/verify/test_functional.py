"""--verify: the fixed-point rules by hand, bit-exact runs, and faults it must catch."""

import dataclasses

import numpy as np
import pytest

from tlmsim.cli import main
from tlmsim.dataflow import make_dataflow
from tlmsim.soc.run import simulate
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
                tile = tile.replace(region=tuple(r))
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
        steps = orig(self, *a, **k)  # a list of steps, or (a ranking's StepTotals) left alone
        return steps[:-1] if isinstance(steps, list) and len(steps) > 1 else steps

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


# -- layer kinds of NIR graphs as the frameworks write them --------------------------------------------------
from pathlib import Path  # noqa: E402

from tlmsim.engine.plan import LayerPlan, Tile  # noqa: E402

NIR_DATA = Path(__file__).resolve().parents[1] / "data" / "nir"
#: committed graphs whose layers every dataflow plans today (no recurrent or identity layer)
PLANNED = ["hand/conv1d", "hand/conv_avgpool_lif", "hand/sumpool_if", "hand/batch_axis", "hand/residual",
           "snntorch/conv_avgpool_leaky", "norse/mlp_batch", "rockpool/mlp", "rockpool/readout", "sinabs/conv1d",
           "sinabs/conv_sumpool_iaf"]


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize("name", PLANNED)
def test_verify_is_bit_exact_on_exported_graphs(name, dataflow):
    w = load_workload(NIR_DATA / f"{name}.nir", seed=0)
    result = simulate(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}"]), w, verify=True)
    assert result.verified.startswith(f"verify: all {len(w.layers)} layers bit-exact")


def test_maxpool_and_a_neuron_on_the_pooled_map_verify():
    w = load_workload(NIR_DATA / "hand" / "conv_avgpool_lif.nir", seed=0)
    assert [(l.op, l.neuron) for l in w.layers][:2] == [("conv2d", None), ("avgpool2d", "lif")]
    w.layers[1] = dataclasses.replace(w.layers[1], op="maxpool2d")
    q = quantize(w.graph, w.layers, weight_bits=8, membrane_bits=16)
    assert q[1].gain == 127 and q[1].scale == pytest.approx(q[0].unit / 127)
    for df in ("dense-ws", "spikex"):
        result = simulate(load_platform("ddr4-baseline", [f"dataflow.name={df}"]), w, verify=True)
        assert "bit-exact" in result.verified


def test_avgpool_folds_its_division_into_the_next_layers_unit():
    w = load_workload(NIR_DATA / "hand" / "conv_avgpool_lif.nir", seed=0)
    q = quantize(w.graph, w.layers, weight_bits=8, membrane_bits=16)
    # conv without a neuron: currents in units of s_conv; the 2x2 average pool outputs window sums in units of
    # s_conv / 4; its neuron's current is 127 x sum in units of s_conv / 4 / 127
    s_conv = np.abs(w.graph["conv"].params["weight"]).max() / 127
    assert q[0].unit == pytest.approx(s_conv)
    assert q[1].scale == pytest.approx(s_conv / 4 / 127)
    assert q[1].neuron.params["v_threshold"][0, 0] == int(np.rint(0.5 / (s_conv / 4 / 127)))


def _plan(layer, regions):
    return LayerPlan(layer=layer, tiles=[Tile(index=i, t_first=r[1], t_last=r[1], loads=[], stores=[],
                                              compute_cycles=0, region=r) for i, r in enumerate(regions)])


def test_a_recurrent_layer_verifies_when_each_timestep_follows_the_previous():
    w = load_workload(NIR_DATA / "hand" / "rsnn_braille.nir", seed=0)
    rec, out = w.layers
    assert rec.recurrent and rec.recurrent_gemm == (1, 24, 24) and rec.gemm == (1, 12, 24)
    planned = make_dataflow(load_platform("ddr4-baseline"), w).plan()[0]  # the dataflows tile it per timestep
    assert planned.tiles and all(t.t_first == t.t_last for t in planned.tiles)
    T, K, N = w.timesteps, 12, 24
    model = FunctionalModel(w, membrane_bits=16, accumulator_bits=16)
    # per timestep: the feed-forward reduction in one tile, the recurrent one (k = K..K+N) in two more
    regions = []
    for t in range(T):
        regions += [("gemm", t, t + 1, 0, N, 0, 1, 0, K, False), ("gemm", t, t + 1, 0, N, 0, 1, K, K + 10, False),
                    ("gemm", t, t + 1, 0, N, 0, 1, K + 10, K + N, True)]
    for tile in _plan(rec, regions).tiles:
        model.execute(_plan(rec, []), tile)
    for t in range(T):
        model.execute(_plan(out, []), _plan(out, [("gemm", t, t + 1, 0, 7, 0, 1, 0, N, True)]).tiles[0])
    assert model.check().startswith("verify: all 2 layers bit-exact")
    ref = reference(model.q, model.inputs, T, accumulator_bits=16)
    assert ref[0].any() and ref[0][1:].sum() > 0  # it spikes, so the recurrence is exercised
    # spikex-style: one tile over all timesteps cannot have the spikes of t - 1: caught, naming the file
    model = FunctionalModel(w, membrane_bits=16, accumulator_bits=16)
    with pytest.raises(VerificationError, match=rf"^{w.path}: layer 'fc_in': tile 0 reads the recurrent spikes of "
                                                r"timestep 0 before output 0, pixel 0 of that timestep was computed"):
        model.execute(_plan(rec, []), _plan(rec, [("gemm", 0, T, 0, N, 0, 1, 0, K + N, True)]).tiles[0])


def test_the_recurrent_reference_is_the_float_network_in_fixed_point():
    from tlmsim.snn.refsim import simulate_graph

    w = load_workload(NIR_DATA / "hand" / "rsnn_braille.nir", seed=0)
    q = quantize(w.graph, w.layers, weight_bits=12, membrane_bits=24, dt=w.dt)
    ref = reference(q, {0: w.spikes["fc_in"].astype(np.int64)}, w.timesteps, accumulator_bits=32)
    fl = simulate_graph(w.graph, w.spikes["fc_in"].astype(float)[:, None]).outputs
    assert (ref[0].astype(bool) == fl["lif1"][:, 0]).mean() > 0.9
    assert np.array_equal(w.spikes["fc_in.recurrent"][1:], fl["lif1"][:-1, 0])


def test_an_identity_layer_verifies_with_pool_style_regions():
    w = load_workload(NIR_DATA / "hand" / "input_lif.nir", seed=0)
    ident, fc = w.layers
    assert (ident.op, ident.neuron, fc.neuron) == ("identity", "lif", "cuba_li")
    model = FunctionalModel(w, membrane_bits=16, accumulator_bits=16)
    for t in range(w.timesteps):
        for g0 in (0, 8):
            model.execute(_plan(ident, []), _plan(ident, [("identity", t, g0, 8)]).tiles[0])
        model.execute(_plan(fc, []), _plan(fc, [("gemm", t, t + 1, 0, 5, 0, 1, 0, 16, True)]).tiles[0])
    assert model.check().startswith("verify: all 2 layers bit-exact")


def test_verify_errors_name_the_file(digits):
    model, plans = _model_and_plans(digits)
    with pytest.raises(VerificationError) as e:
        model.execute(plans[0], plans[0].tiles[1])
    assert str(e.value).startswith(digits.path + ": layer 'conv1'")
    assert digits.path.endswith("digits-snn.yaml")


def test_the_summary_counts_every_value_and_every_computed_tile(digits):
    # every tile of every plan is executed once; the values are every layer's (T, *out_shape) image
    model, plans = _model_and_plans(digits)
    for plan in plans:
        for tile in plan.tiles:
            model.execute(plan, tile)
    tiles = sum(len(p.tiles) for p in plans)
    values = sum(digits.timesteps * layer.out_neurons for layer in digits.layers)
    assert model.tiles == tiles
    assert model.check() == (f"verify: all {len(digits.layers)} layers bit-exact against the fixed-point reference "
                             f"({values} values over {digits.timesteps} timesteps, {tiles} tiles computed)")
