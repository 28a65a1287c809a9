"""Recurrent layers: the reduction K + N (the layer's own spikes of t - 1 after its
feed-forward inputs), one-timestep tiles, the recurrent block's DRAM space, and the
dependency of timestep t's tiles on every output tile of t - 1 (planned with
Move.after / signals, honoured by the controller). Costs by hand; --verify bit-exact
on the shipped recurrent model and the committed recurrent graphs."""

from pathlib import Path

import pandas as pd
import pytest

from tlmsim.cli import main
from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.tiling import layout_dram
from tlmsim.soc.run import simulate
from tlmsim.engine.transaction import DataClass
from tlmsim.platform import load_platform
from tlmsim.platform.dataflow import DATAFLOWS
from tlmsim.workload import load_workload

WL = """
name: rec
timesteps: 3
weight_bits: 8
firing_rate: 0.5
layers:
  - {name: r, op: linear, in_shape: [4], out_features: 8, neuron: lif, recurrent: true}
"""

SETS = ["pe_array.rows=8", "pe_array.cols=4", "pe_array.lif_update_cycles=1", "pe_array.weight_double_buffer=false"]


@pytest.fixture
def workload(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text(WL)
    return load_workload(p, seed=0)


def _plan(workload, dataflow, *sets):
    platform = load_platform("ddr4-baseline", SETS + [f"dataflow.name={dataflow}", *sets])
    return make_dataflow(platform, workload).plan()[0]


def test_the_recurrent_block_gets_dram_space(workload):
    lay = layout_dram(workload, weight_bits=8, membrane_bits=16)
    # weights 4 x 8 + 8 x 8 = 96 bytes -> one 4 KiB region; then the membrane's region
    assert lay.weights[0] == 0 and lay.membrane[0] == 4096


def test_dense_ws_tiles_one_timestep_over_k_plus_n(workload):
    p = _plan(workload, "dense-ws")
    # K + N = 12 rows: 2 folds (8 + 4) per block; N = 8 on C = 4 columns: 2 blocks per timestep; T = 3
    assert [t.region for t in p.tiles[:2]] == [("gemm", 0, 1, 0, 4, 0, 1, 0, 12, True),
                                               ("gemm", 0, 1, 4, 4, 0, 1, 0, 12, True)]
    assert [t.t_first for t in p.tiles] == [0, 0, 1, 1, 2, 2] and all(t.t_first == t.t_last for t in p.tiles)
    # SCALE-Sim WS fold 2R + C + M - 2 = 16 + 4 + 1 - 2 = 19, 2 folds = 38; 4 LIF updates on 4 units = 1
    assert {t.compute_cycles for t in p.tiles} == {39}
    # the block's weights: (8 + 4) rows x 4 columns x 8 bits = 48 bytes
    assert {t.loads[0].nbytes for t in p.tiles} == {48}


def test_timestep_t_waits_for_every_output_tile_of_t_minus_1(workload):
    p = _plan(workload, "dense-ws")
    # the tile's 12-bit spike slice (2 bytes): the 4 feed-forward bits (ceil(2 x 4 / 12) = 1 byte from
    # the inputs), the 8 recurrent bits (1 byte) read from the layer's own outputs of t - 1 in parts,
    # one per output tile of t - 1, each after that tile's store
    for tile in p.tiles:
        spikes = [m for m in tile.loads if m.data_class == DataClass.SPIKES]
        if tile.t_first == 0:  # nothing to read back: the recurrent inputs are zero
            assert [(m.nbytes, m.after) for m in spikes] == [(1, None)]
        else:
            t = tile.t_first
            assert [(m.nbytes, m.after) for m in spikes] == [
                (1, None), (0, (0, "spikes", t - 1, 0)), (1, (0, "spikes", t - 1, 4))]
        out = [m for m in tile.stores if m.data_class == DataClass.OUT_SPIKES]
        assert out[0].signals == ((0, "spikes", tile.t_first, tile.region[3]) if tile.t_first < 2 else None)


@pytest.mark.parametrize("dataflow", ["ptb", "spikex"])
def test_dataflows_spanning_timesteps_use_one_timestep_tiles(workload, dataflow):
    p = _plan(workload, dataflow, "dataflow.time_window=3")
    assert p.tiles and all(t.t_first == t.t_last for t in p.tiles)
    assert sorted({t.t_first for t in p.tiles}) == [0, 1, 2]
    assert p.tiling.startswith("per timestep")


@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_the_controller_starts_t_after_all_of_t_minus_1_is_stored(workload, dataflow, tmp_path):
    platform = load_platform("ddr4-baseline", SETS + [f"dataflow.name={dataflow}"])
    plan = make_dataflow(platform, workload).plan()[0]
    simulate(platform, workload, trace_path=tmp_path / "t.csv")
    tr = pd.read_csv(tmp_path / "t.csv")
    tr = tr[(tr.layer == 0) & (tr.tile >= 0)]
    for tile in plan.tiles:
        if tile.t_first == 0:
            continue
        producers = [x.index for x in plan.tiles if x.t_first == tile.t_first - 1 and x.stores]
        stored = tr[tr.tile.isin(producers) & (tr.data_class == "out_spikes")].end_ps.max()
        mine = tr[(tr.tile == tile.index) & tr.data_class.isin(["spikes", "weights", "membrane"])]
        assert len(mine) and mine.start_ps.min() >= stored, (tile.index, producers)


NIR = Path(__file__).resolve().parents[1] / "data" / "nir"
GRAPHS = sorted({p.relative_to(NIR).as_posix() for pat in ("*/rsnn*.nir", "*/*rleaky*.nir", "*/*rsynaptic*.nir")
                 for p in NIR.glob(pat)})


def test_the_committed_recurrent_graphs_are_found():
    assert {"hand/rsnn_braille.nir", "snntorch/rleaky.nir", "snntorch/rsynaptic.nir"} <= set(GRAPHS)


@pytest.mark.parametrize("dataflow", ["dense-ws", "spikex"])
@pytest.mark.parametrize("graph", GRAPHS)
def test_recurrent_graphs_verify_bit_exact(graph, dataflow, tmp_path, capsys):
    assert main(["run", str(NIR / graph), "--dataflow", dataflow, "--verify", "--out", str(tmp_path)]) == 0
    assert "bit-exact" in capsys.readouterr().out


@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_the_shipped_rsnn_verifies_on_a_small_array(dataflow, tmp_path, capsys):
    # 8 x 8: several output tiles per timestep, several reduction chunks; a 4-step window for ptb/dense-ws
    assert main(["run", "digits-rsnn", "--dataflow", dataflow, "--verify", "--out", str(tmp_path),
                 "--set", "pe_array.rows=8", "--set", "pe_array.cols=8", "--set", "dataflow.time_window=4"]) == 0
    assert "bit-exact" in capsys.readouterr().out


def test_a_recurrent_identity_layer_is_refused_in_one_line(tmp_path):
    from tlmsim.errors import MappingError

    p = tmp_path / "w.yaml"
    p.write_text(WL.replace("op: linear, in_shape: [4], out_features: 8", "op: identity, in_shape: [8]"))
    w = load_workload(p, seed=0)
    with pytest.raises(MappingError, match="layer 'r' is a recurrent identity layer .* the event dataflow schedules "
                                          "recurrent linear layers only"):
        make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=event"]), w).plan()
