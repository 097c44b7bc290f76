"""`rolecall doctor`: one corpus case per rule (tests/data/doctor/RCxxx-*/), each finding exactly its rule, and
botocore agreeing wherever it has a verdict of its own; the clean case; --output json; PROFILE; --online."""

from __future__ import annotations

import io
import json
import os
import shutil
from datetime import timedelta
from pathlib import Path

import botocore.exceptions
import botocore.session
import pytest

from conftest import AwsHome
from rolecall.cli import main as cli_main
from rolecall.cli.context import Context
from rolecall.sandbox import Sandbox
from rolecall.timefmt import utc_now
from sandbox_fixtures import seeded_env

CORPUS = Path(__file__).resolve().parents[1] / "data" / "doctor"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.name.startswith("RC"))


def _install(case: str, home: AwsHome) -> None:
    for name, target in (("config", home.config), ("credentials", home.credentials)):
        source = CORPUS / case / name
        if source.exists():
            shutil.copyfile(source, target)
            os.chmod(target, 0o644 if case.startswith("RC008") else 0o600)


def _doctor(args: list[str], env: dict[str, str], clock_shift: timedelta = timedelta()) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(io.StringIO(), out, err, dict(env), clock=lambda: utc_now() + clock_shift)
    code = cli_main.main(["doctor", *args], ctx)
    return code, out.getvalue(), err.getvalue()


def _findings(env: dict[str, str], *args: str) -> tuple[int, list[dict[str, object]]]:
    code, out, _ = _doctor(["--output", "json", *args], env)
    return code, json.loads(out)


def _botocore(home: AwsHome, profile: str) -> botocore.session.Session:
    session = botocore.session.Session(profile=profile)
    session.set_config_variable("config_file", str(home.config))
    session.set_config_variable("credentials_file", str(home.credentials))
    return session


@pytest.mark.parametrize("case", CASES)
def test_each_case_finds_exactly_its_rule(case: str, aws_home: AwsHome) -> None:
    _install(case, aws_home)
    code, findings = _findings(aws_home.env)
    assert {f["id"] for f in findings} == {case[:5]}
    severity = {f["severity"] for f in findings}
    assert code == (3 if "error" in severity else 0)
    for finding in findings:
        assert finding["fix"] and finding["message"]
        assert finding["file"] is not None


def test_clean_corpus(aws_home: AwsHome) -> None:
    _install("clean", aws_home)
    code, out, err = _doctor([], aws_home.env)
    assert (code, out) == (0, "")
    assert "no problems found" in err
    assert _doctor(["--strict"], aws_home.env)[0] == 0
    assert _findings(aws_home.env)[1] == []


def test_text_lines_and_strict(aws_home: AwsHome) -> None:
    _install("RC011-unknown-key", aws_home)
    code, out, err = _doctor([], aws_home.env)
    assert code == 0  # warnings only
    assert out.startswith('RC011 profile "a": unknown key \'mfa_seiral\'') and "— fix: did you mean 'mfa_serial'" in out
    assert "line 4" in out and "1 warning" in err
    assert _doctor(["--strict"], aws_home.env)[0] == 3


def test_json_has_the_documented_fields(aws_home: AwsHome) -> None:
    _install("RC003-mfa-serial", aws_home)
    code, findings = _findings(aws_home.env)
    assert code == 3
    (finding,) = findings
    assert set(finding) == {"id", "severity", "profile", "file", "line", "message", "fix"}
    assert (finding["profile"], finding["line"], finding["file"]) == ("a", 4, str(aws_home.config))


# --- botocore's own verdicts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["RC001-loop", "RC002-missing-source", "RC004-source-and-credential-source"])
def test_botocore_refuses_the_same_profiles(case: str, aws_home: AwsHome) -> None:
    _install(case, aws_home)
    with pytest.raises(botocore.exceptions.BotoCoreError):
        _botocore(aws_home, "a").get_credentials()


def test_botocore_refuses_the_invalid_region(aws_home: AwsHome) -> None:
    _install("RC006-region", aws_home)
    with pytest.raises(botocore.exceptions.InvalidRegionError):
        _botocore(aws_home, "a").create_client("sts")


def test_botocore_cannot_parse_the_unparsable_file(aws_home: AwsHome) -> None:
    _install("RC000-unparsable", aws_home)
    with pytest.raises(botocore.exceptions.ConfigParseError):
        _botocore(aws_home, "default").full_config  # noqa: B018


def test_botocore_keeps_only_the_later_duplicate(aws_home: AwsHome) -> None:
    _install("RC009-duplicate-sections", aws_home)
    seen = _botocore(aws_home, "a").full_config["profiles"]["a"]
    assert seen == {"region": "eu-west-2"}  # the first section's role_arn and source_profile are gone


def test_botocore_does_not_see_case_different_names(aws_home: AwsHome) -> None:
    _install("RC010-case", aws_home)
    session = _botocore(aws_home, "default")
    assert "addressing_style" not in session.full_config["profiles"]["default"]["s3"]
    assert "a" not in session.available_profiles
    # Plain keys are not case-sensitive (configparser lower-cases them): `Region` is not a finding.
    aws_home.write_config("[default]\nRegion = eu-west-1\n")
    assert _botocore(aws_home, "default").get_config_variable("region") == "eu-west-1"
    assert _findings(aws_home.env)[1] == []


