"""The Perfetto timeline written by hand-fed runs and read back packet by packet: every
track descriptor, slice, flow, annotation and counter sample compared with values worked
out by hand from the rules in tlmsim/timeline.py's docstring (no simulation; each test runs
in milliseconds). Written for the mutation run s14tl (session 14), which found the
functions below unguarded or never judged: the encoder (varint, Encoder), the hop slices
and their lanes, flows and annotations, the stall and tail slices, close (layer slices,
closing samples), the bandwidth, requests-in-flight and power-state counters and the NoC
link slices, and the batching of packets into the file."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as pb

from tlmsim.engine.plan import LayerPlan, Tile
from tlmsim.engine.transaction import Cmd, DataClass, Transaction
from tlmsim.timeline import BATCH, Encoder, PerfettoTimeline, varint

ROOT_DESC = "timestamps: 1 ns on the time axis = 1 ps simulated"
BW = "dram bandwidth (GB/s)"
#: the fields each kind of packet / event may carry (a mutant that adds one is caught)
PACKET_FIELDS = {"timestamp", "trusted_packet_sequence_id", "track_event"}
EVENT_FIELDS = {
    pb.TrackEvent.TYPE_SLICE_BEGIN: {"type", "track_uuid", "name", "flow_ids", "terminating_flow_ids",
                                     "debug_annotations"},
    pb.TrackEvent.TYPE_SLICE_END: {"type", "track_uuid"},
    pb.TrackEvent.TYPE_COUNTER: {"type", "track_uuid", "double_counter_value"},
}


def _ann(a):
    kinds = [f.name for f, _ in a.ListFields() if f.name != "name"]
    assert len(kinds) == 1, a
    return a.name, getattr(a, kinds[0])


def dump(path):
    """Every packet of the file, in order, as a tuple:
    ("F", sequence_flags) for the first one;
    ("T", uuid, parent or None, name, description or None, counter unit or None) for a track;
    ("B", ts, track, name, flow ids, terminating flow ids, ((annotation, value), ...)) for a slice begin;
    ("E", ts, track) for a slice end; ("C", ts, track, value) for a counter sample.
    Integer annotations read as int, double ones as float (compare the repr to tell 2 from 2.0)."""
    data = path.read_bytes()
    trace = pb.Trace()
    trace.ParseFromString(data)
    # nothing but the packets: protobuf skips fields it does not know, so count the bytes (each packet
    # is key 0x0a, its length, its fields; field order does not change a message's size)
    assert len(data) == sum(1 + len(varint(p.ByteSize())) + p.ByteSize() for p in trace.packet)
    out = []
    for i, p in enumerate(trace.packet):
        assert p.trusted_packet_sequence_id == 1
        fields = {f.name for f, _ in p.ListFields()}
        if i == 0:
            assert fields == {"trusted_packet_sequence_id", "sequence_flags"}
            out.append(("F", p.sequence_flags))
        elif p.HasField("track_descriptor"):
            assert fields == {"trusted_packet_sequence_id", "track_descriptor"}
            td = p.track_descriptor
            assert {f.name for f, _ in td.ListFields()} <= {"uuid", "parent_uuid", "name", "description", "counter"}
            out.append(("T", td.uuid, td.parent_uuid if td.HasField("parent_uuid") else None, td.name,
                        td.description if td.HasField("description") else None,
                        td.counter.unit_name if td.HasField("counter") else None))
        else:
            assert fields == PACKET_FIELDS
            ev = p.track_event
            assert {f.name for f, _ in ev.ListFields()} <= EVENT_FIELDS[ev.type]
            if ev.type == pb.TrackEvent.TYPE_SLICE_BEGIN:
                out.append(("B", p.timestamp, ev.track_uuid, ev.name, tuple(ev.flow_ids),
                            tuple(ev.terminating_flow_ids), tuple(_ann(a) for a in ev.debug_annotations)))
            elif ev.type == pb.TrackEvent.TYPE_SLICE_END:
                out.append(("E", p.timestamp, ev.track_uuid))
            else:
                out.append(("C", p.timestamp, ev.track_uuid, ev.double_counter_value))
    return out


def same(got, want):
    assert got == want
    assert repr(got) == repr(want)  # int and double annotations and counter values alike


def no_attach_head(title="tlmsim"):
    return [("F", 1), ("T", 1, None, title, ROOT_DESC, None)]


def txn(i, cmd=Cmd.READ, dc=DataClass.WEIGHTS, address=0, nbytes=64, src="dram", dst="noc", layer=-1, tile=-1,
        chain=-1):
    return Transaction(i, cmd, dc, address, nbytes, src, dst, layer, tile, chain=chain)


def attached(path, *, components=None, layers=(), **kw):
    tl = PerfettoTimeline(path, **kw)
    tl.attach(components=components or {}, plans=[], platform=SimpleNamespace(name="p"),
              workload=SimpleNamespace(name="w", layers=[SimpleNamespace(index=i, name=n) for i, n in layers],
                                       spikes={}))
    return tl


# -- the encoder ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 127, 128, 129, 300, 0x3FFF, 0x4000, 0x4001, 0x1FFFFF, 0x200000, 0x200001,
                               0x7F << 21, 0xFFFFFFF, 2**35 + 5, 2**63 - 1, 2**64 - 1])
def test_varint_is_protobufs_uint64(n):
    """Each size class's edges (1, 2, 3 bytes and the loop) against protobuf's own encoding of
    a uint64 field (TracePacket.timestamp: key byte 0x40, then the varint)."""
    want = pb.TracePacket(timestamp=n).SerializeToString()
    assert want[0] == 0x40
    assert varint(n) == want[1:]


@pytest.mark.parametrize("n", [-1, -2, -128, -300, -(2**63)])
def test_a_negative_varint_is_its_64_bit_twos_complement(n):
    """An int64 field (DebugAnnotation.int_value, key 0x20): ten bytes, as protobuf writes it."""
    want = pb.DebugAnnotation(int_value=n).SerializeToString()
    assert want[0] == 0x20 and len(want) == 11
    assert varint(n) == want[1:]
    assert varint(-1) == b"\xff" * 9 + b"\x01"


def test_the_encoders_keys_are_the_schemas():
    """Every key is (field number << 3) | wire type, read from the perfetto package's schema:
    worked out from the numbers of perfetto_trace.proto."""
    enc = Encoder()
    assert enc.pb is pb
    assert (enc.packet, enc.ts, enc.event, enc.descriptor) == (b"\x0a", b"\x40", b"\x5a", b"\xe2\x03")
    assert enc.seq == b"\x50\x01"  # field 10, varint; sequence 1
    assert enc.flags == b"\x68\x01"  # field 13, varint; SEQ_INCREMENTAL_STATE_CLEARED = 1
    assert (enc.begin, enc.end, enc.counter) == (b"\x48\x01", b"\x48\x02", b"\x48\x04")  # type = 9
    assert (enc.track_uuid, enc.name, enc.annotation) == (b"\x58", b"\xba\x01", b"\x22")  # 11, 23, 4
    assert (enc.flow, enc.terminating, enc.double_counter) == (b"\xf9\x02", b"\x81\x03", b"\xe1\x02")  # 47, 48, 44
    assert (enc.uuid, enc.parent, enc.td_name, enc.description) == (b"\x08", b"\x28", b"\x12", b"\x72")  # 1 5 2 14
    assert (enc.counter_desc, enc.unit_name) == (b"\x42", b"\x32")  # 8 (message); CounterDescriptor 6
    assert (enc.ann_name, enc.ann_int, enc.ann_double, enc.ann_string) == (b"\x52", b"\x20", b"\x29", b"\x32")


def _read_ann(encoded):
    """One encoded debug_annotations field of a TrackEvent, read back."""
    ev = pb.TrackEvent()
    ev.ParseFromString(encoded)
    assert len(ev.debug_annotations) == 1
    return _ann(ev.debug_annotations[0])


def test_annotations_int_double_and_string():
    enc = Encoder()
    same(_read_ann(enc.ann("busy_ps", 2.5)), ("busy_ps", 2.5))
    same(_read_ann(enc.ann("busy_ps", 4.0)), ("busy_ps", 4))  # an integral float is an int
    same(_read_ann(enc.ann("layer", -3)), ("layer", -3))
    same(_read_ann(enc.ann("route", "dram>noc")), ("route", "dram>noc"))
    same(_read_ann(enc.ann("route", "é" * 70)), ("route", "é" * 70))  # 140 bytes: a 2-byte length
    assert enc.ann("a", 5) == b"\x22\x05\x52\x01a\x20\x05"
    wait = enc.int_ann("wait_ps")
    same(_read_ann(wait(1500)), ("wait_ps", 1500))
    assert wait(7) == b"\x22\x0b\x52\x07wait_ps\x20\x07" == enc.ann("wait_ps", 7)
    assert enc.text(enc.name, "ab") == b"\xba\x01\x02ab" and enc.field(b"\x0a", b"x" * 200)[:3] == b"\x0a\xc8\x01"


# -- hop slices ----------------------------------------------------------------------------


def test_one_hop_without_attach(tmp_path):
    """A hop on the GLB with a wait, a fractional busy time, a flow and a 2-byte address:
    the root (its default title), the GLB track and its lane 0, the hop with every annotation
    in the writer's order, the nested wait slice, then at close the layers track and layer 1's
    slice (no name known: "L1 ")."""
    path = tmp_path / "a" / "b" / "t.pftrace"  # directories made
    tl = PerfettoTimeline(path)
    partial = path.with_name("t.pftrace.partial")
    tl.hop(txn(0, Cmd.WRITE, DataClass.WEIGHTS, 16384, 64, "noc", "glb", 1, 2, chain=6), "glb", 1000, 5000, 1500, 2.5)
    assert partial.exists() and not path.exists()
    tl.close()
    assert path.exists() and not partial.exists()
    same(dump(path), no_attach_head() + [
        ("T", 2, 1, "glb", None, None), ("T", 3, 2, "lane 0", None, None),
        ("B", 1000, 3, "write weights 64B", (7,), (), (("txn", 0), ("bytes", 64), ("layer", 1), ("tile", 2),
                                                      ("address", 16384), ("route", "noc>glb"), ("busy_ps", 2.5),
                                                      ("wait_ps", 1500))),
        ("B", 1000, 3, "wait", (), (), ()), ("E", 2500, 3), ("E", 5000, 3),
        ("T", 4, 1, "layers", None, None), ("T", 5, 4, "lane 0", None, None),
        ("B", 1000, 5, "L1 ", (), (), (("layer", 1),)), ("E", 5000, 5)])
    assert tl.hops == 1 and tl.packets == 12
    tl.close()  # a second close writes nothing
    assert len(dump(path)) == 12
    # a directory that exists already is fine
    PerfettoTimeline(path).close()
    same(dump(path), no_attach_head() + [("T", 2, 1, "layers", None, None)])


def test_hop_annotations_busy_and_large_values(tmp_path):
    """No wait and no busy time: neither annotation; an integral busy time is an int; ids,
    addresses and layers past 16383 take the long varint; chain 0 is flow 1."""
    tl = PerfettoTimeline(tmp_path / "t.pftrace")
    tl.hop(txn(16384, address=2**40, nbytes=16383, layer=-1, tile=0, chain=0), "noc", 0, 10, 0, 0)
    tl.hop(txn(3, Cmd.WRITE, DataClass.PSUM, 16383, 8, "l1", "glb", 20000, 1), "noc", 10, 20, 0, 6.0)
    tl.close()
    same(dump(tmp_path / "t.pftrace")[2:], [
        ("T", 2, 1, "noc", None, None), ("T", 3, 2, "lane 0", None, None),
        ("B", 0, 3, "read weights 16383B", (1,), (), (("txn", 16384), ("bytes", 16383), ("layer", -1), ("tile", 0),
                                                      ("address", 2**40), ("route", "dram>noc"))),
        ("E", 10, 3),
        ("B", 10, 3, "write psum 8B", (), (), (("txn", 3), ("bytes", 8), ("layer", 20000), ("tile", 1),
                                               ("address", 16383), ("route", "l1>glb"), ("busy_ps", 6))),
        ("E", 20, 3),
        ("T", 4, 1, "layers", None, None), ("T", 5, 4, "lane 0", None, None),
        ("B", 10, 5, "L20000 ", (), (), (("layer", 20000),)), ("E", 20, 5)])


def test_an_event_or_packet_of_exactly_16384_bytes(tmp_path):
    """The writer looks lengths below 16,384 up in a table and encodes longer ones: a compute
    hop's event is 90 bytes + its layer's name (type 2, track 2, name key and length 4,
    "L0 " and " t0" 6, the txn/bytes/layer/tile/address annotations 9 + 11 + 11 + 10 + 13, the
    route 22): a name of 16,294 makes the event 16,384 bytes; one of 16,287 makes the packet's
    body 16,384 (3 + timestamp 1 + event key 1 + its length 2 + 16,377)."""
    tl = attached(tmp_path / "t.pftrace", layers=[(0, "x" * 16294), (1, "y" * 16287)])
    for layer in (0, 1):
        tl.hop(txn(0, Cmd.COMPUTE, DataClass.NONE, 0, 0, "l1", "pe_array", layer, 0), "pe_array", 0, 10, 0, 0)
    sizes = [len(b) for b in tl._buf[4:]]
    tl.close()
    # each hop: a lane's descriptor (19 bytes), its begin, its end (12: 0a 0a, sequence 2, timestamp
    # 2, event key and length 2, type 2 and track 2)
    assert sizes == [19, 1 + 3 + (3 + 1 + 1 + 3 + 16384), 12, 19, 1 + 3 + 16384, 12]
    begins = [p for p in dump(tmp_path / "t.pftrace") if p[0] == "B"]
    assert [b[3] for b in begins[:2]] == ["L0 " + "x" * 16294 + " t0", "L1 " + "y" * 16287 + " t0"]


def test_bandwidth_windows_of_one_picosecond(tmp_path):
    """window_ps 1: a hop ending at 1 ps is in window 0 (its last picosecond is 0), one ending at 0
    too (never a window before 0): 72 bytes in 1 ps = 72,000 GB/s, then the closing 0 at 1."""
    tl = PerfettoTimeline(tmp_path / "t.pftrace", window_ps=1)
    tl.hop(txn(0, nbytes=8), "dram", 0, 0, 0, 0)
    tl.hop(txn(1, nbytes=64), "dram", 0, 1, 0, 0)
    tl.close()
    same(_counters(dump(tmp_path / "t.pftrace")), {(BW, "GB/s"): [(0, 72000.0), (1, 0.0)]})
    assert tl.late_dram_bytes == 0


def test_a_one_picosecond_wait_and_a_flow_into_tile_0(tmp_path):
    """A wait of 1 ps still gets its nested slice; a block loaded into L1 for tile 0 (chain 0:
    flow 1) ends at tile 0's slice."""
    tl = attached(tmp_path / "t.pftrace", layers=[(0, "a")])
    tl.hop(txn(0, Cmd.WRITE, DataClass.SPIKES, 0, 8, "noc", "l1", 0, 0, chain=0), "l1", 0, 10, 1, 0)
    tl.hop(txn(1, Cmd.COMPUTE, DataClass.NONE, 0, 0, "l1", "pe_array", 0, 0), "pe_array", 20, 30, 0, 0)
    tl.close()
    got = [p for p in dump(tmp_path / "t.pftrace") if p[0] in "BE"]
    assert [p[:6] for p in got[:4]] == [("B", 0, 4, "write spikes 8B", (1,), ()), ("B", 0, 4, "wait", (), ()),
                                        ("E", 1, 4), ("E", 10, 4)]
    assert got[4][3:6] == ("L0 a t0", (), (1,))


