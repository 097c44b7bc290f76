"""The contract between the chain builder and a credential source: what a source's ``build(context, profile)``
receives, and the factory type the registry (``providers.chain.SOURCES``) holds.

Sources import these names under ``TYPE_CHECKING`` only, so this module is never loaded at run time by them;
it exists so that a source depends on the contract, not on the chain builder that uses it (no import circle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.config.parse import ConfigFiles
    from rolecall.config.profiles import Profile
    from rolecall.providers.base import Provider, Runtime
    from rolecall.providers.mfa_inputs import MfaInputs

__all__ = ["BuildContext", "SourceFactory"]


class BuildContext(Protocol):
    """What a source's ``build(context, profile)`` may use: the files, the runtime, the MFA inputs, and where to
    record why it was chosen."""

    files: ConfigFiles
    runtime: Runtime
    inputs: MfaInputs

    def decide(self, sentence: str) -> None:
        """Record why this source was chosen (``--explain`` shows the sentences in order)."""

    def path(self, which: str) -> str:
        """`` (~/.aws/credentials)``: the file ``which`` (an ``AwsPaths`` attribute) for messages, or nothing."""


#: A source's factory: the provider for a profile of its kind, or None when the profile turns out to have none.
SourceFactory = Callable[[BuildContext, "Profile"], "Provider | None"]
