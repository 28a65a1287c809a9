"""Per-layer energy in layers.csv: by component and action, adding up exactly to energy.csv."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tlmsim.engine.attribution import LayerCounters
from tlmsim.soc.run import simulate
from tlmsim.engine.transaction import Cmd, DataClass, Transaction
from tlmsim.platform import load_platform
from tlmsim.plots import energy_by_component, energy_components
from tlmsim.report import _exact_parts, build_report, write_tables
from tlmsim.workload import load_workload


def _run(platform=None, overrides=(), workload="digits-snn"):
    result = simulate(load_platform(platform, list(overrides)), load_workload(workload, seed=0))
    return result, build_report(result)


@pytest.fixture(scope="module")
def digits():
    return _run()


@pytest.mark.parametrize("platform,overrides", [
    (None, ()),
    ("edge-lpddr4", ("dataflow.name=spikex",)),
    ("hbm2-server", ("dataflow.name=event",)),
    (None, ("noc.link_width_bytes=1", "dataflow.name=dense-os")),
])
def test_layer_energy_adds_up_exactly_to_energy_csv(tmp_path, platform, overrides):
    result, report = _run(platform, overrides)
    write_tables(report.tables(), tmp_path, parquet=False)
    layers = pd.read_csv(tmp_path / "layers.csv")
    energy = pd.read_csv(tmp_path / "energy.csv")
    assert len(energy) > 10
    for _, e in energy.iterrows():
        col = layers[f"energy_{e['component']}_{e['action']}_pj"]
        # bit for bit: math.fsum (the exactly rounded sum) of the column read back from the CSV
        assert math.fsum(col) == e["energy_pj"], (e["component"], e["action"])
        assert (col >= 0).all()
    # the per-component and per-layer totals are the sums of their parts
    for comp in energy["component"].unique():
        actions = energy.loc[energy["component"] == comp, "action"]
        if len(actions):
            parts = layers[[f"energy_{comp}_{a}_pj" for a in actions]]
            assert layers[f"energy_{comp}_pj"].tolist() == [math.fsum(r) for r in parts.itertuples(index=False)]
    assert math.fsum(layers["energy_pj"]) == pytest.approx(report.summary["energy_pj"].iloc[0], rel=1e-12)


def test_time_based_energy_follows_the_layers_time_spans(digits):
    result, report = digits
    layers = report.layers
    period = result.clock_period_ps
    starts = layers["start_cycle"].tolist()
    # a layer owns the time from its start to the next layer's start (the last: to the end)
    spans_ps = [(b - a) * period for a, b in zip(starts, starts[1:] + [result.end_ps / period])]
    assert sum(spans_ps) == result.end_ps
    glb = result.components["glb"]
    pes = result.platform.pe_array.rows * result.platform.pe_array.cols
    for i, span in enumerate(spans_ps):
        # leakage = mW x ps x 1e-3 (pJ), hand-computed per span
        assert layers["energy_glb_leakage_pj"].iloc[i] == pytest.approx(glb.leakage_mw * span * 1e-3, rel=1e-12,
                                                                          abs=1e-9)
        assert layers["energy_pe_array_leakage_pj"].iloc[i] == pytest.approx(
            result.components["pe_array"].energy.leakage_mw_per_pe * pes * span * 1e-3, rel=1e-12, abs=1e-9)
    # refreshes come every tREFI whatever the traffic: split by time like the background
    refresh = result.components["dram"].energy_pj()["refresh"]
    assert refresh > 0
    for i, span in enumerate(spans_ps):
        assert layers["energy_dram_refresh_pj"].iloc[i] == pytest.approx(refresh * span / result.end_ps, rel=1e-12,
                                                                          abs=1e-9)
    zero = layers[layers["latency_cycles"] == 0]  # flatten: no time, no work, no energy
    assert len(zero) == 1 and (zero.filter(like="energy_").to_numpy() == 0).all()


def test_dynamic_energy_follows_each_layers_own_work(digits):
    result, report = digits
    layers = report.layers
    pe = result.components["pe_array"]
    add = pe.energy.add_pj(result.platform.pe_array.accumulator_bits)
    # the PE array counts when it computes a tile: each layer's accumulates, exactly its acc_ops
    for ops, e in zip(layers["acc_ops"], layers["energy_pe_array_accumulate_pj"]):
        assert e == pytest.approx(ops * add, rel=1e-12)
    # every SRAM line read and NoC bit-hop of a layer goes with it: no traffic, no dynamic energy
    for _, row in layers.iterrows():
        moved = sum(row[c] for c in layers.columns if c.startswith("glb_") and c.endswith("_bytes"))
        assert (row["energy_noc_router_pj"] > 0) == (moved > 0 or row["l1_spikes_bytes"] + row["l1_weights_bytes"] > 0)
        assert (row["energy_dram_read_pj"] > 0) == (row["dram_read_bytes"] > 0)


def test_the_attribution_rule_by_hand():
    """Counters added between two hops go with the later hop's layer; a hop of no layer
    with the layer seen before; counts after the last hop with the last hop's layer."""

    class Comp:
        def __init__(self):
            self.stats = type("S", (), {})()
            self.stats.c = {"a": 0, "b": 0}

    x, y = Comp(), Comp()
    lc = LayerCounters()
    lc.attach(components={"x": x, "y": y})

    def hop(comp, name, layer):
        lc.hop(Transaction(0, Cmd.READ, DataClass.WEIGHTS, 0, 8, "dram", "noc", layer, 0), name, 0, 1, 0, 0)

    x.stats.c["a"] += 3
    hop(x, "x", 0)
    x.stats.c["a"] += 2
    x.stats.c["b"] += 5
    hop(x, "x", 1)
    y.stats.c["b"] += 7
    hop(y, "y", -1)  # no layer: the layer of the hop before (1)
    x.stats.c["a"] += 1
    hop(x, "x", 1)
    x.stats.c["b"] += 4  # after x's last hop (finalize): with layer 1
    assert lc.by_layer("x", 9) == {0: {"a": 3, "b": 0}, 1: {"a": 3, "b": 9}}
    assert lc.by_layer("y", 9) == {1: {"a": 0, "b": 7}}
    z = Comp()
    z.stats.c["a"] = 2
    lc2 = LayerCounters()
    z2 = Comp()
    lc2.attach(components={"z": z2})
    z2.stats.c["a"] = 2  # counted, never a hop: with the run's last layer
    assert lc2.by_layer("z", 4) == {4: {"a": 2, "b": 0}}


def test_exact_parts_moves_the_largest_part_by_an_ulp():
    assert math.fsum([0.1, 0.2]) != 0.3
    parts = _exact_parts([0.1, 0.2], 0.3)
    assert math.fsum(parts) == 0.3 and parts == [0.1, math.nextafter(0.2, 0)]
    assert _exact_parts([0.0, 5.0, 0.0], 5.0) == [0.0, 5.0, 0.0]
    # the largest part cannot land (its last place is too coarse): a smaller one does
    parts = _exact_parts([11225.088, 0.0, 0.0, 359202.816, 19643.904], 390071.808)
    assert math.fsum(parts) == 390071.808 and parts[1] == parts[2] == 0.0


def test_energy_plot_stacks_components_to_each_layers_energy(digits, tmp_path):
    _, report = digits
    layers = report.layers
    assert energy_components(layers) == ["dram", "noc", "glb", "l1", "pe_array"]
    by = energy_by_component(layers)
    assert by.sum(axis=1).tolist() == pytest.approx(layers["energy_pj"].tolist(), rel=1e-12)
    assert by.loc[3, "dram"] == layers.loc[3, "energy_dram_pj"]
