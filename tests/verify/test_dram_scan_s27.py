"""The checker's one-pass screen (tlmsim/verify/dram_scan.py, session 27): it may clear a chunk
only when ``_check`` finds nothing there, so the streaming checker's verdicts are ``_check``'s.

* Sound: every log the checker's rule tests build and find broken (the rows they hand
  ``check_dram_records``), every log of a real DRAM model run with one row disturbed, and every
  random log that ``_check`` finds broken, the screen does not clear (the refresh-count rule,
  judged only at a run's end, is not the screen's: the streaming checker never asks it).
* Useful: the logs of real DRAM model runs (every page policy, power-down on and off, two
  channels and two ranks, refreshes, self-refreshes) are cleared, whole and chunk by chunk.
* The streaming checker with the screen gives the sentences it gives without it.
* The screen's own refusals: rows out of order or out of range, and the ties ``_check`` orders
  by priority rather than by index.
"""

import dataclasses
import inspect
import random

import numpy as np
import pytest

from tests.hw.dram_stream import run_stream
from tests.hw.test_dram_diff import _config, _stream
from tests.verify import (
    test_dram_timing_by_hand_s12,
    test_dram_timing_by_hand_s13,
    test_dram_timing_by_hand_s16,
    test_dram_timing_rules,
)
from tests.verify.test_dram_timing_rules import ORG, SPEC, TIMING, C, records
from tests.verify.test_dram_timing_s17_logpath import HBM, random_log
from tlmsim.platform.dram import DramConfig
from tlmsim.verify import dram_scan, dram_timing
from tlmsim.verify.dram_timing import DramCommandChecker, check_dram_records

RULE_MODULES = (test_dram_timing_rules, test_dram_timing_by_hand_s12, test_dram_timing_by_hand_s13,
                test_dram_timing_by_hand_s16)
RULE_TESTS = [(m, name) for m in RULE_MODULES for name, fn in vars(m).items()
              if name.startswith("test_") and callable(fn) and not inspect.signature(fn).parameters]


def _broken(out: list[str]) -> bool:
    """Whether ``_check``'s sentences hold one the screen answers for (all but the refresh count)."""
    return any(not s.startswith("rank ") for s in out)


@pytest.mark.parametrize("module, name", RULE_TESTS, ids=[f"{m.__name__.rsplit('.', 1)[1]}::{n}" for m, n in RULE_TESTS])
def test_the_screen_clears_no_log_a_rule_test_finds_broken(module, name, monkeypatch):
    seen = []
    real = dram_timing._check

    def spy(L, spec, **kw):
        out = real(L, spec, **kw)
        if hasattr(L, "gb"):  # a log of integer rows (from_records), the form the screen reads
            rec = np.stack([L.t, L.ch, L.gb, L.cmd.code, L.row, np.zeros_like(L.t)], axis=1)
            seen.append((rec, spec, kw.get("from_cycle"), out))
        return out

    monkeypatch.setattr(dram_timing, "_check", spy)
    getattr(module, name)()
    for rec, spec, from_cycle, out in seen:
        if _broken(out):
            assert not dram_scan.screen(rec, spec, from_cycle), (out, rec.tolist())


def test_the_rule_tests_hand_the_screen_broken_and_clean_logs():
    """(The test above judges something: its logs include broken ones; and clean ones the screen clears.)"""
    broken = cleared = 0
    real = dram_timing._check
    for module, name in RULE_TESTS:
        seen = []

        def spy(L, spec, seen=seen, **kw):
            out = real(L, spec, **kw)
            if hasattr(L, "gb"):
                rec = np.stack([L.t, L.ch, L.gb, L.cmd.code, L.row, np.zeros_like(L.t)], axis=1)
                seen.append((rec, spec, kw.get("from_cycle"), out))
            return out

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(dram_timing, "_check", spy)
            getattr(module, name)()
        for rec, spec, from_cycle, out in seen:
            broken += _broken(out)
            cleared += dram_scan.screen(rec, spec, from_cycle)
    assert broken > 100 and cleared > 20


