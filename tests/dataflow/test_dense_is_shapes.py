"""dense-is tile shapes (tlmsim/dataflow/dense_is.py, issue 17): the ladders of chunk
sizes, the (channels, folds, pixel blocks) shapes an L1 half admits on small awkward
layers, the shape the roofline estimate keeps and its tile count, computed by hand;
and the totals the tiler ranks a candidate by equal its steps' sums."""

import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.dense_is import split_ladder, tile_shapes
from tlmsim.dataflow.systolic import StepTotals
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


@pytest.mark.parametrize("total, most, sizes", [
    (5, 5, [5, 3, 2, 1]),  # q = 1, 2, 4, 8
    (4, 3, [2, 1]),  # 4 > 3; the fewest chunks of at most 3: two of 2
    (7, 7, [7, 4, 2, 1]),
    (256, 71, [64, 32, 16, 8, 4, 2, 1]),  # four chunks of at most 71: 64 (on the ladder too)
    (144, 50, [48, 36, 18, 9, 5, 3, 2, 1]),  # three chunks of at most 50: 48
    (1, 1, [1]),
])
def test_split_ladder(total, most, sizes):
    assert split_ladder(total, most) == sizes


def test_tile_shapes_keep_the_shapes_no_other_beats_in_every_chunk_count():
    # footprint g + nn g + nn gm (increasing in each); limit 12; fk = 4 folds, N = 4, fm = 4.
    # The most folds with nn = gm = 1: 2 g + 1 <= 12 -> 4; the fold ladder 4, 2, 1.
    # g = 1: nn up to 4 (1 + 2 nn), ladder 4, 2, 1: nn = 4 -> gm = 1 (1 + 4 + 4 gm), chunks
    #   (fk, N, fm) = (4, 1, 4); nn = 2 -> gm = 4 (1 + 2 + 2 gm), (4, 2, 1); nn = 1 -> (4, 4, 1).
    # g = 2: nn up to 3 (2 + 3 nn), ladder 2, 1: nn = 2 -> gm = 3 (2 + 4 + 2 gm), balanced
    #   ceil(4 / ceil(4 / 3)) = 2, (2, 2, 2); nn = 1 -> gm = 4, (2, 4, 1).
    # g = 4: nn = 1 (4 + 5 nn) -> gm = 4 (8 + gm), (1, 4, 1): it beats (4, 4, 1) and (2, 4, 1)
    def fp(nn, g, gm):
        return g + nn * g + nn * gm

    assert tile_shapes(12, 4, 4, 4, fp) == [(4, 1, 1), (2, 1, 4), (2, 2, 2), (1, 4, 4)]
    assert tile_shapes(2, 4, 4, 4, fp) == []  # one channel of one fold: 1 + 1 + 1 = 3 > 2


# R = 2, C = 3; 1x1 conv: M = 7 pixels (blocks of 3, 3, 1), K = 9 (folds 2, 2, 2, 2, 1), N = 4
ARRAY = ("pe_array.rows=2", "pe_array.cols=3", "buffers.l1.capacity_bytes=128", "buffers.l1.double_buffered=true")
CONV = "  - {name: c, op: conv2d, in_shape: [9, 1, 7], out_channels: 4, kernel: 1, neuron: lif}\n"


def _df(tmp_path, *sets, T=2, layers=CONV, platform="ddr4-baseline"):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: d\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n{layers}")
    wl = load_workload(f, seed=0)
    return make_dataflow(load_platform(platform, ["dataflow.name=dense-is", *sets]), wl), wl.layers[0]


