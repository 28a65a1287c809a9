"""Recorder.booked: a booked hop without a Transaction object (only the per-layer
attribution listening) books, counts, attributes and numbers exactly as
new_transaction + reserve + complete."""

from __future__ import annotations

import simpy

from tlmsim.engine.attribution import LayerCounters
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.noc import Noc
from tlmsim.hw.sram import Sram
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.noc import NocConfig
from tlmsim.platform.sram import SramConfig

P = 2000  # 500 MHz

#: (component, cmd, address, bytes, source, destination, start ps, layer): contended ports, banks and links
HOPS = [
    ("glb", Cmd.WRITE, 0, 4096, "noc", "glb", 0, 0),
    ("glb", Cmd.READ, 64, 1000, "glb", "noc", 0, 0),
    ("glb", Cmd.READ, 32, 96, "glb", "noc", 1000, 1),
    ("noc", Cmd.WRITE, 0, 4096, "dram", "glb", 0, 1),
    ("noc", Cmd.WRITE, 0, 512, "glb", "l1", 2000, 1),
    ("glb", Cmd.WRITE, 100, 3000, "noc", "glb", 3000, 2),
    ("noc", Cmd.WRITE, 0, 128, "dram", "glb", 2500, -1),
]


def _run(lean: bool):
    lc = LayerCounters()
    rec = Recorder(sinks=[lc])
    if not lean:
        rec.layer_sinks = None  # as with a trace sink attached: a Transaction per hop
    env = simpy.Environment()
    comps = {
        "glb": Sram(name="glb", env=env, recorder=rec, config=SramConfig(capacity_bytes=65536, banks=4, ports=2),
                    clock_period_ps=P, energy=EnergyTable()),
        "noc": Noc(name="noc", env=env, recorder=rec, config=NocConfig(), accel_clock_mhz=500),
    }
    lc.attach(components=comps)
    ends = [rec.booked(comps[c], cmd, DataClass.WEIGHTS, a, n, s, d, t, layer, 3, 7)
            for c, cmd, a, n, s, d, t, layer in HOPS]
    stats = {name: dict(comp.stats.c) for name, comp in comps.items()}
    by_layer = {name: lc.by_layer(name, 2) for name in comps}
    return ends, stats, by_layer, rec.flows, rec.stalls.entries, rec.issued, rec.completed


def test_booked_without_transaction_objects_equals_the_full_path():
    lean, full = _run(True), _run(False)
    assert lean == full
    ends = lean[0]
    assert ends[0] > 0 and lean[5] == lean[6] == len(HOPS)
    assert lean[3][("dram", "glb", int(DataClass.WEIGHTS), 1)] == 4096
    assert lean[4]  # some hop waited (ports, banks or links): its stall is attributed alike


def test_booked_takes_an_id_per_hop_either_way():
    rec = Recorder(sinks=[LayerCounters()])
    env = simpy.Environment()
    glb = Sram(name="glb", env=env, recorder=rec, config=SramConfig(capacity_bytes=8192), clock_period_ps=P,
               energy=EnergyTable())
    rec.sinks[0].attach(components={"glb": glb})
    rec.booked(glb, Cmd.READ, DataClass.SPIKES, 0, 64, "glb", "noc", 0, 0, 0, -1)
    txn = rec.new_transaction(Cmd.READ, DataClass.SPIKES, 0, 64, "glb", "noc", now_ps=0)
    assert txn.id == 1


def test_complete_marks_the_transaction_done_and_adds_its_bytes_to_its_flow():
    rec = Recorder()
    txn = rec.new_transaction(Cmd.READ, DataClass.WEIGHTS, 0, 64, "glb", "noc", now_ps=10, layer=2)
    assert txn.done_ps == -1
    rec.complete(txn, 70)
    assert (txn.issued_ps, txn.done_ps, rec.issued, rec.completed) == (10, 70, 1, 1)
    assert rec.flows == {("glb", "noc", DataClass.WEIGHTS, 2): 64}
    # a compute transaction moves no bytes: done, counted, no flow
    comp = rec.new_transaction(Cmd.COMPUTE, DataClass.WEIGHTS, 0, 0, "controller", "pe_array", now_ps=70, layer=2)
    rec.complete(comp, 170)
    assert (comp.done_ps, rec.completed) == (170, 2)
    assert rec.flows == {("glb", "noc", DataClass.WEIGHTS, 2): 64}
