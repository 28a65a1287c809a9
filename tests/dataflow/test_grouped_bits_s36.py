"""Spike formats with RLE sized only where it could be the smallest (session 36):
:func:`best_bits` and :func:`grouped_bits` (tlmsim/dataflow/activity.py) against every format's
exact size worked out tile by tile (:func:`spike_bits`, the smallest, ties: the earlier in the
order given), in every order of the formats; RLE (at least ``run_bits`` bits a spike) is
worked out only for the tiles where that bound is at most another format's size; the
columns' spike counts a caller passes give the same."""

import numpy as np
import pytest

from tlmsim.dataflow import activity
from tlmsim.dataflow.activity import best_bits, grouped_bits, spike_bits

ORDERS = [("bitmap", "aer", "csr", "rle"), ("rle", "bitmap"), ("aer", "rle", "csr"), ("rle",), ("csr", "aer"),
          ("rle", "csr", "bitmap", "aer")]


def _want(formats, a, run_bits=4):
    bits = [spike_bits(f, a, run_bits=run_bits) for f in formats]
    j = bits.index(min(bits))
    return formats[j], bits[j]


@pytest.mark.parametrize("formats", ORDERS)
@pytest.mark.parametrize("rate", [0.0, 0.03, 0.15, 0.3, 0.9])
@pytest.mark.parametrize("per_tile", [0, 10**9])  # RLE tile by tile above this many spikes a tile
def test_grouped_bits_is_each_tiles_smallest_format_in_any_order(formats, rate, per_tile, monkeypatch):
    monkeypatch.setattr(activity, "GROUPED_SPIKES", per_tile)
    rng = np.random.default_rng(int(rate * 1000) + 7 * len(formats))
    T, M, K = 4, 3, 150
    x = rng.random((T, M, K)) < rate
    x[:, :, 40:90] &= rng.random((T, M, 50)) < 0.04  # sparse columns: long zero runs, RLE escapes
    cols = rng.permutation(K)[:120]
    sizes = np.array([9, 1, 0, 35, 12, 3, 60], dtype=np.int64)
    counts = np.count_nonzero(x, axis=(0, 1))
    for run_bits in (4, 2):
        got, spikes = grouped_bits(formats, x, cols, sizes, run_bits=run_bits)
        again, spikes2 = grouped_bits(formats, x, cols, sizes, run_bits=run_bits, counts=counts)
        assert again == got and spikes2.tolist() == spikes.tolist() and spikes.dtype == np.int64
        o = 0
        for (fmt, bits), nz, size in zip(got, spikes.tolist(), sizes.tolist()):
            a = x[:, :, cols[o:o + size]].reshape(T, -1)
            o += size
            assert (fmt, bits) == _want(formats, a, run_bits) and type(bits) is int
            assert best_bits(formats, a, run_bits=run_bits) == (fmt, bits)
            assert nz == int(a.sum())


def test_rle_is_worked_out_only_where_its_bound_reaches_another_format(monkeypatch):
    calls = []
    real = activity.spike_bits

    def counted(fmt, a, **kw):
        calls.append((fmt, int(a.sum())))
        return real(fmt, a, **kw)

    monkeypatch.setattr(activity, "spike_bits", counted)
    # 1 x 8 tiles, bitmap 8 bits; RLE at least 4 bits a spike
    two = np.array([[1, 0, 0, 0, 0, 1, 0, 0]], dtype=bool)  # 4 * 2 = 8 <= 8: worked out, exactly 8
    three = np.array([[1, 1, 0, 0, 0, 1, 0, 0]], dtype=bool)  # 12 > 8: never the smallest, not worked out
    assert best_bits(("bitmap", "rle"), two) == ("bitmap", 8) and calls == [("rle", 2)]
    assert best_bits(("rle", "bitmap"), two) == ("rle", 8)  # a tie: the earlier
    calls.clear()
    assert best_bits(("rle", "bitmap"), three) == ("bitmap", 8) and calls == []
    assert best_bits(("rle",), three) == ("rle", 12) and calls == [("rle", 3)]
    calls.clear()
    assert best_bits(("rle", "bitmap"), np.zeros((1, 8), dtype=bool)) == ("rle", 0) and calls == []
    # grouped: the same rule per tile; only the tiles that need it are sized (one call here: one tile)
    x = np.concatenate([two, three, two], axis=1)[None]  # (T=1, M=1, 24): three tiles of 8 columns
    monkeypatch.setattr(activity, "GROUPED_SPIKES", 0)  # tile by tile, so each RLE is a spike_bits call
    got, spikes = grouped_bits(("rle", "bitmap"), x, np.arange(24), np.array([8, 8, 8]))
    assert got == [("rle", 8), ("bitmap", 8), ("rle", 8)] and spikes.tolist() == [2, 3, 2]
    assert calls == [("rle", 2), ("rle", 2)]
    calls.clear()
    got, _ = grouped_bits(("rle", "bitmap"), x, np.arange(8, 16), np.array([8]))
    assert got == [("bitmap", 8)] and calls == []


