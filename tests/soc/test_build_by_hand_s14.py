"""tlmsim.soc.build.build by hand (session 14, mutation run s14build): what it connects to what.

The platform is mesh-4core-l2 (a shared GLB, a private L2 per core, four cores) with every knob
``build`` passes on set away from its default, so a knob dropped or passed to the wrong place
shows: the accelerator clock 400 MHz (a period of 2500 ps; the NoC has no clock of its own, so it
runs at 400 MHz too), DMA blocks of 2048 bytes, 3 in flight, L1 not double-buffered (one half:
all of L1's 64 KiB), and layer pipelining (``pe_array.multicore: pipeline``). Expected, from
the platform file and build's docstring:

* components by name, in the order DRAM, NoC, the levels' instances (glb; l2_0 .. l2_3), the
  L1s (l1_0 .. l1_3), the PE arrays (pe_array_0 .. pe_array_3), the controller; each named as
  its key, on the same environment and recorder;
* DRAM on the platform's dram section, its command log fed to a timing checker of the resolved
  DRAM spec that keeps at most 5 violations (``dram.checker``);
* every SRAM and PE array on its section, the 2500 ps period, the platform's energy and area
  tables;
* the controller: the levels [glb], [l2_0 .. l2_3]; per core its L1 and PE array; the plans
  ``build`` returns; chunk 2048, 3 outstanding, one half of 65536 bytes, staging 2 x 3 x 2048 =
  12288 bytes, pipeline stages started (``stages == []``, None with ``split``);
* a plan the check refuses stops ``build`` (the first pass checks every plan);
* a NoC that misses an endpoint is refused by ``build`` itself (``noc.nodes``), even if the
  platform check let it through.
"""

from __future__ import annotations

import importlib

import pytest
import simpy

from tlmsim.dataflow.base import LazyPlans
from tlmsim.engine.recorder import Recorder
from tlmsim.errors import ConfigError, MappingError
from tlmsim.hw.dram import Dram
from tlmsim.hw.noc import Noc
from tlmsim.hw.pe_array import PeArray
from tlmsim.hw.sram import Sram
from tlmsim.platform import load_platform
from tlmsim.soc.build import build
from tlmsim.workload import load_workload

#: the module (``tlmsim.soc.build`` the attribute is the function)
BUILD = importlib.import_module("tlmsim.soc.build")

KNOBS = ["clock_mhz=400", "dataflow.dma_chunk_bytes=2048", "dataflow.dma_outstanding=3",
         "buffers.l1.double_buffered=false", "pe_array.multicore=pipeline"]
CORES = ["0", "1", "2", "3"]
L2 = [f"l2_{c}" for c in CORES]
L1 = [f"l1_{c}" for c in CORES]
PE = [f"pe_array_{c}" for c in CORES]


@pytest.fixture
def built():
    # built for each test (0.1-0.2 s): mutmut 3 runs on a mutant only the tests that called the mutated
    # function themselves, and a module-scoped fixture calls it in the first test only
    plat = load_platform("mesh-4core-l2", KNOBS)
    env, rec = simpy.Environment(), Recorder(sinks=[])
    comps, ctrl, plans = build(plat, load_workload("digits-snn", seed=0), env, rec)
    return plat, env, rec, comps, ctrl, plans


def test_the_components_by_name_in_order_on_one_environment_and_recorder(built):
    _plat, env, rec, comps, ctrl, _plans = built
    assert list(comps) == ["dram", "noc", "glb", *L2, *L1, *PE, "controller"]
    for key, c in comps.items():
        assert c.name == key
        assert c.env is env
        assert c.recorder is rec
    assert comps["controller"] is ctrl
    assert type(comps["dram"]) is Dram and type(comps["noc"]) is Noc
    assert all(type(comps[k]) is Sram for k in ["glb", *L2, *L1])
    assert all(type(comps[k]) is PeArray for k in PE)


def test_dram_feeds_a_checker_of_its_resolved_spec_keeping_five_violations(built):
    plat, _env, _rec, comps, _ctrl, _plans = built
    dram = comps["dram"]
    assert dram.config is plat.dram
    checker = dram.checker
    assert checker.limit == 5
    assert checker.spec == plat.dram.resolve()
    assert dram._sink == checker.feed  # the command log goes to this checker


def test_the_noc_runs_at_the_accelerator_clock_with_an_l1_and_l2_endpoint_per_core(built):
    plat, _env, _rec, comps, _ctrl, _plans = built
    noc = comps["noc"]
    assert noc.config is plat.noc
    assert plat.noc.clock_mhz is None
    assert noc.clock_mhz == 400.0
    assert noc.period_ps == 2500
    # four cores: l1 and l2 name one endpoint per core, at the positions of the platform file
    assert {k: noc.nodes[k] for k in L1} == dict(zip(L1, [(0, 0), (2, 0), (0, 2), (2, 2)]))
    assert {k: noc.nodes[k] for k in L2} == dict(zip(L2, [(0, 0), (2, 0), (0, 2), (2, 2)]))
    assert "l1" not in noc.nodes and "l2" not in noc.nodes


def test_every_sram_and_pe_array_on_its_section_clock_energy_and_area(built):
    plat, _env, _rec, comps, _ctrl, _plans = built
    glb, l2, l1 = plat.buffers.sram_levels[0], plat.buffers.sram_levels[1], plat.buffers.l1
    assert (glb.name, l2.name, l2.sharing) == ("glb", "l2", "private")
    want = {"glb": glb, **{k: l2 for k in L2}, **{k: l1 for k in L1}}
    for key, cfg in want.items():
        s = comps[key]
        assert s.config is cfg, key
        assert s.period_ps == 2500, key
        assert s.energy is plat.energy, key
        assert s.area is plat.area, key
    for key in PE:
        p = comps[key]
        assert p.config is plat.pe_array
        assert p.period_ps == 2500
        assert p.energy is plat.energy
        assert p.area is plat.area


