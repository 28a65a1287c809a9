"""Output paths are checked before any simulation starts (one line, exit 2), nothing
is created beside the requested path, and files get the user's umask."""

import os
import stat

import numpy as np
import pytest
import yaml

from tlmsim.cli import main
from tlmsim.outputs import (
    OutputPathError,
    check_outputs,
    exact_float,
    output_dir,
    output_file,
)
from tlmsim.resources import shipped

DIGITS_NIR = str(shipped("workloads")["digits_snn"])


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if a simulation (or a sweep point) starts."""
    import tlmsim.compare
    import tlmsim.soc.run
    import tlmsim.explore.sweep
    import tlmsim.snn.refsim

    def boom(*_a, **_k):
        raise AssertionError("a simulation started before the output path was checked")

    monkeypatch.setattr(tlmsim.soc.run, "simulate", boom)
    monkeypatch.setattr(tlmsim.compare, "simulate", boom)
    monkeypatch.setattr(tlmsim.explore.sweep, "run_point", boom)
    return boom


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("tlmsim: error: ") and "Traceback" not in err, err
    return lines[0]


def readonly_dir(tmp_path):
    """A directory this process cannot write into: a 0555 folder, or /proc for root
    (root ignores permission bits; /proc refuses new entries even to root)."""
    if os.geteuid() == 0:
        return "/proc"
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    return str(d)


def test_run_out_that_is_a_file(tmp_path, capsys, no_simulation):
    f = tmp_path / "report.csv"
    f.write_text("x")
    assert main(["run", "--out", str(f)]) == 2
    assert one_error_line(capsys) == f"tlmsim: error: --out {f}: is a file; expected a directory"
    assert main(["run", "--out", str(f / "sub")]) == 2
    assert f"has a file on its way ({f})" in one_error_line(capsys)
    assert f.read_text() == "x"


def test_read_only_out_in_run_compare_sweep_search_and_record(tmp_path, capsys, no_simulation):
    ro = readonly_dir(tmp_path)
    target = os.path.join(ro, "out")
    sweep = tmp_path / "s.yaml"
    sweep.write_text(yaml.safe_dump({"platform": "ddr4-baseline", "workload": "digits-conv",
                                     "parameters": {"pe_array.rows": [8]}}))
    search = tmp_path / "se.yaml"
    search.write_text(yaml.safe_dump({"platform": "ddr4-baseline", "workload": "digits-conv", "trials": 1,
                                      "parameters": {"pe_array.rows": [8]}}))
    for args in (["run", "digits-conv", "--out", target],
                 ["compare", "edge-lpddr4", "ddr4-baseline", "--workload", "digits-conv", "--out", target],
                 ["sweep", str(sweep), "--out", target],
                 ["search", str(search), "--out", target],
                 ["workloads", "record", DIGITS_NIR, "--out", os.path.join(target, "t.npz")]):
        assert main(args) == 2, args
        line = one_error_line(capsys)
        assert line.startswith(f"tlmsim: error: --out {target}"), line
    assert not os.path.exists(target)


def test_trace_that_is_a_directory_creates_nothing_beside_it(tmp_path, capsys, no_simulation):
    d = tmp_path / "traces"
    d.mkdir()
    assert main(["run", "--out", str(tmp_path / "o"), "--trace", str(d)]) == 2
    assert one_error_line(capsys) == f"tlmsim: error: --trace {d}: is a directory; expected a file name"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["traces"]  # no traces.partial, no o/
    ro = readonly_dir(tmp_path)
    assert main(["run", "--out", str(tmp_path / "o"), "--trace", os.path.join(ro, "t.csv")]) == 2
    assert f"--trace {os.path.join(ro, 't.csv')}: cannot write into" in one_error_line(capsys)


def test_record_creates_missing_folders_and_refuses_a_directory(tmp_path, capsys):
    out = tmp_path / "newdir" / "deeper" / "x.npz"
    assert main(["workloads", "record", DIGITS_NIR, "--timesteps", "2", "--out", str(out)]) == 0
    assert out.is_file()
    assert main(["workloads", "record", DIGITS_NIR, "--out", str(tmp_path / "newdir")]) == 2
    assert "is a directory; expected a file name" in one_error_line(capsys)


def test_out_folders_are_created_as_run_does(tmp_path):
    assert output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b" and (tmp_path / "a" / "b").is_dir()
    assert output_file(tmp_path / "c" / "t.csv", "--trace") == tmp_path / "c" / "t.csv"
    assert (tmp_path / "c").is_dir() and not (tmp_path / "c" / "t.csv").exists()
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == []  # the probe leaves nothing
    # one bad path: the good one is not created either
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputPathError, match="--trace"):
        check_outputs(dirs=[("--out", tmp_path / "new")], files=[("--trace", tmp_path / "f" / "t.csv")])
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_every_written_file_follows_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        out = tmp_path / "o"
        assert main(["run", "--out", str(out), "--trace", str(tmp_path / "t.csv"), "-q"]) == 0
        assert main(["workloads", "record", DIGITS_NIR, "--timesteps", "2", "--out", str(tmp_path / "x.npz")]) == 0
        assert main(["compare", "edge-lpddr4", "--out", str(tmp_path / "c"), "-q"]) == 0
    finally:
        os.umask(old)
    files = [*out.iterdir(), tmp_path / "t.csv", tmp_path / "x.npz", *(tmp_path / "c").iterdir()]
    kinds = {".csv", ".npz", ".png"} | ({".parquet"} if _has_pyarrow() else set())
    assert kinds <= {f.suffix for f in files}
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~mask, f


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def test_exact_float_text():
    assert exact_float(2954690.0) == "2954690"
    assert exact_float(17443957.8) == "17443957.8"
    assert exact_float(0.1 + 0.2) == "0.30000000000000004"
    assert exact_float(2.0**60) == repr(2.0**60)  # beyond 2**53: the repr, still exact
    for v in (1 / 3, 1e-7, 123456789.123456789, 6.02e23):
        assert float(exact_float(v)) == v
    assert np.isnan(float(exact_float(float("nan"))))
