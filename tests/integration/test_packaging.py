"""The shipped platforms/ and workloads/ live at the repository's top level and are
installed as tlmsim's package data by setup.py: every shipped file must match one of
setup.py's package_data patterns, or `pip install .` would silently leave it out."""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

from tlmsim.resources import package_dir, shipped

ROOT = Path(__file__).resolve().parents[2]


def _setup_kwargs() -> dict:
    tree = ast.parse((ROOT / "setup.py").read_text())
    env: dict = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            env[node.targets[0].id] = ast.literal_eval(node.value)
    call = next(n.value for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
                and isinstance(n.value.func, ast.Name) and n.value.func.id == "setup")
    out = {}
    for kw in call.keywords:
        if kw.arg in ("package_dir", "package_data"):
            out[kw.arg] = env[kw.value.id] if isinstance(kw.value, ast.Name) else ast.literal_eval(kw.value)
    return out


def test_every_shipped_file_is_package_data():
    kw = _setup_kwargs()
    assert kw["package_dir"] == {"tlmsim.platforms": "platforms", "tlmsim.workloads": "workloads"}
    for package, folder in kw["package_dir"].items():
        patterns = kw["package_data"][package]
        files = [p for p in (ROOT / folder).iterdir() if p.is_file()]
        assert files, folder
        for f in files:
            assert any(fnmatch.fnmatch(f.name, pat) for pat in patterns), f"{folder}/{f.name} would not be installed"


def test_shipped_folders_resolve_from_the_checkout_or_the_install():
    # in a checkout (editable install) these are the top-level folders; installed, tlmsim/<name>
    for name in ("platforms", "workloads"):
        d = package_dir(name)
        assert d.is_dir() and d.name == name
    assert "ddr4-baseline" in shipped("platforms")
    assert "digits-snn" in shipped("workloads")
