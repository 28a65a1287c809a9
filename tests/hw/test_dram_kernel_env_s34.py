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
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hw.dram_spy import patch_dram
from tests.hw.dram_stream import run_stream
from tests.hw.test_dram import TIMING, addr
from tests.hw.test_dram_by_hand import NS, cfg
from tests.hw.test_dram_wake import SHAPES, _config, _stream
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.sim import Environment, Timeout
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig


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


# -- the busy banks: Dram._pick and Dram._run_ok scan the banks' command queues (session 34) -------
# Their loops over a channel's busy banks read every bank's command queue in bank order instead of
# the set ``_Chan.active``: the same banks (a bank is in the set exactly while its queue holds a
# request, checked here at every decision on random traffic) and the same choice (the scheduler's
# keys tell any two banks' candidates apart: the head's sequence number or the round-robin distance).

_block = st.tuples(st.integers(0, 600), st.booleans(), st.integers(0, 7), st.integers(0, 7),
                   st.sampled_from([64, 256, 512, 2048]))


@settings(max_examples=60, deadline=None)
@given(items=st.lists(_block, min_size=1, max_size=30), policy=st.sampled_from(["open", "closed", "adaptive"]),
       depth=st.sampled_from([(4, 2), (32, 8)]))
def test_a_bank_is_busy_exactly_while_its_command_queue_holds_a_request(items, policy, depth):
    rq, cq = depth
    org = {"channels": 1, "ranks": 1, "bankgroups": 2, "banks_per_group": 4, "rows": 16, "columns": 256,
           "bus_width_bits": 64, "burst_length": 8}
    cfg = DramConfig.model_validate({
        "preset": "DDR4-3200", "org": org, "timing": {**TIMING, "tREFI": 700}, "page_policy": policy,
        "read_queue_depth": rq, "write_queue_depth": 8, "command_queue_depth": cq, "write_low_watermark": 2,
        "powerdown": True, "powerdown_timeout_cycles": 30, "self_refresh_timeout_cycles": 500,
        "page_timeout_cycles": 15})
    stream = [(at * NS, w and row % 3 == 0, (((row % 2) * 4 * 2 + (row // 2) % 2) * 32 + col * 4) * 64, n)
              for at, w, row, col, n in items]
    seen = [0]

    class Checked(Dram):
        def _pick(self, ch, t):
            chan = self._ch[ch]
            assert chan.active == {lb for lb, q in enumerate(chan.bq) if q}
            seen[0] += 1
            return Dram._pick(self, ch, t)

    ends, _, _ = run_stream(cfg, stream, plain=False, dram_cls=Checked)
    assert seen[0] and len(ends) == len(stream)


def test_a_wake_now_is_pushed_and_one_in_the_past_refused_by_hand():
    # _schedule's push on the kernel's queue keeps env.timeout's check: a delay of 0 (the wake's picosecond now)
    # is pushed, a negative one raises as env.timeout would (a wake is never in the past: _advance returns a
    # cycle at or after the one asked). A write offered: the wake goes at the next decision itself.
    env, rec = Environment(), Recorder()
    dram = Dram(name="dram", env=env, recorder=rec, config=cfg(powerdown=False))
    chan = dram._ch[0]
    chan.nq, chan.offer_writes = 1, 1
    env._now = 5 * NS + 1
    dram._schedule(0, 5)
    ((at, _prio, _eid, ev),) = env._queue
    assert at == 5 * NS + 1 and ev._delay == 0 and ev._value == 5 and chan.wake_at == 5
    chan.wake_at = 1 << 62
    env._now = 5 * NS + 2
    with pytest.raises(ValueError, match=r"^Negative delay -1$"):
        dram._schedule(0, 5)


def test_a_request_made_by_init_has_every_field_and_its_rows_key_by_hand():
    from tlmsim.hw.dram import _Req, _Txn

    tx = _Txn(None, None, 3, 0, 5)
    r = _Req(7, 9, 1, 6, 12, True, tx, 400)
    assert (r.seq, r.gb, r.lb, r.row, r.col, bool(r.write), r.txn is tx, r.q, r.queued, r.rd) == (
        7, 9, 1, 6, 12, True, True, 400, 0, -1)
    assert r.key == (9 << 32) | 6  # _row_key(gb, row): the bank above the row's 32 bits
    run = _Req.run(20, 9, 1, 6, 12, False, tx, 400, 2)
    assert [x.key for x in run] == [r.key, r.key] and run[0].key is run[1].key  # one key object for the run
