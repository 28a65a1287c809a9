"""The DRAM fast path by hand, session 15 (mutation run s15hit: ``Dram._hit_run`` mutants 256-468;
docs/reliability.md, "Session 15: mutHit").

``Dram._hit_run``'s per-RD step (the step that serves banks one RD at a time: the first RD of a
run, and runs of banks that neither the lone-bank batch nor the two-bank batch takes, such as two
banks of one bank group) ends the run after an RD whose refill moves a request of another row into
the bank's command queue; no test reached that end with two banks of one bank group. Same rig as
tests/hw/test_dram_hit_by_hand_s13.py: test_dram_by_hand.py's configuration (tCK 1 ns, RL 7, tRCD 4,
tRP 6, tRAS 11, tRRD_L 3, tCCD_L 7, tRTP 5, burst 4: a read's data ends RD + 11), mapping
rochrababgco (bank A = bank group 0 bank 0, local bank 0; bank C = bank group 0 bank 1, local bank 1),
no power-down; every case runs through both schedulers (``run_default_mapping`` holds the fast one to
``Dram(plain=True)``), and the expected values are worked out by hand in the comments.
"""

from tests.hw.test_dram import addr
from tests.hw.test_dram_by_hand import NS, cfg, counts, log
from tests.hw.test_dram_fast_by_hand_s11 import R, both_schedulers
from tests.hw.test_dram_fast_by_hand_s12 import run_default_mapping


def test_a_request_of_another_row_moving_in_ends_a_run_of_two_banks_of_one_bank_group():
    # (s15hit, _hit_run 357, 358) command queue 1, read queue 8. At 0, in this order: X = A row 0 c0-c1,
    # Y = A row 1 c0, Z = C row 0 c0-c2. x0 fills A's command queue, z0 C's; x1, y0, z1, z2 wait in the
    # read queue. ACT C at 0 (round robin from the bank after local bank 0 puts C before A), ACT A at
    # 0 + tRRD_L 3 = 3. A and C share a bank group, so the run is served RD by RD, every tCCD_L 7: RD z0
    # at 0 + tRCD 4 = 4 (z1 moves in), x0 at max(3 + 4, 4 + 7) = 11 (x1 in), z1 18 (z2 in), x1 25: X
    # done 25 + 11 = 36. That RD moves y0 (row 1) into A's command queue: the run ends there. A's PRE
    # is then due at max(25 + tRTP 5, 3 + tRAS 11) = 30, before z2's RD at 25 + 7 = 32: PRE A 30, RD z2
    # 32 (Z done 43), ACT A row 1 at 30 + tRP 6 = 36, RD y0 at max(36 + 4, 32 + 7) = 40: Y done 51.
    # (A run that went on after x1 would serve z2 first and precharge A only after it: PRE 33.)
    r = run_default_mapping([("X", addr(0, col=0), 0, R, 2), ("Y", addr(1, col=0), 0, R, 1),
                             ("Z", addr(0, ba=1, col=0), 0, R, 3)], read_queue_depth=8, command_queue_depth=1)
    # (cycle, command, bank, row, column); both banks are in bank group 0, rank 0
    assert [(c, m, b, row, col) for c, m, _ra, _g, b, row, col in log(r)] == [
        (0, "ACT", 1, 0, -1), (3, "ACT", 0, 0, -1), (4, "RD", 1, 0, 0), (11, "RD", 0, 0, 0), (18, "RD", 1, 0, 1),
        (25, "RD", 0, 0, 1), (30, "PRE", 0, 0, -1), (32, "RD", 1, 0, 2), (36, "ACT", 0, 1, -1), (40, "RD", 0, 1, 0)]
    assert {g for _c, _m, _ra, g, *_ in log(r)} == {0}
    assert r.done == {"X": 36 * NS, "Z": 43 * NS, "Y": 51 * NS}
    assert counts(r)["row_hits"] == 3 and counts(r)["row_misses"] == 2 and counts(r)["row_conflicts"] == 1


