"""Plots of a sweep's results: the energy-latency Pareto front and parameter sensitivity."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd


def pareto_mask(latency: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """True for the points no other point beats in both latency and energy (ties kept)."""
    n = len(latency)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        better = (latency <= latency[i]) & (energy <= energy[i]) & ((latency < latency[i]) | (energy < energy[i]))
        keep[i] = not better.any()
    return keep


def _value_key(text: str) -> tuple:
    """Sort key of a parameter value: numbers and quantities with units by their
    value (so 64KiB < 512KiB < 1MiB), then anything else as text."""
    from tlmsim.units import parse_bytes, parse_freq_mhz, parse_time_ps

    try:
        return (0, float(text), text)
    except ValueError:
        pass
    for parse in (parse_bytes, parse_time_ps, parse_freq_mhz):
        try:
            return (0, float(parse(text)), text)
        except ValueError:
            continue
    return (1, 0.0, text)


def category_order(values) -> list[str]:
    """The distinct values (as text) in plotting order (:func:`_value_key`)."""
    return sorted({str(v) for v in values}, key=_value_key)


def _save(fig, path: Path) -> None:
    tmp = path.with_suffix(".png.partial")
    fig.savefig(tmp, dpi=100, metadata={"Software": None}, format="png")
    os.replace(tmp, path)


def plot_sweep(df: pd.DataFrame, params: list[str], out: Path) -> list[Path]:
    """``pareto.png`` (energy against latency, coloured by the first parameter, the
    front joined) and ``sensitivity.png`` (median EDP per value of each parameter);
    values in numeric order (:func:`category_order`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = df[df["status"] == "ok"]
    if ok.empty:
        return []
    written = []
    lat = ok["latency_ns"].to_numpy(float)
    en = ok["energy_pj"].to_numpy(float) * 1e-6
    front = pareto_mask(lat, en)
    fig, ax = plt.subplots(figsize=(7, 5))
    key = params[0]
    values = ok[key].astype(str)
    for v in category_order(values.unique()):
        m = (values == v).to_numpy()
        ax.scatter(lat[m] / 1000, en[m], label=f"{key}={v}", s=25)
    order = np.argsort(lat[front])
    ax.plot(lat[front][order] / 1000, en[front][order], "k--", lw=1, label="Pareto front")
    ax.set_xlabel("latency (us)")
    ax.set_ylabel("energy (uJ)")
    ax.set_title(f"{len(ok)} points, {int(front.sum())} on the front")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = out / "pareto.png"
    _save(fig, path)
    plt.close(fig)
    written.append(path)

    fig, axes = plt.subplots(1, len(params), figsize=(3.2 * len(params), 3.2), squeeze=False)
    for ax, p in zip(axes[0], params):
        med = ok.groupby(ok[p].astype(str))["edp_pj_ns"].median()
        med = med.reindex(category_order(med.index))
        ax.bar(range(len(med)), med.to_numpy() * 1e-12)
        ax.set_xticks(range(len(med)), list(med.index), rotation=45, fontsize=7)
        ax.set_title(p, fontsize=8)
        ax.set_ylabel("median EDP (uJ x ms)")
    fig.tight_layout()
    path = out / "sensitivity.png"
    _save(fig, path)
    plt.close(fig)
    written.append(path)
    return written
