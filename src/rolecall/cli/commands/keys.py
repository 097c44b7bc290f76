"""``rolecall keys``: long-term access keys kept in the keychain or an encrypted file, not in plaintext.

    rolecall keys add PROFILE            key id and secret from a no-echo prompt, or from stdin
    rolecall keys list                   profiles, masked key ids, backend (never a secret)
    rolecall keys remove PROFILE
    rolecall keys import PROFILE|--all   move keys out of the credentials file (backup kept until --confirm)
    rolecall keys import --confirm       delete those backups
    rolecall keys export PROFILE --yes-print-secret [--format process|sh]
    rolecall keys rotate PROFILE         a new key through IAM, verified, then the old one deleted

Secrets never come from the command line (argv is visible to every user of the machine in /proc).
docs/keys.md has the threat model, the backends and their settings.
"""

from __future__ import annotations

from rolecall.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from rolecall.aws.settings import StsSettings
    from rolecall.cli.context import Context
    from rolecall.credentials import Credentials
    from rolecall.keys.store import KeyStore

_ACTIONS = (
    ("add", "store a profile's access key (prompted without echo, or read from stdin; never from the command line)"),
    ("list", "list the stored keys: profile, masked key id, backend"),
    ("remove", "delete a profile's stored key"),
    ("import", "move keys from the credentials file into the store (a 0600 backup is kept until --confirm)"),
    ("export", "print a stored key (needs --yes-print-secret)"),
    ("rotate", "create a new access key with IAM, verify it, store it, then delete the old key"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The actions and their options."""
    from rolecall.cli.commands._profile_arg import add_profile_arguments

    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    for name, summary in _ACTIONS:
        sub = actions.add_parser(name, help=summary, description=summary)
        if name in _ONE_PROFILE:
            # PROFILE or --profile PROFILE: one of them is needed (run says so)
            add_profile_arguments(sub, "the profile (the name the key is stored under)")
        if name == "import":
            sub.add_argument("profiles", nargs="*", metavar="PROFILE", help="the profiles to import")
            sub.add_argument("--all", action="store_true", help="every section of the credentials file with keys")
            sub.add_argument("--confirm", action="store_true",
                             help="delete the backups earlier imports kept (they hold the plaintext keys)")  # fmt: skip
        if name == "export":
            sub.add_argument("--yes-print-secret", action="store_true",
                             help="confirm that the secret may be printed on standard output")  # fmt: skip
            sub.add_argument("--format", choices=("process", "sh"), default="process",
                             help="process: credential_process JSON (default); sh: export lines")  # fmt: skip
        if name == "rotate":
            sub.add_argument("--token-code", metavar="CODE", help="the MFA code, instead of a prompt (6 digits)")
            sub.add_argument("--region", help="region of the STS endpoint")
            sub.add_argument("--endpoint-url", help="STS and IAM endpoint URL (e.g. the local sandbox)")


#: The actions that take one profile (PROFILE or --profile PROFILE, required).
_ONE_PROFILE = ("add", "remove", "export", "rotate")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Dispatch to the action."""
    if args.action in _ONE_PROFILE and args.profile is None:
        raise UsageError(f"keys {args.action}: no profile named",
                         hint=f"rolecall keys {args.action} PROFILE (or --profile PROFILE)")  # fmt: skip
    if args.action == "import" and args.confirm:
        return _confirm(args, ctx)
    handler = {"add": _add, "list": _list, "remove": _remove, "import": _import, "export": _export,
               "rotate": _rotate}[args.action]  # fmt: skip
    return handler(args, ctx)


def _store(ctx: Context) -> KeyStore:
    from rolecall.keys.backends import open_store

    return open_store(ctx.env, ctx.paths)


def _add(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall.keys.entry import read_key
    from rolecall.keys.store import mask
    from rolecall.providers.keystore import credential_process_command

    key = read_key(ctx.stdin, ctx.stdin_is_tty)
    store = _store(ctx)
    replaced = store.get(args.profile) is not None
    store.put(args.profile, key)
    ctx.say(f"{'replaced' if replaced else 'stored'} the key {mask(key.access_key_id)} of "
            f'"{args.profile}" in {store.description}')  # fmt: skip
    ctx.say(f"a profile uses it with: credential_process = {credential_process_command(args.profile)}")
    return 0


def _list(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall.keys.store import mask

    store = _store(ctx)
    rows = []
    for name in store.profiles():
        key = store.get(name)
        if key is not None:
            rows.append((name, mask(key.access_key_id), getattr(store, "label", store.name)))
    if not rows:
        ctx.say(f"no keys are stored in {store.description}")
        return 0
    width = max(len(name) for name, _, _ in rows)
    for name, masked, backend in rows:
        ctx.out(f"{name:<{width}}  {masked}  {backend}\n")
    return 0


def _remove(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall.errors import NotFoundError

    store = _store(ctx)
    if not store.delete(args.profile):
        raise NotFoundError(f'no key is stored for "{args.profile}" in {store.description}',
                            hint="run `rolecall keys list` for the stored ones")  # fmt: skip
    store.delete(args.profile, pending=True)
    ctx.say(f'removed the key of "{args.profile}" from {store.description}')
    return 0


def _import(args: argparse.Namespace, ctx: Context) -> int:
    import shutil

    from rolecall.keys.importer import import_keys
    from rolecall.keys.store import mask

    if args.all == bool(args.profiles):
        raise UsageError("name the profiles to import, or give --all (not both)",
                         hint="rolecall keys import default, or rolecall keys import --all")  # fmt: skip
    store = _store(ctx)
    path = ctx.paths.credentials_file
    result = import_keys(path, store, None if args.all else args.profiles, clock=ctx.clock,
                         rolecall_dir=ctx.paths.rolecall_dir)  # fmt: skip
    for name, why in result.skipped:
        ctx.say(f"[{name}] left as it is: {why}")
    if not result.imported:
        ctx.say(f"no keys to import in {path}")
        return 0
    for name, key_id in result.imported:
        ctx.say(f"moved the key {mask(key_id)} of [{name}] into {store.description}")
    ctx.say(f"{path} now has no secret for them: each runs `rolecall credential-process --keys NAME`")
    ctx.say(f"the old file, with the plaintext keys, is kept (0600) as {result.backup}; once everything "
            "works, delete it with: rolecall keys import --confirm")  # fmt: skip
    if shutil.which("rolecall", path=ctx.env.get("PATH")) is None:
        ctx.warn("`rolecall` is not on PATH: the AWS CLI and SDKs need it there to run the credential_process")
    return 0


def _confirm(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall.keys.importer import confirm_import

    if args.all or args.profiles:
        raise UsageError("--confirm takes no profiles", hint="rolecall keys import --confirm")
    done = confirm_import(ctx.paths.credentials_file, ctx.paths.rolecall_dir)
    if not done.backups:
        ctx.say("no backups of the credentials file to delete")
    for path in done.backups:
        ctx.say(f"deleted the backup {path}")
    for path in done.leftovers:
        ctx.say(f"deleted {path}, an unfinished copy an interrupted rolecall left")
    return 0


def _export(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall import export
    from rolecall.providers.keystore import KeystoreProvider

    if not args.yes_print_secret:
        raise UsageError(
            "keys export prints the secret access key: confirm with --yes-print-secret",
            hint=f"rolecall keys export {args.profile} --yes-print-secret (for SDKs, prefer credential_process)",
        )
    credentials = KeystoreProvider(args.profile, ctx.env, ctx.paths).retrieve()
    if args.format == "process":
        ctx.out(export.render(credentials, "process"))
    else:
        ctx.out(export.render(credentials, "sh", profile=args.profile))
    return 0


def _rotate(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall.keys.rotate import rotate_key
    from rolecall.keys.store import short

    if args.token_code is not None:
        from rolecall.validation import check_token_code

        check_token_code(args.token_code)
    profile = ctx.session.files.profile(args.profile)
    settings = ctx.session.settings(args.profile, region=args.region, endpoint_url=args.endpoint_url)
    serial = (profile or {}).get("mfa_serial")
    signer = None
    if isinstance(serial, str) and serial.strip():
        signer = _mfa_signer(args, ctx, serial.strip(), settings)
    store = _store(ctx)
    result = rotate_key(args.profile, store, settings, iam_credentials=signer, reporter=ctx.say)
    ctx.say(f"{args.profile}: rotated the key of {result.user_name}: {short(result.old_access_key_id)} "
            f"deleted, {short(result.new_access_key_id)} stored in {store.description} and verified")  # fmt: skip
    return 0


def _mfa_signer(
    args: argparse.Namespace, ctx: Context, serial: str, settings: StsSettings
) -> Callable[[Credentials], Credentials]:
    """IAM calls through the profile's MFA session (GetSessionToken with MFA, cached as for `reuse`)."""
    from rolecall.providers.mfa_inputs import MfaInputs
    from rolecall.providers.session_token import MfaSessionProvider
    from rolecall.providers.static import StaticProvider

    runtime = ctx.session.runtime(token_code=args.token_code, region=args.region, endpoint_url=args.endpoint_url)
    inputs = MfaInputs(runtime, lambda: settings)

    def sign(old: Credentials) -> Credentials:
        source = StaticProvider(old, "rolecall's key store")
        session = MfaSessionProvider(source, serial, None, runtime, inputs, args.profile)
        with inputs.device_lock(serial):
            return session.retrieve()

    return sign
