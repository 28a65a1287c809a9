"""The command log's segments (session 17, logPath): a batch of RDs is logged as one record
(its cycles and columns one per RD) and expanded with NumPy when a chunk is handed on. Every
chunk the sink gets must be the chunk of the log as session 16 kept it (six Python ints per
command, its ``_log_rds`` and ``_log_rows`` restored below), row for row, on several kinds of
DRAM (two channels and two ranks, HBM2, LPDDR4, DDR4, power-down and self-refresh, frequent
refresh) with chunks of a few rows, so that chunks are cut inside batches."""

import random

import numpy as np
import pytest

import tlmsim.hw.dram as dram_mod
from tests.hw.dram_spy import patch_dram
from tests.hw.dram_stream import run_stream
from tests.hw.test_dram import TIMING
from tests.hw.test_dram_diff import _config, _stream
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig


def _old_log_rds(self, times, ch, served):
    """Session 16's ``Dram._log_rds``: every column extended by the batch (the bank and row of
    each RD its request's since session 26; the callers passed them as lists before)."""
    lt, lch, lgb, lcmd, lrow, lcol = self._log
    k = len(served)
    lt.extend(times)
    lch.extend([ch] * k)
    lgb.extend([it.gb for it in served])
    lcmd.extend([dram_mod._RD] * k)
    lrow.extend([it.row for it in served])
    lcol.extend([2 * it.col for it in served])  # (2 x column since session 26)


def _old_log_rows(self):
    """Session 16's ``Dram._log_rows`` (its columns logged as 2 x column since session 26)."""
    rows = np.array(self._log, dtype=np.int64).T.reshape(-1, 6)
    rows[:, 5] >>= 1
    return rows


def _preset(name: str, **kw) -> DramConfig:
    return DramConfig.model_validate(dict(preset=name, **kw))


CONFIGS = {
    "two-channel": _config("open", True, (32, 8)),
    "two-channel-closed": _config("closed", False, (4, 2)),
    "HBM2": _preset("HBM2"),
    "LPDDR4": _preset("LPDDR4-2400", powerdown=True, powerdown_timeout_cycles=20),
    "DDR4": _preset("DDR4-3200"),
    "powerdown": _preset("DDR4-3200", powerdown=True, powerdown_timeout_cycles=10, self_refresh_timeout_cycles=200),
    "refresh": _preset("DDR4-3200", timing={**TIMING, "tREFI": 300, "tCCD_L": 6}),
}


def _items(name: str):
    """A seeded stream: test_dram_diff's blocks for its two-channel DRAM, else sequential and
    scattered reads (and a few writes) over a few rows of a few banks."""
    rng = random.Random(name)
    if name.startswith("two-channel"):
        return _stream(rng, 60, focus=False) + _stream(rng, 30, focus=True)
    out, at = [], 0
    bases = [rng.randrange(1 << 14) << 12 for _ in range(12)]  # a few rows of a few banks and channels
    for _ in range(120):
        at += rng.choice([0, 0, 5, 40, 400, 3000])
        nb = rng.choice([1, 4, 16, 32, 64])
        base = rng.choice(bases) + rng.randrange(64) * 64
        out.append((at * 1000, rng.random() < 0.15, base, nb * 64))
    return out


def _chunks(config, items, monkeypatch, chunk: tuple[int, int], old: bool):
    """The chunks the sink gets and the whole log, the rows packed every ``chunk[0]`` and handed on from
    ``chunk[1]`` packed rows (session 24; both one size before)."""
    with monkeypatch.context() as m:
        m.setattr(dram_mod, "_LOG_CHUNK", chunk[0])
        m.setattr(dram_mod, "_HAND_ROWS", chunk[1])
        if old:
            patch_dram(m, _log_rds=_old_log_rds, _log_rows=_old_log_rows)
        got: list[np.ndarray] = []
        _, dram, _ = run_stream(config, items, plain=False, sink=got.append)
        return got, dram.command_records()


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("chunk", [(3, 3), (64, 64), (3, 40), (1 << 12, 1 << 16), (1 << 18, 1 << 18)])
def test_every_chunk_equals_the_old_logs(name, chunk, monkeypatch):
    items = _items(name)
    new, new_all = _chunks(CONFIGS[name], items, monkeypatch, chunk, old=False)
    old, old_all = _chunks(CONFIGS[name], items, monkeypatch, chunk, old=True)
    assert len(new) == len(old)
    for a, b in zip(new, old):
        assert a.dtype == b.dtype == np.int64 and np.array_equal(a, b)
    assert np.array_equal(new_all, old_all)
    rds = old_all[old_all[:, 3] == dram_mod._RD]
    assert len(rds) > 100  # not vacuous: reads were logged
    if chunk[1] <= 40:
        assert len(old) > 10


def test_a_pair_batch_is_one_segment_of_two_banks_and_expands_in_issue_order():
    """By hand: a command, a pair batch of 4 RDs alternating two banks (rows 7 and 9), a
    solo batch of 2, a command: 4 + 2 records of the bank columns (one of them the second
    bank's), 8 rows of cycles and columns; the rows come out as logged."""
    import simpy

    from tlmsim.engine.recorder import Recorder

    dram = Dram(name="d", env=simpy.Environment(), recorder=Recorder(), config=_preset("DDR4-3200"))

    def R(col, gb, row):  # a served burst of bank gb, row ``row`` (the model's own class: typed in the compiled build)
        return dram_mod._Req(0, gb, 0, row, col, False, None, 0)

    dram._log_cmd(5, 0, 3, dram_mod._ACT, 7, -1)
    dram._log_rds([10, 14, 18, 22], 0, [R(1, 3, 7), R(40, 5, 9), R(2, 3, 7), R(41, 5, 9)])
    dram._log_rds(range(30, 38, 4), 0, [R(42, 5, 9), R(43, 5, 9)])
    dram._log_cmd(40, 0, 3, dram_mod._PRE, 7, -1)
    assert len(dram._log[0]) == len(dram._log[5]) == 8 and len(dram._log[3]) == 5
    assert dram._log_rows().tolist() == [
        [5, 0, 3, 0, 7, -1], [10, 0, 3, 2, 7, 1], [14, 0, 5, 2, 9, 40], [18, 0, 3, 2, 7, 2], [22, 0, 5, 2, 9, 41],
        [30, 0, 5, 2, 9, 42], [34, 0, 5, 2, 9, 43], [40, 0, 3, 1, 7, -1]]
