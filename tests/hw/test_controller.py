"""Controller pipeline rules with fixed-latency stand-ins for the memories, so that
every time is exact and only the controller's double buffering, L1 address map,
staging slots, prologue overlap and prefetch are under test."""

import numpy as np
import pandas as pd
import pytest
import simpy

from tlmsim.engine.plan import LayerPlan, Move, Tile
from tlmsim.engine.component import Component
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.trace import TraceWriter
from tlmsim.engine.transaction import DataClass
from tlmsim.hw.controller import Controller
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig
from tlmsim.workload import Layer

NS = 1000  # ps


class Fixed(Component):
    KIND = "fixed"

    def __init__(self, *, name, env, recorder, latency_ps, capacity_bytes=1 << 20):
        super().__init__(name=name, env=env, recorder=recorder)
        self.latency_ps = latency_ps
        self.capacity_bytes = capacity_bytes
        self.half_capacity_bytes = capacity_bytes // 2

    def allocate(self, nbytes, what=""):
        pass

    def free(self, nbytes):
        pass

    @property
    def free_bytes(self):
        return self.capacity_bytes

    def reserve(self, txn, start_ps):
        self.record(txn, start_ps, start_ps + self.latency_ps, 0)
        return start_ps + self.latency_ps

    def access(self, txn):
        end = self.reserve(txn, self.env.now)
        yield self.env.timeout(end - self.env.now)


LAYER = Layer(index=0, name="l", op="linear", in_shape=(8,), out_shape=(8,), kernel=(1, 1), stride=(1, 1),
              padding=(0, 0), neuron=None, weight_sparsity=0.0, firing_rate=0.5)


def run(double_buffered: bool, compute_cycles: int = 100, stores: bool = False, n_tiles: int = 3):
    env = simpy.Environment()
    rec = Recorder()
    mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)
    dram, noc, glb, l1 = mk("dram"), mk("noc"), mk("glb"), mk("l1")
    pe = PeArray(name="pe_array", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=1 * NS,
                 energy=EnergyTable())
    tiles = []
    for i in range(n_tiles):
        st = [Move(DataClass.OUT_SPIKES, 64, False, 0, 0)] if stores else []
        tiles.append(Tile(index=i, t_first=0, t_last=0, loads=[Move(DataClass.WEIGHTS, 100, False, 0, 0)],
                          stores=st, compute_cycles=compute_cycles))
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=dram, noc=noc, levels=[glb], l1=l1, pe=pe,
                      plans=[LayerPlan(layer=LAYER, tiles=tiles)], chunk_bytes=4096, outstanding=4,
                      double_buffered=double_buffered)
    env.run(until=ctrl.done)
    return env.now, rec


def test_double_buffer_hides_loads_behind_longer_compute():
    # load = GLB read + NoC + L1 write = 3 x 10 ns = 30 ns; compute = 100 cycles at 1 ns = 100 ns
    # (the 10 ns L1 operand read runs inside the compute). Double-buffered:
    # load0 [0,30] compute0 [30,130]; load1 [30,60] compute1 [130,230];
    # load2 waits for half 0 (freed at 130): [130,160], compute2 [230,330] -> 330 ns = 30 + 3 x 100
    end, rec = run(double_buffered=True)
    assert end == 330 * NS
    assert rec.stalls.total_ps("pe_array", "waiting_for_operands") == 30 * NS  # the pipeline fill only
    assert rec.stalls.total_ps("controller", "l1_full") == 70 * NS  # load2 waited 60 -> 130
    assert rec.issued == rec.completed


def test_single_buffer_serialises_load_and_compute():
    # each tile: 30 ns load then 100 ns compute, nothing overlaps: 3 x 130 = 390 ns
    end, _ = run(double_buffered=False)
    assert end == 390 * NS


def test_loads_longer_than_compute_make_the_array_wait():
    # compute 10 cycles = 10 ns, but the L1 operand read alone takes 10 ns -> tile = 10 ns;
    # loads 30 ns each, double-buffered: load k ends at 30(k+1), compute k [30(k+1), 30(k+1)+10]
    # -> end = 90 + 10 = 100 ns; the array waited 30 + 20 + 20 = 70 ns for operands
    end, rec = run(double_buffered=True, compute_cycles=10)
    assert end == 100 * NS
    assert rec.stalls.total_ps("pe_array", "waiting_for_operands") == 70 * NS


