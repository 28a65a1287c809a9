"""Dataflows: how a layer is split into tiles and mapped onto the PE array.

Each dataflow is one module implementing :class:`tlmsim.dataflow.base.Dataflow`
(the systolic ones through :class:`tlmsim.dataflow.systolic.SystolicDataflow`);
:data:`DATAFLOWS` maps the platform's ``dataflow.name`` to it.
"""

from __future__ import annotations

from tlmsim.dataflow.base import Dataflow
from tlmsim.dataflow.dense_is import DenseIS
from tlmsim.dataflow.dense_os import DenseOS
from tlmsim.dataflow.dense_ws import DenseWS
from tlmsim.dataflow.event import Event
from tlmsim.dataflow.ptb import Ptb
from tlmsim.dataflow.spikex import SpikeX
from tlmsim.engine.plan import LayerPlan, Move, Tile

DATAFLOWS: dict[str, type[Dataflow]] = {
    cls.NAME: cls for cls in (DenseWS, DenseOS, DenseIS, Ptb, SpikeX, Event)
}

__all__ = ["DATAFLOWS", "Dataflow", "LayerPlan", "Move", "Tile", "make_dataflow"]


def make_dataflow(platform, workload) -> Dataflow:
    """The dataflow the platform names, built for ``workload``."""
    return DATAFLOWS[platform.dataflow.name](platform=platform, workload=workload)
