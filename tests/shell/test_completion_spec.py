"""The completion spec: generated from the real parsers, never stale, answering as the argparse walk did, cheaply.

``rolecall __complete`` answers from ``_complete_spec.py`` instead of building argparse parsers. These tests check
that the committed spec is what the generator makes from today's parsers, that its answers equal those of the
argparse-based completion it replaced (``argparse_completion_oracle``, the code of before, over the real parsers)
for thousands of command lines covering every command, sub-command, option and pair of options, and that a Tab
press imports nothing heavy and reads a 5,000-profile config through the parse cache. The glue in real shells is
tested in test_completion.py (tmux) and test_shell_init.py.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import argparse_completion_oracle as oracle
from conftest import AwsHome
from rolecall.cli.commands import _complete_gen, complete
from rolecall.cli.commands._complete_spec import SPEC
from rolecall.cli.context import Context
from rolecall.cli.main import COMMANDS, main

CONFIG = """\
[default]
region = eu-west-1
[profile prod]
role_arn = arn:aws:iam::123456789012:role/prod
source_profile = default
[profile "with space"]
region = eu-west-1
[profile café]
region = eu-west-1
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
"""


@pytest.fixture
def names(aws_home: AwsHome) -> complete.Names:
    aws_home.write_config(CONFIG)
    aws_home.write_credentials("[ci]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n")
    return complete.Names(Context(io.StringIO(), io.StringIO(), io.StringIO(), dict(aws_home.env)))


def test_the_committed_spec_is_what_the_parsers_give() -> None:
    """Change a command's arguments without regenerating the spec, and this fails (the fix is in the message)."""
    fresh = _complete_gen.build_spec()
    assert fresh == SPEC, "stale: run python -m rolecall.cli.commands._complete_gen"
    with open(_complete_gen.SPEC_FILE, encoding="utf-8") as handle:
        assert handle.read() == _complete_gen.render_module(fresh)
    assert set(COMMANDS) <= set(SPEC)


