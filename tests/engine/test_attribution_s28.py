"""The per-layer counters on a component's int64 counters (session 28): the snapshot of a hop
is copied over the previous one within a run of same-layer hops, a new copy starts each run,
and reading the deltas mid-run (``by_layer``) leaves the run's start apart from its last hop."""

from __future__ import annotations

from types import SimpleNamespace

from tlmsim.engine.attribution import LayerCounters
from tlmsim.engine.stats import Counters


def _comp(*names):
    return SimpleNamespace(stats=SimpleNamespace(c=Counters(names)))


def test_same_layer_hops_reuse_one_snapshot_and_runs_start_new_ones():
    a = _comp("reads", "bytes")
    lc = LayerCounters()
    lc.attach(components={"a": a})
    st = lc._comps["a"]
    assert st.vals is a.stats.c.v and st.seen is st.run_start and list(st.seen) == [0, 0]
    a.stats.c.v[0] += 1
    lc.hop_layer("a", 0)  # a new run: a new snapshot, the old one its start
    first = st.seen
    assert first is not st.run_start and list(first) == [1, 0] and list(st.run_start) == [0, 0]
    a.stats.c.v[1] += 64
    lc.hop_layer("a", 0)  # the same layer: written over the same snapshot
    assert st.seen is first and list(first) == [1, 64] and list(st.run_start) == [0, 0]
    a.stats.c.v[0] += 2
    lc.hop_layer("a", 1)  # layer 1: its counts since the last hop of layer 0 (2 reads)
    assert st.seen is not first and list(st.run_start) == [1, 64]
    assert lc.by_layer("a", 1) == {0: {"reads": 1, "bytes": 64}, 1: {"reads": 2, "bytes": 0}}


def test_hops_after_reading_the_deltas_still_count():
    a = _comp("reads", "bytes")
    lc = LayerCounters()
    lc.attach(components={"a": a})
    a.stats.c.v[0] += 1
    lc.hop_layer("a", 0)
    assert lc.by_layer("a", 0) == {0: {"reads": 1, "bytes": 0}}
    a.stats.c.v[1] += 32
    lc.hop_layer("a", 0)  # same layer after by_layer: the run's start must not move with the snapshot
    a.stats.c.v[1] += 8
    lc.hop_layer("a", 0)
    assert lc.by_layer("a", 0) == {0: {"reads": 1, "bytes": 40}}
    a.stats.c.v[0] += 5  # after its last hop: with its layer
    assert lc.by_layer("a", 3) == {0: {"reads": 6, "bytes": 40}}
