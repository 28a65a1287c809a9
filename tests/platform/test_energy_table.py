import math

import pytest

from tlmsim.platform import sram_energy
from tlmsim.platform.energy import EnergyTable
from tlmsim.platform.sram_energy import SramTableRangeError

#: CACTI's 45 nm LOP supply 0.7 V -> the table's 0.9 V: (0.9 / 0.7)^2
V2 = 81 / 49


def test_add_energy_is_linear_between_horowitz_points():
    e = EnergyTable()
    assert e.add_pj(8) == pytest.approx(0.03)
    assert e.add_pj(32) == pytest.approx(0.1)
    # 16 bits: 0.03 + (0.1 - 0.03) * 8 / 24 = 0.053333...
    assert e.add_pj(16) == pytest.approx(0.03 + 0.07 / 3)


def test_sram_table_points_scaled_to_0v9():
    e = EnergyTable()
    # one 8 KiB bank, 128-bit access: CACTI read 3.864 pJ, write 5.724 pJ at 0.7 V
    assert e.sram_access_pj(8192, 1, 128) == pytest.approx(3.864 * V2)  # 6.387429
    assert e.sram_access_pj(8192, 1, 128, write=True) == pytest.approx(5.724 * V2)  # 9.462122
    # 64 MiB, the largest row, 512 bits: 1637 pJ
    assert e.sram_access_pj(64 << 20, 1, 512) == pytest.approx(1637.0 * V2)


def test_sram_interpolates_log_log_in_size_and_linearly_in_width():
    # 12 KiB, 64 bits: between the 8 KiB (3.162) and 16 KiB (6.034) rows at log2(1.5) = 0.5849625
    # of the way in log size: 3.162 x (6.034 / 3.162)^0.5849625 = 3.162 x 1.459372 = 4.614533
    assert sram_energy.bank_access_pj(12 * 1024, 64) == pytest.approx(4.614533, rel=1e-6)
    # 8 KiB, 192 bits: halfway between the 128-bit (3.864) and 256-bit (5.271) columns = 4.5675
    assert sram_energy.bank_access_pj(8192, 192) == pytest.approx(4.5675)


def test_sram_rule_beyond_the_table_ends():
    # a bank below 2 KiB is charged as a 2 KiB bank (64 bits: 1.315 pJ), never less
    assert sram_energy.bank_access_pj(512, 64) == pytest.approx(1.315)
    assert sram_energy.bank_access_pj(2048, 64) == pytest.approx(1.315)
    # widths outside 64..512 bits keep the nearest column's energy per bit
    assert sram_energy.bank_access_pj(8192, 32) == pytest.approx(3.162 / 2)
    assert sram_energy.bank_access_pj(8192, 1024) == pytest.approx(13.29 * 2)
    # at the top row itself: fine; one byte more: refused with a clear message
    assert sram_energy.bank_access_pj(64 << 20, 64) == pytest.approx(261.0)
    with pytest.raises(SramTableRangeError, match=r"67108865 bytes is beyond the SRAM energy table \(CACTI arrays up to 67108864 bytes = 64 MiB\)"):
        sram_energy.access_pj((64 << 20) + 1, 1, 64)
    with pytest.raises(SramTableRangeError):  # the interconnect term needs the whole buffer's area
        sram_energy.access_pj(128 << 20, 16, 64)
    with pytest.raises(SramTableRangeError):
        sram_energy.leakage_mw(128 << 20, 64)


def test_a_banked_buffer_pays_its_bank_plus_the_h_tree():
    e = EnergyTable()
    # 32 MiB in 16 banks of 2 MiB, 256-bit lines: bank read 152.9 pJ; H-tree:
    # 256 bits x 0.236 pJ/bit/mm x sqrt(98.57 mm^2) x (1 - 1/sqrt(16))
    #   = 60.416 x 9.928243 x 0.75 = 449.8684 pJ; total (152.9 + 449.8684) x 81/49 = 996.4100 pJ
    got = e.sram_access_pj(32 << 20, 16, 256)
    assert got == pytest.approx((152.9 + 256 * 0.236 * math.sqrt(98.57) * 0.75) * V2)
    assert got == pytest.approx(996.41, abs=0.01)
    per_bit = got / 256  # 3.89 pJ/bit: well below DRAM I/O (the old sqrt rule said 10 pJ/bit)
    assert 3.8 < per_bit < 4.0
    # bigger buffers cost more per bit, but sub-linearly in capacity
    small = e.sram_access_pj(512 * 1024, 16, 256) / 256
    tiny = e.sram_access_pj(8192, 1, 256) / 256
    assert tiny < small < per_bit
    assert per_bit / small < (32 << 20) / (512 * 1024) and small / tiny < (512 * 1024) / 8192
    # one bank: no interconnect term
    assert sram_energy.interconnect_pj(32 << 20, 1, 256) == 0.0


def test_sram_table_grows_with_size_in_every_column():
    for j in range(len(sram_energy.WIDTHS_BITS)):
        for write in (False, True):
            col = [sram_energy.bank_access_pj(r[0] * 1024, sram_energy.WIDTHS_BITS[j], write=write)
                   for r in sram_energy._ROWS]
            assert col == sorted(col)


def test_sram_leakage_from_the_table_or_the_override():
    e = EnergyTable()
    # 128 KiB in two 64 KiB banks: the 64 KiB array leaks 3.648 mW, i.e. 0.057 mW/KiB -> 7.296 mW
    assert e.sram_leakage_mw(128 * 1024, 2) == pytest.approx(7.296)
    # below 2 KiB banks: the 2 KiB figure per KiB (0.182 / 2 = 0.091 mW/KiB)
    assert e.sram_leakage_mw(4096, 4) == pytest.approx(0.091 * 4)
    assert EnergyTable(leakage_mw_per_kib_sram=0.5).sram_leakage_mw(128 * 1024, 2) == pytest.approx(64.0)


def test_the_docs_show_the_table_the_code_uses():
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "reference" / "sram_energy.md"
    rows = [line for line in doc.read_text(encoding="utf-8").splitlines() if line.startswith("| ") and "iB |" in line[:12]]
    table = [r for r in rows if r.count("|") == 12]
    assert len(table) == len(sram_energy._ROWS)
    for line, (kib, rd, wr, area, leak) in zip(table, sram_energy._ROWS):
        cells = [c.strip() for c in line.strip("|").split("|")]
        size = int(cells[0].split()[0]) * (1024 if cells[0].endswith("MiB") else 1)
        assert size == kib
        assert [float(c) for c in cells[1:]] == [*rd, *wr, area, leak]
