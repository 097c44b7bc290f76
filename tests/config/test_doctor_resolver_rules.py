"""Every configuration the resolver refuses is a doctor finding with a rule id, by the resolver's own checks.

Three ways of holding the two together (rolecall.config.refusals is the one set of checks both use):

- the static census: in the resolver's modules, no error is raised with a message of its own except those
  listed in ``NOT_CONFIG`` with the reason they are no configuration doctor could see (the environment, the
  disk at run time, an argument); every other refusal goes through ``config.refusals``;
- the table ``CASES``: one bad configuration per refusal, run through the real resolver (``get_credentials``,
  no network: each is refused before any call) and through ``rolecall doctor``: the resolver's error names the
  rule (``ConfigRefusal.rule``) or has the message of the finding, and doctor reports that rule; where botocore
  (the AWS CLI's engine) has a verdict of its own, it refuses the same configuration;
- completeness: every rule id ``config.refusals`` can produce has a case, and a rule in ``findings.RULES``.

And the other way round: profile shapes from botocore's own credential tests (tests/functional/
test_credentials.py, tests/unit/cfg), written here with valid account ids, are not flagged by ``doctor --strict``
and are resolved by both rolecall and botocore.
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import botocore.exceptions
import botocore.session
import pytest

from conftest import AwsHome
from rolecall.cli import main as cli_main
from rolecall.cli.context import Context
from rolecall.config.findings import RULES
from rolecall.config.refusals import ConfigRefusal
from rolecall.errors import RolecallError
from rolecall.resolve import get_credentials

SRC = Path(__file__).resolve().parents[2] / "src" / "rolecall"
ROLE = "arn:aws:iam::111122223333:role/target"
KEYS = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMIEXAMPLEKEY\n"
SSO_SESSION = "[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-west-1\n"

#: The modules whose refusals make up the resolver (the chain, the typed profile, the sources, SSO settings,
#: configured commands).
RESOLVER_MODULES = (
    "providers/chain.py", "config/profiles.py", "config/graph.py", "providers/static.py",
    "providers/web_identity.py", "providers/process.py", "providers/sso.py", "providers/session_token.py",
    "sso/settings.py", "command.py",
)  # fmt: skip
#: (module, function) -> why the error it raises is no configuration doctor can see in the files.
NOT_CONFIG = {
    ("providers/chain.py", "_fallbacks"): "no credentials anywhere: depends on the environment (instance "
    "metadata disabled, no container endpoint), not on the files",
    ("config/profiles.py", "require_named_profile"): "a profile named on the command line or in AWS_PROFILE",
    ("providers/web_identity.py", "_token"): "the token file as it is when the call is made",
    ("providers/process.py", "retrieve"): "what the credential_process prints when it runs",
    ("providers/process.py", "_run"): "what the credential_process prints when it runs",
    ("processoutput.py", "credentials_from_output"): "what the credential_process prints when it runs",
    ("processoutput.py", "validate_output"): "what the credential_process prints when it runs",
    ("providers/sso.py", "_role_credentials"): "the IAM Identity Center portal's answer",
    ("providers/session_token.py", "_source_keys"): "the source's credentials as they turn out when fetched "
    "(doctor's RC026 catches every source it can know is temporary)",
    ("command.py", "run_configured"): "the program as it runs (a timeout, an OS error)",
}


def _raises_with_own_message(path: Path) -> list[tuple[str, int]]:
    """(function, line) of every ``raise SomethingError("literal or f-string", ...)`` in ``path``."""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Raise) and isinstance(child.exc, ast.Call) and child.exc.args:
                callee = child.exc.func
                called = callee.id if isinstance(callee, ast.Name) else getattr(callee, "attr", "")
                ours = called.endswith("Error") and not hasattr(builtins, called)  # a RolecallError, not Python's
                if ours and isinstance(child.exc.args[0], ast.Constant | ast.JoinedStr):
                    found.append((function, child.lineno))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_every_resolver_refusal_goes_through_config_refusals() -> None:
    unexplained = []
    for module in RESOLVER_MODULES:
        for function, line in _raises_with_own_message(SRC / module):
            if (module, function) not in NOT_CONFIG:
                unexplained.append(f"{module}:{line} ({function})")
    assert unexplained == [], (f"{unexplained}: refusals with their own message (route them through "
                               "rolecall.config.refusals, with a doctor rule, or say in NOT_CONFIG why doctor cannot "
                               "see them)")


# --- the table ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A configuration the resolver refuses, and how botocore judges it (None: it has no verdict of its own)."""

    rule: str
    config: str
    credentials: str = KEYS
    profile: str = "a"
    #: False where doctor words the finding its own way (RC001, RC002, RC006: with a did-you-mean or a fix command).
    same_text: bool = True
    #: "credentials": botocore's get_credentials raises; "client": creating an STS client raises; "fetch": the
    #: credentials' first refresh raises before any request is sent.
    botocore: str | None = None


