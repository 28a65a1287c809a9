"""Running a simulation: validate -> build -> connect and check -> run -> finalize.

:func:`simulate` takes a validated :class:`~tlmsim.platform.Platform` and a
:class:`~tlmsim.workload.Workload`, builds and checks the SoC (:func:`tlmsim.soc.build.build`:
the platform's cross-component rules, the components, every layer's plan and that the
plans fit the buffers), all before the first event; then runs SimPy until the
controller is done and checks the end-of-run invariants (every transaction completed).
"""

from __future__ import annotations

import gc
import heapq
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import simpy
from simpy.events import PENDING
from threadpoolctl import threadpool_limits

from tlmsim.engine.attribution import LayerCounters
from tlmsim.engine.component import Component
from tlmsim.engine.invariants import check_run
from tlmsim.engine.plan import LayerSummary
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.sim import Environment  # cimported by the .pxd
from tlmsim.engine.sim import Event  # cimported by the .pxd
from tlmsim.engine.trace import TraceWriter
from tlmsim.errors import SimulationError
from tlmsim.hw.controller import Controller
from tlmsim.platform import Platform
from tlmsim.soc.build import build
from tlmsim.workload import Workload


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
    #: every layer's plan without its tiles (the tiles live only while their layer runs)
    plans: list[LayerSummary]
    wall_s: float
    events: int
    #: the --verify summary line (None when not verifying)
    verified: str | None = None
    #: every component's counters split by layer (:mod:`tlmsim.engine.attribution`)
    layer_counters: LayerCounters | None = None

    @property
    def clock_period_ps(self) -> int:
        return self.platform.clock_period_ps


#: events without simulated time advancing, or without any transaction completing while
#: some are pending, after which a run is declared hung. Real runs stay far below it
#: (measured in session 15): LeNet-5 on every shipped platform x dataflow and VGG9 on
#: mesh-4core, no-glb and hbm2-server x dense-ws/dense-os/event pass at most 271 events
#: between two completions (VGG9 hbm2-server dense-os) and 41 at one simulated time
WATCHDOG_EVENTS = 500_000


# @cython.locals(e=Event, callbacks=list, kenv=Environment, kdone=Event, count=cython.longlong, mark=cython.longlong)
def run_guarded(env: simpy.Environment, ctrl: Controller, recorder: Recorder,
                watchdog_events: int = WATCHDOG_EVENTS, hint: str = "") -> None:
    """Run until the controller is done; never hang. Raises :class:`SimulationError`
    naming what is blocked when no event is left before the end (a deadlock), when
    ``watchdog_events`` events pass without simulated time advancing (a livelock), or
    when they pass with transactions pending and none completing while time advances (no
    progress: e.g. a DRAM whose refreshes leave no room for a row's commands). ``hint``
    ends the no-progress message (what in the platform may cause it)."""
    # SimPy's Environment.step inlined (the same pops, callbacks and failure check; no
    # StopSimulation: nothing here calls env.run): one Python call less per event
    queue, pop, done = env._queue, heapq.heappop, ctrl.done
    kenv = env if isinstance(env, Environment) else None  # the kernel's: its clock a C field
    kdone = done if isinstance(done, Event) else None  # the kernel's: its value a C field
    count, mark, mark_now, mark_done = 0, watchdog_events, env.now, recorder.completed
    while (kdone._value if kdone is not None else done._value) is PENDING:
        try:
            t, _, _, event = pop(queue)
            if kenv is not None:
                kenv._now = t
            else:
                env._now = t
        except IndexError:
            raise SimulationError(
                f"deadlock at t={env.now} ps: no event left and the run is not finished; "
                f"{recorder.issued - recorder.completed} transactions pending; {ctrl.describe_blocked()}"
            ) from None
        if isinstance(event, Event):  # the kernel's events (tlmsim/engine/sim.py): their fields read as C fields
            e = event
            callbacks = e.callbacks
            e.callbacks = None
            for callback in callbacks:
                callback(e)
            if not e._ok and not hasattr(e, "_defused"):
                _raise_failure(e)
        else:  # SimPy's own (a process's start, a condition, an interruption)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                _raise_failure(event)
        count += 1
        if count >= mark:
            if env.now == mark_now:
                raise SimulationError(
                    f"hang at t={env.now} ps: {watchdog_events} events without simulated time advancing; "
                    f"{ctrl.describe_blocked()}"
                )
            if recorder.completed == mark_done and recorder.issued > recorder.completed:
                raise SimulationError(
                    f"no progress at t={env.now} ps: {watchdog_events} events over {env.now - mark_now} ps "
                    f"without a transaction completing; {recorder.issued - recorder.completed} transactions "
                    f"pending; {ctrl.describe_blocked()}{hint}"
                )
            mark, mark_now, mark_done = count + watchdog_events, env.now, recorder.completed


