"""How the commands that read the config scale with its size: 5, 500, 5,000 and 50,000 profiles, in one run.

    .venv/bin/python benchmarks/config_scaling.py [--rounds N] [--sizes 5,500,5000,50000]

Starts the local sandbox STS, writes one home per size (the seeded profiles last, so the whole file must be
read, plus filler role profiles), caches the 3-hop role ``ops`` in each, waits out the parse cache's 2-second
"racy" window, then times, interleaved round by round (machine noise hits every size alike):

- ``rolecall env ops``                    a cached lookup
- ``rolecall list``                       every profile, its kind and cached session
- ``rolecall doctor``                     the whole config linted
- ``rolecall configure list-profiles``    the names
- ``rolecall __complete bash`` of ``rolecall env ``   Tab completion of profile names
- the picker (``rolecall assume`` on a terminal)  the time to its first frame, in a pty (pexpect), then Esc

stdout goes to /dev/null: making the 5,000 lines of ``list`` is part of its cost, a terminal's drawing them is not.
``--only list,picker`` times some commands only.

It prints each command's median per size and the ratio to the smallest config (the budget of issue 20: at most
1.3x at 5,000 profiles, and linear beyond), and ``python -c pass`` as the floor. Bytecode is compiled first.
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


def _filler(count: int) -> str:
    return "".join(
        f"[profile filler-{i:05d}]\nrole_arn = arn:aws:iam::123456789012:role/r{i}\nsource_profile = default\n"
        f"region = eu-west-1\n# a comment line\n\n"
        for i in range(count)
    )


def _time(argv: list[str], env: dict[str, str]) -> float:
    if argv == ["picker"]:
        return _time_picker(env)
    return time_process(argv, env, ok=(0, 1))[0]  # doctor exits 1 when it has findings to report


def _time_picker(env: dict[str, str]) -> float:
    """Seconds from starting ``rolecall assume`` in a terminal to its first frame (the ``N of N profiles`` line)."""
    import pexpect

    rolecall = str(Path(sys.executable).parent / "rolecall")
    start = time.perf_counter()
    child = pexpect.spawn(rolecall, ["assume"], env=env, encoding="utf-8", timeout=120, dimensions=(30, 140))
    child.expect(r"\d+ of \d+ profiles")
    elapsed = time.perf_counter() - start
    child.send("\x1b")  # Esc: no profile picked
    child.expect(pexpect.EOF)
    child.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--sizes", default="5,500,5000,50000", help="profile counts, comma-separated")
    parser.add_argument("--only", default="", help="time only these commands (comma-separated prefixes)")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]

    from rolecall.sandbox import Sandbox

    compileall.compile_dir(str(ROOT / "src" / "rolecall"), quiet=1)
    rolecall = str(Path(sys.executable).parent / "rolecall")
    commands = {
        "env ops": [rolecall, "env", "ops"],
        "list": [rolecall, "list"],
        "doctor": [rolecall, "doctor"],
        "configure list-profiles": [rolecall, "configure", "list-profiles"],
        "__complete (profile names)": [rolecall, "__complete", "bash", " =:", "rolecall env "],
        "picker (first frame)": ["picker"],
    }
    if options.only:
        wanted = tuple(options.only.split(","))
        commands = {name: argv for name, argv in commands.items() if name.startswith(wanted)}
    with Sandbox.start() as sb, tempfile.TemporaryDirectory() as parent:
        sb.reset()
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLECALL_"))}
        homes: dict[int, dict[str, str]] = {}
        for size in sizes:
            home = os.path.join(parent, f"home{size}")
            os.mkdir(home)
            env = dict(base_env, HOME=home, **sb.write_aws_files(home))
            config = Path(env["AWS_CONFIG_FILE"])
            seeded = config.read_text()
            # The seeded file has about 10 profiles; fill up to ``size`` (at least the seeded ones).
            config.write_text(_filler(max(0, size - seeded.count("[profile ") - 1)) + seeded)
            subprocess.run([rolecall, "assume", "ops"], env=env, check=True, capture_output=True)
            homes[size] = env
        time.sleep(2.1)  # the parse cache ignores files changed in the last 2 s
        floor: list[float] = []
        times = {(name, size): [] for name in commands for size in sizes}  # type: dict[tuple[str, int], list[float]]
        for argv in commands.values():  # warm the page cache and the parse caches once
            for env in homes.values():
                _time(argv, env)
        for _ in range(options.rounds):
            floor.append(_time([sys.executable, "-c", "pass"], homes[sizes[0]]))
            for name, argv in commands.items():
                for size, env in homes.items():
                    times[(name, size)].append(_time(argv, env))
    pass_ms = statistics.median(floor) * 1000
    print(f"python -c pass: {pass_ms:.1f} ms (median of {options.rounds})\n")
    header = "".join(f"{size:>16,}" for size in sizes)
    print(f"{'command (median ms, ratio to ' + format(sizes[0], ',') + ' profiles)':<48}{header}")
    for name in commands:
        medians = [statistics.median(times[(name, size)]) for size in sizes]
        cells = "".join(f"{median * 1000:>8.1f} {median / medians[0]:>5.2f}x " for median in medians)
        print(f"{name:<48}{cells}")


if __name__ == "__main__":
    main()
