"""Statistics: declared once (name, unit, description), updated in one place.

Each component owns a :class:`Stats` built from its class's declarations. Its counters
(:class:`Counters`) are 64-bit integers in one array, in declaration order: the hot
paths add to them by position (in the compiled build one C addition on a typed view,
no dictionary look-up, no boxed integer; docs/performance.md, "Session 28"); everything
else reads them by name, as a mapping. Reports read them once at the end.
Stalls are kept apart in a :class:`StallLedger` keyed by (component, reason, layer):
every stall is attributed to the component that waited and a reason.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Iterable, Iterator


@dataclass(frozen=True, slots=True)
class StatDecl:
    """Declaration of one statistic."""

    name: str
    unit: str
    description: str


#: Statistics every component has.
COMMON_STATS: tuple[StatDecl, ...] = (
    StatDecl("reads", "count", "read transactions served"),
    StatDecl("writes", "count", "write transactions served"),
    StatDecl("read_bytes", "bytes", "bytes read from this component"),
    StatDecl("write_bytes", "bytes", "bytes written to this component"),
    StatDecl("busy_ps", "ps", "time its resources were busy, summed over its busy units"),
)


#: positions of the common statistics in every component's :class:`Counters` (COMMON_STATS' order);
#: a component's own statistics (its ``STATS``) follow from position 5 in declaration order
READS, WRITES, READ_BYTES, WRITE_BYTES, BUSY_PS = range(5)


def stat_positions(decls: Iterable[StatDecl], *names: str) -> tuple[int, ...]:
    """The positions in :class:`Counters` of a component's own statistics ``names``, its
    ``STATS`` being ``decls`` (they follow the five of COMMON_STATS)."""
    order = [d.name for d in decls]
    return tuple(len(COMMON_STATS) + order.index(n) for n in names)


class Counters:
    """A component's counters: one signed 64-bit integer per declared statistic, in
    declaration order, in :attr:`v` (an ``array("q")``), read and written by name like a
    dict (``c["reads"]``, ``c.items()``, ``dict(c)``). Hot paths add to ``v`` by position
    (:data:`READS` ... and each component's own position constants)."""

    __slots__ = ("index", "names", "v")

    def __init__(self, names: Iterable[str]) -> None:
        self.names: tuple[str, ...] = tuple(names)
        self.index: dict[str, int] = {n: i for i, n in enumerate(self.names)}
        self.v = array("q", bytes(8 * len(self.names)))

    def __getitem__(self, name: str) -> int:
        return self.v[self.index[name]]

    def __setitem__(self, name: str, value: int) -> None:
        self.v[self.index[name]] = value

    def get(self, name: str, default=None):
        i = self.index.get(name)
        return default if i is None else self.v[i]

    def __contains__(self, name: object) -> bool:
        return name in self.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def keys(self) -> tuple[str, ...]:
        return self.names

    def values(self) -> list[int]:
        return self.v.tolist()

    def items(self) -> list[tuple[str, int]]:
        return list(zip(self.names, self.v.tolist()))

    def copy(self) -> dict[str, int]:
        """The values now, as a dict."""
        return dict(zip(self.names, self.v.tolist()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Counters):
            return self.names == other.names and self.v == other.v
        if isinstance(other, dict):
            return self.copy() == other
        return NotImplemented

    __hash__ = None  # mutable, like a dict

    def __repr__(self) -> str:
        return f"Counters({self.copy()!r})"


class Stats:
    """Counters of one component, restricted to its declared statistics."""

    __slots__ = ("component", "decls", "c")

    def __init__(self, component: str, decls: Iterable[StatDecl]) -> None:
        self.component = component
        self.decls = {d.name: d for d in decls}
        if len(self.decls) < 5 or tuple(self.decls)[:5] != tuple(d.name for d in COMMON_STATS):
            raise ValueError(f"{component}: statistics must start with COMMON_STATS, got {tuple(self.decls)}")
        self.c = Counters(self.decls)

    def add(self, name: str, value: int = 1) -> None:
        """Add ``value`` to the declared statistic ``name`` (KeyError if undeclared)."""
        self.c[name] += value

    def __getitem__(self, name: str) -> float:
        return self.c[name]

    def __repr__(self) -> str:
        nonzero = {k: v for k, v in self.c.items() if v}
        return f"Stats({self.component}: {nonzero})"


class StallLedger:
    """Stall time attributed to (component, reason, layer)."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, int], list[int]] = {}

    # @cython.locals(entry=list)
    def add(self, component: str, reason: str, duration_ps: int, layer: int = -1) -> None:
        """Record that ``component`` waited ``duration_ps`` for ``reason`` (0 is ignored)."""
        if duration_ps <= 0:
            return
        key = (component, reason, layer)
        entry = self.entries.get(key)
        if entry is None:
            self.entries[key] = [1, duration_ps]
        else:
            entry[0] += 1
            entry[1] += duration_ps

    def total_ps(self, component: str | None = None, reason: str | None = None) -> int:
        return sum(
            v[1]
            for (c, r, _), v in self.entries.items()
            if (component is None or c == component) and (reason is None or r == reason)
        )

    def by_reason(self, component: str) -> dict[str, int]:
        """``{reason: stall ps}`` of one component, summed over layers."""
        out: dict[str, int] = {}
        for (c, r, _), v in self.entries.items():
            if c == component:
                out[r] = out.get(r, 0) + v[1]
        return out


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.engine.stats":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
