"""Energy and area tables: per-action energies and per-unit areas with sources.

Values are at 45 nm and 0.9 V unless stated. Components take the few entries they
need; a platform file may override any entry. Rules used to derive values at other
widths or sizes are implemented here (SRAM: :mod:`tlmsim.platform.sram_energy`),
once, and unit-tested.
"""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from tlmsim.platform import sram_energy
from tlmsim.platform.params import ParamModel, param, refuse_removed

HOROWITZ = "M. Horowitz, 'Computing's energy problem', ISSCC 2014, 45 nm, 0.9 V"
SATA = "SATA SNN training-accelerator energy model, 16-bit operations"


#: keys an older platform file may still set -> why they are gone
REMOVED = {
    f"mult_{w}bit_pj": f"energy.mult_{w}bit_pj was removed: the PEs have no multiplier (a spike selects a weight "
    "that is added: energy.add_*)" for w in (8, 32)
}


class EnergyTable(ParamModel):
    """Energy per action (pJ) of the arithmetic and the on-chip memories. The PEs add
    (a spike selects a weight to accumulate) and never multiply."""

    @model_validator(mode="before")
    @classmethod
    def _removed_keys(cls, data: Any) -> Any:
        return refuse_removed(data, REMOVED)

    technology_nm: int = param(
        45, desc="technology node the values refer to (informational: nothing scales with it); source: " + HOROWITZ,
        gt=0, metadata=True,
    )
    add_8bit_pj: float = param(0.03, desc="8-bit integer add; source: " + HOROWITZ, ge=0)
    add_32bit_pj: float = param(0.1, desc="32-bit integer add; source: " + HOROWITZ, ge=0)
    compare_pj: float = param(0.00309, desc="16-bit compare (threshold test); source: " + SATA, ge=0)
    shift_pj: float = param(0.00605, desc="16-bit shift (leak by shift); source: " + SATA, ge=0)
    register_access_pj: float = param(
        0.0301, desc="16-bit register-file access (an activity-tag lookup reads tags 16 bits at a time); "
        "source: " + SATA, ge=0,
    )
    scratchpad_access_pj: float = param(0.2779, desc="PE scratchpad access; source: " + SATA, ge=0)
    leakage_mw_per_kib_sram: float | None = param(
        None,
        desc="SRAM leakage power per KiB; null = from the SRAM table at the bank's size (0.05-0.09 mW/KiB, "
        "subthreshold + gate, at 0.7 V and 350 K); source: " + sram_energy.SOURCE,
        ge=0,
    )
    leakage_mw_per_pe: float = param(
        0.0, desc="PE leakage power; no published per-PE figure at 45 nm in the sources used, so 0 (not modelled) "
        "unless given", ge=0
    )

    def add_pj(self, bits: int) -> float:
        """Energy of a ``bits``-wide integer add: linear in width through Horowitz's
        8-bit and 32-bit points (extrapolated beyond them, never below 0)."""
        slope = (self.add_32bit_pj - self.add_8bit_pj) / 24.0
        return max(0.0, self.add_8bit_pj + slope * (bits - 8))

    def sram_access_pj(self, capacity_bytes: int, banks: int, width_bits: int, *, write: bool = False) -> float:
        """Energy of one ``width_bits`` access to one bank of a buffer of ``capacity_bytes``
        in ``banks`` banks: the bank's CACTI energy at its size plus the H-tree to reach it,
        at 0.9 V (:func:`tlmsim.platform.sram_energy.access_pj`; bounded outside the
        table, refused beyond 64 MiB)."""
        return sram_energy.access_pj(capacity_bytes, banks, width_bits, write=write)

    def sram_leakage_mw(self, capacity_bytes: int, banks: int) -> float:
        """Leakage power of a buffer: ``leakage_mw_per_kib_sram`` x KiB when given, else
        the SRAM table's per-KiB leakage at the bank's size x KiB."""
        if self.leakage_mw_per_kib_sram is not None:
            return self.leakage_mw_per_kib_sram * capacity_bytes / 1024.0
        return sram_energy.leakage_mw(capacity_bytes, banks)


class AreaTable(ParamModel):
    """Area per unit (mm²) for architecture-search budgets, 45 nm order of magnitude."""

    sram_mm2_per_64kib: float = param(
        0.4, desc="SRAM area per 64 KB, 6T cell plus periphery (midpoint of 0.3-0.5); source: docs/reference/energy_defaults.md (45 nm)",
        ge=0,
    )
    pe_mm2: float = param(
        0.0035,
        desc="one 16-bit accumulator PE with a small scratchpad (midpoint of 0.002-0.005); source: docs/reference/energy_defaults.md",
        ge=0,
    )
