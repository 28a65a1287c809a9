"""``ptb``: parallel time batching (Lee, Zhang, Li, "Parallel Time Batching:
Systolic-Array Acceleration of Sparse Spiking Neural Computation", HPCA 2022).

The rules implemented, in PTB's terms:

* **Time windows.** Timesteps are batched into time windows (TWs) of
  ``time_window`` timesteps (default 2: the smallest window > 1, so that every
  shipped workload, T = 4..16, still has at least two windows to run in parallel;
  PTB tunes the TW size, trading reuse against activity skipping). An input
  (pixel row) is *active* in a TW when it carries a spike among the fold's inputs
  there.
* **Windows in parallel on the columns.** The C columns are split into
  ``P = min(windows, C)`` groups, one TW each, all holding the same fold's weights
  (loaded once into L1, broadcast into the P groups: the weights are reused across
  every TW of the layer, and PE weight loads count the P copies); a fold is
  ``C // P`` output channels wide. A streamed slot feeds the P groups the same pixel
  row's spike words of their TWs; it lasts ``time_window`` cycles (one timestep per
  cycle, one accumulator per PE, as in the other dataflows). With more windows than
  columns, the windows run in rounds of P.
* **Skipping.** A pixel row inactive in every TW of a round is not streamed; a fold
  without an active row in any TW (or whose weights are all zero) is skipped:
  its weights are not moved, it takes no cycle.
* **Packing non-overlapping activity** (PTB's scheduling of non-overlapping sparse
  spiking activities onto the array; on unless ``packing: none``): consecutive active
  pixel rows whose sets of active TWs do not overlap share one slot, each column
  group taking the row active in its TW (both rows use the same fold weights). The
  scheduler packs greedily in stream order: a row joins the open slot if none of its
  active TWs is taken, else it opens a new slot.
* **Tags.** One bit per (fold, pixel chunk) marks folds with activity (moved with
  the spikes, read by the sequencer); inside a streamed fold each (pixel row, TW)
  element is checked by a zero-detect on its spike word (one tag check each).

A tile covers all timesteps, so membrane potentials stay in the neuron units (the
neuron units integrate the TWs in order after the columns computed them).
Accumulates happen only where a spike meets a weight. Spikes move in
``dataflow.spike_format`` (the smallest per tile by default). ``zero_skip: false``:
every fold, every row, no packing (with ``time_window`` = T it is then ``dense-ws``
with a window of T). See :mod:`tlmsim.dataflow.ws` for the fold rule.
"""

from __future__ import annotations

import numpy as np

from tlmsim.dataflow.tiling import ceil_div
from tlmsim.dataflow.ws import ChunkFolds, WsStreaming
from tlmsim.workload import Layer


class Ptb(WsStreaming):
    NAME = "ptb"
    TIME_INNER = True
    DEFAULT_WINDOW = 2

    def __init__(self, *, platform, workload) -> None:
        super().__init__(platform=platform, workload=workload)
        self.ZERO_SKIP = self.df.zero_skip
        self.SPIKE_FORMATS = self.spike_formats_from_config()
        self.pack = self.df.packing != "none"

    @property
    def parallel(self) -> int:
        """P: time windows running at once on the column groups."""
        return min(self.windows, self.C)

    def fold_width(self) -> int:
        return max(1, self.C // self.parallel)

    def _tag_bound_bits(self, K: int, m: int, g: int) -> int:
        return ceil_div(K, self.R)  # one fold tag per fold of the K range

    def _tile_tags(self, cf: ChunkFolds, layer: Layer, live: np.ndarray, k0: int, k1: int,
                   w0: int, w1: int) -> tuple[int, int]:
        R = self.R
        moved = ceil_div(k1, R) - k0 // R  # fold tags of the tile's K range
        return moved + cf.mm * (w1 - w0) * len(live), moved

    def _fold_stream(self, cf: ChunkFolds, f: int, w0: int, w1: int, nc: int) -> tuple[int, int]:
        if "ptb" not in cf.cache:
            cf.cache["ptb"] = self._stream_table(cf)
        return int(cf.cache["ptb"][f]), self.parallel

    def _stream_table(self, cf: ChunkFolds) -> np.ndarray:
        """Stream cycles of every fold of ``cf`` over all windows: per round of P
        windows, (slots) x (the round's longest window)."""
        T, W, nwin, P = self.workload.timesteps, self.window, self.windows, self.parallel
        total = np.zeros(cf.nf, dtype=np.int64)
        for r0 in range(0, nwin, P):
            r1 = min(nwin, r0 + P)
            length = min(T, r1 * W) - (r1 - 1) * W if r1 - r0 == 1 else W  # a lone short last window
            if cf.active is None:
                slots = np.full(cf.nf, cf.mm, dtype=np.int64)
            else:
                slots = pack_slots(cf.active[r0:r1], self.pack)
            total += slots * length
        return total


def pack_slots(active: np.ndarray, pack: bool) -> np.ndarray:
    """Slots needed to stream the pixel rows of ``active`` (bool ``(windows, pixels,
    folds)``), per fold: rows active in no window need none; without packing each
    other row needs one; with packing, rows are taken in order and a row joins the
    open slot when none of its active windows is already taken there (else it opens
    a new slot)."""
    nw, mm, nf = active.shape
    any_active = active.any(axis=0)  # (pixels, folds)
    if not pack or nw == 1:
        return any_active.sum(axis=0, dtype=np.int64)
    bits = np.packbits(active, axis=0)  # (bytes, pixels, folds): the window set of each row
    cur = np.zeros((bits.shape[0], nf), dtype=np.uint8)
    slots = np.zeros(nf, dtype=np.int64)
    for i in range(mm):
        m = bits[:, i, :]
        nonempty = any_active[i]
        new = nonempty & ((cur & m).any(axis=0) | ~cur.any(axis=0))
        slots += new
        cur = np.where(new, m, cur | m)
    return slots
