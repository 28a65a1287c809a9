"""Train the shipped digits SNN and export it as a NIR graph.

A small convolutional SNN on scikit-learn's bundled 8x8 handwritten digits (1,797
images, no download):

    Input (1, 8, 8) --rate-coded spikes, T timesteps-->
    Conv2d 1->16, 3x3, padding 1 -> LIF -> SumPool2d 2x2 -> Flatten (256)
    -> Affine 256->64 -> LIF -> Affine 64->10 -> LIF -> Output (spike counts)

Neurons use exactly the discretisation of tlmsim's numpy reference simulator
(docs/reference_simulator.md) with dt = 1: NIR's ``tau dv/dt = (v_leak - v) + r I``
by forward Euler, ``v <- v + (dt / tau) (v_leak - v + r I)``, a spike when
``v >= v_threshold``, then ``v <- v_reset``. With ``r = tau / dt`` and
``v_leak = 0`` this is ``v <- beta v + I`` with ``beta = 1 - dt / tau``. Training
uses a fast-sigmoid surrogate gradient and the cross-entropy of the output spike
counts. ``--spike-penalty LAMBDA`` adds LAMBDA x (mean firing rate of the hidden
layers) to the loss (hardware-aware training: fewer spikes, less work).

Inputs are rate-coded (Bernoulli, probability = pixel / 16) with a seeded numpy
generator, the same encoder as ``tlmsim.snn.encoding.rate``; the held-out split is
encoded once with ``--seed`` so that the reference simulator sees exactly the spikes
the trained model saw.

Writes ``OUT.nir`` (the graph, built with the ``nir`` package directly),
``OUT.json`` (split, seeds, hyper-parameters, labels and the trained model's
held-out accuracy and predictions) and ``OUT_trace.npz`` (every layer's input spikes
on all held-out images, recorded with tlmsim's reference simulator on the exported
graph). Needs the ``train`` extra (torch, scikit-learn, nir):

    pip install ".[train]"
    python tools/train_digits.py --out workloads/digits_snn --timesteps 16 --seed 0
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

BETA = 0.9  #: membrane decay per step; tau = dt / (1 - beta) = 10 steps
THRESHOLD = 1.0
DT = 1.0


class Spike(torch.autograd.Function):
    """Heaviside forward, fast-sigmoid derivative backward (slope 25)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + 25.0 * x.abs()) ** 2


def lif_step(v, current):
    """One reference-simulator LIF step (dt = 1, r = tau, v_leak = 0, reset to 0)."""
    v = BETA * v + current
    s = Spike.apply(v - THRESHOLD)
    return v * (1.0 - s), s  # reset to v_reset = 0 where it spiked


