"""Workloads: the layers of an SNN and the spikes that flow into each of them.

A workload YAML names the network (``name``, ``timesteps``, ``weight_bits``,
``layers``) and optionally ``spikes: FILE.npz``, a spike trace that maps each
layer name to its input spikes (bool, shape ``(T, *in_shape)``). Without it, the
spikes are synthetic: seeded, with each layer's ``firing_rate`` (the fraction of
ones in its input), and reports say so.

Layers form a graph: each layer reads the output of one earlier layer (``input``;
by default the previous one) and may add another earlier layer's output before its
neuron update (``residual``, a ResNet shortcut). Each layer's ``in_shape`` must equal
its source's output shape. A ``recurrent`` layer has one more synapse, whose input
is the layer's own output spikes of the previous timestep (its spikes are keyed
``LAYER.recurrent`` in a trace: the layer's output shifted by one timestep, row 0
all zero). An ``identity`` layer is a neuron with no weights before it: its input
is the current.
"""

from __future__ import annotations

import math
import zlib
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Literal

import numpy as np
from pydantic import Field, model_validator

from tlmsim.config_io import read_yaml, validate_model
from tlmsim.errors import WorkloadError
from tlmsim.platform.params import ParamModel, param

if TYPE_CHECKING:
    import pandas as pd

Op = Literal["conv2d", "linear", "maxpool2d", "avgpool2d", "sumpool2d", "flatten", "identity"]
Neuron = Literal["if", "lif", "li", "cuba_lif", "cuba_li"]
#: neurons that emit spikes (the others output their membrane)
SPIKING_NEURONS = ("if", "lif", "cuba_lif")
#: suffix of a recurrent synapse's key in a spike trace (``LAYER.recurrent``)
RECURRENT_SUFFIX = ".recurrent"

#: a spike trace larger than this (in neurons x timesteps, summed over layers) is refused
MAX_SPIKE_ELEMENTS = 2_000_000_000
#: synthetic structure: fraction of neurons that never fire (docs/reference/firing_rates.md: 57-80 %)
SILENT_FRACTION = 0.6
#: synthetic structure: timestep 0 fires about half as often as later ones (docs/reference/firing_rates.md)
FIRST_STEP_RATIO = 0.5


#: input density of layers without a firing_rate in a workload without one: about the mean
#: measured input density of VGG9's convs 2-6, 0.155 (docs/reference/firing_rates.md)
DEFAULT_FIRING_RATE = 0.15


def _pair(v: int | list[int]) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    return (int(v[0]), int(v[1]))


