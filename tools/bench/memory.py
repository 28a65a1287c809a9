"""Peak resident memory of one long ``tlmsim run --trace``, sampled over the run.

Runs ``tlmsim run PLATFORM WORKLOAD --trace FILE.csv [extra options]`` in a child
process (``nice -n NICE``), and every ``--every`` seconds reads the child's resident
set (``VmRSS`` and ``VmHWM`` of /proc/PID/status), its CPU time (/proc/PID/stat) and
the number of trace rows written so far (the newlines appended to the trace's
``.partial`` file since the last sample: only the new bytes are read). Each sample is
a CSV row (``--samples FILE.csv``: elapsed_s, cpu_s, rows, rss_mib, hwm_mib); at the
end it prints the peak RSS (the kernel's high-water mark, which ``/usr/bin/time -v``
reports as "Maximum resident set size"), the RSS at row milestones (1 M, 2 M, 5 M,
10 M, ... rows, the first sample at or past each), the CPU time, the rows and the
trace's size. A trace row is one transaction hop (docs/observability.md, README
"Trace"). Not a timed test: a measurement to rerun.

    python tools/bench/memory.py resnet19-cifar10 --platform edge-lpddr4 \\
        --dataflow dense-is --samples rss.csv [--perfetto] [--verify] [--keep-trace]

``--milestone-every ROWS`` puts the RSS at every multiple of ROWS (e.g. each million)
in that table instead of the fixed milestones; ``--summarize SAMPLES.csv`` runs nothing
and prints the table of a samples CSV this script wrote (also of a run still going):

    python tools/bench/memory.py --summarize rss.csv --milestone-every 1000000

Linux only (/proc). The run's reports go to a temporary directory (``--out`` to keep
them); the trace is deleted afterwards unless ``--keep-trace``.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1 << 20
MILESTONES = (1_000_000, 2_000_000, 5_000_000, 10_000_000, 15_000_000, 20_000_000, 50_000_000)


def _status_kib(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of ``pid`` in KiB, or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            text = fh.read()
    except OSError:
        return None
    vals = {}
    for line in text.splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, val = line.split(":", 1)
            vals[key] = int(val.split()[0])
    if "VmRSS" not in vals:  # a zombie has no memory lines
        return None
    return vals["VmRSS"], vals["VmHWM"]


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` so far."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14, 15 of stat)


class _RowCounter:
    """Counts the newlines appended to a growing file (reads only new bytes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = None
        self.rows = -1  # the header line is not a row

    def poll(self) -> int:
        if self._fh is None:
            try:
                self._fh = open(self.path, "rb")  # noqa: SIM115 (kept open: each poll reads on)
            except OSError:
                return max(self.rows, 0)
        while True:
            chunk = self._fh.read(1 << 22)
            if not chunk:
                break
            self.rows += chunk.count(b"\n")
        return max(self.rows, 0)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def milestones(samples: list[tuple], every: int | None) -> list[str]:
    """Table lines: the first sample at or past each milestone (multiples of ``every`` rows,
    else MILESTONES); a sample is (elapsed_s, cpu_s, rows, rss_mib, hwm_mib)."""
    lines = ["rows reached | elapsed s | CPU s | RSS MiB | peak so far MiB"]
    top = max((s[2] for s in samples), default=0)
    marks = range(every, top + 1, every) if every else MILESTONES
    for m in marks:
        hit = next((s for s in samples if s[2] >= m), None)
        if hit is not None:
            lines.append(f"{m:>12,} | {hit[0]:>9} | {hit[1]:>5} | {hit[3]:>7} | {hit[4]:>7}")
    return lines


def summarize(path: str, every: int | None) -> None:
    """Print the milestone table, the last sample and the sampled peak of a samples CSV."""
    with open(path, newline="") as fh:
        samples = [(float(r["elapsed_s"]), float(r["cpu_s"]), int(r["rows"]), float(r["rss_mib"]),
                    float(r["hwm_mib"])) for r in csv.DictReader(fh)]
    print("\n".join(milestones(samples, every)))
    if samples:
        last = samples[-1]
        print(f"last sample: {last[2]:,} rows at {last[0]} s, CPU {last[1]} s, RSS {last[3]} MiB; "
              f"peak (VmHWM sampled) {max(s[4] for s in samples)} MiB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workload", nargs="?")
    ap.add_argument("--platform", default="ddr4-baseline")
    ap.add_argument("--dataflow")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--perfetto", action="store_true", help="also write a Perfetto trace")
    ap.add_argument("--verify", action="store_true", help="run with --verify")
    ap.add_argument("--every", type=float, default=5.0, help="seconds between samples (default 5)")
    ap.add_argument("--nice", type=int, default=15)
    ap.add_argument("--samples", help="write the samples to this CSV")
    ap.add_argument("--workdir", help="where the trace goes (default: a temporary directory)")
    ap.add_argument("--out", help="keep the run's reports here")
    ap.add_argument("--keep-trace", action="store_true")
    ap.add_argument("--tlmsim", default=shutil.which("tlmsim") or "tlmsim",
                    help="the tlmsim executable (default: the one on PATH)")
    ap.add_argument("--milestone-every", type=int, metavar="ROWS",
                    help="RSS at every multiple of ROWS in the table (default: 1 M, 2 M, 5 M, 10 M, ...)")
    ap.add_argument("--summarize", metavar="SAMPLES.csv", help="run nothing: print the table of a samples CSV")
    args = ap.parse_args(argv)
    if args.milestone_every is not None and args.milestone_every < 1:
        ap.error("--milestone-every must be at least 1")
    if args.summarize:
        summarize(args.summarize, args.milestone_every)
        return 0
    if not args.workload:
        ap.error("a workload is needed (or --summarize)")

    work = Path(args.workdir or tempfile.mkdtemp(prefix="tlmsim-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    trace = work / "trace.csv"
    out = Path(args.out) if args.out else work / "out"
    cmd = ["nice", "-n", str(args.nice), args.tlmsim, "run", args.platform, args.workload,
           "--trace", str(trace), "--out", str(out), "-q"]
    if args.dataflow:
        cmd += ["--dataflow", args.dataflow]
    for s in args.set:
        cmd += ["--set", s]
    pftrace = work / "trace.pftrace"
    if args.perfetto:
        cmd += ["--perfetto", str(pftrace)]
    if args.verify:
        cmd += ["--verify"]
    print(" ".join(cmd), flush=True)

    counter = _RowCounter(trace.with_name(trace.name + ".partial"))
    out_fh = open(args.samples, "w", newline="") if args.samples else None  # noqa: SIM115 (written as the run goes)
    writer = csv.writer(out_fh, lineterminator="\n") if out_fh else None
    if writer:
        writer.writerow(("elapsed_s", "cpu_s", "rows", "rss_mib", "hwm_mib"))
    samples: list[tuple[float, float, int, float, float]] = []
    t0 = time.monotonic()
    # nice execs tlmsim in place, so the child's pid is tlmsim's
    proc = subprocess.Popen(cmd)
    peak_kib = 0
    cpu = 0.0
    while True:
        st = _status_kib(proc.pid)
        c = _cpu_s(proc.pid)
        rows = counter.poll()
        if st is not None:
            rss, hwm = st
            peak_kib = max(peak_kib, hwm)
            cpu = c if c is not None else cpu
            samples.append((round(time.monotonic() - t0, 1), round(cpu, 2), rows,
                            round(rss / 1024, 1), round(hwm / 1024, 1)))
            if writer:
                writer.writerow(samples[-1])
                out_fh.flush()
        if proc.poll() is not None:
            break
        time.sleep(args.every)
    rc = proc.wait()
    counter.close()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic() - t0

    if out_fh:
        out_fh.close()

    rows = None
    size = None
    if trace.exists():
        size = trace.stat().st_size
        with open(trace, "rb") as fh:
            rows = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 22), b"")) - 1
    print(f"exit status {rc}; wall {wall:.0f} s; CPU {kids.ru_utime + kids.ru_stime:.1f} s "
          f"(user {kids.ru_utime:.1f}, system {kids.ru_stime:.1f})")
    print(f"peak RSS {kids.ru_maxrss / 1024:.0f} MiB (getrusage of the child; "
          f"VmHWM sampled: {peak_kib / 1024:.0f} MiB)")
    if rows is not None:
        print(f"trace: {rows:,} rows, {size / MIB:.0f} MiB ({size / max(rows, 1):.1f} bytes per row)")
    if args.perfetto and pftrace.exists():
        print(f"perfetto: {pftrace.stat().st_size / MIB:.0f} MiB")
    print("\n".join(milestones(samples, args.milestone_every)))
    if samples:
        last = samples[-1]
        print(f"last sample: {last[2]:,} rows at {last[0]} s, RSS {last[3]} MiB")
    if not args.keep_trace:  # a run stopped early (killed) leaves its .partial files: gone too
        for p in (trace, pftrace):
            for q in (p, p.with_name(p.name + ".partial")):
                if q.exists():
                    q.unlink()
    return rc


if __name__ == "__main__":
    sys.exit(main())
