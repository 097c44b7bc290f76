"""The SAML sign-in's browser profile folder (``<rolecall folder>/browser/saml-HOST``) against links planted by
another user: root running rolecall with a user's HOME (``sudo -E``) must not chmod, nor start Chromium in, the
folder a link points to. The second user is uid 65534 through ``setpriv``; the "system folder" is a root-owned
0755 folder standing in for ``/etc``.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rolecall.errors import RolecallError
from rolecall.saml.signin import browser_folder

NOBODY = 65534
SAML_URL = "https://idp.example.com/app/aws/sso/saml"
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to act as a second user"
)


@pytest.fixture
def shared() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="rolecall-saml-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _as_nobody(*command: str) -> None:
    subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command],
                   check=True, timeout=30)  # fmt: skip


@pytest.mark.parametrize("where", ["profile folder", "browser folder"])
def test_a_planted_link_is_refused_and_its_target_keeps_its_mode(shared: Path, where: str) -> None:
    system = shared / "etc"
    system.mkdir(mode=0o755)
    os.chmod(system, 0o755)
    rolecall_dir = shared / "home" / ".aws" / "rolecall"
    browser = rolecall_dir / "browser"
    (shared / "home").mkdir()
    os.chown(shared / "home", NOBODY, NOBODY)  # the user's HOME, root runs with it
    _as_nobody("mkdir", "-p", str(browser if where == "profile folder" else rolecall_dir))
    if where == "profile folder":
        _as_nobody("ln", "-s", str(system), str(browser / "saml-idp.example.com"))
    else:
        _as_nobody("ln", "-s", str(system), str(browser))
    with pytest.raises(RolecallError) as caught:
        browser_folder(str(rolecall_dir), SAML_URL)
    assert caught.value.exit_code == 7 and caught.value.hint
    assert stat.S_IMODE(os.stat(system).st_mode) == 0o755  # before the fix: chmod 0700 through the link
    assert list(system.iterdir()) == []


def test_the_folder_is_made_private(shared: Path) -> None:
    rolecall_dir = shared / "rolecall"
    folder = Path(browser_folder(str(rolecall_dir), SAML_URL))
    assert folder == rolecall_dir / "browser" / "saml-idp.example.com"
    for path in (folder, folder.parent):
        info = os.lstat(path)
        assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
