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

Candidates for the tiler: output channels outer or output pixels outer. The tiler ranks
them by their totals, worked out per output block (:meth:`DenseOS._totals`); only the
chosen order's tiles are made.
"""

from __future__ import annotations

from functools import partial

from tlmsim.dataflow.systolic import GemmCandidate, Step, StepTotals, SystolicDataflow
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div
from tlmsim.workload import Layer


class DenseOS(SystolicDataflow):
    NAME = "dense-os"

    def gemm_candidates(self, layer: Layer) -> list[GemmCandidate]:
        R, C = self.R, self.C
        K = layer.gemm[1]

        def footprint(kk: int) -> int:
            return bits_to_bytes(R * kk) + self.weight_bytes(layer, kk, C) + self.out_footprint(layer, R * C, 1)

        kk = self.chunk("reduction element", layer, K, footprint)
        tot = self._totals(layer, kk)  # the same tiles in either order
        return [GemmCandidate(f"{order}, k chunk={kk}", make=partial(self._steps, layer, kk, order), totals=tot)
                for order in ("m>n>k", "n>m>k")]

    def _totals(self, layer: Layer, kk: int) -> StepTotals:
        """:class:`StepTotals` of :meth:`_steps` in either order, without making the tiles:
        every timestep's tiles are the first one's, an output block's chunks follow from its
        pixels and channels (at most four kinds of block), and the first tile is the same in
        both orders."""
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        fm, fn, kch = ceil_div(M, R), ceil_div(N, C), ceil_div(K, kk)
        pipe = R + C - 2
        blocks: dict[tuple[int, int], tuple[int, int, int]] = {}  # a block's cycles, weight and spike bytes
        cycles = w_bytes = s_bytes = out = mem = 0
        for mi in range(fm):
            for n in range(fn):
                mr, nc = min(R, M - mi * R), min(C, N - n * C)
                bt = blocks.get((mr, nc))
                if bt is None:
                    cyc = wb = sb = 0
                    for kc in range(kch):
                        k0, k1 = kc * kk, min(K, (kc + 1) * kk)
                        cyc += (k1 - k0) + (pipe if kc == kch - 1 else 0)
                        wb += self.weight_bytes(layer, k1 - k0, nc)
                        sb += bits_to_bytes(mr * (k1 - k0))
                    bt = blocks[mr, nc] = (cyc, wb, sb)
                cycles += bt[0]
                w_bytes += bt[1]
                s_bytes += bt[2]
                out += bits_to_bytes(mr * nc)  # the block's last chunk stores its outputs
                mem += bits_to_bytes(mr * nc * self.mb)
        count = fm * fn * kch * T
        first = None
        if count:
            k1, mr, nc = min(K, kk), min(R, M), min(C, N)
            dense = mr * k1 * nc
            first = Step(0, 1, 0, nc, 0, mr, 0, k1, k1 + (pipe if kch == 1 else 0), self.weight_bytes(layer, k1, nc),
                         bits_to_bytes(mr * k1), dense, dense, 0, 0, kch == 1)
        # the membrane moves in before t > 0 and out after t < T - 1
        return StepTotals(cycles * T, {"weights": w_bytes * T, "inputs": s_bytes * T, "membrane": mem * 2 * (T - 1),
                                       "outputs": out * T}, first, count)

    def _steps(self, layer: Layer, kk: int, order: str) -> list[Step]:
        """The tiles of ``kk``-element reduction chunks, every timestep's R x C output blocks in
        ``order`` (``m>n>k``: output pixels outer)."""
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        fm, fn, kch = ceil_div(M, R), ceil_div(N, C), ceil_div(K, kk)
        pipe = R + C - 2
        outer = [(mi, n) for mi in range(fm) for n in range(fn)] if order == "m>n>k" else \
                [(mi, n) for n in range(fn) for mi in range(fm)]
        wsize: dict[tuple[int, int], int] = {}  # weight_bytes memoised (the same values)
        steps: list[Step] = []
        for t in range(T):
            for mi, n in outer:
                mr, nc = min(R, M - mi * R), min(C, N - n * C)
                for kc in range(kch):
                    k0, k1 = kc * kk, min(K, (kc + 1) * kk)
                    last = kc == kch - 1
                    dense = mr * (k1 - k0) * nc
                    wb = wsize.get((k1 - k0, nc))
                    if wb is None:
                        wb = wsize[k1 - k0, nc] = self.weight_bytes(layer, k1 - k0, nc)
                    steps.append(Step(t, t + 1, n * C, nc, mi * R, mr, k0, k1, (k1 - k0) + (pipe if last else 0),
                                      wb, bits_to_bytes(mr * (k1 - k0)), dense, dense, 0, 0, last))
        return steps

# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.dense_os":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
