"""rolecall.config.settings_view and .subsections called directly: ``configure list``'s rows, ``get``'s lookups.

The command renders these rows (test_configure.py checks the printed table against the AWS CLI's); here the
precedence itself is checked, with the IMDS region source passed in instead of a metadata service.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from conftest import AwsHome
from rolecall.config.parse import ConfigFiles
from rolecall.config.paths import AwsPaths
from rolecall.config.settings_view import SettingRow, list_rows, lookup, mask, profile_and_source
from rolecall.config.subsections import (
    Subsection,
    lookup_subsection,
    set_in_subsection,
    subsection_from_options,
    subsection_key,
)
from rolecall.errors import ConfigError, InvalidInputError, ProfileNotFoundError

KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def rows(home: AwsHome, env: Mapping[str, str], flag: str | None = None, imds: str | None = None) -> list[SettingRow]:
    asked: list[str | None] = []

    def imds_region(_env: Mapping[str, str], profile: str | None) -> str | None:
        asked.append(profile)
        return imds

    paths = AwsPaths.from_env(home.env)
    profile, source = profile_and_source(flag, env)
    found = list_rows(ConfigFiles.load(paths), paths, env, profile, source, imds_region=imds_region)
    region = next(r for r in found if r.name == "region")
    assert bool(asked) == (region.kind in ("imds", "None"))  # IMDS is asked only when nothing else sets a region
    return found


def test_profile_selection_and_its_source() -> None:
    assert profile_and_source("dev", {"AWS_PROFILE": "prod"}) == ("dev", "--profile")
    assert profile_and_source(None, {"AWS_PROFILE": "prod", "AWS_DEFAULT_PROFILE": "x"}) == ("prod", "AWS_PROFILE")
    assert profile_and_source(None, {"AWS_DEFAULT_PROFILE": "x"}) == ("x", "AWS_DEFAULT_PROFILE")
    assert profile_and_source(None, {"AWS_PROFILE": ""}) == (None, None)


def test_file_values_say_which_file_and_secrets_are_masked(aws_home: AwsHome) -> None:
    aws_home.write_credentials(f"[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
    aws_home.write_config("[default]\nregion = eu-west-1\nrole_arn = arn:aws:iam::1:role/r\ncredential_process = x\n")
    creds, config = str(aws_home.credentials), str(aws_home.config)
    assert rows(aws_home, {}) == [
        SettingRow("profile", "<not set>", "None", "None"),
        SettingRow("access_key", "****************MPLE", "shared-credentials-file", creds),
        SettingRow("secret_key", "****************EKEY", "shared-credentials-file", creds),
        SettingRow("role_arn", "arn:aws:iam::1:role/r", "config-file", config),
        SettingRow("credential_process", "(a command)", "config-file", config),
        SettingRow("region", "eu-west-1", "config-file", config),
    ]


def test_environment_wins_unless_the_profile_was_named_on_the_command_line(aws_home: AwsHome) -> None:
    aws_home.write_credentials(f"[dev]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
    env = {
        "AWS_ACCESS_KEY_ID": "ASIAENVIRONMENTKEY01",
        "AWS_SECRET_ACCESS_KEY": "s" * 40,
        "AWS_SESSION_TOKEN": "t" * 20,
    }
    env_rows = rows(aws_home, {**env, "AWS_PROFILE": "dev", "AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "x"})
    assert env_rows[0] == SettingRow("profile", "dev", "env", "AWS_PROFILE")
    assert [(r.name, r.kind, r.location) for r in env_rows[1:]] == [
        ("access_key", "env", "AWS_ACCESS_KEY_ID"),
        ("secret_key", "env", "AWS_SECRET_ACCESS_KEY"),
        ("token", "env", "AWS_SESSION_TOKEN"),
        ("region", "env", "AWS_REGION"),
    ]
    flag_rows = rows(aws_home, env, flag="dev")
    assert flag_rows[0] == SettingRow("profile", "dev", "manual", "--profile")
    assert {r.kind for r in flag_rows[1:3]} == {"shared-credentials-file"}


def test_region_from_imds_last_and_a_named_profile_must_exist(aws_home: AwsHome) -> None:
    assert rows(aws_home, {}, imds="ap-south-1")[-1] == SettingRow("region", "ap-south-1", "imds", "")
    assert rows(aws_home, {})[-1] == SettingRow("region", "<not set>", "None", "None")
    with pytest.raises(ProfileNotFoundError):
        rows(aws_home, {}, flag="nope")


def test_mask_hides_short_secrets_completely() -> None:
    assert mask("short") == "*" * 16
    assert mask(SECRET) == "*" * 16 + "EKEY"


def test_lookups_of_dotted_names_and_subsections(aws_home: AwsHome) -> None:
    aws_home.write_config(
        "[default]\nregion = eu-west-1\ns3 =\n  max_concurrency = 5\n[profile dev]\nregion = us-east-2\n"
        "[plugins]\ncli_legacy_plugin_path = /p\n[sso-session corp]\nsso_region = eu-central-1\n"
    )
    files = ConfigFiles.load(AwsPaths.from_env(aws_home.env))
    assert lookup(files, "region", None) == "eu-west-1"
    assert lookup(files, "region", "dev") == "us-east-2"
    assert lookup(files, "profile.dev.region", None) == "us-east-2"
    assert lookup(files, "dev.region", None) == "us-east-2"
    assert lookup(files, "s3.max_concurrency", None) == "5"
    assert lookup(files, "plugins.cli_legacy_plugin_path", None) == "/p"
    assert lookup(files, "output", None) is None
    with pytest.raises(InvalidInputError, match="names no key"):
        lookup(files, "profile.dev", None)
    assert lookup_subsection(files, "sso_sessions", "corp", "sso_region") == "eu-central-1"
    with pytest.raises(ConfigError, match=r"\[sso-session other\] could not be found"):
        lookup_subsection(files, "sso_sessions", "other", "sso_region")


def test_subsection_options_and_keys() -> None:
    assert subsection_from_options({"sso_session": None, "services": None}) is None
    assert subsection_from_options({"sso_session": "corp"}) == Subsection("sso-session", "sso_sessions", "corp")
    assert subsection_from_options({"services": "local"}) == Subsection("services", "services", "local")
    with pytest.raises(InvalidInputError, match="invalid value for --sso-session"):
        subsection_from_options({"sso_session": " corp"})
    assert subsection_key("s3.endpoint_url") == ("s3", "endpoint_url")
    assert subsection_key("sso_region") == ("sso_region", None)
    with pytest.raises(InvalidInputError, match="nests too deep"):
        subsection_key("a.b.c")


def test_set_in_a_subsection_writes_the_config_file_and_refuses_keys(aws_home: AwsHome) -> None:
    said: list[str] = []
    target = Subsection("sso-session", "sso_sessions", "corp")
    set_in_subsection(str(aws_home.config), target, "sso_region", "eu-central-1", reporter=said.append)
    set_in_subsection(
        str(aws_home.config), Subsection("services", "services", "local"), "s3.x", "1", reporter=said.append
    )
    files = ConfigFiles.load(AwsPaths.from_env(aws_home.env))
    assert lookup_subsection(files, "sso_sessions", "corp", "sso_region") == "eu-central-1"
    assert lookup_subsection(files, "services", "local", "s3.x") == "1"
    before = aws_home.config.read_bytes()
    with pytest.raises(InvalidInputError, match="does not belong in"):
        set_in_subsection(str(aws_home.config), target, "aws_secret_access_key", SECRET, reporter=said.append)
    assert aws_home.config.read_bytes() == before
    assert SECRET not in before.decode()
