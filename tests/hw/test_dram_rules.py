"""DRAM timing rules on a configuration whose timings are all distinct, so that using
one constraint in place of another (tRCD for tRP, the burst for tCCD_L, tWTR_S for
tWTR_L, tRAS for tRTP, CL for CWL) changes a time and fails a direct test.

Written against the rules, not a scheduling order: single-request latencies on an idle
device, one lone stream's spacing, and the independent checker
(tlmsim/verify/dram_timing.py) on every log, also with the constraints swapped.

The configuration (``distinct()``): tCK 1 ns, 1 channel, 1 rank, 2 bank groups x 4
banks, BL8 on 64 bits (burst 4 cycles, 64-byte requests), mapping rochrababgco
(tests/hw/test_dram.py), CL 7, CWL 5, tRCD 4, tRP 6, tRAS 11 (tRC 17), tRRD_S 2,
tRRD_L 3, tCCD_S 5, tCCD_L 7, tFAW 16, tWR 9, tWTR_S 3, tWTR_L 8, tRTP 5, tRTRS 2,
tREFI 5000, tRFC 50.
"""

import pytest

from tests.hw.test_dram import Rig, addr
from tlmsim.engine.transaction import Cmd
from tlmsim.platform.dram import DramConfig
from tlmsim.verify.dram_timing import check_dram_commands

NS = 1000
TIMING = dict(tck_ps=1000, CL=7, CWL=5, AL=0, tRCD=4, tRP=6, tRAS=11, tRRD_S=2, tRRD_L=3, tCCD_S=5, tCCD_L=7,
              tFAW=16, tWR=9, tWTR_S=3, tWTR_L=8, tRTP=5, tRTRS=2, tREFI=5000, tRFC=50)
BURST = 4


def distinct(**timing) -> DramConfig:
    org = dict(channels=1, ranks=1, bankgroups=2, banks_per_group=4, rows=16, columns=64, bus_width_bits=64,
               burst_length=8)
    # write_low_watermark 0: a posted write drains as soon as no read is queued, so the write
    # rules show on a single write (the default, 8, keeps up to 8 writes buffered)
    return DramConfig.model_validate({"preset": "DDR4-3200", "org": org, "timing": {**TIMING, **timing},
                                      "write_low_watermark": 0})


def test_the_configuration_really_has_distinct_timings():
    # the resolved spec (what the model and the checker use) carries the overrides, not the preset's
    s = distinct().resolve()
    assert s.burst_cycles == BURST and s.tRC == 11 + 6
    pairs = [("tRCD", "tRP"), ("tCCD_L", "tCCD_S"), ("tWTR_L", "tWTR_S"), ("tRAS", "tRTP"), ("CL", "CWL"),
             ("tRRD_L", "tRRD_S"), ("tWR", "tRTP")]
    assert all(getattr(s, a) == TIMING[a] and getattr(s, a) != getattr(s, b) for a, b in pairs)
    assert s.tCCD_L != s.burst_cycles and s.tCCD_S != s.burst_cycles


def _ok(rig: Rig) -> None:
    assert check_dram_commands(rig.log(), rig.dram.spec) == []


def test_a_single_read_on_an_idle_device():
    r = Rig(distinct())
    r.req("a", addr(3, bg=1, ba=2, col=5))
    r.run()
    # ACT at 0, RD at tRCD = 4, data ends RD + CL + burst = 4 + 7 + 4 = 15
    assert r.cmds("ACT") == [0] and r.cmds("RD") == [4]
    assert r.done["a"] == 15 * NS
    _ok(r)


def test_a_single_write_on_an_idle_device():
    r = Rig(distinct())
    r.req("w", addr(2), cmd=Cmd.WRITE)
    r.run()
    # ACT at 0, WR at tRCD = 4 (data ends WR + CWL + burst = 4 + 5 + 4 = 13); the write is
    # posted: it completes when the controller accepts it, one cycle after it arrives
    assert r.cmds("ACT") == [0] and r.cmds("WR") == [4]
    assert r.done["w"] == 1 * NS
    _ok(r)


