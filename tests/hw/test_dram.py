"""The DRAM model: exact command timing on a tiny configuration, and bench sanity.

The tiny DRAM (``tiny()``): tCK 1 ns, 1 channel, 1 rank, 2 bank groups x 4 banks,
16 rows of 8 bursts (64 B each, BL8 on 64 bits: burst_cycles 4), mapping
rochrababgco; CL 5, CWL 4, tRCD 3, tRP 3, tRAS 8 (tRC 11), tRRD_S 2, tRRD_L 3,
tCCD_S 2, tCCD_L 4, tFAW 12, tWR 4, tWTR_S 2, tWTR_L 3, tRTP 2, tRTRS 1,
tREFI 1000, tRFC 20. So RL = 5, WL = 4, a read's data ends RD + 5 + 4.
"""

import numpy as np
import pytest
import simpy

from tlmsim.bench.dram import run_dram_bench
from tlmsim.engine.recorder import Recorder
from tlmsim.engine.transaction import Cmd, DataClass
from tlmsim.errors import ConfigError
from tlmsim.hw.dram import Dram
from tlmsim.platform.dram import DramConfig

NS = 1000
TIMING = dict(tck_ps=1000, CL=5, CWL=4, AL=0, tRCD=3, tRP=3, tRAS=8, tRRD_S=2, tRRD_L=3, tCCD_S=2, tCCD_L=4,
              tFAW=12, tWR=4, tWTR_S=2, tWTR_L=3, tRTP=2, tRTRS=1, tREFI=1000, tRFC=20)


def tiny(ranks: int = 1, **extra) -> DramConfig:
    org = dict(channels=1, ranks=ranks, bankgroups=2, banks_per_group=4, rows=16, columns=64,
               bus_width_bits=64, burst_length=8)
    return DramConfig.model_validate({"preset": "DDR4-3200", "org": org, "timing": TIMING, **extra})


def addr(row: int, bg: int = 0, ba: int = 0, col: int = 0, rank: int = 0, ranks: int = 1) -> int:
    """Byte address for rochrababgco with 8 columns, 2 bank groups, 4 banks."""
    q = row
    q = q * ranks + rank
    q = ((q * 4 + ba) * 2 + bg) * 8 + col
    return q * 64


class Rig:
    def __init__(self, config: DramConfig, record: bool = True) -> None:
        self.env, self.rec = simpy.Environment(), Recorder()
        self.dram = Dram(name="dram", env=self.env, recorder=self.rec, config=config, record_commands=record)
        self.done: dict[str, int] = {}

    def req(self, tag: str, address: int, *, at_ps: int = 0, cmd: Cmd = Cmd.READ, nbytes: int = 64, after=None):
        def proc():
            if after is not None:
                yield after
            if at_ps > self.env.now:
                yield self.env.timeout(at_ps - self.env.now)
            txn = self.rec.new_transaction(cmd, DataClass.NONE, address, nbytes, "t", "dram", now_ps=self.env.now)
            yield from self.dram.access(txn)
            self.done[tag] = self.env.now

        return self.env.process(proc())

    def run(self) -> None:
        self.env.run()

    def log(self):
        return self.dram.command_log()

    def cmds(self, command: str) -> list[int]:
        df = self.log()
        return df.loc[df["command"] == command, "cycle"].tolist()

    def stall(self, reason: str) -> int:
        return self.rec.stalls.total_ps("dram", reason)


def test_decode_follows_the_mapping():
    d = Rig(tiny()).dram
    assert d.decode(addr(row=5, bg=1, ba=3, col=6) + 17) == (0, 0, 1, 3, 5, 6)


def test_row_miss_then_row_hit():
    r = Rig(tiny())
    first = r.req("miss", addr(0, col=0))
    r.req("hit", addr(0, col=1), after=first)
    r.run()
    # miss: ACT at 0, RD at 0 + tRCD 3 = 3, data ends 3 + RL 5 + 4 = 12
    assert r.done["miss"] == 12 * NS
    # hit issued at 12: RD at 12 (tCCD_L 3 + 4 = 7 and bus 12 - 5 = 7 are past), ends 12 + 9 = 21
    assert r.done["hit"] == 21 * NS
    assert r.cmds("ACT") == [0] and r.cmds("RD") == [3, 12]
    c = r.dram.stats.c
    assert (c["act"], c["rd"], c["row_misses"], c["row_hits"], c["row_conflicts"]) == (1, 2, 1, 1, 0)
    assert r.dram.read_latency_ps == [12 * NS, 9 * NS]


