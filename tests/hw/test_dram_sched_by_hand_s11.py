"""The DRAM request queue and scheduler by hand (session 11): the channel's wake bound term by term.

The fast scheduler (one channel, ``plain=False``) issues commands lazily: after an arrival or a
wake, the channel sleeps to (its next decision) + (the least, over the reads not yet complete, of
a lower bound of the cycles to the read's last RD) + RL + burst - 1 = 7 + 4 - 1 = 10 (the last
cycle at which a wake still issues that RD before its data end, ``Dram._schedule``). A read's bound
is the largest of: (bursts left - 1) x its RD spacing (max(tCCD_L, burst) in one bank group,
max(tCCD_S, burst) = 5 in several bank groups of one rank); per (bank, row) it has bursts in, (the
bursts left there, its own and those of older reads, - 1) x max(tCCD_L, burst) = 7; per bank group
(its bursts left there - 1) x 7. A bound that is too high completes a read late (the other test
files catch that); one that is too low only wakes the channel early, so these tests pin the wakes
themselves: the cycles at which the channel's SimPy wakes come, superseded ones included (a wake
superseded by an earlier one still fires and returns at once), spied on ``Dram._on_wake`` as
tests/hw/test_dram_wake.py does.

The configuration is tests/hw/test_dram_by_hand.py's ``cfg()`` (timings all distinct: tCK 1 ns,
CL 7, CWL 5, tRCD 4, tRP 6, tRAS 11, tRRD_S 2, tRRD_L 3, tCCD_S 5, tCCD_L 7, tFAW 16, tWR 9, tWTR_S 3,
tWTR_L 8, tRTP 5, tRTRS 2; burst 4 cycles, so a read's data ends RD + 11; 1 channel, 1 rank, 2 bank
groups x 4 banks, mapping rochrababgco, 64-byte bursts, 8 a row: bursts 0-7 of ``addr(0)`` are bank
group 0 bank 0 ("A"), 8-15 bank group 1 bank 0 ("B"), 16-23 bank group 0 bank 1 ("C")), power-down
off unless said.
"""

import pytest

from tests.hw.dram_spy import patch_dram
from tests.hw.test_dram import Rig, addr
from tests.hw.test_dram_by_hand import NS, cfg, log
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.errors import SimulationError
from tlmsim.hw.dram import Dram


@pytest.fixture
def wakes(monkeypatch) -> list[int]:
    """The cycles of the channels' wakes, in the order they fire (superseded ones included)."""
    seen: list[int] = []
    on_wake = Dram._on_wake
    patch_dram(monkeypatch, _on_wake=lambda self, ch, at: (seen.append(at), on_wake(self, ch, at)))
    return seen


def rds(r: Rig) -> list[tuple[int, int, int, int]]:
    """(cycle, bank group, bank, column) of every RD."""
    return [(c, g, b, col) for c, m, _ra, g, b, _row, col in log(r) if m == "RD"]


# -- one read ----------------------------------------------------------------------------------------

def test_a_read_in_one_row_wakes_once_at_its_bound(wakes):
    # a: 3 bursts of A at 0. Next decision: ACT 0; bound (3 - 1) x 7 = 14; wake at 0 + 14 + 10 = 24.
    # ACT 0, RDs 4, 11, 18 (tCCD_L 7): the wake at 24 issues them all, a ends 18 + 11 = 29
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0), nbytes=3 * 64)
    r.run()
    assert rds(r) == [(4, 0, 0, 0), (11, 0, 0, 1), (18, 0, 0, 2)]
    assert r.done == {"a": 29 * NS}
    assert wakes == [24]


