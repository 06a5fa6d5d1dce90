"""`stockgate --help` and every subcommand's: each option and argument says what it does; `--version`."""

import argparse
from importlib.metadata import version

import pytest

from gateway.cli import build_parser, main


def _parsers(parser: argparse.ArgumentParser, path: str = "stockgate"):
    """(command line, parser) for `stockgate` and every subcommand beneath it, at any depth."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


def _undescribed(parser: argparse.ArgumentParser) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            described = {a.dest for a in action._choices_actions if a.help}
            missing += [f"command {name}" for name in action.choices if name not in described]
        elif not (action.help and action.help.strip()) and action.help != argparse.SUPPRESS:
            missing.append("/".join(action.option_strings) or action.metavar or action.dest)
    return missing


def test_every_option_argument_and_command_in_every_help_has_a_description():
    parsers = list(_parsers(build_parser()))
    assert len(parsers) > 30     # the walk reached the nested commands (`orders cancel`, `sandbox order`, ...)
    missing = {path: names for path, parser in parsers if (names := _undescribed(parser))}
    assert missing == {}


def test_every_help_page_prints_without_an_error():
    for path, parser in _parsers(build_parser()):
        text = parser.format_help()
        assert text.startswith(f"usage: {path}"), path


def test_version_prints_the_installed_version_and_exits_0(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    out, err = capsys.readouterr()
    assert (exit_.value.code, out, err) == (0, f"stockgate {version('stockgate')}\n", "")
