"""End-to-end: the CLI as a user runs it."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tlmsim.cli import main

SHIPPED = ["edge-lpddr4", "ddr4-baseline", "hbm2-server"]
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "e2e"


def golden_summary(platform: str, dataflow: str) -> pd.Series:
    """The golden probe's summary row (tests/golden/e2e, tools/golden.py) of the digits SNN."""
    g = pd.read_csv(GOLDEN / "summary.csv")
    return g.loc[g["probe"] == f"{platform}:{dataflow}:digits-snn"].iloc[0]


def assert_summary_matches_golden(summary_csv: Path) -> None:
    """The CLI's summary.csv (6 significant digits) says what the golden probe says."""
    s = pd.read_csv(summary_csv).iloc[0]
    g = golden_summary(s["platform"], s["dataflow"])
    for col in s.index:
        if isinstance(g[col], str):
            assert s[col] == g[col], col
        else:
            assert s[col] == pytest.approx(g[col], rel=5e-6), col


def test_run_default_writes_reports(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--out", str(out)]) == 0
    for name in ("summary", "layers", "components", "energy", "stalls", "stats"):
        assert (out / f"{name}.csv").is_file()
    summary = pd.read_csv(out / "summary.csv")
    assert (summary.loc[0, "platform"], summary.loc[0, "workload"]) == ("ddr4-baseline", "digits-snn")
    assert summary.loc[0, "spikes"].startswith("recorded")  # the trained digits SNN
    assert_summary_matches_golden(out / "summary.csv")
    assert "latency" in capsys.readouterr().out


def test_trace_bytes_equal_component_bytes(tmp_path):
    out, trace = tmp_path / "r", tmp_path / "t.csv"
    assert main(["run", "--out", str(out), "--trace", str(trace)]) == 0
    tr = pd.read_csv(trace)
    comps = pd.read_csv(out / "components.csv").set_index("component")
    per_comp = tr[tr["command"] != "compute"].groupby("component")["bytes"].sum()
    for comp, nbytes in per_comp.items():
        assert nbytes == comps.loc[comp, "read_bytes"] + comps.loc[comp, "write_bytes"], comp
    assert set(per_comp.index) >= {"dram", "noc", "glb", "l1"}
    assert (tr["end_ps"] >= tr["start_ps"]).all() and (tr["wait_ps"] >= 0).all()
    assert not list(tmp_path.glob("*.partial"))


def test_bytes_conserved_between_levels(tmp_path):
    from tlmsim.soc.run import simulate
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload

    r = simulate(load_platform("ddr4-baseline"), load_workload("vgg9-cifar10", seed=0))
    flows: dict = {}
    for (src, dst, _dc, _l), n in r.recorder.flows.items():
        flows[(src, dst)] = flows.get((src, dst), 0) + n
    st = {name: s.c for name, s in r.recorder.stats.items()}
    # DRAM -> NoC -> GLB
    assert flows[("dram", "noc")] == st["dram"]["read_bytes"] == flows[("dram", "glb")]
    # GLB -> NoC -> DRAM
    assert flows.get(("noc", "dram"), 0) == st["dram"]["write_bytes"] == flows.get(("glb", "dram"), 0)
    # everything written into the GLB came through the NoC, from DRAM or L1
    assert st["glb"]["write_bytes"] == flows[("noc", "glb")] == flows[("dram", "glb")] + flows[("l1", "glb")]
    # everything read from the GLB went into the NoC, to L1 or DRAM
    assert st["glb"]["read_bytes"] == flows[("glb", "noc")] == flows[("glb", "l1")] + flows.get(("glb", "dram"), 0)
    assert flows[("glb", "l1")] == flows[("noc", "l1")]
    assert r.recorder.issued == r.recorder.completed


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_platforms_validate_and_run(name, tmp_path):
    from tlmsim.resources import shipped

    path = shipped("platforms")[name]
    assert main(["validate", str(path)]) == 0
    assert main(["run", name, "--out", str(tmp_path / name)]) == 0
    s = pd.read_csv(tmp_path / name / "summary.csv")
    assert s.loc[0, "platform"] == name
    assert_summary_matches_golden(tmp_path / name / "summary.csv")


def test_set_override_changes_the_run(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", "--out", str(a)]) == 0
    assert main(["run", "--out", str(b), "--set", "pe_array.rows=8", "--set", "dram.preset=HBM2"]) == 0
    sa, sb = pd.read_csv(a / "summary.csv"), pd.read_csv(b / "summary.csv")
    assert sa.loc[0, "compute_cycles"] != sb.loc[0, "compute_cycles"]
    assert sb.loc[0, "dram_peak_gb_per_s"] > sa.loc[0, "dram_peak_gb_per_s"]


@pytest.mark.parametrize("dataflow", ["dense-ws", "spikex", "event"])
def test_determinism_same_seed_gives_byte_identical_csvs(tmp_path, dataflow):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):  # a synthetic-spike workload, so the seed matters
        assert main(["run", "digits-conv", "--out", str(out), "--seed", "7", "--dataflow", dataflow]) == 0
    for f in sorted(a.glob("*.csv")):
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name


def test_compare_writes_table_and_png(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", "edge-lpddr4", "ddr4-baseline", "--out", str(out)]) == 0
    t = pd.read_csv(out / "compare.csv")
    assert list(t["platform"]) == ["edge-lpddr4", "ddr4-baseline"]
    assert (t["latency_ns"] > 0).all() and (t["energy_pj"] > 0).all()
    png = (out / "compare.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def _cli(args, cwd):
    """Run the installed package in a fresh interpreter from another directory."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-m", "tlmsim", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_works_from_any_directory(tmp_path):
    p = _cli(["run", "--out", "o"], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "o" / "summary.csv").is_file()


def test_workloads_show_prints_densities_of_a_trace(tmp_path, capsys):
    import numpy as np

    from tlmsim.workload import save_spike_trace

    a = np.zeros((4, 10), dtype=bool)
    a[1:, :3] = True  # 3 of 10 neurons fire at t = 1, 2, 3; 7 never fire
    path = tmp_path / "t.npz"
    save_spike_trace(path, {"fc": a})
    assert main(["workloads", "show", str(path)]) == 0
    out = capsys.readouterr().out
    # density 9 / 40 = 0.225; per step 0, .3, .3, .3; silent 7 / 10
    assert "0.2250" in out and "0.000 0.300 0.300 0.300" in out and "0.7000" in out


def test_workloads_show_refuses_pickled_arrays(tmp_path, capsys):
    import numpy as np

    path = tmp_path / "evil.npz"
    np.savez(path, fc=np.array([{"a": 1}], dtype=object))
    assert main(["workloads", "show", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tlmsim: error: ") and "evil.npz" in err and len(err.strip().splitlines()) == 1


def test_a_different_seed_changes_only_the_synthetic_spikes(tmp_path):
    from tlmsim.workload import load_workload

    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", "digits-conv", "--out", str(a), "--seed", "1"]) == 0
    assert main(["run", "digits-conv", "--out", str(b), "--seed", "2"]) == 0
    wa, wb = load_workload("digits-conv", seed=1), load_workload("digits-conv", seed=2)
    assert any((wa.spikes[k] != wb.spikes[k]).any() for k in wa.spikes)  # the spikes differ ...
    for f in sorted(a.glob("*.csv")):
        if f.name == "summary.csv":
            sa, sb = pd.read_csv(f), pd.read_csv(b / f.name)
            differ = [c for c in sa.columns if sa.loc[0, c] != sb.loc[0, c]]
            assert differ == ["spikes", "seed"], differ
        else:  # ... and nothing else does (dense-ws does the same work for any spikes)
            assert f.read_bytes() == (b / f.name).read_bytes(), f.name


def test_run_prints_what_the_nir_import_changed(tmp_path, capsys):
    # a graph whose input type has a leading batch axis of 1: the import drops it and says so
    graph = Path(__file__).parents[1] / "data" / "nir" / "hand" / "batch_axis.nir"
    assert main(["run", str(graph), "--out", str(tmp_path / "o"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "note: Input 'input': shape [1, 10] has a leading axis of size 1 (a batch axis); dropped" in out
    # a graph without such a change prints no note
    assert main(["run", "--out", str(tmp_path / "d"), "-q"]) == 0
    assert "note:" not in capsys.readouterr().out