def test_a_row_conflict_on_an_idle_device():
    r = Rig(distinct())
    first = r.req("a", addr(0))
    r.req("b", addr(1), after=first)  # same bank, another row, issued when a is done (15)
    r.run()
    # a: ACT 0, RD 4, done 15. b at 15: PRE at max(15, ACT + tRAS = 11, RD + tRTP = 9) = 15,
    # ACT at PRE + tRP = 21 (>= ACT + tRC 17), RD at 21 + tRCD = 25, done 25 + 7 + 4 = 36
    assert r.cmds("PRE") == [15] and r.cmds("ACT") == [0, 21] and r.cmds("RD") == [4, 25]
    assert r.done["b"] == 36 * NS
    _ok(r)


def test_a_row_conflict_right_behind_the_activate_waits_for_tras():
    r = Rig(distinct())
    r.req("a", addr(0))
    r.req("b", addr(1))  # same bank, another row, both at time 0
    r.run()
    # PRE at max(ACT + tRAS = 11, RD 4 + tRTP 5 = 9) = 11; ACT at 11 + tRP 6 = 17 (= tRC); RD 17 + 4 = 21; done 32
    assert r.cmds("PRE") == [11] and r.cmds("ACT") == [0, 17] and r.cmds("RD") == [4, 21]
    assert r.done["b"] == 32 * NS
    _ok(r)


def test_a_lone_stream_of_row_hits_is_spaced_by_tccd_l():
    r = Rig(distinct())
    r.req("s", addr(0), nbytes=4 * 64)  # columns 0..3 of one row of one bank: same bank group
    r.run()
    # ACT 0, RDs every tCCD_L = 7 (not every burst of 4): 4, 11, 18, 25; data ends 25 + 7 + 4 = 36
    assert r.cmds("ACT") == [0] and r.cmds("RD") == [4, 11, 18, 25]
    assert r.done["s"] == 36 * NS
    _ok(r)


def test_reads_in_two_bank_groups_are_spaced_by_tccd_s():
    r = Rig(distinct())
    first = r.req("a", addr(0, bg=0))
    r.req("b", addr(0, bg=1), after=first)  # the other group's bank is closed at 15: ACT 15, RD 19
    r.run()
    assert r.cmds("ACT") == [0, 15] and r.cmds("RD") == [4, 19]
    assert r.done["b"] == 30 * NS  # 19 + 7 + 4
    r2 = Rig(distinct())
    r2.req("a", addr(0, bg=0))
    # both at 0; round robin from bank 0 (the scan starts at bank 1) serves b (bank 4) first: ACT b 0,
    # ACT a tRRD_S 2; RD b 4, RD a max(2 + 4, 4 + tCCD_S 5) = 9
    r2.req("b", addr(0, bg=1))
    r2.run()
    assert r2.cmds("ACT") == [0, 2] and r2.cmds("RD") == [4, 9]
    assert r2.log()["bankgroup"].tolist() == [1, 0, 1, 0]
    assert r2.done == {"b": 15 * NS, "a": 20 * NS}
    _ok(r2)


@pytest.mark.parametrize("same_group, wtr", [(True, 8), (False, 3)])
def test_a_read_after_a_write_waits_for_twtr_of_its_bank_group(same_group, wtr):
    r = Rig(distinct())
    # open both rows first so only the write-to-read rule is left
    bg_read = 0 if same_group else 1
    o1 = r.req("o1", addr(0, bg=0, col=0))
    o2 = r.req("o2", addr(0, bg=bg_read, ba=1 if same_group else 0, col=0), after=o1)
    w = r.req("w", addr(0, bg=0, col=1), cmd=Cmd.WRITE, after=o2)
    r.req("r", addr(0, bg=bg_read, ba=1 if same_group else 0, col=1), after=w)
    r.run()
    (wr,) = r.cmds("WR")
    rds = r.cmds("RD")
    # the write's data ends WR + CWL + burst = WR + 9; the read may not issue before that + tWTR
    assert rds[-1] >= wr + 5 + BURST + wtr
    _ok(r)
    # issued once the posted write was accepted, before its data ends: RD at exactly data end + tWTR
    assert rds[-1] == wr + 5 + BURST + wtr


def _conflict(config: DramConfig) -> Rig:
    """Two rows of one bank at once: ACT, RD, PRE right behind (tRAS/tRTP), ACT (tRP), RD (tRCD)."""
    r = Rig(config)
    r.req("a", addr(0))
    r.req("b", addr(1))
    r.run()
    return r


