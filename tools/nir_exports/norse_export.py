"""Export small NIR graphs from Norse (the ``nirexport`` extra), one per structure
Norse can export, into ``tests/data/nir/norse/``:

* ``mlp_batch``: Linear(40, 16) -> LIFCell (a CubaLIF node) -> Linear(16, 4) ->
  LIBoxCell (LI); the Input type is [1, 40]: Norse writes the sample's batch axis;
* ``input_lif``: a LIFBoxCell (LIF) straight on the input -> Linear -> LIBoxCell.

A convolutional network does not export: Norse 1.1.0 writes its Conv2d nodes with
``input_shape=None`` and no type, which ``nir.write`` cannot store (nor can
nirtorch infer it, because of the batch axis).

Neuron parameters are given per neuron: with Norse's default 0-d parameters,
``nir.write`` fails (h5py cannot store a scalar dataset with the filters nir uses).

Norse 1.1.0 exports no recurrent cell, no pooling, no Flatten and no Conv1d (its
exporter maps LIFCell, LIFBoxCell, LIBoxCell, IAFCell, Linear and Conv2d only). It
writes ``tau = dt / tau_inv`` with ``dt = 1e-3`` and ``r = 1``; tlmsim's import then
takes the smallest time constant as dt (docs/reference_simulator.md).

    python tools/nir_exports/norse_export.py --out tests/data/nir/norse
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nir
import torch


def _nets():
    import norse.torch as norse

    def lif(shape):  # per-neuron parameters: nir.write cannot store Norse's default 0-d tensors
        return norse.LIFCell(norse.LIFParameters(
            tau_syn_inv=torch.full(shape, 200.0), tau_mem_inv=torch.full(shape, 100.0),
            v_leak=torch.zeros(shape), v_th=torch.full(shape, 1.0), v_reset=torch.zeros(shape)))

    def lif_box(shape):
        return norse.LIFBoxCell(norse.LIFBoxParameters(
            tau_mem_inv=torch.full(shape, 100.0), v_leak=torch.zeros(shape), v_th=torch.full(shape, 1.0),
            v_reset=torch.zeros(shape)))

    def li_box(shape):
        return norse.LIBoxCell(norse.LIBoxParameters(tau_mem_inv=torch.full(shape, 100.0), v_leak=torch.zeros(shape)))

    return {
        "mlp_batch": (norse.SequentialState(torch.nn.Linear(40, 16), lif((16,)), torch.nn.Linear(16, 4),
                                            li_box((4,))), (1, 40)),
        "input_lif": (norse.SequentialState(lif_box((40,)), torch.nn.Linear(40, 4), li_box((4,))), (1, 40)),
    }


def export_all(out: Path) -> list[Path]:
    import norse
    from norse.torch.utils.export_nir import to_nir

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    written = []
    for name, (net, shape) in _nets().items():
        with torch.no_grad():
            for p in net.parameters():  # larger weights than PyTorch's default init: the graphs spike
                if p.dim() > 1:
                    p.mul_(3.0)
        path = out / f"{name}.nir"
        nir.write(str(path), to_nir(net, torch.zeros(shape)))
        written.append(path)
    (out / "VERSIONS.txt").write_text(
        f"norse=={norse.__version__}\ntorch=={torch.__version__}\nnir=={nir.__version__}\n"
        "made by tools/nir_exports/norse_export.py (torch.manual_seed(0))\n")
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/data/nir/norse")
    for p in export_all(Path(ap.parse_args().out)):
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
