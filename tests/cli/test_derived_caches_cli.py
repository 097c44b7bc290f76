"""``rolecall list`` and ``rolecall doctor`` on an unchanged config answer from rolecall's caches (issue 20), as real
processes: the second run builds no chain and lints nothing (``-X importtime`` shows what it loaded), prints
exactly what the first printed, keeps its cache private, and a damaged cache changes nothing but the speed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import AwsHome, run_rolecall

CONFIG = """\
[default]
region = eu-west-1
[profile readonly]
role_arn = arn:aws:iam::123456789012:role/readonly
source_profile = default
[profile ops]
role_arn = arn:aws:iam::123456789012:role/ops
source_profile = readonly
mfa_serial = arn:aws:iam::123456789012:mfa/alice
[profile typo]
regoin = eu-west-1
"""


def _loaded(args: list[str], env: dict[str, str]) -> tuple[str, set[str]]:
    """stdout of ``rolecall ARGS`` and the modules it imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "rolecall", *args], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode in (0, 3), done.stderr
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done.stdout, modules


def test_list_and_doctor_answer_from_their_caches(aws_home: AwsHome) -> None:
    env = aws_home.env
    aws_home.write_config(CONFIG)
    aws_home.write_credentials("[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n")
    first_list, first_doctor = run_rolecall(["list"], env), run_rolecall(["doctor"], env)
    time.sleep(2.1)  # files changed within two seconds are never cached
    for args, worker in ((["list"], "rolecall.providers.chain"), (["doctor"], "rolecall.config.lint")):
        stored, modules = _loaded(args, env)  # a miss: worked out, and stored
        assert worker in modules
        cached, modules = _loaded(args, env)  # a hit
        assert worker not in modules, f"{args}: {worker} was loaded on a cache hit"
        assert cached == stored
    assert run_rolecall(["list"], env).stdout == first_list.stdout
    again = run_rolecall(["doctor"], env)
    assert (again.stdout, again.stderr, again.returncode) == (first_doctor.stdout, first_doctor.stderr, 0)
    assert "RC011" in again.stdout
    folder = Path(env["ROLECALL_HOME"])
    assert folder.stat().st_mode & 0o777 == 0o700
    for name in ("derived-list-rows", "derived-doctor"):
        assert (folder / name).stat().st_mode & 0o777 == 0o600
        (folder / name).write_bytes(b"RCDC not marshal")  # damaged: silently a miss
    assert run_rolecall(["list"], env).stdout == first_list.stdout
    assert run_rolecall(["doctor"], env).stdout == first_doctor.stdout
    # An edited config is seen at once (within the racy window nothing is cached) and after it.
    with open(aws_home.config, "a") as handle:
        handle.write("[profile added]\nregion = us-east-1\n")
    assert "added" in run_rolecall(["list"], env).stdout
    time.sleep(2.1)
    assert "added" in _loaded(["list"], env)[0] and "added" in _loaded(["list"], env)[0]
    os.chmod(aws_home.credentials, 0o644)  # a mode change alters the signature too
    assert "RC008" in run_rolecall(["doctor"], env).stdout
