"""Sram.book when every late bank is free by the start (session 17, ctlPath): the booking
then took the closed form of an idle buffer (the late banks caught up with the floor), which
must be what the per-bank loop gives (since session 31 the model keeps every bank's free cycle
and books the banks an access touches in one loop: the same cycles). Hand-computed cycles; 4 banks of 16 B lines, 2 ports,
read latency 2, write latency 1, 1 ns clock (tests/hw/test_sram.py's ``make``)."""

from __future__ import annotations

from tests.hw.test_sram import NaiveBanks, P, make, txn
from tlmsim.engine.transaction import Cmd


def _pair(ops):
    """Book ``ops`` ((cmd, address, bytes, start ps), ...) on the model and on the per-bank
    reference; return the model, its ends, and the reference's ends and bank free times."""
    _env, rec, s = make(banks=4, ports=2, read_latency_cycles=2, write_latency_cycles=1)
    ref = NaiveBanks(4, 2, 16, 2, 1, P)
    ends = [s.reserve(txn(rec, cmd, a, n), t) for cmd, a, n, t in ops]
    ref_ends = [ref.reserve(cmd, a, n, t) for cmd, a, n, t in ops]
    return s, ends, ref_ends, ref.bank


def test_late_banks_free_by_the_start_book_as_an_idle_buffer():
    # write 80 B at 0: lines 0-4 -> q = 1, r = 1: banks 0-3 [0, 1), bank 0's extra line [1, 2): floor 1,
    # bank 0 late until 2, ends at (2 + 1 - 1) = 2 ns. Read 96 B at 32 from 5 ns (cycle 5 >= 2: bank 0
    # is free by then): lines 2-7 -> q = 1, r = 2 from bank 2: floor 6, banks 2 and 3 late until 7
    # (bank 0 no longer), ends at 7 + 2 - 1 = 8 ns
    s, ends, ref_ends, banks = _pair([(Cmd.WRITE, 0, 80, 0), (Cmd.READ, 32, 96, 5 * P)])
    assert ends == ref_ends == [2 * P, 8 * P]
    assert list(s._bank_free) == banks  # the model's own bank free cycles (session 31: one int64 array)
    assert banks == [6, 6, 7, 7]


def test_late_banks_free_by_the_start_clear_when_no_line_is_extra():
    # as above, then a 64 B read at 0 from 9 ns: lines 0-3 -> q = 1, r = 0: every bank [9, 10), no bank
    # is late any more (banks 2 and 3 were free from 7)
    s, ends, ref_ends, banks = _pair([(Cmd.WRITE, 0, 80, 0), (Cmd.READ, 32, 96, 5 * P), (Cmd.READ, 0, 64, 9 * P)])
    assert ends == ref_ends == [2 * P, 8 * P, 11 * P]
    assert list(s._bank_free) == banks  # the model's own bank free cycles (session 31: one int64 array)
    assert banks == [10] * 4


def test_a_late_bank_free_exactly_at_the_start_has_caught_up():
    # write 80 B at 0: bank 0 late until 2, floor 1. Write 64 B at 0 from 2 ns: s1 = 2 = bank 0's free
    # time: every bank [2, 3), none late; ends at 3 + 1 - 1 = 3 ns
    s, ends, ref_ends, banks = _pair([(Cmd.WRITE, 0, 80, 0), (Cmd.WRITE, 0, 64, 2 * P)])
    assert ends == ref_ends == [2 * P, 3 * P]
    assert list(s._bank_free) == banks  # the model's own bank free cycles (session 31: one int64 array)
    assert banks == [3] * 4


def test_a_late_bank_still_busy_at_the_start_is_booked_bank_by_bank():
    # write 80 B at 0 (bank 0 late until 2), then 64 B at 0 from 1 ns on the other port: banks 1-3 [1, 2),
    # bank 0 [2, 3): the access occupies the buffer until 3 (one cycle of bank conflict), ends at 3 ns
    s, ends, ref_ends, banks = _pair([(Cmd.WRITE, 0, 80, 0), (Cmd.WRITE, 0, 64, 1 * P)])
    assert ends == ref_ends == [2 * P, 3 * P]
    assert list(s._bank_free) == banks  # the model's own bank free cycles (session 31: one int64 array)
    assert banks == [3, 2, 2, 2]


def test_a_short_access_on_free_banks_takes_one_cycle_in_each():
    # write 32 B at 48 on an idle buffer: lines 3 and 4 -> banks 3 and 0 (wrapping), one line each,
    # in cycle 0: both late until 1, ends at 1 + 1 - 1 = 1 ns
    s, ends, ref_ends, banks = _pair([(Cmd.WRITE, 48, 32, 0)])
    assert ends == ref_ends == [1 * P]
    assert list(s._bank_free) == banks  # the model's own bank free cycles (session 31: one int64 array)
    assert banks == [1, 0, 0, 1]


def test_a_short_access_keeps_the_times_of_the_late_banks_it_does_not_touch():
    # as in the first test: floor 6, banks 2 and 3 late until 7; then a 16 B read at 0 from 8 ns: bank 0
    # in cycle 8, banks 2 and 3 keep 7; ends at 9 + 2 - 1 = 10 ns
    s, ends, ref_ends, banks = _pair([(Cmd.WRITE, 0, 80, 0), (Cmd.READ, 32, 96, 5 * P), (Cmd.READ, 0, 16, 8 * P)])
    assert ends == ref_ends == [2 * P, 8 * P, 10 * P]
    assert list(s._bank_free) == banks  # the model's own bank free cycles (session 31: one int64 array)
    assert banks == [9, 6, 7, 7]


def test_a_short_access_waits_for_banks_booked_past_its_start():
    # write 64 B at 0 from 0: every bank [0, 1), floor 1, no late bank, port 0 free at 1. A 16 B read at
    # 16 from 0 takes port 1 at 0, but bank 1 is free only at 1: [1, 2), one cycle of bank conflict,
    # ends at 2 + 2 - 1 = 3 ns
    s, ends, ref_ends, banks = _pair([(Cmd.WRITE, 0, 64, 0), (Cmd.READ, 16, 16, 0)])
    assert ends == ref_ends == [1 * P, 3 * P]
    assert list(s._bank_free) == banks  # the model's own bank free cycles (session 31: one int64 array)
    assert s.recorder.stalls.entries[("buf", "bank_conflict", -1)] == [1, 1 * P]
    assert banks == [1, 2, 1, 1]
