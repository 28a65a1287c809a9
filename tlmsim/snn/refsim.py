"""The numpy reference simulator of an :class:`~tlmsim.snn.graph.SnnGraph`.

Runs T discrete timesteps of width ``dt`` (default: the graph's, see
:func:`tlmsim.snn.graph.infer_dt`) on a batch, in topological order within a
timestep (no synaptic delay), and records every node's output. A recurrent edge
(one that closes a cycle, :attr:`Node.delayed`) delivers its source's output of the
previous timestep; at the first timestep, its output at rest (neurons silent, so a
recurrent Affine delivers its bias, as snnTorch's RLeaky does). The discretisation
of NIR's continuous-time neurons (forward Euler, then threshold, then reset):

* LIF   ``tau dv/dt = (v_leak - v) + r I``:
  ``v <- v + (dt / tau) (v_leak - v + r I)``;
* IF    ``dv/dt = r I``: ``v <- v + dt r I``;
* LI    like LIF with no threshold: the output is ``v``;
* CubaLI like CubaLIF with no threshold: the output is ``v``;
* CubaLIF ``tau_syn di/dt = -i + w_in I``, ``tau_mem dv/dt = (v_leak - v) + r i``:
  ``i <- i + (dt / tau_syn) (w_in I - i)``, then
  ``v <- v + (dt / tau_mem) (v_leak - v + r i)`` with the updated ``i``;
* spike ``s = 1 if v >= v_threshold`` (after the update), then reset:
  ``reset="zero"`` (default, NIR's): ``v <- v_reset`` where ``s = 1``;
  ``reset="subtract"``: ``v <- v - v_threshold`` where ``s = 1``.

Synaptic nodes: Affine ``W x + b``, Linear ``W x``, Scale ``s * x``, Conv2d
(cross-correlation as in PyTorch, zero padding, stride, dilation, groups) plus
bias, Conv1d (the same on a ``[C, 1, L]`` image with a ``1 x K`` kernel), SumPool2d (sum over the window, zero padding), AvgPool2d (mean over the
kernel area, padding counted). Several edges into a node are summed. States start
at zero (membrane 0, synaptic current 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import INTEGRATORS, NEURONS, SPIKING, SnnGraph


@dataclass
class ReferenceResult:
    """What a reference run recorded."""

    #: node name -> output per timestep, shape (T, batch, *out_shape); spiking neurons as bool
    outputs: dict[str, np.ndarray] = field(repr=False)
    timesteps: int = 0
    batch: int = 0

    def firing_rates(self) -> dict[str, float]:
        """Mean spike density of every spiking node."""
        return {n: float(a.mean()) for n, a in self.outputs.items() if a.dtype == np.bool_}


def _im2col(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, ph: int, pw: int, dh: int, dw: int) -> np.ndarray:
    """x (B, C, H, W) -> patches (B, C, kh, kw, Ho, Wo) as a strided view of the padded input."""
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    b, c, h, w = x.shape
    ho = (h - dh * (kh - 1) - 1) // sh + 1
    wo = (w - dw * (kw - 1) - 1) // sw + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x, shape=(b, c, kh, kw, ho, wo), strides=(s[0], s[1], s[2] * dh, s[3] * dw, s[2] * sh, s[3] * sw),
        writeable=False,
    )


def conv2d(x: np.ndarray, w: np.ndarray, bias: np.ndarray, stride, padding, dilation, groups: int) -> np.ndarray:
    """PyTorch-style 2D convolution of x (B, C, H, W) with w (O, C/groups, kh, kw)."""
    o, cg, kh, kw = w.shape
    patches = _im2col(x, kh, kw, *stride, *padding, *dilation)
    if groups == 1:
        y = np.einsum("bckhij,ockh->boij", patches, w, optimize=True)
    else:
        og = o // groups
        y = np.concatenate([
            np.einsum("bckhij,ockh->boij", patches[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og], optimize=True)
            for g in range(groups)
        ], axis=1)
    return y + bias[None, :, None, None]


def pool2d(x: np.ndarray, kernel, stride, padding, mean: bool) -> np.ndarray:
    kh, kw = kernel
    p = _im2col(x, kh, kw, *stride, *padding, 1, 1)
    y = p.sum(axis=(2, 3))
    return y / (kh * kw) if mean else y


def simulate_graph(graph: SnnGraph, inputs: np.ndarray | dict[str, np.ndarray], *, dt: float | None = None,
                   reset: str = "zero", record: str = "all") -> ReferenceResult:
    """Run ``graph`` on ``inputs`` of shape (T, batch, *input_shape) (or a dict by
    Input node name). ``dt``: the time step (default ``graph.dt``). ``record``:
    ``"all"`` nodes, or ``"spikes"`` (spiking neurons, inputs and outputs only, to
    save memory)."""
    dt = graph.dt if dt is None else float(dt)
    if reset not in ("zero", "subtract"):
        raise WorkloadError("reset must be 'zero' or 'subtract'", key="reset", value=reset)
    ins = graph.inputs
    if not isinstance(inputs, dict):
        if len(ins) != 1:
            raise WorkloadError(f"the graph has {len(ins)} inputs; pass a dict by Input name")
        inputs = {ins[0].name: inputs}
    first = next(iter(inputs.values()))
    T, B = int(first.shape[0]), int(first.shape[1])
    for node in ins:
        a = inputs.get(node.name)
        if a is None or tuple(a.shape) != (T, B, *node.out_shape):
            got = None if a is None else list(a.shape)
            raise WorkloadError(f"input {node.name!r} needs shape (T, batch, *{list(node.out_shape)}), got {got}")
    state: dict[str, dict[str, np.ndarray]] = {}
    rec: dict[str, list[np.ndarray]] = {}
    keep = {n.name for n in graph.nodes if record == "all" or n.kind in ("input", "output", *SPIKING)}
    late = {d for n in graph.nodes for d in n.delayed}  # nodes whose previous output a recurrent edge reads
    prev = _rest_values(graph, B, late)
    for t in range(T):
        values: dict[str, np.ndarray] = {}
        for node in graph.nodes:
            if node.kind == "input":
                y = np.asarray(inputs[node.name][t], dtype=np.float64)
            else:
                x = None
                for src in node.inputs:
                    v = prev[src] if src in node.delayed else values[src]
                    x = v if x is None else x + v
                y = _step(node, x, state, dt, reset, B)
            values[node.name] = y
            if node.name in keep:
                rec.setdefault(node.name, []).append(y)
        for d in late:
            prev[d] = values[d]
    outputs = {}
    for node in graph.nodes:
        if node.name in rec:
            a = np.stack(rec[node.name])
            if node.kind in SPIKING:
                a = a.astype(bool)
            outputs[node.name] = a
    return ReferenceResult(outputs=outputs, timesteps=T, batch=B)


def _rest_values(graph: SnnGraph, batch: int, late: set[str]) -> dict[str, np.ndarray]:
    """What a recurrent edge delivers at the first timestep: its source's output "at
    rest" (before any input: inputs zero, neurons silent (output 0), stateless nodes
    applied to that; an Affine on the way gives its bias)."""
    if not late:
        return {}
    rest: dict[str, np.ndarray] = {n.name: np.zeros((batch, *n.out_shape)) for n in graph.nodes}
    passes = 1 + sum(len(n.delayed) for n in graph.nodes)  # each cycle holds a neuron, whose rest is 0
    for _ in range(passes):
        for node in graph.nodes:
            if node.kind in ("input", *NEURONS):
                continue
            x = sum(rest[i] for i in node.inputs)
            rest[node.name] = _step(node, x, {}, 1.0, "zero", batch)
    return {d: rest[d] for d in late}


def _step(node, x: np.ndarray, state: dict, dt: float, reset: str, batch: int) -> np.ndarray:
    k, p = node.kind, node.params
    if k == "output":
        return x
    if k == "affine" or k == "linear":
        return x @ p["weight"].T + p["bias"]
    if k == "scale":
        return x * p["scale"]
    if k == "conv2d":
        return conv2d(x, p["weight"], p["bias"], p["stride"], p["padding"], p["dilation"], p["groups"])
    if k == "conv1d":  # a [C, 1, L] image and a 1 x K kernel
        y = conv2d(x[:, :, None, :], p["weight"], p["bias"], p["stride"], p["padding"], p["dilation"], p["groups"])
        return y[:, :, 0, :]
    if k in ("sumpool2d", "avgpool2d"):
        return pool2d(x, p["kernel"], p["stride"], p["padding"], mean=k == "avgpool2d")
    if k == "flatten":
        return x.reshape((x.shape[0], *node.out_shape))
    if k in NEURONS:
        st = state.get(node.name)
        if st is None:
            st = state[node.name] = {"v": np.zeros((batch, *node.out_shape)), "i": np.zeros((batch, *node.out_shape))}
        v = st["v"]
        if k == "if":
            v = v + dt * p["r"] * x
        elif k in ("lif", "li"):
            v = v + (dt / p["tau"]) * (p["v_leak"] - v + p["r"] * x)
        else:  # cuba_lif, cuba_li
            i = st["i"] + (dt / p["tau_syn"]) * (p["w_in"] * x - st["i"])
            st["i"] = i
            v = v + (dt / p["tau_mem"]) * (p["v_leak"] - v + p["r"] * i)
        if k in INTEGRATORS:
            st["v"] = v
            return v
        s = v >= p["v_threshold"]
        if reset == "zero":
            v = np.where(s, p["v_reset"], v)
        else:
            v = v - s * p["v_threshold"]
        st["v"] = v
        return s.astype(np.float64)
    raise WorkloadError(f"node kind {k!r} has no reference model", key=node.name)


def predict(result: ReferenceResult, output: str | None = None) -> np.ndarray:
    """Class per sample: the argmax of the output's summed values over time (spike
    counts for a spiking output, summed membrane for LI); ties go to the lowest index."""
    name = output or next(n for n in reversed(list(result.outputs)))
    a = result.outputs[name].astype(np.float64)
    return np.argmax(a.sum(axis=0).reshape(a.shape[1], -1), axis=1)
