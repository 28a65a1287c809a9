"""The DRAM scheduler by hand, session 13 (mutation run s13iss on hw/dram.py's ``_run_ok``, ``_fill``
94-142, ``_solo_batch`` 136-226 and ``_issue`` 38-260; docs/reliability.md).

Configuration: tests/hw/test_dram_by_hand.py's ``cfg()`` (timings all distinct: tCK 1 ns, RL 7,
tRCD 4, tRP 6, tRAS 11, tRRD_S 2, tCCD_S 5, tCCD_L 7, tRTP 5, burst 4 cycles, so a read's data
ends RD + 11; mapping rochrababgco: bank A = bank group 0 bank 0 (local bank 0), bank B = bank
group 1 bank 0 (local bank 4)), without power-down. Every case runs through both schedulers
(``run_default_mapping`` holds the fast one to ``Dram(plain=True)``: same commands, completions and
counters), and the expected values are worked out by hand in the comments.
"""

import pytest

from tests.hw.test_dram import addr
from tests.hw.test_dram_by_hand import NS, counts, log
from tests.hw.test_dram_fast_by_hand_s11 import R, W
from tests.hw.test_dram_fast_by_hand_s12 import run_default_mapping

A0, B0 = dict(row=0, bg=0, ba=0), dict(row=0, bg=1, ba=0)


def cmds(r) -> list[tuple[int, str, int]]:
    """(cycle, command, bank group) of every logged command."""
    return [(c, m, g) for c, m, _ra, g, _b, _row, _col in log(r)]


@pytest.mark.parametrize("starve, want, done", [
    # l5 aged at 39 (39 - 25 = 14 >= 14): RD A l5 39 (ends 50), ACT B 40, RD B max(40 + tRCD 4, 39 +
    # tCCD_S 5) = 44 (ends 55), RD A l6 max(39 + 7, 44 + 5, bus 44 + 4) = 49, l7 56 (ends 67)
    (14, [(39, "RD", 0), (40, "ACT", 1), (44, "RD", 1), (49, "RD", 0), (56, "RD", 0)], {"B": 55 * NS, "L": 67 * NS}),
    # l5 not aged at 39 (14 < 15): ACT B 39, RD A l5 40 (ends 51), RD B max(39 + 4, 40 + 5) = 45
    # (ends 56), RD A l6 max(40 + 7, 45 + 5) = 50, l7 57 (ends 68)
    (15, [(39, "ACT", 1), (40, "RD", 0), (45, "RD", 1), (50, "RD", 0), (57, "RD", 0)], {"B": 56 * NS, "L": 68 * NS}),
])
def test_a_request_moved_in_by_a_saturated_batch_ages_from_the_rd_that_moved_it(starve, want, done):
    # read queue 2, command queue 2. L = A row 0 columns 0-7 at 0: l0, l1 enter A's command queue,
    # l2, l3 the read queue, l4-l7 wait at the offering side. ACT A 0, then A's RDs every tCCD_L 7 from
    # tRCD 4: l0 4, l1 11, l2 18, l3 25, l4 32. Each RD moves the read queue's oldest into A's command
    # queue (queued at that RD) and accepts one offer: l4 queued at 18, l5 at 25 (the fast scheduler
    # serves 18 and 25 as a saturated batch: read and command queue full of A's, offers hitting A's
    # row; the batch stamps l4 and l5 itself), l6 at 32. B = B row 0 column 0 at 39: the read queue
    # holds l7 only, so B goes straight into B's command queue; its ACT is ready at 39 (tRRD_S since
    # ACT A long past), as is A's RD of l5 (32 + 7). Round robin from the bank after A (served last):
    # B's ACT at position 3 (keyed 6) goes before A's RD at position 7 (keyed 15) unless l5 has aged:
    # it has waited 39 - 25 = 14 cycles at 39
    r = run_default_mapping([("L", addr(**A0, col=0), 0, R, 8), ("B", addr(**B0, col=0), 39, R, 1)],
                            read_queue_depth=2, command_queue_depth=2, starvation_cycles=starve)
    assert cmds(r) == [(0, "ACT", 0), (4, "RD", 0), (11, "RD", 0), (18, "RD", 0), (25, "RD", 0), (32, "RD", 0)] + want
    assert r.done == done
    assert r.stall("queue_full") == 25 * NS  # l7 accepted at the RD of 25


