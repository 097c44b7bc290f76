"""The questions of interactive ``rolecall configure``: the AWS CLI's four prompts, their masking, and the writes.

``aws configure`` (``awscli/customizations/configure/configure.py``) asks, in this order and with this text::

    AWS Access Key ID [None]:
    AWS Secret Access Key [****************EKEY]:
    Default region name [us-east-1]:
    Default output format [None]:

Each prompt is ``"{label} [{current}]: "``; the current value is the profile's merged setting (credentials file
over config file, environment variables not counted), ``None`` when unset, and the two keys are masked.
An empty answer keeps the value; any other answer that differs from the current value is written after the
last question: the keys to the credentials file (``[NAME]``), region and output to the config file
(``[default]`` / ``[profile NAME]``). Input that ends before the fourth answer writes nothing.

Nothing here prints or exits: prompts go to the stream passed in, answers come from the stream passed in.
"""

from __future__ import annotations

from rolecall.errors import InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TextIO

    from rolecall.config.edit import Change
    from rolecall.config.parse import ConfigFiles
    from rolecall.config.paths import AwsPaths
    from rolecall.reporting import Reporter

__all__ = [
    "QUESTIONS",
    "InputEndedError",
    "Question",
    "ask",
    "changes_for",
    "configure_profile",
    "mask_current",
    "prompt_text",
    "write_answers",
]


class Question:
    """One prompt: the key it sets, the AWS CLI's label for it, and whether its current value is masked."""

    __slots__ = ("key", "label", "secret")

    def __init__(self, key: str, label: str, secret: bool) -> None:
        self.key = key
        self.label = label
        self.secret = secret

    def __repr__(self) -> str:
        return f"Question({self.key!r}, {self.label!r}, secret={self.secret})"


#: The AWS CLI v1's ``ConfigureCommand.VALUES_TO_PROMPT``, in its order (v2 adds a session-token question for
#: ASIA keys; rolecall asks what v1 asks).
QUESTIONS: tuple[Question, ...] = (
    Question("aws_access_key_id", "AWS Access Key ID", secret=True),
    Question("aws_secret_access_key", "AWS Secret Access Key", secret=True),
    Question("region", "Default region name", secret=False),
    Question("output", "Default output format", secret=False),
)

#: Keys of a temporary key pair: stale once a new long-term access key is entered (the AWS CLI v2 removes them).
_TEMPORARY_KEYS = ("aws_session_token", "aws_security_token")


class InputEndedError(InvalidInputError):
    """Standard input ended before every question had its answer; nothing was written."""


def mask_current(value: str | None) -> str:
    """A current key as the prompt shows it: ``None`` when unset, else the AWS CLI's 16 stars and last four.

    A value shorter than 12 characters is all stars (the AWS CLI would show the last four, which can be all
    of a short secret); ``configure list`` masks the same way.
    """
    if value is None:
        return "None"
    from rolecall.config.settings_view import mask  # the one masking rule, shared with ``configure list``

    return mask(value)


def prompt_text(question: Question, current: str | None) -> str:
    """The exact prompt: ``"AWS Access Key ID [****************ABCD]: "``, ``"Default region name [None]: "``."""
    shown = mask_current(current) if question.secret else ("None" if current is None else current)
    return f"{question.label} [{shown}]: "


def _read_answer(stdin: TextIO, question: Question) -> str:
    """One line of ``stdin`` without its ``\\n`` (as ``input()`` gives it); ``InputEndedError`` at end of input."""
    try:
        line = stdin.readline()
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"the answer to '{question.label}' is not text in the terminal's encoding",
            hint="nothing was written; type the value again (the AWS files are UTF-8)",
        ) from None
    if not line:
        raise InputEndedError(
            f"input ended before the answer to '{question.label}'",
            hint="nothing was written; give one line per question (an empty line keeps the current value)",
        )
    answer = line[:-1] if line.endswith("\n") else line  # a last line without a newline still counts
    try:
        answer.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes smuggled in as surrogates
        raise InvalidInputError(
            f"the answer to '{question.label}' is not UTF-8 text",
            hint="nothing was written; the AWS files are UTF-8: check the bytes given and the locale",
        ) from None
    return answer


