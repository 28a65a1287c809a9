"""Perfetto timeline of a run: every hop of every transaction, streamed as TrackEvent.

:class:`PerfettoTimeline` is a trace sink (:class:`~tlmsim.engine.trace.TraceSink`):
``simulate(..., sinks=[PerfettoTimeline(path)])`` writes ``path`` in Perfetto's native
protobuf format (a ``Trace`` of ``TracePacket``s, built with the protobuf classes the
``perfetto`` package ships), to be opened at https://ui.perfetto.dev (docs/observability.md).

Layout (tracks nest; every leaf is split into lanes so that overlapping requests never
overlap on one track):

* ``dram`` -> ``ch<c>`` -> ``ch<c> ra<r> bg<g> ba<b>`` -> lanes: each DRAM hop sits on the
  bank of its first burst (decoded from its address with :meth:`Dram.decode`);
* ``noc``, ``glb``, ``l1`` -> lanes: one slice per hop (a hop covers several SRAM
  banks' lines, so SRAM hops are not split by bank);
* ``pe_array`` -> lanes: one slice per computed tile ("L<layer> <name> t<tile>");
* ``<component> stalls`` -> lanes: one slice per timed stall (the controller's and the
  PE array's waits, named by reason); a hop that waited has a nested ``wait`` slice;
* ``layers``: one slice per layer (the controller's layer records: start to end);
* ``noc`` -> ``links`` -> one track per link, named as the NoC's ``link_name`` (the
  link rows of components.csv): one slice per packet for the NoC cycles it held that
  link (head in to tail out, credit stalls included), named like the hop, carrying its
  bytes and busy time (its flit cycles); needs the NoC's ``link_observer`` hook;
* counters: ``dram bandwidth (GB/s)`` (bytes per window of ``window_ps``, attributed to
  the window holding the hop's end) and ``input spikes per timestep`` (at each tile's
  start: the layer's input spikes per timestep over the tile's timestep window);
  under each DRAM channel ``ch<c> requests in flight`` (the average number of the
  channel's requests between their offer and their completion, per window: the sum of
  the DRAM hops' overlaps with the window / ``window_ps``) and, for each rank,
  ``ch<c> ra<r> power state`` (0 standby, 1 power-down, 2 self-refresh; from the
  PDE/PDX/SRE/SRX commands of the DRAM's command log, needs ``Dram.add_command_sink``).

Flows: the hops of one DMA block share a chain id (:meth:`Recorder.new_chain`); each
chain is one flow (flow id = chain + 1) from its first hop to its last, and the flows
of the blocks loaded into L1 for a tile end at that tile's slice on the PE array.

Time: timestamps are simulated **picoseconds** written where Perfetto expects
nanoseconds (exact, integer): the UI's "1 ns" is 1 simulated ps, so the time axis reads
1000x slower than the simulated time (1 us shown = 1 ns simulated). Perfetto's clocks
have an integer ns unit, so picoseconds cannot be expressed otherwise without rounding.

Memory stays bounded: packets are serialized in batches of :data:`BATCH` and written;
the writer keeps one end time per lane and per link, the flows waiting for their tile,
the open bandwidth and requests-in-flight windows (at most ``window_span`` of them per
counter), one power state per DRAM rank and one entry per layer.

"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from tlmsim.engine.plan import PlanSource
from tlmsim.engine.trace import discard_partial
from tlmsim.engine.transaction import Cmd
from tlmsim.errors import ConfigError
from tlmsim.platform.hierarchy import core_base

if TYPE_CHECKING:
    from tlmsim.engine.transaction import Transaction

#: packets serialized and written at once
BATCH = 4096
#: the sequence id of every packet (one writer, one sequence)
SEQUENCE_ID = 1
#: the root track's uuid; other tracks count up from it
ROOT_UUID = 1


def _schema():
    """The protobuf classes of the ``perfetto`` package (the trace format's schema)."""
    try:
        from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as pb
    except ImportError:  # pragma: no cover - the package is a dependency
        raise ConfigError("--perfetto needs the 'perfetto' package (pip install perfetto==0.59.1)") from None
    return pb


def varint(n: int) -> bytes:
    """Protobuf base-128 varint of ``n`` (negative int64 as its 64-bit two's complement)."""
    if 0 <= n < 0x80:
        return _SMALL[n]
    if 0 < n < 0x4000:
        return bytes(((n & 0x7F) | 0x80, n >> 7))
    if 0 < n < 0x200000:
        return bytes(((n & 0x7F) | 0x80, ((n >> 7) & 0x7F) | 0x80, n >> 14))
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = [bytes((i,)) for i in range(0x80)]
#: varints of 0 .. 2**14 - 1 (lengths, sizes, ids of small runs), looked up instead of computed
_V = [varint(i) for i in range(1 << 14)]


class Encoder:
    """A minimal protobuf encoder of the few Perfetto messages the timeline writes.

    Field numbers and wire types are read from the ``perfetto`` package's own
    descriptors (not typed in here); the tests parse every file back with the package's
    protobuf classes. Building each packet as a protobuf object costs about as much as
    the simulation itself; encoding the bytes directly costs a fraction of it.
    """

    #: protobuf field type -> wire type (varint 0, 64-bit 1, length-delimited 2)
    _WIRE: ClassVar[dict[int, int]] = {4: 0, 13: 0, 14: 0, 3: 0, 8: 0, 11: 2, 9: 2, 12: 2, 6: 1, 1: 1}

    def __init__(self) -> None:
        pb = _schema()
        self.pb = pb

        def key(msg, field: str) -> bytes:
            f = msg.DESCRIPTOR.fields_by_name[field]
            return varint((f.number << 3) | self._WIRE[f.type])

        self.packet = key(pb.Trace, "packet")
        self.ts = key(pb.TracePacket, "timestamp")
        self.seq = key(pb.TracePacket, "trusted_packet_sequence_id") + varint(SEQUENCE_ID)
        self.flags = key(pb.TracePacket, "sequence_flags") + varint(pb.TracePacket.SEQ_INCREMENTAL_STATE_CLEARED)
        self.event = key(pb.TracePacket, "track_event")
        self.descriptor = key(pb.TracePacket, "track_descriptor")
        te = pb.TrackEvent
        self.begin = key(te, "type") + varint(te.TYPE_SLICE_BEGIN)
        self.end = key(te, "type") + varint(te.TYPE_SLICE_END)
        self.counter = key(te, "type") + varint(te.TYPE_COUNTER)
        self.track_uuid = key(te, "track_uuid")
        self.name = key(te, "name")
        self.flow = key(te, "flow_ids")
        self.terminating = key(te, "terminating_flow_ids")
        self.annotation = key(te, "debug_annotations")
        self.double_counter = key(te, "double_counter_value")
        td = pb.TrackDescriptor
        self.uuid, self.parent = key(td, "uuid"), key(td, "parent_uuid")
        self.td_name, self.description = key(td, "name"), key(td, "description")
        self.counter_desc = key(td, "counter")
        self.unit_name = key(pb.CounterDescriptor, "unit_name")
        da = pb.DebugAnnotation
        self.ann_name, self.ann_int = key(da, "name"), key(da, "int_value")
        self.ann_double, self.ann_string = key(da, "double_value"), key(da, "string_value")

    @staticmethod
    def field(key: bytes, payload: bytes) -> bytes:
        """A length-delimited field."""
        return key + varint(len(payload)) + payload

    def text(self, key: bytes, value: str) -> bytes:
        return self.field(key, value.encode())

    def int_ann(self, name: str):
        """A function: int value -> the encoded debug annotation ``name`` (fast path)."""
        pre = self.text(self.ann_name, name) + self.ann_int
        key = self.annotation

        def encode(value: int, pre=pre, key=key) -> bytes:
            payload = pre + varint(value)
            return key + _SMALL[len(payload)] + payload  # always < 128 bytes

        return encode

    def ann(self, name: str, value) -> bytes:
        """One debug annotation (int, float or str)."""
        body = self.text(self.ann_name, name)
        if isinstance(value, str):
            body += self.text(self.ann_string, value)
        elif isinstance(value, float) and not value.is_integer():
            body += self.ann_double + struct.pack("<d", value)
        else:
            body += self.ann_int + varint(int(value))
        return self.field(self.annotation, body)


class PerfettoTimeline:
    """Streams a run's hops, stalls, layers and counters to a Perfetto trace file."""

    def __init__(self, path: str | os.PathLike, *, window_ps: int = 100_000, window_span: int = 4096) -> None:
        self.enc = enc = Encoder()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(self.path.name + ".partial")
        self._fh = open(self._tmp, "wb")  # noqa: SIM115 - streamed until close()/abort()
        self._buf: list[bytes] = []
        self._next_uuid = ROOT_UUID + 1
        self._tracks: dict[tuple, int] = {}  # (kind, ...) -> uuid
        self._uuid_field: dict[int, bytes] = {}  # uuid -> its encoded track_uuid field
        self._lanes: dict[int, list[int]] = {}  # leaf uuid -> [end_ps of each lane]
        self._lane_uuids: dict[int, list[int]] = {}
        self._names: dict[str, bytes] = {}  # encoded hop names (few distinct ones)
        self._routes: dict[tuple[str, str], bytes] = {}  # encoded route annotations
        self._a_busy, self._a_wait = enc.int_ann("busy_ps"), enc.int_ann("wait_ps")
        # encoded name + int key of the annotations every hop has (see hop())
        self._pre = tuple(enc.text(enc.ann_name, n) + enc.ann_int for n in ("txn", "bytes", "layer", "tile", "address"))
        self._ends: dict[int, bytes] = {}  # track -> the encoded tail of its slice-end packet
        self._head = enc.seq + enc.ts  # every event packet starts with these
        self._pending_flows: dict[tuple[int, int], list[int]] = {}  # (layer, tile) -> flow ids loaded into L1
        self._layer_span: dict[int, list[int]] = {}
        self._layer_names: dict[int, str] = {}
        #: layer index -> tile index -> (first, last timestep), for the layers whose plans are out now
        self._tile_window: dict[int, dict[int, tuple[int, int]]] = {}
        self._spikes_per_step: dict[int, list[int]] = {}
        self._decode = None
        self._controller = None
        self.window_ps, self.window_span = window_ps, window_span
        self._bw: dict[int, int] = {}  # window index -> DRAM bytes
        self._bw_flushed = -1  # windows up to this one are written
        self._bw_last_value = 0.0
        self.late_dram_bytes = 0  # bytes that fell in an already written window (0 in every test)
        self._occ: dict[int, dict[int, int]] = {}  # channel -> window -> request-ps in flight
        self._occ_last: dict[int, float] = {}  # channel -> last written value
        self._occ_done: dict[int, int] = {}  # channel -> windows up to this one are written
        self.late_inflight_ps = 0  # request-ps that fell in an already written window (0 in every test)
        self._noc_links: list[tuple] = []  # (link, start cycle, end cycle) booked for the next NoC hop
        self._noc_period = 0
        self._link_name = str
        self._link_end: dict[int, int] = {}  # link track -> end of its last slice
        self._power: dict[int, int] = {}  # global rank -> its power state now (0, 1, 2)
        self._dram = None
        self.packets = 0
        self.hops = 0
        self._title = "tlmsim"
        self._root_described = False
        self._emit(enc.flags)

    # -- the sink interface ----------------------------------------------------------
    def attach(self, *, components: dict, plans: PlanSource | list, platform, workload) -> None:
        """Called by :func:`simulate` once the components and plans exist."""
        dram = components.get("dram")
        self._controller = components.get("controller")
        self._decode = getattr(dram, "decode", None)
        self._title = f"tlmsim: {workload.name} on {platform.name}"
        self._layer_names = {l.index: l.name for l in workload.layers}
        # each layer's tile windows while it runs: watched on the source the controller reads (a
        # list given here alongside is another holder of the same plans, which nothing hands out)
        source = getattr(self._controller, "plans", None)
        if not isinstance(source, PlanSource):  # no controller (a hand-fed timeline): the plans given
            if isinstance(plans, PlanSource):
                source = plans
            else:  # a list holds every plan and nothing hands them out: every window from the start
                plans = list(plans)
                source = PlanSource(plans)
                for plan in plans:
                    self._plan_made(plan)
        source.watch(self._plan_made, self._plan_released)
        layers = [s.layer for s in source.summaries]
        for layer in layers:
            arr = workload.spikes.get(layer.name)
            if arr is not None and len(arr):
                self._spikes_per_step[layer.index] = [int(x) for x in arr.reshape(arr.shape[0], -1).sum(axis=1)]
        self._track(("unit", "layers"), "layers", ROOT_UUID)
        for name in components:
            self._track(("unit", name), name, ROOT_UUID)
        noc = components.get("noc")
        if noc is not None and hasattr(noc, "link_observer") and hasattr(noc, "link_name"):
            noc.link_observer = self._noc_link
            self._noc_period = noc.period_ps
            self._link_name = noc.link_name
        add_sink = getattr(dram, "add_command_sink", None)
        if add_sink is not None and dram.spec.powerdown:
            self._dram = dram
            add_sink(self._dram_commands)

    def _plan_made(self, plan) -> None:
        self._tile_window[plan.layer.index] = {t.index: (t.t_first, t.t_last) for t in plan.tiles}

    def _plan_released(self, li: int) -> None:
        self._tile_window.pop(li, None)

    def hop(self, txn: Transaction, component: str, start_ps: int, end_ps: int, wait_ps: int,
            busy_ps: float) -> None:
        # the hot path of --perfetto: encoded inline (see Encoder for the fields)
        self.hops += 1
        enc, V = self.enc, _V
        track = self._lane(self._leaf(component, txn), start_ps, end_ps)
        uuid_field = self._uuid_field[track]
        layer, tile = txn.layer, txn.tile
        parts = [enc.begin, uuid_field]
        compute = txn.cmd == Cmd.COMPUTE
        if compute:
            parts.append(enc.text(enc.name, f"L{layer} {self._layer_names.get(layer, '')} t{tile}"))
            for fid in self._pending_flows.pop((layer, tile), ()):
                parts.append(enc.terminating + struct.pack("<Q", fid))
        else:
            key = (txn.cmd, txn.data_class, txn.nbytes)
            nb = self._names.get(key)
            if nb is None:
                nb = enc.text(enc.name, f"{txn.cmd.label} {txn.data_class.label} {txn.nbytes}B")
                if len(self._names) < 4096:
                    self._names[key] = nb
            parts.append(nb)
            if txn.chain >= 0:
                fid = txn.chain + 1
                parts.append(enc.flow + struct.pack("<Q", fid))
                if txn.cmd == Cmd.WRITE and txn.source == "noc" and tile >= 0 and core_base(component) == "l1":
                    self._pending_flows.setdefault((layer, tile), []).append(fid)
        route = self._routes.get((txn.source, txn.destination))
        if route is None:
            route = self._routes[(txn.source, txn.destination)] = enc.ann("route", f"{txn.source}>{txn.destination}")
        ann = enc.annotation
        for pre, v in zip(self._pre, (txn.id, txn.nbytes, layer, tile, txn.address)):
            vb = V[v] if 0 <= v < 16384 else varint(v)
            parts += (ann, _SMALL[len(pre) + len(vb)], pre, vb)
        parts.append(route)
        if busy_ps:  # absent: 0
            parts.append(self._a_busy(int(busy_ps)) if float(busy_ps).is_integer() else enc.ann("busy_ps", busy_ps))
        if wait_ps:
            parts.append(self._a_wait(wait_ps))
        ev = b"".join(parts)
        n = len(ev)
        body = b"".join((self._head, varint(start_ps), enc.event, V[n] if n < 16384 else varint(n), ev))
        n = len(body)
        buf = self._buf
        buf.append(enc.packet + (V[n] if n < 16384 else varint(n)) + body)
        end = self._ends.get(track)
        if end is None:
            e = enc.end + uuid_field
            end = self._ends[track] = enc.event + varint(len(e)) + e
        if wait_ps > 0:
            self._event(start_ps, enc.begin + uuid_field + self._name("wait"))
            self._event(start_ps + wait_ps, enc.end + uuid_field)
        body = self._head + varint(end_ps) + end
        buf.append(enc.packet + V[len(body)] + body)
        self.packets += 2
        if len(buf) >= BATCH:
            self._write()
        if layer >= 0:
            span = self._layer_span.get(layer)
            if span is None:
                self._layer_span[layer] = [start_ps, end_ps]
            else:
                span[0] = min(span[0], start_ps)
                span[1] = max(span[1], end_ps)
        if compute:
            self._spike_sample(layer, tile, start_ps)
        elif component == "dram":
            self._dram_bytes(end_ps, txn.nbytes)
            if self._decode is not None:
                self._inflight(self._decode(txn.address)[0], start_ps, end_ps)
        elif component == "noc" and self._noc_links:
            self._link_slices(txn)

    def stall(self, component: str, reason: str, layer: int, start_ps: int, end_ps: int) -> None:
        unit = self._track(("unit", component), component, ROOT_UUID)
        leaf = self._track(("stalls", component), f"{component} stalls", unit)
        self._slice(self._lane(leaf, start_ps, end_ps), start_ps, end_ps, reason, layer=layer)

    def tail(self, component: str, start_ps: int, busy_ps: float) -> None:
        """A slice for the busy time after the component's last hop (posted DRAM writes
        drained after the last transaction), carrying that busy time."""
        unit = self._track(("unit", component), component, ROOT_UUID)
        end_ps = start_ps + int(math.ceil(busy_ps))
        track = self._lane(unit, start_ps, end_ps)
        enc = self.enc
        uf = self._uuid_field[track]
        busy = self._a_busy(int(busy_ps)) if float(busy_ps).is_integer() else enc.ann("busy_ps", busy_ps)
        self._event(start_ps, enc.begin + uf + enc.text(enc.name, "after the last transaction") + busy)
        self._event(end_ps, enc.end + uf)

    def close(self) -> None:
        """Write the layer slices and the last bandwidth windows; move the file in place."""
        if self._fh.closed:
            return
        layers = self._track(("unit", "layers"), "layers", ROOT_UUID)
        # the controller's layer records when it keeps them, else each layer's first to last hop
        records = getattr(self._controller, "layers", None)
        spans = {r.index: (r.start_ps, r.end_ps) for r in records} if records else self._layer_span
        for li in sorted(spans):
            s, e = spans[li]
            self._slice(self._lane(layers, s, e), s, e, f"L{li} {self._layer_names.get(li, '')}", layer=li)
        self._flush_bw(None)
        for ch in sorted(self._occ):
            self._flush_occ(ch, None)
        if self._dram is not None:
            end = self._dram.end_cycle * self._dram.spec.tck_ps
            for r in sorted(self._power):
                if self._power[r]:
                    self._power_sample(r, end, 0)
        self._write()
        self._fh.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        discard_partial(self._fh, self._tmp)

    # -- tracks --------------------------------------------------------------------------
    def _describe(self, uuid: int, parent: int | None, name: str, description: str = "",
                  counter_unit: str | None = None) -> None:
        if parent == ROOT_UUID and not self._root_described:
            self._root_described = True
            self._describe(ROOT_UUID, None, self._title, "timestamps: 1 ns on the time axis = 1 ps simulated")
        enc = self.enc
        body = enc.uuid + varint(uuid) + enc.text(enc.td_name, name)
        if parent is not None:
            body += enc.parent + varint(parent)
        if description:
            body += enc.text(enc.description, description)
        if counter_unit is not None:
            body += enc.field(enc.counter_desc, enc.text(enc.unit_name, counter_unit))
        self._emit(enc.field(enc.descriptor, body))
        self._uuid_field[uuid] = enc.track_uuid + varint(uuid)

    def _track(self, key: tuple, name: str, parent: int, *, counter_unit: str | None = None) -> int:
        uuid = self._tracks.get(key)
        if uuid is None:
            uuid = self._tracks[key] = self._next_uuid
            self._next_uuid += 1
            self._describe(uuid, parent, name, counter_unit=counter_unit)
        return uuid

    def _leaf(self, component: str, txn: Transaction) -> int:
        unit = self._track(("unit", component), component, ROOT_UUID)
        if component != "dram" or self._decode is None:
            return unit
        ch, ra, bg, ba = self._decode(txn.address)[:4]
        chan = self._track(("ch", ch), f"ch{ch}", unit)
        return self._track(("bank", ch, ra, bg, ba), f"ch{ch} ra{ra} bg{bg} ba{ba}", chan)

    def _lane(self, leaf: int, start_ps: int, end_ps: int) -> int:
        """The first lane of ``leaf`` free from ``start_ps`` on (a lane's slices are
        written in time order and never overlap)."""
        ends = self._lanes.get(leaf)
        if ends is None:
            ends = self._lanes[leaf] = []
            self._lane_uuids[leaf] = []
        for i, e in enumerate(ends):
            if e <= start_ps:
                ends[i] = end_ps
                return self._lane_uuids[leaf][i]
        ends.append(end_ps)
        uuid = self._next_uuid
        self._next_uuid += 1
        self._describe(uuid, leaf, f"lane {len(ends) - 1}")
        self._lane_uuids[leaf].append(uuid)
        return uuid

    # -- packets -------------------------------------------------------------------------
    def _emit(self, body: bytes) -> None:
        """One TracePacket (its fields ``body``, plus the sequence id)."""
        body = self.enc.seq + body
        self._buf.append(self.enc.packet + varint(len(body)) + body)
        self.packets += 1
        if len(self._buf) >= BATCH:
            self._write()

    def _event(self, ts: int, event: bytes) -> None:
        """A TracePacket holding one TrackEvent (fields ``event``) at ``ts``."""
        enc = self.enc
        body = enc.seq + enc.ts + varint(ts) + enc.event + varint(len(event)) + event
        self._buf.append(enc.packet + varint(len(body)) + body)
        self.packets += 1
        if len(self._buf) >= BATCH:
            self._write()

    def _write(self) -> None:
        if self._buf:
            self._fh.write(b"".join(self._buf))
            self._buf.clear()

    def _name(self, name: str) -> bytes:
        nb = self._names.get(name)
        if nb is None:
            nb = self._names[name] = self.enc.text(self.enc.name, name)
        return nb

    def _slice(self, track: int, s: int, e: int, name: str, *, layer: int = -1) -> None:
        enc = self.enc
        uf = self._uuid_field[track]
        ev = enc.begin + uf + enc.text(enc.name, name)
        if layer >= 0:
            ev += enc.ann("layer", layer)
        self._event(s, ev)
        self._event(e, enc.end + uf)

    def _counter(self, key: str, unit: str, ts: int, value: float) -> None:
        self._counter_on(self._track(("counter", key), key, ROOT_UUID, counter_unit=unit), ts, value)

    # -- counters ------------------------------------------------------------------------
    def _spike_sample(self, layer: int, tile: int, ts: int) -> None:
        steps = self._spikes_per_step.get(layer)
        windows = self._tile_window.get(layer)
        window = windows.get(tile) if windows is not None else None
        if not steps or window is None:
            return
        t0, t1 = window
        t1 = min(t1, len(steps) - 1)
        if t1 < t0:
            return
        self._counter("input spikes per timestep", "spikes", ts, sum(steps[t0:t1 + 1]) / (t1 - t0 + 1))

    def _dram_bytes(self, end_ps: int, nbytes: int) -> None:
        w = max(end_ps - 1, 0) // self.window_ps  # a hop ending on a window's edge belongs to the window before
        if w <= self._bw_flushed:
            self.late_dram_bytes += nbytes
            return
        self._bw[w] = self._bw.get(w, 0) + nbytes
        if w - self.window_span > self._bw_flushed:
            self._flush_bw(w - self.window_span)

    def _flush_bw(self, upto: int | None) -> None:
        """Write the bandwidth windows up to ``upto`` (all, and a closing 0, when None);
        a window where the DRAM moved nothing gets a 0 sample after a non-zero one."""
        name, win = "dram bandwidth (GB/s)", self.window_ps
        last = (max(self._bw) if self._bw else self._bw_flushed) if upto is None else upto
        w = self._bw_flushed + 1
        # every window in self._bw is past the flushed ones and ``last`` is at most the newest, so the
        # loop pops each window up to ``last`` (session 14: a branch for running out of windows here
        # could never run)
        while w <= last:
            n = self._bw.pop(w, 0)
            if n:
                v = n * 1000.0 / win  # bytes/ps * 1000 = GB/s
                self._counter(name, "GB/s", w * win, v)
                self._bw_last_value = v
            elif self._bw_last_value != 0.0:
                self._counter(name, "GB/s", w * win, 0.0)
                self._bw_last_value = 0.0
            w += 1
        self._bw_flushed = max(self._bw_flushed, last)
        if upto is None and self._bw_last_value != 0.0:
            self._counter(name, "GB/s", (self._bw_flushed + 1) * win, 0.0)
            self._bw_last_value = 0.0

    # -- DRAM requests in flight and power states ------------------------------------------
    def _inflight(self, ch: int, start_ps: int, end_ps: int) -> None:
        """Add the hop's [start, end) to the channel's windows (request-ps per window)."""
        occ = self._occ.setdefault(ch, {})
        win = self.window_ps
        w, last = start_ps // win, max(end_ps - 1, start_ps) // win
        done = self._occ_done.get(ch, -1)
        while w <= last:
            lo, hi = max(start_ps, w * win), min(end_ps, (w + 1) * win)
            if hi > lo:
                if w <= done:
                    self.late_inflight_ps += hi - lo
                else:
                    occ[w] = occ.get(w, 0) + hi - lo
            w += 1
        if last - self.window_span > self._occ_done.get(ch, -1):
            self._flush_occ(ch, last - self.window_span)

    def _flush_occ(self, ch: int, upto: int | None) -> None:
        """Write the channel's windows before ``upto`` (all, and a closing 0, when None);
        a window holding nothing after one holding something gets a 0 sample."""
        occ = self._occ.get(ch, {})
        unit = self._track(("unit", "dram"), "dram", ROOT_UUID)
        chan = self._track(("ch", ch), f"ch{ch}", unit)
        name = f"ch{ch} requests in flight"
        track = self._track(("inflight", ch), name, chan, counter_unit="requests")
        win = self.window_ps
        done = self._occ_done.get(ch, -1)
        last = (max(occ) if occ else done) if upto is None else upto
        prev = self._occ_last.get(ch, 0.0)
        for w in sorted(k for k in occ if k <= last):
            if w - 1 > done and prev != 0.0:  # an empty window before this one
                self._counter_on(track, (done + 1) * win, 0.0)
                prev = 0.0
            v = occ.pop(w) / win
            if v != prev:
                self._counter_on(track, w * win, v)
                prev = v
            done = w
        # the window after the last one written holds nothing (it is past ``last``: the run's end, or
        # an empty window up to ``upto``): its 0 goes there, not after ``upto``
        if prev != 0.0 and (upto is None or last > done):
            self._counter_on(track, (done + 1) * win, 0.0)
            prev = 0.0
        done = max(done, last)
        self._occ_done[ch] = done
        self._occ_last[ch] = prev

    def _counter_on(self, track: int, ts: int, value: float) -> None:
        enc = self.enc
        self._event(ts, enc.counter + self._uuid_field[track] + enc.double_counter + struct.pack("<d", float(value)))

    def _dram_commands(self, rows) -> None:
        """A time-sorted chunk of the DRAM's command log: power-state changes per rank."""
        s = self._dram.spec
        tck, bpr = s.tck_ps, s.banks_per_rank
        pd_before_sr = s.self_refresh_timeout_cycles - s.powerdown_timeout_cycles
        sel = rows[rows[:, 3] >= 5]  # PDE, PDX, SRE, SRX
        for cyc, _ch, gb, cmd in sel[:, :4].tolist():
            r = gb // bpr
            if cmd == 5:  # PDE
                self._power_sample(r, cyc * tck, 1)
            elif cmd == 7:  # SRE: precharge power-down (not logged) since the power-down timeout
                self._power_sample(r, (cyc - pd_before_sr) * tck, 1)
                self._power_sample(r, cyc * tck, 2)
            else:  # PDX, SRX
                self._power_sample(r, cyc * tck, 0)

    def _power_sample(self, r: int, ts: int, state: int) -> None:
        s = self._dram.spec
        ch, ra = r // s.ranks, r % s.ranks
        unit = self._track(("unit", "dram"), "dram", ROOT_UUID)
        chan = self._track(("ch", ch), f"ch{ch}", unit)
        track = self._track(("power", r), f"ch{ch} ra{ra} power state", chan, counter_unit="state")
        if r not in self._power:
            self._counter_on(track, 0, 0.0)
        self._power[r] = state
        self._counter_on(track, ts, float(state))

    # -- NoC links -------------------------------------------------------------------------
    def _noc_link(self, link: tuple, start_cycle: int, end_cycle: int, flit_cycles: int) -> None:
        """The NoC's link observer: ``link`` is held from ``start_cycle`` to ``end_cycle``
        (NoC cycles; its busy time: ``flit_cycles``) by the transfer it records next."""
        self._noc_links.append((link, start_cycle, end_cycle, flit_cycles))

    def _link_slices(self, txn: Transaction) -> None:
        enc, period = self.enc, self._noc_period
        unit = self._track(("unit", "noc"), "noc", ROOT_UUID)
        links = self._track(("links",), "links", unit)
        name = enc.text(enc.name, f"{txn.cmd.label} {txn.data_class.label} {txn.nbytes}B")
        ann = enc.ann("txn", txn.id) + enc.ann("bytes", txn.nbytes) + enc.ann("layer", txn.layer)
        for link, a, b, f in self._noc_links:
            track = self._track(("link", link), self._link_name(link), links)
            s, e = a * period, b * period
            if self._link_end.get(track, 0) > s:  # never on a link the NoC books exclusively
                track = self._lane(track, s, e)
            else:
                self._link_end[track] = e
            uf = self._uuid_field[track]
            self._event(s, enc.begin + uf + name + ann + self._a_busy(f * period))
            self._event(e, enc.end + uf)
        self._noc_links.clear()

