"""Golden end-to-end frames: regenerate them, or check the model against them.

    python tools/golden.py            # rerun every probe and rewrite tests/golden/e2e/
    python tools/golden.py --check    # rerun every probe and print what differs (exit 1)
    python tools/golden.py --check --probe 'ddr4-baseline:spikex:digits-snn'

A probe is one ``tlmsim run``: a shipped platform, a dataflow (with options) and a
small workload. The probe set is every shipped platform x every dataflow on the
digits SNN with its recorded spikes, the digits SNN under non-default dataflow
options, and the awkward workloads of tests/golden/workloads/ (odd channel counts,
T not divisible by the time window, partial folds, stride 2, pooling on odd sizes,
residual shortcuts, a silent layer) on one platform with every dataflow.

Each probe's report frames (tlmsim/report.py: ``summary``, ``layers``, ``components``,
``energy``, ``stalls``, ``stats``; nothing in them is wall time or otherwise
nondeterministic) are stored in one CSV per
table, with a leading ``probe`` column, floats written with ``repr`` (they read back
bit for bit), and the dtype of every column in ``dtypes.csv``. A component column that
some probes lack (a stall reason that never happened there) is empty in their rows.
tests/integration/test_golden_e2e.py compares every probe with
``pandas.testing.assert_frame_equal(check_exact=True)``.

A change to these files is part of a commit that changes the model on purpose, and
the commit message says why the numbers moved (``--check`` prints what to say).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_DIR = ROOT / "tests" / "golden" / "e2e"
WORKLOAD_DIR = ROOT / "tests" / "golden" / "workloads"
TABLES = ("summary", "layers", "components", "energy", "stalls", "stats")
#: the columns that name each row of a table within a probe (for diffs)
ROW_KEY = {"summary": (), "layers": ("name",), "components": ("component",), "energy": ("component", "action"),
           "stalls": ("component", "reason", "layer_name"), "stats": ("component", "stat")}

PLATFORMS = ("ddr4-baseline", "edge-lpddr4", "hbm2-server", "l2-glb", "no-glb", "mesh-4core", "mesh-4core-l2")
DATAFLOWS = ("dense-ws", "dense-os", "dense-is", "ptb", "spikex", "event")


@dataclass(frozen=True)
class Probe:
    """One golden run: ``tlmsim run PLATFORM WORKLOAD --set OVERRIDE ...`` with seed 0."""

    platform: str
    workload: str  #: a shipped workload's name, or a file name in tests/golden/workloads/
    overrides: tuple[str, ...]

    @property
    def dataflow(self) -> str:
        return next(o.split("=", 1)[1] for o in self.overrides if o.startswith("dataflow.name="))

    @property
    def id(self) -> str:
        """``platform:dataflow:workload[:option=value,...]`` (options without the ``dataflow.`` prefix)."""
        opts = [o.removeprefix("dataflow.") for o in self.overrides if not o.startswith("dataflow.name=")]
        return ":".join([self.platform, self.dataflow, Path(self.workload).stem] + ([",".join(opts)] if opts else []))

    def workload_arg(self) -> str:
        return str(WORKLOAD_DIR / self.workload) if self.workload.endswith(".yaml") else self.workload


def _probe(platform: str, dataflow: str, workload: str, *options: str) -> Probe:
    return Probe(platform, workload, (f"dataflow.name={dataflow}", *(f"dataflow.{o}" for o in options)))


def probes() -> list[Probe]:
    """The probe set, in the order the frames store them."""
    out = [_probe(p, d, "digits-snn") for p in PLATFORMS for d in DATAFLOWS]
    # the digits SNN (T = 16) under the dataflow options: windows that do not divide T,
    # every packing and spike format, zero skipping off, compressed weights
    out += [
        _probe("ddr4-baseline", "dense-ws", "digits-snn", "time_window=3"),
        _probe("ddr4-baseline", "ptb", "digits-snn", "time_window=3"),
        _probe("ddr4-baseline", "spikex", "digits-snn", "time_window=3"),
        _probe("ddr4-baseline", "spikex", "digits-snn", "packing=time"),
        _probe("ddr4-baseline", "spikex", "digits-snn", "packing=space"),
        _probe("ddr4-baseline", "spikex", "digits-snn", "packing=none"),
        *(_probe("edge-lpddr4", d, "digits-snn", f"spike_format={f}")
          for d in ("ptb", "spikex") for f in ("bitmap", "aer", "csr", "rle")),
        *(_probe("ddr4-baseline", d, "digits-snn", "zero_skip=false") for d in ("ptb", "spikex", "event")),
        _probe("hbm2-server", "spikex", "digits-snn", "weight_compression=true"),
    ]
    # the awkward shapes: each on one platform with every dataflow
    out += [_probe("edge-lpddr4", d, "odd-shapes.yaml", "time_window=2") for d in DATAFLOWS]
    out += [_probe("ddr4-baseline", d, "partial-folds.yaml", "time_window=4") for d in DATAFLOWS]
    out += [_probe("edge-lpddr4", d, "residual.yaml", "time_window=4") for d in DATAFLOWS]
    out += [
        _probe("edge-lpddr4", "spikex", "partial-folds.yaml", "weight_compression=true"),
        _probe("hbm2-server", "event", "odd-shapes.yaml"),
        _probe("hbm2-server", "dense-os", "residual.yaml"),
    ]
    return out


#: a quick subset for mutation testing (tools/mutation): every dataflow and platform, each
#: awkward workload, packing and a non-default spike format, about a third of the probes
QUICK = (
    *(f"ddr4-baseline:{d}:digits-snn" for d in DATAFLOWS),
    "edge-lpddr4:dense-ws:digits-snn", "hbm2-server:dense-os:digits-snn", "hbm2-server:event:digits-snn",
    "ddr4-baseline:spikex:digits-snn:packing=time", "edge-lpddr4:ptb:digits-snn:spike_format=aer",
    "edge-lpddr4:spikex:odd-shapes:time_window=2", "edge-lpddr4:event:odd-shapes:time_window=2",
    "ddr4-baseline:dense-ws:partial-folds:time_window=4", "ddr4-baseline:dense-is:partial-folds:time_window=4",
    "edge-lpddr4:dense-os:residual:time_window=4", "edge-lpddr4:ptb:residual:time_window=4",
)


def run_probe(probe: Probe) -> dict[str, pd.DataFrame]:
    """Simulate one probe; its summary, layers and components frames, in the stored dtypes."""
    from tlmsim.soc.run import simulate
    from tlmsim.platform import load_platform
    from tlmsim.report import build_report
    from tlmsim.workload import load_workload

    platform = load_platform(probe.platform, list(probe.overrides))
    workload = load_workload(probe.workload_arg(), seed=0)
    report = build_report(simulate(platform, workload, seed=0))
    return {name: _normalise(getattr(report, name)) for name in TABLES}


def _kind(dtype) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int64"
    if pd.api.types.is_float_dtype(dtype):
        return "float64"
    return "str"


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Plain numpy dtypes (strings as Python objects), whatever pandas version built the frame."""
    df = df.reset_index(drop=True).copy()
    for col in df.columns:
        kind = _kind(df[col].dtype)
        df[col] = df[col].astype(object).map(str).astype(object) if kind == "str" else df[col].astype(kind)
    return df


