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

from tests.hw.dram_stream import run_stream
from tests.hw.test_dram import Rig, addr
from tests.hw.test_dram_by_hand import NS, TIMING, cfg, counts, log
from tlmsim.engine.transaction import Cmd
from tlmsim.platform.dram import DramConfig
from tlmsim.verify.dram_timing import check_dram_records

# -- the fast scheduler against the plain one, on fixed streams ------------------------------------

def _run(config: DramConfig, stream, plain: bool):
    """Run ``stream`` ((arrival ps, write, address, bytes), ...): (completion per transaction,
    command rows per channel in log order, counters, stalls, read latencies) and the model. (The
    log interleaves two channels' commands of one cycle in the order the channels were advanced,
    which depends on the wakes: per channel the order is the schedule's. Likewise the read
    latencies are listed in the order the model completes the reads, which across two channels
    depends on when each is advanced: compared as a multiset; each read's own completion time
    is compared in the first item.)"""
    ends, dram, rec = run_stream(config, stream, plain)
    return (ends, sorted(dram.command_records().tolist(), key=lambda row: row[1]), sorted(dram.stats.c.items()),
            sorted(rec.stalls.entries.items()), sorted(dram.read_latency_ps)), dram


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
        out.append(dict(i=i, channels=2 if i % 7 == 3 else 1, ranks=2 if i % 5 == 4 else 1, rq=rq, cq=cq,
                        tccd_l=[7, 12, 9, 5, 11, 6, 8][i % 7], banks=[1, 2, 2, 3][i % 4], starve=[1000, 30, 60][i % 3],
                        hbm=i % 6 == 5,
                        span=[60, 150, 400][i % 3], wp=[0.0, 0.1][i % 2], maxb=[8, 24, 40][(i // 2) % 3], n=16))
    return out


@pytest.mark.parametrize("case", _cases(40), ids=lambda c: f"s{c['i']}")
def test_the_fast_scheduler_issues_what_the_plain_one_does(case):
    config, stream = _config(case), _stream(case)
    fast, dram = _run(config, stream, plain=False)
    plain, _ = _run(config, stream, plain=True)
    assert fast == plain
    assert check_dram_records(dram.command_records(), dram.spec, end_cycle=dram.end_cycle) == []


# -- hand-computed runs ----------------------------------------------------------------------------

def rds(r) -> list[tuple[int, int, int]]:
    """(cycle, bank group, column) of every RD."""
    return [(c, g, col) for c, m, _ra, g, _b, _row, col in log(r) if m == "RD"]


def lone(first: int, n: int, step: int = 7, bg: int = 0, col0: int = 0) -> list[tuple[int, int, int]]:
    """n row hits of one bank every ``step`` cycles from ``first``, columns col0, col0 + 1, ..."""
    return [(first + step * i, bg, col0 + i) for i in range(n)]


def test_a_lone_bank_serves_its_row_every_tccd_l():
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0), nbytes=8 * 64)
    r.run()
    # ACT 0, RD at tRCD 4, then every max(tCCD_L 7, burst 4) = 7: 4, 11, ..., 53; data ends 53 + 11 = 64
    assert [x[:2] for x in log(r)] == [(0, "ACT")] + [(4 + 7 * i, "RD") for i in range(8)]
    assert rds(r) == lone(4, 8)
    assert r.done == {"a": 64 * NS}
    assert counts(r) == {"reads": 1, "read_bytes": 512, "busy_ps": 8 * 4 * NS, "act": 1, "rd": 8, "bursts": 8,
                         "row_hits": 7, "row_misses": 1}


def test_reads_queued_in_one_row_complete_one_after_another():
    # four 2-burst reads of row 0 of bank A at 0 (columns 0-1, 2-3, 4-5, 6-7): RDs as one 8-burst
    # read (4 + 7 i); read j's last RD is 11 + 14 j, its data ends 22 + 14 j: 22, 36, 50, 64
    r = Rig(cfg(powerdown=False))
    for j in range(4):
        r.req(f"t{j}", addr(0, col=2 * j), nbytes=128)
    r.run()
    assert rds(r) == lone(4, 8)
    assert r.done == {"t0": 22 * NS, "t1": 36 * NS, "t2": 50 * NS, "t3": 64 * NS}
    assert list(r.dram.read_latency_ps) == [22 * NS, 36 * NS, 50 * NS, 64 * NS]
    assert counts(r) == {"reads": 4, "read_bytes": 512, "busy_ps": 8 * 4 * NS, "act": 1, "rd": 8, "bursts": 8,
                         "row_hits": 7, "row_misses": 1}


def test_a_lone_bank_with_full_queues_takes_one_offer_per_read():
    # read queue 2, command queue 2: at 0 bursts 0-1 enter the command queue, 2-3 the read queue,
    # 4-7 wait at the offering side. Each RD serves the head, the read queue's oldest moves in and
    # one offer is accepted: burst 4 at the RD at 4, 5 at 11, 6 at 18, 7 at 25. The read waited
    # (queue_full) from its offer (0) to its last burst's acceptance (25): 25 ns. RDs as ever
    r = Rig(cfg(powerdown=False, read_queue_depth=2, command_queue_depth=2))
    r.req("a", addr(0), nbytes=8 * 64)
    r.run()
    assert rds(r) == lone(4, 8)
    assert r.done == {"a": 64 * NS}
    assert r.stall("queue_full") == 25 * NS


def test_two_banks_of_one_rank_alternate_every_tccd_s():
    # a 16-burst read: bursts 0-7 in bank A (bank group 0), 8-15 in bank B (bank group 1), one row.
    # Both ACTs ready at 0; round robin scans from the bank after local bank 0: B (local 4) first,
    # ACT B 0, ACT A at tRRD_S 2. RD B at tRCD 4, RD A at max(2 + 4, 4 + tCCD_S 5, bus 4 + 4) = 9.
    # Then a bank's next RD is max(previous RD + max(tCCD_S, burst) = 5, its own last + tCCD_L 7):
    # B at max(14, 11) = 14, A at 19, ...: B at 4 + 10 i, A at 9 + 10 i; data ends 79 + 11 = 90
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0), nbytes=16 * 64)
    r.run()
    assert [x[:4] for x in log(r)][:2] == [(0, "ACT", 0, 1), (2, "ACT", 0, 0)]
    want = sorted(lone(4, 8, 10, bg=1) + lone(9, 8, 10, bg=0))
    assert rds(r) == want
    assert r.done == {"a": 90 * NS}
    assert counts(r) == {"reads": 1, "read_bytes": 1024, "busy_ps": 16 * 4 * NS, "act": 2, "rd": 16, "bursts": 16,
                         "row_hits": 14, "row_misses": 2}


