"""``rolecall console --browser-mode``: several accounts in the console at once (docs/console.md).

The browsers rolecall starts are recorded by small programs of the same name on PATH (``chromium``, ``firefox``,
a ``--browser`` command), so the command lines rolecall builds can be checked; then a real headless Chromium
(Selenium and Debian's chromedriver, as in browser_approve.py) is started on exactly those user-data folders and
pages, two at once, against the sandbox's federation endpoint and console page.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from pathlib import Path

import pytest

import browser_approve
from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

RECORDER = """#!{python}
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
"""


def _recorder(folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    log = folder / f"{name}.log"
    program = folder / name
    program.write_text(RECORDER.format(python=sys.executable, log=str(log)))
    program.chmod(0o755)
    return log


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _env(sandbox: Sandbox, aws_home: AwsHome, bin_dir: Path, **extra: str) -> dict[str, str]:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    env["PATH"] = str(bin_dir)  # no system Chromium or Firefox here
    env.update(extra)
    return env


@pytest.mark.skipif(not browser_approve.available(), reason="needs chromium, chromedriver and selenium")
def test_two_chromium_profiles_are_signed_in_at_once(sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path) -> None:  # noqa: F811
    bin_dir = tmp_path / "bin"
    log = _recorder(bin_dir, "chromium")
    env = _env(sandbox, aws_home, bin_dir)
    first = run_rolecall(["console", "readonly", "--browser-mode", "chromium-profiles"], env)
    assert first.returncode == 0, first.stderr
    assert "in Chromium's own profile for readonly" in first.stderr
    # The mode from the setting this time.
    second = run_rolecall(["console", "deploy"], {**env, "ROLECALL_CONSOLE_BROWSER": "chromium-profiles"})
    assert second.returncode == 0, second.stderr
    calls = _calls(log)
    assert len(calls) == 2
    folders, pages = [], []
    for call, profile in zip(calls, ("readonly", "deploy"), strict=True):
        assert not any("SigninToken" in arg or "Action=login" in arg for arg in call), call
        (folder,) = [arg.split("=", 1)[1] for arg in call if arg.startswith("--user-data-dir=")]
        assert folder.endswith(os.sep + os.path.join("browser", profile))
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        assert ("--no-sandbox" in call) == (os.geteuid() == 0)
        assert call[-1].startswith("file://")
        folders.append(folder)
        pages.append(call[-1])
    artifacts = Path(tempfile.mkdtemp(prefix="rolecall-console-profiles-"))
    print(f"screenshots of the two consoles: {artifacts}")
    drivers = [browser_approve._driver(folder) for folder in folders]
    try:
        for driver, page in zip(drivers, pages, strict=True):
            driver.set_page_load_timeout(30)
            driver.get(page)
            browser_approve._wait_for(driver, "who")
        # Both browsers still signed in, each as its own profile, at the same time.
        seen = []
        for driver, profile in zip(drivers, ("readonly", "deploy"), strict=True):
            driver.get(sandbox.federation_endpoint.rsplit("/", 1)[0] + "/console")
            seen.append(str(browser_approve._wait_for(driver, "who").text))
            driver.save_screenshot(str(artifacts / f"console-{profile}.png"))
    finally:
        for driver in drivers:
            driver.quit()
    assert seen[0].startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/readonly/"), seen
    assert seen[1].startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/deploy/"), seen
    assert all((artifacts / f"console-{p}.png").stat().st_size > 1000 for p in ("readonly", "deploy"))


def test_without_chromium_one_line_says_what_to_install(sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path) -> None:  # noqa: F811
    env = _env(sandbox, aws_home, tmp_path / "empty")
    result = run_rolecall(["console", "readonly", "--browser-mode", "chromium-profiles"], env)
    assert result.returncode == 9, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "needs Chromium or Google Chrome" in line and "install chromium" in line


def test_a_planted_symlink_for_the_profile_folder_is_refused(
    sandbox: Sandbox,  # noqa: F811
    aws_home: AwsHome,
    tmp_path: Path,
) -> None:
    bin_dir = tmp_path / "bin"
    log = _recorder(bin_dir, "chromium")
    env = _env(sandbox, aws_home, bin_dir)
    first = run_rolecall(["console", "readonly", "--browser-mode", "chromium-profiles"], env)
    assert first.returncode == 0, first.stderr
    (folder,) = [a.split("=", 1)[1] for a in _calls(log)[0] if a.startswith("--user-data-dir=")]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    os.rename(folder, str(tmp_path / "moved"))
    os.symlink(elsewhere, folder)
    result = run_rolecall(["console", "readonly", "--browser-mode", "chromium-profiles"], env)
    assert result.returncode == 7, result.stderr
    assert "is a symbolic link" in result.stderr and len(_calls(log)) == 1


def test_firefox_container_url_holds_a_one_shot_redirect_not_the_token(
    sandbox: Sandbox,  # noqa: F811
    aws_home: AwsHome,
    tmp_path: Path,
) -> None:
    import urllib.parse

    bin_dir = tmp_path / "bin"
    log = _recorder(bin_dir, "firefox")
    env = _env(sandbox, aws_home, bin_dir)
    result = run_rolecall(["console", "readonly", "--browser-mode", "firefox-containers"], env)
    assert result.returncode == 0, result.stderr
    assert "in the Firefox container rolecall-readonly" in result.stderr
    ((url,),) = _calls(log)
    assert url.startswith("ext+container:name=rolecall-readonly&url=http%3A%2F%2F127.0.0.1%3A"), url
    assert "SigninToken" not in url
    address = urllib.parse.parse_qs(url.removeprefix("ext+container:"))["url"][0]

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
    with pytest.raises(urllib.error.HTTPError) as first:
        opener.open(address, timeout=10)
    assert first.value.code == 302
    assert first.value.headers["Location"].startswith(sandbox.federation_endpoint + "?Action=login&")
    with pytest.raises((urllib.error.URLError, ConnectionError)):  # used once: gone
        opener.open(address, timeout=5)


def test_logout_opens_the_sign_out_url_first(sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path) -> None:  # noqa: F811
    bin_dir = tmp_path / "bin"
    log = _recorder(bin_dir, "browser")
    env = _env(sandbox, aws_home, bin_dir, ROLECALL_CONSOLE_LOGOUT_WAIT="0")
    result = run_rolecall(["console", "readonly", "--logout", "--browser", str(bin_dir / "browser")], env)
    assert result.returncode == 0, result.stderr
    (signout,), (page,) = _calls(log)
    assert signout == sandbox.federation_endpoint.rsplit("/", 1)[0] + "/oauth?Action=logout"
    assert page.startswith("file://") and "SigninToken" not in page


def test_a_bad_mode_setting_is_one_line(sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path) -> None:  # noqa: F811
    env = _env(sandbox, aws_home, tmp_path / "empty", ROLECALL_CONSOLE_BROWSER="safari-tabs")
    result = run_rolecall(["console", "readonly"], env)
    assert result.returncode == 8, result.stderr
    assert "ROLECALL_CONSOLE_BROWSER 'safari-tabs' is not a console browser mode" in result.stderr
