"""Issue 15, follow-ups of items 17-20 and of botocore's own test cases (tests/trust/test_botocore_cases.py).

* rolecall.aws.transport is the one place that turns botocore's "refreshed credentials are still expired" into
  ``ExpiredCredentialsError`` (exit 4), which lives in ``rolecall.errors`` (still importable from
  ``rolecall.providers.base``).
* Instance metadata is asked as botocore's own resolver asks it: the endpoint (``AWS_EC2_METADATA_SERVICE_ENDPOINT``
  or the profile's ``ec2_metadata_service_endpoint``), the timeout and the number of attempts come from the
  environment rolecall is given (a library caller's ``env``, not ``os.environ``) or the profile.
* Three differences from botocore found by its test cases, fixed: ``AWS_PROFILE`` naming a missing profile while
  keys are in the environment; an empty ``aws_access_key_id`` in the credentials file; a ``credential_process``
  whose output starts with a UTF-8 byte-order mark.

Real HTTP servers on 127.0.0.1 stand in for the container endpoint and the metadata service; botocore and the
AWS CLI are the oracles.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import AwsHome, run_aws, run_rolecall
from rolecall import errors
from rolecall.aws.transport import botocore_source_credentials, imds_region
from rolecall.cli.context import Context
from rolecall.cli.main import main
from rolecall.errors import ConfigError, ProfileNotFoundError, RolecallError
from rolecall.resolve import get_credentials
from test_trust_resolution import PAST, Reply, botocore_credentials, local_server

FUTURE = (datetime.now(timezone.utc) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
SECRET = "imdsSecretExample00000000000000000000000"


def _one_line(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rolecall: ") and "hint:" in lines[0], stderr


def rc(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """rolecall's CLI in this process, with ``env`` as its whole environment."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), Context(stdin=io.StringIO(), stdout=out, stderr=err, env=env))
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# ExpiredCredentialsError: in errors.py, raised by rolecall.aws.transport for botocore's sources


def test_expired_credentials_error_is_in_errors_and_still_importable_from_providers_base() -> None:
    from rolecall.providers import base

    moved = getattr(errors, "ExpiredCredentialsError", None)
    assert moved is not None and moved is base.ExpiredCredentialsError
    assert issubclass(moved, errors.AwsError) and moved("x").exit_code == errors.ExitCode.AWS == 4


