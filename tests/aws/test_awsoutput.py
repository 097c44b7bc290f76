"""rolecall's JSON and text output against the AWS CLI's own formatters, run in-process as the oracle.

The AWS CLI (awscli v1 from PyPI) formats with ``awscli.formatter``; these tests feed the same data to both
and require identical text, for generated data (hypothesis) and with ``--query`` expressions.
"""

from __future__ import annotations

import argparse
import copy
import io
from datetime import datetime, timedelta, timezone
from typing import Any

import jmespath
import pytest
from awscli.customizations.scalarparse import iso_format
from awscli.formatter import JSONFormatter, TextFormatter
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from rolecall import awsoutput
from rolecall.errors import UsageError

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
keys = st.text(min_size=1, max_size=8)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=25,
)
top_level = st.dictionaries(keys, documents, max_size=6)


class OracleCrashed(Exception):
    """The AWS CLI's formatter itself failed on this input (it cannot print a list mixing objects and scalars)."""


def aws_cli(kind: str, data: Any, query: str | None = None) -> str:
    """What the AWS CLI prints for ``data`` (its formatter mutates the dict, so it gets a copy)."""
    args = argparse.Namespace(query=jmespath.compile(query) if query else None)
    formatter = JSONFormatter(args) if kind == "json" else TextFormatter(args)
    stream = io.StringIO()
    try:
        formatter("sts", copy.deepcopy(data), stream)
    except AttributeError as error:  # awscli.text: "'int' object has no attribute 'items'"
        raise OracleCrashed(str(error)) from error
    return stream.getvalue()


def ours(kind: str, data: Any, query: str | None = None) -> str:
    return awsoutput.render(data, kind, awsoutput.compile_query(query) if query else None)


@settings(max_examples=150, deadline=None)
@given(top_level)
def test_json_matches_the_aws_cli(data: dict[str, Any]) -> None:
    assert ours("json", data) == aws_cli("json", data)


@settings(max_examples=150, deadline=None)
@given(top_level)
def test_text_matches_the_aws_cli(data: dict[str, Any]) -> None:
    try:
        expected = aws_cli("text", data)
    except OracleCrashed:
        assume(False)
    assert ours("text", data) == expected


ASSUME_ROLE = {
    "Credentials": {
        "AccessKeyId": "ASIAEXAMPLE",
        "SecretAccessKey": "secret",
        "SessionToken": "token",
        "Expiration": "2026-11-28T00:20:11+00:00",
    },
    "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:alice", "Arn": "arn:aws:sts::123456789012:assumed-role/r/alice"},
    "PackedPolicySize": 6,
    "SourceIdentity": "alice",
    "ResponseMetadata": {"RequestId": "abc", "HTTPStatusCode": 200},
}
QUERIES = [
    "Credentials",
    "Credentials.AccessKeyId",
    "Credentials.[AccessKeyId,SecretAccessKey,SessionToken]",
    "AssumedRoleUser.Arn",
    "{id: AssumedRoleUser.AssumedRoleId, size: PackedPolicySize}",
    "Missing",
    "PackedPolicySize",
    "[Credentials.Expiration, `true`, `null`]",
    "AssumedRoleUser.*",
    "values(Credentials)",
]


@pytest.mark.parametrize("query", [None, *QUERIES])
@pytest.mark.parametrize("kind", ["json", "text"])
def test_queries_on_an_assume_role_response_match_the_aws_cli(kind: str, query: str | None) -> None:
    assert ours(kind, ASSUME_ROLE, query) == aws_cli(kind, ASSUME_ROLE, query)


def test_response_metadata_is_dropped_and_empty_objects_print_nothing() -> None:
    assert "ResponseMetadata" not in ours("json", ASSUME_ROLE)
    assert ours("json", {"ResponseMetadata": {"RequestId": "x"}}) == ""
    assert ours("json", ASSUME_ROLE).endswith("}\n")
    assert '\n    "Credentials": {\n        "AccessKeyId"' in ours("json", ASSUME_ROLE)


