"""The rig of the by-hand controller tests (tests/hw/test_controller_by_hand*.py): one
builder and the helpers they share.

Memories are fixed-latency stand-ins (10 ns per hop unless said otherwise, no contention:
tests/hw/test_controller.py's ``Fixed``), the array runs at 1 ns per cycle, so every time a
test asserts is computed by hand from the rules of the module docstring of
tlmsim/hw/controller.py. Only public entry points are read (the recorder and its trace
sink, the controller's layer records, statistics and ``describe_blocked``).
"""

from __future__ import annotations

import simpy

from tests.hw.test_controller import NS, Fixed
from tlmsim.engine.plan import LayerPlan, Move, Tile  # noqa: F401  (LayerPlan: for the tests that import it here)
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import DataClass
from tlmsim.hw.controller import Controller
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig
from tlmsim.workload import Layer

W, S, M, O, P = DataClass.WEIGHTS, DataClass.SPIKES, DataClass.MEMBRANE, DataClass.OUT_SPIKES, DataClass.PSUM


def layer(i: int, name: str | None = None) -> Layer:
    return Layer(index=i, name=name or f"l{i}", op="linear", in_shape=(8,), out_shape=(8,), kernel=(1, 1),
                 stride=(1, 1), padding=(0, 0), neuron=None, weight_sparsity=0.0, firing_rate=0.5)


class Level(Fixed):
    """A fixed-latency SRAM level that logs what it is asked to allocate and free."""

    def __init__(self, *, free_bytes=1 << 20, **kw):
        super().__init__(**kw)
        self.log: list[tuple] = []
        self._free = free_bytes

    def allocate(self, nbytes, what=""):
        self.log.append(("allocate", nbytes, what))
        self._free -= nbytes

    def free(self, nbytes):
        self.log.append(("free", nbytes))
        self._free += nbytes

    @property
    def free_bytes(self):
        return self._free


class MulticastNoc(Fixed):
    """A fixed-latency NoC that also takes a multicast (one transfer to several L1s)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.multicasts: list[tuple] = []

    def reserve_multicast(self, txn, dests, start_ps):
        self.multicasts.append((txn.source, tuple(dests), txn.nbytes, start_ps))
        return self.reserve(txn, start_ps)


class SlowFirst(Fixed):
    """A DRAM stand-in whose reads of the listed addresses take ``slow_ps`` instead."""

    def __init__(self, *, slow: dict[int, int], **kw):
        super().__init__(**kw)
        self.slow = slow

    def reserve(self, txn, start_ps):
        end = start_ps + self.slow.get(txn.address, self.latency_ps)
        self.record(txn, start_ps, end, 0)
        return end


def slow_dram(slow: dict[int, int]):
    """A ``dram=`` maker for :func:`build`: accesses of the addresses in ``slow`` take that many ns, the rest 10."""
    return lambda env, rec: SlowFirst(name="dram", env=env, recorder=rec, latency_ps=10 * NS,
                                      slow={a: ns * NS for a, ns in slow.items()})


class Hops:
    """A trace sink keeping every hop and every timed stall in memory."""

    def __init__(self):
        self.hops: list[tuple] = []
        self.stalls: list[tuple] = []
        self.chains: dict[int, list] = {}  #: DMA block (chain id) -> its hops' (component, command, data class)
        self.txns: list[tuple] = []  #: (component, transaction) of every hop

    def hop(self, txn, component, start_ps, end_ps, wait_ps, busy_ps):
        self.hops.append((component, txn.cmd.label, txn.data_class.name.lower(), txn.address, txn.nbytes,
                          txn.layer, txn.tile, start_ps // NS, end_ps // NS, txn.source, txn.destination))
        self.chains.setdefault(txn.chain, []).append((component, txn.cmd.label, txn.data_class.name.lower()))
        self.txns.append((component, txn))

    def stall(self, component, reason, layer, start_ps, end_ps):
        self.stalls.append((component, reason, layer, start_ps // NS, end_ps // NS))

    def tail(self, component, start_ps, busy_ps):
        pass

    def close(self):
        pass

    def abort(self):
        pass

    def issued_done(self, component):
        """(command, issued ns, done ns) of ``component``'s hops' transactions, read after the run."""
        return [(t.cmd.label, t.issued_ps // NS, t.done_ps // NS) for c, t in self.txns if c == component]

    def of(self, component):
        """(command, data class, address, bytes, layer, tile, start ns, end ns) of ``component``'s hops."""
        return [h[1:9] for h in self.hops if h[0] == component]


