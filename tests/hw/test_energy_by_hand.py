"""Energy rules of the PE array and the SRAM buffers, computed by hand.

Every entry of the energy table is set to a distinct value so that charging one action
at another's price (LIF at the IF cost, an accumulate at the membrane width, a write at
the read energy) changes the total and fails a direct test."""

import math

import pytest
import simpy

from tlmsim.engine.plan import Tile
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass, Transaction
from tlmsim.hw.pe_array import PeArray
from tlmsim.hw.sram import Sram
from tlmsim.platform.energy import AreaTable, EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig
from tlmsim.platform.sram import SramConfig

# add(b) = 0.5 + (2.9 - 0.5) / 24 * (b - 8) = 0.5 + 0.1 (b - 8): add(8) 0.5, add(12) 0.9, add(20) 1.7
E = EnergyTable(add_8bit_pj=0.5, add_32bit_pj=2.9, compare_pj=0.07, shift_pj=0.011, scratchpad_access_pj=0.3,
                leakage_mw_per_kib_sram=0.25, leakage_mw_per_pe=0.002)


def _tile(neuron, updates, *, acc=0, loads=0, cycles=10):
    return Tile(index=0, t_first=0, t_last=0, loads=[], stores=[], compute_cycles=cycles, acc_ops=acc,
                neuron_updates=updates, pe_weight_loads=loads, neuron=neuron)


def _pe(tiles, *, rows=3, cols=5, acc_bits=20, mem_bits=12, period_ps=2000):
    env = simpy.Environment()
    rec = Recorder()
    pe = PeArray(name="pe", env=env, recorder=rec, clock_period_ps=period_ps, energy=E,
                 area=AreaTable(pe_mm2=0.01),
                 config=PeArrayConfig(rows=rows, cols=cols, accumulator_bits=acc_bits, membrane_bits=mem_bits))

    def run():
        for t in tiles:
            txn = Transaction(id=0, cmd=Cmd.COMPUTE, data_class=DataClass.NONE, address=0, nbytes=0, source="c",
                              destination="pe", cycles=t.compute_cycles)
            yield from pe.compute(txn, t)

    env.process(run())
    env.run()
    pe.finalize(env.now)
    return pe, env.now


def test_add_rule_with_distinct_anchor_points():
    assert E.add_pj(8) == pytest.approx(0.5)
    assert E.add_pj(12) == pytest.approx(0.9)
    assert E.add_pj(20) == pytest.approx(1.7)
    assert E.add_pj(32) == pytest.approx(2.9)
    # below 8 bits the line is extrapolated: default table 0.03 - 0.07 / 24 x 7 = 0.009583
    assert EnergyTable(add_8bit_pj=0.03, add_32bit_pj=0.1).add_pj(1) == pytest.approx(0.03 - 0.07 / 24 * 7)
    # ... and never below 0: 0.5 + 0.1 x (1 - 8) = -0.2 -> 0; 0.5 + 0.1 x (4 - 8) = 0.1 stays
    assert E.add_pj(1) == 0.0
    assert E.add_pj(4) == pytest.approx(0.1)


def test_neuron_update_energy_per_model_at_the_membrane_width():
    pe, _ = _pe([])
    # membrane 12 bits: add(12) = 0.9; compare 0.07; shift 0.011
    per = pe.neuron_update_pj()
    assert per["if"] == pytest.approx(0.9 + 0.07)  # 0.97
    assert per["lif"] == pytest.approx(0.9 + 0.011 + 0.07)  # 0.981
    assert per["cuba_lif"] == pytest.approx(2 * 0.9 + 2 * 0.011 + 0.07)  # 1.892


def test_pe_array_energy_by_action():
    tiles = [_tile("if", 7, acc=100, loads=3, cycles=10), _tile("lif", 11, acc=50, cycles=4),
             _tile("li", 2, cycles=1), _tile("cuba_lif", 5, loads=4, cycles=5), _tile(None, 0, acc=9, cycles=2)]
    pe, end = _pe(tiles)
    assert end == 22 * 2000  # 10 + 4 + 1 + 5 + 2 cycles at 2 ns
    e = pe.energy_pj()
    # accumulates at the accumulator width (20 bits): 159 x add(20) = 159 x 1.7 = 270.3
    assert e["accumulate"] == pytest.approx(159 * 1.7)
    # IF 7 x 0.97 + LIF and LI (11 + 2) x 0.981 + CUBA 5 x 1.892 = 6.79 + 12.753 + 9.46 = 29.003
    assert e["neuron_update"] == pytest.approx(29.003)
    # 7 weights written into PE scratchpads x 0.3
    assert e["weight_load"] == pytest.approx(2.1)
    # 15 PEs x 0.002 mW x 44,000 ps x 1e-3 pJ/(mW ps) = 1.32 pJ
    assert e["leakage"] == pytest.approx(1.32)
    c = pe.stats.c
    assert (c["neuron_updates_if"], c["neuron_updates_lif"], c["neuron_updates_cuba_lif"]) == (7, 13, 5)
    assert (c["tiles"], c["compute_cycles"], c["acc_ops"], c["neuron_updates"], c["weight_loads"]) == (5, 22, 159, 25, 7)
    assert pe.area_mm2() == pytest.approx(0.15)  # 15 PEs x 0.01


