# Type declarations of tlmsim/hw/dram.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of dram.py with this file beside it; the pure-Python module ignores it).
# Every long long below holds a cycle count, a count of requests, or an index (bank, rank, row,
# column, burst address): all of them well inside int64 (docs/performance.md "Session 12: typed
# compiled DRAM build" gives the bounds). Attributes are public: Python code (tests, tools) reads
# and writes them as before.

from _tlmsim_compiled.engine_component cimport Component
from _tlmsim_compiled.engine_sim cimport Environment, Timeout

# The resolved spec as the model holds it (Dram.spec): its integer fields C long longs, the rest (the
# names, the address mapping, the currents and voltages) Python objects as in the spec.
# (global bank, row) as one int key of _Txn.rows: gb << _ROW_KEY | row, shifted in C
cdef long long _ROW_KEY
cdef inline long long _row_key(long long gb, long long row)

cdef class _Spec:
    cdef public long long tck_ps, channels, ranks, bankgroups, banks_per_group, rows, columns, bus_width_bits
    cdef public long long device_width_bits, devices_per_rank, burst_length, CL, CWL, AL, tRCD, tRP, tRAS
    cdef public long long tRRD_S, tRRD_L, tCCD_S, tCCD_L, tFAW, tWR, tWTR_S, tWTR_L, tRTP, tRTRS, tREFI, tRFC
    cdef public long long tCKE, tCKESR, tXP, tXS, page_timeout_cycles, read_queue_depth, write_queue_depth
    cdef public long long command_queue_depth, write_high_watermark, write_low_watermark, row_hit_cap
    cdef public long long starvation_cycles, powerdown_timeout_cycles, self_refresh_timeout_cycles, tRC, RL
    cdef public long long WL, burst_cycles, request_bytes, columns_per_row, row_bytes, banks_per_rank
    cdef public long long capacity_bytes
    cdef public bint powerdown
    cdef public object preset, protocol, source, address_mapping, page_policy, VDD, IDD0, IDD2N, IDD3N, IDD4R
    cdef public object IDD4W, IDD5AB, IDD2P, IDD3P, IDD6, io_energy_pj_per_bit, peak_bandwidth_gb_per_s, _of

cdef class _Txn:
    cdef public object txn, event, start_ps
    cdef public long long left, end, arrive, accepted, gap
    cdef public dict rows

cdef class _Req:
    cdef public long long seq, gb, lb, row, col, q, queued, rd
    cdef public bint write
    cdef public _Txn txn
    cdef public object key

cdef class _Fifo:
    cdef public list items
    cdef public Py_ssize_t head
    cpdef append(self, x)
    cpdef extend(self, xs)
    cpdef popleft(self)
    cpdef drop(self, Py_ssize_t k)
    cpdef first(self)
    cpdef at(self, Py_ssize_t i)
    cpdef list snapshot(self)
    cpdef clear(self)

cdef inline bint _has(_Fifo f)

cdef class _Chan:
    cdef public _Fifo offers
    cdef public list rqb, wbb, bq
    cdef public long long nrq, nwb, drain, cyc, row_free, col_free, wake_at, nq, nreads, offer_writes, rr
    cdef public dict wpend, reads_left
    cdef public set active, idle_open