def _chain(length: int) -> str:
    hops = "".join(f"[profile h{n}]\nrole_arn = {ROLE}\nsource_profile = h{n + 1}\n" for n in range(length))
    top = f"[profile a]\nrole_arn = {ROLE}\nsource_profile = h0\n"
    return top + hops + f"[profile h{length}]\nregion = eu-west-1\n"


CASES = {
    "loop": Case("RC001", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n"
                 f"[profile b]\nrole_arn = {ROLE}\nsource_profile = a\n", same_text=False, botocore="credentials"),
    "missing-source": Case("RC002", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = gone\n", same_text=False,
                           botocore="credentials"),
    "both-sources": Case("RC004", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = default\n"
                         "credential_source = Environment\n", botocore="credentials"),
    "bad-region": Case("RC006", "[profile a]\nregion = eu west 1\n", credentials=KEYS.replace("default", "a"),
                       same_text=False, botocore="client"),
    "bad-sso-region": Case("RC006", "[profile a]\nsso_session = corp\nsso_account_id = 111122223333\n"
                           "sso_role_name = Admin\n" + SSO_SESSION.replace("eu-west-1", "eu_west_1"),
                           same_text=False),
    "role-without-source": Case("RC016", f"[profile a]\nrole_arn = {ROLE}\n", botocore="credentials"),
    "credential-source-Ec2Metadata": Case("RC017", f"[profile a]\nrole_arn = {ROLE}\ncredential_source = Ec2Metadata\n",
                                          botocore="credentials"),
    "role-arn-ci": Case("RC018", "[profile a]\nrole_arn = ci\nsource_profile = default\n", botocore="fetch"),
    "sso-without-role-name": Case("RC019", "[profile a]\nsso_session = corp\nsso_account_id = 111122223333\n"
                                  + SSO_SESSION, botocore="credentials"),
    "legacy-sso-without-region": Case("RC019", "[profile a]\nsso_start_url = https://d-1.awsapps.com/start\n"
                                      "sso_account_id = 111122223333\nsso_role_name = Admin\n",
                                      botocore="credentials"),
    "sso-session-missing": Case("RC020", "[profile a]\nsso_session = nope\nsso_account_id = 111122223333\n"
                                "sso_role_name = Admin\n" + SSO_SESSION, botocore="credentials"),
    "sso-session-incomplete": Case("RC020", "[profile a]\nsso_session = corp\nsso_account_id = 111122223333\n"
                                   "sso_role_name = Admin\n[sso-session corp]\nsso_region = eu-west-1\n",
                                   botocore="credentials"),
    "sso-inconsistent": Case("RC021", "[profile a]\nsso_session = corp\nsso_account_id = 111122223333\n"
                             "sso_role_name = Admin\nsso_region = us-east-1\n" + SSO_SESSION,
                             botocore="credentials"),
    "process-missing-program": Case("RC022", "[profile a]\ncredential_process = /nonexistent/helper --json\n",
                                    credentials="", botocore="credentials"),
    "process-not-a-command-line": Case("RC022", "[profile a]\ncredential_process = helper 'unclosed\n",
                                       credentials="", botocore="credentials"),
    "mfa-process-missing-program": Case("RC022", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = default\n"
                                        "mfa_serial = arn:aws:iam::111122223333:mfa/alice\nmfa_strategy = direct\n"
                                        "mfa_process = no-such-otp-tool --totp\n"),
    "mfa-strategy-unknown": Case("RC023", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = default\n"
                                 "mfa_strategy = sometimes\n"),
    "duration-not-a-number": Case("RC023", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = default\n"
                                  "duration_seconds = 1h\n"),
    "session-name-with-space": Case("RC024", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = default\n"
                                    "role_session_name = my session\n"),
    "duration-too-long": Case("RC024", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = default\n"
                              "duration_seconds = 90000\nmfa_strategy = direct\n"),
    "source-without-credentials": Case("RC025", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n"
                                       "[profile b]\nregion = us-west-2\n", botocore="credentials"),
    "reuse-with-process-source": Case("RC026", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n"
                                      "mfa_serial = arn:aws:iam::111122223333:mfa/alice\nmfa_strategy = reuse\n"
                                      f"[profile b]\ncredential_process = {sys.executable} -c pass\n"),
    "partial-keys": Case("RC027", "[profile a]\nregion = eu-west-1\n",
                         credentials="[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", botocore="credentials"),
    "empty-access-key": Case("RC027", "[profile a]\nregion = eu-west-1\n",
                             credentials="[a]\naws_access_key_id =\naws_secret_access_key = x\n"),
    "web-identity-without-role": Case("RC028", "[profile a]\nweb_identity_token_file = /tmp/token\n"),
    "retry-mode-unknown": Case("RC029", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = default\n"
                               "retry_mode = fast\n", botocore="client"),
    "services-section-missing": Case("RC029", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = default\n"
                                     "services = nowhere\n"),
    "chain-too-long": Case("RC030", _chain(70), credentials=""),
}


