"""check_plan (tlmsim/soc/build.py) by hand: each rule at its boundary (the last byte that
fits, the first that does not) and its whole message, on small platforms whose staging
area is 2 x 1 lane x 64 bytes = 128 bytes."""

import pytest

from tlmsim.engine.plan import LayerPlan, Move, Tile
from tlmsim.engine.transaction import DataClass
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.soc.build import check_plan, check_plans
from tlmsim.workload import Layer

W, O = DataClass.WEIGHTS, DataClass.OUT_SPIKES
LANE = ["dataflow.dma_outstanding=1", "dataflow.dma_chunk_bytes=64"]  # staging 2 x 1 x 64 = 128 bytes
LAYER = Layer(index=0, name="fc", op="linear", in_shape=(8,), out_shape=(8,), kernel=(1, 1), stride=(1, 1),
              padding=(0, 0), neuron=None, weight_sparsity=0.0, firing_rate=0.5)


def _tile(i, loads=(), stores=()):
    return Tile(index=i, t_first=0, t_last=0, loads=list(loads), stores=list(stores), compute_cycles=1)


def _plan(*tiles, **kw):
    return LayerPlan(layer=LAYER, tiles=list(tiles), **kw)


def _refused(platform, plan) -> str:
    with pytest.raises(MappingError) as e:
        check_plan(platform, plan)
    return str(e.value)


def _dram(n, addr=0):
    return Move(W, n, True, addr, 0)


def _glb(n, addr, level=-1, dc=W, span=0):
    return Move(dc, n, False, 0, addr, level=level, level_span=span)


def test_a_tile_fits_an_l1_half_to_the_byte():
    # 1023 bytes double-buffered: a half is 1023 // 2 = 511 bytes; every tile is checked, by its index
    p = load_platform("ddr4-baseline", ["buffers.l1.capacity_bytes=1023", *LANE])
    ok = _tile(0, [_dram(300)], [_dram(211)])
    check_plan(p, _plan(ok, _tile(3, [_dram(311)], [_dram(200)])))
    assert _refused(p, _plan(ok, _tile(3, [_dram(300), _dram(12)], [_dram(200)]))) == (
        "layer 'fc' tile 3: operands 312 + outputs 200 bytes exceed an L1 half of 511 bytes "
        "(buffers.l1.capacity_bytes, buffers.l1.double_buffered)")
    # single-buffered: the whole L1
    one = load_platform("ddr4-baseline", ["buffers.l1.capacity_bytes=1023", "buffers.l1.double_buffered=false", *LANE])
    check_plan(one, _plan(_tile(0, [_dram(1000)], [_dram(23)])))
    assert _refused(one, _plan(_tile(1, [_dram(1000)], [_dram(24)]))) == (
        "layer 'fc' tile 1: operands 1000 + outputs 24 bytes exceed an L1 half of 1023 bytes "
        "(buffers.l1.capacity_bytes, buffers.l1.double_buffered)")


def test_without_a_level_every_kind_of_on_chip_tensor_is_refused():
    p = load_platform("no-glb", LANE)
    assert len(p.buffers.sram_levels) == 0
    check_plan(p, _plan(_tile(0, [_dram(64)], [_dram(64)]), _tile(1, [_dram(64)])))
    msg = "layer 'fc': a tensor is planned resident on chip, but buffers.levels declares no SRAM level"
    for plan in (_plan(_tile(0, [_dram(64)]), resident_bytes={0: 1}),
                 _plan(_tile(0, [_dram(64)]), prologue=[Move(W, 64, True, 0, 0, level=0)]),
                 _plan(_tile(0, [_dram(64)]), epilogue=[Move(O, 64, True, 0, 0, level=0)]),
                 _plan(_tile(0, [_dram(64)]), _tile(1, [_dram(64), _glb(64, 0)])),
                 _plan(_tile(0, [_dram(64)]), _tile(1, [_dram(64)], [_dram(8), _glb(64, 0, dc=O)]))):
        assert _refused(p, plan) == msg
    # an empty resident_bytes entry is nothing resident
    check_plan(p, _plan(_tile(0, [_dram(64)]), resident_bytes={}))


def test_with_several_cores_nothing_is_stored_or_drained_into_a_private_level():
    # mesh-4core-l2 on 2 cores: glb (shared, level 0 = -2), l2 (private, level 1 = -1)
    p = load_platform("mesh-4core-l2", ["pe_array.cores=2", *LANE])
    msg = ("layer 'fc': outputs or membranes are planned in the private level 'l2', which with several cores "
           "holds only what a layer reads")
    check_plan(p, _plan(_tile(0, [_glb(64, 128, level=1)], [_glb(64, 128, level=0, dc=O), Move(O, 64, True, 0, 0,
                                                                                                 level=1)])))
    assert _refused(p, _plan(_tile(0, [], [_dram(8), _glb(64, 128, level=-1, dc=O)]))) == msg
    assert _refused(p, _plan(_tile(0), _tile(1, [], [_glb(64, 128, level=1, dc=O)]))) == msg
    check_plan(p, _plan(_tile(0), epilogue=[Move(O, 64, True, 0, 128, level=-2)]))
    assert _refused(p, _plan(_tile(0), epilogue=[Move(O, 64, True, 0, 128, level=-1)])) == msg
    # one core: the private level is its only instance and may keep outputs
    check_plan(load_platform("mesh-4core-l2", ["pe_array.cores=1", *LANE]),
               _plan(_tile(0, [], [_glb(64, 128, level=1, dc=O)]), epilogue=[Move(O, 64, True, 0, 128, level=1)]))


