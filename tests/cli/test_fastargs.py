"""The argparse-free fast path gives exactly argparse's namespace, and declines what it does not know."""

from __future__ import annotations

import pytest

from rolecall.cli.fastargs import parse_fast
from rolecall.cli.main import build_parser

ACCEPTED = [
    ("env", ["prod"]),
    ("env", []),
    ("env", ["prod", "--format", "fish"]),
    ("env", ["--format", "powershell", "prod"]),
    ("env", ["prod", "-f", "json"]),
    ("env", ["prod", "--format=process"]),
    ("credential-process", ["prod"]),
]
DECLINED = [
    ("env", ["prod", "--verify"]),
    ("env", ["prod", "--format", "bogus"]),
    ("env", ["prod", "other"]),
    ("env", ["--explain"]),
    ("env", ["prod", "--format"]),
    ("credential-process", []),
    ("credential-process", ["prod", "--token-code", "123456"]),
    ("assume", ["prod"]),
]


@pytest.mark.parametrize(("command", "argv"), ACCEPTED)
def test_fast_namespace_equals_argparse(command: str, argv: list[str]) -> None:
    fast = parse_fast(command, argv)
    assert fast is not None
    parser, _module = build_parser(command)
    assert vars(fast) == vars(parser.parse_args(argv))


@pytest.mark.parametrize(("command", "argv"), DECLINED)
def test_fast_path_declines_the_rest(command: str, argv: list[str]) -> None:
    assert parse_fast(command, argv) is None