def test_without_the_perfetto_package_the_timeline_says_what_to_install(monkeypatch):
    import sys

    from tlmsim.errors import ConfigError

    monkeypatch.setitem(sys.modules, "perfetto.protos.perfetto.trace", None)
    with pytest.raises(ConfigError) as err:
        Encoder()
    assert str(err.value) == "--perfetto needs the 'perfetto' package (pip install perfetto==0.59.1)"
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_lanes(tmp_path):
    """A hop goes on the first lane free at its start (a lane whose last slice ended at or
    before it), else on a new lane: (0, 100) lane 0, (50, 150) lane 1, (100, 200) lane 0 again,
    (120, 130) lane 2, (150, 160) lane 1."""
    tl = PerfettoTimeline(tmp_path / "t.pftrace")
    for i, (s, e) in enumerate([(0, 100), (50, 150), (100, 200), (120, 130), (150, 160)]):
        tl.hop(txn(i), "glb", s, e, 0, 0)
    tl.close()
    assert tl.hops == 5 and tl.packets == 1 + 5 + 2 * 5 + 1  # the flags, 5 tracks, 2 per hop, layers
    got = dump(tmp_path / "t.pftrace")
    assert [p for p in got if p[0] == "T"][1:5] == [
        ("T", 2, 1, "glb", None, None), ("T", 3, 2, "lane 0", None, None), ("T", 4, 2, "lane 1", None, None),
        ("T", 5, 2, "lane 2", None, None)]
    assert [(p[1], p[2]) for p in got if p[0] == "B"][:5] == [(0, 3), (50, 4), (100, 3), (120, 5), (150, 4)]


