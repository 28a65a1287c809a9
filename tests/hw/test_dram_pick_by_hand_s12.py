"""The DRAM scheduler's choice among the banks' candidates by hand (session 12): ``Dram._pick``'s keys (and, at
the end, the request queue's runs of bursts, ``_Req.run``, and write merges in ``_fill``).

Each bank offers one command; the one ready earliest issues, and at one cycle the key orders them:
refresh commands first, then aged requests (waiting ``starvation_cycles`` or more at the command's
cycle) oldest first, then round robin over the banks from the one after the bank served last (a
bank's PRE before its row hit), then the adaptive page's idle precharges. These tests make two
candidates ready at the same cycle and check which one the log shows first, through ``access`` and the
command log only, with every cycle worked out by hand in the comments.

The configuration is tests/hw/test_dram_by_hand.py's ``cfg()`` (timings all distinct: tCK 1 ns, CL 7,
CWL 5, tRCD 4, tRP 6, tRAS 11 (tRC 17), tRRD_S 2, tRRD_L 3, tCCD_S 5, tCCD_L 7, tFAW 16, tWR 9,
tWTR_S 3, tWTR_L 8, tRTP 5, tRTRS 2, tREFI 5000, tRFC 50; burst 4 cycles, so a read's data ends RD +
11 and the next RD of the rank may issue 11 - 7 = 4 cycles after it as far as the data bus goes; 1
channel, 1 rank, 2 bank groups x 4 banks, mapping rochrababgco, 8 bursts of 64 bytes a row), power-down
off unless said. Banks are named by (bank group, bank): A (0, 0), B (1, 0), C (0, 1), D (1, 1); their
local index is bank group x 4 + bank (A 0, B 4, C 1, D 5, (1, 3) is 7), and round robin starts at the
bank after the last one a request command (ACT, PRE, RD, WR) was issued for: position (bank - last - 1)
mod 8, lowest first.
"""

from tests.hw.test_dram import Rig, addr
from tests.hw.test_dram_by_hand import NS, cfg, log
from tlmsim.engine.transaction import Cmd


def cmds(r: Rig) -> list[tuple[int, str, int, int, int, int]]:
    """(cycle, command, bank group, bank, row, column) of every logged command."""
    return [(c, m, g, b, ro, co) for c, m, _ra, g, b, ro, co in log(r)]


# -- aging: an aged request's command before a younger aged one's, whatever their kinds --------------

def test_an_aged_act_goes_before_a_younger_aged_rd_of_the_same_cycle():
    # starvation 1: a command is aged once its request has waited 1 cycle at the command's cycle.
    # a (A row 0 column 5) at 30: ACT A 30 (not aged: 30 < 30 + 1), RD 34, data ends 45.
    # b at 36, 3 bursts: b0 A row 1 column 7, b1 and b2 B row 1 columns 0 and 1. ACT B at max(36, 30 +
    # tRRD_S 2) = 36; RD B b1 at max(36 + tRCD 4, 34 + tCCD_S 5, bus 45 - 7) = 40 (data ends 51). A's PRE
    # for b0 at max(ACT 30 + tRAS 11, RD 34 + tRTP 5) = 41. Then two aged commands are ready at 47: A's
    # ACT for b0 (max(41 + tRP 6, 30 + tRC 17) = 47) and B's RD b2 (max(40 + tCCD_L 7, 40 + 5, bus 51 -
    # 7) = 47): b0 is older (offered first): ACT A 47, RD B 48, then RD A b0 at max(47 + 4, 48 + 5, bus
    # 59 - 7) = 53, b ends 53 + 11 = 64
    r = Rig(cfg(powerdown=False, starvation_cycles=1))
    r.req("a", addr(0, col=5), at_ps=30 * NS)
    r.req("b", addr(1, col=7), nbytes=3 * 64, at_ps=36 * NS)
    r.run()
    assert cmds(r) == [(30, "ACT", 0, 0, 0, -1), (34, "RD", 0, 0, 0, 5), (36, "ACT", 1, 0, 1, -1),
                       (40, "RD", 1, 0, 1, 0), (41, "PRE", 0, 0, 0, -1), (47, "ACT", 0, 0, 1, -1),
                       (48, "RD", 1, 0, 1, 1), (53, "RD", 0, 0, 1, 7)]
    assert r.done == {"a": 45 * NS, "b": 64 * NS}


