# Type declarations of tlmsim/hw/noc.py for its compiled build (Cython's "augmenting .pxd": setup.py
# compiles a copy of noc.py with this file beside it; the pure-Python module ignores it). Noc is an
# extension type there (its base, tlmsim/engine/component.pxd, says why): its methods read the attributes
# below as C struct fields. The integer scalars (the period, link width, hop cycles, credit slack, router and
# link latencies) are C
# long longs (docs/performance.md, "Session 22"); the others hold Python objects, as in the pure module.
# _Tree (a route or multicast tree, built once) is an extension type too, so a booking reads its fields in C;
# the booking's helpers are cpdef: called at C level (a Python subclass that replaces one still overrides it).

from _tlmsim_compiled.engine_component cimport Component

cdef class _Tree:
    cdef public tuple children, ends, ids, links, parent, path, pids
    cdef public list stats
    cdef public bint chain

cdef class Noc(Component):
    cdef public long long _kind, _link, _router, _slack, hop_cycles, period_ps, width
    #: per link id (the links' free cycles, waits and credit stalls; "Session 28"): typed views, read through
    #: link_free() and parts() from Python
    cdef public long long[::1] _free, _link_credit, _link_wait
    cdef public dict _ports, _unicast
    cdef public list _hold_stats, _links
    cdef public object _link_id, _paths, _route_stats, _trees, clock_mhz, config, groups, link_observer
    cdef public object links, nodes
    cpdef tuple book(self, cmd, long long address, long long nbytes, source, destination, long long start_ps,
                     long long layer)
    cpdef tuple _book_chain(self, _Tree tree, long long s, long long f, long long nbytes, long long slack)
    cpdef _hold(self, long long li, long long e, long long f, long long nbytes, long long wait)
    cpdef tuple _send(self, src, dst, long long s, long long f, long long nbytes)
