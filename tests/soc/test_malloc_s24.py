"""glibc malloc's thresholds for a simulating process (session 24, tlmsim/soc/run.py): the first
:func:`simulate` of a process sets M_TRIM_THRESHOLD to 128 MiB and M_MMAP_THRESHOLD to 32 MiB with
``mallopt`` and keeps them, so that the NumPy arrays the DRAM command log and its checker make and free
at every chunk are not mapped and zeroed again page by page. Other C libraries are left alone."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import tlmsim.soc.run as run_mod
from tlmsim.soc.run import MALLOC_THRESHOLDS, tune_malloc


def glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


needs_glibc = pytest.mark.skipif(not glibc(), reason="the C library is not glibc")


def test_the_thresholds():
    # mallopt's parameter numbers (glibc's malloc.h): M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3
    assert MALLOC_THRESHOLDS == ((-1, 134_217_728), (-3, 33_554_432))


class Fake:
    """A mallopt that records its calls and answers ``answers`` (1: taken, 0: refused) in turn."""

    def __init__(self, *answers: int) -> None:
        self.calls: list[tuple[int, int]] = []
        self.answers = list(answers)

    def __call__(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.answers.pop(0)


@pytest.fixture
def untried(monkeypatch):
    """A process whose malloc has not been tuned yet; ``fake`` is the mallopt it finds."""
    monkeypatch.setattr(run_mod, "_malloc_tuned", None)

    def use(fake):
        monkeypatch.setattr(run_mod, "_mallopt", lambda: fake)
    return use


def test_set_once_per_process(untried):
    fake = Fake(1, 1)
    untried(fake)
    assert tune_malloc() is True
    assert fake.calls == [(-1, 134_217_728), (-3, 33_554_432)]
    assert tune_malloc() is True and len(fake.calls) == 2  # later calls only report
    assert run_mod._malloc_tuned is True


@pytest.mark.parametrize("answers", [(0, 1), (1, 0), (0, 0)])
def test_a_refused_threshold_is_reported_and_not_tried_again(untried, answers):
    fake = Fake(*answers)
    untried(fake)
    assert tune_malloc() is False
    assert fake.calls == [(-1, 134_217_728), (-3, 33_554_432)]  # both asked, whatever the first answered
    assert tune_malloc() is False and len(fake.calls) == 2


def test_no_glibc_no_change(untried):
    untried(None)
    assert tune_malloc() is False
    assert run_mod._malloc_tuned is False


@pytest.mark.parametrize("answer", [None, "", "musl 1.2.4", ValueError("unrecognized"), OSError(22, "EINVAL")])
def test_mallopt_only_from_glibc(monkeypatch, answer):
    def confstr(name):
        assert name == "CS_GNU_LIBC_VERSION"
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(run_mod.os, "confstr", confstr)
    assert run_mod._mallopt() is None


@needs_glibc
def test_glibcs_mallopt_is_found():
    f = run_mod._mallopt()
    assert f is not None and f.__name__ == "mallopt"


def _child(code: str) -> str:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          check=True, timeout=600).stdout.split()


@needs_glibc
def test_the_first_simulate_tunes_the_process():
    out = _child("""
        import tlmsim.soc.run as r
        from tlmsim.platform import load_platform
        from tlmsim.workload import load_workload
        print(r._malloc_tuned)
        r.simulate(load_platform("ddr4-baseline"), load_workload("digits-snn", seed=0), seed=0)
        print(r._malloc_tuned, r.tune_malloc())
    """)
    assert out == ["None", "True", "True"]


@needs_glibc
@pytest.mark.parametrize("tuned", [False, True])
def test_freed_arrays_stay_in_the_process(tuned):
    # four 3 MiB arrays made and freed 50 times: by default glibc gives the 12 MiB back at every free and
    # maps it again (50 x 4 x 768 pages), with the thresholds it keeps them (measured: 152,054 page faults
    # against 3,058, numpy 2.4, glibc 2.36)
    out = _child(f"""
        import resource
        import numpy as np
        from tlmsim.soc.run import tune_malloc
        if {tuned}:
            assert tune_malloc()
        r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(50):
            a = [np.ones(3 << 17) for _ in range(4)]
            del a
        print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)
    """)
    faults = int(out[0])
    assert faults < 20_000 if tuned else faults > 100_000
