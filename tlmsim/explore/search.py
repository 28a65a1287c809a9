"""``tlmsim search``: Optuna over architecture parameters, under an area budget, on Dask.

A search file names a base platform and workload, the parameters to search (any
platform key path) and what to minimise::

    platform: ddr4-baseline
    workload: digits-snn
    trials: 40
    sampler: tpe                      # tpe, or nsga2 (the default for two objectives)
    sampler_seed: 0
    objectives: [edp]                 # or [latency, energy]: a Pareto front
    area_budget_mm2: 2.5              # from the platform's area table (SRAM + PEs)
    parameters:
      pe_array.rows: {low: 8, high: 64, step: 8}       # integers (or floats), step/log optional
      buffers.glb.capacity_bytes: [128KiB, 256KiB, 512KiB]   # a list: categorical
      dataflow.name: [dense-ws, spikex]

Relative ``platform`` and ``workload`` paths are read relative to the search file;
every parameter key is checked against the platform schema (an unknown key, or one
that changes no result, is refused as in sweeps), and the base platform and workload
loaded, before the first trial.
Each trial is the base platform with ``--set key=value`` for its values. Its area is
computed first (:meth:`Platform.area_mm2`); a trial over the budget is not simulated:
it is recorded as infeasible (values +inf, constraint = area - budget > 0, which
Optuna's constrained TPE/NSGA-II use). Feasible trials run on a Dask cluster (a
LocalCluster by default, ``--scheduler ADDRESS`` for a running one; ``--workers 0``
runs serially, as does a search with at most 4 trials to run when neither
``--workers`` nor ``--scheduler`` is given) with as many in flight as there are
workers: the search asks Optuna
for a trial, submits it, and tells Optuna the result when it comes back
(ask-and-tell), so the study lives only where the search runs. The study is stored
in ``DIR/study.db`` (SQLite, Optuna RDB storage) under a name keyed by a hash of
what its trials' results depend on (:func:`study_key`: the resolved base platform,
the workload's file contents, the seed, the area budget and the tlmsim version):
rerunning the same command resumes it and runs only the trials still missing
(trials an interrupted run left running are marked failed); after an edit of the
platform or workload file, or an upgrade, the same command starts a new study
beside the old one instead of mixing stale trials in. A trial whose run fails is recorded with its error (Optuna state
FAIL) and the search goes on.

Outputs in ``DIR``: ``trials.csv`` (one row per trial: number, state, parameters,
area, objectives, the run's summary metrics, error), ``best.yaml`` (the best
feasible trial, or the Pareto-optimal ones: values with units, e.g. sizes as
``512KiB``, and the one-line ``tlmsim run`` command that reproduces each),
``pareto.png`` and ``sensitivity.png`` as for sweeps.

A serial search with a seeded sampler is deterministic; with parallel trials the
proposals depend on the order results come back, but each trial's metrics are those
of a plain run of its parameters (tested).
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import Field, field_validator, model_validator

from tlmsim.config_io import read_yaml, validate_model
from tlmsim.errors import ConfigError, TlmsimError
from tlmsim.explore.sweep import (
    _normalize,
    _set_value,
    check_parameter_keys,
    dask_client,
    platform_field,
    relative_to_spec,
    run_point,
    serial,
)
from tlmsim.platform.params import ParamModel, param

STUDY = "tlmsim-search"
OBJECTIVE_COLUMN = {"edp": "edp_pj_ns", "latency": "latency_ns", "energy": "energy_pj"}


class Range(ParamModel):
    """A numeric search range."""

    low: float = param(..., desc="lowest value")
    high: float = param(..., desc="highest value")
    step: float | None = param(None, desc="grid step (integers: default 1)", gt=0)
    log: bool = param(False, desc="sample on a log scale")

    @model_validator(mode="after")
    def _order(self) -> "Range":
        if self.high < self.low:
            raise ValueError("high is below low")
        if self.log and (self.low <= 0 or self.step is not None):
            raise ValueError("log needs low > 0 and no step")
        return self

    @property
    def integer(self) -> bool:
        return float(self.low).is_integer() and float(self.high).is_integer() and (
            self.step is None or float(self.step).is_integer())


class SearchSpec(ParamModel):
    """A search file."""

    platform: str = param("ddr4-baseline", desc="base platform (file or shipped name)")
    workload: str | None = param(None, desc="workload (file or shipped name); default: the shipped default")
    seed: int = param(0, desc="seed of every run (synthetic spikes)", ge=0)
    trials: int = param(20, desc="total trials of the study (a resumed study runs only the missing ones)",
                        ge=1, le=100_000)
    sampler: Literal["tpe", "nsga2"] | None = param(
        None, desc="Optuna sampler: tpe or nsga2 (default: tpe for one objective, nsga2 for two)")
    sampler_seed: int = param(0, desc="seed of the sampler", ge=0)
    objectives: list[Literal["edp", "latency", "energy"]] = param(
        ["edp"], desc="what to minimise: [edp], or [latency, energy] for a Pareto front")
    area_budget_mm2: float | None = param(None, desc="largest area allowed (platform area table)", gt=0)
    parameters: dict[str, list[Any] | Range] = Field(
        description="platform key path -> a list of values (categorical) or {low, high, step, log}")

    @field_validator("objectives")
    @classmethod
    def _objectives(cls, v: list) -> list:
        if not v or len(set(v)) != len(v) or len(v) > 2:
            raise ValueError("give one or two different objectives")
        return v

    @field_validator("parameters")
    @classmethod
    def _params(cls, v: dict) -> dict:
        if not v:
            raise ValueError("give at least one parameter to search")
        for key, values in v.items():
            if isinstance(values, list) and not values:
                raise ValueError(f"parameter {key!r} has no values")
        return v


def load_search(path: str | Path) -> SearchSpec:
    spec = relative_to_spec(validate_model(SearchSpec, read_yaml(path), str(path)), path)
    check_parameter_keys(spec.parameters, str(path))
    return spec


def prepare(spec: SearchSpec, file: str | None = None) -> None:
    """Check before the first trial: the base platform and workload load, and every
    parameter key is a platform key (raises ConfigError)."""
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload

    load_platform(spec.platform)
    check_parameter_keys(spec.parameters, file or "search")
    load_workload(spec.workload, seed=spec.seed)


def study_key(spec: SearchSpec) -> str:
    """A hash of what a study's trials depend on besides their own values: the
    resolved base platform, the workload's contents, the seed, the area budget and
    the tlmsim version (the parameter space and objectives are checked against the
    stored study instead)."""
    import hashlib
    import json

    from tlmsim import __version__
    from tlmsim.explore.sweep import workload_fingerprint
    from tlmsim.platform import load_platform

    text = json.dumps({"platform": load_platform(spec.platform).model_dump(mode="json"),
                       "workload": workload_fingerprint(spec.workload), "seed": spec.seed,
                       "area_budget_mm2": spec.area_budget_mm2, "tlmsim": __version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _suggest(trial, spec: SearchSpec) -> dict[str, Any]:
    point = {}
    for key, dom in spec.parameters.items():
        if isinstance(dom, list):
            choices = [_set_value(c) if isinstance(c, (list, dict)) else c for c in dom]
            point[key] = trial.suggest_categorical(key, choices)
        elif dom.integer:
            point[key] = trial.suggest_int(key, int(dom.low), int(dom.high), step=int(dom.step or 1), log=dom.log)
        else:
            point[key] = trial.suggest_float(key, dom.low, dom.high, step=dom.step, log=dom.log)
    return point


def area_of(spec: SearchSpec, point: dict[str, Any]) -> float:
    """Area of the base platform with ``point``'s values (raises ConfigError if invalid)."""
    from tlmsim.platform import load_platform

    return load_platform(spec.platform, [f"{k}={_set_value(v)}" for k, v in point.items()]).area_mm2()


