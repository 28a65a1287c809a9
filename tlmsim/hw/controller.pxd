# Type declarations of tlmsim/hw/controller.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of controller.py with this file beside it; the pure-Python module ignores it).
# Controller is an extension type there (its base, tlmsim/engine/component.pxd, says why): its methods
# read the attributes below as C struct fields. They hold Python objects, as in the pure module.

from _tlmsim_compiled.engine_component cimport Component
from _tlmsim_compiled.engine_recorder cimport Recorder
from _tlmsim_compiled.engine_plan cimport Move, Tile
from _tlmsim_compiled.engine_sim cimport Environment, Event, Timeout
from _tlmsim_compiled.hw_noc cimport Noc
from _tlmsim_compiled.hw_pe_array cimport PeArray
from _tlmsim_compiled.hw_sram cimport Sram

# the pipeline's event helpers (controller.py's _fresh, _succeed), called at C level; their events are the
# kernel's (tlmsim/engine/sim.pxd), whose fields they set as C struct fields
cpdef Event _fresh(env)
cpdef _succeed(Event ev, value=*)

# the pipeline's helpers as extension types: their methods read and write their fields as C struct fields
# (docs/performance.md, "Session 32")
cdef class _Half:
    cdef public object base, top, out_lo, drained

cdef class _Fill:
    cdef public object env, level, lo, hi, chunk, nblocks, _in, _next, _waiters, done
    cpdef until(self, need_hi)

cdef class _Queue:
    cdef public object env, items, _getter
    cpdef put(self, item)
    cpdef Event get(self)

cdef class _Lane:
    cdef public object group, gen

cdef class _Lanes:
    cdef public object env, lazy, done, _end_ps, _end_eid, ctrl
    cdef public long long running, unprocessed

cpdef long long _book_end(comp, long long kind, cmd, long long a, long long n, s, d, long long t, long long layer)

cdef class Controller(Component):
    cdef public object _block_plans, _buf_of, _bufs, _cores_of, _ends, _fanouts, _fills, _first_private
    cdef public object _hazards, _pairing, _prefetched, _routes, _schedules, _signals, _slot_free, _started
    cdef public object _tile_events, chunk, done, dram, eids_unscheduled, half_bytes, halves, l1, l1s, layers
    cdef public object level_insts, levels, ncores, noc, outstanding, pe, pes, pipeline_notes, plans, process
    cdef public object stages, staging_bytes, waiting
    # one DMA block's booked hops (the pipeline's hot path): a C call with C integers (docs/performance.md,
    # "Session 31")
    cpdef long long _book_block(self, long long t, tuple plan, long long n, long long ga, long long la,
                                long long offset, long long span, long long base, long long layer, list hops)
    # one booked hop of the compute step (an L1 read or write): a C call, its counts added in C (session 34)
    cpdef long long _book_hop(self, comp, long long kind, cmd, dc, long long a, long long n, s, d, long long t,
                              long long layer, list hops)
    # a move's DMA transfer and its tensor's position: C calls for the loader and the writer (session 35)
    cpdef transfer(self, src, dst, move, l1_addr, layer, tile, on_block=*, core=*, targets=*)
    cpdef position(self, Move move)
