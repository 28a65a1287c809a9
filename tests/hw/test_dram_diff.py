"""Differential test of the DRAM model's fast paths against its plain scheduler.

``Dram(plain=True)`` wakes at every decision and serves every burst through the general
pick/issue step (no row-hit runs, no batches, no wake bound): the per-burst path every fast
path must reproduce exactly. Seeded random streams of whole blocks (reads and writes, one to
64 bursts, over two channels, two ranks, several bank groups and a few rows, so row-hit runs,
conflicts, queue-full waits, write drains, refreshes and power-down all occur) are run both
ways under each page policy with power-down on and off; the command log, every
transaction's completion time, the counters and the stalls must be equal. A second test
hands the log on in tiny chunks (``_LOG_CHUNK`` = 5 rows) so chunks are cut in the middle of
batched runs: the chunks the sink gets must join to the same log.
"""

import random

import pytest

import tlmsim.hw.dram as dram_mod
from tests.hw.dram_spy import patch_dram
from tests.hw.dram_stream import run_stream
from tests.hw.test_dram import TIMING
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig

NS = 1000


def _config(policy: str, powerdown: bool, queues: tuple[int, int], tccd_l: int = 6,
            starvation: int = 1000) -> DramConfig:
    rq, cq = queues
    # tCCD_L 6 > burst 4: two banks' row hits alternate without ties; tCCD_L 4 = burst: every RD of
    # a two-bank batch after its first is a tie of the two banks (settled by the tie-break, as
    # LPDDR4's tCCD_L 6 against its 8-cycle BL16 burst). mapping rochrababgco: 32 bursts per row
    # of a bank (columns 256 / burst 8), then the bank group, bank, rank, channel and row fields
    org = dict(channels=2, ranks=2, bankgroups=2, banks_per_group=2, rows=8, columns=256, bus_width_bits=64,
               burst_length=8)
    return DramConfig.model_validate(dict(
        preset="DDR4-3200", org=org, timing={**TIMING, "tREFI": 600, "tCCD_L": tccd_l}, page_policy=policy,
        read_queue_depth=rq, write_queue_depth=8, command_queue_depth=cq, write_low_watermark=2,
        powerdown=powerdown, powerdown_timeout_cycles=25, self_refresh_timeout_cycles=300,
        page_timeout_cycles=15, starvation_cycles=starvation))


def _stream(rng: random.Random, n: int, focus: bool) -> list[tuple[int, bool, int, int]]:
    """``n`` transactions (arrival ps, write?, byte address, bytes): blocks of 1-64 bursts of
    64 B starting anywhere in 8 rows x 2 channels x 2 ranks x 4 banks x 32 bursts (``focus``:
    two rows of two banks of one rank in different bank groups, so they often run together as
    a pair), arriving in clusters."""
    out, at = [], 0
    for _ in range(n):
        at += rng.choice([0, 0, 0, 1, 3, 10, 40, 150])
        nb = rng.choice([1, 1, 4, 8, 16, 32, 64])
        if focus:  # two rows of bank 0 of each bank group of rank 0, channel 0; fewer writes
            ro, ch, ra, ba, bg, co = rng.randrange(2), 0, 0, 0, rng.randrange(2), rng.randrange(32)
        else:
            ro, ch, ra, ba, bg, co = (rng.randrange(8), rng.randrange(2), rng.randrange(2), rng.randrange(2),
                                      rng.randrange(2), rng.randrange(32))
        q = min(((((ro * 2 + ch) * 2 + ra) * 2 + ba) * 2 + bg) * 32 + co, 8 * 2 * 2 * 4 * 32 - nb)
        out.append((at * NS, rng.random() < (0.1 if focus else 0.25), q * 64, nb * 64))
    return out


def _sim(config: DramConfig, items, plain: bool, sink=None):
    """Run ``items`` to the end of their events, not finalized; returns (dram, recorder, env, completions)."""
    ends, dram, rec = run_stream(config, items, plain, sink=sink, finalize=False)
    return dram, rec, dram.env, ends


