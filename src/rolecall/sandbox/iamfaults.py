"""IAM in the sandbox: moto answers every IAM request; this app only puts the queued IAM faults in front."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rolecall.sandbox import awsxml
from rolecall.sandbox.awsxml import StsError
from rolecall.sandbox.router import Incoming, incoming
from rolecall.sandbox.state import SandboxState
from rolecall.sandbox.wsgi import status_line

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class IamFaults:
    """WSGI app for requests signed for ``iam``: a fault queued for the action answers, else ``moto`` does."""

    def __init__(self, moto: WSGIApplication, state: SandboxState) -> None:
        """Take faults from ``state`` (as ``"iam:CreateAccessKey"``) and pass the rest to ``moto``."""
        self.moto = moto
        self.state = state

    @staticmethod
    def serves(request: Incoming) -> bool:
        """True for requests signed for the ``iam`` service."""
        return request.auth is not None and request.auth.service == "iam"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer with the queued fault's error, or (after a "slow" fault's delay) let moto answer."""
        request = incoming(environ)
        refused = self._fault(request.action)
        if refused is None:
            return self.moto(request.environ, start_response)
        request_id = awsxml.new_request_id()
        payload = refused.to_xml(request_id)
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        start_response(status_line(refused.status), [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    def _fault(self, action: str) -> StsError | None:
        """The error for a fault queued for IAM ``action`` (``"*"`` is for STS only)."""
        with self.state.lock:
            queue = self.state.faults.get(f"iam:{action}")
            fault = queue.popleft() if queue else None
        if fault is None:
            return None
        if fault.kind == "throttle":
            return awsxml.throttling()
        if fault.kind == "error500":
            return awsxml.internal_failure()
        time.sleep(fault.delay)  # "slow": answered by moto, late
        return None
