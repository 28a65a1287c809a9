"""tlmsim search: Optuna on a LocalCluster against serial runs, area budget, resumption, errors."""

import math

import pytest
import yaml

from tlmsim.cli import main
from tlmsim.errors import ConfigError
from tlmsim.explore.search import SearchSpec, area_of, run_search
from tlmsim.explore.sweep import run_point
from tlmsim.platform import load_platform

SPEC = {"platform": "ddr4-baseline", "workload": "digits-snn", "trials": 6, "sampler_seed": 1,
        "area_budget_mm2": 4.0,
        "parameters": {"pe_array.rows": {"low": 8, "high": 32, "step": 8}, "pe_array.cols": [8, 16, 32],
                       "buffers.glb.capacity_bytes": ["128KiB", "256KiB"], "dataflow.name": ["dense-ws", "spikex"]}}


def test_area_from_the_area_table():
    p = load_platform("ddr4-baseline")
    # 512 KiB GLB + 64 KiB L1 = 9 x 64 KiB at 0.4 mm2, 1024 PEs at 0.0035 mm2
    assert p.area_mm2() == pytest.approx(9 * 0.4 + 1024 * 0.0035)
    spec = SearchSpec(**SPEC)
    assert area_of(spec, {"pe_array.rows": 8, "pe_array.cols": 8}) == pytest.approx(9 * 0.4 + 64 * 0.0035)


def test_determinism_dask_trials_equal_serial_runs_of_their_parameters(tmp_path):
    spec = SearchSpec(**SPEC)
    df, ran = run_search(spec, tmp_path, workers=2, progress=False)
    assert ran == 6 and len(df) == 6
    ok = df[df["status"] == "ok"]
    assert len(ok) >= 1
    for _, row in ok.iterrows():
        point = {k: row[k] for k in SPEC["parameters"]}
        point = {k: (int(v) if k.startswith("pe_array") else v) for k, v in point.items()}
        serial = run_point(spec.platform, spec.workload, point, spec.seed)
        assert serial["edp_pj_ns"] == row["edp_pj_ns"] == row["objective_edp"]
    # over the budget: recorded, never simulated
    over = df[df["status"] == "infeasible"]
    assert all(a > 4.0 for a in over["area_mm2"]) and over["latency_ns"].isna().all()
    assert all(a <= 4.0 for a in ok["area_mm2"])
    best = yaml.safe_load((tmp_path / "best.yaml").read_text())["best"][0]
    assert best["objectives"]["edp"] == ok["objective_edp"].min()
    assert best["command"].startswith("tlmsim run ddr4-baseline digits-snn --set ")


def test_resumption_runs_only_missing_trials_and_errors_are_recorded(tmp_path):
    spec = SearchSpec(**{**SPEC, "trials": 3, "area_budget_mm2": None, "parameters": {"pe_array.rows": [0]}})
    df, ran = run_search(spec, tmp_path / "a", workers=0, progress=False)
    assert ran == 3
    bad = df[df["status"] == "error"]
    assert len(bad) == 3 and "pe_array.rows" in bad.iloc[0]["error"] and (bad["state"] == "fail").all()
    spec5 = SearchSpec(**{**spec.model_dump(), "trials": 5})
    df2, ran2 = run_search(spec5, tmp_path / "a", workers=0, progress=False)
    assert ran2 == 2 and list(df2["trial"]) == [0, 1, 2, 3, 4]
    assert run_search(spec5, tmp_path / "a", workers=0, progress=False)[1] == 0
    # a mapping error at simulation time (a 256-byte L1) is recorded the same way
    spec_l1 = SearchSpec(**{**SPEC, "trials": 1, "area_budget_mm2": None,
                            "parameters": {"buffers.l1.capacity_bytes": ["256"]}})
    df3, _ = run_search(spec_l1, tmp_path / "b", workers=0, progress=False)
    assert df3["state"].tolist() == ["fail"] and "L1 half" in df3["error"].iloc[0]
    # another parameter space in the same study directory: one clear error
    spec_other = SearchSpec(**{**spec5.model_dump(), "trials": 6, "parameters": {"pe_array.rows": [8, 16]}})
    with pytest.raises(ConfigError, match="parameter space"):
        run_search(spec_other, tmp_path / "a", workers=0, progress=False)


def test_two_objectives_use_nsga2_and_give_a_front(tmp_path):
    spec = SearchSpec(**{**SPEC, "trials": 5, "objectives": ["latency", "energy"], "area_budget_mm2": None})
    df, _ = run_search(spec, tmp_path, workers=0, progress=False)
    best = yaml.safe_load((tmp_path / "best.yaml").read_text())["best"]
    assert best and all(set(b["objectives"]) == {"latency", "energy"} for b in best)
    assert all(math.isfinite(b["objectives"]["latency"]) for b in best)
    assert (tmp_path / "pareto.png").is_file()