# ----------------------------------------------------------------------------- files

def _to_text(value, kind: str) -> str:
    if kind == "float64":
        return "" if math.isnan(value) else repr(float(value))
    return str(value)


def _merge_orders(orders: list[list[str]], table: str) -> list[str]:
    """One column order that keeps every probe's own order (a topological merge, ties
    broken by first appearance), so that a probe's columns read back in their order."""
    first: dict[str, int] = {}
    after: dict[str, set[str]] = {}
    needs: dict[str, int] = {}
    for order in orders:
        for c in order:
            first.setdefault(c, len(first))
            after.setdefault(c, set())
            needs.setdefault(c, 0)
        for a, b in zip(order, order[1:]):
            if b not in after[a]:
                after[a].add(b)
                needs[b] += 1
    merged: list[str] = []
    ready = sorted((c for c in first if needs[c] == 0), key=first.get)
    while ready:
        c = ready.pop(0)
        merged.append(c)
        for b in after[c]:
            needs[b] -= 1
            if needs[b] == 0:
                ready.append(b)
        ready.sort(key=first.get)
    if len(merged) != len(first):  # two probes order some columns oppositely (levels of two hierarchies)
        merged += sorted((c for c in first if c not in merged), key=first.get)
    return merged


def write_golden(frames: dict[str, dict[str, pd.DataFrame]], out: Path = GOLDEN_DIR) -> None:
    """``frames``: probe id -> table -> frame. Writes ``<table>.csv``, ``dtypes.csv`` and
    ``orders.csv``: the column order of each probe whose columns do not read back in the
    stored order (two hierarchies whose levels come in opposite orders)."""
    out.mkdir(parents=True, exist_ok=True)
    dtype_rows = []
    order_rows = []
    for table in TABLES:
        empty = [pid for pid, tables in frames.items() if tables[table].empty]
        if empty:  # a probe with no row would not read back
            raise SystemExit(f"golden: the {table} frame of {', '.join(empty)} is empty; choose other probes")
        kinds: dict[str, str] = {}
        for tables in frames.values():
            for col in tables[table].columns:
                kind = _kind(tables[table][col].dtype)
                if kinds.setdefault(col, kind) != kind:
                    raise SystemExit(f"golden: column {table}.{col} is {kind} in one probe and {kinds[col]} in another")
        columns = _merge_orders([list(tables[table].columns) for tables in frames.values()], table)
        blank = [c for c in columns if kinds[c] not in ("float64", "int64")]
        parts = []
        for pid, tables in frames.items():
            df = tables[table]
            missing = [c for c in blank if c not in df.columns]
            if missing:  # only numeric columns (stall reasons, energy actions, a level's bytes) may be absent
                raise SystemExit(f"golden: probe {pid} lacks the {table} columns {missing}")
            all_nan = [c for c in df.columns if kinds[c] == "float64" and len(df) and df[c].isna().all()]
            if all_nan:  # would read back as an absent column
                raise SystemExit(f"golden: probe {pid} has {table} columns that are NaN in every row: {all_nan}")
            text = pd.DataFrame({c: df[c].map(lambda v, k=kinds[c]: _to_text(v, k)) if c in df.columns else ""
                                 for c in columns}, index=df.index)
            text.insert(0, "probe", pid)
            parts.append(text)
            if [c for c in columns if c in df.columns] != list(df.columns):
                order_rows.append({"table": table, "probe": pid, "columns": " ".join(df.columns)})
        pd.concat(parts, ignore_index=True).to_csv(out / f"{table}.csv", index=False, lineterminator="\n")
        dtype_rows += [{"table": table, "column": c, "dtype": kinds[c]} for c in columns]
    pd.DataFrame(dtype_rows).to_csv(out / "dtypes.csv", index=False, lineterminator="\n")
    pd.DataFrame(order_rows, columns=["table", "probe", "columns"]).to_csv(out / "orders.csv", index=False,
                                                                           lineterminator="\n")


