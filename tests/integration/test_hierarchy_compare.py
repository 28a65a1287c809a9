"""`tlmsim compare` over different hierarchies: per-level energy and stalls side by side."""

import math

import pandas as pd
import pandas.testing as pdt

from tlmsim.cli import main
from tlmsim.compare import level_table


def test_level_table_puts_levels_in_hierarchy_order_and_blanks_missing_ones():
    table = pd.DataFrame([
        {"platform": "a", "hierarchy": "dram>l1", "energy_dram_pj": 2e6, "energy_l1_pj": 1e6,
         "stall_dram_cycles": 5.0, "stall_l1_cycles": 1.0},
        {"platform": "b", "hierarchy": "dram>l2>glb>l1", "energy_dram_pj": 1e6, "energy_l2_pj": 3e6,
         "energy_glb_pj": 4e6, "energy_l1_pj": 5e5, "stall_dram_cycles": 0.0, "stall_l2_cycles": 7.0,
         "stall_glb_cycles": 8.0, "stall_l1_cycles": 2.0},
    ])
    nan = math.nan
    expected = pd.DataFrame({
        "level": ["dram", "l2", "glb", "l1"],
        "a uJ": [2.0, nan, nan, 1.0], "a stall_cycles": [5.0, nan, nan, 1.0],
        "b uJ": [1.0, 3.0, 4.0, 0.5], "b stall_cycles": [0.0, 7.0, 8.0, 2.0],
    })
    pdt.assert_frame_equal(level_table(table), expected)


def test_compare_the_three_hierarchies(tmp_path, capsys, no_plots):
    out = tmp_path / "cmp"
    argv = ["compare", "no-glb", "l2-glb", "ddr4-baseline", "--workload", "digits-snn",
            "--out", str(out), "--jobs", "1", "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "no-glb uJ" in printed and "l2-glb stall_cycles" in printed
    table = pd.read_csv(out / "compare.csv")
    assert table["hierarchy"].tolist() == ["dram>l1", "dram>l2>glb>l1", "dram>glb>l1"]
    assert table["energy_l2_pj"].iloc[1] > 0 and math.isnan(table["energy_l2_pj"].iloc[0])
    assert "stall_glb_cycles" in table.columns
    # without a GLB every reuse is a DRAM access: far more DRAM traffic than with one
    assert table["dram_bytes"].iloc[0] > 10 * table["dram_bytes"].iloc[2]
