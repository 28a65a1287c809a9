"""A worm over one link (neighbouring routers; session 17, ctlPath): ``Noc._book_chain`` books it
in closed form, with nothing behind it to back up. Hand-computed from the module docstring of
tlmsim/hw/noc.py with tests/hw/test_noc_by_hand.py's line of three routers (R = 2, L = 1, C = 1,
B = 4: slack 0; 16 B flits; 1 ns NoC cycles)."""

from __future__ import annotations

from tests.hw.test_noc_by_hand import L1, L2, LINE, P, make, stall_keys
from tlmsim.engine.transaction import Cmd


def test_a_one_link_worm_waits_for_its_link_and_then_streams():
    rec, noc = make(LINE)
    seen = []
    noc.link_observer = lambda link, a, b, f: seen.append((noc.link_name(link), a, b, f))
    # e0 -> e1 at 0, 128 B = 8 flits: head enters the link at 0 + R = 2, holds it [2, 10), tail arrives at
    # 2 + 8 + L = 11. e0 -> e1 at 3 ns, 32 B = 2 flits: head at 5, the link is busy until 10: waits 5 cycles,
    # holds it [10, 12), arrives at 13. e1 -> e2 at 0, 48 B = 3 flits: its own link, no wait: [2, 5), 6.
    a = noc.book(Cmd.WRITE, 0, 128, "e0", "e1", 0, 1)
    b = noc.book(Cmd.WRITE, 0, 32, "e0", "e1", 3 * P, 2)
    c = noc.book(Cmd.WRITE, 0, 48, "e1", "e2", 0, 2)
    assert (a, b, c) == ((11 * P, 0), (13 * P, 5 * P), (6 * P, 0))
    assert seen == [(L1, 2, 10, 8), (L1, 10, 12, 2), (L2, 2, 5, 3)]
    assert stall_keys(rec) == {("link_busy", 2): 5 * P}  # no credit stall: nothing behind one link
    rows = {r["component"]: r for r in noc.parts()}
    assert (rows[L1]["writes"], rows[L1]["write_bytes"], rows[L1]["busy_ps"]) == (2, 160, 10 * P)
    assert rows[L1]["stall_ps"] == {"link_busy": 5 * P}
    assert (rows[L2]["writes"], rows[L2]["write_bytes"], rows[L2]["busy_ps"], rows[L2]["stall_ps"]) == (1, 48, 3 * P, {})
    c = noc.stats.c
    assert (c["transfers"], c["flits"], c["flit_hops"], c["bit_hops"]) == (3, 13, 13, 8 * 208)


def test_a_one_link_worm_behind_a_two_link_worm_waits_for_the_tail():
    # e0 -> e2 at 0, 64 B = 4 flits: link 1 [2, 6), link 2 [5, 9), arrives at 5 + 4 + 1 = 10. Then e0 -> e1
    # at 1 ns, 16 B: head at 3, link 1 free at 6: waits 3, [6, 7), arrives at 8.
    rec, noc = make(LINE)
    seen = []
    noc.link_observer = lambda link, a, b, f: seen.append((noc.link_name(link), a, b, f))
    assert noc.book(Cmd.WRITE, 0, 64, "e0", "e2", 0, 0) == (10 * P, 0)
    assert noc.book(Cmd.WRITE, 0, 16, "e0", "e1", 1 * P, 0) == (8 * P, 3 * P)
    assert seen == [(L1, 2, 6, 4), (L2, 5, 9, 4), (L1, 6, 7, 1)]
    assert {link: noc.link_free(link) for link in noc.links if noc.link_free(link)} == {
        noc.path("e0", "e2")[0]: 7, noc.path("e0", "e2")[1]: 9}
    assert stall_keys(rec) == {("link_busy", 0): 3 * P}


def test_a_one_link_worm_without_router_latency_starts_at_its_start():
    # R = 0: e0 -> e1 at 0, 32 B = 2 flits: head on the unused link at 0, [0, 2), arrives at 2 + L = 3
    rec, noc = make(LINE, router_latency_cycles=0)
    assert noc.book(Cmd.WRITE, 0, 32, "e0", "e1", 0, 0) == (3 * P, 0)
    assert stall_keys(rec) == {}
