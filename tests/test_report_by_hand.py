"""Report tables (tlmsim/report.py) by hand: small hand-made runs whose every report
number is worked out in the comments (layers, components, summary, stalls, per-layer
energy and its helpers), and the multi-core columns of real runs checked against the
components they sum (private level instances, several PE arrays, layer pipelining, a
platform without SRAM levels, where layers read and write DRAM in several classes)."""

from __future__ import annotations

import math
from types import SimpleNamespace as NS

import pandas as pd
import pytest

from tlmsim.engine.attribution import LayerCounters
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import DataClass
from tlmsim.platform import load_platform
from tlmsim.report import (_exact_parts, _layer_spans, build_report, components_frame, energy_frame, layer_energy,
                           layers_frame, stalls_frame, summary_frame)
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload

W, S, M, O, P = DataClass.WEIGHTS, DataClass.SPIKES, DataClass.MEMBRANE, DataClass.OUT_SPIKES, DataClass.PSUM
CLASSES = ("weights", "spikes", "membrane", "out_spikes", "psum")


# -- per-layer energy helpers ---------------------------------------------------------------

def test_exact_parts_moves_a_part_exactly_at_the_threshold_and_never_one_below():
    # a part of exactly 1e-9 of the total may move; the zero part (below) stays 0
    total = 2.0**30
    edge = 1e-9 * total
    assert _exact_parts([edge, 0.0], total) == [total, 0.0]
    # every part below 1e-9 of the total: none may move, and they do not add up
    with pytest.raises(AssertionError, match=r"per-layer energies \[1e-12, 1e-12\] do not add up to 1.0"):
        _exact_parts([1e-12, 1e-12], 1.0)
    assert _exact_parts([], 0.0) == []  # nothing to split: nothing to move


def test_layer_spans_run_from_0_and_from_each_start_to_the_next():
    recs = [NS(index=1, start_ps=3000, end_ps=9000), NS(index=0, start_ps=500, end_ps=3000)]
    run = NS(controller=NS(layers=recs), end_ps=9500)
    # the first layer (by start) from 0, not from its start at 500: the spans add up to the run
    assert _layer_spans(run) == {0: 3000, 1: 6500}
    # a pipelined pair starts together: the first one's span is 0, the second gets the pair's
    pair = [NS(index=0, start_ps=0, end_ps=8000), NS(index=1, start_ps=0, end_ps=6000),
            NS(index=2, start_ps=8000, end_ps=9000)]
    assert _layer_spans(NS(controller=NS(layers=pair), end_ps=9000)) == {0: 0, 1: 8000, 2: 1000}


class _Comp:
    """A component whose energy is a formula of its counters (read at call time) plus a
    background that no counter changes (as leakage: ``energy_pj`` with every counter 0)."""

    def __init__(self, name, kind, counters, formula):
        self.name, self.KIND = name, kind
        self.stats = NS(c=dict(counters))
        self._formula = formula

    def energy_pj(self):
        return self._formula(self.stats.c)


def _energy_run(recs, end_ps, comps, hops=()):
    """A finished run of ``recs``; ``hops``: (component, layer, {counter: added before the hop})."""
    lc = LayerCounters()
    comps = {c.name: c for c in comps}
    lc.attach(components=comps)
    for name, layer, add in hops:
        for k, v in add.items():
            comps[name].stats.c[k] += v
        lc.hop_layer(name, layer)
    return NS(controller=NS(layers=recs), end_ps=end_ps, components=comps, layer_counters=lc)


