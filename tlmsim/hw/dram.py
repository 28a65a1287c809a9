"""A DRAM device and its reordering controller, scheduled command by command.

All internal times are integer cycles of tCK; the SimPy time is ``cycles * tck_ps``
picoseconds. The controller is built as cycle-level simulators build it (DRAMsim3,
Ramulator 2), but it jumps from command to command instead of ticking every cycle.

Requests. A transaction of n bytes at byte address a is cut into request-sized
bursts (``spec.request_bytes``: 64 B on DDR4/HBM2, 128 B LPDDR4, 256 B GDDR6); each
burst address is decoded with the address mapping (DRAMsim3 style, MSB..LSB string of
the fields ro ch ra bg ba co; the column field counts bursts within a row) into
channel, rank, bank group, bank, row and column. The bursts of a channel are offered
in arrival order; a burst the controller cannot accept waits at the offering side, and
no later burst overtakes it.

Queues, per channel (defaults from DRAMsim3's configs):
* a read queue of ``read_queue_depth`` requests and a write buffer of
  ``write_queue_depth`` posted writes. A write completes when it is accepted (one
  cycle later, as DRAMsim3 calls its write callback); a write to an address already
  in the buffer merges with it; a read of an address in the buffer is served from it
  (read-after-write forwarding, one cycle).
* per bank a command queue of ``command_queue_depth`` requests. Requests move from
  the read queue (or, while the write buffer drains, from the write buffer) to their
  bank's command queue as soon as it has room, oldest first.
* write drain: a drain starts when the buffer holds ``write_high_watermark`` writes,
  or more than ``write_low_watermark`` while no read is queued; it moves the writes
  present at its start to the command queues (DRAMsim3's policy); reads already in
  the command queues keep being served.

Scheduling (FR-FCFS), at most one command per cycle on a channel's command bus (HBM:
one row command -- ACT, PRE, REF -- and one column command per cycle, its separate row
and column buses). Each bank offers its candidate: if its row is open, the first
queued request that hits it (RD or WR); if the head of the queue wants another row,
PRE -- but only once no queued request hits the open row, or the row has served
``row_hit_cap`` column commands since its ACT (then the PRE competes with the hits and
wins when ready as early: DRAMsim3's arbitration); if the bank is closed, ACT for the
head. Among the candidates, the one ready earliest issues; at equal times refresh
commands first, then requests waiting ``starvation_cycles`` or more at that cycle (aging,
oldest first; an aged head stops the younger hits of its bank), then round robin over the bank queues: the first in the order starting at the
bank after the one whose command issued last (DRAMsim3's
CommandQueue::GetCommandToIssue; row hits go first within a bank, not across banks).
The scheduler computes every candidate's earliest legal cycle and jumps there; nothing
is committed before its cycle, so a request arriving in the meantime competes as in a
cycle-by-cycle controller (tests/hw/test_dram_reference.py holds it to a brute-force
cycle-by-cycle reference written from this policy).

Timing constraints: per bank tRCD (ACT to RD/WR), tRAS (ACT to PRE), tRC (ACT to
ACT), tRP (PRE to ACT), tRTP (RD to PRE, counted from RD + AL), tWR (end of write data
to PRE); per rank tRRD_S / tRRD_L, tFAW, tCCD_S / tCCD_L, tWTR_S / tWTR_L (end of write
data to RD); per channel the data bus: a read's data occupies [RD + RL, RD + RL +
burst), a write's [WR + WL, WR + WL + burst); bursts never overlap, and a rank switch
or a read-to-write turnaround leaves tRTRS idle cycles.

Page policy: ``open`` keeps a row open until a conflict or a refresh; ``closed``
auto-precharges after a column command (logged as a PRE at the earliest legal cycle,
no command slot) unless another queued request hits the row; ``adaptive`` is open, and
precharges a bank whose queue has been empty for ``page_timeout_cycles`` after its
last column command (a PRE with a command slot, lowest priority).

Refresh (rank level, staggered as DRAMsim3's RANK_LEVEL_STAGGERED): rank r of a
channel is due at (r + 1) * tREFI / ranks and every tREFI after. From its due time a
rank takes no new commands; its open banks are precharged, then REF blocks it for
tRFC. A rank in self-refresh refreshes itself (no REF).

Power states (DRAMPower's, as DRAMsim3 models self-refresh): a rank with no queued
request and no command for ``powerdown_timeout_cycles`` enters power-down: active
power-down if a bank is open, precharge power-down otherwise; a precharged rank idle for
``self_refresh_timeout_cycles`` enters self-refresh. When a request (or a refresh) for
it arrives the rank exits: its next command waits until max(arrival, entry + tCKE) + tXP
(power-down) or max(arrival, entry + tCKESR) + tXS (self-refresh). Entry and exit are
logged (PDE, PDX, SRE, SRX) for the timing checker. ``powerdown: false`` keeps every
rank in standby.

Energy (:meth:`Dram.energy_pj`), with times in ns (mA x V x ns = pJ), per device times
``devices_per_rank`` (the formulas of DRAMsim3 and DRAMPower): ACT = VDD (IDD0 tRC -
IDD3N tRAS - IDD2N tRP); RD = VDD (IDD4R - IDD3N) burst; WR likewise with IDD4W; REF =
VDD (IDD5AB - IDD3N) tRFC; I/O = ``io_energy_pj_per_bit`` x bits transferred;
background per rank and state: VDD x (IDD3N active standby, IDD2N precharge standby,
IDD3P active power-down, IDD2P precharge power-down, IDD6 self-refresh) x time in it.

Memory: the command log is written as int64 rows into a reused buffer, packed (copied out) every 4,096
rows, and handed to ``command_sink`` in time-sorted chunks of about 65,536 rows (the run's streaming timing
checker), so a long run holds only the last chunk; ``record_commands=True`` keeps the whole log for
:meth:`command_log`.
"""

from __future__ import annotations

import heapq
import itertools
from array import array
from collections import deque
from heapq import heappush
from typing import TYPE_CHECKING, Callable, Generator

import numpy as np
import simpy

from tlmsim.engine.component import Component  # cimported by the .pxd
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.sim import new_event
from tlmsim.engine.sim import Environment  # cimported by the .pxd
from tlmsim.engine.sim import Timeout  # cimported by the .pxd
from tlmsim.engine.stats import BUSY_PS, StatDecl, stat_positions
from tlmsim.engine.transaction import Cmd, Transaction
from tlmsim.errors import ConfigError, SimulationError
from tlmsim.platform.dram import _SPEC_FIELDS, DramConfig, DramSpec

if TYPE_CHECKING:  # pandas only for the command log's DataFrame, imported where it is built
    import pandas as pd

# The compiled build's types: tlmsim/hw/dram.pxd (the record classes) and the "# @cython.locals(...)"
# comments above the hot functions, which setup.py turns into decorators in its build-time copy
# (tlmsim/kernels.py's typed_source). Comments, not decorators, here: the source runs without Cython
# and mutmut 3 mutates only undecorated functions.

_NEG = -(10**15)  #: "long ago" for last-command times
_INF = 1 << 62
#: command codes of the command log
_ACT, _PRE, _RD, _WR, _REF, _PDE, _PDX, _SRE, _SRX = range(9)
COMMAND_NAMES = ("ACT", "PRE", "RD", "WR", "REF", "PDE", "PDX", "SRE", "SRX")
STALL_REASONS = ("queue_full",)
#: background power states, in the order of the energy actions
BACKGROUND_STATES = ("active_standby", "precharge_standby", "active_powerdown", "precharge_powerdown",
                     "self_refresh")
#: log rows gathered in the log buffer before they are packed (copied out, :meth:`Dram._flush_log`): as
#: Python ints, 2^18 rows (25 MB) were freed at every chunk and their memory mapped again, page by page
#: (docs/performance.md, "Session 24"); the buffer is reused
_LOG_CHUNK = 1 << 12
#: packed log rows gathered before those before the safe cycle are handed to the sink
_HAND_ROWS = 1 << 16
_CMD_READ, _CMD_WRITE = Cmd.READ, Cmd.WRITE  # looked up once (an Enum class attribute costs a __getattr__ hook)
#: a transaction's completion event: the kernel's event (tlmsim/engine/sim.py), made without a call of its
#: ``__init__``
_new_event = new_event
#: a (global bank, row) pair as one int key, ``gb << _ROW_KEY | row`` (_Txn.rows; a row number is below 2**32)
_ROW_KEY = 32


def _row_key(gb: int, row: int) -> int:
    """The key of bank ``gb``'s row ``row`` in _Txn.rows (an inline C function in the compiled build)."""
    return (gb << _ROW_KEY) | row
_NORMAL = simpy.events.NORMAL  #: the priority of a triggered event (simpy.Event.succeed's)


class _Spec:
    """The resolved DRAM spec (:class:`tlmsim.platform.dram.DramSpec`) as the model holds it
    (``Dram.spec``): every field copied, equal to the spec and read like it. In the compiled
    build (tlmsim/hw/dram.pxd) its integer fields are C long longs, so the scheduler reads a
    timing parameter as a C struct field instead of looking the name up in the spec's type
    (docs/performance.md, "Session 25")."""

    __slots__ = _SPEC_FIELDS + ("_of",)

    def __init__(self, spec: DramSpec) -> None:
        for name in _SPEC_FIELDS:
            setattr(self, name, getattr(spec, name))
        self._of = spec

    @property
    def tck_ns(self) -> float:
        return self._of.tck_ns

    def field_bits(self) -> dict[str, int]:
        return self._of.field_bits()

    def __eq__(self, other: object) -> bool:
        return self._of == other  # another record: the spec's == returns NotImplemented, so Python asks it

    def __hash__(self) -> int:
        return hash(self._of)

    def __repr__(self) -> str:
        return repr(self._of)


class _Req:
    """One queued burst."""

    __slots__ = ("seq", "gb", "lb", "row", "col", "write", "txn", "q", "queued", "rd", "key")

    def __init__(self, seq, gb, lb, row, col, write, txn, q):
        # one assignment each: about 10 % cheaper than a tuple assignment (one per burst)
        self.seq = seq
        self.gb = gb
        self.lb = lb
        self.row = row
        #: (global bank, row) as _Txn.rows' key, ``_row_key(gb, row)``: one int object, shared by a
        #: run's requests, so that serving one counts it down without making the key again
        self.key = _row_key(gb, row)
        self.col = col
        self.write = write
        self.txn = txn
        self.q = q
        self.queued = 0
        self.rd = -1  # the cycle of its RD, set when a batch of two banks serves it (Dram._pair_batch)

    @staticmethod
    # @cython.locals(seq=cython.longlong, gb=cython.longlong, lb=cython.longlong, row=cython.longlong, col=cython.longlong, q=cython.longlong, k=cython.longlong, i=cython.longlong, write=cython.bint, r="_Req", pool=list, key=object)
    def run(seq, gb, lb, row, col, write, txn, q, k, pool=None):
        """The ``k`` bursts seq, seq + 1, ... at columns col, col + 1, ... and burst addresses
        q, q + 1, ... (a transaction's bursts in one row): built without a call of
        ``__init__`` each, which costs a third of the object. ``pool``: requests served
        already (:attr:`Dram._pool`), reused before new ones are made (every field set
        again)."""
        out = []
        append = out.append
        key = _row_key(gb, row)  # one object for the run (Dram._hit_run, _read_left look it up)
        for i in range(k):
            if pool:
                r = pool.pop()
            else:
                r = _Req.__new__(_Req)
            r.seq = seq + i
            r.gb = gb
            r.lb = lb
            r.row = row
            r.key = key
            r.col = col + i
            r.write = write
            r.txn = txn
            r.q = q + i
            r.queued = 0
            r.rd = -1
            append(r)
        return out


class _Txn:
    """A transaction in flight: its bursts left and the latest end among those done."""

    __slots__ = ("txn", "event", "left", "end", "start_ps", "arrive", "accepted", "gap", "rows")

    def __init__(self, txn, event, left, start_ps, arrive):
        self.txn, self.event, self.left, self.start_ps, self.arrive = txn, event, left, start_ps, arrive
        self.end = 0
        self.accepted = arrive
        #: a lower bound of the cycles between two of its RDs: max(tCCD_L, burst) when all its
        #: bursts are in one bank group of one rank, max(tCCD_S, burst) when they are in several
        #: bank groups of one rank, else the burst (set by Dram.submit)
        self.gap = 0
        #: a read: (global bank, row) as ``_row_key(gb, row)`` -> its bursts there not yet served (set by
        #: Dram.submit; an int key: nothing to build or hash but the int)
        self.rows: dict[int, int] | None = None


