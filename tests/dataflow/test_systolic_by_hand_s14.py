"""SystolicDataflow (tlmsim/dataflow/systolic.py) by hand, session 14 (mutation testing of
_emit, __init__, _residency and _plan_pool): the cases the earlier by-hand files left open,
each with hand-computed exact values."""

from tlmsim.dataflow import make_dataflow
from tlmsim.engine.transaction import DataClass
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def _wl(tmp_path, layers: str, T: int = 1, bits: int = 8):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: h\ntimesteps: {T}\nweight_bits: {bits}\nlayers:\n{layers}")
    return load_workload(f, seed=0)


def _df(wl, *sets, dataflow: str = "dense-ws"):
    return make_dataflow(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}", *sets]), wl)


#: maxpool 5 x 6 x 6 -> 5 x 3 x 3 with a LIF neuron, read by the next layer only (its outputs stay on chip)
POOL_CHAIN = """  - {name: p, op: maxpool2d, in_shape: [5, 6, 6], kernel: 2, stride: 2, neuron: lif}
  - {name: q, op: identity, in_shape: [5, 3, 3], neuron: if}
"""


def test_pooling_membrane_ties_kept_outputs_at_two_timesteps_and_the_smaller_goes_first(tmp_path):
    # T = 2: p's membrane reuse is 2 x (T - 1) = 2.0 (a load at t = 1 and a store at t = 0 per byte); its
    # outputs, read by q only, rank at reuse 2.0 too (_residency). choose_resident breaks the tie by size:
    # outputs ceil(2 x 45 / 8) = 12 bytes before the membrane ceil(45 x 16 / 8) = 90 bytes. With 100 bytes
    # free above the staging space: outputs kept (88 left), the membrane (90) no longer fits
    df = _df(_wl(tmp_path, POOL_CHAIN, T=2))
    p = df.workload.layers[0]
    df.level_capacities = [df.staging + 100]
    plan = df.plan_layer(p, None)
    assert plan.resident == {"inputs": False, "membrane": False, "outputs": True}
    assert plan.levels == {"outputs": 0} and plan.resident_bytes == {0: 12}
    # kept for q: no epilogue; the membrane goes through DRAM via the staging halves
    assert plan.epilogue == []
    h = df.staging // 2
    assert [[(m.in_dram, m.level_address) for m in t.loads + t.stores if m.data_class == DataClass.MEMBRANE]
            for t in plan.tiles] == [[(True, 0)], [(True, h)]]
    # 102 bytes free: both (12 + 90)
    df.level_capacities = [df.staging + 102]
    plan = df.plan_layer(p, None)
    assert plan.resident == {"inputs": False, "membrane": True, "outputs": True}
    assert plan.resident_bytes == {0: 102}


# -- residency in a private level shared by several cores ---------------------------------------
#: b's outputs are read by c only (they may stay on chip: reuse 2 in _residency); c's shortcut reads a
RES_CHAIN = """  - {name: a, op: linear, in_shape: [16], out_features: 8, neuron: lif}
  - {name: b, op: linear, in_shape: [8], out_features: 8, neuron: lif}
  - {name: c, op: linear, in_shape: [8], out_features: 8, neuron: lif, residual: a}
"""


def test_the_set_up_names_the_private_levels_of_several_cores_read_only(tmp_path):
    wl = _wl(tmp_path, RES_CHAIN, T=2)
    # mesh-4core-l2: a shared GLB (level 0, 1 MiB) and a private L2 (level 1, 256 KiB) per core
    df = make_dataflow(load_platform("mesh-4core-l2", ["dataflow.name=dense-ws"]), wl)
    assert (df.cores, df.level_capacities) == (4, [1024 * 1024, 256 * 1024])
    assert df.read_only_levels == {1}
    # one core: its private L2 holds what any tensor of its layer would (nobody else reads it)
    one = make_dataflow(load_platform("mesh-4core-l2", ["dataflow.name=dense-ws", "pe_array.cores=1"]), wl)
    assert (one.cores, one.read_only_levels) == (1, set())
    # two cores are several: the L2 is read-only as with four
    two = make_dataflow(load_platform("mesh-4core-l2", ["dataflow.name=dense-ws", "pe_array.cores=2"]), wl)
    assert (two.cores, two.read_only_levels) == (2, {1})
    # a shared level is never read-only, whatever the cores
    glb = make_dataflow(load_platform("mesh-4core", ["dataflow.name=dense-ws"]), wl)
    assert (glb.cores, len(glb.level_capacities), glb.read_only_levels) == (4, 1, set())


def test_a_private_level_of_several_cores_keeps_only_weights_and_inputs(tmp_path):
    wl = _wl(tmp_path, RES_CHAIN, T=2)
    b = wl.layers[1]
    sizes = {"weights": 250, "inputs": 40, "membrane": 40, "outputs": 30}
    reuse = {"weights": 1.5, "inputs": 2.5, "membrane": 4.0, "outputs": 1.0}
    four = make_dataflow(load_platform("mesh-4core-l2", ["dataflow.name=dense-ws"]), wl)
    one = make_dataflow(load_platform("mesh-4core-l2", ["dataflow.name=dense-ws", "pe_array.cores=1"]), wl)
    for df in (four, one):
        df.level_capacities = [df.staging + 1000, df.staging + 300]
    # 4 cores: level 1 (innermost, 300 bytes free, read-only) ranks only the inputs (2.5, 40) and the weights
    # (1.5, 250): both fit (290); the membrane (4.0) and b's outputs (2.0: c reads them) go to level 0
    assert four._residency(b, sizes, reuse, None) == {"inputs": 1, "weights": 1, "membrane": 0, "outputs": 0}
    # 1 core: level 1 takes the membrane (40), inputs (40), outputs (30) first; the weights (250) no longer fit
    # the 190 left and go to level 0
    assert one._residency(b, sizes, reuse, None) == {"membrane": 1, "inputs": 1, "outputs": 1, "weights": 0}


# -- __init__: the L1 half of an odd capacity ----------------------------------------------------
def test_an_odd_double_buffered_l1_has_a_whole_byte_half(tmp_path):
    import pytest

    from tlmsim.errors import MappingError

    # maxpool 5 x 6 x 6 -> 5 x 3 x 3, LIF, T = 3: one channel needs inputs ceil(36 / 8) = 5 + outputs
    # ceil(9 / 8) = 2 + membrane ceil(9 x 16 / 8) = 18 = 25 bytes. A double-buffered L1 of 49 bytes has a
    # half of 49 // 2 = 24 whole bytes (not 24.5): refused, the message says 24
    wl = _wl(tmp_path, "  - {name: p, op: maxpool2d, in_shape: [5, 6, 6], kernel: 2, stride: 2, neuron: lif}\n", T=3)
    df = _df(wl, "buffers.l1.capacity_bytes=49")
    assert df.l1_half == 24 and isinstance(df.l1_half, int)
    with pytest.raises(MappingError) as e:
        df.plan()
    assert str(e.value) == ("layer 'p': the smallest dense-ws tile (one channel) needs 25 bytes, more than an L1 half "
                            "(24 bytes); raise buffers.l1.capacity_bytes or shrink the array")
    # 51 bytes: a half of 25 holds one channel per tile
    (plan,) = _df(wl, "buffers.l1.capacity_bytes=51").plan()
    assert plan.l1_tile_bytes == 25 and plan.tiling == "t>c, channels/tile=1"
