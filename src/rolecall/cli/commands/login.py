"""``rolecall login [PROFILE | --profile P] [--remote] [--region R]``: sign in with console credentials, as
``aws login`` (AWS CLI >= 2.32) does, and keep the session in the AWS CLI v2's token file.

The browser signs in at AWS Sign-In and is redirected back to a 127.0.0.1 port (``--remote``: open the URL on any
device and paste the code the page shows). The token goes to ``~/.aws/login/cache`` (``AWS_LOGIN_CACHE_DIRECTORY``),
``login_session`` (and ``--region`` when the profile has none) to the profile. Afterwards rolecall, the AWS CLI v2
and botocore >= 1.41 all use and renew the session. Exit 10 when the sign-in fails (docs/login.md).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from rolecall.cli.context import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE (or --profile), --remote, --region, --no-browser, --timeout."""
    from rolecall.cli.commands._profile_arg import add_profile_arguments

    add_profile_arguments(parser, "the profile to sign in (default: $AWS_PROFILE, then 'default')")
    parser.add_argument("--remote", action="store_true",
                        help="sign in on another device: print the URL, then paste the code the page shows")
    parser.add_argument("--region", help="the region to sign in to (and to write to the profile if it has none)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser, only print the URL")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                        help="how long to wait for the browser (default 600)")  # fmt: skip


def _read_code(ctx: Context) -> Callable[[str], str]:
    """The paste prompt of ``--remote``: the prompt on stderr, one line from stdin (a terminal)."""
    from rolecall.errors import LoginError

    def read(prompt: str) -> str:
        if not ctx.stdin_is_tty:
            raise LoginError("--remote needs a terminal to paste the code into", hint="run it in a terminal")
        ctx.stderr.write(prompt)
        ctx.stderr.flush()
        line = ctx.stdin.readline()
        if not line:
            raise LoginError("no code was pasted", hint="run rolecall login --remote again and paste the code")
        return line.strip()

    return read


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Sign in, save the token, point the profile at the session."""
    from rolecall.errors import UsageError
    from rolecall.login.flow import SignInFlow
    from rolecall.login.profile import login_command, refuse_other_credentials, write_login_session
    from rolecall.login.tokens import LoginTokenCache, cache_directory
    from rolecall.providers.login_session import signin_settings
    from rolecall.reporting import as_warnings
    from rolecall.sso.login import display_available, open_in_browser

    if args.timeout <= 0:
        raise UsageError("--timeout must be more than 0 seconds", hint="e.g. --timeout 120")
    session = ctx.session
    files = session.files
    profile = session.profile_name(args.profile)
    values = files.profile(profile) or {}
    refuse_other_credentials(profile, values)
    settings = signin_settings(ctx.env, values, files)
    if args.region:
        settings = settings.with_overrides(region=args.region)
    browser = None if args.no_browser or args.remote or not display_available(ctx.env) else open_in_browser
    flow = SignInFlow(settings, login_command=login_command(profile), remote=args.remote, open_browser=browser,
                      read_code=_read_code(ctx), reporter=ctx.say, clock=ctx.clock, timeout=args.timeout)  # fmt: skip
    signed_in = flow.run()
    cache = LoginTokenCache(cache_directory(ctx.env), as_warnings(ctx.say))
    if not cache.save(signed_in.login_session, signed_in.document):
        from rolecall.errors import FileError

        raise FileError(f"signed in, but the token could not be saved in {cache.directory}",
                        hint=f"make {cache.directory} writable, then {login_command(profile)}")  # fmt: skip
    previous = values.get("login_session")
    region = args.region if args.region and not values.get("region") else None
    write_login_session(ctx.paths.config_file, profile, signed_in.login_session, region)
    session.forget_files()
    if isinstance(previous, str) and previous and previous != signed_in.login_session:
        ctx.say(f'profile "{profile}" used the session {previous} before; it now uses the new one')
    ctx.say(f"Updated profile {profile} to use {signed_in.login_session} credentials (account "
            f"{signed_in.account_id}); they are renewed with the session's refresh token.")  # fmt: skip
    if profile != "default":
        ctx.say(f"Use them with: rolecall env {profile}  (or aws --profile {profile}, boto3 profile_name={profile!r})")
    return 0
