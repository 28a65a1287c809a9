"""Parsing of quantities with units at the YAML boundary.

Inside tlmsim every quantity is a plain number whose unit is in its name
(``capacity_bytes``, ``latency_cycles``, ``tck_ps``). Platform files may write
sizes and times with units ("64KiB", "13.75ns"); these parsers turn them into
the named unit, exactly (times become integer picoseconds).

Sizes: ``B`` (or none), decimal ``KB`` = 1000, ``MB`` = 1000**2, ``GB`` = 1000**3,
and binary ``KiB`` = 1024, ``MiB`` = 1024**2, ``GiB`` = 1024**3 (IEC 80000-13;
case-insensitive, so ``512KB`` is 512,000 bytes and ``512KiB`` 524,288). Times:
``ps``, ``ns``, ``us``, ``ms``, ``s``. Frequencies: ``Hz``, ``kHz``, ``MHz``, ``GHz``.
:func:`format_bytes` and :func:`format_time_ps` write values back with units.
"""

from __future__ import annotations

import re
import typing
from decimal import Decimal
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


_BINARY = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


def format_bytes(n: int) -> str:
    """65536 -> '64KiB'; 1536 -> '1536B' is avoided: the largest binary unit that
    divides ``n`` exactly ('1.5KiB' is not used), else bytes ('1000B')."""
    for name, unit in _BINARY:
        if n >= unit and n % unit == 0:
            return f"{n // unit}{name}"
    return f"{n}B"


def format_time_ps(ps: int) -> str:
    """13750 -> '13.75ns': the largest unit (ps, ns, us, ms, s) of which ``ps`` is at
    least one, as an exact decimal."""
    for name, unit in (("s", 1000**4), ("ms", 1000**3), ("us", 1000**2), ("ns", 1000)):
        if abs(ps) >= unit:
            return f"{format((Decimal(ps) / Decimal(unit)).normalize(), 'f')}{name}"
    return f"{ps}ps"


def field_unit(field: object) -> str | None:
    """'bytes' or 'ps' when a pydantic field parses sizes or times with units (its
    validators are in its metadata, or in its annotation when it is optional)."""
    for meta in getattr(field, "metadata", ()):
        func = getattr(meta, "func", None)
        if func is parse_bytes:
            return "bytes"
        if func is parse_time_ps:
            return "ps"
    return annotation_unit(getattr(field, "annotation", None))


def annotation_unit(annotation: object) -> str | None:
    """'bytes' or 'ps' when a schema type (e.g. ``Bytes | None``) parses sizes or
    times with units (its validator is :func:`parse_bytes` / :func:`parse_time_ps`)."""
    if typing.get_origin(annotation) is typing.Annotated:
        for meta in typing.get_args(annotation)[1:]:
            func = getattr(meta, "func", None)
            if func is parse_bytes:
                return "bytes"
            if func is parse_time_ps:
                return "ps"
    for arg in typing.get_args(annotation):
        unit = annotation_unit(arg)
        if unit:
            return unit
    return None
