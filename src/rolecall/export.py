"""Renderers that hand credentials to a shell, a dotenv file, a JSON reader or an SDK's ``credential_process``.

This module is on the fast path (``rolecall env prod`` from the cache, ``rolecall credential-process``), so it
imports neither ``re``, ``json`` (which pulls in ``re`` and ``enum``), ``shlex`` nor ``typing`` at run time: the
quoting for each shell and the JSON string encoding are written out here. Every renderer is a pure function of
its inputs; none of them prints, and a value a format cannot represent raises ``InvalidInputError`` naming the
variable and the reason, never the value (it may be a secret).

Formats (docs/shells.md has the details and the reasons):

``sh``          bash and zsh: ``export NAME='value'`` / ``unset NAME`` (POSIX single quotes).
``fish``        ``set -gx NAME 'value'`` / ``set -e -g NAME`` (fish's single quotes: ``\\'`` and ``\\\\``).
``powershell``  ``$Env:NAME = 'value'`` / ``Remove-Item``; quote characters doubled.
``cmd``         ``set "NAME=value"`` / ``set "NAME="``; refuses what cmd cannot carry (``%``, ``!``, ``"``,
                control characters, non-ASCII).
``dotenv``      ``NAME="value"`` with ``\\\\ \\" \\n \\r`` escapes, as python-dotenv and Compose read it; refuses ``$``.
``json``        the ``Credentials`` object as ``aws sts assume-role`` prints it (indent 4, ``Z`` expiry).
``process``     the ``credential_process`` document (Version 1, indent 2, ``Z`` expiry), as
                ``aws configure export-credentials --format process`` prints it.
"""

from __future__ import annotations

from rolecall.errors import InvalidInputError
from rolecall.timefmt import format_iso_z

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping, Sequence

    from rolecall.credentials import Credentials

#: Every output format ``render`` accepts.
FORMATS = ("sh", "fish", "powershell", "cmd", "dotenv", "json", "process")

#: Formats that are shell code, able to unset variables as well as set them.
SHELL_FORMATS = ("sh", "fish", "powershell", "cmd")

#: The variables that carry an identity. All of them are replaced or removed on every switch, so nothing of a
#: previous role survives: ``AWS_SECURITY_TOKEN`` is the legacy name botocore still reads, and *before*
#: ``AWS_SESSION_TOKEN``; a stale ``AWS_ACCOUNT_ID`` would route account-based endpoints to the old account.
CREDENTIAL_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCOUNT_ID",
)

#: Profile selectors. With keys exported, a leftover profile name makes tools disagree about who you are
#: (botocore and the AWS CLI v1 even read ``AWS_DEFAULT_PROFILE`` before ``AWS_PROFILE``).
PROFILE_VARS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")

#: Set only when a region is given; never removed by a switch (a region is configuration, not identity).
REGION_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")

#: Names the profile rolecall exported last; read by the shell prompt segment.
ROLECALL_PROFILE = "ROLECALL_PROFILE"

#: Every variable a render may set or unset: what the shell functions save before the first ``assume`` and
#: restore on ``unassume``.
MANAGED_VARS = (*CREDENTIAL_VARS, *PROFILE_VARS, *REGION_VARS, ROLECALL_PROFILE)

#: What ``render_unset`` removes: every identity variable. The region is left alone (see ``REGION_VARS``).
UNSET_VARS = (*CREDENTIAL_VARS, *PROFILE_VARS, ROLECALL_PROFILE)


