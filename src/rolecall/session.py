"""``Session``: one command's view of the outside world, with the AWS files read once.

Built once per command (the CLI builds it from its ``Context``: ``ctx.session``) from the environment, the clock
and the reporters. It reads the config and credentials files at most once, when first asked (``files``), and
keeps what is derived from them: the profile graph (``graph``), the settings of each AWS call per profile and
service (``settings``), a profile's provider chain (``chain``). Library helpers that need those (who the
credentials belong to, a federation token for the console, the MFA devices a user may list) are methods here,
so they take the files from here instead of reading them again; their AWS calls go through ``transport``
(default: the process-wide one; tests pass their own).

A command that writes one of the files and then reads it again calls ``forget_files()`` in between.

On the fast path (``rolecall env`` with a cached role): only ``files`` and ``chain`` are used there, so this
module imports nothing at load time beyond what the fast path has already; everything else is imported inside
the method that needs it.
"""

from __future__ import annotations

from rolecall.config.paths import AwsPaths, profile_from_env
from rolecall.reporting import ignore
from rolecall.timefmt import utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from typing import Any

    from rolecall.aws.settings import StsSettings
    from rolecall.aws.transport import Transport
    from rolecall.config.graph import ProfileGraph
    from rolecall.config.parse import ConfigFiles
    from rolecall.credentials import Credentials
    from rolecall.providers.base import Runtime
    from rolecall.providers.chain import Chain
    from rolecall.reporting import Reporter

__all__ = ["Session", "files_from_texts"]