def test_an_offer_into_an_idle_rank_served_earlier_in_the_run_records_that_ranks_activity_first():
    # (s15hit, _hit_run 396-399) two ranks, power-down on (timeout 20), read queue 1, command queue 2.
    # At 0, in this order: A = rank 1 bank D (bank group 0 bank 1) row 0 c0-c2, B = rank 0 bank A
    # (bank group 0 bank 0) row 0 c0-c4, C = rank 1 bank D row 0 c3-c7. a0, a1 fill D's command queue,
    # a2 the read queue; B and C wait at the offering side. ACT D at 0, RD a0 at 0 + tRCD 4 = 4 (a2 moves
    # in; b0 and b1 accepted straight into A's command queue, b2 into the read queue), ACT A at 5 (the
    # command bus is taken at 4). The ranks then alternate every burst 4 + tRTRS 2 = 6 (each bank's own
    # tCCD_L 7 < 12): RD b0 at max(5 + 4, 4 + 6) = 10, a1 16, b1 22 (b2 in; b3 straight in, b4 to the
    # read queue: B's stall 22), a2 28 (A done 28 + 11 = 39; rank 1 has no queued request from here),
    # b2 34 (b4 in). That RD accepts c3 straight into D's empty command queue, then c4, and c5 into the
    # read queue (at 34): rank 1 gets work again inside the run in which it was served, so its
    # activity of that run (a2's data end, 39) is recorded before it is woken (34 <= 39 + 20: no
    # power-down). RD c3 at 40 (c5 in, c6 accepted), b3 46, c4 52 (c6 in, c7 accepted: C's stall 52),
    # b4 58 (B done 69); then D alone every tCCD_L 7: c5 64, c6 71, c7 78 (C done 89)
    r = both_schedulers(cfg(powerdown=True, read_queue_depth=1, command_queue_depth=2, org={"ranks": 2}), [
        ("A", addr(0, ba=1, col=0, rank=1, ranks=2), 0, R, 3), ("B", addr(0, ranks=2), 0, R, 5),
        ("C", addr(0, ba=1, col=3, rank=1, ranks=2), 0, R, 5)])
    # (cycle, command, rank, bank, column); all in bank group 0, row 0
    assert [(c, m, ra, b, col) for c, m, ra, _g, b, _row, col in log(r)] == [
        (0, "ACT", 1, 1, -1), (4, "RD", 1, 1, 0), (5, "ACT", 0, 0, -1), (10, "RD", 0, 0, 0), (16, "RD", 1, 1, 1),
        (22, "RD", 0, 0, 1), (28, "RD", 1, 1, 2), (34, "RD", 0, 0, 2), (40, "RD", 1, 1, 3), (46, "RD", 0, 0, 3),
        (52, "RD", 1, 1, 4), (58, "RD", 0, 0, 4), (64, "RD", 1, 1, 5), (71, "RD", 1, 1, 6), (78, "RD", 1, 1, 7)]
    assert {(g, row) for _c, _m, _ra, g, _b, row, _col in log(r)} == {(0, 0)}
    assert r.done == {"A": 39 * NS, "B": 69 * NS, "C": 89 * NS}
    assert r.stall("queue_full") == (22 + 52) * NS
    assert counts(r)["row_hits"] == 11 and counts(r)["row_misses"] == 2 and "powerdowns" not in counts(r)


def test_a_run_hands_the_log_on_when_it_holds_exactly_a_chunk(monkeypatch):
    # (s15hit, _hit_run 460) a chunk of 2 rows (tests/hw/test_dram_by_hand.py's sorted-chunk tests use 1),
    # each pack handed on at once (_HAND_ROWS 1), no power-down, so the safe cycle is the channel's
    # decision cycle. a (row 0 c0) at 0: ACT 0, RD 4 (a done 15); b (c1) at 50: RD 50 (b done 61), the row
    # still open; c (c2) at 100: RD 100 (c done 111). a's run ends with exactly 2 rows in the lists (0, 4),
    # a chunk: they are packed, but the channel has decided only up to 0, so none goes (they stay packed
    # and no longer count towards a chunk). b's run ends with 1 row in the lists; c's with exactly 2 (50,
    # 100): packed, the rows before c's decision cycle 100 go, [0, 4, 50]. finalize hands on the rest,
    # [100]. (A run that packed only above a chunk, 3 rows, would pack at b's run and hand on [0, 4],
    # then [50, 100] at the end)
    import tlmsim.hw.dram as dram_module
    from tests.hw.test_dram import Rig

    monkeypatch.setattr(dram_module, "_LOG_CHUNK", 2)
    monkeypatch.setattr(dram_module, "_HAND_ROWS", 1)
    chunks = []
    r = Rig(cfg(powerdown=False), record=False)
    r.dram.add_command_sink(lambda rows: chunks.append(rows[:, 0].tolist()))
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=50 * NS)
    r.req("c", addr(0, col=2), at_ps=100 * NS)
    r.run()
    r.dram.finalize(r.env.now)
    assert chunks == [[0, 4, 50], [100]]
    assert r.done == {"a": 15 * NS, "b": 61 * NS, "c": 111 * NS}
