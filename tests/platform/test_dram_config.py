"""The dram: section: presets, overrides, validation and the resolved spec."""

import pytest
import yaml
from pydantic import ValidationError

import tlmsim.platform.dram as dram_mod
from tlmsim.platform.dram import PRESET_NAMES, DramConfig, load_preset, load_presets, parse_mapping


def test_every_preset_resolves_with_its_table_values():
    assert set(load_presets()) == set(PRESET_NAMES)
    for name in PRESET_NAMES:
        s = DramConfig(preset=name).resolve()
        assert s.tRC == s.tRAS + s.tRP and s.RL == s.AL + s.CL
        assert s.capacity_bytes == s.channels * s.ranks * s.banks_per_rank * s.rows * s.row_bytes


def test_one_preset_parsed_alone_is_the_whole_files_entry():
    for name in PRESET_NAMES:
        assert load_preset.__wrapped__(name) == load_presets()[name], name


def test_a_presets_block_runs_to_the_next_top_level_key(monkeypatch):
    # column-0 comments and blank lines stay in the block; the next key ends it (its text, invalid here, is never parsed)
    text = "A:\n  x: 1\n# a comment in column 0\n\n  y: 2\nB:\n  [never, closed\n"
    monkeypatch.setattr(dram_mod, "_presets_text", lambda: text)
    assert load_preset.__wrapped__("A") == {"x": 1, "y": 2}
    with pytest.raises(yaml.YAMLError):  # the last block runs to the end of the file
        load_preset.__wrapped__("B")
    with pytest.raises(ValueError):  # not a key of the file
        load_preset.__wrapped__("C")


def test_ddr4_3200_values_and_peak_bandwidth():
    s = DramConfig().resolve()
    assert (s.preset, s.tck_ps, s.CL, s.tRCD, s.tRP, s.tRAS, s.tFAW, s.tREFI, s.tRFC) == (
        "DDR4-3200", 630, 22, 22, 22, 52, 34, 12480, 560)
    assert (s.tRC, s.RL, s.WL, s.burst_cycles, s.request_bytes, s.row_bytes) == (74, 22, 16, 4, 64, 8192)
    assert s.capacity_bytes == 16 * 2**30
    # 1 channel x 64 B / (4 cycles x 0.63 ns) = 25.397 GB/s
    assert s.peak_bandwidth_gb_per_s == pytest.approx(64 / (4 * 0.63))
    assert 25.3 < s.peak_bandwidth_gb_per_s < 25.5
    assert s.address_mapping == ("ro", "ch", "ra", "ba", "bg", "co")


def test_hbm2_and_gddr6():
    s = DramConfig(preset="HBM2").resolve()
    assert (s.channels, s.columns, s.tRCD, s.row_bytes, s.request_bytes) == (8, 128, 14, 2048, 64)
    assert s.peak_bandwidth_gb_per_s == pytest.approx(256.0)
    assert s.capacity_bytes == 8 * 2**30
    assert DramConfig(preset="HBM2-4Gb").resolve().capacity_bytes == 4 * 2**30
    g = DramConfig(preset="GDDR6").resolve()
    assert (g.burst_cycles, g.request_bytes, g.row_bytes) == (1, 256, 32768)
    assert g.peak_bandwidth_gb_per_s == pytest.approx(387.88, abs=0.01)


def test_lpddr4_alias_is_canonicalised():
    c = DramConfig(preset="LPDDR4")
    assert c.preset == "LPDDR4-2400"
    s = c.resolve()
    assert (s.burst_length, s.burst_cycles, s.request_bytes, s.tRCD) == (16, 8, 128, 15)
    assert s.peak_bandwidth_gb_per_s == pytest.approx(19.28, abs=0.01)


