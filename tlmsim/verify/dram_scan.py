# cython: boundscheck=False, wraparound=False, cdivision=True
# (the compiled build's directives: every index below is checked in range first, none is negative,
# and no divisor is 0 or negative -- see screen and the top of _walk's loop)
"""A one-pass screen of a DRAM command log: "certainly clean" or "look closer".

:class:`tlmsim.verify.dram_timing.DramCommandChecker` checks a run's command log chunk by
chunk with NumPy (``_check``: sorts, gathers and group-wise scans per rule). Nearly every
chunk of a real run breaks no rule, and most of that work goes into proving it. This module
walks the chunk's rows (context rows first, as ``_check`` gets them) once, in the order they
are given, keeping per bank, rank and channel the few times each rule measures from, and
answers whether the rows *certainly* hold no violation that ``_check`` would report for them.
When it answers no, the checker runs ``_check`` as before, so the verdicts (the messages,
their order, the limit) are always ``_check``'s: the screen only decides when ``_check`` may be
skipped.

It is a sound over-approximation of ``_check``'s rules (the rule list is in
tlmsim/verify/dram_timing.py's docstring): every row ``_check`` would report makes it answer
no (tests/verify/test_dram_scan_s27.py holds it to that on every rule, on logs of real runs
with one row disturbed, and on random logs). It may answer no for a clean log, and does so
wherever its one pass in index order could see an order other than ``_check``'s:

* rows not sorted by cycle, a cycle below 0 or from 2**50 on, a command code, channel or global
  bank out of range (``_check`` handles those; the model never writes them);
* two commands of one bank at one cycle, a REF and a bank command of its rank at one cycle, a
  power event and another command of its rank at one cycle (``_check`` orders such ties by a
  priority, not by index);
* any pair of data bursts of a channel closer than the data-bus rule allows in (data start,
  index) order (``_check`` judges only neighbours in that order; a violation between
  neighbours is one between a pair);
* more than :data:`_BURSTS` data bursts of a channel that could still meet a later one.

Compiled (tlmsim/kernels.py's HOT_MODULES: typed by the ``# @cython.locals`` comments), the
walk costs a few tens of instructions per row; as pure Python it is slower than ``_check``, so
the checker screens only when this module's compiled build runs.
"""

from __future__ import annotations

import numpy as np

ACT, PRE, RD, WR, REF, PDE, PDX, SRE, SRX = range(9)  #: command codes (tlmsim.hw.dram's log)
_NONE = -(1 << 62)  #: "no such command yet"
_LIM = 1 << 50  #: cycles below this: _check's one-key sorts (channel x cycles + cycle) cannot overflow
_BURSTS = 64  #: data bursts per channel the walk keeps


