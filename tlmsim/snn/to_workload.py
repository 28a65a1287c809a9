"""An :class:`~tlmsim.snn.graph.SnnGraph` as a tlmsim workload: layers and real spikes.

Mapping (graph node -> workload layer):

* Conv2d -> ``conv2d``; Conv1d -> ``conv2d`` on a ``[C, 1, L]`` image with a
  ``1 x K`` kernel (exactly PyTorch's Conv1d, so every dataflow runs it unchanged);
  Affine / Linear -> ``linear``; SumPool2d -> ``sumpool2d``; AvgPool2d ->
  ``avgpool2d``; Flatten -> ``flatten``; each layer named as its node;
* a neuron node (IF, LIF, LI, CubaLIF, CubaLI) becomes the ``neuron`` of the
  synaptic or pooling layer that feeds it (when it is that layer's only reader);
  a neuron fed by two paths (a ResNet block: a conv and a shortcut) takes the first
  synaptic path as its layer and the other as that layer's ``residual`` (the
  shortcut's spikes, or partial sums of a neuron-less shortcut);
* a neuron with no such layer before it (fed straight from the Input, from another
  neuron, from a Flatten) becomes an ``identity`` layer: an identity synapse, no
  weights, with that neuron;
* a recurrent connection, an Affine / Linear (or a per-neuron Scale, as a diagonal
  matrix) from a neuron's output back into the same neuron, makes that neuron's
  layer ``recurrent``: an extra synapse whose input is the layer's own output spikes
  of the previous timestep (spike trace key ``LAYER.recurrent``, row 0 all zero);
  ``recurrent_sparsity`` is the fraction of its zero weights, and its real zero
  mask goes with the workload (key ``LAYER.recurrent`` of :func:`weight_masks`); a
  recurrent neuron with no Affine/Linear before it (a recurrent identity layer) is
  refused: no dataflow schedules it;
* Scale nodes are folded into the data (no hardware cost); Input/Output carry no work;
* ``weight_sparsity`` = the fraction of exactly-zero weights, and the layer's real
  zero mask (:func:`weight_masks`) goes with the workload: the dataflows skip folds
  whose weights are all zero and compress each block by its real nonzeros.

Spikes: each layer's input is the output of the node feeding it, as the reference
simulator computed it. Inputs that are not binary (a direct-encoded image, a
sum-pooled spike count) are recorded as their nonzero pattern, which is what a
spike-driven datapath sees as "active".
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import INTEGRATORS, NEURONS, SnnGraph

_OP = {"conv2d": "conv2d", "conv1d": "conv2d", "affine": "linear", "linear": "linear", "sumpool2d": "sumpool2d",
       "avgpool2d": "avgpool2d", "flatten": "flatten"}
_NEURON = {"if": "if", "lif": "lif", "li": "li", "cuba_lif": "cuba_lif", "cuba_li": "cuba_li"}
#: layer ops a neuron can be attached to
_NEURON_HOSTS = ("conv2d", "linear", "sumpool2d", "avgpool2d")
#: suffix of a recurrent synapse's spike-trace key: ``LAYER.recurrent``
RECURRENT_SUFFIX = ".recurrent"


class Feed(NamedTuple):
    """Where a workload layer's input spikes come from in a reference run."""

    node: str  #: the graph node whose output they are
    shape: tuple[int, ...]  #: the layer's in_shape (a Conv1d's [C, L] is [C, 1, L])
    delay: int = 0  #: 1 for a recurrent synapse: the output of the previous timestep


def recurrent_key(layer: str) -> str:
    """The spike-trace key of ``layer``'s recurrent synapse."""
    return layer + RECURRENT_SUFFIX


def _sparsity(w: np.ndarray) -> float:
    return float(min(np.mean(w == 0), 0.999))


