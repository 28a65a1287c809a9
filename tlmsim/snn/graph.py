"""SNN graphs: tlmsim's small IR of a spiking network, and its import from NIR.

:func:`load_nir` reads a NIR graph (a ``.nir`` HDF5 file written by snnTorch, Norse,
Sinabs, Rockpool, Lava or the ``nir`` package, or an in-memory ``nir.NIRGraph``)
into an :class:`SnnGraph`: nodes in topological order, each with its kind, its
parameters as numpy arrays, the names of the nodes feeding it (several edges into
one node are summed, as NIR defines) and its input and output shapes (without the
batch axis), propagated from the Input node.

Supported node types: Input, Output, Affine, Linear, Scale, Conv2d (stride,
padding incl. 'same'/'valid', dilation, groups), Flatten, SumPool2d, AvgPool2d, IF,
LIF, LI, CubaLIF. Any other type, a graph with a cycle, or a file that is not a NIR
graph is a :class:`~tlmsim.errors.WorkloadError` naming the file and the node.
Nothing is ever unpickled (NIR files are HDF5 read through the ``nir`` package).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tlmsim.errors import WorkloadError

#: NIR node type -> kind in the IR
SUPPORTED = {
    "Input": "input", "Output": "output", "Affine": "affine", "Linear": "linear", "Scale": "scale",
    "Conv2d": "conv2d", "Flatten": "flatten", "SumPool2d": "sumpool2d", "AvgPool2d": "avgpool2d",
    "IF": "if", "LIF": "lif", "LI": "li", "CubaLIF": "cuba_lif",
}
SYNAPTIC = ("affine", "linear", "conv2d")
NEURONS = ("if", "lif", "li", "cuba_lif")
SPIKING = ("if", "lif", "cuba_lif")
#: the largest graph accepted (neurons per timestep, summed over nodes)
MAX_NEURONS = 50_000_000


@dataclass(frozen=True)
class Node:
    """One node of an SNN graph."""

    name: str
    kind: str
    inputs: tuple[str, ...]
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class SnnGraph:
    """A spiking network: nodes in topological order."""

    nodes: tuple[Node, ...]
    source: str = ""

    def __getitem__(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def inputs(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "input"]

    @property
    def outputs(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "output"]


def _pair(v: Any) -> tuple[int, int]:
    a = np.atleast_1d(np.asarray(v)).astype(int).ravel()
    return (int(a[0]), int(a[0])) if a.size == 1 else (int(a[0]), int(a[1]))


def _conv_out(h: int, k: int, s: int, p: int, d: int) -> int:
    return (h + 2 * p - d * (k - 1) - 1) // s + 1


def _shape_of(node: Any, key: str) -> tuple[int, ...] | None:
    t = getattr(node, key, None) or {}
    v = next(iter(t.values()), None) if isinstance(t, dict) else None
    if v is None:
        return None
    return tuple(int(x) for x in np.asarray(v).ravel())


def load_nir(source: Any) -> SnnGraph:
    """Read a NIR graph (a path or a ``nir.NIRGraph``) into an :class:`SnnGraph`."""
    import nir

    label = str(source) if not isinstance(source, nir.NIRGraph) else "<NIRGraph>"
    if isinstance(source, nir.NIRGraph):
        g = source
    else:
        path = Path(source)
        if not path.is_file():
            raise WorkloadError("NIR file not found", file=label)
        try:
            # nir's own type check rejects valid grouped convs (it takes C_in / groups for the
            # input channels); shapes are checked here instead, node by node
            g = nir.read(str(path), type_check=False)
        except Exception as exc:  # noqa: BLE001 - h5py/nir raise many types for a bad file
            raise WorkloadError(f"not a readable NIR graph ({type(exc).__name__}: {exc})", file=label) from None
    if not isinstance(g, nir.NIRGraph):
        raise WorkloadError(f"the file holds a {type(g).__name__}, not a NIR graph", file=label)
    try:
        return _convert(g, label)
    except WorkloadError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise WorkloadError(f"malformed NIR graph ({type(exc).__name__}: {exc})", file=label) from None


def _convert(g: Any, label: str) -> SnnGraph:
    kinds = {}
    for name, node in g.nodes.items():
        t = type(node).__name__
        if t not in SUPPORTED:
            raise WorkloadError(
                f"node type {t} is not supported", file=label, key=f"nodes.{name}",
                allowed=", ".join(SUPPORTED),
            )
        kinds[name] = SUPPORTED[t]
    preds: dict[str, list[str]] = {n: [] for n in g.nodes}
    for a, b in g.edges:
        if a not in g.nodes or b not in g.nodes:
            raise WorkloadError(f"edge ({a!r}, {b!r}) names a node that does not exist", file=label, key="edges")
        preds[b].append(a)
    # topological order (Kahn), keeping the file's order among ready nodes
    indeg = {n: len(p) for n, p in preds.items()}
    succ: dict[str, list[str]] = {n: [] for n in g.nodes}
    for a, b in g.edges:
        succ[a].append(b)
    ready = [n for n in g.nodes if indeg[n] == 0]
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in succ[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    if len(order) != len(g.nodes):
        stuck = sorted(n for n, d in indeg.items() if d > 0)
        raise WorkloadError("the graph has a cycle (recurrent connections are not supported)", file=label,
                            key="edges", value=", ".join(stuck[:5]))
    shapes: dict[str, tuple[int, ...]] = {}
    nodes: list[Node] = []
    total = 0
    for name in order:
        node, kind = g.nodes[name], kinds[name]
        ins = tuple(preds[name])
        if kind == "input":
            shape = _shape_of(node, "input_type")
            if not shape:
                raise WorkloadError("the Input node has no shape", file=label, key=f"nodes.{name}.input_type")
            in_shape = out_shape = shape
        else:
            if not ins:
                raise WorkloadError("node has no input edge", file=label, key=f"nodes.{name}")
            in_shapes = {shapes[p] for p in ins}
            if len(in_shapes) > 1:
                raise WorkloadError(
                    f"inputs of different shapes are summed: {sorted(in_shapes)}", file=label, key=f"nodes.{name}"
                )
            in_shape = in_shapes.pop()
            out_shape, params = _node(node, kind, in_shape, name, label, g, succ)
        params = {} if kind == "input" else params
        if any(d < 1 for d in out_shape):
            raise WorkloadError(f"output shape {list(out_shape)} is empty", file=label, key=f"nodes.{name}")
        total += int(np.prod(out_shape))
        if total > MAX_NEURONS:
            raise WorkloadError(f"more than {MAX_NEURONS} neurons", file=label, key=f"nodes.{name}")
        shapes[name] = out_shape
        nodes.append(Node(name=name, kind=kind, inputs=ins, in_shape=in_shape, out_shape=out_shape, params=params))
    if not any(n.kind == "input" for n in nodes):
        raise WorkloadError("the graph has no Input node", file=label)
    return SnnGraph(nodes=tuple(nodes), source=label)


def _arr(x: Any, dtype=np.float64) -> np.ndarray:
    raw = np.asarray(x)
    if raw.dtype.kind not in "biuf":  # complex, strings, objects: not silently cast
        raise ValueError(f"parameters must be real numbers, got dtype {raw.dtype}")
    a = raw.astype(dtype)
    if not np.all(np.isfinite(a)):
        raise ValueError("parameters must be finite (no NaN or inf)")
    return a


def _node(node: Any, kind: str, in_shape: tuple[int, ...], name: str, label: str, g: Any, succ: dict):
    where = f"nodes.{name}"
    if kind == "output":
        return in_shape, {}
    if kind in ("affine", "linear"):
        w = _arr(node.weight)
        if w.ndim != 2 or in_shape != (w.shape[1],):
            raise WorkloadError(f"weight {list(w.shape)} does not fit the input shape {list(in_shape)}",
                                file=label, key=f"{where}.weight")
        b = _arr(node.bias) if kind == "affine" else np.zeros(w.shape[0])
        return (w.shape[0],), {"weight": w, "bias": np.broadcast_to(b, (w.shape[0],)).copy()}
    if kind == "scale":
        s = _arr(node.scale)
        return in_shape, {"scale": np.broadcast_to(s, in_shape).copy()}
    if kind == "conv2d":
        w = _arr(node.weight)
        if w.ndim != 4 or len(in_shape) != 3:
            raise WorkloadError(f"Conv2d weight {list(w.shape)} / input {list(in_shape)} are not 2D convolutions",
                                file=label, key=f"{where}.weight")
        groups = int(node.groups)
        c, h, wd = in_shape
        if groups < 1 or c % groups or w.shape[1] * groups != c or w.shape[0] % groups:
            raise WorkloadError(f"weight {list(w.shape)} with groups={groups} does not fit {c} input channels",
                                file=label, key=f"{where}.weight")
        kh, kw = w.shape[2], w.shape[3]
        sh, sw = _pair(node.stride)
        dh, dw = _pair(node.dilation)
        pad = node.padding
        if isinstance(pad, str):
            if pad == "valid":
                ph = pw = 0
            elif pad == "same":
                if (sh, sw) != (1, 1):
                    raise WorkloadError("padding 'same' needs stride 1", file=label, key=f"{where}.padding")
                ph, pw = dh * (kh - 1) // 2, dw * (kw - 1) // 2
                if (dh * (kh - 1)) % 2 or (dw * (kw - 1)) % 2:
                    raise WorkloadError("padding 'same' with an even kernel extent is not supported",
                                        file=label, key=f"{where}.padding")
            else:
                raise WorkloadError("padding must be an int, a pair, 'same' or 'valid'", file=label,
                                    key=f"{where}.padding", value=pad)
        else:
            ph, pw = _pair(pad)
        ho, wo = _conv_out(h, kh, sh, ph, dh), _conv_out(wd, kw, sw, pw, dw)
        b = _arr(node.bias) if node.bias is not None else np.zeros(w.shape[0])
        params = {"weight": w, "bias": np.broadcast_to(b, (w.shape[0],)).copy(), "stride": (sh, sw),
                  "padding": (ph, pw), "dilation": (dh, dw), "groups": groups}
        return (w.shape[0], ho, wo), params
    if kind == "flatten":
        start, end = int(node.start_dim), int(node.end_dim)
        nd = len(in_shape)
        s = start if start >= 0 else nd + start
        e = end if end >= 0 else nd + end
        # exporters disagree on whether start_dim counts the batch axis; a Flatten
        # feeding an Affine/Linear flattens everything (what the next node expects)
        feeds_dense = any(type(g.nodes[m]).__name__ in ("Affine", "Linear") for m in succ[name])
        if feeds_dense or not (0 <= s <= e < nd):
            return (int(np.prod(in_shape)),), {}
        return in_shape[:s] + (int(np.prod(in_shape[s:e + 1])),) + in_shape[e + 1:], {}
    if kind in ("sumpool2d", "avgpool2d"):
        if len(in_shape) != 3:
            raise WorkloadError(f"pooling needs a [C, H, W] input, got {list(in_shape)}", file=label, key=where)
        kh, kw = _pair(node.kernel_size)
        sh, sw = _pair(node.stride)
        ph, pw = _pair(node.padding)
        c, h, wd = in_shape
        return (c, _conv_out(h, kh, sh, ph, 1), _conv_out(wd, kw, sw, pw, 1)), {
            "kernel": (kh, kw), "stride": (sh, sw), "padding": (ph, pw)}
    # neurons: parameters broadcast over the node's shape
    names = {"if": ("r", "v_threshold", "v_reset"), "lif": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
             "li": ("tau", "r", "v_leak"),
             "cuba_lif": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in")}[kind]
    params = {}
    for p in names:
        v = getattr(node, p, None)
        if v is None:
            v = 0.0
        a = _arr(v)
        try:
            params[p] = np.broadcast_to(a.reshape(a.shape) if a.size != np.prod(in_shape) else a.reshape(in_shape),
                                        in_shape).copy()
        except ValueError:
            raise WorkloadError(f"parameter {p} of shape {list(a.shape)} does not fit the input {list(in_shape)}",
                                file=label, key=f"{where}.{p}") from None
    for p in ("tau", "tau_syn", "tau_mem"):
        if p in params and np.any(params[p] <= 0):
            raise WorkloadError(f"{p} must be > 0", file=label, key=f"{where}.{p}")
    return in_shape, params


def magnitude_prune(graph: SnnGraph, fraction: float) -> SnnGraph:
    """A copy of ``graph`` with the ``fraction`` smallest-magnitude weights of every
    synaptic node (Conv2d, Affine, Linear) set to zero (ties broken by position)."""
    nodes = []
    for n in graph.nodes:
        if n.kind in SYNAPTIC and fraction > 0:
            w = n.params["weight"]
            k = int(fraction * w.size)
            flat = w.ravel().copy()
            if k:
                flat[np.argsort(np.abs(flat), kind="stable")[:k]] = 0.0
            params = dict(n.params, weight=flat.reshape(w.shape))
            n = Node(name=n.name, kind=n.kind, inputs=n.inputs, in_shape=n.in_shape, out_shape=n.out_shape,
                     params=params)
        nodes.append(n)
    return SnnGraph(nodes=tuple(nodes), source=graph.source)
