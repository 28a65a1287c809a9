"""The ``tlmsim`` command line.

    tlmsim run [PLATFORM] [WORKLOAD] [--out DIR] [--seed N] [--set KEY.PATH=VALUE ...] [--trace FILE.csv] [--quiet]
               [--perfetto FILE.pftrace] [--plots] [--no-parquet]
    tlmsim plot OUTDIR
    tlmsim validate FILE|NAME...
    tlmsim compare P1 P2 ... [--workload W] [--out DIR] [--quiet]
    tlmsim sweep SWEEP.yaml [--out DIR] [--workers N | --scheduler ADDRESS] [--quiet]
    tlmsim search SEARCH.yaml [--out DIR] [--workers N | --scheduler ADDRESS] [--quiet]
    tlmsim bench dram --preset NAME --pattern seq|random|mixed|light|dma [--requests N] [--format table|csv]
        [--block-bytes B --outstanding K --streams S --write-every N]
    tlmsim platforms | tlmsim workloads list|show|record

Exit status: 0 done; 1 a sweep or search that ran but got no result (every point
failed, or no trial was feasible and ran); 2 bad input or an output path that
cannot be written, as one line ``tlmsim: error: ...`` (``--debug`` shows the
traceback instead); 130 interrupted. Every output path is checked before any
simulation starts (:mod:`tlmsim.outputs`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tlmsim import __version__
from tlmsim.errors import ConfigError, MappingError, TlmsimError

EXIT_USAGE = 2
#: a sweep whose every point failed, a search with no feasible trial that ran
EXIT_NO_RESULT = 1

#: True in the ``tlmsim`` process itself (:func:`entry`), False when a program or a test calls
#: :func:`main`: only the command's own process may freeze its heap for the collector and
#: leave without the interpreter's teardown (issue 17, whole-process CPU)
_OWN_PROCESS = False
#: set by a command whose every output is written and closed when it returns (``run``):
#: :func:`entry` may then end the process without the interpreter's teardown
_NOTHING_LEFT = False


class _DataflowNames(Sequence):
    """The dataflow names for ``--dataflow``, read from :mod:`tlmsim.platform.dataflow`
    only when argparse needs them (a value is checked, or help is printed; the option
    has a metavar, so building the parser does not list them): that import brings
    pydantic, numpy and the platform models, which e.g. ``tlmsim plot`` and
    ``--version`` do not need."""

    def _names(self) -> tuple[str, ...]:
        from tlmsim.platform.dataflow import DATAFLOWS

        return DATAFLOWS

    def __getitem__(self, i):
        return self._names()[i]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self):
        return iter(self._names())


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"tlmsim: error: {message} (see '{self.prog} --help')\n")


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"--seed must be a non-negative integer, got {text!r}")
    return v


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _arg_kind(arg: str | None) -> str | None:
    """What a positional argument names: a file's kind (:func:`tlmsim.config_io.file_kind`),
    ``platform`` / ``workload`` for a shipped name, or None."""
    from tlmsim.config_io import file_kind
    from tlmsim.resources import shipped

    if arg is None:
        return None
    p = Path(arg)
    if p.is_file():
        try:
            return file_kind(p)
        except TlmsimError:
            return None
    if arg in shipped("platforms"):
        return "platform"
    if arg in shipped("workloads"):
        return "workload"
    return None


WORKLOAD_KINDS = ("workload", "nir", "topology")


def _load(platform_arg, workload_arg, overrides, seed):
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload

    if (platform_arg is not None and workload_arg is not None and _arg_kind(platform_arg) in WORKLOAD_KINDS
            and _arg_kind(workload_arg) == "platform"):
        raise ConfigError(f"the arguments are swapped: {platform_arg!r} is a workload and {workload_arg!r} a "
                          f"platform; PLATFORM comes first: tlmsim run {workload_arg} {platform_arg}")
    platform = load_platform(platform_arg, overrides)
    workload = load_workload(workload_arg, seed=seed)
    return platform, workload


def _progress(args, label: str, layers: int):
    """A run's progress bar, when wanted (a terminal, no --quiet)."""
    from tlmsim.progress import RunProgress, wanted

    return RunProgress(label, layers) if wanted(args.quiet) else None


