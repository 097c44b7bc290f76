"""MFA refusals tell a wrong code from a wrong device, and a person at a terminal is asked again (issue 17, item 4).

AWS answers a code the device did not make now (a typo, another device's code, another time window, a code already
used: one answer for all) with "MultiFactorAuthentication failed with invalid MFA one time pass code." and an MFA
serial it cannot match with the caller with "MultiFactorAuthentication failed, unable to validate MFA code.  Please
verify your MFA serial number is valid and associated with this user." (the code is then never checked). The
sandbox answers both as AWS does; these tests drive the real CLI in a real terminal (pexpect) against it and read
the screen.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from conftest import AwsHome, run_rolecall
from rolecall.aws.hints import MFA_WRONG_CODE, MFA_WRONG_DEVICE, MfaRejectedError, client_error
from rolecall.aws.settings import StsSettings
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture
from sandbox_helpers import alice

NOBODY = "arn:aws:iam::123456789012:mfa/nobody"
INVALID = "MultiFactorAuthentication failed with invalid MFA one time pass code."
UNKNOWN = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  "
    "Please verify your MFA serial number is valid and associated with this user."
)


def wrong_codes(sb: Sandbox, count: int) -> list[str]:
    """``count`` 6-digit codes the device does not make now, nor a step either side (the sandbox's window)."""
    now = time.time()
    valid = {sb.totp(now + offset) for offset in (-60, -30, 0, 30, 60)}
    return [code for code in (f"{n:06d}" for n in range(100000, 999999, 111111)) if code not in valid][:count]


def spawn(args: list[str], env: dict[str, str]) -> pexpect.spawn:
    """``rolecall ARGS`` in a real terminal (its stdout and stderr are the screen too)."""
    return pexpect.spawn(sys.executable, ["-m", "rolecall", *args], env=env, encoding="utf-8", timeout=60,
                         dimensions=(40, 250))  # fmt: skip


def finish(child: pexpect.spawn) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    rest = child.before or ""
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else -1), rest


def screen_lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "").splitlines() if line.strip()]


# ---------------------------------------------------------------------- a wrong code, at a terminal


