"""Bad input: one line naming the file and key, exit status 2, no traceback."""

import pytest

from tlmsim.cli import main

BASE = """
name: t
dram: {preset: DDR4-3200}
buffers:
  glb: {capacity_bytes: 256KiB, banks: 8, port_width_bytes: 16}
pe_array: {rows: 8, cols: 8}
"""


def run_bad(capsys, tmp_path, text, *extra):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    rc = main(["run", str(p), "--out", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Traceback" not in err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert not (tmp_path / "o" / "summary.csv").exists()
    return lines[0]


def test_unknown_key_lists_valid_keys(capsys, tmp_path):
    msg = run_bad(capsys, tmp_path, BASE.replace("rows: 8", "rowz: 8"))
    assert "bad.yaml" in msg and "pe_array.rowz" in msg and "unknown key" in msg
    assert "rows" in msg and "cols" in msg  # the allowed keys


def test_wrong_type(capsys, tmp_path):
    msg = run_bad(capsys, tmp_path, BASE.replace("rows: 8", "rows: eight"))
    assert "bad.yaml: pe_array.rows" in msg and "'eight'" in msg


def test_negative_size(capsys, tmp_path):
    msg = run_bad(capsys, tmp_path, BASE.replace("256KiB", "-4096"))
    assert "bad.yaml: buffers.glb.capacity_bytes" in msg and "-4096" in msg


def test_unknown_preset_lists_presets(capsys, tmp_path):
    msg = run_bad(capsys, tmp_path, BASE.replace("DDR4-3200", "DDR9-9999"))
    assert "bad.yaml: dram.preset" in msg and "DDR9-9999" in msg
    assert "DDR4-3200" in msg and "HBM2" in msg


def test_yaml_syntax_error_names_line(capsys, tmp_path):
    msg = run_bad(capsys, tmp_path, BASE + "  oops: [unclosed\n")
    assert "bad.yaml" in msg and "line" in msg and "invalid YAML" in msg


def test_bad_set_override_names_set(capsys, tmp_path):
    msg = run_bad(capsys, tmp_path, BASE, "--set", "pe_array.rows=-3")
    assert msg.startswith("tlmsim: error: --set: pe_array.rows") and "-3" in msg


def test_missing_file(capsys, tmp_path):
    rc = main(["run", str(tmp_path / "nope.yaml")])
    err = capsys.readouterr().err
    assert rc == 2 and "nope.yaml" in err and "edge-lpddr4" in err  # lists the shipped platforms


def test_bad_cli_argument_is_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", "--seed", "minus"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--seed" in err


def test_validate_reports_each_bad_file(capsys, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(BASE)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("cols: 8", "cols: 0"))
    rc = main(["validate", str(good), str(bad)])
    out = capsys.readouterr()
    assert rc == 2
    assert "ok  " in out.out and "bad.yaml: pe_array.cols" in out.err


def test_tile_that_cannot_fit_is_a_clear_error(capsys, tmp_path):
    text = BASE.replace("pe_array: {rows: 8, cols: 8}", "pe_array: {rows: 64, cols: 64}").replace(
        "buffers:\n", "buffers:\n  l1: {capacity_bytes: 1KiB, banks: 1, port_width_bytes: 16, double_buffered: true}\n"
    )
    msg = run_bad(capsys, tmp_path, text)
    assert "L1 half" in msg and "l1.capacity_bytes" in msg


@pytest.mark.parametrize("trfc, trefi", [(50, 35), (35, 35)])
def test_refresh_longer_than_its_interval_is_refused(capsys, tmp_path, trfc, trefi):
    # tRFC >= tREFI: a rank would be due again before its refresh ended (the model then never ran out
    # of refreshes to do; found by session 13's mutation work); DDR4-3200's own 560 / 12480 pass
    text = BASE.replace("{preset: DDR4-3200}", f"{{preset: DDR4-3200, timing: {{tRFC: {trfc}, tREFI: {trefi}}}}}")
    msg = run_bad(capsys, tmp_path, text)
    assert "bad.yaml: dram" in msg and f"timing.tRFC ({trfc}) must be < timing.tREFI ({trefi})" in msg


@pytest.mark.parametrize("trfc, trefi", [(34, 56), (34, 40), (560, 570)])
def test_refreshes_without_room_for_a_row_are_refused(capsys, tmp_path, trfc, trefi):
    # tREFI - tRFC <= tRCD (22 on DDR4-3200): after a refresh no row can open and be read before the next
    # is due, so no request waiting at a refresh is ever served (560 / 570 ran for ever before session 15)
    text = BASE.replace("{preset: DDR4-3200}", f"{{preset: DDR4-3200, timing: {{tRFC: {trfc}, tREFI: {trefi}}}}}")
    msg = run_bad(capsys, tmp_path, text)
    assert "bad.yaml: dram" in msg
    assert f"timing.tREFI - timing.tRFC ({trefi} - {trfc}) must be > timing.tRCD (22)" in msg


def test_refresh_just_leaving_room_for_a_row_is_accepted():
    from tlmsim.platform.dram import DramConfig
    spec = DramConfig.model_validate({"preset": "DDR4-3200", "timing": {"tRFC": 34, "tREFI": 57}}).resolve()
    assert (spec.tRFC, spec.tREFI, spec.tRCD) == (34, 57, 22)  # 57 - 34 = 23 > 22
