"""``tlmsim bench dram``: drive one DRAM configuration with a synthetic request stream.

The patterns are those of docs/model.md ("DRAM bench patterns"), the same streams the
DRAMsim3 cross-validation replays. Requests are 64 bytes, or the preset's request size
when it is larger (128 B on LPDDR4, 256 B on GDDR6), so that one request is one burst:

* ``seq``: reads of request i at i x size;
* ``random``: reads at ``numpy.random.default_rng(seed).integers(0, 2**30 // size, N) * size``;
* ``mixed``: the sequential stream, request i a write when i % 3 == 2;
* ``light``: the random reads, request i offered at cycle 100 x i (open loop);
* ``dma``: S streams (``streams``), each keeping K blocks (``outstanding``) of B bytes
  (``block_bytes``) in flight; stream s's block j starts at s x 2**28 + j x B and is
  made of B / size requests at consecutive addresses; block b of the run belongs to
  stream b % S as its block j = b // S; block j of a stream is a write block when
  ``write_every`` W > 0 and j % W == W - 1. A stream starts its next block when one of
  its blocks has completed. The requests of the blocks in flight are offered round robin,
  as a DMA engine with K outstanding blocks issues them: one request of the oldest block,
  which then goes to the back of the rotation (a new block joins at the back); when the
  controller refuses a request, offering stops until the next cycle.

``seq``, ``random`` and ``mixed`` are closed loop: 32 x channels requesters each offer
the next request when their previous one completes. A read completes when its data has
moved, a write when the controller has accepted it (posted). Bandwidth is requests x
size / time of the last completion.
"""

from __future__ import annotations

import math
from collections import deque
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

PATTERNS = ("seq", "random", "mixed", "light", "dma")
CLOSED_LOOP_REQUESTERS = 32  #: per channel
DMA_STREAM_STRIDE = 1 << 28
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
    *, preset: str, pattern: str, requests: int, seed: int, overrides: dict[str, Any] | None = None,
    block_bytes: int = 4096, outstanding: int = 4, streams: int = 1, write_every: int = 0,
) -> pd.DataFrame:
    """Run ``requests`` requests of ``pattern`` against ``preset`` (plus ``overrides``,
    keys of the ``dram:`` section, dotted for nested ones); one-row DataFrame. The dma
    pattern uses ``block_bytes``, ``outstanding``, ``streams`` and ``write_every``."""
    if pattern not in PATTERNS:
        raise ConfigError("unknown pattern", key="--pattern", value=pattern, allowed=", ".join(PATTERNS))
    if requests <= 0:
        raise ConfigError("must be positive", key="--requests", value=requests)
    config = make_config(preset, overrides)
    spec = config.resolve()
    env, rec = simpy.Environment(), Recorder()
    dram = Dram(name="dram", env=env, recorder=rec, config=config)
    size = max(64, spec.request_bytes)
    issued = requests

    def one(addr: int, nbytes: int, write: bool):
        txn = rec.new_transaction(
            Cmd.WRITE if write else Cmd.READ, DataClass.NONE, addr, nbytes, "bench", "dram", now_ps=env.now
        )
        yield from dram.access(txn)
        rec.complete(txn, env.now)

    if pattern == "dma":
        for key, value in (("--block-bytes", block_bytes), ("--outstanding", outstanding), ("--streams", streams)):
            if value <= 0:
                raise ConfigError("must be positive", key=key, value=value)
        if write_every < 0:
            raise ConfigError("must be 0 (no writes) or positive", key="--write-every", value=write_every)
        if block_bytes % size:
            raise ConfigError(f"must be a multiple of the request size {size} B", key="--block-bytes",
                              value=block_bytes)
        per_block = block_bytes // size
        n_blocks = requests // per_block
        if n_blocks == 0:
            raise ConfigError(f"fewer requests than one block ({per_block})", key="--requests", value=requests)
        issued = n_blocks * per_block
        # stream s owns blocks b with b % S == s, its block j = b // S; the requests of the blocks
        # in flight are offered round robin (one request of the oldest block, which then goes to
        # the back; a new block joins at the back); a refused request stops offering until the
        # next cycle
        counts = [len(range(s_, n_blocks, streams)) for s_ in range(streams)]
        next_j = [0] * streams
        rotation: deque = deque()  # [stream, j, next request index, write]
        left: dict[tuple[int, int], int] = {}
        wake = [env.event()]

        def start_block(s_: int) -> None:
            j = next_j[s_]
            if j >= counts[s_]:
                return
            next_j[s_] += 1
            rotation.append([s_, j, 0, write_every > 0 and j % write_every == write_every - 1])
            left[(s_, j)] = per_block
            if not wake[0].triggered:
                wake[0].succeed()

        def request(s_: int, j: int, addr: int, write: bool) -> None:
            txn = rec.new_transaction(
                Cmd.WRITE if write else Cmd.READ, DataClass.NONE, addr, size, "bench", "dram", now_ps=env.now
            )

            def finished(_ev) -> None:
                rec.complete(txn, env.now)
                key = (s_, j)
                left[key] -= 1
                if not left[key]:
                    del left[key]
                    start_block(s_)

            dram.submit(txn).callbacks.append(finished)

        def offerer():
            tck = spec.tck_ps
            while rotation or left:
                if not rotation:
                    wake[0] = env.event()
                    yield wake[0]
                    continue
                while rotation:
                    blk = rotation[0]
                    s_, j, k, write = blk
                    addr = s_ * DMA_STREAM_STRIDE + j * block_bytes + k * size
                    if not dram.will_accept(addr, write):
                        break
                    request(s_, j, addr, write)
                    rotation.popleft()
                    blk[2] += 1
                    if blk[2] < per_block:
                        rotation.append(blk)
                yield env.timeout(tck - env.now % tck if env.now % tck else tck)

        for _k in range(outstanding):
            for s_ in range(streams):
                start_block(s_)
        env.process(offerer())
    else:
        rng = np.random.default_rng(seed)
        if pattern in ("seq", "mixed"):
            addrs = (np.arange(requests, dtype=np.int64) * size).tolist()
        else:
            addrs = (rng.integers(0, RANDOM_RANGE_BYTES // size, requests, dtype=np.int64) * size).tolist()
        writes = [pattern == "mixed" and i % 3 == 2 for i in range(requests)]
        if pattern == "light":
            def source():
                period = LIGHT_INTERVAL_CYCLES * spec.tck_ps
                for i in range(requests):
                    env.process(one(addrs[i], size, writes[i]))
                    if i + 1 < requests:
                        yield env.timeout(period)

            env.process(source())
        else:
            it = iter(range(requests))

            def worker():
                for i in it:
                    yield from one(addrs[i], size, writes[i])

            for _ in range(min(requests, CLOSED_LOOP_REQUESTERS * spec.channels)):
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
    background_pj = sum(v for k, v in energy.items() if k.startswith("background_"))
    bursts = c["bursts"]
    bits = 8 * nbytes
    row = {
        "preset": spec.preset,
        "pattern": pattern,
        "page_policy": spec.page_policy,
        "requests": issued,
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
        "energy_pj_per_bit": total_pj / bits if bits else math.nan,
        "dynamic_pj_per_bit": (total_pj - background_pj) / bits if bits else math.nan,
        "background_pj_per_bit": background_pj / bits if bits else math.nan,
        "io_pj_per_bit": spec.io_energy_pj_per_bit,
    }
    if pattern == "dma":
        row.update(block_bytes=block_bytes, outstanding=outstanding, streams=streams, write_every=write_every)
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