def test_a_wrong_code_is_asked_again_and_the_right_one_works(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    serial = sandbox.mfa_serial
    (wrong,) = wrong_codes(sandbox, 1)
    child = spawn(["env", "admin"], env)
    child.expect_exact(f"Enter MFA code for {serial}: ")
    child.sendline(wrong)
    child.expect_exact(
        f"AWS did not accept that MFA code for {serial}; enter the code your device shows now (try 2 of 3)"
    )
    child.expect_exact(f"Enter MFA code for {serial}: ")
    code = sandbox.fresh_code()
    child.sendline(code)
    status, rest = finish(child)
    assert status == 0, rest
    assert re.search(r"AWS_ACCESS_KEY_ID='?ASIA", rest), rest
    assert wrong not in rest and code not in rest  # nothing typed is echoed
    assert sandbox.calls("GetSessionToken") == 2  # the refused code, then the right one


def test_the_code_aws_just_refused_is_not_sent_again_nor_called_used(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    serial = sandbox.mfa_serial
    (wrong,) = wrong_codes(sandbox, 1)
    child = spawn(["env", "admin"], env)
    child.expect_exact(f"Enter MFA code for {serial}: ")
    child.sendline(wrong)
    child.expect_exact("(try 2 of 3)")
    child.expect_exact(f"Enter MFA code for {serial}: ")
    child.sendline(wrong)  # the same mistake again
    child.expect_exact(f"AWS refused that MFA code for {serial} a moment ago; enter the code your device shows now")
    child.expect_exact(f"Enter MFA code for {serial}: ")
    assert sandbox.calls("GetSessionToken") == 1  # rolecall did not send it again
    child.sendline(sandbox.fresh_code())
    status, rest = finish(child)
    assert status == 0, rest
    assert "already used" not in (child.before or "") + rest


def test_three_wrong_codes_end_with_exit_5_and_one_line(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    serial = sandbox.mfa_serial
    codes = wrong_codes(sandbox, 3)
    child = spawn(["env", "admin"], env)
    for number, code in enumerate(codes, 1):
        child.expect_exact(f"Enter MFA code for {serial}: ")
        child.sendline(code)
        if number < 3:
            child.expect_exact(f"(try {number + 1} of 3)")
    status, rest = finish(child)
    assert status == 5
    lines = screen_lines(rest)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"rolecall: AWS refused 3 MFA codes in a row for {serial} ({INVALID})")
    assert "(hint: check that" in lines[0] and "clock" in lines[0]
    assert "already used" not in lines[0]
    assert sandbox.calls("GetSessionToken") == 3


def test_a_wrong_code_is_asked_again_inside_eval_in_bash(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """The everyday path: the prompt and the retry line reach the screen while stdout is captured by $(...)."""
    env = seeded_env(sandbox, aws_home)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    (wrong,) = wrong_codes(sandbox, 1)
    child = pexpect.spawn("bash", ["--norc", "--noprofile", "-c",
                                   'eval "$(rolecall env admin)"; echo "key=${AWS_ACCESS_KEY_ID:0:4}"'],
                          env=env, encoding="utf-8", timeout=60, dimensions=(40, 250))  # fmt: skip
    child.expect_exact(f"Enter MFA code for {sandbox.mfa_serial}: ")
    child.sendline(wrong)
    child.expect_exact("AWS did not accept that MFA code")
    child.expect_exact(f"Enter MFA code for {sandbox.mfa_serial}: ")
    child.sendline(sandbox.fresh_code())
    child.expect_exact("key=ASIA")
    assert finish(child)[0] == 0


def test_assume_direct_strategy_asks_again_too(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """The same for AssumeRole with the code (strategy direct), through `rolecall assume`."""
    env = seeded_env(sandbox, aws_home)
    (wrong,) = wrong_codes(sandbox, 1)
    child = spawn(["assume", "admin", "--mfa-strategy", "direct", "--output", "json"], env)
    child.expect_exact(f"Enter MFA code for {sandbox.mfa_serial}: ")
    child.sendline(wrong)
    child.expect_exact("(try 2 of 3)")
    child.expect_exact(f"Enter MFA code for {sandbox.mfa_serial}: ")
    child.sendline(sandbox.fresh_code())
    status, rest = finish(child)
    assert status == 0, rest
    assert "assumed-role/admin/" in rest
    assert sandbox.calls("AssumeRole") == 2 and sandbox.calls("GetSessionToken") == 0


# ---------------------------------------------------------------------- a wrong device


@pytest.mark.parametrize("serial", [NOBODY, "arn:aws:iam::123456789012:user/alice"])
def test_a_wrong_serial_names_it_and_the_fix_and_keeps_the_code_good(
    serial: str, sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home, config=f"[profile typo]\nrole_arn = {sandbox.role_arn('admin')}\n"
                     f"source_profile = default\nmfa_serial = {serial}\n")  # fmt: skip
    child = spawn(["env", "typo"], env)
    child.expect_exact(f"Enter MFA code for {serial}: ")
    code = sandbox.fresh_code()
    child.sendline(code)
    status, rest = finish(child)
    assert status == 5
    lines = screen_lines(rest)
    assert len(lines) == 1, lines  # no second prompt: another code would meet the same answer
    line = lines[0]
    assert line.startswith(f"rolecall: GetSessionToken refused: AccessDenied: {UNKNOWN}")
    assert f'mfa_serial {serial} of profile "typo"' in line
    assert "`aws iam list-mfa-devices --profile default`" in line and "rolecall add-role" in line
    what = "is a user's ARN" if ":user/" in serial else 'is not an MFA device of the user of profile "default"'
    assert what in line
    assert "wait for the next" not in line and "already used" not in line
    assert sandbox.calls("GetSessionToken") == 1
    # The code was never checked, so rolecall forgot it: given again it is sent (not "already used")...
    again = run_rolecall(["env", "typo", "--token-code", code], env)
    assert again.returncode == 5 and UNKNOWN in again.stderr and "already used" not in again.stderr
    assert sandbox.calls("GetSessionToken") == 2
    # ...and it still works for the right device, right away.
    good = run_rolecall(["env", "admin", "--token-code", code], env)
    assert good.returncode == 0, good.stderr


# ---------------------------------------------------------------------- no terminal: one try, as before


def test_without_a_terminal_a_refused_code_ends_at_once(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    (wrong,) = wrong_codes(sandbox, 1)
    done = subprocess.run([sys.executable, "-m", "rolecall", "env", "admin", "--token-code", wrong], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                          start_new_session=True)  # fmt: skip  # no controlling terminal
    assert done.returncode == 5
    lines = screen_lines(done.stderr)
    assert lines[-1].startswith(f"rolecall: GetSessionToken refused: AccessDenied: {INVALID}")
    assert f"AWS did not accept the code for {sandbox.mfa_serial}" in lines[-1]
    assert "already used" not in done.stderr and "Enter MFA code" not in done.stderr
    assert sandbox.calls("GetSessionToken") == 1
    # No code and no terminal: the error of before, before any call.
    none = subprocess.run([sys.executable, "-m", "rolecall", "env", "admin"], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, start_new_session=True)  # fmt: skip
    assert none.returncode == 5 and "no terminal to ask for it" in none.stderr
    assert sandbox.calls("GetSessionToken") == 1


# ---------------------------------------------------------------------- AWS's lock of the device


def test_after_eight_refused_codes_aws_locks_the_device_and_rolecall_says_so(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    """AWS (and the sandbox) answer even a good code with the wrong-serial words after 8 refused codes in a row;
    rolecall remembers the refusals it saw and says the device is locked rather than blaming the serial."""
    env = seeded_env(sandbox, aws_home)
    for code in wrong_codes(sandbox, 8):
        assert run_rolecall(["env", "admin", "--token-code", code], env).returncode == 5
    locked = run_rolecall(["env", "admin", "--token-code", sandbox.fresh_code()], env)
    assert locked.returncode == 5
    line = locked.stderr.strip().splitlines()[-1]
    assert UNKNOWN in line
    assert f"AWS refused 8 code(s) for {sandbox.mfa_serial} in the last minutes" in line and "locks" in line
    # The sandbox itself, to a plain client: the lock holds for a good code, and another device is not locked.
    with pytest.raises(Exception, match=re.escape("unable to validate MFA code")):
        alice(sandbox).get_session_token(SerialNumber=sandbox.mfa_serial, TokenCode=sandbox.fresh_code())


def test_seven_refused_codes_do_not_lock(sandbox: Sandbox) -> None:  # noqa: F811
    client = alice(sandbox)
    for code in wrong_codes(sandbox, 7):
        with pytest.raises(Exception, match=re.escape(INVALID)):
            client.get_session_token(SerialNumber=sandbox.mfa_serial, TokenCode=code)
    assert client.get_session_token(SerialNumber=sandbox.mfa_serial, TokenCode=sandbox.fresh_code())["Credentials"]


# ---------------------------------------------------------------------- the hint table


def test_the_two_refusals_have_their_own_reason_and_hint() -> None:
    settings = StsSettings(region="us-east-1")
    params = {"SerialNumber": NOBODY, "TokenCode": "987650"}

    def refusal(message: str) -> MfaRejectedError:
        answer = {"Error": {"Code": "AccessDenied", "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 403}}
        error = client_error(answer, "GetSessionToken", settings, params, None)
        assert isinstance(error, MfaRejectedError) and error.exit_code == 5
        return error

    device = refusal(UNKNOWN)
    assert device.reason == MFA_WRONG_DEVICE and device.serial == NOBODY
    assert f"AWS knows no MFA device {NOBODY}" in str(device.hint) and "list-mfa-devices" in str(device.hint)
    code = refusal(INVALID + " ")  # AWS ends this one with a space
    assert code.reason == MFA_WRONG_CODE
    assert "already used" not in str(code.hint) and "wait for the next" not in str(code.hint)
    assert "987650" not in code.message + str(code.hint) + device.message + str(device.hint)