def _sampler(spec: SearchSpec):
    import optuna

    def constraints(trial) -> list[float]:
        return [trial.user_attrs.get("area_excess_mm2", 0.0)]

    kind = spec.sampler or ("tpe" if len(spec.objectives) == 1 else "nsga2")
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=spec.sampler_seed, constraints_func=constraints,
                                          n_startup_trials=min(10, max(2, spec.trials // 4)))
    return optuna.samplers.NSGAIISampler(seed=spec.sampler_seed, constraints_func=constraints,
                                         population_size=max(4, min(50, spec.trials // 4)))


def run_search(spec: SearchSpec, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
               progress: bool = True, file: str | None = None) -> tuple[pd.DataFrame, int]:
    """Run the trials still missing from the study in ``out``; return (trials table, trials run now)."""
    import warnings

    import optuna
    from optuna.trial import TrialState

    from tlmsim.outputs import output_dir

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    prepare(spec, file)
    out = output_dir(out, "--out")
    storage = f"sqlite:///{(out / 'study.db').resolve()}"
    directions = ["minimize"] * len(spec.objectives)
    name = f"{STUDY}-{study_key(spec)}"
    try:
        earlier = [n for n in optuna.get_all_study_names(storage) if n.startswith(STUDY) and n != name]
        study = optuna.create_study(study_name=name, storage=storage, directions=directions,
                                    sampler=_sampler(spec), load_if_exists=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign database
        raise ConfigError(f"cannot open the study ({type(exc).__name__}: {exc})", file=str(out / "study.db")) from None
    if earlier and not study.get_trials(deepcopy=False):
        print(f"tlmsim: note: the platform, workload, seed, area budget or tlmsim version differ from those of the "
              f"earlier studies in {out / 'study.db'}: this is a new study (theirs are kept)", file=sys.stderr)
    if [d.name.lower() for d in study.directions] != directions:
        raise ConfigError("the stored study has other objectives; use a new --out directory",
                          file=str(out / "study.db"), key="objectives")
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        study.tell(t.number, state=TrialState.FAIL)  # left over by an interrupted run
    finished = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)))
    todo = max(0, spec.trials - finished)

    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=todo, desc="search", unit="trial")

    def tell(trial, point: dict, row: dict) -> None:
        for k, v in row.items():
            if isinstance(v, (int, float, str, bool)) or v is None:
                trial.set_user_attr(k, v)
        if row["status"] == "ok":
            study.tell(trial, [float(row[OBJECTIVE_COLUMN[o]]) for o in spec.objectives])
        else:
            study.tell(trial, state=TrialState.FAIL)
        if bar is not None:
            bar.update(1)

    def ask():
        """A new trial, its point, and None if it must be simulated, else its row."""
        trial = study.ask()
        try:
            point = _suggest(trial, spec)
        except ValueError as exc:  # Optuna refuses a parameter whose range changed within a study
            study.tell(trial, state=TrialState.FAIL)
            raise ConfigError(f"the stored study has another parameter space ({exc}); use a new --out directory",
                              file=str(out / "study.db"), key="parameters") from None
        try:
            area = area_of(spec, point)
        except TlmsimError as exc:
            return trial, point, {"status": "error", "error": str(exc)}
        trial.set_user_attr("area_mm2", area)
        excess = area - spec.area_budget_mm2 if spec.area_budget_mm2 is not None else 0.0
        trial.set_user_attr("area_excess_mm2", excess)  # Optuna constraint: <= 0 is feasible
        if excess > 0:
            row = {"status": "infeasible", "error": f"area {area:.3f} mm2 over the budget {spec.area_budget_mm2} mm2"}
            for k, v in row.items():
                trial.set_user_attr(k, v)
            study.tell(trial, [math.inf] * len(spec.objectives))
            if bar is not None:
                bar.update(1)
            return None
        return trial, point, None

    launched = 0
    if todo and serial(todo, workers, scheduler):
        while launched < todo:
            launched += 1
            got = ask()
            if got is None:
                continue
            trial, point, row = got
            tell(trial, point, row or run_point(spec.platform, spec.workload, point, spec.seed))
    elif todo:
        from distributed import wait

        with dask_client(workers, scheduler) as client:
            slots = max(1, sum(client.nthreads().values()))
            pending: dict = {}
            while launched < todo or pending:
                while launched < todo and len(pending) < slots:
                    launched += 1
                    got = ask()
                    if got is None:
                        continue
                    trial, point, row = got
                    if row is not None:
                        tell(trial, point, row)
                        continue
                    fut = client.submit(run_point, spec.platform, spec.workload, point, spec.seed,
                                        key=f"tlmsim-trial-{trial.number}-{os.getpid()}", pure=False)
                    pending[fut] = (trial, point)
                if not pending:
                    continue
                done, _ = wait(list(pending), return_when="FIRST_COMPLETED")
                for fut in sorted(done, key=lambda f: pending[f][0].number):
                    trial, point = pending.pop(fut)
                    try:
                        row = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a lost worker is a failed trial
                        row = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
                    tell(trial, point, row)
    if bar is not None:
        bar.close()
    df = trials_table(study, spec)
    write_outputs(df, study, spec, out)
    return df, launched


def trials_table(study, spec: SearchSpec) -> pd.DataFrame:
    rows = []
    for t in study.get_trials(deepcopy=False):
        row = {"trial": t.number, "state": t.state.name.lower()}
        row.update({k: _set_value(t.params[k]) if k in t.params else "" for k in spec.parameters})
        attrs = dict(t.user_attrs)
        row["status"] = attrs.pop("status", "")
        row["error"] = attrs.pop("error", "")
        row["area_mm2"] = attrs.pop("area_mm2", float("nan"))
        attrs.pop("area_excess_mm2", None)
        for i, o in enumerate(spec.objectives):
            row[f"objective_{o}"] = t.values[i] if t.values is not None else float("nan")
        row.update(attrs)
        rows.append(row)
    return _normalize(pd.DataFrame(rows))


def with_unit(key: str, value: Any) -> Any:
    """A parameter value as a user writes it: an integer size as ``512KiB`` (bytes
    that are no whole KiB as ``1000B``), an integer time in ps as ``13.75ns``;
    anything else unchanged."""
    from tlmsim.units import field_unit, format_bytes, format_time_ps

    if isinstance(value, bool) or not isinstance(value, int):
        return value
    field = platform_field(key)
    unit = field_unit(field) if field is not None and not isinstance(field, tuple) else None
    if unit == "bytes":
        return format_bytes(value)
    if unit == "ps":
        return format_time_ps(value)
    return value


class _Command(str):
    """A shell command in best.yaml: written on one line exactly as it is typed."""


class _BestDumper(yaml.SafeDumper):
    """Never folds long lines (width=inf is passed to dump); a command YAML would
    have to quote (its shell quotes, a ': ' in a value) is written as a literal
    block, so the line under ``command: |-`` is the command verbatim."""


def _represent_command(dumper: yaml.SafeDumper, data: _Command):
    plain = not yaml.safe_dump(str(data), width=float("inf")).startswith(("'", '"'))
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style=None if plain else "|")


_BestDumper.add_representer(_Command, _represent_command)


def _command(spec: SearchSpec, params: dict) -> str:
    """The one-line ``tlmsim run`` command of a trial (shell-quoted)."""
    import shlex

    words = ["tlmsim", "run", spec.platform]
    if spec.workload:
        words.append(spec.workload)
    if spec.seed:
        words += ["--seed", str(spec.seed)]
    for k, v in params.items():
        words += ["--set", f"{k}={_set_value(v)}"]
    return _Command(shlex.join(words))


def write_outputs(df: pd.DataFrame, study, spec: SearchSpec, out: Path) -> None:
    from optuna.trial import TrialState

    from tlmsim.explore.plots import plot_sweep
    from tlmsim.outputs import atomic_write
    from tlmsim.report import write_tables

    write_tables({"trials": df}, out)
    ok = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
          if t.values is not None and all(math.isfinite(v) for v in t.values)]
    if len(spec.objectives) == 1:
        best = sorted(ok, key=lambda t: (t.values[0], t.number))[:1]
    else:
        best = sorted((t for t in study.best_trials if all(math.isfinite(v) for v in t.values)),
                      key=lambda t: t.number)
    doc = {
        "objectives": list(spec.objectives),
        "area_budget_mm2": spec.area_budget_mm2,
        "best": [],
    }
    for t in best:
        values = {k: with_unit(k, t.params[k]) for k in spec.parameters}
        doc["best"].append({"trial": t.number, "parameters": values,
                            "objectives": dict(zip(spec.objectives, (float(v) for v in t.values))),
                            "area_mm2": float(t.user_attrs.get("area_mm2", float("nan"))),
                            "command": _command(spec, values)})
    text = yaml.dump(doc, Dumper=_BestDumper, sort_keys=False, width=float("inf"))
    atomic_write(out / "best.yaml", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    feasible = df[df["status"] == "ok"] if "status" in df.columns else df.iloc[0:0]
    if len(feasible):
        plot_sweep(feasible.reset_index(drop=True), list(spec.parameters), out)
