"""``tlmsim bench dram``: drive one DRAM configuration with a synthetic request stream.

Requests are 64 bytes, or the preset's request size when it is larger (128 B on
LPDDR4, 256 B on GDDR6), so that one request is one burst. Patterns:

* ``seq``: sequential reads from address 0;
* ``random``: reads at uniformly random request-aligned addresses in a 1 GiB range
  (seeded :class:`numpy.random.Generator`);
* ``mixed``: the sequential stream, every third request a write (2 reads : 1 write);
* ``light``: random reads as in ``random``, one every 100 DRAM clock cycles, open loop.

``seq``, ``random`` and ``mixed`` are closed loop: ``queue_depth x channels``
requesters each issue their next request when the previous one completes, which
keeps every channel's transaction queue full.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import simpy
from pydantic import ValidationError

from tlmsim.config_io import validation_error
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.errors import ConfigError
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig, canonical_preset

PATTERNS = ("seq", "random", "mixed", "light")
RANDOM_RANGE_BYTES = 1 << 30
LIGHT_INTERVAL_CYCLES = 100


def _nest(overrides: dict[str, Any]) -> dict[str, Any]:
    """``{"timing.tRCD": 20}`` -> ``{"timing": {"tRCD": 20}}``."""
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        parts = str(key).split(".")
        node = out
        for p in parts[:-1]:
            child = node.setdefault(p, {})
            if not isinstance(child, dict):
                raise ConfigError("is not a mapping, so it has no sub-keys", file="--set", key=p)
            node = child
        node[parts[-1]] = value
    return out


def make_config(preset: str, overrides: dict[str, Any] | None = None) -> DramConfig:
    """A validated :class:`DramConfig`; every problem is a ConfigError naming the key."""
    try:
        preset = canonical_preset(preset)
    except ValueError as exc:
        raise ConfigError(str(exc), file="--preset") from None
    data = {"preset": preset, **_nest(dict(overrides or {}))}
    try:
        return DramConfig.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, DramConfig, "--set") from None


def run_dram_bench(
    *, preset: str, pattern: str, requests: int, seed: int, overrides: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Run ``requests`` requests of ``pattern`` against ``preset`` (plus ``overrides``,
    keys of the ``dram:`` section, dotted for nested ones); one-row DataFrame."""
    if pattern not in PATTERNS:
        raise ConfigError("unknown pattern", key="--pattern", value=pattern, allowed=", ".join(PATTERNS))
    if requests <= 0:
        raise ConfigError("must be positive", key="--requests", value=requests)
    config = make_config(preset, overrides)
    spec = config.resolve()
    env, rec = simpy.Environment(), Recorder()
    dram = Dram(name="dram", env=env, recorder=rec, config=config)
    size = max(64, spec.request_bytes)
    rng = np.random.default_rng(seed)
    if pattern in ("seq", "mixed"):
        addrs = (np.arange(requests, dtype=np.int64) * size).tolist()
    else:
        addrs = (rng.integers(0, RANDOM_RANGE_BYTES // size, requests, dtype=np.int64) * size).tolist()
    writes = [pattern == "mixed" and i % 3 == 2 for i in range(requests)]

    def one(i: int):
        txn = rec.new_transaction(
            Cmd.WRITE if writes[i] else Cmd.READ, DataClass.NONE, addrs[i], size, "bench", "dram", now_ps=env.now
        )
        yield from dram.access(txn)
        rec.complete(txn, env.now)

    if pattern == "light":
        def source():
            period = LIGHT_INTERVAL_CYCLES * spec.tck_ps
            for i in range(requests):
                env.process(one(i))
                if i + 1 < requests:
                    yield env.timeout(period)

        env.process(source())
    else:
        nxt = iter(range(requests))

        def worker():
            for i in nxt:
                yield from one(i)

        for _ in range(min(requests, spec.queue_depth * spec.channels)):
            env.process(worker())
    env.run()
    end_ps = env.now
    dram.finalize(end_ps)
    c = dram.stats.c
    nbytes = int(c["read_bytes"] + c["write_bytes"])
    elapsed_ns = end_ps / 1000.0
    lat = np.asarray(dram.read_latency_ps, dtype=np.float64) / 1000.0
    energy = dram.energy_pj()
    total_pj = sum(energy.values())
    bursts = c["bursts"]
    row = {
        "preset": spec.preset,
        "pattern": pattern,
        "page_policy": spec.page_policy,
        "requests": requests,
        "request_bytes": size,
        "bytes": nbytes,
        "elapsed_ns": elapsed_ns,
        "bandwidth_gb_per_s": nbytes / elapsed_ns if elapsed_ns else 0.0,
        "peak_gb_per_s": spec.peak_bandwidth_gb_per_s,
        "bus_utilisation": c["busy_ps"] / (dram.busy_units * end_ps) if end_ps else 0.0,
        "read_latency_mean_ns": float(lat.mean()) if lat.size else math.nan,
        "read_latency_p50_ns": float(np.percentile(lat, 50)) if lat.size else math.nan,
        "read_latency_p99_ns": float(np.percentile(lat, 99)) if lat.size else math.nan,
        "row_hit_rate": c["row_hits"] / bursts if bursts else 0.0,
        "act": int(c["act"]),
        "pre": int(c["pre"]),
        "ref": int(c["ref"]),
        "energy_pj": total_pj,
        "energy_pj_per_bit": total_pj / (8 * nbytes) if nbytes else math.nan,
        "io_pj_per_bit": spec.io_energy_pj_per_bit,
    }
    for reason, ps in sorted(rec.stalls.by_reason("dram").items()):
        row[f"stall_{reason}_ns"] = ps / 1000.0
    return pd.DataFrame([row])


def format_bench(df: pd.DataFrame, fmt: str = "table") -> str:
    """The bench result as an aligned two-column table or as CSV."""
    if fmt == "csv":
        return df.to_csv(index=False).rstrip("\n")
    if fmt != "table":
        raise ConfigError("unknown format", key="--format", value=fmt, allowed="table, csv")
    out = []
    for _, r in df.iterrows():
        width = max(len(k) for k in df.columns)
        for k in df.columns:
            v = r[k]
            text = f"{v:.4g}" if isinstance(v, float) else str(v)
            out.append(f"{k:<{width}}  {text}")
    return "\n".join(out)
