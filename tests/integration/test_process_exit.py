"""The ``tlmsim`` process's own ending (issue 17, whole-process CPU): after a finished
``run`` it freezes nothing it still needs and skips the interpreter's teardown, yet
every output file and every printed line is complete; any other ending exits as usual;
a program or a test that calls ``main`` is left alone."""

import gc
import os
import subprocess
import sys

import pytest

from tlmsim import cli

#: the command as the console script runs it, with an exit handler that says whether the
#: interpreter's teardown ran (atexit handlers run in it, not after os._exit)
PROBE = ("import atexit, sys\n"
         "import tlmsim.cli as c\n"
         "atexit.register(print, 'teardown ran')\n"
         "sys.argv = ['tlmsim', *sys.argv[1:]]\n"
         "c.entry()\n")


def _entry(args, cwd):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-c", PROBE, *args], check=False, cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_a_finished_run_skips_the_teardown_and_loses_no_output(tmp_path):
    p = _entry(["run", "--out", "o", "--trace", "t.csv", "-q"], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    # stdout is a pipe here (block-buffered): its last line arrived, and the teardown did not run
    assert lines[-1].endswith(" files to o; trace t.csv") and "teardown ran" not in p.stdout
    # the same run through main() in this process: byte-identical files, trace included
    assert cli.main(["run", "--out", str(tmp_path / "m"), "--trace", str(tmp_path / "m.csv"), "-q"]) == 0
    names = sorted(f.name for f in (tmp_path / "m").iterdir())
    assert names == sorted(f.name for f in (tmp_path / "o").iterdir())
    assert lines[-1] == f"wrote {len(names)} files to o; trace t.csv"
    for name in names:
        assert (tmp_path / "o" / name).read_bytes() == (tmp_path / "m" / name).read_bytes(), name
    assert (tmp_path / "t.csv").read_bytes() == (tmp_path / "m.csv").read_bytes()
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("args, code", [(["run", "nosuch.yaml", "--out", "o"], 2), (["platforms"], 0)])
def test_other_endings_exit_as_usual(tmp_path, args, code):
    p = _entry(args, cwd=tmp_path)
    assert p.returncode == code, p.stderr
    assert p.stdout.splitlines()[-1] == "teardown ran"
    if code:
        assert p.stderr.startswith("tlmsim: error: ") and len(p.stderr.strip().splitlines()) == 1


def test_only_the_command_process_freezes_its_heap(tmp_path, monkeypatch):
    assert gc.get_freeze_count() == 0
    assert cli.main(["run", "--out", str(tmp_path / "a"), "-q"]) == 0
    assert gc.get_freeze_count() == 0  # main() called by a program or a test: its heap is not frozen

    class Exited(Exception):
        pass

    def fake_exit(code):
        raise Exited(code)

    monkeypatch.setattr(cli, "_OWN_PROCESS", False)
    monkeypatch.setattr(cli, "_NOTHING_LEFT", False)
    monkeypatch.setattr(os, "_exit", fake_exit)
    monkeypatch.setattr(sys, "argv", ["tlmsim", "run", "--out", str(tmp_path / "b"), "-q"])
    try:
        with pytest.raises(Exited) as e:
            cli.entry()
        assert e.value.args == (0,)
        assert gc.get_freeze_count() > 0  # frozen after the inputs were loaded, before the simulation
    finally:
        gc.unfreeze()
        gc.enable()  # entry() turned the collector off (cmd_run turns it on again after the load)
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


#: the command with the collector's state printed where the run loads its inputs and where it
#: simulates, and at the process's exit (another command's ending)
GC_PROBE = ("import atexit, gc, sys\n"
            "import tlmsim.cli as c\n"
            "import tlmsim.soc.run as r\n"
            "load, sim = c._load, r.simulate\n"
            "def _load(*a):\n"
            "    print('load: gc', gc.isenabled(), flush=True)\n"
            "    return load(*a)\n"
            "def _sim(*a, **k):\n"
            "    print('simulate: gc', gc.isenabled(), 'frozen', gc.get_freeze_count() > 0, flush=True)\n"
            "    return sim(*a, **k)\n"
            "c._load, r.simulate = _load, _sim\n"
            "atexit.register(lambda: print('exit: gc', gc.isenabled()))\n"
            "sys.argv = ['tlmsim', *sys.argv[1:]]\n"
            "c.entry()\n")


@pytest.mark.parametrize("args, expected", [
    (["run", "--out", "o", "-q"], ["load: gc False", "simulate: gc True frozen True"]),
    (["run", "--out", "o", "-q", "--dataflow", "ptb"], ["load: gc False", "simulate: gc True frozen True"]),
    (["platforms"], ["exit: gc True"]),
])
def test_the_command_collects_no_cycles_until_a_runs_inputs_are_loaded(tmp_path, args, expected):
    # the cyclic collector is off from the start of the command's process (argument parsing may
    # import the platform models) until the run's inputs are loaded and frozen; every other
    # command runs with it on
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    p = subprocess.run([sys.executable, "-c", GC_PROBE, *args], check=False, cwd=tmp_path, capture_output=True,
                       text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert [line for line in p.stdout.splitlines() if line.split(":")[0] in ("load", "simulate", "exit")] == expected


#: the command as the console script runs it, printing the BLAS variables numpy was imported
#: under (at the run's load) and whether numpy was loaded before entry() ran
BLAS_PROBE = ("import os, sys\n"
              "import tlmsim.cli as c\n"
              "print('numpy before entry:', 'numpy' in sys.modules)\n"
              "load = c._load\n"
              "def _load(*a, **k):\n"
              "    print('load:', [os.environ.get(v) for v in c.BLAS_THREAD_VARIABLES])\n"
              "    return load(*a, **k)\n"
              "c._load = _load\n"
              "sys.argv = ['tlmsim', *sys.argv[1:]]\n"
              "c.entry()\n")


@pytest.mark.parametrize("preset, expected", [
    ({}, ["1", None, None]),
    ({"OPENBLAS_NUM_THREADS": "2"}, ["2", None, None]),
    ({"OMP_NUM_THREADS": "3"}, [None, None, "3"]),
    ({"GOTO_NUM_THREADS": "4"}, [None, "4", None]),
])
def test_the_command_gives_openblas_one_thread_unless_the_user_chose(tmp_path, preset, expected):
    # OpenBLAS starts one thread per core when numpy loads (0.05 CPU s of `import numpy` on 2
    # cores); the command sets OPENBLAS_NUM_THREADS=1 before anything imports numpy, and leaves
    # a count the user set (in any of the three variables OpenBLAS reads) alone
    env = {k: v for k, v in os.environ.items() if k not in cli.BLAS_THREAD_VARIABLES and k != "PYTHONPATH"}
    env.update(preset)
    p = subprocess.run([sys.executable, "-c", BLAS_PROBE, "run", "--out", "o", "-q"], check=False, cwd=tmp_path,
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "numpy before entry: False"
    assert f"load: {expected!r}" in lines


def test_one_blas_thread_by_hand():
    env = {}
    cli.one_blas_thread(env)
    assert env == {"OPENBLAS_NUM_THREADS": "1"}
    for var in cli.BLAS_THREAD_VARIABLES:
        env = {var: "8"}
        cli.one_blas_thread(env)
        assert env == {var: "8"}