@pytest.mark.parametrize(
    "wire",
    ["2026-11-28T00:20:11Z", "2026-11-28T00:20:11.123456Z", "2026-11-28T00:20:11.5Z", "2026-11-28T02:20:11+02:00"],
)
def test_datetimes_print_as_the_aws_cli_iso8601_format(wire: str) -> None:
    from botocore.utils import parse_timestamp

    parsed = parse_timestamp(wire)  # what botocore hands rolecall
    assert awsoutput.normalize(parsed) == iso_format(wire)


def test_datetimes_keep_their_offset_and_naive_ones_are_utc() -> None:
    moment = datetime(2026, 11, 28, 2, 20, 11, tzinfo=timezone(timedelta(hours=2)))
    assert awsoutput.normalize({"T": moment}) == {"T": "2026-11-28T02:20:11+02:00"}
    assert awsoutput.normalize(datetime(2026, 11, 28, 2, 20, 11)) == "2026-11-28T02:20:11+00:00"


def test_query_sees_strings_not_datetimes() -> None:
    data = {"Credentials": {"Expiration": datetime(2026, 11, 28, 0, 20, 11, tzinfo=timezone.utc)}}
    query = awsoutput.compile_query("Credentials.Expiration")
    assert awsoutput.render(data, "text", query) == "2026-11-28T00:20:11+00:00\n"
    assert awsoutput.render(data, "json", query) == '"2026-11-28T00:20:11+00:00"\n'


def test_bad_query_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="bad value for --query"):
        awsoutput.compile_query("Credentials.[")


def test_unknown_output_format_is_refused_with_a_hint() -> None:
    with pytest.raises(UsageError) as caught:
        awsoutput.render({"A": 1}, "yaml")
    assert "json, text or table" in (caught.value.hint or "")


# ----------------------------------------------------------------------------------------------------------------
# --output table against the AWS CLI's TableFormatter (colour off, fixed terminal width)


def aws_cli_table(data: Any, title: str, width: int, monkeypatch: pytest.MonkeyPatch, query: str | None = None) -> str:
    import awscli.table
    from awscli.formatter import TableFormatter

    monkeypatch.setattr(awscli.table, "determine_terminal_width", lambda default_width=80: width)
    stream = io.StringIO()
    args = argparse.Namespace(query=jmespath.compile(query) if query else None, color="off")
    TableFormatter(args)(title, copy.deepcopy(data), stream)
    return stream.getvalue()


table_scalars = st.one_of(st.none(), st.booleans(), st.integers(-999, 10**6), st.text(max_size=20))
table_documents = st.recursive(
    table_scalars,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3),
        st.lists(st.dictionaries(keys, children, min_size=1, max_size=4), min_size=1, max_size=3),
        st.dictionaries(keys, children, max_size=4),
    ),
    max_leaves=16,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, table_documents, max_size=5), st.sampled_from([30, 80, 200]))
@example({"0": [{}, ""]}, 30)
@example({"Credentials": {"AccessKeyId": "ASIA", "Expiration": "2026-11-28T00:20:11+00:00"}, "Size": 6}, 30)
def test_table_matches_the_aws_cli(data: dict[str, Any], width: int) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        try:
            expected = aws_cli_table(data, "AssumeRole", width, monkeypatch)
        except (AttributeError, TypeError, IndexError, ValueError):
            assume(False)  # the AWS CLI's table cannot print some shapes (lists mixing objects and scalars)
    assert awsoutput.format_table(data, "AssumeRole", width) == expected


@pytest.mark.parametrize("width", [40, 80, 400])
@pytest.mark.parametrize("query", [None, "Credentials", "AssumedRoleUser.Arn", "[PackedPolicySize]", "Missing"])
def test_table_of_an_assume_role_response(width: int, query: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    data = awsoutput.normalize(ASSUME_ROLE)
    ours = awsoutput.render(data, "table", awsoutput.compile_query(query) if query else None, "AssumeRole", width)
    assert ours == aws_cli_table(data, "AssumeRole", width, monkeypatch, query)
