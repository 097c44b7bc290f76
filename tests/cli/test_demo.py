"""`rolecall demo` runs start to finish against the sandbox and never shows a secret."""

from __future__ import annotations

import re

from conftest import AwsHome, run_rolecall


def test_demo_runs_start_to_finish(aws_home: AwsHome) -> None:
    result = run_rolecall(["demo"], aws_home.env, timeout=180)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    for expected in (
        "configure set aws_access_key_id",
        '"Arn": "arn:aws:iam::123456789012:user/alice"',
        "assumed-role/readonly/demo-readonly",
        "AccessDenied",
        "assumed-role/admin/demo-admin",
        "from the AWS CLI cache",
        "MFA strategy reuse",
        "export AWS_ACCESS_KEY_ID=",
        "assumed-role/readonly/",
        "and enter the code",  # the IAM Identity Center login
        "assumed-role/AWSReservedSSO_AdministratorAccess_",
        "assumed-role/partner/",  # a role chained from the SSO role
        "3 profiles for 2 accounts",
        "no change to",
        "the sandbox console says: signed in as arn:aws:sts::123456789012:assumed-role/readonly/",
        "Done.",
    ):
        assert expected in out, expected
    # Secret keys (40 chars of base64) and session tokens are never shown whole.
    for line in out.splitlines():
        if '"SecretAccessKey"' in line or "AWS_SECRET_ACCESS_KEY=" in line or '"SessionToken"' in line:
            assert "(hidden)" in line, line
    # The sign-in URL's PKCE code_challenge (43 characters of base64url) is public by design: it is a hash of the
    # verifier, which never leaves rolecall. About one run in four it has no '-' or '_' and looks like a key.
    public = re.sub(r"code_challenge=[A-Za-z0-9_-]+", "code_challenge=(public)", out)
    runs = re.findall(r"[A-Za-z0-9/+]{40,}", public)
    # 40 hex digits are cache file names (SHA-1), not secrets; a secret key has other characters too.
    assert [run for run in runs if not re.fullmatch(r"[0-9a-f]{40}", run)] == [], "a secret was printed"
    # The throwaway folder is gone and the real ~/.aws untouched (HOME is the test's own).
    assert not (aws_home.root / ".aws" / "config").exists()
