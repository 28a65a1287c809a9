"""The fixed-point arithmetic of ``--verify``, and the reference that runs with it.

Both the PE-array model (:mod:`tlmsim.verify.functional`) and the reference below
compute with these rules, so their outputs must agree bit for bit; what is checked
is everything in between: that the dataflow's tiles cover every (timestep, output,
reduction) element exactly once, that partial sums, membranes and spikes travel
between tiles and layers as the plan says, that timesteps are updated in order.

Rules (all integers, numpy int64). Every layer's output integers stand for a real
value times the layer's *unit* ``u``: spikes have ``u = 1``.

* **Weights** of a synaptic layer (conv2d, linear/affine; a Conv1d is a conv2d on a
  ``[C, 1, L]`` image): one scale per layer, ``s_w = max|W| / (2^(b-1) - 1)`` with
  ``b = workload.weight_bits``; ``Wq = clip(rint(W / s_w))`` (round half to even).
  The layer's currents have the unit ``s = s_w x u_in`` (``u_in``: its input's unit,
  1 for spikes); the bias is ``rint(b / s)``; thresholds, leak and reset voltages are
  ``rint(x / s)``.
* **Recurrent synapse** (an RSNN layer): its weights share the layer's scale,
  ``s_w = max(max|W_in|, max|W_rec| / u_in) / (2^(b-1) - 1)``, ``Wq_rec = rint(W_rec / s)``;
  its input at timestep t is the layer's own output spikes of t - 1 (zero at t = 0);
  its bias (a recurrent Affine's) adds to the layer's bias (at rest the neurons are
  silent, so the recurrent Affine gives its bias from the first timestep on).
  The reduction index k runs over ``[feed-forward K, then the N recurrent inputs]``.
* **Pooling** (values, not weights): SumPool2d and AvgPool2d output the window sum
  (an AvgPool2d's unit is ``u_in / (kh kw)``: the division is folded into the unit),
  MaxPool2d the window maximum; zero padding.
* **Weightless layers with a neuron** (a pooling layer followed by a neuron, an
  identity synapse): their window sum (maximum; the value itself for identity) is
  a synapse whose weights are all equal, quantised like any weight to
  ``2^(b-1) - 1``: current ``= (2^(b-1) - 1) x sum``, unit ``s = u_pool / (2^(b-1) - 1)``.
* **Residual** (a shortcut added before the neuron update): the source's value
  ``r`` (unit ``u_r``, times the gain of any Scale node on the shortcut) adds
  ``(r x q(g u_r / s)) >> F`` to the current.
* **Accumulation**: exact, then saturated once per output and timestep to
  ``pe_array.accumulator_bits`` (signed): ``I = sat(sum + bias)``. (Saturating once,
  not per partial sum, keeps the result independent of the order of the folds.)
* **Neurons**, with ``F = 16`` fractional bits for the per-neuron factors
  (``q(x) = rint(x * 2^F)``) and ``>>`` an arithmetic shift (floor), membrane and
  synaptic current saturated to ``pe_array.membrane_bits``:

  - IF:  ``v <- sat(v + ((q(dt r) I) >> F))``
  - LIF: ``v <- sat(v + ((q(dt/tau) (vleak - v) + q(dt r / tau) I) >> F))``
  - LI:  as LIF, no spike; the output is ``v`` (unit ``s``)
  - CubaLIF: ``i <- sat(i + ((q(dt w_in / tau_syn) I - q(dt / tau_syn) i) >> F))``,
    then ``v <- sat(v + ((q(dt/tau_mem) (vleak - v) + q(dt r / tau_mem) i) >> F))``
  - CubaLI: as CubaLIF, no spike; the output is ``v``
  - spike if ``v >= rint(v_threshold / s)``, then ``v <- rint(v_reset / s)`` (NIR's reset).

  ``dt`` is the workload's (the reference simulator's time step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import NEURONS, SnnGraph
from tlmsim.snn.refsim import conv2d
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
        else:  # cuba_lif, cuba_li
            i = state["i"][sel]
            i = saturate(i + ((p["w_in"] * current - p["a_syn"] * i) >> F), mb)
            state["i"][sel] = i
            v = saturate(v + ((p["a"] * (p["v_leak"] - v) + p["r"] * i) >> F), mb)
        if self.kind in ("li", "cuba_li"):
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
    scale: float = 1.0  #: the unit of the layer's currents (and of an LI's membrane)
    unit: float = 1.0  #: the unit of the layer's output values (1 for spikes)
    neuron: QNeuron | None = None
    conv: dict = field(default_factory=dict)
    rec_weights: np.ndarray | None = None  #: (N, N) int64: recurrent input k -> output n
    res_gain: np.ndarray | None = None  #: (N, M) int64, F fractional bits: the shortcut's factor
    gain: int = 1  #: weightless layers with a neuron: the current per unit of the pooled value

    @property
    def reduction(self) -> int:
        """K of the layer's GEMM including the recurrent inputs (0 without weights)."""
        k = 0 if self.weights is None else self.weights.shape[0]
        return k + (0 if self.rec_weights is None else self.rec_weights.shape[0])


