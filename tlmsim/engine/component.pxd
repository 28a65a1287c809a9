# Type declarations of tlmsim/engine/component.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of component.py with this file beside it; the pure-Python module ignores
# it). Component is an extension type there, so that the DRAM model (tlmsim/hw/dram.pxd) can be one
# too: its methods then read their own attributes as C struct fields. ``__dict__`` keeps any other
# attribute possible (a subclass's without slots, a test's).

cdef class Component:
    cdef dict __dict__
    cdef object __weakref__
    cdef public object _busy_seen, env, name, recorder, stats
