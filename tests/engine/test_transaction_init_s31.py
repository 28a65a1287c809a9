"""Transaction's ``__init__`` written out (session 31; the dataclass's own is made by ``exec`` and
stays Python bytecode in the compiled build; session 32: a record, an extension type in the compiled
build): every field from its argument, by position or by name, the defaults the dataclass declared,
and equality by identity as the dataclass's ``eq=False`` gave it."""

from __future__ import annotations

import pytest

from tlmsim.engine.transaction import Cmd, DataClass, Transaction

FIELDS = ("id", "cmd", "data_class", "address", "nbytes", "source", "destination", "layer", "tile", "t_first",
          "t_last", "cycles", "issued_ps", "done_ps", "data", "chain")


def test_every_field_is_set_from_its_argument_by_position():
    values = (7, Cmd.WRITE, DataClass.PSUM, 4096, 256, "noc", "glb", 3, 11, 1, 2, 40, 1500, 2500, b"x", 9)
    t = Transaction(*values)
    assert tuple(getattr(t, f) for f in FIELDS) == values
    assert Transaction.__slots__ == FIELDS


def test_every_field_is_set_from_its_argument_by_name():
    values = {"id": 1, "cmd": Cmd.READ, "data_class": DataClass.SPIKES, "address": 64, "nbytes": 32, "source": "dram",
              "destination": "noc", "layer": 5, "tile": 6, "t_first": 7, "t_last": 8, "cycles": 9, "issued_ps": 10,
              "done_ps": 11, "data": [1], "chain": 12}
    t = Transaction(**values)
    assert {f: getattr(t, f) for f in FIELDS} == values


def test_the_defaults_are_the_declared_ones():
    t = Transaction(0, Cmd.COMPUTE, DataClass.NONE, 0, 0, "pe", "pe")
    assert (t.layer, t.tile, t.t_first, t.t_last, t.cycles, t.issued_ps, t.done_ps, t.data, t.chain) == (
        -1, -1, 0, 0, 0, -1, -1, None, -1)
    assert not hasattr(t, "__dict__")  # slots, as the dataclass made them
    with pytest.raises(TypeError):
        Transaction(0, Cmd.COMPUTE, DataClass.NONE, 0, 0, "pe")  # destination has no default


def test_a_transaction_equals_only_itself_and_hashes_by_identity():
    a, b = (Transaction(3, Cmd.READ, DataClass.SPIKES, 0, 64, "dram", "noc") for _ in range(2))
    assert a.__eq__(a) is True and a != b and len({a, b}) == 2 and hash(a) != hash(b)
    assert repr(a) == "Transaction(#3 read spikes 64B @0x0 dram->noc L-1 T-1)"
