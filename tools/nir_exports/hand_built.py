"""Hand-built NIR graphs, one per structure tlmsim imports (needs only the ``nir``
package, the project's own dependency):

* ``rsnn_braille``: the Braille RSNN of the NIR paper, Input(12) -> Affine(24) ->
  CubaLIF with a recurrent Affine(24x24) -> Affine(7) -> CubaLIF -> Output;
* ``rsnn_nested``: the same network with the recurrent cell as a nested NIRGraph
  (how Spyx and older snnTorch exports store it);
* ``conv1d``: Input(2, 32) -> Conv1d(2->4, k 3, stride 2, padding 1) -> LIF ->
  Flatten -> Affine(10) -> LIF -> Output (audio / keyword-spotting shape);
* ``conv_avgpool_lif``: snnTorch's tutorial order Conv2d -> AvgPool2d -> LIF (the
  neuron on the pooled map) -> Flatten -> Affine -> LIF;
* ``sumpool_if``: Conv2d -> SumPool2d -> IF with a non-zero ``v_reset``;
* ``input_lif``: a neuron straight on the input, Input(16) -> LIF -> Affine -> CubaLI
  (a current-based leaky-integrator readout);
* ``batch_axis``: Input type [1, 10] (a leading batch axis, as Norse writes it) ->
  Affine -> LIF -> Affine -> LI;
* ``residual``: conv -> IF -> conv, plus an identity shortcut, summed into one LIF.

Run from the repository root::

    python tools/nir_exports/hand_built.py --out tests/data/nir/hand
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nir
import numpy as np


def f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def lif(shape, tau=5.0, thr=1.0, v_reset=0.0) -> nir.LIF:
    # r = tau / dt with dt = 1: v <- (1 - 1/tau) v + I
    return nir.LIF(tau=f32(np.full(shape, tau)), r=f32(np.full(shape, tau)), v_leak=f32(np.zeros(shape)),
                   v_threshold=f32(np.full(shape, thr)), v_reset=f32(np.full(shape, v_reset)))


def cuba_lif(n, tau_syn=2.0, tau_mem=5.0, thr=1.0) -> nir.CubaLIF:
    return nir.CubaLIF(tau_syn=f32(np.full(n, tau_syn)), tau_mem=f32(np.full(n, tau_mem)), r=f32(np.full(n, tau_mem)),
                       v_leak=f32(np.zeros(n)), v_threshold=f32(np.full(n, thr)), w_in=f32(np.full(n, tau_syn)))


def affine(rng, n_out, n_in, gain=1.0) -> nir.Affine:
    return nir.Affine(weight=f32(rng.normal(0, gain / np.sqrt(n_in), (n_out, n_in))), bias=f32(rng.normal(0, 0.05, n_out)))


def io(shape_in, shape_out):
    return (nir.Input(input_type={"input": np.array(shape_in)}), nir.Output(output_type={"output": np.array(shape_out)}))


def chain(nodes: dict, extra_edges=()) -> nir.NIRGraph:
    names = list(nodes)
    return nir.NIRGraph(nodes=nodes, edges=[*zip(names, names[1:]), *extra_edges], type_check=False)


def rsnn_braille(rng) -> nir.NIRGraph:
    i, o = io([12], [7])
    return nir.NIRGraph(
        nodes={"input": i, "fc_in": affine(rng, 24, 12, 3.0), "lif1": cuba_lif(24), "w_rec": affine(rng, 24, 24, 1.5),
               "fc_out": affine(rng, 7, 24, 3.0), "lif2": cuba_lif(7), "output": o},
        edges=[("input", "fc_in"), ("fc_in", "lif1"), ("lif1", "w_rec"), ("w_rec", "lif1"), ("lif1", "fc_out"),
               ("fc_out", "lif2"), ("lif2", "output")], type_check=False)


def rsnn_nested(rng) -> nir.NIRGraph:
    cell = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([24])}), "lif": cuba_lif(24),
               "w_rec": nir.Linear(weight=f32(rng.normal(0, 1.5 / np.sqrt(24), (24, 24)))),
               "output": nir.Output(output_type={"output": np.array([24])})},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")], type_check=False)
    i, o = io([12], [7])
    return nir.NIRGraph(
        nodes={"input": i, "fc_in": affine(rng, 24, 12, 3.0), "rsnn": cell, "fc_out": affine(rng, 7, 24, 3.0),
               "lif2": cuba_lif(7), "output": o},
        edges=[("input", "fc_in"), ("fc_in", "rsnn"), ("rsnn", "fc_out"), ("fc_out", "lif2"), ("lif2", "output")],
        type_check=False)


def conv1d(rng) -> nir.NIRGraph:
    i, o = io([2, 32], [10])
    w = f32(rng.normal(0, 0.8, (4, 2, 3)))
    return chain({"input": i, "conv": nir.Conv1d(input_shape=32, weight=w, stride=2, padding=1, dilation=1, groups=1,
                                                 bias=f32(np.zeros(4))),
                  "lif1": lif((4, 16)), "flat": nir.Flatten(input_type={"input": np.array([4, 16])}, start_dim=0,
                                                             end_dim=-1),
                  "fc": affine(rng, 10, 64, 3.0), "lif2": lif(10), "output": o})


def conv_avgpool_lif(rng) -> nir.NIRGraph:
    i, o = io([1, 8, 8], [10])
    return chain({"input": i, "conv": nir.Conv2d(input_shape=(8, 8), weight=f32(rng.normal(0, 0.8, (6, 1, 3, 3))),
                                                 stride=1, padding=1, dilation=1, groups=1, bias=f32(np.zeros(6))),
                  "pool": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
                  "lif1": lif((6, 4, 4), thr=0.5),
                  "flat": nir.Flatten(input_type={"input": np.array([6, 4, 4])}, start_dim=0, end_dim=-1),
                  "fc": affine(rng, 10, 96, 3.0), "lif2": lif(10), "output": o})


def sumpool_if(rng) -> nir.NIRGraph:
    i, o = io([2, 8, 8], [4, 4, 4])
    shape = (4, 4, 4)
    return chain({"input": i, "conv": nir.Conv2d(input_shape=(8, 8), weight=f32(rng.normal(0, 0.6, (4, 2, 3, 3))),
                                                 stride=1, padding=1, dilation=1, groups=1, bias=f32(np.zeros(4))),
                  "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
                  "if1": nir.IF(r=f32(np.ones(shape)), v_threshold=f32(np.full(shape, 2.0)),
                                v_reset=f32(np.full(shape, -0.5))),
                  "output": o})


def input_lif(rng) -> nir.NIRGraph:
    i, o = io([16], [5])
    return chain({"input": i, "lif0": lif(16, tau=2.0, thr=0.5), "fc": affine(rng, 5, 16, 3.0),
                  "readout": nir.CubaLI(tau_syn=f32(np.full(5, 2.0)), tau_mem=f32(np.full(5, 5.0)),
                                        r=f32(np.full(5, 5.0)), v_leak=f32(np.zeros(5)), w_in=f32(np.full(5, 2.0))),
                  "output": o})


def batch_axis(rng) -> nir.NIRGraph:
    i, o = io([1, 10], [1, 3])
    return chain({"input": i, "fc1": affine(rng, 8, 10, 3.0), "lif1": lif((1, 8)), "fc2": affine(rng, 3, 8, 3.0),
                  "li": nir.LI(tau=f32(np.full((1, 3), 5.0)), r=f32(np.full((1, 3), 5.0)),
                               v_leak=f32(np.zeros((1, 3)))), "output": o})


def residual(rng) -> nir.NIRGraph:
    i, o = io([2, 6, 6], [2, 6, 6])

    def conv():
        return nir.Conv2d(input_shape=(6, 6), weight=f32(rng.normal(0, 0.6, (2, 2, 3, 3))), stride=1, padding=1,
                          dilation=1, groups=1, bias=f32(np.zeros(2)))

    return nir.NIRGraph(
        nodes={"input": i, "conv0": conv(), "if0": nir.IF(r=f32(np.ones((2, 6, 6))), v_threshold=f32(np.ones((2, 6, 6)))),
               "conv1": conv(), "if1": nir.IF(r=f32(np.ones((2, 6, 6))), v_threshold=f32(np.ones((2, 6, 6)))),
               "conv2": conv(), "lif": lif((2, 6, 6)), "output": o},
        edges=[("input", "conv0"), ("conv0", "if0"), ("if0", "conv1"), ("conv1", "if1"), ("if1", "conv2"),
               ("conv2", "lif"), ("if0", "lif"), ("lif", "output")], type_check=False)


GRAPHS = {"rsnn_braille": rsnn_braille, "rsnn_nested": rsnn_nested, "conv1d": conv1d,
          "conv_avgpool_lif": conv_avgpool_lif, "sumpool_if": sumpool_if, "input_lif": input_lif,
          "batch_axis": batch_axis, "residual": residual}


def build(name: str) -> nir.NIRGraph:
    """The graph ``name``, from a fixed seed (the same graph every run)."""
    return GRAPHS[name](np.random.default_rng(sorted(GRAPHS).index(name)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/data/nir/hand")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in GRAPHS:
        nir.write(str(out / f"{name}.nir"), build(name))
        print(f"wrote {out / name}.nir")
    (out / "VERSIONS.txt").write_text(f"nir=={nir.__version__}\nmade by tools/nir_exports/hand_built.py\n")


if __name__ == "__main__":
    main()
