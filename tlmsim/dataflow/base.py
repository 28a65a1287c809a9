"""The dataflow interface: a layer becomes a plan of tiles.

A dataflow maps one layer onto the platform: which tensors live in an on-chip
level (e.g. the global buffer) for the whole layer, and a sequence of tiles, as a
:class:`~tlmsim.engine.plan.LayerPlan` (the plan types live in the kernel,
:mod:`tlmsim.engine.plan`). Tile cycles and operation counts are computed from the
actual spikes where the dataflow skips zeros. The controller turns the plan into
transactions; the dataflow never touches the hardware.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, ClassVar

from tlmsim.engine.plan import LayerPlan, LayerSummary, PlanSource

if TYPE_CHECKING:
    from tlmsim.platform import Platform
    from tlmsim.workload import Layer, Workload


def refuse_unplanned(layer: "Layer", dataflow: str) -> None:
    """A clear MappingError for the layer kinds the workload carries but no dataflow
    schedules yet: a recurrent identity layer (a neuron with no weights before it that
    reads its own spikes of the previous timestep)."""
    from tlmsim.errors import MappingError

    if layer.recurrent and layer.op != "linear":
        raise MappingError(f"layer {layer.name!r} is a recurrent {layer.op} layer (a neuron reading its own spikes "
                           f"of the previous timestep with no feed-forward weights); the {dataflow} dataflow "
                           "schedules recurrent linear layers only")


class Dataflow:
    """Base of the dataflows; subclasses implement :meth:`plan_layer`."""

    NAME: ClassVar[str] = ""

    def __init__(self, *, platform: "Platform", workload: "Workload") -> None:
        self.platform = platform
        self.workload = workload

    def plan_layer(self, layer: "Layer", input_level: int | None, tiles: Callable[[int], bool] | None = None,
                   ) -> LayerPlan | LayerSummary:
        """Plan ``layer``; ``input_level``: the SRAM level (0 = outermost) that already
        holds its input spikes, or None (they are in DRAM). ``tiles``: asked, with the number
        of tiles, before they are made; where it says no, the dataflow may return the plan's
        :class:`~tlmsim.engine.plan.LayerSummary` alone (with its ``tile_ranges``) instead of
        making the tiles (None: always the plan)."""
        raise NotImplementedError

    def plan(self) -> list[LayerPlan]:
        """Plan every layer in order, passing the level holding each layer's outputs to the next layer."""
        return [p for _, p in self.plan_in_order()]

    def plan_in_order(self, tiles: Callable[[int], bool] | None = None,
                      ) -> Iterator[tuple[int | None, LayerPlan | LayerSummary]]:
        """Each layer's plan in order, with the ``input_level`` it was planned for (the level
        holding its inputs, or None): ``plan_layer(layer, input_level)`` makes the same
        plan again. Nothing but the previous plan's output level is carried from layer to
        layer, so a caller may drop each plan once it has read it. ``tiles``: as
        :meth:`plan_layer`'s, for every layer."""
        level = None
        prev = None
        for layer in self.workload.layers:
            refuse_unplanned(layer, self.NAME)
            # outputs left in a level by the previous layer serve only the layer reading them
            inp = level if prev is not None and layer.source == prev.index else None
            p = self.plan_layer(layer, inp) if tiles is None else self.plan_layer(layer, inp, tiles)
            yield inp, p
            level = p.levels.get("outputs") if p.resident.get("outputs", False) else None
            p = None  # not held while the next layer is planned
            prev = layer


#: tiles of the first pass's plans :class:`LazyPlans` keeps for the run instead of planning
#: them again (a tile with its moves takes about 940 bytes: docs/performance.md, "Session 10");
#: the first plans up to this many tiles, so a run of up to about 60 MiB of plan plans once
KEEP_TILES = 65_536


