"""``rolecall __complete``: the Tab-completion candidates for a command line (hidden; the shells' glue calls it).

    rolecall __complete bash WORDBREAKS LINE         LINE: the command line up to the cursor ($COMP_LINE)
    rolecall __complete zsh|fish -- WORD... CURRENT  the words before the cursor's word, then that word so far

It prints one candidate a line (zsh ``name:description``, fish ``name<TAB>description``, bash the bare word), or
one directive line that hands the work back to the shell: ``@files``, ``@dirs``, ``@commands`` (a file, a folder,
a program name) or ``@delegate K`` (the words from K on are a command line of their own, ``rolecall exec``'s).

The candidates come from the completion spec (``_complete_spec.py``), which ``_complete_gen.py`` generates from
the commands' real argparse parsers (``cli.main.build_parser``) and a test checks against them, so a new command,
sub-command, option or choice is completed as soon as the spec is regenerated; answering from it builds no parser
and imports no command module, argparse or ``re`` (a Tab press costs about one Python start-up; docs/shells.md).
The names an option takes (profiles, sso-sessions, console services, regions, help topics) come from the AWS
files through the fast parser and its parse cache, or from rolecall's own tables. The glue
(``rolecall/shell/completion.*``) runs this only when Tab is pressed: shell start-up pays nothing. It never fails
loudly: a broken config file gives no names, not an error.

    rolecall __complete profiles                     the profile names, one a line (the ``assume`` function's)
"""

from __future__ import annotations

from rolecall.errors import RolecallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

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

Candidates = list[tuple[str, str]]


class Answer:
    """What to offer: candidates (word, description), or a directive for the shell (``@files``...).

    Many names with one description (5,000 profile names) are kept as ``words`` and ``description``: the shells'
    lines are then made by joining them, not one candidate at a time.
    """

    def __init__(
        self,
        candidates: Candidates | None = None,
        directive: str | None = None,
        words: list[str] | None = None,
        description: str = "",
    ) -> None:
        """``candidates``, or ``words`` that share ``description``, or ``directive`` (``@files``, ``@dirs``,
        ``@commands``, ``@delegate K``)."""
        self._candidates = candidates
        self.words = words
        self.description = description
        self.directive = directive

    @property
    def candidates(self) -> Candidates:
        """Every candidate as (word, description)."""
        if self._candidates is None:
            self._candidates = [(word, self.description) for word in self.words or ()]
        return self._candidates


#: The kinds of names whose candidates all have one description, and that description.
SHARED_DESCRIPTION = {"profile": "profile", "sso-session": "sso-session", "service": "console service",
                      "region": "region"}  # fmt: skip


class Names:
    """The names options take, read only when asked (one read of the AWS files at most)."""

    def __init__(self, ctx: Context) -> None:
        """Names for the environment of ``ctx``."""
        self._ctx = ctx
        self._files: ConfigFiles | None = None

    def _config_files(self) -> ConfigFiles:
        if self._files is None:
            from rolecall.config.parse import ConfigFiles

            # As the command's session reads them (through the parse cache), without the session's imports.
            self._files = ConfigFiles.load(self._ctx.paths)
        return self._files

    def words(self, kind: str) -> list[str]:
        """The names of a kind in ``SHARED_DESCRIPTION``; none when they cannot be read. Not to be mutated."""
        try:
            return self._words(kind)
        except (RolecallError, OSError, ValueError):
            return []  # a broken file: nothing to offer, and no message in the middle of a command line

    def _words(self, kind: str) -> list[str]:
        if kind == "profile":
            return self._config_files().profile_names()
        if kind == "sso-session":
            return list(self._config_files().config.get("sso_sessions", {}))
        if kind == "service":
            from rolecall.console import SERVICES

            return sorted(SERVICES)
        if kind == "region":
            return _regions()
        return []

    def values(self, kind: str) -> Candidates:
        """The names of ``kind`` (profile, sso-session, service, region, topic); none when they cannot be read."""
        if kind in SHARED_DESCRIPTION:
            return [(name, SHARED_DESCRIPTION[kind]) for name in self.words(kind)]
        if kind == "topic":  # `rolecall help`: the pages, then the commands (help COMMAND is COMMAND --help)
            from rolecall.cli.commands.help import topics
            from rolecall.cli.main import COMMANDS

            try:
                pages = topics()
            except (RolecallError, OSError, ValueError):
                return []
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


