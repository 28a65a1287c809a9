"""tools/mutation/run.py's equivalent matching: by module and line (every entry, as before), and
more precisely by ``function`` and ``context`` where an entry names them (session 12).

The diffs are built here as mutmut shows a survivor (a unified diff with three lines of context)
from today's tlmsim/hw/dram.py, with one occurrence of a line mutated: the shipped equivalent.yaml
must list the place it argues about and leave the same line elsewhere a survivor.
"""

import ast
import difflib
import importlib.util
import textwrap
from pathlib import Path

import yaml


ROOT = Path(__file__).resolve().parents[1]
#: read as text: the installed module may be the compiled build, whose methods have no source
PKG = ROOT / "tlmsim"


def _source(func: str, module: str = "hw/dram.py") -> str:
    """The source of ``func`` (``Class.method``, ``Class.Nested.method`` or a module-level
    function; in hw/dram.py a bare name is a method of ``Dram``) as the repository's
    tlmsim/<module> has it."""
    text = (PKG / module).read_text()
    parts = func.split(".")
    if module == "hw/dram.py" and len(parts) == 1:
        parts = ["Dram", *parts]
    body = ast.parse(text).body
    for name in parts:
        node = next(n for n in body if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == name)
        body = node.body
    return "".join(text.splitlines(keepends=True)[node.lineno - 1:node.end_lineno])


_spec = importlib.util.spec_from_file_location("mutation_run", ROOT / "tools" / "mutation" / "run.py")
R = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(R)

ENTRIES = R.load_equivalent()
N = "tlmsim.hw.dram.xǁDramǁ"


def mutant_diff(func: str, old: str, new: str, nth: int) -> str:
    """The diff of ``Dram.<func>`` with the ``nth`` (0-based) line whose text (stripped) is ``old``
    replaced by ``new`` (indentation kept), three lines of context, as mutmut shows it."""
    src = textwrap.dedent(_source(func)).splitlines()
    at = [i for i, line in enumerate(src) if line.strip() == old][nth]
    mutated = list(src)
    mutated[at] = src[at][: len(src[at]) - len(src[at].lstrip())] + new
    return "\n".join(difflib.unified_diff(src, mutated, "tlmsim/hw/dram.py", "tlmsim/hw/dram.py", n=3, lineterm=""))


def test_function_of_reads_mutmuts_names():
    assert R.function_of(N + "_pair_batch__mutmut_90") == "Dram._pair_batch"
    assert R.function_of("tlmsim.report.x_layers_frame__mutmut_3") == "layers_frame"
    assert R.function_of("tlmsim.dataflow.activity.xǁIm2colǁ__init____mutmut_1") == "Im2col.__init__"


def test_an_entry_with_module_and_lines_only_matches_that_line_in_any_function_as_before():
    e = {"module": "hw/dram.py", "original": "x = 1", "mutant": "x = 2", "reason": "r"}
    diff = "--- a\n+++ b\n@@ -1,3 +1,3 @@\n a = 0\n-    x = 1\n+    x = 2\n b = 0\n"
    assert R.is_equivalent("hw/dram.py", diff, [e], N + "_hit_run__mutmut_1") is e
    assert R.is_equivalent("hw/dram.py", diff, [e], N + "_pick__mutmut_7") is e
    assert R.is_equivalent("hw/dram.py", diff, [e]) is e  # no name given: as before
    assert R.is_equivalent("hw/noc.py", diff, [e], N + "_pick__mutmut_7") is None


def test_an_entry_with_a_function_matches_only_that_functions_mutants():
    e = {"module": "hw/dram.py", "function": "Dram._hit_run", "original": "x = 1", "mutant": "x = 2", "reason": "r"}
    diff = "--- a\n+++ b\n-    x = 1\n+    x = 2\n"
    assert R.is_equivalent("hw/dram.py", diff, [e], N + "_hit_run__mutmut_12") is e
    assert R.is_equivalent("hw/dram.py", diff, [e], N + "_pair_batch__mutmut_12") is None
    assert R.is_equivalent("hw/dram.py", diff, [e]) is None  # a function asked, none known


def test_an_entry_with_context_matches_only_where_those_lines_stand_in_a_row():
    e = {"module": "m.py", "original": "x = 1", "mutant": "x = 2", "context": "a = 0\nx = 1\n\nb = 0", "reason": "r"}
    here = "--- a\n+++ b\n@@ -1,4 +1,4 @@\n     a = 0\n-    x = 1\n+    x = 2\n     b = 0\n     c = 0\n"
    other = "--- a\n+++ b\n@@ -1,4 +1,4 @@\n     c = 0\n-    x = 1\n+    x = 2\n     b = 0\n     a = 0\n"
    apart = "--- a\n+++ b\n@@ -1,4 +1,4 @@\n     a = 0\n     d = 0\n-    x = 1\n+    x = 2\n     b = 0\n"
    assert R.is_equivalent("m.py", here, [e], "tlmsim.m.x_f__mutmut_1") is e
    assert R.is_equivalent("m.py", other, [e], "tlmsim.m.x_f__mutmut_2") is None
    assert R.is_equivalent("m.py", apart, [e], "tlmsim.m.x_f__mutmut_3") is None  # not in a row
    # the context is read from the original side: a mutated line is not context
    e2 = {**e, "context": ["x = 2"]}
    assert R.is_equivalent("m.py", here, [e2], "tlmsim.m.x_f__mutmut_1") is None


