"""The DRAM fast path by hand, session 11: offers met inside a two-bank batch (``Dram._pair_batch``),
the read queue's moves, the counts a batch leaves, and the lone-bank and per-RD runs around them.

Mutation run s11dramA (docs/reliability.md, session 11) found the offer step of ``_pair_batch``
never reached with anything but row hits: tests/hw/test_dram_fast_by_hand.py's two-bank runs keep
their queues unsaturated (every burst is queued at its arrival). Here one read alternates between
two banks, so that a full read queue and command queues keep the rest of it, and the requests
behind it, at the offering side while the two banks serve their row: each RD frees a place and
the batch meets the next offer. Only public entry points (``access``), and every case is also run
through ``Dram(plain=True)`` (no closed-form runs), which must give the same commands, completions,
counters and stalls.

The configuration is tests/hw/test_dram_by_hand.py's ``cfg()`` (timings all distinct: tCK 1 ns,
CL 7 (RL 7), CWL 5, tRCD 4, tRP 6, tRAS 11, tRRD_S 2, tCCD_S 5, tCCD_L 7, tWR 9, tWTR_S 3, tWTR_L 8,
tRTP 5, tRTRS 2; burst 4 cycles, so a read's data ends RD + 11; a write completes one cycle after
it is accepted into the write buffer; write low watermark 0: the buffer drains when no read is
queued), without power-down, with mapping ``rochrabacobg``: the bank group is the lowest field, so
the bursts of an address range alternate between "bank A" (bank group 0, bank 0, local bank 0) and
"bank B" (bank group 1, bank 0, local bank 4), burst 2 j in A's column j, 2 j + 1 in B's. Read
queue depth 2 and command queue depth 2 unless said otherwise.

A 16-burst read L at 0: bursts 0 and 2 enter A's command queue, 1 and 3 B's, 4 and 5 the read
queue (A's and B's), 6-15 wait at the offering side. ACT B at 0 (round robin from the bank after
local bank 0), ACT A at tRRD_S 2, RD B at tRCD 4, RD A at max(2 + 4, 4 + tCCD_S 5, bus 4 + 4) = 9;
then the two banks alternate every max(tCCD_S, burst) = 5 (each bank's own tCCD_L 7 < 10): B at
4 + 10 i, A at 9 + 10 i. Each RD serves its bank's head, the bank's read-queue request moves in and
the oldest offer is accepted into the freed read-queue place: burst 6 at 4, 7 at 9, ..., 15 at 49
(the tenth RD). L's last RD is A's at 79: done 90; it waited at the offering side from 0 to the
acceptance of its last burst, 49 (the ``queue_full`` stall).
"""

import simpy

from tests.hw.test_dram import Rig
from tests.hw.test_dram_by_hand import NS, cfg, counts, log
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd
from tlmsim.hw.dram import Dram

R, W = Cmd.READ, Cmd.WRITE


class _Rig(Rig):
    """tests/hw/test_dram.py's Rig with the scheduler chosen (``plain``: no closed-form runs)."""

    def __init__(self, config, plain: bool) -> None:
        self.env, self.rec = simpy.Environment(), Recorder()
        self.dram = Dram(name="dram", env=self.env, recorder=self.rec, config=config, record_commands=True,
                         plain=plain)
        self.done: dict[str, int] = {}


def a2(row: int, bg: int = 0, ba: int = 0, col: int = 0) -> int:
    """The address of a burst under mapping rochrabacobg (1 channel, 1 rank, 4 banks a group,
    8 bursts a row): row, bank, column, bank group from the most significant bit down."""
    return ((((row << 2) | ba) << 3 | col) << 1 | bg) * 64


def run(reqs, **kw) -> Rig:
    """Offer ``reqs`` ((tag, address, arrival ns, command, bursts), ...) in that order through both
    schedulers; the fast one's rig, after checking that the plain one gives the same."""
    config = cfg(powerdown=False, address_mapping="rochrabacobg", **{"read_queue_depth": 2,
                                                                     "command_queue_depth": 2, **kw})
    return both_schedulers(config, reqs)


def both_schedulers(config, reqs) -> Rig:
    """Offer ``reqs`` ((tag, address, arrival ns, command, bursts), ...) in that order through both
    schedulers under ``config``; the fast one's rig, after checking that the plain one gives the same
    command log, completions, counts and queue-full stalls."""
    rigs = []
    for plain in (False, True):
        r = _Rig(config, plain)
        for tag, address, at, cmd, n in reqs:
            r.req(tag, address, at_ps=at * NS, cmd=cmd, nbytes=n * 64)
        r.run()
        rigs.append(r)
    fast, plain = rigs
    assert log(fast) == log(plain)
    assert fast.done == plain.done
    assert counts(fast) == counts(plain)
    assert fast.stall("queue_full") == plain.stall("queue_full")
    return fast


