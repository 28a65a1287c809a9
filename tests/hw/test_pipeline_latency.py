"""The pairing estimate's latency term (docs/hierarchy.md, "Layer pipelining", The estimate):
the zero-load latency of a DMA block per route from the components' timing parameters
(:meth:`Controller.latency`), and how the estimate's timeline (:func:`layer_timeline`) pays
it: each step's loads, the array's L1 accesses, the stores, the stores a step depends on.
Every figure by hand."""

from __future__ import annotations

from dataclasses import replace

import pytest
import simpy

from tests.hw.controller_rig import dram, glb, layer, tile
from tlmsim.engine.plan import LayerPlan, Move
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.controller import (
    Latency,
    Rates,
    alone_cycles,
    hop_cycles,
    layer_timeline,
    pair_cycles,
    pipeline_stages,
)
from tlmsim.hw.dram import Dram
from tlmsim.platform import load_platform
from tlmsim.soc.build import build
from tlmsim.workload import load_workload

W, S, O, M = DataClass.WEIGHTS, DataClass.SPIKES, DataClass.OUT_SPIKES, DataClass.MEMBRANE
ZERO = (0.0, 1, 0.0)
BIG = 1 << 40


def fixed(c: float):
    """A hop of ``c`` cycles whatever the block's size."""
    return (float(c), BIG, 0.0)


def lat(load: float = 0, store: float = 0, l1_write: float = 0, l1_read: float = 0, *, chunk: int = 4096,
        halves: int = 2, dram_load: float | None = None, dram_store: float | None = None) -> Rates:
    """No bandwidth limit; one level (the GLB, position 1): a block from the GLB into L1 takes
    ``load`` cycles, from L1 into the GLB ``store``, DRAM's routes ``dram_load`` / ``dram_store``."""
    return Rates(levels=(0.0,), latency=Latency(
        chunk=chunk, loads=((fixed(load if dram_load is None else dram_load),), (fixed(load),)),
        stores=((fixed(store if dram_store is None else dram_store),), (fixed(store),)),
        l1_read=fixed(l1_read), l1_write=fixed(l1_write), halves=halves))


def test_a_hop_takes_its_fixed_cycles_plus_a_period_per_unit_of_the_block():
    # an SRAM of 8 banks x 32 B (256 B a cycle), latency 3: 2 + ceil(n / 256); a NoC of 2 hops x (2 + 1)
    # at half the array's clock (2 array cycles a NoC cycle), 64-byte flits: 12 + 2 ceil(n / 64)
    sram, noc = (2.0, 256, 1.0), (12.0, 64, 2.0)
    assert hop_cycles((sram,), 256) == 3 and hop_cycles((sram,), 257) == 4 and hop_cycles((sram,), 1) == 3
    assert hop_cycles((noc,), 100) == 16  # 12 + 2 x 2 flits
    assert hop_cycles((sram, noc, sram), 512) == 4 + 28 + 4
    assert hop_cycles((), 100) == 0


@pytest.fixture(scope="module")
def mesh():
    plat = load_platform("platforms/mesh-4core.yaml", ["pe_array.multicore=pipeline"])
    _comps, ctrl, _plans = build(plat, load_workload("digits-snn", seed=0), simpy.Environment(), Recorder(sinks=[]))
    return ctrl


