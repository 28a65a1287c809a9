"""The independent DRAM timing checker (tlmsim/verify/dram_timing.py) rule by rule, on
hand-written command logs: each rule at its exact limit (accepted) and one cycle short
(the exact sentence, naming the rule's value and the command it is measured from).

Timings all distinct (the configuration of tests/hw/test_dram_rules.py plus AL 1 and the
power-down times): tCK 1 ns, 2 channels, 2 ranks, 2 bank groups x 4 banks, burst 4 cycles,
AL 1, CL 7, CWL 5 (RL = 8, WL = 6), tRCD 4, tRP 6, tRAS 11 (tRC 17), tRRD_S 2, tRRD_L 3,
tCCD_S 5, tCCD_L 7, tFAW 16, tWR 9, tWTR_S 3, tWTR_L 8, tRTP 5, tRTRS 2, tREFI 5000,
tRFC 50, tCKE 3, tXP 6, tCKESR 9, tXS 12.

Each log is checked twice, as a DataFrame (``check_dram_commands``) and as the model's
integer rows (``check_dram_records``): both must give the same sentences.
"""

import dataclasses

import numpy as np
import pandas as pd

from tlmsim.platform.dram import DramConfig
from tlmsim.verify.dram_timing import CODES, DramCommandChecker, check_dram_commands, check_dram_records

TIMING = dict(tck_ps=1000, CL=7, CWL=5, AL=1, tRCD=4, tRP=6, tRAS=11, tRRD_S=2, tRRD_L=3, tCCD_S=5, tCCD_L=7,
              tFAW=16, tWR=9, tWTR_S=3, tWTR_L=8, tRTP=5, tRTRS=2, tREFI=5000, tRFC=50, tCKE=3, tXP=6,
              tCKESR=9, tXS=12)
ORG = dict(channels=2, ranks=2, bankgroups=2, banks_per_group=4, rows=16, columns=64, bus_width_bits=64,
           burst_length=8)
SPEC = DramConfig.model_validate({"preset": "DDR4-3200", "org": ORG, "timing": TIMING}).resolve()
RANK_CMDS = {"REF", "PDE", "PDX", "SRE", "SRX"}


def test_the_spec_is_the_one_the_rules_below_are_computed_for():
    s = SPEC
    assert (s.burst_cycles, s.AL, s.CL, s.CWL, s.tRC, s.banks_per_rank, s.protocol) == (4, 1, 7, 5, 17, 8, "DDR4")
    assert (s.tCKE, s.tXP, s.tCKESR, s.tXS, s.tREFI, s.tRFC) == (3, 6, 9, 12, 5000, 50)


def C(cycle, cmd, *, ch=0, ra=0, bg=0, ba=0, row=0):
    return (cycle, cmd, ch, ra, bg, ba, row)


def records(cmds, spec=SPEC) -> np.ndarray:
    """The model's int64 rows (cycle, channel, global bank, code, row, column), time-sorted."""
    rows = []
    for cycle, cmd, ch, ra, bg, ba, row in sorted(cmds, key=lambda c: c[0]):
        if cmd in RANK_CMDS:
            bg = ba = 0
        gb = (ch * spec.ranks + ra) * spec.banks_per_rank + bg * spec.banks_per_group + ba
        rows.append((cycle, ch, gb, CODES.index(cmd), row if cmd not in RANK_CMDS else -1, 0))
    return np.array(rows, dtype=np.int64).reshape(-1, 6)


def frame(cmds) -> pd.DataFrame:
    """The same log as ``Dram.command_log()``'s frame (rank commands name bank -1)."""
    out = []
    for cycle, cmd, ch, ra, bg, ba, row in sorted(cmds, key=lambda c: c[0]):
        rank_cmd = cmd in RANK_CMDS
        out.append(dict(cycle=cycle, channel=ch, rank=ra, bankgroup=-1 if rank_cmd else bg,
                        bank=-1 if rank_cmd else ba, command=cmd, row=-1 if rank_cmd else row))
    return pd.DataFrame(out, columns=["cycle", "channel", "rank", "bankgroup", "bank", "command", "row"])


def check(cmds, spec=SPEC, **kw) -> list[str]:
    a = check_dram_commands(frame(cmds), spec, **kw)
    b = check_dram_records(records(cmds, spec), spec, **kw)
    assert a == b
    return a


def msg(cycle, cmd, rule, prev=None, *, ch=0, ra=0, bg=0, ba=0):
    p = f" (previous command at cycle {prev})" if prev is not None else ""
    return f"cycle {cycle}: {cmd} at channel {ch} rank {ra} bankgroup {bg} bank {ba} breaks {rule}{p}"


