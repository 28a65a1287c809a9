"""The DRAM timing checker after its session-12 rewrite (tlmsim/verify/dram_timing.py): the
places its mutation run (tag s12chk) showed no test reached, on hand-written logs with the
exact sentences expected and the exact boundary cycle accepted.

Timings of tests/verify/test_dram_timing_rules.py (its SPEC and log helpers): tCK 1 ns,
burst 4 cycles, AL 1, CL 7, CWL 5 (RL = AL + CL = 8, WL = AL + CWL = 6), tRCD 4, tRP 6,
tCCD_L 7, tRTRS 2. Each log is checked as a DataFrame and as integer rows (``check``), the
unsorted ones as DataFrames only (the model's integer rows come time-sorted).
"""

import pandas as pd

from tlmsim.platform.dram import DramConfig
from tlmsim.verify.dram_timing import DramCommandChecker, check_dram_commands, check_dram_records
from tests.verify.test_dram_timing_rules import ORG, SPEC, TIMING, C, check, msg, records

BUS = "the data bus (burst 4 cycles, tRTRS = 2 on a rank switch or read->write)"


def test_cycles_beyond_the_one_key_sort_are_ordered_by_time():
    # the per-bank order sorts by one key, cycle x 4 + priority, only while cycles stay below 2**60;
    # at 2**61 that key would overflow int64 (2**61 + 1 -> (2**63 + 7) mod 2**64, negative) and put
    # the RD before its ACT ("RD/WR to a closed bank"): the checker must use lexsort there
    b = 1 << 61
    assert check([C(b - 1, "ACT"), C(b + 1, "RD")]) == [msg(b + 1, "RD", "tRCD = 4", b - 1)]
    assert check([C(b - 1, "ACT"), C(b + 3, "RD")]) == []  # ACT + tRCD = b + 3: allowed
    # a power-down exit at that height too (its order key is cycle x 2 + [not a power event])
    assert check([C(b - 1, "PDE"), C(b + 2, "PDX"), C(b + 7, "ACT")]) == [
        msg(b + 7, "ACT", "tXP = 6 after a power-down exit", b + 2)]


def test_refresh_after_a_precharge_that_is_the_first_command_of_the_log():
    # the PRE is the refresh walk's step 0 (its rank's first ACT/PRE/REF row): PRE at 0 + tRP 6
    pre_first = "cycle 5: REF at channel 0 rank 0 breaks tRP = 6 after a PRE"
    assert check([C(0, "PRE"), C(5, "REF")]) == [pre_first]
    assert check([C(0, "PRE"), C(6, "REF")]) == []
    # the same in rank 1 with a rank-0 row before it: step 0 of the walk is then rank 0's ACT
    assert check([C(0, "ACT", ba=3), C(1, "PRE", ra=1), C(6, "REF", ra=1)]) == [
        "cycle 6: REF at channel 0 rank 1 breaks tRP = 6 after a PRE"]
    assert check([C(0, "ACT", ba=3), C(1, "PRE", ra=1), C(7, "REF", ra=1)]) == []


def test_the_streaming_context_keeps_every_row_of_its_window_for_the_data_bus():
    # rank 0 bank 0 reads at 10 (data 18..22) and 17 (data 25..29); rank 1 writes at 17 (WL 6: data
    # 23..27). In data order RD@10, WR@17, RD@17: the write needs 18 + 4 + tRTRS 2 = 24 (rank switch)
    # and the read after it 23 + 4 + 2 = 29; RD and WR share cycle 17 on the command bus.
    log = [C(0, "ACT"), C(1, "ACT", ra=1), C(10, "RD"), C(17, "RD"), C(17, "WR", ra=1)]
    want = [msg(17, "RD", BUS), msg(17, "WR", BUS, ra=1),
            msg(17, "RD", "one command per cycle on the channel's command bus")]
    assert check(log) == want
    # the chunk boundary cuts cycle 17: the write's data-order predecessor is RD@10, which is not
    # its bank's last RD (RD@17 is): only the window's rows (every row of the last `window`
    # cycles) carry it into the second chunk
    rec = records(log)
    chk = DramCommandChecker(SPEC)
    chk.feed(rec[:4])
    assert chk.finish() == []
    assert [int(c) for c in chk.ctx[:, 0]] == [0, 1, 10, 17]
    chk.feed(rec[4:])
    assert chk.finish() == want == check_dram_records(rec, SPEC, from_cycle=17)


