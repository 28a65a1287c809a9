"""spikex's stream and tag rules by hand (tlmsim/dataflow/spikex.py): packing in time and
in space at their thresholds (p = 2 column groups, 2 windows, 2 pixels), ties that must
keep one weight copy, each packing mode alone, the closed form without skipping, and
the group and row tags of a tile that starts past the first row group."""

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.ws import ChunkFolds
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def _spikex(tmp_path, T: int, *sets, K: int = 7):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: s\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n"
                 f"  - {{name: fc, op: linear, in_shape: [{K}], out_features: 3, neuron: lif}}\n")
    wl = load_workload(f, seed=0)
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=spikex", "pe_array.rows=2",
                                                       "pe_array.cols=2", *sets]), wl)
    return df, wl.layers[0]


def _dense_chunk(mm: int) -> ChunkFolds:
    """One fold of a chunk of ``mm`` pixels, every element active (no skipping)."""
    return ChunkFolds(0, mm, None, np.array([0, 2]), None, None)


@pytest.mark.parametrize("T, window, packing, mm, p, expected", [
    (2, 1, "none", 2, 2, (4, 1)),   # T x mm = 4 cycles, one copy
    (4, 2, "space", 1, 2, (4, 1)),  # time packing not allowed; one pixel: no space packing
    (4, 2, "time", 3, 2, (6, 2)),   # 2 windows on p = 2 groups: W x 1 x mm = 6 < 12
    (6, 2, "time", 3, 2, (12, 2)),  # 3 windows on 2 groups: 2 x ceil(3 / 2) x 3 = 12 < 18
    (4, 4, "time", 3, 2, (12, 1)),  # one window: nothing to pack in time; space not allowed
    (4, 2, "space", 2, 2, (4, 2)),  # 2 pixels on 2 groups: T x 1 = 4 < 8
    (4, 2, "space", 3, 2, (8, 2)),  # 3 pixels on 2 groups: T x ceil(3 / 2) = 8 < 12
    (4, 2, "auto", 3, 2, (6, 2)),   # time (6) beats space (8)
    (4, 2, "auto", 3, 1, (12, 1)),  # one column group: no packing
])
def test_closed_form_stream_without_skipping(tmp_path, T, window, packing, mm, p, expected):
    df, _ = _spikex(tmp_path, T, f"dataflow.time_window={window}", f"dataflow.packing={packing}",
                    "dataflow.zero_skip=false")
    cycles, copies = df._stream_table(_dense_chunk(mm), p)
    assert (int(cycles[0]), int(copies[0])) == expected


def _active_chunk() -> ChunkFolds:
    # 2 windows x 2 pixels x 3 folds:
    # fold 0: only (window 0, pixel 0); fold 1: pixel 0 in both windows; fold 2: both pixels in window 0
    act = np.zeros((2, 2, 3), dtype=bool)
    act[0, 0, 0] = True
    act[:, 0, 1] = True
    act[0, :, 2] = True
    return ChunkFolds(0, 2, None, np.array([0, 2, 4, 6]), np.zeros((4, 2, 3), dtype=np.int64), act)


def test_packing_with_activity_and_ties_that_keep_one_copy(tmp_path):
    # T = 4, W = 2 (window lengths 2, 2), p = 2 column groups, packing auto
    df, _ = _spikex(tmp_path, 4, "dataflow.time_window=2", "dataflow.packing=auto")
    cycles, copies = df._stream_table(_active_chunk(), 2)
    # fold 0: one element, 2 cycles; time packing 2 x ceil(1 / 2) = 2 and space 2 x ceil(1 / 2) = 2
    #   only tie: no copy. fold 1: unpacked 2 + 2 = 4; in time 2 x ceil(2 / 2) = 2 (space: 4).
    #   fold 2: unpacked 2 x 2 = 4; in space 2 x ceil(2 / 2) = 2 (time: 2 x (1 + 1) = 4)
    assert cycles.tolist() == [2, 2, 2] and copies.tolist() == [1, 2, 2]
    # one column group (a fold as wide as the array): the unpacked streams
    cycles, copies = df._stream_table(_active_chunk(), 1)
    assert cycles.tolist() == [2, 4, 4] and copies.tolist() == [1, 1, 1]


@pytest.mark.parametrize("packing, expected", [("time", ([2, 2, 4], [1, 2, 1])), ("space", ([2, 4, 2], [1, 1, 2])),
                                               ("none", ([2, 4, 4], [1, 1, 1]))])
def test_each_packing_mode_alone(tmp_path, packing, expected):
    df, _ = _spikex(tmp_path, 4, "dataflow.time_window=2", f"dataflow.packing={packing}")
    cycles, copies = df._stream_table(_active_chunk(), 2)
    assert (cycles.tolist(), copies.tolist()) == expected


def test_a_narrower_channel_block_packs_with_its_own_column_groups(tmp_path):
    # the same chunk serves a full block (nc = 2 = C: p = 1) and a last block of 1 channel (p = 2)
    df, _ = _spikex(tmp_path, 4, "dataflow.time_window=2", "dataflow.packing=auto")
    cf = _active_chunk()
    assert df._fold_stream(cf, 1, 0, 2, 2) == (4, 1)
    assert df._fold_stream(cf, 1, 0, 2, 1) == (2, 2)
    assert df._fold_stream(cf, 1, 0, 2, 2) == (4, 1)


def test_tags_of_a_tile_past_the_first_row_group(tmp_path):
    # K = 7 rows in R = 2 row groups {0,1} {2,3} {4,5} {6}; groups 0, 2 and 3 hold an active row.
    # A tile over rows [2, 7): groups 1-3 -> 3 group tags, row tags of its active groups 2 (2 rows)
    # and 3 (1 row): 3 + 3 = 6 bits moved; read: those and one zero-detect per element of its
    # 2 folds x 2 pixels x 2 windows = 8 -> 14
    df, layer = _spikex(tmp_path, 4, "dataflow.time_window=2")
    cf = ChunkFolds(0, 2, np.array([0, 4, 6]), np.array([0, 2, 3]), None, None,
                    row_groups=np.array([True, False, True, True]))
    read, moved = df._tile_tags(cf, layer, np.array([2]), np.array([7]), np.array([8]))
    assert (read.tolist(), moved.tolist()) == ([14], [6])
    # tiles over [0, 2), [2, 5) and [5, 7) at once (1, 2 and 1 folds of 2 pixels x 2 windows read):
    # group 0 (active: its 2 rows) -> 1 + 2 = 3 moved; groups 1-2 -> 2 + 2 (group 2) = 4; groups 2-3 ->
    # 2 + 2 + 1 = 5
    read, moved = df._tile_tags(cf, layer, np.array([0, 2, 5]), np.array([2, 5, 7]), np.array([4, 8, 4]))
    assert (read.tolist(), moved.tolist()) == ([7, 12, 9], [3, 4, 5])
    # the whole range: 4 group tags + rows 2 + 2 + 1 = 9 moved
    read, moved = df._tile_tags(cf, layer, np.array([0]), np.array([7]), np.array([8]))
    assert (read.tolist(), moved.tolist()) == ([17], [9])
