"""The config/credentials reader: a corpus of tricky files compared with botocore, error messages, paths, API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.configloader
import botocore.exceptions
import botocore.session
import pytest

from conftest import AwsHome, file_modes_bind, run_rolecall
from rolecall.config.parse import (
    ConfigFiles,
    build_profile_map,
    load_config_file,
    parse_raw,
    read_raw_file,
    split_section_name,
)
from rolecall.config.paths import AwsPaths
from rolecall.errors import ConfigParseError, ExitCode, FileError, ProfileNotFoundError

CORPUS = Path(__file__).resolve().parents[1] / "data" / "parse_corpus"
OK_FILES = sorted(p.name for p in CORPUS.glob("ok-*.ini"))
ERROR_FILES = sorted(p.name for p in CORPUS.glob("err-*.ini"))

#: For each file that botocore cannot parse: the line rolecall must name, and a word its message must contain.
EXPECTED_ERRORS = {
    "err-bom.ini": (1, "byte-order mark"),
    "err-bad-bytes.ini": (3, "UTF-8"),
    "err-latin1.ini": (3, "UTF-8"),
    "err-content-before-header.ini": (2, "before the first [section] header"),
    "err-duplicate-section.ini": (4, "duplicate section [default] (first at line 1)"),
    "err-duplicate-key.ini": (7, "duplicate key 'region' in [profile dev] (first at line 4)"),
    "err-duplicate-key-in-default-twice.ini": (6, "duplicate key 'a' in [DEFAULT] (first at line 2)"),
    "err-no-delimiter.ini": (3, "not a 'name = value' setting"),
    "err-empty-key.ini": (3, "no name before '='"),
    "err-nested-colon.ini": (5, "nested block 's3'"),
    "err-nested-bad-in-default-section.ini": (4, "in [DEFAULT], the nested block 's3'"),
    "err-duplicate-section-crlf.ini": (4, "duplicate section [a] (first at line 1)"),
    "err-empty-header.ini": (1, "a line starting with '[' that is not a section header"),
}


def botocore_session_config(config: Path, credentials: Path) -> dict[str, Any]:
    session = botocore.session.Session(include_builtin_handlers=False)
    session.set_config_variable("config_file", str(config))
    session.set_config_variable("credentials_file", str(credentials))
    full: dict[str, Any] = session.full_config
    return full


def paths_for(config: Path, credentials: Path, tmp_path: Path) -> AwsPaths:
    return AwsPaths(str(config), str(credentials), str(tmp_path / "cache"), str(tmp_path / "rolecall"))


# --- the corpus ---------------------------------------------------------------------------------------------


def test_corpus_is_big_enough() -> None:
    assert len(OK_FILES) + len(ERROR_FILES) >= 40
    assert set(ERROR_FILES) == set(EXPECTED_ERRORS)


@pytest.mark.parametrize("name", OK_FILES)
def test_corpus_file_reads_as_botocore_reads_it(name: str, tmp_path: Path) -> None:
    path = CORPUS / name
    text = path.read_bytes().decode("utf-8")
    expected_raw = botocore.configloader.raw_config_parse(str(path))
    assert parse_raw(text, str(path)) == expected_raw
    assert read_raw_file(str(path)) == expected_raw
    # Same order of sections and keys (available_profiles, configure list-profiles show it).
    ours = parse_raw(text, str(path))
    assert [(s, list(v)) for s, v in ours.items()] == [(s, list(v)) for s, v in expected_raw.items()]
    expected_config = botocore.configloader.load_config(str(path))
    assert load_config_file(str(path)) == expected_config
    assert list(load_config_file(str(path))["profiles"]) == list(expected_config["profiles"])
    # As the config file, as the credentials file, and as both at once.
    missing = tmp_path / "missing"
    for config, credentials in ((path, missing), (missing, path), (path, path)):
        files = ConfigFiles.load(paths_for(config, credentials, tmp_path))
        expected_full = botocore_session_config(config, credentials)
        assert files.full_config == expected_full
        assert files.profile_names() == list(expected_full["profiles"])


@pytest.mark.parametrize("name", ERROR_FILES)
def test_corpus_error_file_names_file_and_line(name: str) -> None:
    path = CORPUS / name
    with pytest.raises(botocore.exceptions.ConfigParseError):
        botocore.configloader.raw_config_parse(str(path))
    with pytest.raises(ConfigParseError) as caught:
        read_raw_file(str(path))
    line, what = EXPECTED_ERRORS[name]
    message = caught.value.message
    assert message.startswith(f"{path} line {line}: "), message
    assert what in message
    assert caught.value.hint
    assert caught.value.exit_code == ExitCode.CONFIG
    assert "\n" not in message


def test_error_messages_never_echo_values() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    texts = [
        f"aws_secret_access_key = {secret}\n[default]\n",
        f"[default]\n{secret}\n",
        f"[default]\n= {secret}\n",
        f"[default]\ns3 =\n  {secret}\n",
        f"[default]\naws_secret_access_key = {secret}\naws_secret_access_key = {secret}\n",
        f"[{secret}\n",
    ]
    for text in texts:
        with pytest.raises(ConfigParseError) as caught:
            parse_raw(text, "/x/config")
        assert secret not in caught.value.message
        assert secret[:12] not in (caught.value.hint or "")


def test_error_path_is_shortened_to_tilde(aws_home: AwsHome) -> None:
    aws_home.write_config("[default]\nregion = a\nregion = b\n")
    with pytest.raises(ConfigParseError) as caught:
        load_config_file(str(aws_home.config))
    assert caught.value.message == "~/.aws/config line 3: duplicate key 'region' in [default] (first at line 2)"


def test_cli_reports_parse_error_in_one_line_without_traceback(aws_home: AwsHome) -> None:
    aws_home.write_config("[default]\nregion = a\n\n[profile dev]\nx = 1\n[default]\n")
    result = run_rolecall(["configure", "list-profiles"], env=aws_home.env)
    assert result.returncode == ExitCode.CONFIG
    assert "Traceback" not in result.stderr
    assert "~/.aws/config line 6: duplicate section [default] (first at line 1)" in result.stderr
    assert result.stdout == ""


# --- specific semantics -------------------------------------------------------------------------------------


def test_nested_blocks_and_inline_hash() -> None:
    text = "[default]\nregion = us-west-2 # c\ns3 =\n  Signature_Version = s3v4\n  k = a=b\nempty =\n"
    assert parse_raw(text, "c") == {
        "default": {"region": "us-west-2 # c", "s3": {"Signature_Version": "s3v4", "k": "a=b"}, "empty": ""}
    }


def test_continuation_and_blank_lines_inside_a_value() -> None:
    text = "[a]\nfoo = 1\n\n  bar\n# comment\n  region = x\n\nnext = 2\n"
    assert parse_raw(text, "c") == {"a": {"foo": "1\n\nbar\nregion = x", "next": "2"}}


def test_default_section_is_inherited_after_own_keys() -> None:
    text = "[DEFAULT]\nregion = zz\noutput = text\n[profile a]\noutput = json\nx = 1\n"
    raw = parse_raw(text, "c")
    assert raw == {"profile a": {"output": "json", "x": "1", "region": "zz"}}
    assert list(raw["profile a"]) == ["output", "x", "region"]


def test_profile_map_later_section_wins_whole() -> None:
    raw = parse_raw("[default]\nregion = a\nx = 1\n[profile default]\nregion = b\n", "c")
    assert build_profile_map(raw)["profiles"] == {"default": {"region": "b"}}


def test_profile_map_shapes() -> None:
    text = (
        '[default]\n[profile "my profile"]\n[profile a b]\n[sso-session corp]\nx = 1\n'
        "[services local]\n[preview]\n[Default]\n[ profile z]\n"
    )
    config = build_profile_map(parse_raw(text, "c"))
    assert list(config) == ["preview", "Default", " profile z", "profiles", "sso_sessions", "services"]
    assert list(config["profiles"]) == ["default", "my profile"]
    assert config["sso_sessions"] == {"corp": {"x": "1"}}
    assert config["services"] == {"local": {}}


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("profile dev", ["profile", "dev"]),
        ("profile   spaced  ", ["profile", "spaced"]),
        ('profile "my profile"', ["profile", "my profile"]),
        ("profile 'it''s'", ["profile", "its"]),
        ("profile a\\ b", ["profile", "a b"]),
        ('profile "a\\"b\\x"', ["profile", 'a"b\\x']),
        ("profile ''", ["profile", ""]),
        ("profile\tx", ["profile", "x"]),
        ("profile a\xa0b", ["profile", "a\xa0b"]),
    ],
)
def test_split_section_name_examples(name: str, words: list[str]) -> None:
    assert split_section_name(name) == words


@pytest.mark.parametrize("name", ['profile "open', "profile 'open", "profile x\\", 'profile "x\\'])
def test_split_section_name_errors_like_shlex(name: str) -> None:
    with pytest.raises(ValueError):
        split_section_name(name)


# --- files, paths, permissions ------------------------------------------------------------------------------


def test_missing_files_are_empty(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert read_raw_file(str(missing)) is None
    assert load_config_file(str(missing)) == {"profiles": {}, "sso_sessions": {}, "services": {}}
    files = ConfigFiles.load(paths_for(missing, missing, tmp_path))
    assert files.full_config == {"profiles": {}} == botocore_session_config(missing, missing)
    assert files.profile_names() == []
    assert files.credentials == {}


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    assert read_raw_file(str(tmp_path)) is None


def test_dev_null_and_pipes_count_as_missing_like_botocore(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (Path(os.devnull), fifo):  # a pipe must not be waited on
        assert read_raw_file(str(path)) is None
        files = ConfigFiles.load(paths_for(path, path, tmp_path))
        assert files.full_config == botocore_session_config(path, tmp_path / "missing") == {"profiles": {}}


def test_unreadable_file_is_a_file_error(tmp_path: Path) -> None:
    """A real mode-0 file, read by a process the mode binds (root too, see ``file_modes_bind``)."""
    path = tmp_path / "config"
    path.write_text("[default]\n")
    path.chmod(0)
    probe = (
        "import json, sys\n"
        "from rolecall.config.parse import read_raw_file\n"
        "from rolecall.errors import FileError\n"
        "try:\n"
        "    read_raw_file(sys.argv[1])\n"
        "except FileError as error:\n"
        "    print(json.dumps([error.message, error.hint, int(error.exit_code)]))\n"
    )
    done = subprocess.run(
        [*file_modes_bind(), sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    message, hint, exit_code = json.loads(done.stdout)
    assert "permission denied" in message and str(path) in message
    assert hint
    assert exit_code == ExitCode.FILE


def test_unreadable_config_through_the_cli_is_one_line_exit_7(aws_home: AwsHome) -> None:
    config = aws_home.write_config("[default]\nregion = eu-west-1\n")
    config.chmod(0)
    result = run_rolecall(["configure", "get", "region"], env=aws_home.env, modes_bind=True)
    assert result.returncode == ExitCode.FILE, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "(hint: " in result.stderr, result.stderr
    assert "cannot read ~/.aws/config: permission denied" in result.stderr  # shown under HOME as ~
    assert "Traceback" not in result.stderr


def test_permission_denied_is_a_file_error_with_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests run as root, where mode 0 does not stop reading: make the parser's open() refuse as the OS would.
    from rolecall.config import parse

    path = tmp_path / "config"
    path.write_text("[default]\n")

    def refuse(file: str, mode: str = "r") -> Any:
        raise PermissionError(13, "Permission denied", file)

    monkeypatch.setattr(parse, "open", refuse, raising=False)
    with pytest.raises(FileError) as caught:
        read_raw_file(str(path))
    assert caught.value.message == f"cannot read {path}: permission denied"
    assert caught.value.hint and "ls -l" in caught.value.hint


def test_path_through_a_file_is_missing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert read_raw_file(str(blocker / "config")) is None  # ENOTDIR: no such file, as botocore's isfile() says


def test_other_read_failures_are_file_errors(tmp_path: Path) -> None:
    # Runs as root too (where mode 0 does not stop reading): a symlink loop fails with ELOOP.
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(FileError) as caught:
        read_raw_file(str(loop))
    assert str(loop) in caught.value.message
    assert caught.value.hint


def test_config_file_with_variable_and_tilde(aws_home: AwsHome, tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "config").write_text("[profile far]\nregion = eu-north-1\n")
    (aws_home.root / "creds").write_text("[far]\noutput = json\n")
    env = dict(
        aws_home.env, CFGDIR=str(folder), AWS_CONFIG_FILE="$CFGDIR/config", AWS_SHARED_CREDENTIALS_FILE="~/creds"
    )
    files = ConfigFiles.load(AwsPaths.from_env(env))
    assert files.profile("far") == {"region": "eu-north-1", "output": "json"}
    # botocore, given the same environment, agrees.
    script = (
        "import json, botocore.session; s = botocore.session.Session(); "
        "print(json.dumps(s.full_config['profiles']['far']))"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '{"region": "eu-north-1", "output": "json"}'


# --- ConfigFiles ---------------------------------------------------------------------------------------------


def test_credentials_win_and_profile_order(aws_home: AwsHome, tmp_path: Path) -> None:
    aws_home.write_config("[profile b]\nregion = x\n[default]\nregion = d\n[profile a]\nregion = a\n")
    aws_home.write_credentials("[a]\nregion = from-creds\naws_access_key_id = AKIA\n[zz]\nx = 1\n[profile q]\ny = 2\n")
    files = ConfigFiles.load(AwsPaths.from_env(aws_home.env))
    assert files.profile_names() == ["b", "default", "a", "zz", "profile q"]
    assert files.profile("a") == {"region": "from-creds", "aws_access_key_id": "AKIA"}
    assert files.profile("profile q") == {"y": "2"}
    assert files.profile("nope") is None
    # The single-file views are untouched by the merge.
    assert files.config["profiles"]["a"] == {"region": "a"}
    assert files.credentials["a"] == {"region": "from-creds", "aws_access_key_id": "AKIA"}
    assert files.full_config == botocore_session_config(aws_home.config, aws_home.credentials)


def test_require_profile_suggests_close_names(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile production]\n[profile staging]\n[default]\n")
    files = ConfigFiles.load(AwsPaths.from_env(aws_home.env))
    assert files.require_profile("staging") == {}
    with pytest.raises(ProfileNotFoundError) as caught:
        files.require_profile("prodution")
    assert "'prodution'" in caught.value.message
    assert "~/.aws/config" in caught.value.message
    assert caught.value.hint == "Did you mean 'production'?"
    with pytest.raises(ProfileNotFoundError) as caught:
        files.require_profile("qqqqqqqq")
    assert caught.value.hint == "Known profiles: production, staging, default."


def test_require_profile_with_no_profiles(tmp_path: Path) -> None:
    files = ConfigFiles.load(paths_for(tmp_path / "a", tmp_path / "b", tmp_path))
    with pytest.raises(ProfileNotFoundError) as caught:
        files.require_profile("dev")
    assert caught.value.hint and "no profile is defined yet" in caught.value.hint


def test_from_texts() -> None:
    files = ConfigFiles.from_texts("[profile a]\nregion = x\n", "[a]\noutput = json\n")
    assert files.profile("a") == {"region": "x", "output": "json"}
    assert files.config_profile("a") == {"region": "x"}
    assert files.credentials_section("a") == {"output": "json"}
    missing = ConfigFiles.from_texts(None, None)
    assert missing.full_config == {"profiles": {}}
    assert missing.profile_names() == []
    with pytest.raises(ConfigParseError, match="config line 2"):
        ConfigFiles.from_texts("[a]\nx\n", None)


def test_locale_encoding_is_what_open_uses() -> None:
    import locale

    from rolecall.config import parse

    assert parse._locale_encoding().lower() == locale.getpreferredencoding(False).lower()


def test_non_utf8_locale_reads_files_in_its_encoding(tmp_path: Path) -> None:
    """Where the locale is not UTF-8 (Windows), botocore reads with the locale's encoding, and so does rolecall."""
    import configparser

    path = tmp_path / "config"
    path.write_bytes("[default]\nrole_session_name = caf\u00e9\n".encode("cp1252"))
    # botocore's parser on such a system: RawConfigParser reading with the locale's encoding.
    expected = configparser.RawConfigParser()
    expected.read(path, encoding="cp1252")
    assert (
        read_raw_file(str(path), locale_encoding="cp1252")
        == {"default": dict(expected["default"])}
        == {"default": {"role_session_name": "caf\u00e9"}}
    )
    # Bytes the locale's encoding cannot decode either are still an error with the line.
    path.write_bytes(b"[default]\nx = \x81\x8d\n")
    with pytest.raises(ConfigParseError, match="line 2"):
        read_raw_file(str(path), locale_encoding="cp1252")
