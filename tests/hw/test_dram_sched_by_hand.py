"""The DRAM scheduler by hand: when a channel wakes, what it picks, what a command leaves behind.

Each test offers a few requests to a ``Dram`` (through ``access``) and compares the command log,
the completion times and ``stats`` with values worked out by hand in the comments. Only public
entry points (``Dram(plain=True)``, the scheduler without fast paths, is a constructor option).

The configuration is tests/hw/test_dram_by_hand.py's ``cfg()`` (timings all distinct: tCK 1 ns,
CL 7, CWL 5, tRCD 4, tRP 6, tRAS 11, tRRD_S 2, tRRD_L 3, tCCD_S 5, tCCD_L 7, tFAW 16, tWR 9,
tWTR_S 3, tWTR_L 8, tRTP 5, tRTRS 2, tREFI 5000, tRFC 50, tCKE 12, tXP 13, tCKESR 19, tXS 23;
burst 4 cycles, so a read's data ends RD + 11; power-down after 20 idle cycles, self-refresh after
100; 1 rank, 2 bank groups x 4 banks, mapping rochrababgco, 64-byte bursts, 8 per row).

The channel's wake: a read's completion (its SimPy event) fires when the channel handles its last
burst's RD, at max(data end, the wake handling it). Between arrivals the channel sleeps up to a
lower bound of the next completion; a bound too high shows as a completion later than the data end.
"""

import pytest
import simpy

from tests.hw.test_dram import Rig, addr
from tests.hw.test_dram_by_hand import cfg, log
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd
from tlmsim.hw.dram import Dram

NS = 1000


def rig(config, *, plain: bool = False) -> Rig:
    """tests/hw/test_dram.py's Rig; ``plain``: the scheduler without fast paths (open-page row-hit
    reads then go through the general pick and issue, one command at a time)."""
    r = Rig.__new__(Rig)
    r.env, r.rec, r.done = simpy.Environment(), Recorder(), {}
    r.dram = Dram(name="dram", env=r.env, recorder=r.rec, config=config, record_commands=True, plain=plain)
    return r


# -- the channel's wake (Dram._schedule) -----------------------------------------------------------

@pytest.mark.parametrize("tck", [1000, 1])
def test_a_write_waiting_behind_a_full_read_queue_is_done_when_accepted(tck):
    # one-entry read and command queues; a 4-burst read r (bank 0, row 0) and then a one-burst write w
    # (bank 1) offered at 0. Burst 0 goes to the bank queue, burst 1 to the read queue, bursts 2 and 3
    # and w wait at the offering side. ACT 0, RD 4 (burst 0): burst 1 moves to the bank queue, burst 2
    # to the read queue; RD 11 (tCCD_L 7): burst 3 to the read queue and w into the (empty) write
    # buffer, accepted at 11, so w is done at 12 (a write is done one cycle after it enters the buffer).
    # The channel must wake at RD 11 for that: a write waiting at the offering side keeps the wakes at
    # every decision (r alone would let it sleep to a bound of its completion). RDs 18, 25: r ends 36.
    # A wake for cycle c comes at c x tCK + 1 ps (after the requests arriving at c): with tCK 1 ps the
    # wake for RD 11 comes at 12 ps, just when w is done
    r = Rig(cfg(powerdown=False, read_queue_depth=1, command_queue_depth=1, timing={"tck_ps": tck}))
    r.req("r", addr(0), nbytes=256)
    r.req("w", addr(0, ba=1), cmd=Cmd.WRITE)
    r.run()
    assert r.done == {"w": 12 * tck, "r": 36 * tck}
    assert r.cmds("RD") == [4, 11, 18, 25]
    # a transaction waits from its offer to its last burst's acceptance: r's burst 3 and w, both at 11
    assert r.stall("queue_full") == (11 + 11) * tck


