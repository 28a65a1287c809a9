"""tlmsim sweep: points, ids, Dask against serial, resumption, error capture."""

import pandas as pd
import yaml

from tlmsim.cli import main
from tlmsim.explore.sweep import SweepSpec, point_id, points, run_sweep

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
