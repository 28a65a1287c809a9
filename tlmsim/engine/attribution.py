"""Per-layer attribution of every component's counters (the basis of per-layer energy).

:class:`LayerCounters` is a trace sink (:class:`~tlmsim.engine.trace.TraceSink`) that
:func:`~tlmsim.soc.run.simulate` always attaches. Rule: the counters a
component adds between two of its hops go with the later hop's layer (the same rule
that hands each hop its share of ``busy_ps``); what it adds after its last hop
(:meth:`~tlmsim.engine.component.Component.finalize`: posted DRAM writes drained,
refreshes up to the end) goes with the layer of its last hop. A hop of no layer
(layer -1) goes with the layer of the hop seen before it (any component).

The counters of one component summed over layers equal its final counters exactly
(integers; float counters up to their own rounding). Components that count when they
serve a hop (SRAM, NoC, PE array) are attributed exactly; the DRAM counts its commands
when its scheduler issues them, so near a layer boundary a command can go with the
neighbouring layer's hop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tlmsim.engine.transaction import Transaction


class LayerCounters:
    """Counter deltas per (component, layer); read with :meth:`by_layer` after the run."""

    def __init__(self) -> None:
        self._stats: dict[str, dict] = {}  # component -> its live counter dict
        self._values: dict[str, object] = {}  # component -> a live view of its counter values
        self._seen: dict[str, tuple] = {}  # component -> counter values at its previous hop
        #: component -> counter values at the start of its current run of same-layer hops
        self._run_start: dict[str, tuple] = {}
        self._acc: dict[tuple[str, int], list] = {}  # (component, layer) -> summed deltas
        self._last_layer: dict[str, int] = {}  # component -> the layer of its current run
        self._layer = -1  # the layer of the latest hop of any component

    # -- the sink interface ----------------------------------------------------------
    def attach(self, *, components: dict, **_) -> None:
        for name, comp in components.items():
            c = comp.stats.c
            self._stats[name] = c
            self._values[name] = c.values()
            self._seen[name] = self._run_start[name] = tuple(c.values())

    #: a hop needs only its layer here: the recorder may call :meth:`hop_layer` instead of
    #: :meth:`hop`, without building a Transaction (:meth:`Recorder.booked`)
    layer_only = True

    def hop(self, txn: Transaction, component: str, start_ps: int, end_ps: int, wait_ps: int,
            busy_ps: float) -> None:
        self.hop_layer(component, txn.layer)

    def hop_layer(self, component: str, layer: int) -> None:
        """:meth:`hop` of a hop of ``layer`` served by ``component``."""
        # Counters added between two hops of a component go with the later hop's layer, so
        # a run of same-layer hops owns (values at its last hop) - (values at the hop before
        # the run): the deltas are summed only when the component's layer changes (and at
        # the end), with integer counters the same sums as hop by hop.
        if layer < 0:
            layer = self._layer
        else:
            self._layer = layer
        now = tuple(self._values[component])
        if self._last_layer.get(component) != layer:
            prev = self._seen[component]
            if component in self._last_layer:
                self._fold(component, self._last_layer[component], prev)
            self._run_start[component] = prev
            self._last_layer[component] = layer
            self._acc.setdefault((component, layer), [0] * len(now))
        self._seen[component] = now

    def _fold(self, component: str, layer: int, upto: tuple) -> None:
        """Add the deltas of ``component``'s current run (to ``upto``) to ``layer``."""
        acc = self._acc[(component, layer)]
        for i, (a, b) in enumerate(zip(upto, self._run_start[component])):
            if a != b:
                acc[i] += a - b

    def stall(self, component: str, reason: str, layer: int, start_ps: int, end_ps: int) -> None:
        pass

    def tail(self, component: str, start_ps: int, busy_ps: float) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    # -- results -------------------------------------------------------------------------
    def by_layer(self, component: str, last_layer: int) -> dict[int, dict[str, float]]:
        """``{layer: {counter: delta}}`` of ``component`` after the run (its counters
        after ``finalize``); counts after its last hop go with that hop's layer, or with
        ``last_layer`` when it recorded no hop."""
        c = self._stats[component]
        names = list(c)
        if component in self._last_layer:  # close the current run (idempotent: it restarts at the fold)
            self._fold(component, self._last_layer[component], self._seen[component])
            self._run_start[component] = self._seen[component]
        out = {layer: dict(zip(names, acc)) for (comp, layer), acc in self._acc.items() if comp == component}
        rest = [a - b for a, b in zip(c.values(), self._seen[component])]
        if any(rest):
            layer = self._last_layer.get(component, last_layer)
            row = out.setdefault(layer, dict.fromkeys(names, 0))
            for k, v in zip(names, rest):
                row[k] += v
        return out
