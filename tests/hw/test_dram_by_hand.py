"""The DRAM controller by hand: power states, refresh, page policies, energy, the log.

Each test offers a few requests to a ``Dram`` (through ``access``), then reads what comes out --
the command log, completion times, ``stats``, ``background_cycles`` and ``energy_pj`` -- and
compares it with values worked out by hand in the comments. Only public entry points, so the
tests hold whatever the scheduler's internals are.

The configuration (``cfg()``): the timings of tests/hw/test_dram_rules.py (all distinct: tCK
1 ns, CL 7, CWL 5, tRCD 4, tRP 6, tRAS 11 (tRC 17), tRRD_S 2, tRRD_L 3, tCCD_S 5, tCCD_L 7,
tFAW 16, tWR 9, tWTR_S 3, tWTR_L 8, tRTP 5, tRTRS 2, tREFI 5000, tRFC 50; burst 4 cycles, so
a read's data ends RD + 11) plus distinct power-state timings tCKE 12, tXP 13, tCKESR 19,
tXS 23; power-down after 20 idle cycles, self-refresh after 100; 1 channel, 1 rank, 2 bank
groups x 4 banks, mapping rochrababgco, 64-byte bursts. Currents (mA) all distinct: IDD0 100,
IDD2N 30, IDD3N 40, IDD4R 200, IDD4W 180, IDD5AB 250, IDD2P 10, IDD3P 20, IDD6 5; VDD 1.5 V,
2 devices per rank, so one mA x cycle costs k = 1.5 x 1 ns x 2 = 3 pJ; I/O 0.5 pJ per bit.
Per command: ACT (IDD0 tRC - IDD3N tRAS - IDD2N tRP) k = (1700 - 440 - 180) 3 = 3240 pJ;
RD (IDD4R - IDD3N) burst k = 160 x 4 x 3 = 1920; WR (180 - 40) x 4 x 3 = 1680; REF
(IDD5AB - IDD3N) tRFC k = 210 x 50 x 3 = 31500; I/O per burst 64 x 8 x 0.5 = 256.

A rank idle since cycle i (its last data end, auto-precharge or refresh end) enters power-down
at i + 20 (logged PDE; active if a bank is open, precharge otherwise) and, if precharged,
self-refresh at i + 100 (logged SRE, no PDE). A request arriving at t exits: PDX at
max(t, PDE + tCKE), the next command tXP later; SRX at max(t, SRE + tCKESR), tXS later.
"""

import numpy as np
import pytest

from tests.hw.test_dram import Rig, addr
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.errors import ConfigError, SimulationError
from tlmsim.platform.dram import DramConfig

NS = 1000
TIMING = dict(tck_ps=1000, CL=7, CWL=5, AL=0, tRCD=4, tRP=6, tRAS=11, tRRD_S=2, tRRD_L=3, tCCD_S=5, tCCD_L=7,
              tFAW=16, tWR=9, tWTR_S=3, tWTR_L=8, tRTP=5, tRTRS=2, tREFI=5000, tRFC=50,
              tCKE=12, tXP=13, tCKESR=19, tXS=23)
POWER = dict(VDD=1.5, IDD0=100, IDD2N=30, IDD3N=40, IDD4R=200, IDD4W=180, IDD5AB=250, IDD2P=10, IDD3P=20, IDD6=5)
K = 3.0  # pJ per mA x cycle
ACT_PJ, RD_PJ, WR_PJ, REF_PJ, IO_PJ = 3240.0, 1920.0, 1680.0, 31500.0, 256.0
CURRENT = {"active_standby": 40, "precharge_standby": 30, "active_powerdown": 20, "precharge_powerdown": 10,
           "self_refresh": 5}


def cfg(*, timing=None, org=None, **kw) -> DramConfig:
    o = {**dict(channels=1, ranks=1, bankgroups=2, banks_per_group=4, rows=16, columns=64, bus_width_bits=64,
                burst_length=8, devices_per_rank=2), **(org or {})}
    d = {"preset": "DDR4-3200", "org": o, "timing": {**TIMING, **(timing or {})}, "power": POWER,
         "address_mapping": "rochrababgco", "write_low_watermark": 0, "powerdown": True,
         "powerdown_timeout_cycles": 20, "self_refresh_timeout_cycles": 100, "io_energy_pj_per_bit": 0.5, **kw}
    return DramConfig.model_validate(d)


def log(r: Rig) -> list[tuple]:
    """(cycle, command, rank, bankgroup, bank, row, column) of every logged command."""
    df = r.log()
    return [(int(c), str(m), int(ra), int(g), int(b), int(ro), int(co)) for c, m, ra, g, b, ro, co in
            zip(df["cycle"], df["command"], df["rank"], df["bankgroup"], df["bank"], df["row"], df["column"])]


def background(r: Rig) -> dict[str, int]:
    return r.dram.background_cycles()


def check_energy(r: Rig, *, act=0, rd=0, wr=0, ref=0, bg: dict[str, int]) -> None:
    """energy_pj against the per-command energies above and the background cycles ``bg``."""
    want = {"activate": act * ACT_PJ, "read": rd * RD_PJ, "write": wr * WR_PJ, "refresh": ref * REF_PJ,
            "io": (rd + wr) * IO_PJ}
    for state, cur in CURRENT.items():
        want[f"background_{state}"] = bg.get(state, 0) * cur * K
    assert r.dram.energy_pj() == pytest.approx(want, rel=1e-12, abs=1e-9)


def bg(**cycles) -> dict[str, int]:
    return {s: cycles.get(s, 0) for s in CURRENT}


def counts(r: Rig) -> dict[str, int]:
    return {k: v for k, v in r.dram.stats.c.items() if v}


# -- power-down and self-refresh -------------------------------------------------------------------

def test_active_power_down_between_two_reads_of_an_open_row():
    r = Rig(cfg())
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=100 * NS)
    r.run()
    # a: ACT 0, RD 4, data ends 15: idle from 15, the row open: active power-down at 35. b arrives
    # at 100: PDX at max(100, 35 + tCKE 12) = 100, RD (a hit) at 100 + tXP 13 = 113, ends 124
    assert log(r) == [(0, "ACT", 0, 0, 0, 0, -1), (4, "RD", 0, 0, 0, 0, 0), (35, "PDE", 0, -1, -1, -1, -1),
                      (100, "PDX", 0, -1, -1, -1, -1), (113, "RD", 0, 0, 0, 0, 1)]
    assert r.done == {"a": 15 * NS, "b": 124 * NS}
    assert list(r.dram.read_latency_ps) == [15 * NS, 24 * NS]
    # active standby 0..35 and 100..124, active power-down 35..100
    assert background(r) == bg(active_standby=59, active_powerdown=65)
    check_energy(r, act=1, rd=2, bg=bg(active_standby=59, active_powerdown=65))
    assert counts(r) == {"reads": 2, "read_bytes": 128, "busy_ps": 8 * NS, "act": 1, "rd": 2, "bursts": 2,
                         "row_hits": 1, "row_misses": 1, "powerdowns": 1}
    assert r.dram.end_cycle == 124


def test_a_request_soon_after_power_down_entry_waits_for_tcke_then_txp():
    r = Rig(cfg())
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=40 * NS)
    r.run()
    # PDE at 35; b at 40: PDX at max(40, 35 + tCKE 12) = 47, RD at 47 + tXP 13 = 60, ends 71
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (35, "PDE"), (47, "PDX"), (60, "RD")]
    assert r.done["b"] == 71 * NS
    assert background(r) == bg(active_standby=35 + 13 + 11, active_powerdown=12)


