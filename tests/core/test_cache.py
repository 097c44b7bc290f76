"""rolecall.cache against real botocore (key algorithm, JSONFileCache, AssumeRoleProvider) and the real AWS CLI."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import AssumeRoleCredentialFetcher, Credentials
from botocore.utils import JSONFileCache
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import AwsHome, run_aws
from rolecall.cache import (
    DEFAULT_MIN_REMAINING,
    CacheEntry,
    CliCache,
    assume_role_cache_key,
    has_control_characters,
)
from rolecall.errors import InvalidInputError
from rolecall.fastjson import canonical_json, loads
from rolecall.sandbox import Sandbox
from rolecall.sessioncache import SessionCache

NOW = datetime(2026, 11, 27, 23, 0, 0, tzinfo=timezone.utc)
ROLE = "arn:aws:iam::123456789012:role/demo"
SERIAL = "arn:aws:iam::111111111111:mfa/alice"
POLICY_TEXT = '{"Version": "2012-10-17", "Statement": [{"Resource": "*", "Effect": "Allow", "Action": "*"}]}'


def sts_response(expiration: Any, access_key: str = "ASIAEXAMPLECACHED01") -> dict[str, Any]:
    """An AssumeRole response shaped as botocore returns it (datetimes as tz-aware datetimes)."""
    return {
        "Credentials": {
            "AccessKeyId": access_key,
            "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET",
            "SessionToken": "FwoGZXIvYXdzEXAMPLETOKEN",
            "Expiration": expiration,
        },
        "AssumedRoleUser": {
            "AssumedRoleId": "AROAEXAMPLE:botocore-session-1",
            "Arn": "arn:aws:sts::123456789012:assumed-role/demo/botocore-session-1",
        },
        "PackedPolicySize": 6,
        "ResponseMetadata": {"RequestId": "r-1", "HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0},
    }


# ---------------------------------------------------------------------------------------------- the cache key

# Every assume-role / web-identity vector of aws-cli-compat.md 4.2 (botocore's tests/unit/test_credentials.py),
# given as the kwargs botocore holds (TokenCode / WebIdentityToken / generated session names included where
# botocore has them, to prove they are left out).
VECTORS = [
    ({"RoleArn": "myrole"}, False, "793d6e2f27667ab2da104824407e486bfec24a47"),
    (
        {"RoleArn": "myrole", "RoleSessionName": "botocore-session-1795818011"},
        True,
        "793d6e2f27667ab2da104824407e486bfec24a47",
    ),
    (
        {"RoleArn": "myrole", "SerialNumber": None, "TokenCode": "123456"},
        False,
        "793d6e2f27667ab2da104824407e486bfec24a47",
    ),
    ({"RoleArn": "arn:aws:iam::role/foo-role"}, False, "75c539f0711ba78c5b9e488d0add95f178a54d74"),
    ({"RoleArn": "myrole", "RoleSessionName": "my_session_name"}, False, "2964201f5648c8be5b9460a9cf842d73a266daf2"),
    ({"RoleArn": "myrole", "Policy": POLICY_TEXT}, False, "176f223d915e82456c253545e192aa21d68f5ab8"),
    ({"RoleArn": "chained-role"}, False, "3d440bf424caf7a5ee664fbf89139a84409f95c2"),
    ({"RoleArn": "arn:aws:iam::foo-role"}, False, "3f8e35c8dca6211d496e830a2de723b2387921e3"),
    (
        {"RoleArn": "arn:aws:iam::foo-role", "RoleSessionName": "foo_role_session_name"},
        False,
        "5e75ce21b6a64ab183b29c4a159b6f0248121d51",
    ),
    (
        {"RoleArn": "arn:aws:iam::123:role/role-name", "RoleSessionName": "x", "WebIdentityToken": "eyJ.token"},
        True,
        "c29461feeacfbed43017d20612606ff76abc073d",
    ),
    (
        {"RoleArn": "arn:aws:iam::123456789012:role/demo", "ExternalId": "ext-123", "DurationSeconds": 1800},
        False,
        "7f0d5e704464ab8a6c10f30c7ed924bd4b04f57a",
    ),
    (
        {"RoleArn": "arn:aws:iam::123456789012:role/demo", "ExternalId": "ext-123", "DurationSeconds": "1800"},
        False,
        "7f0d5e704464ab8a6c10f30c7ed924bd4b04f57a",
    ),
]


@pytest.mark.parametrize(("params", "generated", "expected"), VECTORS)
def test_cache_key_reproduces_botocore_vectors(params: dict[str, Any], generated: bool, expected: str) -> None:
    assert assume_role_cache_key(params, session_name_generated=generated) == expected


def _botocore_assume_role_key(role_arn: str, extra: dict[str, Any]) -> str:
    """The key botocore's own fetcher computes (its constructor does it; nothing is called)."""
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=lambda *a, **k: None,
        source_credentials=Credentials("AKIDSOURCE", "secret"),
        role_arn=role_arn,
        extra_args=dict(extra),
        cache={},
    )
    return fetcher._cache_key


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
policy_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    role=text.filter(bool),
    session=st.none() | text.filter(bool),
    external=st.none() | text,
    serial=st.none() | text,
    duration=st.none() | st.integers(900, 43200),
    policy=st.none() | st.dictionaries(text, policy_values, max_size=4),
    more=st.dictionaries(
        st.sampled_from(["PolicyArns", "Tags", "TransitiveTagKeys", "SourceIdentity"]),
        st.lists(st.fixed_dictionaries({"arn": text}) | st.fixed_dictionaries({"Key": text, "Value": text}), max_size=2)
        | text,
        max_size=3,
    ),
)
def test_cache_key_equals_botocore_fetcher(
    role: str,
    session: str | None,
    external: str | None,
    serial: str | None,
    duration: int | None,
    policy: dict[str, Any] | None,
    more: dict[str, Any],
) -> None:
    """Differential: botocore's AssumeRoleCredentialFetcher computes the same key for any combination."""
    extra: dict[str, Any] = dict(more)
    if session is not None:
        extra["RoleSessionName"] = session
    if external is not None:
        extra["ExternalId"] = external
    if serial is not None:
        extra["SerialNumber"] = serial
    if duration is not None:
        extra["DurationSeconds"] = duration
    if policy is not None:
        extra["Policy"] = json.dumps(policy)
    expected = _botocore_assume_role_key(role, extra)
    params = {"RoleArn": role, **extra}
    if session is None:
        params["RoleSessionName"] = "botocore-session-1795818011"
    assert assume_role_cache_key(params, session_name_generated=session is None) == expected


