"""tools/bench/matrix.py: one cell end to end, its CSV row, the CPU limit and --summarize."""

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MATRIX = ROOT / "tools" / "bench" / "matrix.py"


def run(*args: str) -> str:
    cp = subprocess.run([sys.executable, str(MATRIX), *args], capture_output=True, text=True, check=True)
    return cp.stdout


def test_one_cell_is_timed_and_written(tmp_path):
    out = tmp_path / "m.csv"
    text = run("--workloads", "digits-conv", "--platforms", "ddr4-baseline", "--dataflows", "spikex",
               "--csv", str(out))
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1
    r = rows[0]
    assert (r["workload"], r["platform"], r["dataflow"], r["status"]) == ("digits-conv", "ddr4-baseline", "spikex", "ok")
    assert int(r["transactions"]) > 0 and int(r["latency_cycles"]) > 0
    assert 0 < float(r["run_cpu_s"]) <= float(r["process_cpu_s"])
    assert "| digits-conv" in text and "slowest ten" in text
    # the same CSV summarised again
    assert "| digits-conv" in run("--summarize", str(out))


def test_a_cell_over_its_cpu_limit_is_a_timeout(tmp_path):
    # the slowest shipped cell (14-19 CPU s on 2026-12 machines; VGG16 / dense-is, the cell used before session 32,
    # came to take about 1 s whole and passed a 1 s limit now and then)
    out = tmp_path / "m.csv"
    run("--workloads", "resnet19-cifar10", "--platforms", "edge-lpddr4", "--dataflows", "event",
        "--timeout", "1", "--csv", str(out))
    (r,) = csv.DictReader(out.open())
    assert r["status"] == "timeout" and r["process_cpu_s"] == ">1"


def test_summarize_latest_counts_a_cell_once_and_the_aim(tmp_path):
    head = "workload,platform,dataflow,status,process_cpu_s,run_cpu_s,process_s,run_s,transactions,latency_cycles,detail\n"
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_text(head + "w1,p,d1,timeout,>60,,70.00,,,,\n"
                          "w1,p,d2,ok,15.00,14.00,16.00,15.00,100,1000,\n"
                          "w2,p,d1,ok,15.01,14.00,16.00,15.00,100,1000,\n")
    new.write_text(head + "w1,p,d1,ok,80.50,79.00,90.00,89.00,300,3000,\n"
                          "w3,p,d1,timeout,>400,,500.00,,,,\n"
                          "w3,p,d2,error,,,1.00,,,,refused\n")
    text = run("--summarize", str(old), str(new))  # without --latest every row counts
    assert "6 cells: ok 3, timeout 2, error 1, crash 0" in text
    assert "ok cells at most 15 CPU s (whole process): 1 of 3" in text  # 15.00 is in, 15.01 out
    text = run("--summarize", str(old), str(new), "--latest", "--aim", "20")
    assert "5 cells: ok 3, timeout 1, error 1, crash 0" in text  # w1 d1: the new ok row, not the old timeout
    assert "ok cells at most 20 CPU s (whole process): 2 of 3" in text
    table = [line for line in text.splitlines() if line[:4] in ("| w1", "| w2", "| w3")]
    # timeouts first (the higher limit first), then by CPU s; the old w1 d1 timeout is gone
    assert [line.split("|")[1].strip() + " " + line.split("|")[3].strip() for line in table] == [
        "w3 d1", "w1 d1", "w2 d1", "w1 d2", "w3 d2"]
    assert "80.50" in table[1] and ">400 (timeout)" in table[0]


def test_cells_from_measures_again_the_cells_in_the_band_cheapest_first(tmp_path):
    head = "workload,platform,dataflow,status,process_cpu_s,run_cpu_s,process_s,run_s,transactions,latency_cycles,detail\n"
    old, new, out = tmp_path / "old.csv", tmp_path / "new.csv", tmp_path / "m.csv"
    old.write_text(head + "digits-conv,ddr4-baseline,dense-ws,ok,2.50,2.00,3.00,2.50,100,1000,\n"
                          "digits-conv,ddr4-baseline,ptb,timeout,>2,,9.00,,,,\n")
    new.write_text(head + "digits-conv,ddr4-baseline,dense-ws,ok,10.00,9.00,11.00,10.00,100,1000,\n"  # latest: out
                          "digits-conv,ddr4-baseline,spikex,ok,2.50,2.00,3.00,2.50,100,1000,\n"     # in
                          "digits-conv,ddr4-baseline,dense-os,ok,1.00,0.50,1.50,1.00,100,1000,\n"   # at --over: out
                          "digits-conv,ddr4-baseline,dense-is,error,,,1.00,,,,refused\n"            # no figure: out
                          "digits-conv,no-glb,spikex,ok,2.20,2.00,3.00,2.50,100,1000,\n")           # --platforms: out
    run("--cells-from", str(old), str(new), "--over", "1", "--under", "3", "--platforms", "ddr4-baseline",
        "--csv", str(out))
    rows = list(csv.DictReader(out.open()))
    # the old ptb timeout (">2" counts as 2 CPU s) comes before spikex (2.50); both measured now
    assert [(r["workload"], r["platform"], r["dataflow"], r["status"]) for r in rows] == [
        ("digits-conv", "ddr4-baseline", "ptb", "ok"), ("digits-conv", "ddr4-baseline", "spikex", "ok")]


def test_a_cell_runs_with_the_collector_as_tlmsim_run_has_it(monkeypatch, capsys):
    """The child (``one``): the heap loaded before the run frozen and the collector on during
    it, as tlmsim/cli.py's cmd_run; the collector off while loading."""
    import gc
    import importlib.util
    import json

    from tlmsim import workload as workload_mod
    from tlmsim.errors import TlmsimError
    from tlmsim.soc import run as run_mod

    spec = importlib.util.spec_from_file_location("bench_matrix", MATRIX)
    matrix = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(matrix)
    seen = {}
    load = workload_mod.load_workload

    def loading(*a, **k):
        seen["loading"] = gc.isenabled()
        return load(*a, **k)

    def simulate(*a, **k):
        seen["run"] = (gc.isenabled(), gc.get_freeze_count() > 0)
        raise TlmsimError("stop here")

    monkeypatch.setattr(workload_mod, "load_workload", loading)
    monkeypatch.setattr(run_mod, "simulate", simulate)
    was = gc.isenabled()
    gc.unfreeze()  # nothing frozen before: the freeze seen is the child's
    try:
        matrix.one("ddr4-baseline", "digits-conv", "spikex")
    finally:
        gc.unfreeze()
        if was:
            gc.enable()
    assert seen == {"loading": False, "run": (True, True)}
    assert json.loads(capsys.readouterr().out) == {"status": "error", "detail": "stop here"}
