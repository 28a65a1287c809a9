# Type declarations of tlmsim/engine/plan.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of plan.py with this file beside it; the pure-Python module ignores it).
# A record (a move, a tile; the dataflows' step derives from it too) is an extension type there: a planner makes millions of them (their ``__init__``
# is C, not a dataclass's Python bytecode), and code typed with them reads their fields as C struct
# fields (docs/performance.md, "Session 32"). The fields hold the same Python objects as in the pure
# module (no conversion: an int stays the int it was given).

cdef class Record:
    pass

cdef class Move(Record):
    cdef public object data_class, nbytes, in_dram, dram_address, level_address, after, signals, level_span, level

cdef class Tile(Record):
    cdef public object index, t_first, t_last, compute_cycles, neuron_cycles, dense_ops, acc_ops
    cdef public object neuron_updates, pe_weight_loads, tag_bits, neuron, keeps_state, region
    cdef public list loads, stores