def test_cli_search_and_bad_file(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({**SPEC, "trials": 2}))
    assert main(["search", str(f), "--out", str(tmp_path / "o"), "--workers", "0", "--no-progress"]) == 0
    assert "2 trials (2 run now)" in capsys.readouterr().out
    f.write_text(yaml.safe_dump({**SPEC, "objectives": ["speed"]}))
    assert main(["search", str(f), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tlmsim: error: ") and "objectives" in err and len(err.strip().splitlines()) == 1


def test_platform_area_equals_the_components_area():
    from tlmsim.soc.run import simulate
    from tlmsim.report import build_report
    from tlmsim.workload import load_workload

    p = load_platform("edge-lpddr4")
    comps = build_report(simulate(p, load_workload("digits-conv", seed=0))).components
    assert comps["area_mm2"].sum() == pytest.approx(p.area_mm2())


def test_best_yaml_has_units_and_a_one_line_runnable_command(tmp_path):
    import shlex

    import pandas as pd

    spec = SearchSpec(**{**SPEC, "trials": 3, "area_budget_mm2": None, "seed": 2,
                         "parameters": {"buffers.glb.capacity_bytes": {"low": 65536, "high": 262144, "step": 65536},
                                        "pe_array.rows": [8, 16], "dram.org": [{"channels": 2}]}})
    run_search(spec, tmp_path / "s", workers=0, progress=False)
    text = (tmp_path / "s" / "best.yaml").read_text()
    best = yaml.safe_load(text)["best"][0]
    size = best["parameters"]["buffers.glb.capacity_bytes"]
    assert size in ("64KiB", "128KiB", "192KiB", "256KiB")  # a size with its unit, not 131072
    assert isinstance(best["parameters"]["pe_array.rows"], int)
    command = best["command"]
    # on one line of the file, however long, exactly as typed (a literal block when YAML would quote it)
    assert f"  command: {command}\n" in text or f"  command: |-\n    {command}\n" in text
    words = shlex.split(command)
    assert words[:5] == ["tlmsim", "run", "ddr4-baseline", "digits-snn", "--seed"]
    assert f"buffers.glb.capacity_bytes={size}" in words and 'dram.org={"channels": 2}' in words
    # pasted, it runs and reproduces the trial
    assert main(words[1:] + ["--out", str(tmp_path / "r"), "-q"]) == 0
    assert pd.read_csv(tmp_path / "r" / "summary.csv").loc[0, "edp_pj_ns"] == best["objectives"]["edp"]


def test_unknown_key_refused_and_no_result_exits_non_zero(tmp_path, capsys, monkeypatch):
    import tlmsim.explore.search as search

    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({**SPEC, "trials": 2, "parameters": {"pe_array.row": [8]}}))
    monkeypatch.setattr(search, "run_point", lambda *a, **k: pytest.fail("a trial ran"))
    assert main(["search", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"tlmsim: error: {f}: parameters.pe_array.row: unknown platform key") and "rows" in err
    assert not (tmp_path / "o").exists()
    monkeypatch.undo()
    f.write_text(yaml.safe_dump({**SPEC, "trials": 2, "area_budget_mm2": None, "parameters": {"pe_array.rows": [0]}}))
    assert main(["search", str(f), "--out", str(tmp_path / "o"), "-q"]) == 1  # small: serial, no cluster
    assert "no trial was feasible and ran" in capsys.readouterr().err


def test_resume_is_keyed_by_contents(tmp_path, capsys):
    from tlmsim.resources import shipped

    plat = tmp_path / "p.yaml"
    plat.write_text(shipped("platforms")["ddr4-baseline"].read_text())
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({**SPEC, "platform": "p.yaml", "trials": 2, "area_budget_mm2": None,
                                 "parameters": {"pe_array.rows": [8, 16]}}))
    from tlmsim.explore.search import load_search

    df, ran = run_search(load_search(f), tmp_path / "o", progress=False)
    assert ran == 2 and (df["clock_mhz"] == 500).all()
    assert run_search(load_search(f), tmp_path / "o", progress=False)[1] == 0  # unchanged: resumed, complete
    plat.write_text(plat.read_text().replace("clock_mhz: 500", "clock_mhz: 250"))
    df, ran = run_search(load_search(f), tmp_path / "o", progress=False)
    assert ran == 2 and len(df) == 2 and (df["clock_mhz"] == 250).all()  # no stale trial
    assert "this is a new study" in capsys.readouterr().err
