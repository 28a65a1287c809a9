"""A layer's weights seen as the array loads them: nonzero counts per block.

The GEMM weights of a layer are a ``K x N`` matrix (K reduction rows ordered
``(c, kh, kw)`` as im2col, N output channels). A dataflow loads them in blocks: a
fold's rows (contiguous, or the compacted active rows of ``spikex``) times a block
of columns. :class:`WeightBlocks` answers, from the workload's nonzero mask (the
real one of a NIR graph, a deterministic synthetic one for a workload YAML layer
with ``weight_sparsity``), how many nonzeros such a block holds: that sizes the
compressed format, and a block with none is a fold whose weights are really zero
(the zero-skipping dataflows skip it: no bytes, no cycles).
"""

from __future__ import annotations

import numpy as np


class WeightBlocks:
    """Nonzero counts of the blocks of one layer's ``K x N`` weights."""

    def __init__(self, mask: np.ndarray | None, K: int, N: int) -> None:
        if mask is not None and mask.shape != (K, N):
            raise ValueError(f"weight mask of shape {mask.shape}, expected {(K, N)}")
        self.mask = mask
        self.K, self.N = K, N
        self._rows: dict[tuple[int, int], np.ndarray] = {}

    @property
    def dense(self) -> bool:
        """True when every weight is nonzero."""
        return self.mask is None

    def total(self) -> int:
        return self.K * self.N if self.mask is None else int(np.count_nonzero(self.mask))

    def row_counts(self, n0: int, nc: int) -> np.ndarray:
        """int64 ``(K,)``: nonzeros of each row within columns ``[n0, n0 + nc)``."""
        key = (n0, nc)
        if key not in self._rows:
            if self.mask is None:
                self._rows[key] = np.full(self.K, nc, dtype=np.int64)
            else:
                self._rows[key] = self.mask[:, n0:n0 + nc].sum(axis=1, dtype=np.int64)
        return self._rows[key]

    def fold_counts(self, order: np.ndarray | None, starts: np.ndarray, n0: int, nc: int) -> np.ndarray:
        """int64 ``(folds,)``: nonzeros of each fold's block, fold f holding rows
        ``order[starts[f]:starts[f + 1]]`` (``order`` None: rows ``starts[f]`` to
        ``starts[f + 1]``) and columns ``[n0, n0 + nc)``."""
        nf = len(starts) - 1
        if nf == 0:
            return np.zeros(0, dtype=np.int64)
        if self.mask is None:
            return np.diff(starts).astype(np.int64) * nc
        rc = self.row_counts(n0, nc)
        if order is not None:
            rc = rc[order]
        cum = np.concatenate(([0], np.cumsum(rc)))
        return cum[starts[1:]] - cum[starts[:-1]]


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.weights":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