def test_each_level_holds_its_staging_and_its_resident_bytes_to_the_byte():
    # glb 8192 bytes, l2 4096 bytes (one core); resident bytes by level, -1 and 1 the same level
    p = load_platform("mesh-4core-l2", ["pe_array.cores=1", "buffers.levels.0.capacity_bytes=8192",
                                        "buffers.levels.1.capacity_bytes=4096", *LANE])
    check_plan(p, _plan(_tile(0), resident_bytes={0: 8064, 1: 3000, -1: 968}))
    assert _refused(p, _plan(_tile(0), resident_bytes={0: 8064, 1: 3000, -1: 969})) == (
        "layer 'fc': resident tensors (3969 bytes) and DMA staging (128 bytes) exceed "
        "buffers.levels[1].capacity_bytes (4096)")
    assert _refused(p, _plan(_tile(0), resident_bytes={-2: 8065})) == (
        "layer 'fc': resident tensors (8065 bytes) and DMA staging (128 bytes) exceed "
        "buffers.levels[0].capacity_bytes (8192)")
    # ddr4-baseline declares buffers.glb: the message names that key
    g = load_platform("ddr4-baseline", ["buffers.glb.capacity_bytes=4096", *LANE])
    check_plan(g, _plan(_tile(0), resident_bytes={0: 3968}))
    assert _refused(g, _plan(_tile(0), resident_bytes={0: 3969})) == (
        "layer 'fc': resident tensors (3969 bytes) and DMA staging (128 bytes) exceed buffers.glb.capacity_bytes (4096)")


def test_a_resident_tensor_lies_above_the_staging_area_and_inside_its_level():
    p = load_platform("mesh-4core-l2", ["pe_array.cores=1", "buffers.levels.0.capacity_bytes=8192",
                                        "buffers.levels.1.capacity_bytes=4096", *LANE])
    # from the staging area's end (128) to the level's end (4096 in l2, 8192 in the glb): fits
    check_plan(p, _plan(_tile(0, [_glb(3968, 128, level=1)]), prologue=[Move(W, 64, True, 0, 8128, level=0)]))
    assert _refused(p, _plan(_tile(0, [_glb(64, 127, level=1)]))) == (
        "layer 'fc': a resident tensor at l2 bytes 127..191 is outside 128..4096 "
        "(above the DMA staging area, inside buffers.levels[1].capacity_bytes)")
    assert _refused(p, _plan(_tile(0, [_glb(64, 4033, level=1)]))) == (
        "layer 'fc': a resident tensor at l2 bytes 4033..4097 is outside 128..4096 "
        "(above the DMA staging area, inside buffers.levels[1].capacity_bytes)")
    assert _refused(p, _plan(_tile(0), epilogue=[Move(O, 64, True, 0, 8129, level=0)])) == (
        "layer 'fc': a resident tensor at glb bytes 8129..8193 is outside 128..8192 "
        "(above the DMA staging area, inside buffers.levels[0].capacity_bytes)")
    # a range at the very edge beside one out of bounds: the message names the one out of bounds
    assert _refused(p, _plan(_tile(0, [_glb(64, 128, level=1), _glb(64, 4033, level=1)]))) == (
        "layer 'fc': a resident tensor at l2 bytes 4033..4097 is outside 128..4096 "
        "(above the DMA staging area, inside buffers.levels[1].capacity_bytes)")
    assert _refused(p, _plan(_tile(0, [_glb(64, 4032, level=1), _glb(10, 4100, level=1)]))) == (
        "layer 'fc': a resident tensor at l2 bytes 4100..4110 is outside 128..4096 "
        "(above the DMA staging area, inside buffers.levels[1].capacity_bytes)")
    # a wrapping load occupies its span only (level_ranges)
    check_plan(p, _plan(_tile(0, [_glb(8000, 128, level=1, span=3968)])))


def test_check_plans_checks_every_plan():
    p = load_platform("ddr4-baseline", ["buffers.l1.capacity_bytes=1024", *LANE])
    good, bad = _plan(_tile(0, [_dram(512)])), _plan(_tile(0, [_dram(513)]))
    check_plans(p, [good, good])
    with pytest.raises(MappingError, match="operands 513"):
        check_plans(p, [good, bad])
