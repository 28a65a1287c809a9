"""The compute step's L1 hops booked in one C call (session 34): ``Controller._book_hop`` does what
:meth:`Recorder.booked` does for a hop on an SRAM or the NoC when every sink needs only a hop's layer
(the same id taken, booking, counts, sink call, completion and flow), without its lookups by name.
Two identical rigs (tests/hw/test_controller_block_booking_s17.py), the same hops booked one way and
the other, must end in the same state."""

from __future__ import annotations

from tests.hw.test_controller_block_booking_s17 import Full, Handed, build
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.controller import _BOOK_NOC, _BOOK_OTHER, _BOOK_SRAM, _book_kind

W, S, O = DataClass.WEIGHTS, DataClass.SPIKES, DataClass.OUT_SPIKES
P = 2000  # the rig's clock period (ps)

# (component, command, data class, address, bytes, source, destination, start ps, layer): an L1 read and
# write overlapping in time (the second waits for the port), a GLB read, a NoC hop, another layer
HOPS = [("l1", Cmd.READ, S, 0, 512, "l1", "pe_array", 0, 3), ("l1", Cmd.WRITE, O, 4096, 256, "pe_array", "l1", 0, 3),
        ("glb", Cmd.READ, W, 128, 64, "glb", "noc", 10 * P, 3), ("noc", Cmd.WRITE, W, 0, 64, "glb", "l1", 12 * P, 3),
        ("l1", Cmd.READ, DataClass.NONE, 0, 96, "l1", "pe_array", 20 * P, 4)]


def _state(env, rec, ctrl, sink):
    for comp in rec.components.values():
        comp.flush_busy(env.now)
    return (rec.issued, rec.completed, sorted(rec.flows.items()), {n: dict(s.c.items()) for n, s in rec.stats.items()},
            sorted(rec.stalls.entries.items()), sink.log, sink.tails)


def test_book_hop_leaves_what_recorder_booked_leaves():
    a, b = Handed(), Handed()
    env_a, rec_a, ctrl_a = build([a])
    env_b, rec_b, ctrl_b = build([b])
    ends_a, ends_b = [], []
    for name, cmd, dc, addr, n, s, d, t, layer in HOPS:
        comp_a, comp_b = rec_a.components[name], rec_b.components[name]
        ends_a.append(rec_a.booked(comp_a, cmd, dc, addr, n, s, d, t, layer, 7, -1))
        kind = _book_kind(comp_b)
        assert kind == (_BOOK_NOC if name == "noc" else _BOOK_SRAM)
        ends_b.append(ctrl_b._book_hop(comp_b, kind, cmd, dc, addr, n, s, d, t, layer, rec_b.layer_sinks))
    assert ends_b == ends_a
    assert ends_a[1] > ends_a[0] > 0  # the write waited for the read's port: a stall was counted
    assert _state(env_b, rec_b, ctrl_b, b) == _state(env_a, rec_a, ctrl_a, a)
    assert rec_b.issued == rec_b.completed == len(HOPS)
    assert rec_b.flows[("l1", "pe_array", int(S), 3)] == 512 and rec_b.flows[("l1", "pe_array", int(DataClass.NONE), 4)] == 96
    assert b.log[:2] == [("l1", 3), ("l1", 3)] and b.log[-1] == ("l1", 4)


def test_a_stand_in_level_is_not_booked_by_book_hop():
    _env, rec, _ctrl = build([Handed()], glb_stand_in=True)
    assert _book_kind(rec.components["glb"]) == _BOOK_OTHER  # the compute step then calls Recorder.booked


def test_the_compute_steps_l1_hops_are_booked_counted_and_handed_on():
    # one tile on real SRAMs with a layer-only sink (the compute step books its L1 read and write with
    # _book_hop): it loads 64 spike bytes resident in the GLB, computes, stores 8 output bytes into the
    # GLB. L1 is handed four hops of layer 0 (the load's write, the array's read, its write, the store's
    # read); the flows name the PE array; the same state as with a sink that reads every transaction
    from tests.hw.test_controller import LAYER
    from tlmsim.engine.plan import LayerPlan, Move, Tile
    from tlmsim.hw.controller import Controller

    def run(sink):
        env, rec, ctrl0 = build([sink])
        tiles = [Tile(index=0, t_first=0, t_last=0, compute_cycles=10,
                      loads=[Move(S, 64, False, 0, 8192, level=0)], stores=[Move(O, 8, False, 0, 16384, level=0)])]
        ctrl = Controller(name="controller2", env=env, recorder=rec, dram=ctrl0.dram, noc=ctrl0.noc,
                          levels=ctrl0.levels, l1=ctrl0.l1s, pe=ctrl0.pes, plans=[LayerPlan(layer=LAYER, tiles=tiles)],
                          chunk_bytes=256, outstanding=2, double_buffered=True)
        env.run(until=ctrl.done)
        return env, rec

    sink = Handed()
    env, rec = run(sink)
    assert rec.layer_sinks is not None and sink.log.count(("l1", 0)) == 4
    assert rec.flows[("l1", "pe_array", int(S), 0)] == 64 and rec.flows[("pe_array", "l1", int(O), 0)] == 8
    assert rec.stats["l1"].c["read_bytes"] == 64 + 8 and rec.stats["l1"].c["write_bytes"] == 64 + 8
    full = Full()
    env2, rec2 = run(full)
    assert rec2.layer_sinks is None  # hop by hop through Recorder.booked
    assert sorted(rec2.flows.items()) == sorted(rec.flows.items()) and rec2.issued == rec.issued
    assert env2.now == env.now and {n: dict(s.c.items()) for n, s in rec2.stats.items()} == {
        n: dict(s.c.items()) for n, s in rec.stats.items()}