def _doctor(env: dict[str, str], *args: str) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main.main(["doctor", "--output", "json", *args], Context(io.StringIO(), out, err, dict(env)))
    return code, json.loads(out.getvalue()), err.getvalue()


def _install(home: AwsHome, config: str, credentials: str) -> dict[str, str]:
    home.write_config(config)
    home.write_credentials(credentials)
    # A refusal must come before any request: one that slipped through hits a closed local port, not AWS.
    return {**home.env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_resolver_and_doctor_refuse_the_same_configuration(name: str, aws_home: AwsHome) -> None:
    case = CASES[name]
    env = _install(aws_home, case.config, case.credentials)
    with pytest.raises(RolecallError) as refused:
        get_credentials(case.profile, env=env, allow_prompt=False)
    error = refused.value
    assert "127.0.0.1:9" not in error.message, f"not refused before the request: {error.message}"
    if isinstance(error, ConfigRefusal):
        assert error.rule == case.rule
    code, findings, _ = _doctor(env)
    same_rule = [f for f in findings if f["id"] == case.rule]
    assert same_rule, f"doctor has no {case.rule} for: {error.message} (it found {findings})"
    if case.same_text:
        assert any(error.message in str(f["message"]) for f in same_rule), (error.message, same_rule)
    assert code == 3 and RULES[case.rule][0] == "error"


def _botocore(home: AwsHome, profile: str) -> botocore.session.Session:
    session = botocore.session.Session(profile=profile)
    session.set_config_variable("config_file", str(home.config))
    session.set_config_variable("credentials_file", str(home.credentials))
    return session


BOTOCORE_CHECKS: dict[str, Callable[[botocore.session.Session], object]] = {
    "credentials": lambda session: session.get_credentials(),
    "client": lambda session: session.create_client("sts", region_name=None),
    "fetch": lambda session: session.get_credentials().get_frozen_credentials(),
}


@pytest.mark.parametrize("name", sorted(name for name, case in CASES.items() if case.botocore))
def test_botocore_refuses_them_too(name: str, aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    env = _install(aws_home, case.config, case.credentials)
    for key in ("AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS"):
        monkeypatch.setenv(key, env[key])
    check = BOTOCORE_CHECKS[str(case.botocore)]
    with pytest.raises((botocore.exceptions.BotoCoreError, OSError, ValueError)) as refused:
        check(_botocore(aws_home, case.profile))
    assert not isinstance(refused.value, botocore.exceptions.EndpointConnectionError), "botocore sent a request"


def _rule_ids_refusals_produce() -> set[str]:
    tree = ast.parse((SRC / "config" / "refusals.py").read_text())
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Refusal"
            and node.args and isinstance(node.args[0], ast.Constant)}


def test_every_refusal_rule_has_a_case_and_a_doctor_rule() -> None:
    produced = _rule_ids_refusals_produce()
    assert len(produced) >= 15
    assert produced <= {case.rule for case in CASES.values()}, "a refusal without a case in CASES"
    assert produced <= set(RULES), "a refusal whose rule doctor does not have"


# --- valid configurations are not flagged ---------------------------------------------------------------------


def _valid_corpus(tmp: Path) -> tuple[str, str]:
    """Profile shapes of botocore's credential tests, with real-looking ids (12-digit accounts)."""
    token = tmp / "web-token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
    helper = tmp / "creds-helper.py"
    helper.write_text('import json\nprint(json.dumps({"Version": 1, "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", '
                      '"SecretAccessKey": "wJalrXUtnFEMIEXAMPLEKEY"}))\n')
    process = f"{sys.executable} {helper}"
    config = (
        "[default]\nregion = us-west-2\ns3 =\n    signature_version = s3v4\n    addressing_style = path\n"
        "cloudwatch =\n    signature_version = v4\n"
        f"[profile role-from-keys]\nrole_arn = {ROLE}\nsource_profile = default\n"
        f"[profile from-env]\nrole_arn = {ROLE}\ncredential_source = Environment\n"
        f"[profile from-imds]\nrole_arn = {ROLE}\ncredential_source = Ec2InstanceMetadata\n"
        f"[profile from-ecs]\nrole_arn = {ROLE}\ncredential_source = EcsContainer\n"
        f"[profile chain-top]\nrole_arn = {ROLE}\nsource_profile = chain-mid\n"
        f"[profile chain-mid]\nrole_arn = arn:aws:iam::444455556666:role/mid\nsource_profile = default\n"
        f"[profile self-keys]\nrole_arn = {ROLE}\nsource_profile = self-keys\n"
        f"[profile from-process]\nrole_arn = {ROLE}\nsource_profile = process\n"
        f"[profile process]\ncredential_process = {process}\n"
        f"[profile from-web]\nrole_arn = {ROLE}\nsource_profile = web\n"
        f"[profile web]\nrole_arn = arn:aws:iam::111122223333:role/web\nweb_identity_token_file = {token}\n"
        f"[profile from-legacy-sso]\nrole_arn = {ROLE}\nsource_profile = legacy-sso\n"
        "[profile legacy-sso]\nsso_region = us-east-1\nsso_start_url = https://d-1234567890.awsapps.com/start\n"
        "sso_role_name = SSORole\nsso_account_id = 111122223333\n"
        f"[profile from-sso]\nrole_arn = {ROLE}\nsource_profile = sso\n"
        "[profile sso]\nsso_session = corp\nsso_role_name = SSORole\nsso_account_id = 111122223333\n"
        "[profile sso-login-only]\nsso_session = corp\n"
        + SSO_SESSION +
        "[profile \"personal\"]\nregion = eu-central-1\n"
        "[profile endpoints]\nendpoint_url = https://localhost:1234/\nservices = my-services\nregion = local\n"
        "[services my-services]\ns3 =\n  endpoint_url = https://localhost:5678/\n"
        "dynamodb =\n  endpoint_url = https://localhost:8888/\n"
        f"[profile full]\nrole_arn = arn:aws-us-gov:iam::111122223333:role/path/to/admin\nsource_profile = default\n"
        "mfa_serial = arn:aws-us-gov:iam::111122223333:mfa/alice\nexternal_id = partner-42\n"
        "role_session_name = alice@example.com\nduration_seconds = 43200\nregion = us-gov-west-1\n"
        "mfa_strategy = direct\n"
        f"[profile reuse]\nrole_arn = {ROLE}\nsource_profile = default\n"
        "mfa_serial = arn:aws:iam::111122223333:mfa/alice\nmfa_strategy = reuse\nmfa_session_duration = 129600\n"
        f"mfa_process = {sys.executable} -c pass\n"
        "[profile new-region]\nregion = ap-southeast-9\n"
    )
    keys = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMIEXAMPLEKEY\n"
    credentials = KEYS + "".join(f"[{name}]\n{keys}" for name in ("self-keys", "endpoints", "new-region")) + (
        f"[personal]\n{keys}aws_security_token = FwoGZXIvYXdzEXAMPLE\n")
    return config, credentials


def test_valid_configurations_are_not_flagged(aws_home: AwsHome, tmp_path: Path) -> None:
    config, credentials = _valid_corpus(tmp_path)
    aws_home.write_config(config)
    aws_home.write_credentials(credentials)
    code, findings, err = _doctor(aws_home.env, "--strict")
    flagged = [f for f in findings if f["severity"] != "info"]
    assert (code, flagged) == (0, []), err
    # The one note: a region that looks like one opened after this botocore was released.
    assert [(f["id"], f["profile"]) for f in findings] == [("RC015", "new-region")]


def test_valid_configurations_resolve_in_rolecall_and_botocore(aws_home: AwsHome, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Building each chain (no call is made until credentials are asked for) raises nothing, in either."""
    from rolecall.config.parse import ConfigFiles
    from rolecall.providers.chain import build_chain
    from rolecall.resolve import make_runtime

    config, credentials = _valid_corpus(tmp_path)
    aws_home.write_config(config)
    aws_home.write_credentials(credentials)
    runtime = make_runtime(aws_home.env, allow_prompt=False)
    files = ConfigFiles.load(runtime.paths)
    for profile in files.profile_names():
        if profile == "sso-login-only":
            continue  # a login for `sso login --profile`, no credentials of its own (botocore agrees)
        build_chain(files, profile, runtime)
        if profile not in ("from-imds", "from-ecs", "from-env"):  # those need the machine's own sources
            assert _botocore(aws_home, profile).get_credentials() is not None, profile
