"""The DRAM fast path by hand, session 13 (mutation runs s12dramB and s13hit; docs/reliability.md).

``Dram._solo_batch``'s saturated slice (the read queue full, all of it the busy bank's, and its command
queue full: each RD then serves the head, moves the read queue's oldest in and accepts one offer) was
reached by no test with a request of another row in the read queue or among the offers, with a refresh
due inside it, or with aging deciding a tie after it; ``Dram._hit_run``'s count of a rank's queued requests
after a two-bank batch that placed offers straight into a command queue was read by no power-down case. Same rig as tests/hw/test_dram_fast_by_hand_s12.py:
test_dram_by_hand.py's configuration (tCK 1 ns, RL 7, tRCD 4, tRP 6, tRAS 11, tCCD_S 5, tCCD_L 7,
tRTP 5, burst 4: a read's data ends RD + 11), mapping rochrababgco (columns contiguous within a bank
row; bank A = bank group 0 bank 0, local bank 0; bank B = bank group 1 bank 0, local bank 4), no
power-down; every case runs through both schedulers (``run_default_mapping`` holds the fast one to
``Dram(plain=True)``), and the expected values are worked out by hand in the comments.
"""

from tests.hw.test_dram import addr
from tests.hw.test_dram_by_hand import NS, cfg, counts, log
from tests.hw.test_dram_fast_by_hand_s11 import R, W, _Rig, a2, pair, rds, run
from tests.hw.test_dram_fast_by_hand_s12 import run_default_mapping


def cmds(r):
    """(cycle, command, bank group, row, column) of every command."""
    return [(c, m, g, row, col) for c, m, _ra, g, _b, row, col in log(r)]


def test_a_saturated_batch_stops_where_a_request_of_another_row_moves_in_from_the_read_queue():
    # (s12dramB, _solo_batch 94-96) read queue 3, command queue 1. At 0, in this order: P = A row 0
    # c0-c3, X = A row 1 c0-c1, Y = A row 0 c4-c5. p0 fills A's command queue, p1-p3 the read queue;
    # x0, x1, y0, y1 wait. ACT 0, RD p0 4, then every tCCD_L 7; each RD moves the read queue's oldest in
    # and accepts one offer: RD 4 (p1 in, x0 accepted), 11 (p2 in, x1), 18 (p3 in, y0), 25 (x0 in, y1
    # accepted: Y's stall 25; X's 11). The read queue is full of A's requests at the RD at 18, with X's
    # among them: the batch must stop at the RD at 25, which moves x0 in (served on, x0 would be read
    # as a row-0 hit). P done 25 + 11 = 36. x0 wants row 1: PRE at max(25 + tRTP 5, 0 + tRAS 11) = 30,
    # ACT 36, RD x0 40, x1 47 (X done 58); y0 moves in: PRE at max(47 + 5, 36 + 11) = 52, ACT 58, RD y0
    # 62, y1 69 (Y done 80)
    r = run_default_mapping([("P", addr(row=0, col=0), 0, R, 4), ("X", addr(row=1, col=0), 0, R, 2),
                             ("Y", addr(row=0, col=4), 0, R, 2)], read_queue_depth=3, command_queue_depth=1)
    assert cmds(r) == [
        (0, "ACT", 0, 0, -1), (4, "RD", 0, 0, 0), (11, "RD", 0, 0, 1), (18, "RD", 0, 0, 2), (25, "RD", 0, 0, 3),
        (30, "PRE", 0, 0, -1), (36, "ACT", 0, 1, -1), (40, "RD", 0, 1, 0), (47, "RD", 0, 1, 1), (52, "PRE", 0, 1, -1),
        (58, "ACT", 0, 0, -1), (62, "RD", 0, 0, 4), (69, "RD", 0, 0, 5)]
    assert r.done == {"P": 36 * NS, "X": 58 * NS, "Y": 80 * NS}
    assert r.stall("queue_full") == (11 + 25) * NS
    assert counts(r)["row_hits"] == 5 and counts(r)["row_misses"] == 1 and counts(r)["row_conflicts"] == 2