def test_an_empty_log_has_no_violation():
    assert check_dram_commands(frame([]), SPEC) == []
    assert check_dram_records(np.zeros((0, 6), np.int64), SPEC) == []


# -- per bank ---------------------------------------------------------------------------------

def test_trcd_act_to_read():
    assert check([C(0, "ACT"), C(4, "RD")]) == []
    assert check([C(0, "ACT"), C(3, "RD")]) == [msg(3, "RD", "tRCD = 4", 0)]
    assert check([C(0, "ACT", bg=1, ba=3), C(3, "WR", bg=1, ba=3)]) == [msg(3, "WR", "tRCD = 4", 0, bg=1, ba=3)]


def test_tras_act_to_pre():
    assert check([C(0, "ACT"), C(11, "PRE")]) == []
    assert check([C(0, "ACT"), C(10, "PRE")]) == [msg(10, "PRE", "tRAS = 11", 0)]


def test_trp_and_trc_before_the_next_act():
    assert check([C(0, "ACT"), C(11, "PRE"), C(17, "ACT")]) == []
    # PRE late enough for tRC, the ACT 5 cycles after it: tRP only
    assert check([C(0, "ACT"), C(20, "PRE"), C(25, "ACT")]) == [msg(25, "ACT", "tRP = 6", 20)]
    # tRP met, tRC (17) not: the PRE broke tRAS
    assert check([C(0, "ACT"), C(10, "PRE"), C(16, "ACT")]) == [
        msg(10, "PRE", "tRAS = 11", 0), msg(16, "ACT", "tRC = 17", 0)]


def test_read_to_precharge_is_al_plus_trtp():
    # RD at 8, PRE >= 8 + AL 1 + tRTP 5 = 14 (tRAS met at 11)
    assert check([C(0, "ACT"), C(8, "RD"), C(14, "PRE")]) == []
    assert check([C(0, "ACT"), C(8, "RD"), C(13, "PRE")]) == [msg(13, "PRE", "AL + tRTP = 6", 8)]


def test_write_to_precharge_is_wl_plus_burst_plus_twr():
    # WR at 4, PRE >= 4 + WL 6 + burst 4 + tWR 9 = 23
    assert check([C(0, "ACT"), C(4, "WR"), C(23, "PRE")]) == []
    assert check([C(0, "ACT"), C(4, "WR"), C(22, "PRE")]) == [msg(22, "PRE", "WL + burst + tWR = 19", 4)]


def test_act_to_an_open_bank():
    assert check([C(0, "ACT"), C(20, "ACT")]) == [msg(20, "ACT", "ACT to an open bank", 0)]
    # another bank of the same group: no conflict (tRRD_L 3 met)
    assert check([C(0, "ACT"), C(3, "ACT", ba=1)]) == []


def test_column_commands_to_a_closed_bank_or_another_row():
    # never opened: no previous command named
    assert check([C(5, "RD", ba=2)]) == [msg(5, "RD", "RD/WR to a closed bank", ba=2)]
    assert check([C(0, "ACT"), C(11, "PRE"), C(20, "WR")]) == [msg(20, "WR", "RD/WR to a closed bank", 11)]
    assert check([C(0, "ACT", row=3), C(4, "RD", row=2)]) == [msg(4, "RD", "RD/WR to a row that is not open", 0)]
    assert check([C(0, "ACT", row=3), C(4, "RD", row=3)]) == []
    # reopened: the latest ACT's row counts
    assert check([C(0, "ACT", row=3), C(11, "PRE"), C(17, "ACT", row=5), C(21, "RD", row=5)]) == []
    assert check([C(0, "ACT", row=3), C(11, "PRE"), C(17, "ACT", row=5), C(21, "RD", row=3)]) == [
        msg(21, "RD", "RD/WR to a row that is not open", 17)]


def test_banks_are_told_apart_by_channel_rank_group_and_bank():
    # the same bank number in another group, rank or channel is another bank: not open
    for where in (dict(bg=1), dict(ra=1), dict(ch=1), dict(ba=1)):
        assert check([C(0, "ACT"), C(4, "RD", **where)]) == [msg(4, "RD", "RD/WR to a closed bank", **where)]


# -- per rank ---------------------------------------------------------------------------------