def test_the_routes_of_mesh_4core_by_hand(mesh):
    # mesh-4core, every figure in 2 ns array cycles (500 MHz; the NoC at the same clock): the GLB (32 banks
    # x 64 B, read and write latency 1) 0 + ceil(n / 2048); a core's L1 (8 x 32 B) 0 + ceil(n / 256); the
    # NoC (router 2, link 1, 256-byte flits) H x 3 + ceil(n / 256), the GLB two hops from each corner core,
    # the memory controller one hop from the GLB; DDR4-3200 (tCK 0.63 ns = 0.315 cycles): a read tRCD 22 +
    # RL 22 + burst 4 tCK for the first burst, the bursts of a block spread over the 4 channels (channel
    # bits lowest, rorababgcoch), each channel's next one tCCD_L 8 tCK later (the next column of the same
    # bank): (48 - 8) x 0.315 + ceil(n / 256) x 8 x 0.315; a write is posted, one tCK
    L = mesh.latency()
    assert L.chunk == 4096 and L.halves == 2
    assert L.l1_read == L.l1_write == (0.0, 256, 1.0)
    assert L.loads[1] == ((0.0, 2048, 1.0), (6.0, 256, 1.0), (0.0, 256, 1.0))  # GLB read, NoC, L1 write
    assert L.loads[0] == ((pytest.approx(40 * 0.315), 256, pytest.approx(8 * 0.315)), (3.0, 256, 1.0),
                          (0.0, 2048, 1.0), (0.0, 2048, 1.0), (6.0, 256, 1.0), (0.0, 256, 1.0))
    assert L.stores[1] == ((0.0, 256, 1.0), (6.0, 256, 1.0), (0.0, 2048, 1.0))  # L1 read, NoC, GLB write
    assert L.stores[0][:5] == ((0.0, 256, 1.0), (6.0, 256, 1.0), (0.0, 2048, 1.0), (0.0, 2048, 1.0), (3.0, 256, 1.0))
    assert L.stores[0][5][0] == pytest.approx(0.315) and L.stores[0][5][2] == 0
    # 128 B from the GLB: 1 + 7 + 1 = 9 cycles (pool1's loads; the run's trace: GLB read 1, NoC 7, L1 write 1)
    assert hop_cycles(L.loads[1], 128) == 9
    # 4 KiB: GLB 2, NoC 6 + 16, L1 16 = 40
    assert hop_cycles(L.loads[1], 4096) == 40
    # 128 B from DRAM: 48 x 0.315 = 15.12, NoC 3 + 1, GLB staging 1 + 1, NoC 7, L1 1 = 29.12
    assert hop_cycles(L.loads[0], 128) == pytest.approx(29.12)
    # 4 KiB from DRAM: 40 x 0.315 + 16 x 8 x 0.315 = 52.92, NoC 19, staging 2 + 2, NoC 22, L1 16 = 113.92
    assert hop_cycles(L.loads[0], 4096) == pytest.approx(113.92)
    # 32 B into the GLB: 1 + 7 + 1 = 9; into DRAM: L1 1, NoC 7, staging 2, NoC 4, a posted write 0.315
    assert hop_cycles(L.stores[1], 32) == 9 and hop_cycles(L.stores[0], 32) == pytest.approx(14.315)
    # the rates carry it
    assert mesh.rates().latency == L


def test_the_dram_hop_is_the_idle_dram_model_s_read(mesh):
    # the DRAM model itself, idle, one read of n bytes at address 0: the hop's figure, cycle for cycle
    hop = mesh.latency().loads[0][0]
    for n, tck in ((64, 48), (1024, 48 + 3 * 8), (4096, 48 + 15 * 8)):
        env, rec = simpy.Environment(), Recorder()
        d = Dram(name="dram", env=env, recorder=rec, config=mesh.dram.config)
        done = []

        def proc(env=env, rec=rec, d=d, n=n, done=done):
            txn = rec.new_transaction(Cmd.READ, DataClass.NONE, 0, n, "t", "dram", now_ps=0)
            yield d.submit(txn)
            done.append(env.now)

        env.process(proc())
        env.run()
        assert done == [tck * 630]
        assert hop_cycles((hop,), n) == pytest.approx(tck * 630 / 2000)


