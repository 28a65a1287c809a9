"""NoC routing, hop latency, contention, multicast and energy, with exact values."""

import pytest
import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.errors import ConfigError
from tlmsim.hw.noc import Noc
from tlmsim.platform.noc import NocConfig

P = 1000  # ps per cycle (1 GHz NoC clock)
MESH = dict(topology="mesh", mesh_cols=3, mesh_rows=3, link_width_bytes=16, clock_mhz=1000,
            router_latency_cycles=2, link_latency_cycles=1,
            nodes={"dram": (0, 0), "glb": (2, 0), "l1": (2, 2), "pe": (0, 2), "x": (0, 0)})


def make(**cfg):
    env, rec = simpy.Environment(), Recorder()
    base = dict(MESH)
    base.update(cfg)
    return env, rec, Noc(name="noc", env=env, recorder=rec, config=NocConfig(**base), accel_clock_mhz=500)


def txn(rec, src, dst, n):
    return rec.new_transaction(Cmd.WRITE, DataClass.SPIKES, 0, n, src, dst, now_ps=0)


def test_xy_route_goes_x_first():
    env, rec, noc = make()
    assert noc.path("dram", "l1") == (((0, 0), (1, 0)), ((1, 0), (2, 0)), ((2, 0), (2, 1)), ((2, 1), (2, 2)))
    assert noc.hop_count("dram", "l1") == 4 and noc.hop_count("l1", "dram") == 4
    assert noc.hop_count("dram", "glb") == 2
    with pytest.raises(ConfigError, match="no NoC endpoint named 'dma'"):
        noc.hop_count("dram", "dma")


def test_hop_latency_unloaded():
    env, rec, noc = make()
    # dram -> glb: H = 2 hops, F = 64 B / 16 B = 4 flits
    # latency = H*(R+L) + F = 2*(2+1) + 4 = 10 cycles
    assert noc.reserve(txn(rec, "dram", "glb", 64), 0) == 10 * P
    # dram -> l1: H = 4, F = 1 -> 4*3 + 1 = 13 cycles, starting at 100 cycles
    assert noc.reserve(txn(rec, "dram", "l1", 16), 100 * P) == 113 * P
    # same router: R + F = 2 + 1
    assert noc.reserve(txn(rec, "dram", "x", 16), 200 * P) == 203 * P
    assert rec.stalls.total_ps("noc") == 0


def test_link_contention_delays_the_second_packet():
    env, rec, noc = make()
    # A: dram -> glb, 4 flits. Head enters link (0,0)->(1,0) at 0+R = 2, holds it [2, 6);
    #    enters (1,0)->(2,0) at 2+L+R = 5, holds it [5, 9); tail arrives 5+1+4 = 10.
    assert noc.reserve(txn(rec, "dram", "glb", 64), 0) == 10 * P
    # B: same route, injected at cycle 1: head ready for link 1 at 1+2 = 3 but it is busy
    #    until 6 (wait 3); link 2 at 6+3 = 9, free at 9 (no wait); tail 9+1+4 = 14.
    assert noc.reserve(txn(rec, "dram", "glb", 64), 1 * P) == 14 * P
    assert rec.stalls.by_reason("noc") == {"link_busy": 3 * P}
    # C: a disjoint route (l1 -> pe: (2,2)->(1,2)->(0,2)) is not delayed: 2*3 + 4 = 10
    assert noc.reserve(txn(rec, "l1", "pe", 64), 0) == 10 * P


def test_multicast_crosses_shared_links_once():
    env, rec, noc = make()
    t = txn(rec, "dram", "l1", 32)  # F = 2
    # routes dram->glb: (0,0)>(1,0)>(2,0); dram->l1: same two links then (2,0)>(2,1)>(2,2).
    # tree = 4 links. Arrivals: glb at 2*3 + 2 = 8, l1 at 4*3 + 2 = 14.
    assert noc.reserve_multicast(t, ["glb", "l1"], 0) == 14 * P
    assert noc.stats.c["flit_hops"] == 2 * 4
    # without multicast: two unicasts injected together; the second waits for the
    # shared first link: A holds (0,0)>(1,0) [2,4); B's head waits 2 cycles there and on
    # the next links; B = dram->l1 ends at 14 + 2 = 16. flit_hops = 2*2 + 2*4 = 12
    env, rec, noc = make(multicast=False)
    assert noc.reserve_multicast(txn(rec, "dram", "l1", 32), ["glb", "l1"], 0) == 16 * P
    assert noc.stats.c["flit_hops"] == 12


