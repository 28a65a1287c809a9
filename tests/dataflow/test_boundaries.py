"""Cost rules at their boundaries, with hand-computed exact values: pooling cycles that
do not divide the array, neuron cycles one past the neuron units, partial K folds,
outputs that exactly fill (or overflow by one) the array, a silent input channel among
active ones (event), and the spike format each dataflow moves for every setting."""

from dataclasses import replace

import numpy as np
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.activity import Im2col, fanout_map, fold_sums, spike_bits
from tlmsim.dataflow.formats import SPIKE_FORMATS
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div
from tlmsim.platform import load_platform
from tlmsim.platform.dataflow import DATAFLOWS
from tlmsim.workload import load_workload

BIG_L1 = ["buffers.l1.capacity_bytes=8MiB", "buffers.glb.capacity_bytes=16MiB"]


def _workload(tmp_path, layers: str, T: int = 1, spikes: dict | None = None):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: b\ntimesteps: {T}\nweight_bits: 8\nlayers:\n{layers}")
    wl = load_workload(f, seed=0)
    if spikes is not None:
        wl = replace(wl, spikes={**wl.spikes, **spikes})
    return wl


def _plan(wl, dataflow, *overrides):
    platform = load_platform("ddr4-baseline", [f"dataflow.name={dataflow}", *BIG_L1, *overrides])
    return make_dataflow(platform, wl).plan()


@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_pooling_cycles_round_up_on_an_array_that_does_not_divide_them(tmp_path, dataflow):
    # avgpool 3 x 5 x 5, 2x2 stride 2 -> 3 x 2 x 2 outputs; ops = 3 x 4 x (2 x 2) = 48 per timestep;
    # a 5 x 7 array adds 35 per cycle: ceil(48 / 35) = 2 cycles (rounding down would give 1)
    wl = _workload(tmp_path, "  - {name: p, op: avgpool2d, in_shape: [3, 5, 5], kernel: 2, stride: 2}\n", T=3)
    (plan,) = _plan(wl, dataflow, "pe_array.rows=5", "pe_array.cols=7")
    assert [t.compute_cycles for t in plan.tiles] == [2, 2, 2]  # one tile per timestep (all channels fit)
    assert [t.dense_ops for t in plan.tiles] == [48, 48, 48]
    assert all(t.neuron_cycles == 0 and t.neuron_updates == 0 for t in plan.tiles)


def test_pooling_with_a_neuron_pays_its_updates_on_the_neuron_units(tmp_path):
    # maxpool 2 x 4 x 6, 2x2 stride 2 -> 2 x 2 x 3 = 12 outputs; ops 12 x 4 = 48 on 5 x 7: 2 cycles;
    # IF updates: 12 on 7 neuron units = ceil(12 / 7) = 2 rounds x 3 cycles (if_update_cycles) = 6
    wl = _workload(tmp_path, "  - {name: p, op: maxpool2d, in_shape: [2, 4, 6], kernel: 2, stride: 2, neuron: if}\n",
                   T=2)
    (plan,) = _plan(wl, "dense-ws", "pe_array.rows=5", "pe_array.cols=7", "pe_array.if_update_cycles=3")
    assert [(t.compute_cycles, t.neuron_cycles, t.neuron_updates) for t in plan.tiles] == [(8, 6, 12), (8, 6, 12)]
    # the membrane crosses the timestep: stored after t=0, loaded (after that store) at t=1
    t0, t1 = plan.tiles
    from tlmsim.engine.transaction import DataClass
    assert [m.signals for m in t0.stores if m.data_class == DataClass.MEMBRANE] == [(0, "membrane", 0, 0)]
    assert [m.after for m in t1.loads if m.data_class == DataClass.MEMBRANE] == [(0, "membrane", 0, 0)]
    assert not [m for m in t1.stores if m.data_class == DataClass.MEMBRANE]  # nothing after the last step


