"""The run loop that tools/bench/levels.py and scaling.py share: one workload, per dataflow
a run (seed 0) of each variant of the platform, and the report of each."""

from __future__ import annotations

from collections.abc import Iterator

from tlmsim.platform import load_platform
from tlmsim.report import Report, build_report
from tlmsim.soc.run import simulate


def reports(workload, dataflows: list[str], variants: list[tuple[str, list[str]]],
            sets: list[str]) -> Iterator[tuple[str, int, Report]]:
    """For each dataflow, then each variant ``(platform file, overrides)`` in order, the
    report of the run of ``workload`` (seed 0) with ``dataflow.name``, the variant's
    overrides and then ``sets`` (``KEY=VALUE``): yields ``(dataflow, variant index, report)``."""
    for df in dataflows:
        for i, (platform, overrides) in enumerate(variants):
            plat = load_platform(platform, [f"dataflow.name={df}", *overrides, *sets])
            yield df, i, build_report(simulate(plat, workload, seed=0))