def test_stores_go_through_l1_noc_glb_and_conserve_bytes():
    end, rec = run(double_buffered=True, stores=True)
    # every output byte leaving L1 arrives in the GLB through the NoC
    l1_out = rec.stats["l1"].c["read_bytes"] - 3 * 100  # minus the operand reads by the array
    assert l1_out == 3 * 64
    assert rec.flows[("l1", "glb", int(DataClass.OUT_SPIKES), 0)] == 3 * 64
    assert rec.flows[("noc", "glb", int(DataClass.OUT_SPIKES), 0)] == 3 * 64
    assert rec.issued == rec.completed


def _stuck_controller():
    """A tile whose load waits for a membrane store that no tile ever makes."""
    env = simpy.Environment()
    rec = Recorder()
    mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)  # noqa: E731
    dram, noc, glb, l1 = mk("dram"), mk("noc"), mk("glb"), mk("l1")
    pe = PeArray(name="pe_array", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=1 * NS,
                 energy=EnergyTable())
    tile = Tile(index=0, t_first=1, t_last=1,
                loads=[Move(DataClass.MEMBRANE, 64, False, 0, 0, after=(0, "membrane", 0, 0, 0))],
                stores=[], compute_cycles=10)
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=dram, noc=noc, levels=[glb], l1=l1, pe=pe,
                      plans=[LayerPlan(layer=LAYER, tiles=[tile])], chunk_bytes=4096, outstanding=4,
                      double_buffered=True)
    return env, rec, ctrl


def test_a_deadlock_names_what_is_blocked():
    from tlmsim.soc.run import run_guarded
    from tlmsim.errors import SimulationError

    env, rec, ctrl = _stuck_controller()
    with pytest.raises(SimulationError) as e:
        run_guarded(env, ctrl, rec)
    msg = str(e.value)
    assert msg.startswith("deadlock at t=0 ps")
    assert "loader waits for the store (0, 'membrane', 0, 0, 0) it depends on (layer 0, tile 0)" in msg
    assert "compute waits for a loaded tile" in msg


def test_a_livelock_is_stopped_by_the_watchdog():
    from tlmsim.soc.run import run_guarded
    from tlmsim.errors import SimulationError

    env, rec, ctrl = _stuck_controller()

    def spin():  # a process that keeps scheduling events without time advancing
        while True:
            yield env.timeout(0)

    env.process(spin())
    with pytest.raises(SimulationError, match=r"hang at t=0 ps: 10000 events without simulated time advancing"):
        run_guarded(env, ctrl, rec, watchdog_events=10_000)


# -- the L1 address map: outputs stay until drained ------------------------------------------

def l1_overwrites(trace: pd.DataFrame, capacity: int) -> list:
    """L1 writes (trace rows) that land on bytes whose previous contents are not yet read,
    or are still being read: scanning L1 hops by start time, a write is bad when any of its
    bytes was written and not read since, or is read by a hop that ends after the write starts."""
    t = trace[trace.component == "l1"].sort_values(["start_ps", "txn_id"], kind="stable")
    unread = np.zeros(capacity, dtype=bool)
    read_end = np.zeros(capacity, dtype=np.int64)
    bad = []
    for r in t.itertuples(index=False):
        a, n = int(r.address), int(r.bytes)
        if r.command == "write":
            if unread[a:a + n].any() or (read_end[a:a + n] > r.start_ps).any():
                bad.append(r)
            unread[a:a + n] = True
        elif r.command == "read":
            unread[a:a + n] = False
            np.maximum(read_end[a:a + n], r.end_ps, out=read_end[a:a + n])
    return bad


def run_plans(plans, *, l1_bytes=1 << 20, double_buffered=True, chunk=4096, outstanding=4, trace=None):
    env = simpy.Environment()
    rec = Recorder(trace=TraceWriter(trace) if trace is not None else None)
    mk = lambda name, cap=1 << 20: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS, capacity_bytes=cap)  # noqa: E731
    dram, noc, glb, l1 = mk("dram"), mk("noc"), mk("glb"), mk("l1", l1_bytes)
    pe = PeArray(name="pe_array", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=1 * NS,
                 energy=EnergyTable())
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=dram, noc=noc, levels=[glb], l1=l1, pe=pe,
                      plans=plans, chunk_bytes=chunk, outstanding=outstanding, double_buffered=double_buffered)
    env.run(until=ctrl.done)
    rec.close()
    return env.now, rec, ctrl


