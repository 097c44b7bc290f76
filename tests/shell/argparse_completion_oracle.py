"""The argparse-based completion rolecall had before the completion spec (commit caf2719), kept as the test oracle.

``rolecall.cli.commands.complete`` now answers from a static spec generated from the parsers; this module is the
walk it replaced, over the real argparse parsers, so that tests/shell/test_completion_spec.py can check that both
give the same answers for every command, sub-command and option. Test support only: not imported by rolecall.
"""

from __future__ import annotations

import argparse
import functools
import re
from collections.abc import Callable

from rolecall.cli.commands.complete import COMMAND_LINE_DESTS, GLOBAL_OPTIONS, Answer, Candidates, Names, value_kind
from rolecall.cli.commands.complete import first_line as _first_line
from rolecall.cli.main import COMMANDS
from rolecall.cli.main import build_parser as _build_parser

_MANY = ("*", "+", "...", "A...")


@functools.cache
def build_parser(command: str) -> tuple[argparse.ArgumentParser, object]:
    """Each command's parser built once (the oracle answers thousands of queries)."""
    return _build_parser(command)


class _Walk:
    """Where the words before the cursor leave a parser: which sub-parser, which positional comes next."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.enter(parser)
        self.pending: argparse.Action | None = None  # an option whose value the cursor's word is
        self.delegate_at: int | None = None  # index of the word where a command line of its own starts
        self.after_dashes = False

    def enter(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser
        self.seen: set[argparse.Action] = set()  # the options given since this parser took over
        self.positionals = [action for action in parser._actions if not action.option_strings]
        self.used_positionals = 0
        self.filled = 0  # words given to the positional being filled

    def next_positional(self) -> argparse.Action | None:
        """The positional the next word goes to, or None when every one is full."""
        while self.used_positionals < len(self.positionals):
            action = self.positionals[self.used_positionals]
            # An option already gave its value (PROFILE after --profile PROFILE): the next positional takes the word.
            given = self.filled == 0 and any(seen.dest == action.dest for seen in self.seen)
            if not given and (action.nargs in _MANY or self.filled == 0):
                return action
            self.used_positionals += 1
            self.filled = 0
        return None

    def feed_positional(self, word: str, index: int) -> None:
        action = self.next_positional()
        if action is None:
            return
        if _is_subcommands(action):
            sub = action.choices.get(word) if isinstance(action.choices, dict) else None
            if sub is not None:
                self.enter(sub)
            else:
                self.used_positionals = len(self.positionals)
            return
        if action.dest in COMMAND_LINE_DESTS:
            self.delegate_at = index
            return
        self.filled += 1
        if action.nargs not in _MANY:
            self.used_positionals += 1
            self.filled = 0

    def option(self, name: str) -> argparse.Action | None:
        return self.parser._option_string_actions.get(name)


def _is_subcommands(action: argparse.Action) -> bool:
    return isinstance(action, argparse._SubParsersAction)


def _values_taken(action: argparse.Action) -> int:
    """How many of the following words an option takes (``nargs`` of a list: the words up to the next option)."""
    nargs = action.nargs
    if nargs == 0:
        return 0
    if isinstance(nargs, int):
        return nargs
    if nargs == "?":
        return -2  # one word, if it does not look like an option
    if nargs in _MANY:
        return -1  # every word up to the next option
    return 1


def _walk(parser: argparse.ArgumentParser, words: list[str]) -> _Walk:
    """Follow ``words`` (after the command's name) through ``parser`` as argparse would, without failing."""
    walk = _Walk(parser)
    index = 0
    while index < len(words) and walk.delegate_at is None:
        word = words[index]
        index += 1
        if walk.after_dashes or word == "-" or not word.startswith("-"):
            walk.feed_positional(word, index)
            continue
        if word == "--":
            walk.after_dashes = True
            continue
        if word == "--debug":
            continue
        name, equals, _ = word.partition("=") if word.startswith("--") else (word, "", "")
        action = walk.option(name)
        if action is None:
            continue
        walk.seen.add(action)
        if equals:
            continue
        taken = _values_taken(action)
        if taken == -2:
            taken = 1 if index < len(words) and not words[index].startswith("-") else 0
        if taken == -1:
            while index < len(words) and not words[index].startswith("-"):
                index += 1
            walk.pending = action if index == len(words) else None
            continue
        if index + taken > len(words):
            walk.pending = action
        index += taken
    return walk


# ---------------------------------------------------------------------------------------------- the answer


def complete(words: list[str], current: str, names: Names) -> Answer:
    """The completion of ``current`` after ``words`` (the command line without the program's name)."""
    lead = 0
    while lead < len(words) and words[lead] == "--debug":  # cli.main takes it anywhere before a `--`
        lead += 1
    if lead == len(words):
        return _top_level(current)
    command = words[lead]
    if command not in COMMANDS:
        return Answer()
    try:
        parser = build_parser(command)[0]
    except ImportError:
        return Answer()
    walk = _walk(parser, words[lead + 1 :])
    if walk.delegate_at is not None:
        # The index among all the words, the program's name first: the glue hands the words from there on.
        return Answer(directive=f"@delegate {walk.delegate_at + lead + 1}")
    if walk.pending is not None:
        return _values(walk.pending, current, "", names)
    if current.startswith("--") and "=" in current:
        name, _, value = current.partition("=")
        action = walk.option(name)
        return _values(action, value, name + "=", names) if action is not None else Answer()
    if current.startswith("-") and not walk.after_dashes:
        return Answer(_options(walk))
    action = walk.next_positional()
    if action is None:
        return Answer(_options(walk) if not current else [])
    if _is_subcommands(action):
        return Answer(_subcommands(action))
    if action.dest in COMMAND_LINE_DESTS:
        return Answer(directive="@commands")
    return _values(action, current, "", names)


def _top_level(current: str) -> Answer:
    if current.startswith("-"):
        return Answer(list(GLOBAL_OPTIONS))
    return Answer([(name, summary) for name, (_, summary) in COMMANDS.items()])


def _options(walk: _Walk) -> Candidates:
    """The options of the parser the walk ended in that may still be given, hidden ones left out."""
    given = set(walk.seen)
    for group in walk.parser._mutually_exclusive_groups:
        if given.intersection(group._group_actions):
            given.update(group._group_actions)  # one of them is there: the others would be refused
    out: Candidates = []
    for action in walk.parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        if action in given and not isinstance(action, (argparse._AppendAction, argparse._CountAction)):
            continue
        out += [(option, _first_line(action.help)) for option in action.option_strings]
    return out


def _subcommands(action: argparse.Action) -> Candidates:
    helps = {choice.dest: choice.help or "" for choice in getattr(action, "_choices_actions", [])}
    return [(name, helps.get(name, "")) for name in action.choices or {}]


def _values(action: argparse.Action, current: str, prefix: str, names: Names) -> Answer:
    """The values ``action`` takes, each after ``prefix`` (``--format=`` when the word has it)."""
    if action.choices is not None and not _is_subcommands(action):
        found: Candidates = [(str(choice), "") for choice in action.choices]
    else:
        kind = value_kind(action)
        if kind is None:
            return Answer()
        if kind.startswith("@"):
            return Answer(directive=kind)
        found = names.values(kind)
    return Answer([(prefix + word, description) for word, description in found])


def render(answer: Answer, shell: str, current: str, raw: str, wordbreaks: str = "") -> str:
    """The lines the glue of ``shell`` reads: the candidates starting with ``current``, or the directive."""
    if answer.directive is not None:
        return answer.directive + "\n"
    chosen = [(word, text) for word, text in answer.candidates if word.startswith(current)]
    if shell == "zsh":
        return "".join(_zsh_escape(word) + (":" + text if text else "") + "\n" for word, text in chosen)
    if shell == "fish":
        return "".join(word + ("\t" + text if text else "") + "\n" for word, text in chosen)
    # bash replaces only the part of the word after its last word-break character (= and : by default).
    cut = max((raw.rfind(char) for char in wordbreaks if char not in " \t\n\"'"), default=-1)
    cut = len(current) - (len(raw) - cut - 1) if cut >= 0 else 0
    return "".join(_bash_quote(word[cut:], raw) + "\n" for word, _ in chosen)


def _zsh_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace(":", "\\:")


def _bash_quote(word: str, raw: str) -> str:
    """A candidate as bash inserts it: shell characters escaped, unless the word was opened with a quote."""
    if raw[:1] in ("'", '"'):
        return word
    if _plain(word):  # nearly every name: one C-level scan instead of a Python test per character
        return word
    safe = "-_./:=@%+,~^"
    return "".join(char if char.isalnum() or char in safe else "\\" + char for char in word)


def _plain(word: str) -> bool:
    """True when ``word`` has only ASCII letters, digits and the characters bash needs no escape for."""
    global _PLAIN
    if _PLAIN is None:
        _PLAIN = re.compile(r"[A-Za-z0-9_./:=@%+,~^-]*").fullmatch
    return _PLAIN(word) is not None


_PLAIN: Callable[[str], object] | None = None


_PLAIN: Callable[[str], object] | None = None
