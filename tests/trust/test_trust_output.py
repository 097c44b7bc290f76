"""Issue 15, "Secrets in output" (items 9 to 12), tested as an attacker would.

9, 10: a malicious (or broken) endpoint on 127.0.0.1 answers an STS-looking body with credentials inside that
botocore cannot parse: cut short, an HTML page, a redirect, absurd nesting, a bad Expiration, an HTML refusal.
The real CLI (``sts assume-role``, ``env``, ``whoami``, ``sts get-caller-identity``), with and without
``--debug``, must print none of the secrets (botocore's ``ResponseParserError`` quotes the whole body, its
timestamp ``ValueError`` quotes the value; chained exceptions and botocore's debug log carry them too), and must
say in one line which endpoint answered what, exit 6 (EndpointAnswerError), never "internal error" (70). The
credentials server answers the same clean line in its 500.
11: ``console`` puts the region into the destination host: ``AWS_REGION='evil.example/x#'`` must be refused.
12: a profile name with ``%``, ``$(...)``, backquotes, backslashes and control characters, in real zsh
(``PROMPT_SUBST``), bash and fish prompts rendered on a terminal (pexpect).
"""

from __future__ import annotations

import http.server
import io
import json
import logging
import os
import shutil
import subprocess
import threading
import traceback
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

#: What the hostile endpoint hands out: a secret key, a session token, and a marker only the body holds.
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLE//////////wEaDHRPS0VOLVRPS0VOLVRPS0VOLVRPS0VO" + "Zm9vYmFy" * 24
BODY_ONLY = "BodyOnlyMarker7"
#: Pieces that must never be printed (each long enough not to occur by chance; parts of the token too).
SECRETS = (SECRET, SECRET[:20], SECRET[20:], TOKEN[:24], "Zm9vYmFyZm9vYmFy")
LEAKS = (*SECRETS, BODY_ONLY)

ROLE_ARN = "arn:aws:iam::123456789012:role/target"


def _credentials_xml(expiration: str = "2030-01-01T00:00:00Z") -> str:
    return (
        f"<Credentials><AccessKeyId>ASIAHOSTILEEXAMPLE01</AccessKeyId><SecretAccessKey>{SECRET}</SecretAccessKey>"
        f"<SessionToken>{TOKEN}</SessionToken><Expiration>{expiration}</Expiration></Credentials>"
    )


def _answer(action: str, inner: str) -> str:
    return (
        f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{action}Result>{inner}'
        f"<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/target/s</Arn>"
        f"<AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser></{action}Result>"
        f"<ResponseMetadata><RequestId>{BODY_ONLY}</RequestId></ResponseMetadata></{action}Response>"
    )


