"""The DRAM fast path by hand, session 12 (mutation runs s11dramA, s12dramB; docs/reliability.md).

Same rig, configuration and helpers as tests/hw/test_dram_fast_by_hand_s11.py (its module docstring
has the timings: tCK 1 ns, RL 7, tRCD 4, tRP 6, tRAS 11, tRRD_S 2, tCCD_S 5, tCCD_L 7, tRTP 5,
burst 4, so a read's data ends RD + 11; mapping ``rochrabacobg``: the bursts of an address range
alternate between bank A (bank group 0, bank 0) and bank B (bank group 1, bank 0), burst 2 j in A's
column j, 2 j + 1 in B's). Every case runs through both schedulers (``run`` checks the fast one
against ``Dram(plain=True)``), and the expected values are worked out by hand in the comments.
"""

from tests.hw.test_dram import addr
from tests.hw.test_dram_by_hand import NS, cfg, counts, log
from tests.hw.test_dram_fast_by_hand_s11 import R, a2, both_schedulers, pair, rds, run


def run_default_mapping(reqs, **kw):
    """``run`` with test_dram_by_hand.py's mapping rochrababgco (columns contiguous within a bank row)
    and deep queues (read 32, command 8) unless said otherwise: both schedulers, the fast one's rig."""
    return both_schedulers(cfg(powerdown=False, **{"read_queue_depth": 32, "command_queue_depth": 8, **kw}), reqs)


def test_a_request_of_another_row_moving_in_ends_the_batch_before_it_is_served_as_a_hit():
    # command queue 1, read queue 8. L = 16 bursts of row 0 (A and B columns 0-7), X = 4 bursts of
    # row 1 (x0 A c0, x1 B c0, x2 A c1, x3 B c1), both at 0. At 0 L's bursts 0 and 1 fill the two
    # command queues, 2-9 the read queue, 10-15 and X wait. ACT B 0, ACT A 2, then B at 4 + 10 i, A at
    # 9 + 10 i (as L in the s11 file): each RD moves its bank's oldest read-queue request in and
    # accepts one offer: L's 10-15 at 4, 9, ..., 29, x0-x3 at 34, 39, 44, 49 (stalls 29 + 49 = 78).
    # B's RD at 74 (L's 15, B's last of row 0) moves x1 (row 1) into B's command queue: the two-bank
    # batch ends there (served on, x1 would be B's next RD, at 84, as a row-0 hit). Then A's RD of L's
    # 14 at 79 (ready at 79 like B's PRE, 74 + tRTP 5: round robin from the bank after B, the last
    # RD's, puts A first), L done 90; PRE B 80; x0 moves into A's queue: PRE A at 79 + 5 = 84; ACT B
    # 80 + tRP 6 = 86; ACT A 84 + 6 = 90 (tRRD_S from 86: 88) ahead of x1's RD, also ready at
    # 86 + tRCD 4 = 90 (round robin from the bank after B, the last ACT's), so RD x1 91; RD x0 at
    # max(90 + 4, 91 + tCCD_S 5) = 96; x3 at max(91 + tCCD_L 7, 96 + 5) = 101; x2 106: X done 117
    r = run([("L", 0, 0, R, 16), ("X", a2(1, 0), 0, R, 4)], read_queue_depth=8, command_queue_depth=1)
    assert rds(r) == pair(8) + [(91, 1, 1, 0), (96, 0, 1, 0), (101, 1, 1, 1), (106, 0, 1, 1)]
    assert [(c, m, g, row) for c, m, _ra, g, _b, row, _col in log(r) if m != "RD"] == [
        (0, "ACT", 1, 0), (2, "ACT", 0, 0), (80, "PRE", 1, 0), (84, "PRE", 0, 0), (86, "ACT", 1, 1), (90, "ACT", 0, 1)]
    assert r.done == {"L": 90 * NS, "X": 117 * NS}
    assert r.stall("queue_full") == 78 * NS
    assert counts(r)["row_hits"] == 14 + 2 and counts(r)["row_conflicts"] == 2


