"""The controller's pipeline timed exactly: when stores move, when the input half and
the output slots are freed, and when a load that depends on an earlier timestep's
membrane store may start. Memories are fixed-latency stand-ins (10 ns per hop,
tests/hw/test_controller.py), the array runs at 1 ns per cycle."""

import csv

import simpy

from tests.hw.test_controller import LAYER, NS, Fixed
from tlmsim.engine.plan import LayerPlan, Move, Tile
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.trace import TraceWriter
from tlmsim.engine.transaction import DataClass
from tlmsim.hw.controller import Controller
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig

KEY = (0, "membrane", 0, 0)


def _run(tiles, *, double_buffered=True, trace=None):
    env = simpy.Environment()
    rec = Recorder(trace=TraceWriter(trace) if trace else None)
    mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)  # noqa: E731
    dram, noc, glb, l1 = mk("dram"), mk("noc"), mk("glb"), mk("l1")
    pe = PeArray(name="pe_array", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=1 * NS,
                 energy=EnergyTable())
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=dram, noc=noc, levels=[glb], l1=l1, pe=pe,
                      plans=[LayerPlan(layer=LAYER, tiles=tiles)], chunk_bytes=4096, outstanding=4,
                      double_buffered=double_buffered)
    env.run(until=ctrl.done)
    rec.close()
    return env.now, rec, ctrl


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_a_load_waits_for_the_membrane_store_of_the_previous_timestep_to_reach_dram(tmp_path):
    # tile 0 (t=0): weights from the GLB, stores its membrane to DRAM (signals KEY);
    # tile 1 (t=1): loads that membrane from DRAM after KEY.
    # tile 0: load glb>l1 = 3 hops [0, 30]; compute 100 cycles [30, 130]; outputs written to L1 [130, 140]
    # writer: l1>dram = l1 R, noc, glb W, glb R, noc = 5 hops [140, 190], then the DRAM write [190, 200]: KEY at 200
    # tile 1: half 1 at 30, waits for KEY until 200 (dependency 170 ns); DRAM read [200, 210] then
    #   noc, glb W, glb R, noc, l1 W = 5 hops [210, 260]; compute [260, 360]; its outputs (GLB) L1 [360, 370],
    #   writer l1 R, noc, glb W [370, 400]
    tiles = [
        Tile(index=0, t_first=0, t_last=0, loads=[Move(DataClass.WEIGHTS, 100, False, 0, 0)],
             stores=[Move(DataClass.MEMBRANE, 32, True, 4096, 0, signals=KEY)], compute_cycles=100),
        Tile(index=1, t_first=1, t_last=1, loads=[Move(DataClass.MEMBRANE, 32, True, 4096, 0, after=KEY)],
             stores=[Move(DataClass.OUT_SPIKES, 8, False, 0, 512)], compute_cycles=100),
    ]
    trace = tmp_path / "t.csv"
    end, rec, ctrl = _run(tiles, trace=trace)
    assert end == 400 * NS
    assert rec.stalls.total_ps("controller", "dependency") == 170 * NS
    # the array waited 30 ns for tile 0 and 130 -> 140 -> 260 for tile 1 (it is free at 140): 30 + 120
    assert rec.stalls.total_ps("pe_array", "waiting_for_operands") == 150 * NS
    dram = [(r["command"], int(r["start_ps"]), int(r["end_ps"])) for r in _rows(trace) if r["component"] == "dram"]
    assert dram == [("write", 190 * NS, 200 * NS), ("read", 200 * NS, 210 * NS)]
    assert ctrl.layers[0].start_ps == 0 and ctrl.layers[0].end_ps == 400 * NS


def test_single_buffer_frees_the_half_only_after_the_outputs_are_in_l1():
    # single L1 buffer; each tile: load 3 hops (30 ns), compute 100 ns, outputs into L1 10 ns, then the half is
    # free: tile 0 [0, 30] [30, 130] [130, 140]; tile 1 load [140, 170], compute [170, 270], L1 [270, 280],
    # writer l1 R, noc, glb W [280, 310]. (Freeing the half before the L1 write would end at 300.)
    tiles = [Tile(index=i, t_first=0, t_last=0, loads=[Move(DataClass.WEIGHTS, 100, False, 0, 0)],
                  stores=[Move(DataClass.OUT_SPIKES, 16, False, 0, 1024)], compute_cycles=100) for i in range(2)]
    end, rec, _ = _run(tiles, double_buffered=False)
    assert end == 310 * NS
    assert rec.stalls.total_ps("controller", "l1_full") == 110 * NS  # loader waited 30 -> 140


def test_two_output_slots_make_the_array_wait_for_slow_stores():
    # 4 tiles, compute 10 ns, loads from the GLB (30 ns), outputs to DRAM: writer 5 hops + DRAM write = 60 ns each.
    # loads: t0 [0,30] h0, t1 [30,60] h1, t2 [60,90] h0 (free since 50), t3 [90,120] h1 (free since 80)
    # c0 [30,40] + L1 [40,50] slot0; writer t0 [50,110]
    # c1 waits 50->60 for t1; [60,70] + [70,80] slot1; writer t1 [110,170]
    # c2 waits 80->90 for t2, then 90->110 for slot0; [110,120] + [120,130]; writer t2 [170,230]
    # c3 (t3 loaded at 120) waits 130->170 for slot1; [170,180] + [180,190]; writer t3 [230,290]
    tiles = [Tile(index=i, t_first=0, t_last=0, loads=[Move(DataClass.WEIGHTS, 100, False, 0, 0)],
                  stores=[Move(DataClass.OUT_SPIKES, 16, True, 8192, 0)], compute_cycles=10) for i in range(4)]
    end, rec, _ = _run(tiles)
    assert end == 290 * NS
    assert rec.stalls.total_ps("pe_array", "waiting_for_operands") == (30 + 10 + 10) * NS
    assert rec.stalls.total_ps("pe_array", "waiting_for_output_buffer") == (20 + 40) * NS
    assert rec.stalls.total_ps("controller", "l1_full") == 0


def test_a_move_larger_than_a_dma_block_pipelines_its_blocks():
    # 10,000 bytes in 4,096-byte blocks: 3 blocks on 3 lanes at once (outstanding 4); the fixed-latency
    # stand-ins do not contend, so the load takes one block's 3 hops (30 ns) and moves 3 blocks
    tiles = [Tile(index=0, t_first=0, t_last=0, loads=[Move(DataClass.WEIGHTS, 10_000, False, 0, 0)],
                  stores=[], compute_cycles=50)]
    end, rec, ctrl = _run(tiles)
    assert end == 30 * NS + 50 * NS
    assert ctrl.stats.c["dma_blocks"] == 3
    assert rec.flows[("noc", "l1", int(DataClass.WEIGHTS), 0)] == 10_000
