"""A person at a browser, for the login tests: headless Chromium (Debian's) opens a URL and clicks a button.

Usable as the ``BROWSER`` command that Python's ``webbrowser`` runs (through a one-line shell wrapper, see
``browser_command``): ``browser_approve.py URL``. It loads the URL in a real headless Chromium driven by
Selenium through Debian's chromedriver, clicks ``#allow`` (or ``#deny`` when ROLECALL_TEST_DECISION=deny), waits
for the page that follows to show ``#result`` (the sandbox's "Request approved", or rolecall's own loopback page
"Signed in" after the authorization-code redirect), saves a screenshot to ROLECALL_TEST_ARTIFACTS (if set),
and writes what it saw to ROLECALL_TEST_BROWSER_LOG (if set). It exits non-zero when any step fails.
With ROLECALL_TEST_BROWSER=http the same steps are taken by a plain HTTP client instead (``approve_over_http``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def available() -> bool:
    """True when Chromium, its driver and Selenium are all here."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)


def browser_command(folder: Path) -> str:
    """An executable for ``BROWSER`` (``webbrowser`` takes a single program, not a command line)."""
    script = folder / "approve-in-chromium"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def _driver(profile_dir: str):  # type: ignore[no-untyped-def]  # selenium is untyped here
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile_dir}",
        "--window-size=1000,700",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium under Selenium with a throwaway profile, quit and removed afterwards."""
    profile_dir = tempfile.mkdtemp(prefix="rolecall-chromium-")
    driver = _driver(profile_dir)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)


def _wait_for(driver: Any, element_id: str, clickable: bool = False) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    condition = expected_conditions.element_to_be_clickable if clickable else (
        expected_conditions.presence_of_element_located
    )
    return WebDriverWait(driver, 30).until(condition((By.ID, element_id)))


def approve(url: str, decision: str = "allow", screenshot: str | None = None) -> str:
    """Open ``url``, click ``#<decision>``, return the text of ``#result`` on the page that follows."""
    with chromium() as driver:
        driver.get(url)
        _wait_for(driver, decision, clickable=True).click()
        text = str(_wait_for(driver, "result").text)
        if screenshot:
            driver.save_screenshot(screenshot)
        return text


def read_page(url: str, element_id: str, screenshot: str | None = None) -> str:
    """Load ``url`` in headless Chromium (following redirects and cookies) and return the text of ``#element_id``."""
    with chromium() as driver:
        driver.get(url)
        text = str(_wait_for(driver, element_id).text)
        if screenshot:
            driver.save_screenshot(screenshot)
        return text


def approve_over_http(url: str, decision: str = "allow") -> str:
    """What ``approve`` does, without a browser: GET the page, submit its form with the ``#<decision>`` button,
    follow the redirects, return the text of ``#result``. For the many login tests that need a person, not
    Chromium in particular."""
    import urllib.parse
    import urllib.request
    from html.parser import HTMLParser

    class Page(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.action: str | None = None
            self.method = "post"
            self.fields: dict[str, str] = {}
            self.button: tuple[str, str] | None = None
            self.result: list[str] = []
            self._in_result = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = {key: value or "" for key, value in attrs}
            if tag == "form" and self.action is None:
                self.action = values.get("action", "")
                self.method = values.get("method", "get").lower()
            if tag == "input" and values.get("name"):
                self.fields[values["name"]] = values.get("value", "")
            if tag == "button" and values.get("id") == decision:
                self.button = (values.get("name", ""), values.get("value", ""))
            if values.get("id") == "result":
                self._in_result = True

        def handle_endtag(self, tag: str) -> None:
            self._in_result = False

        def handle_data(self, data: str) -> None:
            if self._in_result:
                self.result.append(data)

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:
        page = Page()
        page.feed(response.read().decode("utf-8"))
        base = response.geturl()
    if page.action is None or page.button is None:
        raise RuntimeError(f"no form with a #{decision} button at {url}")
    fields = dict(page.fields)
    if page.button[0]:
        fields[page.button[0]] = page.button[1]
    target = urllib.parse.urljoin(base, page.action)
    encoded = urllib.parse.urlencode(fields)
    if page.method == "post":
        request = urllib.request.Request(target, data=encoded.encode())
    else:
        request = urllib.request.Request(target + ("&" if "?" in target else "?") + encoded)
    with opener.open(request, timeout=30) as response:
        after = Page()
        after.feed(response.read().decode("utf-8"))
    return "".join(after.result).strip()


def main(argv: list[str]) -> int:
    """``browser_approve.py URL``: approve (or deny) and report."""
    if len(argv) != 1:
        print("usage: browser_approve.py URL", file=sys.stderr)
        return 2
    decision = os.environ.get("ROLECALL_TEST_DECISION", "allow")
    artifacts = os.environ.get("ROLECALL_TEST_ARTIFACTS")
    shot = None
    if artifacts:
        os.makedirs(artifacts, exist_ok=True)
        shot = os.path.join(artifacts, f"browser-{decision}-{os.getpid()}.png")
    log = os.environ.get("ROLECALL_TEST_BROWSER_LOG")
    try:
        if os.environ.get("ROLECALL_TEST_BROWSER") == "http":
            text, shot = approve_over_http(argv[0], decision), None
        else:
            text = approve(argv[0], decision, shot)
    except Exception as error:
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"error {type(error).__name__}: {error}\n")
        return 1
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"url {argv[0]}\nresult {text}\nscreenshot {shot or ''}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
