"""The DRAM wake with posted writes in the buffer, session 13 (``Dram._schedule``, ``Dram._fwd_possible``).

The fast scheduler wakes a channel only when a read can complete (tests/hw/test_dram_wake.py),
except while a burst at the offering side could complete without an RD: an offered write (it
completes when accepted) or an offered read of an address in the write buffer (forwarded, done
one cycle after it is accepted). Until session 13 any write in the buffer together with any
offered burst woke the channel at every decision; now only an offered burst whose address is in
the buffer does (``_fwd_possible``). Nothing adds to the buffer before the next ``_schedule``
(only an accepted write does, and with no write offered none is accepted until the next
arrival, which ends in ``_schedule``), and a WR removes its address, so an offer that is not
forwardable when ``_schedule`` asks stays so until then.

Configuration: tests/hw/test_dram_fast_by_hand_s11.py's (tests/hw/test_dram_by_hand.py's ``cfg()``:
tCK 1 ns, RL 7, tRCD 4, tRP 6, tRTP 5, tRRD_S 2, tCCD_S 5, tCCD_L 7, burst 4 cycles; no power-down;
mapping rochrabacobg: a range's bursts alternate between bank A (bank group 0, local bank 0) and
bank B (bank group 1, local bank 4); read queue 2, command queue 2) with write low watermark 4, so
one buffered write is not drained while reads are queued (nor after: fewer than 5 writes and no
queued read never start a drain; ``finalize`` drains it).

L = the 16-burst read of tests/hw/test_dram_fast_by_hand_s11.py: ACT B 0, ACT A 2, RDs B 4 + 10 i,
A 9 + 10 i (i = 0..7), the last at 79, done 90; bursts 6-15 wait at the offering side and are
accepted one per RD, 15 at the tenth RD, 49 (L's queue_full stall 49 ns).
W = one write burst to row 1 column 0 of bank B, offered before L at 0: accepted at once (the
buffer empty), done 1 ns; it stays in the buffer (1 <= watermark 4) until ``finalize``, which
drains it after L: PRE B at 90 (B's last RD 74 + tRTP 5 = 79 has passed; ``finalize`` starts at
the end, 90), ACT B row 1 at 90 + tRP 6 = 96, WR at 96 + tRCD 4 = 100.
"""

import random

import pytest

from tests.hw.test_dram_by_hand import NS, cfg, log
from tests.hw.dram_stream import run_stream
from tests.hw.test_dram_diff import _config, _stream
from tests.hw.test_dram_fast_by_hand_s11 import _Rig, a2, both_schedulers, pair
from tests.hw.dram_spy import patch_dram
from tlmsim.engine.transaction import Cmd
from tlmsim.hw.dram import Dram, _Chan, _Req

R, W = Cmd.READ, Cmd.WRITE

CONFIG = dict(powerdown=False, address_mapping="rochrabacobg", read_queue_depth=2, command_queue_depth=2,
              write_low_watermark=4)

WRITE_B1 = ("W", a2(1, 1), 0, W, 1)
L = ("L", 0, 0, R, 16)
#: every command but L's RDs (pair(8)): L's two ACTs, then W's drain in finalize
OTHER = [(0, "ACT", 0, 1, 0, 0, -1), (2, "ACT", 0, 0, 0, 0, -1), (90, "PRE", 0, 1, 0, 0, -1),
         (96, "ACT", 0, 1, 0, 1, -1), (100, "WR", 0, 1, 0, 1, 0)]


def _spy_wakes(monkeypatch, **also) -> list[int]:
    """The cycles at which the channel wakes (every SimPy wake, superseded ones included); ``also``:
    other methods of the model replaced (tests/hw/dram_spy.py)."""
    wakes: list[int] = []
    on_wake = Dram._on_wake
    patch_dram(monkeypatch, _on_wake=lambda self, ch, at: (wakes.append(at), on_wake(self, ch, at)), **also)
    return wakes


