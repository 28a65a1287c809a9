"""``make_parser(command)`` adds the arguments of that command only (tlmsim/cli.py: argparse's
cost per argument, about half of the parser's 15 M instructions, most of them for commands the
process does not run). Every help text, parse and usage error is the whole parser's."""

import argparse

import pytest

from tlmsim import cli


def _commands(parser: argparse.ArgumentParser) -> dict:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


FULL = cli.make_parser()
COMMANDS = list(_commands(FULL))


def test_every_command_is_listed_and_helps_as_in_the_whole_parser():
    assert COMMANDS == ["run", "plot", "validate", "compare", "bench", "sweep", "search", "platforms", "workloads"]
    for command in [*COMMANDS, None, "nosuch"]:
        lazy = cli.make_parser(command)
        assert lazy.format_help() == FULL.format_help()
        assert list(_commands(lazy)) == COMMANDS
        if command in COMMANDS:
            ours, full = _commands(lazy)[command], _commands(FULL)[command]
            assert ours.format_help() == full.format_help(), command
            if command in ("bench", "workloads"):
                for name, sub in _commands(full).items():
                    assert _commands(ours)[name].format_help() == sub.format_help(), (command, name)


def test_only_the_named_commands_arguments_are_added():
    commands = _commands(cli.make_parser("run"))
    assert "--dataflow" in commands["run"]._option_string_actions
    assert "--jobs" not in commands["compare"]._option_string_actions
    assert "--jobs" in _commands(cli.make_parser("compare"))["compare"]._option_string_actions
    assert "--jobs" in _commands(cli.make_parser())["compare"]._option_string_actions


ARGVS = [
    ["run"],
    ["run", "ddr4-baseline", "lenet5-mnist", "--dataflow", "ptb", "--set", "a.b=1", "--set", "c=2", "-q"],
    ["--debug", "run", "--seed", "3", "--trace", "t.csv", "--verify", "--plots"],
    ["plot", "out"],
    ["validate", "a.yaml", "b"],
    ["compare", "a", "b", "--jobs", "2", "--workload", "w"],
    ["bench", "dram", "--pattern", "dma", "--streams", "2"],
    ["sweep", "s.yaml", "--out", "o"],
    ["search", "s.yaml"],
    ["platforms"],
    ["workloads", "list"],
    ["workloads", "show", "x.npz", "--seed", "2"],
    ["workloads", "record", "m.nir", "--out", "o.npz", "--encoding", "ttfs"],
]


@pytest.mark.parametrize("argv", ARGVS, ids=lambda a: " ".join(a))
def test_arguments_parse_as_with_the_whole_parser(argv):
    assert vars(cli.make_parser(cli._command(argv)).parse_args(argv)) == vars(FULL.parse_args(argv))


@pytest.mark.parametrize("argv", [["nosuch"], ["run", "--jobs", "2"], ["compare"], ["bench"], ["workloads", "x"],
                                  ["run", "--dataflow", "nosuch"], ["run", "-h"], ["--", "run", "--out", "o"]],
                         ids=lambda a: " ".join(a))
def test_errors_and_help_are_the_whole_parsers(argv, capsys):
    seen = []
    for parser in (cli.make_parser(cli._command(argv)), cli.make_parser()):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(argv)
        seen.append((exc.value.code, capsys.readouterr()))
    assert seen[0] == seen[1]


def test_the_command_is_the_first_argument_not_an_option():
    assert cli._command(["--debug", "run", "-q", "x"]) == "run"
    assert cli._command(["--", "plot", "o"]) == "plot"
    assert cli._command(["--version"]) is None and cli._command([]) is None
