"""Instructions of `tlmsim run`'s stages (session 17, fixedCost): tools/bench/results/s16_stages.py
with the cyclic collector as the `tlmsim` process has it now (tlmsim/cli.py: off from the start of
`entry()` until the inputs are loaded, then the import-time heap frozen and the collector on). The
five-dense run of tools/bench/throughput.py part 2 done as cli.cmd_run does it, ended by os._exit
right after stage STOP: one process per STOP under cachegrind gives the cumulative instructions up
to that stage. OPENBLAS_NUM_THREADS=1 makes the counts repeatable (OpenBLAS's idle worker threads
otherwise add +-15 M instructions from run to run); the load stage then repeats to 0.1 M, the
simulation to about +-15 M.

    OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0 STOP=load|sim|report|write|all \
        valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        python tools/bench/results/s17_stages.py FIVE_DENSE.csv OUTDIR

(FIVE_DENSE.csv: the topology tools/bench/throughput.py part 2 writes.)"""
import gc
import os
import sys

gc.disable()  # as cli.entry()
stop, topo, out = os.environ["STOP"], sys.argv[1], sys.argv[2]
from tlmsim import cli  # noqa: E402
from tlmsim.outputs import check_outputs  # noqa: E402

overrides = ["pe_array.rows=16", "pe_array.cols=16", "dataflow.name=dense-ws"]
platform, workload = cli._load("ddr4-baseline", topo, overrides, 0)
check_outputs(dirs=[("--out", out)], files=[])
from tlmsim.report import build_report, console_summary, write_tables  # noqa: E402
from tlmsim.soc.run import simulate  # noqa: E402

if stop == "load":
    os._exit(0)
gc.freeze()
gc.enable()  # as cli.cmd_run
result = simulate(platform, workload, seed=0)
if stop == "sim":
    os._exit(0)
report = build_report(result)
if stop == "report":
    os._exit(0)
write_tables(report.columnar(), out)
if stop == "write":
    os._exit(0)
print(console_summary(result, report))
sys.stdout.flush()
os._exit(0)