def _raise_failure(event) -> None:
    """An event failed and nothing defused it: raise its exception again, as SimPy's step does."""
    exc = type(event._value)(*event._value.args)
    exc.__cause__ = event._value
    raise exc


#: the cyclic collector's thresholds while a run is built, run and checked (Python's default is
#: (700, 10, 10)). A run allocates millions of short-lived containers (events, requests, tuples)
#: that reference counting frees; at the default, the young generation is scanned every 700 of
#: them and its survivors (the plans, queues and counters that live for a layer or the run) are
#: scanned again and again. At 50,000 a long run takes up to a tenth less CPU time in a process
#: that has not frozen its loaded heap (`tlmsim run` has: about 2 % there; docs/performance.md,
#: "Session 20"). What only the collector frees waits longer, so no large object may sit in a
#: reference cycle: the DRAM timing checker has no compiled build for that reason (tlmsim/kernels.py's
#: HOT_MODULES; with it, the 10 M-row trace peaked at 999 MiB instead of 647), and
#: tests/soc/test_collector_s19.py checks that a run leaves no array in cyclic garbage. The reports
#: do not depend on it.
RUN_GC_THRESHOLD = (50_000, 20, 20)


@contextmanager
def collector_thresholds(threshold: tuple[int, int, int] | None = None):
    """Set the cyclic collector's thresholds to ``threshold`` (default :data:`RUN_GC_THRESHOLD`;
    :func:`gc.set_threshold`) for the ``with`` body and restore the caller's afterwards, also
    when it raises; an enabled or disabled collector stays so."""
    before = gc.get_threshold()
    gc.set_threshold(*(RUN_GC_THRESHOLD if threshold is None else threshold))
    try:
        yield
    finally:
        gc.set_threshold(*before)


#: numpy's BLAS threads during a run. Its matrix products are few and small (the event
#: dataflow's bank demand: 77 products, 0.14 CPU s on one thread, in resnet19-cifar10 on
#: edge-lpddr4), but after each one OpenBLAS's idle worker threads spin, waiting for the next:
#: with this machine's 2 threads they burnt 13.5 % of that run's CPU (perf, session 23) and a
#: second core. The reports do not depend on it (the products are exact either way).
RUN_BLAS_THREADS = 1


@contextmanager
def blas_threads(n: int | None = None):
    """At most ``n`` (default :data:`RUN_BLAS_THREADS`) threads in every loaded BLAS
    (numpy's OpenBLAS, or MKL or BLIS; threadpoolctl) for the ``with`` body, the caller's
    limits restored afterwards, also when it raises."""
    with threadpool_limits(limits=RUN_BLAS_THREADS if n is None else n, user_api="blas"):
        yield


