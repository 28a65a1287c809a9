"""Component base class.

A component is a piece of hardware modelled by one or more SimPy processes, with its
own parameters, resources and statistics. Components talk only through
transactions: an initiator calls ``yield from component.access(txn)``, which returns
when the component has finished serving ``txn`` (annotating the hop's start, end and
wait in the trace). No component reads another's state.
"""

from __future__ import annotations

from typing import ClassVar, Generator

import simpy

from tlmsim.engine.recorder import Recorder  # cimported by the .pxd
from tlmsim.engine.stats import (
    BUSY_PS,
    COMMON_STATS,
    READ_BYTES,
    READS,
    WRITE_BYTES,
    WRITES,
    StatDecl,
)
from tlmsim.engine.transaction import Cmd, Transaction

_READ, _WRITE = Cmd.READ, Cmd.WRITE


class Component:
    """Base of every hardware model.

    Subclasses declare extra statistics in ``STATS`` and implement :meth:`access`.
    ``busy_units`` is how many resources ``busy_ps`` is summed over (banks, links,
    ports), so that utilisation = busy_ps / (busy_units * elapsed) lies in [0, 1].
    """

    #: the instance attributes as slots, here and in the hardware models: compiled code reads ``self.x``
    #: through the type's slot descriptor instead of the instance's dictionary (docs/performance.md,
    #: "Session 20"; tests/engine/test_slots.py checks that a run leaves no attribute in a dictionary);
    #: ``__dict__`` keeps any other attribute possible (a subclass's, a test's)
    __slots__ = (
        "__dict__", "__weakref__", "_busy_seen", "_cv", "env", "name", "recorder", "stats",
    )

    STATS: ClassVar[tuple[StatDecl, ...]] = ()
    #: the component kind shown in reports (dram, sram, noc, pe_array, controller)
    KIND: ClassVar[str] = "component"
    #: True when this component reports each stall when the wait ends (``stall`` is
    #: called at time now = the end of the wait); False when stalls are reported at
    #: booking time (then only stalls given an explicit ``start_ps`` reach the trace sinks)
    STALLS_AT_END: ClassVar[bool] = False

    def __init__(self, *, name: str, env: simpy.Environment, recorder: Recorder) -> None:
        self.name = name
        self.env = env
        self.recorder = recorder
        self.stats = recorder.register(self, COMMON_STATS + self.STATS)
        #: the counters' values (``stats.c.v``; a typed view in the compiled build): the hot paths add
        #: to them by position (tlmsim.engine.stats.READS, ... and each model's own constants)
        self._cv = self.stats.c.v
        self._busy_seen: float = 0  # busy_ps at the previous recorded hop (trace sinks)

    # -- interface -----------------------------------------------------------------
    def access(self, txn: Transaction) -> Generator[simpy.Event, object, None]:
        """Serve ``txn``; the generator finishes when the component is done with it."""
        raise NotImplementedError

    @property
    def busy_units(self) -> int:
        return 1

    def finalize(self, end_ps: int) -> None:
        """Called once after the run, at simulated time ``end_ps`` (e.g. to close
        open intervals and account refreshes or leakage up to the end)."""

    def flush_busy(self, end_ps: int) -> None:
        """Hand the trace sinks the busy time added after this component's last hop
        (e.g. posted DRAM writes drained in :meth:`finalize`), so the sinks' busy
        times add up to ``busy_ps``. Called once, after :meth:`finalize`."""
        sinks = self.recorder.sinks
        tail = self.stats.c["busy_ps"] - self._busy_seen
        if sinks and tail > 0:
            self._busy_seen = self.stats.c["busy_ps"]
            for sink in sinks:
                sink.tail(self.name, end_ps, tail)

    def energy_pj(self) -> dict[str, float]:
        """Energy in pJ by action (e.g. ``{"read": ..., "leakage": ...}``)."""
        return {}

    def area_mm2(self) -> float:
        return 0.0

    def parts(self) -> list[dict]:
        """Rows that break this component down (a NoC's links), listed in the
        components report after the components: dicts with ``component`` and ``kind``
        and any of ``reads``, ``writes``, ``read_bytes``, ``write_bytes``, ``busy_ps``
        (of one busy unit) and ``stall_ps`` (``{reason: ps}``). Their traffic, busy
        time and stalls are already in this component's own row. Default: none."""
        return []

    # -- helpers for subclasses ----------------------------------------------------
    # @cython.locals(cv=cython.longlong[::1])
    def record(self, txn: Transaction, start_ps: int, end_ps: int, wait_ps: int) -> None:
        """Account one hop of ``txn`` served here: counts, bytes, trace row.

        This is the only place where transaction counts and bytes are added, so the
        trace's bytes always equal the component's byte counts.
        """
        cv = self._cv
        cmd = txn.cmd
        if cmd is _READ:
            cv[READS] += 1
            cv[READ_BYTES] += txn.nbytes
        elif cmd is _WRITE:
            cv[WRITES] += 1
            cv[WRITE_BYTES] += txn.nbytes
        rec = self.recorder
        hops = rec.layer_sinks
        if hops:  # every sink needs only the hop's layer (Recorder.layer_sinks): their hop_layer, no busy time
            self._busy_seen = cv[BUSY_PS]
            name, layer = self.name, txn.layer
            for hop in hops:
                hop(name, layer)
        elif rec.sinks:
            # the busy time added since this component's previous hop goes with this hop,
            # so the hops' busy times add up to the component's busy_ps
            busy = cv[BUSY_PS]
            busy_ps, self._busy_seen = busy - self._busy_seen, busy
            for sink in rec.sinks:
                sink.hop(txn, self.name, start_ps, end_ps, wait_ps, busy_ps)

    def stall(self, reason: str, duration_ps: int, layer: int = -1, *, start_ps: int | None = None) -> None:
        """Attribute ``duration_ps`` of waiting by this component to ``reason``.
        ``start_ps``: when the wait began (default, for components that report stalls
        when the wait ends: now - duration); timed stalls go to the trace sinks that take
        them (:attr:`Recorder.stall_sinks`)."""
        if duration_ps <= 0:  # no wait: nothing to count (StallLedger.add ignores it) or to trace
            return
        self.recorder.stalls.add(self.name, reason, duration_ps, layer)
        sinks = self.recorder.stall_sinks
        if sinks:
            if start_ps is None:
                if not self.STALLS_AT_END:
                    return
                start_ps = self.env.now - duration_ps
            for sink in sinks:
                sink.stall(self.name, reason, layer, start_ps, start_ps + duration_ps)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.engine.component":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
