"""Judge mutants by hand in one process (as results/s8ctlB/bydriver.py, for hw/dram.py): usage
bydriver.py DIR OUT NODESFILE name... (run in DIR = a run's kept mutants/ tree, with the new tests
copied in). A mutant is caught when the tests fail (or take over 300 s)."""
import contextlib
import io
import os
import signal
import sys
import time

d, out, nodesfile = sys.argv[1:4]
names = sys.argv[4:]
os.chdir(d)
sys.path.insert(0, d)
import pytest

with open(nodesfile) as fh:
    nodes = [line.strip() for line in fh.read().splitlines() if line.strip()]


class Slow(Exception):
    pass


def alarm(*_):
    raise Slow("over 300 s")


signal.signal(signal.SIGALRM, alarm)
for m in names:
    os.environ["MUTANT_UNDER_TEST"] = m if m.startswith("tlmsim.") else "tlmsim.hw.dram." + m
    t = time.time()
    buf = io.StringIO()
    signal.alarm(300)
    try:
        with contextlib.redirect_stdout(buf):
            rc = pytest.main(["-x", "-q", "-p", "no:cacheprovider", *nodes])
    except Slow:
        rc = "slow"
    finally:
        signal.alarm(0)
    with open(out, "a") as fh:
        fh.write(f"{m} {'caught' if rc not in (0, 5) else 'SURVIVED'} rc={rc} {time.time() - t:.0f}s\n")
with open(out, "a") as fh:
    fh.write("DONE\n")
