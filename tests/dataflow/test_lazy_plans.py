"""LazyPlans (tlmsim/dataflow/base.py): a layer's plan made again after it was dropped is the
same plan for every dataflow, a run holds the tiles of a few layers only, and a plan that
does not fit is still refused before the first event."""

import gc
import importlib

import pytest

from tlmsim.dataflow import DATAFLOWS, base, make_dataflow
from tlmsim.dataflow.base import LazyPlans
from tlmsim.engine.plan import Tile
from tlmsim.engine.transaction import Cmd
from tlmsim.errors import MappingError
from tlmsim.platform import load_platform
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload

#: synthetic spikes and synthetic weight masks (seeded by the layer), a shortcut, a pool and a flatten
SPARSE = """name: sparse
timesteps: 3
weight_bits: 8
layers:
  - {name: conv1, op: conv2d, in_shape: [2, 6, 6], out_channels: 8, kernel: 3, padding: 1, neuron: lif, firing_rate: 0.3, weight_sparsity: 0.7}
  - {name: conv2, op: conv2d, in_shape: [8, 6, 6], out_channels: 8, kernel: 3, padding: 1, neuron: lif, firing_rate: 0.2, weight_sparsity: 0.8}
  - {name: conv3, op: conv2d, in_shape: [8, 6, 6], out_channels: 8, kernel: 3, padding: 1, neuron: lif, firing_rate: 0.25, residual: conv1, weight_sparsity: 0.6}
  - {name: pool, op: avgpool2d, in_shape: [8, 6, 6], kernel: 2, stride: 2, firing_rate: 0.2}
  - {name: flatten, op: flatten, in_shape: [8, 3, 3], firing_rate: 0.2}
  - {name: fc, op: linear, in_shape: [72], out_features: 10, neuron: lif, firing_rate: 0.2, weight_sparsity: 0.5}
"""

#: small arrays and L1s so that every layer makes several tiles; weights compressed by their masks
SMALL = ["pe_array.rows=4", "pe_array.cols=4", "buffers.l1.capacity_bytes=1024", "dataflow.weight_compression=true"]


def _same_again(platform, workload):
    """Plan in order on one dataflow; plan every layer again, last first, on another that kept no
    plan (as LazyPlans does once a plan was dropped); both must be equal field for field."""
    first = make_dataflow(platform, workload).plan()
    lazy = LazyPlans(make_dataflow(platform, workload), keep_tiles=0)
    assert lazy.held == []
    assert [repr(s) for s in lazy.summaries] == [repr(p.summary()) for p in first]
    for i in reversed(range(len(first))):
        assert repr(lazy[i]) == repr(first[i]), first[i].layer.name
        lazy.release(i)
    assert lazy.replanned == len(first) and lazy.held == []
    return first


@pytest.mark.parametrize("platform", ["ddr4-baseline", "l2-glb"])
@pytest.mark.parametrize("dataflow", sorted(DATAFLOWS))
def test_every_dataflow_makes_the_same_plan_again(sparse, dataflow, platform):
    first = _same_again(load_platform(platform, [f"dataflow.name={dataflow}", *SMALL]), sparse)
    assert sum(len(p.tiles) for p in first) >= 3 * len(first)  # the comparison sees tiles
    if platform == "l2-glb":  # some layer reads its inputs from a level (planned for that input level)
        assert any(p.resident.get("outputs") for p in first)


@pytest.mark.parametrize("dataflow", sorted(DATAFLOWS))
def test_every_dataflow_makes_the_same_recurrent_plan_again(dataflow):
    _same_again(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}"]), load_workload("digits-rsnn"))


class LiveTiles:
    """A trace sink that counts the Tile objects alive (gc) when each layer's first tile computes."""

    def __init__(self):
        self.samples: dict[int, int] = {}

    def hop(self, txn, component, start_ps, end_ps, wait_ps, busy_ps):
        if txn.cmd == Cmd.COMPUTE and txn.layer not in self.samples:
            self.samples[txn.layer] = sum(1 for o in gc.get_objects() if type(o) is Tile)

    def stall(self, *a):
        pass

    def tail(self, *a):
        pass

    def close(self):
        pass

    def abort(self):
        pass