def test_rows_at_one_cycle_keep_their_log_order_in_an_unsorted_log():
    # 17 rows, odd ones at cycle 0 and even ones at cycle 5 (not time-sorted): numpy's default
    # (unstable) argsort would put row 7 before row 5 here; the checker sorts stably, so of the two
    # ACTs of rank 0 at cycle 0 the later row (7) is the one that breaks tRRD after the earlier
    rows = []
    for i in range(17):
        cycle = 0 if i % 2 else 5
        if i in (5, 7):
            rows.append(dict(cycle=cycle, channel=0, rank=0, bankgroup=i // 7, bank=0, command="ACT", row=0))
        else:  # precharges of a closed bank of the other channel: no rule applies to them
            rows.append(dict(cycle=cycle, channel=1, rank=0, bankgroup=0, bank=0, command="PRE", row=0))
    assert check_dram_commands(pd.DataFrame(rows), SPEC) == [
        msg(0, "ACT", "tRRD_S/L = 2/3", bg=1),
        msg(0, "ACT", "one command per cycle on the channel's command bus")]


def test_rows_of_one_bank_at_one_cycle_keep_their_log_order_in_an_unsorted_log():
    # 17 unsorted rows: two ACTs to bank 0 at cycle 0 (rows 7: row 0, and 15: row 1), a RD of row 1
    # at cycle 5 (row 4), precharges of the other channel elsewhere. The per-bank order (cycle x 4 +
    # priority, stable) keeps row 7 before row 15, so row 1 is the open row the RD reads: only the
    # second ACT breaks a rule (an open bank, tRC from cycle 0), no "row that is not open" (numpy's
    # unstable argsort would put row 15 first here and leave row 0 open)
    cycles = [0, 0, 0, 0, 5, 5, 5, 0, 0, 5, 0, 5, 5, 0, 5, 0, 0]
    rows = [dict(cycle=c, channel=1, rank=0, bankgroup=0, bank=0, command="PRE", row=0) for c in cycles]
    rows[7] = dict(cycle=0, channel=0, rank=0, bankgroup=0, bank=0, command="ACT", row=0)
    rows[15] = dict(cycle=0, channel=0, rank=0, bankgroup=0, bank=0, command="ACT", row=1)
    rows[4] = dict(cycle=5, channel=0, rank=0, bankgroup=0, bank=0, command="RD", row=1)
    assert check_dram_commands(pd.DataFrame(rows), SPEC) == [
        msg(0, "ACT", "ACT to an open bank", 0), msg(0, "ACT", "tRC = 17", 0), msg(0, "ACT", "tRRD_S/L = 2/3"),
        msg(0, "ACT", "one command per cycle on the channel's command bus")]


def test_refresh_finds_the_open_bank_among_65536_banks():
    # the largest organisation the platform schema allows in ranks: 64 channels x 16 ranks x 16 bank
    # groups x 4 banks = 65536 banks (global bank id = (channel x 16 + rank) x 64 + group x 4 + bank).
    # The refresh rule finds each bank's latest ACT/PRE by a binary search over (bank, walk step)
    # keys, so the rows must be sorted by bank id in increasing order also when the ids span 2**15
    # or more (no 16-bit sort key then)
    org = dict(ORG, channels=64, ranks=16, bankgroups=16, banks_per_group=4)
    big = DramConfig.model_validate({"preset": "DDR4-3200", "org": org, "timing": TIMING}).resolve()
    assert (big.channels * big.ranks * big.banks_per_rank, big.tRP) == (65536, 6)
    for other, ref_ch, open_ in (
        ((63, 15, 15, 3), 0, (0, 0, 0, 0)),  # ids 0 and 65535: a span of 65535
        ((0, 0, 0, 0), 32, (32, 0, 0, 0)),  # ids 0 and 32768: a span of exactly 2**15
        ((15, 15, 15, 0), 16, (16, 0, 1, 2)),  # ids 16380 and 16390: the second id + the lowest >= 2**15
    ):
        ch, ra, bg, ba = other
        ach, ara, abg, aba = open_
        log = [C(0, "ACT", ch=ch, ra=ra, bg=bg, ba=ba), C(1, "ACT", ch=ach, ra=ara, bg=abg, ba=aba),
               C(10, "REF", ch=ref_ch)]
        assert check(log, spec=big) == [f"cycle 10: REF at channel {ref_ch} rank 0 with a bank still open"]
        # closed 11 cycles after its ACT (tRAS 11), the REF at PRE + tRP = 18 is allowed
        log = log[:2] + [C(12, "PRE", ch=ach, ra=ara, bg=abg, ba=aba), C(18, "REF", ch=ref_ch)]
        assert check(log, spec=big) == []


def test_a_log_of_one_row():
    # the rules look up "the previous command" of a row's group: none here (-1), never a wrapped index
    assert check([C(0, "RD")]) == [msg(0, "RD", "RD/WR to a closed bank")]
    assert check([C(0, "WR", ra=1)]) == [msg(0, "WR", "RD/WR to a closed bank", ra=1)]
    assert check([C(0, "ACT")]) == check([C(0, "PRE")]) == check([C(0, "REF")]) == []


def test_power_violations_after_from_cycle_name_their_own_event():
    # PDE at 0 with an ACT at 1 inside it (before from_cycle 10: context), SRE at 20 with an ACT at 21
    # inside it: the reported ACT is measured from the SRE, not from the PDE of the dropped one
    log = [C(0, "PDE"), C(1, "ACT"), C(20, "SRE"), C(21, "ACT", ba=1)]
    inside = "no command while the rank is powered down or in self-refresh"
    assert check(log) == [msg(1, "ACT", inside, 0), msg(21, "ACT", inside, 20, ba=1)]
    assert check(log, from_cycle=10) == [msg(21, "ACT", inside, 20, ba=1)]


def test_the_streaming_context_keeps_each_banks_last_act_among_131072_banks():
    # 64 channels x 16 ranks x 16 groups x 8 banks: global bank ids 0..131071 span more than 2**16,
    # so the context's last ACT per bank is found by a sort by bank, not by a table. Bank 0 opens
    # row 2 at cycle 0; rank 1023 (channel 63, rank 15) activates five banks of group 15, the last
    # at `far`, ten windows later; a read of row 2 two windows on still finds the row open
    org = dict(ORG, channels=64, ranks=16, bankgroups=16, banks_per_group=8)
    big = DramConfig.model_validate({"preset": "DDR4-3200", "org": org, "timing": TIMING}).resolve()
    chk = DramCommandChecker(big)
    far = 10 * chk.window
    last = dict(ch=63, ra=15, bg=15)
    first = [C(0, "ACT", row=2)] + [C(1 + 3 * b, "ACT", ba=b, **last) for b in range(4)] + [C(far, "ACT", ba=7, **last)]
    rec = records(first, big)
    assert int(rec[-1, 2]) == 131071
    chk.feed(rec)
    chk.feed(records([C(2 * far, "RD", row=2)], big))
    assert chk.finish() == check(first + [C(2 * far, "RD", row=2)], spec=big) == []
    # and a read of another row is caught, measured from that ACT at cycle 0
    chk = DramCommandChecker(big)
    chk.feed(rec)
    chk.feed(records([C(2 * far, "RD", row=3)], big))
    assert chk.finish() == [msg(2 * far, "RD", "RD/WR to a row that is not open", 0)]


def test_a_read_one_cycle_before_a_precharge_listed_after_it():
    # per bank the order is cycle x 4 + priority (PRE 0, REF 1, ACT 2, RD/WR 3): the RD at 11 (key 47)
    # stays before the PRE at 12 (key 48) although the log lists the PRE first, so the PRE breaks
    # AL + tRTP = 1 + 5 (from the RD at 11) and the RD finds its row open
    rows = [dict(cycle=0, channel=0, rank=0, bankgroup=0, bank=0, command="ACT", row=0),
            dict(cycle=12, channel=0, rank=0, bankgroup=0, bank=0, command="PRE", row=0),
            dict(cycle=11, channel=0, rank=0, bankgroup=0, bank=0, command="RD", row=0)]
    assert check_dram_commands(pd.DataFrame(rows), SPEC) == [msg(12, "PRE", "AL + tRTP = 6", 11)]
    rows[1]["cycle"] = 17  # RD + AL + tRTP = 17: allowed
    assert check_dram_commands(pd.DataFrame(rows), SPEC) == []


def test_a_power_down_listed_after_its_command_at_cycle_2_to_the_58():
    # the power rules order a rank's rows by the integer key cycle x 2 + [not a power event]; at
    # 2**58 a float key would round away the 10 cycles between the PDE and the ACT (spacing 2**7 at
    # 2**59) and leave the rows in log order, the ACT first
    b = 1 << 58
    rows = [dict(cycle=b + 10, channel=0, rank=0, bankgroup=0, bank=0, command="ACT", row=0),
            dict(cycle=b, channel=0, rank=0, bankgroup=-1, bank=-1, command="PDE", row=-1)]
    assert check_dram_commands(pd.DataFrame(rows), SPEC) == [
        msg(b + 10, "ACT", "no command while the rank is powered down or in self-refresh", b)]


def test_power_states_left_in_time_with_from_cycle():
    # PDE at 0, PDX at 5 (>= 0 + tCKE 3), the ACT at PDX + tXP 6 = 11: no command inside
    # any interval; with from_cycle the empty interval lists must stay empty
    log = [C(0, "PDE"), C(5, "PDX"), C(11, "ACT")]
    assert check(log) == check(log, from_cycle=0) == check(log, from_cycle=6) == []
    assert check(log[:2] + [C(10, "ACT")], from_cycle=6) == [msg(10, "ACT", "tXP = 6 after a power-down exit", 5)]


def test_command_bus_names_the_first_row_of_each_cycle_in_an_unsorted_log():
    # 17 REFs of channel 0 (no other rule applies to them), cycles 0..2 in no order: the command-bus
    # rule names, per repeated cycle, its lowest row (rows 0: cycle 2 rank 1, 1: cycle 0 rank 0,
    # 7: cycle 1 rank 0), in row order; numpy's unstable argsort would name rows 1, 6, 11 here
    cycles = [2, 0, 0, 0, 0, 2, 2, 1, 0, 0, 0, 1, 1, 1, 0, 0, 2]
    ranks = [1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0]
    rows = [dict(cycle=c, channel=0, rank=r, bankgroup=-1, bank=-1, command="REF", row=-1)
            for c, r in zip(cycles, ranks)]
    bus = "one command per cycle on the channel's command bus"
    assert check_dram_commands(pd.DataFrame(rows), SPEC) == [
        msg(2, "REF", bus, ra=1, bg=-1, ba=-1), msg(0, "REF", bus, bg=-1, ba=-1), msg(1, "REF", bus, bg=-1, ba=-1)]


def test_the_data_bus_starts_from_the_lowest_row_of_the_earliest_burst_in_an_unsorted_log():
    # 17 RDs of channel 0 at cycles 0..2 in no order (data starts 8..10, bursts of 4 cycles): in data
    # order every burst but the first starts before the previous one ends, so every RD but the first
    # is reported. The first is the lowest row of the earliest start, row 8 (cycle 0); numpy's
    # unstable argsort would put row 13 (also cycle 0) first here
    cycles = [2, 2, 1, 1, 2, 2, 2, 1, 0, 2, 0, 1, 2, 0, 0, 2, 0]
    where = [dict(ra=(i // 8) % 2, bg=(i // 4) % 2, ba=i % 4) for i in range(17)]
    rows = [dict(cycle=c, channel=0, rank=w["ra"], bankgroup=w["bg"], bank=w["ba"], command="RD", row=0)
            for c, w in zip(cycles, where)]
    got = [m for m in check_dram_commands(pd.DataFrame(rows), SPEC, limit=200) if BUS in m]
    assert got == [msg(cycles[i], "RD", BUS, **where[i]) for i in range(17) if i != 8]
