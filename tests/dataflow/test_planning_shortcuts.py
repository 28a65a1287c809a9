"""The planner's shortcuts give the plans of the rules they shortcut (issue 11 item 8, issue 17).

* dense-ws: output blocks memoised, candidates ranked by per-block totals and only the
  chosen one's steps made: compared with the per-fold loop (a subclass whose stream rule
  is the same function under another name, which turns every shortcut off);
* spikex with skipping: steps computed per output block on arrays (``SpikeX._steps``) and
  the m>n>k candidate as a reordering of n>m>k's: compared with ``WsStreaming._steps``
  run for each candidate's order, pixels and folds;
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


@pytest.mark.parametrize("text", [MIXED, SILENT, ONE_FOLD])
@pytest.mark.parametrize("platform, sets", SETS)
def test_spikex_block_steps_equal_the_generic_loop(tmp_path, text, platform, sets):
    wl = _workload(tmp_path, text)
    df = make_dataflow(load_platform(platform, ["dataflow.name=spikex", *sets]), wl)
    for layer in _gemm_layers(wl):
        M = layer.gemm[0]
        act = df.activity(layer)
        cands = df.gemm_candidates(layer)
        assert cands
        for c in cands:
            order, m, g = re.fullmatch(r"(\S+), m=(\d+), folds/tile=(\d+)", c.label).groups()
            m, g = int(m), int(g)
            chunks = [df._chunk_folds(layer, act, m0, min(m, M - m0)) for m0 in range(0, M, m)]
            assert c.steps == WsStreaming._steps(df, layer, act, chunks, g, order, {})


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
