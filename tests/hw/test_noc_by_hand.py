"""NoC rules pinned by hand (issue 18, session 8, s8nocB): crossbar port attribution, the chain's
closed-form credit stall at its reach limit, per-layer stall attribution, multicast accounting,
per-core endpoint names and the bus route, each with exact hand-computed values."""

import csv

import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.trace import TraceWriter
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.noc import Noc
from tlmsim.platform.noc import NocConfig

P = 1000  # ps per NoC cycle (1 GHz)
#: R = 2, L = 1, C = 1: the credit round trip D + C = 4; B = 4 gives slack 0
LINE = {"topology": "mesh", "mesh_cols": 3, "mesh_rows": 1, "link_width_bytes": 16, "clock_mhz": 1000,
        "router_latency_cycles": 2, "link_latency_cycles": 1, "credit_latency_cycles": 1, "buffer_flits": 4,
        "nodes": {"e0": (0, 0), "x": (0, 0), "e1": (1, 0), "e2": (2, 0)}}
XBAR = {**LINE, "topology": "crossbar", "nodes": {"a": (0, 0), "b": (1, 0), "c": (2, 0), "g": (0, 1)},
        "mesh_rows": 2}
L1 = "noc:(0,0)>(1,0)"
L2 = "noc:(1,0)>(2,0)"


def make(cfg, trace=None, cores=None, **kw):
    rec = Recorder(trace=trace) if trace is not None else Recorder()
    extra = {} if cores is None else {"cores": cores}
    noc = Noc(name="noc", env=simpy.Environment(), recorder=rec, config=NocConfig(**{**cfg, **kw}),
              accel_clock_mhz=500, **extra)
    return rec, noc


def txn(noc, src, dst, nbytes, layer=-1):
    return noc.recorder.new_transaction(Cmd.WRITE, DataClass.SPIKES, 0, nbytes, src, dst, now_ps=0, layer=layer)


def stall_keys(rec):
    """{(reason, layer): ps} of the NoC."""
    return {(r, layer): v[1] for (c, r, layer), v in rec.stalls.entries.items() if c == "noc"}


def trace_rows(path):
    return [(int(r["start_ps"]), int(r["end_ps"]), int(r["wait_ps"])) for r in csv.DictReader(open(path))]


def test_crossbar_wait_goes_to_the_busy_input_port_only():
    rec, noc = make(XBAR)
    seen = []
    noc.link_observer = lambda link, s, e, f: seen.append((noc.link_name(link), s, e, f))
    # a -> g (4 flits) at 0: e = R = 2, both ports free: held [2, 6); tail 2 + L + F = 7
    assert noc.reserve(txn(noc, "a", "g", 64), 0) == 7 * P
    # a -> b at 0: in:a free at 6, out:b free at 0: e = 2 waits 4 for in:a; [6, 10); tail 6 + 1 + 4 = 11
    assert noc.reserve(txn(noc, "a", "b", 64), 0) == 11 * P
    assert seen == [("noc:in:a", 2, 6, 4), ("noc:out:g", 2, 6, 4), ("noc:in:a", 6, 10, 4), ("noc:out:b", 6, 10, 4)]
    assert rec.stalls.by_reason("noc") == {"link_busy": 4 * P}
    rows = {r["component"]: r["stall_ps"] for r in noc.parts()}
    # the wait is the later port's (in:a); out:b was free all along
    assert rows == {"noc:in:a": {"link_busy": 4 * P}, "noc:out:g": {}, "noc:out:b": {}}


def test_crossbar_wait_on_two_ports_freed_together_goes_to_the_output_port():
    rec, noc = make(XBAR)
    # a -> g and b -> c at 0: disjoint ports, each held [2, 6)
    assert noc.reserve(txn(noc, "a", "g", 64), 0) == 7 * P
    assert noc.reserve(txn(noc, "b", "c", 64), 0) == 7 * P
    # a -> c at 0: in:a and out:c both free at 6: waits 4, counted once, on out:c; tail 6 + 1 + 4 = 11
    assert noc.reserve(txn(noc, "a", "c", 64), 0) == 11 * P
    rows = {r["component"]: r["stall_ps"] for r in noc.parts()}
    assert rows["noc:in:a"] == {} and rows["noc:out:c"] == {"link_busy": 4 * P}


def _blocked_chain(noc, start, multicast=False, layer=-1):
    """e1 -> e2 (8 flits) holds L2 [start + 2, start + 10); then e0 -> e2 (5 flits, 80 B) from start:
    head on L1 at start + 2, at L2 at start + 5, waits 5 (> slack 0). B = 4, F = 5: the tail still
    reaches top = (F - 1) // B = 1 buffer behind L2, so L1 is held 5 cycles longer (credit stall 5):
    flits 0..3 cross L1 at +2..+5 and fill router 1's buffer; flit 4 needs flit 0's credit, back at
    +10 + C = +11; L1 is free at +12. The tail reaches e2 at +10 + F + L = +16."""
    assert noc.reserve(txn(noc, "e1", "e2", 128, layer), start * P) == (start + 11) * P
    t = txn(noc, "e0", "e2", 80, layer)
    if multicast:
        return noc.reserve_multicast(t, ["e2"], start * P)
    return noc.reserve(t, start * P)


