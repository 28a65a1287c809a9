"""The Perfetto timeline's tile windows (the "input spikes per timestep" counter) when a
hand-written caller hands ``attach`` a plain list of plans: the windows come from the
source the controller reads, or, with no controller, from the list itself. Values by hand.
And what the mutation run s12tl (attach, the windows, the spike samples) found unguarded:
the counter's unit, a window past the spikes' last timestep, a plan released that was handed
out before attach, the DRAM's bank tracks (its decode)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as pb

from tlmsim.dataflow import make_dataflow
from tlmsim.engine.plan import LayerPlan, PlanSource, Tile
from tlmsim.engine.transaction import Cmd, DataClass, Transaction
from tlmsim.platform import load_platform
from tlmsim.soc.run import simulate
from tlmsim.timeline import ROOT_UUID, PerfettoTimeline
from tlmsim.workload import load_workload

from .test_timeline import read

COUNTER = "input spikes per timestep"


def _plans():
    """Two layers of two tiles each; tile windows (timesteps) 0-1, 2-3 and 0-0, 1-3."""
    a, b = SimpleNamespace(name="a", index=0), SimpleNamespace(name="b", index=1)
    return [LayerPlan(layer=a, tiles=[Tile(0, 0, 1, [], [], 10), Tile(1, 2, 3, [], [], 10)]),
            LayerPlan(layer=b, tiles=[Tile(0, 0, 0, [], [], 10), Tile(1, 1, 3, [], [], 10)])]


def _workload(plans):
    # input spikes per timestep: layer a 1, 3, 6, 10; layer b 4, 0, 2, 9
    spikes = {"a": np.array([[1, 0], [2, 1], [6, 0], [4, 6]]), "b": np.array([[4], [0], [2], [9]])}
    return SimpleNamespace(name="w", layers=[p.layer for p in plans], spikes=spikes)


def _compute(tl, layer, tile, at):
    tl.hop(Transaction(100 * layer + tile, Cmd.COMPUTE, DataClass.NONE, 0, 0, "l1", "pe_array", layer, tile),
           "pe_array", at, at + 500, 0, 500)


def test_a_list_and_no_controller_gives_every_plans_windows(tmp_path):
    """Nothing hands the plans of a list out: every tile window holds from the start."""
    plans = _plans()
    tl = PerfettoTimeline(tmp_path / "l.pftrace")
    tl.attach(components={}, plans=plans, platform=SimpleNamespace(name="p"), workload=_workload(plans))
    for k, (layer, tile) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        _compute(tl, layer, tile, 1000 * k)
    tl.close()
    tracks, _, counters = read(tmp_path / "l.pftrace")
    # a t0: (1 + 3) / 2; a t1: (6 + 10) / 2; b t0: 4 / 1; b t1: (0 + 2 + 9) / 3
    assert counters[COUNTER] == [(0, 2.0), (1000, 8.0), (2000, 4.0), (3000, 11 / 3)]
    assert tracks[ROOT_UUID][0] == "tlmsim: w on p"


def test_a_plan_source_and_no_controller_gives_the_windows_it_hands_out(tmp_path):
    """A source given with no controller is watched as it is: windows from hand-out to release."""
    plans = _plans()
    source = PlanSource(plans)
    tl = PerfettoTimeline(tmp_path / "s.pftrace")
    tl.attach(components={}, plans=source, platform=SimpleNamespace(name="p"), workload=_workload(plans))
    _compute(tl, 1, 1, 0)  # not handed out: no sample
    source[1]
    _compute(tl, 1, 1, 1000)
    source.release(1)
    _compute(tl, 1, 1, 2000)
    tl.close()
    assert read(tmp_path / "s.pftrace")[2][COUNTER] == [(1000, 11 / 3)]


def test_a_list_with_a_controller_gives_the_windows_of_the_plans_it_holds(tmp_path):
    """A hand-written caller gives the controller and the timeline the same list: the
    windows are the controller's source's (a layer's from its hand-out to its release);
    with session 11's attach the list became a second source nobody read: no sample."""
    plans = _plans()
    ctrl = SimpleNamespace(plans=PlanSource(plans))  # what Controller(plans=list) keeps (PlanSource.of)
    tl = PerfettoTimeline(tmp_path / "c.pftrace")
    tl.attach(components={"controller": ctrl}, plans=plans, platform=SimpleNamespace(name="p"),
              workload=_workload(plans))
    _compute(tl, 0, 0, 0)  # layer a not handed out yet: no window, no sample
    ctrl.plans[0]
    ctrl.plans[1]
    _compute(tl, 0, 1, 1000)
    _compute(tl, 1, 1, 2000)
    ctrl.plans.release(0)
    _compute(tl, 0, 1, 3000)  # released: no sample
    _compute(tl, 1, 0, 4000)  # layer b's windows outlive layer a's release
    ctrl.plans.release(1)
    _compute(tl, 1, 0, 5000)
    tl.close()
    assert read(tmp_path / "c.pftrace")[2][COUNTER] == [(1000, 8.0), (2000, 11 / 3), (4000, 4.0)]


def test_a_run_whose_timeline_gets_a_list_writes_the_same_file(tmp_path):
    """simulate with a sink that hands the timeline a plain list of the same plans (the
    controller runs its LazyPlans): the file is byte for byte the normal run's."""
    platform = load_platform("ddr4-baseline")
    workload = load_workload("digits-snn", seed=0)

    class ListCaller(PerfettoTimeline):
        def attach(self, *, components, plans, platform, workload):
            listed = make_dataflow(platform, workload).plan()
            assert not isinstance(listed, PlanSource) and len(listed) == len(plans)
            super().attach(components=components, plans=listed, platform=platform, workload=workload)

    simulate(platform, workload, sinks=[PerfettoTimeline(tmp_path / "lazy.pftrace")])
    simulate(platform, workload, sinks=[ListCaller(tmp_path / "list.pftrace")])
    lazy = (tmp_path / "lazy.pftrace").read_bytes()
    assert (tmp_path / "list.pftrace").read_bytes() == lazy
    assert len(read(tmp_path / "lazy.pftrace")[2][COUNTER]) > 0


def _units(path):
    """Counter track name -> its unit."""
    trace = pb.Trace()
    trace.ParseFromString(path.read_bytes())
    return {p.track_descriptor.name: p.track_descriptor.counter.unit_name for p in trace.packet
            if p.HasField("track_descriptor") and p.track_descriptor.HasField("counter")}


def test_a_window_past_the_last_timestep_averages_the_timesteps_there_are(tmp_path):
    """Layer a has 4 timesteps of spikes (1, 3, 6, 10): a tile over timesteps 2-5 averages 2 and 3,
    (6 + 10) / 2 = 8; one over 4-5 has none and gives no sample. The counter's unit is spikes."""
    a = SimpleNamespace(name="a", index=0)
    plans = [LayerPlan(layer=a, tiles=[Tile(0, 2, 5, [], [], 10), Tile(1, 4, 5, [], [], 10)])]
    tl = PerfettoTimeline(tmp_path / "p.pftrace")
    tl.attach(components={}, plans=plans, platform=SimpleNamespace(name="p"), workload=_workload(plans))
    _compute(tl, 0, 0, 0)
    _compute(tl, 0, 1, 1000)
    tl.close()
    assert read(tmp_path / "p.pftrace")[2][COUNTER] == [(0, 8.0)]
    assert _units(tmp_path / "p.pftrace")[COUNTER] == "spikes"


def test_a_plan_handed_out_before_attach_is_released_quietly(tmp_path):
    """A timeline attached after the controller took layer a's plan never saw it made: its
    release drops nothing, and layer a gets no sample; layer b, handed out after, does."""
    plans = _plans()
    ctrl = SimpleNamespace(plans=PlanSource(plans))
    ctrl.plans[0]
    tl = PerfettoTimeline(tmp_path / "e.pftrace")
    tl.attach(components={"controller": ctrl}, plans=ctrl.plans, platform=SimpleNamespace(name="p"),
              workload=_workload(plans))
    _compute(tl, 0, 0, 0)
    ctrl.plans.release(0)
    ctrl.plans[1]
    _compute(tl, 1, 0, 1000)
    tl.close()
    assert read(tmp_path / "e.pftrace")[2][COUNTER] == [(1000, 4.0)]


def test_dram_hops_sit_on_the_bank_the_drams_decode_names(tmp_path):
    """A DRAM double whose decode puts address 0 in channel 0, rank 0, bank group 1, bank 2 and
    address 4096 in channel 1, rank 1, bank group 0, bank 3: each hop on the first lane of its
    bank's track, under its channel, under dram."""
    where = {0: (0, 0, 1, 2, 7, 0), 4096: (1, 1, 0, 3, 9, 5)}
    dram = SimpleNamespace(decode=where.__getitem__)
    tl = PerfettoTimeline(tmp_path / "d.pftrace")
    tl.attach(components={"dram": dram}, plans=[], platform=SimpleNamespace(name="p"),
              workload=SimpleNamespace(name="w", layers=[], spikes={}))
    for i, a in enumerate((0, 4096)):
        tl.hop(Transaction(i, Cmd.READ, DataClass.WEIGHTS, a, 64, "dram", "noc"), "dram", 1000, 5000, 0, 4000)
    tl.close()
    tracks, slices, _ = read(tmp_path / "d.pftrace")

    def path(uuid):
        names = []
        while uuid != ROOT_UUID:
            name, uuid = tracks[uuid]
            names.append(name)
        return names

    assert sorted(path(s["track"]) for s in slices) == [
        ["lane 0", "ch0 ra0 bg1 ba2", "ch0", "dram"], ["lane 0", "ch1 ra1 bg0 ba3", "ch1", "dram"]]


def test_a_layer_without_input_spikes_gets_no_sample(tmp_path):
    """Layer b has no spike record in the workload: its tiles give no sample; layer a's do."""
    plans = _plans()
    wl = _workload(plans)
    del wl.spikes["b"]
    tl = PerfettoTimeline(tmp_path / "n.pftrace")
    tl.attach(components={}, plans=plans, platform=SimpleNamespace(name="p"), workload=wl)
    _compute(tl, 1, 1, 0)
    _compute(tl, 0, 0, 1000)
    tl.close()
    assert read(tmp_path / "n.pftrace")[2][COUNTER] == [(1000, 2.0)]


def test_the_top_tracks_are_the_layers_then_each_component_once(tmp_path):
    """attach describes the layers' track, then one per component in their order; hops and the
    layer slices written later land on those (no second track of the same name). A NoC double
    without a link observer is left alone (no link tracks)."""
    plans = _plans()
    ctrl = SimpleNamespace(plans=PlanSource(plans))
    noc = SimpleNamespace(link_name=str)
    tl = PerfettoTimeline(tmp_path / "u.pftrace")
    tl.attach(components={"controller": ctrl, "noc": noc, "pe_array": object()}, plans=plans,
              platform=SimpleNamespace(name="p"), workload=_workload(plans))
    assert vars(noc) == {"link_name": str}
    ctrl.plans[0]
    _compute(tl, 0, 0, 0)
    tl.close()
    tracks, slices, _ = read(tmp_path / "u.pftrace")
    assert [name for name, parent in tracks.values() if parent == ROOT_UUID] == [
        "layers", "controller", "noc", "pe_array", COUNTER]
    layer = next(s for s in slices if s["name"].startswith("L0 "))  # the compute hop: "L0 a t0"
    assert tracks[tracks[layer["track"]][1]][0] == "pe_array"
    assert sum(1 for s in slices if tracks[tracks[s["track"]][1]][0] == "layers") == 1
