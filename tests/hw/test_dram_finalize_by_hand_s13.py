"""The DRAM model by hand, session 13 (helper mutF; mutation runs s13fin and the recheck of s12dramC):
what the runs found unguarded.

First the one-channel wake rules of ``Dram.__init__`` (``one``, ``_rank_step``, ``_wake_slack``,
``_skip_stale``), s12dramC's seven unsorted survivors. The fast scheduler issues commands lazily and
wakes a channel only when a read can complete. With one channel it wakes up to RL + burst - 1 cycles
after the lower bound of a read's last RD, counts the RDs of a read over several bank groups of one
rank max(tCCD_S, burst) apart, and a wake that an earlier one superseded returns at once. With several
channels the wake is the bound itself (slack 0) and a read's RDs outside one bank group count one
burst apart: later wakes would reorder two channels' completions of the same picosecond (docs/model.md).
Nothing a report shows depends on the wake cycles when they are early enough, so these tests pin them
(spied on ``Dram._on_wake``, as tests/hw/test_dram_wake.py and test_dram_sched_by_hand_s11.py do) and
the completions, term by term.

Configuration ``cfg()`` of tests/hw/test_dram_by_hand.py: tCK 1 ns, RL 7, tRCD 4, tRRD_S 2, tCCD_S 5,
tCCD_L 7, burst 4 cycles, so a read's data ends RD + 11; mapping rochrababgco, 8 bursts per row: bursts
0-7 of ``addr(0)`` are row 0 of bank group 0 bank 0 ("A"), bursts 8-15 row 0 of bank group 1 bank 0
("B"). Power-down off in the wake cases.

Then what s13fin found in ``_log_cmd`` (when a chunk of the log goes to the sink) and ``finalize`` (the
write drain at the end, the power-down timeout at the end), with power-down (after 20 idle cycles) as
each case says.
"""

from tests.hw.dram_spy import patch_dram
from tests.hw.test_dram import Rig, addr
from tests.hw.test_dram_by_hand import NS, bg, cfg, log
from tlmsim.engine.transaction import Cmd
from tlmsim.hw.dram import Dram


def _spy(monkeypatch) -> tuple[list[int], list[int]]:
    """The cycles of every SimPy wake of the channels (superseded ones included) and the times (ps)
    of every ``_advance`` call."""
    wakes: list[int] = []
    advances: list[int] = []
    on_wake, advance = Dram._on_wake, Dram._advance

    def spy_advance(self, ch, until):
        advances.append(self.env.now)
        return advance(self, ch, until)

    patch_dram(monkeypatch, _on_wake=lambda self, ch, at: (wakes.append(at), on_wake(self, ch, at)),
               _advance=spy_advance)
    return wakes, advances


def _rds(r: Rig) -> list[tuple[int, int]]:
    return [(c, g) for c, m, _ra, g, _b, _row, _col in log(r) if m == "RD"]


def test_one_rank_rds_count_a_burst_apart_when_tccd_s_is_shorter(monkeypatch):
    # tCCD_S 3 below the 4-cycle burst. "a": 16 bursts at 0, 8 in A and 8 in B. ACT B 0, ACT A 2
    # (tRRD_S); RD B 4 (tRCD), RD A max(2 + 4, 4 + tCCD_S 3, 4 + burst 4) = 8, then alternating every
    # max(tCCD_S, burst) = 4 (tCCD_L 7 <= 8): RDs 4 + 4 i, the last at 64, data end 75. The bound at
    # the offer: next decision 0 + 15 x 4 = 60 (each bank group's 8 RDs: 7 x max(tCCD_L, burst) = 49,
    # less), wake at 60 + 7 + 4 - 1 = 70, which issues the rest. Counting tCCD_S 3 per RD instead
    # would wake at 45 + 10 = 55 and again later
    wakes, _ = _spy(monkeypatch)
    r = Rig(cfg(powerdown=False, timing=dict(tCCD_S=3)))
    r.req("a", addr(0), nbytes=16 * 64)
    r.run()
    assert _rds(r) == [(4 + 4 * i, 1 - i % 2) for i in range(16)]
    assert r.done == {"a": 75 * NS}
    assert wakes == [70]


