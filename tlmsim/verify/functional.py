"""The functional model of ``tlmsim run --verify``: the PE array computes for real.

In verification mode every COMPUTE transaction carries its data. When the PE array
runs a tile, this model takes the tile's input slice from the *memory image* of its
source layer's output (what earlier tiles stored there, not the reference's
values), multiplies it by the tile's block of fixed-point weights, adds the result
into the tile's partial sums and, on the tile that completes a block of outputs,
applies the neuron model timestep by timestep to that block's membranes and writes
the output spikes into the layer's memory image; the COMPUTE transaction's ``data``
is that output block. Pooling tiles (``("pool", t, channel0, channels)``) pool their
channel group and, when the layer has a neuron, update it; an identity layer takes
the same regions. A shortcut (``residual``) is read from its source's memory image
when a block completes. A recurrent layer's reduction index k runs over its
feed-forward K and then its N recurrent inputs, which are read from the layer's own
memory image at timestep t - 1: a tile that reads them before every output of t - 1
exists fails.

At the end :meth:`FunctionalModel.check` compares every layer's memory image with
:func:`tlmsim.verify.fixed_point.reference`, which computes the same fixed-point
network layer by layer on whole tensors, and names the first mismatch (layer,
neuron, timestep). It also fails when a tile updates a neuron's timestep t before
t - 1, or a block's neurons are never updated. Every error names the workload's file.
"""

from __future__ import annotations

import numpy as np

from tlmsim.dataflow.activity import im2col
from tlmsim.engine.plan import LayerPlan, Tile
from tlmsim.errors import SimulationError, WorkloadError
from tlmsim.platform.pe_array import PeArrayConfig
from tlmsim.verify.fixed_point import (
    QLayer, grid_shape, quantize, reference, residual_term, saturate, weightless_current,
)
from tlmsim.workload import Layer, Workload


class VerificationError(SimulationError):
    """The simulated computation differs from the reference."""


