"""Catch the SAMLResponse an identity provider posts to AWS's sign-in endpoint, in a browser rolecall drives.

The browser opens the provider's AWS sign-in URL (``saml_url``); the person signs in however the provider asks
(password, passkey, push, number matching); the provider's page posts a form with ``SAMLResponse`` to
``https://signin.aws.amazon.com/saml`` (or the partition's, or a region's). rolecall intercepts that request
with the DevTools ``Fetch`` domain, reads the form and **fails the request** (it never reaches AWS's page, so
the assertion is used once, by rolecall), then closes the browser cleanly so the provider's cookies are kept.

No page is scraped: rolecall never reads or fills the provider's forms. A documented test-only hook
(``ROLECALL_BROWSER_TEST_HOOK=module:function``) is called with a ``Page`` after each page load, so tests can
type into the sandbox provider's page through the same DevTools connection.
"""

from __future__ import annotations

import base64
import importlib
import json
import time
import urllib.parse
from typing import TYPE_CHECKING, Any

from rolecall.errors import LoginError
from rolecall.saml.browser import Browser
from rolecall.saml.cdp import BrowserGone, CdpError, Pipe

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: The hosts of AWS's SAML endpoint (``/saml``) in each partition; regional endpoints are ``REGION.`` + host.
SAML_HOSTS = ("signin.aws.amazon.com", "signin.amazonaws-us-gov.com", "signin.amazonaws.cn")
#: The test-only hook (``module:function``), called with a ``Page`` after each page load.
TEST_HOOK_VARIABLE = "ROLECALL_BROWSER_TEST_HOOK"


def is_saml_endpoint(url: str, extra: str | None = None) -> bool:
    """True for AWS's SAML endpoint in any partition or region (``https://[REGION.]HOST/saml``), or ``extra``."""
    if extra and url.split("?", 1)[0].rstrip("/") == extra.rstrip("/"):
        return True
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https" or parts.path.rstrip("/") != "/saml":
        return False
    return any(host == known or host.endswith("." + known) for known in SAML_HOSTS)


def fetch_patterns(extra: str | None) -> list[dict[str, str]]:
    """The ``Fetch.enable`` patterns: every partition's endpoint, regional ones, and ``extra`` if set."""
    urls = [f"https://{host}/saml*" for host in SAML_HOSTS] + [f"https://*.{host}/saml*" for host in SAML_HOSTS]
    if extra:
        urls.append(extra.rstrip("/") + "*")
    return [{"urlPattern": url, "requestStage": "Request"} for url in urls]


