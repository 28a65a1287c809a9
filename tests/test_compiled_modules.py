"""The compiled builds of the hot modules (tlmsim/kernels.py's HOT_MODULES, issue 17 item 5).

tests/hw/test_dram_compiled.py holds the DRAM model's typed build to its source; the golden
frames (tests/integration/test_golden_e2e.py) hold every build to the stored reports, so the CI
run, which installs the compiled builds, checks all of them on every probe. These tests check
the mechanism: every hot module hands itself over to its build, the finder lets a current build
stand in without running the source (and never a stale one), the switch and ``describe`` say
what runs, and under CI with a C compiler every build is installed and used.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tlmsim
from tlmsim import kernels

PKG = Path(tlmsim.__file__).resolve().parent
ROOT = PKG.parent


def _source(name: str) -> Path:
    return PKG.parent / (name.replace(".", "/") + ".py")


def test_names_of_the_builds():
    assert kernels.compiled_name("tlmsim.hw.dram") == "_tlmsim_compiled.hw_dram"
    assert kernels.compiled_name("tlmsim.dataflow.dense_ws") == "_tlmsim_compiled.dataflow_dense_ws"
    assert len(set(kernels.COMPILED.values())) == len(kernels.COMPILED) == len(kernels.HOT_MODULES)
    assert next(iter(kernels.COMPILED)) == "tlmsim.hw.dram"


@pytest.mark.parametrize("name", kernels.HOT_MODULES)
def test_every_hot_module_exists_and_ends_by_handing_over(name):
    """The last statement of each source is ``if __name__ == <its name>: use_compiled(__name__,
    __file__)``: a source imported without the finder still swaps in its current build, and
    records why not otherwise; the build itself (another ``__name__``) skips it."""
    tree = ast.parse(_source(name).read_text())
    last = tree.body[-1]
    assert isinstance(last, ast.If)
    test = last.test
    assert isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
    assert isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == name
    call = last.body[-1].value
    assert isinstance(call, ast.Call) and call.func.id == "use_compiled"
    assert [a.id for a in call.args] == ["__name__", "__file__"]


def test_the_finder_is_installed_first_by_importing_tlmsim():
    assert isinstance(sys.meta_path[0], kernels.CompiledFinder)
    kernels.install()  # twice: still one
    assert sum(isinstance(f, kernels.CompiledFinder) for f in sys.meta_path) == 1


def test_the_finder_declines_other_modules_and_the_pure_switch(monkeypatch):
    finder = kernels.CompiledFinder()
    assert finder.find_spec("tlmsim.report", None) is None  # not a hot module
    monkeypatch.setenv("TLMSIM_PURE", "1")
    assert finder.find_spec("tlmsim.hw.sram", [str(PKG / "hw")]) is None


def _current_build(name: str):
    """The installed build of ``name``, current with its source; else skip (fail under CI with a compiler)."""
    from tests.hw.test_dram_compiled import _must_have_compiled

    try:
        mod = kernels._import_compiled(kernels.COMPILED[name])
    except ImportError as exc:
        why = f"no compiled build of {name} is installed ({exc})"
    else:
        if getattr(mod, "_SOURCE_SHA256", None) == kernels.source_digest(_source(name)):
            return mod
        why = f"the installed build of {name} is of another version of its source; reinstall to rebuild it"
    if _must_have_compiled():
        pytest.fail("CI with a C compiler: " + why)
    pytest.skip(why)


def test_a_stale_build_is_not_used(tmp_path, monkeypatch):
    """The finder answers an import with the build only when the build was made from the very
    source the import would load: an edited source (here a copy with one more line) is imported
    as Python."""
    monkeypatch.delenv("TLMSIM_PURE", raising=False)
    build = _current_build("tlmsim.engine.stats")  # not a hardware model: its build stands alone (EXTENDS)
    finder = kernels.CompiledFinder()
    spec = finder.find_spec("tlmsim.engine.stats", [str(PKG / "engine")])
    assert spec is not None and spec.loader.create_module(spec) is build
    (tmp_path / "stats.py").write_bytes(_source("tlmsim.engine.stats").read_bytes() + b"\n# edited\n")
    assert finder.find_spec("tlmsim.engine.stats", [str(tmp_path)]) is None


def test_every_build_stands_in_for_its_source():
    """In a fresh process (TLMSIM_PURE unset) each hot module's import gives its compiled build,
    whose source body never ran (no module of the source's name was made on the way), and
    ``tlmsim --version`` says so."""
    for name in kernels.HOT_MODULES:
        _current_build(name)
    code = ("import sys, importlib, tlmsim.kernels as k\n"
            "made = []\n"
            "for n in k.HOT_MODULES:\n"
            "    m = importlib.import_module(n)\n"
            "    made.append((n, m.__name__, k.kernel(n)))\n"
            "print(repr(made)); print(k.describe(every=True))\n")
    env = {k: v for k, v in os.environ.items() if k != "TLMSIM_PURE"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.splitlines()
    made = ast.literal_eval(out[0])
    assert made == [(n, kernels.COMPILED[n], "compiled") for n in kernels.HOT_MODULES]
    assert out[1] == f"DRAM model: compiled; other hot modules: compiled ({len(kernels.HOT_MODULES) - 1})"


def test_describe_names_the_modules_that_run_as_python(monkeypatch):
    import importlib

    for name in kernels.HOT_MODULES:  # imported first: an import records its own choice in _chosen
        importlib.import_module(name)
    monkeypatch.setattr(kernels, "_chosen", {n: "compiled" for n in kernels.COMPILED})
    monkeypatch.setitem(kernels._chosen, "tlmsim.hw.noc", "pure Python (the installed compiled build was made "
                        "from another version of noc.py; reinstall to rebuild it)")
    n = len(kernels.COMPILED) - 1  # the hot modules but the DRAM model
    text = kernels.describe()
    assert text == (f"DRAM model: compiled; other hot modules: compiled ({n - 1} of {n} imported; hw.noc: pure "
                    "Python (the installed compiled build was made from another version of noc.py; reinstall to "
                    "rebuild it))")
    assert kernels.describe(every=True) == text.replace(" imported;", ";")
    monkeypatch.setitem(kernels._chosen, "tlmsim.hw.noc", "compiled")
    assert kernels.describe() == f"DRAM model: compiled; other hot modules: compiled ({n} imported)"
    assert kernels.describe(every=True) == f"DRAM model: compiled; other hot modules: compiled ({n})"


def test_a_build_whose_body_fails_leaves_the_source(tmp_path, monkeypatch):
    """A stale build may fail in its own body (a name its copy imports was since renamed, say): the
    finder declines and use_compiled records why, whatever the exception; the source stands."""
    pkg = tmp_path / "_tlmsim_fake_build"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "hw_sram.py").write_text("raise RuntimeError('a stale body')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("TLMSIM_PURE", raising=False)
    monkeypatch.setitem(kernels.COMPILED, "tlmsim.hw.sram", "_tlmsim_fake_build.hw_sram")
    monkeypatch.setattr(kernels, "_chosen", {})
    assert kernels.CompiledFinder().find_spec("tlmsim.hw.sram", [str(PKG / "hw")]) is None
    before = sys.modules.get("tlmsim.hw.sram")
    assert kernels.use_compiled("tlmsim.hw.sram", _source("tlmsim.hw.sram")) is False
    assert sys.modules.get("tlmsim.hw.sram") is before
    assert kernels._chosen["tlmsim.hw.sram"] == "pure Python (the compiled build does not import: a stale body)"


def _own_nodes(fn: ast.AST):
    """The nodes of ``fn``'s own body (a nested function, lambda or class itself, not its insides)."""
    stack = list(fn.body) if isinstance(fn.body, list) else [fn.body]
    while stack:
        n = stack.pop()
        yield n
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(n))


