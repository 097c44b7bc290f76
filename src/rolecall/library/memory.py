"""An AssumeRole hop kept in this process's memory: ``rolecall.assume_role`` where the AWS CLI would not cache.

The AWS CLI caches only roles of profiles, under a key made of what a profile can say (``RoleArn``,
``RoleSessionName``, ``ExternalId``, ``SerialNumber``, ``DurationSeconds``). A role assumed from a boto3 Session
or from ``Credentials``, or with a session policy, tags or a source identity, has no such profile: its session
is kept here instead, per process, keyed by the caller's access key and every parameter except the MFA code,
and reused while at least ``WINDOW`` is left (the AWS CLI cache's 15 minutes).

``MemoryHop.retrieve`` is single-flight per hop: threads asking at once make one AssumeRole call.
"""

from __future__ import annotations

import threading

from rolecall.providers.result import Retrieved
from rolecall.timefmt import timedelta

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from rolecall.aws.settings import StsSettings
    from rolecall.credentials import Credentials
    from rolecall.providers.base import Runtime

__all__ = ["WINDOW", "MemoryHop", "forget_all"]

#: A kept session is reused while at least this much of it is left (as the AWS CLI's cache).
WINDOW = timedelta(minutes=15)

_KEPT: dict[tuple[str, str], Credentials] = {}
_KEPT_LOCK = threading.Lock()


def forget_all() -> None:
    """Drop every role session kept in memory (the next ``retrieve`` of each hop calls AssumeRole)."""
    with _KEPT_LOCK:
        _KEPT.clear()


def _params_key(params: Mapping[str, Any]) -> str:
    import json

    return json.dumps({k: v for k, v in params.items() if k != "TokenCode"}, sort_keys=True, default=str)


class MemoryHop:
    """One AssumeRole with the credentials of ``source``, kept in memory (see the module's docstring).

    A provider as the chain's are (``method``, ``retrieve``, ``cached``, ``explain``), so it can be refreshed by the
    same machinery; its MFA code comes from the runtime's code sources (``MfaInputs``), as for profiles.
    """

    method = "assume-role"

    def __init__(
        self,
        source: Callable[[], Credentials],
        params: Mapping[str, Any],
        settings: Callable[[], StsSettings],
        runtime: Runtime,
        *,
        generated_name: bool,
        describe_source: str,
    ) -> None:
        """``params``: AssumeRole's (STS's names; RoleSessionName included); ``generated_name``: the session name
        was made up by rolecall (it is then left out of the memory key, as the AWS CLI leaves it out of its key)."""
        from rolecall.providers.mfa_inputs import MfaInputs

        self.source = source
        self.params = dict(params)
        self.runtime = runtime
        self.inputs = MfaInputs(runtime, settings)
        self.describe_source = describe_source
        keyed = {k: v for k, v in self.params.items() if not (generated_name and k == "RoleSessionName")}
        self._key = _params_key(keyed)
        self._lock = threading.Lock()
        #: AssumeRole calls made by this hop (for tests and benchmarks).
        self.calls = 0

    def _kept(self, caller_key: str) -> Credentials | None:
        with _KEPT_LOCK:
            found = _KEPT.get((caller_key, self._key))
        if found is None or found.expiration is None:
            return None
        return found if found.expiration - self.runtime.clock() >= WINDOW else None

    def cached(self) -> Credentials | None:
        """Nothing is known without the source's credentials (the memory key holds the caller): always None."""
        return None

    def retrieve(self) -> Retrieved:
        """The kept session for the source's current credentials, else one AssumeRole (one per hop at a time)."""
        caller = self.source()
        hit = self._kept(caller.access_key_id)
        if hit is not None:
            return Retrieved.of(hit, origin="rolecall's memory", source_method=self.method, from_cache=True)
        with self._lock:
            hit = self._kept(caller.access_key_id)
            if hit is not None:
                return Retrieved.of(hit, origin="rolecall's memory", source_method=self.method, from_cache=True)
            return self._fetch(caller)

    def _fetch(self, caller: Credentials) -> Retrieved:
        from rolecall.aws import sts
        from rolecall.providers.base import refuse_expired
        from rolecall.providers.caching import assumed_arn

        settings = self.inputs.settings()
        serial = self.params.get("SerialNumber")
        self.calls += 1
        if serial:
            response = self.inputs.send_with_code(
                serial, lambda code: sts.assume_role(settings, caller, **self.params, TokenCode=code)
            )
        else:
            response = sts.assume_role(settings, caller, **self.params)
        credentials = refuse_expired(
            sts.credentials_from_response(response), f"STS (AssumeRole of {self.params['RoleArn']})",
            self.runtime.clock(),
        )  # fmt: skip
        with _KEPT_LOCK:
            _KEPT[(caller.access_key_id, self._key)] = credentials
        return Retrieved.of(
            credentials,
            origin="a new AssumeRole call" + (" with an MFA code" if serial else ""),
            identity_arn=assumed_arn(response),
            source_method=self.method,
        )

    def explain(self) -> list[str]:
        """The plan of a retrieve: AssumeRole with the source's credentials, kept in memory."""
        return [f"AssumeRole {self.params['RoleArn']} with {self.describe_source}, kept in this process's memory"]
