# Type declarations of tlmsim/engine/transaction.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of transaction.py with this file beside it; the pure-Python module ignores it).
# A transaction is an extension type there: its ``__init__`` sets C struct fields, not slots by name
# (docs/performance.md, "Session 32"). The fields hold the same Python objects as in the pure module.

cdef class Transaction:
    cdef public object id, cmd, data_class, address, nbytes, source, destination, layer, tile, t_first, t_last
    cdef public object cycles, issued_ps, done_ps, data, chain
