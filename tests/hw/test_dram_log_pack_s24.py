"""The command log packed every ``_LOG_CHUNK`` rows and handed on from ``_HAND_ROWS`` packed rows
(tlmsim/hw/dram.py, session 24: the ints of 2^18 rows held in lists cost page faults at every chunk).
The rig of tests/hw/test_dram_finalize_by_hand_s13.py: three requests into a sink, ten commands."""

import numpy as np

import tlmsim.hw.dram as dram_module
from tests.hw.test_dram_finalize_by_hand_s13 import _three_requests_into_a_sink


def test_the_shipped_sizes():
    assert dram_module._LOG_CHUNK == 4096 and dram_module._HAND_ROWS == 65536


def test_packed_rows_wait_for_a_hand_on_chunk(monkeypatch):
    # packed at 3 rows, handed on from 5 packed. ACT 0, RD 4 (2 in the buffer); b's arrival at 100 logs PDE
    # 35, the 3rd: packed [0, 4, 35], 3 < 5, nothing goes. PDX 100 (1), RD 113 (2); c's arrival at 200 logs
    # PDE 144, the 3rd: packed, 6 rows >= 5: the rank was idle from 124 until c was queued, so the rows
    # before 124 go, [0, 4, 35, 100, 113]; 144 stays packed. PDX 200 (1), PRE 213 (2), ACT 219 (3):
    # packed, 1 + 3 = 4 < 5. RD 223 (1). The end hands on the rest.
    monkeypatch.setattr(dram_module, "_LOG_CHUNK", 3)
    monkeypatch.setattr(dram_module, "_HAND_ROWS", 5)
    r, chunks = _three_requests_into_a_sink()
    assert chunks == [[0, 4, 35, 100, 113]]
    assert [len(p) for p in r.dram._packed] == [1, 3] and r.dram._nlog == 1
    assert r.dram._packed[0][:, 0].tolist() == [144]  # kept sorted, in front of the newer rows
    r.dram.finalize(r.env.now)
    assert chunks == [[0, 4, 35, 100, 113], [144, 200, 213, 219, 223]]
    assert r.dram._packed == [] and r.dram._nlog == 0


def test_a_hand_on_at_exactly_hand_rows(monkeypatch):
    # handed on from 6 packed rows: the pack at PDE 144 makes exactly 6, the same chunk as from 5. From 7
    # it waits for the pack at ACT 219 (6 + 3 = 9 rows): the rows before the channel's decision cycle 200
    # go, 144 with them
    monkeypatch.setattr(dram_module, "_LOG_CHUNK", 3)
    monkeypatch.setattr(dram_module, "_HAND_ROWS", 6)
    _r, six = _three_requests_into_a_sink()
    monkeypatch.setattr(dram_module, "_HAND_ROWS", 7)
    _r, seven = _three_requests_into_a_sink()
    assert six == [[0, 4, 35, 100, 113]]
    assert seven == [[0, 4, 35, 100, 113, 144]]


def test_the_buffer_never_holds_a_chunk(monkeypatch):
    # every row logged goes through the buffer, which is packed as soon as it holds _LOG_CHUNK rows; with
    # no hand-on, the packed parts are the log in issue order
    monkeypatch.setattr(dram_module, "_LOG_CHUNK", 2)
    monkeypatch.setattr(dram_module, "_HAND_ROWS", 1000)
    seen = []
    inner = dram_module.Dram._flush_log

    def spy(self, *, final):
        inner(self, final=final)
        seen.append((self._nlog, [len(p) for p in self._packed]))

    from tests.hw.dram_spy import patch_dram
    patch_dram(monkeypatch, _flush_log=spy)
    r, chunks = _three_requests_into_a_sink()
    assert chunks == [] and len(seen) >= 4
    assert all(n == 0 and set(parts) == {2} for n, parts in seen)  # emptied into parts of 2 rows each time
    rows = np.concatenate(r.dram._packed)[:, 0].tolist() + r.dram._log_rows()[:, 0].tolist()
    assert rows == [0, 4, 35, 100, 113, 144, 200, 213, 219, 223]
