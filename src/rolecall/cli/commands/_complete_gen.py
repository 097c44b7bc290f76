"""Generate ``_complete_spec.py``, the static completion spec, from the commands' real argparse parsers.

    python -m rolecall.cli.commands._complete_gen           rewrite src/rolecall/cli/commands/_complete_spec.py
    python -m rolecall.cli.commands._complete_gen --check   exit 1 (saying so) when the file is out of date

``rolecall __complete`` answers from the spec without building a parser (argparse, ``re`` and every command
module cost a Tab press about 15 ms); tests/shell/test_completion_spec.py fails when the committed spec is not
what this module makes from the parsers of the day, so the two cannot drift apart. Run it after changing any
command's arguments. Only the tests and this command import this module.
"""

from __future__ import annotations

import argparse
import os
import sys

from rolecall.cli.commands.complete import (
    COMMAND_LINE,
    COMMAND_LINE_DESTS,
    HIDDEN,
    REPEATABLE,
    first_line,
    value_kind,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from rolecall.cli.commands.complete import OptionSpec, ParserSpec, PositionalSpec, SubSpec

#: nargs values that take every word up to the next option (argparse's own, and its sub-command action's).
_MANY = ("*", "+", "...", "A...")
SPEC_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_complete_spec.py")


def taken(action: argparse.Action) -> int:
    """How many of the following words an option takes: n, or -1 (the words up to the next option), or -2 (one
    word, if it does not look like an option)."""
    nargs = action.nargs
    if nargs == 0:
        return 0
    if isinstance(nargs, int):
        return nargs
    if nargs == "?":
        return -2
    if nargs in _MANY:
        return -1
    return 1


def _choices(action: argparse.Action) -> tuple[str, ...] | None:
    if action.choices is None or isinstance(action, argparse._SubParsersAction):
        return None
    return tuple(str(choice) for choice in action.choices)


def _option(action: argparse.Action) -> OptionSpec:
    flags = HIDDEN if action.help == argparse.SUPPRESS else 0
    if isinstance(action, (argparse._AppendAction, argparse._CountAction)):
        flags |= REPEATABLE
    help_line = "" if flags & HIDDEN else first_line(action.help)
    return (tuple(action.option_strings), action.dest, help_line, taken(action), value_kind(action),
            _choices(action), flags)  # fmt: skip


def _positional(action: argparse.Action, keys: dict[int, str], path: str) -> PositionalSpec:
    many = action.nargs in _MANY
    if isinstance(action, argparse._SubParsersAction):
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        subs: SubSpec = tuple(
            (name, helps.get(name, ""), keys.setdefault(id(parser), f"{path} {name}"))
            for name, parser in action.choices.items()
        )
        return (action.dest, many, None, None, subs)
    kind = COMMAND_LINE if action.dest in COMMAND_LINE_DESTS else value_kind(action)
    return (action.dest, many, kind, _choices(action), None)


def parser_spec(parser: argparse.ArgumentParser, keys: dict[int, str], path: str) -> ParserSpec:
    """One parser's spec: its options (in argparse's order), positionals and mutually exclusive groups."""
    options = [action for action in parser._actions if action.option_strings]
    index = {id(action): number for number, action in enumerate(options)}
    groups = tuple(
        tuple(index[id(action)] for action in group._group_actions if id(action) in index)
        for group in parser._mutually_exclusive_groups
    )
    positionals = tuple(
        _positional(action, keys, path) for action in parser._actions if not action.option_strings
    )
    return (tuple(_option(action) for action in options), positionals, groups)


def _parsers() -> Iterator[tuple[str, argparse.ArgumentParser, dict[int, str]]]:
    """(key, parser, the keys of the parsers met so far) for every command and sub-command, however deep."""
    from rolecall.cli.main import COMMANDS, build_parser

    keys: dict[int, str] = {}
    alive = []  # every parser stays alive to the end: the keys are their id()s, which Python reuses once freed
    for name in COMMANDS:
        stack = [(name, build_parser(name)[0])]
        alive.append(stack[0][1])
        while stack:
            path, parser = stack.pop(0)
            if keys.setdefault(id(parser), path) != path:
                continue  # an alias of a sub-command met already
            yield path, parser, keys
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    stack += [(f"{path} {sub}", child) for sub, child in action.choices.items()]


def build_spec() -> dict[str, ParserSpec]:
    """The spec of every command and sub-command, keyed by the words that reach it (``"sso login"``)."""
    return {path: parser_spec(parser, keys, path) for path, parser, keys in _parsers()}


def render_module(spec: dict[str, ParserSpec]) -> str:
    """The text of ``_complete_spec.py`` for ``spec``: an option that several parsers share (``--help``, the
    credential options) is written once as ``_On`` and named by each; one line per option, positional, group."""
    counts: dict[OptionSpec, int] = {}
    for options, _, _ in spec.values():
        for option in options:
            counts[option] = counts.get(option, 0) + 1
    shared = {option: f"_O{number}" for number, option in enumerate(o for o, n in counts.items() if n > 1)}
    lines = [*_HEAD, *(f"{name}: OptionSpec = {option!r}" for option, name in shared.items()), ""]
    lines.append("SPEC: dict[str, ParserSpec] = {")
    for key, (options, positionals, groups) in spec.items():
        lines.append(f"    {key!r}: (")
        lines += ["        (", *_packed([shared.get(option) or repr(option) for option in options]), "        ),"]
        lines += ["        (", *_packed([repr(positional) for positional in positionals]), "        ),"]
        lines.append(f"        {groups!r},")
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _packed(items: list[str], indent: str = " " * 12, width: int = 120) -> list[str]:
    """``items`` each followed by a comma, as many on a line as fit in ``width`` (a longer one on its own)."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + len(item) + 2 <= width:
            lines[-1] += f" {item},"
        else:
            lines.append(f"{indent}{item},")
    return lines


_HEAD = [
    '"""The completion spec of every command: GENERATED by rolecall.cli.commands._complete_gen, do not edit.',
    "",
    "Regenerate with ``python -m rolecall.cli.commands._complete_gen`` after changing a command's arguments",
    "(tests/shell/test_completion_spec.py fails until then). The layout is described in complete.py.",
    '"""',
    "# ruff: noqa: E501",
    "",
    "from __future__ import annotations",
    "",
    "TYPE_CHECKING = False",
    "if TYPE_CHECKING:",
    "    from rolecall.cli.commands.complete import OptionSpec, ParserSpec",
    "",
]

def main(argv: list[str]) -> int:
    """Write the spec file, or with ``--check`` say whether it is up to date (exit 1 when it is not)."""
    text = render_module(build_spec())
    if argv[:1] == ["--check"]:
        with open(SPEC_FILE, encoding="utf-8") as handle:
            if handle.read() == text:
                return 0
        sys.stderr.write(f"{SPEC_FILE} is out of date: run python -m rolecall.cli.commands._complete_gen\n")
        return 1
    with open(SPEC_FILE, "w", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