def test_a_reads_last_burst_in_a_row_served_in_a_two_bank_batch_leaves_no_count_there():
    # mapping rochrababgco, deep queues: bank A = bank group 0 bank 0, B = bank group 1 bank 0, row 0. At 0, in this order: U =
    # B columns 0-5, V = A column 6, T = A column 7 and B column 0 (two bursts), Y = A columns 0-1.
    # ACT B 0 (round robin from the bank after local bank 0), ACT A 2; RD B at tRCD 4, RD A at
    # max(2 + 4, 4 + tCCD_S 5, bus 4 + 4) = 9 (V: done 20); then the two banks alternate every 5
    # (each bank's tCCD_L 7 < 10): B 14 (U c1), A 19 (T's A burst), B 24, A 29 (Y c0), B 34, A 39
    # (Y c1: done 50); then B alone every tCCD_L 7: 44, 51 (U c5: done 62), 58 (T's B burst: done 69).
    # T's A burst, its last in (A, row 0), is served inside a two-bank batch: T's count there must drop
    # to 0, else the wake bound counts a burst of T still ahead of Y's in that row and wakes the channel
    # 7 cycles too late for Y's completion at 50
    a, b = dict(row=0, bg=0, ba=0), dict(row=0, bg=1, ba=0)
    r = run_default_mapping([("U", addr(**b, col=0), 0, R, 6), ("V", addr(**a, col=6), 0, R, 1),
                             ("T", addr(**a, col=7), 0, R, 2), ("Y", addr(**a, col=0), 0, R, 2)])
    assert rds(r) == [(4, 1, 0, 0), (9, 0, 0, 6), (14, 1, 0, 1), (19, 0, 0, 7), (24, 1, 0, 2), (29, 0, 0, 0),
                      (34, 1, 0, 3), (39, 0, 0, 1), (44, 1, 0, 4), (51, 1, 0, 5), (58, 1, 0, 0)]
    assert r.done == {"V": 20 * NS, "Y": 50 * NS, "U": 62 * NS, "T": 69 * NS}


def test_a_two_bank_batch_serving_one_bank_only_leaves_the_other_banks_precharge_bound():
    # mapping rochrababgco, deep queues, tRTP 12 (a PRE >= RD + 12), refresh due at tREFI 74. Row 0 of
    # A = bank group 0 bank 0, A2 = bank group 0 bank 1, B = bank group 1 bank 0. At 0: P = B c0-c1,
    # Q = B c0-c2, S = A2 c3-c6; at 12: T = B c3-c4; at 27: W = A c1-c4.
    # ACT A2 0 (round robin from the bank after local bank 0), ACT B 2; RD A2 4, RD B max(2 + 4,
    # 4 + tCCD_S 5, bus 8) = 9, then every 5: A2 14, B 19 (P done 30), A2 24; ACT A 27; B 29. Then A
    # (27 + tRCD 4 = 31) and A2 (24 + tCCD_L 7 = 31) are both ready at 29 + 5 = 34, and at every A
    # turn after (A2's bank-group mate A read 7 before): round robin from the bank after B, the last
    # RD's, reaches A first: A 34, B 39, A 44, B 49 (Q done 60), A 54, B 59, A 64 (W done 75), B 69
    # (T done 80). A2's next RD, at max(69 + 5, 64 + 7) = 74, meets the refresh due at 74: PRE A2 74
    # (its last RD at 24 + 12 = 36 long past), PRE A 64 + 12 = 76, PRE B 69 + 12 = 81, REF 81 + tRP 6
    # = 87, ACT A2 87 + tRFC 50 = 137, RD A2 141 (S done 152).
    # B's RD at 69 is a two-bank batch (A2 and B) that served B only: A2's PRE bound stays its own
    # (36), not its bank group's last RD (A's at 64: PRE A2 at 76, so 77)
    a, a2_, b = dict(row=0, bg=0, ba=0), dict(row=0, bg=0, ba=1), dict(row=0, bg=1, ba=0)
    r = run_default_mapping([("P", addr(**b, col=0), 0, R, 2), ("Q", addr(**b, col=0), 0, R, 3),
                             ("S", addr(**a2_, col=3), 0, R, 4), ("T", addr(**b, col=3), 12, R, 2),
                             ("W", addr(**a, col=1), 27, R, 4)], timing={"tRTP": 12, "tREFI": 74})
    assert [(c, m, g, bank, col) for c, m, _ra, g, bank, _row, col in log(r)] == [
        (0, "ACT", 0, 1, -1), (2, "ACT", 1, 0, -1), (4, "RD", 0, 1, 3), (9, "RD", 1, 0, 0), (14, "RD", 0, 1, 4),
        (19, "RD", 1, 0, 1), (24, "RD", 0, 1, 5), (27, "ACT", 0, 0, -1), (29, "RD", 1, 0, 0), (34, "RD", 0, 0, 1),
        (39, "RD", 1, 0, 1), (44, "RD", 0, 0, 2), (49, "RD", 1, 0, 2), (54, "RD", 0, 0, 3), (59, "RD", 1, 0, 3),
        (64, "RD", 0, 0, 4), (69, "RD", 1, 0, 4), (74, "PRE", 0, 1, -1), (76, "PRE", 0, 0, -1), (81, "PRE", 1, 0, -1),
        (87, "REF", -1, -1, -1), (137, "ACT", 0, 1, -1), (141, "RD", 0, 1, 6)]
    assert r.done == {"P": 30 * NS, "Q": 60 * NS, "W": 75 * NS, "T": 80 * NS, "S": 152 * NS}


