"""s15hit, Dram._hit_run mutants 293 and 294 (a flush of the command log after each RD of a run): the
chunks a command sink gets with the log handed on in one-row chunks (``_LOG_CHUNK`` = 1, so every
flush that can hand rows on does), with and without that change, on seeded random block streams
(tests/hw/test_dram_diff.py's generator: two channels, two ranks, open page, power-down on and off,
four queue sizes). _hit_run's RD is the only caller of ``_log_cmd`` with ``flush=False``, so forcing
``flush=True`` there is exactly the mutants' change.

    PYTHONPATH=. TLMSIM_PURE=1 python tools/mutation/results/s15hit/flush_in_run.py [N]

Prints every stream whose chunks differ and a count (session 15: N = 400, 289 of them with power-down on:
0 differ).
"""
import random
import sys

import tlmsim.hw.dram as dram_mod
from tests.hw.dram_stream import run_stream
from tests.hw.test_dram_diff import _config, _stream

dram_mod._LOG_CHUNK = 1
ORIG = dram_mod.Dram._log_cmd


def _flush_always(self, t, ch, gb, cmd, row, col, flush=True):
    return ORIG(self, t, ch, gb, cmd, row, col, flush=True)


def chunks(config, items, mutated: bool):
    dram_mod.Dram._log_cmd = _flush_always if mutated else ORIG
    try:
        out = []
        ends, _dram, _rec = run_stream(config, items, False, sink=lambda rows: out.append(rows[:, 0].tolist()))
        return ends, out
    finally:
        dram_mod.Dram._log_cmd = ORIG


def main(n: int) -> None:
    differ = pd_on = 0
    for i in range(n):
        rng = random.Random(i)
        pd = rng.random() < 0.7
        pd_on += pd
        config = _config("open", pd, rng.choice([(32, 8), (4, 2), (2, 1), (1, 4)]))
        items = _stream(rng, rng.randrange(2, 12), focus=rng.random() < 0.5)
        a, b = chunks(config, items, False), chunks(config, items, True)
        if a != b:
            differ += 1
            print("differ:", i, items)
    print(f"{n} streams ({pd_on} with power-down on): {differ} differ")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
