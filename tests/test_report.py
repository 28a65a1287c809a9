"""Report tables (tlmsim/report.py): every per-layer column adds up to the run's
totals, every per-component breakdown adds up to its total, the derived columns follow
their definitions, and the console summary says what summary.csv says."""

import re
from pathlib import Path

import pandas as pd
import pytest

from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.report import build_report, console_summary, write_tables
from tlmsim.workload import load_workload

RESIDUAL = Path(__file__).parent / "golden" / "workloads" / "residual.yaml"
CLASSES = ("weights", "spikes", "membrane", "out_spikes", "psum")

RUNS = {
    "digits-spikex": ("ddr4-baseline", "digits-snn", ["dataflow.name=spikex"]),
    "digits-dense-os": ("edge-lpddr4", "digits-snn", ["dataflow.name=dense-os"]),
    # a downsampling shortcut without a neuron: its partial sums move as psum
    "residual-ws": ("edge-lpddr4", str(RESIDUAL), ["dataflow.name=dense-ws", "dataflow.time_window=4"]),
    "residual-event": ("ddr4-baseline", str(RESIDUAL), ["dataflow.name=event"]),
}


@pytest.fixture(scope="module", params=list(RUNS))
def run(request):
    platform, workload, overrides = RUNS[request.param]
    result = simulate(load_platform(platform, overrides), load_workload(workload, seed=0), seed=0)
    return result, build_report(result)


def test_per_layer_traffic_and_work_add_up_to_the_summary(run):
    result, rep = run
    s, layers = rep.summary.iloc[0], rep.layers
    assert layers["dram_read_bytes"].sum() == s["dram_read_bytes"]
    assert layers["dram_write_bytes"].sum() == s["dram_write_bytes"]
    assert s["dram_bytes"] == s["dram_read_bytes"] + s["dram_write_bytes"]
    assert layers["compute_cycles"].sum() == s["compute_cycles"]
    pe = result.platform.pe_array
    acc = result.components["pe_array"].stats.c["acc_ops"]
    assert layers["acc_ops"].sum() == acc
    assert s["pe_utilization"] == acc / (pe.rows * pe.cols * s["latency_cycles"])
    assert layers["end_cycle"].max() == s["latency_cycles"]
    assert layers["neuron_updates"].sum() == result.components["pe_array"].stats.c["neuron_updates"]
    assert layers["tiles"].sum() == result.components["pe_array"].stats.c["tiles"]


def test_per_layer_columns_by_data_class_add_up_to_the_layer_and_component_totals(run):
    _, rep = run
    layers, comp = rep.layers, rep.components.set_index("component")
    by_class = layers[[f"dram_{c}_bytes" for c in CLASSES]].sum(axis=1)
    assert (by_class == layers["dram_read_bytes"] + layers["dram_write_bytes"]).all()
    glb = sum(layers[f"glb_{c}_bytes"].sum() for c in CLASSES)
    assert glb == comp.loc["glb", "read_bytes"] + comp.loc["glb", "write_bytes"]
    dram = sum(layers[f"dram_{c}_bytes"].sum() for c in CLASSES)
    assert dram == comp.loc["dram", "read_bytes"] + comp.loc["dram", "write_bytes"]
    # per layer: ops skipped and stall cycles by definition
    assert (layers["ops_skipped"] == layers["dense_ops"] - layers["acc_ops"]).all()
    assert (layers["stall_cycles"] == (layers["latency_cycles"] - layers["compute_cycles"]).clip(lower=0)).all()
    assert layers["latency_cycles"].to_numpy() == pytest.approx(
        (layers["end_cycle"] - layers["start_cycle"]).to_numpy(), rel=1e-12)
    pe_stalls = layers[[c for c in layers if c.startswith("pe_stall_")]].to_numpy().sum()
    assert pe_stalls == pytest.approx(comp.loc["pe_array", "stall_cycles"], rel=1e-12)


