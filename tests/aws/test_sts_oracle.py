"""The real AWS CLI is the oracle: pointed at the same strict local STS, it must get the same answers as rolecall.

One AWS CLI process serves every call of a test (``AwsCliRunner``: each AWS CLI start costs about half a
second); rolecall runs in-process through ``rolecall.cli.main.main`` with its own environment mapping (the
subprocess entry point is covered by test_sts_output.py). For each call the two must agree on success vs
failure and on the AWS error code; the sandbox is set up before each tool's call (faults, MFA codes) so that
both see the same server state.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from conftest import AwsHome
from rolecall.cli.context import Context
from rolecall.cli.main import main as rolecall_main
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env

__all__ = ["AwsCliRunner", "run_rolecall_inprocess", "sandbox"]

# A long-lived AWS CLI: reads one JSON request per line ({"args": [...], "env": {...}}), runs the CLI's own
# driver with exactly that environment and answers one JSON line {"rc", "stdout", "stderr"}.
_RUNNER = r"""
import contextlib, io, json, os, sys
from awscli.clidriver import create_clidriver
data_path = os.environ["AWS_DATA_PATH"]  # set by importing awscli: where its own data files are
for line in sys.stdin:
    request = json.loads(line)
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["AWS_DATA_PATH"] = data_path
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = create_clidriver().main(request["args"])
        except SystemExit as exit:
            rc = exit.code if isinstance(exit.code, int) else 255
    sys.__stdout__.write(json.dumps({"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\n")
    sys.__stdout__.flush()
"""


@dataclass
class Result:
    """What one tool printed and returned."""

    rc: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


class AwsCliRunner:
    """One AWS CLI process answering many calls."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _RUNNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        )

    def __call__(self, args: list[str], env: dict[str, str]) -> Result:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"args": args, "env": env}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        return Result(answer["rc"], answer["stdout"], answer["stderr"])

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def aws_cli() -> Iterator[AwsCliRunner]:
    runner = AwsCliRunner()
    yield runner
    runner.close()


def run_rolecall_inprocess(args: list[str], env: dict[str, str]) -> Result:
    """rolecall's real CLI entry (argument parsing, error mapping, exit codes) with its own environment."""
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(stdin=io.StringIO(), stdout=out, stderr=err, env=dict(env))
    rc = rolecall_main(args, ctx)
    return Result(rc, out.getvalue(), err.getvalue())


def aws_code(tool: str, result: Result) -> str | None:
    """The AWS error code a failed call reported (None for success or a failure without one)."""
    pattern = r"An error occurred \((\w+)\)" if tool == "aws" else r"refused: (\w+)"
    found = re.search(pattern, result.stderr)
    return found.group(1) if found else None


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ----------------------------------------------------------------------------------------------------------------
# The table


@dataclass
class World:
    """Everything a case may need: the sandbox, the base environment and credentials made during setup."""

    sb: Sandbox
    env: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    def with_keys(self, key: str, secret: str, token: str | None = None, **more: str) -> dict[str, str]:
        env = dict(self.env)
        env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, **more)
        if token:
            env["AWS_SESSION_TOKEN"] = token
        return env

    def with_credentials(self, name: str, **more: str) -> dict[str, str]:
        block = self.extra[name]
        return self.with_keys(block["AccessKeyId"], block["SecretAccessKey"], block.get("SessionToken"), **more)


@dataclass
class Case:
    """One call made by both tools; ``args``/``env`` are built right before each tool's call."""

    name: str
    args: Callable[[World], list[str]]
    ok: bool
    code: str | None = None
    env: Callable[[World], dict[str, str]] = lambda w: w.env
    before_each: Callable[[World], None] = lambda w: None
    after_each: Callable[[World], None] = lambda w: None
    #: rolecall's exit code when it must differ from the AWS CLI only in refusing locally (8) or by class.
    rolecall_rc: int | None = None


def role(name: str) -> Callable[[World], list[str]]:
    return lambda w: ["sts", "assume-role", "--role-arn", w.sb.role_arn(name), "--role-session-name", "oracle"]


def role_plus(name: str, *more: str) -> Callable[[World], list[str]]:
    return lambda w: [*role(name)(w), *more]


def mfa_args(name: str) -> Callable[[World], list[str]]:
    return lambda w: [*role(name)(w), "--serial-number", w.sb.mfa_serial, "--token-code", w.sb.fresh_code()]


def wrong_code(w: World) -> str:
    # A valid-looking code from an hour ago: outside the one-step drift STS allows.
    return w.sb.totp(at=time.time() - 3600)


def throttle(w: World) -> None:
    w.sb.inject_fault("GetCallerIdentity", "throttle", times=5)


def error500(w: World) -> None:
    w.sb.inject_fault("GetCallerIdentity", "error500", times=5)


def clear(w: World) -> None:
    w.sb.clear_faults()


POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
GCI = ["sts", "get-caller-identity"]
GST = ["sts", "get-session-token"]

