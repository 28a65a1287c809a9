"""The ledger of mutation results: which functions of every module of modules.yaml were judged on today's code?

    python tools/mutation/ledger.py                    # every module of modules.yaml, today's working tree
    python tools/mutation/ledger.py --module hw/noc.py # one (repeatable)
    python tools/mutation/ledger.py --rev HEAD         # "today" = a commit's tree instead of the working tree
    python tools/mutation/ledger.py --markdown         # the table as docs/reliability.md carries it

mutmut 3 mutates functions and methods only (module-level functions and the methods of top-level
classes; a nested function's mutants are its enclosing function's). The ledger lists those of
today's tree that have mutants, numbered as mutmut numbers them (mutmut's own ``create_mutations``:
the n-th mutation inside a function is ``<function>__mutmut_<n>``), and for each the result tags
(results/<tag>.csv rows) that judged it:

* a row's **commit** is the first commit its ``source`` column names (``e3a01b8``, ``88a5aef's
  controller (measured at 292dc29)``, ``cfb30a0, rechecked at fc5ce18``: the mutants were made and
  judged on the first; a recheck reruns only the survivors); ``+worktree`` means uncommitted changes
  were in the tree: the function must then be the same at that commit and at the commit that first
  recorded the row (where the worktree's changes most likely went), else the row is "uncertain";
* its **globs** are its ``(only ...)`` list; a row without globs judged the whole module, which the
  ledger checks: its mutant count must equal mutmut's count at the commit, or the row is marked
  "restricted, globs not recorded" (a ``--recheck`` of run.py before session 13 rewrote the source
  column without the globs) unless tools/mutation/ledger.yaml gives them (with where they are written);
* a **sampled** run (run.py ``--sample``: its source ends ``(sample N of M, seed S)``) judged the
  mutants results/<tag>/<module>.sample.txt lists (one name a line) and no other: a function is judged
  whole by it only where all its mutants were drawn; without that file the row judges nothing;
* a **stopped** run (``judged mutants of a stopped run``, ``stopped after``) judged an unknown part of
  the mutants its globs name: it makes those functions "partial" at most.

A function is **today** where the mutants of today's function are all covered by rows whose commit has
the function's source (ast, so comments and formatting ignored) equal to today's; **partial** where
such rows cover some of them (number ranges in globs, e.g. ``_hit_run__mutmut_1[0-7][0-9]``, or a
stopped run); **stale** where only rows on other code judged it; **never** where no row did. A row
whose commit does not resolve in this repository is listed as such and judges nothing.
Mutant names use today's mutmut; a function whose source equals today's has the same mutants.
Counting a module at an old commit takes seconds (libcst); counts are cached by the file's blob
hash in ``$XDG_CACHE_HOME/tlmsim-mutation-ledger.json`` (``--no-cache`` to skip).
"""

from __future__ import annotations

import argparse
import ast
import csv
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

_COMMIT = re.compile(r"^\s*([0-9a-f]{7,40})(\+worktree)?\b")
#: a stopped run that counted every judged mutant (run.py --salvage --by-mutant, or by hand); the other
#: salvage form, "the functions whose mutants a stopped run judged all", judged whole functions
_STOPPED = re.compile(r"judged mutants of a stopped run|stopped after|stopped: ")
#: a sampled run's note (run.py's SAMPLE_NOTE)
_SAMPLE = re.compile(r"\(sample (\d+) of (\d+), seed (-?\d+)\)")


@dataclass
class Row:
    """One results/<tag>.csv row, as the ledger reads it."""
    tag: str
    module: str
    mutants: int
    source: str
    commit: str | None = None
    worktree: bool = False
    globs: list[str] = field(default_factory=list)
    stopped: bool = False
    note: str = ""  # why the row judges less than it says (unresolvable commit, restriction not recorded)
    recorded_at: str | None = None  # the commit that first recorded the row (for +worktree rows)
    source_file: str = ""  # where the source column was read (results/<tag>.csv, or <tag>/first.csv)
    #: from ledger.yaml: function key -> the mutant numbers judged ("all", "1-37", or "partly": unknown)
    judged: dict[str, str] | None = None
    #: a sampled run: the mutant names it judged (results/<tag>/<module>.sample.txt), empty if that is missing
    sample: set[str] | None = None


def parse_source(source: str) -> tuple[str | None, bool, list[str], bool]:
    """(commit, worktree, globs, stopped) of a results row's ``source`` column."""
    m = _COMMIT.match(source)
    commit, worktree = (m.group(1), bool(m.group(2))) if m else (None, False)
    globs: list[str] = []
    i = source.find("only ")
    while i >= 0 and not globs:
        for tok in source[i + 5:].split():
            end = tok[-1] in ");,"
            tok = tok.rstrip(");,")
            if "*" not in tok and "__mutmut_" not in tok:
                break
            globs.append(tok)
            if end:
                break
        i = source.find("only ", i + 5)
    return commit, worktree, globs, bool(_STOPPED.search(source))


