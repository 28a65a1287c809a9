"""Generate SCALE-Sim golden compute cycles for tlmsim's dense dataflow tests.

What it does
    For every (layer, dataflow, array) in LAYERS x DATAFLOWS x ARRAYS it writes a
    SCALE-Sim config, topology and layout file into a fresh temporary directory, runs
    SCALE-Sim's command line on them, reads the layer's row of COMPUTE_REPORT.csv and
    deletes everything else SCALE-Sim wrote (3.0.0 always writes per-cycle SRAM/DRAM
    traces: its ``-s N`` flag is parsed but ignored). The result is one CSV row per
    run: the layer shape, its GEMM view (M output pixels, K = filter_h * filter_w *
    channels, N filters), SCALE-Sim's "Total Cycles" (not "Total Cycles (incl.
    prefetch)", which adds the DRAM fill), "Stall Cycles" and "Compute Util %" as
    reported, and ``formula_cycles``, the closed-form fold model of
    docs/reference/scalesim_notes.md, so the file itself shows whether that model
    reproduces SCALE-Sim.

    SCALE-Sim runs with its default bandwidth mode (InterfaceBandwidth = CALC), which
    never stalls, and with SRAMs large enough for every operand of every layer.
    SCALE-Sim has no padding: a padded layer is given its padded ifmap (a 3x3, pad 1
    conv on 32x32 becomes a 34x34 ifmap).

How to run it
    SCALE-Sim 3.0.0 needs numpy < 2, so it lives in its own virtual environment; the
    tlmsim package does not depend on it::

        python3 -m venv /work/scalesim-venv
        /work/scalesim-venv/bin/pip install scalesim==3.0.0 "numpy<2" "pandas<2.3"
        /work/scalesim-venv/bin/python tools/scalesim_golden.py \\
            --out tests/golden/scalesim_compute_cycles.csv

    ``--jobs`` sets how many SCALE-Sim processes run at once (default 2); ``--timings``
    writes the wall time of each run to a second CSV. The 54 runs take about 9 minutes
    with two jobs on two cores (from under a second for a small FC layer to about two
    minutes for the 4096x1024 FC layer, weight stationary, 16x16).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import math
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import pandas as pd

LOG = logging.getLogger("scalesim_golden")

DATAFLOWS = ("os", "ws", "is")
"""SCALE-Sim's dense dataflows: output, weight and input stationary."""

ARRAYS = ((16, 16), (32, 32))
"""Systolic array sizes as (rows, cols) in processing elements."""

SRAM_KIB = 8192
"""Each of the ifmap, filter and ofmap SRAMs, in KiB (1-byte words): holds the largest
operand below (the 4096 x 1024 FC filter matrix) in one half of the double buffer."""

COLUMNS = (
    "layer", "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters",
    "stride", "dataflow", "rows", "cols", "M", "K", "N", "total_cycles", "stall_cycles",
    "compute_util", "scalesim_version", "formula_cycles",
)
"""Columns of the golden CSV, in order. Cycle columns are in array clock cycles;
``compute_util`` is SCALE-Sim's "Compute Util %" (percent), copied as reported."""


@dataclass(frozen=True, kw_only=True)
class ConvLayer:
    """A convolution as SCALE-Sim sees it: no padding, square stride.

    ``ifmap_h``/``ifmap_w`` are the already padded input size in pixels. A
    fully-connected layer is a 1x1 conv on a 1x1 ifmap.
    """

    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filters: int
    stride: int

    def __post_init__(self) -> None:
        spans = (("h", self.ifmap_h - self.filter_h), ("w", self.ifmap_w - self.filter_w))
        for dim, size in spans:
            if size < 0 or size % self.stride:
                # SCALE-Sim sizes the ofmap as ceil((in - filter + stride) / stride), one
                # more pixel than a real conv when the last window does not fit.
                raise ValueError(
                    f"layer {self.name!r}: ifmap_{dim} - filter_{dim} = {size} is not a "
                    f"non-negative multiple of stride {self.stride}; SCALE-Sim would round "
                    "the ofmap size up (adjust the padded ifmap size)"
                )

    @property
    def gemm_mkn(self) -> tuple[int, int, int]:
        """(M, K, N): output pixels, filter window size x channels, filters."""
        ofmap_h = (self.ifmap_h - self.filter_h) // self.stride + 1
        ofmap_w = (self.ifmap_w - self.filter_w) // self.stride + 1
        return (
            ofmap_h * ofmap_w,
            self.filter_h * self.filter_w * self.channels,
            self.num_filters,
        )


