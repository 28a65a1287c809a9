"""Where the shipped platforms and workloads live (package data)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from tlmsim.errors import ConfigError

DEFAULT_PLATFORM = "ddr4-baseline"
DEFAULT_WORKLOAD = "digits-snn"


def package_dir(name: str) -> Path:
    """Directory of shipped files (``platforms``, ``workloads`` or ``data``)."""
    return Path(str(files("tlmsim") / name))


#: file types a shipped item may have: platforms are YAML; workloads are YAML, SCALE-Sim
#: topology CSV or NIR graphs
SUFFIXES = {"platforms": (".yaml",), "workloads": (".yaml", ".csv", ".nir")}


def shipped(kind: str) -> dict[str, Path]:
    """Shipped files of ``kind`` ("platforms" or "workloads") by name (stem)."""
    d = package_dir(kind)
    return {p.stem: p for p in sorted(d.iterdir()) if p.suffix in SUFFIXES[kind] and p.is_file()}


def resolve(kind: str, arg: str | None, default: str) -> Path:
    """A path for ``arg``: an existing file, or the name of a shipped file."""
    if arg is None:
        arg = default
    p = Path(arg)
    if p.is_file():
        return p
    names = shipped(kind)
    stem = p.stem if p.suffix in (".yaml", ".yml", ".csv", ".nir") else arg
    if stem in names and p.parent == Path("."):
        return names[stem]
    what = kind[:-1]
    raise ConfigError(
        f"no such {what} file, and no shipped {what} of that name",
        file=str(arg),
        allowed=", ".join(names) or "(none shipped)",
    )
