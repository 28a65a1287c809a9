"""What the systolic dataflows share: the tiler, GLB residency, tile emission, pooling.

A dataflow module describes a GEMM layer as a list of :class:`Step` objects (one per
tile: which timesteps, output channels, output pixels and reduction range it covers,
its stall-free cycles, operation counts and operand bytes), once per *candidate*
tiling (loop order, chunk sizes). :class:`SystolicDataflow` then

1. chooses GLB residency for each candidate (:func:`tiling.choose_resident`: the
   tensors that would cross the DRAM interface most often stay in the GLB if they fit),
2. keeps the candidate with the shortest roofline estimate
   ``max(array cycles, DRAM bytes / DRAM peak bytes per cycle)`` plus the resident
   traffic that stays exposed (:meth:`SystolicDataflow._exposed_cycles`); among equal
   estimates (e.g. two loop orders of one compute-bound shape) the one that moves the
   fewest DRAM bytes, then the one with fewer tiles, and
3. turns its steps into :class:`~tlmsim.engine.plan.Tile` objects with addresses,
   membrane dependencies between timesteps and ResNet shortcut loads.

Shared cost rules (every dataflow uses them, each unit-tested):

* neuron updates: the array has ``cols`` neuron units; ``u`` updates of a model that
  needs ``c`` cycles each take ``c * ceil(u / cols)`` cycles, per timestep;
* a fold whose stationary operand is (re)loaded pays ``rows`` fill cycles (SCALE-Sim);
  the folds of one tile run back to back (:meth:`SystolicDataflow.run_cycles`): with
  ``pe_array.weight_double_buffer`` the next fold's operand shifts in behind the
  current fold's stream and the pipeline skew ``R + C - 2`` is paid once per tile,
  without it every fold pays ``fill + skew + stream`` (SCALE-Sim);
* weight blocks as moved (:meth:`SystolicDataflow.weight_bytes`): dense, or with
  ``weight_compression`` compressed sparse columns sized by the block's real nonzeros
  (the workload's weight mask, :meth:`tlmsim.workload.Workload.weight_mask`);
* activity tags (ptb, spikex): ``tag_bits`` per tile, moved with the tile's spikes
  and read by the sequencer at ``pe_array.tag_bits_per_cycle``, which runs ahead of
  the array: a tile takes at least its tag-lookup cycles;
* pooling layers (every dataflow): the PEs act as adders, ``ceil(ops / (rows x cols))``
  cycles per timestep and channel group; an identity layer (a neuron with no weights
  before it) is a 1x1 pooling;
* recurrent layers (every dataflow): the reduction is ``K + N`` (rows ``k >= K`` are
  the layer's own output spikes of the previous timestep, the weights the N x N
  recurrent block stored after the feed-forward block); the dataflow tiles each
  timestep on its own (:meth:`SystolicDataflow.recurrent_candidates`), a tile of
  timestep ``t`` loads its recurrent rows from the layer's outputs (GLB or DRAM) and
  waits until every output tile of ``t - 1`` is stored (one ``after`` per producer
  tile); at ``t = 0`` the recurrent inputs are zero and nothing is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from tlmsim.dataflow.activity import Im2col, best_bits, spike_bits
from tlmsim.dataflow.base import Dataflow
from tlmsim.engine.plan import LayerPlan, LayerSummary, Move, Tile
from tlmsim.engine.plan import Record  # cimported by the .pxd
from tlmsim.dataflow.formats import SPIKE_FORMATS, bits_for
from tlmsim.dataflow.weights import WeightBlocks
from tlmsim.dataflow.tiling import Candidate, bits_to_bytes, ceil_div, choose_resident, largest_chunk, layout_dram
from tlmsim.engine.transaction import DataClass
from tlmsim.errors import MappingError
from tlmsim.workload import Layer, consumers, synthetic_weight_mask


class Step(Record):
    """One tile of a GEMM layer before it gets addresses: timesteps ``t0`` up to ``t1`` (one
    past the last), output channels ``n0`` .. ``n0 + nc``, output pixels ``m0`` .. ``m0 + mm``,
    reduction elements ``k0`` up to ``k1``; ``cycles``: stall-free array cycles, without the
    neuron update; ``w_bytes``: weight bytes loaded into L1 (0: the array keeps the previous
    tile's weights); ``s_bytes``: spike bytes loaded into L1; ``tag_bits``: activity-tag bits
    the sequencer reads for the tile (moved with its spikes); ``last_k``: the tile finishes its
    outputs (neuron update, output store).

    A :class:`~tlmsim.engine.plan.Record` (the fields of ``__slots__`` in order, positional or
    by name; a dataclass's equality, ``repr`` and no hash; ``replace``): the
    compiled build makes it an extension type (tlmsim/dataflow/systolic.pxd), made without
    Python bytecode and read by :meth:`SystolicDataflow._emit` as C struct fields
    (docs/performance.md, "Session 32").
    """

    __slots__ = ("t0", "t1", "n0", "nc", "m0", "mm", "k0", "k1", "cycles", "w_bytes", "s_bytes", "dense_ops", "acc_ops",
                 "pe_weight_loads", "tag_bits", "last_k", "spike_format")

    def __init__(self, t0: int, t1: int, n0: int, nc: int, m0: int, mm: int, k0: int, k1: int, cycles: int,
                 w_bytes: int, s_bytes: int, dense_ops: int, acc_ops: int, pe_weight_loads: int = 0, tag_bits: int = 0,
                 last_k: bool = True, spike_format: str = "bitmap") -> None:
        self.t0 = t0
        self.t1 = t1
        self.n0 = n0
        self.nc = nc
        self.m0 = m0
        self.mm = mm
        self.k0 = k0
        self.k1 = k1
        self.cycles = cycles
        self.w_bytes = w_bytes
        self.s_bytes = s_bytes
        self.dense_ops = dense_ops
        self.acc_ops = acc_ops
        self.pe_weight_loads = pe_weight_loads
        self.tag_bits = tag_bits
        self.last_k = last_k
        self.spike_format = spike_format

    def _fields(self) -> tuple:
        return (self.t0, self.t1, self.n0, self.nc, self.m0, self.mm, self.k0, self.k1, self.cycles, self.w_bytes,
                self.s_bytes, self.dense_ops, self.acc_ops, self.pe_weight_loads, self.tag_bits, self.last_k,
                self.spike_format)


def _tensor_move(sizes: dict[str, int], res: dict[str, int], glb: dict[str, int], dc: DataClass, nbytes: int,
                 tensor: str, offset: int, dram_base: int, stage: int, **kw) -> Move:
    """A move of ``nbytes`` at ``offset`` inside ``tensor`` (clamped to the tensor): from
    its copy in its SRAM level ``res[tensor]`` when the tensor is resident (a move larger
    than the tensor, an im2col slice, re-reads the tensor's bytes: ``level_span``), else
    from DRAM through the levels' staging areas."""
    offset = max(0, min(offset, sizes[tensor] - nbytes))
    if tensor not in res:
        return Move(dc, nbytes, True, dram_base + offset, stage, **kw)
    span = sizes[tensor] if nbytes > sizes[tensor] else 0
    return Move(dc, nbytes, False, dram_base + offset, glb[tensor] + offset, level_span=span, level=res[tensor], **kw)


def _emit_move(sizes: dict, res: dict, glb: dict, dc: DataClass, nbytes: int, tensor: str, offset: int,
               dram_base: int, stage: int, after: tuple | None = None, signals: tuple | None = None) -> Move:
    """:func:`_tensor_move` for the planner's hot loop (:meth:`SystolicDataflow._emit`), the same move:
    positional fields, no keywords (a C call in the compiled build, tlmsim/dataflow/systolic.pxd)."""
    size = sizes[tensor]
    if offset > size - nbytes:
        offset = size - nbytes
    if offset < 0:
        offset = 0
    lv = res.get(tensor)
    if lv is None:
        return Move(dc, nbytes, True, dram_base + offset, stage, after, signals)
    return Move(dc, nbytes, False, dram_base + offset, glb[tensor] + offset, after, signals,
                size if nbytes > size else 0, lv)


def _level_bytes(sizes: dict[str, int], res: dict[str, int]) -> dict[int, int]:
    """Resident bytes per SRAM level."""
    out: dict[int, int] = {}
    for name, lv in sorted(res.items()):
        out[lv] = out.get(lv, 0) + sizes[name]
    return out


@dataclass(slots=True)
class StepTotals:
    """What the tiler's ranking (:meth:`SystolicDataflow._plan_gemm`) reads of a
    candidate's steps: the sum of their cycles, their :meth:`SystolicDataflow._traffic`,
    the first step and their number."""

    cycles: int
    moved: dict[str, int]
    first: Step | None
    count: int

    def add(self, other: "StepTotals") -> None:
        """Append ``other``'s steps (they come after these)."""
        self.cycles += other.cycles
        for name, nbytes in other.moved.items():
            self.moved[name] = self.moved.get(name, 0) + nbytes
        if self.count == 0:
            self.first = other.first
        self.count += other.count


class GemmCandidate:
    """One way to tile a GEMM layer: its steps, given, or made by ``make()`` when first
    read; with ``totals`` (the :class:`StepTotals` of those steps) the tiler ranks it
    without them, so only the chosen candidate's steps are made."""

    __slots__ = ("label", "_steps", "_make", "totals")

    def __init__(self, label: str, steps: list[Step] | None = None, *, make=None,
                 totals: StepTotals | None = None) -> None:
        if (steps is None) == (make is None):
            raise ValueError("a GemmCandidate takes its steps or a make() for them, not both")
        self.label = label  #: e.g. "n>m>k, m=64, g=4"
        self._steps, self._make, self.totals = steps, make, totals

    @property
    def steps(self) -> list[Step]:
        if self._steps is None:
            self._steps, self._make = self._make(), None
        return self._steps

    def __repr__(self) -> str:
        return f"GemmCandidate({self.label!r})"


class SystolicDataflow(Dataflow):
    """Base of every dataflow: common set-up, planning and cost rules."""

    #: how the dataflow moves spikes ("bitmap" for the dense ones)
    SPIKE_FORMATS: tuple[str, ...] = ("bitmap",)
    #: time_window when the platform leaves it unset (for the dataflows that window time)
    DEFAULT_WINDOW = 1
    #: whether a layer's chosen tiling is kept (its label, its residency and the ``make()`` of its
    #: steps), so that planning the layer again for the same input level (a run's dropped plan:
    #: :class:`~tlmsim.dataflow.base.LazyPlans`) makes the same steps without ranking the
    #: candidates again. Only for dataflows whose ``make()`` holds little (``event``: its per-block
    #: tables); the others rank again, which is cheap for them
    KEEP_CHOICE = False

    @property
    def window(self) -> int:
        """Timesteps per time window: dataflow.time_window (else DEFAULT_WINDOW), at most T."""
        w = self.df.time_window if self.df.time_window is not None else self.DEFAULT_WINDOW
        return min(w, self.workload.timesteps)

    @property
    def windows(self) -> int:
        return ceil_div(self.workload.timesteps, self.window)

    def __init__(self, *, platform, workload) -> None:
        super().__init__(platform=platform, workload=workload)
        pe = platform.pe_array
        self.pe = pe
        self.R, self.C = pe.rows, pe.cols
        #: PE-array cores the tiles are shared among (the controller assigns them; docs/hierarchy.md)
        self.cores = pe.cores
        self.wb = workload.with_weight_bits(platform.pe_array.weight_bits).weight_bits
        self.ab = pe.accumulator_bits
        self.mb = pe.membrane_bits
        self.df = platform.dataflow
        self.layout = layout_dram(workload, weight_bits=self.wb, membrane_bits=self.mb)
        copies = 2 if pe.weight_double_buffer else 1
        if copies * bits_to_bytes(self.wb) > pe.scratchpad_bytes:
            raise MappingError(
                f"{copies} x a {self.wb}-bit stationary weight (pe_array.weight_double_buffer: "
                f"{str(pe.weight_double_buffer).lower()}) does not fit a PE scratchpad of {pe.scratchpad_bytes} "
                "bytes; raise pe_array.scratchpad_bytes"
            )
        self.readers = consumers(workload.layers)
        l1 = platform.buffers.l1
        self.l1_half = l1.capacity_bytes // 2 if l1.double_buffered else l1.capacity_bytes
        df = platform.dataflow
        self.staging = 2 * df.dma_outstanding * df.dma_chunk_bytes
        bufs = platform.buffers
        for i, lv in enumerate(bufs.sram_levels):
            if lv.capacity_bytes < 2 * self.staging:
                raise MappingError(
                    f"{bufs.level_key(i)}.capacity_bytes {lv.capacity_bytes} is smaller than twice the DMA staging "
                    f"space (2 x dataflow.dma_outstanding x dataflow.dma_chunk_bytes = {self.staging}); "
                    f"lower dataflow.dma_chunk_bytes or raise the capacity of {lv.name}"
                )
        #: capacities of the SRAM levels between DRAM and L1, outermost first
        self.level_capacities = [lv.capacity_bytes for lv in bufs.sram_levels]
        #: levels that hold only what a layer reads and brings from DRAM: the private ones with several cores
        #: (one instance per core; docs/hierarchy.md, 'Private levels')
        self.read_only_levels = {i for i, lv in enumerate(bufs.sram_levels)
                                 if lv.sharing == "private" and self.cores > 1}
        #: DRAM peak bytes per accelerator cycle, for the tiler's roofline estimate
        self.dram_bytes_per_cycle = (platform.dram.resolve().peak_bandwidth_gb_per_s
                                     * platform.clock_period_ps / 1000.0)
        self.chosen: dict[int, str] = {}  #: layer index -> label of the chosen tiling
        #: (layer index, input level) -> (label, make, residency) of the chosen tiling (KEEP_CHOICE)
        self._kept_choice: dict[tuple[int, int | None], tuple] = {}
        self._wblocks: dict[int, WeightBlocks] = {}

    # -- cost rules -----------------------------------------------------------------
    def neuron_cycles(self, layer: Layer, updates: int, timesteps: int = 1) -> int:
        """Cycles of ``updates`` neuron updates per timestep on the ``cols`` neuron units,
        over ``timesteps`` sequential timesteps."""
        return self.pe.update_cycles(layer.neuron) * ceil_div(updates, self.C) * timesteps

    def run_cycles(self, fills: list[int], streams: list[int]) -> int:
        """Array cycles of folds run back to back (one tile): fold j loads its stationary
        operand in ``fills[j]`` cycles (R, or 0 when the array already holds it) and
        streams for ``streams[j]`` cycles; ``skew = R + C - 2`` is the pipeline fill and
        drain. Without ``pe_array.weight_double_buffer`` (SCALE-Sim):
        ``sum(fill + skew + stream)``. With it, fold j + 1's operand shifts into the
        shadow registers while fold j streams, so only the part of its fill longer than
        that stream shows, and the skew is paid once:
        ``fills[0] + sum(streams) + sum(max(0, fills[j+1] - streams[j])) + skew``."""
        if not fills:
            return 0
        skew = self.R + self.C - 2
        if not self.pe.weight_double_buffer:
            return sum(fills) + sum(streams) + skew * len(fills)
        hidden = sum(max(0, f - s) for f, s in zip(fills[1:], streams[:-1]))
        return fills[0] + sum(streams) + hidden + skew

    def tag_cycles(self, tag_bits: int) -> int:
        """Cycles the sequencer needs to read ``tag_bits`` activity tags."""
        return ceil_div(tag_bits, self.pe.tag_bits_per_cycle)

    def weight_blocks(self, layer: Layer) -> WeightBlocks:
        """Nonzero counts of ``layer``'s weight blocks (from the workload's weight mask;
        a recurrent layer's: the feed-forward mask over the recurrent block's: the real
        one of an NIR graph (workload mask ``LAYER.recurrent``), else one with
        ``round(N x N x recurrent_sparsity)`` zeros at deterministic positions)."""
        key = layer.index
        if key not in self._wblocks:
            orig = self.workload.layers[layer.index]
            mask = self.workload.weight_mask(orig)
            _, K, N = self.gemm_view(layer).gemm
            if orig.recurrent:
                n = orig.out_neurons
                rec = self.workload.weight_masks.get(orig.recurrent_key)
                if rec is None:
                    rec = synthetic_weight_mask(replace(orig, name=orig.recurrent_key, in_shape=(n,),
                                                        weight_sparsity=orig.recurrent_sparsity))
                if mask is not None or rec is not None:
                    ff = mask if mask is not None else np.ones((K - n, N), dtype=bool)
                    mask = np.concatenate([ff, rec if rec is not None else np.ones((n, N), dtype=bool)])
            self._wblocks[key] = WeightBlocks(mask, K, N)
        return self._wblocks[key]

    def gemm_view(self, layer: Layer) -> Layer:
        """The layer whose GEMM the tiler sees: ``layer`` itself, or for a recurrent
        layer a linear layer of ``K + N`` inputs (the recurrent inputs after the
        feed-forward ones)."""
        orig = self.workload.layers[layer.index]
        if not orig.recurrent or layer.in_shape != orig.in_shape:
            return layer
        return replace(orig, in_shape=(orig.in_neurons + orig.out_neurons,))

    def weight_bytes(self, layer: Layer, rows: int, cols: int, nnz: int | None = None) -> int:
        """Bytes of a ``rows x cols`` block of weights as moved: dense, or compressed
        sparse columns when ``weight_compression`` is on and that is smaller. ``nnz``:
        the block's real nonzeros (from the weight mask); None: the layer's stated
        sparsity, ``round(rows x cols x (1 - weight_sparsity))``."""
        dense = rows * cols * self.wb
        if not self.df.weight_compression or rows * cols == 0:
            return bits_to_bytes(dense)
        if nnz is None:
            nnz = round(rows * cols * (1.0 - layer.weight_sparsity))
        sparse = (bits_for(rows * cols + 1) + (cols + 1) * bits_for(nnz + 1)
                  + nnz * (bits_for(rows) + self.wb))
        return bits_to_bytes(min(dense, sparse))

    def out_footprint(self, layer: Layer, outputs: int, timesteps: int) -> int:
        """L1 bytes a tile needs for ``outputs`` output neurons over ``timesteps``: their
        partial sums, membranes, output spikes and (ResNet) shortcut slice."""
        nbytes = (bits_to_bytes(outputs * timesteps * self.ab) + 2 * bits_to_bytes(outputs * self.mb)
                  + bits_to_bytes(outputs * timesteps))  # membrane read in and written out
        if layer.residual >= 0:
            src = self.workload.layers[layer.residual]
            nbytes += bits_to_bytes(outputs * timesteps * (1 if src.neuron else self.ab))
        return nbytes

    def layer_weight_bytes(self, layer: Layer) -> int:
        layer = self.gemm_view(layer)
        _, K, N = layer.gemm
        return self.weight_bytes(layer, K, N, self.weight_blocks(layer).total() if self.df.weight_compression else None)

    def spike_slice(self, act: Im2col, t0: int, t1: int, m0: int, m1: int, k0: int, k1: int) -> tuple[str, int]:
        """Format and bytes of a tile's spike slice, in the dataflow's format choice."""
        fmts = self.SPIKE_FORMATS
        if fmts == ("bitmap",):
            return "bitmap", bits_to_bytes((t1 - t0) * (m1 - m0) * (k1 - k0))
        a = act.x[t0:t1, m0:m1, k0:k1].reshape(t1 - t0, -1)
        if len(fmts) == 1:
            return fmts[0], bits_to_bytes(spike_bits(fmts[0], a))
        fmt, bits = best_bits(fmts, a)
        return fmt, bits_to_bytes(bits)

    def spike_formats_from_config(self) -> tuple[str, ...]:
        f = self.df.spike_format
        return SPIKE_FORMATS if f == "auto" else (f,)

    def activity(self, layer: Layer) -> Im2col:
        return Im2col(layer, self.workload.spikes[layer.name])

    # -- helpers ---------------------------------------------------------------------
    def _glb_layout(self, sizes: dict[str, int], resident: dict[str, int], layer: Layer) -> dict[str, int]:
        """Offsets of the resident tensors inside their levels (``resident``: tensor ->
        level). In every level the staging area is at the bottom; above it, the layer's
        inputs sit at one end of the free space, its membrane and weights stacked inward
        from them, its outputs at the other end. Consecutive layers (a flatten aside)
        alternate ends, so outputs left in a level are the next layer's inputs in place,
        and the next layer's weights (inward from them) are clear of this layer's tensors
        whenever the level holds both: the controller then prefetches them during this
        layer."""
        low = sum(1 for x in self.workload.layers[:layer.index] if x.op != "flatten") % 2 == 0
        offsets: dict[str, int] = {}
        for lv in sorted(set(resident.values())):
            lo, hi = self.staging, self.level_capacities[lv]
            here = {n for n, at in resident.items() if at == lv}
            for name in ("inputs", "membrane", "weights"):
                if name in here:
                    if low:
                        offsets[name], lo = lo, lo + sizes[name]
                    else:
                        hi -= sizes[name]
                        offsets[name] = hi
            if "outputs" in here:
                offsets["outputs"] = hi - sizes["outputs"] if low else lo
        return offsets

    def _outputs_to_dram(self, layer: Layer) -> bool:
        """Whether ``layer``'s outputs must reach DRAM: a network output (no reader), a
        residual source, or read by a layer other than the next one."""
        readers = self.readers[layer.index]
        return (not readers or any(r != layer.index + 1 for r in readers)
                or any(l.residual == layer.index for l in self.workload.layers))

    def _residency(self, layer: Layer, sizes: dict[str, int], reuse: dict[str, float],
                   input_level: int | None) -> dict[str, int]:
        """Which SRAM level keeps each resident tensor (tensor -> level, 0 the outermost):
        the levels are filled innermost first, each by :func:`choose_resident` over the
        tensors not placed yet; inputs the previous layer left in a level
        (``input_level``) stay there (first in its order) and go nowhere else. A private
        level with several cores (:attr:`read_only_levels`) takes only weights and
        inputs brought from DRAM: outputs and membranes, which other cores read, go to
        the nearest shared level outward, or DRAM."""
        cands = [Candidate(n, sizes[n], reuse[n]) for n in sizes if sizes[n] > 0]
        if not self._outputs_to_dram(layer):
            cands = [c if c.name != "outputs" else Candidate("outputs", c.nbytes, 2.0) for c in cands]
        out: dict[str, int] = {}
        for lv in reversed(range(len(self.level_capacities))):
            here = [c for c in cands if c.name not in out and (c.name != "inputs" or input_level in (None, lv))
                    and (lv not in self.read_only_levels or c.name in ("weights", "inputs"))]
            already = {"inputs"} if input_level == lv else set()
            for name in sorted(choose_resident(self.level_capacities[lv], self.staging, here, already)):
                out[name] = lv
        return out

    def _staging_address(self, i: int) -> int:
        return (i % 2) * (self.staging // 2)

    def chunk(self, what: str, layer: Layer, total: int, footprint) -> int:
        """Largest chunk of ``total`` whose L1 footprint fits an L1 half, or a clear error."""
        m = largest_chunk(self.l1_half, total, footprint)
        if m == 0:
            raise MappingError(
                f"layer {layer.name!r}: the smallest {self.NAME} tile (one {what}) needs {footprint(1)} bytes, "
                f"more than an L1 half ({self.l1_half} bytes); raise buffers.l1.capacity_bytes or shrink the array"
            )
        return m

    # -- planning --------------------------------------------------------------------
    def plan_layer(self, layer: Layer, input_level: int | None, tiles: Callable[[int], bool] | None = None,
                   ) -> LayerPlan | LayerSummary:
        """:meth:`Dataflow.plan_layer`; a GEMM layer whose ``tiles`` say no is summarised without
        its tiles (a flatten or pooling layer is always planned with them)."""
        if layer.op == "flatten":
            kept = input_level is not None
            return LayerPlan(layer=layer, tiles=[], resident={"inputs": kept, "outputs": kept},
                             levels={"inputs": input_level, "outputs": input_level} if kept else {})
        if layer.op in ("maxpool2d", "avgpool2d", "sumpool2d", "identity"):
            return self._plan_pool(layer, input_level)
        return self._plan_gemm(layer, input_level, tiles)

    def gemm_candidates(self, layer: Layer) -> list[GemmCandidate]:
        """The tilings of a GEMM layer this dataflow considers."""
        raise NotImplementedError

    def _sizes(self, layer: Layer) -> dict[str, int]:
        T = self.workload.timesteps
        return {
            "weights": self.layer_weight_bytes(layer),
            "inputs": bits_to_bytes(T * layer.in_neurons),
            "membrane": bits_to_bytes(layer.out_neurons * self.mb) if T > 1 else 0,
            "outputs": bits_to_bytes(T * layer.out_neurons),
        }

    def _traffic(self, layer: Layer, steps: list[Step], sizes: dict[str, int]) -> dict[str, int]:
        """Bytes each tensor would move between the GLB/DRAM side and L1 with this tiling."""
        T = self.workload.timesteps
        mem = 0
        out = 0
        for s in steps:
            if s.last_k:  # outputs stored; membrane loaded before t0 > 0 and stored after t1 < T
                out += bits_to_bytes(s.mm * s.nc * (s.t1 - s.t0))
                mem += bits_to_bytes(s.mm * s.nc * self.mb) * ((s.t0 > 0) + (s.t1 < T))
        return {
            "weights": sum(s.w_bytes for s in steps),
            "inputs": sum(s.s_bytes for s in steps),
            "membrane": mem,
            "outputs": out,
        }

    def _plan_gemm(self, layer: Layer, input_level: int | None, tiles: Callable[[int], bool] | None = None,
                   ) -> LayerPlan | LayerSummary:
        resident_input = input_level is not None
        sizes = self._sizes(layer)
        kept = self._kept_choice.get((layer.index, input_level))
        if kept is not None:  # planned before (KEEP_CHOICE): the same tiling's steps made again
            label, make, res = kept
            steps = make()
        else:
            label, steps, res = self._choose(layer, sizes, input_level)
        self.chosen[layer.index] = label
        plan = self._emit(layer, steps, sizes, res, resident_input, tiles is None or tiles(len(steps)))
        plan.tiling = label
        return plan

    def _choose(self, layer: Layer, sizes: dict[str, int], input_level: int | None) -> tuple[str, list[Step], dict]:
        """The tiling :meth:`_plan_gemm` takes: the candidate with the fewest cycles (compute or DRAM,
        whichever bounds, plus the traffic the first tile cannot hide), then the least DRAM traffic,
        then the fewest tiles; returns its label, its steps and its residency (kept for a plan made
        again where the dataflow keeps its choice, KEEP_CHOICE)."""
        resident_input = input_level is not None
        best = None
        cands = self.recurrent_candidates(layer) if layer.recurrent else self.gemm_candidates(layer)
        for cand in cands:
            tot = cand.totals
            if tot is None:
                steps = cand.steps
                tot = StepTotals(sum(s.cycles for s in steps), self._traffic(layer, steps, sizes),
                                 steps[0] if steps else None, len(steps))
            moved = tot.moved
            reuse = {n: (moved[n] / sizes[n] if sizes[n] else 0.0) for n in sizes}
            res = self._residency(layer, sizes, reuse, input_level)
            dram = 0
            for n in sizes:
                if n in res:
                    dram += sizes[n] if (n == "weights" or (n == "inputs" and not resident_input)
                                         or (n == "outputs" and self._outputs_to_dram(layer))) else 0
                else:
                    dram += moved[n]
            cycles = tot.cycles
            if self.cores > 1:  # the cores share the tiles
                cycles = cycles / self.cores
            exposed = self._exposed_cycles(layer, [tot.first] if tot.count else [], sizes, res, resident_input)
            key = (max(cycles, dram / self.dram_bytes_per_cycle) + exposed, dram, tot.count)
            if best is None or key < best[0]:
                best = (key, cand, res)
        _, cand, res = best
        if self.KEEP_CHOICE and cand._make is not None:  # (read before cand.steps, which drops it)
            self._kept_choice[layer.index, input_level] = (cand.label, cand._make, res)
        return cand.label, cand.steps, res

    def recurrent_candidates(self, layer: Layer) -> list[GemmCandidate]:
        """The tilings of a recurrent layer: timestep t's GEMM (its feed-forward spikes and
        the layer's own spikes of t - 1, ``K + N`` inputs) tiled as a one-timestep
        workload by this dataflow's own rules, the timesteps in order. Tiles never span
        timesteps, since t's recurrent inputs exist only once t - 1 is done."""
        view = self.gemm_view(layer)
        T = self.workload.timesteps
        x = np.concatenate([np.asarray(self.workload.spikes[layer.name]).reshape(T, -1),
                            np.asarray(self.workload.spikes[layer.recurrent_key]).reshape(T, -1)], axis=1)
        self.weight_blocks(view)  # the one-timestep planners share the mask's block counts
        per_t: list[list[GemmCandidate]] = []
        for t in range(T):
            one = type(self)(platform=self.platform, workload=replace(self.workload, timesteps=1,
                                                                      spikes={layer.name: x[t:t + 1]}))
            one._wblocks = self._wblocks
            per_t.append(one.gemm_candidates(view))
        cands = []
        for i, c in enumerate(per_t[0]):
            steps = []
            for t, cs in enumerate(per_t):
                steps += [st.replace(t0=st.t0 + t, t1=st.t1 + t) for st in cs[i].steps]
            cands.append(GemmCandidate(f"per timestep, {c.label}", steps))
        return cands

    def _exposed_cycles(self, layer: Layer, steps: list[Step], sizes: dict[str, int], res: dict[str, int],
                        resident_input: bool) -> float:
        """Cycles of resident-tensor traffic the tiles cannot hide, at DRAM peak bandwidth:
        the first tile waits for its slices of the tensors the prologue brings from DRAM
        (the rest of the prologue arrives beside the tiles), and the epilogue writes the
        resident outputs back after the last tile."""
        if not steps:
            return 0.0
        first = steps[0]
        nbytes = first.w_bytes if "weights" in res else 0
        if "inputs" in res and not resident_input:
            nbytes += first.s_bytes
        if "outputs" in res and self._outputs_to_dram(layer):
            nbytes += sizes["outputs"]
        return nbytes / self.dram_bytes_per_cycle

    # @cython.locals(s=Step, keep=cython.bint)
    def _emit(self, layer: Layer, steps: list[Step], sizes: dict[str, int], res: dict[str, int],
              resident_input: bool, keep: bool = True) -> LayerPlan | LayerSummary:
        """The layer's plan: its ``steps`` as tiles with their moves, and the resident tensors'
        prologue and epilogue. ``keep`` false: its :class:`LayerSummary` alone, the same but for
        the tiles, which are not made (their bytes are still counted: ``l1_tile_bytes``,
        ``spike_formats``), with ``tile_ranges`` instead: each resident tensor's bytes in its level,
        where every move of a tile to or from it lies (:func:`_emit_move` keeps a move inside its
        tensor), and whether tiles store to it (outputs, membranes)."""
        T = self.workload.timesteps
        M, K, N = layer.gemm
        Kw = self.gemm_view(layer).gemm[1]  # weight rows: K, plus N recurrent ones
        glb = self._glb_layout(sizes, res, layer)
        lay = self.layout
        w_base, mem_base = lay.weights[layer.index], lay.membrane[layer.index]
        in_base, out_base = lay.inputs[layer.index], lay.outputs[layer.index]
        in_step = bits_to_bytes(layer.in_neurons)
        out_step = bits_to_bytes(layer.out_neurons)

        prologue: list[Move] = []
        if "weights" in res:
            prologue.append(Move(DataClass.WEIGHTS, sizes["weights"], True, w_base, glb["weights"],
                                 level=res["weights"]))
        if "inputs" in res and not resident_input:
            prologue.append(Move(DataClass.SPIKES, sizes["inputs"], True, in_base, glb["inputs"], level=res["inputs"]))
        if "inputs" not in res and resident_input:
            raise MappingError(f"layer {layer.name!r}: inputs left their level unexpectedly")  # planner invariant
        epilogue: list[Move] = []
        if "outputs" in res and self._outputs_to_dram(layer):
            epilogue.append(Move(DataClass.OUT_SPIKES, sizes["outputs"], True, out_base, glb["outputs"],
                                 level=res["outputs"]))
        res_layer = self.workload.layers[layer.residual] if layer.residual >= 0 else None
        res_bits = (1 if res_layer.neuron else self.ab) if res_layer is not None else 0
        res_dc = DataClass.SPIKES if res_layer is not None and res_layer.neuron else DataClass.PSUM

        def move(dc: DataClass, nbytes: int, tensor: str, offset: int, dram_base: int, stage: int,
                 after: tuple | None = None) -> Move:  # (_recurrent_loads': loads that wait, signalling nothing)
            return _emit_move(sizes, res, glb, dc, nbytes, tensor, offset, dram_base, stage, after, None)

        tiles: list[Tile] = []
        formats: dict[str, int] = {}
        producers: dict[int, list[tuple[int, int]]] = {}  # recurrent: timestep -> its output tiles (n0, nc)
        if layer.recurrent:
            for s in steps:
                if s.last_k:
                    producers.setdefault(s.t0, []).append((s.n0, s.nc))
        half = self.staging // 2  # _staging_address(i) = (i % 2) * half
        wb, mb, C = self.wb, self.mb, self.C
        neuron = layer.neuron
        recurrent = layer.recurrent
        upd_cycles = self.pe.update_cycles(neuron)  # neuron_cycles(layer, u, tt) = upd_cycles * ceil(u / C) * tt
        res_out_bytes = bits_to_bytes(res_layer.out_neurons * res_bits) if res_layer is not None else 0
        res_out_base = self.layout.outputs[layer.residual] if res_layer is not None else 0
        DC_W, DC_S, DC_MEM, DC_OUT = DataClass.WEIGHTS, DataClass.SPIKES, DataClass.MEMBRANE, DataClass.OUT_SPIKES
        l1 = 0
        for s in steps:
            i = len(tiles)
            stage = (i % 2) * half
            t0, t1, n0, nc, m0, mm, k0, k1 = s.t0, s.t1, s.n0, s.nc, s.m0, s.mm, s.k0, s.k1
            tt = t1 - t0
            loads: list[Move] = []
            nbytes = 0
            if s.w_bytes:
                if keep:
                    w_off = -(-((n0 * Kw + k0 * nc) * wb) // 8)
                    loads.append(_emit_move(sizes, res, glb, DC_W, s.w_bytes, "weights", w_off, w_base, stage))
                nbytes += s.w_bytes
            s_bytes = s.s_bytes
            if s_bytes:
                if k1 <= K:
                    ff_bytes = s_bytes
                else:
                    ff_rows = max(0, min(k1, K) - k0)
                    ff_bytes = -(-(s_bytes * ff_rows) // (k1 - k0))
                if ff_bytes:
                    if keep:
                        s_off = t0 * in_step + (m0 * K + k0) // 8
                        loads.append(_emit_move(sizes, res, glb, DC_S, ff_bytes, "inputs", s_off, in_base, stage))
                    nbytes += ff_bytes
                if k1 > K and t0 > 0:
                    rec = self._recurrent_loads(layer.index, s, K, s_bytes - ff_bytes, producers[t0 - 1], out_step,
                                                out_base, stage, move)
                    loads += rec
                    nbytes += sum(m.nbytes for m in rec)
                fmt = s.spike_format
                formats[fmt] = formats.get(fmt, 0) + 1
            stores: list[Move] = []
            ncyc = nupd = ops = 0
            if s.last_k:
                mem_bytes = -(-(mm * nc * mb) // 8)
                mem_off = (n0 * M + m0 * nc) * mb // 8
                if t0 > 0:
                    if keep:
                        loads.append(_emit_move(sizes, res, glb, DC_MEM, mem_bytes, "membrane", mem_off, mem_base,
                                                stage, (layer.index, "membrane", n0, m0, t0)))
                    nbytes += mem_bytes
                nupd = mm * nc * tt
                ncyc = upd_cycles * (-(-(mm * nc) // C)) * tt
                o_bytes = -(-(mm * nc * tt) // 8)
                if keep:
                    o_off = t0 * out_step + (n0 * M + m0 * nc) // 8
                    sig = (layer.index, "spikes", t0, n0) if recurrent and t0 < T - 1 else None
                    stores.append(_emit_move(sizes, res, glb, DC_OUT, o_bytes, "outputs", o_off, out_base, stage, None,
                                             sig))
                nbytes += o_bytes
                if t1 < T:
                    if keep:
                        stores.append(_emit_move(sizes, res, glb, DC_MEM, mem_bytes, "membrane", mem_off, mem_base,
                                                 stage, None, (layer.index, "membrane", n0, m0, t1)))
                    nbytes += mem_bytes
                if res_layer is not None:
                    # the shortcut: its slice of the residual source's output (in DRAM) is added
                    # by the neuron units, one output row per cycle
                    r_bytes = -(-(mm * nc * res_bits * tt) // 8)
                    if keep:
                        r_off = t0 * res_out_bytes + (n0 * M + m0 * nc) * res_bits // 8
                        loads.append(Move(res_dc, r_bytes, True, res_out_base + r_off, stage))
                    nbytes += r_bytes
                    ncyc += -(-(mm * nc) // C) * tt
                    ops = mm * nc * tt
            if nbytes > l1:
                l1 = nbytes
            if not keep:
                continue
            tiles.append(Tile(
                # positional (a keyword call costs more on this hot path): the order of Tile's fields
                i, t0, t1 - 1, loads, stores, s.cycles + ncyc, ncyc, s.dense_ops + ops, s.acc_ops + ops, nupd,
                s.pe_weight_loads, s.tag_bits, neuron, not s.last_k, ("gemm", t0, t1, n0, nc, m0, mm, k0, k1, s.last_k),
            ))
        if not keep:
            return LayerSummary(
                layer=layer, ntiles=len(steps), prologue=prologue, epilogue=epilogue,
                resident={name: name in res for name in sizes},
                resident_bytes=_level_bytes(sizes, res), levels=dict(res), l1_tile_bytes=l1,
                spike_formats=dict(sorted(formats.items())),
                tile_ranges=[(name, lv, glb[name], glb[name] + sizes[name], name in ("outputs", "membrane"))
                             for name, lv in sorted(res.items())],
            )
        return LayerPlan(
            layer=layer, tiles=tiles, prologue=prologue, epilogue=epilogue,
            resident={name: name in res for name in sizes},
            resident_bytes=_level_bytes(sizes, res), levels=dict(res), l1_tile_bytes=l1,
            spike_formats=dict(sorted(formats.items())),
        )

    @staticmethod
    def _recurrent_loads(li: int, s: Step, K: int, nbytes: int, producers: list[tuple[int, int]], out_step: int,
                         out_base: int, stage: int, move) -> list[Move]:
        """A recurrent layer's tile of timestep t reads its rows ``k >= K`` (outputs
        ``k - K``) from the layer's outputs of t - 1: one load per output tile of t - 1,
        carrying the tile's bytes in proportion to the rows that tile produced (0 bytes:
        it only waits), each after that tile's store, so the tile starts once every
        output of t - 1 is stored."""
        r0, r1 = max(s.k0, K) - K, s.k1 - K
        t = s.t0
        loads: list[Move] = []
        done = sent = 0
        for n0, nc in producers:
            done += max(0, min(r1, n0 + nc) - max(r0, n0))
            nb = nbytes * done // (r1 - r0) - sent
            sent += nb
            off = (t - 1) * out_step + max(r0, n0) // 8
            loads.append(move(DataClass.SPIKES, nb, "outputs", off, out_base, stage, after=(li, "spikes", t - 1, n0)))
        return loads

    def _plan_pool(self, layer: Layer, input_level: int | None) -> LayerPlan:
        """Pooling on spikes: the array's PEs act as adders (avg/sum) or OR gates (max).
        An identity layer (a neuron fed straight from its input, rank 1-3) is planned as
        a 1x1 pooling on its (N = out_shape[0], M = prod(out_shape[1:])) grid: no
        weights, each input passed once.

        Per timestep and group of channels that fits an L1 half: cycles =
        ceil(outputs x kh x kw / (R x C)) (every PE adds one input per cycle), plus the
        neuron update when the layer has a neuron model, plus (identity with a shortcut)
        one cycle per ``cols`` outputs to add the shortcut slice, as in a GEMM tile.
        """
        R, C, T = self.R, self.C, self.workload.timesteps
        c_in = layer.in_shape[0]
        hw = math.prod(layer.in_shape[1:])  # input positions per channel (1 for a 1-D layer)
        pix = math.prod(layer.out_shape[1:])  # output pixels per channel
        kh, kw = (1, 1) if layer.op == "identity" else layer.kernel
        res_layer = self.workload.layers[layer.residual] if layer.residual >= 0 else None
        res_bits = (1 if res_layer.neuron else self.ab) if res_layer is not None else 0
        res_dc = DataClass.SPIKES if res_layer is not None and res_layer.neuron else DataClass.PSUM
        per_ch = (bits_to_bytes(hw) + bits_to_bytes(pix) + (bits_to_bytes(pix * self.mb) if layer.neuron else 0)
                  + (bits_to_bytes(pix * res_bits) if res_layer is not None else 0))
        cg = self.chunk("channel", layer, c_in, lambda g: g * per_ch)
        sizes = {
            "inputs": bits_to_bytes(T * layer.in_neurons),
            "membrane": bits_to_bytes(layer.out_neurons * self.mb) if (layer.neuron and T > 1) else 0,
            "outputs": bits_to_bytes(T * layer.out_neurons),
        }
        res = self._residency(layer, sizes, {"inputs": 1.0, "membrane": float(2 * (T - 1)), "outputs": 1.0}, input_level)
        glb = self._glb_layout(sizes, res, layer)
        lay = self.layout
        in_base, out_base, mem_base = lay.inputs[layer.index], lay.outputs[layer.index], lay.membrane[layer.index]
        # no prologue: the inputs (reuse 1) are resident only where the previous layer left them
        epilogue = []
        if "outputs" in res and self._outputs_to_dram(layer):
            epilogue.append(Move(DataClass.OUT_SPIKES, sizes["outputs"], True, out_base, glb["outputs"],
                                 level=res["outputs"]))
        tiles: list[Tile] = []
        for t in range(T):
            for g0 in range(0, c_in, cg):
                g = min(cg, c_in - g0)
                i = len(tiles)
                stage = self._staging_address(i)
                in_off = t * bits_to_bytes(layer.in_neurons) + g0 * hw // 8
                out_off = t * bits_to_bytes(layer.out_neurons) + g0 * pix // 8
                loads = [_tensor_move(sizes, res, glb, DataClass.SPIKES, bits_to_bytes(g * hw), "inputs", in_off,
                                      in_base, stage)]
                stores = [_tensor_move(sizes, res, glb, DataClass.OUT_SPIKES, bits_to_bytes(g * pix), "outputs",
                                       out_off, out_base, stage)]
                ops = g * pix * kh * kw
                cycles = ceil_div(ops, R * C)
                ncyc = nupd = 0
                if layer.neuron:
                    nupd = g * pix
                    ncyc = self.neuron_cycles(layer, nupd)
                    mem_bytes = bits_to_bytes(nupd * self.mb)
                    mem_off = g0 * pix * self.mb // 8
                    if t > 0:
                        loads.append(_tensor_move(sizes, res, glb, DataClass.MEMBRANE, mem_bytes, "membrane", mem_off,
                                                  mem_base, stage, after=(layer.index, "membrane", t - 1, g0)))
                    if t < T - 1:
                        stores.append(_tensor_move(sizes, res, glb, DataClass.MEMBRANE, mem_bytes, "membrane", mem_off,
                                                   mem_base, stage, signals=(layer.index, "membrane", t, g0)))
                if res_layer is not None:  # the shortcut slice, from the residual source's output in DRAM
                    r_off = t * bits_to_bytes(res_layer.out_neurons * res_bits) + g0 * pix * res_bits // 8
                    loads.append(Move(res_dc, bits_to_bytes(g * pix * res_bits), True,
                                      lay.outputs[layer.residual] + r_off, stage))
                    ncyc += ceil_div(g * pix, C)
                    ops += g * pix
                tiles.append(Tile(index=i, t_first=t, t_last=t, loads=loads, stores=stores,
                                  compute_cycles=cycles + ncyc, neuron_cycles=ncyc, dense_ops=ops, acc_ops=ops,
                                  neuron_updates=nupd, neuron=layer.neuron,
                                  region=("identity" if layer.op == "identity" else "pool", t, g0, g)))
        return LayerPlan(layer=layer, tiles=tiles, epilogue=epilogue,
                         resident={name: name in res for name in sizes},
                         resident_bytes=_level_bytes(sizes, res), levels=dict(res), l1_tile_bytes=cg * per_ch,
                         tiling=f"t>c, channels/tile={cg}", spike_formats={"bitmap": len(tiles)})


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.systolic":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
