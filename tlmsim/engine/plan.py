"""The plan types: what a dataflow hands the controller (kernel-level data), and
:class:`PlanSource`, the one holder of a run's plans the controller reads.

A layer plan lists the tensors a layer keeps in on-chip levels for the whole layer
(prologue / epilogue moves) and a sequence of tiles. Each tile names the data it
needs in L1 (:class:`Move` loads), its stall-free PE-array cycles and operation
counts, and the data it produces (:class:`Move` stores). The dataflows
(:mod:`tlmsim.dataflow`) produce plans; the hardware (:mod:`tlmsim.hw.controller`)
runs them. They live in the kernel so that neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from tlmsim.engine.transaction import DataClass


class PlannedLayer(Protocol):
    """What the kernel needs of a layer (a :class:`tlmsim.workload.Layer` provides it)."""

    name: str
    index: int


class Record:
    """A record: the fields of its class's ``__slots__``, in that order (``_fields()`` gives their
    values), with what a dataclass gives: equality field by field within one class, a ``repr``
    ``Name(field=value, ...)``, no hash (equal records may be changed), and :meth:`replace` for
    ``dataclasses.replace``. :class:`Move`, :class:`Tile` and the dataflows' ``Step`` are records
    rather than dataclasses so that the compiled build makes them extension types
    (tlmsim/engine/plan.pxd; docs/performance.md, "Session 32")."""

    __slots__ = ()

    def _fields(self) -> tuple:
        raise NotImplementedError

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._fields() == other._fields()
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        pairs = zip(type(self).__slots__, self._fields())
        return f"{type(self).__qualname__}({', '.join(f'{k}={v!r}' for k, v in pairs)})"

    def replace(self, **changes):
        """A copy with ``changes`` (field name -> value; an unknown name: TypeError, as the
        constructor gives it): ``dataclasses.replace`` of a dataclass."""
        kw = dict(zip(type(self).__slots__, self._fields()))
        kw.update(changes)
        return type(self)(**kw)


class Move(Record):
    """Bytes of one data class moved for a tile (or a layer prologue/epilogue).

    ``in_dram`` says the bytes come from (load) or go to (store) DRAM at
    ``dram_address``, passing through every SRAM level on the way; otherwise they live
    in SRAM level ``level`` (index into the platform's levels from DRAM inward, 0 the
    outermost, -1 the innermost, e.g. the GLB) at ``level_address``. A prologue or
    epilogue move has ``in_dram`` and names the level it fills or drains. ``after``
    (loads) waits for the store that ``signals`` the same key. ``level_span`` (resident
    loads only): the tensor occupies fewer bytes than the move carries (an im2col slice
    re-reads its inputs), so the move's reads wrap inside ``level_address ..
    level_address + level_span``; 0 = no wrap.

    A :class:`Record` with the fields below, in this order (positional or by name): the
    compiled build makes it an extension type (tlmsim/engine/plan.pxd): a planner makes
    millions of moves, and a dataclass's ``__init__`` is Python bytecode even there
    (docs/performance.md, "Session 32").
    """

    __slots__ = ("data_class", "nbytes", "in_dram", "dram_address", "level_address", "after", "signals",
                 "level_span", "level")

    def __init__(self, data_class: DataClass, nbytes: int, in_dram: bool, dram_address: int = 0,
                 level_address: int = 0, after: tuple | None = None, signals: tuple | None = None,
                 level_span: int = 0, level: int = -1) -> None:
        self.data_class = data_class
        self.nbytes = nbytes
        self.in_dram = in_dram
        self.dram_address = dram_address
        self.level_address = level_address
        self.after = after
        self.signals = signals
        self.level_span = level_span
        self.level = level

    def _fields(self) -> tuple:
        return (self.data_class, self.nbytes, self.in_dram, self.dram_address, self.level_address, self.after,
                self.signals, self.level_span, self.level)


class Tile(Record):
    """One unit of work for the PE array.

    ``compute_cycles``: stall-free PE-array cycles, including the neuron update;
    ``neuron_cycles``: the part of them spent updating neurons; ``dense_ops``: synaptic
    operations of the dense computation; ``acc_ops``: accumulates actually performed;
    ``neuron_updates``: neuron state updates (leak, integrate, fire); ``pe_weight_loads``:
    weights written into PE registers; ``tag_bits``: activity-tag bits read by the array's
    sequencer (ptb, spikex); ``neuron``: neuron model of the updates (for their energy);
    ``keeps_state``: the next tile continues this one's reduction (its partial sums stay in
    the array): with several cores both run on the same core, this one first; ``region``:
    what the tile computes, for the functional model of --verify: ("gemm", t0, t1, n0, nc,
    m0, mm, k0, k1, last_k) or ("pool", t, channel0, channels).

    A :class:`Record` like :class:`Move` (the fields in this order).
    """

    __slots__ = ("index", "t_first", "t_last", "loads", "stores", "compute_cycles", "neuron_cycles", "dense_ops",
                 "acc_ops", "neuron_updates", "pe_weight_loads", "tag_bits", "neuron", "keeps_state", "region")

    def __init__(self, index: int, t_first: int, t_last: int, loads: list[Move], stores: list[Move],
                 compute_cycles: int, neuron_cycles: int = 0, dense_ops: int = 0, acc_ops: int = 0,
                 neuron_updates: int = 0, pe_weight_loads: int = 0, tag_bits: int = 0, neuron: str | None = None,
                 keeps_state: bool = False, region: tuple | None = None) -> None:
        self.index = index
        self.t_first = t_first
        self.t_last = t_last
        self.loads = loads
        self.stores = stores
        self.compute_cycles = compute_cycles
        self.neuron_cycles = neuron_cycles
        self.dense_ops = dense_ops
        self.acc_ops = acc_ops
        self.neuron_updates = neuron_updates
        self.pe_weight_loads = pe_weight_loads
        self.tag_bits = tag_bits
        self.neuron = neuron
        self.keeps_state = keeps_state
        self.region = region

    def _fields(self) -> tuple:
        return (self.index, self.t_first, self.t_last, self.loads, self.stores, self.compute_cycles,
                self.neuron_cycles, self.dense_ops, self.acc_ops, self.neuron_updates, self.pe_weight_loads,
                self.tag_bits, self.neuron, self.keeps_state, self.region)


    # (loops, not sum() over a generator: the controller reads these several times a tile, and a
    # generator's frame costs more than the two or three moves it adds)
    @property
    # @cython.locals(m=Move)
    def load_bytes(self) -> int:
        n = 0
        for m in self.loads:
            n += m.nbytes
        return n

    @property
    # @cython.locals(m=Move)
    def store_bytes(self) -> int:
        n = 0
        for m in self.stores:
            n += m.nbytes
        return n


@dataclass
class LayerPlan:
    """Everything the controller needs to run one layer."""

    layer: PlannedLayer
    tiles: list[Tile]
    prologue: list[Move] = field(default_factory=list)  #: DRAM -> resident level before the first tile
    epilogue: list[Move] = field(default_factory=list)  #: resident level -> DRAM after the last tile
    resident: dict[str, bool] = field(default_factory=dict)  #: tensor -> kept in an SRAM level
    #: SRAM level (0 = outermost, -1 = innermost) -> bytes this layer keeps resident there (excluding staging)
    resident_bytes: dict[int, int] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)  #: resident tensor -> its SRAM level (0 = outermost)
    l1_tile_bytes: int = 0  #: largest L1 footprint of a tile
    tiling: str = ""  #: the tiling the tiler chose (loop order, chunk sizes)
    spike_formats: dict[str, int] = field(default_factory=dict)  #: spike format -> tiles that moved spikes in it

    def __iter__(self) -> Iterator[Tile]:
        return iter(self.tiles)

    def summary(self) -> LayerSummary:
        """What outlives the layer's run: everything but the tiles (:class:`LayerSummary`)."""
        return LayerSummary(layer=self.layer, ntiles=len(self.tiles), prologue=self.prologue,
                            epilogue=self.epilogue, resident=self.resident, resident_bytes=self.resident_bytes,
                            levels=self.levels, l1_tile_bytes=self.l1_tile_bytes, tiling=self.tiling,
                            spike_formats=self.spike_formats)