LAYERS = (
    # CIFAR-10 VGG/ResNet first conv: 32x32x3, 3x3 pad 1 -> ifmap 34x34.
    ConvLayer(name="cifar_conv1_3to64", ifmap_h=34, ifmap_w=34, filter_h=3, filter_w=3,
              channels=3, num_filters=64, stride=1),
    ConvLayer(name="cifar_conv_64to64", ifmap_h=34, ifmap_w=34, filter_h=3, filter_w=3,
              channels=64, num_filters=64, stride=1),
    ConvLayer(name="cifar_conv_128to128", ifmap_h=18, ifmap_w=18, filter_h=3, filter_w=3,
              channels=128, num_filters=128, stride=1),
    # VGG16 CIFAR-10 block 3 conv: 8x8 pad 1 -> 10x10.
    ConvLayer(name="vgg_conv_256to256", ifmap_h=10, ifmap_w=10, filter_h=3, filter_w=3,
              channels=256, num_filters=256, stride=1),
    ConvLayer(name="cifar_conv_256to512", ifmap_h=6, ifmap_w=6, filter_h=3, filter_w=3,
              channels=256, num_filters=512, stride=1),
    ConvLayer(name="conv1x1_128to256", ifmap_h=16, ifmap_w=16, filter_h=1, filter_w=1,
              channels=128, num_filters=256, stride=1),
    # ResNet-18 downsampling conv: 32x32, 3x3, pad 1, stride 2 -> 16x16. The last padded
    # row/column is never read at stride 2, so the ifmap given to SCALE-Sim is 33x33.
    ConvLayer(name="conv_s2_64to128", ifmap_h=33, ifmap_w=33, filter_h=3, filter_w=3,
              channels=64, num_filters=128, stride=2),
    ConvLayer(name="fc_4096to1024", ifmap_h=1, ifmap_w=1, filter_h=1, filter_w=1,
              channels=4096, num_filters=1024, stride=1),
    ConvLayer(name="fc_512to10", ifmap_h=1, ifmap_w=1, filter_h=1, filter_w=1,
              channels=512, num_filters=10, stride=1),
)


def formula_cycles(layer: ConvLayer, dataflow: str, rows: int, cols: int) -> int:
    """Closed-form SCALE-Sim compute cycles (docs/reference/scalesim_notes.md), stall-free.

    Each dataflow pins two GEMM dimensions on the array (rows x cols) and streams the
    third; every fold, partial or not, costs the same and folds do not overlap.
    """
    m, k, n = layer.gemm_mkn
    if dataflow == "os":  # M on rows, N on columns, K streamed
        row_dim, col_dim, per_fold = m, n, k + rows + cols - 2
    elif dataflow == "ws":  # K on rows, N on columns, M streamed
        row_dim, col_dim, per_fold = k, n, 2 * rows + cols + m - 2
    elif dataflow == "is":  # K on rows, M on columns, N streamed
        row_dim, col_dim, per_fold = k, m, 2 * rows + cols + n - 2
    else:
        raise ValueError(f"dataflow {dataflow!r} is not one of {DATAFLOWS}")
    folds = math.ceil(row_dim / rows) * math.ceil(col_dim / cols)
    return folds * per_fold - 1


def config_text(run_name: str, dataflow: str, rows: int, cols: int) -> str:
    """A SCALE-Sim 3.0.0 config: CALC bandwidth mode, default layouts, no sparsity."""
    return f"""\
[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
IfmapSramSzkB = {SRAM_KIB}
FilterSramSzkB = {SRAM_KIB}
OfmapSramSzkB = {SRAM_KIB}
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Dataflow = {dataflow}
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False

[layout]
IfmapCustomLayout = False
FilterCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false
"""


def topology_text(layer: ConvLayer) -> str:
    """SCALE-Sim conv topology: a header and one row, each ending with a comma."""
    header = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
              "Channels, Num Filter, Strides,")
    return f"{header}\n{', '.join(str(v) for v in astuple(layer))},\n"


