"""What a Tab press on a profile name costs, against a bare Python start-up and across config sizes, in one run.

    .venv/bin/python benchmarks/completion.py [--rounds N] [--sizes 5,500,5000,50000] [--against REV]

Writes one home per size (filler role profiles, as benchmarks/config_scaling.py does), waits out the parse cache's
2-second "racy" window and warms the parse caches, then times, interleaved round by round (machine noise hits
every case alike), what the shells' glue runs when Tab is pressed:

- ``env <Tab>``               ``rolecall __complete bash WORDBREAKS 'rolecall env '`` (a command's PROFILE)
- ``whoami --profile <Tab>``  ``rolecall __complete zsh -- whoami --profile ''`` (an option's profile, zsh's form)
- ``exec pro<Tab>``           ``rolecall __complete fish -- exec pro`` (a prefix, fish's form)
- ``assume <Tab>``            ``rolecall __complete profiles`` (the ``assume`` shell function's completion)

and ``python -c pass``, the floor. It prints each case's median per size, its ratio to ``python -c pass`` (issue
20's budget: under 1.5x at 5,000 profiles) and to the smallest config (at most 1.3x at 5,000, linear beyond).
With ``--against REV`` the same cases run with the code of git revision REV too (a temporary worktree first on
PYTHONPATH; its ``assume`` glue ran ``rolecall configure list-profiles``), side by side. Bytecode is compiled first.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revisions import worktree_of
from timing import time_process

ROOT = Path(__file__).resolve().parents[1]
WORDBREAKS = " \t\n\"'><=;|&(:"
CASES = {
    "env <Tab>": ["__complete", "bash", WORDBREAKS, "rolecall env "],
    "whoami --profile <Tab>": ["__complete", "zsh", "--", "whoami", "--profile", ""],
    "exec pro<Tab>": ["__complete", "fish", "--", "exec", "pro"],
    "assume <Tab>": ["__complete", "profiles"],
}
#: What the ``assume`` glue of revisions before the completion spec ran instead.
OLD_ASSUME = ["configure", "list-profiles"]


def _filler(count: int) -> str:
    return "".join(
        f"[profile filler-{i:05d}]\nrole_arn = arn:aws:iam::123456789012:role/r{i}\nsource_profile = default\n"
        f"region = eu-west-1\n# a comment line\n\n"
        for i in range(count)
    )


def _homes(parent: str, sizes: list[int]) -> dict[int, dict[str, str]]:
    """One home per size: a config of ``size`` profiles (a few real ones last), a credentials file."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLECALL_"))}
    homes = {}
    for size in sizes:
        home = Path(parent) / f"home{size}"
        (home / ".aws").mkdir(parents=True)
        real = "[default]\nregion = eu-west-1\n[profile prod]\nrole_arn = arn:aws:iam::123456789012:role/p\n"
        (home / ".aws" / "config").write_text(_filler(max(0, size - 3)) + real)
        (home / ".aws" / "credentials").write_text("[ci]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n")
        os.chmod(home / ".aws" / "credentials", 0o600)
        homes[size] = dict(base, HOME=str(home))
    return homes


def _cases(tree: str | None, label: str) -> dict[str, tuple[list[str], str]]:
    """case name -> (argv, the src folder first on PYTHONPATH)."""
    rolecall = str(Path(sys.executable).parent / "rolecall")
    cases = {name: ([rolecall, *argv], str(ROOT / "src")) for name, argv in CASES.items()}
    if tree is not None:
        for name, argv in CASES.items():
            old = OLD_ASSUME if argv == CASES["assume <Tab>"] else argv
            cases[f"{name} ({label})"] = ([rolecall, *old], os.path.join(tree, "src"))
    return cases


def _run(cases: dict[str, tuple[list[str], str]], homes: dict[int, dict[str, str]], rounds: int) -> tuple[
        list[float], dict[tuple[str, int], list[float]]]:  # fmt: skip
    floor: list[float] = []
    times: dict[tuple[str, int], list[float]] = {(name, size): [] for name in cases for size in homes}
    time.sleep(2.1)  # the parse cache ignores files changed in the last 2 s
    for argv, src in cases.values():  # warm the page cache and the parse caches
        for env in homes.values():
            time_process(argv, dict(env, PYTHONPATH=src))
    for _ in range(rounds):
        floor.append(time_process([sys.executable, "-c", "pass"], next(iter(homes.values())))[0])
        for name, (argv, src) in cases.items():
            for size, env in homes.items():
                times[(name, size)].append(time_process(argv, dict(env, PYTHONPATH=src))[0])
    return floor, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--sizes", default="5,500,5000,50000", help="profile counts, comma-separated")
    parser.add_argument("--against", metavar="REV", help="also time the completion of this git revision")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    compileall.compile_dir(str(ROOT / "src" / "rolecall"), quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        tree = worktree_of(options.against, scratch) if options.against else None
        try:
            homes = _homes(scratch, sizes)
            floor, times = _run(_cases(tree, (options.against or "")[:12]), homes, options.rounds)
        finally:
            if tree:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", tree], capture_output=True)
    pass_ms = statistics.median(floor) * 1000
    print(f"python -c pass: {pass_ms:.1f} ms (median of {options.rounds} rounds)\n")
    print(f"{'Tab press (median ms, x python -c pass, x ' + format(sizes[0], ',') + ' profiles)':<60}"
          + "".join(f"{size:>24,}" for size in sizes))  # fmt: skip
    for name in dict.fromkeys(name for name, _ in times):  # in the order of the cases
        medians = [statistics.median(times[(name, size)]) * 1000 for size in sizes]
        cells = "".join(f"{m:>8.1f} {m / pass_ms:>5.2f}x {m / medians[0]:>5.2f}x  " for m in medians)
        print(f"{name:<60}{cells}")


if __name__ == "__main__":
    main()