def test_an_aged_pre_goes_before_a_younger_aged_rd_of_the_same_cycle():
    # starvation 1. a (C row 1 columns 2-4) at 18: ACT C 18, RD 22 (data ends 33). b at 25: b0 C row 0
    # column 7, b1 and b2 D row 0 columns 0 and 1. ACT D at max(25, 18 + tRRD_S 2) = 25. At 29 a1's RD
    # (max(22 + tCCD_L 7, bus 33 - 7)) and b1's (D: 25 + tRCD 4) tie, both aged: a1 older, RD C 29 (data
    # 36-40); RD D b1 at max(29 + tCCD_S 5, bus 40 - 7) = 34; RD C a2 at max(29 + 7, 34 + 5, bus 45 - 7)
    # = 39: a ends 50. Now C's head is b0 (row 0, none of C's queue hits row 1): its PRE at max(18 +
    # tRAS 11, 39 + tRTP 5) = 44, aged; D's RD b2 at max(39 + 5, 34 + 7, bus 50 - 7) = 44, aged too:
    # b0 is older, PRE C 44, RD D 45; ACT C at 44 + tRP 6 = 50, RD C 54, b ends 54 + 11 = 65
    r = Rig(cfg(powerdown=False, starvation_cycles=1))
    r.req("a", addr(1, ba=1, col=2), nbytes=3 * 64, at_ps=18 * NS)
    r.req("b", addr(0, ba=1, col=7), nbytes=3 * 64, at_ps=25 * NS)
    r.run()
    assert cmds(r) == [(18, "ACT", 0, 1, 1, -1), (22, "RD", 0, 1, 1, 2), (25, "ACT", 1, 1, 0, -1),
                       (29, "RD", 0, 1, 1, 3), (34, "RD", 1, 1, 0, 0), (39, "RD", 0, 1, 1, 4),
                       (44, "PRE", 0, 1, 1, -1), (45, "RD", 1, 1, 0, 1), (50, "ACT", 0, 1, 0, -1),
                       (54, "RD", 0, 1, 0, 7)]
    assert r.done == {"a": 50 * NS, "b": 65 * NS}


def test_an_aged_rd_goes_before_a_younger_aged_act_of_the_same_cycle():
    # starvation 1, tREFI 120: REF at 120 blocks the rank to 120 + tRFC 50 = 170; x (A), y (C), z (B),
    # one burst each, offered in that order at 130, so every command from 170 on is aged. ACT A 170 (x,
    # oldest); C (bank group 0 too) waits for tRRD_L: 173, B only for tRRD_S: ACT B 172 (z). At 174
    # x's RD (170 + tRCD 4) and y's ACT (max(170 + 3, 172 + 2)) are ready: x is older, RD A 174, ACT C
    # 175; RD B z at max(172 + 4, 174 + tCCD_S 5, bus 185 - 7) = 179, RD C y at max(175 + 4, 174 +
    # tCCD_L 7, 179 + 5) = 184. Ends: x 185, z 190, y 195
    r = Rig(cfg(powerdown=False, starvation_cycles=1, timing={"tREFI": 120}))
    r.req("x", addr(0), at_ps=130 * NS)
    r.req("y", addr(0, ba=1), at_ps=130 * NS)
    r.req("z", addr(0, bg=1), at_ps=130 * NS)
    r.run()
    assert cmds(r) == [(120, "REF", -1, -1, -1, -1), (170, "ACT", 0, 0, 0, -1), (172, "ACT", 1, 0, 0, -1),
                       (174, "RD", 0, 0, 0, 0), (175, "ACT", 0, 1, 0, -1), (179, "RD", 1, 0, 0, 0),
                       (184, "RD", 0, 1, 0, 0)]
    assert r.done == {"x": 185 * NS, "z": 190 * NS, "y": 195 * NS}


def test_a_command_ready_at_its_aging_cycle_is_aged():
    # starvation 1. a (B row 1 column 3) at 0: ACT B 0, RD B 4 (data ends 15). b (bank group 0 bank 3
    # "G", local 3; row 0 columns 3, 4) at 4: G's ACT is ready at 4 but not aged (4 < 4 + 1), and a's
    # aged RD takes cycle 4. c (bank group 1 bank 3 "H", local 7; row 1 columns 5, 6) at 5: H's ACT
    # ready at max(5, 0 + tRRD_L 3) = 5, not aged (5 < 6); G's ACT at 5 is aged exactly at its aging
    # cycle 4 + 1 = 5, so it goes first (by round robin after B, served last, H would: H is at position
    # (7 - 5) mod 8 = 2, G at (3 - 5) mod 8 = 6). ACT G 5, ACT H max(6, 5 + tRRD_S 2) = 7; RD G b0
    # max(5 + tRCD 4, 4 + tCCD_S 5, bus 15 - 7) = 9; RD H c0 max(7 + 4, 9 + 5, 4 + tCCD_L 7, bus 20 - 7)
    # = 14; RD G b1 max(9 + 7, 14 + 5, bus 25 - 7) = 19; RD H c1 max(14 + 7, 19 + 5, bus 30 - 7) = 24.
    # Ends: a 15, b 30, c 35
    r = Rig(cfg(powerdown=False, starvation_cycles=1))
    r.req("a", addr(1, bg=1, col=3), at_ps=0)
    r.req("b", addr(0, ba=3, col=3), nbytes=2 * 64, at_ps=4 * NS)
    r.req("c", addr(1, bg=1, ba=3, col=5), nbytes=2 * 64, at_ps=5 * NS)
    r.run()
    assert cmds(r) == [(0, "ACT", 1, 0, 1, -1), (4, "RD", 1, 0, 1, 3), (5, "ACT", 0, 3, 0, -1),
                       (7, "ACT", 1, 3, 1, -1), (9, "RD", 0, 3, 0, 3), (14, "RD", 1, 3, 1, 5),
                       (19, "RD", 0, 3, 0, 4), (24, "RD", 1, 3, 1, 6)]
    assert r.done == {"a": 15 * NS, "b": 30 * NS, "c": 35 * NS}


