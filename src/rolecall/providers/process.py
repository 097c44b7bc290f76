"""``credential_process``: run a command and read credential JSON from its stdout (botocore's ProcessProvider)."""

from __future__ import annotations

import os

from rolecall.processoutput import CredentialProcessError, credentials_from_output, expired_twice
from rolecall.providers.result import NO_CONSOLE_FACTS, Retrieved
from rolecall.timefmt import utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from rolecall.config.profiles import Profile
    from rolecall.credentials import Credentials
    from rolecall.processcache import ProcessCache
    from rolecall.providers.base import Provider
    from rolecall.providers.contract import BuildContext
    from rolecall.providers.result import ConsoleFacts


class ProcessProvider:
    """Runs ``credential_process`` without a shell, as botocore does (shlex-split, stdin inherited)."""

    method = "custom-process"

    def __init__(
        self,
        command: str,
        profile: str,
        env: Mapping[str, str],
        account_id: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        rolecall_dir: str | None = None,
    ) -> None:
        self.command = command
        self.profile = profile
        self._env = env
        self._account_id = account_id
        self._clock = clock
        self._rolecall_dir = rolecall_dir

    def _process_cache(self) -> ProcessCache | None:
        """The entry of ``rolecall process-cache -- TOOL ARGS`` when that is the command (read in-process, as the
        process-cache itself would read it with this environment), else None."""
        if self._rolecall_dir is None or "process-cache" not in self.command:  # the cheap test first
            return None
        from rolecall.config.refusals import command_line
        from rolecall.processcache import ProcessCache, cache_folder, wrapped_command

        wrapped = wrapped_command(command_line(self.command, "credential_process")[0])
        if wrapped is None:
            return None
        tool, key_env = wrapped
        folder = cache_folder(self._rolecall_dir)
        return ProcessCache(tool, self._env, folder, clock=self._clock, key_env=key_env)

    def retrieve(self) -> Credentials:
        """Run the command and parse its output; expired credentials get one more run, then an error.

        botocore's rule: a credential_process whose credentials have expired is run once more (a mandatory
        refresh), and if those are expired too it fails with "refreshed credentials are still expired". A
        helper with a stale cache of its own usually renews on the second run. A fresh answer of ``rolecall
        process-cache`` is read in-process, without starting it.
        """
        cached = self.cached()
        if cached is not None:
            return cached
        credentials = self._run()
        if not credentials.is_expired(self._clock()):
            return credentials
        credentials = self._run()
        now = self._clock()
        if credentials.is_expired(now):
            raise expired_twice(self.profile, credentials, now)
        return credentials

    def _run(self) -> Credentials:
        """Run the command once and parse its output."""
        from rolecall.command import run_configured

        what = f'profile "{self.profile}": credential_process'
        done = run_configured(self.command, what, CredentialProcessError, env=self._env, capture_stderr=True)
        program = str(done.args[0])
        if done.returncode != 0:
            # Its last stderr line usually says why ("token expired, run login"); shown printable and bounded,
            # so that terminal escapes or a flood of output never reach the user's terminal through rolecall.
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            last = _printable(detail[-1]) if detail else f"exit code {done.returncode}"
            raise CredentialProcessError(
                f'profile "{self.profile}": credential_process failed: {last}',
                hint=f"run it by hand to see the whole error: {program}",
            )
        return credentials_from_output(done.stdout, what, program, self._account_id)

    def cached(self) -> Credentials | None:
        """The fresh entry of ``rolecall process-cache`` when that is the command; any other process is never
        served without running it."""
        cache = self._process_cache()
        found = cache.cached() if cache is not None else None
        if cache is None or found is None:
            return None
        return Retrieved.of(found, origin=f"process-cache ({os.path.basename(cache.path)})", from_cache=True,
                            source_method=self.method)

    def console_facts(self) -> ConsoleFacts:
        """Nothing the console command treats specially (federation, if needed, is decided by the keys in hand)."""
        return NO_CONSOLE_FACTS

    def explain(self) -> list[str]:
        """One sentence naming the command (not its output), and what ``rolecall process-cache`` holds for it."""
        line = f'run credential_process of profile "{self.profile}": {self.command}'
        cache = self._process_cache()
        if cache is None:
            return [line]
        found = cache.cached()
        if found is not None:
            until = f" (expires {found.expiration:%H:%M} UTC)" if found.expiration is not None else ""
            return [f'profile "{self.profile}": the answer of {cache.program} served by process-cache from '
                    f"{os.path.basename(cache.path)}{until}; {cache.program} not run"]
        return [f"{line} (process-cache has no fresh answer: {cache.program} runs once, under the entry's lock)"]


def _printable(line: str, limit: int = 300) -> str:
    """``line`` with control characters (terminal escapes) replaced by ``?`` and cut to ``limit`` characters."""
    cleaned = "".join(c if c.isprintable() else "?" for c in line)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def build(context: BuildContext, profile: Profile) -> Provider:
    """The chain builder's factory for the ``process`` kind: rolecall's key store when the command is rolecall's own
    ``credential-process --keys NAME`` (read in-process, treated as the file's keys are: docs/keys.md), else the
    command."""
    from rolecall.providers.keystore import KeystoreProvider, stored_key_name

    command = profile.credential_process or ""
    stored = stored_key_name(command)
    runtime = context.runtime
    if stored is not None:
        context.decide(f'{profile.name}: long-term keys "{stored}" in rolecall\'s key store')
        return KeystoreProvider(stored, runtime.env, runtime.paths)
    context.decide(f"{profile.name}: credential_process")
    return ProcessProvider(
        command,
        profile.name,
        runtime.env,
        profile.get("aws_account_id"),
        clock=lambda: runtime.clock(),  # read when it runs: commands set the clock late
        rolecall_dir=runtime.paths.rolecall_dir,
    )
