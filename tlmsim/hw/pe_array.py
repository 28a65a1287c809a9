"""The systolic PE array: executes one tile per COMPUTE transaction.

The dataflow computes a tile's stall-free cycles and operation counts; the array
streams the tile's operands out of L1 while it computes, so a tile takes
``max(compute time, L1 operand read time)``; time beyond the compute is a stall of
the array attributed to ``l1_bandwidth``.
"""

from __future__ import annotations

from typing import Generator

import simpy

from tlmsim.engine.plan import Tile  # cimported by the .pxd
from tlmsim.engine.component import Component  # cimported by the .pxd
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.stats import BUSY_PS, StatDecl, stat_positions
from tlmsim.engine.transaction import Transaction
from tlmsim.platform.energy import AreaTable, EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig


#: neuron model -> the statistic counting its updates (li costs as lif, cuba_li as cuba_lif)
_MODEL_STAT = {"if": "neuron_updates_if", "lif": "neuron_updates_lif", "li": "neuron_updates_lif",
               "cuba_lif": "neuron_updates_cuba_lif", "cuba_li": "neuron_updates_cuba_lif"}


class PeArray(Component):
    """rows x cols processing elements with accumulators and neuron units."""

    #: the instance attributes as slots (see tlmsim.engine.component.Component)
    __slots__ = (
        "_elapsed_ps", "area", "config", "energy", "functional", "period_ps",
    )

    KIND = "pe_array"
    STALLS_AT_END = True  # the controller reports the array's waits when they end
    STATS = (
        StatDecl("tiles", "count", "tiles computed"),
        StatDecl("compute_cycles", "cycles", "stall-free cycles of the tiles (dataflow model)"),
        StatDecl("neuron_cycles", "cycles", "part of compute_cycles spent in neuron updates"),
        StatDecl("dense_ops", "count", "synaptic operations of the dense computation"),
        StatDecl("acc_ops", "count", "accumulates performed"),
        StatDecl("neuron_updates", "count", "neuron state updates"),
        StatDecl("neuron_updates_if", "count", "IF neuron updates"),
        StatDecl("neuron_updates_lif", "count", "LIF and LI neuron updates"),
        StatDecl("neuron_updates_cuba_lif", "count", "current-based LIF neuron updates"),
        StatDecl("weight_loads", "count", "weights written into PE registers"),
        StatDecl("tag_bits", "count", "activity-tag bits read by the sequencer (ptb, spikex)"),
    )

    def __init__(
        self,
        *,
        name: str,
        env: simpy.Environment,
        recorder: Recorder,
        config: PeArrayConfig,
        clock_period_ps: int,
        energy: EnergyTable,
        area: AreaTable | None = None,
    ) -> None:
        super().__init__(name=name, env=env, recorder=recorder)
        self.config = config
        self.period_ps = clock_period_ps
        self.energy = energy
        self.area = area
        self._elapsed_ps = 0
        #: the functional model (verification mode), or None
        self.functional = None

    def compute(self, txn: Transaction, tile: Tile, operands_ready_ps: int | None = None,
                plan=None) -> Generator[simpy.Event, object, None]:
        """Run ``tile`` (of layer ``plan``). Starts now; the array is busy for
        ``tile.compute_cycles`` cycles. Its operands stream out of L1 meanwhile; if
        they are not all there by the end (``operands_ready_ps``), the tile stretches
        until they are (stall ``l1_bandwidth``). In verification mode the functional
        model computes the tile and ``txn.data`` is the output block it completes."""
        start = self.env.now
        yield self.start(txn, tile, operands_ready_ps, plan)
        self.finish(txn, tile, start)

    def start(self, txn: Transaction, tile: Tile, operands_ready_ps: int | None = None, plan=None) -> simpy.Event:
        """:meth:`compute`'s first half: the timeout it waits for (the controller yields it
        itself, without a generator per tile); :meth:`finish` once it has fired."""
        start = self.env._now
        if self.functional is not None:
            txn.data = self.functional.execute(plan, tile)
        end = start + tile.compute_cycles * self.period_ps
        if operands_ready_ps is not None and operands_ready_ps > end:
            self.stall("l1_bandwidth", operands_ready_ps - end, txn.layer, start_ps=end)
            end = operands_ready_ps
        return self.env.timeout(end - start)

    # @cython.locals(cv=cython.longlong[::1])
    def finish(self, txn: Transaction, tile: Tile, start: int) -> None:
        """:meth:`compute`'s second half: ``tile``'s counts and its record (it began at ``start``)."""
        compute_ps = tile.compute_cycles * self.period_ps
        cv = self._cv
        cv[_TILES] += 1
        cv[_COMPUTE_CYCLES] += tile.compute_cycles
        cv[_NEURON_CYCLES] += tile.neuron_cycles
        cv[_DENSE_OPS] += tile.dense_ops
        cv[_ACC_OPS] += tile.acc_ops
        cv[_NEURON_UPDATES] += tile.neuron_updates
        if tile.neuron_updates:
            cv[_MODEL_POS.get(tile.neuron, _LIF)] += tile.neuron_updates
        cv[_WEIGHT_LOADS] += tile.pe_weight_loads
        cv[_TAG_BITS] += tile.tag_bits
        cv[BUSY_PS] += compute_ps
        self.record(txn, start, self.env.now, 0)

    # @cython.locals(cv=cython.longlong[::1])
    def access(self, txn: Transaction) -> Generator[simpy.Event, object, None]:
        """A bare COMPUTE transaction of ``txn.cycles`` cycles (no operation counts)."""
        start = self.env.now
        yield self.env.timeout(txn.cycles * self.period_ps)
        cv = self._cv
        cv[_COMPUTE_CYCLES] += txn.cycles
        cv[BUSY_PS] += txn.cycles * self.period_ps
        self.record(txn, start, self.env.now, 0)

    def finalize(self, end_ps: int) -> None:
        self._elapsed_ps = end_ps

    def neuron_update_pj(self) -> dict[str, float]:
        """Energy of one update per neuron model, from the arithmetic it needs at the
        membrane width: IF = integrate (add) + threshold compare; LIF/LI = add +
        leak (shift) + compare; current-based LIF = current decay (shift) and add,
        membrane leak (shift) and add, compare."""
        e, w = self.energy, self.config.membrane_bits
        add = e.add_pj(w)
        return {
            "if": add + e.compare_pj,
            "lif": add + e.shift_pj + e.compare_pj,
            "cuba_lif": 2 * add + 2 * e.shift_pj + e.compare_pj,
        }

    def energy_pj(self) -> dict[str, float]:
        """Accumulates at the accumulator width; neuron updates per model
        (:meth:`neuron_update_pj`); a weight load = one scratchpad write; activity-tag
        lookups read the tag register file 16 bits at a time (one register access per
        16 bits); leakage per PE x time."""
        e, cfg, c = self.energy, self.config, self.stats.c
        per = self.neuron_update_pj()
        pes = cfg.rows * cfg.cols
        return {
            "accumulate": c["acc_ops"] * e.add_pj(cfg.accumulator_bits),
            "neuron_update": (c["neuron_updates_if"] * per["if"] + c["neuron_updates_lif"] * per["lif"]
                              + c["neuron_updates_cuba_lif"] * per["cuba_lif"]),
            "weight_load": c["weight_loads"] * e.scratchpad_access_pj,
            "tag_lookup": c["tag_bits"] * e.register_access_pj / 16.0,
            "leakage": e.leakage_mw_per_pe * pes * self._elapsed_ps * 1e-3,  # mW * ps = 1e-3 pJ
        }

    def area_mm2(self) -> float:
        return 0.0 if self.area is None else self.area.pe_mm2 * self.config.rows * self.config.cols



#: positions of the array's own statistics in its counters (tlmsim.engine.stats.Counters)
(_TILES, _COMPUTE_CYCLES, _NEURON_CYCLES, _DENSE_OPS, _ACC_OPS, _NEURON_UPDATES, _WEIGHT_LOADS, _TAG_BITS,
 _LIF) = stat_positions(PeArray.STATS, "tiles", "compute_cycles", "neuron_cycles", "dense_ops", "acc_ops",
                        "neuron_updates", "weight_loads", "tag_bits", "neuron_updates_lif")
#: neuron model -> the position of its update counter
_MODEL_POS = {model: stat_positions(PeArray.STATS, name)[0] for model, name in _MODEL_STAT.items()}

# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.hw.pe_array":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
