"""``rolecall configure [set|get|list|list-profiles|import]``: the AWS CLI's ``aws configure``, file-compatible.

With no sub-command it asks the AWS CLI's four questions (``rolecall.config.interactive``); ``import --csv``
reads the IAM console's access-key CSV (``rolecall.config.csvimport``).

Routing, dotted names and exit codes follow the AWS CLI (docs/configure.md); writes go through the
format-preserving editor (``rolecall.config.edit``), reads through ``rolecall.config.parse``.
"""

from __future__ import annotations

import argparse

from rolecall.config.paths import profile_from_env
from rolecall.errors import ExitCode, FileError, InvalidInputError, NotFoundError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rolecall.cli.context import Context
    from rolecall.config.parse import ConfigFiles, ConfigValue

#: Dotted names whose first part is one of these address that top-level section (``plugins.NAME``).
PREDEFINED_SECTIONS = ("preview", "plugins")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``set``, ``get``, ``list`` and ``list-profiles``; ``--profile`` is accepted before or after them."""
    parser.add_argument("--profile", dest="outer_profile", metavar="PROFILE", help="the profile to use")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=False)

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


#: The AWS CLI v2's sub-section options: option -> (section kind in the config file, key of botocore's full config).
SUBSECTION_OPTIONS = {"sso_session": ("sso-session", "sso_sessions"), "services": ("services", "services")}


def _add_subsection_options(parser: argparse.ArgumentParser, verb: str) -> None:
    """``--sso-session NAME`` / ``--services NAME`` (one of them), as the AWS CLI v2's ``configure set/get``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--sso-session", metavar="NAME", help=f"the [sso-session NAME] section {verb} instead of a profile"
    )
    group.add_argument("--services", metavar="NAME", help=f"the [services NAME] section {verb} instead of a profile")


def _subsection(args: argparse.Namespace) -> tuple[str, str, str] | None:
    r"""(section kind, full-config key, name) of the sub-section option given, or None.

    The name is checked as the AWS CLI v2 checks it (``re.match(r"[\w\d_\-/.%@:\+]+", name)``: its first
    character must be a word character or one of ``-/.%@:+``); a name the files could not hold is refused later
    by the editor.
    """
    import re

    for option, (kind, full_key) in SUBSECTION_OPTIONS.items():
        name: str | None = getattr(args, option, None)
        if name is None:
            continue
        flag = "--" + option.replace("_", "-")
        if not re.match(r"[\w\d_\-/.%@:\+]+", name):
            raise InvalidInputError(
                f"invalid value for {flag}: {name!r}",
                hint="a section name starts with a letter, a digit or one of _ - / . % @ : +",
            )
        return kind, full_key, _utf8(name, f"{flag} name")
    return None


def _subsection_key(varname: str) -> tuple[str, str | None]:
    """``KEY`` or ``KEY.SUB`` of a sub-section (the AWS CLI v2 refuses deeper names)."""
    parts = varname.split(".")
    if len(parts) > 2:
        raise InvalidInputError(
            f"'{varname}' nests too deep", hint="a sub-section takes KEY or KEY.SUB, e.g. s3.endpoint_url"
        )
    return parts[0], parts[1] if len(parts) == 2 else None


def _explicit_profile(args: argparse.Namespace, ctx: Context) -> tuple[str | None, str | None]:
    """(profile, where it came from): ``--profile`` beats AWS_PROFILE, then AWS_DEFAULT_PROFILE; None if unset."""
    flag: str | None = args.profile or args.outer_profile
    if flag:
        return flag, "--profile"
    from_env = profile_from_env(ctx.env)
    if from_env is not None:
        source = "AWS_PROFILE" if ctx.env.get("AWS_PROFILE") else "AWS_DEFAULT_PROFILE"
        return from_env, source
    return None, None


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
        return _set_in_subsection(subsection, varname, value, ctx)
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


def _set_in_subsection(subsection: tuple[str, str, str], varname: str, value: str, ctx: Context) -> int:
    """``configure set KEY[.SUB] VALUE --sso-session NAME`` (or ``--services NAME``): always the config file, in
    ``[sso-session NAME]`` / ``[services NAME]`` (created at the end when missing), whatever ``--profile`` says."""
    from rolecall.config.edit import CREDENTIAL_KEYS, Change, SectionRef, update_section

    kind, _full_key, name = subsection
    key, subkey = _subsection_key(varname)
    if subkey is None and key.lower() in CREDENTIAL_KEYS:
        # The AWS CLI v2 would write the secret into the config file, where nothing reads it.
        raise InvalidInputError(
            f"{key} does not belong in [{kind} {name}]: no credentials are read from it",
            hint=f"keys go to a profile in the credentials file: rolecall configure set {key} ... --profile NAME",
        )
    change: dict[str, Change] = {key: value if subkey is None else {subkey: value}}
    update_section(ctx.paths.config_file, SectionRef(kind, name), change, reporter=ctx.warn)
    return ExitCode.OK


