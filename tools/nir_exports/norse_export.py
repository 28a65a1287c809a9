"""Export small NIR graphs from Norse (the ``nirexport`` extra), one per structure
Norse can export, into ``tests/data/nir/norse/``:

* ``mlp_batch``: Linear(40, 16) -> LIFCell (a CubaLIF node) -> Linear(16, 4) ->
  LIBoxCell (LI); the Input type is [1, 40]: Norse writes the sample's batch axis;
* ``input_lif``: a LIFBoxCell (LIF) straight on the input -> Linear -> LIBoxCell;
* ``rsnn``: LIFRecurrentCell(12, 16) (input weights, CubaLIF, all-to-all recurrent
  weights with Norse's zeroed autapses) -> Linear(16, 4) -> LIFBoxCell(4). Norse's own
  ``to_nir`` maps no recurrent cell: it writes the cell as a ``None`` node, which
  ``nir.write`` cannot store. This graph is traced by nirtorch 2.6's
  ``torch_to_nir`` with a module map for the cell (:func:`recurrent_cell`: a nested
  graph Input -> Linear(input_weights) -> CubaLIF <-> Linear(recurrent_weights) ->
  Output, the parameters converted as Norse's ``to_nir`` converts a LIFCell) and
  Norse's own converter for the LIFBoxCell; nirtorch leaves the Output untyped with
  ``type_check=False`` (its type check cannot see into the nested cell), so the
  script types it.

A convolutional network does not export: Norse 1.1.0 writes its Conv2d nodes with
``input_shape=None`` and no type, which ``nir.write`` cannot store (nor can
nirtorch infer it, because of the batch axis).

Neuron parameters are given per neuron: with Norse's default 0-d parameters,
``nir.write`` fails (h5py cannot store a scalar dataset with the filters nir uses).

Norse 1.1.0's ``to_nir`` exports no recurrent cell (see ``rsnn``), no pooling, no Flatten and no Conv1d (its
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

    def rec(n_in, n):
        return norse.LIFRecurrentCell(n_in, n, p=norse.LIFParameters(
            tau_syn_inv=torch.full((n,), 200.0), tau_mem_inv=torch.full((n,), 100.0), v_leak=torch.zeros(n),
            v_th=torch.full((n,), 1.0), v_reset=torch.zeros(n)))

    class RSNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = rec(12, 16)
            self.fc = torch.nn.Linear(16, 4)
            self.out = lif_box((4,))

        def forward(self, x):
            z, _ = self.cell(x)
            y, _ = self.out(self.fc(z))
            return y

    return {
        "mlp_batch": (norse.SequentialState(torch.nn.Linear(40, 16), lif((16,)), torch.nn.Linear(16, 4),
                                            li_box((4,))), (1, 40)),
        "input_lif": (norse.SequentialState(lif_box((40,)), torch.nn.Linear(40, 4), li_box((4,))), (1, 40)),
        "rsnn": (RSNN(), (1, 12)),
    }


def recurrent_cell(cell, dt: float = 1e-3) -> nir.NIRGraph:
    """A Norse LIFRecurrentCell as a nested NIR graph, its neuron converted as Norse's
    ``to_nir`` converts a LIFCell (``tau = dt / tau_inv``, ``r = 1``)."""
    import numpy as np

    def a(t):
        return t.detach().numpy().astype(np.float32)

    n_out, n_in = cell.input_weights.shape
    p = cell.p
    neuron = nir.CubaLIF(tau_mem=a(dt / p.tau_mem_inv), tau_syn=a(dt / p.tau_syn_inv), v_threshold=a(p.v_th),
                         v_leak=a(p.v_leak), r=np.ones(n_out, dtype=np.float32))
    return nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([n_in])}), "w_in": nir.Linear(weight=a(cell.input_weights)),
               "lif": neuron, "w_rec": nir.Linear(weight=a(cell.recurrent_weights)),
               "output": nir.Output(output_type={"output": np.array([n_out])})},
        edges=[("input", "w_in"), ("w_in", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
        type_check=False)


def _export(name: str, net, shape) -> nir.NIRGraph:
    import numpy as np
    from norse.torch.utils.export_nir import to_nir

    if name != "rsnn":
        return to_nir(net, torch.zeros(shape))
    import nirtorch
    import norse.torch as norse
    from norse.torch.utils.export_nir import _extract_norse_module

    g = nirtorch.torch_to_nir(net, {norse.LIFRecurrentCell: recurrent_cell, norse.LIFBoxCell: _extract_norse_module},
                              type_check=False, stateful_modules={norse.LIFRecurrentCell, norse.LIFBoxCell})
    out = [k for k, v in g.nodes.items() if isinstance(v, nir.Output)]
    g.nodes[out[0]] = nir.Output(output_type={"output": np.array([net.fc.out_features])})
    return g


def export_all(out: Path) -> list[Path]:
    from importlib.metadata import version

    import norse

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    written = []
    for name, (net, shape) in _nets().items():
        with torch.no_grad():
            for p in net.parameters():  # larger weights than PyTorch's default init: the graphs spike
                if p.dim() > 1:
                    p.mul_(3.0)
        path = out / f"{name}.nir"
        nir.write(str(path), _export(name, net, shape))
        written.append(path)
    (out / "VERSIONS.txt").write_text(
        f"norse=={norse.__version__}\ntorch=={torch.__version__}\nnir=={nir.__version__}\n"
        f"nirtorch=={version('nirtorch')} (rsnn.nir: nirtorch.torch_to_nir)\n"
        "made by tools/nir_exports/norse_export.py (torch.manual_seed(0))\n")
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/data/nir/norse")
    for p in export_all(Path(ap.parse_args().out)):
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
