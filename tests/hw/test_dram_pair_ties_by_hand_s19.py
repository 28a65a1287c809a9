"""Two-bank batches that meet ties, by hand (session 19).

``Dram._pair_batch`` serves the row hits of two banks of one rank in different bank groups. Until
session 19 it stopped at the first tie (both banks' next RD legal at one cycle) and left the RD to
the general step; with tCCD_L <= max(tCCD_S, burst) every RD after a batch's first is such a tie
(LPDDR4: tCCD_L 6, an 8-cycle BL16 burst), so no two-bank batch ever served an RD on edge-lpddr4. Now the
batch settles a tie as the general step and :meth:`Dram._pick` do: a head waiting
``starvation_cycles`` or more is aged and goes first (the older of two aged heads), else round
robin from the bank after the previous RD's, which is the other bank.

The setting is tests/hw/test_dram_fast_by_hand_s11.py's (its ``run``: both schedulers, the plain
one must give the same log, completions, counts and stalls; mapping rochrabacobg: bursts alternate
between bank A, bank group 0, local bank 0, and bank B, bank group 1, local bank 4; read queue 2,
command queues 2) with tCCD_L 5 = tCCD_S 5 (burst 4): each bank's next RD is at least 5 after the
previous RD of the rank (tCCD_S) and 5 after its own bank group's (tCCD_L), so after an RD at p both
banks are legal at p + 5.
"""

import pytest

from tests.hw.dram_spy import patch_dram
from tests.hw.test_dram_by_hand import NS, counts
from tests.hw.test_dram_fast_by_hand_s11 import L, R, a2, pair, rds, run
from tlmsim.hw.dram import Dram


@pytest.fixture
def batched(monkeypatch):
    """RDs served by two-bank batches (fast scheduler) and the batches that served any."""
    seen = {"RDs": 0, "batches": 0}

    def spy(self, *a, _orig=Dram._pair_batch):
        out = _orig(self, *a)
        seen["RDs"] += out[0]
        seen["batches"] += out[0] > 0
        return out

    patch_dram(monkeypatch, _pair_batch=spy)
    return seen


def test_round_robin_settles_every_tie_of_a_two_bank_batch(batched):
    # L (16 bursts at 0), as in test_dram_fast_by_hand_s11: ACT B 0, ACT A 2, RD B 4 (tRCD), RD A
    # max(2 + 4, 4 + tCCD_S 5, bus 4 + 4) = 9. Then at every RD p both banks tie at p + 5; round robin
    # from the bank after the last RD's picks the other bank (A's local bank 0 after B's 4: key
    # (0 - 5) % 8 = 3 against B's own 7; B after A's: (4 - 1) % 8 = 3 against 7), so the banks
    # alternate as with tCCD_L 7: B at 4 + 10 i, A at 9 + 10 i; L done at A's last RD 79 + RL 7 +
    # burst 4 = 90; its last burst accepted at the tenth RD, 49
    r = run([L], timing={"tCCD_L": 5})
    assert rds(r) == pair(8)
    assert r.done == {"L": 90 * NS}
    assert r.stall("queue_full") == 49 * NS
    assert counts(r)["rd"] == 16 and counts(r)["row_hits"] == 14
    # the RDs after the first two of each bank are settled inside batches (none before session 19)
    assert batched["RDs"] >= 12 and batched["batches"] >= 1


@pytest.mark.parametrize("starve", [3, 12])
def test_aged_heads_settle_ties_oldest_first(batched, starve):
    # starvation 3 (12): a head queued 3 (12) or more cycles before a tie is aged and goes first,
    # the older of two aged heads first. L's bursts are numbered in address order, A's even, B's
    # odd; at 0 bursts 0, 2 enter A's command queue and 1, 3 B's. RD B 4 (burst 1; burst 5 moves in),
    # RD A 9 (burst 0; burst 4 moves in). The tie at 14: A's head burst 2 and B's head burst 3 were
    # queued at 0 (waited 14): both aged, burst 2 older: A again, where round robin would pick B.
    # At 19: B's burst 3 (waited 19, aged) is older than A's burst 4 (queued 9: aged at starvation 3,
    # not at 12): B. At 24: A's burst 4 (15) before B's burst 5 (queued 4: 20): A. So the bursts go
    # in address order: A's column i at 4 + 10 i, B's at 9 + 10 i (i >= 1); L still done at B's
    # last RD 79 + RL 7 + burst 4 = 90
    r = run([L], timing={"tCCD_L": 5}, starvation_cycles=starve)
    want = [(4, 1, 0, 0), (9, 0, 0, 0)]
    for i in range(1, 8):
        want += [(4 + 10 * i, 0, 0, i), (9 + 10 * i, 1, 0, i)]
    assert rds(r) == want
    assert r.done == {"L": 90 * NS}
    assert batched["RDs"] >= 12


def test_ties_of_one_burst_reads_match_the_plain_scheduler_at_every_starvation_limit(batched):
    # Sixteen one-burst reads at 0, both schedulers compared by run(): x0-x7 in bank A (columns
    # 0-7), then y0-y7 in bank B; command queues 2, read queue 2. Ties at every RD after the two
    # banks' first; at starvation 6 and 12 heads may age inside the batches, at 1000 none does.
    # Whatever each tie's reason, the fast scheduler's batches must choose exactly as the plain
    # per-RD scheduler (run() compares the logs, completions, counts and stalls of both), and the
    # RDs come in time order
    reqs = [(f"x{j}", a2(0, bg=0, col=j), 0, R, 1) for j in range(8)]
    reqs += [(f"y{j}", a2(0, bg=1, col=j), 0, R, 1) for j in range(8)]
    for starve in (6, 12, 1000):
        r = run(reqs, timing={"tCCD_L": 5}, starvation_cycles=starve)
        got = rds(r)
        assert len(got) == 16 and sorted(c for c, *_ in got) == [c for c, *_ in got]
    assert batched["RDs"] > 0