def _stream(config: DramConfig) -> Rig:
    """A lone stream of row hits in one bank (tCCD_L)."""
    r = Rig(config)
    r.req("s", addr(0), nbytes=4 * 64)
    r.run()
    return r


def _two_banks_one_group(config: DramConfig) -> Rig:
    """Two activates in one bank group at once (tRRD_L)."""
    r = Rig(config)
    r.req("a", addr(0, bg=1, ba=0))
    r.req("b", addr(0, bg=1, ba=2))
    r.run()
    return r


def _write_then_reads(config: DramConfig) -> Rig:
    """A write, then reads in its bank group and in the other one (tWTR_L/S, CL/CWL on the bus)."""
    r = Rig(config)
    o = r.req("open", addr(0, bg=0))
    o2 = r.req("open2", addr(0, bg=1), after=o)
    w = r.req("w", addr(0, bg=0, col=1), cmd=Cmd.WRITE, after=o2)
    r.req("same", addr(0, bg=0, col=2), after=w)
    w2 = r.req("w2", addr(0, bg=0, col=3), cmd=Cmd.WRITE, at_ps=200 * NS)
    # offered after w2's WR (210, once the rank is out of power-down): offered with it, the read of the
    # other group would go first (round robin from bank 0, the last served, reaches bank 4 first)
    r.req("other", addr(0, bg=1, col=1), after=w2, at_ps=215 * NS)
    r.run()
    return r


def _read_then_write(config: DramConfig) -> Rig:
    """A read and a write to two closed banks at once: the write's data follows the read's on the
    bus (read-to-write turnaround: RD + CL + burst + tRTRS - CWL)."""
    r = Rig(config)
    r.req("r", addr(0, bg=0))
    r.req("w", addr(0, bg=1), cmd=Cmd.WRITE)
    r.run()
    return r


SCENARIO = {"tRCD": _conflict, "tRP": _conflict, "tRAS": _conflict, "tRTP": _conflict, "tCCD_L": _stream,
            "tRRD_L": _two_banks_one_group, "tWTR_L": _write_then_reads, "tWTR_S": _write_then_reads,
            "CL": _read_then_write, "CWL": _write_then_reads}


def test_a_write_right_behind_a_read_waits_for_the_bus_turnaround():
    r = _read_then_write(distinct())
    # the posted write drains once no read is queued: the read leaves the queue with its RD at 4,
    # the write's ACT follows at 5; WR at max(5 + tRCD = 9, RD + CL + burst + tRTRS - CWL =
    # 4 + 7 + 4 + 2 - 5 = 12) = 12: the turnaround binds. The write completed when accepted (1).
    assert r.cmds("ACT") == [0, 5] and r.cmds("RD") == [4] and r.cmds("WR") == [12]
    assert r.done["w"] == 1 * NS and r.done["r"] == (4 + 7 + BURST) * NS
    _ok(r)


@pytest.mark.parametrize("key, value", [
    ("tRCD", 6), ("tRP", 4),  # tRCD and tRP taken for each other
    ("tCCD_L", BURST), ("tCCD_L", 5),  # the burst, tCCD_S taken for tCCD_L
    ("tWTR_L", 3), ("tWTR_S", 8),  # tWTR_S and tWTR_L taken for each other
    ("tRAS", 5), ("tRTP", 11),  # tRAS and tRTP taken for each other
    ("tRRD_L", 2),  # tRRD_S taken for tRRD_L
    ("CL", 5), ("CWL", 7),  # CL and CWL taken for each other
])
def test_a_constraint_taken_for_its_neighbour_is_caught(key, value):
    """A model using the neighbour's value where it is shorter breaks the real rule; where it is
    longer, the real model's log breaks the neighbour's rule. Either way the checker objects."""
    real, wrong = distinct(), distinct(**{key: value})
    real_run = SCENARIO[key](real)
    assert check_dram_commands(real_run.log(), real.resolve()) == []
    if value > TIMING[key]:
        assert check_dram_commands(real_run.log(), wrong.resolve()), f"real log accepted under {key}={value}"
    else:
        assert check_dram_commands(SCENARIO[key](wrong).log(), real.resolve()), f"a model with {key}={value} passed"
