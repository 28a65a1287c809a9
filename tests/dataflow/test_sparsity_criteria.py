"""The sparse dataflows' cost follows the spikes (issue 12): silent work moves no
weight and takes no cycle, skipping pays off on real traces, and the event engine is
bound by its datapath."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.report import build_report
from tlmsim.workload import load_workload, synthetic_spikes

LAYER = Path(__file__).parents[2] / "tools" / "workloads" / "vgg16-conv-512x4x4.yaml"


def _at_density(workload, density: float):
    layers = [dataclasses.replace(l, firing_rate=density) for l in workload.layers]
    rng = np.random.default_rng(0)
    return dataclasses.replace(workload, layers=layers,
                               spikes={l.name: synthetic_spikes(l, workload.timesteps, rng) for l in layers})


def _plans(workload, *sets):
    df = make_dataflow(load_platform("ddr4-baseline", list(sets)), workload)
    return df, df.plan()


def _weights(plans) -> int:
    return sum(m.nbytes for p in plans for t in p.tiles for m in t.loads if m.data_class.name == "WEIGHTS")


@pytest.fixture(scope="module")
def layer():
    return load_workload(LAYER, seed=0)


@pytest.mark.parametrize("name", ["spikex", "ptb", "event"])
def test_silent_inputs_move_no_weight_and_take_no_array_cycle(layer, name):
    df, plans = _plans(_at_density(layer, 0.0), f"dataflow.name={name}")
    assert _weights(plans) == 0
    for t in (t for p in plans for t in p.tiles):
        # what is left: the tag lookups that find the silence, and the neuron update (the leak)
        assert t.compute_cycles == t.neuron_cycles + df.tag_cycles(t.tag_bits)
    _, busy = _plans(_at_density(layer, 0.3), f"dataflow.name={name}")
    assert _weights(busy) > 0


def test_spikex_weight_bytes_follow_the_active_rows(layer):
    # a presynaptic row moves its weights only when it carries a spike somewhere in the tile's chunk
    w = _at_density(layer, 0.01)
    df, plans = _plans(w, "dataflow.name=spikex")
    from tlmsim.dataflow.activity import im2col

    lay = w.layers[0]
    x = im2col(lay, w.spikes[lay.name])
    active_rows = int(x.any(axis=(0, 1)).sum())  # the chunk is the whole 4 x 4 output: one chunk
    assert plans[0].tiling.endswith(f"m={lay.gemm[0]}, folds/tile={df.chosen[0].split('=')[-1]}")
    assert _weights(plans) == active_rows * lay.gemm[2]


@pytest.mark.parametrize("wl", ["digits-snn", "vgg9-cifar10"])
def test_spikex_skipping_lowers_edp_by_a_third_at_least(wl):
    w = load_workload(wl, seed=0)

    def edp(*sets):
        rep = build_report(simulate(load_platform("ddr4-baseline", ["dataflow.name=spikex", *sets]), w))
        return float(rep.summary.iloc[0]["edp_pj_ns"])

    assert edp("dataflow.zero_skip=false") >= 1.3 * edp()


def _ones(workload):
    return dataclasses.replace(workload, spikes={l.name: np.ones((workload.timesteps,) + l.in_shape, dtype=bool)
                                                 for l in workload.layers})


@pytest.mark.parametrize("wl", ["digits-snn", "vgg9-cifar10", str(LAYER)])
def test_event_at_full_density_is_not_faster_than_the_best_dense_dataflow(wl):
    w = _ones(load_workload(wl, seed=0))
    T = w.timesteps

    def cycles(*sets):
        return sum(t.compute_cycles for p in _plans(w, *sets)[1] for t in p.tiles)

    dense = [cycles("dataflow.name=dense-ws"), cycles("dataflow.name=dense-ws", f"dataflow.time_window={T}"),
             cycles("dataflow.name=dense-os"), cycles("dataflow.name=dense-is")]
    assert cycles("dataflow.name=event") >= min(dense)


def test_event_at_full_density_is_slower_than_dense_ws_with_overlap_on_the_vgg16_layer(layer):
    w = _at_density(layer, 1.0)

    def latency(name):
        return build_report(simulate(load_platform("ddr4-baseline", [f"dataflow.name={name}"]), w)).summary.iloc[0][
            "latency_ns"]

    assert latency("event") > latency("dense-ws")
