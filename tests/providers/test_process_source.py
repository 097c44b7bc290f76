"""Every ``credential_process`` profile is a full source (issue 18, part 3): the source_profile of a role chain
through ``rolecall env``, ``exec --server`` renewing across several expiries by running the process again,
``console``, ``--explain`` and ``list``; a profile wrapped in ``rolecall process-cache`` is served from its entry
in-process, without starting anything."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture
from test_cmd_exec_server import LONG_JOB
from test_console import _sign_in_over_http
from test_process_cache import TOOL, Setup

READONLY = "arn:aws:iam::123456789012:role/readonly"


def _with_profiles(setup: Setup, sb: Sandbox) -> None:
    """``viaproc``: the readonly role with ``wrapped`` as its source; ``bare``: the tool without process-cache."""
    with open(setup.env["AWS_CONFIG_FILE"], "a") as config:
        config.write(f"\n[profile viaproc]\nrole_arn = {READONLY}\nsource_profile = wrapped\nregion = us-east-1\n"
                     f"\n[profile bare]\ncredential_process = {sys.executable} {TOOL} {setup.argv[-1]}\n"
                     f"region = us-east-1\nconsole_federation_endpoint = {sb.endpoint_url}/federation\n"
                     f"\n[profile viabare]\nrole_arn = {READONLY}\nsource_profile = bare\nregion = us-east-1\n")


def test_a_wrapped_process_as_the_source_of_a_role_chain(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home)
    _with_profiles(setup, sandbox)
    first = run_rolecall(["env", "viaproc", "--format", "json"], setup.env)
    assert first.returncode == 0, first.stderr
    assert setup.runs == 1
    assert sandbox.calls("AssumeRole") == 1
    # The role session is in the AWS CLI cache; the process answer in process-cache: nothing runs again.
    again = run_rolecall(["env", "viaproc", "--format", "json"], setup.env)
    assert json.loads(again.stdout) == json.loads(first.stdout)
    forced = run_rolecall(["env", "viaproc", "--format", "json", "--force-refresh"], setup.env)
    assert forced.returncode == 0, forced.stderr
    assert sandbox.calls("AssumeRole") == 2 and setup.runs == 1  # a new role session from the cached answer
    whoami = run_rolecall(["whoami", "viaproc"], setup.env)
    assert whoami.returncode == 0 and "assumed-role/readonly" in whoami.stdout
    own = run_rolecall(["env", "wrapped", "--format", "json"], setup.env)
    assert json.loads(own.stdout)["AccessKeyId"] == setup.access_key and setup.runs == 1


def test_explain_and_list_say_what_process_cache_holds(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home)
    _with_profiles(setup, sandbox)
    before = run_rolecall(["env", "wrapped", "--explain"], setup.env)
    assert before.returncode == 0, before.stderr
    assert "process-cache has no fresh answer" in before.stderr and setup.runs == 0
    assert run_rolecall(["env", "wrapped"], setup.env).returncode == 0
    after = run_rolecall(["env", "wrapped", "--explain"], setup.env)
    assert "served by process-cache" in after.stderr and "not run" in after.stderr
    listed = run_rolecall(["list"], setup.env)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith("wrapped "))
    assert " process " in row and "min left" in row
    bare = next(line for line in listed.stdout.splitlines() if line.startswith("bare "))
    assert " process " in bare and "min left" not in bare
    assert setup.runs == 1  # list and --explain never run a process


@pytest.mark.parametrize("profile", ["wrapped", "viaproc", "viabare"])
def test_exec_server_renews_a_process_source_across_expiries(
    sandbox: Sandbox, aws_home: AwsHome, profile: str  # noqa: F811
) -> None:
    setup = Setup(sandbox, aws_home, mode="sts")  # each run of the tool is a new sandbox session
    _with_profiles(setup, sandbox)
    sandbox.set_credential_lifetime(5)
    result = run_rolecall(["exec", "--server", profile, "--", sys.executable, "-c", LONG_JOB, "15"], setup.env,
                          timeout=180)
    assert result.returncode == 3, result.stderr  # the job's own exit code
    seen = json.loads(result.stdout)
    assert seen["errors"] == []
    # Credentials living 5 s over 15 s: at least three expiries, four sets of keys, each used.
    assert len(seen["keys"]) >= 4, seen["keys"]
    assert len(seen["arns"]) == 1
    assert len(seen["cli"]) >= 3 and all(arn == seen["arns"][0] for arn in seen["cli"]), seen["cli"]
    if profile == "wrapped":
        assert seen["arns"] == [sandbox.user_arn]
        assert setup.runs >= 4  # the renewals ran the tool: its sessions are what the job used
    else:
        assert "assumed-role/readonly" in seen["arns"][0]
        assert setup.runs >= 2


def test_console_with_a_process_source(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """A role session from the process signs in as it is, also as the source of a role; long-term keys from a
    process get a federation token first."""
    setup = Setup(sandbox, aws_home, mode="role")
    _with_profiles(setup, sandbox)
    for profile, arn in (("wrapped", "assumed-role/readonly/pcache"), ("bare", "assumed-role/readonly/pcache")):
        done = run_rolecall(["console", "--print", profile], setup.env)
        assert done.returncode == 0, done.stderr
        status, page = _sign_in_over_http(done.stdout.strip())
        assert status == 200 and arn in page
    assert setup.runs == 2  # wrapped once, bare once
    Path(setup.env["PCACHE_CREDENTIALS"]).write_text(json.dumps(
        {"Version": 1, "AccessKeyId": sandbox.access_key_id, "SecretAccessKey": sandbox.secret_access_key}))
    with open(setup.env["AWS_CONFIG_FILE"], "a") as config:
        config.write(f"\n[profile keys]\ncredential_process = {sys.executable} {TOOL} file\nregion = us-east-1\n"
                     f"console_federation_endpoint = {sandbox.endpoint_url}/federation\n")
    keys = run_rolecall(["console", "--print", "keys"], setup.env)
    assert keys.returncode == 0, keys.stderr
    assert "GetFederationToken" in keys.stderr
    status, page = _sign_in_over_http(keys.stdout.strip())
    assert status == 200 and "federated-user/" in page


def test_console_refuses_a_get_session_token_session_from_a_process(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    setup = Setup(sandbox, aws_home, mode="sts")
    _with_profiles(setup, sandbox)
    done = run_rolecall(["console", "--print", "wrapped"], setup.env)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert f"session of the IAM user {sandbox.user_arn}" in done.stderr and "source_profile = wrapped" in done.stderr
    # The way out the hint names: a role with the process as its source.
    chained = run_rolecall(["console", "--print", "viaproc"], setup.env)
    assert chained.returncode == 0, chained.stderr
    status, page = _sign_in_over_http(chained.stdout.strip())
    assert status == 200 and "assumed-role/readonly" in page
