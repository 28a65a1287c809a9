"""``tlmsim sweep``: run many platform variants, on Dask, into one results table.

A sweep file names a base platform and workload and, per platform key path, the
values to try::

    platform: ddr4-baseline          # file or shipped name
    workload: digits-conv            # file or shipped name
    seed: 0
    mode: grid                       # grid: every combination; random: `samples` draws
    samples: 20                      # random mode only
    random_seed: 0                   # random mode only
    parameters:
      buffers.glb.capacity_bytes: [128KiB, 256KiB, 512KiB]
      dram.preset: [DDR4-3200, HBM2]
      pe_array.rows: [16, 32]

Each point is the base platform with ``--set key=value`` for its values, validated
like any platform. Points run on a Dask cluster: a LocalCluster on this machine by
default (one single-threaded worker process per core), or an existing scheduler
given by address; ``workers=0`` runs them serially in this process. Results: one row
per point (``point``, the parameters, ``status`` ok/error, ``error``, then the run's
summary metrics), in point order, written to ``results.csv`` (and ``results.parquet``
with pyarrow) atomically as points finish (at most every 2 s) and at the end; at the end ``pareto.png``
(energy against latency, the front joined) and ``sensitivity.png`` (median EDP per
value of each parameter). A sweep is resumable: points
whose id (a hash of their parameters, seed and inputs) already has status ``ok`` in
the output are skipped. A failing point is recorded with its one-line error and the
sweep goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from tlmsim.config_io import read_yaml, validate_model
from tlmsim.errors import ConfigError, TlmsimError
from tlmsim.platform.params import ParamModel, param

RESULTS = "results.csv"
#: the results table is rewritten at most this often while a sweep runs (and at its end)
WRITE_INTERVAL_S = 2.0


class SweepSpec(ParamModel):
    """A sweep file."""

    platform: str = param("ddr4-baseline", desc="base platform (file or shipped name)")
    workload: str | None = param(None, desc="workload (file or shipped name); default: the shipped default")
    seed: int = param(0, desc="seed of every run (synthetic spikes)", ge=0)
    mode: Literal["grid", "random"] = param("grid", desc="grid: every combination; random: `samples` draws")
    samples: int = param(20, desc="random mode: number of points drawn", ge=1, le=1_000_000)
    random_seed: int = param(0, desc="random mode: seed of the draws", ge=0)
    parameters: dict[str, list[Any]] = Field(
        description="platform key path -> values to try (each validated like --set KEY=VALUE)"
    )

    @field_validator("parameters")
    @classmethod
    def _non_empty(cls, v: dict) -> dict:
        if not v:
            raise ValueError("give at least one parameter to sweep")
        for key, values in v.items():
            if not values:
                raise ValueError(f"parameter {key!r} has no values")
        return v


def load_sweep(path: str | Path) -> SweepSpec:
    return validate_model(SweepSpec, read_yaml(path), str(path))


def points(spec: SweepSpec) -> list[dict[str, Any]]:
    """The sweep's points, in a fixed order."""
    keys = list(spec.parameters)
    if spec.mode == "grid":
        return [dict(zip(keys, combo)) for combo in itertools.product(*(spec.parameters[k] for k in keys))]
    rng = np.random.default_rng(spec.random_seed)
    return [{k: spec.parameters[k][int(rng.integers(len(spec.parameters[k])))] for k in keys}
            for _ in range(spec.samples)]


