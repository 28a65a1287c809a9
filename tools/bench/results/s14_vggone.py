import sys, time
from tlmsim.kernels import describe
from tlmsim.platform import load_platform
from tlmsim.report import build_report
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload
df = sys.argv[1]
wl = load_workload("vgg16-cifar10", seed=0)
c0 = time.process_time()
p = load_platform("ddr4-baseline", [f"dataflow.name={df}"])
r = simulate(p, wl, seed=0)
rep = build_report(r)
c = time.process_time() - c0
s = rep.summary.iloc[0]
print(f"{df} cpu {c:.3f} lat {int(s['latency_cycles'])} txn {int(s['transactions'])} [{describe()}]")