def _fast(reqs, config=None) -> _Rig:
    r = _Rig(config or cfg(**CONFIG), plain=False)
    for tag, address, at, cmd, n in reqs:
        r.req(tag, address, at_ps=at * NS, cmd=cmd, nbytes=n * 64)
    r.run()
    return r


def _rds(r) -> list[tuple[int, int, int, int]]:
    return [(c, g, row, col) for c, m, _ra, g, _b, row, col in log(r) if m == "RD"]


def _other(r) -> list[tuple]:
    return [x for x in log(r) if x[1] != "RD"]


def test_a_buffered_write_no_longer_wakes_the_channel_at_every_decision(monkeypatch):
    wakes = _spy_wakes(monkeypatch)
    r = both_schedulers(cfg(**CONFIG), [WRITE_B1, L])  # the plain scheduler gives the same log, completions, stalls
    assert _rds(r) == pair(8)
    assert _other(r) == OTHER
    assert r.done == {"W": 1 * NS, "L": 90 * NS}
    assert r.stall("queue_full") == 49 * NS
    # the fast run's wakes (then the plain run's: every decision, ACTs 0 and 2, the 16 RDs).
    # W's offer schedules nothing (no request queued); L's: no offer is W's address, so the read
    # bound: next decision 0 + L's 15 bursts x max(tCCD_S 5, burst 4) = 75 (each bank group's 8
    # bursts x tCCD_L 7 = 49 is less), + RL 7 + burst 4 - 1 = 85: one wake issues every command
    fast = wakes[:wakes.index(0)]
    assert fast == [85]
    assert wakes[len(fast):] == [0, 2] + sorted(c for c, *_ in pair(8))


def test_before_session_13_the_same_stream_woke_at_every_decision_until_the_offers_were_accepted(monkeypatch):
    # with _fwd_possible always true (the condition before session 13: a buffered write and any
    # offer), the channel wakes at each decision while L's bursts wait at the offering side: ACT 0,
    # ACT 2, RDs 4, 9, ..., 49 (the last offer accepted); then the read bound: next decision 54 + L's
    # 6 bursts left x 5 = 79, + 10 = 89. 13 wakes instead of 1, the same commands and completions
    wakes = _spy_wakes(monkeypatch, _fwd_possible=staticmethod(lambda chan: True))
    r = _fast([WRITE_B1, L])
    assert wakes == [0, 2] + list(range(4, 50, 5)) + [89]
    assert _rds(r) == pair(8) and _other(r) == OTHER
    assert r.done == {"W": 1 * NS, "L": 90 * NS}


def test_an_offered_read_of_the_buffered_address_is_forwarded_on_time(monkeypatch):
    # F: one read burst of W's address, offered at 0 behind L. L's offer scheduled the bound wake
    # 85 (F not yet offered); F's offer finds it forwardable: wakes at every decision, 0, 2, 4, 9,
    # ..., 49. At 49 the tenth RD accepts L's burst 15 and F, behind it, is forwarded (no read-queue
    # place needed): F done 49 + 1 = 50. The wake at 85 is superseded (skipped); then L's bound as
    # above, 89. F's stall 49 (queue_full: offered 0, accepted 49)
    wakes = _spy_wakes(monkeypatch)
    reqs = [WRITE_B1, L, ("F", a2(1, 1), 0, R, 1)]
    r = both_schedulers(cfg(**CONFIG), reqs)
    assert r.done == {"W": 1 * NS, "F": 50 * NS, "L": 90 * NS}
    assert r.stall("queue_full") == (49 + 49) * NS
    assert r.dram.stats.c["forwarded_reads"] == 1
    assert _rds(r) == pair(8) and _other(r) == OTHER
    fast = wakes[:wakes.index(54)]  # the plain run's first wake after 49 is at 54
    fast = fast[:len(fast) - 12]  # ... and its first 12 (0, 2, 4, ..., 49) are the fast run's too
    assert fast == [0, 2] + list(range(4, 50, 5)) + [85, 89]
    # without these wakes (no forwarding foreseen) the result would change, not only its time: F's
    # own bound wakes the channel at 10 (one burst: next decision 0 + 10), 24, 39, 54, and at 54 the
    # two-bank batch serves the RDs 44, 49, 54. Its offer step looks at the offers only while the
    # read queue has room (F needs none, forwarded): L's 15 fills it at 49, so F is met after RD
    # 54 and forwarded at 54, done 55 (stall 54), where the plain scheduler forwards it at 49. The
    # wakes at every decision keep each batch to one decision, so _fill takes F at 49
    patch_dram(monkeypatch, _fwd_possible=staticmethod(lambda chan: False))
    wrong = _fast(reqs)
    assert wrong.done["F"] == 55 * NS and wrong.stall("queue_full") == (49 + 54) * NS


