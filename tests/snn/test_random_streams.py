"""Random input values and the encoder's draws come from independent streams, so a
NIR graph on random input fires at timestep 0 like at any other."""

import numpy as np

from tlmsim.cli import main
from tlmsim.resources import shipped
from tlmsim.snn.encoding import rate
from tlmsim.workload import load_workload, random_input_streams, read_spike_file

DIGITS_NIR = shipped("workloads")["digits_snn"]


def test_one_seed_two_independent_streams():
    # the old way: both generators seeded alike draw the same numbers, u < x never holds at t = 0
    x = np.random.default_rng(5).random(20000)
    assert rate(x, 1, np.random.default_rng(5)).sum() == 0
    values, encoder = random_input_streams(5)
    x = values.random(20000)
    first = rate(x, 1, encoder)[0]
    assert abs(first.mean() - 0.5) < 0.015  # E[x] = 0.5
    # and the spikes follow x: P(spike | x) = x
    assert abs(first[x < 0.2].mean() - 0.1) < 0.02 and abs(first[x > 0.8].mean() - 0.9) < 0.02
    a, _ = random_input_streams(5)
    assert (a.random(8) == np.random.default_rng(np.random.SeedSequence(5).spawn(2)[0]).random(8)).all()
    assert not (random_input_streams(6)[0].random(8) == random_input_streams(5)[0].random(8)).all()


def test_a_nir_graph_on_random_input_fires_at_timestep_0():
    w = load_workload(DIGITS_NIR, seed=0)
    conv1 = w.spikes["conv1"]  # the rate-coded input, (T, 1, 8, 8)
    per_step = conv1.reshape(conv1.shape[0], -1).mean(axis=1)
    assert per_step[0] > 0.5 * per_step[1:].mean() > 0  # was exactly 0
    assert load_workload(DIGITS_NIR, seed=0).spikes["conv1"].tolist() == conv1.tolist()  # seeded


def test_record_sample_0_is_what_run_simulates(tmp_path):
    trace = tmp_path / "t.npz"
    assert main(["workloads", "record", str(DIGITS_NIR), "--samples", "3", "--timesteps", "8", "--seed", "4",
                 "--out", str(trace)]) == 0
    spikes, samples = read_spike_file(trace)
    w = load_workload(DIGITS_NIR, seed=4)
    assert samples == 3 and set(spikes) == set(w.spikes)
    for name, a in w.spikes.items():
        assert (spikes[name][0] == a).all(), name
    first = spikes["conv1"][:, 0]  # timestep 0 of every sample fires
    assert all(s.any() for s in first)
