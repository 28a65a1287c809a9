"""``tlmsim compare``: several platforms on one workload, side by side.

Writes ``compare.csv`` (one row per platform: the run's summary plus energy per
component) and ``compare.png`` (latency bars; energy stacked by component), and per
platform ``<platform>_roofline.png`` and ``<platform>_latency_breakdown.png``
(:mod:`tlmsim.plots`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tlmsim.engine.simulation import simulate
from tlmsim.platform import load_platform
from tlmsim.report import build_report, write_tables
from tlmsim.workload import load_workload


def compare_platforms(
    platforms: list[str], workload: str | None, *, out_dir: str | Path, seed: int = 0, overrides: list[str] = ()
) -> tuple[pd.DataFrame, Path]:
    """Run every platform on ``workload``; return the table and the PNG path."""
    loaded = [load_platform(p, overrides) for p in platforms]  # validate all before running any
    wl = load_workload(workload, seed=seed)
    from tlmsim.plots import write_plots

    rows = []
    out = Path(out_dir)
    for arg, plat in zip(platforms, loaded):
        report = build_report(simulate(plat, wl, seed=seed))
        write_plots(report.summary, report.layers, out, prefix=f"{plat.name}_")
        row = report.summary.iloc[0].to_dict()
        row["platform_file"] = str(arg)
        for comp, e in report.components.set_index("component")["energy_pj"].items():
            row[f"energy_{comp}_pj"] = float(e)
        rows.append(row)
    table = pd.DataFrame(rows)
    write_tables({"compare": table}, out, parquet=False)
    png = out / "compare.png"
    plot_compare(table, png)
    return table, png


def plot_compare(table: pd.DataFrame, path: Path) -> None:
    """Two panels: latency (us) per platform; energy (uJ) stacked by component."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{p}" for p in table["platform"]]
    comps = [c for c in table.columns if c.startswith("energy_") and c.endswith("_pj")
             and c[len("energy_"):-len("_pj")] in ("dram", "noc", "glb", "l1", "pe_array", "controller")]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.bar(labels, table["latency_ns"] / 1000.0, color="tab:blue")
    ax1.set_ylabel("latency (us)")
    ax1.set_title(f"latency, {table['workload'].iloc[0]}")
    bottom = [0.0] * len(table)
    for col in comps:
        vals = (table[col] / 1e6).tolist()
        if not any(vals):
            continue
        ax2.bar(labels, vals, bottom=bottom, label=col[len("energy_"):-len("_pj")])
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax2.set_ylabel("energy (uJ)")
    ax2.set_title("energy by component")
    ax2.legend(fontsize=8)
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", rotation=20)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".partial.png")
    fig.savefig(tmp, dpi=100, metadata={"Software": None})
    plt.close(fig)
    tmp.replace(path)
