"""The network-on-chip: bus, crossbar or 2D mesh with XY routing, link contention, multicast.

Timing model (cycles of the NoC clock; R = router_latency_cycles, L =
link_latency_cycles, F = ceil(bytes / link_width_bytes) flits):

* a transfer from ``src`` to ``dst`` follows a path of H links (mesh: the XY route,
  H = Manhattan distance; bus and crossbar: H = 1);
* wormhole, pipelined: the head enters link k at ``e_k`` with
  ``e_0 = start + R`` and ``e_(k+1) = e_k + L + R``, each delayed until the link is
  free; the packet then holds the link for F cycles (one flit per cycle);
* the tail arrives at ``e_(H-1) + L + F``. Unloaded:
  ``latency = H * (R + L) + F`` cycles. Extra waiting for busy links is stall
  ``link_busy``;
* a transfer between endpoints at the same router (H = 0) costs R + F cycles;
* ``bus``: all transfers share one link (H = 1); ``crossbar``: one switch
  traversal (H = 1) that holds its source's input port and its destination's
  output port for F cycles, so only transfers sharing a port contend.

Links are booked with timestamps (``free_at`` per directed link), so a transfer
costs one SimPy timeout in :meth:`access` and none inside a chain built with
:meth:`reserve`. Backpressure of a blocked head onto links already crossed is not
modelled (each link is released F cycles after the head entered it).

Multicast: one transfer to several destinations follows the union of the XY
routes (a tree); every link of the tree is crossed once, so its energy and link
occupancy are those of the tree, not of separate unicasts.

Energy per bit per hop: a router traversal plus ``link_length_mm`` of wire.
"""

from __future__ import annotations

from typing import Generator, Sequence

import simpy

from tlmsim.engine.component import Component
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.stats import StatDecl
from tlmsim.engine.transaction import Transaction
from tlmsim.errors import ConfigError
from tlmsim.platform.noc import NocConfig
from tlmsim.units import period_ps

Link = tuple  # a directed link, hashable: ((x, y), (x2, y2)) on a mesh, ("in", node) / ("out", node) ...


