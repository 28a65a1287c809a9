"""An independent checker of a DRAM command stream against the timing rules.

Written apart from the DRAM model (``tlmsim.hw.dram``) on purpose: it knows nothing
of how the model schedules, only the command log (every ACT, PRE, RD, WR, REF with
its cycle, channel, rank, bank group, bank, row and column) and the resolved timing
parameters. It re-derives bank and rank state from the log and checks, with numpy
over the sorted log:

per bank     ACT only to a closed bank; RD/WR only to the open row of an open bank;
             ACT->RD/WR >= tRCD; ACT->PRE >= tRAS; PRE->ACT >= tRP; ACT->ACT >= tRC;
             RD->PRE >= AL + tRTP; WR->PRE >= WL + burst + tWR
per rank     ACT->ACT >= tRRD_L (same bank group) / tRRD_S; at most four ACTs in any
             tFAW window; RD/WR->RD/WR >= tCCD_L (same bank group) / tCCD_S;
             end of write data -> RD >= tWTR_L (same group) / tWTR_S;
             REF only with every bank of the rank precharged, PRE->REF >= tRP,
             REF->next ACT >= tRFC; at least one REF per tREFI on average
per channel  data bursts never overlap; a rank switch or a read->write turnaround
             leaves >= tRTRS idle cycles; at most one ACT/RD/WR/REF per cycle (HBM: one
             row command and one column command, its two command buses)
power        no command to a rank between its power-down entry (PDE) and exit (PDX),
             or self-refresh entry (SRE) and exit (SRX); PDE->PDX >= tCKE, SRE->SRX >=
             tCKESR; the rank's next command >= PDX + tXP, >= SRX + tXS

:func:`check_dram_commands` returns the violations (one sentence each, at most
``limit`` of them, the first ones in time). :class:`DramCommandChecker` checks a long
run chunk by chunk (time-sorted integer rows as the DRAM model hands them on), keeping
only the context later rules need, so memory stays bounded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from tlmsim.platform.dram import DramSpec

ACT, PRE, RD, WR, REF = "ACT", "PRE", "RD", "WR", "REF"
PDE, PDX, SRE, SRX = "PDE", "PDX", "SRE", "SRX"
#: command codes of the integer log rows (tlmsim.hw.dram's order)
CODES = (ACT, PRE, RD, WR, REF, PDE, PDX, SRE, SRX)


class _Names:
    """Command names of integer codes, looked up only for the rows a message names."""

    def __init__(self, code: np.ndarray) -> None:
        self.code = code

    def __getitem__(self, i) -> str:
        return CODES[int(self.code[i])]


class _Log:
    """The command log as int64 numpy columns plus derived ids."""

    def __init__(self, t, ch, ra, bg, ba, row, code, spec: "DramSpec") -> None:
        self.t, self.ch, self.ra, self.bg, self.ba, self.row = t, ch, ra, bg, ba, row
        self.is_ = {c: code == k for k, c in enumerate(CODES)}
        self.rank_id = self.ch * spec.ranks + self.ra
        self.bank_id = (self.rank_id * spec.bankgroups + self.bg) * spec.banks_per_group + self.ba
        self.cmd = _Names(code)

    @classmethod
    def from_frame(cls, log: "pd.DataFrame", spec: "DramSpec") -> "_Log":
        """From a ``Dram.command_log()`` frame (command names as strings or categories)."""
        names = log["command"].astype(str).to_numpy()
        code = np.full(len(names), -1, dtype=np.int64)
        for k, c in enumerate(CODES):
            code[names == c] = k
        col = {k: log[k].to_numpy(dtype=np.int64) for k in ("cycle", "channel", "rank", "bankgroup", "bank", "row")}
        return cls(col["cycle"], col["channel"], col["rank"], col["bankgroup"], col["bank"], col["row"], code, spec)

    @classmethod
    def from_records(cls, rec: np.ndarray, spec: "DramSpec") -> "_Log":
        """From the model's int64 rows (cycle, channel, global bank, command code, row, column)."""
        cyc, ch, gb, code, row = (rec[:, i] for i in range(5))
        b = gb % spec.banks_per_rank
        rank_cmd = code >= 4  # REF, PDE, PDX, SRE, SRX name a rank, not a bank
        return cls(cyc, ch, (gb // spec.banks_per_rank) % spec.ranks,
                   np.where(rank_cmd, -1, b // spec.banks_per_group), np.where(rank_cmd, -1, b % spec.banks_per_group),
                   row, code, spec)


def _last_before(order: np.ndarray, group: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """For each position of ``order`` (indices sorted by group, then time), the index
    of the latest earlier entry of the same group with ``mask`` set, or -1."""
    n = len(order)
    pos = np.where(mask[order], np.arange(n), -1)
    pos = np.maximum.accumulate(pos)
    # shift by one: strictly before
    prev = np.concatenate(([-1], pos[:-1]))
    g = group[order]
    # reset at group boundaries: an entry found in another group does not count
    valid = prev >= 0
    valid[valid] &= g[prev[valid]] == g[valid]
    out = np.full(n, -1, dtype=np.int64)
    out[valid] = order[prev[valid]]
    res = np.full(n, -1, dtype=np.int64)
    res[order] = out
    return res


def check_dram_commands(
    log: "pd.DataFrame", spec: "DramSpec", *, end_cycle: int | None = None, limit: int = 20,
    from_cycle: int | None = None,
) -> list[str]:
    """Every timing-rule violation in ``log`` (a ``Dram.command_log()``) under ``spec``;
    with ``from_cycle``, only those of commands at or after it (earlier rows are context)."""
    if len(log) == 0:
        return []
    return _check(_Log.from_frame(log, spec), spec, end_cycle=end_cycle, limit=limit, from_cycle=from_cycle)


def check_dram_records(
    rec: np.ndarray, spec: "DramSpec", *, end_cycle: int | None = None, limit: int = 20,
    from_cycle: int | None = None,
) -> list[str]:
    """:func:`check_dram_commands` on the model's int64 rows (cycle, channel, global bank,
    command code, row, column) as ``Dram.command_records()`` returns them: no DataFrame."""
    if len(rec) == 0:
        return []
    return _check(_Log.from_records(rec, spec), spec, end_cycle=end_cycle, limit=limit, from_cycle=from_cycle)


def _check(L: _Log, spec: "DramSpec", *, end_cycle: int | None, limit: int, from_cycle: int | None) -> list[str]:
    out: list[str] = []
    own = np.ones(len(L.t), dtype=bool) if from_cycle is None else L.t >= from_cycle
    bc, AL = spec.burst_cycles, spec.AL
    RL, WL = spec.AL + spec.CL, spec.AL + spec.CWL
    col = L.is_[RD] | L.is_[WR]

    def report(mask: np.ndarray, rule: str, other: np.ndarray | None = None) -> None:
        idx = np.flatnonzero(mask & own)
        for i in idx[:limit]:
            where = f"channel {L.ch[i]} rank {L.ra[i]} bankgroup {L.bg[i]} bank {L.ba[i]}"
            prev = f" (previous command at cycle {L.t[other[i]]})" if other is not None and other[i] >= 0 else ""
            out.append(f"cycle {L.t[i]}: {L.cmd[i]} at {where} breaks {rule}{prev}")

    # -- per bank -------------------------------------------------------------------
    # order: by bank, time; at equal time a PRE/REF precedes an ACT, an ACT a column command
    prio = np.select([L.is_[PRE], L.is_[REF], L.is_[ACT]], [0, 1, 2], 3)
    bank_order = np.lexsort((prio, L.t, L.bank_id))
    # REF rows (bank -1) sit in the order but match none of the masks below; the bank
    # state around refreshes is checked by _check_refresh
    last_act = _last_before(bank_order, L.bank_id, L.is_[ACT])
    last_pre = _last_before(bank_order, L.bank_id, L.is_[PRE])
    last_rd = _last_before(bank_order, L.bank_id, L.is_[RD])
    last_wr = _last_before(bank_order, L.bank_id, L.is_[WR])

    def since(prev: np.ndarray) -> np.ndarray:
        d = np.full(len(L.t), np.iinfo(np.int64).max, dtype=np.int64)
        ok = prev >= 0
        d[ok] = L.t[ok] - L.t[prev[ok]]
        return d

    # "open" means the latest ACT is after the latest PRE of the bank
    act_after_pre = (last_act >= 0) & ((last_pre < 0) | _later(last_act, last_pre, L, bank_order))
    report(L.is_[ACT] & act_after_pre, "ACT to an open bank", last_act)
    report(col & ~act_after_pre, "RD/WR to a closed bank", last_pre)
    report(col & act_after_pre & (L.row != L.row[np.maximum(last_act, 0)]), "RD/WR to a row that is not open", last_act)
    report(col & (since(last_act) < spec.tRCD), f"tRCD = {spec.tRCD}", last_act)
    report(L.is_[PRE] & act_after_pre & (since(last_act) < spec.tRAS), f"tRAS = {spec.tRAS}", last_act)
    report(L.is_[ACT] & (since(last_pre) < spec.tRP), f"tRP = {spec.tRP}", last_pre)
    report(L.is_[ACT] & (since(last_act) < spec.tRC), f"tRC = {spec.tRC}", last_act)
    report(L.is_[PRE] & (since(last_rd) < AL + spec.tRTP), f"AL + tRTP = {AL + spec.tRTP}", last_rd)
    report(L.is_[PRE] & (since(last_wr) < WL + bc + spec.tWR), f"WL + burst + tWR = {WL + bc + spec.tWR}", last_wr)

    # -- per rank ---------------------------------------------------------------------
    acts = np.flatnonzero(L.is_[ACT])
    a_order = acts[np.lexsort((L.t[acts], L.rank_id[acts]))]
    same_rank = L.rank_id[a_order[1:]] == L.rank_id[a_order[:-1]]
    gap = L.t[a_order[1:]] - L.t[a_order[:-1]]
    same_bg = L.bg[a_order[1:]] == L.bg[a_order[:-1]]
    need = np.where(same_bg, spec.tRRD_L, spec.tRRD_S)
    bad = np.zeros(len(L.t), dtype=bool)
    bad[a_order[1:][same_rank & (gap < need)]] = True
    report(bad, f"tRRD_S/L = {spec.tRRD_S}/{spec.tRRD_L}")
    if len(a_order) > 4:
        same4 = L.rank_id[a_order[4:]] == L.rank_id[a_order[:-4]]
        win = L.t[a_order[4:]] - L.t[a_order[:-4]]
        bad = np.zeros(len(L.t), dtype=bool)
        bad[a_order[4:][same4 & (win < spec.tFAW)]] = True
        report(bad, f"tFAW = {spec.tFAW} (a fifth ACT in the window)")

    cols = np.flatnonzero(col)
    c_order = cols[np.lexsort((L.t[cols], L.rank_id[cols]))]
    if len(c_order) > 1:
        a, b = c_order[:-1], c_order[1:]
        same_rank = L.rank_id[a] == L.rank_id[b]
        need = np.where(L.bg[a] == L.bg[b], spec.tCCD_L, spec.tCCD_S)
        bad = np.zeros(len(L.t), dtype=bool)
        bad[b[same_rank & (L.t[b] - L.t[a] < need)]] = True
        report(bad, f"tCCD_S/L = {spec.tCCD_S}/{spec.tCCD_L}")
    # write -> read: for each RD, the latest WR of the rank (tWTR_S) and of its bank group (tWTR_L)
    rank_order = np.lexsort((L.t, L.rank_id))
    rbg = L.rank_id * spec.bankgroups + L.bg
    rbg_order = np.lexsort((L.t, rbg))
    for group, order, twtr, name in (
        (L.rank_id, rank_order, spec.tWTR_S, "tWTR_S"), (rbg, rbg_order, spec.tWTR_L, "tWTR_L")
    ):
        lw = _last_before(order, group, L.is_[WR])
        ok = L.is_[RD] & (lw >= 0)
        bad = np.zeros(len(L.t), dtype=bool)
        bad[ok] = L.t[ok] < L.t[lw[ok]] + WL + bc + twtr
        report(bad, f"WL + burst + {name} = {WL + bc + twtr} after a write", lw)

    # refresh: every bank of the rank closed; tRP after the last PRE; tRFC before the next ACT
    refs = np.flatnonzero(L.is_[REF])
    if len(refs):
        _check_refresh(L, spec, refs, out, limit, end_cycle, own)
    _check_power(L, spec, report)

    # -- per channel: data bus and command bus --------------------------------------------
    start = np.where(L.is_[RD], L.t + RL, L.t + WL)
    d_order = cols[np.lexsort((start[cols], L.ch[cols]))]
    if len(d_order) > 1:
        a, b = d_order[:-1], d_order[1:]
        same_ch = L.ch[a] == L.ch[b]
        turn = (L.rank_id[a] != L.rank_id[b]) | (L.is_[RD][a] & L.is_[WR][b])
        need = start[a] + bc + np.where(turn, spec.tRTRS, 0)
        bad = np.zeros(len(L.t), dtype=bool)
        bad[b[same_ch & (start[b] < need)]] = True
        report(bad, f"the data bus (burst {bc} cycles, tRTRS = {spec.tRTRS} on a rank switch or read->write)")
    power = L.is_[PDE] | L.is_[PDX] | L.is_[SRE] | L.is_[SRX]
    slot = np.flatnonzero(~L.is_[PRE] & ~power)  # auto-precharges take no command-bus slot
    key = L.ch[slot] * (int(L.t.max()) + 1) + L.t[slot]
    if spec.protocol == "HBM":  # separate row and column command buses
        key = key * 2 + col[slot]
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    bad = np.zeros(len(L.t), dtype=bool)
    bad[slot[first[counts > 1]]] = True
    report(bad, "one command per cycle on the channel's command bus")
    return out[:limit]


def _later(a: np.ndarray, b: np.ndarray, L: _Log, order: np.ndarray) -> np.ndarray:
    """Whether command index ``a`` comes after index ``b`` in the per-bank order."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    res = np.zeros(len(a), dtype=bool)
    ok = (a >= 0) & (b >= 0)
    res[ok] = rank[a[ok]] > rank[b[ok]]
    res[(a >= 0) & (b < 0)] = True
    return res


def _check_power(L: _Log, spec: "DramSpec", report) -> None:
    """Power-down and self-refresh: no command inside, exit timings after."""
    pw = L.is_[PDE] | L.is_[PDX] | L.is_[SRE] | L.is_[SRX]
    if not pw.any():
        return
    order = np.lexsort((np.where(pw, 0, 1), L.t, L.rank_id))  # at one cycle the power event first
    pos = np.where(pw[order], np.arange(len(order)), -1)
    pos = np.maximum.accumulate(pos)
    g = L.rank_id[order]
    prev = pos.copy()  # a power event's own previous event: strictly before it
    prev[pw[order]] = np.concatenate(([-1], pos[:-1]))[pw[order]]
    valid = prev >= 0
    valid[valid] &= g[prev[valid]] == g[valid]
    last = np.full(len(order), -1, dtype=np.int64)
    last[valid] = order[prev[valid]]
    res = np.full(len(order), -1, dtype=np.int64)
    res[order] = last
    has = res >= 0
    j = np.maximum(res, 0)
    ev_t = np.where(has, L.t[j], 0)
    after = {c: has & L.is_[c][j] for c in (PDE, PDX, SRE, SRX)}
    cmd = ~pw
    report(cmd & (after[PDE] | after[SRE]), "no command while the rank is powered down or in self-refresh", res)
    report(cmd & after[PDX] & (L.t < ev_t + spec.tXP), f"tXP = {spec.tXP} after a power-down exit", res)
    report(cmd & after[SRX] & (L.t < ev_t + spec.tXS), f"tXS = {spec.tXS} after a self-refresh exit", res)
    report(L.is_[PDX] & ~after[PDE], "a power-down exit without an entry", res)
    report(L.is_[SRX] & ~after[SRE], "a self-refresh exit without an entry", res)
    report(L.is_[PDX] & after[PDE] & (L.t < ev_t + spec.tCKE), f"tCKE = {spec.tCKE} in power-down", res)
    report(L.is_[SRX] & after[SRE] & (L.t < ev_t + spec.tCKESR), f"tCKESR = {spec.tCKESR} in self-refresh", res)


class DramCommandChecker:
    """Check a run's command log chunk by chunk: :meth:`feed` time-sorted int64 rows
    (cycle, channel, global bank, command code, row, column) as the DRAM model hands
    them on, then :meth:`finish`.

    Each chunk is checked together with context rows from before it: every row of the
    last ``window`` cycles (longer than any timing rule but tREFI) and, per bank, its
    last ACT, PRE, RD and WR, per rank its last four ACTs, its last REF and its last
    power event, so that open rows, tRC, tFAW and power states carry across chunks."""

    def __init__(self, spec: "DramSpec", *, limit: int = 20) -> None:
        self.spec = spec
        self.limit = limit
        s = spec
        self.window = 2 * max(s.tRC, s.tFAW, s.tRFC, s.CL + s.CWL + s.tWR + s.tRTP + s.tWTR_L + 4 * s.tCCD_L,
                              s.tXS, s.tXP + s.tCKE, s.tCKESR) + 64
        self.ctx = np.zeros((0, 6), np.int64)
        self.violations: list[str] = []
        self.rows = 0

    def feed(self, rows: np.ndarray) -> None:
        if len(rows) == 0 or len(self.violations) >= self.limit:
            return
        self.rows += len(rows)
        start = int(rows[0, 0])
        both = np.concatenate([self.ctx, rows]) if len(self.ctx) else rows
        self.violations += check_dram_records(both, self.spec, limit=self.limit - len(self.violations),
                                              from_cycle=start if len(self.ctx) else None)
        self.ctx = self._context(both)

    def _context(self, rec: np.ndarray) -> np.ndarray:
        end = int(rec[-1, 0])
        keep = rec[:, 0] >= end - self.window
        cmd, gb = rec[:, 3], rec[:, 2]
        rank = gb // self.spec.banks_per_rank
        idx = np.arange(len(rec))

        def last_of(mask: np.ndarray, key: np.ndarray) -> None:
            if mask.any():
                _, first = np.unique(key[mask][::-1], return_index=True)
                keep[idx[mask][::-1][first]] = True

        for code in (0, 1, 2, 3):  # last ACT, PRE, RD, WR per bank
            last_of(cmd == code, gb)
        last_of(cmd == 4, rank)  # last REF per rank
        last_of(cmd >= 5, rank)  # last power event per rank
        acts = idx[cmd == 0]
        for r in np.unique(rank[acts]):  # last four ACTs per rank
            keep[acts[rank[acts] == r][-4:]] = True
        return rec[keep]

    def finish(self) -> list[str]:
        return self.violations[: self.limit]


def _check_refresh(L: _Log, spec: "DramSpec", refs: np.ndarray, out: list[str], limit: int,
                   end_cycle: int | None, own: np.ndarray | None = None) -> None:
    banks = spec.bankgroups * spec.banks_per_group
    order = np.lexsort((np.select([L.is_[PRE], L.is_[REF], L.is_[ACT]], [0, 1, 2], 3), L.t))
    # walk the log once in time order, keeping per-bank open state and last PRE time
    open_ = np.zeros(spec.channels * spec.ranks * banks, dtype=bool)
    last_pre = np.full(len(open_), -(10**18), dtype=np.int64)
    ref_busy = np.full(spec.channels * spec.ranks, -(10**18), dtype=np.int64)
    n_ref = np.zeros(spec.channels * spec.ranks, dtype=np.int64)
    is_act, is_pre, is_ref = L.is_[ACT], L.is_[PRE], L.is_[REF]
    t, bank, rank = L.t, L.bank_id, L.rank_id
    rows = order[~L.is_[RD][order] & ~L.is_[WR][order]]
    for i in rows.tolist():
        r = rank[i]
        mine = own is None or own[i]
        if is_ref[i]:
            lo = r * banks
            if mine and open_[lo:lo + banks].any():
                out.append(f"cycle {t[i]}: REF at channel {L.ch[i]} rank {L.ra[i]} with a bank still open")
            elif mine and t[i] < last_pre[lo:lo + banks].max() + spec.tRP:
                out.append(f"cycle {t[i]}: REF at channel {L.ch[i]} rank {L.ra[i]} breaks tRP = {spec.tRP} after a PRE")
            ref_busy[r] = t[i] + spec.tRFC
            n_ref[r] += 1
        elif is_act[i]:
            if mine and t[i] < ref_busy[r]:
                out.append(f"cycle {t[i]}: ACT at channel {L.ch[i]} rank {L.ra[i]} during a refresh (tRFC = {spec.tRFC})")
            open_[bank[i]] = True
        elif is_pre[i]:
            open_[bank[i]] = False
            last_pre[bank[i]] = t[i]
        if len(out) >= limit:
            return
    if end_cycle is not None:
        want = end_cycle // spec.tREFI - 1
        for r in np.flatnonzero(n_ref < want):
            out.append(f"rank {r}: {n_ref[r]} refreshes in {end_cycle} cycles; tREFI = {spec.tREFI} needs >= {want}")