class _Fifo:
    """A first-in first-out queue of requests (a channel's offering queue, a bank's read queue or
    write buffer): a list and the index of its oldest item. Its methods are C calls in the compiled
    build, where a ``collections.deque``'s are Python method calls (about three a burst on the
    row-hit paths, docs/performance.md "Session 27")."""

    __slots__ = ("head", "items")

    def __init__(self) -> None:
        self.items: list = []
        self.head = 0  # the oldest item's index in ``items``

    def append(self, x) -> None:
        self.items.append(x)

    def extend(self, xs) -> None:
        self.items.extend(xs)

    # @cython.locals(h=cython.Py_ssize_t, items=list)
    def popleft(self):
        """Remove and return the oldest item (IndexError when empty, as a deque)."""
        items = self.items
        h = self.head
        x = items[h]
        h += 1
        if h == len(items):  # empty: start over
            del items[:]
            h = 0
        elif h >= 64 and 2 * h >= len(items):  # the consumed half: dropped (amortized O(1) a pop)
            del items[:h]
            h = 0
        self.head = h
        return x

    # @cython.locals(k=cython.Py_ssize_t, h=cython.Py_ssize_t, items=list)
    def drop(self, k: int) -> None:
        """Remove the ``k`` oldest items (0 <= k <= len): what ``k`` :meth:`popleft` calls leave,
        without returning each."""
        items = self.items
        h = self.head + k
        if h > len(items) or k < 0:
            raise IndexError("_Fifo.drop: fewer items than asked")
        if h == len(items):  # empty: start over
            del items[:]
            h = 0
        elif h >= 64 and 2 * h >= len(items):  # the consumed half: dropped
            del items[:h]
            h = 0
        self.head = h

    def first(self):
        """The oldest item (IndexError when empty)."""
        return self.items[self.head]

    # @cython.locals(i=cython.Py_ssize_t)
    def at(self, i: int):
        """The item ``i`` places behind the oldest (0 <= i < len)."""
        return self.items[self.head + i]

    def snapshot(self) -> list:
        """The items, oldest first, as a new list."""
        return self.items[self.head:]

    def clear(self) -> None:
        del self.items[:]
        self.head = 0

    def __len__(self) -> int:
        return len(self.items) - self.head

    def __bool__(self) -> bool:
        return len(self.items) > self.head

    def __iter__(self):
        return itertools.islice(self.items, self.head, None)

    def __getitem__(self, i: int):
        n = len(self.items) - self.head
        if i < -n or i >= n:
            raise IndexError("_Fifo index out of range")
        return self.items[self.head + (i if i >= 0 else n + i)]

    def __repr__(self) -> str:
        return f"_Fifo({list(self)!r})"


def _has(f: _Fifo) -> bool:
    """Whether ``f`` holds an item (``bool(f)``; in the compiled build an inline C test of its
    fields, where ``bool(f)`` calls ``__bool__`` through the object protocol: on the row-hit paths
    about one test a burst)."""
    return len(f.items) > f.head


class _Chan:
    """Queues and scheduling state of one channel."""

    __slots__ = ("offers", "rqb", "wbb", "nrq", "nwb", "wpend", "bq", "active", "drain", "cyc", "row_free", "col_free",
                 "wake_at", "idle_open", "nq", "nreads", "reads_left", "offer_writes", "rr")

    def __init__(self, banks: int):
        self.offers = _Fifo()
        self.rqb: list[_Fifo] = [_Fifo() for _ in range(banks)]  # read queue, per bank, oldest first
        self.wbb: list[_Fifo] = [_Fifo() for _ in range(banks)]  # write buffer, per bank
        self.nrq = 0
        self.nwb = 0
        self.wpend: dict[int, int] = {}
        self.bq: list[list] = [[] for _ in range(banks)]
        self.active: set[int] = set()  # local banks with a non-empty command queue
        self.drain = 0
        self.cyc = 0  # decisions at cycles below this are final
        self.row_free = 0
        self.col_free = 0
        self.wake_at = _INF
        self.idle_open: set[int] = set()  # adaptive page: open banks with an empty queue
        self.nq = 0  # requests in the command queues
        self.nreads = 0  # reads in the command queues
        self.reads_left: dict = {}  # read transaction -> its bursts not yet read on this channel
        self.offer_writes = 0  # writes waiting at the offering side
        #: round robin: the local bank of the last request command (ACT, PRE, RD, WR); the scan
        #: starts after it (DRAMsim3's CommandQueue::GetNextQueue, queue_idx_ starting at 0)
        self.rr = 0


class _Waker:
    """A channel's wake callback (:meth:`Dram._schedule`), made once per channel: calls
    :meth:`Dram._on_wake` with the channel and the wake's cycle, its timeout's value."""

    __slots__ = ("ch", "dram")

    def __init__(self, dram: Dram, ch: int) -> None:
        self.dram = dram
        self.ch = ch

    def __call__(self, ev) -> None:
        self.dram._on_wake(self.ch, ev._value)


