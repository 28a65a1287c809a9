"""spikex without skipping (``zero_skip: false``) memoises like dense-ws: its stream rule then
follows from a tile's shape (``SpikeX._stream_by_shape``), so ``WsStreaming._steps`` memoises
tiles (any spike format: the spikes are read per tile) and, with bitmaps only (no activity),
whole output blocks. Compared with the same dataflow with both memos off, candidate by
candidate and plan by plan, on the workloads and platform settings of the planner's other
shortcut tests (packing, windows, compressed weights, several cores, a fold per block)."""

from __future__ import annotations

import pytest

from tests.dataflow.test_planning_shortcuts import (
    MIXED,
    ONE_FOLD,
    SETS,
    SILENT,
    _gemm_layers,
    _workload,
)
from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.spikex import SpikeX


class _Unmemoised(SpikeX):
    """spikex with both memos of WsStreaming._steps off."""

    def _stream_by_shape(self) -> bool:
        return False


@pytest.mark.parametrize("fmt", ["bitmap", "auto"])
@pytest.mark.parametrize("text", [MIXED, SILENT, ONE_FOLD])
@pytest.mark.parametrize("platform, sets", SETS)
def test_spikex_without_skipping_memoised_gives_the_unmemoised_steps_and_plan(tmp_path, text, platform, sets, fmt):
    from tlmsim.platform import load_platform

    wl = _workload(tmp_path, text)
    plat = load_platform(platform, ["dataflow.name=spikex", "dataflow.zero_skip=false", *sets,
                                    f"dataflow.spike_format={fmt}"])
    fast, slow = make_dataflow(plat, wl), _Unmemoised(platform=plat, workload=wl)
    assert type(fast) is SpikeX and fast._stream_by_shape() and not slow._stream_by_shape()
    for layer in _gemm_layers(wl):
        got, want = fast.gemm_candidates(layer), slow.gemm_candidates(layer)
        assert [c.label for c in got] == [c.label for c in want]
        assert [c.steps for c in got] == [c.steps for c in want]
    assert [(p.tiling, p.tiles, p.resident, p.levels) for p in fast.plan()] == \
           [(p.tiling, p.tiles, p.resident, p.levels) for p in slow.plan()]
