"""The examples run as they are; help, lists and docs are current and point only at
files in the repository."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tlmsim.cli import main, make_parser
from tlmsim.resources import DEFAULT_PLATFORM, DEFAULT_WORKLOAD

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def test_every_example_validates(capsys):
    files = sorted(str(p) for p in EXAMPLES.glob("*.yaml"))
    assert [Path(f).name for f in files] == ["platform.yaml", "search.yaml", "sweep.yaml", "workload.yaml"]
    assert main(["validate", *files]) == 0
    out = capsys.readouterr().out
    assert out.count("ok  ") == 4 and ": sweep, 6 points" in out and ": search, 8 trials" in out


def test_custom_platform_and_workload_run(tmp_path):
    assert main(["run", str(EXAMPLES / "platform.yaml"), str(EXAMPLES / "workload.yaml"), "--out", str(tmp_path),
                 "-q"]) == 0
    s = pd.read_csv(tmp_path / "summary.csv").iloc[0]
    assert (s["platform"], s["workload"], s["dataflow"], s["clock_mhz"]) == ("my-edge", "my-cnn", "spikex", 400)
    layers = pd.read_csv(tmp_path / "layers.csv")
    assert layers["name"].tolist() == ["conv1", "conv2", "conv3", "pool", "flatten", "fc"]


def test_example_sweep_runs_from_another_folder(tmp_path, capsys):
    # relative paths in the sweep file are read from its folder, not the current one
    p = subprocess.run([sys.executable, "-m", "tlmsim", "sweep", str(EXAMPLES / "sweep.yaml"), "--out", "sw",
                        "--workers", "0"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "6 points (6 run now, 0 from earlier results): 6 ok, 0 failed" in p.stdout
    df = pd.read_csv(tmp_path / "sw" / "results.csv")
    assert (df["clock_mhz"] == 400).all() and df["dataflow"].tolist() == ["dense-ws", "spikex"] * 3
    assert df["buffers.glb.capacity_bytes"].tolist() == ["64KiB", "64KiB", "128KiB", "128KiB", "256KiB", "256KiB"]
    assert (tmp_path / "sw" / "sensitivity.png").is_file()


def test_example_search_runs(tmp_path, capsys):
    assert main(["search", str(EXAMPLES / "search.yaml"), "--out", str(tmp_path), "--workers", "0", "-q"]) == 0
    best = yaml.safe_load((tmp_path / "best.yaml").read_text())["best"][0]
    assert best["command"].startswith("tlmsim run ddr4-baseline digits-snn --set ")
    assert best["area_mm2"] <= 4.0


def test_readme_shows_the_example_files():
    readme = (ROOT / "README.md").read_text()
    for name in ("sweep.yaml", "search.yaml"):
        assert f"```yaml\n{(EXAMPLES / name).read_text()}```" in readme, name


def test_help_names_the_real_defaults_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"default: {DEFAULT_WORKLOAD};" in text and f"default: {DEFAULT_PLATFORM};" in text
    assert "digits-conv" not in text
    assert "Exit status: 0 done; 1 a sweep or search" in " ".join(make_parser().format_help().split())


def test_workloads_list_is_current(capsys):
    assert main(["workloads", "list"]) == 0
    out = capsys.readouterr().out
    assert "until the trained model ships" not in out and "digits-snn" in out


def test_docs_point_only_at_files_in_the_repository():
    texts = {p: p.read_text() for p in [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("tools/*.py"),
                                        *ROOT.glob("tlmsim/**/*.py"), *ROOT.glob("tlmsim/**/*.yaml")]}
    for path, text in texts.items():
        assert "shared/" not in text, path
        for name in re.findall(r"(?<![\w/.-])([\w-]+\.md)\b", text):  # a bare file name: which one?
            assert name in ("README.md",) or (ROOT / "docs" / name).is_file(), (path, name)
        for ref in re.findall(r"docs/reference/([\w-]+\.md)", text):
            assert (ROOT / "docs" / "reference" / ref).is_file(), (path, ref)
    # the reference tables carry their sources
    assert "DRAMsim3" in (ROOT / "docs/reference/dram_presets.md").read_text()
    assert "Horowitz" in (ROOT / "docs/reference/energy_defaults.md").read_text()
    assert "Prosperity" in (ROOT / "docs/reference/firing_rates.md").read_text()
