"""How much a cached ``rolecall env PROFILE`` costs, next to one Python start-up, in one run.

    .venv/bin/python benchmarks/env_cached.py [--rounds N]

Starts the local sandbox STS, writes a config with the seeded profiles, caches the 3-hop role ``ops``
once, then times, interleaved round by round (so machine noise hits every command alike):

- ``python -c pass``                       the floor: one interpreter start-up
- ``rolecall env ops``                     served from the AWS CLI cache, repeated: a replay (budget: 2x the floor,
                                           goal 1.25x; rolecall.replay)
- ``rolecall env ops`` with 5,000 profiles  the same with a big config (budget: 1.3x the small one)
- the two again with ``ROLECALL_REPLAY=0``  the lookup worked out: what the first run after a change costs
- ``aws configure list --profile ops``      the AWS CLI v1 resolving the same cached role (for comparison)

It prints medians and the ratios. Bytecode is compiled first, as an installed package has it.

    .venv/bin/python benchmarks/env_cached.py --against REV

also times the two ``rolecall env ops`` cases with the code of git revision REV (a temporary worktree, its own
copy of each home so that the two versions never share a parse cache), interleaved in the same rounds, and
prints the ratio of this tree to REV: how a change moved the cached path, measured side by side.
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
from pathlib import Path

from revisions import worktree_of
from timing import time_process

ROOT = Path(__file__).resolve().parents[1]


def _time(argv: list[str], env: dict[str, str]) -> float:
    return time_process(argv, env, ok=(0,))[0]


def _big_config(base: str, count: int) -> str:
    filler = "".join(
        f"[profile filler-{i:05d}]\nrole_arn = arn:aws:iam::123456789012:role/r{i}\nsource_profile = default\n"
        f"region = eu-west-1\n# a comment line\n\n"
        for i in range(count)
    )
    return filler + base  # the looked-up profiles come last: the whole file must be read



def _home_copy(env: dict[str, str], parent: str, name: str) -> dict[str, str]:
    """``env`` with its HOME (config, credentials, the cached role) copied to ``parent/name``."""
    home = os.path.join(parent, name)
    shutil.copytree(env["HOME"], home, symlinks=True)
    moved = {key: value.replace(env["HOME"], home, 1) for key, value in env.items() if key.startswith("AWS_")}
    return dict(env, HOME=home, **moved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--aws-rounds", type=int, default=8, help="rounds for the (slow) AWS CLI")
    parser.add_argument("--against", metavar="REV", help="also time the code of this git revision, side by side")
    options = parser.parse_args()

    from rolecall.sandbox import Sandbox

    compileall.compile_dir(str(ROOT / "src" / "rolecall"), quiet=1)
    bindir = Path(sys.executable).parent
    rolecall = str(bindir / "rolecall")
    with (
        Sandbox.start() as sb,
        tempfile.TemporaryDirectory() as small_home,
        tempfile.TemporaryDirectory() as big_home,
        tempfile.TemporaryDirectory() as other,
    ):
        sb.reset()
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLECALL_"))}
        small = dict(base_env, HOME=small_home, **sb.write_aws_files(small_home))
        big = dict(base_env, HOME=big_home, **sb.write_aws_files(big_home))
        config = Path(big["AWS_CONFIG_FILE"])
        config.write_text(_big_config(config.read_text(), 5000))
        for env in (small, big):
            subprocess.run([rolecall, "assume", "ops"], env=env, check=True, capture_output=True)
        calls_before = sb.calls()

        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], small),
            "rolecall env ops": ([rolecall, "env", "ops"], small),
            "rolecall env ops (5,000 profiles)": ([rolecall, "env", "ops"], big),
            "rolecall env ops, worked out (ROLECALL_REPLAY=0)": (
                [rolecall, "env", "ops"], dict(small, ROLECALL_REPLAY="0")),
            "rolecall env ops, worked out (5,000 profiles)": ([rolecall, "env", "ops"], dict(big, ROLECALL_REPLAY="0")),
        }
        if options.against:
            tree = worktree_of(options.against, other)
            for label, env in (("", small), (" (5,000 profiles)", big)):
                before = _home_copy(env, other, "home" + str(len(cases)))
                before["PYTHONPATH"] = os.path.join(tree, "src")
                here = dict(env, PYTHONPATH=str(ROOT / "src"))
                module = [sys.executable, "-m", "rolecall", "env", "ops"]
                cases[f"python -m rolecall env ops{label}, this tree"] = (module, here)
                cases[f"python -m rolecall env ops{label}, {options.against}"] = (module, before)
        # The parse cache ignores a file changed in the last 2 s (its mtime could still move within one tick);
        # the copies' ctime is now, too.
        time.sleep(2.1)
        aws = ([sys.executable, "-m", "awscli", "configure", "list", "--profile", "ops"], small)
        times: dict[str, list[float]] = {name: [] for name in cases}
        times["aws configure list --profile ops (CLI v1)"] = []
        for argv, env in cases.values():  # warm the page cache once (and record the replays)
            _time(argv, env)
        for round_ in range(options.rounds):
            for name, (argv, env) in cases.items():
                times[name].append(_time(argv, env))
            if round_ < options.aws_rounds:
                times["aws configure list --profile ops (CLI v1)"].append(_time(*aws))
        assert sb.calls() == calls_before, "the benchmark must be served from the cache"

    floor = statistics.median(times["python -c pass"])
    small_median = statistics.median(times["rolecall env ops"])
    print(f"{'command':<62}{'median':>10}{'vs python -c pass':>20}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<62}{median * 1000:>8.1f}ms{median / floor:>19.2f}x")
    big_median = statistics.median(times["rolecall env ops (5,000 profiles)"])
    print(f"\n5,000-profile config vs small config: {big_median / small_median:.2f}x (budget 1.3x)")
    print(f"cached env vs python -c pass:        {small_median / floor:.2f}x (budget 2x, goal 1.25x)")
    worked_out = statistics.median(times["rolecall env ops, worked out (ROLECALL_REPLAY=0)"])
    print(f"worked out (no replay) vs python -c pass: {worked_out / floor:.2f}x")
    if options.against:
        for label in ("", " (5,000 profiles)"):
            now = statistics.median(times[f"python -m rolecall env ops{label}, this tree"])
            then = statistics.median(times[f"python -m rolecall env ops{label}, {options.against}"])
            print(f"this tree vs {options.against}{label or ' (small config)'}: {now / then:.2f}x")
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", tree], capture_output=True)


if __name__ == "__main__":
    main()
