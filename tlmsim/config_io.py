"""Reading YAML inputs and turning every problem into one located error line.

Shared by the platform and workload loaders: safe YAML reading, ``--set``
overrides of key paths, and conversion of pydantic validation errors into
:class:`~tlmsim.errors.ConfigError` messages of the form
``FILE: key.path: problem (got VALUE); allowed: ...``.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Iterable, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tlmsim.errors import ConfigError, RefusedKey

M = TypeVar("M", bound=BaseModel)

#: inputs larger than this are refused before parsing (a platform or workload YAML is a few KiB)
MAX_YAML_BYTES = 4 * 1024 * 1024

#: PyYAML's LibYAML-based safe loader when PyYAML was built with it (the wheels are), else None;
#: only ever a loader whose constructor is the SafeConstructor (no Python objects built)
_CSAFE = getattr(yaml, "CSafeLoader", None) if getattr(yaml, "__with_libyaml__", False) else None
if _CSAFE is not None and not issubclass(_CSAFE, yaml.constructor.SafeConstructor):  # pragma: no cover
    _CSAFE = None


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``, parsed by LibYAML when PyYAML has it (5-7x less CPU for a
    platform file): the same SafeConstructor builds the same values. A text that LibYAML
    refuses is parsed again by the pure-Python loader, so a YAML error (its message and
    marks) is always the pure loader's."""
    if _CSAFE is not None:
        loader = _CSAFE(text)  # what yaml.load does with this loader, written out: safe by construction
        try:
            return loader.get_single_data()
        except yaml.YAMLError:
            pass
        finally:
            loader.dispose()
    return yaml.safe_load(text)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with ``yaml.safe_load``; errors name the file (and line)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError("no such file", file=str(path))
    if p.stat().st_size > MAX_YAML_BYTES:
        raise ConfigError(f"file is larger than {MAX_YAML_BYTES} bytes", file=str(path))
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read file ({exc.strerror})", file=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        what = {".npz": "a spike trace (.npz)", ".nir": "a NIR graph (.nir)", ".npy": "a numpy array (.npy)"}.get(
            p.suffix.lower(), "a binary file")
        raise ConfigError(f"is {what}, not a YAML text file", file=str(path)) from None
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}invalid YAML: {problem}", file=str(path)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping of keys, not a {type(data).__name__}", file=str(path)
        )
    return data


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with each ``KEY.PATH=VALUE`` applied.

    VALUE is parsed as YAML (``32`` is an int, ``true`` a bool, ``64KiB`` a string that
    the schema converts). Intermediate mappings are created as needed; a list item is
    reached by its index (``buffers.levels.0.capacity_bytes``); a path through any other
    value, or an index outside a list, is an error naming ``--set``.
    """
    import copy

    out = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError("expected KEY.PATH=VALUE", file="--set", value=item, has_value=True)
        key, _, raw = item.partition("=")
        key = key.strip()
        parts = key.split(".")
        if not key or any(not p for p in parts):
            raise ConfigError("empty key in KEY.PATH=VALUE", file="--set", value=item, has_value=True)
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = out
        for depth, part in enumerate(parts[:-1]):
            if isinstance(node, list):  # a list item by index: buffers.levels.0.capacity_bytes
                child = node[_index(node, part, parts[:depth + 1])]
            else:
                child = node.get(part)
                if child is None:
                    child = node[part] = {}
            if not isinstance(child, (dict, list)):
                raise ConfigError(
                    "is not a mapping, so it has no sub-keys", file="--set", key=".".join(parts[: depth + 1])
                )
            node = child
        if isinstance(node, list):
            node[_index(node, parts[-1], parts)] = value
        else:
            node[parts[-1]] = value
    return out


def _index(items: list, part: str, path: list[str]) -> int:
    """``part`` as an index into ``items`` (the list at ``path[:-1]``), or a ConfigError."""
    if not part.isdigit() or int(part) >= len(items):
        raise ConfigError(f"is a list of {len(items)} items; allowed: an index 0..{len(items) - 1}",
                          file="--set", key=".".join(path))
    return int(part)


def _unwrap(tp: Any) -> Any:
    """Strip Annotated/Optional wrappers to find a model class or dict type."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        for a in args:
            u = _unwrap(a)
            if isinstance(u, type) and issubclass(u, BaseModel):
                return u
        return args[0] if args else tp
    return tp


