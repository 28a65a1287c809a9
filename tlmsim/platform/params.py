"""The parameter layer: how every hardware parameter is declared.

Each parameter is declared once, as a field of a :class:`ParamModel`, with a type,
bounds, a default, its unit in its name and a one-line description. A model whose
field lacks a description is refused at class creation (gem5's rule). Sources of
default values are named in the description (``source: ...``) and collected in
``docs/parameters.md`` by ``tools/gen_param_docs.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from tlmsim.units import parse_bytes, parse_freq_mhz, parse_time_ps


class ParamModel(BaseModel):
    """Base of every parameter model: unknown keys are errors; frozen after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:  # noqa: D105
        super().__pydantic_init_subclass__(**kwargs)
        missing = [name for name, f in cls.model_fields.items() if not f.description]
        if missing:
            raise TypeError(f"{cls.__name__}: parameters without a description: {', '.join(missing)}")


#: A size in bytes; YAML may write "64KiB", "2MB" or a plain integer.
Bytes = Annotated[int, BeforeValidator(parse_bytes)]
#: A time in integer picoseconds; YAML may write "13.75ns" or a plain integer (ps).
TimePs = Annotated[int, BeforeValidator(parse_time_ps)]
#: A frequency in MHz; YAML may write "1GHz" or a plain number (MHz).
FreqMHz = Annotated[float, BeforeValidator(parse_freq_mhz)]


def param(default: Any = ..., *, desc: str, **bounds: Any) -> Any:
    """Declare one parameter: ``param(64, desc="...", gt=0)``."""
    return Field(default, description=desc, **bounds)
