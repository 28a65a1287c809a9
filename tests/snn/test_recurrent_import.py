"""Recurrent NIR import: the real zero mask of a recurrent synapse goes with the
workload (the dataflows skip and compress by it), and a recurrent neuron with no
Affine/Linear before it (a recurrent identity layer) is refused in one line."""

import nir
import numpy as np
import pytest

from tlmsim.cli import main
from tlmsim.dataflow import make_dataflow
from tlmsim.errors import WorkloadError
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def f32(a):
    return np.asarray(a, dtype=np.float32)


def lif(n, thr=0.5):
    return nir.LIF(tau=f32(np.full(n, 5.0)), r=f32(np.full(n, 5.0)), v_leak=f32(np.zeros(n)),
                   v_threshold=f32(np.full(n, thr)))


def rsnn(w_rec, with_fc=True):
    """Input(6) -> [Affine(8)] -> LIF(8) <-> recurrent Affine(w_rec) -> Affine(3) -> LIF -> Output."""
    rng = np.random.default_rng(0)
    n = w_rec.shape[0]
    nodes = {"input": nir.Input(input_type={"input": np.array([6 if with_fc else n])})}
    edges = []
    if with_fc:
        nodes["fc"] = nir.Affine(weight=f32(rng.normal(0, 1.5, (n, 6))), bias=f32(np.zeros(n)))
        edges += [("input", "fc"), ("fc", "n")]
    else:
        edges += [("input", "n")]
    nodes.update({"n": lif(n), "rec": nir.Affine(weight=f32(w_rec), bias=f32(np.zeros(n))),
                  "fc2": nir.Affine(weight=f32(rng.normal(0, 1.0, (3, n))), bias=f32(np.zeros(3))), "n2": lif(3),
                  "output": nir.Output(output_type={"output": np.array([3])})})
    edges += [("n", "rec"), ("rec", "n"), ("n", "fc2"), ("fc2", "n2"), ("n2", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _write(tmp_path, name, graph):
    path = tmp_path / f"{name}.nir"
    nir.write(str(path), graph)
    return path


def test_the_real_recurrent_mask_goes_with_the_workload_and_the_dataflows_count_it(tmp_path, capsys):
    w_rec = np.random.default_rng(1).normal(0, 0.8, (8, 8))
    w_rec[:, 4:] = 0  # presynaptic neurons 4-7 feed nothing back (NIR weights are (post, pre))
    w_rec[0, :] = 0  # neuron 0 gets no recurrent input
    path = _write(tmp_path, "pruned", rsnn(w_rec))
    w = load_workload(path, seed=0)
    fc = w.layers[0]
    assert fc.recurrent and fc.recurrent_sparsity == pytest.approx(36 / 64)
    rec_mask = w.weight_masks["fc.recurrent"]
    assert rec_mask.shape == (8, 8) and np.array_equal(rec_mask, (w_rec != 0).T)
    assert int(rec_mask.sum()) == 28  # GEMM layout (pre, post): rows 0-3 x columns 1-7
    for name in ("dense-ws", "spikex"):
        df = make_dataflow(load_platform("ddr4-baseline", [f"dataflow.name={name}"]), w)
        blocks = df.weight_blocks(df.gemm_view(fc))
        # the feed-forward block (6 x 8, all nonzero) over the recurrent block's 28 real nonzeros
        assert blocks.total() == 48 + 28
        # per fold of recurrent rows: rows 6-9 (neurons 0-3) hold all 28, rows 10-13 (neurons 4-7) none
        assert blocks.fold_counts(None, np.array([6, 10, 14]), 0, 8).tolist() == [28, 0]
    for extra in (["--dataflow", "spikex"],):
        code = main(["run", str(path), "--verify", "--out", str(tmp_path / "out"), *extra])
        out, err = capsys.readouterr()
        assert code == 0 and "bit-exact against the fixed-point reference" in out, err


def test_a_recurrent_identity_layer_is_refused_on_import_in_one_line(tmp_path, capsys):
    path = _write(tmp_path, "input_rsnn", rsnn(np.eye(8) * 0.5, with_fc=False))
    with pytest.raises(WorkloadError) as e:
        load_workload(path)
    assert str(e.value) == (f"{path}: n: recurrent neuron 'n' has no Affine/Linear before it (its feed-forward "
                            "synapse is the identity); no dataflow schedules such a recurrent identity layer: put "
                            "an Affine/Linear before the neuron")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "recurrent identity layer" in err and "Traceback" not in err
