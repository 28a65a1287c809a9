"""Streaming transaction trace: one CSV row per transaction per hop.

Rows are buffered in small batches and written as they come, so a run never holds
its trace in memory. The file is written under a temporary name and renamed when
the run completes: a crashed or interrupted run leaves no half-written trace that
looks complete.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tlmsim.engine.transaction import Cmd, DataClass

if TYPE_CHECKING:
    from tlmsim.engine.transaction import Transaction

#: trace labels by member (``label`` is a property: looked up once here, not per row)
_CMD_LABEL = {c: c.label for c in Cmd}
_DC_LABEL = {d: d.label for d in DataClass}

TRACE_COLUMNS = (
    "txn_id",
    "component",
    "command",
    "data_class",
    "address",
    "bytes",
    "layer",
    "tile",
    "start_ps",
    "end_ps",
    "wait_ps",
)

_FLUSH_ROWS = 8192


class TraceSink(Protocol):
    """What the :class:`~tlmsim.engine.recorder.Recorder` feeds a trace output."""

    def hop(self, txn: "Transaction", component: str, start_ps: int, end_ps: int, wait_ps: int,
            busy_ps: float) -> None:
        """One hop of ``txn`` served by ``component`` from ``start_ps`` to ``end_ps``
        (``wait_ps`` of it waiting; ``busy_ps``: the component's busy time it added)."""

    def stall(self, component: str, reason: str, layer: int, start_ps: int, end_ps: int) -> None:
        """``component`` waited from ``start_ps`` to ``end_ps`` for ``reason`` (not called on a sink
        whose class sets ``timed_stalls = False``: :attr:`Recorder.stall_sinks`)."""

    def tail(self, component: str, start_ps: int, busy_ps: float) -> None:
        """``component`` was busy ``busy_ps`` after its last hop (work finished after the
        run's last transaction, e.g. posted writes drained), from ``start_ps`` on."""

    def close(self) -> None:
        """The run completed: finish the output."""

    def abort(self) -> None:
        """The run failed: drop the partial output."""


class TraceWriter:
    """Writes trace rows to ``path`` (CSV, header :data:`TRACE_COLUMNS`)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._tmp = self.path.with_name(self.path.name + ".partial")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self._tmp, "w", newline="")
        self._writer = csv.writer(self._fh, lineterminator="\n")
        self._writer.writerow(TRACE_COLUMNS)
        self._rows: list[tuple] = []
        self.rows_written = 0

    def hop(self, txn: "Transaction", component: str, start_ps: int, end_ps: int, wait_ps: int,
            busy_ps: float) -> None:
        rows = self._rows
        rows.append((txn.id, component, _CMD_LABEL[txn.cmd], _DC_LABEL[txn.data_class], txn.address,
                     txn.nbytes, txn.layer, txn.tile, start_ps, end_ps, wait_ps))
        if len(rows) >= _FLUSH_ROWS:
            self._flush()

    def stall(self, component: str, reason: str, layer: int, start_ps: int, end_ps: int) -> None:
        """Stalls are not part of the CSV trace (they are in stalls.csv)."""

    def tail(self, component: str, start_ps: int, busy_ps: float) -> None:
        """Busy time after the last hop is not a transaction: not part of the CSV trace."""

    def row(self, row: tuple) -> None:
        """Queue one row (a tuple in :data:`TRACE_COLUMNS` order)."""
        self._rows.append(row)
        if len(self._rows) >= _FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        self._writer.writerows(self._rows)
        self.rows_written += len(self._rows)
        self._rows.clear()

    def close(self) -> None:
        """Finish the file and move it to its final name."""
        if self._fh.closed:
            return
        self._flush()
        self._fh.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drop the partial file (the run failed)."""
        discard_partial(self._fh, self._tmp)


def discard_partial(fh, tmp: Path) -> None:
    """Close ``fh`` and delete the partial file ``tmp`` it was writing (a failed run
    leaves nothing beside the output path)."""
    if not fh.closed:
        fh.close()
    if tmp.exists():
        tmp.unlink()


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.engine.trace":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
