"""``aws login`` sessions (console credentials): the AWS CLI v2's protocol, done by rolecall itself.

* ``pkce``: the code verifier, its SHA-256 challenge, the state, the ``/v1/authorize`` URL;
* ``dpop``: the per-session EC P-256 key (kept in the token file as the CLI v2 keeps it) and the DPoP proofs;
* ``tokens``: the token file, ``~/.aws/login/cache/<sha256 of login_session>.json`` (``AWS_LOGIN_CACHE_DIRECTORY``);
* ``api``: CreateOAuth2Token (code and refresh grants) and what its refusals mean for a person;
* ``loopback``: the 127.0.0.1 redirect receiver of the same-device flow;
* ``flow``: a sign-in, same-device (browser redirect) or cross-device (``--remote``: a code pasted back);
* ``session``: working credentials of a ``login_session``, refreshed under a cross-process lock;
* ``profile``: ``login_session`` (and ``region``) written to the profile, as ``aws login`` writes them.

Off the fast path except ``tokens`` (a cached lookup reads the token file). docs/login.md has the facts.
"""
