"""NoC flow control: finite router buffers, credits, wormhole backpressure, saturation,
multicast under backpressure, per-link stalls. Every value is worked out by hand.

Notation (docs/model.md, 'Network-on-chip'): R router, L link, C credit latency,
B buffer_flits, F flits, D = L + R per hop; flit j leaves node i at s_i(j).
"""

import random

import pytest
import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.noc import Noc
from tlmsim.platform.noc import NocConfig

P = 1000  # ps per NoC cycle (1 GHz)
#: a 3x2 mesh, 16 B flits, R = 2, L = 1, C = 1: the credit round trip D + C is 4 cycles
BASE = {"topology": "mesh", "mesh_cols": 3, "mesh_rows": 2, "link_width_bytes": 16, "clock_mhz": 1000,
        "router_latency_cycles": 2, "link_latency_cycles": 1, "credit_latency_cycles": 1,
        "nodes": {"a": (0, 0), "x": (0, 0), "m": (1, 0), "m2": (1, 0), "g": (2, 0), "u": (1, 1)}}


def make(**cfg):
    rec = Recorder()
    noc = Noc(name="noc", env=simpy.Environment(), recorder=rec, config=NocConfig(**{**BASE, **cfg}),
              accel_clock_mhz=500)
    return rec, noc


def send(noc, src, dst, nbytes, start_cycle=0):
    txn = noc.recorder.new_transaction(Cmd.WRITE, DataClass.SPIKES, 0, nbytes, src, dst, now_ps=0)
    return noc.reserve(txn, start_cycle * P) // P


def line(n, **cfg):
    """A 1-row mesh of n routers with endpoint e<k> at router k."""
    return make(mesh_cols=n, mesh_rows=1, nodes={f"e{k}": (k, 0) for k in range(n)}, **cfg)


@pytest.mark.parametrize("hops, flits, buf", [(1, 1, 4), (2, 4, 4), (4, 10, 8), (4, 10, 4), (3, 33, 5), (4, 3, 64)])
def test_zero_load_latency_is_hops_times_router_plus_link_plus_serialisation(hops, flits, buf):
    # buffers at least the credit round trip (D + C = 4) never slow an unloaded worm:
    # latency = H * (R + L) + F
    _, noc = line(5, buffer_flits=buf)
    assert send(noc, "e0", f"e{hops}", 16 * flits) == hops * 3 + flits
    assert noc.stats.c["flit_hops"] == hops * flits


def test_buffer_shorter_than_the_credit_round_trip_halves_the_rate():
    # B = 2 < D + C = 4: a link can have at most 2 flits unacknowledged per 4-cycle round
    # trip. 2 hops, F = 4, from cycle 0 (node 0 = injection buffer, D0 = R = 2):
    #   j=0: s0 0, s1 2, s2 5        j=1: s0 1, s1 3, s2 6
    #   j=2: s0 max(2, s1(0)+1)=3; s1 max(4, s0+2=5, s2(0)+1=6)=6; s2 max(7, 6+3)=9
    #   j=3: s0 max(4, s1(1)+1)=4; s1 max(7, 6, s2(1)+1=7)=7;     s2 max(10, 7+3)=10
    # tail arrives s2(3) + 1 + L = 12, 2 cycles after the unloaded 2*3 + 4 = 10.
    rec, noc = line(3, buffer_flits=2)
    assert send(noc, "e0", "e2", 64) == 12
    # credit stalls: link 1 held 7 - (2 + 3) = 2 cycles longer, link 2 10 - (5 + 3) = 2
    assert rec.stalls.by_reason("noc") == {"link_credit": 4 * P}
    # the same worm with B = 4 streams: 10
    _, noc4 = line(3, buffer_flits=4)
    assert send(noc4, "e0", "e2", 64) == 10


def test_two_flows_sharing_a_link():
    # m -> g (1 hop, 8 flits) at 0: link (1,0)>(2,0) held [2, 10), tail 2 + 1 + 8 = 11.
    # a -> g (2 hops, 8 flits) at 0: link (0,0)>(1,0) at 2; reaches the shared link at 5, waits
    # until 10 (5 cycles); tail 10 + 1 + 8 = 19. B = 8 >= F: the whole worm fits in the
    # buffer of router (1,0), so the first link is not held longer (no credit stall).
    rec, noc = make()
    assert send(noc, "m", "g", 128) == 11
    assert send(noc, "a", "g", 128) == 19
    assert rec.stalls.by_reason("noc") == {"link_busy": 5 * P}
    rows = {r["component"]: r for r in noc.parts()}
    assert rows["noc:(1,0)>(2,0)"]["stall_ps"] == {"link_busy": 5 * P}
    assert rows["noc:(0,0)>(1,0)"]["stall_ps"] == {}
    assert (rows["noc:(1,0)>(2,0)"]["writes"], rows["noc:(1,0)>(2,0)"]["write_bytes"]) == (2, 256)
    assert rows["noc:(1,0)>(2,0)"]["busy_ps"] == 16 * P


