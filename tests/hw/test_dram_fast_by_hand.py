"""The DRAM scheduler's fast path by hand: the closed-form row-hit runs (``Dram._hit_run`` and its
batches of one bank, ``_solo_batch``, and of two banks of one rank, ``_pair_batch``).

The fast path serves runs of row-hit reads without a wake per command; ``Dram(plain=True)`` has
no runs. Two kinds of tests hold it:

* hand-computed command times and completion times through ``access`` (only public entry
  points), on the configuration of tests/hw/test_dram_by_hand.py whose timings are all distinct
  (``cfg()``: tCK 1 ns, CL 7 (RL 7), tRCD 4, tRRD_S 2, tCCD_S 5, tCCD_L 7, tRTP 5, tRTRS 2, burst
  4 cycles, so a read's data ends RD + 11; 1 rank of 2 bank groups x 4 banks, rows of 8 bursts,
  mapping rochrababgco: bursts 0-7 of an address range are one row of bank group 0 bank 0
  ("bank A", local bank 0), bursts 8-15 the same row of bank group 1 bank 0 ("bank B", local
  bank 4)). In a lone bank the row hits follow every max(tCCD_L, burst) = 7 cycles; two banks of
  one rank in different bank groups alternate every max(tCCD_S, burst) = 5 cycles while tCCD_L
  <= 10.
* a fixed (seeded, not random per run) set of streams run through both schedulers: the same
  commands, completion times, counters and stalls, and a command log the independent timing
  checker (tlmsim/verify/dram_timing.py) passes. A mutant of the fast path changes the fast side
  only, so it fails there whenever its stream reaches it.
"""

import numpy as np
import pytest
import simpy

from tests.hw.test_dram import addr
from tests.hw.test_dram_by_hand import NS, TIMING, cfg, counts, log
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig
from tlmsim.verify.dram_timing import check_dram_records


# -- the fast scheduler against the plain one, on fixed streams ------------------------------------

def _run(config: DramConfig, stream, plain: bool):
    """Run ``stream`` ((arrival ps, write, address, bytes), ...): (completion per transaction,
    command rows per channel in log order, counters, stalls, read latencies) and the model. (The
    log interleaves two channels' commands of one cycle in the order the channels were advanced,
    which depends on the wakes: per channel the order is the schedule's.)"""
    env, rec = simpy.Environment(), Recorder()
    dram = Dram(name="dram", env=env, recorder=rec, config=config, record_commands=True, plain=plain)
    ends = []

    def one(at, write, address, nbytes):
        yield env.timeout(at)
        txn = rec.new_transaction(Cmd.WRITE if write else Cmd.READ, DataClass.NONE, address, nbytes, "t", "dram",
                                  now_ps=env.now)
        yield from dram.access(txn)
        ends.append((txn.id, env.now))

    for it in stream:
        env.process(one(*it))
    env.run()
    dram.finalize(env.now)
    return (sorted(ends), sorted(dram.command_records().tolist(), key=lambda row: row[1]), sorted(dram.stats.c.items()),
            sorted(rec.stalls.entries.items()), list(dram.read_latency_ps)), dram


def _config(case: dict) -> DramConfig:
    org = dict(channels=case["channels"], ranks=case["ranks"], bankgroups=2, banks_per_group=4, rows=16, columns=64,
               bus_width_bits=64, burst_length=8)
    return DramConfig.model_validate(dict(
        preset="HBM2" if case["hbm"] else "DDR4-3200", org=org,
        timing={**TIMING, "tREFI": 700, "tCCD_L": case["tccd_l"]}, address_mapping="rochrababgco",
        read_queue_depth=case["rq"], write_queue_depth=8, command_queue_depth=case["cq"], write_low_watermark=2,
        powerdown=True, powerdown_timeout_cycles=30, self_refresh_timeout_cycles=300,
        starvation_cycles=case["starve"]))


def _stream(case: dict) -> list[tuple]:
    """``n`` reads (a write with probability ``wp``) of 1..maxb bursts arriving in [0, span) ns
    on the first ``banks`` banks (alternating bank groups), rows 0-1 (row r in rank r % ranks); with
    two channels the lowest bit of addr()'s row is the channel (rows 0-3: two rows per channel)."""
    rng = np.random.default_rng(case["i"])
    ranks, out = case["ranks"], []
    for _ in range(case["n"]):
        at = int(rng.integers(0, case["span"]))
        write = bool(rng.random() < case["wp"])
        row = int(rng.integers(0, 2 * case["channels"]))
        b = int(rng.integers(0, case["banks"]))
        col = int(rng.integers(0, 8))
        nb = int(rng.integers(1, case["maxb"] + 1))
        out.append((at * NS, write, addr(row, bg=b % 2, ba=b // 2, col=col, rank=row % ranks, ranks=ranks), nb * 64))
    return out


def _cases(n: int) -> list[dict]:
    """Case i cycles through queue depths (read, command), tCCD_L (below, at and above twice
    tCCD_S = 10), busy banks, starvation limits, arrival spans, sizes; every sixth is HBM (its
    separate row and column command buses), every fifth has two ranks, every seventh two channels."""
    out = []
    for i in range(n):
        rq, cq = [(4, 2), (8, 4), (32, 8), (6, 3), (3, 3)][i % 5]
        out.append(dict(i=i, channels=2 if i % 7 == 3 else 1, ranks=2 if i % 5 == 4 else 1, rq=rq, cq=cq, tccd_l=[7, 12, 9, 5, 11, 6, 8][i % 7],
                        banks=[1, 2, 2, 3][i % 4], starve=[1000, 30, 60][i % 3], hbm=i % 6 == 5,
                        span=[60, 150, 400][i % 3], wp=[0.0, 0.1][i % 2], maxb=[8, 24, 40][(i // 2) % 3], n=16))
    return out


@pytest.mark.parametrize("case", _cases(40), ids=lambda c: f"s{c['i']}")
def test_the_fast_scheduler_issues_what_the_plain_one_does(case):
    config, stream = _config(case), _stream(case)
    fast, dram = _run(config, stream, plain=False)
    plain, _ = _run(config, stream, plain=True)
    assert fast == plain
    assert check_dram_records(dram.command_records(), dram.spec, end_cycle=dram.end_cycle) == []
