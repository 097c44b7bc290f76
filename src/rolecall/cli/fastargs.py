"""Argument parsing without argparse for the two hot commands, ``env`` and ``credential-process``.

Importing ``argparse`` pulls in ``re``, ``gettext``, ``locale`` and ``shutil`` (with ``bz2`` and ``lzma``):
together more than the rest of a cached lookup. The common invocations (``rolecall env prod``,
``rolecall env prod --format fish``, what the ``assume`` shell function runs: ``rolecall env --format sh --pick
prod``, ``rolecall credential-process prod``) are recognised here and give the
same namespace argparse would; anything else returns None and goes through argparse as usual.
``tests/test_fastargs.py`` checks the namespaces are identical.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


class SimpleNamespace:
    """Attributes from keywords, like ``argparse.Namespace`` (without importing ``types`` or ``argparse``)."""

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)

#: The options every credential-resolving command has (cli/commands/_resolve_options.py), at their defaults.
_RESOLVE_DEFAULTS = {
    "token_code": None,
    "mfa_strategy": None,
    "region": None,
    "endpoint_url": None,
    "force_refresh": False,
    "verify": False,
}
_ENV_FORMATS = ("sh", "fish", "powershell", "cmd", "dotenv", "json", "process")


def parse_fast(command: str, argv: Sequence[str]) -> SimpleNamespace | None:
    """The namespace for ``argv`` when it is a plain invocation of a hot command, else None."""
    if command == "env":
        return _env(argv)
    if command == "credential-process" and len(argv) == 1 and _is_name(argv[0]):
        return SimpleNamespace(profile=argv[0], keys=None, **_RESOLVE_DEFAULTS)
    return None


def _is_name(arg: str) -> bool:
    return bool(arg) and not arg.startswith("-")


#: The switches of ``env`` read here (``--pick`` and ``--quiet`` come from the ``assume`` shell function).
_ENV_SWITCHES = {"--pick": "pick", "--quiet": "quiet", "-q": "quiet"}


def _env(argv: Sequence[str]) -> SimpleNamespace | None:
    profile: str | None = None
    fmt: str | None = None
    switches = {"pick": False, "quiet": False}
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in ("--format", "-f") and index + 1 < len(argv):
            fmt = argv[index + 1]
            index += 2
        elif arg.startswith("--format="):
            fmt = arg.partition("=")[2]
            index += 1
        elif arg in _ENV_SWITCHES:
            switches[_ENV_SWITCHES[arg]] = True
            index += 1
        elif _is_name(arg) and profile is None:
            profile = arg
            index += 1
        else:
            return None
    if fmt is not None and fmt not in _ENV_FORMATS:
        return None  # let argparse produce its usage error
    return SimpleNamespace(
        profile=profile, format=fmt, profile_only=False, unset=False, explain=False, **switches, **_RESOLVE_DEFAULTS
    )
