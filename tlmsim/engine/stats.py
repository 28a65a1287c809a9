"""Statistics: declared once (name, unit, description), updated in one place.

Each component owns a :class:`Stats` built from its class's declarations. Counters
are plain dict entries (fast to add to); reports read them once at the end.
Stalls are kept apart in a :class:`StallLedger` keyed by (component, reason, layer):
every stall is attributed to the component that waited and a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


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


class Stats:
    """Counters of one component, restricted to its declared statistics."""

    __slots__ = ("component", "decls", "c")

    def __init__(self, component: str, decls: Iterable[StatDecl]) -> None:
        self.component = component
        self.decls = {d.name: d for d in decls}
        self.c: dict[str, float] = {name: 0 for name in self.decls}

    def add(self, name: str, value: float = 1) -> None:
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
