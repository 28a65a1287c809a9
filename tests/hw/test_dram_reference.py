"""A brute-force reference scheduler against the DRAM model (issue 11: "a brute-force
reference scheduler in the tests agrees with the fast one").

``Reference`` below is written from the policy in docs/model.md and tlmsim/hw/dram.py's
docstring, not from the model's code (it imports nothing from hw/dram.py): it ticks
every cycle and keeps no timing state -- each cycle it takes every queued request's next
command (ACT for a closed bank, PRE for another row, RD for its open row), keeps those
the policy allows, and checks each against the whole command history with the timing
rules; then it issues one by the documented priority. What it covers:

* requests: read transactions of 1 to 8 bursts arriving at random cycles, offered in
  arrival order; a read queue of ``RQ`` requests per channel and per-bank command queues
  of ``CQ``: an offered request enters the read queue if it has room (else it waits at
  the offering side, and nothing offered later overtakes it) and moves on at once to its
  bank's command queue if that has room and no older request of its bank waits; when a
  RD leaves a bank's queue, that bank's oldest waiting request moves in and the offers
  are retried;
* FR-FCFS, open page: in a bank, the first queued request whose command is allowed and
  legal (a later request only with a RD: row hits go first; the head's PRE only once no
  queued request hits the open row or the row has served ``row_hit_cap`` RDs; ACT for
  the head); across banks, one command per cycle, the first candidate in round-robin
  order starting at the bank after the last one that issued (DRAMsim3's
  CommandQueue::GetCommandToIssue);
* timing (all values distinct): per bank tRCD, tRAS, tRC, tRP, tRTP; per rank tRRD_S,
  tRRD_L, tFAW, tCCD_S, tCCD_L; per channel data bursts that never overlap, tRTRS
  between ranks.

Left out on purpose (covered elsewhere against the plain scheduler and the checker:
tests/hw/test_dram.py, test_dram_fast.py, test_dram_rules.py): writes and drains,
refresh (tREFI beyond the run), power-down (off), aging (starvation_cycles beyond the
run), page policies other than open, HBM's two command buses.

What must agree, and does: the whole command log (cycle, command, rank, bank group,
bank, row, column, in order) and every transaction's completion time (its last burst's
RD + CL + burst). Exact agreement is expected because the model is documented as
equivalent to a cycle-by-cycle controller: it computes each candidate's earliest legal
cycle and issues the earliest (ties by the same priority), so at every cycle it issues
what a controller checking every rule that cycle would issue.
"""

from __future__ import annotations

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig

T = dict(CL=7, tRCD=4, tRP=6, tRAS=11, tRRD_S=2, tRRD_L=3, tCCD_S=5, tCCD_L=7, tFAW=16, tRTP=5, tRTRS=2)
TRC = T["tRAS"] + T["tRP"]
BURST = 4  # BL8 on a 64-bit bus
RQ, CQ, CAP = 4, 3, 2
BG, BA, COLS = 2, 4, 8  # bank groups, banks per group, bursts per row


def config(ranks: int) -> DramConfig:
    org = dict(channels=1, ranks=ranks, bankgroups=BG, banks_per_group=BA, rows=16, columns=64, bus_width_bits=64,
               burst_length=8)
    timing = dict(tck_ps=1000, CWL=5, AL=0, tWR=9, tWTR_S=3, tWTR_L=8, tREFI=1000000, tRFC=50, **T)
    return DramConfig.model_validate({
        "preset": "DDR4-3200", "org": org, "timing": timing, "page_policy": "open", "powerdown": False,
        "read_queue_depth": RQ, "command_queue_depth": CQ, "row_hit_cap": CAP, "starvation_cycles": 10**9,
        "address_mapping": "rochrababgco"})


def split(address: int, ranks: int):
    """(rank, bank group, bank, row, column) of the 64-byte burst at ``address`` (rochrababgco)."""
    q = address >> 6
    col, q = q % COLS, q // COLS
    bg, q = q % BG, q // BG
    ba, q = q % BA, q // BA
    ra, row = q % ranks, q // ranks
    return ra, bg, ba, row, col


