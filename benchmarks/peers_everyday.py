"""The everyday path side by side: rolecall, awsume 4.5 and the AWS CLI v1 on the same tasks, in a real shell.

    .venv/bin/python benchmarks/peers_everyday.py [--rounds N] [--quick] [--verbose]

The peers come from PyPI into a private venv (``.venv-peers/`` at the repo root, git-ignored, reused on the next
run; ``--peers-venv DIR`` to put it elsewhere): ``awsume`` 4.5.x and ``awscli`` 1.x. The sandbox STS starts on
127.0.0.1. For every round and every tool a fresh HOME gets ``~/.aws/config`` and ``~/.aws/credentials`` for a new
IAM user with its own virtual MFA device (so no tool waits for another's codes): ``admin`` and ``billing``, two
roles whose trust requires MFA (``mfa_serial`` in the profile), and the 3-hop chain default -> ``readonly`` ->
``deploy`` -> ``ops``; every profile carries ``endpoint_url`` (the sandbox), which botocore, and so all three
tools, honour. Then one interactive bash per tool on a pseudo-terminal (pexpect) runs the tasks in order,
the tools interleaved task by task:

1. assume a role that requires MFA into the shell, typing the code at the prompt
2. a second MFA role from the same source, without a new code
3. run a command (``aws sts get-caller-identity``) with a role's credentials
4. whoami
5. list the profiles
6. a 3-hop chain into the shell
7. a typo in the profile name
8. the first role again, as a new terminal within the hour would (from a cache where the tool keeps one)

For each task and tool it prints the command lines typed, the prompts seen, whether it worked (exit status and,
after the timing, the identity the shell has according to ``aws sts get-caller-identity``), the STS calls the
sandbox saw, and the median wall time over the rounds: from the command line sent to the shell's next prompt.
The MFA code is typed the moment its prompt shows; producing it is not counted (a person's typing is not timed
for any tool). The AWS CLI v1 cannot put credentials into a shell: its "assume" is ``export AWS_PROFILE=X``
followed by the first command, which asks the code (timed together). awsume has no whoami that asks STS
(``awsume --who`` echoes ``$AWSUME_PROFILE``): its users run ``aws sts get-caller-identity``, as timed here.

``--quick`` is one round; ``--rounds N`` (default 5). A task a tool cannot do is printed as n/a with the reason.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from peers import DEFAULT_VENV, aws_files, base_env, bin_dir, peer_tools

if TYPE_CHECKING:
    from rolecall.sandbox import Sandbox

PROMPT = re.compile(r"@@rc=(\d+)@@ ")
#: rolecall and the AWS CLI: "Enter MFA code for ARN: "; awsume: "Enter MFA token: ".
MFA_PROMPT = re.compile(r"Enter MFA (?:code|token)(?: for \S+)?: ")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
STUCK_AFTER = 60.0
TASKS = {
    1: "assume a role that requires MFA into the shell (code typed at the prompt)",
    2: "a second MFA role from the same source, without a new code",
    3: "run a command with a role's credentials",
    4: "whoami",
    5: "list the profiles",
    6: "a 3-hop chain (default -> readonly -> deploy -> ops) into the shell",
    7: "a typo in the profile name (admn)",
    8: "the first role again, as in a new terminal within the hour (from a cache where the tool keeps one)",
}
PROFILES = ("default", "admin", "billing", "readonly", "deploy", "ops")
WHO = "aws sts get-caller-identity"


# ---------------------------------------------------------------------------------------------- the shell


@dataclass
class Step:
    """One command line typed into the shell: what it printed, its exit status, the prompts, its time."""

    line: str
    output: str = ""
    status: int | None = None
    prompts: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stuck: str = ""


class Shell:
    """An interactive bash on a pseudo-terminal whose prompt carries the last exit status."""

    def __init__(self, env: dict[str, str], code: Callable[[], str]) -> None:
        """Start bash with ``env`` (no rc files); ``code`` makes an MFA code when a prompt asks for one."""
        import pexpect

        self.code = code
        self.child = pexpect.spawn("bash", ["--norc", "--noprofile", "--noediting", "-i"], env=env,
                                   encoding="utf-8", codec_errors="replace", dimensions=(50, 220))  # fmt: skip
        self.child.delaybeforesend = None  # pexpect sleeps 50 ms before each send by default
        self.child.expect(PROMPT, timeout=30)

    def run(self, line: str) -> Step:
        """Type ``line``, answer MFA prompts, wait for the next prompt; time it without the code's making."""
        import pexpect

        step = Step(line)
        chunks: list[str] = []
        paused = 0.0
        start = time.perf_counter()
        self.child.sendline(line)
        while True:
            which = self.child.expect([PROMPT, MFA_PROMPT, pexpect.TIMEOUT], timeout=STUCK_AFTER)
            chunks.append(self.child.before + (self.child.after if which == 1 else ""))
            if which == 0:
                break
            if which == 1:
                step.prompts.append(str(self.child.after).strip())
                before_code = time.perf_counter()
                code = self.code()
                paused += time.perf_counter() - before_code
                self.child.sendline(code)
                continue
            step.stuck = "waiting for input: " + _clean(self.child.before)[-120:].replace("\n", " | ")
            self.child.sendcontrol("c")
            self.child.expect(PROMPT, timeout=30)
            break
        step.seconds = time.perf_counter() - start - paused
        step.status = int(self.child.match.group(1)) if not step.stuck else None
        echoed = "".join(chunks).split("\n", 1)  # the terminal's echo of the line comes first
        step.output = _clean(echoed[1] if len(echoed) > 1 else "")
        return step

    def close(self) -> None:
        """End the shell."""
        self.child.sendline("exit")
        self.child.close(force=True)