# -- real runs ---------------------------------------------------------------------------------
CASES = [(policy, powerdown) for policy in ("open", "closed", "adaptive") for powerdown in (False, True)]


def _run_log(policy: str, powerdown: bool, seed: int = 1, n: int = 300) -> tuple[np.ndarray, object]:
    config = _config(policy, powerdown, (8, 4))
    _, dram, _ = run_stream(config, _stream(random.Random(seed), n, focus=False), plain=False)
    return dram.command_records(), dram.spec


@pytest.fixture(scope="module")
def run_logs():
    return {case: _run_log(*case) for case in CASES}


@pytest.mark.parametrize("policy, powerdown", CASES)
def test_the_logs_of_real_runs_are_cleared(policy, powerdown, run_logs):
    rec, spec = run_logs[policy, powerdown]
    codes = set(rec[:, 3].tolist())
    assert {0, 1, 2, 3, 4} <= codes and (not powerdown or {5, 6} <= codes)
    assert check_dram_records(rec, spec) == []
    assert dram_scan.screen(rec, spec)
    # and chunk by chunk, as the streaming checker screens them (its context rows first)
    checker = DramCommandChecker(spec, screen=True)
    chunks = np.array_split(rec, 7)
    for c in chunks:
        checker.feed(c)
    assert checker.finish() == [] and checker.screened == len(chunks)


def _disturb(rec: np.ndarray, rng: np.random.Generator, spec) -> np.ndarray:
    """``rec`` with one row changed: its cycle moved (the log re-sorted by cycle, stably), its
    row, bank, channel or command changed, or the row repeated."""
    out = rec.copy()
    i = int(rng.integers(len(rec)))
    how = int(rng.integers(6))
    if how == 0:
        out[i, 0] = max(0, out[i, 0] + int(rng.integers(-12, 13)))
        out = out[np.argsort(out[:, 0], kind="stable")]
    elif how == 1:
        out[i, 4] = (out[i, 4] + 1) % 8
    elif how == 2:
        out[i, 2] = int(rng.integers(spec.channels * spec.ranks * spec.banks_per_rank))
    elif how == 3:
        out[i, 1] = 1 - out[i, 1]
    elif how == 4:
        out[i, 3] = int(rng.integers(9))
    else:
        out = np.insert(out, i, out[i], axis=0)
    return out


@pytest.mark.parametrize("policy, powerdown", CASES)
def test_a_real_log_with_one_row_disturbed_is_never_cleared_when_broken(policy, powerdown, run_logs):
    rec, spec = run_logs[policy, powerdown]
    rng = np.random.default_rng(CASES.index((policy, powerdown)))
    broken = 0
    for _ in range(150):
        bad = _disturb(rec, rng, spec)
        frm = int(bad[int(rng.integers(len(bad))), 0]) if rng.random() < 0.3 else None
        out = check_dram_records(bad, spec, from_cycle=frm)
        if _broken(out):
            broken += 1
            assert not dram_scan.screen(bad, spec, frm), out
    assert broken > 40


@pytest.mark.parametrize("ranks, channels", [(1, 1), (2, 1), (2, 2)])
@pytest.mark.parametrize("seed", range(4))
def test_random_logs_that_break_a_rule_are_never_cleared(ranks, channels, seed):
    for spec in (SPEC, HBM):
        for span in (4, 30, 200):
            for n in (3, 12, 60):
                for k in range(10):
                    rec = random_log(spec, seed * 1000 + span * 10 + n + k, n, ranks=ranks, channels=channels,
                                     sort=True, power=0.02, span=span)
                    if _broken(check_dram_records(rec, spec, limit=1)):
                        assert not dram_scan.screen(rec, spec)


