"""The controller: runs layer plans by issuing transactions through the hierarchy.

The hierarchy is the platform's declaration (docs/hierarchy.md): DRAM, the SRAM
levels from DRAM inward (none, a GLB, an L2 and a GLB, ...), L1. A tensor lives in
DRAM or in one level; a block between there and L1 crosses the NoC between each pair
of neighbouring positions and passes every level in between through its staging
area (:meth:`Controller.route`). With the one-level hierarchy [glb]: DRAM -> NoC ->
GLB (staging) -> NoC -> L1, or GLB -> NoC -> L1 for GLB-resident data.

Per layer three processes run the tiles as a pipeline, while the resident tensors
(the prologue) arrive from DRAM beside them:

* loader:   takes a free L1 half, waits until the bytes it will write there are no
            longer needed (outputs of an earlier tile still draining: see the L1
            address map below) and until the resident data it reads has arrived
            from DRAM, then loads the tile's operands along their routes;
* compute:  takes a loaded tile, waits until the earlier outputs in its half have
            drained, runs it on the PE array (which reads its operands from L1),
            writes its outputs into the half and frees the half's input area;
* writer:   moves outputs from L1 to their level (or DRAM), then marks them drained.

So the loads of tile k+1 overlap the compute of tile k. Layers are separated by a
barrier (the next layer's loads start after the last store of this one), except with
layer pipelining (several cores, ``pe_array.multicore: pipeline``): two consecutive
layers run at once on disjoint core groups (:func:`pipeline_stages`), the second's
loads waiting for the first's stores they read, its stores and fills for the first's
accesses to the bytes they overwrite (:func:`layer_hazards`); a barrier after the pair.

L1 address map: each half (the whole L1 when single-buffered) holds a tile's
operands from its bottom (``base .. base + load_bytes``) and the tile's outputs at
its top (``top - store_bytes .. top``); the dataflow sizes tiles so that both fit a
half. The outputs stay there until the writer has read them out, so a later load
into the half waits for them only when it would reach into them, and the next
outputs in the half wait for them always. Nothing is written over bytes that are
still to be read.

Levels: a block passing a level goes through a staging area at its bottom,
``2 x dma_outstanding`` slots of one DMA block each; a block holds a slot from its
write to its read (a block waiting for a free slot is stall ``staging_full``).
Resident tensors live above it, where the dataflow placed them. Each prologue move
(DRAM -> its level) runs beside the tiles; a tile waits only for the part of a
resident tensor it reads (stall ``resident_data``), in DMA-block order. When this
layer's prologue has arrived, the next layer's resident weights are prefetched if
their ranges are clear of everything this layer keeps in their levels.

Private levels (several cores): a level given as one instance per core; a core's
blocks pass its own instances (:meth:`Controller.route`), a load several cores share
crosses the NoC once into their instances of the first private level and continues
per core from there (:meth:`Controller.fanout`), and a prologue fill of a private level
goes to the instances of the cores that read it (:meth:`Controller._readers`).

Every move is split into DMA blocks of ``dataflow.dma_chunk_bytes``; up to
``dataflow.dma_outstanding`` blocks of one move are in flight at once, each block
passing its hops in order, so DRAM, NoC and SRAM work as a pipeline.

Stalls: the loader waiting for an L1 half or for outputs to drain out of the bytes
it loads ("l1_full"), for a membrane store it depends on ("dependency") or for
resident data still arriving ("resident_data"); a block waiting for a staging slot
("staging_full"); the PE array waiting for operands ("waiting_for_operands") or for
the previous outputs in its half to drain ("waiting_for_output_buffer").
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from heapq import heappush

import simpy
from simpy.events import NORMAL, PENDING, URGENT

from tlmsim.engine.plan import LayerPlan, PlanSource
from tlmsim.engine.plan import Move  # cimported by the .pxd
from tlmsim.engine.plan import Tile  # cimported by the .pxd
from tlmsim.engine.component import Component  # cimported by the .pxd
from tlmsim.engine.sim import Environment  # cimported by the .pxd
from tlmsim.engine.sim import Event  # cimported by the .pxd
from tlmsim.engine.sim import Timeout  # cimported by the .pxd
from tlmsim.engine.recorder import Recorder  # cimported by the .pxd
from tlmsim.engine.stats import BUSY_PS, READ_BYTES, READS, WRITE_BYTES, WRITES, StatDecl, stat_positions
from tlmsim.engine.transaction import Cmd, DataClass, Transaction
from tlmsim.hw.dram import Dram
from tlmsim.hw.noc import Noc  # cimported by the .pxd
from tlmsim.hw.pe_array import PeArray  # cimported by the .pxd
from tlmsim.hw.sram import Sram  # cimported by the .pxd


@dataclass
class LayerRecord:
    """Timing of one layer as the controller saw it."""

    index: int
    name: str
    start_ps: int = 0
    end_ps: int = 0
    tiles: int = 0
    compute_cycles: int = 0
    neuron_cycles: int = 0
    dense_ops: int = 0
    acc_ops: int = 0
    neuron_updates: int = 0
    resident: dict = field(default_factory=dict)


# @cython.locals(ev=Event)
def _fresh(env) -> Event:
    """``Event(env)`` (the kernel's event, tlmsim/engine/sim.py): its fields set here, without a call
    of its ``__init__``."""
    ev = Event.__new__(Event)
    ev.env = env
    ev.callbacks = []
    ev._value = PENDING
    return ev


# @cython.locals(k=Environment)
def _succeed(ev: Event, value=None) -> None:
    """``ev.succeed(value)`` of a fresh event (``ev`` not triggered yet): SimPy's steps, the same
    queue entry ``(now, NORMAL, next id, ev)``, without its Python method call."""
    env = ev.env
    ev._ok = True
    ev._value = value
    if isinstance(env, Environment):  # the kernel's: its queue, clock and ids as C fields
        k = env
        heappush(k._queue, (k._now, NORMAL, next(k._eid), ev))
    else:
        heappush(env._queue, (env._now, NORMAL, next(env._eid), ev))


class _Half:
    """One L1 half: operands at ``[base, ...)``, outputs in flight at ``[out_lo, top)``
    until ``drained`` fires (``out_lo == top`` and ``drained`` fired: none)."""

    __slots__ = ("base", "top", "out_lo", "drained")

    def __init__(self, env: simpy.Environment, base: int, top: int) -> None:
        self.base, self.top, self.out_lo = base, top, top
        self.drained = env.event().succeed()


class _Fill:
    """A resident tensor arriving from DRAM into its level (one prologue move): which of
    its bytes are in. Blocks may land out of order; ``filled_to`` is the end of the
    arrived prefix."""

    __slots__ = ("_in", "_next", "_waiters", "chunk", "done", "env", "hi", "level", "lo", "nblocks")

    def __init__(self, env: simpy.Environment, move: Move, chunk: int, level: int) -> None:
        self.env = env
        self.level = level
        self.lo = move.level_address
        self.hi = move.level_address + move.nbytes
        self.chunk = chunk
        self.nblocks = -(-move.nbytes // chunk)
        self._in = [False] * self.nblocks
        self._next = 0  # blocks [0, _next) have all arrived
        self._waiters: list[tuple[int, simpy.Event]] = []
        self.done = env.event()
        if self.nblocks == 0:
            self.done.succeed()

    @property
    def filled_to(self) -> int:
        return min(self.hi, self.lo + self._next * self.chunk)

    def arrived(self, offset: int) -> None:
        """The block at ``offset`` (bytes into the tensor) is in its level."""
        self._in[offset // self.chunk] = True
        while self._next < self.nblocks and self._in[self._next]:
            self._next += 1
        upto = self.filled_to
        keep = []
        for need, ev in self._waiters:
            if need <= upto:
                ev.succeed()
            else:
                keep.append((need, ev))
        self._waiters = keep
        if self._next == self.nblocks:
            self.done.succeed()

    def until(self, need_hi: int) -> simpy.Event | None:
        """An event for when every byte below ``need_hi`` has arrived (None: already)."""
        if need_hi <= self.filled_to:
            return None
        ev = self.env.event()
        self._waiters.append((need_hi, ev))
        return ev


class _Queue:
    """An unbounded FIFO from one producer process to one consumer process (the
    pipeline's queues: free L1 halves, loaded tiles, outputs to store) with the event
    order of ``simpy.Store``, less the put events that wake nobody.

    A Store's put schedules an event whose processing hands the item to the oldest
    waiting get; a get finds an item at once (its event scheduled now) or waits. Here a
    put schedules that event only when the consumer is waiting. Otherwise the Store's
    put event would find no getter when processed: the consumer takes the item with
    an immediate get, and a later get of it can only be served by a put the producer
    makes after this put event has been processed (every producer here waits for a
    fresh event after a put), so dropping the event changes no order."""

    __slots__ = ("env", "items", "_getter")

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.items: deque = deque()
        self._getter: simpy.Event | None = None

    # @cython.locals(ev=Event)
    def put(self, item) -> None:
        self.items.append(item)
        if self._getter is not None:  # the consumer waits: served when this put's event is processed
            ev = _fresh(self.env)
            ev.callbacks.append(self._serve)
            _succeed(ev)

    def _serve(self, _ev: simpy.Event) -> None:
        if self._getter is not None and self.items:
            g, self._getter = self._getter, None
            _succeed(g, self.items.popleft())

    # @cython.locals(ev=Event)
    def get(self) -> simpy.Event:
        ev = _fresh(self.env)
        if self.items and self._getter is None:
            _succeed(ev, self.items.popleft())
        else:
            self._getter = ev
        return ev


class _AllDone(Event):
    """``simpy.AllOf(env, events)`` with the same scheduling (it is triggered when the
    last of ``events`` is processed, or at once when all already were; it fails with
    the first failure) and no ``ConditionValue``: its value is None."""

    def __init__(self, env: simpy.Environment, events) -> None:
        self.env = env
        self.callbacks = []
        self._value = PENDING
        self._left = len(events)
        if not events:
            self.succeed()
            return
        for ev in events:
            if ev.callbacks is None:
                self._check(ev)
            else:
                ev.callbacks.append(self._check)

    def _check(self, ev: simpy.Event) -> None:
        if self._value is not PENDING:
            return
        self._left -= 1
        if not ev._ok:
            ev._defused = True
            self.fail(ev._value)
        elif self._left == 0:
            self.succeed()


class _Go:
    """What starts a lane: an event's ``_ok`` and ``_value`` (see :class:`_Lanes`)."""

    _ok = True
    _value = None


class _Lane:
    """One DMA lane's generator, resumed by the events it yields (what
    ``simpy.Process._resume`` does, without a Process: no Initialize or end event of
    its own; :class:`_Lanes` schedules what is needed)."""

    __slots__ = ("group", "gen")

    def __init__(self, group: _Lanes, gen) -> None:
        self.group, self.gen = group, gen

    # @cython.locals(e=Event)
    def resume(self, event) -> None:
        gen = self.gen
        while True:
            try:
                if isinstance(event, Event):  # the kernel's event: its fields read as C fields
                    e = event
                    ok, value = e._ok, e._value
                else:
                    ok, value = event._ok, event._value
                if ok:
                    event = gen.send(value)
                else:
                    event._defused = True
                    exc = type(value)(*value.args)
                    exc.__cause__ = value
                    event = gen.throw(exc)
            except StopIteration:
                self.group.ended()
                return
            callbacks = event.callbacks
            if callbacks is not None:
                callbacks.append(self.resume)
                return


class _Lanes:
    """Lanes 1.. of one DMA transfer (lane 0 runs inline in the transfer, then waits
    for them with :meth:`join`), with the event order of one ``env.process`` per lane
    and an ``AllOf`` of them, and fewer events:

    * the processes' Initialize events were consecutive urgent events (nothing is
      scheduled between them, and a lane's start schedules no urgent event), so one
      urgent event starts every lane, in order;
    * a process's end event wakes the AllOf when processed; before the AllOf exists
      (lane 0 still running) it wakes nothing. With ``lazy`` (a transfer whose lane 0
      ends with a timeout it made at an earlier time: every block crosses the NoC,
      which takes time, and the transfer does not end in DRAM), a lane's end schedules
      an event only when it is the last lane to end after :meth:`join`; a lane that
      ended before, at the time :meth:`join` is called, ended after lane 0's timeout
      was scheduled, so its end event would still be pending then: the id it would
      have had is taken when it ends, and the latest such event is put into the
      queue at its place by :meth:`join`. Without ``lazy`` every lane's end event is
      scheduled, as a process's would be."""

    __slots__ = ("env", "lazy", "running", "unprocessed", "done", "_end_ps", "_end_eid", "ctrl")

    # @cython.locals(start=Event)
    def __init__(self, ctrl: Controller, gens: list, lazy: bool) -> None:
        env = self.env = ctrl.env
        self.ctrl = ctrl
        self.lazy = lazy
        self.running = self.unprocessed = len(gens)
        self.done: simpy.Event | None = None  # the AllOf, once lane 0 has ended
        self._end_ps, self._end_eid = -1, -1  # lazy: when the latest lane ended, its end event's id
        start = _fresh(env)
        start._ok, start._value = True, None
        start.callbacks.append(lambda _ev: [_Lane(self, g).resume(_Go) for g in gens])
        env.schedule(start, URGENT)

    def ended(self) -> None:
        """A lane's generator returned."""
        self.running -= 1
        env = self.env
        if not self.lazy:
            self._end_event(self._processed)
        elif self.done is None:
            self._end_ps, self._end_eid = env._now, next(env._eid)
            self.ctrl.eids_unscheduled += 1
        elif self.running == 0:
            self._end_event(self._fire)

    # @cython.locals(ev=Event)
    def _end_event(self, callback) -> None:
        ev = _fresh(self.env)
        ev._ok, ev._value = True, None
        ev.callbacks.append(callback)
        self.env.schedule(ev)

    def _processed(self, _ev) -> None:
        self.unprocessed -= 1
        if self.unprocessed == 0 and self.done is not None:
            _succeed(self.done)

    def _fire(self, _ev) -> None:
        _succeed(self.done)

    # @cython.locals(done=Event, ev=Event)
    def join(self) -> simpy.Event:
        """The event of every lane having ended (lane 0 has: called as it returns)."""
        env = self.env
        done = self.done = _fresh(env)
        if self.lazy:
            if self.running == 0:
                if self._end_ps == env._now:  # the last end event is still pending: it triggers the AllOf
                    ev = _fresh(env)
                    ev._ok, ev._value = True, None
                    ev.callbacks.append(self._fire)
                    heappush(env._queue, (env._now, NORMAL, self._end_eid, ev))
                    self.ctrl.eids_unscheduled -= 1
                else:
                    _succeed(done)
        elif self.unprocessed == 0:
            _succeed(done)
        return done


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(r for r in ranges if r[1] > r[0]):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


# @cython.locals(t=Tile, m=Move)
def level_ranges(plan: LayerPlan, level: int, nlevels: int) -> list[tuple[int, int]]:
    """The byte ranges ``plan`` keeps resident in SRAM level ``level`` (0 = outermost;
    ``nlevels`` levels; merged): its prologue, epilogue and every resident load or
    store of its tiles there."""
    rs = [(m.level_address, m.level_address + m.nbytes) for m in (*plan.prologue, *plan.epilogue)
          if m.level % nlevels == level]
    for t in plan.tiles:
        for m in (*t.loads, *t.stores):
            if not m.in_dram and m.level % nlevels == level:
                rs.append((m.level_address, m.level_address + (m.level_span or m.nbytes)))
    return _merge(rs)


# @cython.locals(t=Tile, m=Move, lo=cython.longlong, hi=cython.longlong, a=cython.longlong, b=cython.longlong, found=cython.bint)
def level_bounds(plan: LayerPlan, level: int, nlevels: int) -> tuple[int, int] | None:
    """The lowest and the highest byte of :func:`level_ranges` ``(plan, level, nlevels)``: the
    start of its first range and the end of its last (None: it has none), found without
    gathering, sorting and merging the ranges (:func:`tlmsim.soc.build.check_plan` needs only
    these unless a range lies out of bounds)."""
    ends = [(m.level_address, m.level_address + m.nbytes) for m in (*plan.prologue, *plan.epilogue)
            if m.level % nlevels == level and m.nbytes > 0]
    found = len(ends) > 0
    lo = min([e[0] for e in ends]) if found else 0
    hi = max([e[1] for e in ends]) if found else 0
    for t in plan.tiles:
        for moves in (t.loads, t.stores):
            for m in moves:
                if not m.in_dram and m.level % nlevels == level:
                    a = m.level_address
                    b = a + (m.level_span or m.nbytes)
                    if b > a:
                        if not found or a < lo:
                            lo = a
                        if not found or b > hi:
                            hi = b
                        found = True
    return (lo, hi) if found else None


# @cython.locals(t=Tile, m=Move, n=cython.longlong, limit=cython.longlong)
def first_tile_over(plan: LayerPlan, limit: int) -> Tile | None:
    """The first tile of ``plan`` whose operands and outputs (``load_bytes + store_bytes``) exceed
    ``limit`` bytes, else None."""
    for t in plan.tiles:
        n = 0
        for m in t.loads:
            n += m.nbytes
        for m in t.stores:
            n += m.nbytes
        if n > limit:
            return t
    return None


def _wrapped(base: int, span: int, offset: int, n: int) -> list[tuple[int, int]]:
    """``(address, bytes)`` pieces of ``n`` bytes from ``offset`` of a stream that
    re-reads ``span`` bytes at ``base`` cyclically."""
    pieces, pos = [], offset % span
    while n > 0:
        k = min(n, span - pos)
        pieces.append((base + pos, k))
        n -= k
        pos = 0
    return pieces


#: the enum members the per-tile and per-block paths use, looked up once (an ``Enum`` class attribute
#: costs a Python-level ``__getattr__`` hook on Python 3.11: about 0.2 us each)
_CMD_READ, _CMD_WRITE, _CMD_COMPUTE, _DC_NONE = Cmd.READ, Cmd.WRITE, Cmd.COMPUTE, DataClass.NONE

#: kinds of a route's steps (Controller.route)
_HOPS, _STAGE, _READ = 0, 1, 2


#: a block plan's ``kind`` of a hop's component (:func:`_book_kind`): an SRAM, the NoC, or neither
_BOOK_OTHER, _BOOK_SRAM, _BOOK_NOC = 0, 1, 2


def _book_kind(comp) -> int:
    """A block plan's ``kind`` for ``comp``: :data:`_BOOK_SRAM` or :data:`_BOOK_NOC` when it books with
    the SRAM's or the NoC's own ``book`` (not a stand-in that set it to None or a subclass's own), else
    :data:`_BOOK_OTHER` (the block is then booked hop by hop, through whatever ``book`` it has)."""
    if getattr(comp, "book", None) is None:
        return _BOOK_OTHER
    # (the classes' own attribute, read from their dicts: in the compiled build ``Sram.book`` would be made
    # into a new callable of the C method each time)
    if isinstance(comp, Sram):
        return _BOOK_SRAM if type(comp).book is vars(Sram)["book"] else _BOOK_OTHER
    if isinstance(comp, Noc):
        return _BOOK_NOC if type(comp).book is vars(Noc)["book"] else _BOOK_OTHER
    return _BOOK_OTHER


# @cython.locals(sram=Sram, noc=Noc)
def _book_end(comp, kind: int, cmd: Cmd, a: int, n: int, s, d, t: int, layer: int) -> int:
    """``comp.book(cmd, a, n, s, d, t, layer)``'s end, ``comp`` an SRAM (``kind`` :data:`_BOOK_SRAM`) or
    the NoC, booking with its class's own ``book`` (:func:`_book_kind`): called through the class, which in
    the compiled build is a C call without the check for a Python override (a lookup by name whenever the
    component differs from the last one's; as Python, the same call)."""
    if kind == _BOOK_SRAM:
        sram = comp
        return Sram.book(sram, cmd, a, n, s, d, t, layer)[0]
    noc = comp
    return Noc.book(noc, cmd, a, n, s, d, t, layer)[0]


def _overlaps(a: list[tuple[int, int]], lo: int, hi: int) -> bool:
    return any(x < hi and lo < y for x, y in a)


def _mark(marks: dict, env: simpy.Environment, key: tuple[int, str]) -> simpy.Event:
    """The event of ``key`` (tile index, "loaded" or "stored") in ``marks``, made on first use.
    A module function, not a function nested in :meth:`Controller._run_stage`: in the compiled
    build a generator's locals live in one closure record that a nested function refers to, so
    the pair (record, function) would keep the stage's plans alive after the stage, until the
    cyclic collector runs (tests/dataflow/test_lazy_plans.py counts the live tiles)."""
    ev = marks.get(key)
    if ev is None:
        ev = marks[key] = env.event()
    return ev


def _common_bytes(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    """Bytes in both of two merged range lists."""
    return sum(max(0, min(y, q) - max(x, p)) for x, y in a for p, q in b)


def lockstep_schedule(plan: LayerPlan, n: int, lookahead: int = 256) -> list[list[tuple[int, object]]]:
    """:meth:`Controller.schedule` of ``plan`` on ``n`` cores (its docstring has the rule),
    looking at most ``lookahead`` units ahead."""
    units: list[list] = []
    cont = False
    for t in plan.tiles:
        if cont:
            units[-1].append(t)
        else:
            units.append([t])
        cont = t.keeps_state
    producer = {mv.signals: i for i, u in enumerate(units) for t in u for mv in t.stores
                if mv.signals is not None}
    deps = [{producer[mv.after] for t in u for mv in t.loads if mv.after in producer} for u in units]
    groups: list[list[list]] = []
    placed = [False] * len(units)
    first = 0  # every unit before it is placed
    while first < len(units):
        grp: list[int] = []
        for i in range(first, min(len(units), first + lookahead)):
            # a unit joins when every unit it waits for is in an earlier group
            if not placed[i] and all(placed[d] and d not in grp for d in deps[i]):
                grp.append(i)
                if len(grp) == n:
                    break
        for i in grp:
            placed[i] = True
        groups.append([units[i] for i in grp])
        while first < len(units) and placed[first]:
            first += 1
    steps: list[list[tuple[int, object]]] = []
    for grp in groups:
        for r in range(max(len(u) for u in grp)):
            steps.append([(c, u[r]) for c, u in enumerate(grp) if r < len(u)])
    return steps


#: one hop of a DMA block with idle resources, in PE-array cycles: ``(fixed, unit, per)``, a block of
#: n bytes takes ``fixed + ceil(n / unit) x per`` (:func:`hop_cycles`)
Hop = tuple[float, int, float]


def hop_cycles(hops, nbytes: int) -> float:
    """Cycles a block of ``nbytes`` takes through ``hops`` (:data:`Hop`) one after the other
    with every resource idle (the hops of a block are booked back to back)."""
    return sum(f + -(-nbytes // u) * k for f, u, k in hops)


@dataclass(frozen=True)
class Latency:
    """The zero-load latency of a DMA block along each route, for the pairing estimate
    (:func:`layer_timeline`; :meth:`Controller.latency` derives it from the components'
    timing parameters). ``loads[p]``: the hops of a block from position ``p`` (0 DRAM, 1..n
    the SRAM levels) into L1, the farthest core's; ``stores[p]``: from L1 out to position
    ``p``; ``l1_read`` / ``l1_write``: the array's operands streaming out of L1 and its
    outputs written into it; ``chunk``: ``dataflow.dma_chunk_bytes`` (a move's first block);
    ``halves``: L1 halves a core loads into (2 double-buffered: a step's loads wait for the
    step two before it to have computed)."""

    chunk: int
    loads: tuple[tuple[Hop, ...], ...]
    stores: tuple[tuple[Hop, ...], ...]
    l1_read: Hop = (0.0, 1, 0.0)
    l1_write: Hop = (0.0, 1, 0.0)
    halves: int = 2


@dataclass(frozen=True)
class Rates:
    """Bytes per PE-array cycle that the pairing estimate (:func:`layer_timeline`) allows
    each shared resource; 0 = not a limit. ``dram``: DRAM's peak bandwidth; ``levels``:
    per SRAM level from DRAM inward, a shared level's banks x port width (each bank serves
    one line a cycle; 0 for a private level); ``link``: one NoC link (a core's L1 traffic
    in and out). ``latency``: the routes' zero-load latency (:class:`Latency`); None: none
    (a step's loads are in when it starts and its stores out when it ends)."""

    dram: float = 0.0
    levels: tuple[float, ...] = ()
    link: float = 0.0
    latency: Latency | None = None


def _move_bytes(mv: Move, nlevels: int) -> tuple[int, list[int]]:
    """A load or store's ``(DRAM bytes, [bytes per SRAM level])``: from (to) DRAM it passes
    every level through staging (written and read: twice its bytes); from (to) level L it
    is read (written) there once and passes the levels inside L twice."""
    per = [0] * nlevels
    if mv.in_dram:
        return mv.nbytes, [2 * mv.nbytes] * nlevels
    lv = mv.level % nlevels
    per[lv] = mv.nbytes
    for x in range(lv + 1, nlevels):
        per[x] = 2 * mv.nbytes
    return 0, per


def _step_cycles(step: list, rates: Rates) -> float:
    """One lockstep step's estimated cycles: the longest of its tiles' compute, its busiest
    core's L1 traffic over a link, and its DRAM and shared-level bytes (loads several of
    its tiles share counted once: :meth:`Controller._share_key`) over their rates."""
    n = len(rates.levels)
    dram, lv = 0, [0] * n
    seen: set = set()
    longest = 0.0
    for _c, t in step:
        core = 0
        for mv in t.loads:
            core += mv.nbytes
            k = Controller._share_key(mv)
            if k in seen:
                continue
            seen.add(k)
            d, per = _move_bytes(mv, n)
            dram += d
            lv = [x + y for x, y in zip(lv, per)]
        for mv in t.stores:
            core += mv.nbytes
            d, per = _move_bytes(mv, n)
            dram += d
            lv = [x + y for x, y in zip(lv, per)]
        longest = max(longest, t.compute_cycles, core / rates.link if rates.link else 0.0)
    if rates.dram:
        longest = max(longest, dram / rates.dram)
    for b, r in zip(lv, rates.levels):
        if r:
            longest = max(longest, b / r)
    return longest


def _position(mv: Move, nlevels: int) -> int:
    """Where a tile's move starts (a load) or ends (a store): 0 DRAM, else 1 + its level."""
    return 0 if mv.in_dram else 1 + mv.level % nlevels


def _moves_cycles(moves: list, rates: Rates, routes) -> float:
    """Zero-load cycles of one step's loads or stores, all started at once: the longest
    first block's latency along its route (``routes[position]``), then the bytes beyond the
    first blocks at the rates (a core's over a link; the DRAM's and each shared level's,
    :func:`_move_bytes`). ``moves``: ``(core, move)``, loads several cores share once."""
    lat = rates.latency
    n = len(rates.levels)
    first = 0.0
    dram, lv = 0, [0] * n
    core: dict[int, int] = {}
    for c, mv in moves:
        b = min(lat.chunk, mv.nbytes)
        first = max(first, hop_cycles(routes[_position(mv, n)], b))
        rest = mv.nbytes - b
        core[c] = core.get(c, 0) + rest
        d, per = _move_bytes(mv.replace(nbytes=rest), n)
        dram += d
        lv = [x + y for x, y in zip(lv, per)]
    out = max((b / rates.link for b in core.values()), default=0.0) if rates.link else 0.0
    return first + max(out, _bound(dram, lv, rates))


def _step_latency(step: list, rates: Rates) -> tuple[float, float, float]:
    """A step's ``(loads, array, stores)`` cycles with idle resources: its loads
    (:func:`_moves_cycles`, identical loads of several cores once), its longest tile on the
    array (the compute, at least the operands' L1 read, then the outputs' L1 write) and its
    stores."""
    lat = rates.latency
    loads, stores, seen = [], [], set()
    array = 0.0
    for c, t in step:
        for mv in t.loads:
            k = Controller._share_key(mv)
            if k not in seen:
                seen.add(k)
                loads.append((c, mv))
        stores.extend((c, mv) for mv in t.stores)
        a = max(float(t.compute_cycles), hop_cycles((lat.l1_read,), t.load_bytes) if t.load_bytes else 0.0)
        if t.stores:
            a += hop_cycles((lat.l1_write,), t.store_bytes)
        array = max(array, a)
    return (_moves_cycles(loads, rates, lat.loads) if loads else 0.0, array,
            _moves_cycles(stores, rates, lat.stores) if stores else 0.0)


def _layer_bytes(plan: LayerPlan, nlevels: int) -> tuple[int, list[int]]:
    """A layer's DRAM bytes and bytes per SRAM level (:func:`_move_bytes`) up to its last
    tile: every tile's loads and stores and its prologue (DRAM -> its level: staged
    through the levels outside it, written there), identical loads counted as often as
    they occur. The epilogue is drained after the last tile (:func:`alone_cycles`)."""
    dram, per = 0, [0] * nlevels
    for t in plan.tiles:
        for mv in (*t.loads, *t.stores):
            d, p = _move_bytes(mv, nlevels)
            dram += d
            per = [x + y for x, y in zip(per, p)]
    for mv in plan.prologue:
        lv = mv.level % nlevels
        dram += mv.nbytes
        for x in range(lv):
            per[x] += 2 * mv.nbytes
        per[lv] += mv.nbytes
    return dram, per


def _bound(dram: int, per: list[int], rates: Rates) -> float:
    """Cycles that ``dram`` DRAM bytes and ``per`` bytes per level need at ``rates``."""
    out = dram / rates.dram if rates.dram else 0.0
    for b, r in zip(per, rates.levels):
        if r:
            out = max(out, b / r)
    return out


def layer_timeline(plan: LayerPlan, ncores: int, rates: Rates, ready=None, after=None):
    """A layer's estimated timeline on ``ncores`` cores: its lockstep steps
    (:func:`lockstep_schedule`) one after the other, each :func:`_step_cycles` long (the
    next step's loads overlap this one's compute, so a step lasts its longest part).
    Returns ``(end, loaded, stored)``: the cycle the last step ends and, per tile index, the
    cycle its step starts (its loads are in) and ends (its stores are out).

    Running beside the layer before it: a step starts no earlier than ``ready(tile)`` for
    each of its tiles (the stores it reads), and ends no earlier than ``after(tile)`` (the
    reads or writes of the bytes it overwrites), both in cycles.

    With a latency model (``rates.latency``, :class:`Latency`) the three processes of the
    controller are followed too. The loader: a step's loads start once the previous step's
    are in (one step at a time), an L1 half is free (the step ``halves`` before it has
    computed), and the stores they depend on are out (a membrane of the previous timestep,
    ``after``; ``ready``); they take their zero-load time (:func:`_step_latency`). The
    array: a step ends no earlier than its loads are in plus its longest tile's array time.
    The writer: its stores start when it ends and the previous step's are out, and take
    their zero-load time. ``loaded`` is then when a step's loads are in, ``stored`` when its
    stores are out, and the layer ends when its last store is out."""
    lat = rates.latency
    t = 0.0
    loaded: dict[int, float] = {}
    stored: dict[int, float] = {}
    producer = {mv.signals: tile.index for tile in plan.tiles for mv in tile.stores
                if mv.signals is not None} if lat is not None else {}
    loads_in = out = 0.0  # the previous step's loads in, stores out
    ends: list[float] = []
    for step in lockstep_schedule(plan, ncores, Controller.LOOKAHEAD):
        if ready is not None:
            t = max([t] + [ready(tile) for _c, tile in step])
        if lat is None:
            end = t + _step_cycles(step, rates)
            if after is not None:
                end = max([end] + [after(tile) for _c, tile in step])
            for _c, tile in step:
                loaded[tile.index] = t
                stored[tile.index] = end
            t = end
            continue
        dep = max((stored[producer[mv.after]] for _c, tile in step for mv in tile.loads if mv.after in producer),
                  default=0.0)
        t = max(t, dep)
        load, array, store = _step_latency(step, rates)
        half = ends[-lat.halves] if len(ends) >= lat.halves else 0.0
        loads_in = max(loads_in, half, dep, *((ready(tile) for _c, tile in step) if ready is not None else ())) + load
        end = max(t + _step_cycles(step, rates), loads_in + array)
        if after is not None:
            end = max([end] + [after(tile) for _c, tile in step])
        out = max(end, out) + store
        ends.append(end)
        for _c, tile in step:
            loaded[tile.index] = loads_in
            stored[tile.index] = out
        t = end
    return max(t, out), loaded, stored


def alone_cycles(plan: LayerPlan, ncores: int, rates: Rates) -> float:
    """A layer's estimated cycles alone on ``ncores`` cores: its timeline
    (:func:`layer_timeline`), at least its DRAM and shared-level bytes up to the last tile
    over their rates (:func:`_layer_bytes`: the prologue included), plus its epilogue's
    DRAM bytes over DRAM's rate (drained after the last tile)."""
    n = len(rates.levels)
    end, _, _ = layer_timeline(plan, ncores, rates)
    dram, per = _layer_bytes(plan, n)
    drain = sum(mv.nbytes for mv in plan.epilogue) / rates.dram if rates.dram else 0.0
    return max(end, _bound(dram, per, rates)) + drain


def pair_cycles(p: LayerPlan, q: LayerPlan, k: int, ncores: int, rates: Rates, hazards=None) -> float:
    """Two consecutive layers' estimated cycles at once, ``p`` on ``k`` cores and ``q`` on
    ``ncores - k``: ``p``'s timeline alone (:func:`layer_timeline`); ``q``'s with each
    step starting once the ``p`` tiles whose stores it reads have stored them and ending
    no earlier than the ``p`` tiles that read or write the bytes it stores have loaded or
    stored them (:func:`layer_hazards`; its first step after those its prologue fills
    overwrite); the pair lasts the later of the two, at least both layers' DRAM and
    shared-level bytes over the shared rates (:func:`_bound`). ``p`` has no epilogue (a
    pair's first layer never has one)."""
    n = len(rates.levels)
    raw, war, fills = hazards if hazards is not None else layer_hazards(p, q, n)
    pend, loaded, stored = layer_timeline(p, k, rates)
    when = lambda key: loaded[key[0]] if key[1] == "loaded" else stored[key[0]]  # noqa: E731
    start = max((when(x) for ks in fills.values() for x in ks), default=0.0)
    ready = lambda tile: max([start] + [stored[x] for x in raw.get(tile.index, ())])  # noqa: E731
    after = lambda tile: max((when(x) for x in war.get(tile.index, ())), default=0.0)  # noqa: E731
    qend, _, _ = layer_timeline(q, ncores - k, rates, ready, after)
    dp, lp = _layer_bytes(p, n)
    dq, lq = _layer_bytes(q, n)
    both = _bound(dp + dq, [x + y for x, y in zip(lp, lq)], rates)
    drain = sum(mv.nbytes for mv in q.epilogue) / rates.dram if rates.dram else 0.0
    return max(pend, qend, both) + drain


def pipeline_stages(plans, ncores: int, capacities: list[int], staging: int,
                    level_names: list[str] | None = None, rates: Rates | None = None, by_gain: bool = True):
    """The stages of ``pe_array.multicore: pipeline`` (docs/hierarchy.md, "Layer pipelining"):
    a list of ``[(plan, cores), ...]`` (one or two layers run at once) and, per layer index,
    a note for the report (whom it ran with and on which cores, or why it ran alone).
    ``plans``: a list, or anything with ``len`` and ``plans[i]`` (:func:`next_stage` looks at
    two plans at a time).

    Layers are paired greedily in order: a layer and the next one form a pair unless one of
    them has no tile, the first drains a tensor to DRAM after its last tile (an epilogue),
    the pair's tensors do not fit a level together (for every SRAM level, the staging
    area plus both layers' resident bytes, less the bytes both keep at the same addresses
    (the first's outputs the second reads), must fit one instance's ``capacities``), or
    (``by_gain``) the pair is not expected to gain: its estimate (:func:`pair_cycles`, the
    best split of the cores) is not at least one cycle below the two layers' estimates one
    after the other on every core (:func:`alone_cycles`). A layer not paired runs alone on every core. A pair's
    N cores: the first layer gets the k of 1 .. N - 1 (the smallest of equals) that
    minimises the pair's estimate, cores 0 .. k - 1; the second the rest. ``rates``:
    the resources' bytes per cycle (default: none a limit, compute and dependencies
    only); ``by_gain`` False pairs whatever fits (session 8's rule, for studies)."""
    stages: list[list[tuple[LayerPlan, tuple[int, ...]]]] = []
    notes: dict[int, str] = {}
    i = 0
    while i < len(plans):
        stage, note = next_stage(plans[i], plans[i + 1] if i + 1 < len(plans) else None, ncores, capacities,
                                 staging, level_names, rates, by_gain)
        stages.append(stage)
        notes.update(note)
        i += len(stage)
    return stages, notes


def next_stage(p: LayerPlan, q: LayerPlan | None, ncores: int, capacities: list[int], staging: int,
               level_names: list[str] | None, rates: Rates | None, by_gain: bool):
    """The stage that starts with layer ``p`` (``q``: the layer after it, None for the last):
    ``([(p, cores)], notes)`` alone or ``([(p, cores), (q, cores)], notes)`` paired, by the
    rules of :func:`pipeline_stages`."""
    n = len(capacities)
    names = level_names or [f"level {i}" for i in range(n)]
    rates = rates or Rates(levels=(0.0,) * n)
    allc = tuple(range(ncores))
    span = lambda c: f"core {c[0]}" if len(c) == 1 else f"cores {c[0]}-{c[-1]}"  # noqa: E731
    why = None
    if q is None:
        why = "the last layer"
    elif not p.tiles or not q.tiles:
        why = f"{(p if not p.tiles else q).layer.name!r} has no tile"
    elif p.epilogue:
        why = f"{p.layer.name!r} drains a tensor to DRAM after its last tile"
    else:
        for lv in range(n):
            rp, rq = level_ranges(p, lv, n), level_ranges(q, lv, n)
            bp = sum(b for k, b in p.resident_bytes.items() if k % n == lv)
            bq = sum(b for k, b in q.resident_bytes.items() if k % n == lv)
            need = staging + bp + max(0, bq - _common_bytes(rp, rq))
            if need > capacities[lv]:
                why = (f"with {q.layer.name!r} the level {names[lv]!r} would hold {need} bytes (staging "
                       f"{staging} + both layers' resident tensors), more than its {capacities[lv]}")
                break
    if why is None:
        hz = layer_hazards(p, q, n)
        est = {k: pair_cycles(p, q, k, ncores, rates, hz) for k in range(1, ncores)}
        a = min(est, key=lambda k: (est[k], k))
        split = alone_cycles(p, ncores, rates) + alone_cycles(q, ncores, rates)
        figures = f"est. {round(est[a]):,} cycles together vs {round(split):,} one after the other"
        if by_gain and split - est[a] < 1:  # at least a cycle: equal sums may differ in their last bits
            why = f"no expected gain with {q.layer.name!r} ({figures})"
    if why is not None:
        return [(p, allc)], {p.layer.index: f"alone on cores 0-{ncores - 1}: {why}"}
    ca, cb = tuple(range(a)), tuple(range(a, ncores))
    return [(p, ca), (q, cb)], {p.layer.index: f"with {q.layer.name!r} on {span(ca)} ({figures})",
                                q.layer.index: f"with {p.layer.name!r} on {span(cb)} ({figures})"}


def _space(mv: Move, nlevels: int) -> tuple[tuple, int, int]:
    """Where a move's bytes are (DRAM, or a level) and their range."""
    if mv.in_dram:
        return ("dram",), mv.dram_address, mv.dram_address + mv.nbytes
    return ("level", mv.level % nlevels), mv.level_address, mv.level_address + (mv.level_span or mv.nbytes)


def layer_hazards(p: LayerPlan, q: LayerPlan, nlevels: int):
    """What layer ``q`` must wait for when it runs beside the layer ``p`` before it (their
    accesses in plan order: every access of ``p`` comes first). Returns
    ``(raw, war, fills)``: ``raw[q tile index]`` the ``p`` tiles whose stores overlap the
    tile's loads (read after write), ``war[q tile index]`` the ``(p tile, kind)`` whose loads
    (kind ``"loaded"``) or stores (``"stored"``) overlap the tile's stores (write after read
    or write), ``fills[q prologue index]`` the same for a prologue move; empty sets left out."""
    import numpy as np

    acc: dict[tuple, list[tuple[int, int, int, int]]] = {}  # space -> (lo, hi, tile, 0 load / 1 store)
    for t in p.tiles:
        for kind, moves in ((0, t.loads), (1, t.stores)):
            for mv in moves:
                sp, lo, hi = _space(mv, nlevels)
                acc.setdefault(sp, []).append((lo, hi, t.index, kind))
    arr = {sp: np.array(v, dtype=np.int64) for sp, v in acc.items()}

    def hit(mv: Move, kinds: tuple[int, ...]) -> set:
        sp, lo, hi = _space(mv, nlevels)
        a = arr.get(sp)
        if a is None or hi <= lo:
            return set()
        m = (a[:, 0] < hi) & (a[:, 1] > lo) & np.isin(a[:, 3], kinds)
        return {(int(x), ("loaded", "stored")[int(k)]) for x, k in a[m][:, 2:4]}

    raw: dict[int, set] = {}
    war: dict[int, set] = {}
    fills: dict[int, set] = {}
    for t in q.tiles:
        r = set()
        for mv in t.loads:
            r |= {x for x, _ in hit(mv, (1,))}
        if r:
            raw[t.index] = r
        w = set()
        for mv in t.stores:
            w |= hit(mv, (0, 1))
        if w:
            war[t.index] = w
    for i, mv in enumerate(q.prologue):
        sp = ("level", mv.level % nlevels)
        a = arr.get(sp)
        if a is None:
            continue
        lo, hi = mv.level_address, mv.level_address + mv.nbytes
        m = (a[:, 0] < hi) & (a[:, 1] > lo)
        w = {(int(x), ("loaded", "stored")[int(k)]) for x, k in a[m][:, 2:4]}
        if w:
            fills[i] = w
    return raw, war, fills


class Controller(Component):
    """Issues every transaction of the run; see the module docstring."""

    #: the instance attributes as slots (see tlmsim.engine.component.Component)
    __slots__ = (
        "_block_plans", "_buf_of", "_bufs", "_cores_of", "_ends", "_fanouts", "_fills", "_first_private",
        "_hazards", "_pairing", "_prefetched", "_routes", "_schedules", "_signals", "_slot_free", "_started",
        "_tile_events", "chunk", "done", "dram", "eids_unscheduled", "half_bytes", "halves", "l1", "l1s",
        "layers", "level_insts", "levels", "ncores", "noc", "outstanding", "pe", "pes", "pipeline_notes",
        "plans", "process", "stages", "staging_bytes", "waiting",
    )

    KIND = "controller"
    STALLS_AT_END = True  # the pipeline processes report each wait when it ends
    STATS = (
        StatDecl("dma_blocks", "count", "DMA blocks moved"),
        StatDecl("layers", "count", "layers run"),
        StatDecl("prefetched_bytes", "bytes", "resident weights loaded into their SRAM level during the previous layer"),
    )

    def __init__(
        self,
        *,
        name: str,
        env: simpy.Environment,
        recorder: Recorder,
        dram: Component,
        noc,
        levels: list[Component | list[Component]],
        l1: Component | list[Component],
        pe: PeArray | list[PeArray],
        plans: PlanSource | list[LayerPlan],
        chunk_bytes: int,
        outstanding: int,
        double_buffered: bool,
        multicore: str = "split",
        pairing: str = "gain",
    ) -> None:
        super().__init__(name=name, env=env, recorder=recorder)
        #: per core (pe_array.cores), its L1 and PE array; core 0's are also ``l1`` and ``pe``
        self.l1s = list(l1) if isinstance(l1, (list, tuple)) else [l1]
        self.pes = list(pe) if isinstance(pe, (list, tuple)) else [pe]
        if len(self.l1s) != len(self.pes):
            raise ValueError(f"{len(self.l1s)} L1s for {len(self.pes)} PE arrays: one of each per core")
        self.ncores = len(self.l1s)
        self.dram, self.noc, self.l1, self.pe = dram, noc, self.l1s[0], self.pes[0]
        #: per SRAM level between DRAM and L1, outermost first, its instances (their names are NoC endpoints):
        #: one for a shared level, one per core for a private one (a list in ``levels``)
        self.level_insts = [list(x) if isinstance(x, (list, tuple)) else [x] for x in levels]
        #: the SRAM levels (a private level: core 0's instance)
        self.levels = [x[0] for x in self.level_insts]
        #: the first position private to a core (0 DRAM, 1..n the levels, n + 1 L1): the first private level, else L1
        self._first_private = next((lv + 1 for lv, x in enumerate(self.level_insts) if len(x) > 1),
                                   len(self.levels) + 1)
        for lv, x in enumerate(self.level_insts):
            if len(x) not in (1, self.ncores) or (len(x) == 1 and lv + 1 > self._first_private):
                raise ValueError(f"level {lv}: {len(x)} instances for {self.ncores} cores (one, or one per core "
                                 "for a private level, every level inside a private one private too)")
        #: the buffers with staging slots: the levels (index = level), then the other cores' private instances
        self._bufs = list(self.levels)
        self._buf_of: dict[tuple[int, int], int] = {}
        for lv, x in enumerate(self.level_insts):
            for c in range(1, len(x)):
                self._buf_of[(lv, c)] = len(self._bufs)
                self._bufs.append(x[c])
        #: the layer plans in order (:class:`~tlmsim.engine.plan.PlanSource`; a list given is kept
        #: whole, :class:`tlmsim.dataflow.base.LazyPlans` makes each when asked): the controller asks
        #: for a layer's plan when it reaches the layer before it and releases it once the layer ran
        self.plans = PlanSource.of(plans)
        self.chunk = chunk_bytes
        self.outstanding = outstanding
        self.halves = 2 if double_buffered else 1
        self.half_bytes = self.l1.half_capacity_bytes if double_buffered else self.l1.capacity_bytes
        #: bytes reserved at the bottom of every level for blocks passing through it: one chunk per lane, both ways
        self.staging_bytes = 2 * outstanding * chunk_bytes
        #: per level, cycle-free times (ps) of its staging slots (one DMA block each)
        self._slot_free = [[0] * (self.staging_bytes // chunk_bytes) for _ in self._bufs]
        #: NoC endpoints from DRAM inward: position 0 is DRAM, 1..n the levels, n + 1 L1 (core 0's)
        self._ends = ("dram", *(lv.name for lv in self.levels), self.l1.name)
        #: layer index -> its schedule on the cores (several cores: :meth:`schedule`, computed once)
        self._schedules: dict[int, list] = {}
        self._routes: dict[tuple, tuple] = {}
        #: (src, dst, core, data class, layer) -> a block's hops on that route, booked in one call
        #: (:meth:`_block_plan`, :meth:`_book_block`; None: a component cannot book without a Transaction)
        self._block_plans: dict[tuple, tuple | None] = {}
        #: (source position, cores) -> the steps of a block loaded by several cores up to the last level
        self._fanouts: dict[tuple, tuple] = {}
        self.layers: list[LayerRecord] = []
        #: what each pipeline process is blocked on: process -> (what, layer, tile)
        self.waiting: dict[str, tuple[str, int, int]] = {}
        self._signals: dict[tuple, simpy.Event] = {}
        #: layer index -> {prologue move index: its fill}
        self._fills: dict[int, dict[int, _Fill]] = {}
        #: layer index -> {level: bytes allocated for it there by a prefetch}
        self._prefetched: dict[int, dict[int, int]] = {}
        self._started: set[int] = set()
        #: ``pe_array.multicore: pipeline`` (several cores): the stages decided so far (:func:`next_stage`,
        #: one ahead of the running one; each ``[(layer plan or summary, cores), ...]``), per layer index its
        #: cores and a note for the report; None: every layer on every core, one after the other
        self.stages: list | None = None
        self.pipeline_notes: dict[int, str] = {}
        self._pairing = pairing
        self._cores_of: dict[int, tuple[int, ...]] = {}
        #: layer index -> per tile index the (tile, kind) events it fires for a layer running beside it
        self._tile_events: dict[int, dict[tuple[int, str], simpy.Event]] = {}
        #: layer index -> (raw, war, fills) events it waits for (the layer before it, running beside it)
        self._hazards: dict[int, tuple[dict, dict, dict]] = {}
        if multicore == "pipeline" and self.ncores > 1:
            if pairing not in ("gain", "fit"):
                raise ValueError(f"pairing {pairing!r}: 'gain' (pair when the estimate gains) or 'fit' (whatever fits)")
            self.stages = []
        #: event ids taken for lane end events never scheduled (:class:`_Lanes`): not events
        self.eids_unscheduled = 0
        self.done = env.event()
        self.process = env.process(self._run())

    def rates(self) -> Rates:
        """The resources' bytes per PE-array cycle for the pairing estimate (:class:`Rates`):
        DRAM's peak bandwidth (``peak_bandwidth_gb_per_s``, bytes per ns), a shared SRAM
        level's banks x port width (an SRAM serves one line per bank a cycle; a private level
        0: each core has its own), a NoC link's width per NoC cycle; a component without the
        figure (a test double) is no limit."""
        period = self.pe.period_ps
        peak = getattr(self.dram, "peak_bandwidth_gb_per_s", 0.0)
        levels = tuple(float(x[0].nbanks * x[0].line_bytes) if len(x) == 1 and hasattr(x[0], "nbanks") else 0.0
                       for x in self.level_insts)
        width, noc_ps = getattr(self.noc, "width", 0), getattr(self.noc, "period_ps", 0)
        return Rates(dram=peak * period / 1000, levels=levels, link=width * period / noc_ps if noc_ps else 0.0,
                     latency=self.latency())

    def _sram_hop(self, mem, write: bool) -> Hop:
        """An SRAM access with idle banks (:mod:`tlmsim.hw.sram`): ``ceil(lines / banks)``
        cycles of bank occupancy (an aligned block), the first data ``latency`` cycles after
        the first bank access: ``latency - 1 + ceil(n / (banks x port width))`` cycles (the
        SRAMs run at the array's clock)."""
        if not isinstance(mem, Sram):  # a test double: no latency
            return (0.0, 1, 0.0)
        cycles = mem.config.write_latency_cycles if write else mem.config.read_latency_cycles
        return (float(cycles - 1), mem.nbanks * mem.line_bytes, 1.0)

    def _noc_hop(self, src: str, dst: str) -> Hop:
        """A NoC transfer with idle links (:mod:`tlmsim.hw.noc`): ``H x (R + L) + F`` NoC
        cycles on a mesh (H hops; at one router ``R + F``), ``R + L + F`` on a bus or
        crossbar, F = ceil(n / link width) flits (a bus or crossbar counts one hop)."""
        if not isinstance(self.noc, Noc):  # a test double: no latency
            return (0.0, 1, 0.0)
        k = self.noc.period_ps / self.pe.period_ps
        r, l = self.noc.config.router_latency_cycles, self.noc.config.link_latency_cycles
        h = self.noc.hop_count(src, dst)
        return ((h * (r + l) if h else r) * k, self.noc.width, k)

    def _dram_hop(self, write: bool) -> Hop:
        """A DRAM access of an idle device (:mod:`tlmsim.hw.dram`). A read: the first burst
        after ACT, RD and its data (``tRCD + RL + burst`` tCK, a closed bank), the following
        bursts of each channel one column-to-column gap apart (``tCCD_L`` in one bank group,
        else ``tCCD_S``, at least the burst), the channels in parallel: the mapping decides
        how many consecutive bursts (``unit``) go to other channels before one comes back.
        A write is posted: done one tCK after it arrives."""
        if not isinstance(self.dram, Dram):  # a test double: no latency
            return (0.0, 1, 0.0)
        spec, decode = self.dram.spec, self.dram.decode
        k = spec.tck_ps / self.pe.period_ps
        if write:
            return (k, 1, 0.0)
        req = spec.request_bytes
        ch, ra, bg = decode(0)[:3]
        # the channel field is contiguous: burst `channels` is back in burst 0's channel if no earlier one is
        j = next(j for j in range(1, spec.channels + 1) if decode(j * req)[0] == ch)
        gap = spec.tCCD_L if decode(j * req)[1:3] == (ra, bg) else spec.tCCD_S
        gap = max(gap, spec.burst_cycles)
        return ((spec.tRCD + spec.RL + spec.burst_cycles - gap) * k, j * req, gap * k)

    def latency(self) -> Latency | None:
        """The routes' zero-load latency for the pairing estimate (:class:`Latency`): per
        position, the hops of :meth:`route_hops` (those of :meth:`route`), for the core whose
        route takes longest for a full DMA block. None with a NoC that is not the NoC model
        (test doubles)."""
        if not isinstance(self.noc, Noc):
            return None
        top = len(self._ends) - 1

        def worst(src: int, dst: int) -> tuple:
            return max((self.route_hops(src, dst, c) for c in range(self.ncores)),
                       key=lambda h: hop_cycles(h, self.chunk))

        return Latency(chunk=self.chunk, loads=tuple(worst(p, top) for p in range(top)),
                       stores=tuple(worst(top, p) for p in range(top)),
                       l1_read=self._sram_hop(self.l1, False), l1_write=self._sram_hop(self.l1, True),
                       halves=self.halves)

    def route_hops(self, src: int, dst: int, core: int = 0) -> tuple[Hop, ...]:
        """The zero-load hops (:data:`Hop`) of a block along :meth:`route` ``(src, dst, core)``,
        one per access it books, in its order: DRAM's read at a DRAM source (the event-driven
        hop, not in the steps), each ``_HOPS`` entry (an SRAM read or write, a NoC transfer),
        a ``_STAGE``'s write and read of its staging slot, a ``_READ``'s read, DRAM's posted
        write at a DRAM destination; each from its component's timing parameters
        (:meth:`_dram_hop`, :meth:`_noc_hop`, :meth:`_sram_hop`)."""
        out = [self._dram_hop(False)] if src == 0 else []
        for kind, x in self.route(src, dst, core):
            if kind == _HOPS:
                for comp, cmd, _sel, s, d in x:
                    out.append(self._noc_hop(s, d) if comp is self.noc else self._sram_hop(comp, cmd == _CMD_WRITE))
            elif kind == _STAGE:
                out += [self._sram_hop(self._bufs[x], True), self._sram_hop(self._bufs[x], False)]
            else:  # _READ
                out.append(self._sram_hop(self._bufs[x], False))
        if dst == 0:
            out.append(self._dram_hop(True))
        return tuple(out)

    # -- DMA ---------------------------------------------------------------------------
    def _staged(self, t: int, lv: int, dc: DataClass, n: int, layer: int, tile: int, chain: int = -1) -> int:
        """Pass a block through a staging slot of buffer ``lv`` (a level's index, or a
        private level's other instance: :meth:`_buf`) from time ``t`` (write, then read
        it out); the slot is busy until the read ends. Returns when the read ends."""
        slots = self._slot_free[lv]
        free = min(slots)
        k = slots.index(free)  # the first of the earliest-free slots
        if free > t:
            self.stall("staging_full", slots[k] - t, layer, start_ps=t)  # booked ahead: the wait starts at t
            t = slots[k]
        ga, mem = k * self.chunk, self._bufs[lv]
        name = mem.name
        booked = self.recorder.booked
        t = booked(mem, _CMD_WRITE, dc, ga, n, "noc", name, t, layer, tile, chain)
        t = booked(mem, _CMD_READ, dc, ga, n, name, "noc", t, layer, tile, chain)
        slots[k] = t
        return t

    def route(self, src: int, dst: int, core: int = 0) -> tuple:
        """The steps of a block from position ``src`` to ``dst`` (0 DRAM, 1..n the SRAM
        levels from DRAM inward, n + 1 L1), built once per pair. Moving inward or
        outward, the block crosses the NoC between each pair of neighbouring positions
        and passes every level strictly between ``src`` and ``dst`` through a staging
        slot; at an SRAM end it is read from (or written to) the move's address, at
        L1 the L1 address, at DRAM by the event-driven DRAM hop (not in the steps).

        Steps: ``(_HOPS, ((comp, cmd, address selector, src name, dst name), ...))``
        with selector 0: 0 (the NoC), 1: the level address, 2: the L1 address;
        ``(_STAGE, buffer)``; ``(_READ, buffer)`` (a resident read that may wrap), with
        buffer the level's index or, for a private level, ``core``'s instance (:meth:`_buf`).
        ``core``: whose L1 position n + 1 is, and whose instances the private levels are."""
        key = (src, dst, core)
        r = self._routes.get(key)
        if r is not None:
            return r
        if src == dst or not (0 <= src < len(self._ends) and 0 <= dst < len(self._ends)):
            raise ValueError(f"no route from position {src} to {dst} of {self._ends}")
        l1, top = self.l1s[core], len(self._ends) - 1
        mem = lambda p: l1 if p == top else self._bufs[self._buf(p - 1, core)]  # noqa: E731
        ends = ("dram", *(mem(p).name for p in range(1, top + 1)))  # core's own instances of private levels
        sel = lambda p: 2 if p == top else 1  # noqa: E731
        steps: list = []
        hops: list = []

        def flush():
            if hops:
                steps.append((_HOPS, tuple(hops)))
                hops.clear()

        if src != 0:  # read out of the source SRAM
            if src != top:
                steps.append((_READ, self._buf(src - 1, core)))
            else:
                hops.append((l1, Cmd.READ, 2, l1.name, "noc"))
        step = 1 if dst > src else -1
        p = src
        while p != dst:
            q = p + step
            hops.append((self.noc, Cmd.WRITE, 0, ends[p], ends[q]))
            if q != dst:
                flush()
                steps.append((_STAGE, self._buf(q - 1, core)))
            elif q != 0:
                hops.append((mem(q), Cmd.WRITE, sel(q), "noc", ends[q]))
            p = q
        flush()
        r = self._routes[key] = tuple(steps)
        return r

    def _buf(self, lv: int, core: int) -> int:
        """The staging buffer of level ``lv`` that ``core``'s blocks use: ``lv`` itself for a
        shared level (and core 0), else the core's instance of the private level."""
        return self._buf_of.get((lv, core), lv)

    def fanout(self, src: int, cores: tuple[int, ...], dst: int | None = None) -> tuple:
        """The steps of a block that ``cores`` all load from position ``src`` to position
        ``dst`` (default L1; a private level for a prologue fill): the route up to its NoC
        transfer into the first private position (the first private level, else L1),
        which becomes one transfer to all the cores' instances there (a multicast,
        :meth:`Noc.reserve_multicast`); each core's *tail* then continues alone (its
        private instances' staging, its L1 or level write). Returns ``(steps, last sender,
        destination endpoints, group name, tails)``, tails in the order of ``cores``."""
        key = (src, cores, dst)
        r = self._fanouts.get(key)
        if r is not None:
            return r
        top = len(self._ends) - 1
        fp = self._first_private
        heads, tails, dests = [], [], []
        for c in cores:
            steps = self.route(src, top if dst is None else dst, c)
            into = (self.l1s[c] if fp == top else self._bufs[self._buf(fp - 1, c)]).name
            k, j = next((k, j) for k, (kind, x) in enumerate(steps) if kind == _HOPS
                        for j, h in enumerate(x) if h[0] is self.noc and h[4] == into)
            hops = steps[k][1]
            heads.append((tuple(steps[:k]) + (((_HOPS, hops[:j]),) if j else ()), hops[j][3]))
            tails.append((((_HOPS, hops[j + 1:]),) if hops[j + 1:] else ()) + tuple(steps[k + 1:]))
            dests.append(into)
        assert all(h == heads[0] for h in heads), "the cores' routes differ before their first private position"
        steps, sender = heads[0]
        r = self._fanouts[key] = (steps, sender, tuple(dests), "+".join(dests), tuple(tails))
        return r

    def _book(self, t: int, steps: tuple, dc: DataClass, n: int, ga: int, la: int, layer: int, tile: int,
              chain: int) -> int:
        """Book ``steps`` (:meth:`route`'s ``_HOPS`` and ``_STAGE``) of one block from time
        ``t``, ``ga`` its level address, ``la`` its L1 address; return when the last ends."""
        booked = self.recorder.booked
        for kind, x in steps:
            if kind == _HOPS:
                for comp, cmd, a, s, d in x:
                    t = booked(comp, cmd, dc, ga if a == 1 else (la if a == 2 else 0), n, s, d, t, layer, tile, chain)
            else:
                t = self._staged(t, x, dc, n, layer, tile, chain)
        return t

    def _block_plan(self, src: int, dst: int, core: int, dc: DataClass, layer: int) -> tuple | None:
        """The hops of one block on :meth:`route` ``(src, dst, core)`` of data class ``dc`` and
        layer ``layer``, in the form :meth:`_book_block` books them in one call (built once per
        key): ``(_HOPS, comp, kind, is_read, address selector, src, dst, flow slot, last)``,
        ``(_STAGE, buffer, mem, kind, write's flow slot, read's flow slot, last)``,
        ``(_READ, buffer, mem, kind, flow slot, last)`` (a flow slot: :meth:`Recorder.flow_slot`);
        ``kind`` (:func:`_book_kind`) says which class's ``book`` :func:`_book_end` calls. ``last``: no
        later hop of the block is on that component, so its hop is handed to the layer-only sinks there
        (see :meth:`_book_block`). None when a component is neither an SRAM nor the NoC, or has no
        ``book`` (a test double): the block is then booked hop by hop (:meth:`Recorder.booked`)."""
        key = (src, dst, core, dc, layer)
        try:
            return self._block_plans[key]
        except KeyError:
            pass
        dci = int(dc)
        slot = self.recorder.flow_slot
        out: list = []
        for kind, x in self.route(src, dst, core):
            if kind == _HOPS:
                for comp, cmd, a, s, d in x:
                    out.append([_HOPS, comp, _book_kind(comp), cmd is _CMD_READ, a, s, d, slot((s, d, dci, layer))])
            else:
                mem = self._bufs[x]
                name = mem.name
                if kind == _STAGE:
                    out.append([_STAGE, x, mem, _book_kind(mem), slot(("noc", name, dci, layer)),
                                slot((name, "noc", dci, layer))])
                else:
                    out.append([_READ, x, mem, _book_kind(mem), slot((name, "noc", dci, layer))])
        plan = None
        comps = [e[1] if e[0] == _HOPS else e[2] for e in out]
        if all(e[3 if e[0] != _HOPS else 2] != _BOOK_OTHER for e in out):
            plan = tuple(tuple(e) + (all(c is not comps[i] for c in comps[i + 1:]),) for i, e in enumerate(out))
        self._block_plans[key] = plan
        return plan

    # @cython.locals(k=cython.longlong, kind=cython.longlong, bk=cython.longlong, a=cython.longlong, m=cython.longlong, key=cython.longlong, kw=cython.longlong, kr=cython.longlong, cp=Component, cv=cython.longlong[::1], fv=cython.longlong[::1], slots=list)
    def _book_block(self, t: int, plan: tuple, n: int, ga: int, la: int, offset: int, span: int, base: int,
                    layer: int, hops: list) -> int:
        """Book one block's hops (:meth:`_block_plan`) from time ``t`` as :meth:`_lane` would
        hop by hop with :meth:`Recorder.booked` when every sink needs only a hop's layer
        (``hops``: :attr:`Recorder.layer_sinks`); return when the last ends. ``ga`` the level
        address, ``la`` the L1 address, ``offset`` the block's offset in its move, ``span`` and
        ``base`` a resident read's wrap (:func:`_wrapped`).

        The same bookings, counts, flows and stalls in the same order, in one call. Two
        things are gathered: the transaction ids and completions (nothing reads them while
        the block is booked), and the hops handed to the layer-only sinks: a component's
        hops in one block are of one layer, and such a sink keeps, of consecutive hops of a
        component in one layer, the counters at the last one
        (:meth:`~tlmsim.engine.attribution.LayerCounters.hop_layer`), so each component is
        handed only its last hop of the block, right after it (its counters then are those
        the hop-by-hop path leaves)."""
        fv = self.recorder._flow_v  # the flow slots' bytes (Recorder.flow_slot)
        k = 0
        for e in plan:
            kind = e[0]
            if kind == _HOPS:
                _, comp, bk, is_read, a, s, d, key, last = e
                t = _book_end(comp, bk, _CMD_READ if is_read else _CMD_WRITE,
                              ga if a == 1 else (la if a == 2 else 0), n, s, d, t, layer)
                k += 1
                cp = comp
                cv = cp._cv
                if is_read:
                    cv[READS] += 1
                    cv[READ_BYTES] += n
                else:
                    cv[WRITES] += 1
                    cv[WRITE_BYTES] += n
                fv[key] += n
            elif kind == _STAGE:  # _staged, inline
                _, x, comp, bk, kw, kr, last = e
                slots = self._slot_free[x]
                free = min(slots)
                j = slots.index(free)  # the first of the earliest-free slots
                if free > t:
                    self.stall("staging_full", free - t, layer, start_ps=t)  # booked ahead: the wait starts at t
                    t = free
                sa = j * self.chunk
                cp = comp
                name = cp.name
                cv = cp._cv
                t = _book_end(comp, bk, _CMD_WRITE, sa, n, "noc", name, t, layer)
                cv[WRITES] += 1
                cv[WRITE_BYTES] += n
                fv[kw] += n
                t = _book_end(comp, bk, _CMD_READ, sa, n, name, "noc", t, layer)
                cv[READS] += 1
                cv[READ_BYTES] += n
                fv[kr] += n
                slots[j] = t
                k += 2
            else:  # _READ: a resident read; a slice larger than its tensor (im2col) re-reads the tensor's bytes
                _, x, comp, bk, key, last = e
                cp = comp
                cv = cp._cv
                name = cp.name
                for a, m in (_wrapped(base, span, offset, n) if span else ((ga, n),)):
                    t = _book_end(comp, bk, _CMD_READ, a, m, name, "noc", t, layer)
                    k += 1
                    cv[READS] += 1
                    cv[READ_BYTES] += m
                    fv[key] += m
            if last and hops:
                cp._busy_seen = cv[BUSY_PS]
                name = cp.name
                for hop in hops:
                    hop(name, layer)
        rec = self.recorder
        rec.issued += k
        rec.completed += k
        return t

    # @cython.locals(cp=Component, cv=cython.longlong[::1], flows=dict, rec=Recorder)
    def _book_hop(self, comp, kind: int, cmd: Cmd, dc: DataClass, a: int, n: int, s, d, t: int, layer: int,
                  hops: list) -> int:
        """:meth:`Recorder.booked` of one hop on ``comp`` (``kind`` :data:`_BOOK_SRAM` or
        :data:`_BOOK_NOC`: :func:`_book_kind`) when every sink needs only a hop's layer (``hops``:
        :attr:`Recorder.layer_sinks`), without its lookups by name: the same id taken, booking,
        counts, sink calls, completion and flow; returns when the hop ends."""
        rec = self.recorder
        rec.issued += 1
        t = _book_end(comp, kind, cmd, a, n, s, d, t, layer)
        cp = comp
        cv = cp._cv
        if cmd is _CMD_READ:
            cv[READS] += 1
            cv[READ_BYTES] += n
        else:
            cv[WRITES] += 1
            cv[WRITE_BYTES] += n
        if hops:
            cp._busy_seen = cv[BUSY_PS]
            name = cp.name
            for hop in hops:
                hop(name, layer)
        rec.completed += 1
        key = (s, d, int(dc), layer)
        flows = rec._flows
        flows[key] = flows.get(key, 0) + n
        return t

    # @cython.locals(counts=cython.longlong[::1], tm=Timeout, kenv=Environment, move=Move)
    def _lane(self, src: int, dst: int, move: Move, blocks, l1_addr: int, layer: int, tile: int, on_block=None,
              core: int = 0, targets: tuple | None = None):
        """DMA blocks ``blocks`` (``(offset, bytes)`` pairs) of ``move`` from position
        ``src`` to ``dst`` (see :meth:`route`), one after the other.

        DRAM hops are event-driven (its scheduler sees concurrent requests); the
        SRAM and NoC hops behind them are booked with timestamps and waited for
        with one timeout per block (TLM-2.0 loosely-timed style). Levels between the
        two ends are passed through their staging slots; an SRAM end uses the
        move's level address. One generator frame per lane: the blocks, their DRAM
        hops and their booked hops are inlined here (the hot path of every run).

        ``core``: whose L1 the move starts or ends at. ``targets`` (several cores load
        the same bytes): ``((core, L1 address), ...)``; each block then crosses the NoC
        once from the last level (or DRAM) to all their L1s (:meth:`fanout`, a multicast
        with ``noc.multicast``) and every L1 writes its copy at its own address.
        """
        dc = move.data_class
        env, rec = self.env, self.recorder
        kenv = env if isinstance(env, Environment) else None  # the kernel's: its clock a C field
        queue, eids = (kenv._queue, kenv._eid) if kenv is not None else (env._queue, env._eid)
        dram = self.dram
        # the DRAM model's one-event request (else its access generator), for a lane that starts or ends there
        submit = getattr(dram, "submit", None) if src == 0 or dst == 0 else None
        plan = hops = steps = None
        if targets is None:
            hops = rec.layer_sinks
            if hops is not None:  # no sink reads transactions: each block's hops in one call
                plan = self._block_plan(src, dst, core, dc, layer)
            if plan is None:
                steps = self.route(src, dst, core)
        else:
            steps, sender, dests, group, tails = self.fanout(src, tuple(c for c, _ in targets),
                                                             None if dst == len(self._ends) - 1 else dst)
            mcast, book = self.noc.reserve_multicast, self._book
        counts = self._cv
        dram_base, level_base, l1_base = move.dram_address, move.level_address, l1_addr
        span = move.level_span
        chains = rec._chains
        for offset, n in blocks:
            da, ga = dram_base + offset, level_base + offset
            chain = next(chains)  # rec.new_chain(): the block's hops share it (the timeline's flow)
            if src == 0:
                i = rec.issued
                rec.issued = i + 1
                txn = Transaction(i, _CMD_READ, dc, da, n, "dram", "noc", layer, tile, 0, 0, 0,
                                  kenv._now if kenv is not None else env._now, -1, None, chain)
                if submit is not None:
                    yield submit(txn)
                else:
                    yield from dram.access(txn)
                rec.complete(txn, kenv._now if kenv is not None else env._now)
            t = kenv._now if kenv is not None else env._now
            if plan is not None:
                t = self._book_block(t, plan, n, ga, l1_base + offset, offset, span, level_base, layer, hops)
            else:
                for kind, x in steps:
                    if kind == _HOPS:
                        for comp, cmd, a, s, d in x:
                            t = rec.booked(comp, cmd, dc, ga if a == 1 else (l1_base + offset if a == 2 else 0), n,
                                           s, d, t, layer, tile, chain)
                    elif kind == _STAGE:
                        t = self._staged(t, x, dc, n, layer, tile, chain)
                    else:  # _READ: a resident read; a slice larger than its tensor (im2col) re-reads the tensor's bytes
                        mem = self._bufs[x]
                        name = mem.name
                        for a, k in (_wrapped(level_base, span, offset, n) if span else ((ga, n),)):
                            t = rec.booked(mem, _CMD_READ, dc, a, k, name, "noc", t, layer, tile, chain)
            if targets is not None:  # one NoC transfer to every target, then each core's tail (its L1 writes its copy)
                txn = rec.new_transaction(_CMD_WRITE, dc, 0, n, sender, group, now_ps=t, layer=layer, tile=tile,
                                          chain=chain)
                t = mcast(txn, dests, t)
                rec.complete(txn, t)
                arrived = t
                for (c, a), tail in zip(targets, tails):
                    e = book(arrived, tail, dc, n, ga, a + offset, layer, tile, chain)
                    if e > t:
                        t = e
            now = kenv._now if kenv is not None else env._now
            if t > now:  # env.timeout(t - now), inline: the same event, scheduled the same way
                tm = Timeout.__new__(Timeout)
                tm.env = env
                tm.callbacks = []
                tm._value = None
                tm._delay = t - now
                tm._ok = True
                heappush(queue, (now + tm._delay, NORMAL, next(eids), tm))
                yield tm
            if dst == 0:
                txn = rec.new_transaction(_CMD_WRITE, dc, da, n, "noc", "dram",
                                          now_ps=kenv._now if kenv is not None else env._now, layer=layer,
                                          tile=tile, chain=chain)
                if submit is not None:
                    yield submit(txn)
                else:
                    yield from dram.access(txn)
                rec.complete(txn, env.now)
            counts[_DMA_BLOCKS] += 1
            if on_block is not None:
                on_block(offset)

    def position(self, move: Move) -> int:
        """Where ``move``'s tensor lives: 0 DRAM, else 1 + its SRAM level."""
        return 0 if move.in_dram else 1 + move.level % len(self.levels)

    # @cython.locals(move=Move)
    def home(self, move: Move) -> int:
        """The position of the SRAM level a prologue or epilogue ``move`` fills or drains."""
        return 1 + move.level % len(self.levels)

    def transfer(self, src: int, dst: int, move: Move, l1_addr: int, layer: int, tile: int, on_block=None,
                 core: int = 0, targets: tuple | None = None):
        """Move ``move.nbytes`` from position ``src`` to ``dst`` (0 DRAM, 1..n the SRAM
        levels, n + 1 L1 of ``core``; :meth:`route`) in DMA blocks, up to ``outstanding``
        at once: loads end at L1, stores start there, prologue and epilogue moves run
        between DRAM and a level. ``on_block(offset)`` is called as each block completes.
        ``targets``: a load to the L1s of several cores at once (see :meth:`_lane`).
        Returns the transfer's generator: for a one-block move (most moves) the lane itself,
        without a frame around it (every event it waits for would pass through that frame).
        """
        nbytes = move.nbytes
        if 0 < nbytes <= self.chunk:  # one block: no lanes
            return self._lane(src, dst, move, ((0, nbytes),), l1_addr, layer, tile, on_block, core, targets)
        return self._blocks(src, dst, move, l1_addr, layer, tile, on_block, core, targets)

    def _blocks(self, src: int, dst: int, move: Move, l1_addr: int, layer: int, tile: int, on_block, core: int,
                targets: tuple | None):
        """:meth:`transfer` of a move of several blocks (or of none): its blocks dealt to up to
        ``outstanding`` lanes, the first run here, the others as :class:`_Lanes`."""
        nbytes, chunk = move.nbytes, self.chunk
        blocks = [(off, min(chunk, nbytes - off)) for off in range(0, nbytes, chunk)]
        lanes = min(self.outstanding, len(blocks))
        if lanes <= 1:
            yield from self._lane(src, dst, move, blocks, l1_addr, layer, tile, on_block, core, targets)
            return
        group = _Lanes(self, [self._lane(src, dst, move, blocks[i::lanes], l1_addr, layer, tile, on_block, core,
                                         targets) for i in range(1, lanes)],
                       dst != 0 and isinstance(self.noc, Noc))
        yield from self._lane(src, dst, move, blocks[0::lanes], l1_addr, layer, tile, on_block, core, targets)
        yield group.join()

    def _parallel(self, gens: list):
        """Run generators concurrently; the first inline, the others as lanes started
        together (:class:`_Lanes`, each end scheduled as a process's would be)."""
        if not gens:
            return
        if len(gens) == 1:
            yield from gens[0]
            return
        group = _Lanes(self, gens[1:], False)
        yield from gens[0]
        yield group.join()

    # -- resident tensors: prologue fills and prefetch ----------------------------------------
    def _start_fills(self, li: int, moves: list[tuple[int, Move]]) -> None:
        """Start the DRAM -> level fills of ``moves`` (prologue index, move) of layer ``li``,
        all at once, each with its own DMA lanes. A layer pipelined beside the layer before
        it: a fill first waits for that layer's accesses to the bytes it overwrites."""
        fills = self._fills.setdefault(li, {})
        hz = self._hazards.get(li)
        waits = hz[2] if hz is not None else {}
        gens = []
        for i, mv in moves:
            dst = self.home(mv)
            f = fills[i] = _Fill(self.env, mv, self.chunk, dst - 1)
            if dst < self._first_private:
                gen = self.transfer(0, dst, mv, 0, li, -1, on_block=f.arrived)
            else:
                # a private level (several cores): a copy in the instance of every core that reads it, one DRAM read
                cores = self._readers(li, mv) or (0,)
                targets = tuple((c, 0) for c in cores) if len(cores) > 1 else None
                gen = self.transfer(0, dst, mv, 0, li, -1, on_block=f.arrived, core=cores[0], targets=targets)
            gens.append(self._after(waits[i], gen, li) if waits.get(i) else gen)
        if gens:
            self.env.process(self._parallel(gens))

    def _after(self, evs: list, gen, li: int):
        """``gen`` once every event of ``evs`` has fired (stall ``layer_overwrite``)."""
        t0 = self.env.now
        yield _AllDone(self.env, evs)
        self.stall("layer_overwrite", self.env.now - t0, li)
        yield from gen

    def _readers(self, li: int, move: Move) -> tuple[int, ...]:
        """The cores whose tiles of layer ``li`` (its schedule, :meth:`schedule`) read the
        bytes a prologue ``move`` brings into its level."""
        plan = self.plans.held_plan(li)  # handed out and not released yet (a list's plans: always held)
        steps = self._steps(plan, li)
        n, lv = len(self.levels), move.level % len(self.levels)
        lo, hi = move.level_address, move.level_address + move.nbytes
        return tuple(sorted({c for step in steps for c, tile in step for m in tile.loads
                             if not m.in_dram and m.level % n == lv and m.level_address < hi
                             and lo < m.level_address + (m.level_span or m.nbytes)}))

    # @cython.locals(tile=Tile, mv=Move, f=_Fill)
    def _wait_resident(self, tile, li: int):
        """Wait until every resident byte ``tile`` loads has arrived from DRAM."""
        fills = self._fills.get(li)
        if not fills:
            return
        for mv in tile.loads:
            if mv.in_dram:
                continue
            lv = mv.level % len(self.levels)
            lo, hi = mv.level_address, mv.level_address + (mv.level_span or mv.nbytes)
            for f in fills.values():
                if f.level == lv and f.lo < hi and lo < f.hi:
                    ev = f.until(min(hi, f.hi))
                    if ev is not None:
                        yield ev

    def _prefetch(self, after: simpy.Event, live: list[LayerPlan], nxt: LayerPlan):
        """Once ``after`` fires (this layer's prologue is in), load ``nxt``'s resident
        weights into their levels if their ranges are clear of everything the ``live``
        plans (this layer; with layer pipelining, also the one beside it) keep there (and
        of the staging areas), they fit, and ``nxt`` has not started yet."""
        yield after
        live_plans = live
        ni = nxt.layer.index
        moves = [(i, mv) for i, mv in enumerate(nxt.prologue) if mv.data_class == DataClass.WEIGHTS]
        if not moves or ni in self._started:
            return
        n = len(self.levels)
        need: dict[int, int] = {}
        for _, mv in moves:
            lv = mv.level % n
            live = [r for plan in live_plans for r in level_ranges(plan, lv, n)] + [(0, self.staging_bytes)]
            if _overlaps(live, mv.level_address, mv.level_address + mv.nbytes):
                return
            need[lv] = need.get(lv, 0) + mv.nbytes
        if any(nbytes > mem.free_bytes for lv, nbytes in need.items() for mem in self.level_insts[lv]):
            return
        for lv, nbytes in sorted(need.items()):
            for mem in self.level_insts[lv]:  # a private level: room in every instance
                mem.allocate(nbytes, f"layer {nxt.layer.name!r} (prefetched weights)")
            self._cv[_PREFETCHED_BYTES] += nbytes
        self._prefetched[ni] = need
        self._start_fills(ni, moves)

    # -- the three pipeline processes -------------------------------------------------------
    def _take_half(self, free: _Queue, halves: list[_Half], tile, li: int, which: str = ""):
        """Take a free L1 half for ``tile`` and wait until the outputs still draining out of
        it leave the bytes its loads will write; return the half's index. ``which``: the
        core, for the deadlock message (several cores)."""
        self.waiting[self._loader_name(li)] = (f"a free L1 half{which} (queue 'l1 halves')", li, tile.index)
        hi = yield free.get()
        h = halves[hi]
        if tile.load_bytes and h.base + tile.load_bytes > h.out_lo and not h.drained.triggered:
            self.waiting[self._loader_name(li)] = (f"outputs draining out of L1 half {hi}{which}", li, tile.index)
            yield h.drained
        return hi

    def _wait_stores(self, tile, li: int):
        """Wait for every store ``tile``'s loads depend on (``after``)."""
        for mv in tile.loads:
            if mv.after is not None:
                self.waiting[self._loader_name(li)] = (f"the store {mv.after} it depends on", li, tile.index)
                yield self._signal(mv.after)

    # @cython.locals(tile=Tile, mv=Move, h=_Half, free=_Queue, ready=_Queue, kenv=Environment, fills=dict)
    def _loader(self, plan: LayerPlan, free: _Queue, ready: _Queue, halves: list[_Half], li: int):
        """Per tile: :meth:`_take_half`, :meth:`_wait_stores`, :meth:`_wait_resident`, then its
        loads (:meth:`_parallel` of :meth:`transfer`); inline here, each wait's generator made
        only when there is something to wait for (the same events in the same order). The
        clock is read once after each wait (it moves only then)."""
        env = self.env
        kenv = env if isinstance(env, Environment) else None  # the kernel's: its clock a C field
        waiting = self.waiting
        me = self._loader_name(li)
        l1 = len(self._ends) - 1
        fills = self._fills
        for tile in plan.tiles:
            ti = tile.index
            loads = tile.loads
            t0 = kenv._now if kenv is not None else env._now
            waiting[me] = ("a free L1 half (queue 'l1 halves')", li, ti)
            hi = yield free.get()
            h = halves[hi]
            nload = tile.load_bytes
            if nload and h.base + nload > h.out_lo and not h.drained.triggered:
                waiting[me] = (f"outputs draining out of L1 half {hi}", li, ti)
                yield h.drained
            now = kenv._now if kenv is not None else env._now
            if now > t0:  # (a stall of 0 counts nothing: the call only when there is one)
                self.stall("l1_full", now - t0, li)
            t0 = now
            for mv in loads:
                if mv.after is not None:
                    waiting[me] = (f"the store {mv.after} it depends on", li, ti)
                    yield self._signal(mv.after)
                    now = kenv._now if kenv is not None else env._now
            if now > t0:
                self.stall("dependency", now - t0, li)
            waiting[me] = ("resident data arriving in its level", li, ti)
            if fills.get(li):
                t0 = now
                yield from self._wait_resident(tile, li)
                now = kenv._now if kenv is not None else env._now
                if now > t0:
                    self.stall("resident_data", now - t0, li)
            waiting[me] = ("its DMA loads (DRAM/NoC/levels/L1)", li, ti)
            offset = h.base
            if len(loads) == 1:
                mv = loads[0]
                yield from self.transfer(self.position(mv), l1, mv, offset, li, ti)
            elif loads:
                gens = []
                for mv in loads:
                    gens.append(self.transfer(self.position(mv), l1, mv, offset, li, ti))
                    offset += mv.nbytes
                group = _Lanes(self, gens[1:], False)  # _parallel, inline
                yield from gens[0]
                yield group.join()
            ready.put((tile, hi))

    # @cython.locals(tile=Tile, h=_Half, free=_Queue, ready=_Queue, outq=_Queue, kenv=Environment, pe=PeArray)
    def _compute(self, plan: LayerPlan, free: _Queue, ready: _Queue, outq: _Queue,
                 halves: list[_Half], rec: LayerRecord, li: int, core: int = 0, ntiles: int | None = None):
        """Per tile: a loaded tile (``ready``), its L1 half's earlier outputs drained, the array's
        run (:meth:`PeArray.start`, :meth:`PeArray.finish`), its outputs written into L1 and
        queued for the writer (``outq``), the half freed. The clock is read once after each
        wait; the tiles' counts are added to ``rec`` once the last is computed (in the same
        order: nothing reads them while the layer runs)."""
        env, pe, l1 = self.env, self.pes[core], self.l1s[core]
        kenv = env if isinstance(env, Environment) else None  # the kernel's: its clock a C field
        waiting = self.waiting
        me = "compute" if self.ncores == 1 else f"compute {core}"
        recorder = self.recorder
        booked = recorder.booked
        me_name = self.name
        l1_name, pe_name = l1.name, pe.name
        hops = self.recorder.layer_sinks
        # the L1 hops booked by _book_hop when no sink reads transactions and the L1 books with its class's own book
        fast = _book_kind(l1) if hops is not None else _BOOK_OTHER
        tiles = cycles = ncycles = dense = acc = updates = 0
        for _ in range(len(plan.tiles) if ntiles is None else ntiles):
            t0 = kenv._now if kenv is not None else env._now
            waiting[me] = ("a loaded tile (queue 'ready tiles')", li, -1)
            tile, hi = yield ready.get()
            now = kenv._now if kenv is not None else env._now
            if now > t0:  # (a stall of 0 counts nothing)
                pe.stall("waiting_for_operands", now - t0, li)
            h = halves[hi]
            stores = tile.stores
            if stores and not h.drained.triggered:
                waiting[me] = (f"earlier outputs draining out of L1 half {hi}", li, tile.index)
                t0 = now
                yield h.drained
                now = kenv._now if kenv is not None else env._now
                if now > t0:
                    pe.stall("waiting_for_output_buffer", now - t0, li)
            waiting[me] = ("the PE array", li, tile.index)
            nread = tile.load_bytes
            operands_ps = now
            if nread:  # the array streams its operands out of L1 while it computes (one hop)
                dc = tile.loads[0].data_class if len(tile.loads) == 1 else _DC_NONE
                if fast != _BOOK_OTHER:
                    operands_ps = self._book_hop(l1, fast, _CMD_READ, dc, h.base, nread, l1_name, pe_name, now, li, hops)
                else:
                    operands_ps = booked(l1, _CMD_READ, dc, h.base, nread, l1_name, pe_name, now, li, tile.index, -1)
            # recorder.new_transaction(_CMD_COMPUTE, ..., now_ps=now, layer=li, tile=tile.index,
            # cycles=tile.compute_cycles), positional: the same id and fields
            i = recorder.issued
            recorder.issued = i + 1
            txn = Transaction(i, _CMD_COMPUTE, _DC_NONE, 0, 0, me_name, pe_name, li, tile.index, 0, 0,
                              tile.compute_cycles, now)
            yield pe.start(txn, tile, operands_ps, plan)  # pe.compute(...), its one timeout here
            pe.finish(txn, tile, now)
            end = kenv._now if kenv is not None else env._now
            recorder.complete(txn, end)
            if stores:
                nstore = tile.store_bytes
                lo = h.top - nstore
                dc = stores[0].data_class if len(stores) == 1 else _DC_NONE
                if fast != _BOOK_OTHER:
                    t = self._book_hop(l1, fast, _CMD_WRITE, dc, lo, nstore, pe_name, l1_name, end, li, hops)
                else:
                    t = booked(l1, _CMD_WRITE, dc, lo, nstore, pe_name, l1_name, end, li, tile.index, -1)
                h.out_lo, h.drained = lo, env.event()
                if t > end:
                    yield env.timeout(t - end)
                outq.put((tile, h, h.drained))
            free.put(hi)  # the input area is consumed; unbounded store: succeeds at once
            tiles += 1
            cycles += tile.compute_cycles
            ncycles += tile.neuron_cycles
            dense += tile.dense_ops
            acc += tile.acc_ops
            updates += tile.neuron_updates
        rec.tiles += tiles
        rec.compute_cycles += cycles
        rec.neuron_cycles += ncycles
        rec.dense_ops += dense
        rec.acc_ops += acc
        rec.neuron_updates += updates

    def _writer(self, plan: LayerPlan, outq: _Queue, li: int, core: int = 0, n: int | None = None):
        if n is None:
            n = sum(1 for t in plan.tiles if t.stores)
        me = "writer" if self.ncores == 1 else f"writer {core}"
        for _ in range(n):
            self.waiting[me] = ("outputs to store (queue 'outputs')", li, -1)
            tile, h, drained = yield outq.get()
            hz = self._hazards.get(li)
            if hz is not None and tile.index in hz[1]:  # layer pipelining: overwrites what the layer beside it uses
                self.waiting[me] = ("the previous layer's accesses to the bytes it overwrites", li, tile.index)
                t0 = self.env.now
                yield _AllDone(self.env, hz[1][tile.index])
                self.stall("layer_overwrite", self.env.now - t0, li)
            self.waiting[me] = ("its DMA stores (L1/NoC/levels/DRAM)", li, tile.index)
            gens, offset, l1 = [], h.top - tile.store_bytes, len(self._ends) - 1
            for mv in tile.stores:
                gens.append(self.transfer(l1, self.position(mv), mv, offset, li, tile.index, core=core))
                offset += mv.nbytes
            yield from self._parallel(gens)
            for mv in tile.stores:
                if mv.signals is not None:
                    self._signal(mv.signals).succeed()
            marks = self._tile_events.get(li)
            if marks is not None and (tile.index, "stored") in marks:
                marks[(tile.index, "stored")].succeed()
            h.out_lo = h.top
            drained.succeed()

    # -- several cores ---------------------------------------------------------------------
    #: how many units ahead of the first unplaced one a group may take (:meth:`schedule`)
    LOOKAHEAD = 256

    def _steps(self, plan: LayerPlan, li: int) -> list:
        """``plan``'s schedule on its cores (every core, or its pipeline group), computed once."""
        steps = self._schedules.get(li)
        if steps is None:
            cores = self._cores_of.get(li)
            if cores is None or len(cores) == self.ncores:
                steps = self.schedule(plan)
            else:
                steps = [[(cores[c], t) for c, t in step] for step in self.schedule(plan, len(cores))]
            self._schedules[li] = steps
        return steps

    def schedule(self, plan: LayerPlan, ncores: int | None = None) -> list[list[tuple[int, object]]]:
        """How ``plan``'s tiles run on the cores: a list of lockstep steps, each a list of
        ``(core, tile)`` loaded together.

        A *unit* is a run of consecutive tiles joined by ``keeps_state`` (a reduction
        split over several tiles, whose partial sums stay in one array); every tile of a
        unit runs on one core, in order. Groups of up to N units are formed in plan order:
        a group takes the first units not placed yet (looking at most ``LOOKAHEAD`` units
        ahead) that wait for no store of a unit in the same group or not placed yet (a
        membrane of the previous timestep), its c-th unit on core c. So independent
        consecutive units run side by side, and a run of units that each wait for the
        previous one (one output block over the timesteps, as ``event`` orders them) is
        spread over several groups interleaved with the next blocks. Step r of a group
        holds the r-th tile of each of its units. The tilers emit output blocks with the
        reduction innermost and channels or pixels next, so the units of a group are
        neighbouring output blocks: the same weights for other pixels (pixels inner:
        a spatial partition) or the same input spikes for other channels (channels inner:
        an output-channel partition); their identical loads are fetched once
        (:meth:`_group_loader`). ``ncores``: on that many cores (default: all; a layer
        pipeline group's cores are numbered from 0 here)."""
        return lockstep_schedule(plan, self.ncores if ncores is None else ncores, self.LOOKAHEAD)

    @staticmethod
    def _share_key(mv: Move) -> tuple:
        """What makes two loads the same bytes: data class, where they live (DRAM address,
        or level, address and wrap span) and size."""
        if mv.in_dram:
            return (mv.data_class, True, mv.dram_address, mv.nbytes)
        return (mv.data_class, False, mv.level, mv.level_address, mv.level_span, mv.nbytes)

    def _group_loader(self, plan: LayerPlan, steps: list, cores: list[tuple], li: int):
        """The loader with several cores: for each lockstep step (:meth:`schedule`), takes a
        free L1 half on every core of the step, waits for the step's dependencies and
        resident data, then loads all its tiles at once. Loads that several tiles of the
        step share (same data class, source address, level and size: :meth:`_share_key`)
        are moved once, from their source to all those cores' L1s (one NoC transfer,
        :meth:`fanout`); the others go to their core alone. A core's tile is ready as soon
        as its own loads are in; the next step starts when every load of this one is."""
        env = self.env
        top = len(self._ends) - 1
        for step in steps:
            t0 = env.now
            got = []
            for c, tile in step:
                free, _, _, halves = cores[c]
                got.append((yield from self._take_half(free, halves, tile, li, f" of core {c}")))
            self.stall("l1_full", env.now - t0, li)
            t0 = env.now
            for c, tile in step:
                yield from self._wait_stores(tile, li)
            self.stall("dependency", env.now - t0, li)
            hz = self._hazards.get(li)
            if hz is not None:  # layer pipelining: the stores of the layer beside it that the step reads
                t0 = env.now
                for c, tile in step:
                    evs = hz[0].get(tile.index)
                    if evs:
                        self.waiting[self._loader_name(li)] = ("the previous layer's stores it reads", li, tile.index)
                        yield _AllDone(env, evs)
                self.stall("layer_dependency", env.now - t0, li)
            t0 = env.now
            self.waiting[self._loader_name(li)] = ("resident data arriving in its level", li, step[0][1].index)
            for c, tile in step:
                yield from self._wait_resident(tile, li)
            self.stall("resident_data", env.now - t0, li)
            self.waiting[self._loader_name(li)] = ("its DMA loads (DRAM/NoC/levels/L1)", li, step[0][1].index)
            shared: dict[tuple, list] = {}  # share key -> [move, tile index, [(core, L1 address), ...]]
            for (c, tile), hi in zip(step, got):
                offset = cores[c][3][hi].base
                seen: dict[tuple, int] = {}  # identical loads of one tile stay apart: paired by occurrence
                for mv in tile.loads:
                    k = self._share_key(mv)
                    if self.position(mv) >= self._first_private:  # in its private level: each core its own copy
                        k = (k, c)
                    occ = seen[k] = seen.get(k, -1) + 1
                    entry = shared.setdefault((k, occ), [mv, tile.index, []])
                    entry[2].append((c, offset))
                    offset += mv.nbytes
            procs: list[list] = [[] for _ in step]
            index = {c: i for i, (c, _) in enumerate(step)}
            for mv, ti, targets in shared.values():
                if len(targets) == 1:
                    c, a = targets[0]
                    gen = self.transfer(self.position(mv), top, mv, a, li, ti, core=c)
                else:
                    gen = self.transfer(self.position(mv), top, mv, 0, li, ti, targets=tuple(targets))
                proc = env.process(gen)
                for c, _ in targets:
                    procs[index[c]].append(proc)
            marks = self._tile_events.get(li)
            for (c, tile), hi, mine in zip(step, got, procs):
                ready = cores[c][1]
                done = _AllDone(env, mine)
                done.callbacks.append(lambda _ev, q=ready, x=(tile, hi): q.put(x))
                if marks is not None and (tile.index, "loaded") in marks:  # a pipelined layer waits for it
                    done.callbacks.append(lambda _ev, e=marks[(tile.index, "loaded")]: e.succeed())
            yield _AllDone(env, [p for mine in procs for p in mine])

    def _run_tiles_on_cores(self, plan: LayerPlan, rec: LayerRecord, li: int):
        """Run ``plan``'s tiles on the cores (:meth:`schedule`): one loader for all of them
        (:meth:`_group_loader`), and per core its own compute and writer processes over its
        own L1 halves."""
        env = self.env
        steps = self._steps(plan, li)
        ntiles = [0] * self.ncores
        nstores = [0] * self.ncores
        for step in steps:
            for c, tile in step:
                ntiles[c] += 1
                nstores[c] += 1 if tile.stores else 0
        cores = []
        for c in range(self.ncores):
            free, ready, outq = _Queue(env), _Queue(env), _Queue(env)
            halves = [_Half(env, h * self.half_bytes, (h + 1) * self.half_bytes) for h in range(self.halves)]
            for h in range(self.halves):
                free.put(h)
            cores.append((free, ready, outq, halves))
        procs = [env.process(self._group_loader(plan, steps, cores, li))]
        for c, (free, ready, outq, halves) in enumerate(cores):
            if ntiles[c]:
                procs.append(env.process(self._compute(plan, free, ready, outq, halves, rec, li, c, ntiles[c])))
            if nstores[c]:
                procs.append(env.process(self._writer(plan, outq, li, c, nstores[c])))
        yield _AllDone(env, procs)

    def describe_blocked(self) -> str:
        """One sentence: what each pipeline process is waiting for."""
        if not self.waiting:
            return "no pipeline process started"
        parts = [f"{proc} waits for {what} (layer {li}" + (f", tile {ti})" if ti >= 0 else ")")
                 for proc, (what, li, ti) in sorted(self.waiting.items())]
        return "; ".join(parts)

    def _signal(self, key: tuple) -> simpy.Event:
        ev = self._signals.get(key)
        if ev is None:
            ev = self._signals[key] = self.env.event()
        return ev

    # -- layers ----------------------------------------------------------------------------
    def _run_layer(self, plan: LayerPlan, nxt: LayerPlan | None, allocate: bool = True,
                   live: list[LayerPlan] | None = None):
        """Run one layer. ``allocate``: claim its room in the levels (a pipeline stage
        claims it for both its layers: :meth:`_run_stage`); ``live``: the plans whose
        ranges a prefetch of ``nxt`` must avoid (default: this one)."""
        env = self.env
        li = plan.layer.index
        self._started.add(li)
        rec = LayerRecord(index=li, name=plan.layer.name, start_ps=env.now, resident=dict(plan.resident))
        # every level's space: the layer's resident tensors plus the DMA staging area (less what a prefetch claimed)
        n = len(self.levels)
        need = [self.staging_bytes] * n
        for lv, nbytes in plan.resident_bytes.items():
            need[lv % n] += nbytes
        if allocate:
            claimed = self._prefetched.pop(li, {})
            for lv, insts in enumerate(self.level_insts):
                for mem in insts:  # a private level: the same room in every core's instance
                    mem.allocate(need[lv] - claimed.get(lv, 0),
                                 f"layer {plan.layer.name!r} (resident tensors + DMA staging)")
        fills = self._fills.get(li, {})
        self._start_fills(li, [(i, mv) for i, mv in enumerate(plan.prologue) if i not in fills])
        prologue_in = _AllDone(env, [f.done for f in self._fills.get(li, {}).values()])
        if nxt is not None:
            env.process(self._prefetch(prologue_in, live or [plan], nxt))
        if plan.tiles and self.ncores > 1:
            yield from self._run_tiles_on_cores(plan, rec, li)
        elif plan.tiles:
            free, ready, outq = _Queue(env), _Queue(env), _Queue(env)
            halves = [_Half(env, h * self.half_bytes, (h + 1) * self.half_bytes) for h in range(self.halves)]
            for h in range(self.halves):
                free.put(h)
            procs = [
                env.process(self._loader(plan, free, ready, halves, li)),
                env.process(self._compute(plan, free, ready, outq, halves, rec, li)),
                env.process(self._writer(plan, outq, li)),
            ]
            yield _AllDone(env, procs)
        self._clear_waiting(li)
        if not prologue_in.triggered:  # every resident byte is in before the layer ends
            self.waiting["controller"] = ("the layer's resident tensors to arrive", li, -1)
            yield prologue_in
            self._clear_waiting(li)
        yield from self._parallel([self.transfer(self.home(mv), 0, mv, 0, li, -1) for mv in plan.epilogue])
        if allocate:
            for lv, insts in enumerate(self.level_insts):
                for mem in insts:
                    mem.free(need[lv])
        self._fills.pop(li, None)
        self._schedules.pop(li, None)
        rec.end_ps = env.now
        self.layers.append(rec)
        self._cv[_LAYERS] += 1
        self._signals = {k: v for k, v in self._signals.items() if k[0] != li}

    def _loader_name(self, li: int) -> str:
        """The loader's name in :meth:`describe_blocked` (layer pipelining: one per layer)."""
        return "loader" if self.stages is None else f"loader {li}"

    def _clear_waiting(self, li: int) -> None:
        if self.stages is None:
            self.waiting.clear()
        else:  # layer pipelining: the other layer's processes may still wait
            self.waiting = {k: v for k, v in self.waiting.items() if v[1] != li}

    def _run_stage(self, stage: list, nxt: LayerPlan | None):
        """One stage of layer pipelining (:func:`pipeline_stages`): a layer alone on every
        core, or two consecutive layers at once on their core groups. The pair's room in
        every level (staging once, both layers' resident tensors, the bytes they share
        once) is claimed for the whole stage; the second layer's tiles wait for the first
        layer's stores they read, its stores and prologue fills for the first layer's
        accesses to the bytes they overwrite (:func:`layer_hazards`)."""
        if len(stage) == 1:
            yield from self._run_layer(stage[0][0], nxt)
            return
        env = self.env
        (p, _), (q, _) = stage
        pi, qi = p.layer.index, q.layer.index
        n = len(self.levels)
        need = [self.staging_bytes] * n
        for lv, nbytes in p.resident_bytes.items():
            need[lv % n] += nbytes
        for lv in range(n):
            bq = sum(b for k, b in q.resident_bytes.items() if k % n == lv)
            need[lv] += max(0, bq - _common_bytes(level_ranges(p, lv, n), level_ranges(q, lv, n)))
        claimed = self._prefetched.pop(pi, {})
        for lv, insts in enumerate(self.level_insts):
            for mem in insts:
                mem.allocate(need[lv] - claimed.get(lv, 0),
                             f"layers {p.layer.name!r} and {q.layer.name!r} (pipelined: resident tensors + DMA staging)")
        raw, war, fills = layer_hazards(p, q, n)
        marks: dict[tuple[int, str], simpy.Event] = {}
        self._tile_events[pi] = marks
        self._hazards[qi] = ({t: [_mark(marks, env, (x, "stored")) for x in sorted(xs)] for t, xs in raw.items()},
                             {t: [_mark(marks, env, k) for k in sorted(ks)] for t, ks in war.items()},
                             {i: [_mark(marks, env, k) for k in sorted(ks)] for i, ks in fills.items()})
        procs = [env.process(self._run_layer(p, None, allocate=False)),
                 env.process(self._run_layer(q, nxt, allocate=False, live=[p, q]))]
        yield _AllDone(env, procs)
        for lv, insts in enumerate(self.level_insts):
            for mem in insts:
                mem.free(need[lv])
        self._tile_events.pop(pi, None)
        self._hazards.pop(qi, None)
        self.layers[-2:] = sorted(self.layers[-2:], key=lambda r: r.index)

    def _stage_at(self, i: int) -> list:
        """Decide the pipeline stage starting with the ``i``-th layer (:func:`next_stage`) and
        note its layers' cores; returns it (its plans held)."""
        n = len(self.plans)
        stage, notes = next_stage(
            self.plans[i], self.plans[i + 1] if i + 1 < n else None, self.ncores,
            [x[0].capacity_bytes for x in self.level_insts], self.staging_bytes, [x.name for x in self.levels],
            self.rates(), by_gain=self._pairing == "gain")
        self.pipeline_notes.update(notes)
        # kept for the report and tools: the summaries (the tiles go after the layer)
        self.stages.append([(self.plans.summaries[i + k], c) for k, (_, c) in enumerate(stage)])
        for p, c in stage:
            self._cores_of[p.layer.index] = c
        return stage

    def _run(self):
        n = len(self.plans)
        if self.stages is not None:
            # each stage is decided before the one before it runs: its first layer's cores decide
            # where the prefetch of that layer's resident tensors goes (:meth:`_readers`)
            i, stage = 0, (self._stage_at(0) if n else None)
            while i < n:
                j = i + len(stage)
                after = self._stage_at(j) if j < n else None
                yield from self._run_stage(stage, after[0][0] if after is not None else None)
                for k in range(len(stage)):
                    self.plans.release(i + k)  # the stage has run: its plans (and their tiles) may go
                i, stage = j, after
            self.done.succeed()
            return
        for i in range(n):
            yield from self._run_layer(self.plans[i], self.plans[i + 1] if i + 1 < n else None)
            self.plans.release(i)  # the layer has run: its plan (and its tiles) may go
        self.done.succeed()



#: positions of the controller's own statistics in its counters (tlmsim.engine.stats.Counters)
_DMA_BLOCKS, _LAYERS, _PREFETCHED_BYTES = stat_positions(Controller.STATS, "dma_blocks", "layers", "prefetched_bytes")

# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.hw.controller":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
