"""The independent DRAM timing checker passes the model's logs and catches injected bugs."""

import numpy as np
import pytest
import simpy

from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig
from tlmsim.verify.dram_timing import check_dram_commands


def drive(config: DramConfig, seed: int = 1, per_requester: int = 200, think_ps: int = 20000):
    """Six requesters, mixed reads/writes, random and sequential, 64 B .. 4 KiB."""
    env, rec = simpy.Environment(), Recorder()
    dram = Dram(name="dram", env=env, recorder=rec, config=config, record_commands=True)
    rng = np.random.default_rng(seed)

    def requester(i):
        for k in range(per_requester):
            yield env.timeout(int(rng.integers(0, think_ps + 1)))
            cmd = Cmd.READ if rng.random() < 0.7 else Cmd.WRITE
            if rng.random() < 0.5:
                addr = int(rng.integers(0, 1 << 28)) // 64 * 64
            else:
                addr = (i << 24) + k * 4096
            n = int(rng.choice([64, 256, 4096]))
            t = rec.new_transaction(cmd, DataClass.NONE, addr, n, "x", "dram", now_ps=env.now)
            yield from dram.access(t)

    for i in range(6):
        env.process(requester(i))
    env.run()
    dram.finalize(env.now)
    return dram, env.now // dram.spec.tck_ps


@pytest.mark.parametrize("preset, policy", [("DDR4-3200", "open"), ("DDR4-3200", "closed"), ("HBM2", "open"),
                                            ("LPDDR4", "closed"), ("DDR4-3200-x16", "open")])
def test_the_model_obeys_every_rule(preset, policy):
    dram, end = drive(DramConfig(preset=preset, page_policy=policy))
    log = dram.command_log()
    assert (log["command"] == "REF").sum() > 0 and (log["command"] == "ACT").sum() > 100
    assert check_dram_commands(log, dram.spec, end_cycle=end) == []


@pytest.mark.parametrize(
    "bug, rule",
    [
        ({"tRCD": 10}, "tRCD = 22"),
        ({"tFAW": 8}, "tFAW = 34"),
        ({"tRP": 5}, "tRP = 22"),
        ({"tRAS": 30}, "tRAS = 52"),
        ({"tCCD_L": 4}, "tCCD_S/L = 4/8"),
        ({"tWTR_L": 1, "tWTR_S": 1}, "tWTR"),
        ({"tRFC": 100}, "during a refresh"),
    ],
)
def test_an_injected_timing_bug_is_caught(bug, rule):
    # the model runs with a wrong timing value; the checker judges it by the real part's
    buggy, end = drive(DramConfig(preset="DDR4-3200", timing=bug), per_requester=150, think_ps=2000)
    truth = DramConfig(preset="DDR4-3200").resolve()
    violations = check_dram_commands(buggy.command_log(), truth, end_cycle=end)
    assert any(rule in v for v in violations), violations[:3]


def test_a_corrupted_log_is_caught():
    dram, end = drive(DramConfig(preset="DDR4-3200"), per_requester=50)
    log = dram.command_log()
    spec = dram.spec
    # move the first read 3 cycles before the end of its predecessor's tRCD
    act = log.index[log["command"] == "ACT"][0]
    rd = log.index[(log["command"].isin(["RD", "WR"])) & (log["cycle"] > log.loc[act, "cycle"])
                   & (log["bank"] == log.loc[act, "bank"]) & (log["bankgroup"] == log.loc[act, "bankgroup"])
                   & (log["rank"] == log.loc[act, "rank"]) & (log["channel"] == log.loc[act, "channel"])][0]
    bad = log.copy()
    bad.loc[rd, "cycle"] = log.loc[act, "cycle"] + spec.tRCD - 3
    assert any(f"tRCD = {spec.tRCD}" in v for v in check_dram_commands(bad, spec))
    # a read to a row that is not open
    bad = log.copy()
    bad.loc[rd, "row"] = log.loc[rd, "row"] + 1
    assert any("not open" in v for v in check_dram_commands(bad, spec))
    # two commands in one cycle on a channel
    bad = log.copy()
    acts = log.index[log["command"] == "ACT"]
    bad.loc[acts[1], "cycle"] = log.loc[acts[0], "cycle"]
    assert check_dram_commands(bad, spec)


# -- the streaming checker on integer rows --------------------------------------------------------
from tlmsim.verify.dram_timing import DramCommandChecker, check_dram_records  # noqa: E402

BUGS = [{"tRCD": 10}, {"tFAW": 8}, {"tRP": 5}, {"tRAS": 30}, {"tCCD_L": 4}, {"tWTR_L": 1, "tWTR_S": 1},
        {"tRFC": 100}, {}]


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: ",".join(b) or "none")
def test_integer_rows_and_chunks_give_the_frame_checkers_verdicts(bug):
    buggy, end = drive(DramConfig(preset="DDR4-3200", timing=bug), per_requester=120, think_ps=2000)
    truth = DramConfig(preset="DDR4-3200").resolve()
    rec = buggy.command_records()
    whole = check_dram_commands(buggy.command_log(), truth, limit=10**6)
    # the same rows as integers: the same sentences in the same order
    assert check_dram_records(rec, truth, limit=10**6) == whole
    assert (whole == []) == (bug == {})
    # fed in time-sorted chunks as the model hands them on (cut anywhere, even inside a cycle):
    # every violation found once, none invented
    for size in (997, 5000):
        chk = DramCommandChecker(truth, limit=10**6)
        for i in range(0, len(rec), size):
            chk.feed(rec[i:i + size])
        assert sorted(chk.finish()) == sorted(whole)
