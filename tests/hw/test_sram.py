"""SRAM buffer timing, conflicts, capacity and energy, with hand-computed exact values."""

import pytest
import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.errors import MappingError, SimulationError
from tlmsim.hw.sram import Sram
from tlmsim.platform.energy import AreaTable, EnergyTable
from tlmsim.platform.sram import SramConfig

P = 2000  # ps per cycle (500 MHz)


def make(**cfg):
    env, rec = simpy.Environment(), Recorder()
    base = dict(capacity_bytes=8192, banks=4, port_width_bytes=16, ports=2)
    base.update(cfg)
    s = Sram(name="buf", env=env, recorder=rec, config=SramConfig(**base), clock_period_ps=P,
             energy=EnergyTable(), area=AreaTable())
    return env, rec, s


def txn(rec, cmd, addr, n):
    return rec.new_transaction(cmd, DataClass.WEIGHTS, addr, n, "a", "b", now_ps=0)


def test_sequential_read_spreads_over_banks():
    env, rec, s = make()
    # 128 B at 0 = 8 lines of 16 B over 4 banks -> 2 lines per bank -> 2 cycles,
    # + read latency 1 - 1 -> ends at cycle 2 = 4000 ps
    assert s.reserve(txn(rec, Cmd.READ, 0, 128), 0) == 2 * P
    # a second access later on the same banks: no conflict, starts at its own time
    assert s.reserve(txn(rec, Cmd.READ, 0, 16), 10 * P) == 11 * P
    assert s.stats.c["line_reads"] == 9
    assert rec.stalls.total_ps("buf") == 0


def test_unaligned_access_touches_an_extra_line():
    env, rec, s = make()
    # 32 B at address 8: lines 0,1,2 (bytes 8..39) -> banks 0,1,2 one line each -> 1 cycle
    assert s.lines_per_bank(8, 32) == [(0, 1), (1, 1), (2, 1)]
    # 5 lines from bank 3: banks 3,0,1,2 get 2,1,1,1
    assert s.lines_per_bank(48, 80) == [(3, 2), (0, 1), (1, 1), (2, 1)]


def test_closed_form_span_wrapping_past_the_last_bank():
    env, rec, s = make()
    # 6 lines from line 3 (address 48, 96 B): banks 3,0,1,2,3,0 -> banks 3 and 0 serve 2
    # lines, 1 and 2 serve 1; every bank idle -> booked in closed form: occupancy
    # [0, 2), ends at cycle 2 (read latency 1)
    assert s.reserve(txn(rec, Cmd.READ, 48, 96), 0) == 2 * P
    assert list(s._bank_free) == [2, 1, 1, 2]  # banks 3 and 0 busy until 2, 1 and 2 until 1
    # at cycle 1 on the other port: bank 1 (line 1) is free -> ends at cycle 2, no stall
    assert s.reserve(txn(rec, Cmd.READ, 16, 16), 1 * P) == 2 * P
    # at cycle 2 (both ports free at 2): bank 0 (line 4) finished its second line at 2
    # -> [2, 3), ends at cycle 3, no stall
    assert s.reserve(txn(rec, Cmd.READ, 64, 16), 2 * P) == 3 * P
    assert rec.stalls.by_reason("buf") == {}
    # bank 0 again at cycle 2 on the other port: it is busy until 3 -> [3, 4), ends at
    # cycle 4, one cycle of bank conflict
    assert s.reserve(txn(rec, Cmd.READ, 0, 16), 2 * P) == 4 * P
    assert rec.stalls.by_reason("buf") == {"bank_conflict": 1 * P}


def test_bank_conflict_between_two_ports():
    env, rec, s = make()
    # both transactions want bank 0 at cycle 0 on different ports.
    # first: bank 0 busy [0,1) -> ends at 1 cycle; second waits for bank 0: [1,2) -> ends at 2
    assert s.reserve(txn(rec, Cmd.READ, 0, 16), 0) == 1 * P
    assert s.reserve(txn(rec, Cmd.READ, 64, 16), 0) == 2 * P  # 64/16 = line 4 -> bank 0
    assert rec.stalls.by_reason("buf") == {"bank_conflict": 1 * P}
    # a third to bank 1 at cycle 0 is free of conflicts but both ports are busy
    # until cycles 1 and 2 -> it takes port 0 at cycle 1, ends at 2
    assert s.reserve(txn(rec, Cmd.READ, 16, 16), 0) == 2 * P
    assert rec.stalls.by_reason("buf")["port_busy"] == 1 * P


def test_write_latency_and_clock_edge_alignment():
    env, rec, s = make(write_latency_cycles=3)
    # starts at 2500 ps -> next edge cycle 2; 1 line -> occupancy to cycle 3; +3-1 -> cycle 5
    assert s.reserve(txn(rec, Cmd.WRITE, 0, 4), 2500) == 5 * P


def test_access_waits_in_simulated_time_and_records_trace_counts():
    env, rec, s = make()

    def proc():
        t = txn(rec, Cmd.WRITE, 0, 256)  # 16 lines / 4 banks = 4 cycles
        yield from s.access(t)
        assert env.now == 4 * P

    env.process(proc())
    env.run()
    assert s.stats.c["write_bytes"] == 256 and s.stats.c["writes"] == 1
    assert s.stats.c["busy_ps"] == 16 * P  # 16 bank-cycles; utilisation = 16 / (4 banks x 4 cycles) = 1


