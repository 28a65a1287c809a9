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


class ProbingSink(KeepingSink):
    """A trace sink that records ``probe()`` at the first hop of each command kind (``seen``: command
    name -> what the probe returned then), to see a run's process-wide settings from inside it;
    ``fail`` raises at the first compute."""

    def __init__(self, probe, fail: bool = False):
        super().__init__()
        self.probe, self.fail = probe, fail
        self.seen: dict = {}

    def hop(self, txn, component, start_ps, end_ps, wait_ps, busy_ps):
        self.seen.setdefault(txn.cmd.name, self.probe())
        if self.fail and txn.cmd.name == "COMPUTE":
            raise RuntimeError("sink failed")

    def abort(self):
        pass
