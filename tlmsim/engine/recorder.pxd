# Type declarations of tlmsim/engine/recorder.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of recorder.py with this file beside it; the pure-Python module ignores it).
# The recorder is an extension type there: its methods (``booked``, ``complete``, ... for every hop) read
# and write its attributes as C struct fields (docs/performance.md, "Session 21"). The two
# transaction counts are C long longs (docs/performance.md, "Session 22"), the others hold Python objects, as
# in the pure module; ``__dict__`` keeps any other attribute possible (a test's subclass). The stall ledger
# and the flows are typed (a StallLedger, tlmsim/engine/stats.pxd; dicts; the flow slots' int64 array as a
# typed view): a component's ``stall`` and the controller's block bookings reach them without a lookup by
# name, and a block's bytes go into its flow slots as C additions (docs/performance.md, "Session 31").

from _tlmsim_compiled.engine_stats cimport StallLedger
from _tlmsim_compiled.engine_transaction cimport Transaction

cdef class Recorder:
    cdef dict __dict__
    cdef object __weakref__
    cdef public long long completed, issued
    cdef public object _chains, components, layer_sinks, sinks, stats, trace
    cdef public list stall_sinks
    cdef public dict _flows, _flow_slot
    cdef public long long[::1] _flow_v
    cdef public StallLedger stalls
    # a transaction's completion (every DRAM, multicast and compute hop): a C call for the controller
    # (session 35)
    cpdef complete(self, Transaction txn, now_ps)
