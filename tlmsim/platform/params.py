"""The parameter layer: how every hardware parameter is declared.

Each parameter is declared once, as a field of a :class:`ParamModel`, with a type,
bounds, a default, its unit in its name and a one-line description. A model whose
field lacks a description is refused at class creation (gem5's rule). Sources of
default values are named in the description (``source: ...``) and collected in
``docs/parameters.md`` by ``tools/gen_param_docs.py``.

Every parameter changes some report column when set (tests/platform/test_param_effect.py
sets each in turn), unless it is declared ``metadata=True`` (a label) or ``inert=...``
(its hardware is not modelled yet); ``tlmsim sweep`` and ``tlmsim search`` refuse to
vary those (:func:`no_effect_reason`).
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from tlmsim.errors import RefusedKey
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


#: ``json_schema_extra`` key of a parameter's role (see :func:`param`)
ROLE_KEY = "tlmsim_role"


def param(default: Any = ..., *, desc: str, metadata: bool = False, inert: str | None = None, **bounds: Any) -> Any:
    """Declare one parameter: ``param(64, desc="...", gt=0)``.

    Every parameter changes some report column when set (tests/platform/test_param_effect.py
    perturbs each one), except those declared otherwise here, which ``tlmsim sweep`` and
    ``tlmsim search`` refuse to vary:

    * ``metadata=True``: a label (a name, free text) that reports carry but no model reads;
    * ``inert="takes effect with ..."``: a real parameter whose hardware is not in the model
      yet; the text says when it takes effect.
    """
    if metadata and inert:
        raise TypeError("a parameter is either metadata or inert, not both")
    extra = {ROLE_KEY: "metadata"} if metadata else {ROLE_KEY: "inert: " + inert} if inert else None
    return Field(default, description=desc, json_schema_extra=extra, **bounds)


def param_role(field: Any) -> str | None:
    """Why a parameter (a pydantic FieldInfo) has no effect on a run: ``"metadata"``,
    ``"inert: <when it takes effect>"``, or None (it has one)."""
    extra = getattr(field, "json_schema_extra", None)
    return extra.get(ROLE_KEY) if isinstance(extra, dict) else None


def no_effect_reason(field: Any) -> str | None:
    """Why varying a parameter (a pydantic FieldInfo) explores nothing, in a few words,
    or None when it has an effect."""
    role = param_role(field)
    if role is None:
        return None
    if role == "metadata":
        return "it is metadata (a label no model reads) and changes no result"
    return f"it has no effect yet ({role.removeprefix('inert: ')})"


def refuse_removed(data: Any, removed: dict[str, str]) -> Any:
    """A ``mode="before"`` model validator's body: raise ValueError with the reason when
    ``data`` (the section's raw mapping) sets a key listed in ``removed`` (key -> one line
    saying why it is gone and what to use instead); else return ``data``."""
    if isinstance(data, dict):
        for key, why in removed.items():
            if key in data:
                raise RefusedKey(key, why)
    return data


def leaf_params(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any]]:
    """(key path, FieldInfo) of every leaf parameter of ``model``, sections walked in
    declaration order (a dict-valued parameter such as ``noc.nodes`` is one leaf)."""
    out: list[tuple[str, Any]] = []
    for name, field in model.model_fields.items():
        sub = _unwrap_model(field.annotation)
        if isinstance(sub, type) and issubclass(sub, BaseModel) and typing.get_origin(field.annotation) is None:
            out.extend(leaf_params(sub, f"{prefix}{name}."))
        else:
            out.append((f"{prefix}{name}", field))
    return out


def _unwrap_model(tp: Any) -> Any:
    """The model class inside ``Annotated``/``Optional`` wrappers, else ``tp``."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap_model(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        for a in typing.get_args(tp):
            u = _unwrap_model(a)
            if isinstance(u, type) and issubclass(u, BaseModel):
                return u
    return tp
