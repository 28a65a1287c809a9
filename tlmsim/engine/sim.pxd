# Type declarations of tlmsim/engine/sim.py for its compiled build (Cython's "augmenting .pxd":
# setup.py compiles a copy of sim.py with this file beside it; the pure-Python module ignores it).
# The kernel's environment, event, timeout and process are extension types there: the run loop (tlmsim/soc/run.py), a
# process's resume step and the controller's pipeline (tlmsim/hw/controller.pxd cimports them) read
# and write an event's fields as C struct fields, not by name through its type and its instance
# dictionary as a simpy.Event's (docs/performance.md, "Session 32"). The fields hold the same Python
# objects as in the pure module; ``__dict__`` holds ``_defused`` (set only when a failure is defused,
# as SimPy's) and a subclass's own attributes.

cdef class Event:
    cdef dict __dict__
    cdef public object env, _value, _ok
    cdef public list callbacks

cdef class Timeout(Event):
    cdef public object _delay

cdef class Process(Event):
    cdef public object _generator, _target, _wake

cdef class Environment:
    cdef dict __dict__
    cdef public object _now, _eid, _active_proc
    cdef public list _queue