def _backpressure(buf):
    """m -> g holds the link (1,0)>(2,0) [2, 18); a -> g (16 flits) blocks behind it for 13
    cycles at router (1,0); then x -> m (4 flits) needs the link (0,0)>(1,0) a -> g crossed."""
    rec, noc = make(buffer_flits=buf)
    assert send(noc, "m", "g", 256) == 2 + 1 + 16
    # a -> g: head on link 1 at 2, on link 2 at 5 -> waits until 18 (13); tail 18 + 1 + 16 = 35
    assert send(noc, "a", "g", 256) == 35
    return rec, noc, send(noc, "x", "m", 64)


def test_a_small_buffer_makes_an_upstream_flow_stall_by_the_exact_amount():
    # B = 8 (slack B - D - C = 4): a -> g's flits 0..7 cross link 1 at 2..9 and fill the buffer
    # at (1,0); flit 8 needs the credit of flit 0, which leaves at 18: 18 + C = 19, so flits
    # 8..15 cross at 19..26 and link 1 is free at 27: held 13 - 4 = 9 cycles longer.
    # x -> m (4 flits): head ready at 2, waits until 27; tail 27 + 1 + 4 = 32.
    rec, noc, end8 = _backpressure(8)
    assert end8 == 32
    assert rec.stalls.by_reason("noc") == {"link_busy": (13 + 25) * P, "link_credit": 9 * P}
    rows = {r["component"]: r["stall_ps"] for r in noc.parts()}
    assert rows["noc:(0,0)>(1,0)"] == {"link_busy": 25 * P, "link_credit": 9 * P}
    assert rows["noc:(1,0)>(2,0)"] == {"link_busy": 13 * P}
    # B = 32 >= F: the worm drains into the buffer; link 1 is free when its tail left, at
    # 2 + 16 = 18 (the buffer still holds its last flits, but they leave by 33: 33 + C + 1 - 32 = 3);
    # x -> m waits until 18: 18 + 1 + 4 = 23, 9 cycles earlier
    rec, noc, end32 = _backpressure(32)
    assert end32 == 23 and end8 - end32 == 9
    assert rec.stalls.by_reason("noc") == {"link_busy": (13 + 16) * P}
    # B = 16 = F: no credit stall either, but the buffer at (1,0) holds all of a -> g until its
    # flits leave (the last at 33): the next worm's 16 flits fit at full rate from 33 + 1 + 1 - 16 = 19
    _, _, end16 = _backpressure(16)
    assert end16 == 19 + 1 + 4


@pytest.mark.parametrize("n, f", [(1, 4), (5, 4), (20, 8)])
def test_saturation_throughput_of_k_flows_into_one_link_meets_the_bound(n, f):
    # k flows (a from two hops away, m and m2 from the link's own router) each send n packets
    # of f flits into g at cycle 0, round robin. The shared link (1,0)>(2,0) carries one flit
    # per cycle from 5 (a's first head) without a gap, so the last tail arrives at
    # 5 + k*n*f + L; the bytes delivered per cycle approach the bound of link_width_bytes = 16.
    k = 3
    _, noc = make()
    end = max(send(noc, src, "g", 16 * f) for _ in range(n) for src in ("a", "m", "m2"))
    assert end == 5 + k * n * f + 1
    rows = {r["component"]: r for r in noc.parts()}
    assert rows["noc:(1,0)>(2,0)"]["busy_ps"] == k * n * f * P  # busy every cycle of [5, 5 + knf)
    throughput = 16 * k * n * f / end
    assert throughput <= 16 and throughput == pytest.approx(16 * k * n * f / (k * n * f + 6))