def test_one_cycle_bursts_over_two_bank_groups_wake_in_time(monkeypatch):
    # burst length 2 on a double-data-rate bus: 1-cycle bursts of 16 bytes, 8 per row (16 columns);
    # tCCD_S = tCCD_L = 1. "a": 16 bursts at 0 (bursts 0-7 in A, 8-15 in B). ACT B 0, ACT A 2 (tRRD_S);
    # B's RDs from 4, A's from 6 (tRCD after 2), one RD a cycle (the bus takes one burst a cycle): RDs
    # 4, 5, ..., 19, 8 in each bank, the last data ends 19 + 7 + 1 = 27. The bound at the offer: 0 +
    # 15 x max(tCCD_S 1, burst 1) = 15, wake at 15 + 7 + 1 - 1 = 22 (< 27). A floor of 2 cycles per RD
    # would wake at 30 + 7 = 37, past the data end: the completion would move to 37 ns + 1 ps
    c = cfg(powerdown=False, org={"burst_length": 2, "columns": 16}, timing=dict(tCCD_S=1, tCCD_L=1))
    assert (c.resolve().burst_cycles, c.resolve().request_bytes) == (1, 16)
    wakes, _ = _spy(monkeypatch)
    r = Rig(c)
    r.req("a", 0, nbytes=16 * 16)
    r.run()
    rds = _rds(r)
    assert [t for t, _g in rds] == list(range(4, 20))
    assert sorted(g for _t, g in rds) == [0] * 8 + [1] * 8
    assert r.done == {"a": 27 * NS}
    assert wakes == [22]


def test_two_channels_wake_at_the_bound_itself_counting_a_burst_per_rd(monkeypatch):
    # Two channels (the row field's lowest bit is the channel: addr(0) is channel 0). "a" as in
    # test_dram_wake.py's first case: RDs 4 + 5 i (max(tCCD_S 5, burst 4) apart), the last at 79,
    # data end 90. With two channels the bound counts one burst (4) per RD and adds no slack:
    # offer: next decision 0 + 15 x 4 = 60 -> wake 60, which issues the RDs up to 59 (12); next
    # decision 64, 4 bursts left: 64 + 3 x 4 = 76 -> wake 76 (RDs 64, 69, 74); next decision 79, 1
    # left: wake 79, which issues the last RD; a completes at 90. (The one-channel rules would wake
    # at 85 once: tCCD_S per RD, RL + burst - 1 later.)
    wakes, _ = _spy(monkeypatch)
    r = Rig(cfg(powerdown=False, org={"channels": 2}))
    r.req("a", addr(0), nbytes=16 * 64)
    r.run()
    assert _rds(r) == [(4 + 5 * i, 1 - i % 2) for i in range(16)]
    assert r.done == {"a": 90 * NS}
    assert wakes == [60, 76, 79]


def test_a_superseded_wake_does_nothing(monkeypatch):
    # One channel. "a": 16 bursts at 0 as above (RDs 4 + 5 i, last 79, data end 90): the offer
    # sets a wake at 85 (75 + 7 + 4 - 1). "b": one burst at 50 ns, row 0 of bank group 0 bank 2: ACT
    # at 50; its RD waits for a's (the column slots every 5 cycles are a's, older), then 79 + tCCD_L
    # 7 = 86 (bank group 0), data end 97. At b's offer (50) the next decision is b's ACT at 50 and b
    # has one burst: wake at 50 + 0 + 10 = 60, which supersedes 85. Wake 60 issues up to 60; next
    # decision 64 (a's RD), b's bound 0: wake 74; it issues 64, 69, 74; next decision 79: wake 89,
    # which issues a's last RD (a done at 90) and b's (86, b done at 97). The wake at 85 still
    # fires, superseded (89 is the channel's wake now): it returns at once, advancing nothing
    wakes, advances = _spy(monkeypatch)
    r = Rig(cfg(powerdown=False))
    r.req("a", addr(0), nbytes=16 * 64)
    r.req("b", addr(0, ba=2), at_ps=50 * NS)
    r.run()
    assert r.cmds("ACT") == [0, 2, 50]
    assert r.cmds("RD") == [4 + 5 * i for i in range(16)] + [86]
    assert r.done == {"a": 90 * NS, "b": 97 * NS}
    assert wakes == [60, 74, 85, 89]
    # (b's offer at 50 ns advances the channel; finalize, at 97 ns, too)
    assert [t for t in advances if 50 * NS < t < 97 * NS] == [60 * NS + 1, 74 * NS + 1, 89 * NS + 1]


