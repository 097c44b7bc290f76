"""A ``source_profile`` typo gets the same did-you-mean at run time as in doctor (issue 17, item 11), and the command
it suggests fixes the profile: run here against the sandbox."""

from __future__ import annotations

import json

from conftest import AwsHome, run_rolecall
from rolecall.config.refusals import missing_source, source_typo_fix
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

FIX = "did you mean 'readonly'? rolecall configure set source_profile readonly --profile typo"


def test_the_run_time_error_and_doctor_suggest_the_same_fix(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home, config=(
        "\n[profile typo]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = readonyl\n"
    ))
    for argv in (["env", "typo"], ["whoami", "--profile", "typo"], ["exec", "typo", "true"]):
        result = run_rolecall(argv, env)
        assert result.returncode == 3, result.stderr
        assert result.stderr == (
            f'rolecall: the source_profile "readonyl" named in profile "typo" does not exist (hint: {FIX})\n'
        )
    doctor = run_rolecall(["doctor", "typo", "--output", "json"], env)
    findings = [f for f in json.loads(doctor.stdout) if f["id"] == "RC002"]
    assert [f["fix"] for f in findings] == [FIX]
    assert sandbox.calls() == 0
    # What it suggests works.
    fixed = run_rolecall(FIX.partition("? ")[2].split()[1:], env)
    assert fixed.returncode == 0, fixed.stderr
    result = run_rolecall(["whoami", "typo", "--output", "json"], env)
    assert result.returncode == 0, result.stderr
    assert ":assumed-role/deploy/" in json.loads(result.stdout)["Arn"]


def test_no_close_name_keeps_the_general_hint(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile a]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = zzzzzz\n"
                          "[profile b]\nregion = eu-west-1\n")  # fmt: skip
    result = run_rolecall(["env", "a"], aws_home.env)
    assert result.returncode == 3
    assert result.stderr.endswith("(hint: run `rolecall configure list-profiles` to see the profiles there are)\n")


def test_one_implementation() -> None:
    assert source_typo_fix("p", "prdo", ["prod", "dev"]) == (
        "did you mean 'prod'? rolecall configure set source_profile prod --profile p"
    )
    assert source_typo_fix("p", "zzz", ["prod"]) is None
    refusal = missing_source("p", "prdo", ["prod"])
    assert (refusal.rule, refusal.hint) == ("RC002", source_typo_fix("p", "prdo", ["prod"]))
