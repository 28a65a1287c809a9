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
from tests.hw.test_dram_by_hand import CURRENT, K, bg, cfg, log
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


@pytest.mark.parametrize("plain", [False, True])
def test_a_request_arriving_in_the_cycle_after_a_command_competes_in_that_cycle(plain):
    # a: 2 bursts of bank (0, 1) row 1 at 0; b: 2 bursts of bank (0, 0) row 1, columns 3 and 4, offered at
    # 5 ns (cycle 5), just after RD a at 4. ACT a 0, RD a 4; b's ACT at max(5, 0 + tRRD_L 3) = 5, in the
    # cycle it arrives; RD a's second burst at 4 + tCCD_L 7 = 11, b's at max(5 + tRCD 4, 11 + 7) = 18
    # and 25 (one bank group: tCCD_L). Data ends 11 after each RD: a 22, b 36. The plain scheduler
    # wakes at every decision (here just after RD a at 4) and must leave cycle 5 open for b
    env, rec = simpy.Environment(), Recorder()
    d = Dram(name="dram", env=env, recorder=rec, config=cfg(), record_commands=True, plain=plain)
    done = {}

    def offer(tag, address, at):
        def proc():
            yield env.timeout(at)
            txn = rec.new_transaction(Cmd.READ, DataClass.NONE, address, 128, "t", "dram", now_ps=env.now)
            yield from d.access(txn)
            done[tag] = env.now
        env.process(proc())

    offer("a", addr(1, ba=1), 0)
    offer("b", addr(1, ba=0, col=3), 5 * NS)
    env.run()
    d.finalize(env.now)
    rows = d.command_records()
    assert [(int(c), int(k), int(g)) for c, _, g, k, _, _ in rows.tolist()] == [
        (0, 0, 1), (4, 2, 1), (5, 0, 0), (11, 2, 1), (18, 2, 0), (25, 2, 0)]  # ACT 0, RD 2; global bank
    assert done == {"a": 22 * NS, "b": 36 * NS}


def test_finalize_rounds_its_end_up_to_a_whole_cycle():
    # no request, powerdown off: standby from 0 to the end, 10.5 ns -> 11 cycles
    r = Rig(cfg(powerdown=False))
    r.dram.finalize(10 * NS + 500)
    assert r.dram.end_cycle == 11
    bgc = r.dram.background_cycles()
    assert bgc == bg(precharge_standby=11) and type(bgc["precharge_standby"]) is int


def test_a_self_refresh_exit_at_the_refresh_due_cycle_owes_no_refresh():
    # closed page, tREFI 134: the rank's refresh is due at 134. a: ACT 0, RD 4, auto-PRE 11, data end 15;
    # idle from 15: SRE at 115. b offered at 120: SRX at max(120, 115 + tCKESR 19) = 134, the due cycle,
    # which the device covered in self-refresh: the next refresh is due at 268, after the run. ACT at
    # 134 + tXS 23 = 157, RD 161, PRE max(157 + tRAS 11, 161 + tRTP 5) = 168, data end 172
    r = Rig(cfg(page_policy="closed", timing={"tREFI": 134}))
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=120 * NS)
    r.run()
    assert log(r) == [(0, "ACT", 0, 0, 0, 0, -1), (4, "RD", 0, 0, 0, 0, 0), (11, "PRE", 0, 0, 0, 0, -1),
                      (115, "SRE", 0, -1, -1, -1, -1), (134, "SRX", 0, -1, -1, -1, -1),
                      (157, "ACT", 0, 0, 0, 0, -1), (161, "RD", 0, 0, 0, 0, 1), (168, "PRE", 0, 0, 0, 0, -1)]
    assert r.done == {"a": 15 * NS, "b": 172 * NS}
    # active 0..11, 157..168; precharge standby 11..35, 134..157, 168..172; power-down 35..115;
    # self-refresh 115..134
    assert r.dram.background_cycles() == bg(active_standby=22, precharge_standby=51, precharge_powerdown=80,
                                            self_refresh=19)
    assert r.dram.stats.c["ref"] == 0 and r.dram.stats.c["self_refreshes"] == 1


