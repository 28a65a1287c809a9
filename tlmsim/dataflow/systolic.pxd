# Type declarations of tlmsim/dataflow/systolic.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of systolic.py with this file beside it; the pure-Python module ignores it).
# A step is an extension type there: the planners make one per tile (its ``__init__`` is C, not a
# dataclass's Python bytecode) and ``_emit`` reads its fields as C struct fields (docs/performance.md,
# "Session 32"). The fields hold the same Python objects as in the pure module.

from _tlmsim_compiled.engine_plan cimport Record

cdef class Step(Record):
    cdef public object t0, t1, n0, nc, m0, mm, k0, k1, cycles, w_bytes, s_bytes, dense_ops, acc_ops
    cdef public object pe_weight_loads, tag_bits, last_k, spike_format

# the planner's moves (_emit), made by a C call
cpdef object _emit_move(dict sizes, dict res, dict glb, dc, nbytes, str tensor, offset, dram_base, stage, after=*, signals=*)
