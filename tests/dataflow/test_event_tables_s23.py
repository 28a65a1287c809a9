"""event's block tables against the straightforward formulas they replaced (session 23): the
busiest bank of a block whose channels are not all weighted is, per group of input channels,
the cached demand of every channel when all of the group's are weighted, 0 when none is, else
the weighted channels' own sum (session 35: every block of one width at once, the mixed groups
as one product of the 0/1 weights and the demand), and the weight bytes are computed once per
distinct (live channels, nonzeros). Checked on a hand-made mask with blocks of no, one, half,
most and all channels weightless, against the per-block masked sums and the per-entry loop of
session 22, with the busiest bank deciding most tiles."""

from dataclasses import replace

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.event import Event, bank_fanout
from tlmsim.dataflow.tiling import bits_to_bytes
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload


def test_live_peak_by_hand():
    # demand (T = 2, cin = 5, banks = 3); groups {0, 1}, {2}, {3, 4}
    d = np.arange(2 * 5 * 3).reshape(2, 5, 3)
    starts, sizes = np.array([0, 2, 3]), np.array([2, 1, 2])
    full = np.add.reduceat(d, starts, axis=1).max(axis=2)  # every channel's (d[t, c, b] = 15 t + 3 c + b): bank 2
    assert full.tolist() == [[2 + 5, 8, 11 + 14], [17 + 20, 23, 26 + 29]]
    wl = np.array([[True, True, True, True, True],  # every channel weighted: the cache
                   [False, True, False, True, False],  # channel 1 of {0, 1}, none of {2}, channel 3 of {3, 4}
                   [False, False, True, False, True]])  # none of {0, 1}, {2}, channel 4 of {3, 4}
    peak = Event._live_peak(d, full + 1000, wl, starts, sizes)  # (the cache raised: read only when all weighted)
    assert peak.dtype == np.int64
    assert peak[0].tolist() == (full + 1000).tolist()
    assert peak[1].tolist() == [[5, 0, 11], [20, 0, 26]]  # channel 1's and channel 3's busiest banks
    assert peak[2].tolist() == [[0, 1008, 14], [0, 1023, 29]]  # group {2} all weighted: the cache; channel 4


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
    after, for the groups whose channels are all weighted in the block: a cached entry (here one
    with every bank's demand raised by 100) decides the busiest bank of those groups only."""
    df, layer = event
    ctx = df._block_context(layer)
    first = df._block_tables(layer, ctx, 2, 2)
    grouped, peak = ctx["peak"][2, 2]
    ctx2 = df._block_context(layer)
    ctx2["demand"] = ctx["demand"]
    ctx2["peak"][2, 2] = (grouped + 100, peak + 100)
    raised = df._block_tables(layer, ctx2, 2, 2)
    blocks = df.weight_blocks(layer)
    cin, kpc = CIN, 9
    read = 0
    for b, (a, r) in enumerate(zip(first, raised)):
        wl = blocks.row_counts(2 * b, 2).reshape(cin, kpc).sum(axis=1) > 0
        whole = wl[0::2] & wl[1::2]  # groups {0, 1}, {2, 3}, {4, 5} all weighted
        live = a["cycles"] > 0
        assert np.array_equal(r["cycles"][:, whole & live.any(axis=0)] - a["cycles"][:, whole & live.any(axis=0)],
                              100 * live[:, whole & live.any(axis=0)])
        assert np.array_equal(r["cycles"][:, ~whole], a["cycles"][:, ~whole])  # the others do not read it
        read += int(live[:, whole].sum())
    assert read >= 6


@pytest.mark.parametrize("ob, cg", [(3, 2), (4, 4), (7, 3), (10, 6)])
def test_block_tables_of_a_partial_last_block(event, ob, cg):
    """Blocks of one width are worked out together (session 35): the full blocks, then the
    partial last one (10 channels in blocks of 3: 3, 3, 3, 1), each as the masked sums."""
    df, layer = event
    ctx = df._block_context(layer)
    tables = df._block_tables(layer, ctx, ob, cg)
    ref = _reference(df, layer, ctx, ob, cg)
    assert [t["nc"] for t in tables] == [nc for _, nc, *_ in ref] == [min(ob, NOUT - n0) for n0 in range(0, NOUT, ob)]
    l1_bw = df.platform.buffers.l1.banks * df.platform.buffers.l1.port_width_bytes
    for tab, (n0, nc, w_nnz, peak, n_ev, targets, w_bytes) in zip(tables, ref):
        busy = np.maximum(np.maximum(-(-n_ev // df.pe.event_dispatch_per_cycle), peak),
                          -(-(targets * bits_to_bytes(nc * df.wb)) // l1_bw))
        assert np.array_equal(tab["cycles"], np.where(n_ev > 0, df.fill_cycles(nc) + busy, 0)), n0
        assert np.array_equal(tab["w_bytes"], w_bytes), n0
        assert np.array_equal(tab["updates"], targets * nc), n0


def test_blocks_with_the_same_weights_share_a_table(tmp_path):
    """Dense weights (no mask): every full block has the same nonzeros per channel and shares one
    table; the partial last block has its own."""
    f = tmp_path / "w.yaml"
    f.write_text(f"name: e\ntimesteps: 2\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n{LAYER}")
    wl = load_workload(f, seed=0)
    df = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=event", "pe_array.rows=2", "pe_array.cols=4"]),
                       wl)
    layer = wl.layers[0]
    assert df.weight_blocks(layer).dense
    ctx = df._block_context(layer)
    tables = df._block_tables(layer, ctx, 3, 2)  # blocks of 3, 3, 3, 1
    assert tables[0] is tables[1] is tables[2] and tables[3] is not tables[0]
    assert [t["nc"] for t in tables] == [3, 3, 3, 1]
    ref = _reference(df, layer, ctx, 3, 2)
    for tab, (_, nc, w_nnz, peak, n_ev, targets, w_bytes) in zip(tables, ref):
        assert (w_nnz == 9 * nc).all()
        assert np.array_equal(tab["w_bytes"], w_bytes) and np.array_equal(tab["updates"], targets * nc)
