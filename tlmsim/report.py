"""Reports: tidy tables built from a finished run, and their files.

Tables (columns documented in README.md, "Reports"):

* ``summary``     one row: latency, energy, EDP, DRAM traffic and bandwidth;
* ``layers``      one row per layer;
* ``components``  one row per component: traffic, busy time, utilisation, stalls, energy;
* ``energy``      one row per (component, action);
* ``stalls``      one row per (component, reason, layer);
* ``stats``       every declared statistic of every component (component, stat, unit, value).

Times are in accelerator cycles (``*_cycles``) or nanoseconds (``*_ns``); energy in pJ.

The tables are built as :class:`tlmsim.table.Table` s (``*_table``), which ``tlmsim run``
writes as CSV without importing pandas (issue 17); :class:`Report`'s attributes and the
``*_frame`` functions give them as pandas DataFrames, built on first access, with the values
and dtypes the DataFrames had when the tables were built with pandas, and the CSVs keep
their bytes (sums as pandas makes them: :func:`tlmsim.table.np_sum`, :func:`tlmsim.table.group_sums`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from tlmsim.engine.transaction import DataClass
from tlmsim.soc.run import RunResult
from tlmsim.table import Table, cast, group_sums, np_sum

if TYPE_CHECKING:
    import pandas as pd

_DC_COLUMN = {
    DataClass.WEIGHTS: "weights",
    DataClass.SPIKES: "spikes",
    DataClass.MEMBRANE: "membrane",
    DataClass.OUT_SPIKES: "out_spikes",
    DataClass.PSUM: "psum",
}


class Report:
    """A run's six tables. Each is given as a :class:`~tlmsim.table.Table` (what
    :func:`build_report` makes) or a pandas DataFrame; the attributes ``summary``,
    ``layers``, ``components``, ``energy``, ``stalls`` and ``stats`` are DataFrames, a
    Table's built (and pandas imported) on first access; :meth:`table` gives a table as a
    Table (a DataFrame's converted)."""

    TABLES = ("summary", "layers", "components", "energy", "stalls", "stats")

    def __init__(self, summary, layers, components, energy, stalls, stats):
        given = dict(zip(self.TABLES, (summary, layers, components, energy, stalls, stats)))
        self._tables = {k: v for k, v in given.items() if isinstance(v, Table)}
        self._frames = {k: v for k, v in given.items() if not isinstance(v, Table)}

    def table(self, name: str) -> Table:
        if name not in self._tables:
            self._tables[name] = Table.from_frame(self._frames[name])
        return self._tables[name]

    def frame(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            self._frames[name] = self._tables[name].frame()
        return self._frames[name]

    summary = property(lambda self: self.frame("summary"))
    layers = property(lambda self: self.frame("layers"))
    components = property(lambda self: self.frame("components"))
    energy = property(lambda self: self.frame("energy"))
    stalls = property(lambda self: self.frame("stalls"))
    stats = property(lambda self: self.frame("stats"))

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables as DataFrames (pandas imported)."""
        return {name: self.frame(name) for name in self.TABLES}

    def columnar(self) -> dict[str, Table]:
        """The tables as Tables (what ``tlmsim run`` writes, without pandas)."""
        return {name: self.table(name) for name in self.TABLES}


def _cycles(ps: float, period_ps: int) -> float:
    return ps / period_ps


def energy_table(result: RunResult) -> Table:
    rows = []
    for comp in result.components.values():
        for action, pj in comp.energy_pj().items():
            rows.append({"component": comp.name, "kind": comp.KIND, "action": action, "energy_pj": float(pj)})
    t = Table.from_rows(rows, columns=["component", "kind", "action", "energy_pj"])
    total = np_sum(t["energy_pj"])
    t.add("share", [e / total for e in t["energy_pj"]] if total > 0 else [0.0] * len(t), "float")
    return t


def energy_frame(result: RunResult) -> pd.DataFrame:
    return energy_table(result).frame()


def stalls_table(result: RunResult) -> Table:
    period = result.clock_period_ps
    names = {l.index: l.name for l in result.workload.layers}
    rows = [
        {
            "component": comp,
            "reason": reason,
            "layer": layer,
            "layer_name": names.get(layer, ""),
            "count": count,
            "stall_cycles": _cycles(ps, period),
        }
        for (comp, reason, layer), (count, ps) in sorted(result.recorder.stalls.entries.items())
    ]
    return Table.from_rows(rows, columns=["component", "reason", "layer", "layer_name", "count", "stall_cycles"])


def stalls_frame(result: RunResult) -> pd.DataFrame:
    return stalls_table(result).frame()


def stats_table(result: RunResult) -> Table:
    rows = []
    for name, st in result.recorder.stats.items():
        for stat, decl in st.decls.items():
            rows.append({"component": name, "stat": stat, "unit": decl.unit, "value": st.c[stat],
                         "description": decl.description})
    return Table.from_rows(rows, columns=["component", "stat", "unit", "value", "description"])


def stats_frame(result: RunResult) -> pd.DataFrame:
    return stats_table(result).frame()


def _by(keys, values) -> dict:
    """The values of each key, in order."""
    out: dict = {}
    for k, v in zip(keys, values):
        out.setdefault(k, []).append(v)
    return out


def components_table(result: RunResult, energy: Table | pd.DataFrame, stalls: Table | pd.DataFrame) -> Table:
    """One row per component (then its parts, :func:`_with_parts`); ``energy`` and ``stalls``
    are :func:`energy_table` and :func:`stalls_table` (or their DataFrames)."""
    period, end = result.clock_period_ps, max(result.end_ps, 1)
    energies = _by(energy["component"], energy["energy_pj"])
    stall_cycles = _by(stalls["component"], stalls["stall_cycles"])
    rows = []
    for comp in result.components.values():
        c = comp.stats.c
        e = np_sum(energies.get(comp.name, ()))
        s = np_sum(stall_cycles.get(comp.name, ()))
        rows.append(
            {
                "component": comp.name,
                "kind": comp.KIND,
                "reads": int(c["reads"]),
                "writes": int(c["writes"]),
                "read_bytes": int(c["read_bytes"]),
                "write_bytes": int(c["write_bytes"]),
                "busy_cycles": _cycles(c["busy_ps"], period),
                "busy_units": comp.busy_units,
                "utilization": c["busy_ps"] / (comp.busy_units * end),
                "stall_cycles": float(s),
                "energy_pj": float(e),
                "area_mm2": float(comp.area_mm2()),
            }
        )
    t = Table.from_rows(rows)
    # one column per stall reason and per energy action (0 where a component has none), summed
    # as pandas' pivot_table(aggfunc="sum") sums them
    if len(stalls):
        wide = group_sums(zip(stalls["component"], stalls["reason"]), stalls["stall_cycles"])
        for reason in sorted({r for _, r in wide}):
            t.add(f"stall_{reason}_cycles", [wide.get((c, reason), 0.0) for c in t["component"]], "float")
    if len(energy):
        wide = group_sums(zip(energy["component"], energy["action"]), energy["energy_pj"])
        for action in sorted({a for _, a in wide}):
            t.add(f"energy_{action}_pj", [wide.get((c, action), 0.0) for c in t["component"]], "float")
    return _with_parts(t, result, period, end)


def components_frame(result: RunResult, energy: Table | pd.DataFrame, stalls: Table | pd.DataFrame) -> pd.DataFrame:
    return components_table(result, energy, stalls).frame()


def _with_parts(t: Table, result: RunResult, period: int, end: int) -> Table:
    """Append the components' parts (a NoC's links: kind ``noc_link``), one row each,
    after the components. A part's traffic, busy time and stalls are also in its
    component's row: leave the parts out when summing a column."""
    parts = [p for comp in result.components.values() for p in comp.parts()]
    if not parts:
        return t
    rows = []
    for p in parts:
        row = dict.fromkeys(t.columns, 0.0)
        stalls = {f"stall_{r}_cycles": _cycles(ps, period) for r, ps in sorted(p.get("stall_ps", {}).items())}
        busy = p.get("busy_ps", 0)
        row.update({"component": p["component"], "kind": p["kind"], "busy_cycles": _cycles(busy, period),
                    "busy_units": 1, "utilization": busy / end, "stall_cycles": float(sum(stalls.values()))})
        row.update({k: int(p.get(k, 0)) for k in ("reads", "writes", "read_bytes", "write_bytes")})
        row.update(stalls)
        rows.append(row)
    # a stall reason only parts have: a column of 0.0 in the components' rows (in name order),
    # NaN in a part's row without it; each value cast to its column's kind
    for col in sorted({k for row in rows for k in row}.difference(t.columns)):
        t.add(col, [0.0] * len(t), "float")
    for col, values in t.columns.items():
        values.extend(cast(row.get(col, float("nan")), t.kinds[col]) for row in rows)
    return t


def layers_table(result: RunResult) -> Table:
    period = result.clock_period_ps
    pe = result.platform.pe_array
    flows = result.recorder.flows
    stalls = result.recorder.stalls.entries
    layers = {l.index: l for l in result.workload.layers}
    plans = {p.layer.index: p for p in result.plans}
    l1s = {m.name for m in result.controller.l1s}  # every core's L1 (l1 with one core)
    pes = {p.name for p in result.controller.pes}
    ncores = len(pes)
    level_names = [lv.name for lv in result.platform.buffers.sram_levels]  # from DRAM inward
    # every level's instances (a private level with several cores: l2_0, l2_1, ...) -> the level, summed
    inst_level = {m.name: level_names[i] for i, insts in enumerate(result.controller.level_insts) for m in insts}
    stages = result.controller.stages
    notes = result.controller.pipeline_notes if stages else None
    # layer pipelining: a layer runs on its stage's group of cores, and its stall and utilisation count those
    ran_on = {p.layer.index: len(cores) for stage in stages or () for p, cores in stage}
    rows = []
    for rec in result.controller.layers:
        layer = layers[rec.index]
        lat = _cycles(rec.end_ps - rec.start_ps, period)
        k = ran_on.get(rec.index, ncores)  # the cores the layer ran on
        row = {
            "layer": rec.index,
            "name": rec.name,
            "op": layer.op,
            "start_cycle": _cycles(rec.start_ps, period),
            "end_cycle": _cycles(rec.end_ps, period),
            "latency_cycles": lat,
            "compute_cycles": rec.compute_cycles,
            "neuron_cycles": rec.neuron_cycles,
            # several cores: the time the cores the layer ran on were not computing, on average
            "stall_cycles": max(0.0, lat - rec.compute_cycles / k),
            "tiles": rec.tiles,
            "dense_ops": rec.dense_ops,
            "acc_ops": rec.acc_ops,
            "ops_skipped": rec.dense_ops - rec.acc_ops,
            "neuron_updates": rec.neuron_updates,
            "pe_utilization": rec.acc_ops / (k * pe.rows * pe.cols * lat) if lat > 0 else 0.0,
            # pe_array.multicore: pipeline only (split reports keep their columns): whom the layer ran
            # beside and on which cores, or why it ran alone
            **({"pipeline": notes.get(rec.index, "")} if notes is not None else {}),
        }
        dram_r = dram_w = 0
        per_dc = {f"dram_{v}_bytes": 0 for v in _DC_COLUMN.values()}
        per_dc_level = {f"{lv}_{v}_bytes": 0 for lv in level_names for v in _DC_COLUMN.values()}
        per_dc_l1 = {f"l1_{v}_bytes": 0 for v in _DC_COLUMN.values()}
        for (src, dst, dc, li), n in flows.items():
            if li != rec.index:
                continue
            col = _DC_COLUMN.get(DataClass(dc))
            if src == "dram" and dst == "noc":
                dram_r += n
            elif dst == "dram" and src == "noc":
                dram_w += n
            else:
                if col and ((src in inst_level and dst == "noc") or (src == "noc" and dst in inst_level)):
                    per_dc_level[f"{inst_level[src if dst == 'noc' else dst]}_{col}_bytes"] += n
                elif col and ((src == "noc" and dst in l1s) or (src in l1s and dst == "noc")):
                    per_dc_l1[f"l1_{col}_bytes"] += n  # DMA into L1 (loads) and out of it (stores)
                continue
            if col:
                per_dc[f"dram_{col}_bytes"] += n
        row.update({"dram_read_bytes": dram_r, "dram_write_bytes": dram_w})
        row.update(per_dc)
        row.update(per_dc_level)
        row.update(per_dc_l1)
        for (comp, reason, li), (_, ps) in stalls.items():
            if li == rec.index and comp in pes:  # several cores: summed over them
                row[f"pe_stall_{reason}_cycles"] = row.get(f"pe_stall_{reason}_cycles", 0.0) + _cycles(ps, period)
        for reason in ("waiting_for_operands", "waiting_for_output_buffer", "l1_bandwidth"):
            row.setdefault(f"pe_stall_{reason}_cycles", 0.0)
        plan = plans[rec.index]  # every layer that ran has its summary
        for name in ("weights", "inputs", "membrane", "outputs"):  # the SRAM level a tensor stays in, else dram
            kept = rec.resident.get(name, False) and name in plan.levels
            row[f"resident_{name}"] = level_names[plan.levels[name] % len(level_names)] if kept else "dram"
        row["tiling"] = plan.tiling
        row["spike_formats"] = " ".join(f"{f}:{n}" for f, n in plan.spike_formats.items())
        rows.append(row)
    energy = layer_energy(result)
    for row in rows:
        parts = energy.get(row["layer"], {})
        row["energy_pj"] = math.fsum(parts.values())
        comps = list(dict.fromkeys(c for c, _ in parts))
        for comp in comps:
            row[f"energy_{comp}_pj"] = math.fsum(v for (c, _), v in parts.items() if c == comp)
        for (comp, action), v in parts.items():
            row[f"energy_{comp}_{action}_pj"] = v
    return Table.from_rows(rows)


def layers_frame(result: RunResult) -> pd.DataFrame:
    return layers_table(result).frame()


def _layer_spans(result: RunResult) -> dict[int, int]:
    """Each layer's time span (ps): from its start to the next layer's start; the first
    layer's from 0, the last layer's to the end of the run. The spans add up to the run."""
    recs = sorted(result.controller.layers, key=lambda r: (r.start_ps, r.index))
    spans = {}
    for i, rec in enumerate(recs):
        start = 0 if i == 0 else rec.start_ps
        end = recs[i + 1].start_ps if i + 1 < len(recs) else max(result.end_ps, rec.end_ps)
        spans[rec.index] = end - start
    return spans


def _exact_parts(parts: list[float], total: float) -> list[float]:
    """``parts`` with its largest entry moved by a few units in the last place (if that
    cannot land exactly, the next largest, ...) so that ``math.fsum(parts) == total``
    exactly: the parts were computed separately, and their rounding errors need not
    cancel. Parts below 1e-9 of the total are never moved (a layer with no energy
    keeps 0)."""
    parts = list(parts)
    order = sorted((i for i, p in enumerate(parts) if abs(p) >= 1e-9 * abs(total)),
                   key=lambda i: (-abs(parts[i]), i))
    for k in order:
        seen: set[float] = set()
        for _ in range(64):
            s = math.fsum(parts)
            if s == total:
                return parts
            moved = parts[k] + (total - s)
            if moved == parts[k] or moved in seen:  # a step below parts[k]'s last place, or a cycle
                moved = math.nextafter(parts[k], math.inf if total > s else -math.inf)
                if moved in seen:
                    break
            seen.add(parts[k])
            parts[k] = moved
    if math.fsum(parts) != total:
        raise AssertionError(f"per-layer energies {parts!r} do not add up to {total!r}")  # pragma: no cover
    return parts


def _with_counters(comp, counters: dict) -> dict[str, float]:
    """``comp.energy_pj()`` evaluated with ``counters`` in place of its own."""
    stats = comp.stats
    own = stats.c
    stats.c = counters
    try:
        return comp.energy_pj()
    finally:
        stats.c = own


#: counted actions that happen with time, not with traffic: split by the layers' time
#: spans like background energy (the DRAM refreshes every tREFI whatever it serves)
TIME_DRIVEN = {("dram", "refresh")}


def layer_energy(result: RunResult) -> dict[int, dict[tuple[str, str], float]]:
    """``{layer: {(component, action): pJ}}``; summed over layers with ``math.fsum``
    each (component, action) equals its energy.csv value exactly.

    A component's energy is ``energy_pj(counters)``: background energy (what it gives
    with every counter at 0: leakage, DRAM standby and power-down) and the actions of
    :data:`TIME_DRIVEN` go to the layers in proportion to their time spans
    (:func:`_layer_spans`); the rest is evaluated on each layer's own counters
    (:mod:`tlmsim.engine.attribution`)."""
    recs = result.controller.layers
    if not recs or result.layer_counters is None:
        return {}
    spans = _layer_spans(result)
    run = sum(spans.values())
    order = [r.index for r in recs]
    last = max(recs, key=lambda r: (r.end_ps, r.index)).index
    out: dict[int, dict[tuple[str, str], float]] = {li: {} for li in order}
    for comp in result.components.values():
        totals = {a: float(v) for a, v in comp.energy_pj().items()}
        if not totals:
            continue
        zero = _with_counters(comp, dict.fromkeys(comp.stats.c, 0))
        per = result.layer_counters.by_layer(comp.name, last)
        evaluated = {li: _with_counters(comp, {**dict.fromkeys(comp.stats.c, 0), **per[li]}) for li in order
                     if li in per}
        for action, total in totals.items():
            timed = (comp.KIND, action) in TIME_DRIVEN
            bg = total if timed else float(zero.get(action, 0.0))
            parts = []
            for li in order:
                dyn = float(evaluated[li][action]) - bg if li in evaluated and not timed else 0.0
                share = bg * spans[li] / run if run > 0 else (bg if li == order[0] else 0.0)
                parts.append(dyn + share)
            for li, v in zip(order, _exact_parts(parts, total)):
                out[li][(comp.name, action)] = v
    return out


def summary_table(result: RunResult, energy: Table | pd.DataFrame) -> Table:
    """The one-row summary; ``energy`` is :func:`energy_table` (or its DataFrame)."""
    period = result.clock_period_ps
    lat_ps = result.end_ps
    dram = result.components["dram"]
    pes = result.controller.pes  # every core's array (one with one core)
    total_pj = np_sum(energy["energy_pj"])
    dram_r, dram_w = int(dram.stats.c["read_bytes"]), int(dram.stats.c["write_bytes"])
    lat_ns = lat_ps / 1000.0
    p = result.platform
    row = {
        "platform": p.name,
        "workload": result.workload.name,
        "dataflow": p.dataflow.name,
        "spikes": result.workload.spike_source,
        "seed": result.seed,
        "timesteps": result.workload.timesteps,
        "clock_mhz": p.clock_mhz,
        "latency_cycles": lat_ps / period,
        "latency_ns": lat_ns,
        "energy_pj": total_pj,
        "edp_pj_ns": total_pj * lat_ns,
        "compute_cycles": int(sum(pe.stats.c["compute_cycles"] for pe in pes)),
        "pe_utilization": sum(pe.stats.c["acc_ops"] for pe in pes)
        / (len(pes) * p.pe_array.rows * p.pe_array.cols * (lat_ps / period))
        if lat_ps
        else 0.0,
        "dram_read_bytes": dram_r,
        "dram_write_bytes": dram_w,
        "dram_bytes": dram_r + dram_w,
        "dram_bandwidth_gb_per_s": (dram_r + dram_w) / lat_ns if lat_ns else 0.0,
        "dram_peak_gb_per_s": float(dram.peak_bandwidth_gb_per_s) if hasattr(dram, "peak_bandwidth_gb_per_s") else float("nan"),
        "transactions": result.recorder.issued,
    }
    by_kind = group_sums(energy["kind"], energy["energy_pj"])  # as groupby("kind").sum()
    for kind in sorted(by_kind):
        row[f"energy_{kind}_pj"] = by_kind[kind]
    return Table.from_rows([row])


def summary_frame(result: RunResult, energy: Table | pd.DataFrame) -> pd.DataFrame:
    return summary_table(result, energy).frame()


def build_report(result: RunResult) -> Report:
    energy = energy_table(result)
    stalls = stalls_table(result)
    components = components_table(result, energy, stalls)
    return Report(
        summary=summary_table(result, energy),
        layers=layers_table(result),
        components=components,
        energy=energy,
        stalls=stalls,
        stats=stats_table(result),
    )


def write_tables(tables: dict[str, Table | pd.DataFrame], out_dir: str | Path, *,
                 parquet: bool | None = None) -> list[Path]:
    """Write each table as CSV (and Parquet when pyarrow is importable), each file
    atomically, with the umask's mode and exact numbers (:mod:`tlmsim.outputs`). A
    :class:`~tlmsim.table.Table` is written without pandas (the same bytes as its DataFrame's);
    Parquet needs pandas."""
    from tlmsim.outputs import atomic_write, write_csv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if parquet is None:
        try:
            import pyarrow  # noqa: F401

            parquet = True
        except ImportError:
            parquet = False
    written = []
    for name, df in tables.items():
        if isinstance(df, Table):
            written.append(df.write_csv(out / f"{name}.csv"))
            if parquet:
                df = df.frame()
        else:
            written.append(write_csv(df, out / f"{name}.csv"))
        if parquet:
            written.append(atomic_write(out / f"{name}.parquet", lambda tmp, df=df: df.to_parquet(tmp, index=False)))
    return written


def console_summary(result: RunResult, report: Report) -> str:
    s = report.table("summary").row(0)
    comp = report.table("components")
    lines = [
        f"platform {s['platform']}  workload {s['workload']}  dataflow {s['dataflow']}  T={s['timesteps']}",
        f"spikes: {s['spikes']}",
        f"latency   {s['latency_cycles']:.0f} cycles = {s['latency_ns'] / 1000:.3f} us at {s['clock_mhz']:g} MHz",
        f"energy    {s['energy_pj'] / 1e6:.3f} uJ   EDP {s['edp_pj_ns'] / 1e9:.4g} uJ*us",
        f"DRAM      {s['dram_bytes'] / 1024:.1f} KiB moved, {s['dram_bandwidth_gb_per_s']:.2f} GB/s achieved "
        f"(peak {s['dram_peak_gb_per_s']:.2f})",
        f"PE array  utilisation {s['pe_utilization'] * 100:.1f} %, {s['compute_cycles']} compute cycles",
        "energy by component: "
        + ", ".join(f"{k} {v / 1e6:.3f} uJ" for k, v in zip(comp["component"], comp["energy_pj"]) if v > 0),
        f"{int(s['transactions'])} transactions in {result.wall_s:.2f} s wall",
    ]
    return "\n".join(lines)
