"""The format-preserving editor: exact before/after texts, the AWS CLI writer's quirks fixed, file operations."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import botocore.exceptions
import pytest
from botocore.configloader import load_config, raw_config_parse

from rolecall.config.edit import (
    SectionRef,
    apply_changes,
    delete_key,
    remove_section,
    remove_section_text,
    resolve_set,
    set_value,
    update_section,
)
from rolecall.errors import ConfigParseError, InvalidInputError

DEFAULT = SectionRef.profile("default")


def _botocore(tmp_path: Path, text: str) -> dict[str, object]:
    path = tmp_path / "parsed-config"
    path.write_bytes(text.encode())
    return load_config(str(path))


# The AWS CLI's own writer test vectors (tests/unit/customizations/configure/test_writer.py): same bytes out.
@pytest.mark.parametrize(
    ("before", "changes", "after"),
    [
        ("[default]\nfoo = 1\nbar = 1", {"foo": "newvalue"}, "[default]\nfoo = newvalue\nbar = 1"),
        ("[default]\nfoo=1\nbar=2", {"baz": "newvalue"}, "[default]\nfoo=1\nbar=2\nbaz = newvalue\n"),
        ("\n", {"foo": "value"}, "\n[default]\nfoo = value\n"),
        ("", {"foo": "value"}, "[default]\nfoo = value\n"),
        ("", {"s3": {"signature_version": "s3v4"}}, "[default]\ns3 =\n    signature_version = s3v4\n"),
        ("[default]\n#foo = 1\nbar = 1\n", {"foo": "newvalue"}, "[default]\n#foo = 1\nbar = 1\nfoo = newvalue\n"),
        ("[default]\nfoo = [value]\n", {"foo": "[new]"}, "[default]\nfoo = [new]\n"),
    ],
)
def test_aws_cli_writer_vectors(before: str, changes: dict[str, str], after: str) -> None:
    assert apply_changes(before, DEFAULT, changes) == after


def test_new_section_appended_without_blank_line() -> None:
    before = "[preview]\ncloudfront = true"
    assert (
        apply_changes(before, SectionRef.raw("new-section"), {"region": "us-west-2"})
        == "[preview]\ncloudfront = true\n[new-section]\nregion = us-west-2\n"
    )


def test_profile_with_space_gets_shlex_quoted_header(tmp_path: Path) -> None:
    text = apply_changes("", SectionRef.profile("my profile"), {"region": "eu-west-1"})
    assert text == "[profile 'my profile']\nregion = eu-west-1\n"
    assert _botocore(tmp_path, text)["profiles"] == {"my profile": {"region": "eu-west-1"}}


def test_awkward_profile_names_read_back(tmp_path: Path) -> None:
    for name in ['it"s', "back\\slash", "a'b c", "tab\there", "x]y", "#hash"]:
        text = apply_changes("", SectionRef.profile(name), {"region": "r"})
        assert _botocore(tmp_path, text)["profiles"] == {name: {"region": "r"}}, (name, text)


def test_rewritten_line_keeps_its_layout() -> None:
    before = "[default]\n  Region:us-east-1   \noutput\t=\tjson\r\n"
    after = apply_changes(before, DEFAULT, {"region": "eu-west-1", "output": "text"})
    assert after == "[default]\n  Region:eu-west-1\noutput\t=\ttext\r\n"


def test_empty_value_gets_room_and_new_empty_value_has_no_trailing_space() -> None:
    assert apply_changes("[default]\na =\nb=\n", DEFAULT, {"a": "1", "b": "2"}) == "[default]\na = 1\nb=2\n"
    assert apply_changes("[default]\na = 1\n", DEFAULT, {"a": "", "c": ""}) == "[default]\na =\nc =\n"


def test_crlf_kept_and_used_for_new_lines() -> None:
    before = "# top\r\n[default]\r\nregion = a\r\n\r\n[profile x]\r\noutput = json"
    after = apply_changes(before, SectionRef.profile("x"), {"region": "b"})
    assert after == "# top\r\n[default]\r\nregion = a\r\n\r\n[profile x]\r\noutput = json\r\nregion = b\r\n"
    assert "\n" not in after.replace("\r\n", "")


def test_last_line_without_newline_kept_when_edit_is_elsewhere() -> None:
    before = "[default]\nregion = a\n[profile x]\noutput = json"
    assert apply_changes(before, DEFAULT, {"region": "b"}) == "[default]\nregion = b\n[profile x]\noutput = json"


# ---- the AWS CLI writer's quirks (aws-cli-compat.md 2.4), each fixed deliberately (docs/configure.md)


def test_q1_key_differing_in_case_is_updated_not_duplicated(tmp_path: Path) -> None:
    after = apply_changes("[default]\nRegion = us-east-1\n", DEFAULT, {"region": "us-west-2"})
    assert after == "[default]\nRegion = us-west-2\n"
    assert _botocore(tmp_path, after)["profiles"] == {"default": {"region": "us-west-2"}}


def test_q2_indented_header_is_found(tmp_path: Path) -> None:
    after = apply_changes("  [default]\n  region = a\n", DEFAULT, {"output": "json"})
    assert after == "  [default]\n  region = a\n  output = json\n"
    assert _botocore(tmp_path, after)["profiles"] == {"default": {"region": "a", "output": "json"}}


def test_q2_spaced_header_is_not_the_default_profile(tmp_path: Path) -> None:
    # botocore reads `[ default ]` as a section named " default ", not as the default profile.
    after = apply_changes("[ default ]\nregion = a\n", DEFAULT, {"region": "b"})
    assert after == "[ default ]\nregion = a\n[default]\nregion = b\n"
    assert _botocore(tmp_path, after)["profiles"] == {"default": {"region": "b"}}


def test_q3_double_quoted_and_spaced_headers_are_found(tmp_path: Path) -> None:
    before = '[profile "my profile"]\noutput = json\n[profile   dev  ]\nregion = a\n'
    after = apply_changes(before, SectionRef.profile("my profile"), {"region": "b"})
    assert after == '[profile "my profile"]\noutput = json\nregion = b\n[profile   dev  ]\nregion = a\n'
    after = apply_changes(after, SectionRef.profile("dev"), {"region": "c"})
    assert _botocore(tmp_path, after)["profiles"] == {
        "my profile": {"output": "json", "region": "b"},
        "dev": {"region": "c"},
    }


def test_the_section_botocore_reads_is_edited_when_a_profile_appears_twice(tmp_path: Path) -> None:
    before = "[profile dev]\nregion = a\n[profile 'dev']\noutput = json\n"
    after = apply_changes(before, SectionRef.profile("dev"), {"region": "b"})
    assert after == "[profile dev]\nregion = a\n[profile 'dev']\noutput = json\nregion = b\n"
    assert _botocore(tmp_path, after)["profiles"] == {"dev": {"output": "json", "region": "b"}}


def test_q4_scalar_over_nested_block_replaces_it(tmp_path: Path) -> None:
    before = "[default]\ns3 =\n    max_concurrency = 10\n  # note\n    addressing_style = path\nregion = a\n"
    after = apply_changes(before, DEFAULT, {"s3": "x"})
    assert after == "[default]\ns3 = x\n  # note\nregion = a\n"
    assert _botocore(tmp_path, after)["profiles"] == {"default": {"s3": "x", "region": "a"}}


def test_q4_nested_over_scalar_replaces_it(tmp_path: Path) -> None:
    after = apply_changes("[default]\ns3 = x\nregion = a\n", DEFAULT, {"s3": {"max_concurrency": "10"}})
    assert after == "[default]\ns3 =\n    max_concurrency = 10\nregion = a\n"
    assert _botocore(tmp_path, after)["profiles"] == {"default": {"s3": {"max_concurrency": "10"}, "region": "a"}}


def test_multiline_scalar_value_replaced_whole(tmp_path: Path) -> None:
    after = apply_changes("[default]\nfoo = 1\n  more\n\n  again\nbar = 2\n", DEFAULT, {"foo": "9"})
    assert after == "[default]\nfoo = 9\nbar = 2\n"


def test_q5_top_level_key_not_confused_with_nested_sub_key(tmp_path: Path) -> None:
    before = "[default]\ns3 =\n    region = a\nregion = b\n"
    after = apply_changes(before, DEFAULT, {"region": "c"})
    assert after == "[default]\ns3 =\n    region = a\nregion = c\n"
    assert _botocore(tmp_path, after)["profiles"] == {"default": {"s3": {"region": "a"}, "region": "c"}}


def test_q6_indented_bracket_line_is_a_continuation_not_a_header(tmp_path: Path) -> None:
    before = "[default]\nfoo = 1\n  [x]\n"
    after = apply_changes(before, DEFAULT, {"bar": "2"})
    assert after == "[default]\nfoo = 1\n  [x]\nbar = 2\n"
    assert _botocore(tmp_path, after)["profiles"] == {"default": {"foo": "1\n[x]", "bar": "2"}}


def test_q8_nested_key_added_to_block_at_end_of_file(tmp_path: Path) -> None:
    for before in ("[default]\ns3 =", "[default]\ns3 =\n", "[default]\ns3 =\n\n\n"):
        after = apply_changes(before, DEFAULT, {"s3": {"max_concurrency": "10"}})
        assert after.startswith("[default]\ns3 =\n    max_concurrency = 10\n")
        assert _botocore(tmp_path, after)["profiles"] == {"default": {"s3": {"max_concurrency": "10"}}}


def test_nested_sub_key_updated_in_place_and_new_one_copies_layout() -> None:
    before = "[default]\ns3 =\n\tmax_concurrency=10\n\taddressing_style=path\n\n[x]\n"
    after = apply_changes(before, DEFAULT, {"s3": {"max_concurrency": "20", "use_accelerate_endpoint": "true"}})
    assert after == (
        "[default]\ns3 =\n\tmax_concurrency=20\n\taddressing_style=path\n\tuse_accelerate_endpoint=true\n\n[x]\n"
    )


def test_new_key_after_last_key_before_trailing_comments() -> None:
    before = "[default]\n# about region\nregion = a\n\n# about dev\n[profile dev]\n"
    after = apply_changes(before, DEFAULT, {"output": "json"})
    assert after == "[default]\n# about region\nregion = a\noutput = json\n\n# about dev\n[profile dev]\n"


def test_new_key_in_empty_section_goes_right_after_header() -> None:
    assert apply_changes("[default]\n# c\n[x]\n", DEFAULT, {"a": "1"}) == "[default]\na = 1\n# c\n[x]\n"


def test_delete_key_and_sub_key(tmp_path: Path) -> None:
    before = "[default]\nregion = a\n  cont\ns3 =\n    a = 1\n    b = 2\noutput = json\n"
    after = apply_changes(before, DEFAULT, {"region": None, "s3": {"a": None}})
    assert after == "[default]\ns3 =\n    b = 2\noutput = json\n"
    assert apply_changes(before, SectionRef.profile("nope"), {"region": None}) == before


def test_remove_section_keeps_neighbours_and_their_comments(tmp_path: Path) -> None:
    before = "[a]\nx=1\n\n[profile b]\ny=2\n# inside\nz=3\n\n# about c\n[c]\nz=1\n[profile 'b']\nw=1"
    after = remove_section_text(before, SectionRef.profile("b"))
    assert after == "[a]\nx=1\n\n# about c\n[c]\nz=1\n"
    assert "b" not in _botocore(tmp_path, after)["profiles"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("region", "a\nb"),
        ("region", "a\rb"),
        ("region", "a\u2028b"),
        ("re\ngion", "x"),
        ("a=b", "x"),
        ("a:b", "x"),
        ("#x", "x"),
        ("[x", "x"),
        (" region", "x"),
        ("", "x"),
    ],
)
def test_unwritable_keys_and_values_refused(key: str, value: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        apply_changes("[default]\n", DEFAULT, {key: value})
    assert info.value.hint
    assert "\n" not in info.value.message


def test_newline_in_section_name_or_sub_key_refused() -> None:
    with pytest.raises(InvalidInputError):
        apply_changes("", SectionRef.profile("a\nb"), {"region": "x"})
    with pytest.raises(InvalidInputError):
        apply_changes("", DEFAULT, {"s3": {"a=b": "x"}})


@pytest.mark.parametrize(
    "text",
    ["region = a\n[default]\n", "[default]\nregion\n", "[a]\n[a]\n", "[a]\nx=1\nX=2\n", "[a]\ns3 =\n  bad\n"],
)
def test_unparseable_text_refused_with_line(text: str, tmp_path: Path) -> None:
    path = tmp_path / "bad"
    path.write_text(text)
    with pytest.raises(botocore.exceptions.ConfigParseError):  # botocore agrees the file is broken
        raw_config_parse(str(path))
    with pytest.raises(ConfigParseError) as info:
        apply_changes(text, DEFAULT, {"output": "json"}, str(path))
    assert "line" in info.value.message and info.value.hint


# ---- routing


@pytest.mark.parametrize(
    ("varname", "profile", "expected"),
    [
        ("region", None, (False, SectionRef.profile("default"), "region", None)),
        ("region", "dev", (False, SectionRef.profile("dev"), "region", None)),
        ("aws_access_key_id", "dev", (True, SectionRef.raw("dev"), "aws_access_key_id", None)),
        ("aws_security_token", None, (True, SectionRef.raw("default"), "aws_security_token", None)),
        ("aws_account_id", None, (False, SectionRef.profile("default"), "aws_account_id", None)),
        ("default.region", "dev", (False, SectionRef.profile("default"), "region", None)),
        ("default.s3.max_concurrency", None, (False, SectionRef.profile("default"), "s3", "max_concurrency")),
        ("profile.a b.region", None, (False, SectionRef.profile("a b"), "region", None)),
        ("profile.dev.aws_session_token", None, (True, SectionRef.raw("dev"), "aws_session_token", None)),
        ("s3.max_concurrency", "dev", (False, SectionRef.profile("dev"), "s3", "max_concurrency")),
        ("plugins.endpoint", "dev", (False, SectionRef.raw("plugins"), "endpoint", None)),
        ("preview.cloudsearch", None, (False, SectionRef.raw("preview"), "cloudsearch", None)),
    ],
)
def test_resolve_set(varname: str, profile: str | None, expected: tuple[object, ...]) -> None:
    target = resolve_set(varname, profile)
    assert (target.credentials_file, target.section, target.key, target.subkey) == expected


@pytest.mark.parametrize("varname", ["profile.dev", "a.b.c", "default.a.b.c", "plugins.a.b", "default.", "x=y"])
def test_resolve_set_refuses_unroutable_names(varname: str) -> None:
    with pytest.raises(InvalidInputError):
        resolve_set(varname, None)


# ---- file operations


def test_new_files_and_folders_private_existing_mode_kept(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        config = tmp_path / "new" / "config"
        set_value(str(config), DEFAULT, "region", "a")
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
        os.chmod(config, 0o640)
        set_value(str(config), DEFAULT, "output", "json")
        assert stat.S_IMODE(config.stat().st_mode) == 0o640
    finally:
        os.umask(old_umask)
    assert config.read_text() == "[default]\nregion = a\noutput = json\n"


def test_credentials_permission_warning_through_reporter(tmp_path: Path) -> None:
    creds = tmp_path / "credentials"
    creds.write_text("[default]\n")
    os.chmod(creds, 0o644)
    lines: list[str] = []
    update_section(
        str(creds),
        SectionRef.raw("default"),
        {"aws_access_key_id": "AKIA"},
        reporter=lines.append,
        check_permissions=True,
    )
    assert len(lines) == 1 and "chmod 600" in lines[0] and "AKIA" not in lines[0]
    os.chmod(creds, 0o600)
    lines.clear()
    update_section(
        str(creds),
        SectionRef.raw("default"),
        {"aws_access_key_id": "AKIB"},
        reporter=lines.append,
        check_permissions=True,
    )
    assert lines == []


def test_file_ops_delete_and_remove(tmp_path: Path) -> None:
    config = tmp_path / "config"
    assert delete_key(str(config), DEFAULT, "region") is False
    assert not config.exists()
    assert remove_section(str(config), DEFAULT) is False
    config.write_text("# keep\n[default]\nregion = a\noutput = json\n[profile x]\nregion = b\n")
    assert delete_key(str(config), DEFAULT, "Region") is True
    assert delete_key(str(config), DEFAULT, "region") is False
    assert remove_section(str(config), SectionRef.profile("x")) is True
    assert config.read_text() == "# keep\n[default]\noutput = json\n"


def test_file_with_bad_syntax_left_alone(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("region = a\n")
    with pytest.raises(ConfigParseError):
        set_value(str(config), DEFAULT, "region", "b")
    assert config.read_text() == "region = a\n"


def test_indented_keys_keep_their_indentation(tmp_path: Path) -> None:
    # aws rewrites `  region = x` at column 0, which turns the indented keys below into its value.
    before = "[default]\n  region = us-east-1\n  output = json\n"
    after = apply_changes(before, DEFAULT, {"region": "us-west-2", "cli_pager": ""})
    assert after == "[default]\n  region = us-west-2\n  output = json\n  cli_pager =\n"
    assert _botocore(tmp_path, after)["profiles"] == {
        "default": {"region": "us-west-2", "output": "json", "cli_pager": ""}
    }


def test_raw_DEFAULT_section_refused() -> None:
    # configparser's [DEFAULT] is inherited by every section: credentials written there would leak everywhere.
    with pytest.raises(InvalidInputError):
        apply_changes("", SectionRef.raw("DEFAULT"), {"aws_access_key_id": "x"})
    assert apply_changes("", SectionRef.profile("DEFAULT"), {"region": "x"}) == "[profile DEFAULT]\nregion = x\n"


def test_an_edit_that_would_not_read_back_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate an editor bug: the edit drops the value. The independent reader catches it before writing.
    import rolecall.config.edit as edit

    config = tmp_path / "config"
    config.write_text("[default]\nregion = a\n")
    monkeypatch.setattr(edit, "apply_changes", lambda text, section, changes, path="": text + "output = wrong\n")
    with pytest.raises(edit.ConfigError) as info:
        set_value(str(config), DEFAULT, "output", "json")
    assert "internal error" in info.value.message and info.value.hint
    assert config.read_text() == "[default]\nregion = a\n"
