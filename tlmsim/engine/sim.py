"""The kernel of a run: SimPy's environment, events, timeouts and processes, written again.

SimPy runs some of its own Python for every event: resuming a process's generator
(``Process._resume``, once per event a process waits for), making a timeout, scheduling an
event, reading ``now``; and every field of its environment and events is looked up by name in
the object's type and then its instance dictionary. This module writes SimPy 4.1's
environment (:class:`Environment`), event (:class:`Event`), timeout (:class:`Timeout`) and
process (:class:`Process`) again, with the same fields, methods and steps (the same events,
ids and queue entries in the same order), as records that the compiled build
(tlmsim/kernels.py's HOT_MODULES, tlmsim/engine/sim.pxd) makes extension types: the run loop
(tlmsim/soc/run.py), a process's resume step and the controller's pipeline read and write
their fields as C struct fields (docs/performance.md, "Session 22", step 4, and "Session 32").
SimPy's own events, processes, conditions and interruptions run in the kernel's environment
as in theirs, and the kernel's events in theirs; ``isinstance`` with SimPy's classes is false
for the kernel's, so :meth:`Environment.run` takes both kinds as ``until`` and
:func:`new_event` (an event a caller outside the model may wait for) gives SimPy's own in a
plain SimPy environment. tests/engine/test_sim.py runs processes on both environments and
compares them event by event, failures and their messages included;
tests/engine/test_kernel_events_s32.py holds the events and processes to SimPy's step by step.

* :meth:`Environment.schedule`: the event's queue entry ``(now + delay, priority, id, event)``,
  with the next id; :meth:`Environment.step`, :meth:`Environment.run`: SimPy's.
* :meth:`Environment.timeout`: a :class:`Timeout`, set up as its ``__init__`` sets it up, and
  scheduled; :meth:`Environment.event`: an :class:`Event`; :meth:`Environment.process`: a
  :class:`Process`.
* :meth:`Process._resume`: sends the value of each event the process waits for into its
  generator until the generator yields an event not yet processed (the process then waits for
  it), returns (the process succeeds with the value) or raises (the process fails with the
  exception). A failed event is SimPy's own step (``simpy.Process._resume``: it throws the
  exception into the generator); a yield of something that is not an event raises SimPy's error.
"""

from __future__ import annotations

from heapq import heappop, heappush
from itertools import count
from typing import Any

import simpy
from simpy.core import EmptySchedule, Infinity, StopSimulation
from simpy.events import (
    NORMAL,
    PENDING,
    URGENT,
    AllOf,
    AnyOf,
    Condition,
    EventPriority,
    Initialize,
    Interruption,
    _describe_frame,
)

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

    __slots__ = ("_generator", "_target", "_wake")

    def __init__(self, env, generator) -> None:
        if not hasattr(generator, "throw"):
            raise ValueError(f"{generator} is not a generator.")
        self.env = env
        self.callbacks = []
        self._value = PENDING
        self._generator = generator
        #: ``self._resume``, made once: the callback each event the process waits for gets (equal to
        #: a fresh ``self._resume``, which SimPy's interruption removes); dropped when the process ends
        self._wake = self._resume
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

    # @cython.locals(e=Event, env=Environment)
    def _resume(self, event) -> None:
        env = self.env
        gen = self._generator
        while True:
            if isinstance(event, Event):  # the kernel's event: its fields read as C fields
                e = event
                ok, value = e._ok, e._value
            else:
                ok, value = event._ok, event._value
            if not ok:  # a failed event: SimPy's step throws it into the generator
                _simpy_resume(self, event)
                if self._value is not PENDING:  # the process ended in that step: its callback goes too
                    self._wake = None
                return
            env._active_proc = self
            try:
                event = gen.send(value)
            except StopIteration as stop:  # the generator returned: the process succeeds
                self._ok = True
                self._value = stop.value
                self._wake = None
                env.schedule(self)
                break
            except BaseException as exc:  # noqa: BLE001 -- the generator raised: the process fails (as in SimPy)
                tb = exc.__traceback__
                if tb is not None and tb.tb_frame.f_code.co_name == "_resume":
                    exc.__traceback__ = tb.tb_next  # this step's own frame, as SimPy strips it
                self._ok = False
                self._value = exc
                self._wake = None
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
                callbacks.append(self._wake)
                self._target = event
                env._active_proc = None
                return
            # processed already: its value goes in at once (a failed one: SimPy's step throws it in)
        self._target = None
        env._active_proc = None


