"""What ``rolecall add-role`` writes, and the check that it works before it is written.

``RoleProfile`` holds the answers (role, source profile, MFA device, external id, session name, duration,
MFA strategy, region); ``changes()`` gives the config-file keys in the AWS CLI's names; ``try_profile`` builds the
chain of the would-be profile against the config text with the profile added, in memory, and assumes the role
once with a new call from the profile's own source (MFA as usual; never a cached session), so nothing is written
that does not work. Off the fast path.
"""

from __future__ import annotations

from dataclasses import dataclass

from rolecall.errors import ConfigError, InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from rolecall.config.parse import ConfigFiles
    from rolecall.credentials import Credentials
    from rolecall.providers.base import Runtime


def role_arn_for(account_or_arn: str, role_name: str | None = None, partition: str = "aws") -> str:
    """A role ARN from an ARN, or from a 12-digit account id and a role name (a path may lead the name)."""
    from rolecall.validation import check_role_arn

    text = account_or_arn.strip()
    if text.startswith("arn:"):
        return check_role_arn(text)
    digits = text.replace("-", "")
    if not (digits.isdigit() and len(digits) == 12):
        raise InvalidInputError(
            f"{text!r} is neither a role ARN nor a 12-digit account id",
            hint="e.g. arn:aws:iam::123456789012:role/admin, or 123456789012 and then the role name",
        )
    if not role_name or not role_name.strip():
        raise InvalidInputError("a role name is needed with an account id", hint="e.g. --role-name admin")
    return check_role_arn(f"arn:{partition}:iam::{digits}:role/{role_name.strip().lstrip('/')}")


def is_mfa_serial(value: str) -> bool:
    """An MFA device ARN (``arn:PARTITION:iam::ACCOUNT:mfa/NAME``, ``u2f/`` too) or a hardware token serial."""
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        return len(parts) == 6 and parts[2] == "iam" and parts[4].isdigit() and parts[5].startswith(("mfa/", "u2f/"))
    return value.isalnum() and 9 <= len(value) <= 256


@dataclass(frozen=True)
class RoleProfile:
    """The answers of the wizard, validated; ``changes()`` are the keys of ``[profile NAME]``."""

    name: str
    role_arn: str
    source_profile: str
    mfa_serial: str | None = None
    external_id: str | None = None
    role_session_name: str | None = None
    duration_seconds: int | None = None
    mfa_strategy: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        from rolecall import validation

        if not self.name or any(char in self.name for char in "[]\n") or self.name != self.name.strip():
            raise InvalidInputError(f"{self.name!r} cannot be a profile name", hint="e.g. prod-admin")
        if self.mfa_serial is not None and not is_mfa_serial(self.mfa_serial):
            raise InvalidInputError(
                f"{self.mfa_serial!r} is not an MFA device ARN", hint="e.g. arn:aws:iam::123456789012:mfa/alice"
            )
        if self.external_id is not None:
            validation.check_external_id(self.external_id)
        if self.role_session_name is not None:
            validation.check_role_session_name(self.role_session_name)
        if self.duration_seconds is not None:
            validation.check_duration(self.duration_seconds)
        if self.mfa_strategy not in (None, "reuse", "direct"):
            raise InvalidInputError("the MFA strategy is reuse or direct", hint="reuse: one code for all roles")
        if self.region is not None:
            validation.check_region(self.region, "the region")

    def changes(self) -> dict[str, str | None]:
        """The keys to write, in the order the AWS CLI documents them (None: not written)."""
        return {
            "role_arn": self.role_arn,
            "source_profile": self.source_profile,
            "mfa_serial": self.mfa_serial,
            "external_id": self.external_id,
            "role_session_name": self.role_session_name,
            "duration_seconds": str(self.duration_seconds) if self.duration_seconds is not None else None,
            "mfa_strategy": self.mfa_strategy,
            "region": self.region,
        }

    def section_text(self) -> str:
        """The profile as it appears in the config file."""
        header = "default" if self.name == "default" else f"profile {self.name}"
        lines = [f"[{header}]"] + [f"{key} = {value}" for key, value in self.changes().items() if value is not None]
        return "\n".join(lines) + "\n"


def duration_note(source_is_temporary: bool, strategy: str | None, mfa: bool) -> str | None:
    """Why a session longer than 1 h will not be had, if it will not."""
    if source_is_temporary:
        return "the source profile has temporary credentials, so this is role chaining: AWS caps it at 1 h"
    if mfa and strategy != "direct":
        return ("with the reuse MFA strategy the role is assumed with an MFA session (role chaining): at most 1 h; "
                "choose direct for longer sessions")  # fmt: skip
    return None


