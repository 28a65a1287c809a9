# Type declarations of tlmsim/engine/stats.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of stats.py with this file beside it; the pure-Python module ignores it).
# The stall ledger is an extension type there: a component's ``stall`` (tlmsim/engine/component.pxd
# types its recorder, tlmsim/engine/recorder.pxd the recorder's ledger) calls ``add`` at C level and
# ``add`` reads its dictionary as a C field (docs/performance.md, "Session 31"). The entries are the
# same Python objects as in the pure module.

cdef class StallLedger:
    cdef public dict entries
    cpdef add(self, component, reason, duration_ps, layer=*)
