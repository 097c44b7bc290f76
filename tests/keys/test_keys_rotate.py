"""``keys rotate`` (issue 11) against the sandbox: moto's IAM shows the old key deleted and the new one active,
and a failure at each step (create, store, verify, delete) leaves a stored key that works."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from conftest import AwsHome, run_rolecall
from rolecall.aws import sts
from rolecall.aws.settings import StsSettings
from rolecall.aws.transport import Transport
from rolecall.errors import AwsError, ExitCode
from rolecall.keys.filestore import EncryptedFileStore
from rolecall.keys.rotate import rotate_key
from rolecall.keys.store import KeyStoreError, StoredKey
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture
from test_keys_store import PASSPHRASE, keys_env


def _iam_keys(sb: Sandbox, user: str = "alice") -> dict[str, str]:
    """{access key id: status} of ``user`` as moto's IAM has them."""
    iam = boto3.client("iam", endpoint_url=sb.endpoint_url, region_name="us-east-1",
                       aws_access_key_id=sb.access_key_id, aws_secret_access_key=sb.secret_access_key)  # fmt: skip
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


def _works(sb: Sandbox, key: StoredKey) -> bool:
    settings = StsSettings(region="us-east-1", endpoint_url=sb.endpoint_url)
    try:
        return bool(sts.get_caller_identity(settings, key.credentials())["Arn"] == sb.user_arn)
    except AwsError:
        return False


def _cli_env(sb: Sandbox, home: AwsHome) -> dict[str, str]:
    env = seeded_env(sb, home, base=keys_env(home, "file"))
    done = run_rolecall(["keys", "import", "default"], env)
    assert done.returncode == 0, done.stderr
    return env


def _file_store(home: AwsHome) -> EncryptedFileStore:
    return EncryptedFileStore(str(home.root / ".aws" / "rolecall" / "keys.enc"), lambda creating: PASSPHRASE)