def test_a_saturated_batch_takes_no_offer_of_another_row():
    # (s12dramB, _solo_batch 104, 105, 110) read queue 1, command queue 1. At 0: A = A row 1 c0-c5,
    # then B = A row 0 c1-c3. a0 fills the command queue, a1 the read queue; the rest waits. ACT row 1
    # at 0, RD a0 4, then every 7: 11, 18, 25, 32, 39 (A done 50); each RD moves the read queue's request
    # in and accepts one offer: a2 at 4, a3 11, a4 18, a5 25 (A's stall 25), b0 at 32. The saturated
    # batch meets b0 (another row) among the offers: it takes it into the read queue as the per-RD step
    # does, never as one of its row hits. RD a5 at 39 moves b0 in (b1 accepted at 39): PRE at max(39 +
    # tRTP 5, 0 + tRAS 11) = 44, ACT row 0 50, RD b0 54 (b1 in, b2 accepted at 54: B's stall 54), b1 61,
    # b2 68 (B done 79)
    r = run_default_mapping([("A", addr(row=1, col=0), 0, R, 6), ("B", addr(row=0, col=1), 0, R, 3)],
                            read_queue_depth=1, command_queue_depth=1)
    assert cmds(r) == [
        (0, "ACT", 0, 1, -1), (4, "RD", 0, 1, 0), (11, "RD", 0, 1, 1), (18, "RD", 0, 1, 2), (25, "RD", 0, 1, 3),
        (32, "RD", 0, 1, 4), (39, "RD", 0, 1, 5), (44, "PRE", 0, 1, -1), (50, "ACT", 0, 0, -1), (54, "RD", 0, 0, 1),
        (61, "RD", 0, 0, 2), (68, "RD", 0, 0, 3)]
    assert r.done == {"A": 50 * NS, "B": 79 * NS}
    assert r.stall("queue_full") == (25 + 54) * NS
    assert counts(r)["row_hits"] == 7 and counts(r)["row_misses"] == 1 and counts(r)["row_conflicts"] == 1


def test_a_saturated_batch_takes_no_more_offers_than_rds_before_a_refresh():
    # (s12dramB, _solo_batch 108) read queue 1, command queue 1, tREFI 35, tRFC 10. A = A row 1 c0-c7 at
    # 0: a0 in the command queue, a1 in the read queue. ACT 0, RD 4, 11, 18, 25, 32, each accepting one
    # offer (a2 at 4 ... a6 at 32). The refresh due at 35 stops the next RD (39, one past the batch's
    # limit): PRE at 32 + tRTP 5 = 37, REF at 37 + tRP 6 = 43, ACT 43 + tRFC 10 = 53, RD a5 57 (a7
    # accepted at 57: the stall), a6 64; the refresh due at 70 precedes a7's RD (71): PRE 70 (64 + 5 = 69
    # is before the due time), REF 76, ACT 86, RD a7 90: A done 101
    r = run_default_mapping([("A", addr(row=1, col=0), 0, R, 8)], read_queue_depth=1, command_queue_depth=1,
                            timing={"tREFI": 35, "tRFC": 10})
    assert cmds(r) == [
        (0, "ACT", 0, 1, -1), (4, "RD", 0, 1, 0), (11, "RD", 0, 1, 1), (18, "RD", 0, 1, 2), (25, "RD", 0, 1, 3),
        (32, "RD", 0, 1, 4), (37, "PRE", 0, 1, -1), (43, "REF", -1, -1, -1), (53, "ACT", 0, 1, -1), (57, "RD", 0, 1, 5),
        (64, "RD", 0, 1, 6), (70, "PRE", 0, 1, -1), (76, "REF", -1, -1, -1), (86, "ACT", 0, 1, -1), (90, "RD", 0, 1, 7)]
    assert r.done == {"A": 101 * NS}
    assert r.stall("queue_full") == 57 * NS


