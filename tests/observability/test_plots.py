"""Per-layer roofline and latency-by-cause plots, from a run's tables and from its CSVs."""

from __future__ import annotations

import pandas as pd
import pytest

from tlmsim.cli import main
from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.plots import (
    dominant_cause,
    latency_by_cause,
    peak_ops_per_cycle,
    roofline_points,
)
from tlmsim.report import build_report
from tlmsim.workload import load_workload


@pytest.fixture(scope="module")
def report():
    return build_report(simulate(load_platform(None, ["noc.link_width_bytes=1"]), load_workload("digits-snn")))


def test_causes_add_up_to_each_layers_latency(report):
    layers = report.layers
    by = latency_by_cause(layers)
    assert list(by.columns[:1]) == ["compute"] and by.columns[-1] == "other"
    assert (by >= 0).all().all()
    pd.testing.assert_series_equal(by.sum(axis=1), layers["latency_cycles"].astype(float), check_names=False)
    assert by["waiting_for_operands"].sum() > 0  # the starved NoC shows as operand waits


def test_hand_computed_breakdown_and_roofline_point():
    layers = pd.DataFrame({
        "layer": [0, 1], "name": ["a", "b"], "latency_cycles": [100.0, 50.0], "compute_cycles": [30, 40],
        "pe_stall_waiting_for_operands_cycles": [60.0, 0.0], "pe_stall_l1_bandwidth_cycles": [0.0, 5.0],
        "pe_stall_waiting_for_output_buffer_cycles": [0.0, 0.0], "acc_ops": [1200, 8000],
        "pe_utilization": [1200 / (4 * 100), 8000 / (4 * 50)], "dram_read_bytes": [600, 0], "dram_write_bytes": [0, 0],
    })
    by = latency_by_cause(layers)
    assert by.loc[0].tolist() == [30.0, 60.0, 0.0, 0.0, 10.0]
    assert by.loc[1].tolist() == [40.0, 0.0, 5.0, 0.0, 5.0]
    assert dominant_cause(by).tolist() == ["waiting_for_operands", "compute"]
    assert peak_ops_per_cycle(layers) == 4.0
    summary = pd.DataFrame([{"clock_mhz": 500.0, "dram_peak_gb_per_s": 25.6, "workload": "w", "platform": "p"}])
    pts = roofline_points(summary, layers)
    assert pts.loc[0, "intensity"] == 2.0  # 1200 ops / 600 B
    assert pts.loc[0, "ops_per_s"] == pytest.approx(1200 / (100 / 500e6))  # 6e9 ops/s
    assert pd.isna(pts.loc[1, "intensity"])  # no DRAM traffic: not on the plot


def test_run_plots_and_plot_command(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "digits-snn", "--out", str(out), "--plots", "--perfetto", str(out / "t.pftrace")]) == 0
    for f in ("roofline.png", "latency_breakdown.png", "energy_breakdown.png", "t.pftrace"):
        assert (out / f).stat().st_size > 1000
    first = (out / "roofline.png").read_bytes()
    (out / "roofline.png").unlink()
    assert main(["plot", str(out)]) == 0
    assert (out / "roofline.png").read_bytes() == first  # same tables, same picture
    # a run written before layers.csv had energy columns: no energy plot, the others still drawn
    layers = pd.read_csv(out / "layers.csv")
    layers.drop(columns=[c for c in layers.columns if c.startswith("energy_")]).to_csv(out / "layers.csv", index=False)
    (out / "energy_breakdown.png").unlink()
    assert main(["plot", str(out)]) == 0
    assert not (out / "energy_breakdown.png").exists() and (out / "roofline.png").is_file()


def test_plot_of_a_directory_that_is_not_a_run(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "summary.csv" in err[0] and "not found" in err[0]
    (tmp_path / "summary.csv").write_text("a,b\n1,2\n")
    (tmp_path / "layers.csv").write_text("a,b\n1,2\n")
    assert main(["plot", str(tmp_path)]) == 2
    assert "column 'clock_mhz' missing" in capsys.readouterr().err


def test_compare_writes_plots_per_platform(tmp_path):
    assert main(["compare", "ddr4-baseline", "edge-lpddr4", "--workload", "digits-snn", "--out", str(tmp_path)]) == 0
    for p in ("ddr4-baseline", "edge-lpddr4"):
        assert (tmp_path / f"{p}_roofline.png").is_file()
        assert (tmp_path / f"{p}_latency_breakdown.png").is_file()
        assert (tmp_path / f"{p}_energy_breakdown.png").is_file()