def test_a_read_over_two_bank_groups_is_bounded_by_its_bursts_at_tccd_s(wakes):
    # a: 16 bursts, A's 8 and B's 8, at 0: one rank, two bank groups, so its RDs are >= max(tCCD_S 5,
    # burst 4) = 5 apart: bound (16 - 1) x 5 = 75, above each row's and bank group's (8 - 1) x 7 = 49;
    # wake at 0 + 75 + 10 = 85. ACT B 0 (round robin from bank 1), ACT A 2 (tRRD_S), RD B 4, RD A 9,
    # then alternating every 5 (tCCD_L 7 <= 10): the last RD at 4 + 15 x 5 = 79, a ends 90
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0), nbytes=16 * 64)
    r.run()
    assert rds(r) == [(4 + 5 * i, 1 - i % 2, 0, i // 2) for i in range(16)]
    assert r.done == {"a": 90 * NS}
    assert wakes == [85]


def test_a_read_over_three_banks_is_bounded_by_its_largest_bank_group(wakes):
    # tCCD_L 12, rows of 2 bursts (16 columns): x (5 bursts from byte 64) is bank group 0 bank 0
    # column 1, bank group 1 bank 0 columns 0 and 1, bank group 0 bank 1 columns 0 and 1. Bounds: its
    # bursts (5 - 1) x 5 = 20; per (bank, row) at most (2 - 1) x 12 = 12; bank group 0 has 3 bursts
    # (in two banks): (3 - 1) x 12 = 24, the largest: wake at 0 + 24 + 10 = 34. RDs (as in
    # test_dram_sched_by_hand.py) 5, 10, 17, 22, 29: the wake at 34 issues the last, x ends 40. (Without
    # the bank-group term the channel would wake at 30, also in time, but at another cycle.)
    r = Rig(cfg(powerdown=False, timing={"tCCD_L": 12}, org={"columns": 16}))
    r.req("x", 64, nbytes=5 * 64)
    r.run()
    assert rds(r) == [(5, 0, 1, 0), (10, 1, 0, 0), (17, 0, 0, 1), (22, 1, 0, 1), (29, 0, 1, 1)]
    assert r.done == {"x": 40 * NS}
    assert wakes == [34]


# -- older reads in the same row ---------------------------------------------------------------------

def test_a_younger_read_counts_an_older_reads_bursts_in_its_row(wakes):
    # a (9 bursts: A column 7, then B's 8) and b (A columns 4-6) at 0. a's bound: (9 - 1) x 5 = 40;
    # B's row (8 - 1) x 7 = 49, the largest; wake at 0 + 49 + 10 = 59. b's: (3 - 1) x 7 = 14, but a's
    # burst in A's row is ahead of b's (a bank serves a row oldest first): (1 + 3 - 1) x 7 = 21; the
    # least of the two is 21, wake at 0 + 21 + 10 = 31 (the one at 59 is superseded).
    # ACT B 0, ACT A 2, RD B 4, RD A 9 (a's column 7), then alternating every 5: B 14, A 19 (b's column
    # 4), B 24, A 29 (column 5), B 34, A 39 (column 6), B 44; then B alone every tCCD_L 7: 51, 58, 65.
    # Wake 31 issues up to RD 29; next decision 34: a has 5 bursts left, all in B: 4 x 5 = 20, B's row
    # 4 x 7 = 28; b 1 left: 0 (a has none left in A's row): wake 34 + 0 + 10 = 44, which issues RD 39,
    # b ends 50. Next decision 51: a's 3 left in B: 2 x 7 = 14, wake 51 + 14 + 10 = 75, a ends 76
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0, col=7), nbytes=9 * 64)
    r.req("b", addr(0, col=4), nbytes=3 * 64)
    r.run()
    assert rds(r) == [(4, 1, 0, 0), (9, 0, 0, 7), (14, 1, 0, 1), (19, 0, 0, 4), (24, 1, 0, 2), (29, 0, 0, 5),
                      (34, 1, 0, 3), (39, 0, 0, 6), (44, 1, 0, 4), (51, 1, 0, 5), (58, 1, 0, 6), (65, 1, 0, 7)]
    assert r.done == {"b": 50 * NS, "a": 76 * NS}
    assert wakes == [31, 44, 59, 75]


