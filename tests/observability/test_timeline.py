"""The Perfetto timeline, read back with the perfetto package's protobuf classes and
reconciled with the run's own reports (no trace processor involved)."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import pytest
from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as pb

from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.report import build_report
from tlmsim.timeline import ROOT_UUID, PerfettoTimeline
from tlmsim.workload import load_workload

BEGIN, END, COUNTER = pb.TrackEvent.TYPE_SLICE_BEGIN, pb.TrackEvent.TYPE_SLICE_END, pb.TrackEvent.TYPE_COUNTER


def read(path):
    """Tracks {uuid: (name, parent)}, slices [dict], counters {name: [(ts, value)]}."""
    trace = pb.Trace()
    with open(path, "rb") as fh:
        trace.ParseFromString(fh.read())
    tracks, slices, counters, open_ = {}, [], defaultdict(list), defaultdict(list)
    for p in trace.packet:
        assert p.trusted_packet_sequence_id == 1
        if p.HasField("track_descriptor"):
            td = p.track_descriptor
            tracks[td.uuid] = (td.name, td.parent_uuid)
        elif p.HasField("track_event"):
            ev = p.track_event
            assert ev.track_uuid in tracks, "a track is described before its first event"
            if ev.type == BEGIN:
                ann = {a.name: (a.int_value if a.HasField("int_value") else a.double_value if a.HasField(
                    "double_value") else a.string_value) for a in ev.debug_annotations}
                s = {"track": ev.track_uuid, "name": ev.name, "start": p.timestamp, "end": None, "ann": ann,
                     "flows": list(ev.flow_ids), "terminates": list(ev.terminating_flow_ids),
                     "depth": len(open_[ev.track_uuid])}
                open_[ev.track_uuid].append(s)
                slices.append(s)
            elif ev.type == END:
                s = open_[ev.track_uuid].pop()
                assert p.timestamp >= s["start"]
                s["end"] = p.timestamp
            elif ev.type == COUNTER:
                counters[tracks[ev.track_uuid][0]].append((p.timestamp, ev.double_counter_value))
    assert not any(open_.values()), "every slice is closed"
    return tracks, slices, counters


def unit_of(tracks, uuid):
    """The top-level track (child of the root) a track belongs to."""
    name, parent = tracks[uuid]
    while parent != ROOT_UUID:
        name, parent = tracks[parent]
    return name


def run(tmp_path, workload="digits-snn", overrides=()):
    platform = load_platform(None, list(overrides))
    tl = PerfettoTimeline(tmp_path / "t.pftrace")
    result = simulate(platform, load_workload(workload, seed=0), sinks=[tl])
    return result, build_report(result), read(tmp_path / "t.pftrace"), tl


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return run(tmp_path_factory.mktemp("tl"))


def test_hops_busy_time_and_bytes_equal_components_csv(digits):
    result, report, (tracks, slices, _), tl = digits
    assert tl.hops == sum(1 for s in slices if "txn" in s["ann"]) == result.recorder.issued
    per = defaultdict(lambda: [0, 0, 0])
    for s in slices:
        if "txn" in s["ann"] and s["depth"] == 0:
            u = per[unit_of(tracks, s["track"])]
            u[0] += s["ann"].get("busy_ps", 0)
            u[1] += s["ann"]["bytes"] if s["name"].split()[0] in ("read", "write") else 0
            u[2] += 1
        elif s["name"] == "after the last transaction":  # posted DRAM writes drained at the end
            per[unit_of(tracks, s["track"])][0] += s["ann"]["busy_ps"]
    period = result.clock_period_ps
    comp = report.components.set_index("component")
    for name in ("dram", "noc", "glb", "l1", "pe_array"):
        row = comp.loc[name]
        assert per[name][0] == pytest.approx(row["busy_cycles"] * period, rel=1e-12), name
        assert per[name][1] == row["read_bytes"] + row["write_bytes"], name
        # one slice per read or write served, and one per computed tile on the PE array
        assert per[name][2] == row["reads"] + row["writes"] + result.components[name].stats.c.get("tiles", 0), name
    assert per["dram"][0] > 0 and per["pe_array"][0] > 0


def test_lanes_never_overlap_and_dram_hops_sit_on_their_bank(digits):
    result, _, (tracks, slices, _), _ = digits
    by_track = defaultdict(list)
    for s in slices:
        if s["depth"] == 0:
            by_track[s["track"]].append((s["start"], s["end"]))
    for spans in by_track.values():
        spans.sort()
        for (_, e0), (s1, _) in pairwise(spans):
            assert s1 >= e0
    dram = result.components["dram"]
    for s in slices:
        if "txn" in s["ann"] and unit_of(tracks, s["track"]) == "dram" and s["depth"] == 0:
            ch, ra, bg, ba = dram.decode(s["ann"]["address"])[:4]
            bank = tracks[s["track"]][1]  # lane -> bank
            assert tracks[bank][0] == f"ch{ch} ra{ra} bg{bg} ba{ba}"


def test_every_flow_is_complete_and_ordered(digits):
    _, _, (tracks, slices, _), _ = digits
    flows = defaultdict(list)
    ends = {}
    for s in slices:
        for f in s["flows"]:
            flows[f].append(s)
        for f in s["terminates"]:
            assert f not in ends, "a flow ends once"
            ends[f] = s
    assert flows
    routes = {
        ("dram", "glb"): ["dram", "noc", "glb"],
        ("dram", "l1"): ["dram", "noc", "glb", "glb", "noc", "l1"],
        ("glb", "l1"): ["glb", "noc", "l1"],
        ("l1", "glb"): ["l1", "noc", "glb"],
        ("l1", "dram"): ["l1", "noc", "glb", "glb", "noc", "dram"],
        ("glb", "dram"): ["glb", "noc", "dram"],
    }
    for fid, hops in flows.items():
        hops.sort(key=lambda s: (s["start"], s["end"]))
        units = [unit_of(tracks, s["track"]) for s in hops]
        assert units in routes.values(), (fid, units)
        for a, b in pairwise(hops):
            assert b["start"] >= a["end"], (fid, a, b)
            assert b["ann"]["bytes"] == a["ann"]["bytes"]
            assert (b["ann"]["layer"], b["ann"]["tile"]) == (a["ann"]["layer"], a["ann"]["tile"])
        if units[-1] == "l1" and hops[-1]["ann"]["tile"] >= 0:  # a tile's load: it ends at the PE array
            pe = ends[fid]
            assert unit_of(tracks, pe["track"]) == "pe_array"
            assert pe["start"] >= hops[-1]["end"]
            assert pe["name"].startswith(f"L{hops[-1]['ann']['layer']} ") and pe["name"].endswith(
                f" t{hops[-1]['ann']['tile']}")
        else:
            assert fid not in ends
    assert set(ends) <= set(flows)


def test_layers_and_counters(digits):
    result, report, (tracks, slices, counters), tl = digits
    layer_slices = [s for s in slices if unit_of(tracks, s["track"]) == "layers"]
    assert len(layer_slices) == len(report.layers)
    bw = counters["dram bandwidth (GB/s)"]
    assert tl.late_dram_bytes == 0
    moved = sum(v for _, v in bw) * tl.window_ps / 1000.0
    dram = report.components.set_index("component").loc["dram"]
    assert moved == pytest.approx(dram["read_bytes"] + dram["write_bytes"], rel=1e-9)
    assert bw[-1][1] == 0.0 and [t for t, _ in bw] == sorted(t for t, _ in bw)
    spikes = counters["input spikes per timestep"]
    assert len(spikes) == sum(1 for s in slices if unit_of(tracks, s["track"]) == "pe_array"
                              and "txn" in s["ann"] and result.workload.spikes.get(
                                  result.workload.layers[s["ann"]["layer"]].name) is not None)


def test_a_known_stall_shows_where_it_happened(tmp_path):
    # a 1-byte NoC link starves the array: it waits for its operands between tiles
    result, report, (tracks, slices, _), _ = run(tmp_path, overrides=["noc.link_width_bytes=1"])
    stalls = [s for s in slices if tracks[tracks[s["track"]][1]][0] == "pe_array stalls"]
    waits = [s for s in stalls if s["name"] == "waiting_for_operands"]
    total = report.stalls.query("component == 'pe_array' and reason == 'waiting_for_operands'")["stall_cycles"].sum()
    assert total > 0
    assert sum(s["end"] - s["start"] for s in waits) == round(total * result.clock_period_ps)
    tiles = sorted((s["start"], s["end"]) for s in slices if unit_of(tracks, s["track"]) == "pe_array"
                   and "txn" in s["ann"])
    starts = {s for s, _ in tiles}
    for w in waits:
        # the array computes nothing while it waits, and the next tile starts when the wait ends
        assert not any(s < w["end"] and e > w["start"] for s, e in tiles)
        assert w["end"] in starts
    # the NoC hops that waited for the link carry a nested wait slice
    assert any(s["name"] == "wait" and unit_of(tracks, s["track"]) == "noc" for s in slices)


def test_the_file_is_deterministic(tmp_path):
    a = run(tmp_path / "a")
    b = run(tmp_path / "b")
    assert (tmp_path / "a" / "t.pftrace").read_bytes() == (tmp_path / "b" / "t.pftrace").read_bytes()
    assert a[3].packets == b[3].packets


def test_the_encoder_writes_what_the_protobuf_classes_read():
    from tlmsim.timeline import Encoder, varint

    enc = Encoder()
    assert varint(0) == b"\x00" and varint(300) == b"\xac\x02" and len(varint(-1)) == 10
    assert varint(2**20) == b"\x80\x80\x40" and varint(2**21) == b"\x80\x80\x80\x01"
    ev = (enc.begin + enc.track_uuid + varint(77) + enc.text(enc.name, "read weights 64B")
          + enc.flow + (5).to_bytes(8, "little") + enc.ann("layer", -1) + enc.ann("busy_ps", 2.5)
          + enc.ann("route", "dram>noc"))
    body = enc.seq + enc.ts + varint(123_456_789_012) + enc.field(enc.event, ev)
    trace = pb.Trace()
    trace.ParseFromString(enc.field(enc.packet, body))
    want = pb.TracePacket(timestamp=123_456_789_012, trusted_packet_sequence_id=1)
    te = want.track_event
    te.type, te.track_uuid, te.name = BEGIN, 77, "read weights 64B"
    te.flow_ids.append(5)
    te.debug_annotations.add(name="layer", int_value=-1)
    te.debug_annotations.add(name="busy_ps", double_value=2.5)
    te.debug_annotations.add(name="route", string_value="dram>noc")
    assert trace.packet[0] == want


def test_memory_stays_bounded_however_many_hops(tmp_path):
    """The writer's memory does not grow with the number of hops it has written."""
    import tracemalloc

    from tlmsim.engine.transaction import Cmd, DataClass, Transaction

    tl = PerfettoTimeline(tmp_path / "m.pftrace", window_ps=1000, window_span=64)

    def feed(first, n):
        for i in range(first, first + n):
            # a 3-hop chain per block, 4 blocks in flight, one DRAM-like window per hop
            txn = Transaction(i, Cmd.WRITE, DataClass.WEIGHTS, 64 * i, 64, "noc", "glb", i // 2000, i // 50,
                              chain=i // 3)
            tl.hop(txn, "glb", 1000 * i, 1000 * i + 4000, 0, 2000)
            if i % 7 == 0:
                tl.stall("controller", "l1_full", txn.layer, 1000 * i, 1000 * i + 500)
            tl._dram_bytes(1000 * i + 4000, 64)

    tracemalloc.start()
    feed(0, 5_000)
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    feed(5_000, 20_000)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tl.close()
    assert tl.hops == 25_000 and tl.late_dram_bytes == 0
    # four times the hops, and no more than a batch of packets (4096 x ~200 B) held at once
    assert peak - base < 2_000_000, (base, current, peak)
    assert (tmp_path / "m.pftrace").stat().st_size > 25_000 * 150
