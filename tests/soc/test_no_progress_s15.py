"""The run loop's no-progress watchdog (session 15): a run whose transactions stop completing
while simulated time goes on is stopped with one message, instead of running forever.

The case that needed it: a DRAM whose refreshes leave too little room for a row's commands.
After a refresh every bank is closed and the next refresh is due tREFI after the last one was
due, so between them a rank has G = tREFI - tRFC cycles. G <= tRCD (no row can open and be read)
is refused when the platform is loaded (tests/integration/test_bad_input.py); a larger G can
still livelock (docs/performance.md, "The refresh no-progress hang"): the refresh is delayed by
the banks open at its due time, the next window starts late by as much, and at G = tRAS + tRP
a request can be caught in ACT, PRE, REF for ever. With DDR4-3200's tRCD 22, tRAS 52, tRP 22
(the preset; tests/platform/test_dram_config.py) and tRFC 560, tREFI 634 (G = 74 = tRAS + tRP)
digits-snn hangs that way (so does tREFI 583, G = 23; 590, 600, 620, 640 and 656 finish; measured
with this file's rig), and `tlmsim run` went on for ever; now it stops with status 2.
"""

from __future__ import annotations

import pytest
import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.errors import SimulationError
from tlmsim.platform import load_platform
from tlmsim.soc.build import build
from tlmsim.soc.run import _refresh_hint, run_guarded, simulate
from tlmsim.workload import load_workload


def _rig(*sets: str):
    platform = load_platform("ddr4-baseline", list(sets))
    workload = load_workload("digits-snn", seed=0).with_weight_bits(platform.pe_array.weight_bits)
    env = simpy.Environment()
    recorder = Recorder()
    _, ctrl, _ = build(platform, workload, env, recorder)
    return platform, env, ctrl, recorder


def test_a_dram_that_only_refreshes_is_stopped_with_the_reason():
    platform, env, ctrl, rec = _rig("dram.timing.tREFI=634")
    with pytest.raises(SimulationError) as e:
        run_guarded(env, ctrl, rec, watchdog_events=20_000, hint=_refresh_hint(platform))
    msg = str(e.value)
    assert msg.startswith("no progress at t=")
    assert "20000 events over " in msg and " ps without a transaction completing; " in msg
    pending = rec.issued - rec.completed
    assert pending > 0 and f"; {pending} transactions pending; " in msg
    assert "loader waits for" in msg  # what the controller's processes wait for, as for a deadlock
    # 634 - 560 = 74 cycles between refreshes; a row surely fits in 22 + 52 + 22 = 96
    assert msg.endswith("; the DRAM's refreshes leave tREFI - tRFC = 74 cycles between them, less than "
                        "tRCD + tRAS + tRP = 96: raise dram.timing.tREFI or lower dram.timing.tRFC")
    assert env.now > 0 and "\n" not in msg


def test_the_watchdog_leaves_a_progressing_run_alone():
    # the same run with the preset's refresh (tREFI 12480, tRFC 560) finishes; a window of 2,000
    # events is still about 7x the longest gap between two completions measured on shipped runs (271)
    platform, env, ctrl, rec = _rig()
    run_guarded(env, ctrl, rec, watchdog_events=2_000, hint=_refresh_hint(platform))
    assert ctrl.done.triggered and rec.completed == rec.issued > 0


@pytest.mark.parametrize("trefi, trfc, want", [
    (12480, 560, ""),                   # DDR4-3200's own: 11920 cycles between refreshes
    (656, 560, ""),                     # exactly tRCD + tRAS + tRP = 96: no hint
    (655, 560, "tREFI - tRFC = 95 cycles between them, less than tRCD + tRAS + tRP = 96"),
    (583, 560, "tREFI - tRFC = 23 cycles between them, less than tRCD + tRAS + tRP = 96"),
])
def test_the_refresh_hint_by_hand(trefi, trfc, want):
    platform = load_platform("ddr4-baseline", [f"dram.timing.tREFI={trefi}", f"dram.timing.tRFC={trfc}"])
    hint = _refresh_hint(platform)
    if not want:
        assert hint == ""
    else:
        assert want in hint and hint.startswith("; the DRAM's refreshes leave ")


def test_simulate_passes_the_hint(monkeypatch):
    seen = {}

    def fake(env, ctrl, recorder, watchdog_events=0, hint=""):
        seen["hint"] = hint
        raise SimulationError("stop")

    monkeypatch.setattr("tlmsim.soc.run.run_guarded", fake)
    platform = load_platform("ddr4-baseline", ["dram.timing.tREFI=600"])
    with pytest.raises(SimulationError, match="stop"):
        simulate(platform, load_workload("digits-snn", seed=0), seed=0)
    assert "tREFI - tRFC = 40 cycles" in seen["hint"]
