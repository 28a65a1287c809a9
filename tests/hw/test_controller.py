"""Controller pipeline rules with fixed-latency stand-ins for the memories, so that
every time is exact and only the controller's double buffering is under test."""

import simpy

from tlmsim.dataflow.base import LayerPlan, Move, Tile
from tlmsim.engine.component import Component
from tlmsim.engine.recorder import Recorder
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
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=dram, noc=noc, glb=glb, l1=l1, pe=pe,
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
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=dram, noc=noc, glb=glb, l1=l1, pe=pe,
                      plans=[LayerPlan(layer=LAYER, tiles=[tile])], chunk_bytes=4096, outstanding=4,
                      double_buffered=True)
    return env, rec, ctrl


def test_a_deadlock_names_what_is_blocked():
    import pytest

    from tlmsim.engine.simulation import run_guarded
    from tlmsim.errors import SimulationError

    env, rec, ctrl = _stuck_controller()
    with pytest.raises(SimulationError) as e:
        run_guarded(env, ctrl, rec)
    msg = str(e.value)
    assert msg.startswith("deadlock at t=0 ps")
    assert "loader waits for the store (0, 'membrane', 0, 0, 0) it depends on (layer 0, tile 0)" in msg
    assert "compute waits for a loaded tile" in msg


def test_a_livelock_is_stopped_by_the_watchdog():
    import pytest

    from tlmsim.engine.simulation import run_guarded
    from tlmsim.errors import SimulationError

    env, rec, ctrl = _stuck_controller()

    def spin():  # a process that keeps scheduling events without time advancing
        while True:
            yield env.timeout(0)

    env.process(spin())
    with pytest.raises(SimulationError, match=r"hang at t=0 ps: 10000 events without simulated time advancing"):
        run_guarded(env, ctrl, rec, watchdog_events=10_000)