def _bound_names(fn: ast.AST) -> set[str]:
    """Names a function binds itself: its parameters and every name it stores, the functions and
    classes it defines included (not the names bound inside them)."""
    out = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    out |= {a.arg for a in (fn.args.vararg, fn.args.kwarg) if a is not None}
    for n in _own_nodes(fn):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
    return out


def _nested_readers(tree: ast.AST) -> list[str]:
    """Functions and lambdas nested in a generator that read the generator's own names (a name a
    lambda takes as a default argument is read when the lambda is made, not kept)."""
    offenders = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        own = list(_own_nodes(fn))
        if not any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own):
            continue
        bound = _bound_names(fn)
        for inner in sorted((n for n in own if isinstance(n, (ast.FunctionDef, ast.Lambda))), key=lambda n: n.lineno):
            defaults = [d for d in [*inner.args.defaults, *inner.args.kw_defaults] if d is not None]
            in_defaults = {id(n) for d in defaults for n in ast.walk(d)}
            reads = {n.id for n in ast.walk(inner)
                     if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in in_defaults}
            free = (reads - _bound_names(inner)) & bound
            if free:
                offenders.append(f"{fn.name}:{inner.lineno} reads {sorted(free)}")
    return offenders


@pytest.mark.parametrize("name", kernels.HOT_MODULES)
def test_no_generator_of_a_hot_module_nests_a_function_that_reads_its_locals(name):
    """In the compiled build a generator keeps its locals in one closure record, which a function
    nested in it and reading them refers to: the record and the function are then a reference
    cycle that keeps everything the generator held alive after it ended, until the cyclic collector
    runs (a finished pipeline stage's plans, session 18: Controller._run_stage). The pure build
    frees them as the generator ends. So no generator of a hot module nests a function or lambda
    that reads the generator's own names (a lambda may take values as default arguments)."""
    assert _nested_readers(ast.parse(_source(name).read_text())) == []


