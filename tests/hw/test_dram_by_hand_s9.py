"""The DRAM controller by hand, session 9: what the mutation run s9dramp (hw/dram.py outside the
per-burst request queue) found unguarded.

Same configuration and helpers as tests/hw/test_dram_by_hand.py (``cfg()``: every timing and
current distinct; tCK 1 ns, CL 7, tRCD 4, tRP 6, tRAS 11, burst 4, so a lone read is ACT 0, RD 4,
data end 15; power-down after 20 idle cycles, self-refresh after 100; one mA x cycle costs 3 pJ).
Only public entry points: ``access``, the command log, ``stats``, ``end_cycle``,
``background_cycles`` and ``energy_pj``.
"""

import pytest
import simpy

from tests.hw.test_dram import Rig, addr
from tests.hw.test_dram_by_hand import CURRENT, K, bg, cfg
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.errors import ConfigError
from tlmsim.hw.dram import Dram

NS = 1000


def test_a_dram_keeps_no_command_log_unless_asked():
    env = simpy.Environment()
    config = cfg()
    d = Dram(name="dram", env=env, recorder=Recorder(), config=config)
    assert d.config is config
    with pytest.raises(ConfigError) as e:
        d.command_records()
    assert e.value.key == "record_commands"


def test_an_idle_dram_finalized_at_time_zero_has_spent_nothing():
    r = Rig(cfg())
    r.dram.finalize(0)
    assert r.dram.end_cycle == 0
    assert r.dram.background_cycles() == bg()
    assert set(r.dram.energy_pj().values()) == {0.0}
    assert len(r.dram.command_log()) == 0


def test_an_idle_rank_one_cycle_past_its_power_down_timeout():
    # no request at all: idle from cycle 0, power-down entry at 20; finalized at 21, one cycle past it:
    # precharge standby 0..20, precharge power-down 20..21 (a PDE at 20, no exit)
    r = Rig(cfg())
    r.dram.finalize(21 * NS)
    assert r.dram.command_records()[:, [0, 3]].tolist() == [[20, 5]]  # PDE
    want = bg(precharge_standby=20, precharge_powerdown=1)
    assert r.dram.background_cycles() == want
    assert r.dram.energy_pj()["background_precharge_powerdown"] == pytest.approx(1 * CURRENT["precharge_powerdown"] * K)


class _Sink:
    """A trace sink that keeps the hops it is handed."""

    def __init__(self):
        self.hops = []

    def hop(self, txn, component, start_ps, end_ps, wait_ps, busy_ps):
        self.hops.append((txn.id, component, start_ps, end_ps, wait_ps))

    def stall(self, component, reason, layer, start_ps, end_ps):
        raise AssertionError("the DRAM reports its stalls when they end, untimed")

    def tail(self, *a):
        pass

    def close(self):
        pass


def test_each_transaction_is_one_hop_with_its_wait_and_a_stall_of_its_layer():
    # read queue 1, command queues 1: r0 goes to its bank's command queue, r1 to the read queue, r2
    # waits at the offering side until RD r0 at 4 frees the command queue (4 cycles). RDs 4, 11, 18
    # (tCCD_L 7), data ends 15, 22, 29. w (layer 6) offered at 40 ns: accepted at once, done a cycle
    # later (posted)
    sink = _Sink()
    env, rec = simpy.Environment(), Recorder(sinks=[sink])
    d = Dram(name="dram", env=env, recorder=rec, config=cfg(powerdown=False, read_queue_depth=1,
                                                           command_queue_depth=1), record_commands=True)
    events, ids = {}, {}

    def offer(tag, address, *, at=0, cmd=Cmd.READ, layer=3):
        def proc():
            if at:
                yield env.timeout(at)
            txn = rec.new_transaction(cmd, DataClass.NONE, address, 64, "t", "dram", now_ps=env.now, layer=layer)
            ids[tag] = txn.id
            events[tag] = d.submit(txn)
            yield events[tag]
        env.process(proc())

    for i in range(3):
        offer(f"r{i}", addr(0, col=i))
    offer("w", addr(2), at=40 * NS, cmd=Cmd.WRITE, layer=6)
    env.run()
    assert sorted(sink.hops) == sorted([
        (ids["r0"], "dram", 0, 15 * NS, 0), (ids["r1"], "dram", 0, 22 * NS, 0), (ids["r2"], "dram", 0, 29 * NS, 4 * NS),
        (ids["w"], "dram", 40 * NS, 41 * NS, 0)])
    # only r2 waited: one stall of its layer
    assert rec.stalls.entries == {("dram", "queue_full", 3): [1, 4 * NS]}
    # the transactions' events succeed with no value, as a SimPy timeout without one
    assert all(ev.ok and ev.value is None for ev in events.values())
    assert list(d.read_latency_ps) == [15 * NS, 22 * NS, 29 * NS]
    assert d.end_cycle == 41