def rds(r: Rig) -> list[tuple[int, int, int, int]]:
    """(cycle, bank group, row, column) of every RD."""
    return [(c, g, row, col) for c, m, _ra, g, _b, row, col in log(r) if m == "RD"]


def pair(n: int, first_b: int = 4, row: int = 0) -> list[tuple[int, int, int, int]]:
    """n RDs alternating B (at first_b + 10 i, column i) and A (5 cycles later, column i)."""
    out = []
    for i in range(n):
        out += [(first_b + 10 * i, 1, row, i), (first_b + 5 + 10 * i, 0, row, i)]
    return out


L = ("L", 0, 0, R, 16)


def test_one_read_over_two_banks_with_full_queues_takes_one_offer_per_rd():
    r = run([L])
    assert rds(r) == pair(8)
    assert r.done == {"L": 90 * NS}
    assert r.stall("queue_full") == 49 * NS
    assert counts(r) == {"reads": 1, "read_bytes": 1024, "busy_ps": 16 * 4 * NS, "act": 2, "rd": 16, "bursts": 16,
                         "row_hits": 14, "row_misses": 2}


def test_offers_go_straight_into_a_command_queue_when_the_read_queue_is_empty():
    # read queue 1, command queue 4: at 0 bursts 0, 2, 4, 6 fill A's command queue, 1, 3, 5, 7 B's,
    # 8 the read queue; 9-15 wait. RDs as in L (B 4 + 10 i, A 9 + 10 i). RD B at 4 frees no read-queue
    # place (B's read queue is empty); RD A at 9 moves 8 in, then 9 goes straight into B's command
    # queue (3 requests, the read queue empty) and 10 into the read queue (A's command queue full
    # again): two offers a pair of RDs, at 9, 19, 29; 15 at 39 -- L's stall 39
    r = run([L], read_queue_depth=1, command_queue_depth=4)
    assert rds(r) == pair(8)
    assert r.done == {"L": 90 * NS}
    assert r.stall("queue_full") == 39 * NS


def q14() -> dict:
    return dict(read_queue_depth=1, command_queue_depth=4)


def test_an_offer_of_another_row_stops_a_two_bank_batch():
    # read queue 1, command queue 4. L' = 13 bursts: A has bursts 0-12 even (columns 0-6), B 1-11
    # odd (columns 0-5). At 0: 0, 2, 4, 6 in A's command queue, 1, 3, 5, 7 in B's, 8 in the read
    # queue. RD B 4, RD A 9 (8 moves in; 9 goes straight into B's queue, 10 into the read queue),
    # B 14, A 19 (10 in; 11 straight to B; 12 into the read queue: L' accepted at 19), B 24, A 29
    # (12 moves in, the read queue empty, B's command queue 7, 9, 11 has room): the offer now is x's
    # first burst, B's row 1: the batch stops there (it would be served as a row-0 hit otherwise);
    # x0 goes straight into B's command queue, x1 (A, row 1) into the read queue.
    # x = 8 bursts from row 1 column 0 of B: x0 B c0, x1 A c1, x2 B c1, ..., x7 A c4.
    # B: RDs 34, 44, 54 (its row-0 bursts 7, 9, 11), then x0 wants row 1: PRE B at 54 + tRTP 5 =
    # 59, taken by RD A (A alone from 54: 59, then 59 + tCCD_L 7 = 66: L' done 77), so 60; ACT B
    # at 66, taken by RD A, so 67; x0's RD at 67 + tRCD 4 = 71, PRE A (for x1) at 66 + 5 = 71 too:
    # the PRE goes first (round robin from the bank after B, the last ACT: A's key 2 x 3 before
    # B's 2 x 7 + 1), RD B 72; ACT A 71 + tRP 6 = 77; B's next RD 72 + 7 = 79, A's at max(77 + 4,
    # 79 + 5) = 84, then alternating every 5 to B 99, A 104; A alone: 111; x done 122.
    # Acceptance: x1 at 29, x2 (straight to B) and x3 at 39, x4 and x5 at 49, x6 and x7 at 59:
    # stalls L' 19 + x 59 = 78
    r = run([("L", 0, 0, R, 13), ("x", a2(1, 1), 0, R, 8)], **q14())
    assert rds(r) == [(4, 1, 0, 0), (9, 0, 0, 0), (14, 1, 0, 1), (19, 0, 0, 1), (24, 1, 0, 2), (29, 0, 0, 2),
                      (34, 1, 0, 3), (39, 0, 0, 3), (44, 1, 0, 4), (49, 0, 0, 4), (54, 1, 0, 5), (59, 0, 0, 5),
                      (66, 0, 0, 6), (72, 1, 1, 0), (79, 1, 1, 1), (84, 0, 1, 1), (89, 1, 1, 2), (94, 0, 1, 2),
                      (99, 1, 1, 3), (104, 0, 1, 3), (111, 0, 1, 4)]
    assert [(c, m, g) for c, m, _ra, g, *_ in log(r) if m != "RD"] == [
        (0, "ACT", 1), (2, "ACT", 0), (60, "PRE", 1), (67, "ACT", 1), (71, "PRE", 0), (77, "ACT", 0)]
    assert r.done == {"L": 77 * NS, "x": 122 * NS}
    assert r.stall("queue_full") == 78 * NS


