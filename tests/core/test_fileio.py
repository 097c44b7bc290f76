"""rolecall.fileio against the real file system and real processes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import AwsHome, file_modes_bind, run_rolecall
from rolecall.errors import FileError
from rolecall.fileio import atomic_write, exclusive_lock, permission_warning, read_bytes


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_and_folders_get_private_modes(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        target = tmp_path / "a" / "b" / "config"
        atomic_write(str(target), b"[default]\n")
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"[default]\n"
    assert _mode(target) == 0o600
    assert _mode(tmp_path / "a") == 0o700
    assert _mode(tmp_path / "a" / "b") == 0o700
    # no temporary file left behind
    assert sorted(p.name for p in target.parent.iterdir()) == ["config"]


def test_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "config"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    atomic_write(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o644


def test_existing_folder_mode_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o755)
    atomic_write(str(folder / "f"), b"x", mode=0o640)
    assert _mode(folder) == 0o755
    assert _mode(folder / "f") == 0o640


def test_symlink_is_followed_not_replaced(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "config"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "config"
    link.symlink_to(real)
    atomic_write(str(link), b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"


def test_unwritable_folder_is_a_file_error_with_hint(tmp_path: Path) -> None:
    """A real read-only folder, written by a process the mode binds (root too, see ``file_modes_bind``)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o500)
    probe = (
        "import json, sys\n"
        "from rolecall.errors import FileError\n"
        "from rolecall.fileio import atomic_write\n"
        "try:\n"
        "    atomic_write(sys.argv[1], b'x')\n"
        "except FileError as error:\n"
        "    print(json.dumps([error.message, error.hint]))\n"
    )
    try:
        done = subprocess.run(
            [*file_modes_bind(), sys.executable, "-c", probe, str(folder / "config")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.chmod(folder, 0o700)
    assert done.returncode == 0, done.stderr
    message, hint = json.loads(done.stdout)
    assert hint
    assert str(folder) in message
    assert list(folder.iterdir()) == [], "no temporary file may be left behind"


def test_configure_set_into_unwritable_folder_is_exit_7_and_changes_nothing(aws_home: AwsHome) -> None:
    config = aws_home.write_config("[default]\nregion = eu-west-1\n")
    before = config.read_bytes()
    os.chmod(config.parent, 0o500)
    try:
        result = run_rolecall(["configure", "set", "region", "us-east-2"], env=aws_home.env, modes_bind=True)
    finally:
        os.chmod(config.parent, 0o700)
    assert result.returncode == 7, result.stderr
    assert result.stderr.count("\n") == 1 and "(hint: " in result.stderr, result.stderr
    assert str(config.parent) in result.stderr
    assert "Traceback" not in result.stderr
    assert config.read_bytes() == before
    assert sorted(p.name for p in config.parent.iterdir()) == sorted(["config"])


def test_read_bytes_missing_is_none_and_folder_is_error(tmp_path: Path) -> None:
    assert read_bytes(str(tmp_path / "nope")) is None
    with pytest.raises(FileError):
        read_bytes(str(tmp_path))


_HOLDER = """
import sys, time
from rolecall.fileio import exclusive_lock
with exclusive_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_lock_excludes_another_process_and_times_out(tmp_path: Path) -> None:
    target = str(tmp_path / "config")
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, target, "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(FileError) as info, exclusive_lock(target, timeout=0.3):
            pass
        assert 0.25 <= time.monotonic() - started < 5
        assert info.value.hint and ".lock" in info.value.hint
    finally:
        holder.kill()
        holder.wait()
    # the holder died: the OS released its lock, so we get it at once
    with exclusive_lock(target, timeout=1):
        pass
    assert _mode(Path(target + ".lock")) == 0o600


def test_lock_waits_for_release(tmp_path: Path) -> None:
    target = str(tmp_path / "config")
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, target, "0.5"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with exclusive_lock(target, timeout=20):
            waited = time.monotonic() - started
        assert waited >= 0.2
    finally:
        holder.kill()
        holder.wait()


def test_permission_warning(tmp_path: Path) -> None:
    creds = tmp_path / "credentials"
    assert permission_warning(str(creds)) is None  # missing file
    creds.write_text("[default]\n")
    os.chmod(creds, 0o600)
    assert permission_warning(str(creds)) is None
    os.chmod(creds, 0o644)
    warning = permission_warning(str(creds))
    assert warning is not None and "0644" in warning and "chmod 600" in warning and str(creds) in warning
    os.chmod(creds, 0o660)
    assert permission_warning(str(creds)) is not None


def test_fileio_import_is_cheap() -> None:
    code = "import sys, rolecall.fileio; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    for heavy in ("tempfile", "pathlib", "dataclasses", "fcntl", "shutil", "random"):
        assert heavy not in out, heavy


def test_stale_temp_files_of_dead_writers_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "config"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".config.{dead_pid}.0123456789ab.tmp"
    fresh = tmp_path / f".config.{dead_pid}.ba9876543210.tmp"
    alive = tmp_path / f".config.{os.getppid()}.0123456789ab.tmp"
    other = tmp_path / ".config.notes.tmp"
    for path in (stale, fresh, alive, other):
        path.write_text("partial")
    old = time.time() - 3600
    for path in (stale, alive, other):
        os.utime(path, (old, old))
    atomic_write(str(target), b"data")
    assert not stale.exists()  # dead writer, old: removed
    assert fresh.exists()  # may still be in use by a writer whose pid was reused: too young to judge
    assert alive.exists()  # its writer runs
    assert other.exists()  # not our pattern
