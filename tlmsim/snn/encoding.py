"""Spike encoders: turn analog inputs in [0, 1] into T timesteps of network input.

* ``rate``: Bernoulli spikes, ``P(spike at t) = clip(x, 0, 1)``, independent over
  time and inputs, from a seeded numpy generator;
* ``ttfs`` (time to first spike): one spike per input at step
  ``t = round((1 - x) * (T - 1))`` (larger values fire earlier); ``x <= 0`` never fires;
* ``direct``: the analog value itself at every timestep, fed as a current into the
  first layer (not binary; the first layer's "spikes" are then analog inputs).
"""

from __future__ import annotations

import numpy as np

from tlmsim.errors import ConfigError

ENCODINGS = ("rate", "ttfs", "direct")


def rate(x: np.ndarray, timesteps: int, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli spikes, shape (T, *x.shape), bool."""
    p = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return rng.random((timesteps, *p.shape)) < p


def ttfs(x: np.ndarray, timesteps: int) -> np.ndarray:
    """One spike per positive input at ``round((1 - x) * (T - 1))``, shape (T, *x.shape)."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    when = np.rint((1.0 - x) * (timesteps - 1)).astype(np.int64)
    t = np.arange(timesteps).reshape((timesteps,) + (1,) * x.ndim)
    return (t == when[None]) & (x[None] > 0)


def direct(x: np.ndarray, timesteps: int) -> np.ndarray:
    """The analog input repeated every timestep, shape (T, *x.shape), float."""
    x = np.asarray(x, dtype=np.float64)
    return np.broadcast_to(x, (timesteps, *x.shape)).copy()


def encode(name: str, x: np.ndarray, timesteps: int, seed: int = 0, *,
           rng: np.random.Generator | None = None) -> np.ndarray:
    """Encode ``x`` with the encoder called ``name`` (one of :data:`ENCODINGS`). The
    rate encoder draws from ``rng``, or from ``default_rng(seed)``; when ``x`` is
    random itself, its generator must be independent of this one (see
    :func:`tlmsim.workload.random_input_streams`)."""
    if timesteps < 1:
        raise ConfigError("timesteps must be >= 1", key="timesteps", value=timesteps)
    if name == "rate":
        return rate(x, timesteps, rng if rng is not None else np.random.default_rng(seed))
    if name == "ttfs":
        return ttfs(x, timesteps)
    if name == "direct":
        return direct(x, timesteps)
    raise ConfigError("unknown encoding", key="encoding", value=name, allowed=", ".join(ENCODINGS))
