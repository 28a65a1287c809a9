"""Write a tag's row from a (copied) scratch tree of a stopped or running run, for the functions
all of whose mutants were judged (run.py's own functions: mutant_results, show, is_equivalent,
write_results). usage: salvage.py TAG WORKCOPY SOURCE MINUTES GLOB..."""
import re, sys, fnmatch
from pathlib import Path
sys.path.insert(0, "/work/wt/i17ctl/tools/mutation")
import run as R

tag, work, source, minutes, globs = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
module = "hw/controller.py"
codes = {n: c for n, c in R.mutant_results(work, module).items() if any(fnmatch.fnmatch(n, g) for g in globs)}
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
only = sorted({"*" + f.split(".")[-1].replace("xǁ", "ǁ", 1) + "__mutmut_*" for f in complete})
row = {"module": module, "group": "hw", "mutants": total, "killed": killed, "timeout": timeout,
       "survived": len(real), "equivalent": len(equivalent),
       "kill_rate": f"{(killed + timeout) / judged:.3f}" if judged else "", "minutes": minutes,
       "source": source + f" (only {' '.join(only)})"}
R.write_results(tag, {module: row}, list(R.load_modules()))
print(row)
