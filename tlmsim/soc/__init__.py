"""The SoC: assembled from the platform declaration and run.

:mod:`tlmsim.soc.build` builds the components (:mod:`tlmsim.hw`) and the layer plans
(:mod:`tlmsim.dataflow`) and checks they fit; :mod:`tlmsim.soc.run` runs them
(:func:`simulate`) and returns a :class:`RunResult`. This package sits above the
hardware and the dataflows; the kernel (:mod:`tlmsim.engine`) sits below both.
"""

from __future__ import annotations

from tlmsim.soc.build import build, check_plans
from tlmsim.soc.run import RunResult, run_guarded, simulate

__all__ = ["RunResult", "build", "check_plans", "run_guarded", "simulate"]
