"""Per-layer plots of a finished run, drawn from its report tables (CSV or DataFrames).

* ``roofline.png``: the SNN roofline. x = synaptic operations actually performed
  (``acc_ops``, the accumulates the array did; skipped zero-spike operations are not
  counted) per DRAM byte of the layer; y = achieved ``acc_ops`` per second. The roofs:
  the array's peak (rows x cols accumulates per cycle x clock) and the DRAM's peak
  bandwidth x intensity. Each layer is a point coloured by its dominant latency cause.
* ``latency_breakdown.png``: one stacked bar per layer: compute cycles, each PE-array
  stall reason, and "other" (the rest of the layer's latency: prologue/epilogue DMA and
  pipeline fill/drain, when the array neither computes nor waits on a tile), adding up
  to the layer's latency.
* ``energy_breakdown.png``: one stacked bar per layer: its energy by component (the
  ``energy_<component>_pj`` columns of layers.csv), adding up to the layer's ``energy_pj``.

All read only ``summary.csv`` and ``layers.csv`` (``tlmsim plot OUTDIR`` redraws them from
a finished run; a run written before layers.csv had energy columns gets no energy plot).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from tlmsim.errors import ConfigError

#: the latency causes of a layer, in stacking order (PE-array stall reasons from layers.csv)
CAUSES = ("compute", "waiting_for_operands", "l1_bandwidth", "waiting_for_output_buffer", "other")
_COLOURS = {
    "compute": "tab:green",
    "waiting_for_operands": "tab:red",
    "l1_bandwidth": "tab:orange",
    "waiting_for_output_buffer": "tab:purple",
    "other": "tab:gray",
}


def latency_by_cause(layers: pd.DataFrame) -> pd.DataFrame:
    """Cycles per layer by cause (columns :data:`CAUSES`); each row adds up to the
    layer's ``latency_cycles``. Extra ``pe_stall_<reason>_cycles`` columns (reasons a
    later model adds) are stacked too, before "other"."""
    reasons = [c[len("pe_stall_"):-len("_cycles")] for c in layers.columns
               if c.startswith("pe_stall_") and c.endswith("_cycles")]
    causes = ["compute"] + [r for r in CAUSES[1:-1] if r in reasons] + sorted(set(reasons) - set(CAUSES)) + ["other"]
    out = pd.DataFrame(index=layers.index)
    out["compute"] = layers["compute_cycles"].astype(float)
    for r in causes[1:-1]:
        out[r] = layers[f"pe_stall_{r}_cycles"].astype(float)
    out["other"] = (layers["latency_cycles"] - out.sum(axis=1)).clip(lower=0.0)
    return out[causes]


def dominant_cause(by_cause: pd.DataFrame) -> pd.Series:
    """The largest latency cause of each layer ("compute" when the array computed longest)."""
    return by_cause.idxmax(axis=1)


def peak_ops_per_cycle(layers: pd.DataFrame) -> float:
    """The array's accumulates per cycle (rows x cols), recovered from layers.csv:
    pe_utilization = acc_ops / (rows x cols x latency_cycles)."""
    ok = layers[(layers["pe_utilization"] > 0) & (layers["latency_cycles"] > 0)]
    if ok.empty:
        return float("nan")
    r = ok.iloc[0]
    return float(round(r["acc_ops"] / (r["pe_utilization"] * r["latency_cycles"])))


def roofline_points(summary: pd.DataFrame, layers: pd.DataFrame) -> pd.DataFrame:
    """Per layer: intensity (acc_ops per DRAM byte), achieved acc_ops/s, and cause."""
    s = summary.iloc[0]
    hz = float(s["clock_mhz"]) * 1e6
    dram = (layers["dram_read_bytes"] + layers["dram_write_bytes"]).astype(float)
    lat_s = layers["latency_cycles"].astype(float) / hz
    by_cause = latency_by_cause(layers)
    pts = pd.DataFrame({
        "layer": layers["layer"],
        "name": layers["name"],
        "acc_ops": layers["acc_ops"].astype(float),
        "dram_bytes": dram,
        "intensity": layers["acc_ops"] / dram.where(dram > 0),
        "ops_per_s": layers["acc_ops"] / lat_s.where(lat_s > 0),
        "cause": dominant_cause(by_cause),
    })
    return pts


def energy_components(layers: pd.DataFrame) -> list[str]:
    """The components with a per-layer energy column ``energy_<component>_pj``, in
    column order: a column ``energy_X_pj`` is a component's total when other columns
    ``energy_X_<action>_pj`` break it down."""
    cols = [c for c in layers.columns if c.startswith("energy_") and c.endswith("_pj") and c != "energy_pj"]
    names = [c[len("energy_"):-len("_pj")] for c in cols]
    totals = [n for n in names if any(m.startswith(n + "_") for m in names)]
    # an action's own breakdown (a component "x" with actions "y" and "y_z") is not a component
    return [n for n in totals if not any(n.startswith(m + "_") for m in totals)]


def energy_by_component(layers: pd.DataFrame) -> pd.DataFrame:
    """pJ per layer (rows) by component (columns :func:`energy_components`); each row
    adds up to the layer's ``energy_pj`` (the report sums the same parts)."""
    comps = energy_components(layers)
    return pd.DataFrame({c: layers[f"energy_{c}_pj"].astype(float) for c in comps}, index=layers.index)


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    tmp = path.with_name(path.name + ".partial.png")
    fig.savefig(tmp, dpi=100, metadata={"Software": None})
    plt.close(fig)
    tmp.replace(path)
    return path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_roofline(summary: pd.DataFrame, layers: pd.DataFrame, path: Path, *, title: str | None = None) -> Path:
    import numpy as np

    plt = _pyplot()
    s = summary.iloc[0]
    hz = float(s["clock_mhz"]) * 1e6
    peak_ops = peak_ops_per_cycle(layers) * hz
    bw = float(s["dram_peak_gb_per_s"]) * 1e9
    pts = roofline_points(summary, layers)
    shown = pts.dropna(subset=["intensity", "ops_per_s"])
    shown = shown[(shown["intensity"] > 0) & (shown["ops_per_s"] > 0)]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    lo = min([0.01] + shown["intensity"].tolist()) / 4
    hi = max([100.0] + shown["intensity"].tolist()) * 4
    if math.isfinite(peak_ops) and math.isfinite(bw) and bw > 0:
        x = np.geomspace(lo, hi, 200)
        ax.plot(x, np.minimum(peak_ops, bw * x), color="black", lw=1.5, label="roof")
        ax.axhline(peak_ops, color="black", ls=":", lw=0.8)
        ax.annotate(f"array peak {peak_ops / 1e9:.3g} Gop/s", (hi, peak_ops), ha="right", va="bottom", fontsize=8)
        ax.annotate(f"DRAM peak {bw / 1e9:.3g} GB/s", (lo * 1.2, bw * lo * 1.2), ha="left", va="bottom", fontsize=8,
                    rotation=0)
    for cause, grp in shown.groupby("cause", sort=True):
        ax.scatter(grp["intensity"], grp["ops_per_s"], color=_COLOURS.get(cause, "tab:blue"), label=cause, zorder=3,
                   edgecolor="black", lw=0.5)
    for _, r in shown.iterrows():
        ax.annotate(str(r["name"]), (r["intensity"], r["ops_per_s"]), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("synaptic ops performed per DRAM byte (acc_ops / byte)")
    ax.set_ylabel("achieved synaptic ops per second")
    ax.set_title(title or f"SNN roofline: {s['workload']} on {s['platform']}")
    ax.legend(fontsize=8, title="dominant cause", title_fontsize=8)
    ax.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    return _save(fig, path)


def _stacked_bars(layers: pd.DataFrame, by: pd.DataFrame, colours: dict[str, str], ylabel: str, title: str,
                  path: Path) -> Path:
    """One stacked bar per layer, one segment per column of ``by`` (all-zero columns left out)."""
    plt = _pyplot()
    labels = [f"{i} {n}" for i, n in zip(layers["layer"], layers["name"])]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(labels) + 2), 4.5))
    bottom = [0.0] * len(labels)
    for col in by.columns:
        vals = by[col].tolist()
        if not any(vals):
            continue
        ax.bar(labels, vals, bottom=bottom, label=col, color=colours.get(col))
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=60, labelsize=7)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_latency_breakdown(summary: pd.DataFrame, layers: pd.DataFrame, path: Path, *,
                           title: str | None = None) -> Path:
    s = summary.iloc[0]
    return _stacked_bars(layers, latency_by_cause(layers), _COLOURS, "cycles",
                         title or f"latency by cause per layer: {s['workload']} on {s['platform']}", path)


