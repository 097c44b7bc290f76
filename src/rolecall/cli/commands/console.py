"""``rolecall console [PROFILE]``: the AWS web console signed in as the profile, in one command.

The profile's credentials are resolved as for every command (caches, MFA, SSO); long-term IAM user keys
first become a federation token (GetFederationToken with a policy allowing what the user may do), since the
federation endpoint takes temporary credentials only. The sign-in URL is a secret: ``--print`` writes it to
stdout (with a warning on stderr); otherwise the browser gets a private (0600) local page that forwards to it,
so the URL never appears in a process's arguments, where other local users could read it. docs/console.md.
"""

from __future__ import annotations

import os

from rolecall.cli.commands._profile_arg import add_profile_arguments
from rolecall.cli.commands._resolve_options import PROFILE_HELP, add_resolve_options, chain_for
from rolecall.errors import ExecError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from rolecall.cli.context import Context
    from rolecall.credentials import Credentials

#: How long the forwarding page stays on disk: long enough for a browser to start and read it.
FORWARD_PAGE_SECONDS = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE, where to land, how long, how to open it, and the shared resolve options."""
    add_profile_arguments(parser, PROFILE_HELP)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--service", metavar="S", help="land on a service's console: s3, ec2, cloudwatch, iam, ...")
    where.add_argument("--destination", metavar="URL", help="land on this console URL (https://...)")
    parser.add_argument("--duration", type=int, metavar="SECONDS",
                        help="console session length, 900-43200 s (1 h at most for a role reached by chaining)")
    parser.add_argument("--print", action="store_true", dest="print_url",
                        help="print the sign-in URL on stdout instead of opening it (it is a secret)")
    parser.add_argument("--browser", metavar="CMD", help="open with this command (no shell) instead of the default")
    parser.add_argument("--browser-mode", choices=("default", "chromium-profiles", "firefox-containers"),
                        help="several accounts at once: a Chromium user-data folder or a Firefox container per "
                        "profile (default: ROLECALL_CONSOLE_BROWSER, the profile's console_browser_mode, else "
                        "default)")  # fmt: skip
    parser.add_argument("--logout", action="store_true",
                        help="default mode: sign the browser's current console session out first")  # fmt: skip
    add_resolve_options(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Resolve, federate, sign in, open (or print)."""
    from rolecall import console
    from rolecall.timefmt import format_local_hm, timedelta

    chain = chain_for(args, ctx)
    facts = chain.provider.console_facts()
    role_arn, chained, long_term = facts.role_arn, facts.chained, facts.long_term
    # The region as every SDK picks it: --region, the environment, then the profile's.
    region = args.region or _environment_region(ctx) or chain.region
    partition = console.partition_for(role_arn, region)
    endpoint = console.federation_endpoint(partition, ctx.env, ctx.session.files.profile(chain.profile))
    destination = (
        console.check_destination(args.destination)
        if args.destination
        else console.destination_url(partition, region, args.service)
    )
    duration = console.check_duration(args.duration, chained=chained) if args.duration is not None else None
    from rolecall.consolebrowser import browser_mode

    mode = "print" if args.print_url else browser_mode(args.browser_mode, ctx.env,
                                                        ctx.session.files.profile(chain.profile) or {})  # fmt: skip
    if args.explain:
        for line in chain.explain():
            ctx.out(line + "\n")
        if long_term:
            ctx.out(f"{chain.profile}: long-term IAM user keys: GetFederationToken first (a policy allowing what the "
                    "user may do), since the console takes temporary credentials only\n")  # fmt: skip
        ctx.out(f"{chain.profile}: getSigninToken at {endpoint}, then the sign-in URL for {destination}\n")
        return 0
    credentials = chain.provider.retrieve()
    if not credentials.session_token:
        ctx.say(f"{chain.profile}: long-term IAM user keys: getting a federation token first (GetFederationToken), "
                "since the console takes temporary credentials only")  # fmt: skip
        credentials = ctx.session.federation_token(
            chain.profile,
            credentials,
            policy=console.ALLOW_ALL_POLICY,
            duration_seconds=args.duration,
            region=args.region,
            endpoint_url=args.endpoint_url,
        )
        session_duration = None  # AWS refuses SessionDuration for federation tokens; DurationSeconds set it
    else:
        _refuse_user_session(chain, credentials, args, ctx)
        session_duration = duration
    token = console.signin_token(endpoint, credentials, ctx.env, session_duration=session_duration)
    url = console.login_url(endpoint, token, destination)
    valid = format_local_hm(ctx.clock() + timedelta(seconds=console.SIGNIN_URL_LIFETIME))
    if args.print_url:
        ctx.out(url + "\n")
        ctx.say(f"warning: this sign-in URL is a secret: whoever opens it before {valid} is signed in to the console "
                f"as profile {chain.profile}; do not paste it into chats or tickets")  # fmt: skip
        return 0
    where = _open_in_mode(mode, url, chain.profile, endpoint, args, ctx)
    ctx.say(f"{chain.profile}: opened the AWS console {where} (the sign-in link works until {valid})")
    return 0


