"""Mutation testing of tlmsim: how many plausible one-line bugs do the tests catch?

    python tools/mutation/run.py                      # every module of modules.yaml
    python tools/mutation/run.py --module hw/noc.py   # one (repeatable; a package name such as hw/ takes all its modules)
    python tools/mutation/run.py --module report.py --rev e440914 --tag before   # judge an older commit's tests
    python tools/mutation/run.py --salvage /tmp/tlmsim-mut-s10x-... --tag s10x   # score a stopped run's scratch tree

Each module runs in its own scratch copy of the repository (the working tree, or
``--rev``'s tree; never the checkout itself), under ``nice -n 15`` with one mutant at a time (``--jobs``), with mutmut 3
(pinned in the dev extra: it imports the code once, forks per mutant and runs the
tests of the module's test selection (modules.yaml) that reach the mutated function;
test files a revision does not have are left out). Results go to
tools/mutation/results/<tag>.csv (one row per module, rewritten for the modules run)
and <tag>.md, and each module's surviving mutants as diffs to results/<tag>/<module>.txt.

Kill rate = (killed + timed out) / (mutants - equivalent). A timed-out mutant (the
tests ran far longer than unmutated) is counted as caught: the suite would not pass.
A mutant no selected test reaches ("no tests") counts as surviving.
A run that is stopped (or is still running) can be scored from its scratch tree (kept with
``--keep``, or a copy): ``--salvage WORK`` counts the functions all of whose mutants mutmut had
judged (``--by-mutant``: every judged mutant) and names them in the row's source; the tree's
``mutation-run.json`` (module, source, --only globs, start time) is written by every run.
Equivalent mutants (no test can tell them from the original) are listed in
equivalent.yaml with the reason; a survivor matches an entry by module and by the
original and mutated line (whitespace ignored), so entries survive edits elsewhere. Where the
same line occurs again and matters there, an entry also names its ``function`` (``Dram._hit_run``)
and/or ``context`` (lines around it, in a row, as the survivor's diff shows them): it then
matches that place only.
Which functions of each module were judged on today's code (and which only on older code, in
part, or never): ``python tools/mutation/ledger.py`` (its docstring says how it reads the rows).
A sampled pass (``--sample N [--seed S]``; "mutant sampling": a random sample of a module's mutants
estimates its kill rate with a known error) generates each module's mutants first, draws a seeded
random sample of N mutant names (all when there are fewer; :func:`sample_names`: the same names and
seed give the same sample), and judges only those, with the same test selection, timeouts and
equivalent list as a full run. Its row counts the sample (``mutants`` = sampled mutants), its source
ends "(sample N of M, seed S)", the 95 % Wilson score interval of its kill rate is in the csv's
``kill_rate_low``/``kill_rate_high`` columns and next to the rate in the md table ("90.0 % (78.6-95.7)": 45 of 50),
and results/<tag>/<module>.sample.txt lists the sampled names (tools/mutation/ledger.py reads it: a
sampled row judges those mutants only, never a whole function unless all its mutants were drawn) with
the minutes of generation, stats pass and mutants in its header.
A ``--recheck`` keeps the measured row's source (its commit and ``(only ...)`` globs) and appends
"rechecked at <tree>"; its minutes are the measured row's plus the recheck's.
A modules.yaml that writes a key twice (a union merge can) is refused in one line, exit 2:
YAML itself would keep the last entry silently.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import math
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS = HERE / "results"
FIELDS = ["module", "group", "mutants", "killed", "timeout", "survived", "equivalent", "kill_rate", "minutes", "source",
          "kill_rate_low", "kill_rate_high"]  # the last two: a sampled row's 95 % Wilson interval (empty otherwise)
#: mutmut 3's exit codes of a mutant's test run (mutmut/stats.py), as this harness counts them; a test
#: process killed by SIGSEGV (-11, mutmut's "segfault", e.g. a mutated as_strided view) failed: caught
KILLED, TIMEOUT = {1, 3, 37, -11}, {36, -24, 24, 152, 255}
#: what mutmut 3 prints when the selected tests reach no mutated function
NO_TESTS = "could not find any test case for any mutant"
#: what run_module records in its scratch tree (module, source, --only globs, start time) for --salvage
RUN_FACTS = "mutation-run.json"


#: a sampled row's note in its source column (run_module; tools/mutation/ledger.py reads the same form)
SAMPLE_NOTE = re.compile(r"\(sample (\d+) of (\d+), seed (-?\d+)\)")
#: the normal quantile of a two-sided 95 % interval (Phi^-1(0.975) = 1.959964)
Z95 = 1.959964
#: generates a scratch tree's mutants as ``mutmut run`` does first (mutmut 3.8.1's _run, up to
#: "done in ..."), and nothing else: the sample is drawn from its names; the ``mutmut run`` that
#: follows finds the mutant files newer than their sources and keeps them
GENERATE = """
import os, sys
from mutmut.__main__ import create_mutants
from mutmut.mutation.trampoline import set_mutant_under_test
from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths
set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
copy_src_dir()
copy_also_copy_files()
setup_source_paths()
create_mutants(int(sys.argv[1]))
"""


def sample_names(names, n: int, seed: int) -> list[str]:
    """A seeded random sample of ``n`` of the mutant ``names`` (all of them when there are no more than
    ``n``), sorted. Drawn from the names sorted, with ``random.Random(seed).sample``: the same names, ``n``
    and seed give the same sample whatever order mutmut lists them in."""
    pool = sorted(set(names))
    if n >= len(pool):
        return pool
    return sorted(random.Random(seed).sample(pool, n))


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k`` of ``n`` (95 % with the default ``z``):
    (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), p = k/n. Unlike p -+ z sqrt(p(1-p)/n)
    it stays inside [0, 1] and does not shrink to a point at 0 or n of n (a sample that kills all
    of 50 still leaves 0.929-1)."""
    if n <= 0:
        raise ValueError("an interval needs at least one judged mutant")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def sample_note(n: int, of: int, seed: int) -> str:
    """The note a sampled row's source ends with: ``(sample 100 of 542, seed 1)``."""
    return f"(sample {n} of {of}, seed {seed})"


