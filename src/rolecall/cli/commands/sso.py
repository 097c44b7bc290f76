"""``rolecall sso login|logout|sync``: IAM Identity Center logins, compatible with the AWS CLI v2's caches.

``login`` runs the authorization-code flow with PKCE (the default for ``sso-session`` logins) or the
device-code flow (``--use-device-code``, legacy profiles, and automatically where no browser can be shown),
and writes the token to ``~/.aws/sso/cache`` where ``aws sso login``, botocore and rolecall all find it.
``logout`` ends the sessions and removes the cached tokens and SSO role credentials. ``sync`` writes a
profile for every account and role of a login into a block of the config file that rolecall owns.
Details and exit codes: docs/sso.md.
"""

from __future__ import annotations

from rolecall.errors import ConfigError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context
    from rolecall.config.parse import ConfigFiles
    from rolecall.providers.base import Runtime
    from rolecall.sso.login import LoginFlow
    from rolecall.sso.settings import SsoLogin


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The three actions and their options."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    for name, summary in (
        ("login", "log in to IAM Identity Center and cache the token (as aws sso login)"),
        ("logout", "end IAM Identity Center sessions on the service side, remove their cached tokens and SSO role "
                   "credentials: every cached login without an option (as aws sso logout), one with --profile or "
                   "--sso-session"),
        ("sync", "write a profile for every account and role you can use into the config file"),
    ):
        sub = actions.add_parser(name, help=summary, description=summary)
        where = sub.add_mutually_exclusive_group()
        if name == "logout":
            where.add_argument("--profile", help="only the login this profile uses (default: every cached login)")
            where.add_argument("--sso-session", metavar="NAME", help="only the login of [sso-session NAME]")
        else:
            where.add_argument(
                "--profile", help="a profile that uses the login (default: $AWS_PROFILE, then 'default')"
            )
            where.add_argument("--sso-session", metavar="NAME", help="the [sso-session NAME] to use")
        if name in ("login", "sync"):
            sub.add_argument("--use-device-code", action="store_true",
                             help="approve with a code on any device instead of a browser redirect to this computer")
            sub.add_argument("--no-browser", action="store_true", help="do not open a browser, only print the URL")
            sub.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                             help="how long to wait for the approval (default 600)")  # fmt: skip
        if name == "sync":
            sub.add_argument("--template", default="{account_name}-{role_name}",
                             help="profile names: {account_name}, {account_id}, {role_name}, {sso_session}, {email} "
                             "(default {account_name}-{role_name})")  # fmt: skip
            sub.add_argument("--region", help="region = ... in every generated profile")
            sub.add_argument("--diff", action="store_true", help="dry run: print the change as a diff, write nothing")
            sub.add_argument("--workers", type=int, default=8, help="parallel ListAccountRoles calls (default 8)")
        if name == "logout":
            sub.set_defaults(use_device_code=False, no_browser=True, timeout=0.0)
            # The AWS CLI's global TLS options, as the sts commands take them: the portal's Logout honours them.
            sub.add_argument("--no-verify-ssl", action="store_true", help="do not verify the portal's TLS certificate")
            sub.add_argument("--ca-bundle", help="CA certificate bundle to verify TLS with (overrides AWS_CA_BUNDLE)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Dispatch to the action."""
    runtime = ctx.session.runtime()
    files = ctx.session.files
    if args.action == "logout":
        return _logout(args, ctx, files, runtime)
    login, profile = _login_of(args, ctx, files)
    if args.action == "login":
        return _login(args, ctx, files, runtime, login, profile)
    return _sync(args, ctx, files, runtime, login, profile)


def _login_of(args: argparse.Namespace, ctx: Context, files: ConfigFiles) -> tuple[SsoLogin, str | None]:
    """The login named by --sso-session, or the one of --profile / the environment's profile."""
    from rolecall.config.paths import selected_profile
    from rolecall.sso.settings import login_for_profile, login_for_session

    if args.sso_session:
        return login_for_session(files, args.sso_session), None
    profile = selected_profile(ctx.env, args.profile)
    values = files.require_profile(profile)
    if not (values.get("sso_session") or values.get("sso_start_url")):
        raise ConfigError(
            f'profile "{profile}" does not use IAM Identity Center (no sso_session or sso_start_url)',
            hint="name one that does (--profile P), or the session itself (--sso-session NAME)",
        )
    return login_for_profile(files, profile), profile


def _flow(args: argparse.Namespace, ctx: Context, files: ConfigFiles, runtime: Runtime, login: SsoLogin,
          profile: str | None, *, require_saved: bool = False) -> LoginFlow:  # fmt: skip
    """The login flow the options ask for (device code where no browser can be shown here); ``require_saved``:
    a token that cannot be cached fails the command (``sso login``)."""
    from rolecall.reporting import as_warnings
    from rolecall.sso import api
    from rolecall.sso.login import LoginFlow, display_available, open_in_browser
    from rolecall.sso.tokens import SsoTokenCache

    if args.timeout <= 0:
        raise UsageError("--timeout must be more than 0 seconds", hint="e.g. --timeout 120")
    device = args.use_device_code
    if not device and not display_available(ctx.env) and login.session_name is not None:
        ctx.say("no display here: using the device code flow (open the URL on any device; --use-device-code says so)")
        device = True
    browser = None if args.no_browser or not display_available(ctx.env) else open_in_browser
    return LoginFlow(
        login,
        api.settings_for(files, ctx.env, login, "sso-oidc", profile),
        SsoTokenCache(runtime.paths.sso_cache_dir, as_warnings(ctx.say)),
        use_device_code=device,
        open_browser=browser,
        reporter=ctx.say,
        clock=ctx.clock,
        timeout=args.timeout,
        require_saved=require_saved,
    )


def _login(args: argparse.Namespace, ctx: Context, files: ConfigFiles, runtime: Runtime, login: SsoLogin,
           profile: str | None) -> int:  # fmt: skip
    from rolecall.timefmt import format_local_hm

    token = _flow(args, ctx, files, runtime, login, profile, require_saved=True).run()
    renewal = ", renewed with its refresh token after that" if token.refresh_token and login.session_name else ""
    ctx.say(
        f"Successfully logged into Start URL: {login.start_url} ({login.describe}); the token is valid until "
        f"{format_local_hm(token.expires_at)}{renewal}"
    )
    return 0


def _logout(args: argparse.Namespace, ctx: Context, files: ConfigFiles, runtime: Runtime) -> int:
    """Logout of one login (--profile/--sso-session) or, as ``aws sso logout``, of every cached token."""
    from rolecall.config.paths import expand_user
    from rolecall.sso.logout import logout_all, logout_login

    # As the sts commands: --no-verify-ssl wins over --ca-bundle; neither: AWS_CA_BUNDLE / ca_bundle decide.
    ca_bundle: str | bool | None = None
    if args.no_verify_ssl:
        ca_bundle = False
    elif args.ca_bundle:
        ca_bundle = expand_user(args.ca_bundle, ctx.env)
    if args.profile or args.sso_session:
        login, profile = _login_of(args, ctx, files)
        ended = logout_login(login, files, runtime, profile=profile, ca_bundle=ca_bundle)
        ctx.say(f"logged out of {login.describe}" if ended else f"no cached IAM Identity Center token for "
                f"{login.describe}; removed its cached role credentials")  # fmt: skip
        return 0
    count = logout_all(files, runtime, ca_bundle=ca_bundle)
    ctx.say(f"logged out of {count} IAM Identity Center session{'s' if count != 1 else ''}")
    return 0


def _sync(args: argparse.Namespace, ctx: Context, files: ConfigFiles, runtime: Runtime, login: SsoLogin,
          profile: str | None) -> int:  # fmt: skip
    from rolecall.providers.sso import sso_token_source
    from rolecall.sso import api, sync
    from rolecall.sso.auth import terminal_present

    if login.session_name is None:
        raise ConfigError(
            "sso sync writes profiles that name an sso-session, and this login is a legacy profile's",
            hint="add an [sso-session NAME] section (sso_start_url, sso_region) and run sso sync --sso-session NAME",
        )
    if args.workers < 1:
        raise UsageError("--workers must be at least 1", hint="e.g. --workers 8")
    if args.region:
        from rolecall.validation import check_region

        check_region(args.region)
    tokens = sso_token_source(login, files, runtime, profile=profile, allow_login=False, why="sso sync: ")
    if terminal_present():
        # A login here follows this command's own options (--use-device-code, --no-browser, --timeout).
        tokens.login_flow = lambda: _flow(args, ctx, files, runtime, login, profile)
    token = tokens.access_token()
    portal = api.settings_for(files, ctx.env, login, "sso", profile)

    def progress(done: int, total: int) -> None:
        if ctx.stderr_is_tty and (done == total or done % 100 == 0):
            ctx.say(f"sso sync: listed the roles of {done} of {total} accounts")

    assignments = sync.collect_assignments(
        lambda: api.list_accounts(portal, login, token),
        lambda account: api.list_account_roles(portal, login, token, account),
        workers=args.workers,
        progress=progress,
    )
    profiles = sync.plan_profiles(
        assignments, sso_session=login.session_name, template=args.template, region=args.region
    )
    result = sync.sync_config_file(runtime.paths.config_file, login.session_name, profiles, dry_run=args.diff)
    if args.diff:
        ctx.out(result.diff)
    accounts = len({item.account_id for item in assignments})
    verb = "would change" if args.diff else "changed" if result.written else "no change to"
    ctx.say(
        f"sso sync: {len(profiles)} profiles for {accounts} accounts of {login.describe}; {verb} "
        f"{runtime.paths.config_file} ({len(result.added)} added, {len(result.changed)} changed, "
        f"{len(result.removed)} removed, {result.unchanged} unchanged)"
    )
    return 0