def test_the_lone_bank_direct_counts_are_listed_and_the_two_bank_ones_are_not():
    # _hit_run: `self._rank_q[r] += moved + direct - k`, `chan.nq += direct`, `chan.nreads += direct`
    # occur after the lone-bank batch (first; direct always 0: equivalent) and after the two-bank
    # batch (second; real offers counted: tests/hw/test_dram_fast_by_hand_s11.py kills them)
    for old, new in [("self._rank_q[r] += moved + direct - k", "self._rank_q[r] += moved - direct - k"),
                     ("chan.nq += direct", "chan.nq -= direct"), ("chan.nreads += direct", "chan.nreads -= direct")]:
        lone, two = (mutant_diff("_hit_run", old, new, i) for i in (0, 1))
        e = R.is_equivalent("hw/dram.py", lone, ENTRIES, N + "_hit_run__mutmut_116")
        assert e is not None and "s12dramB" in e["reason"], old
        assert R.is_equivalent("hw/dram.py", two, ENTRIES, N + "_hit_run__mutmut_170") is None, old
        # the same text in another function is not matched by these entries either
        assert R.is_equivalent("hw/dram.py", lone, ENTRIES, N + "_solo_batch__mutmut_1") is None, old


def test_pair_batch_write_branch_is_listed_and_its_other_stops_are_not():
    # `stop = True` and `break` occur several times in _pair_batch: the write branch of the offer
    # step (unreachable after an RD: equivalent) and the real stops (the limit, another bank,
    # another row or an empty queue, the batch's end)
    src = textwrap.dedent(_source("_pair_batch")).splitlines()
    w = [i for i, line in enumerate(src) if line.strip() == "if o.write or (wpend and o.q in wpend):"]
    assert len(w) == 1
    for old, new, place in [("stop = True", "stop = None", w[0] + 1), ("stop = True", "stop = False", w[0] + 1),
                            ("break", "return", w[0] + 2)]:
        at = [i for i, line in enumerate(src) if line.strip() == old]
        assert place in at and len(at) >= 3
        for nth, i in enumerate(at):
            d = mutant_diff("_pair_batch", old, new, nth)
            e = R.is_equivalent("hw/dram.py", d, ENTRIES, N + "_pair_batch__mutmut_90")
            assert (e is not None) == (i == place), (old, i)
            if e is not None:
                assert "s12dramB" in e["reason"]


def test_every_keyed_entry_names_a_function_that_has_its_line_today():
    # an entry keyed by function must name an existing function whose source has its original line
    # (else it would list nothing); one keyed by context must also find its lines in a row exactly
    # once there (else it would list more than the place it argues about, or nothing)
    keyed = [e for e in ENTRIES if "context" in e or "function" in e]
    assert len(keyed) >= 6
    for e in keyed:
        assert "function" in e, e
        src = [R._norm(line) for line in textwrap.dedent(_source(e["function"], e["module"])).splitlines()]
        src = [line for line in src if line]
        assert R._norm(e["original"]) in src, e
        if "context" in e:
            want = [R._norm(line) for line in e["context"].splitlines() if R._norm(line)]
            hits = [i for i in range(len(src) - len(want) + 1) if src[i:i + len(want)] == want]
            assert len(hits) == 1, e
            assert R._norm(e["original"]) in want, e


def test_the_shipped_file_is_the_one_run_py_reads():
    data = yaml.safe_load((ROOT / "tools" / "mutation" / "equivalent.yaml").read_text())
    assert len(data["equivalent"]) == len(ENTRIES)


def test_rescore_passes_each_survivors_name(tmp_path, monkeypatch):
    # a stored results file with the same line mutated in two functions: an entry keyed by function
    # lists one, the row's counts follow
    monkeypatch.setattr(R, "RESULTS", tmp_path)
    (tmp_path / "t").mkdir()
    diff = "--- tlmsim/hw/dram.py\n+++ tlmsim/hw/dram.py\n@@ -1,1 +1,1 @@\n-    x = 1\n+    x = 2\n"
    (tmp_path / "t" / "hw_dram.py.txt").write_text(
        "# surviving mutants of tlmsim/hw/dram.py (abc); equivalent ones marked\n\n"
        f"SURVIVED (mutant {N}_hit_run__mutmut_5)\n{diff}\nSURVIVED (mutant {N}_pick__mutmut_5)\n{diff}")
    rows = {"hw/dram.py": {"module": "hw/dram.py", "group": "hw", "mutants": "10", "killed": "7", "timeout": "1",
                           "survived": "2", "equivalent": "0", "kill_rate": "0.800", "minutes": "", "source": "abc"}}
    e = {"module": "hw/dram.py", "function": "Dram._pick", "original": "x = 1", "mutant": "x = 2", "reason": "why"}
    R.rescore("t", rows, [e])
    assert rows["hw/dram.py"]["equivalent"] == 1 and rows["hw/dram.py"]["survived"] == 1
    assert rows["hw/dram.py"]["kill_rate"] == f"{8 / 9:.3f}"
    text = (tmp_path / "t" / "hw_dram.py.txt").read_text()
    assert f"EQUIVALENT: why (mutant {N}_pick__mutmut_5)" in text
    assert f"SURVIVED (mutant {N}_hit_run__mutmut_5)" in text