def test_a_younger_read_over_two_rows_counts_an_older_reads_bursts_in_them(wakes):
    # a (16 bursts: A's 8, B's 8) and b (2 bursts: B column 7, C column 0) at 0. a's bound: (16 - 1) x 5
    # = 75, wake 85. b's: its bursts (2 - 1) x 5 = 5; its bank groups 1 burst each: 0; C's row: 0;
    # B's row has a's 8 bursts ahead of b's: (8 + 1 - 1) x 7 = 56, the largest and the least of the
    # two reads': wake at 0 + 56 + 10 = 66.
    # ACT C 0 (round robin from bank 1), ACT B 2 (tRRD_S), ACT A 4 (max(C 0 + tRRD_L 3, B 2 + tRRD_S
    # 2)), RD C 5 (b's column 0; cycle 4 had the ACT), RD B max(2 + tRCD 4, 5 + tCCD_S 5) = 10, then B
    # and A alternate every 5: B column i at 10 + 10 i, A column i at 15 + 10 i; b's B column 7 after
    # a's (a is older), at max(80 + tCCD_L 7, 85 + 5) = 90.
    # Wake 66 issues up to RD 65; next decision 70: a has 4 left (A, B 2 each): 3 x 5 = 15; b has 1
    # left, a's 2 ahead in B's row: (2 + 1 - 1) x 7 = 14, the least: wake at 70 + 14 + 10 = 94 (the one
    # at 85 is superseded), which issues RDs 70-90: a ends 85 + 11 = 96, b 90 + 11 = 101
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0), nbytes=16 * 64)
    r.req("b", addr(0, bg=1, col=7), nbytes=2 * 64)
    r.run()
    want = [(5, 0, 1, 0)]
    for i in range(8):
        want += [(10 + 10 * i, 1, 0, i), (15 + 10 * i, 0, 0, i)]
    assert rds(r) == want + [(90, 1, 0, 7)]
    assert r.done == {"a": 96 * NS, "b": 101 * NS}
    assert wakes == [66, 85, 94]


# -- when the channel sleeps to the bound ------------------------------------------------------------

def test_two_reads_with_the_same_bound_set_one_wake(wakes):
    # a (A) and b (C: bank group 0 bank 1) at 0, one burst each: both bounds 0, wake at 0 + 0 + 10 =
    # 10 for a, and for b the same cycle: no second wake. ACT C 0 (round robin from bank 1), ACT A 3
    # (tRRD_L), RD C 4, RD A 11 (tCCD_L 7). Wake 10 issues up to RD 4 (b ends 15); next decision 11,
    # wake at 11 + 10 = 21: a ends 22
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0))
    r.req("b", addr(0, ba=1))
    r.run()
    assert rds(r) == [(4, 0, 1, 0), (11, 0, 0, 0)]
    assert r.done == {"b": 15 * NS, "a": 22 * NS}
    assert wakes == [10, 21]


def test_a_write_in_the_buffer_does_not_wake_the_channel(wakes):
    # a (3 bursts of A) then w (one burst, C) at 0: w enters the write buffer at 0 (done at 1) and
    # stays there while reads are queued (no drain with reads queued, low watermark 0). The buffer
    # holding a write changes nothing for a's bound (only a read waiting behind it at the offering
    # side could be forwarded from it): ACT 0, RDs 4, 11, 18, one wake at 0 + 14 + 10 = 24, a ends 29.
    # The drain starts after the last RD (at 18): ACT C 19, WR 26, issued without a wake
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0), nbytes=3 * 64)
    r.req("w", addr(0, ba=1), cmd=Cmd.WRITE)
    r.run()
    assert r.done == {"w": 1 * NS, "a": 29 * NS}
    assert wakes == [24]
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (11, "RD"), (18, "RD"), (19, "ACT"), (26, "WR")]


# -- how a transaction is cut into bursts (Dram.submit) ----------------------------------------------

def test_a_one_byte_read_and_a_read_one_byte_past_a_burst(wakes):
    # one: 1 byte, the last of A's column 1 (byte 127): one burst. two: 65 bytes from C's column 0:
    # columns 0 and 1 (the 65th byte is in the second burst). ACT C 0 (round robin from bank 1), ACT A
    # 3 (tRRD_L), RD C 4; A's RD and C's second RD are both ready at 11 (A: 3 + tRCD 4 = 7 and C's RD
    # 4 + tCCD_L 7; C: 4 + 7): round robin after C gives A 11, then C 18. one ends 22, two 29.
    # Wakes: both bounds 0 at the offer (one burst; two's 2 bursts in one row (2 - 1) x 7 = 7, not the
    # least): 0 + 10; then next decision 11, both with one burst left: 11 + 10 = 21
    r = Rig(cfg(powerdown=False))
    r.req("one", addr(0, col=1) + 63, nbytes=1)
    r.req("two", addr(0, ba=1), nbytes=65)
    r.run()
    assert rds(r) == [(4, 0, 1, 0), (11, 0, 0, 1), (18, 0, 1, 1)]
    assert r.done == {"one": 22 * NS, "two": 29 * NS}
    assert wakes == [10, 21]


