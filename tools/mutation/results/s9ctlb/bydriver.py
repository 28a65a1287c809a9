"""Judge mutants by hand in one process: usage bydriver.py DIR OUT NODESFILE name... (run in DIR = a copy of a
run's mutants/ tree). A mutant is caught when the tests fail (or take over BYHAND_LIMIT_S seconds, default 300: a looping mutant)."""
import os, sys, signal, time, io, contextlib
d, out, nodesfile = sys.argv[1:4]
names = sys.argv[4:]
LIMIT = int(os.environ.get("BYHAND_LIMIT_S", "300"))
os.chdir(d)
sys.path.insert(0, d)
import pytest
nodes = [l.strip() for l in open(nodesfile).read().splitlines() if l.strip()]

class Slow(Exception):
    pass

def alarm(*_):
    raise Slow(f"over {LIMIT} s")

signal.signal(signal.SIGALRM, alarm)
for m in names:
    os.environ["MUTANT_UNDER_TEST"] = "tlmsim.hw.controller." + m
    t = time.time()
    buf = io.StringIO()
    signal.alarm(LIMIT)
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
