"""An on-chip SRAM buffer (GLB, L1): banks, ports, latency, capacity, energy.

Timing model (all in cycles of the buffer's clock, the accelerator clock):

* the address space is cut into lines of ``port_width_bytes``; line i is in bank
  ``i mod banks``. A transaction of n bytes at address a touches lines
  ``a // w .. (a + n - 1) // w``; bank b serves ``k_b`` of them, one per cycle;
* a transaction first takes the earliest free of the ``ports`` ports (waiting time
  is stall ``port_busy``); from then on every bank it touches serves its lines as
  soon as the bank is free (each bank is a first-come first-served server of one
  line per cycle), so it occupies the buffer for ``max_b(free_b + k_b) - start``
  cycles. With idle banks that is ``max_b k_b`` (a sequential access of n lines
  over B banks takes ceil(n/B) cycles); the excess over it, caused by another
  transaction holding the same banks, is stall ``bank_conflict``;
* the first data appears ``latency`` cycles after the first bank access and the
  rest stream behind it: the transaction ends at ``occupancy_end + latency - 1``.

Requests start on the next clock edge. Resources are booked with timestamps
(``free_at`` times), so a transaction costs one SimPy timeout in :meth:`access`,
and none when an initiator chains it with other hops through :meth:`reserve`
(TLM-2.0 loosely-timed style: the initiator annotates the delay). A booking made
for a start time in the future may delay a later-booked transaction that starts
earlier (first booked, first served) — the approximation every timestamp model makes.

Energy: one bank access per line, at the energy of a bank of ``capacity / banks``
bytes plus the H-tree that reaches it from the buffer's port (CACTI 7 at 45 nm, see
:mod:`tlmsim.platform.sram_energy`), or the platform's override; reads and writes
have their own figures. Leakage: power per KiB at the bank's size (or the energy
table's override) times the capacity, over the run's duration.
"""

from __future__ import annotations

from array import array
from typing import Generator

import simpy

from tlmsim.engine.component import Component  # cimported by the .pxd
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.stats import BUSY_PS, StatDecl, stat_positions
from tlmsim.engine.transaction import Cmd, Transaction
from tlmsim.errors import MappingError, SimulationError
from tlmsim.platform.energy import AreaTable, EnergyTable
from tlmsim.platform.sram import SramConfig

_READ = Cmd.READ


