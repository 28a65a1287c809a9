"""The declared memory hierarchy (buffers.levels): the two YAML forms, the refusals
(one line naming the key), --set into a level, and sweep keys into a level."""

import re

import pytest

from tlmsim.cli import main
from tlmsim.errors import ConfigError
from tlmsim.explore.sweep import platform_field
from tlmsim.platform import load_platform

TWO_LEVELS = """\
name: two-levels
buffers:
  levels:
    - {name: l2, capacity_bytes: 1MiB, banks: 8, port_width_bytes: 32, sharing: shared}
    - {name: glb, capacity_bytes: 256KiB}
  l1: {capacity_bytes: 32KiB, double_buffered: true}
noc:
  topology: mesh
  mesh_cols: 3
  mesh_rows: 2
  nodes: {dram: [0, 0], l2: [1, 0], glb: [2, 0], l1: [2, 1]}
"""


def _load(tmp_path, text, overrides=()):
    f = tmp_path / "p.yaml"
    f.write_text(text)
    return load_platform(str(f), list(overrides)), f


def test_the_one_level_form_is_the_level_glb():
    p = load_platform("ddr4-baseline")
    (glb,) = p.buffers.sram_levels
    assert (glb.name, glb.sharing, glb.capacity_bytes, glb.banks) == ("glb", "shared", 512 * 1024, 16)
    assert p.buffers.endpoints == ("dram", "glb", "l1")
    assert p.buffers.level_key(0) == "buffers.glb"


def test_levels_are_declared_from_dram_inward(tmp_path):
    p, _ = _load(tmp_path, TWO_LEVELS)
    assert [lv.name for lv in p.buffers.sram_levels] == ["l2", "glb"]
    assert p.buffers.endpoints == ("dram", "l2", "glb", "l1")
    assert p.buffers.sram_levels[0].capacity_bytes == 1 << 20
    assert p.buffers.level_key(1) == "buffers.levels[1]"
    # area: (1 MiB + 256 KiB + 32 KiB) / 64 KiB = 20.5 units of SRAM
    a = p.area
    assert p.area_mm2() == pytest.approx(a.sram_mm2_per_64kib * 20.5 + a.pe_mm2 * p.pe_array.rows * p.pe_array.cols)


def test_no_level(tmp_path):
    p = load_platform("no-glb")
    assert p.buffers.sram_levels == () and p.buffers.endpoints == ("dram", "l1")


@pytest.mark.parametrize("edit, message", [
    ("    - {name: l1, capacity_bytes: 1MiB}\n", "levels[0].name 'l1' is reserved"),
    ("    - {name: glb, capacity_bytes: 1MiB}\n", "levels[1].name 'glb' is declared twice"),
])
def test_bad_level_names_are_refused(tmp_path, edit, message):
    text = TWO_LEVELS.replace("    - {name: l2, capacity_bytes: 1MiB, banks: 8, port_width_bytes: 32, sharing: shared}\n",
                              edit)
    with pytest.raises(ConfigError, match=re.escape(message)):
        _load(tmp_path, text)


def test_glb_and_levels_together_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="give buffers.levels or buffers.glb"):
        _load(tmp_path, TWO_LEVELS.replace("buffers:\n", "buffers:\n  glb: {capacity_bytes: 1MiB}\n"))


def test_a_level_the_noc_does_not_place_is_refused_in_one_line(tmp_path, capsys):
    f = tmp_path / "p.yaml"
    f.write_text(TWO_LEVELS.replace(" l2: [1, 0],", ""))
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err]
    assert err.startswith(f"tlmsim: error: {f}: noc.nodes: the NoC places no l2")


def test_a_level_too_small_to_stage_is_refused_naming_its_key(tmp_path):
    # staging = 2 x 4 x 4096 = 32768 bytes; the level needs 65536
    with pytest.raises(ConfigError, match=r"buffers.levels\[1\].capacity_bytes: 32768 bytes cannot hold"):
        _load(tmp_path, TWO_LEVELS, ["buffers.levels.1.capacity_bytes=32KiB", "dataflow.dma_chunk_bytes=4KiB"])


def test_set_reaches_a_level_by_index(tmp_path):
    p, _ = _load(tmp_path, TWO_LEVELS, ["buffers.levels.0.banks=4", "buffers.levels.1.capacity_bytes=128KiB"])
    assert p.buffers.sram_levels[0].banks == 4 and p.buffers.sram_levels[1].capacity_bytes == 128 * 1024
    with pytest.raises(ConfigError, match=r"buffers.levels.2: is a list of 2 items; allowed: an index 0..1"):
        _load(tmp_path, TWO_LEVELS, ["buffers.levels.2.banks=4"])


def test_sweep_keys_reach_into_a_level():
    assert platform_field("buffers.levels.0.capacity_bytes").annotation is int
    assert isinstance(platform_field("buffers.levels.x.banks"), tuple)
