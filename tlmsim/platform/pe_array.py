"""Parameters of the systolic PE array."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from tlmsim.platform.params import Bytes, ParamModel, param, refuse_removed


#: keys an older platform file may still set -> why they are gone
REMOVED = {
    "neuron": "pe_array.neuron was removed: it never applied (a layer without a neuron outputs its accumulator "
    "values); name each layer's neuron in the workload",
}


class PeArrayConfig(ParamModel):
    """A rows x cols systolic array of processing elements (one per accelerator)."""

    cores: int = param(
        1, desc="identical PE-array cores, each with its own private L1 (buffers.l1) at its own NoC position "
        "(noc.nodes.l1: a list of [x, y], core c at the c-th; the first cores used); the tiles of a layer are "
        "shared among them (docs/hierarchy.md, 'Multi-core')", ge=1, le=64,
    )
    multicore: Literal["split", "pipeline"] = param(
        "split", desc="how layers use several cores: split = every layer's tiles shared by all cores, layers one "
        "after the other; pipeline = consecutive layers paired where an estimate of the pair's time (compute, "
        "DRAM/SRAM/link bytes at their rates, the second layer's tiles after the stores they read) is below the two "
        "one after the other, each pair run at once on two disjoint core groups, a tile of the second starting when "
        "the bytes it reads are stored (docs/hierarchy.md, 'Layer pipelining'); needs pe_array.cores >= 2",
    )
    rows: int = param(16, desc="PE rows (SCALE-Sim's default array is 32x32; 16x16 is a common edge size)", ge=1, le=1024)
    cols: int = param(16, desc="PE columns", ge=1, le=1024)
    weight_bits: int = param(
        8, desc="width of a stored weight (SpikeX: 4-16 bits): the weight bytes every dataflow moves, unless the "
        "workload gives its own weight_bits", ge=1, le=32,
    )
    accumulator_bits: int = param(16, desc="width of the accumulator / partial sum", ge=2, le=64)
    membrane_bits: int = param(16, desc="width of a membrane potential kept between timesteps", ge=2, le=64)
    scratchpad_bytes: Bytes = param(64, desc="scratchpad per PE (holds stationary weights and state)", ge=0, le=1 << 20)
    weight_double_buffer: bool = param(
        True, desc="each PE holds a second (shadow) register for its stationary operand: the next fold's weights "
        "(dense-is: inputs) shift in while the current fold streams, and the pipeline skew R + C - 2 is paid "
        "once per run of back-to-back folds (a tile); false = SCALE-Sim's rule, every fold pays fill + skew "
        "(the SCALE-Sim golden test runs so)",
    )
    tag_bits_per_cycle: int = param(
        64, desc="activity-tag bits the array's sequencer reads per cycle (ptb, spikex) while it schedules folds "
        "and streamed elements; assumption: one 64-bit tag word per cycle (neither PTB nor SpikeX publishes "
        "its tag-unit width)", ge=1, le=65536,
    )
    event_dispatch_per_cycle: int = param(
        1, desc="event dataflow: address events the dispatcher issues per cycle; assumption: one AER address "
        "decoded per cycle", ge=1, le=1024,
    )
    if_update_cycles: int = param(
        1, desc="cycles a neuron unit needs for one IF update (integrate, compare, reset); assumption: one add "
        "and one compare per cycle", ge=0, le=64,
    )
    lif_update_cycles: int = param(
        1, desc="cycles for one LIF (and LI) update: the leak is a shift done in the same cycle as the "
        "integrate (shift-based leak, SATA's model)", ge=0, le=64,
    )
    cuba_lif_update_cycles: int = param(
        2, desc="cycles for one current-based LIF update: synaptic current first, then the membrane "
        "(two dependent adds)", ge=0, le=64,
    )

    @model_validator(mode="before")
    @classmethod
    def _removed_keys(cls, data: Any) -> Any:
        return refuse_removed(data, REMOVED)

    def update_cycles(self, neuron: str | None) -> int:
        """Cycles of one neuron update for ``neuron`` (``li`` costs as ``lif``, ``cuba_li`` as
        ``cuba_lif``; None: 0)."""
        if neuron is None:
            return 0
        return {"if": self.if_update_cycles, "lif": self.lif_update_cycles, "li": self.lif_update_cycles,
                "cuba_lif": self.cuba_lif_update_cycles, "cuba_li": self.cuba_lif_update_cycles}[neuron]
