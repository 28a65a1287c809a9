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
