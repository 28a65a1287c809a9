"""tools/mutation/run.py --sample: a seeded random sample of each module's mutants, its kill rate with a
95 % Wilson score interval, and tools/mutation/ledger.py reading a sampled row as judging the sampled
mutants only. No real mutmut run: run_module's sampled flow runs against a fake ``python`` that plays
mutmut's generation, run and show on a meta file."""

import csv
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable  # the fake mutmut's interpreter (the tests below point sys.executable at the fake)


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # the ledger's dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


R = _load("mutation_run_sample", ROOT / "tools" / "mutation" / "run.py")
L = _load("mutation_ledger_sample", ROOT / "tools" / "mutation" / "ledger.py")


# --- the interval, by hand ----------------------------------------------------------------------------
def test_the_wilson_interval_by_hand():
    # 45 of 50, z = 1.959964, z^2 = 3.841459: p = 0.9, z^2/n = 0.0768292, d = 1 + z^2/n = 1.0768292;
    # centre = (0.9 + 0.0384146) / d = 0.871461; half = (z / d) * sqrt(0.9 * 0.1 / 50 + z^2 / (4 * 50^2))
    # = 1.820125 * sqrt(0.0018 + 0.000384146) = 1.820125 * 0.0467348 = 0.085063: 0.786398 - 0.956524
    lo, hi = R.wilson(45, 50)
    assert lo == pytest.approx(0.786398, abs=5e-6) and hi == pytest.approx(0.956524, abs=5e-6)
    # 93 of 100: d = 1.0384146; centre = (0.93 + 0.0192073) / d = 0.914093; half = 1.887458
    # * sqrt(0.000651 + 0.0000960365) = 1.887458 * 0.0273320 = 0.051588: 0.862505 - 0.965681
    lo, hi = R.wilson(93, 100)
    assert lo == pytest.approx(0.862505, abs=5e-6) and hi == pytest.approx(0.965681, abs=5e-6)
    # 0 of 10: p = 0, centre = half = (z^2/20) / (1 + z^2/10) = 0.1920729 / 1.3841459 = 0.138766:
    # 0 - 0.277533 (a normal interval would be 0 - 0)
    assert R.wilson(0, 10) == pytest.approx((0.0, 0.277533), abs=5e-6)
    # 50 of 50: 1 - 2 * 0.0384146 / 1.0768292 = 0.928652 - 1 (never a point)
    lo, hi = R.wilson(50, 50)
    assert lo == pytest.approx(0.928652, abs=5e-6) and hi <= 1.0 and hi == pytest.approx(1.0)
    with pytest.raises(ValueError):
        R.wilson(0, 0)


# --- the sample ---------------------------------------------------------------------------------------
NAMES = [f"tlmsim.m.x_f__mutmut_{k}" for k in range(1, 11)]


def test_the_sample_is_seeded_sorted_and_independent_of_the_listing_order():
    a = R.sample_names(NAMES, 3, 1)
    # random.Random(1).sample of the 10 names sorted as strings (..._1, ..._10, ..._2, ...): pinned, so a
    # sampled row can be redrawn later from its seed
    assert a == ["tlmsim.m.x_f__mutmut_10", "tlmsim.m.x_f__mutmut_2", "tlmsim.m.x_f__mutmut_4"]
    assert R.sample_names(list(reversed(NAMES)), 3, 1) == a  # mutmut's order does not matter
    assert R.sample_names(NAMES + NAMES[:2], 3, 1) == a  # nor a name listed twice
    assert R.sample_names(NAMES, 3, 2) == ["tlmsim.m.x_f__mutmut_1", "tlmsim.m.x_f__mutmut_10",
                                           "tlmsim.m.x_f__mutmut_8"]
    assert R.sample_names(NAMES, 10, 7) == sorted(NAMES) == R.sample_names(NAMES, 25, 7)  # all when fewer
    big = [f"tlmsim.m.x_g__mutmut_{k}" for k in range(1, 1001)]
    s = R.sample_names(big, 100, 3)
    assert len(s) == len(set(s)) == 100 and set(s) <= set(big) and s == sorted(s)


# --- the row ------------------------------------------------------------------------------------------
def _row(source: str, mutants=52, killed=44, timeout=1, survived=5, equivalent=2) -> dict:
    judged = mutants - equivalent
    return {"module": "hw/noc.py", "group": "hw", "mutants": mutants, "killed": killed, "timeout": timeout,
            "survived": survived, "equivalent": equivalent, "kill_rate": f"{(killed + timeout) / judged:.3f}",
            "minutes": "3.0", "source": source}