def _shape(name: str, action: str) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of each hostile answer to ``action``; every body holds the secrets."""
    if name == "truncated":  # an AssumeRole answer cut short in the middle of Expiration
        full = _answer(action, _credentials_xml())
        return 200, {"Content-Type": "text/xml"}, full[: full.index("<Expiration>") + 20].encode()
    if name == "html":  # a captive portal or a web server's page
        page = f"<html><head><title>Sign in</title></head><body><p>{SECRET} {TOKEN} {BODY_ONLY}</p></body></html>"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
    if name == "redirect":  # a proxy sending the client to its login page
        page = f"<html><body><a href='https://login.example/?t={SECRET}'>{TOKEN} {BODY_ONLY}</a></body></html>"
        return 302, {"Location": f"https://login.example/?t={SECRET}", "Content-Type": "text/html"}, page.encode()
    if name == "nested":  # well-formed, absurdly deep: the whole answer inside 200,000 elements
        depth = 200_000
        body = "<a>" * depth + _answer(action, _credentials_xml()) + "</a>" * depth
        return 200, {"Content-Type": "text/xml"}, body.encode()
    if name == "bad-expiration":
        return 200, {"Content-Type": "text/xml"}, _answer(action, _credentials_xml(f"soon-{SECRET}")).encode()
    if name == "refusal-html":  # a WAF's HTML refusal: an error status botocore cannot parse as an AWS error
        page = f"<html><body><h1>Forbidden</h1><p>{SECRET} {TOKEN} {BODY_ONLY}</body></html>"
        return 403, {"Content-Type": "text/html"}, page.encode()
    if name == "refusal-page":  # the same, well-formed: botocore parses it, and finds no AWS error in it
        page = f"<html><body><h1>Forbidden</h1><p>{SECRET} {TOKEN} {BODY_ONLY}</p></body></html>"
        return 403, {"Content-Type": "text/html"}, page.encode()
    raise AssertionError(name)


SHAPES = ("truncated", "html", "redirect", "nested", "bad-expiration", "refusal-html", "refusal-page")


class HostileEndpoint:
    """An HTTP server on 127.0.0.1 answering every request with the hostile shape set in ``shape``."""

    def __init__(self) -> None:
        self.shape = "truncated"
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                owner.requests += 1
                status, headers, body = _shape(owner.shape, form.get("Action", ["AssumeRole"])[0])
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile() -> Iterator[HostileEndpoint]:
    endpoint = HostileEndpoint()
    try:
        yield endpoint
    finally:
        endpoint.close()


def _hostile_env(home: AwsHome, endpoint: HostileEndpoint) -> dict[str, str]:
    """Keys for [default] (not secret to the test), a role profile, STS at the hostile endpoint."""
    home.write_credentials(
        "[default]\naws_access_key_id = AKIAEXAMPLEEXAMPLE00\naws_secret_access_key = notasecretnotasecretnot\n"
    )
    home.write_config(f"[default]\nregion = us-east-1\n\n[profile target]\nrole_arn = {ROLE_ARN}\n"
                      "source_profile = default\n")  # fmt: skip
    return home.env | {"AWS_ENDPOINT_URL_STS": endpoint.url, "AWS_MAX_ATTEMPTS": "1", "AWS_REGION": "us-east-1"}


def _assert_no_leak(result: subprocess.CompletedProcess[str]) -> None:
    for piece in LEAKS:
        assert piece not in result.stdout and piece not in result.stderr, (piece, result.stderr[-3000:])


COMMANDS = {
    "sts assume-role": ["sts", "assume-role", "--role-arn", ROLE_ARN, "--role-session-name", "hostile"],
    "env": ["env", "target"],
    "whoami": ["whoami", "target"],
    "sts get-caller-identity": ["sts", "get-caller-identity"],
}


@pytest.mark.parametrize("shape", SHAPES)
def test_hostile_answers_leak_nothing_and_name_the_endpoint(
    shape: str, hostile: HostileEndpoint, aws_home: AwsHome
) -> None:
    """Items 9 and 10: every command, with and without --debug: no secret, one line naming the endpoint, exit 6."""
    hostile.shape = shape
    env = _hostile_env(aws_home, hostile)
    for label, args in COMMANDS.items():
        if shape == "bad-expiration" and label == "sts get-caller-identity":
            continue  # GetCallerIdentity has no timestamp: botocore ignores the element
        for debug in (True, False):
            result = run_rolecall(["--debug", *args] if debug else args, env)
            _assert_no_leak(result)
            assert result.returncode == 6, (label, debug, result.returncode, result.stderr[-3000:])
            assert "internal error" not in result.stderr
            last = result.stderr.splitlines()[-1]
            operation = "GetCallerIdentity" if label == "sts get-caller-identity" else "AssumeRole"
            assert last.startswith(f"rolecall: the endpoint {hostile.url} did not answer {operation} as STS does: ")
            assert "endpoint_url / AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL" in last
            if debug:
                assert "Traceback (most recent call last)" in result.stderr
                assert "ResponseParserError" not in result.stderr  # botocore's own exception is not chained
            else:
                assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
            assert result.stdout == ""


def test_the_line_says_what_the_endpoint_answered(hostile: HostileEndpoint, aws_home: AwsHome) -> None:
    env = _hostile_env(aws_home, hostile)
    expected = {
        "truncated": "an answer that does not parse (cut short, or not XML) (HTTP 200, text/xml)",
        "html": "XML without the expected result element",
        "redirect": "a redirect (HTTP 302, text/html)",
        "bad-expiration": "a timestamp that is not a date (HTTP 200, text/xml)",
        "refusal-html": "an answer that does not parse (cut short, or not XML) (HTTP 403, text/html)",
        "refusal-page": "an error page that is not the service's (HTTP 403, text/html)",
    }
    for shape, words in expected.items():
        hostile.shape = shape
        result = run_rolecall(COMMANDS["sts assume-role"], env)
        assert words in result.stderr, (shape, result.stderr)


def test_library_error_carries_no_body_in_any_chain_or_log(
    hostile: HostileEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    """The exception a library caller gets: no __cause__/__context__ from botocore, nothing secret in its args or
    its formatted traceback; botocore's debug log ("Response body: ...") masked."""
    from rolecall.aws import sts
    from rolecall.aws.settings import StsSettings
    from rolecall.credentials import Credentials
    from rolecall.errors import ExitCode

    settings = StsSettings(region="us-east-1", endpoint_url=hostile.url, max_attempts=1)
    keys = Credentials("AKIAEXAMPLEEXAMPLE00", "notasecretnotasecretnot")
    for shape in SHAPES:
        hostile.shape = shape
        with caplog.at_level(logging.DEBUG), pytest.raises(Exception) as caught:  # the type is checked below
            sts.assume_role(settings, keys, RoleArn=ROLE_ARN, RoleSessionName="hostile")
        error = caught.value
        assert type(error).__name__ == "EndpointAnswerError", (shape, type(error))
        assert getattr(error, "exit_code", None) == ExitCode.NETWORK
        assert error.__cause__ is None and error.__context__ is None, shape
        text = "".join(traceback.format_exception(error)) + repr(error.args) + str(error.hint)
        assert "Response body" in caplog.text, "botocore's debug log was not captured"
        for piece in LEAKS:
            assert piece not in text, (shape, piece)
        for piece in SECRETS:  # the log may show the rest of the body: it is botocore's wire log
            assert piece not in caplog.text, (shape, piece)
        caplog.clear()


