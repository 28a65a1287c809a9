"""Network-on-chip parameters (``noc:`` in the platform YAML).

Endpoints (the DRAM controller ``dram``, the global buffer ``glb``, the array's
``l1``, ...) sit at nodes. Topologies:

* ``bus``: one shared medium; every transfer is one hop and holds the bus;
* ``crossbar``: one hop; transfers contend only for their source's input port
  and their destination's output port;
* ``mesh``: a ``mesh_cols`` x ``mesh_rows`` 2D mesh of routers with
  dimension-ordered XY routing (first along x, then along y); ``nodes`` gives each
  endpoint's router coordinates ``[x, y]``; every router input port has a buffer of
  ``buffer_flits`` flits and flits advance under credit-based flow control
  (wormhole switching; see :mod:`tlmsim.hw.noc`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator, model_validator

from tlmsim.platform.params import FreqMHz, ParamModel, param

_NOC = "docs/reference/energy_defaults.md, 'Network-on-chip' (Orion/DSENT-class models, 45 nm)"
_FLOW = "docs/model.md, 'Network-on-chip' (Dally & Towles 2004, ch. 13, credit-based flow control)"


def positions(at) -> list[tuple[int, int]]:
    """The positions of a ``noc.nodes`` entry: one ``(x, y)``, or a list of them (one per core)."""
    return [tuple(p) for p in at] if isinstance(at, list) else [tuple(at)]


class NocConfig(ParamModel):
    """The on-chip network joining DRAM controller, GLB and L1."""

    topology: Literal["bus", "crossbar", "mesh"] = param("mesh", desc="bus, crossbar or mesh (2D, XY routing)")
    mesh_cols: int = param(2, desc="mesh width in routers (x); mesh only", ge=1, le=64)
    mesh_rows: int = param(2, desc="mesh height in routers (y); mesh only", ge=1, le=64)
    nodes: dict[str, tuple[int, int] | list[tuple[int, int]]] = param(
        {"dram": (0, 0), "glb": (1, 0), "l1": (1, 1)},
        desc="endpoint name -> router [x, y]; must include dram, every SRAM level and l1 (positions used by the "
        "mesh only); l1 and a private level (sharing: private) may be a list of positions, one per PE-array core "
        "([[x, y], ...], core c's instance at the c-th; pe_array.cores needs at least that many)",
    )
    routing: Literal["xy"] = param("xy", desc="mesh routing: dimension-ordered XY (deadlock-free)")
    link_width_bytes: int = param(
        32, desc="bytes a link carries per NoC cycle (the flit size)", ge=1, le=4096
    )
    clock_mhz: FreqMHz | None = param(None, desc="NoC clock; null = the accelerator clock", gt=0, le=10000)
    router_latency_cycles: int = param(
        2, desc="router pipeline depth per hop; source: " + _NOC + " (2-4 cycles)", ge=0, le=64
    )
    link_latency_cycles: int = param(1, desc="link traversal per hop; source: " + _NOC, ge=0, le=64)
    buffer_flits: int = param(
        8,
        desc="flits each router input port buffers (one virtual channel); a flit advances only with a credit "
        "for the next buffer. 8 covers the credit round trip router + link + credit latency (4 cycles with the "
        "defaults), so an unloaded worm streams at one flit per cycle; 4-8 flit buffers are typical of on-chip "
        "routers; source: " + _FLOW + "; mesh only",
        ge=1,
        le=4096,
    )
    credit_latency_cycles: int = param(
        1,
        desc="cycles a credit takes back to the upstream router after a flit leaves a buffer (one wire "
        "traversal, as the link); source: " + _FLOW + "; mesh only",
        ge=0,
        le=64,
    )
    multicast: bool = param(
        True, desc="routers replicate flits: a block several cores load crosses each link of its XY tree once; "
        "false: one unicast per core (mesh only; bus and crossbar always send unicasts)",
    )
    router_pj_per_bit: float = param(
        0.75, desc="router traversal energy per bit (midpoint of 0.5-1); source: " + _NOC, ge=0
    )
    wire_pj_per_bit_mm: float = param(
        0.15, desc="link wire energy per bit per mm (midpoint of 0.1-0.2); source: " + _NOC, ge=0
    )
    link_length_mm: float = param(1.0, desc="length of one link (router pitch); assumption, set per floorplan", ge=0)

    @field_validator("nodes")
    @classmethod
    def _nodes_not_empty(cls, v: dict) -> dict:
        if len(v) < 2:
            raise ValueError("a NoC needs at least two endpoints")
        return v

    @model_validator(mode="after")
    def _nodes_on_mesh(self) -> "NocConfig":
        for name, at in self.nodes.items():
            if isinstance(at, list) and not at:
                raise ValueError(f"node {name!r} has an empty list of positions; give [x, y] or [[x, y], ...]")
        if self.topology == "mesh":
            for name, x, y in ((n, x, y) for n, at in self.nodes.items() for x, y in positions(at)):
                if not (0 <= x < self.mesh_cols and 0 <= y < self.mesh_rows):
                    raise ValueError(
                        f"node {name!r} at [{x}, {y}] is outside the {self.mesh_cols}x{self.mesh_rows} mesh; "
                        f"allowed: x in 0..{self.mesh_cols - 1}, y in 0..{self.mesh_rows - 1}"
                    )
        return self