def _clean(text: str) -> str:
    return ANSI.sub("", text).strip()


# ---------------------------------------------------------------------------------------------- the tasks


@dataclass(frozen=True)
class Plan:
    """What a tool's user types for a task, and how to tell it worked.

    ``role``: the role the shell must hold afterwards (checked with ``aws sts get-caller-identity``, untimed);
    ``shows``: text the output of the last line must contain instead; ``fails``: the task is a typo;
    ``no_code``: asking for an MFA code fails the task.
    """

    lines: tuple[str, ...]
    role: str = ""
    shows: tuple[str, ...] = ()
    fails: bool = False
    no_code: bool = False
    note: str = ""


def _aws_assume(profile: str) -> tuple[str, ...]:
    return (f"export AWS_PROFILE={profile}", WHO)


PLANS: dict[str, dict[int, Plan]] = {
    "rolecall": {
        1: Plan(("assume admin",), role="admin"),
        2: Plan(("assume billing",), role="billing", no_code=True),
        3: Plan((f"rolecall exec admin -- {WHO}",), shows=("assumed-role/admin/",)),
        4: Plan(("rolecall whoami",), shows=("billing",)),
        5: Plan(("rolecall list",), shows=PROFILES),
        6: Plan(("assume ops",), role="ops"),
        7: Plan(("assume admn",), fails=True),
        8: Plan(("assume admin",), role="admin", no_code=True),
    },
    "awsume": {
        1: Plan(("awsume admin",), role="admin"),
        2: Plan(("awsume billing",), role="billing", no_code=True),
        3: Plan(("awsume admin", WHO), shows=("assumed-role/admin/",)),
        4: Plan((WHO,), shows=("assumed-role/admin/",), note="no whoami of its own that asks STS"),
        5: Plan(("awsume -l",), shows=PROFILES),
        6: Plan(("awsume ops",), role="ops"),
        7: Plan(("awsume admn",), fails=True),
        8: Plan(("awsume admin",), role="admin", no_code=True, note="caches the MFA session, not the role's"),
    },
    "aws v1": {
        1: Plan(_aws_assume("admin"), role="admin", note="no credentials in the shell: the profile name"),
        2: Plan(
            _aws_assume("billing"),
            role="billing",
            no_code=True,
            note="v1 sends the code with each AssumeRole: one code per role",
        ),
        3: Plan((f"aws --profile admin {WHO[4:]}",), shows=("assumed-role/admin/",)),
        4: Plan((WHO,), shows=("assumed-role/billing/",)),
        5: Plan(("aws configure list-profiles",), shows=PROFILES, note="`configure list-profiles` is AWS CLI v2 only"),
        6: Plan(_aws_assume("ops"), role="ops"),
        7: Plan((f"aws --profile admn {WHO[4:]}",), fails=True),
        8: Plan(_aws_assume("admin"), role="admin", no_code=True),
    },
}
SETUP = {
    "rolecall": ['eval "$(rolecall shell-init bash)"', "rolecall --version"],
    # What `awsume-configure` puts in ~/.bashrc; the first run writes ~/.awsume/config.yaml.
    "awsume": ['alias awsume=". awsume"', "awsume -v"],
    "aws v1": ["aws --version"],
}


