"""Train the shipped recurrent SNN (digits read row by row) and export it as NIR.

A small recurrent SNN on scikit-learn's bundled 8x8 handwritten digits (1,797
images, no download), read one pixel row per timestep (T = 8):

    Input (24) --each row, thermometer-coded: pixel >= 3/16, 8/16, 13/16-->
    Affine 24->64 -> LIF <-> recurrent Affine 64->64 -> Affine 64->10 -> LI -> Output

The class is the argmax of the LI readout's membrane summed over the 8 timesteps
(``tlmsim.snn.refsim.predict``). The recurrence is what lets the network combine the
rows: a feed-forward network sees one row at a time.

Neurons use exactly the discretisation of tlmsim's reference simulator
(docs/reference_simulator.md) with dt = 1 and ``r = tau`` (NIR's LIF/LI):
``v <- beta v + I`` with ``beta = 1 - 1/tau``, a spike when ``v >= 1``, then
``v <- 0``; the recurrent Affine reads the previous timestep's spikes (all zero
before the first, so it gives its bias at t = 0, as the reference does). Training
uses a fast-sigmoid surrogate gradient, the cross-entropy of the summed readout
and AdamW (weight decay 1e-2).
The held-out accuracy is measured with the model in float64 and weights rounded to
float32, as they are stored in the NIR file.

Writes ``OUT.nir`` (built with the ``nir`` package), ``OUT.json`` (split, seeds,
hyper-parameters, labels, the trained model's held-out accuracy and predictions,
and the reference simulator's) and ``OUT_trace.npz`` (every layer's input spikes,
including the recurrent synapse's, on all held-out images, recorded with tlmsim's
reference simulator on the exported graph). Needs the ``train`` extra:

    pip install ".[train]"
    python tools/train_rsnn.py --out workloads/digits_rsnn --seed 0
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import nir
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

BETA = 0.9  #: membrane decay per step of the hidden LIF; tau = 1 / (1 - beta) = 10 steps
BETA_OUT = 0.8  #: readout LI decay; tau = 5 steps
THRESHOLD = 1.0
HIDDEN = 64
LEVELS = (3 / 16, 8 / 16, 13 / 16)  #: thermometer code of a pixel row: one binary input per level


class Spike(torch.autograd.Function):
    """Heaviside forward, fast-sigmoid derivative backward (slope 10)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + 10.0 * x.abs()) ** 2