# ---------------------------------------------------------------------------------------------- the spec
#
# SPEC (``_complete_spec.py``, generated from the parsers by ``_complete_gen.py``) maps the words that reach a
# parser ("env", "sso login") to a ParserSpec: (options, positionals, mutually exclusive groups).
#   option:     (option strings, dest, help's first line, words taken, value kind, choices, flags)
#   positional: (dest, takes many words, value kind, choices, sub-commands as (name, help, key of its parser))
# The words taken: n, -1 (every word up to the next option), -2 (one word, if it does not look like an option).
# The value kind: what ``value_kind`` says (``profile``, ``@files``...), COMMAND_LINE, or None (free text).

if TYPE_CHECKING:
    SubSpec = tuple[tuple[str, str, str], ...]
    OptionSpec = tuple[tuple[str, ...], str, str, int, str | None, tuple[str, ...] | None, int]
    PositionalSpec = tuple[str, bool, str | None, tuple[str, ...] | None, SubSpec | None]
    ParserSpec = tuple[tuple[OptionSpec, ...], tuple[PositionalSpec, ...], tuple[tuple[int, ...], ...]]

#: Option flags: hidden from the candidates (argparse.SUPPRESS), may be given more than once (append, count).
HIDDEN = 1
REPEATABLE = 2
#: The value kind of a positional that takes a whole command line (``rolecall exec PROFILE CMD ARGS...``).
COMMAND_LINE = "@command-line"


class _Walk:
    """Where the words before the cursor leave a parser: which sub-parser, which positional comes next."""

    def __init__(self, spec: ParserSpec) -> None:
        self.enter(spec)
        self.pending: OptionSpec | None = None  # an option whose value the cursor's word is
        self.delegate_at: int | None = None  # index of the word where a command line of its own starts
        self.after_dashes = False

    def enter(self, spec: ParserSpec) -> None:
        self.options, self.positionals, self.groups = spec
        self.by_name: dict[str, int] | None = None
        self.seen: set[int] = set()  # the options given since this parser took over (indices)
        self.used_positionals = 0
        self.filled = 0  # words given to the positional being filled

    def next_positional(self) -> PositionalSpec | None:
        """The positional the next word goes to, or None when every one is full."""
        while self.used_positionals < len(self.positionals):
            positional = self.positionals[self.used_positionals]
            # An option already gave its value (PROFILE after --profile PROFILE): the next positional takes the word.
            given = self.filled == 0 and any(self.options[seen][1] == positional[0] for seen in self.seen)
            if not given and (positional[1] or self.filled == 0):
                return positional
            self.used_positionals += 1
            self.filled = 0
        return None

    def feed_positional(self, word: str, index: int) -> None:
        positional = self.next_positional()
        if positional is None:
            return
        subs = positional[4]
        if subs is not None:
            key = next((key for name, _, key in subs if name == word), None)
            if key is not None:
                self.enter(_spec()[key])
            else:
                self.used_positionals = len(self.positionals)
            return
        if positional[2] == COMMAND_LINE:
            self.delegate_at = index
            return
        self.filled += 1
        if not positional[1]:
            self.used_positionals += 1
            self.filled = 0

    def option(self, name: str) -> int | None:
        """The index of the option spelt ``name`` in the current parser (its hidden ones too), or None."""
        if self.by_name is None:
            self.by_name = {string: index for index, option in enumerate(self.options) for string in option[0]}
        return self.by_name.get(name)


