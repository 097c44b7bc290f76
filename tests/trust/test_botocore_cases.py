"""botocore's and the AWS CLI's own test cases, rewritten against rolecall (issue 15).

Each test below expresses, in our own words and with our own data, a behaviour that a test in botocore
(``tests/unit/test_credentials.py``, ``tests/functional/test_credentials.py``, ``tests/unit/test_configloader.py``,
``tests/unit/test_tokens.py``, ``tests/unit/test_utils.py``) or in the AWS CLI
(``tests/unit/customizations/configure/test_writer.py``, ``test_set.py``, ``test_get.py``, ``test_list.py``)
pins down. Where it can, the test runs botocore itself (installed in the venv) as the oracle on the very same
files and environment, and checks that rolecall agrees.

Three kinds of cases:

* agreement: rolecall does what botocore / the AWS CLI does;
* ``xfail(strict=True)``: an undocumented difference found by this review; the reason names it, and the test
  flips (fails as XPASS) the day someone fixes it, so that the marker is removed with the fix. None is left: the
  three this review found (a missing profile named by AWS_PROFILE while keys are in the environment, an empty
  ``aws_access_key_id``, credential_process output with a byte-order mark) were fixed;
* ``test_deliberate_*``: a difference kept on purpose (rolecall is stricter or clearer); the test asserts that
  botocore and rolecall really differ, so the documentation listing it (docs/profiles.md, "Differences from
  botocore"; docs/configure.md for the writer) stays true.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import botocore.exceptions
import botocore.session
import pytest
from botocore.credentials import JSONFileCache, SSOTokenProvider
from botocore.utils import SSOTokenLoader

from conftest import AwsHome, run_aws, run_rolecall
from rolecall.aws import sts
from rolecall.aws.settings import resolve_settings
from rolecall.config.edit import SectionRef, apply_changes
from rolecall.config.parse import ConfigFiles, load_config_file
from rolecall.config.paths import AwsPaths
from rolecall.credentials import Credentials
from rolecall.errors import ConfigError, ConfigParseError, InvalidInputError, RolecallError
from rolecall.resolve import get_credentials
from rolecall.sandbox import Sandbox
from rolecall.sso.settings import SsoLogin, login_for_profile
from rolecall.sso.tokens import REFRESH_WINDOW, SsoTokenCache, token_key
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

# What a resolution gives, compared across the two tools: (access key, secret key, session token, account id),
# or the word "error" (any exception: botocore's many types, rolecall's RolecallError).
Outcome = tuple[Any, Any, Any, Any] | str | None


def _botocore(profile: str | None = None) -> Outcome:
    """What botocore resolves with this process's environment (the autouse fixture's files)."""
    try:
        found = botocore.session.Session(profile=profile).get_credentials()
        if found is None:
            return None
        frozen = found.get_frozen_credentials()
        return (frozen.access_key, frozen.secret_key, frozen.token, found.account_id)
    except Exception:  # any botocore failure is "error" for the comparison
        return "error"


def _rolecall(profile: str | None = None) -> Outcome:
    """What rolecall resolves with the same environment."""
    try:
        found = get_credentials(profile, env=dict(os.environ))
    except RolecallError:
        return "error"
    return (found.access_key_id, found.secret_access_key, found.session_token, found.account_id)


def _program(tmp_path: Path, output: str, name: str = "proc.py") -> str:
    """A credential_process command line that prints ``output`` exactly."""
    script = tmp_path / name
    script.write_text(f"import sys\nsys.stdout.write({output!r})\n")
    return f"{sys.executable} {script}"


def _process_json(**fields: Any) -> str:
    document: dict[str, Any] = {"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "proc-secret"}
    document.update(fields)
    return json.dumps({k: v for k, v in document.items() if v is not ...})


# --- EnvProvider (test_credentials.py TestEnvVar) ------------------------------------------------------------------

ENV_CASES: list[tuple[str, dict[str, str]]] = [
    ("no token", {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"}),
    ("session token", {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"}),
    ("security token", {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SECURITY_TOKEN": "tok"}),
    # The legacy name is looked at first, as long as it is not empty.
    ("both tokens", {"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SECURITY_TOKEN": "old",
                     "AWS_SESSION_TOKEN": "new"}),
    ("empty legacy token", {"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SECURITY_TOKEN": "",
                            "AWS_SESSION_TOKEN": "new"}),
    ("account id", {"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ACCOUNT_ID": "111122223333"}),
    ("empty expiration is none", {"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
                                  "AWS_CREDENTIAL_EXPIRATION": ""}),
    ("expiration with an offset", {"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s",
                                   "AWS_CREDENTIAL_EXPIRATION": "2999-01-01T10:00:00.250+05:30"}),
    ("partial", {"AWS_ACCESS_KEY_ID": "A"}),
    ("partial, empty secret", {"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": ""}),
    ("all empty", {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SECURITY_TOKEN": ""}),
]


@pytest.mark.parametrize(("case", "variables"), ENV_CASES, ids=[c[0] for c in ENV_CASES])
def test_environment_keys_as_botocore_reads_them(
    aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, case: str, variables: dict[str, str]
) -> None:
    # A default profile with other keys: where the environment gives nothing, both fall through to it.
    aws_home.write_credentials("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert _rolecall() == _botocore()


def test_environment_expiration_is_the_instant_botocore_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    # Written as Python's isoformat() writes a local time (an offset, microseconds).
    moment = datetime.now(timezone(timedelta(hours=-7))) + timedelta(hours=3)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "A")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", moment.isoformat())
    theirs = botocore.session.Session().get_credentials()
    ours = get_credentials(None, env=dict(os.environ))
    assert ours.expiration == theirs._expiry_time  # botocore's parsed expiry


def test_named_profile_ignores_environment_keys_but_aws_profile_does_not(
    aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """create_credential_resolver: an explicit profile drops the EnvProvider; AWS_PROFILE leaves it in."""
    aws_home.write_credentials("[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    assert _rolecall("dev") == _botocore("dev")
    assert _rolecall("dev")[0] == "AKIDDEV"  # type: ignore[index]
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert _rolecall() == _botocore()
    assert _rolecall()[0] == "AKIDENV"  # type: ignore[index]


@pytest.mark.parametrize(
    ("variable", "name"), [("AWS_PROFILE", "ghost"), ("AWS_DEFAULT_PROFILE", "ghost"), ("AWS_PROFILE", "default")]
)
def test_aws_profile_that_does_not_exist_fails_even_with_environment_keys(
    aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, variable: str, name: str
) -> None:
    """botocore (and every `aws` command) raises ProfileNotFound before looking at the environment's keys."""
    aws_home.write_config("[profile real]\nregion = us-east-1\n")
    monkeypatch.setenv(variable, name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    assert _botocore() == "error"
    assert _rolecall() == "error"
    # A profile that exists: the environment's keys win, in both.
    monkeypatch.setenv(variable, "real")
    assert _rolecall() == _botocore() == ("AKIDENV", "env-secret", None, None)


def test_deliberate_expiration_without_a_zone_is_utc_where_botocore_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore compares the naive time with an aware one (TypeError); rolecall reads a naive time as UTC."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "A")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2999-01-01T00:00:00")
    assert _botocore() == "error"
    assert get_credentials(None, env=dict(os.environ)).expiration == datetime(2999, 1, 1, tzinfo=timezone.utc)


