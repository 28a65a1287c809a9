"""``event``: address-event driven accumulation with a physical scatter.

Each input spike (an address event: channel, row, column, timestep) adds its
channel's fan-out weights into every output neuron it feeds: the ``F`` output
pixels whose window covers its position (stride and padding included) times the
``nc`` output channels of the current output block. The engine is the same R x C
PE array, used as banks of accumulators, fed through a scatter network:

* **Accumulator banks.** An output block has ``nc <= C`` channels, one per column;
  the ``g = C // nc`` column groups split the output pixels (pixel m in group
  ``m mod g``) and each group's R rows are its banks (pixel m in row
  ``(m // g) mod R``): ``g x R`` banks, each a row of ``nc`` accumulators that takes
  one update vector per cycle. Two target pixels in the same bank conflict (two
  cycles). Each PE keeps its partial sums in its scratchpad when they fit
  (``ceil(M / (g R))`` sums of ``accumulator_bits``); otherwise they live in L1 and
  each update is a read-modify-write there, ``L1 bytes per cycle / (2 x accumulator
  bytes)`` updates per cycle (L1 bytes per cycle = ``banks x port_width_bytes``).
* **Weights.** Each target pixel needs the weight vector (``nc`` weights) of its
  kernel offset, read from the L1 banks: at most ``L1 bytes per cycle`` per cycle.
* **Dispatch.** The dispatcher issues at most ``pe_array.event_dispatch_per_cycle``
  events per cycle.
* **Pipeline fill.** Per tile, ``2 + ceil(log2(g R))`` cycles before the first
  accumulate: the L1 read, a butterfly scatter network of ``log2(banks)`` stages,
  the accumulate.

The events of a tile queue per bank, so a tile takes ``fill + max(ceil(events /
dispatch), the most target pixels of any bank, ceil(weight bytes read / L1 bytes per
cycle), ceil(updates / L1 read-modify-write rate) when the partial sums are in L1)``
cycles (0 without an event). An event engine re-reads a weight for every update,
where a weight-stationary array reuses it over its whole stream; so at full density
the event engine is not faster than the dense arrays (tested on the shipped networks).

A tile covers one timestep, a block of ``nc`` output channels (their partial sums
and membranes stay on chip across the block's tiles) and a group of ``cg`` input
channels (a linear layer: input neurons). It loads the group's events in AER and the
fan-out weights of the channels that carry at least one event and a nonzero weight
into the block (a channel with no event costs nothing: that is the zero skipping;
``zero_skip: false`` processes every input position as an event and loads every
channel's weights, as a dense scan would). The block's neurons are all updated once
per timestep (the leak applies to silent neurons too), with the block's last tile.

Candidates for the tiler: output blocks from the widest that fits with one input
channel (at most C) down the ladder of balanced splits of the N channels
(:func:`~tlmsim.dataflow.tiling.split_ladder`), each with as many input channels
per tile as fit an L1 half, leaving out a narrower block with no fewer tiles; the
roofline estimate picks. A narrower block leaves room for more channels per tile
(fewer tiles, fewer pipeline fills) and spreads its pixels over more banks, but
dispatches every event once more per block. Before issue 17 only the widest block
was tried.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from tlmsim.dataflow.activity import fanout_map
from tlmsim.dataflow.formats import bits_for
from tlmsim.dataflow.systolic import GemmCandidate, Step, StepTotals, SystolicDataflow
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div, largest_chunk, split_ladder
from tlmsim.workload import Layer


def bank_fanout(layer: Layer, groups: int, rows: int) -> np.ndarray:
    """int ``(positions, groups x rows)``: for each input position of a channel, how
    many of the output pixels it feeds fall in each accumulator bank (pixel m in
    column group ``m mod groups``, row ``(m // groups) mod rows``; bank
    ``group x rows + row``). A linear layer has one position feeding its one pixel."""
    banks = groups * rows
    if layer.op == "linear":
        d = np.zeros((1, banks), dtype=np.int64)
        d[0, 0] = 1
        return d
    _, h, w = layer.in_shape
    kh, kw = layer.kernel
    sh, sw = layer.stride
    ph, pw = layer.padding
    _, ho, wo = layer.out_shape
    oy, ox, ky, kx = np.meshgrid(np.arange(ho), np.arange(wo), np.arange(kh), np.arange(kw), indexing="ij")
    iy, ix = oy * sh - ph + ky, ox * sw - pw + kx
    ok = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    m = (oy * wo + ox)[ok]
    d = np.zeros((h * w, banks), dtype=np.int64)
    np.add.at(d, ((iy * w + ix)[ok], (m % groups) * rows + (m // groups) % rows), 1)
    return d


class Event(SystolicDataflow):
    NAME = "event"
    SPIKE_FORMATS = ("aer",)
    KEEP_CHOICE = True  # a plan made again skips the block tables (their make() holds only the tables)

    def _channels(self, layer: Layer) -> tuple[int, int, np.ndarray]:
        """(input channels, positions per channel, fan-out per position)."""
        if layer.op == "linear":
            return layer.in_shape[0], 1, np.ones(1, dtype=np.int64)
        c, h, w = layer.in_shape
        return c, h * w, fanout_map(layer).ravel()

    def fill_cycles(self, nc: int) -> int:
        """Pipeline fill of a tile: the L1 read, log2(banks) scatter stages, the accumulate."""
        banks = max(1, self.C // nc) * self.R
        return 2 + (banks - 1).bit_length()

    def psums_in_pes(self, M: int, nc: int) -> bool:
        """Whether a block's ``nc x M`` partial sums fit the PE scratchpads."""
        g = max(1, self.C // nc)
        return ceil_div(M, g * self.R) * bits_to_bytes(self.ab) <= self.pe.scratchpad_bytes

    def gemm_candidates(self, layer: Layer) -> list[GemmCandidate]:
        C = self.C
        M, K, N = layer.gemm
        cin, pos, _ = self._channels(layer)
        kpc = K // cin  # reduction elements (weights per output channel) per input channel

        def footprint(ob: int, cg: int) -> int:
            n = cg * pos
            aer_max = bits_for(n + 1) + n * (1 + bits_for(n))
            return (bits_to_bytes(aer_max) + bits_to_bytes(cg * kpc * ob * self.wb)
                    + self.out_footprint(layer, ob * M, 1))

        ob1 = min(C, self.chunk("input channel and output channel", layer, N, lambda ob: footprint(ob, 1)))
        ctx = self._block_context(layer)
        cands = []
        fewest = None  # the fewest tiles per timestep of the shapes kept so far
        for ob in sorted({ob1, *split_ladder(N, ob1)}, reverse=True):
            cg = largest_chunk(self.l1_half, cin, lambda cg: footprint(ob, cg))
            tiles = ceil_div(N, ob) * ceil_div(cin, cg)
            if fewest is not None and tiles >= fewest:
                continue  # a narrower block and no fewer tiles
            fewest = tiles
            tables = self._block_tables(layer, ctx, ob, cg)
            cands.append(GemmCandidate(f"t>n>c, out block={ob}, channels/tile={cg}",
                                       make=partial(self._steps, layer, ob, tables),
                                       totals=self._totals(layer, tables)))
        return cands

    def _block_context(self, layer: Layer) -> dict:
        """What :meth:`_block_tables` reads of ``layer``'s spikes and weights, shared by its
        candidates: the events (every position without zero skipping), the nonzero weights per
        (input channel, output channel), and the caches of its bank demands."""
        T = self.workload.timesteps
        _, K, N = layer.gemm
        cin, pos, fan = self._channels(layer)
        kpc = K // cin
        blocks = self.weight_blocks(layer)
        x = self.workload.spikes[layer.name].reshape(T, cin, pos).astype(bool)
        events = x if self.df.zero_skip else np.ones_like(x)
        return {"events": events, "per_channel": events.sum(axis=2),  # events per (timestep, channel)
                "weights": (np.full((cin, N), kpc, dtype=np.int64) if blocks.dense
                            else blocks.mask.reshape(cin, kpc, N).sum(axis=1, dtype=np.int64)),
                "targets": np.einsum("tcp,p->tc", events, fan),  # target pixels per (timestep, channel)
                "demand": {},  # block width -> target pixels per (timestep, channel, bank)
                "peak": {}}  # (block width, channels per group) -> per (timestep, group, bank), the most per bank

    def _block_tables(self, layer: Layer, ctx: dict, ob: int, cg: int) -> list[dict]:
        """Per output block of ``ob`` channels (the last one partial), the fields of its
        tiles as ``(T, groups)`` arrays over timesteps and groups of ``cg`` input
        channels; blocks of the same width and nonzero weights per channel share one.
        The blocks of one width are worked out together, as ``(blocks, T, groups)`` arrays."""
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        cin, pos, _ = self._channels(layer)
        kpc = K // cin
        l1 = self.platform.buffers.l1
        l1_bw = l1.banks * l1.port_width_bytes
        rmw = max(1, l1_bw // (2 * bits_to_bytes(self.ab)))
        dispatch = self.pe.event_dispatch_per_cycle
        skip = self.df.zero_skip
        blocks = self.weight_blocks(layer)
        E, acc = ctx["per_channel"], ctx["targets"]
        starts = np.arange(0, cin, cg)
        G = len(starts)
        sizes = np.minimum(starts + cg, cin) - starts  # input channels per group
        bf = np.array([bits_for(int(n) * pos) for n in sizes], dtype=np.int64)
        bf1 = np.array([bits_for(int(n) * pos + 1) for n in sizes], dtype=np.int64)
        ev_all = np.add.reduceat(E, starts, axis=1)  # every event of the group (the AER stream)
        s_bits = bf1 + ev_all * (1 + bf) if skip else np.broadcast_to(sizes * pos, (T, G))
        s_bytes = -(-s_bits // 8)
        n0s = np.arange(0, N, ob)
        # nonzero weights per (block, input channel): the context's per (input channel, output channel)
        # summed over each block's columns
        w_all = np.ascontiguousarray(np.add.reduceat(ctx["weights"], n0s, axis=1).T)
        out: list[dict | None] = [None] * len(n0s)
        nfull = N // ob  # the full blocks (ob <= N), then the partial last one
        widths = [(ob, list(range(nfull)))] + ([(N - nfull * ob, [nfull])] if nfull < len(n0s) else [])
        for nc, idx in widths:
            # blocks with the same nonzeros per input channel share a table (the first one's row)
            seen: dict[bytes, int] = {}
            inv, rows = [], []
            for b in idx:
                u = seen.setdefault(w_all[b].tobytes(), len(seen))
                if u == len(rows):
                    rows.append(b)
                inv.append(u)
            W = w_all[rows]
            demand = ctx["demand"].get(nc)
            if demand is None:  # target pixels per (timestep, channel, bank), exact in float64
                fo = bank_fanout(layer, max(1, C // nc), R).astype(np.float64)
                demand = ctx["demand"][nc] = np.rint(
                    ctx["events"].reshape(T * cin, pos).astype(np.float64) @ fo).astype(np.int64).reshape(T, cin, -1)
            # target pixels per (timestep, group, bank) of every channel, and its busiest bank
            peak_all = ctx["peak"].get((nc, cg))
            if peak_all is None:
                grouped = np.add.reduceat(demand, starts, axis=1)
                peak_all = ctx["peak"][nc, cg] = (grouped, grouped.max(axis=2))
            # a channel is live at a timestep when it has events and (zero skip) a nonzero weight in
            # the block; a channel without events has no targets and no bank demand, so the events,
            # targets and demand of the live channels are those of the channels with a nonzero weight
            wl = W > 0  # (blocks, cin)
            shape = (len(W), T, G)
            if skip:
                live = (E > 0)[None] & wl[:, None, :]
                keep = wl[:, None, :].astype(np.int64)
                n_ev = np.add.reduceat(E[None] * keep, starts, axis=2)
                targets = np.add.reduceat(acc[None] * keep, starts, axis=2)
                peak = self._live_peak(demand, peak_all[1], wl, starts, sizes)
                nlive = np.add.reduceat(live, starts, axis=2, dtype=np.int64)
                nnz = np.add.reduceat(W[:, None, :] * live, starts, axis=2)
            else:  # every position an event, every channel live
                n_ev = np.broadcast_to(np.add.reduceat(E, starts, axis=1), shape)
                targets = np.broadcast_to(np.add.reduceat(acc, starts, axis=1), shape)
                peak = np.broadcast_to(peak_all[1], shape)
                nlive = np.broadcast_to(sizes, shape)
                nnz = np.broadcast_to(np.add.reduceat(W, starts, axis=1)[:, None, :], shape)
            updates = targets * nc
            vec_bytes = bits_to_bytes(nc * self.wb)  # one target pixel's weight vector
            busy = np.maximum(np.maximum(-(-n_ev // dispatch), peak), -(-(targets * vec_bytes) // l1_bw))
            if not self.psums_in_pes(M, nc):
                busy = np.maximum(busy, -(-updates // rmw))
            cycles = np.where(n_ev > 0, self.fill_cycles(nc) + busy, 0)
            # the weights' bytes of every (block, timestep, group) with a live channel, one
            # weight_bytes per distinct (live channels, nonzeros)
            w_bytes = np.zeros(shape, dtype=np.int64)
            on = nlive > 0
            if on.any():
                span = int(nnz.max()) + 1
                pairs, pinv = np.unique(nlive[on] * span + nnz[on], return_inverse=True)
                w_bytes[on] = np.array([self.weight_bytes(layer, (p // span) * kpc, nc, None if blocks.dense else p % span)
                                        for p in pairs.tolist()], dtype=np.int64)[pinv]
            dense, k0, k1 = M * sizes * kpc * nc, starts * kpc, (starts + sizes) * kpc
            tabs = [{"nc": nc, "cycles": cycles[u], "w_bytes": w_bytes[u], "s_bytes": s_bytes, "updates": updates[u],
                     "dense": dense, "k0": k0, "k1": k1} for u in range(len(W))]
            for j, b in enumerate(idx):
                out[b] = tabs[inv[j]]
        return out

    @staticmethod
    def _live_peak(demand: np.ndarray, full: np.ndarray, wl: np.ndarray, starts: np.ndarray,
                   sizes: np.ndarray) -> np.ndarray:
        """int64 ``(blocks, T, groups)``: the busiest bank's target pixels of each group's
        channels with a nonzero weight in each block (``wl``, ``(blocks, cin)``), from
        ``demand`` ``(T, cin, banks)``; ``full`` is every channel's (``(T, groups)``). A group
        with every channel weighted takes ``full``, one with none 0; the others are summed
        group by group for the blocks that need it, as one product of the 0/1 weights and
        the demand (exact in float64: integers far below 2**53)."""
        T, cin, banks = demand.shape
        cnt = np.add.reduceat(wl, starts, axis=1, dtype=np.int64)  # weighted channels per (block, group)
        peak = np.where((cnt == sizes)[:, None, :], full[None], 0)
        mixed = (cnt > 0) & (cnt < sizes)  # the groups with some channels weighted
        if mixed.any():
            d = demand.transpose(1, 0, 2).reshape(cin, T * banks).astype(np.float64)
            w = wl.astype(np.float64)
            for g in np.flatnonzero(mixed.any(axis=0)).tolist():
                rows = np.flatnonzero(mixed[:, g])
                c0, c1 = int(starts[g]), int(starts[g] + sizes[g])
                part = np.rint(w[rows, c0:c1] @ d[c0:c1]).astype(np.int64).reshape(len(rows), T, banks)
                peak[rows, :, g] = part.max(axis=2)
        return peak

    def _steps(self, layer: Layer, ob: int, tables: list[dict]) -> list[Step]:
        """The tiles: per output block of ``ob`` channels, per timestep, per group of input
        channels (the tables' ``k0``, ``k1``)."""
        T = self.workload.timesteps
        M = layer.gemm[0]
        fmt = "aer" if self.df.zero_skip else "bitmap"
        steps = []
        for b, tab in enumerate(tables):
            n0, nc = b * ob, tab["nc"]
            cyc, wb, sb, upd = (tab[k].tolist() for k in ("cycles", "w_bytes", "s_bytes", "updates"))
            dense, k0, k1 = tab["dense"].tolist(), tab["k0"].tolist(), tab["k1"].tolist()
            last = len(k0) - 1
            for t in range(T):
                for g in range(len(k0)):
                    steps.append(Step(t, t + 1, n0, nc, 0, M, k0[g], k1[g], cyc[t][g], wb[t][g], sb[t][g], dense[g],
                                      upd[t][g], upd[t][g], 0, g == last, fmt))
        return steps

    def _totals(self, layer: Layer, tables: list[dict]) -> StepTotals:
        """:class:`StepTotals` of :meth:`_steps`, from the tables."""
        T = self.workload.timesteps
        M = layer.gemm[0]
        tot = StepTotals(0, {"weights": 0, "inputs": 0, "membrane": 0, "outputs": 0}, None, 0)
        for tab in tables:
            nc = tab["nc"]
            tot.cycles += int(tab["cycles"].sum())
            tot.moved["weights"] += int(tab["w_bytes"].sum())
            tot.moved["inputs"] += int(tab["s_bytes"].sum())
            tot.moved["outputs"] += T * bits_to_bytes(M * nc)  # each timestep's last group stores the outputs
            tot.moved["membrane"] += 2 * (T - 1) * bits_to_bytes(M * nc * self.mb)
            tot.count += T * len(tab["k0"])
        tab = tables[0]
        upd = int(tab["updates"][0, 0])
        tot.first = Step(0, 1, 0, tab["nc"], 0, M, int(tab["k0"][0]), int(tab["k1"][0]), int(tab["cycles"][0, 0]),
                         int(tab["w_bytes"][0, 0]), int(tab["s_bytes"][0, 0]), int(tab["dense"][0]), upd, upd, 0,
                         len(tab["k0"]) == 1, "aer" if self.df.zero_skip else "bitmap")
        return tot


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.event":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
