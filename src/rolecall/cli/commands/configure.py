"""``rolecall configure [set|get|list|list-profiles|import]``: the AWS CLI's ``aws configure``, file-compatible.

With no sub-command it asks the AWS CLI's four questions (``rolecall.config.interactive``); ``import --csv``
reads the IAM console's access-key CSV (``rolecall.config.csvimport``).

Routing, dotted names and exit codes follow the AWS CLI (docs/configure.md); writes go through the
format-preserving editor (``rolecall.config.edit``); what ``list`` and ``get`` find, and where from, is
``rolecall.config.settings_view``, the sub-section targets ``rolecall.config.subsections``: this module parses
the options and renders.
"""

from __future__ import annotations

import argparse

from rolecall.errors import ExitCode, InvalidInputError, NotFoundError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.cli.context import Context
    from rolecall.config.subsections import Subsection


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``set``, ``get``, ``list`` and ``list-profiles``; ``--profile`` is accepted before or after them."""
    parser.add_argument("--profile", dest="outer_profile", metavar="PROFILE", help="the profile to use")
    parser.usage = "rolecall configure [-h] [--profile PROFILE] [ACTION ...]"
    parser.epilog = (
        "Without an ACTION, `rolecall configure [--profile PROFILE]` asks the AWS CLI's four questions (access key "
        "ID, secret access key, default region, output format) and writes the answers; Enter keeps a value "
        "(rolecall help configure)."
    )
    actions = parser.add_subparsers(
        dest="action", metavar="ACTION", required=False, title="actions (optional: none asks the four questions)"
    )

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--profile",
            metavar="PROFILE",
            help="the profile (default: AWS_PROFILE, then AWS_DEFAULT_PROFILE, then default)",
        )
        return sub

    set_parser = add("set", "Set a value in the config or credentials file (credential keys go to credentials).")
    set_parser.add_argument("varname", help="region, s3.max_concurrency, default.region, profile.NAME.KEY, plugins.X")
    set_parser.add_argument("value", help="the value (one line)")
    _add_subsection_options(set_parser, "to write to")
    get_parser = add("get", "Print a value from the config and credentials files; exit 1 (silently) if not set.")
    get_parser.add_argument("varname", help="region, s3.max_concurrency, default.region, profile.NAME.KEY, plugins.X")
    _add_subsection_options(get_parser, "to read from")
    add("list", "Show where the profile's credentials and region come from (secrets masked).")
    add("list-profiles", "Print every profile name, one a line.")
    import_parser = add("import", "Import the IAM console's access-key CSV into the credentials file.")
    import_parser.add_argument(
        "--csv", required=True, metavar="FILE", help="the CSV: a path, file://PATH, or - (stdin)"
    )
    import_parser.add_argument("--skip-invalid", action="store_true", help="skip rows without both keys")
    import_parser.add_argument("--profile-prefix", default="", metavar="PREFIX", help="put PREFIX before every name")
    import_parser.add_argument("--overwrite", action="store_true", help="replace the keys of existing profiles")


def _add_subsection_options(parser: argparse.ArgumentParser, verb: str) -> None:
    """``--sso-session NAME`` / ``--services NAME`` (one of them), as the AWS CLI v2's ``configure set/get``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--sso-session", metavar="NAME", help=f"the [sso-session NAME] section {verb} instead of a profile"
    )
    group.add_argument("--services", metavar="NAME", help=f"the [services NAME] section {verb} instead of a profile")


def _subsection(args: argparse.Namespace) -> Subsection | None:
    """The ``--sso-session NAME`` / ``--services NAME`` target given (its name checked), or None."""
    from rolecall.config.subsections import subsection_from_options

    found = subsection_from_options({"sso_session": args.sso_session, "services": args.services})
    if found is not None:
        _utf8(found.name, f"--{found.kind} name")  # the option is named as the section kind
    return found


def _explicit_profile(args: argparse.Namespace, ctx: Context) -> tuple[str | None, str | None]:
    """(profile, where it came from): ``--profile`` beats AWS_PROFILE, then AWS_DEFAULT_PROFILE; None if unset."""
    from rolecall.config.settings_view import profile_and_source

    return profile_and_source(args.profile or args.outer_profile, ctx.env)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Dispatch to the sub-command."""
    action: str | None = args.action
    if action is None:
        return _interactive(args, ctx)
    if action == "import":
        return _import(args, ctx)
    if action == "set":
        return _set(args, ctx)
    if action == "get":
        return _get(args, ctx)
    if action == "list":
        return _list(args, ctx)
    return _list_profiles(ctx)


# ---------------------------------------------------------------------------------------------------- set


def _positional(value: str | list[str]) -> str:
    """A positional argument as typed: argparse before Python 3.12 turns a lone ``--`` given as the value of a
    one-value positional (``configure set -- region --``) into ``[]``, dropping it as if it were the separator."""
    return "--" if isinstance(value, list) else value


def _utf8(text: str, what: str) -> str:
    """``text`` if it can be written to a UTF-8 file; bytes that are not UTF-8 (``$'\\xff'``) are refused."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(
            f"the {what} is not UTF-8 text", hint="the AWS files are UTF-8: check the bytes given and the locale"
        ) from None
    return text


