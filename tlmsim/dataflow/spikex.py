"""``spikex``: the SpikeX dataflow (arXiv 2505.12292), as modelled here.

* Multi-bit weights are the expensive operand, so they move least: a tile covers
  *all* timesteps, and each fold's weights are loaded into the array once per tile
  and reused over every timestep (``dense-ws`` reloads them every timestep).
* Work units are neuro-temporal: an output neuron over a window of
  ``time_window`` timesteps. When a fold is narrower than the array (``nc < C``),
  the idle column groups are packed in *time* (more windows of the same output
  neurons, the spike word of the other windows is broadcast along the row) or in
  *space* (more output pixels reusing the same conv filter); ``packing: auto``
  takes the faster per tile.
* Activity tags (one bit per pixel row, window and fold: "some spike here") let the
  array skip elements that carry no spike; accumulates happen only where a spike
  meets a weight (``zero_skip: false`` turns both off: every dense accumulate).
* Membrane potentials stay in the neuron units for the whole tile, so they never
  spill to the GLB or DRAM; the psums of the tile's timesteps stay on chip.
* Spikes move in the smallest format per tile (``spike_format: auto``).

Cycle rule: :mod:`tlmsim.dataflow.ws`.
"""

from __future__ import annotations

from tlmsim.dataflow.ws import WsStreaming


class SpikeX(WsStreaming):
    NAME = "spikex"
    TIME_INNER = True

    def __init__(self, *, platform, workload) -> None:
        super().__init__(platform=platform, workload=workload)
        self.ZERO_SKIP = self.df.zero_skip
        self.SPIKE_FORMATS = self.spike_formats_from_config()
        mode = self.df.packing
        self.PACKING = ("time", "space") if mode == "auto" else ((mode,) if mode != "none" else ("none",))