_WEB_IDENTITY_FETCHER_KEY = """
from botocore.credentials import AssumeRoleWithWebIdentityCredentialFetcher
fetcher = AssumeRoleWithWebIdentityCredentialFetcher(
    client_creator=lambda *a, **k: None,
    web_identity_token_loader=lambda: "eyJ.token",
    role_arn="arn:aws:iam::123:role/role-name",
    cache={},
)
print(fetcher._cache_key)
"""


def test_web_identity_key_equals_botocore_fetcher() -> None:
    # In a fresh interpreter: once awscli v1 is imported into a process (other tests do), botocore's
    # web-identity fetcher keeps its generated session name in the key, which is not what the CLI run computes.
    done = subprocess.run([sys.executable, "-c", _WEB_IDENTITY_FETCHER_KEY], capture_output=True, text=True, check=True)
    ours = assume_role_cache_key(
        {"RoleArn": "arn:aws:iam::123:role/role-name", "RoleSessionName": "gen", "WebIdentityToken": "eyJ.token"},
        session_name_generated=True,
    )
    assert ours == done.stdout.strip() == "c29461feeacfbed43017d20612606ff76abc073d"


@settings(max_examples=300, deadline=None)
@given(value=policy_values | st.floats(allow_nan=False) | st.lists(st.floats(allow_nan=False), max_size=3))
def test_canonical_json_is_json_dumps_sort_keys(value: Any) -> None:
    assert canonical_json(value) == json.dumps(value, sort_keys=True)


@settings(max_examples=300, deadline=None)
@given(
    document=st.one_of(
        policy_values.map(json.dumps),
        text,
        st.sampled_from(["", " ", "{", "[1,]", "1 2", "\ufeff1", "NaN", "[-Infinity]"]),
    )
)
def test_fast_loads_matches_json_loads(document: str) -> None:
    """The re-free decoder accepts exactly what json.loads accepts, with the same result."""
    try:
        expected = json.loads(document)
    except ValueError:
        with pytest.raises(ValueError):
            loads(document)
    else:
        # Compared through json.dumps: NaN is accepted by both and is not equal to itself.
        assert json.dumps(loads(document)) == json.dumps(expected)


