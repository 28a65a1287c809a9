"""The DRAM model in the kernel's environment (session 34): its wakes and completions pushed on
the kernel's queue directly (``Dram._schedule``, ``Dram._finish``), its clock read as a C field
(``_on_wake``, ``_finish``), as in a run (tlmsim/soc/run.py). The same events as through SimPy's
``env.timeout`` and ``env.schedule``: the same queue entries (time, priority, id) in the same order,
so every request completes at the same picosecond and in the same order as in SimPy's
environment, after the same wakes."""

from __future__ import annotations

import random

import pytest
import simpy

from tests.hw.dram_spy import patch_dram
from tests.hw.dram_stream import run_stream
from tests.hw.test_dram import addr
from tests.hw.test_dram_by_hand import NS, cfg
from tests.hw.test_dram_wake import SHAPES, _config, _stream
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.sim import Environment, Timeout
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram


def _spy(monkeypatch) -> list[tuple[int, int, int]]:
    """(channel, wake cycle, now in ps) of every wake, superseded ones included."""
    seen: list[tuple[int, int, int]] = []
    on_wake = Dram._on_wake
    patch_dram(monkeypatch, _on_wake=lambda self, ch, at: (seen.append((ch, at, self.env.now)), on_wake(self, ch, at)))
    return seen


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(map(str, s)))
def test_streams_run_the_same_in_the_kernels_environment_and_simpys(shape, monkeypatch):
    wakes = _spy(monkeypatch)
    hbm, channels, ranks, tccd_s, tccd_l = shape
    config = _config(hbm, channels, ranks, tccd_s, tccd_l)
    rng = random.Random(f"kernel-{shape}")
    for _ in range(2):
        items = _stream(rng, channels, ranks, 24)
        runs = []
        for env_cls in (simpy.Environment, Environment):
            wakes.clear()
            ends, dram, rec = run_stream(config, items, plain=False, order=True, env_cls=env_cls)
            runs.append((ends, dram.command_records().tolist(), sorted(dram.stats.c.items()), list(wakes),
                         rec.stalls.total_ps("dram", "queue_full"), list(dram.read_latency_ps)))
        assert runs[0][3], "the stream wakes the channel"
        assert runs[1] == runs[0]


def test_a_wake_and_a_completion_are_the_kernels_events_by_hand():
    # cfg(): tCK 1 ns, RL 7, tRCD 4, tCCD_L 7, burst 4 cycles. One 4-burst read of row 0 of one bank at 0:
    # ACT at 0, RDs every max(tCCD_L, burst) = 7 cycles from tRCD: 4, 11, 18, 25; data end 25 + 7 + 4 = 36.
    # The wake: the next decision (the ACT, 0) + (4 - 1) x 7 (the bound of the last RD) + RL + burst - 1 = 31
    env, rec = Environment(), Recorder()
    dram = Dram(name="dram", env=env, recorder=rec, config=cfg(powerdown=False), record_commands=True)
    assert dram._kenv is env and [w.ch for w in dram._wakers] == [0] and dram._wakers[0].dram is dram
    txn = rec.new_transaction(Cmd.READ, DataClass.NONE, addr(0), 4 * 64, "t", "dram", now_ps=0)
    done = dram.submit(txn)
    # the one event queued: the channel's wake, a Timeout valued its cycle, at cycle * tCK + 1 ps
    ((at, prio, _eid, ev),) = env._queue
    assert type(ev) is Timeout and ev.callbacks == [dram._wakers[0]] and prio == simpy.events.NORMAL
    assert ev._value == 31 and at == 31 * NS + 1 and ev._delay == at and ev._ok is True and ev.env is env
    assert dram._ch[0].wake_at == ev._value
    env.step()  # the wake: issues the RDs and completes the read at the last RD's data end
    ((end, prio, _eid, ev2),) = env._queue
    assert ev2 is done and prio == simpy.events.NORMAL and ev2._ok is True and ev2._value is None
    assert end == 36 * NS and dram._ch[0].wake_at > 10**18  # completed: no wake pending
    log = dram.command_log()
    assert log.loc[log["command"] == "RD", "cycle"].tolist() == [4, 11, 18, 25]
    env.run()
    assert env.now == end and done.callbacks is None  # processed at its data end


def test_fwd_possible_tests_the_buffers_address_range_first_by_hand():
    from tests.hw.test_dram_wake_s13 import _chan

    fwd = Dram._fwd_possible
    assert fwd(_chan([9, 12, 7], [8, 10, 11])) is False  # inside the range 7..12, none buffered
    assert fwd(_chan([9, 12, 7], [13, 6, 100])) is False  # outside it
    assert fwd(_chan([9, 12, 7], [13, 12])) is True  # its highest (added second)
    assert fwd(_chan([9, 12, 7], [6, 7])) is True  # its lowest (added last)
    assert fwd(_chan([12, 7, 9], [9])) is True  # inside, buffered (added last, neither end)
    assert fwd(_chan([9], [9])) is True and fwd(_chan([9], [8, 10])) is False  # one address: lowest = highest
    c = _chan([9], [9, 5])
    c.offers.popleft()  # an offer taken already is not looked at
    assert fwd(c) is False
