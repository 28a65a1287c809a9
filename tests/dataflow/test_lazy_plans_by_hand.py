"""The plan holder by hand: :class:`~tlmsim.engine.plan.PlanSource` (a list's plans, all
kept), :class:`~tlmsim.dataflow.base.LazyPlans` (made when asked, dropped on release) and
the controller's use of them (``_run``, ``_stage_at``, ``_readers``), on a
dataflow whose plans are a table: every call, hand-out and release is counted."""

from types import SimpleNamespace

import pytest

from tests.hw.controller_rig import W, dram, run, tile
from tlmsim.dataflow import base
from tlmsim.dataflow.base import Dataflow, LazyPlans
from tlmsim.engine.plan import LayerPlan, LayerSummary, Move, PlanSource
from tlmsim.engine.transaction import DataClass


def _layer(index, name=None, source=None):
    return SimpleNamespace(index=index, name=name or f"l{index}", op="linear", recurrent=False,
                           source=index - 1 if source is None else source)


def _plan(layer, ntiles, *, outputs_level=None, cycles=20):
    kw = {}
    if outputs_level is not None:  # the outputs stay in that level for the next layer
        kw = {"resident": {"outputs": True}, "levels": {"outputs": outputs_level}}
    return LayerPlan(layer=layer, tiles=[tile(t, [dram(DataClass.WEIGHTS, 64, 64 * t)], cycles=cycles)
                                         for t in range(ntiles)], tiling=f"{layer.name} x{ntiles}", **kw)


class Table(Dataflow):
    """A dataflow whose layer ``i`` has ``sizes[i]`` tiles; ``extra[name]`` more tiles the
    second time the layer is planned (a dataflow that is not deterministic). Logs every
    ``plan_layer`` call as ``(name, input_level)``."""

    NAME = "table"

    def __init__(self, sizes, *, outputs_level=None, extra=None, untiled=False):
        layers = [_layer(i) for i in range(len(sizes))]
        super().__init__(platform=None, workload=SimpleNamespace(layers=layers))
        self.sizes, self.outputs_level, self.extra = list(sizes), outputs_level, extra or {}
        self.calls: list[tuple[str, int | None]] = []
        #: ``untiled``: a layer whose ``tiles`` say no comes as its summary alone (as the systolic
        #: dataflows' GEMM layers); ``asked``: every ``tiles`` answer, ``(name, tiles, answer)``
        self.untiled, self.asked = untiled, []

    def plan_layer(self, layer, input_level, tiles=None):
        again = any(name == layer.name for name, _ in self.calls)
        self.calls.append((layer.name, input_level))
        n = self.sizes[layer.index] + (self.extra.get(layer.name, 0) if again else 0)
        plan = _plan(layer, n, outputs_level=self.outputs_level)
        if tiles is not None:
            keep = tiles(n)
            self.asked.append((layer.name, n, keep))
            if self.untiled and not keep:
                summary = plan.summary()
                summary.tile_ranges = [("weights", 0, 0, 64, False)]
                return summary
        return plan


class Log:
    """A ``watch`` pair logging ``("made", layer index)`` and ``("released", layer index)``."""

    def __init__(self, source):
        self.events: list[tuple[str, int]] = []
        source.watch(lambda plan: self.events.append(("made", plan.layer.index)),
                     lambda li: self.events.append(("released", li)))


# -- PlanSource: a list's plans --------------------------------------------------------------


def test_a_list_becomes_a_source_that_keeps_every_plan():
    a, b = _plan(_layer(5, "a"), 2), _plan(_layer(7, "b"), 0)
    src = PlanSource.of([a, b])
    assert type(src) is PlanSource and PlanSource.of(src) is src
    assert len(src) == 2 and len(PlanSource()) == 0
    assert [(s.layer.name, s.ntiles, s.tiling) for s in src.summaries] == [("a", 2, "a x2"), ("b", 0, "b x0")]
    assert src.held == [0, 1]
    assert src[0] is a and src[1] is b
    for i in (2, -1):
        with pytest.raises(IndexError, match=f"layer position {i} of 2"):
            src[i]
    # by layer index (5 and 7), not position
    assert src.held_plan(7) is b and src.held_plan(5) is a and src.held_plan(0) is None and src.held_plan(1) is None
    src.release(0)
    src.release(1)
    assert src.held == [0, 1] and src[1] is b and src.held_plan(7) is b  # released, still kept: no dataflow