class Dram(Component):
    """A DRAM channel group with its reordering controller; see the module docstring."""

    #: the instance attributes as slots (see tlmsim.engine.component.Component)
    __slots__ = (
        "_acct", "_acct_t", "_act_t", "_bpc", "_bus_end", "_bus_rank", "_bus_write", "_ch", "_closes", "_col_ok",
        "_conflict", "_dec", "_end_cycle", "_faw", "_fields", "_finalized", "_hbm", "_hits", "_idle_since", "_kenv",
        "_kept",
        "_last_act", "_last_act_bg", "_last_col", "_last_col_bg", "_last_use", "_logarr", "_logbuf", "_next_act",
        "_next_pre", "_nlog", "_nopen", "_offset_bits", "_open", "_packed", "_plain", "_policy", "_pool", "_rank_of",
        "_rank_q", "_rank_step", "_rbg_of", "_ref_due", "_ref_pending", "_run_step", "_runs", "_seq", "_sink",
        "_skip_stale", "_tck", "_wake", "_wake_slack", "_wakers", "_wr_end", "_wr_end_bg", "checker", "config",
        "peak_bandwidth_gb_per_s", "read_latency_ps", "record_commands", "spec",
    )

    KIND = "dram"
    STATS = (
        StatDecl("act", "count", "ACT commands"),
        StatDecl("pre", "count", "PRE commands, including auto-precharges and those before a refresh"),
        StatDecl("rd", "count", "RD column commands (one per read burst)"),
        StatDecl("wr", "count", "WR column commands (one per write burst)"),
        StatDecl("ref", "count", "REF (all-bank refresh) commands"),
        StatDecl("bursts", "count", "request-sized bursts served by a column command"),
        StatDecl("row_hits", "count", "bursts whose row was open"),
        StatDecl("row_misses", "count", "bursts to a closed bank (ACT needed)"),
        StatDecl("row_conflicts", "count", "bursts to a bank with another row open (PRE and ACT needed)"),
        StatDecl("forwarded_reads", "count", "read bursts served from the write buffer"),
        StatDecl("merged_writes", "count", "write bursts merged with one already in the write buffer"),
        StatDecl("write_drains", "count", "write-buffer drains started"),
        StatDecl("powerdowns", "count", "power-down entries (active or precharge)"),
        StatDecl("self_refreshes", "count", "self-refresh entries"),
    )

    def __init__(
        self,
        *,
        name: str,
        env: simpy.Environment,
        recorder: Recorder,
        config: DramConfig,
        record_commands: bool = False,
        command_sink: Callable[[np.ndarray], None] | None = None,
        plain: bool = False,
    ) -> None:
        super().__init__(name=name, env=env, recorder=recorder)
        self.config = config
        s = self.spec = _Spec(config.resolve())
        self.peak_bandwidth_gb_per_s = s.peak_bandwidth_gb_per_s
        self.record_commands = record_commands
        self._sink = command_sink
        self._policy = s.page_policy
        self._offset_bits = s.request_bytes.bit_length() - 1
        if 1 << self._offset_bits != s.request_bytes:
            raise ConfigError(f"request size {s.request_bytes} B is not a power of two", key="dram.org")
        bits = s.field_bits()
        pos, self._fields = 0, {}
        for f in reversed(s.address_mapping):
            self._fields[f] = (pos, (1 << bits[f]) - 1)
            pos += bits[f]
        self._dec = tuple(x for k in ("ch", "ra", "bg", "ba", "ro", "co") for x in self._fields[k])
        nch, nra, nbg, bpr = s.channels, s.ranks, s.bankgroups, s.banks_per_rank
        nranks, nbanks = nch * nra, nch * nra * bpr
        self._bpc = nra * bpr  # banks per channel
        self._hbm = s.protocol == "HBM"
        # per bank (index (ch * ranks + rank) * banks_per_rank + bg * banks_per_group + ba)
        self._open = array("q", [-1]) * nbanks
        self._act_t = array("q", [_NEG]) * nbanks
        self._next_act = array("q", [0]) * nbanks
        self._next_pre = array("q", [0]) * nbanks
        self._col_ok = array("q", [0]) * nbanks
        self._hits = array("q", [0]) * nbanks  # column commands since the ACT
        self._last_use = array("q", [_NEG]) * nbanks
        self._conflict = array("q", [0]) * nbanks  # the bank was closed for a queued request to another row
        self._rank_of = array("q", [gb // bpr for gb in range(nbanks)])
        self._rbg_of = array("q", [(gb // bpr) * nbg + (gb % bpr) // s.banks_per_group for gb in range(nbanks)])
        # per rank
        self._last_act = array("q", [_NEG]) * nranks
        self._last_act_bg = array("q", [_NEG] * (nranks * nbg))
        self._faw = [deque(maxlen=4) for _ in range(nranks)]
        self._last_col = array("q", [_NEG]) * nranks
        self._last_col_bg = array("q", [_NEG] * (nranks * nbg))
        self._wr_end = array("q", [_NEG]) * nranks
        self._wr_end_bg = array("q", [_NEG] * (nranks * nbg))
        self._ref_due = array("q", [(r % nra + 1) * s.tREFI // nra for r in range(nranks)])
        self._ref_pending = array("q", [0]) * nranks
        self._rank_q = array("q", [0]) * nranks  # queued requests of the rank
        self._idle_since = array("q", [0]) * nranks  # last activity of an idle rank
        self._wake = array("q", [0]) * nranks  # earliest command after a power-down exit
        self._nopen = array("q", [0]) * nranks
        self._acct_t = array("q", [0]) * nranks
        self._acct = [[0, 0, 0, 0, 0] for _ in range(nranks)]  # cycles per BACKGROUND_STATES
        self._closes: list[list[int]] = [[] for _ in range(nranks)]  # future auto-precharge times (heaps)
        # per channel
        self._ch = [_Chan(self._bpc) for _ in range(nch)]
        #: the kernel's environment (its clock and queue C fields), or None in SimPy's
        self._kenv = env if isinstance(env, Environment) else None
        #: each channel's wake callback (_schedule): made once, the wake's cycle is its timeout's value
        self._wakers = [_Waker(self, ch) for ch in range(nch)]
        self._bus_end = array("q", [_NEG]) * nch
        self._bus_rank = array("q", [-1]) * nch
        self._bus_write = array("q", [0]) * nch
        self._seq = 0
        #: requests served in row-hit batches and column commands, kept for _Req.run to reuse
        #: (their fields are all set again there; they are referenced nowhere else once served):
        #: as many as were in flight at once at most
        self._pool: list[_Req] = []
        self._end_cycle = 0
        self._finalized = False
        #: latency (ps) of every read transaction, offer to last data, in the order the model
        #: completes them (per channel in issue order of their last RDs; across channels it
        #: depends on when each channel is advanced)
        self.read_latency_ps = array("q")
        #: the log not yet packed, in issue order: int64 rows (cycle, channel, global bank, command,
        #: row, column), the first ``_nlog`` rows of a buffer that grows as needed (``_logbuf`` is the
        #: same buffer, which the compiled build writes as a typed memoryview)
        self._logarr = np.empty((2 * _LOG_CHUNK, 6), dtype=np.int64)
        self._logbuf = self._logarr
        self._nlog = 0
        #: the log packed (int64 rows, _log_rows) and not yet handed on: in issue order, the first part
        #: sorted by cycle (the rows a hand-on kept)
        self._packed: list[np.ndarray] = []
        self._kept: list[np.ndarray] = []  # sorted chunks kept for command_log()
        self._tck = s.tck_ps
        #: ``plain``: no fast paths -- a SimPy wake at every decision, no closed-form runs (tests
        #: hold the fast scheduler to it)
        self._plain = plain
        #: row-hit runs in closed form, open page only (closed closes after each run; adaptive may
        #: precharge an idle bank in the middle of another bank's run)
        self._runs = s.page_policy == "open" and not plain
        self._run_step = max(s.tCCD_L, s.burst_cycles, 1)
        # The wakes below (later than the lower bound of a read's last RD, superseded ones
        # skipped) apply to one-channel DRAMs only. Completions of two channels at the same
        # picosecond trigger in the order the model completes them, which follows the wake times:
        # with several channels, later wakes reorder such ties, and the requesters' next requests
        # with them (same rules, other results). One channel completes in RD order at any wake.
        one = s.channels == 1 and not plain
        #: RDs of one rank are >= tCCD_S apart, and one burst apart on the data bus
        self._rank_step = max(s.tCCD_S, s.burst_cycles, 1) if one else s.burst_cycles
        #: cycles from a read's last RD to the last cycle at which a wake still completes it in time
        self._wake_slack = s.RL + s.burst_cycles - 1 if one else 0
        self._skip_stale = one

    @property
    def busy_units(self) -> int:
        return self.spec.channels

    # -- address decoding ----------------------------------------------------------------
    def decode(self, address: int) -> tuple[int, int, int, int, int, int]:
        """``(channel, rank, bankgroup, bank, row, column)`` of the burst holding byte
        ``address`` (bank within its bank group; column in bursts within the row)."""
        q = address >> self._offset_bits
        f = self._fields
        return tuple((q >> f[k][0]) & f[k][1] for k in ("ch", "ra", "bg", "ba", "ro", "co"))  # type: ignore[return-value]

    # -- the SimPy interface --------------------------------------------------------------
    def access(self, txn: Transaction) -> Generator[simpy.Event, object, None]:
        """Serve ``txn`` arriving now; returns when it is done: a read when its last
        burst's data has moved, a write when its last burst is in the write buffer
        (one SimPy event per transaction)."""
        yield self.submit(txn)

    # @cython.locals(s=_Spec, t=cython.longlong, ob=cython.longlong, first=cython.longlong, last=cython.longlong, bpr=cython.longlong, bpg=cython.longlong, bpc=cython.longlong, seq=cython.longlong, span=cython.longlong, q=cython.longlong, ch=cython.longlong, lb=cython.longlong, gb=cython.longlong, row=cython.longlong, col=cython.longlong, k=cython.longlong, sch=cython.longlong, mch=cython.longlong, sra=cython.longlong, mra=cython.longlong, sbg=cython.longlong, mbg=cython.longlong, sba=cython.longlong, mba=cython.longlong, sro=cython.longlong, mro=cython.longlong, sco=cython.longlong, mco=cython.longlong, is_write=cython.bint, chan=_Chan, tx=_Txn, rbg_of=cython.longlong[::1], key=cython.longlong)
    def submit(self, txn: Transaction) -> simpy.Event:
        """Offer ``txn`` now (its bursts enter the channels' offering queues at once);
        the returned event triggers when it is done (see :meth:`access`)."""
        if txn.cmd not in (_CMD_READ, _CMD_WRITE):
            raise SimulationError(f"{self.name}: cannot serve a {txn.cmd.label} transaction")
        if txn.nbytes <= 0 or txn.address < 0:
            raise SimulationError(f"{self.name}: bad access of {txn.nbytes} bytes at {txn.address}")
        env = self.env
        now = env.now
        t = -(-now // self._tck)
        ob = self._offset_bits
        first, last = txn.address >> ob, (txn.address + txn.nbytes - 1) >> ob
        event = _new_event(env)
        tx = _Txn(txn, event, last - first + 1, now, t)
        is_write = txn.cmd == _CMD_WRITE
        sch, mch, sra, mra, sbg, mbg, sba, mba, sro, mro, sco, mco = self._dec
        s = self.spec
        bpr, bpg, bpc = s.banks_per_rank, s.banks_per_group, self._bpc
        rbg_of = self._rbg_of
        touched: list[int] = []
        rbgs: set[int] = set()
        keys: dict[int, int] = {}  # (global bank, row) as _row_key(gb, row) -> bursts
        seq = self._seq
        # one decode per run of bursts that differ only in the column field (the whole run when
        # the column field is the lowest: a block within a row)
        span = mco if sco == 0 else 0
        q = first
        while q <= last:
            ch = (q >> sch) & mch
            lb = ((q >> sra) & mra) * bpr + ((q >> sbg) & mbg) * bpg + ((q >> sba) & mba)
            gb = ch * bpc + lb
            row = (q >> sro) & mro
            col = (q >> sco) & mco
            k = min(last - q, span - col) + 1 if span else 1
            chan = self._ch[ch]
            if ch not in touched:
                self._advance(ch, t)
                touched.append(ch)
            rbgs.add(rbg_of[gb])
            key = _row_key(gb, row)
            keys[key] = keys.get(key, 0) + k
            # every request from the pool first (a one-burst one too: else each would add one to the pool)
            chan.offers.extend(_Req.run(seq + 1, gb, lb, row, col, is_write, tx, q, k, self._pool))
            seq += k
            if is_write:
                chan.offer_writes += k
            else:
                chan.reads_left[tx] = chan.reads_left.get(tx, 0) + k
            q += k
        self._seq = seq
        if len(rbgs) == 1:
            tx.gap = self._run_step
        elif len({rbg // s.bankgroups for rbg in rbgs}) == 1:
            tx.gap = self._rank_step  # one rank (of one channel): tCCD_S and the data bus
        else:
            tx.gap = s.burst_cycles
        if not is_write:
            tx.rows = keys
        for ch in touched:
            self._fill(ch, t)
            self._schedule(ch, self._advance(ch, t))
        return event

    def will_accept(self, address: int, write: bool) -> bool:
        """Whether a one-burst request at ``address`` offered now would be accepted at
        once (DRAMsim3's WillAcceptTransaction): nothing waits before it at the offering
        side and its queue has room (or it merges with / is forwarded from a buffered
        write)."""
        q = address >> self._offset_bits
        sch, mch = self._dec[0], self._dec[1]
        ch = (q >> sch) & mch
        t = -(-self.env.now // self._tck)
        self._advance(ch, t)
        chan = self._ch[ch]
        if chan.offers:
            return False
        if q in chan.wpend:
            return True
        s = self.spec
        return chan.nwb < s.write_queue_depth if write else chan.nrq < s.read_queue_depth

    def reserve(self, txn: Transaction, start_ps: int) -> int:
        raise SimulationError(
            f"{self.name}: the DRAM controller reorders requests, so it cannot book one ahead of time; "
            "use access() (event-driven)"
        )

    # -- completion and wake-ups ---------------------------------------------------------
    # @cython.locals(tx=_Txn, end=cython.longlong)
    def _done(self, tx: _Txn, end: int) -> None:
        """One burst of ``tx`` is done at cycle ``end``."""
        if end > tx.end:
            tx.end = end
        tx.left -= 1
        if tx.left:
            return
        self._finish(tx)

    # @cython.locals(tx=_Txn, kenv=Environment, now=cython.longlong, end_ps=cython.longlong)
    def _finish(self, tx: _Txn) -> None:
        """Every burst of ``tx`` is done: record it and trigger its event at its last end."""
        tck = self._tck
        env = self.env
        kenv = self._kenv
        now = kenv._now if kenv is not None else env.now
        end_ps = tx.end * tck
        if now > end_ps:
            end_ps = now
        txn = tx.txn
        if txn.cmd == _CMD_READ:
            self.read_latency_ps.append(end_ps - tx.start_ps)
        wait = tx.accepted - tx.arrive
        if wait > 0:
            wait *= tck
            self.stall("queue_full", wait, layer=txn.layer)
        else:
            wait = 0
        self.record(txn, tx.start_ps, end_ps, wait)
        if tx.end > self._end_cycle:
            self._end_cycle = tx.end
        ev = tx.event
        ev._ok = True
        ev._value = None
        if kenv is not None:  # env.schedule(ev, _NORMAL, end_ps - now), inline: the same queue entry
            heappush(kenv._queue, (end_ps, _NORMAL, next(kenv._eid), ev))
        else:
            env.schedule(ev, _NORMAL, end_ps - now)

    # @cython.locals(ch=cython.longlong, nxt=cython.longlong, step=cython.longlong, lo=cython.longlong, hi=cython.longlong, least=cython.longlong, b=cython.longlong, c=cython.longlong, x=cython.longlong, m=cython.longlong, g=cython.longlong, n=cython.longlong, pm=cython.longlong, chan=_Chan, tx=_Txn, rows=dict, ahead=dict, per=dict, rbg_of=cython.longlong[::1], key=cython.longlong, kenv=Environment, tm=Timeout, now=cython.longlong, delay=cython.longlong)
    def _schedule(self, ch: int, nxt: int) -> None:
        """Wake channel ``ch`` for its decision at cycle ``nxt`` (at nxt * tCK + 1 ps, after
        every request eligible at that cycle has arrived)."""
        chan = self._ch[ch]
        if nxt >= _INF or not chan.nq:
            return  # without queued requests, refreshes and idle precharges wait for the next arrival
        if not self._plain and not chan.offer_writes and not (chan.wpend and chan.offers and self._fwd_possible(chan)):
            # the only effect seen outside is a read transaction's completion: its last burst's RD
            # is at least (bursts left - 1) bursts after the next command, RDs being >= a burst apart;
            # the commands before it are issued when the wake (or an arrival) comes. RDs in one
            # bank group are >= step = max(tCCD_L, burst) apart, so a read with c bursts left in one
            # bank group ends >= (c - 1) step after the next command. A bank serves the requests
            # of one row oldest first (offers, read queue, command queue and the row-hit pick are
            # all in arrival order), so the bursts of older reads in the same row of the same bank
            # come before a read's own there: with c such bursts in all, its last RD there is
            # >= (c - 1) step after the next command
            if chan.reads_left:
                step = self._run_step
                lo, hi = ch * self._bpc, (ch + 1) * self._bpc
                rbg_of = self._rbg_of
                ahead: dict[int, int] = {}  # (bank, row) key (_Txn.rows) -> bursts left there, older reads included
                least = _INF
                for tx, n in chan.reads_left.items():  # oldest first
                    b = (n - 1) * tx.gap
                    rows = tx.rows
                    if len(rows) == 1:
                        for ko, mo in rows.items():  # the key and the count as the int objects they are
                            m = mo
                            got = ahead.get(ko)
                            if got is None:  # no older read in that row: the count itself, no int to make
                                c = m
                                ahead[ko] = mo
                            else:
                                c = got
                                c += m
                                ahead[ko] = c
                            x = (c - 1) * step
                            if x > b:
                                b = x
                    else:
                        per: dict[int, int] = {}  # rank-bank-group index -> its bursts left there
                        pm = 0  # the most of them in one
                        for ko, m in rows.items():
                            key = ko
                            if m and lo <= (key >> _ROW_KEY) < hi:
                                c = ahead.get(ko, 0) + m
                                ahead[ko] = c
                                x = (c - 1) * step
                                if x > b:
                                    b = x
                                g = rbg_of[key >> _ROW_KEY]
                                c = per.get(g, 0) + m
                                per[g] = c
                                if c > pm:
                                    pm = c
                        if pm:
                            x = (pm - 1) * step
                            if x > b:
                                b = x
                    if b < least:
                        least = b
                # the completion is the last RD's data end, RL + burst after it: a wake up to
                # RL + burst - 1 cycles after the last RD still issues it (a wake at cycle w issues
                # the commands at cycles <= w) in time to trigger the completion at its data end
                nxt += least + self._wake_slack
            else:
                return
        if chan.wake_at <= nxt:
            return
        chan.wake_at = nxt
        kenv = self._kenv
        if kenv is None:  # SimPy's environment: its timeout, valued the wake's cycle
            self.env.timeout(nxt * self._tck + 1 - self.env.now, nxt).callbacks.append(self._wakers[ch])
            return
        # the kernel's: env.timeout(delay, nxt), inline (the same event, scheduled the same way)
        now = kenv._now
        delay = nxt * self._tck + 1 - now
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        tm = Timeout.__new__(Timeout)
        tm.env = kenv
        tm.callbacks = [self._wakers[ch]]
        tm._value = nxt
        tm._delay = delay
        tm._ok = True
        heappush(kenv._queue, (now + delay, _NORMAL, next(kenv._eid), tm))

    @staticmethod
    # @cython.locals(chan=_Chan, offers=_Fifo, o=_Req, wpend=dict, i=cython.Py_ssize_t, items=list, w=cython.longlong, lo=cython.longlong, hi=cython.longlong, q=cython.longlong)
    def _fwd_possible(chan: _Chan) -> bool:
        """Whether a burst waiting in ``chan``'s offering queue is for an address in the write
        buffer: a read of it would be forwarded and complete as soon as it is accepted, before
        the read bound of :meth:`_schedule`. No other offered burst can be forwarded before
        the next :meth:`_schedule` (only an accepted write adds to the buffer, and none is
        offered when this is asked). The buffer's lowest and highest address first: an offer
        outside them is not looked up (reads and writes are mostly of other tensors)."""
        wpend = chan.wpend
        lo, hi = 0, -1
        for w in wpend:
            if hi < lo:
                lo = hi = w
            elif w < lo:
                lo = w
            elif w > hi:
                hi = w
        offers = chan.offers
        items = offers.items
        for i in range(offers.head, len(items)):
            o = items[i]
            q = o.q
            if lo <= q <= hi and q in wpend:
                return True
        return False

    # @cython.locals(ch=cython.longlong, at=cython.longlong, chan=_Chan, kenv=Environment, now=cython.longlong)
    def _on_wake(self, ch: int, at: int) -> None:
        """Channel ``ch``'s wake for cycle ``at`` (:meth:`_schedule`): issue the commands due
        before the next cycle and schedule the next wake."""
        chan = self._ch[ch]
        if chan.wake_at == at:
            chan.wake_at = _INF
        elif self._skip_stale:
            # a wake superseded by an earlier one: every state change since (a wake, an arrival)
            # ended in _schedule, whose bound (``wake_at``, later, or none) says no completion is
            # due before then, so there is nothing to do now (the commands are issued lazily)
            return
        kenv = self._kenv
        now = kenv._now if kenv is not None else self.env.now
        self._schedule(ch, self._advance(ch, now // self._tck + 1))

    # -- queues --------------------------------------------------------------------------
    # @cython.locals(s=_Spec, ch=cython.longlong, t=cython.longlong, freed=cython.longlong, depth=cython.longlong, lb=cython.longlong, chan=_Chan, req=_Req, tx=_Txn, bq=list, rqb=list, wbb=list, wpend=dict, cv=cython.longlong[::1], offers=_Fifo, src=_Fifo)
    def _fill(self, ch: int, t: int, freed: int = -1) -> None:
        """At cycle ``t``: accept offered bursts while the queues have room, start a write
        drain when due, and move requests into the bank command queues. A request waits
        in the read queue (write buffer) only while its bank's command queue is full, so
        only the bank whose queue just lost a request (``freed``) can take one."""
        s = self.spec
        chan = self._ch[ch]
        bq, rqb, wbb = chan.bq, chan.rqb, chan.wbb
        depth = s.command_queue_depth
        if freed >= 0:
            src = wbb[freed] if chan.drain else rqb[freed]
            if _has(src) and len(bq[freed]) < depth:
                self._enqueue(chan, src.popleft(), t)
                if chan.drain:
                    chan.nwb -= 1
                    chan.drain -= 1
                    if not chan.drain:
                        self._drain_done(chan, t)
                else:
                    chan.nrq -= 1
        offers, wpend = chan.offers, chan.wpend
        cv = self._cv
        while _has(offers):
            req = offers.first()
            if req.write:
                if wpend and req.q in wpend:  # merges with a write still in the buffer
                    cv[_N_MERGED_WRITES] += 1
                elif chan.nwb >= s.write_queue_depth:
                    break
                else:
                    src = wbb[req.lb]  # typed: its append a C call
                    src.append(req)
                    chan.nwb += 1
                    wpend[req.q] = 1
                offers.popleft()
                chan.offer_writes -= 1
                self._accepted(req, t)
                self._done(req.txn, t + 1)
            elif wpend and req.q in wpend:  # read-after-write forwarding (none without buffered writes)
                offers.popleft()
                self._read_left(chan, req.txn, req)
                cv[_N_FORWARDED_READS] += 1
                self._accepted(req, t)
                self._done(req.txn, t + 1)
            elif chan.nrq >= s.read_queue_depth:
                break
            else:
                offers.popleft()
                tx = req.txn
                if t > tx.accepted:
                    tx.accepted = t
                lb = req.lb
                src = rqb[lb]  # typed: its append a C call
                if not chan.drain and not _has(src) and len(bq[lb]) < depth:
                    self._enqueue(chan, req, t)
                else:
                    src.append(req)
                    chan.nrq += 1
        if not chan.drain and chan.nwb and (
            chan.nwb >= s.write_high_watermark
            or (chan.nwb > s.write_low_watermark and not chan.nrq and not chan.nreads)
        ):
            chan.drain = chan.nwb
            cv[_N_WRITE_DRAINS] += 1
            for lb, src in enumerate(wbb):
                while src and len(bq[lb]) < depth and chan.drain:
                    self._enqueue(chan, src.popleft(), t)
                    chan.nwb -= 1
                    chan.drain -= 1
            if not chan.drain:
                self._drain_done(chan, t)

    def _drain_done(self, chan: _Chan, t: int) -> None:
        """A drain has moved its writes: reads move again, oldest first per bank."""
        depth = self.spec.command_queue_depth
        for lb, src in enumerate(chan.rqb):
            q = chan.bq[lb]
            while src and len(q) < depth:
                self._enqueue(chan, src.popleft(), t)
                chan.nrq -= 1

    # @cython.locals(chan=_Chan, req=_Req, t=cython.longlong, lb=cython.longlong, r=cython.longlong, q=list)
    def _enqueue(self, chan: _Chan, req: _Req, t: int) -> None:
        req.queued = t
        lb = req.lb
        q = chan.bq[lb]
        if not q:
            chan.active.add(lb)
            chan.idle_open.discard(lb)
        q.append(req)
        chan.nq += 1
        if not req.write:
            chan.nreads += 1
        r = self._rank_of[req.gb]
        if self._rank_q[r] == 0:
            self._rank_busy(r, t)
        self._rank_q[r] += 1

    # @cython.locals(chan=_Chan, tx=_Txn, req=_Req, n=cython.longlong)
    def _read_left(self, chan: _Chan, tx: _Txn, req: _Req) -> None:
        """Burst ``req`` of read ``tx`` is served (read or forwarded)."""
        tx.rows[req.key] -= 1
        n = chan.reads_left[tx] - 1
        if n:
            chan.reads_left[tx] = n
        else:
            del chan.reads_left[tx]

    # @cython.locals(req=_Req, tx=_Txn, t=cython.longlong)
    def _accepted(self, req: _Req, t: int) -> None:
        tx = req.txn
        if t > tx.accepted:
            tx.accepted = t

    # -- power states --------------------------------------------------------------------
    # @cython.locals(r=cython.longlong, t=cython.longlong, x=cython.longlong, closes=list, a=list, acct_t=cython.longlong[::1])
    def _acct_to(self, r: int, t: int) -> None:
        """Background accounting of rank ``r`` (awake) up to cycle ``t``."""
        closes = self._closes[r]
        a = self._acct[r]
        acct_t = self._acct_t
        while closes and closes[0] <= t:
            x = heapq.heappop(closes)
            if x > acct_t[r]:
                a[0 if self._nopen[r] else 1] += x - acct_t[r]
                acct_t[r] = x
            self._nopen[r] -= 1
        if t > acct_t[r]:
            a[0 if self._nopen[r] else 1] += t - acct_t[r]
            acct_t[r] = t

    # @cython.locals(s=_Spec)
    def _rank_busy(self, r: int, t: int) -> None:
        """Rank ``r`` gets work at cycle ``t`` after being idle: leave power-down."""
        s = self.spec
        if not s.powerdown:
            return
        idle = self._idle_since[r]
        pde = idle + s.powerdown_timeout_cycles
        if t <= pde:
            return
        self._acct_to(r, pde)
        open_ = self._nopen[r] > 0
        ch, gb0 = r // s.ranks, r * s.banks_per_rank
        a = self._acct[r]
        sre = idle + s.self_refresh_timeout_cycles
        if not open_ and t > sre and sre >= pde:
            # precharge power-down, then self-refresh (the device refreshes itself)
            self._log_cmd(sre, ch, gb0, _SRE, -1, -1)
            exit_t = max(t, sre + s.tCKESR)
            self._log_cmd(exit_t, ch, gb0, _SRX, -1, -1)
            a[3] += sre - pde
            a[4] += exit_t - sre
            self._wake[r] = exit_t + s.tXS
            self._cv[_N_SELF_REFRESHES] += 1
            due = self._ref_due[r]
            while due <= exit_t:
                due += s.tREFI
            self._ref_due[r] = due
        else:
            self._log_cmd(pde, ch, gb0, _PDE, -1, -1)
            exit_t = max(t, pde + s.tCKE)
            self._log_cmd(exit_t, ch, gb0, _PDX, -1, -1)
            a[2 if open_ else 3] += exit_t - pde
            self._wake[r] = exit_t + s.tXP
            self._cv[_N_POWERDOWNS] += 1
        self._acct_t[r] = exit_t
        self._idle_since[r] = exit_t

    # @cython.locals(s=_Spec)
    def _rank_sleep_to_end(self, r: int, last: int) -> None:
        """An idle rank at the end of the run: in power-down (or self-refresh) from its
        entry to ``last``; entries are logged, no exit."""
        s = self.spec
        idle = self._idle_since[r]
        pde = idle + s.powerdown_timeout_cycles
        self._acct_to(r, pde)
        a = self._acct[r]
        ch, gb0 = r // s.ranks, r * s.banks_per_rank
        sre = idle + s.self_refresh_timeout_cycles
        if self._nopen[r] == 0 and last > sre and sre >= pde:
            self._log_cmd(sre, ch, gb0, _SRE, -1, -1)
            a[3] += sre - pde
            a[4] += last - sre
            self._cv[_N_SELF_REFRESHES] += 1
        else:
            self._log_cmd(pde, ch, gb0, _PDE, -1, -1)
            a[2 if self._nopen[r] else 3] += last - pde
            self._cv[_N_POWERDOWNS] += 1
        self._acct_t[r] = last

    def _rank_activity(self, r: int, t: int) -> None:
        if t > self._idle_since[r]:
            self._idle_since[r] = t

    # -- the scheduler ---------------------------------------------------------------------
    # @cython.locals(s=_Spec, ch=cython.longlong, until=cython.longlong, t=cython.longlong, nra=cython.longlong, r0=cython.longlong, nd=cython.longlong, r=cython.longlong, d=cython.longlong, e=cython.longlong, chan=_Chan, due=cython.longlong[::1])
    def _advance(self, ch: int, until: int) -> int:
        """Issue every command of channel ``ch`` due before cycle ``until``; return the
        cycle of its next decision (or _INF)."""
        chan = self._ch[ch]
        t = chan.cyc
        s = self.spec
        nra = s.ranks
        r0 = ch * nra
        due = self._ref_due
        while True:
            # refreshes becoming due
            nd = _INF
            for r in range(r0, r0 + nra):
                if not self._ref_pending[r]:
                    d = due[r]
                    if d <= t:
                        self._start_refresh(r, d)
                    elif d < nd:
                        nd = d
            cand = self._pick(ch, t)
            e = cand[0] if cand is not None else _INF
            if nd <= e:
                if nd >= until:
                    if until > chan.cyc:
                        chan.cyc = until
                    return nd
                t = nd
                continue
            if e >= until:
                if until > chan.cyc:
                    chan.cyc = until
                return e
            if cand[3] == _RD and self._runs and not chan.drain and not chan.idle_open and self._run_ok(ch, r0, nra):
                t = self._hit_run(ch, t, nd if nd < until else until)
                continue
            self._issue(ch, cand)
            t = e

    # @cython.locals(s=_Spec, ch=cython.longlong, t=cython.longlong, limit=cython.longlong, base=cython.longlong, bus_x=cython.longlong, tccd_s=cython.longlong, tccd_l=cython.longlong, rl=cython.longlong, rtrs=cython.longlong, starve=cython.longlong, rl_bc=cython.longlong, x_pre=cython.longlong, depth=cython.longlong, rq_depth=cython.longlong, bus_end=cython.longlong, bus_rank=cython.longlong, col_free=cython.longlong, n=cython.longlong, entered=cython.longlong, pend=cython.longlong, last=cython.longlong, busy1=cython.longlong, step=cython.longlong, nb=cython.longlong, gb=cython.longlong, lb=cython.longlong, r=cython.longlong, k=cython.longlong, moved=cython.longlong, direct=cython.longlong, e=cython.longlong, x=cython.longlong, y=cython.longlong, bgb=cython.longlong, g=cython.longlong, rg=cython.longlong, eg=cython.longlong, rr=cython.longlong, m=cython.longlong, row=cython.longlong, og=cython.longlong, ro=cython.longlong, a0=cython.longlong, a1=cython.longlong, v0=cython.longlong, v1=cython.longlong, other_row=cython.bint, pure=cython.bint, chan=_Chan, h=_Req, hb=_Req, req=_Req, nxt=_Req, o=_Req, tx=_Txn, q=list, oq=list, banks=list, stat=dict, bq=list, rqb_all=list, wpend=dict, open_=cython.longlong[::1], hits=cython.longlong[::1], last_col=cython.longlong[::1], last_col_bg=cython.longlong[::1], next_pre=cython.longlong[::1], last_use=cython.longlong[::1], reads_left=dict, ranks_used=dict, cnt=cython.longlong[::1], offers=_Fifo, rqb=_Fifo, orq=_Fifo, pool=list)
    def _hit_run(self, ch: int, t: int, limit: int) -> int:
        """Fast path of :meth:`_pick` + :meth:`_issue` while every busy bank of the channel
        has only reads of its open row queued (no drain, refresh or idle precharge
        pending): FR-FCFS then picks, among the banks' queue heads, the earliest legal RD
        (ties: aged first, then oldest), as :meth:`_pick` does, with only the column
        rules left to evaluate. Issues the RDs before ``limit`` (the next wake, arrival or
        refresh) while the requests entering the channel keep that condition; returns the
        cycle of the last RD issued."""
        s = self.spec
        chan = self._ch[ch]
        base = ch * self._bpc
        bq, rqb_all, offers, wpend = chan.bq, chan.rqb, chan.offers, chan.wpend
        open_, hits, rank_of, rbg_of = self._open, self._hits, self._rank_of, self._rbg_of
        last_col, last_col_bg, next_pre, last_use = self._last_col, self._last_col_bg, self._next_pre, self._last_use
        tccd_s, tccd_l, rl, rtrs, starve = s.tCCD_S, s.tCCD_L, s.RL, s.tRTRS, s.starvation_cycles
        rl_bc = s.RL + s.burst_cycles
        x_pre = s.AL + s.tRTP
        depth, rq_depth = s.command_queue_depth, s.read_queue_depth
        reads_left = chan.reads_left
        pool = self._pool
        # static lower bound of each bank's next RD: tRCD, write-to-read, power-down exit
        stat: dict[int, int] = {}
        banks = [base + lb for lb in chan.active]
        for gb in banks:
            stat[gb] = self._read_bound(gb)
        bus_end, bus_rank, col_free = self._bus_end[ch], self._bus_rank[ch], max(chan.col_free, t)
        n = entered = pend = 0
        last = -1
        ranks_used: dict[int, int] = {}
        cnt = self._cv
        busy1 = s.burst_cycles * self._tck
        step = max(tccd_s, self._run_step)
        nb = self._bpc
        while True:
            # a request of another row moved into a command queue: the run ends after this RD
            # (it must not be served as a hit; _pick then weighs its PRE)
            other_row = False
            if last >= 0 and len(banks) == 1 and banks[0] == bgb:
                # the same bank again: the previous RD's tCCD and data burst bind, so its RDs
                # follow every ``step`` cycles; served as one batch (see _solo_batch)
                if pend:
                    cnt[_N_RD] += pend
                    cnt[_N_BURSTS] += pend
                    cnt[_N_ROW_HITS] += pend
                    cnt[BUSY_PS] += pend * busy1
                    pend = 0
                gb = bgb
                lb = gb - base
                q = bq[lb]
                r = rank_of[gb]
                k, moved, direct, other_row = self._solo_batch(ch, gb, q, rqb_all[lb], last, step, limit)
                if not k:
                    break
                e = last + k * step
                n += k
                entered += moved
                self._rank_q[r] += moved + direct - k
                chan.nq += direct
                chan.nreads += direct
                last_col[r] = e
                last_col_bg[rbg_of[gb]] = e
                bus_end, bus_rank, col_free = e + rl_bc, r, e + 1
                x = e + x_pre
                if x > next_pre[gb]:
                    next_pre[gb] = x
                last_use[gb] = e
                hits[gb] += k
                ranks_used[r] = e + rl_bc
                t = last = e
            elif (last >= 0 and len(banks) == 2 and rank_of[banks[0]] == rank_of[banks[1]] == bus_rank
                  and rbg_of[banks[0]] != rbg_of[banks[1]]
                  and (pair := self._pair_batch(ch, banks, stat, last, limit, pend))[0]):
                # two banks of one rank in different bank groups, served as one batch (see _pair_batch)
                k, moved, direct, gb, times, other_row = pair
                pend = 0
                lb = gb - base
                chan.rr = lb  # round robin: the bank of the last RD
                q = bq[lb]
                r = rank_of[gb]
                n += k
                entered += moved
                self._rank_q[r] += moved + direct - k
                chan.nq += direct
                chan.nreads += direct
                for g, x in times.items():
                    last_col_bg[rbg_of[g]] = x
                    y = x + x_pre
                    if y > next_pre[g]:
                        next_pre[g] = y
                    last_use[g] = x
                e = times[gb]
                last_col[r] = e
                bus_end, bus_rank, col_free = e + rl_bc, r, e + 1
                ranks_used[r] = e + rl_bc
                t = last = e
                bgb = gb
            else:
                # the earliest legal RD among the queue heads (ties: aged, then oldest), as
                # _run_pick; inlined, with the tie-break keys built only on equal cycles
                bus_x = bus_end - rl
                e = _INF
                for g in banks:
                    rg = rank_of[g]
                    eg = stat[g]
                    x = last_col[rg] + tccd_s
                    if x > eg:
                        eg = x
                    x = last_col_bg[rbg_of[g]] + tccd_l
                    if x > eg:
                        eg = x
                    x = bus_x + rtrs if bus_rank != rg else bus_x
                    if x > eg:
                        eg = x
                    if col_free > eg:
                        eg = col_free
                    if eg < e:
                        e, gb = eg, g
                    elif eg == e:
                        # keys as _pick's: (0, seq) for an aged head, else (1, round-robin distance)
                        h, hb = bq[g - base][0], bq[gb - base][0]
                        rr = chan.rr + 1
                        if e - h.queued >= starve:
                            a1, v1 = 0, h.seq
                        else:
                            a1, v1 = 1, (g - base - rr) % nb
                        if e - hb.queued >= starve:
                            a0, v0 = 0, hb.seq
                        else:
                            a0, v0 = 1, (gb - base - rr) % nb
                        if a1 < a0 or (a1 == a0 and v1 < v0):
                            gb = g
                if e >= limit:
                    break
                bgb = gb
                lb = gb - base
                chan.rr = lb
                q = bq[lb]
                req = q.pop(0)
                r = rank_of[gb]
                self._rank_q[r] -= 1
                n += 1
                tx = req.txn
                tx.rows[req.key] -= 1
                m = reads_left[tx] - 1
                if m:
                    reads_left[tx] = m
                else:
                    del reads_left[tx]
                row = open_[gb]
                self._log_cmd(e, ch, gb, _RD, row, req.col, flush=False)
                # the counters (kept in ``pend`` until then) first: a completion's trace hop
                # sees every command issued up to it
                pend += 1
                x = e + rl_bc
                if x > tx.end:
                    tx.end = x
                tx.left -= 1
                if not tx.left:
                    cnt[_N_RD] += pend
                    cnt[_N_BURSTS] += pend
                    cnt[_N_ROW_HITS] += pend
                    cnt[BUSY_PS] += pend * busy1
                    pend = 0
                    self._finish(tx)
                pool.append(req)  # served: reused by _Req.run
                last_col[r] = e
                last_col_bg[rbg_of[gb]] = e
                bus_end, bus_rank, col_free = e + rl_bc, r, e + 1
                x = e + x_pre
                if x > next_pre[gb]:
                    next_pre[gb] = x
                last_use[gb] = e
                hits[gb] += 1
                ranks_used[r] = e + rl_bc
                t = last = e
                # refill: this bank's waiting reads move in; offers that hit an open row are accepted
                rqb = rqb_all[lb]
                if _has(rqb):
                    nxt = rqb.popleft()
                    nxt.queued = e
                    q.append(nxt)
                    chan.nrq -= 1
                    self._rank_q[r] += 1
                    entered += 1
                    if nxt.row != row:
                        other_row = True
            pure = True
            while _has(offers) and chan.nrq < rq_depth:
                o = offers.first()
                og = base + o.lb
                if o.write or open_[og] != o.row or not hits[og] or o.q in wpend or self._ref_pending[rank_of[og]]:
                    pure = False
                    break
                offers.popleft()
                if e > o.txn.accepted:
                    o.txn.accepted = e
                oq, orq = bq[o.lb], rqb_all[o.lb]
                if _has(orq) or len(oq) >= depth:
                    orq.append(o)
                    chan.nrq += 1
                else:
                    o.queued = e
                    if not oq:
                        banks.append(og)
                        stat[og] = self._read_bound(og)
                        chan.active.add(o.lb)
                        ro = rank_of[og]
                        if self._rank_q[ro] == 0:
                            if ro in ranks_used:  # its RDs of this run first (as _issue does at each)
                                self._rank_activity(ro, ranks_used[ro])
                            self._rank_busy(ro, e)
                            stat[og] = self._read_bound(og)
                    oq.append(o)
                    self._rank_q[rank_of[og]] += 1
                    chan.nq += 1
                    chan.nreads += 1
            if not q:
                banks.remove(gb)
                chan.active.discard(lb)
                if self._policy == "adaptive":
                    chan.idle_open.add(lb)
            if not pure or other_row or not banks:
                break
        if pend:
            cnt[_N_RD] += pend
            cnt[_N_BURSTS] += pend
            cnt[_N_ROW_HITS] += pend
            cnt[BUSY_PS] += pend * busy1
        # the state _issue leaves after the last of these RDs (per-bank counts kept above)
        chan.nq += entered - n
        chan.nreads += entered - n
        self._bus_end[ch], self._bus_rank[ch], self._bus_write[ch] = bus_end, bus_rank, False
        if self._hbm:
            chan.col_free = col_free
        else:
            chan.col_free = chan.row_free = col_free
        for r, end in ranks_used.items():
            self._rank_activity(r, end)
        if self._nlog >= _LOG_CHUNK and (self._sink is not None or self.record_commands):
            self._flush_log(final=False)
        self._fill(ch, t)  # the offer that ended the run, a drain now due
        return last

    # @cython.locals(s=_Spec, gb=cython.longlong, r=cython.longlong, x=cython.longlong, y=cython.longlong)
    def _read_bound(self, gb: int) -> int:
        """The static lower bound of bank ``gb``'s next RD in a row-hit run (:meth:`_hit_run`): its
        ACT's tRCD, the write-to-read turnaround of its rank (tWTR_S) and bank group (tWTR_L), its
        rank's power-down exit; none of them moves while the run lasts."""
        s = self.spec
        r = self._rank_of[gb]
        x = self._col_ok[gb]
        y = self._wr_end[r] + s.tWTR_S
        if y > x:
            x = y
        y = self._wr_end_bg[self._rbg_of[gb]] + s.tWTR_L
        if y > x:
            x = y
        y = self._wake[r]
        return y if y > x else x

    # @cython.locals(s=_Spec, ch=cython.longlong, gb=cython.longlong, last=cython.longlong, step=cython.longlong, limit=cython.longlong, kmax=cython.longlong, lb=cython.longlong, row=cython.longlong, rq_depth=cython.longlong, depth=cython.longlong, nr=cython.longlong, moved=cython.longlong, direct=cython.longlong, k=cython.longlong, nq0=cython.longlong, j=cython.longlong, m=cython.longlong, i=cython.longlong, e=cython.longlong, p=cython.longlong, x=cython.longlong, other_row=cython.bint, stop=cython.bint, sat=cython.bint, chan=_Chan, it=_Req, o=_Req, q=list, L=list, served=list, wpend=dict, taken=list, seq=list, offers=_Fifo)
    def _solo_batch(self, ch: int, gb: int, q: list, rqb: _Fifo, last: int, step: int, limit: int):
        """:meth:`_hit_run` with one busy bank ``gb`` whose previous RD was at ``last``: its
        next RDs follow every ``step`` cycles (nothing else competes for the channel), each
        serving the head of its command queue, which its read queue refills, and the
        offers that hit its open row are accepted as room frees, exactly as the per-RD loop
        does. Serves RDs at last + step, last + 2 step, ... before ``limit`` and stops after
        the one whose offer step meets an offer it cannot take (another bank, a write, another
        row, an address in the write buffer: left for the caller's general step) or that
        leaves the bank's queue empty or moves a request of another row in from the read queue
        (then the run ends: the caller's _pick weighs its PRE). Logs the RDs, completes their
        transactions, moves the read queue counts; returns (RDs served, requests moved from the
        read queue, offers placed straight into the command queue, whether a request of another
        row moved in). The caller updates the bank, rank and bus state of the last RD."""
        s = self.spec
        chan = self._ch[ch]
        kmax = (limit - 1 - last) // step
        if kmax <= 0:
            return 0, 0, 0, False
        lb = gb - ch * self._bpc
        row = self._open[gb]
        offers, wpend = chan.offers, chan.wpend
        rq_depth, depth = s.read_queue_depth, s.command_queue_depth
        nr = chan.nrq
        moved = direct = 0
        if not _has(offers):
            # nothing offered (none arrives during the batch): each RD serves the queue head and
            # the read queue's oldest moves in, until kmax RDs or both queues are empty
            L = q + rqb.snapshot() if _has(rqb) else q[:]
            k = kmax if kmax < len(L) else len(L)
            nq0 = len(q)
            other_row = False
            for j in range(len(L) - nq0):  # the read queue's requests (L[nq0:])
                it = L[nq0 + j]
                if it.row != row:  # moves in at RD j + 1: the batch ends there
                    if j + 1 <= k:
                        k = j + 1
                        other_row = True
                    break
            m = k if k < len(rqb) else len(rqb)
            for i in range(m):
                it = L[nq0 + i]  # typed: its field set as a C struct member
                it.queued = last + (i + 1) * step
            rqb.drop(m)
            served = L[:k]
            q[:] = L[k:nq0 + m]
            e = last + k * step
            chan.nrq = nr - m
            moved = m
            return self._batch_done(ch, gb, row, last, step, e, served, k, moved, direct) + (other_row,)
        served = []
        e = last
        k = 0
        other_row = False
        sat = nr == rq_depth and len(rqb) == nr and len(q) == depth
        if sat:  # and all of the read queue is for this row (a loop: no generator object per batch)
            for it in rqb.snapshot():
                if it.row != row:
                    sat = False
                    break
        if sat:
            # saturated: the read queue is full (all of it this bank's) and so is the command queue.
            # Each RD then serves the head, moves the read queue's oldest in (queued at the RD)
            # and accepts exactly one offer into the read queue (accepted at the RD) while the
            # offers hit the open row: served as one slice of q + read queue + those offers
            p = 0
            for o in offers.snapshot():
                if p >= kmax or o.lb != lb or o.write or o.row != row or (wpend and o.q in wpend):
                    break
                p += 1
            if p:
                taken = [offers.popleft() for _ in range(p)]
                for i, o in enumerate(taken, 1):
                    x = last + i * step
                    if x > o.txn.accepted:
                        o.txn.accepted = x
                seq = q + rqb.snapshot() + taken
                for i in range(p):
                    it = seq[depth + i]
                    it.queued = last + (i + 1) * step
                served = seq[:p]
                q[:] = seq[p:p + depth]
                rqb.clear()
                rqb.extend(seq[p + depth:])
                moved = k = p
                e = last + p * step
        while k < kmax:
            e += step
            k += 1
            served.append(q.pop(0))
            if _has(rqb):
                it = rqb.popleft()
                it.queued = e
                q.append(it)
                nr -= 1
                moved += 1
                if it.row != row:
                    other_row = True
            stop = other_row
            while _has(offers) and nr < rq_depth:
                o = offers.first()
                if o.lb != lb or o.write or o.row != row or (wpend and o.q in wpend):
                    stop = True
                    break
                if not q:  # the bank's queue ran empty: the caller's general step takes it
                    stop = True
                    break
                offers.popleft()
                if e > o.txn.accepted:
                    o.txn.accepted = e
                if nr or len(q) >= depth:
                    rqb.append(o)
                    nr += 1
                else:
                    o.queued = e
                    q.append(o)
                    direct += 1
            if stop or not q:
                break
        chan.nrq = nr
        return self._batch_done(ch, gb, row, last, step, e, served, k, moved, direct) + (other_row,)

    # @cython.locals(s=_Spec, ch=cython.longlong, last=cython.longlong, limit=cython.longlong, pend=cython.longlong, base=cython.longlong, g0=cython.longlong, g1=cython.longlong, l0=cython.longlong, l1=cython.longlong, row0=cython.longlong, row1=cython.longlong, st0=cython.longlong, st1=cython.longlong, c0=cython.longlong, c1=cython.longlong, tccd_l=cython.longlong, step_s=cython.longlong, rq_depth=cython.longlong, depth=cython.longlong, nr=cython.longlong, moved=cython.longlong, direct=cython.longlong, p=cython.longlong, e0=cython.longlong, e1=cython.longlong, x=cython.longlong, k=cython.longlong, k1=cython.longlong, busy1=cython.longlong, rl_bc=cython.longlong, m=cython.longlong, row=cython.longlong, orow=cython.longlong, i=cython.longlong, n0=cython.longlong, n1=cython.longlong, w0=cython.longlong, w1=cython.longlong, starve=cython.longlong, nb=cython.longlong, rr=cython.longlong, other_row=cython.bint, a0=cython.longlong, a1=cython.longlong, v0=cython.longlong, v1=cython.longlong, one=cython.bint, stop=cython.bint, chan=_Chan, it=_Req, o=_Req, h0=_Req, h1=_Req, tx=_Txn, t0=_Txn, t1=_Txn, q0=list, q1=list, q=list, oq=list, open_=cython.longlong[::1], lcb=cython.longlong[::1], wpend=dict, served=list, at=list, reads_left=dict, hits=cython.longlong[::1], cv=cython.longlong[::1], offers=_Fifo, rqb=_Fifo, orq=_Fifo, r0_=_Fifo, r1_=_Fifo)
    def _pair_batch(self, ch: int, banks: list, stat: dict, last: int, limit: int, pend: int):
        """:meth:`_hit_run` with exactly two busy banks, of one rank (the rank of the previous
        RD, at ``last``) and in different bank groups: the per-RD step of :meth:`_hit_run`
        with its general rules specialised to that case.

        With the previous RD of the rank at p, a bank g's next RD is legal at
        max(stat_g, p + tCCD_S, c_g + tCCD_L, p + burst, p + 1), where stat_g is its static
        bound (tRCD, write-to-read, power-down exit: fixed during the run), c_g the last RD
        of its bank group (only g's own RDs move it, the two bank groups being different),
        p + burst the data bus (same rank: no tRTRS) and p + 1 the command bus; that is
        max(stat_g, p + s, c_g + tCCD_L) with s = max(tCCD_S, burst, 1). The earlier of the
        two banks issues. (With tCCD_L <= 2 s and the queues full, this is strict
        alternation at s cycles apart.) A tie goes to the tie-break of the caller's general
        step (and of :meth:`_pick`): a head waiting ``starvation_cycles`` or more (aged) first,
        the older of two aged heads first, else round robin from the bank after the previous
        RD's (``chan.rr``), which is the other bank. (With tCCD_L <= s, e.g. LPDDR4's BL16
        burst of 8 cycles against tCCD_L 6, every step after the first is such a tie.)

        Each RD serves the head of its bank's command queue, which the bank's read queue
        refills; offers that hit the open row of one of the two banks are accepted as room
        frees, exactly as in :meth:`_hit_run`. Stops before an RD at or after ``limit``, and
        after the RD whose offer step meets an offer it cannot take (another bank, a write,
        another row, an address in the write buffer, a bank with an empty queue: left to the
        caller's offer step), that leaves its bank's queue empty, or that moves a request of
        another row in from the read queue (the run ends there). Logs the RDs and
        completes their transactions in RD order (the counters ``pend`` of the caller's earlier
        RDs first); returns (RDs served, requests moved from the read queues, offers placed
        straight into a command queue, the bank of the last RD, {bank: its last RD}, whether a
        request of another row moved in), or (0, ...) with nothing changed. The caller updates
        the bank, rank and bus state."""
        s = self.spec
        chan = self._ch[ch]
        base = ch * self._bpc
        g0, g1 = banks
        l0, l1 = g0 - base, g1 - base
        q0, q1 = chan.bq[l0], chan.bq[l1]
        r0_, r1_ = chan.rqb[l0], chan.rqb[l1]
        open_ = self._open
        row0, row1 = open_[g0], open_[g1]
        st0, st1 = stat[g0], stat[g1]
        lcb = self._last_col_bg
        c0, c1 = lcb[self._rbg_of[g0]], lcb[self._rbg_of[g1]]
        tccd_l = s.tCCD_L
        step_s = max(s.tCCD_S, s.burst_cycles, 1)
        offers, wpend = chan.offers, chan.wpend
        rq_depth, depth = s.read_queue_depth, s.command_queue_depth
        nr = chan.nrq
        moved = direct = 0
        other_row = False
        p = last
        served: list = []  # each with its RD's cycle (rd)
        k1 = 0  # RDs of bank g1
        starve = s.starvation_cycles
        nb = self._bpc
        rr = chan.rr  # the local bank of the previous RD (round robin)
        while True:
            e0 = p + step_s
            e1 = e0
            x = c0 + tccd_l
            if x > e0:
                e0 = x
            if st0 > e0:
                e0 = st0
            x = c1 + tccd_l
            if x > e1:
                e1 = x
            if st1 > e1:
                e1 = st1
            if e0 == e1:
                # a tie: aged first (the older of two), else round robin from the bank after rr
                if e0 >= limit:
                    break
                # each head's key: (0, its seq) when aged, else (1, its bank's round-robin distance);
                # bank g1's RD first when its key is the smaller, as tuples compare
                h0, h1 = q0[0], q1[0]
                if e0 - h1.queued >= starve:
                    a1, v1 = 0, h1.seq
                else:
                    a1, v1 = 1, (l1 - rr - 1) % nb
                if e0 - h0.queued >= starve:
                    a0, v0 = 0, h0.seq
                else:
                    a0, v0 = 1, (l0 - rr - 1) % nb
                one = a1 < a0 or (a1 == a0 and v1 < v0)
            else:
                one = e1 < e0
                if (e1 if one else e0) >= limit:
                    break
            if one:
                p = c1 = e1
                q, rqb, row = q1, r1_, row1
                rr = l1
            else:
                p = c0 = e0
                q, rqb, row = q0, r0_, row0
                rr = l0
            it = q.pop(0)
            it.rd = p
            served.append(it)
            if one:
                k1 += 1
            if _has(rqb):
                it = rqb.popleft()
                it.queued = p
                q.append(it)
                nr -= 1
                moved += 1
                if it.row != row:
                    other_row = True
            stop = other_row
            while _has(offers) and nr < rq_depth:
                o = offers.first()
                if o.write or (wpend and o.q in wpend):
                    stop = True
                    break
                if o.lb == l0:
                    oq, orq, orow = q0, r0_, row0
                elif o.lb == l1:
                    oq, orq, orow = q1, r1_, row1
                else:
                    stop = True
                    break
                if o.row != orow or not oq:
                    stop = True
                    break
                offers.popleft()
                if p > o.txn.accepted:
                    o.txn.accepted = p
                if _has(orq) or len(oq) >= depth:
                    orq.append(o)
                    nr += 1
                else:
                    o.queued = p
                    oq.append(o)
                    direct += 1
            if stop or not q:
                break
        k = len(served)
        if not k:
            return 0, 0, 0, -1, None, False
        chan.nrq = nr
        # log, then complete in RD order, counting each RD before a completion it causes
        self._log_rds(None, ch, served)
        cv = self._cv
        busy1 = s.burst_cycles * self._tck
        rl_bc = s.RL + s.burst_cycles
        reads_left = chan.reads_left
        hits = self._hits
        hits[g0] += k - k1
        hits[g1] += k1
        # a bank's consecutive RDs of one transaction leave its bursts to serve (tx.rows, reads_left)
        # in one step; nothing reads those before the batch returns (_finish does not)
        t0 = t1 = None  # the transaction of bank g0's (g1's) latest RDs, n0 (n1) of them, in row w0 (w1)
        n0 = n1 = w0 = w1 = 0
        for i in range(k):
            it = served[i]
            tx = it.txn
            if it.gb == g0:
                if tx is not t0 or it.row != w0:
                    if n0:
                        self._served_n(reads_left, t0, g0, w0, n0)
                    t0 = tx
                    w0 = it.row
                    n0 = 0
                n0 += 1
            else:
                if tx is not t1 or it.row != w1:
                    if n1:
                        self._served_n(reads_left, t1, g1, w1, n1)
                    t1 = tx
                    w1 = it.row
                    n1 = 0
                n1 += 1
            pend += 1
            x = it.rd + rl_bc
            if x > tx.end:
                tx.end = x
            tx.left -= 1
            if not tx.left:
                cv[_N_RD] += pend
                cv[_N_BURSTS] += pend
                cv[_N_ROW_HITS] += pend
                cv[BUSY_PS] += pend * busy1
                pend = 0
                self._finish(tx)
        if n0:
            self._served_n(reads_left, t0, g0, w0, n0)
        if n1:
            self._served_n(reads_left, t1, g1, w1, n1)
        if pend:
            cv[_N_RD] += pend
            cv[_N_BURSTS] += pend
            cv[_N_ROW_HITS] += pend
            cv[BUSY_PS] += pend * busy1
        times = {}
        if k1 < k:
            times[g0] = c0
        if k1:
            times[g1] = c1
        it = served[k - 1]
        self._pool.extend(served)  # served: reused by _Req.run
        return k, moved, direct, it.gb, times, other_row

    # @cython.locals(s=_Spec, ch=cython.longlong, gb=cython.longlong, row=cython.longlong, last=cython.longlong, step=cython.longlong, e=cython.longlong, k=cython.longlong, moved=cython.longlong, direct=cython.longlong, rl_bc=cython.longlong, x=cython.longlong, cnt=cython.longlong, chan=_Chan, tx=_Txn, it=_Req, served=list)
    def _batch_done(self, ch, gb, row, last, step, e, served, k, moved, direct):
        """The end of :meth:`_solo_batch`: log its RDs and complete their transactions, in RD order."""
        s = self.spec
        chan = self._ch[ch]
        rl_bc = s.RL + s.burst_cycles
        self._log_rds(range(last + step, e + 1, step), ch, served)
        reads_left = chan.reads_left
        # the served bursts of one transaction are consecutive: complete per group, in RD order
        x = last
        tx = None
        cnt = 0
        for it in served:
            if it.txn is not tx:
                if cnt:
                    x += cnt * step
                    self._done_n(reads_left, tx, cnt, x + rl_bc, gb, row)
                tx = it.txn
                cnt = 0
            cnt += 1
        if cnt:
            x += cnt * step
            self._done_n(reads_left, tx, cnt, x + rl_bc, gb, row)
        self._pool.extend(served)  # served: reused by _Req.run
        return k, moved, direct

    # @cython.locals(reads_left=dict, tx=_Txn, n=cython.longlong, end=cython.longlong, m=cython.longlong, cv=cython.longlong[::1])
    def _done_n(self, reads_left: dict, tx: _Txn, n: int, end: int, gb: int, row: int) -> None:
        """``n`` row-hit RDs of read ``tx`` are issued on a channel, the last one's data
        ending at ``end``: count them, then complete ``tx`` if they were its last (so its
        trace hop sees every command issued up to it, as after :meth:`_issue`)."""
        cv = self._cv
        cv[_N_RD] += n
        cv[_N_BURSTS] += n
        cv[_N_ROW_HITS] += n
        cv[BUSY_PS] += n * self.spec.burst_cycles * self._tck
        tx.rows[_row_key(gb, row)] -= n
        m = reads_left[tx] - n
        if m:
            reads_left[tx] = m
        else:
            del reads_left[tx]
        if end > tx.end:
            tx.end = end
        tx.left -= n
        if not tx.left:
            self._finish(tx)

    # @cython.locals(reads_left=dict, tx=_Txn, gb=cython.longlong, row=cython.longlong, n=cython.longlong, m=cython.longlong)
    def _served_n(self, reads_left: dict, tx: _Txn, gb: int, row: int, n: int) -> None:
        """``n`` bursts of read ``tx`` in row ``row`` of bank ``gb`` are served: fewer left there
        and on the channel (``reads_left``)."""
        tx.rows[_row_key(gb, row)] -= n
        m = reads_left[tx] - n
        if m:
            reads_left[tx] = m
        else:
            del reads_left[tx]

    # @cython.locals(ch=cython.longlong, r0=cython.longlong, nra=cython.longlong, r=cython.longlong, base=cython.longlong, lb=cython.longlong, gb=cython.longlong, row=cython.longlong, x=_Req, bq=list, q=list, chan=_Chan)
    def _run_ok(self, ch: int, r0: int, nra: int) -> bool:
        """Whether every busy bank of channel ``ch`` has only reads of its open row queued
        (after a first column command) and no refresh is pending: :meth:`_hit_run` applies."""
        for r in range(r0, r0 + nra):
            if self._ref_pending[r]:
                return False
        base = ch * self._bpc
        chan = self._ch[ch]
        bq = chan.bq
        for lb in range(self._bpc):  # the busy banks (chan.active), read from their queues
            q = bq[lb]
            if not q:
                continue
            gb = base + lb
            row = self._open[gb]
            if row < 0 or not self._hits[gb]:
                return False
            for x in q:
                if x.row != row or x.write:
                    return False
        return True

    # @cython.locals(s=_Spec)
    def _start_refresh(self, r: int, d: int) -> None:
        s = self.spec
        if s.powerdown and self._rank_q[r] == 0:
            idle = self._idle_since[r]
            # precharged at d: every open bank closes by then (closed page: its auto-precharges,
            # still in the heap until _acct_to pops them, are past ones)
            closes = self._closes[r]
            if (self._nopen[r] == (sum(1 for x in closes if x <= d) if closes else 0)
                    and d > idle + s.self_refresh_timeout_cycles
                    and s.self_refresh_timeout_cycles >= s.powerdown_timeout_cycles):
                # in self-refresh: the rank refreshes itself; account it when it wakes
                self._ref_due[r] = d + s.tREFI
                return
            self._rank_busy(r, d)
        self._ref_pending[r] = True

    # @cython.locals(s=_Spec, ch=cython.longlong, t=cython.longlong, row_free=cython.longlong, col_free=cython.longlong, base=cython.longlong, nra=cython.longlong, bpr=cython.longlong, r=cython.longlong, w=cython.longlong, ready=cython.longlong, gb=cython.longlong, e=cython.longlong, cap=cython.longlong, starve=cython.longlong, n=cython.longlong, rr=cython.longlong, lb=cython.longlong, orow=cython.longlong, aged_at=cython.longlong, eh=cython.longlong, to=cython.longlong, c=cython.longlong, sq=cython.longlong, be=cython.longlong, bc=cython.longlong, bs=cython.longlong, bk=cython.longlong, bg=cython.longlong, any_open=cython.bint, found=cython.bint, chan=_Chan, head=_Req, hit=_Req, x=_Req, q=list, open_=cython.longlong[::1], next_pre=cython.longlong[::1], next_act=cython.longlong[::1], rank_of=cython.longlong[::1], wake=cython.longlong[::1], bq=list, hits=cython.longlong[::1])
    def _pick(self, ch: int, t: int):
        """The next command of channel ``ch`` at or after cycle ``t``: (cycle, class,
        seq, kind, bank, request) or None. Pure: changes nothing.

        The candidates are ranked by their key (cycle, class, seq), least first, as tuples
        compare; the best so far is kept in scalars (``be``, ``bc``, ``bs``: its key; ``bk``,
        ``bg``, ``breq``: its kind, bank and request), a candidate (e, c, sq) replacing it
        when e < be, or e == be and (c < bc, or c == bc and sq < bs). A refresh's PRE or REF,
        keyed (e, 0, 0) and ranked first, and an idle precharge, keyed (e, 3, 0) and ranked last,
        replace it only when e < be."""
        s = self.spec
        chan = self._ch[ch]
        found = False
        be = bc = bs = bk = bg = 0
        breq = None
        row_free = chan.row_free if chan.row_free > t else t
        col_free = chan.col_free if chan.col_free > t else t
        open_, next_pre, next_act = self._open, self._next_pre, self._next_act
        rank_of, wake = self._rank_of, self._wake
        base = ch * self._bpc
        nra, bpr = s.ranks, s.banks_per_rank
        for r in range(ch * nra, ch * nra + nra):
            if not self._ref_pending[r]:
                continue
            w = wake[r] if wake[r] > row_free else row_free
            ready = w
            any_open = False
            for gb in range(r * bpr, r * bpr + bpr):
                if open_[gb] >= 0:
                    any_open = True
                    e = next_pre[gb] if next_pre[gb] > w else w
                    if not found or e < be:  # every candidate so far is keyed (cycle, 0, 0) here
                        found = True
                        be, bc, bs, bk, bg, breq = e, 0, 0, _PRE, gb, None
                elif next_act[gb] > ready:
                    ready = next_act[gb]
            if not any_open and (not found or ready < be):
                found = True
                be, bc, bs, bk, bg, breq = ready, 0, 0, _REF, r, None
        cap, starve = s.row_hit_cap, s.starvation_cycles
        bq = chan.bq
        # round robin among the banks' commands ready at the same cycle: the scan starts at the bank
        # after the last one served (DRAMsim3 CommandQueue::GetCommandToIssue); (lb - rr) % n
        # below is that position (the last bank served last); within a bank its PRE before its hit
        n = self._bpc
        rr = chan.rr + 1
        hits = self._hits
        # the busy banks (``chan.active``: those whose command queue holds a request), read from the queues
        # in bank order: the keys tell any two banks' candidates apart, so the order picks nothing
        for lb in range(n):
            q = bq[lb]
            if not q:
                continue
            gb = base + lb
            r = rank_of[gb]
            if self._ref_pending[r]:
                continue
            head = q[0]
            orow = open_[gb]
            # aging is judged at the command's own cycle e (the head has waited e - queued cycles
            # then), not at the decision time t: t depends on when the channel happens to wake
            # (the plain and the fast scheduler wake at different times)
            aged_at = head.queued + starve
            if orow < 0:
                e = self._act_ready(gb, r, row_free)
                if e >= aged_at:
                    c, sq = 0, head.seq
                else:
                    c, sq = 2, 2 * ((lb - rr) % n)
                if not found or e < be or (e == be and (c < bc or (c == bc and sq < bs))):
                    found = True
                    be, bc, bs, bk, bg, breq = e, c, sq, _ACT, gb, head
                continue
            if head.row == orow:
                e = self._col_ready(ch, gb, r, head.write, col_free)
                if e >= aged_at:
                    c, sq = 0, head.seq
                else:
                    c, sq = 2, 2 * ((lb - rr) % n) + 1
                if not found or e < be or (e == be and (c < bc or (c == bc and sq < bs))):
                    found = True
                    be, bc, bs, bk, bg, breq = e, c, sq, (_WR if head.write else _RD), gb, head
                continue
            # the head wants another row: younger row hits go first; once the row has served
            # row_hit_cap column commands the head's PRE competes with them (and wins a tie, being
            # older); an aged head stops the hits: a hit only before the head's aging cycle, the
            # PRE (without a hit ahead of it) from then on
            hit = None
            for x in q:
                if x.row == orow:
                    hit = x
                    break
            w = wake[r] if wake[r] > row_free else row_free
            e = next_pre[gb] if next_pre[gb] > w else w
            if hit is not None:
                eh = self._col_ready(ch, gb, r, hit.write, col_free)
                if eh < aged_at:
                    sq = 2 * ((lb - rr) % n) + 1
                    if not found or eh < be or (eh == be and (2 < bc or (2 == bc and sq < bs))):
                        found = True
                        be, bc, bs, bk, bg, breq = eh, 2, sq, (_WR if hit.write else _RD), gb, hit
                if hits[gb] < cap and e < aged_at:
                    e = aged_at  # the PRE waits for the hits to stop
            if e >= aged_at:
                c, sq = 0, head.seq
            else:
                c, sq = 2, 2 * ((lb - rr) % n)
            if not found or e < be or (e == be and (c < bc or (c == bc and sq < bs))):
                found = True
                be, bc, bs, bk, bg, breq = e, c, sq, _PRE, gb, head
        if chan.idle_open:
            to = s.page_timeout_cycles
            for lb in chan.idle_open:
                gb = base + lb
                r = rank_of[gb]
                if self._ref_pending[r]:
                    continue
                e = self._last_use[gb] + to
                if next_pre[gb] > e:
                    e = next_pre[gb]
                if row_free > e:
                    e = row_free
                if s.powerdown and e >= self._idle_since[r] + s.powerdown_timeout_cycles and not self._rank_q[r]:
                    continue  # the rank powers down first; the row stays open in active power-down
                if not found or e < be:  # (e, 3, 0) comes after every key of its cycle: classes are 0, 2, 3
                    found = True
                    be, bc, bs, bk, bg, breq = e, 3, 0, _PRE, gb, None
        return (be, bc, bs, bk, bg, breq) if found else None

    # @cython.locals(s=_Spec, gb=cython.longlong, r=cython.longlong, t=cython.longlong, e=cython.longlong, x=cython.longlong)
    def _act_ready(self, gb: int, r: int, t: int) -> int:
        s = self.spec
        e = self._next_act[gb]
        if t > e:
            e = t
        x = self._last_act[r] + s.tRRD_S
        if x > e:
            e = x
        x = self._last_act_bg[self._rbg_of[gb]] + s.tRRD_L
        if x > e:
            e = x
        faw = self._faw[r]
        if len(faw) == 4:
            x = faw[0] + s.tFAW
            if x > e:
                e = x
        x = self._wake[r]
        return x if x > e else e

    # @cython.locals(s=_Spec, ch=cython.longlong, gb=cython.longlong, r=cython.longlong, t=cython.longlong, rbg=cython.longlong, e=cython.longlong, x=cython.longlong, bus=cython.longlong, y=cython.longlong, write=cython.bint)
    def _col_ready(self, ch: int, gb: int, r: int, write: bool, t: int) -> int:
        s = self.spec
        rbg = self._rbg_of[gb]
        e = self._col_ok[gb]
        if t > e:
            e = t
        x = self._last_col[r] + s.tCCD_S
        if x > e:
            e = x
        x = self._last_col_bg[rbg] + s.tCCD_L
        if x > e:
            e = x
        bus = self._bus_end[ch]
        if write:
            if self._bus_rank[ch] != r or not self._bus_write[ch]:
                bus += s.tRTRS
            x = bus - s.WL
        else:
            if self._bus_rank[ch] != r:
                bus += s.tRTRS
            x = bus - s.RL
            y = self._wr_end[r] + s.tWTR_S
            if y > x:
                x = y
            y = self._wr_end_bg[rbg] + s.tWTR_L
            if y > x:
                x = y
        if x > e:
            e = x
        x = self._wake[r]
        return x if x > e else e

    # @cython.locals(s=_Spec, ch=cython.longlong, e=cython.longlong, kind=cython.longlong, gb=cython.longlong, r=cython.longlong, rbg=cython.longlong, lb=cython.longlong, end=cython.longlong, data_end=cython.longlong, x=cython.longlong, n=cython.longlong, bc=cython.longlong, b=cython.longlong, chan=_Chan, q=list, cv=cython.longlong[::1], req=_Req, y=_Req)
    def _issue(self, ch: int, cand: tuple) -> None:
        s = self.spec
        e, _cls, _seq, kind, gb, req = cand
        chan = self._ch[ch]
        cv = self._cv
        if kind == _RD or kind == _WR:
            if self._hbm:
                chan.col_free = e + 1
            else:
                chan.col_free = chan.row_free = e + 1
        else:
            if self._hbm:
                chan.row_free = e + 1
            else:
                chan.col_free = chan.row_free = e + 1
        if kind == _REF:
            r = gb
            self._acct_to(r, e)
            end = e + s.tRFC
            for b in range(r * s.banks_per_rank, (r + 1) * s.banks_per_rank):
                self._next_act[b] = end
            self._ref_due[r] += s.tREFI
            self._ref_pending[r] = False
            cv[_N_REF] += 1
            self._log_cmd(e, ch, r * s.banks_per_rank, _REF, -1, -1)
            self._rank_activity(r, end)
            return
        r = self._rank_of[gb]
        self._acct_to(r, e)
        if req is not None:
            chan.rr = req.lb
        if kind == _PRE:
            self._close(ch, gb, e, True, req is not None)  # (positional: a C call; with a keyword, a Python one)
            if req is None and self._rank_q[r] == 0:
                self._rank_activity(r, e)
            return
        rbg = self._rbg_of[gb]
        if kind == _ACT:
            self._open[gb] = req.row
            self._act_t[gb] = e
            self._next_pre[gb] = e + s.tRAS
            self._col_ok[gb] = e + s.tRCD
            self._hits[gb] = 0
            self._last_act[r] = e
            self._last_act_bg[rbg] = e
            self._faw[r].append(e)
            self._nopen[r] += 1
            cv[_N_ACT] += 1
            self._log_cmd(e, ch, gb, _ACT, req.row, -1)
            return
        # column command
        lb = req.lb
        q = chan.bq[lb]
        q.remove(req)
        chan.nq -= 1
        self._rank_q[r] -= 1
        if not q:
            chan.active.discard(lb)
        bc = s.burst_cycles
        if kind == _WR:
            data_end = e + s.WL + bc
            self._wr_end[r] = data_end
            self._wr_end_bg[rbg] = data_end
            x = data_end + s.tWR
            cv[_N_WR] += 1
            n = chan.wpend[req.q] - 1
            if n:
                chan.wpend[req.q] = n
            else:
                del chan.wpend[req.q]
        else:
            chan.nreads -= 1
            self._read_left(chan, req.txn, req)
            data_end = e + s.RL + bc
            x = e + s.AL + s.tRTP
            cv[_N_RD] += 1
        if x > self._next_pre[gb]:
            self._next_pre[gb] = x
        self._last_col[r] = e
        self._last_col_bg[rbg] = e
        self._bus_end[ch] = data_end
        self._bus_rank[ch] = r
        self._bus_write[ch] = kind == _WR
        self._last_use[gb] = e
        self._hits[gb] += 1
        cv[_N_BURSTS] += 1
        cv[BUSY_PS] += bc * self._tck
        if self._hits[gb] > 1:
            cv[_N_ROW_HITS] += 1
        elif self._conflict[gb]:
            cv[_N_ROW_CONFLICTS] += 1
        else:
            cv[_N_ROW_MISSES] += 1
        self._log_cmd(e, ch, gb, kind, req.row, req.col)
        self._rank_activity(r, data_end if kind == _RD else x)
        if kind == _RD:
            self._done(req.txn, data_end)
        if self._policy == "closed":
            for y in q:
                if y.row == req.row:
                    break
            else:  # no request of its row left in the queue
                self._auto_close(ch, gb)
        elif self._policy == "adaptive" and not q:
            chan.idle_open.add(lb)
        self._pool.append(req)  # served: reused by _Req.run
        self._fill(ch, e, lb)

    # @cython.locals(s=_Spec, ch=cython.longlong, gb=cython.longlong, t=cython.longlong, r=cython.longlong, act_t=cython.longlong, lb=cython.longlong, na=cython.longlong, x=cython.longlong, chan=_Chan)
    def _close(self, ch: int, gb: int, t: int, on_bus: bool = True, conflict: bool = False) -> None:
        """Precharge bank ``gb`` at cycle ``t``."""
        s = self.spec
        r = self._rank_of[gb]
        act_t = self._act_t[gb]
        self._log_cmd(t, ch, gb, _PRE, self._open[gb], -1)
        chan = self._ch[ch]
        lb = gb - ch * self._bpc
        self._conflict[gb] = conflict  # a PRE for a queued request that wants another row
        self._open[gb] = -1
        na = t + s.tRP
        x = act_t + s.tRC
        self._next_act[gb] = na if na > x else x
        chan.idle_open.discard(lb)
        if on_bus:
            self._acct_to(r, t)
            self._nopen[r] -= 1
        else:
            heapq.heappush(self._closes[r], t)
        self._cv[_N_PRE] += 1

    def _auto_close(self, ch: int, gb: int) -> None:
        """Closed page: auto-precharge at the earliest legal cycle (no command slot)."""
        t = self._next_pre[gb]
        self._close(ch, gb, t, False)  # not on the bus (positional: a C call)
        r = self._rank_of[gb]
        self._rank_activity(r, t)

    # -- command log ---------------------------------------------------------------------
    # @cython.locals(n=cython.longlong, buf=cython.longlong[:, ::1])
    def _log_cmd(self, t: int, ch: int, gb: int, cmd: int, row: int, col: int, flush: bool = True) -> None:
        """Log one command; when enough are gathered, pack them and hand a chunk on once enough
        are packed (:meth:`_flush_log`; unless ``flush`` is false: a caller in the middle of a
        batch flushes at its end)."""
        n = self._nlog
        if n == len(self._logarr):
            self._log_room(1)
        buf = self._logbuf
        buf[n, 0] = t
        buf[n, 1] = ch
        buf[n, 2] = gb
        buf[n, 3] = cmd
        buf[n, 4] = row
        buf[n, 5] = col
        self._nlog = n + 1
        if flush and n + 1 >= _LOG_CHUNK and (self._sink is not None or self.record_commands):
            self._flush_log(final=False)

    # @cython.locals(it=_Req, i=cython.longlong, n=cython.longlong, x=cython.longlong, d=cython.longlong, k=cython.longlong, rd=cython.longlong, spaced=cython.bint, own=cython.bint, buf=cython.longlong[:, ::1], served=list)
    def _log_rds(self, times, ch: int, served: list[_Req]) -> None:
        """Log the RDs of a batch: at ``times`` (a ``range``: a batch of one bank, every step
        cycles; a list; or None: each request's ``rd``, as a batch of two banks sets it), the i-th
        serving ``served[i]`` (an RD of its request's bank, row and column; the caller flushes at
        the end of its run). A range's times are worked out as C integers, without an int object
        per RD."""
        n = self._nlog
        if n + len(served) > len(self._logarr):
            self._log_room(len(served))
        buf = self._logbuf
        rd = _RD
        spaced = type(times) is range
        own = times is None
        if spaced:  # x: the time before the first, stepped by d
            d = times.step
            x = times.start - d
        k = len(served) if own else len(times)
        for i in range(k):
            it = served[i]
            if spaced:
                x += d
            elif own:
                x = it.rd
            else:
                x = times[i]
            buf[n + i, 0] = x
            buf[n + i, 1] = ch
            buf[n + i, 2] = it.gb
            buf[n + i, 3] = rd
            buf[n + i, 4] = it.row
            buf[n + i, 5] = it.col
        self._nlog = n + k

    def _log_room(self, k: int) -> None:
        """Grow the log buffer to hold ``k`` more rows (at least doubling it)."""
        n = self._nlog
        grown = np.empty((max(2 * len(self._logarr), n + k), 6), dtype=np.int64)
        grown[:n] = self._logarr[:n]
        self._logarr = self._logbuf = grown

    def _log_rows(self) -> np.ndarray:
        """The log not yet packed, as int64 rows (cycle, channel, global bank, command, row,
        column) in issue order (a copy: the buffer is reused)."""
        return self._logarr[:self._nlog].copy()

    def _safe_cycle(self) -> int:
        """Cycles below this are complete in the log: every later command is logged at or
        after its channel's decision cycle, and a power-down entry not yet logged at or
        after its rank's idle start."""
        t = min(c.cyc for c in self._ch)
        if self.spec.powerdown:
            for r, n in enumerate(self._rank_q):
                if n == 0 and self._idle_since[r] < t:
                    t = self._idle_since[r]
        return t

    def _flush_log(self, *, final: bool) -> None:
        """Pack the rows gathered in the lists; once ``_HAND_ROWS`` rows are packed (or at the end,
        ``final``), hand on those before the safe cycle (all of them at the end), sorted by cycle
        (a stable sort: rows of one cycle in issue order), and keep the rest packed."""
        packed = self._packed
        if self._nlog:
            packed.append(self._log_rows())
            self._nlog = 0
        n = 0
        for part in packed:
            n += len(part)
        if not n or (n < _HAND_ROWS and not final):
            return
        rec = np.concatenate(packed)
        t = rec[:, 0]
        if not (t[1:] >= t[:-1]).all():  # (the rows are most often in cycle order already)
            rec = rec[np.argsort(t, kind="stable")]
        if final:
            out, keep = rec, rec[:0]
        else:
            cut = int(np.searchsorted(rec[:, 0], self._safe_cycle(), side="left"))
            out, keep = rec[:cut], rec[cut:]
        self._packed = [keep] if len(keep) else []
        if not len(out):
            return
        if self._sink is not None:
            self._sink(out)
        if self.record_commands:
            self._kept.append(out)

    def add_command_sink(self, sink: Callable[[np.ndarray], None]) -> None:
        """Also hand ``sink`` every chunk of the command log (the rows the run's timing
        checker gets: int64 (cycle, channel, global bank, command, row, column), sorted
        by cycle). For read-only observers such as the Perfetto timeline."""
        first = self._sink
        if first is None:
            self._sink = sink
            return

        def tee(rows: np.ndarray) -> None:
            first(rows)
            sink(rows)

        self._sink = tee

    # -- results -----------------------------------------------------------------------
    def command_records(self) -> np.ndarray:
        """The kept command log as int64 rows (cycle, channel, global bank, command, row,
        column), sorted by cycle."""
        if not self.record_commands:
            raise ConfigError(
                "the command log was not recorded; construct Dram(..., record_commands=True)",
                key="record_commands",
            )
        parts = list(self._kept) + self._packed
        if self._nlog:
            parts.append(self._log_rows())
        if not parts:
            return np.zeros((0, 6), np.int64)
        rec = np.concatenate(parts)
        return rec[np.argsort(rec[:, 0], kind="stable")]

    def command_log(self) -> pd.DataFrame:
        """Every command issued, sorted by time: time_ps, cycle, channel, rank,
        bankgroup, bank (within its bank group; -1 for rank commands REF, PDE, PDX, SRE,
        SRX), command, row (-1 unless ACT/PRE/RD/WR), column (burst index within the
        row; -1 unless RD/WR)."""
        return records_frame(self.command_records(), self.spec)

    def finalize(self, end_ps: int) -> None:
        """Serve what is still queued (posted writes), commit the refreshes due up to the
        end, account the power states and hand the rest of the command log on."""
        s = self.spec
        end = -(-end_ps // s.tck_ps)
        for ch, chan in enumerate(self._ch):
            self._advance(ch, end)
            # first the commands still due for queued requests (issued lazily, without a wake),
            # then drain the write buffer and anything still waiting
            while chan.nq:
                nxt = self._advance(ch, chan.cyc)
                if nxt >= _INF:
                    break
                self._advance(ch, nxt + 1)
            guard = 0
            while chan.offers or chan.nrq or chan.nwb or chan.nq:
                if chan.nwb and not chan.drain:
                    chan.drain = chan.nwb
                    self._cv[_N_WRITE_DRAINS] += 1
                    for lb, src in enumerate(chan.wbb):
                        while src and len(chan.bq[lb]) < s.command_queue_depth and chan.drain:
                            self._enqueue(chan, src.popleft(), chan.cyc)
                            chan.nwb -= 1
                            chan.drain -= 1
                    if not chan.drain:
                        self._drain_done(chan, chan.cyc)
                self._fill(ch, chan.cyc)
                nxt = self._advance(ch, chan.cyc)
                if nxt >= _INF:
                    break
                self._advance(ch, nxt + 1)
                guard += 1
                if guard > 10**8:  # pragma: no cover
                    raise SimulationError(f"{self.name}: the queues did not drain")
        last = max([end, self._end_cycle] + [c.cyc for c in self._ch])
        last = max(last, max(self._bus_end) if len(self._bus_end) else 0)
        for ch in range(s.channels):
            self._advance(ch, last)
        for r in range(len(self._acct)):
            if self._rank_q[r] == 0 and s.powerdown and last > self._idle_since[r] + s.powerdown_timeout_cycles:
                self._rank_sleep_to_end(r, last)
            self._acct_to(r, last)
        self._end_cycle = last
        self._finalized = True
        self._flush_log(final=True)

    @property
    def end_cycle(self) -> int:
        return self._end_cycle

    def background_cycles(self) -> dict[str, int]:
        """Cycles summed over ranks spent in each of BACKGROUND_STATES (after finalize)."""
        tot = [0] * 5
        for a in self._acct:
            for i in range(5):
                tot[i] += a[i]
        return dict(zip(BACKGROUND_STATES, tot))

    def energy_pj(self) -> dict[str, float]:
        """Energy in pJ by action (see the module docstring for the formulas)."""
        s = self.spec
        c = self.stats.c
        k = s.VDD * s.tck_ns * s.devices_per_rank  # pJ per (mA x cycle)
        act = (s.IDD0 * s.tRC - s.IDD3N * s.tRAS - s.IDD2N * s.tRP) * k
        rd = (s.IDD4R - s.IDD3N) * s.burst_cycles * k
        wr = (s.IDD4W - s.IDD3N) * s.burst_cycles * k
        ref = (s.IDD5AB - s.IDD3N) * s.tRFC * k
        bits = c["bursts"] * s.request_bytes * 8
        bg = self.background_cycles()
        cur = {"active_standby": s.IDD3N, "precharge_standby": s.IDD2N, "active_powerdown": s.IDD3P,
               "precharge_powerdown": s.IDD2P, "self_refresh": s.IDD6}
        out = {
            "activate": c["act"] * act,
            "read": c["rd"] * rd,
            "write": c["wr"] * wr,
            "refresh": c["ref"] * ref,
            "io": bits * s.io_energy_pj_per_bit,
        }
        for state in BACKGROUND_STATES:
            out[f"background_{state}"] = bg[state] * cur[state] * k
        return out

    def __repr__(self) -> str:
        s = self.spec
        return (
            f"Dram({self.name!r}, {s.preset}, {s.channels} ch x {s.ranks} ranks x {s.banks_per_rank} banks, "
            f"tCK {s.tck_ps} ps, {s.page_policy} page, peak {s.peak_bandwidth_gb_per_s:.1f} GB/s)"
        )


#: positions of the DRAM's own statistics in its counters (tlmsim.engine.stats.Counters)
(_N_ACT, _N_PRE, _N_RD, _N_WR, _N_REF, _N_BURSTS, _N_ROW_HITS, _N_ROW_MISSES, _N_ROW_CONFLICTS, _N_FORWARDED_READS,
 _N_MERGED_WRITES, _N_WRITE_DRAINS, _N_POWERDOWNS, _N_SELF_REFRESHES) = stat_positions(
    Dram.STATS, "act", "pre", "rd", "wr", "ref", "bursts", "row_hits", "row_misses", "row_conflicts", "forwarded_reads",
    "merged_writes", "write_drains", "powerdowns", "self_refreshes")


def records_frame(rec: np.ndarray, s) -> pd.DataFrame:
    """Command-log rows (cycle, channel, global bank, command, row, column) as the
    DataFrame of :meth:`Dram.command_log`."""
    import pandas as pd  # here, not at the top: a run does not call this (issue 17, its import)

    cyc, ch, gb, cmd, row, col = (rec[:, i] for i in range(6))
    b = gb % s.banks_per_rank
    rank_cmd = (cmd == _REF) | (cmd >= _PDE)
    return pd.DataFrame(
        {
            "time_ps": cyc * s.tck_ps,
            "cycle": cyc,
            "channel": ch,
            "rank": (gb // s.banks_per_rank) % s.ranks,
            "bankgroup": np.where(rank_cmd, -1, b // s.banks_per_group),
            "bank": np.where(rank_cmd, -1, b % s.banks_per_group),
            "command": pd.Categorical.from_codes(cmd, categories=list(COMMAND_NAMES)),
            "row": row,
            "column": col,
        }
    )


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build itself is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.hw.dram":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