def env_changes(
    credentials: Credentials,
    *,
    profile: str | None = None,
    region: str | None = None,
    unset_previous: bool = True,
) -> tuple[list[tuple[str, str]], list[str]]:
    """The environment change that delivers ``credentials``: ``(variables to set, in order; names to unset)``.

    ``render`` turns this into shell code; ``apply_to_environ`` applies it to a mapping (for ``exec``).
    With ``unset_previous`` false nothing is unset, only set.
    """
    sets: list[tuple[str, str]] = [
        ("AWS_ACCESS_KEY_ID", credentials.access_key_id),
        ("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key),
    ]
    unsets: list[str] = []
    if credentials.session_token:
        sets.append(("AWS_SESSION_TOKEN", credentials.session_token))
    else:
        # An empty token is no token (botocore reads it so): unset, so that no stale one is paired with the keys.
        unsets.append("AWS_SESSION_TOKEN")
    if credentials.expiration is not None:
        sets.append(("AWS_CREDENTIAL_EXPIRATION", format_iso_z(credentials.expiration)))
    else:
        unsets.append("AWS_CREDENTIAL_EXPIRATION")
    if credentials.account_id:
        sets.append(("AWS_ACCOUNT_ID", credentials.account_id))
    else:
        unsets.append("AWS_ACCOUNT_ID")
    if region:
        sets += [("AWS_REGION", region), ("AWS_DEFAULT_REGION", region)]
    if profile:
        sets.append((ROLECALL_PROFILE, profile))
    else:
        unsets.append(ROLECALL_PROFILE)
    # Botocore reads AWS_SECURITY_TOKEN before AWS_SESSION_TOKEN: a leftover one would pair an old token with
    # the new keys. A leftover profile name makes SDKs warn or pick another identity.
    unsets += ["AWS_SECURITY_TOKEN", *PROFILE_VARS]
    return sets, (unsets if unset_previous else [])


def profile_only_changes(profile: str, *, region: str | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """The environment change that selects ``profile`` by name only, removing exported keys so they do not mix."""
    sets: list[tuple[str, str]] = [("AWS_PROFILE", profile)]
    if region:
        sets += [("AWS_REGION", region), ("AWS_DEFAULT_REGION", region)]
    sets.append((ROLECALL_PROFILE, profile))
    # Keys in the environment beat AWS_PROFILE in every SDK; AWS_DEFAULT_PROFILE beats it in botocore.
    unsets = [*CREDENTIAL_VARS, "AWS_DEFAULT_PROFILE"]
    return sets, unsets


def apply_to_environ(
    environ: MutableMapping[str, str],
    changes: tuple[list[tuple[str, str]], list[str]],
) -> None:
    """Apply ``(sets, unsets)`` from ``env_changes`` or ``profile_only_changes`` to ``environ`` in place."""
    sets, unsets = changes
    for name in unsets:
        environ.pop(name, None)
    for name, value in sets:
        environ[name] = value


def render(
    credentials: Credentials,
    fmt: str,
    *,
    profile: str | None = None,
    region: str | None = None,
    unset_previous: bool = True,
) -> str:
    """Render ``credentials`` in format ``fmt`` (one of ``FORMATS``); the text ends with a newline.

    Shell formats also set ``AWS_REGION``/``AWS_DEFAULT_REGION`` (when ``region`` is given) and
    ``ROLECALL_PROFILE``, and unset what a previous role left behind unless ``unset_previous`` is false.
    ``dotenv`` only sets; ``json`` and ``process`` carry the credentials alone.
    """
    if fmt == "json":
        return _render_json(credentials)
    if fmt == "process":
        return _render_process(credentials)
    return _render_changes(
        env_changes(credentials, profile=profile, region=region, unset_previous=unset_previous), _check_format(fmt)
    )


def render_profile_only(profile: str, fmt: str, *, region: str | None = None) -> str:
    """Shell code (or dotenv) that sets ``AWS_PROFILE`` (and the region) and unsets every exported key.

    For SDKs that refresh credentials themselves from the profile. ``json`` and ``process`` have no way to
    name a profile and are refused.
    """
    if fmt in ("json", "process"):
        raise InvalidInputError(
            f"the {fmt} format carries credentials, not a profile name",
            hint="use a shell format (sh, fish, powershell, cmd) or dotenv to select a profile by name",
        )
    return _render_changes(profile_only_changes(profile, region=region), _check_format(fmt))


def render_unset(fmt: str) -> str:
    """Shell code that unsets every identity variable rolecall sets (``UNSET_VARS``); the region is left alone."""
    if fmt not in SHELL_FORMATS:
        raise InvalidInputError(
            f"the {_check_format(fmt)} format cannot unset variables",
            hint="use one of the shell formats: " + ", ".join(SHELL_FORMATS),
        )
    return _render_changes(([], list(UNSET_VARS)), fmt)


def render_assignments(assignments: Sequence[tuple[str, str]], fmt: str, *, unset: Sequence[str] = ()) -> str:
    """Shell code (or dotenv) that unsets ``unset`` and then sets ``assignments``, each value quoted for ``fmt``.

    For variables other than credentials, e.g. the container-credentials endpoint of ``rolecall serve``.
    ``dotenv`` cannot unset and ignores ``unset``; ``json`` and ``process`` are refused.
    """
    if fmt in ("json", "process"):
        raise InvalidInputError(
            f"the {fmt} format carries credentials, not variables",
            hint="use a shell format (sh, fish, powershell, cmd) or dotenv",
        )
    for name in (*unset, *(name for name, _ in assignments)):
        # Names are written into code unquoted: only identifiers, so a name can never inject anything.
        if not (name and name.isascii() and name.replace("_", "a").isalnum() and not name[0].isdigit()):
            raise InvalidInputError(f"'{name}' is not a valid environment variable name", hint="use A-Z, 0-9 and _")
    return _render_changes((list(assignments), list(unset)), _check_format(fmt))


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown output format '{fmt}'", hint="choose one of: " + ", ".join(FORMATS))
    return fmt


def _render_changes(changes: tuple[list[tuple[str, str]], list[str]], fmt: str) -> str:
    sets, unsets = changes
    setter, unsetter = _SHELLS[fmt]
    # Unsets first, then assignments. In POSIX shells the last assignment succeeds, so `eval` reports success.
    # fish's `set` keeps the status of the command before it, and `set -e` of a missing variable fails: so
    # fish output ends with `true`, for `rolecall env --format fish | source` to report success.
    lines = [] if unsetter is None else [unsetter(name) for name in unsets]
    lines += [setter(name, _checked(name, value)) for name, value in sets]
    if fmt == "fish" and lines:
        lines.append("true")
    return "".join(line + "\n" for line in lines)


def _checked(name: str, value: str) -> str:
    if "\x00" in value:
        # The environment is a list of C strings: a NUL cannot be carried by any format.
        raise InvalidInputError(f"the value of {name} contains a NUL character", hint="no environment can hold it")
    return value


# --- sh (bash, zsh) ----------------------------------------------------------------------------------------


def quote_sh(value: str) -> str:
    """POSIX single-quote ``value``: everything inside ``'...'`` is literal; a ``'`` becomes ``\\'`` outside.

    Empty segments are not written (``'`` alone renders as ``\\'``, not ``''\\'''``), which also keeps the
    result correct under zsh's ``RC_QUOTES`` option, where ``''`` inside quotes means a quote.
    """
    if not value:
        return "''"
    return "\\'".join(f"'{part}'" if part else "" for part in value.split("'"))


def _sh_set(name: str, value: str) -> str:
    return f"export {name}={quote_sh(value)}"


def _sh_unset(name: str) -> str:
    return f"unset {name}"


# --- fish --------------------------------------------------------------------------------------------------


def quote_fish(value: str) -> str:
    """Fish single-quote ``value``: inside ``'...'`` only ``\\'`` and ``\\\\`` are escapes; the rest is literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_set(name: str, value: str) -> str:
    return f"set -gx {name} {quote_fish(value)}"


def _fish_unset(name: str) -> str:
    # -g: erase the global variable only. A plain `set -e` would erase a universal variable of the same
    # name when no global exists, a permanent change to every fish session of the user.
    return f"set -e -g {name}"


# --- PowerShell --------------------------------------------------------------------------------------------

#: PowerShell treats the typographic single quotes as quote characters too, so they must be doubled as well.
_PS_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


def quote_powershell(value: str) -> str:
    """PowerShell single-quote ``value``: a verbatim string where each quote character is doubled."""
    for quote in _PS_QUOTES:
        if quote in value:
            value = value.replace(quote, quote + quote)
    return "'" + value + "'"


def _not_empty(name: str, value: str, shell: str) -> None:
    if not value:
        # Windows has no empty environment variables: assigning '' removes the variable.
        raise InvalidInputError(f"the value of {name} is empty, which {shell} cannot set", hint="check the credentials")


def _ps_set(name: str, value: str) -> str:
    _not_empty(name, value, "PowerShell")
    return f"$Env:{name} = {quote_powershell(value)}"


def _ps_unset(name: str) -> str:
    return f"Remove-Item -Path Env:{name} -ErrorAction SilentlyContinue"


# --- cmd.exe -----------------------------------------------------------------------------------------------


def _cmd_set(name: str, value: str) -> str:
    _not_empty(name, value, "cmd.exe")
    for char in value:
        code = ord(char)
        if char in '%!"' or code < 0x20 or code > 0x7E:
            # `%` and `!` are expanded (at the prompt `%` cannot be escaped at all), `"` toggles cmd's quoting
            # and makes `& | < >` live again, a newline ends the command, and non-ASCII depends on the code page.
            what = "a newline" if char in "\r\n" else f"the character U+{code:04X}"
            raise InvalidInputError(
                f"the value of {name} contains {what}, which cmd.exe cannot set reliably",
                hint="use --format powershell instead",
            )
    return f'set "{name}={value}"'


def _cmd_unset(name: str) -> str:
    return f'set "{name}="'


# --- dotenv ------------------------------------------------------------------------------------------------

_DOTENV_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r"}


def _dotenv_set(name: str, value: str) -> str:
    if "$" in value:
        # python-dotenv expands ${NAME} even inside quotes, and Compose expands $NAME: no escape works in both.
        raise InvalidInputError(
            f"the value of {name} contains '$', which dotenv readers would expand",
            hint="use a shell format instead",
        )
    return f'{name}="{value.translate(_DOTENV_ESCAPES)}"'


_SHELLS: dict[str, tuple[Callable[[str, str], str], Callable[[str], str] | None]] = {
    "sh": (_sh_set, _sh_unset),
    "fish": (_fish_set, _fish_unset),
    "powershell": (_ps_set, _ps_unset),
    "cmd": (_cmd_set, _cmd_unset),
    "dotenv": (_dotenv_set, None),
}


# --- JSON --------------------------------------------------------------------------------------------------

_JSON_ESCAPES: dict[int, str] = {code: f"\\u{code:04x}" for code in range(0x20)}
_JSON_ESCAPES.update(
    {ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 8: "\\b", 12: "\\f"}
)


def json_string(value: str, *, ensure_ascii: bool = True) -> str:
    """``value`` as a JSON string literal, byte for byte what ``json.dumps(value, ensure_ascii=...)`` writes.

    Hand-written because ``import json`` costs the fast path ``re`` and ``enum``.
    """
    text = value.translate(_JSON_ESCAPES)
    if ensure_ascii and (not text.isascii() or "\x7f" in text):
        # json's ASCII mode escapes everything outside space..tilde, DEL included.
        out = []
        for char in text:
            code = ord(char)
            if code < 0x7F:
                out.append(char)
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                # Outside the BMP: a UTF-16 surrogate pair, as json does.
                code -= 0x10000
                out.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
        text = "".join(out)
    return '"' + text + '"'


def _json_object(items: list[tuple[str, str | int]], indent: int, ensure_ascii: bool) -> str:
    pad = " " * indent
    body = ",\n".join(
        f"{pad}{json_string(key)}: {value if isinstance(value, int) else json_string(value, ensure_ascii=ensure_ascii)}"
        for key, value in items
    )
    return "{\n" + body + "\n}\n"


def _render_json(credentials: Credentials) -> str:
    # Exactly `aws sts assume-role ... --query Credentials` (tested against the real AWS CLI v1): JSON with
    # indent 4, ensure_ascii off, and the expiry as STS sends it, `Z`. (The CLI v2 reformats timestamps as
    # `+00:00` by default, cli_timestamp_format=iso8601; both are ISO 8601, and every format here uses `Z`.)
    return _json_object(_credential_items(credentials), 4, ensure_ascii=False)


def _credential_items(credentials: Credentials) -> list[tuple[str, str | int]]:
    """The members STS's ``Credentials`` object has, in its order, the expiry in the wire form (``Z``)."""
    items: list[tuple[str, str | int]] = [
        ("AccessKeyId", credentials.access_key_id),
        ("SecretAccessKey", credentials.secret_access_key),
    ]
    if credentials.session_token is not None:
        items.append(("SessionToken", credentials.session_token))
    if credentials.expiration is not None:
        items.append(("Expiration", format_iso_z(credentials.expiration)))
    return items


def _render_process(credentials: Credentials) -> str:
    # The credential_process document: Version must be the integer 1 (botocore rejects "1"). Layout as
    # `aws configure export-credentials --format process` (json.dumps indent 2). The expiry is written with `Z`
    # (v2 writes `+00:00`): both are RFC 3339 and botocore reads both; `Z` is the STS wire form, the same in
    # every format here. AccountId is optional; botocore and the newer SDKs read it.
    items: list[tuple[str, str | int]] = [("Version", 1), *_credential_items(credentials)]
    if credentials.account_id:
        items.append(("AccountId", credentials.account_id))
    return _json_object(items, 2, ensure_ascii=True)