def test_sts_turns_a_still_expired_container_answer_into_expired_credentials(aws_home: AwsHome) -> None:
    """botocore_source_credentials itself raises ExpiredCredentialsError, never botocore's bare RuntimeError."""

    def container(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        block = {"AccessKeyId": "ASIACONTAINEREXAMPLE", "SecretAccessKey": "containerSecret0000000000000000000000",
                 "Token": "containerToken", "Expiration": PAST}  # fmt: skip
        return 200, {"Content-Type": "application/json"}, json.dumps(block).encode()

    with local_server(container) as (url, seen):
        env = dict(aws_home.env, AWS_CONTAINER_CREDENTIALS_FULL_URI=url + "/creds")
        with pytest.raises(Exception) as caught:  # before the fix: botocore's RuntimeError
            botocore_source_credentials("container-role", "default", env)
    assert type(caught.value).__name__ == "ExpiredCredentialsError" and isinstance(caught.value, errors.AwsError)
    assert isinstance(caught.value, RolecallError) and caught.value.exit_code == 4
    message = caught.value.message
    assert "the container credentials endpoint returned credentials that had already expired, twice" in message
    assert "containerSecret" not in message and caught.value.__cause__ is None and caught.value.__suppress_context__
    assert len(seen) == 2  # botocore's one mandatory refresh, then the refusal


# ---------------------------------------------------------------------------------------------------------------
# Instance metadata set up from the environment rolecall is given, and from the profile


@contextmanager
def fake_imds_credentials(failures: int = 0, expiration: str = FUTURE) -> Iterator[tuple[str, list[str]]]:
    """An IMDSv2 metadata service with an instance role; its first ``failures`` answers for the role's
    credentials are HTTP 500 (botocore retries those up to ``metadata_service_num_attempts`` times)."""
    failed = [0]

    def answer(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if method == "PUT" and path == "/latest/api/token":
            return 200, {}, b"imds-token"
        if headers.get("x-aws-ec2-metadata-token") != "imds-token":
            return 401, {}, b""
        if path == "/latest/meta-data/iam/security-credentials/":
            return 200, {}, b"box-role"
        if path == "/latest/meta-data/iam/security-credentials/box-role":
            if failed[0] < failures:
                failed[0] += 1
                return 500, {}, b"busy"
            block = {"Code": "Success", "AccessKeyId": "ASIAIMDSEXAMPLE00001", "SecretAccessKey": SECRET,
                     "Token": "imdsToken", "Expiration": expiration}  # fmt: skip
            return 200, {"Content-Type": "application/json"}, json.dumps(block).encode()
        return 404, {}, b""

    with local_server(answer) as served:
        yield served


def _imds_env(aws_home: AwsHome, **extra: str) -> dict[str, str]:
    return dict(aws_home.env, ROLECALL_USE_IMDS="1", AWS_EC2_METADATA_DISABLED="false", **extra)


def test_imds_endpoint_from_the_given_environment(aws_home: AwsHome) -> None:
    """AWS_EC2_METADATA_SERVICE_ENDPOINT in the env given to the library (not in os.environ) is the one asked."""
    with fake_imds_credentials() as (url, seen):
        env = _imds_env(aws_home, AWS_EC2_METADATA_SERVICE_ENDPOINT=url + "/")
        assert "AWS_EC2_METADATA_SERVICE_ENDPOINT" not in os.environ
        found = get_credentials(env=env)
    assert (found.access_key_id, found.session_token) == ("ASIAIMDSEXAMPLE00001", "imdsToken")
    assert "GET /latest/meta-data/iam/security-credentials/box-role" in seen


def test_imds_endpoint_from_the_profile(aws_home: AwsHome) -> None:
    """The profile's ec2_metadata_service_endpoint counts, as in botocore's own resolver."""
    with fake_imds_credentials() as (url, seen):
        aws_home.write_config(f"[default]\nec2_metadata_service_endpoint = {url}/\n")
        result = run_rolecall(["env", "--format", "json"], _imds_env(aws_home))
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["AccessKeyId"] == "ASIAIMDSEXAMPLE00001"
        # The oracle: botocore's own chain on the same files and environment.
        assert botocore_credentials(_imds_env(aws_home)) == ("iam-role", "ASIAIMDSEXAMPLE00001")
    assert seen


def test_imds_attempts_from_the_given_environment(aws_home: AwsHome) -> None:
    """AWS_METADATA_SERVICE_NUM_ATTEMPTS of the given env: two busy answers, then the credentials on the third."""
    with fake_imds_credentials(failures=2) as (url, _seen):
        env = _imds_env(aws_home, AWS_EC2_METADATA_SERVICE_ENDPOINT=url + "/", AWS_METADATA_SERVICE_NUM_ATTEMPTS="3")
        assert "AWS_METADATA_SERVICE_NUM_ATTEMPTS" not in os.environ
        assert get_credentials(env=env).access_key_id == "ASIAIMDSEXAMPLE00001"


def test_imds_region_reads_the_given_environment_through_sts(aws_home: AwsHome) -> None:
    """aws.transport.imds_region is where the region lookup's botocore lives; the endpoint comes from the given env."""
    from test_trust_resolution import fake_imds

    with fake_imds("ap-southeast-2a") as (url, _seen):
        env = _imds_env(aws_home, AWS_EC2_METADATA_SERVICE_ENDPOINT=url + "/")
        assert imds_region(env, None) == "ap-southeast-2"
        from rolecall.providers.botocore_source import imds_region as provider_region

        assert provider_region(env, None) == "ap-southeast-2"
        assert provider_region({**env, "ROLECALL_USE_IMDS": "0"}, None) is None


def test_only_the_transport_imports_botocore() -> None:
    """In src/rolecall, only rolecall.aws.transport (and the sandbox) import botocore or boto3, at any depth (an AST
    scan: imports inside functions count too)."""
    import ast

    root = Path(__file__).resolve().parents[2] / "src" / "rolecall"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(("aws/transport/", "sandbox/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [f"{relative}:{node.lineno}: {name}" for name in names
                          if name.split(".")[0] in ("botocore", "boto3")]  # fmt: skip
    assert offenders == []


# ---------------------------------------------------------------------------------------------------------------
# AWS_PROFILE / AWS_DEFAULT_PROFILE naming a missing profile while keys are in the environment: refused


ENV_KEYS = {
    "AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE000001",
    "AWS_SECRET_ACCESS_KEY": "envSecretExample000000000000000000000000",
}


@pytest.mark.parametrize("variable", ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"])
@pytest.mark.parametrize("command", [["env"], ["whoami"], ["assume"], ["sts", "get-caller-identity"]])
def test_a_missing_profile_named_by_the_environment_is_refused_even_with_keys(
    aws_home: AwsHome, variable: str, command: list[str]
) -> None:
    aws_home.write_config("[profile real]\nregion = us-east-1\n")
    env = dict(aws_home.env, **ENV_KEYS, **{variable: "reel"})
    result = run_rolecall(command, env)
    assert result.returncode == 3 and result.stdout == "", result.stderr
    _one_line(result.stderr)
    assert "the profile 'reel' could not be found" in result.stderr and "Did you mean 'real'?" in result.stderr
    if command[0] != "sts":  # `rolecall sts` checks the name itself first, with the AWS CLI's words
        assert f"{variable} names it" in result.stderr and f"unset {variable}" in result.stderr
    assert "envSecret" not in result.stderr


def test_a_missing_profile_named_by_the_environment_as_the_aws_cli_and_the_library_see_it(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile real]\nregion = us-east-1\n")
    env = dict(aws_home.env, **ENV_KEYS, AWS_PROFILE="ghost")
    aws = run_aws(["sts", "get-caller-identity"], env)
    assert aws.returncode != 0 and "could not be found" in aws.stderr  # ProfileNotFound, before any request
    with pytest.raises(ProfileNotFoundError) as caught:
        get_credentials(env=env)
    assert caught.value.exit_code == 3 and "AWS_PROFILE names it" in caught.value.message
    # AWS_PROFILE=default is a name too (botocore insists on it as well); without it, the keys are used.
    with pytest.raises(ProfileNotFoundError):
        get_credentials(env=dict(env, AWS_PROFILE="default"))
    assert get_credentials(env=dict(env, AWS_PROFILE="")).access_key_id == ENV_KEYS["AWS_ACCESS_KEY_ID"]
    assert get_credentials(env=dict(env, AWS_PROFILE="real")).access_key_id == ENV_KEYS["AWS_ACCESS_KEY_ID"]
    code, out, err = rc(dict(env, AWS_PROFILE="real"), "env", "--format", "json")
    assert code == 0 and json.loads(out)["AccessKeyId"] == ENV_KEYS["AWS_ACCESS_KEY_ID"], err


# ---------------------------------------------------------------------------------------------------------------
# An empty aws_access_key_id: refused, never skipped for another source's keys


def test_an_empty_access_key_in_the_credentials_file_is_refused(aws_home: AwsHome) -> None:
    aws_home.write_credentials("[default]\naws_access_key_id =\naws_secret_access_key = c\n")
    aws_home.write_config("[default]\naws_access_key_id = AKIACONFIGEXAMPLE001\naws_secret_access_key = g\n")
    result = run_rolecall(["env"], aws_home.env)
    assert result.returncode == 3 and result.stdout == "", result.stderr
    _one_line(result.stderr)
    assert "aws_access_key_id is empty in the credentials file [default] (" in result.stderr
    assert str(aws_home.credentials) in result.stderr or "~/.aws/credentials" in result.stderr
    assert "rolecall configure set aws_access_key_id AKIA... --profile default" in result.stderr
    assert "AKIACONFIGEXAMPLE001" not in result.stderr


def test_an_empty_access_key_in_a_source_profile_is_refused(aws_home: AwsHome) -> None:
    """Not skipped for the credential_process the source also has (botocore: the file's keys come first)."""
    aws_home.write_credentials("[base]\naws_access_key_id =\naws_secret_access_key = c\n")
    aws_home.write_config(
        "[profile base]\ncredential_process = /bin/false\n"
        "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n"
    )
    with pytest.raises(ConfigError) as caught:
        get_credentials("role", env=dict(aws_home.env))
    assert "aws_access_key_id is empty in the credentials file [base]" in caught.value.message


# ---------------------------------------------------------------------------------------------------------------
# credential_process output with a byte-order mark: refused, as botocore refuses it


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_process_output_with_a_byte_order_mark_is_refused(aws_home: AwsHome, tmp_path: Path, encoding: str) -> None:
    document = json.dumps({"Version": 1, "AccessKeyId": "AKIAPROCESSEXAMPLE01", "SecretAccessKey": "procSecret"})
    script = tmp_path / "bom.py"
    script.write_text(f"import sys\nsys.stdout.buffer.write({document.encode(encoding)!r})\n")
    aws_home.write_config(f"[profile proc]\ncredential_process = {sys.executable} {script}\n")
    result = run_rolecall(["env", "proc"], aws_home.env)
    assert result.returncode == 3 and result.stdout == "", result.stderr
    _one_line(result.stderr)
    assert "byte-order mark" in result.stderr and "the AWS CLI refuses" in result.stderr
    assert "procSecret" not in result.stderr
    # The same helper without the mark works.
    script.write_text(f"import sys\nsys.stdout.write({document!r})\n")
    assert run_rolecall(["env", "proc"], aws_home.env).returncode == 0


def test_expired_instance_metadata_credentials_are_extended_as_botocore_extends_them(aws_home: AwsHome) -> None:
    """botocore extends expired IMDS credentials to 17-25 minutes from now (its 15-minute refresh window and 2-10
    minutes of jitter) rather than fail an instance whose metadata service is down; rolecall gives the same answer
    (docs/profiles.md, expired credentials)."""
    with fake_imds_credentials(expiration=PAST) as (url, _seen):
        env = _imds_env(aws_home, AWS_EC2_METADATA_SERVICE_ENDPOINT=url + "/")
        found = get_credentials(env=env)
        assert found.expiration is not None
        left = found.expiration - datetime.now(timezone.utc)
        assert timedelta(minutes=16) < left <= timedelta(minutes=25, seconds=30)
        assert botocore_credentials(env) == ("iam-role", "ASIAIMDSEXAMPLE00001")