def test_a_request_before_the_power_down_timeout_finds_the_rank_awake():
    r = Rig(cfg())
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=35 * NS)  # idle from 15: exactly at the entry, not past it
    r.run()
    # RD at max(35, 4 + tCCD_L 7) = 35, ends 46; no power-down
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (35, "RD")]
    assert r.done["b"] == 46 * NS and r.dram.stats.c["powerdowns"] == 0
    assert background(r) == bg(active_standby=46)


def test_self_refresh_then_a_closed_page_read():
    r = Rig(cfg(page_policy="closed"))
    r.req("a", addr(0))
    r.req("b", addr(1), at_ps=300 * NS)
    r.run()
    # a: ACT 0, RD 4, auto-PRE at max(ACT + tRAS 11, RD + tRTP 5) = 11; idle from the data end 15:
    # precharge power-down 35 (not logged: it goes on into self-refresh), SRE at 15 + 100 = 115.
    # b at 300: SRX at max(300, 115 + tCKESR 19) = 300, ACT at 300 + tXS 23 = 323, RD 327, ends 338,
    # auto-PRE at max(323 + 11, 327 + 5) = 334
    assert log(r) == [(0, "ACT", 0, 0, 0, 0, -1), (4, "RD", 0, 0, 0, 0, 0), (11, "PRE", 0, 0, 0, 0, -1),
                      (115, "SRE", 0, -1, -1, -1, -1), (300, "SRX", 0, -1, -1, -1, -1),
                      (323, "ACT", 0, 0, 0, 1, -1), (327, "RD", 0, 0, 0, 1, 0), (334, "PRE", 0, 0, 0, 1, -1)]
    assert r.done == {"a": 15 * NS, "b": 338 * NS}
    # active 0..11 and 323..334; precharge standby 11..35, 300..323, 334..338; precharge power-down
    # 35..115; self-refresh 115..300
    want = bg(active_standby=22, precharge_standby=51, precharge_powerdown=80, self_refresh=185)
    assert background(r) == want
    check_energy(r, act=2, rd=2, bg=want)
    c = r.dram.stats.c
    assert (c["self_refreshes"], c["powerdowns"], c["pre"]) == (1, 0, 2)


def test_a_request_soon_after_self_refresh_entry_waits_for_tckesr_then_txs():
    r = Rig(cfg(page_policy="closed"))
    r.req("a", addr(0))
    r.req("b", addr(0), at_ps=120 * NS)
    r.run()
    # SRE at 115; b at 120: SRX at max(120, 115 + 19) = 134, ACT 134 + tXS 23 = 157, RD 161, ends 172
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (11, "PRE"), (115, "SRE"), (134, "SRX"),
                                       (157, "ACT"), (161, "RD"), (168, "PRE")]
    assert r.done["b"] == 172 * NS
    assert background(r) == bg(active_standby=11 + 11, precharge_standby=24 + 23 + 4, precharge_powerdown=80,
                               self_refresh=19)


def test_self_refresh_needs_its_timeout_not_below_the_power_down_one():
    # self_refresh_timeout below the power-down timeout: never self-refresh, only power-down
    r = Rig(cfg(page_policy="closed", self_refresh_timeout_cycles=10))
    r.req("a", addr(0))
    r.req("b", addr(0), at_ps=300 * NS)
    r.run()
    # PDE 35, PDX at 300, ACT 313, RD 317, ends 328
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (11, "PRE"), (35, "PDE"), (300, "PDX"), (313, "ACT"),
                                       (317, "RD"), (324, "PRE")]
    assert r.done["b"] == 328 * NS
    assert background(r) == bg(active_standby=22, precharge_standby=24 + 13 + 4, precharge_powerdown=265)


@pytest.mark.parametrize("end, want, cmd", [
    # closed page, idle from 15: precharge power-down from 35 to the end
    (100, bg(active_standby=11, precharge_standby=24, precharge_powerdown=65), "PDE"),
    # ... and self-refresh from 115 (no exit logged)
    (400, bg(active_standby=11, precharge_standby=24, precharge_powerdown=80, self_refresh=285), "SRE"),
    # the end exactly at the self-refresh entry: still power-down
    (115, bg(active_standby=11, precharge_standby=24, precharge_powerdown=80), "PDE"),
    # the end exactly at the power-down entry: standby only
    (35, bg(active_standby=11, precharge_standby=24), None),
])
def test_an_idle_rank_at_the_end_of_the_run(end, want, cmd):
    r = Rig(cfg(page_policy="closed"))
    r.req("a", addr(0))
    r.run()
    r.dram.finalize(end * NS)
    entries = {"PDE": [35], "SRE": [115], None: []}[cmd]
    assert [x[0] for x in log(r) if x[1] in ("PDE", "SRE")] == entries
    assert [x[1] for x in log(r) if x[1] in ("PDE", "SRE", "PDX", "SRX")] == ([cmd] if cmd else [])
    assert background(r) == want and r.dram.end_cycle == end
    check_energy(r, act=1, rd=1, bg=want)
    c = r.dram.stats.c
    assert (c["powerdowns"], c["self_refreshes"]) == ((1, 0) if cmd == "PDE" else (0, 1) if cmd else (0, 0))


def test_an_open_row_keeps_the_rank_in_active_power_down_to_the_end():
    r = Rig(cfg())
    r.req("a", addr(0))
    r.run()
    r.dram.finalize(400 * NS)
    # open page: the row stays open, so active power-down from 35 to 400 (no self-refresh)
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (35, "PDE")]
    assert background(r) == bg(active_standby=35, active_powerdown=365)
    check_energy(r, act=1, rd=1, bg=bg(active_standby=35, active_powerdown=365))


def test_no_power_states_when_powerdown_is_off():
    r = Rig(cfg(powerdown=False, page_policy="closed"))
    r.req("a", addr(0))
    r.req("b", addr(0), at_ps=300 * NS)
    r.run()
    r.dram.finalize(400 * NS)
    # b: ACT at 300 at once, RD 304, ends 315, PRE 311
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (11, "PRE"), (300, "ACT"), (304, "RD"), (311, "PRE")]
    assert r.done["b"] == 315 * NS
    assert background(r) == bg(active_standby=22, precharge_standby=378)


# -- refresh -----------------------------------------------------------------------------------------

def test_refresh_wakes_a_powered_down_rank_then_self_refresh_refreshes_itself():
    r = Rig(cfg(timing={"tREFI": 300}))
    r.req("a", addr(0))
    r.run()
    r.dram.finalize(1000 * NS)
    # open page: active power-down at 35. Refresh due at 300: PDX 300, PRE of the open row at 300 + tXP
    # = 313, REF at 313 + tRP 6 = 319, the rank blocked to 369 (idle from there). Due 600: the rank is
    # precharged and idle since 369, past 369 + 100 = 469: in self-refresh it refreshes itself (no REF),
    # and at 900 too; at the end it is still there: SRE 469 logged, no exit
    assert log(r) == [(0, "ACT", 0, 0, 0, 0, -1), (4, "RD", 0, 0, 0, 0, 0), (35, "PDE", 0, -1, -1, -1, -1),
                      (300, "PDX", 0, -1, -1, -1, -1), (313, "PRE", 0, 0, 0, 0, -1), (319, "REF", 0, -1, -1, -1, -1),
                      (469, "SRE", 0, -1, -1, -1, -1)]
    want = bg(active_standby=48, precharge_standby=76, active_powerdown=265, precharge_powerdown=80,
              self_refresh=531)
    assert background(r) == want
    check_energy(r, act=1, rd=1, ref=1, bg=want)
    c = r.dram.stats.c
    assert (c["ref"], c["pre"], c["powerdowns"], c["self_refreshes"]) == (1, 1, 1, 1)