def test_flows_of_blocks_loaded_into_l1_end_at_their_tile(tmp_path):
    """Each chained hop starts flow chain + 1; the writes from the NoC into an L1 (``l1`` or a
    core's ``l1_2``) for tile 3 of layer 0 end at that tile's slice on the PE array (in the
    order they were loaded); a read, a write from elsewhere, a write into the GLB or one for no
    tile do not. The tile's slice is named "L<layer> <layer name> t<tile>"."""
    tl = attached(tmp_path / "t.pftrace", layers=[(0, "conv")])
    W, S = Cmd.WRITE, DataClass.SPIKES
    hops = [(txn(1, W, S, 0, 32, "noc", "l1", 0, 3, chain=4), "l1"),
            (txn(2, W, S, 0, 32, "noc", "l1_2", 0, 3, chain=6), "l1_2"),
            (txn(3, W, S, 0, 32, "noc", "l1", 0, -1, chain=8), "l1"),
            (txn(4, Cmd.READ, S, 0, 32, "noc", "l1", 0, 3, chain=10), "l1"),
            (txn(5, W, S, 0, 32, "glb", "l1", 0, 3, chain=12), "l1"),
            (txn(6, W, S, 0, 32, "noc", "glb", 0, 3, chain=14), "glb"),
            (txn(7, W, S, 0, 32, "noc", "l1", 0, 3), "l1"),
            (txn(8, W, S, 0, 32, "noc", "pe_array", 0, 3, chain=16), "pe_array")]
    for i, (t, comp) in enumerate(hops):
        tl.hop(t, comp, 10 * i, 10 * i + 5, 0, 0)
    compute = txn(9, Cmd.COMPUTE, DataClass.NONE, 0, 0, "l1", "pe_array", 0, 3)
    tl.hop(compute, "pe_array", 200, 300, 0, 100)
    tl.hop(compute, "pe_array", 300, 400, 0, 100)  # the flows ended once
    tl.hop(txn(10, Cmd.COMPUTE, DataClass.NONE, 0, 0, "l1", "pe_array", 5, 0), "pe_array", 400, 450, 0, 0)
    tl.close()
    begins = [p for p in dump(tmp_path / "t.pftrace") if p[0] == "B"]
    assert [(p[3], p[4], p[5]) for p in begins] == [
        ("write spikes 32B", (5,), ()), ("write spikes 32B", (7,), ()), ("write spikes 32B", (9,), ()),
        ("read spikes 32B", (11,), ()), ("write spikes 32B", (13,), ()), ("write spikes 32B", (15,), ()),
        ("write spikes 32B", (), ()), ("write spikes 32B", (17,), ()),
        ("L0 conv t3", (), (5, 7)), ("L0 conv t3", (), ()), ("L5  t0", (), ()),
        ("L0 conv", (), ()), ("L5 ", (), ())]
    assert begins[8][6] == (("txn", 9), ("bytes", 0), ("layer", 0), ("tile", 3), ("address", 0),
                            ("route", "l1>pe_array"), ("busy_ps", 100))