def test_components_breakdowns_add_up_to_their_totals(run):
    result, rep = run
    s, comp, energy = rep.summary.iloc[0], rep.components, rep.energy
    # the NoC's links (kind noc_link) break the noc row down: per link, they add up to it
    links, comp = comp[comp["kind"] == "noc_link"], comp[comp["kind"] != "noc_link"]
    noc = comp.set_index("component").loc["noc"]
    assert len(links) > 0 and links["component"].str.startswith("noc:").all()
    for col in [c for c in ("busy_cycles", "stall_cycles", "stall_link_busy_cycles", "stall_link_credit_cycles")
                if c in links]:
        assert links[col].sum() == pytest.approx(noc[col], rel=1e-12), col
    assert links["write_bytes"].sum() * 8 == result.components["noc"].stats.c["bit_hops"]
    stall_cols = [c for c in comp if c.startswith("stall_") and c != "stall_cycles"]
    energy_cols = [c for c in comp if c.startswith("energy_") and c != "energy_pj"]
    assert comp[stall_cols].sum(axis=1).to_numpy() == pytest.approx(comp["stall_cycles"].to_numpy(), rel=1e-12)
    assert comp[energy_cols].sum(axis=1).to_numpy() == pytest.approx(comp["energy_pj"].to_numpy(), rel=1e-12)
    assert comp["energy_pj"].sum() == pytest.approx(s["energy_pj"], rel=1e-12)
    assert energy["energy_pj"].sum() == s["energy_pj"]
    assert energy["share"].sum() == pytest.approx(1.0, rel=1e-12)
    kinds = {k: comp.loc[comp["kind"] == k, "energy_pj"].sum() for k in ("dram", "noc", "sram", "pe_array")}
    for k, v in kinds.items():
        assert s[f"energy_{k}_pj"] == pytest.approx(v, rel=1e-12), k
    assert rep.stalls["stall_cycles"].sum() == pytest.approx(comp["stall_cycles"].sum(), rel=1e-12)
    # busy time and utilisation by definition
    period = result.platform.clock_period_ps
    for _, r in comp.iterrows():
        c = result.components[r["component"]].stats.c
        assert r["busy_cycles"] == c["busy_ps"] / period
        assert r["utilization"] == c["busy_ps"] / (r["busy_units"] * result.end_ps)
        assert (r["reads"], r["writes"], r["read_bytes"], r["write_bytes"]) == (
            c["reads"], c["writes"], c["read_bytes"], c["write_bytes"])


def test_summary_derived_columns(run):
    result, rep = run
    s = rep.summary.iloc[0]
    period = result.platform.clock_period_ps
    assert s["latency_cycles"] == result.end_ps / period
    assert s["latency_ns"] == result.end_ps / 1000
    assert s["edp_pj_ns"] == s["energy_pj"] * s["latency_ns"]
    assert s["dram_bandwidth_gb_per_s"] == s["dram_bytes"] / s["latency_ns"]
    assert s["transactions"] == result.recorder.issued
    assert s["timesteps"] == result.workload.timesteps
    assert s["dataflow"] == result.platform.dataflow.name