def _tile(i, load, store, cycles=20, store_in_dram=True, load_glb=0):
    loads = [Move(DataClass.WEIGHTS, load, False, 0, load_glb)] if load else []
    stores = [Move(DataClass.OUT_SPIKES, store, store_in_dram, 0, 0)] if store else []
    return Tile(index=i, t_first=0, t_last=0, loads=loads, stores=stores, compute_cycles=cycles)


def test_a_load_waits_for_the_outputs_it_would_overwrite(tmp_path):
    # L1 256 B, two halves of 128 B: operands at the bottom of a half, outputs at its top.
    # tile0 and tile1: 32 B operands + 96 B outputs; tile2 (half 0 again): 96 B operands,
    # which reach into tile0's outputs [32, 128) until they have drained.
    # Hops take 10 ns each; a load GLB -> NoC -> L1 = 30 ns; a drain L1 -> NoC -> GLB (staging
    # write + read) -> NoC, then the DRAM write = 60 ns; compute 20 cycles = 20 ns (its L1 operand
    # read, 10 ns, runs inside); the output write into L1 10 ns after the compute.
    #   load0 [0,30]  compute0 [30,50] outputs [50,60]  drain0 [60,120]
    #   load1 [30,60] compute1 [60,80] outputs [80,90]  drain1 [120,180] (after drain0)
    #   load2: half 0 free at 60, but its bytes [0,96) overlap outputs [32,128) -> waits to 120
    #   load2 [120,150] compute2 [150,170] outputs [170,180] drain2 [180,240] -> end 240 ns
    tiles = [_tile(0, 32, 96), _tile(1, 32, 96), _tile(2, 96, 32)]
    path = tmp_path / "trace.csv"
    end, rec, _ = run_plans([LayerPlan(layer=LAYER, tiles=tiles)], l1_bytes=256, trace=path)
    assert end == 240 * NS
    assert rec.stalls.total_ps("controller", "l1_full") == 60 * NS  # load2 waited 60 -> 120
    assert rec.stalls.total_ps("pe_array", "waiting_for_operands") == (30 + 60) * NS
    assert rec.stalls.total_ps("pe_array", "waiting_for_output_buffer") == 0
    tr = pd.read_csv(path)
    l1 = tr[tr.component == "l1"]
    # outputs sit at the top of their half: tile0's at 128 - 96 = 32, tile1's at 256 - 96 = 160
    writes = l1[(l1.command == "write") & (l1.data_class == "out_spikes")]
    assert writes.address.tolist() == [32, 160, 96]
    assert l1_overwrites(tr, 256) == []


def test_outputs_wait_for_the_earlier_outputs_of_their_half():
    # single buffer (one 128-B "half"): tile1's operands [0,32) load while tile0's outputs
    # [32,128) drain, but tile1's outputs go to the same top and wait for the drain:
    #   load0 [0,30] compute0 [30,50] outputs [50,60] drain0 [60,120]
    #   load1 [60,90] (disjoint from tile0's outputs); compute1 waits for drain0: [120,140]
    #   outputs [140,150] drain1 [150,210] -> 210 ns; the array waited 30 ns for its outputs
    tiles = [_tile(0, 32, 96), _tile(1, 32, 96)]
    end, rec, _ = run_plans([LayerPlan(layer=LAYER, tiles=tiles)], l1_bytes=128, double_buffered=False)
    assert end == 210 * NS
    assert rec.stalls.total_ps("pe_array", "waiting_for_output_buffer") == 30 * NS
    # the loader waited for the only half from 30 (load0 done) to 60 (compute0 done), not for drain0
    assert rec.stalls.total_ps("controller", "l1_full") == 30 * NS


def test_streamed_blocks_wait_for_a_staging_slot():
    # one lane per move -> 2 staging slots. A tile loads three 64-B moves from DRAM at once:
    # each DRAM read [0,10], NoC [10,20]; two blocks take the slots (GLB write [20,30], read
    # [30,40]), the third waits for a slot until 40 (stall 20 ns): write [40,50], read [50,60],
    # NoC [60,70], L1 [70,80]. The tile is loaded at 80 ns and computes 20 ns -> 100 ns.
    loads = [Move(DataClass.WEIGHTS, 64, True, 0, 0), Move(DataClass.SPIKES, 64, True, 4096, 0),
             Move(DataClass.MEMBRANE, 64, True, 8192, 0)]
    tile = Tile(index=0, t_first=0, t_last=0, loads=loads, stores=[], compute_cycles=20)
    end, rec, _ = run_plans([LayerPlan(layer=LAYER, tiles=[tile])], outstanding=1)
    assert end == 100 * NS
    assert rec.stalls.total_ps("controller", "staging_full") == 20 * NS
    # the blocks used GLB addresses of the two slots (chunk 4096: 0 and 4096), nothing else
    assert rec.stats["glb"].c["write_bytes"] == 3 * 64


