"""The demo's SAML part: a profile with the sandbox provider's ``saml_url``, a headless Chromium sign-in (the
sandbox provider's auto-login control fills its own form, standing in for the person) and the role credentials,
then ``whoami`` served from the cache. Skipped with one line when no Chromium or Chrome is installed."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class DemoSteps(Protocol):
        """What the demo's step runner offers (``demo._Demo``)."""

        env: dict[str, str]

        def step(self, title: str) -> None:
            """A numbered heading."""

        def note(self, text: str) -> None:
            """An indented remark."""

        def run(self, argv: list[str], shown: str | None = None, env: dict[str, str] | None = None) -> str:
            """Run rolecall in-process, show it."""


def saml_part(demo: DemoSteps, box: Any) -> None:
    """Sign in through the sandbox SAML provider in a headless browser, then use the cached role credentials."""
    from rolecall.errors import LoginError
    from rolecall.saml.browser import find_browser
    from rolecall.sandbox.samlsts import IDP_PASSWORD, IDP_USER

    demo.step("SAML through an identity provider: rolecall saml login (headless Chromium)")
    try:
        find_browser(demo.env)
    except LoginError:
        demo.note("skipped: no Chromium or Google Chrome here (apt install chromium); see docs/saml.md")
        return
    with open(demo.env["AWS_CONFIG_FILE"], "a", encoding="utf-8") as handle:
        handle.write(f"\n[profile federated]\nsaml_url = {box.saml_url}\nregion = us-east-1\n"
                     "role_arn = arn:aws:iam::123456789012:role/saml-admin\n")  # fmt: skip
    box.saml.auto_login = (IDP_USER, IDP_PASSWORD)  # the sandbox provider types for the person
    env = {**demo.env, "ROLECALL_BROWSER_HEADLESS": "1", "ROLECALL_BROWSER_TIMEOUT": "60"}
    demo.note(f"[profile federated] saml_url = {box.saml_url}  (the provider's AWS sign-in URL)")
    demo.run(["saml", "login", "--profile", "federated"], env=env)
    demo.note(f"The provider's login page was filled {box.saml.logins} time(s); the SAMLResponse was caught on its "
              "way to https://signin.aws.amazon.com/saml and never reached it.")  # fmt: skip
    box.saml.auto_login = None  # from now on, a login page would wait for a person
    demo.run(["whoami", "--profile", "federated"], env=env)
    demo.note(f"AssumeRoleWithSAML calls so far: {box.calls('AssumeRoleWithSAML')} (whoami used the cache).")
