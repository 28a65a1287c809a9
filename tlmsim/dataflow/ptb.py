"""``ptb``: parallel time batching (Lee et al., "Parallel Time Batching: Systolic-Array
Acceleration of Sparse Spiking Neural Computation", HPCA 2022).

Weight-stationary like ``dense-ws``, but a fold's weights stay in the array for a
window of ``time_window`` timesteps, and a pixel row whose window carries no spike
among the fold's inputs is skipped (zero skipping on by default). Accumulates
happen only where a spike meets a weight. Spikes move in ``dataflow.spike_format``
(the smallest per tile by default). Membrane state crosses windows through the
GLB/DRAM as in ``dense-ws``. See :mod:`tlmsim.dataflow.ws` for the cycle rule.
"""

from __future__ import annotations

from tlmsim.dataflow.ws import WsStreaming


class Ptb(WsStreaming):
    NAME = "ptb"

    def __init__(self, *, platform, workload) -> None:
        super().__init__(platform=platform, workload=workload)
        self.ZERO_SKIP = self.df.zero_skip
        self.SPIKE_FORMATS = self.spike_formats_from_config()