def test_layer_energy_by_hand():
    # layer 0 owns [0, 2500) ps, layer 1 [2500, 10000): a quarter and three quarters of the run
    recs = [NS(index=0, start_ps=0, end_ps=2500), NS(index=1, start_ps=2500, end_ps=10000)]
    ctl = _Comp("ctl", "controller", {"x": 0}, lambda c: {})  # no energy: skipped, the others still split
    sram = _Comp("sram", "sram", {"reads": 0}, lambda c: {"read": 2.0 * c["reads"], "leakage": 32.0})
    dram = _Comp("dram", "dram", {"rd": 0, "ref": 0}, lambda c: {"read": 1.0 * c["rd"], "refresh": 3.0 * c["ref"]})
    # l2 counts 4 reads and is never a hop: they go with the layer that ends last (layer 1)
    l2 = _Comp("l2", "sram", {"reads": 0}, lambda c: {"read": 2.0 * c["reads"]})
    run = _energy_run(recs, 10000, [ctl, sram, dram, l2],
                      hops=[("sram", 0, {"reads": 2}), ("dram", 0, {"rd": 5}), ("sram", 1, {"reads": 3}),
                            ("dram", 0, {"ref": 1})])
    dram.stats.c["ref"] += 3  # after its last hop (finalize): with layer 0, but refreshes split by time
    l2.stats.c["reads"] += 4
    assert layer_energy(run) == {
        0: {("sram", "read"): 4.0, ("sram", "leakage"): 8.0,  # 2 reads x 2 pJ; 32 pJ x 1/4
            ("dram", "read"): 5.0, ("dram", "refresh"): 3.0,  # 5 x 1 pJ; 4 refreshes x 3 pJ x 1/4
            ("l2", "read"): 0.0},
        1: {("sram", "read"): 6.0, ("sram", "leakage"): 24.0,
            ("dram", "read"): 0.0, ("dram", "refresh"): 9.0,
            ("l2", "read"): 8.0},  # 4 reads x 2 pJ, counted after the run's last layer ended
    }


def test_layer_energy_of_a_run_without_time_goes_to_the_first_layer():
    # both layers at 0 ps (a run of flatten layers): no span to split by, the background goes to the first
    recs = [NS(index=0, start_ps=0, end_ps=0), NS(index=1, start_ps=0, end_ps=0)]
    sram = _Comp("sram", "sram", {"reads": 0}, lambda c: {"read": 2.0 * c["reads"], "leakage": 7.0})
    assert layer_energy(_energy_run(recs, 0, [sram])) == {
        0: {("sram", "read"): 0.0, ("sram", "leakage"): 7.0},
        1: {("sram", "read"): 0.0, ("sram", "leakage"): 0.0},
    }
    # the shortest run with time (1 ps): split by span, the pair's first layer (span 0) gets none
    pair = [NS(index=0, start_ps=0, end_ps=1), NS(index=1, start_ps=0, end_ps=1)]
    assert layer_energy(_energy_run(pair, 1, [sram])) == {
        0: {("sram", "read"): 0.0, ("sram", "leakage"): 0.0},
        1: {("sram", "read"): 0.0, ("sram", "leakage"): 7.0},
    }


def test_layer_energy_needs_layers_and_their_counters():
    sram = _Comp("sram", "sram", {"reads": 0}, lambda c: {"leakage": 7.0})
    assert layer_energy(_energy_run([], 100, [sram])) == {}  # no layer ran
    run = _energy_run([NS(index=0, start_ps=0, end_ps=100)], 100, [sram])
    run.layer_counters = None  # a RunResult built without per-layer counters (the dataclass default)
    assert layer_energy(run) == {}


# -- stalls, components and summary -------------------------------------------------------------

def test_a_stall_outside_any_layer_has_no_layer_name():
    rec = Recorder()
    rec.stalls.add("dram", "refresh", 3000)  # layer -1: no layer
    rec.stalls.add("noc", "link_busy", 1500, 0)
    run = NS(clock_period_ps=1000, recorder=rec, workload=NS(layers=[NS(index=0, name="conv1")]))
    df = stalls_frame(run)
    assert df.to_dict("records") == [
        {"component": "dram", "reason": "refresh", "layer": -1, "layer_name": "", "count": 1, "stall_cycles": 3.0},
        {"component": "noc", "reason": "link_busy", "layer": 0, "layer_name": "conv1", "count": 1,
         "stall_cycles": 1.5},
    ]


