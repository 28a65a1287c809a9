"""The first pass without the tiles of the layers it drops (session 36): a systolic dataflow's
``_emit`` with ``keep`` false gives the plan's summary, field for field the summary of the plan
with its tiles, and ``tile_ranges`` that hold every move of every tile to or from a resident
tensor (stores only in ranges marked stored); ``plan_layer`` asks ``tiles`` with the number of
tiles before making them; LazyPlans' first pass makes no tile of a layer it drops."""

import dataclasses

import pytest

from tests.dataflow.test_lazy_plans import SMALL, SPARSE
from tlmsim.dataflow import DATAFLOWS, make_dataflow
from tlmsim.dataflow.base import LazyPlans
from tlmsim.dataflow.systolic import SystolicDataflow
from tlmsim.engine.plan import LayerPlan, LayerSummary
from tlmsim.platform import load_platform
from tlmsim.soc.build import check_plan
from tlmsim.workload import load_workload

FIELDS = [f.name for f in dataclasses.fields(LayerSummary) if f.name != "tile_ranges"]


@pytest.fixture(scope="module")
def sparse(tmp_path_factory):
    path = tmp_path_factory.mktemp("wl") / "sparse.yaml"
    path.write_text(SPARSE)
    return load_workload(str(path), seed=0)


def _both(platform, workload):
    """Every layer planned with its tiles and, by a dataflow of its own, without (``tiles`` says no)."""
    full = make_dataflow(platform, workload).plan()
    asked = []

    def no(n):
        asked.append(n)
        return False

    bare = [p for _, p in make_dataflow(platform, workload).plan_in_order(no)]
    return full, bare, asked


def _inside(ranges, m, nlevels, store):
    a = m.level_address
    b = a + (m.level_span or m.nbytes)
    return any(lv % nlevels == m.level % nlevels and lo <= a and b <= hi and (stored or not store)
               for _t, lv, lo, hi, stored in ranges)


@pytest.mark.parametrize("platform", ["ddr4-baseline", "l2-glb", "mesh-4core-l2", "no-glb"])
@pytest.mark.parametrize("dataflow", sorted(DATAFLOWS))
def test_a_summary_without_tiles_is_the_plans_own_and_its_ranges_hold_every_tile_move(sparse, platform, dataflow):
    p = load_platform(platform, [*SMALL, f"dataflow.name={dataflow}", "pe_array.cores=1"])
    full, bare, asked = _both(p, sparse)
    n = max(1, len(p.buffers.sram_levels))
    gemm = [i for i, pl in enumerate(full) if pl.layer.op not in ("flatten", "avgpool2d", "maxpool2d", "sumpool2d")]
    assert asked == [len(full[i].tiles) for i in gemm] and min(asked) > 1
    resident = 0
    for i, (plan, summary) in enumerate(zip(full, bare)):
        if i not in gemm:  # pooling and flatten: always with their tiles
            assert type(summary) is LayerPlan and repr(summary) == repr(plan)
            continue
        assert type(summary) is LayerSummary
        want = plan.summary()
        assert [repr(getattr(summary, f)) for f in FIELDS] == [repr(getattr(want, f)) for f in FIELDS]
        assert check_plan(p, summary) is True and check_plan(p, plan) is True
        for t in plan.tiles:
            for m in t.loads + t.stores:
                if not m.in_dram:
                    resident += 1
                    assert _inside(summary.tile_ranges, m, n, m in t.stores), (plan.layer.name, t.index, m)
        assert [name for name, *_ in summary.tile_ranges] == sorted(plan.levels)
    if platform != "no-glb":
        assert resident > 0  # some tile moves a resident tensor
    else:
        assert all(not s.tile_ranges for s in bare if isinstance(s, LayerSummary))