def test_json_services_nested_too_deeply_are_named_too() -> None:
    """The IAM Identity Center portal (rest-json): '[' * 100000 made json.loads raise RecursionError, an internal
    error; now the same one line as for STS, naming the portal and its variable."""
    from rolecall.aws import sts
    from rolecall.aws.settings import StsSettings
    from rolecall.errors import ExitCode

    class Deep(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = ("[" * 100_000).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Deep)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        settings = StsSettings(region="us-east-1", endpoint_url=url, service="sso", max_attempts=1)
        with pytest.raises(Exception) as caught:  # the type is checked below
            sts.call_service(settings, "GetRoleCredentials", roleName="r", accountId="123456789012",
                             accessToken=f"portal-token-{SECRET}")  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    error = caught.value
    assert type(error).__name__ == "EndpointAnswerError" and getattr(error, "exit_code", None) == ExitCode.NETWORK
    assert str(error) == (
        f"the endpoint {url} did not answer GetRoleCredentials as the IAM Identity Center portal does: "
        "an answer nested too deeply (HTTP 200, application/json)"
    )
    assert "AWS_ENDPOINT_URL_SSO" in str(getattr(error, "hint", ""))
    assert error.__context__ is None and error.__cause__ is None


def test_credentials_server_answers_a_clean_500(hostile: HostileEndpoint) -> None:
    """Item 10: the credentials server's 500 for a refresh against the hostile endpoint: the same one line."""
    import http.client

    from rolecall.aws import sts
    from rolecall.aws.settings import StsSettings
    from rolecall.credentials import Credentials
    from rolecall.refresh import RefreshingCredentials
    from rolecall.server import CredentialsServer

    settings = StsSettings(region="us-east-1", endpoint_url=hostile.url, max_attempts=1)
    keys = Credentials("AKIAEXAMPLEEXAMPLE00", "notasecretnotasecretnot")

    def fetch() -> Credentials:
        response = sts.assume_role(settings, keys, RoleArn=ROLE_ARN, RoleSessionName="server")
        return sts.credentials_from_response(response)

    lines: list[str] = []
    for shape in SHAPES:
        hostile.shape = shape
        with CredentialsServer(RefreshingCredentials(fetch), reporter=lines.append) as running:
            host, port = running.url.split("//")[1].split("/")[0].rsplit(":", 1)
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            connection.request("GET", "/" + running.url.split("/", 3)[3], headers={"Authorization": running.token})
            answer = connection.getresponse()
            status, body = answer.status, answer.read().decode()
            connection.close()
        assert status == 500, (shape, status, body)
        for piece in LEAKS:
            assert piece not in body, (shape, piece)
        document = json.loads(body)
        assert document["Code"] == "EndpointAnswerError", document
        assert "internal error" not in document["Message"]
        assert document["Message"].startswith(
            f"rolecall could not refresh the credentials: the endpoint {hostile.url} did not answer AssumeRole"
        )
        assert "(hint: check that endpoint_url" in document["Message"]
    assert all("500 (EndpointAnswerError)" in line for line in lines), lines