class _HwComp(_Comp):
    def __init__(self, name, kind, counters, energy, *, units=1, area=0.0, parts=()):
        super().__init__(name, kind, counters, lambda c: dict(energy))
        self.busy_units, self._area, self._parts = units, area, list(parts)

    def area_mm2(self):
        return self._area

    def parts(self):
        return self._parts


def _counters(reads=0, writes=0, read_bytes=0, write_bytes=0, busy_ps=0):
    return {"reads": reads, "writes": writes, "read_bytes": read_bytes, "write_bytes": write_bytes,
            "busy_ps": busy_ps}


def test_components_frame_by_hand_with_link_rows_after_the_components():
    rec = Recorder()
    rec.stalls.add("noc", "link_busy", 2000, 0)
    rec.stalls.add("noc", "link_busy", 1000, 1)
    rec.stalls.add("glb", "port_busy", 500, 0)
    # a link lists only what it has (Component.parts: "any of" the keys): the second link no busy
    # time and no stalls
    links = [{"component": "noc:a", "kind": "noc_link", "writes": 2, "write_bytes": 64, "busy_ps": 4000,
              "stall_ps": {"link_busy": 3000}},
             {"component": "noc:b", "kind": "noc_link", "writes": 1, "write_bytes": 32}]
    comps = [
        _HwComp("glb", "sram", _counters(reads=4, writes=1, read_bytes=256, write_bytes=64, busy_ps=3000),
                {"read": 6.0, "leakage": 2.0}, units=2, area=0.25),
        _HwComp("noc", "noc", _counters(writes=3, write_bytes=96, busy_ps=6000), {"router": 4.0}, parts=links),
    ]
    run = NS(clock_period_ps=1000, end_ps=10000, components={c.name: c for c in comps}, recorder=rec,
             workload=NS(layers=[]))
    df = components_frame(run, energy_frame(run), stalls_frame(run))
    assert df.index.tolist() == [0, 1, 2, 3]  # one index over components and links
    assert df.to_dict("records") == [
        {"component": "glb", "kind": "sram", "reads": 4, "writes": 1, "read_bytes": 256, "write_bytes": 64,
         "busy_cycles": 3.0, "busy_units": 2, "utilization": 0.15,  # 3000 ps / (2 units x 10000 ps)
         "stall_cycles": 0.5, "energy_pj": 8.0, "area_mm2": 0.25, "stall_link_busy_cycles": 0.0,
         "stall_port_busy_cycles": 0.5, "energy_leakage_pj": 2.0, "energy_read_pj": 6.0, "energy_router_pj": 0.0},
        {"component": "noc", "kind": "noc", "reads": 0, "writes": 3, "read_bytes": 0, "write_bytes": 96,
         "busy_cycles": 6.0, "busy_units": 1, "utilization": 0.6, "stall_cycles": 3.0, "energy_pj": 4.0,
         "area_mm2": 0.0, "stall_link_busy_cycles": 3.0, "stall_port_busy_cycles": 0.0, "energy_leakage_pj": 0.0,
         "energy_read_pj": 0.0, "energy_router_pj": 4.0},
        {"component": "noc:a", "kind": "noc_link", "reads": 0, "writes": 2, "read_bytes": 0, "write_bytes": 64,
         "busy_cycles": 4.0, "busy_units": 1, "utilization": 0.4, "stall_cycles": 3.0, "energy_pj": 0.0,
         "area_mm2": 0.0, "stall_link_busy_cycles": 3.0, "stall_port_busy_cycles": 0.0, "energy_leakage_pj": 0.0,
         "energy_read_pj": 0.0, "energy_router_pj": 0.0},
        {"component": "noc:b", "kind": "noc_link", "reads": 0, "writes": 1, "read_bytes": 0, "write_bytes": 32,
         "busy_cycles": 0.0, "busy_units": 1, "utilization": 0.0, "stall_cycles": 0.0, "energy_pj": 0.0,
         "area_mm2": 0.0, "stall_link_busy_cycles": 0.0, "stall_port_busy_cycles": 0.0, "energy_leakage_pj": 0.0,
         "energy_read_pj": 0.0, "energy_router_pj": 0.0},
    ]
    # the links' columns add up to the noc's row (leave them out when summing a column)
    links_df = df[df["kind"] == "noc_link"]
    assert links_df["write_bytes"].sum() == df.loc[1, "write_bytes"]
    assert links_df["stall_link_busy_cycles"].sum() == df.loc[1, "stall_link_busy_cycles"]


