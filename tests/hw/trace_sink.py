"""Shared by the hardware tests: a trace sink that keeps what the recorder hands it."""

from __future__ import annotations


class KeepingSink:
    """A trace sink that keeps its hops (transaction id, component, start, end, wait, busy)
    and timed stalls (component, reason, layer, start, end) as it is handed them."""

    def __init__(self):
        self.hops, self.stalls = [], []

    def hop(self, txn, component, start_ps, end_ps, wait_ps, busy_ps):
        self.hops.append((txn.id, component, start_ps, end_ps, wait_ps, busy_ps))

    def stall(self, component, reason, layer, start_ps, end_ps):
        self.stalls.append((component, reason, layer, start_ps, end_ps))

    def tail(self, *a):
        pass

    def close(self):
        pass
