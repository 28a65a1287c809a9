"""Parsing of quantities with units at the YAML boundary.

Inside tlmsim every quantity is a plain number whose unit is in its name
(``capacity_bytes``, ``latency_cycles``, ``tck_ps``). Platform files may write
sizes and times with units ("64KiB", "13.75ns"); these parsers turn them into
the named unit, exactly (times become integer picoseconds).
"""

from __future__ import annotations

import re
from fractions import Fraction

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}

_TIME_UNITS_PS = {
    "ps": Fraction(1),
    "ns": Fraction(1000),
    "us": Fraction(1000**2),
    "ms": Fraction(1000**3),
    "s": Fraction(1000**4),
}

_FREQ_UNITS_MHZ = {"hz": Fraction(1, 10**6), "khz": Fraction(1, 1000), "mhz": Fraction(1), "ghz": Fraction(1000)}

_NUMBER_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


def _split(text: str, what: str, units: dict) -> tuple[Fraction, str]:
    m = _NUMBER_UNIT.match(text)
    if not m or m.group(2).lower() not in units:
        names = ", ".join(u for u in units if u)
        raise ValueError(f"not a {what}: {text!r}; write a number with a unit ({names})")
    return Fraction(m.group(1)), m.group(2).lower()


def parse_bytes(value: object) -> object:
    """'64KiB' -> 65536; '1MB' -> 1000000; ints pass through. Other types pass
    through unchanged so that the schema reports them as a wrong type."""
    if isinstance(value, str):
        number, unit = _split(value, "size", _SIZE_UNITS)
        total = number * _SIZE_UNITS[unit]
        if total.denominator != 1:
            raise ValueError(f"size {value!r} is not a whole number of bytes")
        return int(total)
    return value


def parse_time_ps(value: object) -> object:
    """'13.75ns' -> 13750 (picoseconds). Bare numbers are picoseconds already."""
    if isinstance(value, str):
        number, unit = _split(value, "time", _TIME_UNITS_PS)
        if unit == "":
            raise ValueError(f"time {value!r} needs a unit (ps, ns, us, ms, s)")
        total = number * _TIME_UNITS_PS[unit]
        if total.denominator != 1:
            raise ValueError(f"time {value!r} is not a whole number of picoseconds")
        return int(total)
    return value


def parse_freq_mhz(value: object) -> object:
    """'1GHz' -> 1000.0 (MHz). Bare numbers are MHz already."""
    if isinstance(value, str):
        number, unit = _split(value, "frequency", _FREQ_UNITS_MHZ)
        if unit == "":
            raise ValueError(f"frequency {value!r} needs a unit (Hz, kHz, MHz, GHz)")
        return float(number * _FREQ_UNITS_MHZ[unit])
    return value


def period_ps(freq_mhz: float) -> int:
    """Clock period in integer picoseconds for a frequency in MHz (rounded)."""
    return int(round(1e6 / freq_mhz))
