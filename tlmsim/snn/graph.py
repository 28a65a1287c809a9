"""SNN graphs: tlmsim's small IR of a spiking network, and its import from NIR.

:func:`load_nir` reads a NIR graph (a ``.nir`` HDF5 file written by snnTorch, Norse,
Sinabs, Rockpool, Lava or the ``nir`` package, or an in-memory ``nir.NIRGraph``)
into an :class:`SnnGraph`: nodes in topological order, each with its kind, its
parameters as numpy arrays, the names of the nodes feeding it (several edges into
one node are summed, as NIR defines) and its input and output shapes (without the
batch axis), propagated from the Input node.

Supported node types: Input, Output, Affine, Linear, Scale, Conv1d, Conv2d (stride,
padding incl. 'same'/'valid', dilation, groups), Flatten, SumPool2d, AvgPool2d, IF,
LIF, LI, CubaLIF, CubaLI, and nested NIRGraph nodes (flattened on import: inner nodes
are named ``SUBGRAPH.NODE``; an edge to or from a subgraph enters its Input and
leaves its Output nodes).

Recurrence: a cycle through a neuron is accepted. Its closing edge (found by a
depth-first walk from the Input nodes) is *delayed*: the node at its end reads the
value its source had one timestep earlier (zero at the first timestep), NIR's
discrete-time reading of a recurrent connection. A cycle with no neuron on it (an
instantaneous loop) is refused.

Framework conventions handled on import, each recorded in :attr:`SnnGraph.notes`:
a leading axis of size 1 on an Input's shape (a batch axis, as Norse writes it) is
dropped when the graph only fits without it; Spyx's recurrent cell (its input wired
into the recurrent weights) is read as Spyx computes it (:func:`_flatten`); the
simulation time step ``dt`` is taken from the graph's metadata, or inferred
(:func:`infer_dt`).

Any other node type, an instantaneous loop, or a file that is not a NIR graph is a
:class:`~tlmsim.errors.WorkloadError` naming the file, the node and the reason.
Nothing is ever unpickled (NIR files are HDF5 read through the ``nir`` package).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tlmsim.errors import WorkloadError

#: NIR node type -> kind in the IR
SUPPORTED = {
    "Input": "input", "Output": "output", "Affine": "affine", "Linear": "linear", "Scale": "scale",
    "Conv1d": "conv1d", "Conv2d": "conv2d", "Flatten": "flatten", "SumPool2d": "sumpool2d",
    "AvgPool2d": "avgpool2d", "IF": "if", "LIF": "lif", "LI": "li", "CubaLIF": "cuba_lif", "CubaLI": "cuba_li",
}
#: NIR node types refused, with the reason
UNSUPPORTED_WHY = {
    "Delay": "synaptic delays are not modelled",
    "Threshold": "a bare threshold (no membrane) is not modelled",
    "I": "a bare integrator (no threshold, no leak) is not modelled",
}
SYNAPTIC = ("affine", "linear", "conv1d", "conv2d")
NEURONS = ("if", "lif", "li", "cuba_lif", "cuba_li")
SPIKING = ("if", "lif", "cuba_lif")
#: neurons whose output is their membrane (no threshold)
INTEGRATORS = ("li", "cuba_li")
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
    #: the inputs read one timestep late (recurrent edges closing a cycle)
    delayed: tuple[str, ...] = ()


@dataclass(frozen=True)
class SnnGraph:
    """A spiking network: nodes in topological order (delayed edges excepted)."""

    nodes: tuple[Node, ...]
    source: str = ""
    #: the simulation time step of the reference simulator (see :func:`infer_dt`)
    dt: float = 1.0
    #: what the import changed or assumed (dropped batch axes, dt), one sentence each
    notes: tuple[str, ...] = ()

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

    @property
    def recurrent(self) -> bool:
        return any(n.delayed for n in self.nodes)


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
        flat_notes: list[str] = []
        nodes, edges = _flatten(g, label, notes=flat_notes)
        try:
            graph = _convert(nodes, edges, label, drop_batch=False)
        except WorkloadError as first:
            # a leading axis of 1 on an Input (Norse's batch axis): retry without it
            if not first.key or not first.key.startswith("nodes.") or not _batch_inputs(nodes):
                raise
            try:
                graph = _convert(nodes, edges, label, drop_batch=True)
            except WorkloadError:
                raise first from None
        dt, why = infer_dt(graph, getattr(g, "metadata", None))
        return replace(graph, dt=dt, notes=tuple(flat_notes) + graph.notes + ((why,) if why else ()))
    except WorkloadError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise WorkloadError(f"malformed NIR graph ({type(exc).__name__}: {exc})", file=label) from None


def _spyx_cell(node: Any) -> tuple[str, str, str] | None:
    """(Input, Linear/Affine, neuron) names when ``node`` is Spyx's recurrent cell:
    exactly an Input, an Output, a spiking neuron and a square Linear/Affine with the
    edges Input -> W, W -> neuron, neuron -> W, neuron -> Output; else None."""
    import nir

    kinds = {k: type(v).__name__ for k, v in node.nodes.items()}
    if len(kinds) != 4 or sorted(kinds.values()) not in (sorted(["Input", "Output", n, w])
                                                         for n in ("IF", "LIF", "CubaLIF") for w in ("Linear", "Affine")):
        return None
    by = {v: k for k, v in kinds.items()}
    i, o = by["Input"], by["Output"]
    neuron = next(k for k, v in kinds.items() if v in ("IF", "LIF", "CubaLIF"))
    w = next(k for k, v in kinds.items() if v in ("Linear", "Affine"))
    shape = np.shape(node.nodes[w].weight)
    if not isinstance(node.nodes[w], (nir.Linear, nir.Affine)) or len(shape) != 2 or shape[0] != shape[1]:
        return None
    if sorted(map(tuple, node.edges)) != sorted([(i, w), (w, neuron), (neuron, w), (neuron, o)]):
        return None
    return i, w, neuron


def _flatten(g: Any, label: str, prefix: str = "", notes: list[str] | None = None
             ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The nodes and edges of ``g`` with nested NIRGraph nodes expanded (inner names
    ``SUB.NODE``); the subgraphs' own Input and Output nodes are contracted away.

    Spyx's recurrent cell (:func:`_spyx_cell`: Spyx 1.0.0 writes its RIF / RLIF /
    RCuBaLIF as Input -> W_rec <-> neuron -> Output) is read as Spyx computes it,
    ``v <- ... + x + W_rec s(t-1)``: the cell's input goes to the neuron, not through
    W_rec (read literally, NIR would give ``W_rec (x + s(t-1))``); noted in ``notes``."""
    import nir

    notes = [] if notes is None else notes
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    junctions: set[str] = set()
    ports: dict[str, tuple[list[str], list[str]]] = {}  # subgraph -> (its Inputs, its Outputs), flattened names
    for name, node in g.nodes.items():
        full = prefix + str(name)
        if isinstance(node, nir.NIRGraph):
            inner, inner_edges = _flatten(node, label, full + ".", notes)
            cell = _spyx_cell(node)
            if cell is not None:
                i, w, n = (f"{full}.{k}" for k in cell)
                inner_edges = [(i, n) if e == (i, w) else e for e in inner_edges]
                notes.append(f"recurrent cell {full!r} (Input -> {cell[1]} <-> {cell[2]}, as Spyx writes it) read "
                             f"as Spyx computes it: the cell's input goes straight to {cell[2]!r}, {cell[1]!r} "
                             "carries only the recurrent spikes")
            ins = [f"{full}.{k}" for k, v in node.nodes.items() if isinstance(v, nir.Input)]
            outs = [f"{full}.{k}" for k, v in node.nodes.items() if isinstance(v, nir.Output)]
            ports[full] = (ins, outs)
            junctions.update(ins + outs)
            for k, v in inner.items():
                if k in nodes:
                    raise WorkloadError("two nodes get this name when the nested graph is flattened", file=label,
                                        key=f"nodes.{k}")
                nodes[k] = v
            edges += inner_edges
        else:
            if full in nodes:
                raise WorkloadError("two nodes get this name when the nested graph is flattened", file=label,
                                    key=f"nodes.{full}")
            nodes[full] = node

    def end(e: str, side: int) -> str:
        full = prefix + str(e)
        if full in ports:
            choices = ports[full][side]
            if len(choices) != 1:
                what = "Input" if side == 0 else "Output"
                raise WorkloadError(f"the edge names the nested graph {full!r}, which has {len(choices)} {what} "
                                    f"nodes; name one as '{full}.NODE'", file=label, key="edges")
            return choices[0]
        if full not in nodes:
            raise WorkloadError(f"edge names a node that does not exist: {full!r}", file=label, key="edges")
        return full

    for a, b in g.edges:
        edges.append((end(a, 1), end(b, 0)))
    for j in sorted(junctions):  # contract: every predecessor of a port feeds every successor
        preds = [a for a, b in edges if b == j]
        succs = [b for a, b in edges if a == j]
        edges = [e for e in edges if j not in e] + [(p, s) for p in preds for s in succs]
        del nodes[j]
    return nodes, edges


