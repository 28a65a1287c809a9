"""The PE array's :meth:`PeArray.compute` in two halves (issue 17's session 29: the controller
yields the timeout itself): ``start`` returns the tile's timeout (its stall when the operands
are late) and hands the functional model the layer plan; ``finish`` adds the tile's counts
and its record. By hand: the times, the counts, the plan and tile the functional model got."""

import simpy

from tests.hw.test_pe_array import _pe
from tlmsim.engine.plan import Tile
from tlmsim.engine.transaction import Cmd, DataClass


class _Functional:
    def __init__(self):
        self.calls = []

    def execute(self, plan, tile):
        self.calls.append((plan, tile.index))
        return "block"


def test_start_then_finish_is_compute(tmp_path):
    env, rec, pe = _pe()
    pe.functional = _Functional()
    tile = Tile(index=3, t_first=0, t_last=0, loads=[], stores=[], compute_cycles=5, acc_ops=3, neuron_updates=2,
                neuron="lif")
    plan = object()
    got = []

    def halves():
        yield env.timeout(1000)
        txn = rec.new_transaction(Cmd.COMPUTE, DataClass.NONE, 0, 0, "c", "pe_array", now_ps=env.now, cycles=5)
        ev = pe.start(txn, tile, 13_000, plan)  # 5 cycles x 2 ns end at 11 ns; operands at 13 ns
        assert isinstance(ev, simpy.Timeout) and pe.stats.c["tiles"] == 0  # nothing counted before it ends
        yield ev
        pe.finish(txn, tile, 1000)
        got.append((env.now, txn.data))

    def whole():
        yield env.timeout(1000)
        txn = rec.new_transaction(Cmd.COMPUTE, DataClass.NONE, 0, 0, "c", "pe_array", now_ps=env.now, cycles=5)
        yield from pe.compute(txn, tile, 13_000, plan)
        got.append((env.now, txn.data))

    env.process(halves())
    env.run()
    first = dict(pe.stats.c)
    env2, rec2, pe2 = _pe()
    pe2.functional = _Functional()
    env, rec, pe = env2, rec2, pe2
    env.process(whole())
    env.run()
    assert got == [(13_000, "block"), (13_000, "block")]
    assert dict(pe.stats.c) == first
    assert (first["tiles"], first["compute_cycles"], first["busy_ps"], first["acc_ops"],
            first["neuron_updates_lif"]) == (1, 5, 10_000, 3, 2)
    assert pe.functional.calls == [(plan, 3)]  # compute hands the plan on
    assert rec.stalls.total_ps("pe_array", "l1_bandwidth") == 2000
