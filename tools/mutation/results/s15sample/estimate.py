"""The time of a sampled pass of every module (run.py --sample N --jobs 2) on an idle 2-core machine,
estimated from the sampled runs of this tag (session 15, helper mutSample) and today's mutant counts.

    python tools/mutation/results/s15sample/estimate.py

Per measured module (results/s15sample/<module>.sample.txt headers and the csv's minutes, all wall minutes
on the shared machine at load 9-15 under nice 15, --jobs 1): CPU minutes of the generation, and of the
mutmut run (stats pass + mutants), split between the two by their wall minutes; the rest of the row's
minutes (copying the tree, `mutmut show` of each survivor and equivalent) counted at the run's CPU/wall
ratio. On an idle machine wall = CPU for one process; --jobs 2 halves the mutants only (the stats pass
is one process; generation copies the tree, mostly one process). Estimate of a pass:
  T(N) = sum over modules of [F + min(N, M) * t / 2]
with F the mean fixed CPU (generation + stats + rest) of the measured modules, t their mean CPU seconds
a mutant (and, pessimistic, the largest t measured), M today's mutant count (tools/mutation/ledger.py).
"""
import csv
import importlib.util
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
spec = importlib.util.spec_from_file_location("mutation_ledger", ROOT / "tools" / "mutation" / "ledger.py")
L = importlib.util.module_from_spec(spec)
sys.modules["mutation_ledger"] = L
spec.loader.exec_module(L)


def measured():
    rows = {r["module"]: r for r in csv.DictReader((HERE.parent / "s15sample.csv").open())}
    out = {}
    for m, r in rows.items():
        head = (HERE / f"{m.replace('/', '_')}.sample.txt").read_text().splitlines()[1]
        wall = {k: float(v) for k, v in re.findall(r"(generation|stats pass|mutants) ([\d.]+)", head.split(";")[0])}
        cpu = {k: float(v) for k, v in re.findall(r"(generation|mutmut run) ([\d.]+)", head.split(";")[1])}
        run_wall = wall["stats pass"] + wall["mutants"]
        ratio = cpu["mutmut run"] / run_wall
        rest = max(0.0, float(r["minutes"]) - wall["generation"] - run_wall) * ratio
        out[m] = {"n": int(r["mutants"]), "gen": cpu["generation"], "stats": wall["stats pass"] * ratio,
                  "mutants": wall["mutants"] * ratio, "rest": rest, "ratio": ratio}
    return out


def main():
    meas = measured()
    print("module                   sampled  CPU min: generation  stats  mutants  rest   CPU s a mutant  (CPU/wall)")
    for m, d in meas.items():
        print(f"{m:24s} {d['n']:7d}  {d['gen']:19.2f} {d['stats']:6.2f} {d['mutants']:8.2f} {d['rest']:5.2f} "
              f"{d['mutants'] * 60 / d['n']:15.2f}  ({d['ratio']:.2f})")
    F = sum(d["gen"] + d["stats"] + d["rest"] for d in meas.values()) / len(meas)
    ts = [d["mutants"] * 60 / d["n"] for d in meas.values()]
    t_mean, t_max = sum(ts) / len(ts), max(ts)
    counts = L.Counts(ROOT, Path(L.os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                      / "tlmsim-mutation-ledger.json")  # the ledger's cache of counts by blob hash
    mods = list(L.yaml.safe_load((ROOT / "tools" / "mutation" / "modules.yaml").read_text())["modules"])
    M = {m: sum(counts((ROOT / "tlmsim" / m).read_text(), f"tlmsim/{m}").values()) for m in mods}
    print(f"\n{len(M)} modules, {sum(M.values())} mutants; F = {F:.2f} CPU min a module, t = {t_mean:.2f} s "
          f"(largest {t_max:.2f} s) a mutant")
    print("   N  mutants judged  fixed min  mutants min (t mean / t max), --jobs 2  total min  "
          "95 % interval at 100 % / 95 % / 90 % killed")
    for N in (25, 50, 100, 150, 200, 300, 400):
        judged = sum(min(N, n) for n in M.values())
        fixed = F * len(M)
        a, b = judged * t_mean / 2 / 60, judged * t_max / 2 / 60
        widths = []
        for k in (N, round(0.95 * N), round(0.9 * N)):
            lo, hi = wilson(k, N)
            widths.append(f"{lo * 100:.1f}-{hi * 100:.1f}")
        print(f"{N:4d} {judged:15d} {fixed:10.0f} {a:8.0f} / {b:3.0f} {'':>21s} {fixed + a:6.0f} - {fixed + b:3.0f}  "
              + " / ".join(widths))


def wilson(k, n, z=1.959964):
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5
    return max(0.0, c - h), min(1.0, c + h)


if __name__ == "__main__":
    main()
