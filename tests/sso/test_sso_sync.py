"""rolecall.sso.sync: collecting assignments, naming profiles, and the rolecall-owned block of the config file.

Files are real files in tmp_path; botocore itself (``raw_config_parse``, ``build_profile_map``, a ``Session``
with ``config_file`` set) is the oracle for what the written file means.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.configloader import build_profile_map, raw_config_parse

from rolecall.errors import AwsError, ConfigError, ConfigParseError, InvalidInputError
from rolecall.fileio import LockTimeoutError, exclusive_lock
from rolecall.sso.sync import (
    TEMPLATE_FIELDS,
    Assignment,
    GeneratedProfile,
    apply_block,
    begin_marker,
    collect_assignments,
    end_marker,
    plan_profiles,
    safe_profile_name,
    sync_config_file,
)

SESSION = "corp"
BEGIN = "# BEGIN rolecall sso sync (sso-session corp): generated, edits inside are replaced"
END = "# END rolecall sso sync (sso-session corp)"

ASSIGNMENTS = [
    Assignment("111111111111", "Dev", "Admin", "dev@example.com"),
    Assignment("111111111111", "Dev", "ReadOnly", "dev@example.com"),
    Assignment("222222222222", "Prod", "ReadOnly", "prod@example.com"),
]


# --------------------------------------------------------------------------------------------------------------
# Helpers


def _botocore_profiles(path: Path) -> dict[str, Any]:
    """What botocore reads from the file: raw_config_parse + build_profile_map (the oracle)."""
    profiles: dict[str, Any] = build_profile_map(raw_config_parse(str(path)))["profiles"]
    return profiles


def _without_block(text: str, session: str = SESSION) -> str:
    """``text`` with the lines from the session's BEGIN marker to its END marker (inclusive) removed."""
    lines = text.splitlines(keepends=True)
    begin = next(i for i, line in enumerate(lines) if line.rstrip("\r\n") == begin_marker(session))
    end = next(i for i, line in enumerate(lines) if line.rstrip("\r\n") == end_marker(session))
    return "".join(lines[:begin] + lines[end + 1 :])


def _block(text: str, session: str = SESSION) -> str:
    lines = text.splitlines(keepends=True)
    begin = next(i for i, line in enumerate(lines) if line.rstrip("\r\n") == begin_marker(session))
    end = next(i for i, line in enumerate(lines) if line.rstrip("\r\n") == end_marker(session))
    return "".join(lines[begin : end + 1])


