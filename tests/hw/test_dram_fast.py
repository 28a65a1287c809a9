"""The DRAM model's fast paths: the batched row-hit reads of a lone bank (``_solo_batch``)
and the wake bound, against hand-computed cycles and against the plain scheduler.

Hand-computed values use the DDR4-3200 preset of ddr4-baseline (tCK 630 ps, tRCD 22,
CL 22 (RL 22), tCCD_L 8, burst 4 cycles, mapping rochrababgco with the column lowest:
a 4 KiB block is 64 bursts of one row of one bank) and the tiny DRAM of test_dram.py.
"""

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hw.dram_spy import patch_dram
from tests.hw.test_dram import NS, TIMING, Rig, _run_stream, addr, tiny
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig

DDR4 = DramConfig(preset="DDR4-3200", powerdown=False)


def test_a_4kib_block_reads_every_tccd_l_after_its_activate():
    # idle DDR4-3200: ACT at cycle 0, first RD at tRCD = 22, the other 63 every tCCD_L = 8
    # (same bank, so same bank group); last RD 22 + 63 * 8 = 526, its data ends 526 + 22 + 4 = 552
    r = Rig(DDR4)
    r.req("a", 0, nbytes=4096)
    r.run()
    rd = r.cmds("RD")
    assert r.cmds("ACT") == [0]
    assert rd == [22 + 8 * i for i in range(64)]
    assert r.done["a"] == 552 * 630
    assert r.dram.stats.c["row_hits"] == 63 and r.dram.stats.c["row_misses"] == 1


def test_a_block_queued_behind_another_in_the_same_bank_follows_it():
    # two 4 KiB blocks of one row (columns 0-63 and 64-127), offered together: one ACT, 128 RDs
    # every 8 cycles from 22; the second block ends at 22 + 127 * 8 + 26 = 1064
    r = Rig(DDR4)
    r.req("a", 0, nbytes=4096)
    r.req("b", 4096, nbytes=4096)
    r.run()
    assert r.cmds("RD") == [22 + 8 * i for i in range(128)]
    assert r.done == {"a": 552 * 630, "b": 1064 * 630}
    # both waited at the offering side (queue_full, from the offer at cycle 0 to the acceptance
    # of their last burst): at cycle 0 the command queue takes 8 bursts and the read queue 32; each
    # RD then frees one place, so burst 40 + i is accepted at RD i, at 22 + 8 (i - 1): a's last
    # (burst 64) at RD 24, cycle 206; b's last (burst 128) at RD 88, cycle 718
    assert r.stall("queue_full") == (206 + 718) * 630


def test_lone_bank_reads_end_where_an_offer_to_another_row_arrives():
    # tiny DRAM: a 512 B read (8 bursts, one row of bank 0) then, while it runs, a read of another
    # row of the same bank; FR-FCFS serves the whole open-row block first (row hits), then PRE/ACT
    r = Rig(tiny())
    r.req("a", addr(1), nbytes=512)
    r.req("b", addr(2), at_ps=12 * NS)
    r.run()
    # ACT 0, RDs at tRCD 3 then every tCCD_L 4: 3..31; PRE at max(tRAS 8, last RD 31 + tRTP 2) = 33,
    # ACT at 33 + tRP 3 = 36, RD at 39, data ends 39 + 5 + 4 = 48
    assert r.cmds("RD") == [3 + 4 * i for i in range(8)] + [39]
    assert r.cmds("PRE") == [33] and r.cmds("ACT") == [0, 36]
    assert r.done == {"a": (31 + 9) * NS, "b": 48 * NS}


def test_a_lone_bank_drains_its_read_queue_when_nothing_is_offered():
    # a 2 KiB read (32 bursts, one row): the command queue takes 8, the read queue the other 24,
    # nothing stays offered; RD i at 22 + 8 i, the read queue's oldest moving in at each RD (the
    # batch without offers); the last RD at 22 + 31 * 8 = 270, its data ends 270 + 26 = 296; a
    # second read of the same row offered at cycle 300 finds both queues empty: RD at 300
    # (tCCD_L long past), data ends 326
    r = Rig(DDR4)
    r.req("a", 0, nbytes=2048)
    r.req("b", 2048, at_ps=300 * 630)
    r.run()
    assert r.cmds("RD") == [22 + 8 * i for i in range(32)] + [300]
    assert r.done == {"a": 296 * 630, "b": 326 * 630}
    assert r.stall("queue_full") == 0


