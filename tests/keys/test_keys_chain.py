"""How the chain recognises stored keys (issue 11): the exact credential_process forms resolved in-process, the
rest left to a subprocess; and a cached role whose source is a stored key still imports nothing heavy."""

from __future__ import annotations

import sys

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.errors import ExitCode
from rolecall.providers.keystore import KeystoreProvider, credential_process_command, stored_key_name
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture
from test_import_cost import HEAVY, HOT_PATH_EXTRA, _probe
from test_keys_store import keys_env


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("rolecall credential-process --keys prod", "prod"),
        ("/usr/local/bin/rolecall credential-process --keys prod", "prod"),
        ("rolecall credential-process --keys=prod", "prod"),
        ("python3 -m rolecall credential-process --keys prod", "prod"),
        (f"{sys.executable} -m rolecall credential-process --keys 'my profile'", "my profile"),
        (credential_process_command("it's"), "it's"),
        ("rolecall credential-process prod", None),  # a profile, not stored keys: run as any credential_process
        ("rolecall credential-process --keys prod --verify", None),
        ("bin/rolecall credential-process --keys prod", None),  # relative paths: not known to be rolecall
        ("myrolecall credential-process --keys prod", None),
        ("rolecall credential-process --keys", None),
        ("rolecall credential-process --keys 'unbalanced", None),
        ("aws-vault exec x --json", None),
    ],
)
def test_which_commands_are_resolved_in_process(command: str, name: str | None) -> None:
    assert stored_key_name(command) == name


def test_the_provider_is_long_term_without_opening_the_store(aws_home: AwsHome) -> None:
    from rolecall.config.paths import AwsPaths

    provider = KeystoreProvider("x", {"ROLECALL_KEYS_BACKEND": "file"}, AwsPaths.from_env(aws_home.env))
    assert provider.cached_is_temporary() is False
    assert provider.description == "the encrypted key file"


def test_credential_process_usage(aws_home: AwsHome) -> None:
    env = keys_env(aws_home, "file")
    assert run_rolecall(["credential-process"], env).returncode == ExitCode.USAGE
    assert run_rolecall(["credential-process", "prod", "--keys", "prod"], env).returncode == ExitCode.USAGE


def test_a_cached_role_from_a_stored_key_imports_nothing_heavy(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home, base=keys_env(aws_home, "file"))
    assert run_rolecall(["keys", "import", "default"], env).returncode == 0
    assert run_rolecall(["assume", "readonly"], env).returncode == 0
    calls = sandbox.calls()
    for argv, forbidden in ((["env", "readonly"], HEAVY | HOT_PATH_EXTRA), (["assume", "readonly"], HEAVY)):
        result = _probe(env, argv)
        assert result["code"] == 0, result["err"]
        loaded = set(result["loaded"])  # type: ignore[arg-type]
        assert loaded & (forbidden | {"keyring", "cryptography"}) == set(), sorted(loaded & forbidden)
    assert sandbox.calls() == calls
