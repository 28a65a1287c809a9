"""The per-layer counter sink's rule, by hand: counters a component adds between two of
its hops go with the later hop's layer; what it adds after its last hop goes with that
hop's layer; a hop of no layer (-1) takes the layer of the hop seen before it."""

from __future__ import annotations

from types import SimpleNamespace

from tlmsim.engine.attribution import LayerCounters


def _comp(**counters):
    return SimpleNamespace(stats=SimpleNamespace(c=dict(counters)))


def test_counts_go_with_the_later_hop_and_runs_fold_exactly():
    a, b = _comp(reads=0, bytes=0), _comp(reads=0)
    lc = LayerCounters()
    lc.attach(components={"a": a, "b": b})

    def hop(comp, name, layer, **add):
        for k, v in add.items():
            comp.stats.c[k] += v
        lc.hop(SimpleNamespace(layer=layer), name, 0, 0, 0, 0.0)

    hop(a, "a", 0, reads=1, bytes=64)      # layer 0
    hop(a, "a", 0, reads=2, bytes=128)     # layer 0
    a.stats.c["reads"] += 5                 # added between hops: goes with the next hop (layer 1)
    hop(a, "a", 1, bytes=32)
    hop(b, "b", -1, reads=7)                # no layer: the latest hop's (1)
    hop(a, "a", 0, reads=1)                 # back to layer 0
    a.stats.c["bytes"] += 1000              # after the last hop: its layer (0)
    assert lc.by_layer("a", 0) == {0: {"reads": 4, "bytes": 1192}, 1: {"reads": 5, "bytes": 32}}
    assert lc.by_layer("a", 0) == {0: {"reads": 4, "bytes": 1192}, 1: {"reads": 5, "bytes": 32}}  # idempotent
    assert lc.by_layer("b", 3) == {1: {"reads": 7}}


def test_a_component_without_hops_gives_its_counts_to_the_last_layer():
    c = _comp(refreshes=0)
    lc = LayerCounters()
    lc.attach(components={"c": c})
    c.stats.c["refreshes"] = 3
    assert lc.by_layer("c", 2) == {2: {"refreshes": 3}}