# -- resident tensors: the prologue overlaps the tiles, the next layer's weights prefetch -----

G = 65536  # GLB address of the resident weights (above the 32 KiB staging area)


def test_the_prologue_overlaps_the_first_tiles():
    # resident weights, 8 KiB in two 4-KiB blocks on one lane: DRAM read, NoC, GLB write =
    # 30 ns per block -> the first block is in at 30, the second at 60 ns.
    # tile0 reads the first block: waits to 30, loads [30,60], computes 100 ns [60,160];
    # tile1 reads the second: in at 60, loads [60,90], computes [160,260] -> 260 ns
    # (a serial prologue would end at 60 and the run at 290 ns).
    prologue = [Move(DataClass.WEIGHTS, 8192, True, 0, G)]
    tiles = [_tile(0, 4096, 0, cycles=100, load_glb=G), _tile(1, 4096, 0, cycles=100, load_glb=G + 4096)]
    end, rec, _ = run_plans([LayerPlan(layer=LAYER, tiles=tiles, prologue=prologue, resident_bytes={0: 8192})],
                            outstanding=1)
    assert end == 260 * NS
    assert rec.stalls.total_ps("controller", "resident_data") == 30 * NS


def test_the_next_layers_weights_prefetch_during_this_layer():
    # layer A: one tile reading 64 B resident at 40000, computing 200 ns: load [0,30],
    # compute [30,230]. Layer B keeps 8 KiB of weights at G, clear of A's tensors: they
    # prefetch during A ([0,30], [30,60] on one lane), so B's tile loads at once when B
    # starts: load [230,260], compute 100 ns -> 360 ns (without the prefetch: 390).
    b = Layer(index=1, name="b", op="linear", in_shape=(8,), out_shape=(8,), kernel=(1, 1), stride=(1, 1),
              padding=(0, 0), neuron=None, weight_sparsity=0.0, firing_rate=0.5)
    a_plan = LayerPlan(layer=LAYER, tiles=[_tile(0, 64, 0, cycles=200, load_glb=40000)], resident_bytes={0: 64})
    b_plan = LayerPlan(layer=b, tiles=[_tile(0, 4096, 0, cycles=100, load_glb=G)],
                       prologue=[Move(DataClass.WEIGHTS, 8192, True, 0, G)], resident_bytes={0: 8192})
    end, rec, ctrl = run_plans([a_plan, b_plan], outstanding=1)
    assert end == 360 * NS
    assert ctrl.stats.c["prefetched_bytes"] == 8192
    assert rec.stalls.total_ps("controller", "resident_data") == 0
    # weights that overlap what A keeps resident are not prefetched: B then loads them when it starts
    b_clash = LayerPlan(layer=b, tiles=[_tile(0, 4096, 0, cycles=100, load_glb=39936)],
                        prologue=[Move(DataClass.WEIGHTS, 8192, True, 0, 39936)], resident_bytes={0: 8192})
    end, rec, ctrl = run_plans([a_plan, b_clash], outstanding=1)
    assert ctrl.stats.c["prefetched_bytes"] == 0
    # B starts at 230: first block in at 260, tile load [260,290], compute [290,390]
    assert end == 390 * NS


def test_no_l1_write_lands_on_bytes_still_to_be_read_in_a_real_run(tmp_path):
    # LeNet-5 on spikex: with the input half freed before its outputs drained, 35 L1 writes
    # of this run landed on outputs still waiting to be stored
    from tlmsim.soc.run import simulate
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload

    trace = tmp_path / "t.csv"
    p = load_platform("ddr4-baseline", ["dataflow.name=spikex"])
    simulate(p, load_workload("lenet5-mnist", seed=0), trace_path=trace)
    tr = pd.read_csv(trace)
    l1 = tr[tr.component == "l1"]
    assert ((l1.command == "read") & (l1.data_class == "out_spikes")).sum() > 20  # drains were checked
    assert l1_overwrites(tr, p.buffers.l1.capacity_bytes) == []
