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
* with ``pe_array.cores`` N > 1: ``noc.nodes.l1`` and every ``sharing: private`` level
  list at least N positions (core c's instance at the c-th), the shared endpoints
  (``dram``, the shared levels) have one position each, and no shared level lies inside
  a private one (a core's blocks would leave its private instance for a shared buffer
  on their way to its L1: not modelled);
* ``pe_array.multicore: pipeline`` needs ``pe_array.cores`` >= 2 (two disjoint groups);
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
    private = {lv.name for lv in bufs.sram_levels if lv.sharing == "private"}
    for name in bufs.endpoints[:-1]:
        if isinstance(nodes[name], list) and name not in private:
            raise ConfigError(
                f"{name} is shared by the cores and sits at one router, but a list of positions is given",
                file=file, key=f"noc.nodes.{name}",
                allowed="one position [x, y] (only l1 and private levels take one per core)",
            )
    if platform.pe_array.multicore == "pipeline" and cores < 2:
        raise ConfigError(
            f"layer pipelining runs consecutive layers on disjoint groups of cores, but pe_array.cores is {cores}",
            file=file, key="pe_array.multicore", value="pipeline", has_value=True,
            allowed="split (the default), or pe_array.cores >= 2",
        )
    if cores > 1:
        inner = None  # the outermost private level seen so far
        for i, lv in enumerate(bufs.sram_levels):
            if lv.sharing == "private":
                inner = inner or lv.name
            elif inner is not None:
                raise ConfigError(
                    f"the shared level {lv.name!r} lies inside the private level {inner!r} (levels run from DRAM "
                    "inward): a shared level below a private one is not modelled with several cores",
                    file=file, key=f"{bufs.level_key(i)}.sharing",
                    allowed=f"private (every level inside {inner!r}), or move {lv.name!r} outward of {inner!r}, "
                    f"or pe_array.cores 1 (it is {cores})",
                )
    for name in ("l1", *(lv.name for lv in bufs.sram_levels if lv.name in private)):
        at = nodes[name]
        placed = len(at) if isinstance(at, list) else 1
        if placed < cores:
            plural = "s" if placed != 1 else ""
            what = f"core{plural}" if name == "l1" else f"instance{plural} of the private level {name!r} (one per core)"
            raise ConfigError(
                f"places {placed} {what} but pe_array.cores is {cores}",
                file=file, key=f"noc.nodes.{name}",
                allowed=f"a list of at least {cores} positions [[x, y], ...] (core c's at the c-th), or "
                f"pe_array.cores <= {placed}",
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
