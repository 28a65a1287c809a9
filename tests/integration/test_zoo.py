"""Every shipped workload validates and runs end to end on the default platform."""

import pandas as pd
import pytest

from tlmsim.cli import main
from tlmsim.resources import shipped
from tlmsim.workload import load_workload

WORKLOADS = sorted(shipped("workloads"))
# The zoo test runs each workload on the platform's own dataflow (dense-ws), except
# ResNet19, the largest, which runs spikex: 17 CPU s instead of 63 on an idle 2-core
# machine (the whole suite's slowest test was this one). dense-ws is run end to end on
# every other workload here and on the golden probes.
DATAFLOW = {"resnet19-cifar10": "spikex"}


def test_the_zoo_is_shipped():
    assert {"digits-conv", "vgg9-cifar10", "vgg16-cifar10", "alexnet-cifar10", "lenet5-mnist"} <= set(WORKLOADS)


@pytest.mark.parametrize("name", WORKLOADS)
def test_workload_runs_end_to_end(name, tmp_path):
    assert main(["validate", str(shipped("workloads")[name])]) == 0
    extra = ["--dataflow", DATAFLOW[name]] if name in DATAFLOW else []
    assert main(["run", "ddr4-baseline", name, "--out", str(tmp_path), *extra]) == 0
    s = pd.read_csv(tmp_path / "summary.csv")
    layers = pd.read_csv(tmp_path / "layers.csv")
    w = load_workload(name, seed=0)
    assert len(layers) == len(w.layers)
    assert s.loc[0, "latency_cycles"] >= layers["compute_cycles"].sum() > 0
    assert s.loc[0, "dram_bytes"] > 0
    if w.synthetic:
        assert s.loc[0, "spikes"].startswith("synthetic")


@pytest.mark.parametrize("name", ["vgg9-cifar10", "vgg16-cifar10", "lenet5-mnist"])
def test_synthetic_spikes_follow_the_published_densities(name):
    w = load_workload(name, seed=3)
    for layer in w.layers:
        spikes = w.spikes[layer.name]
        assert abs(spikes.mean() - layer.firing_rate) < 0.02 + 0.05 * layer.firing_rate, layer.name