def test_a_stall_reason_only_a_link_has_gets_its_column_zero_for_the_components_nan_for_other_links():
    # session 16 (noPandas): noc:a stalls for "credit", which no component row has: the column is added
    # after the others, 0.0 in the components' rows, 2.0 for noc:a (2000 ps / 1000 ps), NaN for noc:b
    rec = Recorder()
    links = [{"component": "noc:a", "kind": "noc_link", "writes": 1, "write_bytes": 32, "busy_ps": 1000,
              "stall_ps": {"credit": 2000}},
             {"component": "noc:b", "kind": "noc_link", "reads": 2, "read_bytes": 64}]
    comps = [_HwComp("noc", "noc", _counters(writes=1, write_bytes=32, busy_ps=1000), {"router": 4.0}, parts=links)]
    run = NS(clock_period_ps=1000, end_ps=10000, components={c.name: c for c in comps}, recorder=rec,
             workload=NS(layers=[]))
    df = components_frame(run, energy_frame(run), stalls_frame(run))
    assert list(df.columns)[-2:] == ["energy_router_pj", "stall_credit_cycles"]
    assert df["stall_credit_cycles"].tolist()[:2] == [0.0, 2.0] and math.isnan(df["stall_credit_cycles"][2])
    assert df["stall_credit_cycles"].dtype == "float64" and df["stall_cycles"].tolist() == [0.0, 2.0, 0.0]
    assert df["reads"].tolist() == [0, 0, 2] and df["reads"].dtype == "int64"
    assert len(df) == 3


def test_an_energy_table_without_rows_keeps_a_float_share_column():
    # as pandas made it (session 16, noPandas): `df["share"] = 0.0` on a frame of no rows is a float64
    # column; the other columns of pandas.DataFrame([], columns=...) are object
    df = energy_frame(NS(components={}))
    assert df.empty and str(df["share"].dtype) == "float64" and str(df["energy_pj"].dtype) == "object"


def test_summary_frame_by_hand_with_two_cores_and_a_dram_without_a_peak_bandwidth():
    energy = pd.DataFrame({"component": ["dram", "glb", "pe_array_0", "pe_array_1"],
                           "kind": ["dram", "sram", "pe_array", "pe_array"], "action": ["read", "read", "acc", "acc"],
                           "energy_pj": [500.0, 250.0, 150.0, 100.0]})
    pes = [NS(stats=NS(c={"compute_cycles": 30, "acc_ops": 400})), NS(stats=NS(c={"compute_cycles": 10, "acc_ops": 240}))]
    # a stand-in DRAM model (no peak_bandwidth_gb_per_s): the peak is NaN, not an error
    dram = NS(stats=NS(c={"read_bytes": 3000, "write_bytes": 1000}))
    rec = Recorder()
    rec.issued = 17
    run = NS(clock_period_ps=2000, end_ps=40000, components={"dram": dram}, controller=NS(pes=pes),
             workload=NS(name="w", spike_source="synthetic", timesteps=4), seed=3, recorder=rec,
             platform=NS(name="p", dataflow=NS(name="event"), clock_mhz=500.0, pe_array=NS(rows=4, cols=4)))
    s = summary_frame(run, energy).iloc[0].to_dict()
    peak = s.pop("dram_peak_gb_per_s")
    assert math.isnan(peak)
    assert s == {
        "platform": "p", "workload": "w", "dataflow": "event", "spikes": "synthetic", "seed": 3, "timesteps": 4,
        "clock_mhz": 500.0, "latency_cycles": 20.0, "latency_ns": 40.0,  # 40000 ps at 2000 ps a cycle
        "energy_pj": 1000.0, "edp_pj_ns": 40000.0,
        "compute_cycles": 40,  # both cores
        "pe_utilization": 1.0,  # (400 + 240) accumulates / (2 cores x 16 PEs x 20 cycles)
        "dram_read_bytes": 3000, "dram_write_bytes": 1000, "dram_bytes": 4000,
        "dram_bandwidth_gb_per_s": 100.0,  # 4000 B / 40 ns
        "transactions": 17, "energy_dram_pj": 500.0, "energy_pe_array_pj": 250.0, "energy_sram_pj": 250.0,
    }


