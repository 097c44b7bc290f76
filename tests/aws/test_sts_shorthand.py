"""``--tags Key=k,Value=v`` and friends: rolecall.shorthand against the AWS CLI's own parser (oracle).

For every generated input, either the AWS CLI reads a structure of string values and rolecall reads the same,
or rolecall refuses it (the AWS CLI failing to parse, or reading a list/object where a string is needed).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from awscli.shorthand import ShorthandParseError, ShorthandParser
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rolecall.errors import FileError, InvalidInputError
from rolecall.shorthand import load_param_file, parse_shorthand, string_list, string_param, struct_list

ANY = ("Key", "Value", "arn", "a", "", "Ke")

pieces = st.sampled_from(
    [
        "Key",
        "Value",
        "=",
        ",",
        " ",
        "'",
        '"',
        "\\",
        "\\,",
        "[",
        "]",
        "{",
        "}",
        "@",
        "a",
        "b c",
        "é",
        "\t",
        "1",
        ":",
        "/",
    ]
)
inputs = st.lists(pieces, max_size=14).map("".join)


def theirs(text: str) -> dict[str, object] | None:
    try:
        parsed = ShorthandParser().parse(text)
    except ShorthandParseError:
        return None
    assert isinstance(parsed, dict)
    return parsed


def ours(text: str) -> dict[str, str] | None:
    try:
        return parse_shorthand(text, "--tags", ANY)
    except InvalidInputError:
        return None


def agree(text: str) -> None:
    expected = theirs(text)
    got = ours(text)
    if expected is None or not all(isinstance(v, str) for v in expected.values()) or set(expected) - set(ANY):
        assert got is None, (text, expected, got)
    else:
        assert got == expected, (text, expected, got)


@settings(max_examples=1500, deadline=None)
@given(inputs)
@example("Key=a,b\\,c=d")
@example("Key=a, ")
@example("Key = 'x\\'y' , Value=\"p\\\\q\"")
def test_shorthand_matches_the_aws_cli(text: str) -> None:
    agree(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Key=team,Value=blue", {"Key": "team", "Value": "blue"}),
        ("Key = team , Value = blue ", {"Key": "team", "Value": "blue"}),
        ("Key=a=b,Value=c", {"Key": "a=b", "Value": "c"}),
        ("Key='a,b',Value=c", {"Key": "a,b", "Value": "c"}),
        ("Key=a\\,b,Value=c", {"Key": "a,b", "Value": "c"}),
        ("Key=,Value=", {"Key": "", "Value": ""}),
        ("arn=arn:aws:iam::aws:policy/ReadOnlyAccess", {"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        ("Key=a,b", None),  # the AWS CLI reads a list here
        ("Key=[a]", None),
        ("Key=a,Key=b", None),
        ("Key=a,", None),
        ("Key", None),
        ("Colour=red", None),  # not a member
    ],
)
def test_shorthand_examples(text: str, expected: dict[str, str] | None) -> None:
    assert ours(text) == expected
    agree(text)


# The rest of the AWS CLI's parameter syntax, called directly (rolecall.shorthand is library code: no context).


def test_file_values_are_read_with_tilde_from_the_given_environment(tmp_path: Path) -> None:
    (tmp_path / "tag.txt").write_text("from-a-file", encoding="utf-8")
    env = {"HOME": str(tmp_path)}
    assert load_param_file("file://~/tag.txt", "--policy", env) == "from-a-file"
    assert load_param_file("plain", "--policy", env) == "plain"
    assert string_param(None, "--policy", env) is None
    assert parse_shorthand("Key=k,Value@=file://~/tag.txt", "--tags", ("Key", "Value"), env) == {
        "Key": "k",
        "Value": "from-a-file",
    }
    # Without an environment the shorthand reader does not touch files: the value is kept as written.
    assert parse_shorthand("Key=k,Value@=file://~/tag.txt", "--tags", ("Key", "Value")) == {
        "Key": "k",
        "Value": "file://~/tag.txt",
    }


def test_an_unreadable_file_is_a_file_error_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"cannot read --policy from .*nope\.json"):
        load_param_file(f"file://{tmp_path / 'nope.json'}", "--policy", {})


def test_lists_of_strings_are_words_or_one_json_list() -> None:
    assert string_list(["a", "b"], "--transitive-tag-keys", {}) == ["a", "b"]
    assert string_list(['["a", "b"]'], "--transitive-tag-keys", {}) == ["a", "b"]
    with pytest.raises(InvalidInputError, match="must be a JSON list of strings"):
        string_list(["[1, 2]"], "--transitive-tag-keys", {})
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        string_list(["[a"], "--transitive-tag-keys", {})


def test_lists_of_structures_are_shorthand_words_or_json() -> None:
    members = ("Key", "Value")
    words = struct_list(["Key=a,Value=1", "Key=b,Value=2"], "--tags", members, {})
    assert words == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    assert struct_list(['[{"Key": "a", "Value": "1"}]'], "--tags", members, {}) == [{"Key": "a", "Value": "1"}]
    assert struct_list(['{"Key": "a"}'], "--tags", members, {}) == [{"Key": "a"}]
    with pytest.raises(InvalidInputError, match="unknown key 'Colour' in --tags"):
        struct_list(['[{"Colour": "red"}]'], "--tags", members, {})
    with pytest.raises(InvalidInputError, match="must be a JSON list of objects"):
        struct_list(['["a"]'], "--tags", members, {})
