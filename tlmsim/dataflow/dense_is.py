"""``dense-is``: the SNN run as T dense binary GEMMs on an input-stationary array.

K on the R rows, M output pixels on the C columns: each PE keeps one input spike
(of the im2col matrix) while the N output channels' weights stream through.
SCALE-Sim's IS fold costs ``2R + C + N - 2`` cycles: R to load the inputs, the
pipeline, N streamed. A tile covers one timestep, C output pixels, a chunk of the
N channels and as many K folds as fit an L1 half; a fold whose inputs the array
already holds (K fits one fold and consecutive tiles share it) skips the R fill.
No zero skipping; spikes move as bitmaps; ``time_window`` does not apply.

Candidates for the tiler: one fold per tile with the largest channel chunk, or
as many folds as fit; each with output pixels outer or channels outer.
"""

from __future__ import annotations

from tlmsim.dataflow.systolic import GemmCandidate, Step, SystolicDataflow
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div, largest_chunk
from tlmsim.workload import Layer


class DenseIS(SystolicDataflow):
    NAME = "dense-is"

    def gemm_candidates(self, layer: Layer) -> list[GemmCandidate]:
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        fk, fm = ceil_div(K, R), ceil_div(M, C)

        def footprint(nn: int, g: int) -> int:
            return bits_to_bytes(g * R * C) + self.weight_bytes(layer, g * R, nn) + self.out_footprint(layer, C * nn, 1)

        n1 = self.chunk("fold and output channel", layer, N, lambda nn: footprint(nn, 1))
        g1 = largest_chunk(self.l1_half, fk, lambda g: footprint(n1, g))
        pipe = R + C - 2
        cands = []
        for nn, g in dict.fromkeys([(n1, 1), (n1, g1)]):
            nch, kgs = ceil_div(N, nn), ceil_div(fk, g)
            for order in ("m>n>k", "n>m>k"):
                outer = [(mi, nci) for mi in range(fm) for nci in range(nch)] if order == "m>n>k" else \
                        [(mi, nci) for nci in range(nch) for mi in range(fm)]
                steps = []
                held = None
                for t in range(T):
                    for mi, nci in outer:
                        mc, n0 = min(C, M - mi * C), nci * nn
                        ncols = min(nn, N - n0)
                        for kg in range(kgs):
                            f0, f1 = kg * g, min(fk, (kg + 1) * g)
                            k0, k1 = f0 * R, min(K, f1 * R)
                            cycles = 0
                            s_bytes = 0
                            for f in range(f0, f1):
                                kr = min(R, K - f * R)
                                if held != (t, mi, f) or f1 - f0 > 1:
                                    cycles += R
                                    s_bytes += bits_to_bytes(mc * kr)
                                held = (t, mi, f)
                                cycles += pipe + ncols
                            dense = mc * (k1 - k0) * ncols
                            steps.append(Step(
                                t0=t, t1=t + 1, n0=n0, nc=ncols, m0=mi * C, mm=mc, k0=k0, k1=k1, cycles=cycles,
                                w_bytes=self.weight_bytes(layer, k1 - k0, ncols), s_bytes=s_bytes,
                                dense_ops=dense, acc_ops=dense, last_k=kg == kgs - 1,
                            ))
                cands.append(GemmCandidate(f"{order}, n chunk={nn}, folds/tile={g}", steps))
        return cands
