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

    from rolecall.aws.settings import StsSettings
    from rolecall.config.profiles import Profile
    from rolecall.mfa import MfaCodeSource
    from rolecall.providers.base import Runtime


class MfaInputs:
    """STS settings and MFA code sources for one chain."""

    def __init__(self, runtime: Runtime, settings: Callable[[], StsSettings]) -> None:
        self.runtime = runtime
        self._settings_factory = settings
        self._settings: StsSettings | None = None
        self._token_code = runtime.token_code
        #: Per-device code source, chosen from the profile that names the device (mfa_process) or the terminal.
        self._process_commands: dict[str, str] = {}

    def settings(self) -> StsSettings:
        """The STS settings of the top-level profile (computed once)."""
        if self._settings is None:
            self._settings = self._settings_factory()
        return self._settings

    def register_profile(self, profile: Profile) -> None:
        """Note the profile's ``mfa_process`` for its device, so the right command is run for it."""
        if profile.mfa_serial and profile.mfa_process:
            self._process_commands.setdefault(profile.mfa_serial, profile.mfa_process)

    def source_for(self, serial: str) -> MfaCodeSource:
        """Where a code for ``serial`` comes from: --token-code, then mfa_process, then the terminal."""
        from rolecall import mfa

        if self._token_code is not None:
            code, self._token_code = self._token_code, None  # a code is good for one call only
            return mfa.StaticCode(code)
        command = self._process_commands.get(serial)
        if command:
            return mfa.ProcessCodeSource(command)
        if not self.runtime.allow_prompt:
            raise MfaError(
                f"an MFA code for {serial} is needed and rolecall may not prompt here",
                hint="give it with --token-code, or set mfa_process in the profile (e.g. ykman oath accounts code)",
            )
        return mfa.TerminalPrompt()

    def code(self, serial: str) -> str:
        """A code for ``serial`` that has not been sent before (waits for the next window if needed).

        The code is remembered as used as soon as it is handed out (see ``mfa.obtain_fresh_code``).
        """
        from rolecall import mfa

        used = mfa.UsedCodes(self.runtime.paths.mfa_state_dir)
        return mfa.obtain_fresh_code(self.source_for(serial), serial, used, reporter=self.runtime.reporter)

    def device_lock(self, serial: str) -> AbstractContextManager[None]:
        """The cross-process lock that makes parallel invocations share one prompt for a device."""
        from rolecall import mfa

        return mfa.device_lock(self.runtime.paths.mfa_state_dir, serial, reporter=self.runtime.reporter)


