"""A DRAM device and its controller, scheduled with timestamps at command grain.

Timing model (all internal times are integer cycles of tCK; the SimPy time is
``cycles * tck_ps`` picoseconds):

* A transaction of n bytes at byte address a is cut into request-sized bursts
  (``spec.request_bytes``: 64 B on DDR4/HBM2, 128 B LPDDR4, 256 B GDDR6); each burst
  address is decoded with the address mapping (DRAMsim3 style, MSB..LSB string of the
  fields ro ch ra bg ba co; the column field counts bursts within a row) into channel,
  rank, bank group, bank, row and column.
* Each channel has a transaction queue of ``queue_depth`` burst entries. A burst
  holds its entry from when it enters until its column command issues; when every
  entry is held, an arriving burst waits for the earliest release (stall
  ``queue_full``). Entries are slots with known release times (a heap), so no event.
* Scheduling: a burst is committed -- its PRE / ACT / RD or WR placed at the
  earliest cycle that meets every constraint below -- when its transaction arrives.
  Within a transaction the bursts of a channel are committed in FR-FCFS order (bursts
  that hit an open row first, then the oldest). APPROXIMATION: bursts already
  committed are not reordered by later arrivals, so FR-FCFS acts within a
  transaction, and across transactions the order is arrival order. ACTs of a rank
  and column commands of a channel are committed in non-decreasing time order, but
  an ACT (or PRE) may be placed earlier than an already committed column command of
  another bank, so bank preparation overlaps data transfer as in a real controller.
  (Implementation: the row hits that follow a burst of the same (bank, row) group take
  a shortcut through these rules that places exactly the same commands; the equivalence
  tests in tests/hw/test_dram.py hold it to the burst-by-burst results.)
* Constraints: per bank tRCD (ACT to RD/WR), tRAS (ACT to PRE), tRC (ACT to ACT),
  tRP (PRE to ACT), tRTP (RD to PRE, counted from RD + AL), tWR (end of write data
  to PRE); per rank tRRD_S / tRRD_L (ACT to ACT, other / same bank group), tFAW
  (at most four ACTs in any tFAW window), tCCD_S / tCCD_L (column to column),
  tWTR_S / tWTR_L (end of write data to RD); per channel the data bus: a read's data
  occupies [RD + RL, RD + RL + burst_cycles), a write's [WR + WL, WR + WL +
  burst_cycles); bursts never overlap, and a rank switch or a read-to-write
  turnaround leaves tRTRS idle cycles (DRAMsim3's read_to_write = RL + BL/2 - WL +
  tRTRS); one command per cycle on the channel's command bus (auto-precharges take no
  command slot).
* Page policy ``open``: a row stays open; a hit needs only the column command, a
  miss (bank closed) ACT then column, a conflict (another row open) PRE, ACT, column.
  ``closed``: after its column command a burst auto-precharges the bank (logged as a
  PRE at the earliest legal cycle, max(ACT + tRAS, RD + AL + tRTP or write data end
  + tWR)) unless another burst of the same transaction hits the same row next.
* Refresh (rank level, staggered): rank r of a channel is due at (r + 1) * tREFI /
  ranks and every tREFI after; at a due time every open bank of the rank is
  precharged, then REF blocks the rank for tRFC. Refreshes are inserted lazily: when
  a command of a channel would be placed at or after a rank's due time, the refresh
  is committed first (at the due time or as soon as the precharges allow);
  :meth:`finalize` commits those due before the end of the run.
* A transaction ends when its last burst's data has transferred: RD + RL +
  burst_cycles (read) or WR + WL + burst_cycles (write). :meth:`access` costs one
  SimPy timeout.
* Known limitation of committing at arrival: a burst that must wait for its bank
  (a conflict whose PRE waits for tRAS of the previous ACT) delays the ACTs and column
  commands of the bursts committed after it (head-of-line blocking) where a real
  FR-FCFS controller would serve them first. Row-hit streams are unaffected; random
  (all-conflict) streams come out slower than on a cycle-level FR-FCFS controller
  (``tlmsim bench dram --pattern random``: DDR4-3200 ~30 % of peak, HBM2 ~14 %).
* Streams and the address mapping: with the presets' DDR4 mapping (rochrababgco) a
  sequential stream stays in one bank of one bank group, so consecutive reads are
  tCCD_L apart (8 tCK for a 4 tCK burst) and reach at most half the peak bandwidth,
  as on DRAMsim3; a mapping with bank-group bits below the column bits
  (e.g. rochrabacobg) streams at tCCD_S = burst, near peak.
* Stalls: the time a transaction's bursts were pushed beyond their unloaded latency,
  each push attributed to its binding constraint: ``refresh``, ``bank`` (tRP, tRCD,
  tRAS, tRC of a busy bank), ``activate_window`` (tRRD, tFAW), ``bus`` (data bus,
  tCCD, turnaround, command bus; a burst queued behind a burst of its own
  transaction is not counted), and ``queue_full``.

Energy (:meth:`Dram.energy_pj`), with times in ns (mA x V x ns = pJ), per device
times ``devices_per_rank`` (formulas of docs/reference/dram_presets.md): ACT = VDD (IDD0 tRC -
IDD3N tRAS - IDD2N tRP); RD = VDD (IDD4R - IDD3N) burst; WR likewise with IDD4W;
REF = VDD (IDD5AB - IDD3N) tRFC; background per rank = VDD (IDD3N x time at least one
bank of the rank is open + IDD2N x the rest of the run) -- power-down is not
modelled; I/O = ``io_energy_pj_per_bit`` x bits transferred.
"""