class DigitsRSNN(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc_in = torch.nn.Linear(len(LEVELS) * 8, HIDDEN)
        self.fc_rec = torch.nn.Linear(HIDDEN, HIDDEN)
        self.fc_out = torch.nn.Linear(HIDDEN, 10)

    def forward(self, x):
        """x: (T, B, 24) binary -> (summed readout (B, 10), hidden firing rate)."""
        T, B = x.shape[:2]
        v = torch.zeros(B, HIDDEN, dtype=x.dtype)
        s = torch.zeros(B, HIDDEN, dtype=x.dtype)
        u = torch.zeros(B, 10, dtype=x.dtype)
        total = torch.zeros(B, 10, dtype=x.dtype)
        fired = 0.0
        for t in range(T):
            v = BETA * v + self.fc_in(x[t]) + self.fc_rec(s)  # the previous step's spikes
            s = Spike.apply(v - THRESHOLD)
            v = v * (1.0 - s)
            u = BETA_OUT * u + self.fc_out(s)
            total = total + u
            fired = fired + s.mean()
        return total, fired / T


def encode(images: np.ndarray) -> np.ndarray:
    """(N, 8, 8) pixels in [0, 1] -> (T = 8 rows, N, 24) binary: per row, pixel >= each level."""
    rows = np.concatenate([images >= lv for lv in LEVELS], axis=2)  # (N, 8 rows, 24)
    return np.moveaxis(rows, 1, 0).astype(np.float32)


def export_nir(model: DigitsRSNN) -> nir.NIRGraph:
    """The trained network as a NIR graph (parameters per neuron, dt = 1, r = tau)."""
    tau, tau_out = 1.0 / (1.0 - BETA), 1.0 / (1.0 - BETA_OUT)
    det = lambda t: t.detach().to(torch.float32).numpy()  # noqa: E731
    full = lambda n, v: np.full(n, v, dtype=np.float32)  # noqa: E731
    nodes = {
        "input": nir.Input(input_type={"input": np.array([len(LEVELS) * 8])}),
        "fc_in": nir.Affine(weight=det(model.fc_in.weight), bias=det(model.fc_in.bias)),
        "lif": nir.LIF(tau=full(HIDDEN, tau), r=full(HIDDEN, tau), v_leak=full(HIDDEN, 0),
                       v_threshold=full(HIDDEN, THRESHOLD), v_reset=full(HIDDEN, 0)),
        "fc_rec": nir.Affine(weight=det(model.fc_rec.weight), bias=det(model.fc_rec.bias)),
        "fc_out": nir.Affine(weight=det(model.fc_out.weight), bias=det(model.fc_out.bias)),
        "li": nir.LI(tau=full(10, tau_out), r=full(10, tau_out), v_leak=full(10, 0)),
        "output": nir.Output(output_type={"output": np.array([10])}),
    }
    edges = [("input", "fc_in"), ("fc_in", "lif"), ("lif", "fc_rec"), ("fc_rec", "lif"), ("lif", "fc_out"),
             ("fc_out", "li"), ("li", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="workloads/digits_rsnn", help="output path without extension")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (1 on a shared machine)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    digits = load_digits()
    x = digits.images / 16.0
    y = digits.target
    idx = np.arange(len(y))
    train_idx, test_idx = train_test_split(idx, test_size=0.2, random_state=args.seed, stratify=y)
    xs = encode(x)  # (T, N, 24)

    model = DigitsRSNN()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    xt, yt = torch.as_tensor(xs[:, train_idx]), torch.as_tensor(y[train_idx])
    for epoch in range(args.epochs):
        order = rng.permutation(len(train_idx))
        total = 0.0
        for b in range(0, len(order), 64):
            sel = torch.as_tensor(order[b:b + 64])
            out, _ = model(xt[:, sel])
            loss = torch.nn.functional.cross_entropy(out / 8.0, yt[sel])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(sel)
        sched.step()
        if epoch % 10 == 9 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1:3d}  loss {total / len(order):.4f}")

    # held-out accuracy of the trained model: float64, weights as stored (float32)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.float32))
        m64 = DigitsRSNN().double()
        m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
        out, rate = m64(torch.as_tensor(xs[:, test_idx], dtype=torch.float64))
    pred = np.argmax(out.numpy(), axis=1)  # ties: the lowest class (numpy argmax), as predict()
    acc = float((pred == y[test_idx]).mean())
    print(f"held-out accuracy {acc:.4f} ({len(test_idx)} images), hidden firing rate {float(rate):.4f}")

    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nir.write(str(out_path.with_suffix(".nir")), export_nir(model))

    # the reference simulator on the exported graph, and the spike trace it records
    from tlmsim.snn.graph import load_nir
    from tlmsim.snn.refsim import predict, simulate_graph
    from tlmsim.snn.to_workload import graph_layers, layer_spikes
    from tlmsim.workload import save_spike_trace

    graph = load_nir(out_path.with_suffix(".nir"))
    result = simulate_graph(graph, xs[:, test_idx].astype(np.float64))
    ref_pred = predict(result, "li")
    ref_acc = float((ref_pred == y[test_idx]).mean())
    agree = float((ref_pred == pred).mean())
    print(f"reference simulator on the exported graph: accuracy {ref_acc:.4f}, {agree:.4f} of predictions equal "
          "the trained model's")
    meta = {
        "dataset": "sklearn.datasets.load_digits (8x8, 1797 images), read one row per timestep",
        "split": "train_test_split(test_size=0.2, stratify=y, random_state=seed)",
        "test_indices": [int(i) for i in test_idx],
        "seed": args.seed,
        "encoding": f"row t of the image at timestep t, thermometer-coded: pixel/16 >= {list(LEVELS)}",
        "timesteps": 8,
        "epochs": args.epochs,
        "neuron": {"hidden": "LIF", "beta": BETA, "tau": 1 / (1 - BETA), "r": 1 / (1 - BETA),
                   "v_threshold": THRESHOLD, "v_reset": 0.0, "readout": "LI", "readout_beta": BETA_OUT, "dt": 1.0},
        "trained_accuracy": acc,
        "reference_accuracy": ref_acc,
        "prediction_agreement": agree,
        "hidden_firing_rate": float(rate),
        "predictions": [int(p) for p in pred],
        "test_labels": [int(v) for v in y[test_idx]],
    }
    out_path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    _, feeds = graph_layers(graph)
    trace = Path(str(out_path) + "_trace.npz")
    save_spike_trace(trace, layer_spikes(graph, result.outputs, feeds, sample=None), samples=len(test_idx))
    print(f"wrote {out_path.with_suffix('.nir')}, {out_path.with_suffix('.json')} and {trace}")


if __name__ == "__main__":
    main()
