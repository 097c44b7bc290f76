"""MFA codes: where they come from, the memory of codes already sent, and the per-device lock.

* Code sources (``MfaCodeSource``): ``TerminalPrompt`` asks on the controlling terminal with the AWS CLI's
  wording, ``ProcessCodeSource`` runs the profile's ``mfa_process`` (a YubiKey or ``oathtool``), ``StaticCode``
  is ``--token-code``.
* ``UsedCodes`` remembers, per device, which codes were sent in the last few minutes (as hashes, never the
  code), and which of them AWS refused, because STS refuses a TOTP code it has already seen; ``obtain_fresh_code``
  then waits for the next 30-second window instead of sending a code that will be refused.
* ``send_with_code`` sends a fresh code and, when AWS refuses it, asks a person at the terminal again (up to 3
  codes); a device AWS does not know for the caller (a wrong ``mfa_serial``) ends at once, the code unspent.
* ``device_lock`` makes parallel invocations for one device share one prompt: the first asks and calls STS
  while the others wait, then find the fresh credentials in the cache.

Not on the fast path (only used when a code is actually needed), but still light at import: ``subprocess``,
``shlex``, ``getpass`` and ``json`` come in inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from typing import Protocol, TypeVar

from rolecall.errors import FileError, InvalidInputError, MfaError
from rolecall.reporting import as_warnings, ignore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from rolecall.aws.hints import MfaRejectedError
    from rolecall.reporting import Reporter

__all__ = [
    "CODE_TRIES",
    "PROMPT",
    "TOTP_STEP",
    "MfaCodeSource",
    "ProcessCodeSource",
    "StaticCode",
    "TerminalPrompt",
    "UsedCodes",
    "device_lock",
    "obtain_fresh_code",
    "send_with_code",
]

T = TypeVar("T")

#: The AWS CLI's prompt, word for word (botocore ``AssumeRoleCredentialFetcher``), so people recognise it.
PROMPT = "Enter MFA code for {serial}: "

#: The TOTP time step (RFC 6238, what virtual MFA devices and YubiKeys use for AWS).
TOTP_STEP = 30

_DIGITS = frozenset("0123456789")

_NO_CODE_HINT = (
    "give the code with --token-code, or set mfa_process in the profile (e.g. ykman oath accounts code -s X)"
)


def _normalise(code: str) -> str | None:
    """The code without spaces (authenticators show ``123 456``), or ``None`` unless it is exactly 6 digits.

    STS takes exactly six ASCII digits (``TokenCode``: length 6, ``[\\d]*``); ``str.isdigit`` would let
    other Unicode digits through, hence the explicit set.
    """
    compact = "".join(code.split())
    if len(compact) == 6 and set(compact) <= _DIGITS:
        return compact
    return None


def _device_id(serial: str) -> str:
    """A file-name-safe, fixed-length name for a device (serials are ARNs with ``:`` and ``/``)."""
    import hashlib

    return hashlib.sha1(serial.encode("utf-8"), usedforsecurity=False).hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Code sources


class MfaCodeSource(Protocol):
    """Anything that can produce an MFA code for a device.

    ``code`` returns six digits or raises ``MfaError``. Two optional class attributes tell
    ``obtain_fresh_code`` what to do when the code was already used: ``interactive = True`` (a person is
    asked again at once and told to wait for the next code), ``fixed = True`` (the same code would come
    back: fail at once). Any other source is asked again after waiting for the next 30-second window.
    """

    def code(self, serial: str) -> str:
        """A 6-digit code for the device ``serial``."""
        ...


class StaticCode:
    """A code given up front (``--token-code``). Raises ``InvalidInputError`` unless it is 6 digits.

    ``repr`` hides the code so it never ends up in a log or a traceback.
    """

    __slots__ = ("_code",)

    #: The same code comes back every time: when it was already used, fail instead of waiting.
    fixed = True

    def __init__(self, code: str) -> None:
        normalised = _normalise(code)
        if normalised is None:
            raise InvalidInputError(
                "the MFA code must be 6 digits", hint="pass the code your authenticator shows, e.g. --token-code 123456"
            )
        self._code = normalised

    def __repr__(self) -> str:
        return "StaticCode(******)"

    def code(self, serial: str) -> str:
        """The given code, whatever the device."""
        return self._code


class ProcessCodeSource:
    """``mfa_process``: a command that prints the current code (``ykman oath accounts code -s NAME``, ``oathtool``).

    The command line is split like a shell would (``shlex.split``) but run without a shell. Its standard
    output, stripped, must be the 6-digit code; its standard error and input stay the user's (so "touch your
    YubiKey" is seen). Errors name only the program, never its arguments (``oathtool --totp -b SEED`` carries
    the device's secret seed) nor its output (a code).
    """

    __slots__ = ("command", "timeout")

    command: str
    timeout: float

    def __init__(self, command: str, timeout: float = 60.0) -> None:
        self.command = command
        self.timeout = timeout

    def __repr__(self) -> str:
        return "ProcessCodeSource(...)"  # the command line may hold a TOTP seed

    def code(self, serial: str) -> str:
        """Run the command once and return the code it printed; ``MfaError`` when it fails or prints no code."""
        from rolecall.command import run_configured

        what = f"the mfa_process command for {serial}"
        done = run_configured(self.command, what, MfaError, timeout=self.timeout)
        program = str(done.args[0])
        if done.returncode != 0:
            status = (
                f"was killed by signal {-done.returncode}"
                if done.returncode < 0
                else f"failed with exit status {done.returncode}"
            )
            raise MfaError(
                f"the mfa_process command {program} for {serial} {status}",
                hint="run it yourself to see why; its error output, if any, is shown above",
            )
        code = _normalise(done.stdout.decode("utf-8", "replace"))
        if code is None:
            raise MfaError(
                f"the mfa_process command {program} for {serial} did not print a 6-digit MFA code",
                hint="it must print only the code, e.g. ykman oath accounts code --single NAME",
            )
        return code


class TerminalPrompt:
    """Ask a person on the controlling terminal (``/dev/tty``), without echo, as the AWS CLI does.

    The prompt goes to the terminal rather than stderr, so it is seen even when stdout and stderr are
    redirected (``eval "$(rolecall env prod)"``). Without a terminal it raises ``MfaError`` at once with a
    hint, rather than reading stdin (which would echo the code or hang). An answer that is not 6 digits is
    asked again, up to ``attempts`` times. Ctrl-D gives ``MfaError``; Ctrl-C propagates as usual.
    ``tty`` is the terminal device checked and written to; ``getpass`` itself always reads ``/dev/tty``, so
    another value is only useful to make the prompt fail as it would without a terminal.
    """

    __slots__ = ("attempts", "tty")

    #: A person answers: when the code was already used, tell them and ask again at once.
    interactive = True

    attempts: int
    tty: str

    def __init__(self, attempts: int = 3, tty: str = "/dev/tty") -> None:
        self.attempts = attempts
        self.tty = tty

    def __repr__(self) -> str:
        return f"TerminalPrompt({self.tty!r})"

    def code(self, serial: str) -> str:
        """Prompt until a 6-digit code is typed; ``MfaError`` without a terminal or after ``attempts`` tries."""
        import getpass
        import warnings

        try:
            fd = os.open(self.tty, os.O_RDWR | os.O_NOCTTY)
        except OSError:
            raise MfaError(
                f"an MFA code for {serial} is needed and there is no terminal to ask for it", hint=_NO_CODE_HINT
            ) from None
        with open(fd, "w", encoding="utf-8", errors="replace", closefd=True) as terminal:
            for attempt in range(self.attempts):
                with warnings.catch_warnings():
                    # getpass falls back to reading stdin WITH echo when it cannot turn echo off; a code on
                    # screen (and in terminal logs) is worse than no prompt, so make that an error instead.
                    warnings.simplefilter("error", getpass.GetPassWarning)
                    try:
                        answer = getpass.getpass(PROMPT.format(serial=serial), stream=terminal)
                    except getpass.GetPassWarning:
                        raise MfaError(
                            f"cannot turn off echo on the terminal to ask for the MFA code for {serial}",
                            hint=_NO_CODE_HINT,
                        ) from None
                    except EOFError:
                        raise MfaError(f"no MFA code was entered for {serial}", hint=_NO_CODE_HINT) from None
                code = _normalise(answer)
                if code is not None:
                    return code
                if attempt + 1 < self.attempts:
                    terminal.write("An MFA code is 6 digits; try again.\n")
                    terminal.flush()
        raise MfaError(
            f"no valid MFA code was entered for {serial} after {self.attempts} tries",
            hint="type the 6 digits your authenticator shows for this device",
        )


# --------------------------------------------------------------------------------------------------------------
# Used codes


class UsedCodes:
    """The memory of MFA codes already sent, per device, shared by every rolecall process of this user.

    One JSON file per device in ``state_dir`` (``AwsPaths.mfa_state_dir``; 0700, files 0600), holding for each
    code sent in the last ``forget_after`` seconds a SHA-256 of (device, code, TOTP time step), the time it
    was sent and whether AWS refused it (``"r": 1``): never the code itself. A code counts as used when it was
    sent for that device within ``forget_after`` (STS accepts a code in neighbouring time steps too, and refuses
    it the second time in any of them). Writes are read-modify-write under a file lock, so concurrent processes
    lose nothing. A corrupt or unreadable memory counts as empty: the worst outcome is one refused code.
    """

    __slots__ = ("forget_after", "state_dir")

    state_dir: str
    forget_after: float

    def __init__(self, state_dir: str, forget_after: float = 300.0) -> None:
        self.state_dir = state_dir
        self.forget_after = forget_after

    def __repr__(self) -> str:
        return f"UsedCodes({self.state_dir!r})"

    def _path(self, serial: str) -> str:
        return os.path.join(self.state_dir, _device_id(serial) + ".used.json")

    @staticmethod
    def _digest(serial: str, code: str, step: int) -> str:
        import hashlib

        return hashlib.sha256(f"rolecall-used-mfa-code\0{serial}\0{code}\0{step}".encode()).hexdigest()

    def _load(self, path: str, now: float) -> list[tuple[str, float, bool]]:
        """The remembered (digest, time, refused by AWS) entries that are not yet forgotten."""
        import json

        from rolecall.cache import read_regular_file

        try:
            # Never waits on a named pipe nor reads /dev/zero; a folder, a huge file or a symlink loop is an error.
            # Another user's memory, one open to others, or a link is no memory (it could make a good code look
            # used): the next ``remember`` replaces it.
            raw = read_regular_file(path, private=True)
            if raw is None:
                return []
            document = json.loads(raw.decode("utf-8"))
            entries = document["used"]
            triples = [(str(item["h"]), float(item["t"]), bool(item.get("r", False))) for item in entries]
        except (OSError, ValueError, TypeError, KeyError, ArithmeticError, RecursionError, AttributeError):
            return []  # see the class docstring: an unreadable memory is an empty one
        low, high = now - self.forget_after, now + self.forget_after
        return [(digest, sent, refused) for digest, sent, refused in triples if low <= sent <= high]

    def _digests(self, serial: str, code: str, now: float) -> set[str]:
        """The digests ``code`` may have been remembered under: one per time step of the last ``forget_after``."""
        last = int(now // TOTP_STEP) + 1  # one step ahead: another process's clock may be a little ahead
        first = int((now - self.forget_after) // TOTP_STEP) - 1
        return {self._digest(serial, code, step) for step in range(first, last + 1)}

    def _entries(self, serial: str, code: str, now: float) -> list[tuple[str, float, bool]]:
        remembered = self._load(self._path(serial), now)
        if not remembered:
            return []
        digests = self._digests(serial, code, now)
        return [entry for entry in remembered if entry[0] in digests]

    def was_used(self, serial: str, code: str, now: float) -> bool:
        """True when ``code`` was sent for ``serial`` in the last ``forget_after`` seconds before ``now``."""
        return bool(self._entries(serial, code, now))

    def was_refused(self, serial: str, code: str, now: float) -> bool:
        """True when AWS refused ``code`` for ``serial`` (``remember(..., refused=True)``) in the last minutes."""
        return any(refused for _, _, refused in self._entries(serial, code, now))

    def refusals(self, serial: str, now: float) -> int:
        """How many codes AWS refused for ``serial`` in the last ``forget_after`` seconds (as far as rolecall saw)."""
        return sum(1 for _, _, refused in self._load(self._path(serial), now) if refused)

    def remember(self, serial: str, code: str, now: float, *, refused: bool = False) -> None:
        """Record that ``code`` was sent for ``serial`` at ``now`` (with ``refused``: and that AWS refused it);
        forget entries older than ``forget_after``. Raises ``FileError`` when the memory cannot be written."""
        digests = self._digests(serial, code, now)

        def update(remembered: list[tuple[str, float, bool]]) -> list[tuple[str, float, bool]]:
            if not any(digest in digests for digest, _, _ in remembered):
                return [*remembered, (self._digest(serial, code, int(now // TOTP_STEP)), now, refused)]
            return [(d, t, r or (refused and d in digests)) for d, t, r in remembered]

        self._rewrite(serial, now, update)

    def forget(self, serial: str, code: str, now: float) -> None:
        """Drop ``code`` from the memory of ``serial``: AWS never checked it (it knew no such device for the caller),
        so the code is still good. Raises ``FileError`` when the memory cannot be written."""
        digests = self._digests(serial, code, now)
        self._rewrite(serial, now, lambda remembered: [entry for entry in remembered if entry[0] not in digests])

    def _rewrite(
        self,
        serial: str,
        now: float,
        update: Callable[[list[tuple[str, float, bool]]], list[tuple[str, float, bool]]],
    ) -> None:
        """Read, ``update`` and write the memory of ``serial`` under its lock (entries past ``forget_after`` go)."""
        import json

        from rolecall.fileio import atomic_write, exclusive_lock, private_folder

        path = self._path(serial)
        # rolecall's own state folder, not shared: made or kept 0700, and it must be ours.
        private_folder(self.state_dir, loose=0o077)
        # Whatever is in place of the memory (a pipe, a link, another user's file) is replaced, never written
        # through; a link at the lock file is refused, never followed.
        with exclusive_lock(path, timeout=10.0, private=True):
            remembered = update(self._load(path, now))
            entries = [{"h": d, "t": t, **({"r": 1} if r else {})} for d, t, r in remembered]
            document = {"version": 1, "used": entries}
            atomic_write(path, json.dumps(document).encode("utf-8"), mode=0o600, dir_mode=0o700, private=True)


# --------------------------------------------------------------------------------------------------------------
# Getting a code that STS will take


def _until_next_step(now: float) -> float:
    """Seconds until the next TOTP time step starts."""
    return TOTP_STEP - (now % TOTP_STEP)


def obtain_fresh_code(
    source: MfaCodeSource,
    serial: str,
    used: UsedCodes,
    *,
    reporter: Reporter,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    max_wait: float = 35.0,
    remember: bool = True,
) -> str:
    """A code for ``serial`` from ``source`` that has not been sent before, and (with ``remember``) note it sent.

    When the source gives a code already used for this device, which STS would refuse:

    * a person (``interactive`` source) is told, through ``reporter``, to enter the next code their device
      shows and is asked again, up to 3 times;
    * a fixed code (``--token-code``) fails at once with ``MfaError``;
    * anything else (``mfa_process``) is re-run after waiting, with a ``reporter`` line saying how long, for
      the next 30-second window (plus a second for clock differences), then every 2 s while the device still
      shows the old code, until ``max_wait`` seconds have passed in all; then ``MfaError``.

    The code is remembered as soon as it is handed out (``remember=True``): a code that reached STS is spent
    even if the answer was lost, and waiting once too often costs less than a refused call.
    """
    start = clock()
    asked = 0
    waited = False
    while True:
        code = source.code(serial)
        asked += 1
        now = clock()
        if not used.was_used(serial, code, now):
            return _hand_out(code, serial, used, now, remember=remember, reporter=reporter)
        # A code AWS refused is not called "used": AWS did not say so (it gives one answer for every bad code).
        refused = used.was_refused(serial, code, now)
        if _ask_again(source, serial, asked, now, reporter, refused=refused):
            continue
        pause = 2.0 if waited else _until_next_step(now) + 1.0
        if now - start + pause > max_wait:
            raise MfaError(
                f"the MFA code for {serial} was still one already {'refused' if refused else 'used'} after waiting "
                f"{now - start:.0f} s",
                hint="check that the clocks of this machine and of the MFA device are right (codes follow the time)",
            )
        why = "AWS refused the current one" if refused else "the current one was already used"
        reporter(f"waiting {int(pause + 0.999)} s for the next MFA code for {serial} ({why})")
        sleep(pause)
        waited = True


def _hand_out(code: str, serial: str, used: UsedCodes, now: float, *, remember: bool, reporter: Reporter) -> str:
    """``code``, noted as sent first when ``remember`` (a failure to note it is a warning, never the code's loss)."""
    if remember:
        try:
            used.remember(serial, code, now)
        except FileError as error:
            # The memory only saves a refused call later; losing it must not cost the code in hand.
            as_warnings(reporter)(f"could not note the MFA code as used: {error.message}")
    return code


def _ask_again(
    source: MfaCodeSource, serial: str, asked: int, now: float, reporter: Reporter, *, refused: bool = False
) -> bool:
    """After a code already sent (``refused``: and refused by AWS): True to ask a person again, False to wait for a
    process; raises when neither can help."""
    if getattr(source, "fixed", False):
        if refused:
            raise MfaError(
                f"AWS refused the MFA code given for {serial} a moment ago", hint="pass the code your device shows now"
            )
        raise MfaError(
            f"the MFA code given for {serial} was already used, and AWS accepts each code once",
            hint="wait for the next code on your device and pass that one",
        )
    if not getattr(source, "interactive", False):
        return False
    if asked >= 3:
        what = "one AWS refused a moment ago" if refused else "already used"
        raise MfaError(
            f"the MFA code entered for {serial} was {what}, {asked} times",
            hint="wait for your device to show a new code, then run the command again",
        )
    if refused:
        reporter(f"AWS refused that MFA code for {serial} a moment ago; enter the code your device shows now")
    else:
        reporter(
            f"that MFA code for {serial} was already used; enter the next code your device shows "
            f"(in about {int(_until_next_step(now)) + 1} s)"
        )
    return True


#: How many codes a person may have sent in all when AWS refuses them (then the command ends, exit MFA).
CODE_TRIES = 3


def send_with_code(
    source: MfaCodeSource,
    serial: str,
    used: UsedCodes,
    send: Callable[[str], T],
    *,
    reporter: Reporter,
    tries: int = CODE_TRIES,
    device_hint: str | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``send(code)`` with a fresh code for ``serial`` (``obtain_fresh_code``); a person is asked again when AWS
    refuses the code, instead of the command ending.

    What AWS's refusal (``aws.hints.MfaRejectedError``) says decides:

    * the code (``MFA_WRONG_CODE``): it is remembered as refused, so it is not sent again (it could only be refused
      again, and each refusal counts toward AWS locking the device); a person (an ``interactive`` source) hears
      one line and is asked for the code the device shows now, up to ``tries`` codes sent in all, then one
      ``MfaRejectedError`` saying how many were refused; any other source (``--token-code``, ``mfa_process``,
      no terminal): the refusal as it is;
    * the device (``MFA_WRONG_DEVICE``): AWS never checked the code, so it is forgotten (still good for the right
      device) and the refusal is raised at once: another code would meet the same answer. Its hint is
      ``device_hint`` (the caller knows which profile names the device), unless rolecall saw AWS refuse codes
      of this device lately: AWS then locks a device for some minutes and answers as for a wrong serial.

    Any other error passes through untouched (the code stays remembered as sent).
    """
    sent = 0
    while True:
        code = obtain_fresh_code(source, serial, used, reporter=reporter, clock=clock, sleep=sleep)
        sent += 1
        try:
            return send(code)
        except MfaError as error:
            from rolecall.aws.hints import MFA_WRONG_CODE, MFA_WRONG_DEVICE, MfaRejectedError

            if not isinstance(error, MfaRejectedError) or error.reason not in (MFA_WRONG_CODE, MFA_WRONG_DEVICE):
                raise
            if error.reason == MFA_WRONG_DEVICE:
                raise _device_refused(error, code, used, clock(), reporter, device_hint) from None
            _note(functools.partial(used.remember, serial, code, clock(), refused=True), reporter)
            if not getattr(source, "interactive", False):
                raise
            if sent >= tries:
                raise MfaRejectedError(
                    f"AWS refused {sent} MFA codes in a row for {serial} ({_aws_words(error.message)})",
                    hint=f"check that {serial} is the device your authenticator shows the codes of, and that its "
                    "clock is right; after several refused codes in a row AWS locks the device for some minutes",
                    code=error.code,
                    reason=error.reason,
                    serial=serial,
                ) from None
            reporter(
                f"AWS did not accept that MFA code for {serial}; enter the code your device shows now "
                f"(try {sent + 1} of {tries})"
            )


def _aws_words(message: str) -> str:
    """The part of ``OPERATION refused: CODE: words`` after the code (AWS's own words), or the whole."""
    return message.split(": ", 2)[-1].strip()


def _note(write: Callable[[], None], reporter: Reporter) -> None:
    """Update the used-code memory; a failure is a warning (the memory only spares a refused call later)."""
    try:
        write()
    except FileError as error:
        as_warnings(reporter)(f"could not update the memory of MFA codes: {error.message}")


def _device_refused(
    error: MfaRejectedError, code: str, used: UsedCodes, now: float, reporter: Reporter, device_hint: str | None
) -> MfaRejectedError:
    """AWS knew no device ``error.serial`` for the caller: forget the code (never checked); the error to raise."""
    from rolecall.aws.hints import MfaRejectedError, locked_device_hint

    serial = error.serial or ""
    refusals = used.refusals(serial, now)
    _note(functools.partial(used.forget, serial, code, now), reporter)
    hint = locked_device_hint(serial, refusals) if refusals else device_hint
    if hint is None:
        return error
    return MfaRejectedError(error.message, hint=hint, code=error.code, reason=error.reason, serial=error.serial)


# --------------------------------------------------------------------------------------------------------------
# One prompt per device at a time


@contextlib.contextmanager
def device_lock(state_dir: str, serial: str, timeout: float = 300.0, *, reporter: Reporter = ignore) -> Iterator[None]:
    """Hold the cross-process lock of MFA device ``serial`` while the ``with`` block runs.

    Parallel invocations (tmux panes, several ``credential_process`` calls) for the same device queue here:
    the first prompts and calls STS inside the block; the others wait, then should read the cache again
    before asking for a code. A ``fcntl.flock`` on ``<state_dir>/<sha1(serial)>.device.lock`` (0600, folder
    0700), released by the OS if the holder dies. When the lock is busy, ``reporter`` hears it once. After
    ``timeout`` seconds: ``MfaError``. Not re-entrant.
    """
    from rolecall.fileio import LockTimeoutError, exclusive_lock

    path = os.path.join(state_dir, _device_id(serial) + ".device")
    with contextlib.ExitStack() as stack:
        try:
            # private: the path is taken as it is (no link resolved); the lock file is never followed.
            stack.enter_context(exclusive_lock(path, timeout=0.0, private=True))
        except LockTimeoutError:
            # Busy: tell the person why nothing happens. (A lock that cannot be made at all is raised as it is.)
            reporter(f"waiting for another rolecall that is getting an MFA code for {serial}")
            try:
                stack.enter_context(exclusive_lock(path, timeout=timeout, private=True))
            except LockTimeoutError as error:
                raise MfaError(
                    f"timed out after {timeout:g} s waiting for another rolecall getting an MFA code for {serial}",
                    hint="answer or cancel the prompt in your other terminal, then try again",
                ) from error
        yield
