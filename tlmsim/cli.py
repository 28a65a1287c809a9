"""The ``tlmsim`` command line.

    tlmsim run [PLATFORM] [WORKLOAD] [--out DIR] [--seed N] [--set KEY.PATH=VALUE ...] [--trace FILE.csv]
    tlmsim validate FILE...
    tlmsim compare P1 P2 ... [--workload W] [--out DIR]
    tlmsim bench dram --preset NAME --pattern seq|random|mixed|light|dma [--requests N] [--format table|csv]
        [--block-bytes B --outstanding K --streams S --write-every N]
    tlmsim platforms | tlmsim workloads list

Bad input gives one line ``tlmsim: error: ...`` and exit status 2; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from tlmsim import __version__
from tlmsim.errors import ConfigError, MappingError, TlmsimError
from tlmsim.platform.dataflow import DATAFLOWS

EXIT_USAGE = 2


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


def _load(platform_arg, workload_arg, overrides, seed):
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload

    platform = load_platform(platform_arg, overrides)
    workload = load_workload(workload_arg, seed=seed)
    return platform, workload


def _looks_like_workload(arg: str) -> bool:
    """Whether a lone positional argument of ``run`` names a workload, not a platform:
    a .nir/.csv file, a YAML with 'layers' or 'nir', or a shipped workload's name."""
    from tlmsim.resources import shipped

    p = Path(arg)
    if p.suffix.lower() in (".nir", ".csv"):
        return True
    if p.is_file():
        try:
            import yaml

            data = yaml.safe_load(p.read_text(encoding="utf-8")[:1_000_000])
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return False
        return isinstance(data, dict) and ("layers" in data or "nir" in data)
    return arg in shipped("workloads") and arg not in shipped("platforms")


def cmd_run(args) -> int:
    from tlmsim.engine.simulation import simulate
    from tlmsim.report import build_report, console_summary, write_tables

    if args.workload is None and args.platform is not None and _looks_like_workload(args.platform):
        args.platform, args.workload = None, args.platform  # `tlmsim run WORKLOAD` on the default platform
    overrides = list(args.set or [])
    if args.dataflow:
        overrides.append(f"dataflow.name={args.dataflow}")
    platform, workload = _load(args.platform, args.workload, overrides, args.seed)
    try:
        result = simulate(platform, workload, seed=args.seed, trace_path=args.trace, verify=args.verify)
    except MappingError as exc:  # the platform and workload do not fit together: name both
        from tlmsim.resources import DEFAULT_PLATFORM, DEFAULT_WORKLOAD

        raise MappingError(
            f"{args.platform or DEFAULT_PLATFORM} with {args.workload or DEFAULT_WORKLOAD}: {exc}"
        ) from None
    report = build_report(result)
    written = write_tables(report.tables(), args.out)
    print(console_summary(result, report))
    if result.verified:
        print(result.verified)
    print(f"wrote {len(written)} files to {args.out}" + (f"; trace {args.trace}" if args.trace else ""))
    return 0


def cmd_validate(args) -> int:
    from tlmsim.config_io import read_yaml
    from tlmsim.engine.simulation import build
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload

    failed = 0
    for f in args.files:
        try:
            suffix = Path(f).suffix.lower()
            data = {"layers": None} if suffix in (".csv", ".nir", ".npz") else read_yaml(f)
            if suffix == ".npz":
                from tlmsim.workload import read_spike_file

                spikes, samples = read_spike_file(f)
                print(f"ok  {f}: spike trace, {len(spikes)} layers" + (f", {samples} samples" if samples else ""))
            elif "layers" in data or "nir" in data:
                w = load_workload(f, seed=0)
                print(f"ok  {f}: workload {w.name}, {len(w.layers)} layers, T={w.timesteps}, spikes {w.spike_source}")
            else:
                p = load_platform(f)
                # connect and check: build the components and plan the default workload
                import simpy

                from tlmsim.engine.recorder import Recorder

                try:
                    build(p, load_workload(None, seed=0), simpy.Environment(), Recorder())
                except MappingError as exc:
                    raise MappingError(f"{f}: with the default workload: {exc}") from None
                print(f"ok  {f}: platform {p.name}, DRAM {p.dram.preset}, array {p.pe_array.rows}x{p.pe_array.cols}")
        except TlmsimError as exc:
            failed += 1
            print(f"tlmsim: error: {exc}", file=sys.stderr)
    return EXIT_USAGE if failed else 0