def test_row_conflict_waits_for_tras_then_trp():
    r = Rig(tiny())
    r.req("a", addr(0))
    r.req("b", addr(1))  # same bank, another row, also at time 0
    r.run()
    # a: ACT 0, RD 3. b: PRE at max(ACT + tRAS = 8, RD + tRTP = 5) = 8, ACT at 8 + tRP 3 = 11
    # (= ACT + tRC 11), RD at 11 + 3 = 14, data ends 14 + 9 = 23
    assert r.cmds("PRE") == [8] and r.cmds("ACT") == [0, 11] and r.cmds("RD") == [3, 14]
    assert r.done["b"] == 23 * NS
    assert r.dram.stats.c["row_conflicts"] == 1
    # unloaded conflict latency tRP + tRCD + RL + 4 = 15; it took 23: 8 cycles waiting on the bank
    assert r.stall("bank") == 8 * NS


def test_five_activates_are_limited_by_trrd_and_tfaw():
    r = Rig(tiny())
    for i, (bg, ba) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1), (0, 2)]):
        r.req(f"r{i}", addr(0, bg=bg, ba=ba))
    r.run()
    # ACT1 0; ACT2 (other group) 0 + tRRD_S 2 = 2; ACT3 (group 0) max(2 + 2, 0 + tRRD_L 3) = 4;
    # ACT4 max(4 + 2, 2 + 3) = 6; ACT5 max(6 + 2, 4 + 3, ACT1 + tFAW 12) = 12
    acts = r.cmds("ACT")
    assert acts == [0, 2, 4, 6, 12]
    # RDs: 3; max(2 + 3, 3 + tCCD_S 2, bus 12 - 5) = 7; max(4 + 3, 3 + tCCD_L 4, 16 - 5) = 11; 15;
    # RD5 max(12 + 3, 24 - 5) = 19, data ends 19 + 9 = 28
    assert r.cmds("RD") == [3, 7, 11, 15, 19]
    assert r.done["r4"] == 28 * NS
    assert r.stall("activate_window") >= 12 * NS  # the 5th ACT waited 12 cycles for tFAW


def test_request_during_refresh_waits_for_trfc():
    r = Rig(tiny())
    first = r.req("open", addr(0))
    r.req("late", addr(0, col=1), at_ps=1005 * NS, after=first)
    r.run()
    # refresh due at tREFI = 1000: PRE of the open bank at 1000, REF at 1000 + tRP = 1003,
    # rank blocked until 1003 + tRFC 20 = 1023; the row is closed: ACT 1023, RD 1026, end 1035
    assert r.cmds("PRE") == [1000] and r.cmds("REF") == [1003]
    assert r.cmds("ACT") == [0, 1023] and r.done["late"] == 1035 * NS
    assert r.stall("refresh") == (1023 - 1005) * NS
    assert r.dram.stats.c["ref"] == 1 and r.dram.stats.c["row_misses"] == 2


def test_refresh_due_in_the_middle_of_a_row_hit_run():
    r = Rig(tiny())
    first = r.req("open", addr(0))
    r.req("run", addr(0, col=1), at_ps=990 * NS, nbytes=7 * 64, after=first)  # columns 1..7 of the open row
    r.run()
    # hits at 990, 994, 998 (tCCD_L 4 = burst 4); the next would be 1002, past the refresh due at
    # 1000: PRE at max(998 + tRTP 2, due) = 1000, REF at 1003, rank blocked until 1023; the rest of
    # the run reopens the row: ACT 1023, RD 1026, 1030, 1034, 1038, last data ends 1038 + 9 = 1047
    assert r.cmds("RD") == [3, 990, 994, 998, 1026, 1030, 1034, 1038]
    assert r.cmds("PRE") == [1000] and r.cmds("REF") == [1003] and r.cmds("ACT") == [0, 1023]
    assert r.done["run"] == 1047 * NS
    assert r.stall("refresh") == (1023 - 990) * NS  # the 4th burst's ACT waited for tRFC from 990
    c = r.dram.stats.c
    assert (c["row_hits"], c["row_misses"], c["rd"], c["bursts"]) == (6, 2, 8, 8)