def test_power_down_then_self_refresh_add_up_their_precharge_power_down():
    # closed page. a at 0: ACT 0, RD 4, PRE 11, data end 15. b at 50: PDE 35, PDX max(50, 35 + tCKE 12) = 50,
    # ACT 50 + tXP 13 = 63, RD 67, PRE max(63 + 11, 67 + 5) = 74, data end 78. c at 200: idle from 78,
    # PDE at 98 (not logged: it goes on), SRE 178, SRX max(200, 178 + tCKESR 19) = 200, ACT 200 + tXS 23 =
    # 223, RD 227, PRE 234, data end 238
    r = Rig(cfg(page_policy="closed"))
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=50 * NS)
    r.req("c", addr(0, col=2), at_ps=200 * NS)
    r.run()
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (11, "PRE"), (35, "PDE"), (50, "PDX"), (63, "ACT"),
                                       (67, "RD"), (74, "PRE"), (178, "SRE"), (200, "SRX"), (223, "ACT"),
                                       (227, "RD"), (234, "PRE")]
    assert r.done == {"a": 15 * NS, "b": 78 * NS, "c": 238 * NS}
    # precharge power-down 35..50 and 98..178; self-refresh 178..200; active 0..11, 63..74, 223..234; the
    # rest (11..35, 50..63, 74..98, 200..223, 234..238) precharge standby
    want = bg(active_standby=33, precharge_standby=88, precharge_powerdown=15 + 80, self_refresh=22)
    assert r.dram.background_cycles() == want
    c = r.dram.stats.c
    assert (c["powerdowns"], c["self_refreshes"]) == (1, 1)


def test_two_active_power_downs_add_up():
    # open page, row 0 stays open. a at 0: ACT 0, RD 4, data end 15. b at 100: PDE 35, PDX 100, RD 100 +
    # tXP 13 = 113, data end 124. c at 200: PDE 144, PDX 200, RD 213, data end 224
    r = Rig(cfg())
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=100 * NS)
    r.req("c", addr(0, col=2), at_ps=200 * NS)
    r.run()
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (35, "PDE"), (100, "PDX"), (113, "RD"), (144, "PDE"),
                                       (200, "PDX"), (213, "RD")]
    assert r.done == {"a": 15 * NS, "b": 124 * NS, "c": 224 * NS}
    # active power-down 35..100 and 144..200; active standby 0..35, 100..144, 200..224
    assert r.dram.background_cycles() == bg(active_standby=35 + 44 + 24, active_powerdown=65 + 56)
    assert r.dram.stats.c["powerdowns"] == 2


def test_two_self_refreshes_with_exits_add_up():
    # closed page. a at 0: ACT 0, RD 4, PRE 11, data end 15; SRE 115. b at 200: SRX 200, ACT 200 + tXS 23 =
    # 223, RD 227, PRE 234, data end 238; SRE 238 + 100 = 338. c at 500: SRX 500, ACT 523, RD 527, PRE 534,
    # data end 538
    r = Rig(cfg(page_policy="closed"))
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=200 * NS)
    r.req("c", addr(0, col=2), at_ps=500 * NS)
    r.run()
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (11, "PRE"), (115, "SRE"), (200, "SRX"), (223, "ACT"),
                                       (227, "RD"), (234, "PRE"), (338, "SRE"), (500, "SRX"), (523, "ACT"),
                                       (527, "RD"), (534, "PRE")]
    assert r.done == {"a": 15 * NS, "b": 238 * NS, "c": 538 * NS}
    # self-refresh 115..200 and 338..500; precharge power-down 35..115 and 258..338; active 11 cycles per
    # read; precharge standby 11..35, 200..223, 234..258, 500..523, 534..538
    want = bg(active_standby=33, precharge_standby=24 + 23 + 24 + 23 + 4, precharge_powerdown=160,
              self_refresh=85 + 162)
    assert r.dram.background_cycles() == want
    assert r.dram.stats.c["self_refreshes"] == 2


def test_finalize_drains_a_long_posted_write_burst_by_burst():
    # rows of 1024 columns (128 bursts); the write buffer holds 128 and drains only when full: a 96-burst
    # write (row 0 of bank (0, 0), columns 0..95) is posted, done a cycle after its offer. finalize at 1 ns
    # drains it: ACT 1, WRs from 1 + tRCD 4 = 5, tCCD_L 7 apart (5 + 7k), the last at 670, its data ending
    # 670 + CWL 5 + 4 = 679. Precharge standby 0..1, active standby 1..679
    r = Rig(cfg(org={"columns": 1024}, write_queue_depth=128, write_low_watermark=128, write_high_watermark=128,
                powerdown=False))
    r.req("w", 0, cmd=Cmd.WRITE, nbytes=64 * 96)
    r.run()
    assert r.done == {"w": 1 * NS} and r.dram.stats.c["wr"] == 0
    r.dram.finalize(r.env.now)
    assert log(r) == [(1, "ACT", 0, 0, 0, 0, -1)] + [(5 + 7 * k, "WR", 0, 0, 0, 0, k) for k in range(96)]
    assert r.dram.end_cycle == 679
    assert r.dram.background_cycles() == bg(precharge_standby=1, active_standby=678)
    c = r.dram.stats.c
    assert (c["wr"], c["write_drains"], c["row_hits"]) == (96, 1, 95)