class Session:
    """The environment, paths, clock and reporters of one command, and the AWS files loaded lazily and once."""

    __slots__ = (
        "_files", "_graph", "_settings", "_transport", "clock", "env", "on_load", "paths", "reporter", "warn"
    )  # fmt: skip

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        paths: AwsPaths | None = None,
        clock: Callable[[], datetime] = utc_now,
        reporter: Reporter = ignore,
        warn: Reporter | None = None,
        on_load: Callable[[AwsPaths], None] | None = None,
        transport: Transport | None = None,
    ) -> None:
        """``reporter`` tells a person what happens (``ctx.say``), ``warn`` says a warning once (``ctx.warn``;
        default: ``reporter``). ``on_load`` is called each time the files are read (a counting hook for tests
        and tools). ``transport`` carries the session's own AWS calls (default: the process-wide one)."""
        self.env = env
        self.paths = paths if paths is not None else AwsPaths.from_env(env)
        self.clock = clock
        self.reporter = reporter
        self.warn = warn if warn is not None else reporter
        self.on_load = on_load
        self._files: ConfigFiles | None = None
        self._graph: ProfileGraph | None = None
        self._settings: dict[tuple[str | None, str, str | None, str | None], StsSettings] = {}
        self._transport = transport

    # -- the files, read once -----------------------------------------------------------------------------------
    @property
    def files(self) -> ConfigFiles:
        """Both AWS files as botocore sees them, read (through the parse cache) on first use and kept."""
        if self._files is None:
            from rolecall.config.parse import ConfigFiles

            if self.on_load is not None:
                self.on_load(self.paths)
            self._files = ConfigFiles.load(self.paths)
        return self._files

    def files_and_config_text(self) -> tuple[ConfigFiles, str]:
        """``files`` and the config file's text (``""`` when missing), for a command that edits it in memory first
        (add-role tries its profile before writing it): the config file read once for both.

        Anything out of the ordinary (not a regular file, unreadable, not UTF-8) takes the two reads of before, so
        that the errors are those of every command.
        """
        if self._files is None:
            read = _utf8_text(self.paths.config_file)
            if read is not None:
                from rolecall.config.parse import ConfigFiles, build_profile_map, parse_raw, read_raw_file

                text, exists = read
                config = build_profile_map(parse_raw(text, self.paths.config_file)) if exists else None
                if self.on_load is not None:
                    self.on_load(self.paths)
                self._files = ConfigFiles(config, read_raw_file(self.paths.credentials_file), self.paths)
                return self._files, text
        files = self.files
        from rolecall import fileio

        data = fileio.read_bytes(self.paths.config_file)
        return files, data.decode("utf-8") if data is not None else ""

    def adopt_files(self, files: ConfigFiles) -> None:
        """Use ``files`` (already read by the caller, e.g. from the texts doctor lints) instead of reading them."""
        self.forget_files()
        self._files = files

    def forget_files(self) -> None:
        """Drop what was read, after this command changed a file it reads again."""
        self._files = None
        self._graph = None
        self._settings.clear()

    @property
    def graph(self) -> ProfileGraph:
        """The profile graph of ``files`` (kinds, source links, chains), built once."""
        if self._graph is None:
            from rolecall.config.graph import ProfileGraph

            self._graph = ProfileGraph.of(self.files)
        return self._graph

    def profile_name(self, profile: str | None) -> str:
        """``profile``, else AWS_PROFILE / AWS_DEFAULT_PROFILE, else ``default`` (the AWS CLI's order)."""
        return profile or profile_from_env(self.env) or "default"

    # -- how calls are made ---------------------------------------------------------------------------------------
    def settings(
        self,
        profile: str | None,
        service: str = "sts",
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> StsSettings:
        """Where ``service``'s calls for profile ``profile`` go (``aws.settings.resolve_settings``), worked out once per
        profile, service and command-line override. ``profile`` None: the environment and the files' defaults only
        (no profile's keys)."""
        key = (profile, service, region, endpoint_url)
        found = self._settings.get(key)
        if found is None:
            from rolecall.aws.settings import resolve_settings

            files = self.files
            values = files.profile(profile) if profile is not None else None
            found = resolve_settings(
                self.env, values, files.full_config, region=region, endpoint_url=endpoint_url, service=service
            )
            self._settings[key] = found
        return found

    @property
    def transport(self) -> Transport:
        """The transport the session's AWS calls go through (imported on first use: off the fast path)."""
        if self._transport is None:
            from rolecall.aws.transport import DEFAULT

            self._transport = DEFAULT
        return self._transport

    def runtime(self, **options: Any) -> Runtime:
        """A ``Runtime`` on this session's environment, paths, clock and reporter.

        ``options`` are ``Runtime``'s: ``token_code``, ``mfa_strategy``, ``region``, ``endpoint_url``,
        ``allow_prompt``, ``force_refresh`` (and ``reporter``, default this session's).
        """
        from rolecall.providers.base import Runtime

        options.setdefault("reporter", self.reporter)
        return Runtime(self.env, self.paths, clock=self.clock, **options)

    def chain(self, profile: str | None, runtime: Runtime | None = None, **options: Any) -> Chain:
        """The provider chain of ``profile`` (None: AWS_PROFILE, then ``default``) on the files read once.

        ``runtime`` is the one to use, else one is made from ``options`` (see ``runtime``); a ``token_code`` and a
        ``region`` given are checked first, as before any call: a cached role makes none, yet the region is still
        exported, and a region no SDK accepts must not reach a shell.
        """
        from rolecall.providers.chain import build_chain

        if runtime is None:
            _check_options(options)
            runtime = self.runtime(**options)
        return build_chain(self.files, self.profile_name(profile), runtime, explicit=profile is not None)

    def chain_with(self, build: Callable[[Runtime], Chain], **options: Any) -> Chain:
        """``build(runtime)``, the runtime made from ``options`` as ``chain`` makes it (``token_code`` and ``region``
        checked first): the chain of what is not a profile of the files (an ad-hoc role, ``rolecall.adhoc``)."""
        _check_options(options)
        return build(self.runtime(**options))

    # -- questions answered with the session ------------------------------------------------------------------
    def caller_identity(
        self,
        profile: str,
        credentials: Credentials,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> dict[str, Any]:
        """GetCallerIdentity's answer for ``credentials``, sent where profile ``profile``'s STS calls go (the command
        line's ``region``/``endpoint_url``, then the environment, then the profile). ``AwsError`` when they do not
        work."""
        from rolecall.aws.sts import get_caller_identity

        settings = self.settings(profile, region=region, endpoint_url=endpoint_url)
        return get_caller_identity(settings, credentials, transport=self.transport)

    def federation_token(
        self,
        profile: str,
        credentials: Credentials,
        *,
        policy: str,
        duration_seconds: int | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> Credentials:
        """Temporary credentials from an IAM user's long-term ``credentials`` (GetFederationToken, named
        ``rolecall-PROFILE`` as far as AWS's 32 characters allow, with ``policy``), sent where profile ``profile``'s
        STS calls go. ``duration_seconds`` None: AWS's default. ``AwsError`` when AWS refuses."""
        from rolecall.aws.sts import credentials_from_response, get_federation_token
        from rolecall.validation import sanitize_session_name

        settings = self.settings(profile, region=region, endpoint_url=endpoint_url)
        name = sanitize_session_name(f"rolecall-{profile}")[:32]
        response = get_federation_token(
            settings,
            credentials,
            transport=self.transport,
            Name=name if len(name) >= 2 else "rolecall",
            Policy=policy,
            DurationSeconds=duration_seconds,  # None: not sent
        )
        return credentials_from_response(response)

    def mfa_devices(self, profile: str, runtime: Runtime) -> list[str]:
        """The MFA devices of the IAM user behind ``profile``'s credentials ([] for a role or federated session).

        Resolves the profile (MFA as usual through ``runtime``), asks GetCallerIdentity who it is and IAM
        ListMFADevices for that user. Raises ``RolecallError`` (an ``AwsError`` when IAM refuses the listing).
        """
        from rolecall.aws.iam import list_mfa_devices

        credentials = self.chain(profile, runtime).provider.retrieve()
        arn = str(self.caller_identity(profile, credentials).get("Arn", ""))
        if ":user/" not in arn:
            return []  # a role or federated session has no MFA devices of its own
        # The user's name, as AWS would take from the caller; some emulators need it spelled out.
        return list_mfa_devices(
            self.settings(profile, "iam"), credentials, arn.rsplit("/", 1)[-1], transport=self.transport
        )


def files_from_texts(paths: AwsPaths, config: str | None, credentials: str | None) -> ConfigFiles:
    """The files at ``paths`` from their texts already read (``None``: no such file), as ``ConfigFiles.load`` would
    parse them (without the parse cache); a text holding U+FFFD (bytes that were not UTF-8, replaced) is read
    again from its file, where the locale's encoding may apply as botocore's does. Raises ``ConfigError``."""
    from rolecall.config.parse import ConfigFiles, build_profile_map, parse_raw, read_raw_file

    def raw(text: str | None, path: str) -> dict[str, Any] | None:
        if text is not None and "\ufffd" in text:
            return read_raw_file(path)
        return None if text is None else parse_raw(text, path)

    config_raw = raw(config, paths.config_file)
    return ConfigFiles(
        None if config_raw is None else build_profile_map(config_raw), raw(credentials, paths.credentials_file), paths
    )


def _utf8_text(path: str) -> tuple[str, bool] | None:
    """(the text of ``path``, True) for a readable regular UTF-8 file, ``("", False)`` when there is no such file,
    None for anything else (the caller then reads it the ordinary way, which explains what is wrong)."""
    import os

    try:
        if os.stat(path).st_mode & 0o170000 != 0o100000:
            return None
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return "", False
    except OSError:
        return None
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return None


def _check_options(options: Mapping[str, Any]) -> None:
    """Refuse a malformed ``token_code`` or ``region`` before anything is resolved (``InvalidInputError``)."""
    if options.get("token_code") is not None:
        from rolecall.validation import check_token_code

        check_token_code(options["token_code"])
    if options.get("region"):
        from rolecall.validation import check_region

        check_region(options["region"])
