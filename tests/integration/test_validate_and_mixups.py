"""`tlmsim validate` takes everything run, sweep and search take; inputs given in the
wrong place say what they are and what was expected; a platform must have a name."""

import yaml

from tlmsim.cli import main
from tlmsim.resources import shipped

TRACE = str(shipped("workloads")["digits_snn"].with_name("digits_snn_trace.npz"))
SWEEP = {"platform": "ddr4-baseline", "workload": "digits-conv", "parameters": {"pe_array.rows": [8, 0]}}
SEARCH = {"platform": "ddr4-baseline", "workload": "digits-conv", "trials": 3,
          "parameters": {"pe_array.rows": {"low": 8, "high": 16, "step": 8}}}


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("tlmsim: error: ") and "Traceback" not in err, err
    return lines[0]


def test_validate_shipped_names_traces_sweeps_and_searches(tmp_path, capsys):
    sweep, search = tmp_path / "sweep.yaml", tmp_path / "search.yaml"
    sweep.write_text(yaml.safe_dump(SWEEP))
    search.write_text(yaml.safe_dump(SEARCH))
    args = ["ddr4-baseline", "digits-snn", "alexnet-scalesim", TRACE, str(sweep), str(search)]
    assert main(["validate", *args]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "ok  ddr4-baseline: platform ddr4-baseline, DRAM DDR4-3200, array 32x32"
    assert main(["validate", "mesh-4core"]) == 0
    assert capsys.readouterr().out == "ok  mesh-4core: platform mesh-4core, DRAM DDR4-3200, 4 arrays of 32x32\n"
    assert out[1].startswith("ok  digits-snn: workload digits-snn, 5 layers, T=16")
    assert out[2].startswith("ok  alexnet-scalesim: workload alexnet-scalesim")
    assert out[3] == f"ok  {TRACE}: spike trace, 5 layers, 360 samples"
    # a sweep point with an invalid value runs as a failed point: validate says so
    assert out[4].startswith(f"ok  {sweep}: sweep, 2 points (grid over pe_array.rows)")
    assert "1 points would fail (point 1: --set: pe_array.rows" in out[4]
    assert out[5].startswith(f"ok  {search}: search, 3 trials over pe_array.rows minimising edp")


def test_validate_refuses_what_sweep_and_search_refuse(tmp_path, capsys):
    f = tmp_path / "sweep.yaml"
    f.write_text(yaml.safe_dump({**SWEEP, "parameters": {"pe_array.colz": [8]}}))
    assert main(["validate", str(f)]) == 2
    assert "parameters.pe_array.colz: unknown platform key" in error_line(capsys)
    f.write_text(yaml.safe_dump({**SEARCH, "objectives": ["speed"]}))
    assert main(["validate", str(f)]) == 2
    assert f"{f}: objectives" in error_line(capsys)
    assert main(["validate", "ddr5-nothing"]) == 2
    line = error_line(capsys)
    assert "no shipped platform or workload of that name" in line and "ddr4-baseline" in line and "digits-snn" in line


def test_a_spike_trace_as_the_workload(capsys, tmp_path):
    assert main(["run", "ddr4-baseline", TRACE, "--out", str(tmp_path / "o")]) == 2
    line = error_line(capsys)
    assert f"{TRACE}: is a spike trace (.npz), expected a workload" in line and "'spikes:'" in line
    assert "decode" not in line and not (tmp_path / "o").exists()
    assert main(["run", TRACE, "--out", str(tmp_path / "o")]) == 2  # alone, too
    assert "is a spike trace (.npz), expected a workload" in error_line(capsys)


def test_platform_and_workload_swapped(capsys, tmp_path):
    p, w = shipped("platforms")["edge-lpddr4"], shipped("workloads")["digits-conv"]
    for args in (["digits-conv", "edge-lpddr4"], [str(w), str(p)]):
        assert main(["run", *args, "--out", str(tmp_path / "o")]) == 2
        line = error_line(capsys)
        assert "the arguments are swapped" in line and "PLATFORM comes first" in line, line
        assert "unknown key" not in line
    # a workload where the platform goes (the other argument not a platform)
    assert main(["run", str(w), str(w), "--out", str(tmp_path / "o")]) == 2
    line = error_line(capsys)
    assert f"{w}: is a workload YAML, expected a platform YAML; PLATFORM comes before WORKLOAD" in line
    assert main(["compare", str(w), "--out", str(tmp_path / "o")]) == 2
    assert "is a workload YAML, expected a platform YAML" in error_line(capsys)
    # a sweep file given to run
    s = tmp_path / "s.yaml"
    s.write_text(yaml.safe_dump(SWEEP))
    assert main(["run", str(s), "--out", str(tmp_path / "o")]) == 2
    assert "is a sweep file (run it with `tlmsim sweep FILE`), expected a platform YAML" in error_line(capsys)


def test_empty_or_nameless_platform_is_refused(tmp_path, capsys):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    assert main(["validate", str(empty)]) == 2
    assert f"{empty}: is empty, expected a platform YAML; a platform YAML needs at least 'name'" in error_line(capsys)
    assert main(["run", str(empty), "--out", str(tmp_path / "o")]) == 2
    assert "is empty" in error_line(capsys)
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text("pe_array: {rows: 8, cols: 8}\n")
    assert main(["validate", str(nameless)]) == 2
    assert error_line(capsys) == f"tlmsim: error: {nameless}: name: required key is missing"
    named = tmp_path / "named.yaml"
    named.write_text("name: mine\npe_array: {rows: 8, cols: 8}\n")
    assert main(["validate", str(named)]) == 0


def test_a_binary_file_as_yaml_names_what_it_is(tmp_path, capsys):
    png = tmp_path / "plot.yaml"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    assert main(["validate", str(png)]) == 2
    assert error_line(capsys) == f"tlmsim: error: {png}: is a binary file, not a YAML text file"
