"""Weight sparsity from the real zero mask: per fold, per block, deterministic."""

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.weights import WeightBlocks
from tlmsim.platform import load_platform
from tlmsim.resources import resolve
from tlmsim.workload import load_workload, save_spike_trace, synthetic_weight_mask


def _workload(tmp_path, layers: str, spikes: dict, T: int):
    save_spike_trace(tmp_path / "s.npz", spikes)
    p = tmp_path / "w.yaml"
    p.write_text(f"name: t\ntimesteps: {T}\nweight_bits: 8\nspikes: s.npz\nlayers:\n{layers}")
    return load_workload(p, seed=0)


def _weights_moved(plan) -> int:
    return sum(m.nbytes for t in plan.tiles for m in t.loads if m.data_class.name == "WEIGHTS")


def test_weight_blocks_count_the_nonzeros_of_each_fold():
    mask = np.zeros((6, 4), dtype=bool)
    mask[0, 0] = mask[1, 3] = mask[4, 1] = mask[5, 1] = True
    b = WeightBlocks(mask, 6, 4)
    # plain folds of 3 rows, columns 0..3: rows 0-2 hold 2 nonzeros, rows 3-5 hold 2
    assert b.fold_counts(None, np.array([0, 3, 6]), 0, 4).tolist() == [2, 2]
    # columns 1..2 only: 0 and 2
    assert b.fold_counts(None, np.array([0, 3, 6]), 1, 2).tolist() == [0, 2]
    # compacted folds: rows (1, 4) and (5,)
    assert b.fold_counts(np.array([1, 4, 5]), np.array([0, 2, 3]), 0, 4).tolist() == [2, 1]
    assert b.total() == 4
    dense = WeightBlocks(None, 6, 4)
    assert dense.fold_counts(None, np.array([0, 3, 6]), 0, 2).tolist() == [6, 6] and dense.total() == 24


def test_synthetic_mask_is_deterministic_and_exact(tmp_path):
    layers = "  - {name: fc, op: linear, in_shape: [64], out_features: 16, neuron: lif, weight_sparsity: 0.75}\n"
    w = _workload(tmp_path, layers, {"fc": np.ones((1, 64), dtype=bool)}, 1)
    m = w.weight_mask(w.layers[0])
    assert m.shape == (64, 16) and int((~m).sum()) == 768  # exactly round(1024 x 0.75) zeros
    assert np.array_equal(m, synthetic_weight_mask(w.layers[0]))  # same layer, same mask
    w2 = _workload(tmp_path, layers, {"fc": np.zeros((1, 64), dtype=bool)}, 1)
    assert np.array_equal(m, w2.weight_mask(w2.layers[0]))  # independent of the spikes and the seed
    dense = "  - {name: fc, op: linear, in_shape: [64], out_features: 16, neuron: lif}\n"
    wd = _workload(tmp_path, dense, {"fc": np.ones((1, 64), dtype=bool)}, 1)
    assert wd.weight_mask(wd.layers[0]) is None


def test_nir_workloads_carry_the_real_mask():
    w = load_workload("digits-snn", seed=0)
    for layer in w.layers:
        if layer.has_weights:
            wt = np.asarray(w.graph[layer.name].params["weight"])
            assert np.array_equal(w.weight_masks[layer.name], (wt.reshape(wt.shape[0], -1) != 0).T)


def test_pruned_graph_moves_only_its_real_nonzeros(tmp_path):
    nir = resolve("workloads", "digits-snn", "digits-snn").parent / "digits_snn.nir"
    p = tmp_path / "pruned.yaml"
    p.write_text(f"name: pruned\ntimesteps: 16\nweight_bits: 8\nnir: {nir}\nprune: 0.9\n")
    w = load_workload(p, seed=0)
    fc1 = next(l for l in w.layers if l.name == "fc1")
    mask = w.weight_mask(fc1)
    assert abs((~mask).mean() - 0.9) < 0.01
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws", "dataflow.weight_compression=true"]),
                       w)
    # the compressed size of a block follows its real nonzeros, not the average
    K, N = mask.shape
    R, C = df.R, df.C
    blk = mask[:R, :C]
    expect = df.weight_bytes(fc1, R, C, int(blk.sum()))
    assert expect == df.weight_bytes(fc1, R, C, df.weight_blocks(fc1).fold_counts(None, np.array([0, R]), 0, C)[0])
    assert df.layer_weight_bytes(fc1) == df.weight_bytes(fc1, K, N, int(mask.sum()))


@pytest.mark.parametrize("name", ["spikex", "ptb", "event"])
def test_a_fold_of_zero_weights_is_skipped(tmp_path, name):
    # 8 inputs on R = 4 rows: fold 0 = inputs 0-3, fold 1 = inputs 4-7 whose weights are all zero
    layers = "  - {name: fc, op: linear, in_shape: [8], out_features: 2, neuron: lif}\n"
    w = _workload(tmp_path, layers, {"fc": np.ones((2, 8), dtype=bool)}, 2)
    arr = ["pe_array.rows=4", "pe_array.cols=2", f"dataflow.name={name}"]
    full = make_dataflow(load_platform("ddr4-baseline", arr), w).plan()[0]
    mask = np.ones((8, 2), dtype=bool)
    mask[4:] = False
    w.weight_masks = {"fc": mask}
    half = make_dataflow(load_platform("ddr4-baseline", arr), w).plan()[0]
    assert _weights_moved(half) * 2 == _weights_moved(full)
    assert sum(t.acc_ops for t in half.tiles) * 2 == sum(t.acc_ops for t in full.tiles)
    assert sum(t.compute_cycles for t in half.tiles) < sum(t.compute_cycles for t in full.tiles)
    # the dense dataflows never skip
    dense = make_dataflow(load_platform("ddr4-baseline", arr[:2] + ["dataflow.name=dense-ws"]), w).plan()[0]
    assert _weights_moved(dense) == 16 * 2  # 8 x 2 weights, each of the 2 timesteps