def test_the_hop_cache_of_names_and_routes_gives_the_same_slices(tmp_path):
    """The second hop of the same kind and route reads the encoded name and route from the
    writer's caches: same fields as the first."""
    tl = PerfettoTimeline(tmp_path / "t.pftrace")
    for i in range(6):
        tl.hop(txn(0, nbytes=i % 2 + 1, src=f"s{i % 3}", dst="d"), "glb", 2 * i, 2 * i + 1, 0, 0)
    tl.close()
    begins = [p for p in dump(tmp_path / "t.pftrace") if p[0] == "B" and p[3].startswith("read")]
    assert [(b[3], b[6][-1][1]) for b in begins] == [
        ("read weights 1B", "s0>d"), ("read weights 2B", "s1>d"), ("read weights 1B", "s2>d"),
        ("read weights 2B", "s0>d"), ("read weights 1B", "s1>d"), ("read weights 2B", "s2>d")]


# -- stalls, tails, layers, close ----------------------------------------------------------


def test_stalls_and_tails(tmp_path):
    """A stall lies on "<component> stalls" (under the component) named by its reason, with
    its layer when it has one; a tail on the component's own track, from its start to
    start + ceil(busy), named "after the last transaction", carrying its busy time."""
    tl = PerfettoTimeline(tmp_path / "t.pftrace")
    tl.stall("controller", "l1_full", 2, 100, 300)
    tl.stall("controller", "x", -1, 200, 250)
    tl.stall("controller", "y", 0, 300, 310)
    tl.tail("dram", 1000, 2.5)
    tl.tail("dram", 2000, 4.0)
    tl.tail("controller", 0, 7)
    tl.stall("pe_array", "w", 1, 5, 6)  # another component's stalls: their own tracks
    tl.close()
    last = "after the last transaction"
    same(dump(tmp_path / "t.pftrace"), no_attach_head() + [
        ("T", 2, 1, "controller", None, None), ("T", 3, 2, "controller stalls", None, None),
        ("T", 4, 3, "lane 0", None, None),
        ("B", 100, 4, "l1_full", (), (), (("layer", 2),)), ("E", 300, 4),
        ("T", 5, 3, "lane 1", None, None), ("B", 200, 5, "x", (), (), ()), ("E", 250, 5),
        ("B", 300, 4, "y", (), (), (("layer", 0),)), ("E", 310, 4),
        ("T", 6, 1, "dram", None, None), ("T", 7, 6, "lane 0", None, None),
        ("B", 1000, 7, last, (), (), (("busy_ps", 2.5),)), ("E", 1003, 7),
        ("B", 2000, 7, last, (), (), (("busy_ps", 4),)), ("E", 2004, 7),
        ("T", 8, 2, "lane 0", None, None), ("B", 0, 8, last, (), (), (("busy_ps", 7),)), ("E", 7, 8),
        ("T", 9, 1, "pe_array", None, None), ("T", 10, 9, "pe_array stalls", None, None),
        ("T", 11, 10, "lane 0", None, None), ("B", 5, 11, "w", (), (), (("layer", 1),)), ("E", 6, 11),
        ("T", 12, 1, "layers", None, None)])


def test_layer_slices_span_each_layers_hops(tmp_path):
    """With no controller records each layer's slice runs from its first hop's start to its
    last hop's end (hops out of order), layers in index order, overlapping ones on lanes;
    hops of no layer (-1) make none."""
    tl = attached(tmp_path / "t.pftrace", layers=[(0, "a"), (1, "b")])
    for i, (layer, s, e) in enumerate([(1, 10, 20), (0, 100, 200), (0, 50, 150), (0, 120, 400), (-1, 0, 900)]):
        tl.hop(txn(i, layer=layer), "glb", s, e, 0, 0)
    tl.close()
    got = dump(tmp_path / "t.pftrace")
    layer_lanes = {p[1]: p[4 - 1] for p in got if p[0] == "T" and p[2] == 2}
    assert layer_lanes == {8: "lane 0", 9: "lane 1"}
    assert [p for p in got if p[0] in "BE" and p[2] in layer_lanes] == [
        ("B", 50, 8, "L0 a", (), (), (("layer", 0),)), ("E", 400, 8),
        ("B", 10, 9, "L1 b", (), (), (("layer", 1),)), ("E", 20, 9)]


