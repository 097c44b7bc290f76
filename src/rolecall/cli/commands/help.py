"""``rolecall help [TOPIC]``: the documentation pages, from the installed package.

    rolecall help                  the commands and the topics
    rolecall help exit-codes       a page of docs/ (exit-codes, profiles, mfa, sso, shells, cache, keys...)
    rolecall help exec             a command's --help, as ``rolecall exec --help``

The pages are the repository's ``docs/*.md``, shipped inside the package as ``rolecall/docs`` (a symbolic link to
``docs/`` in the source tree, followed when a wheel is built: see pyproject.toml), so ``pip install rolecall``
has them and ``rolecall --help`` can point to them. They are printed as they are written (Markdown).
"""

from __future__ import annotations

import os

from rolecall.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """TOPIC: a page of the documentation, or a command."""
    parser.add_argument("topic", nargs="?", metavar="TOPIC", help="a documentation page (see the list) or a command")


def docs_folder() -> str | None:
    """The folder of the packaged pages: ``rolecall/docs``, else ``docs/`` of a source checkout; None when neither."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for folder in (os.path.join(package, "docs"), os.path.join(package, os.pardir, os.pardir, "docs")):
        if os.path.isfile(os.path.join(folder, "exit-codes.md")):
            return os.path.normpath(folder)
    return None


def topics() -> dict[str, str]:
    """Topic name -> the page's title (its first heading), in name order."""
    folder = docs_folder()
    if folder is None:
        return {}
    found: dict[str, str] = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".md"):
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                title = handle.readline().strip().lstrip("#").strip().replace("`", "")
            found[name[:-3]] = title
    return found


def page(topic: str) -> str:
    """The text of ``topic``'s page; ``UsageError`` (with the closest names) when there is none."""
    folder = docs_folder()
    known = topics()
    if folder is None or topic not in known:
        import difflib

        from rolecall.cli.main import COMMANDS

        close = difflib.get_close_matches(topic, [*known, *COMMANDS], n=1)
        hint = f"did you mean '{close[0]}'?" if close else "run 'rolecall help' for the topics and commands"
        if folder is None:
            hint = "this installation has no documentation pages; reinstall rolecall (pip install --force-reinstall)"
        raise UsageError(f"no help topic '{topic}'", hint=hint)
    with open(os.path.join(folder, topic + ".md"), encoding="utf-8") as handle:
        return handle.read()


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the overview, a page, or a command's help."""
    from rolecall.cli.main import COMMANDS, build_parser, top_help

    if args.topic is None:
        ctx.out(top_help() + _topic_list())
        return 0
    if args.topic not in topics() and args.topic in COMMANDS:
        ctx.out(build_parser(args.topic)[0].format_help())
        return 0
    text = page(args.topic)
    ctx.out(text if text.endswith("\n") else text + "\n")
    return 0


def _topic_list() -> str:
    entries = topics()
    if not entries:
        return ""
    width = max(len(name) for name in entries) + 2
    lines = ["", "help topics (rolecall help TOPIC):"]
    lines += [f"  {name:<{width}}{title}" for name, title in entries.items()]
    return "\n".join(lines) + "\n"