class Reference:
    """The cycle-by-cycle controller of the module docstring (reads only, one channel)."""

    def __init__(self, ranks: int) -> None:
        self.ranks = ranks
        self.hist: list[tuple] = []  # (cycle, command, rank, bg, ba, row, col), in issue order
        self.open: dict[int, int] = {}  # bank -> open row
        self.queues: list[list] = [[] for _ in range(ranks * BG * BA)]
        self.waiting: list = []  # the read queue (requests that could not enter their bank's queue)
        self.offers: list = []
        self.rr = 0
        self.ends: dict[int, int] = {}
        self.left: dict[int, int] = {}

    @staticmethod
    def bank(r):
        ra, bg, ba = r[1], r[2], r[3]
        return (ra * BG + bg) * BA + ba

    # -- the timing rules, checked against the whole history ------------------------------
    def legal(self, t: int, cmd: str, ra: int, bg: int, ba: int) -> bool:
        h = self.hist
        if any(x[0] == t for x in h):
            return False  # one command per cycle
        same_bank = [x for x in h if x[2:5] == (ra, bg, ba)]
        acts = [x for x in same_bank if x[1] == "ACT"]
        if cmd == "ACT":
            pres = [x for x in same_bank if x[1] == "PRE"]
            if pres and t < pres[-1][0] + T["tRP"] or acts and t < acts[-1][0] + TRC:
                return False
            rank_acts = [x[0] for x in h if x[1] == "ACT" and x[2] == ra]
            if any(t < a + T["tRRD_S"] for a in rank_acts):
                return False
            if any(t < x[0] + T["tRRD_L"] for x in h if x[1] == "ACT" and x[2:4] == (ra, bg)):
                return False
            return len(rank_acts) < 4 or t >= rank_acts[-4] + T["tFAW"]
        if cmd == "PRE":
            since = [x for x in same_bank if x[0] >= acts[-1][0]]
            return t >= acts[-1][0] + T["tRAS"] and all(t >= x[0] + T["tRTP"] for x in since if x[1] == "RD")
        # RD
        if t < acts[-1][0] + T["tRCD"]:
            return False
        for x in h:
            if x[1] != "RD":
                continue
            if x[2] == ra and t < x[0] + (T["tCCD_L"] if x[3] == bg else T["tCCD_S"]):
                return False
            # data bursts [RD + CL, RD + CL + burst) never overlap; tRTRS idle between ranks
            gap = 0 if x[2] == ra else T["tRTRS"]
            if t + T["CL"] < x[0] + T["CL"] + BURST + gap and x[0] + T["CL"] < t + T["CL"] + BURST + gap:
                return False
        return True

    # -- queues -----------------------------------------------------------------------------
    def accept(self) -> None:
        while self.offers:
            # a request enters the read queue (if it has room) and moves on at once to its bank's
            # command queue if that has room and no older request of the bank waits
            if len(self.waiting) >= RQ:
                return
            r = self.offers.pop(0)
            b = self.bank(r)
            if any(self.bank(w) == b for w in self.waiting) or len(self.queues[b]) >= CQ:
                self.waiting.append(r)
            else:
                self.queues[b].append(r)

    def move_in(self, b: int) -> None:
        for w in self.waiting:
            if self.bank(w) == b:
                self.waiting.remove(w)
                self.queues[b].append(w)
                return

    # -- one cycle --------------------------------------------------------------------------
    def candidate(self, t: int, b: int):
        q = self.queues[b]
        for i, r in enumerate(q):
            _txn, ra, bg, ba, row, _col = r
            orow = self.open.get(b)
            if orow == row:
                cmd = "RD"
            elif i > 0:
                continue  # only row hits overtake the head
            elif orow is None:
                cmd = "ACT"
            else:
                hits = any(x[4] == orow for x in q)
                since = [x for x in self.hist if x[2:5] == (ra, bg, ba)]
                last_act = max(j for j, x in enumerate(since) if x[1] == "ACT")
                served = sum(1 for x in since[last_act:] if x[1] == "RD")
                if hits and served < CAP:
                    continue
                cmd = "PRE"
            if self.legal(t, cmd, ra, bg, ba):
                return cmd, r
        return None

    def tick(self, t: int) -> None:
        n = len(self.queues)
        for k in range(1, n + 1):
            b = (self.rr + k) % n
            c = self.candidate(t, b)
            if c is None:
                continue
            cmd, r = c
            txn, ra, bg, ba, row, col = r
            self.rr = b
            self.hist.append((t, cmd, ra, bg, ba, self.open[b] if cmd == "PRE" else row, col if cmd == "RD" else -1))
            if cmd == "ACT":
                self.open[b] = row
            elif cmd == "PRE":
                del self.open[b]
            else:
                self.queues[b].remove(r)
                self.ends[txn] = max(self.ends.get(txn, 0), t + T["CL"] + BURST)
                self.left[txn] -= 1
                self.move_in(b)
                self.accept()
            return

    def run(self, txns) -> tuple[list, dict]:
        """``txns``: (arrival cycle, address, bytes) in arrival order; returns (command log,
        completion cycle per transaction index)."""
        pending = list(enumerate(txns))
        t = 0
        while pending or self.offers or self.waiting or any(self.queues):
            while pending and pending[0][1][0] == t:
                i, (_at, address, nbytes) = pending.pop(0)
                first, last = address >> 6, (address + nbytes - 1) >> 6
                self.left[i] = last - first + 1
                self.offers += [(i, *split(q << 6, self.ranks)) for q in range(first, last + 1)]
            self.accept()
            self.tick(t)
            t += 1
        assert not any(self.left.values())
        return self.hist, self.ends