def _model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class that owns the key at ``loc`` (its parent), if there is one."""
    current: Any = root
    for part in loc[:-1]:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (dict, typing.Dict):
            current = typing.get_args(current)[1]
        elif typing.get_origin(current) in (list, tuple):
            current = typing.get_args(current)[0]
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_error(exc: ValidationError, root: type[BaseModel], file: str) -> ConfigError:
    """Turn the first error of a pydantic ``ValidationError`` into a located ConfigError."""
    err = exc.errors(include_url=False)[0]
    # drop pydantic's internal tags (validator names, union branches) from the key path
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
    key = _format_loc(loc) or None
    kind = err["type"]
    value = err.get("input")
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    if kind == "extra_forbidden":
        owner = _model_at(root, loc)
        allowed = ", ".join(owner.model_fields) if owner else None
        return ConfigError("unknown key" + suffix, file=file, key=key, allowed=allowed)
    if kind == "missing":
        return ConfigError("required key is missing" + suffix, file=file, key=key)
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    refused = (err.get("ctx") or {}).get("error")
    if isinstance(refused, RefusedKey) and isinstance(value, dict):  # a section refused one of its keys: name it
        key = _format_loc((*loc, refused.key))
        value = value.get(refused.key)
        for prefix in (key + " ", refused.key + " "):  # "pe_array.neuron was removed: ..." -> "was removed: ..."
            if msg.startswith(prefix):
                msg = msg[len(prefix):]
                break
    if isinstance(value, (dict, list)) and len(repr(value)) > 80:
        value = f"<{type(value).__name__} of {len(value)} items>"
    return ConfigError(msg + suffix, file=file, key=key, value=value, has_value=True)


def validate_model(model: type[M], data: dict[str, Any], file: str) -> M:
    """Validate ``data`` as ``model``; every problem becomes a ConfigError naming ``file``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, model, file) from None
    except ConfigError as exc:
        raise exc.located(file) from None


#: top-level keys only a platform YAML has
PLATFORM_KEYS = frozenset({"clock_mhz", "dram", "buffers", "noc", "pe_array", "dataflow", "energy", "area"})
#: top-level keys only a workload YAML has
WORKLOAD_KEYS = frozenset({"layers", "nir", "timesteps", "spikes", "weight_bits", "firing_rate", "sample", "prune"})
#: top-level keys only a search file has (a sweep file has ``parameters`` without them)
SEARCH_KEYS = frozenset({"trials", "sampler", "sampler_seed", "objectives", "area_budget_mm2"})

#: what each kind of input is, in messages
KIND_TEXT = {
    "platform": "a platform YAML",
    "workload": "a workload YAML",
    "sweep": "a sweep file (run it with `tlmsim sweep FILE`)",
    "search": "a search file (run it with `tlmsim search FILE`)",
    "trace": "a spike trace (.npz)",
    "nir": "a NIR graph (.nir), a workload",
    "topology": "a SCALE-Sim topology (.csv), a workload",
    "empty": "empty",
}


def file_kind(path: str | Path) -> str | None:
    """What an input file is, from its suffix or its top-level keys: ``platform``,
    ``workload``, ``sweep``, ``search``, ``trace`` (.npz), ``nir``, ``topology`` (.csv),
    ``empty``, or None when the keys do not tell (the schema then explains).
    Raises ConfigError for an unreadable or invalid YAML."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npz":
        return "trace"
    if suffix == ".nir":
        return "nir"
    if suffix == ".csv":
        return "topology"
    return yaml_kind(read_yaml(path))


def yaml_kind(data: dict[str, Any]) -> str | None:
    """The kind of a YAML mapping from its top-level keys (see :func:`file_kind`)."""
    keys = set(data)
    if not keys:
        return "empty"
    if "parameters" in keys:
        params = data.get("parameters")
        ranges = isinstance(params, dict) and any(isinstance(v, dict) for v in params.values())
        return "search" if keys & SEARCH_KEYS or ranges else "sweep"
    workload, platform = keys & WORKLOAD_KEYS, keys & PLATFORM_KEYS
    if workload and not platform:
        return "workload"
    if platform and not workload:
        return "platform"
    return None