def read_golden(src: Path = GOLDEN_DIR) -> dict[str, dict[str, pd.DataFrame]]:
    """The stored frames: probe id -> table -> frame (columns a probe lacks dropped)."""
    dtypes = pd.read_csv(src / "dtypes.csv", dtype=str, keep_default_na=False)
    orders = {}
    if (src / "orders.csv").exists():
        rows = pd.read_csv(src / "orders.csv", dtype=str, keep_default_na=False)
        orders = {(t, p): c.split(" ") for t, p, c in rows.itertuples(index=False)}
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for table in TABLES:
        kinds = dict(dtypes.loc[dtypes["table"] == table, ["column", "dtype"]].itertuples(index=False))
        raw = pd.read_csv(src / f"{table}.csv", dtype=str, keep_default_na=False)
        for pid, rows in raw.groupby("probe", sort=False):
            rows = rows.drop(columns="probe").reset_index(drop=True)
            cols = {}
            for col, kind in kinds.items():
                values = rows[col]
                if kind == "float64":
                    if (values == "").all():
                        continue  # a column this probe does not have
                    cols[col] = values.map(lambda s: float("nan") if s == "" else float(s)).astype("float64")
                elif kind == "int64":
                    if (values == "").all():
                        continue  # a column this probe does not have (e.g. another platform's level)
                    cols[col] = values.map(int).astype("int64")
                elif kind == "bool":
                    cols[col] = values.map({"True": True, "False": False}.__getitem__).astype(bool)
                else:
                    cols[col] = values.astype(object)
            frame = pd.DataFrame(cols, index=rows.index)
            if (table, pid) in orders:
                frame = frame[orders[(table, pid)]]
            out.setdefault(pid, {})[table] = frame
    return out