def test_a_pre_ready_at_its_aging_cycle_is_aged():
    # starvation 5. b at 2: b0 bank group 1 bank 2 ("F", local 6) row 0 column 7, b1 and b2 G (bank
    # group 0 bank 3, local 3) row 0 columns 0, 1; aged from 2 + 5 = 7. Round robin from bank 1 (none
    # served yet): G at position 2, F at 5: ACT G 2, ACT F 2 + tRRD_S 2 = 4, RD G b1 2 + tRCD 4 = 6
    # (data ends 17); RD F b0 max(4 + 4, 6 + tCCD_S 5, bus 17 - 7) = 11 (ends 22); RD G b2 max(6 + tCCD_L
    # 7, 11 + 5, bus 22 - 7) = 16: b ends 27. a at 16 (aged from 21): a0, a1 G row 1 columns 6, 7, a2
    # bank group 1 bank 3 ("H") row 1 column 0; H's ACT (ready at 16, not aged, after the aged RD G)
    # 17. G's head a0 wants row 1 and nothing of G's queue hits row 0: its PRE at max(ACT 2 + tRAS 11,
    # RD 16 + tRTP 5) = 21, exactly its aging cycle, so aged; H's RD a2 at max(17 + 4, 16 + 5, 11 + 7,
    # bus 27 - 7) = 21, aged too: a0 is older, PRE G 21, RD H 22 (ends 33); ACT G max(21 + tRP 6, 2 +
    # tRC 17) = 27, RD G a0 max(27 + 4, 22 + 5, bus 33 - 7) = 31, a1 31 + 7 = 38: a ends 49
    r = Rig(cfg(powerdown=False, starvation_cycles=5))
    r.req("a", addr(1, ba=3, col=6), nbytes=3 * 64, at_ps=16 * NS)
    r.req("b", addr(0, bg=1, ba=2, col=7), nbytes=3 * 64, at_ps=2 * NS)
    r.run()
    assert cmds(r) == [(2, "ACT", 0, 3, 0, -1), (4, "ACT", 1, 2, 0, -1), (6, "RD", 0, 3, 0, 0),
                       (11, "RD", 1, 2, 0, 7), (16, "RD", 0, 3, 0, 1), (17, "ACT", 1, 3, 1, -1),
                       (21, "PRE", 0, 3, 0, -1), (22, "RD", 1, 3, 1, 0), (27, "ACT", 0, 3, 1, -1),
                       (31, "RD", 0, 3, 1, 6), (38, "RD", 0, 3, 1, 7)]
    assert r.done == {"b": 27 * NS, "a": 49 * NS}


# -- round robin: positions from the bank after the one served last -----------------------------------

def test_round_robin_puts_an_act_at_position_6_before_a_row_hit_at_position_7():
    # d (F: bank group 1 bank 2, local 6; row 0 columns 2, 3) at 0: ACT F 0, RD F 4 (data ends 15); its
    # second RD ready at max(4 + tCCD_L 7, bus 15 - 7) = 11. c (D: bank group 1 bank 1, local 5; row 0
    # column 3) at 11: D's ACT ready at max(11, 0 + tRRD_L 3) = 11. Round robin from the bank after F
    # (6, served last): D at position (5 - 7) mod 8 = 6, its ACT keyed 2 x 6 = 12; F at 7, its RD keyed
    # 2 x 7 + 1 = 15: ACT D 11, RD F 12 (ends 23); RD D max(11 + tRCD 4, 12 + tCCD_L 7, bus 23 - 7) = 19,
    # ends 30
    r = Rig(cfg(powerdown=False))
    r.req("d", addr(0, bg=1, ba=2, col=2), nbytes=2 * 64)
    r.req("c", addr(0, bg=1, ba=1, col=3), at_ps=11 * NS)
    r.run()
    assert cmds(r) == [(0, "ACT", 1, 2, 0, -1), (4, "RD", 1, 2, 0, 2), (11, "ACT", 1, 1, 0, -1),
                       (12, "RD", 1, 2, 0, 3), (19, "RD", 1, 1, 0, 3)]
    assert r.done == {"d": 23 * NS, "c": 30 * NS}


