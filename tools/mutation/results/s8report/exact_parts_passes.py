"""Backs the equivalent.yaml entry for report.py's `for _ in range(64)` in `_exact_parts`
(mutant `range(65)`): how many passes does the loop take over one part, at most?

Runs the real `tlmsim.report._exact_parts` on random splits like the per-layer energies
(1-12 parts, some tiny or zero, each perturbed by up to 50 units in the last place as
separately rounded values are, now and then a small negative part and a total a few units
off), counting its `math.fsum` calls: every pass makes one, plus one at the end, so the
calls of a whole call bound the passes of any one part. Prints the most calls seen.

    python tools/mutation/results/s8report/exact_parts_passes.py
"""

import math
import random
import types

import tlmsim.report as report

calls = 0


def counting_fsum(xs):
    global calls
    calls += 1
    return math.fsum(xs)


report.math = types.SimpleNamespace(fsum=counting_fsum, nextafter=math.nextafter, inf=math.inf)
rng = random.Random(1)
worst = failed = 0
for _ in range(300_000):
    scale = 10 ** rng.uniform(-3, 9)
    parts = [rng.random() * scale * rng.choice([1, 1, 1, 1e-6, 0]) for _ in range(rng.randint(1, 12))]
    total = math.fsum(parts)
    noisy = [p * (1 + rng.choice([0, 1, -1]) * rng.randint(0, 50) * 2**-52) for p in parts]
    if rng.random() < 0.2:
        noisy[0] = -abs(noisy[0]) * 1e-12
        total = math.fsum(noisy) + rng.choice([0, 1, -1]) * abs(total) * 2**-50
    calls = 0
    try:
        report._exact_parts(noisy, total)
    except AssertionError:
        failed += 1
    worst = max(worst, calls)
print(f"most fsum calls in one _exact_parts call: {worst} (a pass makes one); failed: {failed}")