def stored_dtypes(src: Path = GOLDEN_DIR) -> pd.DataFrame:
    return pd.read_csv(src / "dtypes.csv", dtype=str, keep_default_na=False)


# ----------------------------------------------------------------------------- diffs

def _fmt(v) -> str:
    return repr(v) if isinstance(v, float) else str(v)


def diff_frames(old: pd.DataFrame, new: pd.DataFrame, table: str) -> list[str]:
    """Readable differences: added/removed columns and rows, then changed cells as
    ``row column: old -> new (relative change)``."""
    lines = []
    gone = [c for c in old.columns if c not in new.columns]
    added = [c for c in new.columns if c not in old.columns]
    if gone:
        lines.append(f"  {table}: columns removed: {', '.join(gone)}")
    if added:
        lines.append(f"  {table}: columns added: {', '.join(added)}")
    if not gone and not added and list(old.columns) != list(new.columns):
        lines.append(f"  {table}: columns reordered: {', '.join(new.columns)}")
    key = [k for k in ROW_KEY[table] if k in old.columns and k in new.columns]

    def keys(df):
        return ["/".join(str(v) for v in row) for row in df[key].itertuples(index=False)] if key else ["-"] * len(df)

    okeys, nkeys = keys(old), keys(new)
    if okeys != nkeys:
        gone_rows = [k for k in okeys if k not in nkeys]
        new_rows = [k for k in nkeys if k not in okeys]
        lines.append(f"  {table}: rows removed {gone_rows}, added {new_rows}" if gone_rows or new_rows
                     else f"  {table}: rows reordered")
    for i in range(min(len(old), len(new))):
        for col in (c for c in old.columns if c in new.columns):
            a, b = old[col].iloc[i], new[col].iloc[i]
            a = a.item() if hasattr(a, "item") else a
            b = b.item() if hasattr(b, "item") else b
            same = a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
            if same and type(a) is type(b):
                continue
            rel = ""
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and a:
                rel = f" ({(b - a) / abs(a) * 100:+.3g} %)"
            where = f"{okeys[i]} " if key else ""
            lines.append(f"  {table}: {where}{col}: {_fmt(a)} -> {_fmt(b)}{rel}")
    return lines


def check(selected: list[Probe], stored: dict[str, dict[str, pd.DataFrame]]) -> list[str]:
    """Rerun ``selected`` and list every difference against ``stored`` (empty: all equal)."""
    report = []
    for probe in selected:
        if probe.id not in stored:
            report.append(f"{probe.id}: not in the golden frames (run python tools/golden.py)")
            continue
        fresh = run_probe(probe)
        lines = []
        for table in TABLES:
            lines += diff_frames(stored[probe.id][table], fresh[table], table)
        if lines:
            report.append(f"{probe.id}:")
            report += lines
    known = {p.id for p in probes()}
    report += [f"{pid}: stored but no longer a probe" for pid in stored if pid not in known]
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the stored frames; print the differences")
    ap.add_argument("--probe", action="append", help="only this probe id (repeatable; --check only)")
    ap.add_argument("--list", action="store_true", help="list the probe ids")
    args = ap.parse_args(argv)
    all_probes = probes()
    if args.list:
        print("\n".join(p.id for p in all_probes))
        return 0
    if args.check:
        selected = [p for p in all_probes if not args.probe or p.id in args.probe]
        unknown = set(args.probe or ()) - {p.id for p in all_probes}
        if unknown:
            print(f"golden: unknown probe(s): {', '.join(sorted(unknown))} (see --list)", file=sys.stderr)
            return 2
        diffs = check(selected, read_golden())
        print("\n".join(diffs) if diffs else f"golden: {len(selected)} probes equal the stored frames")
        return 1 if diffs else 0
    if args.probe:
        print("golden: --probe needs --check (regeneration rewrites every probe)", file=sys.stderr)
        return 2
    frames = {}
    for probe in all_probes:
        frames[probe.id] = run_probe(probe)
    write_golden(frames)
    print(f"golden: wrote {len(frames)} probes x {len(TABLES)} tables to {GOLDEN_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
