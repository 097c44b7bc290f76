"""``keys import`` (issue 11): the credentials file loses its secrets but keeps its comments, a 0600 backup stays
until ``--confirm``, and rolecall, the real AWS CLI and boto3 get the same identities as before from the sandbox,
role profiles whose source_profile was imported included; the MFA ``reuse`` strategy works with stored keys."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import boto3
import pytest

from conftest import AwsHome, run_aws, run_rolecall
from keyring_fixtures import keyring_env, secret_service  # noqa: F401 - the fixtures
from rolecall.errors import ExitCode
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture
from test_keys_store import keys_env

#: A second IAM user's section, with comments around and inside, and a section that must be left alone.
EXTRA = """
# Bob's keys: imported too
[bob]
# his key id
aws_access_key_id = {bob_id}
aws_secret_access_key = {bob_secret}
region = eu-west-1

[saved-session]
aws_access_key_id = ASIAEXAMPLEEXAMPLE01
aws_secret_access_key = temporary-secret
aws_session_token = token
"""


def _with_bob(sb: Sandbox, home: AwsHome, base: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The sandbox's files plus bob; returns the environment and the secrets that must leave the file."""
    bob = sb.create_user("bob")
    env = seeded_env(
        sb,
        home,
        base=base,
        credentials=EXTRA.format(bob_id=bob.access_key_id, bob_secret=bob.secret_access_key),
        config=f"[profile bob-readonly]\nrole_arn = {sb.role_arn('readonly')}\nsource_profile = bob\n",
    )
    return env, [sb.secret_access_key, bob.secret_access_key]


def _identities(env: dict[str, str], profiles: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Each profile's ARN by rolecall, the AWS CLI and boto3 (role session names differ: the role part only)."""
    found: dict[str, list[str]] = {}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for name in profiles:
        ours = run_rolecall(["whoami", name, "--output", "json"], env)
        assert ours.returncode == 0, ours.stderr
        theirs = run_aws(["sts", "get-caller-identity", "--profile", name], env)
        assert theirs.returncode == 0, theirs.stderr
        sdk = boto3.Session(profile_name=name).client("sts").get_caller_identity()["Arn"]
        arns = [json.loads(ours.stdout)["Arn"], json.loads(theirs.stdout)["Arn"], sdk]
        found[name] = [arn.rsplit("/", 1)[0] if ":assumed-role/" in arn else arn for arn in arns]
    return found


@pytest.mark.parametrize("backend", ["keyring", "file"])
def test_import_all_leaves_no_secret_and_every_tool_still_works(
    sandbox: Sandbox, aws_home: AwsHome, backend: str, request: pytest.FixtureRequest,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    keyring = request.getfixturevalue("keyring_env") if backend == "keyring" else None
    env, secrets = _with_bob(sandbox, aws_home, keys_env(aws_home, backend, keyring))
    profiles = ["default", "bob", "readonly", "deploy", "bob-readonly"]
    before = _identities(env, profiles, monkeypatch)
    credentials = Path(env["AWS_SHARED_CREDENTIALS_FILE"])
    old_text = credentials.read_text()

    done = run_rolecall(["keys", "import", "--all"], env)
    assert done.returncode == 0, done.stderr
    assert "[saved-session] left as it is: temporary keys" in done.stderr
    assert "rolecall keys import --confirm" in done.stderr
    text = credentials.read_text()
    for secret in secrets:
        assert secret not in text and secret not in done.stdout + done.stderr
    for comment in ("# Bob's keys: imported too", "# his key id", "region = eu-west-1", "aws_session_token = token"):
        assert comment in text
    assert "credential_process = rolecall credential-process --keys default" in text
    assert "credential_process = rolecall credential-process --keys bob" in text
    backups = sorted(credentials.parent.glob("credentials.rolecall-backup-*"))
    assert len(backups) == 1 and backups[0].read_text() == old_text
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600

    after = _identities(env, profiles, monkeypatch)
    assert after == before
    assert before["default"][0] == sandbox.user_arn and before["bob-readonly"][0].endswith("assumed-role/readonly")

    plan = run_rolecall(["assume", "readonly", "--explain", "--force-refresh"], env)
    label = "the keychain (Secret Service)" if backend == "keyring" else "the encrypted file"
    expected = f"long-term keys {sandbox.access_key_id[:4]}…{sandbox.access_key_id[-4:]} from {label}"
    assert expected in plan.stdout, plan.stdout

    confirmed = run_rolecall(["keys", "import", "--confirm"], env)
    assert confirmed.returncode == 0 and str(backups[0]) in confirmed.stderr
    assert not backups[0].exists()
    assert run_rolecall(["keys", "import", "--all"], env).stderr.count("left as it is") == 3  # nothing left to do


def test_mfa_reuse_works_with_a_stored_key(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env, _secrets = _with_bob(sandbox, aws_home, keys_env(aws_home, "file"))
    assert run_rolecall(["keys", "import", "default"], env).returncode == 0
    plan = run_rolecall(["assume", "admin", "--explain"], env)
    assert "MFA strategy reuse (the default)" in plan.stdout, plan.stdout
    first = run_rolecall(["assume", "admin", "--token-code", sandbox.fresh_code()], env)
    assert first.returncode == 0, first.stderr
    assert sandbox.calls("GetSessionToken") == 1 and sandbox.calls("AssumeRole") == 1
    # A second role of the same source needs no code: the MFA session is keyed by the stored key as by a file key.
    with open(env["AWS_CONFIG_FILE"], "a") as handle:
        handle.write(f"[profile admin2]\nrole_arn = {sandbox.role_arn('admin')}\nsource_profile = default\n"
                     f"mfa_serial = {sandbox.mfa_serial}\nrole_session_name = second\n")  # fmt: skip
    second = run_rolecall(["assume", "admin2"], env)
    assert second.returncode == 0, second.stderr
    assert sandbox.calls("GetSessionToken") == 1 and sandbox.calls("AssumeRole") == 2


def test_import_errors(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env, _secrets = _with_bob(sandbox, aws_home, keys_env(aws_home, "file"))
    credentials = Path(env["AWS_SHARED_CREDENTIALS_FILE"])
    text = credentials.read_text()
    assert run_rolecall(["keys", "import", "nobody"], env).returncode == ExitCode.NOT_FOUND
    temporary = run_rolecall(["keys", "import", "saved-session"], env)
    assert temporary.returncode == ExitCode.CONFIG and "temporary keys" in temporary.stderr
    assert run_rolecall(["keys", "import"], env).returncode == ExitCode.USAGE
    assert run_rolecall(["keys", "import", "--all", "bob"], env).returncode == ExitCode.USAGE
    # The store cannot be opened (wrong passphrase for an existing file): the file is not touched, no backup.
    assert run_rolecall(["keys", "add", "x"], env, input="AKIAIOSFODNN7EXAMPLE\nsecret\n").returncode == 0
    wrong = run_rolecall(["keys", "import", "--all"], {**env, "ROLECALL_KEYS_PASSPHRASE": "wrong"})
    assert wrong.returncode == ExitCode.INVALID_INPUT
    assert credentials.read_text() == text
    assert not list(credentials.parent.glob("credentials.rolecall-backup-*"))
    assert not [name for name in os.listdir(credentials.parent) if name.endswith(".tmp")]
