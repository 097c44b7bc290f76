"""``rolecall process-cache -- TOOL ARGS...``: a caching front end for any ``credential_process``.

Tools such as saml2aws, gimme-aws-creds, aws-azure-login, okta-aws-cli or ``aws-vault export`` sign in anew (a
browser, a password, a YubiKey touch) each time an SDK runs them as a ``credential_process``, and the AWS CLI and
SDKs keep nothing between runs. Here the tool runs once: its Version 1 JSON is checked (with the ``process``
source's own rules, ``providers/process.py``), kept in a 0600 file in a 0700 folder (``$ROLECALL_HOME/process-cache``)
and handed out again until shortly before its ``Expiration``. Parallel callers take one lock per entry, so one run
of the tool serves them all; those that waited read what it wrote. docs/process-cache.md says what is cached,
where and for how long.

The entry of a command is keyed by the exact argv and the environment variables that may change who the tool
signs in as (``KEY_VARIABLES``, ``KEY_PREFIXES``, minus names that look like secrets, plus ``--key-env``).
Values enter the key only as a SHA-1; no argument and no variable is stored in the file (they may carry a
secret), only the program's base name for messages.

A cached answer is served on the fast path (docs/architecture.md): at load time this module imports only what a
cached ``rolecall env`` already has; ``subprocess``, ``json`` and the file writers come in only when the tool runs.
"""

from __future__ import annotations

import os

from rolecall.errors import ConfigError, UsageError
from rolecall.fastjson import canonical_json, loads, sha1_hex
from rolecall.guardedread import UntrustedFileError, read_regular_file
from rolecall.ownership import trusted_owner
from rolecall.processoutput import CredentialProcessError, credentials_from_output, refuse_expired, validate_output
from rolecall.timefmt import format_iso_z, parse_timestamp, timedelta

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import datetime

    from rolecall.credentials import Credentials
    from rolecall.reporting import Reporter

__all__ = [
    "CHAIN_VARIABLE",
    "KEY_PREFIXES",
    "KEY_VARIABLES",
    "MAX_MARGIN",
    "ProcessCache",
    "Terminal",
    "cache_folder",
    "fresh_until",
    "wrapped_command",
]

#: Exact names whose values are part of an entry's key: where the AWS files are (aws-vault and others read the
#: profile there) and which STS the credentials are for.
KEY_VARIABLES = ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS")
#: Prefixes of the variables the common tools read their account, identity provider or role from.
KEY_PREFIXES = ("SAML2AWS_", "GIMME_AWS_CREDS_", "OKTA_", "AWS_VAULT", "AZURE_", "OP_")
#: A variable whose name holds one of these words is never part of a key (a password is not an identity).
_SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "PASSPHRASE", "SESSION", "OTP", "MFA", "KEY", "PIN")
#: Entries are served while more than this is left before ``Expiration`` (the AWS CLI cache's window), or half
#: of the lifetime they had when the tool printed them, for credentials that live 30 minutes or less.
MAX_MARGIN = timedelta(minutes=15)
#: ``rolecall process-cache`` in the environment of the tool it runs: the keys of the entries being filled, so a tool
#: that runs rolecall process-cache for the same entry again is a loop, not a wait on its own lock.
CHAIN_VARIABLE = "ROLECALL_PROCESS_CACHE_CHAIN"
#: How long a caller waits for another one's run of the tool (a person typing a password and touching a key).
LOCK_WAIT = 600.0
_NOTE = "Rolecall"


def cache_folder(rolecall_dir: str) -> str:
    """Where the entries live: ``<rolecall home>/process-cache``."""
    return os.path.join(rolecall_dir, "process-cache")


def fresh_until(expiration: datetime | None, now: datetime, ttl: timedelta | None) -> datetime | None:
    """Until when an answer printed at ``now`` is served from the cache; None: it is not cached.

    With an ``Expiration``: until ``MAX_MARGIN`` before it, or half the lifetime before it when that is shorter;
    ``ttl`` caps it. Without one (long-term keys): not cached, unless ``ttl`` asks for it.
    """
    if expiration is None:
        return None if ttl is None else now + ttl
    margin = min(MAX_MARGIN, (expiration - now) / 2)
    until = expiration - margin
    if ttl is not None:
        until = min(until, now + ttl)
    return until if until > now else None