def test_trrd_long_within_a_bank_group_short_across():
    assert check([C(0, "ACT"), C(3, "ACT", ba=1)]) == []
    assert check([C(0, "ACT"), C(2, "ACT", ba=1)]) == [msg(2, "ACT", "tRRD_S/L = 2/3", ba=1)]
    assert check([C(0, "ACT"), C(2, "ACT", bg=1)]) == []
    assert check([C(0, "ACT"), C(1, "ACT", bg=1)]) == [msg(1, "ACT", "tRRD_S/L = 2/3", bg=1)]
    # another rank: no tRRD
    assert check([C(0, "ACT"), C(1, "ACT", ra=1)]) == []


FIVE = [(0, 0, 0), (2, 1, 0), (5, 0, 1), (7, 1, 1)]  # (cycle, bank group, bank): tRRD met


def test_tfaw_a_fifth_act_in_the_window():
    acts = [C(t, "ACT", bg=g, ba=b) for t, g, b in FIVE]
    assert check(acts) == []
    assert check(acts + [C(16, "ACT", ba=2)]) == []
    assert check(acts + [C(15, "ACT", ba=2)]) == [msg(15, "ACT", "tFAW = 16 (a fifth ACT in the window)", ba=2)]
    # the fifth in another rank is not counted with the rank's four
    assert check(acts + [C(15, "ACT", ra=1)]) == []
    # six ACTs: the window slides (ACT 16 is 14 after ACT 2: a fifth in its window too)
    six = acts + [C(15, "ACT", ba=2), C(17, "ACT", bg=1, ba=2)]
    assert check(six) == [msg(15, "ACT", "tFAW = 16 (a fifth ACT in the window)", ba=2),
                          msg(17, "ACT", "tFAW = 16 (a fifth ACT in the window)", bg=1, ba=2)]
    assert check(acts + [C(16, "ACT", ba=2), C(18, "ACT", bg=1, ba=2)]) == []


def test_tccd_long_within_a_bank_group_short_across():
    opened = [C(0, "ACT"), C(3, "ACT", ba=1), C(5, "ACT", bg=1)]
    assert check(opened + [C(7, "RD"), C(14, "RD", ba=1)]) == []
    assert check(opened + [C(7, "RD"), C(13, "RD", ba=1)]) == [msg(13, "RD", "tCCD_S/L = 5/7", ba=1)]
    assert check(opened + [C(7, "RD"), C(12, "RD", bg=1)]) == []
    assert check(opened + [C(7, "RD"), C(11, "RD", bg=1)]) == [msg(11, "RD", "tCCD_S/L = 5/7", bg=1)]
    # another rank: no tCCD (the data bus then needs the rank switch: RD at 7 ends data at 19,
    # + tRTRS 2: the other rank's RD at 13 starts its data at 21)
    assert check(opened + [C(9, "ACT", ra=1), C(13, "RD", ra=1), C(7, "RD")]) == []


def test_write_to_read_twtr_short_across_groups():
    # WR at 7: RD of the other group >= 7 + WL 6 + burst 4 + tWTR_S 3 = 20
    opened = [C(0, "ACT"), C(2, "ACT", bg=1)]
    assert check(opened + [C(7, "WR"), C(20, "RD", bg=1)]) == []
    assert check(opened + [C(7, "WR"), C(19, "RD", bg=1)]) == [
        msg(19, "RD", "WL + burst + tWTR_S = 13 after a write", 7, bg=1)]


def test_write_to_read_twtr_long_within_a_group():
    # WR at 7: RD of the same group >= 7 + 6 + 4 + tWTR_L 8 = 25
    opened = [C(0, "ACT"), C(3, "ACT", ba=1)]
    assert check(opened + [C(7, "WR"), C(25, "RD", ba=1)]) == []
    assert check(opened + [C(7, "WR"), C(24, "RD", ba=1)]) == [
        msg(24, "RD", "WL + burst + tWTR_L = 18 after a write", 7, ba=1)]
    # a write of another rank does not delay the read
    assert check(opened + [C(1, "ACT", ra=1), C(7, "WR", ra=1), C(14, "RD", ba=1)]) == []


# -- refresh -----------------------------------------------------------------------------------

def test_refresh_needs_every_bank_of_its_rank_closed():
    assert check([C(0, "ACT", ba=3), C(20, "REF")]) == ["cycle 20: REF at channel 0 rank 0 with a bank still open"]
    assert check([C(0, "ACT", ba=3), C(11, "PRE", ba=3), C(17, "REF")]) == []
    # a bank open in the other rank or channel does not matter
    assert check([C(0, "ACT", ra=1), C(20, "REF")]) == []
    assert check([C(0, "ACT", ch=1), C(20, "REF")]) == []
    assert check([C(0, "ACT", ra=1, ba=7 % 4, bg=1), C(20, "REF", ra=1)]) == [
        "cycle 20: REF at channel 0 rank 1 with a bank still open"]


