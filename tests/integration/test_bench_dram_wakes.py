"""tools/bench/dram_wakes.py: the cases of the DRAM model's wake decision, and a counted
run equal to an uncounted one."""

import importlib.util
import os
import subprocess
import sys
from collections import deque
from pathlib import Path
from types import SimpleNamespace as NS

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "bench" / "dram_wakes.py"


def load_tool():
    spec = importlib.util.spec_from_file_location("dram_wakes", TOOL)
    mod = importlib.util.module_from_spec(spec)
    before = os.environ.get("TLMSIM_PURE")
    spec.loader.exec_module(mod)  # sets TLMSIM_PURE for its own runs; leave this process as it was
    if before is None:
        os.environ.pop("TLMSIM_PURE", None)
    else:
        os.environ["TLMSIM_PURE"] = before
    return mod


def burst(q, write=False):
    return NS(q=q, write=write)


def chan(nq=1, offer_writes=0, offers=(), wpend=None, reads_left=None):
    return NS(nq=nq, offer_writes=offer_writes, offers=deque(offers), wpend=wpend or {}, reads_left=reads_left or {})


def dram(c, plain=False):
    return NS(_ch=[c], _plain=plain)


def test_each_case_of_the_wake_decision():
    tool = load_tool()
    cls = tool.classify
    reading = {"txn": 3}
    assert cls(dram(chan(nq=0)), 0, 10) == "no_queue"
    assert cls(dram(chan()), 0, 1 << 62) == "no_queue"  # no next decision
    assert cls(dram(chan(reads_left=reading), plain=True), 0, 10) == "plain"
    # a write offered behind a read (the read waits for room in the read queue), or at the head
    assert cls(dram(chan(offer_writes=1, offers=[burst(7), burst(8, True)], reads_left=reading)), 0, 10) == \
        "write_offered_behind_read"
    assert cls(dram(chan(offer_writes=1, offers=[burst(8, True), burst(7)], reads_left=reading)), 0, 10) == \
        "write_offered_at_head"
    # the write buffer holds burst 9: an offered read of burst 9 can be forwarded; of bursts 7 and 8 not
    assert cls(dram(chan(offers=[burst(7), burst(9)], wpend={9: 1}, reads_left=reading)), 0, 10) == \
        "buffered_write_forwardable"
    assert cls(dram(chan(offers=[burst(7), burst(8)], wpend={9: 1}, reads_left=reading)), 0, 10) == \
        "buffered_write_offers"
    assert cls(dram(chan(offers=[], wpend={9: 1}, reads_left=reading)), 0, 10) == "bound"
    assert cls(dram(chan(offers=[burst(7)], reads_left=reading)), 0, 10) == "bound"
    assert cls(dram(chan(offers=[], wpend={9: 1})), 0, 10) == "no_read"
    assert tool.CASES == ("no_queue", "plain", "write_offered_behind_read", "write_offered_at_head",
                          "buffered_write_forwardable", "buffered_write_offers", "no_read", "bound")


def counted_run(platform: str, workload: str, dataflow: str, then: str) -> list[str]:
    """In a fresh pure-Python process: load the cell as ``p``, ``w``, run the tool's ``count_wakes``
    on it (``counts``, ``counted``; the tool's globals as ``g``), run ``then`` (which prints);
    its printed words."""
    code = (
        "import runpy; g = runpy.run_path(%r);"
        "from tlmsim.platform import load_platform; from tlmsim.workload import load_workload;"
        "from tlmsim.soc.run import simulate;"
        "p = load_platform(%r, ['dataflow.name=%s']); w = load_workload(%r, seed=0);"
        "counts, counted = g['count_wakes'](p, w);"
    ) % (str(TOOL), platform, dataflow, workload)
    return subprocess.run([sys.executable, "-c", code + then], capture_output=True, text=True, check=True,
                          env={**os.environ, "TLMSIM_PURE": "1"}).stdout.split()


def test_a_counted_run_is_the_run_and_prints_its_cases():
    out = counted_run("no-glb", "digits-conv", "dense-os",
                      "plain = simulate(p, w, seed=0);"
                      "print(plain.end_ps, counted.end_ps, plain.recorder.issued, counted.recorder.issued,"
                      " sum(counts[c] for c in g['CASES']) > 0, counts['wake'] > 0)")
    assert out[0] == out[1] and out[2] == out[3]  # the wrapper only reads: the same end and transactions
    assert out[4:] == ["True", "True"]
    text = subprocess.run([sys.executable, str(TOOL), "no-glb", "digits-conv", "dense-os"], capture_output=True,
                          text=True, check=True).stdout
    assert text.startswith("no-glb digits-conv dense-os: ") and "DRAM wakes" in text and "%" in text
    assert " RDs served:\n  two-bank batches " in text and "\n  one at a time " in text


def test_rd_paths_split_the_rds_by_how_they_were_served():
    tool = load_tool()
    counts = tool.collections.Counter(rds=100, pair_rds=60, pair_calls=9, pair_none=2, solo_rds=25, solo_calls=4,
                                      solo_none=1)
    assert tool.rd_paths(counts) == [("two-bank batches", 60, 9, 2), ("lone-bank batches", 25, 4, 1),
                                     ("one at a time", 15, 0, 0)]


def test_two_bank_batches_serve_rds_on_lpddr4():
    # edge-lpddr4's tCCD_L (6) is shorter than its burst (8 cycles): every RD of a two-bank batch after
    # its first is a tie, which the batch settles (session 19; before, every such batch served none).
    # lenet5-mnist with dense-os: 1,012 RDs, 467 of them in two-bank batches, 349 in lone-bank ones
    out = counted_run("edge-lpddr4", "lenet5-mnist", "dense-os",
                      "print(*[x for row in g['rd_paths'](counts) for x in row[1:]], counts['rds'])")
    pair, pair_calls, pair_none, solo, solo_calls, solo_none, single, _, _, rds = map(int, out)
    assert (rds, pair, solo, single) == (1012, 467, 349, 196)
    assert (pair_calls, pair_none, solo_calls, solo_none) == (110, 51, 43, 18)
