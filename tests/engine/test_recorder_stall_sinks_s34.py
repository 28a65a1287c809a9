"""Which trace sinks a stall is handed to (session 34): ``Recorder.stall_sinks``, every sink but those
whose class sets ``timed_stalls = False`` (the per-layer attribution, whose ``stall`` does nothing);
``Component.stall`` counts every stall in the ledger and hands it to those sinks only."""

from __future__ import annotations

import simpy

from tlmsim.engine.attribution import LayerCounters
from tlmsim.engine.component import Component
from tlmsim.engine.recorder import Recorder


class _Sink:
    layer_only = False

    def __init__(self) -> None:
        self.stalls: list[tuple] = []

    def stall(self, component, reason, layer, start_ps, end_ps) -> None:
        self.stalls.append((component, reason, layer, start_ps, end_ps))


class _Untimed(_Sink):
    timed_stalls = False


class _Waiter(Component):
    KIND = "waiter"
    STALLS_AT_END = True


def test_stall_sinks_leave_out_the_sinks_without_timed_stalls():
    a, b, lc = _Sink(), _Untimed(), LayerCounters()
    rec = Recorder(sinks=[a, b, lc])
    assert rec.sinks == [a, b, lc] and rec.stall_sinks == [a]
    assert LayerCounters.timed_stalls is False and Recorder(sinks=[lc]).stall_sinks == []
    assert Recorder().stall_sinks == [] and Recorder(sinks=[b, a]).stall_sinks == [a]


def test_a_stall_is_counted_and_handed_to_the_stall_sinks_only():
    a, b = _Sink(), _Untimed()
    env = simpy.Environment()
    rec = Recorder(sinks=[b, a])
    w = _Waiter(name="w", env=env, recorder=rec)
    env.run(until=1000)
    w.stall("busy", 300, 2)  # ended now: from 700 to 1000 ps
    w.stall("busy", 50, 2, start_ps=10)
    w.stall("idle", 0, 2)  # no wait: neither counted nor handed on
    assert a.stalls == [("w", "busy", 2, 700, 1000), ("w", "busy", 2, 10, 60)] and b.stalls == []
    assert rec.stalls.total_ps("w", "busy") == 350 and rec.stalls.total_ps("w", "idle") == 0
    # without a sink that takes stalls the ledger still counts them
    rec2 = Recorder(sinks=[_Untimed(), LayerCounters()])
    w2 = _Waiter(name="w2", env=env, recorder=rec2)
    w2.stall("busy", 40, 1)
    assert rec2.stalls.total_ps("w2", "busy") == 40 and rec2.stall_sinks == []