def _spec() -> dict[str, ParserSpec]:
    from rolecall.cli.commands._complete_spec import SPEC

    return SPEC


def _walk(spec: ParserSpec, words: list[str]) -> _Walk:
    """Follow ``words`` (after the command's name) through ``spec`` as argparse would, without failing."""
    walk = _Walk(spec)
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
        found = walk.option(name)
        if found is None:
            continue
        walk.seen.add(found)
        if equals:
            continue
        option = walk.options[found]
        taken = option[3]
        if taken == -2:
            taken = 1 if index < len(words) and not words[index].startswith("-") else 0
        if taken == -1:
            while index < len(words) and not words[index].startswith("-"):
                index += 1
            walk.pending = option if index == len(words) else None
            continue
        if index + taken > len(words):
            walk.pending = option
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
    spec = _spec().get(words[lead])
    if spec is None:
        return Answer()
    walk = _walk(spec, words[lead + 1 :])
    if walk.delegate_at is not None:
        # The index among all the words, the program's name first: the glue hands the words from there on.
        return Answer(directive=f"@delegate {walk.delegate_at + lead + 1}")
    if walk.pending is not None:
        return _values(walk.pending[4], walk.pending[5], "", names)
    if current.startswith("--") and "=" in current:
        name = current.partition("=")[0]
        found = walk.option(name)
        if found is None:
            return Answer()
        return _values(walk.options[found][4], walk.options[found][5], name + "=", names)
    if current.startswith("-") and not walk.after_dashes:
        return Answer(_options(walk))
    positional = walk.next_positional()
    if positional is None:
        return Answer(_options(walk) if not current else [])
    if positional[4] is not None:
        return Answer([(name, text) for name, text, _ in positional[4]])
    if positional[2] == COMMAND_LINE:
        return Answer(directive="@commands")
    return _values(positional[2], positional[3], "", names)


def _top_level(current: str) -> Answer:
    from rolecall.cli.main import COMMANDS

    if current.startswith("-"):
        return Answer(list(GLOBAL_OPTIONS))
    return Answer([(name, summary) for name, (_, summary) in COMMANDS.items()])


def _options(walk: _Walk) -> Candidates:
    """The options of the parser the walk ended in that may still be given, hidden ones left out."""
    given = set(walk.seen)
    for group in walk.groups:
        if given.intersection(group):
            given.update(group)  # one of them is there: the others would be refused
    out: Candidates = []
    for index, (strings, _, text, _, _, _, flags) in enumerate(walk.options):
        if flags & HIDDEN or (index in given and not flags & REPEATABLE):
            continue
        out += [(string, text) for string in strings]
    return out


def _values(kind: str | None, choices: tuple[str, ...] | None, prefix: str, names: Names) -> Answer:
    """The values an argument takes (its ``choices``, else the names of its ``kind``), each after ``prefix``
    (``--format=`` when the word has it)."""
    if choices is not None:
        found: Candidates = [(choice, "") for choice in choices]
    else:
        if kind is None:
            return Answer()
        if kind.startswith("@"):
            return Answer(directive=kind)
        if kind in SHARED_DESCRIPTION and not prefix:
            return Answer(words=names.words(kind), description=SHARED_DESCRIPTION[kind])
        found = names.values(kind)
    if not prefix:
        return Answer(found)
    return Answer([(prefix + word, description) for word, description in found])


def value_kind(action: argparse.Action) -> str | None:
    """What an argument's value is: ``profile``, ``sso-session``..., a directive (``@files``), or None (text)."""
    if action.dest in VALUE_KINDS:
        return VALUE_KINDS[action.dest]
    if "profile" in action.dest and "prefix" not in action.dest:
        return "profile"
    return None


def first_line(text: str | None) -> str:
    """The first line of an argument's help, as a candidate's description (argparse's % escapes undone)."""
    return (text or "").split("\n", 1)[0].replace("%%", "%").replace("%(default)s", "…")