def test_refresh_waits_trp_after_the_last_precharge():
    assert check([C(0, "ACT", ba=2), C(11, "PRE", ba=2), C(16, "REF")]) == [
        "cycle 16: REF at channel 0 rank 0 breaks tRP = 6 after a PRE"]
    # the latest PRE of the rank counts, not the first
    assert check([C(0, "ACT"), C(3, "ACT", ba=1), C(11, "PRE"), C(20, "PRE", ba=1), C(25, "REF")]) == [
        "cycle 25: REF at channel 0 rank 0 breaks tRP = 6 after a PRE"]


def test_an_act_during_a_refresh():
    assert check([C(0, "REF"), C(50, "ACT")]) == []
    assert check([C(0, "REF"), C(49, "ACT", ba=1)]) == [
        "cycle 49: ACT at channel 0 rank 0 during a refresh (tRFC = 50)"]
    assert check([C(0, "REF"), C(10, "ACT", ra=1)]) == []
    assert check([C(0, "REF", ra=1, ch=1), C(10, "ACT", ra=1, ch=1)]) == [
        "cycle 10: ACT at channel 1 rank 1 during a refresh (tRFC = 50)"]


def test_refresh_count_over_the_run():
    # end 15000 cycles: 15000 // tREFI - 1 = 2 refreshes needed per rank
    refs = [C(0, "REF"), C(5000, "REF")]
    assert check(refs, end_cycle=15000) == [
        "rank 1: 0 refreshes in 15000 cycles; tREFI = 5000 needs >= 2",
        "rank 2: 0 refreshes in 15000 cycles; tREFI = 5000 needs >= 2",
        "rank 3: 0 refreshes in 15000 cycles; tREFI = 5000 needs >= 2"]
    every = [C(t + ra, "REF", ch=ch, ra=ra) for ch in (0, 1) for ra in (0, 1) for t in (0, 5000)]
    assert check(every, end_cycle=15000) == []
    one = [C(ra, "REF", ch=ch, ra=ra) for ch in (0, 1) for ra in (0, 1)]
    assert check(one, end_cycle=14999) == []
    assert check(one, end_cycle=15000)[0] == "rank 0: 1 refreshes in 15000 cycles; tREFI = 5000 needs >= 2"
    assert check(one) == []  # no end given: not counted


# -- the channel's buses -------------------------------------------------------------------------

def test_the_data_bus_needs_trtrs_on_a_rank_switch():
    # RD at 4 in rank 0: data 12..16; the other rank's RD at 10 starts its data at 18 = 16 + tRTRS
    opened = [C(0, "ACT"), C(1, "ACT", ra=1)]
    assert check(opened + [C(4, "RD"), C(10, "RD", ra=1)]) == []
    assert check(opened + [C(4, "RD"), C(9, "RD", ra=1)]) == [
        msg(9, "RD", "the data bus (burst 4 cycles, tRTRS = 2 on a rank switch or read->write)", ra=1)]
    # another channel has its own bus
    assert check([C(0, "ACT"), C(1, "ACT", ch=1), C(4, "RD"), C(5, "RD", ch=1)]) == []


def test_the_data_bus_needs_trtrs_on_a_read_to_write_turnaround():
    # RD at 6: data 14..18; a WR of the other group at 14 starts its data at 14 + WL 6 = 20 = 18 + 2
    opened = [C(0, "ACT"), C(2, "ACT", bg=1)]
    assert check(opened + [C(6, "RD"), C(14, "WR", bg=1)]) == []
    assert check(opened + [C(6, "RD"), C(13, "WR", bg=1)]) == [
        msg(13, "WR", "the data bus (burst 4 cycles, tRTRS = 2 on a rank switch or read->write)", bg=1)]


def test_the_data_bus_back_to_back_in_one_rank():
    # two reads of one rank, other groups: data 14..18 then 19..23 (tCCD_S 5 spacing leaves a gap);
    # two writes 5 apart: no turnaround, no overlap
    opened = [C(0, "ACT"), C(2, "ACT", bg=1)]
    assert check(opened + [C(6, "WR"), C(11, "WR", bg=1)]) == []


def test_the_data_bus_overlap_with_a_short_burst_spacing():
    # tCCD_S shorter than the burst: the second read's data overlaps the first's
    spec = dataclasses.replace(SPEC, tCCD_S=3)
    opened = [C(0, "ACT"), C(2, "ACT", bg=1)]
    assert check(opened + [C(6, "RD"), C(10, "RD", bg=1)], spec) == []
    assert check(opened + [C(6, "RD"), C(9, "RD", bg=1)], spec) == [
        msg(9, "RD", "the data bus (burst 4 cycles, tRTRS = 2 on a rank switch or read->write)", bg=1)]