def layout_text(layer: ConvLayer) -> str:
    """A layout file: required by the CLI, but unused with the custom layouts off.

    Fields after the name: six intraline factors (1 = no interleaving), then the
    ifmap intraline and interline orders (3 each) and the filter intraline and
    interline orders (4 each), each a permutation of dimension indices.
    """
    values = [1] * 6 + [0, 1, 2] * 2 + [0, 1, 2, 3] * 2
    return "Layer name, layout fields,\n" + f"{layer.name}, {', '.join(map(str, values))},\n"


def run_one(layer: ConvLayer, dataflow: str, rows: int, cols: int,
            version: str) -> tuple[dict[str, object], float]:
    """Run SCALE-Sim on one layer; return its golden row and the wall time in seconds."""
    run_name = f"{layer.name}_{dataflow}_{rows}x{cols}"
    with tempfile.TemporaryDirectory(prefix=f"scalesim_{run_name}_") as tmp:
        work = Path(tmp)
        cfg, topo, layout = work / "scale.cfg", work / "topology.csv", work / "layout.csv"
        cfg.write_text(config_text(run_name, dataflow, rows, cols))
        topo.write_text(topology_text(layer))
        layout.write_text(layout_text(layer))
        out_dir = work / "out"
        cmd = [sys.executable, "-m", "scalesim.scale", "-c", str(cfg), "-t", str(topo),
               "-l", str(layout), "-p", str(out_dir)]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        report_path = out_dir / run_name / "COMPUTE_REPORT.csv"
        if proc.returncode != 0 or not report_path.is_file():
            raise RuntimeError(
                f"SCALE-Sim failed on {run_name} (exit {proc.returncode}, "
                f"report {'found' if report_path.is_file() else 'missing'}): "
                f"{' '.join(cmd)}\n{proc.stderr[-2000:] or proc.stdout[-2000:]}"
            )
        report = pd.read_csv(report_path, skipinitialspace=True, float_precision="round_trip")
    # The temporary directory, with SCALE-Sim's per-cycle traces, is gone here.
    if len(report) != 1:
        raise RuntimeError(
            f"{run_name}: expected one layer in COMPUTE_REPORT.csv, got {len(report)}"
        )
    reported = report.iloc[0]
    m, k, n = layer.gemm_mkn
    row = {f.name: getattr(layer, f.name) for f in fields(layer)}
    row["layer"] = row.pop("name")
    row.update(
        dataflow=dataflow, rows=rows, cols=cols, M=m, K=k, N=n,
        total_cycles=int(reported["Total Cycles"]),
        stall_cycles=int(reported["Stall Cycles"]),
        compute_util=float(reported["Compute Util %"]),
        scalesim_version=version,
        formula_cycles=formula_cycles(layer, dataflow, rows, cols),
    )
    return row, seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="golden CSV to write")
    parser.add_argument("--jobs", type=int, default=2, help="SCALE-Sim processes at once")
    parser.add_argument("--timings", type=Path, help="also write each run's wall time (s) here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    try:
        version = importlib.metadata.version("scalesim")
    except importlib.metadata.PackageNotFoundError:
        parser.error(f"scalesim is not installed for {sys.executable}; run this script "
                     "with the SCALE-Sim virtual environment's python (see the docstring)")

    runs = [(layer, df, r, c) for layer in LAYERS for df in DATAFLOWS for r, c in ARRAYS]

    def job(run: tuple[ConvLayer, str, int, int]) -> tuple[dict[str, object], float]:
        row, seconds = run_one(*run, version=version)
        LOG.info("%-22s %s %2dx%-2d total=%-8d formula=%-8d stalls=%d  %.1f s",
                 row["layer"], row["dataflow"], row["rows"], row["cols"],
                 row["total_cycles"], row["formula_cycles"], row["stall_cycles"], seconds)
        return row, seconds

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(job, runs))

    golden = pd.DataFrame([row for row, _ in results], columns=list(COLUMNS))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    golden.to_csv(args.out, index=False)
    mismatches = golden[golden["total_cycles"] != golden["formula_cycles"]]
    LOG.info("wrote %s: %d rows, %d where SCALE-Sim differs from formula_cycles",
             args.out, len(golden), len(mismatches))
    if args.timings:
        timings = golden[["layer", "dataflow", "rows", "cols"]].assign(
            wall_time_s=[round(seconds, 2) for _, seconds in results])
        timings.to_csv(args.timings, index=False)


if __name__ == "__main__":
    main()