def test_finalize_accounts_refreshes_up_to_the_end():
    r = Rig(tiny())
    r.req("a", addr(0))
    r.run()
    r.dram.finalize(3500 * NS)
    # due at 1000, 2000, 3000
    assert r.dram.stats.c["ref"] == 3
    assert r.cmds("REF") == [1003, 2000, 3000]  # the first after the PRE of the open bank at 1000


def test_write_to_read_turnaround_respects_twtr():
    r = Rig(tiny())
    r.req("w", addr(0, col=0), cmd=Cmd.WRITE)
    r.req("r", addr(0, col=1))
    r.run()
    # WR at 3, write data 3 + WL 4 = 7 .. 11; RD (same group) >= 11 + tWTR_L 3 = 14, ends 14 + 9 = 23
    assert r.cmds("WR") == [3] and r.cmds("RD") == [14]
    assert r.done["w"] == 11 * NS and r.done["r"] == 23 * NS


def test_read_to_write_turnaround_leaves_trtrs():
    r = Rig(tiny())
    r.req("r", addr(0, col=0))
    r.req("w", addr(0, col=1), cmd=Cmd.WRITE)
    r.run()
    # RD at 3, data 8 .. 12; WR data must start at 12 + tRTRS 1 = 13, so WR at 13 - WL 4 = 9
    # (tCCD_L: 3 + 4 = 7 is earlier); write data ends 9 + 4 + 4 = 17
    assert r.cmds("WR") == [9] and r.done["w"] == 17 * NS


def test_closed_page_precharges_after_every_access():
    r = Rig(tiny(page_policy="closed"))
    a = r.req("a", addr(0, col=0))
    b = r.req("b", addr(0, col=1), after=a)
    r.req("c", addr(0, col=2), after=b)
    r.run()
    # a: ACT 0, RD 3, end 12, auto-PRE at max(0 + 8, 3 + 2) = 8 (bank ready at max(8 + 3, 0 + 11) = 11)
    # b at 12: ACT 12, RD 15, end 24, PRE 20; c at 24: ACT 24, RD 27, end 36, PRE 32
    assert (r.done["a"], r.done["b"], r.done["c"]) == (12 * NS, 24 * NS, 36 * NS)
    assert r.cmds("PRE") == [8, 20, 32] and r.cmds("ACT") == [0, 12, 24]
    c = r.dram.stats.c
    assert (c["row_misses"], c["row_hits"], c["pre"]) == (3, 0, 3)


def test_closed_page_keeps_the_row_open_within_a_transaction():
    r = Rig(tiny(page_policy="closed"))
    r.req("a", addr(0), nbytes=256)  # 4 bursts of one row
    r.run()
    assert r.cmds("ACT") == [0] and len(r.cmds("PRE")) == 1
    # RDs 3, 7, 11, 15 (tCCD_L 4 = bus 4); last data ends 15 + 9 = 24
    assert r.cmds("RD") == [3, 7, 11, 15] and r.done["a"] == 24 * NS
    assert r.dram.stats.c["row_hits"] == 3


def test_queue_full_stall():
    r = Rig(tiny(queue_depth=2))
    for i in range(3):
        r.req(f"r{i}", addr(0, col=i))
    r.run()
    # r0: RD 3 (entry freed at 3); r1: RD max(3 + 4, 12 - 5) = 7; r2 finds both entries held and
    # enters at 3: RD max(7 + 4, 16 - 5) = 11, ends 20
    assert r.cmds("RD") == [3, 7, 11] and r.done["r2"] == 20 * NS
    assert r.stall("queue_full") == 3 * NS