def test_requests_moved_in_by_a_saturated_batch_are_queued_at_their_rd_for_aging():
    # (s12dramB, _solo_batch 135) read queue 2, command queue 2, starvation_cycles 20. A = A row 0 c0-c7
    # at 0: a0, a1 in A's command queue, a2, a3 in the read queue. ACT 0, RD a0 4 (a2 moves in, queued
    # at 4; a4 accepted), a1 11 (a3 in at 11; a5), a2 18 (a4 in at 18; a6), a3 25 (a5 in at 25; a7
    # accepted: A's stall 25), a4 32 (a6 in at 32). At 39 B = bank B row 0 c0 arrives: its ACT (ready
    # at 39) ties with RD a5 (32 + tCCD_L 7). a5 has waited 39 - 25 = 14 < 20 cycles (not aged), so
    # round robin decides: from the bank after A (local bank 0), the last command's, B (local bank 4)
    # comes first: ACT B 39, RD a5 40 (a7 in), RD b0 at max(39 + tRCD 4, 40 + tCCD_S 5, bus 40 + 4) = 45
    # (B done 56), RD a6 max(40 + 7, 45 + 5) = 50, a7 57 (A done 68). (Queued at 0, a5 would count as
    # aged and take the tie: RD a5 39, ACT B 40.)
    r = run_default_mapping([("A", addr(row=0, col=0), 0, R, 8), ("B", addr(row=0, bg=1, col=0), 39, R, 1)],
                            read_queue_depth=2, command_queue_depth=2, starvation_cycles=20)
    assert cmds(r) == [
        (0, "ACT", 0, 0, -1), (4, "RD", 0, 0, 0), (11, "RD", 0, 0, 1), (18, "RD", 0, 0, 2), (25, "RD", 0, 0, 3),
        (32, "RD", 0, 0, 4), (39, "ACT", 1, 0, -1), (40, "RD", 0, 0, 5), (45, "RD", 1, 0, 0), (50, "RD", 0, 0, 6),
        (57, "RD", 0, 0, 7)]
    assert r.done == {"B": 56 * NS, "A": 68 * NS}
    assert r.stall("queue_full") == 25 * NS


def test_offers_placed_straight_into_a_command_queue_by_a_two_bank_batch_count_for_power_down():
    # (s13hit, _hit_run 180) test_dram_fast_by_hand_s11.py's L (16 bursts alternating banks A and B,
    # mapping rochrabacobg, read queue 1, command queue 4; RDs B 4 + 10 i, A 9 + 10 i; offers placed
    # straight into B's command queue by the two-bank batch), with power-down on (timeout 20, tCKE 12,
    # tXP 13), then M = A row 0 column 7 at 150. L's last RD, A's at 79, ends its data at 90: the rank
    # has no queued request from then (the straight-in offers counted in and out), so it enters active
    # power-down (its banks open) at 90 + 20 = 110; M's arrival at 150 wakes it: PDX at max(150, 110 +
    # tCKE 12) = 150, RD (A's row 0 still open) at 150 + tXP 13 = 163, M done 174
    config = cfg(powerdown=True, address_mapping="rochrabacobg", read_queue_depth=1, command_queue_depth=4)
    rigs = []
    for plain in (False, True):
        r = _Rig(config, plain)
        r.req("L", 0, at_ps=0, cmd=R, nbytes=16 * 64)
        r.req("M", a2(0, 0, col=7), at_ps=150 * NS, cmd=R, nbytes=64)
        r.run()
        rigs.append(r)
    fast, plain = rigs
    assert log(fast) == log(plain) and fast.done == plain.done
    assert rds(fast) == pair(8) + [(163, 0, 0, 7)]
    assert [(c, m) for c, m, *_ in log(fast) if m != "RD"] == [(0, "ACT"), (2, "ACT"), (110, "PDE"), (150, "PDX")]
    assert fast.done == {"L": 90 * NS, "M": 174 * NS}
    assert counts(fast)["powerdowns"] == 1


