"""--verify's FunctionalModel by hand, against the survivors of its session-8 mutation run (tag
s8func): the refusal of a workload without a NIR graph as its exact line (file, key, words), and
check() naming the first output left behind and the first value that differs (C order), with counts."""

import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.errors import WorkloadError
from tlmsim.platform import load_platform
from tlmsim.verify.functional import FunctionalModel, VerificationError
from tlmsim.workload import load_workload


@pytest.fixture(scope="module")
def digits():
    return load_workload("digits-snn", seed=0)


def test_a_workload_without_a_graph_is_refused_in_one_line_naming_file_and_key(tmp_path):
    f = tmp_path / "w.yaml"
    f.write_text("name: plain\ntimesteps: 2\nweight_bits: 8\nfiring_rate: 0.5\nlayers:\n"
                 "  - {name: fc, op: linear, in_shape: [4], out_features: 2, neuron: lif}\n")
    wl = load_workload(f, seed=0)
    with pytest.raises(WorkloadError) as e:
        FunctionalModel(wl, membrane_bits=16, accumulator_bits=16)
    assert (e.value.file, e.value.key) == (str(f), "nir")
    assert str(e.value) == (f"{f}: nir: --verify needs a workload built from a NIR graph (its weights and neuron "
                            "parameters); 'plain' has none")


def _run(digits):
    model = FunctionalModel(digits, membrane_bits=16, accumulator_bits=16)
    plans = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws"]), digits).plan()
    for plan in plans:
        for tile in plan.tiles:
            model.execute(plan, tile)
    return model, plans


def test_check_names_the_first_output_a_missing_tile_left_behind(digits):
    plans = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws"]), digits).plan()
    fc1 = next(p for p in plans if p.layer.name == "fc1")
    last = fc1.tiles[-1]  # the last timestep of fc1's last output block
    _, t0, t1, n0, nc, m0, mm, _, _, _ = last.region
    assert (t0, t1, m0, mm) == (15, 16, 0, 1) and nc > 1  # several outputs left at 15 of 16 timesteps
    model = FunctionalModel(digits, membrane_bits=16, accumulator_bits=16)
    for plan in plans:
        for tile in plan.tiles:
            if tile is not last:
                model.execute(plan, tile)
    # the first of them in (output, pixel) order: output n0, pixel 0
    with pytest.raises(VerificationError) as e:
        model.check()
    assert str(e.value) == f"{digits.path}: layer 'fc1': output {n0}, pixel 0 was updated for 15 of 16 timesteps"


def test_check_names_the_first_differing_value_and_counts_them(digits):
    model, plans = _run(digits)
    last = plans[-1].layer  # the output layer: its image is read by no later layer
    img = model.images[last.index]  # (T, outputs) spikes, equal to the reference after a full run
    T, N = img.shape
    a, b = int(img[2, 7]), int(img[9, 1])
    img[9, 1] = 1 - b  # two spikes flipped: the first in (timestep, neuron) order is (2, 7)
    img[2, 7] = 1 - a
    with pytest.raises(VerificationError) as e:
        model.check()
    assert str(e.value) == (f"{digits.path}: layer '{last.name}': neuron (7,) at timestep 2 is {1 - a}, "
                            f"the fixed-point reference gives {a} (2 of {T * N} values differ)")


def test_the_quantizer_gets_the_workloads_dt_and_its_refusals_name_the_file(digits, monkeypatch):
    # a spy in place of fixed_point.quantize (imported by name into functional): the workload's own dt
    # reaches it (not quantize's default 1.0), and a WorkloadError it raises without a file names the workload's
    import dataclasses

    import tlmsim.verify.functional as functional

    seen = {}

    def spy(graph, layers, **kw):
        seen.update(kw)
        raise WorkloadError("--verify: the neuron after this layer is not in the graph", key="fc1")

    monkeypatch.setattr(functional, "quantize", spy)
    wl = dataclasses.replace(digits, dt=0.25)
    with pytest.raises(WorkloadError) as e:
        FunctionalModel(wl, membrane_bits=12, accumulator_bits=16)
    assert seen == {"weight_bits": wl.weight_bits, "membrane_bits": 12, "dt": 0.25}
    assert str(e.value) == f"{digits.path}: fc1: --verify: the neuron after this layer is not in the graph"


@pytest.mark.parametrize("first, second, where", [
    # outputs 2-7 of conv1 (all 64 pixels) at timestep 0, then outputs 2-9 at timestep 1: the first
    # output of the second tile not yet at timestep 1 is its 7th, output 2 + 6 = 8, pixel 0
    ((2, 6, 0, 64), (2, 8, 0, 64), "output 8, pixel 0"),
    # all 16 outputs, pixels 8-39 at timestep 0, then pixels 8-47 at timestep 1: output 0, pixel 8 + 32 = 40
    ((0, 16, 8, 32), (0, 16, 8, 40), "output 0, pixel 40"),
])
def test_a_tile_ahead_of_its_outputs_names_the_first_output_and_pixel_behind(digits, first, second, where):
    model = FunctionalModel(digits, membrane_bits=16, accumulator_bits=16)
    plans = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws"]), digits).plan()
    conv = plans[0]
    tile = conv.tiles[0]  # ('gemm', t0, t1, n0, nc, m0, mm, k0, k1, last): timestep 0, all of conv1's 16 x 64
    assert tile.region == ("gemm", 0, 1, 0, 16, 0, 64, 0, 9, True)
    model.execute(conv, tile.replace(region=("gemm", 0, 1, *first, 0, 9, True)))
    with pytest.raises(VerificationError) as e:
        model.execute(conv, tile.replace(index=1, region=("gemm", 1, 2, *second, 0, 9, True)))
    assert str(e.value) == (f"{digits.path}: layer 'conv1': tile 1 updates {where} at timestep 1, but its last "
                            "update was for timestep -1")


def test_a_layer_after_the_first_reads_its_sources_image_not_the_workloads_spikes(digits):
    # pool1's source is conv1 (layer 0): the model feeds it conv1's computed image, as the reference does;
    # the workload's recorded spikes for pool1 (here all zeros) are read only for a layer fed from outside
    import dataclasses

    import numpy as np

    wl = dataclasses.replace(digits, spikes={**digits.spikes, "pool1": np.zeros_like(digits.spikes["pool1"])})
    assert wl.layers[1].name == "pool1" and wl.layers[1].source == 0
    model = FunctionalModel(wl, membrane_bits=16, accumulator_bits=16)
    plans = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=dense-ws"]), wl).plan()
    for plan in plans:
        for tile in plan.tiles:
            model.execute(plan, tile)
    assert model.check().startswith(f"verify: all {len(wl.layers)} layers bit-exact")