def test_the_controller_gets_the_levels_cores_plans_and_dma_knobs(built):
    _plat, _env, _rec, comps, ctrl, plans = built
    assert [[x.name for x in xs] for xs in ctrl.level_insts] == [["glb"], L2]
    assert all(ctrl.level_insts[1][c] is comps[L2[c]] for c in range(4))
    assert ctrl.level_insts[0][0] is comps["glb"]
    assert [x is comps[k] for x, k in zip(ctrl.l1s, L1)] == [True] * 4
    assert [x is comps[k] for x, k in zip(ctrl.pes, PE)] == [True] * 4
    assert ctrl.dram is comps["dram"] and ctrl.noc is comps["noc"]
    assert isinstance(plans, LazyPlans)
    assert ctrl.plans is plans
    assert [s.layer.name for s in plans.summaries] == ["conv1", "pool1", "flatten", "fc1", "fc2"]  # digits-snn
    assert (ctrl.chunk, ctrl.outstanding) == (2048, 3)
    assert (ctrl.halves, ctrl.half_bytes) == (1, 65536)
    assert ctrl.staging_bytes == 12288
    assert ctrl.stages == []  # pipeline


def test_split_and_double_buffered_are_passed_on_too():
    plat = load_platform("mesh-4core-l2")
    assert plat.pe_array.multicore == "split" and plat.buffers.l1.double_buffered
    _comps, ctrl, _plans = build(plat, load_workload("digits-snn", seed=0), simpy.Environment(), Recorder(sinks=[]))
    assert ctrl.stages is None
    assert (ctrl.halves, ctrl.half_bytes) == (2, 32768)
    assert (ctrl.chunk, ctrl.outstanding) == (4096, 4)


def test_one_core_gets_one_instance_per_level_named_as_the_level():
    plat = load_platform("l2-glb", ["clock_mhz=250"])
    env, rec = simpy.Environment(), Recorder(sinks=[])
    comps, ctrl, _plans = build(plat, load_workload("digits-snn", seed=0), env, rec)
    assert list(comps) == ["dram", "noc", "l2", "glb", "l1", "pe_array", "controller"]
    assert [[x.name for x in xs] for xs in ctrl.level_insts] == [["l2"], ["glb"]]
    assert comps["l1"].period_ps == comps["pe_array"].period_ps == 4000


def test_a_plan_the_check_refuses_stops_build_in_the_first_pass(monkeypatch):
    seen = []

    def check(platform, plan):
        seen.append((platform.name, plan.layer.name))
        raise MappingError(f"layer {plan.layer.name!r}: refused by hand")

    monkeypatch.setattr(BUILD, "check_plan", check)
    plat = load_platform("l2-glb")
    with pytest.raises(MappingError, match="refused by hand"):
        build(plat, load_workload("digits-snn", seed=0), simpy.Environment(), Recorder(sinks=[]))
    assert len(seen) == 1 and seen[0][0] == "l2-glb"


def test_the_platform_check_runs_first(monkeypatch):
    seen = []

    def check_platform(platform):
        seen.append(platform.name)
        raise ConfigError("refused by hand", key="x")

    monkeypatch.setattr(BUILD, "check_platform", check_platform)
    with pytest.raises(ConfigError, match="refused by hand"):
        build(load_platform("l2-glb"), load_workload("digits-snn", seed=0), simpy.Environment(), Recorder(sinks=[]))
    assert seen == ["l2-glb"]


def test_a_noc_that_misses_an_endpoint_is_refused_by_build_itself(monkeypatch):
    # the platform check refuses it first (tlmsim/platform/checks.py); with that check out of the way,
    # build's own look at every pair of endpoints names them all and the key
    plat = load_platform("l2-glb")
    nodes = {k: v for k, v in plat.noc.nodes.items() if k != "glb"}
    plat = plat.model_copy(update={"noc": plat.noc.model_copy(update={"nodes": nodes})})
    monkeypatch.setattr(BUILD, "check_platform", lambda platform: None)
    with pytest.raises(ConfigError) as err:
        build(plat, load_workload("digits-snn", seed=0), simpy.Environment(), Recorder(sinks=[]))
    assert err.value.key == "noc.nodes"
    # the first pair that fails is (dram, glb): the NoC's own words follow in parentheses
    assert str(err.value) == ("noc.nodes: the NoC must connect the endpoints dram, l2, glb, l1 (noc.nodes: no NoC "
                              "endpoint named 'glb'; allowed: dram, l2, l1)")


def test_two_cores_get_two_instances_of_the_private_level():
    # mesh-4core-l2 cut to two cores: the private L2 has one instance per core (l2_0, l2_1), the GLB one
    plat = load_platform("mesh-4core-l2", ["pe_array.cores=2"])
    comps, ctrl, _plans = build(plat, load_workload("digits-snn", seed=0), simpy.Environment(), Recorder(sinks=[]))
    assert list(comps) == ["dram", "noc", "glb", "l2_0", "l2_1", "l1_0", "l1_1", "pe_array_0", "pe_array_1",
                           "controller"]
    assert [[x.name for x in xs] for xs in ctrl.level_insts] == [["glb"], ["l2_0", "l2_1"]]
