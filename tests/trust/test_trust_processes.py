"""Issue 15, processes and endpoints: what ``rolecall exec`` hands its child, the loopback redirect server of
``sso login``, a portal that repeats its page token, a token that cannot be saved, and ``sso logout`` over TLS.

Everything real: rolecall in a subprocess, bash pipelines, raw TCP connections to the redirect port, a malicious
IAM Identity Center portal on 127.0.0.1 (plain HTTP, and HTTPS with a self-signed certificate), a read-only
folder with file modes binding root, a full tmpfs in a private mount namespace.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.errors import ExitCode
from rolecall.sandbox import Sandbox
from sandbox_fixtures import (
    sandbox,  # noqa: F401 - the fixture
    seeded_env,
)
from test_cmd_exec import MODES
from test_sso import SESSION, _env, _token_path

TESTS = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------------------------
# Item 8: exec does not hand the key store's passphrase to CMD

PRINT_ENV = "import json, os; print(json.dumps(dict(os.environ)))"


@pytest.mark.parametrize("mode", MODES)
def test_exec_does_not_pass_the_key_store_passphrase_to_cmd(
    sandbox: Sandbox, aws_home: AwsHome, mode: str  # noqa: F811
) -> None:
    from rolecall.keys.filestore import PASSPHRASE_VARIABLE

    env = seeded_env(sandbox, aws_home)
    passphrase = "correct horse battery staple 4711"
    env[PASSPHRASE_VARIABLE] = passphrase
    env["ROLECALL_KEYS_BACKEND"] = "file"
    result = run_rolecall(["exec", *MODES[mode], "readonly", "--", sys.executable, "-c", PRINT_ENV], env)
    assert result.returncode == 0, result.stderr
    seen: dict[str, str] = json.loads(result.stdout)
    assert PASSPHRASE_VARIABLE not in seen
    assert not [name for name, value in seen.items() if passphrase in value]
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in seen if mode == "server" else "AWS_SECRET_ACCESS_KEY" in seen


def test_every_secret_key_store_variable_is_stripped() -> None:
    """The list exec strips names the variables the key stores read secrets from."""
    from rolecall import childenv
    from rolecall.keys import filestore

    assert filestore.PASSPHRASE_VARIABLE in childenv.SECRET_VARIABLES


# ---------------------------------------------------------------------------------------------------------------
# Item 13: CMD starts with SIGPIPE and SIGXFSZ at their defaults


def _run_group(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in a session of its own; on timeout kill the whole group (a spinning pipeline too) and fail."""
    process = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"still running after {timeout} s (a pipeline that never ends): {err[-2000:]}")
    return subprocess.CompletedProcess(args, process.returncode, out, err)


PIPELINES = r"""
yes | head -1 >/dev/null; echo "yes=${PIPESTATUS[0]}"
while true; do echo x; done | head -1
grep -E '^SigIgn:' /proc/self/status
"""


@pytest.mark.parametrize("mode", MODES)
def test_cmd_gets_default_sigpipe_and_sigxfsz(sandbox: Sandbox, aws_home: AwsHome, mode: str) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    rolecall = [sys.executable, "-m", "rolecall", "exec", *MODES[mode], "readonly", "--"]
    result = _run_group([*rolecall, "bash", "-c", PIPELINES], env, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # `yes` killed by SIGPIPE (128 + 13) as in a terminal, not exiting 1 on EPIPE; the loop ended by SIGPIPE.
    assert lines[0] == "yes=141", result.stdout + result.stderr
    assert lines[1] == "x"
    ignored = int(lines[2].split()[1], 16)
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):
        assert not ignored & (1 << (signum - 1)), f"{signum.name} is ignored in CMD"


# ---------------------------------------------------------------------------------------------------------------
# Item 14: the redirect server of `sso login` is not blocked by a silent connection

#: A BROWSER that first opens two connections to rolecall's redirect port which never send a request (one
#: silent, one stopping half-way through its request line, as Chromium's preconnects and a hostile local user
#: do), then (SILENT_BROWSER=approve) approves as a person would, and holds both connections until rolecall ends.
SILENT_BROWSER = r"""
import os, socket, sys, time, urllib.parse
sys.path.insert(0, {tests!r})
url = sys.argv[1]
redirect = urllib.parse.urlsplit(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["redirect_uri"][0])
silent = socket.create_connection((redirect.hostname, redirect.port))
half = socket.create_connection((redirect.hostname, redirect.port))
half.sendall(b"GET /oauth/callback?state=")
time.sleep(1.0)  # the server has accepted both by now
log = os.environ["SILENT_BROWSER_LOG"]
if os.environ["SILENT_BROWSER"] == "approve":
    from browser_approve import approve_over_http
    try:
        text = approve_over_http(url)
    except Exception as error:
        text = "error " + type(error).__name__
    with open(log, "a") as handle:
        handle.write("result " + text + "\n")
parent, end = os.getppid(), time.monotonic() + 90
while os.getppid() == parent and time.monotonic() < end:
    time.sleep(0.2)
"""


