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


def test_summarize_prints_the_first_sample_at_or_past_each_multiple(tmp_path):
    samples = tmp_path / "s.csv"
    samples.write_text("elapsed_s,cpu_s,rows,rss_mib,hwm_mib\n"
                       "0.0,0.0,0,0.0,0.0\n"
                       "5.0,2.5,90,100.0,120.0\n"
                       "10.0,5.0,200,110.5,130.0\n"
                       "15.0,7.5,250,105.0,130.0\n"
                       "20.0,10.0,310,104.0,131.5\n")
    cp = subprocess.run([sys.executable, str(MEMORY), "--summarize", str(samples), "--milestone-every", "100"],
                        capture_output=True, text=True, check=True)
    # multiples 100, 200, 300: the first samples with rows >= each are the 200- (twice) and 310-row ones
    assert cp.stdout.splitlines() == [
        "rows reached | elapsed s | CPU s | RSS MiB | peak so far MiB",
        "         100 |      10.0 |   5.0 |   110.5 |   130.0",
        "         200 |      10.0 |   5.0 |   110.5 |   130.0",
        "         300 |      20.0 |  10.0 |   104.0 |   131.5",
        "last sample: 310 rows at 20.0 s, CPU 10.0 s, RSS 104.0 MiB; peak (VmHWM sampled) 131.5 MiB",
    ]
    # without --milestone-every the fixed milestones (1 M, 2 M, ...) apply: none reached here
    cp = subprocess.run([sys.executable, str(MEMORY), "--summarize", str(samples)],
                        capture_output=True, text=True, check=True)
    assert cp.stdout.splitlines()[1].startswith("last sample: 310 rows")
    bad = subprocess.run([sys.executable, str(MEMORY), "--summarize", str(samples), "--milestone-every", "0"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "--milestone-every must be at least 1" in bad.stderr
