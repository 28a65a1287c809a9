"""``tlmsim compare``: several platforms on one workload, side by side.

Writes ``compare.csv`` (one row per platform: the run's summary plus energy per
component) and ``compare.png`` (latency bars; energy stacked by component), and per
platform ``<platform>_roofline.png`` and ``<platform>_latency_breakdown.png``
(:mod:`tlmsim.plots`, drawn by the process that ran the platform).

Every platform and the workload are validated, and the output folder checked,
before any run starts. The runs go in parallel, one process per platform up to the
cores this process may use (:func:`cores`); the table keeps the order of the
arguments and equals that of serial runs (each run is deterministic).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pandas as pd

from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.platform.hierarchy import PER_CORE, core_base
from tlmsim.report import build_report, write_tables
from tlmsim.workload import load_workload


def cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_platform(platform: str, workload: str | None, seed: int, overrides: list[str],
                 plots_dir: Path | None = None) -> dict:
    """One row of the comparison: the run's summary, the platform argument and the
    energy and stall cycles of every component (each memory level its own column; with
    several cores each core's L1 and array, and their sums as ``l1`` and ``pe_array``). ``plots_dir``: also write the run's per-layer plots
    there, named after the platform."""
    plat = load_platform(platform, overrides)
    report = build_report(simulate(plat, load_workload(workload, seed=seed), seed=seed))
    if plots_dir is not None:
        from tlmsim.plots import write_plots

        write_plots(report.summary, report.layers, plots_dir, prefix=f"{plat.name}_")
    row = report.summary.iloc[0].to_dict()
    row["platform_file"] = str(platform)
    row["hierarchy"] = ">".join(plat.buffers.endpoints)  # the memory levels, from DRAM inward
    comps = report.components[report.components["kind"] != "noc_link"].set_index("component")  # links: parts of noc
    for comp, e in comps["energy_pj"].items():
        row[f"energy_{comp}_pj"] = float(e)
    for comp, c in comps["stall_cycles"].items():  # every memory level's stalls, side by side
        row[f"stall_{comp}_cycles"] = float(c)
    private = [lv.name for lv in plat.buffers.sram_levels if lv.sharing == "private"]
    for base in (*PER_CORE, *private):  # several cores (l1_0, l1_1, ...): also their sum under the one-core name
        mine = [c for c in comps.index if c != base and (core_base(c) == base or c.rpartition("_")[0] == base
                                                        and c.rpartition("_")[2].isdigit())]
        if mine and base not in comps.index:
            row[f"energy_{base}_pj"] = float(comps.loc[mine, "energy_pj"].sum())
            row[f"stall_{base}_cycles"] = float(comps.loc[mine, "stall_cycles"].sum())
    return row


def level_table(table: pd.DataFrame) -> pd.DataFrame:
    """Energy (uJ) and stall cycles of every memory level (DRAM, the SRAM levels, L1),
    one row per level in hierarchy order, two columns per platform; a level a platform
    lacks is empty there."""
    levels: list[str] = []
    for h in table["hierarchy"]:
        levels += [lv for lv in h.split(">") if lv not in levels]
    levels.sort(key=lambda lv: {"dram": 0, "l1": 2}.get(lv, 1))  # stable: SRAM levels keep their order
    rows = []
    for lv in levels:
        row: dict = {"level": lv}
        for _, r in table.iterrows():
            have = lv in r["hierarchy"].split(">")
            row[f"{r['platform']} uJ"] = r[f"energy_{lv}_pj"] / 1e6 if have else float("nan")
            row[f"{r['platform']} stall_cycles"] = r[f"stall_{lv}_cycles"] if have else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def _pool_context():
    """How the worker processes start: a plain fork when this process runs no other
    thread (instant, nothing re-imported); else from a fork server that imported
    tlmsim once (no threads of this process are copied)."""
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["tlmsim.compare"])
    return ctx


def compare_platforms(
    platforms: list[str], workload: str | None, *, out_dir: str | Path, seed: int = 0, overrides: list[str] = (),
    jobs: int | None = None, on_done: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, Path]:
    """Run every platform on ``workload``; return the table and the PNG path.

    ``jobs``: processes to run in (default: one per platform up to :func:`cores`;
    1 runs in this process). ``on_done(i)`` is called as platform ``i`` finishes."""
    from tlmsim.outputs import output_dir

    overrides = list(overrides)
    for p in platforms:  # validate everything before running anything
        load_platform(p, overrides)
    load_workload(workload, seed=seed)
    out = output_dir(out_dir, "--out")
    n = min(len(platforms), jobs if jobs is not None else cores())
    if n <= 1:
        rows = []
        for i, p in enumerate(platforms):
            rows.append(run_platform(p, workload, seed, overrides, out))
            if on_done is not None:
                on_done(i)
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=n, mp_context=_pool_context()) as pool:
            futures = {pool.submit(run_platform, p, workload, seed, overrides, out): i for i, p in enumerate(platforms)}
            for fut in as_completed(futures):
                fut.result()  # the first failure stops the comparison (one line, exit 2)
                if on_done is not None:
                    on_done(futures[fut])
            rows = [f.result() for f in sorted(futures, key=futures.get)]
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
    # one bar segment per component (every declared memory level); energy_sram_pj is the summary's SRAM sum
    comps = [c for c in table.columns if c.startswith("energy_") and c.endswith("_pj")
             and c[len("energy_"):-len("_pj")] not in ("", "sram")]
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