def _silent_browser(home: AwsHome, env: dict[str, str], mode: str) -> Path:
    script = home.root / "silent-browser"
    script.write_text(f"#!{sys.executable}\n" + SILENT_BROWSER.format(tests=str(TESTS)))
    script.chmod(0o755)
    env["BROWSER"] = str(script)
    env["SILENT_BROWSER"] = mode
    log = home.root / "silent-browser.log"
    env["SILENT_BROWSER_LOG"] = str(log)
    return log


def test_a_silent_connection_does_not_block_the_real_redirect(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    log = _silent_browser(aws_home, env, "approve")
    done = run_rolecall(["sso", "login", "--sso-session", SESSION, "--timeout", "60"], env, timeout=45)
    assert done.returncode == 0, done.stderr
    assert "result Signed in" in log.read_text()
    assert _token_path(aws_home).exists()


def test_timeout_fires_on_time_while_a_connection_stays_silent(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    _silent_browser(aws_home, env, "hold")
    start = time.monotonic()
    done = run_rolecall(["sso", "login", "--sso-session", SESSION, "--timeout", "3"], env, timeout=30)
    elapsed = time.monotonic() - start
    assert done.returncode == ExitCode.LOGIN, done.stderr
    assert "timed out waiting for the IAM Identity Center sign-in" in done.stderr.strip().splitlines()[-1]
    assert elapsed < 12, f"--timeout 3 took {elapsed:.1f} s"


def test_the_redirect_server_answers_while_many_connections_hang() -> None:
    """In process: 20 silent connections, then the redirect: the code comes back at once."""
    from rolecall.oauth import RedirectReceiver
    from rolecall.sso.login import wait_for_code
    from rolecall.sso.settings import SsoLogin

    login = SsoLogin("corp", "https://d-1234567890.awsapps.com/start", "eu-west-1")
    with RedirectReceiver("the-state", listen_hint="-") as callback:
        port = callback.server.server_address[1]
        silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        time.sleep(0.3)

        def redirect() -> None:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(b"GET /oauth/callback?code=the-code&state=the-state HTTP/1.1\r\nHost: x\r\n\r\n")
                conn.recv(4096)

        threading.Thread(target=redirect, daemon=True).start()
        start = time.monotonic()
        assert wait_for_code(callback, time.monotonic() + 20, login) == "the-code"
        assert time.monotonic() - start < 5
        for conn in silent:
            conn.close()


# ---------------------------------------------------------------------------------------------------------------
# A malicious IAM Identity Center portal on 127.0.0.1

Answer = Callable[[str, str, dict[str, str]], tuple[int, dict[str, Any] | None]]


class Portal:
    """An HTTP(S) server on 127.0.0.1 answering the sso portal's REST calls through ``answer(method, path, query)``;
    it records every request (method, path, query, bearer token)."""

    def __init__(self, answer: Answer, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[tuple[str, str, dict[str, str], str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                parts = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                outer.requests.append((self.command, parts.path, query, self.headers.get("x-amz-sso_bearer_token")))
                status, body = answer(self.command, parts.path, query)
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, path: str) -> int:
        return sum(1 for request in self.requests if request[1] == path)


@pytest.fixture
def portal() -> Iterator[Callable[..., Portal]]:
    started: list[Portal] = []

    def start(answer: Answer, tls: ssl.SSLContext | None = None) -> Portal:
        server = Portal(answer, tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


ACCESS_TOKEN = "aoaAAAAAGtestaccesstoken0123456789abcdefghijklmnop"


def _sso_home(home: AwsHome, endpoint: str, session: str = "corp") -> dict[str, str]:
    """A config with ``[sso-session corp]``, a fresh cached token for it, the portal at ``endpoint``."""
    home.write_config(
        f"[sso-session {session}]\nsso_start_url = https://d-1234567890.awsapps.com/start\n"
        f"sso_region = eu-west-1\n\n[profile dev]\nsso_session = {session}\nsso_account_id = 111122223333\n"
        "sso_role_name = Admin\nregion = eu-west-1\n"
    )
    folder = home.root / ".aws" / "sso" / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    expires = (datetime.now(timezone.utc) + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token = folder / (hashlib.sha1(session.encode()).hexdigest() + ".json")
    token.write_text(json.dumps({"startUrl": "https://d-1234567890.awsapps.com/start", "region": "eu-west-1",
                                 "accessToken": ACCESS_TOKEN, "expiresAt": expires}))  # fmt: skip
    token.chmod(0o600)
    env = dict(home.env)
    env["AWS_ENDPOINT_URL_SSO"] = endpoint
    env["AWS_ENDPOINT_URL_SSO_OIDC"] = "http://127.0.0.1:9"  # never needed: the token is fresh
    return env


# ---------------------------------------------------------------------------------------------------------------
# Item 15: a portal that repeats its nextToken


def _accounts(n: int, prefix: str = "1111") -> list[dict[str, str]]:
    return [{"accountId": f"{prefix}{i:08d}", "accountName": f"acct{prefix}{i}", "emailAddress": "a@example.com"}
            for i in range(n)]  # fmt: skip


def _roles(query: dict[str, str]) -> dict[str, Any]:
    return {"roleList": [{"roleName": "Admin", "accountId": query.get("account_id", "")}]}


@pytest.mark.parametrize(
    ("where", "tokens"),
    [("ListAccounts", ["same"]), ("ListAccounts", ["a", "b"]), ("ListAccountRoles", ["same"])],
    ids=["accounts-same-token", "accounts-cycle-of-two", "roles-same-token"],
)
def test_sync_stops_when_the_portal_repeats_its_next_token(
    aws_home: AwsHome, portal: Callable[..., Portal], where: str, tokens: list[str]
) -> None:
    calls = {"n": 0}

    def answer(method: str, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        calls["n"] += 1
        if calls["n"] > 500:  # the old code would page forever: end it, so that the test fails instead of hanging
            return 200, {"accountList": [], "roleList": []}
        cycle = tokens[calls["n"] % len(tokens)]
        if path == "/assignment/accounts":
            page: dict[str, Any] = {"accountList": _accounts(2)}
            if where == "ListAccounts":
                page["nextToken"] = cycle
            return 200, page
        page = _roles(query)
        if where == "ListAccountRoles":
            page["nextToken"] = cycle
        return 200, page

    server = portal(answer)
    env = _sso_home(aws_home, server.url)
    config = aws_home.config.read_bytes()
    done = run_rolecall(["sso", "sync", "--sso-session", "corp"], env, timeout=60)
    assert done.returncode == ExitCode.NETWORK, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert f"repeated a page token in its {where} answers" in line, line
    assert "Traceback" not in done.stderr and ACCESS_TOKEN not in done.stderr
    assert len(server.requests) <= 2 + 2 * 8  # a few pages per call, not thousands
    assert aws_home.config.read_bytes() == config  # nothing written


def test_listing_stops_after_the_page_cap(portal: Callable[..., Portal], monkeypatch: pytest.MonkeyPatch) -> None:
    """A portal that gives a new nextToken on every page, forever: the listing ends at the cap with an error."""
    from rolecall.aws import sts
    from rolecall.errors import NetworkError
    from rolecall.sso import api
    from rolecall.sso.settings import SsoLogin

    counter = {"n": 0}

    def answer(method: str, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        counter["n"] += 1
        # Stop after 200 pages whatever happens, so that code without a cap ends (and this test fails).
        more = {"nextToken": f"token-{counter['n']}"} if counter["n"] < 200 else {}
        return 200, {"accountList": _accounts(1, prefix=f"{counter['n']:04d}"), **more}

    server = portal(answer)
    monkeypatch.setattr(api, "MAX_PAGES", {"ListAccounts": 25, "ListAccountRoles": 25}, raising=False)
    settings = sts.StsSettings(region="eu-west-1", endpoint_url=server.url, service="sso")
    login = SsoLogin("corp", "https://d-1234567890.awsapps.com/start", "eu-west-1")
    with pytest.raises(NetworkError) as raised:
        list(api.list_accounts(settings, login, ACCESS_TOKEN))
    assert "more than 25 pages" in raised.value.message
    assert counter["n"] == 25


def test_sync_still_follows_a_normal_next_token(aws_home: AwsHome, portal: Callable[..., Portal]) -> None:
    """Three pages of accounts, two of roles each: all of them listed, once."""

    def answer(method: str, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        if path == "/assignment/accounts":
            index = int(query.get("next_token") or 0)
            page: dict[str, Any] = {"accountList": _accounts(2, prefix=f"{index:04d}")}
            if index < 2:
                page["nextToken"] = str(index + 1)
            return 200, page
        if query.get("next_token"):
            return 200, {"roleList": [{"roleName": "ReadOnly", "accountId": query["account_id"]}]}
        return 200, {**_roles(query), "nextToken": "more"}  # every account repeats "more" once: not a loop

    server = portal(answer)
    env = _sso_home(aws_home, server.url)
    done = run_rolecall(["sso", "sync", "--sso-session", "corp"], env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "12 profiles for 6 accounts" in done.stderr
    assert server.count("/assignment/accounts") == 3 and server.count("/assignment/roles") == 12


# ---------------------------------------------------------------------------------------------------------------
# Item 16: `sso login` fails when its token cannot be saved


def _assert_unsaved(done: subprocess.CompletedProcess[str], *, before_sign_in: bool = True) -> None:
    assert done.returncode == ExitCode.FILE, done.stderr
    assert "Successfully logged into" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "could not be saved" in last and "Traceback" not in done.stderr, done.stderr
    # Nobody is asked to approve a login whose token could not be kept, when that is known beforehand (the client
    # registration, saved first in the same folder, could not be written).
    assert ("open this URL" not in done.stderr) == before_sign_in, done.stderr


def test_login_fails_when_the_token_folder_is_read_only(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    folder = aws_home.root / ".aws" / "sso" / "cache"
    folder.mkdir(parents=True)
    folder.chmod(0o500)
    try:
        done = run_rolecall(["sso", "login", "--sso-session", SESSION, "--use-device-code"], env, modes_bind=True)
    finally:
        folder.chmod(0o700)
    _assert_unsaved(done)
    assert not _token_path(aws_home).exists()


def test_login_fails_when_only_the_token_cannot_be_written(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """The registration is cached from an earlier login, the folder has become read-only since: the person
    approves, then the token cannot be written: exit 7, and the old token is left as it was."""
    env = _env(sandbox, aws_home)
    first = run_rolecall(["sso", "login", "--sso-session", SESSION, "--use-device-code"], env)
    assert first.returncode == 0, first.stderr
    before = _token_path(aws_home).read_bytes()
    folder = _token_path(aws_home).parent
    folder.chmod(0o500)
    try:
        done = run_rolecall(["sso", "login", "--sso-session", SESSION, "--use-device-code"], env, modes_bind=True)
    finally:
        folder.chmod(0o700)
    _assert_unsaved(done, before_sign_in=False)
    assert _token_path(aws_home).read_bytes() == before


def test_login_fails_when_the_disk_is_full(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a private mount namespace with a small tmpfs")
    env = _env(sandbox, aws_home)
    folder = aws_home.root / ".aws" / "sso"
    folder.mkdir(parents=True)
    # A 64 KiB tmpfs over ~/.aws/sso, filled up, visible only to this command (a private mount namespace).
    script = (
        'mount -t tmpfs -o size=64k,mode=0700 rolecall-full "$1" && mkdir -m 0700 "$1/cache" && '
        '(dd if=/dev/zero of="$1/cache/filler" bs=4k 2>/dev/null; true) && shift && exec "$@"'
    )
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(folder),
               sys.executable, "-m", "rolecall", "sso", "login", "--sso-session", SESSION, "--use-device-code"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if "mount:" in done.stderr and done.returncode == 32:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    _assert_unsaved(done)
    assert "No space left on device" in done.stderr


# ---------------------------------------------------------------------------------------------------------------
# Item 20 (part): `sso logout --ca-bundle FILE` / `--no-verify-ssl`


@pytest.fixture
def tls_portal(tmp_path: Path, portal: Callable[..., Portal]) -> tuple[Portal, Path]:
    """An HTTPS portal with a self-signed certificate for 127.0.0.1 (the CA bundle that trusts it is returned)."""
    cert, key = tmp_path / "portal.pem", tmp_path / "portal.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = portal(lambda method, path, query: (200, None), tls=context)
    return server, cert


@pytest.mark.parametrize("scope", [["--sso-session", "corp"], []], ids=["one-login", "all-logins"])
@pytest.mark.parametrize("option", ["--ca-bundle", "--no-verify-ssl"])
def test_logout_takes_ca_bundle_and_no_verify_ssl(
    aws_home: AwsHome, tls_portal: tuple[Portal, Path], scope: list[str], option: str
) -> None:
    server, cert = tls_portal
    env = _sso_home(aws_home, server.url)
    extra = [option, str(cert)] if option == "--ca-bundle" else [option]
    done = run_rolecall(["sso", "logout", *scope, *extra], env)
    assert done.returncode == 0, done.stderr
    assert "could not end the session" not in done.stderr, done.stderr
    assert [(method, path, token) for method, path, _query, token in server.requests] == [
        ("POST", "/logout", ACCESS_TOKEN)
    ]
    assert not list((aws_home.root / ".aws" / "sso" / "cache").glob("*.json"))


def test_logout_without_the_options_does_not_trust_the_certificate(
    aws_home: AwsHome, tls_portal: tuple[Portal, Path]
) -> None:
    """The options are what made the calls above work: without them the service-side Logout fails (a warning)."""
    server, _cert = tls_portal
    env = _sso_home(aws_home, server.url)
    done = run_rolecall(["sso", "logout", "--sso-session", "corp"], env)
    assert done.returncode == 0, done.stderr
    assert "could not end the session" in done.stderr
    assert server.requests == []
