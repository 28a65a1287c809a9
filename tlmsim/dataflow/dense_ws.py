"""``dense-ws``: the SNN run as T dense binary GEMMs on a weight-stationary array.

K on the array rows, N on the columns, the M im2col rows streamed (see
:mod:`tlmsim.dataflow.ws` for the cycle rule). No zero skipping: a silent input
costs what a spike costs, and spikes move as bitmaps. With ``time_window: 1``
(the default when unset) each timestep is its own GEMM; with
``pe_array.weight_double_buffer: false`` every fold then pays SCALE-Sim's
``2R + C + M - 2``, with it (the default) the next fold's weights load behind the
current stream and the skew is paid once per tile. A window ``W > 1`` keeps each
fold's weights in the array over ``W`` timesteps (streaming the W GEMMs back to
back); ``W = T`` is the weight reuse over time that spikex has, without skipping.

Membrane state crosses windows: written after window w, read back before w + 1
(from the GLB when it fits there, else from DRAM).
"""

from __future__ import annotations

from tlmsim.dataflow.ws import WsStreaming


class DenseWS(WsStreaming):
    """Weight-stationary dense dataflow, one GEMM per timestep (or window)."""

    NAME = "dense-ws"


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.dense_ws":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