def _three_requests_into_a_sink():
    """a (row 0) at 0, b (a hit) at 100 ns, c (row 1 of the same bank) at 200 ns, run to the last
    completion with a command sink gathering each chunk's command cycles: the rig and its chunks."""
    chunks = []
    r = Rig(cfg(), record=False)
    r.dram.add_command_sink(lambda rows: chunks.append(rows[:, 0].tolist()))
    r.req("a", addr(0))
    r.req("b", addr(0, col=1), at_ps=100 * NS)
    r.req("c", addr(1), at_ps=200 * NS)
    r.run()
    return r, chunks


def test_the_sink_gets_a_chunk_when_the_log_reaches_the_chunk_size(monkeypatch):
    """``_log_cmd`` packs the rows gathered when they reach ``_LOG_CHUNK`` (here 4), no sooner and no later,
    and (``_HAND_ROWS`` 1) hands on at once those packed rows before the safe cycle (the channel's decision
    cycle, or an idle rank's idle start if earlier); the rest stay packed, do not count towards the next
    chunk, and go with the next chunk or at the end."""
    import tlmsim.hw.dram as dram_module

    monkeypatch.setattr(dram_module, "_LOG_CHUNK", 4)
    monkeypatch.setattr(dram_module, "_HAND_ROWS", 1)
    r, chunks = _three_requests_into_a_sink()
    r.dram.finalize(r.env.now)
    # a: ACT 0, RD 4 (data end 15); idle from 15: PDE 35. b (a row hit) at 100: PDX 100 (35 + tCKE 12
    # is past), RD 113 (tXP 13), data end 124; idle from 124: PDE 144. c (row 1 of the same bank) at
    # 200: PDX 200, PRE 213 (tXP), ACT 219 (tRP 6), RD 223.
    # Rows 1-2: ACT 0, RD 4. b's arrival logs PDE 35 and PDX 100: the 4th row; the rank is idle since
    # 15 until b is queued, so [0, 4] go and 35, 100 stay packed. RD 113 (1 row in the lists); c's
    # arrival logs PDE 144 (2) and PDX 200 (3); PRE 213 is the 4th, with the channel deciding at 200:
    # [35, 100, 113, 144] go. ACT 219 and RD 223 wait for the end, which hands on the rest. (A chunk at
    # every row, as with _LOG_CHUNK 1, would hand on [35] and [100, 113] apart; packed rows counted
    # again, as before session 24, [35, 100, 113] and [144] apart)
    assert chunks == [[0, 4], [35, 100, 113, 144], [200, 213, 219, 223]]


def test_an_idle_rank_finalized_exactly_at_its_power_down_timeout_never_powers_down():
    # no request at all: idle from cycle 0, power-down entry due at 0 + 20; finalized at 20 ns, the run
    # ends at that very cycle: 20 cycles of precharge standby, no PDE (one cycle later there is one:
    # test_dram_by_hand_s9.py)
    r = Rig(cfg())
    r.dram.finalize(20 * NS)
    assert r.dram.end_cycle == 20
    assert len(r.dram.command_records()) == 0
    assert r.dram.background_cycles() == bg(precharge_standby=20)
    assert r.dram.stats.c["powerdowns"] == 0


