"""The streaming DRAM checker checks a chunk in pieces of ``CHECK_ROWS`` rows (tlmsim/verify/dram_timing.py,
session 24: whole 2^18-row chunks made a third of its time page faults). Each piece is checked with the
context of the rows before it, so the pieces find what the whole chunk finds."""

import numpy as np
import pytest

from tests.verify.test_dram_timing import drive
from tlmsim.platform.dram import DramConfig
from tlmsim.verify import dram_timing
from tlmsim.verify.dram_timing import DramCommandChecker, check_dram_records


def test_check_rows_is_two_to_the_sixteen():
    assert dram_timing.CHECK_ROWS == 65536


@pytest.fixture(scope="module")
def logs():
    """(buggy rows, the truth's spec, every violation of the whole log): tRCD 10 for the real 22."""
    buggy, _end = drive(DramConfig(preset="DDR4-3200", timing={"tRCD": 10}), per_requester=60, think_ps=2000)
    truth = DramConfig(preset="DDR4-3200").resolve()
    rec = buggy.command_records()
    return rec, truth, check_dram_records(rec, truth, limit=10**6)


def pieces_of(monkeypatch, rec, truth, check_rows, feeds):
    """Feed ``rec`` cut at ``feeds`` with CHECK_ROWS = ``check_rows``; returns (the pieces checked, verdicts)."""
    monkeypatch.setattr(dram_timing, "CHECK_ROWS", check_rows)
    seen = []
    inner = DramCommandChecker._feed

    def spy(self, rows):
        seen.append(rows.copy())
        inner(self, rows)

    monkeypatch.setattr(DramCommandChecker, "_feed", spy)
    chk = DramCommandChecker(truth, limit=10**6)
    for a, b in zip([0] + feeds, feeds + [len(rec)]):
        chk.feed(rec[a:b])
    return seen, chk.finish()


def test_a_chunk_is_checked_in_pieces_of_check_rows(monkeypatch, logs):
    rec, truth, whole = logs
    assert len(whole) > 3 and len(rec) > 400
    # two chunks as the model would hand them on: 300 rows, then the rest
    seen, found = pieces_of(monkeypatch, rec, truth, 7, [300])
    sizes = [len(p) for p in seen]
    rest = len(rec) - 300
    assert sizes == [7] * 42 + [6] + [7] * (rest // 7) + ([rest % 7] if rest % 7 else [])
    assert np.array_equal(np.concatenate(seen), rec)  # every row once, in order
    assert sorted(found) == sorted(whole) and len(found) == len(whole)


def test_a_chunk_of_at_most_check_rows_is_one_piece(monkeypatch, logs):
    rec, truth, whole = logs
    seen, found = pieces_of(monkeypatch, rec, truth, len(rec), [])
    assert [len(p) for p in seen] == [len(rec)]
    assert found == whole  # one piece: the whole log's sentences in its order
    seen, found = pieces_of(monkeypatch, rec, truth, len(rec) - 1, [])
    assert [len(p) for p in seen] == [len(rec) - 1, 1]
    assert sorted(found) == sorted(whole)


def test_the_limit_holds_across_pieces(monkeypatch, logs):
    rec, truth, whole = logs
    monkeypatch.setattr(dram_timing, "CHECK_ROWS", 50)
    chk = DramCommandChecker(truth, limit=2)
    chk.feed(rec)
    assert len(chk.finish()) == 2 and set(chk.finish()) <= set(whole)
    assert chk.rows < len(rec)  # the pieces after the limit was reached were not checked
