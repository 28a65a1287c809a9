"""The DRAM fast path by hand, session 12 (mutation runs s11dramA, s12dramB; docs/reliability.md).

Same rig, configuration and helpers as tests/hw/test_dram_fast_by_hand_s11.py (its module docstring
has the timings: tCK 1 ns, RL 7, tRCD 4, tRP 6, tRAS 11, tRRD_S 2, tCCD_S 5, tCCD_L 7, tRTP 5,
burst 4, so a read's data ends RD + 11; mapping ``rochrabacobg``: the bursts of an address range
alternate between bank A (bank group 0, bank 0) and bank B (bank group 1, bank 0), burst 2 j in A's
column j, 2 j + 1 in B's). Every case runs through both schedulers (``run`` checks the fast one
against ``Dram(plain=True)``), and the expected values are worked out by hand in the comments.
"""

from tests.hw.test_dram_by_hand import NS, counts, log
from tests.hw.test_dram_fast_by_hand_s11 import R, a2, pair, rds, run


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