#: colours of the components in the energy breakdown (others: the default cycle)
_COMPONENT_COLOURS = {"dram": "tab:blue", "noc": "tab:orange", "glb": "tab:green", "l1": "tab:olive",
                      "pe_array": "tab:red", "controller": "tab:gray"}


def plot_energy_breakdown(summary: pd.DataFrame, layers: pd.DataFrame, path: Path, *,
                          title: str | None = None) -> Path:
    s = summary.iloc[0]
    return _stacked_bars(layers, energy_by_component(layers) / 1e6, _COMPONENT_COLOURS, "energy (uJ)",
                         title or f"energy by component per layer: {s['workload']} on {s['platform']}", path)


def write_plots(summary: pd.DataFrame, layers: pd.DataFrame, out_dir: str | Path, *, prefix: str = "") -> list[Path]:
    """Write ``<prefix>roofline.png``, ``<prefix>latency_breakdown.png`` and (when
    layers.csv has energy columns) ``<prefix>energy_breakdown.png`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [
        plot_roofline(summary, layers, out / f"{prefix}roofline.png"),
        plot_latency_breakdown(summary, layers, out / f"{prefix}latency_breakdown.png"),
    ]
    if energy_components(layers):
        written.append(plot_energy_breakdown(summary, layers, out / f"{prefix}energy_breakdown.png"))
    return written


def plot_run_dir(run_dir: str | Path) -> list[Path]:
    """Redraw the plots of a finished run from its ``summary.csv`` and ``layers.csv``."""
    d = Path(run_dir)
    tables = {}
    for name in ("summary", "layers"):
        f = d / f"{name}.csv"
        if not f.is_file():
            raise ConfigError(f"{f}: not found (give the --out directory of a finished `tlmsim run`)")
        tables[name] = pd.read_csv(f)
    need = {"summary": ("clock_mhz", "dram_peak_gb_per_s", "workload", "platform"),
            "layers": ("layer", "name", "latency_cycles", "compute_cycles", "acc_ops", "pe_utilization",
                       "dram_read_bytes", "dram_write_bytes")}
    for name, cols in need.items():
        missing = [c for c in cols if c not in tables[name].columns]
        if missing or tables[name].empty:
            what = f"column {missing[0]!r} missing" if missing else "no rows"
            raise ConfigError(f"{d / (name + '.csv')}: {what} (not a tlmsim run's report?)")
    return write_plots(tables["summary"], tables["layers"], d)
