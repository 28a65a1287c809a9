"""The hardware models, the controller and the recorder keep their attributes in slots (session 20):
compiled code reads ``self.x`` of a plain class through the generic path, a type lookup and then the
instance's dictionary; a slot's descriptor skips the dictionary (docs/performance.md "Session 20":
-6.1 % instructions on vgg9-cifar10 / edge-lpddr4 / dense-os). An attribute added to ``__init__``
without its slot would still work, from the dictionary; these tests find it."""

from __future__ import annotations

import pytest

from tlmsim.engine.component import Component
from tlmsim.engine.recorder import Recorder
from tlmsim.hw.controller import Controller
from tlmsim.hw.dram import Dram
from tlmsim.hw.noc import Noc
from tlmsim.hw.pe_array import PeArray
from tlmsim.hw.sram import Sram
from tlmsim.platform import load_platform
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload

SLOTTED = (Component, Dram, Sram, Noc, PeArray, Controller, Recorder)


@pytest.mark.parametrize(("platform", "dataflow"), [
    ("ddr4-baseline", "dense-ws"), ("edge-lpddr4", "event"), ("hbm2-server", "dense-os"),
    ("mesh-4core-l2", "spikex"), ("l2-glb", "ptb"), ("no-glb", "dense-is"),
])
def test_a_run_leaves_no_attribute_in_an_instance_dictionary(platform, dataflow):
    result = simulate(load_platform(platform, [f"dataflow.name={dataflow}"]), load_workload("digits-snn", seed=0))
    objs = [*result.components.values(), result.controller, result.recorder]
    assert {type(o) for o in objs} >= {Dram, Sram, Noc, PeArray, Controller, Recorder}
    left = {type(o).__name__: sorted(vars(o)) for o in objs if vars(o)}
    assert left == {}


def test_no_slot_is_declared_twice_along_a_class_chain():
    """A slot a subclass repeats from its base costs memory and hides the base's descriptor."""
    for cls in SLOTTED:
        own = [s for s in cls.__dict__["__slots__"] if s not in ("__dict__", "__weakref__")]
        assert len(own) == len(set(own)), cls.__name__
        for base in cls.__mro__[1:]:
            assert not set(own) & set(base.__dict__.get("__slots__", ())), (cls.__name__, base.__name__)


def test_other_attributes_still_go_to_the_dictionary():
    """``__dict__`` stays: a test (or a subclass) may still set an attribute of its own."""
    recorder = Recorder()
    recorder.extra = 1
    assert vars(recorder) == {"extra": 1}
