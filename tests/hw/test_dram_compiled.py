"""The compiled build of the DRAM model against its pure-Python source (issue 17 item 5).

``pip install .`` compiles a copy of tlmsim/hw/dram.py with Cython into
``_tlmsim_compiled.hw_dram`` (``kernels.COMPILED``; session 18 renamed it from ``_tlmsim_compiled.dram``) when it can (setup.py); tlmsim/kernels.py puts it in the place of
``tlmsim.hw.dram`` unless ``TLMSIM_PURE=1``. These tests load both side by side in one process
(the pure source under another module name, so it does not hand itself over) and require the
same completion times, command log (in logging order), counters, stalls, background cycles and
energy on seeded random streams, under each page policy, with and without power-down, with the
fast paths and with the plain scheduler, and on DDR4, LPDDR4 and HBM2 presets; on saturating
block reads with writes, refresh and power-down on four organisations (the typed row-hit runs);
with NumPy integers; and the same report frames end to end on two golden probes, one run in a
subprocess with ``TLMSIM_PURE=1``. The compiled build is typed (tlmsim/hw/dram.pxd and the
``# @cython.locals(...)`` comments in dram.py, decorators in the build copy): a test holds its
records to int64.

They skip, saying why, when no compiled build is installed or it was built from another
version of dram.py; except under CI (``CI`` set, as .ci/run runs) on a machine with the C
compiler Python was built with: there the build must be installed and current, so a build
that silently failed to compile fails here instead of skipping.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest

import tlmsim
from tests.hw.dram_stream import run_stream
from tests.hw.test_dram_diff import _config, _stream
from tlmsim import kernels
from tlmsim.platform.dram import DramConfig

SRC = Path(tlmsim.__file__).resolve().parent / "hw" / "dram.py"
ROOT = Path(__file__).resolve().parents[2]


def _compiler_present() -> bool:
    cc = (sysconfig.get_config_var("CC") or "").split()
    return bool(cc) and shutil.which(cc[0]) is not None


def _must_have_compiled() -> bool:
    """Under CI with a C compiler the compiled build must be there (the install builds it)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") and _compiler_present()


def _compiled():
    """The installed compiled build, current with dram.py; else skip (or fail under CI, see above)."""
    try:
        mod = kernels._import_compiled(kernels.COMPILED["tlmsim.hw.dram"])
    except ImportError as exc:
        why = f"no compiled DRAM build is installed ({exc}); `pip install .` with a C compiler builds it"
    else:
        if getattr(mod, "_SOURCE_SHA256", None) == kernels.source_digest(SRC):
            return mod
        why = f"the installed compiled DRAM build is of another version of {SRC}; reinstall to rebuild it"
    if _must_have_compiled():
        pytest.fail("CI with a C compiler: " + why)
    pytest.skip(why)


def _pure():
    """dram.py run as plain Python under another module name (its hand-over to the build checks the name)."""
    spec = importlib.util.spec_from_file_location("tlmsim_pure_dram", SRC)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert not hasattr(mod, "_SOURCE_SHA256") and mod.__file__ == str(SRC)
    return mod


@pytest.fixture(scope="module")
def both():
    return _pure(), _compiled()


def _run(mod, config: DramConfig, items, plain: bool):
    """Everything the model of build ``mod`` returns for ``items`` ((arrival ps, write, address, bytes), ...)."""
    ends, dram, rec = run_stream(config, items, plain, dram_cls=mod.Dram)
    return {"end_ps": dram.env.now, "ends": ends, "log": dram.command_records().tolist(),
            "stats": sorted(dram.stats.c.items()), "stalls": sorted(rec.stalls.entries.items()),
            "background": dram.background_cycles(), "energy": dram.energy_pj()}


CASES = [(policy, powerdown, queues) for policy in ("open", "closed", "adaptive") for powerdown in (False, True)
         for queues in ((32, 8), (4, 2))]


@pytest.mark.parametrize("policy, powerdown, queues", CASES)
def test_compiled_equals_pure_on_random_streams(both, policy, powerdown, queues):
    pure, comp = both
    assert comp.Dram is not pure.Dram and comp.__file__ != pure.__file__  # two builds really run
    cfg = _config(policy, powerdown, queues)
    rng = random.Random(f"compiled-{policy}-{powerdown}-{queues}")
    for i in range(4):
        items = _stream(rng, 30, focus=i % 2 == 1)
        for plain in (False, True):
            a, b = _run(pure, cfg, items, plain), _run(comp, cfg, items, plain)
            assert a == b
            assert len(a["log"]) > 30 and a["energy"]["read"] > 0  # not vacuous: commands were issued


