"""The SimPy environment of a run: :class:`simpy.Environment` with its per-event steps compiled,
and the kernel's own event and timeout.

SimPy runs some of its own Python for every event: resuming a process's generator
(``Process._resume``, once per event a process waits for), making a timeout, scheduling an
event, reading ``now``. :class:`Environment` and :class:`Process` write those steps again,
doing what SimPy 4.1's do (the same events, ids and queue entries in the same order), so that
the compiled build (tlmsim/kernels.py's HOT_MODULES) runs them as C; everything else is
SimPy's. tests/engine/test_sim.py runs processes on both environments and compares them
event by event, failures and their messages included. (What it saves: docs/performance.md,
"Session 22", step 4.)

* :class:`Event`, :class:`Timeout`: SimPy's event and timeout (the same fields, properties,
  methods and steps), as records that the compiled build makes extension types
  (tlmsim/engine/sim.pxd): the run loop, :meth:`Process._resume` and the controller's pipeline
  read their fields as C struct fields, where a ``simpy.Event``'s are looked up by name in its
  type and then its instance dictionary on every access (docs/performance.md, "Session 32").
  SimPy's own code takes them as its own events; ``isinstance(x, simpy.Event)`` is false for
  them, so :meth:`Environment.run` takes them as ``until`` itself, and :func:`new_event` (an
  event a caller outside the model may wait for) gives SimPy's own in a plain SimPy environment.
  tests/engine/test_kernel_events_s32.py holds them to SimPy's step by step.
* :meth:`Environment.schedule`: the event's queue entry ``(now + delay, priority, id, event)``,
  with the next id.
* :meth:`Environment.timeout`: a :class:`Timeout`, set up as its ``__init__`` sets it up, and
  scheduled; :meth:`Environment.event`: an :class:`Event`.
* :meth:`Environment.process`: a :class:`Process` (SimPy's process as the kernel's event).
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
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, PENDING, Condition, Initialize, Interruption, _describe_frame

_simpy_resume = simpy.Process._resume


class Event:
    """SimPy's event (``simpy.Event`` of SimPy 4.1: the same fields, properties and methods, and
    the same steps) as a record that the compiled build makes an extension type
    (tlmsim/engine/sim.pxd): code typed with it reads ``callbacks``, ``_value`` and ``_ok`` as C
    struct fields where a ``simpy.Event``'s go through a lookup by name in its type and its
    instance dictionary (docs/performance.md, "Session 32"). ``_defused`` lives in the instance
    dictionary, as SimPy's (set only when a failure is defused: ``hasattr`` tells). SimPy's own
    code (its environment's ``step``, ``Process``, ``Condition``) takes it as it takes its own
    events; only ``isinstance(x, simpy.Event)`` tells them apart (:meth:`Environment.run` takes
    both)."""

    __slots__ = ("__dict__", "_ok", "_value", "callbacks", "env")

    def __init__(self, env) -> None:
        self.env = env
        self.callbacks = []
        self._value = PENDING

    def __repr__(self) -> str:
        return f"<{self._desc()} object at {id(self):#x}>"

    def _desc(self) -> str:
        return f"{self.__class__.__name__}()"

    @property
    def triggered(self) -> bool:
        return self._value is not PENDING

    @property
    def processed(self) -> bool:
        return self.callbacks is None

    @property
    def ok(self) -> bool:
        if self._value is PENDING:  # SimPy's raises AttributeError before the event is triggered
            raise AttributeError(f"{self} is not triggered yet: no ok")
        return self._ok

    @property
    def defused(self) -> bool:
        return hasattr(self, "_defused")

    @defused.setter
    def defused(self, value: bool) -> None:
        self._defused = True

    @property
    def value(self) -> Any:
        if self._value is PENDING:
            raise AttributeError(f"Value of {self} is not yet available")
        return self._value

    def trigger(self, event) -> None:
        self._ok = event._ok
        self._value = event._value
        self.env.schedule(self)

    def succeed(self, value: Any = None) -> Event:
        if self._value is not PENDING:
            raise RuntimeError(f"{self} has already been triggered")
        self._ok = True
        self._value = value
        self.env.schedule(self)
        return self

    def fail(self, exception: BaseException) -> Event:
        if self._value is not PENDING:
            raise RuntimeError(f"{self} has already been triggered")
        if not isinstance(exception, BaseException):
            raise TypeError(f"{exception} is not an exception.")
        self._ok = False
        self._value = exception
        self.env.schedule(self)
        return self

    def __and__(self, other) -> Condition:
        return Condition(self.env, Condition.all_events, [self, other])

    def __or__(self, other) -> Condition:
        return Condition(self.env, Condition.any_events, [self, other])


class Timeout(Event):
    """SimPy's ``simpy.Timeout`` as an :class:`Event`: triggered when made, processed ``delay``
    later (``ValueError`` for a negative delay, as SimPy's)."""

    __slots__ = ("_delay",)

    def __init__(self, env, delay: Any, value: Any = None) -> None:
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        self.env = env
        self.callbacks = []
        self._value = value
        self._delay = delay
        self._ok = True
        env.schedule(self, NORMAL, delay)

    def _desc(self) -> str:
        value_str = "" if self._value is None else f", value={self.value}"
        return f"{self.__class__.__name__}({self._delay}{value_str})"


# @cython.locals(ev=Event)
def new_event(env) -> Event | simpy.Event:
    """A fresh event of ``env`` that a caller outside the model may wait for (the DRAM model's
    ``submit``): in the kernel's :class:`Environment` an :class:`Event`, made without a call of its
    ``__init__``; in any other (a plain ``simpy.Environment``, whose ``run(until=...)`` takes only
    SimPy's own events) a ``simpy.Event``."""
    if not isinstance(env, Environment):
        return simpy.Event(env)
    ev = Event.__new__(Event)
    ev.env = env
    ev.callbacks = []
    ev._value = PENDING
    return ev


class Process(Event):
    """SimPy's process (``simpy.Process`` of SimPy 4.1: its start, ``target``, ``name``,
    ``is_alive``, ``interrupt`` and its end as an event) as an :class:`Event`, so that the
    compiled build makes it an extension type too: its resume step (:meth:`_resume`, below)
    reads the process's generator and the events it waits for as C struct fields. SimPy's own
    code (its ``Initialize`` and ``Interruption`` events, its resume step for a failed event)
    takes it as its own process."""

    __slots__ = ("_generator", "_target")

    def __init__(self, env, generator) -> None:
        if not hasattr(generator, "throw"):
            raise ValueError(f"{generator} is not a generator.")
        self.env = env
        self.callbacks = []
        self._value = PENDING
        self._generator = generator
        self._target = Initialize(env, self)  # its start: an urgent event now

    def _desc(self) -> str:
        return f"{self.__class__.__name__}({self.name})"

    @property
    def target(self):
        """The event the process waits for (or its start, or an interruption)."""
        return self._target

    @property
    def name(self) -> str:
        return self._generator.__name__

    @property
    def is_alive(self) -> bool:
        return self._value is PENDING

    def interrupt(self, cause: Any = None) -> None:
        """SimPy's interrupt: an :class:`simpy.Interrupt` with ``cause`` thrown into the process
        (``RuntimeError`` for a process that has ended or interrupts itself)."""
        Interruption(self, cause)

    # @cython.locals(e=Event)
    def _resume(self, event) -> None:
        env = self.env
        gen = self._generator
        while True:
            if isinstance(event, Event):  # the kernel's event: its fields read as C fields
                e = event
                if not e._ok:  # a failed event: SimPy's step throws it into the generator
                    return _simpy_resume(self, event)
                value = e._value
            else:
                if not event._ok:
                    return _simpy_resume(self, event)
                value = event._value
            env._active_proc = self
            try:
                event = gen.send(value)
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
            if isinstance(event, Event):
                e = event
                callbacks = e.callbacks
            else:
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
        self._target = None
        env._active_proc = None


class Environment(simpy.Environment):
    """A :class:`simpy.Environment` whose processes are :class:`Process` instances, whose events
    and timeouts are the kernel's (:class:`Event`, :class:`Timeout`) and whose ``schedule``,
    ``timeout``, ``now`` and ``run`` are written here (the same behaviour)."""

    @property
    def now(self) -> Any:
        """The current simulation time."""
        return self._now

    def schedule(self, event: simpy.Event, priority: int = NORMAL, delay: Any = 0) -> None:
        """Schedule ``event`` with ``priority`` after ``delay``."""
        heappush(self._queue, (self._now + delay, priority, next(self._eid), event))

    # @cython.locals(ev=Timeout)
    def timeout(self, delay: Any, value: Any = None) -> Timeout:
        """A :class:`Timeout` of ``delay`` (``ValueError`` for a negative one)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        ev = Timeout.__new__(Timeout)
        ev.env = self
        ev.callbacks = []
        ev._value = value
        ev._delay = delay
        ev._ok = True
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), ev))
        return ev

    def event(self) -> Event:
        """A new :class:`Event`."""
        return new_event(self)

    def run(self, until: Any = None) -> Any:
        """SimPy's ``run``; ``until`` may also be an :class:`Event` (which SimPy's would take for a
        time)."""
        if not isinstance(until, Event):
            return super().run(until)
        if until.callbacks is None:  # processed already
            return until.value
        until.callbacks.append(StopSimulation.callback)
        try:
            while True:
                self.step()
        except StopSimulation as exc:
            return exc.args[0]  # == until.value
        except EmptySchedule:
            raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {until}') from None

    def process(self, generator) -> Process:
        """A new :class:`Process` running ``generator``."""
        return Process(self, generator)


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.engine.sim":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