def test_grouped_rle_by_hand():
    # tile 0: columns 0-1, rows (t, m) = 2: ones at flat places 0 and 3 -> gaps 0, 2; tile 1: column 2,
    # 20 rows with one at row 19 -> a gap of 19 = one escape at run_bits 4 (15), none above
    x = np.zeros((20, 1, 3), dtype=bool)
    x[0, 0, 0] = x[1, 0, 1] = True
    x[19, 0, 2] = True
    got = activity._grouped_rle(x, np.array([2, 1], dtype=np.int64), 4)
    # tile 0 (20 rows x 2): ones at 0 and 3 (row 1, col 1): runs 0 and 2 -> 2 ones, no escape: 8 bits
    assert got.tolist() == [8, 4 * (1 + 19 // 15)] and got.dtype == np.int64
    assert activity._grouped_rle(x, np.array([2, 1], dtype=np.int64), 5).tolist() == [10, 5]
    none = activity._grouped_rle(np.zeros((2, 1, 3), dtype=bool), np.array([2, 1]), 4)
    assert none.tolist() == [0, 0] and none.dtype == np.int64
    # the last tiles without a spike: sized 0, as many sizes as tiles (both ways)
    y = np.zeros((2, 1, 6), dtype=bool)
    y[1, 0, 0] = True  # tile 0 (columns 0-1): its one at place 2
    for per_tile in (0, 10**9):
        activity.GROUPED_SPIKES, keep = per_tile, activity.GROUPED_SPIKES
        try:
            got = activity._grouped_rle(y, np.array([2, 2, 2], dtype=np.int64), 4)
        finally:
            activity.GROUPED_SPIKES = keep
        assert got.tolist() == [4, 0, 0] and got.dtype == np.int64
    # a first tile with an escape (a run of 16 zeros) and two without a spike: their RLE stays 0
    z = np.zeros((20, 1, 3), dtype=bool)
    z[16, 0, 0] = True
    assert activity._grouped_rle(z, np.array([1, 1, 1], dtype=np.int64), 4).tolist() == [8, 0, 0]


def test_spikex_chunk_folds_carry_each_reduction_rows_spikes():
    from tlmsim.dataflow import make_dataflow
    from tlmsim.platform import load_platform
    from tlmsim.workload import load_workload
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=spikex"]), load_workload("lenet5-mnist", seed=0))
    layer = next(la for la in df.workload.layers if la.op == "conv2d")
    act = df.activity(layer)
    cf = df._chunk_folds(layer, act, 3, 5)
    want = np.count_nonzero(act.x[:, 3:8], axis=(0, 1))
    assert cf.cache["column spikes"].tolist() == want.tolist() and want.sum() > 0
    # the grouped sizes read them: the same as counted from the spikes
    rows = np.flatnonzero(want)
    assert len(rows) > 5
    sizes = np.array([5, len(rows) - 5])
    got = grouped_bits(df.SPIKE_FORMATS, act.x[:, 3:8], rows, sizes, counts=cf.cache["column spikes"])
    assert got[0] == grouped_bits(df.SPIKE_FORMATS, act.x[:, 3:8], rows, sizes)[0]
    assert got[1].tolist() == [int(want[rows[:5]].sum()), int(want[rows[5:]].sum())]