def cmd_run(args) -> int:
    from tlmsim.outputs import check_outputs

    if args.workload is None and args.platform is not None and _arg_kind(args.platform) in (*WORKLOAD_KINDS, "trace"):
        args.platform, args.workload = None, args.platform  # `tlmsim run WORKLOAD` on the default platform
    overrides = list(args.set or [])
    if args.dataflow:
        overrides.append(f"dataflow.name={args.dataflow}")
    platform, workload = _load(args.platform, args.workload, overrides, args.seed)
    # before the simulation: a long run never ends in a write error
    check_outputs(dirs=[("--out", args.out)], files=[(opt, f) for opt, f in (("--trace", args.trace),
                                                                             ("--perfetto", args.perfetto)) if f])
    # the simulator and the reports (pandas) once the inputs are known to be good: a bad
    # input is refused before these imports
    from tlmsim.report import build_report, console_summary, write_tables
    from tlmsim.soc.run import simulate

    if _OWN_PROCESS:
        # the modules, platform and workload live until the process ends: move them out of
        # the cyclic collector's generations, whose full passes during the run would walk
        # them again (Python's gc.freeze; 0.4 % of the instructions of the five-dense run)
        import gc

        gc.freeze()
        gc.enable()  # off since entry(): see there
    try:
        result = simulate(platform, workload, seed=args.seed, trace_path=args.trace, verify=args.verify,
                          progress=_progress(args, f"{workload.name} on {platform.name}", len(workload.layers)),
                          sinks=_timeline_sinks(args))  # i15: --perfetto
    except MappingError as exc:  # the platform and workload do not fit together: name both
        from tlmsim.resources import DEFAULT_PLATFORM, DEFAULT_WORKLOAD

        raise MappingError(
            f"{args.platform or DEFAULT_PLATFORM} with {args.workload or DEFAULT_WORKLOAD}: {exc}"
        ) from None
    report = build_report(result)
    written = write_tables(report.columnar(), args.out, parquet=False if args.no_parquet else None)
    print(console_summary(result, report))
    for note in workload.notes:  # what the NIR import changed (e.g. a dropped batch axis)
        print(f"note: {note}")
    if result.verified:
        print(result.verified)
    from tlmsim.kernels import describe

    print(describe())
    print(f"wrote {len(written)} files to {args.out}" + (f"; trace {args.trace}" if args.trace else ""))
    _run_observability_outputs(args, report)  # i15: --perfetto, --plots
    global _NOTHING_LEFT
    _NOTHING_LEFT = True  # every file above is closed (tables, --trace, --perfetto, --plots)
    return 0


# -- i15: observability (Perfetto timeline, plots) ---------------------------------------
def _timeline_sinks(args) -> list:
    if not getattr(args, "perfetto", None):
        return []
    from tlmsim.timeline import PerfettoTimeline

    return [PerfettoTimeline(args.perfetto)]


def _run_observability_outputs(args, report) -> None:
    if getattr(args, "perfetto", None):
        print(f"timeline {args.perfetto} (open it at https://ui.perfetto.dev; 1 ns shown = 1 ps simulated)")
    if getattr(args, "plots", False):
        from tlmsim.plots import write_plots

        pngs = write_plots(report.summary, report.layers, args.out)
        print("plots " + ", ".join(str(p) for p in pngs))


def cmd_plot(args) -> int:
    from tlmsim.plots import plot_run_dir

    pngs = plot_run_dir(args.outdir)
    print("wrote " + ", ".join(str(p) for p in pngs))
    return 0


def _shipped_or_file(arg: str) -> tuple[Path, str | None]:
    """A validate argument as (path, kind): a file, or a shipped platform or workload by name."""
    from tlmsim.config_io import file_kind
    from tlmsim.resources import shipped

    p = Path(arg)
    if p.is_file():
        return p, file_kind(p)
    platforms, workloads = shipped("platforms"), shipped("workloads")
    if arg in platforms:
        return platforms[arg], "platform"
    if arg in workloads:
        return workloads[arg], file_kind(workloads[arg])
    if p.is_dir():
        raise ConfigError("is a directory; expected a file or the name of a shipped platform or workload", file=arg)
    raise ConfigError("no such file, and no shipped platform or workload of that name", file=arg,
                      allowed=", ".join([*platforms, *workloads]))


