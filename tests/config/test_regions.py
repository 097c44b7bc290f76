"""Region names against the partitions botocore ships (rolecall.regions): in doctor (RC015), at run time when the
endpoint cannot be reached, never on the cached path; and doctor with no files at all."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import botocore.exceptions
import pytest

from conftest import AwsHome, run_rolecall
from rolecall import regions
from rolecall.aws.settings import StsSettings
from rolecall.aws.transport.translate import translate
from rolecall.cli import main as cli_main
from rolecall.cli.context import Context
from rolecall.errors import NetworkError
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env

KEYS = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMIEXAMPLEKEY\n"


@pytest.mark.parametrize(
    ("region", "kind", "suggestion"),
    [
        ("eu-wset-1", regions.UNKNOWN, "eu-west-1"),  # the typo
        ("us-esat-1", regions.UNKNOWN, "us-east-1"),  # two letters swapped
        ("useast1", regions.UNKNOWN, "us-east-1"),
        ("eu-west1", regions.UNKNOWN, "eu-west-1"),
        ("europe-west1", regions.UNKNOWN, None),  # another cloud's name: nothing close
        ("local", regions.UNKNOWN, None),
        ("us-west-2a", regions.ZONE, "us-west-2"),
        ("us-west-2-lax-1a", regions.ZONE, "us-west-2"),  # a Local Zone
        ("us-gov-west-1b", regions.ZONE, "us-gov-west-1"),
        ("EU-WEST-1", regions.CASE, "eu-west-1"),
        ("ap-southeast-9", regions.PLAUSIBLE, None),  # a region opened after this botocore
        ("eu-central-3", regions.PLAUSIBLE, None),
    ],
)
def test_advice_against_the_installed_botocore(region: str, kind: str, suggestion: str | None) -> None:
    advice = regions.advise(region)
    assert advice is not None
    assert (advice.kind, advice.suggestion) == (kind, suggestion)
    assert advice.is_problem == (kind != regions.PLAUSIBLE)
    assert region in advice.message and (suggestion is None or suggestion in advice.message)


def test_every_region_botocore_lists_is_fine_and_its_zones_are_zones() -> None:
    known = regions.known_regions()
    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"} <= known
    for region in known:
        assert regions.advise(region) is None, region
        if region[-1].isdigit():
            zone = regions.advise(region + "c")
            assert zone is not None and (zone.kind, zone.suggestion) == (regions.ZONE, region)


def test_the_table_is_botocores_and_read_without_importing_botocore() -> None:
    path = regions.data_file()
    assert path is not None and Path(path).parent.parent == Path(botocore.__file__).parent
    probe = ("import sys\nfrom rolecall import regions\nassert regions.advise('eu-wset-1').suggestion == 'eu-west-1'\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_an_older_botocore_table_and_no_table(tmp_path: Path) -> None:
    """Before partitions.json, endpoints.json held the same list under ``partition``; without a table nothing is
    known and nothing is advised (the syntax check alone applies)."""
    table = tmp_path / "endpoints.json"
    table.write_text(json.dumps({"partitions": [{"partition": "aws", "regionRegex": r"^(us|eu)\-\w+\-\d+$",
                                                 "regions": {"eu-west-1": {}, "us-east-1": {}}, "services": {}}]}))
    partitions = regions.load_partitions(str(table))
    assert [p.id for p in partitions] == ["aws"]
    advice = regions.advise("eu-wset-1", partitions)
    assert advice is not None and advice.suggestion == "eu-west-1"
    assert regions.advise("us-east-1", partitions) is None
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert regions.load_partitions(str(broken)) == ()
    assert regions.load_partitions(str(tmp_path / "missing.json")) == ()
    assert regions.advise("eu-wset-1", ()) is None


# --- doctor ---------------------------------------------------------------------------------------------------


def _doctor(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main.main(["doctor", *args], Context(io.StringIO(), out, err, dict(env)))
    return code, out.getvalue(), err.getvalue()


def test_doctor_names_the_typo_and_the_zone(aws_home: AwsHome) -> None:
    aws_home.write_config(
        "[default]\nregion = eu-wset-1\n"
        "[profile az]\nregion = us-west-2a\n"
        "[profile local]\nregion = anything-goes\nendpoint_url = http://127.0.0.1:4566\n"  # its own endpoint
        "[profile upper]\nregion = EU-WEST-1\n"
        "[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-esat-1\n"
    )
    aws_home.write_credentials(KEYS)
    code, out, err = _doctor(aws_home.env)
    lines = out.splitlines()
    assert code == 0 and "4 warning(s)" in err  # warnings: the files still parse and resolve
    assert lines[0] == ('RC015 profile "default": region: "eu-wset-1" is not an AWS region (did you mean eu-west-1?) '
                        f"({aws_home.config} line 2) — fix: rolecall configure set region eu-west-1 --profile default")
    assert '"us-west-2a" is an availability zone; the region is us-west-2' in lines[1]
    assert "rolecall configure set region us-west-2 --profile az" in lines[1]
    assert 'region names are lower case: "EU-WEST-1" is eu-west-1' in lines[2]
    assert lines[3].startswith('RC015 sso-session "corp": sso_region: "us-esat-1" is not an AWS region (did you '
                               "mean us-east-1?)") and lines[3].endswith("— fix: edit line 12 of the config file: "
                                                                          "sso_region = us-east-1")
    assert len(lines) == 4
    assert _doctor(aws_home.env, "--strict")[0] == 3
    # A profile with its own endpoint may call its region anything (the sso-session's line is about no profile).
    assert _doctor(aws_home.env, "local")[1] == lines[3] + "\n"


def test_doctor_with_no_files_says_so(aws_home: AwsHome) -> None:
    assert not aws_home.config.exists() and not aws_home.credentials.exists()
    code, out, err = _doctor(aws_home.env)
    assert (code, out) == (0, "")
    assert "nothing to check: neither" in err and str(aws_home.config) in err and "no problems found" not in err
    assert _doctor(aws_home.env, "--strict")[0] == 3
    assert _doctor(aws_home.env, "--output", "json")[1] == "[]\n"
    aws_home.write_credentials(KEYS)  # one file is enough to be checked
    assert "no problems found" in _doctor(aws_home.env)[2]


# --- run time -------------------------------------------------------------------------------------------------


def test_an_unreachable_endpoint_names_the_profile_and_the_region() -> None:
    """The translation of botocore's own EndpointConnectionError, for a typo, a zone and a good region."""
    def translated(region: str, profile: str | None = "prod") -> NetworkError:
        error = botocore.exceptions.EndpointConnectionError(endpoint_url=f"https://sts.{region}.amazonaws.com/")
        result = translate(error, "AssumeRole", StsSettings(region=region, profile=profile), {}, None)
        assert isinstance(result, NetworkError)
        return result

    typo = translated("eu-wset-1")
    assert typo.message == ('could not reach the STS endpoint https://sts.eu-wset-1.amazonaws.com/ for AssumeRole '
                            '(profile "prod", region eu-wset-1)')
    assert typo.hint is not None and typo.hint.startswith('"eu-wset-1" is not an AWS region (did you mean eu-west-1?)')
    assert "rolecall configure set region eu-west-1 --profile prod" in typo.hint
    zone = translated("us-west-2a", profile=None)
    assert zone.message.endswith("(region us-west-2a)")
    assert zone.hint is not None and "availability zone; the region is us-west-2" in zone.hint
    good = translated("eu-west-1")
    assert good.hint is not None and good.hint.startswith("check the network")
    # The profile takes no part in how clients are cached.
    assert StsSettings(region="eu-west-1", profile="a").cache_key() == StsSettings(region="eu-west-1").cache_key()


