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

import numpy as np

from tlmsim.dataflow.activity import Im2col
from tlmsim.dataflow.tiling import ceil_div
from tlmsim.dataflow.ws import ChunkFolds, WsStreaming, compact_folds
from tlmsim.workload import Layer


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
        return ChunkFolds(m0, mm, order, starts, counts, self._window_activity(counts), row_groups=groups)

    def _tile_tags(self, cf: ChunkFolds, layer: Layer, live: np.ndarray, k0: int, k1: int,
                   w0: int, w1: int) -> tuple[int, int]:
        """Group tags of the R-row groups in [k0, k1), row tags of its active groups
        (moved and read), and one zero-detect per element of the folds it streams (read)."""
        key = ("tags", k0, k1)  # the tags moved depend on the chunk and the rows only
        moved = cf.cache.get(key)
        if moved is None:
            R, K = self.R, layer.gemm[1]
            g0, g1 = k0 // R, ceil_div(k1, R)
            active_groups = np.flatnonzero(cf.row_groups[g0:g1]) + g0
            row_tags = int(np.minimum(R, K - active_groups * R).sum())
            moved = cf.cache[key] = (g1 - g0) + row_tags
        return moved + cf.mm * (w1 - w0) * len(live), moved

    def _fold_stream(self, cf: ChunkFolds, f: int, w0: int, w1: int, nc: int) -> tuple[int, int]:
        """Stream cycles of fold ``f`` (all windows: ``w0 = 0``, ``w1`` = windows), the
        fastest allowed packing; the packed column groups hold copies of the weights."""
        p = max(1, self.C // nc)
        key = ("spikex", p)
        if key not in cf.cache:
            cf.cache[key] = self._stream_table(cf, p)
        cycles, copies = cf.cache[key]
        return int(cycles[f]), int(copies[f])

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