def test_a_rechecked_row_adds_its_minutes_to_the_measured_rows():
    # s17logPathC: measured in 40.9 minutes, rechecked in 1.1: the row says 42.0 (it said 1.1)
    assert R.recheck_minutes("40.9", 1.1) == "42.0"
    assert R.recheck_minutes("0.0", 2.25) == "2.2"  # rounded as a measured row is (2.25 -> 2.2)
    for missing in ("", None, "n/a"):  # a salvaged row may have none: the recheck's own minutes
        assert R.recheck_minutes(missing, 3.04) == "3.0"


def test_a_sampled_row_carries_its_interval_and_a_full_row_none():
    # 52 sampled, 2 equivalent: 44 killed + 1 timed out of 50 judged = 45 of 50: 0.786 - 0.957 (above)
    sampled = _row("abc1234 " + R.sample_note(52, 700, 1))
    assert sampled["source"] == "abc1234 (sample 52 of 700, seed 1)"
    r = R.with_interval(sampled)
    assert (r["kill_rate"], r["kill_rate_low"], r["kill_rate_high"]) == ("0.900", "0.786", "0.957")
    assert R.rate_text(sampled) == "90.0 % (78.6-95.7)"
    full = _row("abc1234")
    assert R.with_interval(full)["kill_rate_low"] == "" and R.rate_text(full) == "90.0 %"
    # a rechecked sampled row keeps the note (recheck_source keeps the measured source) and its interval
    rechecked = _row(R.recheck_source(sampled["source"], "def5678"), killed=47, survived=2)
    # 48 of 50: centre (0.96 + 0.0384146) / 1.0768292 = 0.927180, half 1.820125 * sqrt(0.000768 + 0.000384146)
    # = 1.820125 * 0.0339433 = 0.061781: 0.865399 - 0.988961
    assert R.rate_text(rechecked) == "96.0 % (86.5-98.9)"


def test_the_csv_gains_two_columns_at_its_end_and_reads_old_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "RESULTS", tmp_path)
    old = {**_row("abc1234"), "module": "report.py"}  # a row as read from an older csv: no interval columns
    rows = {"hw/noc.py": _row("abc1234 (sample 52 of 700, seed 1)"), "report.py": old}
    R.write_results("t", rows, ["hw/noc.py", "report.py"])
    text = (tmp_path / "t.csv").read_text().splitlines()
    assert text[0] == ("module,group,mutants,killed,timeout,survived,equivalent,kill_rate,minutes,source,"
                       "kill_rate_low,kill_rate_high")
    assert text[1].endswith('"abc1234 (sample 52 of 700, seed 1)",0.786,0.957') and text[2].endswith("abc1234,,")
    back = R.read_results("t")
    assert back["hw/noc.py"]["kill_rate_low"] == "0.786" and back["report.py"]["kill_rate_low"] == ""
    md = (tmp_path / "t.md").read_text()
    assert "| hw/noc.py | 52 | 44 | 1 | 5 | 2 | 90.0 % (78.6-95.7) | abc1234 (sample 52 of 700, seed 1) |" in md
    assert "| report.py | 52 | 44 | 1 | 5 | 2 | 90.0 % | abc1234 |" in md
    with (tmp_path / "t.csv").open() as fh:  # the ledger reads these columns by name only
        assert next(iter(csv.DictReader(fh)))["source"] == "abc1234 (sample 52 of 700, seed 1)"


