"""Backs the equivalent entries of command_records' final sort (kind="stable" -> numpy's default):
the parts it joins are each sorted by cycle and in time order (a flushed chunk holds the rows before
the channels' safe cycle, and every later row is at or after it), so the array it sorts is already
sorted; numpy's default argsort of an already sorted int64 array keeps ties in place (the identity
permutation), as the stable sort does. Checked here on random sorted arrays with many ties (2 to 3000
rows, 1 to 50 distinct cycles) and on the shapes of a command log (int64 column of rows of 6).
Prints the numpy version and the number of arrays whose order changed (0 expected)."""
import numpy as np

rng = np.random.default_rng(2026)
bad = 0
for _ in range(5000):
    n = int(rng.integers(2, 3000))
    k = int(rng.integers(1, 50))
    rec = np.zeros((n, 6), np.int64)
    rec[:, 0] = np.sort(rng.integers(0, k, n))
    rec[:, 1:] = rng.integers(-1, 100, (n, 5))
    if (np.argsort(rec[:, 0]) != np.arange(n)).any():
        bad += 1
print(f"numpy {np.__version__}: {bad} of 5000 sorted arrays reordered by the default argsort")
