"""tools/bench/matrix.py: one cell end to end, its CSV row, the CPU limit and --summarize."""

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MATRIX = ROOT / "tools" / "bench" / "matrix.py"


def run(*args: str) -> str:
    cp = subprocess.run([sys.executable, str(MATRIX), *args], capture_output=True, text=True, check=True)
    return cp.stdout


def test_one_cell_is_timed_and_written(tmp_path):
    out = tmp_path / "m.csv"
    text = run("--workloads", "digits-conv", "--platforms", "ddr4-baseline", "--dataflows", "spikex",
               "--csv", str(out))
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1
    r = rows[0]
    assert (r["workload"], r["platform"], r["dataflow"], r["status"]) == ("digits-conv", "ddr4-baseline", "spikex", "ok")
    assert int(r["transactions"]) > 0 and int(r["latency_cycles"]) > 0
    assert 0 < float(r["run_cpu_s"]) <= float(r["process_cpu_s"])
    assert "| digits-conv" in text and "slowest ten" in text
    # the same CSV summarised again
    assert "| digits-conv" in run("--summarize", str(out))


def test_a_cell_over_its_cpu_limit_is_a_timeout(tmp_path):
    out = tmp_path / "m.csv"
    run("--workloads", "vgg16-cifar10", "--platforms", "ddr4-baseline", "--dataflows", "dense-is",
        "--timeout", "1", "--csv", str(out))
    (r,) = csv.DictReader(out.open())
    assert r["status"] == "timeout" and r["process_cpu_s"] == ">1"