def _validate_one(arg: str) -> str:
    """Check one input as the command that takes it would; return the ok line."""
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload

    path, kind = _shipped_or_file(arg)
    f = str(path) if Path(arg).is_file() else arg
    if kind == "trace":
        from tlmsim.workload import read_spike_file

        spikes, samples = read_spike_file(path)
        return f"spike trace, {len(spikes)} layers" + (f", {samples} samples" if samples else "")
    if kind in WORKLOAD_KINDS:
        w = load_workload(path, seed=0)
        return f"workload {w.name}, {len(w.layers)} layers, T={w.timesteps}, spikes {w.spike_source}"
    if kind == "sweep":
        from tlmsim.explore.sweep import load_sweep, points, prepare

        spec = load_sweep(path)
        pts = points(spec)
        _ids, invalid = prepare(spec, pts, f)
        line = (f"sweep, {len(pts)} points ({spec.mode} over {', '.join(spec.parameters)}), platform "
                f"{spec.platform}, workload {spec.workload or 'default'}")
        if invalid:
            first = min(invalid)
            line += f"; {len(invalid)} points would fail (point {first}: {invalid[first]})"
        return line
    if kind == "search":
        from tlmsim.explore.search import load_search, prepare

        spec = load_search(path)
        prepare(spec, f)
        return (f"search, {spec.trials} trials over {', '.join(spec.parameters)} minimising "
                f"{' and '.join(spec.objectives)}, platform {spec.platform}, workload {spec.workload or 'default'}")
    # a platform (or a file whose keys do not tell: the platform schema explains what is wrong)
    p = load_platform(path)
    # connect and check: build the components and plan the default workload
    import simpy

    from tlmsim.engine.recorder import Recorder
    from tlmsim.soc.build import build

    try:
        build(p, load_workload(None, seed=0), simpy.Environment(), Recorder())
    except MappingError as exc:
        raise MappingError(f"{f}: with the default workload: {exc}") from None
    cores = p.pe_array.cores
    arrays = f"{cores} arrays of " if cores > 1 else "array "
    return f"platform {p.name}, DRAM {p.dram.preset}, {arrays}{p.pe_array.rows}x{p.pe_array.cols}"


def cmd_validate(args) -> int:
    failed = 0
    for f in args.files:
        try:
            print(f"ok  {f}: {_validate_one(f)}")
        except TlmsimError as exc:
            failed += 1
            print(f"tlmsim: error: {exc}", file=sys.stderr)
    return EXIT_USAGE if failed else 0


def cmd_compare(args) -> int:
    from tlmsim.compare import compare_platforms, level_table
    from tlmsim.progress import wanted

    bar = None
    if wanted(args.quiet):
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: the workers can then start by a plain fork
        bar = tqdm(total=len(args.platforms), desc="compare", unit="platform", delay=1.0, leave=False)
    try:
        table, png = compare_platforms(args.platforms, args.workload, out_dir=args.out, seed=args.seed,
                                       overrides=list(args.set or []), jobs=args.jobs,
                                       on_done=(lambda _i: bar.update(1)) if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table[["platform", "latency_cycles", "latency_ns", "energy_pj", "edp_pj_ns", "dram_bytes"]].to_string(index=False))
        print()
        print(level_table(table).to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {Path(args.out) / 'compare.csv'} and {png}, and per platform <platform>_roofline.png, "
          "<platform>_latency_breakdown.png and <platform>_energy_breakdown.png")
    return 0


def cmd_bench(args) -> int:
    from tlmsim.bench.dram import format_bench, run_dram_bench

    overrides = {}
    for item in args.set or []:
        if "=" not in item:
            raise ConfigError("expected KEY=VALUE", file="--set", value=item)
        k, v = item.split("=", 1)
        import yaml

        overrides[k.strip()] = yaml.safe_load(v)
    df = run_dram_bench(preset=args.preset, pattern=args.pattern, requests=args.requests, seed=args.seed,
                        overrides=overrides or None, block_bytes=args.block_bytes, outstanding=args.outstanding,
                        streams=args.streams, write_every=args.write_every)
    print(format_bench(df, args.format))
    from tlmsim.kernels import describe

    # the table format is for people: the build that ran is its last line; csv stays plain csv
    print(describe(), file=sys.stdout if args.format == "table" else sys.stderr)
    return 0