def test_test_doubles_have_no_latency_model():
    from tests.hw.test_layer_pipeline import build as build_doubles
    from tests.hw.test_layer_pipeline import producer

    _env, _rec, ctrl, _sink, _ = build_doubles([producer()])
    assert ctrl.latency() is None and ctrl.rates().latency is None
    # each hop of a double takes no time
    assert ctrl._sram_hop(ctrl.l1, False) == ctrl._sram_hop(ctrl.levels[0], True) == (0.0, 1, 0.0)
    assert ctrl._dram_hop(False) == ctrl._dram_hop(True) == ctrl._noc_hop("glb", "l1_0") == (0.0, 1, 0.0)


def test_a_small_layer_pays_each_step_s_load_and_its_last_store():
    # pool1 of the digits SNN on mesh-4core: 16 tiles of 1 cycle on 4 cores (4 steps), each loading 128 B
    # from the GLB (9 cycles) and storing 32 B into it (9 cycles); the outputs' L1 write 1 cycle.
    # step 0: loads in at 9, ends at 9 + 1 + 1 = 11, stored at 20; step 1: loads from 9 (the loader takes
    # one step at a time) to 18, ends 20, stored 29; step 2 (its half freed by step 0 at 11): 27, 29, 38;
    # step 3: 36, 38, 47. 47 cycles (measured 55); without the latency model 4 (a cycle a step)
    plan = LayerPlan(layer=layer(1), tiles=[tile(i, [glb(S, 128, 128 * i)], [glb(O, 32, 4096 + 32 * i)], cycles=1)
                                            for i in range(16)])
    rates = lat(load=9, store=9, l1_write=1)
    end, loaded, stored = layer_timeline(plan, 4, rates)
    assert end == 47
    assert [loaded[i] for i in (0, 4, 8, 12)] == [9, 18, 27, 36]
    assert [stored[i] for i in (0, 4, 8, 12)] == [20, 29, 38, 47]
    assert alone_cycles(plan, 4, rates) == 47
    assert alone_cycles(plan, 4, Rates(levels=(0.0,))) == 4


def test_a_timestep_chain_pays_the_store_and_the_load_between_its_steps():
    # one output block over 3 timesteps on one core: tile t loads the membrane tile t - 1 stored (after /
    # signals); compute 10, loads 5, stores 4, the outputs' L1 write 1. Step 0: loads in at 5, ends at
    # 5 + 10 + 1 = 16, stored 20; step 1 waits for that store: loads 20-25, ends 36, stored 40; step 2:
    # 45, 56, 60. 20 cycles a step instead of 10
    tiles = [tile(t, [glb(W, 64, 0)] + ([glb(M, 32, 512, after=(0, t - 1))] if t else []),
                  [glb(M, 32, 512, signals=(0, t))], cycles=10) for t in range(3)]
    plan = LayerPlan(layer=layer(0), tiles=tiles)
    end, loaded, stored = layer_timeline(plan, 1, lat(load=5, store=4, l1_write=1))
    assert (end, [loaded[t] for t in range(3)], [stored[t] for t in range(3)]) == (60, [5, 25, 45], [20, 40, 60])
    # on 2 cores the same: each step waits for the previous one (one tile a step)
    assert layer_timeline(plan, 2, lat(load=5, store=4, l1_write=1))[0] == 60
    # without the chain the steps overlap: loads in at 5, 10 (one step at a time) and 21 (step 2's L1 half
    # is free when step 0 ends, at 16), the steps end at 16, 26, 36, their stores out at 20, 30, 40
    free = LayerPlan(layer=layer(0), tiles=[tile(t, [glb(W, 64, 0)], [glb(M, 32, 512 + 32 * t)], cycles=10)
                                            for t in range(3)])
    assert layer_timeline(free, 1, lat(load=5, store=4, l1_write=1))[0] == 40


