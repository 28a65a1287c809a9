"""``dense-ws``: the SNN run as T dense binary GEMMs on a weight-stationary array.

Each timestep is one dense GEMM (M output pixels x K = kh*kw*C_in reduction x N
output channels) on an R x C array: K on rows, N on columns, M streamed. No zero
skipping: a silent input costs the same as a spike. Loop order (outer to inner)::

    for t in timesteps:            # one dense GEMM per timestep
      for n in N-folds:            # C output channels at a time
        for m in M-chunks:         # as many output pixels as fit an L1 half
          for k in K-folds:        # R reduction rows at a time; psums stay in the array
            tile(t, n, m, k)

A tile's stall-free cycles follow SCALE-Sim's weight-stationary fold:
``2R + C + m - 2`` (weights shifted in over R cycles, m rows streamed through a
pipeline R + C - 2 deep); partial folds cost a full fold. After the last K-fold,
the C neuron units (one per column) update the m x C neurons:
``neuron_update_cycles * m`` more cycles. Membrane state crosses timesteps, so it
is written after timestep t and read back at t + 1 (from the GLB when it fits
there, else from DRAM).

Bytes: weights of a fold (kr x nc x weight_bits); the fold's input slice as the
array consumes it (im2col: m x kr bits) from the GLB; when the input tensor is not
GLB-resident that slice is streamed from DRAM as is (no on-chip im2col reuse).
"""

from __future__ import annotations

from tlmsim.dataflow.base import Dataflow, LayerPlan, Move, Tile
from tlmsim.dataflow.tiling import (
    Candidate,
    bits_to_bytes,
    ceil_div,
    choose_resident,
    largest_chunk,
    layout_dram,
)
from tlmsim.engine.transaction import DataClass
from tlmsim.errors import MappingError
from tlmsim.workload import Layer, consumers


