"""The controller: runs layer plans by issuing transactions through the hierarchy.

Per layer it loads the GLB-resident tensors (prologue), then three processes run
the tiles as a pipeline:

* loader:   waits for a free L1 half (double buffering: two halves), then loads
            the tile's operands, DRAM -> NoC -> GLB -> NoC -> L1 (or GLB -> NoC -> L1
            for GLB-resident data);
* compute:  waits for a loaded tile and a free output slot, runs it on the PE array
            (which reads its operands from L1), writes its outputs to L1 and frees
            the input half;
* writer:   moves outputs L1 -> NoC -> GLB (-> NoC -> DRAM) and frees the slot.

So the loads of tile k+1 overlap the compute of tile k. Layers are separated by a
barrier (the next layer's loads start after the last store of this one).

Every move is split into DMA blocks of ``dataflow.dma_chunk_bytes``; up to
``dataflow.dma_outstanding`` blocks of one move are in flight at once, each block
passing its hops in order, so DRAM, NoC and SRAM work as a pipeline.

Stalls: the loader waiting for an L1 half ("l1_full") or for a membrane store it
depends on ("dependency"); the PE array waiting for operands
("waiting_for_operands") or for an output slot ("waiting_for_output_buffer").
"""

from __future__ import annotations

from dataclasses import dataclass, field
import simpy

from tlmsim.dataflow.base import LayerPlan, Move
from tlmsim.engine.component import Component
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.stats import StatDecl
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.pe_array import PeArray

#: output slots in L1 (outputs of tile k drain while tile k+1 computes)
OUTPUT_SLOTS = 2


@dataclass
class LayerRecord:
    """Timing of one layer as the controller saw it."""

    index: int
    name: str
    start_ps: int = 0
    end_ps: int = 0
    tiles: int = 0
    compute_cycles: int = 0
    neuron_cycles: int = 0
    dense_ops: int = 0
    acc_ops: int = 0
    neuron_updates: int = 0
    resident: dict = field(default_factory=dict)


