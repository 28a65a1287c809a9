"""tools/bench/memory.py: one small run end to end, its row count, samples and milestones."""

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEMORY = ROOT / "tools" / "bench" / "memory.py"


def test_a_small_run_is_sampled_and_its_rows_counted(tmp_path):
    samples, out = tmp_path / "s.csv", tmp_path / "out"
    cp = subprocess.run(
        [sys.executable, str(MEMORY), "digits-snn", "--every", "0.2", "--nice", "0", "--samples", str(samples),
         "--out", str(out), "--workdir", str(tmp_path / "w"), "--tlmsim", str(Path(sys.executable).parent / "tlmsim")],
        capture_output=True, text=True, check=True)
    (summary,) = csv.DictReader((out / "summary.csv").open())
    n = int(summary["transactions"])
    # a trace row is one transaction hop: the rows counted equal the run's transactions
    assert f"trace: {n:,} rows" in cp.stdout
    assert "exit status 0" in cp.stdout and "peak RSS" in cp.stdout
    rows = list(csv.DictReader(samples.open()))
    assert rows and list(rows[0]) == ["elapsed_s", "cpu_s", "rows", "rss_mib", "hwm_mib"]
    counted = [int(r["rows"]) for r in rows]
    assert counted == sorted(counted) and counted[-1] <= n
    assert all(float(r["hwm_mib"]) >= float(r["rss_mib"]) for r in rows)
    assert not (tmp_path / "w" / "trace.csv").exists()  # deleted without --keep-trace