def test_the_ranges_by_hand_are_each_resident_tensors_bytes_in_its_level():
    # lenet5's fc1 on ddr4-baseline with dense-ws: its weights resident in the glb (level 0)
    p = load_platform("ddr4-baseline", ["dataflow.name=dense-ws"])
    w = load_workload("lenet5-mnist", seed=0)
    df = make_dataflow(p, w)
    plans = [pl for _, pl in df.plan_in_order(lambda n: False)]
    got = {pl.layer.name: pl.tile_ranges for pl in plans if isinstance(pl, LayerSummary)}
    full = {pl.layer.name: pl for pl in make_dataflow(p, w).plan()}
    sizes_of = {name: df._sizes(full[name].layer) for name in got}
    for name, ranges in got.items():
        plan = full[name]
        res = plan.levels
        assert [r[0] for r in ranges] == sorted(res)  # a tensor of no bytes too: a tile may move 0 bytes of it
        for tensor, lv, lo, hi, stored in ranges:
            assert lv == res[tensor] and hi - lo == sizes_of[name][tensor]
            assert stored == (tensor in ("outputs", "membrane"))
    assert any(ranges for ranges in got.values())


def test_a_recurrent_layer_without_tiles_is_summarised_as_with_them():
    p = load_platform("ddr4-baseline", ["dataflow.name=dense-ws"])
    w = load_workload("digits-rsnn", seed=0)
    full, bare, asked = _both(p, w)
    assert any(pl.layer.recurrent for pl in full) and len(asked) == len(full)
    for plan, summary in zip(full, bare):
        want = plan.summary()
        assert [repr(getattr(summary, f)) for f in FIELDS] == [repr(getattr(want, f)) for f in FIELDS]


def test_the_first_pass_makes_tiles_only_for_the_plans_it_keeps(sparse, monkeypatch):
    p = load_platform("ddr4-baseline", [*SMALL, "dataflow.name=event"])
    seen = []
    real = SystolicDataflow._emit

    def emit(self, layer, steps, sizes, res, resident_input, keep=True):
        seen.append((layer.name, keep))
        return real(self, layer, steps, sizes, res, resident_input, keep)

    monkeypatch.setattr(SystolicDataflow, "_emit", emit)
    gemm = ["conv1", "conv2", "conv3", "fc"]
    lazy = LazyPlans(make_dataflow(p, sparse), check=lambda plan: check_plan(p, plan), keep_tiles=0)
    assert seen == [(name, False) for name in gemm] and lazy.held == []
    seen.clear()
    lazy[0]  # planned again when it runs: with its tiles
    assert seen == [("conv1", True)] and lazy.replanned == 1
    seen.clear()
    lazy = LazyPlans(make_dataflow(p, sparse), check=lambda plan: check_plan(p, plan), keep_tiles=10**6)
    assert seen == [(name, True) for name in gemm] and lazy.held == list(range(len(lazy)))
    seen.clear()
    # the budget reached after conv2: conv3 and fc summarised alone
    ntiles = [s.ntiles for s in lazy.summaries]
    lazy = LazyPlans(make_dataflow(p, sparse), keep_tiles=ntiles[0] + ntiles[1])
    assert seen == [("conv1", True), ("conv2", True), ("conv3", False), ("fc", False)] and lazy.held == [0, 1]


def test_a_dataflow_that_planned_a_layer_before_still_asks_tiles():
    # event keeps its chosen tilings (KEEP_CHOICE): a second pass makes the same steps again and asks
    # ``tiles`` with their number before making any tile
    p = load_platform("ddr4-baseline", ["dataflow.name=event"])
    w = load_workload("lenet5-mnist", seed=0)
    df = make_dataflow(p, w)
    assert df.KEEP_CHOICE
    first, again = [], []
    one = [pl for _, pl in df.plan_in_order(lambda n: first.append(n) or False)]
    two = [pl for _, pl in df.plan_in_order(lambda n: again.append(n) or False)]
    assert again == first and len(first) >= 3 and all(isinstance(n, int) and n > 0 for n in first)
    assert [type(pl) for pl in two] == [type(pl) for pl in one] and LayerSummary in {type(pl) for pl in two}
    assert [repr(pl) for pl in two] == [repr(pl) for pl in one]
    three = [pl for _, pl in df.plan_in_order(lambda n: True)]
    assert all(type(pl) is LayerPlan for pl in three)
    assert [len(pl.tiles) for pl, s in zip(three, one) if isinstance(s, LayerSummary)] == first