# ---------------------------------------------------------------------------------------------- the output


def render(answer: Answer, shell: str, current: str, raw: str, wordbreaks: str = "") -> str:
    """The lines the glue of ``shell`` reads: the candidates starting with ``current``, or the directive."""
    if answer.directive is not None:
        return answer.directive + "\n"
    if answer.words is not None:
        words = [word for word in answer.words if word.startswith(current)] if current else answer.words
        if shell != "bash":
            return _joined(words, "\t" if shell == "fish" else ":", answer.description) or _lines(
                [(word, answer.description) for word in words], shell
            )
        return _bash_lines(words, current, raw, wordbreaks)
    chosen = [(word, text) for word, text in answer.candidates if word.startswith(current)]
    if shell != "bash":
        return _lines(chosen, shell)
    return _bash_lines([word for word, _ in chosen], current, raw, wordbreaks)


def _lines(chosen: Candidates, shell: str) -> str:
    """zsh's ``word:description`` lines (``:`` and ``\\`` escaped in the word), or fish's ``word<TAB>description``."""
    if shell == "zsh":
        return "".join(_zsh_escape(word) + (":" + text if text else "") + "\n" for word, text in chosen)
    return "".join(word + ("\t" + text if text else "") + "\n" for word, text in chosen)


def _joined(words: list[str], separator: str, description: str) -> str | None:
    """The lines of ``words`` with one ``description``, made at once; None when a word needs an escape (zsh: a
    ``:`` or ``\\`` in it) or holds a newline, for ``_lines`` to make them one by one."""
    if not words:
        return ""
    text = "\n".join(words)
    if text.count("\n") != len(words) - 1 or (separator == ":" and (":" in text or "\\" in text)):
        return None
    if not description:
        return text + "\n"
    end = separator + description + "\n"
    return text.replace("\n", end) + end


def _bash_lines(words: list[str], current: str, raw: str, wordbreaks: str) -> str:
    """bash's lines: each word from its last word-break character on, escaped unless the word opened a quote."""
    # bash replaces only the part of the word after its last word-break character (= and : by default).
    cut = max((raw.rfind(char) for char in wordbreaks if char not in " \t\n\"'"), default=-1)
    cut = len(current) - (len(raw) - cut - 1) if cut >= 0 else 0
    if cut:
        words = [word[cut:] for word in words]
    if not words:
        return ""
    text = "\n".join(words) + "\n"
    if raw[:1] in ("'", '"') or (_plain(text) and text.count("\n") == len(words)):
        return text  # nearly always: one C-level scan of all the names at once
    return "".join(_bash_quote(word) + "\n" for word in words)


def _zsh_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace(":", "\\:")


def _bash_quote(word: str) -> str:
    """A candidate as bash inserts it when the word was not opened with a quote: shell characters escaped."""
    safe = "-_./:=@%+,~^"
    return "".join(char if char.isalnum() or char in safe else "\\" + char for char in word)


#: The bytes bash needs no escape for (newline: the separator of the lines ``_plain`` checks at once).
_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@%+,~^-\n"


def _plain(text: str) -> bool:
    """True when ``text`` has only ASCII letters, digits, newlines and the characters bash needs no escape for."""
    return text.isascii() and not text.encode("ascii").translate(None, _SAFE)


def run_words(argv: Sequence[str], ctx: Context) -> int:
    """``rolecall __complete ...`` with its raw words (argparse would take the command line's options)."""
    if list(argv) == ["profiles"]:  # the `assume` function's: what `configure list-profiles` prints, sooner
        names = Names(ctx).words("profile")
        ctx.out("\n".join(names) + "\n" if names else "")
        return 0
    shell, words, current, raw = parse_request(argv)
    answer = complete(words, current, Names(ctx))
    ctx.out(render(answer, shell, current, raw, argv[1] if shell == "bash" else ""))
    return 0