def screen(rec: np.ndarray, spec, from_cycle: int | None = None) -> bool:
    """Whether the int64 rows ``rec`` (cycle, channel, global bank, command code, row, column),
    as :meth:`DramCommandChecker.feed` checks them, certainly break no rule that
    ``tlmsim.verify.dram_timing._check`` (``end_cycle=None``; with ``from_cycle``, only rows at
    or after it judged) would report under ``spec`` (a resolved ``DramSpec``). False: maybe."""
    rec = np.ascontiguousarray(rec, dtype=np.int64)
    if rec.ndim != 2 or rec.shape[1] < 5:
        return False
    if len(rec) == 0:
        return True
    s = spec
    nch, nra, bpr = s.channels, s.ranks, s.banks_per_rank
    nr = nch * nra
    AL = s.AL
    RL, WL = AL + s.CL, AL + s.CWL
    bc = s.burst_cycles
    params = np.array([
        nch, nra, s.bankgroups, s.banks_per_group, bpr,
        s.tRCD, s.tRAS, s.tRP, s.tRC, AL + s.tRTP, WL + bc + s.tWR,
        s.tRRD_S, s.tRRD_L, s.tFAW, s.tCCD_S, s.tCCD_L, WL + bc + s.tWTR_S, WL + bc + s.tWTR_L,
        s.tRFC, s.tXP, s.tXS, s.tCKE, s.tCKESR, RL, WL, bc, s.tRTRS, int(s.protocol == "HBM"),
        _NONE if from_cycle is None else from_cycle,
    ], dtype=np.int64)
    if min(int(x) for x in params[:5]) <= 0 or any(abs(int(x)) >= _LIM for x in params[5:-1]):
        return False
    # per bank, by column: 0 last ACT, 1 its row, 2 open (0/1), 3 last PRE, 4 last RD, 5 last WR, 6 the cycle of
    # its last command
    bank = np.full((nr * bpr, 7), _NONE, dtype=np.int64)
    bank[:, 2] = 0
    # per rank, by column: 0-3 its last four ACTs' cycles and 4-7 their bank groups (a ring), 8 ACTs seen,
    # 9 last column command and 10 its bank group, 11 last WR, 12 open banks, 13 last PRE, 14 last REF,
    # 15 last power event's code and 16 its cycle, 17 the cycle of its last non-power row, 18 of its last
    # bank command
    rank = np.full((nr, 19), _NONE, dtype=np.int64)
    rank[:, 8] = 0  # ACTs seen
    rank[:, 12] = 0  # open banks
    rank[:, 15] = -1  # no power event
    rbg_wr = np.full(nr * s.bankgroups, _NONE, dtype=np.int64)
    bus = np.full(2 * nch, _NONE, dtype=np.int64)  # per channel, row/column command bus: last cycle used
    # per channel: the data bursts that a later one could still meet (start, RD 0/1, rank, judged)
    data = np.zeros((nch, _BURSTS, 4), dtype=np.int64)
    ndata = np.zeros(nch, dtype=np.int64)
    return bool(_walk(rec, params, bank, rank, rbg_wr, bus, data, ndata))


