"""``event``: address-event driven accumulation with a physical scatter.

Each input spike (an address event: channel, row, column, timestep) adds its
channel's fan-out weights into every output neuron it feeds: the ``F`` output
pixels whose window covers its position (stride and padding included) times the
``nc`` output channels of the current output block. The engine is the same R x C
PE array, used as banks of accumulators, fed through a scatter network:

* **Accumulator banks.** An output block has ``nc <= C`` channels, one per column;
  the ``g = C // nc`` column groups split the output pixels (pixel m in group
  ``m mod g``) and each group's R rows are its banks (pixel m in row
  ``(m // g) mod R``): ``g x R`` banks, each a row of ``nc`` accumulators that takes
  one update vector per cycle. Two target pixels in the same bank conflict (two
  cycles). Each PE keeps its partial sums in its scratchpad when they fit
  (``ceil(M / (g R))`` sums of ``accumulator_bits``); otherwise they live in L1 and
  each update is a read-modify-write there, ``L1 bytes per cycle / (2 x accumulator
  bytes)`` updates per cycle (L1 bytes per cycle = ``banks x port_width_bytes``).
* **Weights.** Each target pixel needs the weight vector (``nc`` weights) of its
  kernel offset, read from the L1 banks: at most ``L1 bytes per cycle`` per cycle.
* **Dispatch.** The dispatcher issues at most ``pe_array.event_dispatch_per_cycle``
  events per cycle.
* **Pipeline fill.** Per tile, ``2 + ceil(log2(g R))`` cycles before the first
  accumulate: the L1 read, a butterfly scatter network of ``log2(banks)`` stages,
  the accumulate.

The events of a tile queue per bank, so a tile takes ``fill + max(ceil(events /
dispatch), the most target pixels of any bank, ceil(weight bytes read / L1 bytes per
cycle), ceil(updates / L1 read-modify-write rate) when the partial sums are in L1)``
cycles (0 without an event). An event engine re-reads a weight for every update,
where a weight-stationary array reuses it over its whole stream; so at full density
the event engine is not faster than the dense arrays (tested on the shipped networks).

A tile covers one timestep, a block of ``nc`` output channels (their partial sums
and membranes stay on chip across the block's tiles) and a group of ``cg`` input
channels (a linear layer: input neurons). It loads the group's events in AER and the
fan-out weights of the channels that carry at least one event and a nonzero weight
into the block (a channel with no event costs nothing: that is the zero skipping;
``zero_skip: false`` processes every input position as an event and loads every
channel's weights, as a dense scan would). The block's neurons are all updated once
per timestep (the leak applies to silent neurons too), with the block's last tile.

Candidate for the tiler: the widest output block (at most C) for one input channel,
then as many channels per tile as fit an L1 half.
"""

from __future__ import annotations

import numpy as np

from tlmsim.dataflow.activity import fanout_map
from tlmsim.dataflow.formats import bits_for
from tlmsim.dataflow.systolic import GemmCandidate, Step, SystolicDataflow
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div, largest_chunk
from tlmsim.workload import Layer