def test_a_request_after_self_refresh_waits_for_the_refresh_it_missed_no_more():
    # as above, then a read at 950: SRX at 950, ACT at 950 + tXS 23 = 973; the refreshes due at 600
    # and 900 were done by the device, the next is due at 1200
    r = Rig(cfg(timing={"tREFI": 300}))
    r.req("a", addr(0))
    r.req("b", addr(0), at_ps=950 * NS)
    r.run()
    r.dram.finalize(1100 * NS)
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (35, "PDE"), (300, "PDX"), (313, "PRE"), (319, "REF"),
                                       (469, "SRE"), (950, "SRX"), (973, "ACT"), (977, "RD"), (1008, "PDE")]
    assert r.done["b"] == 988 * NS and r.dram.stats.c["ref"] == 1


def test_two_ranks_refresh_staggered():
    r = Rig(cfg(powerdown=False, org={"ranks": 2}, timing={"tREFI": 400}))
    r.req("a", addr(0, rank=1, ranks=2))
    r.run()
    r.dram.finalize(1000 * NS)
    # rank 0 due at (0 + 1) x 400 / 2 = 200, then 600; rank 1 at 400, 800. Rank 1's open row (ACT 0)
    # is precharged first: PRE at 400, REF at 406; rank 0 has nothing open: REF at its due time
    assert [x[:3] for x in log(r)] == [(0, "ACT", 1), (4, "RD", 1), (200, "REF", 0), (400, "PRE", 1),
                                       (406, "REF", 1), (600, "REF", 0), (800, "REF", 1)]
    assert r.dram.stats.c["ref"] == 4
    # rank 0 precharged all 1000 cycles; rank 1 active 0..400
    assert background(r) == bg(active_standby=400, precharge_standby=1600)
    check_energy(r, act=1, rd=1, ref=4, bg=bg(active_standby=400, precharge_standby=1600))


# -- page policies --------------------------------------------------------------------------------

def test_adaptive_page_precharges_an_idle_bank_after_its_timeout():
    r = Rig(cfg(page_policy="adaptive", page_timeout_cycles=30))
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=100 * NS)
    r.run()
    # RD 4; the bank idle since its last column command: PRE at 4 + 30 = 34 (past tRAS 11, tRTP 9), idle
    # from 34: precharge power-down at 54; b at 100: PDX 100, ACT at 113 (the row was closed), RD 117
    assert log(r) == [(0, "ACT", 0, 0, 0, 0, -1), (4, "RD", 0, 0, 0, 0, 0), (34, "PRE", 0, 0, 0, 0, -1),
                      (54, "PDE", 0, -1, -1, -1, -1), (100, "PDX", 0, -1, -1, -1, -1),
                      (113, "ACT", 0, 0, 0, 0, -1), (117, "RD", 0, 0, 0, 0, 1)]
    assert r.done["b"] == 128 * NS
    want = bg(active_standby=34 + 15, precharge_standby=20 + 13, precharge_powerdown=46)
    assert background(r) == want
    check_energy(r, act=2, rd=2, bg=want)
    c = r.dram.stats.c
    assert (c["row_misses"], c["row_hits"], c["row_conflicts"], c["pre"]) == (2, 0, 0, 1)


def test_adaptive_page_keeps_the_row_when_power_down_comes_first():
    # timeout 40: the PRE would be at 44, past the power-down entry at 35: the rank powers down with the
    # row open (active power-down), and b hits it (as on an open page)
    r = Rig(cfg(page_policy="adaptive", page_timeout_cycles=40))
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=100 * NS)
    r.run()
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (35, "PDE"), (100, "PDX"), (113, "RD")]
    assert r.done["b"] == 124 * NS
    assert background(r) == bg(active_standby=59, active_powerdown=65)


def test_adaptive_page_without_power_down_precharges_at_the_timeout():
    r = Rig(cfg(page_policy="adaptive", page_timeout_cycles=40, powerdown=False))
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=100 * NS)
    r.run()
    # PRE at 4 + 40 = 44; b at 100: ACT 100, RD 104, ends 115
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (44, "PRE"), (100, "ACT"), (104, "RD")]
    assert r.done["b"] == 115 * NS
    assert background(r) == bg(active_standby=44 + 15, precharge_standby=56)


def test_adaptive_page_waits_for_tras_before_an_idle_precharge():
    r = Rig(cfg(page_policy="adaptive", page_timeout_cycles=2, powerdown=False))
    r.req("a", addr(0))
    r.run()
    r.dram.finalize(50 * NS)
    # the timeout would close at 4 + 2 = 6: tRAS holds it to 11
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (11, "PRE")]
    assert background(r) == bg(active_standby=11, precharge_standby=39)


def test_closed_page_write_precharges_after_the_write_recovery():
    r = Rig(cfg(page_policy="closed", powerdown=False))
    r.req("w", addr(2, bg=1, ba=3, col=6), cmd=Cmd.WRITE)
    r.run()
    r.dram.finalize(40 * NS)
    # the posted write drains at once (low watermark 0): ACT 0, WR 4, data 9..13, PRE at 13 + tWR 9 = 22
    assert log(r) == [(0, "ACT", 0, 1, 3, 2, -1), (4, "WR", 0, 1, 3, 2, 6), (22, "PRE", 0, 1, 3, 2, -1)]
    assert r.done["w"] == 1 * NS
    assert background(r) == bg(active_standby=22, precharge_standby=18)
    check_energy(r, act=1, wr=1, bg=bg(active_standby=22, precharge_standby=18))
    c = r.dram.stats.c
    assert (c["wr"], c["bursts"], c["row_misses"], c["pre"]) == (1, 1, 1, 1)


# -- buses and ranks ----------------------------------------------------------------------------------

def test_a_rank_switch_leaves_trtrs_on_the_data_bus():
    r = Rig(cfg(powerdown=False, org={"ranks": 2}))
    r.req("r0", addr(0, rank=0, ranks=2))
    r.req("r1", addr(0, rank=1, ranks=2))
    r.run()
    # round robin from the bank after 0 reaches rank 1's bank (local 8) before rank 0's (local 0): ACT
    # rank 1 at 0, rank 0 at 1 (no tRRD across ranks); RD rank 1 at 4, data 11..15; RD rank 0 at
    # max(1 + 4, 15 + tRTRS 2 - CL 7 = 10) = 10, ends 21
    assert [x[:3] for x in log(r)] == [(0, "ACT", 1), (1, "ACT", 0), (4, "RD", 1), (10, "RD", 0)]
    assert r.done == {"r1": 15 * NS, "r0": 21 * NS}


def test_hbm_issues_a_row_and_a_column_command_in_one_cycle():
    def run(preset):
        r = Rig(cfg(preset=preset, powerdown=False))
        r.req("a", addr(0))
        r.req("b", addr(0, bg=1), at_ps=4 * NS)
        r.run()
        return r
    # a (bank 0): ACT 0, its RD ready at tRCD 4; b (bank 4) arrives at 4, its ACT ready at 4 too.
    # HBM: separate row and column buses, both at 4; RD b at max(4 + 4, 4 + tCCD_S 5, a's data end
    # 15 - CL 7) = 9, ends 20
    hbm = run("HBM2")
    assert [x[:3] for x in log(hbm)] == [(0, "ACT", 0), (4, "ACT", 0), (4, "RD", 0), (9, "RD", 0)]
    assert [x[3] for x in log(hbm)] == [0, 1, 0, 1]
    assert hbm.done == {"a": 15 * NS, "b": 20 * NS}
    # DDR4: one command a cycle. Round robin from the bank after 0 (the last served) reaches bank 4
    # before bank 0: ACT b at 4, RD a at 5 (ends 16), RD b at max(8, 5 + 5, 16 - 7) = 10, ends 21
    ddr = run("DDR4-3200")
    assert [x[:2] for x in log(ddr)] == [(0, "ACT"), (4, "ACT"), (5, "RD"), (10, "RD")]
    assert [x[3] for x in log(ddr)] == [0, 1, 0, 1]
    assert ddr.done == {"a": 16 * NS, "b": 21 * NS}