def with_interval(row: dict) -> dict:
    """``row`` with its ``kill_rate_low``/``kill_rate_high``: the 95 % Wilson interval of (killed +
    timed out) of (mutants - equivalent) for a sampled row (its source has the sample note), empty
    for any other (a full run has no sampling error)."""
    low = high = ""
    if SAMPLE_NOTE.search(row.get("source") or ""):
        judged = int(row["mutants"]) - int(row["equivalent"])
        if judged > 0:
            lo, hi = wilson(int(row["killed"]) + int(row["timeout"]), judged)
            low, high = f"{lo:.3f}", f"{hi:.3f}"
    return {**row, "kill_rate_low": low, "kill_rate_high": high}


def rate_text(row: dict) -> str:
    """The kill rate as the md table shows it: ``90.0 %``, a sampled row ``90.0 % (78.6-95.7)`` (45 of 50)."""
    if not row.get("kill_rate"):
        return "-"
    text = f"{float(row['kill_rate']) * 100:.1f} %"
    r = with_interval(row)
    if r["kill_rate_low"]:
        text += f" ({float(r['kill_rate_low']) * 100:.1f}-{float(r['kill_rate_high']) * 100:.1f})"
    return text


def sample_file(tag: str, module: str) -> Path:
    """Where a sampled run lists its sampled mutant names (tools/mutation/ledger.py reads it)."""
    return RESULTS / tag / f"{module.replace('/', '_')}.sample.txt"


class DuplicateKey(ValueError):
    """A YAML mapping that writes a key twice (PyYAML would keep the last one silently)."""


def _check_unique_keys(text: str) -> None:
    """Raise :class:`DuplicateKey` if a mapping of the YAML ``text`` writes a key twice: a union
    merge of two branches that both touched modules.yaml duplicated module keys twice, and
    ``yaml.safe_load`` kept the last (older) test selection without a word. Walks the node graph
    of ``yaml.compose`` (nodes only, no objects built); scalar keys are compared as written."""
    todo, done = [yaml.compose(text)], set()
    while todo:
        node = todo.pop()
        if node is None or id(node) in done:
            continue
        done.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, value in node.value:
                todo.append(value)
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key, line = key_node.value, key_node.start_mark.line + 1
                if key in seen:
                    raise DuplicateKey(f"key {key!r} written twice (lines {seen[key]} and {line}): "
                                       "YAML keeps the last one silently; keep one entry")
                seen[key] = line
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)


def load_modules() -> dict[str, dict]:
    """modules.yaml's modules (module -> its group and tests); :class:`DuplicateKey` if a key is
    written twice."""
    path = HERE / "modules.yaml"
    try:
        text = path.read_text()
        _check_unique_keys(text)
        return yaml.safe_load(text)["modules"]
    except DuplicateKey as e:
        raise DuplicateKey(f"{path}: {e}") from None


def load_equivalent() -> list[dict]:
    path = HERE / "equivalent.yaml"
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    return list((data or {}).get("equivalent") or [])


def _norm(line: str) -> str:
    return re.sub(r"\s+", "", line)