def test_the_generator_check_sees_a_nested_reader():
    """The check above on a sample: a nested function reading the generator's local is found; a
    lambda taking it as a default argument, a plain function's nested reader, are not."""
    code = ("def gen(env):\n"
            "    marks = {}\n"
            "    def mark(k):\n"
            "        return marks.get(k)\n"
            "    cb = lambda ev, m=marks: m.clear()\n"
            "    yield mark(1)\n"
            "def plain():\n"
            "    n = 1\n"
            "    return lambda: n\n")
    assert _nested_readers(ast.parse(code)) == ["gen:3 reads ['marks']"]


# -- the hardware models as extension types (tlmsim/engine/component.pxd) -------------------------
def test_each_extension_type_derives_from_the_compiled_component():
    """Every module of ``kernels.EXTENDS`` declares its class an extension type deriving from the
    compiled ``Component`` (its ``.pxd`` cimports it, and the source marks its own import of the
    name, which the build leaves out), and no other module's ``.pxd`` does."""
    cimport = "from _tlmsim_compiled.engine_component cimport Component\n"
    marked = "from tlmsim.engine.component import Component  # cimported by the .pxd\n"
    for name, base in kernels.EXTENDS.items():
        assert base == "tlmsim.engine.component" and name in kernels.HOT_MODULES
        src = _source(name)
        pxd = src.with_suffix(".pxd").read_text()
        classes = [n.name for n in ast.parse(src.read_text()).body
                   if isinstance(n, ast.ClassDef) and any(getattr(b, "id", "") == "Component" for b in n.bases)]
        assert len(classes) == 1 and cimport in pxd and f"cdef class {classes[0]}(Component):" in pxd, name
        assert marked in src.read_text(), name
        built, _ = kernels.typed_source(src.read_text())
        assert marked not in built
        assert "# from tlmsim.engine.component import Component  (cimported by the .pxd)" in built
    others = [p for p in PKG.rglob("*.pxd") if cimport in p.read_text()]
    assert sorted(others) == sorted(_source(n).with_suffix(".pxd") for n in kernels.EXTENDS)
    assert "cdef class Component:" in (PKG / "engine" / "component.pxd").read_text()


