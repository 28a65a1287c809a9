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

Candidates for the tiler (:func:`tile_shapes`): for each fold count per tile on a
ladder of balanced splits of the reduction (:func:`split_ladder`: ``ceil(fk / q)``,
q = 1, 2, 4, ...) and each channel chunk on the same ladder of the N channels (up
to the most that fit with those folds), as many pixel blocks as still fit an L1
half, balanced; a shape that needs at least as many reduction chunks, channel
chunks and pixel groups as another is left out. Each with output pixels outer
(``m>n>k``) or channels outer (``n>m>k``); the roofline estimate picks. With the
weight (here: input) double buffer a tile pays the fill and the skew once, so on a
small L1 more folds per tile, with fewer channels, can win. Before issue 17 the
channel chunk was always the largest one that fits one fold, so an 8 KiB L1 half
ran every 3 x 3 layer of ResNet19 one fold per tile.
"""

from __future__ import annotations

from functools import partial

from tlmsim.dataflow.systolic import GemmCandidate, Step, StepTotals, SystolicDataflow
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div, largest_chunk, split_ladder
from tlmsim.workload import Layer


def tile_shapes(limit: int, fk: int, N: int, fm: int, footprint) -> list[tuple[int, int, int]]:
    """The (channels, folds, pixel blocks) tile shapes the dense-is tiler tries for
    ``fk`` folds, ``N`` output channels and ``fm`` pixel blocks, ``footprint(nn, g,
    gm)`` increasing in each and at most ``limit``: for each fold count g of
    :func:`split_ladder` (up to the most folds that fit with one channel and one
    pixel block) and each channel chunk nn of its ladder (up to the most channels
    that fit with g folds and one block), the most pixel blocks gm that still fit,
    balanced (``ceil(fm / ceil(fm / gm))``). A shape is kept unless another needs no
    more reduction chunks, channel chunks and pixel groups (``ceil(fk / g)``,
    ``ceil(N / nn)``, ``ceil(fm / gm)``, one of them fewer): such a shape has no
    fewer tiles, moves no fewer input bytes (loaded once per channel chunk) nor
    weight bytes (once per pixel group) and streams no wider folds (only its first
    tile, which the estimate counts as exposed, may be smaller). In order of
    ascending g, then descending nn; empty when one channel of one fold does not fit."""
    gmax = largest_chunk(limit, fk, lambda g: footprint(1, g, 1))
    if gmax == 0:
        return []
    found: dict[tuple[int, int, int], tuple[int, int, int]] = {}
    for g in sorted(split_ladder(fk, gmax)):
        nmax = largest_chunk(limit, N, lambda nn: footprint(nn, g, 1))
        for nn in split_ladder(N, nmax):
            gm = largest_chunk(limit, fm, lambda gm: footprint(nn, g, gm))
            gm = ceil_div(fm, ceil_div(fm, gm))
            found.setdefault((ceil_div(fk, g), ceil_div(N, nn), ceil_div(fm, gm)), (nn, g, gm))
    keys = list(found)
    kept = [k for k in keys if not any(o != k and all(a <= b for a, b in zip(o, k)) for o in keys)]
    return [found[k] for k in kept]


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

        self.chunk("fold and output channel", layer, N, lambda nn: footprint(nn, 1))  # refuses a too-small L1
        cands = []
        for nn, g, gm in tile_shapes(self.l1_half, fk, N, fm, footprint):
            for order in ("m>n>k", "n>m>k"):
                cands.append(GemmCandidate(f"{order}, n chunk={nn}, folds/tile={g}, pixel blocks/tile={gm}",
                                           make=partial(self._steps, layer, nn, g, gm, order),
                                           totals=self._steps(layer, nn, g, gm, order, totals=True)))
        return cands

    def _steps(self, layer: Layer, nn: int, g: int, gm: int, order: str,
               totals: bool = False) -> list[Step] | StepTotals:
        """Tiles of ``gm`` pixel blocks x ``nn`` channels x ``g`` folds: every (block,
        fold) pair is one SCALE-Sim IS fold; the tile's weights are loaded into L1 once
        and streamed through the array for each of its pixel blocks. ``totals``: their
        :class:`StepTotals` instead, without making the steps (every timestep's tiles
        are the first one's, a block's tiles follow from its pixels, channels and
        whether the array holds its first fold's inputs)."""
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        fk, fm = ceil_div(K, R), ceil_div(M, C)
        nch, kgs, mgs = ceil_div(N, nn), ceil_div(fk, g), ceil_div(fm, gm)
        outer = [(mg, nci) for mg in range(mgs) for nci in range(nch)] if order == "m>n>k" else \
                [(mg, nci) for nci in range(nch) for mg in range(mgs)]
        skew = R + C - 2
        wsize: dict[tuple[int, int], int] = {}  # weight_bytes memoised (the same values)
        tiles: dict[tuple[int, int, int, bool], tuple[int, int]] = {}

        def tile(mm: int, kk: int, ncols: int, hit: bool) -> tuple[int, int]:
            """(cycles, input bytes) of a tile of ``mm`` pixels, ``kk`` reduction rows
            from a fold boundary and ``ncols`` channels; ``hit``: a single (block, fold)
            pair whose inputs the array holds (no fill, nothing loaded)."""
            key = (mm, kk, ncols, hit)
            v = tiles.get(key)
            if v is None:
                nb, nf = ceil_div(mm, C), ceil_div(kk, R)
                mc, kr = mm - (nb - 1) * C, kk - (nf - 1) * R  # the last block's pixels, the last fold's rows
                if nb * nf == 1:  # run_cycles of one fold, with or without double buffering
                    v = (ncols + skew, 0) if hit else (R + ncols + skew, bits_to_bytes(mc * kr))
                else:  # every pair loads its inputs: full blocks x full folds, then the partial ones
                    s_bytes = ((nb - 1) * (nf - 1) * bits_to_bytes(C * R) + (nb - 1) * bits_to_bytes(C * kr)
                               + (nf - 1) * bits_to_bytes(mc * R) + bits_to_bytes(mc * kr))
                    v = (self.run_cycles([R] * (nb * nf), [ncols] * (nb * nf)), s_bytes)
                tiles[key] = v
            return v

        def weights(kk: int, ncols: int) -> int:
            wb = wsize.get((kk, ncols))
            if wb is None:
                wb = wsize[kk, ncols] = self.weight_bytes(layer, kk, ncols)
            return wb

        steps: list[Step] = []
        tot = StepTotals(0, {"weights": 0, "inputs": 0, "membrane": 0, "outputs": 0}, None, 0)
        blocks: dict[tuple[int, int, bool], tuple[int, int, int]] = {}  # totals: a block's cycles, w and s bytes
        mem = out = 0
        held = None  # (t, pixel block, fold) whose inputs the array holds
        for t in range(1 if totals else T):
            for mg, nci in outer:
                if self.cores > 1:  # consecutive output blocks may run on different cores: each loads its own
                    held = None
                b0, b1 = mg * gm, min(fm, (mg + 1) * gm)  # pixel blocks of the tile
                m0, m1 = b0 * C, min(M, b1 * C)
                n0 = nci * nn
                ncols = min(nn, N - n0)
                mm = m1 - m0
                hit0 = held == (t, b0, 0)
                held = (t, b1 - 1, fk - 1)
                if totals:
                    if tot.first is None:
                        cycles, s_bytes = tile(mm, min(K, g * R), ncols, hit0)
                        kk = min(K, g * R)
                        tot.first = Step(t, t + 1, n0, ncols, m0, mm, 0, kk, cycles, weights(kk, ncols), s_bytes,
                                         mm * kk * ncols, mm * kk * ncols, 0, 0, kgs == 1)
                    bkey = (mm, ncols, hit0)
                    bt = blocks.get(bkey)
                    if bt is None:
                        cyc = wb = sb = 0
                        for kg in range(kgs):
                            k0, k1 = kg * g * R, min(K, (kg + 1) * g * R)
                            c, s = tile(mm, k1 - k0, ncols, hit0 and kg == 0)
                            cyc, wb, sb = cyc + c, wb + weights(k1 - k0, ncols), sb + s
                        bt = blocks[bkey] = (cyc, wb, sb)
                    tot.cycles += bt[0]
                    tot.moved["weights"] += bt[1]
                    tot.moved["inputs"] += bt[2]
                    out += bits_to_bytes(mm * ncols)
                    mem += bits_to_bytes(mm * ncols * self.mb)
                    continue
                for kg in range(kgs):
                    k0, k1 = kg * g * R, min(K, (kg + 1) * g * R)
                    cycles, s_bytes = tile(mm, k1 - k0, ncols, hit0 and kg == 0)
                    dense = mm * (k1 - k0) * ncols
                    steps.append(Step(t, t + 1, n0, ncols, m0, mm, k0, k1, cycles, weights(k1 - k0, ncols), s_bytes,
                                      dense, dense, 0, 0, kg == kgs - 1))
        if not totals:
            return steps
        # every timestep repeats the first one's tiles; the membrane moves in before t > 0 and out after t < T - 1
        tot.cycles *= T
        tot.moved["weights"] *= T
        tot.moved["inputs"] *= T
        tot.moved["outputs"] = out * T
        tot.moved["membrane"] = mem * 2 * (T - 1)
        tot.count = len(outer) * kgs * T
        return tot


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.dense_is":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
