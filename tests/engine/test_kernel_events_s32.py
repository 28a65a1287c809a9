"""The kernel's own event and timeout (tlmsim/engine/sim.py, session 32): SimPy's fields, properties
and methods, held here to ``simpy.Event``'s step by step; the environment's ``run`` takes them as
``until``; ``new_event`` gives SimPy's own event in a plain SimPy environment. In the compiled build
these run the extension types."""

from __future__ import annotations

import re

import pytest
import simpy
from simpy.events import PENDING

from tlmsim.engine.sim import Environment, Event, Timeout, new_event


class Boom(Exception):
    pass


def _story(env, make):
    """What an event does through its life, as a list of observations: before and after being
    triggered and processed, succeeding twice, failing with a non-exception, a defused failure,
    ``trigger`` from another event, and the & / | conditions."""
    out = []
    ev = make(env)
    out.append(("fresh", ev.triggered, ev.processed, ev.defused, ev._value is PENDING))
    with pytest.raises(AttributeError, match="not yet available"):
        _ = ev.value
    with pytest.raises(AttributeError):
        _ = ev.ok
    assert ev.succeed("v") is ev
    out.append(("succeeded", ev.triggered, ev.processed, ev.ok, ev.value))
    with pytest.raises(RuntimeError, match="has already been triggered"):
        ev.succeed()
    with pytest.raises(RuntimeError, match="has already been triggered"):
        ev.fail(Boom())
    env.run()
    out.append(("processed", ev.processed, env.now))
    bad = make(env)
    with pytest.raises(TypeError, match="is not an exception"):
        bad.fail("no")
    bad.fail(Boom("b"))
    bad.callbacks.append(lambda e: setattr(e, "defused", True))
    env.run()
    out.append(("defused", bad.ok, type(bad.value).__name__, bad.defused, bad.processed))
    src, copy = make(env), make(env)
    src.succeed(42)
    copy.trigger(src)
    env.run()
    out.append(("trigger", copy.ok, copy.value))
    a, b = make(env), make(env)
    both, either = a & b, a | b
    a.succeed(1)
    env.run()
    out.append(("after a", both.triggered, either.triggered, list(either.value.values())))
    b.succeed(2)
    env.run()
    out.append(("after b", both.triggered, sorted(both.value.values())))
    return out


def test_an_event_lives_as_simpys_event_step_by_step():
    ours = _story(Environment(), Event)
    theirs = _story(simpy.Environment(), simpy.Event)
    assert ours == theirs
    assert ours[1] == ("succeeded", True, False, True, "v") and ours[3] == ("defused", False, "Boom", True, True)


def test_an_undefused_failure_ends_the_run_as_simpys():
    for env_cls, ev_cls in ((Environment, Event), (simpy.Environment, simpy.Event)):
        env = env_cls()
        ev_cls(env).fail(Boom("x"))
        with pytest.raises(Boom, match="^x$"):
            env.run()


def test_a_timeout_is_simpys():
    env = Environment(initial_time=5)
    t = env.timeout(3, value="v")
    assert type(t) is Timeout and (t._delay, t._value, t._ok, t.triggered, t.processed) == (3, "v", True, True, False)
    assert re.fullmatch(r"<Timeout\(3, value=v\) object at 0x[0-9a-f]+>", repr(t))
    assert re.fullmatch(r"<Timeout\(2\) object at 0x[0-9a-f]+>", repr(Timeout(env, 2)))
    ev = env.event()
    assert repr(ev) == f"<Event() object at {id(ev):#x}>" and repr(t) == f"<Timeout(3, value=v) object at {id(t):#x}>"
    zero = Timeout(env, 0, "z")  # a delay of 0 is allowed, and made directly it keeps its environment and value
    assert (zero.env, zero._delay, zero.value, zero.ok) == (env, 0, "z", True)
    # made directly, a timeout schedules itself as SimPy's does: (now + delay, NORMAL, next id)
    direct = Timeout(env, 4)
    assert [(at, prio, eid) for at, prio, eid, e in sorted(env._queue) if e is direct] == [(9, 1, 3)]
    with pytest.raises(ValueError, match="^Negative delay -1$"):
        Timeout(env, -1)
    assert env.run(until=t) == "v" and env.now == 8


