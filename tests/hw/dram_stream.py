"""Shared by the DRAM tests: a stream of requests run through a fresh DRAM model.

tests/hw/test_dram.py (and test_dram_fast.py through it), test_dram_fast_by_hand.py and test_dram_diff.py run
the same streams through the fast and the plain scheduler and compare what each returns
of the model; this is the one runner they share.
"""

from __future__ import annotations

import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig


def run_stream(config: DramConfig, items, plain: bool, *, sink=None, finalize: bool = True,
               dram_cls=None, order: bool = False, env_cls=None) -> tuple[list[tuple[int, int]], Dram, Recorder]:
    """Run ``items`` ((arrival ps, write, address, bytes), ...), each request in its own
    process, through a DRAM model with its command log (``plain``: the scheduler without
    fast paths; ``sink``: its ``command_sink``) to the end, then finalize it (unless ``finalize``
    is false: the caller finalizes at an end of its choice; ``dram_cls``: the model class, e.g. another
    build's, tests/hw/test_dram_compiled.py; default: this module's ``Dram`` when called, which
    tests/hw/dram_spy.py may have replaced). Returns the (transaction id, completion ps)
    of every request, sorted (``order``: in the order the requests' processes resumed, which
    settles ties of one picosecond), the model and its recorder. ``env_cls``: the environment's
    class (default SimPy's; the kernel's, tlmsim.engine.sim.Environment, as a run has)."""
    env, rec = (env_cls or simpy.Environment)(), Recorder()
    dram = (dram_cls or Dram)(name="dram", env=env, recorder=rec, config=config, record_commands=True, plain=plain,
                    command_sink=sink)
    ends = []

    def one(at, write, address, nbytes):
        yield env.timeout(at)
        txn = rec.new_transaction(Cmd.WRITE if write else Cmd.READ, DataClass.NONE, address, nbytes, "t", "dram",
                                  now_ps=env.now)
        yield from dram.access(txn)
        ends.append((txn.id, env.now))

    for it in items:
        env.process(one(*it))
    env.run()
    if finalize:
        dram.finalize(env.now)
    return (ends if order else sorted(ends)), dram, rec
