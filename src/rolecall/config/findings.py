"""What ``rolecall doctor`` reports: its rules (ids, severities, titles), ``Finding``, and the files it reads.

``SourceFile`` is one of the two AWS files as the linter (``rolecall.config.lint``) gets it; ``read_source`` reads
one. Pure values: nothing here prints or looks at the clock.
"""

from __future__ import annotations

import os
import stat

from rolecall.errors import FileError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ERROR", "INFO", "RULES", "WARNING", "Finding", "SourceFile", "read_source"]

ERROR = "error"
WARNING = "warning"
INFO = "info"

#: id -> (severity, one-line title). Ids are stable: a retired rule's id is never reused.
RULES: dict[str, tuple[str, str]] = {
    "RC000": (ERROR, "a file botocore cannot parse (the AWS CLI and every SDK fail on it)"),
    "RC001": (ERROR, "a source_profile loop"),
    "RC002": (ERROR, "source_profile names a profile that does not exist"),
    "RC003": (ERROR, "mfa_serial is not an MFA device ARN or hardware serial"),
    "RC004": (ERROR, "source_profile together with credential_source"),
    "RC005": (ERROR, "duration_seconds above 3600 on a chained role (AWS caps role chaining at 1 h)"),
    "RC006": (ERROR, "an invalid region name"),
    "RC007": (WARNING, "access keys in the config file instead of the credentials file"),
    "RC008": (ERROR, "plaintext keys in a file others can read"),
    "RC009": (ERROR, "two sections for one name: botocore keeps the later one and silently drops the earlier"),
    "RC010": (WARNING, "a name that differs only by case from one botocore knows (botocore ignores it)"),
    "RC011": (WARNING, "an unknown key (a typo botocore silently ignores)"),
    "RC012": (WARNING, "an expired session saved in the credentials file"),
    "RC013": (ERROR, "this computer's clock is off from STS's (requests are refused beyond 5 minutes)"),
    "RC014": (WARNING, "a section botocore does not read as a profile"),
    "RC015": (WARNING, "a region no AWS partition has: a typo (with a did-you-mean) or an availability zone"),
    "RC016": (ERROR, "role_arn with neither source_profile nor credential_source"),
    "RC017": (ERROR, "credential_source is not Environment, Ec2InstanceMetadata or EcsContainer"),
    "RC018": (ERROR, "role_arn is not a role ARN"),
    "RC019": (ERROR, "an IAM Identity Center profile missing a required setting"),
    "RC020": (ERROR, "sso_session names a [sso-session] that is missing or incomplete"),
    "RC021": (ERROR, "a profile and its sso-session disagree on sso_start_url or sso_region"),
    "RC022": (ERROR, "a credential_process or mfa_process that cannot be run"),
    "RC023": (ERROR, "mfa_strategy, duration_seconds or mfa_session_duration that rolecall cannot read"),
    "RC024": (ERROR, "a session name, external id or duration STS refuses"),
    "RC025": (ERROR, "a source profile without credentials"),
    "RC026": (ERROR, "mfa_strategy = reuse with a source that has no long-term keys"),
    "RC027": (ERROR, "an empty access key, or an access key without its secret"),
    "RC028": (ERROR, "web_identity_token_file without role_arn"),
    "RC029": (ERROR, "a setting the AWS SDKs refuse (services section, retries, endpoints, timestamps)"),
    "RC030": (ERROR, "a source_profile chain longer than rolecall resolves"),
}


class Finding:
    """One problem: rule ``id``, ``severity``, the ``profile`` it is about (or ``None`` for a whole file), the
    ``file`` and ``line`` where it is (``None`` when unknown), a one-line ``message`` and the ``fix``. Immutable."""

    __slots__ = ("file", "fix", "id", "line", "message", "profile", "severity")

    id: str
    severity: str
    profile: str | None
    file: str | None
    line: int | None
    message: str
    fix: str

    def __init__(self, id: str, profile: str | None, file: str | None, line: int | None, message: str, fix: str,
                 severity: str | None = None) -> None:
        set_ = object.__setattr__
        set_(self, "id", id)
        set_(self, "severity", severity or RULES[id][0])
        set_(self, "profile", profile)
        set_(self, "file", file)
        set_(self, "line", line)
        set_(self, "message", message)
        set_(self, "fix", fix)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Finding is immutable")

    def __repr__(self) -> str:
        return f"Finding({self.id!r}, {self.profile!r}, line={self.line!r})"

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``--output json``."""
        return {name: getattr(self, name) for name in ("id", "severity", "profile", "file", "line", "message", "fix")}


class SourceFile:
    """One of the two files as the linter gets it: ``path``, its ``text`` (``None``: no such file) and its
    permission bits ``mode`` (``None`` where modes mean nothing, e.g. Windows)."""

    __slots__ = ("mode", "path", "text")

    def __init__(self, path: str, text: str | None, mode: int | None = None) -> None:
        self.path = path
        self.text = text
        self.mode = mode


def read_source(path: str) -> SourceFile:
    """Read ``path`` for ``lint``: a missing file has ``text`` ``None``; ``FileError`` if it cannot be read."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return SourceFile(path, None)  # botocore treats anything but a regular file as missing
        with open(path, "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return SourceFile(path, None)
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror or exc}",
                        hint="check the file's owner and mode (ls -l); it should be readable by you") from None
    # Undecodable bytes are kept visible (replacement characters): parse_raw then reports the file as unparsable
    # where botocore would fail too.
    text = data.decode("utf-8", "replace")
    mode = None if os.name == "nt" else stat.S_IMODE(st.st_mode)
    return SourceFile(path, text, mode)
