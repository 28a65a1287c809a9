"""Score a stopped run from its kept scratch tree (s8ctlB/salvage.py for any module): the functions all of whose
mutants were judged, with run.py's own helpers. usage (from the repository root):
python tools/mutation/results/s10til/salvage.py TAG MODULE GROUP WORKCOPY SOURCE MINUTES"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import run as R

tag, module, group, work, source, minutes = sys.argv[1:7]
work = Path(work)
codes = R.mutant_results(work, module)
fn = lambda n: n.rsplit("__mutmut_", 1)[0]
funcs = {}
for n, c in codes.items():
    funcs.setdefault(fn(n), []).append(c)
complete = {f for f, cs in funcs.items() if all(c is not None for c in cs)}
for f, cs in sorted(funcs.items()):
    print(f"{f.split('.')[-1]}: {sum(c is not None for c in cs)}/{len(cs)} judged{'' if f in complete else ' (left out)'}")
codes = {n: c for n, c in codes.items() if fn(n) in complete}
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
only = sorted({"*" + f.split(".")[-1] + "__mutmut_*" for f in complete})
rows = R.read_results(tag)
rows[module] = {"module": module, "group": group, "mutants": total, "killed": killed, "timeout": timeout,
                "survived": len(real), "equivalent": len(equivalent),
                "kill_rate": f"{(killed + timeout) / judged:.3f}" if judged else "", "minutes": minutes,
                "source": f"{source} (only {' '.join(only)})"}
R.write_results(tag, rows, list(R.load_modules()))
print(rows[module])
