"""A component's counters as one int64 array read by name (session 28,
tlmsim.engine.stats.Counters): the mapping a report reads, the positions the hot paths add
at, and that every model's position constants name the statistic they claim to."""

from __future__ import annotations

import pytest

from tlmsim.engine import stats as st
from tlmsim.engine.stats import COMMON_STATS, Counters, StatDecl, Stats, stat_positions
from tlmsim.hw import controller, dram, noc, pe_array, sram


def test_counters_read_and_write_by_name_in_declaration_order():
    c = Counters(["reads", "writes", "busy_ps"])
    assert list(c) == ["reads", "writes", "busy_ps"] and len(c) == 3
    assert c["reads"] == 0 and c.values() == [0, 0, 0]
    c["writes"] += 5
    c.v[2] += 7  # by position, as the hot paths add
    assert c["writes"] == 5 and c["busy_ps"] == 7
    assert c.items() == [("reads", 0), ("writes", 5), ("busy_ps", 7)]
    assert c.keys() == ("reads", "writes", "busy_ps")
    assert c.copy() == {"reads": 0, "writes": 5, "busy_ps": 7} and dict(c) == c.copy()
    assert "writes" in c and "flits" not in c
    assert c.get("busy_ps") == 7 and c.get("flits") is None and c.get("flits", -1) == -1
    assert c == {"reads": 0, "writes": 5, "busy_ps": 7} and c != {"reads": 0, "writes": 5, "busy_ps": 8}
    d = Counters(["reads", "writes", "busy_ps"])
    assert c != d
    d.v[1], d.v[2] = 5, 7
    assert c == d
    assert c != Counters(["reads", "writes", "bytes"])
    with pytest.raises(KeyError):
        c["flits"]
    with pytest.raises(KeyError):
        c["flits"] = 1
    with pytest.raises(TypeError):
        hash(c)
    assert repr(c) == "Counters({'reads': 0, 'writes': 5, 'busy_ps': 7})"


def test_counters_hold_signed_64_bit_integers():
    c = Counters(["a"])
    c["a"] = (1 << 63) - 1
    assert c["a"] == 9223372036854775807
    c["a"] = -5
    assert c["a"] == -5
    with pytest.raises(OverflowError):
        c["a"] = 1 << 63
    with pytest.raises(TypeError):
        c["a"] = 0.5


def test_stats_start_with_the_common_statistics_at_their_positions():
    s = Stats("x", COMMON_STATS + (StatDecl("flits", "count", ""),))
    assert s.c.names == ("reads", "writes", "read_bytes", "write_bytes", "busy_ps", "flits")
    assert [s.c.names[i] for i in (st.READS, st.WRITES, st.READ_BYTES, st.WRITE_BYTES, st.BUSY_PS)] == [
        "reads", "writes", "read_bytes", "write_bytes", "busy_ps"]
    s.add("flits", 3)
    assert s["flits"] == 3 and s.c.v[5] == 3
    with pytest.raises(ValueError, match="x: statistics must start with COMMON_STATS"):
        Stats("x", (StatDecl("flits", "count", ""),) + COMMON_STATS)
    assert stat_positions((StatDecl("a", "", ""), StatDecl("b", "", "")), "b", "a") == (6, 5)
    with pytest.raises(ValueError):
        stat_positions((StatDecl("a", "", ""),), "c")


@pytest.mark.parametrize("module, cls, names", [
    (noc, noc.Noc, {"_TRANSFERS": "transfers", "_FLITS": "flits", "_FLIT_HOPS": "flit_hops",
                    "_BIT_HOPS": "bit_hops", "_MULTICAST_BYTES": "multicast_bytes"}),
    (sram, sram.Sram, {"_LINE_READS": "line_reads", "_LINE_WRITES": "line_writes"}),
    (pe_array, pe_array.PeArray, {"_TILES": "tiles", "_COMPUTE_CYCLES": "compute_cycles",
                                  "_NEURON_CYCLES": "neuron_cycles", "_DENSE_OPS": "dense_ops",
                                  "_ACC_OPS": "acc_ops", "_NEURON_UPDATES": "neuron_updates",
                                  "_WEIGHT_LOADS": "weight_loads", "_TAG_BITS": "tag_bits",
                                  "_LIF": "neuron_updates_lif"}),
    (controller, controller.Controller, {"_DMA_BLOCKS": "dma_blocks", "_LAYERS": "layers",
                                         "_PREFETCHED_BYTES": "prefetched_bytes"}),
    (dram, dram.Dram, {f"_N_{n.upper()}": n for n in (
        "act", "pre", "rd", "wr", "ref", "bursts", "row_hits", "row_misses", "row_conflicts", "forwarded_reads",
        "merged_writes", "write_drains", "powerdowns", "self_refreshes")}),
])
def test_each_models_positions_name_its_statistics(module, cls, names):
    order = [d.name for d in COMMON_STATS + cls.STATS]
    for const, name in names.items():
        assert order[getattr(module, const)] == name, const
    # every statistic of the model that a hot path adds to by position has its constant
    assert set(names.values()) <= set(order)


def test_the_array_models_neuron_counters_by_model():
    order = [d.name for d in COMMON_STATS + pe_array.PeArray.STATS]
    assert {m: order[i] for m, i in pe_array._MODEL_POS.items()} == {
        "if": "neuron_updates_if", "lif": "neuron_updates_lif", "li": "neuron_updates_lif",
        "cuba_lif": "neuron_updates_cuba_lif", "cuba_li": "neuron_updates_cuba_lif"}