# ---------------------------------------------------------------------------------------------------- get


def lookup(files: ConfigFiles, varname: str, profile: str | None) -> ConfigValue | None:
    """What ``aws configure get VARNAME`` finds, from the merged files (environment variables do not count).

    ``profile`` is the selected profile or None (then ``default``). A plain name is looked up in that
    profile, which must exist when it was named explicitly (``ProfileNotFoundError``). Dotted names:
    ``plugins.X``/``preview.X``; ``profile.NAME.KEY[.SUB]``; ``default.KEY[.SUB]`` or ``NAME.KEY[.SUB]`` for
    any existing profile NAME; otherwise ``KEY.SUB`` in the selected profile. Keys are matched
    case-insensitively, as the files define them; sub-keys exactly. Returns None when there is no such value.
    """
    full: dict[str, Any] = files.full_config
    profiles: dict[str, dict[str, ConfigValue]] = full["profiles"]
    if "." not in varname:
        # A named profile must exist (as botocore's get_scoped_config insists); an unnamed default may be absent.
        scoped = profiles.get("default", {}) if profile is None else files.require_profile(profile)
        return scoped.get(varname.lower())
    parts = varname.split(".")
    if len(parts) == 2 and parts[0] in PREDEFINED_SECTIONS:
        section = full.get(parts[0]) or {}
        value: ConfigValue | None = section.get(parts[1].lower())
        if value is None:
            value = profiles.get(parts[0], {}).get(parts[1].lower())
        return value
    if parts[0] == "profile":
        if len(parts) < 3:
            raise InvalidInputError(f"'{varname}' names no key", hint="use profile.NAME.KEY, e.g. profile.dev.region")
        name, key, remaining = parts[1], parts[2], parts[3:]
    elif parts[0] == "default" or parts[0] in profiles:
        name, key, remaining = parts[0], parts[1], parts[2:]
    else:
        name, key, remaining = profile or "default", parts[0], parts[1:]
    value = profiles.get(name, {}).get(key.lower())
    if len(remaining) == 1:
        value = value.get(remaining[0]) if isinstance(value, dict) else None
    return value


def lookup_subsection(files: ConfigFiles, full_key: str, name: str, varname: str) -> ConfigValue | None:
    """What ``aws configure get VARNAME --sso-session NAME`` (or ``--services NAME``) finds: ``KEY`` or
    ``KEY.SUB`` of that section in botocore's full config (``full_key`` is ``sso_sessions`` or ``services``).

    A section that does not exist is a ``ConfigError`` (the AWS CLI v2: "The config sub-section (NAME) could not
    be found"); a name nested deeper than ``KEY.SUB`` finds nothing, as in the AWS CLI v2.
    """
    from rolecall.errors import ConfigError

    sections: dict[str, dict[str, ConfigValue]] = files.full_config.get(full_key) or {}
    section = sections.get(name)
    if section is None:
        kind = next(kind for kind, key in SUBSECTION_OPTIONS.values() if key == full_key)
        raise ConfigError(
            f"the config sub-section [{kind} {name}] could not be found",
            hint=f"check the name: only sections written [{kind} NAME] in the config file count",
        )
    parts = varname.split(".")
    if len(parts) == 1:
        return section.get(varname.lower())
    if len(parts) == 2:
        value = section.get(parts[0].lower())
        return value.get(parts[1]) if isinstance(value, dict) else None
    return None