def test_a_request_offered_within_a_cycle_starts_at_the_next_cycle():
    # a at 1.5 ns: its first cycle is 2 (ceil(1500 / 1000)): ACT 2, RD 6, data end 17
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0), at_ps=1500)
    r.run()
    assert [x[:2] for x in log(r)] == [(2, "ACT"), (6, "RD")]
    assert r.done == {"a": 17 * NS}
    assert list(r.dram.read_latency_ps) == [17 * NS - 1500]


def test_a_mapping_with_the_bank_group_below_the_column(wakes):
    # mapping rochrabacobg: consecutive bursts alternate bank groups, column every second burst, so a
    # transaction is decoded burst by burst. a: 4 bursts from 0: A column 0, B column 0, A column 1, B
    # column 1. ACT B 0 (round robin from bank 1 reaches bank 4 first), ACT A 2 (tRRD_S), RD B 4, RD A
    # max(2 + 4, 4 + tCCD_S 5) = 9, RD B max(4 + tCCD_L 7, 9 + 5) = 14, RD A 19: a ends 30. Bound: two
    # bank groups, (4 - 1) x 5 = 15 (each row's and bank group's (2 - 1) x 7 = 7 below): wake 25
    r = Rig(cfg(powerdown=False, address_mapping="rochrabacobg"))
    assert [r.dram.decode(64 * i) for i in range(4)] == [(0, 0, 0, 0, 0, 0), (0, 0, 1, 0, 0, 0), (0, 0, 0, 0, 0, 1),
                                                        (0, 0, 1, 0, 0, 1)]
    r.req("a", 0, nbytes=4 * 64)
    r.run()
    assert rds(r) == [(4, 1, 0, 0), (9, 0, 0, 0), (14, 1, 0, 1), (19, 0, 0, 1)]
    assert r.done == {"a": 30 * NS}
    assert wakes == [25]


def test_a_mapping_with_the_bank_group_below_the_column_counts_each_rows_bursts(wakes):
    # as above with tCCD_L 12 and 8 bursts (A and B columns 0-3): RDs B 4, A 9, then each bank every
    # tCCD_L 12, 5 apart: B 16, A 21, B 28, A 33, B 40, A 45: a ends 56. Bound: its bursts (8 - 1) x 5
    # = 35; each row's 4 bursts, decoded one at a time and summed: (4 - 1) x 12 = 36, the largest:
    # wake 0 + 36 + 10 = 46
    r = Rig(cfg(powerdown=False, address_mapping="rochrabacobg", timing={"tCCD_L": 12}))
    r.req("a", 0, nbytes=8 * 64)
    r.run()
    assert rds(r) == [(4, 1, 0, 0), (9, 0, 0, 0), (16, 1, 0, 1), (21, 0, 0, 1), (28, 1, 0, 2), (33, 0, 0, 2),
                      (40, 1, 0, 3), (45, 0, 0, 3)]
    assert r.done == {"a": 56 * NS}
    assert wakes == [46]


