"""Session 30: the DRAM model's per-burst bookkeeping with fewer objects made and freed.

* ``_Fifo.drop(k)``: what ``k`` ``popleft`` calls leave (the same items, oldest first), an
  IndexError for more items than the queue holds;
* ``_has(f)``: ``bool(f)``, as a C test of the queue's fields in the compiled build;
* ``_Req.run(..., pool)``: the requests of a run taken from ``pool`` (last first) before new ones
  are made, every field set again;
* ``Dram._pool``: the requests a run served (row-hit batches, column commands) are handed back and
  the next transaction's bursts are those objects again; completion times and the command log are
  those of the same stream on a fresh model (nothing stale leaks from a reused request).

Each value below is worked out by hand from the definitions (no run of the code to get them).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import simpy

import tlmsim.hw.dram as dram_mod
from tests.hw.dram_stream import run_stream
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig


def _fifo(items):
    f = dram_mod._Fifo()
    f.extend(list(items))
    return f


# ---------------------------------------------------------------------------------- _Fifo.drop
@pytest.mark.parametrize("k", [0, 1, 3, 5])
def test_drop_leaves_what_as_many_poplefts_leave(k):
    a, b = _fifo(range(5)), _fifo(range(5))
    a.drop(k)
    for _ in range(k):
        b.popleft()
    assert list(a) == list(b) == list(range(k, 5))
    assert len(a) == 5 - k and bool(a) == (k < 5)


def test_drop_of_everything_starts_the_list_over():
    f = _fifo("abc")
    f.popleft()
    f.drop(2)  # head 1 + 2 = 3 = len: empty, items cleared, head 0
    assert f.items == [] and f.head == 0 and not f
    f.append("d")  # usable again
    assert f.popleft() == "d"


def test_drop_past_the_consumed_half_compacts_and_keeps_the_order():
    # 100 items, 70 dropped: head 70 >= 64 and 2 * 70 >= 100: the 70 consumed go, the head is 0
    f = _fifo(range(100))
    f.drop(70)
    assert f.head == 0 and f.items == list(range(70, 100)) and f.first() == 70
    # 100 items, 40 dropped: head 40 < 64: nothing moves
    g = _fifo(range(100))
    g.drop(40)
    assert g.head == 40 and len(g.items) == 100 and g.first() == 40 and len(g) == 60
    # 200 items, 90 dropped: head 90 >= 64 but 2 * 90 < 200: nothing moves
    h = _fifo(range(200))
    h.drop(90)
    assert h.head == 90 and len(h.items) == 200 and h.at(0) == 90 and len(h) == 110


def test_drop_of_more_than_it_holds_raises_and_changes_nothing():
    f = _fifo(range(3))
    f.popleft()
    with pytest.raises(IndexError):
        f.drop(3)  # 2 left
    assert list(f) == [1, 2] and f.head == 1
    with pytest.raises(IndexError):
        f.drop(-1)
    assert list(f) == [1, 2]


# ---------------------------------------------------------------------------------- _has
def _pure_dram():
    """tlmsim/hw/dram.py as pure Python under another name (it keeps its own functions: the compiled
    build's ``_has`` is an inline C function, not a module attribute)."""
    import tlmsim

    spec = importlib.util.spec_from_file_location("tlmsim_hw_dram_pure_s30", Path(tlmsim.__file__).parent / "hw" / "dram.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_has_is_the_queues_truth_value():
    pure = _pure_dram()
    f = pure._Fifo()
    assert pure._has(f) is False
    f.append(7)
    assert pure._has(f) is True
    f.append(8)
    f.popleft()
    assert pure._has(f)  # one left (head 1 of 2)
    f.popleft()
    assert not pure._has(f) and f.items == [] and f.head == 0
    f.extend([1, 2])
    f.drop(1)
    assert pure._has(f) and bool(f)
    f.drop(1)
    assert not pure._has(f)


# ---------------------------------------------------------------------------------- _Req.run with a pool
def _tx():
    return dram_mod._Txn(None, None, 4, 0, 0)


def test_run_takes_the_pools_requests_last_first_and_sets_every_field():
    old_tx, tx = _tx(), _tx()
    a = dram_mod._Req(1, 9, 9, 9, 9, True, old_tx, 999)
    b = dram_mod._Req(2, 8, 8, 8, 8, True, old_tx, 998)
    a.queued = b.queued = 55
    pool = [a, b]
    run = dram_mod._Req.run(20, 3, 1, 6, 12, False, tx, 400, 3, pool)
    assert pool == []
    assert run[0] is b and run[1] is a and run[2] is not a and run[2] is not b  # b popped first, the third is new
    assert [(r.seq, r.gb, r.lb, r.row, r.col, bool(r.write), r.txn is tx, r.q, r.queued) for r in run] == [
        (20, 3, 1, 6, 12, False, True, 400, 0),
        (21, 3, 1, 6, 13, False, True, 401, 0),
        (22, 3, 1, 6, 14, False, True, 402, 0),
    ]


def test_run_without_a_pool_or_with_an_empty_one_makes_new_requests():
    tx = _tx()
    for pool in (None, []):
        run = dram_mod._Req.run(5, 0, 0, 1, 2, True, tx, 10, 2, pool)
        assert [(r.seq, r.col, r.q, bool(r.write)) for r in run] == [(5, 2, 10, True), (6, 3, 11, True)]
    spare = dram_mod._Req(0, 0, 0, 0, 0, False, tx, 0)
    pool = [spare]
    assert dram_mod._Req.run(1, 0, 0, 0, 0, False, tx, 0, 0, pool) == [] and pool == [spare]  # k = 0 takes none


# ---------------------------------------------------------------------------------- the model's pool
def _ddr4(**kw) -> DramConfig:
    return DramConfig.model_validate(dict(preset="DDR4-3200", **kw))


def _read(dram, rec, env, address, nbytes):
    txn = rec.new_transaction(Cmd.READ, DataClass.NONE, address, nbytes, "t", "dram", now_ps=env.now)
    return dram.submit(txn)


def test_served_requests_come_back_and_the_next_transaction_reuses_them():
    """One read of 4 KiB in one row of DDR4-3200 (64-B bursts: 64 bursts, one run): all 64 requests
    are served and handed back; the next read of 2 KiB (32 bursts) is made of 32 of them (the pool
    then holds 32), and once it is served the pool holds 64 again."""
    env, rec = simpy.Environment(), Recorder()
    dram = Dram(name="d", env=env, recorder=rec, config=_ddr4())
    assert dram._pool == []
    ev = _read(dram, rec, env, 0, 4096)
    env.run(ev)
    first = list(dram._pool)
    assert len(first) == 64 and len({id(r) for r in first}) == 64
    ev = _read(dram, rec, env, 1 << 20, 2048)
    chan = dram._ch[0]
    offered = list(chan.offers) + [r for q in chan.rqb for r in q] + [r for q in chan.bq for r in q]
    assert len(offered) == 32 and len(dram._pool) == 32
    assert {id(r) for r in offered} <= {id(r) for r in first}  # the same objects again
    assert sorted(r.col for r in offered) == list(range(32)) and {r.q for r in offered} == set(
        range((1 << 20) >> 6, ((1 << 20) >> 6) + 32))
    env.run(ev)
    assert len(dram._pool) == 64


def test_a_model_reusing_its_requests_gives_what_fresh_models_give():
    """Closed page (every row closed after its access) and requests 200 ns apart, all before the
    first refresh (tREFI = 7.8 us): each read meets an idle model, so on one model (reusing the
    requests of the reads before it) it ends when it ends alone on a fresh model (nothing to reuse)."""
    cfg = _ddr4(page_policy="closed")
    items = [(i * 200_000, False, (i % 3) * (1 << 16) + (i % 5) * 64 * 7, 64 * (1 + (i * 7) % 40)) for i in range(12)]
    together, dram, _ = run_stream(cfg, items, plain=False)
    # bursts 1 + 7 i mod 40: 1, 8, 15, 22, 29, 36, 3, 10, 17, 24, 31, 38, one read in flight at a time: each
    # takes what the pool holds and makes the rest (a one-burst read makes its own), so the pool ends
    # with as many as the largest read: 38
    assert len(dram._pool) == 38
    alone = [run_stream(cfg, [it], plain=False)[0][0][1] for it in items]
    assert [end for _, end in together] == alone


def test_drop_to_exactly_half_at_64_compacts():
    # 128 items, 64 dropped: head 64 >= 64 and 2 * 64 >= 128, both at their bounds: compacted
    f = _fifo(range(128))
    f.drop(64)
    assert f.head == 0 and f.items == list(range(64, 128))
    # 130 items, 64 dropped: 2 * 64 < 130: not compacted
    g = _fifo(range(130))
    g.drop(64)
    assert g.head == 64 and len(g.items) == 130


def test_drop_names_itself_in_its_error():
    with pytest.raises(IndexError, match=r"^_Fifo\.drop: fewer items than asked$"):
        _fifo([1]).drop(2)


def test_a_batch_that_fills_the_log_buffer_exactly_does_not_grow_it(monkeypatch):
    """_LOG_CHUNK 2: a buffer of 4 rows; one command and a batch of 3 RDs fill it exactly (1 + 3 = 4:
    no growth, the same array); a fifth row then doubles it (8)."""
    monkeypatch.setattr(dram_mod, "_LOG_CHUNK", 2)
    env, rec = simpy.Environment(), Recorder()
    dram = Dram(name="d", env=env, recorder=rec, config=_ddr4())
    buf = dram._logarr
    assert buf.shape == (4, 6)
    dram._log_cmd(5, 0, 3, dram_mod._ACT, 7, -1, False)
    served = [dram_mod._Req(0, 3, 3, 7, c, False, None, 0) for c in (10, 11, 12)]
    dram._log_rds(range(20, 32, 4), 0, served)
    assert dram._logarr is buf and dram._nlog == 4
    assert dram._log_rows().tolist() == [[5, 0, 3, 0, 7, -1], [20, 0, 3, 2, 7, 10], [24, 0, 3, 2, 7, 11],
                                         [28, 0, 3, 2, 7, 12]]
    dram._log_cmd(40, 0, 3, dram_mod._PRE, 7, -1, False)
    assert dram._logarr.shape == (8, 6) and dram._nlog == 5


def test_the_pool_holds_no_more_than_was_in_flight_at_once():
    """200 one-burst reads, one at a time (each served before the next arrives), then 50 of 3 bursts:
    each one-burst read takes the request the one before handed back, so the pool never holds more
    than one; the three-burst reads then take it and make two more: three at the end. (A request made
    outside the pool for one burst would have grown it by one a read: 200.)"""
    env, rec = simpy.Environment(), Recorder()
    dram = Dram(name="d", env=env, recorder=rec, config=_ddr4())
    sizes = []
    for i in range(200):
        env.run(_read(dram, rec, env, (i % 16) * 64, 64))
        sizes.append(len(dram._pool))
    assert sizes == [1] * 200
    for i in range(50):
        env.run(_read(dram, rec, env, 4096 + (i % 8) * 192, 192))
    assert len(dram._pool) == 3