def cmd_compare(args) -> int:
    from tlmsim.compare import compare_platforms

    table, png = compare_platforms(args.platforms, args.workload, out_dir=args.out, seed=args.seed,
                                   overrides=list(args.set or []))
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table[["platform", "latency_cycles", "latency_ns", "energy_pj", "edp_pj_ns", "dram_bytes"]].to_string(index=False))
    print(f"wrote {Path(args.out) / 'compare.csv'} and {png}")
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
    from tlmsim.snn.encoding import encode
    from tlmsim.snn.graph import load_nir
    from tlmsim.snn.refsim import simulate_graph
    from tlmsim.snn.to_workload import graph_layers, layer_spikes
    from tlmsim.workload import describe_spikes, save_spike_trace

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
    else:
        x = np.random.default_rng(args.seed).random((args.samples, *shape))
    _, feeds = graph_layers(graph)
    stim = np.stack([encode(args.encoding, x[i], args.timesteps, seed=args.seed + i) for i in range(len(x))], axis=1)
    result = simulate_graph(graph, stim.astype(np.float64))
    spikes = layer_spikes(graph, result.outputs, feeds, sample=None)
    save_spike_trace(Path(args.out), spikes, samples=len(x))
    df = describe_spikes(spikes, samples=True)
    print(df[["layer", "shape", "density", "silent_fraction"]].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {args.out}: {len(x)} samples x {args.timesteps} timesteps, {args.encoding} encoding")
    return 0


def cmd_sweep(args) -> int:
    from tlmsim.explore.sweep import load_sweep, run_sweep

    spec = load_sweep(args.file)
    df, computed = run_sweep(spec, args.out, workers=args.workers, scheduler=args.scheduler,
                             progress=not args.no_progress)
    ok = int((df["status"] == "ok").sum()) if len(df) else 0
    print(f"{len(df)} points ({computed} run now, {len(df) - computed} from earlier results): {ok} ok, "
          f"{len(df) - ok} failed; wrote {args.out}/results.csv")
    return 0


def cmd_search(args) -> int:
    from tlmsim.explore.search import load_search, run_search

    spec = load_search(args.file)
    df, ran = run_search(spec, args.out, workers=args.workers, scheduler=args.scheduler,
                         progress=not args.no_progress)
    states = df["status"].value_counts().to_dict() if len(df) else {}
    summary = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    print(f"{len(df)} trials ({ran} run now): {summary}; wrote {args.out}/trials.csv, {args.out}/best.yaml")
    return 0


def _cluster_options(p: argparse.ArgumentParser) -> None:
    """Where sweep and search run their points: --workers, --scheduler, --no-progress."""
    p.add_argument("--workers", type=int, default=None,
                   help="LocalCluster worker processes (default: one per core; 0: serial, no Dask)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tlmsim", description="Transaction-level simulator of SNN accelerators.")
    p.add_argument("--version", action="version", version=f"tlmsim {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    r = sub.add_parser("run", help="simulate a workload on a platform")
    r.add_argument("platform", nargs="?", help="platform YAML or shipped name (default: ddr4-baseline)")
    r.add_argument("workload", nargs="?", help="workload YAML or shipped name (default: digits-conv)")
    r.add_argument("--out", default="tlmsim-out", help="output directory (default: tlmsim-out)")
    r.add_argument("--seed", type=_seed, default=0, help="seed of the synthetic spikes (default 0)")
    r.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", help="override a platform key (repeatable)")
    r.add_argument("--dataflow", choices=DATAFLOWS, help="override the platform's dataflow.name")
    r.add_argument("--trace", metavar="FILE.csv", help="stream one row per transaction per hop to FILE.csv")
    r.add_argument("--verify", action="store_true",
                   help="compute every tile in fixed point and check all layers' outputs bit-exactly against the "
                   "fixed-point reference (NIR workloads)")
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check platform and workload YAML files")
    v.add_argument("files", nargs="+")
    v.set_defaults(func=cmd_validate)

    c = sub.add_parser("compare", help="run several platforms on one workload, side by side")
    c.add_argument("platforms", nargs="+")
    c.add_argument("--workload", help="workload YAML or shipped name")
    c.add_argument("--out", default="tlmsim-compare")
    c.add_argument("--seed", type=_seed, default=0)
    c.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", help="override applied to every platform")
    c.set_defaults(func=cmd_compare)

    b = sub.add_parser("bench", help="characterise a component")
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

    sw = sub.add_parser("sweep", help="run a grid or random sample of platform variants on Dask")
    sw.add_argument("file", help="sweep YAML (platform, workload, parameters, mode)")
    sw.add_argument("--out", default="tlmsim-sweep", help="output directory (results.csv; resumable)")
    _cluster_options(sw)
    sw.set_defaults(func=cmd_sweep)

    se = sub.add_parser("search", help="Optuna search of platform parameters for EDP under an area budget")
    se.add_argument("file", help="search YAML (platform, workload, parameters, objectives, area budget)")
    se.add_argument("--out", default="tlmsim-search", help="output directory (study.db: resumable)")
    _cluster_options(se)
    se.set_defaults(func=cmd_search)

    pl = sub.add_parser("platforms", help="list the shipped platforms")
    pl.set_defaults(func=cmd_platforms)
    w = sub.add_parser("workloads", help="shipped workloads")
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
    wr.add_argument("--seed", type=_seed, default=0)
    wr.add_argument("--out", required=True, help="the spike trace to write (.npz)")
    wr.set_defaults(func=cmd_workloads_record)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
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
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