def _q(x: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(x, dtype=np.float64) * (1 << FRAC_BITS)).astype(np.int64)


def grid_shape(layer: Layer) -> tuple[int, int]:
    """(N, M): output channels (features) x output pixels (1 for a 1-D layer)."""
    return layer.out_shape[0], math.prod(layer.out_shape[1:])


def _grid(a, layer: Layer) -> np.ndarray:
    """A per-neuron parameter (scalar, or as many values as outputs) as an (N, M) grid."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == layer.out_neurons:
        a = a.reshape(layer.out_shape)
    return np.broadcast_to(a, layer.out_shape).reshape(grid_shape(layer))


def neuron_node(graph: SnnGraph, layer: Layer):
    """The graph's neuron node of ``layer`` (None when it has none)."""
    if layer.neuron is None:
        return None
    if layer.op == "identity":
        return graph[layer.name]
    for node in graph.nodes:
        if node.kind in NEURONS and layer.name in node.inputs:
            return node
    return None


def _output_node(graph: SnnGraph, layer: Layer) -> str:
    n = neuron_node(graph, layer)
    return n.name if n is not None else layer.name


def _shortcut_gain(graph: SnnGraph, neuron, src_node: str, shape) -> np.ndarray:
    """The product of the Scale nodes between ``src_node`` and ``neuron`` (1 with none)."""
    for i in neuron.inputs:
        gain = np.ones(shape)
        node = graph[i]
        while node.kind in ("scale", "output") and node.name != src_node:
            if node.kind == "scale":
                gain = gain * node.params["scale"]
            node = graph[node.inputs[0]]
        if node.name == src_node:
            return gain
    return np.ones(shape)


def quantize(graph: SnnGraph, layers: list[Layer], *, weight_bits: int, membrane_bits: int,
             dt: float = 1.0) -> list[QLayer]:
    """The workload's layers in fixed point, with weights and neuron parameters from ``graph``."""
    from tlmsim.snn.to_workload import recurrent_weights

    out: list[QLayer] = []
    qmax = (1 << (weight_bits - 1)) - 1
    for layer in layers:
        q = QLayer(layer)
        u_in = 1.0 if layer.source < 0 else out[layer.source].unit
        if layer.op in ("flatten", "maxpool2d", "sumpool2d", "avgpool2d", "identity"):
            area = layer.kernel[0] * layer.kernel[1]
            u_pool = u_in / area if layer.op == "avgpool2d" else u_in
            if layer.neuron is None:
                if layer.op == "identity":
                    raise WorkloadError("--verify: an identity layer needs a neuron", key=layer.name)
                q.scale = q.unit = u_pool
                out.append(q)
                continue
            q.gain = qmax
            q.scale = u_pool / qmax
        else:
            node = graph[layer.name]
            w = np.asarray(node.params["weight"], dtype=np.float64)
            b = np.asarray(node.params.get("bias", np.zeros(w.shape[0])), dtype=np.float64)
            rec = None
            if layer.recurrent:
                nn = neuron_node(graph, layer)
                rec = recurrent_weights(graph, nn.name) if nn is not None else None
                if rec is None:
                    raise WorkloadError("--verify: the recurrent synapse of this layer is not in the graph",
                                        key=layer.name)
            amax = float(np.abs(w).max())
            if rec is not None:
                amax = max(amax, float(np.abs(rec[0]).max()) / u_in)
            s_w = amax / qmax if amax > 0 else 1.0
            s = s_w * u_in
            wq = np.clip(np.rint(w / s_w), -qmax - 1, qmax).astype(np.int64)
            q.scale = s
            q.weights = np.ascontiguousarray(wq.reshape(w.shape[0], -1).T)
            bias = np.broadcast_to(b, (w.shape[0],)).astype(np.float64)
            if rec is not None:
                wr = np.clip(np.rint(np.asarray(rec[0], dtype=np.float64) / s), -qmax - 1, qmax).astype(np.int64)
                q.rec_weights = np.ascontiguousarray(wr.T)
                bias = bias + rec[1]
            q.bias = np.rint(bias / s).astype(np.int64)
            if layer.op == "conv2d":
                q.conv = {"w": wq, "stride": layer.stride, "padding": layer.padding}
        nn = neuron_node(graph, layer)
        if layer.neuron is not None:
            if nn is None:
                raise WorkloadError("--verify: the neuron after this layer is not in the graph", key=layer.name)
            q.neuron = _qneuron(nn.kind, nn.params, layer, q.scale, dt, membrane_bits)
            q.unit = 1.0 if nn.kind in ("if", "lif", "cuba_lif") else q.scale
        else:
            q.unit = q.scale
        if layer.residual >= 0:
            src = layers[layer.residual]
            gain = _shortcut_gain(graph, nn, _output_node(graph, src), nn.in_shape) if nn is not None else 1.0
            q.res_gain = _q(_grid(np.asarray(gain) * out[layer.residual].unit / q.scale, layer))
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
    if kind not in ("li", "cuba_li"):
        params["v_threshold"] = np.rint(g("v_threshold") / s).astype(np.int64)
        params["v_reset"] = np.rint(g("v_reset") / s).astype(np.int64)
    return QNeuron(kind, params, membrane_bits)


