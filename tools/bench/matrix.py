"""Benchmark matrix: every shipped workload x shipped platform x dataflow.

Each cell runs in its own subprocess (a fresh interpreter, as ``tlmsim run`` would, and with the
environment the ``tlmsim`` command gives itself: one OpenBLAS thread unless one is chosen; and
its cyclic collector: off while loading, the loaded heap frozen before the run) under a per-run
CPU-time limit: load the platform with ``dataflow.name`` set, load the
workload (seed 0), simulate, build the report. The child times load + simulate +
report itself; the parent also records the whole-process wall time (imports
included). Cells that time out are recorded as ``timeout``; cells the model refuses
(e.g. a tile that cannot fit a small buffer) as ``error`` with the first line of
the message. The per-cell limit is on CPU time (``--timeout``, RLIMIT_CPU), so that
a loaded machine does not turn slow cells into timeouts; ``--wall-timeout`` is a
backstop. Shipped files are found through :func:`tlmsim.resources.shipped`.

Each cell's CPU time (user + system of its process, imports included, and of the
run alone) is recorded next to its wall time: on a shared machine the CPU time is
the figure that does not depend on what else runs. Prints the slowest ten by
whole-process CPU time and writes every cell to a CSV as it finishes (default
``bench-matrix.csv``).

    nice -n 10 python tools/bench/matrix.py [--timeout 120] [--jobs 1] [--csv FILE]
        [--platforms P ...] [--workloads W ...] [--dataflows D ...]
        [--cells-from FILE.csv ... [--over S] [--under S]]
    python tools/bench/matrix.py --summarize FILE.csv [FILE.csv ...] [--latest] [--aim 15]

``--cells-from`` measures again the cells of earlier CSVs (each cell once, its row in the
last CSV given, as ``--latest``) whose whole-process CPU s was over ``--over`` and at most
``--under`` (a timeout counts as its limit), cheapest first, so that an interrupted run
has measured as many cells as it could; ``--workloads``, ``--platforms`` and
``--dataflows`` narrow that list further.

``--summarize`` also counts the ok cells at most ``--aim`` whole-process CPU s; with
``--latest`` a cell found in several CSVs counts once, as its row in the last CSV given
(list older CSVs first, e.g. a cell that timed out there and was measured again).
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

COLUMNS = ("workload", "platform", "dataflow", "status", "process_cpu_s", "run_cpu_s", "process_s", "run_s",
           "transactions", "latency_cycles", "detail")


def one(platform: str, workload: str, dataflow: str) -> None:
    """Child: run one cell and print one JSON line. The cyclic collector as `tlmsim run` has it
    (tlmsim/cli.py): off while the modules and inputs load, then their heap frozen (gc.freeze)
    and the collector on for the run."""
    gc.disable()
    t0 = time.perf_counter()
    from tlmsim.errors import TlmsimError
    from tlmsim.platform import load_platform
    from tlmsim.report import build_report
    from tlmsim.soc.run import simulate
    from tlmsim.workload import load_workload

    t1, c1 = time.perf_counter(), time.process_time()
    try:
        p = load_platform(platform, [f"dataflow.name={dataflow}"])
        w = load_workload(workload, seed=0)
        gc.freeze()
        gc.enable()
        result = simulate(p, w, seed=0)
        report = build_report(result)
    except TlmsimError as e:
        print(json.dumps({"status": "error", "detail": str(e).splitlines()[0][:200]}))
        return
    s = report.summary.iloc[0]
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "status": "ok", "run_s": time.perf_counter() - t1, "import_s": t1 - t0,
        "run_cpu_s": time.process_time() - c1, "process_cpu_s": ru.ru_utime + ru.ru_stime,
        "transactions": int(s["transactions"]), "latency_cycles": int(s["latency_cycles"]),
    }))


def read_rows(paths: list[str], latest: bool) -> list[dict]:
    """The rows of CSVs this script wrote; with ``latest`` a cell found in several counts once,
    as its row in the last CSV given (dict order: a cell keeps its first place)."""
    rows = []
    for path in paths:
        with open(path, newline="") as f:
            rows += list(csv.DictReader(f))
    if latest:
        rows = list({(r["workload"], r["platform"], r["dataflow"]): r for r in rows}.values())
    return rows


def cpu_of(r: dict) -> float | None:
    """A row's whole-process CPU s: a timeout counts as its CPU limit (">60" is 60); None
    for a row with no figure (an error, a crash, a timeout on the wall-clock limit)."""
    v = r["process_cpu_s"].lstrip(">")
    return float(v) if v else None


def cells(args) -> list[tuple[str, Path, str, Path, str]]:
    from tlmsim.platform.dataflow import DATAFLOWS
    from tlmsim.resources import shipped

    platforms = shipped("platforms")
    workloads = shipped("workloads")
    if args.cells_from:
        chosen = sorted((c, r["workload"], r["platform"], r["dataflow"]) for r in read_rows(args.cells_from, True)
                        if (c := cpu_of(r)) is not None and args.over < c <= args.under)
        return [(w, workloads[w], p, platforms[p], d) for _, w, p, d in chosen
                if (not args.workloads or w in args.workloads) and (not args.platforms or p in args.platforms)
                and (not args.dataflows or d in args.dataflows)]
    # a workload YAML may name a .nir graph that is shipped too: keep both (they are
    # different entry points: the YAML may add recorded spikes)
    def pick(have: dict, want: list | None) -> dict:  # in the order given, else shipped order
        return {k: have[k] for k in want if k in have} if want else have

    out = []
    for wname, wpath in pick(workloads, args.workloads).items():
        for pname, ppath in pick(platforms, args.platforms).items():
            for d in args.dataflows or DATAFLOWS:
                out.append((wname, wpath, pname, ppath, d))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=int, default=120, help="CPU seconds per cell (default 120)")
    ap.add_argument("--wall-timeout", type=float, default=3600.0, help="wall seconds per cell (default 3600)")
    ap.add_argument("--csv", default="bench-matrix.csv", help="where to write every cell (as each finishes)")
    ap.add_argument("--jobs", type=int, default=1, help="cells run at once (default 1)")
    ap.add_argument("--platforms", nargs="*")
    ap.add_argument("--workloads", nargs="*")
    ap.add_argument("--dataflows", nargs="*")
    ap.add_argument("--cells-from", nargs="+", metavar="CSV",
                    help="measure again the cells of these CSVs (latest row each) whose CPU s was in (--over, --under]")
    ap.add_argument("--over", type=float, default=0.0, help="with --cells-from: CPU s above this (default 0)")
    ap.add_argument("--under", type=float, default=float("inf"), help="with --cells-from: CPU s at most this")
    ap.add_argument("--one", nargs=3, metavar=("PLATFORM", "WORKLOAD", "DATAFLOW"), help=argparse.SUPPRESS)
    ap.add_argument("--summarize", nargs="+", metavar="CSV",
                    help="run nothing: print the slowest ten of CSVs this script wrote (e.g. of partial runs)")
    ap.add_argument("--latest", action="store_true",
                    help="with --summarize: a cell in several CSVs counts once, as its row in the last CSV given")
    ap.add_argument("--aim", type=float, default=15.0,
                    help="with --summarize: count the ok cells at most this many CPU s (default 15)")
    args = ap.parse_args()
    if args.one:
        one(*args.one)
        return
    if args.summarize:
        summarize(read_rows(args.summarize, args.latest), ", ".join(args.summarize), args.aim)
        return

    todo = cells(args)
    cpu = args.timeout
    f = open(args.csv, "w", newline="")  # noqa: SIM115 (closed below; rows are written from threads)
    out = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
    out.writeheader()
    lock = threading.Lock()
    done = [0]
    # the cells' environment as the tlmsim command sets its own (one OpenBLAS thread unless the
    # user chose a count; tlmsim.cli.one_blas_thread), so that a cell costs what `tlmsim run` costs
    from tlmsim.cli import one_blas_thread

    env = dict(os.environ)
    one_blas_thread(env)

    def run_cell(cell) -> dict:
        wname, wpath, pname, ppath, d = cell
        row = dict.fromkeys(COLUMNS, "")
        row.update(workload=wname, platform=pname, dataflow=d)
        t0 = time.perf_counter()
        try:
            cp = subprocess.run([sys.executable, __file__, "--one", str(ppath), str(wpath), d], check=False,
                                capture_output=True, text=True, timeout=args.wall_timeout, env=env,
                                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5)))
            row["process_s"] = f"{time.perf_counter() - t0:.2f}"
            lines = cp.stdout.strip().splitlines()
            if cp.returncode != 0 or not lines:
                if cp.returncode == -signal.SIGXCPU or cp.returncode == -signal.SIGKILL:
                    row.update(status="timeout", process_cpu_s=f">{cpu}")
                    return finish(row)
                err = (cp.stderr.strip().splitlines() or [f"exit status {cp.returncode}"])[-1]
                row.update(status="crash", detail=err[:200])
            else:
                r = json.loads(lines[-1])
                row["status"] = r["status"]
                if r["status"] == "ok":
                    row.update(run_s=f"{r['run_s']:.2f}", run_cpu_s=f"{r['run_cpu_s']:.2f}",
                               process_cpu_s=f"{r['process_cpu_s']:.2f}", transactions=r["transactions"],
                               latency_cycles=r["latency_cycles"])
                else:
                    row["detail"] = r["detail"]
        except subprocess.TimeoutExpired:
            row.update(status="timeout", process_s=f">{args.wall_timeout:.0f}")
        return finish(row)

    def finish(row: dict) -> dict:
        with lock:  # rows reach the CSV as they finish: an interrupted matrix keeps its cells
            out.writerow(row)
            f.flush()
            done[0] += 1
            print(f"[{done[0]}/{len(todo)}] {row['workload']:<20} {row['platform']:<14} {row['dataflow']:<9} {row['status']:<7} "
                  f"cpu {row['process_cpu_s'] or '-':>7} s  wall {row['process_s']:>7} s {row['detail'][:60]}",
                  flush=True)
        return row

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(run_cell, todo))
    f.close()

    summarize(rows, args.csv)


def summarize(rows: list[dict], where: str, aim: float = 15.0) -> None:
    """Counts by status, the ok cells at most ``aim`` CPU s, and the slowest ten cells by
    whole-process CPU time (timeouts first, the higher limit first)."""

    def key(r):
        if r["status"] == "timeout":  # process_cpu_s is ">LIMIT" (CPU limit) or empty (wall limit)
            return (1, float(r["process_cpu_s"].lstrip(">") or "inf"))
        return (0, float(r["process_cpu_s"] or 0))

    print(f"\n{len(rows)} cells: "
          + ", ".join(f"{s} {sum(r['status'] == s for r in rows)}" for s in ("ok", "timeout", "error", "crash")))
    ok = [r for r in rows if r["status"] == "ok"]
    print(f"ok cells at most {aim:g} CPU s (whole process): {sum(float(r['process_cpu_s']) <= aim for r in ok)} "
          f"of {len(ok)}")
    print(f"slowest ten by whole-process CPU time (run = load + simulate + report), all cells in {where}:")
    print(f"| {'workload':<20} | {'platform':<14} | {'dataflow':<9} | {'process CPU s':>15} | {'run CPU s':>9} | "
          f"{'wall s':>7} | {'transactions':>12} |")
    print(f"|{'-' * 22}|{'-' * 16}|{'-' * 11}|{'-' * 16}:|{'-' * 10}:|{'-' * 8}:|{'-' * 13}:|")
    for r in sorted(rows, key=key, reverse=True)[:10]:
        cpu = r["process_cpu_s"] + (" (timeout)" if r["status"] == "timeout" else "") or r["status"]
        print(f"| {r['workload']:<20} | {r['platform']:<14} | {r['dataflow']:<9} | {cpu:>15} | "
              f"{r['run_cpu_s'] or '-':>9} | {r['process_s']:>7} | {r['transactions']!s:>12} |")


if __name__ == "__main__":
    main()