def test_the_loader_takes_one_step_at_a_time_into_a_free_l1_half():
    # 3 tiles of 10 cycles on one core, loads of 30 cycles: the loader is the limit, loads in at 30, 60,
    # 90, the tiles end at 40, 70, 100
    plan = LayerPlan(layer=layer(0), tiles=[tile(i, [glb(W, 64, 64 * i)], [], cycles=10) for i in range(3)])
    end, loaded, _ = layer_timeline(plan, 1, lat(load=30))
    assert (end, list(loaded.values())) == (100, [30, 60, 90])
    # single-buffered (one L1 half): a step's loads also wait for the previous step to have computed:
    # loads 0-30, compute 30-40; loads 40-70, 70-80; 80-110, 110-120
    end, loaded, _ = layer_timeline(plan, 1, lat(load=30, halves=1))
    assert (end, list(loaded.values())) == (120, [30, 70, 110])
    # compute-bound (tiles of 50): double-buffered, step 2's loads wait for step 0's end (80) to free its
    # half: loads in 30, 60, 110; ends 80, 130, 180
    slow = LayerPlan(layer=layer(0), tiles=[tile(i, [glb(W, 64, 64 * i)], [], cycles=50) for i in range(3)])
    end, loaded, _ = layer_timeline(slow, 1, lat(load=30))
    assert (end, list(loaded.values())) == (180, [30, 60, 110])


def test_a_move_s_first_block_pays_the_route_and_the_rest_streams_at_the_rates():
    # a 250-byte load from DRAM in 100-byte blocks over a route of 2 + 3 per started 100 bytes: the first
    # block 5 cycles; the other 150 bytes at the link's 10 bytes a cycle: 15; the load 20. At DRAM's 5
    # bytes a cycle instead: 30, the load 35
    def rates(**kw):
        return Rates(**{"levels": (0.0,), **kw}, latency=Latency(
            chunk=100, loads=(((2.0, 100, 3.0),), (ZERO,)), stores=((ZERO,), (ZERO,))))

    plan = LayerPlan(layer=layer(0), tiles=[tile(0, [dram(W, 250, 0)], [], cycles=1)])
    assert layer_timeline(plan, 1, rates(link=10.0))[1] == {0: 20}
    assert layer_timeline(plan, 1, rates(dram=5.0))[1] == {0: 35}
    # the layer: the step's loads in at 35 plus 1 cycle of compute, or its bandwidth (250 / 5 = 50)
    assert layer_timeline(plan, 1, rates(dram=5.0))[0] == 50
    assert layer_timeline(plan, 1, rates(dram=20.0))[0] == 13.5  # loads 5 + 150 / 20, 1 of compute (bandwidth 12.5)
    # two cores loading the same bytes: moved once (5 + 15 over the link)
    two = LayerPlan(layer=layer(0), tiles=[tile(i, [dram(W, 250, 0)], [], cycles=1) for i in range(2)])
    assert layer_timeline(two, 2, rates(link=10.0))[1] == {0: 20, 1: 20}
    assert layer_timeline(two, 2, rates(dram=5.0))[1] == {0: 35, 1: 35}  # DRAM reads the 150 bytes once: 5 + 30
    # an L1 read of the operands longer than the compute (3 + 1 per started 100 bytes: 6 for 250), then
    # an L1 write of 50 output bytes (4 + 1): the array 11 after the loads (5 + 15)
    arr = LayerPlan(layer=layer(0), tiles=[tile(0, [dram(W, 250, 0)], [glb(O, 50, 0)], cycles=1)])
    r = Rates(levels=(0.0,), link=10.0, latency=Latency(
        chunk=100, loads=(((2.0, 100, 3.0),), (ZERO,)), stores=((ZERO,), (ZERO,)),
        l1_read=(3.0, 100, 1.0), l1_write=(4.0, 100, 1.0)))
    assert layer_timeline(arr, 1, r)[0] == 20 + 6 + 5


