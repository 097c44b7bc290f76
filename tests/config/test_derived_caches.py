"""The caches of results derived from the AWS files (issue 20): ``list``'s rows (``rolecall.rowcache``) and
``doctor``'s findings (``rolecall.config.doctorcache``).

Real files in a temporary home, the real library; the racy window is set to nothing (``CacheSettings``) so that
files written a moment ago may be cached, and the clock is the Session's and the Context's own. What is checked:
with the cache equals without it on varied configs (the repository's parse and doctor corpora, and a config of
every kind of profile), and every change that matters is seen: a profile added, a setting changed, the credentials
file changed, the environment changed, a cache entry appearing or expiring, time passing.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import AwsHome
from rolecall.config.derivedcache import DerivedCache
from rolecall.config.doctorcache import lint_paths
from rolecall.config.lint import lint, read_source
from rolecall.config.parsecache import CacheSettings
from rolecall.config.paths import AwsPaths
from rolecall.errors import ConfigError
from rolecall.overview import profile_row, profile_row_and_probe
from rolecall.reporting import ignore
from rolecall.rowcache import load_rows
from rolecall.session import Session
from rolecall.timefmt import format_iso_z, utc_now

DATA = Path(__file__).resolve().parents[1] / "data"
PARSE_CORPUS = sorted(p.name for p in (DATA / "parse_corpus").iterdir() if p.name.startswith("ok-"))
DOCTOR_CORPUS = sorted(p.name for p in (DATA / "doctor").iterdir() if p.name.startswith("RC"))
#: No racy window: a file written a moment ago may be cached (the tests replace files, so each change is seen).
NOW = CacheSettings(racy_ns=-1)

#: Every kind of profile list shows, and the refusals it shows as errors.
VARIED_CONFIG = """\
[default]
region = eu-west-1
[profile readonly]
role_arn = arn:aws:iam::123456789012:role/readonly
source_profile = default
[profile admin]
role_arn = arn:aws:iam::123456789012:role/admin
source_profile = default
mfa_serial = arn:aws:iam::123456789012:mfa/alice
duration_seconds = 7200
[profile chained]
role_arn = arn:aws:iam::210987654321:role/chained
source_profile = readonly
external_id = abc
role_session_name = me
[profile env-role]
role_arn = arn:aws:iam::123456789012:role/env
credential_source = Environment
[profile sso-a]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = ReadOnly
region = us-east-1
[profile sso-legacy]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = Admin
[profile sso-incomplete]
sso_session = corp
[profile proc]
credential_process = /bin/echo hello
[profile keyed]
credential_process = rolecall credential-process --keys keyed
[profile web]
role_arn = arn:aws:iam::123456789012:role/web
web_identity_token_file = /nonexistent/token
[profile loop-a]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = loop-b
[profile loop-b]
role_arn = arn:aws:iam::123456789012:role/b
source_profile = loop-a
[profile missing]
role_arn = arn:aws:iam::123456789012:role/m
source_profile = nobody
[profile bad-region]
region = not a region
aws_access_key_id = AKIAEXAMPLE
aws_secret_access_key = secret
[profile nested]
s3 =
    max_concurrent_requests = 20
region = eu-central-1
[profile login]
login_session = arn:aws:iam::123456789012:user/alice
[profile saml]
saml_url = https://idp.example.com/saml
role_arn = arn:aws:iam::123456789012:role/saml
principal_arn = arn:aws:iam::123456789012:saml-provider/idp
[profile ünïcode]
role_arn = arn:aws:iam::123456789012:role/u
source_profile = default
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
"""
VARIED_CREDENTIALS = """\
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = secret
[creds-only]
aws_access_key_id = AKIACREDS
aws_secret_access_key = secret
aws_session_token = token
"""


def _replace(path: Path, text: str) -> None:
    """Write ``path`` as editors and rolecall do (a new file renamed over it): a new inode, so a new signature."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    temporary.write_text(text, encoding="utf-8")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _session(env: dict[str, str], shift: timedelta = timedelta()) -> Session:
    return Session(env, clock=lambda: utc_now() + shift)


