"""dense-is tiles by hand (tlmsim/dataflow/dense_is.py), written against the survivors of
mutation run s10dis: a tile of several pixel blocks and as many folds (every pair loads
its inputs), the input bytes of a lone (block, fold) pair larger than one byte, the totals
each loop order is ranked by when a block's channel tiles share its inputs, and several
cores, where consecutive tiles may run on different cores and none keeps the inputs."""

import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def _df(tmp_path, layers, *sets, T=2, platform="ddr4-baseline"):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: d\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n{layers}")
    wl = load_workload(f, seed=0)
    return make_dataflow(load_platform(platform, ["dataflow.name=dense-is", *sets]), wl), wl.layers[0]


# R = C = 3; 1x1 conv: M = 6 pixels (2 blocks of 3), K = 6 (2 folds of 3), N = 1
SQUARE = "  - {name: c, op: conv2d, in_shape: [6, 1, 6], out_channels: 1, kernel: 1, neuron: lif}\n"


@pytest.mark.parametrize("double_buffer, cycles", [
    # double-buffered: the first fill R = 3, four streams of 1 channel, the three later fills'
    # excess over the stream before them 3 x (3 - 1), the skew R + C - 2 = 4 once: 3 + 4 + 6 + 4
    ("true", 17),
    # SCALE-Sim: every pair pays its fill, stream and skew: 4 x (3 + 1 + 4)
    ("false", 32),
])
def test_a_tile_of_two_blocks_and_two_folds_loads_every_pair(tmp_path, double_buffer, cycles):
    df, layer = _df(tmp_path, SQUARE, "pe_array.rows=3", "pe_array.cols=3",
                    f"pe_array.weight_double_buffer={double_buffer}")
    (step,) = df._steps(layer, 1, 2, 2, "m>n>k")[:1]
    # 4 (block, fold) pairs of 3 pixels x 3 rows: ceil(9 / 8) = 2 bytes each; weights 6 x 1 bytes
    assert (step.m0, step.mm, step.k0, step.k1, step.cycles, step.s_bytes, step.w_bytes) == (0, 6, 0, 6, cycles, 8, 6)
    tot = df._steps(layer, 1, 2, 2, "m>n>k", totals=True)
    assert (tot.cycles, tot.moved["inputs"], tot.count) == (2 * cycles, 2 * 8, 2)


def test_a_lone_pair_loads_its_inputs_rounded_up_to_bytes(tmp_path):
    # tiles of 1 block x 1 fold: 3 pixels x 3 rows = 9 bits -> 2 bytes; one fold's run_cycles
    # R + 1 channel + skew 4 = 8; a block's second fold is another tile, so it loads too
    df, layer = _df(tmp_path, SQUARE, "pe_array.rows=3", "pe_array.cols=3")
    steps = df._steps(layer, 1, 1, 1, "m>n>k")
    assert [(s.m0, s.k0, s.cycles, s.s_bytes, s.w_bytes) for s in steps[:4]] == [
        (0, 0, 8, 2, 3), (0, 3, 8, 2, 3), (3, 0, 8, 2, 3), (3, 3, 8, 2, 3)]
    tot = df._steps(layer, 1, 1, 1, "m>n>k", totals=True)
    assert (tot.cycles, tot.moved["inputs"], tot.first.s_bytes) == (2 * 4 * 8, 2 * 4 * 2, 2)


# R = 2, C = 3; 1x1 conv: M = 7 pixels (blocks of 3, 3, 1), K = 2 (one fold), N = 2
ONE_FOLD = "  - {name: c, op: conv2d, in_shape: [2, 1, 7], out_channels: 2, kernel: 1, neuron: lif}\n"
SMALL = ("pe_array.rows=2", "pe_array.cols=3", "buffers.l1.capacity_bytes=82", "buffers.l1.double_buffered=true")


def test_each_order_is_ranked_by_its_own_totals(tmp_path):
    # L1 half 41; footprint(nn, g, gm) = gm x ceil(6 g / 8) + 2 g nn + 6 o + ceil(o / 8), o = 3 gm nn:
    # one fold (fk = 1); nn = 2 needs 1 + 4 + 36 + 1 = 42, so 1 channel; gm = 2: 2 + 2 + 36 + 1 = 41,
    # gm = 3: 61 -> tiles of 2 blocks (6 pixels) and then 1 block (1 pixel), x 2 channels.
    # A 2-block tile: run_cycles([2, 2], [1, 1]) = 2 + 2 + 1 + 3 = 8 cycles, 2 input bytes;
    # a 1-pixel block: 2 + 1 + 3 = 6 cycles, 1 byte; 4 when the array holds its inputs (0 bytes).
    # Pixels outer: 8, 8, 6, then the last block's second channel holds: 4 -> 26, 5 bytes;
    # channels outer: no tile follows one of the same block: 8 + 6 + 8 + 6 = 28, 6 bytes
    df, layer = _df(tmp_path, ONE_FOLD, *SMALL)
    cands = df.gemm_candidates(layer)
    assert [c.label for c in cands] == [f"{o}, n chunk=1, folds/tile=1, pixel blocks/tile=2"
                                        for o in ("m>n>k", "n>m>k")]
    assert [(c.totals.cycles, c.totals.moved["inputs"], c.totals.count) for c in cands] == [
        (2 * 26, 2 * 5, 2 * 4), (2 * 28, 2 * 6, 2 * 4)]
    assert [(s.cycles, s.s_bytes) for s in cands[0].steps[:4]] == [(8, 2), (8, 2), (6, 1), (4, 0)]
    assert df.plan()[0].tiling == "m>n>k, n chunk=1, folds/tile=1, pixel blocks/tile=2"


@pytest.mark.parametrize("cores", [2, 4])
def test_with_several_cores_no_tile_keeps_the_inputs_of_the_one_before(tmp_path, cores):
    # the layer of test_each_order_is_ranked_by_its_own_totals on mesh-4core (L1 per core):
    # consecutive tiles may run on different cores, so the last block's second channel loads its
    # pixel again: 8 + 8 + 6 + 6 = 28 cycles and 6 bytes per timestep in either order
    df, layer = _df(tmp_path, ONE_FOLD, *SMALL, f"pe_array.cores={cores}", platform="mesh-4core")
    assert df.cores == cores
    for order, expect in (("m>n>k", [(8, 2), (8, 2), (6, 1), (6, 1)]), ("n>m>k", [(8, 2), (6, 1), (8, 2), (6, 1)])):
        steps = df._steps(layer, 1, 1, 2, order)
        assert [(s.cycles, s.s_bytes) for s in steps] == expect * 2
        tot = df._steps(layer, 1, 1, 2, order, totals=True)
        assert (tot.cycles, tot.moved["inputs"]) == (2 * 28, 2 * 6)
