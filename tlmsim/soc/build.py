"""Building the SoC: components from the platform, plans from the dataflow, checked.

:func:`build` turns a validated :class:`~tlmsim.platform.Platform` and a
:class:`~tlmsim.workload.Workload` into connected components (DRAM, NoC, SRAM levels,
PE array, controller) and the layer plans, and checks that they fit together
(:func:`tlmsim.platform.checks.check_platform`, :func:`check_plan` of every layer) before
the first event. The plans are made lazily (:class:`~tlmsim.dataflow.base.LazyPlans`): a
first pass plans and checks every layer and keeps its summary; the controller gets each
layer's tiles when it reaches the layer and drops them once the layer has run. This is the SoC assembly, above the hardware (:mod:`tlmsim.hw`) and the
dataflows (:mod:`tlmsim.dataflow`); the kernel (:mod:`tlmsim.engine`) knows neither.
"""

from __future__ import annotations

import simpy

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.base import LazyPlans
from tlmsim.engine.plan import LayerPlan, LayerSummary
from tlmsim.engine.recorder import Recorder
from tlmsim.errors import ConfigError, MappingError
from tlmsim.hw.controller import Controller, first_tile_over, level_bounds, level_ranges
from tlmsim.hw.dram import Dram
from tlmsim.hw.noc import Noc
from tlmsim.hw.pe_array import PeArray
from tlmsim.hw.sram import Sram
from tlmsim.platform import Platform
from tlmsim.platform.hierarchy import core_name, instance_names
from tlmsim.platform.checks import check_platform, staging_bytes
from tlmsim.verify.dram_timing import DramCommandChecker
from tlmsim.workload import Workload

def check_plans(platform: Platform, plans: list[LayerPlan]) -> None:
    """:func:`check_plan` of every plan."""
    for plan in plans:
        check_plan(platform, plan)


def check_plan(platform: Platform, plan: LayerPlan | LayerSummary) -> bool:
    """Check that a layer plan fits the buffers it runs on, before any event
    (a dataflow that breaks these has a bug; the message names the keys involved):

    * a tile's operands and outputs fit one L1 half (the controller's L1 address map
      puts operands at the bottom of the half, outputs at its top);
    * every SRAM level holds the staging area plus the layer's tensors resident there,
      and every resident tensor lies above the staging area and inside its level;
      with no SRAM level, nothing is resident;
    * with several cores, nothing is stored into a private level nor drained from one
      (outputs and membranes go to a shared level or DRAM: docs/hierarchy.md).

    Returns True. A :class:`~tlmsim.engine.plan.LayerSummary` made without its tiles is
    checked by what it says of them (``l1_tile_bytes``, the largest tile's bytes, and
    ``tile_ranges``, the bytes every tile's move of each resident tensor lies in); where that
    cannot tell (a tile over an L1 half, a range outside its level, a tensor the tiles store
    in a private level, a resident tensor without a level), it returns False: the caller then
    checks the plan with its tiles, which raises naming the tile or the range.
    """
    untiled = isinstance(plan, LayerSummary)
    bufs = platform.buffers
    l1 = bufs.l1
    half = l1.capacity_bytes // 2 if l1.double_buffered else l1.capacity_bytes
    levels = bufs.sram_levels
    staging = staging_bytes(platform)
    name = plan.layer.name
    if untiled:
        if plan.l1_tile_bytes > half:
            return False
    else:
        t = first_tile_over(plan, half)
        if t is not None:
            raise MappingError(
                f"layer {name!r} tile {t.index}: operands {t.load_bytes} + outputs {t.store_bytes} bytes exceed an "
                f"L1 half of {half} bytes (buffers.l1.capacity_bytes, buffers.l1.double_buffered)"
            )
    if not levels:
        if plan.resident_bytes or plan.prologue or plan.epilogue or (not untiled and any(
                not m.in_dram for t in plan.tiles for m in (*t.loads, *t.stores))):
            raise MappingError(f"layer {name!r}: a tensor is planned resident on chip, but buffers.levels "
                               "declares no SRAM level")
        return not (untiled and plan.tile_ranges)
    n = len(levels)
    if platform.pe_array.cores > 1:
        for mv in (*plan.epilogue, *(() if untiled else (m for t in plan.tiles for m in t.stores if not m.in_dram))):
            if levels[mv.level % n].sharing == "private":
                raise MappingError(f"layer {name!r}: outputs or membranes are planned in the private level "
                                   f"{levels[mv.level % n].name!r}, which with several cores holds only what a "
                                   "layer reads")
        if untiled and any(stored and levels[lv % n].sharing == "private"
                           for _t, lv, _lo, _hi, stored in plan.tile_ranges):
            return False
    resident = [0] * n
    for lv, nbytes in plan.resident_bytes.items():
        resident[lv % n] += nbytes
    for i, lv in enumerate(levels):
        key = f"{bufs.level_key(i)}.capacity_bytes"
        cap = lv.capacity_bytes
        if resident[i] + staging > cap:
            raise MappingError(
                f"layer {name!r}: resident tensors ({resident[i]} bytes) and DMA staging ({staging} bytes) "
                f"exceed {key} ({cap})"
            )
        # (the lowest and the highest byte: merging only for the message)
        bounds = _untiled_bounds(plan, i, n) if untiled else level_bounds(plan, i, n)
        if bounds is None or (bounds[0] >= staging and bounds[1] <= cap):
            continue
        if untiled:
            return False
        for lo, hi in level_ranges(plan, i, n):
            if lo < staging or hi > cap:
                raise MappingError(
                    f"layer {name!r}: a resident tensor at {lv.name} bytes {lo}..{hi} is outside "
                    f"{staging}..{cap} (above the DMA staging area, inside {key})"
                )
    return True