def test_the_estimate_of_the_hand_run_with_10_ns_hops_is_the_run():
    # tests/hw/test_layer_pipeline.py's first hand example (every hop 10 ns, the array at 1 ns a cycle):
    # from the GLB 3 hops (GLB read, NoC, L1 write) 30 cycles, into it 30; to DRAM 6 hops (L1 read, NoC,
    # GLB staging write and read, NoC, DRAM write) 60; the outputs' L1 write 10; the operands' L1 read 10
    # (within the 20 cycles of compute). Measured there: the pair 270 ns, split 90 + 120 = 210 ns
    prod = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 32, 1000)], [glb(O, 64, 2000)]),
                                            tile(1, [glb(W, 32, 1000)], [glb(O, 64, 2064)])])
    cons = LayerPlan(layer=layer(1), tiles=[tile(0, [glb(S, 64, 2000)], [dram(O, 8, 0)]),
                                            tile(1, [glb(S, 64, 2064)], [dram(O, 8, 8)])])
    rates = lat(load=30, store=30, l1_write=10, l1_read=10, dram_store=60)
    # the producer on core 0: tile 0 loads in at 30, ends 30 + 20 + 10 = 60, stored 90; tile 1 loads 30-60,
    # ends 90, stored 120 (the run: 90 and 120)
    assert layer_timeline(prod, 1, rates) == (120, {0: 30, 1: 60}, {0: 90, 1: 120})
    # the consumer on core 1: tile 0 waits for 90, loads in at 120, ends 150, stored 210; tile 1 (reads
    # tile 1's outputs, stored at 120) loads 120-150, ends 180, its store after tile 0's: 210-270
    assert pair_cycles(prod, cons, 1, 2, rates) == 270
    # one after the other on both cores: 90 (loads 30, array 30, store 30) + 120 (store to DRAM 60)
    assert alone_cycles(prod, 2, rates) == 90 and alone_cycles(cons, 2, rates) == 120
    _stages, notes = pipeline_stages([prod, cons], 2, [1 << 20], 0, rates=rates)
    assert notes[0] == "alone on cores 0-1: no expected gain with 'l1' (est. 270 cycles together vs 210 one after the other)"


def test_the_pair_waits_for_the_stores_it_reads_with_their_latency():
    # producer: 4 tiles of 10 cycles on cores 0-1 (2 steps) storing into the GLB (store 4); consumer on
    # cores 2-3: tile j reads the producer's tile j, loads 5, compute 10. The producer's steps end at 10
    # and 20, stored at 14 and 24; the consumer's step 0 waits for 14: loads in 19, ends 29; step 1 for 24:
    # loads in 29, ends 39; its stores (4) out at 33 and 43: the pair 43 (without latency: 30)
    prod = LayerPlan(layer=layer(0), tiles=[tile(i, [], [glb(O, 64, 2000 + 64 * i)], cycles=10) for i in range(4)])
    cons = LayerPlan(layer=layer(1), tiles=[tile(j, [glb(S, 64, 2000 + 64 * j)], [glb(O, 8, 9000 + 8 * j)],
                                                 cycles=10) for j in range(4)])
    rates = lat(load=5, store=4)
    assert pair_cycles(prod, cons, 2, 4, rates) == 43
    assert pair_cycles(prod, cons, 2, 4, Rates(levels=(0.0,))) == 30


def _latency(platform: str, sets: list[str]):
    plat = load_platform(platform, sets)
    _comps, ctrl, _plans = build(plat, load_workload("digits-snn", seed=0), simpy.Environment(), Recorder(sinks=[]))
    return ctrl.latency()


