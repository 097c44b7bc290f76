"""The environment and signal dispositions a child command gets from ``rolecall exec`` (and ``serve``'s clients).

Values only: what to remove, what to add, what to set. ``rolecall exec`` applies them to CMD; ``rolecall serve``
prints ``server_changes`` as shell code. The server's own part (its two variables, dropping what would shadow
it, keeping it out of a proxy) is ``rolecall.server.child_environment``, which ``server_changes`` builds on.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rolecall.config.parse import ConfigFiles
    from rolecall.credentials import Credentials
    from rolecall.server import CredentialsServer

#: Set in CMD's environment; a nested ``rolecall exec`` refuses unless --allow-nested.
NESTING_VARIABLE = "ROLECALL_EXEC_PROFILE"
#: Container-endpoint variables of an outer ``exec --server``, removed so CMD sees one identity only.
CONTAINER_VARS = (
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)
#: Web-identity variables: botocore's chain reads them before the container endpoint, so a server's client
#: must not see them.
WEB_IDENTITY_VARS = ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME")
#: Secrets of rolecall's own that CMD must never see: the passphrase of the encrypted key store
#: (``rolecall.keys.filestore.PASSPHRASE_VARIABLE``, not imported: that module loads ``json`` and more). CMD gets
#: credentials, not what unlocks every stored key. The store's other setting (``ROLECALL_KEYS_BACKEND``) is no
#: secret and stays, so a nested rolecall finds the same store.
SECRET_VARIABLES = ("ROLECALL_KEYS_PASSPHRASE",)
#: Signals Python ignores at start-up (SIG_IGN survives exec): CMD gets their default action back, as a
#: shell gives it, so `yes | head -1` ends `yes` by SIGPIPE and a file-size limit stops a writer.
DEFAULT_SIGNALS = ("SIGPIPE", "SIGXFSZ")
#: Keys of the ``default`` profile that give an SDK credentials before it reaches the container endpoint
#: (botocore's order: assume-role, web identity, SSO, credentials file, login, process, config file).
SHADOWING_KEYS = (
    "aws_access_key_id",
    "role_arn",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "login_session",
    "credential_process",
)


def child_environment(
    base: Mapping[str, str], profile: str, credentials: Credentials, region: str | None
) -> dict[str, str]:
    """CMD's environment without ``--server``: ``base`` without other identities, plus the profile's keys.

    The same variables ``rolecall env`` exports (``export.env_changes``: AWS_PROFILE and AWS_DEFAULT_PROFILE
    are removed, since a profile name next to keys makes tools disagree about who CMD is), applied to a dict
    instead of printed as shell code.
    """
    from rolecall import export

    env = {key: value for key, value in base.items() if key not in CONTAINER_VARS and key not in SECRET_VARIABLES}
    export.apply_to_environ(env, export.env_changes(credentials, profile=profile, region=region))
    env[NESTING_VARIABLE] = profile
    return env


def server_changes(
    base: Mapping[str, str], profile: str, region: str | None, server: CredentialsServer, files: ConfigFiles
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """What a client of ``server`` must change in ``base``: ``(variables to set, names to unset, warnings)``.

    The client gets the two container variables (and the region) and nothing an SDK would read before them:
    no keys, no profile name, no web identity, and, when the credentials file's ``[default]`` has keys, no
    credentials file at all (``AWS_SHARED_CREDENTIALS_FILE`` points at an empty file), because every SDK
    reads it before the container endpoint and the job would silently run as that user. A ``default`` profile
    in the config file that has credentials cannot be hidden without losing the rest of the config: it is
    reported as a warning.
    """
    from rolecall import export
    from rolecall import server as server_module

    unsets: list[str] = []
    for name in (
        *export.UNSET_VARS,
        *server.conflicting_variables(),
        *CONTAINER_VARS,
        *WEB_IDENTITY_VARS,
    ):
        if name not in unsets and name not in (server_module.FULL_URI_VARIABLE, server_module.TOKEN_VARIABLE):
            unsets.append(name)
    complete = server_module.child_environment(base, server, profile)  # adds the endpoint to NO_PROXY if proxied
    sets = list(server.environment(profile).items())
    for name in ("NO_PROXY", "no_proxy"):
        if name in complete and complete[name] != base.get(name):
            sets.append((name, complete[name]))
    if region:
        sets += [("AWS_REGION", region), ("AWS_DEFAULT_REGION", region)]
    warnings: list[str] = []
    default_keys = files.credentials.get("default", {})
    if "aws_access_key_id" in default_keys:
        sets.append(("AWS_SHARED_CREDENTIALS_FILE", os.devnull))
        warnings.append(
            "the credentials file's [default] has keys, which SDKs read before the credentials server: "
            f"hiding the credentials file from its clients (AWS_SHARED_CREDENTIALS_FILE={os.devnull})"
        )
    config_default = files.config.get("profiles", {}).get("default", {})
    shadowing = [key for key in SHADOWING_KEYS if key in config_default]
    if shadowing:
        warnings.append(
            f"the config file's [default] profile has {', '.join(shadowing)}: SDKs use it before the credentials "
            "server, so its clients may not run as the served profile"
        )
    sets.append((export.ROLECALL_PROFILE, profile))  # last: a reader of the printed code knows it is complete
    set_names = {name for name, _value in sets}
    return sets, [name for name in unsets if name not in set_names], warnings


def server_child_environment(
    base: Mapping[str, str], profile: str, changes: tuple[list[tuple[str, str]], list[str]]
) -> dict[str, str]:
    """CMD's environment with ``--server``: ``base`` without rolecall's secrets, with ``server_changes``
    ``(sets, unsets)`` applied and the nesting mark set."""
    from rolecall import export

    env = {key: value for key, value in base.items() if key not in SECRET_VARIABLES}
    export.apply_to_environ(env, changes)
    env[NESTING_VARIABLE] = profile
    return env


def default_signal_numbers() -> set[int]:
    """The ``DEFAULT_SIGNALS`` this platform has, as numbers (for ``posix_spawn``'s ``setsigdef``)."""
    import signal

    return {getattr(signal, name) for name in DEFAULT_SIGNALS if hasattr(signal, name)}


def restore_default_signals() -> list[tuple[int, Any]]:
    """Give the ``DEFAULT_SIGNALS`` their default action in this process (``execvpe`` keeps ignored signals
    ignored in CMD); what they were, for ``put_back_signals`` when the exec fails."""
    import signal

    previous: list[tuple[int, Any]] = []
    for name in DEFAULT_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is not None:
            previous.append((signum, signal.signal(signum, signal.SIG_DFL)))
    return previous


def put_back_signals(previous: list[tuple[int, Any]]) -> None:
    """Undo ``restore_default_signals``: rolecall goes on (to report the error) with Python's dispositions."""
    import signal

    for signum, handler in previous:
        signal.signal(signum, handler)
