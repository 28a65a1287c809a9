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


class _Comp:
    """One component's attribution state."""

    __slots__ = ("stats", "vals", "seen", "run_start", "layer", "acc")

    def __init__(self, c) -> None:
        self.stats = c  # its live counters (tlmsim.engine.stats.Counters, or any mapping)
        #: the live values in order (Counters.v: a copy is one slice, a memcpy in C), or None for a plain mapping
        self.vals = getattr(c, "v", None)
        # its values (in order) at its previous hop / at its run's start
        self.seen = self.run_start = self.snapshot()
        self.layer: int | None = None  # the layer of its current run of same-layer hops (None: no hop yet)
        self.acc: dict[int, list] = {}  # layer -> summed deltas

    def snapshot(self):
        """The counters' values now, in order."""
        vals = self.vals
        return vals[:] if vals is not None else list(self.stats.values())


class LayerCounters:
    """Counter deltas per (component, layer); read with :meth:`by_layer` after the run."""

    def __init__(self) -> None:
        self._comps: dict[str, _Comp] = {}
        self._layer = -1  # the layer of the latest hop of any component

    # -- the sink interface ----------------------------------------------------------
    def attach(self, *, components: dict, **_) -> None:
        for name, comp in components.items():
            self._comps[name] = _Comp(comp.stats.c)

    #: a hop needs only its layer here: the recorder may call :meth:`hop_layer` instead of
    #: :meth:`hop`, without building a Transaction (:meth:`Recorder.booked`)
    layer_only = True

    def hop(self, txn: Transaction, component: str, start_ps: int, end_ps: int, wait_ps: int,
            busy_ps: float) -> None:
        self.hop_layer(component, txn.layer)

    # @cython.locals(st=_Comp)
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
        st = self._comps[component]
        vals = st.vals
        if st.layer != layer:
            prev = st.seen
            if st.layer is not None:
                self._fold(st, prev)
            st.run_start = prev
            st.layer = layer
            if layer not in st.acc:
                st.acc[layer] = [0] * len(prev)
            st.seen = st.snapshot()  # a new copy: the old one is now the run's start
        elif vals is not None:
            st.seen[:] = vals  # the same layer: copied over the previous hop's values (run_start is another copy)
        else:
            st.seen = st.snapshot()

    @staticmethod
    # @cython.locals(st=_Comp)
    def _fold(st: _Comp, upto) -> None:
        """Add the deltas of the component's current run (to ``upto``, values in order) to its layer."""
        acc = st.acc[st.layer]
        for i, (a, b) in enumerate(zip(upto, st.run_start)):
            if a != b:
                acc[i] += a - b

    #: stalls are not counted here (the stall ledger splits them by layer): :meth:`stall` does
    #: nothing, and :meth:`Component.stall` does not call it (:attr:`Recorder.stall_sinks`)
    timed_stalls = False

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
        st = self._comps[component]
        c = st.stats
        names = list(c)
        if st.layer is not None:  # close the current run (idempotent: it restarts at the fold)
            self._fold(st, st.seen)
            st.run_start = st.seen[:]  # a copy: a later hop of the same layer writes over seen
        out = {layer: dict(zip(names, acc)) for layer, acc in st.acc.items()}
        rest = [a - b for a, b in zip(c.values(), st.seen)]
        if any(rest):
            layer = st.layer if st.layer is not None else last_layer
            row = out.setdefault(layer, dict.fromkeys(names, 0))
            for k, v in zip(names, rest):
                row[k] += v
        return out


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.engine.attribution":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