@contextmanager
def collector_paused():
    """The cyclic collector off for the ``with`` body and as the caller had it afterwards, also
    when the body raises. Planning makes many objects (a tile and its moves) and no reference
    cycle that holds them (tests/dataflow/test_planning_collector_s23.py): while it runs, every
    young collection would traverse them again: 0.9-1.5 CPU s of the 4.4-4.9 s that
    resnet19-cifar10 / edge-lpddr4 / event spent planning (docs/performance.md, "Session 23")."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class LazyPlans(PlanSource):
    """A run's layer plans, made when the controller reaches each layer and dropped once
    it has run: a run holds the summaries of every layer (:class:`~tlmsim.engine.plan.LayerSummary`) and the
    tiles of a few layers only (the running one and the next; with layer pipelining the
    running pair and the next stage), however many tiles the workload makes. The
    interface is :class:`~tlmsim.engine.plan.PlanSource`'s.

    Construction is the first pass, before the first event: every layer is planned in
    order (:meth:`Dataflow.plan_in_order`), handed to ``check`` (which raises to refuse
    a plan that does not fit, naming the layer), and summarised; the first plans are
    kept while their tiles add up to at most ``keep_tiles`` (default :data:`KEEP_TILES`),
    the others dropped. The tiles of a plan that would be dropped are not made at all:
    the dataflow is asked for its summary alone (``plan_in_order``'s ``tiles``), which
    ``check`` takes instead: true, it fits (its tiles' ranges say so); false, only the
    tiles can tell, and the layer is planned with them for ``check``. ``plans[i]``
    returns layer ``i``'s plan (position in the
    workload), planning it again with the input level of the first pass if it was
    dropped: a dataflow plans a layer from the workload, the platform and that level
    alone (synthetic weight masks are seeded by the layer), so the tiles are the same
    (tests/dataflow/test_lazy_plans.py checks every dataflow); a plan whose tile count
    differs from its summary's raises a RuntimeError. ``release(i)`` drops it again
    (kept from the first pass or not)."""

    def __init__(self, dataflow: Dataflow, *,
                 check: Callable[[LayerPlan | LayerSummary], bool | None] | None = None,
                 keep_tiles: int | None = None) -> None:
        super().__init__()
        self.dataflow = dataflow
        self.layers = list(dataflow.workload.layers)
        budget = KEEP_TILES if keep_tiles is None else keep_tiles
        self._input_level: list[int | None] = []
        #: layers planned again after the first pass (their plans had been dropped)
        self.replanned = 0
        kept = 0

        def tiles(n: int) -> bool:
            """Whether a layer of ``n`` tiles is kept: only a run of first plans, within the budget."""
            return kept + n <= budget and len(self._plans) == len(self.summaries)

        with collector_paused():
            for i, (inp, plan) in enumerate(dataflow.plan_in_order(tiles)):
                if isinstance(plan, LayerSummary):  # its tiles not made (dropped anyway)
                    summary = plan
                    if check is not None and not check(summary):
                        plan = dataflow.plan_layer(self.layers[i], inp)  # only the tiles can tell
                        check(plan)
                    summary.tile_ranges = None  # read: the summary as the plan's own
                else:
                    if check is not None:
                        check(plan)
                    summary = plan.summary()
                    if tiles(summary.ntiles):
                        kept += summary.ntiles
                        self._plans[i] = plan
                del plan
                self.summaries.append(summary)
                self._input_level.append(inp)

    def _plan(self, i: int) -> LayerPlan:
        """The plan at position ``i``, planned again if it was dropped."""
        plan = self._plans.get(i)
        if plan is None:
            with collector_paused():
                plan = self.dataflow.plan_layer(self.layers[i], self._input_level[i])
            self.replanned += 1
            if len(plan.tiles) != self.summaries[i].ntiles:
                raise RuntimeError(f"layer {self.layers[i].name!r} planned again made {len(plan.tiles)} tiles, "
                                   f"the first time {self.summaries[i].ntiles}: the dataflow is not deterministic")
            self._plans[i] = plan
        return plan

    def _drop(self, i: int) -> None:
        self._plans.pop(i, None)


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.base":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
