"""Spike and weight formats: exact sizes by hand, and exact round trips (property tests)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tlmsim.dataflow.formats import SPIKE_FORMATS, SpikeCodec, WeightCodec, best_spike_format, bits_for

# T = 4 timesteps x N = 10 neurons, 3 spikes: (t=0, n=2), (t=1, n=9), (t=3, n=0)
S = np.zeros((4, 10), dtype=bool)
S[0, 2] = S[1, 9] = S[3, 0] = True


def test_sizes_by_hand():
    c = SpikeCodec(4, 10)
    assert (c.tb, c.ab, c.count_bits) == (2, 4, 6)  # ceil(log2 4), ceil(log2 10), ceil(log2 41)
    assert c.size_bits("bitmap", S) == 40  # 4 x 10
    assert c.size_bits("aer", S) == 6 + 3 * (2 + 4)  # header + 3 events x (time + address) = 24
    assert c.size_bits("csr", S) == 6 + 5 * 2 + 3 * 4  # header + (T+1) pointers of ceil(log2 4)=2 + 3 addresses = 28
    # rle over the 40-bit stream, 4-bit tokens (escape 15): ones at 2, 19, 30 -> zero runs 2, 16, 10
    # -> tokens [2], [15, 1], [10] = 4 tokens = 16 bits
    assert c.size_bits("rle", S) == 16
    assert best_spike_format(c, S) == ("rle", 16)
    assert best_spike_format(c, np.ones((4, 10), bool)) == ("bitmap", 40)


def test_addresses_and_times_can_be_wider_than_needed():
    c = SpikeCodec(4, 10, time_bits=8, addr_bits=16)
    assert c.size_bits("aer", S) == 6 + 3 * 24
    assert (c.decode(c.encode("aer", S)) == S).all()


def test_weight_sizes_by_hand():
    w = np.zeros((6, 3), dtype=np.int64)
    w[0, 0], w[5, 0], w[2, 2] = 7, -8, 1
    c = WeightCodec(6, 3, 4)
    assert c.size_bits("dense", w) == 6 * 3 * 4  # 72
    # header ceil(log2 19) = 5; 4 pointers of ceil(log2 4) = 2; 3 x (row ceil(log2 6) = 3 + value 4)
    assert c.size_bits("sparse", w) == 5 + 4 * 2 + 3 * 7
    for fmt in ("dense", "sparse"):
        enc = c.encode(fmt, w)
        assert enc.nbits == c.size_bits(fmt, w)
        assert (c.decode(enc) == w).all()
    with pytest.raises(ValueError, match="does not fit 4 signed bits"):
        c.encode("dense", w + 8)


spike_tiles = st.tuples(st.integers(1, 9), st.integers(1, 70)).flatmap(
    lambda tn: arrays(np.bool_, tn, elements=st.booleans())
)


@settings(max_examples=150, deadline=None)
@given(spikes=spike_tiles, run_bits=st.integers(1, 6))
def test_every_spike_format_round_trips_at_its_stated_size(spikes, run_bits):
    c = SpikeCodec(spikes.shape[0], spikes.shape[1], run_bits=run_bits)
    for fmt in SPIKE_FORMATS:
        enc = c.encode(fmt, spikes)
        assert enc.nbits == c.size_bits(fmt, spikes), fmt
        assert len(enc.data) == -(-enc.nbits // 8)
        assert (c.decode(enc) == spikes).all(), fmt


@settings(max_examples=100, deadline=None)
@given(data=st.data(), bits=st.integers(1, 16))
def test_weights_round_trip(data, bits):
    k, n = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    w = data.draw(arrays(np.int64, (k, n), elements=st.integers(lo, hi) | st.just(0)))
    c = WeightCodec(k, n, bits)
    for fmt in ("dense", "sparse"):
        enc = c.encode(fmt, w)
        assert enc.nbits == c.size_bits(fmt, w)
        assert (c.decode(enc) == w).all()


def test_bits_for():
    assert [bits_for(n) for n in (1, 2, 3, 4, 5, 1024, 1025)] == [1, 1, 2, 2, 3, 10, 11]
