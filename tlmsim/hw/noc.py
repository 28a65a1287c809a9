"""The network-on-chip: bus, crossbar or 2D mesh with XY routing, wormhole switching with
finite router buffers and credit-based flow control, multicast trees.

Timing model (cycles of the NoC clock; R = router_latency_cycles, L =
link_latency_cycles, C = credit_latency_cycles, B = buffer_flits, F =
ceil(bytes / link_width_bytes) flits, D = L + R; docs/model.md has the full rules):

* a transfer from ``src`` to ``dst`` is one worm following H links (mesh: the XY
  route, H = Manhattan distance; bus and crossbar: H = 1);
* nodes of a worm: 0 = the source router's injection buffer, then its links. Flit j
  leaves node i at ``s_i(j) = max(s_i(j-1) + 1, s_parent(j) + D, s_child(j-B) + C)``
  (one flit per cycle, the router pipeline, a credit for the next buffer); the head
  instead waits for the link: ``a_i = max(a_parent + D, free_i)`` (stall
  ``link_busy``), root links ``a = start + R``;
* unloaded and with B >= D + C (the credit round trip) the worm streams: the tail
  arrives at ``H * (R + L) + F``; a transfer between endpoints at one router costs R + F;
* a waiting head fills the buffers behind it and holds the links upstream longer
  (stall ``link_credit``): in closed form for a chain (slack S = B - D - C >= 0: the
  link n hops upstream is held max over the first n' <= n, n' * B < F, of the sum of
  (w - S) over the waits passed); by walking the flits of this one transfer when the
  tree branches with waiting heads or B < D + C. No SimPy event per flit, ever;
* a link is free for the next worm at ``max(tail + 1, tail at the next link + C + 1 - B)``;
* ``bus``: all transfers share one link (H = 1); ``crossbar``: one switch traversal
  (H = 1) that holds its source's input port and its destination's output port for F
  cycles, so only transfers sharing a port contend. Neither has router buffers.

Links are booked with timestamps (``free`` per directed link), so a transfer costs one
SimPy timeout in :meth:`access` and none inside a chain built with :meth:`reserve`. Each
link has an integer id (its position in :attr:`Noc.links`); the free times and the stall
totals are int64 arrays indexed by it, and each route or tree is built once with its
links' ids and its traffic counters, so a transfer hashes no link (docs/performance.md,
"Session 28").

Multicast: one transfer to several destinations follows the union of the XY routes (a
tree); every link of the tree is crossed once, so its energy and link occupancy are
those of the tree, not of separate unicasts. A branching router frees a buffer slot
when every branch has taken the flit, so a blocked branch holds its siblings back.

Per link (:meth:`parts`, the ``noc_link`` rows of components.csv): packets, bytes,
flit cycles and both stalls. Energy per bit per hop: a router traversal plus
``link_length_mm`` of wire.
"""

from __future__ import annotations

from array import array
from typing import Generator, Sequence

import simpy

from tlmsim.engine.component import Component  # cimported by the .pxd
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.stats import BUSY_PS, StatDecl, stat_positions
from tlmsim.engine.transaction import Cmd, Transaction
from tlmsim.errors import ConfigError
from tlmsim.platform.hierarchy import core_name
from tlmsim.platform.noc import NocConfig, positions
from tlmsim.units import period_ps

Link = tuple  # a directed link, hashable: ((x, y), (x2, y2)) on a mesh, ("in", node) / ("out", node) ...
BUS: Link = ("bus",)
#: the topologies as numbers (Noc._kind)
_MESH, _BUS, _CROSSBAR = 0, 1, 2
_KINDS = {"mesh": _MESH, "bus": _BUS, "crossbar": _CROSSBAR}


