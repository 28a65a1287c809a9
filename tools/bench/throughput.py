"""Engine throughput: simulated transactions per second against raw SimPy.

Runs one workload on one platform (repeating the inference until at least
``--min-transactions`` transactions have been simulated), measures in the same
process the rate of a bare SimPy process yielding timeouts, and prints both rates,
their ratio and the peak resident memory. A ratio of 0.15 means a transaction costs
about as much as 6-7 bare SimPy timeouts.

    python tools/bench/throughput.py [--platform P] [--workload W] [--min-transactions N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import simpy

from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--platform", default="ddr4-baseline")
    ap.add_argument("--workload", default="vgg9-cifar10")
    ap.add_argument("--min-transactions", type=int, default=1_000_000)
    ap.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    args = ap.parse_args()

    platform = load_platform(args.platform, args.set)
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