def test_pe_array_counts_busy_time_of_compute_not_of_the_operand_stall():
    env = simpy.Environment()
    rec = Recorder()
    pe = PeArray(name="pe_array", env=env, recorder=rec, clock_period_ps=1000, energy=E, config=PeArrayConfig())
    txn = Transaction(id=0, cmd=Cmd.COMPUTE, data_class=DataClass.NONE, address=0, nbytes=0, source="c",
                      destination="pe_array", layer=3)
    # 30 cycles of compute (30 ns); operands ready only at 45 ns: the tile ends at 45 ns,
    # 15 ns of it a stall l1_bandwidth; busy time stays 30 ns
    env.process(pe.compute(txn, _tile("lif", 1, cycles=30), operands_ready_ps=45_000))
    env.run()
    assert env.now == 45_000
    assert pe.stats.c["busy_ps"] == 30_000
    assert rec.stalls.total_ps("pe_array", "l1_bandwidth") == 15_000
    # operands ready before the compute ends: no stall, 30 ns
    env2 = simpy.Environment()
    rec2 = Recorder()
    pe2 = PeArray(name="pe_array", env=env2, recorder=rec2, clock_period_ps=1000, energy=E, config=PeArrayConfig())
    env2.process(pe2.compute(txn, _tile("lif", 1, cycles=30), operands_ready_ps=30_000))
    env2.run()
    assert env2.now == 30_000
    assert rec2.stalls.total_ps("pe_array", "l1_bandwidth") == 0


def _sram(**cfg):
    env = simpy.Environment()
    rec = Recorder()
    config = SramConfig(**{"capacity_bytes": 2048, "banks": 2, "port_width_bytes": 3, **cfg})
    return env, Sram(name="buf", env=env, recorder=rec, config=config, clock_period_ps=1000, energy=E,
                     area=AreaTable(sram_mm2_per_64kib=0.8))


def _txn(cmd, address, nbytes):
    return Transaction(id=0, cmd=cmd, data_class=DataClass.SPIKES, address=address, nbytes=nbytes, source="x",
                       destination="buf")


def test_sram_energy_per_line_access_size_based():
    # per-line energies given (the size-based CACTI rule has its own hand-computed tests in
    # tests/platform/test_energy_table.py): 0.75 pJ per line read, 0.75 pJ per line write
    env, s = _sram(read_energy_pj_per_access=0.75, write_energy_pj_per_access=0.75)
    # read 7 bytes at address 2: bytes 2..8 = lines 0..2 (3 lines);
    # write 1 byte at 5: line 1 (1 line); write 6 bytes at 6: lines 2..3 (2 lines)
    s.reserve(_txn(Cmd.READ, 2, 7), 0)
    s.reserve(_txn(Cmd.WRITE, 5, 1), 0)
    s.reserve(_txn(Cmd.WRITE, 6, 6), 0)
    s.finalize(40_000)
    e = s.energy_pj()
    assert (s.stats.c["line_reads"], s.stats.c["line_writes"]) == (3, 3)
    assert e["read"] == pytest.approx(3 * 0.75)
    assert e["write"] == pytest.approx(3 * 0.75)
    # leakage: 0.25 mW/KiB x 2 KiB x 40,000 ps x 1e-3 = 20 pJ
    assert e["leakage"] == pytest.approx(20.0)
    assert s.area_mm2() == pytest.approx(0.8 * 2048 / 65536)  # 0.025


def test_sram_energy_overrides_read_and_write_separately():
    env, s = _sram(read_energy_pj_per_access=1.25, write_energy_pj_per_access=2.5)
    s.reserve(_txn(Cmd.READ, 0, 6), 0)  # 2 lines
    s.reserve(_txn(Cmd.WRITE, 0, 9), 0)  # 3 lines
    e = s.energy_pj()
    assert e["read"] == pytest.approx(2.5)
    assert e["write"] == pytest.approx(7.5)
    _, s2 = _sram(read_energy_pj_per_access=1.25)  # write defaults to the read energy
    assert s2.write_pj == 1.25


def test_sram_partial_lines_and_bank_split():
    _, s = _sram(banks=4, port_width_bytes=8)
    # 1 byte at 7: line 0 only; 2 bytes at 7: lines 0 and 1; 17 bytes at 15: lines 1..3
    assert s.lines_per_bank(7, 1) == [(0, 1)]
    assert s.lines_per_bank(7, 2) == [(0, 1), (1, 1)]
    assert s.lines_per_bank(15, 17) == [(1, 1), (2, 1), (3, 1)]
    # 5 lines from line 3 over 4 banks: banks 3, 0, 1, 2 get 2, 1, 1, 1
    assert s.lines_per_bank(24, 40) == [(3, 2), (0, 1), (1, 1), (2, 1)]
    assert math.fsum(k for _, k in s.lines_per_bank(24, 40)) == 5
