"""The run's statistics recorder: component counters, stalls, data flows, trace.

One recorder per simulation run (no global state). Components register with it,
record every hop of every transaction they serve through :meth:`Component.record`,
and report stalls through :meth:`Component.stall`.

Trace sinks: every hop and every timed stall is handed to each of ``sinks`` (the
CSV :class:`~tlmsim.engine.trace.TraceWriter`, the Perfetto timeline writer, ...),
objects with the methods of :class:`~tlmsim.engine.trace.TraceSink`.
"""

from __future__ import annotations

import itertools
from array import array
from typing import TYPE_CHECKING, Iterable

from tlmsim.engine.stats import (
    BUSY_PS,
    READ_BYTES,
    READS,
    WRITE_BYTES,
    WRITES,
    StatDecl,
    Stats,
)
from tlmsim.engine.stats import StallLedger  # cimported by the .pxd
from tlmsim.engine.trace import TraceSink, TraceWriter
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.engine.transaction import Transaction  # cimported by the .pxd

if TYPE_CHECKING:
    from tlmsim.engine.component import Component

_COMPUTE, _READ, _WRITE = Cmd.COMPUTE, Cmd.READ, Cmd.WRITE
#: a data class's plain int (a dict lookup is about 6x cheaper than ``int()`` of an IntEnum member)
_DC_INT = {dc: int(dc) for dc in DataClass}