def _live_tiles(platform, workload):
    sizes = [len(p.tiles) for p in make_dataflow(platform, workload.with_weight_bits(8)).plan()]
    gc.collect()
    sink = LiveTiles()
    result = simulate(platform, workload, sinks=(sink,))
    assert [s.ntiles for s in result.plans] == sizes
    assert sorted(sink.samples) == [i for i, n in enumerate(sizes) if n]
    return sizes, sink.samples, result


def test_a_run_holds_the_tiles_of_the_running_layer_and_the_next_only(monkeypatch):
    monkeypatch.setattr(base, "KEEP_TILES", 0)  # keep no plan of the first pass
    sizes, live, _ = _live_tiles(load_platform("edge-lpddr4", ["dataflow.name=dense-is"]), load_workload("lenet5-mnist"))
    # lenet5 on edge-lpddr4 dense-is: 800 tiles, [160, 32, 128, 32, 0, 320, 96, 32]
    assert sum(sizes) == 800 and max(sizes) == 320
    for i, n in live.items():  # layer i computes: its tiles and the next layer's (its prefetch) are alive
        assert n == sizes[i] + (sizes[i + 1] if i + 1 < len(sizes) else 0), (i, n)
    assert max(live.values()) == 320 + 96 < sum(sizes)  # all plans alive at once (before lazy plans): 800


def test_with_layer_pipelining_a_run_holds_two_stages_at_most(monkeypatch):
    monkeypatch.setattr(base, "KEEP_TILES", 0)
    sizes, live, result = _live_tiles(load_platform("mesh-4core", ["dataflow.name=dense-ws", "pe_array.multicore=pipeline"]),
                                      load_workload("lenet5-mnist"))
    bound = max(sum(sizes[i:i + 4]) for i in range(len(sizes)))  # the running stage and the next
    assert max(live.values()) <= bound < sum(sizes)
    assert len(result.controller.stages) < len(sizes)  # some layers ran as pairs


def test_the_first_pass_plans_are_kept_up_to_keep_tiles_and_the_others_planned_again(monkeypatch):
    p = load_platform("edge-lpddr4", ["dataflow.name=dense-is"])
    w = load_workload("lenet5-mnist").with_weight_bits(8)
    lazy = LazyPlans(make_dataflow(p, w), keep_tiles=160 + 32 + 128)  # [160, 32, 128, 32, 0, 320, 96, 32]
    assert lazy.held == [0, 1, 2]  # a run of first plans: the 0-tile flatten after the 32 is not kept either
    lazy[0]
    assert lazy.replanned == 0
    lazy.release(0)
    lazy[0]
    lazy[4]
    assert lazy.replanned == 2 and lazy.held == [0, 1, 2, 4]
    with pytest.raises(IndexError):
        lazy[8]
    # the default keeps small runs' plans: planned once
    monkeypatch.setattr(base, "KEEP_TILES", 800)
    assert LazyPlans(make_dataflow(p, w)).held == list(range(8))
    monkeypatch.setattr(base, "KEEP_TILES", 799)
    assert LazyPlans(make_dataflow(p, w)).held == [0, 1, 2, 3, 4, 5, 6]


def test_a_plan_that_does_not_fit_is_refused_before_the_first_event(monkeypatch):
    # the last layer's plan is refused: the run stops in the first pass, before any hop
    build = importlib.import_module("tlmsim.soc.build")  # the module (tlmsim.soc.build is also the function)

    checked = []

    def check(platform, plan):
        checked.append(plan.layer.name)
        if plan.layer.name == "fc3":
            raise MappingError(f"layer {plan.layer.name!r}: refused")

    monkeypatch.setattr(build, "check_plan", check)
    sink = LiveTiles()
    with pytest.raises(MappingError, match="layer 'fc3': refused"):
        simulate(load_platform("edge-lpddr4", ["dataflow.name=dense-is"]), load_workload("lenet5-mnist"), sinks=(sink,))
    assert checked == ["conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc2", "fc3"]
    assert sink.samples == {}
