"""Run time of one inference per dataflow, and of one dense layer next to SCALE-Sim.

Part 1: one VGG16 CIFAR-10 inference (T = 4, the shipped ``vgg16-cifar10``
workload) on a platform, once per dataflow: wall and CPU time (``time.process_time``:
user + system of this process) of planning + simulation (always-on checks included)
+ report, simulated latency and transactions. On a shared machine the CPU time is
the figure that does not depend on what else runs.

Part 2: the VGG16 conv 256 -> 256 on 8 x 8 (SCALE-Sim's ifmap 10 x 10), 32 x 32
array, weight stationary, one timestep: tlmsim's wall time (``dense-ws``) and, when
``--scalesim-python`` names a Python with ``scalesim`` installed, SCALE-Sim's
(its command line, which always writes per-cycle traces), measured in the same
run, with both cycle counts; wall and CPU time both ways (SCALE-Sim's CPU time: user +
system of its child process, imports included; tlmsim's: of the run in this process).

    python tools/bench/dataflows.py [--platform ddr4-baseline] [--workload vgg16-cifar10]
        [--scalesim-python /path/to/venv/bin/python]
"""

from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tlmsim.kernels import describe
from tlmsim.platform import load_platform
from tlmsim.platform.dataflow import DATAFLOWS
from tlmsim.report import build_report
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload

TOOLS = Path(__file__).resolve().parents[1]
LAYER = "  - {name: conv, op: conv2d, in_shape: [256, 8, 8], out_channels: 256, kernel: 3, padding: 1, neuron: lif}\n"


def run_once(platform_name: str, workload, sets: list[str]) -> tuple[float, float, object]:
    """(wall s, CPU s, (result, report)) of load_platform + simulate + build_report."""
    t0, c0 = time.perf_counter(), time.process_time()
    platform = load_platform(platform_name, sets)
    result = simulate(platform, workload, seed=0)
    report = build_report(result)
    return time.perf_counter() - t0, time.process_time() - c0, (result, report)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def scalesim_seconds(python: str) -> tuple[float, float, int]:
    """Run SCALE-Sim's CLI on the layer; (wall seconds, CPU seconds of the child, total cycles)."""
    sys.path.insert(0, str(TOOLS))
    import scalesim_golden as g  # the golden script's config writers

    layer = g.ConvLayer(name="vgg_conv_256to256", ifmap_h=10, ifmap_w=10, filter_h=3, filter_w=3,
                        channels=256, num_filters=256, stride=1)
    with tempfile.TemporaryDirectory(prefix="scalesim_bench_") as tmp:
        work = Path(tmp)
        (work / "scale.cfg").write_text(g.config_text("bench", "ws", 32, 32))
        (work / "topology.csv").write_text(g.topology_text(layer))
        (work / "layout.csv").write_text(g.layout_text(layer))
        cmd = [python, "-m", "scalesim.scale", "-c", "scale.cfg", "-t", "topology.csv", "-l", "layout.csv",
               "-p", "out"]
        t0, c0 = time.perf_counter(), _children_cpu()
        proc = subprocess.run(cmd, cwd=work, check=False, capture_output=True, text=True)
        if proc.returncode != 0:  # e.g. scalesim 3.0.0 under NumPy 2 (it needs "numpy<2")
            raise SystemExit(f"SCALE-Sim failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
        seconds, cpu = time.perf_counter() - t0, _children_cpu() - c0
        with (work / "out" / "bench" / "COMPUTE_REPORT.csv").open() as f:
            row = next(csv.DictReader(f, skipinitialspace=True))
    cycles = int(float(row["Total Cycles"]))  # not "Total Cycles (incl. prefetch)"
    return seconds, cpu, cycles


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platform", default="ddr4-baseline")
    ap.add_argument("--workload", default="vgg16-cifar10")
    ap.add_argument("--dataflows", nargs="*", default=list(DATAFLOWS))
    ap.add_argument("--scalesim-python", help="a Python interpreter with scalesim 3.0.0 installed")
    args = ap.parse_args()

    workload = load_workload(args.workload, seed=0)
    print(f"{args.workload} (T={workload.timesteps}) on {args.platform}: one inference per dataflow "
          f"({describe()})")
    print(f"{'dataflow':<10} {'wall_s':>7} {'cpu_s':>7} {'latency_cycles':>15} {'transactions':>13} {'EDP_uJ_us':>11}")
    for name in args.dataflows:
        wall, cpu, (_result, report) = run_once(args.platform, workload, [f"dataflow.name={name}"])
        s = report.summary.iloc[0]
        print(f"{name:<10} {wall:7.2f} {cpu:7.2f} {int(s['latency_cycles']):>15} {int(s['transactions']):>13} "
              f"{s['edp_pj_ns'] / 1e9:11.4g}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "layer.yaml"
        p.write_text("name: vgg16-conv256\ntimesteps: 1\nweight_bits: 8\nlayers:\n" + LAYER)
        layer_wl = load_workload(p, seed=0)
        wall, cpu, (_result, report) = run_once(args.platform, layer_wl, ["dataflow.name=dense-ws",
                                                                   "pe_array.rows=32", "pe_array.cols=32",
                                                                   "pe_array.weight_double_buffer=false"])
    array = int(report.layers.iloc[0]["compute_cycles"] - report.layers.iloc[0]["neuron_cycles"])
    print("\nVGG16 conv 256->256 on 8x8, 32x32 array, weight stationary, one timestep, SCALE-Sim's fold rule:")
    print(f"  tlmsim dense-ws   wall {wall:7.2f} s   CPU {cpu:7.2f} s   array cycles {array} "
          "(memory and neuron updates simulated too)")
    if args.scalesim_python:
        sec, scpu, cycles = scalesim_seconds(args.scalesim_python)
        print(f"  SCALE-Sim 3.0.0   wall {sec:7.2f} s   CPU {scpu:7.2f} s   total cycles {cycles} (whole process)")
        print(f"  SCALE-Sim / tlmsim wall time: {sec / wall:.1f}x   CPU time: {scpu / cpu:.1f}x")
    else:
        print("  SCALE-Sim: not run (give --scalesim-python)")


if __name__ == "__main__":
    main()
