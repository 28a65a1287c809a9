"""Benchmark matrix: every shipped workload x shipped platform x dataflow.

Each cell runs in its own subprocess (a fresh interpreter, as ``tlmsim run`` would)
under a per-run timeout: load the platform with ``dataflow.name`` set, load the
workload (seed 0), simulate, build the report. The child times load + simulate +
report itself; the parent also records the whole-process wall time (imports
included). Cells that time out are recorded as ``timeout``; cells the model refuses
(e.g. a tile that cannot fit a small buffer) as ``error`` with the first line of
the message. Shipped files are found through :func:`tlmsim.resources.shipped`.

Prints the slowest ten and writes every cell to a CSV (default
``bench-matrix.csv``).

    nice -n 10 python tools/bench/matrix.py [--timeout 120] [--csv FILE]
        [--platforms P ...] [--workloads W ...] [--dataflows D ...]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

COLUMNS = ("workload", "platform", "dataflow", "status", "run_s", "process_s", "transactions",
           "latency_cycles", "detail")


def one(platform: str, workload: str, dataflow: str) -> None:
    """Child: run one cell and print one JSON line."""
    t0 = time.perf_counter()
    from tlmsim.engine.simulation import simulate
    from tlmsim.errors import TlmsimError
    from tlmsim.platform import load_platform
    from tlmsim.report import build_report
    from tlmsim.workload import load_workload

    t1 = time.perf_counter()
    try:
        p = load_platform(platform, [f"dataflow.name={dataflow}"])
        w = load_workload(workload, seed=0)
        result = simulate(p, w, seed=0)
        report = build_report(result)
    except TlmsimError as e:
        print(json.dumps({"status": "error", "detail": str(e).splitlines()[0][:200]}))
        return
    s = report.summary.iloc[0]
    print(json.dumps({
        "status": "ok", "run_s": time.perf_counter() - t1, "import_s": t1 - t0,
        "transactions": int(s["transactions"]), "latency_cycles": int(s["latency_cycles"]),
    }))


def cells(args) -> list[tuple[str, Path, str, Path, str]]:
    from tlmsim.platform.dataflow import DATAFLOWS
    from tlmsim.resources import shipped

    platforms = shipped("platforms")
    workloads = shipped("workloads")
    # a workload YAML may name a .nir graph that is shipped too: keep both (they are
    # different entry points: the YAML may add recorded spikes)
    pick = lambda have, want: {k: v for k, v in have.items() if not want or k in want}  # noqa: E731
    out = []
    for wname, wpath in pick(workloads, args.workloads).items():
        for pname, ppath in pick(platforms, args.platforms).items():
            for d in args.dataflows or DATAFLOWS:
                out.append((wname, wpath, pname, ppath, d))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per cell (default 120)")
    ap.add_argument("--csv", default="bench-matrix.csv", help="where to write every cell")
    ap.add_argument("--platforms", nargs="*")
    ap.add_argument("--workloads", nargs="*")
    ap.add_argument("--dataflows", nargs="*")
    ap.add_argument("--one", nargs=3, metavar=("PLATFORM", "WORKLOAD", "DATAFLOW"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(*args.one)
        return

    todo = cells(args)
    rows = []
    t_all = time.perf_counter()
    for i, (wname, wpath, pname, ppath, d) in enumerate(todo, 1):
        row = dict.fromkeys(COLUMNS, "")
        row.update(workload=wname, platform=pname, dataflow=d)
        t0 = time.perf_counter()
        try:
            cp = subprocess.run([sys.executable, __file__, "--one", str(ppath), str(wpath), d],
                                capture_output=True, text=True, timeout=args.timeout)
            row["process_s"] = f"{time.perf_counter() - t0:.2f}"
            lines = cp.stdout.strip().splitlines()
            if cp.returncode != 0 or not lines:
                err = (cp.stderr.strip().splitlines() or ["exit status %d" % cp.returncode])[-1]
                row.update(status="crash", detail=err[:200])
            else:
                r = json.loads(lines[-1])
                row["status"] = r["status"]
                if r["status"] == "ok":
                    row.update(run_s=f"{r['run_s']:.2f}", transactions=r["transactions"],
                               latency_cycles=r["latency_cycles"])
                else:
                    row["detail"] = r["detail"]
        except subprocess.TimeoutExpired:
            row.update(status="timeout", process_s=f">{args.timeout:.0f}")
        rows.append(row)
        print(f"[{i}/{len(todo)}] {wname:<20} {pname:<14} {d:<9} {row['status']:<7} "
              f"{row['run_s'] or row['process_s']:>8} s {row['detail'][:60]}", flush=True)

    with open(args.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)

    def key(r):
        return float("inf") if r["status"] == "timeout" else float(r["process_s"] or 0)

    print(f"\n{len(rows)} cells in {time.perf_counter() - t_all:.0f} s: "
          + ", ".join(f"{s} {sum(r['status'] == s for r in rows)}" for s in ("ok", "timeout", "error", "crash")))
    print(f"slowest ten (whole process; run = load + simulate + report), all cells in {args.csv}:")
    print(f"| {'workload':<20} | {'platform':<14} | {'dataflow':<9} | {'process s':>9} | {'run s':>7} | "
          f"{'transactions':>12} |")
    print(f"|{'-' * 22}|{'-' * 16}|{'-' * 11}|{'-' * 10}:|{'-' * 8}:|{'-' * 13}:|")
    for r in sorted(rows, key=key, reverse=True)[:10]:
        print(f"| {r['workload']:<20} | {r['platform']:<14} | {r['dataflow']:<9} | {r['process_s']:>9} | "
              f"{r['run_s'] or r['status']:>7} | {r['transactions']!s:>12} |")


if __name__ == "__main__":
    main()