def ask(current: Mapping[str, object], stdin: TextIO, prompts: TextIO) -> dict[str, str]:
    """Ask the four questions; return the answers that change something (key -> new value).

    ``current`` is the profile's merged settings (a value that is not a string, such as a nested block, counts
    as unset). Each prompt is written to ``prompts`` and flushed before reading, so it shows at once even on a
    pipe; the AWS CLI writes its prompts to standard output, and so should the caller. An empty answer keeps
    the value, as does an answer equal to it. Raises ``InputEndedError`` when ``stdin`` ends early.
    """
    answers: dict[str, str] = {}
    for question in QUESTIONS:
        value = current.get(question.key)
        now = value if isinstance(value, str) else None
        prompts.write(prompt_text(question, now))
        prompts.flush()
        answer = _read_answer(stdin, question)
        if answer and answer != now:
            answers[question.key] = answer
    return answers


def changes_for(
    answers: Mapping[str, str], credentials_section: Mapping[str, object] | None
) -> tuple[dict[str, Change], dict[str, Change]]:
    """Split ``answers`` into (credentials-file changes, config-file changes), as ``aws configure`` routes them.

    When a new access key that is not a temporary one (``ASIA...``) is entered and the profile's credentials
    section holds a session token, the token is removed: it belongs to the old key pair, and botocore would
    send it with the new keys (AWS would refuse them). The AWS CLI v2 does the same; v1 leaves it.
    """
    credentials: dict[str, Change] = {}
    config: dict[str, Change] = {}
    for key, value in answers.items():
        (credentials if key.startswith("aws_") else config)[key] = value
    new_key = answers.get("aws_access_key_id")
    if new_key is not None and not new_key.startswith("ASIA") and credentials_section:
        for key in _TEMPORARY_KEYS:
            if key in credentials_section:
                credentials[key] = None
    return credentials, config


def write_answers(
    credentials_file: str,
    config_file: str,
    profile: str,
    answers: Mapping[str, str],
    credentials_section: Mapping[str, object] | None = None,
    *,
    reporter: Reporter | None = None,
) -> None:
    """Write ``answers`` for ``profile``: keys to ``[profile]`` of the credentials file, the rest to the config file.

    Every change is checked (line breaks, profile name) before either file is touched, so a refused value
    leaves both files as they were. Writes are format-preserving, atomic and locked (``rolecall.config.edit``);
    a credentials file readable by others is reported through ``reporter``.
    """
    from rolecall.config.edit import SectionRef, apply_changes, update_section
    from rolecall.reporting import ignore

    credentials, config = changes_for(answers, credentials_section)
    targets = [
        (credentials_file, SectionRef.raw(profile), credentials, True),
        (config_file, SectionRef.profile(profile), config, False),
    ]
    for path, section, changes, _check in targets:
        if changes:
            apply_changes("", section, changes, path)  # a dry run: raises InvalidInputError before any write
    for path, section, changes, check in targets:
        if changes:
            update_section(path, section, changes, reporter=reporter or ignore, check_permissions=check)


def configure_profile(
    paths: AwsPaths,
    profile: str,
    stdin: TextIO,
    prompts: TextIO,
    *,
    reporter: Reporter | None = None,
    files: ConfigFiles | None = None,
) -> dict[str, str]:
    """``aws configure`` for ``profile``: ask the four questions about its current settings, write the changes.

    The current values are the profile's merged settings in the files at ``paths`` (environment variables do
    not count; ``files``: those files already read, else they are read now); the answers that change something are
    written (``write_answers``) and returned. Nothing is written when ``stdin`` ends early (``InputEndedError``) or an
    answer is refused.
    """
    if files is None:
        from rolecall.config.parse import ConfigFiles

        files = ConfigFiles.load(paths)
    answers = ask(files.profile(profile) or {}, stdin, prompts)
    if answers:
        write_answers(
            paths.credentials_file,
            paths.config_file,
            profile,
            answers,
            files.credentials_section(profile),
            reporter=reporter,
        )
    return answers