def test_capacity_is_enforced():
    env, rec, s = make()
    with pytest.raises(SimulationError, match="outside the buffer"):
        s.reserve(txn(rec, Cmd.READ, 8192 - 8, 16), 0)
    s.allocate(6000, "weights")
    with pytest.raises(MappingError, match="only 2192 of 8192"):
        s.allocate(3000, "spikes")
    s.free(6000)
    s.allocate(8192)
    assert s.stats.c["peak_occupancy_bytes"] == 8192
    assert s.half_capacity_bytes == 4096


def test_energy_per_line_is_the_bank_plus_the_h_tree():
    env, rec, s = make()  # 8 KiB in 4 banks of 2 KiB, 16-B (128-bit) lines
    s.reserve(txn(rec, Cmd.READ, 0, 32), 0)  # 2 line reads
    s.reserve(txn(rec, Cmd.WRITE, 0, 16), 0)  # 1 line write
    # bank (CACTI 2 KiB, 128 bit): read 1.735, write 3.042 pJ at 0.7 V; H-tree to one of 4
    # banks: 128 bits x 0.236 pJ/bit/mm x sqrt(0.02772 mm^2 for 8 KiB) x (1 - 1/sqrt(4))
    #   = 30.208 x 0.1664932 x 0.5 = 2.514713 pJ; scaled to 0.9 V by (0.9/0.7)^2 = 81/49
    read = (1.735 + 2.514713) * 81 / 49  # 7.025091
    write = (3.042 + 2.514713) * 81 / 49  # 9.185666
    assert s.read_pj == pytest.approx(read, rel=1e-5) and s.write_pj == pytest.approx(write, rel=1e-5)
    e = s.energy_pj()
    assert e["read"] == pytest.approx(2 * read, rel=1e-5) and e["write"] == pytest.approx(write, rel=1e-5)
    # leakage: 0.182 mW per 2-KiB bank = 0.091 mW/KiB x 8 KiB = 0.728 mW, over 1 us = 728 pJ
    s.finalize(1_000_000)
    assert s.energy_pj()["leakage"] == pytest.approx(0.728 * 1e3, rel=1e-9)
    # one bank of 32 KiB: no H-tree term, the table's 32 KiB 128-bit read 10.72 pJ
    env, rec, big = make(capacity_bytes=32768, banks=1)
    assert big.read_pj == pytest.approx(10.72 * 81 / 49)
    assert big.area_mm2() == pytest.approx(0.4 * 32768 / 65536)


def test_energy_overrides():
    env, rec, ov = make(read_energy_pj_per_access=3.0)
    assert ov.read_pj == 3.0 and ov.write_pj == 3.0  # a write costs the given read energy
    env, rec, ov = make(read_energy_pj_per_access=3.0, write_energy_pj_per_access=5.0)
    assert ov.write_pj == 5.0
    # leakage override in the energy table: 0.1 mW/KiB x 8 KiB = 0.8 mW, over 1 us = 800 pJ
    env, rec = simpy.Environment(), Recorder()
    lk = Sram(name="buf", env=env, recorder=rec, config=SramConfig(capacity_bytes=8192), clock_period_ps=P,
              energy=EnergyTable(leakage_mw_per_kib_sram=0.1), area=AreaTable())
    lk.finalize(1_000_000)
    assert lk.energy_pj()["leakage"] == pytest.approx(0.8 * 1e3)


class NaiveBanks:
    """Reference: every bank and port with its own free time, touched one by one."""

    def __init__(self, banks, ports, width, rlat, wlat, period):
        self.bank = [0] * banks
        self.port = [0] * ports
        self.w, self.rlat, self.wlat, self.period = width, rlat, wlat, period

    def reserve(self, cmd, a, n, start_ps):
        s = -(-start_ps // self.period)
        p = min(range(len(self.port)), key=lambda i: (self.port[i], i))
        s1 = max(s, self.port[p])
        first, last = a // self.w, (a + n - 1) // self.w
        per_bank = {}
        for line in range(first, last + 1):
            b = line % len(self.bank)
            per_bank[b] = per_bank.get(b, 0) + 1
        occ = s1
        for b, k in per_bank.items():
            self.bank[b] = max(self.bank[b], s1) + k
            occ = max(occ, self.bank[b])
        self.port[p] = occ
        lat = self.rlat if cmd == Cmd.READ else self.wlat
        return (occ + lat - 1) * self.period


from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=150, deadline=None)
@given(
    banks=st.sampled_from([1, 2, 3, 4, 8]),
    ports=st.integers(1, 3),
    ops=st.lists(
        st.tuples(st.booleans(), st.integers(0, 4000), st.integers(1, 700), st.integers(0, 30)),
        min_size=1, max_size=60,
    ),
)
def test_booking_equals_a_per_bank_reference(banks, ports, ops):
    env, rec, s = make(banks=banks, ports=ports, read_latency_cycles=2, write_latency_cycles=1)
    ref = NaiveBanks(banks, ports, 16, 2, 1, P)
    t = 0
    for is_read, addr, n, gap in ops:
        t += gap * 700  # not a multiple of the period: exercises clock-edge alignment
        cmd = Cmd.READ if is_read else Cmd.WRITE
        n = min(n, 8192 - addr)
        assert s.reserve(txn(rec, cmd, addr, n), t) == ref.reserve(cmd, addr, n, t)
