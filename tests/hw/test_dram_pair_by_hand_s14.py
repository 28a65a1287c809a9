"""The DRAM controller by hand, session 14 (helper mutDF): what the mutation runs s14df and s14dfB found unguarded
in the functions helper dramfast rewrote for speed (``Dram._finish``, ``Dram._batch_done``,
``Dram._pair_batch``, the new ``Dram._served_n``).

Same configuration and helpers as tests/hw/test_dram_by_hand.py (``cfg()``: every timing distinct;
tCK 1 ns, CL 7, tRCD 4, burst 4, so a lone read is ACT 0, RD 4, data end 15) and
tests/hw/test_dram_by_hand_s9.py (its trace sink, which keeps every hop); the two-bank case uses
tests/hw/test_dram_fast_by_hand_s11.py's setting, run through both schedulers (fast and plain).
"""

import simpy

from tests.hw.test_dram import addr
from tests.hw.test_dram_by_hand import cfg
from tests.hw.test_dram_by_hand_s9 import NS, _Sink
from tests.hw.test_dram_fast_by_hand_s11 import R, a2, log, pair, rds, run
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram, _Txn


def test_a_read_waiting_one_cycle_at_the_offering_side_stalls_one_cycle():
    # read queue 1, command queues 1 (tests/hw/test_dram_by_hand_s9.py's first hop test, r2 offered
    # later): r0 (row 0 col 0) enters its bank's command queue at 0, r1 (col 1) the read queue; r2
    # (col 2) offered at 3 ns (cycle 3) finds both full and waits at the offering side until RD r0 at
    # tRCD 4 frees the command queue (r1 moves in, r2 takes the read queue): 4 - 3 = 1 cycle of
    # queue_full, 1 ns, r2's hop wait. RDs 4, 11, 18 (tCCD_L 7), data ends 15, 22, 29
    sink = _Sink()
    env, rec = simpy.Environment(), Recorder(sinks=[sink])
    d = Dram(name="dram", env=env, recorder=rec, config=cfg(powerdown=False, read_queue_depth=1,
                                                           command_queue_depth=1), record_commands=True)
    ids = {}

    def offer(tag, address, at):
        def proc():
            if at:
                yield env.timeout(at)
            txn = rec.new_transaction(Cmd.READ, DataClass.NONE, address, 64, "t", "dram", now_ps=env.now, layer=5)
            ids[tag] = txn.id
            yield d.submit(txn)
        env.process(proc())

    offer("r0", addr(0, col=0), 0)
    offer("r1", addr(0, col=1), 0)
    offer("r2", addr(0, col=2), 3 * NS)
    env.run()
    assert sorted(sink.hops) == sorted([(ids["r0"], "dram", 0, 15 * NS, 0), (ids["r1"], "dram", 0, 22 * NS, 0),
                                        (ids["r2"], "dram", 3 * NS, 29 * NS, 1 * NS)])
    assert rec.stalls.entries == {("dram", "queue_full", 5): [1, 1 * NS]}
    assert list(d.read_latency_ps) == [15 * NS, 22 * NS, 26 * NS]


def test_a_transaction_whose_last_burst_ended_before_now_completes_now():
    # Dram._finish's clamp: a transaction is never completed in the past. The scheduler's wakes keep
    # completions on time, so no run through access() reaches it; here _finish is handed a read whose
    # last burst's data ended at cycle 50 (50 ns) at 80 ns, offered at 10 ns (cycle 10) and accepted at
    # cycle 12: it completes at 80 ns (its hop ends then, its read latency is 80 - 10 = 70 ns, its
    # event triggers at once), its queue_full wait is 2 cycles (2 ns), and the DRAM's end cycle is 50
    sink = _Sink()
    env, rec = simpy.Environment(), Recorder(sinks=[sink])
    d = Dram(name="dram", env=env, recorder=rec, config=cfg(powerdown=False))
    env.run(until=80 * NS)
    txn = rec.new_transaction(Cmd.READ, DataClass.NONE, addr(0), 64, "t", "dram", now_ps=10 * NS, layer=2)
    ev = simpy.Event(env)
    tx = _Txn(txn, ev, 0, 10 * NS, 10)
    tx.accepted = 12
    tx.end = 50
    d._finish(tx)
    assert sink.hops == [(txn.id, "dram", 10 * NS, 80 * NS, 2 * NS)]
    assert list(d.read_latency_ps) == [70 * NS]
    assert rec.stalls.entries == {("dram", "queue_full", 2): [1, 2 * NS]}
    assert d.end_cycle == 50
    fired = []
    ev.callbacks.append(lambda e: fired.append(env.now))
    env.run()
    assert fired == [80 * NS] and ev.ok and ev.value is None


def test_a_two_bank_batch_with_several_rds_of_each_bank_counts_each_banks_row_hits():
    # tests/hw/test_dram_fast_by_hand_s11.py's setting (mapping rochrabacobg: "bank A" bank group 0,
    # "bank B" bank group 1), deep queues (read 32, command 8: nothing waits). L8 = 8 bursts: RD B 4,
    # A 9, B 14, A 19, B 24, A 29, B 34, A 39 (the two banks alternate every max(tCCD_S, burst) = 5;
    # L8 done 39 + 11 = 50), most of them in one two-bank batch (Dram._pair_batch), so several of
    # each bank's RDs are counted at once. B has served 4 column commands since its ACT, the row-hit
    # cap: x (B, row 1) then y (B, row 0 column 4) offered at 40 -- x's PRE does not wait for y's row
    # hit: PRE B at max(34 + tRTP 5, 40) = 40, ACT 46 (tRP 6), RD x 50 (tRCD 4), done 61; y: PRE B at
    # ACT + tRAS 11 = 57, ACT 63, RD 67, done 78. (Had B's count been 3, y's RD at 34 + tCCD_L 7 = 41
    # would have gone first.)
    r = run([("L", 0, 0, R, 8), ("x", a2(1, 1), 40, R, 1), ("y", a2(0, 1, col=4), 40, R, 1)],
            read_queue_depth=32, command_queue_depth=8)
    assert rds(r) == pair(4) + [(50, 1, 1, 0), (67, 1, 0, 4)]
    assert [(c, m, g) for c, m, _ra, g, *_ in log(r) if m != "RD"] == [
        (0, "ACT", 1), (2, "ACT", 0), (40, "PRE", 1), (46, "ACT", 1), (57, "PRE", 1), (63, "ACT", 1)]
    assert r.done == {"L": 50 * NS, "x": 61 * NS, "y": 78 * NS}
