"""The PE array as a component: a tile's hop in the trace, a bare COMPUTE transaction,
and what it reports before a run ends or without an area table. (Its energy rules:
tests/hw/test_energy_by_hand.py.)"""

import csv

import simpy

from tests.hw.trace_sink import KeepingSink
from tlmsim.engine.plan import Tile
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.trace import TraceWriter
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig


def _pe(trace=None, **energy):
    env = simpy.Environment()
    rec = Recorder(trace=TraceWriter(trace) if trace else None)
    pe = PeArray(name="pe_array", env=env, recorder=rec, config=PeArrayConfig(rows=2, cols=3),
                 clock_period_ps=2000, energy=EnergyTable(**energy))
    return env, rec, pe


def _rows(path):
    with open(path) as fh:
        return [(r["command"], int(r["start_ps"]), int(r["end_ps"]), int(r["wait_ps"])) for r in csv.DictReader(fh)]


def test_a_tile_and_a_bare_compute_transaction_in_time_counts_and_trace(tmp_path):
    trace = tmp_path / "t.csv"
    env, rec, pe = _pe(trace)
    tile = Tile(index=0, t_first=0, t_last=0, loads=[], stores=[], compute_cycles=5, acc_ops=3)

    def run():
        yield env.timeout(1000)  # start at 1 ns
        t1 = rec.new_transaction(Cmd.COMPUTE, DataClass.NONE, 0, 0, "c", "pe_array", now_ps=env.now, cycles=5)
        # operands ready at 13 ns, 2 ns after the 5 cycles (10 ns) end: the tile ends at 13 ns
        yield from pe.compute(t1, tile, operands_ready_ps=13_000)
        t2 = rec.new_transaction(Cmd.COMPUTE, DataClass.NONE, 0, 0, "c", "pe_array", now_ps=env.now, cycles=7)
        yield from pe.access(t2)  # 7 cycles x 2 ns = 14 ns: [13, 27] ns

    env.process(run())
    env.run()
    rec.close()
    assert env.now == 27_000
    # the tile's row: from its start to its (stretched) end, no wait inside the array; then the bare one
    assert _rows(trace) == [("compute", 1000, 13_000, 0), ("compute", 13_000, 27_000, 0)]
    c = pe.stats.c
    assert (c["compute_cycles"], c["busy_ps"], c["tiles"], c["acc_ops"]) == (5 + 7, 10_000 + 14_000, 1, 3)
    assert rec.stalls.total_ps("pe_array", "l1_bandwidth") == 2000


def test_energy_before_the_run_ends_and_area_without_a_table():
    env, rec, pe = _pe(leakage_mw_per_pe=1.0)
    assert pe.energy_pj()["leakage"] == 0.0  # no time has passed for it yet
    pe.finalize(1000)  # 6 PEs x 1 mW x 1000 ps x 1e-3 = 6 pJ
    assert pe.energy_pj()["leakage"] == 6.0
    assert pe.area_mm2() == 0.0  # no area table given


def test_an_l1_bandwidth_stall_is_placed_where_the_array_waits():
    # a tile of 5 cycles x 2 ns from 1 ns ends its compute at 11 ns; its operands arrive at
    # 13 ns: the timeline shows the wait from 11 to 13 ns (not from the tile's start)
    env = simpy.Environment()
    sink = KeepingSink()
    rec = Recorder(sinks=[sink])
    pe = PeArray(name="pe_array", env=env, recorder=rec, config=PeArrayConfig(rows=2, cols=3),
                 clock_period_ps=2000, energy=EnergyTable())
    tile = Tile(index=0, t_first=0, t_last=0, loads=[], stores=[], compute_cycles=5, acc_ops=3)

    def run():
        yield env.timeout(1000)
        txn = rec.new_transaction(Cmd.COMPUTE, DataClass.NONE, 0, 0, "c", "pe_array", now_ps=env.now, cycles=5)
        txn.layer = 4
        yield from pe.compute(txn, tile, operands_ready_ps=13_000)

    env.process(run())
    env.run()
    assert sink.stalls == [("pe_array", "l1_bandwidth", 4, 11_000, 13_000)]
