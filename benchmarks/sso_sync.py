"""``rolecall sso sync`` on an organisation of 2,000 accounts x 3 roles, and ``rolecall env`` on the result.

    .venv/bin/python benchmarks/sso_sync.py [--accounts N] [--rounds N]

Starts the local sandbox, seeds an IAM Identity Center organisation of N accounts (default 2,000) with three
roles each, logs in once (a token obtained through botocore's device flow, approved in the sandbox), then:

- times ``rolecall sso sync --sso-session sandbox`` writing the 6,000 profiles (every account's roles listed
  through the portal: N + 1 ListAccounts/ListAccountRoles pages at least), then the same again, which must
  change nothing (the file is not rewritten);
- times, interleaved round by round, ``python -c pass``, a cached ``rolecall env`` of an SSO profile with the
  small sandbox config, and the same profile with the 6,000-profile config (budget: 1.3x the small one).

It prints medians and ratios. Bytecode is compiled first, as an installed package has it.
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

ROOT = Path(__file__).resolve().parents[1]
SESSION = "sandbox"  # the sso-session of the sandbox's config


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed: {done.stderr.decode()[-800:]}")
    return elapsed, done.stderr.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    options = parser.parse_args()

    from rolecall.sandbox import Sandbox

    compileall.compile_dir(str(ROOT / "src" / "rolecall"), quiet=1)
    rolecall = str(Path(sys.executable).parent / "rolecall")
    roles = ("AdministratorAccess", "ReadOnlyAccess", "Billing")
    with Sandbox.start() as sb, tempfile.TemporaryDirectory() as small_home, tempfile.TemporaryDirectory() as big_home:
        sb.reset()
        sb.set_sso_lifetimes(access_token=8 * 3600, role_credentials=8 * 3600)
        sb.seed_sso_organization(options.accounts, roles)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLECALL_"))}
        small = dict(base_env, HOME=small_home, **sb.write_aws_files(small_home))
        big = dict(base_env, HOME=big_home, **sb.write_aws_files(big_home))
        for home in (small_home, big_home):
            sb.write_sso_token_cache(home)  # an approved login, as `aws sso login` caches it

        sync = [rolecall, "sso", "sync", "--sso-session", SESSION]
        sb.reset_calls()
        first, said = _run(sync, big)
        pages = sb.calls("sso:ListAccounts") + sb.calls("sso:ListAccountRoles")
        config = Path(big["AWS_CONFIG_FILE"])
        size = config.stat().st_size
        mtime = config.stat().st_mtime_ns
        second, said_again = _run(sync, big)
        unchanged = config.stat().st_mtime_ns == mtime
        profiles = config.read_text().count("\n[profile ")

        # The same SSO profile in both configs, its role credentials cached in both homes.
        text = config.read_text()
        start = text.index("[profile ", text.index("# BEGIN rolecall sso sync"))
        name = text[start + len("[profile ") : text.index("]", start)]
        block = text[start : text.index("\n\n", start) + 1]
        small_config = Path(small["AWS_CONFIG_FILE"])
        small_config.write_text(small_config.read_text() + "\n" + block)
        for env in (small, big):
            _run([rolecall, "env", name], env)
        calls_before = sb.calls()
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], small),
            f"rolecall env {name} (small config)": ([rolecall, "env", name], small),
            f"rolecall env {name} ({profiles:,} profiles)": ([rolecall, "env", name], big),
        }
        times: dict[str, list[float]] = {label: [] for label in cases}
        # The parse cache and the replay trust no file changed in the last 2 s (the configs and entries were just
        # written); the warm-up run then records the replays the timed rounds use.
        time.sleep(2.1)
        for argv, env in cases.values():
            _run(argv, env)
        for _ in range(options.rounds):
            for label, (argv, env) in cases.items():
                times[label].append(_run(argv, env)[0])
        assert sb.calls() == calls_before, "the env lookups were not served from the cache"

    print(f"sso sync, {options.accounts:,} accounts x {len(roles)} roles ({profiles:,} profiles, {size:,} bytes):")
    print(f"  first run (lists every account, writes the block)  {first:7.2f} s   ({pages:,} portal pages)")
    print(f"  second run (nothing changes)                       {second:7.2f} s   "
          f"({'file not rewritten' if unchanged else 'FILE REWRITTEN'})")
    print(f"  said: {said.strip().splitlines()[-1]}")
    print(f"  said: {said_again.strip().splitlines()[-1]}")
    medians = {label: statistics.median(values) for label, values in times.items()}
    floor = medians["python -c pass"]
    labels = list(medians)
    print(f"\ncached `rolecall env` of an SSO profile, {options.rounds} interleaved rounds (medians):")
    for label in labels:
        print(f"  {label:<58} {medians[label] * 1000:7.1f} ms  {medians[label] / floor:5.2f}x start-up")
    print(f"  {profiles:,}-profile config / small config: {medians[labels[2]] / medians[labels[1]]:.2f}x (budget 1.3x)")


if __name__ == "__main__":
    main()