class DigitsSNN(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.pool = torch.nn.LPPool2d(1, 2)  # p = 1: sum pooling
        self.fc1 = torch.nn.Linear(256, 64)
        self.fc2 = torch.nn.Linear(64, 10)

    def forward(self, spikes):
        """spikes: (T, B, 1, 8, 8) -> (output spike counts (B, 10), hidden firing rate)."""
        T, B = spikes.shape[:2]
        v1 = torch.zeros(B, 16, 8, 8)
        v2 = torch.zeros(B, 64)
        v3 = torch.zeros(B, 10)
        counts = torch.zeros(B, 10)
        fired = 0.0
        for t in range(T):
            v1, s1 = lif_step(v1, self.conv(spikes[t]))
            p = self.pool(s1).flatten(1)
            v2, s2 = lif_step(v2, self.fc1(p))
            v3, s3 = lif_step(v3, self.fc2(s2))
            counts = counts + s3
            fired = fired + s1.mean() + s2.mean()
        return counts, fired / (2 * T)


def rate_encode(x: np.ndarray, timesteps: int, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli spikes, probability clip(x, 0, 1), shape (T, *x.shape)."""
    p = np.clip(x, 0.0, 1.0)
    return rng.random((timesteps, *x.shape)) < p


def export_nir(model: DigitsSNN) -> nir.NIRGraph:
    """The trained network as a NIR graph (parameters per neuron, dt = 1)."""
    tau = DT / (1.0 - BETA)

    def lif(shape):
        return nir.LIF(
            tau=np.full(shape, tau, dtype=np.float32), r=np.full(shape, tau / DT, dtype=np.float32),
            v_leak=np.zeros(shape, dtype=np.float32), v_threshold=np.full(shape, THRESHOLD, dtype=np.float32),
            v_reset=np.zeros(shape, dtype=np.float32),
        )

    det = lambda t: t.detach().numpy().astype(np.float32)  # noqa: E731
    nodes = {
        "input": nir.Input(input_type={"input": np.array([1, 8, 8])}),
        "conv1": nir.Conv2d(input_shape=(8, 8), weight=det(model.conv.weight), stride=1, padding=1, dilation=1,
                            groups=1, bias=det(model.conv.bias)),
        "lif1": lif((16, 8, 8)),
        "pool1": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "flatten": nir.Flatten(input_type={"input": np.array([16, 4, 4])}, start_dim=0, end_dim=-1),
        "fc1": nir.Affine(weight=det(model.fc1.weight), bias=det(model.fc1.bias)),
        "lif2": lif((64,)),
        "fc2": nir.Affine(weight=det(model.fc2.weight), bias=det(model.fc2.bias)),
        "lif3": lif((10,)),
        "output": nir.Output(output_type={"output": np.array([10])}),
    }
    order = list(nodes)
    edges = [(a, b) for a, b in zip(order, order[1:])]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="workloads/digits_snn", help="output path without extension")
    ap.add_argument("--timesteps", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (1 on a shared machine)")
    ap.add_argument("--spike-penalty", type=float, default=0.0, help="lambda x hidden firing rate added to the loss")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]  # (N, 1, 8, 8) in [0, 1]
    y = digits.target
    idx = np.arange(len(y))
    train_idx, test_idx = train_test_split(idx, test_size=0.2, random_state=args.seed, stratify=y)
    test_spikes = rate_encode(x[test_idx], args.timesteps, np.random.default_rng(args.seed + 1))  # (T, N, 1, 8, 8)

    model = DigitsSNN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    xt, yt = x[train_idx], torch.as_tensor(y[train_idx])
    for epoch in range(args.epochs):
        order = rng.permutation(len(train_idx))
        total = 0.0
        for b in range(0, len(order), 64):
            sel = order[b:b + 64]
            spikes = torch.as_tensor(rate_encode(xt[sel], args.timesteps, rng), dtype=torch.float32)
            counts, rate = model(spikes)
            loss = torch.nn.functional.cross_entropy(counts, yt[sel]) + args.spike_penalty * rate
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(sel)
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1:3d}  loss {total / len(order):.4f}")

    with torch.no_grad():
        counts, rate = model(torch.as_tensor(test_spikes, dtype=torch.float32))
    # ties: the lowest class index wins (numpy argmax), as in the reference's predict()
    pred = np.argmax(counts.numpy(), axis=1)
    acc = float((pred == y[test_idx]).mean())
    print(f"held-out accuracy {acc:.4f} ({len(test_idx)} images), hidden firing rate {float(rate):.4f}")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    nir.write(str(out.with_suffix(".nir")), export_nir(model))
    meta = {
        "dataset": "sklearn.datasets.load_digits (8x8, 1797 images)",
        "split": "train_test_split(test_size=0.2, stratify=y, random_state=seed)",
        "test_indices": [int(i) for i in test_idx],
        "seed": args.seed,
        "test_encoding_seed": args.seed + 1,
        "encoding": "rate (Bernoulli, p = pixel / 16)",
        "timesteps": args.timesteps,
        "epochs": args.epochs,
        "spike_penalty": args.spike_penalty,
        "neuron": {"model": "LIF", "beta": BETA, "tau": DT / (1 - BETA), "r": DT / (1 - BETA) / DT,
                   "v_threshold": THRESHOLD, "v_reset": 0.0, "dt": DT},
        "trained_accuracy": acc,
        "hidden_firing_rate": float(rate),
        "predictions": [int(p) for p in pred],
    }
    meta["test_labels"] = [int(v) for v in y[test_idx]]
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")

    # the spike trace: every layer's input on the held-out images, from tlmsim's
    # reference simulator run on the exported graph (what `tlmsim run` consumes)
    from tlmsim.snn.graph import load_nir
    from tlmsim.snn.refsim import predict, simulate_graph
    from tlmsim.snn.to_workload import graph_layers, layer_spikes
    from tlmsim.workload import save_spike_trace

    graph = load_nir(out.with_suffix(".nir"))
    result = simulate_graph(graph, test_spikes.astype(np.float64))
    ref_pred = predict(result)
    ref_acc = float((ref_pred == y[test_idx]).mean())
    print(f"reference simulator on the exported graph: accuracy {ref_acc:.4f}, "
          f"{float((ref_pred == pred).mean()):.4f} of predictions equal the trained model's")
    _, feeds = graph_layers(graph)
    trace = Path(str(out) + "_trace.npz")
    save_spike_trace(trace, layer_spikes(graph, result.outputs, feeds, sample=None), samples=len(test_idx))
    print(f"wrote {out.with_suffix('.nir')}, {out.with_suffix('.json')} and {trace}")


if __name__ == "__main__":
    main()