CASES: list[Case] = [
    Case("whoami", lambda w: GCI, ok=True),
    Case("whoami-query-text", lambda w: [*GCI, "--query", "Arn", "--output", "text"], ok=True),
    Case("whoami-explicit-endpoint", lambda w: [*GCI, "--endpoint-url", w.sb.endpoint_url], ok=True),
    Case("assume-readonly", role("readonly"), ok=True),
    Case("assume-readonly-1h", role_plus("readonly", "--duration-seconds", "3600"), ok=True),
    Case(
        "assume-readonly-over-max-session",
        role_plus("readonly", "--duration-seconds", "7200"),
        ok=False,
        code="ValidationError",
    ),
    Case("assume-admin-without-mfa", role("admin"), ok=False, code="AccessDenied"),
    Case("assume-admin-with-mfa", mfa_args("admin"), ok=True),
    Case(
        "assume-admin-wrong-code",
        lambda w: [*role("admin")(w), "--serial-number", w.sb.mfa_serial, "--token-code", wrong_code(w)],
        ok=False,
        code="AccessDenied",
        rolecall_rc=5,
    ),
    Case("assume-partner-without-external-id", role("partner"), ok=False, code="AccessDenied"),
    Case(
        "assume-partner-wrong-external-id",
        role_plus("partner", "--external-id", "wrong-ext"),
        ok=False,
        code="AccessDenied",
    ),
    Case("assume-partner", role_plus("partner", "--external-id", "partner-ext-42"), ok=True),
    Case("assume-denied", role("denied"), ok=False, code="AccessDenied"),
    Case("assume-ops-not-trusted", role("ops"), ok=False, code="AccessDenied"),
    Case(
        "assume-with-everything",
        role_plus(
            "readonly",
            "--policy",
            POLICY,
            "--policy-arns",
            "arn=arn:aws:iam::aws:policy/ReadOnlyAccess",
            "--tags",
            "Key=team,Value=blue",
            "Key=cost,Value=42",
            "--transitive-tag-keys",
            "team",
            "--source-identity",
            "alice",
            "--duration-seconds",
            "900",
        ),
        ok=True,
    ),
    Case(
        "assume-json-lists",
        role_plus(
            "readonly",
            "--tags",
            '[{"Key": "team", "Value": "blue"}]',
            "--policy-arns",
            '[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]',
            "--transitive-tag-keys",
            '["team"]',
        ),
        ok=True,
    ),
    # Credentials from a role profile (source_profile chain), through the resolver, as `aws --profile` does.
    Case("whoami-role-profile", lambda w: [*GCI, "--profile", "readonly"], ok=True),
    Case("whoami-role-profile-from-env", lambda w: GCI, ok=True, env=lambda w: {**w.env, "AWS_PROFILE": "partner"}),
    Case("chain-through-role-profile", role_plus("ops", "--profile", "deploy"), ok=True),
    Case("session-token", lambda w: GST, ok=True),
    Case("session-token-15min", lambda w: [*GST, "--duration-seconds", "900"], ok=True),
    Case(
        "session-token-with-mfa",
        # bob's own device: every valid code is used once, and one device gives two per 30 s without waiting.
        lambda w: [*GST, "--serial-number", w.extra["bob"].mfa_serial, "--token-code", w.sb.fresh_code(w.extra["bob"])],
        ok=True,
        env=lambda w: w.with_keys(w.extra["bob"].access_key_id, w.extra["bob"].secret_access_key),
    ),
    Case(
        "session-token-with-session-credentials",
        lambda w: GST,
        ok=False,
        code="AccessDenied",
        env=lambda w: w.with_credentials("readonly"),
    ),
    Case("whoami-as-role", lambda w: GCI, ok=True, env=lambda w: w.with_credentials("readonly")),
    Case(
        "chain-1h",
        role_plus("deploy", "--duration-seconds", "3600"),
        ok=True,
        env=lambda w: w.with_credentials("readonly"),
    ),
    Case(
        "chain-over-1h",
        role_plus("deploy", "--duration-seconds", "7200"),
        ok=False,
        code="ValidationError",
        env=lambda w: w.with_credentials("readonly"),
    ),
    Case(
        "mfa-session-then-admin-over-1h",
        role_plus("admin", "--duration-seconds", "7200"),
        ok=False,
        code="ValidationError",
        env=lambda w: w.with_credentials("mfa-session"),
    ),
    Case("mfa-session-then-admin", role("admin"), ok=True, env=lambda w: w.with_credentials("mfa-session")),
    Case("expired-token", lambda w: GCI, ok=False, code="ExpiredToken", env=lambda w: w.with_credentials("expired")),
    Case(
        "unknown-access-key",
        lambda w: GCI,
        ok=False,
        code="InvalidClientTokenId",
        env=lambda w: w.with_keys("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"),
    ),
    Case(
        "wrong-secret",
        lambda w: GCI,
        ok=False,
        code="SignatureDoesNotMatch",
        env=lambda w: w.with_keys(w.sb.access_key_id, "not-the-secret-at-all"),
    ),
    Case("region-disabled", lambda w: [*GCI, "--region", "eu-south-1"], ok=False, code="RegionDisabledException"),
    Case(
        "throttled-after-retries",
        lambda w: GCI,
        ok=False,
        code="Throttling",
        env=lambda w: {**w.env, "AWS_MAX_ATTEMPTS": "2"},
        before_each=throttle,
        after_each=clear,
    ),
    Case(
        "throttled-then-ok",
        lambda w: GCI,
        ok=True,
        env=lambda w: {**w.env, "AWS_MAX_ATTEMPTS": "3", "AWS_RETRY_MODE": "standard"},
        before_each=lambda w: w.sb.inject_fault("GetCallerIdentity", "throttle", times=1),
        after_each=clear,
    ),
    Case(
        "internal-error-after-retries",
        lambda w: GCI,
        ok=False,
        code="InternalFailure",
        env=lambda w: {**w.env, "AWS_MAX_ATTEMPTS": "2"},
        before_each=error500,
        after_each=clear,
    ),
    Case(
        "unreachable-endpoint",
        lambda w: [*GCI, "--endpoint-url", f"http://127.0.0.1:{w.extra['closed_port']}"],
        ok=False,
        env=lambda w: {**w.env, "AWS_MAX_ATTEMPTS": "1"},
        rolecall_rc=6,
    ),
    Case(
        "bad-session-name",
        lambda w: ["sts", "assume-role", "--role-arn", w.sb.role_arn("readonly"), "--role-session-name", "a b"],
        ok=False,
        rolecall_rc=8,
    ),
    Case("too-long-for-session-token", lambda w: [*GST, "--duration-seconds", "129601"], ok=False, rolecall_rc=8),
]


