"""rolecall, awsume 4.5 and the AWS CLI v1 on the same everyday operations, side by side in one run.

    .venv/bin/python benchmarks/compare.py [--rounds N] [--quick] [--peers-venv DIR]

Against the local sandbox STS (started here, on 127.0.0.1), each tool runs as a plain process (stdout thrown
away, stdin empty) in its own HOME, with its own IAM user and MFA device (``peers.aws_files``: ``admin`` needs MFA,
default -> ``readonly`` -> ``deploy`` -> ``ops`` is a 3-hop chain; every profile carries the sandbox's
``endpoint_url``). The operations, each tool's natural command for it:

1. a cached 3-hop role, ``ops``: ``rolecall env ops`` and ``rolecall credential-process --profile ops`` (from the
   AWS CLI cache); ``awsume -s ops``; ``aws configure list --profile ops``.
2. a cached MFA role, ``admin`` (the code was typed once, untimed, when the home was seeded): ``rolecall env
   admin``; ``awsume -s admin``; ``aws configure list --profile admin``.
3. listing the profiles: ``rolecall list``; ``awsume -l``; the AWS CLI v1 has none (``configure list-profiles``
   is v2 only).
4. a cold assume of ``readonly`` (one AssumeRole, no MFA; the credential caches of that home are emptied, untimed,
   before each run): ``rolecall env readonly`` next to ``awsume -s readonly`` and ``aws configure list --profile
   readonly`` (which resolves the credentials, so here makes the AssumeRole call), and ``rolecall whoami readonly``
   (AssumeRole + GetCallerIdentity) next to ``aws sts get-caller-identity --profile readonly``, its like-for-like
   (awsume has no whoami that asks STS).

How the peers are driven. awsume is what its users type: its ``awsume`` script sourced by bash (``bash -c '.
awsume -s ops'``); ``-s`` makes it print the ``export`` lines, as ``rolecall env`` does, and the time includes that
bash's start-up (a few ms). For ``-l`` the script runs ``awsumepy`` twice (once to see it is a listing, once to
print it): that is what ``awsume -l`` costs its users. awsume caches only MFA sessions (GetSessionToken, in
``~/.awsume/cache``), never a role's credentials: for ``ops`` it makes the three AssumeRole calls each time even
where rolecall and the AWS CLI serve the role from ``~/.aws/cli/cache``, and for ``admin`` one AssumeRole with the
cached MFA session (no code asked). For the AWS CLI v1 the cached lookup is ``aws configure list --profile X``: it
resolves the profile's credentials (it prints the end of the access key and ``assume-role`` as their type), which
for a role are read from the AWS CLI cache when a fresh entry is there, so no call is made (checked with the
sandbox's counter); ``aws sts get-caller-identity`` would add a GetCallerIdentity call to every lookup.

Every tool's home is seeded once before the timing (the cached roles assumed, the MFA code typed on a
pseudo-terminal), the config files are left 2 s alone (rolecall's parse cache ignores files changed in the last
2 s), and every command is run once untimed. Then, round after round, every operation runs for every tool, the
tools in an order that turns with the round, so that machine noise hits all of them alike. It prints a Markdown
table: for each tool and command the median time, the STS calls it made (per run, by action), and in brackets how
many times rolecall's time the peer takes (peer / rolecall, same row). rolecall's cached rows must make no STS
call: the script exits 1 if one did. ``python -c pass`` (one Python start-up) is timed in the same rounds as the
floor. Bytecode is compiled first, as an installed package has it. botocore's optional awscrt, which the
development venv has for its tests and which neither ``pip install rolecall`` nor the peers bring, is hidden from
rolecall (it would add about 500 M instructions to each cold assume): all three run a pure-Python botocore, and the
versions of rolecall's and the peers' botocore are printed.

``--rounds N`` (default 25, a few minutes); ``--quick`` is 3 rounds unless ``--rounds`` says otherwise.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from peers import DEFAULT_VENV, ROOT, aws_files, base_env, bin_dir, peer_tools
from timing import time_process

if TYPE_CHECKING:
    from rolecall.sandbox import Sandbox, SandboxUser

TOOLS = ("rolecall", "awsume", "aws v1")
HEADERS = {"rolecall": "rolecall", "awsume": "awsume 4.5", "aws v1": "AWS CLI v1"}
OPERATIONS = ("ops", "mfa", "list", "cold")
#: The table's rows: one per rolecall command, named by the ``row`` of its cases.
ROWS = {
    "env ops": "a cached 3-hop role (`ops`)",
    "credential-process ops": "the same, as a `credential_process`",
    "env admin": "a cached MFA role (`admin`)",
    "list": "list the profiles",
    "env readonly": "a cold assume (`readonly`: empty caches, one AssumeRole)",
    "whoami readonly": "a cold assume, then who am I (GetCallerIdentity)",
}
NOTES = (
    "awsume caches MFA sessions only, never a role's credentials: it makes its AssumeRole calls even where "
    "rolecall and the AWS CLI serve the role from `~/.aws/cli/cache` (3 for `ops`; 1 for `admin`, with the cached "
    "MFA session, no code asked).",
    "awsume runs as its alias does (its script sourced by a bash, whose start-up is in its time); for `-l` the "
    "script runs `awsumepy` twice.",
    "`aws configure list --profile X` resolves the profile's credentials (from the AWS CLI cache when fresh, "
    "else by calling STS) without calling anything else.",
)
ACTIONS = ("AssumeRole", "GetSessionToken", "GetCallerIdentity")
#: The credential caches a cold run starts without (rolecall's parse cache of the config is not one of them).
CACHES = (".aws/cli/cache", ".aws/rolecall/sessions", ".awsume/cache")
MFA_PROMPT = r"Enter MFA (?:code|token)(?: for \S+)?: "


def _awsume(*args: str) -> tuple[str, ...]:
    """``awsume ARGS`` as its users run it: the script sourced by a bash (the alias awsume-configure installs)."""
    return ("bash", "--norc", "--noprofile", "-c", '. awsume "$@"', "awsume", *args)


@dataclass(frozen=True)
class Case:
    """One command of one tool for one operation; a peer's ``row`` is the rolecall case it is compared with."""

    op: str
    tool: str
    shown: str
    argv: tuple[str, ...]
    row: str
    cold: bool = False


