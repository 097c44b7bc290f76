"""Every cached hot path next to one Python start-up, in one run: what a shell, an SDK or kubectl pays per call.

    .venv/bin/python benchmarks/hot_paths.py [--rounds N]

Starts the local sandbox STS, writes its profiles, fills each cache once, then times, interleaved round by round
(machine noise hits every command alike), whole processes through the installed ``rolecall`` script:

- ``python -c pass``                                   the floor: one interpreter start-up
- ``rolecall env ops``                                 a 3-hop role from the AWS CLI cache (shells)
- ``rolecall credential-process --profile ops``        the same for SDKs' ``credential_process``
- ``rolecall process-cache -- TOOL``                   a wrapped credential tool's cached answer (docs/process-cache.md)
- ``rolecall eks token --cluster-name demo --profile ops``   kubectl's exec credential from rolecall's cache

It prints the medians and each one's ratio to the floor. No call reaches the sandbox during the timed rounds
(checked). Bytecode is compiled first, as an installed package has it.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from timing import time_process

ROOT = Path(__file__).resolve().parents[1]


def _time(argv: list[str], env: dict[str, str]) -> float:
    return time_process(argv, env, ok=(0,))[0]


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
        # The wrapped tool is rolecall's own credential_process: any tool printing Version 1 JSON would do.
        tool = [rolecall, "credential-process", "--profile", "ops"]
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "rolecall env ops": [rolecall, "env", "ops"],
            "rolecall credential-process --profile ops": tool,
            "rolecall process-cache -- rolecall credential-process ...": [rolecall, "process-cache", "--", *tool],
            "rolecall eks token --cluster-name demo --profile ops": [
                rolecall, "eks", "token", "--cluster-name", "demo", "--profile", "ops"],
        }  # fmt: skip
        for argv in cases.values():  # fill the caches (and warm the page cache)
            _time(argv, env)
        time.sleep(2.1)  # the parse cache ignores files changed in the last 2 s
        calls_before = sb.calls()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(options.rounds):
            for name, argv in cases.items():
                times[name].append(_time(argv, env))
        assert sb.calls() == calls_before, "the timed rounds must be served from the caches"

    floor = statistics.median(times["python -c pass"])
    print(f"{'command (cached)':<66}{'median':>10}{'vs python -c pass':>20}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<66}{median * 1000:>8.1f}ms{median / floor:>19.2f}x")


if __name__ == "__main__":
    main()
