"""The session-26 checker's shortcuts give session 16's sentences (the frozen copy,
tests/verify/_dram_timing_s16.py) on random logs full of violations:

* a log already in (cycle, priority) order, or in (cycle, power event first) order, as the DRAM
  model hands its rows on, is not sorted again (``_Log.by_time_then`` returns the time order);
  nor are data bursts already in order of their start, or command-bus keys already ascending;
* the per-rank rules order only the ACTs and the column commands by rank (``_by_rank``), not
  every row;
* a row's rank, bank group and bank are looked up by global bank when every global bank is in
  range, else computed (a log with global banks out of range);
* the streaming checker picks its context rows (the last ACT, PRE, RD and WR of every bank) by one
  key, bank and command, instead of one pass per command."""

import numpy as np
import pytest

from tests.verify import _dram_timing_s16 as ref
from tests.verify.test_dram_timing_rules import SPEC
from tests.verify.test_dram_timing_s17_logpath import HBM, random_log
from tlmsim.verify.dram_timing import (
    CODES,
    DramCommandChecker,
    _Log,
    check_dram_records,
)

ACT, PRE, REF = CODES.index("ACT"), CODES.index("PRE"), CODES.index("REF")


def _prio(code: np.ndarray) -> np.ndarray:
    """The checker's order within a cycle: PRE 0, REF 1, ACT 2, the rest 3."""
    return np.select([code == PRE, code == REF, code == ACT], [0, 1, 2], 3)


def by_cycle_then_priority(rec: np.ndarray) -> np.ndarray:
    return rec[np.lexsort((_prio(rec[:, 3]), rec[:, 0]))]


def by_cycle_power_first(rec: np.ndarray) -> np.ndarray:
    return rec[np.lexsort((rec[:, 3] < 5, rec[:, 0]))]


@pytest.mark.parametrize("ranks,channels", [(1, 1), (2, 1), (2, 2)])
@pytest.mark.parametrize("seed", range(3))
def test_a_log_in_priority_order_is_not_sorted_again_and_judged_the_same(ranks, channels, seed):
    for spec in (SPEC, HBM):
        rec = by_cycle_then_priority(random_log(spec, seed, 3000, ranks=ranks, channels=channels, sort=True,
                                                power=0.0))
        log = _Log.from_records(rec, spec)
        assert log.by_time_then(_prio(log.cmd.code), 4) is log.by_time  # the shortcut is taken
        for kw in ({}, {"from_cycle": int(np.median(rec[:, 0]))}, {"end_cycle": int(rec[:, 0].max()) + 1}):
            want = ref.check_dram_records(rec, spec, limit=100000, **kw)
            assert len(want) > 10
            assert check_dram_records(rec, spec, limit=100000, **kw) == want


@pytest.mark.parametrize("ranks,channels", [(1, 1), (2, 2)])
@pytest.mark.parametrize("seed", range(3))
def test_a_log_with_power_events_first_in_their_cycle_is_judged_the_same(ranks, channels, seed):
    rec = by_cycle_power_first(random_log(SPEC, seed, 3000, ranks=ranks, channels=channels, sort=True, power=0.1))
    log = _Log.from_records(rec, SPEC)
    pw = log.cmd.code >= 5
    assert log.by_time_then((~pw).astype(np.int64), 2) is log.by_time
    want = ref.check_dram_records(rec, SPEC, limit=100000)
    assert any("powered down" in v for v in want) and any("tXP" in v for v in want)
    assert check_dram_records(rec, SPEC, limit=100000) == want


def test_a_log_out_of_priority_order_is_sorted():
    rec = random_log(SPEC, 4, 500, ranks=1, channels=1, sort=True, power=0.0)
    log = _Log.from_records(rec, SPEC)
    prio = _prio(log.cmd.code)
    order = log.by_time_then(prio, 4)
    assert order is not log.by_time
    assert np.array_equal(order, np.lexsort((prio, log.t)))


@pytest.mark.parametrize("beyond", [-3, 0, 5])
def test_global_banks_out_of_range_are_split_by_arithmetic(beyond):
    """Some rows name a global bank below 0, the one just past the last, or beyond: the fields
    computed as before."""
    rec = random_log(SPEC, 5, 2000, ranks=2, channels=1, sort=True)
    n_gb = SPEC.channels * SPEC.ranks * SPEC.banks_per_rank
    rec[::50, 2] = beyond if beyond < 0 else n_gb + beyond
    new, old = _Log.from_records(rec, SPEC), ref._Log.from_records(rec, SPEC)
    for name in ("ra", "bg", "ba", "rank_id", "bank_id"):
        assert np.array_equal(getattr(new, name), getattr(old, name)), name
    assert check_dram_records(rec, SPEC, limit=100000) == ref.check_dram_records(rec, SPEC, limit=100000)


def test_table_lookup_equals_arithmetic_for_every_global_bank():
    """HBM2 (8 channels, 16 banks each) and DDR4 (2 ranks): each global bank's rank, bank group and bank."""
    for spec in (SPEC, HBM):
        n_gb = spec.channels * spec.ranks * spec.banks_per_rank
        gb = np.arange(n_gb, dtype=np.int64)
        rec = np.stack([gb, gb // (spec.ranks * spec.banks_per_rank), gb, np.full(n_gb, 2), gb % 3,
                        np.zeros(n_gb, np.int64)], axis=1)
        new, old = _Log.from_records(rec, spec), ref._Log.from_records(rec, spec)
        for name in ("ra", "bg", "ba", "bank_id"):
            assert np.array_equal(getattr(new, name), getattr(old, name)), name


@pytest.mark.parametrize("ranks,channels,chunk", [(1, 1, 97), (2, 2, 61), (2, 1, 400)])
def test_the_streaming_checker_keeps_the_same_context_and_sentences(ranks, channels, chunk):
    rec = by_cycle_then_priority(random_log(SPEC, 11, 4000, ranks=ranks, channels=channels, sort=True,
                                            power=0.004, span=30))
    new, old = DramCommandChecker(SPEC, limit=100000), ref.DramCommandChecker(SPEC, limit=100000)
    for i in range(0, len(rec), chunk):
        new.feed(rec[i:i + chunk])
        old.feed(rec[i:i + chunk])
        assert np.array_equal(new.ctx, old.ctx)
    assert new.finish() == old.finish() and len(old.finish()) > 10


@pytest.mark.parametrize("ranks,channels", [(1, 1), (2, 1), (2, 2)])
def test_a_log_of_reads_only_has_its_data_bursts_in_order_and_is_judged_the_same(ranks, channels):
    """Every column command an RD: the data bursts start in command order (no sort for the
    data-bus rule); its violations (tCCD, the data bus, ...) as session 16 words them."""
    rec = random_log(SPEC, 8, 3000, ranks=ranks, channels=channels, sort=True, power=0.0)
    rec[rec[:, 3] == CODES.index("WR"), 3] = CODES.index("RD")
    want = ref.check_dram_records(rec, SPEC, limit=100000)
    assert any("data bus" in v for v in want) and any("tCCD" in v for v in want)
    assert check_dram_records(rec, SPEC, limit=100000) == want
