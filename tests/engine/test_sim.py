"""tlmsim.engine.sim: a run's SimPy environment does what simpy.Environment does, event by event.

The same processes run on both environments; every test compares what they log (time, process,
what happened), the ids the events took and the queue left behind, and some pin the values by
hand. In the compiled build (tlmsim/kernels.py) these run the compiled Process._resume,
Environment.schedule, timeout and now."""

from __future__ import annotations

import pytest
import simpy

from tlmsim.engine.sim import Environment, Event, Process, Timeout


class Boom(Exception):
    pass


def _scenario(env, log):
    """Processes that wait for timeouts (with values), for other processes (their return
    values and failures), for events triggered later and ones processed already, for
    conditions, and that are interrupted."""

    def ticker(name, period, n):
        for i in range(n):
            v = yield env.timeout(period, value=(name, i))
            log.append((env.now, name, "tick", v))
        return f"{name} done"

    def failer(delay):
        yield env.timeout(delay)
        raise Boom(f"failed at {env.now}")

    def waiter():
        a = env.process(ticker("a", 3, 3))
        b = env.process(ticker("b", 2, 4))
        va = yield a
        log.append((env.now, "waiter", "a returned", va))
        vb = yield b  # b ended before a: processed already, its value goes in at once
        log.append((env.now, "waiter", "b returned", vb))
        try:
            yield env.process(failer(1))
        except Boom as e:
            log.append((env.now, "waiter", "caught", str(e)))
        done = env.timeout(0, value="zero")
        yield env.timeout(1)
        v = yield done  # processed a cycle ago
        log.append((env.now, "waiter", "old timeout", v))
        ev = env.event()
        env.process(trigger(ev, 4))
        v = yield ev
        log.append((env.now, "waiter", "event", v))
        both = yield env.all_of([env.timeout(2, "x"), env.timeout(5, "y")])
        log.append((env.now, "waiter", "all_of", sorted(both.values())))
        first = yield env.any_of([env.timeout(3, "p"), env.timeout(1, "q")])
        log.append((env.now, "waiter", "any_of", list(first.values())))
        return "waiter done"

    def trigger(ev, delay):
        yield env.timeout(delay)
        ev.succeed(("triggered", env.now))
        log.append((env.now, "trigger", "succeeded", None))

    def sleeper():
        try:
            yield env.timeout(100)
        except simpy.Interrupt as i:
            log.append((env.now, "sleeper", "interrupted", i.cause))
        yield env.timeout(1)
        log.append((env.now, "sleeper", "woke", None))

    def interrupter(target):
        yield env.timeout(7)
        target.interrupt("wake up")

    def same_time(name):
        yield env.timeout(5)
        log.append((env.now, name, "at 5", None))

    w = env.process(waiter())
    s = env.process(sleeper())
    env.process(interrupter(s))
    for name in ("t1", "t2", "t3"):  # three timeouts due at one time: processed in the order made
        env.process(same_time(name))
    return w


def _run(env_cls):
    env = env_cls()
    log = []
    w = _scenario(env, log)
    env.run()
    return log, w.value, env.now, next(env._eid), len(env._queue)


def test_the_scenario_runs_as_on_simpys_environment_event_by_event():
    ours, theirs = _run(Environment), _run(simpy.Environment)
    assert ours == theirs
    log, value, _now, _next_id, left = ours
    assert value == "waiter done" and left == 0
    assert len(log) == 20


def test_a_few_values_by_hand():
    log, *_ = _run(Environment)
    at = {(who, what): (t, v) for t, who, what, v in log}
    # a ticks at 3, 6, 9 (period 3): the waiter has a's value at 9 and b's (ended at 8) at once
    assert at[("waiter", "a returned")] == (9, "a done")
    assert at[("waiter", "b returned")] == (9, "b done")
    # the failer fails 1 later; the waiter catches its exception
    assert at[("waiter", "caught")] == (10, "failed at 10")
    # a timeout of 0 made at 10 is processed by 11, when the waiter yields it: its value at 11
    assert at[("waiter", "old timeout")] == (11, "zero")
    assert at[("waiter", "event")] == (15, ("triggered", 15))
    assert at[("waiter", "all_of")] == (20, ["x", "y"])
    assert at[("waiter", "any_of")] == (21, ["q"])
    assert at[("sleeper", "interrupted")] == (7, "wake up")
    assert at[("sleeper", "woke")] == (8, None)
    assert [who for t, who, what, _ in log if what == "at 5"] == ["t1", "t2", "t3"]


