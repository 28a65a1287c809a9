"""Cross-component platform checks: refused by `validate` and `run` before the first
event, in one line naming the keys; hierarchies the controller can stage run."""

import pytest

from tlmsim.cli import main
from tlmsim.platform import load_platform
from tlmsim.platform.checks import check_platform, staging_bytes
from tlmsim.errors import ConfigError

TINY_GLB = """\
name: tiny-glb
buffers:
  glb: {capacity_bytes: 32KiB, banks: 4, port_width_bytes: 16}
  l1: {capacity_bytes: 64KiB, banks: 4, port_width_bytes: 16, double_buffered: true}
dataflow: {name: dense-ws, dma_chunk_bytes: 4KiB, dma_outstanding: 4}
"""


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_glb_too_small_to_stage_is_refused_in_one_line(tmp_path, capsys, command):
    f = tmp_path / "tiny.yaml"
    f.write_text(TINY_GLB)
    argv = ["validate", str(f)] if command == "validate" else ["run", str(f), "digits-conv", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    line = _one_line(capsys.readouterr().err)
    # staging = 2 x 4 x 4096 = 32768 bytes; the GLB needs twice that
    assert line.startswith(f"tlmsim: error: {f}: buffers.glb.capacity_bytes: 32768 bytes cannot hold the DMA staging")
    assert "dataflow.dma_outstanding" in line and "dataflow.dma_chunk_bytes" in line and "65536" in line
    assert not (tmp_path / "o").exists()


def test_an_l1_larger_than_the_glb_streams_through_the_staging_slots(tmp_path, capsys):
    # L1 1 MiB (halves of 512 KiB) behind a 64 KiB GLB: tiles far larger than the GLB pass
    # through its staging slots block by block (this used to stop mid-run with
    # "glb: access ... outside the buffer")
    out = tmp_path / "o"
    argv = ["run", "ddr4-baseline", "digits-conv", "--out", str(out), "--set", "buffers.glb.capacity_bytes=64KiB",
            "--set", "buffers.l1.capacity_bytes=1MiB"]
    assert main(argv) == 0
    assert (out / "summary.csv").is_file()


def test_sram_beyond_the_energy_table_is_refused_unless_energies_are_given(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_platform("ddr4-baseline", ["buffers.glb.capacity_bytes=128MiB"])
    msg = str(e.value)
    assert "buffers.glb.capacity_bytes: 128 MiB is beyond the SRAM energy table (CACTI, up to 64 MiB)" in msg
    assert "buffers.glb.read_energy_pj_per_access" in msg and "energy.leakage_mw_per_kib_sram" in msg
    ok = load_platform("ddr4-baseline", ["buffers.glb.capacity_bytes=128MiB",
                                         "buffers.glb.read_energy_pj_per_access=100",
                                         "buffers.glb.write_energy_pj_per_access=100",
                                         "energy.leakage_mw_per_kib_sram=0.05"])
    check_platform(ok)
    assert staging_bytes(ok) == 2 * ok.dataflow.dma_outstanding * ok.dataflow.dma_chunk_bytes
