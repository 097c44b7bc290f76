"""``rolecall saml login [--profile P]``: sign in at the profile's identity provider in a browser, capture the
SAMLResponse on its way to AWS, and assume the role it grants (a picker when it grants several).

The role credentials go to the AWS CLI's cache, where ``assume``, ``env``, ``exec`` and ``credential-process`` find
them; those commands sign in again by themselves when the credentials run out, headless while the provider's
session lives. Details, browsers, exit codes: docs/saml.md.
"""

from __future__ import annotations

from rolecall.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from rolecall.cli.context import Context
    from rolecall.saml.assertion import SamlRole


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The one action, ``login``, and its profile."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    summary = "sign in at the profile's identity provider (saml_url) in a browser and assume its role"
    login = actions.add_parser("login", help=summary, description=summary)
    login.add_argument("--profile", help="the profile with saml_url (default: $AWS_PROFILE, then 'default')")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Sign in (always: a fresh assertion), assume the role, cache it, say who you are now."""
    from rolecall.config.profiles import Profile
    from rolecall.providers.mfa_inputs import MfaInputs
    from rolecall.providers.result import origin_of
    from rolecall.providers.saml import SamlProvider
    from rolecall.timefmt import format_local_hm

    session = ctx.session
    name = session.profile_name(args.profile)
    raw = session.files.require_profile(name)
    profile = Profile(name, raw)
    if not profile.get("saml_url"):
        raise ConfigError(
            f'profile "{name}" has no saml_url',
            hint=f"set your provider's AWS sign-in URL: rolecall configure set saml_url https://... --profile {name}",
        )
    runtime = session.runtime(force_refresh=True)
    inputs = MfaInputs(runtime, lambda: session.settings(name).with_overrides(profile=name))
    inputs.register_profile(profile)
    interactive = ctx.stdin_is_tty and ctx.stderr_is_tty
    provider = SamlProvider(
        profile, runtime, inputs, choose=_picker if interactive else None, interactive=interactive
    )
    got = provider.retrieve()
    until = f", until {format_local_hm(got.expiration)}" if got.expiration is not None else ""
    who = origin_of(got)[1] or "the role"
    ctx.say(f"{name}: signed in as {who}{until} (cached: rolecall env {name}, assume {name})")
    return 0


def _picker(roles: Sequence[SamlRole]) -> int:
    """Let the person pick one of the assertion's roles on the terminal (the profile picker's keys)."""
    from rolecall.picker import pick

    rows = [{"profile": role.role_arn, "kind": "saml", "chain": f"via {role.principal_arn.rsplit('/', 1)[-1]}",
             "minutes_left": None} for role in roles]  # fmt: skip
    chosen = pick(rows)
    return [role.role_arn for role in roles].index(chosen)
