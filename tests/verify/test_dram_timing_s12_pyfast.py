"""The DRAM timing checker's grouping (session 12 rewrite: per-bank and per-rank rules in
sorted "order space", one-key shortcuts for a single rank or channel, the refresh rules
vectorised per rank): the same log judged alone in one rank and channel, and next to
legal traffic of another rank and another channel, gives the same hand-written sentences;
a refresh is judged by the banks of its own rank only; chunked checking agrees.

Timings of tests/verify/test_dram_timing_rules.py: tRCD 4, tRP 6, tRAS 11, tRFC 50,
AL 1, CL 7 (RL 8), tRTP 5."""

from tests.verify.test_dram_timing_rules import SPEC, records
from tlmsim.verify.dram_timing import DramCommandChecker, check_dram_records


def rank0(ch=0, dt=0):
    """Channel ``ch``, rank 0: a read 3 cycles after its ACT (tRCD 4), a REF with that bank
    still open, the bank closed, a legal REF at 40 (PRE at 30 + tRP 6 <= 40) and an ACT
    at 80, inside its tRFC (40 + 50 = 90)."""
    return [(0 + dt, "ACT", ch, 0, 0, 0, 1), (3 + dt, "RD", ch, 0, 0, 0, 1), (20 + dt, "REF", ch, 0, 0, 0, 0),
            (30 + dt, "PRE", ch, 0, 0, 0, 1), (40 + dt, "REF", ch, 0, 0, 0, 0), (80 + dt, "ACT", ch, 0, 1, 2, 3)]


def rank1():
    """Channel 0, rank 1, legal: a bank open from 10 to 60 (across rank 0's REF at 40),
    then closed and refreshed at 70 (PRE + tRP = 66)."""
    return [(10, "ACT", 0, 1, 0, 0, 2), (25, "RD", 0, 1, 0, 0, 2), (60, "PRE", 0, 1, 0, 0, 2),
            (70, "REF", 0, 1, 0, 0, 0)]


def sentences(ch=0, dt=0):
    return [f"cycle {3 + dt}: RD at channel {ch} rank 0 bankgroup 0 bank 0 breaks tRCD = 4 (previous command at cycle {dt})",
            f"cycle {20 + dt}: REF at channel {ch} rank 0 with a bank still open",
            f"cycle {80 + dt}: ACT at channel {ch} rank 0 during a refresh (tRFC = 50)"]


def test_one_rank_alone():
    assert check_dram_records(records(rank0()), SPEC) == sentences()


def test_another_ranks_open_bank_does_not_stop_a_refresh():
    # rank 1's bank is open at rank 0's REF at 40: no violation; rank 1's own REF is legal
    assert check_dram_records(records(rank0() + rank1()), SPEC) == sentences()


def test_a_refresh_sees_its_own_ranks_open_bank_in_a_two_rank_log():
    early = [c for c in rank1() if c[1] != "REF"] + [(41, "REF", 0, 1, 0, 0, 0)]  # rank 1: REF with a bank open
    assert check_dram_records(records(rank0() + early), SPEC) == sentences()[:2] + [
        "cycle 41: REF at channel 0 rank 1 with a bank still open", sentences()[2]]


def test_two_channels_and_two_ranks_each_judged_alone():
    log = records(rank0() + rank1() + rank0(ch=1, dt=1000))
    a, b = sentences(), sentences(ch=1, dt=1000)
    # rule by rule (tRCD, then the refresh rules in time order)
    assert check_dram_records(log, SPEC) == [a[0], b[0], a[1], a[2], b[1], b[2]]


def test_chunked_checking_gives_the_same_sentences():
    log = records(rank0() + rank1() + rank0(ch=1, dt=1000))
    for size in (1, 2, 3, 5):
        ck = DramCommandChecker(SPEC)
        for i in range(0, len(log), size):
            ck.feed(log[i:i + size])
        assert sorted(ck.finish()) == sorted(check_dram_records(log, SPEC)), size
