import random, hashlib, simpy, json
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.noc import Noc
from tlmsim.platform.noc import NocConfig
h = hashlib.sha256()
for seed in range(400):
    rnd = random.Random(seed)
    cols, rows = rnd.randint(2, 4), rnd.randint(1, 4)
    nodes = {f"n{x}_{y}": (x, y) for x in range(cols) for y in range(rows)}
    cfg = NocConfig(topology="mesh", mesh_cols=cols, mesh_rows=rows, link_width_bytes=16, clock_mhz=1000,
                    router_latency_cycles=rnd.randint(0, 3), link_latency_cycles=rnd.randint(0, 2),
                    credit_latency_cycles=rnd.randint(0, 2), buffer_flits=rnd.randint(1, 10),
                    multicast=rnd.random() < 0.8, nodes=nodes)
    rec = Recorder()
    noc = Noc(name="noc", env=simpy.Environment(), recorder=rec, config=cfg, accel_clock_mhz=500)
    seen = []
    noc.link_observer = lambda *a: seen.append(a)
    names = list(nodes)
    out = []
    t = 0
    for k in range(rnd.randint(1, 12)):
        t += rnd.randint(0, 15)
        src = rnd.choice(names)
        n = 16 * rnd.randint(1, 20)
        tx = rec.new_transaction(Cmd.WRITE, DataClass.SPIKES, 0, n, src, f"g{k}", now_ps=0)
        if rnd.random() < 0.3:
            tx = rec.new_transaction(Cmd.WRITE, DataClass.SPIKES, 0, n, src, rnd.choice(names), now_ps=0)
            out.append(noc.reserve(tx, t * 1000))
        else:
            d = rnd.sample(names, rnd.randint(1, min(4, len(names))))
            out.append(noc.reserve_multicast(tx, d, t * 1000))
    out.append(sorted(noc.stats.c.items()))
    out.append(noc.parts())
    out.append(seen)
    out.append(rec.stalls.by_reason("noc"))
    h.update(repr(out).encode())
print(h.hexdigest())