def test_round_robin_puts_a_row_hit_at_position_5_before_an_act_at_position_6():
    # x (H: bank group 1 bank 3, local 7; row 0, 2 bursts) at 0: ACT H 0, RD H 4 (data ends 15). z (C:
    # bank group 0 bank 1, local 1) at 5: ACT C max(5, 0 + tRRD_S 2) = 5, RD C max(5 + tRCD 4, 4 +
    # tCCD_S 5, bus 15 - 7) = 9 (ends 20). H's second RD ready at max(4 + tCCD_L 7, 9 + 5, bus 20 - 7) =
    # 14; y (A, local 0) at 14: ACT A ready at max(14, 5 + tRRD_L 3) = 14. Round robin from the bank
    # after C (1, served last): H at position 5, its RD keyed 2 x 5 + 1 = 11; A at 6, its ACT keyed 12:
    # RD H 14 (ends 25), ACT A 15, RD A max(15 + 4, 14 + 5, 9 + tCCD_L 7, bus 25 - 7) = 19, ends 30
    r = Rig(cfg(powerdown=False))
    r.req("x", addr(0, bg=1, ba=3), nbytes=2 * 64)
    r.req("z", addr(0, ba=1), at_ps=5 * NS)
    r.req("y", addr(0), at_ps=14 * NS)
    r.run()
    assert cmds(r) == [(0, "ACT", 1, 3, 0, -1), (4, "RD", 1, 3, 0, 0), (5, "ACT", 0, 1, 0, -1),
                       (9, "RD", 0, 1, 0, 0), (14, "RD", 1, 3, 0, 1), (15, "ACT", 0, 0, 0, -1),
                       (19, "RD", 0, 0, 0, 0)]
    assert r.done == {"z": 20 * NS, "x": 25 * NS, "y": 30 * NS}


def test_round_robin_puts_a_younger_row_hit_at_position_6_before_a_row_hit_at_position_7():
    # x (H, local 7; row 0) at 0: ACT H 0, RD H 4 (data ends 15). u (H row 1) and v (H row 0 columns 1,
    # 2) at 5: H's head u wants another row; v is a younger hit and goes first (u's PRE waits: fewer
    # than row_hit_cap 4 column commands since the ACT): RD H v0 max(4 + tCCD_L 7, bus 15 - 7) = 11 (ends
    # 22). w (A, local 0) at 14: ACT A 14 (tRRD_S long past). At 18 A's RD (max(14 + tRCD 4, 11 + tCCD_S
    # 5, bus 22 - 7)) and H's hit v1 (11 + 7) are ready; round robin from the bank after A (0, served
    # last): H at position 6, its hit keyed 2 x 6 + 1 = 13; A at 7, its RD keyed 15: RD H 18 (ends 29),
    # RD A max(19, 18 + 5, bus 29 - 7) = 23 (ends 34). u's PRE at max(0 + tRAS 11, 18 + tRTP 5, 23 + 1)
    # = 24 (the RD A took 23), ACT H max(24 + tRP 6, 0 + tRC 17) = 30, RD H u 34, ends 45
    r = Rig(cfg(powerdown=False))
    r.req("x", addr(0, bg=1, ba=3))
    r.req("u", addr(1, bg=1, ba=3), at_ps=5 * NS)
    r.req("v", addr(0, bg=1, ba=3, col=1), nbytes=2 * 64, at_ps=5 * NS)
    r.req("w", addr(0), at_ps=14 * NS)
    r.run()
    assert cmds(r) == [(0, "ACT", 1, 3, 0, -1), (4, "RD", 1, 3, 0, 0), (11, "RD", 1, 3, 0, 1),
                       (14, "ACT", 0, 0, 0, -1), (18, "RD", 1, 3, 0, 2), (23, "RD", 0, 0, 0, 0),
                       (24, "PRE", 1, 3, 0, -1), (30, "ACT", 1, 3, 1, -1), (34, "RD", 1, 3, 1, 0)]
    assert r.done == {"x": 15 * NS, "v": 29 * NS, "w": 34 * NS, "u": 45 * NS}


