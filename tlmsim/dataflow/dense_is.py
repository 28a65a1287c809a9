"""``dense-is``: the SNN run as T dense binary GEMMs on an input-stationary array.

K on the R rows, M output pixels on the C columns: each PE keeps one input spike
(of the im2col matrix) while the N output channels' weights stream through.
SCALE-Sim's IS fold costs ``2R + C + N - 2`` cycles: R to load the inputs, the
pipeline, N streamed; with ``pe_array.weight_double_buffer`` (the stationary operand
here is the inputs) the next fold's inputs shift in behind the current stream and
the skew is paid once per tile (:meth:`SystolicDataflow.run_cycles`). A tile covers one timestep, one or more blocks of C output
pixels, a chunk of the N channels and as many K folds as fit an L1 half; each
(pixel block, fold) pair is one SCALE-Sim fold, and the tile's weights are loaded
into L1 once and streamed through the array for each of its pixel blocks. A fold
whose inputs the array already holds (K fits one fold and consecutive tiles share
it) skips the R fill. No zero skipping; spikes move as bitmaps; ``time_window``
does not apply.

Candidates for the tiler: one fold per tile with the largest channel chunk; as
many folds as fit, then as many pixel blocks; or as many pixel blocks as fit, then
as many folds; each with output pixels outer or channels outer.
"""

from __future__ import annotations

from tlmsim.dataflow.systolic import GemmCandidate, Step, SystolicDataflow
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div, largest_chunk
from tlmsim.workload import Layer


class DenseIS(SystolicDataflow):
    NAME = "dense-is"

    def gemm_candidates(self, layer: Layer) -> list[GemmCandidate]:
        R, C = self.R, self.C
        M, K, N = layer.gemm
        fk, fm = ceil_div(K, R), ceil_div(M, C)

        def footprint(nn: int, g: int, gm: int = 1) -> int:
            # gm pixel blocks x g folds of stationary inputs, the weights they share, the outputs
            return (gm * bits_to_bytes(g * R * C) + self.weight_bytes(layer, g * R, nn)
                    + self.out_footprint(layer, gm * C * nn, 1))

        n1 = self.chunk("fold and output channel", layer, N, lambda nn: footprint(nn, 1))
        g1 = largest_chunk(self.l1_half, fk, lambda g: footprint(n1, g))
        gm1 = largest_chunk(self.l1_half, fm, lambda gm: footprint(n1, g1, gm))
        gm2 = largest_chunk(self.l1_half, fm, lambda gm: footprint(n1, 1, gm))  # pixel blocks first
        g2 = largest_chunk(self.l1_half, fk, lambda g: footprint(n1, g, gm2))
        cands = []
        for nn, g, gm in dict.fromkeys([(n1, 1, 1), (n1, g1, 1), (n1, g1, gm1), (n1, g2, gm2)]):
            for order in ("m>n>k", "n>m>k"):
                cands.append(GemmCandidate(f"{order}, n chunk={nn}, folds/tile={g}, pixel blocks/tile={gm}",
                                           self._steps(layer, nn, g, gm, order)))
        return cands

    def _steps(self, layer: Layer, nn: int, g: int, gm: int, order: str) -> list[Step]:
        """Tiles of ``gm`` pixel blocks x ``nn`` channels x ``g`` folds: every (block,
        fold) pair is one SCALE-Sim IS fold; the tile's weights are loaded into L1 once
        and streamed through the array for each of its pixel blocks."""
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        fk, fm = ceil_div(K, R), ceil_div(M, C)
        nch, kgs, mgs = ceil_div(N, nn), ceil_div(fk, g), ceil_div(fm, gm)
        outer = [(mg, nci) for mg in range(mgs) for nci in range(nch)] if order == "m>n>k" else \
                [(mg, nci) for nci in range(nch) for mg in range(mgs)]
        steps = []
        held = None  # (t, pixel block, fold) whose inputs the array holds
        skew = R + C - 2
        wsize: dict[tuple[int, int], int] = {}  # weight_bytes memoised (the same values)
        for t in range(T):
            for mg, nci in outer:
                if self.cores > 1:  # consecutive output blocks may run on different cores: each loads its own
                    held = None
                b0, b1 = mg * gm, min(fm, (mg + 1) * gm)  # pixel blocks of the tile
                m0, m1 = b0 * C, min(M, b1 * C)
                n0 = nci * nn
                ncols = min(nn, N - n0)
                for kg in range(kgs):
                    f0, f1 = kg * g, min(fk, (kg + 1) * g)
                    k0, k1 = f0 * R, min(K, f1 * R)
                    s_bytes = 0
                    fills: list[int] = []
                    multi = f1 - f0 > 1 or b1 - b0 > 1
                    for b in range(b0, b1):
                        mc = min(C, M - b * C)
                        for f in range(f0, f1):
                            kr = min(R, K - f * R)
                            if multi or held != (t, b, f):
                                fills.append(R)
                                s_bytes += -(-(mc * kr) // 8)
                            else:
                                fills.append(0)
                            held = (t, b, f)
                    if len(fills) == 1:  # run_cycles of one fold, with or without double buffering
                        cycles = fills[0] + ncols + skew
                    else:
                        cycles = self.run_cycles(fills, [ncols] * len(fills))
                    dense = (m1 - m0) * (k1 - k0) * ncols
                    wkey = (k1 - k0, ncols)
                    wb = wsize.get(wkey)
                    if wb is None:
                        wb = wsize[wkey] = self.weight_bytes(layer, k1 - k0, ncols)
                    steps.append(Step(t, t + 1, n0, ncols, m0, m1 - m0, k0, k1, cycles, wb, s_bytes, dense, dense,
                                      0, 0, kg == kgs - 1))
        return steps
