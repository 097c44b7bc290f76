"""Cross-account fan-out: a role in each of 200 sandbox accounts, 16 threads, rolecall.assume_role next to boto3.

    .venv/bin/python benchmarks/assume_role_fanout.py [--roles 200] [--threads 16] [--rounds 3]

Starts the local sandbox STS in a process of its own, writes the seeded AWS files into a temporary home, creates role
``fanout`` in each of ``--roles`` accounts (``rolecall.sandbox.accounts``) and, on a pool of ``--threads``
threads, for every role: gets a Session acting as it and makes one GetCallerIdentity with it. Four ways:

- ``boto3``                    a shared STS client's ``assume_role``, then ``boto3.Session(keys)`` (no refresh)
- ``rolecall, from Session``   ``rolecall.assume_role(arn, source=boto3.Session(...))`` (kept in memory)
- ``rolecall, from profile``   ``rolecall.assume_role(arn, source="default")``, the AWS CLI cache empty
- ``... again (cached)``       the same once more: every role served from the AWS CLI cache, no AssumeRole

It prints the median wall time per way, roles per second and the AssumeRole calls the sandbox counted per
round (one per role, none when cached).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _plain_boto3(arns: list[str], threads: int) -> None:
    import boto3

    sts = boto3.Session(profile_name="default").client("sts")

    def one(arn: str) -> str:
        answer = sts.assume_role(RoleArn=arn, RoleSessionName="fanout")["Credentials"]
        session = boto3.Session(
            aws_access_key_id=answer["AccessKeyId"],
            aws_secret_access_key=answer["SecretAccessKey"],
            aws_session_token=answer["SessionToken"],
        )
        return str(session.client("sts").get_caller_identity()["Account"])

    _fan_out(one, arns, threads)


def _rolecall(arns: list[str], threads: int, source: Any) -> None:
    import rolecall

    def one(arn: str) -> str:
        session = rolecall.assume_role(arn, source=source() if callable(source) else source)
        return str(session.client("sts").get_caller_identity()["Account"])

    _fan_out(one, arns, threads)


def _fan_out(one: Callable[[str], str], arns: list[str], threads: int) -> None:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        accounts = list(pool.map(one, arns))
    expected = [arn.split(":")[4] for arn in arns]
    if accounts != expected:
        raise SystemExit("a session did not act in its role's account")


def _sandbox_process(connection: Any, home: str, roles: int) -> None:
    """The sandbox in a process of its own (its server threads must not queue behind the 16 clients for the GIL):
    it seeds the home and the roles, sends ``(environment, role ARNs)``, then answers "calls" and "reset"."""
    from rolecall.sandbox import Sandbox
    from rolecall.sandbox.accounts import create_fanout_roles

    sandbox = Sandbox.start()
    sandbox.reset()
    connection.send((sandbox.write_aws_files(home), create_fanout_roles(roles)))
    while True:
        command = connection.recv()
        if command == "calls":
            connection.send(sandbox.calls("AssumeRole"))
        elif command == "reset":
            sandbox.reset_calls()
            connection.send(None)
        else:
            sandbox.stop()
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--roles", type=int, default=200)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    import multiprocessing

    import boto3

    from rolecall.library import memory

    home = Path(tempfile.mkdtemp(prefix="rolecall-fanout-"))
    ours, theirs = multiprocessing.Pipe()
    arguments = (theirs, str(home), options.roles)
    child = multiprocessing.get_context("fork").Process(target=_sandbox_process, args=arguments)
    child.start()
    try:
        sandbox_env, arns = ours.recv()
        for key in [key for key in os.environ if key.startswith(("AWS_", "ROLECALL_"))]:
            del os.environ[key]
        os.environ.update(HOME=str(home), ROLECALL_HOME=str(home / ".aws" / "rolecall"), **sandbox_env)
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
        cache = home / ".aws" / "cli" / "cache"
        ways: dict[str, Callable[[], None]] = {
            "boto3": lambda: _plain_boto3(arns, options.threads),
            "rolecall, from Session": lambda: _rolecall(arns, options.threads, boto3.Session(profile_name="default")),
            "rolecall, from profile": lambda: _rolecall(arns, options.threads, "default"),
            "... again (cached)": lambda: _rolecall(arns, options.threads, "default"),
        }
        times: dict[str, list[float]] = {name: [] for name in ways}
        calls: dict[str, int] = {}
        for _ in range(options.rounds):
            memory.forget_all()
            shutil.rmtree(cache, ignore_errors=True)
            for name, run in ways.items():
                ours.send("reset")
                ours.recv()
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
                ours.send("calls")
                calls[name] = ours.recv()
        print(f"{options.roles} roles in {options.roles} accounts, {options.threads} threads, "
              f"median of {options.rounds} rounds (each role: a Session, then one GetCallerIdentity)")  # fmt: skip
        for name in ways:
            median = statistics.median(times[name])
            print(f"  {name:<24} {median:7.2f} s  {options.roles / median:7.1f} roles/s  "
                  f"AssumeRole calls per round: {calls[name]}")  # fmt: skip
    finally:
        ours.send("stop")
        child.join(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
