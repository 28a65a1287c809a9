"""event's block tables against the straightforward formulas they replaced (session 23): the
busiest bank of a block whose channels are not all weighted is now the per-group demand of
every channel less the weightless channels' (when they are at most half), or the weighted
channels' own sum (when they are fewer), and the weight bytes are computed once per distinct
(live channels, nonzeros). Checked on a hand-made mask with blocks of no, one, half, most and
all channels weightless, against the per-block masked sums and the per-entry loop of session 22,
with the busiest bank deciding most tiles."""

from dataclasses import replace

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.event import _group_sums, bank_fanout
from tlmsim.dataflow.tiling import bits_to_bytes
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def test_group_sums_by_hand():
    a = np.arange(2 * 5 * 3).reshape(2, 5, 3)
    starts = np.array([0, 2, 3])  # groups {0, 1}, {2}, {3, 4}
    g, s = _group_sums(a, np.array([1, 3, 4]), starts)
    assert g.tolist() == [0, 2]
    assert s.tolist() == [[[3, 4, 5], [9 + 12, 10 + 13, 11 + 14]],
                          [[18, 19, 20], [24 + 27, 25 + 28, 26 + 29]]]
    g, s = _group_sums(a, np.array([0, 1, 2]), starts)
    assert g.tolist() == [0, 1] and s[:, 0].tolist() == [[3, 5, 7], [33, 35, 37]] and s[:, 1].tolist() == [[6, 7, 8],
                                                                                                           [21, 22, 23]]
    g, s = _group_sums(a, np.array([4]), starts)
    assert g.tolist() == [2] and s.tolist() == [[[12, 13, 14]], [[27, 28, 29]]]


CIN, H, NOUT = 6, 4, 10
LAYER = (f"  - {{name: c, op: conv2d, in_shape: [{CIN}, {H}, {H}], out_channels: {NOUT}, kernel: 3, padding: 1, "
         "neuron: if}\n")


def _mask() -> np.ndarray:
    """(K, N) = (6 x 9, 10): output channel pairs (blocks of 2) with 0, 1, 5, 6 and 3 of the 6
    input channels weightless; the weighted ones keep some of their 9 taps."""
    rng = np.random.default_rng(3)
    m = rng.random((CIN, 9, NOUT)) < 0.6
    m[:, 0, :] = True  # every channel weighted ...
    m[2, :, 2:4] = False  # ... but channel 2 in block 1
    m[[0, 1, 3, 4, 5], :, 4:6] = False  # all but channel 2 in block 2
    m[:, :, 6:8] = False  # none in block 3
    m[[1, 2, 4], :, 8:10] = False  # half of them in block 4
    return m.reshape(CIN * 9, NOUT)


@pytest.fixture(scope="module")
def event(tmp_path_factory):
    f = tmp_path_factory.mktemp("tab") / "w.yaml"
    f.write_text(f"name: e\ntimesteps: 3\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n{LAYER}")
    wl = load_workload(f, seed=0)
    wl = replace(wl, weight_masks={**wl.weight_masks, "c": _mask()})
    # dispatch and L1 fast enough that the busiest bank decides; weights compressed by the mask
    df = make_dataflow(load_platform("ddr4-baseline", [
        "dataflow.name=event", "pe_array.rows=2", "pe_array.cols=4", "pe_array.event_dispatch_per_cycle=64",
        "buffers.l1.banks=16", "buffers.l1.port_width_bytes=64", "dataflow.weight_compression=true"]), wl)
    return df, wl.layers[0]