@dataclass
class Result:
    """One tool doing one task in one round."""

    steps: list[Step]
    ok: bool
    why: str
    sts_calls: int

    @property
    def completed(self) -> bool:
        """Every line ran to its end with exit status 0."""
        return all(step.status == 0 for step in self.steps)

    @property
    def seconds(self) -> float:
        """The time of all the lines typed."""
        return sum(step.seconds for step in self.steps)


def judge(plan: Plan, steps: list[Step], identity: str) -> tuple[bool, str]:
    """Did the task work? (and if not, why; for a typo: the message and exit status)."""
    last = steps[-1]
    if any(step.stuck for step in steps):
        return False, next(step.stuck for step in steps if step.stuck)
    if plan.fails:
        lines = [line for line in last.output.splitlines() if line.strip()]
        shown = lines[0][:170] if lines else "(nothing printed)"
        more = f" (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
        traceback = ", a traceback" if "Traceback" in last.output else ""
        suggests = ", suggests admin" if re.search(r"\badmin\b", last.output) else ""
        ok = last.status != 0 and "admn" in last.output and not traceback
        return ok, f"exit {last.status}{traceback}{suggests}: {shown}{more}"
    failed = next((step for step in steps if step.status != 0), None)
    if failed is not None:
        lines = failed.output.splitlines() or ["(nothing printed)"]
        first = next((line for line in lines if re.search(r"error|not found|could not|denied", line, re.I)), lines[-1])
        return False, f"`{failed.line}` exit {failed.status}: {first[:130]}"
    if plan.no_code and any(step.prompts for step in steps):
        return False, "asked for a new MFA code"
    missing = [text for text in plan.shows if text not in last.output]
    if missing:
        return False, "output lacks " + ", ".join(missing)
    if plan.role and f"assumed-role/{plan.role}/" not in identity:
        return False, f"the shell is not {plan.role}: {identity or '(no identity)'}"
    return True, ""


def run_task(shell: Shell, sb: Sandbox, plan: Plan) -> Result:
    """Type a plan's lines, count the STS calls they made, then check the shell's identity (untimed)."""
    before = sb.calls()
    steps = [shell.run(line) for line in plan.lines]
    calls = sb.calls() - before
    identity = ""
    if plan.role:
        identity = shell.run(f"{WHO} --query Arn --output text").output.strip()
    ok, why = judge(plan, steps, identity)
    return Result(steps, ok, why, calls)


# ---------------------------------------------------------------------------------------------- one round


@contextlib.contextmanager
def tool_shell(sb: Sandbox, tool: str, round_: int, path: str) -> Iterator[Shell]:
    """A bash for ``tool`` in a fresh HOME with the AWS files of a new IAM user and MFA device, set up as its
    users set it up (the rc-file lines, a first run); removed afterwards."""
    user = sb.create_user(f"{tool.replace(' ', '-')}-{round_}", with_mfa=True)
    with tempfile.TemporaryDirectory() as home:
        aws_files(sb, user, home)
        env = dict(base_env(home, path), PS1="@@rc=$?@@ ", PS2="")
        shell = Shell(env, lambda: sb.fresh_code(user))
        try:
            for line in SETUP[tool]:
                step = shell.run(line)
                if step.status != 0:
                    raise SystemExit(f"{tool}: `{line}` failed: {step.output[-300:]}")
            yield shell
        finally:
            shell.close()


def one_round(sb: Sandbox, round_: int, path: str, verbose: bool) -> dict[str, dict[int, Result]]:
    """Every tool does every task once, each in its own shell; interleaved task by task, the tools in an order
    that turns with the round, so that machine noise hits every tool alike."""
    tools = list(PLANS)
    order = tools[round_ % len(tools) :] + tools[: round_ % len(tools)]
    results: dict[str, dict[int, Result]] = {tool: {} for tool in tools}
    with contextlib.ExitStack() as stack:
        shells = {tool: stack.enter_context(tool_shell(sb, tool, round_, path)) for tool in order}
        for task in TASKS:
            for tool in order:
                results[tool][task] = run_task(shells[tool], sb, PLANS[tool][task])
                if verbose:
                    _show(tool, task, results[tool][task])
    return results


def _show(tool: str, task: int, result: Result) -> None:
    print(f"--- {tool} task {task}: ok={result.ok} {result.why} ({result.seconds * 1000:.0f} ms)", file=sys.stderr)
    for step in result.steps:
        print(f"$ {step.line}  [exit {step.status}, {step.seconds * 1000:.0f} ms, prompts {step.prompts}]\n"
              f"{step.output}", file=sys.stderr)  # fmt: skip