# The model itself: an extension type deriving from the compiled Component (tlmsim/engine/component.pxd),
# so that its methods read these attributes as C struct fields. The integer scalars (banks per channel,
# tCK, run steps, the request sequence number, the last cycle) are C long longs and the flags C bints, read
# and written without a conversion (docs/performance.md, "Session 22"); the rest hold the same Python
# objects as in the pure module (the lists and dicts typed as such: indexing them needs no lookup of the type).
# The scheduler's helpers below are cpdef: the model calls them at C level, with the arguments its
# @cython.locals comments type (a Python subclass that replaces one still overrides it, the
# tests' instruments in tests/hw/dram_spy.py). The methods that nest a function, a lambda or a
# generator expression (_start_refresh) stay def: Cython has no closures in cpdef methods
# (_hit_run and _solo_batch nest none since session 25, _schedule since session 34).
cdef class Dram(Component):
    cdef public list _acct, _ch, _closes, _faw, _kept, _packed, _pool
    # the per-bank, per-rank and per-channel integer state: int64 arrays (array("q")), read and written
    # as C long longs
    cdef public long long[::1] _act_t, _bus_end, _bus_rank, _bus_write, _col_ok, _conflict, _hits, _idle_since
    cdef public long long[::1] _last_act, _last_act_bg, _last_col, _last_col_bg, _last_use, _next_act, _next_pre
    cdef public long long[::1] _nopen, _open, _rank_of, _rbg_of, _ref_due, _ref_pending, _rank_q, _wake, _wr_end
    cdef public long long[::1] _wr_end_bg, _acct_t
    cdef public dict _fields
    cdef public tuple _dec
    cdef public object _logarr
    cdef public long long[:, ::1] _logbuf
    cdef public long long _bpc, _end_cycle, _nlog, _offset_bits, _rank_step, _run_step, _seq, _tck, _wake_slack
    cdef public bint _hbm, _plain, _runs, _skip_stale
    cdef public object _finalized, _policy, _sink, checker, config
    # the kernel's environment (tlmsim/engine/sim.pxd; None in SimPy's): the wake and the completions read
    # its clock and push on its queue as C fields; the channels' wake callbacks
    cdef public Environment _kenv
    cdef public list _wakers
    cdef public object peak_bandwidth_gb_per_s, read_latency_ps, record_commands, spec
    cpdef _done(self, _Txn tx, long long end)
    cpdef _finish(self, _Txn tx)
    cpdef _fill(self, long long ch, long long t, long long freed=*)
    cpdef _drain_done(self, chan, t)
    cpdef _enqueue(self, _Chan chan, _Req req, long long t)
    cpdef _accepted(self, _Req req, long long t)
    cpdef _acct_to(self, long long r, long long t)
    cpdef _rank_busy(self, long long r, long long t)
    cpdef _rank_activity(self, long long r, long long t)
    cpdef _advance(self, long long ch, long long until)
    cpdef _schedule(self, long long ch, long long nxt)
    cpdef _on_wake(self, long long ch, long long at)
    cpdef long long _hit_run(self, long long ch, long long t, long long limit)
    cpdef _solo_batch(self, long long ch, long long gb, list q, _Fifo rqb, long long last, long long step, long long limit)
    cpdef _pair_batch(self, long long ch, banks, stat, long long last, long long limit, long long pend)
    cpdef _batch_done(self, long long ch, long long gb, long long row, long long last, long long step, long long e,
                      list served, long long k, long long moved, long long direct)
    cpdef _done_n(self, dict reads_left, _Txn tx, long long n, long long end, long long gb, long long row)
    cpdef _run_ok(self, long long ch, long long r0, long long nra)
    cpdef long long _read_bound(self, long long gb)
    cpdef _pick(self, long long ch, long long t)
    cpdef _act_ready(self, long long gb, long long r, long long t)
    cpdef _col_ready(self, long long ch, long long gb, long long r, bint write, long long t)
    cpdef _auto_close(self, ch, gb)
    cpdef _issue(self, long long ch, tuple cand)
    cpdef _close(self, long long ch, long long gb, long long t, bint on_bus=*, bint conflict=*)
    cpdef _read_left(self, _Chan chan, _Txn tx, _Req req)
    cpdef _served_n(self, dict reads_left, _Txn tx, long long gb, long long row, long long n)
    cpdef _log_cmd(self, long long t, long long ch, long long gb, long long cmd, long long row, long long col,
                   bint flush=*)
    cpdef _log_room(self, long long k)
    cpdef _log_rds(self, times, long long ch, list served)

# a channel's wake callback: calls the model's _on_wake at C level
cdef class _Waker:
    cdef public Dram dram
    cdef public long long ch
