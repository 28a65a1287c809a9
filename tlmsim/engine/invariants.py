"""End-of-run invariants, checked after every simulation (cheap, always on).

* every issued transaction completed;
* bytes are conserved between levels: what a memory served equals what left or
  entered it in the recorded flows, and every NoC transfer between two endpoints
  carried exactly the bytes that entered the NoC at its source and left it at its
  destination (per data class and layer); a multicast (one transfer to a group of
  endpoints, the NoC's ``groups``) carried its bytes once from its source and once to
  each endpoint of the group;
* no statistic is negative (they are 64-bit integers: none can be NaN);
* every component's utilisation lies in [0, 1].

:func:`check_run` returns the violations as sentences; the simulation runner turns
a non-empty list into a :class:`~tlmsim.errors.SimulationError`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from tlmsim.engine.component import Component
from tlmsim.engine.recorder import Recorder

#: slack for utilisation rounding (busy time is summed in integer ps)
_UTIL_EPS = 1e-9


def _conservation(recorder: Recorder, memories: Iterable[str], noc: str | None, endpoints: set[str],
                  groups: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    out: list[str] = []
    flows = recorder.flows
    groups = groups or {}
    left: dict[str, int] = defaultdict(int)
    entered: dict[str, int] = defaultdict(int)
    for (src, dst, _dc, _layer), n in flows.items():
        if src in endpoints and (dst in endpoints or dst in groups):
            continue  # a NoC transfer between two endpoints, not a hop into or out of a memory
        left[src] += n
        entered[dst] += n
    for name in memories:
        c = recorder.stats[name].c
        if c["read_bytes"] != left[name]:
            out.append(f"{name}: served {c['read_bytes']} read bytes but {left[name]} bytes left it")
        if c["write_bytes"] != entered[name]:
            out.append(f"{name}: served {c['write_bytes']} write bytes but {entered[name]} bytes entered it")
    if noc is None:
        return out
    into_noc: dict[tuple, int] = defaultdict(int)
    out_of_noc: dict[tuple, int] = defaultdict(int)
    carried_from: dict[tuple, int] = defaultdict(int)
    carried_to: dict[tuple, int] = defaultdict(int)
    for (src, dst, dc, layer), n in flows.items():
        if dst == noc:
            into_noc[(src, dc, layer)] += n
        elif src == noc:
            out_of_noc[(dst, dc, layer)] += n
        elif src in endpoints and dst in endpoints:
            carried_from[(src, dc, layer)] += n
            carried_to[(dst, dc, layer)] += n
        elif src in endpoints and dst in groups:
            carried_from[(src, dc, layer)] += n
            for d in groups[dst]:
                carried_to[(d, dc, layer)] += n
    for what, a, b in (("entered the NoC at", into_noc, carried_from), ("left the NoC at", out_of_noc, carried_to)):
        for key in sorted(set(a) | set(b)):
            if a.get(key, 0) != b.get(key, 0):
                node, dc, layer = key
                out.append(
                    f"noc: {a.get(key, 0)} bytes (data class {dc}, layer {layer}) {what} {node!r} "
                    f"but its transfers carried {b.get(key, 0)}"
                )
    noc_bytes = recorder.stats[noc].c["write_bytes"]
    if noc_bytes != sum(carried_from.values()):
        out.append(f"noc: served {noc_bytes} bytes but its transfers carried {sum(carried_from.values())}")
    return out


def check_run(recorder: Recorder, components: dict[str, Component], end_ps: int) -> list[str]:
    """Every broken invariant of a finished run, as one sentence each."""
    out: list[str] = []
    if recorder.completed != recorder.issued:
        out.append(f"{recorder.issued - recorder.completed} of {recorder.issued} transactions never completed")
    memories = [n for n, c in components.items() if c.KIND in ("dram", "sram")]
    nocs = [n for n, c in components.items() if c.KIND == "noc"]
    endpoints: set[str] = set()
    groups: dict[str, tuple[str, ...]] = {}
    if nocs:
        noc = components[nocs[0]]
        endpoints = set(getattr(noc, "nodes", None) or getattr(noc.config, "nodes", {}))
        groups = dict(getattr(noc, "groups", {}))
    out += _conservation(recorder, memories, nocs[0] if nocs else None, endpoints, groups)
    for name, st in recorder.stats.items():
        for stat, value in st.c.items():
            if value < 0:
                out.append(f"{name}: statistic {stat} is negative ({value})")
    for name, comp in components.items():
        busy = recorder.stats[name].c["busy_ps"]
        if end_ps > 0 and busy > comp.busy_units * end_ps * (1 + _UTIL_EPS):
            out.append(
                f"{name}: utilisation {busy / (comp.busy_units * end_ps):.6f} > 1 "
                f"({busy} busy ps over {comp.busy_units} units x {end_ps} ps)"
            )
    return out