@pytest.mark.parametrize("records", [True, False])
def test_layer_slices_from_the_controllers_records(tmp_path, records):
    """A controller that keeps layer records gives the layer slices (start to end of each
    record, whatever its hops); one with an empty list leaves the hops' spans."""
    layers = [SimpleNamespace(index=1, start_ps=50, end_ps=90), SimpleNamespace(index=0, start_ps=0, end_ps=60)]
    ctrl = SimpleNamespace(layers=layers if records else [])
    tl = attached(tmp_path / "t.pftrace", components={"controller": ctrl}, layers=[(0, "a"), (1, "b")])
    tl.hop(txn(0, layer=0), "glb", 1000, 2000, 0, 0)
    tl.close()
    got = dump(tmp_path / "t.pftrace")
    assert got[2:4] == [("T", 2, 1, "layers", None, None), ("T", 3, 1, "controller", None, None)]
    slices = [(p[1], p[2], p[3]) if p[0] == "B" else (p[1], p[2]) for p in got if p[0] in "BE" and p[2] >= 6]
    if records:
        assert slices == [(0, 6, "L0 a"), (60, 6), (50, 7, "L1 b"), (90, 7)]
    else:
        assert slices == [(1000, 6, "L0 a"), (2000, 6)]


def test_abort_leaves_no_file(tmp_path):
    tl = PerfettoTimeline(tmp_path / "t.pftrace")
    tl.hop(txn(0), "glb", 0, 1, 0, 0)
    tl.abort()
    assert list(tmp_path.iterdir()) == []


# -- counters ------------------------------------------------------------------------------


def _counters(got):
    names = {p[1]: (p[3], p[5]) for p in got if p[0] == "T"}
    out = {}
    for p in got:
        if p[0] == "C":
            out.setdefault(names[p[2]], []).append((p[1], p[3]))
    return out


def test_dram_bandwidth_windows(tmp_path):
    """1 ns windows, a span of 2: bytes of a hop go to the window holding its end (one ending on
    an edge to the one before); GB/s = bytes * 1000 / window_ps; an empty window after a busy one
    gives 0, and the last a closing 0; windows more than 2 behind the newest are written, and
    bytes that fall in a written window are counted late. Worked out in the comments."""
    tl = PerfettoTimeline(tmp_path / "t.pftrace", window_ps=1000, window_span=2)
    tl.hop(txn(0, nbytes=64), "dram", 0, 1000, 0, 0)  # window 0
    tl.hop(txn(1, nbytes=32), "dram", 500, 1001, 0, 0)  # window 1
    tl.hop(txn(2, nbytes=128), "dram", 3000, 3500, 0, 0)  # window 3: writes 0 (64 GB/s) and 1 (32)
    assert tl.late_dram_bytes == 0
    assert tl._bw == {3: 128}  # the windows written are dropped (memory stays bounded)
    tl.hop(txn(3, nbytes=16), "dram", 0, 900, 0, 0)  # window 0 is written: late
    tl.hop(txn(4, nbytes=8), "dram", 6000, 6001, 0, 0)  # window 6: writes 2 (0), 3 (128), 4 (0)
    assert tl._bw == {6: 8}
    tl.close()  # window 6 (8), closing 0 at 7
    assert tl._bw == {}
    got = dump(tmp_path / "t.pftrace")
    assert tl.late_dram_bytes == 16
    want = [(0, 64.0), (1000, 32.0), (2000, 0.0), (3000, 128.0), (4000, 0.0), (6000, 8.0), (7000, 0.0)]
    same(_counters(got), {(BW, "GB/s"): want})
    # the samples are written as the windows fall 2 behind: after the hops that push them out
    order = [p[0] + (str(p[1]) if p[0] == "C" else "") for p in got if p[0] in "BC"]
    assert order == ["B", "B", "B", "C0", "C1000", "B", "B", "C2000", "C3000", "C4000", "C6000", "C7000"]


def test_bandwidth_default_window_and_span(tmp_path):
    """The defaults: 100 ns windows (100,000 ps), 4,096 of them kept open: a hop ending in window
    4,097 writes windows 0 and 1, so bytes then ending in window 1 are late."""
    tl = PerfettoTimeline(tmp_path / "t.pftrace")
    assert (tl.window_ps, tl.window_span) == (100_000, 4096)
    tl.hop(txn(0, nbytes=50), "dram", 0, 100_000, 0, 0)
    tl.hop(txn(1, nbytes=10), "dram", 4097 * 100_000, 4097 * 100_000 + 1, 0, 0)
    tl.hop(txn(2, nbytes=20), "dram", 100_000, 100_001, 0, 0)
    tl.close()
    assert tl.late_dram_bytes == 20
    same(_counters(dump(tmp_path / "t.pftrace"))[(BW, "GB/s")],
         [(0, 0.5), (100_000, 0.0), (4097 * 100_000, 0.1), (4098 * 100_000, 0.0)])


def test_a_dram_hop_of_no_bytes_writes_no_bandwidth_sample(tmp_path):
    """Its window holds 0 bytes: no sample, and no closing 0 after a 0 (nor a counter track)."""
    tl = PerfettoTimeline(tmp_path / "t.pftrace", window_ps=1000)
    tl.hop(txn(0, nbytes=0), "dram", 0, 500, 0, 0)
    tl.close()
    assert [p[3] for p in dump(tmp_path / "t.pftrace") if p[0] == "T"] == ["tlmsim", "dram", "lane 0", "layers"]


