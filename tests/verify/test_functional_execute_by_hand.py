"""--verify's FunctionalModel.execute and _pool by hand, against the survivors of their first mutation
run (session 9, tag s9dfb): a pooling tile writes its own timestep and channels only (tiles in any
order), a pooling tile with a neuron ahead of its outputs is named by its output and pixel, an identity layer
with a shortcut adds it, a tile without a region and recurrent reductions beyond the layer or ahead of the previous
timestep are refused in exact lines."""

from pathlib import Path

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.engine.plan import LayerPlan, Tile
from tlmsim.platform import load_platform
from tlmsim.verify.functional import FunctionalModel, VerificationError
from tlmsim.workload import load_workload

NIR_DATA = Path(__file__).resolve().parents[1] / "data" / "nir"


def _plan(layer, regions, first_index=0):
    return LayerPlan(layer=layer, tiles=[Tile(index=first_index + i, t_first=r[1], t_last=r[1], loads=[], stores=[],
                                              compute_cycles=0, region=r) for i, r in enumerate(regions)])


def _run_layer(model, plans, name):
    plan = next(p for p in plans if p.layer.name == name)
    for tile in plan.tiles:
        model.execute(plan, tile)
    return plan.layer


def test_a_pool_tile_without_a_neuron_writes_its_timestep_and_channels_only_in_any_order():
    # digits-snn: conv1 (16 x 8 x 8, lif) -> pool1 (2 x 2 sum pool, no neuron) -> ...; T = 16
    w = load_workload("digits-snn", seed=0)
    plans = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws"]), w).plan()
    model = FunctionalModel(w, membrane_bits=16, accumulator_bits=16)
    conv = _run_layer(model, plans, "conv1")
    pool = next(p.layer for p in plans if p.layer.name == "pool1")
    spikes = model.images[conv.index]  # (16, 16, 8, 8) of 0/1
    assert spikes.any()
    want = spikes.reshape(16, 16, 4, 2, 4, 2).sum(axis=(3, 5))  # 2 x 2 window sums, (16, 16, 4, 4)
    img = model.images[pool.index]
    # one tile, t = 3, channels 7..15: only that block of the image is written
    y = model.execute(_plan(pool, [("pool", 3, 7, 9)]), _plan(pool, [("pool", 3, 7, 9)]).tiles[0])
    assert y.shape == (1, 9, 4, 4) and (y[0] == want[3, 7:16]).all()
    assert (img[3, 7:16] == want[3, 7:16]).all()
    assert not img[3, :7].any() and not img[:3].any() and not img[4:].any()
    # the rest, latest timestep first and channels in two uneven groups: the image is every window sum
    regions = [("pool", t, g0, g) for t in reversed(range(16)) for g0, g in ((0, 7), (7, 9))]
    plan = _plan(pool, regions)
    for tile in plan.tiles:
        model.execute(plan, tile)
    assert (img == want).all()


def test_a_pool_tile_with_a_neuron_ahead_of_its_outputs_names_the_first_output_and_pixel():
    # conv (6 x 8 x 8, no neuron) -> pool (2 x 2 average, lif): pool's tile for t = 1, channels 2..4, before t = 0
    w = load_workload(NIR_DATA / "hand" / "conv_avgpool_lif.nir", seed=0)
    plans = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws"]), w).plan()
    model = FunctionalModel(w, membrane_bits=16, accumulator_bits=16)
    _run_layer(model, plans, "conv")
    pool = next(p.layer for p in plans if p.layer.name == "pool")
    plan = _plan(pool, [("pool", 0, 0, 2), ("pool", 1, 2, 3)], first_index=4)
    model.execute(plan, plan.tiles[0])  # t = 0 of channels 0 and 1: in order
    with pytest.raises(VerificationError) as e:
        model.execute(plan, plan.tiles[1])
    assert str(e.value) == (f"{w.path}: layer 'pool': tile 5 updates output 2, pixel 0 at timestep 1, "
                            "but its last update was for timestep -1")


def _shortcut_graph(path):
    """input(4) -> fc1 -> lif1 -> fc2 -> lif2; lif2 + lif1 -> IF lif3 (an identity layer on lif2 whose
    shortcut, lif1's spikes, is its residual) -> fc3 -> lif4."""
    import sys

    import nir

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "nir_exports"))
    from hand_built import f32, io, lif

    i, o = io([4], [2])
    w2 = np.array([[1.2, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1.2, 0], [0, 0, 0, 0.4]])
    g = nir.NIRGraph(
        nodes={"input": i, "fc1": nir.Affine(weight=f32(np.eye(4) * 1.5), bias=f32(np.zeros(4))), "lif1": lif(4),
               "fc2": nir.Affine(weight=f32(w2), bias=f32(np.zeros(4))), "lif2": lif(4),
               "lif3": nir.IF(r=f32(np.ones(4)), v_threshold=f32(np.full(4, 1.0))),
               "fc3": nir.Affine(weight=f32(np.ones((2, 4))), bias=f32(np.zeros(2))), "lif4": lif(2), "output": o},
        edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "lif3"),
               ("lif1", "lif3"), ("lif3", "fc3"), ("fc3", "lif4"), ("lif4", "output")], type_check=False)
    nir.write(str(path), g)
    return load_workload(path, seed=0)


