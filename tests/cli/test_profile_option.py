"""``--profile PROFILE`` wherever a PROFILE is taken (issue 17, item 3); ``exec PROFILE CMD ARGS...`` without ``--``.

The commands are found in their real parsers (every parser, sub-commands included, with a positional ``profile``),
so a command added later without ``--profile`` fails here. Precedence (``--profile`` > ``AWS_PROFILE`` >
``default``), the conflict error and ``exec`` run the real CLI against the sandbox.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.cli.fastargs import parse_fast
from rolecall.cli.main import available_commands, build_parser
from rolecall.errors import UsageError
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

#: The commands the issue names (and the other ones that take a profile): each must be found in the parsers.
#: ``serve`` takes several (``PROFILE...`` and a repeatable ``--profile``): test_serve_takes_both_spellings below.
EXPECTED = {"assume", "env", "exec", "list", "console", "credential-process", "save", "whoami", "doctor", "forget"}


def _parsers() -> Iterator[tuple[list[str], argparse.ArgumentParser]]:
    """``(words that reach it, parser)`` for every command's parser and each of its sub-parsers."""
    for command in available_commands():
        if command == "help":
            continue
        parser = build_parser(command)[0]
        pending = [([command], parser)]
        while pending:
            words, current = pending.pop()
            yield words, current
            for action in current._actions:
                if isinstance(action, argparse._SubParsersAction):
                    pending += [([*words, name], sub) for name, sub in action.choices.items()]


def _taking_a_profile() -> list[tuple[list[str], argparse.ArgumentParser]]:
    return [(words, parser) for words, parser in _parsers()
            if any(a.dest == "profile" and not a.option_strings for a in parser._actions)]  # fmt: skip


TAKING = _taking_a_profile()
IDS = [" ".join(words) for words, _ in TAKING]


def test_the_commands_of_the_issue_are_among_those_found() -> None:
    assert {words[0] for words, _ in TAKING} >= EXPECTED


@pytest.mark.parametrize(("words", "parser"), TAKING, ids=IDS)
def test_every_profile_argument_has_its_option(words: list[str], parser: argparse.ArgumentParser) -> None:
    options = {option: action for action in parser._actions for option in action.option_strings}
    assert "--profile" in options, f"rolecall {' '.join(words)} takes PROFILE but not --profile"
    assert options["--profile"].dest == "profile"


def _parse(words: list[str], parser: argparse.ArgumentParser, argv: list[str]) -> dict[str, object]:
    tail = ["true"] if words[0] == "exec" else []  # exec needs a command
    return vars(parser.parse_args([*argv, *tail]))


@pytest.mark.parametrize(("words", "parser"), TAKING, ids=IDS)
def test_both_spellings_give_the_same_namespace(words: list[str], parser: argparse.ArgumentParser) -> None:
    positional = _parse(words, parser, ["ops"])
    assert positional["profile"] == "ops"
    assert _parse(words, parser, ["--profile", "ops"]) == positional
    assert _parse(words, parser, ["--profile=ops"]) == positional
    assert _parse(words, parser, ["ops", "--profile", "ops"]) == positional  # the same one twice is no conflict


@pytest.mark.parametrize(("words", "parser"), TAKING, ids=IDS)
def test_two_different_profiles_are_one_usage_error(words: list[str], parser: argparse.ArgumentParser) -> None:
    # exec: after --profile the next word is the command, not a second profile (test_exec_... below)
    orders = [["ops", "--profile", "admin"]] + ([["--profile", "admin", "ops"]] if words[0] != "exec" else [])
    for argv in orders:
        with pytest.raises(UsageError) as caught:
            _parse(words, parser, argv)
        assert caught.value.message == f"{' '.join(words)}: two profiles named: ops and --profile admin"
        assert caught.value.hint is not None and "--profile admin" in caught.value.hint