def test_the_hardware_models_run_compiled_only_beside_a_compiled_component(monkeypatch):
    """With component.py running as Python (edited since the install, say), the hardware models'
    builds, whose classes derive from the compiled Component, must not stand in: a model would
    then not be an instance of the running ``Component``. The finder declines them and says why."""
    import types

    for name in kernels.EXTENDS:
        _current_build(name)  # installed and current (else skip; fail under CI with a compiler)
    monkeypatch.delenv("TLMSIM_PURE", raising=False)
    monkeypatch.setattr(kernels, "_chosen", {})
    finder = kernels.CompiledFinder()
    # component.py's build stands (as in a process without TLMSIM_PURE)
    base = kernels._import_compiled(kernels.COMPILED["tlmsim.engine.component"])
    monkeypatch.setitem(sys.modules, "tlmsim.engine.component", base)
    for name in kernels.EXTENDS:  # and the builds some of them cimport (kernels.CIMPORTS)
        for dep in kernels.CIMPORTS.get(name, ()):
            monkeypatch.setitem(sys.modules, dep, kernels._import_compiled(kernels.COMPILED[dep]))
    for name in kernels.EXTENDS:
        assert kernels._current_build(name, _source(name))[1] == "compiled"
    # the source of component.py stands (another module object than its build)
    monkeypatch.setitem(sys.modules, "tlmsim.engine.component", types.ModuleType("tlmsim.engine.component"))
    why = "pure Python (engine.component, the base of its classes, runs as pure Python)"
    for name in kernels.EXTENDS:
        assert kernels._current_build(name, _source(name)) == (None, why)
        assert finder.find_spec(name, [str(_source(name).parent)]) is None
        assert kernels._chosen[name] == why


def test_the_controller_runs_compiled_only_beside_a_compiled_sram_noc_pe_array_plan_and_kernel(monkeypatch):
    """The controller's build cimports the SRAM's and the NoC's extension types (it calls their ``book``
    at C level and tests models with ``isinstance`` against them), the PE array's (its compute step
    calls ``start`` and ``finish`` at C level, session 35), the plan's move and tile and the kernel's
    event and timeout (its per-tile loops and event helpers read and write their fields as C struct
    fields): with noc.py, sram.py, pe_array.py, plan.py or sim.py running as Python, those tests (or the
    typed code, given Python objects) would fail, so the finder declines the controller's build too."""

    name = "tlmsim.hw.controller"
    assert kernels.CIMPORTS[name] == ("tlmsim.hw.noc", "tlmsim.hw.sram", "tlmsim.hw.pe_array", "tlmsim.engine.plan",
                                      "tlmsim.engine.sim")
    pxd = _source(name).with_suffix(".pxd").read_text()
    assert "from _tlmsim_compiled.hw_noc cimport Noc\n" in pxd and "from _tlmsim_compiled.hw_sram cimport Sram\n" in pxd
    assert "from _tlmsim_compiled.hw_pe_array cimport PeArray\n" in pxd
    assert "from tlmsim.hw.pe_array import PeArray  # cimported by the .pxd\n" in _source(name).read_text()
    assert "from _tlmsim_compiled.engine_plan cimport Move, Tile\n" in pxd
    assert "from _tlmsim_compiled.engine_sim cimport Environment, Event, Timeout\n" in pxd
    for dep in ("tlmsim.engine.component", name, *kernels.CIMPORTS[name]):
        _current_build(dep)  # installed and current (else skip; fail under CI with a compiler)
    monkeypatch.delenv("TLMSIM_PURE", raising=False)
    monkeypatch.setattr(kernels, "_chosen", {})
    for dep in ("tlmsim.engine.component", *kernels.CIMPORTS[name]):
        monkeypatch.setitem(sys.modules, dep, kernels._import_compiled(kernels.COMPILED[dep]))
    assert kernels._current_build(name, _source(name))[1] == "compiled"
    for dep in kernels.CIMPORTS[name]:
        _declined_beside_a_pure(monkeypatch, name, dep)


