"""The DRAM model by hand, session 15 (helper mutSch; mutation run s15sch): what the run of
``Dram._schedule``, ``Dram.finalize``, ``Dram._solo_batch`` 196-226 and ``Dram._acct_to`` on today's
code found unguarded.

Configuration ``cfg()`` of tests/hw/test_dram_by_hand.py: tCK 1 ns, RL 7, tRCD 4, burst 4 cycles, so a
read's data ends RD + 11; power-down after 20 idle cycles (tCKE 12, tXP 13), self-refresh after 100;
mapping rochrababgco, 8 bursts per row.
"""

from tests.hw.test_dram import Rig, addr
from tests.hw.test_dram_by_hand import NS, bg, cfg


def test_finalize_hands_the_sink_the_power_down_entry_of_a_rank_idle_at_the_end():
    # finalize's last flush is final: every row left goes to the sink, also those at or after an idle
    # rank's idle start (a flush that is not final keeps them, _safe_cycle). One read at 0: ACT 0,
    # RD 4 (tRCD), data end 4 + 7 + 4 = 15, idle from 15. Finalized at 50 ns: 50 > 15 + 20, so the
    # rank powers down at 35 (self-refresh at 15 + 100 = 115 is after the end) and stays there; its
    # row is open: active power-down 35..50. The sink gets [0, 4, 35] in one chunk at the end (a
    # flush that is not final would hand on [0, 4] only: 35 is after the idle start 15).
    chunks = []
    r = Rig(cfg(), record=False)
    r.dram.add_command_sink(lambda rows: chunks.append(rows[:, 0].tolist()))
    r.req("a", addr(0))
    r.run()
    assert r.done == {"a": 15 * NS}
    r.dram.finalize(50 * NS)
    assert chunks == [[0, 4, 35]]
    assert r.dram.end_cycle == 50
    assert r.dram.stats.c["powerdowns"] == 1
    assert r.dram.background_cycles() == bg(active_standby=35, active_powerdown=15)