def model(ranks: int, txns) -> tuple[list, dict]:
    env, rec = simpy.Environment(), Recorder()
    dram = Dram(name="dram", env=env, recorder=rec, config=config(ranks), record_commands=True)
    ends: dict[int, int] = {}

    def one(i, at, address, nbytes):
        yield env.timeout(at * 1000)
        txn = rec.new_transaction(Cmd.READ, DataClass.NONE, address, nbytes, "t", "dram", now_ps=env.now)
        yield from dram.access(txn)
        ends[i] = env.now // 1000

    for i, (at, address, nbytes) in enumerate(txns):
        env.process(one(i, at, address, nbytes))
    env.run()
    dram.finalize(env.now)
    log = dram.command_log()
    hist = [(int(x.cycle), x.command, int(x.rank), int(x.bankgroup), int(x.bank), int(x.row), int(x.column))
            for x in log.itertuples()]
    return hist, ends


def txns_of(items, ranks):
    out = []
    for at, row, ra, bg, ba, col, nbursts in items:
        address = ((((row * ranks + ra % ranks) * BA + ba) * BG + bg) * COLS + col) * 64
        out.append((at, address, 64 * nbursts))
    return sorted(out, key=lambda x: x[0])  # stable: equal arrivals keep their order (as SimPy does)


def test_reference_on_a_hand_case():
    # two reads of bank 0 (rows 0 and 1) and one of bank 4 (group 1), all at cycle 0; row_hit_cap
    # does not bind. The round robin starts at bank 1: bank 4's ACT at 0, bank 0's ACT at
    # tRRD_S 2; RD bank 4 at 0 + tRCD 4, RD bank 0 row 0 at max(2 + 4, 4 + tCCD_S 5 = 9,
    # bus 4 + 4 = 8) = 9; then bank 0's PRE at max(2 + tRAS 11, 9 + tRTP 5) = 14, ACT row 1 at
    # max(14 + tRP 6, 2 + tRC 17) = 20, RD at 24
    items = [(0, 0, 0, 0, 0, 0, 1), (0, 1, 0, 0, 0, 0, 1), (0, 0, 0, 1, 0, 0, 1)]
    hist, ends = Reference(1).run(txns_of(items, 1))
    assert [(x[0], x[1], x[3], x[4]) for x in hist] == [
        (0, "ACT", 1, 0), (2, "ACT", 0, 0), (4, "RD", 1, 0), (9, "RD", 0, 0), (14, "PRE", 0, 0), (20, "ACT", 0, 0),
        (24, "RD", 0, 0)]
    assert ends == {2: 4 + 7 + 4, 0: 9 + 11, 1: 24 + 11}
    assert model(1, txns_of(items, 1)) == (hist, ends)


_item = st.tuples(st.integers(0, 150), st.integers(0, 2), st.integers(0, 1), st.integers(0, 1), st.integers(0, 2),
                  st.integers(0, 7), st.sampled_from([1, 1, 1, 2, 4, 8]))


@settings(max_examples=200, deadline=None)
@given(items=st.lists(_item, min_size=1, max_size=24), ranks=st.sampled_from([1, 2]))
def test_the_model_issues_what_the_brute_force_reference_issues(items, ranks):
    # rows 0-2 of few banks make hits, conflicts and the row-hit cap; bursts of 8 cross into the
    # next bank group (the column field is the lowest)
    txns = txns_of(items, ranks)
    assert model(ranks, txns) == Reference(ranks).run(txns)
