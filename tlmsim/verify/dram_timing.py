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

from tlmsim.verify import dram_scan

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


#: cycles beyond which the one-key sorts (cycle x 4 + priority) could overflow: then lexsort
_BIG = 1 << 60


class _Log:
    """The command log as contiguous int64 numpy columns plus derived ids and the time
    orders every rule sorts by (built once per check)."""

    def __init__(self, t, ch, ra, bg, ba, row, code, spec: "DramSpec") -> None:
        self.t, self.ch, self.ra, self.bg, self.ba, self.row = t, ch, ra, bg, ba, row
        self.is_ = {c: code == k for k, c in enumerate(CODES)}
        self.rank_id = self.ch * spec.ranks + self.ra
        self.bank_id = (self.rank_id * spec.bankgroups + self.bg) * spec.banks_per_group + self.ba
        self.cmd = _Names(code)
        n = len(t)
        #: True when the cycles fit the one-key sorts below
        self.small = n == 0 or (int(t.max()) < _BIG and int(t.min()) > -_BIG)
        #: True when the rows are sorted by cycle (as the model hands them on)
        self.sorted = _ascending(t)
        #: row indices by (cycle, index): the identity for a time-sorted log
        self.by_time = np.arange(n) if self.sorted else np.argsort(t, kind="stable")
        #: True when every row is of one rank (so of one channel), or of one channel: the rules
        #: then skip the gathers that tell ranks or channels apart
        self.one_rank = n == 0 or int(self.rank_id.min()) == int(self.rank_id.max())
        self.one_ch = n == 0 or int(ch.min()) == int(ch.max())

    @classmethod
    def from_frame(cls, log: "pd.DataFrame", spec: "DramSpec") -> "_Log":
        """From a ``Dram.command_log()`` frame (command names as strings or categories)."""
        names = log["command"].astype(str).to_numpy()
        code = np.full(len(names), -1, dtype=np.int64)
        for k, c in enumerate(CODES):
            code[names == c] = k
        known = code >= 0  # a row naming no known command is ignored (it takes no command-bus slot either)
        col = {k: log[k].to_numpy(dtype=np.int64)[known]
               for k in ("cycle", "channel", "rank", "bankgroup", "bank", "row")}
        return cls(col["cycle"], col["channel"], col["rank"], col["bankgroup"], col["bank"], col["row"], code[known],
                   spec)

    @classmethod
    def from_records(cls, rec: np.ndarray, spec: "DramSpec") -> "_Log":
        """From the model's int64 rows (cycle, channel, global bank, command code, row, column)."""
        # one contiguous copy per column: every rule below reads whole columns
        cyc, ch, gb, code, row = np.ascontiguousarray(rec[:, :5].T, dtype=np.int64)
        rank_cmd = code >= 4  # REF, PDE, PDX, SRE, SRX name a rank, not a bank
        bpr = spec.banks_per_rank
        n_gb = spec.channels * spec.ranks * bpr
        if len(gb) and int(gb.min()) >= 0 and int(gb.max()) < n_gb:
            # every global bank in range: its rank, bank group and bank looked up (one gather each)
            # instead of computed (a division per row and field)
            g = np.arange(n_gb)
            ra, bg, ba = ((g // bpr) % spec.ranks)[gb], ((g % bpr) // spec.banks_per_group)[gb], \
                ((g % bpr) % spec.banks_per_group)[gb]
        else:
            b = gb % bpr
            ra, bg, ba = (gb // bpr) % spec.ranks, b // spec.banks_per_group, b % spec.banks_per_group
        log = cls(cyc, ch, ra, np.where(rank_cmd, -1, bg), np.where(rank_cmd, -1, ba), row, code, spec)
        log.gb = gb  # (the streaming checker's context rows are chosen by global bank)
        return log

    def by_time_then(self, minor: np.ndarray, span: int) -> np.ndarray:
        """Row indices by (cycle, ``minor``, index), ``minor`` in ``[0, span)``:
        ``np.lexsort((minor, t))``."""
        if self.small:
            key = self.t * span + minor
            if self.sorted and _ascending(key):
                return self.by_time  # already in that order (as the model hands its rows on): no sort
            return np.argsort(key, kind="stable")
        return np.lexsort((minor, self.t))


def _ascending(a: np.ndarray) -> bool:
    """Whether ``a`` is in ascending order (equal neighbours allowed): a stable sort would keep it."""
    return len(a) < 2 or bool((a[1:] >= a[:-1]).all())


def _by_rank(L: _Log, m: np.ndarray) -> np.ndarray:
    """The rows of the mask ``m`` by (rank, cycle, index)."""
    rows = np.flatnonzero(m) if L.sorted else L.by_time[m[L.by_time]]
    return rows if L.one_rank else _regroup(L.rank_id, rows)


def _regroup(key: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``order`` stably re-sorted by ``key`` (of its rows): by (key, position in ``order``);
    ``np.lexsort((..., key))`` when ``order`` is sorted by the other keys."""
    k = key[order]
    if len(k):
        lo, hi = int(k.min()), int(k.max())
        if lo == hi:  # one key (one rank, one channel): already in order
            return order
        if hi - lo < 1 << 15:  # a 16-bit key: numpy's stable sort is a radix sort
            k = (k - lo).astype(np.int16)
    return order[np.argsort(k, kind="stable")]


class _Groups:
    """Rows in ``order`` (sorted by ``group``, so each group's rows are contiguous): the
    rules below work on columns gathered in this order ("order space": position k is row
    ``order[k]``), where a row's predecessors in its group are nearby, and map back to
    rows only the few positions they report."""

    def __init__(self, order: np.ndarray, group: np.ndarray) -> None:
        n = len(order)
        self.order = order
        self.pos = np.arange(n)
        g = group[order]
        #: per position, the position of its group's first row (None: one group, all 0)
        self.start = None
        if n and g[0] != g[-1]:  # (the groups are contiguous: one group if the ends agree)
            new = np.empty(n, dtype=bool)
            new[:1] = True
            np.not_equal(g[1:], g[:-1], out=new[1:])
            self.start = np.maximum.accumulate(np.where(new, self.pos, 0))

    def prev(self, m: np.ndarray, inclusive: np.ndarray | None = None) -> np.ndarray:
        """Per position, the latest earlier position of the same group where the mask ``m``
        (in order space) is set, or -1; with ``inclusive`` (a mask in order space), those
        positions also see themselves."""
        p = np.where(m, self.pos, -1)
        np.maximum.accumulate(p, out=p)
        prev = np.empty_like(p)
        prev[:1] = -1
        prev[1:] = p[:-1]
        if inclusive is not None:
            prev = np.where(inclusive, p, prev)
        return prev if self.start is None else np.where(prev >= self.start, prev, -1)

    def prev_at(self, m: np.ndarray, at: np.ndarray) -> np.ndarray:
        """:meth:`prev` ``(m)`` at the positions ``at`` only (ascending): a binary search
        among the set positions of ``m`` instead of passes over every position."""
        src = np.flatnonzero(m)
        if not len(src) or not len(at):
            return np.full(len(at), -1, dtype=np.int64)
        j = np.searchsorted(src, at) - 1  # the last set position before each of ``at``
        prev = np.where(j >= 0, src[j], -1)
        return prev if self.start is None else np.where(prev >= self.start[at], prev, -1)


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


_NONE = np.iinfo(np.int64).max


def _check(L: _Log, spec: "DramSpec", *, end_cycle: int | None, limit: int, from_cycle: int | None) -> list[str]:
    out: list[str] = []
    n = len(L.t)
    own = None if from_cycle is None else L.t >= from_cycle
    bc, AL = spec.burst_cycles, spec.AL
    RL, WL = spec.AL + spec.CL, spec.AL + spec.CWL
    t = L.t
    is_act, is_pre, is_rd, is_wr, is_ref = L.is_[ACT], L.is_[PRE], L.is_[RD], L.is_[WR], L.is_[REF]
    col = is_rd | is_wr

    def emit(rows: np.ndarray, rule: str, other: np.ndarray | None) -> None:
        for i, j in zip(rows.tolist(), other.tolist() if other is not None else [-1] * len(rows)):
            where = f"channel {L.ch[i]} rank {L.ra[i]} bankgroup {L.bg[i]} bank {L.ba[i]}"
            prev = f" (previous command at cycle {t[j]})" if j >= 0 else ""
            out.append(f"cycle {t[i]}: {L.cmd[i]} at {where} breaks {rule}{prev}")

    def report(mask: np.ndarray, rule: str, other: np.ndarray | None = None) -> None:
        """The first ``limit`` rows (by index) of ``mask``; ``other``: per row the row of
        the command it is measured from (-1: none)."""
        idx = np.flatnonzero(mask if own is None else mask & own)[:limit]
        emit(idx, rule, other[idx] if other is not None else None)

    def report_rows(rows: np.ndarray, rule: str, other: np.ndarray) -> None:
        """:func:`report` of the rows ``rows`` (distinct, ascending), ``other`` per row."""
        if own is not None:
            mine = own[rows]
            rows, other = rows[mine], other[mine]
        emit(rows[:limit], rule, other[:limit])

    def report_in(g: _Groups, m: np.ndarray, rule: str, other: np.ndarray | None = None, *,
                  at: np.ndarray | None = None) -> None:
        """:func:`report` of a mask ``m`` in ``g``'s order space; ``other``: per position
        the position of the command it is measured from (-1: none). With ``at``: the
        positions themselves (distinct), ``other`` then per position of ``at``."""
        o = g.order
        if at is None:
            k = np.flatnonzero(m if own is None else m & own[o])
        else:
            k = at if own is None else at[own[o[at]]]
            if other is not None and own is not None:
                other = other[own[o[at]]]
        if len(k):
            rows = o[k]
            first = np.argsort(rows, kind="stable")[:limit]
            prev = None if other is None else (other[k[first]] if at is None else other[first])
            emit(rows[first], rule, None if prev is None else np.where(prev >= 0, o[prev], -1))

    # -- per bank -------------------------------------------------------------------
    # order: by bank, time; at equal time a PRE/REF precedes an ACT, an ACT a column command
    prio = np.full(n, 3, dtype=np.int64)
    prio[is_act] = 2
    prio[is_ref] = 1
    prio[is_pre] = 0
    by_prio = L.by_time_then(prio, 4)  # (cycle, priority, index): also the refresh walk's order
    banks = _Groups(_regroup(L.bank_id, by_prio), L.bank_id)
    o = banks.order
    # REF rows (bank -1) sit in the order but match none of the masks below; the bank
    # state around refreshes is checked by _check_refresh
    T, A, P, C = t[o], is_act[o], is_pre[o], col[o]
    last_act = banks.prev(A)
    last_pre = banks.prev(P)

    def since(prev: np.ndarray) -> np.ndarray:
        return np.where(prev >= 0, T - T[prev], _NONE)

    # "open" means the latest ACT is after the latest PRE of the bank
    act_after_pre = (last_act >= 0) & ((last_pre < 0) | (last_act > last_pre))
    s_act = since(last_act)
    row = L.row[o]
    report_in(banks, A & act_after_pre, "ACT to an open bank", last_act)
    report_in(banks, C & ~act_after_pre, "RD/WR to a closed bank", last_pre)
    report_in(banks, C & act_after_pre & (row != row[last_act]), "RD/WR to a row that is not open", last_act)
    report_in(banks, C & (s_act < spec.tRCD), f"tRCD = {spec.tRCD}", last_act)
    report_in(banks, P & act_after_pre & (s_act < spec.tRAS), f"tRAS = {spec.tRAS}", last_act)
    report_in(banks, A & (since(last_pre) < spec.tRP), f"tRP = {spec.tRP}", last_pre)
    report_in(banks, A & (s_act < spec.tRC), f"tRC = {spec.tRC}", last_act)
    # RD->PRE and WR->PRE judge only the (few) PREs: their bank's latest RD and WR by binary search
    pk = np.flatnonzero(P)
    for m, need, rule in ((is_rd[o], AL + spec.tRTP, f"AL + tRTP = {AL + spec.tRTP}"),
                          (is_wr[o], WL + bc + spec.tWR, f"WL + burst + tWR = {WL + bc + spec.tWR}")):
        last = banks.prev_at(m, pk)
        bad = (last >= 0) & (T[pk] - T[last] < need)
        report_in(banks, None, rule, last[bad], at=pk[bad])

    # -- per rank ---------------------------------------------------------------------
    # the ACTs by (rank, cycle, index)
    a_order = _by_rank(L, is_act)
    same_rank = True if L.one_rank else L.rank_id[a_order[1:]] == L.rank_id[a_order[:-1]]
    gap = t[a_order[1:]] - t[a_order[:-1]]
    same_bg = L.bg[a_order[1:]] == L.bg[a_order[:-1]]
    need = np.where(same_bg, spec.tRRD_L, spec.tRRD_S)
    bad = np.zeros(n, dtype=bool)
    bad[a_order[1:][same_rank & (gap < need)]] = True
    report(bad, f"tRRD_S/L = {spec.tRRD_S}/{spec.tRRD_L}")
    if len(a_order) > 4:
        same4 = True if L.one_rank else L.rank_id[a_order[4:]] == L.rank_id[a_order[:-4]]
        win = t[a_order[4:]] - t[a_order[:-4]]
        bad = np.zeros(n, dtype=bool)
        bad[a_order[4:][same4 & (win < spec.tFAW)]] = True
        report(bad, f"tFAW = {spec.tFAW} (a fifth ACT in the window)")

    c_order = _by_rank(L, col)  # the column commands by (rank, cycle, index)
    if len(c_order) > 1:
        a, b = c_order[:-1], c_order[1:]
        same_rank = True if L.one_rank else L.rank_id[a] == L.rank_id[b]
        need = np.where(L.bg[a] == L.bg[b], spec.tCCD_L, spec.tCCD_S)
        bad = np.zeros(n, dtype=bool)
        bad[b[same_rank & (t[b] - t[a] < need)]] = True
        report(bad, f"tCCD_S/L = {spec.tCCD_S}/{spec.tCCD_L}")
    # write -> read: an RD closer than WL + burst + tWTR after the latest WR (by cycle, index) of its
    # rank (tWTR_S) or of its bank group (tWTR_L). Only the RDs in some WR's window can break it (an
    # earlier WR is no closer), and WRs are few: the (WR, RD) pairs of the windows are visited, not
    # every RD
    wr = np.flatnonzero(is_wr if L.sorted else is_wr[L.by_time])  # the WRs' positions in time order
    if len(wr):
        ts = t if L.sorted else t[L.by_time]
        rbg = L.rank_id * spec.bankgroups + L.bg
        for group, twtr, name in ((L.rank_id, spec.tWTR_S, "tWTR_S"), (rbg, spec.tWTR_L, "tWTR_L")):
            need = WL + bc + twtr
            lo = wr + 1
            cnt = np.maximum(np.searchsorted(ts, ts[wr] + need, side="left") - lo, 0)
            # every position of each WR's window, with its WR (by WR, then position)
            pos = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
            wpos = np.repeat(wr, cnt)
            rd, w = L.by_time[pos], L.by_time[wpos]
            keep = is_rd[rd] & (group[rd] == group[w])
            rd, w = rd[keep], w[keep]
            # each RD's latest WR of its group: the last of its pairs (in WR order)
            s = np.argsort(rd, kind="stable")
            rd, w = rd[s], w[s]
            last = np.ones(len(rd), dtype=bool)
            last[:-1] = rd[1:] != rd[:-1]
            report_rows(rd[last], f"WL + burst + {name} = {need} after a write", w[last])

    # refresh: every bank of the rank closed; tRP after the last PRE; tRFC before the next ACT
    if is_ref.any():
        _check_refresh(L, spec, by_prio, out, limit, end_cycle, own)
    _check_power(L, spec, report_in)

    # -- per channel: data bus and command bus --------------------------------------------
    cols = np.flatnonzero(col)
    if len(cols) > 1:
        start = np.where(is_rd, t + RL, t + WL)
        sc = start[cols]
        d_order = cols if _ascending(sc) else cols[np.argsort(sc, kind="stable")]  # (channel, data start, index)
        if not L.one_ch:
            d_order = _regroup(L.ch, d_order)
        a, b = d_order[:-1], d_order[1:]
        same_ch = True if L.one_ch else L.ch[a] == L.ch[b]
        turn = is_rd[a] & is_wr[b]
        if not L.one_rank:
            turn |= L.rank_id[a] != L.rank_id[b]
        need = start[a] + bc + np.where(turn, spec.tRTRS, 0)
        bad = np.zeros(n, dtype=bool)
        bad[b[same_ch & (start[b] < need)]] = True
        report(bad, f"the data bus (burst {bc} cycles, tRTRS = {spec.tRTRS} on a rank switch or read->write)")
    power = L.is_[PDE] | L.is_[PDX] | L.is_[SRE] | L.is_[SRX]
    slot = np.flatnonzero(~is_pre & ~power)  # auto-precharges take no command-bus slot
    if len(slot) > 1:
        key = t[slot] if L.one_ch else L.ch[slot] * (int(t.max()) + 1) + t[slot]
        if spec.protocol == "HBM":  # separate row and column command buses
            key = key * 2 + col[slot]
        # the first row (lowest index) of every key that occurs more than once
        s = None if _ascending(key) else np.argsort(key, kind="stable")  # (None: in order already)
        ks = key if s is None else key[s]
        dup = ks[1:] == ks[:-1]
        first = np.flatnonzero(dup & np.concatenate(([True], ~dup[:-1])))
        bad = np.zeros(n, dtype=bool)
        bad[slot[first] if s is None else slot[s[first]]] = True
        report(bad, "one command per cycle on the channel's command bus")
    return out[:limit]


def _check_power(L: _Log, spec: "DramSpec", report_in) -> None:
    """Power-down and self-refresh: no command inside, exit timings after. Per rank in
    time order (at one cycle the power event first), the power events cut the rank's
    commands into intervals: each command is judged by the event that opens its
    interval, each power event by the one before it; only the (few) power events and
    the commands they reach are visited."""
    pw = L.is_[PDE] | L.is_[PDX] | L.is_[SRE] | L.is_[SRX]
    if not pw.any():
        return
    g = _Groups(_regroup(L.rank_id, L.by_time_then((~pw).astype(np.int64), 2)), L.rank_id)
    o = g.order
    n = len(o)
    e = np.flatnonzero(pw[o])  # the power events' positions
    rows = o[e]
    code = L.cmd.code[rows]
    te = L.t[rows]
    # the interval each event opens ends at the next power event or at its rank's end
    nxt = np.append(e[1:], n)
    gk = L.rank_id[o]
    if g.start is None:
        gs = np.zeros(len(e), dtype=np.int64)
        end = np.minimum(nxt, n)
    else:
        gs = g.start[e]
        end = np.minimum(nxt, np.searchsorted(gk, gk[e], side="right"))
    # each event's previous event of its rank (-1: none)
    pe = np.append(-1, e[:-1])
    pe = np.where(pe >= gs, pe, -1)
    pcode = np.where(pe >= 0, np.append(-1, code[:-1]), -1)
    pt = np.append(0, te[:-1])
    c_pde, c_pdx, c_sre, c_srx = (CODES.index(c) for c in (PDE, PDX, SRE, SRX))

    # (rank, cycle) as one ascending key (the order's), cycles clipped to the log's end + 1: one
    # search for (rank, limit) per event stops inside the rank's own rows
    T = L.t[o]
    t0, t1 = int(T.min()), int(T.max()) + 1
    span = t1 - t0 + 1
    small = span * (int(gk.max()) + 1) < _BIG
    if small:
        key = gk * span + (T - t0)

    def inside(which: np.ndarray, limit_t: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The command positions in the intervals of the events ``which`` (indices into
        ``e``), only those before ``limit_t`` (per event) if given; with their event's position."""
        lo, hi = e[which] + 1, end[which]
        if limit_t is not None and len(which):
            if small:
                cut = np.searchsorted(key, gk[e[which]] * span + (np.minimum(limit_t, t1) - t0), side="left")
            else:  # cycles too large for one key: one search per event
                cut = np.array([a + int(np.searchsorted(T[a:b], lim, side="left"))
                                for a, b, lim in zip(lo.tolist(), hi.tolist(), limit_t.tolist())], dtype=np.int64)
            hi = np.maximum(np.minimum(hi, cut), lo)
        cnt = np.maximum(hi - lo, 0)
        # the positions lo..hi-1 of every event, in event order
        k = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
        return k, np.repeat(e[which], cnt)

    def report_at(k: np.ndarray, rule: str, prev: np.ndarray) -> None:
        report_in(g, None, rule, prev, at=k)

    k, p = inside(np.flatnonzero((code == c_pde) | (code == c_sre)), None)
    report_at(k, "no command while the rank is powered down or in self-refresh", p)
    x = np.flatnonzero(code == c_pdx)
    k, p = inside(x, te[x] + spec.tXP)
    report_at(k, f"tXP = {spec.tXP} after a power-down exit", p)
    x = np.flatnonzero(code == c_srx)
    k, p = inside(x, te[x] + spec.tXS)
    report_at(k, f"tXS = {spec.tXS} after a self-refresh exit", p)
    is_pdx, is_srx = code == c_pdx, code == c_srx
    after_pde, after_sre = pcode == c_pde, pcode == c_sre
    report_at(e[is_pdx & ~after_pde], "a power-down exit without an entry", pe[is_pdx & ~after_pde])
    report_at(e[is_srx & ~after_sre], "a self-refresh exit without an entry", pe[is_srx & ~after_sre])
    bad = is_pdx & after_pde & (te < pt + spec.tCKE)
    report_at(e[bad], f"tCKE = {spec.tCKE} in power-down", pe[bad])
    bad = is_srx & after_sre & (te < pt + spec.tCKESR)
    report_at(e[bad], f"tCKESR = {spec.tCKESR} in self-refresh", pe[bad])


class DramCommandChecker:
    """Check a run's command log chunk by chunk: :meth:`feed` time-sorted int64 rows
    (cycle, channel, global bank, command code, row, column) as the DRAM model hands
    them on, then :meth:`finish`.

    Each chunk is checked together with context rows from before it: every row of the
    last ``window`` cycles (longer than any timing rule but tREFI) and, per bank, its
    last ACT, PRE, RD and WR, per rank its last four ACTs, its last REF and its last
    power event, so that open rows, tRC, tFAW and power states carry across chunks."""

    def __init__(self, spec: "DramSpec", *, limit: int = 20, screen: bool | None = None) -> None:
        self.spec = spec
        self.limit = limit
        #: screen each chunk first (tlmsim/verify/dram_scan.py) and check with ``_check`` only the
        #: chunks it cannot clear: the same verdicts, less work. None: when the screen's compiled
        #: build runs (as pure Python it costs more than it saves)
        if screen is None:
            from tlmsim.kernels import kernel

            screen = kernel("tlmsim.verify.dram_scan") == "compiled"
        self.screen = screen
        self.screened = 0  # chunks the screen cleared
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
        from_cycle = start if len(self.ctx) else None
        if self.screen and dram_scan.screen(both, self.spec, from_cycle):
            self.screened += 1
            t, gb, cmd = np.ascontiguousarray(both[:, [0, 2, 3]].T)
        else:
            log = _Log.from_records(both, self.spec)  # (check_dram_records, keeping the columns for the context)
            self.violations += _check(log, self.spec, end_cycle=None, limit=self.limit - len(self.violations),
                                      from_cycle=from_cycle)
            t, gb, cmd = log.t, log.gb, log.cmd.code
        self.ctx = self._context(both, t, cmd, gb)

    def _context(self, rec: np.ndarray, t: np.ndarray, cmd: np.ndarray, gb: np.ndarray) -> np.ndarray:
        """The rows of ``rec`` (whose cycles, command codes and global banks are ``t``, ``cmd``,
        ``gb``) the next chunk's check needs."""
        keep = t >= int(t[-1]) - self.window
        rank = gb // self.spec.banks_per_rank

        def last_of(mask: np.ndarray, key: np.ndarray, k: int = 1) -> None:
            """Keep the last ``k`` rows of ``mask`` of every ``key``."""
            rows = np.flatnonzero(mask)
            if not len(rows):
                return
            ks = key[rows]
            lo = int(ks.min())
            if k == 1 and int(ks.max()) - lo < 1 << 16:  # small keys: the greatest row per key, no sort
                last = np.full(int(ks.max()) - lo + 1, -1, dtype=np.int64)
                np.maximum.at(last, ks - lo, rows)
                keep[last[last >= 0]] = True
                return
            rows = _regroup(key, rows)  # by key, then index
            ks = key[rows]
            last = np.ones(len(rows), dtype=bool)  # among the last k of its key
            last[:-k] = ks[k:] != ks[:-k]
            keep[rows[last]] = True

        # last ACT, PRE, RD, WR per bank: the last row of each (bank, command) of the bank commands
        bank_cmd = (cmd >= 0) & (cmd < 4)
        last_of(bank_cmd, gb * 4 + cmd)
        last_of(cmd == 4, rank)  # last REF per rank
        last_of(cmd >= 5, rank)  # last power event per rank
        last_of(cmd == 0, rank, 4)  # last four ACTs per rank
        return rec[keep]

    def finish(self) -> list[str]:
        return self.violations[: self.limit]


def _check_refresh(L: _Log, spec: "DramSpec", order: np.ndarray, out: list[str], limit: int,
                   end_cycle: int | None, own: np.ndarray | None = None) -> None:
    """The refresh rules, in the order of a walk over the log by (cycle, PRE < REF < ACT,
    index) (``order``): a REF with a bank of its rank still open (its latest ACT or PRE
    before the REF an ACT), or before the rank's latest PRE + tRP; an ACT before its
    rank's latest REF + tRFC. One message per row at most, in walk order, until ``out``
    holds ``limit``; then, with ``end_cycle``, the ranks with too few refreshes."""
    banks = spec.bankgroups * spec.banks_per_group
    is_act, is_pre, is_ref = L.is_[ACT], L.is_[PRE], L.is_[REF]
    # the walk's ACT, PRE and REF rows (the others change no state), in walk order
    w = order[(is_act | is_pre | is_ref)[order]]
    m = len(w)
    t, rank = L.t[w], L.rank_id[w]
    A, P, R = is_act[w], is_pre[w], is_ref[w]
    mine = A | R if own is None else (A | R) & own[w]
    msg = np.zeros(m, dtype=np.int64)  # per walk step: 0 none, 1 bank open, 2 tRP, 3 during a refresh
    if mine.any():
        g = _Groups(_regroup(rank, np.arange(m)), rank)  # by rank, walk step
        o = g.order
        lp = np.empty(m, dtype=np.int64)
        lp[o] = np.where((p := g.prev(P[o])) >= 0, o[p], -1)  # the rank's latest PRE before the step
        lr = np.empty(m, dtype=np.int64)
        lr[o] = np.where((p := g.prev(R[o])) >= 0, o[p], -1)  # the rank's latest REF before the step
        refs = np.flatnonzero(mine & R)
        if len(refs):
            # the latest ACT or PRE of each bank of the rank before the REF
            ev = np.flatnonzero(A | P)
            if len(ev):
                bank = L.bank_id[w]
                ev = _regroup(bank, ev)  # by bank, walk step
                ev_key = bank[ev] * m + ev
                q_bank = (rank[refs] * banks)[:, None] + np.arange(banks)
                k = np.searchsorted(ev_key, q_bank * m + refs[:, None]) - 1
                hit = ev[np.maximum(k, 0)]
                open_ = ((k >= 0) & (bank[hit] == q_bank) & A[hit]).any(axis=1)
            else:
                open_ = np.zeros(len(refs), dtype=bool)
            late = (lp[refs] >= 0) & (t[refs] < t[lp[refs]] + spec.tRP)
            msg[refs] = np.where(open_, 1, np.where(late, 2, 0))
        acts = np.flatnonzero(mine & A)
        msg[acts] = np.where((lr[acts] >= 0) & (t[acts] < t[lr[acts]] + spec.tRFC), 3, 0)
    for j in np.flatnonzero(msg)[:max(0, limit - len(out))].tolist():
        i = w[j]
        where = f"channel {L.ch[i]} rank {L.ra[i]}"
        out.append(
            f"cycle {L.t[i]}: REF at {where} with a bank still open" if msg[j] == 1 else
            f"cycle {L.t[i]}: REF at {where} breaks tRP = {spec.tRP} after a PRE" if msg[j] == 2 else
            f"cycle {L.t[i]}: ACT at {where} during a refresh (tRFC = {spec.tRFC})"
        )
    if len(out) >= limit:
        return
    if end_cycle is not None:
        n_ref = np.bincount(L.rank_id[is_ref], minlength=spec.channels * spec.ranks)
        want = end_cycle // spec.tREFI - 1
        for r in np.flatnonzero(n_ref < want):
            out.append(f"rank {r}: {n_ref[r]} refreshes in {end_cycle} cycles; tREFI = {spec.tREFI} needs >= {want}")