def _set(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall.config.edit import resolve_set, update_section

    varname = _utf8(_positional(args.varname), "key name")
    value = _utf8(_positional(args.value), "value")
    subsection = _subsection(args)
    if subsection is not None:
        from rolecall.config.subsections import set_in_subsection

        set_in_subsection(ctx.paths.config_file, subsection, varname, value, reporter=ctx.warn)
        return ExitCode.OK
    profile, _source = _explicit_profile(args, ctx)
    if profile is not None:
        _utf8(profile, "profile name")
    target = resolve_set(varname, profile)
    paths = ctx.paths
    path = paths.credentials_file if target.credentials_file else paths.config_file
    update_section(
        path,
        target.section,
        target.change(value),
        reporter=ctx.warn,
        check_permissions=target.credentials_file,
    )
    return ExitCode.OK


# ---------------------------------------------------------------------------------------------------- get


def _get(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall.config.settings_view import lookup
    from rolecall.config.subsections import lookup_subsection

    subsection = _subsection(args)
    if subsection is not None:
        value = lookup_subsection(ctx.session.files, subsection.full_key, subsection.name, _positional(args.varname))
    else:
        profile, _source = _explicit_profile(args, ctx)
        value = lookup(ctx.session.files, _positional(args.varname), profile)
    if isinstance(value, str):
        ctx.out(value + "\n")
        return ExitCode.OK
    if isinstance(value, dict):
        raise NotFoundError(
            f"{args.varname} is a nested block, not a value",
            hint=f"ask for one of its keys, e.g. {args.varname}.{next(iter(value), 'KEY')}",
        )
    return ExitCode.NOT_FOUND  # not set: nothing printed, exit 1, as `aws configure get` does


# ---------------------------------------------------------------------------------------------------- list


def _list(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall import fileio
    from rolecall.config.settings_view import list_rows

    profile, source = _explicit_profile(args, ctx)
    rows = list_rows(ctx.session.files, ctx.paths, ctx.env, profile, source)
    out = [f"{'NAME':<17} : {'VALUE':<24} : {'TYPE':<23} : LOCATION"]
    out += [f"{r.name:<17} : {r.value:<24} : {r.kind:<23} : {r.location}" for r in rows]
    ctx.out("\n".join(out) + "\n")
    warning = fileio.permission_warning(ctx.paths.credentials_file)
    if warning:
        ctx.warn(warning)
    return ExitCode.OK


def _list_profiles(ctx: Context) -> int:
    names = ctx.session.files.profile_names()
    ctx.out("".join(name + "\n" for name in names))
    return ExitCode.OK


# ---------------------------------------------------------------------------------------------------- interactive


def _interactive(args: argparse.Namespace, ctx: Context) -> int:
    """``aws configure``'s four questions; prompts on stdout and answers from stdin, as the AWS CLI does."""
    from rolecall.config.interactive import configure_profile

    args.profile = None  # only the outer --profile exists without a sub-command
    profile, _source = _explicit_profile(args, ctx)
    if profile is not None:
        _utf8(profile, "profile name")
    configure_profile(
        ctx.paths, profile or "default", ctx.stdin, ctx.stdout, reporter=ctx.warn, files=ctx.session.files
    )
    return ExitCode.OK


# ---------------------------------------------------------------------------------------------------- import


def _import(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall import fileio
    from rolecall.config.csvimport import import_keys, parse_csv, read_csv

    profile: str | None = args.profile or args.outer_profile  # only an explicit --profile names the profile
    keys, skipped = parse_csv(
        read_csv(args.csv, ctx.stdin), profile=profile, prefix=args.profile_prefix, skip_invalid=args.skip_invalid
    )
    path = ctx.paths.credentials_file
    result = import_keys(path, keys, overwrite=args.overwrite)
    for line in skipped:
        ctx.say(f"rolecall: skipped line {line} of the CSV (no valid key)")
    for name, outcome in result.outcomes:
        if outcome != "added":
            ctx.say(f"rolecall: profile {name}: {'keys replaced' if outcome == 'replaced' else 'already up to date'}")
    ctx.out(f"Successfully imported {len(keys)} profile(s)\n")  # the AWS CLI v2's line
    warning = fileio.permission_warning(path)
    if warning:
        ctx.warn(warning)
    return ExitCode.OK


__all__ = ["add_arguments", "run"]