CASES = (
    Case("ops", "rolecall", "rolecall env ops", ("rolecall", "env", "ops"), "env ops"),
    Case("ops", "rolecall", "rolecall credential-process --profile ops",
         ("rolecall", "credential-process", "--profile", "ops"), "credential-process ops"),
    Case("ops", "awsume", "awsume -s ops", _awsume("-s", "ops"), "env ops"),
    Case("ops", "aws v1", "aws configure list --profile ops", ("aws", "configure", "list", "--profile", "ops"),
         "env ops"),
    Case("mfa", "rolecall", "rolecall env admin", ("rolecall", "env", "admin"), "env admin"),
    Case("mfa", "awsume", "awsume -s admin", _awsume("-s", "admin"), "env admin"),
    Case("mfa", "aws v1", "aws configure list --profile admin", ("aws", "configure", "list", "--profile", "admin"),
         "env admin"),
    Case("list", "rolecall", "rolecall list", ("rolecall", "list"), "list"),
    Case("list", "awsume", "awsume -l", _awsume("-l"), "list"),
    Case("cold", "rolecall", "rolecall env readonly", ("rolecall", "env", "readonly"), "env readonly", cold=True),
    Case("cold", "rolecall", "rolecall whoami readonly", ("rolecall", "whoami", "readonly"), "whoami readonly",
         cold=True),
    Case("cold", "awsume", "awsume -s readonly", _awsume("-s", "readonly"), "env readonly", cold=True),
    Case("cold", "aws v1", "aws configure list --profile readonly",
         ("aws", "configure", "list", "--profile", "readonly"), "env readonly", cold=True),
    Case("cold", "aws v1", "aws sts get-caller-identity --profile readonly",
         ("aws", "sts", "get-caller-identity", "--profile", "readonly"), "whoami readonly", cold=True),
)  # fmt: skip
#: What each tool runs once, untimed, to fill its caches as its user's earlier work would have.
SEEDS = {
    "rolecall": (("rolecall", "env", "ops"), ("rolecall", "env", "admin")),
    "awsume": (_awsume("-s", "ops"), _awsume("-s", "admin")),
    "aws v1": (("aws", "sts", "get-caller-identity", "--profile", "ops"),
               ("aws", "sts", "get-caller-identity", "--profile", "admin")),
}  # fmt: skip
#: What a peer has for a rolecall command it has no counterpart of (by the case's row and the peer).
NONE = {
    ("list", "aws v1"): "none (`configure list-profiles` is AWS CLI v2 only)",
    ("whoami readonly", "awsume"): "none of its own that asks STS (`awsume --who` echoes a variable)",
}


