"""Hostile input on the sign-in surfaces of issue 18: the SAML assertion (a DTD in any encoding, entities, deep
nesting, huge input) and what a ``credential_process`` or ``rolecall process-cache`` tool prints.

No mocks: the assertion parser is given the bytes a hostile identity provider would post; the tools are real
programs run by the real ``rolecall`` command.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rolecall.errors import LoginError
from rolecall.saml.assertion import parse_response

ROLE = "arn:aws:iam::111122223333:role/Admin,arn:aws:iam::111122223333:saml-provider/Corp"
_DTD = (
    '<!DOCTYPE r [<!ENTITY a "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
)


def _response(body: str, *, encoding: str = "utf-8", dtd: str = "") -> str:
    declaration = f'<?xml version="1.0" encoding="{encoding.upper()}"?>'
    document = (
        f'{declaration}{dtd}<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Assertion><saml:AttributeStatement>'
        f'<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">'
        f"<saml:AttributeValue>{body}</saml:AttributeValue></saml:Attribute>"
        f"</saml:AttributeStatement></saml:Assertion></samlp:Response>"
    )
    return base64.b64encode(document.encode(encoding)).decode()


def test_a_plain_assertion_is_read() -> None:
    assert [role.role_arn for role in parse_response(_response(ROLE)).roles] == [ROLE.split(",")[0]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_dtd_is_refused_in_every_encoding(encoding: str) -> None:
    """``<!DOCTYPE`` in UTF-16 is not the bytes ``<!doctype``: before the fix such a document was parsed and its
    entities expanded (an internal entity reached the role ARN)."""
    try:
        encoded = _response(ROLE.replace("Admin", "Admin&c;"), encoding=encoding, dtd=_DTD)
    except LookupError:
        pytest.skip(f"no codec {encoding}")
    with pytest.raises(LoginError) as caught:
        parse_response(encoded)
    assert "DTD" in caught.value.message or "XML" in caught.value.message
    assert "AAAA" not in str(caught.value) and encoded[:40] not in str(caught.value)


def test_deep_nesting_is_one_clear_error_not_a_crash() -> None:
    deep = "<x>" * 20000 + "</x>" * 20000
    encoded = base64.b64encode(f"<r>{deep}</r>".encode()).decode()[:99_000]
    with pytest.raises(LoginError):
        parse_response(encoded)


def test_huge_assertion_is_refused_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(LoginError) as caught:
        parse_response("QUFB" * 5_000_000)
    assert "larger" in caught.value.message
    assert time.monotonic() - started < 5


# -- what a credential_process / process-cache tool prints ----------------------------------------------------------
_GOOD = {"Version": 1, "AccessKeyId": "AKIAHOSTILETOOL00001", "SecretAccessKey": "hostileSECRETvalue0123456789"}
HOSTILE_OUTPUTS = {
    "deep nesting": "sys.stdout.write('[' * 100000 + ']' * 100000)",
    "session token a list": f"print(json.dumps({{**{_GOOD!r}, 'SessionToken': ['x']}}))",
    "account id an object": f"print(json.dumps({{**{_GOOD!r}, 'AccountId': {{'a': 1}}}}))",
    "NUL in the secret": f"print(json.dumps({{**{_GOOD!r}, 'SecretAccessKey': 'hostile\\u0000SECRET'}}))",
    "escape in the key id": f"print(json.dumps({{**{_GOOD!r}, 'AccessKeyId': 'AKIA\\u001b[2J\\u001b]0;x\\u0007'}}))",
    "line break in the token": f"print(json.dumps({{**{_GOOD!r}, 'SessionToken': 'tok\\nexport X=1'}}))",
    # 64 MiB of a valid answer: before the fix it was read whole, cached and printed.
    "huge": "sys.stdout.write('{\"Version\": 1, \"SecretAccessKey\": \"s\", \"AccessKeyId\": \"'"
    " + 'A' * (64 * 1024 * 1024) + '\"}')",
}


def _tool(tmp_path: Path, name: str) -> Path:
    tool = tmp_path / "tool.py"
    tool.write_text("import json, sys\n" + HOSTILE_OUTPUTS[name] + "\n")
    return tool


def _rolecall(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join(sys.path),
        "HOME": str(tmp_path),
        "ROLECALL_HOME": str(tmp_path / "rolecall"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    return subprocess.run([sys.executable, "-m", "rolecall", *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120, cwd=tmp_path)  # fmt: skip


def _assert_one_clear_line(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 3, (done.returncode, done.stderr[-400:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "hint" in lines[0], done.stderr[-400:]
    assert "internal error" not in done.stderr
    assert "hostile" not in done.stderr and "SECRET" not in done.stderr  # no value is shown
    assert "\x1b" not in done.stderr + done.stdout and "\x00" not in done.stderr + done.stdout
    assert "AKIAHOSTILE" not in done.stdout


@pytest.mark.parametrize("name", sorted(HOSTILE_OUTPUTS))
def test_process_cache_refuses_hostile_tool_output_with_one_line(tmp_path: Path, name: str) -> None:
    done = _rolecall(tmp_path, "process-cache", "--", sys.executable, str(_tool(tmp_path, name)))
    _assert_one_clear_line(done)
    cache = tmp_path / "rolecall" / "process-cache"
    assert not cache.exists() or not [p for p in cache.iterdir() if p.suffix == ".json"]  # nothing cached


@pytest.mark.parametrize("command", [("env",), ("exec",)])
@pytest.mark.parametrize("name", sorted(set(HOSTILE_OUTPUTS) - {"huge"}))
def test_credential_process_refuses_hostile_output_with_one_line(
    tmp_path: Path, name: str, command: tuple[str, ...]
) -> None:
    (tmp_path / "config").write_text(
        f"[profile untrusted]\ncredential_process = {sys.executable} {_tool(tmp_path, name)}\n"
    )
    args = [*command, "untrusted"] + (["--", "true"] if command == ("exec",) else [])
    _assert_one_clear_line(_rolecall(tmp_path, *args))
