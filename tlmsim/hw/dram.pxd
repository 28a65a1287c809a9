# Type declarations of tlmsim/hw/dram.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of dram.py with this file beside it; the pure-Python module ignores it).
# Every long long below holds a cycle count, a count of requests, or an index (bank, rank, row,
# column, burst address): all of them well inside int64 (docs/performance.md "Session 12: typed
# compiled DRAM build" gives the bounds). Attributes are public: Python code (tests, tools) reads
# and writes them as before.

cdef class _Txn:
    cdef public object txn, event, start_ps
    cdef public long long left, end, arrive, accepted, gap
    cdef public dict rows

cdef class _Req:
    cdef public long long seq, gb, lb, row, col, q, queued
    cdef public bint write
    cdef public _Txn txn

cdef class _Chan:
    cdef public object offers
    cdef public list rqb, wbb, bq
    cdef public long long nrq, nwb, drain, cyc, row_free, col_free, wake_at, nq, nreads, offer_writes, rr
    cdef public dict wpend, reads_left
    cdef public set active, idle_open
