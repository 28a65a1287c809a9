"""Several PE-array cores (pe_array.cores): the tile schedule, loads shared by a group
fetched once and multicast, noc.multicast on and off, with exact values; the
validation of the core positions; one core as before; scaling on a small workload."""

import pytest
import simpy

from tlmsim.engine.plan import LayerPlan, Move, Tile
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import DataClass
from tlmsim.errors import ConfigError
from tlmsim.hw.controller import Controller
from tlmsim.hw.noc import Noc
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform import load_platform
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.noc import NocConfig
from tlmsim.platform.pe_array import PeArrayConfig
from tlmsim.report import build_report
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload

from tests.hw.test_controller import LAYER, NS, Fixed

# ------------------------------------------------------------------ two cores, one shared load, by hand

#: a 3x1 mesh at 1 GHz, 32-byte flits: the GLB (and DRAM) at (0,0), core 0 at (1,0), core 1 at (2,0)
#: (link A = (0,0)>(1,0) on both cores' routes, link B = (1,0)>(2,0) on core 1's only)
A, B = ((0, 0), (1, 0)), ((1, 0), (2, 0))


def _run_two_cores(tiles: list, multicast: bool):
    """``tiles`` as one layer on two cores (a 3x1 mesh: the DRAM and the GLB at (0, 0), the L1s at (1, 0)
    and (2, 0); every memory a fixed 10 ns); returns (env, recorder, NoC, PE arrays, controller) once run."""
    env, rec = simpy.Environment(), Recorder()

    def mk(name):
        return Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)

    noc = Noc(name="noc", env=env, recorder=rec, accel_clock_mhz=1000, cores=2, config=NocConfig(
        topology="mesh", mesh_cols=3, mesh_rows=1, link_width_bytes=32, router_latency_cycles=2,
        link_latency_cycles=1, buffer_flits=8, credit_latency_cycles=1, multicast=multicast,
        nodes={"dram": (0, 0), "glb": (0, 0), "l1": [(1, 0), (2, 0)]}))
    pes = [PeArray(name=f"pe_array_{c}", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=1 * NS,
                   energy=EnergyTable()) for c in range(2)]
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=mk("dram"), noc=noc, levels=[mk("glb")],
                      l1=[mk("l1_0"), mk("l1_1")], pe=pes, plans=[LayerPlan(layer=LAYER, tiles=tiles)],
                      chunk_bytes=4096, outstanding=4, double_buffered=True)
    env.run(until=ctrl.done)
    return env, rec, noc, pes, ctrl


def _two_cores(multicast: bool):
    # two tiles: the same 256 weight bytes of the GLB-resident tensor, and 64 spike bytes of their own
    tiles = [Tile(index=i, t_first=0, t_last=0, compute_cycles=100, stores=[],
                  loads=[Move(DataClass.WEIGHTS, 256, False, 0, 4096, level=0),
                         Move(DataClass.SPIKES, 64, False, 0, 8192 + 64 * i, level=0)]) for i in range(2)]
    env, rec, noc, _, _ = _run_two_cores(tiles, multicast)
    links = {}
    for row in noc.parts():
        links[row["component"]] = row["write_bytes"]
    return env.now, rec, noc, links