# -- layers.csv by hand -------------------------------------------------------------------------

def _layers_run(*, pipeline: bool):
    """Two cores, a shared GLB (level 0) and a private L2 per core (level 1: l2_0, l2_1), 4x4 arrays,
    1 ns a cycle; two layers: conv (10 cycles) and fc (1 cycle). The flows are the ones the recorder
    logs, each transfer hop by hop (a source's hop to the NoC, the NoC's end to end, the NoC's hop
    into the destination)."""
    flows = {
        # layer 0: 100 B of weights DRAM -> GLB
        ("dram", "noc", W, 0): 100, ("dram", "glb", W, 0): 100, ("noc", "glb", W, 0): 100,
        # 64 B of weights GLB -> both L2s, multicast: sent once, written into each
        ("glb", "noc", W, 0): 64, ("glb", "l2_0+l2_1", W, 0): 64, ("noc", "l2_0", W, 0): 64,
        ("noc", "l2_1", W, 0): 64,
        # 32 B of weights L2 -> L1 of core 0, then into the array (not a DMA)
        ("l2_0", "noc", W, 0): 32, ("l2_0", "l1_0", W, 0): 32, ("noc", "l1_0", W, 0): 32,
        ("l1_0", "pe_array_0", W, 0): 32,
        # 40 B of membranes DRAM -> L1 of core 0, 24 B stored back from core 1
        ("dram", "noc", M, 0): 40, ("dram", "l1_0", M, 0): 40, ("noc", "l1_0", M, 0): 40,
        ("l1_1", "noc", M, 0): 24, ("l1_1", "dram", M, 0): 24, ("noc", "dram", M, 0): 24,
        # 8 B of output spikes stored from core 0
        ("l1_0", "noc", O, 0): 8, ("l1_0", "dram", O, 0): 8, ("noc", "dram", O, 0): 8,
        # layer 1: 16 B of input spikes GLB -> L1 of core 1
        ("glb", "noc", S, 1): 16, ("glb", "l1_1", S, 1): 16, ("noc", "l1_1", S, 1): 16,
    }
    rec = Recorder()
    rec.flows.update({(s, d, int(dc), li): n for (s, d, dc, li), n in flows.items()})
    rec.stalls.add("pe_array_0", "waiting_for_operands", 2000, 0)
    rec.stalls.add("pe_array_1", "waiting_for_operands", 3000, 0)  # several cores: summed
    rec.stalls.add("pe_array_1", "waiting_for_output_buffer", 500, 1)
    rec.stalls.add("controller", "l1_full", 4000, 0)  # not a PE array's
    recs = [
        NS(index=0, name="conv", start_ps=0, end_ps=10000, compute_cycles=12, neuron_cycles=2, tiles=3,
           dense_ops=200, acc_ops=160, neuron_updates=8,
           resident={"weights": True, "inputs": False, "membrane": False, "outputs": True}),
        NS(index=1, name="fc", start_ps=10000, end_ps=11000, compute_cycles=2, neuron_cycles=1, tiles=1,
           dense_ops=20, acc_ops=16, neuron_updates=4,
           resident={"weights": False, "inputs": True, "membrane": False, "outputs": False}),
    ]
    plans = [NS(layer=NS(index=0), levels={"weights": 0, "outputs": 1}, tiling="n>m>k, m=3",
                spike_formats={"bitmap": 3}),
             NS(layer=NS(index=1), levels={"inputs": 0}, tiling="n>m>k, m=1", spike_formats={"aer": 1, "bitmap": 2})]
    glb, l2 = NS(name="glb"), NS(name="l2")
    ctrl = NS(layers=recs, l1s=[NS(name="l1_0"), NS(name="l1_1")], pes=[NS(name="pe_array_0"), NS(name="pe_array_1")],
              level_insts=[[glb], [NS(name="l2_0"), NS(name="l2_1")]], stages=None, pipeline_notes={})
    if pipeline:
        ctrl.stages = [[(plans[0], (0,)), (plans[1], (1,))]]
        ctrl.pipeline_notes = {0: "with 'fc' on core 0", 1: "with 'conv' on core 1"}
    platform = NS(pe_array=NS(rows=4, cols=4), buffers=NS(sram_levels=[glb, l2]))
    workload = NS(layers=[NS(index=0, name="conv", op="conv2d"), NS(index=1, name="fc", op="linear")])
    return NS(clock_period_ps=1000, platform=platform, recorder=rec, workload=workload, plans=plans,
              controller=ctrl, end_ps=11000, components={}, layer_counters=None)


