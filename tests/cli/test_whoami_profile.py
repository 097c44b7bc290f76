"""``whoami`` names the profile whose keys ``assume`` (or ``exec``) put in the environment (issue 17, item 11), in a
real bash with the ``assume`` function, against the sandbox; keys exported by hand stay "(environment variables)",
and a ``ROLECALL_PROFILE`` left over from another role is not believed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import AwsHome, run_rolecall
from rolecall.identity import exported_profile
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture


def _bash(script: str, env: dict[str, str]) -> str:
    # rolecall on PATH as the shell function calls it: this interpreter's bin folder first
    env = {**env, "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", os.defpath)}
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", 'eval "$(rolecall shell-init bash)"\n' + script],
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_after_assume_whoami_names_the_profile(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    out = _bash("assume readonly\nrolecall whoami\nrolecall whoami --output json\nunassume\nrolecall whoami", env)
    text, rest = out.split("{", 1)
    assert text.splitlines()[0] == "profile   readonly (environment variables)"
    document, after = ("{" + rest).split("}\n", 1)
    identity = json.loads(document + "}")
    assert identity["Profile"] == "readonly" and identity["FromEnvironment"] is True
    assert ":assumed-role/readonly/" in identity["Arn"]
    assert after.splitlines()[0] == "profile   default"  # unassume: the profile named nothing any more


def test_keys_by_hand_and_a_stale_name(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    keys = json.loads(run_rolecall(["env", "deploy", "--format", "json"], env).stdout)
    env.update(AWS_ACCESS_KEY_ID=keys["AccessKeyId"], AWS_SECRET_ACCESS_KEY=keys["SecretAccessKey"],
               AWS_SESSION_TOKEN=keys["SessionToken"])  # fmt: skip
    by_hand = json.loads(run_rolecall(["whoami", "--output", "json"], env).stdout)
    assert by_hand["Profile"] == "(environment variables)" and by_hand["FromEnvironment"] is True
    # ROLECALL_PROFILE left from `assume readonly`, but these are deploy's keys: the name is not given.
    stale = run_rolecall(["whoami"], {**env, "ROLECALL_PROFILE": "readonly"})
    assert stale.stdout.splitlines()[0] == "profile   (environment variables)"
    right = run_rolecall(["whoami"], {**env, "ROLECALL_PROFILE": "deploy"})
    assert right.stdout.splitlines()[0] == "profile   deploy (environment variables)"
    named = json.loads(run_rolecall(["whoami", "readonly", "--output", "json"], env).stdout)
    assert named["Profile"] == "readonly" and "FromEnvironment" not in named  # a profile named: its own keys


def test_inside_exec(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = run_rolecall(["exec", "ops", sys.executable, "-m", "rolecall", "whoami"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "profile   ops (environment variables)"


def test_exported_profile() -> None:
    role = {"role_arn": "arn:aws:iam::123456789012:role/team/admin"}
    session = "arn:aws:sts::123456789012:assumed-role/admin/alice"
    assert exported_profile({}) is None and exported_profile({"ROLECALL_PROFILE": " "}) is None
    assert exported_profile({"ROLECALL_PROFILE": "prod"}) == "prod"
    assert exported_profile({"ROLECALL_PROFILE": "prod"}, session, {"prod": role}.get) == "prod"
    other = "arn:aws:sts::123456789012:assumed-role/viewer/alice"
    assert exported_profile({"ROLECALL_PROFILE": "prod"}, other, {"prod": role}.get) is None
    user = "arn:aws:iam::123456789012:user/alice"
    assert exported_profile({"ROLECALL_PROFILE": "prod"}, user, {"prod": role}.get) is None
    assert exported_profile({"ROLECALL_PROFILE": "keys"}, user, {"keys": {}}.get) == "keys"
