"""The platform's ``dram:`` section: a named preset plus explicit overrides.

A DRAM is a preset (organisation, timing and currents of a published part, kept as
data in ``tlmsim/data/dram_presets.yaml``) with any value overridden::

    dram:
      preset: DDR4-3200
      page_policy: open
      timing: {tRCD: 20}        # JEDEC names, cycles of tCK (tck_ps in picoseconds)
      org: {channels: 2}        # organisation, lower_snake names
      power: {IDD0: 60}         # JEDEC names, VDD in V, IDD in mA

Naming: organisation fields are lower_snake (``banks_per_group``); timing and power
fields use the JEDEC names exactly as data sheets and DRAMsim3 write them (``tRCD``,
``CL``, ``IDD4R``). Every override left at ``None`` takes the preset's value.
:meth:`DramConfig.resolve` merges them into a frozen :class:`DramSpec` of plain ints
(computed once, at validation, so a bad combination fails before the first event).
"""

from __future__ import annotations

from dataclasses import dataclass, fields as dataclass_fields
from functools import lru_cache
from importlib.resources import files
from typing import Any, Literal, Optional

from pydantic import PrivateAttr, field_validator, model_validator

from tlmsim.config_io import safe_load
from tlmsim.platform.params import ParamModel, TimePs, param

PRESETS_SOURCE = "docs/reference/dram_presets.md (DRAMsim3 configs/*.ini)"
#: canonical preset names, in the order error messages list them
PRESET_NAMES = ("DDR4-3200", "DDR4-2400", "DDR4-3200-x16", "LPDDR4-2400", "HBM2", "HBM2-4Gb", "GDDR6")
#: accepted alternative spellings (compared case-insensitively) -> canonical name
PRESET_ALIASES = {"LPDDR4": "LPDDR4-2400", "HBM2-8Gb": "HBM2"}
#: address-mapping field names (DRAMsim3): row, channel, rank, bank group, bank, column
MAPPING_FIELDS = ("ro", "ch", "ra", "bg", "ba", "co")

#: Default I/O (interface + termination) energy per transferred bit, by protocol, added
#: to the IDD-based core energy. Chosen so that core + I/O at streaming bandwidth lands
#: in the surveyed device+interface ranges of docs/reference/energy_defaults.md (DDR4 15-25, LPDDR4 4-8,
#: HBM2 3.5-4, GDDR6 6-8 pJ/bit); the core part from the DRAMsim3 currents is about
#: DDR4 ~10, LPDDR4 ~8.5, HBM2 ~1.9, GDDR6 ~0.9 pJ/bit, so LPDDR4's low-swing
#: unterminated I/O gets a nominal 1 pJ/bit and lands slightly above its range.
IO_PJ_PER_BIT_DEFAULT = {"DDR4": 8.0, "LPDDR4": 1.0, "HBM": 1.7, "GDDR6": 6.0}


def _io_desc() -> str:
    pairs = ", ".join(f"{k} {v}" for k, v in IO_PJ_PER_BIT_DEFAULT.items())
    return (
        "I/O and termination energy per bit transferred, added to the IDD-based core energy; none = the "
        f"protocol's default ({pairs} pJ/bit), chosen so that core + I/O at streaming bandwidth lands in the "
        "surveyed device+interface range (DDR4 15-25, HBM2 3.5-4, GDDR6 6-8 pJ/bit; LPDDR4's core alone is "
        "~8.5 pJ/bit from the DRAMsim3 currents, so it lands just above 4-8); source: docs/reference/energy_defaults.md"
    )


