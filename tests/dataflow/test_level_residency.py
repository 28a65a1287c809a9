"""The tiler keeps tensors in the declared levels innermost first, and a run counts
the bytes of every move at every level it passes (hand-computed)."""

import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.platform import load_platform
from tlmsim.report import build_report
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload

# fc1: 1024 -> 256 (256 KiB of 8-bit weights), fc2: 256 -> 64 (16 KiB), T = 4
TWO_FC = """\
name: two-fc
timesteps: 4
weight_bits: 8
layers:
  - {name: fc1, op: linear, in_shape: [1024], out_features: 256, neuron: lif, firing_rate: 0.2}
  - {name: fc2, op: linear, in_shape: [256], out_features: 64, neuron: lif, firing_rate: 0.2}
"""
# GLB 128 KiB, staging 2 x 4 x 4 KiB = 32 KiB: 96 KiB free for tensors; L2 2 MiB
SMALL_GLB = ["buffers.levels.1.capacity_bytes=128KiB", "dataflow.dma_chunk_bytes=4KiB",
             "buffers.l1.capacity_bytes=16KiB"]


@pytest.fixture(scope="module")
def workload(tmp_path_factory):
    f = tmp_path_factory.mktemp("w") / "two-fc.yaml"
    f.write_text(TWO_FC)
    return load_workload(str(f))


@pytest.mark.parametrize("dataflow", ["dense-ws", "dense-os", "dense-is"])
def test_a_tensor_too_large_for_the_glb_stays_in_the_l2(workload, dataflow):
    p = load_platform("l2-glb", [*SMALL_GLB, f"dataflow.name={dataflow}"])
    fc1, fc2 = make_dataflow(p, workload).plan()
    # fc1's 262144 weight bytes exceed the GLB's 98304 free bytes: level 0 (L2); its inputs
    # (1024 x 4 bits = 512 B), membrane (256 x 16 bits = 512 B), outputs (256 x 4 bits = 128 B): GLB
    assert fc1.levels == {"weights": 0, "inputs": 1, "membrane": 1, "outputs": 1}
    assert fc1.resident_bytes == {0: 262144, 1: 1152}
    assert [(m.level, m.nbytes) for m in fc1.prologue] == [(0, 262144), (1, 512)]
    # fc2 (16 KiB of weights) fits the GLB; its inputs are fc1's outputs, in place
    assert fc2.levels == {"weights": 1, "inputs": 1, "membrane": 1, "outputs": 1}
    assert fc2.resident_bytes == {1: 16384 + 128 + 128 + 32}


def test_the_bytes_of_every_level_in_a_run(workload):
    p = load_platform("l2-glb", [*SMALL_GLB, "dataflow.name=dense-ws"])
    result = simulate(p, workload)
    comp = build_report(result).components.set_index("component")
    fc1, fc2 = make_dataflow(p, result.workload).plan()  # the run keeps summaries; the same plans again
    assert [x.ntiles for x in result.plans] == [len(fc1.tiles), len(fc2.tiles)]
    weights_from_l2 = sum(m.nbytes for t in fc1.tiles for m in t.loads if not m.in_dram and m.level == 0)
    assert weights_from_l2 >= 262144
    flows = result.recorder.flows
    dram_read = sum(n for (src, dst, _, _), n in flows.items() if src == "dram" and dst == "noc")
    dram_write = sum(n for (src, dst, _, _), n in flows.items() if dst == "dram" and src == "noc")
    # DRAM: fc1's weights and inputs, fc2's weights in; fc2's 64 x 4 output bits (32 B) out
    assert (dram_read, dram_write) == (262144 + 512 + 16384, 32)
    # L2: filled with fc1's weights; fc1's inputs and fc2's weights (inward) and fc2's outputs
    # (outward) pass its staging area: written, then read out
    assert comp.loc["l2", "write_bytes"] == 262144 + 512 + 16384 + 32
    assert comp.loc["l2", "read_bytes"] == weights_from_l2 + 512 + 16384 + 32
    # GLB: reads = its resident loads + every L2 weight block staged on its way to L1 + the 32 B epilogue;
    # writes = the same staged blocks + fc1's inputs and fc2's weights arriving + the tiles' stores kept there
    glb_loads = sum(m.nbytes for pl in (fc1, fc2) for t in pl.tiles for m in t.loads if not m.in_dram and m.level == 1)
    glb_stores = sum(m.nbytes for pl in (fc1, fc2) for t in pl.tiles for m in t.stores if not m.in_dram)
    assert comp.loc["glb", "read_bytes"] == glb_loads + weights_from_l2 + 32
    assert comp.loc["glb", "write_bytes"] == weights_from_l2 + 512 + 16384 + glb_stores


@pytest.mark.parametrize("platform", ["no-glb", "l2-glb"])
@pytest.mark.parametrize("dataflow", ["dense-ws", "dense-os", "dense-is", "ptb", "spikex", "event"])
def test_the_shipped_hierarchies_run_every_dataflow_on_the_digits_snn(platform, dataflow):
    p = load_platform(platform, [f"dataflow.name={dataflow}"])
    result = simulate(p, load_workload("digits-snn"))
    comp = build_report(result).components.set_index("component")
    levels = [lv.name for lv in p.buffers.sram_levels]
    assert list(comp.index[:len(levels) + 3]) == ["dram", "noc", *levels, "l1"]
    if not levels:  # nothing stays on chip: every plan streams from and to DRAM
        plans = make_dataflow(p, result.workload).plan()
        assert all(m.in_dram for pl in plans for t in pl.tiles for m in (*t.loads, *t.stores))
        assert not any(pl.prologue or pl.epilogue for pl in result.plans)
