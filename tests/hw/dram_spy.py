"""Instrumenting the DRAM model in a test: a subclass of ``Dram`` with some methods replaced,
standing in for ``Dram`` wherever the test's code constructs one.

The compiled build's ``Dram`` is an extension type (tlmsim/hw/dram.pxd), and an extension type's
methods cannot be replaced on the class (``monkeypatch.setattr(Dram, name, f)`` raises TypeError).
So a test that spies on a method, or replaces one, makes a subclass instead: :func:`patch_dram`
binds the name ``Dram`` to it in every imported module of tlmsim and of the tests that binds
``Dram`` to the model (the SoC builder, the tests' stream helpers) until the test ends. The
subclass keeps the name ``Dram`` (reprs and reports are unchanged), and the model's own calls of a
replaced method reach the replacement in either build (Python attribute lookup, or a ``cpdef``
method's check for an override). Works the same with the pure-Python build.
"""

from __future__ import annotations

import sys

import pytest

from tlmsim.hw import dram as dram_module


def patch_dram(monkeypatch: pytest.MonkeyPatch, **methods) -> type:
    """Put a subclass of ``Dram`` with ``methods`` (name -> function, staticmethod, ...) in place
    of ``Dram`` for the rest of the test (or of ``monkeypatch``'s context); return it. A second
    call in the same test derives from the first one's subclass, so both replacements hold."""
    base = dram_module.Dram  # the model, or the subclass an earlier call put in its place
    cls = type("Dram", (base,), methods)
    for name, module in list(sys.modules.items()):
        if name.startswith(("tlmsim.", "tests.")) and getattr(module, "Dram", None) is base:
            monkeypatch.setattr(module, "Dram", cls)
    return cls
