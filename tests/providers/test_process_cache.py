"""``rolecall process-cache -- TOOL ARGS...`` (issue 18, part 3): one run of the wrapped tool for any number of
callers, its answer cached 0600 until shortly before Expiration, expired answers refused, the tool's prompt on the
terminal when the AWS CLI is the caller, and the cache file's safety (mode, planted links, killed tools, other
users). The tool is tests/providers/pcache_tool.py, which counts its runs; the credentials are real sandbox
sessions and the callers the real AWS CLI v1 of the venv."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pexpect
import pytest

from conftest import AwsHome, file_modes_bind, run_rolecall
from rolecall.processcache import cache_folder, entry_keys
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture
from sandbox_helpers import alice

TOOL = str(Path(__file__).with_name("pcache_tool.py"))
AWS = str(Path(sys.executable).with_name("aws"))


class Setup:
    """The environment of one test: the seeded sandbox files, the tool's counter and credentials, a profile
    ``wrapped`` whose credential_process is ``rolecall process-cache -- python pcache_tool.py MODE``."""

    def __init__(self, sb: Sandbox, home: AwsHome, mode: str = "file") -> None:
        self.root = home.root
        self.counter = home.root / "runs.txt"
        self.argv = [sys.executable, TOOL, mode]
        credentials = alice(sb).get_session_token()["Credentials"]
        answer = {"Version": 1, "AccessKeyId": credentials["AccessKeyId"],
                  "SecretAccessKey": credentials["SecretAccessKey"], "SessionToken": credentials["SessionToken"],
                  "Expiration": credentials["Expiration"].isoformat()}
        (home.root / "answer.json").write_text(json.dumps(answer))
        self.access_key = answer["AccessKeyId"]
        command = " ".join([sys.executable, "-m", "rolecall", "process-cache", "--", *self.argv])
        config = (f"\n[profile wrapped]\ncredential_process = {command}\nregion = us-east-1\n"
                  f"console_federation_endpoint = {sb.endpoint_url}/federation\n")
        self.env = seeded_env(sb, home, config=config)
        self.env.update(PCACHE_COUNTER=str(self.counter), PCACHE_CREDENTIALS=str(home.root / "answer.json"),
                        PCACHE_PID=str(home.root / "tool.pid"), PCACHE_KEY=sb.access_key_id,
                        PCACHE_SECRET=sb.secret_access_key, PCACHE_ACCOUNT=sb.account_id,
                        ROLECALL_FEDERATION_ENDPOINT=sb.federation_endpoint)  # never the real one
        self.folder = Path(cache_folder(self.env["ROLECALL_HOME"]))

    @property
    def runs(self) -> int:
        return len(self.counter.read_text().splitlines()) if self.counter.exists() else 0

    @property
    def entry(self) -> Path:
        return self.folder / (entry_keys(self.argv, self.env)[0] + ".json")

    def process_cache(self, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return run_rolecall(["process-cache", *extra, "--", *self.argv], self.env, timeout=timeout)


def test_fifty_parallel_aws_cli_calls_run_the_tool_once(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home)
    setup.env["PCACHE_SLEEP"] = "2"  # the first caller holds the lock long enough for the others to pile up

    def call(_: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run([AWS, "sts", "get-caller-identity", "--profile", "wrapped", "--output", "json"],
                              env=setup.env, capture_output=True, text=True, timeout=240)

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(call, range(50)))
    failures = [result.stderr for result in results if result.returncode != 0]
    assert failures == []
    arns = {json.loads(result.stdout)["Arn"] for result in results}
    assert arns == {sandbox.user_arn}
    assert setup.runs == 1
    # What the SDKs got is what the tool printed, normalised: same keys, Version 1.
    printed = json.loads(setup.process_cache().stdout)
    assert printed["Version"] == 1 and printed["AccessKeyId"] == setup.access_key
    assert setup.runs == 1


def test_the_answer_is_cached_0600_in_a_0700_folder_without_the_command_line(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    setup = Setup(sandbox, aws_home)
    first = setup.process_cache()
    assert first.returncode == 0, first.stderr
    assert setup.process_cache().stdout == first.stdout
    assert setup.runs == 1
    assert setup.entry.stat().st_mode & 0o777 == 0o600
    assert setup.folder.stat().st_mode & 0o777 == 0o700
    text = setup.entry.read_text()
    assert TOOL not in text and "file" not in json.loads(text)["Rolecall"].values()
    # Another environment variable the tools read their identity from: another entry.
    setup.env["SAML2AWS_IDP_ACCOUNT"] = "other"
    assert setup.process_cache().returncode == 0
    assert setup.runs == 2
    # A password variable is not part of the key (and never written anywhere).
    setup.env["SAML2AWS_PASSWORD"] = "hunter2"
    assert setup.process_cache().returncode == 0
    assert setup.runs == 2
    assert all("hunter2" not in path.read_text() for path in setup.folder.iterdir())


def test_an_expired_answer_is_refused_in_one_line(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home, mode="expired")
    result = setup.process_cache()
    assert result.returncode == 3
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "already expired" in result.stderr and "(hint:" in result.stderr
    assert "ASIAEXPIRED" not in result.stderr and "gone" not in result.stderr
    assert not setup.entry.exists()
    # Nothing was cached: the next call runs the tool again.
    assert setup.process_cache().returncode == 3
    assert setup.runs == 2


def test_the_prompt_of_the_tool_reaches_the_terminal_when_the_aws_cli_is_the_caller(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    """The AWS CLI captures a credential_process's stderr: the prompt reaches the user only through /dev/tty."""
    setup = Setup(sandbox, aws_home, mode="prompt")
    child = pexpect.spawn(AWS, ["sts", "get-caller-identity", "--profile", "wrapped", "--output", "text"],
                          env=setup.env, encoding="utf-8", timeout=60)
    child.expect("Touch your YubiKey")
    child.sendline("")
    child.expect(sandbox.user_arn)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert setup.runs == 1