@pytest.mark.parametrize("preset", ["DDR4-3200", "LPDDR4-2400", "HBM2", "GDDR6"])
def test_compiled_equals_pure_on_shipped_presets(both, preset):
    pure, comp = both
    cfg = DramConfig.model_validate({"preset": preset, "powerdown": True})
    rng = random.Random(preset)
    items, at = [], 0
    for _ in range(150):  # 4 KiB-ish blocks over 64 MiB, some sequential runs, a quarter writes
        at += rng.choice([0, 0, 2, 20, 300, 5000])
        base = rng.randrange(1 << 26) & ~63 if rng.random() < 0.6 else (len(items) * 4096) % (1 << 20)
        items.append((at * 1000, rng.random() < 0.25, base, rng.choice([64, 256, 1024, 4096])))
    for plain in (False, True):
        a, b = _run(pure, cfg, items, plain), _run(comp, cfg, items, plain)
        assert a == b
        assert a["stats"] and dict(a["stats"])["rd"] > 100


def _counting(pure, monkeypatch, names):
    """Count the calls of the pure module's Dram methods ``names`` (the compiled build's cannot be
    wrapped from Python): shows that a stream reaches the typed fast paths."""
    calls = dict.fromkeys(names, 0)
    for name in names:
        orig = getattr(pure.Dram, name)

        def wrapped(self, *a, _orig=orig, _name=name, **k):
            calls[_name] += 1
            return _orig(self, *a, **k)

        monkeypatch.setattr(pure.Dram, name, wrapped)
    return calls


def _saturating(rng: random.Random, n: int, span: int, writes: float, gap_ns: tuple[int, ...]):
    """``n`` read streams of 1-16 KiB blocks, mostly sequential (as a layer's weight and feature-map
    loads), a fraction ``writes`` of 64 B-4 KiB writes, arrival gaps from ``gap_ns``."""
    items, at, nxt = [], 0, 0
    for _ in range(n):
        at += rng.choice(gap_ns)
        if rng.random() < writes:
            items.append((at * 1000, True, rng.randrange(span) & ~63, rng.choice([64, 512, 4096])))
            continue
        if rng.random() < 0.3:
            nxt = rng.randrange(span) & ~4095
        size = rng.choice([1024, 4096, 8192, 16384])
        items.append((at * 1000, False, nxt, size))
        nxt = (nxt + size) % span
    return items


#: organisations of the typed paths: one channel with two ranks (DDR4), eight pseudo-channels
#: (HBM2), LPDDR4's one rank of eight banks without bank groups, and a two-channel two-rank DDR4
ORGS = {
    "DDR4-3200": {},
    "HBM2": {},
    "LPDDR4-2400": {},
    "DDR4-2ch-2rank": {"preset": "DDR4-3200", "org": {"channels": 2, "ranks": 2},
                       "address_mapping": "rochrabgbaco"},
}


@pytest.mark.parametrize("org", sorted(ORGS))
@pytest.mark.parametrize("powerdown", [False, True])
def test_compiled_equals_pure_on_saturating_reads(both, monkeypatch, org, powerdown):
    """Back-to-back block reads that fill the queues (the typed row-hit runs: one bank batched,
    two bank groups alternating, the saturated slice), with writes (drains, forwarding, merging),
    idle gaps long enough for power-down and self-refresh, and refreshes on the way."""
    pure, comp = both
    extra = ORGS[org]
    cfg = DramConfig.model_validate({"preset": extra.get("preset", org), "powerdown": powerdown,
                                     **{k: v for k, v in extra.items() if k != "preset"}})
    calls = _counting(pure, monkeypatch, ("_solo_batch", "_pair_batch", "_hit_run", "_start_refresh", "_rank_busy"))
    rng = random.Random(f"saturating-{org}-{powerdown}")
    items = _saturating(rng, 40, 1 << 24, 0.15, (0, 0, 0, 5, 50, 3000, 20000))
    for plain in (False, True):
        a, b = _run(pure, cfg, items, plain), _run(comp, cfg, items, plain)
        assert a == b
        stats = dict(a["stats"])
        assert stats["rd"] > 400 and stats["wr"] > 0 and stats["ref"] > 0
        if powerdown:
            assert stats["powerdowns"] > 0
    # not vacuous: the fast paths ran (pure build, fast scheduler), and refresh and power-down exits
    assert calls["_hit_run"] > 0 and calls["_solo_batch"] > 0 and calls["_start_refresh"] > 0
    if org != "LPDDR4-2400":  # LPDDR4 has no bank groups: no pair of bank groups to alternate
        assert calls["_pair_batch"] > 0
    if powerdown:
        assert calls["_rank_busy"] > 0


