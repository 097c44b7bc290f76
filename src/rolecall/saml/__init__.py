"""SAML sign-in through any identity provider: the system's browser driven over DevTools (``browser``, ``cdp``),
the SAMLResponse caught on its way to AWS (``capture``), headless first when a provider session lives
(``signin``), and the assertion's roles read without trusting its XML (``assertion``). docs/saml.md."""
