"""Move and Tile are records written out (session 32), not dataclasses, so that the compiled build makes
them extension types: these tests hold them to what the dataclasses gave (construction by position and
by name with the same defaults, equality, repr, no hash, a copy with changes) in whichever build runs."""

from __future__ import annotations

import copy

import pytest

from tlmsim.engine.plan import Move, Tile
from tlmsim.engine.transaction import DataClass


def _move(**kw):
    return Move(DataClass.WEIGHTS, 64, False, 4096, 128, **kw)


def test_a_move_takes_its_fields_by_position_and_by_name_with_the_dataclass_defaults():
    m = Move(DataClass.SPIKES, 10, True)
    assert (m.data_class, m.nbytes, m.in_dram, m.dram_address, m.level_address, m.after, m.signals,
            m.level_span, m.level) == (DataClass.SPIKES, 10, True, 0, 0, None, None, 0, -1)
    full = Move(DataClass.PSUM, 5, False, 1, 2, (0, "a"), (1, "b"), 7, 3)
    named = Move(level=3, level_span=7, signals=(1, "b"), after=(0, "a"), level_address=2, dram_address=1,
                 in_dram=False, nbytes=5, data_class=DataClass.PSUM)
    assert full == named
    with pytest.raises(TypeError):
        Move(DataClass.PSUM, 5)  # in_dram has no default
    with pytest.raises(TypeError):
        Move(DataClass.PSUM, 5, True, colour=1)


def test_moves_are_equal_field_by_field_and_never_hashable():
    assert _move() == _move() and _move() != _move(level=1) and _move() != _move(after=(0,))
    assert _move().__eq__(("not", "a", "move")) is NotImplemented and _move() != 3
    with pytest.raises(TypeError, match="unhashable"):
        hash(_move())


def test_a_moves_repr_is_the_dataclasses():
    assert repr(Move(DataClass.WEIGHTS, 64, True, level=2)) == (
        "Move(data_class=<DataClass.WEIGHTS: 1>, nbytes=64, in_dram=True, dram_address=0, level_address=0, "
        "after=None, signals=None, level_span=0, level=2)")


def test_replace_copies_with_the_changes_and_refuses_an_unknown_field():
    m = _move(after=(0, "x"))
    r = m.replace(nbytes=8, level=1)
    assert r is not m and (r.nbytes, r.level, r.after, r.dram_address) == (8, 1, (0, "x"), 4096)
    assert m.nbytes == 64 and m.level == -1  # the original is unchanged
    assert m.replace() == m and m.replace() is not m
    with pytest.raises(TypeError):
        m.replace(colour=1)


def test_a_tile_takes_its_fields_with_the_dataclass_defaults_and_sums_its_moves():
    loads, stores = [_move(), Move(DataClass.SPIKES, 36, True)], [Move(DataClass.OUT_SPIKES, 5, True)]
    t = Tile(3, 0, 1, loads, stores, 40)
    assert (t.index, t.t_first, t.t_last, t.loads, t.stores, t.compute_cycles) == (3, 0, 1, loads, stores, 40)
    assert (t.neuron_cycles, t.dense_ops, t.acc_ops, t.neuron_updates, t.pe_weight_loads, t.tag_bits, t.neuron,
            t.keeps_state, t.region) == (0, 0, 0, 0, 0, 0, None, False, None)
    assert t.load_bytes == 100 and t.store_bytes == 5
    assert Tile(0, 0, 0, [], [], 1).load_bytes == 0
    assert Tile(index=3, t_first=0, t_last=1, loads=loads, stores=stores, compute_cycles=40) == t


def test_tiles_compare_repr_and_replace_as_dataclasses():
    t = Tile(1, 2, 3, [], [], 9, neuron="lif", region=("pool", 0, 0, 4))
    assert t == Tile(1, 2, 3, [], [], 9, neuron="lif", region=("pool", 0, 0, 4)) and t != t.replace(tag_bits=1)
    assert repr(t) == ("Tile(index=1, t_first=2, t_last=3, loads=[], stores=[], compute_cycles=9, neuron_cycles=0, "
                       "dense_ops=0, acc_ops=0, neuron_updates=0, pe_weight_loads=0, tag_bits=0, neuron='lif', "
                       "keeps_state=False, region=('pool', 0, 0, 4))")
    with pytest.raises(TypeError, match="unhashable"):
        hash(t)
    u = t.replace(index=7, keeps_state=True)
    assert (u.index, u.keeps_state, u.t_first, u.neuron, u.region) == (7, True, 2, "lif", ("pool", 0, 0, 4))


def test_records_keep_what_they_are_given_and_copy():
    # no conversion: a float or a NumPy integer stays what it was
    import numpy as np

    m = Move(DataClass.WEIGHTS, np.int64(7), True, level_span=2.5)
    assert type(m.nbytes) is np.int64 and m.level_span == 2.5
    t = Tile(0, 0, 0, [m], [], 3)
    back = copy.deepcopy(t)  # through the reduce protocol pickling uses
    assert back == t and back is not t and back.loads[0] == m and back.loads[0] is not m