def test_two_channels_log_their_commands_apart():
    c = cfg(powerdown=False, org={"channels": 2}, address_mapping="rochrababgco")
    r = Rig(c)
    d = r.dram
    # rochrababgco: the channel field sits above the rank (no rank bits), below the row
    a0 = addr(0)
    a1 = a0 + (1 << (6 + 3 + 1 + 2))  # column 3 bits, bank group 1, bank 2 -> channel bit
    assert d.decode(a0)[0] == 0 and d.decode(a1)[0] == 1
    r.req("a", a0)
    r.req("b", a1)
    r.run()
    df = r.log()
    # each channel: ACT 0, RD 4 (independent command buses), ends 15
    assert df[["cycle", "channel", "rank", "bankgroup", "bank"]].values.tolist() == [
        [0, 0, 0, 0, 0], [0, 1, 0, 0, 0], [4, 0, 0, 0, 0], [4, 1, 0, 0, 0]]
    # global bank numbers run on across channels: channel 1's bank 0 is 8
    assert [row[2] for row in d.command_records().tolist()] == [0, 8, 0, 8]
    assert r.done == {"a": 15 * NS, "b": 15 * NS}
    assert d.busy_units == 2


# -- interface -----------------------------------------------------------------------------------

def test_decode_fields_and_column_offset():
    d = Rig(cfg()).dram
    assert d.decode(addr(5, bg=1, ba=3, col=6) + 63) == (0, 0, 1, 3, 5, 6)
    assert d.decode(addr(5, bg=1, ba=3, col=6) + 64) == (0, 0, 1, 3, 5, 7)
    assert d.decode(addr(15, bg=0, ba=2, col=7)) == (0, 0, 0, 2, 15, 7)


def test_will_accept_follows_the_queues():
    r = Rig(cfg(powerdown=False, read_queue_depth=1, command_queue_depth=1, write_queue_depth=1,
                write_low_watermark=1, write_high_watermark=1))
    d = r.dram
    assert d.will_accept(addr(0), False) and d.will_accept(addr(0), True)
    r.req("r0", addr(0))
    r.req("r1", addr(0, col=1))
    r.env.run(until=1)
    # r0 went to its bank's command queue (depth 1), r1 fills the read queue (depth 1)
    assert not d.will_accept(addr(0, col=2), False)
    assert d.will_accept(addr(0, col=2), True)
    r.run()
    assert d.will_accept(addr(0, col=2), False)


def test_will_accept_with_an_offer_waiting():
    r = Rig(cfg(powerdown=False, read_queue_depth=1, command_queue_depth=1))
    d = r.dram
    for i in range(3):
        r.req(f"r{i}", addr(0, col=i))
    r.env.run(until=1)
    # r2 waits at the offering side: nothing is accepted before it, not even a write
    assert not d.will_accept(addr(3), True) and not d.will_accept(addr(3), False)


def test_will_accept_a_read_of_a_buffered_write_with_the_read_queue_full():
    # the write buffer drains only when full (2 writes): one write stays posted
    r = Rig(cfg(powerdown=False, write_queue_depth=2, write_low_watermark=2, read_queue_depth=1,
                command_queue_depth=1))
    d = r.dram
    r.req("w0", addr(3, bg=1), cmd=Cmd.WRITE)
    r.req("r0", addr(0))
    r.req("r1", addr(0, col=1))
    r.env.run(until=1)
    # r0 in its bank's command queue, r1 fills the read queue: a read is refused unless it is forwarded
    assert not d.will_accept(addr(0, col=2), False)
    assert d.will_accept(addr(3, bg=1), False)
    assert d.will_accept(addr(3, bg=1, col=1), True)  # one of two buffer entries free
    r.req("w1", addr(3, bg=1), cmd=Cmd.WRITE, at_ps=2)
    r.req("r2", addr(3, bg=1), at_ps=3)
    r.run()
    # the write to the buffered address merges (done a cycle after its offer, at cycle 1); the read of it
    # is forwarded (a cycle)
    assert r.done["w0"] == 1 * NS and r.done["w1"] == 2 * NS and r.done["r2"] == 2 * NS
    c = d.stats.c
    assert (c["merged_writes"], c["forwarded_reads"], c["rd"], c["wr"]) == (1, 1, 2, 0)
    r.dram.finalize(40 * NS)
    # finalize drains the buffer: one WR for the merged pair, at the end of the reads (RD 4, 11; data
    # ends 22): ACT (bank 5) at 40, WR at 44
    assert [x[:2] for x in log(r)][-2:] == [(40, "ACT"), (44, "WR")]
    assert (c["wr"], c["write_drains"]) == (1, 1)


def test_reserve_is_refused():
    r = Rig(cfg())
    txn = r.rec.new_transaction(Cmd.READ, DataClass.NONE, 0, 64, "t", "dram", now_ps=0)
    with pytest.raises(SimulationError) as e:
        r.dram.reserve(txn, 0)
    assert str(e.value) == ("dram: the DRAM controller reorders requests, so it cannot book one ahead of time; "
                            "use access() (event-driven)")


def test_command_records_and_sinks():
    got_a, got_b = [], []
    r = Rig(cfg(powerdown=False))
    r.dram.add_command_sink(got_a.append)
    r.dram.add_command_sink(got_b.append)
    r.req("a", addr(1, bg=1, ba=2, col=3))
    r.run()
    rec = r.dram.command_records()
    assert rec.dtype == np.int64
    # global bank = bank group 1 x 4 + bank 2 = 6; command codes ACT 0, RD 2
    assert rec.tolist() == [[0, 0, 6, 0, 1, -1], [4, 0, 6, 2, 1, 3]]
    r.dram.finalize(20 * NS)
    # both sinks get the whole log once, at the end
    for got in (got_a, got_b):
        assert [x.tolist() for x in got] == [[[0, 0, 6, 0, 1, -1], [4, 0, 6, 2, 1, 3]]]
    assert r.dram.command_records().tolist() == rec.tolist()
    df = r.dram.command_log()
    assert df["time_ps"].tolist() == [0, 4 * NS] and df["bankgroup"].tolist() == [1, 1]
    assert df["bank"].tolist() == [2, 2] and df["command"].tolist() == ["ACT", "RD"]


def test_an_empty_log():
    r = Rig(cfg(powerdown=False))
    got = []
    r.dram.add_command_sink(got.append)
    r.dram.finalize(10 * NS)
    assert got == []  # no chunk, not even an empty one
    rec = r.dram.command_records()
    assert rec.shape == (0, 6) and rec.dtype == np.int64
    assert len(r.dram.command_log()) == 0
    assert background(r) == bg(precharge_standby=10)


def test_command_records_need_recording():
    r = Rig(cfg(), record=False)
    with pytest.raises(ConfigError) as e:
        r.dram.command_records()
    assert e.value.key == "record_commands"
    assert str(e.value) == ("record_commands: the command log was not recorded; "
                            "construct Dram(..., record_commands=True)")


def test_a_sink_without_recording_gets_the_log():
    got = []
    r = Rig(cfg(powerdown=False), record=False)
    r.dram.add_command_sink(got.append)
    r.req("a", addr(0))
    r.run()
    r.dram.finalize(r.env.now)
    assert np.concatenate(got).tolist() == [[0, 0, 0, 0, 0, -1], [4, 0, 0, 2, 0, 0]]


