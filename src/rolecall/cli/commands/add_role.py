"""``rolecall add-role``: a wizard that writes a working role profile for people who have never seen an ARN.

Every question has a flag (``--name``, ``--role-arn`` or ``--account-id`` with ``--role-name``,
``--source-profile``, ``--mfa-serial``, ``--external-id``, ``--session-name``, ``--duration-seconds``,
``--mfa-strategy``, ``--region``); with ``--yes`` nothing is asked. Questions go to stderr and answers come from
stdin (a terminal or a pipe, like ``aws configure``). The role is assumed once before anything is written
(``--no-verify`` skips that); the profile written is printed on stdout. docs/add-role.md.
"""

from __future__ import annotations

from rolecall.errors import ConfigError, RolecallError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context
    from rolecall.config.parse import ConfigFiles


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per question, and --yes, --no-verify, --force, --token-code."""
    parser.add_argument("--name", help="the new profile's name")
    parser.add_argument("--role-arn", help="the role's ARN (or give --account-id and --role-name)")
    parser.add_argument("--account-id", help="the 12-digit account the role is in")
    parser.add_argument("--role-name", help="the role's name in that account")
    parser.add_argument("--source-profile", help="the profile whose credentials assume the role")
    parser.add_argument("--mfa-serial", help="the MFA device's ARN, or 'none'")
    parser.add_argument("--external-id", help="the external id the role's owner gave you, if any")
    parser.add_argument("--session-name", help="the role session name (default: rolecall's)")
    parser.add_argument("--duration-seconds", type=int, help="role session length, 900-43200 (chained: 3600 at most)")
    parser.add_argument("--mfa-strategy", choices=("reuse", "direct"), help="reuse: one code for all roles")
    parser.add_argument("--region", help="the profile's region")
    parser.add_argument("--yes", action="store_true", help="ask nothing: every value from the flags or defaults")
    parser.add_argument("--no-verify", action="store_true", help="write without assuming the role once first")
    parser.add_argument("--force", action="store_true", help="replace an existing profile of that name")
    parser.add_argument("--token-code", metavar="CODE", help="the MFA code for the verification, instead of a prompt")


class _Asker:
    """Questions on stderr, answers from stdin; with ``--yes`` the defaults are taken without asking."""

    def __init__(self, ctx: Context, quiet: bool) -> None:
        self.ctx = ctx
        self.quiet = quiet

    def ask(self, question: str, default: str | None = None, *, required: bool = False) -> str | None:
        if self.quiet:
            if required and not default:
                raise UsageError(f"--yes, but no value for: {question}", hint="give it with its flag")
            return default
        while True:
            self.ctx.stderr.write(f"{question} [{default or ''}]: ")
            self.ctx.stderr.flush()
            line = self.ctx.stdin.readline()
            if not line:
                if required and not default:
                    raise UsageError(f"no answer for: {question}", hint="answer it, or give its flag")
                return default
            answer = line.strip()
            if answer or default or not required:
                return answer or default
            self.ctx.stderr.write("an answer is needed\n")

    def note(self, text: str) -> None:
        self.ctx.say(text)


def _profiles_with_credentials(files: ConfigFiles) -> list[str]:
    """The profiles that give credentials of their own or assume a role (``ProfileGraph.gives_credentials``)."""
    from rolecall.config.graph import ProfileGraph

    graph = ProfileGraph.of(files)
    return [name for name in files.profile_names() if graph.gives_credentials(name)]


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Ask, check, verify, write, print."""
    from rolecall import addrole
    from rolecall.config.edit import SectionRef, update_section
    from rolecall.config.parse import ConfigFiles
    from rolecall.resolve import make_runtime

    asker = _Asker(ctx, args.yes)
    files = ConfigFiles.load(ctx.paths)
    # 1. The role.
    if args.role_arn:
        role_arn = addrole.role_arn_for(args.role_arn)
    else:
        first = args.account_id or asker.ask("Role ARN, or the 12-digit account id the role is in", required=True)
        assert first is not None
        name = args.role_name
        if not first.strip().startswith("arn:") and not name:
            name = asker.ask("Role name (as shown in IAM, e.g. admin)", required=True)
        role_arn = addrole.role_arn_for(first, name)
    suggested = role_arn.rsplit("/", 1)[-1]
    profile = args.name or asker.ask("Name of the new profile", suggested, required=True) or suggested
    if files.profile(profile) is not None and not args.force:
        raise ConfigError(f'a profile "{profile}" exists already', hint="pick another --name, or --force to replace it")
    # 2. Whose credentials assume it.
    source = _ask_source(files, args, asker)
    runtime = make_runtime(
        ctx.env, clock=ctx.clock, reporter=ctx.say, token_code=args.token_code, mfa_strategy=args.mfa_strategy
    )
    # 3. MFA: the device the source user has, when IAM lets us see it.
    serial = _ask_serial(args, asker, files, source, runtime, ctx)
    external = args.external_id or asker.ask("External id (only if the role's owner gave you one)") or None
    session = args.session_name or asker.ask("Role session name (empty: rolecall's default)") or None
    from rolecall import fileio

    data = fileio.read_bytes(ctx.paths.config_file)
    config_text = data.decode("utf-8") if data is not None else ""
    # What the source gives, by the chain's own rule (the role's session cap and the MFA strategy depend on it).
    kind = addrole.source_kind(files, config_text, addrole.RoleProfile(profile, role_arn, source))
    strategy = args.mfa_strategy
    if serial and strategy is None:
        # reuse needs long-term keys (GetSessionToken); with anything else the chain would refuse it.
        strategy = asker.ask("MFA strategy: reuse (one code for all roles, 1 h sessions) or direct (a code per "
                             "role, longer sessions)", "reuse" if kind == "long-term" else "direct")  # fmt: skip
    duration = _ask_duration(args, asker, kind, strategy, serial, source if files.profile(source) else None)
    region = args.region or asker.ask("Region of the profile (empty: none)") or None
    spec = addrole.RoleProfile(profile, role_arn, source, serial, external, session, duration,
                               strategy if serial else None, region)  # fmt: skip
    # 4. Check it works, then write.
    if not args.no_verify:
        from rolecall.timefmt import format_local_hm

        credentials = addrole.try_profile(files, config_text, spec, runtime)
        expiry = credentials.expiration
        until = f" (its session lasts until {format_local_hm(expiry)})" if expiry else ""
        ctx.say(f"{profile}: assumed {role_arn} once: it works{until}")
    update_section(ctx.paths.config_file, SectionRef.profile(profile), spec.changes(), reporter=ctx.say)
    ctx.say(f"wrote profile {profile} to {ctx.paths.config_file}:")
    ctx.out(spec.section_text())
    return 0


