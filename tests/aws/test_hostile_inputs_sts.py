"""Hostile values for how rolecall reaches STS and prints its answers: each is one line with a hint and a documented
exit code, never an internal error (exit 70) or a traceback.

Found by a fuzz review: a malformed region (botocore's ``InvalidRegionError``) or endpoint URL (``ValueError: Invalid
endpoint``) escaped because botocore checks them while the client is made, outside the translated call; botocore's
container provider raised ``ValueError``/``OSError`` for its own settings; JMESPath queries that parse but fail when
they run (unknown function, wrong arity, wrong type, nesting too deep) escaped ``--query``. Every test runs the real
CLI against the local sandbox STS (or no network at all).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

READONLY_ARN = "arn:aws:iam::123456789012:role/readonly"


def _one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The single stderr line of a failed run, checked for the project's shape and exit code."""
    err = result.stderr
    assert result.returncode == code, (result.returncode, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("rolecall: ") and "(hint: " in err, err
    return err


def _rewrite_config(env: dict[str, str], old: str, new: str) -> None:
    path = Path(env["AWS_CONFIG_FILE"])
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# ---------------------------------------------------------------------------------------------------------------
# Regions


def test_region_from_environment_is_a_config_error(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    env["AWS_REGION"] = "bad region!"
    err = _one_line(run_rolecall(["whoami"], env), 3)
    assert "AWS_REGION 'bad region!' is not a valid region name" in err
    assert sandbox.calls() == 0


def test_undecodable_region_from_environment(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    env["AWS_REGION"] = "\udcff"  # the byte 0xff, as Python reads it from the environment
    err = _one_line(run_rolecall(["whoami"], env), 3)
    assert "AWS_REGION '\\udcff'" in err


def test_region_flag_is_invalid_input(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    err = _one_line(run_rolecall(["whoami", "--region", "\udcff\udcfe"], env), 8)
    assert "--region '\\udcff\\udcfe' is not a valid region name" in err
    err = _one_line(run_rolecall(["sts", "get-caller-identity", "--region", "x y"], env), 8)
    assert "--region 'x y'" in err
    assert sandbox.calls() == 0


def test_region_of_the_profile_is_a_config_error(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    del env["AWS_REGION"], env["AWS_DEFAULT_REGION"]
    _rewrite_config(env, "[default]\nregion = us-east-1", "[default]\nregion = us east 1/../")
    err = _one_line(run_rolecall(["whoami", "default"], env), 3)
    assert "the region 'us east 1/../' of profile \"default\" is not a valid region name" in err


def test_a_bad_region_of_the_profile_is_not_exported_from_the_cache(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """The profile's region is what env/exec/serve export: a cached role must not carry a bad one to the consumer."""
    env = seeded_env(sandbox, aws_home)
    assert run_rolecall(["env", "readonly"], env).returncode == 0  # cached now
    calls = sandbox.calls()
    with open(env["AWS_CONFIG_FILE"], "a") as handle:
        handle.write("\n[profile badregion]\nrole_arn = " + sandbox.role_arn("readonly")
                     + "\nsource_profile = default\n"
                     "region = us east 1/../\n")
    err = _one_line(run_rolecall(["env", "badregion"], env), 3)
    assert "the region 'us east 1/../' of profile \"badregion\"" in err
    assert sandbox.calls() == calls


def test_region_on_the_cached_path(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """A cached role makes no STS call, so AWS_REGION is not used at all (the profile's region is exported);
    --region is exported, so it is checked whether or not the role is cached."""
    env = seeded_env(sandbox, aws_home)
    assert run_rolecall(["env", "readonly"], env).returncode == 0
    calls = sandbox.calls()

    served = run_rolecall(["env", "readonly"], env | {"AWS_REGION": "bad region!"})
    assert served.returncode == 0, served.stderr
    assert "export AWS_REGION='us-east-1'" in served.stdout
    assert sandbox.calls() == calls

    err = _one_line(run_rolecall(["env", "readonly", "--region", "bad region!"], env), 8)
    assert "--region 'bad region!'" in err

    # The same environment, when the role must be assumed again: the region is used, and refused.
    err = _one_line(run_rolecall(["env", "readonly", "--force-refresh"], env | {"AWS_REGION": "bad region!"}), 3)
    assert "AWS_REGION 'bad region!'" in err
    assert sandbox.calls() == calls


# ---------------------------------------------------------------------------------------------------------------
# Endpoint URLs


@pytest.mark.parametrize("url", ["not-a-url", "http://[::1", "http://"])
def test_endpoint_from_environment_is_a_config_error(sandbox: Sandbox, aws_home: AwsHome, url: str) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    env["AWS_ENDPOINT_URL"] = url
    err = _one_line(run_rolecall(["whoami"], env), 3)
    assert f"AWS_ENDPOINT_URL {url!r} is not a valid endpoint URL" in err


def test_endpoint_of_the_profile_is_a_config_error(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    del env["AWS_ENDPOINT_URL"]
    _rewrite_config(env, f"endpoint_url = {sandbox.endpoint_url}", "endpoint_url = not-a-url")
    err = _one_line(run_rolecall(["whoami", "default"], env), 3)
    assert "the profile's endpoint_url 'not-a-url'" in err
    _one_line(run_rolecall(["env", "ops", "--force-refresh"], env), 3)


def test_endpoint_flag_is_invalid_input_and_hides_a_password(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    assert run_rolecall(["env", "readonly"], env).returncode == 0
    err = _one_line(run_rolecall(["env", "readonly", "--endpoint-url", "\udcff\udcfe", "--force-refresh"], env), 8)
    assert "--endpoint-url '\\udcff\\udcfe' is not a valid URL" in err
    err = _one_line(run_rolecall(["sts", "get-caller-identity", "--endpoint-url", "http://u:hunter2@[::1"], env), 8)
    assert "hunter2" not in err


def test_hand_made_settings_are_translated_too() -> None:
    """Settings built without resolve_settings (library callers) reach botocore unchecked: its refusal while the
    client is made is still one rolecall error."""
    from rolecall.aws import sts
    from rolecall.aws.settings import StsSettings
    from rolecall.credentials import Credentials
    from rolecall.errors import ConfigError

    keys = Credentials("AKIAEXAMPLEEXAMPLE00", "notasecretnotasecretnotasecret00")
    with pytest.raises(ConfigError, match="bad region"):
        sts.get_caller_identity(StsSettings(region="bad region!", endpoint_url="http://127.0.0.1:9"), keys)
    with pytest.raises(ConfigError, match="Invalid endpoint"):
        sts.get_caller_identity(StsSettings(region="us-east-1", endpoint_url="not-a-url"), keys)
    with pytest.raises(ConfigError, match="Invalid endpoint"):
        sts.get_caller_identity(
            StsSettings(region="us-east-1", endpoint_url="http://[::1", no_proxy="example.com"), keys
        )


# ---------------------------------------------------------------------------------------------------------------
# botocore's container provider (no credentials file: the chain falls back to it)


@pytest.mark.parametrize("uri", ["not-a-url", "http://[::1", "http://example.com/creds", "\udcff"])
def test_container_full_uri_is_a_config_error(aws_home: AwsHome, uri: str) -> None:
    env = aws_home.env | {"AWS_CONTAINER_CREDENTIALS_FULL_URI": uri}
    err = _one_line(run_rolecall(["whoami"], env), 3)
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI is not usable" in err


def test_container_token_problems(aws_home: AwsHome, tmp_path: Path) -> None:
    env = aws_home.env | {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/creds"}
    missing = tmp_path / "no-such-token"
    err = _one_line(run_rolecall(["whoami"], env | {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(missing)}), 7)
    assert str(missing) in err
    err = _one_line(run_rolecall(["whoami"], env | {"AWS_CONTAINER_AUTHORIZATION_TOKEN": "s3cr3t-token\nx"}), 3)
    assert "authorization token" in err and "s3cr3t" not in err


# ---------------------------------------------------------------------------------------------------------------
# --query: what parses but fails when it runs is a usage error (exit 2), as a syntax error is


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("foo(bar)", "Unknown function: foo()"),
        ("not_a_function(@)", "Unknown function: not_a_function()"),
        ("length(@, @)", "Expected 1 argument for function length(), received 2"),
        ("merge()", "Expected at least 1 argument for function merge(), received 0"),
        ("[" * 5000, "nested too deeply"),
        ("[[[", "Invalid jmespath expression"),
    ],
)
def test_query_refused_before_the_call(sandbox: Sandbox, aws_home: AwsHome, query: str, expected: str) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    err = _one_line(run_rolecall(["sts", "get-caller-identity", "--query", query], env), 2)
    assert expected in err
    assert len(err) < 400  # a huge expression is not repeated whole
    assert sandbox.calls() == 0  # known from the expression alone: no request is spent


def test_query_type_error_when_it_runs(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    err = _one_line(run_rolecall(["sts", "get-caller-identity", "--query", "abs(Account)"], env), 2)
    assert 'In function abs(), invalid type for value: expected one of: number, received: "string"' in err
    # jmespath's own message would print the value: here the account id, below the credentials.
    assert sandbox.account_id not in err


@pytest.mark.parametrize("query", ["sum(Credentials)", "abs(Credentials.SecretAccessKey)", "abs(Credentials)"])
def test_query_type_error_never_shows_the_credentials(sandbox: Sandbox, aws_home: AwsHome, query: str) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    args = ["sts", "assume-role", "--role-arn", READONLY_ARN, "--role-session-name", "fuzz", "--query", query]
    err = _one_line(run_rolecall(args, env), 2)
    assert "invalid type for value" in err
    assert "ASIA" not in err and "FQoG" not in err and "{" not in err
    assert not re.search(r"[A-Za-z0-9/+]{40}", err)  # no secret access key
    assert sandbox.calls("AssumeRole") == 1