class DenseWS(Dataflow):
    """Weight-stationary dense dataflow, one GEMM per timestep."""

    NAME = "dense-ws"

    def __init__(self, *, platform, workload) -> None:
        super().__init__(platform=platform, workload=workload)
        pe = platform.pe_array
        self.R, self.C = pe.rows, pe.cols
        self.wb = workload.weight_bits
        self.ab = pe.accumulator_bits
        self.mb = pe.membrane_bits
        self.layout = layout_dram(workload, weight_bits=self.wb, membrane_bits=self.mb)
        if bits_to_bytes(self.wb) > pe.scratchpad_bytes:
            raise MappingError(
                f"a {self.wb}-bit stationary weight does not fit a PE scratchpad of {pe.scratchpad_bytes} bytes; "
                "raise pe_array.scratchpad_bytes"
            )
        self.readers = consumers(workload.layers)
        l1 = platform.buffers.l1
        self.l1_half = l1.capacity_bytes // 2 if l1.double_buffered else l1.capacity_bytes
        df = platform.dataflow
        self.staging = 2 * df.dma_outstanding * df.dma_chunk_bytes
        glb = platform.buffers.glb.capacity_bytes
        if glb < 2 * self.staging:
            raise MappingError(
                f"buffers.glb.capacity_bytes {glb} is smaller than twice the DMA staging space "
                f"(2 x dataflow.dma_outstanding x dataflow.dma_chunk_bytes = {self.staging}); "
                "lower dataflow.dma_chunk_bytes or raise the GLB capacity"
            )
        self.glb_capacity = glb

    # -- helpers ---------------------------------------------------------------------
    def _glb_layout(self, sizes: dict[str, int], resident: set[str]) -> dict[str, int]:
        """GLB offsets: staging first, then resident tensors in a fixed order."""
        offsets, cursor = {}, self.staging
        for name in ("weights", "inputs", "membrane", "outputs"):
            if name in resident:
                offsets[name] = cursor
                cursor += sizes[name]
        return offsets

    def _outputs_to_dram(self, layer: Layer) -> bool:
        """Whether ``layer``'s outputs must reach DRAM: a network output (no reader), a
        residual source, or read by a layer other than the next one."""
        readers = self.readers[layer.index]
        return (not readers or any(r != layer.index + 1 for r in readers)
                or any(l.residual == layer.index for l in self.workload.layers))

    def _residency(self, layer: Layer, sizes: dict[str, int], reuse: dict[str, float], resident_input: bool):
        cands = [Candidate(n, sizes[n], reuse[n]) for n in sizes if sizes[n] > 0]
        if not self._outputs_to_dram(layer):
            cands = [c if c.name != "outputs" else Candidate("outputs", c.nbytes, 2.0) for c in cands]
        already = {"inputs"} if resident_input else set()
        return choose_resident(self.glb_capacity, self.staging, cands, already)

    # -- planning --------------------------------------------------------------------
    def plan_layer(self, layer: Layer, resident_input: bool) -> LayerPlan:
        if layer.op == "flatten":
            return LayerPlan(layer=layer, tiles=[], resident={"inputs": resident_input, "outputs": resident_input})
        if layer.op in ("maxpool2d", "avgpool2d", "sumpool2d"):
            return self._plan_pool(layer, resident_input)
        return self._plan_gemm(layer, resident_input)

    def _staging_address(self, i: int) -> int:
        return (i % 2) * (self.staging // 2)

    def _plan_gemm(self, layer: Layer, resident_input: bool) -> LayerPlan:
        R, C, T = self.R, self.C, self.workload.timesteps
        M, K, N = layer.gemm
        fk, fn = ceil_div(K, R), ceil_div(N, C)
        pe = self.platform.pe_array
        w_fold = bits_to_bytes(R * C * self.wb)

        def footprint(m: int) -> int:  # one tile in an L1 half: weights, spike slice, psums, membrane, outputs
            return w_fold + bits_to_bytes(m * R) + bits_to_bytes(m * C * self.ab) + bits_to_bytes(m * C * self.mb) + bits_to_bytes(m * C)

        m = largest_chunk(self.l1_half, M, footprint)
        if m == 0:
            raise MappingError(
                f"layer {layer.name!r}: one {R}x{C} weight fold and one output row need {footprint(1)} bytes, "
                f"more than an L1 half ({self.l1_half} bytes); raise buffers.l1.capacity_bytes or shrink the array"
            )
        mchunks = ceil_div(M, m)
        sizes = {
            "weights": bits_to_bytes(layer.weight_count * self.wb),
            "inputs": bits_to_bytes(T * layer.in_neurons),
            "membrane": bits_to_bytes(layer.out_neurons * self.mb) if T > 1 else 0,
            "outputs": bits_to_bytes(T * layer.out_neurons),
        }
        reuse = {
            "weights": float(T * mchunks),
            "inputs": float(fn * layer.kernel[0] * layer.kernel[1]),
            "membrane": float(2 * (T - 1)),
            "outputs": 1.0,
        }
        res = self._residency(layer, sizes, reuse, resident_input)
        glb = self._glb_layout(sizes, res)
        lay = self.layout
        w_base, mem_base = lay.weights[layer.index], lay.membrane[layer.index]
        in_base, out_base = lay.inputs[layer.index], lay.outputs[layer.index]
        in_step = bits_to_bytes(layer.in_neurons)
        out_step = bits_to_bytes(layer.out_neurons)

        prologue: list[Move] = []
        if "weights" in res:
            prologue.append(Move(DataClass.WEIGHTS, sizes["weights"], True, w_base, glb["weights"]))
        if "inputs" in res and not resident_input:
            prologue.append(Move(DataClass.SPIKES, sizes["inputs"], True, in_base, glb["inputs"]))
        if not res.__contains__("inputs") and resident_input:
            raise MappingError(f"layer {layer.name!r}: inputs left the GLB unexpectedly")  # planner invariant
        epilogue: list[Move] = []
        if "outputs" in res and self._outputs_to_dram(layer):
            epilogue.append(Move(DataClass.OUT_SPIKES, sizes["outputs"], True, out_base, glb["outputs"]))
        res_layer = self.workload.layers[layer.residual] if layer.residual >= 0 else None
        res_bits = (1 if res_layer.neuron else self.ab) if res_layer is not None else 0
        res_dc = DataClass.SPIKES if res_layer is not None and res_layer.neuron else DataClass.PSUM

        tiles: list[Tile] = []
        upd = pe.neuron_update_cycles
        for t in range(T):
            for n in range(fn):
                nc = min(C, N - n * C)
                for mi in range(mchunks):
                    mm = min(m, M - mi * m)
                    for k in range(fk):
                        kr = min(R, K - k * R)
                        i = len(tiles)
                        stage = self._staging_address(i)
                        w_bytes = bits_to_bytes(kr * nc * self.wb)
                        w_off = (n * fk + k) * w_fold
                        s_bytes = bits_to_bytes(mm * kr)
                        s_off = t * in_step + bits_to_bytes((mi * m * K + k * R) )  # position of the slice
                        loads = [
                            Move(DataClass.WEIGHTS, w_bytes, "weights" not in res, w_base + w_off,
                                 glb.get("weights", stage) + (w_off if "weights" in res else 0)),
                            Move(DataClass.SPIKES, s_bytes, "inputs" not in res, in_base + s_off % max(1, sizes["inputs"]),
                                 glb.get("inputs", stage) + (s_off % max(1, sizes["inputs"]) if "inputs" in res else 0)),
                        ]
                        mem_bytes = bits_to_bytes(mm * nc * self.mb)
                        mem_off = (n * M + mi * m) * C * self.mb // 8
                        if k == 0 and t > 0:
                            loads.append(Move(DataClass.MEMBRANE, mem_bytes, "membrane" not in res, mem_base + mem_off,
                                              glb.get("membrane", stage) + (mem_off if "membrane" in res else 0),
                                              after=(layer.index, "membrane", t - 1, n, mi)))
                        stores: list[Move] = []
                        cycles = 2 * R + C + mm - 2
                        ncyc = 0
                        if k == fk - 1:
                            ncyc = upd * mm
                            o_bytes = bits_to_bytes(mm * nc)
                            o_off = t * out_step + (n * M + mi * m) * C // 8
                            stores.append(Move(DataClass.OUT_SPIKES, o_bytes, "outputs" not in res, out_base + o_off,
                                               glb.get("outputs", stage) + (o_off if "outputs" in res else 0)))
                            if t < T - 1:
                                stores.append(Move(DataClass.MEMBRANE, mem_bytes, "membrane" not in res, mem_base + mem_off,
                                                   glb.get("membrane", stage) + (mem_off if "membrane" in res else 0),
                                                   signals=(layer.index, "membrane", t, n, mi)))
                        ops = mm * kr * nc
                        if k == fk - 1 and res_layer is not None:
                            # the shortcut: its slice of the residual source's output (in DRAM) is
                            # added by the neuron units, one output row per cycle
                            r_off = (t * bits_to_bytes(res_layer.out_neurons * res_bits)
                                     + (n * M + mi * m) * C * res_bits // 8)
                            loads.append(Move(res_dc, bits_to_bytes(mm * nc * res_bits), True,
                                              self.layout.outputs[layer.residual] + r_off, stage))
                            ncyc += mm
                            ops += mm * nc
                        tiles.append(Tile(
                            index=i, t_first=t, t_last=t, loads=loads, stores=stores,
                            compute_cycles=cycles + ncyc, neuron_cycles=ncyc, dense_ops=ops, acc_ops=ops,
                            neuron_updates=mm * nc if k == fk - 1 else 0, pe_weight_loads=kr * nc,
                        ))
        return LayerPlan(
            layer=layer, tiles=tiles, prologue=prologue, epilogue=epilogue,
            resident={name: name in res for name in sizes},
            glb_bytes=sum(sizes[n] for n in res), l1_tile_bytes=footprint(m),
        )

    def _plan_pool(self, layer: Layer, resident_input: bool) -> LayerPlan:
        """Pooling on spikes: the array's PEs act as adders (avg) or OR gates (max).

        Per timestep and group of channels that fits an L1 half: cycles =
        ceil(outputs x kh x kw / (R x C)) (every PE adds one input per cycle), plus the
        neuron update when the layer has a neuron model.
        """
        R, C, T = self.R, self.C, self.workload.timesteps
        c_in, h, w = layer.in_shape
        _, ho, wo = layer.out_shape
        kh, kw = layer.kernel
        per_ch = bits_to_bytes(h * w) + bits_to_bytes(ho * wo) + (bits_to_bytes(ho * wo * self.mb) if layer.neuron else 0)
        cg = largest_chunk(self.l1_half, c_in, lambda g: g * per_ch)
        if cg == 0:
            raise MappingError(f"layer {layer.name!r}: one channel needs {per_ch} bytes, more than an L1 half ({self.l1_half})")
        sizes = {
            "inputs": bits_to_bytes(T * layer.in_neurons),
            "membrane": bits_to_bytes(layer.out_neurons * self.mb) if (layer.neuron and T > 1) else 0,
            "outputs": bits_to_bytes(T * layer.out_neurons),
        }
        res = self._residency(layer, sizes, {"inputs": 1.0, "membrane": float(2 * (T - 1)), "outputs": 1.0}, resident_input)
        glb = self._glb_layout(sizes, res)
        lay = self.layout
        in_base, out_base, mem_base = lay.inputs[layer.index], lay.outputs[layer.index], lay.membrane[layer.index]
        prologue = []
        if "inputs" in res and not resident_input:
            prologue.append(Move(DataClass.SPIKES, sizes["inputs"], True, in_base, glb["inputs"]))
        epilogue = []
        if "outputs" in res and self._outputs_to_dram(layer):
            epilogue.append(Move(DataClass.OUT_SPIKES, sizes["outputs"], True, out_base, glb["outputs"]))
        tiles: list[Tile] = []
        upd = self.platform.pe_array.neuron_update_cycles
        for t in range(T):
            for g0 in range(0, c_in, cg):
                g = min(cg, c_in - g0)
                i = len(tiles)
                stage = self._staging_address(i)
                in_off = t * bits_to_bytes(layer.in_neurons) + g0 * h * w // 8
                out_off = t * bits_to_bytes(layer.out_neurons) + g0 * ho * wo // 8
                loads = [Move(DataClass.SPIKES, bits_to_bytes(g * h * w), "inputs" not in res, in_base + in_off,
                              glb.get("inputs", stage) + (in_off if "inputs" in res else 0))]
                stores = [Move(DataClass.OUT_SPIKES, bits_to_bytes(g * ho * wo), "outputs" not in res, out_base + out_off,
                               glb.get("outputs", stage) + (out_off if "outputs" in res else 0))]
                ops = g * ho * wo * kh * kw
                cycles = ceil_div(ops, R * C)
                ncyc = 0
                nupd = 0
                if layer.neuron:
                    nupd = g * ho * wo
                    ncyc = upd * ceil_div(nupd, C)
                    mem_bytes = bits_to_bytes(nupd * self.mb)
                    mem_off = g0 * ho * wo * self.mb // 8
                    if t > 0:
                        loads.append(Move(DataClass.MEMBRANE, mem_bytes, "membrane" not in res, mem_base + mem_off,
                                          glb.get("membrane", stage) + (mem_off if "membrane" in res else 0),
                                          after=(layer.index, "membrane", t - 1, g0)))
                    if t < T - 1:
                        stores.append(Move(DataClass.MEMBRANE, mem_bytes, "membrane" not in res, mem_base + mem_off,
                                           glb.get("membrane", stage) + (mem_off if "membrane" in res else 0),
                                           signals=(layer.index, "membrane", t, g0)))
                tiles.append(Tile(index=i, t_first=t, t_last=t, loads=loads, stores=stores,
                                  compute_cycles=cycles + ncyc, neuron_cycles=ncyc, dense_ops=ops, acc_ops=ops,
                                  neuron_updates=nupd))
        return LayerPlan(layer=layer, tiles=tiles, prologue=prologue, epilogue=epilogue,
                         resident={name: name in res for name in sizes},
                         glb_bytes=sum(sizes[n] for n in res), l1_tile_bytes=cg * per_ch)