def test_run_until_a_kernel_event():
    env = Environment()
    ev = env.event()

    def proc():
        yield env.timeout(7)
        ev.succeed("done")

    env.process(proc())
    assert env.run(until=ev) == "done" and env.now == 7
    assert env.run(until=ev) == "done"  # processed already: its value at once
    never = env.event()
    with pytest.raises(RuntimeError, match='No scheduled events left but "until" event was not triggered: <Event'):
        env.run(until=never)
    failed = env.event()
    failed.fail(Boom("f"))
    with pytest.raises(Boom, match="^f$"):
        env.run(until=failed)
    # a number or SimPy's own event: SimPy's run
    assert env.run(until=env.now + 3) is None and env.now == 10
    own = simpy.Event(env)
    own.succeed(5)
    assert env.run(until=own) == 5


def test_new_event_is_the_kernels_in_its_environment_and_simpys_in_any_other():
    env = Environment()
    ev = new_event(env)
    assert type(ev) is Event and ev.env is env and ev.callbacks == [] and ev._value is PENDING
    assert not hasattr(ev, "_defused") and not ev.defused
    plain = simpy.Environment()
    sev = new_event(plain)
    assert type(sev) is simpy.Event and sev.env is plain and sev.callbacks == [] and not sev.triggered


def test_a_process_waits_for_kernel_and_simpy_events_alike():
    env = Environment()
    log = []
    k, s = env.event(), simpy.Event(env)

    def waiter():
        log.append(("k", (yield k), env.now))
        log.append(("s", (yield s), env.now))
        log.append(("t", (yield env.timeout(2, "t")), env.now))
        try:
            yield env.timeout(1) & env.event().fail(Boom("c"))
        except Boom as e:
            log.append(("caught", str(e), env.now))
        done = env.event().succeed("old")
        yield env.timeout(1)
        log.append(("old", (yield done), env.now))

    def kicker():
        yield env.timeout(3)
        k.succeed("K")
        yield env.timeout(1)
        s.succeed("S")

    p = env.process(waiter())
    env.process(kicker())
    env.run(until=p)
    assert log == [("k", "K", 3), ("s", "S", 4), ("t", "t", 6), ("caught", "c", 6), ("old", "old", 7)]


def _process_story(env_cls):
    env = env_cls()
    out = []

    def worker():
        try:
            yield env.timeout(10)
        except simpy.Interrupt as i:
            out.append(("interrupted", i.cause, env.now))
        return "w"

    def failing():
        yield env.timeout(1)
        raise Boom("f")

    def watch(ev, what):  # a callback: no process runs while the event's callbacks run
        ev.callbacks.append(lambda e: out.append((what, env.active_process)))

    def boss(w):
        yield env.timeout(2)
        out.append(("alive", w.is_alive, w.name, type(w.target).__name__, w.triggered))
        w.interrupt("stop")
        with pytest.raises(RuntimeError, match="not allowed to interrupt itself"):
            env.active_process.interrupt()
        out.append(("after", (yield w), w.is_alive, w.ok, env.now))
        with pytest.raises(RuntimeError, match="has terminated and cannot be interrupted"):
            w.interrupt()

    w = env.process(worker())
    out.append(("new", w.is_alive, type(w.target).__name__, w.triggered))
    watch(env.timeout(1), "between yields")
    f = env.process(failing())
    f.callbacks.append(lambda e: setattr(e, "defused", True))
    watch(f, "after a failure")
    env.run(until=env.process(boss(w)))
    out.append(("ended", w.target, f.target, f.ok, str(f.value), env.active_process))
    out.append(("repr", re.sub(r"0x[0-9a-f]+", "X", repr(w))))
    with pytest.raises(ValueError, match="is not a generator"):
        env.process(lambda: None)
    return out


def test_a_process_lives_as_simpys():
    ours, theirs = _process_story(Environment), _process_story(simpy.Environment)
    assert ours == theirs
    assert ours[0] == ("new", True, "Initialize", False)
    assert ours[1:4] == [("between yields", None), ("after a failure", None), ("alive", True, "worker", "Timeout", False)]
    assert ("ended", None, None, False, "f", None) in ours
    assert ours[-1] == ("repr", "<Process(worker) object at X>")


