"""``dense-os``: the SNN run as T dense binary GEMMs on an output-stationary array.

M output pixels on the R rows, N output channels on the C columns: each PE keeps
one output's partial sum while the K reduction streams through (spike rows from
the left, weights from the top). SCALE-Sim's OS fold costs ``K + R + C - 2``
cycles: K streamed, plus the pipeline fill and drain. A tile covers one timestep,
one R x C block of outputs and a chunk of K that fits an L1 half; the partial sums
stay in the PEs between a block's chunks, so the block pays the ``R + C - 2``
pipeline once (with its last chunk) and the chunks sum to SCALE-Sim's fold. No
zero skipping; spikes move as bitmaps; ``time_window`` does not apply (each
timestep's outputs are different partial sums).

Candidates for the tiler: output channels outer or output pixels outer.
"""

from __future__ import annotations

from tlmsim.dataflow.systolic import GemmCandidate, Step, SystolicDataflow
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div
from tlmsim.workload import Layer


class DenseOS(SystolicDataflow):
    NAME = "dense-os"

    def gemm_candidates(self, layer: Layer) -> list[GemmCandidate]:
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm

        def footprint(kk: int) -> int:
            return bits_to_bytes(R * kk) + self.weight_bytes(layer, kk, C) + self.out_footprint(layer, R * C, 1)

        kk = self.chunk("reduction element", layer, K, footprint)
        fm, fn, kch = ceil_div(M, R), ceil_div(N, C), ceil_div(K, kk)
        pipe = R + C - 2
        cands = []
        for order in ("m>n>k", "n>m>k"):
            outer = [(mi, n) for mi in range(fm) for n in range(fn)] if order == "m>n>k" else \
                    [(mi, n) for n in range(fn) for mi in range(fm)]
            steps = []
            for t in range(T):
                for mi, n in outer:
                    mr, nc = min(R, M - mi * R), min(C, N - n * C)
                    for kc in range(kch):
                        k0, k1 = kc * kk, min(K, (kc + 1) * kk)
                        last = kc == kch - 1
                        dense = mr * (k1 - k0) * nc
                        steps.append(Step(
                            t0=t, t1=t + 1, n0=n * C, nc=nc, m0=mi * R, mm=mr, k0=k0, k1=k1,
                            cycles=(k1 - k0) + (pipe if last else 0),
                            w_bytes=self.weight_bytes(layer, k1 - k0, nc), s_bytes=bits_to_bytes(mr * (k1 - k0)),
                            dense_ops=dense, acc_ops=dense, last_k=last,
                        ))
            cands.append(GemmCandidate(f"{order}, k chunk={kk}", steps))
        return cands


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.dense_os":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