def test_one_command_per_cycle_on_a_channel():
    assert check([C(0, "ACT"), C(0, "ACT", ra=1)]) == [msg(0, "ACT", "one command per cycle on the channel's command bus")]
    assert check([C(0, "ACT"), C(0, "ACT", ch=1)]) == []
    # a precharge takes no slot
    assert check([C(0, "ACT"), C(11, "ACT", ra=1), C(11, "PRE")]) == []


def test_hbm_has_a_row_and_a_column_command_bus():
    hbm = dataclasses.replace(SPEC, protocol="HBM")
    both = [C(0, "ACT"), C(4, "RD"), C(4, "ACT", ra=1)]
    assert check(both, hbm) == []
    assert check(both, SPEC) == [msg(4, "RD", "one command per cycle on the channel's command bus")]
    two_rows = [C(0, "ACT"), C(0, "ACT", ra=1)]
    assert check(two_rows, hbm) == [msg(0, "ACT", "one command per cycle on the channel's command bus")]


# -- power-down and self-refresh ----------------------------------------------------------------

def pmsg(cycle, cmd, rule, prev, ra=0):
    return f"cycle {cycle}: {cmd} at channel 0 rank {ra} bankgroup -1 bank -1 breaks {rule} (previous command at cycle {prev})"


def test_power_down_residency_and_exit():
    assert check([C(0, "PDE"), C(3, "PDX"), C(9, "ACT")]) == []
    assert check([C(0, "PDE"), C(2, "PDX")]) == [pmsg(2, "PDX", "tCKE = 3 in power-down", 0)]
    assert check([C(0, "PDE"), C(3, "PDX"), C(8, "ACT", ba=1)]) == [
        msg(8, "ACT", "tXP = 6 after a power-down exit", 3, ba=1)]
    assert check([C(0, "PDE"), C(2, "ACT")]) == [
        msg(2, "ACT", "no command while the rank is powered down or in self-refresh", 0)]
    assert check([C(4, "PDX")]) == ["cycle 4: PDX at channel 0 rank 0 bankgroup -1 bank -1 breaks a power-down exit without an entry"]
    # the other rank is not powered down
    assert check([C(0, "PDE"), C(2, "ACT", ra=1)]) == []
    # a command long after the exit is free; one at the entry's cycle is outside the power-down
    assert check([C(0, "PDE"), C(3, "PDX"), C(100, "ACT")]) == []
    assert check([C(0, "ACT"), C(0, "PDE", ra=1)]) == []


def test_self_refresh_residency_and_exit():
    assert check([C(0, "SRE"), C(9, "SRX"), C(21, "ACT")]) == []
    assert check([C(0, "SRE"), C(8, "SRX")]) == [pmsg(8, "SRX", "tCKESR = 9 in self-refresh", 0)]
    assert check([C(0, "SRE"), C(9, "SRX"), C(20, "ACT")]) == [
        msg(20, "ACT", "tXS = 12 after a self-refresh exit", 9)]
    assert check([C(0, "SRE"), C(11, "ACT"), C(15, "RD")]) == [
        msg(11, "ACT", "no command while the rank is powered down or in self-refresh", 0),
        msg(15, "RD", "no command while the rank is powered down or in self-refresh", 0)]
    assert check([C(4, "SRX")]) == ["cycle 4: SRX at channel 0 rank 0 bankgroup -1 bank -1 breaks a self-refresh exit without an entry"]
    # an exit of the wrong kind
    assert check([C(0, "PDE"), C(5, "SRX")]) == [
        "cycle 5: SRX at channel 0 rank 0 bankgroup -1 bank -1 breaks a self-refresh exit without an entry (previous command at cycle 0)"]
    assert check([C(0, "SRE"), C(12, "PDX")]) == [
        "cycle 12: PDX at channel 0 rank 0 bankgroup -1 bank -1 breaks a power-down exit without an entry (previous command at cycle 0)"]


# -- limit, from_cycle and the streaming checker --------------------------------------------------