@pytest.mark.parametrize("late", [1, 0])
def test_a_read_over_two_channels_ends_on_the_channel_that_slept_longer(late):
    # two channels (rochrababgco: the channel bit above the bank bits, so the burst after channel 0's
    # bank 7 (bank group 1, bank 3) column 7 is channel 1's bank 0 column 0). The other channel
    # (busy = 1 - late) is kept awake by q (its bank 0, row 0) at 90: its rank powered down at 20 (idle
    # since 0), PDX 90, ACT at 90 + tXP 13 = 103, RD 107, q ends 118. The late channel's rank, idle
    # since 0, is in self-refresh from 100 (its precharge power-down before is not logged).
    # x at 120: 5 bursts, 4 on the busy channel (late = 1: channel 0 bank 7 columns 4..7, a new row
    # there: ACT 120, RDs 124, 131, 138, 145, tCCD_L 7 apart, data end 156; late = 0: channel 1 bank 0
    # columns 0..3, hits of q's open row: RDs 120, 127, 134, 141, data end 152) and 1 on the late one:
    # SRX at max(120, 100 + tCKESR 19) = 120, ACT at 120 + tXS 23 = 143, RD 147, data end 158: x is done
    # at 158. The late channel's wake bound counts only its own banks' bursts (counting the busy
    # channel's four would put it at 143 + 3 x tCCD_L = 164).
    r = Rig(cfg(org={"channels": 2}))
    d = r.dram
    start = addr(0, bg=1, ba=3, col=4 if late else 7)
    busy = 1 - late
    assert d.decode(start) == (0, 0, 1, 3, 0, start // 64 % 8)
    assert [d.decode(start + 64 * i)[0] for i in range(5)] == [0] * (1 + 3 * late) + [1] * (1 + 3 * busy)
    q = addr(busy)  # the row field of addr() here is 2 x row + channel
    assert d.decode(q) == (busy, 0, 0, 0, 0, 0)
    r.req("q", q, at_ps=90 * NS)
    r.req("x", start, nbytes=5 * 64, at_ps=120 * NS)
    r.run()
    assert r.done == {"q": 118 * NS, "x": 158 * NS}
    df = r.log()
    got = sorted((int(a), int(b), str(m)) for a, b, m in zip(df["cycle"], df["channel"], df["command"]))
    b = busy
    rds = [(124, b, "RD"), (131, b, "RD"), (138, b, "RD"), (145, b, "RD")] if late else [
        (120, b, "RD"), (127, b, "RD"), (134, b, "RD"), (141, b, "RD")]
    assert got == sorted([(20, b, "PDE"), (90, b, "PDX"), (100, late, "SRE"), (103, b, "ACT"), (107, b, "RD"),
                          (120, late, "SRX"), (143, late, "ACT"), (147, late, "RD")] + rds
                         + ([(120, b, "ACT")] if late else []))


def test_a_row_hit_read_ends_on_time_when_tccd_l_exceeds_the_read_latency():
    # tCCD_L 12 > CL 7 + burst 4: the wake bound's slack (a read's data ends 11 after its RD) is less
    # than one RD spacing, so a bound one RD too high shows. a at 0 opens row 0 (ACT 0, RD 4, ends 15);
    # b (2 bursts, row 0) at 30: RDs 30 and 42 (tCCD_L 12), data end 42 + 11 = 53; the channel sleeps
    # to 30 + (2 - 1) x 12 = 42 (the bound of b's last RD), handles it there, and b is done at 53
    r = Rig(cfg(powerdown=False, timing={"tCCD_L": 12}))
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), nbytes=128, at_ps=30 * NS)
    r.run()
    assert r.done == {"a": 15 * NS, "b": 53 * NS}
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (30, "RD"), (42, "RD")]


@pytest.mark.parametrize("second", [False, True])
def test_a_read_over_two_banks_ends_on_time_when_tccd_l_exceeds_the_read_latency(second):
    # tCCD_L 12 as above. a at 0 opens bank 0's row 0 (ACT 0, RD 4, ends 15). b at 30: 3 bursts, bank 0
    # columns 6 and 7, then bank 4 (bank group 1) column 0. At 30 bank 4's ACT (act rules all past) and
    # bank 0's RD (col rules: 4 + tCCD_L 12 = 16, bus 15 - CL 7) tie; round robin after bank 0 (a's):
    # ACT bank 4 at 30, RD bank 0 at 31 (one command a cycle), RD bank 4 at max(30 + tRCD 4, 31 +
    # tCCD_S 5, bus 31 + 11 - 7 = 35) = 36, RD bank 0 at max(31 + 12, 36 + 5) = 43: b ends 54. The
    # channel sleeps to 30 + the bound of b's last RD: its two bursts in bank 0's row 0, (2 - 1) x 12
    # = 42 (above (3 - 1) bursts x 4 over two bank groups); it handles RD 43 there and b is done at 54.
    # second: c at 30 too, 2 bursts (bank 0 column 7, bank 4 column 0; its bound counts b's bursts in
    # the same rows): bank 4 RD at max(36 + 12, 43 + 5) = 48, bank 0 RD at max(43 + 12, 48 + 5) = 55,
    # c ends 66
    r = Rig(cfg(powerdown=False, timing={"tCCD_L": 12}))
    r.req("a", addr(0))
    r.req("b", addr(0, col=6), nbytes=3 * 64, at_ps=30 * NS)
    if second:
        r.req("c", addr(0, col=7), nbytes=2 * 64, at_ps=30 * NS)
    r.run()
    want = [(0, "ACT", 0, 0, -1), (4, "RD", 0, 0, 0), (30, "ACT", 1, 0, -1), (31, "RD", 0, 0, 6), (36, "RD", 1, 0, 0),
            (43, "RD", 0, 0, 7)]
    if second:
        want += [(48, "RD", 1, 0, 0), (55, "RD", 0, 0, 7)]
    assert [(x[0], x[1], x[3], x[4], x[6]) for x in log(r)] == want
    assert r.done == {"a": 15 * NS, "b": 54 * NS, **({"c": 66 * NS} if second else {})}