def test_a_request_of_another_row_moving_in_from_the_read_queue_ends_a_two_bank_batch():
    # read queue 1, command queue 4; L'' = 12 bursts (A and B columns 0-5), then x: one burst of A's
    # row 1. At 19 A's RD moves 10 in, 11 goes straight to B, x into the read queue (L'' and x
    # accepted at 19). At 29 A's RD moves x in: a request of another row in A's command queue, behind
    # 6, 8, 10: the batch ends (its later hits would serve x as a row-0 hit). B 4 + 10 i, A 9 + 10 i
    # to A's 59 (L'' done 70); x: PRE A at 59 + tRTP 5 = 64, ACT 70, RD 74, done 85
    r = run([("L", 0, 0, R, 12), ("x", a2(1, 0), 0, R, 1)], **q14())
    assert rds(r) == pair(6) + [(74, 0, 1, 0)]
    assert [(c, m, g) for c, m, _ra, g, *_ in log(r) if m != "RD"] == [
        (0, "ACT", 1), (2, "ACT", 0), (64, "PRE", 0), (70, "ACT", 0)]
    assert r.done == {"L": 70 * NS, "x": 85 * NS}
    assert r.stall("queue_full") == 38 * NS


def test_a_two_bank_batch_counts_each_banks_row_hits_for_the_row_hit_cap():
    # deep queues (read 32, command 8: nothing waits). L6 = 6 bursts: RD B 4, A 9, B 14, A 19, B 24, A 29 (L6 done 40): A has served 3
    # column commands since its ACT (the batch from 14 serves A's 19 and B's 24: one each). At 30 x
    # (A, row 1) arrives, then y (A, row 0 column 3): x at the head wants another row; with 3 < 4
    # (row_hit_cap) column commands served the PRE waits for the row hits, so y goes first at 29 +
    # tCCD_L 7 = 36 (done 47); then x: PRE A at 36 + tRTP 5 = 41, ACT 47, RD 51, done 62. (Had A's
    # count reached 4, x's PRE at 34 would have gone before y's RD.)
    r = run([("L", 0, 0, R, 6), ("x", a2(1, 0), 30, R, 1), ("y", a2(0, 0, col=3), 30, R, 1)],
            read_queue_depth=32, command_queue_depth=8)
    assert rds(r) == pair(3) + [(36, 0, 0, 3), (51, 0, 1, 0)]
    assert [(c, m, g) for c, m, _ra, g, *_ in log(r) if m != "RD"] == [
        (0, "ACT", 1), (2, "ACT", 0), (41, "PRE", 0), (47, "ACT", 0)]
    assert r.done == {"L": 40 * NS, "y": 47 * NS, "x": 62 * NS}


def test_a_two_bank_batch_on_the_second_channel():
    # two channels (the channel field above the rank and bank: rochrabacobg), L on channel 1 only:
    # its local banks are the global banks 8-15, and the batch must index channel 1's queues by the
    # local bank. The same commands as on channel 0 (test above), logged on channel 1
    config = cfg(powerdown=False, address_mapping="rochrabacobg", read_queue_depth=2, command_queue_depth=2,
                 org={"channels": 2})
    base = 1 << 6  # the channel bit: above bank (2), column (3) and bank group (1)
    rigs = []
    for plain in (False, True):
        r = _Rig(config, plain)
        r.req("L", base * 64, nbytes=16 * 64)
        r.run()
        rigs.append(r)
    fast, plain = rigs
    df = fast.log()
    assert set(df["channel"]) == {1}
    assert rds(fast) == pair(8)
    assert fast.done == {"L": 90 * NS}
    assert fast.stall("queue_full") == 49 * NS
    assert log(fast) == log(plain) and fast.done == plain.done