def test_compiled_takes_numpy_integers_as_python_ones(both):
    """Addresses and sizes as NumPy int64 (as a planner may hand them) give the same results as
    Python ints in the compiled build (they enter its C ``long long`` slots) and in the source."""
    import numpy as np

    pure, comp = both
    cfg = DramConfig.model_validate({"preset": "DDR4-3200", "powerdown": True})
    rng = random.Random("numpy-ints")
    items = _saturating(rng, 30, 1 << 30, 0.2, (0, 0, 7, 400, 9000))
    as_np = [(np.int64(at), w, np.int64(a), np.int64(n)) for at, w, a, n in items]
    ref = _run(pure, cfg, items, False)
    assert _run(comp, cfg, as_np, False) == ref
    assert _run(pure, cfg, as_np, False) == ref


def test_compiled_records_are_typed_and_bounded(both):
    """The compiled build's request and channel records are C structs (tlmsim/hw/dram.pxd): a value
    outside int64 is refused (OverflowError), never wrapped; the largest the model stores (_INF,
    "no wake") fits; the attributes read and write from Python as in the source."""
    pure, comp = both
    chan = comp._Chan(4)
    chan.wake_at = comp._INF
    assert chan.wake_at == 1 << 62 and chan.cyc == 0 and chan.bq == [[], [], [], []]
    tx = comp._Txn(None, None, 3, 0, 5)
    req = comp._Req(7, 1, 1, 2, 3, True, tx, 99)
    assert (req.seq, req.gb, req.row, req.col, req.write, req.txn, req.q, req.queued) == (7, 1, 2, 3, True, tx, 99, 0)
    with pytest.raises(OverflowError):
        req.queued = 1 << 63
    with pytest.raises(TypeError):  # the request's transaction slot holds a _Txn only
        comp._Req(7, 1, 1, 2, 3, True, object(), 99)
    run = comp._Req.run(10, 1, 1, 2, 5, False, tx, 40, 3)
    assert [(r.seq, r.col, r.q, r.txn is tx) for r in run] == [(10, 5, 40, True), (11, 6, 41, True), (12, 7, 42, True)]
    pure_req = pure._Req(7, 1, 1, 2, 3, True, tx, 99)
    pure_req.queued = 1 << 63  # the source keeps Python ints: only the compiled build is bounded
    assert pure_req.queued == 1 << 63


def _typed_names(decorator: ast.expr) -> set[str]:
    return {kw.arg for kw in decorator.keywords} if (
        isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr == "locals") else set()


def _bound_in(scope: ast.AST) -> set[str]:
    """Names a nested scope binds itself: its parameters, targets and comprehension variables."""
    out: set[str] = set()
    args = getattr(scope, "args", None)
    if isinstance(args, ast.arguments):
        out |= {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        out |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
    return out


def test_declarations_are_comments_in_the_source_and_decorators_in_the_build_copy():
    """dram.py spells its typed locals as ``# @cython.locals(...)`` comments (mutmut 3 skips
    decorated functions, and the source needs no Cython); typed_source makes each the decorator
    of the function below it, at its indentation, and imports cython after the __future__ line."""
    src = SRC.read_text()
    tree = ast.parse(src)
    decorated = [fn.name for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef) and fn.decorator_list
                 and not (len(fn.decorator_list) == 1 and isinstance(fn.decorator_list[0], ast.Name)
                          and fn.decorator_list[0].id in ("staticmethod", "classmethod", "property"))]
    assert decorated == []  # every function stays mutable by mutmut 3
    text, n = kernels.typed_source(src)
    assert n == src.count("\n    # @cython.locals(") == 34
    typed = {fn.name for fn in ast.walk(ast.parse(text)) if isinstance(fn, ast.FunctionDef)
             and any(isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "locals" for d in fn.decorator_list)}
    assert {"_pick", "_col_ready", "_hit_run", "_pair_batch", "_solo_batch", "run", "submit", "drop", "_schedule",
            "_on_wake", "_finish"} <= typed and len(typed) == 34
    assert text.index("import cython") > text.index("from __future__ import annotations")
    small = "from __future__ import annotations\nclass A:\n    # @cython.locals(x=cython.longlong)\n    def f(self, x):\n        return x\n"
    assert kernels.typed_source(small) == (
        "from __future__ import annotations\nimport cython  # setup.py: the declarations below are Cython's\n"
        "class A:\n    @cython.locals(x=cython.longlong)\n    def f(self, x):\n        return x\n", 1)
    assert kernels.typed_source("x = 1  # @cython.locals(y=1)\n") == ("x = 1  # @cython.locals(y=1)\n", 0)


