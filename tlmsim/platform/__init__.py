"""Platform schema: the hardware a simulation runs on, declared once.

The YAML tree has the shape of the component tree::

    name, description, clock_mhz
    dram:      preset + overrides             (tlmsim.platform.dram.DramConfig)
    buffers:   levels (or glb), l1             (tlmsim.platform.hierarchy, .sram)
    noc:       topology, links, routers        (tlmsim.platform.noc.NocConfig)
    pe_array:  rows, cols, widths              (tlmsim.platform.pe_array.PeArrayConfig)
    dataflow:  name and options                (tlmsim.platform.dataflow.DataflowConfig)
    energy:    energy per action               (tlmsim.platform.energy.EnergyTable)
    area:      area per unit                   (tlmsim.platform.energy.AreaTable)

:func:`load_platform` reads a file (or a shipped platform by name), applies
``--set key.path=value`` overrides and validates, turning every problem into a
:class:`~tlmsim.errors.ConfigError` that names the file and the key path.
"""

from __future__ import annotations

from pydantic import PrivateAttr, model_validator

from tlmsim.platform.dataflow import DataflowConfig
from tlmsim.platform.dram import DramConfig
from tlmsim.platform.energy import AreaTable, EnergyTable
from tlmsim.platform.hierarchy import RESERVED, LevelConfig, is_core_name, level_of
from tlmsim.platform.noc import NocConfig
from tlmsim.platform.params import FreqMHz, ParamModel, param
from tlmsim.platform.pe_array import PeArrayConfig
from tlmsim.platform.sram import L1Config, SramConfig

__all__ = [
    "BuffersConfig",
    "Platform",
    "load_platform",
    "DramConfig",
    "SramConfig",
    "L1Config",
    "LevelConfig",
    "NocConfig",
    "PeArrayConfig",
    "DataflowConfig",
    "EnergyTable",
    "AreaTable",
]


class BuffersConfig(ParamModel):
    """The on-chip SRAM hierarchy: the levels between DRAM and L1 (outermost first),
    and the array's L1 (:mod:`tlmsim.platform.hierarchy`, docs/hierarchy.md)."""

    glb: SramConfig = param(
        SramConfig(capacity_bytes=256 * 1024, banks=8, port_width_bytes=16),
        desc="global buffer shared by the array(s), filled from DRAM over the NoC: the one level named glb when "
        "buffers.levels is not given (give one or the other)",
    )
    levels: list[LevelConfig] | None = param(
        None, desc="the SRAM levels between DRAM and L1, outermost first (each a buffer plus name and sharing; "
        "table below); [] = none, DRAM straight to L1; null = one level, buffers.glb",
    )
    l1: L1Config = param(
        L1Config(capacity_bytes=32 * 1024, banks=4, port_width_bytes=16, double_buffered=True),
        desc="the array's L1 buffer, double-buffered so tile k+1 loads while tile k computes",
    )

    _levels: tuple[LevelConfig, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _one_hierarchy(self) -> "BuffersConfig":
        if self.levels is None:
            self._levels = (level_of("glb", self.glb),)
            return self
        if "glb" in self.model_fields_set:
            raise ValueError("give buffers.levels or buffers.glb (the one-level form), not both; "
                             "with levels, declare the GLB as a level named glb")
        seen: set[str] = set()
        for i, lv in enumerate(self.levels):
            if lv.name in RESERVED or is_core_name(lv.name):
                raise ValueError(f"levels[{i}].name {lv.name!r} is reserved; allowed: any other lower-case name "
                                 f"(not {', '.join(RESERVED)}, nor l1_N, pe_array_N)")
            if lv.name in seen:
                raise ValueError(f"levels[{i}].name {lv.name!r} is declared twice; level names are unique")
            seen.add(lv.name)
        for i, lv in enumerate(self.levels):  # a private level's instances are named <name>_0, <name>_1, ...
            base, _, idx = lv.name.rpartition("_")
            if idx.isdigit() and any(o.name == base and o.sharing == "private" for o in self.levels):
                raise ValueError(f"levels[{i}].name {lv.name!r} is the name of an instance of the private level "
                                 f"{base!r}; allowed: a name not of the form {base}_N")
        self._levels = tuple(self.levels)
        return self

    @property
    def sram_levels(self) -> tuple[LevelConfig, ...]:
        """The SRAM levels between DRAM and L1, outermost first (the one-level form: ``glb``)."""
        return self._levels

    def level_key(self, i: int) -> str:
        """The YAML key path of SRAM level ``i`` (for messages)."""
        return "buffers.glb" if self.levels is None else f"buffers.levels[{i}]"

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The NoC endpoints of the hierarchy, from DRAM inward: ``dram``, every level, ``l1``."""
        return ("dram", *(lv.name for lv in self._levels), "l1")


class Platform(ParamModel):
    """A whole platform."""

    name: str = param(desc="short name used in reports (required: an empty or nameless file is refused)",
                      min_length=1, metadata=True)
    description: str = param("", desc="free text", metadata=True)
    clock_mhz: FreqMHz = param(500.0, desc="accelerator clock (Prosperity's 500 MHz, docs/reference/energy_defaults.md)", gt=0, le=10000)
    dram: DramConfig = param(DramConfig(), desc="off-chip memory")
    buffers: BuffersConfig = param(BuffersConfig(), desc="on-chip SRAM buffers")
    noc: NocConfig = param(NocConfig(), desc="network-on-chip between DRAM controller, GLB and L1")
    pe_array: PeArrayConfig = param(PeArrayConfig(), desc="the systolic PE array")
    dataflow: DataflowConfig = param(DataflowConfig(), desc="how layers map onto the array")
    energy: EnergyTable = param(EnergyTable(), desc="energy per action")
    area: AreaTable = param(AreaTable(), desc="area per unit")

    @property
    def clock_period_ps(self) -> int:
        from tlmsim.units import period_ps

        return period_ps(self.clock_mhz)

    def area_mm2(self) -> float:
        """Silicon area from the area table: every SRAM level (a private one once per core) and every core's L1 (per 64 KiB)
        and the PEs of every core; the same sum as the components' ``area_mm2`` in components.csv."""
        a = self.area
        n = self.pe_array.cores  # every core has its own L1 and array, and its instance of each private level
        sram = (sum(lv.capacity_bytes * (n if lv.sharing == "private" else 1) for lv in self.buffers.sram_levels)
                + n * self.buffers.l1.capacity_bytes) / 65536.0
        return a.sram_mm2_per_64kib * sram + a.pe_mm2 * n * self.pe_array.rows * self.pe_array.cols


from tlmsim.platform.loader import load_platform  # noqa: E402  (needs Platform)
