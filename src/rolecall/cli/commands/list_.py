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
    from rolecall.rowcache import CachedRows


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
    if args.profile is not None:
        session.files.require_profile(args.profile)  # a name that is no profile: an error with the close names
    if args.names:
        names = [args.profile] if args.profile is not None else session.files.profile_names()
        ctx.out("".join(f"{name}\n" for name in names))
        return 0
    runtime = session.runtime(allow_prompt=False, reporter=ignore)
    width = _terminal_width(ctx)
    if args.profile is not None:
        rows = [profile_row(session.files, args.profile, runtime, session.graph)]
    else:
        from rolecall.rowcache import load_rows

        cached = load_rows(session, runtime)  # an unchanged config's rows come from rolecall's cache
        if args.output == "table" and width is None:
            ctx.out(_stored_table(cached))
            return 0
        rows = cached.rows()
    if args.output == "json":
        ctx.out(json.dumps(rows, indent=4) + "\n")
        return 0
    ctx.out(render_table(rows, width))
    return 0


def _stored_table(cached: CachedRows) -> str:
    """``render_table(cached.rows())`` for a pipe (no width), from the table of the stored rows kept with them: only
    the lines of the rows that differ from the stored ones are made again. Exact because CACHED, the only cell
    that differs, is the last column, and a row's line does not depend on the other rows' CACHED cells.
    """
    if cached.text is None:
        cached.keep_text(render_table(cached.stored))
    text = cached.text
    assert text is not None
    if not cached.renewed:
        return text
    lines = text.split("\n")
    at = lines[0].index(HEADER[-1])  # where the CACHED column starts
    for index, row in cached.renewed.items():
        lines[index + 1] = (lines[index + 1].ljust(at) + _cached_cell(row)).rstrip()
    return "\n".join(lines)


#: The table's columns.
HEADER = ("PROFILE", "KIND", "ACCOUNT", "REGION", "CHAIN", "MFA", "CACHED")
#: The columns shortened to fit a terminal, in this order, and the fewest characters each keeps (a narrower
#: terminal wraps the rows instead): a CACHED error first (``rolecall doctor PROFILE`` says it whole), then CHAIN.
_SHRINK = ((HEADER.index("CACHED"), 20), (HEADER.index("CHAIN"), 24))
_CHAIN = HEADER.index("CHAIN")


def render_table(rows: list[dict[str, Any]], width: int | None = None) -> str:
    """The rows as aligned columns; with ``width`` (a terminal's), CHAIN shortened so that the rows fit in it."""
    # Column by column: printing 5,000 rows is the floor of `list` on a big config (README, scaling).
    columns = [
        [HEADER[0], *[str(r["profile"]) for r in rows]],
        [HEADER[1], *[str(r["kind"]) for r in rows]],
        [HEADER[2], *[r["account"] or "" for r in rows]],
        [HEADER[3], *[r["region"] or "" for r in rows]],
        [HEADER[4], *[str(r["chain"]) for r in rows]],
        [HEADER[5], *["yes" if r["mfa"] else "" for r in rows]],
        [HEADER[6], *[_cached_cell(r) for r in rows]],
    ]  # fmt: skip
    longest = [max(map(len, column)) for column in columns]
    widths = list(longest)
    for column, fewest in _SHRINK:
        excess = 0 if width is None else sum(widths) + 2 * (len(widths) - 1) - width
        if excess > 0:
            widths[column] = min(widths[column], max(fewest, widths[column] - excess))
    for index, cut in enumerate(widths):
        if longest[index] > cut:
            columns[index] = [_fit(cell, cut, middle=index == _CHAIN) for cell in columns[index]]
    # Every column but the last padded (the last one's padding would be stripped), then each row joined.
    padded = [[cell.ljust(cut) for cell in column] for column, cut in zip(columns[:-1], widths, strict=False)]
    return "".join([("  ".join(cells)).rstrip() + "\n" for cells in zip(*padded, columns[-1], strict=True)])


def _cached_cell(row: dict[str, Any]) -> str:
    """The CACHED cell of ``row``: the minutes left, or its ``cached`` text."""
    return f"{row['minutes_left']} min left" if row["minutes_left"] is not None else str(row["cached"])


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