class FunctionalModel:
    def __init__(self, workload: Workload, *, membrane_bits: int, accumulator_bits: int,
                 weight_bits: int = PeArrayConfig.model_fields["weight_bits"].default) -> None:
        """``weight_bits``: the platform's ``pe_array.weight_bits``, used when the workload
        gives none."""
        workload = workload.with_weight_bits(weight_bits)
        self.file = workload.path or workload.name
        if workload.graph is None:
            raise WorkloadError(
                "--verify needs a workload built from a NIR graph (its weights and neuron parameters); "
                f"{workload.name!r} has none", key="nir", file=workload.path or None,
            )
        self.workload = workload
        self.T = workload.timesteps
        self.acc_bits = accumulator_bits
        try:
            self.q: list[QLayer] = quantize(workload.graph, workload.layers, weight_bits=workload.weight_bits,
                                            membrane_bits=membrane_bits, dt=workload.dt)
        except WorkloadError as exc:
            raise exc.located(self.file) from None
        self.inputs: dict[int, np.ndarray] = {}
        for layer in workload.layers:
            if layer.source < 0:
                self.inputs[layer.index] = np.asarray(workload.spikes[layer.name]).astype(np.int64)
        self.images: dict[int, np.ndarray] = {}
        for layer in workload.layers:  # in order: a flatten aliases its source's image
            if layer.op == "flatten":
                self.images[layer.index] = self._input(layer).reshape((self.T,) + layer.out_shape)
            else:
                self.images[layer.index] = np.zeros((self.T,) + layer.out_shape, dtype=np.int64)
        self.psums: dict[int, np.ndarray] = {}
        self.state: dict[int, dict[str, np.ndarray]] = {}
        self.next_t: dict[int, np.ndarray] = {}
        self.tiles = 0

    def _input(self, layer: Layer) -> np.ndarray:
        src = self.inputs[layer.index] if layer.source < 0 else self.images[layer.source]
        return src.reshape((self.T,) + layer.in_shape)

    def _fail(self, text: str) -> VerificationError:
        return VerificationError(f"{self.file}: {text}")

    def _start(self, layer: Layer, q: QLayer) -> None:
        if layer.index not in self.next_t:
            N, M = grid_shape(layer)
            self.psums[layer.index] = np.zeros((self.T, M, N), dtype=np.int64)
            if q.neuron is not None:
                self.state[layer.index] = q.neuron.initial_state((N, M))
            self.next_t[layer.index] = np.zeros((N, M), dtype=np.int64)

    def _in_order(self, layer: Layer, tile: Tile, sel, t0: int, n0: int, m0: int) -> None:
        nxt = self.next_t[layer.index][sel]
        if np.any(nxt != t0):
            bad = np.argwhere(nxt != t0)[0]
            raise self._fail(
                f"layer {layer.name!r}: tile {tile.index} updates output {n0 + bad[0]}, pixel {m0 + bad[1]} at "
                f"timestep {t0}, but its last update was for timestep {int(nxt[tuple(bad)]) - 1}"
            )

    def _residual(self, layer: Layer, q: QLayer, t: int, sel) -> np.ndarray | int:
        if layer.residual < 0:
            return 0
        N, M = grid_shape(layer)
        res = self.images[layer.residual].reshape(self.T, N, M)[t][sel]
        return residual_term(q, res, sel)

    def execute(self, plan: LayerPlan, tile: Tile) -> np.ndarray | None:
        """Compute ``tile`` of ``plan``; returns the output block it completes (or None)."""
        self.tiles += 1
        layer = plan.layer
        q = self.q[layer.index]
        region = tile.region
        if region is None:
            raise self._fail(f"layer {layer.name!r}: tile {tile.index} carries no data region")
        if region[0] in ("pool", "identity"):
            return self._pool(layer, q, tile, region)
        _, t0, t1, n0, nc, m0, mm, k0, k1, last = region
        N, M = grid_shape(layer)
        self._start(layer, q)
        K = q.weights.shape[0]
        ps = self.psums[layer.index]
        if k0 < K:
            x = im2col(layer, self._input(layer)[t0:t1])[:, m0:m0 + mm, k0:min(k1, K)]
            ps[t0:t1, m0:m0 + mm, n0:n0 + nc] += np.einsum("tmk,kn->tmn", x, q.weights[k0:min(k1, K), n0:n0 + nc])
        if k1 > K:  # the recurrent inputs: this layer's own outputs of the previous timestep
            if q.rec_weights is None or k1 > q.reduction:
                raise self._fail(f"layer {layer.name!r}: tile {tile.index} reduces up to k = {k1}, beyond the "
                                 f"layer's {q.reduction} inputs")
            r0, r1 = max(k0, K) - K, k1 - K
            own = self.images[layer.index].reshape(self.T, N * M)
            for t in range(t0, t1):
                if t == 0:
                    continue
                late = self.next_t[layer.index] < t
                if late.any():
                    n, m = np.argwhere(late)[0]
                    raise self._fail(
                        f"layer {layer.name!r}: tile {tile.index} reads the recurrent spikes of timestep {t - 1} "
                        f"before output {n}, pixel {m} of that timestep was computed")
                ps[t, m0:m0 + mm, n0:n0 + nc] += own[t - 1, r0:r1] @ q.rec_weights[r0:r1, n0:n0 + nc]
        if not last:
            return None
        sel = (slice(n0, n0 + nc), slice(m0, m0 + mm))
        self._in_order(layer, tile, sel, t0, n0, m0)
        out = self.images[layer.index].reshape(self.T, N, M)
        for t in range(t0, t1):
            acc = ps[t, m0:m0 + mm, n0:n0 + nc].T + q.bias[n0:n0 + nc, None] + self._residual(layer, q, t, sel)
            current = saturate(acc, self.acc_bits)
            out[t][sel] = current if q.neuron is None else q.neuron.step(self.state[layer.index], current, sel)
            self.next_t[layer.index][sel] = t + 1
        return out[t0:t1][(slice(None),) + sel]

    def _pool(self, layer: Layer, q: QLayer, tile: Tile, region: tuple) -> np.ndarray:
        """A pooling (or identity) tile: one timestep, a group of channels."""
        _, t, g0, g = region
        y = weightless_current(q, self._input(layer)[t:t + 1, g0:g0 + g])
        img = self.images[layer.index]
        if q.neuron is None:
            img[t:t + 1, g0:g0 + g] = y
            return y
        self._start(layer, q)
        N, M = grid_shape(layer)
        sel = (slice(g0, g0 + g), slice(None))
        self._in_order(layer, tile, sel, t, g0, 0)
        acc = q.gain * y.reshape(g, M) + self._residual(layer, q, t, sel)
        out = q.neuron.step(self.state[layer.index], saturate(acc, self.acc_bits), sel)
        img.reshape(self.T, N, M)[t][sel] = out
        self.next_t[layer.index][sel] = t + 1
        return out

    def check(self) -> str:
        """Compare every layer's image with the reference; a one-line summary, or
        :class:`VerificationError` naming the first mismatch."""
        ref = reference(self.q, self.inputs, self.T, accumulator_bits=self.acc_bits)
        values = 0
        for layer in self.workload.layers:
            got, want = self.images[layer.index], ref[layer.index]
            if layer.index in self.next_t and np.any(self.next_t[layer.index] != self.T):
                n, m = np.argwhere(self.next_t[layer.index] != self.T)[0]
                raise self._fail(
                    f"layer {layer.name!r}: output {n}, pixel {m} was updated for "
                    f"{int(self.next_t[layer.index][n, m])} of {self.T} timesteps"
                )
            diff = got != want
            if diff.any():
                t, *idx = (int(i) for i in np.argwhere(diff)[0])
                raise self._fail(
                    f"layer {layer.name!r}: neuron {tuple(idx)} at timestep {t} is {int(got[(t, *idx)])}, "
                    f"the fixed-point reference gives {int(want[(t, *idx)])} "
                    f"({int(diff.sum())} of {diff.size} values differ)"
                )
            values += got.size
        n_layers = len(self.workload.layers)
        return (f"verify: all {n_layers} layers bit-exact against the fixed-point reference "
                f"({values} values over {self.T} timesteps, {self.tiles} tiles computed)")
