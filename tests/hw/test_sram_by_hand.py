"""SRAM buffer rules by hand, through its public entry points: what a hop hands the trace
sinks (start, end, wait, layer of its stalls), three ports, a zero-byte access, the
default label of an allocation, leakage before the run ends, no area table, repr.
(Written against the surviving mutants of session 8's measurement, tag ``s8hw``.)"""

import pytest
import simpy

from tests.hw.trace_sink import KeepingSink
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.errors import MappingError, SimulationError
from tlmsim.hw.sram import Sram
from tlmsim.platform.energy import AreaTable, EnergyTable
from tlmsim.platform.sram import SramConfig

P = 2000  # ps per cycle (500 MHz)


def make(sink=None, area=AreaTable(), **cfg):
    env = simpy.Environment()
    rec = Recorder(sinks=[sink] if sink else [])
    base = dict(capacity_bytes=8192, banks=4, port_width_bytes=16, ports=2)
    base.update(cfg)
    s = Sram(name="buf", env=env, recorder=rec, config=SramConfig(**base), clock_period_ps=P,
             energy=EnergyTable(), area=area)
    return env, rec, s


def txn(rec, cmd, addr, n, layer=-1):
    t = rec.new_transaction(cmd, DataClass.WEIGHTS, addr, n, "a", "b", now_ps=0)
    t.layer = layer
    return t


def test_a_hop_hands_the_sinks_its_start_end_and_wait_and_its_stalls_their_layer():
    sink = KeepingSink()
    env, rec, s = make(sink, ports=1)
    # 1 port, 4 banks of 16-B lines, read and write latency 1 cycle.
    # A (layer 2): 128 B at 0 = 8 lines, 2 per bank -> [0, 2), ends at cycle 2.
    # B (layer 5) at cycle 0: 64 B at 0, one line per bank; the port is busy until 2:
    # 2 cycles port_busy, then [2, 3) -> ends at 3, its wait 2 cycles.
    a, b = txn(rec, Cmd.READ, 0, 128, layer=2), txn(rec, Cmd.READ, 0, 64, layer=5)
    assert s.reserve(a, 0) == 2 * P
    assert s.reserve(b, 0) == 3 * P
    assert [h[2:5] for h in sink.hops] == [(0, 2 * P, 0), (0, 3 * P, 2 * P)]
    assert rec.stalls.entries == {("buf", "port_busy", 5): [1, 2 * P]}
    # two ports. D (layer 1): 64 B at 0 at cycle 10 on port 0 -> banks 0-3 [10, 11).
    # E (layer 7): a 16-B write at 64 (line 4, bank 0) at cycle 10 on port 1: bank 0 is
    # busy until 11 -> 1 cycle bank_conflict, [11, 12), ends at 12, its wait 1 cycle.
    sink2 = KeepingSink()
    env2, rec2, s2 = make(sink2, ports=2)
    s2.reserve(txn(rec2, Cmd.READ, 0, 64, layer=1), 10 * P)
    assert s2.reserve(txn(rec2, Cmd.WRITE, 64, 16, layer=7), 10 * P) == 12 * P
    assert sink2.hops[-1][2:5] == (10 * P, 12 * P, 1 * P)
    # G (layer 1): 128 B at 0 at cycle 20 on port 0 (ports free at 11 and 12) -> banks
    # [20, 22). H (layer 3): 16 B at 128 (line 8, bank 0) at 20 on port 1: bank 0 busy
    # until 22 -> 2 cycles bank_conflict, [22, 23), ends at 23. I (layer 4): 16 B at 16
    # (bank 1) at 20: ports free at 22 and 23 -> 2 cycles port_busy, bank 1 free at 22
    # -> [22, 23), ends at 23, no conflict.
    s2.reserve(txn(rec2, Cmd.READ, 0, 128, layer=1), 20 * P)
    assert s2.reserve(txn(rec2, Cmd.READ, 128, 16, layer=3), 20 * P) == 23 * P
    assert sink2.hops[-1][2:5] == (20 * P, 23 * P, 2 * P)
    assert s2.reserve(txn(rec2, Cmd.READ, 16, 16, layer=4), 20 * P) == 23 * P
    assert sink2.hops[-1][2:5] == (20 * P, 23 * P, 2 * P)
    assert rec2.stalls.entries == {("buf", "bank_conflict", 7): [1, 1 * P], ("buf", "bank_conflict", 3): [1, 2 * P],
                                   ("buf", "port_busy", 4): [1, 2 * P]}