class Noc(Component):
    """The on-chip network; see the module docstring for timing and energy."""

    KIND = "noc"
    STATS = (
        StatDecl("transfers", "count", "packets sent (a multicast counts once)"),
        StatDecl("flits", "count", "flits injected"),
        StatDecl("flit_hops", "count", "flits x links crossed"),
        StatDecl("bit_hops", "bit", "bits x links crossed (energy basis)"),
    )

    def __init__(
        self,
        *,
        name: str,
        env: simpy.Environment,
        recorder: Recorder,
        config: NocConfig,
        accel_clock_mhz: float,
    ) -> None:
        super().__init__(name=name, env=env, recorder=recorder)
        self.config = config
        self.clock_mhz = config.clock_mhz if config.clock_mhz is not None else accel_clock_mhz
        self.period_ps = period_ps(self.clock_mhz)
        self.width = int(config.link_width_bytes)
        self.hop_cycles = config.router_latency_cycles + config.link_latency_cycles
        self._free: dict[Link, int] = {}
        self._paths: dict[tuple[str, str], tuple[Link, ...]] = {}
        self._links = self._all_links()

    # -- topology -------------------------------------------------------------------
    def _all_links(self) -> list[Link]:
        cfg = self.config
        if cfg.topology == "bus":
            return [("bus",)]
        if cfg.topology == "crossbar":
            return [(d, n) for n in cfg.nodes for d in ("in", "out")]
        links = []
        for x in range(cfg.mesh_cols):
            for y in range(cfg.mesh_rows):
                for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                    nx, ny = x + dx, y + dy
                    if 0 <= nx < cfg.mesh_cols and 0 <= ny < cfg.mesh_rows:
                        links.append(((x, y), (nx, ny)))
        return links

    def _node(self, name: str) -> tuple[int, int]:
        try:
            return tuple(self.config.nodes[name])
        except KeyError:
            raise ConfigError(
                f"no NoC endpoint named {name!r}", key="noc.nodes", allowed=", ".join(self.config.nodes)
            ) from None

    def path(self, src: str, dst: str) -> tuple[Link, ...]:
        """The directed links a transfer from ``src`` to ``dst`` crosses, in order."""
        key = (src, dst)
        p = self._paths.get(key)
        if p is not None:
            return p
        a, b = self._node(src), self._node(dst)
        topo = self.config.topology
        if topo == "bus":
            p = (("bus",),)
        elif topo == "crossbar":
            p = (("in", src), ("out", dst))
        else:
            hops = []
            x, y = a
            while x != b[0]:  # X first
                nx = x + (1 if b[0] > x else -1)
                hops.append(((x, y), (nx, y)))
                x = nx
            while y != b[1]:  # then Y
                ny = y + (1 if b[1] > y else -1)
                hops.append(((x, y), (x, ny)))
                y = ny
            p = tuple(hops)
        self._paths[key] = p
        return p

    def hop_count(self, src: str, dst: str) -> int:
        """Hops from ``src`` to ``dst`` (mesh: Manhattan distance; bus, crossbar: 1).
        Raises :class:`ConfigError` for an unknown endpoint."""
        if self.config.topology in ("bus", "crossbar"):
            self._node(src), self._node(dst)
            return 1
        return len(self.path(src, dst))

    def flits(self, nbytes: int) -> int:
        return -(-nbytes // self.width)

    @property
    def busy_units(self) -> int:
        return len(self._links)

    # -- timing ---------------------------------------------------------------------
    def _traverse(self, links: Sequence[Link], s: int, f: int, free: dict) -> tuple[int, int]:
        """Book ``links`` in order for a packet of ``f`` flits whose head is ready at
        cycle ``s``; returns (tail arrival cycle, cycles waited for busy links)."""
        cfg = self.config
        r, l = cfg.router_latency_cycles, cfg.link_latency_cycles
        e = s + r
        wait = 0
        for link in links:
            fl = free.get(link, 0)
            if fl > e:
                wait += fl - e
                e = fl
            free[link] = e + f
            e += l + r
        return e - r + f, wait

    def reserve(self, txn: Transaction, start_ps: int) -> int:
        """Book the links from ``txn.source`` to ``txn.destination`` from ``start_ps``;
        return the tail's arrival time (ps). Records the hop and its stalls."""
        period = self.period_ps
        s = -(-start_ps // period)
        f = self.flits(txn.nbytes)
        end, wait, hops = self._send(txn.source, txn.destination, s, f, self._free)
        return self._finish(txn, start_ps, end, wait, hops, f)

    def _send(self, src: str, dst: str, s: int, f: int, free: dict) -> tuple[int, int, int]:
        """Book one unicast; returns (tail arrival cycle, cycles waited, hops)."""
        cfg = self.config
        r, l = cfg.router_latency_cycles, cfg.link_latency_cycles
        if cfg.topology == "crossbar":  # one switch traversal holding both ports
            pi, po = ("in", src), ("out", dst)
            self._node(src), self._node(dst)
            e = s + r
            ready = max(free.get(pi, 0), free.get(po, 0))
            wait = ready - e if ready > e else 0
            e += wait
            free[pi] = free[po] = e + f
            return e + l + f, wait, 1
        links = self.path(src, dst)
        if not links:  # same router: through the router only
            return s + r + f, 0, 0
        end, wait = self._traverse(links, s, f, free)
        return end, wait, len(links)

    def reserve_multicast(self, txn: Transaction, destinations: Sequence[str], start_ps: int) -> int:
        """Send ``txn`` from ``txn.source`` to every endpoint in ``destinations``;
        return when the last copy arrived (ps). On a mesh with ``multicast`` on, the
        copies share the union of their XY routes (each tree link crossed once);
        otherwise one unicast per destination is sent, all injected at ``start_ps``
        and contending for the links like separate packets."""
        period = self.period_ps
        s = -(-start_ps // period)
        f = self.flits(txn.nbytes)
        cfg = self.config
        r, l = cfg.router_latency_cycles, cfg.link_latency_cycles
        end, wait_total, hops = s, 0, 0
        if cfg.multicast and cfg.topology == "mesh":
            head: dict[Link, int] = {}  # link -> cycle its head entered it (tree links booked once)
            for d in destinations:
                e = s + r
                links = self.path(txn.source, d)
                for link in links:
                    if link in head:
                        e = head[link]
                    else:
                        fl = self._free.get(link, 0)
                        if fl > e:
                            wait_total += fl - e
                            e = fl
                        head[link] = e
                        self._free[link] = e + f
                    e += l + r
                end = max(end, e - r + f if links else s + r + f)
            hops = len(head)
        else:
            for d in destinations:
                e, w, h = self._send(txn.source, d, s, f, self._free)
                end, wait_total, hops = max(end, e), wait_total + w, hops + h
        return self._finish(txn, start_ps, end, wait_total, hops, f)

    def _finish(self, txn: Transaction, start_ps: int, end: int, wait: int, hops: int, f: int) -> int:
        """Count a booked transfer, attribute its waiting, record the hop; return its end (ps)."""
        period = self.period_ps
        self._account(txn, hops, f)
        if wait:
            self.stall("link_busy", wait * period, txn.layer)
        end_ps = end * period
        self.record(txn, start_ps, end_ps, wait * period)
        return end_ps

    def _account(self, txn: Transaction, links: int, f: int) -> None:
        c = self.stats.c
        c["transfers"] += 1
        c["flits"] += f
        c["flit_hops"] += f * links
        c["bit_hops"] += 8 * txn.nbytes * links
        c["busy_ps"] += f * links * self.period_ps

    def access(self, txn: Transaction) -> Generator[simpy.Event, object, None]:
        """Carry ``txn`` from its source to its destination starting now."""
        end = self.reserve(txn, self.env.now)
        yield self.env.timeout(end - self.env.now)

    # -- results ----------------------------------------------------------------------
    def energy_pj(self) -> dict[str, float]:
        cfg, bh = self.config, self.stats.c["bit_hops"]
        return {
            "router": bh * cfg.router_pj_per_bit,
            "wire": bh * cfg.wire_pj_per_bit_mm * cfg.link_length_mm,
        }

    def __repr__(self) -> str:
        cfg = self.config
        shape = f"{cfg.mesh_cols}x{cfg.mesh_rows} " if cfg.topology == "mesh" else ""
        return f"Noc({self.name!r}, {shape}{cfg.topology}, {cfg.link_width_bytes} B links @ {self.clock_mhz} MHz)"