def _git(root: Path, *args: str, check: bool = True) -> str:
    p = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    if check and p.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout if p.returncode == 0 else ""


def file_at(root: Path, commit: str | None, path: str) -> str | None:
    """The text of ``path`` at ``commit`` (None: the working tree); None if it is not there."""
    if commit is None:
        f = root / path
        return f.read_text() if f.exists() else None
    p = subprocess.run(["git", "-C", str(root), "show", f"{commit}:{path}"], capture_output=True, check=False)
    return p.stdout.decode() if p.returncode == 0 else None


def resolve(root: Path, commit: str) -> str | None:
    out = _git(root, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}", check=False).strip()
    return out or None


def function_sources(text: str) -> dict[str, str]:
    """mutmut's function key (``x_name``, ``xǁClassǁname``) -> ast dump of every module-level function
    and method of a top-level class of ``text`` (comments and formatting do not enter an ast dump)."""
    out = {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[f"x_{node.name}"] = ast.dump(node)
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out[f"xǁ{node.name}ǁ{sub.name}"] = ast.dump(sub)
    return out


def mutant_counts(text: str, path: str = "tlmsim/m.py") -> dict[str, int]:
    """mutmut's function key -> its number of mutants in ``text``, as ``mutmut run`` numbers them
    (mutmut.mutation.file_mutation: create_mutations, then combine_mutations_to_source's walk)."""
    import libcst as cst
    from mutmut.mutation.file_mutation import create_mutations, group_by_top_level_node

    old = os.getcwd()
    with tempfile.TemporaryDirectory() as d:  # mutmut reads its config from the working directory
        Path(d, "setup.cfg").write_text("[mutmut]\nsource_paths = tlmsim/\n")
        Path(d, "tlmsim").mkdir()
        os.chdir(d)
        try:
            module, mutations, _, _ = create_mutations(path, text)
        finally:
            os.chdir(old)
    groups = group_by_top_level_node(mutations)
    out = {}
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef) and groups.get(stmt):
            out[f"x_{stmt.name.value}"] = len(groups[stmt])
        elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            for sub in stmt.body.body:
                if isinstance(sub, cst.FunctionDef) and groups.get(sub):
                    out[f"xǁ{stmt.name.value}ǁ{sub.name.value}"] = len(groups[sub])
    return out


class Counts:
    """mutant_counts cached by the text's git blob hash (and mutmut's version)."""

    def __init__(self, root: Path, path: Path | None):
        import importlib.metadata
        self.root, self.path = root, path
        self.version = importlib.metadata.version("mutmut")
        self.data = json.loads(path.read_text()) if path and path.exists() else {}

    def __call__(self, text: str, path: str) -> dict[str, int]:
        blob = subprocess.run(["git", "hash-object", "--stdin"], input=text.encode(), capture_output=True,
                              check=True).stdout.decode().strip()
        key = f"{self.version}:{blob}"
        if key not in self.data:
            self.data[key] = mutant_counts(text, path)
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_text(json.dumps(self.data))
        return self.data[key]


def read_rows(root: Path, overrides: dict) -> list[Row]:
    """Every row of results/*.csv, its source parsed (and ledger.yaml's recorded globs applied)."""
    rows = []
    for csv_path in sorted((root / "tools" / "mutation" / "results").glob("*.csv")):
        tag = csv_path.stem
        with csv_path.open() as fh:
            for r in csv.DictReader(fh):
                row = Row(tag, r["module"], int(r["mutants"]), r["source"], source_file=f"tools/mutation/results/{tag}.csv")
                row.commit, row.worktree, row.globs, row.stopped = parse_source(r["source"])
                first = _first_row(csv_path.parent / tag / "first.csv", r["module"])
                if not row.globs and first and int(first["mutants"]) == row.mutants:
                    # a --recheck rewrote the source column: the measured run's row is in <tag>/first.csv
                    row.source, row.source_file = first["source"], f"tools/mutation/results/{tag}/first.csv"
                    row.commit, row.worktree, row.globs, row.stopped = parse_source(first["source"])
                if _SAMPLE.search(row.source):
                    row.sample = read_sample(csv_path.parent / tag / f"{r['module'].replace('/', '_')}.sample.txt")
                    if row.sample is None:
                        row.sample, row.note = set(), "sample list missing"
                o = overrides.get((tag, r["module"]))
                if o:
                    row.commit = str(o.get("commit", row.commit))
                    row.judged = {_key(f): str(v) for f, v in o["judged"].items()}
                rows.append(row)
    return rows


