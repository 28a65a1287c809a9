"""Multicast on the NoC by hand (issue 18, session 8, s8nocA): the tree booking
(Noc._book_tree), the tree's construction (Noc._tree) and Noc.reserve_multicast's
counts, groups and stalls, with exact values computed by hand.

Platform: a 3x3 mesh, 16 B flits, 1 GHz, R = 2, L = 1, C = 1, B = 8 (D = L + R = 3;
slack S = B - D - C = 4; a branching injection buffer's slack S0 = B - R - C = 5).
Endpoints: a (0,0), b (1,0), c (2,0), e (0,2), f (0,0)."""

import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.noc import Noc
from tlmsim.platform.noc import NocConfig

P = 1000  # ps per NoC cycle
BASE = dict(topology="mesh", mesh_cols=3, mesh_rows=3, link_width_bytes=16, clock_mhz=1000,
            router_latency_cycles=2, link_latency_cycles=1, credit_latency_cycles=1, buffer_flits=8,
            nodes={"a": (0, 0), "b": (1, 0), "c": (2, 0), "e": (0, 2), "f": (0, 0)})
AB = ((0, 0), (1, 0))  # the root link towards c
BC = ((1, 0), (2, 0))
AD = ((0, 0), (0, 1))  # the root link towards e
DE = ((0, 1), (0, 2))


class Hops:
    """A trace sink keeping (component, start_ps, end_ps, wait_ps) of every hop."""

    def __init__(self):
        self.rows = []

    def hop(self, txn, component, start_ps, end_ps, wait_ps, busy_ps):
        self.rows.append((component, start_ps, end_ps, wait_ps))

    def stall(self, *args):
        pass


def make(**cfg):
    hops = Hops()
    rec = Recorder(sinks=[hops])
    noc = Noc(name="noc", env=simpy.Environment(), recorder=rec, config=NocConfig(**{**BASE, **cfg}),
              accel_clock_mhz=500)
    return rec, noc, hops


def txn(noc, src, dst, nbytes):
    return noc.recorder.new_transaction(Cmd.WRITE, DataClass.SPIKES, 0, nbytes, src, dst, now_ps=0)


def stalls_by_link(noc):
    return {row["component"]: row["stall_ps"] for row in noc.parts()}


def test_groups_only_for_several_destinations_and_multicast_bytes_add_up():
    rec, noc, _ = make()
    # one destination: no group, no multicast bytes; a -> c is 2 hops, 1 flit: 2*3 + 1 = 7 cycles
    assert noc.reserve_multicast(txn(noc, "a", "g1", 16), ["c"], 0) == 7 * P
    assert noc.groups == {} and noc.stats.c["multicast_bytes"] == 0
    # two destinations: the group is recorded, 32 B then 48 B counted once each: 80 B
    noc.reserve_multicast(txn(noc, "a", "g2", 32), ["c", "e"], 100 * P)
    noc.reserve_multicast(txn(noc, "a", "g3", 48), ["e", "c"], 200 * P)
    assert noc.groups == {"g2": ("c", "e"), "g3": ("e", "c")}
    assert noc.stats.c["multicast_bytes"] == 80


def test_copies_without_multicast_are_counted_as_separate_packets():
    rec, noc, hops = make(multicast=False)
    # a -> {c, e, f}, 32 B = 2 flits, disjoint routes: c 2 hops, e 2 hops, f the source's router.
    # ends: c 2*3 + 2 = 8, e 8, f R + F = 4 -> 8; no link shared: no wait, no credit stall
    assert noc.reserve_multicast(txn(noc, "a", "g", 32), ["c", "e", "f"], 0) == 8 * P
    # the same at cycle 100: ends at 108
    assert noc.reserve_multicast(txn(noc, "a", "g", 32), ["c", "e", "f"], 100 * P) == 108 * P
    c = noc.stats.c
    # per call 3 packets of 2 flits: transfers 3, flits 6; flit_hops 2 * (2 + 2 + 0) = 8
    assert (c["transfers"], c["flits"], c["flit_hops"]) == (6, 12, 16)
    assert rec.stalls.by_reason("noc") == {}
    # one hop record per call, from its start, waiting 0
    assert hops.rows == [("noc", 0, 8 * P, 0), ("noc", 100 * P, 108 * P, 0)]


def test_copies_without_multicast_add_their_waits_and_credit_stalls():
    rec, noc, _ = make(multicast=False, buffer_flits=4)  # S = 4 - 3 - 1 = 0
    # a 16-flit worm b -> c holds (1,0)>(2,0) [2, 18): ends 2 + 1 + 16 = 19
    assert noc.reserve(txn(noc, "b", "c", 256), 0) == 19 * P
    # a -> {c}, 10 flits: link (0,0)>(1,0) head at 2; link (1,0)>(2,0) at 5, busy until 18: waits 13 > S = 0.
    # closed form: top = (10 - 1) // 4 = 2; the link upstream stalls 13 - 0 = 13 (one buffer behind).
    # tail: 18 + 10 + L = 29
    assert noc.reserve_multicast(txn(noc, "a", "g", 160), ["c"], 0) == 29 * P
    # second copy set: a -> {c, e} at cycle 100 without contention adds nothing
    noc.reserve_multicast(txn(noc, "a", "g", 32), ["c", "e"], 100 * P)
    assert rec.stalls.by_reason("noc") == {"link_busy": 13 * P, "link_credit": 13 * P}
    # packets: the unicast, 1 copy, then 2 copies: 4; flits 16 + 10 + 2 * 2 = 30
    assert (noc.stats.c["transfers"], noc.stats.c["flits"]) == (4, 30)