def _is_key_variable(name: str, extra: Iterable[str]) -> bool:
    if name in extra:
        return True
    if any(word in name.upper() for word in _SECRET_WORDS):
        return False
    return name in KEY_VARIABLES or name.startswith(KEY_PREFIXES)


def entry_keys(argv: Sequence[str], env: Mapping[str, str], extra: Sequence[str] = ()) -> tuple[str, str]:
    """The key of the entry of ``argv`` run with ``env`` and the key of ``argv`` alone (what ``--clear`` matches).

    Both are SHA-1 hex of canonical JSON: the file name says nothing about the command or its environment.
    """
    chosen = {name: value for name, value in env.items() if _is_key_variable(name, extra)}
    argv_key = sha1_hex(canonical_json({"argv": list(argv)}))
    return sha1_hex(canonical_json({"argv": list(argv), "env": chosen})), argv_key


def wrapped_command(argv: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """``(TOOL ARGS, --key-env names)`` when ``argv`` (a split ``credential_process``) is rolecall's own
    ``process-cache [--ttl N] [--key-env NAME]... -- TOOL ARGS`` (the program ``rolecall``, an absolute path to it,
    or ``PYTHON -m rolecall``), else None. ``--clear`` is no credential process."""
    if len(argv) >= 3 and argv[1:3] == ["-m", "rolecall"] and os.path.basename(argv[0]).startswith("python"):
        rest = list(argv[3:])
    elif argv and (argv[0] == "rolecall" or (os.path.isabs(argv[0]) and os.path.basename(argv[0]) == "rolecall")):
        rest = list(argv[1:])
    else:
        return None
    if rest[:1] != ["process-cache"] or "--" not in rest:
        return None
    cut = rest.index("--")
    options, tool = rest[1:cut], rest[cut + 1 :]
    key_env: list[str] = []
    index = 0
    while index < len(options):
        option = options[index]
        if option in ("--ttl", "--key-env") and index + 1 < len(options):
            if option == "--key-env":
                key_env.append(options[index + 1])
            index += 2
        elif option.startswith(("--ttl=", "--key-env=")):
            if option.startswith("--key-env="):
                key_env.append(option.partition("=")[2])
            index += 1
        else:
            return None
    return (tool, key_env) if tool else None


class Terminal:
    """Where the tool's prompts go: ``stdin_is_tty`` / ``stderr_is_tty`` say what rolecall itself was given.

    SDKs run a ``credential_process`` with its stderr captured (the AWS CLI shows it only when the process fails)
    and sometimes with a stdin that is not the user's: the tool's "Touch your YubiKey" or password prompt would
    never be seen. So whichever of the two is not a terminal is connected to the controlling terminal
    (``tty_path``) when there is one; without one (CI, cron) both are inherited, as botocore does.
    """

    __slots__ = ("stderr_is_tty", "stdin_is_tty", "tty_path")

    def __init__(self, stdin_is_tty: bool, stderr_is_tty: bool, tty_path: str = "/dev/tty") -> None:
        self.stdin_is_tty = stdin_is_tty
        self.stderr_is_tty = stderr_is_tty
        self.tty_path = tty_path

    def open(self) -> int | None:
        """A descriptor of the controlling terminal when one of the two streams needs it, else None."""
        if self.stdin_is_tty and self.stderr_is_tty:
            return None
        try:
            return os.open(self.tty_path, os.O_RDWR | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None  # no controlling terminal: inherit both


class ProcessCache:
    """The cache entry of one command line in one environment: look it up, or run the tool under its lock.

    ``argv`` is the tool and its arguments (run without a shell); ``env`` is the environment it runs with and the
    source of the key; ``ttl`` caps how long an answer is served (and lets one without ``Expiration`` be cached).
    """

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        folder: str,
        *,
        clock: Callable[[], datetime],
        ttl: timedelta | None = None,
        key_env: Sequence[str] = (),
        reporter: Reporter | None = None,
    ) -> None:
        if not argv or not argv[0]:
            raise UsageError("process-cache needs the command to run", hint="rolecall process-cache -- TOOL ARGS...")
        self.argv = list(argv)
        self.env = env
        self.folder = folder
        self.clock = clock
        self.ttl = ttl
        self.key, self.argv_key = entry_keys(self.argv, env, key_env)
        self.path = os.path.join(folder, self.key + ".json")
        self.program = os.path.basename(self.argv[0])
        self._reporter = reporter

    def cached(self) -> Credentials | None:
        """The cached answer if it is still fresh; None otherwise (missing, stale, untrusted: a miss, reported)."""
        document = self._read()
        if document is None:
            return None
        note = document.get(_NOTE)
        try:
            until = parse_timestamp(str(note.get("FreshUntil"))) if isinstance(note, dict) else None
            credentials = validate_output(document, f"process-cache: {self.program}")
        except (ValueError, CredentialProcessError):
            self._say(f"ignoring the process-cache entry {self.path}: it is not a credentials entry")
            return None
        now = self.clock()
        if until is None or until <= now or credentials.is_expired(now):
            return None
        return credentials

    def _read(self) -> dict[str, object] | None:
        try:
            raw = read_regular_file(self.path, private=True)
        except UntrustedFileError as error:
            self._say(f"ignoring the process-cache entry {self.path}: {error.strerror}")
            return None
        except OSError as error:
            self._say(f"ignoring the process-cache entry {self.path}: cannot read it ({error.strerror})")
            return None
        if raw is None:
            return None
        try:
            owner = os.stat(self.folder).st_uid
        except OSError:
            return None
        if not trusted_owner(owner):
            self._say(f"ignoring the process-cache entry {self.path}: its folder belongs to another user")
            return None
        try:
            document = loads(raw.decode("utf-8"))
        except ValueError:
            self._say(f"ignoring the process-cache entry {self.path}: it is not valid JSON")
            return None
        return document if isinstance(document, dict) else None

    def _say(self, line: str) -> None:
        if self._reporter is not None:
            self._reporter(line)

    def retrieve(self, terminal: Terminal) -> tuple[Credentials, bool]:
        """The credentials and whether they came from the cache: a fresh entry, or one run of the tool.

        The run happens under the entry's lock, after a second look (a caller that waited finds what the one
        before it wrote). The answer is refused when it has already expired (``CredentialProcessError``, exit 3)
        and cached when ``fresh_until`` allows it; a tool that fails or is killed leaves the entry as it was.
        """
        found = self.cached()
        if found is not None:
            return found, True
        self._refuse_loop()
        from rolecall.fileio import exclusive_lock, private_folder

        private_folder(self.folder, loose=0o077)
        with exclusive_lock(self.path, timeout=LOCK_WAIT, private=True):
            found = self.cached()
            if found is not None:
                return found, True
            credentials = self._run(terminal)
            self._store(credentials)
        return credentials, False

    def _refuse_loop(self) -> None:
        chain = [key for key in self.env.get(CHAIN_VARIABLE, "").split(",") if key]
        if self.key in chain:
            raise ConfigError(
                f"process-cache loop: {self.program} runs rolecall process-cache for its own command line",
                hint="the wrapped tool must print credentials itself, not run the same process-cache again",
            )

    def _run(self, terminal: Terminal) -> Credentials:
        """Run the tool once, its stdout captured, its prompts on the terminal; its checked answer."""
        stdout = _run_tool(self.argv, self._child_env(), terminal, self.program)
        credentials = credentials_from_output(stdout, f"process-cache: {self.program}", self.program)
        now = self.clock()
        if credentials.is_expired(now):
            raise refuse_expired(
                f"process-cache: {self.program} printed credentials that had already expired",
                credentials,
                now,
                f"{self.program} hands out a stale session: sign in with it again (or clear its own cache), "
                "and check this machine's clock",
            )
        return credentials

    def _child_env(self) -> dict[str, str]:
        chain = [key for key in self.env.get(CHAIN_VARIABLE, "").split(",") if key]
        return {**self.env, CHAIN_VARIABLE: ",".join([*chain, self.key])}

    def _store(self, credentials: Credentials) -> None:
        """Write the entry (0600, atomic) when ``fresh_until`` allows; a write failure is one reported line."""
        import json

        from rolecall.errors import FileError
        from rolecall.export import render
        from rolecall.fileio import atomic_write

        now = self.clock()
        until = fresh_until(credentials.expiration, now, self.ttl)
        if until is None:
            return
        document = json.loads(render(credentials, "process"))
        document[_NOTE] = {
            "FreshUntil": format_iso_z(until),
            "CachedAt": format_iso_z(now),
            "ArgvKey": self.argv_key,
            "Program": self.program,
        }
        try:
            atomic_write(self.path, json.dumps(document).encode("utf-8"), mode=0o600, private=True)
        except FileError as error:
            self._say(f"could not cache the answer of {self.program}: {error.message} (the next call runs it again)")


def _run_tool(argv: Sequence[str], env: Mapping[str, str], terminal: Terminal, program: str) -> bytes:
    """Run ``argv`` without a shell; its stdout, or ``CredentialProcessError`` when it cannot run or fails."""
    tty = terminal.open()
    stdin = tty if tty is not None and not terminal.stdin_is_tty else None
    stderr = tty if tty is not None and not terminal.stderr_is_tty else None
    try:
        returncode, stdout = _bounded_run(argv, env, stdin, stderr)
    except FileNotFoundError:
        raise CredentialProcessError(
            f"process-cache: {program} was not found", hint="give the tool's full path, or add its folder to PATH"
        ) from None
    except OSError as problem:
        raise CredentialProcessError(
            f"process-cache: {program} cannot be run: {problem.strerror or problem}",
            hint="check that it is an executable program",
        ) from None
    finally:
        if tty is not None:
            os.close(tty)
    if returncode != 0:
        how = f"was killed by signal {-returncode}" if returncode < 0 else f"failed (exit {returncode})"
        where = "on the terminal" if stderr is not None else "above"
        raise CredentialProcessError(
            f"process-cache: {program} {how}; nothing was cached",
            hint=f"its own messages are {where}; run it by hand to see the whole error",
        )
    return stdout


def _bounded_run(
    argv: Sequence[str], env: Mapping[str, str], stdin: int | None, stderr: int | None
) -> tuple[int, bytes]:
    """Run the tool; its exit status and at most ``MAX_OUTPUT`` + 1 bytes of its stdout (a tool that prints
    gigabytes is stopped there, not read into memory; ``credentials_from_output`` then refuses the answer)."""
    import subprocess

    from rolecall.processoutput import MAX_OUTPUT

    with subprocess.Popen(list(argv), stdin=stdin, stdout=subprocess.PIPE, stderr=stderr, env=dict(env)) as tool:
        assert tool.stdout is not None
        stdout = tool.stdout.read(MAX_OUTPUT + 1)
        if len(stdout) > MAX_OUTPUT:
            tool.kill()
        returncode = tool.wait()
    return (0 if len(stdout) > MAX_OUTPUT else returncode), stdout


def clear(folder: str, argv_key: str | None = None) -> list[str]:
    """Delete the entries of the command line with ``argv_key`` (in every environment), or all entries; the files
    deleted. Each under its lock, so a run filling it finishes first."""
    from rolecall.fileio import exclusive_lock

    try:
        names = sorted(name for name in os.listdir(folder) if name.endswith(".json"))
    except FileNotFoundError:
        return []
    except OSError as error:
        from rolecall.errors import FileError

        raise FileError(f"cannot read the folder {folder}: {error.strerror}", hint="check its permissions") from error
    removed = []
    for name in names:
        path = os.path.join(folder, name)
        if argv_key is not None and _argv_key_of(path) != argv_key:
            continue
        with exclusive_lock(path, timeout=LOCK_WAIT, private=True):
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
        removed.append(path)
    return removed


def _argv_key_of(path: str) -> str | None:
    try:
        raw = read_regular_file(path, private=True)
        document = loads(raw.decode("utf-8")) if raw is not None else None
    except (OSError, ValueError):
        return None
    note = document.get(_NOTE) if isinstance(document, dict) else None
    value = note.get("ArgvKey") if isinstance(note, dict) else None
    return value if isinstance(value, str) else None