def test_the_run_loop_runs_compiled_only_beside_a_compiled_kernel(monkeypatch):
    """The run loop's build (tlmsim/soc/run.pxd) cimports the kernel's event to read its fields as C
    struct fields: with sim.py running as Python, its events would be another class (every event would
    take the loop's generic branch), so the finder declines the run loop's build too."""
    _runs_compiled_only_beside(monkeypatch, "tlmsim.soc.run", "tlmsim.engine.sim",
                               "from _tlmsim_compiled.engine_sim cimport Environment, Event\n")


def test_the_dram_model_runs_compiled_only_beside_a_compiled_kernel(monkeypatch):
    """The DRAM model's build (tlmsim/hw/dram.pxd) cimports the kernel's environment and timeout: its wakes
    and completions go on the kernel's queue as C fields (session 34); with sim.py running as Python the
    environment would be another class, so the finder declines the DRAM model's build too."""
    _runs_compiled_only_beside(monkeypatch, "tlmsim.hw.dram", "tlmsim.engine.sim",
                               "from _tlmsim_compiled.engine_sim cimport Environment, Timeout\n")


def test_the_planner_runs_compiled_only_beside_compiled_plans(monkeypatch):
    """The dataflows' step (tlmsim/dataflow/systolic.pxd) derives from the plans' compiled ``Record``: with
    plan.py running as Python, the finder declines systolic.py's build too."""
    _runs_compiled_only_beside(monkeypatch, "tlmsim.dataflow.systolic", "tlmsim.engine.plan",
                               "from _tlmsim_compiled.engine_plan cimport Record\n")


def _runs_compiled_only_beside(monkeypatch, name: str, dep: str, cimport: str) -> None:
    """``name``'s ``.pxd`` cimports from ``dep`` alone (the line ``cimport``): its build runs beside
    ``dep``'s build and is declined beside ``dep``'s source (:func:`_declined_beside_a_pure`)."""
    assert kernels.CIMPORTS[name] == (dep,)
    assert cimport in _source(name).with_suffix(".pxd").read_text()
    for mod in (name, dep):
        _current_build(mod)  # installed and current (else skip; fail under CI with a compiler)
    monkeypatch.delenv("TLMSIM_PURE", raising=False)
    monkeypatch.setattr(kernels, "_chosen", {})
    monkeypatch.setitem(sys.modules, dep, kernels._import_compiled(kernels.COMPILED[dep]))
    assert kernels._current_build(name, _source(name))[1] == "compiled"
    _declined_beside_a_pure(monkeypatch, name, dep)


def _declined_beside_a_pure(monkeypatch, name: str, dep: str) -> None:
    """With ``dep``'s source standing (another module object than its build), the finder declines
    ``name``'s build and says why; then ``dep``'s build stands again."""
    import types

    monkeypatch.setitem(sys.modules, dep, types.ModuleType(dep))  # its source stands
    why = f"pure Python ({dep.removeprefix('tlmsim.')}, whose compiled classes it uses, runs as pure Python)"
    assert kernels._current_build(name, _source(name)) == (None, why)
    assert kernels.CompiledFinder().find_spec(name, [str(_source(name).parent)]) is None
    assert kernels._chosen[name] == why
    monkeypatch.setitem(sys.modules, dep, kernels._import_compiled(kernels.COMPILED[dep]))


