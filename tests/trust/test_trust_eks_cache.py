"""The ``rolecall eks token`` cache (``<rolecall folder>/eks/``) against another local user: an entry planted in a
cache folder others can write (a shared ``ROLECALL_HOME``, umask 000) is never handed to kubectl, and a named pipe
planted there never hangs it. The second user is uid 65534 through ``setpriv`` (as test_trust_files.py).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

NOBODY = 65534
PLANTED = "k8s-aws-v1.PLANTEDBYANOTHERUSER"
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to act as a second user"
)


def _as_nobody(*command: str) -> None:
    subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command],
                   check=True, timeout=30)  # fmt: skip


def _eks(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rolecall", "eks", "token", "--cluster-name", "prod-cluster",
                           "--profile", "deploy"], env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)  # fmt: skip


@pytest.fixture
def shared_rolecall_home(sandbox: Sandbox, aws_home: AwsHome) -> Iterator[tuple[dict[str, str], Path]]:  # noqa: F811
    """The sandbox's env with ROLECALL_HOME in a folder another user can reach, its eks folder 0777, and the path
    of the cache entry of ``eks token --cluster-name prod-cluster --profile deploy`` (made once, then removed)."""
    base = Path(tempfile.mkdtemp(prefix="rolecall-eks-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        env = {**seeded_env(sandbox, aws_home), "ROLECALL_HOME": str(base / "rolecall")}
        first = _eks(env)
        assert first.returncode == 0, first.stderr
        folder = base / "rolecall" / "eks"
        entries = list(folder.iterdir())
        assert len(entries) == 1
        entries[0].unlink()
        os.chmod(base / "rolecall", 0o755)
        os.chmod(folder, 0o777)  # loose, as under umask 000
        yield env, entries[0]
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_an_entry_planted_by_another_user_is_not_handed_to_kubectl(
    shared_rolecall_home: tuple[dict[str, str], Path],
) -> None:
    env, entry = shared_rolecall_home
    document = json.dumps({"kind": "ExecCredential", "status": {"token": PLANTED}})
    _as_nobody("sh", "-c", 'umask 000; printf "%s\\n%s" "$1" "$2" > "$3"', "sh", str(int(time.time()) + 3600),
               document, str(entry))  # fmt: skip
    done = _eks(env)
    assert done.returncode == 0, done.stderr
    assert PLANTED not in done.stdout and json.loads(done.stdout)["status"]["token"].startswith("k8s-aws-v1.")
    info = os.lstat(entry)  # replaced by ours
    assert stat.S_ISREG(info.st_mode) and (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o600)


def test_a_named_pipe_planted_by_another_user_does_not_hang_kubectl(
    shared_rolecall_home: tuple[dict[str, str], Path],
) -> None:
    env, entry = shared_rolecall_home
    _as_nobody("mkfifo", "-m", "666", str(entry))
    done = _eks(env)  # before the fix: blocked for ever opening the pipe (TimeoutExpired)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISREG(os.lstat(entry).st_mode)
