"""tools/mutation/run.py refuses a modules.yaml that writes a module key twice: PyYAML keeps
the last entry silently, and a union merge of two branches did that twice (the older test
selection won without a word)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("mutation_run_modules", ROOT / "tools" / "mutation" / "run.py")
R = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(R)

TWICE = """\
golden: &golden tests/integration/test_golden_e2e.py
modules:
  hw/noc.py: {group: hw, tests: [tests/hw/test_noc.py, *golden]}
  hw/sram.py: {group: hw, tests: [tests/hw/test_sram.py]}
  hw/noc.py:
    group: hw
    tests: [tests/hw/test_noc_by_hand.py]
"""


def test_a_module_key_written_twice_is_refused_in_one_line_exit_2(tmp_path, monkeypatch, capsys):
    (tmp_path / "modules.yaml").write_text(TWICE)
    monkeypatch.setattr(R, "HERE", tmp_path)
    with pytest.raises(R.DuplicateKey, match=r"key 'hw/noc.py' written twice \(lines 3 and 5\)"):
        R.load_modules()
    assert R.main(["--list"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"mutation: {tmp_path / 'modules.yaml'}: key 'hw/noc.py' written twice (lines 3 and 5): "
                   "YAML keeps the last one silently; keep one entry\n")


def test_the_same_file_with_one_entry_per_module_loads(tmp_path, monkeypatch, capsys):
    (tmp_path / "modules.yaml").write_text(TWICE.replace("  hw/noc.py:\n", "  hw/noc2.py:\n"))
    monkeypatch.setattr(R, "HERE", tmp_path)
    assert R.load_modules() == {
        "hw/noc.py": {"group": "hw", "tests": ["tests/hw/test_noc.py", "tests/integration/test_golden_e2e.py"]},
        "hw/sram.py": {"group": "hw", "tests": ["tests/hw/test_sram.py"]},
        "hw/noc2.py": {"group": "hw", "tests": ["tests/hw/test_noc_by_hand.py"]}}
    assert R.main(["--list"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["hw/noc.py", "tests/hw/test_noc.py",
                                                              "tests/integration/test_golden_e2e.py"]


def test_a_key_written_twice_deeper_down_is_refused_too(tmp_path, monkeypatch):
    (tmp_path / "modules.yaml").write_text("modules:\n  hw/noc.py: {group: hw, group: engine, tests: []}\n")
    monkeypatch.setattr(R, "HERE", tmp_path)
    with pytest.raises(R.DuplicateKey, match=r"key 'group' written twice \(lines 2 and 2\)"):
        R.load_modules()


def test_the_shipped_modules_yaml_has_one_entry_per_module():
    # the file the coordinator's union merges touch: a duplicate there is refused here first
    modules = R.load_modules()
    assert "hw/controller.py" in modules and all(set(v) >= {"group", "tests"} for v in modules.values())
