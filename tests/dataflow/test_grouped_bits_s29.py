""":func:`tlmsim.dataflow.activity.grouped_bits` (many tiles' spike formats at once, issue 17's
session 29) gives :func:`best_bits` of each tile and its spike count; spikex's
:meth:`SpikeX._groups_spikes` gives, per group of folds, the format and bytes of the rows
those folds stream (the rule it replaced, one group at a time), cache hits included."""

import numpy as np
import pytest

from tlmsim.dataflow import activity, make_dataflow
from tlmsim.dataflow.activity import best_bits, grouped_bits, spike_bits
from tlmsim.dataflow.formats import SPIKE_FORMATS
from tlmsim.dataflow.spikex import SpikeX
from tlmsim.dataflow.tiling import bits_to_bytes
from tlmsim.platform import load_platform


@pytest.mark.parametrize("formats", [SPIKE_FORMATS, ("rle",), ("aer",), ("csr", "rle"), ("bitmap", "aer")])
@pytest.mark.parametrize("rate", [0.0, 0.02, 0.3, 0.95])
@pytest.mark.parametrize("per_tile", [0, 10**9])  # above this many spikes per tile: tile by tile
def test_grouped_bits_equal_best_bits_tile_by_tile(formats, rate, per_tile, monkeypatch):
    monkeypatch.setattr(activity, "GROUPED_SPIKES", per_tile)
    rng = np.random.default_rng(int(rate * 100) + len(formats))
    T, M, K = 3, 5, 120
    x = rng.random((T, M, K)) < rate
    x[:, :, 30:70] &= rng.random((T, M, 40)) < 0.05  # long zero runs (RLE escapes)
    cols = rng.permutation(K)[:90]
    sizes = np.array([7, 1, 0, 30, 12, 40], dtype=np.int64)  # an empty tile too
    x[:, :, cols[50:]] = False  # the last tiles without a spike (others have some)
    for run_bits in (4, 3):
        got, spikes = grouped_bits(formats, x, cols, sizes, run_bits=run_bits)
        o = 0
        for (fmt, bits), nz, size in zip(got, spikes.tolist(), sizes.tolist()):
            a = x[:, :, cols[o:o + size]].reshape(T, -1)
            o += size
            want = best_bits(formats, a, run_bits=run_bits) if len(formats) > 1 else \
                (formats[0], spike_bits(formats[0], a, run_bits=run_bits))
            assert (fmt, bits) == want and type(bits) is int
            assert nz == int(a.sum())


def test_grouped_bits_of_no_column():
    got, spikes = grouped_bits(SPIKE_FORMATS, np.ones((2, 3, 4), dtype=bool), np.zeros(0, dtype=np.int64),
                               np.zeros(2, dtype=np.int64))
    assert got == [best_bits(SPIKE_FORMATS, np.zeros((2, 0), dtype=bool))] * 2 and spikes.tolist() == [0, 0]


def test_spikex_groups_spikes_equal_the_rows_they_stream(sparse, monkeypatch):
    """Every call while spikex plans a sparse workload (small array and L1: many folds and
    groups) against best_bits of each group's rows, cf.rows(folds), one group at a time."""
    calls = []
    real = SpikeX._groups_spikes

    def checked(self, act, cf, live, g, cache):
        before = dict(cache)
        got = real(self, act, cf, live, g, cache)
        want = []
        for i in range(0, len(live), g):
            key = (cf.m0, cf.mm, tuple(live[i:i + g].tolist()))
            if key in before:
                want.append(before[key])
                continue
            a = act.x[:, cf.m0:cf.m0 + cf.mm][:, :, cf.rows(live[i:i + g])].reshape(act.T, -1)
            fmt, bits = best_bits(self.SPIKE_FORMATS, a)
            want.append((fmt, bits_to_bytes(bits)))
        assert got == want
        calls.append(len(want))
        return got

    monkeypatch.setattr(SpikeX, "_groups_spikes", checked)
    small = ["pe_array.rows=4", "pe_array.cols=4", "buffers.l1.capacity_bytes=1024", "dataflow.name=spikex"]
    make_dataflow(load_platform("ddr4-baseline", small), sparse).plan()
    assert len(calls) > 5 and max(calls) > 1