def test_neuron_cycles_one_past_the_neuron_units(tmp_path):
    wl = _workload(tmp_path, "  - {name: fc, op: linear, in_shape: [4], out_features: 8, neuron: cuba_lif}\n")
    platform = load_platform("ddr4-baseline", ["pe_array.cols=7", "pe_array.cuba_lif_update_cycles=5", *BIG_L1])
    df = make_dataflow(platform, wl)
    layer = wl.layers[0]
    assert df.neuron_cycles(layer, 7) == 5  # 7 updates on 7 units: one round x 5 cycles
    assert df.neuron_cycles(layer, 8) == 10  # one past: two rounds
    assert df.neuron_cycles(layer, 8, timesteps=3) == 30
    assert df.neuron_cycles(replace(layer, neuron="li"), 8) == 2 * platform.pe_array.lif_update_cycles
    assert df.neuron_cycles(replace(layer, neuron=None), 8) == 0


@pytest.mark.parametrize("K, folds", [(32, 1), (33, 2), (45, 2), (64, 2), (65, 3)])
def test_fold_counts_with_a_partial_last_fold(K, folds):
    from tlmsim.workload import Layer

    layer = Layer(index=0, name="fc", op="linear", in_shape=(K,), out_shape=(3,), kernel=(1, 1), stride=(1, 1),
                  padding=(0, 0), neuron="lif", weight_sparsity=0.0, firing_rate=0.5)
    x = np.zeros((2, K), dtype=bool)
    x[0, K - 1] = True  # the last input: in the partial fold
    x[1, :] = True
    counts = fold_sums(Im2col(layer, x).x, 32)  # spikes per (timestep, pixel, 32-row fold)
    assert counts.shape == (2, 1, folds)
    assert counts[0, 0].tolist() == [0] * (folds - 1) + [1]
    assert counts[1, 0].sum() == K and counts[1, 0, -1] == K - 32 * (folds - 1)


def test_fanout_map_with_stride_and_padding_by_hand():
    from tlmsim.workload import Layer

    # 1-D view per axis: input 5, kernel 3, stride 2, padding 1 -> outputs 3 at padded
    # offsets 0-2, 2-4, 4-6; padded counts 1,1,2,1,2,1,1 -> unpadded positions 0..4: 1,2,1,2,1
    layer = Layer(index=0, name="c", op="conv2d", in_shape=(1, 5, 4), out_shape=(1, 3, 2), kernel=(3, 3),
                  stride=(2, 2), padding=(1, 1), neuron="lif", weight_sparsity=0.0, firing_rate=0.5)
    # width 4, kernel 3, stride 2, padding 1: outputs (4 + 2 - 3) // 2 + 1 = 2 at padded 0-2, 2-4:
    # padded counts 1,1,2,1,1,0 -> positions 0..3: 1,2,1,1
    fm = fanout_map(layer)
    assert fm.tolist() == np.outer([1, 2, 1, 2, 1], [1, 2, 1, 1]).tolist()
    assert fm.sum() == 7 * 5  # 6 outputs x 9 window slots = 54, 19 of them on padding
    lin = replace(layer, op="linear", in_shape=(6,), out_shape=(2,))
    assert fanout_map(lin).tolist() == [1] * 6


def test_spike_sizes_at_partial_bytes_and_escape_runs():
    a = np.zeros((3, 5), dtype=bool)  # T=3, N=5: 15 positions
    a[0, 4] = a[2, 0] = True  # flat positions 4 and 10
    # bitmap: 15 bits (2 bytes); bits_for(n) holds 0 .. n-1: the count field (0 .. 15) bits_for(16) = 4
    assert spike_bits("bitmap", a) == 15 and bits_to_bytes(15) == 2
    # aer: 4 + 2 events x (bits_for(3) + bits_for(5)) = 4 + 2 x (2 + 3) = 14
    assert spike_bits("aer", a) == 14
    # csr: 4 + (3 + 1) row pointers x bits_for(3) + 2 x bits_for(5) = 4 + 4 x 2 + 2 x 3 = 18
    assert spike_bits("csr", a) == 18
    # rle (4-bit runs, escape 15): zero runs 4 and 5 -> 2 codes = 8 bits
    assert spike_bits("rle", a) == 8
    b = np.zeros((1, 40), dtype=bool)
    b[0, 39] = True  # a run of 39 zeros: two escapes (15 + 15) and a 9: 3 codes = 12 bits
    assert spike_bits("rle", b) == 12
    b[0, 39] = False
    b[0, 30] = True  # a run of exactly 30 = 2 x 15: two escapes and a 0: 3 codes
    assert spike_bits("rle", b) == 12
    assert spike_bits("rle", np.zeros((2, 2), dtype=bool)) == 0


