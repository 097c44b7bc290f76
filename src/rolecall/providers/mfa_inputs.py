"""What a chain needs to make STS calls and to ask for MFA codes: settings, code sources, used-code memory.

One ``MfaInputs`` serves a whole chain, so a code given with ``--token-code`` is used once and the STS
settings (region, endpoint) are those of the top-level profile, as in botocore.
"""

from __future__ import annotations

from rolecall.errors import MfaError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from typing import TypeVar

    from rolecall.aws.settings import StsSettings
    from rolecall.config.profiles import Profile
    from rolecall.mfa import MfaCodeSource
    from rolecall.providers.base import Runtime

    T = TypeVar("T")


class MfaInputs:
    """STS settings and MFA code sources for one chain."""

    def __init__(self, runtime: Runtime, settings: Callable[[], StsSettings]) -> None:
        self.runtime = runtime
        self._settings_factory = settings
        self._settings: StsSettings | None = None
        self._token_code = runtime.token_code
        #: Per-device code source, chosen from the profile that names the device (mfa_process) or the terminal.
        self._process_commands: dict[str, str] = {}
        #: Per device: the profile that names it and that profile's source_profile (for a wrong serial's hint).
        self._named_by: dict[str, tuple[str, str | None]] = {}

    def settings(self) -> StsSettings:
        """The STS settings of the top-level profile (computed once)."""
        if self._settings is None:
            self._settings = self._settings_factory()
        return self._settings

    def register_profile(self, profile: Profile) -> None:
        """Note the profile's ``mfa_process`` for its device, so the right command is run for it."""
        if profile.mfa_serial and profile.mfa_process:
            self._process_commands.setdefault(profile.mfa_serial, profile.mfa_process)
        if profile.mfa_serial:
            self._named_by.setdefault(profile.mfa_serial, (profile.name, profile.source_profile))

    def source_for(self, serial: str) -> MfaCodeSource:
        """Where a code for ``serial`` comes from: --token-code, then mfa_process, then the terminal."""
        from rolecall import mfa

        if self._token_code is not None:
            code, self._token_code = self._token_code, None  # a code is good for one call only
            return mfa.StaticCode(code)
        if self.runtime.code_source is not None:
            return self.runtime.code_source
        command = self._process_commands.get(serial)
        if command:
            return mfa.ProcessCodeSource(command)
        if not self.runtime.allow_prompt:
            raise MfaError(
                f"an MFA code for {serial} is needed and rolecall may not prompt here",
                hint="give it with --token-code, or set mfa_process in the profile (e.g. ykman oath accounts code)",
            )
        return mfa.TerminalPrompt()

    def send_with_code(self, serial: str, send: Callable[[str], T]) -> T:
        """``send(code)`` with a fresh code for ``serial``; at a terminal a code AWS refuses is asked again, up to
        3 codes (``mfa.send_with_code``). When AWS knows no such device, the hint names the profile whose
        ``mfa_serial`` it is and how to list the devices of its source's user."""
        from rolecall import mfa

        named_by = self._named_by.get(serial)
        return mfa.send_with_code(
            self.source_for(serial),
            serial,
            mfa.UsedCodes(self.runtime.paths.mfa_state_dir),
            send,
            reporter=self.runtime.reporter,
            device_hint=wrong_device_hint(serial, *named_by) if named_by else None,
        )

    def device_lock(self, serial: str) -> AbstractContextManager[None]:
        """The cross-process lock that makes parallel invocations share one prompt for a device."""
        from rolecall import mfa

        return mfa.device_lock(self.runtime.paths.mfa_state_dir, serial, reporter=self.runtime.reporter)




def wrong_device_hint(serial: str, profile: str, source_profile: str | None) -> str:
    """The fix when AWS knows no MFA device ``serial`` for the caller: the profile's ``mfa_serial`` is wrong."""
    listing = "aws iam list-mfa-devices" + (f" --profile {source_profile}" if source_profile else "")
    user = f'the user of profile "{source_profile}"' if source_profile else "the user whose keys make the call"
    what = (
        "is a user's ARN, not an MFA device's (arn:aws:iam::ACCOUNT:mfa/NAME)"
        if ":user/" in serial
        else f"is not an MFA device of {user}"
    )
    return (
        f'mfa_serial {serial} of profile "{profile}" {what}, so AWS did not check the code (no need to wait for '
        f"another one): set mfa_serial to the ARN `{listing}` shows, or make the profile again with `rolecall "
        "add-role`, which finds the device (if this serial worked before: after several refused codes in a row "
        "AWS locks a device for some minutes and answers the same)"
    )