def copy_tree(dest: Path, rev: str | None) -> str:
    """Copy the repository's files (tracked and untracked, not ignored) or ``rev``'s tree into ``dest``."""
    if rev:
        data = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev], check=True,
                              capture_output=True).stdout
        with tarfile.open(fileobj=BytesIO(data)) as tar:
            tar.extractall(dest, filter="data")
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], check=True, capture_output=True,
                              text=True).stdout.strip()
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"], check=True,
                           capture_output=True, text=True).stdout.split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], check=True, capture_output=True,
                           text=True).stdout.strip()
    return head + ("+worktree" if dirty else "")


def mutant_results(work: Path, module: str) -> dict[str, int | None]:
    """mutant name -> exit code of its test run, from mutmut's meta file."""
    meta = json.loads((work / "mutants" / "tlmsim" / f"{module}.meta").read_text())
    return meta["exit_code_by_key"]


def show(work: Path, name: str) -> str:
    return subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=work, capture_output=True,
                          text=True, check=False).stdout


def _changed_lines(diff: str) -> tuple[str, str]:
    old = [l[1:] for l in diff.splitlines() if l.startswith("-") and not l.startswith("---")]
    new = [l[1:] for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
    return "\n".join(old), "\n".join(new)


def function_of(name: str) -> str:
    """The function of a mutant name as a reader writes it: ``tlmsim.hw.dram.xǁDramǁ_pair_batch__mutmut_90``
    -> ``Dram._pair_batch``, ``tlmsim.report.x_layers_frame__mutmut_3`` -> ``layers_frame``."""
    f = _function(name).rsplit(".", 1)[-1]
    if f.startswith("xǁ"):
        return ".".join(f[2:].split("ǁ"))
    return f[2:] if f.startswith("x_") else f


def _original_side(diff: str) -> list[str]:
    """The lines of the original code a diff shows (its context and removed lines), whitespace removed."""
    return [_norm(l[1:]) for l in diff.splitlines() if l.startswith((" ", "-")) and not l.startswith("---")]


def _has_context(diff: str, context: str | list[str]) -> bool:
    """Whether ``context`` (lines, whitespace ignored, blank lines skipped) occurs as consecutive lines
    of the original code that ``diff`` shows."""
    want = [_norm(l) for l in (context.splitlines() if isinstance(context, str) else context)]
    want = [l for l in want if l]
    have = [l for l in _original_side(diff) if l]
    return bool(want) and any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1))


def is_equivalent(module: str, diff: str, entries: list[dict], name: str | None = None) -> dict | None:
    """The entry of ``entries`` that says the survivor ``name`` (its ``diff`` as mutmut shows it) of
    ``module`` is equivalent, or None. An entry matches by module and by the original and mutated line
    (whitespace ignored); one with ``function`` (e.g. ``Dram._pair_batch``) only a mutant of that
    function; one with ``context`` (lines of the original code around the mutated one, the mutated
    line's original included or not) only where the diff shows those lines in a row: the same line
    elsewhere, where it matters, stays a survivor."""
    old, new = _changed_lines(diff)
    for e in entries:
        if e["module"] != module or _norm(e["original"]) != _norm(old) or _norm(e["mutant"]) != _norm(new):
            continue
        if "function" in e and (name is None or function_of(name) != e["function"]):
            continue
        if "context" in e and not _has_context(diff, e["context"]):
            continue
        return e
    return None


MUTMUT_SECTION = """
[mutmut]
source_paths = tlmsim/
only_mutate = tlmsim/{module}
pytest_add_cli_args = -p no:cacheprovider
also_copy =
    docs/
    tools/
    platforms/
    workloads/
pytest_add_cli_args_test_selection =
{tests}
"""