def test_a_forwardable_offer_behind_another_read_keeps_the_wakes_until_it_is_accepted(monkeypatch):
    # F2: one read burst of A's row 1 (not buffered), then F3: W's address, both offered at 0
    # behind L. L's 15 is accepted at 49 (B's RD frees B's read-queue request into its command
    # queue... the tenth RD); F2 at the next RD, B 54, into the read queue, and F3 behind it is
    # forwarded at once: F3 done 55. F2 enters A's command queue behind L's last A bursts; after
    # L's last RD (A 79) it wants row 1: PRE A 79 + tRTP 5 = 84, ACT 84 + tRP 6 = 90, RD 90 + tRCD 4
    # = 94, done 94 + 11 = 105. Stalls L 49 + F2 54 + F3 54.
    # Wakes: L's offer: bound wake 85 (as above). F2's offer: F2 is not forwardable, the bound of its
    # one burst: next decision 0 + 0 + 10 = 10. F3's: forwardable, a wake at every decision from
    # 0 to 54, where F3 is accepted (10 and 85 are superseded: skipped when they come). Then the
    # read bound: F2's one burst at the next decision, 59 + 10 = 69; at 69: next decision 74 + 10 =
    # 84; at 84 (PRE A issued): next decision 90 + 10 = 100, which issues F2's RD 94.
    wakes = _spy_wakes(monkeypatch)
    reqs = [WRITE_B1, L, ("F2", a2(1, 0), 0, R, 1), ("F3", a2(1, 1), 0, R, 1)]
    r = both_schedulers(cfg(**CONFIG), reqs)
    assert r.done == {"W": 1 * NS, "F3": 55 * NS, "L": 90 * NS, "F2": 105 * NS}
    assert r.stall("queue_full") == (49 + 54 + 54) * NS
    assert r.dram.stats.c["forwarded_reads"] == 1
    assert _rds(r) == pair(8) + [(94, 0, 1, 0)]
    assert [x for x in _other(r) if x[0] < 100] == [
        (0, "ACT", 0, 1, 0, 0, -1), (2, "ACT", 0, 0, 0, 0, -1), (84, "PRE", 0, 0, 0, 0, -1), (90, "ACT", 0, 0, 0, 1, -1)]
    n_fast = len(wakes) - 21  # the plain run wakes at its 21 decisions: ACTs, PRE, RDs
    assert wakes[:n_fast] == [0, 2, 4, 9, 10] + list(range(14, 55, 5)) + [69, 84, 85, 100]


def _chan(wpend, offers) -> _Chan:
    c = _Chan(8)
    c.wpend.update({q: 1 for q in wpend})
    for q in offers:
        c.offers.append(_Req(q, 0, 0, 0, q, False, None, q))
    return c