def test_processes_events_and_the_environment_are_the_kernels():
    env = Environment()

    def gen():
        yield env.timeout(1)

    p = env.process(gen())
    # its processes are the kernel's (SimPy's process as the kernel's event: tlmsim/engine/sim.py), and so is
    # the environment (SimPy's, written again: no simpy.Environment)
    assert type(p) is Process and isinstance(p, Event) and not isinstance(env, simpy.Environment)
    assert env.active_process is None and env.peek() == 0 and simpy.Environment().peek() == simpy.core.Infinity
    assert Environment().peek() == simpy.core.Infinity
    # its timeouts and events are the kernel's (tlmsim/engine/sim.py: SimPy's fields and methods)
    t = env.timeout(2, value=5)
    assert type(t) is Timeout and isinstance(t, Event) and t._delay == 2 and t.value == 5 and t.ok
    assert type(env.event()) is Event
    env.run()
    assert env.now == 2 and not p.is_alive and p.ok


def test_ids_and_queue_entries_are_simpys():
    # the queue holds (time, priority, id, event) in the same order with the same ids
    def entries(env_cls):
        env = env_cls(initial_time=3)
        t1 = env.timeout(4, "a")
        ev = env.event()
        env.schedule(ev, simpy.events.URGENT, 2)
        t0 = env.timeout(0)
        return [(t, prio, eid, type(e).__name__, e._value if e is not ev else None)
                for t, prio, eid, e in sorted(env._queue)], (t1, t0)

    ours, theirs = entries(Environment)[0], entries(simpy.Environment)[0]
    assert ours == theirs
    # by hand: ids 0, 1, 2 in the order scheduled; URGENT is priority 0, NORMAL 1
    assert ours == [(3, 1, 2, "Timeout", None), (5, 0, 1, "Event", None), (7, 1, 0, "Timeout", "a")]


def test_a_negative_delay_is_simpys_error():
    for env_cls in (Environment, simpy.Environment):
        with pytest.raises(ValueError, match="^Negative delay -1$"):
            env_cls().timeout(-1)


def _failure(env_cls):
    env = env_cls()

    def bad():
        yield env.timeout(1)
        raise Boom("bad")

    env.process(bad())
    with pytest.raises(Boom) as info:
        env.run()
    # env.run raises a copy of the failure; the process failed with the original (its cause)
    tb = info.value.__cause__.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    return str(info.value), frames


def test_an_uncaught_failure_ends_the_run_as_on_simpys_environment():
    msg, frames = _failure(Environment)
    assert msg == "bad" == _failure(simpy.Environment)[0]
    # the process step's own frame is stripped, as SimPy strips it: the failure's traceback ends
    # in the generator that raised
    assert frames[-1] == "bad" and "_resume" not in frames


def test_a_yield_of_no_event_is_simpys_error():
    def run(env_cls):
        env = env_cls()

        def odd():
            yield env.timeout(1)
            yield 42

        env.process(odd())
        with pytest.raises(RuntimeError) as info:
            env.run()
        return str(info.value)

    ours, theirs = run(Environment), run(simpy.Environment)
    assert ours.endswith('Invalid yield value "42"') and theirs.endswith('Invalid yield value "42"')


def test_a_failed_event_is_thrown_into_the_generator():
    def run(env_cls):
        env = env_cls()
        log = []

        def catcher():
            ev = env.event()
            ev.fail(Boom("early"))
            ev.defused = True
            yield env.timeout(1)
            try:
                yield ev  # processed (failed) already: thrown in at once
            except Boom as e:
                log.append((env.now, str(e), type(e.__cause__).__name__))
            yield env.timeout(1)
            log.append((env.now, "after"))

        env.process(catcher())
        env.run()
        return log

    assert run(Environment) == run(simpy.Environment) == [(1, "early", "Boom"), (2, "after")]
