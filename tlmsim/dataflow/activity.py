"""Where the spikes are: a layer's input spikes seen the way the array consumes them.

The systolic dataflows stream the rows of the im2col matrix: one row per output
pixel ``m`` (M rows), one column per reduction element ``k`` (K columns, ordered
``(c, kh, kw)`` like ``torch.nn.Unfold``; padding positions are always 0). A linear
layer is the 1 x K case. :class:`Im2col` builds that matrix once per layer (bool,
``(T, M, K)``) from the layer's actual input spikes, and answers the questions the
dataflows ask of a tile: how many spikes (accumulates), which rows carry a spike
(activity tags), how big the tile's spike slice is in each format.

The event dataflow asks per input neuron instead: :func:`fanout_map` gives how
many output pixels each input position feeds (its fan-out, per output channel).
"""

from __future__ import annotations

import numpy as np

from tlmsim.dataflow.formats import SPIKE_FORMATS, bits_for
from tlmsim.workload import Layer


def im2col(layer: Layer, spikes: np.ndarray) -> np.ndarray:
    """The im2col matrix of ``spikes`` (``(T, *in_shape)``) for ``layer``: ``(T, M, K)``,
    of the input's dtype (bool spikes, or integer values in verification mode)."""
    T = spikes.shape[0]
    if layer.op == "linear":
        return spikes.reshape(T, 1, -1)
    c, h, w = layer.in_shape
    kh, kw = layer.kernel
    sh, sw = layer.stride
    ph, pw = layer.padding
    _, ho, wo = layer.out_shape
    x = spikes.reshape(T, c, h, w)
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    # windows: (T, c, ho, wo, kh, kw) as a strided view, then (T, ho*wo, c*kh*kw)
    st = x.strides
    view = np.lib.stride_tricks.as_strided(
        x, shape=(T, c, ho, wo, kh, kw), strides=(st[0], st[1], st[2] * sh, st[3] * sw, st[2], st[3]), writeable=False
    )
    return np.ascontiguousarray(view.transpose(0, 2, 3, 1, 4, 5)).reshape(T, ho * wo, c * kh * kw)


def fanout_map(layer: Layer) -> np.ndarray:
    """For a conv layer: int array ``(h, w)``, the number of output pixels each input
    position feeds (padding and stride included); for a linear layer: ``(K,)`` ones."""
    if layer.op == "linear":
        return np.ones(layer.in_shape[0], dtype=np.int64)
    _, h, w = layer.in_shape
    kh, kw = layer.kernel
    sh, sw = layer.stride
    ph, pw = layer.padding
    _, ho, wo = layer.out_shape

    def axis(n: int, k: int, s: int, p: int, no: int) -> np.ndarray:
        cnt = np.zeros(n + 2 * p, dtype=np.int64)
        for o in range(no):
            cnt[o * s: o * s + k] += 1
        return cnt[p: p + n]

    return np.outer(axis(h, kh, sh, ph, ho), axis(w, kw, sw, pw, wo))


class Im2col:
    """A layer's im2col spikes for the systolic dataflows: ``x``, bool ``(T, M, K)``, and
    its sizes (the layer is not kept: every caller has it already)."""

    def __init__(self, layer: Layer, spikes: np.ndarray) -> None:
        self.x = im2col(layer, np.asarray(spikes, dtype=bool))  # (T, M, K)
        self.T, self.M, self.K = self.x.shape


def fold_sums(x: np.ndarray, R: int) -> np.ndarray:
    """int ``(T, M, ceil(n / R))``: spikes of bool ``x`` ``(T, M, n)`` summed over
    consecutive groups of ``R`` along its last axis (the last group may be shorter)."""
    T, M, n = x.shape
    f = -(-n // R)
    pad = f * R - n
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (0, pad)))
    return x.reshape(T, M, f, R).sum(axis=3, dtype=np.int32)


#: bits of an RLE run field (:class:`tlmsim.dataflow.formats.SpikeCodec`'s default)
RUN_BITS = 4


