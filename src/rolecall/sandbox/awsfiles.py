"""The files the sandbox writes for its clients: the AWS config and credentials files of the seeded
account (seeded data: docs/sandbox.md lists these profiles) and botocore's SSO token cache."""

from __future__ import annotations

import hashlib
import json
import os

from rolecall.sandbox.account import ACCOUNT_ID, DEFAULT_REGION, PARTNER_EXTERNAL_ID, SandboxUser, role_arn
from rolecall.sandbox.identitycenter import SSO_REGION, SSO_SESSION_NAME, SSO_START_URL
from rolecall.sandbox.ssomodel import ACCOUNT_ACCESS_SCOPE


def profiles_config(endpoint: str, federation_endpoint: str, mfa_serial: str) -> str:
    """The text of an AWS config file with the seeded profiles, pointing at the sandbox at ``endpoint``."""
    sections = [
        ("default", {}),
        ("profile readonly", {"role_arn": role_arn("readonly"), "source_profile": "default"}),
        ("profile admin", {"role_arn": role_arn("admin"), "source_profile": "default", "mfa_serial": mfa_serial}),
        (
            "profile partner",
            {"role_arn": role_arn("partner"), "source_profile": "default", "external_id": PARTNER_EXTERNAL_ID},
        ),
        ("profile deploy", {"role_arn": role_arn("deploy"), "source_profile": "readonly"}),
        ("profile ops", {"role_arn": role_arn("ops"), "source_profile": "deploy"}),
        (
            "profile sso-admin",
            {"sso_session": SSO_SESSION_NAME, "sso_account_id": ACCOUNT_ID, "sso_role_name": "AdministratorAccess"},
        ),
        (
            "profile sso-readonly",
            {"sso_session": SSO_SESSION_NAME, "sso_account_id": ACCOUNT_ID, "sso_role_name": "ReadOnlyAccess"},
        ),
        (
            "profile sso-legacy",
            {
                "sso_start_url": SSO_START_URL,
                "sso_region": SSO_REGION,
                "sso_account_id": ACCOUNT_ID,
                "sso_role_name": "ReadOnlyAccess",
            },
        ),
        ("profile sso-chained", {"role_arn": role_arn("readonly"), "source_profile": "sso-admin"}),
    ]
    lines: list[str] = []
    for header, values in sections:
        lines.append(f"[{header}]")
        lines += [f"{key} = {value}" for key, value in values.items()]
        # rolecall's own key: `rolecall console` signs in through the sandbox's federation endpoint.
        lines += [f"region = {DEFAULT_REGION}", f"endpoint_url = {endpoint}",
                  f"console_federation_endpoint = {federation_endpoint}", ""]  # fmt: skip
    # An sso-session takes no region or endpoint: the profiles using it carry those.
    lines += [
        f"[sso-session {SSO_SESSION_NAME}]",
        f"sso_start_url = {SSO_START_URL}",
        f"sso_region = {SSO_REGION}",
        f"sso_registration_scopes = {ACCOUNT_ACCESS_SCOPE}",
        "",
    ]
    return "\n".join(lines)


def credentials_file(user: SandboxUser) -> str:
    """The text of an AWS credentials file with ``user``'s long-term keys as ``default``."""
    return f"[default]\naws_access_key_id = {user.access_key_id}\naws_secret_access_key = {user.secret_access_key}\n"


def write_aws_files_in(folder: str | os.PathLike[str], config: str, credentials: str, endpoint: str) -> dict[str, str]:
    """Write ``FOLDER/config`` and ``FOLDER/credentials`` (0600); return the environment variables that point
    the AWS CLI, boto3 and rolecall at them and at the sandbox at ``endpoint``: AWS_CONFIG_FILE,
    AWS_SHARED_CREDENTIALS_FILE, AWS_ENDPOINT_URL, AWS_DEFAULT_REGION and AWS_REGION."""
    folder = os.fspath(folder)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    config_path = os.path.join(folder, "config")
    credentials_path = os.path.join(folder, "credentials")
    for path, text in ((config_path, config), (credentials_path, credentials)):
        write_private(path, text)
    return {
        "AWS_CONFIG_FILE": config_path,
        "AWS_SHARED_CREDENTIALS_FILE": credentials_path,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": DEFAULT_REGION,
        "AWS_REGION": DEFAULT_REGION,
    }


def write_sso_token_cache(home: str | os.PathLike[str], entry: dict[str, str], legacy: bool = False) -> str:
    """Write the token-cache ``entry`` to ``HOME/.aws/sso/cache`` (0600) where botocore looks; return the path.

    The file is named for the ``sandbox`` sso-session, or with ``legacy`` for the start URL.
    """
    folder = os.path.join(os.fspath(home), ".aws", "sso", "cache")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    key = SSO_START_URL if legacy else SSO_SESSION_NAME
    path = os.path.join(folder, hashlib.sha1(key.encode()).hexdigest() + ".json")
    write_private(path, json.dumps(entry))
    return path


def write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (it holds keys or an MFA seed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    # O_CREAT's mode does not apply to a file that already existed.
    os.chmod(path, 0o600)
