"""Export small recurrent NIR graphs from Spyx (JAX / Flax NNX) into
``tests/data/nir/spyx/``:

* ``rcubalif``: the Braille RSNN, Linear(12, 24) -> RCuBaLIF(24, all-to-all recurrent
  weights) -> Linear(24, 7) -> CuBaLIF(7);
* ``rlif``: Linear(12, 16) -> RLIF(16) -> Linear(16, 4) -> LIF(4).

Spyx 1.0.0 writes each recurrent layer as a nested NIRGraph ``layer_i`` with the
edges Input -> w_rec, w_rec -> neuron, neuron -> w_rec, neuron -> Output: its input
is wired *into* the recurrent weights, although Spyx computes
``x + s(t-1) @ W_rec`` (its own NIR import reads the cell back that way). tlmsim
reads this cell as Spyx computes it and says so in a note (tlmsim/snn/graph.py).
Spyx writes ``r = beta`` (not ``tau / dt``), so under NIR's LIF equation with
``dt = 1`` its inputs are scaled by ``(1 - beta) beta``; the weights are scaled up
here (x 20) so the graphs spike.

Spyx is not in a tlmsim extra (JAX, Flax, Optax and Orbax are large); the files were
written in an environment of their own::

    python -m venv /tmp/spyx && /tmp/spyx/bin/pip install spyx==1.0.0 nir==1.0.8
    /tmp/spyx/bin/python tools/nir_exports/spyx_export.py --out tests/data/nir/spyx
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nir
import numpy as np


def _nets():
    import spyx.nn as snn
    from flax import nnx

    rngs = nnx.Rngs(0)
    return {
        "rcubalif": (snn.Sequential(nnx.Linear(12, 24, rngs=rngs), snn.RCuBaLIF((24,), alpha=0.8, beta=0.9, rngs=rngs),
                                    nnx.Linear(24, 7, rngs=rngs), snn.CuBaLIF((7,), alpha=0.8, beta=0.9, rngs=rngs)),
                     12, 7),
        "rlif": (snn.Sequential(nnx.Linear(12, 16, rngs=rngs), snn.RLIF((16,), beta=0.9, rngs=rngs),
                                nnx.Linear(16, 4, rngs=rngs), snn.LIF((4,), beta=0.9, rngs=rngs)), 12, 4),
    }


def export_all(out: Path) -> list[Path]:
    import jax
    import spyx
    from flax import nnx
    from spyx.nir import to_nir

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (net, n_in, n_out) in _nets().items():
        for layer in net.layers:  # larger weights than the default init: the graphs spike (see above)
            if hasattr(layer, "kernel"):
                layer.kernel = nnx.Param(layer.kernel[...] * 20.0)
        g = to_nir(net, {"input": np.array([n_in])}, {"output": np.array([n_out])}, dt=1)
        path = out / f"{name}.nir"
        nir.write(str(path), g)
        written.append(path)
    (out / "VERSIONS.txt").write_text(
        f"spyx=={spyx.__version__}\njax=={jax.__version__}\nnir=={nir.__version__}\n"
        "made by tools/nir_exports/spyx_export.py (flax nnx.Rngs(0))\n")
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/data/nir/spyx")
    for p in export_all(Path(ap.parse_args().out)):
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