def test_two_banks_with_a_long_tccd_l_each_read_every_tccd_l():
    # tCCD_L 12 > 2 x 5: B at 4, A at 9 as above; then B at max(9 + 5, 4 + 12) = 16, A at max(16 + 5,
    # 9 + 12) = 21, ...: each bank every 12, A 5 cycles after B; data ends 9 + 7 x 12 + 11 = 104
    r = Rig(cfg(powerdown=False, timing={"tCCD_L": 12}))
    r.req("a", addr(0), nbytes=16 * 64)
    r.run()
    assert rds(r) == sorted(lone(4, 8, 12, bg=1) + lone(9, 8, 12, bg=0))
    assert r.done == {"a": 104 * NS}


def test_a_pair_becomes_a_lone_bank_when_one_bank_runs_dry():
    # a: 8 bursts in bank A; b: 2 bursts in bank B. B 4, A 9, B 14 (b's last: done 25), A 19; then A
    # alone, every tCCD_L 7: 26, 33, ..., 61; a done 61 + 11 = 72
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0), nbytes=8 * 64)
    r.req("b", addr(0, bg=1), nbytes=2 * 64)
    r.run()
    assert rds(r) == [(4, 1, 0), (9, 0, 0), (14, 1, 1), (19, 0, 1)] + lone(26, 6, col0=2)
    assert r.done == {"b": 25 * NS, "a": 72 * NS}