def _get(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall.config.parse import ConfigFiles

    subsection = _subsection(args)
    if subsection is not None:
        _kind, full_key, name = subsection
        value = lookup_subsection(ConfigFiles.load(ctx.paths), full_key, name, _positional(args.varname))
    else:
        profile, _source = _explicit_profile(args, ctx)
        value = lookup(ConfigFiles.load(ctx.paths), _positional(args.varname), profile)
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


def mask(value: str) -> str:
    """A secret shown safely: the AWS CLI's 16 stars and last four characters, all stars when it is short."""
    if len(value) < 12:
        return "*" * 16  # the last four of a short value would give too much of it away
    return "*" * 16 + value[-4:]


def _list(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall import fileio
    from rolecall.config.parse import ConfigFiles

    paths = ctx.paths
    files = ConfigFiles.load(paths)
    profile, source = _explicit_profile(args, ctx)
    name = profile or "default"
    settings: dict[str, ConfigValue] = files.require_profile(name) if profile else (files.profile(name) or {})
    in_credentials = files.credentials.get(name, {})

    def file_of(key: str) -> tuple[str, str]:
        if key in in_credentials:
            return "shared-credentials-file", paths.credentials_file
        return "config-file", paths.config_file

    rows: list[tuple[str, str, str, str]] = [
        (
            "profile",
            name if profile else "<not set>",
            "manual" if source == "--profile" else ("env" if source else "None"),
            source or "None",
        )
    ]
    # Environment credentials win unless a profile was named on the command line (botocore's rule).
    env_keys = profile is None or source != "--profile"
    for row, key, env_name in (
        ("access_key", "aws_access_key_id", "AWS_ACCESS_KEY_ID"),
        ("secret_key", "aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
        ("token", "aws_session_token", "AWS_SESSION_TOKEN"),
    ):
        env_value = ctx.env.get(env_name) if env_keys and ctx.env.get("AWS_ACCESS_KEY_ID") else None
        file_value = settings.get(key)
        if env_value:
            rows.append((row, mask(env_value), "env", env_name))
        elif isinstance(file_value, str) and file_value:
            kind, where = file_of(key)
            rows.append((row, mask(file_value), kind, where))
        elif row != "token":
            rows.append((row, "<not set>", "None", "None"))
    for key in ("role_arn", "source_profile", "credential_source", "mfa_serial", "credential_process"):
        value = settings.get(key)
        if isinstance(value, str) and value:
            kind, where = file_of(key)
            rows.append((key, value if key != "credential_process" else "(a command)", kind, where))
    region_env = next((v for v in ("AWS_REGION", "AWS_DEFAULT_REGION") if ctx.env.get(v)), None)
    region = settings.get("region")
    if region_env:
        rows.append(("region", ctx.env[region_env], "env", region_env))
    elif isinstance(region, str) and region:
        kind, where = file_of("region")
        rows.append(("region", region, kind, where))
    else:
        # The AWS CLI v2's last region source: the instance's own region, asked only when IMDS use is enabled.
        from rolecall.providers.botocore_source import imds_region

        found = imds_region(ctx.env, name if name in files.profile_names() else None)
        rows.append(("region", found, "imds", "") if found else ("region", "<not set>", "None", "None"))
    out = [f"{'NAME':<17} : {'VALUE':<24} : {'TYPE':<23} : LOCATION"]
    out += [f"{n:<17} : {v:<24} : {t:<23} : {loc}" for n, v, t, loc in rows]
    ctx.out("\n".join(out) + "\n")
    warning = fileio.permission_warning(paths.credentials_file)
    if warning:
        ctx.warn(warning)
    return ExitCode.OK


def _list_profiles(ctx: Context) -> int:
    from rolecall.config.parse import ConfigFiles

    names = ConfigFiles.load(ctx.paths).profile_names()
    ctx.out("".join(name + "\n" for name in names))
    return ExitCode.OK


# ---------------------------------------------------------------------------------------------------- interactive


def _interactive(args: argparse.Namespace, ctx: Context) -> int:
    """``aws configure``'s four questions; prompts on stdout and answers from stdin, as the AWS CLI does."""
    from rolecall.config.interactive import ask, write_answers
    from rolecall.config.parse import ConfigFiles

    args.profile = None  # only the outer --profile exists without a sub-command
    profile, _source = _explicit_profile(args, ctx)
    name = profile or "default"
    if profile is not None:
        _utf8(profile, "profile name")
    paths = ctx.paths
    files = ConfigFiles.load(paths)
    answers = ask(files.profile(name) or {}, ctx.stdin, ctx.stdout)
    if answers:
        write_answers(
            paths.credentials_file,
            paths.config_file,
            name,
            answers,
            files.credentials_section(name),
            reporter=ctx.warn,
        )
    return ExitCode.OK


# ---------------------------------------------------------------------------------------------------- import


def _read_csv(spec: str, ctx: Context) -> str:
    """The CSV named by ``--csv``: ``-`` is stdin, ``file://PATH`` or a plain path a file (UTF-8)."""
    from rolecall import fileio

    if spec == "-":
        return ctx.stdin.read()
    path = spec[len("file://") :] if spec.startswith("file://") else spec
    data = fileio.read_bytes(path)
    if data is None:
        raise FileError(f"{path} does not exist", hint="give the CSV the IAM console downloaded: --csv FILE")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text", hint="save the CSV as UTF-8") from None


def _import(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall import fileio
    from rolecall.config.csvimport import import_keys, parse_csv

    profile: str | None = args.profile or args.outer_profile  # only an explicit --profile names the profile
    keys, skipped = parse_csv(
        _read_csv(args.csv, ctx), profile=profile, prefix=args.profile_prefix, skip_invalid=args.skip_invalid
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


__all__ = ["PREDEFINED_SECTIONS", "SUBSECTION_OPTIONS", "add_arguments", "lookup", "lookup_subsection", "mask", "run"]
