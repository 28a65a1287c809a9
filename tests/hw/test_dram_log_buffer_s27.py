"""The command log's buffer (session 27): every command is one int64 row written into a buffer
that is reused and grows as a batch needs, a batch of RDs (``_log_rds``) row by row. Every
chunk the sink gets must be the one logging each of a batch's RDs with ``_log_cmd`` gives
(the reference below), row for row, on several kinds of DRAM (two channels and two ranks, HBM2,
LPDDR4, DDR4, power-down and self-refresh, frequent refresh) with chunks of a few rows, so that
chunks are cut inside batches and the buffer grows in the middle of them. (Session 17 to 26
logged a batch as one segment record, expanded with NumPy: this file's first version held
those segments to session 16's lists.)"""

import random

import numpy as np
import pytest
import simpy

import tlmsim.hw.dram as dram_mod
from tests.hw.dram_spy import patch_dram
from tests.hw.dram_stream import run_stream
from tests.hw.test_dram import TIMING
from tests.hw.test_dram_diff import _config, _stream
from tlmsim.engine.recorder import Recorder
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig


def _ref_log_rds(self, times, ch, served):
    """The reference: each RD of the batch logged on its own, by ``_log_cmd`` (not flushed, as
    the batch's callers flush at the end of their run); ``times`` None: each request's ``rd``."""
    for x, it in zip([it.rd for it in served] if times is None else list(times), served, strict=True):
        self._log_cmd(x, ch, it.gb, dram_mod._RD, it.row, it.col, False)


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


def _chunks(config, items, monkeypatch, chunk: tuple[int, int], ref: bool):
    """The chunks the sink gets and the whole log, the rows packed every ``chunk[0]`` and handed on from
    ``chunk[1]`` packed rows (session 24; both one size before)."""
    with monkeypatch.context() as m:
        m.setattr(dram_mod, "_LOG_CHUNK", chunk[0])
        m.setattr(dram_mod, "_HAND_ROWS", chunk[1])
        if ref:
            patch_dram(m, _log_rds=_ref_log_rds)
        got: list[np.ndarray] = []
        _, dram, _ = run_stream(config, items, plain=False, sink=got.append)
        return got, dram.command_records()


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("chunk", [(3, 3), (64, 64), (3, 40), (1 << 12, 1 << 16), (1 << 18, 1 << 18)])
def test_every_chunk_equals_the_reference_logs(name, chunk, monkeypatch):
    items = _items(name)
    new, new_all = _chunks(CONFIGS[name], items, monkeypatch, chunk, ref=False)
    ref, ref_all = _chunks(CONFIGS[name], items, monkeypatch, chunk, ref=True)
    assert len(new) == len(ref)
    for a, b in zip(new, ref):
        assert a.dtype == b.dtype == np.int64 and np.array_equal(a, b)
    assert np.array_equal(new_all, ref_all)
    rds = ref_all[ref_all[:, 3] == dram_mod._RD]
    assert len(rds) > 100  # not vacuous: reads were logged
    if chunk[1] <= 40:
        assert len(ref) > 10


def _dram(**kw) -> Dram:
    return Dram(name="d", env=simpy.Environment(), recorder=Recorder(), config=_preset("DDR4-3200", **kw))


def _req(col, gb, row):  # a served burst of bank gb, row ``row`` (the model's own class: typed in the compiled build)
    return dram_mod._Req(0, gb, 0, row, col, False, None, 0)


def test_a_pair_batch_and_a_solo_batch_are_logged_row_by_row_in_issue_order():
    """By hand: a command, a pair batch of 4 RDs alternating two banks (rows 7 and 9), a solo
    batch of 2 (its times a range), a command: 8 rows as logged."""
    dram = _dram()
    dram._log_cmd(5, 0, 3, dram_mod._ACT, 7, -1)
    dram._log_rds([10, 14, 18, 22], 0, [_req(1, 3, 7), _req(40, 5, 9), _req(2, 3, 7), _req(41, 5, 9)])
    dram._log_rds(range(30, 38, 4), 0, [_req(42, 5, 9), _req(43, 5, 9)])
    dram._log_cmd(40, 0, 3, dram_mod._PRE, 7, -1)
    assert dram._nlog == 8
    assert dram._log_rows().tolist() == [
        [5, 0, 3, 0, 7, -1], [10, 0, 3, 2, 7, 1], [14, 0, 5, 2, 9, 40], [18, 0, 3, 2, 7, 2], [22, 0, 5, 2, 9, 41],
        [30, 0, 5, 2, 9, 42], [34, 0, 5, 2, 9, 43], [40, 0, 3, 1, 7, -1]]


def test_the_buffer_grows_for_a_batch_and_keeps_its_rows(monkeypatch):
    """A buffer of 2 x _LOG_CHUNK rows (here 4): a fifth command doubles it (8), a batch of 12 RDs then
    needs 5 + 12 = 17 rows (more than double: exactly 17); the rows logged before survive each growth,
    and packing copies them out (the buffer is reused: it keeps its size)."""
    monkeypatch.setattr(dram_mod, "_LOG_CHUNK", 2)
    dram = _dram()
    assert dram._logarr.shape == (4, 6) and dram._nlog == 0
    for t in range(5):
        dram._log_cmd(t, 0, 1, dram_mod._ACT, t, -1, False)
    assert dram._logarr.shape == (8, 6) and dram._nlog == 5
    dram._log_rds(range(10, 22), 0, [_req(c, 2, 4) for c in range(12)])
    assert dram._logarr.shape == (17, 6) and dram._nlog == 17
    rows = dram._log_rows()
    assert rows.tolist() == [[t, 0, 1, 0, t, -1] for t in range(5)] + [[10 + c, 0, 2, 2, 4, c] for c in range(12)]
    rows[0, 0] = 99  # a copy
    assert dram._logarr[0, 0] == 0
    dram._flush_log(final=True)  # no sink, nothing recorded: packed and dropped
    assert dram._nlog == 0 and dram._logarr.shape == (17, 6)
    dram._log_cmd(50, 0, 1, dram_mod._PRE, 3, -1)
    assert dram._log_rows().tolist() == [[50, 0, 1, 1, 3, -1]]


def test_a_command_fills_the_buffer_to_its_last_row_before_it_grows(monkeypatch):
    monkeypatch.setattr(dram_mod, "_LOG_CHUNK", 2)
    dram = _dram()
    for t in range(4):
        dram._log_cmd(t, 0, 1, dram_mod._ACT, t, -1, False)
    assert dram._logarr.shape == (4, 6) and dram._nlog == 4  # full, not grown
    dram._log_rds([7, 8, 9, 10], 0, [_req(0, 1, 1)] * 4)
    assert dram._logarr.shape == (8, 6) and dram._nlog == 8  # exactly doubled
    assert dram._log_rows()[:, 0].tolist() == [0, 1, 2, 3, 7, 8, 9, 10]
