"""End to end: rolecall drives a real headless Chromium to the sandbox SAML provider, a person's typing is done
through the documented test hook (over rolecall's own DevTools pipe), the SAMLResponse is caught before it
reaches AWS, AssumeRoleWithSAML succeeds against the strict sandbox STS, and an hour of sandbox time later a
renewal signs in again with no typing while the provider's cookie lives."""

from __future__ import annotations

import io
import json
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.cli.context import Context
from rolecall.cli.main import main
from rolecall.sandbox import Sandbox
from rolecall.sandbox.samlsts import IDP_PASSWORD, IDP_USER, PROVIDER_ARN
from rolecall.timefmt import utc_now
from sandbox_fixtures import seeded_env
from sandbox_helpers import from_credentials

pytestmark = pytest.mark.skipif(
    not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")),
    reason="no Chromium or Chrome on this machine",
)

ADMIN = "arn:aws:iam::123456789012:role/saml-admin"


def saml_env(sandbox: Sandbox, home: AwsHome, profile: str, role: str | None = ADMIN) -> dict[str, str]:
    """The sandbox's files plus ``profile`` with the sandbox provider's saml_url (and ``role``); headless; the
    typing hook."""
    section = f"\n[profile {profile}]\nsaml_url = {sandbox.saml_url}\n" + (f"role_arn = {role}\n" if role else "")
    env = seeded_env(sandbox, home, config=section)
    env.update(
        ROLECALL_BROWSER_HEADLESS="1",
        ROLECALL_BROWSER_TIMEOUT="40",
        ROLECALL_BROWSER_TEST_HOOK="saml_typing:type_credentials",
        SAML_TEST_USER=IDP_USER,
        SAML_TEST_PASSWORD=IDP_PASSWORD,
        SAML_TEST_TYPED=str(home.root / "typed.log"),
        PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
    )
    return env


def typed(env: dict[str, str]) -> int:
    """How many times the hook typed into the login page."""
    path = Path(env["SAML_TEST_TYPED"])
    return len(path.read_text().splitlines()) if path.exists() else 0


def in_process(argv: list[str], env: dict[str, str], *, later: timedelta) -> tuple[int, str, str]:
    """Run rolecall in this process with its clock ``later`` than now."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, Context(io.StringIO(), out, err, dict(env), clock=lambda: utc_now() + later))
    return code, out.getvalue(), err.getvalue()


def test_sign_in_typed_then_renewed_an_hour_later_without_typing(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = saml_env(sandbox, aws_home, "federated")
    first = run_rolecall(["saml", "login", "--profile", "federated"], env, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "assumed-role/saml-admin/alice" in first.stderr
    assert typed(env) == 1 and sandbox.saml.logins == 1
    # The credentials are real sandbox credentials: boto3 calls GetCallerIdentity with them.
    code, out, err = in_process(["env", "federated", "--format", "json"], env, later=timedelta(0))
    assert code == 0, err
    creds = json.loads(out)
    identity = from_credentials(sandbox.endpoint_url, creds).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/saml-admin/alice"
    assert sandbox.calls("AssumeRoleWithSAML") == 1  # served from the cache the second time

    # An hour later on both sides: the role session is over, the provider's 8-hour cookie is not.
    sandbox.advance_saml_clock(3600)
    code, out, err = in_process(["env", "federated", "--format", "json"], env, later=timedelta(hours=1))
    assert code == 0, err
    renewed = json.loads(out)
    assert renewed["AccessKeyId"] != creds["AccessKeyId"]
    assert typed(env) == 1, "the renewal must not have needed the login page"
    assert sandbox.saml.logins == 1 and sandbox.saml.assertions == 2
    assert sandbox.calls("AssumeRoleWithSAML") == 2
    assert from_credentials(sandbox.endpoint_url, renewed).get_caller_identity()["Arn"].endswith("/saml-admin/alice")
    # The assertion is never printed, logged or stored by rolecall.
    written = first.stdout + first.stderr + out + err + _files_text(aws_home.root / ".aws", skip="browser")
    for response in sandbox.saml.responses:
        assert response not in written and response[:80] not in written


def _files_text(folder: Path, skip: str) -> str:
    texts = []
    for path in folder.rglob("*"):
        if path.is_file() and skip not in path.parts:
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


def test_the_assertion_grants_two_roles_and_the_profile_names_one(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = saml_env(sandbox, aws_home, "ro", role="arn:aws:iam::123456789012:role/saml-readonly")
    with open(env["AWS_CONFIG_FILE"], "a") as handle:
        handle.write(f"\n[profile pick]\nsaml_url = {sandbox.saml_url}\n")
    result = run_rolecall(["saml", "login", "--profile", "ro"], env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "assumed-role/saml-readonly/alice" in result.stderr
    # No role_arn, two roles, no terminal to pick at: one line naming both, exit 2.
    result = run_rolecall(["env", "pick"], env, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "grants 2 roles" in result.stderr and "saml-admin" in result.stderr and "saml-readonly" in result.stderr
    assert PROVIDER_ARN not in result.stdout


def test_no_browser_is_one_line_with_what_to_install(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = saml_env(sandbox, aws_home, "federated")
    env["PATH"] = str(aws_home.root)  # no browser on it
    result = run_rolecall(["saml", "login", "--profile", "federated"], env)
    assert result.returncode == 10
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Chromium or Google Chrome" in lines[0] and "apt install chromium" in lines[0]
