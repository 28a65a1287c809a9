"""spikex without skipping and the weight-stationary base's steps by hand, against the survivors of
the session-9 mutation runs s9spx (tlmsim/dataflow/spikex.py) and s9ws (tlmsim/dataflow/ws.py):
which dataflows rank their candidates by totals, spikex's steps without skipping in each loop order
and as totals, and the base's steps with activity read (each tile computed once per kind: a later
tile of the same kind, in another window, takes its values) keeping the one fold in the array."""

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.systolic import StepTotals
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload

# a 1 x 1 conv on 4 input channels x 1 x 4 pixels: M = 4 pixels, K = 4 rows (one fold of R = 4)
CONV = "{name: c1, op: conv2d, in_shape: [4, 1, 4], out_channels: %d, kernel: 1, neuron: lif}"
# R = 4 rows x C = 2 columns, an L1 of 72 bytes in halves of 36
ARRAY = ["pe_array.rows=4", "pe_array.cols=2", "buffers.l1.capacity_bytes=72", "buffers.l1.double_buffered=true"]


def _df(tmp_path, dataflow: str, out_channels: int, T: int, *sets):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: w\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n  - {CONV % out_channels}\n")
    wl = load_workload(f, seed=0)
    return make_dataflow(load_platform("ddr4-baseline", [f"dataflow.name={dataflow}", *ARRAY, *sets]), wl), wl.layers[0]


# -- which candidates are ranked by their totals alone ---------------------------------------------

@pytest.mark.parametrize("dataflow, sets, with_act, ranked", [
    ("spikex", ["dataflow.zero_skip=true"], True, True),  # skipping: totals summed per output block
    ("spikex", ["dataflow.zero_skip=true"], False, False),  # no activity: the base's rule (never for spikex)
    ("spikex", ["dataflow.zero_skip=false", "dataflow.spike_format=aer"], True, False),  # activity, no skipping
    ("spikex", ["dataflow.zero_skip=false", "dataflow.spike_format=bitmap"], False, False),
    ("dense-ws", [], False, True),  # plain folds, streams and bitmaps: memoised blocks
    ("dense-ws", [], True, False),  # spikes read: a candidate's totals would cost its steps
])
def test_ranked_by_totals_with_skipping_or_plain_streams_without_activity(tmp_path, dataflow, sets, with_act,
                                                                          ranked):
    df, layer = _df(tmp_path, dataflow, 2, 1, *sets)
    assert df._ranked_by_totals(df.activity(layer) if with_act else None) is ranked


# -- spikex without skipping: the base's steps, in the candidate's loop order -------------------------

def _spikex_plain(tmp_path):
    # zero_skip off and bitmap spikes: spikex reads no activity (act None) and takes the base's steps.
    # 4 output channels on C = 2 columns: 2 output blocks (n0 = 0, 2). A tile of m pixels x 1 fold: 4 x 2
    # 8-bit weights = 8 bytes, a bitmap of 4m bits plus the tag bound ceil(4 / 4) + 4 = 5 bits,
    # the outputs of 2m neurons at T = 1 (psums 2m x 16 bits, membrane in and out 2 x 2m x 16 bits,
    # spikes 2m bits): m = 2 -> 8 + 2 + (8 + 16 + 1) = 35 <= 36; m = 3 -> 8 + 3 + (12 + 24 + 1) = 48.
    # So chunks of 2 pixels (m0 = 0, 2), one fold per tile.
    return _df(tmp_path, "spikex", 4, 1, "dataflow.zero_skip=false", "dataflow.spike_format=bitmap")


