import math

import pytest

from tlmsim.platform.energy import EnergyTable


def test_add_energy_is_linear_between_horowitz_points():
    e = EnergyTable()
    assert e.add_pj(8) == pytest.approx(0.03)
    assert e.add_pj(32) == pytest.approx(0.1)
    # 16 bits: 0.03 + (0.1 - 0.03) * 8 / 24 = 0.053333...
    assert e.add_pj(16) == pytest.approx(0.03 + 0.07 / 3)


def test_mult_energy_quadratic_rule():
    e = EnergyTable()
    assert e.mult_pj(8) == pytest.approx(0.2)
    assert e.mult_pj(16) == pytest.approx(0.8)  # 0.2 * (16/8)^2


def test_sram_energy_sqrt_rule_hand_values():
    e = EnergyTable()
    # 8 KB, 64 bits: the anchor itself
    assert e.sram_access_pj(8192, 64) == pytest.approx(10.0)
    # 32 KB: 10 * sqrt(4) = 20 pJ (Horowitz: 20)
    assert e.sram_access_pj(32768, 64) == pytest.approx(20.0)
    # 1 MB: 10 * sqrt(128) = 113.1 pJ (Horowitz: 100, within 15 %)
    assert e.sram_access_pj(1 << 20, 64) == pytest.approx(10 * math.sqrt(128))
    assert abs(e.sram_access_pj(1 << 20, 64) - 100) / 100 < 0.15
    # 128-bit port on 32 KB: twice the 64-bit energy
    assert e.sram_access_pj(32768, 128) == pytest.approx(40.0)
