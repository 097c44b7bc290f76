"""``rolecall save PROFILE --as NAME`` and ``save --refresh`` against the sandbox (issue 5): the user's file is
untouched byte for byte outside rolecall's section, foreign sections are refused, owned ones are renewed, and the
AWS CLI uses what was saved."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import AwsHome, run_aws, run_rolecall
from rolecall.config.parse import read_raw_file
from rolecall.sandbox import Sandbox
from rolecall.timefmt import parse_timestamp, utc_now
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

#: A hand-edited credentials file: comments everywhere, odd spacing, a foreign section, CRLF line ends in part.
#: (The keys of [default] are appended by _with_foreign_credentials, as the sandbox wrote them.)
FOREIGN = (
    "# my credentials -- do not lose these comments\r\n"
    "\n"
    "[ide]   \n"
    "; written by hand for the IDE\n"
    "aws_access_key_id=AKIAIDEIDEIDEIDEIDE0\n"
    "aws_secret_access_key   =  ide-secret-ide-secret-ide-secret-ide-secr\n"
    "region = eu-west-1 # not a comment for botocore\n"
    "\n"
    "# trailing comment\n"
)


def _with_foreign_credentials(sb: Sandbox, home: AwsHome) -> tuple[dict[str, str], bytes]:
    """The seeded files with FOREIGN before the sandbox's [default]; returns the environment and the
    credentials file's bytes."""
    env = seeded_env(sb, home)
    path = Path(env["AWS_SHARED_CREDENTIALS_FILE"])
    before = FOREIGN.encode() + path.read_bytes()
    path.write_bytes(before)
    return env, before


def _read(env: dict[str, str]) -> bytes:
    with open(env["AWS_SHARED_CREDENTIALS_FILE"], "rb") as handle:
        return handle.read()


