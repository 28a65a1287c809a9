"""CPU s of one VGG16 T=4 ddr4-baseline inference (load_platform + simulate + build_report), one dataflow,
plus a digest of the report frames (byte-identity check)."""
import hashlib, sys, time
from tlmsim.kernels import describe
from tlmsim.platform import load_platform
from tlmsim.report import build_report
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload

df = sys.argv[1]
wl = load_workload("vgg16-cifar10", seed=0)
c0 = time.process_time()
platform = load_platform("ddr4-baseline", [f"dataflow.name={df}"])
result = simulate(platform, wl, seed=0)
report = build_report(result)
cpu = time.process_time() - c0
h = hashlib.sha256()
for name in ("summary", "layers", "components", "energy", "stalls", "stats"):
    fr = getattr(report, name, None)
    if fr is not None:
        h.update(fr.to_csv().encode())
s = report.summary.iloc[0]
import tlmsim.hw.dram as d
print(f"{df} cpu={cpu:.3f} tx={int(s['transactions'])} lat={int(s['latency_cycles'])} sha={h.hexdigest()[:16]} build={describe().split(':')[1].strip()[:12]}", flush=True)
