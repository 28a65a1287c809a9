"""Transactions per timestep of VGG9 edge-lpddr4 event predicted from the plans (s13_vgg9_plans_edge_event.txt):
each DMA block of a tile move costs 3 transactions when its tensor is in an SRAM level (level read or write,
NoC, L1 write or read) and 6 when it is in DRAM (DRAM, NoC, GLB staging, GLB, NoC, L1), as the census counts
(s13_vgg9_census_summary.txt: conv2 SPIKES 3 x 4096 at T=8, 6 x 4096 at T=16); prediction for T = measured
per-timestep count at a smaller T + the difference of sum(blocks x hops) between the two plans."""
import re, sys
per = {}
for line in open(sys.argv[1]):
    m = re.match(r'T=\s*(\d+) (\S+)\s+tiles.*\| (.*)$', line)
    if not m:
        continue
    for it in m[3].split():
        k, v = it.split(':')
        per[(int(m[1]), m[2], k)] = float(v.split('/')[0])
H = {'lvl': 3, 'dram': 6, 'pro-epi': 0}
def hops(T):
    return sum(b * H[k.split('/')[1]] for (t, n, k), b in per.items() if t == T)
meas = {4: 107241, 8: 107866, 16: 120878}  # census: transactions per timestep (total / T)
for base in (4, 8, 16):
    for T in (16, 32, 100):
        if T > base:
            p = meas[base] + hops(T) - hops(base)
            print(f"from T={base}: T={T} predicted {p:.0f} per timestep, {p * T:.0f} in all")
