"""Private levels with several cores (``sharing: private``, docs/hierarchy.md "Private
levels"): one instance per core (``l2_0``, ``l2_1``), a core's blocks pass its own
instance, a load several cores share leaves the shared level (or DRAM) once and is sent
to their instances in one NoC transfer, a resident tensor is copied into the instance of
every core that reads it by one DRAM read, outputs never stay in a private level; the
validation messages; the tiler's rule; one core unchanged.

The hand-made runs use fixed-latency stand-ins (10 ns per hop, as
tests/hw/test_controller.py; the NoC too, a multicast being one 10 ns transfer), so
every time is exact and only the controller's routing is under test."""

import pytest
import simpy

from tlmsim.engine.plan import LayerPlan, Move, Tile
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import DataClass
from tlmsim.errors import ConfigError, MappingError
from tlmsim.hw.controller import _HOPS, _READ, _STAGE, Controller
from tlmsim.hw.pe_array import PeArray
from tlmsim.platform import load_platform
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.pe_array import PeArrayConfig
from tlmsim.report import build_report
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload

from tests.hw.test_controller import LAYER, NS, Fixed

W, S, O = int(DataClass.WEIGHTS), int(DataClass.SPIKES), int(DataClass.OUT_SPIKES)


class FixedNoc(Fixed):
    """A 10 ns NoC: a unicast or a multicast (one transfer to several endpoints) takes one hop."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.groups = {}

    def reserve_multicast(self, txn, dests, start_ps):
        self.groups[txn.destination] = tuple(dests)
        return self.reserve(txn, start_ps)


def _two_cores(tiles, prologue=()):
    """Two cores below a shared GLB (level 0) and a private L2 (level 1: l2_0, l2_1)."""
    env, rec = simpy.Environment(), Recorder()
    mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)  # noqa: E731
    pes = [PeArray(name=f"pe_array_{c}", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=1 * NS,
                   energy=EnergyTable()) for c in range(2)]
    plan = LayerPlan(layer=LAYER, tiles=tiles, prologue=list(prologue))
    ctrl = Controller(name="controller", env=env, recorder=rec, dram=mk("dram"),
                      noc=FixedNoc(name="noc", env=env, recorder=rec, latency_ps=10 * NS),
                      levels=[mk("glb"), [mk("l2_0"), mk("l2_1")]], l1=[mk("l1_0"), mk("l1_1")], pe=pes,
                      plans=[plan], chunk_bytes=4096, outstanding=4, double_buffered=True)
    env.run(until=ctrl.done)
    return env.now, rec, ctrl


def _bytes(rec, name):
    c = rec.stats[name].c
    return c["read_bytes"], c["write_bytes"]


def _tile(i, loads, stores=()):
    return Tile(index=i, t_first=0, t_last=0, compute_cycles=100, loads=list(loads), stores=list(stores))


def test_a_shared_load_leaves_the_glb_once_and_each_core_stages_it_through_its_own_l2():
    # tile 0 on core 0, tile 1 on core 1 (one lockstep step); both load the same 256 weight
    # bytes of a GLB-resident tensor, and 64 spike bytes of their own from DRAM.
    # weights: GLB read 0-10, one NoC transfer glb > l2_0+l2_1 10-20, then each core alone:
    #   its L2's staging write 20-30 and read 30-40, NoC l2_c > l1_c 40-50, L1 write 50-60;
    # spikes: DRAM 0-10, NoC 10-20, GLB staging 20-40, NoC 40-50, L2 staging 50-70, NoC 70-80,
    #   L1 write 80-90; both cores' tiles start at 90 ns and compute 100 cycles (1 ns): 190 ns.
    tiles = [_tile(i, [Move(DataClass.WEIGHTS, 256, False, 0, 4096, level=0),
                       Move(DataClass.SPIKES, 64, True, 64 * i)]) for i in range(2)]
    end, rec, ctrl = _two_cores(tiles)
    assert end == 190 * NS
    assert _bytes(rec, "dram") == (128, 0)
    assert _bytes(rec, "glb") == (256 + 2 * 64, 2 * 64)  # the shared weights read once; the spikes staged
    for c in range(2):
        assert _bytes(rec, f"l2_{c}") == (256 + 64, 256 + 64)  # staging: written, then read out
        assert _bytes(rec, f"l1_{c}") == (256 + 64, 256 + 64)  # DMA writes; the array reads its operands
        assert rec.flows[(f"l2_{c}", f"l1_{c}", W, 0)] == 256
        assert rec.flows[(f"l2_{c}", f"l1_{c}", S, 0)] == 64
    assert rec.flows[("glb", "l2_0+l2_1", W, 0)] == 256  # one transfer to both L2s
    assert ctrl.noc.groups == {"l2_0+l2_1": ("l2_0", "l2_1")}
    assert rec.issued == rec.completed


def test_a_resident_tensor_is_copied_into_the_l2_of_every_core_that_reads_it_by_one_dram_read():
    # 256 weight bytes resident in the private L2 (level 1, address 8192), filled in the prologue:
    # DRAM 0-10, NoC dram > glb 10-20, GLB staging 20-40, NoC glb > l2_0+l2_1 40-50, each L2 writes
    # its copy 50-60. The tiles wait for it, then read their own copy: L2 60-70, NoC 70-80,
    # L1 80-90; compute 90-190 ns.
    fill = Move(DataClass.WEIGHTS, 256, True, 0, 8192, level=1)
    tiles = [_tile(i, [Move(DataClass.WEIGHTS, 256, False, 0, 8192, level=1)]) for i in range(2)]
    end, rec, ctrl = _two_cores(tiles, [fill])
    assert end == 190 * NS
    assert _bytes(rec, "dram") == (256, 0)
    assert _bytes(rec, "glb") == (256, 256)
    for c in range(2):
        assert _bytes(rec, f"l2_{c}") == (256, 256)  # its copy written once, read once by its core's tile
        assert rec.flows[(f"l2_{c}", f"l1_{c}", W, 0)] == 256
    assert rec.flows[("glb", "l2_0+l2_1", W, 0)] == 256
    # the two reads of one address are one core's each, never shared across the L2s
    assert ("l2_0", "l1_0+l1_1", W, 0) not in rec.flows


def test_a_resident_tensor_only_one_core_reads_goes_to_its_l2_alone():
    # tile 1 (core 1) reads the resident weights, tile 0 (core 0) streams its own from DRAM:
    # the fill is one unicast DRAM > glb > l2_1 (l2_0 never holds it)
    fill = Move(DataClass.WEIGHTS, 256, True, 0, 8192, level=1)
    tiles = [_tile(0, [Move(DataClass.WEIGHTS, 256, True, 4096)]),
             _tile(1, [Move(DataClass.WEIGHTS, 256, False, 0, 8192, level=1)])]
    end, rec, ctrl = _two_cores(tiles, [fill])
    assert ctrl._readers(0, fill) == (1,)
    assert _bytes(rec, "dram") == (512, 0)
    assert _bytes(rec, "l2_0") == (256, 256)  # core 0's streamed weights: staging only
    assert _bytes(rec, "l2_1") == (256, 256)  # its copy written, then read by tile 1
    assert rec.flows[("glb", "l2_1", W, 0)] == 256 and rec.flows[("glb", "l2_0", W, 0)] == 256
    assert ctrl.noc.groups == {}
    # the step loads once its resident data is in: the fill (unicast, as above) ends at 60;
    # core 1 loads 60-90 (L2 read, NoC, L1 write) and computes 90-190; core 0's stream from
    # DRAM starts at 60 too: DRAM, NoC, GLB staging, NoC, L2 staging, NoC, L1 = 90 ns, so it
    # computes 150-250
    assert end == 250 * NS


def test_a_store_leaves_through_its_cores_l2_staging_to_the_shared_glb():
    # tile 1 (core 1) stores 64 output bytes to the GLB (address 12288): after its compute
    # (0-100 ns; no loads) it writes them into L1 100-110, then L1 read 110-120, NoC l1_1 > l2_1
    # 120-130, l2_1 staging 130-150, NoC l2_1 > glb 150-160, GLB write 160-170.
    out = Move(DataClass.OUT_SPIKES, 64, False, 0, 12288, level=0)
    tiles = [_tile(0, []), _tile(1, [], [out])]
    end, rec, ctrl = _two_cores(tiles)
    assert end == 170 * NS
    assert _bytes(rec, "l2_1") == (64, 64) and _bytes(rec, "l2_0") == (0, 0)
    assert rec.flows[("l1_1", "l2_1", O, 0)] == 64 and rec.flows[("l2_1", "glb", O, 0)] == 64
    assert _bytes(rec, "glb") == (0, 64)


def test_routes_name_each_cores_own_instances():
    _, _, ctrl = _two_cores([])
    names = lambda steps: [(k, [(h[3], h[4]) for h in x] if k == _HOPS else ctrl._bufs[x].name)  # noqa: E731
                           for k, x in steps]
    # DRAM (0) to core 1's L1 (3): NoC to the GLB, its staging, NoC to l2_1, l2_1's staging, NoC to l1_1, L1 write
    assert names(ctrl.route(0, 3, 1)) == [
        (_HOPS, [("dram", "glb")]), (_STAGE, "glb"), (_HOPS, [("glb", "l2_1")]), (_STAGE, "l2_1"),
        (_HOPS, [("l2_1", "l1_1"), ("noc", "l1_1")])]
    assert names(ctrl.route(0, 3, 0))[3] == (_STAGE, "l2_0")
    # a load both cores share: one transfer glb > l2_0+l2_1, then each core's tail
    steps, sender, dests, group, tails = ctrl.fanout(1, (0, 1))
    assert (sender, dests, group) == ("glb", ("l2_0", "l2_1"), "l2_0+l2_1")
    assert [names(t) for t in tails] == [  # the staging step is the L2's write, then its read
        [(_STAGE, "l2_0"), (_HOPS, [("l2_0", "l1_0"), ("noc", "l1_0")])],
        [(_STAGE, "l2_1"), (_HOPS, [("l2_1", "l1_1"), ("noc", "l1_1")])]]
    # every level shared: the multicast goes to the L1s and the tails are their writes (as before)
    env, rec = simpy.Environment(), Recorder()
    mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)  # noqa: E731
    pes = [PeArray(name=f"pe_array_{c}", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=NS,
                   energy=EnergyTable()) for c in range(2)]
    shared = Controller(name="controller", env=env, recorder=rec, dram=mk("dram"), noc=mk("noc"),
                        levels=[mk("glb")], l1=[mk("l1_0"), mk("l1_1")], pe=pes, plans=[], chunk_bytes=4096,
                        outstanding=4, double_buffered=True)
    steps, sender, dests, group, tails = shared.fanout(1, (0, 1))
    assert (steps, sender, dests) == (((_READ, 0),), "glb", ("l1_0", "l1_1"))  # read once from the GLB
    assert [[(h[3], h[4]) for h in t[0][1]] for t in tails] == [[("noc", "l1_0")], [("noc", "l1_1")]]


def test_the_controller_refuses_a_shared_level_inside_a_private_one():
    env, rec = simpy.Environment(), Recorder()
    mk = lambda name: Fixed(name=name, env=env, recorder=rec, latency_ps=10 * NS)  # noqa: E731
    pes = [PeArray(name=f"pe_array_{c}", env=env, recorder=rec, config=PeArrayConfig(), clock_period_ps=NS,
                   energy=EnergyTable()) for c in range(2)]
    with pytest.raises(ValueError, match="level 1: 1 instances for 2 cores"):
        Controller(name="controller", env=env, recorder=rec, dram=mk("dram"), noc=mk("noc"),
                   levels=[[mk("l2_0"), mk("l2_1")], mk("glb")], l1=[mk("l1_0"), mk("l1_1")], pe=pes, plans=[],
                   chunk_bytes=4096, outstanding=4, double_buffered=True)


# ------------------------------------------------------------------ the platform: validation, names, the tiler

MESH4L2 = "platforms/mesh-4core-l2.yaml"


def test_validate_messages_name_the_key():
    with pytest.raises(ConfigError, match=r"noc.nodes.l2: places 1 instance of the private level 'l2' \(one per "
                       r"core\) but pe_array.cores is 4"):
        load_platform(MESH4L2, ['noc.nodes={"dram": [1, 0], "glb": [1, 1], "l2": [0, 0], '
                                '"l1": [[0, 0], [2, 0], [0, 2], [2, 2]]}'])
    with pytest.raises(ConfigError, match=r"noc.nodes.l2: places 2 instances.*pe_array.cores is 4"):
        load_platform(MESH4L2, ['noc.nodes={"dram": [1, 0], "glb": [1, 1], "l2": [[0, 0], [2, 0]], '
                                '"l1": [[0, 0], [2, 0], [0, 2], [2, 2]]}'])
    load_platform(MESH4L2, ["pe_array.cores=2", 'noc.nodes={"dram": [1, 0], "glb": [1, 1], "l2": [[0, 0], [2, 0]], '
                            '"l1": [[0, 0], [2, 0]]}'])
    with pytest.raises(ConfigError, match=r"buffers: levels\[0\].name 'l2_1' is the name of an instance of the "
                       r"private level 'l2'"):
        load_platform(MESH4L2, ["buffers.levels.0.name=l2_1"])
    p = load_platform(MESH4L2)
    a = p.area
    # the GLB once, the L2 and L1 once per core: 16 + 4 x (4 + 1) units of 64 KiB
    assert p.area_mm2() == pytest.approx(a.sram_mm2_per_64kib * 36 + a.pe_mm2 * 4 * 32 * 32)


def test_the_cli_validate_refuses_a_private_level_placed_once_with_exit_2(tmp_path, capsys):
    from tlmsim.cli import main

    f = tmp_path / "p.yaml"
    f.write_text(open(MESH4L2).read().replace("l2: [[0, 0], [2, 0], [0, 2], [2, 2]]", "l2: [0, 0]"))
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "noc.nodes.l2" in err and str(f) in err


def _report(*sets, platform=MESH4L2, workload="digits-snn"):
    result = simulate(load_platform(platform, list(sets)), load_workload(workload, seed=0), seed=0)
    return result, build_report(result).tables()


def test_with_several_cores_outputs_and_membranes_never_stay_in_a_private_level():
    result, t = _report("pe_array.cores=2")
    layers = t["layers"].set_index("name")
    for name in ("conv1", "fc1", "fc2"):
        assert layers.loc[name, "resident_outputs"] != "l2" and layers.loc[name, "resident_membrane"] != "l2"
    assert layers.loc["fc1", "resident_weights"] == "l2"  # read-only, brought from DRAM: kept per core
    # fc1's weights (256 x 64 at 8 bits) cross the DRAM interface once, multicast into the L2s
    assert layers.loc["fc1", "dram_weights_bytes"] == 256 * 64
    comps = list(t["components"].component)
    assert [c for c in comps if c.startswith(("l2", "l1"))] == ["l2_0", "l2_1", "l1_0", "l1_1"]
    # layers.csv sums the instances: l2_<class>_bytes is what entered and left l2_0 and l2_1
    c = t["components"].set_index("component")
    assert t["layers"]["l2_weights_bytes"].sum() + t["layers"]["l2_spikes_bytes"].sum() \
        + t["layers"]["l2_out_spikes_bytes"].sum() + t["layers"]["l2_membrane_bytes"].sum() \
        == sum(c.loc[f"l2_{k}", "read_bytes"] + c.loc[f"l2_{k}", "write_bytes"] for k in range(2))
    # with one core the same level may keep outputs (one buffer, shared or private alike)
    one = _report("pe_array.cores=1")[1]["layers"].set_index("name")
    assert "l2" in set(one["resident_outputs"]) | set(one["resident_membrane"])


def test_a_plan_storing_into_a_private_level_is_refused_before_the_first_event():
    from tlmsim.soc.build import check_plans

    p = load_platform(MESH4L2, ["pe_array.cores=2"])
    bad = LayerPlan(layer=LAYER, tiles=[_tile(0, [], [Move(DataClass.OUT_SPIKES, 64, False, 0, 65536, level=1)])])
    with pytest.raises(MappingError, match="private level 'l2'"):
        check_plans(p, [bad])


def test_one_core_private_and_shared_are_the_same_platform():
    a = _report("pe_array.cores=1")[1]  # private, its list of positions: the first one
    b = _report("pe_array.cores=1", "buffers.levels.1.sharing=shared",
                'noc.nodes={"dram": [1, 0], "glb": [1, 1], "l2": [0, 0], "l1": [0, 0]}')[1]
    for name, frame in a.items():
        assert frame.equals(b[name]), name


@pytest.mark.parametrize("dataflow", ["dense-ws", "dense-os", "dense-is", "ptb", "spikex", "event"])
def test_mesh_4core_l2_runs_every_dataflow_on_the_digits_snn_bit_exactly(dataflow):
    result = simulate(load_platform(MESH4L2, [f"dataflow.name={dataflow}"]), load_workload("digits-snn"), seed=0,
                      verify=True)
    assert result.verified is not None
    assert [len(x) for x in result.controller.level_insts] == [1, 4]
