"""The planner's shortcuts give the plans of the rules they shortcut (issue 11 item 8, issue 17).

* dense-ws: output blocks memoised, candidates ranked by per-block totals and only the
  chosen one's steps made: compared with the per-fold loop (a subclass whose stream rule
  is the same function under another name, which turns every shortcut off);
* spikex with skipping: steps and the totals candidates are ranked by, computed per output
  block on arrays (``SpikeX._steps``), m>n>k's totals taken from n>m>k's: compared with
  steps made by a slow reference written here from the rules of the spikex and ws module
  docstrings (per block, tile and fold in plain Python: its own compacted folds, stream
  packing, fills, tags and spike slices), for each candidate's order, pixels and folds;
* the synthetic weight mask by a threshold partition: compared with the full
  ``argpartition`` it replaces, ties at the boundary included.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import replace

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.activity import best_bits
from tlmsim.dataflow.dense_ws import DenseWS
from tlmsim.dataflow.systolic import GemmCandidate, Step, StepTotals
from tlmsim.dataflow.ws import WsStreaming
from tlmsim.platform import load_platform
from tlmsim.workload import _above_smallest, load_workload, synthetic_weight_mask

MIXED = """name: mixed
timesteps: 5
weight_bits: 8
firing_rate: 0.2
layers:
  - {name: c1, op: conv2d, in_shape: [3, 8, 8], out_channels: 6, kernel: 3, padding: 1, neuron: lif, weight_sparsity: 0.5}
  - {name: c2, op: conv2d, in_shape: [6, 8, 8], out_channels: 9, kernel: 3, padding: 1, neuron: lif, weight_sparsity: 0.97}
  - {name: fl, op: flatten, in_shape: [9, 8, 8]}
  - {name: fc, op: linear, in_shape: [576], out_features: 10, neuron: lif, weight_sparsity: 0.999}
"""
SILENT = """name: silent
timesteps: 3
weight_bits: 8
firing_rate: 0.0
layers:
  - {name: c1, op: conv2d, in_shape: [3, 6, 6], out_channels: 5, kernel: 3, padding: 1, neuron: lif}
  - {name: fl, op: flatten, in_shape: [5, 6, 6]}
  - {name: fc, op: linear, in_shape: [180], out_features: 7, neuron: lif, weight_sparsity: 0.9}
"""
# one fold per output block (K = 3 <= rows): consecutive tiles may find their fold in the array
ONE_FOLD = """name: onefold
timesteps: 3
weight_bits: 8
firing_rate: 0.3
layers:
  - {name: c1, op: conv2d, in_shape: [3, 6, 6], out_channels: 12, kernel: 1, neuron: lif}
  - {name: c2, op: conv2d, in_shape: [12, 6, 6], out_channels: 4, kernel: 3, padding: 1, neuron: lif, weight_sparsity: 0.6}
