"""Write a tag's row from by-hand verdicts (quickjudge.py's OUT files) plus the verdicts a
stopped mutmut run had stored (its meta file), for the functions all of whose mutants were
judged, with run.py's own functions (show, is_equivalent, write_results). A mutant judged both
ways takes mutmut's verdict. usage: score.py TAG WORK SOURCE MINUTES OUTFILE... -- GLOB...
(WORK: the stopped run's scratch tree, whose mutants/ has the meta file and serves `mutmut show`)."""
import fnmatch
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import run as R  # noqa: E402

args = sys.argv[1:]
tag, work, source, minutes = args[0], Path(args[1]), args[2], args[3]
sep = args.index("--")
outs, globs = args[4:sep], args[sep + 1:]
module = "hw/controller.py"
prefix = "tlmsim.hw.controller."
codes = {n: c for n, c in R.mutant_results(work, module).items() if any(fnmatch.fnmatch(n, g) for g in globs)}
for o in outs:
    for line in Path(o).read_text().splitlines():
        if line.startswith("#") or line == "DONE":
            continue
        name, verdict = line.split()[:2]
        n = prefix + name
        if n in codes and codes[n] is None:  # caught by a test over the time limit: a timeout (mutmut's 36)
            codes[n] = (36 if line.endswith(": Slow") else 1) if verdict == "caught" else 0
fn = lambda n: n.rsplit("__mutmut_", 1)[0]  # noqa: E731
funcs: dict[str, list] = {}
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
