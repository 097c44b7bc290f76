"""The real AWS CLI as oracle: on every corpus file (tests/data/configure_corpus), each `configure set/get`
gives the same semantic result with rolecall as with `python -m awscli` (what botocore reads afterwards; what
get prints and its exit code), except the documented cases where rolecall is deliberately better
(docs/configure.md), listed in KNOWN_DIFFERENCES, which must really differ.

The AWS CLI runs in ONE subprocess for all cases (this module run as a script imports awscli.clidriver
and runs the commands one after another), since every AWS CLI start costs about half a second.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "data" / "configure_corpus"
FILES = sorted(p.name for p in CORPUS.glob("*.ini"))

# (id, argv after "configure", extra environment)
Op = tuple[str, list[str], dict[str, str]]
GENERIC_OPS: list[Op] = [
    ("set-region", ["set", "region", "us-west-2"], {}),
    ("set-dev-output", ["set", "output", "text", "--profile", "dev"], {}),
    ("set-dev-nested", ["set", "profile.dev.s3.max_concurrency", "20"], {}),
    ("set-new-profile", ["set", "region", "ap-south-1", "--profile", "new one"], {}),
    ("set-dev-key", ["set", "aws_access_key_id", "AKIANEWKEYEXAMPLE", "--profile", "dev"], {}),
    ("set-nested", ["set", "s3.addressing_style", "path"], {}),
    ("get-region", ["get", "region"], {}),
    ("get-dev-region", ["get", "region", "--profile", "dev"], {}),
    ("get-nested", ["get", "s3.max_concurrency"], {}),
    ("get-default-output", ["get", "default.output"], {}),
]
EXTRA_OPS: dict[str, list[Op]] = {
    "config-01-simple": [
        ("set-env-profile", ["set", "region", "sa-east-1"], {"AWS_PROFILE": "dev"}),
        ("set-env-default-profile", ["set", "output", "table"], {"AWS_DEFAULT_PROFILE": "dev"}),
        ("get-env-profile", ["get", "role_arn"], {"AWS_PROFILE": "dev"}),
        ("set-newline", ["set", "region", "a\nb"], {}),
        ("set-cr", ["set", "region", "a\rb"], {}),
        ("get-profile-only", ["get", "profile.dev"], {}),
        ("get-known-profile-dotted", ["get", "dev.role_arn"], {}),
        ("get-unknown-profile", ["get", "region", "--profile", "nope"], {}),
        ("set-deep", ["set", "default.a.b.c", "x"], {}),
        ("set-default-dotted", ["set", "default.region", "eu-north-1"], {"AWS_PROFILE": "dev"}),
        ("set-token", ["set", "aws_session_token", "tok"], {}),
        ("set-empty", ["set", "output", ""], {}),
    ],
    "config-06-nested-blocks": [
        ("get-block", ["get", "s3"], {}),
        ("set-sub-existing", ["set", "default.s3.max_concurrency", "99"], {}),
        ("set-api-versions", ["set", "api_versions.sts", "2011-06-15"], {}),
        ("get-api-versions", ["get", "api_versions.ec2"], {}),
        ("set-scalar-over-block", ["set", "s3", "flat"], {}),
    ],
    "config-07-nested-at-eof": [("set-dev-s3-sub", ["set", "s3.max_concurrency", "5", "--profile", "dev"], {})],
    "config-08-nested-then-blank-lines": [
        ("set-dev-s3-sub", ["set", "s3.multipart_chunksize", "8MB", "--profile", "dev"], {}),
    ],
    "config-09-quoted-names": [
        ("set-my-profile", ["set", "region", "us-east-2", "--profile", "my profile"], {}),
        ("get-my-profile", ["get", "output", "--profile", "my profile"], {}),
        ("set-single-q", ["set", "output", "json", "--profile", "single q"], {}),
        ("get-profile-dotted", ["get", "profile.single q.region"], {}),
    ],
    "config-10-spaced-headers": [("set-spaced", ["set", "output", "text", "--profile", "spaced"], {})],
    "config-16-key-case": [
        ("set-dev-region", ["set", "region", "eu-south-1", "--profile", "dev"], {}),
        ("get-upper", ["get", "Region"], {}),
        ("set-dev-upper-nested", ["set", "s3.max_concurrency", "8", "--profile", "dev"], {}),
    ],
    "config-17-colon-delimiter": [("set-dev-region", ["set", "region", "eu-south-1", "--profile", "dev"], {})],
    "config-18-odd-spacing": [("set-pager", ["set", "cli_pager", "more"], {})],
    "config-19-indented-keys": [
        ("set-dev-region", ["set", "region", "eu-south-1", "--profile", "dev"], {}),
        ("set-dev-new", ["set", "cli_pager", "", "--profile", "dev"], {}),
    ],
    "config-20-multiline-value": [("set-foo", ["set", "foo", "9"], {}), ("get-foo", ["get", "foo"], {})],
    "config-21-continuation-looks-like-header": [
        ("set-dev-region", ["set", "region", "eu-south-1", "--profile", "dev"], {}),
    ],
    "config-22-empty-values": [
        ("set-dev-s3-sub", ["set", "s3.max_concurrency", "1", "--profile", "dev"], {}),
        ("get-empty", ["get", "output"], {}),
    ],
    "config-23-special-characters-in-values": [
        ("set-hash", ["set", "region", "eu # x"], {}),
        ("get-pager", ["get", "cli_pager"], {}),
        ("get-x", ["get", "x"], {}),
        ("set-percent", ["set", "percent", "100%"], {}),
    ],
    "config-24-sso-and-services": [
        ("set-sso-role", ["set", "sso_role_name", "ReadOnly", "--profile", "dev"], {}),
        ("get-services", ["get", "services"], {}),
    ],
    "config-25-plugins-and-preview": [
        ("set-plugin", ["set", "plugins.endpoint", "other"], {}),
        ("get-plugin", ["get", "plugins.endpoint"], {}),
        ("set-preview", ["set", "preview.cloudsearch", "false"], {}),
        ("get-preview", ["get", "preview.cloudsearch"], {}),
        ("set-new-plugin", ["set", "plugins.new_one", "mod"], {}),
    ],
    "config-29-DEFAULT-section": [
        ("get-inherited", ["get", "cli_pager", "--profile", "dev"], {}),
        ("set-dev-pager", ["set", "cli_pager", "less", "--profile", "dev"], {}),
    ],
    "config-31-dotted-profile-name": [
        ("set-dotted-profile", ["set", "region", "r1", "--profile", "x.y"], {}),
        ("get-dotted-profile", ["get", "region", "--profile", "x.y"], {}),
        ("set-profile-dotted-split", ["set", "profile.x.y.region", "r2"], {}),
    ],
    "config-34-subkey-same-as-key": [("get-sub", ["get", "s3.region"], {})],
    "config-35-tab-indented-nested": [("set-tab-sub", ["set", "s3.max_queue_size", "5"], {})],
    "config-36-unicode": [
        ("set-cafe", ["set", "region", "eu-west-1", "--profile", "café"], {}),
        ("get-cafe", ["get", "region", "--profile", "café"], {}),
        ("set-unicode-value", ["set", "description", "☃ snow"], {}),
        ("get-description", ["get", "description"], {}),
    ],
    "config-37-key-with-spaces": [
        ("set-spaced-key", ["set", "some key", "other value"], {}),
        ("get-spaced-key", ["get", "some key"], {}),
    ],
    "config-39-realistic-mfa-roles": [
        ("set-prod-duration", ["set", "duration_seconds", "7200", "--profile", "prod"], {}),
        ("set-base-key", ["set", "aws_secret_access_key", "s3cr3t", "--profile", "base"], {}),
        ("get-prod-external", ["get", "external_id", "--profile", "prod"], {}),
    ],
    "config-42-two-spaces-in-name": [("set-two-spaces", ["set", "output", "json", "--profile", "two  spaces"], {})],
    "config-43-multiline-then-subkey-like": [("set-dev-region2", ["set", "region", "x", "--profile", "dev"], {})],
    "config-44-profile-named-like-section": [
        ("set-plugins-profile", ["set", "output", "json", "--profile", "plugins"], {}),
    ],
    "credentials-01-simple": [
        ("set-secret", ["set", "aws_secret_access_key", "newsecret"], {}),
        ("set-dev-token", ["set", "aws_session_token", "tok", "--profile", "dev"], {}),
        ("get-key", ["get", "aws_access_key_id"], {}),
        ("get-dev-secret", ["get", "aws_secret_access_key", "--profile", "dev"], {}),
    ],
    "credentials-02-crlf-comments": [
        ("set-literal-profile", ["set", "aws_access_key_id", "AKIAX", "--profile", "profile dev"], {}),
        ("set-dev-key2", ["set", "aws_access_key_id", "AKIAY", "--profile", "dev"], {}),
    ],
    "credentials-03-space-name-no-final-newline": [
        ("set-space-secret", ["set", "aws_secret_access_key", "s", "--profile", "a b"], {}),
        ("set-dev-token", ["set", "aws_session_token", "tok2", "--profile", "dev"], {}),
    ],
    "credentials-04-key-case": [
        ("set-key", ["set", "aws_access_key_id", "AKIANEW"], {}),
        ("set-upper-secret", ["set", "AWS_SECRET_ACCESS_KEY", "new"], {}),
    ],
}

# (file, op id) -> the deliberate difference (a section of docs/configure.md, "Deliberate differences").
_CASE = "keys are case-insensitive (Q1)"
_HEADERS = "headers are found as botocore reads them (Q2, Q3)"
_LAST = "the section botocore reads is edited (duplicates, [profile default])"
_WHOLE = "a scalar replaces a nested block or multi-line value whole (Q4)"
_NESTED_EOF = "a sub-key is added to an empty or final nested key (Q8)"
_CONTINUATION = "continuation lines are neither keys nor headers (Q5, Q6)"
_INDENT = "a rewritten line keeps its indentation"
_DEEP = "names nested too deep are refused"
_CRED_CASE = "credential keys are routed case-insensitively"
_PREDEFINED = "--profile plugins/preview names a profile"
_GET_CASE = "get matches keys case-insensitively"
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {
    ("config-01-simple", "set-deep"): _DEEP,
    ("config-06-nested-blocks", "set-scalar-over-block"): _WHOLE,
    ("config-07-nested-at-eof", "set-dev-nested"): _NESTED_EOF,
    ("config-07-nested-at-eof", "set-dev-s3-sub"): _NESTED_EOF,
    ("config-08-nested-then-blank-lines", "set-nested"): _NESTED_EOF,
    ("config-09-quoted-names", "set-my-profile"): _HEADERS,
    ("config-10-spaced-headers", "set-dev-output"): _HEADERS,
    ("config-10-spaced-headers", "set-dev-nested"): _HEADERS,
    ("config-10-spaced-headers", "set-spaced"): _HEADERS,
    ("config-11-duplicate-profile-sections", "set-dev-output"): _LAST,
    ("config-11-duplicate-profile-sections", "set-dev-nested"): _LAST,
    ("config-12-default-and-profile-default", "set-region"): _LAST,
    ("config-12-default-and-profile-default", "set-nested"): _LAST,
    ("config-13-only-profile-default", "set-region"): _LAST,
    ("config-13-only-profile-default", "set-nested"): _LAST,
    ("config-14-indented-header", "set-region"): _HEADERS,
    ("config-14-indented-header", "set-nested"): _HEADERS,
    ("config-16-key-case", "set-region"): _CASE,
    ("config-16-key-case", "set-dev-nested"): _CASE,
    ("config-16-key-case", "set-dev-region"): _CASE,
    ("config-16-key-case", "set-dev-upper-nested"): _CASE,
    ("config-16-key-case", "get-upper"): _GET_CASE,
    ("config-19-indented-keys", "set-region"): _INDENT,
    ("config-19-indented-keys", "set-dev-region"): _INDENT,
    ("config-20-multiline-value", "set-foo"): _WHOLE,
    ("config-21-continuation-looks-like-header", "set-nested"): _CONTINUATION,
    ("config-22-empty-values", "set-dev-nested"): _NESTED_EOF,
    ("config-22-empty-values", "set-dev-s3-sub"): _NESTED_EOF,
    ("config-34-subkey-same-as-key", "set-region"): _CONTINUATION,
    ("config-42-two-spaces-in-name", "set-two-spaces"): _HEADERS,
    ("config-44-profile-named-like-section", "set-plugins-profile"): _PREDEFINED,
    ("credentials-04-key-case", "set-key"): _CASE,
    ("credentials-04-key-case", "set-upper-secret"): _CRED_CASE,
}


def _ops(name: str) -> list[Op]:
    return GENERIC_OPS + EXTRA_OPS.get(name.removesuffix(".ini"), [])


def _jobs(workroot: Path) -> list[dict[str, Any]]:
    jobs = []
    for name in FILES:
        for op_id, argv, extra_env in _ops(name):
            jobs.append(
                {
                    "id": f"{name}::{op_id}",
                    "src": str(CORPUS / name),
                    "kind": "credentials" if name.startswith("credentials") else "config",
                    "argv": argv,
                    "env": extra_env,
                    "work": str(workroot / f"{name}--{op_id}"),
                }
            )
    return jobs


def _prepare(job: dict[str, Any], side: str) -> tuple[str, str]:
    work = Path(job["work"]) / side
    (work / ".aws").mkdir(parents=True)
    config, credentials = work / ".aws" / "config", work / ".aws" / "credentials"
    target = credentials if job["kind"] == "credentials" else config
    shutil.copyfile(job["src"], target)
    os.chmod(target, 0o600)
    return str(config), str(credentials)


def observe(config: str, credentials: str) -> dict[str, Any]:
    """What botocore reads from the two files afterwards (None: no file; a string: it cannot parse it)."""
    from botocore.configloader import load_config, raw_config_parse

    seen: dict[str, Any] = {}
    for label, path, loader in (("config", config, load_config), ("credentials", credentials, raw_config_parse)):
        if not os.path.exists(path):
            seen[label] = None
            continue
        try:
            seen[label] = loader(path)
        except Exception as error:
            seen[label] = f"unreadable: {type(error).__name__}"
    return seen


def _run_batch() -> None:
    """Script mode: run every job with the real AWS CLI in this one process; print results as JSON.

    Building an AWS CLI driver costs ~0.1 s, so one driver serves the jobs, with the botocore session's caches
    of the files and the profile reset between them (ROLECALL_ORACLE_FRESH=1 builds a new driver per job
    instead, to check that the reset is faithful). A file with a [plugins] section always gets a fresh driver:
    the AWS CLI loads plugins when the driver is built.
    """
    from awscli.clidriver import create_clidriver

    jobs = json.load(sys.stdin)
    results = {}
    base_env = dict(os.environ)
    fresh = os.environ.get("ROLECALL_ORACLE_FRESH") == "1"
    driver: Any = None
    overrides: dict[str, Any] = {}
    for job in jobs:
        config, credentials = _prepare(job, "aws")
        os.environ.clear()
        os.environ.update(base_env)
        os.environ.update(job["env"])
        os.environ["AWS_CONFIG_FILE"] = config
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = credentials
        if fresh or driver is None or "[plugins]" in Path(job["src"]).read_text():
            driver = create_clidriver()
            overrides = dict(driver.session.get_component("config_store")._overrides)
        else:
            session = driver.session
            session._config = session._profile = session._profile_map = session._credentials = None
            session._session_instance_vars.clear()
            store = session.get_component("config_store")
            store._overrides.clear()
            store._overrides.update(overrides)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = driver.main(["configure", *job["argv"]])
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 255
        results[job["id"]] = {
            "rc": code,
            "stdout": out.getvalue(),
            "stderr": err.getvalue(),
            "files": observe(config, credentials),
        }
    json.dump(results, sys.__stdout__)


def _run_rolecall(job: dict[str, Any], base_env: dict[str, str]) -> dict[str, Any]:
    from rolecall.cli.context import Context
    from rolecall.cli.main import main

    config, credentials = _prepare(job, "rolecall")
    env = base_env | job["env"] | {"AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": credentials}
    out, err = io.StringIO(), io.StringIO()
    code = main(["configure", *job["argv"]], Context(stdin=io.StringIO(), stdout=out, stderr=err, env=env))
    return {"rc": code, "stdout": out.getvalue(), "stderr": err.getvalue(), "files": observe(config, credentials)}


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLECALL_", "_AWS_", "BOTO"))}
    return env | {
        "HOME": str(home),
        "ROLECALL_HOME": str(home / ".rolecall"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",  # the AWS CLI wants a region for its session; `get` ignores env
        "AWS_PAGER": "",
    }


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Run every job with the AWS CLI (one subprocess) and with rolecall (in process): id -> (aws, rolecall)."""
    root = tmp_path_factory.mktemp("oracle")
    jobs = _jobs(root)
    env = _base_env(root / "home")
    batch = subprocess.run(
        [sys.executable, __file__],
        input=json.dumps(jobs),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert batch.returncode == 0, batch.stderr[-3000:]
    aws = json.loads(batch.stdout)
    return {job["id"]: (aws[job["id"]], _run_rolecall(job, env)) for job in jobs}


def _same(aws: dict[str, Any], ours: dict[str, Any]) -> bool:
    # Exit codes: success and "not found" (1) must match; an AWS CLI error (255, 252) is a rolecall error (>= 2),
    # whose number follows docs/exit-codes.md instead.
    if (aws["rc"] in (0, 1) or ours["rc"] in (0, 1)) and aws["rc"] != ours["rc"]:
        return False
    return aws["stdout"] == ours["stdout"] and aws["files"] == ours["files"]


def test_corpus_is_big_and_parseable() -> None:
    from botocore.configloader import raw_config_parse

    assert len(FILES) >= 40
    for name in FILES:
        raw_config_parse(str(CORPUS / name))


@pytest.mark.parametrize("name", FILES)
def test_same_result_as_the_aws_cli(name: str, outcomes: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    problems = []
    for op_id, argv, env in _ops(name):
        aws, ours = outcomes[f"{name}::{op_id}"]
        known = KNOWN_DIFFERENCES.get((name.removesuffix(".ini"), op_id))
        same = _same(aws, ours)
        if known is None and not same:
            problems.append(f"{op_id} {argv} {env}:\n  aws      {aws}\n  rolecall {ours}")
        if known is not None and same:
            problems.append(f"{op_id}: listed as a deliberate difference ({known}) but the results agree")
        # Whatever the AWS CLI does, rolecall never leaves a file botocore cannot read.
        for label, seen in ours["files"].items():
            if isinstance(seen, str):
                problems.append(f"{op_id}: rolecall left {label} unreadable")
        if ours["rc"] not in (0, 1):
            assert ours["stderr"].count("\n") == 1 and "(hint: " in ours["stderr"], ours["stderr"]
    assert not problems, "\n".join(problems)


if __name__ == "__main__":
    _run_batch()
