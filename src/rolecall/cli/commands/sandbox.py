"""``rolecall sandbox``: serve a strict local STS with a seeded account; ``rolecall sandbox code``: its MFA code.

The sandbox is an optional extra (moto, pyotp); this command and ``demo`` are the only ones importing it.
"""

from __future__ import annotations

import os
import shlex

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context

PROFILES_SUMMARY = "default (alice's keys), readonly, admin (MFA), partner (external id), deploy (2 hops), ops (3 hops)"
SSO_SUMMARY = "sso-admin, sso-readonly (sso-session sandbox), sso-legacy, sso-chained (a role from sso-admin)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[serve|code]``, --dir, --port, --next."""
    parser.add_argument(
        "action",
        nargs="?",
        choices=("serve", "code"),
        default="serve",
        help="serve (default): run the sandbox in the foreground; code: print its current MFA code",
    )
    parser.add_argument(
        "--dir",
        help="folder for the config, credentials and state files (serve: default a new temporary folder; "
        "code: default $ROLECALL_SANDBOX_DIR, then the last sandbox started)",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    parser.add_argument(
        "--next",
        action="store_true",
        help="code: print the next 30 s step's code (also accepted now; use it when the current one was used)",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Serve, or print a code."""
    if args.action == "code":
        return _code(args, ctx)
    return _serve(args, ctx)


def _import_sandbox() -> None:
    from rolecall.extras import require

    require("sandbox")  # else: which packages, with the pip and the pipx command


def _code(args: argparse.Namespace, ctx: Context) -> int:
    _import_sandbox()
    from rolecall.sandbox import statefile

    folder = statefile.find_folder(args.dir, ctx.env.get("ROLECALL_SANDBOX_DIR"), ctx.paths.rolecall_dir)
    record = statefile.read_state(folder)
    ctx.out(statefile.code(record, next_step=args.next) + "\n")
    return 0


def _serve(args: argparse.Namespace, ctx: Context) -> int:
    _import_sandbox()
    import shutil
    import tempfile

    from rolecall.errors import NetworkError
    from rolecall.sandbox import Sandbox, statefile
    from rolecall.sandbox.samlsts import IDP_PASSWORD, IDP_USER

    _stop_on_sigterm()
    created = args.dir is None
    folder = tempfile.mkdtemp(prefix="rolecall-sandbox-") if created else os.path.abspath(args.dir)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        sandbox = Sandbox.start(port=args.port)
    except OSError as error:
        raise NetworkError(
            f"cannot listen on 127.0.0.1:{args.port} ({error.strerror or error})",
            hint="choose another --port, or 0 for any free port",
        ) from None
    pointer_dir = ctx.paths.rolecall_dir
    try:
        # Ctrl-C or SIGTERM at any moment after the start (even while the exports are printed) is a clean stop.
        try:
            env = sandbox.write_aws_files_in(folder)
            # The seeded profiles carry console_federation_endpoint; profiles the user adds (add-role, configure)
            # do not: the variable makes `rolecall console` sign in through the sandbox for them too.
            env["ROLECALL_FEDERATION_ENDPOINT"] = sandbox.federation_endpoint
            env["ROLECALL_HOME"] = os.path.join(folder, "rolecall")
            env["ROLECALL_SANDBOX_DIR"] = folder
            statefile.write_state(sandbox, folder, env, pointer_dir)
            # Credentials in the environment would win over the files: the shell must drop them.
            ctx.out("unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE\n")
            ctx.out("".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items()))
            ctx.stdout.flush()
            ctx.say(f"rolecall sandbox: a strict local STS on {sandbox.endpoint_url} (account {sandbox.account_id})")
            ctx.say(f"  user alice, MFA device {sandbox.mfa_serial}")
            ctx.say(f"  profiles: {PROFILES_SUMMARY}")
            ctx.say(f"  IAM Identity Center: {SSO_SUMMARY}; start URL {sandbox.sso_start_url} "
                    "(rolecall sso login --sso-session sandbox, then approve on the page it opens)")
            ctx.say(f"  console sign-in: {sandbox.federation_endpoint} (rolecall console readonly); exported above as "
                    "ROLECALL_FEDERATION_ENDPOINT, so profiles you add sign in there too (or give one "
                    f"console_federation_endpoint = {sandbox.federation_endpoint})")
            ctx.say("  console credentials (aws login): rolecall login --profile console, then approve on the page it "
                    "opens (the sandbox's AWS Sign-In)")
            ctx.say(f"  SAML: a profile with saml_url = {sandbox.saml_url}, then rolecall saml login --profile P; "
                    f"the provider's user is {IDP_USER} / {IDP_PASSWORD} (docs/saml.md)")
            ctx.say(f"  files in {folder}")
            ctx.say("  point a shell at it: paste the lines above (stdout) into it")
            ctx.say("  MFA codes: rolecall sandbox code   (from a shell with ROLECALL_SANDBOX_DIR, or add --dir)")
            ctx.say("Serving until Ctrl-C.")
            sandbox.serve_until_interrupted()
        except KeyboardInterrupt:
            ctx.say("rolecall sandbox: stopped")
    finally:
        sandbox.stop()
        statefile.remove_state(folder, pointer_dir)
        if created:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so that `kill` cleans up like Ctrl-C does."""
    import contextlib
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # signal.signal only works in the main thread (a test may run the command in-process elsewhere).
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, interrupt)
