"""``--tags Key=k,Value=v`` and friends: rolecall's shorthand reader against the AWS CLI's own parser (oracle).

For every generated input, either the AWS CLI reads a structure of string values and rolecall reads the same,
or rolecall refuses it (the AWS CLI failing to parse, or reading a list/object where a string is needed).
"""

from __future__ import annotations

import pytest
from awscli.shorthand import ShorthandParseError, ShorthandParser
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rolecall.cli.commands.sts import parse_shorthand
from rolecall.errors import InvalidInputError

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