def _env_story(env_cls):
    from simpy.core import EmptySchedule, StopSimulation

    env = env_cls(initial_time=2)
    out = [("peek empty", env.peek() == simpy.core.Infinity, env.now, env.active_process)]
    with pytest.raises(EmptySchedule):
        env.step()
    with pytest.raises(ValueError, match=r"^until \(2\) must be greater than the current simulation time$"):
        env.run(until=2)
    ev = env.event()
    ev.callbacks += [lambda e: out.append(("cb1", env.now)), StopSimulation.callback, lambda e: out.append(("cb3", env.now))]
    ev.succeed("s")
    env.timeout(5)
    out.append(("peek", env.peek()))
    out.append(("stopped", env.run(), env.now))  # the stop callback ends run() with the event's value
    out.append(("queue", [(t, int(p), type(e).__name__) for t, p, _, e in sorted(env._queue)]))  # the rest: priority -1
    env.timeout(2.5)  # at 4.5: the until event of run(until=4.5) is urgent, so run returns before it (the until
    # event then waits in the queue at priority -1 with the callbacks after the stop, none here: SimPy's step)
    out.append(("run to 4.5", env.run(until=4.5), env.now, [(t, int(p)) for t, p, _, _ in sorted(env._queue)]))
    with pytest.raises(TypeError):
        env.timeout()  # a delay is required (SimPy's timeout is its Timeout class, bound)
    out.append(("all_of", sorted(env.run(until=env.all_of([env.timeout(1, "a"), env.timeout(2, "b")])).values()),
                env.now))
    out.append(("any_of", list(env.run(until=env.any_of([env.timeout(3, "c"), env.timeout(1, "d")])).values()),
                env.now))
    out.append(("to 20", env.run(until=20), env.now, env.peek() == simpy.core.Infinity or env.peek()))
    import numpy as np

    env.run(until=np.int64(30))  # not an int: taken as a float, as SimPy takes it
    out.append(("to 30", env.now, type(env.now).__name__))
    return out


def test_the_environment_steps_and_runs_as_simpys():
    ours, theirs = _env_story(Environment), _env_story(simpy.Environment)
    assert ours == theirs
    # by hand: the callbacks after the stop run when the simulation goes on, first (priority -1)
    assert ours[:6] == [("peek empty", True, 2, None), ("peek", 2), ("cb1", 2), ("stopped", "s", 2),
                        ("queue", [(2, -1, "Event"), (7, 1, "Timeout")]), ("cb3", 2)]
    assert ours[6:9] == [("run to 4.5", None, 4.5, [(4.5, -1), (4.5, 1), (7, 1)]), ("all_of", ["a", "b"], 6.5),
                         ("any_of", ["d"], 7.5)]
    assert ours[-1] == ("to 30", 30.0, "float")


def test_a_process_makes_its_resume_callback_once_and_drops_it_when_it_ends():
    from tlmsim.engine.sim import Environment

    env = Environment()
    waits = []

    def body():
        ev = env.timeout(1)
        waits.append(ev)
        yield ev
        ev = env.timeout(1)
        waits.append(ev)
        yield ev

    p = env.process(body())
    assert p._wake == p._resume  # the callback each wait gets (equal to a fresh bound _resume)
    env.run(until=1)
    first = waits[0].callbacks[0]
    assert first is p._wake
    env.run(until=2)
    assert waits[1].callbacks == [first] and waits[1].callbacks[0] is first  # made once, not per wait
    env.run()
    assert not p.is_alive and p._wake is None  # dropped at the end (no cycle through the process)

    def failing():
        yield env.timeout(1)
        raise ValueError("x")

    q = env.process(failing())
    q.callbacks.append(lambda ev: setattr(ev, "_defused", True))
    env.run()
    assert not q.ok and q._wake is None


def test_a_process_ended_by_a_failed_event_drops_its_resume_callback_too():
    # the failed event is thrown into the generator by SimPy's own resume step, where the process ends
    from tlmsim.engine.sim import Environment

    env = Environment()
    bad = env.event()

    def body():
        yield bad

    p = env.process(body())
    p.callbacks.append(lambda ev: setattr(ev, "_defused", True))
    env.run(until=1)
    assert p.is_alive and p._wake is not None
    bad.fail(ValueError("x"))
    bad.defused = True
    env.run()
    assert not p.is_alive and not p.ok and isinstance(p.value, ValueError) and p._wake is None
