# Type declarations of tlmsim/soc/run.py for its compiled build (Cython's "augmenting .pxd": setup.py
# compiles a copy of run.py with this file beside it; the pure-Python module ignores it). The run loop
# (run_guarded) reads the fields of the kernel's events and sets its environment's clock (tlmsim/engine/sim.pxd)
# as C struct fields
# (docs/performance.md, "Session 32").

from _tlmsim_compiled.engine_sim cimport Environment, Event
