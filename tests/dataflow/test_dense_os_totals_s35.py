"""dense-os candidates ranked by totals worked out per output block (tlmsim/dataflow/dense_os.py `_totals`,
issue 17, session 35): only the chosen order's tiles are made. The totals are checked by hand
on a small layer and against the sums of the steps on layers with partial blocks and chunks."""

import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.systolic import StepTotals
from tlmsim.dataflow.tiling import bits_to_bytes
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload

CONV = "  - {name: c, op: conv2d, in_shape: [9, 1, 7], out_channels: 4, kernel: 1, neuron: lif}\n"


def _df(tmp_path, *sets, T=3, layers=CONV, platform="ddr4-baseline"):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: d\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n{layers}")
    wl = load_workload(f, seed=0)
    return make_dataflow(load_platform(platform, ["dataflow.name=dense-os", *sets]), wl), wl.layers[0]


def test_totals_by_hand(tmp_path):
    # R = 2 rows (pixels), C = 3 columns (channels); M = 7 pixels in blocks of 2, 2, 2, 1,
    # N = 4 channels in blocks of 3, 1; K = 9 in one chunk (the default L1 holds it); T = 3.
    # Each block: 9 + (R + C - 2 = 3) = 12 cycles, 8 blocks a timestep: 96; weights 9 x nc bytes
    # (8-bit): 4 x (27 + 9) = 144; spikes ceil(9 mr / 8): 3 bytes for mr = 2, 2 for mr = 1, twice
    # (two channel blocks): 2 x (3 x 3 + 2) = 22; outputs ceil(mr nc / 8) = 1 byte per block: 8;
    # membranes ceil(mr nc mb / 8) per block, in before t > 0 and out after t < T - 1: 2 (T - 1) times
    df, layer = _df(tmp_path, "pe_array.rows=2", "pe_array.cols=3")
    cands = df.gemm_candidates(layer)
    assert [c.label for c in cands] == ["m>n>k, k chunk=9", "n>m>k, k chunk=9"]
    mb = df.mb
    mem = 3 * (bits_to_bytes(6 * mb) + bits_to_bytes(2 * mb)) + bits_to_bytes(3 * mb) + bits_to_bytes(mb)
    for c in cands:
        tot = c.totals
        assert tot.cycles == 3 * 96
        assert tot.moved == {"weights": 3 * 144, "inputs": 3 * 22, "membrane": 2 * 2 * mem, "outputs": 3 * 8}
        assert tot.count == 3 * 8
        f = tot.first
        assert (f.t0, f.t1, f.n0, f.nc, f.m0, f.mm, f.k0, f.k1, f.cycles, f.w_bytes, f.s_bytes, f.dense_ops,
                f.acc_ops, f.last_k) == (0, 1, 0, 3, 0, 2, 0, 9, 12, 27, 3, 54, 54, True)
    # the steps are made only for the chosen order: the orders tie, the first wins
    plan = df.plan()[0]
    assert plan.tiling == "m>n>k, k chunk=9"
    assert len(plan.tiles) == 3 * 8
    assert [t.region[3:7] for t in plan.tiles[:3]] == [(0, 3, 0, 2), (3, 1, 0, 2), (0, 3, 2, 2)]  # (n0, nc, m0, mm)
    # n>m>k made on its own: channels outer
    steps = cands[1].steps
    assert [(s.n0, s.m0) for s in steps[:5]] == [(0, 0), (0, 2), (0, 4), (0, 6), (3, 0)]


@pytest.mark.parametrize("platform, sets, layers, T", [
    ("ddr4-baseline", ("pe_array.rows=2", "pe_array.cols=3"), CONV, 3),
    # a small L1: K in chunks of 4, 4, 1 (an L1 half of 50 bytes holds ceil(2 kk / 8) spike bytes,
    # 3 kk weight bytes and 37 of outputs for kk = 4), partial pixel and channel blocks
    ("ddr4-baseline", ("pe_array.rows=2", "pe_array.cols=3", "buffers.l1.capacity_bytes=100"), CONV, 2),
    ("ddr4-baseline", ("pe_array.rows=4", "pe_array.cols=4", "dataflow.weight_compression=true"),
     ("  - {name: c, op: conv2d, in_shape: [3, 5, 5], out_channels: 6, kernel: 3, padding: 1, neuron: lif,"
      " weight_sparsity: 0.6}\n"), 4),
    ("mesh-4core", ("pe_array.rows=4", "pe_array.cols=4"),
     "  - {name: c, op: conv2d, in_shape: [3, 5, 5], out_channels: 6, kernel: 3, padding: 1, neuron: lif}\n", 1),
    ("edge-lpddr4", ("pe_array.rows=4", "pe_array.cols=4", "buffers.l1.capacity_bytes=256"),
     "  - {name: c, op: linear, in_shape: [37], out_features: 9, neuron: lif}\n", 3),
])
def test_totals_are_the_sums_of_the_steps(tmp_path, platform, sets, layers, T):
    df, layer = _df(tmp_path, *sets, T=T, layers=layers, platform=platform)
    cands = df.gemm_candidates(layer)
    assert len(cands) == 2
    for cand in cands:
        tot = cand.totals
        steps = cand.steps
        ref = StepTotals(sum(s.cycles for s in steps), df._traffic(layer, steps, {}), steps[0], len(steps))
        assert (tot.cycles, tot.moved, tot.first, tot.count) == (ref.cycles, ref.moved, ref.first, ref.count)
    # the two orders hold the same tiles
    key = lambda s: (s.t0, s.n0, s.m0, s.k0)
    assert sorted(cands[0].steps, key=key) == sorted(cands[1].steps, key=key)
