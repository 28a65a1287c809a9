"""Every platform parameter has an effect (issue 13).

Each leaf parameter of the platform schema (every section walked, the DRAM preset's
organisation, timing and current overrides included) is set in turn to a valid value
other than the one its probe runs with, and some column of the report (summary,
layers, components, energy, stalls or stats) must change. A parameter declared
``metadata=True`` (a label) or ``inert="..."`` (hardware not modelled yet) is exempt,
and tlmsim sweep/search refuse to vary it; the exempt set is pinned below so that a
new exemption is a reviewed change, and an inert parameter that gains an effect must
lose its marker.

A probe is a base platform with ``--set`` overrides chosen so that the parameter is
exercised (a sparse dataflow for the sparsity switches, the adaptive page policy for
its timeout, short power-down timeouts for the power-state timings, ...); its baseline
run is shared by every parameter it serves. All runs are in-process on two small
workloads (tests/platform/data/param_effect.yaml: weights, three neuron models, static
sparsity, pooling; param_effect_dram.yaml: membranes and spikes that go to DRAM and
back every timestep, for the DRAM scheduler), about 0.1-0.6 s a run.
"""

from __future__ import annotations

import typing
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tlmsim.dataflow import make_dataflow
from tlmsim.soc.run import simulate
from tlmsim.engine.transaction import DataClass
from tlmsim.errors import ConfigError
from tlmsim.platform import Platform, load_platform
from tlmsim.platform.dram import load_presets
from tlmsim.platform.params import leaf_params, param_role
from tlmsim.report import build_report
from tlmsim.workload import load_workload

DATA = Path(__file__).parent / "data"
#: the small workload (weights, three neuron models, static sparsity, pooling)
SMALL = DATA / "param_effect.yaml"
#: membranes and spikes that go back and forth to DRAM (reads and writes interleave)
DRAM = DATA / "param_effect_dram.yaml"
BASE = "ddr4-baseline"

#: the DRAM probes: a 16 KiB GLB with 8 DMA blocks of 512 bytes in flight
_DRAM_RW = ("dataflow.name=dense-ws", "dataflow.dma_outstanding=8", "dataflow.dma_chunk_bytes=512",
            "buffers.glb.capacity_bytes=16KiB")

#: probe name -> (workload, --set overrides on BASE, or on another platform when the first override is
#: ``platform=NAME``)
PROBES: dict[str, tuple[Path, tuple[str, ...]]] = {
    "dense-ws": (SMALL, ("dataflow.name=dense-ws",)),
    "ptb": (SMALL, ("dataflow.name=ptb",)),
    "spikex": (SMALL, ("dataflow.name=spikex",)),
    "event": (SMALL, ("dataflow.name=event",)),
    # the adaptive page policy's timeout short enough to close idle rows within the run
    "adaptive": (SMALL, ("dataflow.name=dense-ws", "dram.page_policy=adaptive", "dram.page_timeout_cycles=20")),
    # power-down soon and self-refresh within the run (the DRAM idles while the array computes)
    "self-refresh": (SMALL, ("dataflow.name=dense-ws", "dram.powerdown_timeout_cycles=8",
                             "dram.self_refresh_timeout_cycles=100")),
    # reads and writes interleave (write queue, watermarks, write-to-read timings)
    "dram-rw": (DRAM, _DRAM_RW),
    # ... and every request opens a row in the next bank (tRRD, tFAW, bank counts, aging)
    "dram-act": (DRAM, _DRAM_RW + ("dram.address_mapping=chcorarobgba",)),
    # ... and ranks power down after 4 idle cycles (tCKE)
    "dram-pd": (DRAM, _DRAM_RW + ("dram.powerdown_timeout_cycles=4",)),
    # i13soc's declared hierarchy (session 5): an L2 between DRAM and the GLB
    "l2-glb": (SMALL, ("platform=l2-glb", "dataflow.name=dense-ws")),
    # four cores sharing a GLB (session 6): tiles of a group share loads, multicast to their L1s
    "mesh-4core": (SMALL, ("platform=mesh-4core", "dataflow.name=dense-ws")),
}

