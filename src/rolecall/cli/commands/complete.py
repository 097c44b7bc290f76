"""``rolecall __complete``: the Tab-completion candidates for a command line (hidden; the shells' glue calls it).

    rolecall __complete bash WORDBREAKS LINE         LINE: the command line up to the cursor ($COMP_LINE)
    rolecall __complete zsh|fish -- WORD... CURRENT  the words before the cursor's word, then that word so far

It prints one candidate a line (zsh ``name:description``, fish ``name<TAB>description``, bash the bare word), or
one directive line that hands the work back to the shell: ``@files``, ``@dirs``, ``@commands`` (a file, a folder,
a program name) or ``@delegate K`` (the words from K on are a command line of their own, ``rolecall exec``'s).

The candidates come from the commands' real argparse parsers (``cli.main.build_parser``), so a new command,
sub-command, option or choice is completed the day it is added; the names an option takes (profiles,
sso-sessions, console services, regions, help topics) come from the AWS files through the fast parser and its
parse cache, or from rolecall's own tables. The glue (``rolecall/shell/completion.*``) runs this only when Tab is
pressed: shell start-up pays nothing. It never fails loudly: a broken config file gives no names, not an error.
"""

from __future__ import annotations

from rolecall.errors import RolecallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

    from rolecall.cli.context import Context
    from rolecall.config.parse import ConfigFiles

#: The options ``cli.main`` itself takes before a command.
GLOBAL_OPTIONS = (
    ("--debug", "print the traceback of an error (secrets masked)"),
    ("--version", "print rolecall's version"),
    ("--help", "list the commands"),
)
#: argparse ``dest`` -> what the value is. Any other dest naming a profile (``profile``, ``source_profile``,
#: ``outer_profile``, ``profiles``...) takes a profile name; a dest not here and without choices takes free text.
VALUE_KINDS = {
    "sso_session": "sso-session",
    "service": "service",
    "region": "region",
    "topic": "topic",
    "ca_bundle": "@files",
    "csv": "@files",
    "dir": "@dirs",
    "browser": "@commands",
}
#: Positional arguments that take a whole command line (``rolecall exec PROFILE CMD ARGS...``).
COMMAND_LINE_DESTS = frozenset({"command"})
#: Names argparse gives its sub-command action; the exec-style positional above; flags without a value.
_MANY = ("*", "+", "...", "A...")

Candidates = list[tuple[str, str]]


class Answer:
    """What to offer: candidates (word, description), or a directive for the shell (``@files``...)."""

    def __init__(self, candidates: Candidates | None = None, directive: str | None = None) -> None:
        """Either ``candidates`` or ``directive`` (``@files``, ``@dirs``, ``@commands``, ``@delegate K``)."""
        self.candidates = candidates or []
        self.directive = directive


class Names:
    """The names options take, read only when asked (one read of the AWS files at most)."""

    def __init__(self, ctx: Context) -> None:
        """Names for the environment of ``ctx``."""
        self._ctx = ctx
        self._files: ConfigFiles | None = None

    def _config_files(self) -> ConfigFiles:
        if self._files is None:
            self._files = self._ctx.session.files  # the command's session: the files read once
        return self._files

    def values(self, kind: str) -> Candidates:
        """The names of ``kind`` (profile, sso-session, service, region, topic); none when they cannot be read."""
        try:
            return self._values(kind)
        except (RolecallError, OSError, ValueError):
            return []  # a broken file: nothing to offer, and no message in the middle of a command line

    def _values(self, kind: str) -> Candidates:
        if kind == "profile":
            return [(name, "profile") for name in self._config_files().profile_names()]
        if kind == "sso-session":
            return [(name, "sso-session") for name in self._config_files().config.get("sso_sessions", {})]
        if kind == "service":
            from rolecall.console import SERVICES

            return [(name, "console service") for name in sorted(SERVICES)]
        if kind == "region":
            return [(name, "region") for name in _regions()]
        if kind == "topic":  # `rolecall help`: the pages, then the commands (help COMMAND is COMMAND --help)
            from rolecall.cli.commands.help import topics
            from rolecall.cli.main import COMMANDS

            pages = topics()
            commands = [(name, summary) for name, (_, summary) in COMMANDS.items() if name not in pages]
            return list(pages.items()) + commands
        return []


