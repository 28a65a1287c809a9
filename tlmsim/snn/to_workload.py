"""An :class:`~tlmsim.snn.graph.SnnGraph` as a tlmsim workload: layers and real spikes.

Mapping (graph node -> workload layer):

* Conv2d -> ``conv2d``; Affine / Linear -> ``linear``; SumPool2d -> ``sumpool2d``;
  AvgPool2d -> ``avgpool2d``; Flatten -> ``flatten``; each layer named as its node;
* a neuron node (IF, LIF, LI, CubaLIF) becomes the ``neuron`` of the synaptic layer
  that feeds it; a neuron fed by two paths (a ResNet block: a conv and a shortcut)
  takes the first synaptic path as its layer and the other as that layer's
  ``residual`` (the shortcut's spikes, or partial sums of a neuron-less shortcut);
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

import numpy as np

from tlmsim.errors import WorkloadError
from tlmsim.snn.graph import NEURONS, SnnGraph

_OP = {"conv2d": "conv2d", "affine": "linear", "linear": "linear", "sumpool2d": "sumpool2d",
       "avgpool2d": "avgpool2d", "flatten": "flatten"}
_NEURON = {"if": "if", "lif": "lif", "li": "li", "cuba_lif": "cuba_lif"}


def graph_layers(graph: SnnGraph) -> tuple[list[dict], dict[str, str]]:
    """Workload layer dicts (as in a workload YAML) and, per layer, the graph node
    whose output is that layer's input."""
    producer: dict[str, str] = {}  # node -> the layer whose output this node's value is ("input" for inputs)
    layers: list[dict] = []
    by_name: dict[str, dict] = {}
    feeds: dict[str, str] = {}
    for node in graph.nodes:
        k = node.kind
        if k == "input":
            producer[node.name] = "input"
            continue
        srcs = [producer[i] for i in node.inputs]
        if k in ("output", "scale"):
            if len(set(srcs)) > 1:
                raise WorkloadError(f"{k} node {node.name!r} sums several paths; not supported", key=node.name)
            producer[node.name] = srcs[0]
            continue
        if k in _OP:
            if len(node.inputs) != 1:
                raise WorkloadError(f"node {node.name!r} ({k}) sums {len(node.inputs)} inputs; only neurons may",
                                    key=node.name)
            layer = {"name": node.name, "op": _OP[k], "in_shape": list(node.in_shape), "input": srcs[0]}
            p = node.params
            if k == "conv2d":
                if p["groups"] != 1 or p["dilation"] != (1, 1):
                    raise WorkloadError(f"conv {node.name!r}: groups and dilation other than 1 are not mapped yet",
                                        key=node.name)
                w = p["weight"]
                layer.update(out_channels=int(w.shape[0]), kernel=[int(w.shape[2]), int(w.shape[3])],
                             stride=list(p["stride"]), padding=list(p["padding"]),
                             weight_sparsity=float(min(np.mean(w == 0), 0.999)))
            elif k in ("affine", "linear"):
                w = p["weight"]
                layer.update(out_features=int(w.shape[0]), weight_sparsity=float(min(np.mean(w == 0), 0.999)))
            elif k in ("sumpool2d", "avgpool2d"):
                layer.update(kernel=list(p["kernel"]), stride=list(p["stride"]), padding=list(p["padding"]))
            layers.append(layer)
            by_name[node.name] = layer
            feeds[node.name] = node.inputs[0]
            producer[node.name] = node.name
            continue
        if k in NEURONS:
            main = [s for s in srcs if s in by_name and by_name[s]["op"] in ("conv2d", "linear")
                    and "neuron" not in by_name[s]]
            if not main:
                raise WorkloadError(f"neuron {node.name!r} does not follow a synaptic layer (conv or affine)",
                                    key=node.name)
            layer = by_name[main[0]]
            layer["neuron"] = _NEURON[k]
            others = [s for s in srcs if s != main[0]]
            if len(others) > 1:
                raise WorkloadError(f"neuron {node.name!r} sums {len(srcs)} paths; at most 2 are mapped",
                                    key=node.name)
            if others:
                if others[0] == "input":
                    raise WorkloadError(f"neuron {node.name!r}: a shortcut from the network input is not mapped",
                                        key=node.name)
                layer["residual"] = others[0]
            producer[node.name] = layer["name"]
            continue
        raise WorkloadError(f"node kind {k!r} cannot be mapped", key=node.name)
    # a layer reading the network input (or the previous layer) needs no explicit input
    for i, layer in enumerate(layers):
        if layer["input"] == (layers[i - 1]["name"] if i else "input"):
            del layer["input"]
    return layers, feeds


def layer_spikes(graph: SnnGraph, outputs: dict[str, np.ndarray], feeds: dict[str, str],
                 sample: int | None = 0) -> dict[str, np.ndarray]:
    """Each layer's input as bool spikes from a reference run's recorded outputs
    (T, batch, ...): one sample (T, *in_shape), or all samples (N, T, *in_shape)."""
    out = {}
    for layer, node in feeds.items():
        a = outputs[node]
        nz = a != 0
        out[layer] = nz[:, sample] if sample is not None else np.moveaxis(nz, 1, 0)
    return out


def weight_masks(graph: SnnGraph, layers) -> dict[str, np.ndarray]:
    """Layer name -> nonzero mask of its weights, bool ``(K, N)`` in the GEMM layout
    (conv: K ordered (c, kh, kw) as im2col; linear: K inputs), for every conv/linear layer."""
    out = {}
    for layer in layers:
        if layer.has_weights:
            w = np.asarray(graph[layer.name].params["weight"])
            out[layer.name] = np.ascontiguousarray((w.reshape(w.shape[0], -1) != 0).T)
    return out