@dataclass
class Runs:
    """The times and the STS calls (by action) of every timed run of one case."""

    seconds: list[float] = field(default_factory=list)
    calls: list[Counter[str]] = field(default_factory=list)

    @property
    def median(self) -> float:
        """The median time, in seconds."""
        return statistics.median(self.seconds)

    def calls_text(self) -> str:
        """The calls of one run ("0 calls", "3 AssumeRole"), or their range when the runs differed."""
        shown = dict.fromkeys(_calls_text(calls) for calls in self.calls)
        return " / ".join(shown)


def _calls_text(calls: Counter[str]) -> str:
    parts = [f"{count} {action}" for action, count in calls.items() if count]
    return " + ".join(parts) or "0 calls"


def _counts(sb: Sandbox) -> Counter[str]:
    counts = Counter({action: sb.calls(action) for action in ACTIONS})
    counts["other"] = sb.calls() - sum(counts.values())
    return counts


# ---------------------------------------------------------------------------------------------- the homes


@dataclass(frozen=True)
class Homes:
    """A tool's two environments: ``warm`` (its caches seeded once) and ``cold`` (emptied before each run)."""

    warm: dict[str, str]
    cold: dict[str, str]

    def env(self, case: Case) -> dict[str, str]:
        """The environment ``case`` runs in."""
        return self.cold if case.cold else self.warm


def _seed(argv: tuple[str, ...], env: dict[str, str], code: str) -> None:
    """Run ``argv`` on a pseudo-terminal, typing ``code`` if it asks for an MFA code; it must succeed."""
    import pexpect

    child = pexpect.spawn(argv[0], list(argv[1:]), env=env, encoding="utf-8", codec_errors="replace")
    seen = ""
    while child.expect([MFA_PROMPT, pexpect.EOF], timeout=60) == 0:
        seen += child.before + child.after
        child.sendline(code)
    child.close()
    if child.exitstatus != 0:
        raise SystemExit(f"seeding: {' '.join(argv)} failed ({child.exitstatus}): {(seen + child.before)[-400:]}")


def _botocore(python: str) -> str:
    code = "import botocore; print(botocore.__version__)"
    done = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return done.stdout.strip() or "?"


def _no_crt(scratch: str) -> str:
    """A folder whose ``awscrt`` cannot be imported, to put first on rolecall's path.

    The development venv has awscrt (``botocore[crt]``, for the login tests), and botocore imports it whenever it
    can: about 500 M instructions more for each cold assume. ``pip install rolecall`` does not bring it, nor do
    awsume and awscli v1 (the peers' venv has none): hidden, every tool runs the same pure-Python botocore.
    """
    folder = os.path.join(scratch, "no-awscrt")
    os.makedirs(folder, exist_ok=True)
    Path(folder, "awscrt.py").write_text('raise ImportError("awscrt is hidden by benchmarks/compare.py")\n')
    return folder


def make_homes(sb: Sandbox, scratch: str, path: str) -> dict[str, Homes]:
    """For each tool: a new IAM user with an MFA device, and two homes with the AWS files for it, the warm one
    seeded (the cached roles assumed, the MFA code typed)."""
    homes: dict[str, Homes] = {}
    for tool in TOOLS:
        user: SandboxUser = sb.create_user(f"compare-{tool.replace(' ', '-')}", with_mfa=True)
        envs = []
        for kind in ("warm", "cold"):
            home = os.path.join(scratch, f"{tool.replace(' ', '-')}-{kind}")
            os.makedirs(home)
            aws_files(sb, user, home)
            env = base_env(home, path)
            if tool == "rolecall":
                # This tree's rolecall, whatever the console script's venv; and botocore without awscrt (below).
                env["PYTHONPATH"] = os.pathsep.join((str(ROOT / "src"), _no_crt(scratch)))
            envs.append(env)
        homes[tool] = Homes(*envs)
        for argv in SEEDS[tool]:
            _seed(argv, homes[tool].warm, sb.fresh_code(user))
    return homes


def empty_caches(env: dict[str, str]) -> None:
    """Remove the credential caches of a home (rolecall's and the AWS CLI's, awsume's)."""
    for folder in CACHES:
        shutil.rmtree(os.path.join(env["HOME"], folder), ignore_errors=True)


# ---------------------------------------------------------------------------------------------- the rounds


def run_case(sb: Sandbox, case: Case, env: dict[str, str], runs: Runs) -> None:
    """Time one run of ``case`` (its caches emptied first when it is cold) and count its STS calls."""
    if case.cold:
        empty_caches(env)
    before = _counts(sb)
    seconds, _ = time_process(list(case.argv), env)
    runs.seconds.append(seconds)
    runs.calls.append(_counts(sb) - before)


