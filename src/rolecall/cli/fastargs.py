"""Argument parsing without argparse for the two hot commands, ``env`` and ``credential-process``.

Importing ``argparse`` pulls in ``re``, ``gettext``, ``locale`` and ``shutil`` (with ``bz2`` and ``lzma``):
together more than the rest of a cached lookup. The common invocations (``rolecall env prod``,
``rolecall env prod --format fish``, what the ``assume`` shell function runs: ``rolecall env --format sh --pick
prod``, ``rolecall credential-process prod``, each also with ``--profile prod``) are recognised here and give the
same namespace argparse would; anything else (two different profiles included) returns None and goes through
argparse as usual. ``tests/cli/test_fastargs.py`` and ``tests/cli/test_profile_option.py`` check the namespaces
are identical.
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
    if command == "eks":
        return _eks_token(argv)
    if command == "credential-process" and argv:
        profile = _Profile()
        index = 0
        while index < len(argv):
            index = profile.read(argv, index)
            if index < 0:
                return None
        return SimpleNamespace(profile=profile.name, keys=None, **_RESOLVE_DEFAULTS)
    if command == "process-cache" and len(argv) > 1 and argv[0] == "--":
        # `process-cache -- TOOL ARGS...`: everything after the first -- is the tool's, verbatim.
        return SimpleNamespace(ttl=None, key_env=[], clear=False, command=list(argv[1:]))
    return None


def _is_name(arg: str) -> bool:
    return bool(arg) and not arg.startswith("-")


class _Profile:
    """The profile named by ``PROFILE`` (once) and ``--profile PROFILE`` / ``--profile=PROFILE`` (any number of
    times): the same name each time, or the command line is left to argparse (which names the conflict)."""

    def __init__(self) -> None:
        self.name: str | None = None
        self.positional = False

    def read(self, argv: Sequence[str], index: int) -> int:
        """Take the profile at ``argv[index]``; the index after it, or -1 when argparse must decide."""
        arg = argv[index]
        if _is_name(arg) and not self.positional:
            self.positional = True
            name, index = arg, index + 1
        elif arg == "--profile" and index + 1 < len(argv) and _is_name(argv[index + 1]):
            name, index = argv[index + 1], index + 2
        elif arg.startswith("--profile=") and _is_name(arg[10:]):
            name, index = arg[10:], index + 1
        else:
            return -1
        if self.name not in (None, name):
            return -1
        self.name = name
        return index


#: The switches of ``env`` read here (``--pick`` and ``--quiet`` come from the ``assume`` shell function,
#: ``--no-prompt`` from the renewal hook before each command).
_ENV_SWITCHES = {"--pick": "pick", "--quiet": "quiet", "-q": "quiet", "--no-prompt": "no_prompt"}


def _env(argv: Sequence[str]) -> SimpleNamespace | None:
    profile = _Profile()
    fmt: str | None = None
    switches = {"pick": False, "quiet": False, "no_prompt": False}
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
        else:
            index = profile.read(argv, index)
            if index < 0:
                return None
    if fmt is not None and fmt not in _ENV_FORMATS:
        return None  # let argparse produce its usage error
    return SimpleNamespace(profile=profile.name, format=fmt, profile_only=False, unset=False, explain=False,
                           **switches, **_RESOLVE_DEFAULTS)  # fmt: skip


#: The options of ``eks token`` read here, by the attribute argparse gives them.
_EKS_OPTIONS = {"--cluster-name": "cluster_name", "--profile": "profile", "--region": "region"}


def _eks_token(argv: Sequence[str]) -> SimpleNamespace | None:
    """``eks token --cluster-name C [--profile P] [--region R]`` (each once, in any order), else None."""
    if not argv or argv[0] != "token":
        return None
    values: dict[str, str] = {}
    index = 1
    while index < len(argv):
        arg, value = argv[index], None
        if "=" in arg and arg.startswith("--"):
            arg, _, value = arg.partition("=")
            index += 1
        elif index + 1 < len(argv):
            value = argv[index + 1]
            index += 2
        dest = _EKS_OPTIONS.get(arg)
        if dest is None or value is None or not _is_name(value) or dest in values:
            return None
        values[dest] = value
    if "cluster_name" not in values:
        return None
    return SimpleNamespace(eks_command="token", **{**_RESOLVE_DEFAULTS, "profile": None, **values})