def _presets_text() -> str:
    return (files("tlmsim") / "data" / "dram_presets.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_presets() -> dict[str, dict[str, Any]]:
    """The shipped presets (``tlmsim/data/dram_presets.yaml``), read once."""
    return safe_load(_presets_text())


@lru_cache(maxsize=None)
def load_preset(name: str) -> dict[str, Any]:
    """The shipped preset ``name`` (canonical), read once: only its block of the presets
    file is parsed, the line ``NAME:`` and the lines under it up to the next top-level key.

    Why: PyYAML's constructor (Python even under LibYAML) makes the whole file cost about
    22 M instructions, and every run (the default ``DramConfig()`` at import, then the
    platform's) needs one or two presets of the seven; a block parses to the value of the
    whole file's entry (tests/platform/test_dram_config.py checks every preset)."""
    lines = _presets_text().splitlines(keepends=True)
    start = lines.index(name + ":\n")
    # a top-level key starts in column 0; the block's own lines are indented, blank or comments
    end = next((i for i in range(start + 1, len(lines)) if lines[i][0] not in " #\n"), len(lines))
    return safe_load("".join(lines[start:end]))[name]


def fold_rails(rails: dict[str, dict[str, float]]) -> dict[str, float]:
    """VDD-equivalent currents of a part specified per supply rail.

    Every energy rule is linear in the currents at fixed voltages (``V x I x time``),
    so a part with rails r = 1..n is equivalent to one rail at ``VDD`` = the last rail's
    voltage carrying ``IDDx = sum_r V_r IDDx_r / VDD`` for each current ``IDDx``:
    the energy of every command and state is the same, exactly.
    """
    names = list(rails)
    vdd = float(rails[names[-1]]["V"])
    currents = [k for k in rails[names[-1]] if k != "V"]
    out = {"VDD": vdd}
    for k in currents:
        out[k] = sum(float(rails[r]["V"]) * float(rails[r][k]) for r in names) / vdd
    return out


def canonical_preset(name: str) -> str:
    """The canonical preset name for ``name`` (case-insensitive, aliases accepted);
    ValueError listing the allowed names otherwise."""
    if isinstance(name, str):
        key = name.strip().lower()
        for canon in PRESET_NAMES:
            if canon.lower() == key:
                return canon
        for alias, canon in PRESET_ALIASES.items():
            if alias.lower() == key:
                return canon
    allowed = ", ".join(PRESET_NAMES)
    aliases = ", ".join(f"{a} (= {c})" for a, c in PRESET_ALIASES.items())
    raise ValueError(f"unknown DRAM preset {name!r}; allowed: {allowed}; aliases: {aliases}")


def parse_mapping(text: str) -> tuple[str, ...]:
    """Split a DRAMsim3 mapping string (MSB..LSB, e.g. 'rochrababgco') into its six
    two-letter fields; ValueError unless each of ro ch ra bg ba co occurs exactly once."""
    fields = tuple(text[i : i + 2] for i in range(0, len(text), 2)) if isinstance(text, str) else ()
    if (
        not isinstance(text, str)
        or len(text) != 12
        or sorted(fields) != sorted(MAPPING_FIELDS)
    ):
        raise ValueError(
            f"address_mapping {text!r} is not a permutation of the six two-letter fields "
            f"{', '.join(MAPPING_FIELDS)} (each exactly once, MSB first, e.g. 'rochrababgco')"
        )
    return fields


def _pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


class DramOrg(ParamModel):
    """Organisation overrides; none = the preset's value."""

    channels: Optional[int] = param(None, desc="independent channels; source: preset (" + PRESETS_SOURCE + ")", gt=0, le=64)
    ranks: Optional[int] = param(None, desc="ranks per channel; source: preset", gt=0, le=16)
    bankgroups: Optional[int] = param(None, desc="bank groups per rank; source: preset", gt=0, le=16)
    banks_per_group: Optional[int] = param(None, desc="banks per bank group; source: preset", gt=0, le=64)
    rows: Optional[int] = param(
        None, desc="rows per bank; source: preset", gt=0, le=16777216,
        inert="sets only the DRAM's capacity, which no report shows and no run checks a workload against",
    )
    columns: Optional[int] = param(
        None, desc="columns per row (device-width words; HBM2/GDDR6 use the effective count); source: preset", gt=0, le=1048576
    )
    bus_width_bits: Optional[int] = param(None, desc="data bus width of a channel in bits; source: preset", gt=0, le=4096)
    device_width_bits: Optional[int] = param(
        None, desc="data width of one device (x4/x8/x16...), naming the part: timing uses the channel's "
        "bus_width_bits and energy scales with devices_per_rank; source: preset", gt=0, le=1024, metadata=True,
    )
    devices_per_rank: Optional[int] = param(None, desc="devices per rank (energy is multiplied by it); source: preset", gt=0, le=64)
    burst_length: Optional[int] = param(None, desc="BL, data beats per column access; source: preset", gt=0, le=64)
    beats_per_clock: Optional[int] = param(
        None,
        desc="data beats per pin per tCK (2 for DDR; 16 for the GDDR6 preset, the table's 1-cycle BL16 burst); "
        "burst_cycles = BL / beats_per_clock; source: preset",
        gt=0,
    )

class DramTiming(ParamModel):
    """Timing overrides (JEDEC names) in cycles of tCK; none = the preset's value."""

    tck_ps: Optional[TimePs] = param(None, desc="clock period tCK (accepts '0.63ns'); source: preset (" + PRESETS_SOURCE + ")", gt=0, le=100000)
    CL: Optional[int] = param(None, desc="CAS (read) latency; source: preset", gt=0, le=1000000)
    CWL: Optional[int] = param(None, desc="CAS write latency; source: preset", gt=0, le=1000000)
    AL: Optional[int] = param(None, desc="additive latency; source: preset", ge=0, le=1000000)
    tRCD: Optional[int] = param(None, desc="ACT to column command (read value for GDDR6); source: preset", gt=0, le=1000000)
    tRP: Optional[int] = param(None, desc="PRE to ACT of the same bank; source: preset", gt=0, le=1000000)
    tRAS: Optional[int] = param(None, desc="ACT to PRE of the same bank; source: preset", gt=0, le=1000000)
    tRRD_S: Optional[int] = param(None, desc="ACT to ACT, different bank groups of a rank; source: preset", gt=0, le=1000000)
    tRRD_L: Optional[int] = param(None, desc="ACT to ACT, same bank group; source: preset", gt=0, le=1000000)
    tCCD_S: Optional[int] = param(None, desc="column to column, different bank groups of a rank; source: preset", gt=0, le=1000000)
    tCCD_L: Optional[int] = param(None, desc="column to column, same bank group; source: preset", gt=0, le=1000000)
    tFAW: Optional[int] = param(None, desc="window holding at most four ACTs of a rank; source: preset", gt=0, le=1000000)
    tWR: Optional[int] = param(None, desc="write recovery: end of write data to PRE; source: preset", gt=0, le=1000000)
    tWTR_S: Optional[int] = param(None, desc="end of write data to RD, different bank group; source: preset", gt=0, le=1000000)
    tWTR_L: Optional[int] = param(None, desc="end of write data to RD, same bank group; source: preset", gt=0, le=1000000)
    tRTP: Optional[int] = param(None, desc="RD to PRE of the same bank; source: preset", gt=0, le=1000000)
    tRTRS: Optional[int] = param(None, desc="data-bus gap on a rank switch or a read-to-write turnaround; source: preset", ge=0, le=1000000)
    tREFI: Optional[int] = param(None, desc="refresh interval of a rank; source: preset", gt=0, le=1000000)
    tRFC: Optional[int] = param(None, desc="refresh cycle time (rank blocked); source: preset", gt=0, le=1000000)
    tCKE: Optional[int] = param(None, desc="minimum power-down residency (entry to exit); source: preset", gt=0, le=1000000)
    tCKESR: Optional[int] = param(None, desc="minimum self-refresh residency (entry to exit); source: preset", gt=0, le=1000000)
    tXP: Optional[int] = param(None, desc="power-down exit to the next command; source: preset", gt=0, le=1000000)
    tXS: Optional[int] = param(None, desc="self-refresh exit to the next command; source: preset", gt=0, le=1000000)

class DramPower(ParamModel):
    """Supply and current overrides (JEDEC names); none = the preset's value."""

    VDD: Optional[float] = param(None, desc="supply voltage in V; source: preset (" + PRESETS_SOURCE + ")", gt=0, le=5.0)
    IDD0: Optional[float] = param(None, desc="one-bank ACT-PRE current in mA; source: preset", ge=0, le=100000)
    IDD2N: Optional[float] = param(None, desc="precharge standby current in mA; source: preset", ge=0, le=100000)
    IDD3N: Optional[float] = param(None, desc="active standby current in mA; source: preset", ge=0, le=100000)
    IDD4R: Optional[float] = param(None, desc="burst read current in mA; source: preset", ge=0, le=100000)
    IDD4W: Optional[float] = param(None, desc="burst write current in mA; source: preset", ge=0, le=100000)
    IDD5AB: Optional[float] = param(None, desc="all-bank refresh current in mA; source: preset", ge=0)
    IDD2P: Optional[float] = param(None, desc="precharge power-down current in mA; source: preset", ge=0, le=100000)
    IDD3P: Optional[float] = param(None, desc="active power-down current in mA; source: preset", ge=0, le=100000)
    IDD6: Optional[float] = param(None, desc="self-refresh current in mA (DRAMsim3's IDD6x); source: preset", ge=0, le=100000)


@dataclass(frozen=True, slots=True, init=False, repr=False, eq=False)
class DramSpec:
    """A fully resolved DRAM: plain ints (times in cycles of tCK unless ``_ps``)."""

    preset: str
    protocol: str
    source: str
    tck_ps: int
    channels: int
    ranks: int
    bankgroups: int
    banks_per_group: int
    rows: int
    columns: int
    bus_width_bits: int
    device_width_bits: int
    devices_per_rank: int
    burst_length: int
    CL: int
    CWL: int
    AL: int
    tRCD: int
    tRP: int
    tRAS: int
    tRRD_S: int
    tRRD_L: int
    tCCD_S: int
    tCCD_L: int
    tFAW: int
    tWR: int
    tWTR_S: int
    tWTR_L: int
    tRTP: int
    tRTRS: int
    tREFI: int
    tRFC: int
    tCKE: int
    tCKESR: int
    tXP: int
    tXS: int
    VDD: float
    IDD0: float
    IDD2N: float
    IDD3N: float
    IDD4R: float
    IDD4W: float
    IDD5AB: float
    IDD2P: float
    IDD3P: float
    IDD6: float
    address_mapping: tuple[str, ...]
    page_policy: str
    page_timeout_cycles: int
    read_queue_depth: int
    write_queue_depth: int
    command_queue_depth: int
    write_high_watermark: int
    write_low_watermark: int
    row_hit_cap: int
    starvation_cycles: int
    powerdown: bool
    powerdown_timeout_cycles: int
    self_refresh_timeout_cycles: int
    io_energy_pj_per_bit: float
    # derived
    tRC: int
    RL: int
    WL: int
    burst_cycles: int
    request_bytes: int
    columns_per_row: int  #: request-sized columns (bursts) per row
    row_bytes: int
    banks_per_rank: int
    capacity_bytes: int
    peak_bandwidth_gb_per_s: float

    # init, repr, eq and hash are written here rather than generated (dataclass(init=False,
    # repr=False, eq=False) above): dataclass compiles the methods it generates from source text
    # at every import, about 22 M instructions for these 70 fields (0.5 % of a small run), where
    # these come compiled from the .pyc. They do what the generated ones do (a frozen dataclass's
    # __init__ sets each field through object.__setattr__; repr, == and hash over the fields in
    # order); tests/platform/test_dram_spec_methods.py compares them with a generated copy.
    def __init__(
        self, preset: str, protocol: str, source: str, tck_ps: int, channels: int, ranks: int, bankgroups: int,
        banks_per_group: int, rows: int, columns: int, bus_width_bits: int, device_width_bits: int,
        devices_per_rank: int, burst_length: int, CL: int, CWL: int, AL: int, tRCD: int, tRP: int, tRAS: int,
        tRRD_S: int, tRRD_L: int, tCCD_S: int, tCCD_L: int, tFAW: int, tWR: int, tWTR_S: int, tWTR_L: int,
        tRTP: int, tRTRS: int, tREFI: int, tRFC: int, tCKE: int, tCKESR: int, tXP: int, tXS: int, VDD: float,
        IDD0: float, IDD2N: float, IDD3N: float, IDD4R: float, IDD4W: float, IDD5AB: float, IDD2P: float,
        IDD3P: float, IDD6: float, address_mapping: tuple[str, ...], page_policy: str, page_timeout_cycles: int,
        read_queue_depth: int, write_queue_depth: int, command_queue_depth: int, write_high_watermark: int,
        write_low_watermark: int, row_hit_cap: int, starvation_cycles: int, powerdown: bool,
        powerdown_timeout_cycles: int, self_refresh_timeout_cycles: int, io_energy_pj_per_bit: float, tRC: int,
        RL: int, WL: int, burst_cycles: int, request_bytes: int, columns_per_row: int, row_bytes: int,
        banks_per_rank: int, capacity_bytes: int, peak_bandwidth_gb_per_s: float,
    ) -> None:
        values = dict(locals())  # a copy: a tracer refreshing locals() would add the loop variable
        for field_name in _SPEC_FIELDS:
            object.__setattr__(self, field_name, values[field_name])

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in _SPEC_FIELDS)
        return f"{self.__class__.__qualname__}({inner})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in _SPEC_FIELDS)

    @property
    def tck_ns(self) -> float:
        return self.tck_ps / 1000.0

    def field_bits(self) -> dict[str, int]:
        """Address bits of each mapping field (above the request-offset bits)."""
        return {
            "ch": self.channels.bit_length() - 1,
            "ra": self.ranks.bit_length() - 1,
            "bg": self.bankgroups.bit_length() - 1,
            "ba": self.banks_per_group.bit_length() - 1,
            "ro": self.rows.bit_length() - 1,
            "co": self.columns_per_row.bit_length() - 1,
        }