def test_a_read_over_three_banks_ends_on_time_when_tccd_l_exceeds_the_read_latency():
    # tCCD_L 12; rows of 2 bursts (16 columns), so x (5 bursts from byte 64) covers bank 0 column 1,
    # bank 4 (bank group 1) columns 0 and 1, bank 1 columns 0 and 1: 3 bursts in bank group 0, 2 in 1.
    # Round robin from bank 1: ACT bank 1 at 0, ACT bank 4 at 0 + tRRD_S 2, ACT bank 0 at max(0 +
    # tRRD_L 3, 2 + 2) = 4; RDs: bank 1 at 5 (the ACT took cycle 4), bank 4 at 5 + tCCD_S 5 = 10,
    # bank 0 at max(5 + 12, 10 + 5) = 17, bank 4 at max(10 + 12, 17 + 5) = 22, bank 1 at max(17 + 12,
    # 22 + 5) = 29: x ends 40. The channel sleeps to the bound of x's last RD: bank group 0's 3 bursts,
    # (3 - 1) x 12 = 24 after its next command (0), above (5 - 1) bursts x 4 and a bank's (2 - 1) x 12
    r = Rig(cfg(powerdown=False, timing={"tCCD_L": 12}, org={"columns": 16}))
    assert [r.dram.decode(64 * i)[2:] for i in range(1, 6)] == [(0, 0, 0, 1), (1, 0, 0, 0), (1, 0, 0, 1),
                                                               (0, 1, 0, 0), (0, 1, 0, 1)]
    r.req("x", 64, nbytes=5 * 64)
    r.run()
    assert [(x[0], x[1], x[3], x[4], x[6]) for x in log(r)] == [
        (0, "ACT", 0, 1, -1), (2, "ACT", 1, 0, -1), (4, "ACT", 0, 0, -1), (5, "RD", 0, 1, 0), (10, "RD", 1, 0, 0),
        (17, "RD", 0, 0, 1), (22, "RD", 1, 0, 1), (29, "RD", 0, 1, 1)]
    assert r.done == {"x": 40 * NS}


# -- what an issued command leaves behind (Dram._issue) ---------------------------------------------

def test_a_refresh_blocks_only_its_own_ranks_banks():
    # two ranks, tREFI 400: rank 0 refreshes at (0 + 1) x 400 / 2 = 200, rank 1 at 400 (both idle,
    # nothing open). a (rank 0) at 405: rank 1's REF blocks rank 1's banks to 400 + tRFC 50 = 450, not
    # rank 0's (free since 250): ACT 405, RD 409, a ends 420
    r = Rig(cfg(powerdown=False, org={"ranks": 2}, timing={"tREFI": 400}))
    r.req("a", addr(0, rank=0, ranks=2), at_ps=405 * NS)
    r.run()
    r.dram.finalize(460 * NS)
    assert [x[:3] for x in log(r)] == [(200, "REF", 0), (400, "REF", 1), (405, "ACT", 0), (409, "RD", 0)]
    assert r.done == {"a": 420 * NS}