class Controller(Component):
    """Issues every transaction of the run; see the module docstring."""

    KIND = "controller"
    STALLS_AT_END = True  # the pipeline processes report each wait when it ends
    STATS = (
        StatDecl("dma_blocks", "count", "DMA blocks moved"),
        StatDecl("layers", "count", "layers run"),
    )

    def __init__(
        self,
        *,
        name: str,
        env: simpy.Environment,
        recorder: Recorder,
        dram: Component,
        noc,
        glb: Component,
        l1: Component,
        pe: PeArray,
        plans: list[LayerPlan],
        chunk_bytes: int,
        outstanding: int,
        double_buffered: bool,
    ) -> None:
        super().__init__(name=name, env=env, recorder=recorder)
        self.dram, self.noc, self.glb, self.l1, self.pe = dram, noc, glb, l1, pe
        self.plans = plans
        self.chunk = chunk_bytes
        self.outstanding = outstanding
        self.halves = 2 if double_buffered else 1
        self.half_bytes = l1.half_capacity_bytes if double_buffered else l1.capacity_bytes
        #: GLB bytes reserved for blocks passing through it (one chunk per lane, both ways)
        self.staging_bytes = 2 * outstanding * chunk_bytes
        self.layers: list[LayerRecord] = []
        #: what each pipeline process is blocked on: process -> (what, layer, tile)
        self.waiting: dict[str, tuple[str, int, int]] = {}
        self._signals: dict[tuple, simpy.Event] = {}
        self.done = env.event()
        self.process = env.process(self._run())

    # -- DMA ---------------------------------------------------------------------------
    def _hop(self, comp, cmd: Cmd, dc: DataClass, addr: int, n: int, src: str, dst: str, layer: int, tile: int,
             chain: int = -1):
        """One event-driven hop: ``yield from comp.access(txn)``."""
        rec = self.recorder
        txn = rec.new_transaction(cmd, dc, addr, n, src, dst, now_ps=self.env.now, layer=layer, tile=tile,
                                  chain=chain)
        yield from comp.access(txn)
        rec.complete(txn, self.env.now)

    def _chain(self, t: int, hops: tuple, dc: DataClass, n: int, layer: int, tile: int, chain: int = -1) -> int:
        """Book timestamp-modelled hops (SRAM, NoC) back to back from time ``t``;
        return when the last one ends. Each hop is its own transaction."""
        rec = self.recorder
        for comp, cmd, addr, src, dst in hops:
            txn = rec.new_transaction(cmd, dc, addr, n, src, dst, now_ps=t, layer=layer, tile=tile, chain=chain)
            t = comp.reserve(txn, t)
            rec.complete(txn, t)
        return t

    def _block(self, route: str, move: Move, offset: int, n: int, l1_addr: int, layer: int, tile: int):
        """One DMA block along ``route``; see :meth:`transfer`.

        DRAM hops are event-driven (its scheduler sees concurrent requests); the
        SRAM and NoC hops behind them are booked with timestamps and waited for
        with one timeout per leg (TLM-2.0 loosely-timed style).
        """
        dc = move.data_class
        da, ga, la = move.dram_address + offset, move.glb_address + offset, l1_addr + offset
        env, noc, glb, l1, R, W = self.env, self.noc, self.glb, self.l1, Cmd.READ, Cmd.WRITE
        hops: tuple = ()
        chain = self.recorder.new_chain()  # the block's hops share it (the timeline's flow)
        if route in ("dram>glb", "dram>l1"):
            yield from self._hop(self.dram, R, dc, da, n, "dram", "noc", layer, tile, chain)
            hops = ((noc, W, 0, "dram", "glb"), (glb, W, ga, "noc", "glb"))
        if route in ("glb>l1", "dram>l1"):
            hops += ((glb, R, ga, "glb", "noc"), (noc, W, 0, "glb", "l1"), (l1, W, la, "noc", "l1"))
        if route in ("l1>glb", "l1>dram"):
            hops = ((l1, R, la, "l1", "noc"), (noc, W, 0, "l1", "glb"), (glb, W, ga, "noc", "glb"))
        if route in ("glb>dram", "l1>dram"):
            hops += ((glb, R, ga, "glb", "noc"), (noc, W, 0, "glb", "dram"))
        end = self._chain(env.now, hops, dc, n, layer, tile, chain)
        if end > env.now:
            yield env.timeout(end - env.now)
        if route in ("glb>dram", "l1>dram"):
            yield from self._hop(self.dram, W, dc, da, n, "noc", "dram", layer, tile, chain)
        self.stats.c["dma_blocks"] += 1

    def _lane(self, route, move, offsets, l1_addr, layer, tile):
        for off, n in offsets:
            yield from self._block(route, move, off, n, l1_addr, layer, tile)

    def transfer(self, route: str, move: Move, l1_addr: int, layer: int, tile: int):
        """Move ``move.nbytes`` along ``route`` in DMA blocks, up to ``outstanding`` at once.

        Routes: dram>glb, glb>dram (resident tensors), dram>l1, glb>l1 (loads),
        l1>glb, l1>dram (stores); dram<->l1 passes through the GLB.
        """
        blocks = [(off, min(self.chunk, move.nbytes - off)) for off in range(0, move.nbytes, self.chunk)]
        lanes = min(self.outstanding, len(blocks))
        if lanes <= 1:
            yield from self._lane(route, move, blocks, l1_addr, layer, tile)
            return
        procs = [
            self.env.process(self._lane(route, move, blocks[i::lanes], l1_addr, layer, tile)) for i in range(1, lanes)
        ]
        yield from self._lane(route, move, blocks[0::lanes], l1_addr, layer, tile)
        yield simpy.AllOf(self.env, procs)

    def _parallel(self, gens: list):
        """Run generators concurrently; the first inline, the others as processes."""
        if not gens:
            return
        procs = [self.env.process(g) for g in gens[1:]]
        yield from gens[0]
        if procs:
            yield simpy.AllOf(self.env, procs)

    # -- the three pipeline processes -------------------------------------------------------
    def _loader(self, plan: LayerPlan, free: simpy.Store, ready: simpy.Store, li: int):
        env = self.env
        for tile in plan.tiles:
            t0 = env.now
            self.waiting["loader"] = ("a free L1 half (queue 'l1 halves')", li, tile.index)
            half = yield free.get()
            self.stall("l1_full", env.now - t0, li)
            t0 = env.now
            for mv in tile.loads:
                if mv.after is not None:
                    self.waiting["loader"] = (f"the store {mv.after} it depends on", li, tile.index)
                    yield self._signal(mv.after)
            self.stall("dependency", env.now - t0, li)
            self.waiting["loader"] = ("its DMA loads (DRAM/NoC/GLB/L1)", li, tile.index)
            base = half * self.half_bytes
            gens, offset = [], 0
            for mv in tile.loads:
                route = "dram>l1" if mv.in_dram else "glb>l1"
                gens.append(self.transfer(route, mv, base + offset, li, tile.index))
                offset += mv.nbytes
            yield from self._parallel(gens)
            ready.put((tile, half))

    def _compute(self, plan: LayerPlan, free: simpy.Store, ready: simpy.Store, outq: simpy.Store,
                 slots: simpy.Store, rec: LayerRecord, li: int):
        env, pe, l1 = self.env, self.pe, self.l1
        for _ in plan.tiles:
            t0 = env.now
            self.waiting["compute"] = ("a loaded tile (queue 'ready tiles')", li, -1)
            tile, half = yield ready.get()
            pe.stall("waiting_for_operands", env.now - t0, li)
            t0 = env.now
            self.waiting["compute"] = ("a free output slot (queue 'output slots')", li, tile.index)
            slot = yield slots.get()
            self.waiting["compute"] = ("the PE array", li, tile.index)
            pe.stall("waiting_for_output_buffer", env.now - t0, li)
            base = half * self.half_bytes
            nread = tile.load_bytes
            now = env.now
            operands_ps = now
            if nread:  # the array streams its operands out of L1 while it computes
                dc = tile.loads[0].data_class if len(tile.loads) == 1 else DataClass.NONE
                operands_ps = self._chain(now, ((l1, Cmd.READ, base, "l1", pe.name),), dc, nread, li, tile.index)
            txn = self.recorder.new_transaction(Cmd.COMPUTE, DataClass.NONE, 0, 0, self.name, pe.name,
                                                now_ps=now, layer=li, tile=tile.index, cycles=tile.compute_cycles)
            yield from pe.compute(txn, tile, operands_ps, plan)
            self.recorder.complete(txn, env.now)
            if tile.stores:
                dc = tile.stores[0].data_class if len(tile.stores) == 1 else DataClass.NONE
                end = self._chain(env.now, ((l1, Cmd.WRITE, base + tile.load_bytes, pe.name, "l1"),), dc,
                                  tile.store_bytes, li, tile.index)
                if end > env.now:
                    yield env.timeout(end - env.now)
            free.put(half)  # unbounded store: succeeds at once, no need to wait
            rec.tiles += 1
            rec.compute_cycles += tile.compute_cycles
            rec.neuron_cycles += tile.neuron_cycles
            rec.dense_ops += tile.dense_ops
            rec.acc_ops += tile.acc_ops
            rec.neuron_updates += tile.neuron_updates
            if tile.stores:
                outq.put((tile, half, slot))
            else:
                slots.put(slot)

    def _writer(self, plan: LayerPlan, outq: simpy.Store, slots: simpy.Store, li: int):
        n = sum(1 for t in plan.tiles if t.stores)
        for _ in range(n):
            self.waiting["writer"] = ("outputs to store (queue 'outputs')", li, -1)
            tile, half, slot = yield outq.get()
            self.waiting["writer"] = ("its DMA stores (L1/NoC/GLB/DRAM)", li, tile.index)
            base = half * self.half_bytes + tile.load_bytes
            gens, offset = [], 0
            for mv in tile.stores:
                route = "l1>dram" if mv.in_dram else "l1>glb"
                gens.append(self.transfer(route, mv, base + offset, li, tile.index))
                offset += mv.nbytes
            yield from self._parallel(gens)
            for mv in tile.stores:
                if mv.signals is not None:
                    self._signal(mv.signals).succeed()
            slots.put(slot)

    def describe_blocked(self) -> str:
        """One sentence: what each pipeline process is waiting for."""
        if not self.waiting:
            return "no pipeline process started"
        parts = [f"{proc} waits for {what} (layer {li}" + (f", tile {ti})" if ti >= 0 else ")")
                 for proc, (what, li, ti) in sorted(self.waiting.items())]
        return "; ".join(parts)

    def _signal(self, key: tuple) -> simpy.Event:
        ev = self._signals.get(key)
        if ev is None:
            ev = self._signals[key] = self.env.event()
        return ev

    # -- layers ----------------------------------------------------------------------------
    def _run_layer(self, plan: LayerPlan):
        env = self.env
        li = plan.layer.index
        rec = LayerRecord(index=li, name=plan.layer.name, start_ps=env.now, resident=dict(plan.resident))
        # GLB space: the layer's resident tensors plus the DMA staging area
        glb_need = plan.glb_bytes + self.staging_bytes
        self.glb.allocate(glb_need, f"layer {plan.layer.name!r} (resident tensors + DMA staging)")
        yield from self._parallel([self.transfer("dram>glb", mv, 0, li, -1) for mv in plan.prologue])
        if plan.tiles:
            free, ready = simpy.Store(env), simpy.Store(env)
            outq, slots = simpy.Store(env), simpy.Store(env)
            for h in range(self.halves):
                free.put(h)
            for s in range(OUTPUT_SLOTS):
                slots.put(s)
            procs = [
                env.process(self._loader(plan, free, ready, li)),
                env.process(self._compute(plan, free, ready, outq, slots, rec, li)),
                env.process(self._writer(plan, outq, slots, li)),
            ]
            yield simpy.AllOf(env, procs)
        self.waiting.clear()
        yield from self._parallel([self.transfer("glb>dram", mv, 0, li, -1) for mv in plan.epilogue])
        self.glb.free(glb_need)
        rec.end_ps = env.now
        self.layers.append(rec)
        self.stats.c["layers"] += 1
        self._signals = {k: v for k, v in self._signals.items() if k[0] != li}

    def _run(self):
        for plan in self.plans:
            yield from self._run_layer(plan)
        self.done.succeed()