def test_every_hardware_model_is_a_component_in_either_build():
    """Whichever build runs, the models of a run are instances of the ``Component`` that
    ``tlmsim.engine.component`` holds (the class reports and the controller test against)."""
    from tlmsim.engine.component import Component
    from tlmsim.platform import load_platform
    from tlmsim.soc.run import simulate
    from tlmsim.workload import load_workload

    result = simulate(load_platform("ddr4-baseline", []), load_workload("digits-snn", seed=0), seed=0)
    kinds = {c.KIND for c in result.components.values()}
    assert kinds == {"dram", "sram", "noc", "pe_array", "controller"}
    assert all(isinstance(c, Component) for c in result.components.values())


def test_the_component_and_the_recorder_run_compiled_only_beside_the_builds_they_cimport(monkeypatch):
    """The component's build types its recorder (a compiled ``Recorder``), the recorder's its stall
    ledger (a compiled ``StallLedger``) and the transactions it completes (a compiled ``Transaction``),
    the PE array's the tiles it computes (a compiled ``Tile``): with recorder.py, stats.py,
    transaction.py or plan.py running as Python, such a field or local would refuse the running class's
    instances, so the finder declines the build that cimports it (and, through EXTENDS, the hardware
    models then run as Python too)."""

    pairs = {"tlmsim.engine.component": (("tlmsim.engine.recorder", "Recorder"),),
             "tlmsim.engine.recorder": (("tlmsim.engine.stats", "StallLedger"),
                                        ("tlmsim.engine.transaction", "Transaction")),
             "tlmsim.hw.pe_array": (("tlmsim.engine.plan", "Tile"),)}
    for name, deps in pairs.items():
        assert kernels.CIMPORTS[name] == tuple(dep for dep, _ in deps)
        for dep, cls in deps:
            cimport = f"from {kernels.COMPILED[dep]} cimport {cls}\n"
            assert cimport in _source(name).with_suffix(".pxd").read_text(), name
            marked = f"from {dep} import {cls}  # cimported by the .pxd\n"
            assert marked in _source(name).read_text(), name
            assert marked not in kernels.typed_source(_source(name).read_text())[0]
            _current_build(dep)  # installed and current (else skip; fail under CI with a compiler)
        _current_build(name)
    monkeypatch.delenv("TLMSIM_PURE", raising=False)
    monkeypatch.setattr(kernels, "_chosen", {})
    for name, deps in pairs.items():
        for dep, _ in deps:
            monkeypatch.setitem(sys.modules, dep, kernels._import_compiled(kernels.COMPILED[dep]))
        for dep in kernels.CIMPORTS.get(kernels.EXTENDS.get(name, ""), ()):  # the base's own cimports
            monkeypatch.setitem(sys.modules, dep, kernels._import_compiled(kernels.COMPILED[dep]))
        if name in kernels.EXTENDS:
            base = kernels.EXTENDS[name]
            monkeypatch.setitem(sys.modules, base, kernels._import_compiled(kernels.COMPILED[base]))
        assert kernels._current_build(name, _source(name))[1] == "compiled"
        for dep, _ in deps:
            _declined_beside_a_pure(monkeypatch, name, dep)


def test_every_pxd_is_installed_beside_its_source():
    """A compiled build is used only when its source and the ``.pxd`` beside it hash as they did at build
    time (tlmsim/kernels.py): a ``.pxd`` left out of the installed package makes its module run as pure
    Python in every install but an editable one (session 32: soc/run.pxd and dataflow/systolic.pxd were
    new, and setup.py's package_data named only hw's and engine's)."""
    import re

    setup_py = (PKG.parent / "setup.py").read_text()
    installed = set(re.findall(r'"(tlmsim(?:\.\w+)*)": \[[^\]]*"\*\.pxd"', setup_py))
    packages = {".".join(("tlmsim", *p.relative_to(PKG).parent.parts)) for p in PKG.rglob("*.pxd")}
    assert packages and packages <= installed, sorted(packages - installed)
