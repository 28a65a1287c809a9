"""Per layer, the event dataflow's chosen tiling and its moves for several T (plans only, no simulation)."""
import math, sys, time
from collections import Counter
from tlmsim.dataflow import make_dataflow
from tlmsim.platform import load_platform
from tlmsim.workload import load_workload
plat = load_platform(sys.argv[1], [f"dataflow.name={sys.argv[2]}"])
chunk = plat.dataflow.dma_chunk_bytes
for path in sys.argv[3:]:
    w = load_workload(path, seed=0)
    c0 = time.process_time()
    df = make_dataflow(plat, w)
    tot_blocks = 0
    for inp, p in df.plan_in_order():
        blocks = Counter(); nbytes = Counter(); moves = Counter()
        for t in p.tiles:
            for mv in (*t.loads, *t.stores):
                k = mv.data_class.name + ("/dram" if mv.in_dram else "/lvl")
                blocks[k] += -(-mv.nbytes // chunk); nbytes[k] += mv.nbytes; moves[k] += 1
        for mv in (*p.prologue, *p.epilogue):
            k = mv.data_class.name + "/pro-epi"
            blocks[k] += -(-mv.nbytes // chunk); nbytes[k] += mv.nbytes; moves[k] += 1
        b = sum(blocks.values()); tot_blocks += b
        print(f"T={w.timesteps:3d} {p.layer.name:6s} tiles {len(p.tiles):7d} ({len(p.tiles)/w.timesteps:8.1f}/t) "
              f"blocks {b:8d} ({b/w.timesteps:8.1f}/t) {p.tiling} | " +
              " ".join(f"{k}:{blocks[k]/w.timesteps:.0f}/{nbytes[k]/w.timesteps/1024:.0f}K" for k in sorted(blocks)),
              flush=True)
    print(f"T={w.timesteps} total DMA blocks {tot_blocks} ({tot_blocks / w.timesteps:.0f} per timestep), "
          f"planning {time.process_time() - c0:.1f} CPU s", flush=True)
