"""How long reading the config files costs: a small config next to a 5,000-profile one, in one process.

    .venv/bin/python benchmarks/parse_config.py [--runs N] [--profiles N]

Times what a lookup does (``ConfigFiles.load(paths)`` then ``profile(name)`` for a profile at the end of the
file), interleaved run by run so machine noise hits both alike, and prints the medians and their ratio.
The big config is served from the parse cache (``marshal`` in the rolecall folder); for reference the same
lookup without the cache, the bare parse (``parse_raw``) of the big text, and botocore's
``configloader.load_config`` of the big file are timed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))

from rolecall.config.parse import ConfigFiles, parse_raw
from rolecall.config.parsecache import DEFAULT_RACY_NS
from rolecall.config.paths import AwsPaths

SMALL = """\
[default]
region = eu-west-1
output = json

[profile base]
mfa_serial = arn:aws:iam::123456789012:mfa/alice

[profile dev]
role_arn = arn:aws:iam::123456789012:role/dev
source_profile = base
"""

CREDENTIALS = "[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = example\n"


def big_config(count: int) -> str:
    """``count`` role profiles with a comment and a blank line each, then the small config (looked up last)."""
    filler = "".join(
        f"[profile filler-{i:05d}]\nrole_arn = arn:aws:iam::123456789012:role/r{i}\nsource_profile = base\n"
        f"region = eu-west-1\n# a comment line\n\n"
        for i in range(count)
    )
    return filler + SMALL


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=41, help="runs of each measurement (median reported)")
    parser.add_argument("--profiles", type=int, default=5000, help="profiles in the big config")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as root:
        paths = {}
        for name, text in (("small", SMALL), ("big", big_config(args.profiles))):
            folder = os.path.join(root, name)
            os.mkdir(folder)
            with open(os.path.join(folder, "config"), "w") as handle:
                handle.write(text)
            with open(os.path.join(folder, "credentials"), "w") as handle:
                handle.write(CREDENTIALS)
            paths[name] = AwsPaths.from_env(
                {
                    "HOME": folder,
                    "AWS_CONFIG_FILE": os.path.join(folder, "config"),
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(folder, "credentials"),
                    "ROLECALL_HOME": os.path.join(folder, "rolecall"),
                }
            )
        big_text = big_config(args.profiles)

        def lookup(which: str, use_cache: bool = True) -> Callable[[], object]:
            return lambda: ConfigFiles.load(paths[which], use_cache=use_cache).profile("dev")

        import botocore.configloader

        # The parse cache ignores files changed in the last 2 seconds (coarse timestamps); wait that out.
        time.sleep(DEFAULT_RACY_NS / 1e9 + 0.2)
        samples: dict[str, list[float]] = {name: [] for name in ("small", "big", "big uncached", "parse_raw big")}
        samples["botocore big"] = []
        for name in ("small", "big"):  # warm-up, and the parse cache is written
            lookup(name)()
        for _ in range(args.runs):
            samples["small"].append(timed(lookup("small")))
            samples["big"].append(timed(lookup("big")))
            samples["big uncached"].append(timed(lookup("big", use_cache=False)))
            samples["parse_raw big"].append(timed(lambda: parse_raw(big_text, "config")))
        for _ in range(max(3, args.runs // 8)):
            samples["botocore big"].append(timed(lambda: botocore.configloader.load_config(paths["big"].config_file)))

    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    print(f"lookup, small config ({SMALL.count('[')} profiles):  {medians['small']:8.3f} ms")
    print(f"lookup, {args.profiles} profiles:               {medians['big']:8.3f} ms")
    print(f"  ratio big/small:                    {medians['big'] / medians['small']:8.1f}x")
    print(f"  difference:                         {medians['big'] - medians['small']:8.3f} ms")
    print(f"lookup, {args.profiles} profiles, no cache:     {medians['big uncached']:8.3f} ms")
    print(f"parse_raw of the big text:            {medians['parse_raw big']:8.3f} ms")
    print(f"botocore load_config of the big file: {medians['botocore big']:8.3f} ms")


if __name__ == "__main__":
    main()
