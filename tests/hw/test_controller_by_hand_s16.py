"""The controller run by hand, session 16 (mutRun, tag s16runCtl): ``Controller.transfer`` since session 15's
speedRun runs a one-block move straight in its lane; a move of several blocks with one lane
(``outstanding`` 1) must still run inline, without a group of lanes and its join.

The rig and its conventions are tests/hw/controller_rig.py's: fixed-latency memories (10 ns per hop, no
contention), every time computed by hand from the rules of the module docstring of tlmsim/hw/controller.py.
"""

from __future__ import annotations

from tests.hw.controller_rig import NS, W, build, glb


def test_a_transfer_of_two_blocks_on_one_lane_returns_in_the_event_that_ends_its_last_block():
    # 128 B from the GLB to L1 in blocks of 64 with one lane (outstanding 1): block 0 GLB read [0,10], NoC
    # [10,20], L1 write [20,30], waited for with a timeout made at 0; block 1 then GLB [30,40], NoC [40,50],
    # L1 [50,60], its timeout made at 30. A process whose 1 ns timeout is made at 59 ns is scheduled after
    # that timeout, so at 60 the transfer's caller runs first. (A group of lanes would end the transfer with
    # its join, an event scheduled at 60 when the lane returns: after the bystander's.)
    env, _rec, ctrl, sink, _ = build([], chunk=64, outstanding=1)
    env.run(until=ctrl.done)  # no plans: done at 0
    log = []

    def mover():
        yield from ctrl.transfer(1, 2, glb(W, 128, 512), 128, 0, 0)
        log.append((env.now // NS, "transfer"))

    def bystander():
        yield env.timeout(59 * NS)
        yield env.timeout(1 * NS)
        log.append((env.now // NS, "bystander"))

    env.process(mover())
    env.process(bystander())
    env.run()
    assert log == [(60, "transfer"), (60, "bystander")]
    # the L1 writes at the L1 address 128 + each block's offset (0, 64)
    assert sink.of("l1") == [("write", "weights", 128, 64, 0, 0, 20, 30), ("write", "weights", 192, 64, 0, 0, 50, 60)]
    assert ctrl.stats.c["dma_blocks"] == 2