def test_serve_takes_both_spellings_and_several_profiles() -> None:
    from rolecall.cli.commands.serve import profile_names

    parser = build_parser("serve")[0]
    names = [profile_names(parser.parse_args(argv)) for argv in (["ops"], ["--profile", "ops"], ["--profile=ops"])]
    assert names == [["ops"]] * 3
    assert profile_names(parser.parse_args(["ops", "admin", "--profile", "ops"])) == ["ops", "admin"]  # once each
    assert profile_names(parser.parse_args([])) == [None]  # the default profile


FAST = [
    ("env", ["--profile", "prod"]),
    ("env", ["--profile=prod"]),
    ("env", ["--format", "sh", "--pick", "--profile", "prod"]),  # `assume --profile prod` in the shell function
    ("env", ["prod", "--profile", "prod"]),
    ("env", ["--profile", "prod", "--format", "fish", "-q"]),
    ("credential-process", ["--profile", "prod"]),
    ("credential-process", ["--profile=prod"]),
]
LEFT_TO_ARGPARSE = [
    ("env", ["prod", "--profile", "admin"]),
    ("env", ["--profile", "prod", "--profile", "admin"]),
    ("env", ["prod", "prod"]),
    ("env", ["--profile"]),
    ("env", ["--profile="]),
    ("env", ["--profile", "--pick"]),
    ("credential-process", ["prod", "--profile", "admin"]),
    ("credential-process", ["--profile"]),
]


@pytest.mark.parametrize(("command", "argv"), FAST)
def test_the_fast_path_takes_the_option_and_agrees_with_argparse(command: str, argv: list[str]) -> None:
    fast = parse_fast(command, argv)
    assert fast is not None
    assert vars(fast) == vars(build_parser(command)[0].parse_args(argv))


@pytest.mark.parametrize(("command", "argv"), LEFT_TO_ARGPARSE)
def test_the_fast_path_leaves_the_rest_to_argparse(command: str, argv: list[str]) -> None:
    assert parse_fast(command, argv) is None


def _arn(env: dict[str, str], *argv: str) -> str:
    result = run_rolecall(["whoami", "--output", "json", *argv], env)
    assert result.returncode == 0, result.stderr
    arn: str = json.loads(result.stdout)["Arn"]
    return arn