# random traffic of whole blocks: several in flight on few banks, so lone-bank batches,
# two-bank alternation, queue-full waits and write drains all occur
_block = st.tuples(st.integers(0, 600), st.booleans(), st.integers(0, 7), st.integers(0, 7),
                   st.sampled_from([64, 256, 512, 512, 1024, 2048]))


@settings(max_examples=150, deadline=None)
@given(items=st.lists(_block, min_size=1, max_size=40), policy=st.sampled_from(["open", "closed", "adaptive"]),
       depth=st.sampled_from([(4, 2), (32, 8)]), powerdown=st.booleans())
def test_batched_reads_match_the_plain_scheduler(items, policy, depth, powerdown):
    rq, cq = depth
    # the tiny DRAM with rows of 32 bursts (256 columns): blocks stay in one row, so lone-bank
    # batches are long
    org = dict(channels=1, ranks=1, bankgroups=2, banks_per_group=4, rows=16, columns=256, bus_width_bits=64,
               burst_length=8)
    cfg = DramConfig.model_validate(dict(
        preset="DDR4-3200", org=org, timing={**TIMING, "tREFI": 700}, page_policy=policy, read_queue_depth=rq,
        write_queue_depth=8, command_queue_depth=cq, write_low_watermark=2, powerdown=powerdown,
        powerdown_timeout_cycles=30, self_refresh_timeout_cycles=500, page_timeout_cycles=15))
    # rows 0-1 of banks 0 and 4 (bank groups 0 and 1): long same-row runs, conflicts, two-bank
    # alternation; one block in three of row 0 bank 0 a write
    stream = [(at * NS, w and row % 3 == 0, (((row % 2) * 4 * 2 + (row // 2) % 2) * 32 + col * 4) * 64, n)
              for at, w, row, col, n in items]
    assert _run_stream(cfg, stream, plain=False) == _run_stream(cfg, stream, plain=True)


def test_wake_bound_of_a_one_bank_group_transaction(monkeypatch):
    # a 4 KiB read in one bank: its last RD is at least 63 tCCD_L after the next decision (the ACT
    # at 0), 504, and its data ends RL + burst = 26 cycles after that RD; a wake at cycle w issues
    # the commands at cycles <= w, so the channel wakes at 504 + 26 - 1 = 529, issues the last RD
    # (at 526) and completes the read at its data end 552, in one wake; not once per halving of
    # the bursts left, as a bound of one burst (4 cycles) per RD would, nor at 504 and again at 526
    wakes = []
    on_wake = Dram._on_wake
    patch_dram(monkeypatch, _on_wake=lambda self, ch, at: (wakes.append(at), on_wake(self, ch, at)))
    env, rec = simpy.Environment(), Recorder()
    dram = Dram(name="dram", env=env, recorder=rec, config=DDR4)
    txn = rec.new_transaction(Cmd.READ, DataClass.NONE, 0, 4096, "t", "dram", now_ps=0)
    dram.submit(txn)
    assert dram._ch[0].wake_at == 529
    env.run()
    assert env.now == 552 * 630
    assert wakes == [529]


# -- per-layer attribution does not depend on how lazily commands are issued ----------------------
import pytest  # noqa: E402

from tlmsim.platform import load_platform  # noqa: E402
from tlmsim.report import build_report  # noqa: E402
from tlmsim.soc.run import simulate  # noqa: E402
from tlmsim.workload import load_workload  # noqa: E402


@pytest.mark.parametrize("dataflow", ["dense-ws", "event"])
def test_layer_counters_equal_the_plain_schedulers(dataflow, monkeypatch):
    # the DRAM counts a command when it issues it, and a completion's trace hop (which the
    # per-layer attribution reads) must see every command issued up to it: then the layers
    # table is the same whether the scheduler wakes at every decision (plain) or lazily
    workload = load_workload("digits-snn", seed=0)
    fast = build_report(simulate(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}"]), workload, seed=0))
    init = Dram.__init__

    def plain_init(self, *args, **kw):
        init(self, *args, **{**kw, "plain": True})

    patch_dram(monkeypatch, __init__=plain_init)
    plain = build_report(simulate(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}"]), workload, seed=0))
    cols = [c for c in fast.layers.columns if "wall" not in c]
    assert fast.layers[cols].equals(plain.layers[cols])
    assert fast.energy.equals(plain.energy)