def _apply_diff(old: str, diff: str) -> str:
    """Apply a unified diff (as ``patch`` would) to ``old``; checks every context and removed line."""
    source = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z", old)
    lines = re.findall(r"[^\n]*\n", diff)
    assert lines[0].startswith("--- ") and lines[1].startswith("+++ ")
    out: list[str] = []
    pos = 0
    k = 2
    while k < len(lines):
        hunk = re.fullmatch(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@\n", lines[k])
        assert hunk, lines[k]
        start = int(hunk.group(1)) - (1 if hunk.group(2) != "0" else 0)
        out.extend(source[pos:start])
        pos = start
        k += 1
        while k < len(lines) and not lines[k].startswith("@@"):
            line = lines[k][1:]
            kind = lines[k][0]
            k += 1
            if k < len(lines) and lines[k] == "\\ No newline at end of file\n":
                line = line[:-1]
                k += 1
            if kind in " -":
                assert source[pos] == line, (source[pos], line)
                pos += 1
            if kind in " +":
                out.append(line)
    out.extend(source[pos:])
    return "".join(out)


def _profiles(assignments: list[Assignment] = ASSIGNMENTS, **kwargs: Any) -> list[GeneratedProfile]:
    kwargs.setdefault("sso_session", SESSION)
    return plan_profiles(assignments, **kwargs)


def _age(path: Path) -> int:
    """Set the file's mtime far in the past, so that any rewrite shows; returns the mtime in ns."""
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    return path.stat().st_mtime_ns


# --------------------------------------------------------------------------------------------------------------
# plan_profiles


def test_plan_default_template_and_value_order() -> None:
    profiles = _profiles()
    assert [p.name for p in profiles] == ["Dev-Admin", "Dev-ReadOnly", "Prod-ReadOnly"]
    assert profiles[0].values == (
        ("sso_session", "corp"),
        ("sso_account_id", "111111111111"),
        ("sso_role_name", "Admin"),
    )


def test_plan_every_template_field_and_region() -> None:
    template = "{sso_session}.{account_name}.{account_id}.{role_name}.{email}"
    (profile,) = _profiles(ASSIGNMENTS[:1], template=template, region="eu-west-1")
    assert profile.name == "corp.Dev.111111111111.Admin.dev@example.com"
    assert profile.values[-1] == ("region", "eu-west-1")
    assert [key for key, _ in profile.values] == ["sso_session", "sso_account_id", "sso_role_name", "region"]
    assert set(TEMPLATE_FIELDS) == {"account_name", "account_id", "role_name", "sso_session", "email"}


def test_plan_missing_email_is_empty_and_format_specs_work() -> None:
    (profile,) = _profiles([Assignment("123456789012", "Dev", "Admin")], template="{account_id:.4}-{role_name}{email}")
    assert profile.name == "1234-Admin"


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("{account}-{role_name}", "{account}"),
        ("{role}", "{role}"),
        ("{account_name.upper}", "{account_name.upper}"),
        ("{account_name[0]}", "{account_name[0]}"),
        ("{}-{role_name}", "{}"),
        ("{0}", "{0}"),
    ],
)
def test_plan_unknown_field_is_refused(template: str, named: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _profiles(template=template)
    assert named in caught.value.message
    assert "\n" not in caught.value.message
    assert caught.value.hint is not None
    assert all("{" + field + "}" in caught.value.hint for field in TEMPLATE_FIELDS)


@pytest.mark.parametrize("template", ["{account_name", "account_name}", "{account_id!x}", "{account_id:d}"])
def test_plan_bad_format_string_is_refused(template: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _profiles(template=template)
    assert "template" in caught.value.message
    assert caught.value.hint and "{account_id}" in caught.value.hint


def test_plan_refuses_a_bad_template_even_without_assignments() -> None:
    with pytest.raises(InvalidInputError):
        plan_profiles([], sso_session=SESSION, template="{nope}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Acme Corp (Prod)", "Acme-Corp-Prod"),
        ("  [weird] name  ", "weird-name"),
        ('say "hi"', "say-hi"),
        ("it's", "it-s"),
        ("a#b;c", "a-b-c"),
        ("tab\there", "tab-here"),
        ("back\\slash", "back-slash"),
        ("Zürich Ünit", "Zürich-Ünit"),
        ("Zu\u0308rich", "Zürich"),  # decomposed ü: NFC makes it one letter, kept
        ("東京 本番", "東京-本番"),
        ("non\u00a0break", "non-break"),
        ("line\u2028sep", "line-sep"),
        ("Mixed.Case_ok+=,@-x", "Mixed.Case_ok+=,@-x"),
        ("---", ""),
    ],
)
def test_safe_profile_name(text: str, expected: str) -> None:
    assert safe_profile_name(text) == expected


def test_sanitised_names_read_back_verbatim_by_botocore(tmp_path: Path) -> None:
    names = [
        "Acme Corp (Prod)",
        "[brackets]",
        'quote"d',
        "apo'strophe",
        "hash # and ; semi",
        "Zürich Ünit",
        "東京",
        "emoji 🚀 rocket",
        "back\\slash",
        "equals=comma,at@dot.plus+",
        "DEFAULT",
        "profile",
    ]
    assignments = [Assignment(f"{n:012d}", name, "Admin") for n, name in enumerate(names)]
    profiles = _profiles(assignments)
    config = tmp_path / "config"
    sync_config_file(str(config), SESSION, profiles)
    read = _botocore_profiles(config)
    assert set(read) == {p.name for p in profiles}
    for profile in profiles:
        assert read[profile.name] == dict(profile.values)
        assert "-" not in (profile.name[0], profile.name[-1])
        assert not re.search(r"[\s\"'\\\[\]#;]", profile.name)
    assert "Acme-Corp-Prod-Admin" in read
    assert "Zürich-Ünit-Admin" in read


def test_plan_duplicate_names_are_refused() -> None:
    assignments = [Assignment("111111111111", "Acme Corp", "Admin"), Assignment("222222222222", "Acme-Corp", "Admin")]
    with pytest.raises(InvalidInputError) as caught:
        _profiles(assignments)
    message = caught.value.message
    assert "'Acme-Corp-Admin'" in message
    assert "111111111111" in message and "222222222222" in message
    assert caught.value.hint and "{account_id}" in caught.value.hint
    # The hint's way out works.
    named = _profiles(assignments, template="{account_name}-{account_id}-{role_name}")
    assert [p.name for p in named] == ["Acme-Corp-111111111111-Admin", "Acme-Corp-222222222222-Admin"]


def test_plan_empty_name_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="empty name"):
        _profiles([Assignment("111111111111", "!!!", "Admin")], template="{account_name}")
    with pytest.raises(InvalidInputError, match="empty name"):
        _profiles(template="")


@pytest.mark.parametrize("region", ["", "eu west 1", "us-east-1\n", "-eu"])
def test_plan_bad_region_is_refused(region: str) -> None:
    with pytest.raises(InvalidInputError, match="region"):
        _profiles(region=region)


@pytest.mark.parametrize("session", ["", " corp", "co\nrp"])
def test_plan_bad_session_is_refused(session: str) -> None:
    with pytest.raises(InvalidInputError, match="sso-session"):
        plan_profiles(ASSIGNMENTS, sso_session=session)


