"""Spike and weight formats at their edges, by hand, against the survivors of the session-9 mutation
run (tag s9df): every refusal as its exact line, the value-range guards at their boundaries (a
value of exactly 2**width, the most negative and most positive weight), the accepted input shapes
(a 1-d timeline, a (T, C, H, W) tile flattened per timestep) and the decoded types (bool spikes,
int64 weights)."""

import numpy as np
import pytest

from tlmsim.dataflow.formats import Encoded, SpikeCodec, WeightCodec, _Writer, bits_for

# T = 4 timesteps x N = 10 neurons, 3 spikes: (t=0, n=2), (t=1, n=9), (t=3, n=0)
S = np.zeros((4, 10), dtype=bool)
S[0, 2] = S[1, 9] = S[3, 0] = True


def test_unknown_spike_formats_are_refused_with_the_allowed_ones():
    c = SpikeCodec(4, 10)
    line = "unknown spike format 'zip'; allowed: bitmap, aer, csr, rle"
    with pytest.raises(ValueError) as e:
        c.size_bits("zip", S)
    assert str(e.value) == line
    with pytest.raises(ValueError) as e:
        c.encode("zip", S)
    assert str(e.value) == line
    with pytest.raises(ValueError) as e:
        c.decode(Encoded("zip", 0, b""))
    assert str(e.value) == "unknown spike format 'zip'"


def test_unknown_weight_formats_are_refused_with_the_allowed_ones():
    c = WeightCodec(2, 3, 4)
    w = np.zeros((2, 3), dtype=np.int64)
    for call in (c.size_bits, c.encode):
        with pytest.raises(ValueError) as e:
            call("csc", w)
        assert str(e.value) == "unknown weight format 'csc'; allowed: dense, sparse"


def test_tiles_of_another_shape_are_refused_naming_both_shapes():
    with pytest.raises(ValueError) as e:
        SpikeCodec(4, 10).encode("bitmap", np.zeros((4, 9), dtype=bool))
    assert str(e.value) == "spikes of shape (4, 9) do not match the codec (4, 10)"
    with pytest.raises(ValueError) as e:
        WeightCodec(2, 3, 4).encode("dense", np.zeros((3, 2), dtype=np.int64))
    assert str(e.value) == "weights of shape (3, 2) do not match the codec (2, 3)"
    with pytest.raises(ValueError) as e:
        SpikeCodec(1, 1).size_bits("bitmap", np.array(True))
    assert str(e.value) == "spikes need a time axis"


def test_a_timeline_and_a_feature_map_are_tiles_of_their_timesteps():
    # a 1-d array is T timesteps of one neuron: spikes at t = 1 and 4 of 5
    line = np.array([0, 1, 0, 0, 1])
    c = SpikeCodec(5, 1)
    enc = c.encode("aer", line)
    # count field ceil(log2 6) = 3 bits, then 2 events x (3 time bits + 1 address bit): 3 + 8 = 11
    assert c.size_bits("aer", line) == 11 == enc.nbits
    assert c.decode(enc)[:, 0].tolist() == [False, True, False, False, True]
    # (T, C, H, W) = (2, 2, 1, 3) flattened per timestep to (2, 6), nonzero integers read as spikes
    fm = np.zeros((2, 2, 1, 3), dtype=np.int64)
    fm[0, 1, 0, 2] = 7  # t = 0, neuron 1 * 3 + 2 = 5
    fm[1, 0, 0, 0] = -1  # t = 1, neuron 0
    c = SpikeCodec(2, 6)
    dec = c.decode(c.encode("bitmap", fm))
    assert dec.dtype == np.bool_ and dec.shape == (2, 6)
    assert np.flatnonzero(dec).tolist() == [5, 6]
    # csr: count ceil(log2 13) = 4, 3 pointers of ceil(log2 3) = 2, 2 addresses of ceil(log2 6) = 3: 4 + 6 + 6
    assert c.size_bits("csr", fm) == 16