def test_fwd_possible_by_hand():
    assert Dram._fwd_possible(_chan([], [])) is False
    assert Dram._fwd_possible(_chan([5], [])) is False
    assert Dram._fwd_possible(_chan([], [5])) is False
    assert Dram._fwd_possible(_chan([7, 9], [5, 6, 8])) is False
    assert Dram._fwd_possible(_chan([7, 9], [5, 6, 9])) is True  # the last offer
    assert Dram._fwd_possible(_chan([7, 9], [7, 6, 8])) is True  # the first
    assert Dram._fwd_possible(_chan([9], [5, 9, 8])) is True
    # the key is the burst address (``_Req.q``), not the column or the sequence number
    c = _chan([9], [])
    c.offers.append(_Req(9, 0, 0, 0, 9, False, None, 10))
    assert Dram._fwd_possible(c) is False
    c.offers.append(_Req(1, 0, 0, 0, 1, False, None, 9))
    assert Dram._fwd_possible(c) is True


def _one_channel(policy: str, queues: tuple[int, int], powerdown: bool):
    """tests/hw/test_dram_diff.py's configuration with one channel (the channel field then has no bits)."""
    c = _config(policy, powerdown, queues)
    d = c.model_dump(exclude_unset=True)
    d["org"] = {**d["org"], "channels": 1}
    return type(c).model_validate(d)


def _runs(config, items, monkeypatch):
    """``items`` through the fast scheduler, the fast scheduler with the condition before session 13
    (``_fwd_possible`` always true) and the plain one, each finalized at the same end (the latest
    of the three: their last SimPy events differ); each as ((completions in the order their
    processes resumed, sorted log, counters, stalls, background cycles), wakes not superseded)."""
    runs = []
    for variant in ("new", "old", "plain"):
        woke = [0]
        on_wake = Dram._on_wake

        def spy(self, ch, at, _on=on_wake, _w=woke):
            _w[0] += self._ch[ch].wake_at == at
            _on(self, ch, at)

        with monkeypatch.context() as m:
            # before session 13 (old): _fwd_possible always true
            old = {"_fwd_possible": staticmethod(lambda chan: True)} if variant == "old" else {}
            patch_dram(m, _on_wake=spy, **old)
            ends, dram, rec = run_stream(config, items, variant == "plain", finalize=False, order=True)
        runs.append((ends, dram, rec, woke))
    end = max(dram.env.now for _, dram, _, _ in runs)
    out = []
    for ends, dram, rec, woke in runs:
        dram.finalize(end)
        log_ = sorted(dram.command_records().tolist(), key=lambda r: (r[0], r[1]))
        out.append(((ends, log_, sorted(dram.stats.c.items()), sorted(rec.stalls.entries.items()),
                     dram.background_cycles()), woke[0]))
    return out


@pytest.mark.parametrize("policy, queues, powerdown, channels", [
    ("open", (4, 2), False, 1), ("open", (2, 2), True, 1), ("closed", (4, 2), True, 1),
    ("adaptive", (2, 2), False, 1), ("open", (4, 2), True, 2), ("closed", (2, 2), False, 2)])
def test_random_streams_with_writes_equal_the_plain_scheduler_with_fewer_wakes(policy, queues, powerdown, channels,
                                                                              monkeypatch):
    # tests/hw/test_dram_diff.py's streams (a quarter writes, blocks of 1-64 bursts in a few rows):
    # writes are buffered while reads wait at the offering side, and some reads hit buffered addresses.
    # The completions are compared in the order the requesters resume: with two channels, two
    # completions at one picosecond resume in the order the model completed them, which follows
    # the wakes (tests/hw/test_dram_diff.py compares them sorted)
    config = _config(policy, powerdown, queues) if channels == 2 else _one_channel(policy, queues, powerdown)
    rng = random.Random(f"wake-{policy}-{queues}-{powerdown}-{channels}")
    fewer = forwarded = 0
    for i in range(3):
        items = _stream(rng, 30, focus=i == 2)
        (new, n_new), (old, n_old), (plain, n_plain) = _runs(config, items, monkeypatch)
        assert new == plain
        assert old == plain
        assert n_new <= n_old <= n_plain
        fewer += n_old - n_new
        forwarded += dict(new[2]).get("forwarded_reads", 0)
    assert fewer > 0 and forwarded > 0, (fewer, forwarded)