def test_hbm_a_column_command_leaves_the_row_bus_free_in_its_cycle():
    # HBM: a row and a column command may share a cycle. a (bank 0) ACT 0; c (bank 4) ACT at 2 (tRRD_S);
    # a's RD ready at 4; b (bank 1, bank group 0) arrives at 4, its ACT ready at max(0 + tRRD_L 3,
    # 2 + tRRD_S 2) = 4. Round robin after bank 4 (c's ACT, the last served): bank 0's RD before bank
    # 1's ACT, both at 4. c's RD at max(2 + tRCD 4, 4 + tCCD_S 5, a's data end 15 - CL 7) = 9; b's RD at
    # max(4 + 4, 4 + tCCD_L 7, 9 + 5, c's data end 20 - 7) = 14. Ends: a 15, c 20, b 25
    r = Rig(cfg(preset="HBM2", powerdown=False))
    r.req("a", addr(0))
    r.req("c", addr(0, bg=1), at_ps=2 * NS)
    r.req("b", addr(0, ba=1), at_ps=4 * NS)
    r.run()
    assert [(x[0], x[1], x[3], x[4]) for x in log(r)] == [(0, "ACT", 0, 0), (2, "ACT", 1, 0), (4, "RD", 0, 0),
                                                         (4, "ACT", 0, 1), (9, "RD", 1, 0), (14, "RD", 0, 1)]
    assert r.done == {"a": 15 * NS, "c": 20 * NS, "b": 25 * NS}


def test_hbm_row_commands_one_cycle_apart_before_a_refresh():
    # HBM, tREFI 100. a (bank 0) and c (bank 4) at 0: round robin from bank 1 reaches bank 4 first: ACT c
    # 0, ACT a 2 (tRRD_S), RD c 4, RD a max(2 + 4, 4 + tCCD_S 5) = 9. The refresh due at 100 closes both
    # rows: PRE bank 0 at 100, PRE bank 4 at 101 (one row command a cycle), REF at 101 + tRP 6 = 107
    r = Rig(cfg(preset="HBM2", powerdown=False, timing={"tREFI": 100}))
    r.req("a", addr(0))
    r.req("c", addr(0, bg=1))
    r.run()
    r.dram.finalize(120 * NS)
    assert [(x[0], x[1], x[3], x[4]) for x in log(r)] == [(0, "ACT", 1, 0), (2, "ACT", 0, 0), (4, "RD", 1, 0),
                                                         (9, "RD", 0, 0), (100, "PRE", 0, 0), (101, "PRE", 1, 0),
                                                         (107, "REF", -1, -1)]
    assert r.done == {"c": 15 * NS, "a": 20 * NS}


@pytest.mark.parametrize("plain", [False, True])
def test_hbm_column_commands_in_consecutive_cycles(plain):
    # HBM with one-cycle bursts (BL2 on 256 bits: 64-byte requests, 8 a row with 16 columns) and tCCD_S 1.
    # a (bank 0) and c (bank 4) at 0: ACT c 0, ACT a 2 (tRRD_S), RD c 4, RD a max(2 + tRCD 4, 4 + 1,
    # c's data end 4 + 7 + 1 - CL 7) = 6. Two hits at 50, one a bank: round robin after bank 0 (the
    # last served): RD bank 4 at 50, RD bank 0 at 51 (the column bus is free again the next cycle; the
    # data bus at 50 + 8 - 7 = 51). Reads end RD + CL 7 + 1
    r = rig(cfg(preset="HBM2", powerdown=False, org={"burst_length": 2, "bus_width_bits": 256, "columns": 16},
                timing={"tCCD_S": 1}), plain=plain)
    assert r.dram.spec.burst_cycles == 1 and r.dram.spec.request_bytes == 64
    r.req("a", addr(0))
    r.req("c", addr(0, bg=1))
    r.req("a2", addr(0, col=1), at_ps=50 * NS)
    r.req("c2", addr(0, bg=1, col=1), at_ps=50 * NS)
    r.run()
    assert [(x[0], x[1], x[3], x[4], x[6]) for x in log(r)] == [
        (0, "ACT", 1, 0, -1), (2, "ACT", 0, 0, -1), (4, "RD", 1, 0, 0), (6, "RD", 0, 0, 0), (50, "RD", 1, 0, 1),
        (51, "RD", 0, 0, 1)]
    assert r.done == {"c": 12 * NS, "a": 14 * NS, "c2": 58 * NS, "a2": 59 * NS}


