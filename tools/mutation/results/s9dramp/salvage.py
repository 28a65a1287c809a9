"""Write a tag's hw/dram.py row from the scratch tree of a stopped (or running) run: every judged
mutant of the --only globs counts (run.py's own functions: mutant_results, show, is_equivalent,
write_results; as results/s8ctlB/salvage.py, which counts whole functions only).
usage: salvage.py TAG WORKTREE SOURCE MINUTES GLOB..."""
import fnmatch
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import run as R

tag, work, source, minutes, globs = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
module = "hw/dram.py"
codes = {n: c for n, c in R.mutant_results(work, module).items() if any(fnmatch.fnmatch(n, g) for g in globs)}
fn = lambda n: n.rsplit("__mutmut_", 1)[0]
funcs: dict[str, list] = {}
for n, c in codes.items():
    funcs.setdefault(fn(n), []).append(c)
for f, cs in sorted(funcs.items()):
    print(f"{f.split('.')[-1]}: {sum(c is not None for c in cs)}/{len(cs)} judged")
codes = {n: c for n, c in codes.items() if c is not None}
entries = R.load_equivalent()
killed = sum(1 for c in codes.values() if c in R.KILLED)
timeout = sum(1 for c in codes.values() if c in R.TIMEOUT)
left = sorted((n for n, c in codes.items() if c not in R.KILLED and c not in R.TIMEOUT),
              key=lambda n: (n.rsplit("_", 1)[0], int(n.rsplit("_", 1)[1])))
equivalent, real = [], []
for name in left:
    diff = R.show(work, name)
    e = R.is_equivalent(module, diff, entries)
    (equivalent if e else real).append((name, diff, e))
out = R.RESULTS / tag
out.mkdir(parents=True, exist_ok=True)
text = [f"# surviving mutants of tlmsim/{module} ({source}); equivalent ones marked\n"]
for name, diff, e in equivalent + real:
    text.append(("EQUIVALENT: " + e["reason"] if e else "SURVIVED") + f" (mutant {name})\n{diff.rstrip()}\n")
(out / f"{module.replace('/', '_')}.txt").write_text("\n".join(text))
total = len(codes)
judged = total - len(equivalent)
row = {"module": module, "group": "hw", "mutants": total, "killed": killed, "timeout": timeout,
       "survived": len(real), "equivalent": len(equivalent),
       "kill_rate": f"{(killed + timeout) / judged:.3f}" if judged else "", "minutes": minutes,
       "source": source + f" (only {' '.join(globs)}; judged mutants of a stopped run)"}
R.write_results(tag, {module: row}, list(R.load_modules()))
print(row)