from __future__ import annotations

import heapq
from array import array
from collections import deque
from typing import Generator

import numpy as np
import pandas as pd
import simpy

from tlmsim.engine.component import Component
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.stats import StatDecl
from tlmsim.engine.transaction import Cmd, Transaction
from tlmsim.errors import ConfigError, SimulationError
from tlmsim.platform.dram import DramConfig

_NEG = -(10**15)  #: "long ago" for last-command times
_USED_PRUNE = 4096  #: command-bus slots of a channel kept before old ones are forgotten
#: command codes of the command log
_ACT, _PRE, _RD, _WR, _REF = 0, 1, 2, 3, 4
COMMAND_NAMES = ("ACT", "PRE", "RD", "WR", "REF")
STALL_REASONS = ("queue_full", "refresh", "bank", "activate_window", "bus")


class Dram(Component):
    """A DRAM channel group with its FR-FCFS controller; see the module docstring."""

    KIND = "dram"
    STATS = (
        StatDecl("act", "count", "ACT commands"),
        StatDecl("pre", "count", "PRE commands, including auto-precharges and those before a refresh"),
        StatDecl("rd", "count", "RD column commands (one per read burst)"),
        StatDecl("wr", "count", "WR column commands (one per write burst)"),
        StatDecl("ref", "count", "REF (all-bank refresh) commands"),
        StatDecl("bursts", "count", "request-sized bursts served"),
        StatDecl("row_hits", "count", "bursts whose row was open"),
        StatDecl("row_misses", "count", "bursts to a closed bank (ACT needed)"),
        StatDecl("row_conflicts", "count", "bursts to a bank with another row open (PRE and ACT needed)"),
    )

    def __init__(
        self,
        *,
        name: str,
        env: simpy.Environment,
        recorder: Recorder,
        config: DramConfig,
        record_commands: bool = False,
    ) -> None:
        super().__init__(name=name, env=env, recorder=recorder)
        self.config = config
        s = self.spec = config.resolve()
        self.peak_bandwidth_gb_per_s = s.peak_bandwidth_gb_per_s
        self.record_commands = record_commands
        self._closed_page = s.page_policy == "closed"
        # address decoding: (shift, mask) per field, above the request-offset bits
        self._offset_bits = s.request_bytes.bit_length() - 1
        if 1 << self._offset_bits != s.request_bytes:
            raise ConfigError(f"request size {s.request_bytes} B is not a power of two", key="dram.org")
        bits = s.field_bits()
        pos, self._fields = 0, {}
        for f in reversed(s.address_mapping):
            self._fields[f] = (pos, (1 << bits[f]) - 1)
            pos += bits[f]
        nch, nra, nbg, bpr = s.channels, s.ranks, s.bankgroups, s.banks_per_rank
        nranks, nbanks = nch * nra, nch * nra * bpr
        # per bank (index (ch * ranks + rank) * banks_per_rank + bg * banks_per_group + ba)
        self._open = [-1] * nbanks  # open row or -1
        self._act_t = [_NEG] * nbanks  # last ACT
        self._next_act = [0] * nbanks  # earliest ACT while closed (PRE + tRP, ACT + tRC, REF + tRFC)
        self._ref_blocked = [False] * nbanks  # next_act comes from a refresh
        self._next_pre = [0] * nbanks  # earliest PRE while open (tRAS, tRTP, tWR)
        self._col_ready = [0] * nbanks  # earliest column command while open (ACT + tRCD)
        # per rank (index ch * ranks + rank)
        self._last_act = [_NEG] * nranks
        self._last_act_bg = [_NEG] * (nranks * nbg)
        self._faw = [deque(maxlen=4) for _ in range(nranks)]
        self._last_col = [_NEG] * nranks
        self._last_col_bg = [_NEG] * (nranks * nbg)
        self._wr_end = [_NEG] * nranks
        self._wr_end_bg = [_NEG] * (nranks * nbg)
        self._ref_due = [(r % nra + 1) * s.tREFI // nra for r in range(nranks)]
        self._open_intervals: list[list[tuple[int, int]]] = [[] for _ in range(nranks)]
        # per channel
        self._ch_last_col = [_NEG] * nch
        self._bus_end = [_NEG] * nch
        self._bus_rank = [-1] * nch
        self._bus_write = [False] * nch
        self._bus_owner = [-1] * nch
        self._cmd_used: list[set[int]] = [set() for _ in range(nch)]
        self._queue: list[list[int]] = [[] for _ in range(nch)]
        self._end_cycle = 0
        self._finalized = False
        self._hit_step = max(s.tCCD_S, s.tCCD_L, s.burst_cycles)
        # per-burst lookups hoisted out of the scheduler: rank and rank-bank-group of a bank,
        # earliest refresh due time of a channel's ranks
        self._rank_of = [gb // bpr for gb in range(nbanks)]
        self._rbg_of = [(gb // bpr) * nbg + (gb % bpr) // s.banks_per_group for gb in range(nbanks)]
        self._dec = tuple(x for k in ("ch", "ra", "bg", "ba", "ro", "co") for x in self._fields[k])
        self._ch_due = [min(self._ref_due[ch * nra : (ch + 1) * nra]) for ch in range(nch)]
        #: latency (ps) of every read transaction, issue to last data, in service order
        self.read_latency_ps: list[int] = []
        #: command log, flat int64 records (cycle, channel, global bank, command, row, column)
        self._log: array | None = array("q") if record_commands else None

    @property
    def busy_units(self) -> int:
        return self.spec.channels

    # -- address decoding ----------------------------------------------------------------
    def decode(self, address: int) -> tuple[int, int, int, int, int, int]:
        """``(channel, rank, bankgroup, bank, row, column)`` of the burst holding byte
        ``address`` (bank within its bank group; column in bursts within the row)."""
        q = address >> self._offset_bits
        f = self._fields
        return tuple((q >> f[k][0]) & f[k][1] for k in ("ch", "ra", "bg", "ba", "ro", "co"))  # type: ignore[return-value]

    # -- the SimPy interface --------------------------------------------------------------
    def access(self, txn: Transaction) -> Generator[simpy.Event, object, None]:
        """Serve ``txn`` arriving now; returns when its last burst's data has moved
        (one SimPy timeout)."""
        now = self.env.now
        end_ps = self.reserve(txn, now)
        if end_ps > now:
            yield self.env.timeout(end_ps - now)

    def reserve(self, txn: Transaction, start_ps: int) -> int:
        """Commit every command ``txn`` needs, arriving at ``start_ps`` (not before the
        current time of earlier calls); return when its last data has moved (ps)."""
        if txn.cmd not in (Cmd.READ, Cmd.WRITE):
            raise SimulationError(f"{self.name}: cannot serve a {txn.cmd.label} transaction")
        if txn.nbytes <= 0 or txn.address < 0:
            raise SimulationError(f"{self.name}: bad access of {txn.nbytes} bytes at {txn.address}")
        tck = self.spec.tck_ps
        t_arr = -(-start_ps // tck)
        is_write = txn.cmd == Cmd.WRITE
        ob = self._offset_bits
        first, last = txn.address >> ob, (txn.address + txn.nbytes - 1) >> ob
        # stall cycles by STALL_REASONS: all pushes of the first burst of each channel, and
        # only refresh pushes of the later ones (their other waits are behind their own
        # transaction's bursts, or overlap the first burst's)
        st = [0, 0, 0, 0, 0]
        if first == last:
            end = self._one_burst(first, is_write, t_arr, txn.id, st)
        else:
            end = self._bursts(first, last, is_write, t_arr, txn.id, st)
        if end > self._end_cycle:
            self._end_cycle = end
        end_ps = end * tck
        wait, room = 0, end - t_arr  # a transaction never waits longer than it takes
        for reason, cyc in zip(STALL_REASONS, st):
            if cyc > room:
                cyc = room
            if cyc > 0:
                self.stall(reason, cyc * tck, layer=txn.layer)
                wait += cyc
                room -= cyc
        if not is_write:
            self.read_latency_ps.append(end_ps - start_ps)
        self.record(txn, start_ps, end_ps, wait * tck)
        return end_ps

    def _prune_used(self, ch: int, t_arr: int) -> set[int]:
        """The command-bus slots of channel ``ch``, forgetting those no later command can
        take once the set is large: later commands are placed at or after their arrival,
        refresh commands at or after their due time."""
        used = self._cmd_used[ch]
        if len(used) > _USED_PRUNE:
            nra = self.spec.ranks
            keep = min(t_arr, min(self._ref_due[ch * nra : (ch + 1) * nra]))
            used = self._cmd_used[ch] = {x for x in used if x >= keep}
        return used

    def _one_burst(self, q: int, is_write: bool, t_arr: int, owner: int, st: list[int]) -> int:
        """Schedule a one-burst transaction (burst index ``q``); its data end cycle."""
        sch, mch, sra, mra, sbg, mbg, sba, mba, sro, mro, sco, mco = self._dec
        s = self.spec
        ch = (q >> sch) & mch
        gb = ((ch * s.ranks + ((q >> sra) & mra)) * s.banks_per_rank + ((q >> sbg) & mbg) * s.banks_per_group
              + ((q >> sba) & mba))
        self._prune_used(ch, t_arr)
        heap = self._queue[ch]
        t_cur = t_arr
        while heap and heap[0] <= t_cur:
            heapq.heappop(heap)
        if len(heap) >= s.queue_depth:
            t_cur = heapq.heappop(heap)
            st[0] += t_cur - t_arr
        col_t, data_end = self._burst(ch, gb, (q >> sro) & mro, (q >> sco) & mco, is_write, t_cur, owner, False, st)
        heapq.heappush(heap, col_t)
        return data_end

    def _bursts(self, first: int, last: int, is_write: bool, t_arr: int, owner: int, st: list[int]) -> int:
        """Schedule the bursts ``first`` .. ``last`` of a transaction; its data end cycle."""
        s = self.spec
        sch, mch, sra, mra, sbg, mbg, sba, mba, sro, mro, sco, mco = self._dec
        nra, bpr, bpg = s.ranks, s.banks_per_rank, s.banks_per_group
        # group bursts by channel, then by (bank, row) in order of first appearance; when the
        # column field is the lowest, the bursts up to the end of a row share every other field
        by_ch: dict[int, dict[tuple[int, int], list[int]]] = {}
        q = first
        while q <= last:
            if sco == 0:
                q_end = q | mco
                if q_end > last:
                    q_end = last
            else:
                q_end = q
            ch = (q >> sch) & mch
            gr = ch * nra + ((q >> sra) & mra)
            gb = gr * bpr + ((q >> sbg) & mbg) * bpg + ((q >> sba) & mba)
            key = (gb, (q >> sro) & mro)
            groups = by_ch.get(ch)
            if groups is None:
                groups = by_ch[ch] = {}
            cols = groups.get(key)
            c0 = (q >> sco) & mco
            if cols is None:
                groups[key] = [c0] if q_end == q else list(range(c0, c0 + q_end - q + 1))
            elif q_end == q:
                cols.append(c0)
            else:
                cols.extend(range(c0, c0 + q_end - q + 1))
            q = q_end + 1
        end = 0
        st_later = [0, 0, 0, 0, 0]
        depth = s.queue_depth
        heappop, heappush = heapq.heappop, heapq.heappush
        ref_due = self._ref_due
        step = self._hit_step
        log = self._log
        col_code = _WR if is_write else _RD
        for ch, groups in by_ch.items():
            used = self._prune_used(ch, t_arr)
            heap = self._queue[ch]
            t_cur = t_arr
            first_burst = True
            while groups:
                key = next(iter(groups))
                if self._open[key[0]] != key[1]:
                    for k in groups:
                        if self._open[k[0]] == k[1]:
                            key = k
                            break
                gb, row = key
                cols = groups.pop(key)
                n = len(cols)
                gr = gb // bpr
                min_due = 0  # no fast burst before the first burst's general path
                col_t = 0
                hits = 0
                for i, col in enumerate(cols):
                    while heap and heap[0] <= t_cur:
                        heappop(heap)
                    if len(heap) >= depth:
                        entry = heappop(heap)
                        if first_burst:
                            st[0] += entry - t_arr
                        t_cur = entry
                    if t_cur < min_due:
                        # Fast path for a row hit right after a burst of its own group. The
                        # previous burst (column command col_t) left the row open and set the
                        # bus, tCCD and tWTR state, all of its own rank, bank group and
                        # direction, so _plan reduces to max(t_cur, col_t + max(tCCD_S,
                        # tCCD_L, burst)) then the first free command slot: bank readiness
                        # (tRCD) and tWTR were already met by col_t, no tRTRS applies, and
                        # a hit after the first burst adds no stall. Refreshes: no rank of
                        # the channel is due by t_cur (min_due) and the column command is
                        # before its rank's due time; otherwise the general path runs. The
                        # closed-page auto-precharge of the last burst also takes it.
                        c = col_t + step
                        if t_cur > c:
                            c = t_cur
                        while c in used:
                            c += 1
                        if c < ref_due[gr] and (i + 1 < n or not self._closed_page):
                            used.add(c)
                            col_t = c
                            heappush(heap, c)
                            hits += 1
                            if log is not None:
                                log.extend((c, ch, gb, col_code, row, col))  # as _log_cmd, inlined
                            continue
                    if hits:
                        data_end = self._flush_hits(ch, gr, gb, is_write, col_t, owner, hits)
                        hits = 0
                        if data_end > end:
                            end = data_end
                    col_t, data_end = self._burst(
                        ch, gb, row, col, is_write, t_cur, owner, i + 1 < n, st if first_burst else st_later
                    )
                    first_burst = False
                    heappush(heap, col_t)
                    if data_end > end:
                        end = data_end
                    min_due = min(ref_due[ch * nra : (ch + 1) * nra])
                if hits:
                    data_end = self._flush_hits(ch, gr, gb, is_write, col_t, owner, hits)
                    if data_end > end:
                        end = data_end
        st[1] += st_later[1]
        return end

    # -- scheduling of one burst -----------------------------------------------------------
    def _burst(
        self, ch: int, gb: int, row: int, col: int, is_write: bool, t0: int, owner: int, keep_open: bool, st: list[int]
    ) -> tuple[int, int]:
        """Commit the commands of one burst whose queue entry is held from cycle ``t0``;
        add its pushes to ``st``; return (column command cycle, data end cycle)."""
        gr = self._rank_of[gb]
        ref_due = self._ref_due
        # refreshes of the channel's ranks due by t0 (keeps the command-bus set prunable)
        if t0 >= self._ch_due[ch]:
            nra = self.spec.ranks
            for r in range(ch * nra, ch * nra + nra):
                while ref_due[r] <= t0:
                    self._refresh(r)
        while True:
            plan = self._plan(ch, gr, gb, row, is_write, t0, owner)
            if plan[2] >= ref_due[gr]:  # the column command is the latest of the plan
                self._refresh(gr)
                continue
            break
        pre, act, col_t, kind, p_ref, p_bank, p_aw, p_bus = plan
        st[1] += p_ref
        st[2] += p_bank
        st[3] += p_aw
        st[4] += p_bus
        return self._commit(ch, gr, gb, row, col, is_write, pre, act, col_t, kind, owner, keep_open)

    def _flush_hits(self, ch: int, gr: int, gb: int, is_write: bool, col_t: int, owner: int, hits: int) -> int:
        """Write back the state after a run of ``hits`` row hits (fast path of
        :meth:`reserve`) whose last column command is at ``col_t``; the run's commands are
        already on the command bus and in the log. Returns the run's data end cycle."""
        s = self.spec
        rbg = gr * s.bankgroups + (gb % s.banks_per_rank) // s.banks_per_group
        c = self.stats.c
        bc = s.burst_cycles
        if is_write:
            data_end = col_t + s.WL + bc
            self._wr_end[gr] = data_end
            self._wr_end_bg[rbg] = data_end
            x = data_end + s.tWR
            c["wr"] += hits
        else:
            data_end = col_t + s.RL + bc
            x = col_t + s.AL + s.tRTP
            c["rd"] += hits
        if x > self._next_pre[gb]:
            self._next_pre[gb] = x
        self._last_col[gr] = col_t
        self._last_col_bg[rbg] = col_t
        self._ch_last_col[ch] = col_t
        self._bus_end[ch] = data_end
        self._bus_rank[ch] = gr
        self._bus_write[ch] = is_write
        self._bus_owner[ch] = owner
        c["bursts"] += hits
        c["busy_ps"] += hits * bc * s.tck_ps
        c["row_hits"] += hits
        return data_end

    def _plan(self, ch: int, gr: int, gb: int, row: int, is_write: bool, t0: int, owner: int) -> tuple:
        """Earliest (pre, act, col) cycles for a burst from ``t0`` (-1 = not needed),
        its kind (0 hit, 1 miss, 2 conflict) and its pushes (refresh, bank,
        activate_window, bus) in cycles. Pure: commits nothing."""
        s = self.spec
        used = self._cmd_used[ch]
        rbg = self._rbg_of[gb]
        p_ref = p_bank = p_aw = p_bus = 0
        open_row = self._open[gb]
        pre = act = -1
        if open_row == row:
            kind = 0
            c = t0
            bank_col = self._col_ready[gb]
        else:
            if open_row >= 0:
                kind = 2
                pre = self._next_pre[gb]
                if pre > t0:
                    p_bank += pre - t0
                else:
                    pre = t0
                while pre in used:
                    pre += 1
                    p_bus += 1
                act_base = pre + s.tRP
                bank_act = self._act_t[gb] + s.tRC
                from_ref = False
            else:
                kind = 1
                act_base = t0
                bank_act = self._next_act[gb]
                from_ref = self._ref_blocked[gb]
            aw = self._last_act[gr] + s.tRRD_S
            x = self._last_act_bg[rbg] + s.tRRD_L
            if x > aw:
                aw = x
            faw = self._faw[gr]
            if len(faw) == 4:
                x = faw[0] + s.tFAW
                if x > aw:
                    aw = x
            act = act_base
            if bank_act > act or aw > act:
                if bank_act >= aw:
                    if from_ref:
                        p_ref += bank_act - act
                    else:
                        p_bank += bank_act - act
                    act = bank_act
                else:
                    p_aw += aw - act
                    act = aw
            while act in used:
                act += 1
                p_bus += 1
            c = bank_col = act + s.tRCD
        if bank_col > c:
            p_bank += bank_col - c
            c = bank_col
        b = self._ch_last_col[ch]
        x = self._last_col[gr] + s.tCCD_S
        if x > b:
            b = x
        x = self._last_col_bg[rbg] + s.tCCD_L
        if x > b:
            b = x
        bus_end = self._bus_end[ch]
        if is_write:
            if self._bus_rank[ch] != gr or not self._bus_write[ch]:
                bus_end += s.tRTRS
            x = bus_end - s.WL
            if x > b:
                b = x
        else:
            if self._bus_rank[ch] != gr:
                bus_end += s.tRTRS
            x = bus_end - s.RL
            if x > b:
                b = x
            x = self._wr_end[gr] + s.tWTR_S
            if x > b:
                b = x
            x = self._wr_end_bg[rbg] + s.tWTR_L
            if x > b:
                b = x
        if b > c:
            if self._bus_owner[ch] == owner:
                c = b
                while c in used:
                    c += 1
                return pre, act, c, kind, p_ref, p_bank, p_aw, p_bus
            p_bus += b - c
            c = b
        if c in used:
            own = self._bus_owner[ch] == owner
            while c in used:
                c += 1
                if not own:
                    p_bus += 1
        return pre, act, c, kind, p_ref, p_bank, p_aw, p_bus

    def _commit(
        self, ch: int, gr: int, gb: int, row: int, col: int, is_write: bool,
        pre: int, act: int, col_t: int, kind: int, owner: int, keep_open: bool,
    ) -> tuple[int, int]:
        s = self.spec
        c = self.stats.c
        used = self._cmd_used[ch]
        rbg = self._rbg_of[gb]
        log = self._log
        if pre >= 0:
            self._close(ch, gr, gb, pre, on_bus=True)
        if act >= 0:
            used.add(act)
            self._act_t[gb] = act
            self._next_pre[gb] = act + s.tRAS
            self._col_ready[gb] = act + s.tRCD
            self._open[gb] = row
            self._last_act[gr] = act
            self._last_act_bg[rbg] = act
            self._faw[gr].append(act)
            c["act"] += 1
            if log is not None:
                self._log_cmd(act, ch, gb, _ACT, row, -1)
        used.add(col_t)
        bc = s.burst_cycles
        if is_write:
            data_end = col_t + s.WL + bc
            self._wr_end[gr] = data_end
            self._wr_end_bg[rbg] = data_end
            x = data_end + s.tWR
            c["wr"] += 1
        else:
            data_end = col_t + s.RL + bc
            x = col_t + s.AL + s.tRTP
            c["rd"] += 1
        if x > self._next_pre[gb]:
            self._next_pre[gb] = x
        self._last_col[gr] = col_t
        self._last_col_bg[rbg] = col_t
        self._ch_last_col[ch] = col_t
        self._bus_end[ch] = data_end
        self._bus_rank[ch] = gr
        self._bus_write[ch] = is_write
        self._bus_owner[ch] = owner
        c["bursts"] += 1
        c["busy_ps"] += bc * s.tck_ps
        if kind == 0:
            c["row_hits"] += 1
        elif kind == 1:
            c["row_misses"] += 1
        else:
            c["row_conflicts"] += 1
        if log is not None:
            self._log_cmd(col_t, ch, gb, _WR if is_write else _RD, row, col)
        if self._closed_page and not keep_open:
            self._close(ch, gr, gb, self._next_pre[gb], on_bus=False)
        return col_t, data_end

    def _close(self, ch: int, gr: int, gb: int, t: int, *, on_bus: bool) -> None:
        """Precharge bank ``gb`` at cycle ``t`` (``on_bus``: takes a command slot)."""
        s = self.spec
        if on_bus:
            self._cmd_used[ch].add(t)
        act_t = self._act_t[gb]
        self._open_intervals[gr].append((act_t, t))
        if self._log is not None:
            self._log_cmd(t, ch, gb, _PRE, self._open[gb], -1)
        self._open[gb] = -1
        na = t + s.tRP
        x = act_t + s.tRC
        self._next_act[gb] = na if na > x else x
        self._ref_blocked[gb] = False
        self.stats.c["pre"] += 1

    def _refresh(self, gr: int) -> None:
        """Commit the refresh of rank ``gr`` due now: precharge its open banks at or
        after the due time, then REF; the rank's banks are blocked for tRFC."""
        s = self.spec
        ch = gr // s.ranks
        used = self._cmd_used[ch]
        due = self._ref_due[gr]
        t = due
        banks = range(gr * s.banks_per_rank, (gr + 1) * s.banks_per_rank)
        for gb in banks:
            if self._open[gb] >= 0:
                p = self._next_pre[gb]
                if p < due:
                    p = due
                while p in used:
                    p += 1
                self._close(ch, gr, gb, p, on_bus=True)
            if self._next_act[gb] > t:
                t = self._next_act[gb]
        while t in used:
            t += 1
        used.add(t)
        end = t + s.tRFC
        for gb in banks:
            self._next_act[gb] = end
            self._ref_blocked[gb] = True
        self._ref_due[gr] = due + s.tREFI
        self._ch_due[ch] = min(self._ref_due[ch * s.ranks : (ch + 1) * s.ranks])
        self.stats.c["ref"] += 1
        if self._log is not None:
            self._log_cmd(t, ch, gr * s.banks_per_rank, _REF, -1, -1, all_banks=True)

    def _log_cmd(self, t: int, ch: int, gb: int, cmd: int, row: int, col: int, all_banks: bool = False) -> None:
        """Append one command to the log (only called when record_commands is set);
        ``all_banks`` commands (REF) are told apart by their command code."""
        self._log.extend((t, ch, gb, cmd, row, col))

    # -- results -----------------------------------------------------------------------
    def command_log(self) -> pd.DataFrame:
        """Every command issued, sorted by time: time_ps, cycle, channel, rank,
        bankgroup, bank (within its bank group; -1 for REF, which is all-bank), command
        (ACT/PRE/RD/WR/REF; auto-precharges are PRE), row (-1 for REF), column
        (burst index within the row; -1 unless RD/WR)."""
        if self._log is None:
            raise ConfigError(
                "the command log was not recorded; construct Dram(..., record_commands=True)",
                key="record_commands",
            )
        s = self.spec
        rec = np.frombuffer(self._log, dtype=np.int64).reshape(-1, 6) if len(self._log) else np.zeros((0, 6), np.int64)
        cyc, ch, gb, cmd, row, col = (rec[:, i] for i in range(6))
        b = gb % s.banks_per_rank
        ref = cmd == _REF
        df = pd.DataFrame(
            {
                "time_ps": cyc * s.tck_ps,
                "cycle": cyc,
                "channel": ch,
                "rank": (gb // s.banks_per_rank) % s.ranks,
                "bankgroup": np.where(ref, -1, b // s.banks_per_group),
                "bank": np.where(ref, -1, b % s.banks_per_group),
                "command": pd.Categorical.from_codes(cmd, categories=list(COMMAND_NAMES)),
                "row": row,
                "column": col,
            }
        )
        return df.sort_values(["cycle", "channel"], kind="stable").reset_index(drop=True)

    def finalize(self, end_ps: int) -> None:
        """Commit the refreshes due up to ``end_ps`` and close the accounting period."""
        end = -(-end_ps // self.spec.tck_ps)
        for gr in range(len(self._ref_due)):
            while self._ref_due[gr] <= end:
                self._refresh(gr)
        if end > self._end_cycle:
            self._end_cycle = end
        self._finalized = True

    def open_cycles(self, end_cycle: int | None = None) -> list[int]:
        """Cycles during which at least one bank of each rank was open, up to ``end_cycle``."""
        end = self._end_cycle if end_cycle is None else end_cycle
        s = self.spec
        out = []
        for gr, intervals in enumerate(self._open_intervals):
            iv = [(a, min(b, end)) for a, b in intervals]
            for gb in range(gr * s.banks_per_rank, (gr + 1) * s.banks_per_rank):
                if self._open[gb] >= 0:
                    iv.append((self._act_t[gb], end))
            iv.sort()
            total, cur_a, cur_b = 0, None, None
            for a, b in iv:
                if b <= a:
                    continue
                if cur_b is None or a > cur_b:
                    if cur_b is not None:
                        total += cur_b - cur_a
                    cur_a, cur_b = a, b
                elif b > cur_b:
                    cur_b = b
            if cur_b is not None:
                total += cur_b - cur_a
            out.append(total)
        return out

    def energy_pj(self) -> dict[str, float]:
        """Energy in pJ by action (see the module docstring for the formulas)."""
        s = self.spec
        c = self.stats.c
        k = s.VDD * s.tck_ns * s.devices_per_rank  # pJ per (mA x cycle)
        act = (s.IDD0 * s.tRC - s.IDD3N * s.tRAS - s.IDD2N * s.tRP) * k
        rd = (s.IDD4R - s.IDD3N) * s.burst_cycles * k
        wr = (s.IDD4W - s.IDD3N) * s.burst_cycles * k
        ref = (s.IDD5AB - s.IDD3N) * s.tRFC * k
        end = self._end_cycle
        background = 0.0
        for open_c in self.open_cycles(end):
            background += (s.IDD3N * open_c + s.IDD2N * (end - open_c)) * k
        bits = c["bursts"] * s.request_bytes * 8
        return {
            "activate": c["act"] * act,
            "read": c["rd"] * rd,
            "write": c["wr"] * wr,
            "refresh": c["ref"] * ref,
            "background": background,
            "io": bits * s.io_energy_pj_per_bit,
        }

    def __repr__(self) -> str:
        s = self.spec
        return (
            f"Dram({self.name!r}, {s.preset}, {s.channels} ch x {s.ranks} ranks x {s.banks_per_rank} banks, "
            f"tCK {s.tck_ps} ps, {s.page_policy} page, peak {s.peak_bandwidth_gb_per_s:.1f} GB/s)"
        )