def read_sample(path: Path) -> set[str] | None:
    """The mutant names a sampled run judged (run.py writes them, one a line, after ``#`` comments);
    None if the file is missing."""
    if not path.exists():
        return None
    return {l.strip() for l in path.read_text().splitlines() if l.strip() and not l.startswith("#")}


def _first_row(path: Path, module: str) -> dict | None:
    if not path.exists():
        return None
    with path.open() as fh:
        return next((r for r in csv.DictReader(fh) if r["module"] == module), None)


def _key(reader: str) -> str:
    """mutmut's key of a function as a reader writes it: ``Dram._issue`` -> ``xǁDramǁ_issue``."""
    cls, _, name = reader.rpartition(".")
    return f"xǁ{cls}ǁ{name}" if cls else f"x_{name}"


def _numbers(spec: str, n: int) -> set[int]:
    """``all`` or ranges such as ``1-37,40`` (of a function with ``n`` mutants) as mutant numbers."""
    if spec == "all":
        return set(range(1, n + 1))
    out: set[int] = set()
    for part in spec.split(","):
        a, _, b = part.strip().partition("-")
        out |= set(range(int(a), int(b or a) + 1))
    return out


def load_overrides(root: Path) -> dict:
    path = root / "tools" / "mutation" / "ledger.yaml"
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    return {(e["tag"], e["module"]): e for e in (data or {}).get("rows") or []}


def recorded_at(root: Path, path: str, source: str) -> str | None:
    """The commit that first recorded ``source`` in ``path`` (a results csv)."""
    out = _git(root, "log", "--reverse", "--format=%H", "-S", source, "--", path, check=False).split()
    return out[0] if out else None


@dataclass
class Verdict:
    status: str  # today, partial, stale, never
    mutants: int
    tags: list[str]  # the tags that judged today's function (today / partial) or an older one (stale)
    left: list[int] = field(default_factory=list)  # partial: the mutant numbers no complete row judged


def _ranges(nums: list[int]) -> str:
    out, start = [], None
    for i, n in enumerate(nums):
        if start is None:
            start = n
        if i + 1 == len(nums) or nums[i + 1] != n + 1:
            out.append(f"{start}" if start == n else f"{start}-{n}")
            start = None
    return ",".join(out)


def ledger(root: Path = ROOT, rev: str | None = None, modules: list[str] | None = None,
           counts: Counts | None = None) -> dict[str, dict[str, Verdict]]:
    """module -> function key -> its Verdict, for every function with mutants of today's tree
    (``rev``'s, or the working tree); the rows that judge nothing are in ``ledger.notes``."""
    counts = counts or Counts(root, None)
    spec = yaml.safe_load((root / "tools" / "mutation" / "modules.yaml").read_text())["modules"]
    rows = read_rows(root, load_overrides(root))
    out: dict[str, dict[str, Verdict]] = {}
    ledger.notes = []
    for module in modules or list(spec):
        path = f"tlmsim/{module}"
        text = file_at(root, rev, path)
        if text is None:
            ledger.notes.append(f"{module}: not in today's tree")
            continue
        today_src, today_n = function_sources(text), counts(text, path)
        prefix = "tlmsim." + module[:-3].replace("/", ".") + "."
        full: dict[str, set[int]] = {f: set() for f in today_n}  # mutants judged by complete rows on today's code
        some: dict[str, set[int]] = {f: set() for f in today_n}  # ... by any row (stopped ones too)
        tags: dict[str, list[str]] = {f: [] for f in today_n}
        old: dict[str, list[str]] = {f: [] for f in today_n}
        for row in (r for r in rows if r.module == module):
            if row.commit is None or resolve(root, row.commit) is None:
                ledger.notes.append(f"{row.tag} ({module}): commit {row.commit or '?'} not resolvable "
                                    f"in this repository: judges nothing here")
                continue
            then = file_at(root, row.commit, path)
            if then is None:
                ledger.notes.append(f"{row.tag} ({module}): {path} not at {row.commit}")
                continue
            then_src = function_sources(then)
            same = {f for f in today_n if then_src.get(f) == today_src.get(f)}
            if row.worktree and same:
                row.recorded_at = row.recorded_at or recorded_at(root, row.source_file, row.source)
                later = file_at(root, row.recorded_at, path) if row.recorded_at else None
                later_src = function_sources(later) if later else {}
                unsure = {f for f in same if later_src.get(f) != today_src.get(f)}
                if unsure:
                    ledger.notes.append(f"{row.tag} ({module}): +worktree row; {len(unsure)} function(s) differ "
                                        f"between {row.commit} and the commit that recorded it "
                                        f"({(row.recorded_at or '?')[:7]}): counted as stale")
                    same -= unsure
            stopped = row.stopped
            if row.note == "sample list missing":
                ledger.notes.append(f"{row.tag} ({module}): a sampled run without its list of sampled mutants "
                                    f"(results/{row.tag}/{module.replace('/', '_')}.sample.txt): judges nothing here")
                continue
            if not row.globs and not row.judged and row.sample is None:
                n_then = sum(counts(then, path).values())
                if n_then != row.mutants:
                    ledger.notes.append(f"{row.tag} ({module}): {row.mutants} mutants, but the module has {n_then} "
                                        f"at {row.commit}: restricted, globs not recorded (ledger.yaml): partial")
                    stopped = True  # judged an unknown part: partial at most
            for f in today_n:
                nums = range(1, today_n[f] + 1)
                partly = stopped
                if row.judged is not None:  # ledger.yaml: what a stopped or unrecorded run judged, as written
                    spec = row.judged.get(f)
                    partly = spec == "partly"
                    hit = set(nums) if partly else _numbers(spec, today_n[f]) if spec else set()
                elif row.sample is not None:  # the sampled mutants only (their names are today's: same function)
                    hit = {k for k in nums if f"{prefix}{f}__mutmut_{k}" in row.sample}
                elif row.globs:
                    hit = {k for k in nums if any(fnmatch.fnmatch(f"{prefix}{f}__mutmut_{k}", g) for g in row.globs)}
                else:
                    hit = set(nums)
                if not hit:
                    continue
                if f in same:
                    some[f] |= hit
                    if not partly:
                        full[f] |= hit
                    tags[f].append(row.tag)
                elif f in then_src:
                    old[f].append(row.tag)
        verdicts = {}
        for f, n in today_n.items():
            every = set(range(1, n + 1))
            if full[f] >= every:
                verdicts[f] = Verdict("today", n, tags[f])
            elif some[f]:
                verdicts[f] = Verdict("partial", n, tags[f], sorted(every - full[f]))
            elif old[f]:
                verdicts[f] = Verdict("stale", n, old[f])
            else:
                verdicts[f] = Verdict("never", n, [])
        out[module] = verdicts
    return out