def _zeros(prefix):
    return {f"{prefix}_{c}_bytes": 0 for c in CLASSES}


def test_layers_frame_by_hand():
    df = layers_frame(_layers_run(pipeline=False))
    assert "pipeline" not in df.columns  # layers one after the other: no pipeline column
    conv, fc = df.to_dict("records")
    assert conv == {
        "layer": 0, "name": "conv", "op": "conv2d", "start_cycle": 0.0, "end_cycle": 10.0, "latency_cycles": 10.0,
        "compute_cycles": 12, "neuron_cycles": 2,
        "stall_cycles": 4.0,  # 10 - 12 compute cycles / 2 cores
        "tiles": 3, "dense_ops": 200, "acc_ops": 160, "ops_skipped": 40, "neuron_updates": 8,
        "pe_utilization": 0.5,  # 160 / (2 cores x 16 PEs x 10 cycles)
        "dram_read_bytes": 140,  # weights 100 + membranes 40
        "dram_write_bytes": 32,  # membranes 24 + output spikes 8
        **_zeros("dram"), "dram_weights_bytes": 100, "dram_membrane_bytes": 64, "dram_out_spikes_bytes": 8,
        **_zeros("glb"), "glb_weights_bytes": 164,  # 100 in from DRAM, 64 out to the L2s
        **_zeros("l2"), "l2_weights_bytes": 160,  # 64 into each of l2_0 and l2_1, 32 out of l2_0
        **_zeros("l1"), "l1_weights_bytes": 32, "l1_membrane_bytes": 64, "l1_out_spikes_bytes": 8,
        "pe_stall_waiting_for_operands_cycles": 5.0,  # 2 + 3 cycles, two cores
        "pe_stall_waiting_for_output_buffer_cycles": 0.0, "pe_stall_l1_bandwidth_cycles": 0.0,
        "resident_weights": "glb", "resident_inputs": "dram", "resident_membrane": "dram", "resident_outputs": "l2",
        "tiling": "n>m>k, m=3", "spike_formats": "bitmap:3",
        "energy_pj": 0.0,  # a run without per-layer counters: no per-layer energy
    }
    assert fc == {
        "layer": 1, "name": "fc", "op": "linear", "start_cycle": 10.0, "end_cycle": 11.0, "latency_cycles": 1.0,
        "compute_cycles": 2, "neuron_cycles": 1, "stall_cycles": 0.0,  # 1 - 2 / 2
        "tiles": 1, "dense_ops": 20, "acc_ops": 16, "ops_skipped": 4, "neuron_updates": 4,
        "pe_utilization": 0.5,  # 16 / (2 x 16 x 1 cycle)
        "dram_read_bytes": 0, "dram_write_bytes": 0, **_zeros("dram"), **_zeros("glb"), "glb_spikes_bytes": 16,
        **_zeros("l2"), **_zeros("l1"), "l1_spikes_bytes": 16,
        "pe_stall_waiting_for_operands_cycles": 0.0, "pe_stall_waiting_for_output_buffer_cycles": 0.5,
        "pe_stall_l1_bandwidth_cycles": 0.0,
        "resident_weights": "dram", "resident_inputs": "glb", "resident_membrane": "dram",
        "resident_outputs": "dram", "tiling": "n>m>k, m=1", "spike_formats": "aer:1 bitmap:2", "energy_pj": 0.0,
    }