#: parameter -> the probe that exercises it (default: dense-ws)
PROBE_OF: dict[str, str] = {
    "dataflow.zero_skip": "spikex",
    "dataflow.packing": "spikex",
    "dataflow.spike_format": "ptb",
    "pe_array.tag_bits_per_cycle": "spikex",
    "pe_array.event_dispatch_per_cycle": "event",
    "pe_array.scratchpad_bytes": "event",
    "energy.register_access_pj": "spikex",
    "dram.page_timeout_cycles": "adaptive",
    "dram.self_refresh_timeout_cycles": "self-refresh",
    "dram.timing.tCKESR": "self-refresh",
    "dram.timing.tXS": "self-refresh",
    "dram.power.IDD6": "self-refresh",
    "dram.timing.tCKE": "dram-pd",
    "buffers.levels": "l2-glb",
    "pe_array.cores": "mesh-4core",
    "noc.multicast": "mesh-4core",
    "pe_array.multicore": "mesh-4core",  # layer pipelining needs several cores
    **{f"dram.{k}": "dram-rw" for k in ("write_queue_depth", "write_high_watermark", "write_low_watermark",
                                        "command_queue_depth", "read_queue_depth", "timing.tWR", "timing.tWTR_S",
                                        "timing.tWTR_L", "timing.tRTP", "timing.tRTRS", "timing.CWL",
                                        "power.IDD4W")},
    **{f"dram.{k}": "dram-act" for k in ("org.bankgroups", "org.banks_per_group", "timing.tRRD_S", "timing.tRRD_L",
                                        "timing.tFAW", "starvation_cycles")},
}

#: keys another branch of this session adds (VALUE and PROBE_OF may name them before they are merged)
PENDING = {"noc.buffer_flits", "noc.credit_latency_cycles", "buffers.levels"}

#: parameters whose effect no small end-to-end run shows, with the unit test that shows it
UNIT_TESTED = {
    # needs a row serving more hits than tRAS lasts while an older request waits for another row
    "dram.row_hit_cap": "tests/hw/test_dram.py::test_row_hit_cap_lets_an_older_conflict_through",
}

#: parameter -> the value it is set to (default: derived from its type and its value in the probe)
VALUE: dict[str, Any] = {
    "clock_mhz": 800,
    "dram.preset": "HBM2",
    "dram.address_mapping": "rochrabgbaco",
    "dram.io_energy_pj_per_bit": 3.0,
    "dram.write_high_watermark": 4,
    "noc.topology": "crossbar",
    "noc.nodes": {"dram": [0, 0], "glb": [1, 1], "l1": [1, 0]},  # DRAM -> GLB: 2 hops instead of 1
    "noc.clock_mhz": 250,
    "noc.mesh_cols": 3,
    "dataflow.time_window": 3,
    "pe_array.cores": 2,  # mesh-4core places four cores
    "dataflow.spike_format": "aer",
    "dataflow.packing": "time",
    "energy.leakage_mw_per_kib_sram": 0.5,
    "energy.leakage_mw_per_pe": 0.01,
    "buffers.glb.read_energy_pj_per_access": 3.0,
    "buffers.l1.read_energy_pj_per_access": 3.0,
    "buffers.glb.write_energy_pj_per_access": 7.0,
    "buffers.l1.write_energy_pj_per_access": 7.0,
    "pe_array.scratchpad_bytes": 4,
    "pe_array.tag_bits_per_cycle": 1,
    "dram.timing.tCKE": 40,
    # i13noc's router buffers (session 5): only below the credit round trip do they change anything
    "noc.buffer_flits": 1,
    "noc.credit_latency_cycles": 8,
    "dram.timing.tCKESR": 20000,  # longer than the self-refresh spans of the run
    # l2-glb's levels with a 1 MiB L2 instead of 2 MiB
    "buffers.levels": [
        {"name": "l2", "sharing": "shared", "capacity_bytes": "1MiB", "banks": 16, "port_width_bytes": 32,
         "read_latency_cycles": 2, "write_latency_cycles": 2},
        {"name": "glb", "sharing": "shared", "capacity_bytes": "512KiB", "banks": 16, "port_width_bytes": 32},
    ],
}

