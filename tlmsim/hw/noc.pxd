# Type declarations of tlmsim/hw/noc.py for its compiled build (Cython's "augmenting .pxd": setup.py
# compiles a copy of noc.py with this file beside it; the pure-Python module ignores it). Noc is an
# extension type there (its base, tlmsim/engine/component.pxd, says why): its methods read the attributes
# below as C struct fields. The integer scalars (the period, link width, hop cycles, credit slack) are C
# long longs (docs/performance.md, "Session 22"); the others hold Python objects, as in the pure module.

from _tlmsim_compiled.engine_component cimport Component

cdef class Noc(Component):
    cdef public long long _slack, hop_cycles, period_ps, width
    cdef public object _free, _link, _link_credit, _link_wait, _links, _paths, _route_stats, _router
    cdef public object _topology, _trees, clock_mhz, config, groups, link_observer, links, nodes
