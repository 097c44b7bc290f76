"""Compatibility facade: the names of the old ``rolecall.sts`` ("everything AWS"), now in ``rolecall.aws``.

This module goes away once its last importers move to ``rolecall.aws``: ``providers/`` (chain, session_token,
botocore_source, web_identity, assume_role, mfa_inputs), ``session.py``, ``cli/commands/`` (console, doctor,
add_role, keys) and the tests test_resolve_chains, test_server_sandbox and test_trust_processes. It holds one
function (see ``get_federation_token``); nothing should be patched here (pass a
``rolecall.aws.transport.Transport`` instead).
"""

from __future__ import annotations

from rolecall.aws.iam import list_mfa_devices
from rolecall.aws.settings import StsSettings, resolve_settings
from rolecall.aws.sts import (
    assume_role,
    assume_role_with_web_identity,
    credentials_from_response,
    get_caller_identity,
    get_session_token,
    server_time,
)
from rolecall.aws.transport.sources import botocore_source_credentials, imds_region

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rolecall.aws.settings import StsSettings as _Settings
    from rolecall.credentials import Credentials


def get_federation_token(settings: _Settings, credentials: Credentials | None, **params: Any) -> dict[str, Any]:
    """``rolecall.aws.sts.get_federation_token`` through the default transport. A function rather than the name
    itself only because cli/commands/console.py passes ``**dict[str, object]``, which mypy will not match against
    the ``transport`` keyword; goes with this module."""
    from rolecall.aws.sts import get_federation_token as call

    return call(settings, credentials, **params)

__all__ = [
    "StsSettings",
    "assume_role",
    "assume_role_with_web_identity",
    "botocore_source_credentials",
    "credentials_from_response",
    "get_caller_identity",
    "get_federation_token",
    "get_session_token",
    "imds_region",
    "list_mfa_devices",
    "resolve_settings",
    "server_time",
]