def _regions() -> list[str]:
    """The region names botocore ships (its partitions file, read without importing botocore)."""
    from rolecall.regions import known_regions

    return sorted(name for name in known_regions() if not name.endswith("-global"))


# -------------------------------------------------------------------------------------------- the command line


def split_line(line: str) -> tuple[list[str], str, str]:
    """Split a shell command line the way the shell would, tolerating an unfinished quote.

    Returns (the words before the last one, the last word unquoted, the last word as typed); the last word is
    empty when the line ends in a space.
    """
    words: list[str] = []
    word, raw, quote, started, start = "", "", "", False, 0
    index = 0
    while index < len(line):
        char = line[index]
        if (quote == "'" and char != "'") or (quote == '"' and char not in '"\\'):
            word += char
        elif char == "\\" and index + 1 < len(line) and quote != "'":
            index += 1
            word += line[index]
        elif char in "'\"" and (not quote or quote == char):
            quote = "" if quote else char
        elif char in " \t\n" and not quote:
            if started:
                words.append(word)
            word, started = "", False
            start = index + 1
            index += 1
            continue
        else:
            word += char
        started = True
        index += 1
    raw = line[start:]
    return words, word if started else "", raw if started else ""


def parse_request(argv: Sequence[str]) -> tuple[str, list[str], str, str]:
    """(shell, the words before the cursor's word without the program, the word so far, that word as typed).

    ``bash WORDBREAKS LINE`` or ``SHELL -- WORD... CURRENT``; the program's own name is not in the words.
    """
    if len(argv) >= 3 and argv[0] == "bash":
        words, current, raw = split_line(argv[2])
        return "bash", words[1:], current, raw
    if len(argv) >= 2 and argv[1] == "--":
        rest = list(argv[2:]) or [""]
        return argv[0], rest[:-1], rest[-1], rest[-1]
    raise RolecallError("usage: rolecall __complete bash WORDBREAKS LINE | zsh|fish -- WORD... CURRENT")


# ---------------------------------------------------------------------------------------------- the walk


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
    import argparse

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
    from rolecall.cli.main import COMMANDS, build_parser

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
    from rolecall.cli.main import COMMANDS

    if current.startswith("-"):
        return Answer(list(GLOBAL_OPTIONS))
    return Answer([(name, summary) for name, (_, summary) in COMMANDS.items()])


def _options(walk: _Walk) -> Candidates:
    """The options of the parser the walk ended in that may still be given, hidden ones left out."""
    import argparse

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


def value_kind(action: argparse.Action) -> str | None:
    """What an argument's value is: ``profile``, ``sso-session``..., a directive (``@files``), or None (text)."""
    if action.dest in VALUE_KINDS:
        return VALUE_KINDS[action.dest]
    if "profile" in action.dest and "prefix" not in action.dest:
        return "profile"
    return None


def _first_line(text: str | None) -> str:
    return (text or "").split("\n", 1)[0].replace("%%", "%").replace("%(default)s", "…")


# ---------------------------------------------------------------------------------------------- the output


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
        import re  # already loaded by argparse

        _PLAIN = re.compile(r"[A-Za-z0-9_./:=@%+,~^-]*").fullmatch
    return _PLAIN(word) is not None


_PLAIN: Callable[[str], object] | None = None


def run_words(argv: Sequence[str], ctx: Context) -> int:
    """``rolecall __complete ...`` with its raw words (argparse would take the command line's options)."""
    shell, words, current, raw = parse_request(argv)
    answer = complete(words, current, Names(ctx))
    ctx.out(render(answer, shell, current, raw, argv[1] if shell == "bash" else ""))
    return 0
