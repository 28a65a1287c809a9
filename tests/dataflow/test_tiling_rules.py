"""The tiler's shared helpers at their boundaries (tlmsim/dataflow/tiling.py), by hand:
GLB residency when a tensor fills the free space exactly, the chunk search when the
footprint equals the limit, and the DRAM layout of weightless and recurrent layers."""

import pytest

from tlmsim.dataflow.tiling import REGION_ALIGN_BYTES, Candidate, choose_resident, largest_chunk, layout_dram
from tlmsim.workload import load_workload


def test_residency_keeps_a_tensor_that_fills_the_free_space_exactly():
    # capacity 100 - staging 20 = 80 bytes free; the inputs (already in the GLB) take all 80
    cands = [Candidate("inputs", 80, 1.0), Candidate("weights", 1, 5.0)]
    assert choose_resident(100, 20, cands, {"inputs"}) == {"inputs"}
    # 81 bytes do not fit: the weights (reuse 5) take the space instead
    assert choose_resident(100, 20, [Candidate("inputs", 81, 1.0), Candidate("weights", 1, 5.0)],
                           {"inputs"}) == {"weights"}


def test_residency_by_decreasing_reuse_with_exact_fits():
    # free 80: inputs (already) 50 -> 30 left; weights (reuse 4) 30 fit exactly -> 0 left;
    # membrane (reuse 2, 30) and outputs (1 byte) no longer fit
    cands = [Candidate("inputs", 50, 1.0), Candidate("weights", 30, 4.0), Candidate("membrane", 30, 2.0),
             Candidate("outputs", 1, 1.0)]
    assert choose_resident(100, 20, cands, {"inputs"}) == {"inputs", "weights"}
    # without the inputs: weights (30) then membrane (30) -> 20 left, outputs (1) -> 19 left
    assert choose_resident(100, 20, cands) == {"weights", "membrane", "outputs"}
    # a tensor read once (reuse 1) is never worth a prologue load, unless it is the outputs
    assert choose_resident(100, 20, [Candidate("inputs", 1, 1.0)]) == set()
    # ties on reuse: the smaller first (membrane 30 and weights 60 do not both fit in 80)
    assert choose_resident(100, 20, [Candidate("weights", 60, 2.0), Candidate("membrane", 30, 2.0)]) == {"membrane"}


@pytest.mark.parametrize("limit, expected", [(9, 0), (10, 1), (29, 2), (30, 3), (31, 3), (70, 7), (1000, 7)])
def test_largest_chunk_when_the_footprint_equals_the_limit(limit, expected):
    assert largest_chunk(limit, 7, lambda m: 10 * m) == expected


def _workload(tmp_path, layers: str, T: int = 2):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: l\ntimesteps: {T}\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n{layers}")
    return load_workload(f, seed=0)


def test_dram_layout_of_a_weightless_layer_and_the_total(tmp_path):
    wl = _workload(tmp_path, "  - {name: c, op: conv2d, in_shape: [2, 4, 4], out_channels: 3, kernel: 3, "
                             "padding: 1, neuron: lif}\n"
                             "  - {name: p, op: maxpool2d, in_shape: [3, 4, 4], kernel: 2, stride: 2}\n")
    lay = layout_dram(wl, weight_bits=8, membrane_bits=16)
    A = REGION_ALIGN_BYTES
    # c: weights 3 x 2 x 9 = 54 bytes (1 region), membrane 48 x 2 = 96 bytes (1 region);
    # p has no weights: no region, base 0 for both
    assert lay.weights == (0, 0) and lay.membrane == (A, 0)
    # c's input (2 x 32 bits) at 2A, its output = p's input (2 x 48 bits) at 3A, p's output at 4A
    assert lay.inputs == (2 * A, 3 * A) and lay.outputs == (3 * A, 4 * A)
    assert lay.total_bytes == 5 * A


def test_dram_layout_counts_the_recurrent_block(tmp_path):
    # 64 -> 64 recurrent: 64 x 64 feed-forward + 64 x 64 recurrent weights = 8192 bytes: 2 regions
    wl = _workload(tmp_path, "  - {name: r, op: linear, in_shape: [64], out_features: 64, neuron: lif, "
                             "recurrent: true}\n")
    lay = layout_dram(wl, weight_bits=8, membrane_bits=16)
    assert lay.weights == (0,) and lay.membrane == (2 * REGION_ALIGN_BYTES,)
