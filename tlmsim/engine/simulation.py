"""Running a simulation: validate -> build -> connect and check -> run -> finalize.

:func:`simulate` takes a validated :class:`~tlmsim.platform.Platform` and a
:class:`~tlmsim.workload.Workload`, checks the platform's cross-component rules
(:mod:`tlmsim.platform.checks`), builds the components, plans every layer with the
platform's dataflow and checks that the plans fit the buffers (:func:`check_plans`),
all before the first event; then runs SimPy until the controller is done and checks
the end-of-run invariants (every transaction completed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import simpy

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.base import LayerPlan
from tlmsim.engine.component import Component
from tlmsim.engine.invariants import check_run
from tlmsim.engine.attribution import LayerCounters
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.trace import TraceWriter
from tlmsim.errors import ConfigError, MappingError, SimulationError
from tlmsim.hw.controller import Controller, glb_ranges
from tlmsim.hw.dram import Dram
from tlmsim.hw.noc import Noc
from tlmsim.hw.pe_array import PeArray
from tlmsim.hw.sram import Sram
from tlmsim.platform import Platform
from tlmsim.platform.checks import check_platform, staging_bytes
from tlmsim.verify.dram_timing import DramCommandChecker
from tlmsim.workload import Workload

#: NoC endpoints the controller sends traffic between
NOC_ENDPOINTS = ("dram", "glb", "l1")


@dataclass
class RunResult:
    """Everything a finished run measured (reports are built from it)."""

    platform: Platform
    workload: Workload
    seed: int
    end_ps: int
    recorder: Recorder
    components: dict[str, Component]
    controller: Controller
    plans: list[LayerPlan]
    wall_s: float
    events: int
    #: the --verify summary line (None when not verifying)
    verified: str | None = None
    #: every component's counters split by layer (:mod:`tlmsim.engine.attribution`)
    layer_counters: LayerCounters | None = None

    @property
    def clock_period_ps(self) -> int:
        return self.platform.clock_period_ps


def check_plans(platform: Platform, plans: list[LayerPlan]) -> None:
    """Check that every layer plan fits the buffers it runs on, before any event
    (a dataflow that breaks these has a bug; the message names the keys involved):

    * a tile's operands and outputs fit one L1 half (the controller's L1 address map
      puts operands at the bottom of the half, outputs at its top);
    * the GLB holds the staging area plus the layer's resident tensors, and every
      resident tensor lies above the staging area and inside the GLB.
    """
    l1 = platform.buffers.l1
    half = l1.capacity_bytes // 2 if l1.double_buffered else l1.capacity_bytes
    glb_cap = platform.buffers.glb.capacity_bytes
    staging = staging_bytes(platform)
    for plan in plans:
        name = plan.layer.name
        for t in plan.tiles:
            if t.load_bytes + t.store_bytes > half:
                raise MappingError(
                    f"layer {name!r} tile {t.index}: operands {t.load_bytes} + outputs {t.store_bytes} bytes exceed an "
                    f"L1 half of {half} bytes (buffers.l1.capacity_bytes, buffers.l1.double_buffered)"
                )
        if plan.glb_bytes + staging > glb_cap:
            raise MappingError(
                f"layer {name!r}: resident tensors ({plan.glb_bytes} bytes) and DMA staging ({staging} bytes) exceed "
                f"buffers.glb.capacity_bytes ({glb_cap})"
            )
        for lo, hi in glb_ranges(plan):
            if lo < staging or hi > glb_cap:
                raise MappingError(
                    f"layer {name!r}: a resident tensor at GLB bytes {lo}..{hi} is outside {staging}..{glb_cap} "
                    "(above the DMA staging area, inside buffers.glb.capacity_bytes)"
                )


def build(platform: Platform, workload: Workload, env: simpy.Environment, recorder: Recorder):
    """Build the components and the layer plans, and check that they fit together
    (raises before any event runs)."""
    check_platform(platform)
    period = platform.clock_period_ps
    # the command log feeds the independent timing checker chunk by chunk during every run
    checker = DramCommandChecker(platform.dram.resolve(), limit=5)
    dram = Dram(name="dram", env=env, recorder=recorder, config=platform.dram, command_sink=checker.feed)
    dram.checker = checker
    noc = Noc(name="noc", env=env, recorder=recorder, config=platform.noc, accel_clock_mhz=platform.clock_mhz)
    for a in NOC_ENDPOINTS:
        for b in NOC_ENDPOINTS:
            if a != b:
                try:
                    noc.hop_count(a, b)
                except (KeyError, ValueError, ConfigError) as exc:
                    raise ConfigError(
                        f"the NoC must connect the endpoints {', '.join(NOC_ENDPOINTS)} ({exc})", key="noc.nodes"
                    ) from None
    glb = Sram(name="glb", env=env, recorder=recorder, config=platform.buffers.glb, clock_period_ps=period,
               energy=platform.energy, area=platform.area)
    l1 = Sram(name="l1", env=env, recorder=recorder, config=platform.buffers.l1, clock_period_ps=period,
              energy=platform.energy, area=platform.area)
    pe = PeArray(name="pe_array", env=env, recorder=recorder, config=platform.pe_array, clock_period_ps=period,
                 energy=platform.energy, area=platform.area)
    plans = make_dataflow(platform, workload).plan()
    check_plans(platform, plans)
    df = platform.dataflow
    ctrl = Controller(
        name="controller", env=env, recorder=recorder, dram=dram, noc=noc, glb=glb, l1=l1, pe=pe, plans=plans,
        chunk_bytes=df.dma_chunk_bytes, outstanding=df.dma_outstanding,
        double_buffered=platform.buffers.l1.double_buffered,
    )
    return {c.name: c for c in (dram, noc, glb, l1, pe, ctrl)}, ctrl, plans


#: events without simulated time advancing after which a run is declared hung
WATCHDOG_EVENTS = 2_000_000


def run_guarded(env: simpy.Environment, ctrl: Controller, recorder: Recorder,
                watchdog_events: int = WATCHDOG_EVENTS) -> None:
    """Run until the controller is done; never hang. Raises :class:`SimulationError`
    naming what is blocked when no event is left before the end (a deadlock), or
    when ``watchdog_events`` events pass without simulated time advancing (a livelock)."""
    step, done = env.step, ctrl.done
    count, mark, mark_now = 0, watchdog_events, env.now
    try:
        while not done.triggered:
            step()
            count += 1
            if count >= mark:
                if env.now == mark_now:
                    raise SimulationError(
                        f"hang at t={env.now} ps: {watchdog_events} events without simulated time advancing; "
                        f"{ctrl.describe_blocked()}"
                    )
                mark, mark_now = count + watchdog_events, env.now
    except simpy.core.EmptySchedule:
        raise SimulationError(
            f"deadlock at t={env.now} ps: no event left and the run is not finished; "
            f"{recorder.issued - recorder.completed} transactions pending; {ctrl.describe_blocked()}"
        ) from None


def simulate(
    platform: Platform, workload: Workload, *, seed: int = 0, trace_path: str | Path | None = None,
    verify: bool = False, progress=None, sinks: tuple = (),
) -> RunResult:
    """Run ``workload`` on ``platform``; ``trace_path`` streams the per-hop trace CSV.
    ``progress`` (e.g. :class:`tlmsim.progress.RunProgress`) is attached to the
    environment and controller once they are built and closed at the end; it may
    only read them.
    ``verify``: the PE array computes every tile in fixed point and the run ends by
    comparing every layer's outputs with the fixed-point reference
    (:mod:`tlmsim.verify.functional`); a mismatch raises a SimulationError.
    ``sinks``: more trace sinks (:class:`~tlmsim.engine.trace.TraceSink`, e.g. the
    Perfetto timeline of :mod:`tlmsim.timeline`), fed every hop and timed stall."""
    wall0 = time.perf_counter()
    functional = None
    if verify:
        from tlmsim.verify.functional import FunctionalModel

        pe = platform.pe_array
        functional = FunctionalModel(workload, membrane_bits=pe.membrane_bits, accumulator_bits=pe.accumulator_bits)
    trace = TraceWriter(trace_path) if trace_path is not None else None
    layer_counters = LayerCounters()
    sinks = (*sinks, layer_counters)
    recorder = Recorder(trace=trace, sinks=sinks)
    env = simpy.Environment()
    verified = None
    try:
        components, ctrl, plans = build(platform, workload, env, recorder)
        for sink in sinks:
            attach = getattr(sink, "attach", None)  # optional: sinks that draw the hardware's layout
            if attach is not None:
                attach(components=components, plans=plans, platform=platform, workload=workload)
        components["pe_array"].functional = functional
        if progress is not None:
            progress.attach(env, ctrl)
        try:
            run_guarded(env, ctrl, recorder)
        finally:
            if progress is not None:
                progress.close()
        end = env.now
        for comp in components.values():
            comp.finalize(end)
            comp.flush_busy(end)
        broken = check_run(recorder, components, end)
        dram = components["dram"]
        broken += [f"dram: {v}" for v in dram.checker.finish()]
        if broken:
            more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
            raise SimulationError(f"invariant broken: {broken[0]}{more}")
        if functional is not None:
            verified = functional.check()
        recorder.close()
    except BaseException:
        recorder.abort()
        raise
    eid = getattr(env, "_eid", None)  # SimPy's event counter (an itertools.count)
    events = next(eid) if eid is not None else 0
    return RunResult(
        platform=platform, workload=workload, seed=seed, end_ps=end, recorder=recorder, components=components,
        controller=ctrl, plans=plans, wall_s=time.perf_counter() - wall0, events=events, verified=verified,
        layer_counters=layer_counters,
    )
