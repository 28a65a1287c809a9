"""The compute step's transaction (session 35): built positionally in ``Controller._compute`` with
the fields :meth:`Recorder.new_transaction` gives it (the next id, the controller as source, the PE
array as destination, the tile's layer, index and cycles, issued when the array starts) and completed
when the array is done. A sink that reads every transaction sees each id once, in issue order."""

from __future__ import annotations

from tests.hw.test_controller_block_booking_s17 import Full, P, build
from tlmsim.engine.plan import LayerPlan, Move, Tile
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.controller import Controller

S, O = DataClass.SPIKES, DataClass.OUT_SPIKES


class Seen(Full):
    """Also keeps every transaction a component records (its id, command, ends, layer, tile, cycles)."""

    def __init__(self) -> None:
        super().__init__()
        self.txns: list[tuple] = []
        self.objs: list = []

    def hop(self, txn, component, start_ps, end_ps, wait_ps, busy_ps):
        self.txns.append((component, txn.id, txn.cmd, txn.source, txn.destination, txn.layer, txn.tile, txn.cycles,
                          txn.issued_ps, txn.done_ps, start_ps, end_ps))
        self.objs.append(txn)
        super().hop(txn, component, start_ps, end_ps, wait_ps, busy_ps)


def test_the_compute_transaction_has_new_transactions_fields_and_the_next_id():
    from tests.hw.test_controller import LAYER

    sink = Seen()
    env, rec, ctrl0 = build([sink])
    # two tiles of layer 0 computing 10 and 7 cycles, each loading 64 GLB-resident spike bytes and storing 8
    tiles = [Tile(index=i, t_first=0, t_last=0, compute_cycles=c,
                  loads=[Move(S, 64, False, 0, 8192 + 64 * i, level=0)],
                  stores=[Move(O, 8, False, 0, 16384 + 8 * i, level=0)]) for i, c in enumerate((10, 7))]
    ctrl = Controller(name="controller2", env=env, recorder=rec, dram=ctrl0.dram, noc=ctrl0.noc, levels=ctrl0.levels,
                      l1=ctrl0.l1s, pe=ctrl0.pes, plans=[LayerPlan(layer=LAYER, tiles=tiles)], chunk_bytes=256,
                      outstanding=2, double_buffered=True)
    env.run(until=ctrl.done)
    computes = [t for t in sink.txns if t[2] is Cmd.COMPUTE]
    assert len(computes) == 2
    for (comp, tid, _, src, dst, layer, tile, cycles, issued, done, start, end), i, c in zip(computes, (0, 1), (10, 7)):
        assert (comp, src, dst, layer, tile, cycles) == ("pe_array", "controller2", "pe_array", 0, i, c)
        assert isinstance(tid, int) and issued == start and end == start + c * P and done == -1  # completed after
    # completed at the array's end
    assert [t.done_ps for t in sink.objs if t.cmd is Cmd.COMPUTE] == [t[11] for t in computes]
    # every transaction an id of its own, 0 .. issued - 1, recorded in the order the ids were taken per component
    ids = [t[1] for t in sink.txns]
    assert sorted(ids) == list(range(rec.issued)) and rec.completed == rec.issued
    assert computes[0][1] < computes[1][1]