def test_limit_and_from_cycle():
    bad = [C(0, "ACT"), C(3, "RD"), C(20, "ACT", ba=1), C(23, "RD", ba=1), C(40, "ACT", ba=2), C(43, "RD", ba=2)]
    everything = check(bad)
    assert everything == [msg(3, "RD", "tRCD = 4", 0), msg(23, "RD", "tRCD = 4", 20, ba=1),
                          msg(43, "RD", "tRCD = 4", 40, ba=2)]
    assert check(bad, limit=2) == everything[:2]
    assert check(bad, from_cycle=23) == everything[1:]
    assert check(bad, from_cycle=24) == everything[2:]


def test_the_streaming_checker_carries_state_across_chunks():
    # a row opened long before the chunk, a read to it and to a closed bank after it; tFAW across the cut
    acts = [C(t, "ACT", bg=g, ba=b) for t, g, b in FIVE]
    log = acts + [C(100000, "RD"), C(100010, "RD", ba=2), C(100020, "ACT", ba=2)]
    rec = records(log)
    chk = DramCommandChecker(SPEC, limit=10)
    chk.feed(rec[:4])
    chk.feed(rec[4:4])  # an empty chunk changes nothing
    chk.feed(rec[4:])
    assert chk.rows == len(rec)
    assert chk.finish() == check(log) == [msg(100010, "RD", "RD/WR to a closed bank", ba=2)]
    # tFAW across a cut: four ACTs in the first chunk, the fifth too early in the second
    log = acts + [C(15, "ACT", ba=2)]
    chk = DramCommandChecker(SPEC)
    chk.feed(records(log)[:4])
    chk.feed(records(log)[4:])
    assert chk.finish() == [msg(15, "ACT", "tFAW = 16 (a fifth ACT in the window)", ba=2)]


def test_the_streaming_checker_keeps_the_last_commands_beyond_its_window():
    w = DramCommandChecker(SPEC).window
    assert w == 2 * max(17, 16, 50, 7 + 5 + 9 + 5 + 8 + 4 * 7, 12, 6 + 3, 9) + 64
    far = 10 * w
    # the first chunk ends with a command of the other channel at `far`: everything before it is out of the window
    filler = [C(far, "ACT", ch=1)]
    opened = [C(0, "ACT", row=2), C(4, "RD", row=2), C(12, "WR", row=2)]
    cases = [
        # (first chunk, second chunk, violations of the second)
        ([C(0, "ACT"), C(4, "WR")], [C(2 * far, "PRE"), C(2 * far + 6, "ACT"), C(2 * far + 10, "RD", row=1)],
         [msg(2 * far + 10, "RD", "RD/WR to a row that is not open", 2 * far + 6)]),
        # the open row survives a read and a write after its ACT, and four later ACTs of the rank
        (opened + [C(20, "ACT", bg=1), C(22, "ACT", ba=1), C(25, "ACT", bg=1, ba=1), C(27, "ACT", ba=2)],
         [C(2 * far, "RD", row=2)], []),
        (opened, [C(2 * far, "RD", row=3)], [msg(2 * far, "RD", "RD/WR to a row that is not open", 0)]),
        ([C(0, "ACT", ra=1)], [C(2 * far, "REF", ra=1)],
         ["cycle %d: REF at channel 0 rank 1 with a bank still open" % (2 * far)]),
        ([C(0, "PDE", ra=1)], [C(2 * far, "ACT", ra=1)],
         [msg(2 * far, "ACT", "no command while the rank is powered down or in self-refresh", 0, ra=1)]),
        ([C(0, "SRE", ra=1)], [C(2 * far, "SRX", ra=1), C(2 * far + 11, "ACT", ra=1)],
         [msg(2 * far + 11, "ACT", "tXS = 12 after a self-refresh exit", 2 * far, ra=1)]),
        ([C(0, "ACT", ba=1), C(11, "PRE", ba=1)], [C(2 * far, "RD", ba=1)],
         [msg(2 * far, "RD", "RD/WR to a closed bank", 11, ba=1)]),
    ]
    for first, second, want in cases:
        assert check(first + filler + second) == want, (first, second)
        chk = DramCommandChecker(SPEC)
        chk.feed(records(first + filler))
        chk.feed(records(second))
        assert chk.finish() == want, (first, second)


def test_the_streaming_checker_stops_at_its_limit():
    bad = [C(0, "ACT"), C(3, "RD"), C(20, "ACT", ba=1), C(23, "RD", ba=1), C(40, "ACT", ba=2), C(43, "RD", ba=2)]
    rec = records(bad)
    chk = DramCommandChecker(SPEC, limit=1)
    chk.feed(rec[:2])
    chk.feed(rec[2:4])
    assert chk.rows == 2  # the second chunk is not even read: the limit is reached
    assert chk.finish() == [msg(3, "RD", "tRCD = 4", 0)]
    chk = DramCommandChecker(SPEC, limit=2)
    for i in range(0, 6, 2):
        chk.feed(rec[i:i + 2])
    assert chk.finish() == [msg(3, "RD", "tRCD = 4", 0), msg(23, "RD", "tRCD = 4", 20, ba=1)]