@pytest.mark.parametrize("fmt", SPIKE_FORMATS)
@pytest.mark.parametrize("dataflow", ["ptb", "spikex"])
def test_ptb_and_spikex_move_the_spike_format_they_are_told(fmt, dataflow):
    wl = load_workload("digits-snn", seed=0)
    plans = make_dataflow(load_platform("edge-lpddr4", [f"dataflow.name={dataflow}",
                                                        f"dataflow.spike_format={fmt}"]), wl).plan()
    for p in plans:
        if p.layer.has_weights:
            assert set(p.spike_formats) == {fmt}, (p.layer.name, p.spike_formats)


@pytest.mark.parametrize("dataflow, expected", [("dense-ws", "bitmap"), ("dense-os", "bitmap"),
                                                ("dense-is", "bitmap"), ("event", "aer")])
def test_fixed_format_dataflows_ignore_the_setting(dataflow, expected):
    wl = load_workload("digits-snn", seed=0)
    for fmt in ("auto", "csr"):
        plans = make_dataflow(load_platform("edge-lpddr4", [f"dataflow.name={dataflow}",
                                                            f"dataflow.spike_format={fmt}"]), wl).plan()
        for p in plans:
            if p.layer.has_weights:
                assert set(p.spike_formats) == {expected}, (dataflow, fmt, p.layer.name, p.spike_formats)


def test_auto_spike_format_picks_the_smallest_per_tile():
    wl = load_workload("digits-snn", seed=0)
    sizes = {}
    for fmt in ("auto", *SPIKE_FORMATS):
        plans = make_dataflow(load_platform("edge-lpddr4", ["dataflow.name=ptb", f"dataflow.spike_format={fmt}"]),
                              wl).plan()
        sizes[fmt] = sum(m.nbytes for p in plans for t in p.tiles for m in t.loads if m.data_class.label == "spikes"
                         and p.layer.has_weights)
    assert sizes["auto"] <= min(sizes[f] for f in SPIKE_FORMATS)
    assert len({sizes[f] for f in SPIKE_FORMATS}) == len(SPIKE_FORMATS)  # the formats really differ here


def _event_conv(tmp_path, silent: bool):
    # conv 3 -> 4 channels, 4x4 input, 3x3 kernel, padding 1, one timestep; events at
    # channel 0 (1,1) (fan-out 9: an interior position) and channel 2 (0,0) (fan-out 4: a corner);
    # channel 1 is silent, or (silent=False) has one event at (0,1) (fan-out 6: an edge)
    x = np.zeros((1, 3, 4, 4), dtype=bool)
    x[0, 0, 1, 1] = x[0, 2, 0, 0] = True
    if not silent:
        x[0, 1, 0, 1] = True
    return _workload(tmp_path, "  - {name: c, op: conv2d, in_shape: [3, 4, 4], out_channels: 4, kernel: 3, "
                               "padding: 1, neuron: lif}\n", spikes={"c": x})


@pytest.mark.parametrize("N, tiles_per_t", [(32, 1), (33, 2)])
def test_dense_os_outputs_exactly_filling_the_array(tmp_path, N, tiles_per_t):
    # linear 16 -> N on a 32 x 32 array, output stationary: N = 32 outputs fill the columns
    # in one fold; N = 33 needs a second fold of one column
    wl = _workload(tmp_path, f"  - {{name: fc, op: linear, in_shape: [16], out_features: {N}, neuron: lif}}\n", T=1)
    (plan,) = _plan(wl, "dense-os", "pe_array.rows=32", "pe_array.cols=32")
    assert sum(t.neuron_updates for t in plan.tiles) == N
    assert sum(t.dense_ops for t in plan.tiles) == 16 * N
    # neuron updates: 32 on 32 units = 1 cycle; 33 = 2 cycles
    assert sum(t.neuron_cycles for t in plan.tiles) == ceil_div(N, 32)