def test_precedence_option_then_aws_profile_then_default(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    account = sandbox.account_id
    assert _arn(env) == sandbox.user_arn  # nothing named: default
    env["AWS_PROFILE"] = "deploy"
    assert _arn(env).startswith(f"arn:aws:sts::{account}:assumed-role/deploy/")
    assert _arn(env, "--profile", "readonly").startswith(f"arn:aws:sts::{account}:assumed-role/readonly/")
    assert _arn(env, "readonly").startswith(f"arn:aws:sts::{account}:assumed-role/readonly/")
    # The environment's own keys give way to a profile named on the command line, as in the AWS CLI.
    env.update(AWS_ACCESS_KEY_ID="AKIAIGNOREDIGNORED00", AWS_SECRET_ACCESS_KEY="ignored-ignored-ignored-ignored0")
    assert _arn(env, "--profile", "readonly").startswith(f"arn:aws:sts::{account}:assumed-role/readonly/")


def test_the_conflict_from_the_real_cli(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    for argv in (["whoami", "readonly", "--profile", "admin"], ["env", "readonly", "--profile", "admin"],
                 ["credential-process", "--profile", "admin", "readonly"]):  # fmt: skip
        result = run_rolecall(argv, env)
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            f"rolecall: {argv[0]}: two profiles named: readonly and --profile admin (hint: name one, as PROFILE or "
            f"as --profile PROFILE: 'rolecall {argv[0]} readonly' or 'rolecall {argv[0]} --profile admin')"
        ]
    assert sandbox.calls() == 0


def test_env_and_credential_process_with_the_option(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    by_option = run_rolecall(["env", "--profile", "readonly", "--format", "json"], env)
    assert by_option.returncode == 0, by_option.stderr
    by_name = run_rolecall(["env", "readonly", "--format", "json"], env)
    assert json.loads(by_option.stdout) == json.loads(by_name.stdout)  # the second one from the cache
    process = run_rolecall(["credential-process", "--profile=readonly"], env)
    assert json.loads(process.stdout)["AccessKeyId"] == json.loads(by_name.stdout)["AccessKeyId"]
    assert sandbox.calls("AssumeRole") == 1


#: A command that prints its own arguments and the key it was given: what CMD receives, verbatim.
SHOW = [sys.executable, "-c", "import os, sys; print(os.environ['AWS_ACCESS_KEY_ID'][:4], sys.argv[1:])"]


def test_exec_takes_everything_after_the_profile_as_the_command(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    # The AWS CLI itself, with options of its own (--query, --output, --region) and no `--`.
    aws = [sys.executable, "-m", "awscli", "sts", "get-caller-identity", "--query", "Arn", "--output", "text",
           "--region", "us-east-1"]  # fmt: skip
    result = run_rolecall(["exec", "readonly", *aws], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/readonly/")
    mine = ["--profile", "x", "--region", "y", "--", "z", "--verify"]
    for argv in (["exec", "readonly", *SHOW, *mine],
                 ["exec", "readonly", "--", *SHOW, *mine],
                 ["exec", "--profile", "readonly", *SHOW, *mine],
                 ["exec", "--profile=readonly", "--", *SHOW, *mine],
                 ["exec", "--verify", "readonly", "--region", "us-east-1", *SHOW, *mine]):  # fmt: skip
        result = run_rolecall(argv, env)
        assert result.returncode == 0, (argv, result.stderr)
        assert result.stdout == f"ASIA {mine!r}\n", argv
    assert sandbox.calls("GetCallerIdentity") == 2  # the --verify before the command, and the aws call


def test_exec_after_the_option_the_first_word_is_the_command() -> None:
    parser = build_parser("exec")[0]
    args = parser.parse_args(["--profile", "admin", "ops", "--profile", "x", "--", "y"])
    assert (args.profile, args.command) == ("admin", ["ops", "--profile", "x", "--", "y"])
    args = parser.parse_args(["--server", "admin", "--verify", "ops", "-v"])
    assert (args.profile, args.server, args.verify, args.command) == ("admin", True, True, ["ops", "-v"])


def test_exec_usage_errors(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    cases = {
        ("exec", "--", "true"): "rolecall: exec: no profile named",
        ("exec", "readonly"): "rolecall: exec: no command given",
        ("exec", "readonly", "--profile", "admin", "true"): "rolecall: exec: two profiles named: readonly and "
        "--profile admin",
        ("exec", "--bogus", "readonly", "true"): "rolecall: exec: unrecognized arguments: --bogus",
    }
    for argv, line in cases.items():
        result = run_rolecall(list(argv), env)
        assert result.returncode == 2, argv
        assert result.stderr.startswith(line + " (hint: "), result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert sandbox.calls() == 0


def _complete(env: dict[str, str], *words: str) -> list[str]:
    """What ``rolecall __complete`` offers for ``words`` (the last being the cursor's), as the shells ask it."""
    import io

    from rolecall.cli.context import Context
    from rolecall.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    assert main(["__complete", "fish", "--", *words], Context(io.StringIO(), out, err, dict(env))) == 0, err.getvalue()
    return [line.split("\t")[0] for line in out.getvalue().splitlines()]


def test_completion_after_the_option(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile prod]\nregion = eu-west-1\n[profile dev]\nregion = eu-west-1\n")
    env = aws_home.env
    assert _complete(env, "whoami", "--profile", "") == ["prod", "dev"]
    assert _complete(env, "exec", "") == ["prod", "dev"]
    # --profile named it: the next word is the command (exec) or an option (whoami), not a second profile
    assert _complete(env, "exec", "--profile", "prod", "") == ["@commands"]
    assert _complete(env, "exec", "--profile", "prod", "git", "") == ["@delegate 4"]  # git: word 4
    assert "prod" not in _complete(env, "whoami", "--profile", "prod", "")
