"""Reading a key pair from a person or a pipe, never from the command line.

On a terminal: two no-echo prompts on /dev/tty (getpass). Otherwise from stdin: two lines (access key id,
then secret) or the JSON object ``{"AccessKeyId": ..., "SecretAccessKey": ...}`` (what ``keys export`` and a
``credential_process`` print), so ``pass show aws/alice | rolecall keys add alice`` works.
"""

from __future__ import annotations

import json
import os
from typing import TextIO

from rolecall.errors import InvalidInputError
from rolecall.keys.store import StoredKey, check_key

_NO_TTY_HINT = "run it on a terminal, or pipe the two lines (access key id, secret) into it"


def ask_secret(prompt: str, *, tty: str = "/dev/tty", what: str = "the value") -> str:
    """Ask on the terminal ``tty`` without echo (getpass). ``InvalidInputError`` without a terminal."""
    import getpass
    import warnings

    try:
        fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise InvalidInputError(f"{what} is needed and there is no terminal to ask for it", hint=_NO_TTY_HINT) from None
    # The prompt is written there; getpass reads the answer from /dev/tty itself, with echo off.
    with open(fd, "w", encoding="utf-8", errors="replace", closefd=True) as terminal, warnings.catch_warnings():
        # getpass falls back to reading WITH echo when it cannot turn echo off: a secret on screen is worse.
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            return getpass.getpass(prompt, stream=terminal).strip()
        except getpass.GetPassWarning:
            raise InvalidInputError(f"cannot turn off echo on the terminal to ask for {what}",
                                    hint=_NO_TTY_HINT) from None  # fmt: skip
        except EOFError:
            raise InvalidInputError(f"no {what} was entered", hint=_NO_TTY_HINT) from None


def read_key(stdin: TextIO, stdin_is_tty: bool, *, tty: str = "/dev/tty") -> StoredKey:
    """A key pair from the terminal (no echo for the secret) or from stdin when it is not a terminal."""
    if stdin_is_tty:
        # The id is not a secret, but it goes through getpass too: fewer surprises in screen recordings.
        key_id = ask_secret("AWS Access Key ID: ", tty=tty, what="the access key id")
        secret = ask_secret("AWS Secret Access Key: ", tty=tty, what="the secret access key")
        return check_key(key_id, secret)
    text = stdin.read(64 * 1024)
    return parse_key_text(text)


def parse_key_text(text: str) -> StoredKey:
    """Two lines, or the credential_process JSON; ``InvalidInputError`` (never echoing the input) otherwise."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            raise InvalidInputError(
                "the input starts with '{' but is not JSON",
                hint='give {"AccessKeyId": "AKIA...", "SecretAccessKey": "..."}',
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("AccessKeyId"), str) or not isinstance(
            data.get("SecretAccessKey"), str
        ):
            raise InvalidInputError(
                "the JSON input has no AccessKeyId and SecretAccessKey strings",
                hint='give {"AccessKeyId": "AKIA...", "SecretAccessKey": "..."}',
            )
        if data.get("SessionToken"):
            raise InvalidInputError(
                "the JSON input carries a SessionToken: those are temporary credentials",
                hint="store an IAM user's long-term access key (AKIA...)",
            )
        return check_key(data["AccessKeyId"], data["SecretAccessKey"])
    lines = [line.strip() for line in stripped.splitlines() if line.strip()]
    if len(lines) != 2:
        raise InvalidInputError(
            f"expected two lines on stdin (access key id, then secret access key), got {len(lines)}",
            hint="give exactly two lines, or the JSON object",
        )
    return check_key(lines[0], lines[1])
