"""``rolecall shell-init``: the assume/unassume functions, completion and prompt segment in real bash, zsh, fish.

The functions call ``rolecall env ...`` and ``rolecall __complete profiles``. Those commands belong to other
modules and resolve real credentials; to test the shell side alone, each test puts first on PATH a tiny real
``rolecall`` program (a test double, written below) that answers ``env`` with the output of the real renderers
of ``rolecall.export`` for fixed test credentials, logs its arguments, and fails on demand. The snippets
themselves come from the real ``rolecall shell-init`` command. The last tests use the real ``rolecall env``
and ``rolecall __complete profiles`` against the local strict STS (the sandbox), end to end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import AwsHome, run_rolecall
from rolecall import export
from rolecall.sandbox import Sandbox
from rolecall.shell import SHELLS, snippet
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture

RUN = {
    "bash": ["bash", "--norc", "--noprofile", "-c"],
    "zsh": ["zsh", "-f", "-c"],
    "fish": ["fish", "--no-config", "-c"],
}
# Print the shell's own PID without starting anything: bash's $BASHPID changes in a subshell, zsh's
# $sysparams[pid] likewise; fish has no subshells and $fish_pid.
PID = {"bash": "$BASHPID", "zsh": "$sysparams[pid]", "fish": "$fish_pid"}
PRELUDE = {"bash": "", "zsh": "zmodload zsh/system; ", "fish": ""}
# A marker between environment dumps of one run.
DUMP = {sh: "env -0; printf '\\0--\\0'" for sh in RUN}

SECRET = 'sec\'ret "$HOME" `id` \\ %PATH% !! é'
TOKEN = "tok\n\nen==\n"  # blank line and final newline: they must survive $(...) and fish splitting

FAKE_ROLECALL = r"""#!{python}
# Test double of the `rolecall env` and `rolecall __complete profiles` commands (see the module docstring
# of tests/shell/test_shell_init.py): prints what the real renderers print for fixed credentials.
import json, os, sys
from datetime import datetime, timedelta, timezone
from rolecall import export
from rolecall.credentials import Credentials

args = sys.argv[1:]
with open(os.environ["FAKE_ROLECALL_LOG"], "a") as log:
    seen = {{k: os.environ.get(k) for k in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "ROLECALL_PROFILE")}}
    log.write(json.dumps({{"args": args, "env": seen}}) + "\n")
if args[:2] == ["__complete", "profiles"]:  # the assume function's completion
    print("dev\nprod\nprod-admin\nstaging")
    sys.exit(0)
assert args[0] == "env", args
rest = args[1:]
if "-h" in rest or "--help" in rest:
    print("usage: rolecall env [PROFILE]")
    sys.exit(0)
fmt = rest[rest.index("--format") + 1]
if "--unset" in rest:
    sys.stdout.write(export.render_unset(fmt))
    sys.exit(0)
positional = [a for i, a in enumerate(rest) if not a.startswith("-") and rest[i - 1] != "--format"]
profile = positional[0] if positional else "default"
if profile.startswith("mfa"):
    # As the real command does: the prompt and the answer go through the terminal, not stdout.
    with open("/dev/tty", "w") as tty_out, open("/dev/tty") as tty_in:
        tty_out.write("MFA code for " + profile + ": ")
        tty_out.flush()
        if tty_in.readline().strip() != "123456":
            print("rolecall: the MFA code was refused", file=sys.stderr)
            sys.exit(5)
if profile == "fail":
    print("export SHOULD_NOT_BE_SET=1; set -gx SHOULD_NOT_BE_SET 1")
    print("rolecall: AccessDenied: not authorized (hint: check the trust policy)", file=sys.stderr)
    sys.exit(4)