def test_a_small_l1_gets_all_folds_per_tile_with_balanced_channel_chunks(tmp_path):
    # L1 half 64 bytes; footprint(nn, g, gm) = gm x ceil(6 g / 8) input bytes + 2 g nn weight bytes
    # + the outputs of o = 3 gm nn pixels (16-bit psums 2 o, membranes in and out 4 o, ceil(o / 8)).
    # The largest chunk for one fold is nn = 3 (1 + 6 + 54 + 2 = 63; nn = 4: 83), and 3 channels
    # leave no room for a second fold (2 + 12 + 56 = 70): before issue 17 the only shape was
    # 3 channels x 1 fold x 1 block, chunks (fk, N, fm) = (5, 2, 3), 30 tiles per timestep.
    # Now: g = 1: nn = 2 (the fewest chunks of at most 3: 2 + 2) -> gm = 1 (2 blocks: 80),
    # (5, 2, 3); nn = 1 -> gm = 3 (3 + 2 + 54 + 2 = 61), (5, 4, 1). g = 2: nn = 2 (47; 3: 70),
    # gm = 1 -> (3, 2, 3); nn = 1 -> gm = 2 (45; 3: 66) -> (3, 4, 2). g = 3: nn = 2 (52; 3: 77),
    # gm = 1 -> (2, 2, 3); nn = 1, gm = 2 (49; 3: 71) -> (2, 4, 2). g = 5: nn = 2 (4 + 20 + 37
    # = 61; 3: 90), gm = 1 (2 blocks: 102) -> (1, 2, 3); nn = 1, gm = 2 (55; 3: 78) -> (1, 4, 2).
    # (1, 2, 3) beats (5, 2, 3), (3, 2, 3), (2, 2, 3); (1, 4, 2) beats (3, 4, 2), (2, 4, 2)
    df, layer = _df(tmp_path, *ARRAY)
    shapes = ["n chunk=1, folds/tile=1, pixel blocks/tile=3", "n chunk=2, folds/tile=5, pixel blocks/tile=1",
              "n chunk=1, folds/tile=5, pixel blocks/tile=2"]
    cands = df.gemm_candidates(layer)
    assert [c.label for c in cands] == [f"{o}, {s}" for s in shapes for o in ("m>n>k", "n>m>k")]
    # array cycles per timestep (double-buffered: fill R = 2, the streams, each later fill's excess
    # over the stream before it, skew R + C - 2 = 3 once per tile):
    # 1 ch x 1 fold x 3 blocks: 2 + 3 + 2 x 1 + 3 = 10 per tile, 4 x 5 tiles: 200;
    # 2 ch x 5 folds x 1 block: 2 + 10 + 3 = 15, 3 x 2 tiles: 90;
    # 1 ch x 5 folds x 2 blocks: 2 + 10 + 9 + 3 = 24, x 1 block: 2 + 5 + 4 + 3 = 14, 4 x (24 + 14) = 152
    assert [c.totals.cycles for c in cands] == [2 * 200] * 2 + [2 * 90] * 2 + [2 * 152] * 2
    assert [c.totals.count for c in cands] == [2 * 20] * 2 + [2 * 6] * 2 + [2 * 8] * 2
    plan = df.plan()[0]
    assert plan.tiling == "m>n>k, n chunk=2, folds/tile=5, pixel blocks/tile=1"  # the orders tie: the first
    assert len(plan.tiles) == 2 * 6
    assert sum(t.compute_cycles - t.neuron_cycles for t in plan.tiles) == 2 * 90  # before: 2 x 3 x (5 x 8 + 5 x 6)
    first = plan.tiles[0]
    assert first.region == ("gemm", 0, 1, 0, 2, 0, 3, 0, 9, True)
    # without the double buffer every (block, fold) pair pays 2 + nn + 3 (SCALE-Sim): 15 pairs per
    # channel chunk, 4 x 15 x 6, 2 x 15 x 7, 4 x 15 x 6 per timestep; 2 channels x 5 folds still
    # wins (the old 3 + 1 channel chunks took as long: 15 x (8 + 6) = 210), in 6 tiles, not 30
    df, layer = _df(tmp_path, *ARRAY, "pe_array.weight_double_buffer=false")
    assert [c.totals.cycles for c in df.gemm_candidates(layer)][::2] == [2 * 4 * 15 * 6, 2 * 2 * 15 * 7,
                                                                          2 * 4 * 15 * 6]
    plan = df.plan()[0]
    assert (plan.tiling, len(plan.tiles)) == ("m>n>k, n chunk=2, folds/tile=5, pixel blocks/tile=1", 2 * 6)


