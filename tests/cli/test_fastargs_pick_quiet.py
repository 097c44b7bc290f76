"""What the `assume` shell function runs (`rolecall env --format sh --pick PROFILE [--quiet]`) stays on the
argparse-free path and gives argparse's namespace (issue 17: --pick, --quiet)."""

from __future__ import annotations

import pytest

from rolecall.cli.fastargs import parse_fast
from rolecall.cli.main import build_parser


@pytest.mark.parametrize(
    "argv",
    [
        ["--format", "sh", "--pick", "prod"],
        ["--format", "fish", "--pick"],
        ["--format", "powershell", "--pick", "prod", "--quiet"],
        ["prod", "-q"],
        ["--quiet", "--pick"],
    ],
)
def test_the_shell_functions_command_lines_take_the_fast_path(argv: list[str]) -> None:
    fast = parse_fast("env", argv)
    assert fast is not None
    parser, _module = build_parser("env")
    assert vars(fast) == vars(parser.parse_args(argv))


def test_assume_takes_quiet_too() -> None:
    parser, _module = build_parser("assume")
    assert parser.parse_args(["prod", "-q"]).quiet and not parser.parse_args(["prod"]).quiet
