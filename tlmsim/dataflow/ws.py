"""Weight-stationary streaming, shared by ``dense-ws``, ``ptb`` and ``spikex``.

The GEMM of a layer (M output pixels x K reduction x N output channels, per
timestep) maps K on the R array rows and N on the C columns; a *fold* is one
R x C block of weights. The im2col rows of the input spikes (one per output pixel)
stream through the array. Time is cut into windows of ``W`` timesteps
(``dataflow.time_window``); a streamed *element* is one pixel row over one window,
costing one cycle per timestep of the window.

A tile covers a window range, ``nc <= C`` output channels, ``mm`` output pixels and
``g`` consecutive folds of K (as many as fit an L1 half). Its stall-free cycles::

    sum over its folds of   fill + (R + C - 2) + stream

* ``fill = R`` when the fold's weights are loaded into the array (SCALE-Sim's WS
  fold ``2R + C + M - 2`` is fill + pipeline + M), 0 when the previous tile left the
  same single fold in the array (only possible when K fits one fold);
* ``stream`` = the cycles of the streamed elements: every element without zero
  skipping; with it, only elements whose activity tag is set (some spike among the
  fold's R inputs in the window). With *packing* (``spikex``), the ``p = C // nc``
  column groups left idle by a narrow fold take more windows of the same pixel
  (time: ``W * ceil(active windows / p)`` per pixel) or more pixels of the same
  window (space: ``W * ceil(active pixels / p)`` per window).

Accumulates: every dense op without skipping; with it, one per spike per column
(``spikes in the slice x nc``). Partial sums of a tile's folds stay on chip; the
neuron units update the tile's outputs after its last fold (see
:meth:`SystolicDataflow.neuron_cycles`).

Candidates for the tiler: the largest pixel chunk for one fold per tile then as
many folds as fit, or all folds per tile then the largest pixel chunk; each with
output channels outer (``n>m>k``, weights kept across pixel chunks when K fits one
fold) or pixels outer (``m>n>k``).
"""

from __future__ import annotations

import numpy as np

from tlmsim.dataflow.activity import Im2col, spike_bits
from tlmsim.dataflow.systolic import GemmCandidate, Step, SystolicDataflow
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div, largest_chunk
from tlmsim.workload import Layer


