"""Parameters of the dataflow (how layers are mapped onto the array)."""

from __future__ import annotations

from typing import Literal

from tlmsim.platform.params import Bytes, ParamModel, param

DATAFLOWS = ("dense-ws",)


class DataflowConfig(ParamModel):
    """Which dataflow maps the layers and how the controller moves their tiles."""

    name: Literal["dense-ws"] = param("dense-ws", desc="dataflow module; see docs/dataflows.md")
    time_window: int = param(1, desc="timesteps processed per tile (dense-ws: 1, one dense GEMM per timestep)", ge=1, le=10000)
    dma_chunk_bytes: Bytes = param(
        4096, desc="size of one DMA block: loads and stores are split into blocks that pipeline through DRAM, NoC and GLB",
        ge=64,
    )
    dma_outstanding: int = param(4, desc="DMA blocks in flight at once per stream", ge=1, le=256)