def _batch_inputs(nodes: dict[str, Any]) -> list[str]:
    """Input nodes whose shape starts with an axis of size 1 (and has another axis)."""
    import nir

    out = []
    for name, node in nodes.items():
        if isinstance(node, nir.Input):
            s = _shape_of(node, "input_type")
            if s and len(s) >= 2 and s[0] == 1:
                out.append(name)
    return out


def _order(names: list[str], edges: list[tuple[str, str]], kinds: dict[str, str], label: str):
    """(topological order, delayed edges): a depth-first walk from the Input nodes (then
    any node not reached) marks the edges that close a cycle; the order is Kahn's on
    the other edges, keeping the file's order among ready nodes."""
    succ: dict[str, list[str]] = {n: [] for n in names}
    for a, b in edges:
        succ[a].append(b)
    state = dict.fromkeys(names, 0)  # 0 new, 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()
    starts = [n for n in names if kinds[n] == "input"] + names
    for s in starts:
        if state[s]:
            continue
        stack, path = [(s, iter(succ[s]))], [s]
        state[s] = 1
        while stack:
            n, it = stack[-1]
            m = next(it, None)
            if m is None:
                stack.pop()
                path.pop()
                state[n] = 2
            elif state[m] == 1:
                cycle = path[path.index(m):]
                if not any(kinds[c] in NEURONS for c in cycle):
                    raise WorkloadError(
                        "the graph has a cycle with no neuron on it (an instantaneous loop): "
                        + " -> ".join(cycle + [m]), file=label, key=f"nodes.{m}")
                back.add((n, m))
            elif state[m] == 0:
                state[m] = 1
                stack.append((m, iter(succ[m])))
                path.append(m)
    fwd = [(a, b) for a, b in edges if (a, b) not in back]
    indeg = dict.fromkeys(names, 0)
    fsucc: dict[str, list[str]] = {n: [] for n in names}
    for a, b in fwd:
        indeg[b] += 1
        fsucc[a].append(b)
    ready = [n for n in names if indeg[n] == 0]
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in fsucc[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    return order, back


def _convert(gnodes: dict[str, Any], edges: list[tuple[str, str]], label: str, *, drop_batch: bool) -> SnnGraph:
    kinds = {}
    for name, node in gnodes.items():
        t = type(node).__name__
        if t not in SUPPORTED:
            why = UNSUPPORTED_WHY.get(t)
            raise WorkloadError(
                f"node type {t} is not supported" + (f" ({why})" if why else ""), file=label, key=f"nodes.{name}",
                allowed=", ".join(SUPPORTED) + ", NIRGraph (nested)",
            )
        kinds[name] = SUPPORTED[t]
    names = list(gnodes)
    preds: dict[str, list[str]] = {n: [] for n in names}
    succ: dict[str, list[str]] = {n: [] for n in names}
    for a, b in edges:
        if a not in gnodes or b not in gnodes:
            raise WorkloadError(f"edge ({a!r}, {b!r}) names a node that does not exist", file=label, key="edges")
        preds[b].append(a)
        succ[a].append(b)
    order, back = _order(names, edges, kinds, label)
    shapes: dict[str, tuple[int, ...]] = {}
    nodes: list[Node] = []
    notes: list[str] = []
    total = 0
    for name in order:
        node, kind = gnodes[name], kinds[name]
        ins = tuple(preds[name])
        delayed = tuple(p for p in ins if (p, name) in back)
        if kind == "input":
            shape = _shape_of(node, "input_type")
            if not shape:
                raise WorkloadError("the Input node has no shape", file=label, key=f"nodes.{name}.input_type")
            if drop_batch and len(shape) >= 2 and shape[0] == 1:
                notes.append(f"Input {name!r}: shape {list(shape)} has a leading axis of size 1 (a batch axis); "
                             f"dropped, the input is {list(shape[1:])}")
                shape = shape[1:]
            in_shape = out_shape = shape
            params: dict[str, Any] = {}
        else:
            now = [p for p in ins if p not in delayed]
            if not ins:
                raise WorkloadError("node has no input edge", file=label, key=f"nodes.{name}")
            if not now:
                raise WorkloadError("node has only recurrent (delayed) inputs; it needs a feed-forward one",
                                    file=label, key=f"nodes.{name}")
            in_shapes = {shapes[p] for p in now}
            if len(in_shapes) > 1:
                raise WorkloadError(
                    f"inputs of different shapes are summed: {sorted(in_shapes)}", file=label, key=f"nodes.{name}"
                )
            in_shape = in_shapes.pop()
            out_shape, params = _node(node, kind, in_shape, name, label, gnodes, succ)
        if any(d < 1 for d in out_shape):
            raise WorkloadError(f"output shape {list(out_shape)} is empty", file=label, key=f"nodes.{name}")
        total += int(np.prod(out_shape))
        if total > MAX_NEURONS:
            raise WorkloadError(f"more than {MAX_NEURONS} neurons", file=label, key=f"nodes.{name}")
        shapes[name] = out_shape
        nodes.append(Node(name=name, kind=kind, inputs=ins, in_shape=in_shape, out_shape=out_shape, params=params,
                          delayed=delayed))
    for a, b in sorted(back):  # a recurrent edge's value must fit the input it is summed into
        target = next(n for n in nodes if n.name == b)
        if shapes[a] != target.in_shape:
            raise WorkloadError(f"the recurrent input from {a!r} has shape {list(shapes[a])}, but the node's input "
                                f"is {list(target.in_shape)}", file=label, key=f"nodes.{b}")
    if not any(n.kind == "input" for n in nodes):
        raise WorkloadError("the graph has no Input node", file=label)
    return SnnGraph(nodes=tuple(nodes), source=label, notes=tuple(notes))


#: time-constant parameters of each neuron kind
_TAUS = {"lif": ("tau",), "li": ("tau",), "cuba_lif": ("tau_syn", "tau_mem"), "cuba_li": ("tau_syn", "tau_mem")}


def infer_dt(graph: SnnGraph, metadata: Any = None) -> tuple[float, str]:
    """The reference simulator's time step for ``graph`` and a note saying where it
    comes from. NIR's neurons are continuous-time; exporters pick the step in the
    parameters they write. In order:

    1. the graph's ``metadata["dt"]`` when it is a positive number;
    2. the ``r = tau / dt`` convention (snnTorch's exporter, tlmsim's trainers): when
       every leaky neuron has ``r > 1`` and all their ``tau / r`` agree within 20 %,
       ``dt`` = the smallest ``tau / r`` (with snnTorch's ``r = tau / dt`` forward Euler
       gives exactly ``v <- (1 - dt / tau) v + I``; Rockpool writes
       ``r = tau exp(-dt / tau) / dt``, whose ``tau / r = dt exp(dt / tau)`` is within a
       few per cent of its dt);
    3. otherwise ``dt = 1`` (one step per unit of time, Sinabs' reading), or the
       smallest time constant of the graph when that is below 1, so that no
       forward-Euler factor ``dt / tau`` exceeds 1 (Norse writes ``tau = 1e-3 s / ...``).

    Graphs with no time constant (IF only) get ``dt = 1``; ``dt = 1`` gets no note."""
    md = metadata if isinstance(metadata, dict) else {}
    v = md.get("dt")
    try:
        fv = float(np.asarray(v).ravel()[0]) if v is not None else None
    except (TypeError, ValueError, IndexError):
        fv = None
    if fv is not None and np.isfinite(fv) and fv > 0:
        return fv, f"dt = {fv:g} from the graph's metadata"
    taus, ratios, below = [], [], True
    for n in graph.nodes:
        for p in _TAUS.get(n.kind, ()):
            taus.append(n.params[p].ravel())
        if n.kind in _TAUS:
            tm = n.params["tau" if "tau" in n.params else "tau_mem"].ravel()
            r = n.params["r"].ravel()
            rat = np.divide(tm, r, out=np.full_like(tm, np.nan), where=r != 0)
            ratios.append(rat)
            below = below and bool(np.all(rat < tm * (1 - 1e-4)))  # r > 1: not the r = 1 of Norse or Sinabs
    if not taus:
        return 1.0, ""
    tmin = float(f"{float(min(t.min() for t in taus)):.6g}")  # the exporters' float32 values: 6 digits
    rat = np.concatenate(ratios)
    if below and rat.size and np.all(np.isfinite(rat)) and rat.min() > 0:
        d = float(f"{float(rat.min()):.6g}")
        if rat.max() <= 1.2 * rat.min():
            return d, ("" if d == 1.0 else f"dt = {d:g} inferred from tau / r (the r = tau / dt convention)")
    if tmin >= 1.0:
        return 1.0, ""
    return tmin, (f"dt = {tmin:g}: the graph's smallest time constant (no dt in the file, and r is not "
                  "tau / dt); set 'dt' in a workload YAML to change it")


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
        s = s.reshape(in_shape) if s.size == np.prod(in_shape) else s
        return in_shape, {"scale": np.broadcast_to(s, in_shape).copy()}
    if kind in ("conv1d", "conv2d"):
        return _conv(node, kind, in_shape, where, label)
    if kind == "flatten":
        start, end = int(node.start_dim), int(node.end_dim)
        nd = len(in_shape)
        s = start if start >= 0 else nd + start
        e = end if end >= 0 else nd + end
        # exporters disagree on whether start_dim counts the batch axis; a Flatten
        # feeding an Affine/Linear flattens everything (what the next node expects)
        feeds_dense = any(type(g[m]).__name__ in ("Affine", "Linear") for m in succ[name])
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
             "cuba_lif": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
             "cuba_li": ("tau_syn", "tau_mem", "r", "v_leak", "w_in")}[kind]
    params = {}
    for p in names:
        v = getattr(node, p, None)
        if v is None:  # v_reset absent (NIR before 2025): 0; w_in absent: 1 (NIR's default)
            v = 1.0 if p == "w_in" else 0.0
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


