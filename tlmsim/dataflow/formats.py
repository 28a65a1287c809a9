"""Spike and weight formats: exact encoded sizes and lossless round trips.

A tile's spikes are a bool array ``(T, N)`` (timesteps x neurons; any ``(T, ...)``
array is flattened per timestep). Formats, with their exact size in bits:

* ``bitmap``: one bit per neuron per timestep: ``T * N``.
* ``aer`` (address-event / COO): a ``count_bits`` header holding the number of
  events, then one (time, address) pair per spike, in time-then-address order:
  ``count_bits + nnz * (time_bits + addr_bits)``; by default ``time_bits =
  ceil(log2 T)``, ``addr_bits = ceil(log2 N)`` (at least 1 each), ``count_bits =
  ceil(log2 (T N + 1))``.
* ``csr``: a ``count_bits`` header holding nnz (from which the decoder derives the
  pointer width ``ptr_bits = ceil(log2 (nnz + 1))``, at least 1), one row pointer per
  timestep plus one, then the addresses:
  ``count_bits + (T + 1) * ptr_bits + nnz * addr_bits``.
* ``rle``: the ``T * N`` stream (time-major) as zero-run tokens of ``run_bits``
  (default 4): a token v < 2^r - 1 means "v zeros then a one"; v = 2^r - 1 means
  "2^r - 1 zeros, no one". Trailing zeros are implied by the known length. Size:
  ``run_bits * tokens``.

Weights ``(K, N)`` of ``weight_bits``:

* ``dense``: ``K * N * weight_bits``;
* ``sparse`` (compressed sparse columns): a ``count_bits`` header, per column a
  pointer of ``ptr_bits``, then per nonzero its row index and value:
  ``count_bits + (N + 1) * ptr_bits + nnz * (row_bits + weight_bits)``.

``auto`` (:func:`best_spike_format`) picks the smallest spike format for a tile. Every
format's ``encode`` returns the exact bit string (as packed bytes plus its length in
bits), and ``decode`` inverts it exactly; ``size_bits`` equals the encoded length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SPIKE_FORMATS = ("bitmap", "aer", "csr", "rle")
WEIGHT_FORMATS = ("dense", "sparse")


def bits_for(n: int) -> int:
    """Bits to hold values 0 .. n - 1 (at least 1)."""
    return max(1, math.ceil(math.log2(n))) if n > 1 else 1


@dataclass(frozen=True)
class Encoded:
    """An encoded tensor: the bit string packed MSB-first, and its length in bits."""

    format: str
    nbits: int
    data: bytes


class _Writer:
    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []

    def fields(self, values, width: int) -> None:
        v = np.asarray(values, dtype=np.int64).ravel()
        if v.size == 0 or width == 0:
            return
        if v.min() < 0 or (width < 63 and v.max() >= (1 << width)):
            raise ValueError(f"a value does not fit {width} bits")
        shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
        self.chunks.append(((v[:, None] >> shifts) & 1).astype(np.uint8).ravel())

    def done(self, fmt: str) -> Encoded:
        bits = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.uint8)
        return Encoded(fmt, int(bits.size), np.packbits(bits).tobytes())


class _Reader:
    def __init__(self, enc: Encoded) -> None:
        self.bits = np.unpackbits(np.frombuffer(enc.data, dtype=np.uint8))[: enc.nbits]
        self.pos = 0

    def fields(self, count: int, width: int) -> np.ndarray:
        if count == 0 or width == 0:
            return np.zeros(count, dtype=np.int64)
        end = self.pos + count * width
        if end > self.bits.size:
            raise ValueError("the encoded data is truncated")
        chunk = self.bits[self.pos:end].reshape(count, width).astype(np.int64)
        self.pos = end
        return chunk @ (1 << np.arange(width - 1, -1, -1, dtype=np.int64))


def _as_2d(spikes: np.ndarray) -> np.ndarray:
    a = np.asarray(spikes)
    if a.ndim < 1:
        raise ValueError("spikes need a time axis")
    return a.reshape(a.shape[0], -1).astype(bool)


@dataclass(frozen=True)
class SpikeCodec:
    """Field widths of the spike formats for a tile of ``timesteps`` x ``neurons``;
    ``time_bits`` / ``addr_bits`` default to the minimum for the tile."""

    timesteps: int
    neurons: int
    time_bits: int | None = None
    addr_bits: int | None = None
    run_bits: int = 4

    @property
    def tb(self) -> int:
        return self.time_bits or bits_for(self.timesteps)

    @property
    def ab(self) -> int:
        return self.addr_bits or bits_for(self.neurons)

    @property
    def count_bits(self) -> int:
        return bits_for(self.timesteps * self.neurons + 1)

    # -- sizes --------------------------------------------------------------------
    def size_bits(self, fmt: str, spikes: np.ndarray) -> int:
        a = _as_2d(spikes)
        nnz = int(a.sum())
        T, N = self.timesteps, self.neurons
        if fmt == "bitmap":
            return T * N
        if fmt == "aer":
            return self.count_bits + nnz * (self.tb + self.ab)
        if fmt == "csr":
            return self.count_bits + (T + 1) * bits_for(nnz + 1) + nnz * self.ab
        if fmt == "rle":
            return self.run_bits * len(self._rle_tokens(a))
        raise ValueError(f"unknown spike format {fmt!r}; allowed: {', '.join(SPIKE_FORMATS)}")

    def _rle_tokens(self, a: np.ndarray) -> np.ndarray:
        esc = (1 << self.run_bits) - 1
        ones = np.flatnonzero(a.ravel())
        runs = np.diff(np.concatenate(([-1], ones))) - 1  # zeros before each one
        full, rest = np.divmod(runs, esc)
        # each one: `full` escape tokens, then one token `rest`
        reps = full + 1
        tokens = np.full(int(reps.sum()), esc, dtype=np.int64)
        tokens[np.cumsum(reps) - 1] = rest
        return tokens

    # -- encode / decode ----------------------------------------------------------
    def encode(self, fmt: str, spikes: np.ndarray) -> Encoded:
        a = _as_2d(spikes)
        if a.shape != (self.timesteps, self.neurons):
            raise ValueError(f"spikes of shape {a.shape} do not match the codec ({self.timesteps}, {self.neurons})")
        w = _Writer()
        if fmt == "bitmap":
            w.fields(a.ravel(), 1)
        elif fmt == "aer":
            t, n = np.nonzero(a)  # time-major order
            if t.size and (t.max() >= (1 << self.tb) or n.max() >= (1 << self.ab)):
                raise ValueError("a spike does not fit the time or address bits")
            w.fields([t.size], self.count_bits)
            w.fields((t << self.ab) | n, self.tb + self.ab)  # one (time, address) field per event
        elif fmt == "csr":
            nnz = int(a.sum())
            ptr = np.concatenate(([0], np.cumsum(a.sum(axis=1))))
            w.fields([nnz], self.count_bits)
            w.fields(ptr, bits_for(nnz + 1))
            w.fields(np.nonzero(a)[1], self.ab)
        elif fmt == "rle":
            w.fields(self._rle_tokens(a), self.run_bits)
        else:
            raise ValueError(f"unknown spike format {fmt!r}; allowed: {', '.join(SPIKE_FORMATS)}")
        return w.done(fmt)

    def decode(self, enc: Encoded) -> np.ndarray:
        T, N = self.timesteps, self.neurons
        r = _Reader(enc)
        out = np.zeros(T * N, dtype=bool)
        if enc.format == "bitmap":
            out[:] = r.fields(T * N, 1).astype(bool)
        elif enc.format == "aer":
            nnz = int(r.fields(1, self.count_bits)[0])
            pairs = r.fields(nnz, self.tb + self.ab)
            t, n = pairs >> self.ab, pairs & ((1 << self.ab) - 1)
            out[t * N + n] = True
        elif enc.format == "csr":
            nnz = int(r.fields(1, self.count_bits)[0])
            ptr = r.fields(T + 1, bits_for(nnz + 1))
            cols = r.fields(nnz, self.ab)
            rows = np.repeat(np.arange(T), np.diff(ptr))
            out[rows * N + cols] = True
        elif enc.format == "rle":
            esc = (1 << self.run_bits) - 1
            tokens = r.fields(enc.nbits // self.run_bits, self.run_bits)
            pos = -1
            for v in tokens.tolist():
                if v == esc:
                    pos += esc
                else:
                    pos += v + 1
                    out[pos] = True
        else:
            raise ValueError(f"unknown spike format {enc.format!r}")
        return out.reshape(T, N)


def best_spike_format(codec: SpikeCodec, spikes: np.ndarray, formats=SPIKE_FORMATS) -> tuple[str, int]:
    """The smallest format for ``spikes`` (ties: the earlier in ``formats``) and its size."""
    sizes = [(codec.size_bits(f, spikes), i, f) for i, f in enumerate(formats)]
    bits, _, fmt = min(sizes)
    return fmt, bits


@dataclass(frozen=True)
class WeightCodec:
    """Weights ``(K, N)`` of ``weight_bits`` (two's complement integers)."""

    rows: int
    cols: int
    weight_bits: int

    @property
    def count_bits(self) -> int:
        return bits_for(self.rows * self.cols + 1)

    def size_bits(self, fmt: str, w: np.ndarray) -> int:
        nnz = int(np.count_nonzero(w))
        if fmt == "dense":
            return self.rows * self.cols * self.weight_bits
        if fmt == "sparse":
            return self.count_bits + (self.cols + 1) * bits_for(nnz + 1) + nnz * (bits_for(self.rows) + self.weight_bits)
        raise ValueError(f"unknown weight format {fmt!r}; allowed: {', '.join(WEIGHT_FORMATS)}")

    def _unsigned(self, v: np.ndarray) -> np.ndarray:
        lo, hi = -(1 << (self.weight_bits - 1)), (1 << (self.weight_bits - 1)) - 1
        if v.size and (v.min() < lo or v.max() > hi):
            raise ValueError(f"a weight does not fit {self.weight_bits} signed bits")
        return v.astype(np.int64) & ((1 << self.weight_bits) - 1)

    def _signed(self, u: np.ndarray) -> np.ndarray:
        half = 1 << (self.weight_bits - 1)
        return np.where(u >= half, u - (1 << self.weight_bits), u)

    def encode(self, fmt: str, w: np.ndarray) -> Encoded:
        w = np.asarray(w, dtype=np.int64)
        if w.shape != (self.rows, self.cols):
            raise ValueError(f"weights of shape {w.shape} do not match the codec ({self.rows}, {self.cols})")
        out = _Writer()
        if fmt == "dense":
            out.fields(self._unsigned(w.ravel()), self.weight_bits)
        elif fmt == "sparse":
            wt = w.T  # column-major: per output column, its nonzero rows
            nnz = int(np.count_nonzero(wt))
            ptr = np.concatenate(([0], np.cumsum(np.count_nonzero(wt, axis=1))))
            cols, rows = np.nonzero(wt)
            out.fields([nnz], self.count_bits)
            out.fields(ptr, bits_for(nnz + 1))
            pairs_r = rows
            pairs_v = self._unsigned(wt[cols, rows])
            rb = bits_for(self.rows)
            if nnz:
                shifts_r = np.arange(rb - 1, -1, -1)
                shifts_v = np.arange(self.weight_bits - 1, -1, -1)
                bits = np.concatenate([(pairs_r[:, None] >> shifts_r) & 1, (pairs_v[:, None] >> shifts_v) & 1], axis=1)
                out.chunks.append(bits.astype(np.uint8).ravel())
        else:
            raise ValueError(f"unknown weight format {fmt!r}; allowed: {', '.join(WEIGHT_FORMATS)}")
        return out.done(fmt)

    def decode(self, enc: Encoded) -> np.ndarray:
        r = _Reader(enc)
        if enc.format == "dense":
            return self._signed(r.fields(self.rows * self.cols, self.weight_bits)).reshape(self.rows, self.cols)
        nnz = int(r.fields(1, self.count_bits)[0])
        ptr = r.fields(self.cols + 1, bits_for(nnz + 1))
        pairs = r.fields(nnz, bits_for(self.rows) + self.weight_bits)
        rows = pairs >> self.weight_bits
        vals = self._signed(pairs & ((1 << self.weight_bits) - 1))
        w = np.zeros((self.cols, self.rows), dtype=np.int64)
        w[np.repeat(np.arange(self.cols), np.diff(ptr)), rows] = vals
        return w.T


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.formats":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