def test_plan_refuses_values_that_would_break_the_file() -> None:
    with pytest.raises(InvalidInputError):
        _profiles([Assignment("111111111111", "Dev", "Admin\n[profile x]")])


# --------------------------------------------------------------------------------------------------------------
# apply_block: the text transform


def test_apply_block_new_text_layout() -> None:
    assert apply_block("", SESSION, _profiles(region="eu-west-1")) == (
        f"{BEGIN}\n"
        "[profile Dev-Admin]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\n"
        "region = eu-west-1\n"
        "\n"
        "[profile Dev-ReadOnly]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n"
        "region = eu-west-1\n"
        "\n"
        "[profile Prod-ReadOnly]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n"
        "region = eu-west-1\n"
        f"{END}\n"
    )


@pytest.mark.parametrize(
    ("before", "separator"),
    [
        ("[default]\nregion = eu-west-1\n", "\n"),  # one blank line before the block
        ("[default]\nregion = eu-west-1\n\n", ""),  # already there: not two
        ("[default]\nregion = eu-west-1", "\n\n"),  # last line without newline: ended, then the blank line
        ("\n", ""),
    ],
)
def test_apply_block_appends_after_one_blank_line(before: str, separator: str) -> None:
    after = apply_block(before, SESSION, _profiles())
    assert after.startswith(before + separator + BEGIN + "\n")
    assert after.endswith(END + "\n")


def test_apply_block_crlf_text_gets_a_crlf_block() -> None:
    before = "# mine\r\n[default]\r\nregion = eu-west-1\r\n"
    after = apply_block(before, SESSION, _profiles())
    assert after.startswith(before + "\r\n" + BEGIN + "\r\n")
    assert "\n" not in after.replace("\r\n", "")
    assert _without_block(after) == before + "\r\n"
    assert apply_block(after, SESSION, _profiles()) == after


def test_apply_block_without_profiles() -> None:
    text = "[default]\nregion = eu-west-1\n"
    assert apply_block(text, SESSION, []) == text  # no block, nothing to write
    with_block = apply_block(text, SESSION, _profiles())
    emptied = apply_block(with_block, SESSION, [])
    assert emptied == text + "\n" + BEGIN + "\n" + END + "\n"


def test_apply_block_is_idempotent_and_replaces_in_place() -> None:
    text = "[default]\nregion = eu-west-1\n"
    first = apply_block(text, SESSION, _profiles())
    moved = "# head\n" + first + "\n# tail comment\n[profile later]\nregion = us-east-1\n"
    assert apply_block(moved, SESSION, _profiles()) == moved
    updated = apply_block(moved, SESSION, _profiles(ASSIGNMENTS[:1]))
    assert _without_block(updated) == _without_block(moved)
    assert "Dev-ReadOnly" not in updated and "[profile Dev-Admin]" in updated


def test_apply_block_refuses_unparsable_text() -> None:
    with pytest.raises(ConfigParseError, match="line 1"):
        apply_block("region = eu-west-1\n", SESSION, _profiles())


def test_apply_block_refuses_profiles_it_could_not_hold() -> None:
    bad_name = GeneratedProfile("my profile", (("sso_session", SESSION),))
    with pytest.raises(InvalidInputError, match="verbatim"):
        apply_block("", SESSION, [bad_name])
    twice = _profiles(ASSIGNMENTS[:1]) * 2
    with pytest.raises(InvalidInputError, match="twice"):
        apply_block("", SESSION, twice)
    bad_value = GeneratedProfile("x", (("sso_role_name", "a\nb"),))
    with pytest.raises(InvalidInputError):
        apply_block("", SESSION, [bad_value])


def test_default_section_keys_are_allowed_into_generated_profiles(tmp_path: Path) -> None:
    # botocore gives [DEFAULT]'s keys to every section; the check before writing must expect that.
    config = tmp_path / "config"
    config.write_text("[DEFAULT]\noutput = json\n\n[default]\nregion = eu-west-1\n")
    sync_config_file(str(config), SESSION, _profiles())
    assert _botocore_profiles(config)["Dev-Admin"]["output"] == "json"


# --------------------------------------------------------------------------------------------------------------
# sync_config_file: the file


def test_new_file_is_created_private(tmp_path: Path) -> None:
    config = tmp_path / "new" / "aws" / "config"
    old_umask = os.umask(0o022)
    try:
        result = sync_config_file(str(config), SESSION, _profiles())
    finally:
        os.umask(old_umask)
    assert result.written
    assert result.added == ["Dev-Admin", "Dev-ReadOnly", "Prod-ReadOnly"]
    assert (result.removed, result.changed, result.unchanged) == ([], [], 0)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    text = config.read_text()
    assert text.startswith(BEGIN + "\n") and text.endswith(END + "\n")
    assert _apply_diff("", result.diff) == text
    assert sorted(p.name for p in config.parent.iterdir()) == ["config", "config.lock"]


