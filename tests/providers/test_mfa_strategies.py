"""MFA with the fewest prompts, against the strict sandbox (issue 4).

Codes come from a real ``mfa_process`` (tests/mfa_code_process.py) that computes the device's TOTP and
counts how often it was asked: the count is the number of prompts a person would have seen.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pexpect
import pytest

from conftest import AwsHome, run_aws, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

CODE_SCRIPT = Path(__file__).resolve().parents[1] / "mfa_code_process.py"
MFA_TRUST = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


class Codes:
    """The counting mfa_process of one test."""

    def __init__(self, sb: Sandbox, folder: Path, mode: str = "current") -> None:
        self.seed = folder / "seed"
        self.seed.write_text(sb.mfa_seed)
        self.seed.chmod(0o600)
        self.counter = folder / "asked"
        self.counter.write_text("")
        self.command = f"{sys.executable} {CODE_SCRIPT} {self.seed} {self.counter} {mode}"

    @property
    def asked(self) -> int:
        return len(self.counter.read_text().splitlines())


def _mfa_roles(sb: Sandbox, names: list[str]) -> None:
    from rolecall.sandbox.core import trust_policy

    root = f"arn:aws:iam::{sb.account_id}:root"
    for name in names:
        sb.create_role(name, trust_policy(root, MFA_TRUST), max_session_duration=43200)


def _role_profile(sb: Sandbox, name: str, codes: Codes, extra: str = "") -> str:
    return (
        f"[profile {name}]\nrole_arn = {sb.role_arn(name)}\nsource_profile = default\n"
        f"mfa_serial = {sb.mfa_serial}\nmfa_process = {codes.command}\nendpoint_url = {sb.endpoint_url}\n{extra}"
    )


def test_reuse_five_roles_cost_one_prompt_and_one_get_session_token(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path  # noqa: F811
) -> None:
    names = [f"team{i}" for i in range(5)]
    _mfa_roles(sandbox, names)
    codes = Codes(sandbox, tmp_path)
    env = seeded_env(sandbox, aws_home, config="".join(_role_profile(sandbox, n, codes) for n in names))
    for name in names:
        result = run_rolecall(["assume", name], env)
        assert result.returncode == 0, result.stderr
        assert f"assumed-role/{name}/" in result.stderr
    assert codes.asked == 1
    assert sandbox.calls("GetSessionToken") == 1
    assert sandbox.calls("AssumeRole") == 5
    # Each role session is capped at 1 h by AWS (they are assumed with the MFA session's temporary keys).
    first = run_rolecall(["assume", names[0], "--output", "json"], env)
    assert "from the AWS CLI cache" in first.stderr


def test_direct_costs_one_prompt_per_role(sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path) -> None:  # noqa: F811
    # Three roles: the sandbox, like AWS, accepts the codes of the previous, current and next 30 s step, so
    # three distinct codes exist at any moment (`spread`) and the test need not wait for new windows.
    names = [f"direct{i}" for i in range(3)]
    _mfa_roles(sandbox, names)
    codes = Codes(sandbox, tmp_path, mode="spread")
    profiles = "".join(_role_profile(sandbox, n, codes, "mfa_strategy = direct\n") for n in names)
    env = seeded_env(sandbox, aws_home, config=profiles)
    waits = 0
    for name in names:
        result = run_rolecall(["assume", name], env, timeout=90)
        assert result.returncode == 0, result.stderr
        assert "MFA strategy direct" in result.stderr  # never silent about why a code is asked
        # When a 30 s boundary falls during the test, a "spread" code repeats one already sent; rolecall
        # then waits for a new one rather than send it (and says so): each wait costs one more ask.
        waits += result.stderr.count("for the next MFA code")
    assert codes.asked == 3 + waits
    assert sandbox.calls("GetSessionToken") == 0
    assert sandbox.calls("AssumeRole") == 3


def test_long_duration_picks_direct_and_says_why(sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path) -> None:  # noqa: F811
    codes = Codes(sandbox, tmp_path)
    env = seeded_env(sandbox, aws_home, config=_role_profile(sandbox, "admin-long", codes, "duration_seconds = 28800\n")
                 .replace(sandbox.role_arn("admin-long"), sandbox.role_arn("admin")))
    plan = run_rolecall(["assume", "admin-long", "--explain"], env)
    assert plan.returncode == 0, plan.stderr
    assert "strategy direct" in plan.stdout and "28800 > 3600" in plan.stdout
    assert sandbox.calls() == 0 and codes.asked == 0  # --explain makes no call and asks nothing
    result = run_rolecall(["assume", "admin-long", "--output", "json"], env)
    assert result.returncode == 0, result.stderr
    expiry = datetime.fromisoformat(json.loads(result.stdout)["Expiration"])
    left = expiry - datetime.now(timezone.utc)
    assert timedelta(hours=7, minutes=55) < left <= timedelta(hours=8)  # the 8 h asked for, not capped at 1 h
    assert sandbox.calls("GetSessionToken") == 0 and sandbox.calls("AssumeRole") == 1


def test_eight_parallel_invocations_share_one_prompt_and_one_call(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path  # noqa: F811
) -> None:
    codes = Codes(sandbox, tmp_path)
    env = seeded_env(sandbox, aws_home, config=_role_profile(sandbox, "prod", codes).replace(
        sandbox.role_arn("prod"), sandbox.role_arn("admin")))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "rolecall", "assume", "prod", "--output", "json"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    keys = {json.loads(out)["AccessKeyId"] for out, _ in outputs}
    assert len(keys) == 1  # all eight got the same role session
    assert codes.asked == 1
    assert sandbox.calls("AssumeRole") == 1
    assert sandbox.calls("GetSessionToken") == 1


def test_a_used_code_is_never_sent_again(sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path) -> None:  # noqa: F811
    # Two direct roles and an mfa_process that gives the second role the code the first one used (`repeat`).
    # The sandbox (like AWS) would refuse it; rolecall must notice, wait for the next window, and ask again.
    _mfa_roles(sandbox, ["first", "second"])
    codes = Codes(sandbox, tmp_path, mode="repeat")
    env = seeded_env(sandbox, aws_home, config="".join(
        _role_profile(sandbox, n, codes, "mfa_strategy = direct\n") for n in ("first", "second")))
    assert run_rolecall(["assume", "first"], env).returncode == 0
    started = time.monotonic()
    result = run_rolecall(["assume", "second"], env, timeout=90)
    assert result.returncode == 0, result.stderr
    assert "waiting" in result.stderr and "already used" in result.stderr
    assert codes.asked == 3  # first, the repeat it refused to send, then the new one after the wait
    assert time.monotonic() - started < 80  # one 30 s window at most, with room for a loaded machine
    assert sandbox.calls("AssumeRole") == 2  # no refused call was ever made


def test_terminal_prompt_in_a_real_pty(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    child = pexpect.spawn(
        sys.executable, ["-m", "rolecall", "assume", "admin"], env=env, encoding="utf-8", timeout=60
    )
    child.expect(f"Enter MFA code for {sandbox.mfa_serial}: ")
    before_prompt = child.before or ""
    code = sandbox.fresh_code()
    child.sendline(code)
    child.expect(pexpect.EOF)
    output = child.before or ""
    child.close()
    assert child.exitstatus == 0, output
    assert code not in output  # no echo
    assert "assumed-role/admin/" in output
    # One line said which strategy and why before the code was asked.
    assert "MFA strategy reuse (the default)" in before_prompt


def test_no_terminal_and_no_code_source_is_a_clear_error(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "rolecall", "assume", "admin"], env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=30, start_new_session=True,  # no controlling terminal
    )
    assert result.returncode == 5
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - started < 25  # an error, not a wait for input (the timeout above is 30 s)
    assert sandbox.calls() == 0


def test_token_code_flag_and_aws_cli_interop(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = run_rolecall(["assume", "admin", "--token-code", sandbox.fresh_code()], env)
    assert result.returncode == 0, result.stderr
    calls = sandbox.calls("AssumeRole")
    # The AWS CLI, stdin closed (it could not prompt), uses rolecall's role session from its own cache.
    aws = run_aws(["sts", "get-caller-identity", "--profile", "admin"], env)
    assert aws.returncode == 0, aws.stderr
    assert "assumed-role/admin/" in json.loads(aws.stdout)["Arn"]
    assert sandbox.calls("AssumeRole") == calls


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567"])
def test_bad_token_code_rejected_before_sending(sandbox: Sandbox, aws_home: AwsHome, code: str) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = run_rolecall(["assume", "admin", "--token-code", code], env)
    assert result.returncode == 8 and "6 digits" in result.stderr
    assert sandbox.calls() == 0
