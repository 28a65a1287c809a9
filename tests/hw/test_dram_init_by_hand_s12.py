"""The DRAM model by hand, session 12 (mutation run s12dramC: ``Dram.__init__``, ``finalize``,
``_rank_busy``, ``_finish``, ``_rank_sleep_to_end``, ``_rank_activity``, ``_start_refresh``):
what the run found unguarded.

Same configuration and helpers as tests/hw/test_dram_by_hand.py (``cfg()``: tCK 1 ns, CL 7,
tRCD 4, tRP 6, tRAS 11, burst 4 cycles of a 64-bit bus at burst length 8, so 64-byte bursts;
1 channel, 1 rank, 2 bank groups x 4 banks; power-down after 20 idle cycles, self-refresh
after 100). Only public entry points.
"""

import pytest

from tests.hw.test_dram import Rig
from tests.hw.test_dram_by_hand import cfg
from tlmsim.errors import ConfigError


def test_a_request_size_that_is_not_a_power_of_two_is_refused():
    # a 48-bit bus at burst length 8 moves 48 bytes per burst: the address decoder cuts bursts at
    # a power-of-two offset, so the model refuses it, naming the org section
    with pytest.raises(ConfigError) as e:
        Rig(cfg(org={"bus_width_bits": 48}))
    assert str(e.value) == "dram.org: request size 48 B is not a power of two"
    assert e.value.key == "dram.org"


def test_the_peak_bandwidth_is_one_burst_per_burst_time_per_channel():
    # 64 bytes every 4 cycles of 1 ns: 16 bytes per ns = 16 GB/s; two channels twice that
    assert Rig(cfg()).dram.peak_bandwidth_gb_per_s == 16.0
    assert Rig(cfg(org={"channels": 2})).dram.peak_bandwidth_gb_per_s == 32.0