def test_rank_commands_name_no_bank_in_either_form():
    # a REF sharing a cycle with another rank's ACT: the message names bankgroup -1 bank -1 whether the log is
    # a frame or the model's integer rows (where a REF carries global bank 0 of its rank)
    assert check([C(0, "REF"), C(0, "ACT", ra=1)]) == [
        "cycle 0: REF at channel 0 rank 0 bankgroup -1 bank -1 breaks one command per cycle on the channel's "
        "command bus"]
    # a power-down entry takes no command-bus slot
    assert check([C(0, "PDE"), C(0, "ACT", ra=1)]) == []


def test_at_most_twenty_violations_by_default():
    bad = [c for i in range(25) for c in (C(40 * i, "ACT", ba=i % 4, bg=i // 4 % 2, ra=i // 8 % 2, ch=i // 16),
                                          C(40 * i + 3, "RD", ba=i % 4, bg=i // 4 % 2, ra=i // 8 % 2, ch=i // 16))]
    assert len(check(bad, limit=100)) == 25
    assert len(check_dram_commands(frame(bad), SPEC)) == 20
    assert len(check_dram_records(records(bad), SPEC)) == 20


def test_refresh_at_the_cycle_of_a_precharge_or_an_act():
    # at one cycle a PRE comes before a REF, and a REF before an ACT, whatever the log's row order
    assert check([C(0, "ACT"), C(11, "REF"), C(11, "PRE")]) == [
        "cycle 11: REF at channel 0 rank 0 breaks tRP = 6 after a PRE"]
    assert check([C(0, "ACT", ra=1), C(40, "ACT", ba=1), C(40, "REF")]) == [
        "cycle 40: ACT at channel 0 rank 0 during a refresh (tRFC = 50)",
        msg(40, "ACT", "one command per cycle on the channel's command bus", ba=1)]


def test_a_bank_never_precharged_needs_no_trp_before_a_refresh():
    slow = dataclasses.replace(SPEC, tRP=200)
    assert check([C(10, "REF")], slow) == []
    assert check([C(0, "ACT"), C(11, "PRE"), C(210, "REF")], slow) == [
        "cycle 210: REF at channel 0 rank 0 breaks tRP = 200 after a PRE"]
    assert check([C(0, "ACT"), C(11, "PRE"), C(211, "REF")], slow) == []


def test_refresh_violations_before_from_cycle_are_context():
    log = [C(0, "ACT"), C(20, "REF"), C(100, "REF", ra=1), C(120, "ACT", ra=1)]
    assert check(log) == ["cycle 20: REF at channel 0 rank 0 with a bank still open",
                          "cycle 120: ACT at channel 0 rank 1 during a refresh (tRFC = 50)"]
    assert check(log, from_cycle=21) == ["cycle 120: ACT at channel 0 rank 1 during a refresh (tRFC = 50)"]


def test_a_row_naming_no_known_command_is_ignored():
    log = frame([C(0, "ACT"), C(5, "NOP"), C(6, "RD")])
    assert list(log["command"]) == ["ACT", "NOP", "RD"]
    assert check_dram_commands(log, SPEC) == []  # not taken for a PRE (tRAS) or any other command
    # nor for a command on the channel's command bus: a NOP at the ACT's cycle was reported as the
    # second command of that cycle, named "SRX" (mutchk, session 12)
    assert check_dram_commands(frame([C(0, "ACT"), C(0, "NOP"), C(6, "RD")]), SPEC) == []
    assert check_dram_commands(frame([C(0, "NOP"), C(0, "ACT"), C(6, "RD")]), SPEC) == []


def test_one_bank_at_one_cycle_in_any_row_order():
    # per bank, at one cycle: a PRE before a column command, an ACT before a column command
    assert check([C(0, "ACT"), C(11, "RD"), C(11, "PRE")]) == [msg(11, "RD", "RD/WR to a closed bank", 11)]
    assert check([C(0, "RD"), C(0, "ACT")]) == [
        msg(0, "RD", "tRCD = 4", 0), msg(0, "RD", "one command per cycle on the channel's command bus")]


def test_an_unsorted_log_is_judged_in_time_order():
    # the same commands, the PRE listed first: the bank is closed by the PRE at 20 whatever the row order
    rows = [dict(cycle=20, channel=0, rank=0, bankgroup=0, bank=0, command="PRE", row=0),
            dict(cycle=0, channel=0, rank=0, bankgroup=0, bank=0, command="ACT", row=0),
            dict(cycle=30, channel=0, rank=0, bankgroup=0, bank=0, command="RD", row=0)]
    assert check_dram_commands(pd.DataFrame(rows), SPEC) == [msg(30, "RD", "RD/WR to a closed bank", 20)]


def test_trrd_in_the_second_rank():
    assert check([C(0, "ACT"), C(10, "ACT", ra=1), C(11, "ACT", ra=1, ba=1)]) == [
        msg(11, "ACT", "tRRD_S/L = 2/3", ra=1, ba=1)]


def test_spacing_rules_measure_from_the_previous_command_not_from_cycle_0():
    # tRRD between ACTs at 100 and 102 (same group: 3 needed)
    assert check([C(100, "ACT"), C(102, "ACT", ba=1)]) == [msg(102, "ACT", "tRRD_S/L = 2/3", ba=1)]
    # tCCD against the previous column command (bg 1 at 12: tCCD_S 5), not the first one (bg 0 at 7: 7 apart)
    opened = [C(0, "ACT"), C(3, "ACT", ba=1), C(5, "ACT", bg=1)]
    assert check(opened + [C(7, "RD"), C(12, "RD", bg=1), C(14, "RD", ba=1)]) == [
        msg(14, "RD", "tCCD_S/L = 5/7", ba=1),
        msg(14, "RD", "the data bus (burst 4 cycles, tRTRS = 2 on a rank switch or read->write)", ba=1)]


def test_twtr_groups_are_per_channel_rank_and_bank_group():
    # a write in channel 0 (bank group 1) does not delay a read in channel 1 (bank group 0)
    assert check([C(0, "ACT", bg=1), C(1, "ACT", ch=1), C(7, "WR", bg=1), C(14, "RD", ch=1)]) == []


def test_twtr_after_the_first_row_of_the_log():
    assert check([C(0, "WR"), C(2, "ACT", bg=1), C(6, "RD", bg=1)]) == [
        msg(0, "WR", "RD/WR to a closed bank"), msg(6, "RD", "WL + burst + tWTR_S = 13 after a write", 0, bg=1)]


def test_command_bus_slots_by_channel_and_cycle():
    # self-refresh entry and exit take no command-bus slot, like power-down and precharge
    assert check([C(0, "SRE"), C(0, "ACT", ra=1), C(9, "SRX"), C(9, "ACT", ra=1, ba=1)]) == []
    # four channels, the latest command at cycle 1: (channel 2, cycle 0) and (channel 0, cycle 1) are two slots
    four = dataclasses.replace(SPEC, channels=4)
    assert check([C(0, "ACT", ch=2), C(1, "ACT")], four) == []
    # HBM: a row command two cycles after a column command is in another slot
    hbm = dataclasses.replace(SPEC, protocol="HBM")
    assert check([C(0, "ACT"), C(4, "RD"), C(6, "ACT", bg=1)], hbm) == []


def test_open_state_when_the_first_row_is_a_precharge_or_the_log_is_unsorted():
    # a PRE as the log's first row (index 0), then an ACT: the bank is open
    assert check([C(0, "PRE"), C(6, "ACT"), C(10, "RD")]) == []
    # an unsorted log whose first row is the ACT, after a PRE listed second: open
    rows = [dict(cycle=20, channel=0, rank=0, bankgroup=0, bank=0, command="ACT", row=0),
            dict(cycle=0, channel=0, rank=0, bankgroup=0, bank=0, command="PRE", row=0),
            dict(cycle=30, channel=0, rank=0, bankgroup=0, bank=0, command="RD", row=0)]
    assert check_dram_commands(pd.DataFrame(rows), SPEC) == []


def test_a_command_at_the_cycle_of_a_power_down_entry_is_inside_it():
    assert check([C(5, "ACT"), C(5, "PDE")]) == [
        msg(5, "ACT", "no command while the rank is powered down or in self-refresh", 5)]


def test_the_streaming_checker_keeps_twenty_violations_by_default():
    bad = [c for i in range(25) for c in (C(40 * i, "ACT", ba=i % 4, bg=i // 4 % 2, ra=i // 8 % 2, ch=i // 16),
                                          C(40 * i + 3, "RD", ba=i % 4, bg=i // 4 % 2, ra=i // 8 % 2, ch=i // 16))]
    chk = DramCommandChecker(SPEC)
    chk.feed(records(bad))
    assert len(chk.finish()) == 20
