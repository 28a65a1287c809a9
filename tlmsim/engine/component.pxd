# Type declarations of tlmsim/engine/component.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of component.py with this file beside it; the pure-Python module ignores
# it). Component is an extension type there, so that the hardware models built on it (Dram, Sram, Noc,
# PeArray, Controller: the .pxd beside each) can be extension types too, whose methods read their own
# attributes as C struct fields (docs/performance.md, "Session 21"). ``__dict__`` keeps any other
# attribute possible (a subclass's without slots, a test's); tlmsim/kernels.py's EXTENDS runs their
# builds only beside this one. The counters' values
# (``_cv``, tlmsim.engine.stats.Counters) are a typed view: the hot paths add to them in C (docs/performance.md,
# "Session 28"). The recorder is typed (tlmsim/engine/recorder.pxd): ``stall`` and ``record`` read its ledger,
# flows and sinks as C fields, and ``stall`` is a C call for the models (docs/performance.md, "Session 31").

from _tlmsim_compiled.engine_recorder cimport Recorder

cdef class Component:
    cdef dict __dict__
    cdef object __weakref__
    cdef public object _busy_seen, env, name, stats
    cdef public Recorder recorder
    #: the counters' values (stats.c.v), added to by position in C
    cdef public long long[::1] _cv
    cpdef stall(self, reason, duration_ps, layer=*, start_ps=*)
