"""``event``: address-event driven accumulation; its cost scales with the spike count.

Each input spike (an address event: channel, row, column) fetches the fan-out
weights of its input channel and adds them into every output neuron it feeds:
``fanout(position) x ob`` accumulates for a block of ``ob`` output channels, where
``fanout`` counts the output pixels whose window covers the position (stride and
padding included). When the block's outputs (``ob x M``) fit the R x C PEs, the PEs
hold their partial sums and work as a vector of accumulators (``R x C``
accumulates per cycle); otherwise the partial sums live in L1 and each accumulate
is a read-modify-write there, ``L1 bytes per cycle / (2 x accumulator bytes)`` per
cycle (L1 bytes per cycle = ``banks x port_width_bytes``). The event's fan-out
weights (``kh x kw x ob``) are read from L1 at its full bandwidth. So one event takes
``max(ceil(fanout x ob / rate), ceil(fan-out weight bytes / L1 bytes per cycle))``
cycles (at least 1).

A tile covers one timestep, a block of ``ob`` output channels (their partial sums
and membranes stay on chip across the block's tiles) and a group of ``cg`` input
channels (a linear layer: input neurons). It loads the group's events in AER and
the fan-out weights of the channels that carry at least one event (a channel with
no event costs nothing: that is the zero skipping; ``zero_skip: false`` processes
every input position as an event and loads every channel's weights, as a dense
scan would). The block's neurons are all updated once per timestep (the leak
applies to silent neurons too), with the block's last tile.

Candidates for the tiler: the widest output block for one input channel per tile,
then as many channels as fit; or an array-wide block (``ob = C``) with as many
channels as fit.
"""

from __future__ import annotations

import numpy as np

from tlmsim.dataflow.activity import fanout_map
from tlmsim.dataflow.formats import bits_for
from tlmsim.dataflow.systolic import GemmCandidate, Step, SystolicDataflow
from tlmsim.dataflow.tiling import bits_to_bytes, ceil_div, largest_chunk
from tlmsim.workload import Layer


class Event(SystolicDataflow):
    NAME = "event"
    SPIKE_FORMATS = ("aer",)

    def _channels(self, layer: Layer) -> tuple[int, int, np.ndarray]:
        """(input channels, positions per channel, fan-out per position)."""
        if layer.op == "linear":
            return layer.in_shape[0], 1, np.ones(1, dtype=np.int64)
        c, h, w = layer.in_shape
        return c, h * w, fanout_map(layer).ravel()

    def gemm_candidates(self, layer: Layer) -> list[GemmCandidate]:
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        cin, pos, fan = self._channels(layer)
        kpc = K // cin  # reduction elements (weights per output channel) per input channel
        l1 = self.platform.buffers.l1
        l1_bw = l1.banks * l1.port_width_bytes
        skip = self.df.zero_skip
        x = self.workload.spikes[layer.name].reshape(T, cin, pos).astype(bool)
        events = x if skip else np.ones_like(x)
        per_ch_events = events.sum(axis=2)  # (T, cin)

        def footprint(ob: int, cg: int) -> int:
            n = cg * pos
            aer_max = bits_for(n + 1) + n * (1 + bits_for(n))
            return bits_to_bytes(aer_max) + self.weight_bytes(layer, cg * kpc, ob) + self.out_footprint(layer, ob * M, 1)

        ob1 = self.chunk("input channel and output channel", layer, N, lambda ob: footprint(ob, 1))
        shapes = [(ob1, largest_chunk(self.l1_half, cin, lambda cg: footprint(ob1, cg)))]
        if min(C, N) <= ob1:
            shapes.append((min(C, N), largest_chunk(self.l1_half, cin, lambda cg: footprint(min(C, N), cg))))
        cands = []
        acc_per_channel = np.einsum("tcp,p->tc", events, fan)  # accumulates per output channel, (T, cin)
        for ob, cg in dict.fromkeys(shapes):
            steps = []
            cmaps = {}
            for n0 in range(0, N, ob):
                nc = min(ob, N - n0)
                if nc not in cmaps:
                    fetch = ceil_div(bits_to_bytes(kpc * nc * self.wb), l1_bw)  # weight-fetch cycles per event
                    # accumulates per cycle: all PEs when the block's outputs live in them, else the
                    # L1 read-modify-write bandwidth of partial sums
                    rate = R * C if nc * M <= R * C else max(1, min(R * C, l1_bw // (2 * bits_to_bytes(self.ab))))
                    per_event = np.maximum(max(1, fetch), -(-(fan * nc) // rate))  # cycles per event, per position
                    cmaps[nc] = np.einsum("tcp,p->tc", events, per_event)  # (T, cin)
                cyc = cmaps[nc]
                acc = acc_per_channel * nc
                for t in range(T):
                    for c0 in range(0, cin, cg):
                        c1 = min(cin, c0 + cg)
                        n_ev = int(per_ch_events[t, c0:c1].sum())
                        active = int((per_ch_events[t, c0:c1] > 0).sum())
                        n = (c1 - c0) * pos
                        s_bits = bits_for(n + 1) + n_ev * (1 + bits_for(n)) if skip else n
                        steps.append(Step(
                            t0=t, t1=t + 1, n0=n0, nc=nc, m0=0, mm=M, k0=c0 * kpc, k1=c1 * kpc,
                            cycles=int(cyc[t, c0:c1].sum()),
                            w_bytes=self.weight_bytes(layer, active * kpc, nc) if active else 0,
                            s_bytes=bits_to_bytes(s_bits), dense_ops=M * (c1 - c0) * kpc * nc,
                            acc_ops=int(acc[t, c0:c1].sum()), pe_weight_loads=active * kpc * nc,
                            last_k=c1 == cin, spike_format="aer" if skip else "bitmap",
                        ))
            cands.append(GemmCandidate(f"t>n>c, out block={ob}, channels/tile={cg}", steps))
        return cands