class Page:
    """One page of the browser, for the test hook: evaluate script, type text, click."""

    def __init__(self, pipe: Pipe, session: str) -> None:
        self.pipe = pipe
        self.session = session

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited when it is a promise)."""
        answer = self.pipe.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            self.session,
        )
        return answer.get("result", {}).get("value")

    def url(self) -> str:
        """The page's address."""
        return str(self.evaluate("location.href"))

    def type_into(self, selector: str, text: str) -> None:
        """Focus the element ``selector`` and type ``text`` as keyboard input (``Input.insertText``)."""
        found = self.evaluate(f"(e => {{ if (!e) return false; e.focus(); return true; }})"
                              f"(document.querySelector({json.dumps(selector)}))")
        if not found:
            raise LookupError(f"no element {selector} on the page")
        self.pipe.call("Input.insertText", {"text": text}, self.session)

    def click(self, selector: str) -> None:
        """Click the element ``selector``."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


def load_test_hook(env: Mapping[str, str]) -> Callable[[Page], None] | None:
    """The function ``ROLECALL_BROWSER_TEST_HOOK`` names (``module:function``), or None when it is unset."""
    spec = env.get(TEST_HOOK_VARIABLE)
    if not spec:
        return None
    module_name, _, function = spec.partition(":")
    try:
        hook: Callable[[Page], None] = getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError):
        raise LoginError(
            f"{TEST_HOOK_VARIABLE} names {spec}, which cannot be imported",
            hint=f"it is for rolecall's tests only: unset {TEST_HOOK_VARIABLE}",
        ) from None
    return hook


class Capture:
    """One browser run: open ``saml_url``, wait for the SAML POST, return its ``SAMLResponse`` (or None)."""

    def __init__(self, browser: Browser, *, extra_endpoint: str | None, hook: Callable[[Page], None] | None) -> None:
        self.browser = browser
        self.pipe = browser.pipe
        self.extra_endpoint = extra_endpoint
        self.hook = hook
        self.sessions: dict[str, str] = {}  # session id -> target id
        self.main_target = ""
        #: The SAMLResponse once caught (by the interceptor, possibly while the hook waits on the page).
        self.found: str | None = None
        self.pipe.interceptor = self._intercept

    def run(self, saml_url: str, timeout: float) -> str | None:
        """The posted ``SAMLResponse`` (base64 text), or None when none came within ``timeout`` seconds."""
        self.pipe.call("Target.setDiscoverTargets", {"discover": True})
        self.main_target = self._first_page()
        session = self._attach(self.main_target)
        self.pipe.call("Page.navigate", {"url": saml_url}, session)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if self.found is not None:
                return self.found
            event = self.pipe.next_event(left)
            if event is None:
                return self.found
            self._handle(event)

    def _first_page(self) -> str:
        """The window the browser opened with (one window, not two), else a new one."""
        infos = self.pipe.call("Target.getTargets").get("targetInfos") or []
        for info in infos:
            if isinstance(info, dict) and info.get("type") == "page":
                return str(info.get("targetId", ""))
        return str(self.pipe.call("Target.createTarget", {"url": "about:blank"}).get("targetId", ""))

    def _attach(self, target_id: str) -> str:
        answer = self.pipe.call("Target.attachToTarget", {"targetId": target_id, "flatten": True})
        session = str(answer.get("sessionId", ""))
        self.sessions[session] = target_id
        self.pipe.call("Fetch.enable", {"patterns": fetch_patterns(self.extra_endpoint)}, session)
        self.pipe.call("Page.enable", {}, session)
        return session

    def _intercept(self, event: dict[str, Any]) -> bool:
        """Paused requests are answered as they arrive (the page may be waiting on one while we wait on it)."""
        session = event.get("sessionId")
        if event.get("method") != "Fetch.requestPaused" or session not in self.sessions:
            return False
        found = self._paused(str(session), event.get("params") or {})
        if found is not None:
            self.found = found
        return True

    def _handle(self, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params") or {}
        session = event.get("sessionId")
        if method == "Page.loadEventFired" and session in self.sessions and self.hook is not None:
            self._run_hook(str(session))
        elif method == "Target.targetCreated":
            info = params.get("targetInfo") or {}
            # A window the provider's page opened (a pop-up sign-in): watched like the first one.
            if info.get("type") == "page" and info.get("openerId") in self.sessions.values():
                self._attach(str(info.get("targetId")))
        elif method == "Target.targetDestroyed" and params.get("targetId") == self.main_target:
            raise LoginError(
                "the browser window was closed before the sign-in finished",
                hint="run the command again and sign in at your identity provider",
            )

    def _paused(self, session: str, params: dict[str, Any]) -> str | None:
        request = params.get("request") or {}
        request_id = params.get("requestId")
        if not is_saml_endpoint(str(request.get("url", "")), self.extra_endpoint) or request.get("method") != "POST":
            self.pipe.call("Fetch.continueRequest", {"requestId": request_id}, session)
            return None
        # The assertion must never reach AWS's page (nor be replayed from the browser's history).
        self.pipe.call("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"}, session)
        response = saml_response_of(request)
        if response is None:
            raise LoginError(
                "the identity provider posted to AWS's SAML endpoint without a SAMLResponse",
                hint="check the application's ACS URL in the provider is https://signin.aws.amazon.com/saml",
            )
        return response

    def _run_hook(self, session: str) -> None:
        assert self.hook is not None
        try:
            self.hook(Page(self.pipe, session))
        except CdpError:
            pass  # the page went on (navigated, closed) under the hook: it is called again on the next load
        except Exception as error:
            raise LoginError(
                f"the browser test hook failed ({type(error).__name__})", hint=f"unset {TEST_HOOK_VARIABLE}"
            ) from None


def saml_response_of(request: Mapping[str, Any]) -> str | None:
    """The ``SAMLResponse`` field of a paused POST (``postData`` or its ``postDataEntries``), or None."""
    body = request.get("postData")
    if not isinstance(body, str):
        entries = request.get("postDataEntries") or []
        raw = b"".join(base64.b64decode(entry.get("bytes", "")) for entry in entries if isinstance(entry, dict))
        body = raw.decode("utf-8", "replace")
    values = urllib.parse.parse_qs(body).get("SAMLResponse")
    return values[0] if values else None


def capture_once(
    executable: str,
    user_data_dir: str,
    saml_url: str,
    *,
    headless: bool,
    timeout: float,
    env: Mapping[str, str],
    hook: Callable[[Page], None] | None,
) -> str | None:
    """Start the browser, wait up to ``timeout`` for the SAMLResponse, close the browser cleanly."""
    browser = Browser.launch(executable, user_data_dir, headless=headless, env=env)
    try:
        return Capture(browser, extra_endpoint=env.get("ROLECALL_SAML_ENDPOINT"), hook=hook).run(saml_url, timeout)
    except BrowserGone:
        raise LoginError(
            "the browser closed before the sign-in finished",
            hint="run the command again and sign in at your identity provider",
        ) from None
    except CdpError as error:
        raise LoginError(f"driving the browser failed: {error}", hint="run with --debug and report it") from None
    finally:
        browser.close()
