"""Transactions of one run counted per layer, per timestep (the tile's t_first), per data class.

    python census.py WORKLOAD.yaml PLATFORM DATAFLOW OUT.csv
Counts every Recorder.complete and Recorder.booked call (every transaction completes
through one of them: the run's invariant completed == issued) by (layer index, tile index, data class, source, destination); maps tile
index -> t_first through the plans the controller is handed (PlanSource.__getitem__).
Checks that the counts sum to recorder.issued."""
import collections
import csv
import sys
import time

from tlmsim.engine import plan as planmod
from tlmsim.engine.recorder import Recorder
from tlmsim.kernels import describe
from tlmsim.platform import load_platform
from tlmsim.soc.run import simulate
from tlmsim.workload import load_workload

wl, plat, df, out = sys.argv[1:5]
counts = collections.Counter()
tiles = {}  # layer index -> {tile index: t_first}
info = {}  # layer index -> (name, tiling, ntiles)

orig_complete, orig_booked, orig_get = Recorder.complete, Recorder.booked, planmod.PlanSource.__getitem__


def complete(self, txn, now_ps):
    counts[(txn.layer, txn.tile, int(txn.data_class), txn.source, txn.destination, txn.cmd.name)] += 1
    return orig_complete(self, txn, now_ps)


def booked(self, comp, cmd, data_class, address, nbytes, source, destination, start_ps, layer, tile, chain):
    counts[(layer, tile, int(data_class), source, destination, cmd.name)] += 1
    return orig_booked(self, comp, cmd, data_class, address, nbytes, source, destination, start_ps, layer, tile,
                       chain)


def getitem(self, i):
    p = orig_get(self, i)
    li = p.layer.index
    if li not in tiles:
        tiles[li] = {t.index: t.t_first for t in p.tiles}
        info[li] = (p.layer.name, p.tiling, len(p.tiles))
    return p


Recorder.complete, Recorder.booked, planmod.PlanSource.__getitem__ = complete, booked, getitem
w = load_workload(wl, seed=0)
p = load_platform(plat, [f"dataflow.name={df}"])
c0 = time.process_time()
r = simulate(p, w, seed=0)
cpu = time.process_time() - c0
total = sum(counts.values())
print(f"{w.name} T={w.timesteps} {plat} {df}: issued {r.recorder.issued}, counted {total}, CPU {cpu:.1f} s; {describe()}")
assert total == r.recorder.issued
from tlmsim.engine.transaction import DataClass
with open(out, "w", newline="") as f:
    wr = csv.writer(f)
    wr.writerow(["T", "layer", "name", "tiling", "ntiles", "tile", "timestep", "data_class", "source", "destination",
                 "cmd", "count"])
    for (li, ti, dc, s, d, cmd), n in sorted(counts.items(), key=lambda kv: tuple(map(str, kv[0]))):
        name, tiling, nt = info.get(li, ("", "", 0))
        wr.writerow([w.timesteps, li, name, tiling, nt, ti, tiles.get(li, {}).get(ti, ""), DataClass(dc).name, s, d,
                     cmd, n])
