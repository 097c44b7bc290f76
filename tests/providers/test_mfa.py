"""rolecall.mfa with real things: a real pty for the prompt, real processes for mfa_process, the memory and the lock."""

from __future__ import annotations

import itertools
import json
import os
import pty
import select
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyotp
import pytest

from rolecall.errors import InvalidInputError, MfaError
from rolecall.mfa import (
    PROMPT,
    ProcessCodeSource,
    StaticCode,
    TerminalPrompt,
    UsedCodes,
    device_lock,
    obtain_fresh_code,
)

SERIAL = "arn:aws:iam::111111111111:mfa/alice"


def write_script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


# ---------------------------------------------------------------------------------------------- a real terminal


class Terminal:
    """A child process on a fresh pty that is its controlling terminal (what pexpect does, with the stdlib)."""

    def __init__(self, argv: list[str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: a session leader whose controlling terminal is the pty
            try:
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.output = b""
        self.matched = 0  # where the next expect starts looking

    def expect(self, text: str, timeout: float = 15.0) -> None:
        """Read until ``text`` has appeared after everything matched so far."""
        needle = text.encode()
        deadline = time.monotonic() + timeout
        while needle not in self.output[self.matched :]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {text!r}; terminal so far: {self.output!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"terminal closed before {text!r}; output: {self.output!r}")
                self.output += chunk
        self.matched = self.output.index(needle, self.matched) + len(needle)

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def finish(self, timeout: float = 15.0) -> int:
        """Drain the output and return the exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                self.output += chunk
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


PROMPT_SCRIPT = """
import sys
from rolecall.errors import MfaError
from rolecall.mfa import TerminalPrompt, UsedCodes, obtain_fresh_code

serial, out, state = sys.argv[1], sys.argv[2], sys.argv[3]
if len(sys.argv) > 4:  # stdout and stderr away from the terminal, as in eval "$(rolecall env prod)"
    redirected = open(sys.argv[4], "w")
    import os
    os.dup2(redirected.fileno(), 1)
    os.dup2(redirected.fileno(), 2)
def report(line):
    print("REPORT: " + line, file=sys.stderr, flush=True)
try:
    code = obtain_fresh_code(TerminalPrompt(), serial, UsedCodes(state), reporter=report)
except MfaError as error:
    print(f"MFAERROR: {error.message} | {error.hint}", flush=True)
    sys.exit(5)
with open(out, "w") as handle:
    handle.write(code)
print("DONE", flush=True)
"""


@pytest.fixture
def prompt_script(tmp_path: Path) -> Path:
    return write_script(tmp_path, "prompt.py", PROMPT_SCRIPT)


def test_prompt_wording_no_echo_and_reask(tmp_path: Path, prompt_script: Path) -> None:
    out = tmp_path / "code"
    term = Terminal([sys.executable, str(prompt_script), SERIAL, str(out), str(tmp_path / "state")])
    prompt = f"Enter MFA code for {SERIAL}: "
    assert PROMPT.format(serial=SERIAL) == prompt
    term.expect(prompt)
    term.type("12345\n")  # 5 digits: asked again
    term.expect("An MFA code is 6 digits; try again.\r\n" + prompt)
    term.type("987 654\n")  # as authenticators show it
    term.expect("DONE")
    assert term.finish() == 0
    assert out.read_text() == "987654"
    assert term.output.startswith(prompt.encode()), term.output
    for typed in (b"12345", b"987 654", b"987654"):
        assert typed not in term.output, f"{typed!r} was echoed: {term.output!r}"


def test_prompt_goes_to_the_terminal_when_stdout_and_stderr_are_redirected(tmp_path: Path, prompt_script: Path) -> None:
    out, elsewhere = tmp_path / "code", tmp_path / "redirected"
    term = Terminal([sys.executable, str(prompt_script), SERIAL, str(out), str(tmp_path / "state"), str(elsewhere)])
    term.expect(f"Enter MFA code for {SERIAL}: ")
    term.type("246810\n")
    assert term.finish() == 0
    assert out.read_text() == "246810"
    assert "Enter MFA code" not in elsewhere.read_text()
    assert "DONE" in elsewhere.read_text()


def test_prompt_gives_up_after_three_bad_answers(tmp_path: Path, prompt_script: Path) -> None:
    term = Terminal([sys.executable, str(prompt_script), SERIAL, str(tmp_path / "code"), str(tmp_path / "state")])
    for answer in ("abcdef", "1234567", ""):
        term.expect(f"Enter MFA code for {SERIAL}: ")
        term.type(answer + "\n")
    term.expect("MFAERROR: no valid MFA code was entered")
    assert term.finish() == 5
    assert not (tmp_path / "code").exists()
    assert b"abcdef" not in term.output and b"1234567" not in term.output


def test_prompt_ctrl_d_is_an_mfa_error(tmp_path: Path, prompt_script: Path) -> None:
    term = Terminal([sys.executable, str(prompt_script), SERIAL, str(tmp_path / "code"), str(tmp_path / "state")])
    term.expect(f"Enter MFA code for {SERIAL}: ")
    term.type("\x04")
    term.expect("MFAERROR: no MFA code was entered")
    assert term.finish() == 5


def test_prompt_asks_for_the_next_code_when_the_typed_one_was_used(tmp_path: Path, prompt_script: Path) -> None:
    """A person who types a code already sent is told, through the reporter, and asked again (no waiting)."""
    state = tmp_path / "state"
    UsedCodes(str(state)).remember(SERIAL, "111111", time.time())
    out = tmp_path / "code"
    term = Terminal([sys.executable, str(prompt_script), SERIAL, str(out), str(state)])
    term.expect(f"Enter MFA code for {SERIAL}: ")
    term.type("111111\n")
    term.expect(f"REPORT: that MFA code for {SERIAL} was already used; enter the next code your device shows")
    term.expect(f"Enter MFA code for {SERIAL}: ")
    term.type("222222\n")
    term.expect("DONE")
    assert term.finish() == 0
    assert out.read_text() == "222222"
    assert UsedCodes(str(state)).was_used(SERIAL, "222222", time.time())


def test_no_terminal_is_a_quick_mfa_error(tmp_path: Path, prompt_script: Path) -> None:
    """No controlling terminal (new session) and stdin /dev/null: an error with a hint, not a hang or an echo."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(prompt_script), SERIAL, str(tmp_path / "code"), str(tmp_path / "state")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=20,
        start_new_session=True,
    )
    assert time.monotonic() - started < 10
    assert done.returncode == 5, done
    assert f"MFAERROR: an MFA code for {SERIAL} is needed and there is no terminal to ask for it" in done.stdout
    assert "--token-code" in done.stdout and "mfa_process" in done.stdout
    assert "Enter MFA code" not in done.stdout + done.stderr
    assert "GetPassWarning" not in done.stderr


def test_missing_terminal_device_is_an_mfa_error(tmp_path: Path) -> None:
    with pytest.raises(MfaError, match="no terminal"):
        TerminalPrompt(tty=str(tmp_path / "no-such-tty")).code(SERIAL)


# ---------------------------------------------------------------------------------------------- --token-code


def test_static_code() -> None:
    assert StaticCode("123456").code(SERIAL) == "123456"
    assert StaticCode(" 123 456 ").code("other") == "123456"
    assert "123456" not in repr(StaticCode("123456"))


@pytest.mark.parametrize("bad", ["12345", "1234567", "12345a", "", "１２３４５６", "12345\u0663"])
def test_static_code_must_be_six_ascii_digits(bad: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        StaticCode(bad)
    assert bad not in caught.value.message or not bad


# ---------------------------------------------------------------------------------------------- mfa_process


def test_process_source_returns_the_printed_code(tmp_path: Path) -> None:
    script = write_script(tmp_path, "code.py", "print('  654321  ')\n")
    assert ProcessCodeSource(f"{sys.executable} {script}").code(SERIAL) == "654321"


def test_process_source_runs_without_a_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLECALL_TEST_X", "expanded")
    script = write_script(
        tmp_path,
        "argv.py",
        "import sys\nprint('123456' if sys.argv[1:] == ['$ROLECALL_TEST_X', 'a b'] else '000000')\n",
    )
    assert ProcessCodeSource(f"{sys.executable} {script} '$ROLECALL_TEST_X' 'a b'").code(SERIAL) == "123456"


def test_process_failure_names_the_program_but_not_its_arguments(tmp_path: Path) -> None:
    script = write_script(tmp_path, "fail.py", "import sys\nprint('777777')\nsys.exit(3)\n")
    with pytest.raises(MfaError) as caught:
        ProcessCodeSource(f"{sys.executable} {script} --totp -b JBSWY3DPEHPK3PXP").code(SERIAL)
    text = f"{caught.value.message} {caught.value.hint}"
    assert sys.executable in text and "exit status 3" in text and SERIAL in text
    assert "JBSWY3DPEHPK3PXP" not in text and "777777" not in text


def test_process_output_that_is_not_a_code_is_not_echoed(tmp_path: Path) -> None:
    script = write_script(tmp_path, "chatty.py", "print('alice@aws  123456')\n")
    with pytest.raises(MfaError, match="did not print a 6-digit MFA code") as caught:
        ProcessCodeSource(f"{sys.executable} {script}").code(SERIAL)
    assert "123456" not in caught.value.message + str(caught.value.hint)


def test_process_not_found_bad_quoting_empty_and_timeout(tmp_path: Path) -> None:
    with pytest.raises(MfaError, match="was not found"):
        ProcessCodeSource("rolecall-no-such-program-xyz --seed SECRETSEED").code(SERIAL)
    with pytest.raises(MfaError, match="not a valid command line"):
        ProcessCodeSource("ykman 'unclosed").code(SERIAL)
    with pytest.raises(MfaError, match="is empty"):
        ProcessCodeSource("   ").code(SERIAL)
    sleeper = write_script(tmp_path, "sleep.py", "import time\ntime.sleep(30)\n")
    started = time.monotonic()
    with pytest.raises(MfaError, match=r"did not finish within 0\.5 s"):
        ProcessCodeSource(f"{sys.executable} {sleeper}", timeout=0.5).code(SERIAL)
    assert time.monotonic() - started < 10


def test_process_killed_by_a_signal(tmp_path: Path) -> None:
    script = write_script(tmp_path, "die.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    with pytest.raises(MfaError, match="was killed by signal 9"):
        ProcessCodeSource(f"{sys.executable} {script}").code(SERIAL)


# ---------------------------------------------------------------------------------------------- used codes


def test_used_codes_memory(tmp_path: Path) -> None:
    state = tmp_path / "rolecall" / "mfa"
    used = UsedCodes(str(state))
    now = 1_800_000_010.0  # 10 s into a time step
    assert not used.was_used(SERIAL, "493817", now)
    used.remember(SERIAL, "493817", now)
    assert used.was_used(SERIAL, "493817", now)
    assert used.was_used(SERIAL, "493817", now + 25)  # next time step: STS would still refuse it
    assert used.was_used(SERIAL, "493817", now + 299)
    assert not used.was_used(SERIAL, "493817", now + 301)  # forgotten after 5 minutes
    assert not used.was_used(SERIAL, "493818", now)
    assert not used.was_used(SERIAL + "-other", "493817", now)
    assert UsedCodes(str(state)).was_used(SERIAL, "493817", now + 1), "a new instance reads the same memory"

    files = list(state.iterdir())
    memory = [f for f in files if f.name.endswith(".used.json")]
    assert len(memory) == 1
    content = memory[0].read_text()
    assert "493817" not in content and "alice" not in content, "neither the code nor the device in clear"
    assert stat.S_IMODE(memory[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE(state.parent.stat().st_mode) == 0o700


def test_used_codes_forget_old_entries_on_write(tmp_path: Path) -> None:
    used = UsedCodes(str(tmp_path))
    for i in range(10):
        used.remember(SERIAL, f"{i:06d}", 1_800_000_000.0 + 100 * i)
    (memory,) = tmp_path.glob("*.used.json")
    entries = json.loads(memory.read_text())["used"]
    assert len(entries) == 4  # those within 300 s of the last write (600, 700, 800, 900)
    used.remember(SERIAL, "000009", 1_800_000_905.0)  # the same code in the same step: not stored twice
    assert [e["t"] for e in json.loads(memory.read_text())["used"]] == [
        1_800_000_700.0,
        1_800_000_800.0,
        1_800_000_900.0,
    ]


def test_used_codes_corrupt_memory_counts_as_empty_and_is_repaired(tmp_path: Path) -> None:
    used = UsedCodes(str(tmp_path))
    used.remember(SERIAL, "123456", 1_800_000_000.0)
    (memory,) = tmp_path.glob("*.used.json")
    memory.write_text("{broken")
    assert not used.was_used(SERIAL, "123456", 1_800_000_001.0)
    used.remember(SERIAL, "654321", 1_800_000_002.0)
    assert used.was_used(SERIAL, "654321", 1_800_000_003.0)


def test_used_codes_tighten_a_loose_state_folder(tmp_path: Path) -> None:
    state = tmp_path / "mfa"
    state.mkdir()
    os.chmod(state, 0o755)
    UsedCodes(str(state)).remember(SERIAL, "123456", 1_800_000_000.0)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700


REMEMBER_SCRIPT = """
import sys, time
from rolecall.mfa import UsedCodes
state, serial, code, go = sys.argv[1:5]
while time.time() < float(go):  # start together to contend for the lock
    time.sleep(0.001)
UsedCodes(state).remember(serial, code, time.time())
"""


@pytest.mark.slow
def test_used_codes_across_processes(tmp_path: Path) -> None:
    """8 processes remember 8 codes at the same moment; read-modify-write under the lock loses none."""
    script = write_script(tmp_path, "remember.py", REMEMBER_SCRIPT)
    state = str(tmp_path / "state")
    go = str(time.time() + 1.5)
    codes = [f"{100000 + i * 11111}" for i in range(8)]
    procs = [subprocess.Popen([sys.executable, str(script), state, SERIAL, code, go]) for code in codes]
    assert [p.wait(timeout=60) for p in procs] == [0] * 8
    now = time.time()
    used = UsedCodes(state)
    assert all(used.was_used(SERIAL, code, now) for code in codes)
    assert not used.was_used(SERIAL, "999999", now)


# ---------------------------------------------------------------------------------------------- obtain_fresh_code


class FakeTime:
    """A clock that only moves when slept on: makes a 30-second wait instant and exact."""

    def __init__(self, start: float) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


SEQUENCE_SCRIPT = """
import sys
from pathlib import Path
counter = Path(sys.argv[1])
n = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(n + 1))
codes = sys.argv[2].split(",")
print(codes[min(n, len(codes) - 1)])
"""


def sequence_source(tmp_path: Path, codes: list[str]) -> tuple[ProcessCodeSource, Path]:
    """A real mfa_process that prints the given codes, one per run (then the last one forever)."""
    script = write_script(tmp_path, "sequence.py", SEQUENCE_SCRIPT)
    counter = tmp_path / "runs"
    return ProcessCodeSource(f"{sys.executable} {script} {counter} {','.join(codes)}"), counter


def test_fresh_code_is_returned_and_remembered(tmp_path: Path) -> None:
    source, counter = sequence_source(tmp_path, ["123456"])
    used = UsedCodes(str(tmp_path / "state"))
    fake = FakeTime(1_800_000_010.0)
    said: list[str] = []
    assert obtain_fresh_code(source, SERIAL, used, reporter=said.append, clock=fake.clock, sleep=fake.sleep) == "123456"
    assert fake.sleeps == [] and said == []
    assert used.was_used(SERIAL, "123456", fake.now)
    assert counter.read_text() == "1"


def test_remember_false_leaves_the_memory_alone(tmp_path: Path) -> None:
    source, _ = sequence_source(tmp_path, ["123456"])
    used = UsedCodes(str(tmp_path / "state"))
    obtain_fresh_code(source, SERIAL, used, reporter=lambda _l: None, remember=False)
    assert not used.was_used(SERIAL, "123456", time.time())


def test_process_source_waits_for_the_next_window(tmp_path: Path) -> None:
    """The device prints the used code twice (its clock is a little behind), then a new one."""
    source, counter = sequence_source(tmp_path, ["111111", "111111", "222222"])
    used = UsedCodes(str(tmp_path / "state"))
    fake = FakeTime(1_800_000_010.0)  # 1_800_000_000 is a multiple of 30: 10 s into a window
    used.remember(SERIAL, "111111", fake.now - 5)
    said: list[str] = []
    code = obtain_fresh_code(source, SERIAL, used, reporter=said.append, clock=fake.clock, sleep=fake.sleep)
    assert code == "222222"
    assert fake.sleeps == [21.0, 2.0]  # to the next window plus a second, then a short poll
    assert said == [
        f"waiting 21 s for the next MFA code for {SERIAL} (the current one was already used)",
        f"waiting 2 s for the next MFA code for {SERIAL} (the current one was already used)",
    ]
    assert counter.read_text() == "3"
    assert used.was_used(SERIAL, "222222", fake.now)


def test_process_source_gives_up_after_max_wait(tmp_path: Path) -> None:
    source, counter = sequence_source(tmp_path, ["111111"])
    used = UsedCodes(str(tmp_path / "state"))
    fake = FakeTime(1_800_000_010.0)
    used.remember(SERIAL, "111111", fake.now)
    with pytest.raises(MfaError, match="still one already used after waiting 35 s") as caught:
        obtain_fresh_code(source, SERIAL, used, reporter=lambda _l: None, clock=fake.clock, sleep=fake.sleep)
    assert "clock" in str(caught.value.hint)
    assert sum(fake.sleeps) <= 35.0
    assert fake.sleeps == [21.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    assert counter.read_text() == "9"


def test_used_static_code_fails_at_once(tmp_path: Path) -> None:
    used = UsedCodes(str(tmp_path))
    used.remember(SERIAL, "123456", time.time())
    fake = FakeTime(time.time())
    with pytest.raises(MfaError, match="already used") as caught:
        obtain_fresh_code(
            StaticCode("123456"), SERIAL, used, reporter=lambda _l: None, clock=fake.clock, sleep=fake.sleep
        )
    assert fake.sleeps == []
    assert "123456" not in caught.value.message


def test_interactive_source_is_asked_again_without_sleeping(tmp_path: Path) -> None:
    class Person:
        interactive = True

        def __init__(self, answers: list[str]) -> None:
            self.answers = answers

        def code(self, serial: str) -> str:
            return self.answers.pop(0)

    used = UsedCodes(str(tmp_path))
    fake = FakeTime(1_800_000_020.0)
    used.remember(SERIAL, "111111", fake.now)
    said: list[str] = []
    person = Person(["111111", "222222"])
    assert obtain_fresh_code(person, SERIAL, used, reporter=said.append, clock=fake.clock, sleep=fake.sleep) == "222222"
    assert fake.sleeps == []
    assert said == [
        f"that MFA code for {SERIAL} was already used; enter the next code your device shows (in about 11 s)"
    ]
    with pytest.raises(MfaError, match="already used, 3 times"):
        obtain_fresh_code(
            Person(["111111"] * 3), SERIAL, used, reporter=said.append, clock=fake.clock, sleep=fake.sleep
        )


TOTP_SCRIPT = """
import sys, pyotp
print(pyotp.TOTP(sys.argv[1]).now())
"""


@pytest.mark.slow
def test_real_totp_device_and_real_clock(tmp_path: Path) -> None:
    """End to end in real time: a TOTP 'device' (pyotp) as mfa_process; its current code was just used.

    obtain_fresh_code must wait for the device's next window (at most ~31 s) and return that new code.
    """
    seed = pyotp.random_base32()
    device = pyotp.TOTP(seed)
    script = write_script(tmp_path, "totp.py", TOTP_SCRIPT)
    used = UsedCodes(str(tmp_path / "state"))
    first = device.now()
    used.remember(SERIAL, first, time.time())
    said: list[str] = []
    started = time.time()
    code = obtain_fresh_code(ProcessCodeSource(f"{sys.executable} {script} {seed}"), SERIAL, used, reporter=said.append)
    elapsed = time.time() - started
    assert code != first
    assert code == device.at(time.time()) or code == device.at(time.time() - 2)
    assert elapsed <= 45  # one 30 s window plus process starts on a loaded machine
    if said:  # unless the window turned while the first code was being read
        assert said[0].startswith("waiting ") and "for the next MFA code" in said[0]


# ---------------------------------------------------------------------------------------------- device_lock


LOCK_SCRIPT = """
import os, sys, time
from rolecall.mfa import device_lock
state, serial, log, go = sys.argv[1:5]
while time.time() < float(go):
    time.sleep(0.001)
with device_lock(state, serial):
    start = time.monotonic()
    time.sleep(0.05)
    end = time.monotonic()
line = f"{os.getpid()} {start} {end}\\n"
with open(log, "a") as handle:
    handle.write(line)
"""


@pytest.mark.slow
def test_device_lock_critical_sections_never_overlap(tmp_path: Path) -> None:
    script = write_script(tmp_path, "lock.py", LOCK_SCRIPT)
    log = tmp_path / "log"
    go = str(time.time() + 1.5)
    procs = [
        subprocess.Popen([sys.executable, str(script), str(tmp_path / "state"), SERIAL, str(log), go]) for _ in range(8)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0] * 8
    spans = sorted((float(s), float(e)) for _, s, e in (line.split() for line in log.read_text().splitlines()))
    assert len(spans) == 8
    for (_, end), (next_start, _) in itertools.pairwise(spans):
        assert end <= next_start, f"critical sections overlap: {spans}"
    lock_files = [p.name for p in (tmp_path / "state").iterdir()]
    assert len(lock_files) == 1 and lock_files[0].endswith(".device.lock") and "alice" not in lock_files[0]
    assert stat.S_IMODE((tmp_path / "state" / lock_files[0]).stat().st_mode) == 0o600


SINGLE_PROMPT_SCRIPT = """
import sys, time
from datetime import datetime, timedelta, timezone
from rolecall.cache import CliCache
from rolecall.mfa import device_lock
state, cache_dir, serial, prompts, go = sys.argv[1:6]
while time.time() < float(go):
    time.sleep(0.001)
cache = CliCache(cache_dir)
said = []
entry = cache.get("role", datetime.now(timezone.utc))
if entry is None:
    with device_lock(state, serial, reporter=said.append):
        entry = cache.get("role", datetime.now(timezone.utc))  # another process may have done it meanwhile
        if entry is None:
            with open(prompts, "a") as handle:
                handle.write("prompted\\n")
            time.sleep(2.0)  # the person types, STS answers (long enough for the others to reach the lock)
            key = "ASIA" + str(__import__("os").getpid())
            cache.put("role", {"Credentials": {"AccessKeyId": key, "SecretAccessKey": "s", "SessionToken": "t",
                "Expiration": datetime.now(timezone.utc) + timedelta(hours=1)}})
            entry = cache.get("role", datetime.now(timezone.utc))
print(entry.credentials.access_key_id, len(said))
"""


@pytest.mark.slow
def test_parallel_invocations_share_one_prompt(tmp_path: Path) -> None:
    """8 processes need the same role at once: one prompts and calls STS, seven wait and reuse its result."""
    script = write_script(tmp_path, "single.py", SINGLE_PROMPT_SCRIPT)
    prompts = tmp_path / "prompts"
    go = str(time.time() + 1.5)
    argv = [sys.executable, str(script), str(tmp_path / "state"), str(tmp_path / "cache"), SERIAL, str(prompts), go]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(8)]
    outputs = [p.communicate(timeout=60)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert prompts.read_text() == "prompted\n"
    assert len({key for key, _ in outputs}) == 1, outputs
    assert sum(int(waited) for _, waited in outputs) >= 1, "the waiting processes were told why"


HOLDER_SCRIPT = """
import sys, time
from rolecall.mfa import device_lock
with device_lock(sys.argv[1], sys.argv[2]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_device_lock_timeout_and_release_when_the_holder_dies(tmp_path: Path) -> None:
    script = write_script(tmp_path, "holder.py", HOLDER_SCRIPT)
    state = str(tmp_path / "state")
    holder = subprocess.Popen([sys.executable, str(script), state, SERIAL], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        said: list[str] = []
        started = time.monotonic()
        with (
            pytest.raises(MfaError, match=r"timed out after 0\.5 s waiting for another rolecall") as caught,
            device_lock(state, SERIAL, timeout=0.5, reporter=said.append),
        ):
            pytest.fail("entered a lock another process holds")
        assert 0.4 < time.monotonic() - started < 5
        assert "other terminal" in str(caught.value.hint)
        assert said == [f"waiting for another rolecall that is getting an MFA code for {SERIAL}"]
        with device_lock(state, SERIAL + "-other", timeout=0.5):
            pass  # another device is not blocked
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    said = []
    with device_lock(state, SERIAL, timeout=5, reporter=said.append):
        pass  # the OS released the dead holder's lock
    assert said == []


def test_device_lock_does_not_turn_errors_inside_into_lock_errors(tmp_path: Path) -> None:
    from rolecall.errors import FileError

    with pytest.raises(FileError, match="inside"), device_lock(str(tmp_path), SERIAL):
        raise FileError("inside")
    with device_lock(str(tmp_path), SERIAL, timeout=1):
        pass  # released after the error


def test_device_lock_that_cannot_be_made_is_said_at_once_without_waiting(tmp_path: Path) -> None:
    """A state folder that cannot exist (ROLECALL_HOME=/dev/null) is a file error at once, not a "waiting for
    another rolecall" line followed by the error."""
    from rolecall.errors import FileError
    from rolecall.mfa import device_lock

    heard: list[str] = []
    blocker = tmp_path / "file"
    blocker.write_text("")
    started = time.monotonic()
    with pytest.raises(FileError) as caught, device_lock(str(blocker / "mfa"), "arn:aws:iam::1:mfa/a", 30,
                                                        reporter=heard.append):
        pass
    assert time.monotonic() - started < 5
    assert "cannot create the lock file" in caught.value.message
    assert heard == []