def test_a_load_two_cores_share_leaves_the_glb_once_and_is_multicast():
    # GLB reads (10 ns each) end at 10 ns = NoC cycle 10 for all three transfers, booked in order:
    # weights, multicast over A then B (a chain, 8 flits): heads 12 and 15, A free at 20, B at 23,
    #   tail at core 0 after 12 + 8 + 1 = 21, at core 1 after 15 + 8 + 1 = 24 -> 24;
    # spikes of core 0 over A (2 flits): head waits 20 - 12 = 8 cycles, ends 20 + 2 + 1 = 23;
    # spikes of core 1 over A, B: head waits for A until 22 (10 cycles), B at 25, ends 25 + 2 + 1 = 28.
    # L1 writes take 10 ns: core 0 ready at max(24, 23) + 10 = 34, core 1 at max(24, 28) + 10 = 38;
    # 100-cycle tiles: the run ends at 38 + 100 = 138 ns.
    end, rec, noc, links = _two_cores(multicast=True)
    assert end == 138 * NS
    assert rec.stats["glb"].c["read_bytes"] == 256 + 64 + 64  # the shared weights read once
    assert rec.stats["l1_0"].c["write_bytes"] == rec.stats["l1_1"].c["write_bytes"] == 256 + 64
    assert noc.stats.c["multicast_bytes"] == 256
    assert links == {"noc:(0,0)>(1,0)": 256 + 64 + 64, "noc:(1,0)>(2,0)": 256 + 64}
    assert noc.stats.c["flit_hops"] == 8 * 2 + 2 * 1 + 2 * 2
    assert noc.stats.c["transfers"] == 3 and noc.stats.c["write_bytes"] == 384
    assert rec.stalls.by_reason("noc") == {"link_busy": (8 + 10) * NS}
    assert noc.groups == {"l1_0+l1_1": ("l1_0", "l1_1")}
    assert rec.flows[("glb", "l1_0+l1_1", int(DataClass.WEIGHTS), 0)] == 256
    assert rec.issued == rec.completed


def test_without_multicast_each_core_gets_its_own_copy():
    # the weights go as two unicasts injected at cycle 10: core 0's over A (head 12, A free at 20,
    # ends 21); core 1's waits for A until 20 (8 cycles), B at 23, ends 23 + 8 + 1 = 32.
    # Spikes of core 0: A busy until 28 (wait 16), ends 28 + 2 + 1 = 31; core 1's: A until 30
    # (wait 18), B at 33, ends 36. Ready: core 0 at max(32, 31) + 10 = 42, core 1 at max(32, 36) + 10
    # = 46; the run ends at 46 + 100 = 146 ns. Link A carries the weights twice: 256 bytes more.
    end, rec, noc, links = _two_cores(multicast=False)
    assert end == 146 * NS
    assert rec.stats["glb"].c["read_bytes"] == 384  # still fetched once from the GLB
    assert noc.stats.c["multicast_bytes"] == 0
    assert links == {"noc:(0,0)>(1,0)": 2 * 256 + 64 + 64, "noc:(1,0)>(2,0)": 256 + 64}
    assert noc.stats.c["flit_hops"] == 8 * 1 + 8 * 2 + 2 * 1 + 2 * 2
    assert noc.stats.c["transfers"] == 4 and noc.stats.c["flits"] == 8 + 8 + 2 + 2
    assert rec.stalls.by_reason("noc") == {"link_busy": (8 + 16 + 18) * NS}


# ------------------------------------------------------------------ the schedule


def _tile(i, keeps=False, after=None, signals=None):
    loads = [Move(DataClass.MEMBRANE, 8, True, 64 * i, 0, after=after)] if after else []
    stores = [Move(DataClass.MEMBRANE, 8, True, 64 * i, 0, signals=signals)] if signals else []
    return Tile(index=i, t_first=0, t_last=0, loads=loads, stores=stores, compute_cycles=1, keeps_state=keeps)


def _schedule(tiles, cores):
    env, rec = simpy.Environment(), Recorder()
    mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=NS)  # noqa: E731
    pes = [PeArray(name=f"pe_array_{c}", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=NS,
                   energy=EnergyTable()) for c in range(cores)]
    plan = LayerPlan(layer=LAYER, tiles=tiles)
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=mk("dram"), noc=mk("noc"), levels=[mk("glb")],
                      l1=[mk(f"l1_{c}") for c in range(cores)], pe=pes, plans=[plan], chunk_bytes=4096,
                      outstanding=4, double_buffered=True)
    return [[(c, t.index) for c, t in step] for step in ctrl.schedule(plan)]


