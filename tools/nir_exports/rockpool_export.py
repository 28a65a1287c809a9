"""Export small NIR graphs from Rockpool (the ``nirexport`` extra) into
``tests/data/nir/rockpool/``:

* ``mlp``: LinearTorch(12, 24) -> LIFTorch(24) -> LinearTorch(24, 7) -> LIFTorch(7)
  (CubaLIF nodes; Input type [1, 12]: Rockpool writes a batch axis);
* ``readout``: LinearTorch(12, 24) -> LIFTorch(24) -> LinearTorch(24, 7) ->
  ExpSynTorch(7) (an LI readout).

Rockpool 3.1.0 cannot export the Braille RSNN: a ``LIFTorch(has_rec=True)`` is
exported as a CubaLIF *without* its recurrent weights (they are silently dropped),
so no recurrent graph is committed from it. The parameters are frozen
(``requires_grad_(False)``) before export: ExpSynTorch's ``tau`` is otherwise written
as a tensor that requires grad, which ``nir.write`` cannot store. Rockpool writes
``r = tau exp(-dt / tau) / dt``; tlmsim's import takes ``dt`` from ``tau / r``
(docs/reference_simulator.md).

    python tools/nir_exports/rockpool_export.py --out tests/data/nir/rockpool
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nir
import torch


def _nets():
    from rockpool.nn.combinators import Sequential
    from rockpool.nn.modules import ExpSynTorch, LIFTorch, LinearTorch

    return {
        "mlp": Sequential(LinearTorch((12, 24)), LIFTorch(24), LinearTorch((24, 7)), LIFTorch(7)),
        "readout": Sequential(LinearTorch((12, 24)), LIFTorch(24), LinearTorch((24, 7)), ExpSynTorch(7)),
    }


def export_all(out: Path) -> list[Path]:
    import rockpool
    from rockpool.nn.modules.torch.nir import to_nir

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    written = []
    for name, net in _nets().items():
        for p in torch.nn.Module.parameters(net):
            p.requires_grad_(False)
        path = out / f"{name}.nir"
        nir.write(str(path), to_nir(net))
        written.append(path)
    (out / "VERSIONS.txt").write_text(
        f"rockpool=={rockpool.__version__}\ntorch=={torch.__version__}\nnir=={nir.__version__}\n"
        "made by tools/nir_exports/rockpool_export.py (torch.manual_seed(0))\n")
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/data/nir/rockpool")
    for p in export_all(Path(ap.parse_args().out)):
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
