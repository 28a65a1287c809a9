"""Cross-component checks of a validated platform ("connect and check").

Each key of a platform is validated on its own by the schema; the rules here relate
keys of different components. :func:`check_platform` raises a
:class:`~tlmsim.errors.ConfigError` naming the keys involved, so that ``tlmsim
validate`` and ``tlmsim run`` refuse a hierarchy that cannot work before the first
event, in one line:

* the NoC places every endpoint of the hierarchy: ``dram``, each SRAM level, ``l1``;
* every SRAM level (the GLB in the one-level form) holds the DMA staging area
  (``2 x dataflow.dma_outstanding`` blocks of ``dataflow.dma_chunk_bytes``, one per
  lane in each direction) and at least as much again for resident tensors:
  ``capacity_bytes >= 2 x staging``. Every block passing a level goes through a
  staging slot, so an L1 (or an L1 half) larger than a level is fine: tiles stream
  through the slots;
* with ``pe_array.cores`` N > 1: ``noc.nodes.l1`` lists at least N positions (core c
  at the c-th), the shared endpoints (``dram``, the levels) have one position each, and
  no level is ``sharing: private`` (one instance per core is not modelled yet);
* a buffer whose energy comes from the SRAM table (no ``read_energy_pj_per_access``,
  ``write_energy_pj_per_access`` or ``energy.leakage_mw_per_kib_sram`` given) lies
  within it (up to 64 MiB, :data:`tlmsim.platform.sram_energy.MAX_BYTES`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tlmsim.errors import ConfigError
from tlmsim.platform import sram_energy

if TYPE_CHECKING:
    from tlmsim.platform import Platform


def staging_bytes(platform: "Platform") -> int:
    """Bytes of the DMA staging area at the bottom of every SRAM level: one block per
    lane, both directions."""
    df = platform.dataflow
    return 2 * df.dma_outstanding * df.dma_chunk_bytes


def check_platform(platform: "Platform", file: str | None = None) -> None:
    """Raise :class:`ConfigError` (naming ``file`` and the keys) for the first
    cross-component rule ``platform`` breaks; see the module docstring."""
    bufs = platform.buffers
    df = platform.dataflow
    staging = staging_bytes(platform)
    nodes = platform.noc.nodes
    missing = [e for e in bufs.endpoints if e not in nodes]
    if missing:
        raise ConfigError(
            f"the NoC places no {', '.join(missing)}; every level of the hierarchy needs a node",
            file=file, key="noc.nodes",
            allowed=f"a node for each of {', '.join(bufs.endpoints)} (dram, the levels of buffers, l1)",
        )
    cores = platform.pe_array.cores
    for name in bufs.endpoints[:-1]:
        if isinstance(nodes[name], list):
            raise ConfigError(
                f"{name} is shared by the cores and sits at one router, but a list of positions is given",
                file=file, key=f"noc.nodes.{name}", allowed="one position [x, y] (only l1 takes one per core)",
            )
    l1_at = nodes["l1"]
    placed = len(l1_at) if isinstance(l1_at, list) else 1
    if placed < cores:
        raise ConfigError(
            f"places {placed} core{'s' if placed != 1 else ''} but pe_array.cores is {cores}",
            file=file, key="noc.nodes.l1",
            allowed=f"a list of at least {cores} positions [[x, y], ...] (core c at the c-th), or pe_array.cores "
            f"<= {placed}",
        )
    for i, lv in enumerate(bufs.sram_levels):
        if lv.sharing == "private" and cores > 1:
            raise ConfigError(
                f"a private level ({lv.name!r}, one instance per core) is not modelled with several cores yet",
                file=file, key=f"{bufs.level_key(i)}.sharing",
                allowed=f"shared, or pe_array.cores 1 (it is {cores})",
            )
    for i, lv in enumerate(bufs.sram_levels):
        if lv.capacity_bytes < 2 * staging:
            raise ConfigError(
                f"{lv.capacity_bytes} bytes cannot hold the DMA staging area twice over (2 x dataflow.dma_outstanding "
                f"{df.dma_outstanding} x dataflow.dma_chunk_bytes {df.dma_chunk_bytes} = {staging} bytes; the level "
                f"{lv.name!r} needs at least {2 * staging})",
                file=file, key=f"{bufs.level_key(i)}.capacity_bytes",
                allowed=f"a larger {lv.name}, or a smaller dataflow.dma_chunk_bytes or dataflow.dma_outstanding",
            )
    table_leakage = platform.energy.leakage_mw_per_kib_sram is None
    named = [(bufs.level_key(i), lv) for i, lv in enumerate(bufs.sram_levels)] + [("buffers.l1", bufs.l1)]
    for key, buf in named:
        from_table = [k for k in ("read_energy_pj_per_access", "write_energy_pj_per_access")
                      if getattr(buf, k) is None]
        if table_leakage:
            from_table.append("energy.leakage_mw_per_kib_sram")
        if buf.capacity_bytes > sram_energy.MAX_BYTES and from_table:
            missing = ", ".join(k if k.startswith("energy.") else f"{key}.{k}" for k in from_table)
            raise ConfigError(
                f"{buf.capacity_bytes / 2**20:g} MiB is beyond the SRAM energy table (CACTI, up to "
                f"{sram_energy.MAX_BYTES // 2**20} MiB)",
                file=file, key=f"{key}.capacity_bytes",
                allowed=f"at most {sram_energy.MAX_BYTES // 2**20} MiB, or give {missing}",
            )