def test_a_log_shorter_than_a_chunk_goes_to_the_sink_once_at_the_end():
    # the same ten commands as above with the shipped sizes (packed at 4,096 rows, handed on from 65,536):
    # nothing is handed on before finalize, which hands on all of them in one chunk
    r, chunks = _three_requests_into_a_sink()
    assert chunks == []
    r.dram.finalize(r.env.now)
    assert chunks == [[0, 4, 35, 100, 113, 144, 200, 213, 219, 223]]


def test_finalize_drains_the_write_buffer_from_the_cycle_after_the_last_queued_command():
    # write low watermark 1, no reads: w1 and w2 (row 0 of A, columns 0 and 1) at 0 make two writes
    # buffered, more than 1: a drain moves both into A's command queue at 0; w3 (row 0 of B) at 0 stays
    # posted (1 write, not above the watermark). All three are done at 1 ns (posted). Their commands
    # wait for finalize (no wake for writes): first the queued ones, a decision at a time: ACT A 0,
    # WR 4 (tRCD), WR 11 (tCCD_L 7): the channel has decided up to cycle 11, its next cycle is 12.
    # Then the write buffer is drained from there: ACT B 12 (tRRD_S 2 from 0 long past), WR 16 (tRCD
    # 4; tCCD_S 5 after 11); its data ends 16 + CWL 5 + burst 4 = 25, the run's end. (Stepping two
    # cycles a decision would start the drain at 13: ACT 13, WR 17)
    r = Rig(cfg(powerdown=False, write_low_watermark=1))
    r.req("w1", addr(0), cmd=Cmd.WRITE)
    r.req("w2", addr(0, col=1), cmd=Cmd.WRITE)
    r.req("w3", addr(0, bg=1), cmd=Cmd.WRITE)
    r.run()
    assert r.done == {"w1": 1 * NS, "w2": 1 * NS, "w3": 1 * NS}
    assert r.dram.stats.c["write_drains"] == 1
    r.dram.finalize(r.env.now)
    assert [x[:4] for x in log(r)] == [(0, "ACT", 0, 0), (4, "WR", 0, 0), (11, "WR", 0, 0), (12, "ACT", 0, 1),
                                       (16, "WR", 0, 1)]
    assert r.dram.end_cycle == 25
    assert r.dram.stats.c["write_drains"] == 2
    assert r.dram.background_cycles() == bg(active_standby=25)


def test_finalize_fills_a_command_queue_only_to_its_depth():
    # closed page, command queues of depth 1, write low watermark 2: w1 and w2 (row 0 of A, columns 0
    # and 1) at 0 stay posted. finalize (at 1 ns) drains them: only w1 enters A's queue (depth 1).
    # ACT 1, WR 5 (tRCD 4), data 10..14; A's queue is then empty, so closed page precharges A at 14 +
    # tWR 9 = 23 (no command slot; logged); w2 moves in as the WR frees the queue: ACT 29 (tRP 6; tRC
    # from 1 is 18), WR 33, data end 42 (the run's end), precharge 51. Two row misses. (With w2 in the
    # queue beside w1 it would be a row hit: WR 12, no precharge between.)
    r = Rig(cfg(powerdown=False, write_low_watermark=2, page_policy="closed", command_queue_depth=1))
    r.req("w1", addr(0), cmd=Cmd.WRITE)
    r.req("w2", addr(0, col=1), cmd=Cmd.WRITE)
    r.run()
    r.dram.finalize(r.env.now)
    assert [x[:2] for x in log(r)] == [(1, "ACT"), (5, "WR"), (23, "PRE"), (29, "ACT"), (33, "WR"), (51, "PRE")]
    assert r.dram.end_cycle == 42
    c = r.dram.stats.c
    assert (c["row_misses"], c["row_hits"], c["write_drains"]) == (2, 0, 1)
