"""The session-17 checker (the tWTR rule over the windows of the WRs only, the power intervals
found by one search, the gathers skipped for a time-sorted log of one rank or one channel) gives
the same sentences as session 16's (a frozen copy, tests/verify/_dram_timing_s16.py) on random
logs full of violations: sorted and unsorted, one or several ranks and channels, DDR4 and HBM, with
``from_cycle``, and through the streaming checker in small chunks."""

import numpy as np
import pytest

from tests.verify import _dram_timing_s16 as ref
from tests.verify.test_dram_timing_rules import SPEC
from tlmsim.platform.dram import DramConfig
from tlmsim.verify.dram_timing import DramCommandChecker, check_dram_records

HBM = DramConfig.model_validate({"preset": "HBM2"}).resolve()


def random_log(spec, seed: int, n: int, *, ranks: int, channels: int, sort: bool, power: float = 0.02,
               span: int = 6) -> np.ndarray:
    """``n`` rows, about ``span`` cycles apart at most, mostly RDs and WRs, of the first ``ranks``
    ranks of the first ``channels`` channels; power events at ``power`` of the rows."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.integers(0, span, n))
    code = rng.choice(9, n, p=[0.06, 0.06, 0.71 - power, 0.15, 0.02] + [power / 4] * 4)
    ch = rng.integers(0, channels, n)
    ra = rng.integers(0, ranks, n)
    b = rng.integers(0, spec.banks_per_rank, n)
    rank_cmd = code >= 4
    gb = (ch * spec.ranks + ra) * spec.banks_per_rank + np.where(rank_cmd, 0, b)
    row = np.where(rank_cmd, -1, rng.integers(0, 3, n))
    rec = np.stack([t, ch, gb, code, row, np.zeros(n, np.int64)], axis=1).astype(np.int64)
    if not sort:
        rec = rec[rng.permutation(n)]
    return rec


CASES = [(r, c, s) for r in (1, 2) for c in (1, 2) for s in (True, False)]


@pytest.mark.parametrize("ranks,channels,sort", CASES)
@pytest.mark.parametrize("seed", range(3))
def test_the_same_sentences_as_session_16(ranks, channels, sort, seed):
    for spec in (SPEC, HBM):
        rec = random_log(spec, seed, 3000, ranks=ranks, channels=channels, sort=sort)
        for kw in ({}, {"from_cycle": int(np.median(rec[:, 0]))}, {"end_cycle": int(rec[:, 0].max()) + 1}):
            want = ref.check_dram_records(rec, spec, limit=100000, **kw)
            assert want  # the logs are full of violations
            assert check_dram_records(rec, spec, limit=100000, **kw) == want


@pytest.mark.parametrize("ranks,channels", [(1, 1), (2, 2)])
def test_the_streaming_checker_gives_session_16s_sentences(ranks, channels):
    rec = random_log(SPEC, 7, 4000, ranks=ranks, channels=channels, sort=True, power=0.004, span=30)
    new, old = DramCommandChecker(SPEC, limit=100000), ref.DramCommandChecker(SPEC, limit=100000)
    for i in range(0, len(rec), 97):
        new.feed(rec[i:i + 97])
        old.feed(rec[i:i + 97])
    assert new.finish() == old.finish() and len(old.finish()) > 10


def test_power_intervals_with_cycles_too_large_for_one_key():
    """The second half of the log 2**61 cycles later: the power rules' (rank, cycle) key would
    overflow, so each exit's interval is searched alone; the same sentences."""
    rec = random_log(SPEC, 3, 2000, ranks=2, channels=2, sort=True, power=0.1)
    rec[1000:, 0] += 1 << 61
    want = ref.check_dram_records(rec, SPEC, limit=100000)
    assert any("tXP" in v for v in want)
    assert check_dram_records(rec, SPEC, limit=100000) == want


def _rows(*cmds):
    """Integer rows in the order given (not sorted): (cycle, command code, bank group) of
    channel 0, rank 0, bank 0 of the group, row 0."""
    return np.array([(t, 0, bg * SPEC.banks_per_group, code, 0, 0) for t, code, bg in cmds], dtype=np.int64)


RD, WR = 2, 3


def test_two_rows_listed_out_of_time_order_are_judged_in_time_order():
    # a WR at 2 listed after an RD at 10: the RD is 8 cycles after the WR's start, inside
    # WL 6 + burst 4 + tWTR_S 3 (and tWTR_L 8)
    got = check_dram_records(_rows((10, RD, 0), (2, WR, 1)), SPEC, limit=100)
    assert got == ref.check_dram_records(_rows((10, RD, 0), (2, WR, 1)), SPEC, limit=100)
    assert any("tWTR_S = 13 after a write (previous command at cycle 2)" in v for v in got)


def test_a_log_whose_first_row_is_its_earliest_but_unsorted():
    # WR 0, RD 40, WR 30 as listed: in time order the RD's latest WR is the one at 30 (40 < 43)
    rec = _rows((0, WR, 1), (40, RD, 0), (30, WR, 1))
    got = check_dram_records(rec, SPEC, limit=100)
    assert got == ref.check_dram_records(rec, SPEC, limit=100)
    assert any("tWTR_S = 13 after a write (previous command at cycle 30)" in v for v in got)


@pytest.mark.parametrize("shift", [-(10**6), 1 << 62])
def test_power_intervals_with_negative_cycles_or_a_span_of_2_to_the_62(shift):
    """One channel, two ranks: the log's second half moved by ``shift`` cycles (negative cycles
    before the first half; or 2**62 after it, where the two ranks' (rank, cycle) key would need
    63 bits): the same sentences."""
    rec = random_log(SPEC, 5, 2000, ranks=2, channels=1, sort=True, power=0.1)
    rec[1000:, 0] += shift
    rec = rec[np.argsort(rec[:, 0], kind="stable")]
    want = ref.check_dram_records(rec, SPEC, limit=100000)
    assert any("tXP" in v for v in want)
    assert check_dram_records(rec, SPEC, limit=100000) == want
