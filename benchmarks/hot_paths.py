"""Every cached hot path next to one Python start-up, in one run: what a shell, an SDK or kubectl pays per call.

    .venv/bin/python benchmarks/hot_paths.py [--rounds N]

Starts the local sandbox STS, writes its profiles, fills each cache once, then times, interleaved round by round
(machine noise hits every command alike), whole processes through the installed ``rolecall`` script:

- ``python -c pass``                                   the floor: one interpreter start-up
- ``rolecall env ops``                                 a 3-hop role from the AWS CLI cache (shells), replayed
- ``rolecall env ops`` with ``ROLECALL_REPLAY=0``      the same lookup worked out (no replay: docs/architecture.md)
- ``rolecall env sso-chained``                         a role sourced from an IAM Identity Center role, replayed
- ``rolecall env console``                             an ``aws login`` session's credentials, replayed
- ``rolecall credential-process --profile ops``        the same for SDKs' ``credential_process``
- ``rolecall process-cache -- TOOL``                   a wrapped credential tool's cached answer (docs/process-cache.md)
- ``rolecall eks token --cluster-name demo --profile ops``   kubectl's exec credential from rolecall's cache

It prints the medians and each one's ratio to the floor. No call reaches the sandbox during the timed rounds
(checked). Bytecode is compiled first, as an installed package has it. The SSO sign-in is the sandbox's approved
token written where ``aws sso login`` puts it; the ``aws login`` sign-in is the real flow, its approval page
clicked over HTTP by the tests' browser stand-in (``tests/browser_approve.py``).
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

from timing import time_process

ROOT = Path(__file__).resolve().parents[1]


def _time(argv: list[str], env: dict[str, str]) -> float:
    return time_process(argv, env, ok=(0,))[0]


def _replayed(argv: list[str], env: dict[str, str]) -> bool:
    """Whether the command is answered by a replay (rolecall.replay): a replay never loads rolecall.cli.context."""
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    return " rolecall.cli.context\n" not in done.stderr


def _sign_in(rolecall: str, env: dict[str, str], home: str) -> None:
    """``rolecall login --profile console`` against the sandbox, approved over HTTP as a person would click."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser_approve import browser_command

    approve = {"BROWSER": browser_command(Path(home)), "ROLECALL_TEST_BROWSER": "http",
               "ROLECALL_TEST_DECISION": "allow"}  # fmt: skip
    subprocess.run([rolecall, "login", "--profile", "console"], env={**env, **approve}, check=True,
                   capture_output=True, timeout=120)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    options = parser.parse_args()

    from rolecall.sandbox import Sandbox

    compileall.compile_dir(str(ROOT / "src" / "rolecall"), quiet=1)
    rolecall = str(Path(sys.executable).parent / "rolecall")
    with Sandbox.start() as sb, tempfile.TemporaryDirectory() as home:
        sb.reset()
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLECALL_"))}
        env = dict(base_env, HOME=home, **sb.write_aws_files(home))
        sb.write_sso_token_cache(home)
        _sign_in(rolecall, env, home)
        # The wrapped tool is rolecall's own credential_process: any tool printing Version 1 JSON would do.
        tool = [rolecall, "credential-process", "--profile", "ops"]
        worked_out = dict(env, ROLECALL_REPLAY="0")
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "rolecall env ops": ([rolecall, "env", "ops"], env),
            "rolecall env ops, worked out (ROLECALL_REPLAY=0)": ([rolecall, "env", "ops"], worked_out),
            "rolecall env sso-chained (SSO role, then a role)": ([rolecall, "env", "sso-chained"], env),
            "rolecall env console (aws login session)": ([rolecall, "env", "console"], env),
            "rolecall credential-process --profile ops": (tool, env),
            "rolecall process-cache -- rolecall credential-process ...": (
                [rolecall, "process-cache", "--", *tool], env),
            "rolecall eks token --cluster-name demo --profile ops": (
                [rolecall, "eks", "token", "--cluster-name", "demo", "--profile", "ops"], env),
        }  # fmt: skip
        for argv, case_env in cases.values():  # fill the caches (and warm the page cache)
            _time(argv, case_env)
        time.sleep(2.1)  # the parse cache and the replay ignore files changed in the last 2 s
        for argv, case_env in cases.values():  # record the replays
            _time(argv, case_env)
        calls_before = sb.calls()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(options.rounds):
            for name, (argv, case_env) in cases.items():
                times[name].append(_time(argv, case_env))
        assert sb.calls() == calls_before, "the timed rounds must be served from the caches"
        replayed = {name: _replayed(argv, case_env) for name, (argv, case_env) in cases.items() if argv[0] == rolecall}

    floor = statistics.median(times["python -c pass"])
    print(f"{'command (cached)':<66}{'median':>10}{'vs python -c pass':>20}{'replayed':>10}")
    for name, values in times.items():
        median = statistics.median(values)
        answer = {True: "yes", False: "no"}.get(replayed.get(name), "")  # type: ignore[call-overload]
        print(f"{name:<66}{median * 1000:>8.1f}ms{median / floor:>19.2f}x{answer:>10}")


if __name__ == "__main__":
    main()
