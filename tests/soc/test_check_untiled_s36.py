"""check_plan (tlmsim/soc/build.py) of a plan summarised without its tiles (session 36): the
first pass of LazyPlans does not make the tiles of a layer it will drop, and checks its
LayerSummary by ``l1_tile_bytes`` (the largest tile) and ``tile_ranges`` (the bytes every move
of a tile to or from a resident tensor lies in) instead: True where those prove that it fits,
False where only the tiles can tell, and the same MappingError as with the tiles where the
summary alone breaks a rule. Each rule at its boundary, on the small platforms of
test_check_plan_by_hand_s11.py (staging 2 x 1 lane x 64 bytes = 128 bytes)."""

import pytest

from tlmsim.engine.plan import LayerSummary, Move
from tlmsim.engine.transaction import DataClass
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.soc.build import check_plan
from tlmsim.workload import Layer

W, O = DataClass.WEIGHTS, DataClass.OUT_SPIKES
LANE = ["dataflow.dma_outstanding=1", "dataflow.dma_chunk_bytes=64"]
LAYER = Layer(index=0, name="fc", op="linear", in_shape=(8,), out_shape=(8,), kernel=(1, 1), stride=(1, 1),
              padding=(0, 0), neuron=None, weight_sparsity=0.0, firing_rate=0.5)


def _summary(ranges=(), l1=0, **kw):
    return LayerSummary(layer=LAYER, ntiles=3, l1_tile_bytes=l1, tile_ranges=list(ranges), **kw)


def _refused(platform, plan) -> str:
    with pytest.raises(MappingError) as e:
        check_plan(platform, plan)
    return str(e.value)


def test_the_largest_tile_fits_an_l1_half_to_the_byte_else_only_the_tiles_tell():
    p = load_platform("ddr4-baseline", ["buffers.l1.capacity_bytes=1023", *LANE])  # a half: 511 bytes
    assert check_plan(p, _summary(l1=511)) is True
    assert check_plan(p, _summary(l1=512)) is False
    one = load_platform("ddr4-baseline", ["buffers.l1.capacity_bytes=1023", "buffers.l1.double_buffered=false", *LANE])
    assert check_plan(one, _summary(l1=1023)) is True
    assert check_plan(one, _summary(l1=1024)) is False


def test_without_a_level_a_tile_range_needs_the_tiles_and_the_summary_rules_raise_as_before():
    p = load_platform("no-glb", LANE)
    assert check_plan(p, _summary()) is True
    assert check_plan(p, _summary([("weights", 0, 0, 64, False)])) is False
    msg = "layer 'fc': a tensor is planned resident on chip, but buffers.levels declares no SRAM level"
    for plan in (_summary(resident_bytes={0: 1}), _summary(prologue=[Move(W, 64, True, 0, 0, level=0)]),
                 _summary([("weights", 0, 0, 64, False)], epilogue=[Move(O, 64, True, 0, 0, level=0)])):
        assert _refused(p, plan) == msg


def test_with_several_cores_a_range_stored_in_a_private_level_needs_the_tiles():
    # mesh-4core-l2 on 2 cores: glb (shared, level 0 = -2), l2 (private, level 1 = -1)
    p = load_platform("mesh-4core-l2", ["pe_array.cores=2", *LANE])
    assert check_plan(p, _summary([("weights", 1, 128, 192, False), ("outputs", 0, 128, 192, True)])) is True
    assert check_plan(p, _summary([("outputs", -1, 128, 192, True)])) is False
    assert check_plan(p, _summary([("weights", 0, 128, 192, False), ("membrane", 1, 256, 320, True)])) is False
    msg = ("layer 'fc': outputs or membranes are planned in the private level 'l2', which with several cores "
           "holds only what a layer reads")
    assert _refused(p, _summary(epilogue=[Move(O, 64, True, 0, 128, level=-1)])) == msg
    # one core: its private level may keep outputs
    one = load_platform("mesh-4core-l2", ["pe_array.cores=1", *LANE])
    assert check_plan(one, _summary([("outputs", 1, 128, 192, True)])) is True


def test_each_level_holds_its_staging_and_resident_bytes_as_with_the_tiles():
    p = load_platform("mesh-4core-l2", ["pe_array.cores=1", "buffers.levels.0.capacity_bytes=8192",
                                        "buffers.levels.1.capacity_bytes=4096", *LANE])
    assert check_plan(p, _summary(resident_bytes={0: 8064, 1: 3000, -1: 968})) is True
    assert _refused(p, _summary(resident_bytes={0: 8064, 1: 3000, -1: 969})) == (
        "layer 'fc': resident tensors (3969 bytes) and DMA staging (128 bytes) exceed "
        "buffers.levels[1].capacity_bytes (4096)")


def test_the_ranges_lie_above_the_staging_area_and_inside_their_level_else_only_the_tiles_tell():
    p = load_platform("mesh-4core-l2", ["pe_array.cores=1", "buffers.levels.0.capacity_bytes=8192",
                                        "buffers.levels.1.capacity_bytes=4096", *LANE])
    # staging's end (128) to the level's end (4096 in l2 = level 1 or -1, 8192 in the glb = 0 or -2)
    assert check_plan(p, _summary([("weights", 1, 128, 4096, False), ("inputs", -2, 128, 8192, False)])) is True
    assert check_plan(p, _summary([("weights", -1, 127, 191, False)])) is False
    assert check_plan(p, _summary([("weights", 1, 4033, 4097, False)])) is False
    assert check_plan(p, _summary([("inputs", 0, 128, 8193, False)])) is False
    # an empty range holds nothing: not a bound
    assert check_plan(p, _summary([("weights", 1, 5000, 5000, False)])) is True
    # the prologue and the epilogue count as with the tiles: out of bounds, the tiles name the range
    assert check_plan(p, _summary(prologue=[Move(W, 64, True, 0, 8128, level=0)])) is True
    assert check_plan(p, _summary(epilogue=[Move(O, 64, True, 0, 8129, level=0)])) is False
    assert check_plan(p, _summary(prologue=[Move(W, 0, True, 0, 9000, level=0)])) is True  # no bytes: no bound
    assert check_plan(p, _summary(prologue=[Move(W, 1, True, 0, 8192, level=0)])) is False  # one byte over
    assert check_plan(p, _summary(prologue=[Move(W, 1, True, 0, 8191, level=0)])) is True
    assert check_plan(p, _summary([("weights", 1, 200, 300, False)], prologue=[Move(W, 64, True, 0, 64, level=1)])) \
        is False


def test_a_plan_with_its_tiles_that_fits_is_true_too():
    from tlmsim.engine.plan import LayerPlan, Tile
    p = load_platform("ddr4-baseline", ["buffers.l1.capacity_bytes=1024", *LANE])
    tile = Tile(index=0, t_first=0, t_last=0, loads=[Move(W, 512, True, 0, 0)], stores=[], compute_cycles=1)
    assert check_plan(p, LayerPlan(layer=LAYER, tiles=[tile])) is True
    assert check_plan(load_platform("no-glb", LANE), LayerPlan(layer=LAYER, tiles=[tile])) is True