class LayerSpec(ParamModel):
    """One layer of a workload YAML."""

    name: str = param(desc="unique layer name (keys the spike trace)", min_length=1)
    op: Op = param(desc="operation")
    in_shape: list[int] = param(desc="input shape: [C, H, W] for conv/pool, [N] for linear, any for identity",
                                min_length=1, max_length=3)
    out_channels: int | None = param(None, desc="conv2d: output channels", ge=1)
    out_features: int | None = param(None, desc="linear: output features", ge=1)
    kernel: int | list[int] = param(1, desc="conv/pool kernel size (int or [kh, kw])")
    stride: int | list[int] = param(1, desc="conv/pool stride (int or [sh, sw])")
    padding: int | list[int] = param(0, desc="conv/pool zero padding (int or [ph, pw])")
    neuron: Neuron | None = param(
        None, desc="neuron model after this layer; none = no neuron: the layer outputs its accumulator values"
    )
    weight_sparsity: float = param(0.0, desc="fraction of zero weights (static sparsity)", ge=0.0, lt=1.0)
    firing_rate: float | None = param(
        None, desc="input spike density of this layer: the fraction of ones in its (T, *in_shape) input spikes, "
        "used when the spikes are synthetic (ignored with recorded ones); default: the workload's firing_rate",
        ge=0.0, le=1.0,
    )
    input: str | None = param(
        None, desc="name of the earlier layer whose output this layer reads, or 'input' for an external input "
        "of its own; default: the previous layer (the first layer: 'input')",
    )
    residual: str | None = param(
        None, desc="name of an earlier layer whose output (same shape as this layer's) is added to this layer's "
        "result before the neuron update (a ResNet shortcut); conv2d, linear and identity only",
    )
    recurrent: bool = param(
        False, desc="an extra synapse from this layer's own output spikes of the previous timestep (an RSNN); "
        "needs a spiking neuron and a 1-D output (linear, or identity on a 1-D input)",
    )
    recurrent_sparsity: float = param(0.0, desc="fraction of zero weights of the recurrent synapse", ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _check(self) -> "LayerSpec":
        if any(d < 1 for d in self.in_shape):
            raise ValueError(f"in_shape entries must be >= 1, got {self.in_shape}")
        for key in ("kernel", "stride", "padding"):
            v = getattr(self, key)
            vals = [v] if isinstance(v, int) else v
            if not isinstance(v, int) and len(vals) != 2:
                raise ValueError(f"{key} must be an int or [h, w]")
            lo = 0 if key == "padding" else 1
            if any(x < lo for x in vals):
                raise ValueError(f"{key} must be >= {lo}")
        if self.op in ("conv2d", "maxpool2d", "avgpool2d", "sumpool2d") and len(self.in_shape) != 3:
            raise ValueError(f"{self.op} needs in_shape [C, H, W]")
        if self.op == "conv2d" and self.out_channels is None:
            raise ValueError("conv2d needs out_channels")
        if self.op == "linear":
            if self.out_features is None:
                raise ValueError("linear needs out_features")
            if len(self.in_shape) != 1:
                raise ValueError("linear needs in_shape [N] (put a flatten layer before it)")
        if self.recurrent:
            if self.neuron not in SPIKING_NEURONS:
                raise ValueError(f"a recurrent layer needs a spiking neuron ({', '.join(SPIKING_NEURONS)})")
            if self.op not in ("linear", "identity") or (self.op == "identity" and len(self.in_shape) != 1):
                raise ValueError("recurrent needs a 1-D output: a linear layer, or identity on a 1-D input")
        return self


class WorkloadSpec(ParamModel):
    """A workload YAML."""

    name: str = param(desc="workload name", min_length=1)
    description: str = param("", desc="free text, e.g. the data set and where the spikes come from")
    timesteps: int = param(desc="timesteps T per inference", ge=1, le=10000)
    weight_bits: int | None = param(
        None, desc="stored weight width; none = the platform's pe_array.weight_bits", ge=1, le=32
    )
    firing_rate: float = param(
        DEFAULT_FIRING_RATE, desc="input spike density of every layer without a firing_rate of its own (synthetic "
        "spikes); source of 0.15: about the mean measured input density of VGG9's convs, 0.155 "
        "(docs/reference/firing_rates.md); reports name the layers that use it", ge=0.0, le=1.0)
    spikes: str | None = param(None, desc="spike trace .npz (path relative to this file); omit for synthetic spikes")
    dt: float | None = param(
        None, desc="NIR workloads: the reference simulator's time step (default: the graph's metadata, else "
        "inferred from its neurons, docs/reference_simulator.md)", gt=0.0,
    )
    sample: int = param(0, desc="which sample of a multi-sample spike trace to run", ge=0)
    prune: float = param(
        0.0, desc="NIR workloads: magnitude-prune this fraction of every layer's weights (the smallest |w| set to "
        "0) before the reference simulation; the layers' weight_sparsity follows", ge=0.0, lt=1.0,
    )
    nir: str | None = param(
        None, desc="NIR graph (path relative to this file) whose layers this workload runs; then omit 'layers'. "
        "Without 'spikes', the spikes come from the reference simulator on random rate-coded input",
    )
    layers: list[LayerSpec] | None = Field(
        None, description="layers in execution order (omit when 'nir' is given)", min_length=1, max_length=10000
    )

    @model_validator(mode="after")
    def _layers_or_nir(self) -> "WorkloadSpec":
        if (self.layers is None) == (self.nir is None):
            raise ValueError("give exactly one of 'layers' and 'nir'")
        return self


@dataclass(frozen=True, slots=True)
class Layer:
    """A validated layer with derived shapes and GEMM view."""

    index: int
    name: str
    op: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    neuron: str | None
    weight_sparsity: float
    firing_rate: float
    #: index of the layer whose output this layer reads; -1 = an external input of its own
    source: int = -1
    #: index of the layer whose output is added before the neuron update (ResNet shortcut), or -1
    residual: int = -1
    #: an extra synapse reading this layer's own output spikes of the previous timestep
    recurrent: bool = False
    #: fraction of zero weights of the recurrent synapse
    recurrent_sparsity: float = 0.0

    @property
    def has_weights(self) -> bool:
        return self.op in ("conv2d", "linear")

    @property
    def recurrent_key(self) -> str:
        """The spike-trace key of the recurrent synapse's input."""
        return self.name + RECURRENT_SUFFIX

    @property
    def recurrent_gemm(self) -> tuple[int, int, int]:
        """(M, K, N) of the recurrent synapse: (1, outputs, outputs), or zeros."""
        return (1, self.out_neurons, self.out_neurons) if self.recurrent else (0, 0, 0)

    @property
    def in_neurons(self) -> int:
        return math.prod(self.in_shape)

    @property
    def out_neurons(self) -> int:
        return math.prod(self.out_shape)

    @property
    def gemm(self) -> tuple[int, int, int]:
        """(M, K, N): output pixels, reduction length, output channels (SCALE-Sim's view)."""
        if self.op == "linear":
            return (1, self.in_shape[0], self.out_shape[0])
        if self.op == "conv2d":
            c, _, _ = self.in_shape
            n, ho, wo = self.out_shape
            return (ho * wo, self.kernel[0] * self.kernel[1] * c, n)
        return (0, 0, 0)

    @property
    def weight_count(self) -> int:
        _, k, n = self.gemm
        return k * n


@dataclass
class Workload:
    """Layers plus the input spikes of every layer."""

    name: str
    timesteps: int
    #: stored weight width; None = the platform's pe_array.weight_bits (:meth:`on_platform`)
    weight_bits: int | None
    layers: list[Layer]
    spikes: dict[str, np.ndarray] = field(repr=False)
    spike_source: str = "synthetic"
    description: str = ""
    #: the SNN graph the layers come from (NIR workloads), for --verify
    graph: object | None = field(default=None, repr=False)
    #: the reference simulator's time step (NIR workloads)
    dt: float = 1.0
    #: the file the workload was read from (named by --verify's errors)
    path: str = ""
    #: what the NIR import changed or assumed (e.g. a dropped batch axis), one sentence each
    notes: tuple[str, ...] = ()
    #: layer name -> its real nonzero-weight mask, bool (K, N) in the GEMM layout (K ordered
    #: (c, kh, kw) as im2col); NIR workloads give every weighted layer's
    weight_masks: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _synthetic_masks: dict[tuple, np.ndarray | None] = field(default_factory=dict, init=False, repr=False,
                                                              compare=False)

    @property
    def synthetic(self) -> bool:
        return self.spike_source.startswith("synthetic")

    def with_weight_bits(self, platform_weight_bits: int) -> "Workload":
        """This workload with its weight width fixed: its own ``weight_bits``, else
        ``platform_weight_bits`` (the platform's ``pe_array.weight_bits``)."""
        if self.weight_bits is not None:
            return self
        return dataclasses.replace(self, weight_bits=platform_weight_bits)

    def weight_mask(self, layer: Layer) -> np.ndarray | None:
        """The nonzero-weight mask of ``layer`` (bool ``(K, N)``), or None when every weight
        is nonzero. A NIR layer's is the real one (its zero weights); a workload-YAML
        layer with ``weight_sparsity`` s > 0 gets :func:`synthetic_weight_mask`."""
        if layer.name in self.weight_masks:
            return self.weight_masks[layer.name]
        key = (layer.index, layer.name, layer.weight_sparsity, layer.gemm)
        if key not in self._synthetic_masks:
            self._synthetic_masks[key] = synthetic_weight_mask(layer)
        return self._synthetic_masks[key]


def synthetic_weight_mask(layer: Layer) -> np.ndarray | None:
    """A deterministic mask with exactly ``round(K x N x weight_sparsity)`` zeros at
    uniformly random positions, seeded by the layer's index and name (so the same layer
    always gets the same mask, and the spike generator's stream is untouched); None
    when the layer has no weights or no zero weight."""
    if not layer.has_weights or layer.weight_sparsity <= 0.0:
        return None
    _, k, n = layer.gemm
    zeros = round(k * n * layer.weight_sparsity)
    if zeros == 0:
        return None
    rng = np.random.default_rng([layer.index, zlib.crc32(layer.name.encode("utf-8"))])
    r = rng.random(k * n)
    mask = _above_smallest(r, zeros)
    if mask is None:  # a tie at the boundary: the zeros smallest as argpartition picks them
        mask = np.ones(k * n, dtype=bool)
        mask[np.argpartition(r, zeros - 1)[:zeros]] = False
    return mask.reshape(k, n)


def _above_smallest(r: np.ndarray, zeros: int) -> np.ndarray | None:
    """``r > v``, v the ``zeros``-th smallest value of ``r`` (uniform in [0, 1)), when
    exactly ``zeros`` values are at most v (no tie at the boundary: then the mask is
    False exactly at the ``zeros`` smallest values, the positions any selection of them
    finds); None on a tie. v is found among the values on the near side of a bound a
    few standard deviations beyond where it is expected (``zeros / len(r)``), which is
    much cheaper than partitioning all of ``r`` when few values are on that side; when
    the bound misses (too few values beyond it), among all values."""
    size = len(r)
    keep = size - zeros
    if keep == 0:
        return np.zeros(size, dtype=bool)
    p = zeros / size
    margin = 8.0 * math.sqrt(p * (1.0 - p) / size) + 8.0 / size
    if keep <= zeros:  # v is the (keep + 1)-th largest: look among the large values
        near = r[r >= p - margin]
        i = len(near) - keep - 1
    else:  # v is the zeros-th smallest: look among the small values
        near = r[r <= p + margin]
        i = zeros - 1
    if i < 0 or i >= len(near):
        near, i = r, zeros - 1
    v = np.partition(near, i)[i]
    mask = r > v
    return mask if size - int(np.count_nonzero(mask)) == zeros else None


def _out_shape(spec: LayerSpec, where: str) -> tuple[int, ...]:
    if spec.op == "identity":
        return tuple(spec.in_shape)
    if spec.op == "flatten":
        return (math.prod(spec.in_shape),)
    if spec.op == "linear":
        return (int(spec.out_features),)
    c, h, w = spec.in_shape
    kh, kw = _pair(spec.kernel)
    sh, sw = _pair(spec.stride)
    ph, pw = _pair(spec.padding)
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (w + 2 * pw - kw) // sw + 1
    if ho < 1 or wo < 1:
        raise WorkloadError(
            f"kernel {kh}x{kw} with padding {ph},{pw} does not fit the input {h}x{w}", key=f"{where}.kernel"
        )
    out_c = int(spec.out_channels) if spec.op == "conv2d" else c
    return (out_c, ho, wo)


def build_layers(spec: WorkloadSpec) -> list[Layer]:
    """Derive shapes and resolve each layer's source and residual; errors name
    ``layers[i].key``. A layer's ``in_shape`` must equal its source's output shape."""
    layers: list[Layer] = []
    index: dict[str, int] = {}
    taken = {ls.name + RECURRENT_SUFFIX for ls in spec.layers if ls.recurrent}  # trace keys of recurrent synapses
    for i, ls in enumerate(spec.layers):
        where = f"layers[{i}]"
        if ls.name in index or ls.name == "input" or ls.name in taken:
            raise WorkloadError("duplicate (or reserved) layer name", key=f"{where}.name", value=ls.name)
        earlier = ", ".join(["input", *index]) if index else "input"
        src_name = ls.input if ls.input is not None else (layers[-1].name if layers else "input")
        if src_name == "input":
            source = -1
        elif src_name in index:
            source = index[src_name]
        else:
            raise WorkloadError("is not an earlier layer", key=f"{where}.input", value=src_name, allowed=earlier)
        in_shape = tuple(ls.in_shape)
        if source >= 0 and in_shape != layers[source].out_shape:
            raise WorkloadError(
                f"does not match the output shape {list(layers[source].out_shape)} of its source layer "
                f"{layers[source].name!r}",
                key=f"{where}.in_shape",
                value=list(in_shape),
            )
        out = _out_shape(ls, where)
        residual = -1
        if ls.residual is not None:
            if ls.op not in ("conv2d", "linear", "identity"):
                raise WorkloadError("a residual input needs a conv2d, linear or identity layer",
                                    key=f"{where}.residual", value=ls.residual)
            if ls.residual not in index:
                raise WorkloadError("is not an earlier layer", key=f"{where}.residual", value=ls.residual,
                                    allowed=", ".join(index) or "(none)")
            residual = index[ls.residual]
            if layers[residual].out_shape != out:
                raise WorkloadError(
                    f"has output shape {list(layers[residual].out_shape)}, but this layer's output is {list(out)}",
                    key=f"{where}.residual", value=ls.residual,
                )
        index[ls.name] = i
        layers.append(
            Layer(
                index=i,
                name=ls.name,
                op=ls.op,
                in_shape=in_shape,
                out_shape=out,
                kernel=_pair(ls.kernel),
                stride=_pair(ls.stride),
                padding=_pair(ls.padding),
                neuron=ls.neuron,
                weight_sparsity=ls.weight_sparsity,
                firing_rate=spec.firing_rate if ls.firing_rate is None else ls.firing_rate,
                source=source,
                residual=residual,
                recurrent=ls.recurrent,
                recurrent_sparsity=ls.recurrent_sparsity,
            )
        )
    total = sum(l.in_neurons + (l.out_neurons if l.recurrent else 0) for l in layers) * spec.timesteps
    if total > MAX_SPIKE_ELEMENTS:
        raise WorkloadError(
            f"the spike tensors would hold {total} elements, more than the limit {MAX_SPIKE_ELEMENTS}", key="layers"
        )
    return layers


def consumers(layers: list[Layer]) -> dict[int, list[int]]:
    """layer index -> indices of the layers that read its output (as source or residual)."""
    out: dict[int, list[int]] = {l.index: [] for l in layers}
    for l in layers:
        if l.source >= 0:
            out[l.source].append(l.index)
        if l.residual >= 0:
            out[l.residual].append(l.index)
    return out


def shift_one_step(a: np.ndarray) -> np.ndarray:
    """Spikes (T, ...) delayed by one timestep: row t holds row t - 1, row 0 is all zero."""
    return np.concatenate([np.zeros_like(a[:1]), a[:-1]], axis=0)


def synthetic_recurrent_spikes(layers: list[Layer], spikes: dict[str, np.ndarray], timesteps: int,
                               rng: np.random.Generator) -> None:
    """Add the synthetic input of every recurrent synapse to ``spikes``: the input of
    the layer reading the recurrent layer's output (it stands for that output), shifted
    by one timestep; with no such reader, fresh synthetic spikes at the layer's own
    ``firing_rate``, shifted."""
    for l in layers:
        if not l.recurrent:
            continue
        reader = next((r for r in layers if r.source == l.index and r.in_shape == l.out_shape), None)
        if reader is not None:
            out = spikes[reader.name]
        else:
            out = synthetic_spikes(Layer(**{**{f: getattr(l, f) for f in l.__dataclass_fields__},
                                            "in_shape": l.out_shape}), timesteps, rng)
        spikes[l.recurrent_key] = shift_one_step(out)


def synthetic_spikes(layer: Layer, timesteps: int, rng: np.random.Generator) -> np.ndarray:
    """Seeded synthetic input spikes of ``layer``: shape (T, *in_shape), bool.

    Structure (docs/reference/firing_rates.md): a fraction of neurons never fires
    (:data:`SILENT_FRACTION`, lowered when the density needs more active
    neurons), and timestep 0 fires :data:`FIRST_STEP_RATIO` as often as later
    steps. The expected density over all steps equals ``layer.firing_rate``.
    """
    p = layer.firing_rate
    shape = (timesteps, *layer.in_shape)
    if p <= 0.0:
        return np.zeros(shape, dtype=bool)
    if p >= 1.0:
        return np.ones(shape, dtype=bool)
    # per-step density d_t with d_0 = r*d and mean over T equal to p
    weights = np.ones(timesteps)
    if timesteps > 1:
        weights[0] = FIRST_STEP_RATIO
    step_density = p * timesteps / weights.sum() * weights
    peak = float(step_density.max())
    active_fraction = min(1.0, max(1.0 - SILENT_FRACTION, peak))
    active = rng.random(layer.in_shape) < active_fraction
    probs = np.minimum(1.0, step_density / active_fraction)
    u = rng.random(shape)
    return (u < probs.reshape((timesteps,) + (1,) * len(layer.in_shape))) & active[None, ...]


#: key of a multi-sample spike trace: its arrays have a leading samples axis (N, T, ...)
SAMPLES_KEY = "_samples"


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (never unpickled); one-line errors naming the file."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise WorkloadError("spike trace file not found", file=str(path)) from None
    except Exception as exc:  # noqa: BLE001 - any corrupt archive becomes one line
        raise WorkloadError(f"not a readable .npz spike trace ({type(exc).__name__}: {exc})", file=str(path)) from None


def load_spike_trace(path: Path, layers: list[Layer], timesteps: int, sample: int = 0) -> dict[str, np.ndarray]:
    """Read a spike trace ``.npz`` (no pickles) and check it against the layers. A
    multi-sample trace (key ``_samples``) gives sample ``sample``."""
    arrays = _read_npz(path)
    n_samples = None
    if SAMPLES_KEY in arrays:
        n_samples = int(np.asarray(arrays.pop(SAMPLES_KEY)).ravel()[0])
        if not 0 <= sample < n_samples:
            raise WorkloadError(f"the trace holds {n_samples} samples", file=str(path), key="sample", value=sample,
                                allowed=f"0..{n_samples - 1}")
    out: dict[str, np.ndarray] = {}
    wanted = [(l.name, l.in_shape) for l in layers] + [(l.recurrent_key, l.out_shape) for l in layers if l.recurrent]
    for key, in_shape in wanted:
        if key not in arrays:
            raise WorkloadError(
                "has no spikes for this layer", file=str(path), key=key, allowed=", ".join(sorted(arrays)) or "(empty)"
            )
        a = arrays[key]
        if n_samples is not None:
            if a.ndim < 1 or a.shape[0] != n_samples:
                raise WorkloadError(f"spike array has shape {list(a.shape)}, expected {n_samples} samples first",
                                    file=str(path), key=key)
            a = a[sample]
        want = (timesteps, *in_shape)
        if a.shape != want:
            raise WorkloadError(
                f"spike array has shape {list(a.shape)}, expected (T, *in_shape) = {list(want)}",
                file=str(path),
                key=key,
            )
        if a.dtype != np.bool_:
            if a.dtype.kind not in "biu" or (a.size and (a.min() < 0 or a.max() > 1)):
                raise WorkloadError(
                    f"spike array must be bool (or integers 0/1), got dtype {a.dtype}", file=str(path), key=key
                )
            a = a.astype(bool)
        out[key] = a
    return out


#: timesteps and input density given to layers imported from a SCALE-Sim topology
TOPOLOGY_TIMESTEPS = 4
TOPOLOGY_FIRING_RATE = DEFAULT_FIRING_RATE


def scalesim_topology_spec(path: Path) -> WorkloadSpec:
    """A SCALE-Sim topology CSV as a workload: each row one layer reading an input of
    its own (SCALE-Sim layers are independent), T = :data:`TOPOLOGY_TIMESTEPS`,
    synthetic spikes of density :data:`TOPOLOGY_FIRING_RATE`.

    Conv rows: ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
    Channels, Num Filter, Strides,`` (no padding, as SCALE-Sim). GEMM rows
    ``Layer name, M, N, K,`` become a 1x1 convolution over M pixels (K -> N)."""
    import csv

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkloadError(f"cannot read the topology ({exc.strerror})", file=str(path)) from None
    rows = [[c.strip() for c in r if c.strip() != ""] for r in csv.reader(text.splitlines())]
    rows = [r for r in rows if r]
    if len(rows) < 2:
        raise WorkloadError("a SCALE-Sim topology needs a header row and at least one layer", file=str(path))
    header = [h.lower() for h in rows[0]]
    layers = []
    for i, r in enumerate(rows[1:], start=2):
        try:
            nums = [int(float(x)) for x in r[1:]]
        except ValueError:
            raise WorkloadError("expected integers after the layer name", file=str(path), key=f"row {i}",
                                value=",".join(r)) from None
        if len(nums) >= 7:
            h, w, fh, fw, c, n, st = nums[:7]
            layers.append({"name": r[0], "op": "conv2d", "in_shape": [c, h, w], "out_channels": n,
                           "kernel": [fh, fw], "stride": st, "input": "input", "neuron": "lif"})
        elif len(nums) == 3 and header[1:4] == ["m", "n", "k"]:
            m, n, k = nums
            layers.append({"name": r[0], "op": "conv2d", "in_shape": [k, m, 1], "out_channels": n,
                           "kernel": 1, "input": "input", "neuron": "lif"})
        else:
            raise WorkloadError(
                "expected 'name, IFMAP H, IFMAP W, Filter H, Filter W, Channels, Num Filter, Strides' "
                "or 'name, M, N, K'", file=str(path), key=f"row {i}", value=",".join(r))
    data = {"name": path.stem, "description": f"SCALE-Sim topology {path.name}", "timesteps": TOPOLOGY_TIMESTEPS,
            "firing_rate": TOPOLOGY_FIRING_RATE, "layers": layers}
    return validate_model(WorkloadSpec, data, str(path))


#: timesteps and encoding of a NIR graph run with no workload YAML
NIR_TIMESTEPS = 8
NIR_ENCODING = "rate"


def random_input_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Two independent generators from one seed: the random input values and the
    encoder's draws (``SeedSequence(seed).spawn(2)``). One generator per seed for
    both would draw the same numbers: a rate encoder's u < x would never hold at
    timestep 0."""
    values, encoder = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(values), np.random.default_rng(encoder)


def _nir_workload(graph_path: Path, *, seed: int, timesteps: int, spec: WorkloadSpec | None,
                  yaml_path: Path | None) -> Workload:
    """A workload whose layers come from a NIR graph; spikes from a recorded trace
    (``spec.spikes``) or from the reference simulator on random rate-coded input."""
    from tlmsim.snn.encoding import encode
    from tlmsim.snn.graph import load_nir
    from tlmsim.snn.refsim import simulate_graph
    from tlmsim.snn.to_workload import graph_layers, layer_spikes

    graph = load_nir(graph_path)
    where = str(yaml_path or graph_path)
    if spec is not None and spec.dt is not None:
        from dataclasses import replace

        graph = replace(graph, dt=float(spec.dt),
                        notes=tuple(n for n in graph.notes if not n.startswith("dt = ")) + (
                            f"dt = {spec.dt:g} from the workload YAML",))
    if spec is not None and spec.prune > 0:
        if spec.spikes:
            raise WorkloadError("pruning changes the spikes; omit 'spikes' to simulate the pruned graph",
                                file=where, key="prune", value=spec.prune)
        from tlmsim.snn.graph import magnitude_prune

        graph = magnitude_prune(graph, spec.prune)
    try:
        layer_dicts, feeds = graph_layers(graph)
    except WorkloadError as exc:
        raise exc.located(str(graph_path)) from None
    data = {"name": spec.name if spec else graph_path.stem,
            "description": (spec.description if spec else f"NIR graph {graph_path.name}")
            + "".join(f"; note: {n}" for n in graph.notes),
            "timesteps": spec.timesteps if spec else timesteps,
            "weight_bits": spec.weight_bits if spec else None, "layers": layer_dicts}
    full = validate_model(WorkloadSpec, data, str(graph_path))
    try:
        layers = build_layers(full)
    except WorkloadError as exc:
        raise exc.located(str(graph_path)) from None
    T = full.timesteps
    if spec is not None and spec.spikes:
        trace = ((yaml_path.parent if yaml_path else Path(".")) / spec.spikes).resolve()
        if not trace.is_file():
            raise WorkloadError("spike trace file not found", file=where, key="spikes", value=str(trace))
        spikes = load_spike_trace(trace, layers, T, sample=spec.sample)
        label = f"recorded ({trace.name}, sample {spec.sample})"
    else:
        if len(graph.inputs) != 1:
            raise WorkloadError("a graph with several inputs needs a recorded spike trace", file=where)
        shape = graph.inputs[0].out_shape
        values, encoder = random_input_streams(seed)
        x = values.random(shape)
        stim = encode(NIR_ENCODING, x, T, rng=encoder)[:, None].astype(np.float64)
        result = simulate_graph(graph, stim)
        spikes = layer_spikes(graph, result.outputs, feeds, sample=0)
        label = f"reference simulation of {graph_path.name} on random {NIR_ENCODING}-coded input (seed {seed})"
    from tlmsim.snn.to_workload import weight_masks

    return Workload(name=full.name, timesteps=T, weight_bits=full.weight_bits, layers=layers, spikes=spikes,
                    spike_source=label, description=full.description, graph=graph, dt=graph.dt, path=where,
                    notes=graph.notes, weight_masks=weight_masks(graph, layers))


def load_workload(source: str | Path | None = None, *, seed: int = 0) -> Workload:
    """Load a workload (a YAML, a NIR graph ``.nir``, a SCALE-Sim topology ``.csv``,
    or a shipped workload by name) and its spikes."""
    from tlmsim.resources import DEFAULT_WORKLOAD, resolve

    path = resolve("workloads", None if source is None else str(source), DEFAULT_WORKLOAD)
    if path.suffix.lower() == ".nir":
        return _nir_workload(path, seed=seed, timesteps=NIR_TIMESTEPS, spec=None, yaml_path=None)
    if path.suffix.lower() == ".csv":
        spec = scalesim_topology_spec(path)
    else:
        spec = validate_model(WorkloadSpec, read_yaml(path), str(path))
    if spec.nir is not None:
        graph_path = (path.parent / spec.nir).resolve()
        return _nir_workload(graph_path, seed=seed, timesteps=spec.timesteps, spec=spec, yaml_path=path)
    try:
        layers = build_layers(spec)
    except WorkloadError as exc:
        raise exc.located(str(path)) from None
    if spec.spikes:
        trace = (path.parent / spec.spikes).resolve()
        if not trace.is_file():
            raise WorkloadError("spike trace file not found", file=str(path), key="spikes", value=str(trace))
        spikes = load_spike_trace(trace, layers, spec.timesteps, sample=spec.sample)
        source_label = f"recorded ({trace.name})"
    else:
        rng = np.random.default_rng(seed)
        spikes = {l.name: synthetic_spikes(l, spec.timesteps, rng) for l in layers}
        synthetic_recurrent_spikes(layers, spikes, spec.timesteps, rng)
        source_label = f"synthetic (seed {seed}, per-layer firing rates)"
        if "firing_rate" not in spec.model_fields_set:
            fallback = [ls.name for ls in spec.layers if ls.firing_rate is None]
            if fallback:  # say so: the built-in density, not one the user chose
                source_label = (f"synthetic (seed {seed}, per-layer firing rates; default {DEFAULT_FIRING_RATE} for "
                                f"{len(fallback)} of {len(layers)} layers)")
    return Workload(
        name=spec.name,
        timesteps=spec.timesteps,
        weight_bits=spec.weight_bits,
        layers=layers,
        spikes=spikes,
        spike_source=source_label,
        description=spec.description,
        path=str(path),
    )


def save_spike_trace(path: Path, spikes: dict[str, np.ndarray], samples: int | None = None) -> None:
    """Write a spike trace (compressed .npz of bool arrays), atomically, with the
    umask's mode. With ``samples``, every array has a leading samples axis of that length."""
    from tlmsim.outputs import atomic_write

    arrays = {k: np.asarray(v, dtype=bool) for k, v in spikes.items()}
    if samples is not None:
        arrays[SAMPLES_KEY] = np.array([samples], dtype=np.int64)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    atomic_write(Path(path), write)


def workload_names(paths: Iterable[Path]) -> list[str]:
    return [p.stem for p in paths]


def read_spike_file(path: str | Path) -> tuple[dict[str, np.ndarray], int | None]:
    """Read every array of a spike trace ``.npz`` (no pickles); arrays must be bool or
    0/1 integers with a leading time axis (after a samples axis in a multi-sample
    trace). Returns the arrays and the number of samples (None: a single-sample
    trace). Errors name the file and the array."""
    path = Path(path)
    arrays = _read_npz(path)
    samples = arrays.pop(SAMPLES_KEY, None)
    if not arrays:
        raise WorkloadError("the spike trace holds no arrays", file=str(path))
    lead = 2 if samples is not None else 1
    out = {}
    for name, a in arrays.items():
        if a.ndim < lead + 1 or 0 in a.shape:
            raise WorkloadError(f"spike array needs shape (T, *neurons) with no empty dimension, got {list(a.shape)}",
                                file=str(path), key=name)
        if a.dtype != np.bool_:
            if a.dtype.kind not in "biu" or (a.size and (a.min() < 0 or a.max() > 1)):
                raise WorkloadError(f"spike array must be bool (or integers 0/1), got dtype {a.dtype}",
                                    file=str(path), key=name)
            a = a.astype(bool)
        out[name] = a
    return out, (int(np.asarray(samples).ravel()[0]) if samples is not None else None)


def describe_spikes(spikes: dict[str, np.ndarray], samples: bool = False) -> "pd.DataFrame":
    """One row per layer: shape, density, density per timestep and the fraction of
    neurons that never fire over all timesteps. With ``samples`` the arrays are
    (N, T, ...) and the figures are averaged over the N samples."""
    import pandas as pd

    rows = []
    for name, a in spikes.items():
        b = a if samples else a[None]
        n, t = b.shape[0], b.shape[1]
        flat = b.reshape(n, t, -1)
        per_step = flat.mean(axis=(0, 2)) if flat.shape[2] else np.zeros(t)
        rows.append({
            "layer": name,
            "shape": "x".join(str(d) for d in a.shape),
            "samples": n,
            "timesteps": t,
            "neurons": flat.shape[2],
            "spikes": int(flat.sum()),
            "density": float(flat.mean()) if flat.size else 0.0,
            "density_per_timestep": " ".join(f"{d:.3f}" for d in per_step),
            "silent_fraction": float((~flat.any(axis=1)).mean()) if flat.shape[2] else 1.0,
        })
    return pd.DataFrame(rows)