def test_spikex_without_skipping_keeps_each_candidates_loop_order(tmp_path):
    # a tile: fill R = 4 + stream T x mm = 2 (one column group per block, p = 2 // 2 = 1: no packing)
    # + skew R + C - 2 = 4 = 10 cycles, 8 weight bytes, a bitmap of 1 x 2 x 4 bits = 1 byte.
    # n>m>k: the second pixel chunk of an output block finds its one fold in the array: 0 + 2 + 4 = 6
    # cycles, no weights; m>n>k alternates the output blocks, so every tile loads its fold.
    df, layer = _spikex_plain(tmp_path)
    cands = {c.label: c for c in df.gemm_candidates(layer)}
    assert list(cands) == ["n>m>k, m=2, folds/tile=1", "m>n>k, m=2, folds/tile=1"]
    assert [(s.n0, s.m0, s.cycles, s.w_bytes, s.s_bytes) for s in cands["n>m>k, m=2, folds/tile=1"].steps] == [
        (0, 0, 10, 8, 1), (0, 2, 6, 0, 1), (2, 0, 10, 8, 1), (2, 2, 6, 0, 1)]
    assert [(s.n0, s.m0, s.cycles, s.w_bytes, s.s_bytes) for s in cands["m>n>k, m=2, folds/tile=1"].steps] == [
        (0, 0, 10, 8, 1), (2, 0, 10, 8, 1), (0, 2, 10, 8, 1), (2, 2, 10, 8, 1)]


def test_spikex_without_skipping_gives_the_totals_of_its_steps_when_asked(tmp_path):
    # the n>m>k steps above summed: 10 + 6 + 10 + 6 = 32 cycles, 8 + 8 = 16 weight bytes, 4 x 1 spike
    # bytes, no membrane traffic (a tile covers all T = 1 timesteps), outputs 4 x ceil(2 x 2 x 1 / 8) = 4
    # bytes; the first step is the first tile's
    df, layer = _spikex_plain(tmp_path)
    chunks = [df._chunk_folds(layer, None, m0, 2) for m0 in (0, 2)]
    tot = df._steps(layer, None, chunks, 1, "n>m>k", {}, totals=True)
    assert isinstance(tot, StepTotals)
    steps = df._steps(layer, None, chunks, 1, "n>m>k", {})
    assert (tot.cycles, tot.moved, tot.count) == (32, {"weights": 16, "inputs": 4, "membrane": 0, "outputs": 4}, 4)
    assert tot.first == steps[0]
    assert (steps[0].n0, steps[0].m0, steps[0].cycles) == (0, 0, 10)


# -- the base's steps with activity read: each kind of tile computed once, the fold kept ---------------

@pytest.mark.parametrize("with_act", [False, True])
def test_dense_ws_steps_keep_the_one_fold_across_chunks_and_windows(tmp_path, with_act):
    # dense-ws at T = 2 with time_window 1 (its default): 2 windows; 2 output channels (one block on
    # C = 2); a tile of m pixels covers one timestep: 8 weight bytes, a bitmap of 4m bits (no tags), the
    # outputs of 2m neurons (2m x 2 + 2 x 2m x 2 + 2m / 8 bytes): m = 2 -> 8 + 1 + 25 = 34 <= 36, m = 3 ->
    # 8 + 2 + 37 = 47: chunks of 2 pixels (m0 = 0, 2), one fold per tile, n>m>k. The first tile loads the fold: 4 + stream 2 pixels x 1 timestep + skew 4 =
    # 10 cycles, 8 weight bytes and 4 x 2 = 8 PE weight loads; every later tile (the other chunk, then
    # both chunks of window 1) finds the fold in the array: 0 + 2 + 4 = 6 cycles, nothing loaded.
    # Spikes: bitmaps of 1 x 2 x 4 bits = 1 byte. With the activity passed (spike slices read), the
    # tiles of window 1 repeat window 0's second tile: the same values, and the array still holds the fold.
    df, layer = _df(tmp_path, "dense-ws", 2, 2)
    act = df.activity(layer) if with_act else None
    chunks = [df._chunk_folds(layer, act, m0, 2) for m0 in (0, 2)]
    steps = df._steps(layer, act, chunks, 1, "n>m>k", {})
    assert [(s.t0, s.t1, s.m0, s.k0, s.k1, s.cycles, s.w_bytes, s.pe_weight_loads, s.s_bytes, s.spike_format)
            for s in steps] == [
        (0, 1, 0, 0, 4, 10, 8, 8, 1, "bitmap"), (0, 1, 2, 0, 4, 6, 0, 0, 1, "bitmap"),
        (1, 2, 0, 0, 4, 6, 0, 0, 1, "bitmap"), (1, 2, 2, 0, 4, 6, 0, 0, 1, "bitmap")]
