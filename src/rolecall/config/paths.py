"""Where the files are: the AWS CLI's config, credentials and cache, and rolecall's own state.

Every function takes the environment as a mapping (not ``os.environ``) so that commands and tests
decide which environment counts.
"""

from __future__ import annotations

import os
import os.path

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Mapping


def display_path(path: str) -> str:
    """The path as a person would write it: the home folder shortened to ``~``."""
    home = os.path.expanduser("~")
    if home and home != "/" and path.startswith(home + os.sep):
        return "~" + path[len(home) :]
    return path


def expand_vars(text: str, env: Mapping[str, str]) -> str:
    """``os.path.expandvars`` against ``env``: ``$NAME``/``${NAME}`` replaced, unknown ones left as they are."""

    if "$" not in text:
        return text
    import re  # only when there is something to expand: ``re`` is not free at start-up

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("{"):
            name = name[1:-1]
        return env.get(name, match.group(0))

    return re.sub(r"\$(\w+|\{[^}]*\})", replace, text)


def home_dir(env: Mapping[str, str]) -> str:
    """The user's home folder: ``$HOME`` when set (as ``os.path.expanduser`` does), else the password entry."""
    home = env.get("HOME")
    if home:
        return home
    return os.path.expanduser("~")


def expand_user(text: str, env: Mapping[str, str]) -> str:
    """``os.path.expanduser`` for ``~`` and ``~/...`` against ``env``; ``~other`` goes to the OS."""
    if text == "~" or text.startswith("~/") or text.startswith("~" + os.sep):
        return home_dir(env) + text[1:]
    if text.startswith("~"):
        return os.path.expanduser(text)
    return text


def expand_path(text: str, env: Mapping[str, str]) -> str:
    """Expand ``$VARS`` then ``~`` the way botocore does for ``AWS_CONFIG_FILE`` and friends."""
    return expand_user(expand_vars(text, env), env)


class AwsPaths:
    """The files rolecall reads and writes for one environment (plain ``str`` paths: ``pathlib`` is slow to import).

    An immutable value; a slotted class rather than a dataclass to keep the fast path cheap.
    """

    __slots__ = ("cli_cache_dir", "config_file", "credentials_file", "rolecall_dir", "sso_cache_dir")

    config_file: str
    credentials_file: str
    cli_cache_dir: str
    rolecall_dir: str
    #: The AWS CLI v2's IAM Identity Center token cache (``~/.aws/sso/cache``), which botocore reads too.
    sso_cache_dir: str

    def __init__(
        self,
        config_file: str,
        credentials_file: str,
        cli_cache_dir: str,
        rolecall_dir: str,
        sso_cache_dir: str | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "config_file", config_file)
        set_(self, "credentials_file", credentials_file)
        set_(self, "cli_cache_dir", cli_cache_dir)
        set_(self, "rolecall_dir", rolecall_dir)
        if sso_cache_dir is None:
            # Beside the CLI cache, as the AWS CLI has them: ~/.aws/cli/cache and ~/.aws/sso/cache.
            sso_cache_dir = os.path.join(os.path.dirname(os.path.dirname(cli_cache_dir)), "sso", "cache")
        set_(self, "sso_cache_dir", sso_cache_dir)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("AwsPaths is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AwsPaths) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, k) for k in self.__slots__))

    def __repr__(self) -> str:
        return f"AwsPaths(config_file={self.config_file!r}, credentials_file={self.credentials_file!r})"

    @property
    def session_cache_dir(self) -> str:
        """rolecall's own GetSessionToken (MFA session) cache, apart from the AWS CLI's."""
        return os.path.join(self.rolecall_dir, "sessions")

    @property
    def mfa_state_dir(self) -> str:
        """Locks and the memory of used MFA codes, one file per device."""
        return os.path.join(self.rolecall_dir, "mfa")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AwsPaths:
        """Resolve every path from AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, ROLECALL_HOME and HOME."""
        home = home_dir(env)
        config = env.get("AWS_CONFIG_FILE") or "~/.aws/config"
        credentials = env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
        rolecall = env.get("ROLECALL_HOME") or os.path.join(home, ".aws", "rolecall")
        return cls(
            config_file=expand_path(config, env),
            credentials_file=expand_path(credentials, env),
            cli_cache_dir=os.path.join(home, ".aws", "cli", "cache"),
            rolecall_dir=expand_path(rolecall, env),
            sso_cache_dir=os.path.join(home, ".aws", "sso", "cache"),
        )


def profile_from_env(env: Mapping[str, str]) -> str | None:
    """The profile named by the environment: ``AWS_PROFILE``, then ``AWS_DEFAULT_PROFILE``.

    This is the AWS CLI v2 order (botocore and the CLI v1 check ``AWS_DEFAULT_PROFILE`` first);
    rolecall follows v2 because it is what AWS documents today. Empty values count as unset.
    """
    return env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or None


def selected_profile(env: Mapping[str, str], explicit: str | None = None) -> str:
    """The profile to use: ``--profile`` beats the environment, which beats ``default``."""
    return explicit or profile_from_env(env) or "default"
