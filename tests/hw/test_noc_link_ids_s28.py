"""The NoC's links by integer id (session 28): a link's id is its position in ``Noc.links``;
the free cycles and stall totals are int64 arrays by id, read with ``link_free`` and
``parts``; routes and trees are built once with their links' ids and traffic counters.
Hand-computed on tests/hw/test_noc_by_hand.py's line of three routers and crossbar."""

from __future__ import annotations

import pytest

from tests.hw.test_noc_by_hand import LINE, XBAR, P, make, txn
from tlmsim.engine.transaction import Cmd
from tlmsim.errors import ConfigError


def test_a_links_id_is_its_position_and_link_free_reads_it():
    _, noc = make(LINE)
    assert [noc._link_id[link] for link in noc.links] == list(range(len(noc.links)))
    assert all(noc.link_free(link) == 0 for link in noc.links)
    # e0 -> e2, 64 B = 4 flits at 0: link 1 [2, 6), link 2 [5, 9)
    assert noc.book(Cmd.WRITE, 0, 64, "e0", "e2", 0, 0) == (10 * P, 0)
    l1, l2 = noc.path("e0", "e2")
    assert (noc.link_free(l1), noc.link_free(l2)) == (6, 9)
    assert noc._free[noc._link_id[l2]] == 9
    assert sum(noc.link_free(link) for link in noc.links) == 15  # no other link touched
    with pytest.raises(KeyError):
        noc.link_free(((0, 0), (2, 0)))


def test_a_route_built_but_never_used_adds_no_link_row():
    _, noc = make(LINE)
    tree = noc._tree("e0", ("e2",))
    assert tree.ids == (-1, *(noc._link_id[link] for link in noc.path("e0", "e2"))) and tree.pids == tree.ids[1:]
    assert tree.stats == [0, 0, 0] and noc.parts() == []
    noc.book(Cmd.WRITE, 0, 48, "e0", "e2", 0, 0)  # the same tree: its counters, under its path
    assert tree.stats == [1, 48, 3] and noc._route_stats[tree.path] is tree.stats
    assert [(r["component"], r["writes"], r["write_bytes"]) for r in noc.parts()] == [
        ("noc:(0,0)>(1,0)", 1, 48), ("noc:(1,0)>(2,0)", 1, 48)]
    # an unused route built before a used one: the used one's links are still counted
    _, noc = make(LINE)
    noc._tree("e1", ("e2",))
    noc.book(Cmd.WRITE, 0, 16, "e0", "e1", 0, 0)
    assert [(r["component"], r["writes"]) for r in noc.parts()] == [("noc:(0,0)>(1,0)", 1)]


def test_crossbar_ports_by_id_and_an_unknown_endpoint():
    _, noc = make(XBAR)
    assert noc.reserve(txn(noc, "a", "g", 64), 0) == 7 * P
    assert noc.reserve(txn(noc, "a", "b", 64), 0) == 11 * P  # waits 4 for in:a
    assert {link: noc.link_free(link) for link in noc.links if noc.link_free(link)} == {
        ("in", "a"): 10, ("out", "g"): 6, ("out", "b"): 10}
    assert noc._link_wait[noc._link_id["in", "a"]] == 4 and sum(noc._link_wait) == 4
    assert noc._ports["a", "b"] == (noc._link_id["in", "a"], noc._link_id["out", "b"])
    with pytest.raises(ConfigError, match="no NoC endpoint named 'zz'"):
        noc.book(Cmd.WRITE, 0, 16, "a", "zz", 0, 0)
    assert ("a", "zz") not in noc._ports


def test_the_bus_is_link_zero():
    _, noc = make({**LINE, "topology": "bus"})
    assert noc.links == [("bus",)]
    # R = 2: held [2, 4) by 32 B = 2 flits; the next at 1 ns waits until 4: [4, 6)
    assert noc.book(Cmd.WRITE, 0, 32, "e0", "e2", 0, 0) == ((2 + 2 + 1) * P, 0)
    assert noc.book(Cmd.WRITE, 0, 32, "e1", "e0", 1 * P, 0) == ((4 + 2 + 1) * P, 1 * P)
    assert noc.link_free(("bus",)) == 6 and list(noc._link_wait) == [1]
    assert noc._hold_stats[0] is noc._route_stats[("bus",),] and noc._hold_stats[0] == [2, 64, 4]
    assert [(r["component"], r["writes"], r["busy_ps"], r["stall_ps"]) for r in noc.parts()] == [
        ("noc:bus", 2, 4 * P, {"link_busy": 1 * P})]


def test_a_tree_booked_twice_counts_both_transfers_on_its_links():
    # B = 3 < D + C = 4: every worm goes through the general tree booking (the flit walk), which counts a
    # transfer on its tree's counters: 32 B = 2 flits at 0, then 48 B = 3 flits at 100 ns (no contention)
    _, noc = make(LINE, buffer_flits=3)
    assert noc._slack < 0
    noc.book(Cmd.WRITE, 0, 32, "e0", "e2", 0, 0)
    noc.book(Cmd.WRITE, 0, 48, "e0", "e2", 100 * P, 0)
    assert noc._unicast["e0", "e2"].stats == [2, 80, 5]
    assert [(r["component"], r["writes"], r["write_bytes"], r["busy_ps"]) for r in noc.parts()] == [
        ("noc:(0,0)>(1,0)", 2, 80, 5 * P), ("noc:(1,0)>(2,0)", 2, 80, 5 * P)]