def test_round_robin_puts_a_row_hit_at_position_5_before_a_younger_row_hit_at_position_6():
    # x (A row 0) at 0: ACT A 0, RD A 4 (data ends 15). u (A row 1) and v (A row 0 columns 1, 2) at 5:
    # the younger hit v goes before u's PRE: RD A v0 max(4 + tCCD_L 7, bus 15 - 7) = 11 (ends 22). w (H:
    # bank group 1 bank 3, local 7) at 14: ACT H 14; z (C, local 1) at 16: ACT C max(16, 14 + tRRD_S 2,
    # 0 + tRRD_L 3) = 16. At 18 H's RD (max(14 + tRCD 4, 11 + tCCD_S 5, bus 22 - 7)) and A's hit v1 (11
    # + 7) are ready; round robin from the bank after C (1, served last): H at position 5, its RD keyed 2
    # x 5 + 1 = 11; A at 6, its hit keyed 13: RD H 18 (ends 29). At 23 A's v1 (max(18 + 5, bus 29 - 7))
    # and C's RD (max(16 + 4, 18 + 5, 11 + 7)) tie; after H (7) A is at position 0, C at 1: RD A v1 23
    # (ends 34); RD C max(23 + tCCD_L 7, bus 34 - 7) = 30 (ends 41). u's PRE at max(0 + tRAS 11, 23 +
    # tRTP 5) = 28, before it; ACT A max(28 + tRP 6, 0 + tRC 17, 16 + 3) = 34, RD A u max(34 + 4, 30 + 5,
    # 30 + 7, bus 41 - 7) = 38, ends 49
    r = Rig(cfg(powerdown=False))
    r.req("x", addr(0))
    r.req("u", addr(1), at_ps=5 * NS)
    r.req("v", addr(0, col=1), nbytes=2 * 64, at_ps=5 * NS)
    r.req("w", addr(0, bg=1, ba=3), at_ps=14 * NS)
    r.req("z", addr(0, ba=1), at_ps=16 * NS)
    r.run()
    assert cmds(r) == [(0, "ACT", 0, 0, 0, -1), (4, "RD", 0, 0, 0, 0), (11, "RD", 0, 0, 0, 1),
                       (14, "ACT", 1, 3, 0, -1), (16, "ACT", 0, 1, 0, -1), (18, "RD", 1, 3, 0, 0),
                       (23, "RD", 0, 0, 0, 2), (28, "PRE", 0, 0, 0, -1), (30, "RD", 0, 1, 0, 0),
                       (34, "ACT", 0, 0, 1, -1), (38, "RD", 0, 0, 1, 0)]
    assert r.done == {"x": 15 * NS, "w": 29 * NS, "v": 34 * NS, "z": 41 * NS, "u": 49 * NS}


def test_round_robin_puts_a_younger_row_hit_at_position_5_before_an_act_at_position_6():
    # x (H, local 7; row 0) at 0: ACT H 0, RD H 4 (data ends 15). u (H row 1) and v (H row 0 columns 1,
    # 2) at 5: RD H v0 max(4 + tCCD_L 7, bus 15 - 7) = 11 (ends 22). z (C, local 1) at 13: ACT C 13, RD
    # C max(13 + tRCD 4, 11 + tCCD_S 5, bus 22 - 7) = 17 (ends 28). At 22 H's hit v1 (max(11 + 7, 17 +
    # 5, bus 28 - 7)) and the ACT of w (A, local 0; offered at 22; max(22, 13 + tRRD_L 3)) are ready;
    # round robin from the bank after C (1, served last): H at position 5, its hit keyed 2 x 5 + 1 = 11;
    # A at 6, its ACT keyed 12: RD H 22 (ends 33), ACT A 23. At 27 u's PRE (max(0 + tRAS 11, 22 + tRTP
    # 5)) and A's RD (max(23 + 4, 22 + 5, 17 + 7, bus 33 - 7)) are ready; from the bank after A (0): H
    # at position 6, its PRE keyed 12; A at 7, its RD keyed 15: PRE H 27, RD A 28 (ends 39); ACT H max(27
    # + tRP 6, 0 + tRC 17) = 33, RD H u max(33 + 4, 28 + 5, bus 39 - 7) = 37, ends 48
    r = Rig(cfg(powerdown=False))
    r.req("x", addr(0, bg=1, ba=3))
    r.req("u", addr(1, bg=1, ba=3), at_ps=5 * NS)
    r.req("v", addr(0, bg=1, ba=3, col=1), nbytes=2 * 64, at_ps=5 * NS)
    r.req("z", addr(0, ba=1), at_ps=13 * NS)
    r.req("w", addr(0), at_ps=22 * NS)
    r.run()
    assert cmds(r) == [(0, "ACT", 1, 3, 0, -1), (4, "RD", 1, 3, 0, 0), (11, "RD", 1, 3, 0, 1),
                       (13, "ACT", 0, 1, 0, -1), (17, "RD", 0, 1, 0, 0), (22, "RD", 1, 3, 0, 2),
                       (23, "ACT", 0, 0, 0, -1), (27, "PRE", 1, 3, 0, -1), (28, "RD", 0, 0, 0, 0),
                       (33, "ACT", 1, 3, 1, -1), (37, "RD", 1, 3, 1, 0)]
    assert r.done == {"x": 15 * NS, "z": 28 * NS, "v": 33 * NS, "w": 39 * NS, "u": 48 * NS}


# -- a younger row hit and the aged head's PRE ---------------------------------------------------------

