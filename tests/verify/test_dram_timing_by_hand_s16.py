"""The DRAM timing checker's RD->PRE / WR->PRE rules and ``_Groups.prev_at`` (session 15's sparse rules) where
the command measured from is the first of its bank in the checker's order (session 16, mutRun: mutants
``_check`` 250/251, ``prev_at`` 31/41 of tag s16runDT).

Timings of tests/verify/test_dram_timing_rules.py: AL 1, CWL 5 (WL 6), burst 4, tRTP 5, tWR 9, so a PRE needs
AL + tRTP = 1 + 5 = 6 cycles after its bank's latest RD and WL + burst + tWR = 6 + 4 + 9 = 19 after its latest WR.
"""

import numpy as np

from tests.verify.test_dram_timing_rules import C, check, msg
from tlmsim.verify.dram_timing import _Groups


def test_a_pre_is_measured_from_a_read_or_write_that_opens_its_banks_order():
    # two banks in two channels (no rank, bus or command-bus rule between them). In the checker's bank
    # order (bank id, cycle) the RD at 0 is position 0 (channel 0 bank 0: bank id 0), the PRE at 3 position 1;
    # the WR at 1 is position 2, the first of channel 1's bank (bank id (1 x 2 ranks + 0) x 8 = 16), its PRE
    # at 10 position 3. Neither bank was opened by an ACT: both column commands go to a closed bank
    # (no previous command), and both PREs come too early after them:
    #   PRE at 3:  3 - 0 = 3 < 6 (AL + tRTP), measured from the RD at 0
    #   PRE at 10: 10 - 1 = 9 < 19 (WL + burst + tWR), measured from the WR at 1
    log = [C(0, "RD"), C(3, "PRE"), C(1, "WR", ch=1), C(10, "PRE", ch=1)]
    assert check(log) == [
        msg(0, "RD", "RD/WR to a closed bank"),
        msg(1, "WR", "RD/WR to a closed bank", ch=1),
        msg(3, "PRE", "AL + tRTP = 6", 0),
        msg(10, "PRE", "WL + burst + tWR = 19", 1, ch=1),
    ]
    # each PRE at its limit (0 + 6 = 6, 1 + 19 = 20): only the closed-bank sentences remain
    log = [C(0, "RD"), C(6, "PRE"), C(1, "WR", ch=1), C(20, "PRE", ch=1)]
    assert check(log) == [msg(0, "RD", "RD/WR to a closed bank"), msg(1, "WR", "RD/WR to a closed bank", ch=1)]


def test_prev_at_in_one_group_gives_minus_one_before_the_first_set_position():
    # one group (positions 0-3, so _Groups keeps no group starts), the mask set at position 2 only:
    # positions 0 and 1 have no earlier set position (-1), position 3 has 2
    g = _Groups(np.arange(4), np.zeros(4, dtype=np.int64))
    m = np.array([False, False, True, False])
    at = np.array([0, 1, 3])
    assert g.prev_at(m, at).tolist() == [-1, -1, 2] == g.prev(m)[at].tolist()


def test_prev_at_sees_a_set_position_that_starts_its_group():
    # two groups (positions 0-1 and 2-3), the mask set at 0 and 2, each the first position of its group:
    # position 1's latest is 0, position 3's is 2 (its own group's, which starts at 2)
    g = _Groups(np.arange(4), np.array([0, 0, 1, 1]))
    m = np.array([True, False, True, False])
    at = np.array([1, 3])
    assert g.prev_at(m, at).tolist() == [0, 2] == g.prev(m)[at].tolist()
    # the mask set at 0 only: position 3 (group 1) sees nothing of group 0
    m = np.array([True, False, False, False])
    assert g.prev_at(m, at).tolist() == [0, -1] == g.prev(m)[at].tolist()
