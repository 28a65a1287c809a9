"""tlmsim: a transaction-level simulator of SoCs running spiking neural networks
on systolic-array accelerators.

Phases of a run: validate (platform and workload models) -> build (components) ->
connect and check (cross-component rules) -> run (SimPy) -> report (pandas).
"""

__version__ = "0.1.0"

#: The package's layers, lowest first. A module may import only from its own layer or
#: a lower one, and the packages sharing a layer do not import each other (e.g. the
#: hardware and the dataflows meet only in the kernel's plan types and in the SoC
#: assembly above them). tests/test_layering.py walks every import and enforces it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "units", "kernels"),  # foundation, no simulator concepts: error types, unit parsing, which build runs
    ("config_io", "outputs"),  # YAML reading and validation; output paths, atomic writes
    ("resources", "table"),  # where the shipped platforms and workloads are; column tables written as CSV
    ("engine",),  # kernel: component, transaction, recorder, stats, trace, invariants, plan types
    ("platform", "snn"),  # the platform schema; the SNN graph import and reference simulator
    ("workload",),  # layers, spikes (uses the schema's parameter machinery and snn/)
    ("hw", "dataflow"),  # the components; the dataflows that plan layers
    ("verify",),  # independent checkers (DRAM command log, fixed-point functional model)
    ("soc",),  # the SoC assembly: build components and plans from a platform, run them
    ("report", "timeline", "plots", "progress", "bench"),  # what a run produces or shows
    ("compare", "explore"),  # many runs
    ("paramdocs", "cli"),  # entry points
    ("__main__",),
)

# the compiled builds of the hot modules stand in for their sources when current (tlmsim/kernels.py)
from tlmsim import kernels as _kernels

_kernels.install()