def test_a_younger_hit_ready_at_the_heads_aging_cycle_waits_for_the_pre():
    # starvation 5, tRAS 13 (tRC 19). x (A row 0) at 0: ACT A 0, RD A 4 (data ends 15). u (A row 1) and
    # v (A row 0 column 1) at 6: u is aged from 6 + 5 = 11. v's RD would be ready at max(4 + tCCD_L 7,
    # bus 15 - 7) = 11, u's aging cycle: an aged head stops the younger hits from then on, so v waits.
    # u's PRE at max(0 + tRAS 13, 4 + tRTP 5) = 13, ACT A row 1 max(13 + tRP 6, 0 + tRC 19) = 19, RD A u
    # 23 (ends 34); then v's row 0 again: PRE max(19 + 13, 23 + 5) = 32, ACT max(32 + 6, 19 + 19) = 38,
    # RD 42, v ends 53
    r = Rig(cfg(powerdown=False, starvation_cycles=5, timing={"tRAS": 13}))
    r.req("x", addr(0))
    r.req("u", addr(1), at_ps=6 * NS)
    r.req("v", addr(0, col=1), at_ps=6 * NS)
    r.run()
    assert cmds(r) == [(0, "ACT", 0, 0, 0, -1), (4, "RD", 0, 0, 0, 0), (13, "PRE", 0, 0, 0, -1),
                       (19, "ACT", 0, 0, 1, -1), (23, "RD", 0, 0, 1, 0), (32, "PRE", 0, 0, 1, -1),
                       (38, "ACT", 0, 0, 0, -1), (42, "RD", 0, 0, 0, 1)]
    assert r.done == {"x": 15 * NS, "u": 34 * NS, "v": 53 * NS}


# -- the adaptive page's idle precharges ---------------------------------------------------------------

def test_two_idle_precharges_ready_at_one_cycle_go_in_bank_order():
    # adaptive page, timeout 2. w (a write to A) at 0 drains at once (low watermark 0, no read queued):
    # ACT A 0, WR A 4, its data 4 + CWL 5 .. 13, so A may precharge from 13 + tWR 9 = 22; A is idle from
    # the WR: its precharge at max(4 + 2, 22) = 22. r (D: bank group 1 bank 1, local 5) at 11: ACT D 11,
    # RD D max(11 + tRCD 4, 13 + tWTR_S 3) = 16 (ends 27); D's idle precharge at max(16 + 2, 11 + tRAS
    # 11, 16 + tRTP 5) = 22 too. One command a cycle, the lower bank first: PRE A 22, PRE D 23
    r = Rig(cfg(powerdown=False, page_policy="adaptive", page_timeout_cycles=2))
    r.req("w", addr(0), cmd=Cmd.WRITE)
    r.req("r", addr(0, bg=1, ba=1), at_ps=11 * NS)
    r.run()
    assert cmds(r) == [(0, "ACT", 0, 0, 0, -1), (4, "WR", 0, 0, 0, 0), (11, "ACT", 1, 1, 0, -1),
                       (16, "RD", 1, 1, 0, 0), (22, "PRE", 0, 0, 0, -1), (23, "PRE", 1, 1, 0, -1)]
    assert r.done == {"w": 1 * NS, "r": 27 * NS}


def test_an_idle_precharge_of_one_rank_while_the_other_waits_for_its_refresh():
    # two ranks (rank is the field above the banks: local bank = rank x 8 + bank group x 4 + bank),
    # adaptive page, timeout 18, tREFI 200: rank 0's refresh is due at (0 + 1) x 200 / 2 = 100, rank 1's
    # at 200. y (rank 1, C: local 9) at 80: ACT 80, RD 84 (data ends 95), idle: its precharge at max(84
    # + 18, 80 + tRAS 11, 84 + tRTP 5) = 102. x (rank 0, A: local 0) at 95: ACT 95, RD max(95 + tRCD 4,
    # bus 95 + tRTRS 2 - 7) = 99 (ends 110). From 100 rank 0 takes no new command: its open A is
    # precharged at max(95 + 11, 99 + 5) = 106, then REF at max(106 + tRP 6, 95 + tRC 17) = 112; rank 1's
    # idle precharge is not held up by rank 0's refresh: PRE at 102
    r = Rig(cfg(powerdown=False, page_policy="adaptive", page_timeout_cycles=18, timing={"tREFI": 200},
                org={"ranks": 2}))
    r.req("y", addr(0, ba=1, rank=1, ranks=2), at_ps=80 * NS)
    r.req("x", addr(0, rank=0, ranks=2), at_ps=95 * NS)
    r.run()
    r.dram.finalize(150 * NS)
    assert [x[:2] + x[3:] for x in log(r)] == [(80, "ACT", 0, 1, 0, -1), (84, "RD", 0, 1, 0, 0),
                                               (95, "ACT", 0, 0, 0, -1), (99, "RD", 0, 0, 0, 0),
                                               (102, "PRE", 0, 1, 0, -1), (106, "PRE", 0, 0, 0, -1),
                                               (112, "REF", -1, -1, -1, -1)]
    assert [x[2] for x in log(r)] == [1, 1, 0, 0, 1, 0, 0]
    assert r.done == {"y": 95 * NS, "x": 110 * NS}


