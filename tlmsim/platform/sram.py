"""SRAM buffer parameters (``buffers.glb``, ``buffers.l1`` in the platform YAML).

A buffer is ``banks`` SRAM banks, each ``port_width_bytes`` wide, interleaved line by
line (line i of the address space lives in bank i mod banks). ``ports`` transactions
can be in service at once (e.g. a DMA fill and a PE read of the other L1 half).

Only the L1 (:class:`L1Config`) can be double-buffered: the array's tiles ping-pong
between its halves. The GLB overlaps DRAM traffic with compute otherwise (its DMA
staging slots, and resident tensors of the next layer prefetched while this one runs),
so a GLB ``double_buffered`` key, which never changed a result, is refused.
"""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from tlmsim.errors import RefusedKey
from tlmsim.platform.params import Bytes, ParamModel, param

_CACTI = "CACTI 7 at 45 nm scaled to 0.9 V (docs/reference/sram_energy.md)"


class SramConfig(ParamModel):
    """One on-chip SRAM buffer."""

    capacity_bytes: Bytes = param(
        64 * 1024, desc="total capacity; accesses beyond it are errors (enforced)", gt=0, le=1 << 30
    )
    banks: int = param(
        4, desc="independent banks, line-interleaved; each serves one line per cycle", ge=1, le=1024
    )
    port_width_bytes: int = param(
        16, desc="bytes one bank reads or writes per cycle (the line size); peak = banks x width per cycle",
        ge=1, le=4096,
    )
    ports: int = param(
        2, desc="transactions in service at once (e.g. one fill and one drain); more wait (stall 'port_busy')",
        ge=1, le=64,
    )
    read_latency_cycles: int = param(
        1, desc="cycles from a read's first bank access to its first data (single-cycle SRAM macro)", ge=1, le=64
    )
    write_latency_cycles: int = param(1, desc="cycles for a write's first line to be committed", ge=1, le=64)
    read_energy_pj_per_access: float | None = param(
        None, desc="energy of one line read; null = the SRAM table: a bank of capacity/banks bytes at the line "
        "width plus the H-tree to reach it (buffers up to 64 MiB); source: " + _CACTI, ge=0,
    )
    write_energy_pj_per_access: float | None = param(
        None, desc="energy of one line write; null = the read energy when that is given, else the SRAM table's "
        "write energy; source: " + _CACTI,
        ge=0,
    )

    @model_validator(mode="before")
    @classmethod
    def _l1_only(cls, data: Any) -> Any:
        if "double_buffered" not in cls.model_fields and isinstance(data, dict) and "double_buffered" in data:
            raise RefusedKey(
                "double_buffered",
                "applies to the L1 only (buffers.l1.double_buffered); the GLB overlaps transfers through its DMA "
                "staging slots and next-layer prefetch",
            )
        return data


class L1Config(SramConfig):
    """The array's L1 buffer: an SRAM buffer that may be split into two halves."""

    double_buffered: bool = param(
        False, desc="split into two halves (ping-pong): tile k+1's operands load into one while tile k computes "
        "from the other; each tile must then fit a half"
    )