def test_a_split_reduction_stays_on_one_core_and_groups_take_consecutive_units():
    # units: (0, 1) [tile 0 keeps its partial sums for tile 1], (2), (3), (4)
    tiles = [_tile(0, keeps=True), _tile(1), _tile(2), _tile(3), _tile(4)]
    assert _schedule(tiles, 2) == [[(0, 0), (1, 2)], [(0, 1)], [(0, 3), (1, 4)]]
    assert _schedule(tiles, 4) == [[(0, 0), (1, 2), (2, 3), (3, 4)], [(0, 1)]]


def test_a_unit_waiting_for_a_store_of_its_group_goes_to_a_later_group():
    # tile 1 loads the membrane tile 0 stores: they cannot be loaded in one lockstep step, so
    # tile 2 (independent) joins tile 0, and tile 1 waits for the next group
    tiles = [_tile(0, signals=("m", 1)), _tile(1, after=("m", 1)), _tile(2)]
    assert _schedule(tiles, 4) == [[(0, 0), (1, 2)], [(0, 1)]]
    # a chain over the timesteps (0 -> 1 -> 2) interleaved with a second one (3 -> 4 -> 5)
    chain = [_tile(0, signals=("a", 1)), _tile(1, after=("a", 1), signals=("a", 2)), _tile(2, after=("a", 2)),
             _tile(3, signals=("b", 1)), _tile(4, after=("b", 1), signals=("b", 2)), _tile(5, after=("b", 2))]
    assert _schedule(chain, 2) == [[(0, 0), (1, 3)], [(0, 1), (1, 4)], [(0, 2), (1, 5)]]


# ------------------------------------------------------------------ validation

MESH4 = "platforms/mesh-4core.yaml"


def test_too_few_core_positions_are_refused_in_one_line_naming_the_keys():
    with pytest.raises(ConfigError) as err:
        load_platform("ddr4-baseline", ["pe_array.cores=2"])
    text = str(err.value)
    assert "\n" not in text and "noc.nodes.l1" in text and "pe_array.cores is 2" in text
    with pytest.raises(ConfigError, match="noc.nodes.l1: places 4 cores but pe_array.cores is 5"):
        load_platform(MESH4, ["pe_array.cores=5"])


def test_the_cli_validate_refuses_too_few_positions_with_exit_2(tmp_path, capsys):
    from tlmsim.cli import main

    f = tmp_path / "p.yaml"
    f.write_text("name: two\npe_array: {cores: 2}\n")
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "noc.nodes.l1" in err and str(f) in err


def test_a_shared_endpoint_takes_one_position_and_no_shared_level_lies_inside_a_private_one():
    with pytest.raises(ConfigError, match="noc.nodes.glb.*only l1 and private levels take one per core"):
        load_platform(MESH4, ['noc.nodes={"dram": [1, 0], "glb": [[1, 1], [0, 1]], "l1": [[0, 0], [2, 0], [0, 2], [2, 2]]}'])
    two = ("pe_array.cores=2", 'noc.nodes={"dram": [0, 0], "l2": [1, 0], "glb": [2, 0], "l1": [[2, 1], [1, 1]]}')
    load_platform("l2-glb", list(two))
    # a private L2 outside the shared GLB: the GLB would sit between a core's L2 and its L1
    with pytest.raises(ConfigError, match=r"buffers.levels\[1\].sharing: the shared level 'glb' lies inside the "
                       r"private level 'l2'.*not modelled with several cores"):
        load_platform("l2-glb", [*two, "buffers.levels.0.sharing=private"])
    load_platform("l2-glb", ["buffers.levels.0.sharing=private"])  # one core: one buffer either way


def test_a_level_cannot_take_a_core_name():
    with pytest.raises(ConfigError, match="reserved"):
        load_platform("l2-glb", ['buffers.levels.0.name=l1_1'])


# ------------------------------------------------------------------ one core as before; scaling

SMALL = "tests/platform/data/param_effect.yaml"