def test_bad_policy_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="policy is not valid JSON"):
        assume_role_cache_key({"RoleArn": "r", "Policy": "{not json"})


# ---------------------------------------------------------------------------------------------- writing


def test_put_writes_exactly_what_botocore_jsonfilecache_writes(tmp_path: Path) -> None:
    response = sts_response(datetime(2026, 11, 28, 0, 20, 11, tzinfo=timezone.utc))
    CliCache(str(tmp_path / "ours")).put("k", response)

    # botocore adds AccountId in the fetcher, then hands the response to JSONFileCache.
    theirs = json.loads(json.dumps(response, default=str))
    theirs["Credentials"]["Expiration"] = response["Credentials"]["Expiration"]
    theirs["Credentials"]["AccountId"] = "123456789012"
    JSONFileCache(str(tmp_path / "botocore"))["k"] = theirs

    ours_bytes = (tmp_path / "ours" / "k.json").read_bytes()
    assert ours_bytes == (tmp_path / "botocore" / "k.json").read_bytes()
    assert b'"Expiration": "2026-11-28T00:20:11UTC"' in ours_bytes
    assert b"\n" not in ours_bytes
    assert response["Credentials"].get("AccountId") is None, "put must not change the caller's response"


json_leaf = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | text
json_values = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=10
)


@settings(max_examples=60, deadline=None)
@given(
    extra=st.dictionaries(text.filter(lambda k: k not in ("Credentials", "AssumedRoleUser")), json_values, max_size=4),
    # A secret with a control character is damage (issue 15, item 4): get() refuses it on purpose.
    secret=text.filter(lambda s: bool(s) and not has_control_characters(s)),
    seconds=st.integers(0, 129600),
)
def test_put_get_round_trip_agrees_with_botocore(
    tmp_path_factory: pytest.TempPathFactory, extra: dict[str, Any], secret: str, seconds: int
) -> None:
    """Whatever else the response holds, botocore reads back the same document rolecall reads back."""
    folder = str(tmp_path_factory.mktemp("cache"))
    expiration = NOW + timedelta(seconds=seconds)
    response = sts_response(expiration) | extra
    response["Credentials"]["SecretAccessKey"] = secret
    CliCache(folder).put("k", response)
    entry = CliCache(folder).get("k", NOW, timedelta.min)
    assert entry is not None
    assert entry.response == JSONFileCache(folder)["k"]
    assert entry.credentials.secret_access_key == secret
    assert entry.credentials.expiration == expiration
    assert {k: entry.response[k] for k in extra} == extra


