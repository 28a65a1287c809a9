"""The shipped recurrent digits SNN: the reference simulator on the exported NIR graph
matches the trained model (no training, no scikit-learn: the held-out inputs are the
first layer's spikes in the shipped trace, the labels and the trained model's
predictions are in the JSON), and the workload carries its recurrent synapse."""

import json

import numpy as np

from tlmsim.cli import main
from tlmsim.resources import package_dir, shipped
from tlmsim.snn.graph import load_nir
from tlmsim.snn.refsim import predict, simulate_graph
from tlmsim.workload import load_workload, read_spike_file, shift_one_step

D = package_dir("workloads")


def test_reference_accuracy_matches_the_trained_model():
    meta = json.loads((D / "digits_rsnn.json").read_text())
    spikes, samples = read_spike_file(D / "digits_rsnn_trace.npz")
    assert samples == len(meta["test_labels"]) == 360
    graph = load_nir(D / "digits_rsnn.nir")
    assert graph.recurrent and graph.dt == 1.0 and not graph.notes
    x = np.moveaxis(spikes["fc_in"], 0, 1).astype(np.float64)  # (T, N, 24)
    result = simulate_graph(graph, x)
    pred = predict(result, "li")
    acc = float((pred == np.array(meta["test_labels"])).mean())
    assert acc >= 0.85
    assert abs(acc - meta["trained_accuracy"]) <= 0.01 and acc == meta["reference_accuracy"]
    assert (pred == np.array(meta["predictions"])).mean() >= 0.99
    # the trace's recurrent synapse input is the hidden layer's output, one timestep late
    hidden = np.moveaxis(result.outputs["lif"], 1, 0)  # (N, T, 64)
    assert np.array_equal(spikes["fc_in.recurrent"], np.stack([shift_one_step(h) for h in hidden]))
    assert np.array_equal(spikes["fc_out"], hidden)


def test_the_workload_is_listed_recurrent_and_runs(tmp_path, capsys):
    assert "digits-rsnn" in shipped("workloads") and "digits_rsnn" in shipped("workloads")
    w = load_workload("digits-rsnn", seed=0)
    assert [(l.name, l.op, l.neuron, l.recurrent) for l in w.layers] == [
        ("fc_in", "linear", "lif", True), ("fc_out", "linear", "li", False)]
    assert w.spikes["fc_in.recurrent"].shape == (8, 64) and not w.spikes["fc_in.recurrent"][0].any()
    assert main(["workloads", "list"]) == 0
    assert "digits-rsnn" in capsys.readouterr().out
    assert main(["run", "digits-rsnn", "--verify", "--out", str(tmp_path)]) == 0
    assert "bit-exact" in capsys.readouterr().out
