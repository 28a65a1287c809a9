"""``ptb``: parallel time batching (Lee, Zhang, Li, "Parallel Time Batching:
Systolic-Array Acceleration of Sparse Spiking Neural Computation", HPCA 2022).

PTB batches timesteps into time windows (TWs) and maps TWs onto the array's
columns, so that one weight serves several TWs at once, and it streams only the
synaptic inputs that carry a spike. The rules implemented:

* **Time windows.** ``time_window`` timesteps per TW; default 2, the smallest window
  above 1, so that every shipped workload (T = 4..16) still has at least two TWs to
  run in parallel. (PTB tunes the TW size per network: larger TWs reuse a weight over
  more timesteps inside a PE, smaller ones skip more.)
* **Array mapping.** Rows hold R output channels (postsynaptic neurons); columns
  hold (output pixel, TW) pairs: ``P = min(TWs, C)`` TWs of ``C // P`` output pixels.
  The synaptic inputs (the reduction, K) stream through: per slot, one input's
  weights enter the rows (one weight per output channel, passed along the row to
  every column: reused over the pixels and TWs) and its spike words enter the
  columns (the W-bit word of the column's pixel in the column's TW). Each PE keeps
  the W partial sums of its (neuron, pixel, TW) and adds its weight into those
  whose timestep carries a spike, one timestep per cycle: a slot lasts W cycles.
  Partial sums stay in the PEs over the whole reduction (output stationary); the
  array drains once per (channel block, pixel group), ``R + C - 2`` cycles, after
  its last reduction chunk (not at all when no input streamed: the sums are 0).
  With more TWs than columns they run in rounds.
* **Skipping.** An input with no spike in any column of the tile is not streamed:
  neither its weights nor its spikes move, and it takes no slot (nor does one whose
  weights into the block are all zero).
* **Packing non-overlapping activity** (PTB's scheduling of non-overlapping sparse
  spiking activities onto the array; on unless ``packing: none``): two consecutive
  active inputs whose sets of active (pixel, TW) columns do not overlap share one
  slot; the rows carry both weights and each column takes the one of the input active
  in it. The scheduler pairs greedily in stream order (at most two inputs per slot:
  two weight ports per PE).
* **Tags.** One bit per input of the tile (active somewhere in its columns) moves
  with the spikes; the sequencer reads those, and the column mask (one bit per
  column) of every active input to pair them, at ``pe_array.tag_bits_per_cycle``.

A tile covers all timesteps, so membrane potentials stay in the neuron units (they
integrate the TWs in order after the columns computed them). Accumulates happen
only where a spike meets a weight. Spikes move in ``dataflow.spike_format`` (the
smallest per tile by default). ``zero_skip: false``: every input streams, nothing is
packed. Tiles: a block of R output channels x a group of ``C // P`` pixels x a chunk
of the reduction that fits an L1 half; candidates with channels outer or pixels outer.
"""

from __future__ import annotations

import numpy as np

from tlmsim.dataflow.activity import best_bits, grouped_bits, spike_bits
from tlmsim.dataflow.systolic import GemmCandidate, Step, SystolicDataflow
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div
from tlmsim.errors import MappingError
from tlmsim.workload import Layer


