"""Why a run's DRAM model wakes so often: its scheduling decisions counted by the reason
its wake bound was used or not (issue 17, the slow matrix cells).

The DRAM model (tlmsim/hw/dram.py) issues its commands lazily: after each decision
``Dram._schedule`` either wakes the channel at its next decision or, when the only
effect seen outside can be a read transaction's completion, at a lower bound of the
earliest such completion (many bursts later). The bound is not used while a write is
waiting in the channel's offering queue, or while the write buffer holds a write and
any burst waits in the offering queue (an offered read could be served from the write
buffer at once). This tool counts every ``_schedule`` call by which case held, so a slow
cell shows whether its DRAM wakes once per burst (the bound not used) or once per many.
It only reads the model's state (a wrapper around ``_schedule``; the pure-Python DRAM
model is forced); the run and its report are the same as ``tlmsim run``'s.

    python tools/bench/dram_wakes.py PLATFORM WORKLOAD DATAFLOW [--timesteps T] [--layers K]

``--timesteps`` / ``--layers`` (a workload YAML only): run a shortened copy (T timesteps,
the first K layers), e.g. to profile a slow cell in seconds.

It also counts how the RDs were served (session 19): in two-bank batches
(``Dram._pair_batch``), in lone-bank batches (``Dram._solo_batch``), and one at a time (the
rest: ``_hit_run``'s general step and ``_issue``), with the batch calls that served none.
A batch serves its RDs at a fraction of the per-RD cost; a cell whose batches serve few
RDs, or whose batch calls mostly serve none, is slow for that reason (on edge-lpddr4
every two-bank batch stopped at a tie until session 19: docs/performance.md).

Cases (first that holds): ``no_queue`` (nothing queued: no wake), ``plain`` (a model
without the bound), ``write_offered_behind_read`` / ``write_offered_at_head`` (a write
waits in the offering queue: behind a read that waits for room in the read queue, or at
its head), ``buffered_write_forwardable`` (the write buffer holds the address of an
offered read: it can complete at once), ``buffered_write_offers`` (the write buffer holds
writes and bursts are offered, none of them for a buffered address: the bound would hold,
see docs/performance.md "Session 13: slowcell"), ``no_read`` (nothing but writes queued:
no wake), ``bound`` (the bound is used).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["TLMSIM_PURE"] = "1"  # the wrapper needs the pure-Python DRAM model

CASES = ("no_queue", "plain", "write_offered_behind_read", "write_offered_at_head", "buffered_write_forwardable",
         "buffered_write_offers", "no_read", "bound")


def classify(dram, ch: int, nxt: int) -> str:
    """Which case of ``Dram._schedule`` holds for channel ``ch`` (see the module's doc)."""
    from tlmsim.hw import dram as dram_mod

    chan = dram._ch[ch]
    if nxt >= dram_mod._INF or not chan.nq:
        return "no_queue"
    if dram._plain:
        return "plain"
    if chan.offer_writes:
        return "write_offered_at_head" if chan.offers[0].write else "write_offered_behind_read"
    if chan.wpend and chan.offers:
        wpend = chan.wpend
        return "buffered_write_forwardable" if any(o.q in wpend for o in chan.offers) else "buffered_write_offers"
    return "bound" if chan.reads_left else "no_read"


def count_wakes(platform, workload) -> tuple[collections.Counter, object]:
    """Run ``workload`` on ``platform`` (loaded objects) with ``Dram._schedule`` wrapped;
    return the counts of the cases and of the wakes (``wake``), and the run's result."""
    from tlmsim.hw.dram import Dram
    from tlmsim.soc.run import simulate

    counts: collections.Counter = collections.Counter()
    schedule, on_wake = Dram._schedule, Dram._on_wake
    pair, solo = Dram._pair_batch, Dram._solo_batch

    def counted_schedule(self, ch, nxt):
        counts[classify(self, ch, nxt)] += 1
        return schedule(self, ch, nxt)

    def counted_wake(self, ch, at):
        counts["wake"] += 1
        return on_wake(self, ch, at)

    def batch(kind, f):
        def counted(self, *a):
            out = f(self, *a)
            counts[f"{kind}_calls"] += 1
            counts[f"{kind}_rds"] += out[0]
            counts[f"{kind}_none"] += out[0] == 0
            return out
        return counted

    Dram._schedule, Dram._on_wake = counted_schedule, counted_wake
    Dram._pair_batch, Dram._solo_batch = batch("pair", pair), batch("solo", solo)
    try:
        result = simulate(platform, workload, seed=0)
    finally:
        Dram._schedule, Dram._on_wake = schedule, on_wake
        Dram._pair_batch, Dram._solo_batch = pair, solo
    counts["rds"] = result.components["dram"].stats.c["rd"]
    return counts, result


def rd_paths(counts: collections.Counter) -> list[tuple[str, int, int, int]]:
    """(path, RDs, calls, calls that served none) for the two-bank batches, the lone-bank
    batches and the RDs served one at a time (no calls counted)."""
    single = counts["rds"] - counts["pair_rds"] - counts["solo_rds"]
    return [("two-bank batches", counts["pair_rds"], counts["pair_calls"], counts["pair_none"]),
            ("lone-bank batches", counts["solo_rds"], counts["solo_calls"], counts["solo_none"]),
            ("one at a time", single, 0, 0)]


def shortened(path: str, timesteps: int | None, layers: int | None, into: Path) -> str:
    """A copy of workload YAML ``path`` with ``timesteps`` and only its first ``layers`` layers."""
    import yaml

    from tlmsim.resources import resolve

    src = Path(path) if Path(path).exists() else resolve("workloads", path, None)
    doc = yaml.safe_load(Path(src).read_text())
    if timesteps is not None:
        doc["timesteps"] = timesteps
    if layers is not None:
        doc["layers"] = doc["layers"][:layers]
    out = into / f"{doc['name']}-short.yaml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("platform")
    ap.add_argument("workload")
    ap.add_argument("dataflow")
    ap.add_argument("--timesteps", type=int, help="run a copy of the workload YAML with T timesteps")
    ap.add_argument("--layers", type=int, help="run a copy of the workload YAML with its first K layers")
    args = ap.parse_args()
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload

    with tempfile.TemporaryDirectory() as tmp:
        wl = args.workload
        if args.timesteps is not None or args.layers is not None:
            wl = shortened(wl, args.timesteps, args.layers, Path(tmp))
        platform = load_platform(args.platform, [f"dataflow.name={args.dataflow}"])
        workload = load_workload(wl, seed=0)
        c0 = time.process_time()
        counts, result = count_wakes(platform, workload)
        cpu = time.process_time() - c0
    txns = result.recorder.issued
    calls = sum(counts[c] for c in CASES)
    print(f"{args.platform} {args.workload} {args.dataflow}: {txns} transactions, {result.events} SimPy events, "
          f"{counts['wake']} DRAM wakes, {calls} decisions scheduled, {cpu:.2f} CPU s (with the wrapper)")
    for case in CASES:
        if counts[case]:
            print(f"  {case:28} {counts[case]:10d}  {100 * counts[case] / calls:5.1f} %")
    print(f"{counts['rds']} RDs served:")
    for path, rds, n, none in rd_paths(counts):
        share = f"{100 * rds / counts['rds']:5.1f} %" if counts["rds"] else "    -  "
        calls_text = f"  in {n} calls, {none} of them serving none" if n else ""
        print(f"  {path:28} {rds:10d}  {share}{calls_text}")


if __name__ == "__main__":
    sys.exit(main())
