"""The shipped digits SNN: the reference simulator on the exported NIR graph matches
the trained model (no training, no scikit-learn needed: the held-out inputs are the
first layer's spikes in the shipped trace, the labels are in the JSON)."""

import json

import numpy as np

from tlmsim.resources import package_dir
from tlmsim.snn.graph import load_nir
from tlmsim.snn.refsim import predict, simulate_graph
from tlmsim.workload import load_workload, read_spike_file

D = package_dir("workloads")


def test_reference_accuracy_matches_the_trained_model():
    meta = json.loads((D / "digits_snn.json").read_text())
    spikes, samples = read_spike_file(D / "digits_snn_trace.npz")
    assert samples == len(meta["test_labels"]) == 360
    graph = load_nir(D / "digits_snn.nir")
    x = np.moveaxis(spikes["conv1"], 0, 1).astype(np.float64)  # (T, N, 1, 8, 8)
    pred = predict(simulate_graph(graph, x, record="spikes"))
    acc = float((pred == np.array(meta["test_labels"])).mean())
    assert acc >= 0.90
    assert abs(acc - meta["trained_accuracy"]) <= 0.01
    assert (pred == np.array(meta["predictions"])).mean() >= 0.99


def test_the_default_workload_is_the_trained_snn_with_recorded_spikes():
    w = load_workload(None, seed=0)
    assert w.name == "digits-snn" and w.spike_source.startswith("recorded")
    assert [l.name for l in w.layers] == ["conv1", "pool1", "flatten", "fc1", "fc2"]
    assert [l.neuron for l in w.layers] == ["lif", None, None, "lif", "lif"]
    assert w.spikes["conv1"].shape == (16, 1, 8, 8)
