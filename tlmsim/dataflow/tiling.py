"""Shared mapping helpers: DRAM layout of the tensors and GLB residency.

DRAM layout: every layer's weights, membrane state and every layer boundary's
spike tensor get their own region, in layer order, aligned to
:data:`REGION_ALIGN_BYTES`; a flatten layer aliases its input and output.

GLB residency: a tensor either lives in the GLB for the whole layer (loaded from
DRAM once in the prologue, or produced on chip) or streams through it per tile.
The planner keeps first the tensors that would otherwise cross the DRAM interface
most often (highest reuse), as long as they fit next to the staging space the
streams need.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlmsim.workload import Workload

#: DRAM regions start on this boundary (a DDR4 row is 8 KiB per rank)
REGION_ALIGN_BYTES = 4096


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def bits_to_bytes(bits: int) -> int:
    return -(-bits // 8)


@dataclass(frozen=True)
class DramLayout:
    """Base addresses of each layer's tensors in DRAM."""

    weights: tuple[int, ...]  #: layer index -> weights base
    membrane: tuple[int, ...]  #: layer index -> membrane base
    inputs: tuple[int, ...]  #: layer index -> its input spikes (its source's output, or its own external input)
    outputs: tuple[int, ...]  #: layer index -> its output spikes
    total_bytes: int


def layout_dram(workload: Workload, *, weight_bits: int, membrane_bits: int) -> DramLayout:
    """Allocate DRAM regions for all tensors of ``workload``: weights and membrane
    per layer (a recurrent layer's weights: its K x N feed-forward block, then its
    N x N recurrent block), every external input, every layer's output (a flatten
    layer's output aliases its input)."""
    cursor = 0

    def alloc(nbytes: int) -> int:
        nonlocal cursor
        base = cursor
        cursor += ceil_div(max(nbytes, 1), REGION_ALIGN_BYTES) * REGION_ALIGN_BYTES
        return base

    T = workload.timesteps
    weights, membrane = [], []
    for layer in workload.layers:
        _, _, n_rec = layer.recurrent_gemm
        count = layer.weight_count + n_rec * n_rec
        weights.append(alloc(bits_to_bytes(count * weight_bits)) if layer.has_weights else 0)
        membrane.append(alloc(bits_to_bytes(layer.out_neurons * membrane_bits)) if layer.has_weights else 0)
    inputs: list[int] = []
    outputs: list[int] = []
    for layer in workload.layers:
        src = outputs[layer.source] if layer.source >= 0 else alloc(bits_to_bytes(T * layer.in_neurons))
        inputs.append(src)
        outputs.append(src if layer.op == "flatten" else alloc(bits_to_bytes(T * layer.out_neurons)))
    return DramLayout(tuple(weights), tuple(membrane), tuple(inputs), tuple(outputs), cursor)


@dataclass(frozen=True)
class Candidate:
    """A tensor the planner may keep in the GLB."""

    name: str
    nbytes: int
    reuse: float  #: how many times it would cross the DRAM interface if not resident


def choose_resident(
    capacity_bytes: int, staging_bytes: int, candidates: list[Candidate], already: set[str] = frozenset()
) -> set[str]:
    """Greedy residency: tensors in ``already`` first (they are in the GLB), then by
    decreasing reuse (ties: smaller first), each kept if it still fits."""
    free = capacity_bytes - staging_bytes
    chosen: set[str] = set()
    for c in candidates:
        if c.name in already and c.nbytes <= free:
            chosen.add(c.name)
            free -= c.nbytes
    for c in sorted(candidates, key=lambda c: (-c.reuse, c.nbytes, c.name)):
        if c.name in chosen:
            continue
        if c.reuse > 1 or c.name == "outputs":
            if c.nbytes <= free:
                chosen.add(c.name)
                free -= c.nbytes
    return chosen


def largest_chunk(limit: int, total: int, footprint) -> int:
    """Largest m in [1, total] with footprint(m) <= limit (footprint increasing), or 0."""
    if footprint(1) > limit:
        return 0
    lo, hi = 1, total
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if footprint(mid) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def split_ladder(total: int, most: int) -> list[int]:
    """Chunk sizes the tiler tries for ``total`` items, at most ``most`` per chunk
    (``most >= 1``): the balanced splits ``ceil(total / q)`` for q = 1, 2, 4, ...
    (down to 1) that are at most ``most``, and the balanced split into the fewest
    chunks of at most ``most``, ``ceil(total / ceil(total / most))``; descending."""
    sizes = {ceil_div(total, ceil_div(total, most))}
    q = 1
    while True:
        c = ceil_div(total, q)
        if c <= most:
            sizes.add(c)
        if q >= total:
            break
        q *= 2
    return sorted(sizes, reverse=True)


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.dataflow.tiling":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
