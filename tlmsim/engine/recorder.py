"""The run's statistics recorder: component counters, stalls, data flows, trace.

One recorder per simulation run (no global state). Components register with it,
record every hop of every transaction they serve through :meth:`Component.record`,
and report stalls through :meth:`Component.stall`.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Iterable

from tlmsim.engine.stats import StallLedger, StatDecl, Stats
from tlmsim.engine.trace import TraceWriter
from tlmsim.engine.transaction import Cmd, DataClass, Transaction

if TYPE_CHECKING:
    from tlmsim.engine.component import Component


class Recorder:
    """Collects everything a run measures."""

    def __init__(self, *, trace: TraceWriter | None = None) -> None:
        self.trace = trace
        self.components: dict[str, "Component"] = {}
        self.stats: dict[str, Stats] = {}
        self.stalls = StallLedger()
        #: bytes moved per (source, destination, data class, layer)
        self.flows: dict[tuple[str, str, int, int], int] = {}
        self._ids = itertools.count()
        self.issued = 0
        self.completed = 0

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
    ) -> Transaction:
        """Create a transaction with a fresh id, issued at ``now_ps``."""
        self.issued += 1
        return Transaction(
            next(self._ids), cmd, data_class, address, nbytes, source, destination,
            layer, tile, t_first, t_last, cycles, now_ps,
        )

    def complete(self, txn: Transaction, now_ps: int) -> None:
        """Mark ``txn`` finished at ``now_ps`` and account the bytes it moved."""
        txn.done_ps = now_ps
        self.completed += 1
        if txn.cmd != Cmd.COMPUTE:
            key = (txn.source, txn.destination, int(txn.data_class), txn.layer)
            self.flows[key] = self.flows.get(key, 0) + txn.nbytes

    def close(self) -> None:
        if self.trace is not None:
            self.trace.close()
