"""summary_frame by hand, the cases tests/test_report_by_hand.py leaves open (session 14, mutation
run s14rep): a run that took no time (every per-time column 0.0, not a division by zero), a DRAM
model that has a peak bandwidth (the column is that number), and the column order: the fixed
columns, then ``energy_<kind>_pj`` in the kinds' alphabetical order whatever the energy rows' order.
"""

from __future__ import annotations

from types import SimpleNamespace as NS

import pandas as pd

from tlmsim.engine.recorder import Recorder
from tlmsim.report import summary_frame

FIXED = ["platform", "workload", "dataflow", "spikes", "seed", "timesteps", "clock_mhz", "latency_cycles",
         "latency_ns", "energy_pj", "edp_pj_ns", "compute_cycles", "pe_utilization", "dram_read_bytes",
         "dram_write_bytes", "dram_bytes", "dram_bandwidth_gb_per_s", "dram_peak_gb_per_s", "transactions"]


def _run(end_ps, *, peak=None, acc=(0,), cycles=(0,)):
    pes = [NS(stats=NS(c={"compute_cycles": c, "acc_ops": a})) for c, a in zip(cycles, acc)]
    dram = NS(stats=NS(c={"read_bytes": 640, "write_bytes": 128}))
    if peak is not None:
        dram.peak_bandwidth_gb_per_s = peak
    rec = Recorder()
    rec.issued = 5
    return NS(clock_period_ps=1000, end_ps=end_ps, components={"dram": dram}, controller=NS(pes=pes),
              workload=NS(name="w", spike_source="trace", timesteps=2), seed=0, recorder=rec,
              platform=NS(name="p", dataflow=NS(name="dense-ws"), clock_mhz=1000.0, pe_array=NS(rows=2, cols=2)))


def _energy(kinds, pj):
    return pd.DataFrame({"component": kinds, "kind": kinds, "action": ["a"] * len(kinds), "energy_pj": pj})


def test_a_run_that_took_no_time_has_zero_rates_not_a_division_by_zero():
    s = summary_frame(_run(0, peak=12.8), _energy(["sram"], [7.0])).iloc[0].to_dict()
    assert s["latency_cycles"] == 0.0 and s["latency_ns"] == 0.0
    assert s["pe_utilization"] == 0.0
    assert s["dram_bandwidth_gb_per_s"] == 0.0
    assert s["edp_pj_ns"] == 0.0 and s["energy_pj"] == 7.0
    assert s["dram_bytes"] == 768


def test_the_peak_is_the_dram_models_and_the_energy_kinds_come_sorted():
    # 8000 ps at 1000 ps a cycle: 8 cycles, 8 ns; 768 bytes / 8 ns = 96 GB/s;
    # 16 + 8 accumulates / (2 arrays x 4 PEs x 8 cycles) = 0.375; energy 4 + 2 + 1 + 3 = 10 pJ, EDP 80
    energy = _energy(["sram", "noc", "dram", "noc"], [4.0, 2.0, 1.0, 3.0])
    df = summary_frame(_run(8000, peak=25.6, acc=(16, 8), cycles=(5, 6)), energy)
    assert list(df.columns) == FIXED + ["energy_dram_pj", "energy_noc_pj", "energy_sram_pj"]
    s = df.iloc[0].to_dict()
    assert s["dram_peak_gb_per_s"] == 25.6
    assert (s["latency_cycles"], s["latency_ns"]) == (8.0, 8.0)
    assert s["dram_bandwidth_gb_per_s"] == 96.0
    assert s["pe_utilization"] == 0.375
    assert s["compute_cycles"] == 11
    assert (s["energy_pj"], s["edp_pj_ns"]) == (10.0, 80.0)
    assert (s["energy_dram_pj"], s["energy_noc_pj"], s["energy_sram_pj"]) == (1.0, 5.0, 4.0)
    assert s["transactions"] == 5 and s["spikes"] == "trace" and s["dataflow"] == "dense-ws"