class Recorder:
    """Collects everything a run measures."""

    #: the instance attributes as slots (see tlmsim.engine.component.Component); ``__dict__`` for others
    __slots__ = (
        "__dict__", "__weakref__", "_chains", "_flow_slot", "_flow_v", "_flows", "completed", "components", "issued",
        "layer_sinks", "sinks", "stall_sinks", "stalls", "stats", "trace",
    )

    def __init__(self, *, trace: TraceWriter | None = None, sinks: Iterable[TraceSink] = ()) -> None:
        #: the CSV trace (also in ``sinks``), or None
        self.trace = trace
        #: every trace sink: each receives every hop and every timed stall
        self.sinks: list[TraceSink] = ([trace] if trace is not None else []) + list(sinks)
        #: when every sink needs only a hop's layer (``layer_only``: the per-layer
        #: attribution), their ``hop_layer`` methods: booked hops then build no
        #: Transaction object (:meth:`booked`); else None
        self.layer_sinks: list | None = (
            [s.hop_layer for s in self.sinks] if all(getattr(s, "layer_only", False) for s in self.sinks) else None
        )
        #: the sinks that take timed stalls (:meth:`Component.stall` hands them on): every sink but those
        #: whose ``stall`` does nothing (``timed_stalls = False``: the per-layer attribution), so a
        #: stall's time is not looked up for them alone
        self.stall_sinks: list = [s for s in self.sinks if getattr(s, "timed_stalls", True)]
        self.components: dict[str, "Component"] = {}
        self.stats: dict[str, Stats] = {}
        self.stalls = StallLedger()
        #: bytes moved per (source, destination, data class, layer): :attr:`flows` (which first adds
        #: the flow slots' bytes in)
        self._flows: dict[tuple[str, str, int, int], int] = {}
        #: flow slots (:meth:`flow_slot`): a key's index in ``_flow_v``, whose bytes are not yet in ``_flows``
        self._flow_slot: dict[tuple[str, str, int, int], int] = {}
        self._flow_v = array("q", bytes(8 * 16))
        self._chains = itertools.count()
        #: transactions created so far; also the next transaction's id
        self.issued = 0
        self.completed = 0

    @property
    def flows(self) -> dict[tuple[str, str, int, int], int]:
        """Bytes moved per (source, destination, data class, layer), up to now: the flow slots'
        bytes added in first (:meth:`_fold_flows`), so the dict is whole when read; a caller
        may change it."""
        return self._fold_flows()

    def _fold_flows(self) -> dict[tuple[str, str, int, int], int]:
        """Add the flow slots' bytes into the flows dict, empty the slots, return the dict (a
        method of its own: the property's body, which mutation testing would skip)."""
        v = self._flow_v
        flows = self._flows
        for key, i in self._flow_slot.items():
            n = v[i]
            if n:
                flows[key] = flows.get(key, 0) + n
                v[i] = 0
        return flows

    def flow_slot(self, key: tuple[str, str, int, int]) -> int:
        """The index of ``key``'s slot in ``_flow_v`` (made on first use): a caller that books a
        key's bytes again and again (the controller's block bookings) adds them there, one C
        addition in the compiled build, and :attr:`flows` adds them in when read (the same sums;
        the dict's order may differ, and nothing reads it in order)."""
        i = self._flow_slot.get(key)
        if i is None:
            i = len(self._flow_slot)
            if i == len(self._flow_v):  # a bigger array (the controller's typed view holds the old one only
                # while it books)
                grown = array("q", bytes(8 * 2 * i))
                old = self._flow_v
                for j in range(i):
                    grown[j] = old[j]
                self._flow_v = grown
            self._flow_slot[key] = i
        return i

    def register(self, component: "Component", decls: Iterable[StatDecl]) -> Stats:
        if component.name in self.components:
            raise ValueError(f"two components named {component.name!r}")
        self.components[component.name] = component
        stats = Stats(component.name, decls)
        self.stats[component.name] = stats
        return stats

    def new_transaction(
        self,
        cmd: Cmd,
        data_class: DataClass,
        address: int,
        nbytes: int,
        source: str,
        destination: str,
        *,
        now_ps: int,
        layer: int = -1,
        tile: int = -1,
        t_first: int = 0,
        t_last: int = 0,
        cycles: int = 0,
        chain: int = -1,
    ) -> Transaction:
        """Create a transaction with a fresh id, issued at ``now_ps``; ``chain`` groups
        the hops of one DMA block (see :meth:`new_chain`)."""
        i = self.issued
        self.issued = i + 1
        return Transaction(
            i, cmd, data_class, address, nbytes, source, destination,
            layer, tile, t_first, t_last, cycles, now_ps, chain=chain,
        )

    # @cython.locals(flows=dict)
    def booked(self, comp, cmd: Cmd, data_class: DataClass, address: int, nbytes: int, source: str,
               destination: str, start_ps: int, layer: int, tile: int, chain: int) -> int:
        """One timestamp-booked hop (``comp``: an SRAM or the NoC) in one call:
        :meth:`new_transaction` at ``start_ps``, ``comp.reserve`` (which records it) and
        :meth:`complete` at the end it returns; returns that end (ps). ``cmd`` is READ or
        WRITE. The controller's hot path. When no sink reads transactions
        (:attr:`layer_sinks`) and ``comp`` has ``book``, no Transaction object is built:
        ``comp.book`` and the counts here do the same bookings, counts and records,
        and the id is taken all the same (the ids of later transactions do not change)."""
        self.issued += 1
        hops = self.layer_sinks
        book = getattr(comp, "book", None) if hops is not None else None  # (a stand-in may have reserve only)
        if book is not None:  # no sink reads the transaction: none is built
            end = book(cmd, address, nbytes, source, destination, start_ps, layer)[0]
            # Component.record without a Transaction: the same counts and busy-time mark, and
            # each sink's hop_layer
            cv = comp.stats.c.v  # the counters' values (tlmsim.engine.stats.Counters)
            if cmd is _READ:
                cv[READS] += 1
                cv[READ_BYTES] += nbytes
            elif cmd is _WRITE:
                cv[WRITES] += 1
                cv[WRITE_BYTES] += nbytes
            if hops:
                comp._busy_seen = cv[BUSY_PS]
                name = comp.name
                for hop in hops:
                    hop(name, layer)
        else:
            txn = Transaction(self.issued - 1, cmd, data_class, address, nbytes, source, destination, layer, tile,
                              0, 0, 0, start_ps, -1, None, chain)
            end = comp.reserve(txn, start_ps)
            txn.done_ps = end
        self.completed += 1
        key = (source, destination, _DC_INT[data_class], layer)
        flows = self._flows
        flows[key] = flows.get(key, 0) + nbytes
        return end

    def new_chain(self) -> int:
        """A fresh chain id: the transactions that carry one block of data hop by hop
        (e.g. DRAM -> NoC -> GLB -> NoC -> L1) share it; the timeline joins them by a flow."""
        return next(self._chains)

    # @cython.locals(flows=dict)
    def complete(self, txn: Transaction, now_ps: int) -> None:
        """Mark ``txn`` finished at ``now_ps`` and account the bytes it moved."""
        txn.done_ps = now_ps
        self.completed += 1
        if txn.cmd is not _COMPUTE:
            key = (txn.source, txn.destination, _DC_INT[txn.data_class], txn.layer)
            flows = self._flows
            flows[key] = flows.get(key, 0) + txn.nbytes

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()

    def abort(self) -> None:
        """Drop every sink's partial output (the run failed)."""
        for sink in self.sinks:
            sink.abort()


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.engine.recorder":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