def reader_name(key: str) -> str:
    return ".".join(key[2:].split("ǁ")) if key.startswith("xǁ") else key[2:]


def table(result: dict[str, dict[str, Verdict]], markdown: bool = False) -> str:
    head = ["module", "functions (mutants)", "today", "partial", "stale", "never"]
    lines = []
    if markdown:
        lines += ["| " + " | ".join(head) + " |", "|---|---:|---:|---:|---:|---:|"]
    else:
        lines.append(f"{head[0]:24s} {head[1]:>20s} {'today':>12s} {'partial':>12s} {'stale':>12s} {'never':>12s}")
    every = {f"{m}:{f}": v for m, vs in result.items() for f, v in vs.items()}
    for module, vs in [*result.items(), ("all", every)]:
        cells = [f"{len(vs)} ({sum(v.mutants for v in vs.values())})"]
        for s in ("today", "partial", "stale", "never"):
            sel = [v for v in vs.values() if v.status == s]
            cells.append(f"{len(sel)} ({sum(v.mutants for v in sel)})")
        if markdown:
            lines.append(f"| {module} | " + " | ".join(cells) + " |")
        else:
            lines.append(f"{module:24s} {cells[0]:>20s} " + " ".join(f"{c:>12s}" for c in cells[1:]))
    return "\n".join(lines)


def details(result: dict[str, dict[str, Verdict]]) -> str:
    lines = []
    for module, vs in result.items():
        bad = [(f, v) for f, v in vs.items() if v.status != "today"]
        if not bad:
            continue
        lines.append(f"{module}:")
        for f, v in sorted(bad, key=lambda x: ("partial", "stale", "never").index(x[1].status)):
            what = f"{v.status}: {reader_name(f)} ({v.mutants} mutants)"
            if v.status == "partial":
                what += f", not judged whole: {_ranges(v.left)}; by {' '.join(v.tags)}"
            elif v.status == "stale":
                what += f", judged on older code by {' '.join(v.tags)}"
            lines.append("  " + what)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--module", action="append", help="a module of modules.yaml (repeatable; default: all)")
    ap.add_argument("--rev", help="today's code = this commit's tree (default: the working tree)")
    ap.add_argument("--markdown", action="store_true", help="the table in markdown")
    ap.add_argument("--no-cache", action="store_true", help="count every module's mutants afresh")
    args = ap.parse_args(argv)
    cache = None if args.no_cache else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / \
        "tlmsim-mutation-ledger.json"
    result = ledger(ROOT, args.rev, args.module, Counts(ROOT, cache))
    print(table(result, args.markdown))
    print()
    print(details(result))
    if ledger.notes:
        print("\nrows that judge less than they say:")
        print("\n".join("  " + n for n in ledger.notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
