"""The declared memory hierarchy (``buffers:`` in the platform YAML).

The hierarchy runs from DRAM inward: DRAM, then any number of on-chip SRAM levels
(``buffers.levels``, outermost first: none, a GLB, an L2 and a GLB, ...), then the
array's L1 (``buffers.l1``). Every level is one SRAM buffer (the parameters of
:class:`~tlmsim.platform.sram.SramConfig`) plus a name, which is also its NoC
endpoint (``noc.nodes``), its component name in the reports and the ``src``/``dst``
of its transactions, and whether it is shared by the cores or private to each.

Level semantics (docs/hierarchy.md):

* a tensor lives in DRAM or in one SRAM level (the tiler chooses, innermost first);
* a block moving between where a tensor lives and L1 passes every level in between,
  in order, through that level's DMA staging area (``2 x dataflow.dma_outstanding``
  slots of ``dataflow.dma_chunk_bytes`` at the bottom of the level): written, then
  read out; each pair of neighbouring levels is joined by a NoC transfer between
  their nodes;
* L1 is private to its core and never holds a tensor across tiles;
* a ``sharing: private`` level is one instance per core (``<name>_0``, ``<name>_1``, ...
  with several cores, :func:`instance_names`), each at its own NoC position: a core's
  blocks pass its own instance; with several cores it keeps only tensors a layer reads
  and brings from DRAM (weights, input spikes), a copy in every instance whose core
  reads them, never outputs or membranes (those go to the nearest shared level or DRAM).

The older form ``buffers: {glb: ..., l1: ...}`` is the hierarchy with one level
named ``glb``; it stays the default.
"""

from __future__ import annotations

from typing import Literal

from tlmsim.platform.params import param
from tlmsim.platform.sram import SramConfig

#: names a level may not take: the other NoC endpoints and component names
RESERVED = ("dram", "l1", "noc", "pe_array", "controller")
#: per-core components (one per PE-array core; pe_array.cores)
PER_CORE = ("l1", "pe_array")


def core_name(base: str, core: int, cores: int) -> str:
    """The name of core ``core``'s instance of ``base`` (``l1``, ``pe_array``) among
    ``cores`` cores: ``base`` itself with one core (the single-core names are kept),
    else ``base_<core>`` (``l1_0``, ``l1_1``, ...)."""
    return base if cores == 1 else f"{base}_{core}"


def core_base(name: str) -> str | None:
    """The per-core component ``name`` is an instance of (``l1`` for ``l1`` and ``l1_3``,
    ``pe_array`` for ``pe_array_0``), or None for any other name."""
    if name in PER_CORE:
        return name
    base, _, idx = name.rpartition("_")
    return base if base in PER_CORE and idx.isdigit() else None


def is_core_name(name: str) -> bool:
    """Whether ``name`` is a per-core component name (``l1``, ``l1_3``, ``pe_array_0``, ...)."""
    return core_base(name) is not None


def instance_names(name: str, private: bool, cores: int) -> list[str]:
    """The component (and NoC endpoint) names of level ``name``: one, ``name``, when it is
    shared or there is one core; else one per core, ``name_0`` ... ``name_{cores-1}``."""
    return [core_name(name, c, cores) for c in range(cores)] if private and cores > 1 else [name]


class LevelConfig(SramConfig):
    """One on-chip SRAM level between DRAM and L1."""

    name: str = param(
        ..., desc="the level's name: its NoC endpoint (noc.nodes), component and report name; e.g. glb, l2",
        pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=32,
    )
    sharing: Literal["shared", "private"] = param(
        "shared", desc="shared: one instance serves every core; private: one instance per core (<name>_0, "
        "<name>_1, ...; noc.nodes.<name> a list of positions, instance c at the c-th), which with several cores "
        "keeps only the weights and input spikes a layer brings from DRAM, a copy per core reading them "
        "(docs/hierarchy.md, 'Private levels'); with one core both build one buffer",
    )


def level_of(name: str, sram: SramConfig) -> LevelConfig:
    """The level ``name`` with the buffer parameters of ``sram``."""
    return LevelConfig(name=name, **sram.model_dump())
