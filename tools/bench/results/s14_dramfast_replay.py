"""Replay a captured DRAM submission stream (open loop, at the recorded picoseconds) into the DRAM
model with the run's streaming checker as sink; CPU s of env.run + finalize, and a digest."""
import hashlib, sys, time
import numpy as np, simpy
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram
from tlmsim.kernels import describe
from tlmsim.platform import load_platform
from tlmsim.verify.dram_timing import DramCommandChecker
stream = np.load(sys.argv[1]).tolist()
check = len(sys.argv) > 2 and sys.argv[2] == "check"
platform = load_platform("ddr4-baseline", [])
env, rec = simpy.Environment(), Recorder()
h = hashlib.sha256()
checker = DramCommandChecker(platform.dram.resolve(), limit=5) if check else None
def sink(rows):
    h.update(np.ascontiguousarray(rows).tobytes())
    if checker is not None:
        checker.feed(rows)
dram = Dram(name="dram", env=env, recorder=rec, config=platform.dram, command_sink=sink)
ends = []
def done(ev):
    ends.append(env.now)
def driver():
    for t, w, a, n in stream:
        if t > env.now:
            yield env.timeout(t - env.now)
        txn = rec.new_transaction(Cmd.WRITE if w else Cmd.READ, DataClass.NONE, a, n, "dma", "dram", now_ps=env.now)
        dram.submit(txn).callbacks.append(done)
env.process(driver())
c0 = time.process_time()
env.run(); dram.finalize(env.now)
cpu = time.process_time() - c0
h.update(repr(ends).encode()); h.update(repr(sorted(dram.stats.c.items())).encode()); h.update(bytes(dram.read_latency_ps))
print(f"{sys.argv[1].split('_')[-1]}: {len(stream)} txns cpu {cpu:.3f} s, {1e6*cpu/len(stream):.1f} us/txn, digest {h.hexdigest()[:16]} ({describe()[12:20]}){' +checker' if check else ''}", flush=True)