def test_bus_and_crossbar_are_one_hop():
    env, rec, bus = make(topology="bus")
    # one hop: R + L + F = 2 + 1 + 4 = 7; two transfers share the bus: the second waits
    # for the bus [2, 6) -> enters at 6 -> ends 6 + 1 + 4 = 11
    assert bus.reserve(txn(rec, "dram", "glb", 64), 0) == 7 * P
    assert bus.reserve(txn(rec, "l1", "pe", 64), 0) == 11 * P
    env, rec, xbar = make(topology="crossbar")
    # crossbar: disjoint ports do not contend; a shared output port does
    assert xbar.reserve(txn(rec, "dram", "glb", 64), 0) == 7 * P
    assert xbar.reserve(txn(rec, "l1", "pe", 64), 0) == 7 * P
    assert xbar.reserve(txn(rec, "x", "glb", 64), 0) == 11 * P


def test_access_uses_simulated_time_and_energy_per_bit_hop():
    env, rec, noc = make(router_pj_per_bit=0.5, wire_pj_per_bit_mm=0.1, link_length_mm=2.0)

    def proc():
        yield from noc.access(txn(rec, "dram", "glb", 64))
        assert env.now == 10 * P

    env.process(proc())
    env.run()
    # 512 bits x 2 hops = 1024 bit-hops; router 0.5 pJ -> 512 pJ; wire 0.1 x 2 mm -> 204.8 pJ
    e = noc.energy_pj()
    assert e["router"] == pytest.approx(512.0) and e["wire"] == pytest.approx(204.8)
    assert noc.stats.c["write_bytes"] == 64


def test_noc_clock_defaults_to_the_accelerator_clock():
    env, rec = simpy.Environment(), Recorder()
    noc = Noc(name="noc", env=env, recorder=rec, config=NocConfig(), accel_clock_mhz=500)
    assert noc.period_ps == 2000


def test_node_outside_mesh_is_rejected():
    with pytest.raises(ValueError, match="outside the 2x2 mesh"):
        NocConfig(nodes={"dram": (0, 0), "glb": (2, 0)})


@pytest.mark.parametrize("nbytes, flits", [(1, 1), (16, 1), (17, 2), (48, 3), (65, 5)])
def test_partial_flits_round_up_in_time_and_in_link_occupancy(nbytes, flits):
    env, rec, noc = make()
    # dram -> glb: 2 hops x (router 2 + link 1) + F flits behind the head
    assert noc.reserve(txn(rec, "dram", "glb", nbytes), 0) == (2 * 3 + flits) * P
    c = noc.stats.c
    assert (c["flits"], c["flit_hops"], c["busy_ps"]) == (flits, 2 * flits, 2 * flits * P)
    # energy follows the bits carried, not the padded flits: 8 x nbytes per hop
    assert c["bit_hops"] == 8 * nbytes * 2
    # a second packet on the same route waits for the first one's last (partial) flit
    assert noc.reserve(txn(rec, "dram", "glb", 16), 0) == (2 * 3 + flits + 1) * P


def test_unknown_endpoint_error_names_the_key_and_the_endpoints():
    _, _, noc = make()
    with pytest.raises(ConfigError) as e:
        noc.reserve(txn(Recorder(), "dram", "dma", 64), 0)
    msg = str(e.value)
    assert " noc.nodes:" in f" {msg}" or msg.startswith("noc.nodes") or ": noc.nodes" in msg, msg
    assert "XX" not in msg and "dram, glb, l1, pe, x" in msg and "'dma'" in msg


def test_hop_counts_per_topology():
    _, _, noc = make()
    assert noc.hop_count("dram", "x") == 0  # same router
    assert noc.hop_count("pe", "glb") == 4
    for topo in ("bus", "crossbar"):
        _, _, other = make(topology=topo)
        assert other.hop_count("dram", "l1") == 1 and other.hop_count("glb", "pe") == 1, topo