def test_a_rank_with_another_bank_open_stays_in_active_standby_across_a_precharge():
    # a (bank 0) and c (bank 4) at 0: ACT c 0, ACT a 2, RD c 4, RD a 9 (ends 15, 20). d (bank 0, row 1) at
    # 50: PRE bank 0 at 50, ACT 56, RD 60, ends 71. Bank 4 stays open all along, so the rank is in active
    # standby from 0 to the end (71), also between the PRE and the ACT of bank 0
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0))
    r.req("c", addr(0, bg=1))
    r.req("d", addr(1), at_ps=50 * NS)
    r.run()
    assert [(x[0], x[1], x[3], x[5]) for x in log(r)] == [(0, "ACT", 1, 0), (2, "ACT", 0, 0), (4, "RD", 1, 0),
                                                         (9, "RD", 0, 0), (50, "PRE", 0, 0), (56, "ACT", 0, 1),
                                                         (60, "RD", 0, 1)]
    assert r.done == {"c": 15 * NS, "a": 20 * NS, "d": 71 * NS}
    assert r.dram.background_cycles() == {"active_standby": 71, "precharge_standby": 0, "active_powerdown": 0,
                                          "precharge_powerdown": 0, "self_refresh": 0}


def test_a_read_after_a_written_back_write_goes_to_the_device():
    # w (2 bursts, bank 0 row 0 columns 0 and 1) at 0: in the write buffer at 0 (done at 1), drained at
    # once (no read queued, low watermark 0): ACT 0, WR 4, WR 11 (tCCD_L 7). r reads column 1 at 50: the
    # write has left the buffer, so no forwarding: a row hit, RD at 50 (tWTR_L: 11 + CWL 5 + 4 + 8 = 28
    # is past), ends 61
    r = Rig(cfg(powerdown=False))
    r.req("w", addr(0), cmd=Cmd.WRITE, nbytes=128)
    r.req("r", addr(0, col=1), at_ps=50 * NS)
    r.run()
    assert [(x[0], x[1], x[6]) for x in log(r)] == [(0, "ACT", -1), (4, "WR", 0), (11, "WR", 1), (50, "RD", 1)]
    assert r.done == {"w": 1 * NS, "r": 61 * NS}
    c = r.dram.stats.c
    assert (c["wr"], c["rd"], c["bursts"], c["row_hits"], c["row_misses"], c["forwarded_reads"]) == (2, 1, 3, 2, 1, 0)
    assert c["busy_ps"] == 3 * 4 * NS  # 3 bursts of 4 cycles on the data bus


def test_the_rank_is_idle_from_a_writes_recovery_end():
    # w at 0: in the buffer at 0 (done at 1), drained at once: ACT 0, WR 4, data 4 + CWL 5 .. 13; the rank
    # is busy to the write recovery's end 13 + tWR 9 = 22 and powers down 20 idle cycles later, at 42
    # (active power-down: the row stays open) to the end at 100
    r = Rig(cfg())
    r.req("w", addr(0), cmd=Cmd.WRITE)
    r.run()
    r.dram.finalize(100 * NS)
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "WR"), (42, "PDE")]
    assert r.done == {"w": 1 * NS}
    assert r.dram.background_cycles()["active_powerdown"] == 100 - 42


@pytest.mark.parametrize("plain", [False, True])
def test_a_conflict_precharge_waits_for_additive_latency_plus_trtp(plain):
    # AL 3 (RL = AL + CL = 10). a (row 0) and b (row 1, same bank) at 0: ACT 0, RD a 4 (tRCD), ends
    # 4 + 10 + 4 = 18; PRE at max(ACT + tRAS 11, RD + AL 3 + tRTP 5 = 12) = 12, ACT 18, RD 22, b ends 36
    r = rig(cfg(powerdown=False, timing={"AL": 3}), plain=plain)
    r.req("a", addr(0))
    r.req("b", addr(1))
    r.run()
    assert [(x[0], x[1], x[5]) for x in log(r)] == [(0, "ACT", 0), (4, "RD", 0), (12, "PRE", 0), (18, "ACT", 1),
                                                   (22, "RD", 1)]
    assert r.done == {"a": 18 * NS, "b": 36 * NS}


# -- what the scheduler picks (Dram._pick) ------------------------------------------------------------

def test_a_refresh_closes_only_its_own_ranks_rows():
    # two ranks, tREFI 400: rank 0 refreshes at 200 (nothing open), rank 1 at 400. a (rank 0) at 300:
    # ACT 300, RD 304, ends 315; its row stays open: rank 1's refresh at 400 neither closes it nor waits
    # for it (REF at 400); rank 0's next refresh, due 600, closes it: PRE 600, REF 606
    r = Rig(cfg(powerdown=False, org={"ranks": 2}, timing={"tREFI": 400}))
    r.req("a", addr(0, rank=0, ranks=2), at_ps=300 * NS)
    r.run()
    r.dram.finalize(700 * NS)
    assert [x[:3] for x in log(r)] == [(200, "REF", 0), (300, "ACT", 0), (304, "RD", 0), (400, "REF", 1),
                                       (600, "PRE", 0), (606, "REF", 0)]
    assert r.done == {"a": 315 * NS}