def _conv(node: Any, kind: str, in_shape: tuple[int, ...], where: str, label: str):
    """Conv1d / Conv2d: output shape and parameters. A Conv1d is kept with its 1D
    shapes; its parameters are stored in the 2D form of a ``[C, 1, L]`` image with a
    ``1 x K`` kernel (stride, padding and dilation ``(1, s)``, ``(0, p)``, ``(1, d)``),
    which is exactly PyTorch's Conv1d."""
    one = kind == "conv1d"
    w = _arr(node.weight)
    nd = 1 if one else 2
    if w.ndim != nd + 2 or len(in_shape) != nd + 1:
        raise WorkloadError(f"{'Conv1d' if one else 'Conv2d'} weight {list(w.shape)} / input {list(in_shape)} are not "
                            f"{nd}D convolutions", file=label, key=f"{where}.weight")
    if one:
        w = w[:, :, None, :]
        in3 = (in_shape[0], 1, in_shape[1])
    else:
        in3 = in_shape
    groups = int(node.groups)
    c, h, wd = in3
    if groups < 1 or c % groups or w.shape[1] * groups != c or w.shape[0] % groups:
        raise WorkloadError(f"weight {list(w.shape)} with groups={groups} does not fit {c} input channels",
                            file=label, key=f"{where}.weight")
    kh, kw = w.shape[2], w.shape[3]
    sh, sw = (1, _pair(node.stride)[0]) if one else _pair(node.stride)
    dh, dw = (1, _pair(node.dilation)[0]) if one else _pair(node.dilation)
    pad = node.padding
    if isinstance(pad, bytes):
        pad = pad.decode()
    if isinstance(pad, np.ndarray) and pad.dtype.kind in "SU":
        pad = str(pad.ravel()[0])
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
        ph, pw = (0, _pair(pad)[0]) if one else _pair(pad)
    ho, wo = _conv_out(h, kh, sh, ph, dh), _conv_out(wd, kw, sw, pw, dw)
    b = _arr(node.bias) if getattr(node, "bias", None) is not None else np.zeros(w.shape[0])
    params = {"weight": w, "bias": np.broadcast_to(b, (w.shape[0],)).copy(), "stride": (sh, sw),
              "padding": (ph, pw), "dilation": (dh, dw), "groups": groups}
    return ((w.shape[0], wo) if one else (w.shape[0], ho, wo)), params


def magnitude_prune(graph: SnnGraph, fraction: float) -> SnnGraph:
    """A copy of ``graph`` with the ``fraction`` smallest-magnitude weights of every
    synaptic node (Conv1d, Conv2d, Affine, Linear) set to zero (ties broken by position)."""
    nodes = []
    for n in graph.nodes:
        if n.kind in SYNAPTIC and fraction > 0:
            w = n.params["weight"]
            k = int(fraction * w.size)
            flat = w.ravel().copy()
            if k:
                flat[np.argsort(np.abs(flat), kind="stable")[:k]] = 0.0
            params = dict(n.params, weight=flat.reshape(w.shape))
            n = replace(n, params=params)
        nodes.append(n)
    return replace(graph, nodes=tuple(nodes))
