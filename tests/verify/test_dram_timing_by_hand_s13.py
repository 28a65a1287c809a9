"""The DRAM timing checker (tlmsim/verify/dram_timing.py): what its session-13 mutation runs (tags
s13chk, s13chkb, mutAudit) showed no test reached, on hand-written logs with the exact sentences
expected. Timings of tests/verify/test_dram_timing_rules.py: tRCD 4 (an RD needs its ACT + 4).
"""

import pandas as pd
import pytest

from tlmsim.verify.dram_timing import check_dram_commands
from tests.verify.test_dram_timing_rules import SPEC, C, frame, msg

NUMERIC = ["cycle", "channel", "rank", "bankgroup", "bank", "row"]


@pytest.mark.parametrize("dtype", ["int32", "float64"])
def test_a_frame_of_int32_or_float_columns_is_judged_as_int64(dtype):
    # a command log read back from a file can come with int32 or (integral) float columns;
    # _Log.from_frame makes them int64. At b = 2**29 the per-bank order key cycle x 4 + priority
    # passes 2**31 between the ACT (b - 1: 2**31 - 4 + p) and the RD (b + 1: 2**31 + 4 + p): in int32
    # the RD's key wraps negative and the RD is ordered before its ACT ("RD/WR to a closed bank",
    # and the ACT then breaks tRP and tRC); floats would print "cycle 536870913.0" in the sentences
    b = 1 << 29
    log = frame([C(b - 1, "ACT"), C(b + 1, "RD")])
    log[NUMERIC] = log[NUMERIC].astype(dtype)
    assert check_dram_commands(log, SPEC) == [msg(b + 1, "RD", "tRCD = 4", b - 1)]
    assert msg(b + 1, "RD", "tRCD = 4", b - 1) == (
        "cycle 536870913: RD at channel 0 rank 0 bankgroup 0 bank 0 breaks tRCD = 4 "
        "(previous command at cycle 536870911)")
    ok = frame([C(b - 1, "ACT"), C(b + 3, "RD")])  # ACT + tRCD = b + 3: allowed
    ok[NUMERIC] = ok[NUMERIC].astype(dtype)
    assert check_dram_commands(ok, SPEC) == []
    assert isinstance(log, pd.DataFrame) and str(log["cycle"].dtype) == dtype
