"""``spikex``: the SpikeX dataflow (Xu, Boone, Li, arXiv 2505.12292), as modelled here.

* Multi-bit weights are the expensive operand, so they move least: a tile covers
  *all* timesteps, and each fold's weights are loaded into the array once per tile
  and reused over every timestep (``dense-ws`` reloads them every timestep).
* Activity tags find the silent work, and it is neither moved nor streamed. The tag
  granularity modelled is the presynaptic (reduction) row of a tile: a row is
  *active* when it carries a spike for some output pixel of the tile's chunk at some
  timestep. SpikeX tags presynaptic inputs that carry no spike so that their
  multi-bit weights are not moved; a row is the finest unit whose weights can be left
  behind (a conv weight row serves every pixel of the chunk, so a finer tag would
  skip streamed work but no weight bytes), and it is known before the chunk's
  weights are fetched. The active rows are *compacted*: packed in order into folds of
  R rows, so the folds streamed follow the number of active rows, and a silent row
  moves no weight and takes no cycle. Tags are two-level: one bit per group of R
  consecutive rows (some row of the group is active), then one bit per row of each
  active group; both move with the tile's spikes and the sequencer reads them at
  ``pe_array.tag_bits_per_cycle``. Inside a compacted fold an element (pixel row,
  window) without a spike is skipped by a zero-detect on its spike word as it leaves
  L1 (one tag check per element). At density 0 a chunk streams no fold and moves no
  weight: its tiles cost the group tags and the neuron update.
* Work units are neuro-temporal: an output neuron over a window of ``time_window``
  timesteps (default 1). When a fold is narrower than the array (``nc < C``), the
  ``p = C // nc`` idle column groups are packed in *time* (more windows of the same
  output neurons: ``W x ceil(active windows / p)`` per pixel) or in *space* (more
  output pixels reusing the same filter: ``W x ceil(active pixels / p)`` per window);
  ``packing: auto`` takes the faster per fold, and packed groups hold copies of the
  fold's weights.
* Accumulates happen only where a spike meets a weight (``zero_skip: false`` turns
  tags, compaction and skipping off: every row, every element, every dense
  accumulate). A fold whose (compacted) weight block is all zero is skipped too.
* Membrane potentials stay in the neuron units for the whole tile, so they never
  spill to the GLB or DRAM; the psums of the tile's timesteps stay on chip.
* Spikes move in the smallest format per tile (``spike_format: auto``).

Cycle rule: :mod:`tlmsim.dataflow.ws`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tlmsim.dataflow.activity import Im2col, grouped_bits
from tlmsim.dataflow.systolic import Step, StepTotals
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div
from tlmsim.dataflow.ws import ChunkFolds, WsStreaming, compact_folds
from tlmsim.workload import Layer


class _BlockSum(NamedTuple):
    """One output block's tiles summed, as :meth:`~tlmsim.dataflow.systolic.SystolicDataflow._traffic`
    reads a step: its timesteps, pixels and channels, weight and spike bytes, and ``last_k``
    (the block stores its outputs once)."""

    t0: int
    t1: int
    mm: int
    nc: int
    w_bytes: int
    s_bytes: int
    last_k: bool


class SpikeX(WsStreaming):
    NAME = "spikex"
    TIME_INNER = True

    def __init__(self, *, platform, workload) -> None:
        super().__init__(platform=platform, workload=workload)
        self.ZERO_SKIP = self.df.zero_skip
        self.SPIKE_FORMATS = self.spike_formats_from_config()
        mode = self.df.packing
        self.PACKING = ("time", "space") if mode == "auto" else ((mode,) if mode != "none" else ("none",))

    def _tag_bound_bits(self, K: int, m: int, g: int) -> int:
        # group tags of the whole K range plus a row tag for every row
        return ceil_div(K, self.R) + K

    def _chunk_folds(self, layer: Layer, act: Im2col | None, m0: int, mm: int) -> ChunkFolds:
        if not self.ZERO_SKIP or act is None:
            return super()._chunk_folds(layer, act, m0, mm)
        R = self.R
        x = act.x[:, m0:m0 + mm]
        order, starts, counts = compact_folds(x, R)
        K = layer.gemm[1]
        groups = np.zeros(ceil_div(K, R), dtype=bool)
        groups[order // R] = True
        cf = ChunkFolds(m0, mm, order, starts, counts, self._window_activity(counts), row_groups=groups)
        cf.cache["column spikes"] = np.count_nonzero(x, axis=(0, 1))  # the spikes of each reduction row (grouped_bits)
        return cf

    def _tile_tags(self, cf: ChunkFolds, layer: Layer, k0: np.ndarray, k1: np.ndarray,
                   elements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per tile over rows ``[k0, k1)`` (arrays, one entry a tile): the group tags of its
        R-row groups and the row tags of its active groups (moved and read), and one
        zero-detect per element of the folds it streams (``elements``: read). Returns
        (bits read, bits moved)."""
        c = cf.cache
        tag_cum = c.get("row tags")  # row tags of the groups before each group
        if tag_cum is None:
            R, K = self.R, layer.gemm[1]
            wg = np.where(cf.row_groups, np.minimum(R, K - np.arange(len(cf.row_groups)) * R), 0)
            tag_cum = c["row tags"] = np.concatenate(([0], np.cumsum(wg)))
        g0, g1 = k0 // self.R, -(-k1 // self.R)
        moved = (g1 - g0) + tag_cum[g1] - tag_cum[g0]
        return moved + elements, moved

    def _groups_spikes(self, act: Im2col, cf: ChunkFolds, live: np.ndarray, g: int,
                       cache: dict) -> list[tuple[str, int]]:
        """Format and bytes of the spikes each tile streams with skipping, for the groups of ``g``
        consecutive folds of ``live`` (a tile's), in order: the rows of the folds it streams only
        (the tags say the others are silent), all timesteps, in the smallest allowed format (ties:
        the earlier). Keyed by (m0, mm, folds) in ``cache``; the groups not there are sized together
        (:func:`~tlmsim.dataflow.activity.grouped_bits`: a few calls over all of them, not a few per
        group)."""
        keys = [(cf.m0, cf.mm, tuple(live[i:i + g].tolist())) for i in range(0, len(live), g)]
        todo, seen = [], set()
        for i, k in enumerate(keys):
            if k not in cache and k not in seen:
                todo.append(i)
                seen.add(k)
        if todo:
            folds = np.concatenate([live[i * g:(i + 1) * g] for i in todo])
            per = np.array([len(keys[i][2]) for i in todo], dtype=np.int64)  # folds per group
            lens = cf.starts[folds + 1] - cf.starts[folds]  # rows per fold
            # every fold's rows in order: cf.rows(folds), as one ragged range
            idx = np.arange(int(lens.sum())) + np.repeat(cf.starts[folds] - (np.cumsum(lens) - lens), lens)
            rows = cf.order[idx]  # (with skipping a chunk's folds are always compacted: an order)
            sizes = np.add.reduceat(lens, np.cumsum(per) - per)  # rows per group
            got, _ = grouped_bits(self.SPIKE_FORMATS, act.x[:, cf.m0:cf.m0 + cf.mm], rows, sizes,
                                  counts=cf.cache["column spikes"])
            for i, (fmt, bits) in zip(todo, got):
                cache[keys[i]] = (fmt, bits_to_bytes(bits))
        return [cache[k] for k in keys]

    def _fold_stream(self, cf: ChunkFolds, f: int, w0: int, w1: int, nc: int) -> tuple[int, int]:
        """Stream cycles of fold ``f`` (all windows: ``w0 = 0``, ``w1`` = windows), the
        fastest allowed packing; the packed column groups hold copies of the weights."""
        p = max(1, self.C // nc)
        key = ("spikex", p)
        if key not in cf.cache:
            cf.cache[key] = self._stream_table(cf, p)
        cycles, copies = cf.cache[key]
        return int(cycles[f]), int(copies[f])

    def _stream_by_shape(self) -> bool:
        """Without skipping (the only case :meth:`WsStreaming._steps` runs for spikex) the
        chunks' folds carry no activity (:meth:`_chunk_folds`), and :meth:`_stream_table`'s
        closed form follows from the chunk's pixels, the fold's channels (the packing
        factor) and the timesteps alone."""
        return True

    def _stream_table(self, cf: ChunkFolds, p: int) -> tuple[np.ndarray, np.ndarray]:
        """Per fold of ``cf``: (stream cycles, weight copies) under the best allowed packing."""
        T, W, nwin, mm = self.workload.timesteps, self.window, self.windows, cf.mm
        wlen = np.array([min(T, (w + 1) * W) - w * W for w in range(nwin)], dtype=np.int64)
        nf = cf.nf
        if cf.active is None:  # every element active: the same rules in closed form
            best = np.full(nf, T * mm, dtype=np.int64)
            copies = np.ones(nf, dtype=np.int64)
            if p > 1 and "time" in self.PACKING and nwin > 1:
                c = W * ceil_div(nwin, min(p, nwin)) * mm
                if c < best[0]:
                    best[:], copies[:] = c, p
            if p > 1 and "space" in self.PACKING and mm > 1:
                c = T * ceil_div(mm, min(p, mm))
                if c < best[0]:
                    best[:], copies[:] = c, p
            return best, copies
        act = cf.active  # (windows, mm, folds)
        per_window = act.sum(axis=1, dtype=np.int64)  # active pixels per (window, fold)
        best = (wlen[:, None] * per_window).sum(axis=0)
        copies = np.ones(nf, dtype=np.int64)
        if p > 1 and "time" in self.PACKING and nwin > 1:
            pt = min(p, nwin)
            per_pixel = act.sum(axis=0, dtype=np.int64)  # active windows per (pixel, fold)
            c = W * (-(-per_pixel // pt)).sum(axis=0)
            better = c < best
            best, copies = np.where(better, c, best), np.where(better, p, copies)
        if p > 1 and "space" in self.PACKING and mm > 1:
            ps = min(p, mm)
            c = (wlen[:, None] * (-(-per_window // ps))).sum(axis=0)
            better = c < best
            best, copies = np.where(better, c, best), np.where(better, p, copies)
        return best, copies

    # -- steps with skipping, per output block in NumPy ------------------------------------
    def _ranked_by_totals(self, act: Im2col | None) -> bool:
        """With skipping too: a candidate's totals are sums over arrays, without its steps."""
        return (self.ZERO_SKIP and act is not None) or super()._ranked_by_totals(act)

    def _steps(self, layer: Layer, act: Im2col | None, chunks: list[ChunkFolds], g: int, order: str,
               spike_cache: dict, totals: bool = False) -> list[Step] | StepTotals:
        """The steps of a candidate; ``totals``: their :class:`StepTotals` instead. Without
        skipping, :meth:`WsStreaming._steps`. With it, the rules of the module docstring,
        computed per output block (:meth:`_block_tiles`); with ``totals`` only the first
        block's steps are made, every block's tiles summed."""
        if not (self.ZERO_SKIP and act is not None):
            return super()._steps(layer, act, chunks, g, order, spike_cache, totals)
        T, N = self.workload.timesteps, layer.gemm[2]
        ncap = self.fold_width()
        fn = ceil_div(N, ncap)
        mch = len(chunks)
        outer = [(n, mi) for n in range(fn) for mi in range(mch)] if order == "n>m>k" else \
                [(n, mi) for mi in range(mch) for n in range(fn)]
        wsize: dict[tuple[int, int, int], int] = {}
        steps: list[Step] = []
        cycles = count = 0
        summed: list[_BlockSum] = []  # totals: the blocks after the first, each summed
        for n, mi in outer:
            cf = chunks[mi]
            n0 = n * ncap
            nc = min(ncap, N - n0)
            m0, mm = cf.m0, cf.mm
            k0, k1, cyc, wb, sb, acc, wl, read, fmts = self._block_tiles(layer, act, cf, n0, nc, g, spike_cache,
                                                                         wsize)
            if totals and steps:
                cycles += int(cyc.sum())
                count += len(cyc)
                summed.append(_BlockSum(0, T, mm, nc, int(wb.sum()), int(sb.sum()), True))
                continue
            k0s, k1s = k0.tolist(), k1.tolist()
            cyc_l, wb_l, sb_l, acc_l, wl_l, read_l = cyc.tolist(), wb.tolist(), sb.tolist(), acc.tolist(), \
                wl.tolist(), read.tolist()
            last = len(k0s) - 1
            steps += [Step(0, T, n0, nc, m0, mm, k0s[j], k1s[j], cyc_l[j], wb_l[j], sb_l[j],
                           mm * (k1s[j] - k0s[j]) * nc * T, acc_l[j], wl_l[j], read_l[j], j == last, fmts[j])
                      for j in range(last + 1)]
            if totals:
                cycles, count = sum(cyc_l), len(steps)
        if not totals:
            return steps
        return StepTotals(cycles, self._traffic(layer, steps + summed, {}), steps[0], count)

    def _block_tiles(self, layer: Layer, act: Im2col, cf: ChunkFolds, n0: int, nc: int, g: int,
                     spike_cache: dict, wsize: dict) -> tuple:
        """The tiles of one output block (chunk ``cf``, channels ``[n0, n0 + nc)``) with
        skipping, as arrays with one entry a tile: first and end rows, cycles, weight
        bytes, spike and tag bytes, accumulates, PE weight loads, tag bits read, and
        the list of spike formats. The live folds (a nonzero weight in the block; every
        fold carries a spike, its rows being the chunk's active ones) are cut into tiles
        of ``g``; a chunk's folds are its own (the compacted rows), so no tile finds its
        fold in the array and every fold of a tile pays its fill (R) and weights; a tile
        covers all timesteps (one window range). No live fold: one tile over all rows
        that moves and reads its tags only. Memoised per chunk (the ranking's totals and
        the chosen candidate's steps read the same blocks)."""
        c = cf.cache
        bkey = ("tiles", n0, g)
        out = c.get(bkey)
        if out is not None:
            return out
        R, K = self.R, layer.gemm[1]
        nwin = self.windows
        nnz = self.weight_blocks(layer).fold_counts(cf.order, cf.starts, n0, nc)
        live = np.flatnonzero(nnz)
        vkey = ("vector",)  # per chunk: fold rows, first rows, spikes per fold
        if vkey not in c:
            c[vkey] = (np.diff(cf.starts), cf.order[cf.starts[:-1]], cf.counts.sum(axis=(0, 1)))
        kr_all, first_row, per_fold = c[vkey]
        L = len(live)
        if L == 0:  # nothing streamed, no spikes moved: counted under the configured format
            k0, k1 = np.zeros(1, dtype=np.int64), np.full(1, K, dtype=np.int64)
            lens = cyc = wb = wl = acc = np.zeros(1, dtype=np.int64)
            spikes = [(self.SPIKE_FORMATS[0], 0)]
        else:
            p = self.C // nc  # column groups (nc <= C)
            skey = ("spikex", p)
            if skey not in c:
                c[skey] = self._stream_table(cf, p)
            stream, copies = c[skey]
            s = stream[live]
            kr = kr_all[live]
            idx = np.arange(0, L, g)  # each tile's first live fold
            lens = np.diff(np.append(idx, L))
            S = np.add.reduceat(s, idx)
            skew = R + self.C - 2
            if self.pe.weight_double_buffer:  # run_cycles: fill R, each next fill hidden behind a stream
                h = np.maximum(0, R - s)
                cyc = R + S + np.add.reduceat(h, idx) - h[idx + lens - 1] + skew
            else:
                cyc = lens * (R + skew) + S
            if self.df.weight_compression:
                wb_f = []
                for key in zip(kr.tolist(), [nc] * L, nnz[live].tolist()):
                    b = wsize.get(key)
                    if b is None:
                        b = wsize[key] = self.weight_bytes(layer, *key)
                    wb_f.append(b)
                wb = np.add.reduceat(np.array(wb_f, dtype=np.int64), idx)
            else:  # dense blocks: bits_to_bytes(rows x cols x weight bits)
                wb = np.add.reduceat(-(-(kr * (nc * self.wb)) // 8), idx)
            wl = np.add.reduceat(kr * copies[live], idx) * nc
            acc = np.add.reduceat(per_fold[live], idx) * nc
            kstart = first_row[live[idx]]
            k0 = kstart.copy()
            k0[0] = 0
            k1 = np.append(kstart[1:], K)
            lkey = ("groups", cf.m0, cf.mm, g, live.tobytes())  # the block's spike slices, shared by output blocks
            spikes = spike_cache.get(lkey)
            if spikes is None:
                spikes = spike_cache[lkey] = self._groups_spikes(act, cf, live, g, spike_cache)
        read, moved = self._tile_tags(cf, layer, k0, k1, cf.mm * nwin * lens)
        tagc = -(-read // self.pe.tag_bits_per_cycle)
        cyc = np.maximum(cyc, tagc)  # the sequencer reads the tags while the folds run
        sb = np.array([b for _, b in spikes], dtype=np.int64) + (-(-moved // 8))
        out = c[bkey] = (k0, k1, cyc, wb, sb, acc, wl, read, [f for f, _ in spikes])
        return out


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.spikex":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