def _no_network() -> list[str]:
    """A prefix that runs a command in a network namespace of its own (nothing, not even DNS, leaves it)."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode:
        pytest.skip("unshare -rn (a user and network namespace) is not available here")
    return ["unshare", "-rn"]


def test_at_run_time_the_typo_is_named(aws_home: AwsHome) -> None:
    """rolecall env of a role profile with region = eu-wset-1, run where no packet can leave: the STS host cannot
    be resolved, and the message names the profile, the region and the region meant."""
    prefix = _no_network()
    aws_home.write_config("[profile prod]\nregion = eu-wset-1\nrole_arn = arn:aws:iam::111122223333:role/r\n"
                          "source_profile = default\n")
    aws_home.write_credentials(KEYS)
    done = subprocess.run([*prefix, sys.executable, "-m", "rolecall", "env", "prod"],
                          env={**aws_home.env, "AWS_MAX_ATTEMPTS": "1"}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 6, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "https://sts.eu-wset-1.amazonaws.com/" in done.stderr and '(profile "prod", region eu-wset-1)' in done.stderr
    assert "did you mean eu-west-1?" in done.stderr


PROBE = """
import io, os, sys
from rolecall.cli.context import Context
from rolecall.cli.main import main
code = main(sys.argv[1:], Context(io.StringIO(), io.StringIO(), io.StringIO(), dict(os.environ)))
sys.__stdout__.write(repr((code, sorted(m for m in sys.modules if m.startswith("rolecall")))))
"""


def test_the_cached_path_pays_nothing_for_regions(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    assert run_rolecall(["assume", "ops"], env).returncode == 0
    calls = sandbox.calls()
    done = subprocess.run([sys.executable, "-c", PROBE, "env", "ops"], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    code, loaded = eval(done.stdout)  # the probe's own repr of (int, list[str])
    assert code == 0 and sandbox.calls() == calls
    assert not {"rolecall.regions", "rolecall.config.resolverrules", "rolecall.config.lint"} & set(loaded)