def test_multicast_under_backpressure_crosses_each_tree_link_once_and_couples_its_branches():
    # m -> g holds (1,0)>(2,0) [2, 18). Then a multicasts F = 16 flits to g and u with B = 4
    # (slack 0). Tree: link 1 (0,0)>(1,0) head 2; link 2 (1,0)>(2,0) head max(5, 18) = 18
    # (waits 13); link 3 (1,0)>(1,1) head 5. Router (1,0) replicates: a flit leaves its buffer
    # when both branches took it. Walking the flits: flit 4 on link 1 needs the credit of
    # flit 0 from both branches, max(18, 5) + 1 = 19; from there s1(j) = 15 + j and both
    # branches s(j) = 18 + j. Link 1 ends at s1(15) = 30 (held 30 - 17 = 13 longer), link 3 at
    # 33 (33 - 20 = 13 longer), link 2 on time. Tails: g and u at 33 + 1 + 1 = 35.
    rec, noc = make(buffer_flits=4)
    send(noc, "m", "g", 256)
    t = rec.new_transaction(Cmd.WRITE, DataClass.WEIGHTS, 0, 256, "a", "g", now_ps=0)
    assert noc.reserve_multicast(t, ["g", "u"], 0) == 35 * P
    assert noc.stats.c["flit_hops"] == 16 + 16 * 3  # the unicast, then each tree link once
    assert noc.stats.c["multicast_bytes"] == 256
    assert rec.stalls.by_reason("noc") == {"link_busy": 13 * P, "link_credit": 26 * P}
    # link 3 is free at 34: m2 -> u (4 flits) from 0 waits for it: 34 + 1 + 4 = 39
    assert send(noc, "m2", "u", 64) == 39
    # with B = 64 the blocked branch does not hold the other one: link 3 free at 5 + 16 = 21
    rec, noc = make(buffer_flits=64)
    send(noc, "m", "g", 256)
    t = rec.new_transaction(Cmd.WRITE, DataClass.WEIGHTS, 0, 256, "a", "g", now_ps=0)
    assert noc.reserve_multicast(t, ["g", "u"], 0) == 35 * P
    assert rec.stalls.by_reason("noc") == {"link_busy": 13 * P}
    assert send(noc, "m2", "u", 64) == 21 + 1 + 4


def test_multicast_to_one_endpoint_and_unicasts_count_no_multicast_bytes():
    rec, noc = make()
    t = rec.new_transaction(Cmd.WRITE, DataClass.WEIGHTS, 0, 64, "a", "g", now_ps=0)
    assert noc.reserve_multicast(t, ["g"], 0) == (2 * 3 + 4) * P
    send(noc, "a", "u", 64)
    assert noc.stats.c["multicast_bytes"] == 0


def _reference(cfg, transfers):
    """An independent flit-by-flit model of unicast worms on a line of routers (the
    rules of docs/model.md), for comparison with the NoC's closed forms. Node 0 is the
    source router's injection buffer (flit j enters it at s + j at the earliest, leaves
    it R later onto link 1), nodes 1..n the links."""
    r, l, b, c = cfg["R"], cfg["L"], cfg["B"], cfg["C"]
    free, ends = {}, []
    for src, dst, f, s in transfers:
        links = [None] + [(k, k + 1) for k in range(src, dst)]
        n = len(links)
        dl = [0, r] + [l + r] * (n - 2)
        sched = [[0] * f for _ in range(n)]
        sched[0][0] = s
        for i in range(1, n):
            sched[i][0] = max(sched[i - 1][0] + dl[i], free.get(links[i], 0))
        for j in range(1, f):
            for i in range(n):
                t = max(sched[i][j - 1] + 1, s + j if i == 0 else sched[i - 1][j] + dl[i])
                if j >= b and i + 1 < n:
                    t = max(t, sched[i + 1][j - b] + c)
                sched[i][j] = t
        for i in range(1, n):
            fl = sched[i][f - 1] + 1
            if i + 1 < n:
                fl = max(fl, sched[i + 1][f - 1] + c + 1 - b)
            free[links[i]] = fl
        ends.append(sched[n - 1][f - 1] + 1 + l)
    return ends


@pytest.mark.parametrize("seed", range(40))
def test_closed_form_backpressure_matches_a_flit_by_flit_walk(seed):
    rng = random.Random(seed)
    r, l, c = rng.randint(0, 3), rng.randint(0, 2), rng.randint(0, 2)
    b = r + l + c + rng.randint(0, 4)  # closed forms: buffers at least the credit round trip
    _, noc = line(6, router_latency_cycles=r, link_latency_cycles=l, credit_latency_cycles=c, buffer_flits=max(b, 1))
    transfers = []
    for _ in range(12):
        src = rng.randint(0, 4)
        transfers.append((src, rng.randint(src + 1, 5), rng.randint(1, 24), rng.randint(0, 30)))
    got = [send(noc, f"e{a}", f"e{z}", 16 * f, s) for a, z, f, s in transfers]
    assert got == _reference({"R": r, "L": l, "B": max(b, 1), "C": c}, transfers)
    # and the general flit walk of the NoC itself (buffers below the round trip) agrees too
    b2 = rng.randint(1, 3)
    _, noc2 = line(6, router_latency_cycles=r, link_latency_cycles=l, credit_latency_cycles=c, buffer_flits=b2)
    got2 = [send(noc2, f"e{a}", f"e{z}", 16 * f, s) for a, z, f, s in transfers]
    assert got2 == _reference({"R": r, "L": l, "B": b2, "C": c}, transfers)