def test_watchers_see_each_hand_out_once_and_each_release_of_a_plan_handed_out():
    a, b, c = (_plan(_layer(i + 10), 1) for i in range(3))
    src = PlanSource([a, b, c])
    one, two = Log(src), Log(src)
    src[1]
    src[1]  # still out: not made again
    src[0]
    src.release(2)  # never handed out: nothing to tell
    src.release(1)
    src.release(1)  # released already
    src[1]  # out again
    assert one.events == two.events == [("made", 11), ("made", 10), ("released", 11), ("made", 11)]


def test_the_controller_wraps_a_list_and_reads_it_through_the_source():
    plans = [_plan(_layer(0), 2, cycles=10), _plan(_layer(1), 1, cycles=10)]
    _, _, ctrl, _, _ = run(plans)
    assert type(ctrl.plans) is PlanSource and [ctrl.plans[i] for i in range(2)] == plans
    assert [r.index for r in ctrl.layers] == [0, 1]
    assert ctrl.plans.held == [0, 1]  # a list's plans stay (asked after the run: _readers)


# -- LazyPlans --------------------------------------------------------------------------------


def test_the_first_pass_checks_and_summarises_every_layer_and_keeps_a_run_of_first_plans():
    df = Table([3, 2, 1, 4, 0])
    checked = []
    lazy = LazyPlans(df, check=lambda p: checked.append((p.layer.name, len(p.tiles))), keep_tiles=6)
    assert checked == [("l0", 3), ("l1", 2), ("l2", 1), ("l3", 4), ("l4", 0)]
    assert [s.ntiles for s in lazy.summaries] == [3, 2, 1, 4, 0] and len(lazy) == 5
    # 3 + 2 + 1 = 6 tiles: kept (at most keep_tiles); l3 would make 10; the 0-tile l4 after it is
    # within the budget but not in the run of first plans
    assert lazy.held == [0, 1, 2] and lazy.replanned == 0 and len(df.calls) == 5
    assert lazy.dataflow is df and lazy.layers == df.workload.layers
    assert LazyPlans(Table([3, 2, 1, 4, 0]), keep_tiles=5).held == [0, 1]
    assert LazyPlans(Table([3, 2]), keep_tiles=0).held == []
    assert LazyPlans(Table([0, 0, 1]), keep_tiles=0).held == [0, 1]  # tile-less plans cost nothing


def test_a_plan_the_first_pass_drops_is_summarised_without_its_tiles_and_checked_by_its_ranges():
    """``tiles`` answers the kept rule before a layer's tiles are made; a layer it refuses comes
    as its summary, which ``check`` takes: true, nothing more is planned; false, only the tiles can
    tell, so the layer is planned with them (no ``tiles``) and that plan checked. The summaries
    kept are the plans' own (their ranges dropped once read)."""
    df = Table([3, 2, 1, 4, 0], untiled=True)
    checked = []

    def check(p):
        untiled = isinstance(p, LayerSummary)
        checked.append((p.layer.name, p.ntiles if untiled else len(p.tiles), untiled))
        return p.layer.name != "l4"  # l4: ask for its tiles

    lazy = LazyPlans(df, check=check, keep_tiles=6)
    assert df.asked == [("l0", 3, True), ("l1", 2, True), ("l2", 1, True), ("l3", 4, False), ("l4", 0, False)]
    assert checked == [("l0", 3, False), ("l1", 2, False), ("l2", 1, False), ("l3", 4, True), ("l4", 0, True),
                       ("l4", 0, False)]
    assert df.calls == [("l0", None), ("l1", None), ("l2", None), ("l3", None), ("l4", None), ("l4", None)]
    assert lazy.held == [0, 1, 2] and lazy.replanned == 0
    want = [p.summary() for p in Table([3, 2, 1, 4, 0]).plan()]
    assert [repr(s) for s in lazy.summaries] == [repr(s) for s in want]
    assert all(s.tile_ranges is None for s in lazy.summaries)
    p3 = lazy[3]  # planned again when it runs, with its tiles
    assert len(p3.tiles) == 4 and lazy.replanned == 1 and df.calls[-1] == ("l3", None)


