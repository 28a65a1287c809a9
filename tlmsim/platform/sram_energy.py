"""SRAM energy per access, leakage and area at 45 nm: a CACTI 7 table and the rule that uses it.

Source of every number here: CACTI 7.0 (github.com/HewlettPackard/cacti, commit
1ffd8df, "Version 7"), run as a plain scratchpad (``cache type "ram"``, one
read/write port) at 45 nm with ITRS low-operating-power (LOP) devices for cells and
periphery, 350 K, and the remaining settings of Accelergy's CACTI plug-in template
(fast access mode, Global_30 wires, semi-global wires inside and outside the mats).
docs/reference/sram_energy.md lists the settings, the whole table and how well the
interconnect rule below reproduces CACTI's own multi-bank arrays.

The rule (:func:`access_pj`): an access of ``w`` bits to a buffer of capacity ``S`` in
``B`` line-interleaved banks costs

    E = [ E_bank(S / B, w) + w * K_ROUTE * sqrt(A(S)) * (1 - 1 / sqrt(B)) ] * (0.9 / 0.7)^2

* ``E_bank``: CACTI's energy of one access to a single array of the bank's size
  (the table; log-log interpolation between its rows, which double in size; linear
  in ``w`` between its width columns);
* the interconnect (H-tree) from the buffer's port to the bank: the root-to-leaf
  path of an H-tree over ``B`` leaves covering a square of area ``A(S)`` is
  ``sqrt(A)/2 * (1 - 1/sqrt(B))`` long; ``K_ROUTE`` = 0.236 pJ per bit per mm (at
  0.7 V, address and data included) is the least-squares fit to CACTI's 2-64-bank
  arrays of 32 KiB-64 MiB (reads and writes of 236 arrays with banks of 2 KiB or
  more: mean error 7 %, 87 % within 15 %, from 512 KiB up mean 4 %; worst -42 %, a
  32 KiB buffer cut into 8 banks of 512-bit lines). One bank: no interconnect term
  (CACTI's figure for one array already contains its internal H-tree);
* ``(0.9 / 0.7)^2``: CACTI's LOP supply is 0.7 V; the rest of the energy table
  (Horowitz, ISSCC 2014) is at 0.9 V, so dynamic energy is scaled by V^2 (E = C V^2).

Bounds (never extrapolated): a bank smaller than the smallest row (2 KiB) is charged
as a 2 KiB bank (an upper bound); widths outside 64-512 bits keep the per-bit energy
of the nearest column (a narrower port costs more per bit, so below 64 bits this is a
lower bound); a buffer larger than the largest row (64 MiB) is refused
(:class:`SramTableRangeError`): give the buffer's energies explicitly instead.

Leakage (:func:`leakage_mw`): CACTI's subthreshold plus gate leakage of the bank,
per KiB, times the capacity; at 0.7 V and 350 K, not scaled (at 0.9 V leakage is
higher, so this is a lower bound).
"""

from __future__ import annotations

import math

#: where the table comes from (quoted in parameter descriptions and docs)
SOURCE = ("CACTI 7.0 (commit 1ffd8df), 45 nm ITRS-LOP 0.7 V, 350 K, scratchpad RAM, "
          "dynamic energy scaled to 0.9 V; docs/reference/sram_energy.md")

#: CACTI's supply voltage for 45 nm ITRS-LOP devices, and the energy table's (Horowitz)
CACTI_VDD_V = 0.7
TABLE_VDD_V = 0.9
#: dynamic energy scale from CACTI's supply to the table's: (0.9 / 0.7)^2
DYNAMIC_SCALE = (TABLE_VDD_V / CACTI_VDD_V) ** 2
#: interconnect (H-tree) energy per bit per mm of buffer side, at CACTI's 0.7 V (fitted)
K_ROUTE_PJ_PER_BIT_MM = 0.236

#: access widths of the table's columns (bits)
WIDTHS_BITS = (64, 128, 256, 512)

# One row per bank size (KiB): read pJ at each width, write pJ at each width, area (mm^2,
# 128-bit array) and leakage (mW, subthreshold + gate, 128-bit array); CACTI output at
# 0.7 V, rounded to 4 significant digits.
_ROWS: tuple[tuple[int, tuple[float, ...], tuple[float, ...], float, float], ...] = (
    (2, (1.315, 1.735, 3.996, 12.0), (1.752, 3.042, 5.209, 13.02), 0.008307, 0.182),
    (4, (2.342, 2.14, 4.451, 12.42), (2.346, 4.848, 7.065, 14.84), 0.01427, 0.3274),
    (8, (3.162, 3.864, 5.271, 13.29), (3.244, 5.724, 10.69, 18.51), 0.02772, 0.5839),
    (16, (6.034, 7.305, 9.848, 14.94), (4.42, 7.469, 13.57, 25.77), 0.05345, 1.077),
    (32, (7.233, 10.72, 13.27, 18.36), (5.619, 11.2, 20.93, 40.4), 0.09758, 2.078),
    (64, (13.07, 16.64, 25.7, 35.33), (8.063, 13.41, 26.65, 50.66), 0.2275, 3.648),
    (128, (15.54, 21.26, 34.12, 53.48), (10.54, 18.04, 35.07, 68.81), 0.4764, 7.296),
    (256, (20.31, 30.12, 52.24, 87.62), (15.3, 26.89, 45.78, 89.52), 0.9756, 14.59),
    (512, (27.71, 44.24, 75.36, 122.5), (21.42, 34.22, 62.88, 124.4), 1.798, 26.8),
    (1024, (41.76, 62.07, 107.1, 187.1), (29.74, 51.9, 94.63, 191.5), 3.589, 53.52),
    (2048, (49.67, 92.76, 152.9, 259.7), (44.59, 73.1, 140.4, 234.7), 6.43, 105.6),
    (4096, (71.83, 125.3, 216.8, 406.8), (61.92, 105.5, 204.3, 411.2), 12.78, 211.0),
    (8192, (97.55, 169.7, 302.1, 578.7), (87.64, 149.9, 289.6, 583.1), 25.16, 422.0),
    (16384, (134.3, 234.9, 428.8, 856.7), (124.3, 214.8, 404.3, 866.1), 49.94, 846.1),
    (32768, (186.5, 322.8, 592.2, 1179.0), (176.4, 302.7, 567.7, 1189.0), 98.57, 1692.0),
    (65536, (261.0, 463.1, 829.5, 1637.0), (250.9, 423.7, 805.0, 1646.0), 186.2, 3363.0),
)