#: the fields of :class:`DramSpec`, in order (its __init__, __repr__, __eq__ and __hash__ use them)
_SPEC_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclass_fields(DramSpec))


class DramConfig(ParamModel):
    """Off-chip DRAM: a preset plus overrides (see the module docstring)."""

    preset: str = param(
        "DDR4-3200",
        desc="named part: " + ", ".join(PRESET_NAMES) + " (LPDDR4 = LPDDR4-2400, HBM2 = HBM2 8Gb); "
        "source: " + PRESETS_SOURCE,
    )
    org: DramOrg = param(DramOrg(), desc="organisation overrides (lower_snake names); none = preset")
    timing: DramTiming = param(DramTiming(), desc="timing overrides in tCK cycles (JEDEC names); none = preset")
    power: DramPower = param(DramPower(), desc="VDD/IDD overrides (JEDEC names); none = preset")
    address_mapping: Optional[str] = param(
        None,
        desc="DRAMsim3-style MSB..LSB string of the fields ro ch ra bg ba co, each once (e.g. 'rochrababgco'); "
        "none = the preset's; source: " + PRESETS_SOURCE,
    )
    page_policy: Literal["open", "closed", "adaptive"] = param(
        "open",
        desc="open: a row stays open until a conflict or refresh; closed: auto-precharge after a column command "
        "unless another queued request hits the row; adaptive: open, and a bank idle for page_timeout_cycles is "
        "precharged; source: DRAMsim3 configs use OPEN_PAGE (docs/reference/dram_presets.md)",
    )
    page_timeout_cycles: int = param(
        200, desc="adaptive page policy: idle cycles (tCK) after the last column command before the bank is "
        "precharged; source: tlmsim choice (a few row cycles, as in timeout-based controllers)", gt=0, le=10**7
    )
    read_queue_depth: int = param(
        32, desc="read queue entries (requests) per channel, ahead of the per-bank command queues; source: "
        "DRAMsim3 trans_queue_size (docs/reference/dram_presets.md)", gt=0, le=4096
    )
    write_queue_depth: int = param(
        32, desc="write buffer entries (posted writes) per channel; source: DRAMsim3 trans_queue_size "
        "(its write buffer has the same size)", gt=0, le=4096
    )
    command_queue_depth: int = param(
        8, desc="command queue entries per bank: the requests the scheduler sees per bank; source: DRAMsim3 "
        "cmd_queue_size (docs/reference/dram_presets.md)", gt=0, le=4096
    )
    write_high_watermark: Optional[int] = param(
        None, desc="a write drain starts when the write buffer holds this many writes; none = write_queue_depth "
        "(full); source: DRAMsim3 (drains when its write buffer is full)", gt=0, le=4096
    )
    write_low_watermark: int = param(
        8, desc="a write drain also starts when more than this many writes wait and no read is queued "
        "(opportunistic drain); source: DRAMsim3 (threshold 8)", ge=0, le=4096
    )
    row_hit_cap: int = param(
        4, desc="column commands a row serves before the PRE for an older request to another row of the bank may "
        "compete with further row hits; source: DRAMsim3 (a literal 4 in its precharge arbitration)", gt=0, le=4096
    )
    starvation_cycles: int = param(
        1000, desc="a request waiting this many cycles (tCK) in a command queue is served before row hits "
        "(aging); source: tlmsim choice", gt=0, le=10**9
    )
    powerdown: bool = param(
        True, desc="a rank idle for powerdown_timeout_cycles enters power-down (active or precharge, by its "
        "banks), and self-refresh after self_refresh_timeout_cycles; exits cost tXP / tXS; source: DRAMPower "
        "power states, DRAMsim3 sref_threshold"
    )
    powerdown_timeout_cycles: int = param(
        64, desc="idle cycles (tCK) of a rank before power-down entry; source: tlmsim choice (short timeouts as in "
        "DRAM controllers' idle power-down)", gt=0, le=10**9
    )
    self_refresh_timeout_cycles: int = param(
        100000, desc="idle cycles (tCK) of a precharged rank before self-refresh entry; source: DRAMsim3 "
        "sref_threshold order of magnitude (tlmsim choice)", gt=0, le=10**12
    )
    io_energy_pj_per_bit: Optional[float] = param(None, desc=_io_desc(), ge=0, le=10000)

    _spec: Optional[DramSpec] = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and "queue_depth" in data:
            raise ValueError(
                "queue_depth was renamed: use read_queue_depth and write_queue_depth (requests per channel); "
                "command_queue_depth is the per-bank command queue"
            )
        return data

    @field_validator("preset", mode="before")
    @classmethod
    def _check_preset(cls, v: Any) -> str:
        return canonical_preset(v)

    @field_validator("address_mapping")
    @classmethod
    def _check_mapping(cls, v: Optional[str]) -> Optional[str]:
        if v is not None:
            parse_mapping(v)
        return v

    @model_validator(mode="after")
    def _resolve_once(self) -> "DramConfig":
        self._spec = self._build_spec()
        return self

    def resolve(self) -> DramSpec:
        """The resolved :class:`DramSpec` (computed once, at validation)."""
        if self._spec is None:  # pragma: no cover - always set by the validator
            self._spec = self._build_spec()
        return self._spec

    def _build_spec(self) -> DramSpec:
        p = load_preset(self.preset)
        org = {k: (v if v is not None else p["org"][k]) for k, v in self.org.model_dump().items()}
        tim = {k: (v if v is not None else p["timing"][k]) for k, v in self.timing.model_dump().items()}
        preset_power = p["power"] if "power" in p else fold_rails(p["rails"])
        pwr = {k: (v if v is not None else preset_power[k]) for k, v in self.power.model_dump().items()}
        mapping = parse_mapping(self.address_mapping or p["address_mapping"])
        for k in ("channels", "ranks", "bankgroups", "banks_per_group", "rows"):
            if not _pow2(org[k]):
                raise ValueError(f"org.{k} must be a power of two for address decoding (got {org[k]})")
        bl, bpc = org["burst_length"], org["beats_per_clock"]
        if bl % bpc:
            raise ValueError(f"org.burst_length ({bl}) must be a multiple of org.beats_per_clock ({bpc})")
        if org["columns"] % bl or not _pow2(org["columns"] // bl):
            raise ValueError(
                f"org.columns / org.burst_length must be a power of two (got {org['columns']} / {bl})"
            )
        if org["bus_width_bits"] * bl % 8:
            raise ValueError("org.bus_width_bits * org.burst_length must be a whole number of bytes")
        if tim["tRAS"] < tim["tRCD"]:
            raise ValueError(f"timing.tRAS ({tim['tRAS']}) must be >= timing.tRCD ({tim['tRCD']})")
        if tim["tRFC"] >= tim["tREFI"]:  # a rank would be refreshing again before its refresh ended
            raise ValueError(f"timing.tRFC ({tim['tRFC']}) must be < timing.tREFI ({tim['tREFI']})")
        if tim["tREFI"] - tim["tRFC"] <= tim["tRCD"]:  # after a refresh every bank is closed: a row must open
            # and its first column command issue before the next refresh is due, tREFI after the last was due
            raise ValueError(
                f"timing.tREFI - timing.tRFC ({tim['tREFI']} - {tim['tRFC']}) must be > timing.tRCD ({tim['tRCD']}): "
                "between refreshes a row must open and be read"
            )
        burst_cycles = bl // bpc
        request_bytes = org["bus_width_bits"] * bl // 8
        columns_per_row = org["columns"] // bl
        row_bytes = columns_per_row * request_bytes
        banks_per_rank = org["bankgroups"] * org["banks_per_group"]
        io = self.io_energy_pj_per_bit
        if io is None:
            io = IO_PJ_PER_BIT_DEFAULT[p["protocol"]]
        return DramSpec(
            preset=self.preset,
            protocol=p["protocol"],
            source=f"{p['config']} ({PRESETS_SOURCE})",
            tck_ps=int(tim["tck_ps"]),
            **{k: int(v) for k, v in org.items() if k != "beats_per_clock"},
            **{k: int(v) for k, v in tim.items() if k != "tck_ps"},
            **{k: float(v) for k, v in pwr.items()},
            address_mapping=mapping,
            page_policy=self.page_policy,
            page_timeout_cycles=self.page_timeout_cycles,
            read_queue_depth=self.read_queue_depth,
            write_queue_depth=self.write_queue_depth,
            command_queue_depth=self.command_queue_depth,
            write_high_watermark=min(self.write_high_watermark or self.write_queue_depth, self.write_queue_depth),
            write_low_watermark=self.write_low_watermark,
            row_hit_cap=self.row_hit_cap,
            starvation_cycles=self.starvation_cycles,
            powerdown=self.powerdown,
            powerdown_timeout_cycles=self.powerdown_timeout_cycles,
            self_refresh_timeout_cycles=self.self_refresh_timeout_cycles,
            io_energy_pj_per_bit=float(io),
            tRC=int(tim["tRAS"] + tim["tRP"]),
            RL=int(tim["AL"] + tim["CL"]),
            WL=int(tim["AL"] + tim["CWL"]),
            burst_cycles=burst_cycles,
            request_bytes=request_bytes,
            columns_per_row=columns_per_row,
            row_bytes=row_bytes,
            banks_per_rank=banks_per_rank,
            capacity_bytes=org["channels"] * org["ranks"] * banks_per_rank * org["rows"] * row_bytes,
            peak_bandwidth_gb_per_s=org["channels"] * request_bytes / (burst_cycles * tim["tck_ps"]) * 1000.0,
        )