def test_every_timing_parameter_of_a_route_counts():
    # ddr4-baseline (one core; dram [0, 0], glb [1, 0], l1 [1, 1]: every transfer one hop; 64-byte links)
    # with the NoC at 250 MHz (4 ns: 2 array cycles a NoC cycle), router 3, link 2: (3 + 2) x 2 = 10
    # cycles + 2 a flit; the GLB (16 banks x 32 B) read 4, write 2: 3 or 1 + ceil(n / 512); the L1
    # (8 x 32 B) read 3, write 2: 2 or 1 + ceil(n / 256); one DDR4-3200 channel with the preset's mapping
    # (rochrababgco: a block's bursts all in one bank): 40 x 0.315 + 8 x 0.315 a burst
    L = _latency("ddr4-baseline", ["noc.clock_mhz=250", "noc.router_latency_cycles=3", "noc.link_latency_cycles=2",
                                   "buffers.glb.read_latency_cycles=4", "buffers.glb.write_latency_cycles=2",
                                   "buffers.l1.read_latency_cycles=3", "buffers.l1.write_latency_cycles=2"])
    noc, gr, gw, lr, lw = (10.0, 64, 2.0), (3.0, 512, 1.0), (1.0, 512, 1.0), (2.0, 256, 1.0), (1.0, 256, 1.0)
    assert L.loads[1] == (gr, noc, lw) and L.stores[1] == (lr, noc, gw)
    assert L.loads[0][1:] == (noc, gw, gr, noc, lw) and L.stores[0][:5] == (lr, noc, gw, gr, noc)
    assert L.loads[0][0] == (pytest.approx(12.6), 64, pytest.approx(2.52))
    assert (L.l1_read, L.l1_write) == (lr, lw)
    # 128 B from the GLB: 3 + 1, 10 + 2 x 2, 1 + 1 = 20
    assert hop_cycles(L.loads[1], 128) == 20
    # single-buffered L1: one half
    assert _latency("ddr4-baseline", ["buffers.l1.double_buffered=false"]).halves == 1


def test_a_bus_costs_one_hop_and_endpoints_at_one_router_the_router_only():
    # mesh-4core with a bus: every transfer router 2 + link 1 (the GLB two mesh hops from a core: 6 on the mesh)
    L = _latency("platforms/mesh-4core.yaml", ["noc.topology=bus"])
    assert L.loads[1][1] == (3.0, 256, 1.0) and L.loads[0][1] == (3.0, 256, 1.0)
    # a crossbar: one switch traversal, router + link, the same
    L = _latency("platforms/mesh-4core.yaml", ["noc.topology=crossbar", "noc.router_latency_cycles=4"])
    assert L.loads[1][1] == (5.0, 256, 1.0) and L.stores[0][4] == (5.0, 256, 1.0)
    # mesh-4core-l2: each core's L2 at its L1's router: L2 -> L1 the router only (2); GLB -> L2 two hops (6)
    L = _latency("platforms/mesh-4core-l2.yaml", [])
    # (the L2: 8 banks x 32 B, latency 1)
    assert L.loads[2] == ((0.0, 256, 1.0), (2.0, 256, 1.0), (0.0, 256, 1.0))  # L2 read, NoC, L1 write
    assert L.loads[1][1:4] == ((6.0, 256, 1.0), (0.0, 256, 1.0), (0.0, 256, 1.0))  # NoC, L2 staging


def test_the_dram_hop_follows_the_address_mapping():
    # bank groups lowest (rochrabacobg): a channel's next burst is in the other bank group, tCCD_S 4 = the
    # burst: (48 - 4) x 0.315 + 4 x 0.315 a burst
    d = _latency("ddr4-baseline", ["dram.address_mapping=rochrabacobg"]).loads[0][0]
    assert d == (pytest.approx(44 * 0.315), 64, pytest.approx(4 * 0.315))
    # mesh-4core with 8 KiB per channel (rorababgchco): a block's bursts in one channel, 8 tCK apart
    d = _latency("platforms/mesh-4core.yaml", ["dram.address_mapping=rorababgchco"]).loads[0][0]
    assert d == (pytest.approx(40 * 0.315), 64, pytest.approx(8 * 0.315))


