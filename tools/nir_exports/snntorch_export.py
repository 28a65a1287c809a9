"""Export small NIR graphs from snnTorch (the ``nirexport`` extra), one per structure
tlmsim imports, into ``tests/data/nir/snntorch/``:

* ``rsynaptic``: the Braille RSNN, Linear(12, 24) -> RSynaptic(24, all-to-all
  recurrent Linear) -> Linear(24, 7) -> Synaptic(7) (CubaLIF nodes; the recurrent cell
  is exported as a nested graph that nirtorch flattens to ``r1.lif`` / ``r1.w_rec``);
* ``rleaky``: Linear(12, 16) -> RLeaky(16) -> Linear(16, 4) -> Leaky(4);
* ``conv_avgpool_leaky``: the tutorial order Conv2d -> AvgPool2d -> Leaky ->
  Flatten -> Linear -> Leaky;
* ``input_leaky``: a Leaky straight on the input, Leaky(16) -> Linear -> Leaky.

snnTorch 1.0.0 cannot export Conv1d (its exporter maps no such module). Its
exporter needs per-neuron parameters (beta, alpha, threshold as tensors of the
layer's shape: a scalar gives a 0-d node type that nir's type inference refuses) and
``ignore_dims=[0]`` for the batch axis of the sample. It writes ``dt = 1e-4`` into
the time constants (``tau = dt / (1 - beta)``, ``r = tau / dt``), which tlmsim's
import recovers (docs/reference_simulator.md).

    python tools/nir_exports/snntorch_export.py --out tests/data/nir/snntorch
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nir
import torch


def _nets():
    import snntorch as snn

    def full(shape, v):
        return torch.full(shape, v)

    class RSyn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(12, 24)
            self.r1 = snn.RSynaptic(alpha=full((24,), 0.8), beta=full((24,), 0.9), threshold=full((24,), 1.0),
                                    linear_features=24, init_hidden=True)
            self.fc2 = torch.nn.Linear(24, 7)
            self.l2 = snn.Synaptic(alpha=full((7,), 0.8), beta=full((7,), 0.9), threshold=full((7,), 1.0),
                                   init_hidden=True, output=True)

        def forward(self, x):
            return self.l2(self.fc2(self.r1(self.fc1(x))))

    class RLeak(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(12, 16)
            self.r1 = snn.RLeaky(beta=full((16,), 0.9), threshold=full((16,), 1.0), linear_features=16,
                                 init_hidden=True)
            self.fc2 = torch.nn.Linear(16, 4)
            self.l2 = snn.Leaky(beta=full((4,), 0.9), threshold=full((4,), 1.0), init_hidden=True, output=True)

        def forward(self, x):
            return self.l2(self.fc2(self.r1(self.fc1(x))))

    conv = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 3, padding=1), torch.nn.AvgPool2d(2),
        snn.Leaky(beta=full((6, 4, 4), 0.9), threshold=full((6, 4, 4), 0.5), init_hidden=True),
        torch.nn.Flatten(), torch.nn.Linear(96, 10),
        snn.Leaky(beta=full((10,), 0.9), threshold=full((10,), 1.0), init_hidden=True, output=True),
    )
    inp = torch.nn.Sequential(
        snn.Leaky(beta=full((16,), 0.8), threshold=full((16,), 0.5), init_hidden=True),
        torch.nn.Linear(16, 5),
        snn.Leaky(beta=full((5,), 0.9), threshold=full((5,), 1.0), init_hidden=True, output=True),
    )
    return {"rsynaptic": (RSyn(), (1, 12)), "rleaky": (RLeak(), (1, 12)),
            "conv_avgpool_leaky": (conv, (1, 1, 8, 8)), "input_leaky": (inp, (1, 16))}


def export_all(out: Path) -> list[Path]:
    import snntorch as snn
    from snntorch.export_nir import export_to_nir

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    written = []
    for name, (net, shape) in _nets().items():
        with torch.no_grad():
            for p in net.parameters():  # larger weights than PyTorch's default init: the graphs spike
                if p.dim() > 1:
                    p.mul_(3.0)
        g = export_to_nir(net, torch.zeros(shape), ignore_dims=[0])
        path = out / f"{name}.nir"
        nir.write(str(path), g)
        written.append(path)
    (out / "VERSIONS.txt").write_text(
        f"snntorch=={snn.__version__}\ntorch=={torch.__version__}\nnir=={nir.__version__}\n"
        "made by tools/nir_exports/snntorch_export.py (torch.manual_seed(0))\n")
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/data/nir/snntorch")
    for p in export_all(Path(ap.parse_args().out)):
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