def test_deliberate_expiration_must_be_iso_8601(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore parses AWS_CREDENTIAL_EXPIRATION with dateutil (any English date); rolecall takes ISO 8601 only."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "A")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "Jan 1 2999 00:00 UTC")
    assert _botocore() != "error"
    assert _rolecall() == "error"


# --- SharedCredentialProvider, ConfigProvider, ProcessProvider and their order -------------------------------------

FILE_CASES: list[tuple[str, str, str]] = [
    # (case, credentials file, config file)
    ("credentials file", "[default]\naws_access_key_id = AKIDC\naws_secret_access_key = c\n", ""),
    ("session token", "[default]\naws_access_key_id = AKIDC\naws_secret_access_key = c\naws_session_token = t\n", ""),
    ("legacy token first", "[default]\naws_access_key_id = A\naws_secret_access_key = c\naws_security_token = old\n"
     "aws_session_token = new\n", ""),
    ("account id", "[default]\naws_access_key_id = A\naws_secret_access_key = c\naws_account_id = 111122223333\n", ""),
    ("several profiles", "[default]\naws_access_key_id = A\naws_secret_access_key = a\n[other]\n"
     "aws_access_key_id = B\naws_secret_access_key = b\n", ""),
    ("config file keys", "", "[default]\naws_access_key_id = AKIDCFG\naws_secret_access_key = g\n"
     "aws_session_token = t\nregion = us-west-2\noutput = json\n"),
    ("credentials file before config file", "[default]\naws_access_key_id = AKIDC\naws_secret_access_key = c\n",
     "[default]\naws_access_key_id = AKIDCFG\naws_secret_access_key = g\n"),
    ("no keys anywhere", "", "[default]\nregion = us-west-2\n"),
    ("partial in the credentials file", "[default]\naws_access_key_id = A\n", ""),
    ("partial in the config file", "", "[default]\naws_access_key_id = A\n"),
    ("secret without access key", "[default]\naws_secret_access_key = c\n", ""),
    ("[profile default] is the default", "",
     "[profile default]\naws_access_key_id = AKIDPD\naws_secret_access_key = p\n"),
    ("later [default] wins", "", "[profile default]\naws_access_key_id = AKID1\naws_secret_access_key = p\n"
     "[default]\naws_access_key_id = AKID2\naws_secret_access_key = q\n"),
    ("DEFAULT section inherited", "[DEFAULT]\naws_secret_access_key = shared\n[default]\naws_access_key_id = A\n", ""),
]


@pytest.mark.parametrize(("case", "credentials", "config"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_file_keys_as_botocore_reads_them(aws_home: AwsHome, case: str, credentials: str, config: str) -> None:
    aws_home.write_credentials(credentials)
    aws_home.write_config(config)
    ours, theirs = _rolecall(), _botocore()
    # A profile without any credentials: botocore returns None (then its callers fail), rolecall raises.
    assert ours == ("error" if theirs is None else theirs)


def test_explicit_profile_only_in_the_credentials_file(aws_home: AwsHome) -> None:
    aws_home.write_credentials("[ci]\naws_access_key_id = AKIDCI\naws_secret_access_key = c\n")
    assert _rolecall("ci") == _botocore("ci") != "error"


def test_profile_that_does_not_exist_is_an_error_for_both(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile dev]\nregion = us-east-1\n")
    assert _rolecall("deev") == _botocore("deev") == "error"


def test_empty_access_key_in_credentials_file_is_not_skipped(aws_home: AwsHome) -> None:
    """botocore returns the empty keys (SharedCredentialProvider tests only that the key is present); rolecall
    refuses them rather than resolve to the config file's keys, another identity."""
    aws_home.write_credentials("[default]\naws_access_key_id =\naws_secret_access_key = c\n")
    aws_home.write_config("[default]\naws_access_key_id = AKIDCFG\naws_secret_access_key = g\n")
    theirs = _botocore()
    assert isinstance(theirs, tuple) and theirs[0] == ""
    # Either botocore's answer or an error would do; using another identity would not.
    assert _rolecall() == "error"


def test_deliberate_empty_secret_key_is_partial_credentials(aws_home: AwsHome) -> None:
    """botocore hands on an empty secret key (requests then fail to sign); rolecall says the keys are partial."""
    aws_home.write_credentials("[default]\naws_access_key_id = AKIDC\naws_secret_access_key =\n")
    assert _botocore() == ("AKIDC", "", None, None)
    assert _rolecall() == "error"


def test_deliberate_empty_legacy_token_does_not_hide_the_session_token(aws_home: AwsHome) -> None:
    """In the files botocore takes ``aws_security_token`` whenever the key is present, even empty (and then signs
    without a token); rolecall, as botocore does for the environment, skips the empty one."""
    aws_home.write_credentials(
        "[default]\naws_access_key_id = A\naws_secret_access_key = c\naws_security_token =\naws_session_token = tok\n"
    )
    assert _botocore() == ("A", "c", "", None)
    assert _rolecall() == ("A", "c", "tok", None)


@pytest.mark.parametrize(
    ("case", "legacy_file", "variable"),
    [
        ("BOTO_CONFIG", "boto.cfg", "BOTO_CONFIG"),
        ("~/.boto", ".boto", None),
        ("AWS_CREDENTIAL_FILE", "legacy-credentials", "AWS_CREDENTIAL_FILE"),
    ],
)
def test_deliberate_legacy_boto2_files_are_not_read(
    aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, case: str, legacy_file: str, variable: str | None
) -> None:
    """botocore's chain ends with OriginalEC2Provider (AWS_CREDENTIAL_FILE) and BotoProvider (BOTO_CONFIG, ~/.boto,
    /etc/boto.cfg), before container and instance metadata: boto 2's files. rolecall does not read them."""
    path = aws_home.root / legacy_file
    if variable == "AWS_CREDENTIAL_FILE":
        path.write_text("AWSAccessKeyId=AKIDLEGACY\nAWSSecretKey=legacy\n")
    else:
        path.write_text("[Credentials]\naws_access_key_id = AKIDLEGACY\naws_secret_access_key = legacy\n")
    if variable:
        monkeypatch.setenv(variable, str(path))
    assert _botocore() == ("AKIDLEGACY", "legacy", None, None)
    assert _rolecall() == "error"


# --- credential_process (TestProcessProvider, functional TestProcessProvider) -------------------------------------

PROCESS_CASES: list[tuple[str, str]] = [
    ("full", _process_json(SessionToken="tok", Expiration="2999-01-01T00:00:00Z")),
    ("no session token", _process_json(Expiration="2999-01-01T00:00:00Z")),
    ("no expiration", _process_json(SessionToken="tok")),
    ("neither", _process_json()),
    ("null token", _process_json(SessionToken=None)),
    ("version 1.0", _process_json(Version=1.0)),
    ("account id in the output", _process_json(AccountId="111122223333")),
    ("unsupported version", _process_json(Version=2)),
    ("version as a string", _process_json(Version="1")),
    ("no version", _process_json(Version=...)),
    ("no access key", _process_json(AccessKeyId=...)),
    ("no secret key", _process_json(SecretAccessKey=...)),
    ("not json", "this is not json"),
    ("json then junk", _process_json() + "\ntrailing words"),
    ("expiration not a time", _process_json(Expiration="tomorrow-ish")),
]


@pytest.mark.parametrize(("case", "output"), PROCESS_CASES, ids=[c[0] for c in PROCESS_CASES])
def test_credential_process_output_as_botocore_reads_it(
    aws_home: AwsHome, tmp_path: Path, case: str, output: str
) -> None:
    # aws_account_id in the profile is the fallback for an output without AccountId (botocore's _get_account_id).
    aws_home.write_config(
        f"[default]\ncredential_process = {_program(tmp_path, output)}\naws_account_id = 999988887777\n"
    )
    assert _rolecall() == _botocore()


def test_credential_process_failure_is_an_error_for_both(aws_home: AwsHome, tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text("import sys\nsys.stderr.write('no session, log in first\\n')\nsys.exit(1)\n")
    aws_home.write_config(f"[default]\ncredential_process = {sys.executable} {script}\n")
    assert _rolecall() == _botocore() == "error"


def test_credential_process_arguments_are_split_like_botocore(aws_home: AwsHome, tmp_path: Path) -> None:
    script = tmp_path / "argv.py"
    script.write_text(
        "import json, sys\nprint(json.dumps({'Version': 1, 'AccessKeyId': '|'.join(sys.argv[1:]), "
        "'SecretAccessKey': 's'}))\n"
    )
    aws_home.write_config(
        f"[default]\ncredential_process = {sys.executable} {script} --foo \"one two\" 'three four' five\\ six\n"
    )
    assert _rolecall() == _botocore() == ("--foo|one two|three four|five six", "s", None, None)


@pytest.mark.parametrize(
    ("case", "credentials", "config_extra"),
    [
        # full_config merges the credentials file over the config file: a credential_process there counts.
        ("process in the credentials file", "[default]\ncredential_process = {cmd}\n", ""),
        # The credentials file's keys come before the process (SharedCredentialProvider precedes ProcessProvider)...
        ("credentials file keys win", "[default]\naws_access_key_id = AKIDC\naws_secret_access_key = c\n",
         "credential_process = {cmd}\n"),
        # ...and the process before the config file's keys.
        ("process beats config keys", "", "credential_process = {cmd}\naws_access_key_id = AKIDCFG\n"
         "aws_secret_access_key = g\n"),
    ],
)
def test_credential_process_place_in_the_chain(
    aws_home: AwsHome, tmp_path: Path, case: str, credentials: str, config_extra: str
) -> None:
    command = _program(tmp_path, _process_json())
    aws_home.write_credentials(credentials.format(cmd=command))
    aws_home.write_config("[default]\n" + config_extra.format(cmd=command))
    assert _rolecall() == _botocore() != "error"


def test_deliberate_process_version_must_be_a_number_not_true(aws_home: AwsHome, tmp_path: Path) -> None:
    """botocore checks ``Version != 1``, so JSON ``true`` passes (True == 1 in Python); rolecall wants the number."""
    aws_home.write_config(f"[default]\ncredential_process = {_program(tmp_path, _process_json(Version=True))}\n")
    assert _botocore() != "error"
    assert _rolecall() == "error"


def test_deliberate_process_output_must_have_non_empty_string_keys(aws_home: AwsHome, tmp_path: Path) -> None:
    """botocore passes on an empty or non-string AccessKeyId; rolecall refuses the output."""
    aws_home.write_config(f"[default]\ncredential_process = {_program(tmp_path, _process_json(AccessKeyId=''))}\n")
    assert _botocore() == ("", "proc-secret", None, None)
    assert _rolecall() == "error"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_process_output_with_a_byte_order_mark_is_refused_like_botocore(
    aws_home: AwsHome, tmp_path: Path, encoding: str
) -> None:
    """botocore decodes the output as UTF-8 and refuses a byte-order mark (JSONDecodeError), or UTF-16."""
    script = tmp_path / "bom.py"
    script.write_text(f"import sys\nsys.stdout.buffer.write({_process_json().encode(encoding)!r})\n")
    aws_home.write_config(f"[default]\ncredential_process = {sys.executable} {script}\n")
    assert _botocore() == "error"
    assert _rolecall() == "error"


# --- AssumeRoleProvider and AssumeRoleWithWebIdentityProvider against the sandbox STS ----------------------------


def _sandbox_env(sb: Sandbox, home: AwsHome, monkeypatch: pytest.MonkeyPatch, config: str) -> None:
    """The seeded AWS files plus ``config``, everything pointed at the sandbox; set in os.environ for botocore."""
    for name, value in seeded_env(sb, home, base={}, config=config).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sb.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def _arn(sb: Sandbox, credentials: Credentials) -> str:
    """Who these credentials are: the assumed-role ARN for AssumeRole sessions (through the sandbox), and
    ``assumed-role/ROLE/SESSION`` read from moto's records for web identity sessions (which the sandbox's
    strictness layer does not issue, so GetCallerIdentity does not know them)."""
    from moto.sts.models import sts_backends

    for account in list(sts_backends.keys()):
        for backend in sts_backends[account].values():
            for role in backend.assumed_roles:
                if role.access_key_id == credentials.access_key_id and role.role_arn.split("/")[-1].startswith("web"):
                    return f"arn:aws:sts::{account}:assumed-role/{role.role_arn.split('/')[-1]}/{role.session_name}"
    settings = resolve_settings(dict(os.environ), None, None, endpoint_url=sb.endpoint_url, region="us-east-1")
    return str(sts.get_caller_identity(settings, credentials)["Arn"])


def _botocore_arn(sb: Sandbox, profile: str | None) -> str:
    found = botocore.session.Session(profile=profile).get_credentials()
    assert found is not None
    frozen = found.get_frozen_credentials()
    return _arn(sb, Credentials(frozen.access_key, frozen.secret_key, frozen.token))


def _rolecall_arn(sb: Sandbox, profile: str | None) -> str:
    return _arn(sb, get_credentials(profile, env=dict(os.environ)))


@pytest.fixture
def web_roles(sandbox: Sandbox, tmp_path: Path) -> Iterator[dict[str, str]]:  # noqa: F811
    """Two roles that trust a web identity provider, and two token files."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": "accounts.example.com"},
             "Action": "sts:AssumeRoleWithWebIdentity"}
        ],
    }
    for name in ("web-a", "web-b"):
        sandbox.create_role(name, policy)
    tokens = {}
    for name in ("a", "b"):
        token = tmp_path / f"token-{name}"
        token.write_text(f"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ{name}In0.c2ln\n")
        tokens[name] = str(token)
    yield {"role_a": sandbox.role_arn("web-a"), "role_b": sandbox.role_arn("web-b"),
           "token_a": tokens["a"], "token_b": tokens["b"]}


def _web_profile_and_env(sb: Sandbox, home: AwsHome, monkeypatch: pytest.MonkeyPatch, roles: dict[str, str]) -> None:
    _sandbox_env(
        sb, home, monkeypatch,
        f"[profile web]\nrole_arn = {roles['role_a']}\nweb_identity_token_file = {roles['token_a']}\n"
        "role_session_name = from-profile\n",
    )
    monkeypatch.setenv("AWS_ROLE_ARN", roles["role_b"])
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", roles["token_b"])
    monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "from-env")


def test_web_identity_named_profile_ignores_the_environment(
    sandbox: Sandbox, aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, web_roles: dict[str, str]  # noqa: F811
) -> None:
    """functional test_assume_role_env_vars_do_not_take_precedence: with the profile named, the profile's settings."""
    _web_profile_and_env(sandbox, aws_home, monkeypatch, web_roles)
    theirs = _botocore_arn(sandbox, "web")
    assert theirs.endswith(":assumed-role/web-a/from-profile")
    assert _rolecall_arn(sandbox, "web") == theirs


def test_web_identity_environment_wins_when_the_profile_is_not_named(
    sandbox: Sandbox, aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, web_roles: dict[str, str]  # noqa: F811
) -> None:
    """AssumeRoleWithWebIdentityProvider._get_config: with the profile not named (AWS_PROFILE), each of the token
    file, role ARN and session name comes from its environment variable first, then from the profile."""
    _web_profile_and_env(sandbox, aws_home, monkeypatch, web_roles)
    monkeypatch.setenv("AWS_PROFILE", "web")
    theirs = _botocore_arn(sandbox, None)
    assert theirs.endswith(":assumed-role/web-b/from-env")
    assert _rolecall_arn(sandbox, None) == theirs


def test_empty_web_identity_token_variable_switches_web_identity_off(
    aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """botocore looks at ``AWS_WEB_IDENTITY_TOKEN_FILE in os.environ``: set but empty, it hides the profile's token
    file, and the profile (role_arn with a token file is no AssumeRole hop) has no credentials left."""
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n")
    aws_home.write_config(
        f"[profile web]\nrole_arn = arn:aws:iam::123456789012:role/web\nweb_identity_token_file = {token}\n"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_PROFILE", "web")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
    assert _botocore() is None
    assert _rolecall() == "error"


def test_web_identity_role_arn_from_the_environment_for_a_profile_token_file(
    sandbox: Sandbox, aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, web_roles: dict[str, str]  # noqa: F811
) -> None:
    """A top-level profile with only web_identity_token_file takes the role from AWS_ROLE_ARN (not named)."""
    _sandbox_env(sandbox, aws_home, monkeypatch, f"[profile half]\nweb_identity_token_file = {web_roles['token_a']}\n")
    monkeypatch.setenv("AWS_ROLE_ARN", web_roles["role_b"])
    monkeypatch.setenv("AWS_PROFILE", "half")
    theirs = _botocore_arn(sandbox, None)
    assert ":assumed-role/web-b/" in theirs
    assert ":assumed-role/web-b/" in _rolecall_arn(sandbox, None)


def test_web_identity_source_profile_ignores_environment_role(
    sandbox: Sandbox, aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, web_roles: dict[str, str]  # noqa: F811
) -> None:
    """functional test_web_identity_source_profile_ignores_env_vars: a source profile's web identity is the
    profile's alone; without its own role_arn it is a configuration error, AWS_ROLE_ARN notwithstanding."""
    _sandbox_env(
        sandbox, aws_home, monkeypatch,
        f"[profile top]\nrole_arn = {sandbox.role_arn('readonly')}\nsource_profile = half\n"
        f"[profile half]\nweb_identity_token_file = {web_roles['token_a']}\n",
    )
    monkeypatch.setenv("AWS_ROLE_ARN", web_roles["role_b"])
    with pytest.raises(botocore.exceptions.InvalidConfigError):
        botocore.session.Session(profile="top").get_credentials()
    with pytest.raises(ConfigError):
        get_credentials("top", env=dict(os.environ))


def test_credential_source_environment_ignores_web_identity_variables(
    sandbox: Sandbox, aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, web_roles: dict[str, str]  # noqa: F811
) -> None:
    """functional test_web_identity_credential_source_ignores_env_vars: Environment means keys, nothing else."""
    _sandbox_env(
        sandbox, aws_home, monkeypatch,
        f"[profile env-role]\nrole_arn = {sandbox.role_arn('readonly')}\ncredential_source = Environment\n",
    )
    monkeypatch.setenv("AWS_ROLE_ARN", web_roles["role_b"])
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", web_roles["token_b"])
    with pytest.raises(botocore.exceptions.CredentialRetrievalError):
        botocore.session.Session(profile="env-role").get_credentials()
    with pytest.raises(ConfigError):
        get_credentials("env-role", env=dict(os.environ))


def test_assumed_role_credentials_carry_the_account_of_the_role(
    sandbox: Sandbox, aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """functional test_assume_role_resolves_account_id: the account comes from the AssumedRoleUser ARN."""
    _sandbox_env(sandbox, aws_home, monkeypatch, "")
    theirs = botocore.session.Session(profile="readonly").get_credentials()
    assert theirs is not None
    theirs.get_frozen_credentials()
    ours = get_credentials("readonly", env=dict(os.environ))
    assert ours.account_id == theirs.account_id == sandbox.account_id


def test_self_referencing_source_with_keys_deeper_in_a_chain(
    sandbox: Sandbox, aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """test_source_profile_can_reference_self, one hop down: the middle profile's keys are used and its own role
    is never assumed (static keys in a source profile win)."""
    _sandbox_env(
        sandbox, aws_home, monkeypatch,
        f"[profile mid]\nrole_arn = {sandbox.role_arn('deploy')}\nsource_profile = mid\n"
        f"aws_access_key_id = {sandbox.access_key_id}\naws_secret_access_key = {sandbox.secret_access_key}\n"
        f"[profile top]\nrole_arn = {sandbox.role_arn('readonly')}\nsource_profile = mid\n",
    )
    theirs = _botocore_arn(sandbox, "top")
    before = sandbox.calls("AssumeRole")
    ours = _rolecall_arn(sandbox, "top")
    assert ":assumed-role/readonly/" in theirs and ":assumed-role/readonly/" in ours
    assert sandbox.calls("AssumeRole") - before == 1


@pytest.mark.parametrize(
    ("case", "config"),
    [
        # test_source_profile_does_not_exist / test_misconfigured_source_profile
        ("role without any source", "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\n"),
        ("credential_source not a provider", "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
         "credential_source = SharedConfig\n"),
        ("credential_source case", "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
         "credential_source = ecscontainer\n"),
        # A source profile that names credential_source but has no role: it has no credentials of its own.
        ("source with credential_source only", "[profile s]\ncredential_source = Environment\n"
         "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = s\n"),
        # test_incomplete_source_credentials_raises_error: only the secret is there.
        ("source with a secret only", "[profile s]\naws_secret_access_key = c\n"
         "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = s\n"),
        # test_infinite_looping_profiles_raises_error, through a profile that has keys AND a loop back.
        ("loop of two", "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = b\n"
         "[profile b]\nrole_arn = arn:aws:iam::123456789012:role/y\nsource_profile = a\n"),
        ("self reference with a role but no keys", "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
         "source_profile = r\n"),
        # An sso-session that is not there, and one without its region (test_tokens / SSOProvider).
        ("missing sso-session", "[profile r]\nsso_session = nowhere\nsso_account_id = 123456789012\n"
         "sso_role_name = Admin\n"),
        ("sso-session without region", "[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\n"
         "[profile r]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\n"),
        ("sso value differs from the session", "[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\n"
         "sso_region = us-east-1\n[profile r]\nsso_session = corp\nsso_region = eu-west-1\n"
         "sso_account_id = 123456789012\nsso_role_name = Admin\n"),
        ("legacy sso without start url", "[profile r]\nsso_region = us-east-1\nsso_account_id = 123456789012\n"
         "sso_role_name = Admin\n"),
        ("sso account without role name", "[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\n"
         "sso_region = us-east-1\n[profile r]\nsso_session = corp\nsso_account_id = 123456789012\n"),
    ],
)
def test_misconfigurations_both_refuse(
    aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, case: str, config: str
) -> None:
    aws_home.write_config(config)
    # Nothing here may reach a network: should anything try, it meets a closed local port.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    name = "a" if case == "loop of two" else "r"
    assert _botocore(name) == "error"
    result = run_rolecall(["env", name], {**aws_home.env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr


# --- config loading (test_configloader.py and its cfg fixtures, in our own words) ---------------------------------

CONFIG_TEXTS: list[tuple[str, str]] = [
    ("profiles and default", "[default]\nregion = us-east-1\n[profile \"quoted\"]\nregion = eu-west-1\n"
     "[profile plain]\noutput = json\n"),
    # Headers that are not two words are dropped, whatever their section says.
    ("bad profile headers ignored", "[profile \"a\" \"b\"]\nregion = x\n[profile \"no end quote]\nregion = y\n"
     "[profile \"with space\"]\nregion = z\n[profile]\nregion = w\n"),
    ("nested blocks", "[default]\ns3 =\n    signature_version = s3v4\n    addressing_style = path\n"
     "cloudwatch =\n    signature_version = v4\nregion=us-west-2\n"),
    ("nested block then nothing", "[default]\ns3 =\nregion = us-east-1\n"),
    ("sso-session", "[default]\nsso_session = corp\n\n[sso-session corp]\nsso_start_url = https://example.com\n"
     "sso_region = us-east-1\n"),
    ("services", "[default]\nendpoint_url = https://localhost:1234/\nservices = local\n\n[services local]\n"
     "s3 =\n  endpoint_url = https://localhost:5678/\ndynamodb =\n  endpoint_url = https://localhost:8888/\n"),
    ("other sections kept at the top", "[plugins]\ncli_legacy_plugin_path = /x\n[preview]\ncloudfront = true\n"),
    ("unicode values and names", "[profile café]\nregion = us-east-1\nnote = naïve ✓\n"),
    ("colon delimiter and case", "[default]\nRegion: us-east-1\nOUTPUT = json\n"),
]


@pytest.mark.parametrize(("case", "text"), CONFIG_TEXTS, ids=[c[0] for c in CONFIG_TEXTS])
def test_config_file_loads_as_botocore_loads_it(tmp_path: Path, case: str, text: str) -> None:
    path = tmp_path / "config"
    path.write_text(text, encoding="utf-8")
    assert load_config_file(str(path)) == botocore.configloader.load_config(str(path))


@pytest.mark.parametrize(
    ("case", "data"),
    [
        ("text before the first header", b"aws_access_key_id = foo\n[default]\nregion = x\n"),
        ("nested line without '='", b"[default]\ns3 =\n    bad_syntax @ s3v4\nregion = x\n"),
        ("bytes that are not text", bytes(range(128, 256)) * 4),
    ],
)
def test_config_file_botocore_cannot_parse_is_refused(tmp_path: Path, case: str, data: bytes) -> None:
    path = tmp_path / "config"
    path.write_bytes(data)
    with pytest.raises((botocore.exceptions.ConfigParseError, UnicodeDecodeError)):
        botocore.configloader.load_config(str(path))
    with pytest.raises(ConfigParseError):
        load_config_file(str(path))


def test_missing_config_file_is_empty_for_both(tmp_path: Path) -> None:
    """test_config_not_found: botocore raises ConfigNotFound, which its session turns into an empty config."""
    with pytest.raises(botocore.exceptions.ConfigNotFound):
        botocore.configloader.load_config(str(tmp_path / "nope"))
    assert load_config_file(str(tmp_path / "nope")) == {"profiles": {}, "sso_sessions": {}, "services": {}}


def test_merged_view_is_botocores_full_config(aws_home: AwsHome) -> None:
    """session.full_config: credentials-file sections merged over the config file's profiles, key by key."""
    aws_home.write_config("[default]\nregion = us-east-1\naws_access_key_id = CFG\n[profile only-config]\nx = 1\n")
    aws_home.write_credentials("[default]\naws_access_key_id = CRED\n[only-credentials]\ny = 2\n")
    files = ConfigFiles.load(AwsPaths.from_env(dict(os.environ)), use_cache=False)
    assert files.full_config == botocore.session.Session().full_config
    assert files.profile_names() == botocore.session.Session().available_profiles


# --- SSO token cache (test_utils.py TestSSOTokenLoader, test_tokens.py) ----------------------------------------

START_URL = "https://d-abc123.awsapps.com/start"


@pytest.mark.parametrize(("session_name"), [None, "admin", "my team"])
def test_sso_token_cache_key_is_botocores(tmp_path: Path, session_name: str | None) -> None:
    document = {"accessToken": "a.token", "expiresAt": "2999-10-18T03:52:38UTC"}
    cache = JSONFileCache(str(tmp_path))
    SSOTokenLoader(cache=cache).save_token(START_URL, document, session_name=session_name)
    login = SsoLogin(session_name, START_URL, "us-east-1")
    assert (tmp_path / f"{token_key(login)}.json").is_file()
    token = SsoTokenCache(str(tmp_path)).token(login)
    assert token is not None
    # botocore writes what it was given; the UTC-suffixed form parses to the same instant.
    assert token.expires_at == datetime(2999, 10, 18, 3, 52, 38, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("case", "document"),
    [
        ("empty object", {}),
        ("no expiresAt", {"accessToken": "a.token"}),
        ("no accessToken", {"expiresAt": "2999-01-01T00:00:00Z"}),
    ],
)
def test_sso_token_that_botocore_cannot_load_is_none(tmp_path: Path, case: str, document: dict[str, str]) -> None:
    cache = JSONFileCache(str(tmp_path))
    login = SsoLogin("admin", START_URL, "us-east-1")
    cache[token_key(login)] = document
    with pytest.raises(botocore.exceptions.SSOTokenLoadError):
        SSOTokenLoader(cache=cache)(START_URL, session_name="admin")
    assert SsoTokenCache(str(tmp_path)).token(login) is None


def test_sso_refresh_window_is_botocores() -> None:
    assert timedelta(seconds=SSOTokenProvider._REFRESH_WINDOW) == REFRESH_WINDOW


@pytest.mark.parametrize(
    ("case", "config", "ok"),
    [
        ("full", "[profile test]\nsso_session = admin\n[sso-session admin]\nsso_region = us-east-1\n"
         f"sso_start_url = {START_URL}\n", True),
        ("start URL only", f"[profile test]\nsso_session = admin\n[sso-session admin]\nsso_start_url = {START_URL}\n",
         False),
        ("region only", "[profile test]\nsso_session = admin\n[sso-session admin]\nsso_region = us-east-1\n", False),
        ("session must exist", "[profile test]\nsso_session = dev\n[sso-session admin]\nsso_region = us-east-1\n",
         False),
        ("same value repeated is fine", "[profile test]\nsso_session = admin\nsso_region = us-east-1\n"
         f"[sso-session admin]\nsso_region = us-east-1\nsso_start_url = {START_URL}\n", True),
    ],
)
def test_sso_session_resolution_as_botocores_token_provider(
    aws_home: AwsHome, case: str, config: str, ok: bool
) -> None:
    aws_home.write_config(config)
    session = botocore.session.Session(profile="test")
    files = ConfigFiles.from_texts(config, None)
    if ok:
        # botocore finds a login to load a token for (it then fails only for want of a cached token).
        with pytest.raises(botocore.exceptions.SSOTokenLoadError):
            SSOTokenProvider(session, profile_name="test").load_token().get_frozen_token()
        assert login_for_profile(files, "test").start_url == START_URL
    else:
        with pytest.raises(botocore.exceptions.InvalidConfigError):
            SSOTokenProvider(session, profile_name="test").load_token()
        with pytest.raises(ConfigError):
            login_for_profile(files, "test")


# --- the AWS CLI's configure writer (test_writer.py), set, get and list ------------------------------------------

WRITER_CASES: list[tuple[str, str, str, dict[str, Any], str]] = [
    # (case, original, section (P:NAME for a profile), changes, expected as the AWS CLI writes it)
    ("update a value", "[default]\nfoo = 1\nbar = 1", "default", {"foo": "newvalue"},
     "[default]\nfoo = newvalue\nbar = 1"),
    ("brackets in a value", "[default]\nfoo = old[value]\nbar = 1", "default", {"foo": "new[value]"},
     "[default]\nfoo = new[value]\nbar = 1"),
    ("new key, no final newline", "[default]\nfoo = 1\nbar = 2", "default", {"baz": "newvalue"},
     "[default]\nfoo = 1\nbar = 2\nbaz = newvalue\n"),
    ("new key after tight keys", "[default]\nfoo=1\nbar=2", "default", {"baz": "newvalue"},
     "[default]\nfoo=1\nbar=2\nbaz = newvalue\n"),
    ("update in a middle section", "[a]\nfoo = bar\nbaz = bar\n\n[b]\n\nfoo = bar\n[c]\nfoo = bar\nbaz = bar\n", "b",
     {"foo": "newvalue"}, "[a]\nfoo = bar\nbaz = bar\n\n[b]\n\nfoo = newvalue\n[c]\nfoo = bar\nbaz = bar\n"),
    ("insert in a middle section", "[a]\nfoo = bar\n\n[b]\n\nfoo = bar\n\n[c]\nfoo = bar\n", "b",
     {"newvalue": "newvalue"}, "[a]\nfoo = bar\n\n[b]\n\nfoo = bar\nnewvalue = newvalue\n\n[c]\nfoo = bar\n"),
    ("file of one blank line", "\n", "default", {"foo": "value"}, "\n[default]\nfoo = value\n"),
    ("empty file", "", "default", {"foo": "value"}, "[default]\nfoo = value\n"),
    ("section appended", "[notdefault]\nfoo = bar\nbaz = bar\n\n\n\n[other \"section\"]\n\nfoo = bar\n", "default",
     {"foo": "value"}, "[notdefault]\nfoo = bar\nbaz = bar\n\n\n\n[other \"section\"]\n\nfoo = bar\n"
     "[default]\nfoo = value\n"),
    ("commented key is not the key", "[default]\n#foo = 1\nbar = 1\n", "default", {"foo": "newvalue"},
     "[default]\n#foo = 1\nbar = 1\nfoo = newvalue\n"),
    ("commented header is not the header", "#[default]\n[default]\n#foo = 1\nbar = 1\n", "default",
     {"foo": "newvalue"}, "#[default]\n[default]\n#foo = 1\nbar = 1\nfoo = newvalue\n"),
    ("unquoted profile", "[profile foobar]\nfoo = 1\nbar = 1\n", "P:foobar", {"foo": "newvalue"},
     "[profile foobar]\nfoo = newvalue\nbar = 1\n"),
    ("double-quoted profile", "[profile \"foobar\"]\nfoo = 1\nbar = 1\n", "P:foobar", {"foo": "newvalue"},
     "[profile \"foobar\"]\nfoo = newvalue\nbar = 1\n"),
    ("two spaces in a name", "[profile \"two  spaces\"]\nfoo = 1\nbar = 1\n", "P:two  spaces", {"foo": "newvalue"},
     "[profile \"two  spaces\"]\nfoo = newvalue\nbar = 1\n"),
    ("nested in a new file", "", "default", {"s3": {"signature_version": "s3v4"}},
     "[default]\ns3 =\n    signature_version = s3v4\n"),
    ("nested block in the middle", "[default]\ns3 =\n    other = foo\nec2 = bar\n", "default",
     {"s3": {"signature_version": "newval"}},
     "[default]\ns3 =\n    other = foo\n    signature_version = newval\nec2 = bar\n"),
    ("nested block at the end", "[default]\ns3 =\n    other = foo\n", "default",
     {"s3": {"signature_version": "newval"}}, "[default]\ns3 =\n    other = foo\n    signature_version = newval\n"),
    ("nested value updated", "[default]\ns3 =\n    signature_version = originalval\n", "default",
     {"s3": {"signature_version": "newval"}}, "[default]\ns3 =\n    signature_version = newval\n"),
    ("nested before the next section", "[default]\ns3 =\n    other = foo\n[profile foo]\nfoo = bar\n", "default",
     {"s3": {"signature_version": "newval"}},
     "[default]\ns3 =\n    other = foo\n    signature_version = newval\n[profile foo]\nfoo = bar\n"),
    ("new nested block", "[default]\nfoo = bar\n[profile foo]\nfoo = bar\n", "default",
     {"s3": {"signature_version": "newval"}},
     "[default]\nfoo = bar\ns3 =\n    signature_version = newval\n[profile foo]\nfoo = bar\n"),
    ("empty section", "[default]\n[preview]\ncloudfront = true\n", "default", {"region": "us-west-2"},
     "[default]\nregion = us-west-2\n[preview]\ncloudfront = true\n"),
    ("newline before a new section", "[preview]\ncloudfront = true", "new-section", {"region": "us-west-2"},
     "[preview]\ncloudfront = true\n[new-section]\nregion = us-west-2\n"),
]


@pytest.mark.parametrize(
    ("case", "original", "section", "changes", "expected"), WRITER_CASES, ids=[c[0] for c in WRITER_CASES]
)
def test_writer_edits_byte_for_byte_as_the_aws_cli(
    case: str, original: str, section: str, changes: dict[str, Any], expected: str
) -> None:
    ref = SectionRef.profile(section[2:]) if section.startswith("P:") else SectionRef.raw(section)
    assert apply_changes(original, ref, changes) == expected


def test_deliberate_writer_keeps_a_tight_line_tight() -> None:
    """test_update_single_existing_value_no_spaces: the AWS CLI rewrites ``foo=1`` as ``foo = newvalue``; rolecall
    keeps the line's own layout (docs/configure.md, "How files are written")."""
    assert apply_changes("[default]\nfoo=1\nbar=1", SectionRef.raw("default"), {"foo": "newvalue"}) == (
        "[default]\nfoo=newvalue\nbar=1"
    )


@pytest.mark.parametrize(
    "changes",
    [{"foo": "bad\nvalue"}, {"foo": "bad\rvalue"}, {"bad\nkey": "value"}, {"s3": {"key": "bad\nvalue"}}],
)
def test_writer_refuses_line_breaks(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        apply_changes("[default]\nfoo = bar\n", SectionRef.raw("default"), changes)
    with pytest.raises(InvalidInputError):
        apply_changes("[default]\nfoo = bar\n", SectionRef.profile("bad\nsection"), {"foo": "value"})


def test_writer_new_file_is_0600(aws_home: AwsHome) -> None:
    result = run_rolecall(["configure", "set", "foo", "value"], aws_home.env)
    assert result.returncode == 0, result.stderr
    assert aws_home.config.read_text() == "[default]\nfoo = value\n"
    assert aws_home.config.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("argv", "file", "text"),
    [
        (["set", "aws_session_token", "foo", "--profile", "some profile"], "credentials",
         "[some profile]\naws_session_token = foo\n"),
        (["set", "profile.some profile.aws_session_token", "foo"], "credentials",
         "[some profile]\naws_session_token = foo\n"),
        (["set", "region", "us-west-2", "--profile", "some profile"], "config",
         "[profile 'some profile']\nregion = us-west-2\n"),
        (["set", "profile.some profile.region", "us-west-2"], "config",
         "[profile 'some profile']\nregion = us-west-2\n"),
        (["set", "aws_session_token", "foo", "--profile", "some\tprofile"], "credentials",
         "[some\tprofile]\naws_session_token = foo\n"),
        (["set", "profile.some\tprofile.region", "us-west-2"], "config",
         "[profile 'some\tprofile']\nregion = us-west-2\n"),
        (["set", "profile.foo.aws_access_key_id", "bar"], "credentials", "[foo]\naws_access_key_id = bar\n"),
        (["set", "default.region", "us-west-2"], "config", "[default]\nregion = us-west-2\n"),
        (["set", "preview.cloudsearch", "true"], "config", "[preview]\ncloudsearch = true\n"),
        (["set", "default.s3.signature_version", "s3v4"], "config", "[default]\ns3 =\n    signature_version = s3v4\n"),
        (["set", "aws_security_token", "foo"], "credentials", "[default]\naws_security_token = foo\n"),
    ],
)
def test_configure_set_routes_like_the_aws_cli(aws_home: AwsHome, argv: list[str], file: str, text: str) -> None:
    result = run_rolecall(["configure", *argv], aws_home.env)
    assert result.returncode == 0, result.stderr
    written = aws_home.config if file == "config" else aws_home.credentials
    assert written.read_text() == text
    # And the AWS CLI writes the same bytes.
    written.unlink()
    aws = run_aws(["configure", *argv], aws_home.env)
    assert aws.returncode == 0, aws.stderr
    assert written.read_text() == text


@pytest.mark.parametrize(
    ("argv", "stdout", "code"),
    [
        (["get", "region"], "us-west-2\n", 0),
        (["get", "nothere"], "", 1),
        (["get", "default.region"], "us-west-2\n", 0),
        (["get", "region", "--profile", "dev"], "eu-west-1\n", 0),
        (["get", "dev.region"], "eu-west-1\n", 0),
        (["get", "profile.dev.region"], "eu-west-1\n", 0),
        (["get", "s3.signature_version"], "s3v4\n", 0),
        (["get", "default.s3.signature_version"], "s3v4\n", 0),
        (["get", "default.s3.nothere"], "", 1),
        (["get", "profile.dev.s3.signature_version"], "", 1),
        (["get", "s3"], "", 1),
        (["get", "aws_access_key_id"], "AKIDFILE\n", 0),
    ],
)
def test_configure_get_like_the_aws_cli(aws_home: AwsHome, argv: list[str], stdout: str, code: int) -> None:
    aws_home.write_config(
        "[default]\nregion = us-west-2\ns3 =\n    signature_version = s3v4\n[profile dev]\nregion = eu-west-1\n"
    )
    aws_home.write_credentials("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n")
    ours = run_rolecall(["configure", *argv], aws_home.env)
    theirs = run_aws(["configure", *argv], aws_home.env)
    assert (ours.stdout, ours.returncode) == (theirs.stdout, theirs.returncode) == (stdout, code)


def test_configure_list_rows_as_the_aws_cli_v2_prints_them(aws_home: AwsHome) -> None:
    """test_list.py: ``NAME : VALUE : TYPE : LOCATION`` rows (the CLI v2 layout), for each kind of source."""
    aws_home.write_config("[default]\nregion = us-west-2\n[profile foo]\nregion = eu-west-1\n")
    aws_home.write_credentials("[default]\naws_access_key_id = AKIDFILEKEY1\naws_secret_access_key = file_secret_key\n")
    import re

    nothing = run_rolecall(["configure", "list", "--profile", "foo"], aws_home.env).stdout
    assert re.search(r"profile\s+: foo\s+: manual\s+: --profile", nothing)
    assert re.search(r"access_key\s+: <not set>", nothing)
    listed = run_rolecall(["configure", "list"], {**aws_home.env, "AWS_PROFILE": "default"}).stdout
    assert re.search(r"profile\s+: default\s+: env\s+: AWS_PROFILE", listed)
    assert re.search(r"region\s+: us-west-2\s+: config-file\s+: " + re.escape(str(aws_home.config)), listed)
    assert re.search(r"secret_key\s+: \*+_key\s+: shared-credentials-file", listed)
    from_env = run_rolecall(
        ["configure", "list"], {**aws_home.env, "AWS_ACCESS_KEY_ID": "AKIDENVKEY12", "AWS_SECRET_ACCESS_KEY": "e" * 20}
    ).stdout
    assert re.search(r"access_key\s+: \*+EY12\s+: env", from_env)
