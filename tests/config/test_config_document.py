"""The document model (rolecall.config.document) and the ownership marks (rolecall.config.owned)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rolecall.config.document import Edit, Lines, parse_document, write_checked
from rolecall.config.owned import (
    EXPIRY_KEY,
    OWNER_KEY,
    begin_marker,
    check_after_block,
    end_marker,
    find_blocks,
    is_owned,
    owned_keys,
    owner_of,
)
from rolecall.errors import ConfigError, ConfigParseError

_PIECES = ["[a]", "[profile x]", " [b]", "[]", "k = v", "K=v", "  s = 1", "k =", "# c", "", "x", "\u00e9 = 1"]


def test_lines_are_lossless() -> None:
    rng = random.Random(16)
    for _ in range(2000):
        lines = [rng.choice(_PIECES) for _ in range(rng.randint(0, 6))]
        text = rng.choice(["\n", "\r\n", "\r"]).join(lines) + rng.choice(["", "\n", "\r\n"])
        assert Lines.of(text).text() == text
        assert parse_document(text, strict=False).text() == text


def test_structure() -> None:
    doc = parse_document("# top\n[default]\nRegion = eu-west-1\ns3 =\n  max_concurrency = 10\n\n[profile x]\nk: v\n")
    assert [(s.header, s.line, s.end) for s in doc.sections] == [("default", 1, 5), ("profile x", 6, 7)]
    region, s3 = doc.sections[0].options
    assert (region.name, region.key, region.line, region.is_block) == ("Region", "region", 2, False)
    assert (s3.key, s3.value_lines, s3.is_block, s3.end) == ("s3", [4], True, 4)
    assert doc.sections[0].option("REGION") is region
    assert doc.problems == []


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("k = v\n[a]\n", 1, "a line before the first [section] header"),
        ("[a]\nx\n", 2, "a line that is neither [section] nor key = value"),
        ("[a]\n[b]\n[a]\n", 3, "section [a] appears twice"),
        ("[a]\nk = 1\nK = 2\n", 3, "key 'k' appears twice in [a]"),
        ("[a]\ns3 =\n  bad\n", 3, "a line of the nested block 's3' without '='"),
    ],
)
def test_strict_raises_and_tolerant_collects(text: str, line: int, what: str) -> None:
    with pytest.raises(ConfigParseError) as caught:
        parse_document(text, "cfg")
    assert caught.value.message == f"cannot parse cfg, line {line}: {what}"
    doc = parse_document(text, "cfg", strict=False)
    assert [(p.line, p.message) for p in doc.problems] == [(line, what)]


def test_tolerant_scan_goes_on_as_configparser_would() -> None:
    doc = parse_document("[a]\nk = 1\nk = 2\n  more\n[a]\nj = 3\n", strict=False)
    assert [s.header for s in doc.sections] == ["a", "a"]
    assert [(o.key, o.value_lines) for o in doc.sections[0].options] == [("k", []), ("k", [3])]
    assert [p.line for p in doc.problems] == [3, 5]


def test_edit_keeps_everything_else() -> None:
    text = "[a]\r\n# keep\r\nk=1\r\nlong = x\r\n  y\r\nlast = 2"
    doc = parse_document(text)
    edit = Edit(doc)
    opts = {o.key: o for o in doc.sections[0].options}
    edit.set_value(opts["k"], "2")
    edit.set_value(opts["long"], "z")
    edit.drop_option(opts["last"])
    edit.insert_after(opts["k"].line, ["new = 1"])
    assert edit.result() == "[a]\r\n# keep\r\nk=2\r\nnew = 1\r\nlong = z\r\n"


def test_splice_and_append() -> None:
    lines = Lines.of("[a]\nk = 1\n# B\nold\n# E\n[b]\n")
    assert lines.splice(2, 5, "# B\nnew\n# E\n") == "[a]\nk = 1\n# B\nnew\n# E\n[b]\n"
    assert Lines.of("[a]\r\nk = 1").append("X\r\n") == "[a]\r\nk = 1\r\n\r\nX\r\n"
    assert Lines.of("[a]\n\n").append("X\n") == "[a]\n\nX\n"
    assert Lines.of("").append("X\n") == "X\n"


def test_write_checked(tmp_path: Path) -> None:
    path = tmp_path / "aws" / "config"
    assert write_checked(str(path), lambda old, exists: "", lambda new: None) == ("", None)
    assert not path.exists()  # nothing to put in a missing file: not created
    assert write_checked(str(path), lambda old, exists: "[a]\n", lambda new: None) == ("", "[a]\n")
    assert path.read_text() == "[a]\n" and path.stat().st_mode & 0o777 == 0o600
    mtime = path.stat().st_mtime_ns
    assert write_checked(str(path), lambda old, exists: old, lambda new: None) == ("[a]\n", None)
    assert path.stat().st_mtime_ns == mtime

    def refuse(new: str) -> None:
        raise ConfigError("no")

    with pytest.raises(ConfigError):
        write_checked(str(path), lambda old, exists: "[b]\n", refuse)
    assert path.read_text() == "[a]\n"


def test_owned_keys() -> None:
    assert (OWNER_KEY, EXPIRY_KEY) == ("rolecall_source_profile", "rolecall_expiration")
    assert owned_keys("prod", None) == {"rolecall_source_profile": "prod", "rolecall_expiration": None}
    assert owner_of({OWNER_KEY: "prod"}) == "prod" and is_owned({OWNER_KEY: "prod"})
    assert owner_of({"aws_access_key_id": "x"}) is None and not is_owned({})
    assert owner_of(None) is None


def test_owned_blocks() -> None:
    assert begin_marker("s") == "# BEGIN rolecall sso sync (sso-session s): generated, edits inside are replaced"
    assert end_marker("s") == "# END rolecall sso sync (sso-session s)"
    lines = ["[a]", begin_marker("s"), "[profile p]", end_marker("s"), begin_marker("t"), end_marker("t"), "[b]"]
    assert find_blocks(lines, "cfg") == {"s": (1, 3), "t": (4, 5)}
    check_after_block(lines, 5, "cfg")
    with pytest.raises(ConfigError, match="cfg line 2: the BEGIN marker for sso-session s has no END marker"):
        find_blocks(lines[:3], "cfg")
    with pytest.raises(ConfigError, match="cfg line 3: the first line after the rolecall block"):
        check_after_block([begin_marker("s"), end_marker("s"), "k = v"], 1, "cfg")