def test_another_rank_is_served_while_one_waits_for_its_refresh():
    # two ranks, tREFI 400: rank 0's refresh is due at 200. x (rank 0, row 0) at 195: ACT 195, RD 199,
    # ends 210. At 201 x2 (rank 0, row 1: waits for the refresh) and y (rank 1). Rank 0: PRE at
    # max(195 + tRAS 11, 199 + tRTP 5) = 206, REF 212, blocked to 212 + tRFC 50 = 262: x2's ACT 262, RD
    # 266, ends 277. Rank 1 goes on meanwhile: ACT 201 (tRRD is per rank), RD at max(201 + tRCD 4, x's
    # data end 210 + tRTRS 2 - CL 7) = 205, ends 216
    r = Rig(cfg(powerdown=False, org={"ranks": 2}, timing={"tREFI": 400}))
    r.req("x", addr(0, rank=0, ranks=2), at_ps=195 * NS)
    r.req("x2", addr(1, rank=0, ranks=2), at_ps=201 * NS)
    r.req("y", addr(0, rank=1, ranks=2), at_ps=201 * NS)
    r.run()
    assert [x[:3] for x in log(r)] == [(195, "ACT", 0), (199, "RD", 0), (201, "ACT", 1), (205, "RD", 1),
                                       (206, "PRE", 0), (212, "REF", 0), (262, "ACT", 0), (266, "RD", 0)]
    assert r.done == {"x": 210 * NS, "y": 216 * NS, "x2": 277 * NS}


def test_a_tie_between_two_ranks_refresh_commands_goes_to_the_lower_rank():
    # two ranks, tREFI 400 (rank 0 due 200, rank 1 due 400), tRAS 250. y (rank 1) at 184: ACT 184, RD 188,
    # ends 199; x (rank 0) at 190: ACT 190, RD at max(194, y's data end 199 + tRTRS 2 - CL 7) = 194, ends
    # 205. Rank 0's refresh waits for its PRE at 190 + 250 = 440; rank 1's: PRE at max(184 + 250, 400) =
    # 434, REF ready at 434 + tRP 6 = 440. The tie at 440 goes to rank 0's PRE, rank 1's REF at 441 (one
    # command a cycle); rank 0's REF at 440 + 6 = 446
    r = Rig(cfg(powerdown=False, org={"ranks": 2}, timing={"tREFI": 400, "tRAS": 250}))
    r.req("y", addr(0, rank=1, ranks=2), at_ps=184 * NS)
    r.req("x", addr(0, rank=0, ranks=2), at_ps=190 * NS)
    r.run()
    r.dram.finalize(520 * NS)
    assert [x[:3] for x in log(r)] == [(184, "ACT", 1), (188, "RD", 1), (190, "ACT", 0), (194, "RD", 0),
                                       (434, "PRE", 1), (440, "PRE", 0), (441, "REF", 1), (446, "REF", 0)]
    assert r.done == {"y": 199 * NS, "x": 205 * NS}


def test_a_tie_between_a_refresh_and_the_other_ranks_precharge_goes_to_the_lower_rank():
    # as above (tREFI 400, tRAS 250), the other way round: x (rank 0) at 190: ACT 190, RD 194, ends 205;
    # y (rank 1) at 196: ACT 196, RD at max(200, x's data end 205 + tRTRS 2 - CL 7) = 200, ends 211.
    # Rank 0: PRE at 190 + 250 = 440, REF ready at 446; rank 1 (due 400): PRE ready at 196 + 250 = 446.
    # The tie at 446 goes to rank 0's REF; rank 1's PRE at 447, its REF at 453
    r = Rig(cfg(powerdown=False, org={"ranks": 2}, timing={"tREFI": 400, "tRAS": 250}))
    r.req("x", addr(0, rank=0, ranks=2), at_ps=190 * NS)
    r.req("y", addr(0, rank=1, ranks=2), at_ps=196 * NS)
    r.run()
    r.dram.finalize(520 * NS)
    assert [x[:3] for x in log(r)] == [(190, "ACT", 0), (194, "RD", 0), (196, "ACT", 1), (200, "RD", 1),
                                       (440, "PRE", 0), (446, "REF", 0), (447, "PRE", 1), (453, "REF", 1)]
    assert r.done == {"x": 205 * NS, "y": 211 * NS}
