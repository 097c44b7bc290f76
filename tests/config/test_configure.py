"""`rolecall configure` end to end: real processes, real files, botocore reading the result."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.configloader import load_config, raw_config_parse

from conftest import AwsHome, run_rolecall
from rolecall.cli.context import Context
from rolecall.cli.main import main


def rc(aws_home: AwsHome, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run rolecall in-process (fast) with the isolated environment; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(stdin=io.StringIO(), stdout=out, stderr=err, env=dict(aws_home.env) | (env or {}))
    code = main(list(args), ctx)
    return code, out.getvalue(), err.getvalue()


def test_set_routes_like_the_aws_cli(aws_home: AwsHome) -> None:
    assert rc(aws_home, "configure", "set", "region", "us-west-2")[0] == 0
    assert rc(aws_home, "configure", "set", "output", "json", "--profile", "dev")[0] == 0
    assert rc(aws_home, "configure", "--profile", "a b", "set", "region", "eu-west-1")[0] == 0
    assert rc(aws_home, "configure", "set", "aws_access_key_id", "AKIAEXAMPLE", "--profile", "a b")[0] == 0
    assert rc(aws_home, "configure", "set", "profile.dev.s3.max_concurrency", "10")[0] == 0
    assert rc(aws_home, "configure", "set", "default.s3.addressing_style", "path")[0] == 0
    assert rc(aws_home, "configure", "set", "plugins.endpoint", "awscli_plugin_endpoint")[0] == 0
    assert rc(aws_home, "configure", "set", "cli_pager", "", env={"AWS_PROFILE": "dev"})[0] == 0
    assert aws_home.config.read_text() == (
        "[default]\nregion = us-west-2\ns3 =\n    addressing_style = path\n"
        "[profile dev]\noutput = json\ns3 =\n    max_concurrency = 10\ncli_pager =\n"
        "[profile 'a b']\nregion = eu-west-1\n"
        "[plugins]\nendpoint = awscli_plugin_endpoint\n"
    )
    assert aws_home.credentials.read_text() == "[a b]\naws_access_key_id = AKIAEXAMPLE\n"
    assert stat.S_IMODE(aws_home.credentials.stat().st_mode) == 0o600
    config = load_config(str(aws_home.config))
    assert config["profiles"]["a b"] == {"region": "eu-west-1"}
    assert raw_config_parse(str(aws_home.credentials)) == {"a b": {"aws_access_key_id": "AKIAEXAMPLE"}}


def test_get(aws_home: AwsHome) -> None:
    aws_home.write_config(
        "[default]\nregion = us-east-1\ns3 =\n  max_concurrency = 5\n"
        "[profile dev]\nRegion = eu-west-1\n[plugins]\nx = y\n"
    )
    aws_home.write_credentials("[dev]\naws_access_key_id = AKIADEV\n")
    assert rc(aws_home, "configure", "get", "region") == (0, "us-east-1\n", "")
    assert rc(aws_home, "configure", "get", "region", "--profile", "dev") == (0, "eu-west-1\n", "")
    assert rc(aws_home, "configure", "get", "region", env={"AWS_PROFILE": "dev"}) == (0, "eu-west-1\n", "")
    assert rc(aws_home, "configure", "get", "dev.region") == (0, "eu-west-1\n", "")
    assert rc(aws_home, "configure", "get", "profile.dev.aws_access_key_id") == (0, "AKIADEV\n", "")
    assert rc(aws_home, "configure", "get", "s3.max_concurrency") == (0, "5\n", "")
    assert rc(aws_home, "configure", "get", "default.s3.max_concurrency") == (0, "5\n", "")
    assert rc(aws_home, "configure", "get", "plugins.x") == (0, "y\n", "")
    # missing: nothing printed, exit 1 (as aws configure get)
    assert rc(aws_home, "configure", "get", "output") == (1, "", "")
    assert rc(aws_home, "configure", "get", "s3.nope") == (1, "", "")
    assert rc(aws_home, "configure", "get", "profile.nope.region") == (1, "", "")
    code, out, err = rc(aws_home, "configure", "get", "s3")
    assert (code, out) == (1, "") and "nested" in err and err.count("\n") == 1


def test_get_missing_default_in_empty_home_is_exit_1(aws_home: AwsHome) -> None:
    assert rc(aws_home, "configure", "get", "region") == (1, "", "")


def test_list_profiles(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile b]\n[default]\n[profile 'a b']\n")
    aws_home.write_credentials("[c]\naws_access_key_id = x\n[b]\n")
    assert rc(aws_home, "configure", "list-profiles") == (0, "b\ndefault\na b\nc\n", "")


def test_list_masks_secrets_and_says_where_from(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile dev]\nregion = eu-west-1\nrole_arn = arn:aws:iam::123456789012:role/r\n")
    aws_home.write_credentials(
        "[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    )
    code, out, err = rc(aws_home, "configure", "list", "--profile", "dev")
    assert code == 0 and err == ""
    assert "wJalrXUtnFEMI" not in out and "AKIAIOSFODNN7EXAMPLE" not in out
    assert "****************MPLE" in out and "****************EKEY" in out
    assert str(aws_home.credentials) in out and str(aws_home.config) in out
    assert "eu-west-1" in out and "--profile" in out
    code, out, _ = rc(aws_home, "configure", "list", "--profile", "dev", env={"AWS_REGION": "us-east-2"})
    assert "us-east-2" in out and "AWS_REGION" in out


def test_list_masks_short_secrets_completely(aws_home: AwsHome) -> None:
    aws_home.write_credentials("[default]\naws_access_key_id = abcd\naws_secret_access_key = wxyz\n")
    code, out, _ = rc(aws_home, "configure", "list")
    assert code == 0 and "abcd" not in out and "wxyz" not in out


def test_permission_warning_on_stderr_for_readable_credentials(aws_home: AwsHome) -> None:
    aws_home.write_credentials("[default]\n")
    os.chmod(aws_home.credentials, 0o644)
    result = run_rolecall(["configure", "set", "aws_secret_access_key", "SECRETSECRET"], env=aws_home.env)
    assert result.returncode == 0 and result.stdout == ""
    assert "chmod 600" in result.stderr and "SECRETSECRET" not in result.stderr
    assert stat.S_IMODE(aws_home.credentials.stat().st_mode) == 0o644  # warned, not changed behind their back
    # Writing the config file says nothing about the credentials file.
    result = run_rolecall(["configure", "set", "region", "x"], env=aws_home.env)
    assert result.stderr == ""
    result = run_rolecall(["configure", "list"], env=aws_home.env)
    assert "chmod 600" in result.stderr


# ---- every error path: one line with a hint, the documented exit code, no traceback


def _one_line_error(result: subprocess.CompletedProcess[str], code: int) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("rolecall: ") and "(hint: " in result.stderr
    assert "Traceback" not in result.stderr


def test_error_unreadable_config_is_file_error(aws_home: AwsHome) -> None:
    aws_home.config.mkdir(parents=True)  # a folder where the file should be
    _one_line_error(run_rolecall(["configure", "set", "region", "x"], env=aws_home.env), 7)


def test_error_config_path_under_a_file(aws_home: AwsHome, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    env = aws_home.env | {"AWS_CONFIG_FILE": str(blocker / "config")}
    _one_line_error(run_rolecall(["configure", "set", "region", "x"], env=env), 7)


@pytest.mark.parametrize("action", [["set", "region", "x"], ["get", "region"]])
def test_error_permission_denied(aws_home: AwsHome, action: list[str]) -> None:
    """A config file the user may not read; file modes bind the command even as root (``file_modes_bind``)."""
    config = aws_home.write_config("[default]\nregion = a\n")
    os.chmod(config, 0)
    result = run_rolecall(["configure", *action], env=aws_home.env, modes_bind=True)
    _one_line_error(result, 7)
    assert "ermission denied" in result.stderr
    os.chmod(config, 0o600)
    assert config.read_text() == "[default]\nregion = a\n"


@pytest.mark.parametrize("action", [["set", "region", "x"], ["get", "region"], ["list"], ["list-profiles"]])
def test_error_bad_syntax_is_config_error_naming_the_line(aws_home: AwsHome, action: list[str]) -> None:
    aws_home.write_config("[default]\nregion = a\nthis line is wrong\n")
    result = run_rolecall(["configure", *action], env=aws_home.env)
    _one_line_error(result, 3)
    assert "line 3" in result.stderr
    assert aws_home.config.read_text() == "[default]\nregion = a\nthis line is wrong\n"


def test_error_bad_syntax_in_credentials_file(aws_home: AwsHome) -> None:
    aws_home.write_credentials("aws_access_key_id = x\n")
    _one_line_error(run_rolecall(["configure", "set", "aws_access_key_id", "y"], env=aws_home.env), 3)


@pytest.mark.parametrize(
    "args", [["get", "region", "--profile", "nope"], ["list", "--profile", "nope"]], ids=["get", "list"]
)
def test_error_unknown_profile(aws_home: AwsHome, args: list[str]) -> None:
    aws_home.write_config("[profile dev]\nregion = a\n")
    result = run_rolecall(["configure", *args], env=aws_home.env)
    _one_line_error(result, 3)
    assert "nope" in result.stderr


def test_error_unknown_profile_from_environment(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile dev]\nregion = a\n")
    _one_line_error(run_rolecall(["configure", "get", "region"], env=aws_home.env | {"AWS_PROFILE": "dve"}), 3)


@pytest.mark.parametrize("varname", ["a=b", "#x", "profile.dev", "a.b.c", " region", "profile.dev.s3.x.y"])
def test_error_bad_key(aws_home: AwsHome, varname: str) -> None:
    _one_line_error(run_rolecall(["configure", "set", varname, "x"], env=aws_home.env), 8)
    assert not aws_home.config.exists()


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "\n"])
def test_error_newline_in_value(aws_home: AwsHome, value: str) -> None:
    aws_home.write_config("[default]\n")
    result = run_rolecall(["configure", "set", "region", value], env=aws_home.env)
    _one_line_error(result, 8)
    assert "newline" in result.stderr
    assert aws_home.config.read_text() == "[default]\n"


def test_error_newline_in_profile_name(aws_home: AwsHome) -> None:
    result = run_rolecall(["configure", "set", "region", "x", "--profile", "a\nb"], env=aws_home.env)
    _one_line_error(result, 8)


def test_error_usage(aws_home: AwsHome) -> None:
    _one_line_error(run_rolecall(["configure", "set", "region"], env=aws_home.env), 2)
    _one_line_error(run_rolecall(["configure", "frobnicate"], env=aws_home.env), 2)


# ---- concurrency: 20 writers at once, no update lost


def test_twenty_concurrent_writers_lose_nothing(aws_home: AwsHome) -> None:
    aws_home.write_config("# shared file\n[default]\nregion = us-east-1\n")
    procs = []
    for index in range(20):
        args = ["configure", "set", f"key_{index:02d}", f"value-{index}"]
        if index % 3 == 1:
            args += ["--profile", f"p{index % 2}"]
        elif index % 3 == 2:
            args = ["configure", "set", f"aws_access_key_id_{index}", "x", "--profile", "p"]
        procs.append(
            subprocess.Popen([sys.executable, "-m", "rolecall", *args], env=aws_home.env, stderr=subprocess.PIPE)
        )
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    config = load_config(str(aws_home.config))["profiles"]
    for index in range(20):
        if index % 3 == 0:
            assert config["default"][f"key_{index:02d}"] == f"value-{index}"
        elif index % 3 == 1:
            assert config[f"p{index % 2}"][f"key_{index:02d}"] == f"value-{index}"
        else:
            assert config["p"][f"aws_access_key_id_{index}"] == "x"
    assert config["default"]["region"] == "us-east-1"
    assert aws_home.config.read_text().startswith("# shared file\n[default]\nregion = us-east-1\n")


# ---- deliberate differences from the AWS CLI that only the command shows (docs/configure.md)


def test_deliberate_credential_keys_routed_case_insensitively(aws_home: AwsHome) -> None:
    # aws writes AWS_SECRET_ACCESS_KEY to the config file; a secret belongs in the credentials file.
    assert rc(aws_home, "configure", "set", "AWS_SECRET_ACCESS_KEY", "s3cr3t")[0] == 0
    assert not aws_home.config.exists()
    assert raw_config_parse(str(aws_home.credentials)) == {"default": {"aws_secret_access_key": "s3cr3t"}}


def test_deliberate_profile_named_plugins_is_a_profile(aws_home: AwsHome) -> None:
    # aws writes `--profile plugins` settings into the [plugins] section, which is no profile at all.
    assert rc(aws_home, "configure", "set", "region", "eu-west-1", "--profile", "plugins")[0] == 0
    assert aws_home.config.read_text() == "[profile plugins]\nregion = eu-west-1\n"
    assert rc(aws_home, "configure", "get", "region", "--profile", "plugins") == (0, "eu-west-1\n", "")


def test_deliberate_get_matches_keys_case_insensitively(aws_home: AwsHome) -> None:
    aws_home.write_config("[default]\nRegion = us-east-1\n")
    assert rc(aws_home, "configure", "get", "REGION") == (0, "us-east-1\n", "")
    assert rc(aws_home, "configure", "get", "default.Region") == (0, "us-east-1\n", "")


def test_deliberate_deep_names_refused_not_truncated(aws_home: AwsHome) -> None:
    # aws silently writes `default.a.b.c x` as `a = x`.
    code, _, err = rc(aws_home, "configure", "set", "default.a.b.c", "x")
    assert code == 8 and "too deep" in err
    assert not aws_home.config.exists()


def test_deliberate_unparseable_file_not_edited(aws_home: AwsHome) -> None:
    # aws edits a file it cannot read back; rolecall refuses and says where the problem is.
    aws_home.write_config("[default]\nregion = a\n[default]\n")
    code, _, err = rc(aws_home, "configure", "set", "output", "json")
    assert code == 3 and "line 3" in err
    assert aws_home.config.read_text() == "[default]\nregion = a\n[default]\n"


def test_list_environment_credentials_unless_profile_flag(aws_home: AwsHome) -> None:
    aws_home.write_credentials("[default]\naws_access_key_id = AKIAFILEFILEFILE0001\n")
    env = {"AWS_ACCESS_KEY_ID": "AKIAENVENVENVENV0002", "AWS_SECRET_ACCESS_KEY": "envsecretenvsecret0003"}
    code, out, _ = rc(aws_home, "configure", "list", env=env)
    assert code == 0 and "****************0002" in out and "AWS_ACCESS_KEY_ID" in out and "0003" in out
    assert "envsecret" not in out
    code, out, _ = rc(aws_home, "configure", "list", "--profile", "default", env=env)
    assert "****************0001" in out and "0002" not in out


def test_a_lone_double_dash_is_a_value_like_any_other(aws_home: AwsHome) -> None:
    """argparse before 3.12 swallows a value that is exactly ``--`` after the separator; rolecall keeps it."""
    result = run_rolecall(["configure", "set", "--", "region", "--"], env=aws_home.env)
    assert result.returncode == 0, result.stderr
    assert aws_home.config.read_text() == "[default]\nregion = --\n"
    assert run_rolecall(["configure", "get", "region"], env=aws_home.env).stdout == "--\n"


def test_unknown_profile_with_no_profiles_hints_at_a_real_command(aws_home: AwsHome) -> None:
    result = run_rolecall(["configure", "list", "--profile", "dev"], env=aws_home.env)
    _one_line_error(result, 3)
    assert "rolecall configure set role_arn ARN --profile dev" in result.stderr


@pytest.mark.parametrize(
    "args",
    [["region", b"\xff\xfe"], [b"\xff\xfe", "x"], ["region", "x", "--profile", b"\xff\xfe"]],
)
def test_bytes_that_are_not_utf8_are_refused_and_nothing_is_written(aws_home: AwsHome, args: list[str | bytes]) -> None:
    aws_home.write_config("[default]\nregion = a\n")
    argv = [os.fsencode(sys.executable), b"-m", b"rolecall", b"configure", b"set",
            *(a if isinstance(a, bytes) else a.encode() for a in args)]
    result = subprocess.run(argv, env=aws_home.env, capture_output=True, text=True, timeout=60)
    _one_line_error(result, 8)
    assert "is not UTF-8 text" in result.stderr
    assert aws_home.config.read_text() == "[default]\nregion = a\n"
