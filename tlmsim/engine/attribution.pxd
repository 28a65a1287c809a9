# Type declarations of tlmsim/engine/attribution.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of attribution.py with this file beside it; the pure-Python module ignores
# it). The per-layer counters are extension types there: ``hop_layer``, called for every hop, reads and
# writes its component's state (``st``, typed by the ``# @cython.locals`` comment above it) as C struct
# fields (docs/performance.md, "Session 21"). The fields hold Python objects, as in the pure module (the
# counters' value array and its copies, one slice each: "Session 28").

cdef class _Comp:
    cdef public object stats, vals, seen, run_start, layer, acc

cdef class LayerCounters:
    cdef dict __dict__
    cdef public dict _comps
    cdef public object _layer
