"""Profile resolution against the strict sandbox: chains, sources, misconfigurations, AWS CLI interop (issue 4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import botocore.exceptions
import botocore.session
import pytest

from conftest import AwsHome, run_aws, run_rolecall
from rolecall.aws.settings import resolve_settings
from rolecall.aws.sts import get_caller_identity
from rolecall.errors import ConfigError, ProfileNotFoundError
from rolecall.resolve import get_credentials
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture


def _identity(sb: Sandbox, env: dict[str, str], profile: str) -> str:
    credentials = get_credentials(profile, env=env)
    settings = resolve_settings(env, None, None, endpoint_url=sb.endpoint_url, region="us-east-1")
    return str(get_caller_identity(settings, credentials)["Arn"])


@pytest.mark.parametrize(
    ("profile", "role", "calls"),
    [("readonly", "readonly", 1), ("deploy", "deploy", 2), ("ops", "ops", 3)],
)
def test_chains_of_one_two_and_three_hops(
    sandbox: Sandbox, aws_home: AwsHome, profile: str, role: str, calls: int  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    arn = _identity(sandbox, env, profile)
    assert arn.startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/{role}/")
    assert sandbox.calls("AssumeRole") == calls
    # Every hop is cached (as botocore caches intermediate roles): a second lookup makes no call.
    sandbox.reset_calls()
    assert _identity(sandbox, env, profile) == arn
    assert sandbox.calls("AssumeRole") == 0


def test_credential_source_environment(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(
        sandbox,
        aws_home,
        config=f"[profile from-env]\nrole_arn = {sandbox.role_arn('readonly')}\ncredential_source = Environment\n"
        f"endpoint_url = {sandbox.endpoint_url}\n",
    )
    env["AWS_ACCESS_KEY_ID"] = sandbox.access_key_id
    env["AWS_SECRET_ACCESS_KEY"] = sandbox.secret_access_key
    # Named explicitly: env keys do not win at the top, but credential_source = Environment still uses them.
    assert "assumed-role/readonly/" in _identity(sandbox, env, "from-env")
    assert sandbox.calls("AssumeRole") == 1


def test_environment_keys_win_only_without_an_explicit_profile(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    env["AWS_ACCESS_KEY_ID"] = sandbox.access_key_id
    env["AWS_SECRET_ACCESS_KEY"] = sandbox.secret_access_key
    env["AWS_PROFILE"] = "readonly"
    # AWS_PROFILE does not disable environment keys (botocore): the user's own keys win.
    assert get_credentials(None, env=env).access_key_id == sandbox.access_key_id
    assert sandbox.calls("AssumeRole") == 0
    # An explicit profile does.
    assert get_credentials("readonly", env=env).access_key_id != sandbox.access_key_id


def test_credential_process_as_source(sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path) -> None:  # noqa: F811
    script = tmp_path / "keys.py"
    script.write_text(
        "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': "
        f"{sandbox.access_key_id!r}, 'SecretAccessKey': {sandbox.secret_access_key!r}}}))\n"
    )
    env = seeded_env(
        sandbox,
        aws_home,
        config=f"[profile proc]\ncredential_process = {sys.executable} {script}\n"
        f"[profile via-proc]\nrole_arn = {sandbox.role_arn('readonly')}\nsource_profile = proc\n"
        f"endpoint_url = {sandbox.endpoint_url}\n",
    )
    assert "assumed-role/readonly/" in _identity(sandbox, env, "via-proc")
    # And the AWS CLI agrees with rolecall about the same profile.
    result = run_aws(["sts", "get-caller-identity", "--profile", "via-proc"], env)
    assert result.returncode == 0, result.stderr
    assert "assumed-role/readonly/" in json.loads(result.stdout)["Arn"]


def test_static_keys_in_a_source_profile_win_over_its_role(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(
        sandbox,
        aws_home,
        # `both` has keys AND a role: as a source, its keys are used (botocore), its role is not assumed.
        config=f"[profile both]\nrole_arn = {sandbox.role_arn('deploy')}\nsource_profile = default\n"
        f"aws_access_key_id = {sandbox.access_key_id}\naws_secret_access_key = {sandbox.secret_access_key}\n"
        f"[profile top]\nrole_arn = {sandbox.role_arn('readonly')}\nsource_profile = both\n"
        f"endpoint_url = {sandbox.endpoint_url}\n",
    )
    assert "assumed-role/readonly/" in _identity(sandbox, env, "top")
    assert sandbox.calls("AssumeRole") == 1


def test_self_referencing_profile_with_keys_assumes_its_own_role(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(
        sandbox,
        aws_home,
        config=f"[profile me]\nrole_arn = {sandbox.role_arn('readonly')}\nsource_profile = me\n"
        f"aws_access_key_id = {sandbox.access_key_id}\naws_secret_access_key = {sandbox.secret_access_key}\n"
        f"endpoint_url = {sandbox.endpoint_url}\n",
    )
    assert "assumed-role/readonly/" in _identity(sandbox, env, "me")


def test_web_identity_profile(sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path) -> None:  # noqa: F811
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl\n")
    sandbox.create_role(
        "web",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Federated": "accounts.example.com"},
                 "Action": "sts:AssumeRoleWithWebIdentity"}
            ],
        },
    )
    env = seeded_env(
        sandbox,
        aws_home,
        config=f"[profile web]\nrole_arn = {sandbox.role_arn('web')}\nweb_identity_token_file = {token}\n"
        f"role_session_name = ci-job\nendpoint_url = {sandbox.endpoint_url}\n",
    )
    credentials = get_credentials("web", env=env)
    assert credentials.is_temporary
    # Served from the AWS CLI cache the second time: no second call.
    before = sandbox.calls("AssumeRoleWithWebIdentity")
    assert get_credentials("web", env=env).access_key_id == credentials.access_key_id
    assert sandbox.calls("AssumeRoleWithWebIdentity") == before


# --- misconfigurations: every one botocore rejects, rolecall rejects with a clearer message ----------------------

BOTOCORE_CONFIG_ERRORS = (
    botocore.exceptions.InvalidConfigError,
    botocore.exceptions.PartialCredentialsError,
    botocore.exceptions.InfiniteLoopConfigError,
    botocore.exceptions.ProfileNotFound,
)

MISCONFIGURED = [
    # (name, config text, profile, words the message must contain)
    (
        "both sources",
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/readonly\nsource_profile = default\n"
        "credential_source = Environment\n",
        "a",
        ["both source_profile and credential_source"],
    ),
    (
        "no source",
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/readonly\n",
        "a",
        ["no source_profile or credential_source"],
    ),
    (
        "bad credential_source case",
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/readonly\ncredential_source = environment\n",
        "a",
        ['"environment"', "not valid"],
    ),
    (
        "missing source profile",
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/readonly\nsource_profile = ghost\n",
        "a",
        ['"ghost"', "does not exist"],
    ),
    (
        "source without credentials",
        "[profile empty]\nregion = us-east-1\n"
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/readonly\nsource_profile = empty\n",
        "a",
        ['"empty"', "no credentials"],
    ),
    (
        "loop of three",
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/readonly\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::123456789012:role/readonly\nsource_profile = c\n"
        "[profile c]\nrole_arn = arn:aws:iam::123456789012:role/readonly\nsource_profile = a\n",
        "a",
        ["a -> b -> c -> a"],
    ),
    (
        "self reference without keys",
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/readonly\nsource_profile = a\n",
        "a",
        ["a -> a"],
    ),
    (
        "partial keys",
        "[profile a]\naws_access_key_id = AKIAEXAMPLEEXAMPLE12\n",
        "a",
        ["aws_secret_access_key is missing"],
    ),
]


@pytest.mark.parametrize(("case", "config", "profile", "words"), MISCONFIGURED, ids=[m[0] for m in MISCONFIGURED])
def test_misconfigurations_rejected_like_botocore_but_clearer(
    aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, case: str, config: str, profile: str, words: list[str]
) -> None:
    aws_home.write_config(config)
    aws_home.write_credentials("")
    # Should anything get as far as a request, it goes to a closed local port, never to AWS.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    # botocore rejects it (the oracle), with one of its configuration errors...
    session = botocore.session.Session(profile=profile)
    with pytest.raises(BOTOCORE_CONFIG_ERRORS):
        creds = session.get_credentials()
        if creds is not None:
            creds.get_frozen_credentials()
    # ... and so does rolecall, naming the profiles involved and saying what to do.
    with pytest.raises(ConfigError) as ours:
        get_credentials(profile, env=aws_home.env)
    for word in words:
        assert word in ours.value.message
    assert ours.value.hint
    # On the command line: one line, exit code 3, no traceback.
    result = run_rolecall(["assume", profile], aws_home.env)
    assert result.returncode == 3
    assert len(result.stderr.strip().splitlines()) == 1 and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_profile(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile prod]\nregion = us-east-1\n")
    with pytest.raises(ProfileNotFoundError):
        get_credentials("prdo", env=aws_home.env)
    result = run_rolecall(["assume", "prdo"], aws_home.env)
    assert result.returncode == 3 and "prod" in result.stderr  # the hint names the close match


# --- interop with the AWS CLI's cache, both ways ---------------------------------------------------------------


def test_aws_cli_reuses_what_rolecall_cached(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = run_rolecall(["assume", "ops"], env)
    assert result.returncode == 0, result.stderr
    assert sandbox.calls("AssumeRole") == 3
    aws = run_aws(["sts", "get-caller-identity", "--profile", "ops"], env)
    assert aws.returncode == 0, aws.stderr
    assert "assumed-role/ops/" in json.loads(aws.stdout)["Arn"]
    assert sandbox.calls("AssumeRole") == 3  # the AWS CLI made no AssumeRole call of its own


def test_rolecall_reuses_what_the_aws_cli_cached(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    aws = run_aws(["sts", "get-caller-identity", "--profile", "partner"], env)
    assert aws.returncode == 0, aws.stderr
    sandbox.reset_calls()
    result = run_rolecall(["assume", "partner", "--output", "json"], env)
    assert result.returncode == 0, result.stderr
    assert "from the AWS CLI cache" in result.stderr
    assert sandbox.calls() == 0  # zero STS calls of any kind
    assert json.loads(result.stdout)["AccessKeyId"].startswith("ASIA")


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("import sys; sys.stderr.write('token expired, run login\\n'); sys.exit(2)", "token expired, run login"),
        ("print('not json')", "did not print JSON"),
        ("print('{\"Version\": \"1\", \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"B\"}')", "Version (not a number)"),
        ("print('{\"Version\": 1, \"SecretAccessKey\": \"B\"}')", "missing AccessKeyId"),
        # A Version that is a string is not echoed (it could be anything), a number is.
        ("print('{\"Version\": \"s3cr3t-value\", \"AccessKeyId\": \"A\"}')", "Version (not a number)"),
        ("print('{\"Version\": 2, \"AccessKeyId\": \"A\"}')", "Version (2)"),
        # Terminal escapes in the helper's error never reach the terminal through rolecall's line.
        ("import sys; sys.stderr.write('\\033]0;title\\007\\033[31mbad\\n'); sys.exit(1)", "?]0;title??[31mbad"),
    ],
)
def test_credential_process_failures_are_one_clear_line(
    aws_home: AwsHome, tmp_path: Path, script: str, words: str
) -> None:
    program = tmp_path / "proc.py"
    program.write_text(script + "\n")
    aws_home.write_config(f"[profile p]\ncredential_process = {sys.executable} {program}\n")
    result = run_rolecall(["assume", "p"], aws_home.env)
    assert result.returncode == 3
    assert words in result.stderr and "hint:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "s3cr3t-value" not in result.stderr and "\033" not in result.stderr


def test_empty_credential_process_says_so(aws_home: AwsHome) -> None:
    aws_home.write_config('[profile p]\ncredential_process = ""\n')
    result = run_rolecall(["assume", "p"], aws_home.env)
    assert result.returncode == 3
    assert 'credential_process is empty' in result.stderr and "Traceback" not in result.stderr


def test_credential_process_program_not_found(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile p]\ncredential_process = /nonexistent/get-keys --secret-arg\n")
    result = run_rolecall(["assume", "p"], aws_home.env)
    assert result.returncode == 3
    assert "/nonexistent/get-keys was not found" in result.stderr
    assert "--secret-arg" not in result.stderr  # arguments may carry secrets: never echoed


def _long_chain(length: int) -> str:
    profiles = [f"[profile c{i}]\nrole_arn = arn:aws:iam::123456789012:role/r{i}\nsource_profile = c{i + 1}\n"
                for i in range(length)]
    keys = f"[profile c{length}]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n"
    return "".join(profiles) + keys


@pytest.mark.parametrize("command", [["assume", "c0", "--explain"], ["env", "c0"], ["list"]])
def test_a_source_chain_of_thousands_of_profiles_is_refused_not_a_crash(
    aws_home: AwsHome, command: list[str]
) -> None:
    aws_home.write_config(_long_chain(2000))
    result = run_rolecall(command, aws_home.env)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    if command[0] != "list":
        assert result.returncode == 3
        assert 'the source_profile chain of "c0" is longer than 64 profiles' in result.stderr


def test_a_long_but_sane_chain_is_planned(aws_home: AwsHome) -> None:
    aws_home.write_config(_long_chain(40))
    result = run_rolecall(["assume", "c0", "--explain"], aws_home.env)
    assert result.returncode == 0, result.stderr
    assert "41. c0: AssumeRole arn:aws:iam::123456789012:role/r0" in result.stdout + result.stderr


def test_a_web_identity_token_file_that_is_not_text_is_a_file_error(aws_home: AwsHome, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_bytes(b"\xff\xfe\x00binary")
    aws_home.write_config(
        "[profile w]\nrole_arn = arn:aws:iam::123456789012:role/web\n"
        f"web_identity_token_file = {token}\nendpoint_url = http://127.0.0.1:9\n"
    )
    result = run_rolecall(["env", "w"], aws_home.env)
    assert result.returncode == 7, result.stderr
    assert "is not text" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("argv", [["env"], ["assume"], ["whoami"]])
def test_expired_keys_in_the_environment_are_refused_with_a_way_out(aws_home: AwsHome, argv: list[str]) -> None:
    env = dict(aws_home.env, AWS_ACCESS_KEY_ID="ASIAEXPIRED", AWS_SECRET_ACCESS_KEY="secret",
               AWS_SESSION_TOKEN="token", AWS_CREDENTIAL_EXPIRATION="2020-01-01T00:00:00Z")
    result = run_rolecall(argv, env)
    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    assert "the credentials in the environment expired at 2020-01-01 00:00:00 UTC" in result.stderr
    assert "unassume" in result.stderr and result.stderr.count("\n") == 1