def test_existing_file_outside_the_block_stays_byte_for_byte(tmp_path: Path) -> None:
    config = tmp_path / "config"
    original = (
        "# My AWS config; do not touch\n"
        "[default]\n"
        "region = eu-west-1   \n"
        "  ; indented comment\n"
        "\n"
        "\n"
        "[profile  spaced ]\n"
        "role_arn=arn:aws:iam::123456789012:role/x\n"
        "s3 =\n"
        "    max_concurrency = 10\n"
        "\n"
        "[sso-session corp]\n"
        "sso_start_url = https://example.awsapps.com/start\n"
        "sso_region = eu-west-1\n"
        "# trailing comment"
    )
    config.write_text(original)
    sync_config_file(str(config), SESSION, _profiles())
    first = config.read_text()
    assert first.startswith(original + "\n\n" + BEGIN)
    # A second sync with other profiles changes the block only: compare with the block removed.
    result = sync_config_file(str(config), SESSION, _profiles(ASSIGNMENTS[1:], region="us-east-1"))
    second = config.read_text()
    assert result.written
    assert _without_block(second) == _without_block(first) == original + "\n\n"
    read = _botocore_profiles(config)
    assert read["spaced"]["s3"] == {"max_concurrency": "10"}
    assert read["default"] == {"region": "eu-west-1"}
    assert set(read) == {"default", "spaced", "Dev-ReadOnly", "Prod-ReadOnly"}


def test_block_in_the_middle_is_updated_in_place(tmp_path: Path) -> None:
    config = tmp_path / "config"
    block = apply_block("", SESSION, _profiles())
    original = "[default]\nregion = eu-west-1\n\n" + block + "\n# about later\n[profile later]\nregion = x-y-1\n"
    config.write_text(original)
    sync_config_file(str(config), SESSION, _profiles(ASSIGNMENTS[:2]))
    text = config.read_text()
    assert _without_block(text) == _without_block(original)
    assert text.index(BEGIN) == original.index(BEGIN)
    assert set(_botocore_profiles(config)) == {"default", "later", "Dev-Admin", "Dev-ReadOnly"}