def test_a_summary_the_check_cannot_judge_is_planned_with_its_tiles_at_its_input_level():
    df = Table([2, 3, 4], outputs_level=1, untiled=True)  # every layer's outputs left in level 1 for the next
    lazy = LazyPlans(df, check=lambda p: not isinstance(p, LayerSummary) or p.layer.name != "l2", keep_tiles=2)
    assert df.calls == [("l0", None), ("l1", 1), ("l2", 1), ("l2", 1)] and lazy.held == [0]


def test_a_summary_without_a_check_is_taken_as_it_is():
    df = Table([2, 5, 1], untiled=True)
    lazy = LazyPlans(df, keep_tiles=2)
    assert df.asked == [("l0", 2, True), ("l1", 5, False), ("l2", 1, False)]  # l2: not in the run of first plans
    assert len(df.calls) == 3 and lazy.held == [0] and [s.ntiles for s in lazy.summaries] == [2, 5, 1]
    assert [s.tile_ranges for s in lazy.summaries] == [None, None, None]


def test_a_failing_check_of_the_tiles_raises_from_the_first_pass():
    df = Table([1, 3], untiled=True)

    def check(p):
        if isinstance(p, LayerSummary):
            return False
        if p.layer.name == "l1":
            raise ValueError("l1 does not fit")
        return True

    with pytest.raises(ValueError, match="l1 does not fit"):
        LazyPlans(df, check=check, keep_tiles=1)
    assert df.calls == [("l0", None), ("l1", None), ("l1", None)]


def test_the_default_budget_is_keep_tiles(monkeypatch):
    monkeypatch.setattr(base, "KEEP_TILES", 5)
    assert LazyPlans(Table([2, 3, 1])).held == [0, 1]
    assert LazyPlans(Table([2, 3, 1]), keep_tiles=6).held == [0, 1, 2]
    assert base.KEEP_TILES == 5
    monkeypatch.undo()
    assert base.KEEP_TILES == 65_536


def test_a_dropped_plan_is_planned_again_with_the_first_pass_input_level():
    df = Table([2, 1, 3], outputs_level=1)  # every layer leaves its outputs in level 1 for the next
    lazy = LazyPlans(df, keep_tiles=2)
    assert df.calls == [("l0", None), ("l1", 1), ("l2", 1)] and lazy.held == [0]
    log = Log(lazy)
    first = lazy[0]
    assert lazy[0] is first and lazy.replanned == 0 and len(df.calls) == 3  # kept: not planned again
    p2 = lazy[2]
    assert df.calls[3:] == [("l2", 1)] and lazy.replanned == 1 and len(p2.tiles) == 3
    assert lazy[2] is p2 and lazy.replanned == 1 and lazy.held == [0, 2]
    assert lazy.held_plan(2) is p2 and lazy.held_plan(1) is None
    lazy.release(0)  # kept from the first pass: dropped too
    lazy.release(1)  # never held: nothing happens
    assert lazy.held == [2] and lazy[0] is not first and lazy.replanned == 2
    assert df.calls[4:] == [("l0", None)]
    lazy.release(2)
    assert lazy.held == [0]
    assert log.events == [("made", 0), ("made", 2), ("released", 0), ("made", 0), ("released", 2)]
    with pytest.raises(IndexError, match="layer position 3 of 3"):
        lazy[3]
    with pytest.raises(IndexError, match="layer position -1 of 3"):
        lazy[-1]


def test_a_plan_made_again_with_other_tiles_is_refused():
    lazy = LazyPlans(Table([2, 1], extra={"l1": 1}), keep_tiles=0)
    lazy[0]
    with pytest.raises(RuntimeError, match=r"layer 'l1' planned again made 2 tiles, the first time 1: "
                                           r"the dataflow is not deterministic"):
        lazy[1]
    assert lazy.held == [0]


# -- the controller's hand-outs and releases -----------------------------------------------------


