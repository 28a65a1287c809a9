"""A channel's starting state by hand (session 14, mutation run s14dram: ``_Chan.__init__``).

Round robin before any request command: the scan starts at the bank after local bank 0 (DRAMsim3's
CommandQueue starts its queue_idx_ at 0 and moves on before it looks), so of two ACTs ready at the
first cycle, the one of local bank 1 goes first, ahead of local bank 4. The configuration is
tests/hw/test_dram_by_hand.py's ``cfg()`` (tCK 1 ns, CL 7, tRCD 4, tRRD_S 2, tCCD_S 5, burst 4
cycles), power-down off; local bank = bank group x 4 + bank: C (0, 1) is 1, B (1, 0) is 4.
"""

from tests.hw.test_dram import Rig, addr
from tests.hw.test_dram_by_hand import NS, cfg
from tests.hw.test_dram_pick_by_hand_s12 import cmds


def test_the_first_round_robin_scan_starts_at_local_bank_1():
    # x (B, row 2) and y (C, row 3), one burst each, offered in that order at 10. Positions from the bank
    # after local bank 0: C (1) at 0, B (4) at 3: ACT C 10; ACT B at max(11, 10 + tRRD_S 2) = 12 (other
    # bank group). RD C at 10 + tRCD 4 = 14, data ends 14 + CL 7 + 4 = 25; RD B at max(12 + 4, 14 +
    # tCCD_S 5, bus 25 - 7) = 19, data ends 30. (Starting after local bank 1 instead: B at 2, C at 7,
    # so B's ACT, RD and end come first.)
    r = Rig(cfg(powerdown=False))
    r.req("x", addr(2, bg=1), at_ps=10 * NS)
    r.req("y", addr(3, ba=1), at_ps=10 * NS)
    r.run()
    assert cmds(r) == [(10, "ACT", 0, 1, 3, -1), (12, "ACT", 1, 0, 2, -1), (14, "RD", 0, 1, 3, 0),
                       (19, "RD", 1, 0, 2, 0)]
    assert r.done == {"y": 25 * NS, "x": 30 * NS}