def _numbers(line: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?", line)]


def test_console_summary_says_what_summary_csv_says(run, tmp_path):
    result, rep = run
    write_tables(rep.tables(), tmp_path, parquet=False)
    csv = pd.read_csv(tmp_path / "summary.csv").iloc[0]
    comp = pd.read_csv(tmp_path / "components.csv").set_index("component")
    lines = console_summary(result, rep).splitlines()

    def close(printed: float, value: float, decimals: int) -> bool:
        # the console rounds to `decimals`; the CSV keeps 6 significant digits
        return abs(printed - value) <= 0.5 * 10**-decimals + 5e-6 * abs(value) + 1e-12

    assert lines[0] == (f"platform {csv['platform']}  workload {csv['workload']}  dataflow {csv['dataflow']}  "
                        f"T={csv['timesteps']}")
    assert lines[1] == f"spikes: {csv['spikes']}"
    cyc, us, mhz = _numbers(lines[2])
    assert close(cyc, csv["latency_cycles"], 0) and close(us, csv["latency_ns"] / 1000, 3)
    assert mhz == csv["clock_mhz"]
    uj, edp = _numbers(lines[3])
    assert close(uj, csv["energy_pj"] / 1e6, 3)
    assert abs(edp - csv["edp_pj_ns"] / 1e9) <= 5e-4 * abs(edp) + 1e-12  # 4 significant digits
    kib, gbs, peak = _numbers(lines[4])
    assert close(kib, csv["dram_bytes"] / 1024, 1)
    assert close(gbs, csv["dram_bandwidth_gb_per_s"], 2) and close(peak, csv["dram_peak_gb_per_s"], 2)
    util, compute = _numbers(lines[5])
    assert close(util, csv["pe_utilization"] * 100, 1) and compute == csv["compute_cycles"]
    parts = dict(re.findall(r"(\w+) (\d+\.\d+) uJ", lines[6].split(":", 1)[1]))
    assert set(parts) == {n for n, e in comp["energy_pj"].items() if e > 0}
    for name, printed in parts.items():
        assert close(float(printed), comp.loc[name, "energy_pj"] / 1e6, 3), name
    assert int(_numbers(lines[7])[0]) == csv["transactions"]


def test_written_tables_keep_six_significant_digits_and_every_row(run, tmp_path):
    _, rep = run
    written = write_tables(rep.tables(), tmp_path, parquet=False)
    assert [p.name for p in written] == [f"{n}.csv" for n in rep.TABLES]
    for name, df in rep.tables().items():
        back = pd.read_csv(tmp_path / f"{name}.csv", keep_default_na=False)
        assert list(back.columns) == list(df.columns)
        assert len(back) == len(df)
        for col in df.columns:
            if pd.api.types.is_float_dtype(df[col]):
                assert back[col].to_numpy(dtype=float) == pytest.approx(df[col].to_numpy(), rel=5e-6, abs=0), col


def test_write_tables_makes_missing_directories(tmp_path):
    frames = {"summary": pd.DataFrame({"a": [1.5], "b": ["x"]})}
    out = tmp_path / "deep" / "er"
    written = write_tables(frames, out, parquet=False)
    assert written == [out / "summary.csv"]
    assert (out / "summary.csv").read_text() == "a,b\n1.5,x\n"  # no index column
    assert sorted(p.name for p in out.iterdir()) == ["summary.csv"]  # no partial file left


def test_write_tables_writes_parquet_when_pyarrow_is_there(tmp_path):
    pytest.importorskip("pyarrow")
    frames = {"summary": pd.DataFrame({"a": [1 / 3], "b": ["x"]}), "layers": pd.DataFrame({"n": [1, 2]})}
    written = write_tables(frames, tmp_path)  # parquet=None: whenever pyarrow imports
    assert [p.name for p in written] == ["summary.csv", "summary.parquet", "layers.csv", "layers.parquet"]
    back = pd.read_parquet(tmp_path / "summary.parquet")
    assert back["a"].iloc[0] == 1 / 3 and list(back.columns) == ["a", "b"]  # full precision, no index
    assert pd.read_parquet(tmp_path / "layers.parquet")["n"].tolist() == [1, 2]
    assert [p.name for p in write_tables(frames, tmp_path / "csv", parquet=False)] == ["summary.csv", "layers.csv"]


def test_console_summary_lines_from_hand_made_values():
    """Values on rounding edges, so that a unit off by one part in a million shows."""
    from types import SimpleNamespace

    from tlmsim.report import Report

    summary = pd.DataFrame([{
        "platform": "p", "workload": "w", "dataflow": "event", "spikes": "synthetic (seed 3)", "timesteps": 4,
        "clock_mhz": 250.0, "latency_cycles": 1234.4, "latency_ns": 4937.6, "energy_pj": 999_999_600.0,
        "edp_pj_ns": 2.5e12, "dram_bytes": 1_024_000, "dram_bandwidth_gb_per_s": 3.14159, "dram_peak_gb_per_s": 25.6,
        "pe_utilization": 0.12345, "compute_cycles": 777, "transactions": 42,
    }])
    comps = pd.DataFrame({"component": ["dram", "noc", "glb", "controller"],
                          "energy_pj": [999_999_600.0, 0.5, 2_000_000.0, 0.0]})
    rep = Report(summary=summary, layers=None, components=comps, energy=None, stalls=None, stats=None)
    text = console_summary(SimpleNamespace(wall_s=0.25), rep)
    assert text.splitlines() == [
        "platform p  workload w  dataflow event  T=4",
        "spikes: synthetic (seed 3)",
        "latency   1234 cycles = 4.938 us at 250 MHz",  # 4937.6 ns = 4.9376 us
        "energy    1000.000 uJ   EDP 2500 uJ*us",  # 999,999,600 pJ = 999.9996 uJ; 2.5e12 pJ ns = 2500 uJ us
        "DRAM      1000.0 KiB moved, 3.14 GB/s achieved (peak 25.60)",  # 1,024,000 B / 1024
        "PE array  utilisation 12.3 %, 777 compute cycles",
        "energy by component: dram 1000.000 uJ, noc 0.000 uJ, glb 2.000 uJ",  # 0 pJ omitted, 0.5 pJ kept
        "42 transactions in 0.25 s wall",
    ]


def test_energy_shares_and_a_run_without_energy():
    from types import SimpleNamespace

    from tlmsim.report import energy_frame

    def comp(name, kind, e):
        return SimpleNamespace(name=name, KIND=kind, energy_pj=lambda: e)

    run = SimpleNamespace(components={"a": comp("a", "sram", {"read": 0.25, "write": 0.0}),
                                      "b": comp("b", "noc", {"router": 0.25})})
    df = energy_frame(run)
    assert list(df.columns) == ["component", "kind", "action", "energy_pj", "share"]
    assert df["share"].tolist() == [0.5, 0.0, 0.5]  # of a total of 0.5 pJ
    idle = energy_frame(SimpleNamespace(components={"a": comp("a", "sram", {"read": 0.0})}))
    assert idle["share"].tolist() == [0.0]  # no energy at all: shares 0, not NaN


def test_a_run_with_no_work_reports_zeros_not_nan(tmp_path):
    # a workload of one flatten layer moves nothing: latency 0; ratios are 0, not a division by zero
    f = tmp_path / "flat.yaml"
    f.write_text("name: flat\ntimesteps: 2\nlayers:\n  - {name: f, op: flatten, in_shape: [2, 2, 2]}\n")
    result = simulate(load_platform("ddr4-baseline"), load_workload(f, seed=0), seed=0)
    rep = build_report(result)
    s = rep.summary.iloc[0]
    assert result.end_ps == 0
    assert (s["latency_cycles"], s["pe_utilization"], s["dram_bandwidth_gb_per_s"], s["energy_pj"]) == (0, 0, 0, 0)
    assert (rep.components["utilization"] == 0).all()
    assert list(rep.stalls.columns) == ["component", "reason", "layer", "layer_name", "count", "stall_cycles"]
    assert rep.stalls.empty and rep.energy["share"].eq(0).all()


def test_empty_tables_keep_their_columns():
    from types import SimpleNamespace

    from tlmsim.engine.recorder import Recorder
    from tlmsim.report import energy_frame, stalls_frame, stats_frame

    run = SimpleNamespace(components={}, recorder=Recorder(), clock_period_ps=1000,
                          workload=SimpleNamespace(layers=[]))
    assert list(energy_frame(run).columns) == ["component", "kind", "action", "energy_pj", "share"]
    assert list(stalls_frame(run).columns) == ["component", "reason", "layer", "layer_name", "count", "stall_cycles"]
    assert list(stats_frame(run).columns) == ["component", "stat", "unit", "value", "description"]


def test_csv_floats_at_full_precision_and_parquet_needs_pyarrow(tmp_path, monkeypatch):
    # the shortest text that reads back to the same float; a whole float as an integer (issue 14)
    frames = {"summary": pd.DataFrame({"x": [1 / 3, 1e-7 / 3, 123456789.0]})}
    write_tables(frames, tmp_path, parquet=False)
    assert (tmp_path / "summary.csv").read_text() == "x\n0.3333333333333333\n3.3333333333333334e-08\n123456789\n"
    monkeypatch.setitem(__import__("sys").modules, "pyarrow", None)  # as if pyarrow were not installed
    assert [p.name for p in write_tables(frames, tmp_path / "no_pa")] == ["summary.csv"]


def test_parquet_files_carry_no_index_column(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    frames = {"summary": pd.DataFrame({"a": [1.0, 2.0]}, index=[5, 7])}
    write_tables(frames, tmp_path)
    assert pq.read_table(tmp_path / "summary.parquet").column_names == ["a"]


@pytest.mark.parametrize("platform", ["l2-glb", "no-glb"])
def test_every_sram_level_has_its_own_byte_columns_and_residency_names_the_level(platform):
    """layers.csv has one ``<level>_<class>_bytes`` set per declared level (adding up to that
    level's component bytes) and ``resident_<tensor>`` names the level or says ``dram``."""
    from tlmsim.platform import load_platform
    from tlmsim.report import build_report
    from tlmsim.soc.run import simulate
    from tlmsim.workload import load_workload

    result = simulate(load_platform(platform), load_workload("digits-snn", seed=0))
    rep = build_report(result)
    layers, comp = rep.layers, rep.components.set_index("component")
    names = [lv.name for lv in result.platform.buffers.sram_levels]
    assert names == (["l2", "glb"] if platform == "l2-glb" else [])
    for lv in names:
        moved = sum(layers[f"{lv}_{c}_bytes"].sum() for c in CLASSES)
        assert moved == comp.loc[lv, "read_bytes"] + comp.loc[lv, "write_bytes"] > 0
    assert not [c for c in layers.columns if c.startswith("glb_")] or "glb" in names
    kept = {v for t in ("weights", "inputs", "membrane", "outputs") for v in layers[f"resident_{t}"]}
    assert kept <= {*names, "dram"}
    if names:  # digits-snn keeps some tensors in the GLB on both platforms with levels
        assert "glb" in kept
    else:
        assert kept == {"dram"}