#: smallest and largest array the table covers (bytes)
MIN_BYTES = _ROWS[0][0] * 1024
MAX_BYTES = _ROWS[-1][0] * 1024


class SramTableRangeError(ValueError):
    """A buffer lies beyond the SRAM table (larger than :data:`MAX_BYTES`)."""


def _row_position(nbytes: float) -> tuple[int, float]:
    """Row index i and fraction f in [0, 1] with nbytes = size_i * 2^f (clamped below)."""
    if nbytes > MAX_BYTES:
        raise SramTableRangeError(
            f"{nbytes:.0f} bytes is beyond the SRAM energy table (CACTI arrays up to {MAX_BYTES} bytes = "
            f"{MAX_BYTES // 2**20} MiB)"
        )
    if nbytes <= MIN_BYTES:
        return 0, 0.0
    x = math.log2(nbytes / MIN_BYTES)
    i = min(int(x), len(_ROWS) - 2)
    return i, x - i


def _loglog(values: list[float], nbytes: float) -> float:
    """Interpolate a per-row quantity log-linearly in size (rows double in size)."""
    i, f = _row_position(nbytes)
    a, b = values[i], values[i + 1]
    return a * (b / a) ** f


def bank_access_pj(bank_bytes: float, width_bits: int, *, write: bool = False) -> float:
    """CACTI energy (pJ, at 0.7 V) of one ``width_bits`` access to one array of
    ``bank_bytes``: log-log in size between rows, linear in width between columns,
    per-bit energy of the nearest column outside 64-512 bits."""
    if width_bits <= 0:
        raise ValueError(f"access width must be positive (got {width_bits})")
    rows = [row[2] if write else row[1] for row in _ROWS]
    per_width = [_loglog([r[j] for r in rows], bank_bytes) for j in range(len(WIDTHS_BITS))]
    ws = WIDTHS_BITS
    if width_bits <= ws[0]:
        return per_width[0] * width_bits / ws[0]
    if width_bits >= ws[-1]:
        return per_width[-1] * width_bits / ws[-1]
    j = next(k for k in range(len(ws) - 1) if ws[k] <= width_bits <= ws[k + 1])
    t = (width_bits - ws[j]) / (ws[j + 1] - ws[j])
    return per_width[j] + (per_width[j + 1] - per_width[j]) * t


def area_mm2(nbytes: float) -> float:
    """CACTI area (mm^2) of one array of ``nbytes`` (log-log between rows; clamped below)."""
    return _loglog([r[3] for r in _ROWS], nbytes)


def interconnect_pj(capacity_bytes: float, banks: int, width_bits: int) -> float:
    """Energy (pJ, at 0.7 V) of carrying a ``width_bits`` access between the buffer's
    port and one of its ``banks`` banks: w * K_ROUTE * sqrt(A(S)) * (1 - 1/sqrt(B))."""
    if banks <= 1:
        return 0.0
    return width_bits * K_ROUTE_PJ_PER_BIT_MM * math.sqrt(area_mm2(capacity_bytes)) * (1.0 - 1.0 / math.sqrt(banks))


def access_pj(capacity_bytes: int, banks: int, width_bits: int, *, write: bool = False) -> float:
    """Energy (pJ, at 0.9 V) of one ``width_bits`` read (or write) of a buffer of
    ``capacity_bytes`` in ``banks`` banks: the bank's access plus the interconnect to
    reach it, scaled from CACTI's 0.7 V to 0.9 V. Raises :class:`SramTableRangeError`
    beyond the table."""
    bank = capacity_bytes / max(1, banks)
    e = bank_access_pj(bank, width_bits, write=write) + interconnect_pj(capacity_bytes, banks, width_bits)
    return e * DYNAMIC_SCALE


def leakage_mw(capacity_bytes: int, banks: int) -> float:
    """Leakage power (mW) of a buffer: the per-KiB leakage of an array of the bank's
    size (clamped below 2 KiB) times the capacity in KiB; CACTI's 0.7 V, 350 K figure."""
    bank = capacity_bytes / max(1, banks)
    per_kib = _loglog([r[4] / r[0] for r in _ROWS], bank)
    _row_position(capacity_bytes)  # refuse buffers beyond the table, as access_pj does
    return per_kib * capacity_bytes / 1024.0
