"""tlmsim/dataflow/weights.py by hand: the nonzero counts of a layer's K x N weight
blocks (rows of a column block, folds of plain and compacted rows), their dtype, the
cache, the dense case and the refused mask shape, with hand-counted exact values."""

import numpy as np
import pytest

from tlmsim.dataflow.weights import WeightBlocks


def _mask() -> np.ndarray:
    # K = 5 rows x N = 4 columns; nonzeros marked 1:
    #   row 0: 1 0 0 1   (2)
    #   row 1: 0 1 1 0   (2)
    #   row 2: 0 0 0 0   (0)
    #   row 3: 1 1 1 1   (4)
    #   row 4: 0 0 1 0   (1)
    return np.array([[1, 0, 0, 1], [0, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 1, 0]], dtype=bool)


def test_a_mask_of_another_shape_is_refused_with_both_shapes():
    with pytest.raises(ValueError) as e:
        WeightBlocks(np.zeros((4, 5), dtype=bool), 5, 4)
    assert str(e.value) == "weight mask of shape (4, 5), expected (5, 4)"
    # the same element count in another shape, and one dimension right: still refused
    with pytest.raises(ValueError, match=r"^weight mask of shape \(5, 3\), expected \(5, 4\)$"):
        WeightBlocks(np.zeros((5, 3), dtype=bool), 5, 4)
    # no mask (dense) needs no shape
    assert WeightBlocks(None, 5, 4).mask is None


def test_dense_and_total():
    b = WeightBlocks(_mask(), 5, 4)
    assert (b.K, b.N, b.dense, b.total()) == (5, 4, False, 9)
    assert type(b.total()) is int
    d = WeightBlocks(None, 5, 3)
    assert (d.dense, d.total()) == (True, 15)  # K x N, not K + N or K / N
    assert type(d.total()) is int
    # a mask with every weight nonzero is still a mask (not "dense"): its count is K x N
    full = WeightBlocks(np.ones((2, 3), dtype=bool), 2, 3)
    assert (full.dense, full.total()) == (False, 6)
    # an all-zero mask: 0
    assert WeightBlocks(np.zeros((2, 3), dtype=bool), 2, 3).total() == 0


def test_row_counts_of_a_column_block():
    b = WeightBlocks(_mask(), 5, 4)
    # columns [1, 3): row 0: 0, row 1: 2, row 2: 0, row 3: 2, row 4: 1
    r = b.row_counts(1, 2)
    assert r.tolist() == [0, 2, 0, 2, 1] and r.dtype == np.int64 and r.shape == (5,)
    # columns [0, 4): the row sums
    assert b.row_counts(0, 4).tolist() == [2, 2, 0, 4, 1]
    # column [3, 4): one column
    assert b.row_counts(3, 1).tolist() == [1, 0, 0, 1, 0]
    # columns [2, 4)
    assert b.row_counts(2, 2).tolist() == [1, 1, 0, 2, 1]
    d = WeightBlocks(None, 3, 8)
    r = d.row_counts(2, 5)
    assert r.tolist() == [5, 5, 5] and r.dtype == np.int64


def test_row_counts_are_cached_per_column_block():
    b = WeightBlocks(_mask(), 5, 4)
    first = b.row_counts(1, 2)
    assert b.row_counts(1, 2) is first  # the same array: computed once
    assert set(b._rows) == {(1, 2)}
    # another block (same n0, other width; other n0, same width) is its own entry
    assert b.row_counts(1, 3).tolist() == [1, 2, 0, 3, 1]  # row 0: 0 0 1; row 4: 0 1 0
    assert b.row_counts(0, 2).tolist() == [1, 1, 0, 2, 0]
    assert set(b._rows) == {(1, 2), (1, 3), (0, 2)}
    assert b.row_counts(1, 2).tolist() == [0, 2, 0, 2, 1]
    d = WeightBlocks(None, 3, 8)
    assert d.row_counts(0, 4) is d.row_counts(0, 4)


