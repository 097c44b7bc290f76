"""The CLI skeleton: help, version, unknown commands, error mapping, --debug."""

from __future__ import annotations

import io

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.cli.context import Context
from rolecall.cli.main import main
from rolecall.errors import ConfigError


def _ctx() -> Context:
    return Context(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), env={})


def test_version_and_help(aws_home: AwsHome) -> None:
    result = run_rolecall(["--version"], aws_home.env)
    assert result.returncode == 0
    assert result.stdout.startswith("rolecall ")
    result = run_rolecall(["--help"], aws_home.env)
    assert result.returncode == 0
    assert "usage: rolecall" in result.stdout


def test_unknown_command_is_one_line_with_hint(aws_home: AwsHome) -> None:
    result = run_rolecall(["no-such-command"], aws_home.env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "unknown command 'no-such-command'" in lines[0]
    assert "hint:" in lines[0]
    assert "Traceback" not in result.stderr


def test_rolecall_error_becomes_exit_code_and_debug_shows_traceback(monkeypatch: object) -> None:
    import rolecall.cli.main as cli_main

    def boom(argv: list[str], ctx: Context) -> int:
        raise ConfigError("the profile is broken", hint="fix it")

    ctx = _ctx()
    original = cli_main._dispatch
    cli_main._dispatch = boom  # type: ignore[assignment]
    try:
        assert main(["x"], ctx) == 3
        assert ctx.stderr.getvalue() == "rolecall: the profile is broken (hint: fix it)\n"  # type: ignore[attr-defined]
        debug_ctx = _ctx()
        assert main(["--debug", "x"], debug_ctx) == 3
        assert "Traceback" in debug_ctx.stderr.getvalue()  # type: ignore[attr-defined]
    finally:
        cli_main._dispatch = original  # type: ignore[assignment]


def test_unexpected_exception_hides_message_without_debug() -> None:
    import rolecall.cli.main as cli_main

    def boom(argv: list[str], ctx: Context) -> int:
        raise RuntimeError("secret-value-AKIA")

    ctx = _ctx()
    original = cli_main._dispatch
    cli_main._dispatch = boom  # type: ignore[assignment]
    try:
        assert main(["x"], ctx) == 70
        err = ctx.stderr.getvalue()  # type: ignore[attr-defined]
        assert "secret-value" not in err
        assert "RuntimeError" in err and "--debug" in err
    finally:
        cli_main._dispatch = original  # type: ignore[assignment]


def test_debug_after_double_dash_belongs_to_child() -> None:
    from rolecall.cli.main import _split_debug

    assert _split_debug(["exec", "p", "--debug", "--", "cmd", "--debug"]) == (
        ["exec", "p", "--", "cmd", "--debug"],
        True,
    )


@pytest.mark.parametrize(
    "argv",
    [["save", "prod", "--to", "x"], ["configure", "set", "region", "x", "--prof", "dev"],
     ["env", "prod", "--form", "fish"],
     ["sts", "assume-role", "--role-a", "arn:aws:iam::123456789012:role/r", "--role-session-name", "s"]],
)
def test_abbreviated_options_are_refused_not_guessed(argv: list[str], aws_home: AwsHome) -> None:
    """`save --to x` must not silently become `--token-code x` (argparse's default); the AWS CLI refuses them too."""
    result = run_rolecall(argv, aws_home.env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert "unrecognized arguments" in result.stderr or "required: --role-arn" in result.stderr


def test_control_characters_from_the_config_are_escaped_in_messages(aws_home: AwsHome) -> None:
    """A value with terminal escapes (here in mfa_serial) is shown escaped: no escape reaches the terminal."""
    aws_home.write_config(
        "[profile m]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = k\n"
        "mfa_serial = \x01 weird\x1b[31m\n[profile k]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"
    )
    result = run_rolecall(["env", "m"], aws_home.env)
    assert result.returncode == 5, result.stderr
    assert "\x1b" not in result.stderr and "\x01" not in result.stderr
    assert "an MFA code for \\x01 weird\\x1b[31m is needed" in result.stderr