def bank_fanout(layer: Layer, groups: int, rows: int) -> np.ndarray:
    """int ``(positions, groups x rows)``: for each input position of a channel, how
    many of the output pixels it feeds fall in each accumulator bank (pixel m in
    column group ``m mod groups``, row ``(m // groups) mod rows``; bank
    ``group x rows + row``). A linear layer has one position feeding its one pixel."""
    banks = groups * rows
    if layer.op == "linear":
        d = np.zeros((1, banks), dtype=np.int64)
        d[0, 0] = 1
        return d
    _, h, w = layer.in_shape
    kh, kw = layer.kernel
    sh, sw = layer.stride
    ph, pw = layer.padding
    _, ho, wo = layer.out_shape
    oy, ox, ky, kx = np.meshgrid(np.arange(ho), np.arange(wo), np.arange(kh), np.arange(kw), indexing="ij")
    iy, ix = oy * sh - ph + ky, ox * sw - pw + kx
    ok = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    m = (oy * wo + ox)[ok]
    d = np.zeros((h * w, banks), dtype=np.int64)
    np.add.at(d, ((iy * w + ix)[ok], (m % groups) * rows + (m // groups) % rows), 1)
    return d


class Event(SystolicDataflow):
    NAME = "event"
    SPIKE_FORMATS = ("aer",)

    def _channels(self, layer: Layer) -> tuple[int, int, np.ndarray]:
        """(input channels, positions per channel, fan-out per position)."""
        if layer.op == "linear":
            return layer.in_shape[0], 1, np.ones(1, dtype=np.int64)
        c, h, w = layer.in_shape
        return c, h * w, fanout_map(layer).ravel()

    def fill_cycles(self, nc: int) -> int:
        """Pipeline fill of a tile: the L1 read, log2(banks) scatter stages, the accumulate."""
        banks = max(1, self.C // nc) * self.R
        return 2 + (banks - 1).bit_length()

    def psums_in_pes(self, M: int, nc: int) -> bool:
        """Whether a block's ``nc x M`` partial sums fit the PE scratchpads."""
        g = max(1, self.C // nc)
        return ceil_div(M, g * self.R) * bits_to_bytes(self.ab) <= self.pe.scratchpad_bytes

    def gemm_candidates(self, layer: Layer) -> list[GemmCandidate]:
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        cin, pos, fan = self._channels(layer)
        kpc = K // cin  # reduction elements (weights per output channel) per input channel
        l1 = self.platform.buffers.l1
        l1_bw = l1.banks * l1.port_width_bytes
        rmw = max(1, l1_bw // (2 * bits_to_bytes(self.ab)))
        dispatch = self.pe.event_dispatch_per_cycle
        skip = self.df.zero_skip
        x = self.workload.spikes[layer.name].reshape(T, cin, pos).astype(bool)
        events = x if skip else np.ones_like(x)
        blocks = self.weight_blocks(layer)

        def footprint(ob: int, cg: int) -> int:
            n = cg * pos
            aer_max = bits_for(n + 1) + n * (1 + bits_for(n))
            return (bits_to_bytes(aer_max) + bits_to_bytes(cg * kpc * ob * self.wb)
                    + self.out_footprint(layer, ob * M, 1))

        ob1 = min(C, self.chunk("input channel and output channel", layer, N, lambda ob: footprint(ob, 1)))
        cg1 = largest_chunk(self.l1_half, cin, lambda cg: footprint(ob1, cg))
        acc_per_channel = np.einsum("tcp,p->tc", events, fan)  # target pixels per (timestep, channel)
        steps = []
        per_width: dict[int, np.ndarray] = {}
        for n0 in range(0, N, ob1):
            nc = min(ob1, N - n0)
            if nc not in per_width:  # target pixels per (timestep, channel, bank)
                per_width[nc] = np.einsum("tcp,pb->tcb", events, bank_fanout(layer, max(1, C // nc), R))
            demand = per_width[nc]
            in_pes = self.psums_in_pes(M, nc)
            vec_bytes = bits_to_bytes(nc * self.wb)  # one target pixel's weight vector
            w_nnz = blocks.row_counts(n0, nc).reshape(cin, kpc).sum(axis=1)  # per input channel
            live_w = w_nnz > 0
            for t in range(T):
                ev_t = events[t].sum(axis=1)  # events per channel
                for c0 in range(0, cin, cg1):
                    c1 = min(cin, c0 + cg1)
                    live = (ev_t[c0:c1] > 0) & live_w[c0:c1] if skip else np.ones(c1 - c0, dtype=bool)
                    n_ev = int(ev_t[c0:c1][live].sum())
                    targets = int(acc_per_channel[t, c0:c1][live].sum())
                    updates = targets * nc
                    cycles = 0
                    if n_ev:
                        busy = max(ceil_div(n_ev, dispatch), int(demand[t, c0:c1][live].sum(axis=0).max()),
                                   ceil_div(targets * vec_bytes, l1_bw))
                        if not in_pes:
                            busy = max(busy, ceil_div(updates, rmw))
                        cycles = self.fill_cycles(nc) + busy
                    n = (c1 - c0) * pos
                    s_bits = bits_for(n + 1) + int(ev_t[c0:c1].sum()) * (1 + bits_for(n)) if skip else n
                    nlive = int(live.sum())
                    nnz = int(w_nnz[c0:c1][live].sum())
                    steps.append(Step(
                        t0=t, t1=t + 1, n0=n0, nc=nc, m0=0, mm=M, k0=c0 * kpc, k1=c1 * kpc, cycles=cycles,
                        w_bytes=self.weight_bytes(layer, nlive * kpc, nc, None if blocks.dense else nnz)
                        if nlive else 0,
                        s_bytes=bits_to_bytes(s_bits), dense_ops=M * (c1 - c0) * kpc * nc, acc_ops=updates,
                        pe_weight_loads=updates, last_k=c1 == cin, spike_format="aer" if skip else "bitmap",
                    ))
        return [GemmCandidate(f"t>n>c, out block={ob1}, channels/tile={cg1}", steps)]