minutes = int(os.environ.get("FAKE_MINUTES", "42"))
expiry = datetime.now(timezone.utc) + timedelta(minutes=minutes, seconds=-20)
creds = Credentials("ASIA" + profile.upper(), {secret!r}, {token!r}, expiry, "123456789012")
sys.stdout.write(export.render(creds, fmt, profile=profile, region="eu-west-1"))
"""


def _need(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")


class ShellRig:
    """A throwaway bin folder with the fake rolecall, the snippet files, and an environment for a shell."""

    def __init__(self, shell: str, aws_home: AwsHome, tmp_path: Path) -> None:
        self.shell = shell
        self.bin = tmp_path / "fakebin"
        self.bin.mkdir()
        fake = self.bin / "rolecall"
        fake.write_text(FAKE_ROLECALL.format(python=sys.executable, secret=SECRET, token=TOKEN))
        fake.chmod(0o755)
        self.log = tmp_path / "fake-rolecall.log"
        self.log.touch()
        init = run_rolecall(["shell-init", shell], env=aws_home.env)
        assert init.returncode == 0, init.stderr
        self.init = tmp_path / f"init.{shell}"
        self.init.write_text(init.stdout)
        self.env = dict(aws_home.env)
        self.env.update(
            PATH=f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            LANG="C.UTF-8",
            FAKE_ROLECALL_LOG=str(self.log),
            XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
            XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        )

    def run(self, body: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        """Source the snippet in a fresh shell, then run ``body`` in that same shell."""
        script = f"{PRELUDE[self.shell]}source {self.init}\n{body}\n"
        return subprocess.run(
            # The shell by its full path: some tests run it with a PATH that names no folder.
            [shutil.which(RUN[self.shell][0]) or RUN[self.shell][0], *RUN[self.shell][1:], script],
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    def calls(self) -> list[list[str]]:
        """The argument lists the fake rolecall was called with, in order."""
        return [json.loads(line)["args"] for line in self.log.read_text().splitlines()]

    def environments(self) -> list[dict[str, str | None]]:
        """A few variables as the fake rolecall saw them, call by call."""
        return [json.loads(line)["env"] for line in self.log.read_text().splitlines()]


def _dumps(stdout: bytes) -> list[dict[str, str]]:
    dumps = []
    for chunk in stdout.split(b"\0--\0")[:-1]:
        env = {}
        for item in chunk.split(b"\0"):
            if item:
                name, _, value = item.partition(b"=")
                env[name.decode()] = value.decode()
        dumps.append(env)
    return dumps


@pytest.fixture(params=["bash", "zsh", "fish"])
def rig(request: pytest.FixtureRequest, aws_home: AwsHome, tmp_path: Path) -> ShellRig:
    _need(request.param)
    return ShellRig(request.param, aws_home, tmp_path)


def _managed(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k in export.MANAGED_VARS}


def test_shell_init_prints_each_snippet_and_refuses_unknown_shells(aws_home: AwsHome) -> None:
    for shell in SHELLS:
        result = run_rolecall(["shell-init", shell], env=aws_home.env)
        assert result.returncode == 0
        assert result.stdout == snippet(shell)
        assert "@MANAGED_VARS" not in result.stdout and "@UNSET_VARS" not in result.stdout
    bad = run_rolecall(["shell-init", "tcsh"], env=aws_home.env)
    assert bad.returncode == 2
    assert "invalid choice" in bad.stderr and bad.stdout == ""


def test_shell_init_without_argument_follows_dollar_shell(aws_home: AwsHome) -> None:
    for path, shell in (("/usr/bin/zsh", "zsh"), ("/opt/homebrew/bin/fish", "fish"), ("/bin/bash", "bash")):
        result = run_rolecall(["shell-init"], env={**aws_home.env, "SHELL": path})
        assert result.returncode == 0 and result.stdout == snippet(shell), result.stderr
    for env in ({**aws_home.env, "SHELL": "/bin/tcsh"}, {k: v for k, v in aws_home.env.items() if k != "SHELL"}):
        result = run_rolecall(["shell-init"], env=env)
        assert result.returncode == 2 and result.stdout == ""
        assert "cannot tell the shell from $SHELL" in result.stderr and "rolecall shell-init bash" in result.stderr


def test_assume_and_unassume_change_and_restore_the_current_shell(rig: ShellRig) -> None:
    mine = {"AWS_PROFILE": "mine", "AWS_REGION": "us-east-1", "AWS_SECURITY_TOKEN": "legacy"}
    pid = PID[rig.shell]
    dump = DUMP[rig.shell]
    body = f"""
