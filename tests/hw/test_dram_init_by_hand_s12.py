"""The DRAM model by hand, session 12 (mutation run s12dramC: ``Dram.__init__``, ``finalize``,
``_rank_busy``, ``_finish``, ``_rank_sleep_to_end``, ``_rank_activity``, ``_start_refresh``):
what the run found unguarded.

Same configuration and helpers as tests/hw/test_dram_by_hand.py (``cfg()``: tCK 1 ns, CL 7,
tRCD 4, tRP 6, tRAS 11, burst 4 cycles of a 64-bit bus at burst length 8, so 64-byte bursts;
1 channel, 1 rank, 2 bank groups x 4 banks; power-down after 20 idle cycles, self-refresh
after 100). Only public entry points.
"""

import numpy as np
import pytest
import simpy

from tests.hw.test_dram import Rig, addr
from tests.hw.test_dram_by_hand import cfg
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.errors import ConfigError
from tlmsim.hw.dram import Dram


def test_a_request_size_that_is_not_a_power_of_two_is_refused():
    # a 48-bit bus at burst length 8 moves 48 bytes per burst: the address decoder cuts bursts at
    # a power-of-two offset, so the model refuses it, naming the org section
    with pytest.raises(ConfigError) as e:
        Rig(cfg(org={"bus_width_bits": 48}))
    assert str(e.value) == "dram.org: request size 48 B is not a power of two"
    assert e.value.key == "dram.org"


def test_the_peak_bandwidth_is_one_burst_per_burst_time_per_channel():
    # 64 bytes every 4 cycles of 1 ns: 16 bytes per ns = 16 GB/s; two channels twice that
    assert Rig(cfg()).dram.peak_bandwidth_gb_per_s == 16.0
    assert Rig(cfg(org={"channels": 2})).dram.peak_bandwidth_gb_per_s == 32.0


def test_the_command_sink_gets_the_log_without_a_kept_copy():
    # one read of row 5, bank group 1, bank 3 (global bank 1 x 4 + 3 = 7), column 0, at 0: ACT 0, RD 4
    # (tRCD 4), data end 15; finalized then: no power-down yet. The sink gets (cycle, channel, bank,
    # command, row, column) rows: ACT 0 and RD 2 (COMMAND_NAMES' order); no command log is kept
    chunks = []
    env, rec = simpy.Environment(), Recorder()
    d = Dram(name="dram", env=env, recorder=rec, config=cfg(), command_sink=chunks.append)

    def proc():
        txn = rec.new_transaction(Cmd.READ, DataClass.NONE, addr(row=5, bg=1, ba=3), 64, "t", "dram", now_ps=0)
        yield from d.access(txn)

    env.process(proc())
    env.run()
    assert env.now == 15_000
    d.finalize(env.now)
    assert np.concatenate(chunks).tolist() == [[0, 0, 7, 0, 5, -1], [4, 0, 7, 2, 5, 0]]
    with pytest.raises(ConfigError):
        d.command_records()


def test_a_row_hit_run_is_paced_by_the_burst_when_the_column_gaps_are_shorter():
    # tCCD_S 2 and tCCD_L 3, both below the 4-cycle burst: two 256-byte reads of one row (8 bursts,
    # columns 0-7) after its ACT at 0 issue RDs every 4 cycles, the data bus's pace: 4, 8, ..., 32;
    # a's last data ends 16 + 7 + 4 = 27 ns, b's 32 + 11 = 43 ns
    r = Rig(cfg(powerdown=False, timing=dict(tCCD_S=2, tCCD_L=3)))
    r.req("a", addr(row=1), nbytes=256)
    r.req("b", addr(row=1, col=4), nbytes=256)
    r.run()
    assert r.done == {"a": 27_000, "b": 43_000}
    assert r.cmds("ACT") == [0]
    assert r.cmds("RD") == [4, 8, 12, 16, 20, 24, 28, 32]


def test_one_cycle_bursts_issue_one_rd_per_cycle():
    # burst length 2 on a double-data-rate bus: 1-cycle bursts of 16 bytes; tCCD_S = tCCD_L = 1. A
    # 64-byte read is 4 bursts of one row: ACT 0, RDs 4, 5, 6, 7 (nothing asks for a second cycle
    # between them), the last data ends 7 + CL 7 + 1 = 15 ns
    c = cfg(powerdown=False, org={"burst_length": 2}, timing=dict(tCCD_S=1, tCCD_L=1))
    assert (c.resolve().burst_cycles, c.resolve().request_bytes) == (1, 16)
    r = Rig(c)
    r.req("a", 0, nbytes=64)
    r.run()
    assert r.done == {"a": 15_000}
    assert r.cmds("RD") == [4, 5, 6, 7]