def test_bus_and_crossbar_ignore_buffers_and_report_their_links():
    for buf in (1, 64):
        _, bus = make(topology="bus", buffer_flits=buf)
        assert send(bus, "a", "g", 64) == 2 + 1 + 4 and send(bus, "m", "u", 64) == 6 + 1 + 4
        assert [(r["component"], r["writes"], r["stall_ps"]) for r in bus.parts()] == [
            ("noc:bus", 2, {"link_busy": 4 * P})]
        _, xbar = make(topology="crossbar", buffer_flits=buf)
        assert send(xbar, "a", "g", 64) == 7 and send(xbar, "m", "g", 64) == 11
        rows = {r["component"]: r["stall_ps"] for r in xbar.parts()}
        # m -> g waited for the output port to g, not for its own input port
        assert rows == {"noc:in:a": {}, "noc:out:g": {"link_busy": 4 * P}, "noc:in:m": {}}


def test_link_observer_sees_every_hold_including_the_backpressure():
    _, noc = make(buffer_flits=8)
    seen = []
    noc.link_observer = lambda link, a, b, f: seen.append((noc.link_name(link), a, b, f))
    send(noc, "m", "g", 256)
    send(noc, "a", "g", 256)
    # a -> g holds link 1 from its head (2) until its tail left (26) + 1: 16 flits + 9 credit stall
    assert seen == [("noc:(1,0)>(2,0)", 2, 18, 16), ("noc:(0,0)>(1,0)", 2, 27, 16), ("noc:(1,0)>(2,0)", 18, 34, 16)]
    assert noc.links[:2] == [((0, 0), (1, 0)), ((0, 0), (0, 1))]
    _, bus = make(topology="bus")
    bus.link_observer = lambda link, a, b, f: seen.append((bus.link_name(link), a, b, f))
    send(bus, "a", "g", 64)
    send(bus, "m", "u", 64)
    assert seen[-2:] == [("noc:bus", 2, 6, 4), ("noc:bus", 6, 10, 4)]


def _tree_reference(noc, cfg, transfers):
    """Flit-by-flit model of worms over multicast trees (a unicast is a one-branch tree):
    the rules of docs/model.md written out directly, routes from ``noc.path``."""
    r, l, b, c = cfg["R"], cfg["L"], cfg["B"], cfg["C"]
    free, ends = {}, []
    for src, dsts, f, s in transfers:
        links, parent, index, last = [None], [-1], {}, []
        for dst in dsts:
            p = 0
            for link in noc.path(src, dst):
                if link not in index:
                    index[link] = len(links)
                    links.append(link)
                    parent.append(p)
                p = index[link]
            last.append(p)
        n = len(links)
        kids = [[k for k in range(n) if parent[k] == i] for i in range(n)]
        dl = [0] + [r if parent[i] == 0 else l + r for i in range(1, n)]
        sched = [[0] * f for _ in range(n)]
        sched[0][0] = s
        for i in range(1, n):
            sched[i][0] = max(sched[parent[i]][0] + dl[i], free.get(links[i], 0))
        for j in range(1, f):
            for i in range(n):
                t = max(sched[i][j - 1] + 1, s + j if i == 0 else sched[parent[i]][j] + dl[i])
                if j >= b:
                    t = max([t] + [sched[k][j - b] + c for k in kids[i]])
                sched[i][j] = t
        for i in range(1, n):
            free[links[i]] = max([sched[i][f - 1] + 1] + [sched[k][f - 1] + c + 1 - b for k in kids[i]])
        ends.append(max(sched[e][f - 1] + 1 + (l if e else r) for e in last))
    return ends


@pytest.mark.parametrize("seed", range(30))
def test_multicast_trees_under_backpressure_match_a_flit_by_flit_walk(seed):
    rng = random.Random(1000 + seed)
    r, l, c = rng.randint(0, 3), rng.randint(0, 2), rng.randint(0, 2)
    b = max(1, rng.choice([r + l + c + rng.randint(0, 4), rng.randint(1, 4)]))
    names = {f"n{x}{y}": (x, y) for x in range(3) for y in range(3)}
    rec, noc = make(mesh_cols=3, mesh_rows=3, nodes=names, router_latency_cycles=r, link_latency_cycles=l,
                    credit_latency_cycles=c, buffer_flits=b)
    transfers = []
    for _ in range(10):
        src = rng.choice(sorted(names))
        transfers.append((src, rng.sample(sorted(names), rng.randint(1, 4)), rng.randint(1, 20), rng.randint(0, 20)))
    got = []
    for src, dsts, f, s in transfers:
        t = rec.new_transaction(Cmd.WRITE, DataClass.WEIGHTS, 0, 16 * f, src, dsts[0], now_ps=0)
        got.append(noc.reserve_multicast(t, dsts, s * P) // P)
    assert got == _tree_reference(noc, {"R": r, "L": l, "B": b, "C": c}, transfers)