def run_module(module: str, spec: dict, *, rev: str | None, tag: str, entries: list[dict], keep: bool,
               recheck: tuple[dict, list[str]] | None = None, only: list[str] | None = None, jobs: int = 1,
               sample: tuple[int, int] | None = None) -> dict:
    """Mutate ``module`` and run its test selection on every mutant; with ``recheck`` (the
    tag's stored row and its surviving mutants) rerun only those and update the row; with ``sample``
    (N, seed) generate the mutants first and judge a seeded random sample of N of them (of those
    ``only`` names)."""
    work = Path(tempfile.mkdtemp(prefix=f"tlmsim-mut-{tag}-{module.replace('/', '_')}-"))
    t0 = time.time()
    try:
        source = copy_tree(work, rev)
        tests = []
        for t in spec["tests"]:
            path = t.split("::")[0]
            if path.startswith("-") or (work / path).exists():
                tests.append(t)
            else:
                print(f"  ({path} is not in this tree: left out)", flush=True)
        if not tests:  # an older revision without the module's tests: judge it by its suite
            print("  (no test of the selection exists in this tree: tests/ judges it, less the slow explore, fuzz and zoo tests)", flush=True)
            tests = ["tests/", "--ignore=tests/explore", "--ignore=tests/fuzz", "--ignore=tests/integration/test_zoo.py"]
        (work / RUN_FACTS).write_text(json.dumps({"module": module, "source": source, "only": only or [],
                                                  "started": t0, "recheck": bool(recheck)}))
        cfg = work / "setup.cfg"
        cfg.write_text(cfg.read_text() + MUTMUT_SECTION.format(module=module, tests="\n".join(f"    {t}" for t in tests)))
        # the golden test runs its quick third of the probes (tests/integration/test_golden_e2e.py);
        # TLMSIM_PURE=1: the mutated source runs, never an installed compiled build (tlmsim/kernels.py)
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", TLMSIM_GOLDEN_QUICK="1", TLMSIM_PURE="1")
        log = RESULTS / tag / f"{module.replace('/', '_')}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        # niceness 15 in all: a run started under `nice -n 15` is not lowered to 19 (it starved at load 10)
        nice = ["nice", "-n", str(max(0, 15 - os.nice(0)))]
        phases: dict[str, float] = {}  # wall minutes of generation (sampled runs), stats pass, mutants
        cpu: dict[str, float] = {}  # CPU minutes of the generation and of the mutmut run (all their processes)
        picked: list[str] | None = None
        names_arg = recheck[1] if recheck else only or []
        with log.open("w") as fh:
            if sample:
                t, c = time.time(), _children_cpu()
                gen = subprocess.run([*nice, sys.executable, "-c", GENERATE, str(jobs)], cwd=work, env=env, stdout=fh,
                                     stderr=subprocess.STDOUT, check=False)
                phases["generation"], cpu["generation"] = (time.time() - t) / 60, (_children_cpu() - c) / 60
                if gen.returncode:
                    raise SystemExit(f"mutation: generating the mutants of {module} failed "
                                     f"(exit {gen.returncode}; see {log})")
                meta = work / "mutants" / "tlmsim" / f"{module}.meta"
                population = list(mutant_results(work, module)) if meta.exists() else []
                if only:
                    population = [n for n in population if any(fnmatch.fnmatch(n, g) for g in only)]
                picked = sample_names(population, *sample)
                names_arg = picked
                facts = json.loads((work / RUN_FACTS).read_text())
                (work / RUN_FACTS).write_text(json.dumps({**facts, "sample": picked}))
                print(f"  sample of {len(picked)} of {len(population)} mutants (seed {sample[1]}); generation "
                      f"{phases['generation']:.1f} min", flush=True)
            t, c = time.time(), _children_cpu()
            returncode = 0
            if picked != []:  # (an empty sample: nothing to judge; dataflow/dense_ws.py has no function)
                returncode = _mutmut_run([*nice, sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs),
                                          *names_arg], work, env, fh, t, phases)
            cpu["mutmut run"] = (_children_cpu() - c) / 60
            stats = work / "mutants" / "mutmut-stats.json"  # mutmut's CPU seconds of its stats pass (in-process)
            if stats.exists() and json.loads(stats.read_text()).get("stats_time") is not None:
                cpu["of which stats pass"] = json.loads(stats.read_text())["stats_time"] / 60
        print("  minutes: " + ", ".join(f"{k} {v:.1f}" for k, v in phases.items()) + "; CPU minutes: "
              + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()), flush=True)
        if returncode:
            if NO_TESTS not in log.read_text(errors="replace"):
                raise SystemExit(f"mutation: mutmut failed on {module} (exit {returncode}; see {log})")
            # no selected test reaches any mutated function: every mutant survives ("no tests");
            # a module without functions (e.g. dataflow/dense_ws.py: a class attribute) has none
            names = re.findall(r"^\s*def (x\w*__mutmut_\d+)\(", (work / "mutants" / "tlmsim" / module).read_text(), re.MULTILINE)
            codes = {"tlmsim." + module[:-3].replace("/", ".") + "." + n: None for n in names}
        elif picked == []:
            codes = {}
        else:
            codes = mutant_results(work, module)
        if only:  # a restricted run: the mutants of the named functions only
            codes = {n: c for n, c in codes.items() if any(fnmatch.fnmatch(n, g) for g in only)}
        note = ""
        if picked is not None:  # a sampled run: the sampled mutants only
            note = " " + sample_note(len(picked), len(population), sample[1])
            codes = {n: codes.get(n) for n in picked}
            path = sample_file(tag, module)
            globs = f" (only {' '.join(only)})" if only else ""
            head = [(f"# the mutants of a sampled run of tlmsim/{module} ({source}{globs}{note}), one a line; "
                     "tools/mutation/ledger.py counts these as judged"),
                    "# minutes (wall): " + ", ".join(f"{k} {v:.1f}" for k, v in phases.items())
                    + "; CPU minutes: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()) + f"; --jobs {jobs}"]
            path.write_text("\n".join(head + picked) + "\n")
        row = score(work, module, spec["group"], codes, source=source, tag=tag, entries=entries, recheck=recheck)
        minutes = (time.time() - t0) / 60
        if recheck:
            return {**row, "minutes": recheck_minutes(recheck[0]["minutes"], minutes),
                    "source": recheck_source(recheck[0]["source"], source)}
        return {**row, "minutes": f"{minutes:.1f}", "source": source + (f" (only {' '.join(only)})" if only else "") + note}
    finally:
        if keep:
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _mutmut_run(cmd: list[str], work: Path, env: dict, fh, t: float, phases: dict[str, float]) -> int:
    """Run ``mutmut run`` (``cmd``) in ``work``, its output into the log ``fh`` line by line (the log stays
    live); ``phases`` gets the wall minutes from ``t`` to mutmut's "Running mutation testing" (its stats
    pass, clean and forced-fail tests) and from there to its end (the mutants). Its exit code."""
    proc = subprocess.Popen(cmd, cwd=work, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    t_mutants = None
    for line in proc.stdout:
        fh.buffer.write(line)
        fh.buffer.flush()
        if t_mutants is None and b"Running mutation testing" in line:
            t_mutants = time.time()
    proc.wait()
    end = time.time()
    phases["stats pass"] = ((t_mutants or end) - t) / 60
    phases["mutants"] = (end - t_mutants) / 60 if t_mutants else 0.0
    return proc.returncode


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's waited-for children so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def recheck_source(measured: str, source: str) -> str:
    """The source column of a rechecked row: the measured row's (its commit and ``(only ...)`` globs:
    the mutants were made and first judged there; tools/mutation/ledger.py reads them) and the recheck's
    tree. (Before session 13 a recheck wrote its own tree only, and a restricted row lost its globs.)"""
    return f"{measured}, rechecked at {source}"


def recheck_minutes(measured: str, minutes: float) -> str:
    """The minutes column of a rechecked row: the measured row's minutes plus the recheck's, so
    that the row says what judging its mutants cost in all (before session 17 a recheck wrote its
    own minutes only: a 40.9-minute run rechecked in 1.1 said 1.1). A measured row without
    minutes (a salvaged run's may have none) counts the recheck's only."""
    try:
        before = float(measured)
    except (TypeError, ValueError):
        before = 0.0
    return f"{before + minutes:.1f}"


def score(work: Path, module: str, group: str, codes: dict[str, int | None], *, source: str, tag: str,
          entries: list[dict], recheck: tuple[dict, list[str]] | None = None) -> dict:
    """The row (all but minutes and source) of ``codes`` (mutant name -> exit code; None: not
    judged, counted as surviving), and every survivor's diff, equivalent ones marked, written to
    results/<tag>/<module>.txt; with ``recheck`` the stored row's caught mutants stay caught."""
    prior_caught = {"killed": 0, "timeout": 0}
    if recheck:  # the mutants caught before stay caught (the code is the same; only tests were added)
        row, names = recheck
        if source.split("+")[0] != row["source"].split("+")[0]:
            print(f"  (note: {module} was measured at {row['source']}, rechecked at {source})", flush=True)
        prior_caught = {"killed": int(row["killed"]), "timeout": int(row["timeout"])}
        codes = {n: codes.get(n) for n in names}
    killed = prior_caught["killed"] + sum(1 for c in codes.values() if c in KILLED)
    timeout = prior_caught["timeout"] + sum(1 for c in codes.values() if c in TIMEOUT)
    left = sorted((n for n, c in codes.items() if c not in KILLED and c not in TIMEOUT),
                  key=lambda n: (n.rsplit("_", 1)[0], int(n.rsplit("_", 1)[1])))
    equivalent, real = [], []
    for name in left:
        diff = show(work, name)
        e = is_equivalent(module, diff, entries, name)
        (equivalent if e else real).append((name, diff, e))
    path = RESULTS / tag / f"{module.replace('/', '_')}.txt"
    if recheck:  # keep the equivalent survivors listed before
        for name, diff in stored_survivors(path):
            e = is_equivalent(module, diff, entries, name)
            if e and name not in codes:
                equivalent.append((name, diff, e))
    text = [f"# surviving mutants of tlmsim/{module} ({source}); equivalent ones marked\n"]
    for name, diff, e in equivalent + real:
        text.append(("EQUIVALENT: " + e["reason"] if e else "SURVIVED") + f" (mutant {name})\n{diff.rstrip()}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(text))
    total = int(recheck[0]["mutants"]) if recheck else len(codes)
    judged = total - len(equivalent)
    return {
        "module": module, "group": group, "mutants": total, "killed": killed, "timeout": timeout,
        "survived": len(real), "equivalent": len(equivalent),
        "kill_rate": f"{(killed + timeout) / judged:.3f}" if judged else "",
    }


def _function(name: str) -> str:
    """The function of a mutant name (``tlmsim.hw.noc.xǁNocǁroute__mutmut_12`` -> ``...xǁNocǁroute``)."""
    return name.rsplit("__mutmut_", 1)[0]


def salvage(work: Path, tag: str, entries: list[dict], *, by_mutant: bool = False) -> dict:
    """The row of a run that was stopped (or is still running) from its scratch tree ``work``
    (kept with --keep, or a copy): its judged mutants as mutmut's meta file has them. By default
    only the functions all of whose mutants were judged count (the row's source names them);
    ``by_mutant``: every judged mutant counts. Survivors go to results/<tag>/<module>.txt."""
    facts_path = work / RUN_FACTS
    if facts_path.exists():
        facts = json.loads(facts_path.read_text())
    else:  # a scratch tree of an older run.py: the module from its mutmut section
        cfg = work / "setup.cfg"
        m = re.search(r"^only_mutate = tlmsim/(\S+)$", cfg.read_text() if cfg.exists() else "", re.MULTILINE)
        if not m:
            raise SystemExit(f"mutation: {work} is not a scratch tree of run.py (no {RUN_FACTS}, no only_mutate)")
        facts = {"module": m.group(1), "source": "unknown", "only": [], "started": None}
    if facts.get("recheck"):
        raise SystemExit(f"mutation: {work} is a --recheck run (its caught mutants are stored under its tag): "
                         "rerun the --recheck instead")
    module = facts["module"]
    modules = load_modules()
    if module not in modules:
        raise SystemExit(f"mutation: {module} (of {work}) is not in modules.yaml")
    meta = work / "mutants" / "tlmsim" / f"{module}.meta"
    if not meta.exists():
        raise SystemExit(f"mutation: {work} has no verdicts yet ({meta.relative_to(work)} missing)")
    codes = mutant_results(work, module)
    if facts["only"]:
        codes = {n: c for n, c in codes.items() if any(fnmatch.fnmatch(n, g) for g in facts["only"])}
    funcs: dict[str, list] = {}
    for n, c in codes.items():
        funcs.setdefault(_function(n), []).append(c)
    complete = sorted(f for f, cs in funcs.items() if all(c is not None for c in cs))
    for f, cs in sorted(funcs.items()):
        done = sum(c is not None for c in cs)
        note = "" if f in complete or by_mutant else " (left out: not all judged)"
        print(f"  {f.split('.')[-1]}: {done}/{len(cs)} judged{note}", flush=True)
    if by_mutant:
        codes = {n: c for n, c in codes.items() if c is not None}
        what = f"{len(codes)} judged mutants of a stopped run" + (f", only {' '.join(facts['only'])}" if facts["only"] else "")
    else:
        codes = {n: c for n, c in codes.items() if _function(n) in complete}
        names = " ".join("*" + f.split(".")[-1].replace("xǁ", "ǁ", 1) + "__mutmut_*" for f in complete)
        what = f"only {names}; the functions whose mutants a stopped run judged all" if complete else \
            "no function judged whole by a stopped run"
    row = score(work, module, modules[module]["group"], codes, source=facts["source"], tag=tag, entries=entries)
    minutes = (meta.stat().st_mtime - facts["started"]) / 60 if facts["started"] else None
    return {**row, "minutes": f"{minutes:.1f}" if minutes is not None else "",
            "source": f"{facts['source']} ({what})"}


def stored_survivors(path: Path) -> list[tuple[str, str]]:
    """(mutant name, diff) of every survivor stored in a results/<tag>/<module>.txt file."""
    blocks = re.split(r"^(?=SURVIVED \(mutant |EQUIVALENT: )", path.read_text(), flags=re.MULTILINE)[1:]
    out = []
    for b in blocks:
        head, _, diff = b.partition("\n")
        out.append((re.search(r"\(mutant ([^)]+)\)", head).group(1), diff))
    return out


def rescore(tag: str, rows: dict[str, dict], entries: list[dict]) -> None:
    """Re-apply equivalent.yaml to the survivors stored in results/<tag>/ (no mutants rerun)."""
    for m, r in rows.items():
        path = RESULTS / tag / f"{m.replace('/', '_')}.txt"
        if not path.exists():
            continue
        blocks = re.split(r"^(?=SURVIVED \(mutant |EQUIVALENT: )", path.read_text(), flags=re.MULTILINE)[1:]
        equivalent, real = [], []
        for b in blocks:
            head, _, diff = b.partition("\n")
            mid = re.search(r"\(mutant ([^)]+)\)", head).group(1)
            e = is_equivalent(m, diff, entries, mid)
            (equivalent if e else real).append((mid, diff, e))
        text = [path.read_text().splitlines()[0] + "\n"]
        for mid, diff, e in equivalent + real:
            text.append(("EQUIVALENT: " + e["reason"] if e else "SURVIVED") + f" (mutant {mid})\n{diff.rstrip()}\n")
        path.write_text("\n".join(text))
        judged = int(r["mutants"]) - len(equivalent)
        caught = int(r["killed"]) + int(r["timeout"])
        r.update(survived=len(real), equivalent=len(equivalent),
                 kill_rate=f"{caught / judged:.3f}" if judged else "")


def _rate(rows: list[dict]) -> str:
    judged = sum(int(r["mutants"]) - int(r["equivalent"]) for r in rows)
    caught = sum(int(r["killed"]) + int(r["timeout"]) for r in rows)
    return f"{caught / judged * 100:.1f} %" if judged else "-"


def compare(old: str, new: str, order: list[str]) -> str:
    """Markdown: kill rate per module and per group under two tags (e.g. before/current)."""
    a, b = read_results(old), read_results(new)
    lines = [f"| module | mutants | equivalent | kill rate {old} | kill rate {new} | survivors {new} |",
             "|---|---:|---:|---:|---:|---:|"]
    groups: dict[str, tuple[list, list]] = {}
    for m in order:
        if m not in a and m not in b:
            continue
        ra, rb = a.get(m), b.get(m)
        r = rb or ra
        lines.append(f"| {m} | {r['mutants']} | {r['equivalent']} | {_rate([ra]) if ra else '-'} | "
                     f"{_rate([rb]) if rb else '-'} | {rb['survived'] if rb else '-'} |")
        g = groups.setdefault(r["group"], ([], []))
        if ra and rb:  # groups compare only modules measured both times
            g[0].append(ra)
            g[1].append(rb)
    lines += ["", f"| group (modules measured under both) | kill rate {old} | kill rate {new} |", "|---|---:|---:|"]
    lines += [f"| {g} ({len(x)}) | {_rate(x)} | {_rate(y)} |" for g, (x, y) in groups.items() if x]
    return "\n".join(lines)


def write_results(tag: str, rows: dict[str, dict], order: list[str]) -> None:
    csv_path = RESULTS / f"{tag}.csv"
    with csv_path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, FIELDS, lineterminator="\n")
        w.writeheader()
        for m in order:
            if m in rows:
                w.writerow(with_interval(rows[m]))
    groups: dict[str, list[dict]] = {}
    for m in order:
        if m in rows:
            groups.setdefault(rows[m]["group"], []).append(rows[m])
    lines = [f"# Mutation kill rates ({tag})", "",
             "| module | mutants | killed | timed out | survived | equivalent | kill rate | source |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for m in order:
        if m in rows:
            r = rows[m]
            rate = rate_text(r)
            lines.append(f"| {m} | {r['mutants']} | {r['killed']} | {r['timeout']} | {r['survived']} | "
                         f"{r['equivalent']} | {rate} | {r['source']} |")
    lines += ["", "| group | mutants | kill rate |", "|---|---:|---:|"]
    for g, rs in groups.items():
        n = sum(int(r["mutants"]) for r in rs)
        judged = n - sum(int(r["equivalent"]) for r in rs)
        caught = sum(int(r["killed"]) + int(r["timeout"]) for r in rs)
        lines.append(f"| {g} | {n} | {caught / judged * 100:.1f} % |" if judged else f"| {g} | {n} | - |")
    (RESULTS / f"{tag}.md").write_text("\n".join(lines) + "\n")


def read_results(tag: str) -> dict[str, dict]:
    path = RESULTS / f"{tag}.csv"
    if not path.exists():
        return {}
    with path.open() as fh:
        return {r["module"]: r for r in csv.DictReader(fh)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--module", action="append", help="a module of modules.yaml (e.g. hw/noc.py) or a package (hw/)")
    ap.add_argument("--rev", help="judge this git revision's code and tests instead of the working tree")
    ap.add_argument("--tag", default="current", help="results file name (default: current)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch copies (for mutmut show/results)")
    ap.add_argument("--list", action="store_true", help="list the modules and their tests")
    ap.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"),
                    help="print a markdown table of two tags' kill rates per module and group (runs no mutant)")
    ap.add_argument("--merge", metavar="FROM",
                    help="copy the modules measured under tag FROM (rows and survivors) into --tag (runs no mutant)")
    ap.add_argument("--recheck", action="store_true",
                    help="rerun only the non-equivalent survivors stored under --tag (after adding tests) and "
                         "update their rows; the code must be the one they were measured on")
    ap.add_argument("--only", action="append", metavar="GLOB",
                    help="mutate only the functions whose mutant names match (e.g. '*SystolicDataflow*run_cycles*'; "
                         "repeatable): a restricted measurement, say so when you report it")
    ap.add_argument("--jobs", type=int, default=1,
                    help="mutants judged in parallel (mutmut's --max-children; default 1: the machine is shared)")
    ap.add_argument("--rescore", action="store_true",
                    help="re-apply equivalent.yaml to the stored survivors of --tag (runs no mutant)")
    ap.add_argument("--salvage", metavar="WORK", type=Path,
                    help="score a stopped (or still running) run from its scratch tree WORK (kept with --keep, or "
                         "a copy) into --tag: the functions all of whose mutants were judged (runs no mutant)")
    ap.add_argument("--sample", type=int, metavar="N",
                    help="judge a seeded random sample of N mutants of each module (all when fewer): the kill rate "
                         "with its 95 %% Wilson interval, in about an hour for every module (docs/reliability.md)")
    ap.add_argument("--seed", type=int, default=1, help="with --sample: the sample's seed (default 1)")
    ap.add_argument("--by-mutant", action="store_true",
                    help="with --salvage: count every judged mutant, not whole functions only")
    args = ap.parse_args(argv)
    if args.sample is not None and (args.sample < 1 or args.recheck or args.rescore or args.salvage):
        print("mutation: --sample N takes N >= 1 and a new run (a --recheck of a sampled row reruns its "
              "stored survivors: leave --sample out)", file=sys.stderr)
        return 2
    try:
        modules = load_modules()
    except DuplicateKey as e:
        print(f"mutation: {e}", file=sys.stderr)
        return 2
    if args.list:
        for m, spec in modules.items():
            print(f"{m:24s} {' '.join(spec['tests'])}")
        return 0
    selected = []
    for want in args.module or list(modules):
        hits = [m for m in modules if m == want or (want.endswith("/") and m.startswith(want))]
        if not hits:
            print(f"mutation: unknown module {want!r}; known: {', '.join(modules)}", file=sys.stderr)
            return 2
        selected += [m for m in hits if m not in selected]
    RESULTS.mkdir(exist_ok=True)
    rows = read_results(args.tag)
    entries = load_equivalent()
    if args.compare:
        print(compare(*args.compare, list(modules)))
        return 0
    if args.merge:
        for m, r in read_results(args.merge).items():
            rows[m] = r
            name = f"{m.replace('/', '_')}.txt"
            (RESULTS / args.tag).mkdir(parents=True, exist_ok=True)
            shutil.copy(RESULTS / args.merge / name, RESULTS / args.tag / name)
        write_results(args.tag, rows, list(modules))
        return 0
    if args.salvage:
        row = salvage(args.salvage, args.tag, entries, by_mutant=args.by_mutant)
        rows[row["module"]] = row
        write_results(args.tag, rows, list(modules))
        print(f"mutation: {row['module']} (salvaged): {row['mutants']} mutants, {row['killed']} killed, "
              f"{row['timeout']} timed out, {row['survived']} survived, {row['equivalent']} equivalent: "
              f"kill rate {row['kill_rate']}", flush=True)
        return 0
    if args.by_mutant:
        print("mutation: --by-mutant goes with --salvage", file=sys.stderr)
        return 2
    if args.rescore:
        rescore(args.tag, rows, entries)
        write_results(args.tag, rows, list(modules))
        print((RESULTS / f"{args.tag}.md").read_text())
        return 0
    for m in selected:
        print(f"mutation: {m} ...", flush=True)
        recheck = None
        if args.recheck:
            if m not in rows:
                print(f"mutation: {m} has no row under {args.tag!r} to recheck", file=sys.stderr)
                return 2
            rescore(args.tag, {m: rows[m]}, entries)
            text = (RESULTS / args.tag / f"{m.replace('/', '_')}.txt").read_text()
            names = re.findall(r"^SURVIVED \(mutant ([^)]+)\)", text, flags=re.MULTILINE)
            if not names:
                continue
            recheck = (rows[m], names)
        rows[m] = run_module(m, modules[m], rev=args.rev, tag=args.tag, entries=entries, keep=args.keep,
                             recheck=recheck, only=args.only, jobs=args.jobs,
                             sample=(args.sample, args.seed) if args.sample is not None else None)
        r = rows[m]
        print(f"mutation: {m}: {r['mutants']} mutants, {r['killed']} killed, {r['timeout']} timed out, "
              f"{r['survived']} survived, {r['equivalent']} equivalent: kill rate {rate_text(r)} "
              f"({r['minutes']} min)", flush=True)
        write_results(args.tag, rows, list(modules))
    return 0


if __name__ == "__main__":
    sys.exit(main())