@pytest.mark.parametrize("cmd, address, nbytes, msg", [
    (Cmd.READ, 0, 0, "dram: bad access of 0 bytes at 0"),
    (Cmd.WRITE, -64, 64, "dram: bad access of 64 bytes at -64"),
])
def test_bad_transactions_are_refused(cmd, address, nbytes, msg):
    r = Rig(cfg())
    txn = r.rec.new_transaction(cmd, DataClass.NONE, address, nbytes, "t", "dram", now_ps=0)
    with pytest.raises(SimulationError, match=msg):
        r.dram.submit(txn)


def test_repr_names_the_part():
    d = Rig(cfg(page_policy="closed")).dram
    assert repr(d) == ("Dram('dram', DDR4-3200, 1 ch x 1 ranks x 8 banks, tCK 1000 ps, closed page, "
                       f"peak {d.peak_bandwidth_gb_per_s:.1f} GB/s)")
    assert d.peak_bandwidth_gb_per_s == pytest.approx(64 / 8 * 2 / 1.0)  # 8 bytes x 2 beats per 1 ns


def test_queue_full_wait_is_a_stall_of_the_transaction():
    r = Rig(cfg(powerdown=False, read_queue_depth=1, command_queue_depth=1))
    for i in range(3):
        r.req(f"r{i}", addr(0, col=i))
    r.run()
    # r0 to the bank queue, r1 to the read queue, r2 waits at the offer. RD r0 at 4 frees the bank queue:
    # r1 moves, r2 is accepted at 4 (a 4-cycle wait); RD r1 at 4 + tCCD_L 7 = 11, RD r2 at 18, ends 29
    assert r.cmds("RD") == [4, 11, 18] and r.done["r2"] == 29 * NS
    assert r.stall("queue_full") == 4 * NS
    assert list(r.dram.read_latency_ps) == [15 * NS, 22 * NS, 29 * NS]


@pytest.mark.parametrize("starve, cmds", [
    # no aging: the open row serves row_hit_cap = 4 column commands (RD 4, 11, 18, 25: tCCD_L 7 apart),
    # then the head's PRE competes with the next hit (ready at 32) and wins at max(ACT + tRAS 11,
    # 25 + tRTP 5) = 30; ACT row 1 at 36, RD 40; the last hit reopens row 0: PRE max(36 + 11, 40 + 5)
    # = 47, ACT 53, RD 57
    (10**6, [(0, "ACT"), (4, "RD"), (11, "RD"), (18, "RD"), (25, "RD"), (30, "PRE"), (36, "ACT"), (40, "RD"),
             (47, "PRE"), (53, "ACT"), (57, "RD")]),
    # aging after 12 cycles (judged at the command's cycle): the next hit (ready at 11 + tCCD_L 7 = 18)
    # comes after the conflict, queued at 0, has aged (at 12): the hits stop, PRE at 11 + 5 = 16, ACT 22,
    # RD 26; row 0 again: PRE max(22 + 11, 26 + 5) = 33, ACT max(39, 22 + tRC 17) = 39, RDs 43, 50, 57
    (12, [(0, "ACT"), (4, "RD"), (11, "RD"), (16, "PRE"), (22, "ACT"), (26, "RD"), (33, "PRE"), (39, "ACT"),
          (43, "RD"), (50, "RD"), (57, "RD")]),
    # aging after 5: aged at the decision after RD 4 (cycle 5): PRE at max(11, 4 + 5) = 11, ACT 17, RD 21,
    # PRE 28, ACT 34, RDs 38, 45, 52, 59
    (5, [(0, "ACT"), (4, "RD"), (11, "PRE"), (17, "ACT"), (21, "RD"), (28, "PRE"), (34, "ACT"), (38, "RD"),
         (45, "RD"), (52, "RD"), (59, "RD")]),
    # aging after 17: the hit ready at 18 comes after the conflict ages (17), so RD 11 is the last hit; the
    # PRE, legal from max(11, 11 + 5) = 16, waits for the aging: PRE 17 (judged at the decision after RD 11,
    # cycle 11 or 12, the conflict was not aged yet and the hit at 18 went first), ACT 23, RD 27; row 0
    # again: PRE max(23 + 11, 27 + 5) = 34, ACT max(40, 23 + 17) = 40, RDs 44, 51, 58
    (17, [(0, "ACT"), (4, "RD"), (11, "RD"), (17, "PRE"), (23, "ACT"), (27, "RD"), (34, "PRE"), (40, "ACT"),
          (44, "RD"), (51, "RD"), (58, "RD")]),
])
def test_row_hit_cap_and_aging(starve, cmds):
    r = Rig(cfg(powerdown=False, starvation_cycles=starve))
    r.req("a", addr(0))
    r.req("c", addr(1))  # the conflict, older than the hits
    for i in range(1, 5):
        r.req(f"h{i}", addr(0, col=i))
    r.run()
    assert [x[:2] for x in log(r)] == cmds
    c = r.dram.stats.c
    # one miss (the first ACT), two conflicts (rows 1 and 0 again), the other three RDs hits
    assert (c["row_hits"], c["row_misses"], c["row_conflicts"], c["act"], c["pre"]) == (3, 1, 2, 3, 2)


@pytest.mark.parametrize("starve, first", [(10**6, "b"), (12, "a")])
def test_a_tie_of_two_banks_goes_to_the_head_aged_at_the_commands_cycle(starve, first):
    # tCCD_L = tCCD_S = 5. a (2 bursts, bank group 0) and b (2 bursts, bank group 1), all queued at 0;
    # round robin from bank 1: b's bank (local 4) first. ACT b 0, ACT a 2 (tRRD_S), RD b 4 (tRCD), RD a
    # max(2 + 4, 4 + 5) = 9; both second bursts are ready at max(9 + 5, 4 + 5) = 14 (a's: 9 + 5): a tie.
    # Round robin after a's bank: b's at 14, a's at 19. With starvation 12 both heads (queued at 0) are
    # aged at 14 (not yet at the decision after RD 9): the oldest, a's, goes first. Reads end at the
    # last RD + CL 7 + burst 4.
    r = Rig(cfg(powerdown=False, starvation_cycles=starve, timing={"tCCD_L": 5}))
    r.req("a", addr(0, bg=0), nbytes=128)
    r.req("b", addr(0, bg=1), nbytes=128)
    r.run()
    second = [(14, 0 if first == "a" else 1), (19, 1 if first == "a" else 0)]
    assert [(x[0], x[1], x[3]) for x in log(r)] == [(0, "ACT", 1), (2, "ACT", 0), (4, "RD", 1), (9, "RD", 0)] + [
        (c, "RD", g) for c, g in second]
    assert r.done == {first: 25 * NS, ("b" if first == "a" else "a"): 30 * NS}


def test_the_log_goes_to_the_sink_in_sorted_chunks(monkeypatch):
    """With a chunk of one row, the log is handed on as soon as a prefix of it is final: the rows
    before the channel's decision cycle and before the start of an idle rank's idle time (its
    power-down entry is logged only when it wakes)."""
    import tlmsim.hw.dram as dram_module

    monkeypatch.setattr(dram_module, "_LOG_CHUNK", 1)
    monkeypatch.setattr(dram_module, "_HAND_ROWS", 1)
    chunks = []
    r = Rig(cfg(), record=False)
    r.dram.add_command_sink(lambda rows: chunks.append(rows[:, 0].tolist()))
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=100 * NS)
    r.run()
    r.dram.finalize(r.env.now)
    # as in test_active_power_down_between_two_reads_of_an_open_row: ACT 0, RD 4, PDE 35, PDX 100, RD 113.
    # b's arrival at 100 logs PDE 35 with the rank idle since 15: ACT and RD go; PDX at 100 (the rank
    # still idle from 15) holds PDE back; once b is queued, RD 113 is logged with the channel at 100:
    # PDE goes; PDX and RD at the end
    assert chunks == [[0, 4], [35], [100, 113]]


