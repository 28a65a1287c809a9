"""The fixed-point arithmetic of ``--verify``, and the reference that runs with it.

Both the PE-array model (:mod:`tlmsim.verify.functional`) and the reference below
compute with these rules, so their outputs must agree bit for bit; what is checked
is everything in between: that the dataflow's tiles cover every (timestep, output,
reduction) element exactly once, that partial sums, membranes and spikes travel
between tiles and layers as the plan says, that timesteps are updated in order.

Rules (all integers, numpy int64):

* **Weights** of a synaptic layer (conv2d, linear/affine): one scale per layer,
  ``s = max|W| / (2^(b-1) - 1)`` with ``b = workload.weight_bits``;
  ``Wq = clip(rint(W / s))`` (round half to even). The bias is ``rint(b / s)``. All
  values downstream of the layer (currents, membranes, thresholds) are in units of ``s``.
* **Accumulation**: exact, then saturated once per output and timestep to
  ``pe_array.accumulator_bits`` (signed): ``I = sat(sum + bias)``. (Saturating once,
  not per partial sum, keeps the result independent of the order of the folds.)
* **Neurons**, with ``F = 16`` fractional bits for the per-neuron factors
  (``rint(x * 2^F)``) and ``>>`` an arithmetic shift (floor), membrane and synaptic
  current saturated to ``pe_array.membrane_bits``:

  - IF:  ``v <- sat(v + ((q(dt r) I) >> F))``
  - LIF: ``v <- sat(v + ((q(dt/tau) (vleak - v) + q(dt r / tau) I) >> F))``
  - LI:  as LIF, no spike; the output is ``v``
  - CubaLIF: ``i <- sat(i + ((q(dt w_in / tau_syn) I - q(dt / tau_syn) i) >> F))``,
    then ``v <- sat(v + ((q(dt/tau_mem) (vleak - v) + q(dt r / tau_mem) i) >> F))``
  - spike if ``v >= rint(v_threshold / s)``, then ``v <- rint(v_reset / s)`` (NIR's reset).

* **Pooling** of spikes: SumPool2d sums (counts), exactly; AvgPool2d is not supported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tlmsim.dataflow.tiling import out_pixels
from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import SnnGraph
from tlmsim.snn.refsim import conv2d, pool2d
from tlmsim.workload import Layer

FRAC_BITS = 16


def saturate(x: np.ndarray, bits: int) -> np.ndarray:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.clip(x, lo, hi)


@dataclass
class QNeuron:
    """A neuron model in fixed point: per-neuron integer parameters, shape (N, M)."""

    kind: str
    params: dict[str, np.ndarray]
    membrane_bits: int

    def initial_state(self, shape: tuple[int, int]) -> dict[str, np.ndarray]:
        return {"v": np.zeros(shape, dtype=np.int64), "i": np.zeros(shape, dtype=np.int64)}

    def step(self, state: dict[str, np.ndarray], current: np.ndarray, sel=(slice(None), slice(None))):
        """One timestep for the neurons ``sel`` (a (rows, cols) index of the (N, M)
        grid) with input ``current``; updates ``state`` (the full grid) in place and
        returns the output (spikes 0/1, or the membrane for LI)."""
        p = {k: v[sel] for k, v in self.params.items()}
        mb, F = self.membrane_bits, FRAC_BITS
        v = state["v"][sel]
        if self.kind == "if":
            v = saturate(v + ((p["r"] * current) >> F), mb)
        elif self.kind in ("lif", "li"):
            v = saturate(v + ((p["a"] * (p["v_leak"] - v) + p["r"] * current) >> F), mb)
        else:  # cuba_lif
            i = state["i"][sel]
            i = saturate(i + ((p["w_in"] * current - p["a_syn"] * i) >> F), mb)
            state["i"][sel] = i
            v = saturate(v + ((p["a"] * (p["v_leak"] - v) + p["r"] * i) >> F), mb)
        if self.kind == "li":
            state["v"][sel] = v
            return v
        s = v >= p["v_threshold"]
        state["v"][sel] = np.where(s, p["v_reset"], v)
        return s.astype(np.int64)


@dataclass
class QLayer:
    """One workload layer in fixed point."""

    layer: Layer
    weights: np.ndarray | None = None  #: (K, N) int64, K ordered (c, kh, kw) as im2col
    bias: np.ndarray | None = None  #: (N,) int64
    scale: float = 1.0
    neuron: QNeuron | None = None
    conv: dict = field(default_factory=dict)


def _q(x: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(x, dtype=np.float64) * (1 << FRAC_BITS)).astype(np.int64)


def _grid(a, layer: Layer) -> np.ndarray:
    """A per-neuron parameter (scalar or shaped like the output) as an (N, M) grid."""
    return np.broadcast_to(np.asarray(a, dtype=np.float64), layer.out_shape).reshape(
        layer.out_shape[0], out_pixels(layer))


def _neuron_node(graph: SnnGraph, layer_name: str):
    for node in graph.nodes:
        if node.kind in ("if", "lif", "li", "cuba_lif") and node.inputs and node.inputs[0] == layer_name:
            return node
    return None


def quantize(graph: SnnGraph, layers: list[Layer], *, weight_bits: int, membrane_bits: int,
             dt: float = 1.0) -> list[QLayer]:
    """The workload's layers in fixed point, with weights and neuron parameters from ``graph``."""
    out = []
    qmax = (1 << (weight_bits - 1)) - 1
    for layer in layers:
        q = QLayer(layer)
        if layer.residual >= 0:
            raise WorkloadError("--verify does not support residual (shortcut) layers yet", key=layer.name)
        if layer.op == "avgpool2d" or layer.op == "maxpool2d":
            raise WorkloadError(f"--verify supports sumpool2d, not {layer.op}", key=layer.name)
        if layer.has_weights:
            node = graph[layer.name]
            w = np.asarray(node.params["weight"], dtype=np.float64)
            b = np.asarray(node.params.get("bias", np.zeros(w.shape[0])), dtype=np.float64)
            amax = float(np.abs(w).max())
            s = amax / qmax if amax > 0 else 1.0
            wq = np.clip(np.rint(w / s), -qmax - 1, qmax).astype(np.int64)
            q.scale = s
            q.weights = np.ascontiguousarray(wq.reshape(w.shape[0], -1).T)
            q.bias = np.rint(np.broadcast_to(b, (w.shape[0],)) / s).astype(np.int64)
            if layer.op == "conv2d":
                q.conv = {"w": wq, "stride": layer.stride, "padding": layer.padding}
            nn = _neuron_node(graph, layer.name)
            if layer.neuron is not None:
                if nn is None:
                    raise WorkloadError("--verify: the neuron after this layer is not in the graph", key=layer.name)
                q.neuron = _qneuron(nn.kind, nn.params, layer, s, dt, membrane_bits)
        out.append(q)
    return out


