"""tools/mutation/run.py --salvage: the row of a stopped mutation run, scored from its scratch
tree (mutmut's meta file of exit codes, None for a mutant not yet judged) by hand."""

import importlib.util
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("mutation_run", ROOT / "tools" / "mutation" / "run.py")
R = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(R)

P = "tlmsim.dataflow.activity."
#: im2col: all four judged (killed, timed out, two survivors); fold_sums: one of two judged (killed);
#: Im2col.__init__: none judged
CODES = {P + "x_im2col__mutmut_1": 1, P + "x_im2col__mutmut_2": 36, P + "x_im2col__mutmut_3": 0,
         P + "x_im2col__mutmut_4": 0, P + "x_fold_sums__mutmut_1": 1, P + "x_fold_sums__mutmut_2": None,
         P + "xǁIm2colǁ__init____mutmut_1": None}
#: the diff mutmut shows for a survivor: mutant 3 is listed as equivalent, 4 is not
DIFFS = {3: "--- a\n+++ b\n-    return x\n+    return y\n", 4: "--- a\n+++ b\n-    return x\n+    return z\n"}
ENTRIES = [{"module": "dataflow/activity.py", "original": "return x", "mutant": "return y", "reason": "same"}]


def _scratch(tmp_path: Path, facts: bool = True) -> Path:
    work = tmp_path / "work"
    meta = work / "mutants" / "tlmsim" / "dataflow" / "activity.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": CODES}))
    if facts:
        (work / R.RUN_FACTS).write_text(json.dumps({"module": "dataflow/activity.py", "source": "abc1234",
                                                    "only": [], "started": 1000.0}))
    else:  # a scratch tree of an older run.py: the module from the mutmut section of setup.cfg
        (work / "setup.cfg").write_text("[mutmut]\nsource_paths = tlmsim/\nonly_mutate = tlmsim/dataflow/activity.py\n")
    os.utime(meta, (1150.0, 1150.0))  # last verdict 150 s after the start
    return work


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(R, "show", lambda work, name: DIFFS[int(name.rsplit("_", 1)[1])])
    return tmp_path / "results"


def test_salvage_counts_the_functions_judged_whole(tmp_path, results):
    row = R.salvage(_scratch(tmp_path), "t", ENTRIES)
    # im2col only: 4 mutants, 1 killed, 1 timed out, 1 equivalent, 1 survived: 2 / (4 - 1)
    assert row == {"module": "dataflow/activity.py", "group": "dataflow", "mutants": 4, "killed": 1, "timeout": 1,
                   "survived": 1, "equivalent": 1, "kill_rate": "0.667", "minutes": "2.5",
                   "source": "abc1234 (only *x_im2col__mutmut_*; the functions whose mutants a stopped run "
                             "judged all)"}
    text = (results / "t" / "dataflow_activity.py.txt").read_text()
    assert text.splitlines()[0] == "# surviving mutants of tlmsim/dataflow/activity.py (abc1234); equivalent ones marked"
    assert text.index(f"EQUIVALENT: same (mutant {P}x_im2col__mutmut_3)") < text.index(
        f"SURVIVED (mutant {P}x_im2col__mutmut_4)")


def test_salvage_by_mutant_counts_every_judged_mutant(tmp_path, results):
    row = R.salvage(_scratch(tmp_path), "t", ENTRIES, by_mutant=True)
    # im2col's 4 and fold_sums' judged one (killed): 3 / (5 - 1)
    assert (row["mutants"], row["killed"], row["timeout"], row["survived"], row["equivalent"]) == (5, 2, 1, 1, 1)
    assert row["kill_rate"] == "0.750"
    assert row["source"] == "abc1234 (5 judged mutants of a stopped run)"


def test_salvage_of_an_older_scratch_tree_takes_the_module_from_setup_cfg(tmp_path, results):
    row = R.salvage(_scratch(tmp_path, facts=False), "t", ENTRIES)
    assert (row["module"], row["mutants"], row["minutes"]) == ("dataflow/activity.py", 4, "")
    assert row["source"].startswith("unknown (only *x_im2col__mutmut_*;")


def test_salvage_from_the_command_line_writes_the_tags_row(tmp_path, results, monkeypatch):
    monkeypatch.setattr(R, "load_equivalent", lambda: ENTRIES)
    assert R.main(["--salvage", str(_scratch(tmp_path)), "--tag", "t"]) == 0
    assert R.read_results("t")["dataflow/activity.py"]["kill_rate"] == "0.667"
    assert "| dataflow/activity.py | 4 | 1 | 1 | 1 | 1 | 66.7 % |" in (results / "t.md").read_text()
    assert R.main(["--by-mutant", "--tag", "t"]) == 2  # only with --salvage


def test_salvage_refuses_a_tree_that_is_not_a_scratch_tree_or_a_recheck(tmp_path, results):
    with pytest.raises(SystemExit, match="is not a scratch tree of run.py"):  # no setup.cfg
        R.salvage(tmp_path, "t", ENTRIES)
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    with pytest.raises(SystemExit, match="is not a scratch tree of run.py"):  # no mutmut section
        R.salvage(tmp_path, "t", ENTRIES)
    work = _scratch(tmp_path)
    (work / R.RUN_FACTS).write_text(json.dumps({"module": "dataflow/activity.py", "source": "abc1234", "only": [],
                                                "started": 1000.0, "recheck": True}))
    with pytest.raises(SystemExit, match="is a --recheck run"):
        R.salvage(work, "t", ENTRIES)