#: glibc malloc's thresholds for a process that simulates (``mallopt``; set by its first run and kept,
#: since glibc cannot report the old values back): (M_TRIM_THRESHOLD, 128 MiB), (M_MMAP_THRESHOLD,
#: 32 MiB). By default glibc maps every allocation above a threshold it adapts as they are freed
#: (128 KiB, up to 32 MiB) with a mmap of its own, and gives the top of its heap back to the system
#: once more than twice that is free there. The DRAM model's command log and its timing checker make
#: and free NumPy arrays of 0.5-3 MiB at every chunk, so the same memory was mapped and zeroed again,
#: page by page, chunk after chunk: two runs of vgg9-cifar10 on ddr4-baseline had 45,000 page faults, and
#: 7,900 with these and the log packed as it grows (docs/performance.md, "Session 24"). With them, arrays
#: below 32 MiB come from the heap and up to 128 MiB of freed heap stays in the process for the next
#: ones. Other C libraries are left as they are. The reports do not depend on it.
MALLOC_THRESHOLDS = ((-1, 128 << 20), (-3, 32 << 20))
_malloc_tuned: bool | None = None  #: whether the process's malloc has MALLOC_THRESHOLDS (None: not tried)


def _mallopt():
    """glibc's ``mallopt`` of this process, or None where the C library is not glibc."""
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):  # no confstr, or no such name (not glibc)
        return None
    if not libc or not libc.startswith("glibc"):
        return None
    import ctypes

    return getattr(ctypes.CDLL(None), "mallopt", None)


def tune_malloc() -> bool:
    """Give the process's malloc :data:`MALLOC_THRESHOLDS` (once per process: later calls only report);
    True when glibc took both."""
    global _malloc_tuned
    if _malloc_tuned is None:
        mallopt = _mallopt()
        # every threshold asked for, whatever the one before answered
        taken = [mallopt(k, v) == 1 for k, v in MALLOC_THRESHOLDS] if mallopt is not None else [False]
        _malloc_tuned = all(taken)
    return _malloc_tuned


def _refresh_hint(platform: Platform) -> str:
    """What the no-progress message adds when the DRAM's refreshes leave little room: after a
    refresh every bank is closed, and the next is due tREFI after the last one was due, so a
    row is opened and read only if tREFI - tRFC exceeds tRCD (necessary), and surely for a
    lone request when it is at least tRCD + tRAS + tRP (docs/performance.md, "The refresh
    no-progress hang")."""
    spec = platform.dram.resolve()
    gap, need = spec.tREFI - spec.tRFC, spec.tRCD + spec.tRAS + spec.tRP
    if gap >= need:
        return ""
    return (f"; the DRAM's refreshes leave tREFI - tRFC = {gap} cycles between them, less than "
            f"tRCD + tRAS + tRP = {need}: raise dram.timing.tREFI or lower dram.timing.tRFC")


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
    workload = workload.with_weight_bits(platform.pe_array.weight_bits)  # a workload without one: the platform's
    functional = None
    if verify:
        from tlmsim.verify.functional import FunctionalModel

        pe = platform.pe_array
        functional = FunctionalModel(workload, membrane_bits=pe.membrane_bits, accumulator_bits=pe.accumulator_bits)
    trace = TraceWriter(trace_path) if trace_path is not None else None
    layer_counters = LayerCounters()
    sinks = (*sinks, layer_counters)
    recorder = Recorder(trace=trace, sinks=sinks)
    env = Environment()  # the kernel's: SimPy's steps, its events and processes compiled (tlmsim/engine/sim.py)
    verified = None
    tune_malloc()
    with collector_thresholds(), blas_threads():  # the build, the run and its checks
        try:
            components, ctrl, plans = build(platform, workload, env, recorder)
            for sink in sinks:
                attach = getattr(sink, "attach", None)  # optional: sinks that draw the hardware's layout
                if attach is not None:
                    attach(components=components, plans=plans, platform=platform, workload=workload)
            for pe in ctrl.pes:
                pe.functional = functional
            if progress is not None:
                progress.attach(env, ctrl)
            try:
                run_guarded(env, ctrl, recorder, hint=_refresh_hint(platform))
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
    events = next(eid) - ctrl.eids_unscheduled if eid is not None else 0
    return RunResult(
        platform=platform, workload=workload, seed=seed, end_ps=end, recorder=recorder, components=components,
        controller=ctrl, plans=plans.summaries, wall_s=time.perf_counter() - wall0, events=events, verified=verified,
        layer_counters=layer_counters,
    )


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.soc.run":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
