"""``rolecall doctor [PROFILE]``: lint the AWS config and credentials files (docs/doctor.md).

The rules live in ``rolecall.config.lint`` (pure); this module reads the files, optionally asks STS for its
clock (``--online``), filters for PROFILE and renders: one line per finding on stdout (or ``--output json``),
a summary on stderr. Exit 0 when clean or only warnings, 3 (CONFIG) when an error-severity rule fired (or any
warning with ``--strict``).
"""

from __future__ import annotations

from rolecall.errors import ExitCode, ProfileNotFoundError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context
    from rolecall.config.lint import Finding, SourceFile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """[PROFILE | --profile PROFILE] [--output text|json] [--strict] [--online [--region R] [--skew-limit S]]."""
    from rolecall.cli.commands._profile_arg import add_profile_arguments

    add_profile_arguments(parser, "only this profile and its source chain (file rules still apply)")
    parser.add_argument("--output", choices=("text", "json"), default="text", help="text (default) or json")
    parser.add_argument("--strict", action="store_true", help="exit 3 on warnings too, not only on errors")
    parser.add_argument("--online", action="store_true",
                        help="also compare this computer's clock with STS's (one unsigned request)")
    parser.add_argument("--region", help="with --online: the STS region to ask (default: the profile's)")
    parser.add_argument("--skew-limit", type=float, default=None, metavar="SECONDS",
                        help="with --online: the largest clock difference accepted (default 300)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Lint, render, and return the exit code."""
    if not args.profile and not args.online:
        from rolecall.config.doctorcache import lint_paths

        # The findings of unchanged files come from rolecall's cache (rolecall.config.doctorcache).
        findings, no_files = lint_paths(ctx.paths, ctx.clock(), ctx.env)
        _render(args, ctx, findings)
        return _summary(args, ctx, findings, no_files=no_files)
    from rolecall.config import lint

    paths = ctx.paths
    config = lint.read_source(paths.config_file)
    credentials = lint.read_source(paths.credentials_file)
    findings = lint.lint(config, credentials, ctx.clock(), ctx.env)
    if args.profile:
        chain = lint.profile_chain(config, credentials, args.profile)
        if chain is None:
            raise _not_found(args.profile, lint.profile_names(config, credentials))
        findings = lint.filter_for_profile(findings, chain)
    if args.online:
        skew = _clock_skew(args, ctx, config, credentials)
        if skew is not None:
            findings.append(skew)
    _render(args, ctx, findings)
    return _summary(args, ctx, findings, no_files=config.text is None and credentials.text is None)


def _render(args: argparse.Namespace, ctx: Context, findings: list[Finding]) -> None:
    """The findings on stdout: one line each, or ``--output json``."""
    if args.output == "json":
        import json

        ctx.out(json.dumps([f.as_dict() for f in findings], indent=4) + "\n")
    else:
        ctx.out("".join(_line(f) + "\n" for f in findings))


def _summary(args: argparse.Namespace, ctx: Context, findings: list[Finding], *, no_files: bool) -> int:
    """The line on stderr and the exit code. With neither file there is nothing to check: it says so (exit 0,
    3 with ``--strict``) rather than "no problems found"."""
    from rolecall.config.findings import ERROR, WARNING

    paths = ctx.paths
    errors = sum(f.severity == ERROR for f in findings)
    warnings = sum(f.severity == WARNING for f in findings)
    notes = len(findings) - errors - warnings
    scope = f" for {args.profile}" if args.profile else ""
    if findings:
        ctx.say(f"rolecall doctor: {errors} error(s), {warnings} warning(s), {notes} note(s){scope} in "
                f"{paths.config_file} and {paths.credentials_file}")
    elif no_files:
        ctx.say(f"rolecall doctor: nothing to check: neither {paths.config_file} nor {paths.credentials_file} "
                "exists (hint: `rolecall configure` or `rolecall add-role` writes them; AWS_CONFIG_FILE and "
                "AWS_SHARED_CREDENTIALS_FILE name other files)")
        return ExitCode.CONFIG if args.strict else ExitCode.OK
    else:
        ctx.say(f"rolecall doctor: no problems found{scope} in {paths.config_file} and {paths.credentials_file}")
    if errors or (args.strict and warnings):
        return ExitCode.CONFIG
    return ExitCode.OK


def _line(finding: Finding) -> str:
    """``RC003 profile "prod": ... (~/.aws/config line 7) — fix: ...``."""
    where = ""
    if finding.file is not None:
        where = f" ({finding.file} line {finding.line})" if finding.line else f" ({finding.file})"
    return f"{finding.id} {finding.message}{where} — fix: {finding.fix}"


def _not_found(profile: str, names: list[str]) -> ProfileNotFoundError:
    import difflib

    close = difflib.get_close_matches(profile, names, n=3, cutoff=0.6)
    hint = ("did you mean " + " or ".join(repr(c) for c in close) + "?") if close else "rolecall list shows them"
    return ProfileNotFoundError(f"the profile '{profile}' could not be found in either file", hint=hint)


def _clock_skew(args: argparse.Namespace, ctx: Context, config: SourceFile,
                credentials: SourceFile) -> Finding | None:
    """RC013 from one unsigned STS request, the region and endpoint chosen as for the profile."""
    from rolecall.aws.settings import resolve_settings
    from rolecall.aws.sts import server_time
    from rolecall.config import lint
    from rolecall.errors import ConfigError
    from rolecall.session import files_from_texts

    profile_name = args.profile or ctx.env.get("AWS_PROFILE") or ctx.env.get("AWS_DEFAULT_PROFILE") or "default"
    session = ctx.session
    try:
        # The texts linted above, not a second read (a text with undecodable bytes is read again, as botocore
        # decodes it, so that the settings are those of every other command).
        session.adopt_files(files_from_texts(session.paths, config.text, credentials.text))
    except ConfigError:
        # The file rules have said why; STS can still be asked with the environment.
        settings = resolve_settings(ctx.env, None, None, region=args.region)
    else:
        settings = session.settings(profile_name, region=args.region)
    if settings.region is None:
        settings = settings.with_overrides(region="us-east-1")  # any region dates its answer
    before = ctx.clock()
    server = server_time(settings)
    after = ctx.clock()
    limit = lint.SKEW_LIMIT_SECONDS if args.skew_limit is None else args.skew_limit
    return lint.clock_skew_finding(before, server, after, limit)