def test_botocore_ignores_a_section_without_the_profile_prefix(aws_home: AwsHome) -> None:
    _install("RC014-not-a-profile", aws_home)
    assert "a" not in _botocore(aws_home, "default").available_profiles


# --- PROFILE --------------------------------------------------------------------------------------------------


def test_profile_limits_findings_to_its_chain(aws_home: AwsHome) -> None:
    aws_home.write_config(
        "[profile base]\nrole_arn = arn:aws:iam::111122223333:role/b\nsource_profile = default\nregion = eu west 1\n"
        "[profile top]\nrole_arn = arn:aws:iam::111122223333:role/t\nsource_profile = base\n"
        "[profile other]\nmfa_serial = alice\n"
    )
    aws_home.write_credentials("[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n")
    os.chmod(aws_home.credentials, 0o644)  # a file-level finding: reported whatever the profile
    everything = {(f["id"], f["profile"]) for f in _findings(aws_home.env)[1]}
    assert everything == {("RC006", "base"), ("RC003", "other"), ("RC008", None)}
    top = {(f["id"], f["profile"]) for f in _findings(aws_home.env, "top")[1]}
    assert top == {("RC006", "base"), ("RC008", None)}
    code, _, err = _doctor(["nope"], aws_home.env)
    assert code == 3 and "could not be found" in err


# --- --online -------------------------------------------------------------------------------------------------


def test_online_clock_skew_against_the_sandbox(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    code, out, _ = _doctor(["--online", "--output", "json"], env)
    assert [f["id"] for f in json.loads(out)] == [], out
    code, out, _ = _doctor(["--online", "--output", "json"], env, clock_shift=timedelta(minutes=20))
    (finding,) = json.loads(out)
    assert finding["id"] == "RC013" and "ahead of" in finding["message"] and code == 3
    code, out, _ = _doctor(["--online", "--skew-limit", "0"], env, clock_shift=timedelta(seconds=30))
    assert out.startswith("RC013")


# --- the chain as the resolver walks it (config.graph.ProfileGraph) ------------------------------------------

WEB_IDENTITY_LOOP = (
    "[profile a]\nrole_arn = arn:aws:iam::111122223333:role/a\nsource_profile = b\n"
    "[profile b]\nrole_arn = arn:aws:iam::111122223333:role/web\nweb_identity_token_file = {token}\n"
    "source_profile = a\n"
)


def test_a_web_identity_source_closes_no_loop(aws_home: AwsHome, tmp_path: Path) -> None:
    """``a -> b -> a`` where b has role_arn and web_identity_token_file: botocore resolves b by web identity and
    never looks at b's source_profile, so there is no loop (and no missing source) to report."""
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
    aws_home.write_config(WEB_IDENTITY_LOOP.format(token=token))
    assert _findings(aws_home.env)[1] == []
    assert _findings(aws_home.env, "a") == (0, [])
    # botocore agrees: its chain for a builds (role sessions are fetched lazily) without InfiniteLoopConfigError.
    assert _botocore(aws_home, "a").get_credentials() is not None
    # And b's source_profile may name a profile that does not exist: botocore ignores it.
    aws_home.write_config(WEB_IDENTITY_LOOP.format(token=token).replace("source_profile = a", "source_profile = gone"))
    assert _findings(aws_home.env)[1] == []


def test_profile_chain_stops_at_a_web_identity_source(aws_home: AwsHome, tmp_path: Path) -> None:
    """`doctor a` reports the profiles a's resolution uses: not the ones a web identity source names."""
    from rolecall.config.lint import SourceFile, profile_chain

    aws_home.write_config(
        "[profile a]\nrole_arn = arn:aws:iam::111122223333:role/a\nsource_profile = b\n"
        f"[profile b]\nrole_arn = arn:aws:iam::111122223333:role/web\nweb_identity_token_file = {tmp_path}/t\n"
        "source_profile = c\n"
        "[profile c]\nregion = eu west 1\n"
    )
    assert {(f["id"], f["profile"]) for f in _findings(aws_home.env)[1]} == {("RC006", "c")}
    assert _findings(aws_home.env, "a") == (0, [])
    config = SourceFile(str(aws_home.config), aws_home.config.read_text(), 0o600)
    assert profile_chain(config, SourceFile(str(aws_home.credentials), None, None), "a") == ["a", "b"]


def test_a_source_with_keys_of_its_own_ends_the_chain(aws_home: AwsHome) -> None:
    """a -> b where b has keys (and a role_arn naming a as its source): a uses b's keys, no loop; b itself, assumed
    at the top, loops b -> a -> b. botocore says the same of each."""
    aws_home.write_config(
        "[profile a]\nrole_arn = arn:aws:iam::111122223333:role/a\nsource_profile = b\nduration_seconds = 7200\n"
        "[profile b]\nrole_arn = arn:aws:iam::111122223333:role/b\nsource_profile = a\n"
    )
    aws_home.write_credentials("[b]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n")
    findings = {(f["id"], f["profile"]) for f in _findings(aws_home.env)[1]}
    # No RC005 either: b's keys are long-term, so a's 2 h session is no role chaining.
    assert findings == {("RC001", "b")}
    assert _botocore(aws_home, "a").get_credentials() is not None
    with pytest.raises(botocore.exceptions.InfiniteLoopConfigError):
        _botocore(aws_home, "b").get_credentials()