def test_a_linear_layer_splits_its_channels_evenly_to_take_every_fold(tmp_path):
    # M = 1 pixel (one block; the footprint counts its C = 3 columns), K = 10 (5 folds of R = 2),
    # N = 4; L1 half 64: footprint(nn, g, 1) = ceil(6 g / 8) + 2 g nn + 18 nn + ceil(3 nn / 8).
    # One fold: nn = 3 (1 + 6 + 54 + 2 = 63; 4: 83) and no second fold (2 + 12 + 56 = 70): before
    # issue 17, chunks of 3 and 1 channels, one fold per tile, 10 tiles per timestep of 2 + 3 + 3
    # and 2 + 1 + 3 cycles (70). Now the fewest chunks of at most 3 are 2 + 2, and 2 channels
    # take all 5 folds (4 + 20 + 36 + 1 = 61): chunks (1, 2, 1) beat every other shape;
    # 2 tiles per timestep of 2 + 5 x 2 + 3 = 15 cycles
    lin = "  - {name: c, op: linear, in_shape: [10], out_features: 4, neuron: lif}\n"
    df, layer = _df(tmp_path, "pe_array.rows=2", "pe_array.cols=3", "buffers.l1.capacity_bytes=128", T=3,
                    layers=lin)
    assert [c.label for c in df.gemm_candidates(layer)] == [
        f"{o}, n chunk=2, folds/tile=5, pixel blocks/tile=1" for o in ("m>n>k", "n>m>k")]
    plan = df.plan()[0]
    assert len(plan.tiles) == 3 * 2
    assert [t.compute_cycles - t.neuron_cycles for t in plan.tiles] == [15] * 6


@pytest.mark.parametrize("platform, sets, layers", [
    ("ddr4-baseline", ARRAY, CONV),
    ("ddr4-baseline", ("pe_array.rows=2", "pe_array.cols=3", "buffers.l1.capacity_bytes=82"),
     "  - {name: c, op: conv2d, in_shape: [2, 1, 7], out_channels: 2, kernel: 1, neuron: lif}\n"),  # K: one fold
    ("mesh-4core", ("pe_array.rows=4", "pe_array.cols=4"),
     "  - {name: c, op: conv2d, in_shape: [3, 5, 5], out_channels: 6, kernel: 3, padding: 1, neuron: lif}\n"),
    ("edge-lpddr4", ("pe_array.weight_double_buffer=false", "pe_array.rows=4", "pe_array.cols=4"),
     "  - {name: c, op: conv2d, in_shape: [3, 5, 5], out_channels: 6, kernel: 3, padding: 1, neuron: lif}\n"),
])
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 1, 1), (1, 2, 1), (1, 1, 2), (3, 2, 2), (5, 3, 2)])
def test_totals_are_the_sums_of_the_steps(tmp_path, platform, sets, layers, shape):
    # every timestep repeats the first one's tiles; a block's tiles follow from its pixels,
    # channels and whether the array holds its first fold's inputs (K in one fold, pixels outer)
    df, layer = _df(tmp_path, *sets, T=3, layers=layers, platform=platform)
    M, K, N = layer.gemm
    nn, g, gm = min(shape[0], N), min(shape[1], -(-K // df.R)), min(shape[2], -(-M // df.C))
    for order in ("m>n>k", "n>m>k"):
        steps = df._steps(layer, nn, g, gm, order)
        tot = df._steps(layer, nn, g, gm, order, totals=True)
        ref = StepTotals(sum(s.cycles for s in steps), df._traffic(layer, steps, {}), steps[0], len(steps))
        assert (tot.cycles, tot.moved, tot.first, tot.count) == \
               (ref.cycles, ref.moved, ref.first, ref.count)
