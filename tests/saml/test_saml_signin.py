"""The sign-in around the browser: the SAML POST is failed before it reaches the service provider, a renewal that
needs a person says so instead of waiting (no terminal, or headless forced), and the rest of rolecall (doctor, list,
--explain, the profile graph) knows the saml kind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.config.graph import SAML, TEMPORARY, ProfileGraph
from rolecall.sandbox import Sandbox
from test_saml_browser import ADMIN, saml_env, typed

needs_browser = pytest.mark.skipif(
    not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")),
    reason="no Chromium or Chrome on this machine",
)


@needs_browser
def test_the_saml_post_never_reaches_the_service_provider(sandbox: Sandbox, aws_home: AwsHome) -> None:
    # The provider posts to a URL the sandbox serves and counts; rolecall is told it is the SAML endpoint.
    acs = f"{sandbox.endpoint_url}/saml-idp/acs"
    sandbox.saml.acs_url = acs
    env = saml_env(sandbox, aws_home, "federated")
    env["ROLECALL_SAML_ENDPOINT"] = acs
    result = run_rolecall(["saml", "login", "--profile", "federated"], env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sandbox.saml.assertions == 1 and sandbox.calls("AssumeRoleWithSAML") == 1
    assert sandbox.saml.acs_hits == 0


@needs_browser
def test_a_renewal_that_needs_a_person_says_so(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = saml_env(sandbox, aws_home, "federated")
    assert run_rolecall(["saml", "login", "--profile", "federated"], env, timeout=120).returncode == 0
    # Nine hours later the provider's 8-hour session is over: its login page waits for a person.
    sandbox.advance_saml_clock(9 * 3600)
    del env["ROLECALL_BROWSER_TEST_HOOK"]
    del env["ROLECALL_BROWSER_HEADLESS"]
    env["ROLECALL_BROWSER_RENEW_WAIT"] = "3"
    # Headless first (a session may live), then no terminal to show a window at: one line, exit 10.
    result = run_rolecall(["saml", "login", "--profile", "federated"], env, timeout=120)
    assert result.returncode == 10, result.stderr
    assert "signing in at 127.0.0.1 in a headless browser" in result.stderr
    assert "needs you, and there is no terminal here" in result.stderr
    assert "rolecall saml login --profile federated" in result.stderr
    # Headless forced: the same, with the variable named.
    env.update(ROLECALL_BROWSER_HEADLESS="1", ROLECALL_BROWSER_TIMEOUT="3")
    result = run_rolecall(["saml", "login", "--profile", "federated"], env, timeout=120)
    assert result.returncode == 10
    assert "unset ROLECALL_BROWSER_HEADLESS" in result.stderr
    assert typed(env) == 1 and sandbox.saml.logins == 1


def test_doctor_list_and_explain_know_saml_profiles(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = saml_env(sandbox, aws_home, "federated")
    doctor = run_rolecall(["doctor"], env)
    assert "saml_url" not in doctor.stdout + doctor.stderr and "principal_arn" not in doctor.stdout + doctor.stderr
    listing = run_rolecall(["list"], env)
    assert listing.returncode == 0, listing.stderr
    assert "federated" in listing.stdout
    explained = run_rolecall(["env", "federated", "--explain"], env)
    assert f"sign in at {sandbox.saml_url} in the browser, then AssumeRoleWithSAML {ADMIN}" in explained.stderr


def test_the_graph_has_a_saml_kind_and_a_role_arn_there_is_no_assume_role_hop() -> None:
    profiles = {
        "federated": {"saml_url": "https://idp.example/aws", "role_arn": ADMIN},
        "chained": {"role_arn": "arn:aws:iam::123456789012:role/next", "source_profile": "federated"},
    }
    graph = ProfileGraph(profiles.get)
    assert graph.kind("federated") == SAML and graph.temporary("federated") == TEMPORARY
    assert graph.source_profile("federated") is None
    assert graph.chain("chained") == ["chained", "federated"]
    assert graph.role_source_temporary("chained") == TEMPORARY


def test_saml_login_of_a_profile_without_saml_url(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = saml_env(sandbox, aws_home, "federated")
    result = run_rolecall(["saml", "login", "--profile", "default"], env)
    assert result.returncode == 3
    assert "has no saml_url" in result.stderr and Path(env["AWS_CONFIG_FILE"]).exists()


@needs_browser
def test_several_roles_and_no_role_arn_open_a_picker_at_a_terminal(sandbox: Sandbox, aws_home: AwsHome) -> None:
    import sys

    import pexpect

    env = saml_env(sandbox, aws_home, "pick", role=None)
    child = pexpect.spawn(sys.executable, ["-m", "rolecall", "saml", "login", "--profile", "pick"], env=env,
                          encoding="utf-8", timeout=90, dimensions=(30, 160))  # fmt: skip
    child.expect("Pick a profile")
    child.expect("saml-readonly")
    child.send("\x1b[B")  # Down: the second role
    child.send("\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "assumed-role/saml-readonly/alice" in str(child.before)
    # Without a terminal, the next sign-in keeps the role picked last.
    again = run_rolecall(["saml", "login", "--profile", "pick"], env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "assumed-role/saml-readonly/alice" in again.stderr


@needs_browser
def test_parallel_shells_share_one_sign_in(sandbox: Sandbox, aws_home: AwsHome) -> None:
    import subprocess
    import sys

    env = saml_env(sandbox, aws_home, "federated")
    runs = [subprocess.Popen([sys.executable, "-m", "rolecall", "env", "federated", "--format", "json"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
            for _ in range(4)]  # fmt: skip
    outputs = [run.communicate(timeout=180) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
    assert sandbox.calls("AssumeRoleWithSAML") == 1 and sandbox.saml.assertions == 1 and typed(env) == 1
    assert len({out for out, _ in outputs}) == 1
