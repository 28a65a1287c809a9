"""Progress bars on a terminal only (never changing results), and compare in parallel."""

import io

import pandas as pd
import pytest

import tlmsim.progress
from tlmsim.cli import main
from tlmsim.compare import compare_platforms
from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.progress import RunProgress, wanted
from tlmsim.report import build_report
from tlmsim.workload import load_workload


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_without_quiet():
    assert wanted(False, FakeTerminal()) and not wanted(True, FakeTerminal())
    assert not wanted(False, io.StringIO())


def test_a_run_shows_layers_and_simulated_time_and_its_results_do_not_change():
    p, w = load_platform("edge-lpddr4"), load_workload("lenet5-mnist", seed=0)
    term = FakeTerminal()
    bar = RunProgress("lenet5 on edge", len(w.layers), stream=term, delay_s=0, poll_s=0.005)
    with_bar = build_report(simulate(p, w, progress=bar)).tables()
    text = term.getvalue()
    assert "lenet5 on edge" in text and f"/{len(w.layers)} [" in text and "us simulated" in text
    assert not bar._thread.is_alive()
    plain = build_report(simulate(p, w)).tables()
    for name in ("summary", "layers", "components"):
        pd.testing.assert_frame_equal(with_bar[name], plain[name], check_exact=True)


def test_cli_progress_goes_to_a_terminal_stderr_unless_quiet(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tlmsim.progress, "DELAY_S", 0.0)
    monkeypatch.setattr(tlmsim.progress, "POLL_S", 0.005)
    term = FakeTerminal()
    monkeypatch.setattr("sys.stderr", term)
    assert main(["run", "edge-lpddr4", "lenet5-mnist", "--out", str(tmp_path / "a")]) == 0
    assert "lenet5-mnist on edge-lpddr4" in term.getvalue() and "layer" in term.getvalue()
    term.seek(0)
    term.truncate()
    assert main(["run", "edge-lpddr4", "lenet5-mnist", "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert term.getvalue() == ""
    assert (tmp_path / "a" / "summary.csv").read_bytes() == (tmp_path / "b" / "summary.csv").read_bytes()


def test_compare_in_parallel_equals_serial_in_argument_order(tmp_path, no_plots):
    platforms = ["hbm2-server", "edge-lpddr4", "ddr4-baseline"]
    done = []
    par, _ = compare_platforms(platforms, "digits-conv", out_dir=tmp_path / "par", jobs=3, on_done=done.append)
    compare_platforms(platforms, "digits-conv", out_dir=tmp_path / "ser", jobs=1)
    assert sorted(done) == [0, 1, 2] and list(par["platform"]) == platforms
    assert (tmp_path / "par" / "compare.csv").read_bytes() == (tmp_path / "ser" / "compare.csv").read_bytes()


def test_compare_reports_a_failing_platform_in_one_line(tmp_path, capsys, no_plots):
    bad = tmp_path / "tiny.yaml"
    bad.write_text("name: tiny\nbuffers:\n  l1: {capacity_bytes: 256, banks: 1, port_width_bytes: 16}\n")
    assert main(["compare", "edge-lpddr4", str(bad), "--workload", "digits-conv", "--out", str(tmp_path / "o"),
                 "--jobs", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tlmsim: error: ") and "L1" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("quiet", [["--quiet"], ["--no-progress"]])
def test_sweep_accepts_quiet(tmp_path, quiet, capsys):
    f = tmp_path / "s.yaml"
    f.write_text("platform: ddr4-baseline\nworkload: digits-conv\nparameters: {pe_array.rows: [8]}\n")
    assert main(["sweep", str(f), "--out", str(tmp_path / "o"), *quiet]) == 0