echo {pid} >&2
assume prod --duration 900
echo {pid} >&2
{dump}
assume dev
{dump}
unassume
echo {pid} >&2
{dump}
"""
    result = rig.run(body, extra_env=mine)
    assert result.returncode == 0, result.stderr
    pids = result.stderr.decode().split()
    assert len(pids) == 3 and len(set(pids)) == 1, pids  # one and the same process throughout: no subshell

    after_prod, after_dev, restored = _dumps(result.stdout)
    # The test double's credentials expire 41 min 40 s after it ran.
    left = datetime.fromisoformat(after_prod["AWS_CREDENTIAL_EXPIRATION"].replace("Z", "+00:00")) - datetime.now(
        timezone.utc
    )
    assert timedelta(minutes=40) < left < timedelta(minutes=42), left
    assert _managed(after_prod) == {
        "AWS_ACCESS_KEY_ID": "ASIAPROD",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_CREDENTIAL_EXPIRATION": after_prod["AWS_CREDENTIAL_EXPIRATION"],
        "AWS_ACCOUNT_ID": "123456789012",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "ROLECALL_PROFILE": "prod",
    }
    assert after_dev["AWS_ACCESS_KEY_ID"] == "ASIADEV" and after_dev["ROLECALL_PROFILE"] == "dev"
    # unassume restores what was there before the FIRST assume, not what the second one replaced.
    assert _managed(restored) == mine
    fmt = {"bash": "sh", "zsh": "sh", "fish": "fish"}[rig.shell]
    assert rig.calls() == [
        ["env", "--format", fmt, "--pick", "prod", "--duration", "900"],
        ["env", "--format", fmt, "--pick", "dev"],
    ]


def test_failed_assume_evaluates_nothing_and_passes_stderr_and_status(rig: ShellRig) -> None:
    result = rig.run(f"assume fail\necho status=$status >&2\n{DUMP[rig.shell]}".replace("$status", _status(rig)))
    stderr = result.stderr.decode()
    assert "rolecall: AccessDenied: not authorized (hint: check the trust policy)" in stderr
    assert "status=4" in stderr
    (env,) = _dumps(result.stdout)
    assert "SHOULD_NOT_BE_SET" not in env and "AWS_ACCESS_KEY_ID" not in env


def _status(rig: ShellRig) -> str:
    return "$status" if rig.shell == "fish" else "$?"


def test_assume_help_is_shown_not_evaluated(rig: ShellRig) -> None:
    result = rig.run(f"assume --help\necho status={_status(rig)}")
    assert result.stdout.decode() == "usage: rolecall env [PROFILE]\nstatus=0\n", result.stderr
    assert rig.calls() == [["env", "--help"]]


def test_unassume_without_memory_removes_identity_but_keeps_region(rig: ShellRig) -> None:
    """A child shell inherits the variables but not the saved state: unassume then removes every identity
    variable and leaves the region alone, starting no process."""
    inherited = {
        "AWS_ACCESS_KEY_ID": "ASIAOLD",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_SESSION_TOKEN": "y",
        "AWS_PROFILE": "p",
        "ROLECALL_PROFILE": "prod",
        "AWS_REGION": "eu-west-1",
    }
    result = rig.run(f"unassume\n{DUMP[rig.shell]}", extra_env=inherited)
    assert result.returncode == 0, result.stderr
    (env,) = _dumps(result.stdout)
    assert _managed(env) == {"AWS_REGION": "eu-west-1"}
    assert rig.calls() == []


def test_fish_warns_about_a_universal_aws_profile(aws_home: AwsHome, tmp_path: Path) -> None:
    _need("fish")
    rig = ShellRig("fish", aws_home, tmp_path)
    # Without --no-config, under which fish keeps no universal variables; the XDG dirs are the test's own.
    script = f"source {rig.init}; set -Ux AWS_PROFILE mine; assume prod; set -e -U AWS_PROFILE"
    result = subprocess.run(["fish", "-c", script], env=rig.env, capture_output=True, text=True, timeout=60)
    assert "AWS_PROFILE is a fish universal variable" in result.stderr


# --- the prompt segment ------------------------------------------------------------------------------------


def _iso(moment: datetime, shape: str = "Z") -> str:
    if shape == "Z":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if shape == "fraction":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.123456Z")
    offset = timezone(timedelta(hours=5, minutes=30)) if shape == "+05:30" else timezone(timedelta(hours=-7))
    return moment.astimezone(offset).isoformat(timespec="seconds")


def _prompt(rig: ShellRig, expiration: str | None, profile: str | None = "prod") -> str:
    # PATH names no folder: had the segment tried to run any program, it would fail and print nothing.
    update = "rolecall_prompt_update; printf '%s|' \"$ROLECALL_PROMPT\"; rolecall_prompt"
    extra = {"PATH": "/nonexistent"}
    if profile is not None:
        extra["ROLECALL_PROFILE"] = profile
    if expiration is not None:
        extra["AWS_CREDENTIAL_EXPIRATION"] = expiration
    result = rig.run(update, extra_env=extra)
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    variable, _, printed = result.stdout.decode().partition("|")
    assert variable == printed
    return printed


@pytest.mark.parametrize(
    ("minutes", "shape", "shown"),
    [
        (1, "Z", "prod 1m"),
        (42, "Z", "prod 42m"),
        (42, "fraction", "prod 42m"),
        (42, "+05:30", "prod 42m"),
        (42, "-07:00", "prod 42m"),
        (59, "Z", "prod 59m"),
        (60, "Z", "prod 1h00m"),
        (125, "Z", "prod 2h05m"),
        (719, "+05:30", "prod 11h59m"),
        (36 * 60, "Z", "prod 36h00m"),
    ],
)
def test_prompt_shows_minutes_left(rig: ShellRig, minutes: int, shape: str, shown: str) -> None:
    # 20 s under the minute: the segment rounds up, so that is `minutes`, whatever the shell's start-up cost.
    expiry = datetime.now(timezone.utc) + timedelta(minutes=minutes, seconds=-20)
    assert _prompt(rig, _iso(expiry, shape)) == shown


def test_prompt_says_expired_and_handles_absent_or_odd_values(rig: ShellRig) -> None:
    past = datetime.now(timezone.utc) - timedelta(seconds=5)
    assert _prompt(rig, _iso(past)) == "prod expired"
    assert _prompt(rig, "2001-02-03T04:05:06Z") == "prod expired"
    assert _prompt(rig, None) == "prod"  # long-term keys or a profile-only export: no expiry
    assert _prompt(rig, "not a date") == "prod"
    assert _prompt(rig, _iso(past), profile=None) == ""


def test_prompt_epoch_arithmetic_matches_python(rig: ShellRig) -> None:
    """days-from-civil in shell arithmetic, over leap days, month ends, centuries and offsets."""
    samples = [
        "1970-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "2000-02-29T12:00:00Z",
        "2024-02-29T23:59:59+01:00",
        "2026-03-01T00:00:00-00:30",
        "2026-11-27T23:20:11.999Z",
        "2038-01-19T03:14:08Z",
        "2100-03-01T00:00:00Z",
        "2399-12-31T08:09:10+14:00",
    ]
    if rig.shell == "fish":
        body = "for t in " + " ".join(samples) + "; _rolecall_epoch $t; end"
    else:
        body = "for t in " + " ".join(samples) + '; do _rolecall_epoch "$t"; echo "$__rc_epoch"; done'
    result = rig.run(body, extra_env={"PATH": "/nonexistent"})
    assert result.returncode == 0, result.stderr
    from rolecall.timefmt import parse_timestamp

    assert [int(x) for x in result.stdout.split()] == [int(parse_timestamp(t).timestamp()) for t in samples]


# --- completion --------------------------------------------------------------------------------------------


def test_bash_completes_profile_names(aws_home: AwsHome, tmp_path: Path) -> None:
    _need("bash")
    rig = ShellRig("bash", aws_home, tmp_path)
    body = (
        "complete -p assume; COMP_WORDS=(assume pro); COMP_CWORD=1; _rolecall_complete_assume; "
        'printf "%s\\n" "${COMPREPLY[@]}"; COMP_WORDS=(assume --); _rolecall_complete_assume; '
        'echo "options: ${#COMPREPLY[@]}"'
    )
    result = rig.run(body)
    assert result.stdout.decode().splitlines() == [
        "complete -F _rolecall_complete_assume assume",
        "prod",
        "prod-admin",
        "options: 0",
    ]
    assert rig.calls() == [["__complete", "profiles"]]


def test_fish_completes_profile_names(aws_home: AwsHome, tmp_path: Path) -> None:
    _need("fish")
    rig = ShellRig("fish", aws_home, tmp_path)
    result = rig.run("complete -C 'assume pro'")
    assert result.stdout.decode().split() == ["prod", "prod-admin"], result.stderr


def test_zsh_registers_completion_with_compinit(aws_home: AwsHome, tmp_path: Path) -> None:
    _need("zsh")
    rig = ShellRig("zsh", aws_home, tmp_path)
    dump = tmp_path / "zcompdump"
    result = subprocess.run(
        [
            "zsh",
            "-f",
            "-c",
            f"autoload -Uz compinit; compinit -u -d {dump}; source {rig.init}; print -r -- $_comps[assume]",
        ],
        env=rig.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "_rolecall_assume", result.stderr


# --- a real terminal ---------------------------------------------------------------------------------------

INTERACTIVE = {
    "bash": (["bash", "--norc", "--noprofile", "-i"], 'echo "key=${AWS_ACCESS_KEY_ID-none}"'),
    "zsh": (["zsh", "-f", "-i"], 'echo "key=${AWS_ACCESS_KEY_ID-none}"'),
    "fish": (
        ["fish", "--no-config", "-i"],
        # `no''ne`: the terminal echoes the command line too, and it must not contain the text expected below.
        "set -q AWS_ACCESS_KEY_ID; and echo key=$AWS_ACCESS_KEY_ID; or echo key=no''ne",
    ),
}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_interactive_assume_with_mfa_prompt_on_the_terminal(shell: str, aws_home: AwsHome, tmp_path: Path) -> None:
    """In an interactive shell on a real pty: the MFA prompt of `rolecall env` reaches the terminal through
    `assume`, the answer is read from it, and the variables land in that same interactive shell."""
    _need(shell)
    import pexpect

    rig = ShellRig(shell, aws_home, tmp_path)
    argv, show_key = INTERACTIVE[shell]
    child = pexpect.spawn(argv[0], argv[1:], env=rig.env, encoding="utf-8", timeout=30, dimensions=(40, 200))
    try:
        child.sendline(f"source {rig.init}")
        child.sendline("assume mfa")
        child.expect_exact("MFA code for mfa: ")
        child.sendline("123456")
        child.sendline(show_key)
        child.expect_exact("key=ASIAMFA")
        child.sendline('echo "[$(rolecall_prompt)]"' if shell != "fish" else 'echo "["(rolecall_prompt)"]"')
        child.expect_exact("[mfa 42m]")
        child.sendline("assume mfa-admin")
        child.expect_exact("MFA code for mfa-admin: ")
        child.sendline("000000")
        child.expect_exact("rolecall: the MFA code was refused")
        child.sendline(show_key)
        child.expect_exact("key=ASIAMFA")  # a failed assume changes nothing
        child.sendline("unassume")
        child.sendline(show_key)
        child.expect_exact("key=none")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


# --- end to end: the real `rolecall env` against the local strict STS ---------------------------------------

_CALLER = "{aws} sts get-caller-identity --query Arn --output text\n"
_SH_E2E = "assume readonly || exit 9\n" + _CALLER + 'echo "[$(rolecall_prompt)]"\n'
E2E = {
    "bash": _SH_E2E
    + 'COMP_WORDS=(assume read); COMP_CWORD=1; _rolecall_complete_assume; echo "complete=${{COMPREPLY[*]}}"\n'
    + "unassume\necho @@DUMP@@\n"
    + DUMP["bash"],
    "zsh": _SH_E2E + "unassume\necho @@DUMP@@\n" + DUMP["zsh"],
    "fish": "assume readonly; or exit 9\n"
    + _CALLER
    + 'echo "["(rolecall_prompt)"]"\necho complete=(complete -C "assume read")\nunassume\necho @@DUMP@@\n'
    + DUMP["fish"],
}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_end_to_end_with_the_real_rolecall_against_the_sandbox(
    shell: str,
    sandbox: Sandbox,  # noqa: F811 - the fixture
    aws_home: AwsHome,
    tmp_path: Path,
) -> None:
    """`assume readonly` with the real `rolecall env` (an AssumeRole on the local strict STS): the AWS CLI in
    that shell is then the role, the prompt shows the profile, completion lists the real profiles, and
    `unassume` restores the variables."""
    _need(shell)
    rig = ShellRig(shell, aws_home, tmp_path)
    files = sandbox.write_aws_files(aws_home.root)
    # The real rolecall (the console script beside this Python) instead of the test double.
    rig.env.update(files, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    aws = f"{sys.executable} -m awscli"
    result = rig.run(E2E[shell].format(aws=aws))
    out = result.stdout.decode(errors="replace")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert f"arn:aws:sts::{sandbox.account_id}:assumed-role/readonly/" in out
    prompt = out[out.index("[") + 1 : out.index("]")]
    assert prompt.startswith("readonly ") and prompt != "readonly expired", prompt
    if shell != "zsh":  # zsh's completion needs its completion system running in a terminal
        assert "complete=readonly" in out
    (restored,) = _dumps(result.stdout.split(b"@@DUMP@@\n")[1])
    assert _managed(restored) == {"AWS_REGION": files["AWS_REGION"], "AWS_DEFAULT_REGION": files["AWS_DEFAULT_REGION"]}


@pytest.mark.parametrize(
    ("shell", "options"),
    [
        ("bash", "set -u"),
        ("zsh", "setopt nounset ksh_arrays sh_word_split rc_quotes warn_create_global no_function_argzero"),
    ],
)
def test_user_options_do_not_change_the_functions(shell: str, options: str, aws_home: AwsHome, tmp_path: Path) -> None:
    """Options people set in their rc files (nounset, ksh_arrays, warn_create_global...) cause no error or
    warning, and assume/prompt/unassume still work."""
    _need(shell)
    rig = ShellRig(shell, aws_home, tmp_path)
    body = (
        f"{options}\nAWS_PROFILE=mine\nassume prod\n"
        'printf "%s|%s|" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"; rolecall_prompt; echo\n'
        'unassume\necho "${AWS_ACCESS_KEY_ID-none} ${AWS_PROFILE-none}"'
    )
    result = rig.run(body)
    assert result.stderr == b""
    assert result.stdout.decode() == f"ASIAPROD|{SECRET}|prod 42m\nnone mine\n"


def test_each_assume_starts_from_the_identity_before_the_first(rig: ShellRig) -> None:
    """`assume dev` after `assume prod` runs rolecall with the user's own variables (AWS_PROFILE=mine, no prod
    keys), not with prod's: switching is not chaining. The current shell keeps prod's until the new ones land."""
    result = rig.run("assume prod\nassume\nassume dev", extra_env={"AWS_PROFILE": "mine"})
    assert result.returncode == 0, result.stderr
    baseline = {"AWS_PROFILE": "mine", "AWS_ACCESS_KEY_ID": None, "ROLECALL_PROFILE": None}
    assert rig.environments() == [baseline, baseline, baseline]


COMPLETION_SETUP = {
    "bash": "source {init}",
    "zsh": "autoload -Uz compinit; compinit -u -d {tmp}/zcompdump; source {init}",
    "fish": "source {init}",
}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_tab_completes_a_profile_name_on_a_terminal(shell: str, aws_home: AwsHome, tmp_path: Path) -> None:
    """A real Tab key in an interactive shell: `assume stag<Tab>` becomes `assume staging`."""
    _need(shell)
    import pexpect

    rig = ShellRig(shell, aws_home, tmp_path)
    argv = INTERACTIVE[shell][0]
    child = pexpect.spawn(argv[0], argv[1:], env={**rig.env, "TERM": "dumb"}, encoding="utf-8", timeout=30)
    try:
        child.sendline(COMPLETION_SETUP[shell].format(init=rig.init, tmp=tmp_path))
        child.sendline("echo ready-$(math 1 + 1)" if shell == "fish" else "echo ready-$((1+1))")
        child.expect_exact("ready-2")
        child.send("assume stag\t")
        child.expect_exact("staging")  # only the completion can have written the "ing"
        child.send("\x03")  # Ctrl-C: drop the line
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert ["__complete", "profiles"] in rig.calls()