def _qneuron(kind: str, p: dict, layer: Layer, s: float, dt: float, membrane_bits: int) -> QNeuron:
    g = lambda name: _grid(p[name], layer)  # noqa: E731
    params: dict[str, np.ndarray] = {}
    if kind == "if":
        params["r"] = _q(dt * g("r"))
    elif kind in ("lif", "li"):
        params["a"] = _q(dt / g("tau"))
        params["r"] = _q(dt * g("r") / g("tau"))
        params["v_leak"] = np.rint(g("v_leak") / s).astype(np.int64)
    else:
        params["a_syn"] = _q(dt / g("tau_syn"))
        params["w_in"] = _q(dt * g("w_in") / g("tau_syn"))
        params["a"] = _q(dt / g("tau_mem"))
        params["r"] = _q(dt * g("r") / g("tau_mem"))
        params["v_leak"] = np.rint(g("v_leak") / s).astype(np.int64)
    if kind != "li":
        params["v_threshold"] = np.rint(g("v_threshold") / s).astype(np.int64)
        params["v_reset"] = np.rint(g("v_reset") / s).astype(np.int64)
    return QNeuron(kind, params, membrane_bits)


def reference(qlayers: list[QLayer], inputs: dict[int, np.ndarray], timesteps: int, *,
              accumulator_bits: int) -> dict[int, np.ndarray]:
    """Every layer's output, shape (T, *out_shape) int64, computed layer by layer on
    whole tensors. ``inputs``: layer index -> its external input (T, *in_shape)."""
    T = timesteps
    outs: dict[int, np.ndarray] = {}
    for q in qlayers:
        layer = q.layer
        x = inputs[layer.index] if layer.source < 0 else outs[layer.source]
        x = x.reshape((T,) + layer.in_shape).astype(np.int64)
        if layer.op == "flatten":
            outs[layer.index] = x.reshape((T,) + layer.out_shape)
            continue
        if layer.op == "sumpool2d":
            outs[layer.index] = pool2d(x, layer.kernel, layer.stride, layer.padding, mean=False).astype(np.int64)
            continue
        n = layer.out_shape[0]
        if layer.op == "conv2d":
            psum = conv2d(x, q.conv["w"], np.zeros(n, dtype=np.int64), q.conv["stride"], q.conv["padding"], (1, 1), 1)
            psum = psum.reshape(T, n, -1)
        else:
            psum = (x.reshape(T, -1) @ q.weights).reshape(T, n, 1)
        current = saturate(psum + q.bias[None, :, None], accumulator_bits)
        if q.neuron is None:
            outs[layer.index] = current.reshape((T,) + layer.out_shape)
            continue
        state = q.neuron.initial_state(current.shape[1:])
        y = np.stack([q.neuron.step(state, current[t]) for t in range(T)])
        outs[layer.index] = y.reshape((T,) + layer.out_shape)
    return outs
