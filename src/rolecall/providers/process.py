"""``credential_process``: run a command and read credential JSON from its stdout (botocore's ProcessProvider)."""

from __future__ import annotations

import os

from rolecall.credentials import Credentials
from rolecall.errors import RolecallError
from rolecall.providers.result import NO_CONSOLE_FACTS, Retrieved
from rolecall.timefmt import parse_timestamp, timezone, utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from rolecall.config.profiles import Profile
    from rolecall.processcache import ProcessCache
    from rolecall.providers.base import Provider
    from rolecall.providers.contract import BuildContext
    from rolecall.providers.result import ConsoleFacts


_SHAPE_HINT = 'it must print {"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ...} and nothing else'


class CredentialProcessError(RolecallError):
    """The credential_process failed, printed something that is not Version 1 credential JSON, or gave expired
    credentials twice in a row (exit 3)."""

    exit_code = 3


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
            assert credentials.expiration is not None
            raise CredentialProcessError(
                f'profile "{self.profile}": credential_process returned credentials that had already expired, '
                f"twice (at {credentials.expiration:%Y-%m-%d %H:%M:%S} UTC; it is "
                f"{now.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC here); they were not used",
                hint="the helper hands out a stale session: renew its login or cache, and check this machine's clock",
            )
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


#: More output than this is not credentials (a session token is about 1 KiB): refused unparsed.
MAX_OUTPUT = 1024 * 1024


def credentials_from_output(stdout: bytes, what: str, program: str, account_id: str | None = None) -> Credentials:
    """Decode and validate what a credential process printed, as botocore reads it: UTF-8 JSON, Version 1.

    ``what`` begins every message (``profile "prod": credential_process``); ``program`` is named in hints, never
    its arguments (they may carry a secret). Shared by the ``process`` source and ``rolecall process-cache``.
    Raises ``CredentialProcessError`` (exit 3).
    """
    import json

    if len(stdout) > MAX_OUTPUT:
        raise CredentialProcessError(
            f"{what} printed more than {MAX_OUTPUT // 1024} KiB; credentials are a few KiB",
            hint=f"make {program} print only its Version 1 JSON on stdout (messages go to stderr)",
        )
    if stdout.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        # json.loads of bytes skips a byte-order mark (and reads UTF-16); botocore decodes the output as UTF-8
        # and refuses it (JSONDecodeError), so a helper accepted here would fail with the AWS CLI and every SDK.
        raise CredentialProcessError(
            f"{what} output starts with a byte-order mark (BOM)",
            hint=f"the process printed a byte-order mark before its JSON, which the AWS CLI refuses too: make "
            f"{program} print plain UTF-8 without a BOM",
        )
    try:
        data = json.loads(stdout.decode("utf-8"))  # as botocore reads it: UTF-8, nothing else
    except UnicodeDecodeError:
        raise CredentialProcessError(
            f"{what} output is not UTF-8",
            hint=f"make {program} print its JSON in UTF-8 (the AWS CLI reads nothing else)",
        ) from None
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        raise CredentialProcessError(f"{what} did not print JSON", hint=_SHAPE_HINT) from None
    return validate_output(data, what, account_id)


def parse_process_output(data: object, profile: str, account_id: str | None = None) -> Credentials:
    """Validate credential_process JSON with botocore's rules (Version must be the integer 1)."""
    return validate_output(data, f'profile "{profile}": credential_process', account_id)


def validate_output(data: object, what: str, account_id: str | None = None) -> Credentials:
    """Validate parsed credential_process JSON with botocore's rules; ``what`` begins every message."""
    if not isinstance(data, dict):
        raise CredentialProcessError(f"{what} output is not a JSON object", hint=_SHAPE_HINT)
    version = data.get("Version")
    if version != 1 or isinstance(version, bool):
        # Only numbers are shown: a misbehaving helper could put anything, a secret included, in a string.
        shown = "missing" if version is None else repr(version) if isinstance(version, int | float) else "not a number"
        raise CredentialProcessError(
            f"{what}: unsupported Version ({shown}); supported: 1",
            hint='print "Version": 1 (a number, not a string)',
        )
    for key in ("AccessKeyId", "SecretAccessKey"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise CredentialProcessError(f"{what} output is missing {key}", hint=_SHAPE_HINT)
    _check_strings(data, what)
    expiration = None
    if data.get("Expiration"):
        try:
            expiration = parse_timestamp(str(data["Expiration"]))
        except ValueError:
            raise CredentialProcessError(
                f"{what} Expiration is not an ISO-8601 time", hint="print it as 2026-01-31T12:00:00Z"
            ) from None
    return Credentials(
        data["AccessKeyId"],
        data["SecretAccessKey"],
        data.get("SessionToken") or None,
        expiration,
        data.get("AccountId") or account_id,
    )


def _check_strings(data: dict[str, object], what: str) -> None:
    """Optional fields are strings when present, and no field holds a control character: a NUL cannot be
    exported, an escape sequence would rewrite the terminal, a line break adds lines to ``env``'s shell code.
    The message names the field, never its value (a secret)."""
    from rolecall.guardedread import has_control_characters

    for key in ("AccessKeyId", "SecretAccessKey", "SessionToken", "AccountId", "Expiration"):
        value = data.get(key)
        if value is None or (key != "AccessKeyId" and key != "SecretAccessKey" and value == ""):
            continue
        if not isinstance(value, str):
            raise CredentialProcessError(f"{what} {key} is not a string", hint=_SHAPE_HINT)
        if has_control_characters(value):
            raise CredentialProcessError(
                f"{what} {key} holds a control character (a NUL, an escape sequence or a line break)",
                hint="no AWS credential holds one: check what the process prints on stdout",
            )


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
