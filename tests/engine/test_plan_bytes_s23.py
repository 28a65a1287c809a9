"""A tile's load and store bytes by hand (tlmsim/engine/plan.py, session 23: loops instead of a sum over a
generator): the sum of its moves' bytes, 0 without a move."""

from tlmsim.engine.plan import Move, Tile
from tlmsim.engine.transaction import DataClass


def _tile(loads, stores):
    return Tile(0, 0, 0, [Move(DataClass.WEIGHTS, n, True) for n in loads],
                [Move(DataClass.OUT_SPIKES, n, True) for n in stores], 10)


def test_load_and_store_bytes_sum_the_moves():
    t = _tile([3, 5, 7], [4])
    assert (t.load_bytes, t.store_bytes) == (15, 4)
    t = _tile([9], [2, 6])
    assert (t.load_bytes, t.store_bytes) == (9, 8)


def test_a_tile_without_moves_has_no_bytes():
    assert (_tile([], []).load_bytes, _tile([], []).store_bytes) == (0, 0)