class Sram(Component):
    """A banked, multi-ported SRAM buffer; see the module docstring for timing."""

    #: the instance attributes as slots (see tlmsim.engine.component.Component)
    __slots__ = (
        "_bank_free", "_elapsed_ps", "_occupied_bytes", "_port_free", "_read_latency", "_write_latency",
        "area", "capacity_bytes", "config", "energy", "leakage_mw", "line_bytes", "nbanks", "period_ps",
        "read_pj", "write_pj",
    )

    KIND = "sram"
    STATS = (
        StatDecl("line_reads", "count", "bank line reads (one line = port_width_bytes)"),
        StatDecl("line_writes", "count", "bank line writes"),
        StatDecl("peak_occupancy_bytes", "bytes", "largest amount of space reserved at once"),
    )

    def __init__(
        self,
        *,
        name: str,
        env: simpy.Environment,
        recorder: Recorder,
        config: SramConfig,
        clock_period_ps: int,
        energy: EnergyTable,
        area: AreaTable | None = None,
    ) -> None:
        super().__init__(name=name, env=env, recorder=recorder)
        self.config = config
        self.period_ps = int(clock_period_ps)
        self.energy = energy
        self.area = area
        self.capacity_bytes = int(config.capacity_bytes)
        self.line_bytes = int(config.port_width_bytes)
        self.nbanks = int(config.banks)
        # cycle at which each bank is next free (int64: C integers in the compiled build's book)
        self._bank_free = array("q", bytes(8 * self.nbanks))
        # cycle at which each port is next free (int64: C integers in the compiled build's book)
        self._port_free = array("q", bytes(8 * int(config.ports)))
        self._occupied_bytes = 0
        self._read_latency = int(config.read_latency_cycles)
        self._write_latency = int(config.write_latency_cycles)
        self._elapsed_ps = 0
        line_bits = 8 * self.line_bytes
        cap, nb = self.capacity_bytes, self.nbanks
        rd, wr = config.read_energy_pj_per_access, config.write_energy_pj_per_access
        self.read_pj = energy.sram_access_pj(cap, nb, line_bits) if rd is None else rd
        if wr is None:  # the table's write energy, or the read energy the platform gave
            wr = energy.sram_access_pj(cap, nb, line_bits, write=True) if rd is None else rd
        self.write_pj = wr
        self.leakage_mw = energy.sram_leakage_mw(cap, nb)

    @property
    def half_capacity_bytes(self) -> int:
        """Bytes in one half of a double-buffered buffer."""
        return self.capacity_bytes // 2

    @property
    def busy_units(self) -> int:
        return self.nbanks

    # -- timing ---------------------------------------------------------------------
    def lines_per_bank(self, address: int, nbytes: int) -> list[tuple[int, int]]:
        """``[(bank, lines)]`` that an access of ``nbytes`` at ``address`` touches."""
        w, nb = self.line_bytes, self.nbanks
        first = address // w
        n = (address + nbytes - 1) // w - first + 1
        q, r = divmod(n, nb)
        b0 = first % nb
        if q == 0:
            return [((b0 + i) % nb, 1) for i in range(r)]
        return [((b0 + i) % nb, q + 1 if i < r else q) for i in range(nb)]

    def reserve(self, txn: Transaction, start_ps: int) -> int:
        """Book the ports and banks ``txn`` needs from ``start_ps``; return its end (ps).

        Records the hop (trace row, counts) and its stalls. Raises
        :class:`SimulationError` for an access outside the buffer.
        """
        end_ps, wait_ps = self.book(txn.cmd, txn.address, txn.nbytes, txn.source, txn.destination, start_ps,
                                    txn.layer)
        self.record(txn, start_ps, end_ps, wait_ps)
        return end_ps

    # @cython.locals(a=cython.longlong, n=cython.longlong, start_ps=cython.longlong, period=cython.longlong, s=cython.longlong, pf=cython.longlong, p=cython.longlong, s1=cython.longlong, w=cython.longlong, nb=cython.longlong, first=cython.longlong, lines=cython.longlong, q=cython.longlong, r=cython.longlong, b0=cython.longlong, ideal=cython.longlong, occ_end=cython.longlong, b=cython.longlong, fb=cython.longlong, e=cython.longlong, i=cython.longlong, end_ps=cython.longlong, port_wait=cython.longlong, conflict=cython.longlong, bank_free=cython.longlong[::1], ports=cython.longlong[::1], cv=cython.longlong[::1])
    def book(self, cmd: Cmd, a: int, n: int, source: str, destination: str, start_ps: int,
             layer: int) -> tuple[int, int]:
        """:meth:`reserve` without the hop's record: book an access of ``n`` bytes at
        ``a`` from ``start_ps`` and attribute its stalls; return ``(end, wait)`` in ps
        (the caller records the hop: :meth:`reserve`, or
        :meth:`~tlmsim.engine.recorder.Recorder.booked`)."""
        if a < 0 or a + n > self.capacity_bytes or n <= 0:
            raise SimulationError(
                f"{self.name}: access of {n} bytes at {a} outside the buffer (capacity {self.capacity_bytes} bytes)"
            )
        period = self.period_ps
        s = -(-start_ps // period)  # next clock edge, in cycles
        ports = self._port_free
        pf = ports[0]  # the earliest free port (the first of equals)
        p = 0
        for i in range(1, len(ports)):
            if ports[i] < pf:
                p, pf = i, ports[i]
        s1 = pf if pf > s else s
        # Bank free times: one cycle per bank (an int64 array; C integers in the compiled build).
        # Line i of the access is served by bank (b0 + i) mod nb, one line per cycle, so bank
        # b0 + i serves q lines (q + 1 for the first r banks from b0) from max(its free time,
        # s1): exact per-bank FCFS; the buffer is occupied until the latest of them. A loop over
        # the banks the access touches (all of them when q >= 1: no more than its lines)
        bank_free = self._bank_free
        w, nb = self.line_bytes, self.nbanks
        first = a // w
        lines = (a + n - 1) // w - first + 1
        q, r = divmod(lines, nb)
        b0 = first % nb
        ideal = q + (1 if r else 0)
        occ_end = s1
        b = b0
        for i in range(nb if q else r):
            fb = bank_free[b]
            e = (fb if fb > s1 else s1) + (q + 1 if i < r else q)
            bank_free[b] = e
            if e > occ_end:
                occ_end = e
            b += 1
            if b == nb:
                b = 0
        ports[p] = occ_end
        cv = self._cv
        if cmd is _READ:
            end_ps = (occ_end + self._read_latency - 1) * period
            cv[_LINE_READS] += lines
        else:
            end_ps = (occ_end + self._write_latency - 1) * period
            cv[_LINE_WRITES] += lines
        cv[BUSY_PS] += lines * period
        port_wait = s1 - s
        conflict = occ_end - s1 - ideal
        if port_wait:
            self.stall("port_busy", port_wait * period, layer)
        if conflict:
            self.stall("bank_conflict", conflict * period, layer)
        return end_ps, (port_wait + conflict) * period

    def access(self, txn: Transaction) -> Generator[simpy.Event, object, None]:
        """Serve ``txn`` starting now; returns when its last byte is read or written."""
        end = self.reserve(txn, self.env.now)
        yield self.env.timeout(end - self.env.now)

    # -- space ------------------------------------------------------------------------
    def allocate(self, nbytes: int, what: str = "data") -> None:
        """Claim ``nbytes`` of space (static planning); raises :class:`MappingError`
        when the buffer would overflow."""
        if self._occupied_bytes + nbytes > self.capacity_bytes:
            raise MappingError(
                f"{self.name}: {what} needs {nbytes} bytes but only "
                f"{self.capacity_bytes - self._occupied_bytes} of {self.capacity_bytes} are free"
            )
        self._occupied_bytes += nbytes
        c = self.stats.c
        if self._occupied_bytes > c["peak_occupancy_bytes"]:
            c["peak_occupancy_bytes"] = self._occupied_bytes

    def free(self, nbytes: int) -> None:
        """Return ``nbytes`` claimed with :meth:`allocate`."""
        self._occupied_bytes = max(0, self._occupied_bytes - nbytes)

    @property
    def free_bytes(self) -> int:
        """Bytes not claimed with :meth:`allocate`."""
        return self.capacity_bytes - self._occupied_bytes

    # -- results ----------------------------------------------------------------------
    def finalize(self, end_ps: int) -> None:
        self._elapsed_ps = end_ps

    def energy_pj(self) -> dict[str, float]:
        c = self.stats.c
        return {
            "read": c["line_reads"] * self.read_pj,
            "write": c["line_writes"] * self.write_pj,
            "leakage": self.leakage_mw * self._elapsed_ps * 1e-3,  # mW*ps = 1e-3 pJ
        }

    def area_mm2(self) -> float:
        if self.area is None:
            return 0.0
        return self.area.sram_mm2_per_64kib * self.capacity_bytes / 65536.0

    def __repr__(self) -> str:
        cfg = self.config
        return (
            f"Sram({self.name!r}, {self.capacity_bytes} B, {cfg.banks} banks x {cfg.port_width_bytes} B, "
            f"{cfg.ports} ports)"
        )


#: positions of the SRAM's own statistics in its counters (tlmsim.engine.stats.Counters)
_LINE_READS, _LINE_WRITES = stat_positions(Sram.STATS, "line_reads", "line_writes")

# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.hw.sram":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