def point_id(spec: SweepSpec, point: dict[str, Any]) -> str:
    """A stable id of a point: a hash of its parameters, the seed and the inputs."""
    text = json.dumps({"p": point, "seed": spec.seed, "platform": spec.platform, "workload": spec.workload},
                      sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _set_value(v: Any) -> str:
    """A value as the text of --set KEY=VALUE (YAML flow style for lists/dicts)."""
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def run_point(platform: str, workload: str | None, point: dict[str, Any], seed: int) -> dict[str, Any]:
    """Run one point; never raises: errors come back as ``status: error``."""
    from tlmsim.engine.simulation import simulate
    from tlmsim.platform import load_platform
    from tlmsim.report import build_report
    from tlmsim.workload import load_workload

    row: dict[str, Any] = {"status": "ok", "error": ""}
    try:
        p = load_platform(platform, [f"{k}={_set_value(v)}" for k, v in point.items()])
        w = load_workload(workload, seed=seed)
        result = simulate(p, w, seed=seed)
        summary = build_report(result).summary.iloc[0].to_dict()
        row.update({k: v for k, v in summary.items() if k not in ("platform", "workload", "seed")})
    except TlmsimError as exc:
        row.update(status="error", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a point's crash must not stop the sweep
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    return row


@contextlib.contextmanager
def dask_client(workers: int | None, scheduler: str | None):
    """A Dask client: on the running scheduler at ``scheduler``, else on a LocalCluster
    of ``workers`` single-threaded worker processes (default: one per core), closed
    on exit."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler is not None:
        client = Client(scheduler)
    else:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _normalize(df: pd.DataFrame) -> pd.DataFrame:
    """One type per column, whether a row was computed now or read back from an
    earlier results.csv: numeric where every value is, else text ('' for missing)."""
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object:
            try:
                df[c] = pd.to_numeric(df[c])
            except (ValueError, TypeError):
                df[c] = df[c].map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))
    return df


def _write(df: pd.DataFrame, out: Path) -> None:
    from tlmsim.report import write_tables

    write_tables({"results": _normalize(df)}, out)


def run_sweep(spec: SweepSpec, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              progress: bool = True) -> tuple[pd.DataFrame, int]:
    """Run every point not already done in ``out``; return (results, points computed now).

    ``workers``: LocalCluster worker processes (default: the machine's cores);
    0 runs serially in this process. ``scheduler``: address of a running Dask
    scheduler (overrides ``workers``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pts = points(spec)
    ids = [point_id(spec, p) for p in pts]
    done: dict[str, dict] = {}
    prev = out / RESULTS
    if prev.is_file():
        try:
            old = pd.read_csv(prev)
            if "error" in old.columns:
                old["error"] = old["error"].fillna("")
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(f"cannot read the previous results ({type(exc).__name__})", file=str(prev)) from None
        if "point" in old.columns and "status" in old.columns:
            done = {r["point"]: r for r in old.to_dict("records") if r["status"] == "ok"}
    rows: dict[str, dict] = {}
    todo = []
    for pid, p in zip(ids, pts):
        if pid in done:
            rows[pid] = done[pid]
        elif pid not in rows:
            todo.append((pid, p))
            rows[pid] = None  # placeholder, keeps duplicates from running twice

    def table() -> pd.DataFrame:
        recs = []
        for i, (pid, p) in enumerate(zip(ids, pts)):
            r = rows.get(pid)
            if r is None:
                continue
            rec = {"point": pid, "index": i}
            rec.update({k: _set_value(v) for k, v in p.items()})
            rec.update({k: v for k, v in r.items() if k not in ("point", "index", *p.keys())})
            recs.append(rec)
        return pd.DataFrame(recs)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="sweep", unit="point")

    import time

    last_write = [0.0]

    def finished(pid: str, row: dict) -> None:
        rows[pid] = row
        # persist progress (resumability) at most every WRITE_INTERVAL_S: rewriting the
        # table after every point would compete with the workers for the cores
        now = time.monotonic()
        if now - last_write[0] >= WRITE_INTERVAL_S:
            _write(table(), out)
            last_write[0] = now
        if bar is not None:
            bar.update(1)

    if todo and (workers == 0 and scheduler is None):
        for pid, p in todo:
            finished(pid, run_point(spec.platform, spec.workload, p, spec.seed))
    elif todo:
        from distributed import as_completed

        with dask_client(workers, scheduler) as client:
            futures = {client.submit(run_point, spec.platform, spec.workload, p, spec.seed, key=f"tlmsim-{pid}",
                                     pure=False): pid for pid, p in todo}
            for fut in as_completed(futures):
                pid = futures[fut]
                try:
                    row = fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker is a failed point, not a failed sweep
                    row = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
                finished(pid, row)
    if bar is not None:
        bar.close()
    df = _normalize(table())
    _write(df, out)
    from tlmsim.explore.plots import plot_sweep

    plot_sweep(df, list(spec.parameters), out)
    return df, len(todo)
