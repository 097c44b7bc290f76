"""A cached ``rolecall process-cache`` answer is the fast path: no argparse, no subprocess, no botocore, no json
(the same rules as a cached ``rolecall env``, tests/core/test_import_cost.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture
from test_import_cost import HEAVY, HOT_PATH_EXTRA, PROBE
from test_process_cache import Setup


def test_a_cached_answer_imports_nothing_heavy(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home)
    first = setup.process_cache()
    assert first.returncode == 0, first.stderr
    argv = ["process-cache", "--", *setup.argv]
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], env=setup.env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["code"] == 0, result["err"]
    assert json.loads(result["out"]) == json.loads(first.stdout)
    assert setup.runs == 1  # really served from the cache
    loaded = set(result["loaded"])
    assert loaded & (HEAVY | HOT_PATH_EXTRA) == set(), f"imported: {sorted(loaded & (HEAVY | HOT_PATH_EXTRA))}"
    assert result["aws"] == []