def test_layers_frame_says_whom_each_pipelined_layer_ran_beside():
    df = layers_frame(_layers_run(pipeline=True))
    assert df["pipeline"].tolist() == ["with 'fc' on core 0", "with 'conv' on core 1"]
    assert list(df.columns).index("pipeline") == list(df.columns).index("pe_utilization") + 1


def test_a_pipelined_layer_s_stall_and_utilisation_count_the_cores_it_ran_on():
    # the pair side by side, one core each (of 2): conv on core 0 from 0 to 10 cycles computing 6 of
    # them, fc on core 1 from 0 to 11 computing 2
    run = _layers_run(pipeline=True)
    conv, fc = run.controller.layers
    conv.compute_cycles = 6
    fc.start_ps = 0
    df = layers_frame(run).set_index("name")
    assert df.loc["conv", "stall_cycles"] == 4.0  # 10 - 6 / 1 core (over both cores: 10 - 6 / 2 = 7)
    assert df.loc["conv", "pe_utilization"] == 1.0  # 160 accumulates / (1 core x 16 PEs x 10 cycles)
    assert df.loc["fc", "stall_cycles"] == 9.0  # 11 - 2 / 1 (over both: 10)
    assert df.loc["fc", "pe_utilization"] == 16 / (1 * 16 * 11)  # (over both: 16 / 352)
    # a stage of one layer on every core counts them all: conv alone on both cores, 10 - 6 / 2
    run.controller.stages = [[(run.plans[0], (0, 1))], [(run.plans[1], (0, 1))]]
    df = layers_frame(run).set_index("name")
    assert df.loc["conv", "stall_cycles"] == 7.0 and df.loc["conv", "pe_utilization"] == 0.5


# -- real runs: several cores, private levels, layer pipelining, no SRAM level --------------------

@pytest.fixture(scope="module")
def mesh_l2():
    result = simulate(load_platform("mesh-4core-l2"), load_workload("digits-snn", seed=0), seed=0)
    return result, build_report(result)


def test_private_level_instances_add_up_to_their_level_columns(mesh_l2):
    result, rep = mesh_l2
    layers, comp = rep.layers, rep.components.set_index("component")
    assert [lv.name for lv in result.platform.buffers.sram_levels] == ["glb", "l2"]
    for lv, insts in (("glb", ["glb"]), ("l2", ["l2_0", "l2_1", "l2_2", "l2_3"])):
        moved = sum(layers[f"{lv}_{c}_bytes"].sum() for c in CLASSES)
        assert moved == sum(comp.loc[i, "read_bytes"] + comp.loc[i, "write_bytes"] for i in insts) > 0, lv