def test_aged_requests_go_oldest_first_by_their_offer_order():
    # starvation 1 cycle, tREFI 120: REF at 120 blocks the rank to 120 + tRFC 50 = 170. At 130, in this
    # order: a (2 bursts, B), b (1 burst, C), c (2 bursts, bank group 0 bank 2 "E"), d (2 bursts, A),
    # all waiting for 170, so every command is aged (ready >= offer + 1) and ties go to the oldest
    # burst (offer order), not round robin (which would start at C, bank 1).
    # ACT B 170 (a); C, E, A ready at 170 + tRRD_S 2 = 172: ACT C 172 (b, older than c and d). E and A
    # at 172 + tRRD_L 3 = 175; a's RD at 170 + tRCD 4 = 174 comes first: RD B 174; ACT E 175 (c, older
    # than d); ACT A 178 (tRRD_L). RD C max(176, 174 + tCCD_S 5, bus 174 + 11 - CL 7) = 179; RD B (a's
    # second) max(174 + tCCD_L 7, 179 + 5) = 184; E's and A's RDs both at max(179 + 7, 184 + 5) = 189:
    # E's (c, older) 189, then E's second and A's first both at 189 + 7 = 196: E's (c's burst, older)
    # 196; A's 203, 210. Ends: b 190, a 195, c 207, d 221
    r = Rig(cfg(powerdown=False, starvation_cycles=1, timing={"tREFI": 120}))
    r.req("a", addr(0, bg=1), nbytes=128, at_ps=130 * NS)
    r.req("b", addr(0, ba=1), at_ps=130 * NS)
    r.req("c", addr(0, ba=2), nbytes=128, at_ps=130 * NS)
    r.req("d", addr(0), nbytes=128, at_ps=130 * NS)
    r.run()
    assert [(x[0], x[1], x[3], x[4]) for x in log(r)] == [
        (120, "REF", -1, -1), (170, "ACT", 1, 0), (172, "ACT", 0, 1), (174, "RD", 1, 0), (175, "ACT", 0, 2),
        (178, "ACT", 0, 0), (179, "RD", 0, 1), (184, "RD", 1, 0), (189, "RD", 0, 2), (196, "RD", 0, 2),
        (203, "RD", 0, 0), (210, "RD", 0, 0)]
    assert r.done == {"b": 190 * NS, "a": 195 * NS, "c": 207 * NS, "d": 221 * NS}


def test_an_aged_row_hit_and_a_younger_request_of_another_bank_tie_by_age():
    # starvation 1, tREFI 120: REF 120 blocks the rank to 170. At 130: a (2 bursts, bank group 1 bank 1
    # "D"), then b (1 burst, B: bank group 1 bank 0). ACT D 170 (a, older), ACT B 170 + tRRD_L 3 = 173,
    # RD D 174 (tRCD); a's second RD (D, tCCD_L) and b's RD (B: 173 + 4 = 177, bank group 1 again:
    # 174 + tCCD_L 7) both ready at 181: a's burst is older (offered first), RD D 181, RD B 188.
    # Ends: a 192, b 199
    r = Rig(cfg(powerdown=False, starvation_cycles=1, timing={"tREFI": 120}))
    r.req("a", addr(0, bg=1, ba=1), nbytes=128, at_ps=130 * NS)
    r.req("b", addr(0, bg=1), at_ps=130 * NS)
    r.run()
    assert [(x[0], x[1], x[3], x[4], x[6]) for x in log(r)] == [
        (120, "REF", -1, -1, -1), (170, "ACT", 1, 1, -1), (173, "ACT", 1, 0, -1), (174, "RD", 1, 1, 0),
        (181, "RD", 1, 1, 1), (188, "RD", 1, 0, 0)]
    assert r.done == {"a": 192 * NS, "b": 199 * NS}


def test_writes_of_two_transactions_waiting_to_be_offered_keep_the_channel_awake(wakes):
    # one-entry read and command queues. r (4 bursts of A) at 0: burst 0 to A's queue, burst 1 to the
    # read queue, 2 and 3 wait at the offering side, and behind them w1 (C, 1 burst) and w2 (E, 2
    # bursts): 3 writes waiting, so the channel wakes at every decision (a write is done when
    # accepted, which no read bound foresees): 0 (ACT), 4 (RD), 11 (RD: burst 2 moves to A's queue,
    # burst 3 to the read queue, then the three writes into the buffer, done at 12). Now no write
    # waits: r's bound, 2 bursts in one row (2 - 1) x 7 = 7 after its next decision (RD 18): wake 35.
    # (r alone at first had its bound (4 - 1) x 7 = 21: a wake at 31, superseded when w1 came.)
    # RDs 4, 11, 18, 25: r ends 36. The drain starts after the last RD (reads first): ACT C 26, ACT E
    # 29 (tRRD_L), WR C max(30, r's data end 36 + tRTRS 2 - CWL 5) = 33, WR E 40 and 47 (tCCD_L)
    r = Rig(cfg(powerdown=False, read_queue_depth=1, command_queue_depth=1))
    r.req("r", addr(0), nbytes=256)
    r.req("w1", addr(0, ba=1), cmd=Cmd.WRITE)
    r.req("w2", addr(0, ba=2), cmd=Cmd.WRITE, nbytes=128)
    r.run()
    assert r.done == {"w1": 12 * NS, "w2": 12 * NS, "r": 36 * NS}
    assert wakes == [0, 4, 11, 31, 35]
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (11, "RD"), (18, "RD"), (25, "RD"), (26, "ACT"),
                                       (29, "ACT"), (33, "WR"), (40, "WR"), (47, "WR")]


