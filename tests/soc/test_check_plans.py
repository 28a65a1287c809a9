"""check_plans: plans that do not fit the declared levels are refused before any event,
naming the key."""

import pytest

from tlmsim.engine.plan import LayerPlan, Move, Tile
from tlmsim.engine.transaction import DataClass
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.soc.build import check_plans
from tlmsim.workload import Layer

LAYER = Layer(index=0, name="l", op="linear", in_shape=(8,), out_shape=(8,), kernel=(1, 1), stride=(1, 1),
              padding=(0, 0), neuron=None, weight_sparsity=0.0, firing_rate=0.5)


def _plan(load: Move, **kw) -> LayerPlan:
    return LayerPlan(layer=LAYER, tiles=[Tile(index=0, t_first=0, t_last=0, loads=[load], stores=[],
                                              compute_cycles=1)], **kw)


def test_without_levels_nothing_may_be_resident():
    p = load_platform("no-glb")
    check_plans(p, [_plan(Move(DataClass.WEIGHTS, 64, True, 0, 0))])
    with pytest.raises(MappingError, match="buffers.levels declares no SRAM level"):
        check_plans(p, [_plan(Move(DataClass.WEIGHTS, 64, False, 0, 0))])


def test_resident_bytes_are_checked_per_level():
    p = load_platform("l2-glb")  # L2 2 MiB, GLB 512 KiB; staging 2 x 4 x 4 KiB
    staging = 2 * p.dataflow.dma_outstanding * p.dataflow.dma_chunk_bytes
    fits = 2 * 1024 * 1024 - staging
    check_plans(p, [_plan(Move(DataClass.WEIGHTS, 64, False, 0, staging, level=0), resident_bytes={0: fits})])
    with pytest.raises(MappingError, match=r"exceed buffers.levels\[0\].capacity_bytes \(2097152\)"):
        check_plans(p, [_plan(Move(DataClass.WEIGHTS, 64, False, 0, staging, level=0), resident_bytes={0: fits + 1})])
    # a resident tensor inside the GLB's staging area (level -1 = the innermost, the GLB)
    with pytest.raises(MappingError, match=r"a resident tensor at glb bytes 0..64 is outside"):
        check_plans(p, [_plan(Move(DataClass.WEIGHTS, 64, False, 0, 0, level=-1), resident_bytes={1: 64})])