def build(plans, *, levels=("glb",), cores=1, chunk=4096, outstanding=4, double_buffered=True, l1_bytes=1 << 20,
          dram=None, noc=None, level_free=1 << 20, level_bytes=1 << 20, multicast=False, multicore="split"):
    """A controller over fixed 10-ns memories: ``levels`` from DRAM inward (a tuple of names: a
    private level, one instance per core; each a :class:`Level` of ``level_bytes`` with ``level_free``
    free bytes), ``cores`` L1s of ``l1_bytes`` and arrays at 1 ns per cycle (one core: named ``l1``
    and ``pe_array``; several: ``l1_c`` and ``pe_array_c``), a NoC that takes multicasts if
    ``multicast``; ``multicore``: pe_array.multicore; ``dram`` and ``noc``: makers
    ``(env, rec) -> component`` replacing the stand-ins. Returns ``(env, recorder, controller, trace sink, levels)``."""
    env = simpy.Environment()
    sink = Hops()
    rec = Recorder(sinks=[sink])
    mk = lambda name, cap=1 << 20: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS,  # noqa: E731
                                         capacity_bytes=cap)
    lv = lambda n: Level(name=n, env=env, recorder=rec, latency_ps=10 * NS, free_bytes=level_free,  # noqa: E731
                         capacity_bytes=level_bytes)
    dram = dram(env, rec) if dram else mk("dram")
    if noc:
        noc = noc(env, rec)
    else:
        noc = (MulticastNoc if multicast else Fixed)(name="noc", env=env, recorder=rec, latency_ps=10 * NS)
    lvls = [[lv(x) for x in n] if isinstance(n, tuple) else lv(n) for n in levels]
    if cores == 1:
        l1, pe = mk("l1", l1_bytes), PeArray(name="pe_array", env=env, recorder=rec, config=PeArrayConfig(),
                                              clock_period_ps=NS, energy=EnergyTable())
    else:
        l1 = [mk(f"l1_{c}", l1_bytes) for c in range(cores)]
        pe = [PeArray(name=f"pe_array_{c}", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=NS,
                      energy=EnergyTable()) for c in range(cores)]
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=dram, noc=noc, levels=lvls, l1=l1, pe=pe,
                      plans=plans, chunk_bytes=chunk, outstanding=outstanding, double_buffered=double_buffered,
                      multicore=multicore)
    return env, rec, ctrl, sink, lvls


def run(plans, **kw):
    """:func:`build`, run to the end; returns ``(end ns, recorder, controller, sink, levels)``."""
    env, rec, ctrl, sink, lvls = build(plans, **kw)
    env.run(until=ctrl.done)
    assert rec.issued == rec.completed
    return env.now // NS, rec, ctrl, sink, lvls


def stalls(rec) -> dict:
    """{(component, reason, layer): (count, ns)}: the whole stall ledger."""
    return {k: (v[0], v[1] // NS) for k, v in rec.stalls.entries.items()}


def tile(i, loads=(), stores=(), cycles=20, **kw):
    return Tile(index=i, t_first=0, t_last=0, loads=list(loads), stores=list(stores), compute_cycles=cycles, **kw)


def glb(dc, n, addr, **kw):
    """A load from (or store to) the GLB-resident tensor at ``addr``."""
    return Move(dc, n, False, 0, addr, **kw)


def dram(dc, n, addr, **kw):
    return Move(dc, n, True, addr, 0, **kw)


def txns(sink, component):
    """Every field of ``component``'s hops' transactions, read after the run (times in ns):
    (command, data class, address, bytes, source, destination, layer, tile, t_first, t_last,
    cycles, issued, done)."""
    return [(t.cmd.label, t.data_class.name.lower(), t.address, t.nbytes, t.source, t.destination, t.layer, t.tile,
             t.t_first, t.t_last, t.cycles, t.issued_ps // NS, t.done_ps // NS)
            for c, t in sink.txns if c == component]


def hops_of(sink, comp):
    """(command, data class, address, bytes, layer, tile, start ns, end ns, source, destination) of ``comp``'s hops."""
    return [h[1:] for h in sink.hops if h[0] == comp]


def chain_of(sink, comp, address):
    """The hops (component, command, data class) of the DMA block whose ``comp`` hop has ``address``."""
    for c, txn in sink.txns:
        if c == comp and txn.address == address:
            return sink.chains[txn.chain]
    raise AssertionError(f"no hop of {comp} at {address}")
