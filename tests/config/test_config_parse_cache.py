"""The parse cache of big config files: same answers as parsing, invalidated by any edit, private, self-healing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings

from conftest import AwsHome
from rolecall.config import parse
from rolecall.config.parse import ConfigFiles
from rolecall.config.parsecache import DEFAULT_MAX_ENTRIES, DEFAULT_MIN_BYTES, CacheSettings
from rolecall.config.paths import AwsPaths
from rolecall.errors import ConfigParseError
from test_config_parse_differential import ini_text

RACY_SECONDS = 0.3


#: Files count as settled after 0.3 s instead of 2 s, so that tests wait less (and still really wait).
SETTINGS = CacheSettings(racy_ns=int(RACY_SECONDS * 1e9))


def big_config(count: int = 1000, region: str = "eu-west-1") -> str:
    """A config well above the caching threshold, with the features that must survive the cache."""
    head = (
        "[DEFAULT]\ncli_pager =\n"
        "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n  Max_Concurrency = 10\n"
        '[profile "my profile"]\nregion = x\n'
        "[sso-session corp]\nsso_region = us-east-1\n[services local]\ns3 =\n  endpoint_url = http://localhost\n"
        "[preview]\ncloudsearch = true\n[profile '']\nregion = empty-name\n"
    )
    body = "".join(
        f"[profile p{i:05d}]\nrole_arn = arn:aws:iam::123456789012:role/r{i}\nsource_profile = default\n"
        f"region = {region}\n# comment\n\n"
        for i in range(count)
    )
    return head + body + "[profile last]\nrole_arn = arn:aws:iam::1:role/last\nsource_profile = default\n"


def settle() -> None:
    """Let the files written so far leave the racy window."""
    time.sleep(RACY_SECONDS + 0.05)


def cache_path(aws_home: AwsHome) -> Path:
    return Path(aws_home.env["ROLECALL_HOME"]) / "parse-cache"


def load(aws_home: AwsHome, use_cache: bool = True, settings: CacheSettings = SETTINGS) -> ConfigFiles:
    return ConfigFiles.load(AwsPaths.from_env(aws_home.env), use_cache=use_cache, cache_settings=settings)


def forbid_parsing(monkeypatch: pytest.MonkeyPatch, min_bytes: int = DEFAULT_MIN_BYTES) -> None:
    """Make any real parse of a file of ``min_bytes`` or more fail, to prove that an answer came from the cache."""

    real = parse.read_raw_file

    def refuse(path: str) -> object:
        if os.path.exists(path) and os.path.getsize(path) >= min_bytes:
            raise AssertionError(f"parsed {path} although it should come from the cache")
        return real(path)  # small and missing files are never cached

    monkeypatch.setattr(parse, "read_raw_file", refuse)


def test_cached_answers_equal_parsed_ones(aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch) -> None:
    aws_home.write_config(big_config())
    aws_home.write_credentials(big_config(400).replace("[profile ", "[").replace("role_arn", "aws_access_key_id"))
    settle()
    parsed = load(aws_home, use_cache=False)
    load(aws_home)  # writes the cache
    assert cache_path(aws_home).exists()
    with monkeypatch.context() as patch:
        forbid_parsing(patch)
        cached = load(aws_home)
        for name in ["default", "my profile", "", "p00000", "p00999", "last", "p00500", "nope", "a\nb", "corp"]:
            assert cached.profile(name) == parsed.profile(name), name
            assert cached.config_profile(name) == parsed.config_profile(name), name
            assert cached.credentials_section(name) == parsed.credentials_section(name), name
        assert cached.profile_names() == parsed.profile_names()
        assert cached.config == parsed.config
        assert list(cached.config) == list(parsed.config)
        assert cached.credentials == parsed.credentials
        assert cached.full_config == parsed.full_config
    # And both agree with botocore.
    session = botocore.session.Session(include_builtin_handlers=False)
    assert parsed.full_config == session.full_config
    assert parsed.profile_names() == session.available_profiles


def test_looking_at_every_profile_reads_each_once(aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch) -> None:
    """``list``, ``doctor`` and completion look at every profile, several times each: the answers equal a fresh
    parse, in any order, and each profile is read from the cache file once (decoded values are kept), so the cost
    grows with the number of profiles, not with its square (benchmarks/config_scaling.py measures the time)."""
    import random

    aws_home.write_config(big_config(3000))
    settle()
    parsed = load(aws_home, use_cache=False)
    load(aws_home)  # writes the cache
    names = [*parsed.profile_names(), "nope", "p99999"]
    random.Random(7).shuffle(names)
    reads: list[int] = []
    real_pread = os.pread

    def counting_pread(fd: int, size: int, offset: int) -> bytes:
        reads.append(size)
        return real_pread(fd, size, offset)

    with monkeypatch.context() as patch:
        forbid_parsing(patch)
        cached = load(aws_home)
        patch.setattr(os, "pread", counting_pread)
        for _ in range(3):
            for name in names:
                assert cached.config_profile(name) == parsed.config_profile(name), name
    assert 0 < len(reads) <= len(names)


def test_cache_is_private(aws_home: AwsHome) -> None:
    aws_home.write_config(big_config())
    settle()
    load(aws_home)
    path = cache_path(aws_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_small_files_are_not_cached(aws_home: AwsHome) -> None:
    aws_home.write_config("[default]\nregion = us-east-1\n")
    aws_home.write_credentials("[default]\naws_access_key_id = AKIA\n")
    settle()
    load(aws_home)
    assert not cache_path(aws_home).exists()


def test_a_file_changed_just_now_is_not_cached(aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch) -> None:
    aws_home.write_config(big_config())
    assert load(aws_home, settings=CacheSettings(racy_ns=60 * 10**9)).profile("p00001") is not None
    assert not cache_path(aws_home).exists()


def rewrite_in_place(path: Path, old: str, new: str) -> None:
    """Edit the file through the same inode, keeping its size and even its mtime."""
    before = path.stat()
    text = path.read_text()
    assert len(old) == len(new) and old in text
    with open(path, "r+") as handle:  # same inode, no truncation
        handle.write(text.replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)


def test_edit_in_place_with_same_size_and_mtime_is_seen(aws_home: AwsHome) -> None:
    config = aws_home.write_config(big_config(region="eu-west-1"))
    settle()
    assert load(aws_home).profile("p00007")["region"] == "eu-west-1"  # type: ignore[index]
    assert cache_path(aws_home).exists()
    rewrite_in_place(config, "region = eu-west-1", "region = ap-east-1")
    # Within the same second, same size, same inode, same mtime: the change time still moved.
    assert load(aws_home).profile("p00007")["region"] == "ap-east-1"  # type: ignore[index]


def test_atomic_replace_is_seen(aws_home: AwsHome) -> None:
    config = aws_home.write_config(big_config(region="eu-west-1"))
    settle()
    load(aws_home)
    replacement = config.with_name("config.new")
    replacement.write_text(big_config(region="eu-west-2"))
    os.replace(replacement, config)
    assert load(aws_home).profile("last") is not None
    assert load(aws_home).profile("p00000")["region"] == "eu-west-2"  # type: ignore[index]


def test_new_content_is_cached_again_once_settled(aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch) -> None:
    config = aws_home.write_config(big_config(region="eu-west-1"))
    settle()
    load(aws_home)
    config.write_text(big_config(region="eu-west-3"))
    settle()
    load(aws_home)  # parses, and caches the new content
    with monkeypatch.context() as patch:
        forbid_parsing(patch)
        assert load(aws_home).profile("p00001")["region"] == "eu-west-3"  # type: ignore[index]


def test_a_broken_big_file_fails_every_time(aws_home: AwsHome) -> None:
    aws_home.write_config(big_config() + "[default]\n")
    settle()
    for _ in range(2):
        with pytest.raises(ConfigParseError, match=r"duplicate section \[default\]"):
            load(aws_home)


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"RCPC",
        b"garbage" * 100,
        b"RCPC\xff\xff\xff\x00",
    ],
)
def test_damaged_cache_file_is_ignored_and_rewritten(aws_home: AwsHome, damage: bytes) -> None:
    aws_home.write_config(big_config())
    settle()
    path = cache_path(aws_home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(damage)
    path.chmod(0o600)
    assert load(aws_home).profile("last") is not None
    assert path.read_bytes()[:4] == b"RCPC" and len(path.read_bytes()) > 1000


def test_truncated_data_region_falls_back_to_parsing(aws_home: AwsHome) -> None:
    aws_home.write_config(big_config())
    settle()
    expected = load(aws_home, use_cache=False)
    load(aws_home)
    path = cache_path(aws_home)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the header survives, the data does not
    files = load(aws_home)
    assert files.profile("last") == expected.profile("last")
    assert files.config == expected.config


def test_cache_open_to_others_is_not_trusted(aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch) -> None:
    aws_home.write_config(big_config())
    settle()
    load(aws_home)
    path = cache_path(aws_home)
    path.chmod(0o644)
    with monkeypatch.context() as patch:
        forbid_parsing(patch)
        with pytest.raises(AssertionError, match="should come from the cache"):
            load(aws_home)
    load(aws_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # replaced by a private one


def test_symlink_in_place_of_the_cache_is_not_followed(aws_home: AwsHome, tmp_path: Path) -> None:
    aws_home.write_config(big_config())
    settle()
    target = tmp_path / "elsewhere"
    target.write_text("not yours")
    path = cache_path(aws_home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.symlink_to(target)
    assert load(aws_home).profile("last") is not None
    assert target.read_text() == "not yours"
    assert not path.is_symlink()


def test_no_cache_in_a_folder_others_can_write(aws_home: AwsHome) -> None:
    aws_home.write_config(big_config())
    settle()
    folder = Path(aws_home.env["ROLECALL_HOME"])
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o777)
    assert load(aws_home).profile("last") is not None
    assert not cache_path(aws_home).exists()


def test_entries_of_vanished_files_are_dropped(aws_home: AwsHome, tmp_path: Path) -> None:
    configs = [tmp_path / f"config{i}.ini" for i in range(3)]
    for i, config in enumerate(configs):
        config.write_text(big_config(region=f"r{i}"))
    settle()
    for config in configs:
        ConfigFiles.load(AwsPaths.from_env(dict(aws_home.env, AWS_CONFIG_FILE=str(config))), cache_settings=SETTINGS)
    data = cache_path(aws_home).read_bytes()
    assert all(str(config).encode() in data for config in configs)
    configs[0].unlink()
    configs[1].write_text(big_config(region="changed"))
    settle()
    ConfigFiles.load(AwsPaths.from_env(dict(aws_home.env, AWS_CONFIG_FILE=str(configs[1]))), cache_settings=SETTINGS)
    data = cache_path(aws_home).read_bytes()
    assert str(configs[0]).encode() not in data
    assert str(configs[1]).encode() in data and str(configs[2]).encode() in data


def test_at_most_a_few_files_are_remembered(aws_home: AwsHome, tmp_path: Path) -> None:
    text = big_config(400)
    configs = [tmp_path / f"config{i}.ini" for i in range(DEFAULT_MAX_ENTRIES + 3)]
    for config in configs:
        config.write_text(text)
    settle()
    for config in configs:
        ConfigFiles.load(AwsPaths.from_env(dict(aws_home.env, AWS_CONFIG_FILE=str(config))), cache_settings=SETTINGS)
    data = cache_path(aws_home).read_bytes()
    remembered = [config for config in configs if str(config).encode() in data]
    assert remembered == configs[-DEFAULT_MAX_ENTRIES:]


def test_cache_from_another_python_version_is_ignored(aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch) -> None:
    aws_home.write_config(big_config())
    settle()
    load(aws_home)
    other_python = CacheSettings(racy_ns=SETTINGS.racy_ns, python_version=0x0209)
    with monkeypatch.context() as patch:
        forbid_parsing(patch)
        with pytest.raises(AssertionError, match="should come from the cache"):
            load(aws_home, settings=other_python)


_examples = iter(range(10**9))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=ini_text(), credentials=ini_text(tidy=True))
def test_cache_round_trip_of_generated_files(
    aws_home: AwsHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, credentials: str
) -> None:
    """Whatever the parser accepts, the cache gives back the same (every file cached, no racy window)."""
    every_file = CacheSettings(min_bytes=0, racy_ns=-(10**18))
    n = next(_examples)  # a new path per example: a cache entry can never be confused with an earlier file
    paths = AwsPaths(str(tmp_path / f"c{n}"), str(tmp_path / f"k{n}"), str(tmp_path), str(tmp_path / "rolecall"))
    Path(paths.config_file).write_bytes(config.encode())
    Path(paths.credentials_file).write_bytes(credentials.encode())
    try:
        parsed = ConfigFiles.load(paths, use_cache=False)
    except ConfigParseError:
        return
    ConfigFiles.load(paths, cache_settings=every_file)  # fills the cache
    with monkeypatch.context() as patch:
        forbid_parsing(patch, min_bytes=0)
        cached = ConfigFiles.load(paths, cache_settings=every_file)
        assert cached.profile_names() == parsed.profile_names()
        for name in [*parsed.profile_names(), *parsed.config, "missing"]:
            assert cached.profile(name) == parsed.profile(name)
            assert cached.config_profile(name) == parsed.config_profile(name)
            assert cached.credentials_section(name) == parsed.credentials_section(name)
        assert cached.full_config == parsed.full_config
        assert cached.config == parsed.config
        assert cached.credentials == parsed.credentials


FORBIDDEN_ON_FAST_PATH = {
    "configparser",
    "re",
    "shlex",
    "dataclasses",
    "pathlib",
    "typing",
    "enum",
    "logging",
    "subprocess",
    "tempfile",
    "botocore",
    "difflib",
    "contextlib",
    "mmap",
    "hashlib",
    "json",
}


def test_cached_lookup_imports_nothing_heavy(aws_home: AwsHome) -> None:
    aws_home.write_config(big_config())
    settle()
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from rolecall.config import parse\n"
        f"settings = parse.CacheSettings(racy_ns={int(RACY_SECONDS * 1e9)})\n"
        "import os\n"
        "from rolecall.config.paths import AwsPaths\n"
        "files = parse.ConfigFiles.load(AwsPaths.from_env(os.environ), cache_settings=settings)\n"
        "assert files.profile('p00003')['region'] == 'eu-west-1'\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    for run in ("writes the cache", "reads the cache"):
        done = subprocess.run([sys.executable, "-c", code], env=aws_home.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert cache_path(aws_home).exists(), run
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    assert not loaded & FORBIDDEN_ON_FAST_PATH, loaded & FORBIDDEN_ON_FAST_PATH


def test_one_file_as_config_and_credentials(aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both kinds of entry for one path live side by side (no thrashing between them)."""
    text = big_config()
    aws_home.write_config(text)
    aws_home.write_credentials(text)
    settle()
    env = dict(aws_home.env, AWS_SHARED_CREDENTIALS_FILE=str(aws_home.config))
    parsed = ConfigFiles.load(AwsPaths.from_env(env), use_cache=False)
    ConfigFiles.load(AwsPaths.from_env(env), cache_settings=SETTINGS)
    with monkeypatch.context() as patch:
        forbid_parsing(patch)
        cached = ConfigFiles.load(AwsPaths.from_env(env), cache_settings=SETTINGS)
        assert cached.full_config == parsed.full_config