class _Tree:
    """The links one transfer crosses: node 0 is the source router's injection buffer,
    nodes 1.. the links, each after its parent (the link into the router it leaves).
    Built once per (source, destinations) and not changed after (but for ``stats``)."""

    __slots__ = ("chain", "children", "ends", "ids", "links", "parent", "path", "pids", "stats")

    def __init__(self, links: tuple, parent: tuple, children: tuple, ends: tuple, chain: bool, path: tuple,
                 ids: tuple, stats: list) -> None:
        self.links = links  #: (None, link 1, link 2, ...)
        self.parent = parent  #: parent node of each node (-1 for node 0)
        self.children = children  #: the child nodes of each node
        self.ends = ends  #: per destination, the node whose link enters its router (0: the source's router)
        self.chain = chain  #: no router branches (a unicast, or destinations along one route)
        self.path = path  #: the links in order (node 1 onwards)
        self.ids = ids  #: each node's link id (-1 for node 0)
        self.pids = ids[1:]  #: the ids of ``path``
        #: [packets, bytes, flits] sent over it: the list ``Noc._route_stats`` holds under ``path``
        self.stats = stats


class Noc(Component):
    """The on-chip network; see the module docstring for timing and energy."""

    #: the instance attributes as slots (see tlmsim.engine.component.Component)
    __slots__ = (
        "_free", "_hold_stats", "_kind", "_link", "_link_credit", "_link_id", "_link_wait", "_links", "_paths",
        "_ports", "_route_stats", "_router", "_slack", "_trees", "_unicast", "clock_mhz", "config",
        "groups", "hop_cycles", "link_observer", "links", "nodes", "period_ps", "width",
    )

    KIND = "noc"
    STATS = (
        StatDecl("transfers", "count", "packets sent (a multicast counts once)"),
        StatDecl("flits", "count", "flits injected"),
        StatDecl("flit_hops", "count", "flits x links crossed"),
        StatDecl("bit_hops", "bit", "bits x links crossed (energy basis)"),
        StatDecl("multicast_bytes", "bytes", "bytes sent as one multicast tree to several endpoints (counted once)"),
    )

    def __init__(
        self,
        *,
        name: str,
        env: simpy.Environment,
        recorder: Recorder,
        config: NocConfig,
        accel_clock_mhz: float,
        cores: int = 1,
    ) -> None:
        super().__init__(name=name, env=env, recorder=recorder)
        self.config = config
        #: endpoint -> router: every ``noc.nodes`` entry; a list of positions (l1) gives one endpoint per
        #: core, core c's named ``core_name(key, c, cores)`` (``l1`` with one core, ``l1_0``, ``l1_1``, ... else)
        self.nodes: dict[str, tuple[int, int]] = {}
        for key, at in config.nodes.items():
            if isinstance(at, list):
                for c, pos in enumerate(positions(at)[:cores]):
                    self.nodes[core_name(key, c, cores)] = pos
            else:
                self.nodes[key] = tuple(at)
        #: multicast destination name (the transaction's destination) -> the endpoints it reached
        self.groups: dict[str, tuple[str, ...]] = {}
        self.clock_mhz = config.clock_mhz if config.clock_mhz is not None else accel_clock_mhz
        self.period_ps = period_ps(self.clock_mhz)
        self.width = int(config.link_width_bytes)
        self.hop_cycles = config.router_latency_cycles + config.link_latency_cycles
        #: buffer slots beyond the credit round trip (router + link + credit latency)
        self._slack = config.buffer_flits - self.hop_cycles - config.credit_latency_cycles
        #: the (frozen) config's figures every booking reads, as plain attributes
        #: the topology as a number (a string comparison per transfer costs more than the booking's arithmetic)
        self._kind = _KINDS[config.topology]
        self._router, self._link = config.router_latency_cycles, config.link_latency_cycles
        self._paths: dict[tuple[str, str], tuple[Link, ...]] = {}
        self._trees: dict[tuple[str, tuple[str, ...]], _Tree] = {}
        #: (source, destination) -> the unicast's _Tree (mesh)
        self._unicast: dict[tuple[str, str], _Tree] = {}
        #: (source, destination) -> (its input port's link id, its output port's) (crossbar)
        self._ports: dict[tuple[str, str], tuple[int, int]] = {}
        #: links crossed by one transfer (a route or tree) -> [packets, bytes, flits], summed per link by parts()
        self._route_stats: dict[tuple, list[int]] = {}
        self._links = self._all_links()
        #: every directed link (mesh), the bus, or the crossbar's ports, in a fixed order: a link's id is its position
        self.links: list[Link] = list(self._links)
        self._link_id: dict[Link, int] = {link: i for i, link in enumerate(self._links)}
        n = len(self._links)
        #: per link id: the cycle it is free for the next worm; cycles heads waited for it; cycles worms on it
        #: stalled for credits
        self._free = array("q", bytes(8 * n))
        self._link_wait = array("q", bytes(8 * n))
        self._link_credit = array("q", bytes(8 * n))
        #: per link id: the [packets, bytes, flits] of a bus or crossbar port held alone (``_route_stats[(link,)]``,
        #: made on its first use), or None
        self._hold_stats: list = [None] * n
        #: read-only hook (e.g. the timeline): ``fn(link, start_cycle, end_cycle, flits)`` for every
        #: link a transfer holds, [head entered, tail left + 1) in NoC cycles, before the transfer's record
        self.link_observer = None

    # -- topology -------------------------------------------------------------------
    def _all_links(self) -> list[Link]:
        cfg = self.config
        if cfg.topology == "bus":
            return [BUS]
        if cfg.topology == "crossbar":
            return [(d, n) for n in self.nodes for d in ("in", "out")]
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
            return self.nodes[name]
        except KeyError:
            raise ConfigError(
                f"no NoC endpoint named {name!r}", key="noc.nodes", allowed=", ".join(self.nodes)
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
            p = (BUS,)
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
    def _tree(self, src: str, dsts: tuple[str, ...]) -> _Tree:
        """The links from ``src`` to every endpoint of ``dsts`` (the union of their XY
        routes), parent before child; cached."""
        key = (src, dsts)
        tree = self._trees.get(key)
        if tree is not None:
            return tree
        index: dict[Link, int] = {}
        links: list[Link] = []
        parent: list[int] = [-1]  # node 0: the source router's injection buffer
        ends: list[int] = []
        for d in dsts:
            p = 0
            for link in self.path(src, d):
                i = index.get(link)
                if i is None:
                    links.append(link)
                    parent.append(p)
                    i = index[link] = len(links)
                p = i
            ends.append(p)
        n = len(parent)
        children: list[list[int]] = [[] for _ in range(n)]
        for i in range(1, n):
            children[parent[i]].append(i)
        path = tuple(links)
        tree = _Tree(
            links=(None, *links),
            parent=tuple(parent),
            children=tuple(tuple(c) for c in children),
            ends=tuple(ends),
            chain=all(len(c) <= 1 for c in children),
            path=path,
            ids=(-1, *(self._link_id[link] for link in links)),
            stats=self._route_stats.setdefault(path, [0, 0, 0]),  # (no link on an empty path: parts() adds nothing)
        )
        self._trees[key] = tree
        return tree

    def link_free(self, link: Link) -> int:
        """The NoC cycle from which ``link`` is free for the next worm (0 before any)."""
        return self._free[self._link_id[link]]

    # @cython.locals(tree=_Tree, free=cython.longlong[::1], lw=cython.longlong[::1], lc=cython.longlong[::1])
    def _book_tree(self, tree: _Tree, s: int, f: int, nbytes: int) -> tuple[int, int, int]:
        """Book a worm of ``f`` flits (``nbytes``) injected at cycle ``s`` over ``tree``; return
        (tail arrival cycle at the last destination, cycles waited for busy links,
        cycles stalled for credits). Updates every link's free time and statistics.

        Per node i (0 = the injection buffer, then the links), with D_i = R for a
        root link and L + R otherwise and B = ``buffer_flits``, C = credit latency,
        flit j leaves node i at s_i(j) = max(s_i(j-1) + 1, s_parent(j) + D_i,
        s_c(j-B) + C for every child c); the head (j = 0) waits until the link is
        free instead: a_i = max(a_parent + D_i, free_i). Chains with slack >= 0 go to
        :meth:`_book_chain` (closed form); a tree whose heads did not wait beyond the
        slack streams (no credit stalls); otherwise :meth:`_flit_stalls` walks the flits."""
        cfg, free = self.config, self._free
        r, l = cfg.router_latency_cycles, cfg.link_latency_cycles
        b, c = cfg.buffer_flits, cfg.credit_latency_cycles
        d = l + r
        links, parent, children, ids = tree.links, tree.parent, tree.children, tree.ids
        n = len(links)
        slack = b - d - c  # buffer slots beyond the credit round trip
        if tree.chain and slack >= 0:
            return self._book_chain(tree, s, f, nbytes, slack)
        # a head that waits longer than the slack of the buffer behind it fills that buffer
        # (the injection buffer only matters when several root links share it)
        slack0 = (b - r - c) if len(children[0]) > 1 else float("inf")
        a = [s] * n  # head departure from each node
        w = [0] * n  # head wait at each link
        backs_up = False
        for i in range(1, n):
            p = parent[i]
            e = a[p] + (r if p == 0 else d)
            fl = free[ids[i]]
            if fl > e:
                w[i] = fl - e
                e = fl
                if w[i] > (slack0 if p == 0 else slack):
                    backs_up = True
            a[i] = e
        delta = [0] * n  # cycles node i's worm stalled for credits (held its link beyond f cycles)
        if slack < 0 or backs_up:  # no closed form here: walk this transfer's flits
            delta = self._flit_stalls(tree, a, s, f)
        tail = [a[i] + f - 1 + delta[i] for i in range(n)]  # departure of the last flit
        obs, lw, lc = self.link_observer, self._link_wait, self._link_credit
        st = tree.stats
        st[0] += 1
        st[1] += nbytes
        st[2] += f
        for i in range(1, n):
            li = ids[i]
            fl = tail[i] + 1
            for k in children[i]:
                cr = tail[k] + c + 1 - b  # the buffer behind the link takes a next worm's b flits at full rate
                if cr > fl:
                    fl = cr
            free[li] = fl
            if w[i]:
                lw[li] += w[i]
            if delta[i]:
                lc[li] += delta[i]
            if obs is not None:
                obs(links[i], a[i], tail[i] + 1, f)
        end = max(tail[e] + 1 + (l if e else r) for e in tree.ends)
        return end, sum(w), sum(delta[1:])

    # @cython.locals(tree=_Tree, s=cython.longlong, f=cython.longlong, nbytes=cython.longlong, slack=cython.longlong, r=cython.longlong, l=cython.longlong, d=cython.longlong, e=cython.longlong, fl=cython.longlong, w=cython.longlong, wait_total=cython.longlong, credit=cython.longlong, backs_up=cython.bint, h=cython.longlong, k=cython.longlong, li=cython.longlong, free=cython.longlong[::1], lw=cython.longlong[::1], pids=tuple, st=list)
    def _book_chain(self, tree: _Tree, s: int, f: int, nbytes: int, slack: int) -> tuple[int, int, int]:
        """:meth:`_book_tree` for a worm whose routers do not branch, with buffers
        covering the credit round trip (slack >= 0): the heads, then the closed form
        of the credit stalls only if a head waited longer than the slack. One link (the
        two routers are neighbours): its head's wait alone, in closed form (no buffer
        behind a later link to fill, so no credit stall)."""
        free = self._free
        r, l = self._router, self._link
        d = l + r
        e = s + r
        pids = tree.pids
        h = len(pids)
        if h == 0:  # every destination at the source's router
            return e + f, 0, 0
        lw = self._link_wait
        st = tree.stats
        st[0] += 1
        st[1] += nbytes
        st[2] += f
        if h == 1:  # one link (neighbouring routers): no buffer behind it to back up, no credit stall
            li = pids[0]
            fl = free[li]
            w = 0
            if fl > e:
                w = fl - e
                e = fl
                lw[li] += w
            free[li] = e + f
            if self.link_observer is not None:
                self.link_observer(tree.path[0], e, e + f, f)
            return e + f + l, w, 0
        heads: list[int] = []
        waits: list[int] = []
        wait_total = 0
        backs_up = False
        for k in range(h):
            li = pids[k]
            fl = free[li]
            if fl > e:
                w = fl - e
                e = fl
                wait_total += w
                lw[li] += w
                if k and w > slack:  # the buffer behind this link fills: upstream links stall
                    backs_up = True
                waits.append(w)
            else:
                waits.append(0)
            heads.append(e)
            free[li] = e + f  # the tail left it; corrected below if the worm backed up
            e += d
        credit = 0
        if backs_up:
            credit = self._back_up(tree, heads, waits, f, slack)
        elif self.link_observer is not None:
            for link, a in zip(tree.path, heads):
                self.link_observer(link, a, a + f, f)
        return heads[-1] + f + l, wait_total, credit

    # @cython.locals(tree=_Tree, free=cython.longlong[::1], lc=cython.longlong[::1])
    def _back_up(self, tree: _Tree, heads: list[int], waits: list[int], f: int, slack: int) -> int:
        """Credit stalls of a chain whose heads waited beyond the slack (closed form,
        docs/model.md): fix each link's free time and stall; return the total."""
        cfg, free, lc, obs = self.config, self._free, self._link_credit, self.link_observer
        b, c = cfg.buffer_flits, cfg.credit_latency_cycles
        path, pids = tree.path, tree.pids
        h = len(path)
        top = (f - 1) // b  # how many buffers behind a link the tail still reaches
        delta = [0] * h
        for k in range(h - 1):
            best = run = 0
            for m in range(1, min(top, h - 1 - k) + 1):
                run += waits[k + m] - slack
                if run > best:
                    best = run
            delta[k] = best
        for k, link in enumerate(path):
            a, dk = heads[k], delta[k]
            fl = a + f + dk  # the tail left the link
            if k + 1 < h:
                cr = heads[k + 1] + f + delta[k + 1] + c - b  # the buffer behind it takes b flits at full rate
                if cr > fl:
                    fl = cr
            free[pids[k]] = fl
            if dk:
                lc[pids[k]] += dk
            if obs is not None:
                obs(link, a, a + f + dk, f)
        return sum(delta)

    def _flit_stalls(self, tree: _Tree, a: list[int], s: int, f: int) -> list[int]:
        """Credit stalls of every node by walking the flits (used where the closed
        forms do not hold: buffers shorter than the credit round trip, or a
        branching tree whose heads waited)."""
        cfg = self.config
        r, l = cfg.router_latency_cycles, cfg.link_latency_cycles
        b, c = cfg.buffer_flits, cfg.credit_latency_cycles
        parent, children = tree.parent, tree.children
        n = len(parent)
        dl = [r if parent[i] == 0 else l + r for i in range(n)]
        sched = [[0] * f for _ in range(n)]
        for i in range(n):
            sched[i][0] = a[i]
        for j in range(1, f):
            for i in range(n):
                t = sched[i][j - 1] + 1
                if i:
                    u = sched[parent[i]][j] + dl[i]
                    if u > t:
                        t = u
                if j >= b:
                    for k in children[i]:
                        u = sched[k][j - b] + c
                        if u > t:
                            t = u
                sched[i][j] = t
        return [sched[i][f - 1] - (a[i] + f - 1) for i in range(n)]

    def reserve(self, txn: Transaction, start_ps: int) -> int:
        """Book the links from ``txn.source`` to ``txn.destination`` from ``start_ps``;
        return the tail's arrival time (ps). Records the hop and its stalls."""
        end_ps, wait_ps = self.book(txn.cmd, txn.address, txn.nbytes, txn.source, txn.destination, start_ps,
                                    txn.layer)
        self.record(txn, start_ps, end_ps, wait_ps)
        return end_ps

    # @cython.locals(nbytes=cython.longlong, start_ps=cython.longlong, period=cython.longlong, s=cython.longlong, f=cython.longlong, end=cython.longlong, wait=cython.longlong, credit=cython.longlong, hops=cython.longlong, cv=cython.longlong[::1])
    def book(self, cmd: Cmd, address: int, nbytes: int, source: str, destination: str, start_ps: int,
             layer: int) -> tuple[int, int]:
        """:meth:`reserve` without the hop's record: book a transfer of ``nbytes`` from
        ``source`` to ``destination`` from ``start_ps``, count it and attribute its
        stalls; return ``(end, wait)`` in ps (the caller records the hop)."""
        period = self.period_ps
        s = -(-start_ps // period)
        f = -(-nbytes // self.width)  # self.flits(nbytes)
        end, wait, credit, hops = self._send(source, destination, s, f, nbytes)
        cv = self._cv
        cv[_TRANSFERS] += 1
        cv[_FLITS] += f
        cv[_FLIT_HOPS] += f * hops
        cv[_BIT_HOPS] += 8 * nbytes * hops
        cv[BUSY_PS] += f * hops * period
        if wait:
            self.stall("link_busy", wait * period, layer)
        if credit:
            self.stall("link_credit", credit * period, layer)
        return end * period, (wait + credit) * period

    # @cython.locals(li=cython.longlong, e=cython.longlong, f=cython.longlong, nbytes=cython.longlong, wait=cython.longlong, st=list)
    def _hold(self, li: int, e: int, f: int, nbytes: int, wait: int) -> None:
        """Count a hold [e, e + f) of ``f`` flits of the bus or a crossbar port (link id ``li``) after
        ``wait`` cycles."""
        obs = self.link_observer
        if obs is not None:
            obs(self._links[li], e, e + f, f)
        st = self._hold_stats[li]
        if st is None:
            st = self._hold_stats[li] = self._route_stats.setdefault((self._links[li],), [0, 0, 0])
        st[0] += 1
        st[1] += nbytes
        st[2] += f
        if wait:
            self._link_wait[li] += wait

    # @cython.locals(s=cython.longlong, f=cython.longlong, nbytes=cython.longlong, r=cython.longlong, l=cython.longlong, e=cython.longlong, fi=cython.longlong, fo=cython.longlong, ready=cython.longlong, wait=cython.longlong, fl=cython.longlong, pi=cython.longlong, po=cython.longlong, free=cython.longlong[::1], tree=_Tree)
    def _send(self, src: str, dst: str, s: int, f: int, nbytes: int) -> tuple[int, int, int, int]:
        """Book one unicast; returns (tail arrival cycle, cycles waited for busy
        links, cycles stalled for credits, hops)."""
        free = self._free
        r, l = self._router, self._link
        if self._kind == _CROSSBAR:  # one switch traversal holding both ports
            ports = self._ports.get((src, dst))
            if ports is None:
                ports = self._crossbar_ports(src, dst)
            pi, po = ports
            e = s + r
            fi, fo = free[pi], free[po]
            ready = max(fi, fo)
            wait = ready - e if ready > e else 0
            e += wait
            free[pi] = free[po] = e + f
            # the wait is the later port's: the other one was free by then
            self._hold(pi, e, f, nbytes, wait if fi > fo else 0)
            self._hold(po, e, f, nbytes, wait if fo >= fi else 0)
            return e + l + f, wait, 0, 1
        if self._kind == _BUS:
            e = s + r
            fl = free[0]
            wait = fl - e if fl > e else 0
            e += wait
            free[0] = e + f
            self._hold(0, e, f, nbytes, wait)
            return e + l + f, wait, 0, 1
        tree = self._unicast.get((src, dst))
        if tree is None:
            tree = self._unicast[src, dst] = self._tree(src, (dst,))
        if not tree.pids:  # same router: through the router only
            return s + r + f, 0, 0, 0
        if self._slack >= 0:
            end, wait, credit = self._book_chain(tree, s, f, nbytes, self._slack)
        else:
            end, wait, credit = self._book_tree(tree, s, f, nbytes)
        return end, wait, credit, len(tree.pids)

    def _crossbar_ports(self, src: str, dst: str) -> tuple[int, int]:
        """The link ids of ``src``'s input port and ``dst``'s output port (cached); raises
        :class:`ConfigError` for an unknown endpoint."""
        self._node(src), self._node(dst)
        ports = self._ports[src, dst] = (self._link_id["in", src], self._link_id["out", dst])
        return ports

    # @cython.locals(cv=cython.longlong[::1])
    def reserve_multicast(self, txn: Transaction, destinations: Sequence[str], start_ps: int) -> int:
        """Send ``txn`` from ``txn.source`` to every endpoint in ``destinations``;
        return when the last copy arrived (ps). On a mesh with ``multicast`` on, the
        copies share the union of their XY routes (each tree link crossed once, the
        branching routers replicate each flit; a flit frees its buffer slot when
        every branch has taken it); otherwise one unicast per destination is sent,
        all injected at ``start_ps`` and contending for the links like separate
        packets."""
        period = self.period_ps
        s = -(-start_ps // period)
        f = self.flits(txn.nbytes)
        cfg = self.config
        dests = tuple(destinations)
        if len(dests) > 1:
            self.groups[txn.destination] = dests
        if cfg.multicast and cfg.topology == "mesh":
            tree = self._tree(txn.source, dests)
            end, wait, credit = self._book_tree(tree, s, f, txn.nbytes)
            hops = len(tree.links) - 1
            if len(dests) > 1:
                self._cv[_MULTICAST_BYTES] += txn.nbytes
        else:
            end, wait, credit, hops = s, 0, 0, 0
            for d in dests:
                e, w, cr, h = self._send(txn.source, d, s, f, txn.nbytes)
                end, wait, credit, hops = max(end, e), wait + w, credit + cr, hops + h
            if len(dests) > 1:  # the copies are separate packets: count them all (bytes served: once, as sent)
                cv = self._cv
                cv[_TRANSFERS] += len(dests) - 1
                cv[_FLITS] += f * (len(dests) - 1)
        return self._finish(txn, start_ps, end, wait, credit, hops, f)

    def _finish(self, txn: Transaction, start_ps: int, end: int, wait: int, credit: int, hops: int, f: int) -> int:
        """Count a booked transfer, attribute its waiting, record the hop; return its end (ps)."""
        period = self.period_ps
        self._account(txn, hops, f)
        if wait:
            self.stall("link_busy", wait * period, txn.layer)
        if credit:
            self.stall("link_credit", credit * period, txn.layer)
        end_ps = end * period
        self.record(txn, start_ps, end_ps, (wait + credit) * period)
        return end_ps

    # @cython.locals(cv=cython.longlong[::1])
    def _account(self, txn: Transaction, links: int, f: int) -> None:
        cv = self._cv
        cv[_TRANSFERS] += 1
        cv[_FLITS] += f
        cv[_FLIT_HOPS] += f * links
        cv[_BIT_HOPS] += 8 * txn.nbytes * links
        cv[BUSY_PS] += f * links * self.period_ps

    def access(self, txn: Transaction) -> Generator[simpy.Event, object, None]:
        """Carry ``txn`` from its source to its destination starting now."""
        end = self.reserve(txn, self.env.now)
        yield self.env.timeout(end - self.env.now)

    # -- results ----------------------------------------------------------------------
    def link_name(self, link: Link) -> str:
        """``noc:(0,0)>(1,0)`` (mesh), ``noc:bus``, ``noc:in:glb`` / ``noc:out:l1`` (crossbar ports)."""
        if link == BUS:
            return f"{self.name}:bus"
        if isinstance(link[0], str):
            return f"{self.name}:{link[0]}:{link[1]}"
        (x, y), (x2, y2) = link
        return f"{self.name}:({x},{y})>({x2},{y2})"

    def parts(self) -> list[dict]:
        """One row per link that carried traffic (see :meth:`Component.parts`): its
        packets (multicast once), bytes, flit cycles and stalls (``link_busy``: heads
        waiting for the link; ``link_credit``: worms on it waiting for credits)."""
        per_link: dict[Link, list[int]] = {}
        for path, (packets, nbytes, flits) in self._route_stats.items():
            if not packets:  # a route built, never used
                continue
            for link in path:
                st = per_link.setdefault(link, [0, 0, 0])
                st[0] += packets
                st[1] += nbytes
                st[2] += flits
        period, rows = self.period_ps, []
        for i, link in enumerate(self._links):
            st = per_link.get(link)
            if st is None:
                continue
            stalls = {k: v * period for k, v in (("link_busy", self._link_wait[i]),
                                                  ("link_credit", self._link_credit[i])) if v}
            rows.append({"component": self.link_name(link), "kind": "noc_link", "writes": st[0],
                         "write_bytes": st[1], "busy_ps": st[2] * period, "stall_ps": stalls})
        return rows

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


#: positions of the NoC's own statistics in its counters (tlmsim.engine.stats.Counters)
_TRANSFERS, _FLITS, _FLIT_HOPS, _BIT_HOPS, _MULTICAST_BYTES = stat_positions(
    Noc.STATS, "transfers", "flits", "flit_hops", "bit_hops", "multicast_bytes")

# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.hw.noc":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
