"""The reliability figures of issue 15, measured again against the real command-line processes.

The attack that filed issue 15 found: 336 SIGKILLs during ``configure set``, 201 during ``keys import`` and 96
during ``sso sync`` damaged nothing; 24 concurrent writers lost nothing; umask 000 still gave 0600/0700
everywhere; 0 injected sections in 6,000 fuzzed writes. Each test here repeats one of those measurements
against real ``rolecall`` processes (``python -m rolecall``), killed with SIGKILL after a seeded random delay,
with botocore's own parser as the oracle, and prints the counts it reached (``pytest -s`` shows them; they
are in the assertion messages too).

tests/config/test_configure_crash.py kills the editor library in forked children; these kill whole processes
(interpreter start, argument parsing, lock, read, edit, temporary file, fsync, rename, folder sync) at
random points in their run, so every step of the real command is interrupted somewhere.

Every loop is bounded in time as well as in count, so a slow machine gives smaller counts rather than a
hang; the assertions ask for a floor well below the target and the printed counts say what was reached.
``ROLECALL_CRASH_SEED`` changes the seed (default 0) and ``ROLECALL_RELIABILITY_SCALE`` multiplies the
targets and the time budgets (e.g. 3 for a long soak).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import random
import select
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.configloader import load_config, raw_config_parse

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env

SEED = os.environ.get("ROLECALL_CRASH_SEED", "0")
SCALE = float(os.environ.get("ROLECALL_RELIABILITY_SCALE", "1"))
ROLECALL = [sys.executable, "-m", "rolecall"]
#: The attack's figures: what a typical run of this file reaches.
TARGET_CONFIGURE_KILLS = 336
TARGET_IMPORT_KILLS = 201
TARGET_SYNC_KILLS = 96
CONCURRENT_WRITERS = 24
TARGET_FUZZED_WRITES = 6000


def _report(line: str) -> None:
    """One line of counts, visible with ``pytest -s`` (and kept in the captured output otherwise)."""
    print(f"\n[reliability] {line}", flush=True)


def _rng(name: str) -> random.Random:
    return random.Random(f"{SEED}:{name}")


class KillLoop:
    """Runs a command again and again, each time SIGKILLed after a random delay, and counts what happened.

    ``calibrate`` runs the command to its end while watching the files it writes, to learn at what fraction of
    its run time the first file is replaced. Every ``TIMING_EVERY``-th ``run`` is not killed but timed to its
    end (unwatched, so at full speed), and the median of the last few such times is the run time: the files
    grow as a loop goes on and the machine's load changes. The delays are drawn a quarter of the time anywhere
    in the whole run (interpreter start, imports, parsing, network) and otherwise in the window from a while
    before the first replacement to the typical end, where the lock, the temporary files, the
    fsyncs and the renames are.
    """

    TIMING_EVERY = 10

    def __init__(self, name: str, env: Mapping[str, str]) -> None:
        self.rng = _rng(name)
        self.env = dict(env)
        self.write_at = 1.0  # the first replacement, as a fraction of the run time
        self.watched_end = 0.0  # the calibration run's time (slowed by the watching)
        self.ends: list[float] = []  # the times of the last few timing runs
        self.calls = 0
        self.killed = 0
        self.finished = 0

    def _start(self, args: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen([*ROLECALL, *args], env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip

    def _finished(self, args: list[str], proc: subprocess.Popen[bytes], took: float | None) -> bool:
        _, err = proc.communicate(timeout=120)
        if proc.returncode == -signal.SIGKILL:
            self.killed += 1
            return True
        # It ran to its end: then it must have succeeded.
        assert proc.returncode == 0, (args, proc.returncode, err.decode(errors="replace"))
        self.finished += 1
        if took is not None:
            self.ends = [*self.ends[-4:], took]
        return False

    def calibrate(self, args: list[str], watched: list[Path]) -> None:
        """Run ``rolecall ARGS`` to its end (it must succeed), timing the first replacement of a watched file."""

        def identities() -> list[tuple[int, int] | None]:
            found: list[tuple[int, int] | None] = []
            for path in watched:
                try:
                    info = path.stat()
                except FileNotFoundError:
                    found.append(None)
                else:
                    found.append((info.st_ino, info.st_mtime_ns))
            return found

        before = identities()
        started = time.monotonic()
        proc = self._start(args)
        first: float | None = None
        while proc.poll() is None:
            if first is None and identities() != before:
                first = time.monotonic() - started
            time.sleep(0.0005)
        took = time.monotonic() - started
        self._finished(args, proc, None)
        self.write_at = min(1.0, (first if first is not None else took) / took)
        self.watched_end = took

    def delay(self) -> float:
        assert self.watched_end, "calibrate first"
        end = sorted(self.ends)[len(self.ends) // 2] if self.ends else self.watched_end
        if self.rng.random() < 0.25:
            return self.rng.uniform(0.0, end)
        write = self.write_at * end
        return self.rng.uniform(max(0.0, write - 0.5 * (end - write) - 0.01), end)

    def run(self, args: list[str]) -> bool:
        """Start ``rolecall ARGS`` and SIGKILL it after a random delay; True when the kill landed (it still ran).
        Every ``TIMING_EVERY``-th call runs to its end instead, timed."""
        self.calls += 1
        timing = self.calls % self.TIMING_EVERY == 1
        started = time.monotonic()
        proc = self._start(args)
        # Wait for the delay or the process's end, whichever comes first: a pidfd becomes readable the moment
        # the process exits (Popen.wait polls, up to 50 ms late), so a run that ends early costs no more time
        # than it took and a timing run is timed to the millisecond.
        pidfd = os.pidfd_open(proc.pid)
        try:
            select.select([pidfd], [], [], 120 if timing else self.delay())
        finally:
            os.close(pidfd)
        if timing:
            return self._finished(args, proc, time.monotonic() - started)
        proc.send_signal(signal.SIGKILL)  # no-op when it has exited already (it is not reaped until wait)
        return self._finished(args, proc, None)


def _temps(folder: Path) -> list[Path]:
    """Temporary files an atomic writer leaves when killed between creating and renaming it."""
    return sorted(p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def _age(paths: list[Path], seconds: float = 600.0) -> None:
    """Make files look ``seconds`` old: the stale-temporary sweep only removes temps older than a minute (a
    younger one may belong to a writer on another machine sharing the folder)."""
    past = time.time() - seconds
    for path in paths:
        os.utime(path, (past, past))


# ----------------------------------------------------------------------------------------------------------
# 1. configure set, SIGKILLed


def _bulk_config(profiles: int) -> str:
    """A config file with some bulk, so a write takes long enough to be interrupted at every step."""
    lines = ["# my notes: kept by every write", "[default]", "region = us-east-1", "counter = 0", ""]
    for index in range(profiles):
        lines += [f"[profile p{index}]", f"region = eu-west-{index % 3 + 1}", f"; comment {index}",
                  "s3 =", f"    max_concurrency = {index}", ""]  # fmt: skip
    return "\n".join(lines)


def _bulk_credentials(profiles: int) -> str:
    """A credentials file (CRLF line ends, as Windows editors leave them) with as many key pairs."""
    lines = ["# keys", "[default]", "aws_access_key_id = AKIADEFAULTEXAMPLE00", "aws_secret_access_key = s-0"]
    for index in range(profiles):
        lines += [f"[c{index}]", f"aws_access_key_id = AKIA{index:016d}", f"aws_secret_access_key = secret{index}"]
    return "\r\n".join(lines) + "\r\n"


def _step_value(step: int, prefix: str) -> str:
    # The length changes with the step, so a torn write could not look complete by accident.
    return f"{prefix}{step}-" + "x" * (step * 7 % 89)


def test_configure_set_sigkilled_at_random_never_damages_either_file(aws_home: AwsHome) -> None:
    """``rolecall configure set`` SIGKILLed >= 300 times at random points, alternately editing the config file
    and the credentials file: both files always parse (botocore) and each equals, byte for byte, its old
    content or the complete new one; the temporary files killed writers leave are swept by a later write;
    no lock left behind blocks the next write."""
    config = aws_home.write_config(_bulk_config(200))
    credentials = aws_home.write_credentials(_bulk_credentials(200))
    folder = config.parent
    profiles_before = load_config(str(config))["profiles"]
    credentials_before = raw_config_parse(str(credentials))
    state = {
        "config": (config.read_bytes(), "counter = 0"),
        "credentials": (credentials.read_bytes(), "aws_secret_access_key = s-0"),
    }
    loop = KillLoop("configure", aws_home.env)
    outcomes = {"old": 0, "new": 0}
    target = int(TARGET_CONFIGURE_KILLS * SCALE)
    deadline = time.monotonic() + 50 * SCALE
    step = 0
    while loop.killed < target and time.monotonic() < deadline:
        step += 1
        which = "config" if step % 2 else "credentials"
        path = config if which == "config" else credentials
        old_bytes, old_line = state[which]
        if which == "config":
            value = _step_value(step, "c")
            new_line, args = f"counter = {value}", ["configure", "set", "counter", value]
        else:
            value = _step_value(step, "s")
            new_line, args = f"aws_secret_access_key = {value}", ["configure", "set", "aws_secret_access_key", value]
        # The only complete new content: the one line rewritten in place, everything else byte for byte.
        new_bytes = old_bytes.replace(old_line.encode(), new_line.encode(), 1)
        assert new_bytes != old_bytes
        if step == 1:  # a run to its end, watched: when the file is replaced
            loop.calibrate(args, [path])
            killed = False
        else:
            killed = loop.run(args)
        now = path.read_bytes()
        assert now in (old_bytes, new_bytes), f"step {step}: {which} is neither the old nor the new content"
        other = "credentials" if which == "config" else "config"
        assert (credentials if other == "credentials" else config).read_bytes() == state[other][0]
        outcome = "old" if now == old_bytes else "new"
        assert killed or outcome == "new"
        outcomes[outcome] += killed
        if outcome == "new":
            state[which] = (new_bytes, new_line)
            # botocore reads the new content, the new value in it and every other profile intact (the old
            # content was checked when it was new, and the bytes have not changed since).
            if which == "config":
                profiles = load_config(str(config))["profiles"]
                assert profiles["default"]["counter"] == value
                assert len(profiles) == len(profiles_before) and profiles["p199"] == profiles_before["p199"]
            else:
                sections = raw_config_parse(str(credentials))
                assert sections["default"]["aws_secret_access_key"] == value
                assert sections.keys() == credentials_before.keys() and sections["c9"] == credentials_before["c9"]
        # A temporary file a killed writer left is never more open than the file it was to replace (0600 while
        # written; the file's own mode is set just before the rename, so a kill there leaves the final mode).
        for temp in _temps(folder):
            replaces = credentials if temp.name.startswith(f".{credentials.name}.") else config
            extra = stat.S_IMODE(temp.stat().st_mode) & ~stat.S_IMODE(replaces.stat().st_mode)
            assert extra == 0, (temp, oct(stat.S_IMODE(temp.stat().st_mode)))

    left = _temps(folder)
    counts = (
        f"configure set: {loop.killed} SIGKILLs ({outcomes['old']} left the old file, {outcomes['new']} the "
        f"complete new one; {len(left)} temporary files left by writers killed mid-write), {loop.finished} runs "
        f"to their end, {step} runs in all"
    )
    _report(counts)
    assert loop.killed >= min(target, 150), counts
    # Kills landed on both sides of the rename and in between (the temps), not only during the start-up.
    assert outcomes["old"] > 0 and outcomes["new"] > 0, counts

    # The next write is not blocked by anything a killed writer left (flock dies with its holder), and it
    # sweeps the temporaries of dead writers once they are more than a minute old.
    _age(left)
    for args in (["configure", "set", "counter", "final"], ["configure", "set", "aws_secret_access_key", "final"]):
        started = time.monotonic()
        done = subprocess.run([*ROLECALL, *args], env=aws_home.env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - started < 10, "the write waited on a lock a killed writer left"
    assert load_config(str(config))["profiles"]["default"]["counter"] == "final"
    assert raw_config_parse(str(credentials))["default"]["aws_secret_access_key"] == "final"
    assert _temps(folder) == [], f"temporary files left after a successful write: {_temps(folder)} ({counts})"
    assert config.read_text().startswith("# my notes: kept by every write\n[default]\n")


# ----------------------------------------------------------------------------------------------------------
# 2. keys import, SIGKILLed

PASSPHRASE = "correct horse battery staple"


class _KeyFile:
    """Reads the encrypted key file independently of rolecall's code: the documented format (docs/keys.md),
    scrypt and Fernet from ``cryptography`` directly. The derived key is kept per salt (scrypt is slow)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._derived: dict[bytes, bytes] = {}

    def keys(self) -> dict[str, dict[str, str]]:
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        if not self.path.exists():
            return {}
        try:
            outer = json.loads(self.path.read_bytes())
            kdf = outer["kdf"]
            salt = base64.b64decode(kdf["salt"])
            if salt not in self._derived:
                raw = Scrypt(salt=salt, length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"]).derive(PASSPHRASE.encode())
                self._derived[salt] = base64.urlsafe_b64encode(raw)
            content: dict[str, dict[str, dict[str, str]]] = json.loads(
                Fernet(self._derived[salt]).decrypt(outer["data"].encode("ascii"))
            )
        except Exception as error:  # torn JSON, a bad token...: every key in it is lost
            raise AssertionError(f"the key file {self.path} is damaged: {error!r}") from error
        return content["keys"]


def _keys_env(home: AwsHome) -> dict[str, str]:
    env = dict(home.env)
    env["ROLECALL_KEYS_BACKEND"] = "file"
    env["ROLECALL_KEYS_PASSPHRASE"] = PASSPHRASE
    # The credential_process line names `rolecall`: on PATH, import does not warn about it.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def _new_key(rng: random.Random) -> tuple[str, str]:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    key_id = "AKIA" + "".join(rng.choice(letters) for _ in range(16))
    secret = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/") for _ in range(40))
    return key_id, secret


def test_keys_import_sigkilled_at_random_never_loses_a_key(aws_home: AwsHome) -> None:
    """``rolecall keys import --all`` (encrypted-file backend) SIGKILLed ~200 times at random points, a new
    IAM user's keys added to the credentials file before each run: the credentials file always parses with
    every section and comment, and every key ever added is, intact, either still in its section of the file
    or in the store (then the section runs ``credential-process --keys NAME``); none is ever lost."""
    env = _keys_env(aws_home)
    rng = _rng("keys-import")
    credentials = aws_home.write_credentials(
        "# my credentials: these comments stay\n[saved-session]\naws_access_key_id = ASIAEXAMPLEEXAMPLE01\n"
        "aws_secret_access_key = temporary-secret\naws_session_token = token\n"
    )
    store = _KeyFile(Path(env["ROLECALL_HOME"]) / "keys.enc")
    added: dict[str, tuple[str, str]] = {}
    comments = ["# my credentials: these comments stay"]

    def add_users(count: int) -> None:
        with open(credentials, "a") as handle:
            for _ in range(count):
                name = f"user{len(added)}"
                key_id, secret = _new_key(rng)
                added[name] = (key_id, secret)
                comments.append(f"# {name}: an IAM user of team {len(added) % 7}")
                handle.write(f"\n{comments[-1]}\n[{name}]\naws_access_key_id = {key_id}\n"
                             f"aws_secret_access_key = {secret}\nregion = eu-west-1\n")  # fmt: skip

    def check() -> tuple[int, int]:
        """Every key in the file or in the store; (keys in the file, keys in the store only)."""
        text = credentials.read_text()
        for comment in comments:
            assert comment + "\n" in text, f"comment lost: {comment!r}"
        sections = raw_config_parse(str(credentials))
        assert sorted(sections) == sorted([*added, "saved-session"])
        assert sections["saved-session"]["aws_session_token"] == "token"
        stored = store.keys()
        in_file = in_store = 0
        for name, (key_id, secret) in added.items():
            section = sections[name]
            assert section["region"] == "eu-west-1"
            kept = stored.get(name)
            if "aws_access_key_id" in section:
                assert (section["aws_access_key_id"], section["aws_secret_access_key"]) == (key_id, secret), name
                assert "credential_process" not in section
                in_file += 1
            else:
                assert "aws_secret_access_key" not in section
                assert section["credential_process"].endswith(f"credential-process --keys {name}"), section
                assert kept == {"AccessKeyId": key_id, "SecretAccessKey": secret}, f"{name}'s key is lost"
                in_store += 1
            if kept is not None:  # a key in the store is always the right one, even before the file changes
                assert kept == {"AccessKeyId": key_id, "SecretAccessKey": secret}, name
        return in_file, in_store

    loop = KillLoop("keys-import", env)
    keys_file = Path(env["ROLECALL_HOME"]) / "keys.enc"
    for _ in range(2):  # the first run creates the key file; the second is a typical one
        add_users(2)
        loop.calibrate(["keys", "import", "--all"], [keys_file, credentials])
    check()

    target = int(TARGET_IMPORT_KILLS * SCALE)
    deadline = time.monotonic() + 55 * SCALE
    runs = both = moved = 0
    partials: set[str] = set()
    temps: set[str] = set()
    while loop.killed < target and time.monotonic() < deadline:
        add_users(1)
        runs += 1
        killed = loop.run(["keys", "import", "--all"])
        in_file, _in_store = check()
        stored = len(store.keys())
        both += killed and stored == len(added) and in_file == 1  # killed between the store's write and the file's
        moved += killed and in_file == 0  # killed after the file was replaced
        # Plaintext copies a killed run left half-written: unfinished backups and atomic writers' temporaries.
        if killed:
            partials.update(p.name for p in credentials.parent.glob("credentials.rolecall-backup-*.partial"))
            temps.update(p.name for p in _temps(credentials.parent))
    counts = (
        f"keys import: {loop.killed} SIGKILLs, {loop.finished} runs to their end, {runs} runs, "
        f"{len(added)} keys added, 0 lost; {moved} kills came after the file was rewritten, {both} after "
        f"the store's write and before the file's; kills left {len(partials)} unfinished backups (.partial) and "
        f"{len(temps)} temporary files"
    )
    _report(counts)
    assert loop.killed >= min(target, 80), counts

    # A run to the end imports whatever is left; every key is then in the store and none in the file.
    done = subprocess.run([*ROLECALL, "keys", "import", "--all"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert check() == (0, len(added))
    # --confirm deletes the backups and every plaintext copy the kills left: no secret is left in any file.
    done = subprocess.run([*ROLECALL, "keys", "import", "--confirm"], env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    secrets = [secret.encode() for _key_id, secret in added.values()]
    holding = sorted(
        str(path.relative_to(aws_home.root))
        for path in aws_home.root.rglob("*")
        if path.is_file() and not path.is_symlink() and any(secret in path.read_bytes() for secret in secrets)
    )
    assert holding == [], f"plaintext secrets left after keys import --confirm in {holding} ({counts})"


# ----------------------------------------------------------------------------------------------------------
# 3. sso sync, SIGKILLed

BEGIN = "# BEGIN rolecall sso sync (sso-session sandbox): generated, edits inside are replaced\n"
END = "# END rolecall sso sync (sso-session sandbox)\n"


def test_sso_sync_sigkilled_at_random_never_leaves_a_half_block(sandbox: Sandbox, aws_home: AwsHome) -> None:
    """``rolecall sso sync`` against the sandbox's portal (15 accounts x 3 roles) SIGKILLed ~96 times while it
    rewrites its block with alternating regions and templates: the config always parses (botocore), the
    text outside the block is byte for byte what it was (comments kept), and the block is one complete block
    a finished run wrote, never half of one."""
    env = seeded_env(sandbox, aws_home)
    sandbox.seed_sso_organization(15, ("AdministratorAccess", "ReadOnlyAccess", "Billing"))
    sandbox.write_sso_token_cache(aws_home.root)  # signed in, as `aws sso login` leaves it
    config = aws_home.config
    prefix = "# my own notes, above everything\n" + config.read_text() + "\n; and between the profiles\n"
    suffix = "\n# and a comment at the end\n[profile mine]\nregion = ap-south-1\n"
    config.write_text(prefix + suffix)
    variants = [
        ["sso", "sync", "--sso-session", "sandbox", "--region", region, *template]
        for template in ([], ["--template", "{account_id}.{role_name}"])
        for region in ("eu-west-1", "us-east-2")
    ]

    def split(text: str) -> tuple[str, str]:
        """(the text outside the block, the block)."""
        assert text.count(BEGIN) == text.count(END) <= 1, "a half block or two blocks"
        if BEGIN not in text:
            return text, ""
        begin, end = text.index(BEGIN), text.index(END) + len(END)
        return text[:begin] + text[end:], text[begin:end]

    # Each variant run to the end, twice in different orders: the complete blocks a kill may leave.
    complete: set[str] = {""}
    loop = KillLoop("sso-sync", env)
    for args in [*variants, *reversed(variants)]:
        loop.calibrate(args, [config])
        rest, block = split(config.read_text())
        complete.add(block)
        # Outside the block, the file is what it was, byte for byte (but the blank line before the block).
        assert rest.rstrip("\n") == (prefix + suffix).rstrip("\n")
    assert len(complete) == len(variants) + 1, "a finished run's block depends on the block it replaced"

    target = int(TARGET_SYNC_KILLS * SCALE)
    deadline = time.monotonic() + 40 * SCALE
    seen: set[str] = set()
    runs = after_rename = 0
    current = split(config.read_text())[1]
    while loop.killed < target and time.monotonic() < deadline:
        args = variants[runs % len(variants)]
        runs += 1
        killed = loop.run(args)
        text = config.read_text()
        rest, block = split(text)
        after_rename += killed and block != current
        current = block
        assert block in complete, f"run {runs}: the block is not one a finished run wrote"
        assert rest.rstrip("\n") == (prefix + suffix).rstrip("\n"), f"run {runs}: the text outside the block changed"
        profiles = load_config(str(config))["profiles"]
        assert profiles["mine"] == {"region": "ap-south-1"}
        assert len([p for p in profiles if p.endswith(("AdministratorAccess", "ReadOnlyAccess", "Billing"))]) in (
            0, 45)  # fmt: skip
        seen.add(block)
    counts = (
        f"sso sync: {loop.killed} SIGKILLs ({after_rename} after the new block was in place), {loop.finished} runs "
        f"to their end, {runs} runs, the blocks of {len(seen)} of the {len(variants)} variants seen, no half block"
    )
    _report(counts)
    assert loop.killed >= min(target, 40), counts
    assert len(seen) >= 2, counts


# ----------------------------------------------------------------------------------------------------------
# 4. concurrent writers

ROUNDS = 3


def test_twenty_four_concurrent_configure_set_processes_lose_nothing(aws_home: AwsHome) -> None:
    """24 ``rolecall configure set`` processes started at once, each setting a distinct key (in the same
    section, in new sections, in the credentials file's existing and new sections), three rounds: every one of
    the 72 values is there afterwards and nothing that was there before is lost."""
    aws_home.write_config(_bulk_config(200))
    aws_home.write_credentials(_bulk_credentials(200))
    profiles_before = load_config(str(aws_home.config))["profiles"]
    credentials_before = raw_config_parse(str(aws_home.credentials))
    expected_config: dict[str, dict[str, str]] = {}
    expected_credentials: dict[str, dict[str, str]] = {}
    started = time.monotonic()
    for round_ in range(ROUNDS):
        procs = []
        for index in range(CONCURRENT_WRITERS):
            value = f"value-{round_}-{index}"
            kind = index % 4
            if kind == 0:  # the same section for all of these: the edits must merge
                profile, key, where = "default", f"key_{round_}_{index}", expected_config
            elif kind == 1:  # a new section each, appended at the end of the file by each writer
                profile, key, where = f"new-{round_}-{index}", "region", expected_config
            elif kind == 2:  # an existing credentials section
                profile, key, where = f"c{index}", "aws_session_token", expected_credentials
                value = f"token-{round_}-{index}"
            else:  # a new credentials section
                profile, key, where = f"nc-{round_}-{index}", "aws_access_key_id", expected_credentials
                value = f"AKIA{round_:08d}{index:08d}"
            # (kind 2 sets the same key of the same section every round: the last round's value must be there.)
            where.setdefault(profile, {})[key] = value
            procs.append(subprocess.Popen([*ROLECALL, "configure", "set", key, value, "--profile", profile],
                                          env=aws_home.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE))  # fmt: skip
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err.decode(errors="replace")
    elapsed = time.monotonic() - started
    profiles = load_config(str(aws_home.config))["profiles"]
    sections = raw_config_parse(str(aws_home.credentials))
    lost = [
        (profile, key)
        for expected, got in ((expected_config, profiles), (expected_credentials, sections))
        for profile, values in expected.items()
        for key, value in values.items()
        if got.get(profile, {}).get(key) != value
    ]
    written = ROUNDS * CONCURRENT_WRITERS
    counts = f"concurrent writers: {ROUNDS} rounds of {CONCURRENT_WRITERS} processes at once, {written} values, "
    counts += f"{len(lost)} lost, in {elapsed:.1f} s"
    _report(counts)
    assert lost == [], counts
    for name, values in profiles_before.items():
        assert {k: v for k, v in profiles[name].items() if not k.startswith("key_")} == values, name
    for name, values in credentials_before.items():
        assert {k: v for k, v in sections[name].items() if k != "aws_session_token"} == values, name
    assert aws_home.config.read_text().startswith("# my notes: kept by every write\n[default]\n")


# ----------------------------------------------------------------------------------------------------------
# 5. umask 000


def test_under_umask_000_every_file_is_0600_and_every_folder_0700(sandbox: Sandbox, tmp_path: Path) -> None:
    """Every rolecall command that creates files, run under umask 000 in an empty home: ``configure set``
    (the AWS folder, both files, their locks), a role assumed through the sandbox (the AWS CLI cache), an MFA
    session (rolecall's session cache and MFA state), ``sso login`` (the token cache), an SSO role, and
    ``keys import`` (the encrypted key file and the plaintext backup). Walking the whole home afterwards, every
    file is 0600 and every folder 0700."""
    from browser_approve import browser_command

    home = tmp_path / "umask-home"
    home.mkdir(mode=0o700)
    os.chmod(home, 0o700)
    aws = home / ".aws"
    sandbox_env = sandbox.write_aws_files_in(tmp_path / "sandbox-files")  # the texts, outside the home
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLECALL_", "BOTO"))}
    env.update({
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        "ROLECALL_HOME": str(aws / "rolecall"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": sandbox_env["AWS_ENDPOINT_URL"],
        "AWS_DEFAULT_REGION": sandbox_env["AWS_DEFAULT_REGION"],
        "AWS_REGION": sandbox_env["AWS_REGION"],
        "BROWSER": browser_command(bin_folder),
        "ROLECALL_TEST_BROWSER": "http",
        "ROLECALL_TEST_DECISION": "allow",
        "ROLECALL_TEST_BROWSER_LOG": str(tmp_path / "browser.log"),
        "ROLECALL_KEYS_BACKEND": "file",
        "ROLECALL_KEYS_PASSPHRASE": PASSPHRASE,
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    })  # fmt: skip
    env.pop("DISPLAY", None)

    def under_umask_000(*args: str) -> None:
        done = subprocess.run(["sh", "-c", 'umask 000 && exec "$@"', "sh", *ROLECALL, *args], env=env,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
        assert done.returncode == 0, (args, done.stderr)

    # configure set in an empty home creates ~/.aws, both files and their locks.
    under_umask_000("configure", "set", "region", "eu-west-1", "--profile", "scratch")
    under_umask_000("configure", "set", "aws_session_token", "not-a-real-token", "--profile", "scratch")
    # The sandbox's profiles and keys, appended by hand (an append keeps the file's mode).
    with open(aws / "config", "a") as handle:
        handle.write("\n" + Path(sandbox_env["AWS_CONFIG_FILE"]).read_text())
        # Bulk, so that the config is big enough (32 KiB) for rolecall to keep a parse cache of it.
        handle.write("".join(f"\n[profile bulk{i}]\nregion = eu-west-1\noutput = json\n" for i in range(900)))
    with open(aws / "credentials", "a") as handle:
        handle.write("\n" + Path(sandbox_env["AWS_SHARED_CREDENTIALS_FILE"]).read_text())
    under_umask_000("env", "readonly")  # AssumeRole: the AWS CLI cache
    under_umask_000("assume", "admin", "--token-code", sandbox.fresh_code())  # MFA session + AssumeRole
    under_umask_000("sso", "login", "--sso-session", "sandbox")  # the token cache
    under_umask_000("env", "sso-admin")  # SSO role credentials: the AWS CLI cache
    under_umask_000("keys", "import", "default")  # the encrypted key file, the plaintext backup
    under_umask_000("sso", "sync", "--sso-session", "sandbox")  # a rewrite of the config
    # The parse cache keeps no file changed in the last 2 s (racy timestamps): let the config settle first.
    time.sleep(2.2)
    under_umask_000("env", "readonly", "--force-refresh")  # the stored key as source; the parse cache

    wrong: list[str] = []
    files: list[str] = []
    folders: list[str] = []
    for root, dirs, names in os.walk(home):
        for name in dirs:
            path = os.path.join(root, name)
            folders.append(os.path.relpath(path, home))
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            if mode != 0o700:
                wrong.append(f"{os.path.relpath(path, home)}/ {mode:o}")
        for name in names:
            path = os.path.join(root, name)
            files.append(os.path.relpath(path, home))
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != 0o600:
                wrong.append(f"{os.path.relpath(path, home)} {stat.S_IMODE(info.st_mode):o}")
    counts = f"umask 000: {len(files)} files and {len(folders)} folders under the home, {len(wrong)} not 0600/0700"
    _report(counts + ": " + ", ".join(sorted(files)))
    # What each step was meant to create is there (the walk checked something).
    for expected in ("config", "credentials", "cli/cache", "sso/cache", "rolecall/keys.enc", "rolecall/sessions",
                     "rolecall/parse-cache"):  # fmt: skip
        assert (aws / expected).exists(), expected
    assert list(aws.glob("credentials.rolecall-backup-*")), "no keys import backup"
    assert list((aws / "cli" / "cache").glob("*.json")) and list((aws / "sso" / "cache").glob("*.json"))
    assert wrong == [], f"{counts}: {wrong}"


# ----------------------------------------------------------------------------------------------------------
# 6. fuzzed writes: no injected section

#: Characters and fragments that could end a line, start a section or a key, or confuse a parser.
_BREAKS = ["\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]
_SPECIALS = ["[", "]", "=", ":", "#", ";", "\x00", " ", "\t", '"', "'", "\\", "%", "$", "{", "}", "é", "日",
             "\U0001f600", "\ufeff", "\xa0", "\x01", "\x7f"]  # fmt: skip
_FRAGMENTS = ["[profile evil]", "[default]", "[sso-session evil]", "[evil]", "evil = 1", "region = xx",
              "aws_secret_access_key = leaked", "profile ", "[profile evil", "evil]", "%(here)s",
              "\\n[evil]"]  # fmt: skip
_KEYS = ["region", "output", "foo", "Region", "s3", "role_arn", "x_y", "credential_process"]
_WORDS = ["a", "dev", "prod", "default", "x.y", "it's", "a b", "profile", "evil", "1"]


def _fuzz_text(rng: random.Random, breaks: bool, max_tokens: int = 6, min_tokens: int = 0) -> str:
    """Words, special characters and section-like fragments; with ``breaks``, at least one line break."""
    tokens = []
    for _ in range(rng.randint(min_tokens, max_tokens)):
        roll = rng.random()
        if roll < 0.35:
            tokens.append(rng.choice(_WORDS))
        elif roll < 0.7:
            tokens.append(rng.choice(_SPECIALS))
        elif roll < 0.85 or not breaks:
            tokens.append(rng.choice(_FRAGMENTS))
        else:
            tokens.append(rng.choice(_BREAKS) + rng.choice(_FRAGMENTS))
    text = "".join(tokens)
    if breaks and not any(b in text for b in _BREAKS):
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(_BREAKS) + rng.choice(["", *_FRAGMENTS]) + text[at:]
    return text


def _fuzz_write(rng: random.Random) -> tuple[str, str, str]:
    """(profile name, key, value): a quarter with line breaks, the rest with every other special character."""
    breaks = rng.random() < 0.25
    where = rng.choice(["name", "value", "value", "key"]) if breaks else ""
    name = _fuzz_text(rng, where == "name", 3, 1) if rng.random() < 0.7 else rng.choice(_WORDS)
    key = rng.choice(_KEYS) if where != "key" and rng.random() < 0.9 else _fuzz_text(rng, where == "key", 2, 1)
    value = _fuzz_text(rng, where == "value")
    return name, key, value


_FUZZ_CONFIG = """# a config with every kind of section
[default]
region = us-east-1
s3 =
    max_concurrency = 10
[profile dev]
region = eu-west-1
; a comment
[profile "a b"]
output = json
[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
[services mine]
s3 =
  endpoint_url = http://127.0.0.1:1
"""
_FUZZ_CREDENTIALS = "[default]\naws_access_key_id = AKIADEFAULT0000000000\naws_secret_access_key = s\n[dev]\nx = 1\n"


class _Oracle:
    """botocore's view of one file, and the check that a write changed exactly one key of one section."""

    def __init__(self, path: Path, config: bool) -> None:
        self.path = path
        self.config = config
        self.raw: dict[str, Any] = raw_config_parse(str(path))

    def check(self, name: str, key: str, value: str) -> str | None:
        """None when botocore reads the file as before plus ``key = value`` in profile ``name``; else why not."""
        from botocore.configloader import build_profile_map

        after: dict[str, Any] = raw_config_parse(str(self.path))
        added = set(after) - set(self.raw)
        if not set(self.raw) <= set(after) or len(added) > 1:
            return f"sections {sorted(set(after) ^ set(self.raw))!r} appeared or went"
        if self.config:
            expected = copy.deepcopy(build_profile_map(self.raw))
            expected["profiles"].setdefault(name, {})[key.lower()] = value.strip()
            got = build_profile_map(after)
            if added and build_profile_map({h: after[h] for h in added})["profiles"].keys() != {name}:
                return f"the new section {sorted(added)!r} is not profile {name!r}"
        else:
            expected = copy.deepcopy(self.raw)
            expected.setdefault(name, {})[key.lower()] = value.strip()
            got = after
            if added and added != {name}:
                return f"the new section {sorted(added)!r} is not [{name}]"
        if got != expected:
            return "botocore reads something else than the one value set"
        self.raw = after
        return None


def test_fuzzed_writes_never_inject_a_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """6,000 seeded random writes through the editor library (``update_section`` on real files: lock, read,
    edit, verification, atomic replace), values, profile names and keys full of line breaks (``\\n``, ``\\r``,
    U+2028, U+0085, ``\\v``, ``\\f``...), ``[``, ``]``, ``=``, ``#``, ``;``, NUL and section headers: each is
    either refused cleanly (``InvalidInputError``, the file untouched) or botocore reads the file as before
    plus exactly that one value in that one profile. No injected section, no injected key."""
    from rolecall.config.edit import SectionRef, update_section
    from rolecall.errors import InvalidInputError

    # Durability is not what is tested here, and fsync makes each write 10x slower on a busy machine.
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    rng = _rng("fuzz-library")
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    target = int(TARGET_FUZZED_WRITES * SCALE)
    deadline = time.monotonic() + 25 * SCALE
    counts = {"written": 0, "refused": 0, "new sections": 0}
    writes = 0
    oracles: dict[bool, _Oracle] = {}
    while writes < target and time.monotonic() < deadline:
        if writes % 200 == 0:  # a fresh pair of files now and then, so they stay small and varied
            config.write_text(_FUZZ_CONFIG)
            credentials.write_text(_FUZZ_CREDENTIALS)
            oracles = {True: _Oracle(config, True), False: _Oracle(credentials, False)}
        writes += 1
        name, key, value = _fuzz_write(rng)
        is_config = rng.random() < 0.7
        path = config if is_config else credentials
        section = SectionRef.profile(name) if is_config else SectionRef.raw(name)
        before = path.read_bytes()
        case = f"write {writes}: update_section({path.name}, {section!r}, {{{key!r}: {value!r}}})"
        try:
            update_section(str(path), section, {key: value})
        except InvalidInputError:
            counts["refused"] += 1
            assert path.read_bytes() == before, f"{case}: refused but the file changed"
            continue
        except Exception as error:  # anything else is a bug: report the reproducer
            pytest.fail(f"{case} raised {error!r}")
        sections_before = len(oracles[is_config].raw)
        why = oracles[is_config].check(name, key, value)
        assert why is None, f"{case}: {why}\n{path.read_text()!r}"
        counts["written"] += 1
        counts["new sections"] += len(oracles[is_config].raw) - sections_before
    summary = (
        f"fuzzed writes (library): {writes} writes, {counts['written']} written ({counts['new sections']} of them "
        f"creating their profile's section), {counts['refused']} refused, 0 injected sections or keys"
    )
    _report(summary)
    assert writes >= min(target, 2000), summary
    assert counts["written"] > writes // 4 and counts["refused"] > writes // 10, summary


def test_fuzzed_configure_set_never_injects_a_section(aws_home: AwsHome) -> None:
    """The same fuzzed names and values through the real ``rolecall configure set KEY VALUE --profile NAME``
    (NUL cannot be in an argument: it is replaced by U+0001): exit 0 and botocore reads exactly that value in
    that profile of the file the key belongs in, or exit 8 with one line on stderr and both files untouched."""
    rng = _rng("fuzz-cli")
    aws_home.write_config(_FUZZ_CONFIG)
    aws_home.write_credentials(_FUZZ_CREDENTIALS)
    oracles = {True: _Oracle(aws_home.config, True), False: _Oracle(aws_home.credentials, False)}
    target = int(150 * SCALE)
    deadline = time.monotonic() + 10 * SCALE
    counts = {"written": 0, "refused": 0}
    runs = 0
    while runs < target and time.monotonic() < deadline:
        runs += 1
        name, _key, value = _fuzz_write(rng)
        name, value = name.replace("\x00", "\x01"), value.replace("\x00", "\x01")
        key = rng.choice(["region", "output", "foo", "aws_session_token", "aws_access_key_id"])
        is_config = not key.startswith("aws_")
        before = (aws_home.config.read_bytes(), aws_home.credentials.read_bytes())
        args = ["configure", "set", key, value, "--profile", name]
        done = subprocess.run([*ROLECALL, *args], env=aws_home.env, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)  # fmt: skip
        case = f"run {runs}: rolecall {args!r}"
        if done.returncode == 8:
            counts["refused"] += 1
            assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, (case, done.stderr)
            assert (aws_home.config.read_bytes(), aws_home.credentials.read_bytes()) == before, case
            continue
        assert done.returncode == 0, (case, done.returncode, done.stderr)
        untouched = aws_home.credentials if is_config else aws_home.config
        assert untouched.read_bytes() == before[1 if is_config else 0], f"{case}: the other file changed"
        # An empty --profile selects no profile, as in the AWS CLI: the default one.
        why = oracles[is_config].check(name or "default", key, value)
        assert why is None, f"{case}: {why}"
        counts["written"] += 1
    summary = f"fuzzed writes (configure set): {runs} runs, {counts['written']} written, {counts['refused']} refused"
    _report(summary + ", 0 injected sections or keys")
    assert runs >= min(target, 50), summary