def test_typed_functions_have_no_nested_scope_reading_a_typed_local():
    """Cython gives a generator expression, lambda or inner function of a function typed with
    ``@cython.locals`` its own copies of the typed names (found in session 12: ``all(it.row == row
    for it in rqb)`` read a zero ``row`` in the compiled build). So a nested scope of a typed
    function may use a typed name only if it binds it itself (its loop variable, a parameter);
    list, set and dict comprehensions are inlined by Cython and are not nested scopes here.
    Static (no build needed): the source must keep this for the compiled build to equal it."""
    text, n = kernels.typed_source(SRC.read_text())
    assert n >= 15
    tree = ast.parse(text)  # the build-time copy's form: the declarations as decorators
    offenders, typed_functions = [], 0
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        typed = set().union(*(_typed_names(d) for d in fn.decorator_list))
        if not typed:
            continue
        typed_functions += 1
        for node in ast.walk(fn):
            if node is fn or not isinstance(node, (ast.GeneratorExp, ast.Lambda, ast.FunctionDef)):
                continue
            body = node.elt if isinstance(node, ast.GeneratorExp) else node
            outer_iter = node.generators[0].iter if isinstance(node, ast.GeneratorExp) else None
            defaults = node.args.defaults + node.args.kw_defaults if not isinstance(node, ast.GeneratorExp) else []
            skip = {id(n) for d in [outer_iter, *defaults] if d is not None for n in ast.walk(d)}
            parts = [body] + ([g for gen in node.generators for g in [gen.target, *gen.ifs]]
                              + [gen.iter for gen in node.generators[1:]] if isinstance(node, ast.GeneratorExp) else [])
            own = _bound_in(node)
            for part in parts:
                for n in ast.walk(part):
                    if (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in skip
                            and n.id in typed and n.id not in own):
                        offenders.append(f"{fn.name}:{n.lineno} {n.id}")
    assert typed_functions >= 15  # the declarations are there
    assert not offenders, offenders


#: two golden probes (tools/golden.py) with different DRAM protocols and dataflows
PROBES = ("ddr4-baseline:spikex:digits-snn", "hbm2-server:dense-os:digits-snn")
_FRAMES = """
import importlib.util, json, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("tlmsim_tools_golden", sys.argv[1])
golden = importlib.util.module_from_spec(spec); sys.modules[spec.name] = golden; spec.loader.exec_module(golden)
from tlmsim import kernels
import tlmsim.hw.dram
out, ids = Path(sys.argv[2]), sys.argv[3:]
golden.write_golden({p.id: golden.run_probe(p) for p in golden.probes() if p.id in ids}, out)
(out / "build.json").write_text(json.dumps([kernels.kernel(), tlmsim.hw.dram.__file__]))
"""


def _probe_frames(tmp_path: Path, pure: bool):
    """(which build ran, its dram module's file, probe -> table -> frame) from a subprocess, the
    frames written and read back by tools/golden.py's exact CSV format."""
    out = tmp_path / ("pure" if pure else "compiled")
    env = dict(os.environ)
    env.pop("TLMSIM_PURE", None)
    if pure:
        env["TLMSIM_PURE"] = "1"
    subprocess.run([sys.executable, "-c", _FRAMES, str(ROOT / "tools" / "golden.py"), str(out), *PROBES],
                   cwd=ROOT, env=env, check=True)
    kind, file = json.loads((out / "build.json").read_text())
    spec = importlib.util.spec_from_file_location("tlmsim_tools_golden_read", ROOT / "tools" / "golden.py")
    golden = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = golden
    spec.loader.exec_module(golden)
    return kind, file, golden.read_golden(out)


def test_golden_probes_equal_in_both_builds(tmp_path):
    _compiled()
    kind_c, file_c, comp = _probe_frames(tmp_path, pure=False)
    kind_p, file_p, pure = _probe_frames(tmp_path, pure=True)
    assert kind_c == "compiled" and not file_c.endswith(".py")
    assert kind_p.startswith("pure Python (TLMSIM_PURE") and file_p.endswith("dram.py")
    assert sorted(comp) == sorted(pure) == sorted(PROBES)
    for probe in PROBES:
        for table, df in pure[probe].items():
            pd.testing.assert_frame_equal(comp[probe][table], df, check_exact=True)


