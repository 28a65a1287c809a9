"""Engine throughput against raw SimPy, and whole-process speed against SCALE-Sim.

Part 1: runs one workload on one platform at the platform's (default) block size,
repeating the inference until at least ``--min-transactions`` transactions have been
simulated, measures in the same process the rate of a bare SimPy process yielding
timeouts, and prints both rates, their ratio and the peak resident memory. A ratio
of 0.10 means a transaction costs about as much as 10 bare SimPy timeouts.

Part 2 (with ``--scalesim-python``, a Python that has ``scalesim`` 3.0.0 installed;
tlmsim does not depend on it): five dense conv layers (the first five layers of
tools/scalesim_golden.py) as one SCALE-Sim topology CSV, on a 16 x 16 array, weight
stationary. Whole process both ways, in the same run, back to back: ``tlmsim run``
of the topology (``dense-ws``, T = 4 timesteps, memory system and neurons
simulated too) and SCALE-Sim's command line (which always writes per-cycle traces);
wall and CPU time (user + system of the child) and their ratios.

    python tools/bench/throughput.py [--platform P] [--workload W] [--min-transactions N]
        [--scalesim-python /path/to/venv/bin/python]

DRAM part (``--dram-blocks N``): the platform's DRAM model alone, wired as a run wires
it (the streaming command checker as its command sink), serving N DMA blocks of
``--block-bytes`` (4 KiB, the default DMA block) from 4 requesters, one block in 16 a
write, each block a read of its own sequential stream; prints blocks/s, DRAM commands
checked, and the peak resident memory, which must not grow with N (the command log is
checked chunk by chunk and dropped).

    python tools/bench/throughput.py --dram-blocks 160000 [--platform P] [--block-bytes B]
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram
from tlmsim.kernels import describe
from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.verify.dram_timing import DramCommandChecker
from tlmsim.workload import load_workload

REQUESTERS = 4
STREAM_STRIDE = (1 << 28) + (1 << 15)  #: bytes between the requesters' streams (on DDR4 another bank: no lockstep conflicts)


def raw_simpy_rate(n: int = 1_000_000) -> float:
    """Timeouts per CPU second of one SimPy process doing nothing else."""
    env = simpy.Environment()

    def proc(env):
        for _ in range(n):
            yield env.timeout(1)

    env.process(proc(env))
    t0 = time.process_time()
    env.run()
    return n / (time.process_time() - t0)


TOOLS = Path(__file__).resolve().parents[1]
DENSE_LAYERS = 5
ARRAY = 16


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``cmd`` to completion; (wall s, CPU s of the child: user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def scalesim_comparison(python: str, platform: str) -> None:
    """Part 2: five dense layers, whole process, tlmsim then SCALE-Sim then tlmsim."""
    sys.path.insert(0, str(TOOLS))
    import scalesim_golden as g  # its config, topology and layout writers

    layers = g.LAYERS[:DENSE_LAYERS]
    with tempfile.TemporaryDirectory(prefix="tlmsim_vs_scalesim_") as tmp:
        work = Path(tmp)
        topo = work / "five_dense.csv"
        topo.write_text(g.topology_text(layers[0]).splitlines()[0] + "\n" + "".join(
            g.topology_text(layer).splitlines()[1] + "\n" for layer in layers))
        (work / "scale.cfg").write_text(g.config_text("five_dense", "ws", ARRAY, ARRAY))
        (work / "layout.csv").write_text(g.layout_text(layers[0]).splitlines()[0] + "\n" + "".join(
            g.layout_text(layer).splitlines()[1] + "\n" for layer in layers))
        tlm = [sys.executable, "-m", "tlmsim", "run", platform, str(topo), "-q", "--out", str(work / "tlm"),
               "--dataflow", "dense-ws", "--set", f"pe_array.rows={ARRAY}", "--set", f"pe_array.cols={ARRAY}"]
        ss = [python, "-m", "scalesim.scale", "-c", "scale.cfg", "-t", str(topo), "-l", "layout.csv", "-p", "out"]
        t1 = timed(tlm, work)
        s = timed(ss, work)
        t2 = timed(tlm, work)
    tw, tc = (t1[0] + t2[0]) / 2, (t1[1] + t2[1]) / 2
    print(f"\nfive dense layers ({', '.join(layer.name for layer in layers)}), {ARRAY}x{ARRAY}, weight stationary, "
          "whole process:")
    print(f"  tlmsim run (T=4)   wall {tw:8.2f} s   CPU {tc:8.2f} s   (mean of the runs before and after SCALE-Sim)")
    print(f"  SCALE-Sim 3.0.0    wall {s[0]:8.2f} s   CPU {s[1]:8.2f} s")
    print(f"  SCALE-Sim / tlmsim wall {s[0] / tw:8.1f} x   CPU {s[1] / tc:8.1f} x   (aim >= 100 x)")
    if importlib.util.find_spec("pyarrow") is not None:
        # measured in session 19: 0.40 -> 0.60-0.65 CPU s on this comparison (docs/performance.md)
        print("  note: pyarrow is installed here, so `tlmsim run` also writes every table as Parquet (importing "
              "pandas and pyarrow, about 0.2 s); the README's `pip install .` has no pyarrow")


def dram_scale(platform, blocks: int, block_bytes: int) -> None:
    """The DRAM model with the run's streaming checker on ``blocks`` DMA blocks."""
    env, rec = simpy.Environment(), Recorder()
    checker = DramCommandChecker(platform.dram.resolve(), limit=5)
    dram = Dram(name="dram", env=env, recorder=rec, config=platform.dram, command_sink=checker.feed)
    per = -(-blocks // REQUESTERS)

    def requester(i: int):
        for j in range(min(per, blocks - i * per)):
            cmd = Cmd.WRITE if j % 16 == 15 else Cmd.READ
            txn = rec.new_transaction(cmd, DataClass.NONE, i * STREAM_STRIDE + j * block_bytes, block_bytes, "dma",
                                      "dram", now_ps=env.now)
            yield from dram.access(txn)
            rec.complete(txn, env.now)

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    for i in range(REQUESTERS):
        env.process(requester(i))
    t0, c0 = time.perf_counter(), time.process_time()
    env.run()
    dram.finalize(env.now)
    violations = checker.finish()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"platform {platform.name}: DRAM alone, {blocks} blocks of {block_bytes} B from {REQUESTERS} requesters "
          f"in {wall:.1f} s ({blocks / wall:.0f} blocks/s), {checker.rows} commands checked, "
          f"{len(violations)} violations")
    # CPU time (user + system of this process; the streaming checker included) is the figure on a shared machine
    print(f"CPU {cpu:.2f} s: {1e6 * cpu / blocks:.1f} us per block")
    print(f"peak resident memory (MiB)   {peak:12.1f}   (before the run {base:.1f})")
    print(describe())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--platform", default="ddr4-baseline")
    ap.add_argument("--workload", default="vgg9-cifar10")
    ap.add_argument("--min-transactions", type=int, default=1_000_000)
    ap.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    ap.add_argument("--dram-blocks", type=int, default=0, metavar="N",
                    help="the DRAM model alone on N DMA blocks (see the module docstring)")
    ap.add_argument("--block-bytes", type=int, default=4096)
    ap.add_argument("--scalesim-python", help="a Python interpreter with scalesim 3.0.0 installed (part 2)")
    args = ap.parse_args()

    platform = load_platform(args.platform, args.set)
    if args.dram_blocks:
        dram_scale(platform, args.dram_blocks, args.block_bytes)
        return
    workload = load_workload(args.workload, seed=0)
    # the machine's speed drifts (other processes, frequency scaling): measure the raw
    # SimPy rate before, between and after the runs and use the median; both rates are
    # per CPU second of this process (on a shared machine wall time counts the others)
    raws = [raw_simpy_rate()]
    txns, events, wall, runs = 0, 0, 0.0, 0
    while txns < args.min_transactions:
        t0 = time.process_time()
        result = simulate(platform, workload, seed=0)
        wall += time.process_time() - t0
        txns += result.recorder.issued
        events += result.events
        runs += 1
        if runs == 1:
            raws.append(raw_simpy_rate())
    raws.append(raw_simpy_rate())
    raw = statistics.median(raws)
    rate = txns / wall
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"platform {platform.name}, workload {workload.name}, DMA block {platform.dataflow.dma_chunk_bytes} B: "
          f"{runs} run(s), {txns} transactions, {events} SimPy events in {wall:.1f} CPU s")
    print(f"tlmsim transactions/CPU s    {rate:12.0f}")
    print(f"raw SimPy timeouts/CPU s     {raw:12.0f}   (median of {', '.join(f'{r:.0f}' for r in raws)})")
    print(f"ratio                        {rate / raw:12.3f}   (aim >= 0.10)")
    print(f"events per transaction       {events / txns:12.2f}")
    print(f"peak resident memory (MiB)   {peak_mib:12.1f}")
    print(describe())
    if args.scalesim_python:
        scalesim_comparison(args.scalesim_python, args.platform)
    else:
        print("\nSCALE-Sim comparison: not run (give --scalesim-python)")


if __name__ == "__main__":
    main()
