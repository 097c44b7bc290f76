"""``rolecall exec PROFILE -- CMD`` with and without ``--server``: exit codes, signals, argv free of secrets,
CMD's environment, nesting (issues 5 and 6). Real processes throughout: rolecall, the child, bash, a pty."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

#: A child that records its environment (and, behind a credentials server, the credentials it gets from it),
#: says it is ready, then records every SIGINT/SIGTERM it receives and who sent it: after the first it waits
#: one more second (so a duplicate would be counted) and exits 42.
CHILD = r'''
import json, os, signal, sys, time
out = sys.argv[1]
watched = {signal.SIGINT, signal.SIGTERM}
# sigwaitinfo, not handlers: each signal is seen with its sender (si_code, si_pid), none is coalesced by Python.
signal.pthread_sigmask(signal.SIG_BLOCK, watched)
record = dict(os.environ)
if "AWS_CONTAINER_CREDENTIALS_FULL_URI" in record:
    import boto3
    frozen = boto3.Session().get_credentials().get_frozen_credentials()
    record["served"] = [frozen.access_key, frozen.secret_key, frozen.token]
fd = os.open(os.path.join(out, "env.json"), os.O_WRONLY | os.O_CREAT, 0o600)
with os.fdopen(fd, "w") as handle:
    json.dump(record, handle)
open(os.path.join(out, "ready"), "w").close()
received = []
first = signal.sigtimedwait(watched, 60)
if first is not None:
    received.append(first)
    end = time.time() + 1.0
    while time.time() < end:
        more = signal.sigtimedwait(watched, max(end - time.time(), 0.001))
        if more is not None:
            received.append(more)
with open(os.path.join(out, "signals"), "w") as handle:
    handle.write(" ".join(signal.Signals(info.si_signo).name for info in received))
with open(os.path.join(out, "senders"), "w") as handle:
    handle.write(" ".join(f"{info.si_code}:{info.si_pid}" for info in received))
sys.exit(42)
'''

MODES = {"plain": [], "server": ["--server"]}


def _child(tmp_path: Path) -> tuple[list[str], Path]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = tmp_path / "out"
    out.mkdir()
    return [sys.executable, str(script), str(out)], out


def _start(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rolecall", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )


def _wait_ready(out: Path, process: subprocess.Popen[str] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not (out / "ready").exists():
        if process is not None and process.poll() is not None:
            pytest.fail(f"rolecall exited {process.returncode} before the child was ready: {process.stderr.read()}")
        assert time.monotonic() < deadline, "the child never became ready"
        time.sleep(0.05)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("command", "code"), [("exit 0", 0), ("exit 1", 1), ("kill -9 $$", 137)])
def test_the_exit_code_of_cmd_comes_back(
    sandbox: Sandbox, aws_home: AwsHome, mode: str, command: str, code: int  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    # As a person sees it: the shell's $? after rolecall (137 is how a shell reports a SIGKILLed command).
    rolecall = [sys.executable, "-m", "rolecall", "exec", *MODES[mode], "readonly"]
    line = " ".join([*rolecall, "--", "sh", "-c", f"'{command}'"])
    result = subprocess.run(["bash", "-c", f'{line}; echo "code=$?"'], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip().splitlines()[-1] == f"code={code}", result.stderr


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_sent_to_rolecall_reaches_the_child_once(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path, mode: str, signum: signal.Signals  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    child, out = _child(tmp_path)
    process = _start(["exec", *MODES[mode], "readonly", "--", *child], env)
    _wait_ready(out, process)
    os.kill(process.pid, signum)  # as `kill` from another terminal, a supervisor or a CI runner would
    assert process.wait(timeout=30) == 42, process.stderr.read() if process.stderr else ""
    assert (out / "signals").read_text() == signum.name


@pytest.mark.parametrize("mode", MODES)
def test_ctrl_c_on_the_terminal_reaches_the_child_from_the_terminal(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path, mode: str  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    child, out = _child(tmp_path)
    # The terminal sends SIGINT to the whole foreground process group (rolecall and the child): rolecall must not
    # send a second one (terraform, for one, takes a second Ctrl-C as "abort now").
    terminal = pexpect.spawn(
        sys.executable, ["-m", "rolecall", "exec", *MODES[mode], "readonly", "--", *child], env=env, timeout=60
    )
    try:
        _wait_ready(out)
        terminal.sendintr()
        terminal.expect(pexpect.EOF)
    finally:
        terminal.close(force=True)
    assert (out / "signals").read_text() == "SIGINT"
    # Sent by the terminal driver (SI_KERNEL), not by rolecall. A duplicate forwarded by rolecall would arrive
    # within microseconds and usually merge with the pending one, so this test cannot prove there is none; the
    # si_code check in exec_._wait_forwarding is what prevents it.
    assert (out / "senders").read_text() == "128:0"
    assert terminal.exitstatus == 42


def _argv_of_every_process() -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                found[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue  # it ended meanwhile, or is not ours to read
    return found


@pytest.mark.parametrize("mode", MODES)
def test_no_secret_appears_in_any_process_argv(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path, mode: str  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    child, out = _child(tmp_path)
    process = _start(["exec", *MODES[mode], "readonly", "--", *child], env)
    try:
        _wait_ready(out, process)
        seen = json.loads((out / "env.json").read_text())
        if mode == "plain":
            secrets = [seen["AWS_SECRET_ACCESS_KEY"], seen["AWS_SESSION_TOKEN"]]
        else:
            assert "AWS_SECRET_ACCESS_KEY" not in seen
            secrets = [seen["served"][1], seen["served"][2], seen["AWS_CONTAINER_AUTHORIZATION_TOKEN"]]
        argvs = _argv_of_every_process()
        # The scan sees the child (so it would have seen a secret there).
        assert any(str(out).encode() in argv for argv in argvs.values())
        for secret in secrets:
            assert len(secret) >= 20
            leaks = [pid for pid, argv in argvs.items() if secret.encode() in argv]
            assert leaks == [], f"a secret is in the argv of {leaks}"
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_cmd_gets_the_keys_and_no_other_identity(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    env.update(
        AWS_PROFILE="admin",
        AWS_DEFAULT_PROFILE="admin",
        AWS_SECURITY_TOKEN="stale",
        AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:9/outer",
        AWS_CONTAINER_AUTHORIZATION_TOKEN="outer-token",
    )
    code = (
        "import json, os, subprocess, sys\n"
        "who = subprocess.run([sys.executable, '-m', 'awscli', 'sts', 'get-caller-identity'], capture_output=True,"
        " text=True, check=True).stdout\n"
        "print(json.dumps({'arn': json.loads(who)['Arn'], 'names': sorted(k for k in os.environ if 'AWS' in k"
        " or k.startswith('ROLECALL'))}))\n"
    )
    result = run_rolecall(["exec", "readonly", "--", sys.executable, "-c", code], env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["arn"].startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/readonly/")
    assert sorted(seen["names"]) == sorted(
        [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION",
            "AWS_ACCOUNT_ID",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_ENDPOINT_URL",
            "AWS_EC2_METADATA_DISABLED",
            "ROLECALL_HOME",
            "ROLECALL_PROFILE",
            "ROLECALL_EXEC_PROFILE",
        ]
    )


@pytest.mark.parametrize("mode", MODES)
def test_nesting_is_refused_unless_allowed(sandbox: Sandbox, aws_home: AwsHome, mode: str) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    inner = [sys.executable, "-m", "rolecall", "exec", "deploy", "--", sys.executable, "-m", "awscli", "sts",
             "get-caller-identity"]
    refused = run_rolecall(["exec", *MODES[mode], "readonly", "--", *inner], env)
    assert refused.returncode == 2
    assert "already inside `rolecall exec readonly`" in refused.stderr
    assert "--allow-nested" in refused.stderr
    assert refused.stdout == ""
    inner = [*inner[:4], "--allow-nested", *inner[4:]]
    if mode == "server":
        # The server's child does not see a credentials file whose [default] has keys (they would shadow the
        # server); a nested rolecall that needs it is given it back explicitly.
        inner = ["env", f"AWS_SHARED_CREDENTIALS_FILE={env['AWS_SHARED_CREDENTIALS_FILE']}", *inner]
    allowed = run_rolecall(["exec", *MODES[mode], "readonly", "--", *inner], env)
    assert allowed.returncode == 0, allowed.stderr
    assert "assumed-role/deploy/" in json.loads(allowed.stdout)["Arn"]


@pytest.mark.parametrize("mode", MODES)
def test_a_command_that_cannot_start_is_exit_code_9(sandbox: Sandbox, aws_home: AwsHome, mode: str) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = run_rolecall(["exec", *MODES[mode], "readonly", "--", "no-such-command-rolecall-test"], env)
    assert result.returncode == 9
    assert "cannot run 'no-such-command-rolecall-test'" in result.stderr


@pytest.mark.parametrize("mode", MODES)
def test_an_empty_command_name_is_exit_code_9_before_any_call(sandbox: Sandbox, aws_home: AwsHome, mode: str) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    sandbox.reset_calls()
    result = run_rolecall(["exec", *MODES[mode], "readonly", "--", ""], env)
    assert result.returncode == 9, result.stderr
    assert "its name is empty" in result.stderr and "Traceback" not in result.stderr
    assert sandbox.calls() == 0


def test_arguments_after_the_double_dash_reach_cmd_verbatim(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    args = ["--region", "x", "--", "--debug", "a b", "$HOME"]
    code = "import json, sys; print(json.dumps(sys.argv[1:]))"
    result = run_rolecall(["exec", "readonly", "--", sys.executable, "-c", code, *args], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == args
