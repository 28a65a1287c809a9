"""Golden end-to-end numbers: every probe run's report frames (summary, layers,
components, energy, stalls, stats) equal the stored ones exactly (tests/golden/e2e/, made by ``python tools/golden.py``).

A failure means a number users read has moved. If the change is intended, rerun
``python tools/golden.py``, review ``git diff tests/golden/e2e`` and say in the commit
message why the numbers moved (``python tools/golden.py --check`` lists them).
"""

import importlib.util
import math
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from tlmsim.platform.dataflow import DATAFLOWS
from tlmsim.resources import shipped

_spec = importlib.util.spec_from_file_location(
    "tlmsim_tools_golden", Path(__file__).resolve().parents[2] / "tools" / "golden.py"
)
golden = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = golden  # dataclasses look their module up there
_spec.loader.exec_module(golden)

PROBES = golden.probes()
STORED = golden.read_golden()
#: TLMSIM_GOLDEN_QUICK=1 (set by tools/mutation/run.py) runs only golden.QUICK, a third of the probes
RUN = [p for p in PROBES if p.id in golden.QUICK] if os.environ.get("TLMSIM_GOLDEN_QUICK") else PROBES


def test_probe_set_covers_every_shipped_platform_with_every_dataflow():
    default_runs = {(p.platform, p.dataflow) for p in PROBES if p.workload == "digits-snn" and len(p.overrides) == 1}
    assert default_runs == {(p, d) for p in shipped("platforms") for d in DATAFLOWS}
    awkward = {p.workload for p in PROBES if p.workload.endswith(".yaml")}
    assert awkward == {f.name for f in golden.WORKLOAD_DIR.glob("*.yaml")}
    for name in awkward:  # each awkward workload runs under every dataflow
        assert {p.dataflow for p in PROBES if p.workload == name} == set(DATAFLOWS)


def test_stored_probes_are_exactly_the_probe_set():
    assert list(STORED) == [p.id for p in PROBES]
    assert len({p.id for p in PROBES}) == len(PROBES)


def test_quick_subset_names_existing_probes():
    assert set(golden.QUICK) <= {p.id for p in PROBES} and len(set(golden.QUICK)) == len(golden.QUICK)


@pytest.mark.parametrize("probe", RUN, ids=lambda p: p.id)
def test_probe_frames_equal_the_golden_frames(probe):
    fresh = golden.run_probe(probe)
    for table in golden.TABLES:
        old, new = STORED[probe.id][table], fresh[table]
        try:
            pd.testing.assert_frame_equal(new, old, check_exact=True)
        except AssertionError as exc:
            diff = "\n".join(golden.diff_frames(old, new, table)[:40])
            pytest.fail(f"{probe.id} {table} differs from tests/golden/e2e (python tools/golden.py --check):\n"
                        f"{diff}\n{exc}")


def test_golden_files_round_trip_every_value_bit_for_bit(tmp_path):
    """What the tool writes reads back with the same dtypes and the same bits (floats
    that are not short decimals, NaN in a float column, an absent stall column)."""
    a = {
        "summary": pd.DataFrame({"x": [1 / 3], "n": [2**40 + 1], "s": ["a, \"b\""]}),
        "layers": pd.DataFrame({"name": ["l0", "l1"], "f": [0.1 + 0.2, float("nan")], "b": [True, False],
                                "tiling": ["", "n>m"]}),
        "components": pd.DataFrame({"component": ["dram"], "stall_bank_cycles": [5e-324], "energy_io_pj": [1.5]}),
    }
    b = {
        "summary": pd.DataFrame({"x": [2.0], "n": [0], "s": [""]}),
        "layers": pd.DataFrame({"name": ["l0"], "f": [1e300], "b": [False], "tiling": ["x"]}),
        "components": pd.DataFrame({"component": ["dram"], "stall_bus_cycles": [-0.0], "energy_io_pj": [2.5]}),
    }
    for extra in ("energy", "stalls", "stats"):  # the other tables: one plain row each
        a[extra] = b[extra] = pd.DataFrame({"component": ["noc"], "value": [0.5]})
    frames = {"a": {k: golden._normalise(v) for k, v in a.items()},
              "b": {k: golden._normalise(v) for k, v in b.items()}}
    golden.write_golden(frames, tmp_path)
    back = golden.read_golden(tmp_path)
    assert list(back) == ["a", "b"]
    for pid in frames:
        for table in golden.TABLES:
            pd.testing.assert_frame_equal(back[pid][table], frames[pid][table], check_exact=True)
    assert math.isnan(back["a"]["layers"]["f"].iloc[1])
    assert "stall_bank_cycles" not in back["b"]["components"]
    assert list(back["b"]["components"].columns) == ["component", "stall_bus_cycles", "energy_io_pj"]


def test_probes_whose_levels_come_in_opposite_orders_read_back_in_their_own_order(tmp_path):
    """Two hierarchies (l2 outside glb, glb outside l2) give layers columns in opposite
    orders: each probe's order is kept (orders.csv), the one that fits the merge is not listed."""
    tables = {t: pd.DataFrame({"component": ["noc"], "value": [0.5]}) for t in golden.TABLES}
    a = dict(tables, layers=pd.DataFrame({"name": ["c"], "l2_bytes": [1], "glb_bytes": [2]}))
    b = dict(tables, layers=pd.DataFrame({"name": ["c"], "glb_bytes": [3], "l2_bytes": [4], "x": [0.5]}))
    a, b = ({t: golden._normalise(f) for t, f in x.items()} for x in (a, b))
    golden.write_golden({"a": a, "b": b}, tmp_path)
    back = golden.read_golden(tmp_path)
    assert list(back["a"]["layers"].columns) == ["name", "l2_bytes", "glb_bytes"]
    assert list(back["b"]["layers"].columns) == ["name", "glb_bytes", "l2_bytes", "x"]
    pd.testing.assert_frame_equal(back["b"]["layers"], b["layers"], check_exact=True)
    orders = pd.read_csv(tmp_path / "orders.csv")
    assert orders.values.tolist() == [["layers", "b", "name glb_bytes l2_bytes x"]]


def test_diff_names_the_row_the_column_and_both_values():
    old = pd.DataFrame({"name": ["conv1", "fc1"], "latency_cycles": [100.0, 50.0], "tiles": [3, 1]})
    new = pd.DataFrame({"name": ["conv1", "fc1"], "latency_cycles": [100.0, 55.0], "tiles": [3, 1],
                        "extra": [0.0, 0.0]})
    assert golden.diff_frames(old, new, "layers") == [
        "  layers: columns added: extra",
        "  layers: fc1 latency_cycles: 50.0 -> 55.0 (+10 %)",
    ]