def test_tlmsim_pure_forces_the_source_module():
    code = ("import tlmsim.hw.dram as d, tlmsim.kernels as k; "
            "print(d.__file__); print(k.kernel()); print(k.describe())")
    env = dict(os.environ, TLMSIM_PURE="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.splitlines()
    assert Path(out[0]).resolve() == SRC
    assert out[1] == "pure Python (TLMSIM_PURE is set)"
    # importing the DRAM model imports the engine modules it builds on: pure too, and said so
    assert out[2].startswith("DRAM model: pure Python (TLMSIM_PURE is set); other hot modules: pure Python "
                             "(TLMSIM_PURE is set) (")
    assert out[2].endswith(" imported modules)")


def test_the_source_runs_without_cython():
    """Cython is a build requirement only: the source's type declarations are comments, so it
    imports and runs without Cython, and a run gives what it gives with Cython installed."""
    code = ("import sys; sys.modules['cython'] = None\n"  # import cython then raises ImportError
            "import random, tlmsim.hw.dram as d, tlmsim.kernels as k\n"
            "from tests.hw.test_dram_compiled import _run, _saturating\n"
            "from tlmsim.platform.dram import DramConfig\n"
            "assert d.__file__.endswith('dram.py') and sys.modules['cython'] is None\n"
            "cfg = DramConfig.model_validate({'preset': 'HBM2', 'powerdown': True})\n"
            "out = _run(d, cfg, _saturating(random.Random(5), 12, 1 << 22, 0.2, (0, 40, 3000)), False)\n"
            "print(repr((out['end_ps'], out['ends'], len(out['log']), out['stats'])))\n")
    env = dict(os.environ, TLMSIM_PURE="1")
    shim = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          cwd=ROOT).stdout
    pure = _pure()
    cfg = DramConfig.model_validate({"preset": "HBM2", "powerdown": True})
    ref = _run(pure, cfg, _saturating(random.Random(5), 12, 1 << 22, 0.2, (0, 40, 3000)), False)
    assert shim.strip() == repr((ref["end_ps"], ref["ends"], len(ref["log"]), ref["stats"]))
    assert dict(ref["stats"])["rd"] > 100


@pytest.mark.parametrize("value, forced", [("1", True), ("yes", True), ("0", False), ("", False), (None, False)])
def test_pure_forced_reads_the_switch(monkeypatch, value, forced):
    if value is None:
        monkeypatch.delenv("TLMSIM_PURE", raising=False)
    else:
        monkeypatch.setenv("TLMSIM_PURE", value)
    assert kernels.pure_forced() is forced


def test_a_build_of_another_source_is_not_used(tmp_path, monkeypatch):
    """An edited dram.py (or a mutant) never runs a stale compiled copy."""
    mod = _compiled()
    monkeypatch.delenv("TLMSIM_PURE", raising=False)
    monkeypatch.setattr(kernels, "_chosen", {})
    edited = tmp_path / "dram.py"
    edited.write_bytes(SRC.read_bytes() + b"\n# edited\n")
    before = sys.modules.get("tlmsim.hw.dram")
    assert kernels.use_compiled("tlmsim.hw.dram", edited) is False
    assert sys.modules.get("tlmsim.hw.dram") is before
    assert kernels._chosen["tlmsim.hw.dram"].startswith("pure Python (the installed compiled build was made from")
    assert mod._SOURCE_SHA256 == kernels.source_digest(SRC)  # and the current source does match it


def test_the_import_picks_the_compiled_build_when_current():
    _compiled()
    if kernels.pure_forced():
        pytest.skip("TLMSIM_PURE is set in this test run")
    import tlmsim.hw.dram as d

    assert kernels.kernel() == "compiled" and d.__name__ == kernels.COMPILED["tlmsim.hw.dram"]
    assert sys.modules["tlmsim.hw.dram"] is d


def test_version_says_which_build_runs(capsys):
    from tlmsim.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out == f"tlmsim {tlmsim.__version__} ({kernels.describe(every=True)})\n"
    assert out.startswith(f"tlmsim {tlmsim.__version__} (DRAM model: {kernels.kernel()}; other hot modules: ")
    assert f"({len(kernels.COMPILED) - 1})" in out or "pure Python" in out  # --version imports every hot module