"""

SETS = [
    ("ddr4-baseline", ["pe_array.rows=4", "pe_array.cols=4"]),
    ("ddr4-baseline", ["pe_array.rows=4", "pe_array.cols=8", "buffers.l1.capacity_bytes=2048",
                       "dataflow.weight_compression=true"]),
    ("ddr4-baseline", ["pe_array.rows=8", "pe_array.cols=4", "buffers.l1.capacity_bytes=1024",
                       "pe_array.weight_double_buffer=false", "dataflow.time_window=2", "pe_array.tag_bits_per_cycle=3"]),
    ("mesh-4core", ["pe_array.rows=4", "pe_array.cols=4", "buffers.l1.capacity_bytes=2048"]),
    ("edge-lpddr4", ["pe_array.rows=4", "pe_array.cols=2", "buffers.l1.capacity_bytes=1536",
                     "dataflow.packing=time", "dataflow.spike_format=auto"]),
]


def _workload(tmp_path, text):
    f = tmp_path / "w.yaml"
    f.write_text(text)
    return load_workload(f, seed=0)


def _gemm_layers(wl):
    return [layer for layer in wl.layers if layer.op in ("conv2d", "linear")]


class _PerFoldDenseWS(DenseWS):
    """dense-ws with its stream rule under another name: no memo, no block memo, no totals."""

    def _fold_stream(self, cf, f, w0, w1, nc):
        return WsStreaming._fold_stream(self, cf, f, w0, w1, nc)


def _totals(steps: list[Step], df, layer) -> StepTotals:
    return StepTotals(sum(s.cycles for s in steps), df._traffic(layer, steps, {}), steps[0] if steps else None,
                      len(steps))


@pytest.mark.parametrize("text", [MIXED, SILENT, ONE_FOLD])
@pytest.mark.parametrize("platform, sets", SETS)
def test_dense_ws_blocks_and_totals_give_the_per_fold_steps_and_plan(tmp_path, text, platform, sets):
    wl = _workload(tmp_path, text)
    plat = load_platform(platform, ["dataflow.name=dense-ws", *sets])
    fast, slow = make_dataflow(plat, wl), _PerFoldDenseWS(platform=plat, workload=wl)
    for layer in _gemm_layers(wl):
        got, want = fast.gemm_candidates(layer), slow.gemm_candidates(layer)
        assert [c.label for c in got] == [c.label for c in want]
        assert all(c.totals is not None for c in got) and all(c.totals is None for c in want)
        for c, w in zip(got, want):
            totals = c.totals
            assert c.steps == w.steps  # made now, from the same rules
            assert totals == _totals(w.steps, slow, layer)
    assert [(p.tiling, p.tiles, p.resident, p.levels) for p in fast.plan()] == \
           [(p.tiling, p.tiles, p.resident, p.levels) for p in slow.plan()]


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _reference_stream(df, x: np.ndarray, rows: np.ndarray, nc: int) -> tuple[int, int]:
    """Stream cycles and weight copies of the compacted fold ``rows`` of a chunk's spikes
    ``x`` (T, pixels, K): an element (pixel, window) streams when it carries a spike, a
    window's length in cycles; with p = C // nc > 1 column groups, windows packed in time
    (W x ceil(active windows / min(p, windows)) per pixel) or pixels in space (window
    length x ceil(active pixels / min(p, pixels)) per window), the fewest cycles of the
    allowed modes (ties: unpacked, then time), a packed fold's weights in p copies."""
    T, mm, _ = x.shape
    W = df.window
    wins = [(t, min(T, t + W)) for t in range(0, T, W)]
    el = np.array([[x[a:b, px, rows].any() for px in range(mm)] for a, b in wins])  # (windows, pixels)
    best, copies = sum((b - a) * int(el[w].sum()) for w, (a, b) in enumerate(wins)), 1
    p = max(1, df.C // nc)
    if p > 1 and "time" in df.PACKING and len(wins) > 1:
        c = W * sum(_ceil(int(el[:, px].sum()), min(p, len(wins))) for px in range(mm))
        if c < best:
            best, copies = c, p
    if p > 1 and "space" in df.PACKING and mm > 1:
        c = sum((b - a) * _ceil(int(el[w].sum()), min(p, mm)) for w, (a, b) in enumerate(wins))
        if c < best:
            best, copies = c, p
    return best, copies


def _reference_spikex_steps(df, layer, x_all: np.ndarray, m: int, g: int, order: str) -> list[Step]:
    """spikex's steps with skipping for chunks of ``m`` pixels and ``g`` folds per tile in
    loop ``order``, one block, tile and fold at a time from the module docstrings' rules:
    a chunk's active rows (a spike at some pixel and timestep) packed into folds of R; a
    fold is live when it has a spike and a nonzero weight in the block's channels; live
    folds cut into tiles of g, a tile's rows from its first fold's first row (0 for the
    first tile) to the next tile's (K for the last); every fold fills (R) and moves its
    weights; the sequencer reads the group tags of the tile's R-row groups, the row tags
    of its active groups and one zero-detect per element of its folds, at
    ``tag_bits_per_cycle``; accumulates: spikes x channels; spikes in the smallest
    allowed format. A block without a live fold is one tile over all rows: its tags."""
    R, T = df.R, df.workload.timesteps
    M, K, N = layer.gemm
    nwin = _ceil(T, df.window)
    mask = df.workload.weight_mask(layer)  # (K, N) nonzero weights; None: all nonzero
    fmts = df.SPIKE_FORMATS
    ns, ms = range(0, N, df.C), range(0, M, m)
    blocks = [(n0, m0) for n0 in ns for m0 in ms] if order == "n>m>k" else [(n0, m0) for m0 in ms for n0 in ns]
    steps = []
    for n0, m0 in blocks:
        nc, mm = min(df.C, N - n0), min(m, M - m0)
        x = x_all[:, m0:m0 + mm]  # (T, pixels, K)
        active = np.flatnonzero(x.any(axis=(0, 1)))
        folds = [active[i:i + R] for i in range(0, len(active), R)]

        def nnz(rows):
            return len(rows) * nc if mask is None else int(mask[rows, n0:n0 + nc].sum())

        live = [f for f, rows in enumerate(folds) if x[:, :, rows].any() and nnz(rows) > 0]
        tiles = [live[i:i + g] for i in range(0, len(live), g)] or [[]]
        for j, tile in enumerate(tiles):
            last = j == len(tiles) - 1
            k0 = 0 if j == 0 else int(folds[tile[0]][0])
            k1 = K if last else int(folds[tiles[j + 1][0]][0])
            fills, streams, w_bytes, wloads, acc = [], [], 0, 0, 0
            for f in tile:
                rows = folds[f]
                s, copies = _reference_stream(df, x, rows, nc)
                fills.append(R)
                streams.append(s)
                w_bytes += df.weight_bytes(layer, len(rows), nc, nnz(rows))
                wloads += len(rows) * nc * copies
                acc += int(x[:, :, rows].sum()) * nc
            cycles = df.run_cycles(fills, streams)
            groups = range(k0 // R, _ceil(k1, R))
            moved = len(groups) + sum(min(R, K - q * R) for q in groups if x[:, :, q * R:(q + 1) * R].any())
            read = moved + mm * nwin * len(tile)
            if read:
                cycles = max(cycles, _ceil(read, df.pe.tag_bits_per_cycle))
            if tile:
                fmt, bits = best_bits(fmts, x[:, :, np.concatenate([folds[f] for f in tile])].reshape(T, -1))
            else:
                fmt, bits = fmts[0], 0
            steps.append(Step(0, T, n0, nc, m0, mm, k0, k1, cycles, w_bytes, _ceil(bits, 8) + _ceil(moved, 8),
                              mm * (k1 - k0) * nc * T, acc, wloads, read, last, fmt))
    return steps


@pytest.mark.parametrize("text", [MIXED, SILENT, ONE_FOLD])
@pytest.mark.parametrize("platform, sets", SETS)
def test_spikex_steps_and_totals_equal_a_slow_reference(tmp_path, text, platform, sets):
    wl = _workload(tmp_path, text)
    df = make_dataflow(load_platform(platform, ["dataflow.name=spikex", *sets]), wl)
    for layer in _gemm_layers(wl):
        x = df.activity(layer).x
        cands = df.gemm_candidates(layer)
        assert cands and all(c.totals is not None for c in cands)  # ranked without their steps
        for c in cands:
            order, m, g = re.fullmatch(r"(\S+), m=(\d+), folds/tile=(\d+)", c.label).groups()
            want = _reference_spikex_steps(df, layer, x, int(m), int(g), order)
            assert c.totals == _totals(want, df, layer)
            assert c.steps == want and repr(c.steps) == repr(want)  # Python ints (no floats, no NumPy scalars)


def test_the_reference_by_hand(tmp_path):
    # K = 6 inputs, R = 2 rows, C = 2 channels, 2 pixels, T = 2; inputs 0, 3 and 4 spike
    # (compacted folds {0, 3} and {4}); fold {4}'s weights are all zero: one live fold, one tile
    wl = _workload(tmp_path, "name: h\ntimesteps: 2\nweight_bits: 8\nlayers:\n"
                   "  - {name: fc, op: linear, in_shape: [6], out_features: 2, neuron: lif}\n")
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=spikex", "pe_array.rows=2", "pe_array.cols=2",
                                                       "dataflow.spike_format=bitmap",
                                                       "pe_array.tag_bits_per_cycle=1"]), wl)
    x = np.zeros((2, 1, 6), dtype=bool)
    x[0, 0, [0, 3]] = True
    x[1, 0, [0, 4]] = True
    wl.weight_masks["fc"] = np.ones((6, 2), dtype=bool)
    wl.weight_masks["fc"][4] = False
    (step,) = _reference_spikex_steps(df, wl.layers[0], x, 1, 2, "n>m>k")
    # stream: 2 windows of 1 timestep, 1 pixel active in both: 2 cycles; cycles: fill 2 + stream
    # 2 + skew (2 + 2 - 2 = 2) = 6; tags: 3 groups, active groups 0 ({0}), 1 ({3}), 2 ({4}): 3 + 6 = 9
    # moved (2 bytes), + 2 windows x 1 pixel x 1 fold read = 11: 11 cycles at 1 bit a cycle;
    # spikes: the bitmap of rows 0 and 3 over 2 timesteps = 4 bits (1 byte); accumulates 3 spikes x 2
    assert (step.k0, step.k1, step.cycles, step.w_bytes, step.s_bytes, step.dense_ops, step.acc_ops,
            step.pe_weight_loads, step.tag_bits, step.last_k, step.spike_format) == \
           (0, 6, 11, 4, 1 + 2, 1 * 6 * 2 * 2, 6, 4, 11, True, "bitmap")