def test_the_kept_log_joins_its_chunks(monkeypatch):
    import tlmsim.hw.dram as dram_module

    monkeypatch.setattr(dram_module, "_LOG_CHUNK", 1)
    monkeypatch.setattr(dram_module, "_HAND_ROWS", 1)
    r = Rig(cfg())
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=100 * NS)
    r.run()
    # before finalize: the chunks handed on so far ([0, 4], [35]) and the rest (PDX 100, RD 113)
    assert r.dram.command_records()[:, 0].tolist() == [0, 4, 35, 100, 113]
    assert r.dram.command_records()[:, 3].tolist() == [0, 2, 5, 6, 2]  # ACT RD PDE PDX RD
    r.dram.finalize(r.env.now)
    assert r.dram.command_records()[:, 0].tolist() == [0, 4, 35, 100, 113]


def test_a_request_size_not_a_power_of_two_is_refused():
    # a 48-bit bus with BL8: 48-byte bursts
    with pytest.raises(ConfigError, match="request size 48 B is not a power of two") as e:
        Rig(cfg(org={"bus_width_bits": 48}))
    assert e.value.key == "dram.org"


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_finalize_drains_a_posted_write_past_the_end(policy):
    r = Rig(cfg(write_low_watermark=2, page_policy=policy))
    r.req("w", addr(2, bg=1, col=3), cmd=Cmd.WRITE)
    r.run()
    assert r.done["w"] == 1 * NS and r.dram.stats.c["wr"] == 0  # posted, below the low watermark
    r.dram.finalize(10 * NS)
    # the drain at the end (cycle 10): ACT 10, WR 14, write data 19..23: the run ends at 23; closed page
    # logs its auto-precharge at 23 + tWR 9 = 32
    want = [(10, "ACT", 0, 1, 0, 2, -1), (14, "WR", 0, 1, 0, 2, 3)]
    assert log(r) == want + ([(32, "PRE", 0, 1, 0, 2, -1)] if policy == "closed" else [])
    assert r.dram.end_cycle == 23
    assert background(r) == bg(precharge_standby=10, active_standby=13)
    check_energy(r, act=1, wr=1, bg=bg(precharge_standby=10, active_standby=13))
    assert r.dram.stats.c["write_drains"] == 1


def test_a_request_exactly_at_the_self_refresh_entry_finds_power_down():
    r = Rig(cfg(page_policy="closed"))
    r.req("a", addr(0))
    r.req("b", addr(0), at_ps=115 * NS)
    r.run()
    # idle from 15: self-refresh would start at 115, but b arrives then: power-down (PDE 35) exit at 115,
    # ACT at 115 + tXP 13 = 128, RD 132, ends 143, auto-PRE max(128 + 11, 132 + 5) = 139
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (11, "PRE"), (35, "PDE"), (115, "PDX"), (128, "ACT"),
                                       (132, "RD"), (139, "PRE")]
    assert r.done["b"] == 143 * NS
    assert background(r) == bg(active_standby=11 + 11, precharge_standby=24 + 13 + 4, precharge_powerdown=80)


def test_a_refresh_due_while_in_self_refresh_is_done_by_the_device():
    r = Rig(cfg(page_policy="closed", timing={"tREFI": 130}))
    r.req("a", addr(0))
    r.req("b", addr(0), at_ps=120 * NS)
    r.run()
    r.dram.finalize(300 * NS)
    # SRE 115; b at 120: SRX at 115 + tCKESR 19 = 134, past the refresh due at 130: the device did it, the
    # next is due at 260. ACT 134 + tXS 23 = 157, RD 161, ends 172, PRE 168; idle from 172: PDE 192; the
    # refresh at 260 wakes the rank: PDX 260, REF at 260 + tXP = 273 (the rank blocked past the end)
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (11, "PRE"), (115, "SRE"), (134, "SRX"), (157, "ACT"),
                                       (161, "RD"), (168, "PRE"), (192, "PDE"), (260, "PDX"), (273, "REF")]
    assert r.done["b"] == 172 * NS
    want = bg(active_standby=22, precharge_standby=24 + 23 + 24 + 13 + 27, precharge_powerdown=80 + 68,
              self_refresh=19)
    assert background(r) == want
    check_energy(r, act=2, rd=2, ref=1, bg=want)


def test_a_closed_page_rank_in_self_refresh_is_not_woken_for_a_refresh():
    r = Rig(cfg(page_policy="closed", timing={"tREFI": 500}))
    r.req("a", addr(0))
    r.run()
    r.dram.finalize(1200 * NS)
    # a: ACT 0, RD 4, auto-PRE max(0 + tRAS 11, 4 + tRTP 5) = 11, idle from the data end 15: precharge
    # power-down 35, SRE 15 + 100 = 115. The refreshes due at 500 and 1000 find the rank precharged (its
    # auto-precharge at 11 is past) and in self-refresh: the device does them, no SRX, no REF (the
    # past auto-precharge was once taken for an open bank: SRX 500, REF 523, SRE 673)
    assert log(r) == [(0, "ACT", 0, 0, 0, 0, -1), (4, "RD", 0, 0, 0, 0, 0), (11, "PRE", 0, 0, 0, 0, -1),
                      (115, "SRE", 0, -1, -1, -1, -1)]
    assert r.done == {"a": 15 * NS}
    # active 0..11, precharge standby 11..35, precharge power-down 35..115, self-refresh 115..1200
    want = bg(active_standby=11, precharge_standby=24, precharge_powerdown=80, self_refresh=1085)
    assert background(r) == want
    check_energy(r, act=1, rd=1, bg=want)
    c = r.dram.stats.c
    assert (c["ref"], c["pre"], c["powerdowns"], c["self_refreshes"]) == (0, 1, 0, 1)


def test_every_rank_of_every_channel_powers_down_on_its_own():
    r = Rig(cfg(org={"channels": 2, "ranks": 2}))
    # rochrababgco: row, channel, rank, bank, bank group, column (3 bits): channel 1, rank 1, row 0
    a = ((1 * 2 + 1) * 4 * 2 * 8) * 64
    assert r.dram.decode(a) == (1, 1, 0, 0, 0, 0)
    r.req("a", a)
    r.run()
    r.dram.finalize(100 * NS)
    df = r.log()
    # the three idle ranks power down at 0 + 20 (precharged), the busy one at 15 + 20 = 35 (row open)
    assert df[["cycle", "command", "channel", "rank"]].values.tolist() == [
        [0, "ACT", 1, 1], [4, "RD", 1, 1], [20, "PDE", 0, 0], [20, "PDE", 0, 1], [20, "PDE", 1, 0], [35, "PDE", 1, 1]]
    want = bg(active_standby=35, active_powerdown=65, precharge_standby=3 * 20, precharge_powerdown=3 * 80)
    assert background(r) == want
    check_energy(r, act=1, rd=1, bg=want)
    assert r.dram.stats.c["powerdowns"] == 4


