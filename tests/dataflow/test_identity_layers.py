"""Identity layers (a neuron fed straight from its input or a shortcut): planned by every
dataflow as a 1x1 pooling on the (N = out_shape[0], M = prod(out_shape[1:])) grid, no
weight traffic; costs computed by hand; the committed framework exports verify bit-exact."""

from pathlib import Path

import pytest

from tlmsim.cli import main
from tlmsim.dataflow import make_dataflow
from tlmsim.engine.transaction import DataClass
from tlmsim.platform import load_platform
from tlmsim.platform.dataflow import DATAFLOWS
from tlmsim.workload import load_workload

WL = """
name: ident
timesteps: 2
weight_bits: 8
layers:
  - {name: a, op: identity, in_shape: [20], neuron: lif}
  - {name: b, op: identity, in_shape: [4, 6], input: input, neuron: if}
  - {name: c, op: identity, in_shape: [4, 6], input: input, residual: b, neuron: lif}
"""


@pytest.fixture
def plans(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text(WL)
    platform = load_platform("ddr4-baseline", ["pe_array.rows=16", "pe_array.cols=8",
                                               "pe_array.lif_update_cycles=2", "pe_array.if_update_cycles=1"])
    return make_dataflow(platform, load_workload(p, seed=0)).plan()


def test_a_1d_identity_is_a_1x1_pooling_without_weights(plans):
    a = plans[0]
    # one tile per timestep (all 20 neurons fit an L1 half): 20 inputs on 16 x 8 adders = 1 cycle,
    # 20 LIF updates on 8 neuron units x 2 cycles = ceil(20 / 8) x 2 = 6 cycles
    assert [(t.t_first, t.compute_cycles, t.neuron_cycles, t.neuron_updates) for t in a.tiles] == [
        (0, 7, 6, 20), (1, 7, 6, 20)]
    assert a.tiles[0].region == ("identity", 0, 0, 20)
    assert all(m.data_class != DataClass.WEIGHTS for t in a.tiles for m in t.loads)
    # 20 spike bits in (3 bytes), 20 out (3 bytes); the membrane (20 x 16 bits = 40 bytes) crosses timesteps
    assert [m.nbytes for m in a.tiles[0].loads] == [3]
    assert [(m.data_class, m.nbytes) for m in a.tiles[0].stores] == [(DataClass.OUT_SPIKES, 3),
                                                                     (DataClass.MEMBRANE, 40)]
    assert a.tiles[1].loads[1].after == (0, "membrane", 0, 0)


def test_a_2d_identity_updates_its_channel_by_position_grid(plans):
    b = plans[1]
    # N = 4 channels x M = 6 positions: 24 inputs -> 1 adder cycle, 24 IF updates / 8 units = 3 cycles
    assert [(t.compute_cycles, t.neuron_updates, t.region) for t in b.tiles] == [
        (4, 24, ("identity", 0, 0, 4)), (4, 24, ("identity", 1, 0, 4))]


def test_an_identity_with_a_shortcut_loads_its_slice_and_adds_it(plans):
    c = plans[2]
    # as b, plus the shortcut: 24 spikes of b (3 bytes) from DRAM, added one row of 8 per cycle (3 cycles);
    # 24 LIF updates = 3 x 2 = 6 cycles; 1 adder cycle
    t0 = c.tiles[0]
    assert [(m.data_class, m.nbytes) for m in t0.loads] == [(DataClass.SPIKES, 3), (DataClass.SPIKES, 3)]
    assert (t0.compute_cycles, t0.neuron_cycles, t0.dense_ops) == (1 + 6 + 3, 9, 24 + 24)


NIR = Path(__file__).resolve().parents[1] / "data" / "nir"


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize("graph", sorted(p.relative_to(NIR).as_posix() for p in NIR.glob("*/input_*.nir")))
def test_input_to_neuron_graphs_verify_bit_exact(graph, dataflow, tmp_path, capsys):
    assert main(["run", str(NIR / graph), "--dataflow", dataflow, "--verify", "--out", str(tmp_path)]) == 0
    assert "bit-exact" in capsys.readouterr().out