def _uncached(env: dict[str, str], shift: timedelta = timedelta()) -> list[dict[str, object]]:
    session = _session(env, shift)
    runtime = session.runtime(allow_prompt=False, reporter=ignore)
    return [profile_row(session.files, name, runtime, session.graph) for name in session.files.profile_names()]


def _cached(env: dict[str, str], shift: timedelta = timedelta()) -> list[dict[str, object]]:
    session = _session(env, shift)
    return load_rows(session, session.runtime(allow_prompt=False, reporter=ignore), NOW).rows()


def _rows_entry(env: dict[str, str]) -> Path:
    return Path(AwsPaths.from_env(env).rolecall_dir) / "derived-list-rows"


def _cache_entry(env: dict[str, str], profile: str, minutes: float) -> Path:
    """An AWS CLI cache entry for ``profile``'s role session, ``minutes`` from expiring."""
    session = _session(env)
    runtime = session.runtime(allow_prompt=False, reporter=ignore)
    probe = profile_row_and_probe(session.files, profile, runtime, session.graph)[1]
    assert probe is not None and probe.startswith("cli:"), probe
    folder = Path(AwsPaths.from_env(env).cli_cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    expiration = format_iso_z(utc_now() + timedelta(minutes=minutes))
    document = {"Credentials": {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s", "SessionToken": "t",
                                "Expiration": expiration},
                "AssumedRoleUser": {"Arn": f"arn:aws:sts::123456789012:assumed-role/{profile}/x"}}  # fmt: skip
    path = folder / f"{probe[4:]}.json"
    path.write_text(json.dumps(document))
    os.chmod(path, 0o600)
    return path


def _minutes(rows: list[dict[str, object]], profile: str) -> object:
    return next(row["minutes_left"] for row in rows if row["profile"] == profile)


# --- list's rows --------------------------------------------------------------------------------------------


def test_rows_with_the_cache_equal_rows_without_it_on_every_kind_of_profile(aws_home: AwsHome) -> None:
    env = dict(aws_home.env, AWS_ACCESS_KEY_ID="AKIAENV", AWS_SECRET_ACCESS_KEY="secret")
    _replace(aws_home.config, VARIED_CONFIG)
    _replace(aws_home.credentials, VARIED_CREDENTIALS)
    _cache_entry(env, "readonly", 40)
    _cache_entry(env, "chained", 5)  # inside botocore's 15-minute window: not cached any more
    _cache_entry(env, "sso-a", 30)
    expected = _uncached(env)
    assert {row["kind"] for row in expected} >= {"role", "sso", "process", "keys", "login", "saml", "web-identity"}
    assert any(str(row["cached"]).startswith("error: ") for row in expected)
    assert _cached(env) == expected  # a miss: worked out and stored
    assert _rows_entry(env).exists()
    assert _cached(env) == expected  # a hit
    assert _minutes(expected, "readonly") in (39, 40) and _minutes(expected, "sso-a") in (29, 30)


@pytest.mark.parametrize("name", PARSE_CORPUS)
def test_rows_with_the_cache_equal_rows_without_it_on_the_parse_corpus(name: str, aws_home: AwsHome) -> None:
    _replace(aws_home.config, (DATA / "parse_corpus" / name).read_text(encoding="utf-8", errors="surrogateescape"))
    _replace(aws_home.credentials, VARIED_CREDENTIALS)
    try:
        expected = _uncached(aws_home.env)
    except ConfigError:
        pytest.skip("a file botocore reads but rolecall's list refuses the same way with or without the cache")
    assert _cached(aws_home.env) == expected
    assert _cached(aws_home.env) == expected


def test_rows_see_every_change_that_matters(aws_home: AwsHome) -> None:
    env = aws_home.env
    _replace(aws_home.config, VARIED_CONFIG)
    _replace(aws_home.credentials, VARIED_CREDENTIALS)
    assert _cached(env) == _uncached(env)
    # A profile added.
    _replace(aws_home.config, VARIED_CONFIG + "[profile added]\nregion = ap-south-1\n")
    rows = _cached(env)
    assert rows == _uncached(env) and rows[-2]["profile"] == "added"  # credentials-only profiles come last
    # A setting changed (same size: only the signature tells).
    _replace(aws_home.config, VARIED_CONFIG.replace("role/readonly", "role/readonlz"))
    assert _cached(env) == _uncached(env)
    assert next(r for r in _cached(env) if r["profile"] == "readonly")["chain"] == "readonly -> default"
    # The credentials file changed: a profile appears, another one's keys go.
    _replace(aws_home.credentials, VARIED_CREDENTIALS.replace("[creds-only]", "[renamed]"))
    rows = _cached(env)
    assert rows == _uncached(env) and rows[-1]["profile"] == "renamed"
    # The environment changed (what credential_source = Environment sees).
    changed = dict(env, AWS_SESSION_TOKEN="token", AWS_ACCESS_KEY_ID="AKIA", AWS_SECRET_ACCESS_KEY="s")
    assert _cached(changed) == _uncached(changed)


def test_cached_credentials_appearing_expiring_and_time_passing(aws_home: AwsHome) -> None:
    env = aws_home.env
    _replace(aws_home.config, VARIED_CONFIG)
    _replace(aws_home.credentials, VARIED_CREDENTIALS)
    assert _minutes(_cached(env), "admin") is None
    entry = _cache_entry(env, "admin", 50)  # appears: one listing of the cache folder sees it
    rows = _cached(env)
    assert rows == _uncached(env) and _minutes(rows, "admin") in (49, 50)
    later = timedelta(minutes=20)  # time passes: the minutes left go down with the clock
    assert _cached(env, later) == _uncached(env, later) and _minutes(_cached(env, later), "admin") in (29, 30)
    expired = timedelta(minutes=40)  # within 15 minutes of its end: no longer served, so not shown
    assert _cached(env, expired) == _uncached(env, expired) and _minutes(_cached(env, expired), "admin") is None
    entry.unlink()  # gone
    assert _minutes(_cached(env), "admin") is None


def test_a_damaged_or_foreign_rows_cache_is_a_miss(aws_home: AwsHome) -> None:
    env = aws_home.env
    _replace(aws_home.config, VARIED_CONFIG)
    expected = _uncached(env)
    assert _cached(env) == expected
    entry = _rows_entry(env)
    assert entry.stat().st_mode & 0o777 == 0o600 and entry.parent.stat().st_mode & 0o777 == 0o700
    data = entry.read_bytes()
    for damaged in (data[: len(data) // 2], b"RCDC" + b"\xff" * 40, b"", data[:4] + b"\x00" + data[5:]):
        entry.write_bytes(damaged)
        assert _cached(env) == expected
    os.chmod(entry, 0o666)  # others may write to it: not trusted, and replaced
    assert _cached(env) == expected
    assert entry.stat().st_mode & 0o777 == 0o600


# --- doctor's findings --------------------------------------------------------------------------------------


def _lint_uncached(paths: AwsPaths, env: dict[str, str], shift: timedelta = timedelta()) -> list[dict[str, object]]:
    config, credentials = read_source(paths.config_file), read_source(paths.credentials_file)
    return [f.as_dict() for f in lint(config, credentials, utc_now() + shift, env)]


def _lint_cached(paths: AwsPaths, env: dict[str, str], shift: timedelta = timedelta()) -> list[dict[str, object]]:
    return [f.as_dict() for f in lint_paths(paths, utc_now() + shift, env, NOW)[0]]


def _doctor_entry(paths: AwsPaths) -> Path:
    return Path(paths.rolecall_dir) / "derived-doctor"


@pytest.mark.parametrize("case", DOCTOR_CORPUS + [f"parse:{name}" for name in PARSE_CORPUS])
def test_findings_with_the_cache_equal_findings_without_it(case: str, aws_home: AwsHome) -> None:
    if case.startswith("parse:"):
        _replace(aws_home.config, (DATA / "parse_corpus" / case[6:]).read_text(errors="surrogateescape"))
    else:
        for name, target in (("config", aws_home.config), ("credentials", aws_home.credentials)):
            if (DATA / "doctor" / case / name).exists():
                shutil.copyfile(DATA / "doctor" / case / name, target)
                os.chmod(target, 0o644 if case.startswith("RC008") else 0o600)
    paths = AwsPaths.from_env(aws_home.env)
    expected = _lint_uncached(paths, aws_home.env)
    assert _lint_cached(paths, aws_home.env) == expected
    assert _doctor_entry(paths).exists()
    assert _lint_cached(paths, aws_home.env) == expected


def test_findings_see_the_clock_the_path_and_the_files(aws_home: AwsHome, tmp_path: Path) -> None:
    env = dict(aws_home.env, PATH=str(tmp_path / "bin"))
    soon = format_iso_z(utc_now() + timedelta(minutes=30))
    _replace(aws_home.config, "[profile tool]\ncredential_process = mytool --json\n[profile x]\nregion = eu-west-9\n")
    _replace(aws_home.credentials, f"[saved]\naws_access_key_id = A\naws_secret_access_key = s\n"
                                   f"aws_session_token = t\naws_expiration = {soon}\n")  # fmt: skip
    paths = AwsPaths.from_env(env)
    ids = [f["id"] for f in _lint_cached(paths, env)]
    assert "RC022" in ids and "RC012" not in ids and _lint_cached(paths, env) == _lint_uncached(paths, env)
    # The clock moves past the saved session's expiry: RC012 appears, from the cached files.
    later = timedelta(hours=1)
    assert "RC012" in [f["id"] for f in _lint_cached(paths, env, later)]
    assert _lint_cached(paths, env, later) == _lint_uncached(paths, env, later)
    # The program appears on the PATH: RC022 goes.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "mytool").write_text("#!/bin/sh\n")
    os.chmod(tmp_path / "bin" / "mytool", 0o755)
    assert "RC022" not in [f["id"] for f in _lint_cached(paths, env)]
    assert _lint_cached(paths, env) == _lint_uncached(paths, env)
    # The files change: a new finding, and a mode that exposes the keys.
    _replace(aws_home.config, "[profile tool]\ncredential_process = mytool --json\nsource_profile = nowhere\n"
                              "role_arn = arn:aws:iam::123456789012:role/r\n")  # fmt: skip
    assert "RC002" in [f["id"] for f in _lint_cached(paths, env)]
    os.chmod(aws_home.credentials, 0o644)
    assert "RC008" in [f["id"] for f in _lint_cached(paths, env)]
    assert _lint_cached(paths, env) == _lint_uncached(paths, env)


def test_no_file_at_all_and_a_file_appearing(aws_home: AwsHome) -> None:
    paths = AwsPaths.from_env(aws_home.env)
    for path in (aws_home.config, aws_home.credentials):
        path.unlink(missing_ok=True)
    assert lint_paths(paths, utc_now(), aws_home.env, NOW) == ([], True)
    assert lint_paths(paths, utc_now(), aws_home.env, NOW) == ([], True)
    _replace(aws_home.config, "[profile x]\nregion = nowhere\n")
    findings, no_files = lint_paths(paths, utc_now(), aws_home.env, NOW)
    assert not no_files and [f.id for f in findings] == ["RC015"]  # no region of any partition


def test_a_file_changed_within_the_racy_window_is_never_cached(aws_home: AwsHome) -> None:
    _replace(aws_home.config, VARIED_CONFIG)
    cache = DerivedCache(str(aws_home.root / "rc"), "test")
    assert cache.key([str(aws_home.config)]) is None  # written just now: the default two seconds apply
    settings = CacheSettings(racy_ns=-1)
    fresh = DerivedCache(str(aws_home.root / "rc"), "test", settings)
    key = fresh.key([str(aws_home.config), str(aws_home.root / "missing")], "extra")
    assert key is not None
    fresh.put(key, ["value"])
    assert fresh.get(key) == ["value"]
    assert fresh.get(fresh.key([str(aws_home.config)], "other") or ()) is None