def test_fold_counts_of_plain_folds():
    b = WeightBlocks(_mask(), 5, 4)
    # folds rows [0, 2), [2, 4), [4, 5), all columns: 2 + 2, 0 + 4, 1
    f = b.fold_counts(None, np.array([0, 2, 4, 5]), 0, 4)
    assert f.tolist() == [4, 4, 1] and f.dtype == np.int64
    # folds starting at row 1: [1, 3), [3, 5); columns [1, 3): 2 + 0, 2 + 1
    assert b.fold_counts(None, np.array([1, 3, 5]), 1, 2).tolist() == [2, 3]
    # one fold of every row, columns [2, 4): 1 + 1 + 0 + 2 + 1
    assert b.fold_counts(None, np.array([0, 5]), 2, 2).tolist() == [5]
    # an empty fold in the middle
    assert b.fold_counts(None, np.array([0, 3, 3, 5]), 0, 4).tolist() == [4, 0, 5]


def test_fold_counts_of_compacted_rows():
    b = WeightBlocks(_mask(), 5, 4)
    # fold 0 holds rows (3, 0), fold 1 rows (4,), fold 2 rows (1, 2); all columns
    f = b.fold_counts(np.array([3, 0, 4, 1, 2]), np.array([0, 2, 3, 5]), 0, 4)
    assert f.tolist() == [6, 1, 2] and f.dtype == np.int64
    # rows (4, 1) then (3,), columns [0, 2): row 4: 0, row 1: 1, row 3: 2
    assert b.fold_counts(np.array([4, 1, 3]), np.array([0, 2, 3]), 0, 2).tolist() == [1, 2]
    # the order is not the plain one: the plain rows 0-1 and 2 would give [4, 0]
    assert b.fold_counts(np.array([3, 0, 2]), np.array([0, 2, 3]), 0, 4).tolist() == [6, 0]


def test_fold_counts_dense():
    d = WeightBlocks(None, 7, 6)
    # rows per fold 3, 3, 1 times the 4 columns of the block
    f = d.fold_counts(None, np.array([0, 3, 6, 7]), 2, 4)
    assert f.tolist() == [12, 12, 4] and f.dtype == np.int64
    # compacted rows: only the fold sizes count (2 and 1 rows), times 5 columns
    assert d.fold_counts(np.array([6, 2, 4]), np.array([0, 2, 3]), 0, 5).tolist() == [10, 5]
    # folds starting at row 2
    assert d.fold_counts(None, np.array([2, 7]), 0, 6).tolist() == [30]


def test_no_fold_has_no_count():
    for b in (WeightBlocks(_mask(), 5, 4), WeightBlocks(None, 5, 4)):
        for starts in (np.array([0]), np.array([3])):
            f = b.fold_counts(None, starts, 0, 4)
            assert f.shape == (0,) and f.dtype == np.int64
    # no fold reads no row: nothing is cached
    b = WeightBlocks(_mask(), 5, 4)
    b.fold_counts(None, np.array([2]), 0, 4)
    assert b._rows == {}
    # a single fold is not "no fold"
    assert WeightBlocks(_mask(), 5, 4).fold_counts(None, np.array([0, 1]), 0, 4).tolist() == [2]


def test_counts_are_int64_whatever_the_integer_types_they_are_given():
    # the documented dtype holds for a column count given as a numpy int32 (np.full would take its type)
    d = WeightBlocks(None, 3, 8)
    r = d.row_counts(np.int32(1), np.int32(5))
    assert r.tolist() == [5, 5, 5] and r.dtype == np.int64
    # and for a 0/1 mask of uint8 (as np.unpackbits gives; its plain sum would be uint64)
    b = WeightBlocks(_mask().astype(np.uint8), 5, 4)
    r = b.row_counts(1, 2)
    assert r.tolist() == [0, 2, 0, 2, 1] and r.dtype == np.int64
    assert b.total() == 9
    f = b.fold_counts(None, np.array([0, 2, 4, 5]), 0, 4)
    assert f.tolist() == [4, 4, 1] and f.dtype == np.int64
