"""``rolecall env`` end to end: through the real chain against the sandbox, evaluated by real bash, zsh and fish,
then checked by the real AWS CLI (issue 5)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

ROLECALL = f"{sys.executable} -m rolecall"
AWS = f"{sys.executable} -m awscli"


def _shell(shell: str, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if shutil.which(shell) is None:
        pytest.fail(f"{shell} is not installed (apt-get install -y zsh fish)")
    argv = [shell, "--no-config", "-c", script] if shell == "fish" else [shell, "-f" if shell == "zsh" else "--norc",
                                                                            "-c", script]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


# In each shell: a previous identity is left in the environment (a profile name and a legacy token that botocore
# reads before AWS_SESSION_TOKEN); rolecall's output is evaluated the shell's way; the real AWS CLI then asks STS
# who it is, and the shell prints what is left of the old identity.
SCRIPTS = {
    "bash": f'eval "$({ROLECALL} env deploy)" || exit 9\n{AWS} sts get-caller-identity || exit 8\n'
    'echo "left:${AWS_PROFILE-}${AWS_SECURITY_TOKEN-} rolecall:$ROLECALL_PROFILE"',
    "zsh": f'eval "$({ROLECALL} env deploy)" || exit 9\n{AWS} sts get-caller-identity || exit 8\n'
    'echo "left:${AWS_PROFILE-}${AWS_SECURITY_TOKEN-} rolecall:$ROLECALL_PROFILE"',
    # fish: the default format follows $SHELL, so no --format is needed there. (No status check: fish's `set`
    # passes the previous status along, so `source` reports that of the last `set -e` of a missing variable.)
    "fish": f"{ROLECALL} env deploy | source\n{AWS} sts get-caller-identity; or exit 8\n"
    'echo "left:$AWS_PROFILE$AWS_SECURITY_TOKEN rolecall:$ROLECALL_PROFILE"',
}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_eval_in_real_shells_then_the_aws_cli_is_the_assumed_role(
    sandbox: Sandbox, aws_home: AwsHome, shell: str  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    env.update(AWS_PROFILE="admin", AWS_SECURITY_TOKEN="stale-token-of-a-previous-role", SHELL=f"/usr/bin/{shell}")
    result = _shell(shell, SCRIPTS[shell], env)
    assert result.returncode == 0, result.stderr
    identity_text, _, tail = result.stdout.rpartition("}")
    identity = json.loads(identity_text + "}")
    # deploy is two hops (default -> readonly -> deploy): the AWS CLI sees the last role, not alice or admin.
    assert identity["Arn"].startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/deploy/")
    assert tail.strip() == "left: rolecall:deploy"
    assert sandbox.calls("AssumeRole") == 2


def test_profile_only_lets_the_aws_cli_resolve_the_profile_from_the_shared_cache(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    script = (
        # Keys of another role first, then --profile-only must remove them (keys beat AWS_PROFILE in every SDK).
        f'eval "$({ROLECALL} env readonly)"\neval "$({ROLECALL} env deploy --profile-only)" || exit 9\n'
        f"{AWS} sts get-caller-identity || exit 8\n"
        'echo "profile:$AWS_PROFILE keys:${AWS_ACCESS_KEY_ID-}${AWS_SESSION_TOKEN-}${AWS_CREDENTIAL_EXPIRATION-}"'
    )
    result = _shell("bash", script, env)
    assert result.returncode == 0, result.stderr
    identity_text, _, tail = result.stdout.rpartition("}")
    assert json.loads(identity_text + "}")["Arn"].startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/deploy/")
    assert tail.strip() == "profile:deploy keys:"
    # rolecall resolved deploy (2 AssumeRole calls) and cached both hops under the AWS CLI's own keys: the CLI,
    # resolving the profile itself, made no call of its own.
    assert sandbox.calls("AssumeRole") == 2


def test_profile_only_output_has_no_secret(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    keys = json.loads(run_rolecall(["env", "readonly", "--format", "json"], env).stdout)
    result = run_rolecall(["env", "readonly", "--profile-only"], env)
    assert result.returncode == 0, result.stderr
    assert keys["SecretAccessKey"] not in result.stdout and keys["SessionToken"] not in result.stdout
    assert "export AWS_PROFILE='readonly'" in result.stdout


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_unset_restores_the_shell_to_its_own_identity(
    sandbox: Sandbox, aws_home: AwsHome, shell: str  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    if shell == "fish":
        script = (
            f"{ROLECALL} env readonly --format fish | source\n{ROLECALL} env --unset --format fish | source\n"
            f"{AWS} sts get-caller-identity; or exit 8\nenv | string match -r '^(AWS_[A-Z0-9_]*|ROLECALL_PROFILE)='"
        )
    else:
        script = (
            f'eval "$({ROLECALL} env readonly)"\neval "$({ROLECALL} env --unset)"\n'
            f"{AWS} sts get-caller-identity || exit 8\nenv | grep -oE '^(AWS_[A-Z0-9_]*|ROLECALL_PROFILE)='"
        )
    result = _shell(shell, script, env)
    assert result.returncode == 0, result.stderr
    identity_text, _, tail = result.stdout.rpartition("}")
    # Back to the shell's own identity: alice's keys in the default profile.
    assert json.loads(identity_text + "}")["Arn"] == sandbox.user_arn
    left = {line.strip().rstrip("=") for line in tail.split() if line.strip()}
    # Only the files, the endpoint and the region (configuration, not identity) remain.
    assert left == {
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EC2_METADATA_DISABLED",
    }


def test_verify_calls_get_caller_identity_and_prints_the_exports(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = run_rolecall(["env", "readonly", "--verify"], env)
    assert result.returncode == 0, result.stderr
    assert sandbox.calls("GetCallerIdentity") == 1
    assert "export AWS_SESSION_TOKEN=" in result.stdout


def test_verify_fails_fast_with_the_aws_error_and_prints_nothing_to_eval(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = seeded_env(
        sandbox,
        aws_home,
        credentials="[revoked]\naws_access_key_id = AKIAREVOKEDREVOKED00\n"
        "aws_secret_access_key = notasecretnotasecretnotasecret00\n",
    )
    result = run_rolecall(["env", "revoked", "--verify"], env, timeout=30)
    assert result.returncode == 4, result.stderr
    assert result.stdout == ""  # `eval` gets nothing: the shell keeps its previous identity
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rolecall: ")
    assert "The security token included in the request is invalid" in lines[0]
    assert "notasecret" not in result.stderr
    # No retry of an authentication failure.
    assert sandbox.calls("GetCallerIdentity") == 1


@pytest.mark.parametrize("extra", [[], ["--profile-only"]])
def test_region_option_is_the_region_exported(sandbox: Sandbox, aws_home: AwsHome, extra: list[str]) -> None:  # noqa: F811
    """``--region`` picks the STS endpoint's region and is what the consumer gets, as ``exec`` does; without it,
    the profile's own region (or none) is exported."""
    env = seeded_env(sandbox, aws_home)
    with open(env["AWS_CONFIG_FILE"], "a") as handle:
        handle.write("\n[profile regional]\nrole_arn = " + sandbox.role_arn("readonly") + "\nsource_profile = default\n"
                     "region = eu-west-1\n")
    chosen = run_rolecall(["env", "regional", "--region", "ap-south-1", *extra], env)
    assert chosen.returncode == 0, chosen.stderr
    assert "export AWS_REGION='ap-south-1'" in chosen.stdout
    assert "export AWS_DEFAULT_REGION='ap-south-1'" in chosen.stdout
    own = run_rolecall(["env", "regional", *extra], env)
    assert own.returncode == 0, own.stderr
    assert "export AWS_REGION='eu-west-1'" in own.stdout and "ap-south-1" not in own.stdout