def _blocked_root_multicast(noc, hops_ahead, t0):
    """b's worm of ``hops_ahead`` flits holds the root link a>b [t0 + 2, t0 + 2 + hops_ahead); then a
    12-flit (192 B) multicast a -> {c, e} injected at t0. Returns its end (cycles)."""
    noc.reserve(txn(noc, "a", "b", 16 * hops_ahead), t0 * P)
    return noc.reserve_multicast(txn(noc, "a", "g", 192), ["c", "e"], t0 * P) // P


def test_a_blocked_root_branch_holds_its_sibling_back_through_the_injection_buffer():
    rec, noc, hops = make()
    seen = []
    # tree: node 1 = a>b (parent 0), 2 = b>c (1), 3 = a>d (0), 4 = d>e (3); the root router branches.
    # Heads (t0 = 0): a1 = max(0 + R, 2 + 8) = 10 (waits 8 > S0 = 5: walk the flits), a2 = 13, a3 = 2, a4 = 5.
    # Flits 0..7 fill the injection buffer (B = 8); flit j >= 8 leaves it when a1 + (j - 8) + C,
    # i.e. 11, 12, 13, 14 for j = 8..11 (instead of 8..11): the injection buffer stalls 3 cycles.
    # a>d: flit j >= 8 leaves at s0(j) + R = 13..16: tail 16 = a3 + 11 + 3 -> credit stall 3;
    # d>e follows: 16..19, tail 19 = a4 + 11 + 3 -> 3. a>b (10..21) and b>c (13..24) do not stall.
    # ends: c 24 + 1 + L = 26, e 19 + 1 + 1 = 21 -> 26.
    noc.reserve(txn(noc, "a", "b", 128), 0)  # 8 flits on a>b: [2, 10)
    noc.link_observer = lambda link, a, b, f: seen.append((link, a, b, f))
    assert noc.reserve_multicast(txn(noc, "a", "g", 192), ["c", "e"], 0) == 26 * P
    # the observer sees each tree link [head in, tail out + 1): a>b [10, 22), b>c [13, 25), a>d [2, 17), d>e [5, 20)
    assert seen == [(AB, 10, 22, 12), (BC, 13, 25, 12), (AD, 2, 17, 12), (DE, 5, 20, 12)]
    # the same again at cycle 100 (every link free by 25): the stalls add up per link
    assert _blocked_root_multicast(noc, 8, 100) == 126
    assert rec.stalls.by_reason("noc") == {"link_busy": 2 * 8 * P, "link_credit": 2 * (3 + 3) * P}
    per_link = stalls_by_link(noc)
    assert per_link["noc:(0,0)>(1,0)"] == {"link_busy": 16 * P}
    assert per_link["noc:(0,0)>(0,1)"] == {"link_credit": 6 * P}
    assert per_link["noc:(0,1)>(0,2)"] == {"link_credit": 6 * P}
    assert per_link["noc:(1,0)>(2,0)"] == {}
    # the multicast's hops: from its start, waiting 8 + 6 cycles
    assert [r for r in hops.rows if r[3]] == [("noc", 0, 26 * P, 14 * P), ("noc", 100 * P, 126 * P, 14 * P)]


def test_the_injection_buffer_slack_is_buffer_minus_router_minus_credit():
    # S0 = B - R - C = 5. A root wait of 6 stalls the sibling 6 - 5 = 1 cycle on a>d and d>e:
    # flit 8 leaves the injection buffer at a1 + C = 8 + 1 = 9 (instead of 8), and so on.
    # ends: c: a2 = 8 + 3 = 11, tail 22 -> 24; e: a4 = 5, tail 5 + 11 + 1 = 17 -> 19.
    rec, noc, _ = make()
    assert _blocked_root_multicast(noc, 6, 0) == 24
    assert rec.stalls.by_reason("noc") == {"link_busy": 6 * P, "link_credit": 2 * P}
    # a root wait of exactly S0 = 5: flit 8 leaves at a1 + C = 7 + 1 = 8, on time: no credit stall
    rec, noc, _ = make()
    assert _blocked_root_multicast(noc, 5, 0) == 7 + 3 + 11 + 2
    assert rec.stalls.by_reason("noc") == {"link_busy": 5 * P}


def test_an_idle_link_is_free_from_cycle_0_with_a_zero_latency_router():
    # R = 0, L = 1: D = 1, S = 8 - 1 - 1 = 6. a -> {c, e}, 2 flits at cycle 0: the root links take the
    # head at 0 + R = 0 (never booked: free at 0, no wait), the next links at 1; tails at 2;
    # ends 2 + 1 + L = 4
    rec, noc, _ = make(router_latency_cycles=0)
    assert noc.reserve_multicast(txn(noc, "a", "g", 32), ["c", "e"], 0) == 4 * P
    assert rec.stalls.by_reason("noc") == {}
    assert noc.stats.c["flit_hops"] == 2 * 4
