"""Export small NIR graphs from Sinabs into ``tests/data/nir/sinabs/``:

* ``conv1d``: Conv1d(2, 4, 3, stride 2, padding 1) -> IAF -> Flatten -> Linear(64, 10)
  -> IAF (audio / keyword-spotting shape); every IAF an ``IAFSqueeze(batch_size=1)``;
* ``conv_sumpool_iaf``: Conv2d(1, 4, 3, padding 1) -> SumPool2d(2) -> IAF (the neuron
  on the pooled map) -> Flatten -> Linear(64, 10) -> IAF;
* ``input_iaf``: an IAF straight on the input -> Linear(16, 5) -> IAF.

Sinabs is not in the ``nirexport`` extra: sinabs 3.1.3 requires ``nir<=1.0.4`` (and
``samna``), while tlmsim pins ``nir==1.0.8``. These files were made in a separate
environment (``pip install torch==2.13.0 sinabs==3.1.3``, which brings nir 1.0.4);
nir 1.0.8 reads them. Sinabs writes IAF as an IF with ``r = 1`` (``v <- v + I``, dt = 1).

    python tools/nir_exports/sinabs_export.py --out tests/data/nir/sinabs
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nir
import torch


def _nets():
    import sinabs.layers as sl

    def iaf():  # the (batch x time)-squeezed IAF, as in Sinabs' conv examples; batch of 1
        return sl.IAFSqueeze(batch_size=1)

    return {
        "conv1d": (torch.nn.Sequential(torch.nn.Conv1d(2, 4, 3, stride=2, padding=1), iaf(), torch.nn.Flatten(),
                                       torch.nn.Linear(64, 10), iaf()), (1, 2, 32)),
        "conv_sumpool_iaf": (torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), sl.SumPool2d(2), iaf(),
                                                 torch.nn.Flatten(), torch.nn.Linear(64, 10), iaf()),
                             (1, 1, 8, 8)),
        "input_iaf": (torch.nn.Sequential(iaf(), torch.nn.Linear(16, 5), iaf()), (1, 16)),
    }


def export_all(out: Path) -> list[Path]:
    import sinabs
    from sinabs.nir import to_nir

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    written = []
    for name, (net, shape) in _nets().items():
        with torch.no_grad():
            for p in net.parameters():  # larger weights than PyTorch's default init: the graphs spike
                if p.dim() > 1:
                    p.mul_(3.0)
            net(torch.zeros(shape))  # Sinabs sizes its neuron states on a first forward pass
        g = to_nir(net, torch.zeros(shape))
        g.infer_types()  # Sinabs leaves its conv and pooling nodes untyped, which nir.write cannot store
        path = out / f"{name}.nir"
        nir.write(str(path), g)
        written.append(path)
    (out / "VERSIONS.txt").write_text(
        f"sinabs=={sinabs.__version__}\ntorch=={torch.__version__}\nnir=={nir.__version__}\n"
        "made by tools/nir_exports/sinabs_export.py (torch.manual_seed(0)), in an environment of its own: "
        "sinabs requires nir<=1.0.4\n")
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/data/nir/sinabs")
    for p in export_all(Path(ap.parse_args().out)):
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