def test_energy_of_one_activate_and_read():
    r = Rig(tiny())
    r.req("a", addr(0))
    r.run()
    r.dram.finalize(12 * NS)
    e = r.dram.energy_pj()
    k = 1.2 * 1.0 * 8  # VDD x tCK (ns) x 8 devices
    assert e["activate"] == pytest.approx((57 * 11 - 52 * 8 - 37 * 3) * k)  # (IDD0 tRC - IDD3N tRAS - IDD2N tRP)
    assert e["read"] == pytest.approx((168 - 52) * 4 * k)  # (IDD4R - IDD3N) x burst
    assert e["write"] == 0 and e["refresh"] == 0
    assert e["background"] == pytest.approx(52 * 12 * k)  # the row was open for all 12 cycles
    assert e["io"] == pytest.approx(8.0 * 64 * 8)


def test_command_log_needs_recording():
    r = Rig(tiny(), record=False)
    with pytest.raises(ConfigError, match="record_commands"):
        r.dram.command_log()


def _check_log(df, cfg: DramConfig) -> None:
    """Brute-force timing check of every command pair that matters."""
    s = cfg.resolve()
    rows = list(df.itertuples(index=False))
    on_bus = [x for x in rows if s.page_policy == "open" or x.command != "PRE"]  # auto-precharges take no slot
    assert len(set((x.channel, x.cycle) for x in on_bus)) == len(on_bus), "two commands in one cycle"
    banks: dict = {}
    for x in rows:
        if x.command == "REF":
            for (ch, ra, bg, ba), st in banks.items():
                if (ch, ra) == (x.channel, x.rank):
                    assert st["open"] is None, "REF with an open bank"
                    assert x.cycle >= st["pre"] + s.tRP
                    st["ref_end"] = x.cycle + s.tRFC
            continue
        st = banks.setdefault((x.channel, x.rank, x.bankgroup, x.bank),
                              dict(open=None, act=-10**9, pre=-10**9, col=-10**9, ref_end=-10**9, wr_end=-10**9,
                                   rd=-10**9))
        if x.command == "ACT":
            assert st["open"] is None
            assert x.cycle >= st["pre"] + s.tRP and x.cycle >= st["act"] + s.tRC and x.cycle >= st["ref_end"]
            st.update(open=x.row, act=x.cycle)
        elif x.command == "PRE":
            assert st["open"] is not None
            assert x.cycle >= st["act"] + s.tRAS and x.cycle >= st["rd"] + s.tRTP
            assert x.cycle >= st["wr_end"] + s.tWR
            st.update(open=None, pre=x.cycle)
        else:
            assert st["open"] == x.row, "column command to a row that is not open"
            assert x.cycle >= st["act"] + s.tRCD
            if x.command == "RD":
                st["rd"] = x.cycle
            else:
                st["wr_end"] = x.cycle + s.WL + s.burst_cycles
    acts = df[df.command == "ACT"]
    for (_ch, _ra), g in acts.groupby(["channel", "rank"]):
        t, bgs = g.cycle.to_numpy(), g.bankgroup.to_numpy()
        for i in range(1, len(t)):
            assert t[i] - t[i - 1] >= (s.tRRD_L if bgs[i] == bgs[i - 1] else s.tRRD_S)
        for i in range(4, len(t)):
            assert t[i] - t[i - 4] >= s.tFAW
    cols = df[df.command.isin(["RD", "WR"])]
    for (_ch, _ra), g in cols.groupby(["channel", "rank"]):
        t, bgs = g.cycle.to_numpy(), g.bankgroup.to_numpy()
        for i in range(1, len(t)):
            assert t[i] - t[i - 1] >= (s.tCCD_L if bgs[i] == bgs[i - 1] else s.tCCD_S)
    # data bus: bursts do not overlap; rank switches and read->write leave tRTRS
    start = np.where(cols.command == "RD", cols.cycle + s.RL, cols.cycle + s.WL)
    order = np.argsort(start, kind="stable")
    st_, rk, wr = start[order], cols["rank"].to_numpy()[order], (cols.command == "WR").to_numpy()[order]
    for i in range(1, len(st_)):
        gap = s.tRTRS if (rk[i] != rk[i - 1] or (wr[i] and not wr[i - 1])) else 0
        assert st_[i] >= st_[i - 1] + s.burst_cycles + gap


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_random_stream_respects_every_timing_constraint(policy):
    cfg = tiny(ranks=2, page_policy=policy, queue_depth=8)
    r = Rig(cfg)
    rng = np.random.default_rng(7)
    n, cap = 400, cfg.resolve().capacity_bytes
    addrs = (rng.integers(0, cap // 64, n) * 64).tolist()
    writes = (rng.random(n) < 0.3).tolist()
    sizes = rng.choice([64, 64, 64, 256], n).tolist()
    nxt = iter(range(n))

    def worker():
        for i in nxt:
            yield r.env.timeout(int(rng.integers(0, 30)) * NS)
            txn = r.rec.new_transaction(Cmd.WRITE if writes[i] else Cmd.READ, DataClass.NONE,
                                        min(addrs[i], cap - sizes[i]), sizes[i], "t", "dram", now_ps=r.env.now)
            yield from r.dram.access(txn)

    for _ in range(6):
        r.env.process(worker())
    r.run()
    r.dram.finalize(r.env.now)
    df = r.log()
    assert r.dram.stats.c["ref"] > 0 and (df.command == "REF").sum() == r.dram.stats.c["ref"]
    _check_log(df, cfg)


def test_bench_sequential_and_random():
    seq = run_dram_bench(preset="DDR4-3200", pattern="seq", requests=4000, seed=1).iloc[0]
    peak = seq.peak_gb_per_s
    # the preset's mapping (rochrababgco) keeps a stream in one bank group: tCCD_L 8 cycles per
    # 4-cycle burst caps it at half of the peak
    assert 0.45 * peak < seq.bandwidth_gb_per_s <= 0.5 * peak and seq.row_hit_rate > 0.95
    # with bank groups interleaved below the column bits the stream runs at tCCD_S = burst: near peak
    bg = run_dram_bench(preset="DDR4-3200", pattern="seq", requests=4000, seed=1,
                        overrides={"address_mapping": "rochrabacobg"}).iloc[0]
    assert 0.8 * peak < bg.bandwidth_gb_per_s < peak and bg.row_hit_rate > 0.95
    rnd = run_dram_bench(preset="DDR4-3200", pattern="random", requests=4000, seed=1).iloc[0]
    assert rnd.bandwidth_gb_per_s < 0.8 * seq.bandwidth_gb_per_s and rnd.row_hit_rate < 0.1
    # every random read is a row conflict (tRP + tRCD + CL + burst = 22 + 22 + 22 + 4 = 70 tCK of
    # 0.63 ns = 44.1 ns on an idle device); 4000 at once queue: the median waits well beyond that
    # and the tail beyond the median
    assert rnd.read_latency_p50_ns > 2 * 70 * 0.63 and rnd.read_latency_p99_ns > 1.5 * rnd.read_latency_p50_ns


def test_bench_light_load_reads_take_the_idle_row_conflict_latency():
    # one random read every 100 DRAM cycles finds the device idle: the typical read is a row
    # conflict, PRE + tRP + tRCD + CL + burst = 22 + 22 + 22 + 4 = 70 tCK x 0.63 ns = 44.1 ns
    light = run_dram_bench(preset="DDR4-3200", pattern="light", requests=400, seed=1).iloc[0]
    assert light.read_latency_p50_ns == pytest.approx(70 * 0.63, abs=1e-9)


def test_bench_rejects_a_bad_override_naming_the_key():
    with pytest.raises(ConfigError, match="page_policy"):
        run_dram_bench(preset="DDR4-3200", pattern="seq", requests=10, seed=1, overrides={"page_policy": "x"})
    with pytest.raises(ConfigError, match="timing.tRCD"):
        run_dram_bench(preset="DDR4-3200", pattern="seq", requests=10, seed=1, overrides={"timing.tRCD": -1})


# -- equivalence with the reference scheduler ------------------------------------------------
# The scheduler has fast paths (runs of row hits, hoisted lookups); they must give exactly the
# commands, end times, statistics and stalls of the plain burst-by-burst scheduler. The golden
# fingerprints below were computed with that plain implementation (tlmsim/hw/dram.py before the
# fast paths) by ``_stream_fingerprint`` on the same streams.

EQUIV_SIZES = (64, 64, 128, 256, 512, 1024, 2048, 4096, 8192)


def _equiv_config(name: str) -> DramConfig:
    if name.startswith("tiny"):
        return tiny(ranks=2, page_policy="closed" if name.endswith("closed") else "open", queue_depth=8)
    preset, policy, *rest = name.split("/")
    data = {"preset": preset, "page_policy": policy}
    if rest:
        data.update(address_mapping=rest[0], queue_depth=8)
    return DramConfig.model_validate(data)


def _stream_fingerprint(
    dram_cls, config: DramConfig, seed: int, *, gap_cycles: int, workers: int = 6, per_worker: int = 250,
    record: bool = True,
) -> dict:
    """Run a random mixed stream (reads and writes of 64 B .. 8 KiB, sequential runs and random
    addresses, some unaligned, think times of 0 .. ``gap_cycles``) from ``workers`` closed-loop requesters
    through ``dram_cls``; sha256 digests of the command log, the end time of every transaction,
    and the statistics, stalls, latencies and energy (no log digest unless ``record``)."""
    import hashlib

    s = config.resolve()
    env, rec = simpy.Environment(), Recorder()
    dram = dram_cls(name="dram", env=env, recorder=rec, config=config, record_commands=record)
    rng = np.random.default_rng(seed)
    span = min(s.capacity_bytes, 1 << 30)
    streams = []
    for _w in range(workers):
        ptr = int(rng.integers(0, span // 2 // 64)) * 64
        items = []
        for _ in range(per_worker):
            size = int(rng.choice(EQUIV_SIZES))
            if rng.random() < 0.5:
                a, ptr = ptr, (ptr + size) % (span - 8192)
            else:
                a = int(rng.integers(0, (span - 8192) // 64)) * 64
            if rng.random() < 0.1:
                a += int(rng.integers(1, 64))
            items.append((int(rng.integers(0, gap_cycles + 1)) * s.tck_ps, rng.random() < 0.35, a, size))
        streams.append(items)
    ends: list[tuple[int, int, int]] = []

    def worker(items):
        for gap, write, a, size in items:
            yield env.timeout(gap)
            txn = rec.new_transaction(Cmd.WRITE if write else Cmd.READ, DataClass.NONE, a, size, "t", "dram",
                                      now_ps=env.now, layer=size % 3)
            yield from dram.access(txn)
            ends.append((txn.id, txn.issued_ps, env.now))

    for items in streams:
        env.process(worker(items))
    env.run()
    dram.finalize(env.now)

    def h(x) -> str:
        return hashlib.sha256(repr(x).encode()).hexdigest()[:16]

    log = dram.command_log() if record else None
    summary = (
        sorted(dram.stats.c.items()),
        sorted(rec.stalls.entries.items()),
        dram.read_latency_ps,
        sorted((k, round(v, 3)) for k, v in dram.energy_pj().items()),
    )
    return {
        "log": hashlib.sha256(log.to_csv(index=False).encode()).hexdigest()[:16] if record else None,
        "ends": h(ends),
        "summary": h(summary),
        "commands": len(log) if record else None,
        "refreshes": int(dram.stats.c["ref"]),
    }


#: (case, seed, max think time in cycles) -> fingerprint from the plain implementation
EQUIV_GOLDEN = {
    ('DDR4-3200/open', 11, 400): {'log': 'a42f2c0d4f453765', 'ends': '656a471ad5030ced', 'summary': 'c234af6450c94e70', 'commands': 43802, 'refreshes': 57},
    ('DDR4-3200/open', 12, 0): {'log': 'd8c8d4a5cbf8e95c', 'ends': '085bd4990712f00d', 'summary': '6b7b5e9008384f16', 'commands': 48214, 'refreshes': 62},
    ('DDR4-3200/closed', 11, 400): {'log': '97d2a909bb92f754', 'ends': '76d44c077d38cbc9', 'summary': 'a287026f55da7df1', 'commands': 44848, 'refreshes': 57},
    ('DDR4-3200/closed', 12, 0): {'log': 'f5e46241398edc6a', 'ends': 'c43cae4700f7899c', 'summary': '86e9fed6ebb88c24', 'commands': 49060, 'refreshes': 62},
    ('HBM2/open', 11, 400): {'log': '70c1b445ff03edbc', 'ends': 'c6dbb75edcc32638', 'summary': '52f916bed14c66ef', 'commands': 45510, 'refreshes': 136},
    ('HBM2/open', 12, 0): {'log': '19b87d35a8ea0a40', 'ends': '9c461fc121a07556', 'summary': '1688762e5d607530', 'commands': 49884, 'refreshes': 48},
    ('HBM2/closed', 11, 400): {'log': 'a91c65f0846cec71', 'ends': 'f7f1a25641d858a3', 'summary': '6c541ee7e79d14c3', 'commands': 46775, 'refreshes': 136},
    ('HBM2/closed', 12, 0): {'log': '0b41194991bbcd98', 'ends': '33d3ebfd4dca531a', 'summary': 'e1141d0df42fb4de', 'commands': 51088, 'refreshes': 48},
    ('DDR4-3200/open/rochrabacobg', 11, 400): {'log': '8ac9d2a334d40470', 'ends': '9d49389a5dfd7048', 'summary': 'cccd3181a54861e2', 'commands': 49361, 'refreshes': 55},
    ('DDR4-3200/open/rochrabacobg', 12, 0): {'log': '9853ec176c80df5f', 'ends': 'ff41a38cf3f368a8', 'summary': '5afd7edc82981506', 'commands': 54083, 'refreshes': 61},
    ('HBM2/closed/rorabgbacoch', 11, 400): {'log': '09f0c2c46a8e827c', 'ends': '6a3390e99801a167', 'summary': '5a3d263544932ad7', 'commands': 59363, 'refreshes': 128},
    ('HBM2/closed/rorabgbacoch', 12, 0): {'log': 'a2f1fff8a6208c8e', 'ends': 'b0ee5123066d7f91', 'summary': '801694b3bbd9b4cc', 'commands': 63666, 'refreshes': 48},
    ('tiny/open', 11, 400): {'log': '340722ed751d19bd', 'ends': 'b15446be2b5cf930', 'summary': '454df3bb42565acc', 'commands': 53944, 'refreshes': 363},
    ('tiny/open', 12, 0): {'log': '64f0a21891c5a025', 'ends': 'b5e9d211cdb7355e', 'summary': '3edb8e59568e0ab1', 'commands': 59020, 'refreshes': 382},
    ('tiny/closed', 11, 400): {'log': 'd962fc6a5842bd90', 'ends': '655608798fc89bed', 'summary': 'b54093eec0891e52', 'commands': 54619, 'refreshes': 358},
    ('tiny/closed', 12, 0): {'log': 'b72cd09d5e0a1d9d', 'ends': 'b6d81049f4996334', 'summary': 'ab3f863a7f6db205', 'commands': 59918, 'refreshes': 380},
}


@pytest.mark.parametrize("case,seed,gap", list(EQUIV_GOLDEN))
def test_mixed_stream_matches_the_reference_scheduler(case, seed, gap):
    fp = _stream_fingerprint(Dram, _equiv_config(case), seed, gap_cycles=gap)
    assert fp["refreshes"] > 0
    assert fp == EQUIV_GOLDEN[(case, seed, gap)]


@pytest.mark.parametrize("case", ["DDR4-3200/closed", "HBM2/open", "tiny/open"])
def test_mixed_stream_without_the_command_log_matches_the_reference_scheduler(case):
    fp = _stream_fingerprint(Dram, _equiv_config(case), 12, gap_cycles=0, record=False)
    golden = EQUIV_GOLDEN[(case, 12, 0)]
    assert (fp["ends"], fp["summary"], fp["refreshes"]) == (golden["ends"], golden["summary"], golden["refreshes"])
