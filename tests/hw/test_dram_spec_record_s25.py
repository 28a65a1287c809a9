"""``Dram.spec``: the resolved DRAM spec as the model holds it (``tlmsim.hw.dram._Spec``, session 25).

The model copies every field of the resolved :class:`~tlmsim.platform.dram.DramSpec` into a record
of its own, which the compiled build types (tlmsim/hw/dram.pxd: the integer fields C long longs), so
the scheduler reads a timing parameter as a C struct field. These tests hold the record to the spec
it copies: every field, its value and its type, on every preset and every shipped platform;
equality, hash and repr as the spec's, both ways; the spec's derived ``tck_ns`` and
``field_bits()``; the record survives a deep copy; and in the compiled build an integer field refuses a
value outside int64 (a C field) where the source keeps Python ints.
"""

from __future__ import annotations

import copy

import pytest
import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.hw.dram import Dram, _Spec
from tlmsim.platform import load_platform
from tlmsim.platform.dram import _SPEC_FIELDS, PRESET_NAMES, DramConfig, DramSpec

PLATFORMS = ("ddr4-baseline", "edge-lpddr4", "hbm2-server", "l2-glb", "mesh-4core", "mesh-4core-l2", "no-glb")


def _dram(config: DramConfig) -> Dram:
    return Dram(name="dram", env=simpy.Environment(), recorder=Recorder(), config=config)


def _configs():
    for name in PRESET_NAMES:
        yield name, DramConfig.model_validate({"preset": name, "powerdown": True, "page_policy": "closed"})
    for name in PLATFORMS:
        yield name, load_platform(name).dram


@pytest.mark.parametrize("name, config", list(_configs()), ids=[n for n, _ in _configs()])
def test_the_model_holds_every_field_of_the_resolved_spec(name, config):
    spec = config.resolve()
    held = _dram(config).spec
    assert isinstance(held, _Spec) and isinstance(spec, DramSpec)
    assert len(_SPEC_FIELDS) == 70
    for field in _SPEC_FIELDS:
        mine, theirs = getattr(held, field), getattr(spec, field)
        assert mine == theirs and type(mine) is type(theirs), (name, field, mine, theirs)
    assert held._of is spec


def test_equality_hash_and_repr_are_the_specs():
    config = load_platform("edge-lpddr4").dram
    spec = config.resolve()
    held = _dram(config).spec
    assert held == spec and spec == held and (held != spec) is False
    assert held == _dram(config).spec
    assert hash(held) == hash(spec) and repr(held) == repr(spec)
    other = load_platform("ddr4-baseline").dram.resolve()
    assert held != other and other != held and held != _dram(load_platform("ddr4-baseline").dram).spec
    assert held != "LPDDR4-2400" and (held == 3) is False
    assert {held: 1}[spec] == 1  # one key: equal and the same hash


def test_derived_values_are_the_specs():
    for _name, config in _configs():
        spec = config.resolve()
        held = _dram(config).spec
        assert held.tck_ns == spec.tck_ns == spec.tck_ps / 1000.0
        assert held.field_bits() == spec.field_bits()
    # by hand: DDR4-3200 (tCK 630 ps): 0.63 ns; one channel, two ranks, 4 bank groups of 4 banks,
    # 65,536 rows of 1,024 columns x 8 B (64-bit bus) = 128 bursts of 64 B
    held = _dram(DramConfig.model_validate({"preset": "DDR4-3200"})).spec
    assert held.tck_ns == 0.63
    assert held.field_bits() == {"ch": 0, "ra": 1, "bg": 2, "ba": 2, "ro": 16, "co": 7}


def test_the_record_survives_a_deep_copy():
    """copy.deepcopy takes the record apart and builds it again through its reduce protocol, as a
    pickle would (the compiled build's extension type has Cython's generated one)."""
    held = _dram(load_platform("hbm2-server").dram).spec
    back = copy.deepcopy(held)
    assert back == held and back._of == held._of
    assert [getattr(back, f) for f in _SPEC_FIELDS] == [getattr(held, f) for f in _SPEC_FIELDS]


def test_integer_fields_are_c_fields_in_the_compiled_build_only():
    """The compiled build stores the integer fields as C long longs: a value outside int64 is
    refused; the source (and so the pure build) keeps whatever Python int it is given."""
    held = _dram(load_platform("ddr4-baseline").dram).spec
    compiled = type(held).__module__.startswith("_tlmsim_compiled")
    if compiled:
        with pytest.raises(OverflowError):
            held.tCCD_L = 1 << 63
        held.tCCD_L = 7
        assert held.tCCD_L == 7
    else:
        held.tCCD_L = 1 << 63
        assert held.tCCD_L == 1 << 63