def _reference(df, layer, ctx, ob, cg):
    """Session 22's formulas: the weightless channels masked out of (T, cin, banks) before the
    group sums; the weight bytes entry by entry."""
    R, C, T = df.R, df.C, df.workload.timesteps
    _, K, N = layer.gemm
    cin = df._channels(layer)[0]
    kpc = K // cin
    E, acc, ev = ctx["per_channel"], ctx["targets"], ctx["events"]
    starts = np.arange(0, cin, cg)
    blocks = df.weight_blocks(layer)
    out = []
    for n0 in range(0, N, ob):
        nc = min(ob, N - n0)
        w_nnz = blocks.row_counts(n0, nc).reshape(cin, kpc).sum(axis=1)
        fo = bank_fanout(layer, max(1, C // nc), R)
        demand = np.einsum("tcp,pb->tcb", ev.astype(np.int64), fo)
        keep = (w_nnz > 0).astype(np.int64)
        live = (E > 0) & (w_nnz > 0)
        peak = np.add.reduceat(demand * keep[:, None], starts, axis=1).max(axis=2)
        n_ev = np.add.reduceat(E * keep, starts, axis=1)
        nlive = np.add.reduceat(live, starts, axis=1, dtype=np.int64)
        nnz = np.add.reduceat(w_nnz * live, starts, axis=1)
        w_bytes = np.zeros((T, len(starts)), dtype=np.int64)
        for (t, g), nl in np.ndenumerate(nlive):
            if nl:
                w_bytes[t, g] = df.weight_bytes(layer, int(nl) * kpc, nc, int(nnz[t, g]))
        out.append((n0, nc, w_nnz, peak, n_ev, np.add.reduceat(acc * keep, starts, axis=1), w_bytes))
    return out


@pytest.mark.parametrize("cg", [1, 2, 4, 6])
def test_block_tables_match_the_masked_sums(event, cg):
    df, layer = event
    ob = 2
    ctx = df._block_context(layer)
    tables = df._block_tables(layer, ctx, ob, cg)
    ref = _reference(df, layer, ctx, ob, cg)
    dead = [int((w == 0).sum()) for _, _, w, *_ in ref]
    assert dead == [0, 1, 5, 6, 3]  # no, one, most, all and half the input channels weightless
    fill = df.fill_cycles(ob)
    decided = 0
    for tab, (n0, nc, w_nnz, peak, n_ev, targets, w_bytes) in zip(tables, ref):
        assert tab["nc"] == nc
        assert all(tab[k].dtype == np.int64 for k in ("cycles", "w_bytes", "s_bytes", "updates")), n0  # whole numbers
        assert np.array_equal(tab["w_bytes"], w_bytes), n0
        assert np.array_equal(tab["updates"], targets * nc), n0
        l1_bw = df.platform.buffers.l1.banks * df.platform.buffers.l1.port_width_bytes
        busy = np.maximum(np.maximum(-(-n_ev // df.pe.event_dispatch_per_cycle), peak),
                          -(-(targets * bits_to_bytes(nc * df.wb)) // l1_bw))
        assert df.psums_in_pes(layer.gemm[0], nc)
        assert np.array_equal(tab["cycles"], np.where(n_ev > 0, fill + busy, 0)), n0
        decided += int(((peak > 1) & (n_ev > 0)).sum())
    assert decided >= 6  # the busiest bank is more than one target in many tiles
    assert tables[3]["cycles"].sum() == 0 and tables[3]["w_bytes"].sum() == 0  # no weight: no work


def test_the_cached_demand_is_shared_by_the_blocks(event):
    df, layer = event
    ctx = df._block_context(layer)
    df._block_tables(layer, ctx, 2, 2)
    assert list(ctx["demand"]) == [2] and list(ctx["peak"]) == [(2, 2)]
    grouped, peak = ctx["peak"][2, 2]
    d = ctx["demand"][2]
    assert np.array_equal(grouped, d[:, 0::2] + d[:, 1::2]) and np.array_equal(peak, grouped.max(axis=2))
    df._block_tables(layer, ctx, 2, 2)  # again: the cache is read, not changed
    assert np.array_equal(ctx["peak"][2, 2][0], grouped)



def test_the_blocks_read_the_cached_group_demand(event):
    """The per-group demand is summed once per (block width, group size) and read by every block
    after: a cached entry (here one with every bank's demand raised by 100) decides the busiest bank."""
    df, layer = event
    ctx = df._block_context(layer)
    first = df._block_tables(layer, ctx, 2, 2)
    grouped, peak = ctx["peak"][2, 2]
    ctx2 = df._block_context(layer)
    ctx2["demand"] = ctx["demand"]
    ctx2["peak"][2, 2] = (grouped + 100, peak + 100)
    raised = df._block_tables(layer, ctx2, 2, 2)
    for a, b, dead in zip(first, raised, [0, 1, 5, 6, 3]):
        live = a["cycles"] > 0
        if dead == 6:
            assert not live.any() and not (b["cycles"] > 0).any()
        elif 2 * dead <= CIN:  # the cached sums less the weightless channels' (at most half): 100 more
            assert np.array_equal(b["cycles"][live], a["cycles"][live] + 100)
        else:  # the weighted channels' own sums (fewer): the cache is not read
            assert np.array_equal(b["cycles"], a["cycles"])