def test_will_accept_catches_up_with_the_commands_due_before_now():
    # an 8-burst read with a read queue of 7 and a command queue of 1: one burst in the command queue,
    # seven fill the read queue. Its RDs follow every tCCD_L 7 (4, 11, 18, 25, ...), each moving one
    # burst on; the controller wakes only for the read's end, so will_accept itself catches up
    r = Rig(cfg(powerdown=False, read_queue_depth=7, command_queue_depth=1))
    d = r.dram
    r.req("R", addr(0), nbytes=8 * 64)
    r.env.run(until=1)
    assert not d.will_accept(addr(1, bg=1), False)
    r.env.run(until=30 * NS)
    assert d.will_accept(addr(1, bg=1), False)  # RDs at 4, 11, 18, 25 freed four entries
    r.run()
    assert r.cmds("RD") == [4, 11, 18, 25, 32, 39, 46, 53] and r.done["R"] == 64 * NS


def test_will_accept_looks_at_the_channel_of_the_address():
    r = Rig(cfg(powerdown=False, read_queue_depth=7, command_queue_depth=1, org={"channels": 2}))
    d = r.dram
    a1 = addr(0) + (1 << 12)  # channel 1 (the bit above bank, bank group and column)
    assert d.decode(a1)[0] == 1
    r.req("R", a1, nbytes=8 * 64)
    r.env.run(until=1)
    # channel 1's read queue is full, channel 0's empty
    assert not d.will_accept(a1, False) and not d.will_accept(a1 + 2 * 64, False)
    assert d.will_accept(addr(0), False) and d.will_accept(addr(0, col=2), False)


def test_self_refresh_with_the_power_down_timeout():
    # both timeouts 20: a precharged idle rank goes straight into self-refresh (no power-down time)
    r = Rig(cfg(page_policy="closed", self_refresh_timeout_cycles=20))
    r.req("a", addr(0))
    r.req("b", addr(0), at_ps=100 * NS)
    r.run()
    r.dram.finalize(300 * NS)
    # SRE at 15 + 20 = 35, SRX at 100, ACT 123, RD 127, ends 138, PRE 134; idle from 138: SRE 158 to the end
    assert log(r) == [(0, "ACT", 0, 0, 0, 0, -1), (4, "RD", 0, 0, 0, 0, 0), (11, "PRE", 0, 0, 0, 0, -1),
                      (35, "SRE", 0, -1, -1, -1, -1), (100, "SRX", 0, -1, -1, -1, -1), (123, "ACT", 0, 0, 0, 0, -1),
                      (127, "RD", 0, 0, 0, 0, 0), (134, "PRE", 0, 0, 0, 0, -1), (158, "SRE", 0, -1, -1, -1, -1)]
    want = bg(active_standby=22, precharge_standby=24 + 23 + 24, self_refresh=65 + 142)
    assert background(r) == want
    assert (r.dram.stats.c["self_refreshes"], r.dram.stats.c["powerdowns"]) == (2, 0)


@pytest.mark.parametrize("end, sleep", [(200, "PDE"), (1000, "SRE")])
def test_power_down_during_the_run_and_again_at_its_end(end, sleep):
    r = Rig(cfg(page_policy="closed"))
    r.req("a", addr(0))
    r.req("b", addr(0), at_ps=100 * NS)
    r.run()
    r.dram.finalize(end * NS)
    # PDE 35, PDX 100, ACT 113, RD 117, ends 128, PRE 124; idle from 128: PDE 148 (logged with row and
    # column -1) and, with the run ending at 1000, SRE at 228 instead
    tail = [(148, "PDE", 0, -1, -1, -1, -1)] if sleep == "PDE" else [(228, "SRE", 0, -1, -1, -1, -1)]
    assert log(r) == [(0, "ACT", 0, 0, 0, 0, -1), (4, "RD", 0, 0, 0, 0, 0), (11, "PRE", 0, 0, 0, 0, -1),
                      (35, "PDE", 0, -1, -1, -1, -1), (100, "PDX", 0, -1, -1, -1, -1), (113, "ACT", 0, 0, 0, 0, -1),
                      (117, "RD", 0, 0, 0, 0, 0), (124, "PRE", 0, 0, 0, 0, -1)] + tail
    if sleep == "PDE":
        want = bg(active_standby=22, precharge_standby=24 + 13 + 24, precharge_powerdown=65 + 52)
        counts_ = (2, 0)
    else:
        want = bg(active_standby=22, precharge_standby=24 + 13 + 24, precharge_powerdown=65 + 80, self_refresh=772)
        counts_ = (1, 1)
    assert background(r) == want
    assert (r.dram.stats.c["powerdowns"], r.dram.stats.c["self_refreshes"]) == counts_
    check_energy(r, act=2, rd=2, bg=want)


def test_self_refresh_twice():
    r = Rig(cfg(page_policy="closed"))
    r.req("a", addr(0))
    r.req("b", addr(0), at_ps=300 * NS)
    r.run()
    r.dram.finalize(1000 * NS)
    # as test_self_refresh_then_a_closed_page_read (SRE 115, SRX 300, ACT 323, RD 327, ends 338, PRE 334),
    # then idle from 338: precharge power-down 358..438, self-refresh 438..1000
    assert [x[:2] for x in log(r)][-1] == (438, "SRE")
    want = bg(active_standby=22, precharge_standby=24 + 23 + 24, precharge_powerdown=80 + 80,
              self_refresh=185 + 562)
    assert background(r) == want
    assert r.dram.stats.c["self_refreshes"] == 2


def test_energy_scales_with_the_clock_period():
    # tCK 0.5 ns: one mA x cycle costs 1.5 V x 0.5 ns x 2 devices = 1.5 pJ (half of K)
    r = Rig(cfg(powerdown=False, timing={"tck_ps": 500}))
    r.req("a", addr(0))
    r.run()
    assert r.done["a"] == 15 * 500  # RD 4 + CL 7 + burst 4 cycles
    r.dram.finalize(r.env.now)
    assert background(r) == bg(active_standby=15)
    assert r.dram.energy_pj() == pytest.approx({
        "activate": 1080 * 1.5, "read": 160 * 4 * 1.5, "write": 0.0, "refresh": 0.0, "io": 256.0,
        "background_active_standby": 15 * 40 * 1.5, "background_precharge_standby": 0.0,
        "background_active_powerdown": 0.0, "background_precharge_powerdown": 0.0,
        "background_self_refresh": 0.0}, rel=1e-12)


def test_a_drain_moves_no_read_into_a_full_command_queue():
    # read queue 2, command queue 1 per bank, a one-entry write buffer (it drains at once)
    r = Rig(cfg(powerdown=False, read_queue_depth=2, command_queue_depth=1, write_queue_depth=1))
    d = r.dram
    for i in range(3):
        r.req(f"r{i}", addr(0, col=i))  # r0 in bank 0's command queue, r1 and r2 fill the read queue
    r.req("w", addr(0, bg=1), cmd=Cmd.WRITE)  # the drain moves it to bank 4's queue; bank 0's stays full
    r.env.run(until=1)
    assert not d.will_accept(addr(5, bg=1, ba=1), False)
    assert d.will_accept(addr(5, bg=1, ba=1), True)
    r.run()
    # both ACTs ready at 0: round robin from bank 1 reaches bank 4 first: ACT (write) 0, ACT (reads) at
    # tRRD_S 2; WR at tRCD 4, write data 9..13; RD at max(2 + 4, WR + tCCD_S 5, 13 + tWTR_S 3) = 16 (the
    # other bank group), then every tCCD_L 7
    assert r.cmds("ACT") == [0, 2] and r.cmds("WR") == [4] and r.cmds("RD") == [16, 23, 30]
    assert r.done == {"w": 1 * NS, "r0": 27 * NS, "r1": 34 * NS, "r2": 41 * NS}


