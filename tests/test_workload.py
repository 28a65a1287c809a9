import numpy as np
import pytest

from tlmsim.errors import ConfigError, WorkloadError
from tlmsim.workload import (
    FIRST_STEP_RATIO,
    Layer,
    load_workload,
    save_spike_trace,
    synthetic_spikes,
)

GOOD = """
name: tiny
timesteps: 4
layers:
  - {name: c1, op: conv2d, in_shape: [2, 6, 6], out_channels: 4, kernel: 3, padding: 1}
  - {name: p1, op: maxpool2d, in_shape: [4, 6, 6], kernel: 2, stride: 2}
  - {name: f, op: flatten, in_shape: [4, 3, 3]}
  - {name: fc, op: linear, in_shape: [36], out_features: 5}
"""


def write(tmp_path, text, name="w.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_shapes_and_gemm(tmp_path):
    w = load_workload(write(tmp_path, GOOD), seed=1)
    c1, p1, f, fc = w.layers
    assert c1.out_shape == (4, 6, 6)
    assert c1.gemm == (36, 18, 4)  # M = 6*6, K = 3*3*2, N = 4
    assert p1.out_shape == (4, 3, 3)
    assert f.out_shape == (36,)
    assert fc.gemm == (1, 36, 5)
    assert w.spikes["c1"].shape == (4, 2, 6, 6) and w.spikes["c1"].dtype == bool
    assert w.synthetic and "seed 1" in w.spike_source


def test_chain_mismatch_names_the_layer(tmp_path):
    bad = GOOD.replace("in_shape: [36]", "in_shape: [35]")
    with pytest.raises(WorkloadError) as e:
        load_workload(write(tmp_path, bad))
    msg = str(e.value)
    assert "w.yaml" in msg and "layers[3].in_shape" in msg and "[36]" in msg


def test_unknown_op_lists_allowed(tmp_path):
    bad = GOOD.replace("op: maxpool2d", "op: maxpool3d")
    with pytest.raises(ConfigError) as e:
        load_workload(write(tmp_path, bad))
    msg = str(e.value)
    assert "layers[1].op" in msg and "maxpool3d" in msg and "conv2d" in msg


def test_synthetic_spikes_density_and_structure():
    layer = Layer(index=0, name="x", op="linear", in_shape=(20000,), out_shape=(10,), kernel=(1, 1),
                  stride=(1, 1), padding=(0, 0), neuron=None, weight_sparsity=0.0, firing_rate=0.2)
    s = synthetic_spikes(layer, 4, np.random.default_rng(3))
    assert abs(s.mean() - 0.2) < 0.01
    later = s[1:].mean()
    assert abs(s[0].mean() / later - FIRST_STEP_RATIO) < 0.06
    silent = (~s.any(axis=0)).mean()
    assert 0.57 <= silent <= 0.8  # firing_rates.md: 57-80 % never fire
    # seeded: same seed, same spikes; other seed, other spikes
    s2 = synthetic_spikes(layer, 4, np.random.default_rng(3))
    s3 = synthetic_spikes(layer, 4, np.random.default_rng(4))
    assert np.array_equal(s, s2) and not np.array_equal(s, s3)


def test_spike_trace_round_trip_and_errors(tmp_path):
    w = load_workload(write(tmp_path, GOOD), seed=2)
    save_spike_trace(tmp_path / "t.npz", w.spikes)
    text = GOOD.replace("timesteps: 4", "timesteps: 4\nspikes: t.npz")
    w2 = load_workload(write(tmp_path, text, "w2.yaml"))
    assert w2.spike_source.startswith("recorded")
    for k in w.spikes:
        assert np.array_equal(w.spikes[k], w2.spikes[k])
    # wrong shape
    bad = dict(w.spikes)
    bad["fc"] = np.zeros((4, 35), dtype=bool)
    save_spike_trace(tmp_path / "t.npz", bad)
    with pytest.raises(WorkloadError, match=r"t\.npz: fc: spike array has shape \[4, 35\]"):
        load_workload(tmp_path / "w2.yaml")
    # not an npz at all
    (tmp_path / "t.npz").write_bytes(b"garbage")
    with pytest.raises(WorkloadError, match="not a readable .npz"):
        load_workload(tmp_path / "w2.yaml")


def test_shipped_workloads_load():
    for name, layers, T in (("digits-conv", 5, 8), ("vgg9-cifar10", 12, 4)):
        w = load_workload(name, seed=0)
        assert (len(w.layers), w.timesteps) == (layers, T), name


GRAPH = """
name: g
timesteps: 2
layers:
  - {name: a, op: linear, in_shape: [16], out_features: 8}
  - {name: b, op: linear, in_shape: [8], out_features: 8}
  - {name: c, op: linear, in_shape: [8], out_features: 8, input: a, residual: b}
  - {name: x, op: linear, in_shape: [4], out_features: 8, input: input}
"""


def test_layers_form_a_graph(tmp_path):
    from tlmsim.workload import consumers

    w = load_workload(write(tmp_path, GRAPH), seed=0)
    assert [(l.source, l.residual) for l in w.layers] == [(-1, -1), (0, -1), (0, 1), (-1, -1)]
    assert consumers(w.layers) == {0: [1, 2], 1: [2], 2: [], 3: []}


@pytest.mark.parametrize(
    "edit, message",
    [
        (("input: a", "input: zz"), "layers[2].input: is not an earlier layer (got 'zz'); allowed: input, a, b"),
        (("residual: b", "residual: c"), "layers[2].residual: is not an earlier layer (got 'c')"),
        (("in_shape: [8], out_features: 8, input: a", "in_shape: [8], out_features: 4, input: a"),
         "layers[2].residual: has output shape [8], but this layer's output is [4]"),
        (("{name: b, op: linear, in_shape: [8]", "{name: b, op: linear, in_shape: [9]"),
         "layers[1].in_shape: does not match the output shape [8] of its source layer 'a'"),
    ],
)
def test_graph_errors_name_the_key(tmp_path, edit, message):
    with pytest.raises(WorkloadError) as e:
        load_workload(write(tmp_path, GRAPH.replace(*edit)), seed=0)
    assert message in str(e.value)


def test_scalesim_topology_import(tmp_path):
    p = tmp_path / "topo.csv"
    p.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                 "c1, 10, 10, 3, 3, 4, 8, 1,\n"
                 "c2, 9, 9, 3, 3, 2, 6, 2,\n")
    w = load_workload(p, seed=0)
    assert [l.name for l in w.layers] == ["c1", "c2"] and all(l.source == -1 for l in w.layers)
    # no padding: (10 - 3) / 1 + 1 = 8; (9 - 3) / 2 + 1 = 4
    assert w.layers[0].out_shape == (8, 8, 8) and w.layers[1].out_shape == (6, 4, 4)
    assert w.layers[0].gemm == (64, 36, 8) and w.timesteps == 4 and w.synthetic
    g = tmp_path / "gemm.csv"
    g.write_text("Layer Name, M, N, K,\nfc, 16, 10, 64,\n")
    assert load_workload(g, seed=0).layers[0].gemm == (16, 64, 10)  # (M, K, N)


def test_scalesim_topology_bad_row_names_file_and_row(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                 "c1, 10, ten, 3, 3, 4, 8, 1,\n")
    with pytest.raises(WorkloadError, match=r"bad.csv: row 2: expected integers after the layer name"):
        load_workload(p, seed=0)