def test_bandwidth_and_spikes_counters_have_their_own_tracks(tmp_path):
    """Two counters in one run: the input spikes of layer a's tile 0 (timesteps 0-1: (1 + 3) / 2 = 2)
    at the tile's start, and the DRAM bandwidth (64 B in window 0 of 100 ns: 0.64 GB/s, then the
    closing 0), each on its own track with its unit."""
    a = SimpleNamespace(name="a", index=0)
    tl = PerfettoTimeline(tmp_path / "t.pftrace")
    tl.attach(components={}, plans=[LayerPlan(layer=a, tiles=[Tile(0, 0, 1, [], [], 10)])],
              platform=SimpleNamespace(name="p"),
              workload=SimpleNamespace(name="w", layers=[a], spikes={"a": np.array([[1], [3]])}))
    tl.hop(txn(1, Cmd.COMPUTE, DataClass.NONE, 0, 0, "l1", "pe_array", 0, 0), "pe_array", 0, 10, 0, 0)
    tl.hop(txn(2), "dram", 0, 1000, 0, 0)
    tl.close()
    same(_counters(dump(tmp_path / "t.pftrace")), {("input spikes per timestep", "spikes"): [(0, 2.0)],
                                                   (BW, "GB/s"): [(0, 0.64), (100_000, 0.0)]})


def test_requests_in_flight_carried_over_a_flush(tmp_path):
    """A span of 1: windows 0, 1 and 2 each hold one request (1.0); the hop into window 2 writes 0
    and 1 (one sample: 1.0 from 0), and close finds window 2 still at 1.0: no new sample, only the
    closing 0 at window 3."""
    tl = attached(tmp_path / "t.pftrace", components={"dram": _dram(CH.__getitem__)}, window_ps=1000,
                  window_span=1)
    for s in (0, 1000, 2000):
        tl.hop(txn(0), "dram", s, s + 1000, 0, 0)
    tl.close()
    same(_counters(dump(tmp_path / "t.pftrace"))[("ch0 requests in flight", "requests")], [(0, 1.0), (3000, 0.0)])


def _dram(decode=None, **spec):
    d = SimpleNamespace(decode=decode, sinks=[], end_cycle=1000,
                        spec=SimpleNamespace(powerdown=True, tck_ps=2, banks_per_rank=4, ranks=2,
                                             self_refresh_timeout_cycles=100, powerdown_timeout_cycles=30))
    vars(d.spec).update(spec)
    d.add_command_sink = d.sinks.append
    return d


CH = {0: (0, 0, 0, 0, 0, 0), 64: (0, 1, 1, 3, 5, 0), 4096: (1, 0, 0, 1, 0, 0)}


def test_requests_in_flight_per_channel(tmp_path):
    """Each DRAM hop adds its [start, end) to its channel's 1 ns windows; a window's sample is
    request-ps / 1000 (its average requests in flight), written when it changes, a 0 after a
    window holding nothing and a closing 0; windows more than 2 behind the channel's newest are
    written, and a hop falling in a written window is counted late. Worked out in the comments."""
    tl = attached(tmp_path / "t.pftrace", components={"dram": _dram(CH.__getitem__)}, window_ps=1000,
                  window_span=2)
    tl.hop(txn(0, address=0), "dram", 500, 2500, 0, 0)  # ch0: w0 500, w1 1000, w2 500; writes w0 (0.5)
    tl.hop(txn(1, address=64), "dram", 2500, 2600, 0, 0)  # ch0: w2 600
    tl.hop(txn(2, address=0), "dram", 100, 700, 0, 0)  # ch0 w0 is written: 600 late
    tl.hop(txn(3, address=4096), "dram", 0, 1000, 0, 0)  # ch1: w0 1000
    tl.hop(txn(4, address=4096), "dram", 1000, 2000, 0, 0)  # ch1: w1 1000 (the same 1.0: no sample)
    tl.hop(txn(5, address=0), "dram", 5000, 5000, 0, 0)  # ch0: nothing; writes w1 (1.0), w2 (0.6), w3 (0)
    tl.hop(txn(6, address=4096), "dram", 4000, 5000, 0, 0)  # ch1: w4 1000; writes w0, w1 (1.0), w2 (0)
    assert tl.late_inflight_ps == 600
    assert tl._occ == {0: {}, 1: {4: 1000}}  # the windows written are dropped
    tl.close()  # ch1: w4 (1.0: after the 0), closing 0
    assert tl._occ == {0: {}, 1: {}}
    got = dump(tmp_path / "t.pftrace")
    counters = _counters(got)
    same(counters[("ch0 requests in flight", "requests")], [(0, 0.5), (1000, 1.0), (2000, 0.6), (3000, 0.0)])
    same(counters[("ch1 requests in flight", "requests")], [(0, 1.0), (2000, 0.0), (4000, 1.0), (5000, 0.0)])
    # every track once, in the order first used: each requests-in-flight counter under its channel (made by
    # its first hop's bank) when its first window is written; bandwidth's when hop 5 writes windows 1, 2
    assert [p[1:4] + p[5:] for p in got if p[0] == "T"] == [
        (1, None, "tlmsim: w on p", None), (2, 1, "layers", None), (3, 1, "dram", None), (4, 3, "ch0", None),
        (5, 4, "ch0 ra0 bg0 ba0", None), (6, 5, "lane 0", None), (7, 4, "ch0 requests in flight", "requests"),
        (8, 4, "ch0 ra1 bg1 ba3", None), (9, 8, "lane 0", None), (10, 5, "lane 1", None), (11, 3, "ch1", None),
        (12, 11, "ch1 ra0 bg0 ba1", None), (13, 12, "lane 0", None), (14, 1, BW, "GB/s"),
        (15, 11, "ch1 requests in flight", "requests")]
    # bandwidth by the hops' ends: w2 64 B, w2 64, w0 64 (late: w0 was written when w2 came), w0 64 (late),
    # w1 64, w4 64 (writes w1, w2), w4 64; close: w3 0, w4, closing 0
    same(counters[(BW, "GB/s")], [(1000, 64.0), (2000, 128.0), (3000, 0.0), (4000, 128.0), (5000, 0.0)])
    assert tl.late_dram_bytes == 128


