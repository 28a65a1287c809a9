"""Which components a block plan books with a C-level ``book`` call (session 28, ``_book_kind``): the
SRAM and the NoC; a stand-in whose ``book`` is None, or any other component, gets none (its
blocks are booked hop by hop through the recorder)."""

from __future__ import annotations

import simpy

from tests.hw.test_controller import Fixed
from tests.hw.test_noc_by_hand import LINE
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd
from tlmsim.hw import controller as ctl
from tlmsim.hw.noc import Noc
from tlmsim.hw.sram import Sram
from tlmsim.platform import load_platform
from tlmsim.platform.noc import NocConfig


def test_book_kinds():
    env, rec = simpy.Environment(), Recorder()
    plat = load_platform("ddr4-baseline", [])
    noc = Noc(name="noc", env=env, recorder=rec, config=NocConfig(**LINE), accel_clock_mhz=500)
    assert ctl._book_kind(noc) == ctl._BOOK_NOC == 2
    fixed = Fixed(name="f", env=env, recorder=rec, latency_ps=1)
    assert ctl._book_kind(fixed) == ctl._BOOK_OTHER == 0
    assert ctl._book_kind(object()) == ctl._BOOK_OTHER

    class Booking(Fixed):  # a component with a book that is neither an SRAM nor the NoC
        def book(self, *args):
            return 0, 0

    assert ctl._book_kind(Booking(name="b", env=env, recorder=Recorder(), latency_ps=1)) == ctl._BOOK_OTHER

    class NoBook(Noc):
        book = None

    nb = NoBook(name="nb", env=env, recorder=Recorder(), config=NocConfig(**LINE), accel_clock_mhz=500)
    assert ctl._book_kind(nb) == ctl._BOOK_OTHER
    sram = next(c for c in _components(plat).values() if isinstance(c, Sram))
    assert ctl._book_kind(sram) == ctl._BOOK_SRAM == 1


def _components(plat):
    from tlmsim.soc.run import simulate
    from tlmsim.workload import load_workload

    return simulate(plat, load_workload("digits-snn", seed=0), seed=0).components


def test_book_end_returns_the_end_of_the_components_own_booking():
    env, rec = simpy.Environment(), Recorder()
    noc = Noc(name="noc", env=env, recorder=rec, config=NocConfig(**LINE), accel_clock_mhz=500)
    # e0 -> e2, 64 B = 4 flits at 0 (tests/hw/test_noc_one_link_s17.py): the tail arrives at cycle 10
    assert ctl._book_end(noc, ctl._BOOK_NOC, Cmd.WRITE, 0, 64, "e0", "e2", 0, 0) == 10 * 1000
    assert noc.stats.c["transfers"] == 1


def test_a_subclass_with_its_own_book_is_booked_through_it():
    """Session 31: ``_book_end`` calls the SRAM's or the NoC's ``book`` through the class (in the compiled
    build a C call without the lookup for a Python override), so a subclass that books its own way gets
    no such kind: its blocks go hop by hop, through its own ``book``."""
    env, rec = simpy.Environment(), Recorder()
    calls = []

    class CountingNoc(Noc):
        def book(self, *args):
            calls.append(args[1:3])
            return Noc.book(self, *args)

    noc = CountingNoc(name="noc", env=env, recorder=rec, config=NocConfig(**LINE), accel_clock_mhz=500)
    assert ctl._book_kind(noc) == ctl._BOOK_OTHER
    sram_cls = type(next(c for c in _components(load_platform("ddr4-baseline", [])).values() if isinstance(c, Sram)))

    class OwnSram(sram_cls):
        def book(self, *args):
            return super().book(*args)

    assert OwnSram.book is not Sram.book and ctl._book_kind(OwnSram.__new__(OwnSram)) == ctl._BOOK_OTHER
    # the recorder's hop-by-hop booking reaches the subclass's own book
    assert rec.booked(noc, Cmd.WRITE, 1, 0, 64, "e0", "e2", 0, 0, -1, -1) == 10 * 1000
    assert calls == [(0, 64)]