def test_an_idle_precharge_due_at_the_power_down_entry_gives_way_to_it():
    # adaptive page, timeout 31, power-down after 20 idle cycles. a (A) at 0: ACT 0, RD 4, data ends 15:
    # the rank is idle from 15, power-down entry at 35; A's idle precharge would be at 4 + 31 = 35, the
    # same cycle: the rank powers down first, with the row open (active power-down to the end at 100)
    r = Rig(cfg(page_policy="adaptive", page_timeout_cycles=31))
    r.req("a", addr(0))
    r.run()
    r.dram.finalize(100 * NS)
    assert cmds(r) == [(0, "ACT", 0, 0, 0, -1), (4, "RD", 0, 0, 0, 0), (35, "PDE", -1, -1, -1, -1)]
    assert r.dram.background_cycles()["active_powerdown"] == 65


def test_an_idle_precharge_past_the_power_down_entry_does_not_stop_an_earlier_one():
    # adaptive page, timeout 31, power-down after 20 idle cycles. b (B, local 4) at 0: ACT B 0, RD B 4
    # (data ends 15). a (A, local 0) at 10: ACT A 10, RD A max(10 + tRCD 4, 4 + tCCD_S 5, bus 15 - 7) =
    # 14, data ends 25: the rank is idle from 25, power-down entry at 45. A's idle precharge would be at
    # 14 + 31 = 45, not before the entry: skipped; B's at 4 + 31 = 35 is before it: PRE B 35, and the
    # rank is busy again to 35 (entry now 55). A's at 45 is before 55: PRE A 45; precharge power-down at
    # 45 + 20 = 65. Active standby 0-45 (a row open), precharge standby 45-65, precharge power-down 65-100
    r = Rig(cfg(page_policy="adaptive", page_timeout_cycles=31))
    r.req("b", addr(0, bg=1))
    r.req("a", addr(0), at_ps=10 * NS)
    r.run()
    r.dram.finalize(100 * NS)
    assert cmds(r) == [(0, "ACT", 1, 0, 0, -1), (4, "RD", 1, 0, 0, 0), (10, "ACT", 0, 0, 0, -1),
                       (14, "RD", 0, 0, 0, 0), (35, "PRE", 1, 0, 0, -1), (45, "PRE", 0, 0, 0, -1),
                       (65, "PDE", -1, -1, -1, -1)]
    assert r.dram.background_cycles() == {"active_standby": 45, "precharge_standby": 20, "active_powerdown": 0,
                                          "precharge_powerdown": 35, "self_refresh": 0}


# -- the request queue: runs of bursts (``_Req.run``) ---------------------------------------------------

def test_the_bursts_of_a_run_are_numbered_in_offer_order_for_aging():
    # starvation 1. a (C row 1 columns 2-4, one run of 3 bursts) at 19: ACT C 19, RD C a0 23 (data ends
    # 34; aged, before D's unaged ACT). b at 23: b0 C row 0 column 7, then b1-b3 D row 0 columns 0-2 (a
    # run of 3 bursts, numbered after b0: b0 is older than b3). ACT D 24; RD D b1 max(24 + tRCD 4, 23 +
    # tCCD_S 5, bus 34 - 7) = 28; RD C a1 max(23 + tCCD_L 7, 28 + 5, bus 39 - 7) = 33; RD D b2 max(28 + 7,
    # 33 + 5, bus 44 - 7) = 38; RD C a2 max(33 + 7, 38 + 5, bus 49 - 7) = 43: a ends 54. C's PRE for b0
    # at max(19 + tRAS 11, 43 + tRTP 5) = 48 and D's RD b3 at max(38 + 7, 43 + 5, bus 54 - 7) = 48, both
    # aged: b0 is older, PRE C 48, RD D 49; ACT C max(48 + tRP 6, 19 + tRC 17) = 54, RD C b0 max(54 + 4,
    # 49 + 5, bus 60 - 7) = 58, b ends 69
    r = Rig(cfg(powerdown=False, starvation_cycles=1))
    r.req("a", addr(1, ba=1, col=2), nbytes=3 * 64, at_ps=19 * NS)
    r.req("b", addr(0, ba=1, col=7), nbytes=4 * 64, at_ps=23 * NS)
    r.run()
    assert cmds(r) == [(19, "ACT", 0, 1, 1, -1), (23, "RD", 0, 1, 1, 2), (24, "ACT", 1, 1, 0, -1),
                       (28, "RD", 1, 1, 0, 0), (33, "RD", 0, 1, 1, 3), (38, "RD", 1, 1, 0, 1),
                       (43, "RD", 0, 1, 1, 4), (48, "PRE", 0, 1, 1, -1), (49, "RD", 1, 1, 0, 2),
                       (54, "ACT", 0, 1, 0, -1), (58, "RD", 0, 1, 0, 7)]
    assert r.done == {"a": 54 * NS, "b": 69 * NS}


