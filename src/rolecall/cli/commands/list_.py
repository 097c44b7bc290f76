"""``rolecall list``: every profile, its source chain (down to keys, a credential_source or an IAM Identity
Center login), and what is cached for it and for how long."""

from __future__ import annotations

from rolecall.overview import profile_row

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """[PROFILE | --profile PROFILE], --names (one name a line, for completion) and --output json."""
    from rolecall.cli.commands._profile_arg import add_profile_arguments

    # AWS_PROFILE does not narrow the list: a profile named here does.
    add_profile_arguments(parser, "only this profile (default: every profile; AWS_PROFILE does not narrow the list)")
    parser.add_argument("--names", action="store_true", help="print only the profile names, one a line")
    parser.add_argument("--output", choices=("table", "json"), default="table", help="table (default) or json")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the table (or names, or JSON)."""
    import json

    from rolecall.reporting import ignore

    session = ctx.session
    files = session.files
    if args.profile is not None:
        files.require_profile(args.profile)  # a name that is no profile: an error with the close names
        names = [args.profile]
    else:
        names = files.profile_names()
    if args.names:
        ctx.out("".join(f"{name}\n" for name in names))
        return 0
    runtime = session.runtime(allow_prompt=False, reporter=ignore)
    rows = [profile_row(files, name, runtime, session.graph) for name in names]
    if args.output == "json":
        ctx.out(json.dumps(rows, indent=4) + "\n")
        return 0
    header = ("PROFILE", "KIND", "CHAIN", "MFA", "CACHED")
    table = [header] + [
        (
            r["profile"],
            r["kind"],
            r["chain"],
            "yes" if r["mfa"] else "",
            f"{r['minutes_left']} min left" if r["minutes_left"] is not None else r["cached"],
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        ctx.out("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")
    return 0
