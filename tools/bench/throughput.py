"""Engine throughput: simulated transactions per second against raw SimPy.

Runs one workload on one platform (repeating the inference until at least
``--min-transactions`` transactions have been simulated), measures in the same
process the rate of a bare SimPy process yielding timeouts, and prints both rates,
their ratio and the peak resident memory. A ratio of 0.15 means a transaction costs
about as much as 6-7 bare SimPy timeouts.

    python tools/bench/throughput.py [--platform P] [--workload W] [--min-transactions N]

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
import resource
import statistics
import time

import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram
from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.verify.dram_timing import DramCommandChecker
from tlmsim.workload import load_workload

REQUESTERS = 4
STREAM_STRIDE = (1 << 28) + (1 << 15)  #: bytes between the requesters' streams (on DDR4 another bank: no lockstep conflicts)


def raw_simpy_rate(n: int = 1_000_000) -> float:
    """Timeouts per second of one SimPy process doing nothing else."""
    env = simpy.Environment()

    def proc(env):
        for _ in range(n):
            yield env.timeout(1)

    env.process(proc(env))
    t0 = time.perf_counter()
    env.run()
    return n / (time.perf_counter() - t0)


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
    t0 = time.perf_counter()
    env.run()
    dram.finalize(env.now)
    violations = checker.finish()
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"platform {platform.name}: DRAM alone, {blocks} blocks of {block_bytes} B from {REQUESTERS} requesters "
          f"in {wall:.1f} s ({blocks / wall:.0f} blocks/s), {checker.rows} commands checked, "
          f"{len(violations)} violations")
    print(f"peak resident memory (MiB)   {peak:12.1f}   (before the run {base:.1f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--platform", default="ddr4-baseline")
    ap.add_argument("--workload", default="vgg9-cifar10")
    ap.add_argument("--min-transactions", type=int, default=1_000_000)
    ap.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    ap.add_argument("--dram-blocks", type=int, default=0, metavar="N",
                    help="the DRAM model alone on N DMA blocks (see the module docstring)")
    ap.add_argument("--block-bytes", type=int, default=4096)
    args = ap.parse_args()

    platform = load_platform(args.platform, args.set)
    if args.dram_blocks:
        dram_scale(platform, args.dram_blocks, args.block_bytes)
        return
    workload = load_workload(args.workload, seed=0)
    # the machine's speed drifts (other processes, frequency scaling): measure the raw
    # SimPy rate before, between and after the runs and use the median
    raws = [raw_simpy_rate()]
    txns, events, wall, runs = 0, 0, 0.0, 0
    while txns < args.min_transactions:
        t0 = time.perf_counter()
        result = simulate(platform, workload, seed=0)
        wall += time.perf_counter() - t0
        txns += result.recorder.issued
        events += result.events
        runs += 1
        if runs == 1:
            raws.append(raw_simpy_rate())
    raws.append(raw_simpy_rate())
    raw = statistics.median(raws)
    rate = txns / wall
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"platform {platform.name}, workload {workload.name}: {runs} run(s), {txns} transactions, "
          f"{events} SimPy events in {wall:.1f} s")
    print(f"tlmsim transactions/s        {rate:12.0f}")
    print(f"raw SimPy timeouts/s         {raw:12.0f}   (median of {', '.join(f'{r:.0f}' for r in raws)})")
    print(f"ratio                        {rate / raw:12.3f}   (aim >= 0.15)")
    print(f"events per transaction       {events / txns:12.2f}")
    print(f"peak resident memory (MiB)   {peak_mib:12.1f}")

if __name__ == "__main__":
    main()