def test_without_process_cache_the_aws_cli_swallows_the_prompt(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """The contrast that makes the test above mean something: the tool as the credential_process itself."""
    setup = Setup(sandbox, aws_home, mode="prompt")
    with open(setup.env["AWS_CONFIG_FILE"], "a") as config:
        config.write(f"\n[profile bare]\ncredential_process = {sys.executable} {TOOL} prompt\nregion = us-east-1\n")
    child = pexpect.spawn(AWS, ["sts", "get-caller-identity", "--profile", "bare", "--output", "text"],
                          env=setup.env, encoding="utf-8", timeout=60)
    deadline = time.monotonic() + 30
    while setup.runs == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    child.sendline("")
    child.expect(pexpect.EOF)
    assert "Touch your YubiKey" not in (child.before or "")


def test_a_planted_symlink_is_never_followed_nor_written_through(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home)
    assert setup.process_cache().returncode == 0
    planted = setup.root / "attacker.json"
    forged = json.loads(setup.entry.read_text())
    forged["AccessKeyId"] = "ASIAFORGEDFORGED0000"
    planted.write_text(json.dumps(forged))
    setup.entry.unlink()
    setup.entry.symlink_to(planted)
    result = setup.process_cache()
    assert result.returncode == 0, result.stderr
    assert "ASIAFORGED" not in result.stdout  # the link's entry was not believed
    assert "symbolic link" in result.stderr
    assert setup.runs == 2
    assert not setup.entry.is_symlink()  # replaced, not written through
    assert json.loads(planted.read_text())["AccessKeyId"] == "ASIAFORGEDFORGED0000"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_an_entry_or_folder_of_another_user_is_refused(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home)
    assert setup.process_cache().returncode == 0
    os.chown(setup.entry, 65534, 65534)
    result = setup.process_cache()
    assert result.returncode == 0 and "belongs to another user" in result.stderr
    assert setup.runs == 2
    os.chown(setup.folder, 65534, 65534)
    result = setup.process_cache()
    assert result.returncode == 7, result.stderr  # FileError: no secret is kept in another user's folder
    assert "belongs to another user" in result.stderr and len(result.stderr.splitlines()) == 2


def test_a_second_user_cannot_read_the_entry(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home)
    assert setup.process_cache().returncode == 0
    if os.geteuid() != 0:
        assert setup.entry.stat().st_mode & 0o077 == 0
        return
    prefix = [*file_modes_bind(), "--reuid=65534", "--regid=65534", "--clear-groups"]
    os.chmod(setup.root, 0o755)  # the home may be searched: only the modes of the cache protect the entry
    result = subprocess.run([*prefix, "cat", str(setup.entry)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "Permission denied" in result.stderr
    assert result.stdout == ""


def test_a_tool_killed_mid_run_leaves_no_broken_entry(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home, mode="hang")
    process = subprocess.Popen([sys.executable, "-m", "rolecall", "process-cache", "--", *setup.argv],
                               env=setup.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL)
    pid_file = Path(setup.env["PCACHE_PID"])
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the tool never started"
        time.sleep(0.05)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 3
    assert stdout == ""
    assert "killed by signal 9" in stderr and "nothing was cached" in stderr
    assert [path.name for path in setup.folder.iterdir() if not path.name.endswith(".lock")] == []
    # The lock went with the killed run: the next call runs a working tool at once.
    setup.argv[-1] = "file"
    started = time.monotonic()
    assert setup.process_cache(timeout=30).returncode == 0
    assert time.monotonic() - started < 20


def test_clear_forgets_the_entry_of_a_command_line(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home)
    assert setup.process_cache().returncode == 0
    setup.env["SAML2AWS_IDP_ACCOUNT"] = "other"
    assert setup.process_cache().returncode == 0
    assert setup.runs == 2
    cleared = setup.process_cache("--clear")
    assert cleared.returncode == 0 and "forgot 2 cached answer(s)" in cleared.stderr
    assert setup.process_cache().returncode == 0
    assert setup.runs == 3


def test_no_expiration_is_not_cached_unless_a_ttl_says_so(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home)
    Path(setup.env["PCACHE_CREDENTIALS"]).write_text(json.dumps(
        {"Version": 1, "AccessKeyId": sandbox.access_key_id, "SecretAccessKey": sandbox.secret_access_key}))
    for _ in range(2):
        assert setup.process_cache().returncode == 0
    assert setup.runs == 2 and not setup.entry.exists()
    for _ in range(2):
        assert setup.process_cache("--ttl", "600").returncode == 0
    assert setup.runs == 3 and setup.entry.exists()