# ---------------------------------------------------------------------------------------------- the report


def _prompts(results: list[Result], serial: re.Pattern[str]) -> str:
    seen = [serial.sub("<mfa_serial>", prompt) for step in results[0].steps for prompt in step.prompts]
    return "; ".join(dict.fromkeys(seen)) or "none"


def report(all_results: dict[str, dict[int, list[Result]]], rounds: int) -> None:
    """A table per task (tool, lines typed, prompts, ok, STS calls, median time), then the ratios."""
    serial = re.compile(r"arn:aws:iam::\d+:mfa/[^\s:]+")
    medians: dict[tuple[str, int], float] = {}
    for task, title in TASKS.items():
        print(f"\n({task}) {title}")
        print(f"  {'tool':<9}{'ok':<5}{'STS':>4}{'median':>10}  commands typed / prompts / notes")
        for tool, by_task in all_results.items():
            results = by_task[task]
            plan = PLANS[tool][task]
            good = sum(result.ok for result in results)
            ok = "yes" if good == len(results) else ("no" if good == 0 else f"{good}/{len(results)}")
            median = statistics.median(result.seconds for result in results)
            calls = statistics.median(result.sts_calls for result in results)
            if good:
                medians[tool, task] = median
            ran = all(result.completed for result in results) or plan.fails
            time_text = f"{median * 1000:.0f} ms" if ran else "n/a"
            print(f"  {tool:<9}{ok:<5}{calls:>4.0f}{time_text:>10}  $ " + "; ".join(plan.lines))
            print(f"  {'':<28}  prompts: {_prompts(results, serial)}")
            reasons = dict.fromkeys(result.why for result in results if result.why)
            for text in [*reasons, plan.note]:
                if text:
                    print(f"  {'':<28}  {'n/a: ' if not ran else ''}{text}")
    print(f"\nTimes: median of {rounds} round(s); each a fresh HOME, IAM user, MFA device and bash per tool.")
    print("How many times rolecall's time each peer takes (only where both did the task):")
    peers = [tool for tool in all_results if tool != "rolecall"]
    print(f"  {'task':<6}{'rolecall':>10}" + "".join(f"{peer:>16}" for peer in peers))
    for task in TASKS:
        own = medians.get(("rolecall", task))
        cells = [f"{medians[peer, task] / own:>15.1f}x" if own and (peer, task) in medians else f"{'n/a':>16}"
                 for peer in peers]  # fmt: skip
        print(f"  ({task})  {(f'{own * 1000:.0f} ms' if own else 'n/a'):>10}" + "".join(cells))


def main() -> None:
    """Install or find the peers, start the sandbox, run the rounds, print the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5); every task once per round")
    parser.add_argument("--quick", action="store_true", help="one round")
    parser.add_argument("--verbose", action="store_true", help="show every line typed and its output (stderr)")
    parser.add_argument("--peers-venv", type=Path, default=DEFAULT_VENV, help="where awsume and awscli go")
    options = parser.parse_args()
    rounds = 1 if options.quick else max(1, options.rounds)
    if importlib.util.find_spec("pexpect") is None:
        raise SystemExit("this benchmark drives a terminal with pexpect: pip install -e '.[dev]'")
    versions = peer_tools(options.peers_venv.resolve())

    from rolecall import __version__
    from rolecall.sandbox import Sandbox, trust_policy

    results: dict[str, dict[int, list[Result]]] = {tool: {task: [] for task in TASKS} for tool in PLANS}
    with Sandbox.start() as sb, tempfile.TemporaryDirectory() as scratch:
        root = f"arn:aws:iam::{sb.account_id}:root"
        sb.create_role("billing", trust_policy(root, {"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
        path = bin_dir(scratch, options.peers_venv.resolve()) + ":/usr/bin:/bin"
        for round_ in range(1, rounds + 1):
            for tool, by_task in one_round(sb, round_, path, options.verbose).items():
                for task, result in by_task.items():
                    results[tool][task].append(result)
            print(f"round {round_}/{rounds} done", file=sys.stderr)
    print(f"rolecall {__version__}, awsume {versions['awsume']}, AWS CLI {versions['awscli']}, "
          f"Python {sys.version.split()[0]}, bash on a pseudo-terminal, sandbox STS on 127.0.0.1")  # fmt: skip
    report(results, rounds)


if __name__ == "__main__":
    main()
