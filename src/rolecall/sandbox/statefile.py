"""The state file of a sandbox served by ``rolecall sandbox``, so other shells can find it.

``FOLDER/sandbox.json`` (0600: it holds the MFA seed) says where the sandbox listens, which process
serves it and the seeded device's seed; ``rolecall sandbox code`` reads it to print MFA codes. A
pointer file in rolecall's own folder names the folder of the most recently started sandbox.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass

from rolecall.errors import NotFoundError
from rolecall.sandbox import totp
from rolecall.sandbox.core import Sandbox, write_private

STATE_FILE = "sandbox.json"
POINTER_FILE = "sandbox-dir"


@dataclass(frozen=True)
class SandboxRecord:
    """What the state file holds."""

    pid: int
    endpoint_url: str
    account_id: str
    user_arn: str
    mfa_serial: str
    mfa_seed: str
    config_file: str
    credentials_file: str
    started_at: float


def write_state(sandbox: Sandbox, folder: str, env: dict[str, str], pointer_dir: str | None) -> str:
    """Write ``FOLDER/sandbox.json`` for ``sandbox`` (and the pointer in ``pointer_dir``); return its path."""
    record = SandboxRecord(
        pid=os.getpid(),
        endpoint_url=sandbox.endpoint_url,
        account_id=sandbox.account_id,
        user_arn=sandbox.user_arn,
        mfa_serial=sandbox.mfa_serial,
        mfa_seed=sandbox.mfa_seed,
        config_file=env["AWS_CONFIG_FILE"],
        credentials_file=env["AWS_SHARED_CREDENTIALS_FILE"],
        started_at=time.time(),
    )
    path = os.path.join(folder, STATE_FILE)
    write_private(path, json.dumps(asdict(record), indent=2) + "\n")
    if pointer_dir is not None:
        os.makedirs(pointer_dir, mode=0o700, exist_ok=True)
        write_private(os.path.join(pointer_dir, POINTER_FILE), os.path.abspath(folder) + "\n")
    return path


def remove_state(folder: str, pointer_dir: str | None) -> None:
    """Remove the state file, and the pointer if it still names ``folder``."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(folder, STATE_FILE))
    if pointer_dir is None:
        return
    pointer = os.path.join(pointer_dir, POINTER_FILE)
    try:
        with open(pointer) as handle:
            named = handle.read().strip()
        if named == os.path.abspath(folder):
            os.remove(pointer)
    except FileNotFoundError:
        pass


def find_folder(explicit: str | None, env_dir: str | None, pointer_dir: str | None) -> str:
    """The folder of the sandbox to talk to: ``--dir``, then ``$ROLECALL_SANDBOX_DIR``, then the pointer."""
    if explicit:
        return explicit
    if env_dir:
        return env_dir
    if pointer_dir is not None:
        try:
            with open(os.path.join(pointer_dir, POINTER_FILE)) as handle:
                return handle.read().strip()
        except FileNotFoundError:
            pass
    raise NotFoundError(
        "no running sandbox found", hint="start one with 'rolecall sandbox' or name its folder with --dir"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(folder: str) -> SandboxRecord:
    """The record of the sandbox served from ``folder``; NotFoundError if none is running there."""
    path = os.path.join(folder, STATE_FILE)
    try:
        with open(path) as handle:
            data = json.load(handle)
        record = SandboxRecord(**data)
    except FileNotFoundError:
        raise NotFoundError(
            f"no sandbox state in {folder}", hint="start one with 'rolecall sandbox --dir FOLDER'"
        ) from None
    except (ValueError, TypeError):
        raise NotFoundError(f"unreadable sandbox state file {path}", hint="restart 'rolecall sandbox'") from None
    if not _alive(record.pid):
        raise NotFoundError(
            f"the sandbox of {folder} is not running (process {record.pid} is gone)",
            hint="start it again with 'rolecall sandbox'",
        )
    return record


def code(record: SandboxRecord, at: float | None = None, next_step: bool = False) -> str:
    """The seeded device's MFA code now (or of the next 30 s step, which the sandbox also accepts now)."""
    step = totp.time_step(time.time() if at is None else at) + (1 if next_step else 0)
    return totp.code_for_step(record.mfa_seed, step)
