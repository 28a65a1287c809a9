"""The dataflow interface: a layer becomes a plan of tiles.

A dataflow maps one layer onto the platform: which tensors live in an on-chip
level (e.g. the global buffer) for the whole layer, and a sequence of tiles, as a
:class:`~tlmsim.engine.plan.LayerPlan` (the plan types live in the kernel,
:mod:`tlmsim.engine.plan`). Tile cycles and operation counts are computed from the
actual spikes where the dataflow skips zeros. The controller turns the plan into
transactions; the dataflow never touches the hardware.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tlmsim.engine.plan import LayerPlan

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

    def plan_layer(self, layer: "Layer", input_level: int | None) -> LayerPlan:
        """Plan ``layer``; ``input_level``: the SRAM level (0 = outermost) that already
        holds its input spikes, or None (they are in DRAM)."""
        raise NotImplementedError

    def plan(self) -> list[LayerPlan]:
        """Plan every layer in order, passing the level holding each layer's outputs to the next layer."""
        plans: list[LayerPlan] = []
        level = None
        prev = None
        for layer in self.workload.layers:
            refuse_unplanned(layer, self.NAME)
            # outputs left in a level by the previous layer serve only the layer reading them
            p = self.plan_layer(layer, level if prev is not None and layer.source == prev.index else None)
            plans.append(p)
            level = p.levels.get("outputs") if p.resident.get("outputs", False) else None
            prev = layer
        return plans