def test_a_read_arriving_during_a_pair_run_queues_behind_its_banks_older_reads():
    # the 16-burst pair run of above (A's last RD at 79); at 30 a 2-burst read of row 0 columns 0-1
    # of bank A arrives: a row hit, but bank A serves its row oldest first, so it follows A's
    # bursts: at 79 + 7 = 86 and 93; done 93 + 11 = 104, latency 104 - 30 = 74
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0), nbytes=16 * 64)
    r.req("b", addr(0), at_ps=30 * NS, nbytes=2 * 64)
    r.run()
    assert rds(r) == sorted(lone(4, 8, 10, bg=1) + lone(9, 8, 10, bg=0)) + [(86, 0, 0), (93, 0, 1)]
    assert r.done == {"a": 90 * NS, "b": 104 * NS}
    assert list(r.dram.read_latency_ps) == [90 * NS, 74 * NS]


def test_a_refresh_of_one_rank_stops_its_reads_while_the_other_ranks_run_goes_on():
    # two ranks, tREFI 200: rank 0 due at 100, rank 1 at 200. At 80: a (8 bursts, rank 0 bank A) and
    # b (8 bursts, rank 1 bank group 1 bank 0). Round robin from the bank after local 0 reaches rank
    # 1's bank (local 12) before rank 0's (local 0, wrapping): ACT r1 80, ACT r0 81. RD r1 at 80 +
    # tRCD 4 = 84 (data 91-95); RD r0 at 90: its data must start >= 95 + tRTRS 2 = 97; RD r1 at 96
    # (data >= 101 + 2). Rank 0's refresh is due at 100: PRE at max(100, 81 + tRAS 11, 90 + tRTP 5)
    # = 100, REF at 100 + tRP 6 = 106, the rank blocked to 106 + tRFC 50 = 156; rank 1's row hits
    # go on alone every tCCD_L 7: 103, ..., 138 (b done 149). Rank 0: ACT 156, RD 160 + 7 i up to
    # 202 (a done 213); rank 1's refresh: PRE at max(200, 138 + 5) = 200, REF 206
    r = Rig(cfg(powerdown=False, org={"ranks": 2}, timing={"tREFI": 200}))
    r.req("a", addr(0, rank=0, ranks=2), at_ps=80 * NS, nbytes=8 * 64)
    r.req("b", addr(0, bg=1, rank=1, ranks=2), at_ps=80 * NS, nbytes=8 * 64)
    r.run()
    assert [(c, m, ra) for c, m, ra, *_ in log(r)] == [
        (80, "ACT", 1), (81, "ACT", 0), (84, "RD", 1), (90, "RD", 0), (96, "RD", 1), (100, "PRE", 0), (103, "RD", 1),
        (106, "REF", 0)] + [(110 + 7 * i, "RD", 1) for i in range(5)] + [(156, "ACT", 0)] + [
        (160 + 7 * i, "RD", 0) for i in range(6)] + [(200, "PRE", 1), (202, "RD", 0), (206, "REF", 1)]
    assert r.done == {"b": 149 * NS, "a": 213 * NS}