def test_a_write_waiting_for_a_full_write_buffer_stalls():
    # a one-entry write buffer and a two-burst write: the first burst takes the buffer and drains at once
    # (ACT 0, WR 4); the second waits at the offering side until that WR leaves room: accepted at 4 (a
    # 4-cycle queue_full stall), so the write is done at 5
    r = Rig(cfg(powerdown=False, write_queue_depth=1))
    r.req("w", addr(0), cmd=Cmd.WRITE, nbytes=128)
    r.run()
    assert r.done == {"w": 5 * NS}
    assert r.stall("queue_full") == 4 * NS
    assert r.cmds("WR") == [4, 11]  # the second drained at once too, tCCD_L 7 later


@pytest.mark.parametrize("trefi, want", [
    # idle since 0: the refresh due at 54 finds the rank in power-down (from 20): PDX 54, REF at 54 + tXP 13,
    # the rank blocked to 67 + tRFC 49 (tREFI - tRFC must be > tRCD 4) = 116; the one due at 108 waits for
    # it: REF 116 (the run ends at 150)
    (54, [(20, "PDE"), (54, "PDX"), (67, "REF"), (116, "REF")]),
    # due at 100, exactly when self-refresh would start: still power-down, REF at 113
    (100, [(20, "PDE"), (100, "PDX"), (113, "REF")]),
    # due at 101: in self-refresh since 100, the device refreshes itself; the run ends there (SRE 100)
    (101, [(100, "SRE")]),
])
def test_a_refresh_of_an_idle_rank(trefi, want):
    r = Rig(cfg(timing={"tREFI": trefi, "tRFC": 49}))
    r.dram.finalize(150 * NS)
    assert [x[:2] for x in log(r)] == want
    assert r.dram.stats.c["ref"] == sum(1 for _, c in want if c == "REF")


def test_a_refresh_in_self_refresh_entered_at_the_power_down_timeout():
    # both timeouts 20: self-refresh from 20; the refreshes due at 100 and 200 are the device's own
    r = Rig(cfg(self_refresh_timeout_cycles=20, timing={"tREFI": 100}))
    r.dram.finalize(250 * NS)
    assert [x[:2] for x in log(r)] == [(20, "SRE")]
    assert background(r) == bg(precharge_standby=20, self_refresh=230)
    assert r.dram.stats.c["ref"] == 0


def test_a_rank_in_self_refresh_beside_a_busy_one():
    r = Rig(cfg(org={"ranks": 2}, timing={"tREFI": 400}))
    r.req("a", addr(0, rank=1, ranks=2), at_ps=150 * NS)
    r.req("b", addr(0, col=1, rank=1, ranks=2), at_ps=250 * NS)
    r.run()
    r.dram.finalize(350 * NS)
    # both ranks idle from 0: self-refresh from 100. Rank 1: a at 150: SRX 150, ACT 173 (tXS 23), RD 177,
    # ends 188; idle: active power-down 208; b at 250: PDX 250, RD (a hit) 263, ends 274; PDE 294 to the end.
    # Rank 0 stays in self-refresh: its refresh due at 200 (staggered: 400 / 2) is its own, the next is
    # due at 600, after the end: no REF while rank 1 works
    assert [x[:3] for x in log(r)] == [(100, "SRE", 1), (100, "SRE", 0), (150, "SRX", 1), (173, "ACT", 1),
                                       (177, "RD", 1), (208, "PDE", 1), (250, "PDX", 1), (263, "RD", 1),
                                       (294, "PDE", 1)]
    assert r.done == {"a": 188 * NS, "b": 274 * NS}
    # rank 1: 20 + 23 precharge standby, 80 precharge power-down, 50 self-refresh, 35 + 44 active, 42 + 56
    # active power-down; rank 0: 20 precharge standby, 80 precharge power-down, 250 self-refresh
    want = bg(precharge_standby=63, precharge_powerdown=160, self_refresh=300, active_standby=79,
              active_powerdown=98)
    assert background(r) == want
    check_energy(r, act=1, rd=2, bg=want)


def test_an_idle_precharge_then_self_refresh_skips_the_refresh():
    r = Rig(cfg(page_policy="adaptive", page_timeout_cycles=30, timing={"tREFI": 300}))
    r.req("a", addr(0))
    r.run()
    r.dram.finalize(600 * NS)
    # RD 4, idle precharge at 34, idle from 34: power-down 54, self-refresh 134; the refresh due at 300 is
    # the device's own (the rank is precharged: the idle PRE was a command on the bus)
    assert [x[:2] for x in log(r)] == [(0, "ACT"), (4, "RD"), (34, "PRE"), (134, "SRE")]
    assert background(r) == bg(active_standby=34, precharge_standby=20, precharge_powerdown=80, self_refresh=466)
    assert r.dram.stats.c["ref"] == 0


def test_adaptive_page_on_the_second_channel():
    r = Rig(cfg(powerdown=False, page_policy="adaptive", page_timeout_cycles=30, org={"channels": 2}))
    r.req("a", addr(0) + (1 << 12))  # channel 1, bank 0
    r.run()
    r.dram.finalize(100 * NS)
    # one idle precharge at 4 + 30 = 34, and the bank stays closed
    assert r.log()[["cycle", "command", "channel"]].values.tolist() == [[0, "ACT", 1], [4, "RD", 1], [34, "PRE", 1]]
    assert background(r) == bg(active_standby=34, precharge_standby=200 - 34)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_commands_of_one_cycle_stay_in_the_order_they_were_issued(order):
    # two channels fed the same requests: their commands fall on the same cycles; the log is sorted by
    # cycle and keeps the order of issue within a cycle (the channel offered first is advanced first)
    r = Rig(cfg(powerdown=False, org={"channels": 2}))
    got = []
    r.dram.add_command_sink(got.append)
    for i in range(8):
        for ch in order:
            r.req(f"{ch}{i}", addr(i % 2, ba=i % 4) + (ch << 12), nbytes=256)
    r.run()
    rec = r.dram.command_records()
    assert len(rec) == 72
    first, second = order
    assert (rec[0::2, 0] == rec[1::2, 0]).all() and (rec[0::2, 1] == first).all() and (rec[1::2, 1] == second).all()
    # each channel: ACT (bank 1: round robin from the bank after 0) at 0, ACT bank 2 at 3 (tRRD_L: bank
    # group 0), RD bank 1 at tRCD 4 -- channel 1's banks numbered 8 on
    want = {0: [[0, 0, 1, 0], [3, 0, 2, 0], [4, 0, 1, 2]], 1: [[0, 1, 9, 0], [3, 1, 10, 0], [4, 1, 9, 2]]}
    assert rec[:6, :4].tolist() == [x for pair in zip(want[first], want[second]) for x in pair]
    r.dram.finalize(r.env.now)
    assert r.dram.command_records().tolist() == rec.tolist()
    assert np.concatenate(got).tolist() == rec.tolist()  # the sink gets the same rows in the same order


def test_will_accept_no_write_into_a_full_write_buffer():
    # a read fills bank 0's command queue (depth 1); two writes to bank 0 fill the buffer (depth 2): the
    # drain starts but cannot move them, so the buffer stays full until the read's RD
    r = Rig(cfg(powerdown=False, command_queue_depth=1, write_queue_depth=2, write_low_watermark=2))
    d = r.dram
    r.req("r", addr(0))
    r.req("w0", addr(0, col=1), cmd=Cmd.WRITE)
    r.req("w1", addr(0, col=2), cmd=Cmd.WRITE)
    r.env.run(until=1)
    assert not d.will_accept(addr(0, col=5), True)
    assert d.will_accept(addr(0, col=1), True)  # merges with w0
    r.run()
    assert d.will_accept(addr(0, col=5), True)