def _tables(platform, *sets, workload=SMALL):
    return build_report(simulate(load_platform(platform, list(sets)), load_workload(workload, seed=0),
                                 seed=0)).tables()


def test_a_list_of_positions_with_one_core_is_the_single_position():
    one = _tables("ddr4-baseline")
    listed = _tables("ddr4-baseline", 'noc.nodes={"dram": [0, 0], "glb": [1, 0], "l1": [[1, 1], [0, 1]]}')
    for name, frame in one.items():
        assert frame.equals(listed[name]), name
    assert "l1" in set(one["components"].component) and "pe_array" in set(one["components"].component)


def test_mesh_4core_names_one_l1_and_array_per_core_and_multicasts():
    t = _tables(MESH4)
    s, comp = t["summary"].iloc[0], t["components"].set_index("component")
    # summed over the four arrays; the utilisation over 4 x 32 x 32 PEs
    pes = [f"pe_array_{c}" for c in range(4)]
    assert s.compute_cycles == sum(int(t["stats"].query("component == @p and stat == 'compute_cycles'").value.iloc[0])
                                   for p in pes)
    acc = sum(int(t["stats"].query("component == @p and stat == 'acc_ops'").value.iloc[0]) for p in pes)
    assert s.pe_utilization == acc / (4 * 32 * 32 * s.latency_cycles)
    assert comp.loc[pes, "busy_cycles"].sum() > 0
    comps = list(t["components"].component)
    assert [c for c in comps if c.startswith(("l1", "pe_array"))] == [
        "l1_0", "l1_1", "l1_2", "l1_3", "pe_array_0", "pe_array_1", "pe_array_2", "pe_array_3"]
    st = t["stats"]
    assert int(st[(st.component == "noc") & (st.stat == "multicast_bytes")].value.iloc[0]) > 0


def test_two_cores_are_faster_than_one_but_not_more_than_twice():
    lat = {n: float(_tables(MESH4, f"pe_array.cores={n}", workload="lenet5-mnist")["summary"].latency_cycles.iloc[0])
           for n in (1, 2)}
    assert lat[1] / 2 <= lat[2] < lat[1]


@pytest.mark.parametrize("dataflow", ["dense-ws", "dense-os", "dense-is", "ptb", "spikex", "event"])
def test_mesh_4core_runs_every_dataflow_on_the_digits_snn_bit_exactly(dataflow):
    """Four cores compute every layer's outputs bit for bit as the fixed-point reference
    (--verify): the split reductions stay on one core, the membranes of timestep t + 1
    wait for t's stores across cores."""
    result = simulate(load_platform(MESH4, [f"dataflow.name={dataflow}"]), load_workload("digits-snn"), seed=0,
                      verify=True)
    assert result.verified is not None
    tiles = {pe.name: pe.stats.c["tiles"] for pe in result.controller.pes}
    assert len(tiles) == 4 and sum(tiles.values()) == sum(p.ntiles for p in result.plans)


def test_the_layer_record_sums_the_tiles_of_every_core():
    # three tiles over two cores (each core's compute step adds its tiles' counts to the one layer record)
    tiles = [Tile(index=i, t_first=0, t_last=0, compute_cycles=100 + i, neuron_cycles=10 + i, dense_ops=1000 + i,
                  acc_ops=300 + i, neuron_updates=20 + i, stores=[],
                  loads=[Move(DataClass.SPIKES, 64, False, 0, 8192 + 64 * i, level=0)]) for i in range(3)]
    _, _, _, pes, ctrl = _run_two_cores(tiles, True)
    (layer,) = ctrl.layers
    assert (layer.tiles, layer.compute_cycles, layer.neuron_cycles, layer.dense_ops, layer.acc_ops,
            layer.neuron_updates) == (3, 303, 33, 3003, 903, 63)
    # each core computed some of them
    assert all(p.stats.c["compute_cycles"] > 0 for p in pes)