def test_a_rank_due_for_refresh_serves_no_more_row_hits_during_the_other_ranks_run():
    # as above, b (rank 1) at 70 and a (rank 0) at 90: ACT r1 70, RD r1 74, 81, 88 (every tCCD_L 7).
    # ACT r0 90, RD r0 at 90 + tRCD 4 = 94 (its data at 101 = r1's data end 99 + tRTRS 2). RD r1 at
    # 100 (own 88 + 7 = 95; data after r0's: 105 + 2 = 107). Rank 0 is due at 100: its bank still
    # open with 7 row hits queued, it serves none of them: PRE at max(100, 90 + tRAS 11, 94 + tRTP 5)
    # = 101, REF at 101 + tRP 6 = 107; rank 1 goes on: 108 (the REF took 107), 115, 122, 129 (b done
    # 140). Rank 0 from 107 + tRFC 50: ACT 157, RD 161 + 7 i to 203 (a done 214); rank 1's refresh:
    # PRE 200, REF 206
    r = Rig(cfg(powerdown=False, org={"ranks": 2}, timing={"tREFI": 200}))
    r.req("a", addr(0, rank=0, ranks=2), at_ps=90 * NS, nbytes=8 * 64)
    r.req("b", addr(0, bg=1, rank=1, ranks=2), at_ps=70 * NS, nbytes=8 * 64)
    r.run()
    assert [(c, m, ra) for c, m, ra, *_ in log(r)] == [
        (70, "ACT", 1), (74, "RD", 1), (81, "RD", 1), (88, "RD", 1), (90, "ACT", 0), (94, "RD", 0), (100, "RD", 1),
        (101, "PRE", 0), (107, "REF", 0)] + [(108 + 7 * i, "RD", 1) for i in range(4)] + [(157, "ACT", 0)] + [
        (161 + 7 * i, "RD", 0) for i in range(6)] + [(200, "PRE", 1), (203, "RD", 0), (206, "REF", 1)]
    assert r.done == {"b": 140 * NS, "a": 214 * NS}


def test_two_banks_alternate_at_one_cycle_with_one_cycle_bursts():
    # BL2 on 64 bits: 16-byte bursts of 1 cycle, 32 per row (the column field 5 bits: burst 32 is
    # bank group 1); tCCD_S 1, tCCD_L 3. a: 16 bursts of bank A (bank group 0), b: 16 of bank B
    # (bank group 1), at 0. ACT B 0, ACT A 2 (tRRD_S), RD B at tRCD 4, RD A at 2 + 4 = 6. Then a
    # bank's next RD is max(previous RD + max(tCCD_S, burst, 1) = 1, its own last + tCCD_L 3): B at
    # max(7, 7) = 7, A at max(8, 9) = 9, ...: B at 4 + 3 i, A at 6 + 3 i; a read's data ends RD + 7
    # + 1: b at 49 + 8 = 57, a at 51 + 8 = 59
    r = Rig(cfg(powerdown=False, org={"burst_length": 2}, timing={"tCCD_S": 1, "tCCD_L": 3}))
    assert (r.dram.spec.request_bytes, r.dram.spec.burst_cycles) == (16, 1)
    r.req("a", 0, nbytes=16 * 16)
    r.req("b", 32 * 16, nbytes=16 * 16)
    r.run()
    assert rds(r) == sorted(lone(4, 16, 3, bg=1) + lone(6, 16, 3, bg=0))
    assert r.done == {"b": 57 * NS, "a": 59 * NS}


@pytest.mark.parametrize("wbg", [1, 0])
def test_a_pair_run_waits_for_write_to_read_in_the_written_bank_group(wbg):
    # tWTR_L 11 (so that it binds past the alternation). At 0 one-burst reads open row 0 of banks A
    # (bank group 0) and B (bank group 1) (RD B 4, RD A 9). At 30 a write of bank group wbg (posted,
    # drained at once: write low watermark 0): WR 30, its data ends 30 + CWL 5 + 4 = 39. At 31 a
    # 4-burst read of each bank (row hits). The other bank group's bank X reads first, at 39 +
    # tWTR_S 3 = 42; the written group's bank Y no earlier than 39 + tWTR_L 11 = 50. Then the pair:
    # X at max(42 + 5, 42 + tCCD_L 7) = 49 before Y at max(47, 50) = 50; Y at max(49 + 5, 50) = 54;
    # X at max(59, 56) = 59, Y 64, X 69 (X's last: done 80), Y 74, then alone 74 + 7 = 81 (done 92)
    r = Rig(cfg(powerdown=False, timing={"tWTR_L": 11}))
    r.req("a0", addr(0), nbytes=64)
    r.req("b0", addr(0, bg=1), nbytes=64)
    r.req("w", addr(0, bg=wbg, col=7), at_ps=30 * NS, cmd=Cmd.WRITE)
    r.req("a", addr(0, col=1), at_ps=31 * NS, nbytes=4 * 64)
    r.req("b", addr(0, bg=1, col=1), at_ps=31 * NS, nbytes=4 * 64)
    r.run()
    x, y = 1 - wbg, wbg
    assert rds(r) == [(4, 1, 0), (9, 0, 0), (42, x, 1), (49, x, 2), (54, y, 1), (59, x, 3), (64, y, 2), (69, x, 4),
                      (74, y, 3), (81, y, 4)]
    assert [c for c, m, *_ in log(r) if m == "WR"] == [30]
    ends = {"a": 80 * NS, "b": 92 * NS} if wbg == 1 else {"b": 80 * NS, "a": 92 * NS}
    assert r.done == {"b0": 15 * NS, "a0": 20 * NS, "w": 31 * NS, **ends}