def test_put_is_read_by_botocore_cached_fetcher(tmp_path: Path) -> None:
    """botocore's CachedCredentialFetcher finds our entry fresh and never calls STS (its client would fail)."""
    params = {"RoleArn": ROLE, "SerialNumber": SERIAL, "RoleSessionName": "botocore-session-1"}
    expiration = datetime.now(timezone.utc) + timedelta(hours=1)
    CliCache(str(tmp_path)).put(assume_role_cache_key(params, session_name_generated=True), sts_response(expiration))

    def no_client(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("botocore tried to call STS instead of using the cache")

    def no_prompt(_prompt: str) -> str:
        raise AssertionError("botocore asked for an MFA code instead of using the cache")

    fetcher = AssumeRoleCredentialFetcher(
        client_creator=no_client,
        source_credentials=Credentials("AKIDSOURCE", "secret"),
        role_arn=ROLE,
        extra_args={"SerialNumber": SERIAL},
        mfa_prompter=no_prompt,
        cache=JSONFileCache(str(tmp_path)),
    )
    creds = fetcher.fetch_credentials()
    assert creds["access_key"] == "ASIAEXAMPLECACHED01"
    assert creds["token"] == "FwoGZXIvYXdzEXAMPLETOKEN"
    assert creds["account_id"] == "123456789012"


def test_real_aws_cli_uses_what_put_wrote(aws_home: AwsHome) -> None:
    """The AWS CLI, with MFA configured, STS unreachable and no terminal, shows the cached role key.

    Without the entry it would have to prompt for a code (impossible without a terminal) and call STS
    (unreachable): the first run proves that, the second that it took our entry instead.
    """
    aws_home.write_config(
        f"[profile src]\nregion = us-east-1\n[profile prod]\nrole_arn = {ROLE}\nsource_profile = src\n"
        f"mfa_serial = {SERIAL}\nregion = us-east-1\n"
    )
    aws_home.write_credentials("[src]\naws_access_key_id = AKIAEXAMPLESOURCE01\naws_secret_access_key = s\n")
    env = aws_home.env | {"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"}

    before = run_aws(["configure", "list", "--profile", "prod"], env)
    assert before.returncode != 0 and "****WXYZ" not in before.stdout

    key = assume_role_cache_key({"RoleArn": ROLE, "SerialNumber": SERIAL}, session_name_generated=True)
    expiration = datetime.now(timezone.utc) + timedelta(hours=1)
    CliCache(str(aws_home.root / ".aws" / "cli" / "cache")).put(key, sts_response(expiration, "ASIACACHEDKEYWXYZ"))

    after = run_aws(["configure", "list", "--profile", "prod"], env)
    assert after.returncode == 0, after.stderr
    assert "****************WXYZ      assume-role" in after.stdout
    assert "Enter MFA code" not in after.stderr


def test_put_permissions_new_folders_0700_file_0600(tmp_path: Path) -> None:
    folder = tmp_path / "home" / ".aws" / "cli" / "cache"
    CliCache(str(folder)).put("k", sts_response(NOW + timedelta(hours=1)))
    assert stat.S_IMODE((folder / "k.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    assert [p.name for p in folder.iterdir()] == ["k.json"], "no temporary file left behind"


def test_put_tightens_a_loose_file_but_leaves_the_clis_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)  # as botocore creates it
    (folder / "k.json").write_text("{}")
    os.chmod(folder / "k.json", 0o644)
    CliCache(str(folder)).put("k", sts_response(NOW + timedelta(hours=1)))
    assert stat.S_IMODE((folder / "k.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755


def test_put_refuses_incomplete_response_without_leaking(tmp_path: Path) -> None:
    response = sts_response(NOW)
    del response["Credentials"]["SessionToken"]
    with pytest.raises(InvalidInputError) as caught:
        CliCache(str(tmp_path)).put("k", response)
    assert "SessionToken" in caught.value.message
    assert "SECRET" not in caught.value.message and "ASIA" not in caught.value.message
    assert not (tmp_path / "k.json").exists()


@pytest.mark.parametrize("key", ["", "../evil", "a/b", ".hidden"])
def test_keys_cannot_escape_the_folder(tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidInputError):
        CliCache(str(tmp_path)).get(key, NOW)


# ---------------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    "expiration",
    [
        datetime(2026, 11, 28, 1, 0, 0, tzinfo=timezone.utc),  # botocore: ...UTC
        datetime(2026, 11, 28, 1, 0, 0),  # naive datetime: strftime %Z is empty
        "2026-11-28T01:00:00Z",  # SSO entries and other writers
        "2026-11-28T01:00:00+00:00",
        "2026-11-28T01:00:00.000000+00:00",
        "2026-11-28T03:00:00+02:00",
    ],
)
def test_get_reads_what_botocore_wrote(tmp_path: Path, expiration: Any) -> None:
    JSONFileCache(str(tmp_path))["k"] = sts_response(expiration)
    entry = CliCache(str(tmp_path)).get("k", NOW)
    assert entry is not None
    assert entry.credentials.access_key_id == "ASIAEXAMPLECACHED01"
    assert entry.credentials.secret_access_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET"
    assert entry.credentials.session_token == "FwoGZXIvYXdzEXAMPLETOKEN"
    assert entry.credentials.expiration == datetime(2026, 11, 28, 1, 0, 0, tzinfo=timezone.utc)
    assert entry.credentials.account_id == "123456789012"  # from AssumedRoleUser.Arn: botocore's fetcher adds it
    assert entry.path == str(tmp_path / "k.json")
    assert entry.response["PackedPolicySize"] == 6
    assert "SECRET" not in repr(entry) and "TOKEN" not in repr(entry)


def test_get_reads_an_entry_written_by_a_real_botocore_assume_role(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's AssumeRoleProvider (against the sandbox STS over HTTP) writes the entry; we read it under our key."""
    import botocore.session

    role = sandbox.role_arn("readonly")
    aws_home.write_config(
        f"[profile src]\nregion = us-east-1\n[profile prod]\nrole_arn = {role}\nsource_profile = src\n"
        "region = us-east-1\n"
    )
    aws_home.write_credentials(
        f"[src]\naws_access_key_id = {sandbox.access_key_id}\naws_secret_access_key = {sandbox.secret_access_key}\n"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint_url)
    folder = str(tmp_path / "cache")
    session = botocore.session.Session(profile="prod")
    session.get_component("credential_provider").get_provider("assume-role").cache = JSONFileCache(folder)
    frozen = session.get_credentials().get_frozen_credentials()
    assert sandbox.calls("AssumeRole") == 1
    key = assume_role_cache_key({"RoleArn": role}, session_name_generated=True)
    assert os.listdir(folder) == [key + ".json"]
    entry = CliCache(folder).get(key, datetime.now(timezone.utc))
    assert entry is not None
    assert (entry.credentials.access_key_id, entry.credentials.secret_access_key, entry.credentials.session_token) == (
        frozen.access_key,
        frozen.secret_key,
        frozen.token,
    )
    assert entry.credentials.account_id == sandbox.account_id


def test_missing_entry_is_a_quiet_miss(tmp_path: Path) -> None:
    said: list[str] = []
    assert CliCache(str(tmp_path / "nowhere"), said.append).get("k", NOW) is None
    assert said == []


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"Credentials": {"AccessKeyId": "ASIA', "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe garbage", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"ProviderType": "something"}', "no Credentials object"),
        (
            b'{"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "2027-01-01T00:00:00Z"}}',
            "Credentials.SessionToken is missing",
        ),
        (
            b'{"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": "soon"}}',
            "Credentials.Expiration is not a timestamp",
        ),
    ],
)
def test_corrupt_or_foreign_entry_is_a_miss_with_a_warning(tmp_path: Path, content: bytes, why: str) -> None:
    (tmp_path / "k.json").write_bytes(content)
    said: list[str] = []
    assert CliCache(str(tmp_path), said.append).get("k", NOW) is None
    assert len(said) == 1
    assert str(tmp_path / "k.json") in said[0] and why in said[0]
    assert "ASIA" not in said[0] and '"S"' not in said[0]


def test_corrupt_entry_that_crashes_botocore_is_replaced_by_put(tmp_path: Path) -> None:
    (tmp_path / "k.json").write_text("{truncated")
    with pytest.raises(KeyError):  # what botocore does with it (aws-cli-compat.md 4.3)
        JSONFileCache(str(tmp_path))["k"]
    cache = CliCache(str(tmp_path))
    cache.put("k", sts_response(NOW + timedelta(hours=1)))
    assert JSONFileCache(str(tmp_path))["k"]["Credentials"]["AccessKeyId"] == "ASIAEXAMPLECACHED01"
    assert cache.get("k", NOW) is not None


def test_unreadable_entry_is_a_miss_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "k.json").mkdir()  # a folder where the file should be: open() fails even for root
    said: list[str] = []
    assert CliCache(str(tmp_path), said.append).get("k", NOW) is None
    assert len(said) == 1 and "cannot read it" in said[0]


@pytest.mark.parametrize(
    ("left", "min_remaining", "fresh"),
    [
        (timedelta(minutes=15), DEFAULT_MIN_REMAINING, True),  # botocore: expired only when seconds < 900
        (timedelta(minutes=15) - timedelta(seconds=1), DEFAULT_MIN_REMAINING, False),
        (timedelta(hours=1), DEFAULT_MIN_REMAINING, True),
        (timedelta(0), DEFAULT_MIN_REMAINING, False),
        (-timedelta(hours=1), DEFAULT_MIN_REMAINING, False),
        (timedelta(minutes=5), timedelta(minutes=5), True),
        (timedelta(minutes=5) - timedelta(microseconds=1), timedelta(minutes=5), False),
        (-timedelta(days=2), timedelta.min, True),
    ],
)
def test_expiry_window_boundaries(tmp_path: Path, left: timedelta, min_remaining: timedelta, fresh: bool) -> None:
    CliCache(str(tmp_path)).put("k", sts_response(NOW + left))
    entry = CliCache(str(tmp_path)).get("k", NOW, min_remaining)
    assert (entry is not None) is fresh


def test_expiry_window_agrees_with_botocore(tmp_path: Path) -> None:
    """botocore's fetcher (its own clock, its public ``fetch_credentials``) and rolecall agree on fresh vs stale,
    a few seconds on each side of the 15-minute window (the exact edge: test_expiry_window_boundaries)."""

    class Sts:
        """botocore's STS client as its fetcher uses it: a stale entry makes it call AssumeRole here."""

        def assume_role(self, **kwargs: Any) -> dict[str, Any]:
            return sts_response(datetime.now(timezone.utc) + timedelta(hours=1), access_key="ASIAFROMANEWCALL01")

    for left, fresh in ((timedelta(seconds=905), True), (timedelta(seconds=895), False)):
        now = datetime.now(timezone.utc)
        key = assume_role_cache_key({"RoleArn": ROLE})
        CliCache(str(tmp_path)).put(key, sts_response(now + left))
        assert (CliCache(str(tmp_path)).get(key, now) is not None) is fresh
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=lambda *a, **k: Sts(),
            source_credentials=Credentials("AKIDSOURCE", "secret"),
            role_arn=ROLE,
            extra_args={},
            cache=JSONFileCache(str(tmp_path)),
        )
        # Served from rolecall's entry only when botocore computed the same key and found it fresh.
        served = fetcher.fetch_credentials()["access_key"]
        assert (served == "ASIAEXAMPLECACHED01") is fresh, served


def test_account_id_in_file_wins_over_arn(tmp_path: Path) -> None:
    response = sts_response("2027-01-01T00:00:00Z")
    response["Credentials"]["AccountId"] = "999999999999"
    del response["AssumedRoleUser"]
    JSONFileCache(str(tmp_path))["k"] = response
    entry = CliCache(str(tmp_path)).get("k", NOW)
    assert entry is not None and entry.credentials.account_id == "999999999999"


def test_delete(tmp_path: Path) -> None:
    cache = CliCache(str(tmp_path))
    cache.put("k", sts_response(NOW + timedelta(hours=1)))
    cache.delete("k")
    cache.delete("k")  # missing is fine
    assert cache.get("k", NOW) is None


def test_entry_and_cache_are_immutable(tmp_path: Path) -> None:
    cache = CliCache(str(tmp_path))
    cache.put("k", sts_response(NOW + timedelta(hours=1)))
    entry = cache.get("k", NOW)
    assert isinstance(entry, CacheEntry)
    with pytest.raises(AttributeError):
        entry.path = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        cache.directory = "x"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------- concurrency


WRITER = """
import sys
from datetime import datetime, timedelta, timezone
from rolecall.cache import CliCache
cache = CliCache(sys.argv[1])
for i in range(60):
    cache.put("k", {"Credentials": {"AccessKeyId": "ASIA" + sys.argv[2] * 40, "SecretAccessKey": "s" * 2000,
        "SessionToken": "t" * 4000, "Expiration": datetime.now(timezone.utc) + timedelta(hours=1)}})
"""


def test_concurrent_writers_never_show_a_torn_file(tmp_path: Path) -> None:
    """Real processes rewrite one entry while we read it: every read is a whole entry or (at first) a miss."""
    folder = str(tmp_path / "cache")
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, folder, letter]) for letter in ("A", "B", "C")]
    said: list[str] = []
    cache = CliCache(folder, said.append)
    seen = set()
    while any(w.poll() is None for w in writers):
        entry = cache.get("k", datetime.now(timezone.utc))
        if entry is not None:
            seen.add(entry.credentials.access_key_id[4])
    assert all(w.wait() == 0 for w in writers)
    assert said == []
    assert seen, "the reader never saw an entry"
    assert [n for n in os.listdir(folder) if n != "k.json"] == []