class Counting(PlanSource):
    """A list's source logging every ``source[i]`` and ``release(i)`` by position."""

    def __init__(self, plans):
        super().__init__(plans)
        self.calls: list[tuple[str, int]] = []

    def __getitem__(self, i):
        self.calls.append(("get", i))
        return super().__getitem__(i)

    def release(self, i):
        self.calls.append(("release", i))
        super().release(i)


def test_the_controller_asks_for_the_next_plan_before_a_layer_and_releases_each_after_it():
    # layer indices 4, 6, 8 at positions 0, 1, 2: the controller asks and releases by position
    src = Counting([_plan(_layer(4 + 2 * i), 1, cycles=10) for i in range(3)])
    _, _, ctrl, _, _ = run(src)
    assert src.calls == [("get", 0), ("get", 1), ("release", 0), ("get", 1), ("get", 2), ("release", 1),
                         ("get", 2), ("release", 2)]
    assert ctrl.stages is None and [r.index for r in ctrl.layers] == [4, 6, 8]


def test_with_layer_pipelining_the_stages_keep_the_summaries_and_each_plan_is_released():
    # two independent one-tile layers on two cores: a pair (l0 on core 0, l1 on core 1), then l2 alone
    plans = [_plan(_layer(i, source=-1), 1, cycles=100) for i in range(3)]
    df = Table([1, 1, 1])
    df.plan_layer = lambda layer, inp, tiles=None: (df.calls.append((layer.name, inp)), plans[layer.index])[1]
    lazy = LazyPlans(df, keep_tiles=0)
    log = Log(lazy)
    _, _, ctrl, _, _ = run(lazy, cores=2, multicore="pipeline")
    assert [[(s.layer.index, c) for s, c in st] for st in ctrl.stages] == [[(0, (0,)), (1, (1,))], [(2, (0, 1))]]
    assert all(s is lazy.summaries[s.layer.index] for st in ctrl.stages for s, _ in st)
    # every plan made once and released once, each stage's after it ran, the next stage's decided first
    assert log.events == [("made", 0), ("made", 1), ("made", 2), ("released", 0), ("released", 1),
                          ("released", 2)]
    assert lazy.held == [] and lazy.replanned == 3


def test_with_layer_pipelining_no_layer_makes_no_stage():
    end, _, ctrl, _, _ = run([], cores=2, multicore="pipeline")
    assert end == 0 and ctrl.stages == [] and ctrl.layers == [] and ctrl.done.triggered


def test_each_layers_prefetch_goes_to_the_private_instances_its_own_tiles_read():
    # two cores; levels: the shared GLB, then a private buffer pb (pb_0, pb_1). Layer 0's fill (pb at 1000) is
    # read by its tile 0 (core 0), layer 1's (pb at 3000) by its tile 1 (core 1); the other tile of each
    # layer streams its weights from DRAM. Each fill is written into that core's instance alone: the
    # readers come from each layer's own schedule (layer 1's is decided while layer 0 runs)
    def pb(addr):
        return Move(W, 64, False, 0, addr, level=1)

    fills = [Move(W, 64, True, 512, 1000, level=1), Move(W, 64, True, 2048, 3000, level=1)]
    plans = [LayerPlan(layer=_layer(0), prologue=[fills[0]], resident_bytes={1: 64},
                       tiles=[tile(0, [pb(1000)]), tile(1, [dram(W, 64, 4096)])]),
             LayerPlan(layer=_layer(1), prologue=[fills[1]], resident_bytes={1: 64},
                       tiles=[tile(0, [dram(W, 64, 8192)]), tile(1, [pb(3000)])])]
    _, _, ctrl, sink, _ = run(plans, levels=("glb", ("pb_0", "pb_1")), cores=2, chunk=64, outstanding=1)
    fill_writes = [(h[0], h[3], h[5]) for h in sink.hops if h[0].startswith("pb") and h[1] == "write" and h[6] == -1]
    assert fill_writes == [("pb_0", 1000, 0), ("pb_1", 3000, 1)]
    assert [ctrl._readers(li, mv) for li, mv in enumerate(fills)] == [(0,), (1,)]  # a list's plans: still held
