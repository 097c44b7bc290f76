"""``rolecall list``: every profile, its account and region, its source chain (down to keys, a credential_source or
an IAM Identity Center login), and what is cached for it and for how long.

The account comes from the profile's ``role_arn``, ``sso_account_id`` or ``aws_account_id``, else its cached
credentials; the region is the profile's own (``rolecall.overview``): no call is made. On a terminal a CACHED error
and then the CHAIN column are shortened (``…``) so that the rows fit its width; piped, every cell is whole.
"""

from __future__ import annotations

from rolecall.overview import profile_row

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

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
    ctx.out(render_table(rows, _terminal_width(ctx)))
    return 0


#: The table's columns.
HEADER = ("PROFILE", "KIND", "ACCOUNT", "REGION", "CHAIN", "MFA", "CACHED")
#: The columns shortened to fit a terminal, in this order, and the fewest characters each keeps (a narrower
#: terminal wraps the rows instead): a CACHED error first (``rolecall doctor PROFILE`` says it whole), then CHAIN.
_SHRINK = ((HEADER.index("CACHED"), 20), (HEADER.index("CHAIN"), 24))
_CHAIN = HEADER.index("CHAIN")


def render_table(rows: list[dict[str, Any]], width: int | None = None) -> str:
    """The rows as aligned columns; with ``width`` (a terminal's), CHAIN shortened so that the rows fit in it."""
    table = [HEADER] + [
        (
            str(r["profile"]),
            str(r["kind"]),
            r["account"] or "",
            r["region"] or "",
            str(r["chain"]),
            "yes" if r["mfa"] else "",
            f"{r['minutes_left']} min left" if r["minutes_left"] is not None else str(r["cached"]),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    for column, fewest in _SHRINK:
        excess = 0 if width is None else sum(widths) + 2 * (len(widths) - 1) - width
        if excess > 0:
            widths[column] = min(widths[column], max(fewest, widths[column] - excess))
    lines = []
    for row in table:
        cells = [_fit(cell, w, middle=i == _CHAIN) for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip() + "\n")
    return "".join(lines)


def _fit(text: str, width: int, *, middle: bool = False) -> str:
    """``text`` cut to ``width`` characters, the cut marked with ``…``: at the end, or in the ``middle`` (a chain
    keeps where it starts and where it ends)."""
    if len(text) <= width:
        return text
    if not middle:
        return text[: width - 1] + "…"
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def _terminal_width(ctx: Context) -> int | None:
    """The width of the terminal stdout is (``COLUMNS`` first, as the shells set it), or None when it is none."""
    if not ctx.stdout_is_tty:
        return None
    columns = ctx.env.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    import os

    try:
        return os.get_terminal_size(ctx.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return None
