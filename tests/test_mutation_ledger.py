"""tools/mutation/ledger.py: which functions the stored mutation results judged on today's code, on a
small git repository built here (two commits, hand-counted mutants), so every verdict is known."""

import importlib.util
import shutil
import sys
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("mutation_ledger", ROOT / "tools" / "mutation" / "ledger.py")
L = importlib.util.module_from_spec(_spec)
sys.modules["mutation_ledger"] = L  # its dataclasses look their module up
_spec.loader.exec_module(L)

pytest.importorskip("mutmut")
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

#: mutmut's mutants, by hand: ``a + b`` -> ``a - b`` (1); ``a * 2 - 1`` -> ``a / 2 - 1``, ``a * 3 - 1``,
#: ``a * 2 + 1``, ``a * 2 - 2`` (4); a class attribute and ``pass`` are not mutated
OLD = '''def f(a, b):
    return a + b


class C:
    x = 1 + 2

    def g(self, a):
        # a comment
        return a * 2 - 1

    def k(self, a):
        return a * 2 - 1


def h():
    pass
'''
#: f changed, g's comment changed only, n is new
NEW = OLD.replace("return a + b", "return b + a").replace("# a comment", "# another comment") + '''

def n(a, b):
    return a + b
'''
M2 = '''def q(a):
    return a * 2 - 1
'''


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def _csv(rows: list[tuple[str, int, str]]) -> str:
    head = "module,group,mutants,killed,timeout,survived,equivalent,kill_rate,minutes,source\n"
    return head + "".join(f'{m},g,{n},{n},0,0,0,1.000,1.0,"{s}"\n' for m, n, s in rows)


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "repo"
    (r / "tlmsim").mkdir(parents=True)
    (r / "tools" / "mutation" / "results").mkdir(parents=True)
    _git(r, "init", "-q")
    _git(r, "config", "user.email", "t@t")
    _git(r, "config", "user.name", "t")
    (r / "tools" / "mutation" / "modules.yaml").write_text(
        "modules:\n  m.py: {group: g, tests: [t.py]}\n  m2.py: {group: g, tests: [t.py]}\n")
    (r / "tlmsim" / "m.py").write_text(OLD)
    (r / "tlmsim" / "m2.py").write_text(M2)
    _git(r, "add", "-A")
    _git(r, "commit", "-qm", "old")
    a = _git(r, "rev-parse", "--short", "HEAD")
    (r / "tlmsim" / "m.py").write_text(NEW)
    _git(r, "commit", "-qam", "new")
    b = _git(r, "rev-parse", "--short", "HEAD")
    res = r / "tools" / "mutation" / "results"
    # whole module at a: f (old code), g, k: 1 + 4 + 4 = 9 mutants
    (res / "w.csv").write_text(_csv([("m.py", 9, a)]))
    # today's k, mutants 1-2 only (a range), and the same by a run that was stopped
    (res / "p.csv").write_text(_csv([("m.py", 2, f"{b} (only *xǁCǁk__mutmut_[12])")]))
    (res / "s.csv").write_text(_csv([("m.py", 3, f"{b} (3 judged mutants of a stopped run, only *x_n__mutmut_*)")]))
    # m2: a row without globs that counted 3 of q's 4 mutants (a --recheck dropped its globs), a lost commit
    (res / "r.csv").write_text(_csv([("m2.py", 3, a), ("m.py", 5, "deadbee (only *x_f__mutmut_*)")]))
    _git(r, "add", "-A")
    _git(r, "commit", "-qm", "results")
    return r, a