def test_a_lazy_candidate_makes_its_steps_once_and_refuses_both_or_neither():
    made = []

    def make():
        made.append(1)
        return [Step(0, 1, 0, 1, 0, 1, 0, 1, 5, 0, 0, 0, 0)]

    c = GemmCandidate("x", make=make)
    assert c.steps is c.steps and len(made) == 1 and c.steps[0].cycles == 5
    with pytest.raises(ValueError):
        GemmCandidate("x")
    with pytest.raises(ValueError):
        GemmCandidate("x", [], make=make)


def _argpartition_mask(layer):
    """The mask as made before the threshold partition (full argpartition)."""
    _, k, n = layer.gemm
    zeros = round(k * n * layer.weight_sparsity)
    rng = np.random.default_rng([layer.index, zlib.crc32(layer.name.encode("utf-8"))])
    mask = np.ones(k * n, dtype=bool)
    mask[np.argpartition(rng.random(k * n), zeros - 1)[:zeros]] = False
    return mask.reshape(k, n)


@pytest.mark.parametrize("sparsity", [0.001, 0.3, 0.5, 0.9, 0.97, 0.999])
def test_synthetic_mask_is_the_argpartition_mask(tmp_path, sparsity):
    wl = _workload(tmp_path, MIXED)
    for layer in _gemm_layers(wl):
        layer = replace(layer, weight_sparsity=sparsity)
        got = synthetic_weight_mask(layer)
        if round(layer.weight_count * sparsity) == 0:
            assert got is None  # no zero weight
            continue
        assert got is not None and np.array_equal(got, _argpartition_mask(layer))
        assert got.size - np.count_nonzero(got) == round(got.size * sparsity)


@pytest.mark.parametrize("seed", range(40))
def test_above_smallest_is_the_argpartition_choice_or_none_on_a_tie(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 400))
    zeros = int(rng.integers(1, size + 1))
    r = rng.random(size)
    if seed % 3 == 0:
        r = np.round(r, 1)  # many ties
    got = _above_smallest(r, zeros)
    ref = np.ones(size, dtype=bool)
    ref[np.argpartition(r, zeros - 1)[:zeros]] = False
    v = np.sort(r)[zeros - 1]
    if np.count_nonzero(r <= v) == zeros:  # no tie at the boundary: one answer
        assert got is not None and np.array_equal(got, ref)
    else:
        assert got is None


def test_above_smallest_by_hand():
    r = np.array([0.5, 0.1, 0.9, 0.3, 0.7])
    assert _above_smallest(r, 2).tolist() == [True, False, True, False, True]  # 0.1 and 0.3 are zeros
    assert _above_smallest(r, 5).tolist() == [False] * 5
    assert _above_smallest(np.array([0.2, 0.4, 0.4, 0.8]), 2) is None  # 0.4 twice at the boundary