def test_same_router_and_zero_router_latency():
    env, rec, noc = make()
    # dram and x share router (0,0): through the router only, R + F = 2 + 4
    assert noc.reserve(txn(rec, "dram", "x", 64), 0) == 6 * P
    assert noc.stats.c["flit_hops"] == 0
    # router latency 0: dram -> glb at 0: e = 0; link 1 [0, 4), e = 1; link 2 [1, 5), e = 2; tail 2 + 4 = 6
    _, rec, noc0 = make(router_latency_cycles=0)
    assert noc0.reserve(txn(rec, "dram", "glb", 64), 0) == 6 * P
    assert rec.stalls.by_reason("noc") == {}
    # the same on a crossbar: ports free, e = 0, tail e + L + F = 0 + 1 + 4 = 5; one hop of 4 flits
    _, rec, xbar = make(topology="crossbar", router_latency_cycles=0)
    assert xbar.reserve(txn(rec, "dram", "glb", 64), 0) == 5 * P
    assert xbar.stats.c["flit_hops"] == 4 and rec.stalls.by_reason("noc") == {}
    _, rec, bus = make(topology="bus", router_latency_cycles=0)
    assert bus.reserve(txn(rec, "dram", "glb", 64), 0) == 5 * P and bus.stats.c["flit_hops"] == 4


def test_a_packet_waits_on_two_links_and_the_trace_says_so(tmp_path):
    import csv

    from tlmsim.engine.trace import TraceWriter

    rec = Recorder(trace=TraceWriter(tmp_path / "t.csv"))
    noc = Noc(name="noc", env=simpy.Environment(), recorder=rec, accel_clock_mhz=500,
              config=NocConfig(**{**MESH, "nodes": {**MESH["nodes"], "m": (1, 0)}}))
    # A dram -> glb at 0: links L1 [2, 6), L2 [5, 9), tail 10
    assert noc.reserve(txn(rec, "dram", "glb", 64), 0) == 10 * P
    # C m -> glb at 0: head at L2 at 2, busy until 9: waits 7; L2 [9, 13); tail 9 + 1 + 4 = 14
    assert noc.reserve(txn(rec, "m", "glb", 64), 0) == 14 * P
    # B x -> glb at 0 (x shares dram's router): L1 free at 6 (waits 4), L2 reached at 9 but busy
    # until 13 (waits 4 more): L2 [13, 17), tail 13 + 1 + 4 = 18; waited 8
    assert noc.reserve(txn(rec, "x", "glb", 64), 0) == 18 * P
    assert rec.stalls.by_reason("noc") == {"link_busy": (7 + 8) * P}
    rec.close()
    rows = [(int(r["start_ps"]), int(r["end_ps"]), int(r["wait_ps"])) for r in csv.DictReader(open(tmp_path / "t.csv"))]
    assert rows == [(0, 10 * P, 0), (0, 14 * P, 7 * P), (0, 18 * P, 8 * P)]


def test_multicast_off_the_clock_edge_after_a_busy_link():
    env, rec, noc = make()
    assert noc.reserve(txn(rec, "dram", "glb", 64), 0) == 10 * P  # L1 busy until 6, L2 until 9
    # multicast of 32 B (2 flits) to glb and l1 at 1.5 ns -> cycle 2; head at L1 at 4, waits until 6;
    # L1 [6, 8), L2 at 9 [9, 11), glb's tail 12 - 2 + 2 = 12; l1's branch: L3 [12, 14), L4 [15, 17),
    # tail 18 - 2 + 2 = 18. 4 tree links, 2 cycles waited
    t = txn(rec, "dram", "l1", 32)
    assert noc.reserve_multicast(t, ["glb", "l1"], 1500) == 18 * P
    assert rec.stalls.by_reason("noc") == {"link_busy": 2 * P}
    assert noc.stats.c["flit_hops"] == 4 * 2 + 2 * 4  # the unicast's 4 flits x 2 links + 2 flits x 4 links
    # a later packet on L3, L4 (glb -> l1 at 0) finds L3 busy until 14: waits 12; L3 [14, 18); L4 free at
    # 17 when it gets there: [17, 21); tail 20 - 2 + 4 = 22
    assert noc.reserve(txn(rec, "glb", "l1", 64), 0) == 22 * P
    # a multicast to an endpoint on the source's own router: R + F after the clock edge, 2 + 2 + 2
    assert noc.reserve_multicast(txn(rec, "dram", "x", 32), ["x"], 1500) == 6 * P


def test_access_waits_from_now_and_repr():
    env, rec, noc = make()

    def proc():
        yield env.timeout(5 * P)
        yield from noc.access(txn(rec, "dram", "glb", 64))  # unloaded 10 cycles

    env.process(proc())
    env.run()
    assert env.now == 15 * P
    assert repr(noc) == f"Noc('noc', 3x3 mesh, 16 B links @ {noc.clock_mhz} MHz)"
    assert repr(make(topology="bus")[2]) == f"Noc('noc', bus, 16 B links @ {noc.clock_mhz} MHz)"