def test_offers_placed_straight_into_a_command_queue_by_a_two_bank_batch_count_as_queued_reads():
    # (s13hit, _hit_run 184) the same L without power-down (the s11 file's ``run``: read queue 1,
    # command queue 4), then W = one write to A row 2 column 0 at 100. L done 90 as there; from then no
    # read is queued (the straight-in offers counted in and out of the queued reads), so the write
    # buffer (low watermark 0) drains at once: W is accepted at 100 (done 101) and moves into A's
    # command queue; A's row 0 is open: PRE at max(100, 79 + tRTP 5, 2 + tRAS 11) = 100, ACT row 2 at
    # 100 + tRP 6 = 106, WR at 106 + tRCD 4 = 110
    r = run([("L", 0, 0, R, 16), ("W", a2(2, 0, col=0), 100, W, 1)], read_queue_depth=1, command_queue_depth=4)
    assert rds(r) == pair(8)
    assert [(c, m, g, row) for c, m, _ra, g, _b, row, _col in log(r) if m != "RD"] == [
        (0, "ACT", 1, 0), (2, "ACT", 0, 0), (100, "PRE", 0, 0), (106, "ACT", 0, 2), (110, "WR", 0, 2)]
    assert r.done == {"L": 90 * NS, "W": 101 * NS}


def test_requests_moved_in_by_a_batch_with_no_offers_are_queued_at_their_rd_for_aging():
    # (s26solo, _solo_batch 53-57: the read queue's requests moved in by a lone-bank batch with nothing
    # offered) read queue 4, command queue 2. A = A row 0 c0-c5 at 0: a0, a1 in A's command queue, a2-a5
    # in the read queue, nothing left offered. ACT 0, RD a0 4 (a2 moves in, queued at 4), a1 11 (a3 in at
    # 11); from there the batch, up to B's arrival at 39: RD a2 18 (a4 in, queued at 11 + 7 = 18), a3 25
    # (a5 in, queued at 11 + 2 x 7 = 25), a4 32. At 39 B = bank B row 0 c0 arrives: its ACT (ready at 39)
    # ties with RD a5 (32 + tCCD_L 7). starvation_cycles 20: a5 has waited 39 - 25 = 14 cycles, not aged:
    # round robin from the bank after A's puts B first: ACT B 39, RD a5 40, RD b0 at max(39 + tRCD 4,
    # 40 + tCCD_S 5, data bus 40 + 11 - 7) = 45: A done 40 + 11 = 51, B done 56. starvation_cycles 14: a5
    # aged (14 >= 14) takes the tie: RD a5 39, ACT B 40, RD b0 at max(40 + 4, 39 + 5, 39 + 4) = 44: A done
    # 50, B done 55.
    reqs = [("A", addr(row=0, col=0), 0, R, 6), ("B", addr(row=0, bg=1, col=0), 39, R, 1)]
    first = [(0, "ACT", 0, 0, -1)] + [(4 + 7 * i, "RD", 0, 0, i) for i in range(5)]
    r = run_default_mapping(reqs, read_queue_depth=4, command_queue_depth=2, starvation_cycles=20)
    assert cmds(r) == first + [(39, "ACT", 1, 0, -1), (40, "RD", 0, 0, 5), (45, "RD", 1, 0, 0)]
    assert r.done == {"A": 51 * NS, "B": 56 * NS}
    r = run_default_mapping(reqs, read_queue_depth=4, command_queue_depth=2, starvation_cycles=14)
    assert cmds(r) == first + [(39, "RD", 0, 0, 5), (40, "ACT", 1, 0, -1), (44, "RD", 1, 0, 0)]
    assert r.done == {"A": 50 * NS, "B": 55 * NS}