def test_debug_traceback_of_an_internal_error_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last line of defence: any exception's text in --debug's traceback, its chain included, is masked
    (the internal-error line asks people to paste that traceback into a report)."""
    from rolecall.cli import main as cli_main
    from rolecall.cli.commands import whoami
    from rolecall.cli.context import Context

    def explode(args: object, ctx: object) -> int:
        try:
            raise KeyError(f"<SecretAccessKey>{SECRET}</SecretAccessKey>")
        except KeyError as first:
            try:
                raise ValueError(f'Invalid timestamp "soon-{SECRET}" {{"sessionToken": "{TOKEN[:30]}"}}') from first
            except ValueError:
                raise RuntimeError(f"token {TOKEN}")  # noqa: B904 - the implicit __context__ is the point

    monkeypatch.setattr(whoami, "run", explode)
    for debug in ([], ["--debug"]):
        out, err = io.StringIO(), io.StringIO()
        ctx = Context(stdin=io.StringIO(), stdout=out, stderr=err, env=dict(os.environ))
        code = cli_main.main([*debug, "whoami"], ctx)
        assert code == 70
        text = err.getvalue()
        for piece in SECRETS:
            assert piece not in text, (debug, piece, text)
        assert text.splitlines()[-1].startswith("rolecall: internal error (RuntimeError)")
        if debug:
            # Still a useful traceback: every exception of the chain, with its type and frames.
            assert text.count("Traceback (most recent call last):") == 3, text
            assert "KeyError" in text and "ValueError: Invalid timestamp" in text and "in explode" in text


# ---------------------------------------------------------------------------------------------------------------
# 11. console: the region goes into the destination's host name


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_console_refuses_a_region_that_is_not_a_region(
    sandbox: Sandbox, aws_home: AwsHome, variable: str  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    assert run_rolecall(["env", "readonly"], env).returncode == 0  # cached: the console needs no STS call now
    calls = sandbox.calls()
    env.pop("AWS_REGION", None)
    env.pop("AWS_DEFAULT_REGION", None)
    env[variable] = "evil.example/x#"
    result = run_rolecall(["console", "readonly", "--print"], env)
    assert result.returncode == 3, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "" and "evil.example/x#" not in result.stdout
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"rolecall: {variable} 'evil.example/x#' is not a valid region name")
    assert "(hint: " in result.stderr and "us-east-1" in result.stderr
    assert sandbox.calls() == calls and sandbox.console_sessions() == []


def test_console_library_refuses_a_host_in_the_region() -> None:
    from rolecall import console
    from rolecall.errors import RolecallError

    with pytest.raises(RolecallError, match="not a valid region name"):
        console.destination_url("aws", "evil.example/x#")
    assert console.destination_url("aws", "eu-west-1").startswith("https://eu-west-1.console.aws.amazon.com/")


# ---------------------------------------------------------------------------------------------------------------
# 12. The prompt segment in real shells, rendered on a terminal

HOSTILE_NAMES = [
    "p%F{red}%n%~%D{%s}%%x",  # zsh prompt escapes: colour, user, directory, date
    "p$(touch {flag})`touch {flag}`x",  # command substitution, both spellings
    "p\\u\\w\\$\\[\\e[31m\\]x",  # bash prompt escapes
    "p\x1b]0;owned\x07\x1b[31mx",  # terminal control sequences (window title, colour)
]


def _shown(name: str, flag: Path) -> str:
    """What the prompt must show for ``name``: every character as is, control characters as '?'."""
    return "".join("?" if ord(char) < 32 or ord(char) == 127 else char for char in name.replace("{flag}", str(flag)))


#: A wide terminal: a long prompt must not wrap (readline redraws wrapped lines).
_PTY: dict[str, object] = {"encoding": "utf-8", "timeout": 20, "dimensions": (24, 2000)}


def _render_prompt(
    shell: str, init: Path, name: str, style: str, home: Path, extra: dict[str, str] | None = None
) -> str:
    """Start ``shell`` interactively on a pty with the prompt set up as docs/shells.md shows; the text of the
    prompt as the terminal receives it, between << and >>."""
    import pexpect

    env = {"PATH": os.environ["PATH"], "HOME": str(home), "TERM": "dumb", "LANG": "C.UTF-8", "ROLECALL_PROFILE": name}
    env.update(extra or {})
    if shell == "zsh":
        segment = "${ROLECALL_PROMPT}" if style == "variable" else "$(rolecall_prompt)"
        setup = (f"source {init}; setopt PROMPT_SUBST; unsetopt PROMPT_SP; precmd_functions+=(rolecall_prompt_update);"
                 f" PROMPT='<<{segment}>>'")  # fmt: skip
        child = pexpect.spawn("zsh", ["-f", "-i"], env=env, **_PTY)
    elif shell == "bash":
        segment = "${ROLECALL_PROMPT}" if style == "variable" else "$(rolecall_prompt)"
        setup = f"source {init}; PROMPT_COMMAND=rolecall_prompt_update; PS1='<<{segment}>>'"
        child = pexpect.spawn("bash", ["--norc", "--noprofile", "-i"], env=env, **_PTY)
    else:
        setup = f"source {init}; function fish_prompt; printf '<<'; rolecall_prompt; printf '>>'; end"
        env["XDG_CONFIG_HOME"] = str(home / "xdg")
        child = pexpect.spawn("fish", ["--no-config", "-i"], env=env, **_PTY)
    child.sendline(setup)
    child.sendline("echo READY")
    child.expect("READY\r\n")
    child.expect("<<(.*?)>>")
    shown = str(child.match.group(1))
    child.sendline("exit")
    child.expect(pexpect.EOF)
    return shown


# fish prompts are functions: rolecall_prompt is the one way there.
@pytest.mark.parametrize(
    ("shell", "style"),
    [("zsh", "variable"), ("zsh", "function"), ("bash", "variable"), ("bash", "function"), ("fish", "function")],
)
def test_prompt_segment_shows_a_hostile_profile_name_literally(
    shell: str, style: str, aws_home: AwsHome, tmp_path: Path
) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    init = tmp_path / f"init.{shell}"
    made = run_rolecall(["shell-init", shell], aws_home.env)
    assert made.returncode == 0, made.stderr
    init.write_text(made.stdout)
    for number, template in enumerate(HOSTILE_NAMES):
        flag = tmp_path / f"flag{number}"
        name = template.replace("{flag}", str(flag))
        shown = _render_prompt(shell, init, name, style, tmp_path)
        assert shown == _shown(template, flag), (shell, style, name, shown)
        assert not flag.exists(), f"{shell} ran a command from the profile name"


def test_zsh_prompt_segment_with_minutes_left_keeps_percent_literal(aws_home: AwsHome, tmp_path: Path) -> None:
    """The segment with the time left ("name 1h57m") and past the expiry is escaped the same way."""
    from datetime import datetime, timedelta, timezone

    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    made = run_rolecall(["shell-init", "zsh"], aws_home.env)
    init = tmp_path / "init.zsh"
    init.write_text(made.stdout)
    for seconds, suffix in ((7000, " 1h57m"), (600, " 10m"), (-60, " expired")):
        expiry = (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
        shown = _render_prompt("zsh", init, "a%nb%~", "variable", tmp_path, {"AWS_CREDENTIAL_EXPIRATION": expiry})
        assert shown == "a%nb%~" + suffix, shown