def test_a_pair_run_stops_before_an_rd_at_the_refresh_due_cycle():
    # the 16-burst pair run (B at 4 + 10 i, A at 9 + 10 i) with the refresh due exactly at an RD's
    # cycle: that RD is not issued (from its due time the rank takes no new commands).
    # tREFI 74: B's 8th RD would be at 74. PRE A at max(74, 69 + tRTP 5, 2 + tRAS 11) = 74, PRE B at
    # 75 (one command a cycle), REF at 75 + tRP 6 = 81, the rank blocked to 81 + tRFC 50 = 131.
    # Round robin from the bank after the last request command (RD A, local 0): ACT B 131, ACT A 133
    # (tRRD_S), RD B 135 (tRCD), RD A max(137, 135 + tCCD_S 5) = 140; done 140 + 11 = 151. The next
    # refresh, due 148: PRE A 148, PRE B 149 (its REF would be past the end)
    r = Rig(cfg(powerdown=False, timing={"tREFI": 74}))
    r.req("a", addr(0), nbytes=16 * 64)
    r.run()
    assert rds(r) == sorted(lone(4, 7, 10, bg=1) + lone(9, 7, 10, bg=0)) + [(135, 1, 7), (140, 0, 7)]
    assert [(c, m, g) for c, m, _ra, g, *_ in log(r) if m != "RD"] == [
        (0, "ACT", 1), (2, "ACT", 0), (74, "PRE", 0), (75, "PRE", 1), (81, "REF", -1), (131, "ACT", 1),
        (133, "ACT", 0), (148, "PRE", 0), (149, "PRE", 1)]
    assert r.done == {"a": 151 * NS}
    # tREFI 69: A's 7th RD would be at 69. PRE A 69, PRE B at max(70, 64 + 5) = 70, REF 76, blocked to
    # 126; round robin from the bank after RD B (local 4): ACT A 126, ACT B 128, RD A 130, RD B 135;
    # the refresh due 138: PRE A 138, PRE B at max(139, 135 + 5) = 140, REF 146, blocked to 196: ACT A
    # 196, RD A 200 (done 211); the refresh due 207: PRE A at max(207, 196 + 11) = 207
    r = Rig(cfg(powerdown=False, timing={"tREFI": 69}))
    r.req("a", addr(0), nbytes=16 * 64)
    r.run()
    assert rds(r) == sorted(lone(4, 7, 10, bg=1) + lone(9, 6, 10, bg=0)) + [(130, 0, 6), (135, 1, 7), (200, 0, 7)]
    assert [(c, m, g) for c, m, _ra, g, *_ in log(r) if m != "RD"] == [
        (0, "ACT", 1), (2, "ACT", 0), (69, "PRE", 0), (70, "PRE", 1), (76, "REF", -1), (126, "ACT", 0),
        (128, "ACT", 1), (138, "PRE", 0), (140, "PRE", 1), (146, "REF", -1), (196, "ACT", 0), (207, "PRE", 0)]
    assert r.done == {"a": 211 * NS}