def test_every_format_decodes_to_bools():
    c = SpikeCodec(4, 10)
    for fmt in ("bitmap", "aer", "csr", "rle"):
        dec = c.decode(c.encode(fmt, S))
        assert dec.dtype == np.bool_ and (dec == S).all(), fmt


def test_spikes_beyond_the_stated_time_or_address_bits_are_refused():
    # 3 time bits hold t = 0..7; a spike at t = 8 does not fit
    late = np.zeros((9, 2), dtype=bool)
    late[8, 0] = True
    with pytest.raises(ValueError) as e:
        SpikeCodec(9, 2, time_bits=3).encode("aer", late)
    assert str(e.value) == "a spike does not fit the time or address bits"
    # ... but one at t = 7 does (the largest 3-bit time)
    ok = np.zeros((9, 2), dtype=bool)
    ok[7, 1] = True
    c = SpikeCodec(9, 2, time_bits=3)
    assert (c.decode(c.encode("aer", ok)) == ok).all()
    # 2 address bits hold n = 0..3; a spike at n = 4 (exactly 2**2) does not fit, in aer nor csr
    far = np.zeros((2, 6), dtype=bool)
    far[1, 4] = True
    with pytest.raises(ValueError) as e:
        SpikeCodec(2, 6, addr_bits=2).encode("aer", far)
    assert str(e.value) == "a spike does not fit the time or address bits"
    with pytest.raises(ValueError) as e:
        SpikeCodec(2, 6, addr_bits=2).encode("csr", far)
    assert str(e.value) == "a value does not fit 2 bits"
    # n = 3, the largest 2-bit address, fits both
    near = np.zeros((2, 6), dtype=bool)
    near[1, 3] = True
    c = SpikeCodec(2, 6, addr_bits=2)
    for fmt in ("aer", "csr"):
        assert (c.decode(c.encode(fmt, near)) == near).all(), fmt


def test_the_writer_refuses_negative_values_and_values_of_exactly_2_to_the_width():
    w = _Writer()
    with pytest.raises(ValueError) as e:
        w.fields([3, -1], 4)
    assert str(e.value) == "a value does not fit 4 bits"
    for v in (8, 9, 15):  # 3 bits hold 0..7
        with pytest.raises(ValueError) as e:
            w.fields([v], 3)
        assert str(e.value) == "a value does not fit 3 bits"
    w.fields([7, 0], 3)
    assert w.done("x") == Encoded("x", 6, bytes([0b11100000]))


def test_truncated_data_is_refused():
    c = SpikeCodec(4, 10)
    enc = c.encode("bitmap", S)
    with pytest.raises(ValueError) as e:
        c.decode(Encoded("bitmap", 39, enc.data))
    assert str(e.value) == "the encoded data is truncated"


def test_the_signed_weight_range_is_exactly_minus_2_to_the_bits_minus_1_up_to_its_negation_minus_1():
    c = WeightCodec(1, 2, 4)  # 4 bits: -8 .. 7
    edge = np.array([[-8, 7]])
    for fmt in ("dense", "sparse"):
        enc = c.encode(fmt, edge)
        dec = c.decode(enc)
        assert dec.dtype == np.int64 and dec.tolist() == [[-8, 7]], fmt
    assert c.encode("dense", edge).data == bytes([0b10000111])  # -8 = 1000, 7 = 0111
    for bad in ([[-9, 0]], [[0, 8]], [[-16, 0]], [[0, 9]]):
        for fmt in ("dense", "sparse"):
            with pytest.raises(ValueError) as e:
                c.encode(fmt, np.array(bad))
            assert str(e.value) == "a weight does not fit 4 signed bits", (bad, fmt)


def test_bits_for_holds_at_least_one_bit():
    # values 0 .. n - 1; no value (n = 0) or one value still take one bit
    assert [bits_for(n) for n in (0, 1, 2, 3, 8, 9)] == [1, 1, 1, 2, 3, 4]