def test_sample_goes_with_a_new_run_only(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(R, "RESULTS", tmp_path)
    assert R.main(["--module", "hw/noc.py", "--sample", "10", "--recheck"]) == 2
    assert R.main(["--module", "hw/noc.py", "--sample", "0"]) == 2
    assert "--sample N takes N >= 1" in capsys.readouterr().err


# --- run_module's sampled flow against a fake mutmut --------------------------------------------------
P = "tlmsim.dataflow.activity."
POPULATION = [P + f"x_im2col__mutmut_{k}" for k in range(1, 9)] + [P + f"x_fold_sums__mutmut_{k}" for k in range(1, 5)]
FAKE = r'''#!{python}
"""Plays mutmut for run.py: generation (-c), run (-m mutmut run NAMES: odd numbers killed, even ones
survive) and show (-m mutmut show NAME)."""
import json, sys
from pathlib import Path
meta = Path("mutants/tlmsim/dataflow/activity.py.meta")
names = {names!r}
Path("calls.log").open("a").write(json.dumps(sys.argv[1:3] + sys.argv[6:]) + "\n")
if sys.argv[1] == "-c":
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({{"exit_code_by_key": {{n: None for n in names}}}}))
elif sys.argv[1:4] == ["-m", "mutmut", "run"]:
    print("Running stats")
    Path("mutants/mutmut-stats.json").write_text(json.dumps({{"stats_time": 4.5}}))
    print("Running mutation testing")
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    for n in sys.argv[6:]:
        codes[n] = 1 if int(n.rsplit("_", 1)[1]) % 2 else 0
    meta.write_text(json.dumps({{"exit_code_by_key": codes}}))
elif sys.argv[1:4] == ["-m", "mutmut", "show"]:
    print("--- a\n+++ b\n-    return x\n+    return " + ("y" if sys.argv[4].endswith("_2") else "z"))
'''


@pytest.fixture
def fake(tmp_path, monkeypatch):
    exe = tmp_path / "fakepython"
    exe.write_text(FAKE.format(python=PYTHON, names=POPULATION))
    exe.chmod(0o755)
    work = tmp_path / "work"

    def copy_tree(dest, rev):
        (dest / "setup.cfg").write_text("[metadata]\n")
        return "abc1234"

    monkeypatch.setattr(R, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(R, "copy_tree", copy_tree)
    monkeypatch.setattr(R.tempfile, "mkdtemp", lambda prefix: (work.mkdir(), str(work))[1])
    monkeypatch.setattr(R.sys, "executable", str(exe))
    return work


def test_a_sampled_run_judges_the_sample_only(fake, tmp_path):
    spec = {"group": "dataflow", "tests": ["tests/x.py"]}
    entries = [{"module": "dataflow/activity.py", "original": "return x", "mutant": "return y", "reason": "same"}]
    row = R.run_module("dataflow/activity.py", spec, rev=None, tag="t", entries=entries, keep=True, jobs=1,
                       sample=(5, 1))
    picked = R.sample_names(POPULATION, 5, 1)
    calls = [json.loads(l) for l in (fake / "calls.log").read_text().splitlines()]
    assert calls[0][0] == "-c" and calls[1] == ["-m", "mutmut", *picked]  # only the sample goes to mutmut run
    odd = [n for n in picked if int(n.rsplit("_", 1)[1]) % 2]
    even = [n for n in picked if n not in odd]
    equivalent = [n for n in even if n.endswith("_2")]
    assert row["source"] == "abc1234 (sample 5 of 12, seed 1)" and row["mutants"] == 5
    assert (row["killed"], row["timeout"], row["equivalent"], row["survived"]) == (
        len(odd), 0, len(equivalent), len(even) - len(equivalent))
    listed = (tmp_path / "results" / "t" / "dataflow_activity.py.sample.txt").read_text().splitlines()
    assert listed[0].startswith("# the mutants of a sampled run of tlmsim/dataflow/activity.py "
                                "(abc1234 (sample 5 of 12")
    assert listed[1].startswith("# minutes (wall): generation ")
    assert "stats pass" in listed[1] and "mutants" in listed[1]
    assert "of which stats pass 0.1; --jobs 1" in listed[1]  # mutmut's 4.5 CPU s
    assert listed[2:] == picked
    assert json.loads((fake / R.RUN_FACTS).read_text())["sample"] == picked
    # the unsampled mutants are neither survivors nor counted: the survivors file has sampled ones only
    text = (tmp_path / "results" / "t" / "dataflow_activity.py.txt").read_text()
    assert text.count("(mutant ") == len(even) and all(n in text for n in even)


def test_only_restricts_the_population_before_the_sample(fake):
    row = R.run_module("dataflow/activity.py", {"group": "dataflow", "tests": ["tests/x.py"]}, rev=None, tag="t",
                       entries=[], keep=True, only=["*x_fold_sums__mutmut_*"], sample=(10, 1))
    assert row["source"] == "abc1234 (only *x_fold_sums__mutmut_*) (sample 4 of 4, seed 1)"
    assert (row["mutants"], row["killed"], row["survived"]) == (4, 2, 2)
    assert L.parse_source(row["source"])[2] == ["*x_fold_sums__mutmut_*"]


def test_a_module_without_mutants_gives_a_row_of_none(fake, tmp_path, monkeypatch):
    exe = tmp_path / "fakepython0"  # dataflow/dense_ws.py: no function to mutate
    exe.write_text(FAKE.format(python=PYTHON, names=[]))
    exe.chmod(0o755)
    monkeypatch.setattr(R.sys, "executable", str(exe))
    row = R.run_module("dataflow/activity.py", {"group": "dataflow", "tests": ["tests/x.py"]}, rev=None, tag="t",
                       entries=[], keep=True, sample=(100, 1))
    assert (row["mutants"], row["kill_rate"], row["source"]) == (0, "", "abc1234 (sample 0 of 0, seed 1)")
    assert [c[0] for c in map(json.loads, (fake / "calls.log").read_text().splitlines())] == ["-c"]  # no mutmut run
    assert R.with_interval(row)["kill_rate_low"] == "" and R.rate_text(row) == "-"


# --- the ledger ---------------------------------------------------------------------------------------
#: by hand: f ``a + b`` -> ``a - b`` (1 mutant); g ``a * 2 - 1`` -> ``a / 2 - 1``, ``a * 3 - 1``,
#: ``a * 2 + 1``, ``a * 2 - 2`` (4)
M = '''def f(a, b):
    return a + b


def g(a):
    return a * 2 - 1
'''


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_ledger_counts_a_sampled_row_as_its_sampled_mutants_only(tmp_path):
    pytest.importorskip("mutmut")
    r = tmp_path / "repo"
    (r / "tlmsim").mkdir(parents=True)
    res = r / "tools" / "mutation" / "results"
    (res / "s").mkdir(parents=True)
    (r / "tools" / "mutation" / "modules.yaml").write_text("modules:\n  m.py: {group: g, tests: [t.py]}\n")
    (r / "tlmsim" / "m.py").write_text(M)
    _git(r, "init", "-q")
    _git(r, "config", "user.email", "t@t")
    _git(r, "config", "user.name", "t")
    _git(r, "add", "-A")
    _git(r, "commit", "-qm", "m")
    a = _git(r, "rev-parse", "--short", "HEAD")
    head = ("module,group,mutants,killed,timeout,survived,equivalent,kill_rate,minutes,source,"
            "kill_rate_low,kill_rate_high\n")
    # 3 of the 5 mutants sampled: f's only one (f judged whole), g's 1 and 3 (g partly)
    (res / "s.csv").write_text(head + f'm.py,g,3,3,0,0,0,1.000,1.0,"{a} (sample 3 of 5, seed 1)",0.438,1.000\n')
    (res / "s" / "m.py.sample.txt").write_text(
        "# the mutants of a sampled run\n# minutes\ntlmsim.m.x_f__mutmut_1\ntlmsim.m.x_g__mutmut_1\ntlmsim.m.x_g__mutmut_3\n")
    got = L.ledger(r, counts=L.Counts(r, None))["m.py"]
    assert (got["x_f"].status, got["x_f"].tags) == ("today", ["s"])
    assert (got["x_g"].status, got["x_g"].left) == ("partial", [2, 4])
    # 3 mutants of a module of 5 is a sample, not a restricted run whose globs were lost
    assert not L.ledger.notes
    # without its list the sampled row judges nothing (it never counts as the whole module)
    (res / "s" / "m.py.sample.txt").unlink()
    got = L.ledger(r, counts=L.Counts(r, None))["m.py"]
    assert got["x_f"].status == got["x_g"].status == "never"
    assert "s (m.py): a sampled run without its list of sampled mutants" in "\n".join(L.ledger.notes)
    # a sample of all 5 judges the module whole
    (res / "s.csv").write_text(head + f'm.py,g,5,5,0,0,0,1.000,1.0,"{a} (sample 5 of 5, seed 1)",0.566,1.000\n')
    (res / "s" / "m.py.sample.txt").write_text("".join(f"tlmsim.m.x_{f}__mutmut_{k}\n" for f, n in (("f", 1), ("g", 4))
                                                       for k in range(1, n + 1)))
    got = L.ledger(r, counts=L.Counts(r, None))["m.py"]
    assert got["x_f"].status == got["x_g"].status == "today"