def pair_slots(masks: np.ndarray, pack: bool) -> int:
    """Slots to stream the inputs whose column masks are the rows of bool ``masks``
    ``(inputs, columns)`` (all active, in stream order): one each, or with ``pack``
    greedy pairs of consecutive inputs whose masks do not overlap. In a run of L
    consecutive compatible neighbours (L + 1 inputs) the greedy scan forms
    ``floor((L + 1) / 2)`` pairs."""
    n = masks.shape[0]
    if not pack or n < 2:
        return n
    compat = ~(masks[:-1] & masks[1:]).any(axis=1)
    if not compat.any():
        return n
    edges = np.concatenate(([0], compat.astype(np.int8), [0]))
    d = np.diff(edges)
    runs = np.flatnonzero(d == -1) - np.flatnonzero(d == 1)  # lengths of the runs of compatible neighbours
    return n - int(((runs + 1) // 2).sum())


class Ptb(SystolicDataflow):
    NAME = "ptb"
    DEFAULT_WINDOW = 2

    def __init__(self, *, platform, workload) -> None:
        super().__init__(platform=platform, workload=workload)
        self.SPIKE_FORMATS = self.spike_formats_from_config()
        self.skip = self.df.zero_skip
        self.pack = self.df.packing != "none" and self.skip
        acc = bits_to_bytes(self.ab) * self.window
        if acc > self.pe.scratchpad_bytes:
            raise MappingError(
                f"ptb: a PE keeps the {self.window} partial sums of its time window ({acc} bytes), more than "
                f"pe_array.scratchpad_bytes ({self.pe.scratchpad_bytes}); lower dataflow.time_window"
            )

    @property
    def parallel(self) -> int:
        """P: time windows side by side on the columns."""
        return min(self.windows, self.C)

    def gemm_candidates(self, layer: Layer) -> list[GemmCandidate]:
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        mp = min(M, max(1, C // self.parallel))  # pixels per tile
        nr = min(R, N)
        fmts = self.SPIKE_FORMATS
        bound = (lambda n: T * n) if "bitmap" in fmts else \
            (lambda n: max(spike_bits(f, np.ones((T, n), dtype=bool)) for f in fmts))

        def footprint(kc: int) -> int:
            # weights of kc inputs x nr channels, their spikes over T, their tags, the outputs
            return (bits_to_bytes(kc * nr * self.wb) + bits_to_bytes(bound(mp * kc) + kc)
                    + self.out_footprint(layer, mp * nr, T))

        kc = self.chunk("reduction element", layer, K, footprint)
        act = self.activity(layer)
        cands = []
        cache: dict = {}
        for order in ("n>m>k", "m>n>k"):
            cands.append(GemmCandidate(f"{order}, pixels/tile={mp}, k chunk={kc}",
                                       self._steps(layer, act, mp, kc, order, cache)))
        return cands

    def _steps(self, layer: Layer, act, mp: int, kc: int, order: str, cache: dict) -> list[Step]:
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        blocks = self.weight_blocks(layer)
        skew = R + C - 2
        fn, fm, kch = ceil_div(N, R), ceil_div(M, mp), ceil_div(K, kc)
        outer = [(n, g) for n in range(fn) for g in range(fm)] if order == "n>m>k" else \
                [(n, g) for g in range(fm) for n in range(fn)]
        steps = []
        for n, g in outer:
            n0, m0 = n * R, g * mp
            nr, mm = min(R, N - n0), min(mp, M - m0)
            wrows = None if blocks.dense else blocks.row_counts(n0, nr)
            streamed = False  # partial sums to drain: some chunk streamed an input
            key = (m0, mm, kc, None if wrows is None else n0)
            got = cache.get(key)
            if got is None:
                wlive = None if wrows is None else wrows > 0
                if self.skip:
                    chunks = self._chunks(act, m0, mm, kc, wlive, cache)
                else:
                    chunks = [self._chunk(act, m0, mm, c * kc, min(K, (c + 1) * kc),
                                          None if wlive is None else wlive[c * kc:(c + 1) * kc]) for c in range(kch)]
                # per chunk its live inputs and their nonzero weights into the block, in two calls
                live_all = np.concatenate([ch[1] for ch in chunks])
                starts = np.arange(0, K, kc)
                nls = np.add.reduceat(live_all, starts, dtype=np.int64).tolist()
                nnzs = [None] * kch if wrows is None else \
                    np.add.reduceat(np.where(live_all, wrows, 0), starts, dtype=np.int64).tolist()
                got = cache[key] = (chunks, nls, nnzs)
            chunks, nls, nnzs = got
            for c in range(kch):
                k0, k1 = c * kc, min(K, (c + 1) * kc)
                stream, live, spikes, tag_read, tag_moved, fmt, s_bytes = chunks[c]
                last = c == kch - 1
                streamed |= stream > 0
                cycles = max(stream + (skew if last and streamed else 0), self.tag_cycles(tag_read))
                nnz = nnzs[c]
                nl = nls[c]
                dense = mm * (k1 - k0) * nr * T
                steps.append(Step(
                    t0=0, t1=T, n0=n0, nc=nr, m0=m0, mm=mm, k0=k0, k1=k1, cycles=cycles,
                    w_bytes=self.weight_bytes(layer, nl, nr, nnz) if nl else 0,
                    s_bytes=s_bytes + bits_to_bytes(tag_moved), dense_ops=dense,
                    acc_ops=spikes * nr if self.skip else dense, tag_bits=tag_read, last_k=last, spike_format=fmt,
                ))
        return steps

    def _chunk(self, act, m0: int, mm: int, k0: int, k1: int, wlive: np.ndarray | None):
        """Stream cycles, live inputs, spikes, tags and spike bytes of one (pixel group,
        reduction chunk); ``wlive``: inputs with a nonzero weight into the block."""
        T, W, nwin, P = self.workload.timesteps, self.window, self.windows, self.parallel
        x = act.x[:, m0:m0 + mm, k0:k1]  # (T, mm, kc)
        kc = k1 - k0
        if not self.skip:
            live = np.ones(kc, dtype=bool)
            stream = sum(kc * self._round_len(r0) for r0 in range(0, nwin, P))
            fmt, bits = self._format(x.reshape(T, -1))
            return stream, live, int(x.sum()), 0, 0, fmt, bits_to_bytes(bits)
        a = x if nwin * W == T else np.pad(x, ((0, nwin * W - T), (0, 0), (0, 0)))
        tw = a.reshape(nwin, W, mm, kc).any(axis=1)  # (TWs, pixels, inputs): the column activity
        live = tw.any(axis=(0, 1))
        if wlive is not None:
            live &= wlive
        nl = int(live.sum())
        stream = 0
        for r0 in range(0, nwin, P) if nl else ():
            cols = tw[r0:r0 + P][:, :, live].reshape(-1, nl).T  # (live inputs, columns)
            active = cols.any(axis=1)
            stream += pair_slots(cols[active], self.pack) * self._round_len(r0)
        tag_moved = kc
        tag_read = kc + nl * min(nwin, P) * mm
        # a tile streaming no input moves no spikes; it counts under the configured format
        fmt, bits = self._format(x[:, :, live].reshape(T, -1)) if nl else (self.SPIKE_FORMATS[0], 0)
        return stream, live, int(x[:, :, live].sum()), tag_read, tag_moved, fmt, bits_to_bytes(bits)

    def _chunks(self, act, m0: int, mm: int, kc: int, wlive: np.ndarray | None, cache: dict | None = None) -> list[tuple]:
        """:meth:`_chunk` with skipping of every reduction chunk ``[k0, k0 + kc)`` of one pixel
        group at once (``wlive``: the inputs with a nonzero weight into the block, over the
        whole reduction): the same tuples, from whole-reduction arrays instead of a few dozen
        small ones per chunk (tests/dataflow/test_ptb_chunks_s29.py compares them). ``cache``
        keeps what does not depend on ``wlive`` for the pixel group's other channel blocks."""
        T, W, nwin, P = self.workload.timesteps, self.window, self.windows, self.parallel
        key = ("activity", m0, mm)
        pre = None if cache is None else cache.get(key)
        if pre is None:
            x = act.x[:, m0:m0 + mm, :]  # (T, mm, K)
            K = x.shape[2]
            a = x if nwin * W == T else np.pad(x, ((0, nwin * W - T), (0, 0), (0, 0)))
            tw = a.reshape(nwin, W, mm, K).any(axis=1)  # (TWs, pixels, inputs): the column activity
            rounds = []
            for r0 in range(0, nwin, P):  # per round: the inputs active in it, their column masks as bytes
                masks = tw[r0:r0 + P].reshape(-1, K)  # (columns, inputs)
                rounds.append((masks.any(axis=0), np.ascontiguousarray(np.packbits(masks, axis=0).T),
                               self._round_len(r0)))
            pre = (x, tw.any(axis=(0, 1)), rounds, np.count_nonzero(x, axis=(0, 1)))
            if cache is not None:
                cache[key] = pre
        x, active, rounds, counts = pre
        K = x.shape[2]
        starts = np.arange(0, K, kc)
        n = len(starts)
        cid = np.arange(K) // kc  # each input's chunk
        live = active & wlive if wlive is not None else active.copy()
        nl = np.add.reduceat(live, starts, dtype=np.int64)
        stream = np.zeros(n, dtype=np.int64)
        for on, packed, length in rounds:  # pair_slots of each chunk's inputs active in the round
            idx = np.flatnonzero(live & on)  # in stream order
            slots = np.bincount(cid[idx], minlength=n)
            if self.pack and len(idx) > 1:
                # consecutive active inputs of one chunk whose masks do not overlap; in a run of L
                # such neighbours the greedy scan forms (L + 1) // 2 pairs
                ci = cid[idx]
                compat = ~(packed[idx[:-1]] & packed[idx[1:]]).any(axis=1) & (ci[:-1] == ci[1:])
                d = np.diff(np.concatenate(([0], compat.astype(np.int8), [0])))
                first = np.flatnonzero(d == 1)
                runs = np.flatnonzero(d == -1) - first
                slots -= np.bincount(ci[first], weights=(runs + 1) // 2, minlength=n).astype(np.int64)
            stream += slots * length
        # the spikes streamed: each chunk's live inputs of the pixel group, all timesteps
        formats, spikes = grouped_bits(self.SPIKE_FORMATS, x, np.flatnonzero(live), nl, counts=counts)
        fmts = self.SPIKE_FORMATS
        out = []
        nwp = min(nwin, P) * mm
        for k0, nli, sp, st, fb in zip(starts.tolist(), nl.tolist(), spikes.tolist(), stream.tolist(), formats):
            k1 = min(K, k0 + kc)
            # a tile streaming no input moves no spikes; it counts under the configured format
            fmt, bits = fb if nli else (fmts[0], 0)
            out.append((st, live[k0:k1], sp, (k1 - k0) + nli * nwp, k1 - k0, fmt, bits_to_bytes(bits)))
        return out

    def _round_len(self, r0: int) -> int:
        """Cycles of one slot in the round of TWs starting at ``r0``: its longest TW."""
        T, W, nwin, P = self.workload.timesteps, self.window, self.windows, self.parallel
        r1 = min(nwin, r0 + P)
        return W if r1 - r0 > 1 or r1 < nwin else T - r0 * W

    def _format(self, a: np.ndarray) -> tuple[str, int]:
        fmts = self.SPIKE_FORMATS
        return (fmts[0], spike_bits(fmts[0], a)) if len(fmts) == 1 else best_bits(fmts, a)


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.ptb":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
