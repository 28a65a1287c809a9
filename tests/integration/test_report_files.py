"""The CSV files hold every number exactly, and per-layer figures add up to the summary."""

import csv
import io
import math

import pandas as pd
import pytest

from tlmsim.cli import main
from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.report import build_report, write_tables
from tlmsim.workload import load_workload


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """VGG9 on ddr4-baseline: the run, and its CSVs written as ``tlmsim run`` writes them
    (:func:`write_tables` of its report's tables; its latency, about 2.9 M cycles, was written
    as 2.95469e+06 when the CSVs had 6 significant digits). One run serves both tests: the
    CSVs are read back against the report they were written from (the test ran VGG9 twice,
    through the CLI and again in-process, about a tenth of the suite's time)."""
    out = tmp_path_factory.mktemp("vgg9")
    r = simulate(load_platform("ddr4-baseline"), load_workload("vgg9-cifar10", seed=0))
    report = build_report(r)
    write_tables(report.tables(), out)
    return out, r, report


@pytest.fixture(scope="module")
def vgg9(run):
    return run[0]


def test_the_cli_writes_the_tables_of_its_report(tmp_path):
    # `tlmsim run` writes its report with write_tables (checked on a small run: the same files, byte for byte)
    assert main(["run", "ddr4-baseline", "digits-snn", "--out", str(tmp_path / "cli"), "-q"]) == 0
    report = build_report(simulate(load_platform("ddr4-baseline"), load_workload("digits-snn", seed=0)))
    written = write_tables(report.tables(), tmp_path / "api")
    assert written and sorted(p.name for p in (tmp_path / "cli").iterdir()) == sorted(p.name for p in written)
    for p in written:
        assert (tmp_path / "cli" / p.name).read_bytes() == p.read_bytes(), p.name


def test_csv_numbers_are_exact_integers_as_integers(run):
    vgg9, r, report = run
    text = (vgg9 / "summary.csv").read_text()
    s = pd.read_csv(vgg9 / "summary.csv")
    # the values read back are those of the run, to the last bit
    summary = report.summary.iloc[0]
    for col in ("latency_cycles", "latency_ns", "energy_pj", "edp_pj_ns", "pe_utilization", "dram_bytes"):
        assert s.loc[0, col] == summary[col], col
    assert s.loc[0, "latency_cycles"] == r.end_ps / r.clock_period_ps
    # integer columns are written as integers; whole floats too (no ".0")
    header, values = csv.reader(io.StringIO(text))
    row = dict(zip(header, values))
    assert row["dram_bytes"] == str(int(summary["dram_bytes"])) and row["compute_cycles"].isdigit()
    assert row["clock_mhz"] == "500" and "e" not in row["latency_cycles"] and len(row["latency_cycles"]) > 7


def test_layers_add_up_to_the_summary_exactly(vgg9):
    s = pd.read_csv(vgg9 / "summary.csv").iloc[0]
    layers = pd.read_csv(vgg9 / "layers.csv")
    period_ps = 1e6 / s["clock_mhz"]
    # the layers run back to back from 0 to the end of the run, and the CSV says so exactly
    assert layers["start_cycle"].iloc[0] == 0
    assert (layers["start_cycle"].iloc[1:].to_numpy() == layers["end_cycle"].iloc[:-1].to_numpy()).all()
    assert layers["end_cycle"].iloc[-1] == s["latency_cycles"]
    for start, end, lat in zip(layers["start_cycle"], layers["end_cycle"], layers["latency_cycles"]):
        assert round((end - start) * period_ps) == round(lat * period_ps)
    # in picoseconds (integers), the layer latencies sum to the run's latency exactly
    ps = [round(c * period_ps) for c in layers["latency_cycles"]]
    assert sum(ps) == round(s["latency_cycles"] * period_ps) == round(s["latency_ns"] * 1000)
    # DRAM bytes per layer sum to the DRAM's
    assert layers["dram_read_bytes"].sum() == s["dram_read_bytes"]
    assert layers["dram_write_bytes"].sum() == s["dram_write_bytes"]
    cls = [c for c in layers.columns if c.startswith("dram_") and c.endswith("_bytes")
           and c not in ("dram_read_bytes", "dram_write_bytes")]
    assert layers[cls].to_numpy().sum() == s["dram_bytes"]
    # and energy: the components' energies sum to the summary's (energy.csv rows, too)
    comps = pd.read_csv(vgg9 / "components.csv")
    energy = pd.read_csv(vgg9 / "energy.csv")
    assert math.fsum(comps["energy_pj"]) == pytest.approx(s["energy_pj"], rel=1e-12)
    assert math.fsum(energy["energy_pj"]) == pytest.approx(s["energy_pj"], rel=1e-12)
