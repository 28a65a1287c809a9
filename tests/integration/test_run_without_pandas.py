"""``tlmsim run`` does not import pandas (issue 17: its import was about 14 % of a small run's
instructions), and the report tables it writes without pandas (tlmsim/table.py) are the
bytes pandas writes for the report's DataFrames, with pandas' own sums."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tlmsim.outputs import write_csv
from tlmsim.platform import load_platform
from tlmsim.report import Report, build_report, write_tables
from tlmsim.soc.run import simulate
from tlmsim.table import Table
from tlmsim.workload import load_workload

# a run as `pip install tlmsim` has it (no Parquet extra: pyarrow not importable), in a fresh interpreter
RUN = textwrap.dedent("""
    import sys
    sys.modules["pyarrow"] = None
    from tlmsim.cli import main
    code = main(sys.argv[1:])
    print("IMPORTED", sorted(m for m in sys.modules if m.split(".")[0] == "pandas"))
    sys.exit(code)
""")


def test_the_default_run_imports_no_pandas_and_writes_pandas_bytes(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", RUN, "run", "-q", "--out", str(out)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "IMPORTED []" in proc.stdout.splitlines(), proc.stdout[-500:]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.csv" for t in Report.TABLES)
    # the same run in this process (ddr4-baseline, digits-snn, seed 0), its DataFrames written by pandas
    rep = build_report(simulate(load_platform("ddr4-baseline"), load_workload("digits-snn", seed=0), seed=0))
    for name, df in rep.tables().items():
        ref = write_csv(df, tmp_path / f"{name}.pandas.csv")
        assert (out / f"{name}.csv").read_bytes() == ref.read_bytes(), name


CASES = {
    "default": ("ddr4-baseline", "digits-snn", [], 0),
    "links and pipeline": ("mesh-4core", "digits-snn", ["pe_array.multicore=pipeline"], 3),
    # the DRAM's queue_full stalls of three layers: pandas sums them as 17.098 + (376.322 + 218.622)
    # (numpy.add.reduceat) = 612.0419999999999 in stall_queue_full_cycles, against 612.042 left to right
    "sorted stalls": ("edge-lpddr4", "lenet5-mnist", ["dataflow.name=event"], 0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_report_tables_are_what_pandas_writes_and_sums(case, tmp_path):
    platform, workload, sets, seed = CASES[case]
    rep = build_report(simulate(load_platform(platform, sets), load_workload(workload, seed=seed), seed=seed))
    for name in Report.TABLES:
        ours = rep.table(name).write_csv(tmp_path / f"{name}.csv")
        ref = write_csv(rep.frame(name), tmp_path / f"{name}.pandas.csv")
        assert ours.read_bytes() == ref.read_bytes(), name
    # its sums are pandas' sums (each (component, reason) stall over the layers, each kind's energy)
    comps, stalls, energy = rep.components, rep.stalls, rep.energy
    n = int((comps["kind"] != "noc_link").sum())  # the components (their parts follow)
    wide = stalls.pivot_table(index="component", columns="reason", values="stall_cycles", aggfunc="sum")
    assert (stalls.groupby(["component", "reason"]).size() > 1).any()  # some sums of several layers
    for reason in wide.columns:
        ref = wide[reason].reindex(comps["component"][:n]).fillna(0.0).tolist()
        assert comps[f"stall_{reason}_cycles"][:n].tolist() == ref, reason
    wide = energy.pivot_table(index="component", columns="action", values="energy_pj", aggfunc="sum")
    for action in wide.columns:
        ref = wide[action].reindex(comps["component"][:n]).fillna(0.0).tolist()
        assert comps[f"energy_{action}_pj"][:n].tolist() == ref, action
    by_name = comps[:n].set_index("component")
    for comp in by_name.index:
        assert by_name.loc[comp, "stall_cycles"] == stalls[stalls["component"] == comp]["stall_cycles"].sum()
        assert by_name.loc[comp, "energy_pj"] == energy[energy["component"] == comp]["energy_pj"].sum()
    for kind, e in energy.groupby("kind")["energy_pj"].sum().items():
        assert rep.summary[f"energy_{kind}_pj"].iloc[0] == e
    assert rep.summary["energy_pj"].iloc[0] == energy["energy_pj"].sum()
    if case == "sorted stalls":
        assert rep.table("components")["stall_queue_full_cycles"][0] == 612.0419999999999
    if case == "links and pipeline":
        assert n < len(comps) and "pipeline" in rep.table("layers")


def test_write_tables_writes_a_table_without_pandas_and_its_parquet_from_its_dataframe(tmp_path):
    t = Table({"a": [1, 2], "b": [0.5, float("nan")], "s": ["x,y", ""]})
    written = write_tables({"t": t}, tmp_path / "csv", parquet=False)
    assert written == [tmp_path / "csv" / "t.csv"]
    assert written[0].read_text() == 'a,b,s\n1,0.5,"x,y"\n2,,\n'
    pq = pytest.importorskip("pyarrow.parquet")
    written = write_tables({"t": t}, tmp_path / "pq", parquet=True)
    assert written == [tmp_path / "pq" / "t.csv", tmp_path / "pq" / "t.parquet"]
    back = pq.read_table(written[1]).to_pandas()
    assert list(back.columns) == ["a", "b", "s"] and back["a"].tolist() == [1, 2] and back["s"].tolist() == ["x,y", ""]


def test_the_report_gives_dataframes_and_tables():
    rep = build_report(simulate(load_platform("ddr4-baseline"), load_workload("digits-snn", seed=0)))
    energy = rep.table("energy")
    assert rep.columnar()["energy"] is energy and list(rep.columnar()) == list(Report.TABLES)
    df = rep.energy  # built on first access, then the same object
    assert df is rep.energy is rep.tables()["energy"] and list(df.columns) == list(energy.columns)
    assert df["energy_pj"].tolist() == energy["energy_pj"] and len(df) == len(energy) > 3
    # a Report of DataFrames (programs, tests) gives them back, and Tables of them
    again = Report(**{name: rep.frame(name) for name in Report.TABLES})
    assert again.summary is rep.summary and again.table("summary")["energy_pj"] == rep.table("summary")["energy_pj"]
