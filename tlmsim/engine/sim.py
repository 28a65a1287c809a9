"""The SimPy environment of a run: :class:`simpy.Environment` with its per-event steps compiled.

SimPy runs some of its own Python for every event: resuming a process's generator
(``Process._resume``, once per event a process waits for), making a timeout, scheduling an
event, reading ``now``. :class:`Environment` and :class:`Process` write those steps again,
doing what SimPy 4.1's do (the same events, ids and queue entries in the same order), so that
the compiled build (tlmsim/kernels.py's HOT_MODULES) runs them as C; everything else is
SimPy's. tests/engine/test_sim.py runs processes on both environments and compares them
event by event, failures and their messages included. (What it saves: docs/performance.md,
"Session 22", step 4.)

* :meth:`Environment.schedule`: the event's queue entry ``(now + delay, priority, id, event)``,
  with the next id.
* :meth:`Environment.timeout`: a :class:`simpy.Timeout`, set up as its ``__init__`` sets it
  up, and scheduled.
* :meth:`Environment.process`: a :class:`Process` (a :class:`simpy.Process`).
* :meth:`Process._resume`: sends the value of each event the process waits for into its
  generator until the generator yields an event not yet processed (the process then waits for
  it), returns (the process succeeds with the value) or raises (the process fails with the
  exception). A failed event is SimPy's own step (``simpy.Process._resume``: it throws the
  exception into the generator); a yield of something that is not an event raises SimPy's error.
"""

from __future__ import annotations

from heapq import heappush
from typing import Any

import simpy
from simpy.events import NORMAL, Timeout, _describe_frame

_new = object.__new__
_simpy_resume = simpy.Process._resume


class Process(simpy.Process):
    """A :class:`simpy.Process` whose resume step is :meth:`_resume` below."""

    def _resume(self, event: simpy.Event) -> None:
        env = self.env
        gen = self._generator
        while event._ok:
            env._active_proc = self
            try:
                event = gen.send(event._value)
            except StopIteration as stop:  # the generator returned: the process succeeds
                self._ok = True
                self._value = stop.value
                env.schedule(self)
                break
            except BaseException as exc:  # noqa: BLE001 -- the generator raised: the process fails (as in SimPy)
                tb = exc.__traceback__
                if tb is not None and tb.tb_frame.f_code.co_name == "_resume":
                    exc.__traceback__ = tb.tb_next  # this step's own frame, as SimPy strips it
                self._ok = False
                self._value = exc
                env.schedule(self)
                break
            try:
                callbacks = event.callbacks
            except AttributeError:  # not an event: SimPy's error
                if hasattr(event, "callbacks"):
                    raise
                raise RuntimeError(f'\n{_describe_frame(gen.gi_frame)}Invalid yield value "{event}"') from None
            if callbacks is not None:  # not processed yet: wait for it
                callbacks.append(self._resume)
                self._target = event
                env._active_proc = None
                return
            # processed already: its value goes in at once (a failed one: SimPy's step throws it in)
        else:
            return _simpy_resume(self, event)
        self._target = None
        env._active_proc = None


class Environment(simpy.Environment):
    """A :class:`simpy.Environment` whose processes are :class:`Process` instances and whose
    ``schedule``, ``timeout`` and ``now`` are written here (the same behaviour)."""

    @property
    def now(self) -> Any:
        """The current simulation time."""
        return self._now

    def schedule(self, event: simpy.Event, priority: int = NORMAL, delay: Any = 0) -> None:
        """Schedule ``event`` with ``priority`` after ``delay``."""
        heappush(self._queue, (self._now + delay, priority, next(self._eid), event))

    def timeout(self, delay: Any, value: Any = None) -> Timeout:
        """A :class:`simpy.Timeout` of ``delay`` (``ValueError`` for a negative one)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        ev = _new(Timeout)
        ev.env = self
        ev.callbacks = []
        ev._value = value
        ev._delay = delay
        ev._ok = True
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), ev))
        return ev

    def process(self, generator) -> Process:
        """A new :class:`Process` running ``generator``."""
        return Process(self, generator)


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.engine.sim":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