def test_rotate_replaces_the_key_everywhere(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _cli_env(sandbox, aws_home)
    old = sandbox.access_key_id
    done = run_rolecall(["keys", "rotate", "default"], env)
    assert done.returncode == 0, done.stderr
    stored = _file_store(aws_home).get("default")
    assert stored is not None and stored.access_key_id != old
    assert _iam_keys(sandbox) == {stored.access_key_id: "Active"}
    assert _works(sandbox, stored)
    assert _file_store(aws_home).get("default", pending=True) is None
    assert stored.secret_access_key not in done.stdout + done.stderr
    whoami = run_rolecall(["whoami", "readonly"], env)  # a role whose source is the rotated key
    assert whoami.returncode == 0 and "assumed-role/readonly" in whoami.stdout


def test_rotate_through_the_mfa_session_when_the_profile_has_mfa_serial(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = _cli_env(sandbox, aws_home)
    with open(env["AWS_CONFIG_FILE"]) as handle:
        text = handle.read()
    with open(env["AWS_CONFIG_FILE"], "w") as handle:
        handle.write(text.replace("[default]\n", f"[default]\nmfa_serial = {sandbox.mfa_serial}\n", 1))
    done = run_rolecall(["keys", "rotate", "default", "--token-code", sandbox.fresh_code()], env)
    assert done.returncode == 0, done.stderr
    assert sandbox.calls("GetSessionToken") == 1
    stored = _file_store(aws_home).get("default")
    assert stored is not None and _iam_keys(sandbox) == {stored.access_key_id: "Active"}


def test_a_failed_create_changes_nothing(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _cli_env(sandbox, aws_home)
    sandbox.inject_iam_fault("CreateAccessKey", "error500", times=20)  # more than botocore's retries
    done = run_rolecall(["keys", "rotate", "default"], env)
    sandbox.clear_faults()
    assert done.returncode == ExitCode.AWS and "CreateAccessKey" in done.stderr
    stored = _file_store(aws_home).get("default")
    assert stored == StoredKey(sandbox.access_key_id, sandbox.secret_access_key)
    assert _iam_keys(sandbox) == {sandbox.access_key_id: "Active"} and _works(sandbox, stored)


class _FailingStore(EncryptedFileStore):
    """A real file store whose writes of the chosen kind fail (a keychain that locks, a full disk)."""

    def __init__(self, path: str, fail_pending: bool) -> None:
        super().__init__(path, lambda creating: PASSPHRASE)
        self.fail_pending = fail_pending

    def put(self, profile: str, key: StoredKey, *, pending: bool = False) -> None:
        if pending == self.fail_pending:
            raise KeyStoreError("cannot write to the store: injected", hint="test")
        super().put(profile, key, pending=pending)


@pytest.mark.parametrize("fail_pending", [True, False], ids=["pending-slot", "swap"])
def test_a_failed_store_deletes_the_new_key_again(
    sandbox: Sandbox, aws_home: AwsHome, fail_pending: bool  # noqa: F811
) -> None:
    _cli_env(sandbox, aws_home)
    store = _FailingStore(str(aws_home.root / ".aws" / "rolecall" / "keys.enc"), fail_pending)
    settings = StsSettings(region="us-east-1", endpoint_url=sandbox.endpoint_url)
    with pytest.raises(KeyStoreError) as caught:
        rotate_key("default", store, settings, sleep=lambda seconds: None)
    assert "was deleted again" in caught.value.message and "still stored and works" in str(caught.value.hint)
    stored = _file_store(aws_home).get("default")
    assert stored == StoredKey(sandbox.access_key_id, sandbox.secret_access_key) and _works(sandbox, stored)
    assert _iam_keys(sandbox) == {sandbox.access_key_id: "Active"}
    assert _file_store(aws_home).get("default", pending=True) is None


class _NotYetPropagated(Transport):
    """A transport on which STS refuses any key but ``old_key_id`` ``times`` times (IAM's propagation delay, as AWS
    shows it); every other call goes to the sandbox. ``refused`` counts the refusals."""

    def __init__(self, old_key_id: str, times: int) -> None:
        super().__init__()
        self.old_key_id, self.times, self.refused = old_key_id, times, 0

    def call(
        self, operation: str, settings: StsSettings, credentials: Any, params: Any, signed: bool = True
    ) -> dict[str, Any]:
        new_key = credentials.access_key_id != self.old_key_id
        if operation == "GetCallerIdentity" and new_key and self.refused < self.times:
            self.refused += 1
            raise AwsError("GetCallerIdentity refused: InvalidClientTokenId", code="InvalidClientTokenId")
        return super().call(operation, settings, credentials, params, signed)


def test_verification_waits_for_propagation_with_backoff(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    _cli_env(sandbox, aws_home)
    transport = _NotYetPropagated(sandbox.access_key_id, times=3)
    slept: list[float] = []
    settings = StsSettings(region="us-east-1", endpoint_url=sandbox.endpoint_url)
    result = rotate_key("default", _file_store(aws_home), settings, sleep=slept.append, transport=transport)
    assert transport.refused == 3
    assert slept == [0.5, 1.0, 2.0] and result.verify_attempts == 4
    assert _iam_keys(sandbox) == {result.new_access_key_id: "Active"}


def test_a_key_that_never_verifies_is_deleted_again(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    _cli_env(sandbox, aws_home)
    transport = _NotYetPropagated(sandbox.access_key_id, times=1000)
    slept: list[float] = []
    settings = StsSettings(region="us-east-1", endpoint_url=sandbox.endpoint_url)
    with pytest.raises(AwsError) as caught:
        rotate_key("default", _file_store(aws_home), settings, sleep=slept.append, attempts=5, transport=transport)
    assert transport.refused == 5 and slept == [0.5, 1.0, 2.0, 4.0]  # bounded
    assert "did not work after 5 tries" in caught.value.message and "deleted again" in caught.value.message
    stored = _file_store(aws_home).get("default")
    assert stored == StoredKey(sandbox.access_key_id, sandbox.secret_access_key)
    assert _iam_keys(sandbox) == {sandbox.access_key_id: "Active"}
    assert _works(sandbox, stored)


def test_a_failed_delete_keeps_the_new_key_and_says_what_to_do(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = _cli_env(sandbox, aws_home)
    old = sandbox.access_key_id
    sandbox.inject_iam_fault("DeleteAccessKey", "error500", times=20)
    done = run_rolecall(["keys", "rotate", "default"], env)
    sandbox.clear_faults()
    assert done.returncode == ExitCode.AWS
    assert "is stored and works, but deleting the old key" in done.stderr
    assert f"aws iam delete-access-key --user-name alice --access-key-id {old}" in done.stderr
    stored = _file_store(aws_home).get("default")
    assert stored is not None and stored.access_key_id != old and _works(sandbox, stored)
    assert _iam_keys(sandbox) == {old: "Active", stored.access_key_id: "Active"}
