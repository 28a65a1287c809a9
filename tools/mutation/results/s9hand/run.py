"""Hand mutants of session 9's spikex step code (tlmsim/dataflow/spikex.py, ws.py): each applied to a scratch copy of
the repository (this worktree's files), then spikex's tests run there (test_spikex_rules, test_ws_rules,
test_planning_shortcuts; -x). usage: python run.py (from any directory; prints one line a mutant)."""
import os, shutil, subprocess, sys, tempfile, time
from pathlib import Path
WT = Path(__file__).resolve().parents[4]
M = [
    ("spikex.py", "summed.append(_BlockSum(0, T,", "summed.append(_BlockSum(1, T,"),
    ("spikex.py", "int(sb.sum()), True))", "int(sb.sum()), False))"),
    ("spikex.py", "count += len(cyc)", "count = len(cyc)"),
    ("spikex.py", "cyc = np.maximum(cyc, tagc)", "cyc = cyc"),
    ("spikex.py", "- h[idx + lens - 1] + skew", "- h[idx] + skew"),
    ("spikex.py", "k0[0] = 0", "pass"),
    ("spikex.py", "moved = (g1 - g0) + tag_cum[g1] - tag_cum[g0]", "moved = (g1 - g0) + 0 * tag_cum[g0]"),
    ("spikex.py", 'bkey = ("tiles", n0, g)', 'bkey = ("tiles", g)'),
    ("spikex.py", 'lkey = ("groups", cf.m0, cf.mm, g, live.tobytes())', 'lkey = ("groups", cf.mm, g, live.tobytes())'),
    ("spikex.py", "wl = np.add.reduceat(kr * copies[live], idx) * nc", "wl = np.add.reduceat(kr, idx) * nc"),
    ("spikex.py", "return (self.ZERO_SKIP and act is not None) or super()._ranked_by_totals(act)", "return super()._ranked_by_totals(act)"),
    ("spikex.py", "if totals and steps:", "if totals and len(steps) > 1:"),
    ("spikex.py", "cycles, count = sum(cyc_l), len(steps)", "cycles, count = sum(cyc_l), 1"),
    ("spikex.py", "key = (cf.m0, cf.mm, tuple(folds.tolist()))", "key = (cf.mm, tuple(folds.tolist()))"),
    ("ws.py", "totals=make(totals=True)))", "totals=self._steps(layer, act, chunks, g, 'n>m>k', spike_cache, totals=True)))"),
]
tests = ["tests/dataflow/test_spikex_rules.py", "tests/dataflow/test_ws_rules.py", "tests/dataflow/test_planning_shortcuts.py"]
for i, (f, a, b) in enumerate(M):
    d = Path(tempfile.mkdtemp(prefix=f"s9hand-m{i}-"))
    shutil.rmtree(d)
    shutil.copytree(WT, d, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info"))
    p = d / "tlmsim/dataflow" / f
    s = p.read_text()
    assert s.count(a) == 1, (i, a)
    p.write_text(s.replace(a, b))
    t0 = time.time()
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests], cwd=d,
                       env={"PYTHONPATH": str(d), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"},
                       capture_output=True, text=True)
    last = [l for l in r.stdout.splitlines() if l.strip()][-1]
    print(f"m{i} {f}: {a!r} -> {b!r}: {'KILLED' if r.returncode else 'SURVIVED'} ({last[:80]}, {time.time() - t0:.0f} s)", flush=True)
    shutil.rmtree(d)