def run_rounds(sb: Sandbox, homes: dict[str, Homes], rounds: int) -> tuple[dict[Case, Runs], list[float]]:
    """Every case once untimed, then ``rounds`` rounds of every operation for every tool, the tools' order turning
    with the round; ``python -c pass`` once per round (the floor)."""
    results = {case: Runs() for case in CASES}
    floor: list[float] = []
    python = [sys.executable, "-c", "pass"]
    for case in CASES:
        run_case(sb, case, homes[case.tool].env(case), Runs())
    for round_ in range(rounds):
        order = TOOLS[round_ % len(TOOLS) :] + TOOLS[: round_ % len(TOOLS)]
        floor.append(time_process(python, homes["rolecall"].warm)[0])
        for op in OPERATIONS:
            for tool in order:
                for case in CASES:
                    if case.op == op and case.tool == tool:
                        run_case(sb, case, homes[tool].env(case), results[case])
        print(f"round {round_ + 1}/{rounds} done", file=sys.stderr)
    return results, floor


# ---------------------------------------------------------------------------------------------- the report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def table(results: dict[Case, Runs]) -> list[str]:
    """The Markdown table: a row per rolecall command, each peer's command on the row it is compared with."""
    lines = ["| Operation | " + " | ".join(HEADERS[tool] for tool in TOOLS) + " |", "|---|---|---|---|"]
    for op in OPERATIONS:
        own_cases = [case for case in CASES if case.op == op and case.tool == "rolecall"]
        for own in own_cases:
            cells = [f"`{own.shown}`: {_ms(results[own].median)}, {results[own].calls_text()}"]
            for tool in TOOLS[1:]:
                peer = next((c for c in CASES if c.op == op and c.tool == tool and c.row == own.row), None)
                if peer is None:
                    cells.append(NONE.get((own.row, tool), ""))
                    continue
                ratio = results[peer].median / results[own].median
                cells.append(f"`{peer.shown}`: {_ms(results[peer].median)}, {results[peer].calls_text()} "
                             f"({ratio:.1f}x)")  # fmt: skip
            lines.append(f"| {ROWS[own.row]} | " + " | ".join(cells) + " |")
    return lines


def cached_calls(results: dict[Case, Runs]) -> list[str]:
    """rolecall's cached cases that made an STS call in some run (there must be none)."""
    return [case.shown for case, runs in results.items()
            if case.tool == "rolecall" and not case.cold and any(sum(c.values()) for c in runs.calls)]  # fmt: skip


def main() -> None:
    """Find or install the peers, start the sandbox, seed the homes, run the rounds, print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, help="rounds (default 25; 3 with --quick)")
    parser.add_argument("--quick", action="store_true", help="3 rounds, unless --rounds says otherwise")
    parser.add_argument("--peers-venv", type=Path, default=DEFAULT_VENV, help="where awsume and awscli are")
    options = parser.parse_args()
    rounds = max(1, options.rounds or (3 if options.quick else 25))
    venv = options.peers_venv.resolve()
    versions = peer_tools(venv)

    from rolecall import __version__
    from rolecall.sandbox import Sandbox

    compileall.compile_dir(str(ROOT / "src" / "rolecall"), quiet=1)
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M")
    with Sandbox.start() as sb, tempfile.TemporaryDirectory() as scratch:
        path = bin_dir(scratch, venv) + ":/usr/bin:/bin"
        homes = make_homes(sb, scratch, path)
        time.sleep(2.1)  # the parse cache trusts no file changed in the last 2 s
        results, floor = run_rounds(sb, homes, rounds)
    load_after = os.getloadavg()
    botocores = f"botocore {_botocore(sys.executable)} (rolecall), {_botocore(str(venv / 'bin' / 'python'))} (peers)"
    print(f"rolecall {__version__}, awsume {versions['awsume']}, AWS CLI {versions['awscli']}, {botocores}; Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs; {started}; medians of {rounds} round(s); load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; sandbox STS on 127.0.0.1\n")  # fmt: skip
    print("\n".join(table(results)))
    own = statistics.median(results[CASES[0]].seconds)
    print(f"\nThe floor, `python -c pass`: {_ms(statistics.median(floor))}; `{CASES[0].shown}` takes "
          f"{own / statistics.median(floor):.2f}x that. In brackets: how many times rolecall's time (same row) "
          "the peer takes.")  # fmt: skip
    print("".join(f"\n- {note}" for note in NOTES))
    wrong = cached_calls(results)
    if wrong:
        raise SystemExit(f"rolecall's cached lookups made STS calls: {', '.join(wrong)}")


if __name__ == "__main__":
    main()