def test_an_offer_of_another_row_for_a_bank_with_room_stops_a_two_bank_batch():
    # read queue 2, command queue 2 (the s11 defaults). At 0, in this order: P = A c5, B c5, A c6; L =
    # A c0, B c0, A c1, B c1, A c2, B c2, A c3 (all row 0); X = B c5, A c6, B c6 of row 1. At 0: p0, p2
    # fill A's command queue, p1 and l1 go to B's, l0 and l2 to the read queue; l3 on wait. ACT B 0,
    # ACT A 2, RD B 4, RD A 9, alternating every 5. B's RDs move nothing in (its read queue is empty);
    # A's move one in and free a read-queue place, and the offers then go straight into B's queue
    # (room, nothing of B's waiting) or into the read queue: RD A 9: l0 in, l3 to B, l4 queued; RD A 19
    # (P done 30): l2 in, l5 to B, l6 queued (L accepted 19); RD A 29: l4 in, and the offer is x0,
    # another row for B, whose queue (l5) has room: the batch stops there (served on, x0 would follow
    # l5 into B's queue and be served at 44 as a row-0 hit); x0 goes straight into B's queue, x1 into
    # the read queue. RD B 34 (l5); then B's head wants row 1: PRE B ready at 34 + tRTP 5 = 39 like A's
    # RD (l2; l6 moves in, x2 goes to B: X accepted 39): round robin from the bank after B puts A
    # first, PRE B 40; RD A 39 + tCCD_L 7 = 46 (l4), ACT B 40 + tRP 6 = 46, so 47; RD x0 at
    # max(47 + tRCD 4, 46 + tCCD_S 5) = 51; RD A (l6) max(46 + 7, 51 + 5) = 56 (L done 67); A's head x1
    # wants row 1: PRE A ready 56 + 5 = 61 like RD x2 (max(51 + 7, 56 + 5)): round robin from the bank
    # after A puts B first, PRE A 62, ACT A 68, RD x1 72 (X done 83). Stalls: L 19 + X 39 = 58
    r = run([("P", a2(0, 0, col=5), 0, R, 3), ("L", 0, 0, R, 7), ("X", a2(1, 1, col=5), 0, R, 3)])
    assert rds(r) == [(4, 1, 0, 5), (9, 0, 0, 5), (14, 1, 0, 0), (19, 0, 0, 6), (24, 1, 0, 1), (29, 0, 0, 0),
                      (34, 1, 0, 2), (39, 0, 0, 1), (46, 0, 0, 2), (51, 1, 1, 5), (56, 0, 0, 3), (61, 1, 1, 6),
                      (72, 0, 1, 6)]
    assert [(c, m, g, row) for c, m, _ra, g, _b, row, _col in log(r) if m != "RD"] == [
        (0, "ACT", 1, 0), (2, "ACT", 0, 0), (40, "PRE", 1, 0), (47, "ACT", 1, 1), (62, "PRE", 0, 0), (68, "ACT", 0, 1)]
    assert r.done == {"P": 30 * NS, "L": 67 * NS, "X": 83 * NS}
    assert r.stall("queue_full") == 58 * NS