def test_requests_in_flight_gaps_between_windows(tmp_path):
    """Default span, all written at close. Channel 0: windows 0 and 3 both 1.0 (hops ending on a
    window's edge stay in the window): a 0 at window 1, then 1.0 again, then the closing 0.
    Channel 1: windows 2 and 4 (0.1 each; its first window is not 0): 0.1, a 0 at window 3
    (one empty window), 0.1, the closing 0. Nothing is late."""
    tl = attached(tmp_path / "t.pftrace", components={"dram": _dram(CH.__getitem__)}, window_ps=1000)
    tl.hop(txn(0), "dram", 0, 1000, 0, 0)
    tl.hop(txn(1), "dram", 3000, 4000, 0, 0)
    tl.hop(txn(2, address=4096), "dram", 2500, 2600, 0, 0)
    tl.hop(txn(3, address=4096), "dram", 4000, 4100, 0, 0)
    tl.close()
    counters = _counters(dump(tmp_path / "t.pftrace"))
    same(counters[("ch0 requests in flight", "requests")], [(0, 1.0), (1000, 0.0), (3000, 1.0), (4000, 0.0)])
    same(counters[("ch1 requests in flight", "requests")], [(2000, 0.1), (3000, 0.0), (4000, 0.1), (5000, 0.0)])
    assert tl.late_inflight_ps == 0


def test_requests_in_flight_window_edges(tmp_path):
    """A span of 1: a channel's windows are written once a hop reaches 2 windows past them.
    Channel 0: [0, 999) stays in window 0 (no flush), [500, 600) adds to it (1,099 request-ps);
    [1500, 2001) covers windows 1 (500) and 2 (1 ps: it ends 1 ps past the edge) and writes 0
    (1.099) and 1 (0.5). Channel 1: [1000, 1500) writes up to window 0 (nothing there; no sample),
    [1200, 1300) is still in window 1 (600 in all). At close: 0.001 and 0.6, then the closing 0s."""
    tl = attached(tmp_path / "t.pftrace", components={"dram": _dram(CH.__getitem__)}, window_ps=1000,
                  window_span=1)
    for address, s, e in [(0, 0, 999), (0, 500, 600), (0, 1500, 2001), (4096, 1000, 1500), (4096, 1200, 1300)]:
        tl.hop(txn(0, address=address), "dram", s, e, 0, 0)
    assert tl.late_inflight_ps == 0
    tl.hop(txn(0), "dram", 100, 200, 0, 0)  # channel 0's windows 0 and 1 are written: 100 + 100 late
    tl.hop(txn(0), "dram", 1100, 1200, 0, 0)
    assert tl.late_inflight_ps == 200
    tl.close()
    counters = _counters(dump(tmp_path / "t.pftrace"))
    same(counters[("ch0 requests in flight", "requests")], [(0, 1.099), (1000, 0.5), (2000, 0.001), (3000, 0.0)])
    same(counters[("ch1 requests in flight", "requests")], [(1000, 0.6), (2000, 0.0)])


def test_dram_power_states_from_the_command_log(tmp_path):
    """Rows (cycle, channel, global bank, command, row, column) of the DRAM's command log, 2 ps
    cycles, 4 banks per rank, 2 ranks per channel: PDE -> 1 at its cycle; SRE -> 1 at
    (cycle - (100 - 30)) (precharge power-down since the power-down timeout) and 2 at its cycle;
    PDX, SRX -> 0. Each rank starts with a 0 at time 0; close ends a rank not in standby with a
    0 at the DRAM's end (1000 cycles = 2000 ps). Other commands (ACT, REF, ...) change nothing."""
    dram = _dram(CH.__getitem__)
    tl = attached(tmp_path / "t.pftrace", components={"dram": dram})
    tl.hop(txn(0, address=0), "dram", 0, 10, 0, 0)  # makes ch0's track (uuid 4), which rank 0 and 1's sit under
    (sink,) = dram.sinks
    sink(np.array([[10, 0, 0, 0, 3, 0], [20, 0, 1, 5, -1, -1], [50, 0, 5, 5, -1, -1], [60, 0, 0, 6, -1, -1]]))
    sink(np.array([[300, 1, 9, 7, -1, -1], [400, 1, 8, 4, -1, -1], [500, 1, 9, 8, -1, -1],
                   [700, 1, 12, 7, -1, -1]]))
    tl.close()
    got = dump(tmp_path / "t.pftrace")
    same({k: v for k, v in _counters(got).items() if k[0].endswith("power state")}, {
        ("ch0 ra0 power state", "state"): [(0, 0.0), (40, 1.0), (120, 0.0)],
        ("ch0 ra1 power state", "state"): [(0, 0.0), (100, 1.0), (2000, 0.0)],
        ("ch1 ra0 power state", "state"): [(0, 0.0), (460, 1.0), (600, 2.0), (1000, 0.0)],
        ("ch1 ra1 power state", "state"): [(0, 0.0), (1260, 1.0), (1400, 2.0), (2000, 0.0)]})
    names = {p[1]: (p[2], p[3]) for p in got if p[0] == "T"}
    chans = [names[u][0] for u, (_, n) in names.items() if n.endswith("power state")]
    assert chans == [4, 4, 9, 9] and [names[c] for c in (4, 9)] == [(3, "ch0"), (3, "ch1")]
    assert names[3] == (1, "dram")  # attach's dram track (after layers)


def test_no_power_state_tracks_without_power_down(tmp_path):
    dram = _dram(powerdown=False)
    attached(tmp_path / "t.pftrace", components={"dram": dram}).close()
    assert dram.sinks == []


# -- NoC links -----------------------------------------------------------------------------


