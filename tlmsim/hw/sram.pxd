# Type declarations of tlmsim/hw/sram.py for its compiled build (Cython's "augmenting .pxd": setup.py
# compiles a copy of sram.py with this file beside it; the pure-Python module ignores it). Sram is an
# extension type there (its base, tlmsim/engine/component.pxd, says why): its methods read the attributes
# below as C struct fields. The integer ones (cycles, bytes, banks, latencies; platform/sram.py bounds them
# far inside int64) are C long longs, so book() reads and writes them without a conversion (docs/performance.md,
# "Session 22"); the others hold Python objects, as in the pure module. Python code reads and writes them
# all as before (an int comes back as an int).

from _tlmsim_compiled.engine_component cimport Component

cdef class Sram(Component):
    cpdef tuple book(self, cmd, long long a, long long n, source, destination, long long start_ps, long long layer)
    cdef public long long _elapsed_ps, _occupied_bytes, _read_latency, _write_latency
    cdef public long long capacity_bytes, line_bytes, nbanks, period_ps
    cdef public long long[::1] _bank_free, _port_free
    cdef public object area, config, energy, leakage_mw, read_pj, write_pj
