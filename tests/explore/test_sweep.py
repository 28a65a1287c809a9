"""tlmsim sweep: points, ids, Dask against serial, resumption, error capture."""

import pandas as pd
import pytest
import yaml

from tlmsim.cli import main
from tlmsim.explore.sweep import SweepSpec, load_sweep, point_id, points, run_sweep

SPEC = {"platform": "ddr4-baseline", "workload": "digits-conv",
        "parameters": {"pe_array.rows": [8, 16], "buffers.glb.capacity_bytes": ["256KiB", "512KiB"],
                       "dataflow.dma_chunk_bytes": [2048]}}


def test_grid_and_random_points():
    spec = SweepSpec(**SPEC)
    pts = points(spec)
    assert len(pts) == 4 and pts[0] == {"pe_array.rows": 8, "buffers.glb.capacity_bytes": "256KiB",
                                        "dataflow.dma_chunk_bytes": 2048}
    assert len({point_id(spec, p) for p in pts}) == 4
    rnd = SweepSpec(**{**SPEC, "mode": "random", "samples": 7, "random_seed": 3})
    assert points(rnd) == points(rnd) and len(points(rnd)) == 7
    assert point_id(spec, pts[0]) != point_id(SweepSpec(**{**SPEC, "seed": 1}), pts[0])


def test_determinism_a_dask_sweep_writes_the_serial_table_byte_for_byte(tmp_path):
    spec = SweepSpec(**SPEC)
    serial, n1 = run_sweep(spec, tmp_path / "serial", workers=0, progress=False)
    parallel, n2 = run_sweep(spec, tmp_path / "dask", workers=2, progress=False)
    assert n1 == n2 == 4 and (serial["status"] == "ok").all()
    assert (tmp_path / "serial" / "results.csv").read_bytes() == (tmp_path / "dask" / "results.csv").read_bytes()
    # the swept parameters really change the results
    assert serial["latency_cycles"].nunique() > 1


def test_resumption_skips_done_points_and_errors_are_recorded(tmp_path):
    spec = SweepSpec(**{**SPEC, "parameters": {"pe_array.rows": [8, 0, 16]}})
    df, n = run_sweep(spec, tmp_path, workers=0, progress=False)
    assert n == 3
    bad = df[df["status"] == "error"]
    assert len(bad) == 1 and "pe_array.rows" in bad.iloc[0]["error"] and "(got 0)" in bad.iloc[0]["error"]
    first = (tmp_path / "results.csv").read_bytes()
    # drop one finished point: only it (and the failed one) run again
    kept = pd.read_csv(tmp_path / "results.csv", keep_default_na=False)
    kept[kept["pe_array.rows"] != 16].to_csv(tmp_path / "results.csv", index=False)
    df2, n2 = run_sweep(spec, tmp_path, workers=0, progress=False)
    assert n2 == 2 and len(df2) == 3
    assert (tmp_path / "results.csv").read_bytes() == first