# ---------------------------------------------------------------------------------------------- session cache


def session_response(expiration: Any) -> dict[str, Any]:
    return {
        "Credentials": {
            "AccessKeyId": "ASIASESSION00000001",
            "SecretAccessKey": "sessionSECRET",
            "SessionToken": "sessionTOKEN",
            "Expiration": expiration,
        },
        "ResponseMetadata": {"RequestId": "r-2", "HTTPStatusCode": 200},
    }


def test_session_cache_round_trip_and_permissions(tmp_path: Path) -> None:
    folder = tmp_path / "rolecall" / "sessions"
    cache = SessionCache(str(folder))
    key = cache.key("AKIAEXAMPLESOURCE01", SERIAL)
    cache.put(
        key, session_response(NOW + timedelta(hours=12)), source_access_key_id="AKIAEXAMPLESOURCE01", mfa_serial=SERIAL
    )
    entry = cache.get(key, NOW)
    assert entry is not None
    assert entry.credentials.access_key_id == "ASIASESSION00000001"
    assert entry.credentials.expiration == NOW + timedelta(hours=12)
    assert entry.response["Rolecall"] == {"SourceAccessKeyId": "AKIAEXAMPLESOURCE01", "SerialNumber": SERIAL}
    assert stat.S_IMODE(os.stat(entry.path).st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    assert cache.get(key, NOW + timedelta(hours=11, minutes=46)) is None  # the same 15-minute window
    cache.delete(key)
    assert cache.get(key, NOW) is None


def test_session_cache_keys_separate_identities_and_devices() -> None:
    cache = SessionCache("/unused")
    keys = {
        cache.key("AKIA1", SERIAL),
        cache.key("AKIA2", SERIAL),
        cache.key("AKIA1", SERIAL + "2"),
    }
    assert len(keys) == 3
    assert cache.key("AKIA1", SERIAL) == cache.key("AKIA1", SERIAL)
    assert all(len(k) == 40 and int(k, 16) >= 0 for k in keys)


def test_session_cache_tightens_a_loose_folder(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    os.chmod(folder, 0o755)
    cache = SessionCache(str(folder))
    cache.put(cache.key("AKIA1", SERIAL), session_response(NOW), source_access_key_id="AKIA1", mfa_serial=SERIAL)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_session_cache_rejects_a_key_for_another_identity(tmp_path: Path) -> None:
    cache = SessionCache(str(tmp_path))
    with pytest.raises(InvalidInputError):
        cache.put(cache.key("AKIA1", SERIAL), session_response(NOW), source_access_key_id="AKIA2", mfa_serial=SERIAL)


def test_session_cache_entry_of_another_identity_is_foreign(tmp_path: Path) -> None:
    cache = SessionCache(str(tmp_path))
    mine, other = cache.key("AKIA1", SERIAL), cache.key("AKIA2", SERIAL)
    cache.put(other, session_response(NOW + timedelta(hours=1)), source_access_key_id="AKIA2", mfa_serial=SERIAL)
    os.replace(tmp_path / f"{other}.json", tmp_path / f"{mine}.json")
    said: list[str] = []
    assert SessionCache(str(tmp_path), said.append).get(mine, NOW) is None
    assert len(said) == 1 and "does not belong" in said[0]


def test_session_entry_without_note_is_foreign(tmp_path: Path) -> None:
    """A CLI-cache entry copied into the session folder is not taken for an MFA session."""
    cache = SessionCache(str(tmp_path))
    key = cache.key("AKIA1", SERIAL)
    CliCache(str(tmp_path)).put(key, sts_response(NOW + timedelta(hours=1)))
    assert cache.get(key, NOW) is None


# ---------------------------------------------------------------------------------------------- fast path


def test_cached_lookup_imports_nothing_heavy(tmp_path: Path) -> None:
    """Computing a key and reading a fresh entry loads none of the modules the fast path forbids."""
    CliCache(str(tmp_path)).put(assume_role_cache_key({"RoleArn": ROLE}), sts_response(NOW + timedelta(hours=1)))
    script = f"""
import sys
from datetime import datetime, timezone
from rolecall.cache import CliCache, assume_role_cache_key
key = assume_role_cache_key({{"RoleArn": {ROLE!r}, "Policy": '{{"b": 1, "a": [true]}}'}})
key = assume_role_cache_key({{"RoleArn": {ROLE!r}}})
entry = CliCache({str(tmp_path)!r}).get(key, datetime(2026, 11, 27, tzinfo=timezone.utc))
assert entry is not None
heavy = {{"json", "re", "hashlib", "typing", "dataclasses", "pathlib", "enum", "tempfile", "logging",
         "subprocess", "shlex", "configparser", "botocore", "rolecall.fileio"}}
print(sorted(heavy & set(sys.modules)))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