def test_port_wait_and_bank_conflict_in_one_hop_add_up_in_its_wait():
    sink = KeepingSink()
    env, rec, s = make(sink, ports=1, banks=2)
    # 1 port, 2 banks. A: 64 B at 0 = 4 lines, 2 per bank -> [0, 2). B at 0: 48 B at 32
    # (lines 2, 3, 4 -> banks 0, 1, 0): port free at 2 (2 cycles port_busy); banks free
    # at 2 -> bank 0 serves 2 lines [2, 4): 2 cycles ideal, no conflict -> ends at 4,
    # its wait the port's 2 cycles.
    s.reserve(txn(rec, Cmd.READ, 0, 64), 0)
    assert s.reserve(txn(rec, Cmd.READ, 32, 48, layer=6), 0) == 4 * P
    assert sink.hops[-1][4] == 2 * P
    # with 2 ports and a late bank: C (2 ports) 16 B at 0 on port 0 [0, 1) and D 16 B at
    # 32 (bank 0 again) at 0 on port 1 -> bank 0 busy until 1: 1 cycle conflict -> [1, 2);
    # E 16 B at 64 (bank 0) at 0: ports free at 1 and 2 -> port 0 at 1 (1 cycle port
    # wait); bank 0 free at 2 -> 1 cycle conflict -> [2, 3): wait = (1 + 1) cycles
    sink2 = KeepingSink()
    env2, rec2, s2 = make(sink2, ports=2, banks=2)
    s2.reserve(txn(rec2, Cmd.READ, 0, 16), 0)
    s2.reserve(txn(rec2, Cmd.READ, 32, 16), 0)
    assert s2.reserve(txn(rec2, Cmd.READ, 64, 16, layer=9), 0) == 3 * P
    assert sink2.hops[-1][2:5] == (0, 3 * P, 2 * P)
    assert rec2.stalls.total_ps("buf", "port_busy") == 1 * P
    assert rec2.stalls.total_ps("buf", "bank_conflict") == 2 * P  # D's 1 cycle and E's 1


def test_three_ports_serve_three_accesses_at_once():
    env, rec, s = make(ports=3, banks=8)
    # 8 banks: three 16-B accesses at cycle 0 on banks 0, 1, 2, one port each -> all
    # [0, 1), end at 1; a fourth on bank 3 waits for a port (1 cycle) -> ends at 2
    assert [s.reserve(txn(rec, Cmd.READ, 16 * i, 16), 0) for i in range(3)] == [P, P, P]
    assert s.reserve(txn(rec, Cmd.READ, 48, 16), 0) == 2 * P
    assert rec.stalls.total_ps("buf", "port_busy") == 1 * P


def test_a_zero_byte_access_is_refused():
    env, rec, s = make()
    with pytest.raises(SimulationError, match=r"^buf: access of 0 bytes at 16 outside the buffer \(capacity 8192 bytes\)$"):
        s.reserve(txn(rec, Cmd.READ, 16, 0), 0)


def test_access_waits_from_now_until_the_end():
    env, rec, s = make()
    # at 5 ns (not a clock edge: the next edge is cycle 3 = 6 ns), 16 B -> [3, 4) -> ends
    # at cycle 4 = 8 ns
    done = []

    def run():
        yield env.timeout(5000)
        yield from s.access(txn(rec, Cmd.READ, 0, 16))
        done.append(env.now)

    env.process(run())
    env.run()
    assert done == [4 * P]


def test_an_allocation_without_a_label_is_called_data():
    env, rec, s = make(capacity_bytes=1024)
    s.allocate(1000)
    with pytest.raises(MappingError, match=r"^buf: data needs 100 bytes but only 24 of 1024 are free$"):
        s.allocate(100)


def test_no_leakage_before_the_run_ends_and_no_area_without_a_table():
    env, rec, s = make(area=None)
    assert s.leakage_mw > 0
    assert s.energy_pj() == {"read": 0.0, "write": 0.0, "leakage": 0.0}
    s.finalize(1000)  # leakage_mw x 1000 ps x 1e-3 pJ/(mW ps)
    assert s.energy_pj()["leakage"] == pytest.approx(s.leakage_mw * 1.0)
    assert s.area_mm2() == 0.0


def test_repr_names_the_geometry():
    env, rec, s = make(ports=3, banks=8, port_width_bytes=32)
    assert repr(s) == "Sram('buf', 8192 B, 8 banks x 32 B, 3 ports)"
