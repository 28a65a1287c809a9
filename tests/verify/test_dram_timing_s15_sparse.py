"""The DRAM timing checker's sparse rules (session 15): RD->PRE and WR->PRE judge each PRE
against its own bank's latest RD and WR found by binary search (``_Groups.prev_at``), and
write -> read (tWTR_S/L) looks only at the RDs and WRs of ranks / bank groups that have a
WR. Hand-built log, timings of tests/verify/test_dram_timing_rules.py: AL 1, CWL 5 (WL 6),
burst 4, tRTP 5 (RD->PRE 6), tWR 9 (WR->PRE 19), tWTR_S 3 (WR->RD 13), tWTR_L 8 (18)."""

from tests.verify.test_dram_timing_rules import SPEC, records
from tlmsim.verify.dram_timing import DramCommandChecker, _Groups, check_dram_records

import numpy as np

LOG = [
    (0, "ACT", 0, 0, 0, 0, 1), (1, "ACT", 0, 1, 0, 0, 1), (3, "ACT", 0, 0, 1, 0, 1),
    (10, "WR", 0, 0, 0, 0, 1),  # rank 0's only WR (bank group 0, bank 0)
    (22, "RD", 0, 0, 1, 0, 1),  # other bank group: 22 < 10 + 13 (tWTR_S)
    (25, "PRE", 0, 0, 1, 0, 1),  # its bank's RD at 22: 25 < 22 + 6; no WR in this bank (rank 0's is in another)
    (27, "RD", 0, 0, 0, 0, 1),  # the WR's bank group: 27 < 10 + 18 (tWTR_L), 27 >= 23 (tWTR_S)
    (32, "PRE", 0, 0, 0, 0, 1),  # RD at 27: 32 < 33; WR at 10: 32 >= 10 + 19
    (40, "RD", 0, 1, 0, 0, 1),  # rank 1: no WR in the rank, nothing to judge
    (60, "PRE", 0, 1, 0, 0, 1),  # 60 >= 40 + 6
]

SENTENCES = [
    "cycle 25: PRE at channel 0 rank 0 bankgroup 1 bank 0 breaks AL + tRTP = 6 (previous command at cycle 22)",
    "cycle 32: PRE at channel 0 rank 0 bankgroup 0 bank 0 breaks AL + tRTP = 6 (previous command at cycle 27)",
    "cycle 22: RD at channel 0 rank 0 bankgroup 1 bank 0 breaks WL + burst + tWTR_S = 13 after a write "
    "(previous command at cycle 10)",
    "cycle 27: RD at channel 0 rank 0 bankgroup 0 bank 0 breaks WL + burst + tWTR_L = 18 after a write "
    "(previous command at cycle 10)",
]


def test_pre_and_write_to_read_rules_by_hand():
    assert check_dram_records(records(LOG), SPEC) == SENTENCES


def test_a_write_one_cycle_later_moves_every_write_rule_by_one():
    # the WR at 11: WR->RD needs 24 (tWTR_S) and 29 (tWTR_L): both RDs still early; the PRE at 32
    # of its bank is still clear of WR->PRE (11 + 19 = 30)
    log = [c if c[1] != "WR" else (11, *c[1:]) for c in LOG]
    got = check_dram_records(records(log), SPEC)
    assert [s.replace("cycle 11)", "cycle 10)") for s in got] == SENTENCES


def test_the_write_to_precharge_rule_sees_only_its_own_banks_write():
    # the PRE at 28 instead of 32: 28 < 27 + 6 and 28 < 10 + 19 (its bank's WR); the PRE at 25 of the
    # other bank group is not judged by that WR
    log = [c for c in LOG if c[0] != 32] + [(28, "PRE", 0, 0, 0, 0, 1)]
    got = check_dram_records(records(log), SPEC)
    assert got == [
        SENTENCES[0],
        "cycle 28: PRE at channel 0 rank 0 bankgroup 0 bank 0 breaks AL + tRTP = 6 (previous command at cycle 27)",
        "cycle 28: PRE at channel 0 rank 0 bankgroup 0 bank 0 breaks WL + burst + tWR = 19 (previous command at cycle 10)",
        SENTENCES[2], SENTENCES[3]]


def test_without_a_write_no_write_to_read_sentence():
    log = [c for c in LOG if c[1] != "WR"]
    assert check_dram_records(records(log), SPEC) == SENTENCES[:2]


def test_chunked_checking_agrees():
    rec = records(LOG)
    for size in (1, 2, 3, 4):
        ck = DramCommandChecker(SPEC)
        for i in range(0, len(rec), size):
            ck.feed(rec[i:i + size])
        assert sorted(ck.finish()) == sorted(SENTENCES)


def test_prev_at_is_prev_at_those_positions():
    # two groups (positions 0-3 and 4-7); set positions 1, 2, 5
    g = _Groups(np.arange(8), np.array([0, 0, 0, 0, 1, 1, 1, 1]))
    m = np.zeros(8, dtype=bool)
    m[[1, 2, 5]] = True
    at = np.array([0, 2, 3, 4, 5, 7])
    assert g.prev_at(m, at).tolist() == [-1, 1, 2, -1, -1, 5] == g.prev(m)[at].tolist()
    assert g.prev_at(np.zeros(8, dtype=bool), at).tolist() == [-1] * 6
