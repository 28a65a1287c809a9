"""Spike encoders (tlmsim.snn.encoding): shapes over a batch, the rate encoder's
statistics and seeding, the time-to-first-spike formula, and direct (analog) input
fed as a current into a network."""

import nir
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tlmsim.errors import ConfigError
from tlmsim.snn.encoding import ENCODINGS, direct, encode, rate, ttfs
from tlmsim.snn.graph import load_nir
from tlmsim.snn.refsim import simulate_graph


def test_every_encoder_puts_time_first_and_keeps_the_batch_shape():
    x = np.random.default_rng(0).random((3, 2, 4, 4))  # (batch, C, H, W)
    for name in ENCODINGS:
        assert encode(name, x, 7, seed=1).shape == (7, 3, 2, 4, 4), name


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9])
def test_rate_density_matches_the_probability(p):
    # 40,000 Bernoulli draws: standard error <= 0.0025, so 0.01 is four of them
    s = rate(np.full(1000, p), 40, np.random.default_rng(4))
    assert abs(s.mean() - p) < 0.01
    # independent over time: every timestep has about the same density
    assert np.all(np.abs(s.mean(axis=1) - p) < 0.07)


def test_rate_is_reproducible_and_encode_uses_a_fresh_generator_per_seed():
    x = np.linspace(0, 1, 50)
    a = encode("rate", x, 20, seed=123)
    assert np.array_equal(a, encode("rate", x, 20, seed=123))
    assert np.array_equal(a, rate(x, 20, np.random.default_rng(123)))
    assert not np.array_equal(a, encode("rate", x, 20, seed=124))


def test_ttfs_formula_rounds_half_to_even():
    # T = 5: t = round((1 - x) * 4) with numpy's rint (halves go to the even neighbour):
    # x = 0.875 -> 0.5 -> 0;  x = 0.625 -> 1.5 -> 2;  x = 0.375 -> 2.5 -> 2;  x = 0.125 -> 3.5 -> 4
    # x = 1.5 is clipped to 1 -> 0;  x = -0.2 and x = 0 never fire
    x = np.array([0.875, 0.625, 0.375, 0.125, 1.5, -0.2, 0.0])
    s = ttfs(x, 5)
    assert [np.flatnonzero(s[:, i]).tolist() for i in range(len(x))] == [[0], [2], [2], [4], [0], [], []]


def test_ttfs_with_one_timestep_fires_every_positive_input_at_once():
    assert ttfs(np.array([0.01, 1.0, 0.0]), 1).tolist() == [[True, True, False]]


@settings(max_examples=50, deadline=None, derandomize=True)  # the same cases on every run
@given(arrays(np.float64, 12, elements=st.floats(-1, 2)), st.integers(1, 40))
def test_ttfs_fires_at_most_once_and_larger_values_never_later(x, T):
    s = ttfs(x, T)
    assert s.shape == (T, 12) and s.dtype == bool
    counts = s.sum(axis=0)
    assert np.array_equal(counts, (x > 0).astype(int))
    first = np.where(counts > 0, s.argmax(axis=0), T)  # T stands for "never"
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(first[order]) <= 0)
    assert np.array_equal(ttfs(x, T), s)


def test_direct_is_an_analog_current_into_the_first_layer():
    # Input -> IF(r = 1, threshold 1): the value itself is integrated every step.
    # x = 0.375: v = 0.375, 0.75, 1.125 -> spike, 0; 0.375, 0.75, 1.125 -> spike
    # x = 0.5:   v = 0.5, 1.0 -> spike, 0; 0.5, 1.0 -> spike, ...
    g = load_nir(nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([2])}),
               "n": nir.IF(r=np.ones(2), v_threshold=np.ones(2)),
               "out": nir.Output(output_type={"output": np.array([2])})},
        edges=[("in", "n"), ("n", "out")],
    ))
    x = direct(np.array([[0.375, 0.5]]), 6)
    assert x.dtype == np.float64 and x.shape == (6, 1, 2) and x.flags.writeable
    s = simulate_graph(g, x).outputs["n"][:, 0]
    assert [np.flatnonzero(s[:, i]).tolist() for i in range(2)] == [[2, 5], [1, 3, 5]]


def test_encode_refuses_unknown_names_and_no_timesteps():
    with pytest.raises(ConfigError) as e:
        encode("latency", np.zeros(2), 3)
    assert str(e.value) == "encoding: unknown encoding (got 'latency'); allowed: rate, ttfs, direct"
    with pytest.raises(ConfigError, match=r"timesteps: timesteps must be >= 1 \(got 0\)"):
        encode("rate", np.zeros(2), 0)


def test_one_timestep_is_allowed_and_zero_is_refused():
    x = np.array([0.0, 0.4, 1.0])
    for name in ENCODINGS:
        assert encode(name, x, 1, seed=0).shape == (1, 3), name
    # ttfs with T = 1: every positive input fires at t = round((1 - x) x 0) = 0
    assert encode("ttfs", x, 1).tolist() == [[False, True, True]]
    with pytest.raises(ConfigError, match="timesteps"):
        encode("rate", x, 0)


def test_the_default_seed_is_zero():
    x = np.full(64, 0.5)
    assert np.array_equal(encode("rate", x, 8), encode("rate", x, 8, seed=0))
    assert not np.array_equal(encode("rate", x, 8), encode("rate", x, 8, seed=1))


def test_direct_input_is_always_float():
    x = encode("direct", [[0, 3], [1, 2]], 2)  # integer input (a raw image) becomes a float current
    assert x.dtype == np.float64 and x.tolist() == [[[0.0, 3.0], [1.0, 2.0]]] * 2


def test_the_rate_encoder_draws_from_the_generator_it_is_given():
    # with rng given, the seed is not used: the spikes are rate() on that generator's draws
    x = np.array([0.1, 0.5, 0.9, 0.3])
    got = encode("rate", x, 6, seed=0, rng=np.random.default_rng(123))
    assert np.array_equal(got, rate(x, 6, np.random.default_rng(123)))
    assert not np.array_equal(got, rate(x, 6, np.random.default_rng(0)))
