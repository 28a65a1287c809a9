"""Weight-stationary streaming, shared by ``dense-ws``, ``ptb`` and ``spikex``.

The GEMM of a layer (M output pixels x K reduction x N output channels, per
timestep) maps K on the R array rows and N on the columns; a *fold* is one block of
at most R weight rows x the fold's output channels. The im2col rows of the input
spikes (one per output pixel) stream through the array. Time is cut into windows of
``W`` timesteps (``dataflow.time_window``, default per dataflow); a streamed
*element* is one pixel row over one window, costing one cycle per timestep of the
window (each PE has one accumulator: it adds its weight into one timestep's partial
sum per cycle).

A tile covers a window range (one window for ``dense-ws``, all of them for ``ptb``
and ``spikex``), ``nc`` output channels, ``mm`` output pixels and up to ``g`` folds
(as many as fit an L1 half). Its folds run back to back
(:meth:`~tlmsim.dataflow.systolic.SystolicDataflow.run_cycles`): fold j loads its
weights in ``fill = R`` cycles (0 when the previous tile left the same single fold in
the array; never with several cores, where the previous tile may have run on another
core) and streams for ``stream`` cycles; with ``pe_array.weight_double_buffer``
the next fill hides behind the current stream and the skew ``R + C - 2`` is paid
once per tile, without it every fold pays ``fill + R + C - 2 + stream`` (SCALE-Sim's
WS fold ``2R + C + M - 2``).

What the subclasses change (each in its module): which rows form a fold
(``spikex`` compacts the active rows), which folds are skipped (``ptb`` and
``spikex`` skip folds without an active element or with only zero weights: no
weight bytes, no cycles), how a fold's stream is counted (skipping, packing) and
which activity tags the sequencer reads. ``dense-ws``: every fold, every element.
:meth:`WsStreaming._steps` makes the steps without skipping; spikex's steps with
skipping (the same fill, stream and skew rules) are made in its module, per output
block on arrays.

Accumulates: every dense op without skipping; with it, one per spike per output
channel (``spikes in the tile's folds x nc``). Partial sums of a tile's folds stay on
chip; the neuron units update the tile's outputs after its last fold (see
:meth:`SystolicDataflow.neuron_cycles`).

Candidates for the tiler (:func:`tile_shapes`): for each fold count per tile on a
ladder of balanced splits of the reduction (:func:`fold_ladder`), the largest pixel
chunk that fits an L1 half, from the largest pixel chunk for one fold (then as many
folds as still fit) to all folds per tile (then the largest pixel chunk), leaving out
a shape with fewer pixels and no fewer tiles; each with output channels outer
(``n>m>k``, weights kept across pixel chunks when K fits one fold) or pixels outer
(``m>n>k``). Before issue 17 only those two end shapes were tried, so a small L1
(8 KiB halves) ran every 3 x 3 layer one fold per tile.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from tlmsim.dataflow.activity import Im2col, fold_sums, spike_bits
from tlmsim.dataflow.systolic import GemmCandidate, Step, StepTotals, SystolicDataflow
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div, largest_chunk
from tlmsim.workload import Layer


class ChunkFolds:
    """The folds one chunk of output pixels streams, and its spikes per fold.

    Fold f holds the reduction rows ``order[starts[f]:starts[f + 1]]`` (``order`` None:
    the rows ``starts[f]`` to ``starts[f + 1]``, i.e. plain R-row folds). ``counts`` is
    int ``(T, mm, folds)`` (spikes per timestep, pixel and fold) and ``active`` bool
    ``(windows, mm, folds)`` (the element carries a spike), both None when the dataflow
    does not look at the spikes. ``cache`` holds per-dataflow costs of the chunk (stream
    tables, active folds per window range, tags per row range), shared by the loop orders."""

    __slots__ = ("m0", "mm", "order", "starts", "counts", "active", "row_groups", "cache")

    def __init__(self, m0: int, mm: int, order: np.ndarray | None, starts: np.ndarray,
                 counts: np.ndarray | None, active: np.ndarray | None, row_groups: np.ndarray | None = None) -> None:
        self.m0, self.mm = m0, mm
        self.order, self.starts = order, starts
        self.counts, self.active = counts, active
        self.row_groups = row_groups  #: spikex: bool per R-row group of K, some row of it active
        self.cache: dict = {}

    @property
    def nf(self) -> int:
        return len(self.starts) - 1

    def rows(self, folds: np.ndarray) -> np.ndarray:
        """Reduction rows of ``folds`` (in order; at least one fold)."""
        idx = np.concatenate([np.arange(self.starts[f], self.starts[f + 1]) for f in folds])
        return self.order[idx] if self.order is not None else idx


class WsStreaming(SystolicDataflow):
    """Weight-stationary base: subclasses set the switches below."""

    #: skip silent folds and elements (activity tags); a skipping subclass (spikex) provides
    #: a ``_chunk_folds`` with activity and the steps with skipping (its ``_steps``):
    #: :meth:`_steps` here has the rules without skipping
    ZERO_SKIP = False
    #: one tile covers all timesteps: the weights stay in the array for all of them
    TIME_INNER = False
    #: allowed packing modes, tried per fold ("none" always)
    PACKING: tuple[str, ...] = ("none",)

    def fold_width(self) -> int:
        """Output channels of one fold (``ptb`` gives columns to parallel windows)."""
        return self.C

    def _spike_bound_bits(self, timesteps: int, n: int) -> int:
        """Worst case of a (timesteps x n) spike slice in the dataflow's format(s)."""
        fmts = self.SPIKE_FORMATS
        if "bitmap" in fmts:
            return timesteps * n  # the smallest choice is never above the bitmap
        return max(spike_bits(f, np.ones((timesteps, n), dtype=bool)) for f in fmts)

    def _tag_bound_bits(self, K: int, m: int, g: int) -> int:
        """Most activity-tag bits a tile of ``m`` pixels and ``g`` folds moves."""
        return 0

    # -- candidates -------------------------------------------------------------------
    def gemm_candidates(self, layer: Layer) -> list[GemmCandidate]:
        R, T = self.R, self.workload.timesteps
        M, K, N = layer.gemm
        fk = ceil_div(K, R)
        tt = T if self.TIME_INNER else self.window  # timesteps a tile covers (at most)
        width = min(self.fold_width(), N)
        w_fold = bits_to_bytes(R * width * self.wb)  # dense: a bound for any block's format

        def footprint(m: int, g: int) -> int:
            # g weight folds, the spike slice and tags, psums and outputs of tt timesteps, membrane
            return (g * w_fold + bits_to_bytes(self._spike_bound_bits(tt, m * g * R) + self._tag_bound_bits(K, m, g))
                    + self.out_footprint(layer, m * width, tt))

        self.chunk("fold and output pixel", layer, M, lambda m: footprint(m, 1))  # refuses a too-small L1
        shapes = tile_shapes(self.l1_half, M, fk, footprint)
        act = self.activity(layer) if (self.ZERO_SKIP or self.SPIKE_FORMATS != ("bitmap",)) else None
        cands = []
        spike_cache: dict[tuple, tuple[str, int]] = {}  # slice -> (format, bytes), shared by the candidates
        # a candidate ranked by its totals (summed per output block) has its steps made only
        # if it is chosen
        blockwise = self._ranked_by_totals(act)
        for m, g in dict.fromkeys(shapes):
            chunks = [self._chunk_folds(layer, act, m0, min(m, M - m0)) for m0 in range(0, M, m)]
            for order in ("n>m>k", "m>n>k"):
                label = f"{order}, m={m}, folds/tile={g}"
                if blockwise:
                    make = partial(self._steps, layer, act, chunks, g, order, spike_cache)
                    cands.append(GemmCandidate(label, make=make, totals=make(totals=True)))
                else:
                    cands.append(GemmCandidate(label, self._steps(layer, act, chunks, g, order, spike_cache)))
        return cands

    def _ranked_by_totals(self, act: Im2col | None) -> bool:
        """Whether candidates are ranked by their totals alone (their steps made only for
        the chosen one): with plain folds, streams and bitmaps (dense-ws), where output
        blocks repeat and are memoised. Otherwise a candidate's totals would cost its steps,
        and the chosen one's would be made twice."""
        return act is None and type(self)._fold_stream is WsStreaming._fold_stream

    def _stream_by_shape(self) -> bool:
        """Whether :meth:`_fold_stream` follows from the chunk's pixels, the fold's output
        channels and the timesteps alone, not from which chunk or fold it is: then
        :meth:`_steps` memoises a tile's cycles and weights, and without activity whole
        output blocks, by their shape. The plain rule does (dense-ws)."""
        return type(self)._fold_stream is WsStreaming._fold_stream

    def _chunk_folds(self, layer: Layer, act: Im2col | None, m0: int, mm: int) -> ChunkFolds:
        """The plain folds of a chunk (R rows each), without activity: a skipping
        subclass (spikex) overrides this."""
        R = self.R
        K = layer.gemm[1]
        starts = np.minimum(np.arange(ceil_div(K, R) + 1, dtype=np.int64) * R, K)
        return ChunkFolds(m0, mm, None, starts, None, None)

    def _window_activity(self, counts: np.ndarray) -> np.ndarray:
        """bool ``(windows, mm, folds)`` from spike counts ``(T, mm, folds)``."""
        T, mm, nf = counts.shape
        W, nwin = self.window, self.windows
        a = counts > 0
        if nwin * W != T:
            a = np.pad(a, ((0, nwin * W - T), (0, 0), (0, 0)))
        return a.reshape(nwin, W, mm, nf).any(axis=1)

    # -- per-dataflow rules (dense-ws: every fold, every element) --------------------------
    def _fold_stream(self, cf: ChunkFolds, f: int, w0: int, w1: int, nc: int) -> tuple[int, int]:
        """Stream cycles of fold ``f`` of chunk ``cf`` over windows [w0, w1) for ``nc``
        output channels, and the number of column groups holding a copy of its weights."""
        T, W = self.workload.timesteps, self.window
        return cf.mm * (min(T, w1 * W) - w0 * W), 1

    # -- steps ------------------------------------------------------------------------
    def _steps(self, layer: Layer, act: Im2col | None, chunks: list[ChunkFolds], g: int, order: str,
               spike_cache: dict, totals: bool = False) -> list[Step] | StepTotals:
        """The steps of a candidate, without skipping (every fold, every element; a
        skipping subclass has its own); ``totals``: their :class:`StepTotals` instead,
        summed per output block (the steps are made block by block and dropped)."""
        R, T = self.R, self.workload.timesteps
        M, K, N = layer.gemm
        W, nwin = self.window, self.windows
        win_groups = [(0, nwin)] if self.TIME_INNER else [(w, w + 1) for w in range(nwin)]
        ncap = self.fold_width()
        fn = ceil_div(N, ncap)
        # the weight mask matters when blocks are compressed
        blocks = self.weight_blocks(layer) if self.df.weight_compression else None
        steps: list[Step] = []
        held = None  # the fold the array holds
        mch = len(chunks)
        outer = [(n, mi) for n in range(fn) for mi in range(mch)] if order == "n>m>k" else \
                [(n, mi) for mi in range(mch) for n in range(fn)]
        # hot loop: fold boundaries as Python ints, the plain stream rule inlined, weight
        # block sizes memoised (the same values as the per-fold calls)
        plain_stream = type(self)._fold_stream is WsStreaming._fold_stream
        skew = R + self.C - 2
        rows = [cf.starts.tolist() for cf in chunks]
        wsize: dict[tuple[int, int, int | None], int] = {}
        # plain folds and streams by shape: a tile's cycles, weight bytes and loads follow from
        # its group j, pixels, channels, timesteps, whether the array holds its one fold, and
        # (real nonzeros) its output block: memoised (the same values as the loop below). It
        # serves the tiles when there is activity (spikex without skipping, spike formats
        # other than bitmap: 97 % of lookups hit on the shipped workloads and platforms);
        # without, the block memo below answers first and this one never hits
        fast = self._stream_by_shape()
        memo: dict[tuple, tuple[int, int, int]] = {}
        # with a bitmap of every fold as well, a whole output block (its tiles' fields after
        # the position) follows from its pixels, channels, timesteps, nonzeros key and
        # whether the array holds its first tile's one fold (only the first tile can: the
        # others follow a tile of the same block with other folds): blocks are memoised too
        blocks_memo: dict[tuple, list[tuple]] = {}
        tot = StepTotals(0, {"weights": 0, "inputs": 0, "membrane": 0, "outputs": 0}, None, 0) if totals else None
        block_tot: dict[tuple, StepTotals] = {}  # totals: a memoised block's totals, by its key and timesteps
        for w0, w1 in win_groups:
            t0, t1 = w0 * W, min(T, w1 * W)
            for n, mi in outer:
                if self.cores > 1:  # consecutive output blocks may run on different cores: each loads its own
                    held = None
                cf = chunks[mi]
                starts = rows[mi]
                n0 = n * ncap
                nc = min(ncap, N - n0)
                mm = cf.mm
                nnz = None if blocks is None or blocks.dense else blocks.fold_counts(cf.order, cf.starts, n0, nc)
                nf = cf.nf
                nnz_l = None if nnz is None else nnz.tolist()
                bkey = None
                first = len(steps)
                if fast and act is None:
                    # the fold groups are 0 .. g - 1, g .. 2 g - 1, ...: the first holds min(g, nf) folds
                    # from fold 0, the last ends at fold nf - 1 (a memoised block needs no more of them)
                    bkey = (mm, nc, t1 - t0, min(g, nf) == 1 and held == (n, 0), n if nnz_l is not None else -1)
                    fields = blocks_memo.get(bkey)
                    if fields is not None:
                        held = (n, nf - 1)
                        if tot is not None:
                            bt = block_tot.get((bkey, t0, t1))
                            if bt is None:
                                bt = block_tot[bkey, t0, t1] = self._block_totals(
                                    layer, [Step(t0, t1, n0, nc, cf.m0, mm, *v) for v in fields])
                            tot.add(bt)
                        else:
                            steps += [Step(t0, t1, n0, nc, cf.m0, mm, *v) for v in fields]
                        continue
                folds = list(range(nf))
                glists = [folds[i:i + g] for i in range(0, nf, g)]
                ng = len(glists)
                for j in range(ng):
                    gl = glists[j]
                    k0, k1 = starts[gl[0]], starts[gl[-1] + 1]
                    if fast:
                        hit = len(gl) == 1 and held == (n, gl[0])
                        mkey = (j, mm, nc, t1 - t0, hit, n if nnz_l is not None else -1)
                        v = memo.get(mkey)
                    else:
                        v = None
                    if v is None:
                        fills: list[int] = []
                        streams: list[int] = []
                        w_bytes = wloads = 0
                        multi = len(gl) > 1
                        for f in gl:
                            kr = starts[f + 1] - starts[f]
                            key = (n, f)
                            if plain_stream:
                                s, copies = mm * (t1 - t0), 1
                            else:
                                s, copies = self._fold_stream(cf, f, w0, w1, nc)
                            if multi or held != key:
                                fills.append(R)
                                wkey = (kr, nc, None if nnz_l is None else nnz_l[f])
                                wb = wsize.get(wkey)
                                if wb is None:
                                    wb = wsize[wkey] = self.weight_bytes(layer, *wkey)
                                w_bytes += wb
                                wloads += kr * nc * copies
                            else:
                                fills.append(0)
                            held = key
                            streams.append(s)
                        if len(fills) == 1:  # run_cycles of one fold, with or without double buffering
                            cycles = fills[0] + streams[0] + skew
                        else:
                            cycles = self.run_cycles(fills, streams)
                        if fast:
                            memo[mkey] = (cycles, w_bytes, wloads)
                    else:
                        cycles, w_bytes, wloads = v
                        held = (n, gl[-1])
                    dense = mm * (k1 - k0) * nc * (t1 - t0)
                    if act is None:  # _tile_spikes without activity: a bitmap
                        fmt, s_bytes = "bitmap", -(-((t1 - t0) * mm * (k1 - k0)) // 8)
                    else:
                        fmt, s_bytes = self._tile_spikes(act, cf, k0, k1, t0, t1, spike_cache)
                    steps.append(Step(t0, t1, n0, nc, cf.m0, mm, k0, k1, cycles, w_bytes, s_bytes, dense, dense,
                                      wloads, 0, j == ng - 1, fmt))
                if bkey is not None:
                    blocks_memo[bkey] = [(s.k0, s.k1, s.cycles, s.w_bytes, s.s_bytes, s.dense_ops, s.acc_ops,
                                          s.pe_weight_loads, s.tag_bits, s.last_k, s.spike_format)
                                         for s in steps[first:]]
                if tot is not None:
                    bt = self._block_totals(layer, steps[first:])
                    if bkey is not None:
                        block_tot[bkey, t0, t1] = bt
                    tot.add(bt)
                    del steps[first:]
        return steps if tot is None else tot

    def _block_totals(self, layer: Layer, steps: list[Step]) -> StepTotals:
        """:class:`StepTotals` of one output block's steps."""
        return StepTotals(sum(s.cycles for s in steps), self._traffic(layer, steps, {}), steps[0] if steps else None,
                          len(steps))

    def _tile_spikes(self, act: Im2col, cf: ChunkFolds, k0: int, k1: int, t0: int, t1: int,
                     cache: dict) -> tuple[str, int]:
        """Format and bytes of the spikes a tile streams without skipping: rows ``[k0, k1)``
        of its chunk's pixels over timesteps ``[t0, t1)`` (a skipping subclass moves only
        the rows of the folds it streams: its own rule)."""
        key = (t0, t1, cf.m0, cf.mm, k0, k1)
        if key not in cache:
            cache[key] = self.spike_slice(act, t0, t1, cf.m0, cf.m0 + cf.mm, k0, k1)
        return cache[key]


def fold_ladder(fk: int, gmax: int) -> list[int]:
    """Fold counts per tile the tiler tries for ``fk`` folds, at most ``gmax``:
    ``ceil(fk / q)`` for q = 1, 2, 4, ... tiles per reduction (a geometric ladder of
    balanced splits: each is the fewest folds per tile that cuts the reduction into q
    tiles), those above ``gmax`` left out, plus ``gmax`` and 1; ascending. Not
    :func:`~tlmsim.dataflow.tiling.split_ladder` (dense-is, event): that one adds the
    balanced split into the fewest tiles, ``ceil(fk / ceil(fk / gmax))``, where this adds
    ``gmax`` itself (72 folds, at most 31: 24 there, 31 here; the two ladders agree on
    18 % of the pairs fk <= 199, gmax <= fk), so merging them would change the plans."""
    gs = {1, gmax}
    q = 1
    while q < fk:
        gs.add(ceil_div(fk, q))
        q *= 2
    return sorted(g for g in gs if g <= gmax)


def tile_shapes(limit: int, M: int, fk: int, footprint) -> list[tuple[int, int]]:
    """The (pixels, folds) tile shapes the tiler tries, for ``M`` pixels and ``fk``
    folds: for each fold count g of :func:`fold_ladder` (up to the most folds that
    fit with one pixel), and for g1, the most folds that still fit with the largest
    one-fold pixel chunk m1, the largest pixel chunk whose ``footprint(m, g)`` fits
    ``limit``; of shapes with the same pixel chunk only the one with the most folds
    (the same pixels per tile, fewer tiles). So the two shapes tried before, (m1, g1)
    and (the most pixels with all folds, all folds) when that fits, are among them,
    with the shapes in between. A shape with fewer pixels than one kept and no fewer
    tiles (``ceil(M / m) x ceil(fk / g)`` per output block) is left out: it would
    reload the weights for more pixel chunks and pay at least as many fills and skews.
    Ascending in folds; empty when one pixel of one fold does not fit."""
    gmax = largest_chunk(limit, fk, lambda g: footprint(1, g))
    if gmax == 0:
        return []
    m1 = largest_chunk(limit, M, lambda m: footprint(m, 1))
    g1 = largest_chunk(limit, fk, lambda g: footprint(m1, g))
    shapes: list[tuple[int, int]] = []
    fewest = None  # the fewest tiles per output block of the shapes kept so far
    for g in sorted(set(fold_ladder(fk, gmax)) | {g1}):
        m = largest_chunk(limit, M, lambda m: footprint(m, g))
        tiles = ceil_div(M, m) * ceil_div(fk, g)
        if shapes and shapes[-1][0] == m:
            shapes.pop()  # the same pixels with more folds: fewer tiles
        elif fewest is not None and tiles >= fewest:
            continue  # fewer pixels per tile, no fewer tiles
        shapes.append((m, g))
        fewest = tiles if fewest is None else min(fewest, tiles)
    return shapes


def compact_folds(x: np.ndarray, R: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The active rows of a chunk's spikes ``x`` (bool ``(T, mm, K)``: a row is active
    when it carries a spike at some pixel and timestep), packed into folds of R:
    returns (active row indices, fold starts into them, spikes per (t, pixel, fold))."""
    order = np.flatnonzero(x.any(axis=(0, 1)))
    n = len(order)
    starts = np.minimum(np.arange(ceil_div(n, R) + 1, dtype=np.int64) * R, n)
    return order, starts, fold_sums(x[:, :, order], R)


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.ws":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
