# Type declarations of tlmsim/hw/pe_array.py for its compiled build (Cython's "augmenting .pxd": setup.py
# compiles a copy of pe_array.py with this file beside it; the pure-Python module ignores it). PeArray is
# an extension type there (its base, tlmsim/engine/component.pxd, says why): its methods read the
# attributes below as C struct fields: the period and the elapsed time as C long longs (docs/performance.md,
# "Session 22"), the others Python objects, as in the pure module.

from _tlmsim_compiled.engine_component cimport Component
from _tlmsim_compiled.engine_plan cimport Tile

cdef class PeArray(Component):
    cdef public long long _elapsed_ps, period_ps
    cdef public object area, config, energy, functional
    # the compute step's two halves: C calls for the controller (session 35)
    cpdef start(self, txn, Tile tile, operands_ready_ps=*, plan=*)
    cpdef finish(self, txn, Tile tile, start)
