"""The DRAM model's wake bound for reads spanning several bank groups (and ranks, channels).

The fast scheduler issues commands lazily: a channel wakes only when a read can complete,
at (a lower bound of its last RD) + RL + burst - 1, the last cycle at which a wake still issues
that RD in time to complete the read at its data end (RL + burst after the RD). A read's RDs in
one bank group are >= max(tCCD_L, burst) apart, in one rank >= max(tCCD_S, burst), anywhere
>= one burst. A bound that is too late moves a completion; these tests make it exact, so it
must not be one cycle later. (One-channel DRAMs; with several channels the wake is the bound
itself, see ``Dram.__init__``.)

Hand-computed values use the configuration of tests/hw/test_dram_by_hand.py (``cfg()``: tCK
1 ns, RL 7, tRCD 4, tRRD_S 2, tCCD_S 5, tCCD_L 7, burst 4 cycles, rows of 8 bursts, mapping
rochrababgco: bursts 0-7 of ``addr(0)`` are row 0 of bank group 0 bank 0 ("A"), bursts 8-15
row 0 of bank group 1 bank 0 ("B")).
"""

import random

import pytest

from tests.hw.dram_spy import patch_dram
from tests.hw.dram_stream import run_stream
from tests.hw.test_dram import Rig, addr
from tests.hw.test_dram_by_hand import NS, TIMING, cfg, log
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig


def _spy_wakes(monkeypatch) -> list[int]:
    """The cycles at which the channels wake (every SimPy wake, superseded ones included)."""
    wakes: list[int] = []
    on_wake = Dram._on_wake
    patch_dram(monkeypatch, _on_wake=lambda self, ch, at: (wakes.append(at), on_wake(self, ch, at)))
    return wakes


def test_a_read_over_two_bank_groups_wakes_once_at_its_exact_bound(monkeypatch):
    wakes = _spy_wakes(monkeypatch)
    r = Rig(cfg(powerdown=False))
    # "a": 16 bursts, 8 in A and 8 in B, at 0. ACT B 0, ACT A 2 (tRRD_S); RD B 4 (tRCD), RD A
    # max(2 + 4, 4 + tCCD_S 5) = 9, then alternating every max(tCCD_S, burst) = 5 (tCCD_L 7 <= 10):
    # RDs 4 + 5 i, the last at 79, data end 90. Bound at the offer: next decision 0 (the ACT) +
    # 15 x 5 = 75, wake at 75 + 7 + 4 - 1 = 85: one wake issues the rest, completes at 90
    r.req("a", addr(0), nbytes=16 * 64)
    # "b": the same 16 bursts at 100, both rows open, the bus idle: RD B at 100, then every 5 cycles
    # to 175, data end 186. The bound is exact: 100 + 75 = 175, wake at 175 + 10 = 185 (at 185 ns
    # + 1 ps, before 186 ns). One cycle later would complete "b" at 186 ns + 1 ps; a spacing of one
    # burst (4) per RD would wake at 100 + 60 + 10 = 170 and again at 185
    r.req("b", addr(0), nbytes=16 * 64, at_ps=100 * NS)
    r.run()
    rds = [(c, g) for c, m, _ra, g, _b, _row, _col in log(r) if m == "RD"]
    # (bank B first each time: both banks are ready at once and the round robin scan starts after A)
    assert rds == [(4 + 5 * i, 1 - i % 2) for i in range(16)] + [(100 + 5 * i, 1 - i % 2) for i in range(16)]
    assert r.done == {"a": 90 * NS, "b": 186 * NS}
    assert wakes == [85, 185]


def _config(hbm: bool, channels: int, ranks: int, tccd_s: int, tccd_l: int) -> DramConfig:
    org = dict(channels=channels, ranks=ranks, bankgroups=2, banks_per_group=2, rows=8, columns=64, bus_width_bits=64,
               burst_length=8)
    return DramConfig.model_validate(dict(
        preset="HBM2" if hbm else "DDR4-3200", org=org, address_mapping="rochrababgco", page_policy="open",
        timing={**TIMING, "tCCD_S": tccd_s, "tCCD_L": tccd_l, "tREFI": 900}, read_queue_depth=16,
        write_queue_depth=8, command_queue_depth=4, write_low_watermark=2, powerdown=True,
        powerdown_timeout_cycles=30, self_refresh_timeout_cycles=300))


def _stream(rng: random.Random, channels: int, ranks: int, n: int) -> list[tuple]:
    """``n`` reads (one in eight a write) of 2-24 bursts starting in the last columns of a row,
    so most span two (bank, row) pairs in different bank groups (the next 8 bursts are the other
    bank group's), some a rank or channel boundary too; arriving in clusters."""
    out, at = [], 0
    rows = 2 * channels * ranks  # the row field's lowest bits are the channel, then the rank
    for _ in range(n):
        at += rng.choice([0, 0, 2, 5, 20, 80])
        nb = rng.randint(2, 24)
        q = rng.randrange(rows * 2 * 2 * 8 - nb)
        q = q - q % 8 + rng.choice([4, 5, 6, 7, rng.randrange(8)])
        q = min(q, rows * 2 * 2 * 8 - nb)
        out.append((at * NS, rng.random() < 0.125, q * 64, nb * 64))
    return out


# (HBM, channels, ranks, tCCD_S, tCCD_L): tCCD_S above, at and below the burst (4)
SHAPES = [(False, 1, 1, 5, 7), (False, 1, 1, 4, 6), (False, 1, 2, 3, 9), (False, 2, 1, 5, 12), (True, 1, 1, 2, 4),
          (True, 2, 2, 5, 7)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(map(str, s)))
def test_reads_over_bank_groups_complete_as_under_the_plain_scheduler(shape, monkeypatch):
    # how close the wakes come to the completions they serve: the last cycle a wake may have is the
    # completing RD's data end - 1; a bound that reaches it somewhere makes these streams fail
    # whenever it is one cycle late
    tight = []
    finish = Dram._finish

    def spy(self, tx, _f=finish):
        if not self._plain and tx.txn.cmd.label == "read":
            tight.append(tx.end * self._tck - self.env.now)
        _f(self, tx)

    patch_dram(monkeypatch, _finish=spy)
    hbm, channels, ranks, tccd_s, tccd_l = shape
    config = _config(hbm, channels, ranks, tccd_s, tccd_l)
    rng = random.Random(str(shape))
    for _ in range(3):
        items = _stream(rng, channels, ranks, 24)
        fast_ends, fast, _ = run_stream(config, items, plain=False)
        plain_ends, plain, _ = run_stream(config, items, plain=True)
        assert fast_ends == plain_ends
        assert sorted(fast.command_records().tolist()) == sorted(plain.command_records().tolist())
        assert sorted(fast.stats.c.items()) == sorted(plain.stats.c.items())
    tck = config.resolve().tck_ps
    assert min(tight) >= 0
    if channels == 1:  # (several channels: the wake at the bound itself, see Dram.__init__)
        assert sum(1 for x in tight if x < tck) >= 3, sorted(tight)[:10]  # woken in the last cycle allowed