class WsStreaming(SystolicDataflow):
    """Weight-stationary base: subclasses set the switches below."""

    #: skip elements without spikes (activity tags)
    ZERO_SKIP = False
    #: one tile covers all timesteps: the weights stay in the array for all of them
    TIME_INNER = False
    #: allowed packing modes, tried per tile ("none" always)
    PACKING: tuple[str, ...] = ("none",)

    @property
    def window(self) -> int:
        return min(self.df.time_window, self.workload.timesteps)

    def _spike_bound_bits(self, timesteps: int, n: int) -> int:
        """Worst case of a (timesteps x n) spike slice in the dataflow's format(s)."""
        fmts = self.SPIKE_FORMATS
        if "bitmap" in fmts:
            return timesteps * n  # the smallest choice is never above the bitmap
        return max(spike_bits(f, np.ones((timesteps, n), dtype=bool)) for f in fmts)

    def gemm_candidates(self, layer: Layer) -> list[GemmCandidate]:
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        fk = ceil_div(K, R)
        W = self.window
        tt = T if self.TIME_INNER else W  # timesteps a tile covers (at most)
        w_fold = self.weight_bytes(layer, R, C)

        def footprint(m: int, g: int) -> int:
            # g weight folds, the spike slice, psums and outputs of tt timesteps, membrane
            return (g * w_fold + bits_to_bytes(self._spike_bound_bits(tt, m * g * R))
                    + self.out_footprint(layer, m * C, tt))

        m1 = self.chunk("fold and output pixel", layer, M, lambda m: footprint(m, 1))
        g1 = largest_chunk(self.l1_half, fk, lambda g: footprint(m1, g))
        shapes = [(m1, g1)]
        if largest_chunk(self.l1_half, M, lambda m: footprint(m, fk)):
            shapes.append((largest_chunk(self.l1_half, M, lambda m: footprint(m, fk)), fk))
        act = self.activity(layer) if (self.ZERO_SKIP or self.SPIKE_FORMATS != ("bitmap",)) else None
        cands = []
        spike_cache: dict[tuple, tuple[str, int]] = {}  # slice -> (format, bytes), shared by the candidates
        for m, g in dict.fromkeys(shapes):
            costs = _StreamCosts(act, layer, T, W, R, m, self.ZERO_SKIP)
            for order in ("n>m>k", "m>n>k"):
                cands.append(GemmCandidate(f"{order}, m={m}, folds/tile={g}",
                                           self._steps(layer, act, costs, m, g, order, spike_cache)))
        return cands

    def _steps(self, layer: Layer, act: Im2col | None, costs: "_StreamCosts", m: int, g: int, order: str,
               spike_cache: dict) -> list[Step]:
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        fk = ceil_div(K, R)
        W = self.window
        nwin = ceil_div(T, W)
        win_groups = [(0, nwin)] if self.TIME_INNER else [(w, w + 1) for w in range(nwin)]
        mch, kgs, fn = ceil_div(M, m), ceil_div(fk, g), ceil_div(N, C)
        pipe = R + C - 2
        steps: list[Step] = []
        held = None  # (n, fold) the array holds
        outer = [(n, mi) for n in range(fn) for mi in range(mch)] if order == "n>m>k" else \
                [(n, mi) for mi in range(mch) for n in range(fn)]
        for w0, w1 in win_groups:
            t0, t1 = w0 * W, min(T, w1 * W)
            for n, mi in outer:
                nc = min(C, N - n * C)
                p = max(1, C // nc)
                m0 = mi * m
                mm = min(m, M - m0)
                for kg in range(kgs):
                    f0, f1 = kg * g, min(fk, (kg + 1) * g)
                    k0, k1 = f0 * R, min(K, f1 * R)
                    cycles = 0
                    w_bytes = 0
                    wloads = 0
                    mode = "none"
                    for f in range(f0, f1):
                        kr = min(R, K - f * R)
                        if held != (n, f) or f1 - f0 > 1:
                            cycles += R
                            w_bytes += self.weight_bytes(layer, kr, nc)
                            wloads += kr * nc
                        held = (n, f)
                        s, mode = costs.stream(mi, f, w0, w1, p, self.PACKING)
                        cycles += pipe + s
                    if mode != "none":
                        wloads *= p  # packed column groups hold copies of the fold
                    dense = mm * (k1 - k0) * nc * (t1 - t0)
                    acc = costs.spikes(mi, f0, f1, t0, t1) * nc if self.ZERO_SKIP else dense
                    key = (t0, t1, m0, mm, k0, k1)
                    if key not in spike_cache:
                        spike_cache[key] = self.spike_slice(act, t0, t1, m0, m0 + mm, k0, k1) if act is not None \
                            else ("bitmap", bits_to_bytes((t1 - t0) * mm * (k1 - k0)))
                    fmt, s_bytes = spike_cache[key]
                    steps.append(Step(t0=t0, t1=t1, n0=n * C, nc=nc, m0=m0, mm=mm, k0=k0, k1=k1, cycles=cycles,
                                      w_bytes=w_bytes, s_bytes=s_bytes, dense_ops=dense, acc_ops=acc,
                                      pe_weight_loads=wloads, last_k=kg == kgs - 1, spike_format=fmt))
        return steps


class _StreamCosts:
    """Per (pixel chunk, fold, window) stream cycles and spike counts of one layer, for
    chunks of ``m`` pixels. Without activity (no skipping), every element is active."""

    def __init__(self, act: Im2col | None, layer: Layer, T: int, W: int, R: int, m: int, skip: bool) -> None:
        M, K, _ = layer.gemm
        fk = ceil_div(K, R)
        nwin = ceil_div(T, W)
        mch = ceil_div(M, m)
        self.W = W
        self.wlen = np.array([min(T, (w + 1) * W) - w * W for w in range(nwin)], dtype=np.int64)
        self.mm = np.array([min(m, M - i * m) for i in range(mch)], dtype=np.int64)
        if skip and act is not None:
            fc = act.fold_counts(R)  # (T, M, fk)
            pad_t, pad_m = nwin * W - T, mch * m - M
            fcp = np.pad(fc, ((0, pad_t), (0, pad_m), (0, 0)))
            # spikes per (t, chunk, fold)
            self.count = fcp[:T].reshape(T, mch, m, fk).sum(axis=2, dtype=np.int64)
            # window activity per (window, pixel, fold)
            a = (fcp > 0).reshape(nwin, W, mch * m, fk).any(axis=1)
            self.a = a.reshape(nwin, mch, m, fk)  # bool
            # active pixels per (window, chunk, fold), and the unpacked stream cycles
            self.active = self.a.sum(axis=2, dtype=np.int64)
            self.plain = self.wlen[:, None, None] * self.active
        else:
            self.count = None
            self.a = None
        self.skip = skip and act is not None
        self._time: dict[tuple, np.ndarray] = {}  # (w0, w1, p) -> (chunk, fold) time-packed cycles
        self._space: dict[int, np.ndarray] = {}  # p -> (window, chunk, fold) space-packed cycles

    def spikes(self, mi: int, f0: int, f1: int, t0: int, t1: int) -> int:
        return int(self.count[t0:t1, mi, f0:f1].sum())

    def stream(self, mi: int, f: int, w0: int, w1: int, p: int, modes: tuple[str, ...]) -> tuple[int, str]:
        """Stream cycles of fold ``f`` for chunk ``mi`` over windows [w0, w1), and the
        packing mode that achieves them (the fastest allowed)."""
        mm = int(self.mm[mi])
        if not self.skip:  # every element active: the same rules in closed form
            steps = int(self.wlen[w0:w1].sum())
            best = (steps * mm, "none")
            if p > 1 and "time" in modes and w1 - w0 > 1:
                c = self.W * -(-(w1 - w0) // min(p, w1 - w0)) * mm
                if c < best[0]:
                    best = (c, "time")
            if p > 1 and "space" in modes and mm > 1:
                c = steps * -(-mm // min(p, mm))
                if c < best[0]:
                    best = (c, "space")
            return best
        best = (int(self.plain[w0:w1, mi, f].sum()), "none")
        if p > 1:
            if "time" in modes and w1 - w0 > 1:
                pt = min(p, w1 - w0)
                key = (w0, w1, pt)
                if key not in self._time:  # per pixel: W x ceil(active windows / p)
                    per_pixel = self.a[w0:w1].sum(axis=0, dtype=np.int64)  # (chunk, pixel, fold)
                    self._time[key] = self.W * (-(-per_pixel // pt)).sum(axis=1)
                c = int(self._time[key][mi, f])
                if c < best[0]:
                    best = (c, "time")
            if "space" in modes and mm > 1:
                ps = min(p, mm)
                if ps not in self._space:  # per window: its length x ceil(active pixels / p)
                    self._space[ps] = self.wlen[:, None, None] * (-(-self.active // ps))
                c = int(self._space[ps][w0:w1, mi, f].sum())
                if c < best[0]:
                    best = (c, "space")
        return best