def graph_layers(graph: SnnGraph) -> tuple[list[dict], dict[str, Feed]]:
    """Workload layer dicts (as in a workload YAML) and, per layer (and per recurrent
    synapse, keyed ``LAYER.recurrent``), where its input spikes come from."""
    producer: dict[str, str] = {}  # node -> the layer whose output this node's value is ("input" for inputs)
    wshape: dict[str, tuple[int, ...]] = {}  # node -> shape of its value as the workload sees it
    layers: list[dict] = []
    by_name: dict[str, dict] = {}
    feeds: dict[str, Feed] = {}
    readers: dict[str, list[str]] = {n.name: [] for n in graph.nodes}
    for n in graph.nodes:
        for i in n.inputs:
            readers[i].append(n.name)
    consumed: set[str] = set()  # recurrent synapses folded into their neuron's layer

    def add(layer: dict, feed_node: str) -> dict:
        layers.append(layer)
        by_name[layer["name"]] = layer
        feeds[layer["name"]] = Feed(feed_node, tuple(layer["in_shape"]))
        return layer

    for node in graph.nodes:
        k = node.kind
        if k == "input":
            producer[node.name] = "input"
            wshape[node.name] = node.out_shape
            continue
        if node.name in consumed:
            continue
        if node.delayed and k not in NEURONS:
            raise WorkloadError(f"the recurrent connection into {node.name!r} ({k}) is not mapped: only a neuron "
                                "may close a cycle", key=node.name)
        srcs = [producer[i] for i in node.inputs if i not in node.delayed]
        if k in ("output", "scale"):
            if len(set(srcs)) > 1:
                raise WorkloadError(f"{k} node {node.name!r} sums several paths; not supported", key=node.name)
            producer[node.name] = srcs[0]
            wshape[node.name] = wshape[node.inputs[0]]
            continue
        if k in _OP:
            if len(node.inputs) != 1:
                raise WorkloadError(f"node {node.name!r} ({k}) sums {len(node.inputs)} inputs; only neurons may",
                                    key=node.name)
            src = node.inputs[0]
            layer = {"name": node.name, "op": _OP[k], "in_shape": list(wshape[src]), "input": srcs[0]}
            p = node.params
            if k in ("conv2d", "conv1d"):
                if p["groups"] != 1 or p["dilation"] != (1, 1):
                    raise WorkloadError(f"conv {node.name!r}: groups and dilation other than 1 are not mapped yet",
                                        key=node.name)
                w = p["weight"]
                if k == "conv1d":
                    layer["in_shape"] = [node.in_shape[0], 1, node.in_shape[1]]
                layer.update(out_channels=int(w.shape[0]), kernel=[int(w.shape[2]), int(w.shape[3])],
                             stride=list(p["stride"]), padding=list(p["padding"]), weight_sparsity=_sparsity(w))
                out = (int(w.shape[0]), 1, node.out_shape[1]) if k == "conv1d" else node.out_shape
            elif k in ("affine", "linear"):
                w = p["weight"]
                layer.update(out_features=int(w.shape[0]), weight_sparsity=_sparsity(w))
                out = node.out_shape
            elif k in ("sumpool2d", "avgpool2d"):
                layer.update(kernel=list(p["kernel"]), stride=list(p["stride"]), padding=list(p["padding"]))
                out = node.out_shape
            else:  # flatten
                out = node.out_shape
            add(layer, src)
            producer[node.name] = node.name
            wshape[node.name] = tuple(out)
            continue
        if k in NEURONS:
            now = [i for i in node.inputs if i not in node.delayed]
            now_srcs = [producer[i] for i in now]
            # the layer the neuron attaches to: a neuron-less synaptic/pooling layer read only by this neuron
            # (such a layer has no neuron yet: only its one reader, this neuron, attaches one)
            main = [s for s, i in zip(now_srcs, now) if s in by_name and by_name[s]["op"] in _NEURON_HOSTS
                    and producer[i] == i and readers[i] == [node.name]]
            main.sort(key=lambda s: by_name[s]["op"] not in ("conv2d", "linear"))  # synaptic layers first
            if main:
                layer = by_name[main[0]]
                others = [s for s in now_srcs if s != main[0]]
            else:  # an identity synapse: the neuron straight on its first input
                first = now[0]
                layer = add({"name": node.name, "op": "identity", "in_shape": list(wshape[first]),
                             "input": now_srcs[0]}, first)
                others = now_srcs[1:]
            layer["neuron"] = _NEURON[k]
            if len(others) > 1:
                raise WorkloadError(f"neuron {node.name!r} sums {len(now_srcs)} paths; at most 2 are mapped",
                                    key=node.name)
            if others:
                if others[0] == "input":
                    raise WorkloadError(f"neuron {node.name!r}: a shortcut from the network input is not mapped",
                                        key=node.name)
                if layer["op"] not in ("conv2d", "linear", "identity"):
                    raise WorkloadError(f"neuron {node.name!r}: a shortcut into a {layer['op']} layer is not mapped",
                                        key=node.name)
                layer["residual"] = others[0]
            if node.delayed:
                _recurrent(graph, node, layer, readers, consumed, feeds)
            producer[node.name] = layer["name"]
            # (an identity layer is named as its neuron: this is also the layer's shape)
            wshape[node.name] = wshape[layer["name"]] if layer["op"] != "identity" else tuple(layer["in_shape"])
            continue
        raise WorkloadError(f"node kind {k!r} cannot be mapped", key=node.name)
    # a layer reading the network input (or the previous layer) needs no explicit input
    for i, layer in enumerate(layers):
        if layer["input"] == (layers[i - 1]["name"] if i else "input"):
            del layer["input"]
    return layers, feeds