def test_a_lone_bank_batch_accepts_one_offer_per_rd_behind_a_request_of_another_row():
    # read queue 2, command queue 2, row_hit_cap 4 (the default). At 0, in this order: L = A row 0
    # columns 0-3, X = A row 1 column 0, M = A row 0 columns 4-6. l0, l1 enter A's command queue, l2, l3
    # the read queue; x, m0-m2 wait. ACT A 0, RDs l0 4, l1 11, l2 18, l3 25 (L done 36); each moves
    # the read queue's oldest in and accepts one offer into the freed place: x at 4, m0 at 11, m1 at
    # 18, m2 at 25. (The fast scheduler serves 18 in a lone-bank batch that is not saturated, x being
    # in the read queue: its RD moves x in and accepts m1 only; the read queue is then full.) After
    # l3, A's head x wants row 1 and m0 behind it is a younger hit (ready 32), but the row has served
    # row_hit_cap 4 column commands: x's PRE competes at max(25 + tRTP 5, 0 + tRAS 11) = 30 and goes
    # first; ACT max(30 + tRP 6, 0 + tRC 17) = 36, RD x 40 (X done 51); PRE max(40 + 5, 36 + 11) = 47,
    # ACT max(47 + 6, 36 + 17) = 53, RD m0 57, m1 64, m2 71 (M done 82). queue_full stalls, per read
    # from its offer at 0 to its last burst's acceptance: L 0 + X 4 + M 25 = 29
    r = run_default_mapping([("L", addr(**A0, col=0), 0, R, 4), ("X", addr(row=1, bg=0, ba=0, col=0), 0, R, 1),
                             ("M", addr(**A0, col=4), 0, R, 3)], read_queue_depth=2, command_queue_depth=2)
    assert [(c, m, row, col) for c, m, _ra, _g, _b, row, col in log(r)] == [
        (0, "ACT", 0, -1), (4, "RD", 0, 0), (11, "RD", 0, 1), (18, "RD", 0, 2), (25, "RD", 0, 3), (30, "PRE", 0, -1),
        (36, "ACT", 1, -1), (40, "RD", 1, 0), (47, "PRE", 1, -1), (53, "ACT", 0, -1), (57, "RD", 0, 4),
        (64, "RD", 0, 5), (71, "RD", 0, 6)]
    assert r.done == {"L": 36 * NS, "X": 51 * NS, "M": 82 * NS}
    assert r.stall("queue_full") == 29 * NS


def test_a_request_of_another_row_moving_in_ends_a_lone_bank_batch_that_takes_offers():
    # read queue 4, command queue 2. At 0, in this order: L = A row 0 columns 0-5, X = A row 1 columns
    # 0-2, M = A row 0 columns 0-1. l0, l1 enter A's command queue, l2-l5 the read queue; x0-x2, m0, m1
    # wait. ACT A 0, RDs every tCCD_L 7 from tRCD 4: l0 4, l1 11, l2 18, l3 25, l4 32, l5 39 (L done
    # 50); each moves the read queue's oldest in and accepts one offer: x0 at 4, x1 11, x2 18, m0 25,
    # m1 32. The RD at 32 moves x0 (row 1) in behind l5 (the fast scheduler serves 32 in a lone-bank
    # batch from 25 that takes offers: it must end there, else it would serve x0 as a row-0 hit at 46).
    # After l5 (x1 moves in), A's head x0 wants row 1 and no row-0 request is in the command queue: PRE
    # max(39 + tRTP 5, 0 + tRAS 11) = 44, ACT max(44 + tRP 6, 0 + tRC 17) = 50, RD x0 54, x1 61, x2 68
    # (X done 79); m0 then wants row 0: PRE max(68 + 5, 50 + 11) = 73, ACT 79, RD m0 83, m1 90 (M done
    # 101). queue_full stalls: L 0 + X 18 + M 32 = 50
    r = run_default_mapping([("L", addr(**A0, col=0), 0, R, 6), ("X", addr(row=1, bg=0, ba=0, col=0), 0, R, 3),
                             ("M", addr(**A0, col=0), 0, R, 2)], read_queue_depth=4, command_queue_depth=2)
    assert [(c, m, row, col) for c, m, _ra, _g, _b, row, col in log(r)] == [
        (0, "ACT", 0, -1), (4, "RD", 0, 0), (11, "RD", 0, 1), (18, "RD", 0, 2), (25, "RD", 0, 3), (32, "RD", 0, 4),
        (39, "RD", 0, 5), (44, "PRE", 0, -1), (50, "ACT", 1, -1), (54, "RD", 1, 0), (61, "RD", 1, 1), (68, "RD", 1, 2),
        (73, "PRE", 1, -1), (79, "ACT", 0, -1), (83, "RD", 0, 0), (90, "RD", 0, 1)]
    assert r.done == {"L": 50 * NS, "X": 79 * NS, "M": 101 * NS}
    assert r.stall("queue_full") == 50 * NS


def test_every_write_drain_is_counted():
    # write low watermark 0 (cfg()): a write buffer holding more than 0 writes drains while no read is
    # queued. W1 = A row 0 column 0 at 0: buffered at 0 (done 1), drain 1 moves it into A's command queue:
    # ACT A 0, WR 4. W2 = A row 0 column 1 at 100: buffered at 100 (done 101), drain 2; row 0 is still
    # open (open page, no power-down): WR 100, a row hit. Two drains, two counted
    r = run_default_mapping([("W1", addr(**A0, col=0), 0, W, 1), ("W2", addr(**A0, col=1), 100, W, 1)])
    assert cmds(r) == [(0, "ACT", 0), (4, "WR", 0), (100, "WR", 0)]
    assert r.done == {"W1": 1 * NS, "W2": 101 * NS}
    assert counts(r)["write_drains"] == 2
