"""The profile graph (config/graph.py) answers what the resolver does: kinds, chains, loops, temporariness.

The graph is the one place the files are asked "what is this profile, what is its source, does that give
temporary credentials, where does the chain loop"; the chain builder, doctor, list, save and add-role read it.
These tests hold it to the resolver itself (``providers.chain.build_chain`` and ``providers.base.credential_kind``)
over generated configs, and pin the readers' answers on the cases where they used to disagree.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolecall.config.graph import (
    ASSUME_ROLE,
    EMPTY,
    KEYS,
    LOGIN_SESSION,
    LONG_TERM,
    PROCESS,
    SSO,
    TEMPORARY,
    UNKNOWN,
    WEB_IDENTITY,
    ProfileGraph,
)
from rolecall.config.lint import SourceFile, lint, profile_chain
from rolecall.config.parse import ConfigFiles
from rolecall.config.paths import AwsPaths
from rolecall.errors import ConfigError, RolecallError
from rolecall.overview import chain_text
from rolecall.providers.assume_role import AssumeRoleProvider
from rolecall.providers.base import Runtime, credential_kind
from rolecall.providers.chain import build_chain

NAMES = ("p0", "p1", "p2", "p3")
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ROLE = "arn:aws:iam::123456789012:role/r"


def _graph(config: str, credentials: str = "") -> tuple[ConfigFiles, ProfileGraph]:
    files = ConfigFiles.from_texts(config, credentials)
    return files, ProfileGraph.of(files)


# --- kinds, links, temporariness on hand-written files ------------------------------------------------------------


def test_kinds_in_botocores_order() -> None:
    config = (
        "[profile role]\nrole_arn = " + ROLE + "\nsource_profile = keys\n"
        "[profile web]\nrole_arn = " + ROLE + "\nweb_identity_token_file = /t\nsource_profile = keys\n"
        "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = R\n"
        "[profile login]\nlogin_session = arn:aws:iam::123456789012:user/a\n"
        "[profile proc]\ncredential_process = /bin/true\n"
        "[profile stored]\ncredential_process = rolecall credential-process --keys main\n"
        "[profile conf-keys]\naws_access_key_id = " + KEY_ID + "\naws_secret_access_key = " + SECRET + "\n"
        "[profile proc-and-conf-keys]\ncredential_process = /bin/true\naws_access_key_id = " + KEY_ID + "\n"
        "aws_secret_access_key = " + SECRET + "\n"
        "[profile login-only-session]\nsso_session = corp\n"
        "[profile empty]\nregion = us-east-1\n"
    )
    credentials = f"[keys]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
    credentials += f"[temp]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\naws_session_token = T\n"
    _, graph = _graph(config, credentials)
    assert graph.kind("role") == ASSUME_ROLE and graph.source_profile("role") == "keys"
    assert graph.kind("web") == WEB_IDENTITY and graph.source_profile("web") is None  # its source_profile is ignored
    assert graph.kind("sso") == SSO
    assert graph.kind("login") == LOGIN_SESSION
    assert graph.kind("proc") == PROCESS and graph.kind("stored") == PROCESS
    assert graph.kind("conf-keys") == KEYS
    # credential_process comes before keys in the config file (botocore's order)...
    assert graph.kind("proc-and-conf-keys") == PROCESS
    # ...an sso_session without an account and a role is a login, not a role profile: nothing to resolve.
    assert graph.kind("login-only-session") == EMPTY and not graph.gives_credentials("login-only-session")
    assert graph.kind("empty") == EMPTY and graph.kind("missing") == EMPTY
    assert [graph.temporary(n) for n in ("role", "web", "sso", "keys", "temp", "proc", "stored", "login")] == [
        TEMPORARY, TEMPORARY, TEMPORARY, LONG_TERM, TEMPORARY, UNKNOWN, LONG_TERM, UNKNOWN
    ]  # fmt: skip


def test_a_source_with_keys_gives_its_keys_and_a_top_level_role_is_assumed() -> None:
    config = (f"[profile top]\nrole_arn = {ROLE}\nsource_profile = both\n"
              f"[profile both]\nrole_arn = {ROLE}\nsource_profile = x\n")
    credentials = f"[both]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
    _, graph = _graph(config, credentials)
    assert graph.kind("both") == ASSUME_ROLE  # asked for itself: its role
    assert graph.source_kind("both", "top") == KEYS  # as a source: its keys (botocore)
    assert graph.role_source_temporary("top") == LONG_TERM
    assert graph.resolve("top").profiles == ["top", "both"] and graph.resolve("top").loop is None


def test_credential_source_links() -> None:
    config = "".join(
        f"[profile {name}]\nrole_arn = {ROLE}\ncredential_source = {name}\n"
        for name in ("Environment", "Ec2InstanceMetadata", "EcsContainer")
    )
    _, graph = _graph(config)
    assert graph.credential_source("Environment") == "Environment"
    assert graph.resolve("EcsContainer").credential_source == "EcsContainer"
    assert [graph.role_source_temporary(n) for n in ("Environment", "Ec2InstanceMetadata", "EcsContainer")] == [
        UNKNOWN, TEMPORARY, TEMPORARY
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("config", "credentials", "loop"),
    [
        (f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n[profile b]\nrole_arn = {ROLE}\nsource_profile = a\n",
         "", ["a", "b", "a"]),
        (f"[profile a]\nrole_arn = {ROLE}\nsource_profile = a\n", "", ["a", "a"]),
        (f"[profile a]\nrole_arn = {ROLE}\nsource_profile = a\n",
         f"[a]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n", None),  # allowed self-reference
        (f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n[profile b]\nrole_arn = {ROLE}\nsource_profile = a\n",
         f"[b]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n", None),  # b's keys end it
        (f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n[profile b]\nrole_arn = {ROLE}\n"
         "web_identity_token_file = /t\nsource_profile = a\n", "", None),  # web identity ignores source_profile
    ],
)
def test_loops_and_their_members(config: str, credentials: str, loop: list[str] | None) -> None:
    files, graph = _graph(config, credentials)
    assert graph.resolve("a").loop == loop
    runtime = Runtime({}, AwsPaths.from_env({"HOME": "/nonexistent"}))
    if loop is None:
        build_chain(files, "a", runtime)
    else:
        with pytest.raises(ConfigError, match="profile chain loops"):
            build_chain(files, "a", runtime)


def test_a_missing_source_is_named() -> None:
    _, graph = _graph(f"[profile a]\nrole_arn = {ROLE}\nsource_profile = nope\n")
    resolution = graph.resolve("a")
    assert resolution.profiles == ["a", "nope"] and resolution.missing == "nope" and resolution.loop is None


def test_answers_are_kept_and_nothing_is_read_until_asked() -> None:
    asked: list[str] = []

    def lookup(name: str) -> dict[str, str] | None:
        asked.append(name)
        return {"role_arn": ROLE, "source_profile": "b"} if name == "a" else None

    graph = ProfileGraph(lookup)
    assert asked == []
    first = graph.resolve("a")
    count = len(asked)
    assert graph.resolve("a") is first and len(asked) == count


# --- the readers agree with the resolver ---------------------------------------------------------------------------


def test_list_shows_no_loop_where_a_source_with_keys_ends_the_chain() -> None:
    """b names a as its source_profile, but its keys end the chain: `rolecall list` used to print `(loop)`."""
    config = f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n[profile b]\nrole_arn = {ROLE}\nsource_profile = a\n"
    files, _ = _graph(config, f"[b]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    assert chain_text(files, "a") == "a -> b"
    looped, _ = _graph(config)
    assert chain_text(looped, "a") == "a -> b -> a -> (loop)"


def test_doctor_takes_sso_from_the_resolvers_rule() -> None:
    """A source with an sso_session but no account or role is not resolved through SSO: its long-term keys are
    used, so a 2 h role session is no role chaining (RC005 used to say "an IAM Identity Center (SSO) role")."""
    config = (f"[profile top]\nrole_arn = {ROLE}\nsource_profile = src\nduration_seconds = 7200\n"
              "[profile src]\nsso_session = corp\n"
              "[profile sso-src]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = R\n"
              f"[profile top2]\nrole_arn = {ROLE}\nsource_profile = sso-src\nduration_seconds = 7200\n")  # fmt: skip
    credentials = f"[src]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    found = lint(SourceFile("config", config), SourceFile("credentials", credentials), now)
    assert [(f.id, f.profile) for f in found if f.id == "RC005"] == [("RC005", "top2")]
    assert profile_chain(SourceFile("config", config), SourceFile("credentials", credentials), "top") == ["top", "src"]


# --- generated configs: the graph and the chain builder never disagree ----------------------------------------------

_PROFILE_PARTS = st.fixed_dictionaries(
    {},
    optional={
        "role_arn": st.just(ROLE),
        "source_profile": st.sampled_from([*NAMES, "nope"]),
        "credential_source": st.sampled_from(["Environment", "Ec2InstanceMetadata", "EcsContainer"]),
        "web_identity_token_file": st.just("/t"),
        "sso": st.just(True),
        "login_session": st.just("arn:aws:iam::123456789012:user/a"),
        "credential_process": st.sampled_from(["/bin/true", "rolecall credential-process --keys main"]),
        "file_keys": st.sampled_from(["long", "token"]),
        "config_keys": st.sampled_from(["long", "token"]),
    },
)


def _keys(kind: str) -> str:
    return f"aws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n" + (
        "aws_session_token = T\n" if kind == "token" else ""
    )


def _files(profiles: list[dict[str, object]]) -> tuple[str, str]:
    config, credentials = "", ""
    for name, parts in zip(NAMES, profiles, strict=True):
        config += f"[profile {name}]\nregion = us-east-1\n"
        for key, value in parts.items():
            if key == "sso":
                config += "sso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n"
                config += "sso_account_id = 123456789012\nsso_role_name = R\n"
            elif key == "file_keys":
                credentials += f"[{name}]\n{_keys(str(value))}"
            elif key == "config_keys":
                config += _keys(str(value))
            else:
                config += f"{key} = {value}\n"
    return config, credentials


_KINDS_BY_METHOD = {
    "assume-role": ASSUME_ROLE, "assume-role-with-web-identity": WEB_IDENTITY, "sso": SSO,
    "shared-credentials-file": KEYS, "config-file": KEYS, "login": LOGIN_SESSION, "custom-process": PROCESS,
    "rolecall-keystore": PROCESS,
}  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PROFILE_PARTS, min_size=len(NAMES), max_size=len(NAMES)))
def test_the_graph_agrees_with_the_chain_builder(profiles: list[dict[str, object]]) -> None:
    config, credentials = _files(profiles)
    files, graph = _graph(config, credentials)
    runtime = Runtime({}, AwsPaths.from_env({"HOME": str(Path("/nonexistent"))}))
    resolution = graph.resolve("p0")
    try:
        provider = build_chain(files, "p0", runtime, explicit=True).provider
    except RolecallError as error:
        loop = re.fullmatch(r"profile chain loops: (.*)", error.message)
        if loop is not None:
            assert resolution.loop is not None
            assert loop.group(1) == " -> ".join([*resolution.profiles, resolution.loop[-1]])
        return
    assert resolution.loop is None and resolution.missing is None
    assert _KINDS_BY_METHOD.get(provider.method) == graph.kind("p0")
    if isinstance(provider, AssumeRoleProvider):
        # The rule the chain caps role sessions by, and the graph's: one answer.
        assert credential_kind(provider.source) == graph.role_source_temporary("p0")
        # The profiles the resolution uses: every role hop, then the source that ends it.
        used, current = [], provider
        while isinstance(current, AssumeRoleProvider):
            used.append(current.profile.name)
            current = current.source
        ends_in_profile = current.method not in ("env", "iam-role", "container-role")
        assert resolution.profiles[: len(used)] == used
        assert len(resolution.profiles) == len(used) + (1 if ends_in_profile and resolution.profiles[-1] != used[-1]
                                                         else 0)  # fmt: skip