def _both(config: DramConfig, items, sink=None):
    """The fast and the plain run of ``items``, each as (completions, command log, counters,
    stalls, background cycles). Both are finalized at the same end: the plain scheduler wakes
    until its write buffer is drained, the fast one leaves posted writes to ``finalize``, so
    their last SimPy events differ; what the model did up to a given end must not."""
    runs = [_sim(config, items, plain=False, sink=sink), _sim(config, items, plain=True)]
    end = max(env.now for _, _, env, _ in runs)
    out = []
    for dram, rec, _, ends in runs:
        dram.finalize(end)
        # the log is sorted by cycle, commands of one cycle in the order they were logged: two
        # channels' commands of one cycle come in the order the channels were advanced, which the
        # fast and the plain scheduler choose differently (each channel's own order is the same)
        log = sorted(dram.command_records().tolist(), key=lambda r: (r[0], r[1]))
        out.append((ends, log, sorted(dram.stats.c.items()),
                    sorted(rec.stalls.entries.items()), dram.background_cycles()))
    return out


CASES = [(policy, powerdown, queues) for policy in ("open", "closed", "adaptive") for powerdown in (False, True)
         for queues in ((32, 8), (4, 2))]


@pytest.mark.parametrize("policy, powerdown, queues", CASES)
def test_fast_paths_equal_the_plain_scheduler_on_random_block_streams(policy, powerdown, queues, monkeypatch):
    batched = {"solo": 0, "pair": 0}
    spies = {}
    for name, key in (("_solo_batch", "solo"), ("_pair_batch", "pair")):
        def spy(self, *a, _orig=getattr(Dram, name), _key=key):
            out = _orig(self, *a)
            batched[_key] += out[0]
            return out
        spies[name] = spy
    patch_dram(monkeypatch, **spies)
    cfg = _config(policy, powerdown, queues)
    rng = random.Random(f"{policy}-{powerdown}-{queues}")
    for i in range(4):
        items = _stream(rng, 30, focus=i % 2 == 1)
        fast, plain = _both(cfg, items)
        assert fast == plain
        assert any(r[3] == dram_mod._RD for r in fast[1])  # not vacuous: reads were served
    if policy == "open":  # row-hit runs (open page only) were served in batches of one and of two banks
        assert batched["solo"] > 50 and batched["pair"] > 10, batched


@pytest.mark.parametrize("starvation", [1000, 12, 3])
@pytest.mark.parametrize("queues", [(32, 8), (4, 2)])
def test_two_bank_batches_settle_ties_as_the_plain_scheduler(queues, starvation, monkeypatch):
    # tCCD_L = burst: two banks of one rank in different bank groups tie at every RD after a
    # batch's first; the batch settles each tie by the tie-break (aged first, the older of two,
    # else round robin). A starvation limit of 12 or 3 cycles makes heads age inside batches
    batched = {"RDs": 0, "calls": 0}

    def spy(self, *a, _orig=Dram._pair_batch):
        out = _orig(self, *a)
        batched["RDs"] += out[0]
        batched["calls"] += 1
        return out

    patch_dram(monkeypatch, _pair_batch=spy)
    cfg = _config("open", False, queues, tccd_l=4, starvation=starvation)
    rng = random.Random(f"ties-{queues}-{starvation}")
    for _ in range(4):
        items = _stream(rng, 40, focus=True)
        fast, plain = _both(cfg, items)
        assert fast == plain
    # not vacuous: the batches served RDs after ties (a batch that stops at a tie, as before
    # session 19, serves none of these streams' RDs: measured 0 in each case)
    assert batched["RDs"] >= 10, batched


def test_log_chunks_cut_inside_batched_runs_join_to_the_same_log(monkeypatch):
    cfg = _config("open", True, (32, 8))
    items = _stream(random.Random(7), 40, focus=False)
    whole, _ = _both(cfg, items)
    monkeypatch.setattr(dram_mod, "_LOG_CHUNK", 5)
    monkeypatch.setattr(dram_mod, "_HAND_ROWS", 5)
    chunks: list = []
    small, plain = _both(cfg, items, sink=chunks.append)
    assert small == whole == plain
    assert len(chunks) > 10
    joined = [row for c in chunks for row in c.tolist()]
    assert sorted(joined, key=lambda r: (r[0], r[1])) == whole[1]
