"""GLB address map of the resident tensors (systolic planner): inside the GLB above the
staging area, outputs left resident read in place by the next layer, and the next layer's
weights clear of this layer's tensors when the GLB holds both (so they can prefetch)."""

import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.tiling import bits_to_bytes
from tlmsim.engine.transaction import DataClass
from tlmsim.hw.controller import level_ranges
from tlmsim.platform import load_platform
from tlmsim.platform.checks import staging_bytes
from tlmsim.workload import load_workload


def _tensor_range(plan, dc, stores=False):
    """GLB range of the resident moves of one data class (min start, max end)."""
    ms = [m for t in plan.tiles for m in (t.stores if stores else t.loads) if m.data_class == dc and not m.in_dram]
    if not ms:
        return None
    return min(m.level_address for m in ms), max(m.level_address + (m.level_span or m.nbytes) for m in ms)


@pytest.mark.parametrize("glb", ["512KiB", "8MiB"])
def test_resident_tensors_are_placed_in_the_glb_and_handed_over_in_place(glb):
    p = load_platform("ddr4-baseline", [f"buffers.glb.capacity_bytes={glb}", "dataflow.name=dense-ws"])
    w = load_workload("vgg9-cifar10", seed=0)
    plans = make_dataflow(p, w).plan()
    lo, hi = staging_bytes(p), p.buffers.glb.capacity_bytes
    handed = 0
    for prev, plan in zip(plans, plans[1:]):
        for a, b in level_ranges(plan, 0, 1):
            assert lo <= a < b <= hi, (plan.layer.name, a, b)
        if plan.layer.op == "flatten" or prev.layer.op == "flatten":
            continue
        if prev.resident.get("outputs") and plan.resident.get("inputs"):
            out = _tensor_range(prev, DataClass.OUT_SPIKES, stores=True)
            inp = _tensor_range(plan, DataClass.SPIKES)
            size = bits_to_bytes(w.timesteps * plan.layer.in_neurons)
            assert out[0] == inp[0] and out[1] - out[0] == size and inp[1] - inp[0] <= size, plan.layer.name
            handed += 1
    assert handed >= 3


def test_next_layer_weights_are_clear_of_this_layers_tensors_when_the_glb_holds_both():
    p = load_platform("ddr4-baseline", ["buffers.glb.capacity_bytes=8MiB", "dataflow.name=dense-ws"])
    plans = make_dataflow(p, load_workload("vgg9-cifar10", seed=0)).plan()
    clear = 0
    for plan, nxt in zip(plans, plans[1:]):
        ws = [m for m in nxt.prologue if m.data_class == DataClass.WEIGHTS]
        if not ws or sum(plan.resident_bytes.values()) + sum(nxt.resident_bytes.values()) + staging_bytes(p) > p.buffers.glb.capacity_bytes:
            continue
        live = level_ranges(plan, 0, 1)
        for m in ws:
            assert not any(a < m.level_address + m.nbytes and m.level_address < b for a, b in live), nxt.layer.name
        clear += 1
    assert clear >= 3


def test_the_tiler_adds_the_resident_traffic_the_tiles_cannot_hide():
    from tlmsim.dataflow.systolic import Step

    p = load_platform("ddr4-baseline", ["dataflow.name=dense-ws"])
    w = load_workload("lenet5-mnist", seed=0)
    df = make_dataflow(p, w)
    # DDR4-3200 x 64 bit: 25.397 GB/s x 2 ns per cycle = 50.794 bytes per cycle
    assert df.dram_bytes_per_cycle == pytest.approx(25.396825 * 2.0, rel=1e-6)
    steps = [Step(t0=0, t1=1, n0=0, nc=8, m0=0, mm=4, k0=0, k1=32, cycles=100, w_bytes=1000, s_bytes=500,
                  dense_ops=0, acc_ops=0)] * 2
    fc3, conv2 = w.layers[-1], w.layers[2]
    sizes = {"weights": 4000, "inputs": 800, "membrane": 0, "outputs": 254}
    bpc = df.dram_bytes_per_cycle
    # the first tile's weights (resident, from the prologue) and its spikes (inputs resident, not
    # left by the previous layer), plus fc3's resident outputs written back (a network output)
    assert df._exposed_cycles(fc3, steps, sizes, {"weights", "inputs", "outputs"}, False) == \
        pytest.approx((1000 + 500 + 254) / bpc)
    # inputs left in the GLB by the previous layer, outputs read on chip by the next: weights only
    assert df._exposed_cycles(conv2, steps, sizes, {"weights", "inputs", "outputs"}, True) == \
        pytest.approx(1000 / bpc)
    # nothing resident: nothing exposed beyond the roofline
    assert df._exposed_cycles(conv2, steps, sizes, set(), False) == 0.0
