"""The recorder's flow slots (session 31): the controller's block bookings add a block's bytes
into an int64 slot per flow key (:meth:`Recorder.flow_slot`) instead of the flows dict, and
:attr:`Recorder.flows` adds the slots in when it is read. The dict must then hold exactly what
the per-hop additions gave: the same keys (none with 0 bytes), the same sums, whenever it is read
and however often."""

from __future__ import annotations

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass, Transaction

W, S = int(DataClass.WEIGHTS), int(DataClass.SPIKES)


def test_a_key_has_one_slot_numbered_in_order_of_first_use():
    rec = Recorder()
    assert rec.flow_slot(("glb", "noc", W, 0)) == 0
    assert rec.flow_slot(("noc", "l1", W, 0)) == 1
    assert rec.flow_slot(("glb", "noc", W, 0)) == 0
    assert rec.flow_slot(("glb", "noc", W, 1)) == 2  # another layer: another key
    assert len(rec._flow_v) >= 3 and list(rec._flow_v[:3]) == [0, 0, 0]


def test_flows_adds_the_slots_in_once_and_empties_them():
    rec = Recorder()
    a, b = rec.flow_slot(("glb", "noc", W, 0)), rec.flow_slot(("noc", "l1", W, 0))
    rec._flow_v[a] += 64
    rec._flow_v[a] += 64
    rec._flow_v[b] += 32
    assert rec.flows == {("glb", "noc", W, 0): 128, ("noc", "l1", W, 0): 32}
    assert list(rec._flow_v[:2]) == [0, 0]
    assert rec.flows == {("glb", "noc", W, 0): 128, ("noc", "l1", W, 0): 32}  # read again: not added twice
    rec._flow_v[b] += 8
    assert rec.flows[("noc", "l1", W, 0)] == 40


def test_a_slot_that_booked_nothing_adds_no_key():
    rec = Recorder()
    rec.flow_slot(("glb", "noc", S, 2))
    k = rec.flow_slot(("noc", "l1", S, 2))
    rec._flow_v[k] += 16
    assert rec.flows == {("noc", "l1", S, 2): 16}


def test_slots_and_the_per_hop_additions_sum_into_one_dict():
    """A key booked both ways (a block plan's slot and a hop by hop ``booked``/``complete``) holds
    the sum; the dict a caller got and changed stays the recorder's."""
    rec = Recorder()
    k = rec.flow_slot(("dram", "noc", W, 0))
    rec._flow_v[k] += 4096
    txn = Transaction(0, Cmd.READ, DataClass.WEIGHTS, 0, 1024, "dram", "noc", 0)
    rec.complete(txn, 10)
    flows = rec.flows
    assert flows == {("dram", "noc", W, 0): 5120}
    flows[("x", "y", W, 0)] = 7  # a caller may change it (tests do)
    rec._flow_v[k] += 1
    assert rec.flows == {("dram", "noc", W, 0): 5121, ("x", "y", W, 0): 7}


def test_the_slots_grow_and_keep_their_bytes():
    """More keys than the first array holds: it is replaced by a bigger one holding the same
    bytes (a typed view of the old one, held while a block books, never sees the new keys)."""
    rec = Recorder()
    first = len(rec._flow_v)
    slots = [rec.flow_slot(("m", "noc", W, layer)) for layer in range(first)]
    for i in slots:
        rec._flow_v[i] += i + 1
    more = rec.flow_slot(("m", "noc", W, first))
    assert more == first and len(rec._flow_v) == 2 * first
    # int64, as the first: the compiled controller reads it through a typed view of long longs (in that build
    # Python sees the view, whose base is the array)
    assert getattr(rec._flow_v, "base", rec._flow_v).typecode == "q"
    rec._flow_v[more] += 1000
    assert list(rec._flow_v[:first]) == [i + 1 for i in range(first)]
    assert rec.flows == {**{("m", "noc", W, layer): layer + 1 for layer in range(first)}, ("m", "noc", W, first): 1000}