def _world(sb: Sandbox, aws_home: AwsHome) -> World:
    """The seeded files, and the credentials and ports the cases refer to (some expired, one closed)."""
    world = World(sb, seeded_env(sb, aws_home))
    from rolecall.aws import sts
    from rolecall.aws.settings import StsSettings
    from rolecall.credentials import Credentials

    settings = StsSettings(region="us-east-1", endpoint_url=sb.endpoint_url)
    alice = Credentials(sb.access_key_id, sb.secret_access_key)
    world.extra["readonly"] = sts.assume_role(
        settings, alice, RoleArn=sb.role_arn("readonly"), RoleSessionName="setup"
    )["Credentials"]
    world.extra["bob"] = sb.create_user("bob", with_mfa=True)
    carol = sb.create_user("carol", with_mfa=True)
    world.extra["mfa-session"] = sts.get_session_token(
        settings,
        Credentials(carol.access_key_id, carol.secret_access_key),
        SerialNumber=carol.mfa_serial,
        TokenCode=sb.fresh_code(carol),
    )["Credentials"]
    sb.set_credential_lifetime(1)
    world.extra["expired"] = sts.get_session_token(settings, alice)["Credentials"]
    sb.set_credential_lifetime(None)
    sb.disable_region("eu-south-1")
    world.extra["closed_port"] = closed_port()
    time.sleep(1.5)  # let the 1-second credentials expire
    return world


def test_rolecall_and_the_aws_cli_agree_on_every_call(
    sandbox: Sandbox, aws_home: AwsHome, aws_cli: AwsCliRunner
) -> None:
    world = _world(sandbox, aws_home)
    assert len(CASES) >= 25
    mismatches: list[str] = []
    for case in CASES:
        results: dict[str, Result] = {}
        for tool in ("aws", "rolecall"):
            case.before_each(world)
            try:
                args, env = case.args(world), case.env(world)
                results[tool] = aws_cli(args, env) if tool == "aws" else run_rolecall_inprocess(args, env)
            finally:
                case.after_each(world)
        aws, ours = results["aws"], results["rolecall"]
        facts = (
            f"{case.name}: aws rc={aws.rc} code={aws_code('aws', aws)} | "
            f"rolecall rc={ours.rc} code={aws_code('rolecall', ours)} {ours.stderr.strip()[:300]}"
        )
        if aws.ok != case.ok or ours.ok != case.ok:
            mismatches.append("expected ok=" + str(case.ok) + ": " + facts)
            continue
        if case.code is not None and not (aws_code("aws", aws) == aws_code("rolecall", ours) == case.code):
            mismatches.append(f"expected code {case.code}: {facts}")
        if case.rolecall_rc is not None and ours.rc != case.rolecall_rc:
            mismatches.append(f"expected rolecall rc {case.rolecall_rc}: {facts}")
        if case.ok and not ours.stdout:
            mismatches.append(f"no output: {facts}")
        if not case.ok:
            # One line, with a hint, and never a secret of the credentials in use.
            lines = ours.stderr.strip().splitlines()
            if len(lines) != 1 or "(hint: " not in lines[0]:
                mismatches.append(f"not one line with a hint: {facts}")
            env = case.env(world)
            for secret in (env.get("AWS_SECRET_ACCESS_KEY"), env.get("AWS_SESSION_TOKEN"), sandbox.secret_access_key):
                if secret and secret in ours.stderr:
                    mismatches.append(f"secret in the message: {case.name}")
    assert not mismatches, "\n".join(mismatches)