def test_overrides_win_over_the_preset():
    c = DramConfig.model_validate({
        "preset": "DDR4-3200",
        "org": {"channels": 2, "ranks": 1},
        "timing": {"tRCD": 20, "tck_ps": "1ns"},
        "power": {"IDD0": 60},
        "page_policy": "closed",
        "io_energy_pj_per_bit": 5.0,
    })
    s = c.resolve()
    assert (s.channels, s.ranks, s.tRCD, s.tck_ps, s.IDD0, s.page_policy, s.io_energy_pj_per_bit) == (
        2, 1, 20, 1000, 60.0, "closed", 5.0)
    assert s.tRP == 22  # not overridden
    # 2 channels x 64 B / (4 cycles x 1 ns) = 32 GB/s
    assert s.peak_bandwidth_gb_per_s == pytest.approx(32.0)
    assert DramConfig().resolve().io_energy_pj_per_bit == 8.0  # the DDR4 default


def test_bad_mapping_strings_are_rejected():
    assert parse_mapping("rorabgbachco") == ("ro", "ra", "bg", "ba", "ch", "co")
    for bad in ("rochrababg", "rochrababgcoco", "rochrababgxx", "rorochrababg", "ROCHRABABGCO"):
        with pytest.raises(ValidationError, match="address_mapping"):
            DramConfig(address_mapping=bad)


def test_unknown_preset_lists_the_allowed_names():
    with pytest.raises(ValidationError) as exc:
        DramConfig(preset="DDR5")
    msg = str(exc.value)
    assert "unknown DRAM preset 'DDR5'" in msg
    for name in PRESET_NAMES:
        assert name in msg


def test_bounds_and_unknown_keys():
    with pytest.raises(ValidationError):
        DramConfig.model_validate({"timing": {"tRCD": 0}})
    with pytest.raises(ValidationError):
        DramConfig.model_validate({"timing": {"tXYZ": 3}})
    with pytest.raises(ValidationError, match="power of two"):
        DramConfig.model_validate({"org": {"banks_per_group": 3}})
    with pytest.raises(ValidationError):
        DramConfig(page_policy="lazy")
    assert DramConfig(page_policy="adaptive").resolve().page_policy == "adaptive"
    with pytest.raises(ValidationError, match="read_queue_depth and write_queue_depth"):
        DramConfig.model_validate({"queue_depth": 16})
    s = DramConfig(write_queue_depth=16).resolve()
    assert s.write_high_watermark == 16 and s.write_low_watermark == 8 and s.command_queue_depth == 8


def test_lpddr4_rails_fold_into_vdd_equivalent_currents():
    # Micron 6Gb LPDDR4-3200 x16 (DRAMPower memspec): VDD1 1.8 V, VDD2 1.1 V.
    # Precharge standby: 1.8 V x 2.0 mA + 1.1 V x 27 mA = 33.3 mW -> 30.2727 mA at 1.1 V;
    # precharge power-down: 1.8 x 1.2 + 1.1 x 3.0 = 5.46 mW; burst read 1.8 x 2.25 + 1.1 x 275 = 306.55 mW.
    s = DramConfig(preset="LPDDR4-2400").resolve()
    assert s.VDD == 1.1
    assert s.VDD * s.IDD2N == pytest.approx(33.3, abs=1e-12)
    assert s.VDD * s.IDD2P == pytest.approx(5.46, abs=1e-12)
    assert s.VDD * s.IDD4R == pytest.approx(306.55, abs=1e-12)
    assert s.VDD * s.IDD6 == pytest.approx(1.8 * 0.3 + 1.1 * 0.5, abs=1e-12)
    # an override still replaces the folded value
    o = DramConfig(preset="LPDDR4-2400", power={"IDD2N": 10.0}).resolve()
    assert o.IDD2N == 10.0 and o.IDD2P == s.IDD2P


def test_fold_rails_is_exact_for_linear_energy():
    from tlmsim.platform.dram import fold_rails

    rails = {"A": {"V": 2.0, "IDD0": 3.0, "IDD3N": 1.0}, "B": {"V": 0.5, "IDD0": 4.0, "IDD3N": 8.0}}
    f = fold_rails(rails)
    assert f == {"VDD": 0.5, "IDD0": (6.0 + 2.0) / 0.5, "IDD3N": (2.0 + 4.0) / 0.5}