#: parameters that change no report column, and why (pinned: a change here is reviewed)
EXEMPT = {
    "name": "metadata",
    "description": "metadata",
    "energy.technology_nm": "metadata",
    "dram.org.device_width_bits": "metadata",
    "dram.org.rows": "inert",
}

#: keys older platform files may set that are gone (each refused in one line saying why)
REMOVED = ("pe_array.neuron", "energy.mult_8bit_pj", "energy.mult_32bit_pj", "buffers.glb.double_buffered")


def _parameters() -> list[tuple[str, Any]]:
    return leaf_params(Platform)


@lru_cache(maxsize=None)
def _workload(path: Path):
    return load_workload(path, seed=0)


def _probe_platform(probe: str, *more: str) -> Platform:
    """The platform of ``probe`` with ``more`` --set overrides."""
    overrides = list(PROBES[probe][1])
    base = overrides.pop(0).split("=", 1)[1] if overrides and overrides[0].startswith("platform=") else BASE
    return load_platform(base, overrides + list(more))


def _report(probe: str, *more: str) -> dict[str, pd.DataFrame]:
    """The report of ``probe`` with ``more`` --set overrides."""
    return build_report(simulate(_probe_platform(probe, *more), _workload(PROBES[probe][0]), seed=0)).tables()


@lru_cache(maxsize=None)
def _baseline(probe: str) -> dict[str, pd.DataFrame]:
    return _report(probe)