@pytest.mark.parametrize("policy, powerdown", CASES)
def test_the_streaming_checker_gives_the_same_sentences_with_the_screen(policy, powerdown, run_logs):
    rec, spec = run_logs[policy, powerdown]
    rng = np.random.default_rng(7)
    screened = 0
    for _ in range(12):
        bad = rec
        for _ in range(int(rng.integers(0, 4))):
            bad = _disturb(bad, rng, spec)
        cuts = np.sort(rng.choice(np.arange(1, len(bad)), 5, replace=False))
        a, b = DramCommandChecker(spec, screen=True), DramCommandChecker(spec, screen=False)
        for c in np.split(bad, cuts):
            a.feed(c)
            b.feed(c)
        assert a.finish() == b.finish()
        assert b.screened == 0
        screened += a.screened
    assert screened > 12  # the screen was on, and cleared chunks


# -- the screen's refusals, by hand (SPEC of tests/verify/test_dram_timing_rules.py) -------------
OK = [C(0, "ACT"), C(4, "RD"), C(11, "PRE")]  # tRCD 4, RD->PRE AL + tRTP = 6, tRAS 11


def test_a_clean_log_by_hand_is_cleared_and_its_rules_at_their_limits():
    assert check_dram_records(records(OK), SPEC) == [] and dram_scan.screen(records(OK), SPEC)
    assert not dram_scan.screen(records([C(0, "ACT"), C(3, "RD"), C(11, "PRE")]), SPEC)  # tRCD
    assert not dram_scan.screen(records([C(0, "ACT"), C(4, "RD"), C(10, "PRE")]), SPEC)  # tRAS
    # judged only from ``from_cycle`` on: the broken RD at cycle 3 is context
    rec = records([C(0, "ACT"), C(3, "RD"), C(11, "PRE"), C(17, "ACT")])
    assert dram_scan.screen(rec, SPEC, 11) and not dram_scan.screen(rec, SPEC, 3)
    assert dram_scan.screen(np.zeros((0, 6), np.int64), SPEC)


def test_rows_out_of_order_or_range_are_refused():
    rec = records(OK)
    assert not dram_scan.screen(rec[::-1], SPEC)  # not sorted by cycle
    n_gb = SPEC.channels * SPEC.ranks * SPEC.banks_per_rank
    # (row, column, value): a cycle below 0 or from 2**50 on, a code, channel or global bank out of range
    for i, col, value in ((0, 0, -1), (2, 0, 1 << 50), (1, 3, 9), (1, 3, -1), (1, 1, SPEC.channels), (1, 1, -1),
                          (1, 2, -1), (1, 2, n_gb)):
        bad = rec.copy()
        bad[i, col] = value
        assert not dram_scan.screen(bad, SPEC), (i, col, value)
    bad = rec.copy()
    bad[2, 0] = (1 << 50) - 1
    assert dram_scan.screen(bad, SPEC)  # the last cycle below the bound


def test_ties_that_check_orders_by_priority_are_refused():
    two_banks = [C(0, "ACT"), C(0, "ACT", ch=1)]  # one cycle, two channels: fine
    assert dram_scan.screen(records(two_banks), SPEC)
    # a PRE and an ACT of one bank at one cycle (tRP would be broken anyway, but _check orders them PRE first)
    assert not dram_scan.screen(records([C(0, "ACT"), C(20, "ACT", row=1), C(20, "PRE")]), SPEC)
    # a REF and a PRE of its rank at one cycle
    assert not dram_scan.screen(records([C(0, "ACT", ba=1), C(30, "PRE", ba=1), C(30, "REF")]), SPEC)
    # a power-down entry at the cycle of its rank's RD, written after it
    assert not dram_scan.screen(records([C(0, "ACT"), C(4, "RD"), C(4, "PDE")]), SPEC)