class Environment:
    """SimPy's environment (``simpy.Environment`` of SimPy 4.1: ``now``, ``active_process``,
    ``schedule``, ``peek``, ``step``, ``run``, and ``process``, ``timeout``, ``event``,
    ``all_of``, ``any_of`` to make events) with the kernel's processes, events and timeouts, as a
    record that the compiled build makes an extension type (tlmsim/engine/sim.pxd): the run loop,
    a process's resume step and the controller's event helpers read and write its clock, queue
    and active process as C struct fields (docs/performance.md, "Session 32"). The same steps
    and the same queue entries (time, priority, id, event) as SimPy's; SimPy's own events,
    processes and conditions run in it as in theirs. ``isinstance(env, simpy.Environment)`` is
    false."""

    __slots__ = ("__dict__", "_active_proc", "_eid", "_now", "_queue")

    def __init__(self, initial_time: Any = 0) -> None:
        self._now = initial_time
        self._queue = []  # (time, priority, id, event) of every scheduled event, a heap
        self._eid = count()  # the events' ids
        self._active_proc = None

    @property
    def now(self) -> Any:
        """The current simulation time."""
        return self._now

    @property
    def active_process(self):
        """The process running now (None between processes)."""
        return self._active_proc

    def schedule(self, event, priority: int = NORMAL, delay: Any = 0) -> None:
        """Schedule ``event`` with ``priority`` after ``delay``."""
        heappush(self._queue, (self._now + delay, priority, next(self._eid), event))

    def peek(self) -> Any:
        """The time of the next scheduled event (``simpy.core.Infinity`` if none)."""
        try:
            return self._queue[0][0]
        except IndexError:
            return Infinity

    def step(self) -> None:
        """Process the next event (SimPy's step; ``EmptySchedule`` when there is none)."""
        try:
            self._now, _, _, event = heappop(self._queue)
        except IndexError:
            raise EmptySchedule from None
        callbacks, event.callbacks = event.callbacks, None
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:  # the rest of the callbacks run when the simulation goes on (SimPy's step)
            event.callbacks = callbacks[callbacks.index(callback) + 1:]
            self.schedule(event, EventPriority(-1))
            raise
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc

    def run(self, until: Any = None) -> Any:
        """SimPy's ``run``: until ``until`` (an event, the kernel's or SimPy's, is processed; a
        time is reached; None: no event is left)."""
        if until is not None:
            if not isinstance(until, (Event, simpy.Event)):
                at = until if isinstance(until, int) else float(until)
                if at <= self._now:
                    raise ValueError(f"until ({at}) must be greater than the current simulation time")
                until = Event(self)
                until._ok = True
                until._value = None
                self.schedule(until, URGENT, at - self._now)
            elif until.callbacks is None:  # processed already
                return until.value
            until.callbacks.append(StopSimulation.callback)
        try:
            while True:
                self.step()
        except StopSimulation as exc:
            return exc.args[0]  # == until.value
        except EmptySchedule:
            if until is not None:
                raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {until}') from None
        return None

    def process(self, generator) -> Process:
        """A new :class:`Process` running ``generator``."""
        return Process(self, generator)

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

    def all_of(self, events) -> AllOf:
        """SimPy's ``AllOf`` of ``events``."""
        return AllOf(self, events)

    def any_of(self, events) -> AnyOf:
        """SimPy's ``AnyOf`` of ``events``."""
        return AnyOf(self, events)


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.engine.sim":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