def spike_bits(fmt: str, a: np.ndarray, *, run_bits: int = RUN_BITS) -> int:
    """Exact size in bits of the ``(T, N)`` bool tile ``a`` in spike format ``fmt``
    (default field widths of :class:`tlmsim.dataflow.formats.SpikeCodec`), computed
    without encoding. Tested against the codec."""
    T, N = a.shape
    if fmt == "bitmap":
        return T * N
    if fmt == "rle":
        esc = (1 << run_bits) - 1
        ones = np.flatnonzero(a)
        if ones.size == 0:
            return 0
        runs = np.diff(ones, prepend=-1) - 1
        return run_bits * int((runs // esc).sum() + ones.size)
    return format_bits(fmt, T, N, int(np.count_nonzero(a)), 0)


def format_bits(fmt: str, T: int, N: int, nnz: int, rle: int) -> int:
    """:func:`spike_bits` of a ``(T, N)`` tile with ``nnz`` spikes, from those counts; ``rle``:
    its RLE size (which depends on where the spikes are), returned for ``"rle"``."""
    if fmt == "bitmap":
        return T * N
    if fmt == "rle":
        return rle
    count_bits = bits_for(T * N + 1)
    if fmt == "aer":
        return count_bits + nnz * (bits_for(T) + bits_for(N))
    if fmt == "csr":
        return count_bits + (T + 1) * bits_for(nnz + 1) + nnz * bits_for(N)
    raise ValueError(f"unknown spike format {fmt!r}; allowed: {', '.join(SPIKE_FORMATS)}, auto")


#: spikes per tile above which :func:`grouped_bits` sizes RLE tile by tile (measured: docs/performance.md,
#: "Session 29")
GROUPED_SPIKES = 512


def grouped_bits(formats: tuple[str, ...], x: np.ndarray, cols: np.ndarray, sizes: np.ndarray, *,
                 run_bits: int = RUN_BITS, counts: np.ndarray | None = None) -> tuple[list[tuple[str, int]], np.ndarray]:
    """:func:`best_bits` (:func:`spike_bits` with one format) of many tiles at once: tile ``g`` is
    ``x[:, :, cols[o:o + sizes[g]]].reshape(T, -1)`` of the bool ``(T, M, K)`` ``x``, ``o`` the sum
    of the sizes before it (consecutive groups of ``cols``). Returns (per tile its format and
    bits, per tile its spikes as int64), from a few calls over every tile instead of a few per tile.
    ``counts``: the spikes of each of ``x``'s columns (``x.sum(axis=(0, 1))``), if the caller has them.

    A tile's spikes give every format's size but RLE's, which is at least ``run_bits`` per spike
    (:func:`spike_bits`): where that is more than another allowed format's size, RLE cannot be the
    smallest and is not worked out (:func:`best_bits`' rule); the other tiles' RLE sizes come from their
    spikes' places (:func:`_grouped_rle`)."""
    T, M, _ = x.shape
    sizes = np.asarray(sizes, dtype=np.int64)
    ends = np.cumsum(sizes)
    if counts is None:
        counts = np.count_nonzero(x, axis=(0, 1))
    run = np.zeros(len(cols) + 1, dtype=np.int64)  # the spikes of cols[:i]
    np.cumsum(counts[cols], out=run[1:])
    nnz = run[ends] - run[ends - sizes]
    table, need = [], []
    for g, (size, nz) in enumerate(zip(sizes.tolist(), nnz.tolist())):
        bits, at = _sizes_but_rle(formats, T, M * size, nz, run_bits)
        if at >= 0:
            need.append(g)
        table.append(bits)
    if need:
        at = formats.index("rle")
        first = (ends - sizes).tolist()
        sel = np.concatenate([cols[first[g]:first[g] + sz] for g, sz in zip(need, sizes[need].tolist())])
        for g, rle in zip(need, _grouped_rle(x[:, :, sel], sizes[need], run_bits).tolist()):
            table[g][at] = rle
    out = []
    for bits in table:
        j = bits.index(min(bits))  # the smallest, ties: the earlier
        out.append((formats[j], bits[j]))
    return out, nnz


def _grouped_rle(sub: np.ndarray, sizes: np.ndarray, run_bits: int) -> np.ndarray:
    """:func:`spike_bits` ``("rle", ...)`` of each tile of the bool ``(T, M, width)`` ``sub``, tile
    ``g`` its ``sizes[g]`` columns after the tiles before it, as int64. Above :data:`GROUPED_SPIKES`
    spikes a tile on average tile by tile (a tile's few passes over its spikes), else all at once:
    each tile's ones in its own row-major order (a stable sort by tile) and the gaps between them."""
    T, _, width = sub.shape
    n = len(sizes)
    ones = np.flatnonzero(sub)
    if len(ones) > GROUPED_SPIKES * n:
        out, o = np.zeros(n, dtype=np.int64), 0
        for g, size in enumerate(sizes.tolist()):
            out[g] = spike_bits("rle", sub[:, :, o:o + size].reshape(T, -1), run_bits=run_bits)
            o += size
        return out
    if not len(ones):
        return np.zeros(n, dtype=np.int64)
    row, col = np.divmod(ones, width)  # row = t * M + m, col: the place in the columns
    first = np.cumsum(sizes) - sizes  # each tile's first column
    g = np.repeat(np.arange(n), sizes)[col]  # each one's tile
    # each tile's ones in its own row-major order: row * size + (col - first) (a stable sort by
    # tile keeps each tile's in order); a one's gap is the zeros before it in its tile
    order = np.argsort(g.astype(np.uint16) if n < 1 << 16 else g, kind="stable")
    g = g[order]
    pos = row[order] * sizes[g] + col[order] - first[g]
    gaps = np.empty_like(pos)
    gaps[1:] = pos[1:] - pos[:-1] - 1
    new = np.flatnonzero(np.concatenate(([True], g[1:] != g[:-1])))  # a tile's first one: its place
    gaps[new] = pos[new]
    esc = (1 << run_bits) - 1
    return run_bits * (np.bincount(g, weights=gaps // esc, minlength=n).astype(np.int64)
                       + np.bincount(g, minlength=n))


def _sizes_but_rle(formats: tuple[str, ...], T: int, N: int, nnz: int, run_bits: int) -> tuple[list[int], int]:
    """Each of ``formats``' size of a ``(T, N)`` tile with ``nnz`` spikes (:func:`format_bits`), RLE's
    left to work out where it could be the smallest: it takes at least ``run_bits`` bits a spike, so
    where that is more than another format's size it stands in as one more than that size (never
    the smallest), and without spikes it is 0. Returns (the sizes, RLE's index where its own size is
    still needed, else -1)."""
    bits = [format_bits(f, T, N, nnz, 0) for f in formats]  # RLE: 0, right without spikes
    if not nnz or "rle" not in formats:
        return bits, -1
    at = formats.index("rle")
    least = min([b for i, b in enumerate(bits) if i != at], default=None)
    if least is None or run_bits * nnz <= least:
        return bits, at
    bits[at] = least + 1  # more than another format: never the smallest
    return bits, -1


def best_bits(formats: tuple[str, ...], a: np.ndarray, *, run_bits: int = 4) -> tuple[str, int]:
    """The smallest of ``formats`` for tile ``a`` (ties: the earlier one) and its size. RLE, at
    least ``run_bits`` bits a spike, is worked out only where that could be the smallest."""
    T, N = a.shape
    bits, at = _sizes_but_rle(formats, T, N, int(np.count_nonzero(a)), run_bits)
    if at >= 0:
        bits[at] = spike_bits("rle", a, run_bits=run_bits)
    j = bits.index(min(bits))  # the smallest, ties: the earlier
    return formats[j], bits[j]


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.activity":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
