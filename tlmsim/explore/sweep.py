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

Relative ``platform`` and ``workload`` paths are read relative to the sweep file.
Each point is the base platform with ``--set key=value`` for its values, validated
like any platform. Every parameter key is checked against the platform schema and
every point's platform is validated before the first point runs: an unknown key,
or one that changes no result (metadata, or a parameter whose hardware is not
modelled yet: :func:`tlmsim.platform.params.no_effect_reason`), stops the sweep
there (one line naming the sweep file and the key); an invalid value is that
point's error. Points run on a Dask cluster: a LocalCluster on this machine by
default (one single-threaded worker process per core), or an existing scheduler
given by address; ``workers=0`` runs them serially in this process, and so does a
sweep with at most :data:`SERIAL_POINTS` points to run when neither ``workers`` nor
``scheduler`` is given (starting a cluster costs more than it saves). Results: one row
per point (``point``, the parameters, ``status`` ok/error, ``error``, then the run's
summary metrics), in point order, written to ``results.csv`` (and ``results.parquet``
with pyarrow) atomically as points finish (at most every 2 s) and at the end; at the end ``pareto.png``
(energy against latency, the front joined) and ``sensitivity.png`` (median EDP per
value of each parameter). A sweep is resumable: points whose id already has status
``ok`` in the output are skipped. The id is a hash of what the point's result
depends on (:func:`point_id`): the resolved platform (after the point's values), the
workload's file contents, the seed, the point's values and the tlmsim version, so
editing the platform or the workload, or upgrading tlmsim, reruns the points it
changes. A failing point is recorded with its one-line error and the sweep goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from tlmsim.config_io import read_yaml, validate_model
from tlmsim.errors import ConfigError, TlmsimError
from tlmsim.platform.params import ParamModel, param

RESULTS = "results.csv"
#: without --workers or --scheduler, at most this many points to run go serially (no cluster)
SERIAL_POINTS = 4
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


def relative_to_spec(spec, path: str | Path):
    """``spec`` with relative ``platform`` / ``workload`` paths read relative to the
    spec file's folder (when a file is there; else as given: a path from the
    current folder or a shipped name)."""
    base = Path(path).resolve().parent
    update = {}
    for key in ("platform", "workload"):
        value = getattr(spec, key)
        if value is not None and not Path(value).is_absolute() and (base / value).is_file():
            update[key] = str(base / value)
    return spec.model_copy(update=update) if update else spec


def load_sweep(path: str | Path) -> SweepSpec:
    spec = relative_to_spec(validate_model(SweepSpec, read_yaml(path), str(path)), path)
    check_parameter_keys(spec.parameters, str(path))
    return spec


def platform_field(key: str):
    """The schema field a platform key path names (a pydantic FieldInfo), or a
    ConfigError-ready (problem, allowed) tuple when no such key exists."""
    from pydantic import BaseModel

    from tlmsim.config_io import _unwrap
    from tlmsim.platform import Platform

    current: Any = Platform
    field = None
    parts = key.split(".")
    for i, part in enumerate(parts):
        model = _unwrap(current)
        if isinstance(model, type) and issubclass(model, BaseModel):
            if part not in model.model_fields:
                where = ".".join(parts[:i]) or "the platform"
                return ("unknown platform key", f"{', '.join(model.model_fields)} (under {where})")
            field = model.model_fields[part]
            current = field.annotation
        elif typing.get_origin(model) is dict:
            current = typing.get_args(model)[1]
            field = None
        elif typing.get_origin(model) is list and part.isdigit():  # a list item: buffers.levels.0
            current = typing.get_args(model)[0]
            field = None
        else:
            return (f"{'.'.join(parts[:i])} is a value, not a section", None)
    return field


def check_parameter_keys(parameters: dict[str, Any], file: str) -> None:
    """Refuse, before any point runs, a parameter key path that is not a platform key,
    or one that changes no result: metadata, or a parameter whose hardware is not
    modelled yet (:func:`tlmsim.platform.params.no_effect_reason`)."""
    from tlmsim.platform.params import no_effect_reason

    for key in parameters:
        got = platform_field(key)
        if isinstance(got, tuple):
            raise ConfigError(got[0], file=file, key=f"parameters.{key}", allowed=got[1])
        why = no_effect_reason(got) if got is not None else None
        if why is not None:
            raise ConfigError(f"cannot be varied: {why}", file=file, key=f"parameters.{key}")


def points(spec: SweepSpec) -> list[dict[str, Any]]:
    """The sweep's points, in a fixed order."""
    keys = list(spec.parameters)
    if spec.mode == "grid":
        return [dict(zip(keys, combo)) for combo in itertools.product(*(spec.parameters[k] for k in keys))]
    rng = np.random.default_rng(spec.random_seed)
    return [{k: spec.parameters[k][int(rng.integers(len(spec.parameters[k])))] for k in keys}
            for _ in range(spec.samples)]


def workload_fingerprint(workload: str | None) -> str:
    """A hash of a workload's contents: the workload file's bytes and those of the
    files it names (``nir:``, ``spikes:``); a shipped name hashes the shipped files.
    Raises ConfigError when the workload cannot be found."""
    from tlmsim.resources import DEFAULT_WORKLOAD, resolve

    path = resolve("workloads", workload, DEFAULT_WORKLOAD)
    h = hashlib.sha256(path.read_bytes())
    if path.suffix.lower() in (".yaml", ".yml"):
        data = read_yaml(path)
        for key in ("nir", "spikes"):
            ref = data.get(key)
            if isinstance(ref, str) and (path.parent / ref).is_file():
                h.update(key.encode() + b"\0" + (path.parent / ref).read_bytes())
    return h.hexdigest()


def resolved_platform(platform: str, point: dict[str, Any]) -> tuple[dict | None, str]:
    """The point's platform as a plain dict (the base platform with the point's
    values, validated), or (None, the one-line error) when it is invalid."""
    from tlmsim.platform import load_platform

    try:
        return load_platform(platform, set_args(point)).model_dump(mode="json"), ""
    except TlmsimError as exc:
        return None, str(exc)


def point_id(spec: SweepSpec, point: dict[str, Any], *, platform: dict | None = None,
             workload: str | None = None) -> str:
    """A stable id of a point: a hash of its resolved ``platform`` (a dict; default:
    loaded here), the ``workload`` fingerprint (default: computed here), the seed,
    the point's values and the tlmsim version."""
    from tlmsim import __version__

    if platform is None:
        platform, error = resolved_platform(spec.platform, point)
        platform = platform if platform is not None else {"invalid": error}
    if workload is None:
        workload = workload_fingerprint(spec.workload)
    text = json.dumps({"platform": platform, "workload": workload, "seed": spec.seed,
                       "point": {k: _set_value(v) for k, v in point.items()}, "tlmsim": __version__},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def set_args(point: dict[str, Any]) -> list[str]:
    """A point's values as ``--set KEY=VALUE`` arguments."""
    return [f"{k}={_set_value(v)}" for k, v in point.items()]


def prepare(spec: SweepSpec, pts: list[dict[str, Any]], file: str | None = None) -> tuple[list[str], dict[int, str]]:
    """Validate every point before any runs: the parameter keys against the schema
    (an unknown key raises ConfigError), each point's platform (an invalid value
    becomes that point's error) and the workload (raises). Returns the points' ids
    and, by point index, the errors of the invalid points."""
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload

    load_platform(spec.platform)  # a broken base platform or workload fails every point: say so once
    check_parameter_keys(spec.parameters, file or "sweep")
    fingerprint = workload_fingerprint(spec.workload)
    load_workload(spec.workload, seed=spec.seed)
    ids, invalid = [], {}
    for i, p in enumerate(pts):
        plat, error = resolved_platform(spec.platform, p)
        if plat is None:
            if "unknown key" in error:  # e.g. a misspelt key inside a value's mapping
                raise ConfigError(f"point {i} ({', '.join(set_args(p))}): {error}", file=file) from None
            invalid[i] = error
        ids.append(point_id(spec, p, platform=plat if plat is not None else {"invalid": error},
                            workload=fingerprint))
    return ids, invalid


def _set_value(v: Any) -> str:
    """A value as the text of --set KEY=VALUE (YAML flow style for lists/dicts)."""
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def run_point(platform: str, workload: str | None, point: dict[str, Any], seed: int) -> dict[str, Any]:
    """Run one point; never raises: errors come back as ``status: error``."""
    from tlmsim.soc.run import simulate
    from tlmsim.platform import load_platform
    from tlmsim.report import build_report
    from tlmsim.workload import load_workload

    row: dict[str, Any] = {"status": "ok", "error": ""}
    try:
        p = load_platform(platform, set_args(point))
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


def serial(todo: int, workers: int | None, scheduler: str | None) -> bool:
    """Whether ``todo`` points run in this process: ``workers=0``, or neither
    ``workers`` nor ``scheduler`` given and at most :data:`SERIAL_POINTS` to run."""
    if scheduler is not None:
        return False
    return workers == 0 or (workers is None and todo <= SERIAL_POINTS)


def run_sweep(spec: SweepSpec, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              progress: bool = True, file: str | None = None) -> tuple[pd.DataFrame, int]:
    """Run every point not already done in ``out``; return (results, points computed now).

    ``workers``: LocalCluster worker processes (default: the machine's cores);
    0 runs serially in this process (as does a small sweep, :func:`serial`).
    ``scheduler``: address of a running Dask scheduler (overrides ``workers``).
    Every point is validated (:func:`prepare`) and ``out`` checked before the first runs;
    ``file`` names the sweep file in errors."""
    from tlmsim.outputs import output_dir

    pts = points(spec)
    ids, invalid = prepare(spec, pts, file)
    out = output_dir(out, "--out")
    done: dict[str, dict] = {}
    prev = out / RESULTS
    if prev.is_file():
        try:
            old = pd.read_csv(prev, dtype={"error": object})
            if "error" in old.columns:
                old["error"] = old["error"].fillna("")
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(f"cannot read the previous results ({type(exc).__name__})", file=str(prev)) from None
        if "point" in old.columns and "status" in old.columns:
            done = {r["point"]: r for r in old.to_dict("records") if r["status"] == "ok"}
    rows: dict[str, dict] = {}
    todo = []
    for i, (pid, p) in enumerate(zip(ids, pts)):
        if pid in done:
            rows[pid] = done[pid]
        elif pid in rows:
            continue
        elif i in invalid:  # the platform is invalid: the point's error, without running it
            rows[pid] = {"status": "error", "error": invalid[i]}
            todo.append((pid, None))
        else:
            todo.append((pid, p))
            rows[pid] = None  # placeholder, keeps duplicates from running twice
    computed = len(todo)
    todo = [(pid, p) for pid, p in todo if p is not None]

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
    if progress and todo:
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

    if todo and serial(len(todo), workers, scheduler):
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
    return df, computed
