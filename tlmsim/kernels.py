"""Which build of the hot modules runs: the compiled one or the pure-Python source.

Each module named in :data:`COMPILED` (the DRAM model, the controller, SRAM, NoC and PE array, the
engine's recorder and counters, the run loop and the dataflows' planners) is the one source of what
it does. ``pip install .`` also compiles a build-time copy of each with Cython (setup.py; Cython's
pure-Python mode) into an extension module of another name, ``_tlmsim_compiled.<package>_<module>``
(``tlmsim.hw.dram`` -> ``_tlmsim_compiled.hw_dram``), a top-level name so that the installed build
is found even when ``tlmsim`` itself is imported from a source tree (pytest from the repository
root). The DRAM model is typed (``tlmsim/hw/dram.pxd`` and the ``# @cython.locals(...)`` comments in
dram.py, which :func:`typed_source` turns into decorators in the copy: cycle counts and indices as C
``long long``, the request and channel records as C structs, the scheduler's helpers as ``cpdef``
methods called at C level). The hardware models (``Component`` and its subclasses Dram, Sram, Noc,
PeArray and Controller: the ``.pxd`` beside each) are extension types, so their methods read their
own attributes as C struct fields (holding the same Python objects); so are the recorder and the
per-layer counters (engine/recorder.pxd, engine/attribution.pxd). The other modules compile as
they are (Python objects throughout, the same arithmetic: compiled code runs the same operations
without the interpreter's dispatch). The build is optional: without a compiler or Cython, or when it
fails, the install carries the pure package alone.

Importing ``tlmsim`` puts :class:`CompiledFinder` first on ``sys.meta_path``: an import of one of
these modules then gets its compiled build, without running the source's own body first, when all
of these hold:

* ``TLMSIM_PURE`` is unset, empty or ``0`` (``TLMSIM_PURE=1`` forces the pure source:
  mutation testing, debugging, profiling by line);
* a compiled build is installed and imports;
* it was built from exactly this source: the build records the SHA-256 of the file it was
  compiled from and of its type declarations (a ``.pxd`` beside it) (``_SOURCE_SHA256``),
  compared with the files being imported, so an edited source (or a mutant) never runs a
  stale compiled copy. Each module decides for itself: an edited controller runs as Python
  beside a compiled DRAM model. One exception (:data:`EXTENDS`): the hardware models' compiled
  classes derive from the compiled ``Component``, so they are used only when
  ``tlmsim.engine.component``'s build is (an edited component.py makes them all pure Python);
  likewise (:data:`CIMPORTS`) the controller's build, which calls the SRAM's and the NoC's
  ``book`` and the PE array's ``start`` and ``finish`` at C level and tests models against their
  compiled classes, and reads the plans' moves and tiles and the kernel's events as C structs, is
  used only when the SRAM's, the NoC's, the PE array's, the plans' (tlmsim/engine/plan.py) and the
  kernel's (tlmsim/engine/sim.py) are, the
  run loop's (its events typed) and the DRAM model's (its wakes and completions pushed on the
  kernel's queue) only beside the kernel's, the dataflows' step (a record derived
  from the plans') only beside the plans', the PE array's (the tiles it computes typed) only
  beside the plans', the component's (its recorder typed) only beside the recorder's, and the
  recorder's (its stall ledger and the transactions it completes typed) only beside the
  statistics' and the transactions' (so an edited stats.py makes the recorder, the component
  and the models pure Python).

When the finder declines, the source module is imported as usual and, at the end of its body,
calls :func:`use_compiled`, which records why (and swaps the build in after all if it is current:
a source imported before ``tlmsim`` installed the finder).

:func:`describe` says which ran and why (``tlmsim --version``, ``tlmsim run``, ``tlmsim bench``
and tools/bench print it).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys

#: the modules with a compiled build (setup.py builds each from its source file): the DRAM model
#: first, then the per-hop hardware, the engine, the run loop and the dataflows. Not the DRAM timing
#: checker (tlmsim/verify/dram_timing.py): its work is NumPy's either way (resnet19-cifar10 on
#: edge-lpddr4 with dense-ws, two alternated runs: 16.48 / 16.52 CPU s compiled, 16.25 / 16.11 pure),
#: and its compiled build kept every checked chunk's command log (tens of MB) alive in a reference
#: cycle until a full collection: Cython holds a function's closure variables in one record, and
#: ``_check``'s nested ``emit`` is one of them (docs/performance.md, "Session 20"). Its one-pass
#: screen (tlmsim/verify/dram_scan.py) is compiled: it lets the checker skip that NumPy work on the
#: chunks that certainly break no rule (docs/performance.md, "Session 27")
HOT_MODULES = (
    "tlmsim.hw.dram", "tlmsim.hw.controller", "tlmsim.hw.sram", "tlmsim.hw.noc", "tlmsim.hw.pe_array",
    "tlmsim.engine.recorder", "tlmsim.engine.component", "tlmsim.engine.attribution", "tlmsim.engine.stats",
    "tlmsim.engine.transaction", "tlmsim.engine.plan", "tlmsim.engine.trace", "tlmsim.engine.sim", "tlmsim.soc.run",
    "tlmsim.dataflow.base", "tlmsim.dataflow.systolic", "tlmsim.dataflow.ws",
    "tlmsim.dataflow.tiling", "tlmsim.dataflow.activity", "tlmsim.dataflow.weights", "tlmsim.dataflow.formats",
    "tlmsim.dataflow.dense_ws", "tlmsim.dataflow.dense_os", "tlmsim.dataflow.dense_is", "tlmsim.dataflow.ptb",
    "tlmsim.dataflow.spikex", "tlmsim.dataflow.event", "tlmsim.verify.dram_scan",
)


#: module -> the module whose compiled class its own compiled classes derive from as extension types
#: (its ``.pxd`` cimports the base: tlmsim/engine/component.pxd): such a build is used only when the
#: base's build is, or its classes would derive from another class than the running ``Component``
EXTENDS = {name: "tlmsim.engine.component" for name in (
    "tlmsim.hw.dram", "tlmsim.hw.controller", "tlmsim.hw.sram", "tlmsim.hw.noc", "tlmsim.hw.pe_array")}
#: module -> the modules whose extension types its build cimports (its .pxd) beside its base: it is used only
#: when their builds are (else ``isinstance(model, Noc)`` in it would test against a class that does not run,
#: or its typed fields would hold instances of a class that does not run: the component's recorder, the
#: recorder's stall ledger)
CIMPORTS = {
    "tlmsim.hw.controller": ("tlmsim.hw.noc", "tlmsim.hw.sram", "tlmsim.hw.pe_array", "tlmsim.engine.plan",
                             "tlmsim.engine.sim"),
    "tlmsim.soc.run": ("tlmsim.engine.sim",),
    "tlmsim.hw.dram": ("tlmsim.engine.sim",),
    "tlmsim.dataflow.systolic": ("tlmsim.engine.plan",),
    "tlmsim.engine.component": ("tlmsim.engine.recorder",),
    "tlmsim.engine.recorder": ("tlmsim.engine.stats", "tlmsim.engine.transaction"),
    "tlmsim.hw.pe_array": ("tlmsim.engine.plan",),
}


def compiled_name(name: str) -> str:
    """The compiled build of module ``name``: ``tlmsim.hw.dram`` -> ``_tlmsim_compiled.hw_dram``."""
    return "_tlmsim_compiled." + name.removeprefix("tlmsim.").replace(".", "_")


#: module -> its compiled build (setup.py builds the same pairs)
COMPILED = {name: compiled_name(name) for name in HOT_MODULES}
#: module -> what runs ("compiled", or "pure Python (why)"), set by use_compiled
_chosen: dict[str, str] = {}


#: a declaration line of the source: ``# @cython.locals(...)`` on its own, above a ``def``
_DECL = re.compile(r"^([ \t]*)# (@cython\.locals\(.*\))[ \t]*$", re.M)
_FUTURE = re.compile(r"^from __future__ import annotations\n", re.M)
#: an import the build leaves out because the ``.pxd`` cimports the name (a base extension type)
_CIMPORTED = re.compile(r"^(from [\w.]+ import \w+)  # cimported by the \.pxd[ \t]*$", re.MULTILINE)


def typed_source(text: str) -> tuple[str, int]:
    """The build-time form of a source with type declarations: each ``# @cython.locals(...)``
    comment line becomes the decorator it spells (at its indentation) and ``import cython``
    follows ``from __future__ import annotations`` (or opens the file). The source keeps them as
    comments so that it runs without Cython and mutmut 3, which skips decorated functions,
    mutates those functions. An import line marked ``# cimported by the .pxd`` becomes a comment:
    the ``.pxd`` cimports that name (an extension type the module's class derives from), and
    Cython does not let a module assign to a cimported name. Returns (text, number of
    declarations)."""
    out, n = _DECL.subn(r"\1\2", text)
    out = _CIMPORTED.sub(r"# \1  (cimported by the .pxd)", out)
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


def _current_build(name: str, path: str | os.PathLike):
    """``(build, what runs)``: the compiled build of module ``name`` and "compiled" when it was made
    from the source file ``path``; else ``(None, "pure Python (why)")``. Shared by the import hook
    (:class:`CompiledFinder`) and :func:`use_compiled`."""
    try:
        mod = _import_compiled(COMPILED[name])
    except Exception as exc:  # noqa: BLE001 -- none, or a stale build whose body no longer runs: the source stands
        missing = isinstance(exc, ModuleNotFoundError) and exc.name in (COMPILED[name], COMPILED[name].split(".")[0])
        return None, "pure Python (" + ("no compiled build installed" if missing
                                         else f"the compiled build does not import: {exc}") + ")"
    if getattr(mod, "_SOURCE_SHA256", None) != source_digest(path):
        return None, ("pure Python (the installed compiled build was made from another version of "
                      f"{os.path.basename(path)}; reinstall to rebuild it)")
    base = EXTENDS.get(name)
    if base is not None and importlib.import_module(base) is not sys.modules.get(COMPILED[base]):
        return None, f"pure Python ({base.removeprefix('tlmsim.')}, the base of its classes, runs as pure Python)"
    for dep in CIMPORTS.get(name, ()):
        if importlib.import_module(dep) is not sys.modules.get(COMPILED[dep]):
            return None, f"pure Python ({dep.removeprefix('tlmsim.')}, whose compiled classes it uses, runs as pure Python)"
    return mod, "compiled"


def use_compiled(name: str, path: str | os.PathLike) -> bool:
    """Called by module ``name`` (file ``path``) at the end of its import: replace it in
    ``sys.modules`` by its compiled build if allowed (see the module docstring); record the
    choice. Returns whether the compiled build now stands for ``name``."""
    if pure_forced():
        _chosen[name] = "pure Python (TLMSIM_PURE is set)"
        return False
    mod, _chosen[name] = _current_build(name, path)
    if mod is None:
        return False
    sys.modules[name] = mod
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, mod)
    return True


class _Built(importlib.abc.Loader):
    """Loader of a module whose compiled build is already imported: hands that module over."""

    def __init__(self, module) -> None:
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module) -> None:
        pass  # its body ran when the build was imported


class CompiledFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder (first on ``sys.meta_path`` once ``tlmsim`` is imported) that answers an
    import of a module of :data:`COMPILED` with its compiled build when it may stand for the source
    (see the module docstring); else it declines and the source is imported as usual."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in COMPILED or pure_forced():
            return None
        source = importlib.machinery.PathFinder.find_spec(fullname, path)
        if source is None or not source.has_location:
            return None
        mod, _chosen[fullname] = _current_build(fullname, source.origin)
        if mod is None:
            return None  # the source is imported; its own call of use_compiled records why again
        return importlib.util.spec_from_loader(fullname, _Built(mod), origin=mod.__file__)


def install() -> None:
    """Put :class:`CompiledFinder` first on ``sys.meta_path`` (once; ``tlmsim/__init__.py`` calls it)."""
    if not any(isinstance(f, CompiledFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, CompiledFinder())


def kernel(name: str = "tlmsim.hw.dram") -> str:
    """What runs for module ``name`` ("compiled" or "pure Python (why)"); imports it if needed."""
    importlib.import_module(name)
    return _chosen.get(name, "pure Python")


def describe(every: bool = False) -> str:
    """One line: which build runs for the DRAM model (imported if it was not), then for the other
    hot modules, those imported so far (every one of them with ``every``: ``tlmsim --version``):
    "compiled (N)" when all are, else what runs and why, naming the modules that differ."""
    dram = f"DRAM model: {kernel('tlmsim.hw.dram')}"
    others = [n for n in COMPILED if n != "tlmsim.hw.dram" and (every or n in sys.modules)]
    for n in others:
        importlib.import_module(n)
    if not others:
        return dram
    states = {n: _chosen.get(n, "pure Python") for n in others}
    kinds = sorted(set(states.values()))
    seen = "" if every else " imported"  # without every: the modules this process has imported so far
    if len(kinds) == 1:
        what = f"{kinds[0]} ({len(others)}{seen})" if kinds[0] == "compiled" else f"{kinds[0]} ({len(others)}{seen} modules)"
    else:
        pure = [n.removeprefix("tlmsim.") for n in others if states[n] != "compiled"]
        why = sorted({states[n] for n in others if states[n] != "compiled"})
        what = f"compiled ({len(others) - len(pure)} of {len(others)}{seen}; {', '.join(pure)}: {'; '.join(why)})"
    return f"{dram}; other hot modules: {what}"