def test_cli_sweep_and_bad_sweep_file(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({**SPEC, "parameters": {"pe_array.rows": [8]}}))
    assert main(["sweep", str(f), "--out", str(tmp_path / "o"), "--workers", "0", "--no-progress"]) == 0
    assert "1 points (1 run now" in capsys.readouterr().out
    f.write_text(yaml.safe_dump({**SPEC, "parameters": {}}))
    assert main(["sweep", str(f), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tlmsim: error: ") and "s.yaml: parameters" in err and len(err.strip().splitlines()) == 1


def test_pareto_front_by_hand_and_plots_are_written(tmp_path):
    import numpy as np

    from tlmsim.explore.plots import pareto_mask

    lat = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    en = np.array([5.0, 3.0, 1.0, 4.0, 6.0])
    # (1,5) (2,3) (3,1) are on the front; (2,4) is beaten by (2,3); (1,6) by (1,5)
    assert pareto_mask(lat, en).tolist() == [True, True, True, False, False]
    spec = SweepSpec(**SPEC)
    run_sweep(spec, tmp_path, workers=0, progress=False)
    for name in ("pareto.png", "sensitivity.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _write_platform(path, clock):
    from tlmsim.resources import shipped

    text = shipped("platforms")["ddr4-baseline"].read_text().replace("clock_mhz: 500", f"clock_mhz: {clock}")
    assert f"clock_mhz: {clock}" in text
    path.write_text(text)


def test_resume_is_keyed_by_contents_not_names(tmp_path, monkeypatch):
    """Editing the platform file, the workload file or upgrading tlmsim reruns the points."""
    import tlmsim
    from tlmsim.resources import shipped

    plat, wl = tmp_path / "p.yaml", tmp_path / "w.yaml"
    _write_platform(plat, 500)
    wl.write_text(shipped("workloads")["digits-conv"].read_text())
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({"platform": "p.yaml", "workload": "w.yaml",  # relative to the sweep file
                                 "parameters": {"pe_array.rows": [8, 16]}}))
    out = tmp_path / "o"
    spec = load_sweep(f)
    df, n = run_sweep(spec, out, progress=False)
    assert n == 2 and (df["clock_mhz"] == 500).all()
    assert run_sweep(load_sweep(f), out, progress=False)[1] == 0  # nothing changed: nothing reruns
    _write_platform(plat, 250)
    df, n = run_sweep(load_sweep(f), out, progress=False)
    assert n == 2 and (df["clock_mhz"] == 250).all()  # the old clock is not reported
    wl.write_text(wl.read_text().replace("firing_rate: 0.30", "firing_rate: 0.35"))
    assert run_sweep(load_sweep(f), out, progress=False)[1] == 2
    monkeypatch.setattr(tlmsim, "__version__", "99.0")
    assert run_sweep(load_sweep(f), out, progress=False)[1] == 2


def test_unknown_key_is_refused_before_the_first_point(tmp_path, capsys, monkeypatch):
    import tlmsim.explore.sweep as sweep

    monkeypatch.setattr(sweep, "run_point", lambda *a, **k: pytest.fail("a point ran"))
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({**SPEC, "parameters": {"pe_array.rows": [8], "pe_aray.cols": [8, 16]}}))
    assert main(["sweep", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"tlmsim: error: {f}: parameters.pe_aray.cols: unknown platform key; allowed: name, ")
    assert "pe_array" in err and len(err.splitlines()) == 1 and not (tmp_path / "o").exists()
    # a misspelt key inside a value's mapping: refused too, naming the point
    f.write_text(yaml.safe_dump({**SPEC, "parameters": {"dram.org": [{"channels": 2}, {"chanels": 2}]}}))
    assert main(["sweep", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "point 1 (dram.org={\"chanels\": 2})" in err and "unknown key" in err
    f.write_text(yaml.safe_dump({**SPEC, "parameters": {"pe_array.rows.x": [1]}}))
    assert main(["sweep", str(f), "--out", str(tmp_path / "o")]) == 2
    assert "pe_array.rows is a value, not a section" in capsys.readouterr().err


def test_every_point_failing_exits_non_zero(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({**SPEC, "parameters": {"pe_array.rows": [0, -1]}}))
    assert main(["sweep", str(f), "--out", str(tmp_path / "o"), "-q"]) == 1
    captured = capsys.readouterr()
    assert "0 ok, 2 failed" in captured.out and "every point failed" in captured.err
    assert (tmp_path / "o" / "results.csv").is_file()


def test_small_sweeps_run_without_a_cluster_unless_asked(tmp_path, monkeypatch):
    import tlmsim.explore.sweep as sweep

    assert sweep.serial(4, None, None) and not sweep.serial(5, None, None)
    assert sweep.serial(100, 0, None) and not sweep.serial(1, 2, None) and not sweep.serial(1, None, "tcp://x:1")
    monkeypatch.setattr(sweep, "dask_client", lambda *a: pytest.fail("a cluster was started"))
    df, n = run_sweep(SweepSpec(**SPEC), tmp_path, progress=False)  # 4 points: serial
    assert n == 4 and (df["status"] == "ok").all()


def test_plot_categories_sort_by_value():
    from tlmsim.explore.plots import category_order

    assert category_order(["512KiB", "64KiB", "1MiB", "128KiB"]) == ["64KiB", "128KiB", "512KiB", "1MiB"]
    assert category_order([16, 8, 32, 128]) == ["8", "16", "32", "128"]
    assert category_order(["spikex", "dense-ws", "64KiB"]) == ["64KiB", "dense-ws", "spikex"]
