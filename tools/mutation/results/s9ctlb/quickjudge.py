"""Judge mutants by hand without pytest's per-run collection: usage
``quickjudge.py DIR OUT NODESFILE name...`` (DIR: a copy of a run's ``mutants/`` tree;
NODESFILE: test files, one a line). The test modules are imported once; per mutant
(mutmut's own switch ``MUTANT_UNDER_TEST``) every test function of the files is called in
file order, parametrized ones once per parameter set, ``tmp_path`` given a fresh
directory, until one fails: the mutant is caught; none fails: it survived (then rerun it
with the whole selection). A test that runs over BYHAND_LIMIT_S seconds (default 120)
catches it (a looping mutant). Tests taking other fixtures are skipped (listed at the top
of OUT). On the loaded machine of session 9 pytest's collection alone took 20-80 s per
mutant; this takes well under a second for most."""
import importlib
import inspect
import itertools
import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

d, out, nodesfile = sys.argv[1:4]
names = sys.argv[4:]
LIMIT = int(os.environ.get("BYHAND_LIMIT_S", "120"))
os.chdir(d)
sys.path.insert(0, d)
os.environ["MUTANT_UNDER_TEST"] = ""


class Slow(Exception):
    pass


def alarm(*_):
    raise Slow(f"over {LIMIT} s")


signal.signal(signal.SIGALRM, alarm)


def cases(fn):
    """(label, kwargs) for every parameter set of ``fn``'s parametrize marks."""
    marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
    grids = []
    for m in marks:
        argnames, values = m.args[0], m.args[1]
        keys = [k.strip() for k in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
        rows = []
        for v in values:
            v = v.values if hasattr(v, "values") and not isinstance(v, (tuple, list, dict)) else v
            rows.append(dict(zip(keys, v if len(keys) > 1 else (v,))))
        grids.append(rows)
    for combo in itertools.product(*grids) if grids else [()]:
        kw = {}
        for part in combo:
            kw.update(part)
        yield kw


tests, skipped = [], []
for path in [l.strip() for l in open(nodesfile).read().splitlines() if l.strip()]:
    mod = importlib.import_module(path[:-3].replace("/", "."))
    for name, fn in vars(mod).items():
        if not name.startswith("test_") or not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
            continue
        params = set(inspect.signature(fn).parameters)
        for kw in cases(fn):
            extra = params - set(kw) - {"tmp_path"}
            if extra:
                skipped.append(f"{path}::{name} (fixtures {sorted(extra)})")
                break
            tests.append((f"{path}::{name}{kw or ''}", fn, kw, "tmp_path" in params))

with open(out, "a") as fh:
    fh.write(f"# {len(tests)} test cases; skipped: {', '.join(skipped) or 'none'}\n")


def judge() -> str | None:
    """The first failing test case, or None."""
    for label, fn, kw, tmp in tests:
        signal.alarm(LIMIT)
        try:
            if tmp:
                with tempfile.TemporaryDirectory() as t:
                    fn(**kw, tmp_path=Path(t))
            else:
                fn(**kw)
        except BaseException as e:  # noqa: BLE001 - any failure catches the mutant
            if isinstance(e, KeyboardInterrupt):
                raise
            return f"{label}: {type(e).__name__}"
        finally:
            signal.alarm(0)
    return None


assert judge() is None, "the unmutated code fails a test"
for m in names:
    os.environ["MUTANT_UNDER_TEST"] = "tlmsim.hw.controller." + m
    t = time.time()
    try:
        why = judge()
    except Exception:  # noqa: BLE001
        why = "driver: " + traceback.format_exc(limit=1).strip().splitlines()[-1]
    with open(out, "a") as fh:
        fh.write(f"{m} {'caught' if why else 'SURVIVED'} {time.time() - t:.1f}s {why or ''}\n")
with open(out, "a") as fh:
    fh.write("DONE\n")
