"""Dataflows: how a layer is split into tiles and mapped onto the PE array.

Each dataflow is one module implementing :class:`tlmsim.dataflow.base.Dataflow`
(the systolic ones through :class:`tlmsim.dataflow.systolic.SystolicDataflow`);
:data:`DATAFLOWS` maps the platform's ``dataflow.name`` to it.
"""

from __future__ import annotations

from importlib import import_module

from tlmsim.dataflow.base import Dataflow
from tlmsim.engine.plan import LayerPlan, Move, Tile

#: dataflow name -> (module of this package, class): :func:`make_dataflow` imports only the
#: module of the dataflow a run uses (the other five cost a run about 9 M instructions
#: of imports); :data:`DATAFLOWS` imports them all, on first use
_CLASSES: dict[str, tuple[str, str]] = {
    "dense-ws": ("dense_ws", "DenseWS"),
    "dense-os": ("dense_os", "DenseOS"),
    "dense-is": ("dense_is", "DenseIS"),
    "ptb": ("ptb", "Ptb"),
    "spikex": ("spikex", "SpikeX"),
    "event": ("event", "Event"),
}

__all__ = ["DATAFLOWS", "Dataflow", "LayerPlan", "Move", "Tile", "dataflow_class", "make_dataflow"]


def dataflow_class(name: str) -> type[Dataflow]:
    """The class of the dataflow called ``name`` (KeyError for an unknown name), its module
    imported now if it was not."""
    module, cls = _CLASSES[name]
    return getattr(import_module(f"{__name__}.{module}"), cls)


def __getattr__(name: str):
    # DATAFLOWS (name -> class, every dataflow) is built on first access, so that importing the
    # package imports none of the dataflows' modules
    if name == "DATAFLOWS":
        table: dict[str, type[Dataflow]] = {n: dataflow_class(n) for n in _CLASSES}
        globals()["DATAFLOWS"] = table
        return table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_dataflow(platform, workload) -> Dataflow:
    """The dataflow the platform names, built for ``workload``."""
    return dataflow_class(platform.dataflow.name)(platform=platform, workload=workload)
