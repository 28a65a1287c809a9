"""Where the shipped platforms and workloads live.

In the repository they sit at the top level (``platforms/``, ``workloads/``); an
installed tlmsim carries them as package data (``tlmsim/platforms``,
``tlmsim/workloads``: setup.py maps the folders into the package). An editable
install or a source checkout reads them from the repository's top level.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from tlmsim.errors import ConfigError

DEFAULT_PLATFORM = "ddr4-baseline"
DEFAULT_WORKLOAD = "digits-snn"


def package_dir(name: str) -> Path:
    """Directory of shipped files (``platforms``, ``workloads`` or ``data``)."""
    installed = Path(str(files("tlmsim") / name))
    if installed.is_dir():
        return installed
    checkout = Path(__file__).resolve().parents[1] / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"tlmsim's shipped {name!r} folder is missing (looked in {installed} and {checkout})")


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
        check_kind(p, kind)
        return p
    if p.is_dir():
        raise ConfigError(f"is a directory; expected a {kind[:-1]} file or the name of a shipped one", file=str(arg))
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


#: what each kind of file may be given as
ACCEPTED = {"platforms": ("platform", None), "workloads": ("workload", "nir", "topology", None)}

_HINT = {
    ("platforms", "workload"): "; PLATFORM comes before WORKLOAD (tlmsim run [PLATFORM] [WORKLOAD])",
    ("platforms", "nir"): "; PLATFORM comes before WORKLOAD (tlmsim run [PLATFORM] [WORKLOAD])",
    ("platforms", "topology"): "; PLATFORM comes before WORKLOAD (tlmsim run [PLATFORM] [WORKLOAD])",
    ("workloads", "platform"): "; PLATFORM comes before WORKLOAD (tlmsim run [PLATFORM] [WORKLOAD])",
    ("workloads", "trace"): "; a trace holds spikes only: name it under 'spikes:' in a workload YAML with the "
    "'nir:' graph or 'layers' it was recorded from (docs/workloads.md)",
    ("platforms", "empty"): "; a platform YAML needs at least 'name' (docs/parameters.md)",
    ("workloads", "empty"): "; a workload YAML needs 'name', 'timesteps' and 'layers' or 'nir' (docs/workloads.md)",
}


def check_kind(path: Path, kind: str) -> None:
    """Refuse a file that is plainly another kind of input than ``kind``
    ("platforms" or "workloads"), saying what it is and what was expected."""
    from tlmsim.config_io import KIND_TEXT, file_kind

    got = file_kind(path)
    if got in ACCEPTED[kind]:
        return
    expected = "a platform YAML" if kind == "platforms" else "a workload (YAML, .nir graph or topology .csv)"
    raise ConfigError(f"is {KIND_TEXT[got]}, expected {expected}{_HINT.get((kind, got), '')}", file=str(path))