def _ask_source(files: ConfigFiles, args: argparse.Namespace, asker: _Asker) -> str:
    """The source profile: ``--source-profile``, or one of the profiles with credentials, by number or name."""
    sources = _profiles_with_credentials(files)
    if not sources:
        raise ConfigError("there is no profile with credentials to assume the role with",
                          hint="add your access keys first: rolecall configure")  # fmt: skip
    if not args.source_profile and not args.yes:
        asker.note("profiles with credentials: " + ", ".join(f"{i}) {n}" for i, n in enumerate(sources, 1)))
    source = args.source_profile or asker.ask("Source profile (number or name)", sources[0], required=True)
    assert source is not None
    if source.isdigit() and 1 <= int(source) <= len(sources) and source not in sources:
        source = sources[int(source) - 1]
    return str(source)


def _ask_serial(
    args: argparse.Namespace, asker: _Asker, files: ConfigFiles, source: str, runtime: object, ctx: Context
) -> str | None:
    """The MFA device: ``--mfa-serial`` (``none``: no MFA), else asked, offering the source user's own device."""
    serial = args.mfa_serial
    if serial is None:
        found = _mfa_devices(files, source, runtime, ctx)
        if found:
            asker.note(f"MFA device of {source} (found with iam ListMFADevices): {', '.join(found)}")
        serial = asker.ask("MFA device ARN (empty: the role needs no MFA)", found[0] if found else None)
    return None if not serial or serial.lower() == "none" else str(serial)


def _ask_duration(
    args: argparse.Namespace, asker: _Asker, kind: str, strategy: str | None, serial: str | None,
    existing_source: str | None,
) -> int | None:  # fmt: skip
    """The role session length, refused above the chaining cap when the source (``kind``, what it gives) or the
    MFA strategy makes the role chained; ``existing_source`` is the source's name when it is a profile."""
    from rolecall import addrole
    from rolecall.limits import CHAINING_CAP_SECONDS

    note = addrole.duration_note(kind == "temporary", strategy, bool(serial))
    if note and not args.yes:
        asker.note(f"session length: {note}")
    elif kind == "unknown" and not args.yes and existing_source is not None:
        asker.note(f"session length: if {existing_source} gives temporary credentials (a credential_process or the "
                   "environment may), AWS caps the role session at 1 h (role chaining)")  # fmt: skip
    raw_duration = str(args.duration_seconds) if args.duration_seconds is not None else asker.ask(
        "Role session length in seconds, 900-43200 (empty: AWS's default, 1 h)"
    )
    try:
        duration = int(raw_duration) if raw_duration else None
    except ValueError:
        raise UsageError(f"{raw_duration!r} is not a number of seconds", hint="e.g. 3600") from None
    if duration is not None and duration > CHAINING_CAP_SECONDS and note:
        direct = ", or --mfa-strategy direct" if serial else ""
        raise UsageError(f"a {duration} s session cannot be had here: {note}",
                         hint=f"ask for {CHAINING_CAP_SECONDS} or less{direct}")  # fmt: skip
    return duration


def _mfa_devices(files: ConfigFiles, source: str, runtime: object, ctx: Context) -> list[str]:
    """The source user's MFA devices if IAM lets the source list them, else [] (said, never fatal)."""
    from rolecall import sts
    from rolecall.providers.chain import build_chain

    try:
        chain = build_chain(files, source, runtime, explicit=True)  # type: ignore[arg-type]
        credentials = chain.provider.retrieve()
        values, full = files.profile(source), files.full_config
        arn = str(sts.get_caller_identity(sts.resolve_settings(ctx.env, values, full), credentials).get("Arn", ""))
        if ":user/" not in arn:
            return []  # a role or federated session has no MFA devices of its own
        settings = sts.resolve_settings(ctx.env, values, full, service="iam")
        # The user's name, as AWS would take from the caller; some emulators need it spelled out.
        return sts.list_mfa_devices(settings, credentials, arn.rsplit("/", 1)[-1])
    except RolecallError as error:
        ctx.say(f"could not list the MFA devices of {source} ({error.message}); type the device's ARN if the role "
                "needs MFA")  # fmt: skip
        return []