def cmd_platforms(args) -> int:
    from tlmsim.platform import load_platform
    from tlmsim.resources import DEFAULT_PLATFORM, shipped

    for name, path in shipped("platforms").items():
        p = load_platform(path)
        mark = "*" if name == DEFAULT_PLATFORM else " "
        print(f"{mark} {name:20s} {p.description}")
    return 0


def cmd_workloads(args) -> int:
    from tlmsim.resources import DEFAULT_WORKLOAD, shipped
    from tlmsim.workload import load_workload

    for name, path in shipped("workloads").items():
        w = load_workload(path, seed=0)
        mark = "*" if name == DEFAULT_WORKLOAD else " "
        print(f"{mark} {name:20s} {len(w.layers):3d} layers  T={w.timesteps:<3d} {w.description}")
    return 0


def cmd_workloads_show(args) -> int:
    import pandas as pd

    from tlmsim.workload import describe_spikes, load_workload, read_spike_file

    src = str(args.file)
    samples = None
    if src.endswith(".npz"):
        spikes, samples = read_spike_file(src)
        label = f"recorded ({Path(src).name}" + (f", {samples} samples)" if samples else ")")
    else:
        w = load_workload(src, seed=args.seed)
        spikes, label = w.spikes, w.spike_source
    df = describe_spikes(spikes, samples=samples is not None)
    print(f"{src}: {len(df)} layers, spikes {label}")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 60):
        print(df.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


def cmd_workloads_record(args) -> int:
    import numpy as np

    from tlmsim.errors import WorkloadError
    from tlmsim.outputs import output_file
    from tlmsim.snn.encoding import encode
    from tlmsim.snn.graph import load_nir
    from tlmsim.snn.refsim import simulate_graph
    from tlmsim.snn.to_workload import graph_layers, layer_spikes
    from tlmsim.workload import describe_spikes, random_input_streams, save_spike_trace

    graph = load_nir(args.model)
    if len(graph.inputs) != 1:
        raise WorkloadError("recording needs a graph with one Input node", file=str(args.model))
    shape = graph.inputs[0].out_shape
    if args.input:
        try:
            x = np.load(args.input, allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - any unreadable file becomes one line
            raise WorkloadError(f"not a readable .npy array ({type(exc).__name__})", file=args.input) from None
        if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != shape or x.dtype.kind not in "biuf":
            raise WorkloadError(f"expected a numeric array of shape (samples, *{list(shape)}), got "
                                f"{list(x.shape)} {x.dtype}", file=args.input)
        if not np.all(np.isfinite(x)):
            raise WorkloadError("the inputs hold NaN or inf", file=args.input)
        x = x[: args.samples].astype(np.float64)
    output_file(args.out, "--out")  # before the reference simulation
    # independent streams: random inputs from one, the encoder's draws from the other
    values, encoder = random_input_streams(args.seed)
    if not args.input:
        x = values.random((args.samples, *shape))
    _, feeds = graph_layers(graph)
    stim = np.stack([encode(args.encoding, x[i], args.timesteps, rng=encoder) for i in range(len(x))], axis=1)
    result = simulate_graph(graph, stim.astype(np.float64))
    spikes = layer_spikes(graph, result.outputs, feeds, sample=None)
    save_spike_trace(Path(args.out), spikes, samples=len(x))
    df = describe_spikes(spikes, samples=True)
    print(df[["layer", "shape", "density", "silent_fraction"]].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {args.out}: {len(x)} samples x {args.timesteps} timesteps, {args.encoding} encoding")
    return 0


def cmd_sweep(args) -> int:
    from tlmsim.explore.sweep import load_sweep, run_sweep
    from tlmsim.progress import wanted

    spec = load_sweep(args.file)
    df, computed = run_sweep(spec, args.out, workers=args.workers, scheduler=args.scheduler,
                             progress=wanted(args.quiet or args.no_progress), file=args.file)
    ok = int((df["status"] == "ok").sum()) if len(df) else 0
    print(f"{len(df)} points ({computed} run now, {len(df) - computed} from earlier results): {ok} ok, "
          f"{len(df) - ok} failed; wrote {args.out}/results.csv")
    if len(df) and not ok:
        print(f"tlmsim: every point failed; see the error column of {args.out}/results.csv", file=sys.stderr)
        return EXIT_NO_RESULT
    return 0


def cmd_search(args) -> int:
    from tlmsim.explore.search import load_search, run_search
    from tlmsim.progress import wanted

    spec = load_search(args.file)
    df, ran = run_search(spec, args.out, workers=args.workers, scheduler=args.scheduler,
                         progress=wanted(args.quiet or args.no_progress), file=args.file)
    states = df["status"].value_counts().to_dict() if len(df) else {}
    summary = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    print(f"{len(df)} trials ({ran} run now): {summary}; wrote {args.out}/trials.csv, {args.out}/best.yaml")
    if len(df) and not states.get("ok"):
        print(f"tlmsim: no trial was feasible and ran; see the error column of {args.out}/trials.csv",
              file=sys.stderr)
        return EXIT_NO_RESULT
    return 0


def _cluster_options(p: argparse.ArgumentParser, what: str) -> None:
    """Where sweep and search run their points: --workers, --scheduler, --quiet."""
    p.add_argument("--workers", type=_non_negative, default=None,
                   help=f"LocalCluster worker processes (default: one per core; 0: serial, no Dask; without "
                   f"--workers and --scheduler, at most 4 {what} to run go serially)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786")
    _quiet(p)
    p.add_argument("--no-progress", action="store_true", help="the same as --quiet")


def _quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (shown on a terminal only, for runs longer than a second)")


def _non_negative(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return v


class _Version(argparse.Action):
    """``--version``: the version and which build of the DRAM model runs (compiled or pure
    Python, tlmsim/kernels.py); the DRAM model is imported only when this is asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from tlmsim.kernels import describe

        print(f"tlmsim {__version__} ({describe(every=True)})")  # on stdout, as argparse's version action
        parser.exit()


def make_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``tlmsim`` parser. Every command is listed (``tlmsim --help``, the choices of an
    unknown command); given ``command`` (what :func:`main` finds in the arguments), only that
    command's own arguments are added: argparse makes a help formatter for every argument and
    looks up gettext translations for every parser, about 15 M instructions for the whole
    parser, 8 M with the arguments of ``run`` alone."""
    from tlmsim.resources import DEFAULT_PLATFORM, DEFAULT_WORKLOAD

    def wanted(name: str) -> bool:
        return command is None or command == name

    p = _Parser(prog="tlmsim", description="Transaction-level simulator of SNN accelerators.",
                epilog="Exit status: 0 done; 1 a sweep or search with no result (every point failed); "
                "2 bad input or an output path that cannot be written; 130 interrupted.")
    p.add_argument("--version", action=_Version, help="show the version and which DRAM model build runs, and exit")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    r = sub.add_parser("run", help="simulate a workload on a platform")
    r.set_defaults(func=cmd_run)
    if wanted("run"):
        _run_arguments(r)

    pt = sub.add_parser("plot", help="draw a finished run's roofline and latency-by-cause plots (PNG)")
    pt.set_defaults(func=cmd_plot)
    if wanted("plot"):
        pt.add_argument("outdir", help="the --out directory of a finished `tlmsim run`")

    v = sub.add_parser("validate", help="check platforms, workloads, spike traces, sweep and search files")
    v.set_defaults(func=cmd_validate)
    if wanted("validate"):
        v.add_argument("files", nargs="+", metavar="FILE|NAME",
                       help="a platform or workload (file or shipped name), a spike trace (.npz), a sweep or search "
                       "file (told apart by their keys)")

    c = sub.add_parser("compare", help="run several platforms on one workload, side by side")
    c.set_defaults(func=cmd_compare)
    if wanted("compare"):
        c.add_argument("platforms", nargs="+", metavar="PLATFORM", help="platform YAMLs or shipped names")
        c.add_argument("--workload", help=f"workload YAML or shipped name (default: {DEFAULT_WORKLOAD})")
        c.add_argument("--out", default="tlmsim-compare", metavar="DIR", help="output directory (default: tlmsim-compare)")
        c.add_argument("--seed", type=_seed, default=0)
        c.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", help="override applied to every platform")
        c.add_argument("--jobs", type=_positive, default=None,
                       help="platforms run at once, one process each (default: the cores available)")
        _quiet(c)

    b = sub.add_parser("bench", help="characterise a component")
    if wanted("bench"):
        _bench_arguments(b)

    sw = sub.add_parser("sweep", help="run a grid or random sample of platform variants on Dask")
    sw.set_defaults(func=cmd_sweep)
    if wanted("sweep"):
        sw.add_argument("file", help="sweep YAML (platform, workload, parameters, mode)")
        sw.add_argument("--out", default="tlmsim-sweep", metavar="DIR", help="output directory (results.csv; resumable)")
        _cluster_options(sw, "points")

    se = sub.add_parser("search", help="Optuna search of platform parameters for EDP under an area budget")
    se.set_defaults(func=cmd_search)
    if wanted("search"):
        se.add_argument("file", help="search YAML (platform, workload, parameters, objectives, area budget)")
        se.add_argument("--out", default="tlmsim-search", metavar="DIR", help="output directory (study.db: resumable)")
        _cluster_options(se, "trials")

    pl = sub.add_parser("platforms", help="list the shipped platforms")
    pl.set_defaults(func=cmd_platforms)
    w = sub.add_parser("workloads", help="shipped workloads")
    if wanted("workloads"):
        _workloads_arguments(w)
    return p


def _run_arguments(r: argparse.ArgumentParser) -> None:
    from tlmsim.resources import DEFAULT_PLATFORM, DEFAULT_WORKLOAD

    r.add_argument("platform", nargs="?",
                   help=f"platform YAML or shipped name (default: {DEFAULT_PLATFORM}; see `tlmsim platforms`)")
    r.add_argument("workload", nargs="?",
                   help=f"workload (YAML, .nir graph, topology .csv) or shipped name (default: {DEFAULT_WORKLOAD}; "
                   "see `tlmsim workloads list`); a lone workload runs on the default platform")
    r.add_argument("--out", default="tlmsim-out", metavar="DIR",
                   help="output directory, created if missing (default: tlmsim-out)")
    r.add_argument("--seed", type=_seed, default=0, help="seed of the synthetic spikes (default 0)")
    r.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", help="override a platform key (repeatable)")
    r.add_argument("--dataflow", choices=_DataflowNames(), metavar="NAME",
                   help="override the platform's dataflow.name: %(choices)s")
    r.add_argument("--trace", metavar="FILE.csv", help="stream one row per transaction per hop to FILE.csv")
    _quiet(r)
    r.add_argument("--verify", action="store_true",
                   help="compute every tile in fixed point and check all layers' outputs bit-exactly against the "
                   "fixed-point reference (NIR workloads)")
    r.add_argument("--perfetto", metavar="FILE.pftrace",
                   help="write a Perfetto timeline of every transaction (open at https://ui.perfetto.dev)")
    r.add_argument("--plots", action="store_true",
                   help="also write roofline.png and latency_breakdown.png (per layer) to the output directory")
    r.add_argument("--no-parquet", action="store_true",
                   help="write the tables as CSV only, also when pyarrow is installed (the Parquet copies need "
                   "pandas and pyarrow loaded)")


def _bench_arguments(b: argparse.ArgumentParser) -> None:
    bsub = b.add_subparsers(dest="what", metavar="WHAT", parser_class=_Parser, required=True)
    bd = bsub.add_parser("dram", help="drive one DRAM configuration with 64-byte requests")
    bd.add_argument("--preset", default="DDR4-3200")
    bd.add_argument("--pattern", choices=["seq", "random", "mixed", "light", "dma"], default="seq")
    bd.add_argument("--block-bytes", type=_positive, default=4096, help="dma: bytes per block")
    bd.add_argument("--outstanding", type=_positive, default=4, help="dma: blocks in flight per stream")
    bd.add_argument("--streams", type=_positive, default=1, help="dma: sequential block streams")
    bd.add_argument("--write-every", type=int, default=0, metavar="N", help="dma: every Nth block is a write (0: none)")
    bd.add_argument("--requests", type=_positive, default=20000)
    bd.add_argument("--seed", type=_seed, default=1)
    bd.add_argument("--format", choices=["table", "csv"], default="table")
    bd.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a dram key (e.g. page_policy=closed)")
    bd.set_defaults(func=cmd_bench)


def _workloads_arguments(w: argparse.ArgumentParser) -> None:
    wsub = w.add_subparsers(dest="what", metavar="WHAT", parser_class=_Parser, required=True)
    wl = wsub.add_parser("list", help="list the shipped workloads")
    wl.set_defaults(func=cmd_workloads)
    ws = wsub.add_parser("show", help="per-layer spike statistics of a spike trace (.npz) or a workload")
    ws.add_argument("file", help="a spike trace .npz, a workload YAML or a shipped workload's name")
    ws.add_argument("--seed", type=_seed, default=0, help="seed of synthetic spikes (workloads without a trace)")
    ws.set_defaults(func=cmd_workloads_show)
    wr = wsub.add_parser("record", help="record every layer's input spikes of a NIR graph (reference simulator)")
    wr.add_argument("model", help="a NIR graph (.nir)")
    wr.add_argument("--samples", type=_positive, default=1)
    wr.add_argument("--timesteps", type=_positive, default=8)
    wr.add_argument("--encoding", choices=["rate", "ttfs", "direct"], default="rate")
    wr.add_argument("--input", help="inputs in [0, 1] as a .npy array (samples, *input_shape); default random")
    wr.add_argument("--seed", type=_seed, default=0,
                    help="seed of the random inputs and of the rate encoder (independent streams)")
    wr.add_argument("--out", required=True, metavar="FILE.npz", help="the spike trace to write (.npz; folders created if missing)")
    wr.set_defaults(func=cmd_workloads_record)


def _command(argv: Sequence[str] | None) -> str | None:
    """The command the arguments name: the first that is not an option (no top-level option
    takes a value), or None."""
    return next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser(_command(argv))
    args = parser.parse_args(argv)
    if _OWN_PROCESS and getattr(args, "func", None) is not cmd_run:
        import gc

        gc.enable()  # off since entry(); only run keeps it off, until its inputs are loaded
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except TlmsimError as exc:
        if args.debug:
            raise
        print(f"tlmsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tlmsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


#: the variables that set OpenBLAS's thread count, in the order it reads them
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def one_blas_thread(environ) -> None:
    """Give NumPy's OpenBLAS one thread, unless the user chose a count (any of
    :data:`BLAS_THREAD_VARIABLES` set). Called before NumPy is imported: OpenBLAS starts its
    thread pool (one thread per core) when it loads, and on this project's 2-core machine the
    pool's start alone costs ``import numpy`` 0.05 CPU s more (0.10 against 0.05) and the
    five-dense ``tlmsim run`` about 0.10 CPU s (median of 20 alternated runs: 0.631 -> 0.528;
    docs/performance.md, "Session 17"). tlmsim's matrix products are small (per-layer
    bookkeeping and the reference SNN), so it gains nothing from the threads; one thread also
    sums them in one order on every machine, and `compare --jobs` and sweep workers, which
    inherit the environment, do not start a pool per process."""
    if not any(v in environ for v in BLAS_THREAD_VARIABLES):
        environ["OPENBLAS_NUM_THREADS"] = "1"


def entry() -> None:
    """The ``tlmsim`` command (the console script and ``python -m tlmsim``): :func:`main`
    in a process of its own. When the command says that nothing it wrote is left open
    (``run``), the process ends with ``os._exit`` once stdout and stderr are flushed,
    skipping the interpreter's teardown: a last collection and freeing every object of
    numpy, pandas, pydantic and the run one by one, which no output needs (about 2 % of
    the instructions of the five-dense run). Any other ending (an error, another command)
    exits as usual."""
    global _OWN_PROCESS, _NOTHING_LEFT
    _OWN_PROCESS, _NOTHING_LEFT = True, False
    one_blas_thread(os.environ)
    # No cyclic collection while the modules and the inputs load: its passes would walk the
    # growing import-time heap (numpy, pydantic, the platform models) again and again, about
    # 40 M instructions of the five-dense run (1 %), to free a few hundred objects. Parsing the
    # arguments may import the models already (--dataflow's names), so it is turned off here;
    # main() turns it on again for every command but run, and cmd_run once its inputs are
    # loaded (with the import-time heap frozen).
    import gc

    gc.disable()
    code = main()
    if _NOTHING_LEFT:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):  # stdout piped into a reader that has gone, or closed: exit as usual
            raise SystemExit(code) from None
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
