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
    from collections.abc import Callable

    from rolecall.addrole import RoleProfile
    from rolecall.cli.context import Context
    from rolecall.providers.base import Runtime


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


class _Answers:
    """What the wizard knows so far; each step of ``STEPS`` fills in some of it."""

    def __init__(self, args: argparse.Namespace, ctx: Context) -> None:
        self.args = args
        self.ctx = ctx
        self.asker = _Asker(ctx, args.yes)
        #: The files, and the config file's text to try the new profile in (the config file read once).
        self.files, self.config_text = ctx.session.files_and_config_text()
        #: One runtime for the MFA-device listing and the verification: a --token-code is used once.
        self.runtime: Runtime = ctx.session.runtime(token_code=args.token_code, mfa_strategy=args.mfa_strategy)
        self.role_arn = ""
        self.profile = ""
        self.source = ""
        self.serial: str | None = None
        self.external: str | None = None
        self.session_name: str | None = None
        self.kind = ""
        self.strategy: str | None = args.mfa_strategy
        self.duration: int | None = None
        self.region: str | None = None

    def spec(self) -> RoleProfile:
        """The profile to write, from the answers (validated by ``RoleProfile``)."""
        from rolecall.addrole import RoleProfile

        return RoleProfile(self.profile, self.role_arn, self.source, self.serial, self.external, self.session_name,
                           self.duration, self.strategy if self.serial else None, self.region)  # fmt: skip


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Ask, check, verify, write, print: the steps of ``STEPS`` in order, on one ``_Answers``."""
    answers = _Answers(args, ctx)
    for step in STEPS:
        step(answers)
    return 0


def _role(a: _Answers) -> None:
    """1. The role: ``--role-arn``, or an account id and a role name."""
    from rolecall import addrole

    if a.args.role_arn:
        a.role_arn = addrole.role_arn_for(a.args.role_arn)
        return
    first = a.args.account_id or a.asker.ask("Role ARN, or the 12-digit account id the role is in", required=True)
    assert first is not None
    name = a.args.role_name
    if not first.strip().startswith("arn:") and not name:
        name = a.asker.ask("Role name (as shown in IAM, e.g. admin)", required=True)
    a.role_arn = addrole.role_arn_for(first, name)


def _name(a: _Answers) -> None:
    """The new profile's name (default: the role's), refused when it exists without ``--force``."""
    suggested = a.role_arn.rsplit("/", 1)[-1]
    a.profile = a.args.name or a.asker.ask("Name of the new profile", suggested, required=True) or suggested
    if a.files.profile(a.profile) is not None and not a.args.force:
        raise ConfigError(
            f'a profile "{a.profile}" exists already', hint="pick another --name, or --force to replace it"
        )


def _source(a: _Answers) -> None:
    """2. Whose credentials assume it."""
    a.source = _ask_source(a.ctx, a.args, a.asker)


def _mfa(a: _Answers) -> None:
    """3. MFA: the device the source user has, when IAM lets us see it; then the external id and session name."""
    a.serial = _ask_serial(a.args, a.asker, a.source, a.runtime, a.ctx)
    a.external = a.args.external_id or a.asker.ask("External id (only if the role's owner gave you one)") or None
    a.session_name = a.args.session_name or a.asker.ask("Role session name (empty: rolecall's default)") or None


def _strategy(a: _Answers) -> None:
    """What the source gives, by the chain's own rule (the role's session cap and the MFA strategy depend on it)."""
    from rolecall import addrole

    a.kind = addrole.source_kind(a.files, a.config_text, addrole.RoleProfile(a.profile, a.role_arn, a.source))
    if a.serial and a.strategy is None:
        # reuse needs long-term keys (GetSessionToken); with anything else the chain would refuse it.
        a.strategy = a.asker.ask("MFA strategy: reuse (one code for all roles, 1 h sessions) or direct (a code per "
                                 "role, longer sessions)", "reuse" if a.kind == "long-term" else "direct")  # fmt: skip


def _duration_and_region(a: _Answers) -> None:
    """The role session length (refused above the chaining cap where it applies), then the profile's region."""
    existing = a.source if a.files.profile(a.source) else None
    a.duration = _ask_duration(a.args, a.asker, a.kind, a.strategy, a.serial, existing)
    a.region = a.args.region or a.asker.ask("Region of the profile (empty: none)") or None


def _verify_and_write(a: _Answers) -> None:
    """4. Check it works (unless ``--no-verify``), then write it and print it."""
    from rolecall import addrole
    from rolecall.config.edit import SectionRef, update_section

    spec = a.spec()
    ctx = a.ctx
    trial: addrole.Trial | None = None
    if not a.args.no_verify:
        from rolecall.timefmt import format_local_hm

        # A new call from the profile's own source, never a cached session (docs/add-role.md).
        trial = addrole.try_profile(a.files, a.config_text, spec, a.runtime)
        expiry = trial.credentials.expiration
        until = f" (its session lasts until {format_local_hm(expiry)})" if expiry else ""
        ctx.say(f"{a.profile}: assumed {a.role_arn} once: it works{until}")
    update_section(ctx.paths.config_file, SectionRef.profile(a.profile), spec.changes(), reporter=ctx.say)
    if trial is not None:
        trial.keep()  # only now that the profile is written: its first use needs no call
    ctx.say(f"wrote profile {a.profile} to {ctx.paths.config_file}:")
    ctx.out(spec.section_text())


#: The wizard, in the order the questions are asked.
STEPS: tuple[Callable[[_Answers], None], ...] = (
    _role, _name, _source, _mfa, _strategy, _duration_and_region, _verify_and_write,
)


def _ask_source(ctx: Context, args: argparse.Namespace, asker: _Asker) -> str:
    """The source profile: ``--source-profile``, or one of the profiles with credentials (those that give
    credentials of their own or assume a role: ``ProfileGraph.gives_credentials``), by number or name."""
    graph = ctx.session.graph
    sources = [name for name in ctx.session.files.profile_names() if graph.gives_credentials(name)]
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


def _ask_serial(args: argparse.Namespace, asker: _Asker, source: str, runtime: Runtime, ctx: Context) -> str | None:
    """The MFA device: ``--mfa-serial`` (``none``: no MFA), else asked, offering the source user's own device."""
    serial = args.mfa_serial
    if serial is None:
        found = _mfa_devices(source, runtime, ctx)
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


def _mfa_devices(source: str, runtime: Runtime, ctx: Context) -> list[str]:
    """The source user's MFA devices if IAM lets the source list them (``Session.mfa_devices``), else [] (said,
    never fatal)."""
    try:
        return ctx.session.mfa_devices(source, runtime)
    except RolecallError as error:
        ctx.say(f"could not list the MFA devices of {source} ({error.message}); type the device's ARN if the role "
                "needs MFA")  # fmt: skip
        return []