def _trial_files(files: ConfigFiles, config_text: str, spec: RoleProfile) -> ConfigFiles:
    """``files`` with the profile of ``spec`` added to the config text, in memory."""
    from rolecall.config.edit import SectionRef, apply_changes
    from rolecall.config.parse import ConfigFiles as Files
    from rolecall.config.parse import build_profile_map, parse_raw

    text = apply_changes(config_text, SectionRef.profile(spec.name), spec.changes(), "config")
    return Files(build_profile_map(parse_raw(text, "config")), files.credentials, files.paths)


def source_kind(files: ConfigFiles, config_text: str, spec: RoleProfile) -> str:
    """``"temporary"``, ``"long-term"`` or ``"unknown"``: what the source of ``spec``'s role gives, as the chain of
    the would-be profile resolves it (``ProfileGraph.role_source_temporary``), without any call or prompt.

    The graph's rule is the one the chain caps role sessions by (``providers.base.credential_kind`` gives the same
    answer for the provider it builds), so the wizard and every command agree: a source with keys of its own gives
    them (temporary with a session token), SSO and web identity before keys, keys in rolecall's key store are
    long-term, a ``credential_process`` or the environment is unknown until it runs. ``"unknown"`` too when the
    chain runs into a missing profile or a loop: the verification says why.
    """
    from rolecall.config.graph import UNKNOWN, ProfileGraph

    # Without MFA: the strategy (asked separately) does not change what the source is.
    bare = RoleProfile(spec.name, spec.role_arn, spec.source_profile)
    graph = ProfileGraph.of(_trial_files(files, config_text, bare))
    resolution = graph.resolve(bare.name)
    if resolution.loop is not None or resolution.missing is not None:
        return UNKNOWN
    return graph.role_source_temporary(bare.name)


class Trial:
    """A verification that worked: the role's credentials, and the session to keep once the profile is written.

    The session is not in the AWS CLI cache yet: ``keep()`` puts it there (under the key the AWS CLI computes for
    the new profile) after the profile is written, so a refused or abandoned profile leaves no cache entry behind.
    """

    __slots__ = ("_keep", "credentials")

    def __init__(self, credentials: Credentials, keep: Callable[[], object]) -> None:
        self.credentials = credentials
        self._keep = keep

    def keep(self) -> None:
        """Put the session in the AWS CLI cache, so the first use of the profile needs no call (nor MFA code).

        A cache that cannot be written is one warning (``CliCache.put``): the profile is written all the same.
        """
        self._keep()


def try_profile(files: ConfigFiles, config_text: str, spec: RoleProfile, runtime: Runtime) -> Trial:
    """Assume the role of ``spec`` once, as its profile would, without writing it (``RolecallError`` on failure).

    Always a new AssumeRole call with the new profile's own source: the AWS CLI's cache key for a role session
    does not include the source, so an entry another profile got for the same role (another source, one the role
    may trust when this one is refused) must not answer. No cache entry is read for the role, and none is written
    here (``Trial.keep`` writes it once the profile is). The source's own credentials are had as for any use of
    the source (its cache, its MFA session), since they are the source's and not the role's.
    """
    from rolecall.providers.assume_role import AssumeRoleProvider
    from rolecall.providers.base import refuse_expired
    from rolecall.providers.chain import build_chain

    if files.profile(spec.source_profile) is None:
        raise ConfigError(
            f'the source profile "{spec.source_profile}" does not exist',
            hint="run `rolecall configure list-profiles`, or add keys first with `rolecall configure`",
        )
    provider = build_chain(_trial_files(files, config_text, spec), spec.name, runtime, explicit=True).provider
    if not isinstance(provider, AssumeRoleProvider):
        # Keys left in a replaced (--force) section can make it something else (web identity, SSO...).
        raise ConfigError(
            f'profile "{spec.name}" would not assume {spec.role_arn} from "{spec.source_profile}": other keys in '
            "its section come first",
            hint="pick another --name, or remove the old section first",
        )
    with provider.lock():  # the MFA device's: parallel runs share one prompt, as for any assume
        fetched = provider.fetch()
    credentials = refuse_expired(fetched.credentials, provider.answered_by(), runtime.clock())
    key = provider.cache_key()
    return Trial(credentials, lambda: runtime.cli_cache().put(key, fetched.document))
