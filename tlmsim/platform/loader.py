"""Loading platforms: YAML file or shipped name -> validated :class:`Platform`."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from tlmsim.config_io import apply_overrides, read_yaml, validate_model
from tlmsim.errors import ConfigError
from tlmsim.platform.checks import check_platform


def load_platform(source: str | Path | None = None, overrides: Iterable[str] = ()) -> "Platform":
    """Load and validate a platform.

    ``source`` is a YAML path or the name of a shipped platform (default:
    :data:`tlmsim.resources.DEFAULT_PLATFORM`); ``overrides`` are ``KEY.PATH=VALUE``
    strings applied before validation (errors in them name ``--set``). The validated
    platform then passes the cross-component checks of :mod:`tlmsim.platform.checks`.
    """
    from tlmsim.platform import Platform
    from tlmsim.resources import DEFAULT_PLATFORM, resolve

    path = resolve("platforms", None if source is None else str(source), DEFAULT_PLATFORM)
    data = read_yaml(path)
    overrides = list(overrides)
    if overrides:
        patched = apply_overrides(data, overrides)
        # validate the overrides first so that their errors name --set, not the file
        try:
            platform = validate_model(Platform, patched, str(path))
        except ConfigError as exc:
            if exc.key and any(o.split("=", 1)[0].strip() == exc.key or exc.key.startswith(o.split("=", 1)[0].strip() + ".") for o in overrides):
                raise ConfigError(exc.problem, file="--set", key=exc.key, value=exc.value, allowed=exc.allowed,
                                  has_value=exc.value is not None) from None
            raise
        check_platform(platform, f"{path} with --set")
        return platform
    platform = validate_model(Platform, data, str(path))
    check_platform(platform, str(path))
    return platform


from tlmsim.platform import Platform  # noqa: E402,F401  (for type checkers)