def test_an_identity_layer_with_a_shortcut_adds_it_in_pool_style_tiles(tmp_path):
    from tlmsim.verify.fixed_point import reference

    w = _shortcut_graph(tmp_path / "shortcut.nir")
    fc1, fc2, ident, fc3 = w.layers
    assert (ident.op, ident.neuron, ident.source, ident.residual) == ("identity", "if", 1, 0)
    model = FunctionalModel(w, membrane_bits=16, accumulator_bits=16)
    T = w.timesteps
    for t in range(T):  # fc1, fc2 whole per timestep; the identity layer in two channel groups (1 + 3)
        for layer, n in ((fc1, 4), (fc2, 4)):
            model.execute(_plan(layer, []), _plan(layer, [("gemm", t, t + 1, 0, n, 0, 1, 0, 4, True)]).tiles[0])
        for g0, g in ((0, 1), (1, 3)):
            model.execute(_plan(ident, []), _plan(ident, [("identity", t, g0, g)]).tiles[0])
        model.execute(_plan(fc3, []), _plan(fc3, [("gemm", t, t + 1, 0, 2, 0, 1, 0, 4, True)]).tiles[0])
    assert model.check().startswith("verify: all 4 layers bit-exact")
    # the shortcut changes the identity layer's spikes: without it (lif2's spikes alone) they differ
    q = model.q[ident.index]
    assert q.res_gain is not None and (q.res_gain > 0).all()
    plain = model.q[ident.index].res_gain.copy()
    q.res_gain[:] = 0
    ref = reference(model.q, model.inputs, T, accumulator_bits=16)
    q.res_gain[:] = plain
    assert not np.array_equal(ref[ident.index], model.images[ident.index])


def test_a_tile_without_a_region_is_refused_naming_layer_and_tile():
    w = load_workload("digits-snn", seed=0)
    model = FunctionalModel(w, membrane_bits=16, accumulator_bits=16)
    conv = w.layers[0]
    tile = Tile(index=3, t_first=0, t_last=0, loads=[], stores=[], compute_cycles=0, region=None)
    with pytest.raises(VerificationError) as e:
        model.execute(LayerPlan(layer=conv, tiles=[tile]), tile)
    assert str(e.value) == f"{w.path}: layer 'conv1': tile 3 carries no data region"


def test_recurrent_reductions_beyond_the_layer_and_ahead_of_the_previous_timestep_are_named():
    # rsnn_braille's fc_in: K = 12 feed-forward inputs and N = 24 recurrent ones (reduction 36)
    w = load_workload(NIR_DATA / "hand" / "rsnn_braille.nir", seed=0)
    rec = w.layers[0]
    K, N = 12, 24
    model = FunctionalModel(w, membrane_bits=16, accumulator_bits=16)
    plan = _plan(rec, [("gemm", 0, 1, 0, N, 0, 1, 0, K + N + 1, True)], first_index=6)
    with pytest.raises(VerificationError) as e:
        model.execute(plan, plan.tiles[0])
    assert str(e.value) == f"{w.path}: layer 'fc_in': tile 6 reduces up to k = 37, beyond the layer's 36 inputs"
    # t = 0 whole; t = 1 for outputs 0..11 only; then a tile of t = 2 reading the recurrent spikes of t = 1
    model = FunctionalModel(w, membrane_bits=16, accumulator_bits=16)
    done = [("gemm", 0, 1, 0, N, 0, 1, 0, K + N, True), ("gemm", 1, 2, 0, 12, 0, 1, 0, K + N, True)]
    for tile in _plan(rec, done).tiles:
        model.execute(_plan(rec, []), tile)
    plan = _plan(rec, [("gemm", 2, 3, 0, N, 0, 1, K, K + N, True)], first_index=9)
    with pytest.raises(VerificationError) as e:
        model.execute(plan, plan.tiles[0])
    assert str(e.value) == (f"{w.path}: layer 'fc_in': tile 9 reads the recurrent spikes of timestep 1 before "
                            "output 12, pixel 0 of that timestep was computed")
    # t = 0 for outputs 0..11 only: the tile of t = 2 names the timestep it reads (1) and the first output
    # behind it (0, at timestep 1), not the earlier timestep 0 that outputs 12.. also miss
    model = FunctionalModel(w, membrane_bits=16, accumulator_bits=16)
    model.execute(_plan(rec, []), _plan(rec, [("gemm", 0, 1, 0, 12, 0, 1, 0, K + N, True)]).tiles[0])
    with pytest.raises(VerificationError) as e:
        model.execute(plan, plan.tiles[0])
    assert str(e.value) == (f"{w.path}: layer 'fc_in': tile 9 reads the recurrent spikes of timestep 1 before "
                            "output 0, pixel 0 of that timestep was computed")