def _refuse_user_session(chain: Any, credentials: Credentials, args: argparse.Namespace, ctx: Context) -> None:
    """A ``credential_process`` may print a GetSessionToken session (aws-vault does for a user without a role),
    which the federation endpoint refuses with a bare HTTP 400: ask STS whose they are first, and say what works."""
    if getattr(chain.provider, "method", None) != "custom-process":
        return
    arn = str(ctx.session.caller_identity(chain.profile, credentials, region=args.region,
                                          endpoint_url=args.endpoint_url).get("Arn", ""))  # fmt: skip
    if ":user/" in arn or arn.endswith(":root"):
        from rolecall.errors import ConfigError

        raise ConfigError(
            f"profile {chain.profile}: its credential_process gives a session of the IAM user {arn} "
            "(GetSessionToken), which the console refuses",
            hint=f"make the tool print long-term keys (rolecall then gets a federation token) or a role session, "
            f"or use a role profile with source_profile = {chain.profile}",
        )


def _open_in_mode(mode: str, url: str, profile: str, endpoint: str, args: argparse.Namespace, ctx: Context) -> str:
    """Open the sign-in ``url`` as ``mode`` says (docs/console.md "Several accounts at once"); where it went."""
    from rolecall import consolebrowser

    if mode == "chromium-profiles":
        program = consolebrowser.find_chromium(ctx.env)
        folder = consolebrowser.profile_folder(ctx.paths.rolecall_dir, profile)
        target = "file://" + _private_page(url, ctx)
        argv = consolebrowser.chromium_argv(program, folder, target, as_root=os.geteuid() == 0)
        _start(argv)
        return f"in Chromium's own profile for {profile} ({folder})"
    if mode == "firefox-containers":
        program = args.browser or "firefox"
        import shlex

        _start([*shlex.split(program), consolebrowser.container_url(profile, _one_shot(url))])
        return f"in the Firefox container {consolebrowser.CONTAINER_PREFIX}{profile}"
    if args.logout:
        # One console session per browser: end the current one first, then sign in (as granted and aws-vault do).
        _open(consolebrowser.logout_url(endpoint), args.browser, ctx, secret=False)
        import time

        time.sleep(float(ctx.env.get("ROLECALL_CONSOLE_LOGOUT_WAIT", "1.5")))
    _open(url, args.browser, ctx)
    return "in the browser"


def _private_page(url: str, ctx: Context) -> str:
    """The private forwarding page for ``url``, removed a minute later (see ``_open``)."""
    import subprocess
    import sys

    from rolecall.console import forward_page

    page = forward_page(url, os.path.join(ctx.paths.rolecall_dir, "console"))
    subprocess.Popen(
        [sys.executable, "-c", "import os, sys, time; time.sleep(float(sys.argv[2])); os.unlink(sys.argv[1])",
         page, str(FORWARD_PAGE_SECONDS)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    return page


def _one_shot(url: str) -> str:
    """A one-shot 127.0.0.1 address that redirects to ``url`` once (``rolecall.oneshot``): the URL travels on a
    pipe, never in a command line."""
    import subprocess
    import sys

    helper = subprocess.Popen([sys.executable, "-m", "rolecall.oneshot"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
                              text=True)  # fmt: skip
    assert helper.stdin is not None and helper.stdout is not None
    helper.stdin.write(url + "\n")
    helper.stdin.close()
    address = helper.stdout.readline().strip()
    if not address.startswith("http://127.0.0.1:"):
        raise ExecError("could not start the local one-shot redirect for Firefox", hint="use --browser-mode default")
    return address


def _start(argv: list[str]) -> None:
    """Start a browser detached; ``ExecError`` when it cannot be run."""
    import subprocess

    try:
        subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)  # fmt: skip
    except OSError as error:
        raise ExecError(f"cannot start the browser {argv[0]}: {error.strerror}",
                        hint="check it is installed and on PATH, or use --print") from None  # fmt: skip


def _environment_region(ctx: Context) -> str | None:
    """AWS_REGION, else AWS_DEFAULT_REGION, checked: the region becomes the console's host name
    (``https://REGION.console.aws.amazon.com``), so ``AWS_REGION='evil.example/x#'`` would send the browser, signed
    in, to ``https://evil.example/x``. (--region is checked with the other resolve options, the profile's region
    when the profile is read.)"""
    from rolecall.config.profiles import REGION_HINT, is_valid_region
    from rolecall.errors import ConfigError

    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        value = ctx.env.get(variable)
        if value:
            if not is_valid_region(value):
                raise ConfigError(
                    f"{variable} {value!r} is not a valid region name",
                    hint=f"set {variable} to a valid region or unset it; {REGION_HINT}",
                )
            return value
    return None


def _open(url: str, browser: str | None, ctx: Context, *, secret: bool = True) -> None:
    """Give the browser a private local page that forwards to ``url`` (never ``url`` itself in argv); a URL that is
    no ``secret`` (the sign-out one) is given as it is."""
    import shlex
    import subprocess

    # The page goes away on its own once the browser has had time to read it.
    target = "file://" + _private_page(url, ctx) if secret else url
    if browser:
        try:
            argv = [*shlex.split(browser), target]
        except ValueError as error:
            raise ExecError(f"--browser cannot be split into words: {error}", hint="quote it as for a shell") from None
        try:
            subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as error:
            raise ExecError(f"cannot start the browser {argv[0]}: {error.strerror}",
                            hint="check --browser names a program on PATH") from None  # fmt: skip
        return
    import webbrowser

    if not webbrowser.open_new_tab(target):
        raise ExecError("no web browser could be started here", hint="use --print, or --browser CMD")