def _untiled_bounds(summary: LayerSummary, level: int, nlevels: int) -> tuple[int, int] | None:
    """:func:`~tlmsim.hw.controller.level_bounds` of a plan made without its tiles, from its
    prologue, its epilogue and its ``tile_ranges`` (which hold every tile's move there)."""
    ends = [(m.level_address, m.level_address + m.nbytes) for m in (*summary.prologue, *summary.epilogue)
            if m.level % nlevels == level and m.nbytes > 0]
    ends += [(lo, hi) for _t, lv, lo, hi, _s in summary.tile_ranges if lv % nlevels == level and hi > lo]
    if not ends:
        return None
    return min(e[0] for e in ends), max(e[1] for e in ends)


def build(platform: Platform, workload: Workload, env: simpy.Environment, recorder: Recorder):
    """Build the components and the layer plans, and check that they fit together
    (raises before any event runs). Returns ``(components by name, controller, plans)``,
    the plans a :class:`~tlmsim.dataflow.base.LazyPlans` (its ``summaries``: every layer's
    plan without the tiles)."""
    check_platform(platform)
    period = platform.clock_period_ps
    bufs = platform.buffers
    # the command log feeds the independent timing checker chunk by chunk during every run
    checker = DramCommandChecker(platform.dram.resolve(), limit=5)
    dram = Dram(name="dram", env=env, recorder=recorder, config=platform.dram, command_sink=checker.feed)
    dram.checker = checker
    ncores = platform.pe_array.cores
    noc = Noc(name="noc", env=env, recorder=recorder, config=platform.noc, accel_clock_mhz=platform.clock_mhz,
              cores=ncores)
    l1_names = [core_name("l1", c, ncores) for c in range(ncores)]
    #: per level its instances' names: one (shared, or one core), or one per core (private: l2_0, l2_1, ...)
    names = [instance_names(lv.name, lv.sharing == "private", ncores) for lv in bufs.sram_levels]
    ends = ("dram", *(n for ns in names for n in ns), *l1_names)
    for a in ends:
        for b in ends:
            if a != b:
                try:
                    noc.hop_count(a, b)
                except (KeyError, ValueError, ConfigError) as exc:
                    raise ConfigError(
                        f"the NoC must connect the endpoints {', '.join(ends)} ({exc})", key="noc.nodes"
                    ) from None
    # one buffer per shared level, one per core for a private level (with one core: one buffer either way)
    insts = [[Sram(name=name, env=env, recorder=recorder, config=lv, clock_period_ps=period,
                   energy=platform.energy, area=platform.area) for name in ns]
             for lv, ns in zip(bufs.sram_levels, names)]
    levels = [x[0] if len(x) == 1 else x for x in insts]
    # per core: its L1 and its PE array (named l1, pe_array with one core; l1_0, pe_array_0, ... with several)
    l1s = [Sram(name=name, env=env, recorder=recorder, config=bufs.l1, clock_period_ps=period,
                energy=platform.energy, area=platform.area) for name in l1_names]
    pes = [PeArray(name=core_name("pe_array", c, ncores), env=env, recorder=recorder, config=platform.pe_array,
                   clock_period_ps=period, energy=platform.energy, area=platform.area) for c in range(ncores)]
    # the first pass: every layer planned and checked before the first event, kept as a summary;
    # the controller gets each layer's tiles when it reaches the layer (LazyPlans)
    plans = LazyPlans(make_dataflow(platform, workload), check=lambda plan: check_plan(platform, plan))
    df = platform.dataflow
    ctrl = Controller(
        name="controller", env=env, recorder=recorder, dram=dram, noc=noc, levels=levels, l1=l1s, pe=pes,
        plans=plans, chunk_bytes=df.dma_chunk_bytes, outstanding=df.dma_outstanding,
        double_buffered=bufs.l1.double_buffered, multicore=platform.pe_array.multicore,
    )
    return {c.name: c for c in (dram, noc, *(m for x in insts for m in x), *l1s, *pes, ctrl)}, ctrl, plans