def test_noc_link_slices_by_hand(tmp_path):
    """Each link the NoC reports for the next NoC hop gets a slice from head-in to tail-out
    (cycles x 500 ps) named like the hop, with its txn, bytes, layer and busy time (flit
    cycles x 500 ps); a packet overlapping the link's last slice goes on a lane under the link
    (never with the NoC's exclusive booking; here by hand). A NoC hop with no link reported
    makes none. A packet starting at cycle 0 is on the link itself."""
    noc = SimpleNamespace(link_observer=None, period_ps=500, link_name=lambda link: f"{link[0]}>{link[1]}")
    tl = attached(tmp_path / "t.pftrace", components={"noc": noc})
    a = ("r0", "r1")
    noc.link_observer(a, 0, 4, 4)
    tl.hop(txn(7, Cmd.READ, DataClass.SPIKES, 0, 32, "glb", "l1", 2, 0), "noc", 0, 2000, 0, 2000)
    noc.link_observer(a, 2, 6, 3)
    tl.hop(txn(8, Cmd.WRITE, DataClass.PSUM, 0, 16, "l1", "glb", 0, 0), "noc", 1000, 3000, 0, 1500)
    tl.hop(txn(9, Cmd.WRITE, DataClass.PSUM, 0, 16, "l1", "glb", 0, 0), "noc", 3000, 3100, 0, 0)
    noc.link_observer(a, 4, 5, 1)
    noc.link_observer(("r1", "r2"), 4, 6, 2)
    tl.hop(txn(10, Cmd.WRITE, DataClass.PSUM, 0, 16, "l1", "glb", 1, 0), "glb", 2000, 2500, 0, 500)
    tl.hop(txn(11, Cmd.WRITE, DataClass.PSUM, 0, 16, "l1", "glb", 1, 0), "noc", 2000, 2500, 0, 500)
    noc.link_observer(a, 4, 8, 2)  # overlaps the link's lane 0 (to 3000): its lane 1
    tl.hop(txn(12, Cmd.WRITE, DataClass.PSUM, 0, 16, "l1", "glb", 1, 0), "noc", 2000, 4000, 0, 1000)
    tl.close()
    got = dump(tmp_path / "t.pftrace")
    tracks = [p for p in got if p[0] == "T"]
    assert tracks[:5] == [("T", 1, None, "tlmsim: w on p", ROOT_DESC, None), ("T", 2, 1, "layers", None, None),
                          ("T", 3, 1, "noc", None, None), ("T", 4, 3, "lane 0", None, None),
                          ("T", 5, 3, "links", None, None)]
    # the link, the NoC's lane 1 (the second hop), the link's lane 0 (its second packet)
    assert tracks[5:8] == [("T", 6, 5, "r0>r1", None, None), ("T", 7, 3, "lane 1", None, None),
                           ("T", 8, 6, "lane 0", None, None)]
    links = [p for p in got if p[0] in "BE" and p[2] in (6, 8)]
    same(links, [
        ("B", 0, 6, "read spikes 32B", (), (), (("txn", 7), ("bytes", 32), ("layer", 2), ("busy_ps", 2000))),
        ("E", 2000, 6),
        ("B", 1000, 8, "write psum 16B", (), (), (("txn", 8), ("bytes", 16), ("layer", 0), ("busy_ps", 1500))),
        ("E", 3000, 8),
        ("B", 2000, 6, "write psum 16B", (), (), (("txn", 11), ("bytes", 16), ("layer", 1), ("busy_ps", 500))),
        ("E", 2500, 6)])
    # the second link of the last packet: its own track (after the GLB's and the NoC's lane 2)
    assert [p for p in got if p[0] == "T" and p[2] == 5] == [("T", 6, 5, "r0>r1", None, None),
                                                           ("T", 12, 5, "r1>r2", None, None)]
    # the last packet: the NoC's lane 3 (13), the link's lane 1 (14)
    assert [p for p in got if p[0] == "T" and p[2] == 6] == [("T", 8, 6, "lane 0", None, None),
                                                           ("T", 14, 6, "lane 1", None, None)]
    same([p for p in got if p[0] in "BE" and p[2] == 14], [
        ("B", 2000, 14, "write psum 16B", (), (), (("txn", 12), ("bytes", 16), ("layer", 1), ("busy_ps", 1000))),
        ("E", 4000, 14)])
    same([p for p in got if p[0] in "BE" and p[2] == 12], [
        ("B", 2000, 12, "write psum 16B", (), (), (("txn", 11), ("bytes", 16), ("layer", 1), ("busy_ps", 1000))),
        ("E", 3000, 12)])


# -- batches -------------------------------------------------------------------------------


def _check_batches(tl, step, n):
    """After every call the writer holds packets % BATCH packets: a full batch is written the
    moment it is full (by whichever of _emit, _event or hop added its last packet), and the
    .partial file holds exactly the packets written."""
    written = 0
    for i in range(n):
        step(i)
        assert len(tl._buf) == tl.packets % BATCH, i
        if tl.packets // BATCH > written:
            written = tl.packets // BATCH
            tl._fh.flush()
            trace = pb.Trace()
            trace.ParseFromString(tl._tmp.read_bytes())
            assert len(trace.packet) == written * BATCH
    assert written >= 1
    tl.close()
    assert len(dump(tl.path)) == tl.packets


def test_a_batch_filled_by_hops_is_written_at_once(tmp_path):
    """Hops one after the other: 4 packets, then 2 per hop: the 2,046th hop's end is the 4,096th."""
    tl = PerfettoTimeline(tmp_path / "t.pftrace")
    _check_batches(tl, lambda i: tl.hop(txn(i), "glb", i, i + 1, 0, 0), 2100)


def test_a_batch_filled_by_a_track_descriptor_is_written_at_once(tmp_path):
    """Hops all overlapping: each a new lane (a descriptor) and 2 events; the 1,365th hop's lane
    descriptor is the 4,096th packet (1 + 3 + 2 + 3 x 1,364)."""
    tl = PerfettoTimeline(tmp_path / "t.pftrace")
    _check_batches(tl, lambda i: tl.hop(txn(i), "glb", 0, 10, 0, 0), 1366)


def test_a_batch_filled_by_events_is_written_at_once(tmp_path):
    """Stalls one after the other: 5 packets, then 2 per stall: the 2,046th stall's begin is the
    4,096th."""
    tl = PerfettoTimeline(tmp_path / "t.pftrace")
    _check_batches(tl, lambda i: tl.stall("pe_array", "w", 0, i, i + 1), 2100)