def _recurrent(graph: SnnGraph, node, layer: dict, readers: dict, consumed: set, feeds: dict) -> None:
    """Fold the recurrent synapse into ``node``'s ``layer`` (see the module docstring)."""
    if len(node.delayed) > 1:
        raise WorkloadError(f"neuron {node.name!r} has {len(node.delayed)} recurrent inputs; one is mapped",
                            key=node.name)
    rec = graph[node.delayed[0]]
    if rec.kind not in ("affine", "linear", "scale") or rec.inputs != (node.name,) or readers[rec.name] != [node.name]:
        raise WorkloadError(
            f"the recurrent connection {rec.name!r} ({rec.kind}) into {node.name!r} is not mapped: only an Affine, "
            "Linear or Scale from the neuron's own output back into it", key=rec.name)
    if node.kind in INTEGRATORS:
        raise WorkloadError(f"neuron {node.name!r} ({node.kind}) has no spikes to feed back; a recurrent "
                            "connection is mapped for spiking neurons only", key=node.name)
    if len(node.out_shape) != 1:
        raise WorkloadError(f"recurrent neuron {node.name!r} has shape {list(node.out_shape)}; recurrence is "
                            "mapped for 1-D layers after an Affine/Linear", key=node.name)
    if layer["op"] != "linear":
        raise WorkloadError(f"recurrent neuron {node.name!r} has no Affine/Linear before it (its feed-forward "
                            "synapse is the identity); no dataflow schedules such a recurrent identity layer: "
                            "put an Affine/Linear before the neuron", key=node.name)
    w = rec.params["weight"] if rec.kind != "scale" else np.diag(rec.params["scale"])
    layer["recurrent"] = True
    layer["recurrent_sparsity"] = _sparsity(w)
    consumed.add(rec.name)
    feeds[recurrent_key(layer["name"])] = Feed(node.name, node.out_shape, 1)


def recurrent_weights(graph: SnnGraph, neuron: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(weights (N, N), bias (N,)) of the recurrent synapse into ``neuron``, or None."""
    n = graph[neuron]
    if not n.delayed:
        return None
    rec = graph[n.delayed[0]]
    if rec.kind == "scale":
        return np.diag(rec.params["scale"]), np.zeros(rec.out_shape[0])
    return rec.params["weight"], rec.params["bias"]


def layer_spikes(graph: SnnGraph, outputs: dict[str, np.ndarray], feeds: dict[str, Feed],
                 sample: int | None = 0) -> dict[str, np.ndarray]:
    """Each layer's input (and each recurrent synapse's) as bool spikes from a
    reference run's recorded outputs (T, batch, ...): one sample (T, *in_shape), or
    all samples (N, T, *in_shape). A recurrent synapse's input at timestep t is the
    output at t - 1 (all zero at t = 0: neurons start silent)."""
    out = {}
    for key, feed in feeds.items():
        node, shape, delay = feed if isinstance(feed, tuple) else (feed, None, 0)
        a = outputs[node]
        nz = a != 0
        if shape is not None:
            nz = nz.reshape(nz.shape[:2] + tuple(shape))
        if delay:
            nz = np.concatenate([np.zeros_like(nz[:delay]), nz[:-delay]], axis=0)
        out[key] = nz[:, sample] if sample is not None else np.moveaxis(nz, 1, 0)
    return out


def weight_masks(graph: SnnGraph, layers) -> dict[str, np.ndarray]:
    """Layer name -> nonzero mask of its weights, bool ``(K, N)`` in the GEMM layout
    (conv: K ordered (c, kh, kw) as im2col; linear: K inputs), for every conv/linear layer;
    and ``LAYER.recurrent`` -> the ``(N, N)`` mask of a recurrent layer's recurrent
    synapse (rows: the previous timestep's output spikes)."""
    out = {}
    for layer in layers:
        if layer.has_weights:
            w = np.asarray(graph[layer.name].params["weight"])
            out[layer.name] = np.ascontiguousarray((w.reshape(w.shape[0], -1) != 0).T)
        if layer.recurrent:  # its neuron: the one node that reads the layer and closes the cycle
            neuron = next(n.name for n in graph.nodes if n.delayed and layer.name in n.inputs)
            out[recurrent_key(layer.name)] = np.ascontiguousarray((recurrent_weights(graph, neuron)[0] != 0).T)
    return out