def test_a_move_s_route_is_its_level_s_and_its_rest_counts_in_the_levels():
    # two levels: a block from level 0 (position 1) takes 7 cycles, from level 1 (position 2) 3, from DRAM 20
    rates = Rates(levels=(0.0, 10.0), latency=Latency(
        chunk=100, loads=((fixed(20),), (fixed(7),), (fixed(3),)), stores=((ZERO,), (ZERO,), (ZERO,))))
    def loaded(*moves):
        return layer_timeline(LayerPlan(layer=layer(0), tiles=[tile(0, list(moves), [], cycles=1)]), 1, rates)[1][0]

    assert loaded(Move(W, 100, False, 0, 0, level=1)) == 3
    assert loaded(Move(W, 100, False, 0, 0, level=0)) == 7
    assert loaded(Move(W, 100, False, 0, 0, level=-1)) == 3  # -1: the innermost
    assert loaded(dram(W, 100, 0)) == 20
    # 250 bytes from level 0: the first block 7, the other 150 staged through level 1 (written and read:
    # 300 bytes at 10 a cycle): 30
    assert loaded(Move(W, 250, False, 0, 0, level=0)) == 37
    # from level 1 itself: read there, 150 bytes: 15
    assert loaded(Move(W, 250, False, 0, 0, level=1)) == 18


def test_a_step_s_loads_and_its_array_time_tile_by_tile():
    # one core, a tile loading 250 B from the GLB then 250 B from DRAM (blocks of 100; from the GLB 7
    # cycles, from DRAM 20): the longest first block 20, the other 150 + 150 bytes over the link's 10 a
    # cycle 30: loads in at 50; at DRAM's 5 a cycle (the DRAM move's 150 bytes) 30 too, both: 30
    rates = Rates(levels=(0.0,), link=10.0, latency=Latency(
        chunk=100, loads=((fixed(20),), (fixed(7),)), stores=((ZERO,), (ZERO,)), l1_read=fixed(3), l1_write=fixed(5)))
    two = LayerPlan(layer=layer(0), tiles=[tile(0, [glb(W, 250, 0), dram(S, 250, 0)], [], cycles=1)])
    assert layer_timeline(two, 1, rates)[1] == {0: 50}
    # two DRAM moves of 250: their 300 bytes beyond the first blocks at DRAM's 5 a cycle: 60, loads in at 80
    both = LayerPlan(layer=layer(0), tiles=[tile(0, [dram(W, 250, 0), dram(S, 250, 1000)], [], cycles=1)])
    assert layer_timeline(both, 1, replace(rates, link=0.0, dram=5.0))[1] == {0: 80}
    # the array: the operands' L1 read (3) is longer than the 1-cycle compute; no store, no L1 write:
    # 50 + 3 (the bandwidth bound: 500 bytes over the link, 50)
    assert layer_timeline(two, 1, rates)[0] == 53
    # no load: no L1 read, the compute alone (1), then the outputs' L1 write (5): 6, and the store
    # (no latency) out at 6
    out = LayerPlan(layer=layer(0), tiles=[tile(0, [], [glb(O, 8, 0)], cycles=1)])
    assert layer_timeline(out, 1, rates) == (6, {0: 0}, {0: 6})
    # nothing at all: 0
    assert layer_timeline(LayerPlan(layer=layer(0), tiles=[tile(0, cycles=0)]), 1, rates)[0] == 0


def test_the_latency_model_takes_the_core_whose_route_is_longest():
    # mesh-4core-l2 on 2 cores: core 0's L2 two hops from the GLB (6) and its L1 at the L2's router (2);
    # core 1's L2 one hop from the GLB (3), its L1 three hops further (9): core 1's 12 is the longer, though
    # its first NoC hop is the shorter. From the GLB: read 2, NoC 3 + 16, L2 staging 16 + 16, NoC 9 + 16,
    # L1 16 for 4 KiB: 94
    L = _latency("platforms/mesh-4core-l2.yaml", ["pe_array.cores=2", "noc.nodes.l2=[[0, 0], [1, 2]]",
                                                  "noc.nodes.l1=[[0, 0], [2, 0]]"])
    assert [h[0] for h in L.loads[1]] == [0.0, 3.0, 0.0, 0.0, 9.0, 0.0]
    assert hop_cycles(L.loads[1], 4096) == 94
