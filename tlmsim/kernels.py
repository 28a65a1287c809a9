"""Which build of the hot modules runs: the compiled one or the pure-Python source.

``tlmsim/hw/dram.py`` is the one source of the DRAM model. ``pip install .`` also compiles
a build-time copy of it with Cython (setup.py; Cython's pure-Python mode, typed by
``tlmsim/hw/dram.pxd`` and the ``# @cython.locals(...)`` comments in dram.py, which
:func:`typed_source` turns into decorators in the copy: cycle counts and indices as C
``long long``, the request and channel records as C structs) into an extension module
of another name, ``_tlmsim_compiled.dram``, a top-level name so that the installed build is
found even when ``tlmsim`` itself is imported from a source tree (pytest from the repository
root). The build is optional: without a compiler or Cython, or when it fails, the install
carries the pure package alone.

At the end of its own import, ``tlmsim.hw.dram`` calls :func:`use_compiled`, which puts the
compiled module in its place (``sys.modules``: every ``import tlmsim.hw.dram`` then gets
it) when all of these hold:

* ``TLMSIM_PURE`` is unset, empty or ``0`` (``TLMSIM_PURE=1`` forces the pure source:
  mutation testing, debugging, profiling by line);
* a compiled build is installed and imports;
* it was built from exactly this source: the build records the SHA-256 of the file it was
  compiled from and of its type declarations (``tlmsim/hw/dram.pxd``) (``_SOURCE_SHA256``),
  compared with the files being imported, so an edited source (or a mutant) never runs a
  stale compiled copy.

:func:`describe` says which ran and why (``tlmsim --version``, ``tlmsim run``, ``tlmsim bench``
and tools/bench print it).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import re
import sys

#: module -> its compiled build (setup.py's COMPILED names the same pairs)
COMPILED = {"tlmsim.hw.dram": "_tlmsim_compiled.dram"}
#: module -> what runs ("compiled", or "pure Python (why)"), set by use_compiled
_chosen: dict[str, str] = {}


#: a declaration line of the source: ``# @cython.locals(...)`` on its own, above a ``def``
_DECL = re.compile(r"^([ \t]*)# (@cython\.locals\(.*\))[ \t]*$", re.M)
_FUTURE = re.compile(r"^from __future__ import annotations\n", re.M)


def typed_source(text: str) -> tuple[str, int]:
    """The build-time form of a source with type declarations: each ``# @cython.locals(...)``
    comment line becomes the decorator it spells (at its indentation) and ``import cython``
    follows ``from __future__ import annotations`` (or opens the file). The source keeps them as
    comments so that it runs without Cython and mutmut 3, which skips decorated functions,
    mutates those functions. Returns (text, number of declarations)."""
    out, n = _DECL.subn(r"\1\2", text)
    if n:
        m = _FUTURE.search(out)
        at = m.end() if m else 0
        out = out[:at] + "import cython  # setup.py: the declarations below are Cython's\n" + out[at:]
    return out, n


def pure_forced() -> bool:
    """True when ``TLMSIM_PURE`` asks for the pure-Python modules (set and not ``0``)."""
    return os.environ.get("TLMSIM_PURE", "").strip() not in ("", "0")


def source_digest(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a source file's bytes followed by those of its type declarations (the
    ``.pxd`` beside it, if there is one), as setup.py records it in the compiled build."""
    with open(path, "rb") as f:
        text = f.read()
    pxd = os.path.splitext(os.fspath(path))[0] + ".pxd"
    if os.path.exists(pxd):
        with open(pxd, "rb") as f:
            text += f.read()
    return hashlib.sha256(text).hexdigest()


def _import_compiled(cname: str):
    """Import the compiled build ``cname``: installed (site-packages), or else built in place
    at the top of the source tree that holds this ``tlmsim`` (an editable install, or
    ``python setup.py build_ext -i``: setup.py puts it in ``_tlmsim_compiled/`` there)."""
    try:
        return importlib.import_module(cname)
    except ModuleNotFoundError as exc:
        if exc.name not in (cname, cname.split(".")[0]):
            raise
        top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        stem = os.path.join(top, *cname.split("."))
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            if os.path.exists(stem + suffix):
                spec = importlib.util.spec_from_file_location(cname, stem + suffix)
                mod = importlib.util.module_from_spec(spec)
                sys.modules[cname] = mod
                try:
                    spec.loader.exec_module(mod)
                except BaseException:
                    del sys.modules[cname]
                    raise
                return mod
        raise


def use_compiled(name: str, path: str | os.PathLike) -> bool:
    """Called by module ``name`` (file ``path``) at the end of its import: replace it in
    ``sys.modules`` by its compiled build if allowed (see the module docstring); record the
    choice. Returns whether the compiled build now stands for ``name``."""
    if pure_forced():
        _chosen[name] = "pure Python (TLMSIM_PURE is set)"
        return False
    try:
        mod = _import_compiled(COMPILED[name])
    except ImportError as exc:
        missing = isinstance(exc, ModuleNotFoundError) and exc.name in (COMPILED[name], COMPILED[name].split(".")[0])
        _chosen[name] = "pure Python (" + ("no compiled build installed" if missing
                                            else f"the compiled build does not import: {exc}") + ")"
        return False
    if getattr(mod, "_SOURCE_SHA256", None) != source_digest(path):
        _chosen[name] = ("pure Python (the installed compiled build was made from another version of "
                         f"{os.path.basename(path)}; reinstall to rebuild it)")
        return False
    sys.modules[name] = mod
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, mod)
    _chosen[name] = "compiled"
    return True


def kernel(name: str = "tlmsim.hw.dram") -> str:
    """What runs for module ``name`` ("compiled" or "pure Python (why)"); imports it if needed."""
    importlib.import_module(name)
    return _chosen.get(name, "pure Python")


def describe() -> str:
    """One line: which build runs for each module that has a compiled build."""
    labels = {"tlmsim.hw.dram": "DRAM model"}
    return "; ".join(f"{labels.get(n, n)}: {kernel(n)}" for n in COMPILED)
