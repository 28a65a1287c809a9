"""Encoders, and NIR graphs through the CLI with no project-specific metadata."""

import nir
import numpy as np
import pandas as pd
import pytest

from tlmsim.cli import main
from tlmsim.errors import ConfigError
from tlmsim.snn.encoding import direct, encode, rate, ttfs


def test_rate_is_seeded_bernoulli():
    x = np.array([0.0, 0.25, 1.0, 1.7])
    a = rate(x, 4000, np.random.default_rng(3))
    assert a.shape == (4000, 4) and a.dtype == bool
    assert a[:, 0].sum() == 0 and a[:, 2].all() and a[:, 3].all()  # clipped to [0, 1]
    assert abs(a[:, 1].mean() - 0.25) < 0.02
    assert (encode("rate", x, 50, seed=9) == encode("rate", x, 50, seed=9)).all()
    assert (encode("rate", x, 50, seed=9) != encode("rate", x, 50, seed=10)).any()


def test_ttfs_fires_once_earlier_for_larger_values():
    # T = 5: t = round((1 - x) * 4): x = 1 -> 0, 0.5 -> 2, 0.25 -> 3, 0 -> never
    s = ttfs(np.array([1.0, 0.5, 0.25, 0.0]), 5)
    assert [np.flatnonzero(s[:, i]).tolist() for i in range(4)] == [[0], [2], [3], []]


def test_direct_repeats_the_analog_value_and_unknown_names_are_refused():
    assert direct(np.array([0.3, 0.9]), 3).tolist() == [[0.3, 0.9]] * 3
    with pytest.raises(ConfigError, match="unknown encoding .*allowed: rate, ttfs, direct"):
        encode("poisson2", np.zeros(2), 3)


def two_layer_graph():
    """Input -> Affine -> LIF -> Affine -> LIF -> Output, built with nir alone."""
    rng = np.random.default_rng(1)
    lif = lambda n: nir.LIF(tau=np.full(n, 5.0), r=np.full(n, 5.0), v_leak=np.zeros(n),  # noqa: E731
                            v_threshold=np.ones(n))
    return nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([20])}),
               "fc1": nir.Affine(weight=rng.normal(0, 0.5, (16, 20)), bias=np.zeros(16)),
               "lif1": lif(16),
               "fc2": nir.Affine(weight=rng.normal(0, 0.5, (4, 16)), bias=np.zeros(4)),
               "lif2": lif(4),
               "output": nir.Output(output_type={"output": np.array([4])})},
        edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")],
    )


def test_a_hand_built_nir_graph_runs_through_tlmsim_run(tmp_path, capsys):
    path = tmp_path / "mlp.nir"
    nir.write(str(path), two_layer_graph())
    out = tmp_path / "r"
    assert main(["run", str(path), "--out", str(out)]) == 0
    layers = pd.read_csv(out / "layers.csv")
    assert layers["name"].tolist() == ["fc1", "fc2"]
    summary = pd.read_csv(out / "summary.csv")
    assert "reference simulation of mlp.nir" in summary.loc[0, "spikes"]
    assert main(["validate", str(path)]) == 0


def test_record_then_show_then_run_from_a_workload_yaml(tmp_path, capsys):
    path = tmp_path / "mlp.nir"
    nir.write(str(path), two_layer_graph())
    trace = tmp_path / "t.npz"
    assert main(["workloads", "record", str(path), "--samples", "3", "--timesteps", "6", "--out", str(trace)]) == 0
    assert main(["workloads", "show", str(trace)]) == 0
    assert "3 samples" in capsys.readouterr().out
    wl = tmp_path / "w.yaml"
    wl.write_text("name: mlp\ntimesteps: 6\nnir: mlp.nir\nspikes: t.npz\nsample: 2\n")
    assert main(["run", str(wl), "--out", str(tmp_path / "o")]) == 0
    s = pd.read_csv(tmp_path / "o" / "summary.csv")
    assert s.loc[0, "spikes"] == "recorded (t.npz, sample 2)"
    wl.write_text("name: mlp\ntimesteps: 6\nnir: mlp.nir\nspikes: t.npz\nsample: 3\n")
    assert main(["run", str(wl), "--out", str(tmp_path / "o2")]) == 2
    assert "sample: the trace holds 3 samples (got 3); allowed: 0..2" in capsys.readouterr().err


def test_magnitude_pruning_sets_the_weight_sparsity_and_changes_the_spikes(tmp_path):
    from tlmsim.snn.graph import load_nir, magnitude_prune
    from tlmsim.workload import load_workload

    path = tmp_path / "mlp.nir"
    nir.write(str(path), two_layer_graph())
    g = magnitude_prune(load_nir(path), 0.75)
    w = g["fc1"].params["weight"]
    assert (w == 0).sum() == int(0.75 * w.size) == 240
    # the survivors are the largest magnitudes
    orig = load_nir(path)["fc1"].params["weight"]
    assert np.abs(orig[w != 0]).min() >= np.abs(orig[w == 0]).max()
    wl = tmp_path / "w.yaml"
    wl.write_text("name: mlp\ntimesteps: 6\nnir: mlp.nir\nprune: 0.75\n")
    pruned = load_workload(wl, seed=0)
    assert [l.weight_sparsity for l in pruned.layers] == [0.75, 0.75]
    wl2 = tmp_path / "w2.yaml"
    wl2.write_text("name: mlp\ntimesteps: 6\nnir: mlp.nir\n")
    dense = load_workload(wl2, seed=0)
    assert dense.layers[0].weight_sparsity == 0.0
    assert any((pruned.spikes[k] != dense.spikes[k]).any() for k in ("fc2",))