def test_save_appends_a_marked_section_and_leaves_every_other_byte(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env, before = _with_foreign_credentials(sandbox, aws_home)
    result = run_rolecall(["save", "readonly", "--as", "ro-saved"], env)
    assert result.returncode == 0, result.stderr
    after = _read(env)
    assert after.startswith(before)  # comments, CRLF, spacing and the foreign sections: byte for byte
    section = read_raw_file(env["AWS_SHARED_CREDENTIALS_FILE"])["ro-saved"]  # type: ignore[index]
    assert section["rolecall_source_profile"] == "readonly"
    expiry = parse_timestamp(str(section["rolecall_expiration"]))
    assert timedelta(minutes=50) < expiry - utc_now() <= timedelta(hours=1)
    assert str(section["aws_access_key_id"]).startswith("ASIA")
    assert os.stat(env["AWS_SHARED_CREDENTIALS_FILE"]).st_mode & 0o077 == 0
    assert str(section["aws_secret_access_key"]) not in result.stderr
    # Saved again: the section is replaced in place, everything else still byte for byte.
    sandbox.set_credential_lifetime(120)
    again = run_rolecall(["save", "readonly", "--as", "ro-saved", "--force-refresh"], env)
    assert again.returncode == 0, again.stderr
    assert _read(env).startswith(before)
    renewed = read_raw_file(env["AWS_SHARED_CREDENTIALS_FILE"])["ro-saved"]  # type: ignore[index]
    assert renewed["aws_access_key_id"] != section["aws_access_key_id"]


def test_the_aws_cli_uses_the_saved_profile(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env, _ = _with_foreign_credentials(sandbox, aws_home)
    assert run_rolecall(["save", "deploy", "--as", "deploy-ide"], env).returncode == 0
    calls = sandbox.calls("AssumeRole")
    result = run_aws(["sts", "get-caller-identity", "--profile", "deploy-ide"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Arn"].startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/deploy/")
    assert sandbox.calls("AssumeRole") == calls  # plain keys: the CLI assumed nothing


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_the_keys_a_role_is_assumed_with_are_never_overwritten(
    sandbox: Sandbox, aws_home: AwsHome, force: list[str]  # noqa: F811
) -> None:
    env, before = _with_foreign_credentials(sandbox, aws_home)
    # deploy is assumed with readonly's session, which is assumed with default's long-term keys.
    guarded = run_rolecall(["save", "deploy", "--as", "default", *force], env)
    assert guarded.returncode == 2
    assert "[default] is a source of deploy (deploy -> readonly -> default)" in guarded.stderr
    assert "hint: save under another name" in guarded.stderr
    assert _read(env) == before
    assert sandbox.calls() == 0


def test_a_foreign_section_is_refused_and_force_overrides(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    target = "ide"
    env, before = _with_foreign_credentials(sandbox, aws_home)
    refused = run_rolecall(["save", "readonly", "--as", target], env)
    assert refused.returncode == 3
    assert f"[{target}]" in refused.stderr and "was not written by rolecall" in refused.stderr
    assert "--force" in refused.stderr  # the hint
    assert _read(env) == before
    forced = run_rolecall(["save", "readonly", "--as", target, "--force"], env)
    assert forced.returncode == 0, forced.stderr
    after = _read(env).decode()
    section = read_raw_file(env["AWS_SHARED_CREDENTIALS_FILE"])[target]  # type: ignore[index]
    assert section["rolecall_source_profile"] == "readonly"
    assert str(section["aws_access_key_id"]).startswith("ASIA")
    # Outside the keys rolecall sets, the section and the rest of the file are as they were.
    assert after.startswith("# my credentials -- do not lose these comments\r\n\n[ide]   \n; written by hand")
    assert "region = eu-west-1 # not a comment for botocore\n" in after
    assert "\n# trailing comment\n" in after
    assert after.endswith(before.decode().split("# trailing comment\n", 1)[1])
    # Now rolecall's: saving again needs no --force.
    assert run_rolecall(["save", "readonly", "--as", target], env).returncode == 0


def test_refresh_renews_owned_sections_near_expiry_and_leaves_the_rest(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env, before = _with_foreign_credentials(sandbox, aws_home)
    sandbox.set_credential_lifetime(60)  # expires within the 15-minute window
    assert run_rolecall(["save", "readonly", "--as", "short"], env).returncode == 0
    sandbox.set_credential_lifetime(None)
    assert run_rolecall(["save", "deploy", "--as", "long"], env).returncode == 0
    saved = _read(env)
    sections = read_raw_file(env["AWS_SHARED_CREDENTIALS_FILE"])
    assert sections is not None
    long_text = saved.decode().split("[long]", 1)[1]

    result = run_rolecall(["save", "--refresh"], env)
    assert result.returncode == 0, result.stderr
    assert "renewed [short] from readonly" in result.stderr
    assert "[long]" not in result.stderr
    after = read_raw_file(env["AWS_SHARED_CREDENTIALS_FILE"])
    assert after is not None
    assert after["short"]["aws_access_key_id"] != sections["short"]["aws_access_key_id"]
    assert parse_timestamp(str(after["short"]["rolecall_expiration"])) - utc_now() > timedelta(minutes=50)
    text = _read(env).decode()
    assert text.startswith(before.decode())  # the user's part
    assert text.split("[long]", 1)[1] == long_text  # the owned section that was not due: byte for byte
    # The renewed keys work.
    cli = run_aws(["sts", "get-caller-identity", "--profile", "short"], env)
    assert cli.returncode == 0, cli.stderr
    assert "assumed-role/readonly/" in json.loads(cli.stdout)["Arn"]

    # With a window wider than what is left, even the cache's fresh session is not handed back unchanged.
    wide = run_rolecall(["save", "--refresh", "--within", "120"], env)
    assert wide.returncode == 0, wide.stderr
    final = read_raw_file(env["AWS_SHARED_CREDENTIALS_FILE"])
    assert final is not None
    assert final["long"]["aws_access_key_id"] != after["long"]["aws_access_key_id"]
    assert final["short"]["aws_access_key_id"] != after["short"]["aws_access_key_id"]


def test_refresh_with_nothing_due_says_so_and_writes_nothing(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env, before = _with_foreign_credentials(sandbox, aws_home)
    result = run_rolecall(["save", "--refresh"], env)
    assert result.returncode == 0, result.stderr
    assert "nothing to renew" in result.stderr
    assert _read(env) == before
    assert sandbox.calls() == 0


def test_save_as_the_profile_itself_is_a_usage_error(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env, before = _with_foreign_credentials(sandbox, aws_home)
    result = run_rolecall(["save", "readonly", "--as", "readonly"], env)
    assert result.returncode == 2
    assert _read(env) == before


def test_only_the_profiles_the_resolution_uses_are_guarded(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """The guard walks the chain as the resolver does (config.profiles.source_chain): default has keys, so its
    own role_arn and source_profile are never read when it is readonly's source, and the profile they name is no
    source of readonly: saving there is allowed. default itself still is."""
    env, _before = _with_foreign_credentials(sandbox, aws_home)
    config = env["AWS_CONFIG_FILE"]
    with open(config) as handle:
        text = handle.read()
    with open(config, "w") as handle:
        handle.write(text.replace("[default]\n", f"[default]\nrole_arn = {sandbox.role_arn('deploy')}\n"
                                                 "source_profile = spare\n", 1))  # fmt: skip
    done = run_rolecall(["save", "readonly", "--as", "spare"], env)
    assert done.returncode == 0, done.stderr
    section = read_raw_file(env["AWS_SHARED_CREDENTIALS_FILE"])["spare"]  # type: ignore[index]
    assert section["rolecall_source_profile"] == "readonly"
    guarded = run_rolecall(["save", "readonly", "--as", "default", "--force"], env)
    assert guarded.returncode == 2 and "(readonly -> default)" in guarded.stderr