def test_reads_of_both_bursts_of_a_buffered_two_burst_write_are_forwarded():
    # w (A columns 0, 1: one run of two bursts), then r (A column 1) and r0 (A column 0), at 0: w's
    # bursts go into the write buffer (w done at 0 + 1) and drain at once (low watermark 0): ACT A 0, WR
    # 4, WR 4 + tCCD_L 7 = 11. r's burst address is w's second, r0's its first: both served from the
    # buffer, done at 1 with no RD (two forwarded reads)
    r = Rig(cfg(powerdown=False))
    r.req("w", addr(0), nbytes=2 * 64, cmd=Cmd.WRITE)
    r.req("r", addr(0, col=1))
    r.req("r0", addr(0))
    r.run()
    assert cmds(r) == [(0, "ACT", 0, 0, 0, -1), (4, "WR", 0, 0, 0, 0), (11, "WR", 0, 0, 0, 1)]
    assert r.done == {"w": 1 * NS, "r": 1 * NS, "r0": 1 * NS}
    assert r.dram.stats.c["forwarded_reads"] == 2


def test_two_writes_merge_with_one_in_the_buffer():
    # three one-burst writes to A column 2 at 0: the first enters the write buffer and drains at once
    # (low watermark 0): ACT A 0, WR 4; the other two find its address still buffered (until its WR)
    # and merge with it: two merges, one WR, each write done at 0 + 1
    r = Rig(cfg(powerdown=False))
    for tag in ("w1", "w2", "w3"):
        r.req(tag, addr(0, col=2), cmd=Cmd.WRITE)
    r.run()
    assert cmds(r) == [(0, "ACT", 0, 0, 0, -1), (4, "WR", 0, 0, 0, 2)]
    assert r.done == {"w1": 1 * NS, "w2": 1 * NS, "w3": 1 * NS}
    c = r.dram.stats.c
    assert (c["merged_writes"], c["wr"], c["write_drains"], c["writes"]) == (2, 1, 1, 3)


def test_a_drain_starts_in_the_fill_that_stops_at_a_full_read_queue():
    # read queue 1, command queues 1, write buffer 4, high watermark 2, low watermark 1. c (B row 1
    # columns 4-6) at 0: c0 into B's queue, c1 into the read queue, c2 waits at the offering side; ACT B
    # 0, RD B c0 4 (ends 15). a (a write, C columns 4, 5) and b (A columns 3, 4) at 1 wait behind c2. At
    # the RD at 4 c1 moves into B's queue and the offers go on: c2 into the read queue, a0 and a1 into
    # the write buffer (a done at 5), then b0 finds the read queue full and the offers stop there; the
    # buffer holds 2 = the high watermark: a drain starts at once (C's queue takes a0). ACT C max(5, 0 +
    # tRRD_S 2) = 5; RD B c1 max(4 + tCCD_L 7, bus 15 - 7) = 11 (ends 22); WR C a0 max(5 + tRCD 4, 11 +
    # tCCD_S 5, bus 22 + tRTRS 2 - CWL 5) = 19 (data 24-28): a1 moves into C's queue, the drain is done,
    # c2 moves into B's queue and b0 (offered) into A's, b1 into the read queue. ACT A max(20, 5 + tRRD_L
    # 3) = 20; WR C a1 max(19 + 7, bus 28 - 5) = 26 (data 31-35); RD B c2 max(11 + 7, 26 + 5, bus 35 +
    # 2 - 7, 35 + tWTR_S 3) = 38 (ends 49); RD A b0 max(20 + 4, 38 + 5, 35 + tWTR_L 8, bus 49 - 7) = 43;
    # RD A b1 max(43 + 7, bus 54 - 7) = 50: b ends 61
    r = Rig(cfg(powerdown=False, read_queue_depth=1, command_queue_depth=1, write_queue_depth=4,
                write_high_watermark=2, write_low_watermark=1))
    r.req("c", addr(1, bg=1, col=4), nbytes=3 * 64)
    r.req("a", addr(0, ba=1, col=4), nbytes=2 * 64, cmd=Cmd.WRITE, at_ps=1 * NS)
    r.req("b", addr(0, col=3), nbytes=2 * 64, at_ps=1 * NS)
    r.run()
    assert cmds(r) == [(0, "ACT", 1, 0, 1, -1), (4, "RD", 1, 0, 1, 4), (5, "ACT", 0, 1, 0, -1),
                       (11, "RD", 1, 0, 1, 5), (19, "WR", 0, 1, 0, 4), (20, "ACT", 0, 0, 0, -1),
                       (26, "WR", 0, 1, 0, 5), (38, "RD", 1, 0, 1, 6), (43, "RD", 0, 0, 0, 3),
                       (50, "RD", 0, 0, 0, 4)]
    assert r.done == {"a": 5 * NS, "c": 49 * NS, "b": 61 * NS}
    assert r.dram.stats.c["write_drains"] == 1