def pool_values(layer: Layer, x: np.ndarray) -> np.ndarray:
    """The integer pooling of ``x`` (T, C, H, W): window sums (sum and average pooling)
    or maxima (max pooling), zero padding."""
    from tlmsim.snn.refsim import _im2col

    kh, kw = layer.kernel
    p = _im2col(x, kh, kw, *layer.stride, *layer.padding, 1, 1)
    return (p.max(axis=(2, 3)) if layer.op == "maxpool2d" else p.sum(axis=(2, 3))).astype(np.int64)


def weightless_current(q: QLayer, x: np.ndarray) -> np.ndarray:
    """The pooled (or identity) value of ``x`` (T, *in_shape) before a neuron or as the
    layer's output: (T, *out_shape) int64."""
    layer = q.layer
    if layer.op == "identity":
        return x.astype(np.int64)
    return pool_values(layer, x)


def residual_term(q: QLayer, res: np.ndarray, sel=(slice(None), slice(None))) -> np.ndarray:
    """The shortcut's contribution ``(r x gain) >> F`` for the neurons ``sel`` of the grid."""
    return (res * q.res_gain[sel]) >> FRAC_BITS


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
        N, M = grid_shape(layer)
        if layer.op == "flatten":
            outs[layer.index] = x.reshape((T,) + layer.out_shape)
            continue
        if q.weights is None:  # pooling, identity
            y = weightless_current(q, x)
            if q.neuron is None:
                outs[layer.index] = y
                continue
            psum = q.gain * y.reshape(T, N, M)
            bias = np.zeros((N, 1), dtype=np.int64)
        elif layer.op == "conv2d":
            psum = conv2d(x, q.conv["w"], np.zeros(N, dtype=np.int64), q.conv["stride"], q.conv["padding"], (1, 1), 1)
            psum = psum.reshape(T, N, M)
            bias = q.bias[:, None]
        else:
            psum = (x.reshape(T, -1) @ q.weights).reshape(T, N, 1)
            bias = q.bias[:, None]
        res = None
        if layer.residual >= 0:
            res = outs[layer.residual].reshape(T, N, M)
        state = q.neuron.initial_state((N, M)) if q.neuron is not None else None
        ys = []
        for t in range(T):
            acc = psum[t] + bias
            if q.rec_weights is not None:
                prev = ys[t - 1].reshape(-1) if t else np.zeros(N, dtype=np.int64)
                acc = acc + (prev @ q.rec_weights).reshape(N, 1)
            if res is not None:
                acc = acc + residual_term(q, res[t])
            current = saturate(acc, accumulator_bits)
            ys.append(current if state is None else q.neuron.step(state, current))
        outs[layer.index] = np.stack(ys).reshape((T,) + layer.out_shape)
    return outs
