"""Routes through a declared hierarchy (Controller.route): every level between where a
tensor lives and L1 is passed through its staging area, the NoC joins neighbouring
levels. Fixed-latency stand-ins (10 ns per hop, as tests/hw/test_controller.py) make
every time exact, so only the controller's routing is under test."""

import pandas as pd
import simpy

from tlmsim.engine.plan import Move
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.trace import TraceWriter
from tlmsim.engine.transaction import DataClass
from tlmsim.hw.controller import Controller
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig
from tests.hw.test_controller import NS, Fixed


class EndsRecorder(Recorder):
    """Also keeps each transaction's (src, dst), which the trace CSV does not carry."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.ends = {}

    def complete(self, txn, now_ps):  # every hop that is not booked in one call (DRAM, multicast, compute)
        self.ends[txn.id] = (txn.source, txn.destination)
        super().complete(txn, now_ps)

    def booked(self, comp, cmd, data_class, address, nbytes, source, destination, *rest):
        self.ends[self.issued] = (source, destination)  # the id booked() gives this hop
        return super().booked(comp, cmd, data_class, address, nbytes, source, destination, *rest)


def _ctrl(tmp_path, levels=("l2", "glb"), chunk=4096, outstanding=1):
    env = simpy.Environment()
    trace = tmp_path / "trace.csv"
    rec = EndsRecorder(trace=TraceWriter(trace))
    mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)  # noqa: E731
    pe = PeArray(name="pe_array", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=1 * NS,
                 energy=EnergyTable())
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=mk("dram"), noc=mk("noc"),
                      levels=[mk(n) for n in levels], l1=mk("l1"), pe=pe, plans=[], chunk_bytes=chunk,
                      outstanding=outstanding, double_buffered=True)
    return env, rec, ctrl, trace


def _run(tmp_path, src, dst, move, levels=("l2", "glb"), chunk=4096, l1_addr=0):
    env, rec, ctrl, trace = _ctrl(tmp_path, levels, chunk)
    env.run(until=ctrl.done)  # no plans: done at 0
    env.process(ctrl.transfer(src, dst, move, l1_addr, 0, 0))
    env.run()
    rec.close()
    tr = pd.read_csv(trace).sort_values("txn_id", kind="stable").reset_index(drop=True)
    tr["src"] = [rec.ends[i][0] for i in tr.txn_id]
    tr["dst"] = [rec.ends[i][1] for i in tr.txn_id]
    return env.now, tr, ctrl


def _hops(tr):
    return list(zip(tr.component, tr.command, tr.src, tr.dst, tr.bytes))


def test_a_dram_block_passes_l2_and_glb_staging_on_its_way_to_l1(tmp_path):
    # DRAM read, NoC dram>l2, L2 staging write + read, NoC l2>glb, GLB staging write + read,
    # NoC glb>l1, L1 write: 9 hops of 10 ns = 90 ns
    end, tr, _ = _run(tmp_path, 0, 3, Move(DataClass.WEIGHTS, 100, True, 5000, 0), l1_addr=64)
    assert end == 90 * NS
    assert _hops(tr) == [
        ("dram", "read", "dram", "noc", 100),
        ("noc", "write", "dram", "l2", 100),
        ("l2", "write", "noc", "l2", 100), ("l2", "read", "l2", "noc", 100),
        ("noc", "write", "l2", "glb", 100),
        ("glb", "write", "noc", "glb", 100), ("glb", "read", "glb", "noc", 100),
        ("noc", "write", "glb", "l1", 100),
        ("l1", "write", "noc", "l1", 100),
    ]
    assert tr.address.tolist() == [5000, 0, 0, 0, 0, 0, 0, 0, 64]  # staging slot 0 in both levels
    # bytes at each level: 100 in and 100 out of every level passed, 100 into L1
    by = tr.groupby(["component", "command"]).bytes.sum().to_dict()
    assert by == {("dram", "read"): 100, ("noc", "write"): 300, ("l2", "write"): 100, ("l2", "read"): 100,
                  ("glb", "write"): 100, ("glb", "read"): 100, ("l1", "write"): 100}


def test_two_blocks_of_one_lane_follow_each_other(tmp_path):
    # 100 bytes in blocks of 64 and 36 on one lane: the second starts when the first ends
    end, tr, ctrl = _run(tmp_path, 0, 3, Move(DataClass.WEIGHTS, 100, True, 0, 0), chunk=64)
    assert end == 180 * NS
    assert tr[tr.component == "l1"].bytes.tolist() == [64, 36]
    assert ctrl.stats.c["dma_blocks"] == 2


def test_a_tensor_resident_in_l2_is_read_there_and_staged_through_the_glb(tmp_path):
    # L2 read at the tensor's address, NoC l2>glb, GLB staging write + read, NoC glb>l1, L1 write: 6 hops = 60 ns
    end, tr, _ = _run(tmp_path, 1, 3, Move(DataClass.SPIKES, 48, False, 0, 9000, level=0))
    assert end == 60 * NS
    assert _hops(tr)[0] == ("l2", "read", "l2", "noc", 48) and tr.address.iloc[0] == 9000
    assert [c for c, *_ in _hops(tr)] == ["l2", "noc", "glb", "glb", "noc", "l1"]


def test_a_store_to_dram_passes_both_levels_outward(tmp_path):
    # L1 read, NoC l1>glb, GLB staging, NoC glb>l2, L2 staging, NoC l2>dram, DRAM write: 9 hops = 90 ns
    end, tr, _ = _run(tmp_path, 3, 0, Move(DataClass.OUT_SPIKES, 32, True, 7000, 0))
    assert end == 90 * NS
    assert [(c, s, d) for c, _, s, d, _ in _hops(tr)] == [
        ("l1", "l1", "noc"), ("noc", "l1", "glb"), ("glb", "noc", "glb"), ("glb", "glb", "noc"),
        ("noc", "glb", "l2"), ("l2", "noc", "l2"), ("l2", "l2", "noc"), ("noc", "l2", "dram"),
        ("dram", "noc", "dram"),
    ]


def test_a_prologue_fill_of_the_glb_stages_through_l2(tmp_path):
    # DRAM read, NoC dram>l2, L2 staging write + read, NoC l2>glb, GLB write at the tensor's address: 60 ns
    end, tr, ctrl = _run(tmp_path, 0, 2, Move(DataClass.WEIGHTS, 256, True, 0, 4096, level=-1))
    assert ctrl.home(Move(DataClass.WEIGHTS, 256, True, 0, 4096, level=-1)) == 2
    assert end == 60 * NS
    assert _hops(tr)[-1] == ("glb", "write", "noc", "glb", 256) and tr.address.iloc[-1] == 4096


def test_without_sram_levels_dram_feeds_l1_directly(tmp_path):
    end, tr, _ = _run(tmp_path, 0, 1, Move(DataClass.WEIGHTS, 100, True, 0, 0), levels=())
    assert end == 30 * NS
    assert [(c, s, d) for c, _, s, d, _ in _hops(tr)] == [("dram", "dram", "noc"), ("noc", "dram", "l1"),
                                                          ("l1", "noc", "l1")]


def test_routes_are_built_once_per_pair_and_refuse_nonsense(tmp_path):
    import pytest

    _, _, ctrl, _ = _ctrl(tmp_path)
    assert ctrl.route(0, 3) is ctrl.route(0, 3)
    with pytest.raises(ValueError, match="no route"):
        ctrl.route(2, 2)
    with pytest.raises(ValueError, match="no route"):
        ctrl.route(0, 4)
