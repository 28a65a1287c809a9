"""Exception types of tlmsim.

Library code raises these; the CLI turns them into one line and exit status 2.
Every message names where the problem is (file, key path) and what is allowed.
"""

from __future__ import annotations


class TlmsimError(Exception):
    """Base class of every error tlmsim raises on purpose."""


class ConfigError(TlmsimError):
    """A platform, workload or CLI value is invalid.

    The message reads ``FILE: KEY.PATH: problem (got VALUE); allowed: ...``.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        key: str | None = None,
        value: object = None,
        allowed: str | None = None,
        has_value: bool = False,
    ) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        self.value = value
        self.allowed = allowed
        parts = []
        if file:
            parts.append(str(file))
        if key:
            parts.append(key)
        text = problem
        if has_value or value is not None:
            text += f" (got {value!r})"
        if allowed:
            text += f"; allowed: {allowed}"
        parts.append(text)
        super().__init__(": ".join(parts))

    def located(self, file: str) -> "ConfigError":
        """The same error, naming ``file`` when it did not name one yet."""
        if self.file:
            return self
        return type(self)(
            self.problem,
            file=file,
            key=self.key,
            value=self.value,
            allowed=self.allowed,
            has_value=self.value is not None,
        )


class WorkloadError(ConfigError):
    """A workload file (YAML, spike trace) is invalid."""


class MappingError(TlmsimError):
    """The dataflow cannot map a layer onto the platform (e.g. no tile fits)."""


class SimulationError(TlmsimError):
    """The simulation reached an inconsistent state (a broken invariant, a hang)."""


class RefusedKey(ValueError):
    """Raised by a platform section's validator that refuses one of its own keys (a
    removed key, a key that belongs to another section): the error then names the
    key's full path and its value, not the section (:func:`tlmsim.config_io.validation_error`)."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(why)
        self.key = key