@dataclass
class LayerSummary:
    """A layer plan without its tiles: what the report reads after the run (a run keeps
    one per layer; the tiles live only while their layer runs, see
    :class:`tlmsim.dataflow.base.LazyPlans`). The fields are :class:`LayerPlan`'s, and
    ``ntiles`` the number of its tiles."""

    layer: PlannedLayer
    ntiles: int
    prologue: list[Move] = field(default_factory=list)
    epilogue: list[Move] = field(default_factory=list)
    resident: dict[str, bool] = field(default_factory=dict)
    resident_bytes: dict[int, int] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    l1_tile_bytes: int = 0
    tiling: str = ""
    spike_formats: dict[str, int] = field(default_factory=dict)
    #: a summary made without the tiles (a dataflow's ``plan_layer`` with ``tiles`` saying no): per resident
    #: tensor ``(name, level, first byte, end, stored)``, the bytes of its level every move of a tile to or
    #: from it lies in, and whether tiles may store to it (what :func:`tlmsim.soc.build.check_plan` reads
    #: instead of the tiles); None: made from a plan with its tiles
    tile_ranges: list[tuple[str, int, int, int, bool]] | None = None


class PlanSource:
    """A run's layer plans in order, as the controller reads them: ``len(source)``;
    ``source[i]``, the plan of the layer at position ``i`` of the workload; ``release(i)``
    once that layer has run; ``summaries``, every layer's :class:`LayerSummary` (what
    outlives the run); ``watch(made, released)``: ``made(plan)`` is called the first time
    a plan is handed out after it was made or released, ``released(layer_index)`` when a
    plan handed out is released (the Perfetto timeline keeps its tile windows that way);
    ``held``, the positions of the plans held now.

    This class holds plans made beforehand (``PlanSource(plans)``: tests and tools pass a
    list) and keeps every one: releasing a plan only ends its hand-out.
    :class:`tlmsim.dataflow.base.LazyPlans` makes each plan when it is asked for and drops
    it on release. :meth:`of` makes either kind the controller's source."""

    def __init__(self, plans: Iterable[LayerPlan] = ()) -> None:
        plans = list(plans)
        #: per layer (position), its plan without the tiles
        self.summaries: list[LayerSummary] = [p.summary() for p in plans]
        #: position -> plan, held until dropped (this class never drops one)
        self._plans: dict[int, LayerPlan] = dict(enumerate(plans))
        #: positions handed out and not released since
        self._handed: set[int] = set()
        self._watchers: list[tuple[Callable, Callable]] = []

    @classmethod
    def of(cls, plans: PlanSource | Iterable[LayerPlan]) -> PlanSource:
        """``plans`` if it is a source already, else a source keeping the plans of the list."""
        return plans if isinstance(plans, PlanSource) else PlanSource(plans)

    def __len__(self) -> int:
        return len(self.summaries)

    def __getitem__(self, i: int) -> LayerPlan:
        if not 0 <= i < len(self.summaries):
            raise IndexError(f"layer position {i} of {len(self.summaries)}")
        plan = self._plan(i)
        if i not in self._handed:
            self._handed.add(i)
            for made, _ in self._watchers:
                made(plan)
        return plan

    def _plan(self, i: int) -> LayerPlan:
        """The plan at position ``i`` (this class holds every one)."""
        return self._plans[i]

    def release(self, i: int) -> None:
        """Layer ``i`` has run: its hand-out ends (and a source that can make the plan
        again drops it)."""
        if i in self._handed:
            self._handed.discard(i)
            for _, released in self._watchers:
                released(self.summaries[i].layer.index)
        self._drop(i)

    def _drop(self, i: int) -> None:
        """Drop the plan at position ``i`` if it can be made again (this class keeps it)."""

    def watch(self, made: Callable[[LayerPlan], None], released: Callable[[int], None]) -> None:
        self._watchers.append((made, released))

    @property
    def held(self) -> list[int]:
        """Positions of the plans held now."""
        return sorted(self._plans)

    def held_plan(self, layer_index: int) -> LayerPlan | None:
        """The plan held now of the layer with index ``layer_index``, else None."""
        return next((p for p in self._plans.values() if p.layer.index == layer_index), None)


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.engine.plan":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