def test_each_function_is_judged_today_partly_on_older_code_or_never(repo):
    r, a = repo
    got = L.ledger(r, counts=L.Counts(r, None))
    m = got["m.py"]
    assert {f: (v.status, v.mutants) for f, v in m.items()} == {
        "x_f": ("stale", 1), "xǁCǁg": ("today", 4), "xǁCǁk": ("today", 4), "x_n": ("partial", 1)}
    assert m["xǁCǁg"].tags == ["w"] and m["x_f"].tags == ["w"]
    assert m["xǁCǁk"].tags == ["p", "w"]  # w judged it whole (the same code), p mutants 1-2
    assert m["x_n"].left == [1] and m["x_n"].tags == ["s"]
    assert got["m2.py"]["x_q"].status == "partial" and got["m2.py"]["x_q"].left == [1, 2, 3, 4]
    notes = "\n".join(L.ledger.notes)
    assert "r (m2.py): 3 mutants, but the module has 4" in notes
    assert "r (m.py): commit deadbee not resolvable" in notes
    table = L.table(got)
    assert table.splitlines()[1].split() == ["m.py", "4", "(10)", "2", "(8)", "1", "(1)", "1", "(1)", "0", "(0)"]
    assert table.splitlines()[-1].split() == ["all", "5", "(14)", "2", "(8)", "2", "(5)", "1", "(1)", "0", "(0)"]
    assert "partial: n (1 mutants), not judged whole: 1; by s" in L.details(got)


def test_a_range_glob_leaves_the_rest_of_the_function(repo):
    r, a = repo
    (r / "tools" / "mutation" / "results" / "w.csv").unlink()
    k = L.ledger(r, modules=["m.py"], counts=L.Counts(r, None))["m.py"]["xǁCǁk"]
    assert (k.status, k.left, L._ranges(k.left)) == ("partial", [3, 4], "3-4")


def test_ledger_yaml_says_what_a_row_judged(repo):
    r, a = repo
    (r / "tools" / "mutation" / "ledger.yaml").write_text(
        "rows:\n  - {tag: r, module: m2.py, judged: {q: 1-3}, where: by hand}\n"
        "  - {tag: s, module: m.py, judged: {n: all}, where: by hand}\n")
    got = L.ledger(r, counts=L.Counts(r, None))
    assert (got["m2.py"]["x_q"].status, got["m2.py"]["x_q"].left) == ("partial", [4])
    assert got["m.py"]["x_n"].status == "today"  # the stopped row judged n whole, as written
    assert not any("m2.py" in n for n in L.ledger.notes)


def test_a_rechecked_row_is_read_from_its_first_measurement(repo):
    r, a = repo
    # a --recheck (before session 13) wrote its own tree and dropped the globs: 2 mutants, no globs, at HEAD;
    # first.csv keeps the measured row (k's mutants 1-2 at commit a, where k is today's)
    res = r / "tools" / "mutation" / "results"
    (res / "w.csv").unlink()
    head = _git(r, "rev-parse", "--short", "HEAD")
    (res / "p.csv").write_text(_csv([("m.py", 2, head)]))
    (res / "p").mkdir()
    (res / "p" / "first.csv").write_text(_csv([("m.py", 2, f"{a} (only *xǁCǁk__mutmut_[12])")]))
    k = L.ledger(r, modules=["m.py"], counts=L.Counts(r, None))["m.py"]["xǁCǁk"]
    assert (k.status, k.left, k.tags) == ("partial", [3, 4], ["p"])
    assert not any(n.startswith("p ") for n in L.ledger.notes)  # not "restricted, globs not recorded"


def test_the_source_column_as_run_py_and_people_wrote_it():
    assert L.parse_source("7c6544f+worktree") == ("7c6544f", True, [], False)
    assert L.parse_source("cfb30a0, rechecked at fc5ce18 (only *ǁ_staged__mutmut_* *ǁ_Fillǁ*)") == (
        "cfb30a0", False, ["*ǁ_staged__mutmut_*", "*ǁ_Fillǁ*"], False)
    assert L.parse_source("e500a0c (216 judged mutants of a stopped run, only *ǁDǁh__mutmut_17[4-9] "
                          "*ǁDǁs__mutmut_*)") == ("e500a0c", False, ["*ǁDǁh__mutmut_17[4-9]", "*ǁDǁs__mutmut_*"], True)
    assert L.parse_source("9c84b7c (only *ǁDǁa__mutmut_* *x_r__mutmut_*; judged mutants of a stopped run)") == (
        "9c84b7c", False, ["*ǁDǁa__mutmut_*", "*x_r__mutmut_*"], True)
    assert L.parse_source("88a5aef's controller (measured at 292dc29), rechecked at db51e41 (only *ǁCǁ_lane__mutmut_*)"
                          ) == ("88a5aef", False, ["*ǁCǁ_lane__mutmut_*"], False)