def changed_columns(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> list[str]:
    """``table.column`` of every report column that differs between two reports (a table
    whose rows differ in number counts as changed as a whole)."""
    out = []
    for table, fa in a.items():
        fb = b[table]
        if list(fa.columns) != list(fb.columns) or len(fa) != len(fb):
            out.append(f"{table}.*")
            continue
        out += [f"{table}.{c}" for c in fa.columns if not fa[c].reset_index(drop=True).equals(fb[c].reset_index(drop=True))]
    return out


def _value_at(platform: Platform, key: str) -> Any:
    """The value ``key`` has in ``platform``; a DRAM override left at none reads the
    resolved preset's value."""
    parts = key.split(".")
    obj: Any = platform
    for p in parts:
        obj = getattr(obj, p)
    if obj is None and parts[0] == "dram" and len(parts) == 3:  # org/timing/power: the preset's value
        obj = load_presets()[platform.dram.preset][parts[1] if parts[1] != "power" else "power"][parts[2]]
    return obj


def _bounds(field) -> tuple[float, float]:
    lo, hi = float("-inf"), float("inf")
    for m in field.metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo = m.gt + (1 if isinstance(m.gt, int) else 1e-9)
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi = m.lt - (1 if isinstance(m.lt, int) else 1e-9)
    return lo, hi


def _literal_choices(tp) -> tuple:
    if typing.get_origin(tp) is typing.Literal:
        return typing.get_args(tp)
    for a in typing.get_args(tp):
        got = _literal_choices(a)
        if got:
            return got
    return ()


def perturbed(key: str, field, current: Any) -> Any:
    """A valid value other than ``current`` for parameter ``key`` (VALUE, else by type)."""
    if key in VALUE:
        return VALUE[key]
    choices = _literal_choices(field.annotation)
    if choices:
        return next(c for c in choices if c != current)
    if isinstance(current, bool):
        return not current
    lo, hi = _bounds(field)
    if isinstance(current, int):
        pow2 = key.startswith("dram.org.")  # address decoding wants powers of two
        for v in (current * 2, current // 2) if pow2 else (current * 2, current + 1, current // 2, current - 1):
            if v != current and lo <= v <= hi:
                return v
    if isinstance(current, float):
        for v in (current * 2, current / 2) if current else (1.0,):
            if v != current and lo <= v <= hi:
                return v
    raise AssertionError(f"no rule to perturb {key} = {current!r}: add it to VALUE in {__file__}")


def _set(key: str, value: Any) -> str:
    if isinstance(value, (dict, list)):
        import json

        return f"{key}={json.dumps(value)}"
    if isinstance(value, bool):
        return f"{key}={'true' if value else 'false'}"
    return f"{key}={value}"


def _single_choice(field) -> bool:
    """A choice with one allowed value (e.g. noc.routing: xy): nothing to perturb, nothing to sweep."""
    return len(_literal_choices(field.annotation)) == 1


PARAMETERS = [(k, f) for k, f in _parameters()
              if k not in EXEMPT and k not in UNIT_TESTED and not _single_choice(f)]


def test_exempt_parameters_are_exactly_the_declared_ones():
    declared = {k: param_role(f).split(":")[0] for k, f in _parameters() if param_role(f)}
    assert declared == EXEMPT


def test_the_only_single_choice_parameter_is_the_routing():
    assert [k for k, f in _parameters() if _single_choice(f)] == ["noc.routing"]


@pytest.mark.parametrize("key", REMOVED)
def test_a_removed_key_is_refused_in_one_line_naming_it(key):
    with pytest.raises(ConfigError) as err:
        load_platform(BASE, [f"{key}=1"])
    text = str(err.value)
    assert "\n" not in text
    # the --set argument is named with its full key and the value given, not the file and the section
    assert text.startswith(f"--set: {key}: ") and text.endswith("(got 1)")


def test_a_removed_key_in_a_file_names_the_file_the_key_and_its_value(tmp_path):
    import yaml

    from tlmsim.resources import resolve

    data = yaml.safe_load(resolve("platforms", BASE, BASE).read_text())
    data["pe_array"]["neuron"] = "lif"
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_platform(path)
    assert str(err.value).startswith(f"{path}: pe_array.neuron: was removed: ")
    assert str(err.value).endswith("(got 'lif')")


def test_the_report_is_deterministic():
    """Two runs of one probe give equal reports (else every parameter would look effective)."""
    assert changed_columns(_baseline("dense-ws"), _report("dense-ws")) == []


def test_every_tuning_probe_and_value_names_a_real_parameter():
    keys = {k for k, _ in _parameters()}
    assert set(PROBE_OF) <= keys | PENDING and set(EXEMPT) <= keys and set(UNIT_TESTED) <= keys
    assert set(VALUE) <= keys | PENDING
    assert set(PROBE_OF.values()) <= set(PROBES)


def test_the_unit_tests_named_for_unexercised_parameters_exist():
    root = Path(__file__).resolve().parents[2]
    for key, where in UNIT_TESTED.items():
        path, name = where.split("::")
        assert f"def {name}(" in (root / path).read_text(encoding="utf-8"), key


@pytest.mark.parametrize("key,field", PARAMETERS, ids=[k for k, _ in PARAMETERS])
def test_parameter_changes_the_report(key, field):
    probe = PROBE_OF.get(key, "dense-ws")
    current = _value_at(_probe_platform(probe), key)
    value = perturbed(key, field, current)
    assert value != current
    got = changed_columns(_baseline(probe), _report(probe, _set(key, value)))
    assert got, f"setting {key} from {current!r} to {value!r} (probe {probe}) changed no report column"


@pytest.mark.parametrize("key", sorted(EXEMPT))
def test_an_exempt_parameter_changes_no_result(key):
    """What is declared metadata or inert changes nothing but the platform's name in the
    summary (when an inert parameter gains an effect, as noc.multicast did with several
    cores, its marker goes and the loop above tests it)."""
    field = dict(_parameters())[key]
    base = _probe_platform("dense-ws")
    value = VALUE.get(key, "renamed" if key == "name" else "other text") if key in ("name", "description") \
        else perturbed(key, field, _value_at(base, key))
    got = changed_columns(_baseline("dense-ws"), _report("dense-ws", _set(key, value)))
    assert got == (["summary.platform"] if key == "name" else [])


# ------------------------------------------------------------------ pe_array.weight_bits

_LINEAR = """\
name: one-linear
timesteps: 2
{bits}layers:
  - {{name: fc, op: linear, in_shape: [64], out_features: 32, neuron: lif, firing_rate: 0.5}}
"""


def _dram_weight_bytes(tmp_path, platform_bits: int, workload_bits: int | None) -> int:
    """Weight bytes the dense-ws plan of a 64 x 32 linear layer reads from DRAM."""
    path = tmp_path / f"w{workload_bits}.yaml"
    path.write_text(_LINEAR.format(bits="" if workload_bits is None else f"weight_bits: {workload_bits}\n"))
    platform = load_platform(BASE, ["dataflow.name=dense-ws", f"pe_array.weight_bits={platform_bits}"])
    plans = make_dataflow(platform, load_workload(path, seed=0)).plan()
    moves = [m for p in plans for m in p.prologue + [x for t in p.tiles for x in t.loads]]
    return sum(m.nbytes for m in moves if m.data_class == DataClass.WEIGHTS and m.in_dram)


def test_pe_array_weight_bits_sets_the_weight_bytes_when_the_workload_gives_none(tmp_path):
    # 64 x 32 = 2048 weights: 4 bits -> 1024 bytes, 8 bits -> 2048 bytes, 16 bits -> 4096 bytes
    assert _dram_weight_bytes(tmp_path, 4, None) == 1024
    assert _dram_weight_bytes(tmp_path, 8, None) == 2048
    assert _dram_weight_bytes(tmp_path, 16, None) == 4096


def test_a_workload_weight_bits_overrides_the_platform(tmp_path):
    assert _dram_weight_bytes(tmp_path, 4, 8) == 2048
    assert _dram_weight_bytes(tmp_path, 16, 8) == 2048


# ------------------------------------------------------------------ sweep and search refuse them

@pytest.mark.parametrize("command", ["sweep", "search"])
@pytest.mark.parametrize("key,why", [
    ("dram.org.rows", "it has no effect yet (sets only the DRAM's capacity"),
    ("energy.technology_nm", "it is metadata"),
    ("description", "it is metadata"),
])
def test_sweep_and_search_refuse_a_key_without_effect_before_the_first_point(tmp_path, capsys, monkeypatch,
                                                                            command, key, why):
    import yaml

    import tlmsim.explore.search as search
    import tlmsim.explore.sweep as sweep
    from tlmsim.cli import main

    for mod in (sweep, search):
        monkeypatch.setattr(mod, "run_point", lambda *a, **k: pytest.fail("a point ran"))
    f = tmp_path / "s.yaml"
    values = {"dram.org.rows": [65536, 32768], "energy.technology_nm": [45, 28], "description": ["a", "b"]}[key]
    f.write_text(yaml.safe_dump({"platform": BASE, "workload": "digits-conv",
                                 "parameters": {"pe_array.rows": [8, 16], key: values}}))
    assert main([command, str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"tlmsim: error: {f}: parameters.{key}: cannot be varied: {why}")
    assert len(err.splitlines()) == 1 and not (tmp_path / "o").exists()


def test_sweep_accepts_every_parameter_with_an_effect():
    from tlmsim.explore.sweep import check_parameter_keys

    check_parameter_keys({k: [None] for k, _ in PARAMETERS}, "s.yaml")