def test_a_lone_bank_batch_stops_at_a_refresh_due_before_another_rows_request_moves_in():
    # (s12dramB, _solo_batch) mapping rochrababgco, read queue 32, command queue 1, tREFI 35, tRFC 10.
    # At 0: R = 6 bursts of A (bank group 0 bank 0) row 0, X = 1 burst of A row 1: A's command queue
    # holds one, the rest waits in the read queue (X last). ACT 0, RD 4, then A alone every tCCD_L 7:
    # 11, 18, 25, 32; the refresh due at 35 stops the bank's batch (its RDs at 39 and later wait,
    # though X is still two requests away from the command queue): PRE at 32 + tRTP 5 = 37, REF at
    # 37 + tRP 6 = 43, ACT 43 + tRFC 10 = 53, RD c5 57 (R done 68); X's PRE at max(57 + 5, 53 + tRAS
    # 11) = 64, the refresh due at 70: REF 70 (64 + 6), ACT 80, RD 84 (X done 95)
    r = run_default_mapping([("R", addr(row=0, bg=0, ba=0, col=0), 0, R, 6), ("X", addr(row=1, bg=0, ba=0), 0, R, 1)],
                            command_queue_depth=1, timing={"tREFI": 35, "tRFC": 10})
    assert [(c, m, row, col) for c, m, _ra, _g, _b, row, col in log(r)] == [
        (0, "ACT", 0, -1), (4, "RD", 0, 0), (11, "RD", 0, 1), (18, "RD", 0, 2), (25, "RD", 0, 3), (32, "RD", 0, 4),
        (37, "PRE", 0, -1), (43, "REF", -1, -1), (53, "ACT", 0, -1), (57, "RD", 0, 5), (64, "PRE", 0, -1),
        (70, "REF", -1, -1), (80, "ACT", 1, -1), (84, "RD", 1, 0)]
    assert r.done == {"R": 68 * NS, "X": 95 * NS}


def test_a_lone_bank_batch_moves_one_request_in_per_rd():
    # (s12dramB, _solo_batch) mapping rochrababgco, read queue 32, command queue 1. At 0: R1 = A row 0
    # c0-c2, X = A row 1, R2 = A row 0 c4-c5: one request in A's command queue, the rest in the read
    # queue in offer order. ACT 0, RD 4, 11, 18 (tCCD_L 7; R1 done 29); each RD moves one request in,
    # the RD at 18 moves X in: the command queue holds X only, so its PRE at 18 + tRTP 5 = 23 (R2's
    # bursts, still in the read queue, are not row hits the scheduler can see), ACT 29, RD 33 (X done
    # 44); R2 c4 moves in: PRE at max(33 + 5, 29 + tRAS 11) = 40, ACT 46, RD 50, 57 (R2 done 68)
    r = run_default_mapping([("R1", addr(row=0, bg=0, ba=0, col=0), 0, R, 3), ("X", addr(row=1, bg=0, ba=0), 0, R, 1),
                             ("R2", addr(row=0, bg=0, ba=0, col=4), 0, R, 2)], command_queue_depth=1)
    assert [(c, m, row, col) for c, m, _ra, _g, _b, row, col in log(r)] == [
        (0, "ACT", 0, -1), (4, "RD", 0, 0), (11, "RD", 0, 1), (18, "RD", 0, 2), (23, "PRE", 0, -1), (29, "ACT", 1, -1),
        (33, "RD", 1, 0), (40, "PRE", 1, -1), (46, "ACT", 0, -1), (50, "RD", 0, 4), (57, "RD", 0, 5)]
    assert r.done == {"R1": 29 * NS, "X": 44 * NS, "R2": 68 * NS}