def test_crlf_file(tmp_path: Path) -> None:
    config = tmp_path / "config"
    original = b"# crlf\r\n[default]\r\nregion = eu-west-1\r\n"
    config.write_bytes(original)
    sync_config_file(str(config), SESSION, _profiles())
    data = config.read_bytes()
    assert data.startswith(original + b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")  # every line of the block ends CRLF too
    assert _without_block(data.decode()).encode() == original + b"\r\n"
    assert set(_botocore_profiles(config)) == {"default", "Dev-Admin", "Dev-ReadOnly", "Prod-ReadOnly"}
    mtime = _age(config)
    again = sync_config_file(str(config), SESSION, _profiles())
    assert not again.written and config.read_bytes() == data and config.stat().st_mtime_ns == mtime


def test_no_trailing_newline(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_bytes(b"[default]\nregion = eu-west-1")
    result = sync_config_file(str(config), SESSION, _profiles())
    text = config.read_text()
    assert text.startswith("[default]\nregion = eu-west-1\n\n" + BEGIN + "\n")
    assert _botocore_profiles(config)["default"] == {"region": "eu-west-1"}
    assert "\\ No newline at end of file" in result.diff
    assert _apply_diff("[default]\nregion = eu-west-1", result.diff) == text


def test_end_marker_as_last_line_without_newline(tmp_path: Path) -> None:
    config = tmp_path / "config"
    text = apply_block("[default]\nregion = eu-west-1\n", SESSION, _profiles())
    config.write_text(text.rstrip("\n"))
    result = sync_config_file(str(config), SESSION, _profiles())
    assert result.written and config.read_text() == text
    assert not sync_config_file(str(config), SESSION, _profiles()).written


def test_second_run_is_a_no_op(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("# mine\n[default]\nregion = eu-west-1\n")
    sync_config_file(str(config), SESSION, _profiles(region="eu-west-1"))
    data = config.read_bytes()
    mtime = _age(config)
    inode = config.stat().st_ino
    result = sync_config_file(str(config), SESSION, _profiles(region="eu-west-1"))
    assert result.written is False
    assert result.diff == ""
    assert (result.added, result.removed, result.changed, result.unchanged) == ([], [], [], 3)
    assert config.read_bytes() == data
    assert config.stat().st_mtime_ns == mtime and config.stat().st_ino == inode


def test_update_reports_added_removed_changed_and_the_diff_shows_them(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    before = [
        Assignment("111111111111", "Dev", "Admin"),
        Assignment("111111111111", "Dev", "ReadOnly"),
        Assignment("222222222222", "Prod", "ReadOnly"),
        Assignment("333333333333", "Sandbox", "Admin"),
    ]
    sync_config_file(str(config), SESSION, _profiles(before))
    # A hand edit inside the block: the profile reads differently, so it is "changed", and it is put back.
    edited = config.read_text().replace(
        "sso_account_id = 333333333333\nsso_role_name = Admin", "sso_account_id = 333333333333\nsso_role_name = Hacked"
    )
    config.write_text(edited)
    after = [
        Assignment("111111111111", "Dev", "Admin"),  # Dev/ReadOnly removed
        Assignment("111111111111", "Dev", "PowerUser"),  # added
        Assignment("222222222222", "Production", "ReadOnly"),  # account renamed
        Assignment("333333333333", "Sandbox", "Admin"),
    ]
    result = sync_config_file(str(config), SESSION, _profiles(after))
    assert result.written
    assert result.added == ["Dev-PowerUser", "Production-ReadOnly"]
    assert result.removed == ["Dev-ReadOnly", "Prod-ReadOnly"]
    assert result.changed == ["Sandbox-Admin"]
    assert result.unchanged == 1
    diff_lines = result.diff.splitlines()
    assert diff_lines[0] == f"--- {config}" and diff_lines[1] == f"+++ {config}"
    for line in ("-[profile Dev-ReadOnly]", "+[profile Dev-PowerUser]", "-[profile Prod-ReadOnly]"):
        assert line in diff_lines
    assert "+[profile Production-ReadOnly]" in diff_lines
    assert "-sso_role_name = Hacked" in diff_lines and "+sso_role_name = Admin" in diff_lines
    assert " [profile Dev-Admin]" not in diff_lines[:3]
    assert _apply_diff(edited, result.diff) == config.read_text()
    read = _botocore_profiles(config)
    assert set(read) == {"default", "Dev-Admin", "Dev-PowerUser", "Production-ReadOnly", "Sandbox-Admin"}
    assert read["Sandbox-Admin"]["sso_role_name"] == "Admin"


def test_two_sessions_coexist_and_each_is_updated_alone(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    other = [Assignment("999999999999", "Partner", "Viewer")]
    sync_config_file(str(config), SESSION, _profiles())
    sync_config_file(str(config), "partner", _profiles(other, sso_session="partner", template="p-{account_name}"))
    both = config.read_text()
    partner_block = _block(both, "partner")
    assert both.index(BEGIN) < both.index(begin_marker("partner"))
    sync_config_file(str(config), SESSION, _profiles(ASSIGNMENTS[:1]))
    updated = config.read_text()
    assert _block(updated, "partner") == partner_block
    assert _without_block(updated) == _without_block(both)
    read = _botocore_profiles(config)
    assert set(read) == {"default", "Dev-Admin", "p-Partner"}
    assert read["p-Partner"]["sso_session"] == "partner"
    # Profiles of the other session's block count as outside this one.
    with pytest.raises(ConfigError, match="p-Partner"):
        sync_config_file(str(config), SESSION, _profiles(other, template="p-{account_name}"))


@pytest.mark.parametrize(
    ("outside", "template", "clash"),
    [
        ("[profile Dev-Admin]\nregion = eu-west-1\n", "{account_name}-{role_name}", "Dev-Admin"),
        ("[profile  Dev-Admin ]\nregion = eu-west-1\n", "{account_name}-{role_name}", "Dev-Admin"),
        ('[profile "Dev-Admin"]\nregion = eu-west-1\n', "{account_name}-{role_name}", "Dev-Admin"),
        ("[default]\nregion = eu-west-1\n", "default", "default"),
        ("[profile default]\nregion = eu-west-1\n", "default", "default"),
    ],
)
def test_collision_with_a_profile_outside_the_block_is_refused(
    tmp_path: Path, outside: str, template: str, clash: str
) -> None:
    config = tmp_path / "config"
    config.write_text(outside)
    mtime = _age(config)
    with pytest.raises(ConfigError) as caught:
        sync_config_file(str(config), SESSION, _profiles(ASSIGNMENTS[:1], template=template))
    assert f"'{clash}'" in caught.value.message and str(config) in caught.value.message
    assert caught.value.hint and "--template" in caught.value.hint
    assert config.read_text() == outside and config.stat().st_mtime_ns == mtime


def test_collision_also_when_the_profile_was_added_after_a_sync(tmp_path: Path) -> None:
    config = tmp_path / "config"
    sync_config_file(str(config), SESSION, _profiles())
    spoiled = config.read_text() + "\n[profile  Dev-Admin ]\nregion = eu-west-1\n"
    config.write_text(spoiled)
    with pytest.raises(ConfigError, match="Dev-Admin"):
        sync_config_file(str(config), SESSION, _profiles())
    assert config.read_text() == spoiled


def test_many_collisions_are_summarised(tmp_path: Path) -> None:
    config = tmp_path / "config"
    assignments = [Assignment(f"{n:012d}", f"A{n:02d}", "Admin") for n in range(12)]
    outside = "".join(f"[profile A{n:02d}-Admin]\nregion = eu-west-1\n" for n in range(12))
    config.write_text(outside)
    with pytest.raises(ConfigError) as caught:
        sync_config_file(str(config), SESSION, _profiles(assignments))
    message = caught.value.message
    assert "12 of the generated profiles" in message
    assert "'A00-Admin'" in message and "'A04-Admin'" in message and "'A05-Admin'" not in message
    assert "and 7 more" in message
    assert "\n" not in message
    assert config.read_text() == outside


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        (f"[default]\nregion = eu-west-1\n{BEGIN}\n[profile x]\nregion = eu-west-1\n", 3, "no END"),
        (f"[default]\nregion = eu-west-1\n{END}\n", 3, "without a BEGIN"),
        (
            f"[default]\nx = 1\n{BEGIN}\n{begin_marker('other')}\n{end_marker('other')}\n{END}\n",
            4,
            "inside the block",
        ),
        (f"[default]\nx = 1\n{BEGIN}\n{end_marker('other')}\n", 4, "closes the block"),
        (f"[default]\nx = 1\n{BEGIN}\n{END}\n{BEGIN}\n{END}\n", 5, "second block"),
        ("[default]\nx = 1\n# BEGIN rolecall sso sync corp\n", 3, "malformed"),
        ("[default]\nx = 1\n# END rolecall sso sync (sso-session )\n", 3, "malformed"),
    ],
)
def test_broken_markers_are_refused(tmp_path: Path, text: str, line: int, what: str) -> None:
    config = tmp_path / "config"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        sync_config_file(str(config), SESSION, _profiles())
    assert f"{config} line {line}:" in caught.value.message
    assert what in caught.value.message
    assert caught.value.hint and "by hand" in caught.value.hint
    assert config.read_text() == text


def test_a_setting_after_the_block_without_a_header_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config"
    text = apply_block("[default]\nregion = eu-west-1\n", SESSION, _profiles()) + "\n# note\noutput = json\n"
    config.write_text(text)
    with pytest.raises(ConfigError, match=r"line \d+: the first line after the rolecall block"):
        sync_config_file(str(config), SESSION, _profiles())
    assert config.read_text() == text


def test_unparsable_or_non_utf8_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\nthis is not a setting\n")
    with pytest.raises(ConfigParseError, match="line 3"):
        sync_config_file(str(config), SESSION, _profiles())
    config.write_bytes(b"[default]\nregion = \xff\n")
    with pytest.raises(ConfigParseError, match="UTF-8"):
        sync_config_file(str(config), SESSION, _profiles())


def test_hand_edits_inside_the_block_are_replaced(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    sync_config_file(str(config), SESSION, _profiles())
    clean = config.read_text()
    # A key above the block's first header (botocore reads it into [default]) and a stray profile.
    messy = clean.replace(BEGIN + "\n", BEGIN + "\noutput = text\n").replace(END, "[profile stray]\nx = 1\n" + END)
    config.write_text(messy)
    result = sync_config_file(str(config), SESSION, _profiles())
    assert config.read_text() == clean
    assert result.removed == ["stray"]


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "aws" / "config"
    result = sync_config_file(str(config), SESSION, _profiles(), dry_run=True)
    assert result.written is False
    assert result.added == ["Dev-Admin", "Dev-ReadOnly", "Prod-ReadOnly"]
    assert "+[profile Dev-Admin]" in result.diff.splitlines()
    assert not (tmp_path / "aws").exists()  # no file, no folder, no lock file
    config.parent.mkdir()
    config.write_text("[default]\nregion = eu-west-1\n")
    mtime = _age(config)
    result = sync_config_file(str(config), SESSION, _profiles(), dry_run=True)
    assert not result.written and config.read_text() == "[default]\nregion = eu-west-1\n"
    assert config.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in config.parent.iterdir()) == ["config"]
    assert _apply_diff(config.read_text(), result.diff) == apply_block(config.read_text(), SESSION, _profiles())
    # Errors show in a dry run as they would in a real one.
    with pytest.raises(ConfigError):
        sync_config_file(str(config), SESSION, _profiles(ASSIGNMENTS[:1], template="default"), dry_run=True)


def test_botocore_session_reads_every_generated_profile(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[default]\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n"
        "sso_region = eu-west-1\n"
    )
    assignments = [Assignment(f"{n:012d}", f"Account {n}", role) for n in range(25) for role in ("Admin", "Dev")]
    profiles = _profiles(assignments, region="us-west-2")
    sync_config_file(str(config), SESSION, profiles)
    session = botocore.session.Session()
    session.set_config_variable("config_file", str(config))
    read = session.full_config["profiles"]
    assert "sso_session" not in read.get("default", {})
    for assignment, profile in zip(assignments, profiles, strict=True):
        got = read[profile.name]
        assert got["sso_session"] == SESSION
        assert got["sso_account_id"] == assignment.account_id
        assert got["sso_role_name"] == assignment.role_name
        assert got["region"] == "us-west-2"
    assert set(read) == {"default"} | {p.name for p in profiles}
    assert session.full_config["sso_sessions"]["corp"]["sso_region"] == "eu-west-1"


def test_the_edit_happens_under_the_file_lock(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    with exclusive_lock(str(config)), pytest.raises(LockTimeoutError):
        sync_config_file(str(config), SESSION, _profiles(), lock_timeout=0.2)
    assert config.read_text() == "[default]\nregion = eu-west-1\n"
    # Writers of two sessions at once: neither block is lost.
    errors: list[BaseException] = []

    def run(session: str) -> None:
        try:
            for n in range(5):
                assignments = [Assignment(f"{k:012d}", f"{session}{k}", "Admin") for k in range(n + 1)]
                sync_config_file(str(config), session, _profiles(assignments, sso_session=session))
        except BaseException as error:  # handed to the test thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert set(_botocore_profiles(config)) == {"default"} | {f"{s}{k}-Admin" for s in ("one", "two") for k in range(5)}


def test_empty_profile_list_empties_the_block(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    sync_config_file(str(config), SESSION, _profiles())
    result = sync_config_file(str(config), SESSION, [])
    assert result.removed == ["Dev-Admin", "Dev-ReadOnly", "Prod-ReadOnly"]
    assert config.read_text() == f"[default]\nregion = eu-west-1\n\n{BEGIN}\n{END}\n"


# --------------------------------------------------------------------------------------------------------------
# collect_assignments


def _accounts(n: int) -> list[dict[str, str]]:
    # Names in an order unrelated to the ids, so that sorting by name is visible.
    return [
        {"accountId": f"{k:012d}", "accountName": f"acct-{(k * 7) % n:04d}", "emailAddress": f"a{k}@example.com"}
        for k in range(n)
    ]


def _roles_for(account_id: str) -> list[dict[str, str]]:
    count = int(account_id) % 3 + 1
    return [{"roleName": name, "accountId": account_id} for name in ("ReadOnly", "Admin", "Billing")[:count]]


def test_collect_order_and_contents() -> None:
    accounts = _accounts(30)
    result = collect_assignments(lambda: accounts, _roles_for)
    expected = sorted(
        (
            Assignment(a["accountId"], a["accountName"], r["roleName"], a["emailAddress"])
            for a in accounts
            for r in _roles_for(a["accountId"])
        ),
        key=lambda x: (x.account_name, x.account_id, x.role_name),
    )
    assert result == expected
    assert result[0].account_name == "acct-0000"
    assert [a.role_name for a in result if a.account_id == "000000000002"] == ["Admin", "Billing", "ReadOnly"]


def test_collect_same_name_sorts_by_id_then_role_and_skips_repeats() -> None:
    accounts = [
        {"accountId": "222222222222", "accountName": "Same"},
        {"accountId": "111111111111", "accountName": "Same"},
        {"accountId": "111111111111", "accountName": "Same"},  # listed twice: asked about once
        {"accountId": "333333333333"},  # no name: named by its id
    ]
    calls: list[str] = []
    lock = threading.Lock()

    def roles(account_id: str) -> Iterable[Mapping[str, Any]]:
        with lock:
            calls.append(account_id)
        yield {"roleName": "B", "accountId": account_id}
        yield {"roleName": "A", "accountId": account_id}
        yield {"roleName": "A", "accountId": account_id}

    result = collect_assignments(lambda: iter(accounts), roles)
    assert [(a.account_name, a.account_id, a.role_name) for a in result] == [
        ("333333333333", "333333333333", "A"),
        ("333333333333", "333333333333", "B"),
        ("Same", "111111111111", "A"),
        ("Same", "111111111111", "B"),
        ("Same", "222222222222", "A"),
        ("Same", "222222222222", "B"),
    ]
    assert sorted(calls) == ["111111111111", "222222222222", "333333333333"]
    assert result[0].email is None


def test_collect_calls_run_concurrently() -> None:
    accounts = _accounts(24)
    lock = threading.Lock()
    running = 0
    peak = 0
    threads: set[int] = set()

    def slow_roles(account_id: str) -> list[dict[str, str]]:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            threads.add(threading.get_ident())
        time.sleep(0.05)
        with lock:
            running -= 1
        return _roles_for(account_id)

    started = time.monotonic()
    result = collect_assignments(lambda: accounts, slow_roles, workers=8)
    elapsed = time.monotonic() - started
    assert len({a.account_id for a in result}) == 24
    assert 2 <= peak <= 8
    assert len(threads) >= 2 and threading.get_ident() not in threads
    assert elapsed < 24 * 0.05  # sequential calls would take 1.2 s; 8 at a time about 0.15 s


def test_collect_first_exception_propagates_and_the_rest_is_cancelled() -> None:
    accounts = _accounts(200)
    failure = AwsError("access denied to account 000000000000", code="AccessDeniedException")
    called: list[str] = []
    lock = threading.Lock()

    def roles(account_id: str) -> list[dict[str, str]]:
        with lock:
            called.append(account_id)
        if account_id == "000000000000":
            raise failure
        time.sleep(0.01)
        return _roles_for(account_id)

    with pytest.raises(AwsError) as caught:
        collect_assignments(lambda: accounts, roles, workers=2)
    assert caught.value is failure  # unchanged, not wrapped
    assert len(called) < 200


def test_collect_exception_from_list_accounts_propagates() -> None:
    def boom() -> list[dict[str, str]]:
        raise AwsError("the SSO token expired", code="UnauthorizedException")

    with pytest.raises(AwsError, match="expired"):
        collect_assignments(boom, _roles_for)


def test_collect_progress() -> None:
    seen: list[tuple[int, int]] = []
    callers: set[int] = set()

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        callers.add(threading.get_ident())

    collect_assignments(lambda: _accounts(40), _roles_for, workers=4, progress=progress)
    assert seen == [(n, 40) for n in range(41)]
    assert callers == {threading.get_ident()}  # reported from the calling thread
    empty: list[tuple[int, int]] = []
    assert collect_assignments(list, _roles_for, progress=lambda d, t: empty.append((d, t))) == []
    assert empty == [(0, 0)]


def test_collect_refuses_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="workers"):
        collect_assignments(lambda: _accounts(2), _roles_for, workers=0)
    with pytest.raises(AwsError, match="accountId"):
        collect_assignments(lambda: [{"accountName": "x"}], _roles_for)
    with pytest.raises(AwsError, match="roleName"):
        collect_assignments(lambda: _accounts(2), lambda account_id: [{"accountId": account_id}])


# --------------------------------------------------------------------------------------------------------------
# An organisation of 2,000 accounts x 3 roles


def test_two_thousand_accounts_end_to_end(tmp_path: Path) -> None:
    config = tmp_path / "config"
    outside = (
        "# Managed by hand, above the generated block\n"
        "[default]\nregion = eu-west-1\n\n"
        "[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\nsso_region = eu-west-1\n"
    )
    config.write_text(outside)
    accounts = [
        {"accountId": f"{100000000000 + k}", "accountName": f"Team {k:04d} (prod)", "emailAddress": f"t{k}@x.com"}
        for k in range(2000)
    ]

    def roles(account_id: str) -> list[dict[str, str]]:
        return [{"roleName": name, "accountId": account_id} for name in ("AdministratorAccess", "ReadOnly", "Dev")]

    started = time.perf_counter()
    assignments = collect_assignments(lambda: accounts, roles)
    collected = time.perf_counter()
    profiles = plan_profiles(assignments, sso_session=SESSION, region="eu-west-1")
    planned = time.perf_counter()
    first = sync_config_file(str(config), SESSION, profiles)
    written = time.perf_counter()
    assert first.written and len(first.added) == 6000
    data = config.read_bytes()
    mtime = _age(config)

    rerun_started = time.perf_counter()
    replanned = plan_profiles(assignments, sso_session=SESSION, region="eu-west-1")
    again = sync_config_file(str(config), SESSION, replanned)
    rerun = time.perf_counter() - rerun_started
    assert not again.written and again.unchanged == 6000 and again.diff == ""
    assert config.read_bytes() == data and config.stat().st_mtime_ns == mtime
    assert config.read_text().startswith(outside + "\n" + BEGIN)

    change_started = time.perf_counter()
    changed = sync_config_file(
        str(config), SESSION, plan_profiles(assignments, sso_session=SESSION, region="us-east-1"), dry_run=True
    )
    change = time.perf_counter() - change_started
    assert len(changed.changed) == 6000 and changed.diff.count("\n+region = us-east-1") == 6000

    read = _botocore_profiles(config)
    assert len(read) == 6001
    assert read["Team-0042-prod-ReadOnly"] == {
        "sso_session": "corp",
        "sso_account_id": "100000000042",
        "sso_role_name": "ReadOnly",
        "region": "eu-west-1",
    }
    print(
        f"\n2,000 accounts x 3 roles: collect {collected - started:.3f} s, plan {planned - collected:.3f} s, "
        f"first write {written - planned:.3f} s ({len(data)} bytes), no-op re-run (plan + sync) {rerun:.3f} s, "
        f"dry run changing every profile {change:.3f} s"
    )