def test_the_generators_check_passes() -> None:
    done = subprocess.run([sys.executable, "-m", "rolecall.cli.commands._complete_gen", "--check"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr


# --- the same answers as the argparse walk -------------------------------------------------------------------


def _parsers() -> Iterator[tuple[list[str], argparse.ArgumentParser]]:
    stack = [([name], oracle.build_parser(name)[0]) for name in COMMANDS]
    while stack:
        path, parser = stack.pop()
        yield path, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack += [([*path, name], sub) for name, sub in action.choices.items()]


def _queries() -> Iterator[list[str]]:
    """Command lines (the last word: the cursor's) over every parser, option, pair of options and positional."""
    yield from ([""], ["-"], ["--"], ["e"], ["--debug", ""], ["nope", ""], ["--debug", "ex"])
    for path, parser in _parsers():
        options = [string for action in parser._actions for string in action.option_strings]
        for tail in ([""], ["-"], ["--"], ["x"], ["a", ""], ["a", "b", ""], ["a", "b", "c", "-"], ["--", ""],
                     ["--", "-"], ["a", "--", "b", ""], ["-", ""], ["--unknown", ""]):  # fmt: skip
            yield [*path, *tail]
            yield ["--debug", *path, *tail]
        for option in options:
            for tail in ([""], ["-"], ["v", ""], ["v", "-"], ["v", "w", ""], ["v", "w", "-"], ["-x", ""]):
                yield [*path, option, *tail]
            yield [*path, f"{option}="]
            yield [*path, f"{option}=v"]
            yield [*path, f"{option}=v", ""]
        for first, second in itertools.permutations(options, 2):
            yield [*path, first, "v", second, ""]
            yield [*path, first, second, "-"]


def test_the_spec_answers_as_the_argparse_walk_did(names: complete.Names) -> None:
    count = 0
    for query in _queries():
        words, current = query[:-1], query[-1]
        old = oracle.complete(list(words), current, names)
        new = complete.complete(list(words), current, names)
        assert (new.directive, new.candidates) == (old.directive, old.candidates), query
        count += 1
    assert count > 10_000  # the walk did reach every parser (about 30,000 command lines today)


RENDERED = [("prod", "profile"), ("with space", "profile"), ("café", "profile"), ("a$b'c", ""), ("x:y=z", "p"),
            ("--format=fish", "a %d"), ("tab\there", ""), ("back\\slash", "")]  # fmt: skip


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize("typed", ["", "p", "'", '"w', "x:", "--format=f", "café"])
def test_the_rendering_is_the_one_of_before(shell: str, typed: str) -> None:
    for candidates in (RENDERED, RENDERED[:1], RENDERED[2:3], RENDERED[:2], []):
        current = typed.lstrip("'\"")
        got = complete.render(complete.Answer(list(candidates)), shell, current, typed, " \t\n\"'><=;|&(:")
        want = oracle.render(oracle.Answer(list(candidates)), shell, current, typed, " \t\n\"'><=;|&(:")
        assert got == want, (shell, typed, candidates)
        # Names that share one description (profiles) are joined at once: the same lines.
        words = [word for word, _ in candidates]
        got = complete.render(complete.Answer(words=words, description="profile"), shell, current, typed, " =:")
        want = oracle.render(oracle.Answer([(w, "profile") for w in words]), shell, current, typed, " =:")
        assert got == want, (shell, typed, words)
        got = complete.render(complete.Answer(words=words), shell, current, typed, " =:")
        assert got == oracle.render(oracle.Answer([(w, "") for w in words]), shell, current, typed, " =:")


# --- what a Tab press costs: imports, and a 5,000-profile config ------------------------------------------------

#: Never loaded to answer a Tab press on a profile name, an option or a choice.
FORBIDDEN = {"argparse", "re", "json", "hashlib", "botocore", "gettext", "locale", "shutil", "enum", "typing",
             "rolecall.cli.parser", "rolecall.cli.commands._complete_gen"}  # fmt: skip


def _imports(env: dict[str, str], *argv: str) -> tuple[str, set[str]]:
    """What ``python -m rolecall __complete ARGV`` prints, and the modules it imported (``-X importtime``)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "rolecall", "__complete", *argv], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done.stdout, loaded


@pytest.mark.parametrize(
    "line",
    ["rolecall env ", "rolecall exec pro", "rolecall whoami --profile ", "rolecall sso login --sso-session ",
     "rolecall env --format=f", "rolecall sts assume-role --", "rolecall ", "rolecall exec prod git "],
)  # fmt: skip
def test_a_tab_press_imports_no_parser_and_no_command(names: complete.Names, aws_home: AwsHome, line: str) -> None:
    out, loaded = _imports(dict(aws_home.env), "bash", " \t\n\"'><=;|&(:", line)
    assert out
    assert loaded & FORBIDDEN == set(), sorted(loaded & FORBIDDEN)
    commands = {name for name in loaded if name.startswith("rolecall.cli.commands.")}
    assert commands <= {"rolecall.cli.commands.complete", "rolecall.cli.commands._complete_spec"}, commands


def test_the_assume_function_gets_the_names_list_profiles_prints(names: complete.Names, aws_home: AwsHome) -> None:
    out, loaded = _imports(dict(aws_home.env), "profiles")
    listed = io.StringIO()
    ctx = Context(io.StringIO(), listed, io.StringIO(), dict(aws_home.env))
    assert main(["configure", "list-profiles"], ctx) == 0
    assert out == listed.getvalue() == "default\nprod\nwith space\ncafé\nci\n"
    assert loaded & FORBIDDEN == set(), sorted(loaded & FORBIDDEN)


def _filler(count: int) -> str:
    return "".join(f"[profile filler-{i:05d}]\nrole_arn = arn:aws:iam::123456789012:role/r{i}\n"
                   f"source_profile = default\n\n" for i in range(count))  # fmt: skip


def test_five_thousand_profiles_through_the_parse_cache(aws_home: AwsHome) -> None:
    aws_home.write_config("[default]\nregion = eu-west-1\n" + _filler(5000))
    env = dict(aws_home.env)
    line = ["bash", " \t\n\"'><=;|&(:", "rolecall env --profile filler-0499"]
    first, _ = _imports(env, *line)  # parsed: the file is younger than the parse cache's 2-second racy window
    time.sleep(2.1)
    _imports(env, *line)  # parsed once more, and now kept in the parse cache
    cache = os.path.join(env["ROLECALL_HOME"], "parse-cache")
    assert os.path.exists(cache)
    served, loaded = _imports(env, *line)
    assert first == served == "".join(f"filler-0499{i}\n" for i in range(10))
    assert "rolecall.config.parse" in loaded
    out, _ = _imports(env, "fish", "--", "exec", "")
    assert out.splitlines()[:2] == ["default\tprofile", "filler-00000\tprofile"] and len(out.splitlines()) == 5001
    # A damaged parse cache: the same answer, from the file itself, and no message.
    with open(cache, "r+b") as handle:
        handle.seek(12)
        handle.write(b"\xff" * 64)
    damaged, _ = _imports(env, *line)
    assert damaged == served
