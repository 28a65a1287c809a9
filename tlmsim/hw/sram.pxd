# Type declarations of tlmsim/hw/sram.py for its compiled build (Cython's "augmenting .pxd": setup.py
# compiles a copy of sram.py with this file beside it; the pure-Python module ignores it). Sram is an
# extension type there (its base, tlmsim/engine/component.pxd, says why): its methods read the attributes
# below as C struct fields. They hold Python objects, as in the pure module.

from _tlmsim_compiled.engine_component cimport Component

cdef class Sram(Component):
    cdef public object _elapsed_ps, _floor, _late, _occupied_bytes, _port_free, _read_latency, _write_latency
    cdef public object area, capacity_bytes, config, energy, leakage_mw, line_bytes, nbanks, period_ps, read_pj
    cdef public object write_pj