def test_data_bursts_closer_than_the_bus_allows_are_refused_in_either_order():
    # RL 8, WL 6, burst 4, tRTRS 2. An RD at 10 (data from 18) then a WR at 17 in the other bank group
    # (data from 23): a read->write turnaround needs 18 + 4 + 2 = 24; at 18 it is clear
    log = [C(0, "ACT"), C(3, "ACT", bg=1), C(10, "RD")]
    for wr, broken in ((17, True), (18, False)):
        rec = records(log + [C(wr, "WR", bg=1)])
        assert any("data bus" in s for s in check_dram_records(rec, SPEC)) == broken
        assert dram_scan.screen(rec, SPEC) != broken
    # an RD of rank 0 at 10 (data from 18), then a WR of rank 1 at 11 whose data starts first, at 17:
    # the RD, second in (start, index) order, needs 17 + 4 + 2 (rank switch) = 23
    rec = records([C(0, "ACT"), C(1, "ACT", ra=1), C(10, "RD"), C(11, "WR", ra=1)])
    assert [s for s in check_dram_records(rec, SPEC) if "data bus" in s] == [
        ("cycle 10: RD at channel 0 rank 0 bankgroup 0 bank 0 breaks the data bus (burst 4 cycles, tRTRS = 2 on a "
         "rank switch or read->write)")]
    assert not dram_scan.screen(rec, SPEC)
    assert dram_scan.screen(rec, SPEC, 11)  # the RD is context: not judged


def test_malformed_rows_or_specs_are_refused():
    assert not dram_scan.screen(np.zeros((3, 4), np.int64), SPEC)  # fewer than five columns
    assert not dram_scan.screen(np.zeros(6, np.int64), SPEC)  # one row as a flat array
    rec = records(OK)
    for field in ("ranks", "bankgroups", "banks_per_group", "channels"):
        bad = dataclasses.replace(SPEC, **{field: 0})
        assert not dram_scan.screen(rec, bad), field  # (a division by zero otherwise)


def test_a_burst_is_kept_while_a_later_one_can_meet_it_when_rl_is_below_wl():
    """CL 5, CWL 9 (RL 6 < WL 10: a later RD's data can start before an earlier WR's ends). A WR of
    rank 0 at 10 (data from 20), then an RD of rank 1 at 17 (data from 23): the rank switch needs
    20 + 4 + 2 = 26. The WR is kept while 20 + 4 + 2 > t + min(RL, WL) = 17 + 6 (not + WL = 27)."""
    spec = DramConfig.model_validate({"preset": "DDR4-3200", "org": ORG, "timing": {**TIMING, "CL": 5, "CWL": 9}}).resolve()
    assert (spec.RL, spec.WL) == (6, 10)
    rec = records([C(0, "ACT"), C(1, "ACT", ra=1), C(10, "WR"), C(17, "RD", ra=1)], spec)
    assert check_dram_records(rec, spec) == [
        ("cycle 17: RD at channel 0 rank 1 bankgroup 0 bank 0 breaks the data bus (burst 4 cycles, tRTRS = 2 on a "
         "rank switch or read->write)")]
    assert not dram_scan.screen(rec, spec)
    rec = records([C(0, "ACT"), C(1, "ACT", ra=1), C(10, "WR"), C(20, "RD", ra=1)], spec)  # data from 26: clear
    assert check_dram_records(rec, spec) == [] and dram_scan.screen(rec, spec)


def test_a_bank_command_at_the_cycle_of_its_ranks_ref_written_after_it_is_refused():
    """_check orders a cycle's PRE before its REF: a PRE (of a closed bank) at the REF's cycle, written
    after it, makes the REF break tRP there; the screen, in index order, must not clear it."""
    rec = records([C(40, "REF"), C(40, "PRE", ba=2)])
    assert rec[:, 3].tolist() == [4, 1]  # the REF first, as written
    assert check_dram_records(rec, SPEC) == ["cycle 40: REF at channel 0 rank 0 breaks tRP = 6 after a PRE"]
    assert not dram_scan.screen(rec, SPEC)
    rec = records([C(40, "REF"), C(90, "PRE", ba=2)])  # tRFC 50 later: clear
    assert check_dram_records(rec, SPEC) == [] and dram_scan.screen(rec, SPEC)


def test_the_checker_screens_by_default_exactly_when_the_screens_compiled_build_runs():
    from tlmsim.kernels import kernel

    assert DramCommandChecker(SPEC).screen is (kernel("tlmsim.verify.dram_scan") == "compiled")
    assert DramCommandChecker(SPEC, screen=False).screen is False
    assert DramCommandChecker(SPEC, screen=True).screen is True