def test_a_compute_transaction_is_refused():
    r = Rig(cfg())
    txn = r.rec.new_transaction(Cmd.COMPUTE, DataClass.NONE, 0, 64, "t", "dram", now_ps=0)
    with pytest.raises(SimulationError, match="^dram: cannot serve a compute transaction$"):
        r.dram.submit(txn)


# -- what the channel decides before an arrival (Dram._advance) --------------------------------------

def test_a_request_arriving_at_a_pending_commands_cycle_competes_for_it(wakes):
    # a (A) at 0: ACT A 0, its RD ready at 0 + tRCD 4 = 4. b (C) arrives at 4, its ACT ready at max(4,
    # 0 + tRRD_L 3) = 4: the RD at 4 is not decided before b is queued, so the two compete at 4: round
    # robin after A (bank 0, served last) reaches C first: ACT C 4, RD A 5 (one command a cycle), RD C
    # max(4 + 4, 5 + tCCD_L 7) = 12. a ends 16, b 23. Wakes: a's bound 0, 0 + 10; b's offer at 4
    # (next decision 4, bound 0: 14) keeps it; at 10 the channel issues ACT C and RD A, next decision
    # 12: wake 22
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0))
    r.req("b", addr(0, ba=1), at_ps=4 * NS)
    r.run()
    assert [(x[0], x[1], x[4]) for x in log(r)] == [(0, "ACT", 0), (4, "ACT", 1), (5, "RD", 0), (12, "RD", 1)]
    assert r.done == {"a": 16 * NS, "b": 23 * NS}
    assert wakes == [10, 22]


def test_a_read_ready_at_the_refresh_due_cycle_waits_for_the_refresh(wakes):
    # tREFI 100: the rank's refresh is due at 100, and from then it takes no new command. a at 96: ACT
    # 96, its RD would be ready at 100: the refresh goes first: PRE at 96 + tRAS 11 = 107, REF 107 +
    # tRP 6 = 113, ACT 113 + tRFC 50 = 163, RD 167: a ends 178. Wakes (bound 0, one burst): 96 + 10 =
    # 106 (issues ACT 96; next decision PRE 107), 117 (PRE, REF; next ACT 163), 173
    r = Rig(cfg(powerdown=False, timing={"tREFI": 100}))
    r.req("a", addr(0), at_ps=96 * NS)
    r.run()
    assert [x[:2] for x in log(r)] == [(96, "ACT"), (107, "PRE"), (113, "REF"), (163, "ACT"), (167, "RD")]
    assert r.done == {"a": 178 * NS}
    assert wakes == [106, 117, 173]


def test_a_wake_just_before_the_refresh_due_cycle_sleeps_to_it(wakes):
    # tREFI 100, tRAS 14. a (A) at 89: ACT 89; its bound 0, wake at 89 + 10 = 99. b (C) at 92: ACT C at
    # max(92, 89 + tRRD_L 3) = 92 (before a's RD at 93); next decision 92: 102, later than 99. The wake
    # at 99 decides the cycles below 100: RD A 93 (a ends 104); b's RD would be ready at 93 + tCCD_L 7 =
    # 100, the refresh's due cycle, so the channel's next decision is the refresh at 100 (not yet
    # started: a request arriving at 100 may still change it): wake 100 + 10 = 110. Then the refresh:
    # PRE A max(89 + tRAS 14, 93 + tRTP 5) = 103, PRE C 92 + 14 = 106, REF 106 + tRP 6 = 112 (wake 112
    # + 10 = 122), ACT C 112 + tRFC 50 = 162 (wake 172), RD 166: b ends 177
    r = Rig(cfg(powerdown=False, timing={"tREFI": 100, "tRAS": 14}))
    r.req("a", addr(0), at_ps=89 * NS)
    r.req("b", addr(0, ba=1), at_ps=92 * NS)
    r.run()
    assert [(x[0], x[1], x[4]) for x in log(r)] == [(89, "ACT", 0), (92, "ACT", 1), (93, "RD", 0), (103, "PRE", 0),
                                                   (106, "PRE", 1), (112, "REF", -1), (162, "ACT", 1), (166, "RD", 1)]
    assert r.done == {"a": 104 * NS, "b": 177 * NS}
    assert wakes == [99, 110, 122, 172]


