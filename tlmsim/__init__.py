"""tlmsim: a transaction-level simulator of SoCs running spiking neural networks
on systolic-array accelerators.

Phases of a run: validate (platform and workload models) -> build (components) ->
connect and check (cross-component rules) -> run (SimPy) -> report (pandas).
"""

__version__ = "0.1.0"
