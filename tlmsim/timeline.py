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
* counters: ``dram bandwidth (GB/s)`` (bytes per window of ``window_ps``, attributed to
  the window holding the hop's end) and ``input spikes per timestep`` (at each tile's
  start: the layer's input spikes per timestep over the tile's timestep window).

Flows: the hops of one DMA block share a chain id (:meth:`Recorder.new_chain`); each
chain is one flow (flow id = chain + 1) from its first hop to its last, and the flows
of the blocks loaded into L1 for a tile end at that tile's slice on the PE array.

Time: timestamps are simulated **picoseconds** written where Perfetto expects
nanoseconds (exact, integer): the UI's "1 ns" is 1 simulated ps, so the time axis reads
1000x slower than the simulated time (1 us shown = 1 ns simulated). Perfetto's clocks
have an integer ns unit, so picoseconds cannot be expressed otherwise without rounding.

Memory stays bounded: packets are serialized in batches of :data:`BATCH` and written;
the writer keeps one end time per lane, the flows waiting for their tile, the open
bandwidth windows (at most ``window_span`` of them) and one entry per layer.

DRAM queue occupancy and power-state counters are not drawn: the DRAM model does not
expose them yet (docs/observability.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tlmsim.engine.transaction import Cmd
from tlmsim.errors import ConfigError

if TYPE_CHECKING:
    from tlmsim.engine.transaction import Transaction

#: packets serialized and written at once
BATCH = 4096
#: the sequence id of every packet (one writer, one sequence)
SEQUENCE_ID = 1
#: the root track's uuid; other tracks count up from it
ROOT_UUID = 1


def _protos():
    try:
        from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as pb
    except ImportError:  # pragma: no cover - the package is a dependency
        raise ConfigError("--perfetto needs the 'perfetto' package (pip install perfetto==0.59.1)") from None
    return pb


class PerfettoTimeline:
    """Streams a run's hops, stalls, layers and counters to a Perfetto trace file."""

    def __init__(self, path: str | os.PathLike, *, window_ps: int = 100_000, window_span: int = 4096) -> None:
        self.pb = pb = _protos()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(self.path.name + ".partial")
        self._fh = open(self._tmp, "wb")
        self._batch = pb.Trace()
        self._next_uuid = ROOT_UUID + 1
        self._tracks: dict[tuple, int] = {}  # (kind, ...) -> uuid
        self._lanes: dict[int, list[int]] = {}  # leaf uuid -> [end_ps of each lane]
        self._lane_uuids: dict[int, list[int]] = {}
        self._pending_flows: dict[tuple[int, int], list[int]] = {}  # (layer, tile) -> flow ids loaded into L1
        self._layer_span: dict[int, list[int]] = {}
        self._layer_names: dict[int, str] = {}
        self._tile_window: dict[tuple[int, int], tuple[int, int]] = {}
        self._spikes_per_step: dict[int, list[int]] = {}
        self._decode = None
        self._controller = None
        self.window_ps, self.window_span = window_ps, window_span
        self._bw: dict[int, int] = {}  # window index -> DRAM bytes
        self._bw_flushed = -1  # windows up to this one are written
        self._bw_last_value = 0.0
        self.late_dram_bytes = 0  # bytes that fell in an already written window (0 in every test)
        self.packets = 0
        self.hops = 0
        self._title = "tlmsim"
        first = self._packet()
        first.sequence_flags = pb.TracePacket.SEQ_INCREMENTAL_STATE_CLEARED

    # -- the sink interface ----------------------------------------------------------
    def attach(self, *, components: dict, plans: list, platform, workload) -> None:
        """Called by :func:`simulate` once the components and plans exist."""
        dram = components.get("dram")
        self._controller = components.get("controller")
        self._decode = getattr(dram, "decode", None)
        self._title = f"tlmsim: {workload.name} on {platform.name}"
        self._layer_names = {l.index: l.name for l in workload.layers}
        for plan in plans:
            li = plan.layer.index
            for t in plan.tiles:
                self._tile_window[(li, t.index)] = (t.t_first, t.t_last)
            arr = workload.spikes.get(plan.layer.name)
            if arr is not None and len(arr):
                self._spikes_per_step[li] = [int(x) for x in arr.reshape(arr.shape[0], -1).sum(axis=1)]
        root = self._packet()
        td = root.track_descriptor
        td.uuid = ROOT_UUID
        td.name = self._title
        td.description = "timestamps: 1 ns on the time axis = 1 ps simulated"
        self._track(("unit", "layers"), "layers", ROOT_UUID)
        for name in components:
            self._track(("unit", name), name, ROOT_UUID)

    def hop(self, txn: "Transaction", component: str, start_ps: int, end_ps: int, wait_ps: int,
            busy_ps: float) -> None:
        self.hops += 1
        leaf = self._leaf(component, txn)
        track = self._lane(leaf, start_ps, end_ps)
        pb = self.pb
        layer, tile = txn.layer, txn.tile
        b = self._packet()
        b.timestamp = start_ps
        ev = b.track_event
        ev.type = pb.TrackEvent.TYPE_SLICE_BEGIN
        ev.track_uuid = track
        if txn.cmd == Cmd.COMPUTE:
            ev.name = f"L{layer} {self._layer_names.get(layer, '')} t{tile}"
            flows = self._pending_flows.pop((layer, tile), None)
            if flows:
                ev.terminating_flow_ids.extend(flows)
        else:
            ev.name = f"{txn.cmd.label} {txn.data_class.label} {txn.nbytes}B"
            if txn.chain >= 0:
                fid = txn.chain + 1
                ev.flow_ids.append(fid)
                if component == "l1" and txn.cmd == Cmd.WRITE and txn.source == "noc" and tile >= 0:
                    self._pending_flows.setdefault((layer, tile), []).append(fid)
        a = ev.debug_annotations
        self._ann(a, "txn", txn.id)
        self._ann(a, "bytes", txn.nbytes)
        self._ann(a, "busy_ps", busy_ps)
        self._ann(a, "wait_ps", wait_ps)
        self._ann(a, "layer", layer)
        self._ann(a, "tile", tile)
        self._ann(a, "address", txn.address)
        x = a.add()
        x.name = "route"
        x.string_value = f"{txn.source}>{txn.destination}"
        if wait_ps > 0:
            w = self._packet()
            w.timestamp = start_ps
            w.track_event.type = pb.TrackEvent.TYPE_SLICE_BEGIN
            w.track_event.track_uuid = track
            w.track_event.name = "wait"
            w = self._packet()
            w.timestamp = start_ps + wait_ps
            w.track_event.type = pb.TrackEvent.TYPE_SLICE_END
            w.track_event.track_uuid = track
        e = self._packet()
        e.timestamp = end_ps
        e.track_event.type = pb.TrackEvent.TYPE_SLICE_END
        e.track_event.track_uuid = track
        if layer >= 0:
            span = self._layer_span.get(layer)
            if span is None:
                self._layer_span[layer] = [start_ps, end_ps]
            else:
                if start_ps < span[0]:
                    span[0] = start_ps
                if end_ps > span[1]:
                    span[1] = end_ps
        if component == "dram" and txn.cmd != Cmd.COMPUTE:
            self._dram_bytes(end_ps, txn.nbytes)
        elif txn.cmd == Cmd.COMPUTE:
            self._spike_sample(layer, tile, start_ps)

    def stall(self, component: str, reason: str, layer: int, start_ps: int, end_ps: int) -> None:
        leaf = self._track(("stalls", component), f"{component} stalls", self._track(("unit", component), component,
                                                                                       ROOT_UUID))
        track = self._lane(leaf, start_ps, end_ps)
        self._slice(track, start_ps, end_ps, reason, layer=layer)

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
        self._write()
        self._fh.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        if self._tmp.exists():
            self._tmp.unlink()

    # -- tracks --------------------------------------------------------------------------
    def _track(self, key: tuple, name: str, parent: int, *, counter_unit: str | None = None) -> int:
        uuid = self._tracks.get(key)
        if uuid is None:
            uuid = self._tracks[key] = self._next_uuid
            self._next_uuid += 1
            p = self._packet()
            td = p.track_descriptor
            td.uuid = uuid
            td.parent_uuid = parent
            td.name = name
            if counter_unit is not None:
                td.counter.unit_name = counter_unit
        return uuid

    def _leaf(self, component: str, txn: "Transaction") -> int:
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
        p = self._packet()
        td = p.track_descriptor
        td.uuid = uuid
        td.parent_uuid = leaf
        td.name = f"lane {len(ends) - 1}"
        self._lane_uuids[leaf].append(uuid)
        return uuid

    # -- packets -------------------------------------------------------------------------
    def _packet(self):
        """A new packet of the current batch (the batch is written first when full:
        every packet handed out before is complete by then)."""
        if len(self._batch.packet) >= BATCH:
            self._write()
        p = self._batch.packet.add()
        p.trusted_packet_sequence_id = SEQUENCE_ID
        self.packets += 1
        return p

    def _write(self) -> None:
        if len(self._batch.packet):
            self._fh.write(self._batch.SerializeToString())
        self._batch = self.pb.Trace()

    @staticmethod
    def _ann(a, name: str, value) -> None:
        x = a.add()
        x.name = name
        if isinstance(value, float) and not value.is_integer():
            x.double_value = value
        else:
            x.int_value = int(value)

    def _slice(self, track: int, s: int, e: int, name: str, *, layer: int = -1) -> None:
        pb = self.pb
        p = self._packet()
        p.timestamp = s
        ev = p.track_event
        ev.type = pb.TrackEvent.TYPE_SLICE_BEGIN
        ev.track_uuid = track
        ev.name = name
        if layer >= 0:
            self._ann(ev.debug_annotations, "layer", layer)
        p = self._packet()
        p.timestamp = e
        p.track_event.type = pb.TrackEvent.TYPE_SLICE_END
        p.track_event.track_uuid = track

    def _counter(self, key: str, unit: str, ts: int, value: float) -> None:
        track = self._track(("counter", key), key, ROOT_UUID, counter_unit=unit)
        p = self._packet()
        p.timestamp = ts
        ev = p.track_event
        ev.type = self.pb.TrackEvent.TYPE_COUNTER
        ev.track_uuid = track
        ev.double_counter_value = float(value)

    # -- counters ------------------------------------------------------------------------
    def _spike_sample(self, layer: int, tile: int, ts: int) -> None:
        steps = self._spikes_per_step.get(layer)
        window = self._tile_window.get((layer, tile))
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
        """Write the bandwidth windows up to ``upto`` (all when None), zeros included
        where the DRAM moved nothing after it had moved something."""
        if not self._bw:
            if upto is not None:
                self._bw_flushed = max(self._bw_flushed, upto)
            return
        last = max(self._bw) if upto is None else upto
        for w in sorted(k for k in self._bw if k <= last):
            if w - 1 > self._bw_flushed and self._bw_last_value != 0.0 and (w - 1) not in self._bw:
                self._counter("dram bandwidth (GB/s)", "GB/s", (self._bw_flushed + 1) * self.window_ps, 0.0)
                self._bw_last_value = 0.0
            v = self._bw.pop(w) * 1000.0 / self.window_ps  # bytes/ps * 1000 = GB/s
            self._counter("dram bandwidth (GB/s)", "GB/s", w * self.window_ps, v)
            self._bw_last_value = v
            self._bw_flushed = w
        if upto is None:
            self._counter("dram bandwidth (GB/s)", "GB/s", (self._bw_flushed + 1) * self.window_ps, 0.0)
        self._bw_flushed = max(self._bw_flushed, last)
