"""The test-only browser hook (``ROLECALL_BROWSER_TEST_HOOK=saml_typing:type_credentials``): types into the sandbox
SAML provider's login page through rolecall's own DevTools connection, like a person at the keyboard.

It reads the username and password from ``SAML_TEST_USER`` / ``SAML_TEST_PASSWORD`` and appends one line to the
file ``SAML_TEST_TYPED`` each time it typed, so a test can tell a renewal that needed nobody from one that did.
"""

from __future__ import annotations

import os
from typing import Any


def type_credentials(page: Any) -> None:
    """On the login page: type the username and password and press the button. Elsewhere: nothing."""
    if not page.evaluate("!!document.getElementById('username')"):
        return
    page.type_into("#username", os.environ["SAML_TEST_USER"])
    page.type_into("#password", os.environ["SAML_TEST_PASSWORD"])
    with open(os.environ["SAML_TEST_TYPED"], "a", encoding="utf-8") as handle:
        handle.write(page.url() + "\n")
    page.click("#signin")