def test_several_cores_stall_and_utilisation_columns(mesh_l2):
    result, rep = mesh_l2
    s, layers, comp = rep.summary.iloc[0], rep.layers, rep.components.set_index("component")
    pes = [f"pe_array_{i}" for i in range(4)]
    pe = result.platform.pe_array
    assert layers["compute_cycles"].sum() == s["compute_cycles"] == sum(
        result.components[p].stats.c["compute_cycles"] for p in pes)
    acc = sum(result.components[p].stats.c["acc_ops"] for p in pes)
    assert layers["acc_ops"].sum() == acc
    assert s["pe_utilization"] == acc / (4 * pe.rows * pe.cols * s["latency_cycles"])
    lat = layers["latency_cycles"]
    ran = lat > 0  # flatten takes no time: utilisation 0
    assert (layers.loc[ran, "pe_utilization"] == layers.loc[ran, "acc_ops"] / (4 * pe.rows * pe.cols * lat[ran])).all()
    assert (layers.loc[~ran, "pe_utilization"] == 0).all() and ran.sum() == 4
    # the time the cores were not computing, on average over the 4 cores
    assert (layers["stall_cycles"] == (lat - layers["compute_cycles"] / 4).clip(lower=0)).all()
    assert (layers["stall_cycles"] > 0).sum() == 4
    # PE stalls of a layer: summed over the cores; over the layers, the four arrays' stall cycles
    stalled = [c for c in layers if c.startswith("pe_stall_")]
    assert layers[stalled].to_numpy().sum() == pytest.approx(sum(comp.loc[p, "stall_cycles"] for p in pes),
                                                             rel=1e-12)
    # pool1 (layer 1): all four arrays waited for operands; its column is their sum
    per_core = [result.recorder.stalls.entries[(p, "waiting_for_operands", 1)][1] for p in pes]
    assert all(per_core)
    assert layers.loc[layers["layer"] == 1, "pe_stall_waiting_for_operands_cycles"].item() == pytest.approx(
        sum(per_core) / result.clock_period_ps, rel=1e-12)


def test_pipelined_layers_say_whom_they_ran_beside():
    # docs/hierarchy.md, "Layer pipelining": pairs only where the estimate gains (pool1 takes three cores beside
    # conv1, 3,904 vs 3,931 cycles; fc1 and fc2 two cores each, 6,327 vs 8,592); flatten (no tile) runs alone
    result = simulate(load_platform("mesh-4core", ["pe_array.multicore=pipeline"]),
                      load_workload("digits-snn", seed=0), seed=0)
    layers = build_report(result).layers
    assert layers["pipeline"].tolist() == [
        "with 'pool1' on core 0 (est. 3,904 cycles together vs 3,931 one after the other)",
        "with 'conv1' on cores 1-3 (est. 3,904 cycles together vs 3,931 one after the other)",
        "alone on cores 0-3: 'flatten' has no tile",
        "with 'fc2' on cores 0-1 (est. 6,327 cycles together vs 8,592 one after the other)",
        "with 'fc1' on cores 2-3 (est. 6,327 cycles together vs 8,592 one after the other)"]
    assert layers["pipeline"].tolist() == [result.controller.pipeline_notes[i] for i in layers["layer"]]


def test_dram_columns_when_layers_read_and_write_several_classes():
    # no SRAM level: membranes go out to DRAM and come back in the same layer, beside the output spikes
    result = simulate(load_platform("no-glb"), load_workload("digits-snn", seed=0), seed=0)
    rep = build_report(result)
    s, layers = rep.summary.iloc[0], rep.layers
    written = {}
    for (src, dst, dc, li), n in result.recorder.flows.items():
        if src == "noc" and dst == "dram":
            written.setdefault(li, {})[DataClass(dc)] = n
    assert {li: sorted(w) for li, w in written.items() if len(w) > 1} == {li: [M, O] for li in (0, 3, 4)}
    assert layers["dram_write_bytes"].tolist() == [sum(written.get(li, {}).values()) for li in layers["layer"]]
    assert layers["dram_write_bytes"].sum() == s["dram_write_bytes"]
    assert layers["dram_read_bytes"].sum() == s["dram_read_bytes"]
    by_class = layers[[f"dram_{c}_bytes" for c in CLASSES]].sum(axis=1)
    assert (by_class == layers["dram_read_bytes"] + layers["dram_write_bytes"]).all()
    mem = {li: sum(n for (a, b, dc, l), n in result.recorder.flows.items() if l == li and dc == int(M)
                   and ((a, b) == ("dram", "noc") or (a, b) == ("noc", "dram"))) for li in layers["layer"]}
    assert layers["dram_membrane_bytes"].tolist() == list(mem.values()) and min(mem[0], mem[3], mem[4]) > 0