# @cython.locals(rec=cython.longlong[:, ::1], p=cython.longlong[::1], bank=cython.longlong[:, ::1], rank=cython.longlong[:, ::1], rbg_wr=cython.longlong[::1], bus=cython.longlong[::1], data=cython.longlong[:, :, ::1], ndata=cython.longlong[::1], n=cython.longlong, i=cython.longlong, j=cython.longlong, m=cython.longlong, k=cython.longlong, t=cython.longlong, prev_t=cython.longlong, ch=cython.longlong, gb=cython.longlong, code=cython.longlong, row=cython.longlong, r=cython.longlong, b=cython.longlong, lb=cython.longlong, bg=cython.longlong, la=cython.longlong, lp=cython.longlong, x=cython.longlong, need=cython.longlong, start=cython.longlong, rd=cython.longlong, pc=cython.longlong, nch=cython.longlong, nra=cython.longlong, nbg=cython.longlong, bpg=cython.longlong, bpr=cython.longlong, n_gb=cython.longlong, tRCD=cython.longlong, tRAS=cython.longlong, tRP=cython.longlong, tRC=cython.longlong, rd_pre=cython.longlong, wr_pre=cython.longlong, tRRD_S=cython.longlong, tRRD_L=cython.longlong, tFAW=cython.longlong, tCCD_S=cython.longlong, tCCD_L=cython.longlong, wtr_s=cython.longlong, wtr_l=cython.longlong, tRFC=cython.longlong, tXP=cython.longlong, tXS=cython.longlong, tCKE=cython.longlong, tCKESR=cython.longlong, RL=cython.longlong, WL=cython.longlong, bc=cython.longlong, tRTRS=cython.longlong, hbm=cython.longlong, frm=cython.longlong, first=cython.longlong, keep=cython.longlong, ys=cython.longlong, yrd=cython.longlong, yr=cython.longlong, yj=cython.longlong, nd=cython.longlong, judge=cython.bint, opened=cython.bint, none_=cython.longlong, lim=cython.longlong, cap=cython.longlong, c_act=cython.longlong, c_pre=cython.longlong, c_rd=cython.longlong, c_wr=cython.longlong, c_ref=cython.longlong, c_pde=cython.longlong, c_pdx=cython.longlong, c_sre=cython.longlong, c_srx=cython.longlong)
def _walk(rec, p, bank, rank, rbg_wr, bus, data, ndata) -> bool:
    """The walk of :func:`screen` (the parameters in ``p``, the state arrays filled as it makes
    them); True when no rule can be broken."""
    # the module's constants as C values (a global is a dictionary lookup in compiled code)
    none_, lim, cap = _NONE, _LIM, _BURSTS
    c_act, c_pre, c_rd, c_wr, c_ref, c_pde, c_pdx, c_sre, c_srx = ACT, PRE, RD, WR, REF, PDE, PDX, SRE, SRX
    nch, nra, nbg, bpg, bpr = p[0], p[1], p[2], p[3], p[4]
    tRCD, tRAS, tRP, tRC, rd_pre, wr_pre = p[5], p[6], p[7], p[8], p[9], p[10]
    tRRD_S, tRRD_L, tFAW, tCCD_S, tCCD_L, wtr_s, wtr_l = p[11], p[12], p[13], p[14], p[15], p[16], p[17]
    tRFC, tXP, tXS, tCKE, tCKESR = p[18], p[19], p[20], p[21], p[22]
    RL, WL, bc, tRTRS, hbm, frm = p[23], p[24], p[25], p[26], p[27], p[28]
    n_gb = nch * nra * bpr
    first = RL if RL < WL else WL  # a later burst starts at least this long after its command's cycle
    n = rec.shape[0]
    prev_t = 0
    for i in range(n):
        t = rec[i, 0]
        ch = rec[i, 1]
        gb = rec[i, 2]
        code = rec[i, 3]
        row = rec[i, 4]
        if t < prev_t or t >= lim or code < 0 or code > c_srx or ch < 0 or ch >= nch or gb < 0 or gb >= n_gb:
            return False
        prev_t = t
        judge = t >= frm
        r = ch * nra + (gb // bpr) % nra  # the rank as _check counts it (channel from the row, rank from the bank)
        lb = gb % bpr
        b = r * bpr + lb
        bg = lb // bpg
        if code >= c_pde:
            # a power event: ordered before the rank's other rows of its cycle by _check
            if rank[r, 17] == t:
                return False
            if judge:
                if code == c_pdx and (rank[r, 15] != c_pde or t < rank[r, 16] + tCKE):
                    return False
                if code == c_srx and (rank[r, 15] != c_sre or t < rank[r, 16] + tCKESR):
                    return False
            rank[r, 15] = code
            rank[r, 16] = t
            continue
        rank[r, 17] = t
        pc = rank[r, 15]
        if judge and pc >= 0:
            if pc == c_pde or pc == c_sre:
                return False  # a command while powered down or in self-refresh
            if pc == c_pdx and t < rank[r, 16] + tXP:
                return False
            if pc == c_srx and t < rank[r, 16] + tXS:
                return False
        if code != c_pre:  # one command per cycle on the channel's command bus (HBM: one per bus)
            k = 2 * ch + (1 if hbm and (code == c_rd or code == c_wr) else 0)
            if bus[k] == t:
                if judge:
                    return False
            bus[k] = t
        if code == c_ref:
            if rank[r, 18] == t:
                return False  # a bank command of the rank at this cycle
            if judge:
                if rank[r, 12] > 0:
                    return False  # a bank of the rank still open
                if rank[r, 13] != none_ and t < rank[r, 13] + tRP:
                    return False
            rank[r, 14] = t
            continue
        # a bank command
        if rank[r, 14] == t or bank[b, 6] == t:
            return False  # a REF of its rank or another command of its bank at this cycle
        bank[b, 6] = t
        rank[r, 18] = t
        la = bank[b, 0]
        lp = bank[b, 3]
        opened = bank[b, 2] != 0
        if code == c_act:
            if judge:
                if opened:
                    return False
                if lp != none_ and t - lp < tRP:
                    return False
                if la != none_ and t - la < tRC:
                    return False
                m = rank[r, 8]
                if m > 0:  # the rank's previous ACT (ring slot (m - 1) % 4)
                    k = (m - 1) % 4
                    need = tRRD_L if rank[r, 4 + k] == bg else tRRD_S
                    if t - rank[r, k] < need:
                        return False
                if m >= 4 and t - rank[r, m % 4] < tFAW:  # the fourth ACT before this one
                    return False
                if rank[r, 14] != none_ and t < rank[r, 14] + tRFC:
                    return False
            k = rank[r, 8] % 4
            rank[r, k] = t
            rank[r, 4 + k] = bg
            rank[r, 8] += 1
            bank[b, 0] = t
            bank[b, 1] = row
            if not opened:
                bank[b, 2] = 1
                rank[r, 12] += 1
            continue
        if code == c_pre:
            if judge:
                if opened and t - la < tRAS:
                    return False
                if bank[b, 4] != none_ and t - bank[b, 4] < rd_pre:
                    return False
                if bank[b, 5] != none_ and t - bank[b, 5] < wr_pre:
                    return False
            bank[b, 3] = t
            rank[r, 13] = t
            if opened:
                bank[b, 2] = 0
                rank[r, 12] -= 1
            continue
        # RD or WR
        rd = 1 if code == c_rd else 0
        if judge:
            if not opened or row != bank[b, 1] or t - la < tRCD:
                return False
            if rank[r, 9] != none_:
                need = tCCD_L if rank[r, 10] == bg else tCCD_S
                if t - rank[r, 9] < need:
                    return False
            if rd:
                if rank[r, 11] != none_ and t < rank[r, 11] + wtr_s:
                    return False
                x = rbg_wr[r * nbg + bg]
                if x != none_ and t < x + wtr_l:
                    return False
        rank[r, 9] = t
        rank[r, 10] = bg
        if rd:
            bank[b, 4] = t
        else:
            bank[b, 5] = t
            rank[r, 11] = t
            rbg_wr[r * nbg + bg] = t
        # the data bus: drop the bursts no later one can meet, then judge this one against the rest
        start = t + (RL if rd else WL)
        nd = ndata[ch]
        keep = 0
        for j in range(nd):
            ys = data[ch, j, 0]
            if ys + bc + tRTRS > t + first:
                if keep != j:
                    data[ch, keep, 0] = ys
                    data[ch, keep, 1] = data[ch, j, 1]
                    data[ch, keep, 2] = data[ch, j, 2]
                    data[ch, keep, 3] = data[ch, j, 3]
                keep += 1
        for j in range(keep):
            ys = data[ch, j, 0]
            yrd = data[ch, j, 1]
            yr = data[ch, j, 2]
            yj = data[ch, j, 3]
            if ys <= start:  # the kept burst first in (start, index) order
                need = bc + (tRTRS if (yrd and not rd) or yr != r else 0)
                if judge and start < ys + need:
                    return False
            else:
                need = bc + (tRTRS if (rd and not yrd) or yr != r else 0)
                if yj and ys < start + need:
                    return False
        if keep == cap:
            return False
        data[ch, keep, 0] = start
        data[ch, keep, 1] = rd
        data[ch, keep, 2] = r
        data[ch, keep, 3] = judge
        ndata[ch] = keep + 1
    return True


# Swap in the compiled build when this source was imported directly (see tlmsim/kernels.py); the
# compiled build is a copy under another module name, so it skips this.
if __name__ == "tlmsim.verify.dram_scan":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
