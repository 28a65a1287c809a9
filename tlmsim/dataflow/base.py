"""The dataflow interface: a layer becomes a plan of tiles.

A dataflow maps one layer onto the platform: which tensors live in the global
buffer (GLB) for the whole layer, and a sequence of tiles. Each tile names the data
it needs in L1 (:class:`Move` loads), its stall-free PE-array cycles and operation
counts (computed from the actual spikes where the dataflow skips zeros), and the
data it produces (:class:`Move` stores). The controller turns the plan into
transactions; the dataflow never touches the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Iterator

from tlmsim.engine.transaction import DataClass

if TYPE_CHECKING:
    from tlmsim.platform import Platform
    from tlmsim.workload import Layer, Workload


@dataclass(slots=True)
class Move:
    """Bytes of one data class moved for a tile (or a layer prologue/epilogue).

    ``in_dram`` says the bytes come from (load) or go to (store) DRAM at
    ``dram_address``, passing through the GLB; otherwise they live in the GLB at
    ``glb_address``. ``after`` (loads) waits for the store that ``signals`` the same key.
    ``glb_span`` (GLB-resident loads only): the tensor occupies fewer GLB bytes than the
    move carries (an im2col slice re-reads its inputs), so the move's GLB reads wrap
    inside ``glb_address .. glb_address + glb_span``; 0 = no wrap.
    """

    data_class: DataClass
    nbytes: int
    in_dram: bool
    dram_address: int = 0
    glb_address: int = 0
    after: tuple | None = None
    signals: tuple | None = None
    glb_span: int = 0


@dataclass(slots=True)
class Tile:
    """One unit of work for the PE array."""

    index: int
    t_first: int
    t_last: int
    loads: list[Move]
    stores: list[Move]
    compute_cycles: int  #: stall-free PE-array cycles, including the neuron update
    neuron_cycles: int = 0  #: the part of compute_cycles spent updating neurons
    dense_ops: int = 0  #: synaptic operations of the dense computation
    acc_ops: int = 0  #: accumulates actually performed
    neuron_updates: int = 0  #: neuron state updates (leak, integrate, fire)
    pe_weight_loads: int = 0  #: weights written into PE registers
    tag_bits: int = 0  #: activity-tag bits read by the array's sequencer (ptb, spikex)
    neuron: str | None = None  #: neuron model of the updates (for their energy)
    #: what the tile computes, for the functional model of --verify:
    #: ("gemm", t0, t1, n0, nc, m0, mm, k0, k1, last_k) or ("pool", t, channel0, channels)
    region: tuple | None = None

    @property
    def load_bytes(self) -> int:
        return sum(m.nbytes for m in self.loads)

    @property
    def store_bytes(self) -> int:
        return sum(m.nbytes for m in self.stores)


@dataclass
class LayerPlan:
    """Everything the controller needs to run one layer."""

    layer: "Layer"
    tiles: list[Tile]
    prologue: list[Move] = field(default_factory=list)  #: DRAM -> GLB before the first tile
    epilogue: list[Move] = field(default_factory=list)  #: GLB -> DRAM after the last tile
    resident: dict[str, bool] = field(default_factory=dict)  #: tensor -> kept in the GLB
    glb_bytes: int = 0  #: GLB bytes this layer keeps resident (excluding staging)
    l1_tile_bytes: int = 0  #: largest L1 footprint of a tile
    tiling: str = ""  #: the tiling the tiler chose (loop order, chunk sizes)
    spike_formats: dict[str, int] = field(default_factory=dict)  #: spike format -> tiles that moved spikes in it

    def __iter__(self) -> Iterator[Tile]:
        return iter(self.tiles)


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

    def plan_layer(self, layer: "Layer", resident_input: bool) -> LayerPlan:
        """Plan ``layer``; ``resident_input`` says its input spikes are already in the GLB."""
        raise NotImplementedError

    def plan(self) -> list[LayerPlan]:
        """Plan every layer in order, passing GLB residency of outputs to the next layer."""
        plans: list[LayerPlan] = []
        resident = False
        prev = None
        for layer in self.workload.layers:
            refuse_unplanned(layer, self.NAME)
            # outputs left in the GLB by the previous layer serve only the layer reading them
            p = self.plan_layer(layer, resident and prev is not None and layer.source == prev.index)
            plans.append(p)
            resident = p.resident.get("outputs", False)
            prev = layer
        return plans
