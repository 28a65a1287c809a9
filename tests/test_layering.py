"""The package imports point down only: every ``tlmsim`` import (top level, inside a
function, or under ``TYPE_CHECKING``) goes to the importer's own layer or a lower one
of :data:`tlmsim.LAYERS`, and packages that share a layer do not import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import tlmsim

PKG = Path(tlmsim.__file__).resolve().parent


def _unit(parts: tuple[str, ...]) -> str:
    """The layering unit of a module path inside tlmsim: its first component."""
    return parts[0].removesuffix(".py")


def _rank() -> dict[str, int]:
    return {unit: i for i, layer in enumerate(tlmsim.LAYERS) for unit in layer}


def _edges(root: Path = PKG) -> list[tuple[str, str, str, int]]:
    """(importer unit, imported unit, file, line) of every import of another unit."""
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).parts
        if rel == ("__init__.py",):
            continue  # the package root holds only the version and LAYERS
        src = _unit(rel)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
                if node.module == "tlmsim":
                    names = [f"tlmsim.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] != "tlmsim" or len(parts) < 2:
                    continue
                if parts[1] == "__version__":
                    continue
                dst = parts[1]
                if dst != src:
                    out.append((src, dst, "/".join(rel), node.lineno))
    return out


def upward_edges(root: Path = PKG) -> list[str]:
    rank = _rank()
    bad = []
    for src, dst, file, line in _edges(root):
        if src not in rank or dst not in rank:
            bad.append(f"{file}:{line}: {src} -> {dst}: a unit missing from tlmsim.LAYERS")
        elif rank[dst] >= rank[src]:
            bad.append(f"{file}:{line}: {src} (layer {rank[src]}) imports {dst} (layer {rank[dst]})")
    return bad


def test_every_unit_has_a_layer():
    rank = _rank()
    units = {_unit(p.relative_to(PKG).parts) for p in PKG.rglob("*.py")} - {"__init__"}
    units |= {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert units - set(rank) == set()
    assert set(rank) - units == set(), "LAYERS names a unit that does not exist"


def test_imports_point_down_only():
    assert upward_edges() == []


def test_the_kernel_imports_nothing_above_the_foundation():
    k = _rank()["engine"]
    above = {u for layer in tlmsim.LAYERS[k + 1:] for u in layer}
    assert {"hw", "dataflow", "platform", "soc", "verify", "workload"} <= above
    assert {dst for src, dst, _, _ in _edges() if src == "engine"} & above == set()


def test_an_upward_edge_is_caught(tmp_path):
    """The walker finds an upward import, also one inside a function or under TYPE_CHECKING."""
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "x.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tlmsim.hw.sram import Sram\n"
        "def f():\n    import tlmsim.soc.run\n"
    )
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "y.py").write_text("from tlmsim.dataflow.base import Dataflow\nfrom tlmsim.engine import plan\n")
    bad = upward_edges(tmp_path)
    assert bad == [
        "engine/x.py:3: engine (layer 3) imports hw (layer 6)",
        "engine/x.py:5: engine (layer 3) imports soc (layer 8)",
        "hw/y.py:1: hw (layer 6) imports dataflow (layer 6)",
    ]
