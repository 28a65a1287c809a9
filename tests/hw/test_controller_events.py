"""The controller's lean event helpers keep SimPy's event order exactly.

Each test runs one scenario twice, once with the SimPy construct the helper replaces
(``simpy.Store``, ``simpy.AllOf``, one ``env.process`` per DMA lane plus an ``AllOf``)
and once with the helper, with bystander processes acting at the same simulated
times, and compares the order in which everything happened."""

from __future__ import annotations

import simpy

from tlmsim.hw.controller import _AllDone, _Lanes, _Queue


class _Ctrl:
    """What :class:`_Lanes` needs of the controller."""

    def __init__(self, env):
        self.env = env
        self.eids_unscheduled = 0


def _bystanders(env, log, times):
    """Processes that log at the given times and right after them (zero-delay
    timeouts), started and restarted at times that interleave their events with the
    scenario's at every tie."""
    def one(k, t):
        yield env.timeout(t)
        log.append((env.now, f"bystander {k}"))
        yield env.timeout(0)
        log.append((env.now, f"bystander {k} again"))

    def ticker(k, phase):
        yield env.timeout(phase)
        for i in range(8):
            yield env.timeout(1 if i % 2 else 0)
            log.append((env.now, f"ticker {k} {i}"))
            yield env.timeout(0)
            log.append((env.now, f"ticker {k} {i} again"))
    for k, t in enumerate(times):
        env.process(one(k, t))
    for k in range(3):
        env.process(ticker(k, k % 2))


def _queue_run(make):
    env = simpy.Environment()
    log = []
    q = make(env)

    def producer():
        for i in range(6):
            yield env.timeout(i % 3)  # several puts at equal times, some with the consumer waiting
            q.put(i)
            log.append((env.now, f"put {i}"))

    def consumer():
        for _ in range(6):
            x = yield q.get()
            log.append((env.now, f"got {x}"))
            yield env.timeout(1 if x % 2 else 0)

    env.process(producer())
    env.process(consumer())
    _bystanders(env, log, [0, 1, 1, 2, 3, 3, 4, 6])
    env.run()
    return log


def test_queue_keeps_the_store_order():
    assert _queue_run(_Queue) == _queue_run(simpy.Store)


def _join_run(make):
    env = simpy.Environment()
    log = []

    def worker(k, d):
        yield env.timeout(d)
        log.append((env.now, f"worker {k} ends"))

    def parent():
        procs = [env.process(worker(k, d)) for k, d in enumerate((2, 1, 2))]
        yield env.timeout(1)
        yield make(env, procs)
        log.append((env.now, "parent resumes"))
        yield make(env, [])
        log.append((env.now, "parent resumes again"))

    env.process(parent())
    _bystanders(env, log, [1, 2, 2, 3])
    env.run()
    return log


def test_alldone_keeps_the_allof_order():
    assert _join_run(_AllDone) == _join_run(simpy.AllOf)


def _lane(env, log, name, delays):
    """A DMA lane's shape: one timeout per block (each > 0), logging each block."""
    for i, d in enumerate(delays):
        yield env.timeout(d)
        log.append((env.now, f"{name} block {i}"))


def _lanes_run(use_lanes, lazy, delays):
    env = simpy.Environment()
    log = []
    ctrl = _Ctrl(env)

    def transfer(tag):
        gens = [_lane(env, log, f"{tag} lane {k}", delays[k]) for k in range(1, len(delays))]
        if use_lanes:
            group = _Lanes(ctrl, gens, lazy)
            yield from _lane(env, log, f"{tag} lane 0", delays[0])
            yield group.join()
        else:
            procs = [env.process(g) for g in gens]
            yield from _lane(env, log, f"{tag} lane 0", delays[0])
            yield simpy.AllOf(env, procs)
        log.append((env.now, f"{tag} done"))

    def parent():
        yield env.timeout(1)
        env.process(transfer("b"))
        yield from transfer("a")
        log.append((env.now, "parent resumes"))

    env.process(parent())
    _bystanders(env, log, [1, 2, 3, 3, 4, 5, 5, 6])
    env.run()
    return log, ctrl.eids_unscheduled


def test_lanes_keep_the_process_order():
    cases = [
        [(2, 2), (1, 3), (2, 2)],  # lane 0 ends together with other lanes, one still running
        [(2, 2), (1, 3), (1, 1)],  # lane 0 ends last, together with lane 1 (whose end is still pending)
        [(4,), (1, 1), (2, 1)],  # every other lane ends before lane 0
        [(1,), (2, 2), (1, 1)],  # lane 0 ends first
        [(1, 1), (1, 1), (1, 1), (2,)],  # all together
    ]
    for delays in cases:
        ref, _ = _lanes_run(False, False, delays)
        for lazy in (False, True):
            got, unscheduled = _lanes_run(True, lazy, delays)
            assert got == ref, (delays, lazy)
            assert unscheduled >= 0


def test_the_controllers_fresh_and_succeed_are_events_succeed_in_either_environment():
    from tlmsim.engine.sim import Environment, Event
    from tlmsim.hw.controller import _fresh, _succeed

    for env_cls in (Environment, simpy.Environment):
        env = env_cls(initial_time=4)
        env.timeout(1)  # takes id 0
        ev = _fresh(env)
        assert type(ev) is Event and ev.env is env and ev.callbacks == [] and not ev.triggered and not ev.processed
        _succeed(ev, "v")
        assert ev.triggered and ev.ok and ev.value == "v"
        assert [(t, int(p), i) for t, p, i, e in env._queue if e is ev] == [(4, 1, 1)]  # SimPy's succeed: now, NORMAL, next id
        env.run()
        assert ev.processed and env.now == 5
