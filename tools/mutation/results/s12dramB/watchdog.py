"""Watchdog for a mutation run (s12dramB, as session 11's s11dramB did by hand): once mutmut's log
says "Running mutation testing", send SIGXCPU (mutmut's own CPU-limit signal, counted as a timeout)
to every process at least three levels under the run (run.py, mutmut, its fork server, a mutant's
test process) whose own CPU time exceeds LIMIT seconds. Only processes descended
from the given run pid are touched. Usage: watchdog.py RUN_PID LOG LIMIT [MIN_DEPTH]"""
import os
import signal
import sys
import time

run_pid, log, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
#: levels below RUN_PID of a mutant's test process: 3 under run.py, 2 under a mutmut run started by hand
min_depth = int(sys.argv[4]) if len(sys.argv) > 4 else 3
tick = os.sysconf("SC_CLK_TCK")


def stat(pid):
    with open(f"/proc/{pid}/stat") as fh:
        s = fh.read()
    f = s[s.rindex(")") + 2:].split()
    return int(f[1]), (int(f[11]) + int(f[12])) / tick  # ppid, utime + stime


def descendants(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                kids.setdefault(stat(int(d))[0], []).append(int(d))
            except (OSError, ValueError):
                pass
    out, todo = [], [(root, 0)]
    while todo:
        p, depth = todo.pop()
        for c in kids.get(p, []):
            out.append((c, depth + 1))
            todo.append((c, depth + 1))
    return out


while os.path.exists(f"/proc/{run_pid}"):
    try:
        started = "Running mutation testing" in open(log, errors="replace").read()
    except OSError:
        started = False
    if started:
        for p, depth in descendants(run_pid):
            try:
                cpu = stat(p)[1]
            except (OSError, ValueError):
                continue
            # run.py -> nice/mutmut (1) -> fork server (2) -> a mutant's test process (3)
            if depth >= min_depth and cpu > limit:
                os.kill(p, signal.SIGXCPU)
                print(f"{time.strftime('%H:%M:%S')} SIGXCPU {p} after {cpu:.0f} CPU s", flush=True)
    time.sleep(5)