def test_a_chain_worm_whose_tail_reaches_one_buffer_stalls_by_the_head_wait(tmp_path):
    rec, noc = make(LINE, trace=TraceWriter(tmp_path / "t.csv"))
    assert _blocked_chain(noc, 0, layer=3) == 16 * P
    # the stalls go to the transaction's layer: link_busy 5 (L2), link_credit 5 (L1)
    assert stall_keys(rec) == {("link_busy", 3): 5 * P, ("link_credit", 3): 5 * P}
    # L1 free at 12: x -> e1 (1 flit) at 0 waits from 2 to 12; tail 12 + 1 + 1 = 14
    assert noc.reserve(txn(noc, "x", "e1", 16), 0) == 14 * P
    rec.close()
    # the trace's wait is the head wait plus the credit stall: 5 + 5
    assert trace_rows(tmp_path / "t.csv") == [(0, 11 * P, 0), (0, 16 * P, 10 * P), (0, 14 * P, 10 * P)]


def test_credit_stalls_of_two_worms_add_up_per_link():
    rec, noc = make(LINE)
    assert _blocked_chain(noc, 0) == 16 * P
    # the same pair 100 cycles later (every link free by then): again 5 + 5
    assert _blocked_chain(noc, 100) == 116 * P
    rows = {r["component"]: r["stall_ps"] for r in noc.parts()}
    assert rows[L1] == {"link_credit": 10 * P}
    assert rows[L2] == {"link_busy": 10 * P}


def test_multicast_to_one_endpoint_records_its_stalls_layer_and_counts(tmp_path):
    rec, noc = make(LINE, trace=TraceWriter(tmp_path / "t.csv"))
    # the unicast e1 -> e2 (8 flits, 1 hop), then the 5-flit worm as a multicast to e2 alone: the same
    # chain, the same 5 + 5 cycles of stall, at layer 2
    assert _blocked_chain(noc, 0, multicast=True, layer=2) == 16 * P
    assert stall_keys(rec) == {("link_busy", 2): 5 * P, ("link_credit", 2): 5 * P}
    c = noc.stats.c
    assert (c["transfers"], c["flits"]) == (2, 8 + 5)
    # bit hops 8 * 128 * 1 + 8 * 80 * 2 = 1024 + 1280; busy 8 * 1 + 5 * 2 flit-hop cycles
    assert c["bit_hops"] == 2304 and c["busy_ps"] == 18 * P
    # energy: 2304 bit-hops x 0.75 pJ (router), x 0.15 pJ/mm x 1 mm (wire)
    e = noc.energy_pj()
    assert abs(e["router"] - 1728.0) < 1e-9 and abs(e["wire"] - 345.6) < 1e-9
    rec.close()
    assert trace_rows(tmp_path / "t.csv") == [(0, 11 * P, 0), (0, 16 * P, 10 * P)]


def test_multicast_within_one_router_waits_for_nothing(tmp_path):
    rec, noc = make(LINE, trace=TraceWriter(tmp_path / "t.csv"))
    # e0 -> x (same router) as a multicast, 2 flits at 0: R + F = 2 + 2, no link, no stall
    assert noc.reserve_multicast(txn(noc, "e0", "x", 32, 1), ["x"], 0) == 4 * P
    assert rec.stalls.entries == {}
    rec.close()
    assert trace_rows(tmp_path / "t.csv") == [(0, 4 * P, 0)]


def test_per_core_endpoints_are_named_by_core():
    cfg = {**LINE, "nodes": {"e0": (0, 0), "l1": [(1, 0), (2, 0)]}}
    # one core (the default): the first position, under the plain name
    _, noc = make(cfg)
    assert noc.nodes == {"e0": (0, 0), "l1": (1, 0)}
    _, one = make(cfg, cores=1)
    assert one.nodes == {"e0": (0, 0), "l1": (1, 0)}
    # two cores: l1_0, l1_1 at the listed positions; e0 -> l1_1 crosses 2 links
    _, two = make(cfg, cores=2)
    assert two.nodes == {"e0": (0, 0), "l1_0": (1, 0), "l1_1": (2, 0)}
    assert two.hop_count("e0", "l1_1") == 2


def test_the_bus_route_is_the_one_shared_link():
    _, noc = make(LINE, topology="bus")
    assert noc.path("e0", "e2") == (("bus",),)
    assert noc.path("e0", "x") == (("bus",),)
    assert [noc.link_name(x) for x in noc.path("e2", "e0")] == ["noc:bus"]
