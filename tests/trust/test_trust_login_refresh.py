"""``aws login`` sessions (``login_session`` profiles) against a hostile AWS Sign-In endpoint on 127.0.0.1.

The token file is made by hand (a real DPoP key, an expired access token), so each run of ``rolecall env`` refreshes
it through CreateOAuth2Token at ``AWS_ENDPOINT_URL_SIGNIN``, a small HTTP server answering shapes a broken or
foreign endpoint could send. Each must end in one line with a hint and exit 10 (LoginError) or 6, never an
internal error, expired credentials, a value echoed, or a damaged token file.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from rolecall.login.dpop import DpopKey

SESSION = "arn:aws:sts::123456789012:assumed-role/Admin/alice"
OLD_SECRET = "oldSECRETaccesskey0123456789abcdefghij"
NEW_SECRET = "newSECRETfromHOSTILEendpoint0123456789"


def _answer(**changes: Any) -> dict[str, Any]:
    access = {"accessKeyId": "ASIAHOSTILE000000001", "secretAccessKey": NEW_SECRET, "sessionToken": "tokHOSTILE"}
    output: dict[str, Any] = {"accessToken": access, "expiresIn": 900, "refreshToken": "newREFRESHtoken",
                              "tokenType": "aws_sigv4"}  # fmt: skip
    for name, value in changes.items():
        if name in access:
            access[name] = value
        else:
            output[name] = value
    return output


HOSTILE = {
    "expiresIn far too large": _answer(expiresIn=10**30),
    "expiresIn negative": _answer(expiresIn=-3600),
    "expiresIn zero": _answer(expiresIn=0),
    "escape in the key id": _answer(accessKeyId="ASIA\x1b[2J\x1b]0;owned\x07"),
    "NUL in the secret": _answer(secretAccessKey="new\x00SECRET"),
    "empty refresh token": _answer(refreshToken=""),
    "line break in the refresh token": _answer(refreshToken="r\nexport X=1"),
}


@pytest.fixture
def hostile_signin() -> Iterator[dict[str, Any]]:
    """A sign-in endpoint on 127.0.0.1 whose CreateOAuth2Token answers ``state["answer"]``."""
    state: dict[str, Any] = {"answer": {}, "calls": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state["calls"] += 1
            body = json.dumps(state["answer"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _home(tmp_path: Path, endpoint: str) -> tuple[dict[str, str], Path]:
    (tmp_path / "config").write_text(f"[profile console]\nlogin_session = {SESSION}\nregion = us-east-1\n")
    cache = tmp_path / ".aws" / "login" / "cache"
    cache.mkdir(parents=True, mode=0o700)
    token = cache / (hashlib.sha256(SESSION.encode()).hexdigest() + ".json")
    document = {
        "accessToken": {"accessKeyId": "ASIAOLD0000000000001", "secretAccessKey": OLD_SECRET,
                        "sessionToken": "oldtoken", "accountId": "123456789012", "expiresAt": "2020-01-01T00:00:00Z"},
        "tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/same-device",
        "refreshToken": "oldREFRESHtoken", "idToken": "x.y.z", "dpopKey": DpopKey.generate().to_pem(),
    }  # fmt: skip
    token.write_text(json.dumps(document))
    token.chmod(0o600)
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join(sys.path),
        "HOME": str(tmp_path),
        "ROLECALL_HOME": str(tmp_path / "rolecall"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_ENDPOINT_URL_SIGNIN": endpoint,
    }
    return env, token


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_refresh_answer_is_one_line_and_leaves_the_token_file_alone(
    tmp_path: Path, hostile_signin: dict[str, Any], name: str
) -> None:
    env, token = _home(tmp_path, hostile_signin["url"])
    before = token.read_bytes()
    hostile_signin["answer"] = HOSTILE[name]
    done = subprocess.run([sys.executable, "-m", "rolecall", "env", "console"], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=120, cwd=tmp_path)  # fmt: skip
    assert hostile_signin["calls"] >= 1
    assert done.returncode in (6, 10), (done.returncode, done.stderr[-500:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "hint" in lines[0], done.stderr[-500:]
    assert "internal error" not in done.stderr
    for secret in (NEW_SECRET, OLD_SECRET, "HOSTILE", "REFRESH", "\x1b", "\x00"):
        assert secret not in done.stderr + done.stdout
    assert token.read_bytes() == before  # nothing from the hostile answer was saved