def test_dram_events_belong_to_its_environment():
    # a caller may wait for several transactions at once (simpy's AllOf checks that every event is of
    # its environment): a (A) and b (C) at 0 end at 15 and 22 (ACT C 0, ACT A 3, RD C 4, RD A 11)
    r = Rig(cfg(powerdown=False))
    ends = []

    def both():
        ta = r.rec.new_transaction(Cmd.READ, DataClass.NONE, addr(0), 64, "t", "dram", now_ps=0)
        tb = r.rec.new_transaction(Cmd.READ, DataClass.NONE, addr(0, ba=1), 64, "t", "dram", now_ps=0)
        yield r.env.all_of([r.dram.submit(ta), r.dram.submit(tb)])
        ends.append(r.env.now)

    r.env.process(both())
    r.run()
    assert ends == [22 * NS]


# -- what an issued command leaves behind (Dram._issue) ----------------------------------------------

def test_hbm_two_column_commands_ready_in_one_cycle_take_two():
    # HBM (a row and a column command may share a cycle, never two column commands), 2 ranks, CWL 13
    # (WL 13: a WR of one rank may follow a RD of the other at once on the data bus), tRTRS 1, writes to
    # their bank at once (high watermark 1). o2 (rank 1 A), o3 (rank 1 B), o1 (rank 0 A) at 0 open their
    # rows: round robin from bank 1 reaches rank 1's A (bank 8) first: ACT 0; then rank 0's ACT at 1
    # (another rank: no tRRD) before rank 1's B (tRRD_S: 2); RD rank 1 A 4, RD rank 1 B max(2 + 4, 4 +
    # tCCD_S 5) = 9 (ties with rank 0's, whose bus limit is 4 + 11 + 1 - CL 7 = 9: round robin after
    # bank 8 reaches 12 first), RD rank 0 A 9 + 11 + 1 - 7 = 14.
    # x (rank 1 B column 1) at 100: RD 100. At 101 r (rank 0 A column 1) and w (a write, rank 1 A column
    # 1: in the buffer at 101, done at 102). r's RD: x's data end 111 + tRTRS 1 - CL 7 = 105; w's WR:
    # 100 + tCCD_S 5 = 105 (bus 111 + 1 - 13 = 99). Round robin after bank 12 reaches bank 0 before 8:
    # RD r 105, then WR w at 106, the next cycle of the column bus (its bus limit 116 + 1 - 13 = 104)
    r = Rig(cfg(powerdown=False, preset="HBM2", org={"ranks": 2}, write_high_watermark=1,
                timing={"CWL": 13, "tRTRS": 1}))
    r.req("o1", addr(0, rank=0, ranks=2))
    r.req("o2", addr(0, rank=1, ranks=2))
    r.req("o3", addr(0, bg=1, rank=1, ranks=2))
    r.req("x", addr(0, bg=1, col=1, rank=1, ranks=2), at_ps=100 * NS)
    r.req("r", addr(0, col=1, rank=0, ranks=2), at_ps=101 * NS)
    r.req("w", addr(0, col=1, rank=1, ranks=2), at_ps=101 * NS, cmd=Cmd.WRITE)
    r.run()
    assert [(x[0], x[1], x[2], x[3], x[6]) for x in log(r)] == [
        (0, "ACT", 1, 0, -1), (1, "ACT", 0, 0, -1), (2, "ACT", 1, 1, -1), (4, "RD", 1, 0, 0), (9, "RD", 1, 1, 0),
        (14, "RD", 0, 0, 0), (100, "RD", 1, 1, 1), (105, "RD", 0, 0, 1), (106, "WR", 1, 0, 1)]
    assert r.done == {"o2": 15 * NS, "o3": 20 * NS, "o1": 25 * NS, "w": 102 * NS, "x": 111 * NS, "r": 116 * NS}
