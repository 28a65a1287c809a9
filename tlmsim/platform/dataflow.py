"""Parameters of the dataflow (how layers are mapped onto the array)."""

from __future__ import annotations

from typing import Literal

from tlmsim.platform.params import Bytes, ParamModel, param

DATAFLOWS = ("dense-ws", "dense-os", "dense-is", "ptb", "spikex", "event")
DataflowName = Literal["dense-ws", "dense-os", "dense-is", "ptb", "spikex", "event"]


class DataflowConfig(ParamModel):
    """Which dataflow maps the layers, its switches, and how the controller moves tiles."""

    name: DataflowName = param(
        "dense-ws", desc="dataflow module: dense-ws, dense-os, dense-is, ptb, spikex, event; see docs/dataflows.md"
    )
    time_window: int | None = param(
        None,
        desc="timesteps per window; none = the dataflow's default: dense-ws 1 (one dense GEMM per timestep, "
        "SCALE-Sim's case), ptb 2 (the smallest window > 1, so that every shipped workload, T = 4..16, still has "
        "at least two windows to run in parallel on the columns; Lee et al., HPCA 2022, trade window size against "
        "skipping), spikex 1 (activity tags per timestep); dense-ws keeps a fold's weights over a window, ptb maps "
        "the windows to column groups, spikex tags activity per window",
        ge=1, le=10000,
    )
    zero_skip: bool = param(
        True, desc="ptb/spikex/event skip work without spikes (off: they do every dense accumulate); "
        "the dense-* dataflows never skip",
    )
    weight_compression: bool = param(
        False, desc="move weights in the compressed sparse format when it is smaller than dense (static sparsity)"
    )
    packing: Literal["auto", "time", "space", "none"] = param(
        "auto", desc="spikex: fill idle columns with more time windows (time) or more output pixels "
        "reusing the filter (space); auto picks the faster per fold. ptb: any value but none packs "
        "(pixel) rows whose active windows do not overlap into one streamed slot",
    )
    spike_format: Literal["auto", "bitmap", "aer", "csr", "rle"] = param(
        "auto", desc="format of the spikes ptb/spikex move (auto: the smallest per tile); "
        "the dense-* dataflows move bitmaps, event moves AER",
    )
    dma_chunk_bytes: Bytes = param(
        4096, desc="size of one DMA block: loads and stores are split into blocks that pipeline through DRAM, NoC and GLB",
        ge=64,
    )
    dma_outstanding: int = param(4, desc="DMA blocks in flight at once per stream", ge=1, le=256)
