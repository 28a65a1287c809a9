"""Run VGG16 T=4 ddr4-baseline DATAFLOW and save the DRAM submissions (ps, write, address, nbytes) to OUT.npy
(default stream_DATAFLOW.npy): python s14_dramfast_capture.py DATAFLOW [OUT.npy]; replay with s14_dramfast_replay.py."""
import sys, numpy as np
import tlmsim.hw.dram as d
from tlmsim.engine.transaction import Cmd
from tlmsim.platform import load_platform
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload
log = []
orig = d.Dram.submit
def submit(self, txn):
    log.append((self.env.now, int(txn.cmd == Cmd.WRITE), txn.address, txn.nbytes))
    return orig(self, txn)
d.Dram.submit = submit
df = sys.argv[1]
wl = load_workload("vgg16-cifar10", seed=0)
simulate(load_platform("ddr4-baseline", [f"dataflow.name={df}"]), wl, seed=0)
np.save(sys.argv[2] if len(sys.argv) > 2 else f"stream_{df}.npy", np.array(log, dtype=np.int64))
print(df, len(log))
