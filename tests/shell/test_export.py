"""rolecall.export: every format evaluated or parsed back by the real consumer.

sh is evaluated by real bash and zsh, fish by real fish; the exported environment is read back from a child
process (``env -0``), which is what AWS tools see. dotenv is read back by python-dotenv, json/process by ``json``
and by botocore's real ProcessProvider and the real AWS CLI. PowerShell and cmd.exe are not installed on this
machine: their output is checked by small parsers written here that follow each shell's documented quoting
rules (see ``_parse_powershell`` and ``_parse_cmd``).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AwsHome, run_aws
from rolecall import export
from rolecall.credentials import Credentials
from rolecall.errors import InvalidInputError
from rolecall.sandbox import Sandbox
from rolecall.timefmt import parse_timestamp
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

# Far in the future: botocore refuses (and tries to refresh) credentials that have already expired.
EXPIRY = datetime(2099, 11, 28, 1, 2, 3, tzinfo=timezone.utc)
CREDS = Credentials("ASIAEXAMPLEKEY123456", "wJalr/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEBa//token==", EXPIRY)

SHELLS = {
    "dash": ["dash", "-c"],  # Debian's /bin/sh: the sh format is plain POSIX
    "bash": ["bash", "--norc", "--noprofile", "-c"],
    "zsh": ["zsh", "-f", "-c"],
    "fish": ["fish", "--no-config", "-c"],
}
# The code to evaluate comes in through the environment variable RC_CODE, the way `assume` gets it from $(...).
EVAL = {
    "dash": 'eval "$RC_CODE"; unset RC_CODE; env -0',
    "bash": 'eval "$RC_CODE"; unset RC_CODE; env -0',
    "zsh": 'eval "$RC_CODE"; unset RC_CODE; env -0',
    "fish": 'printf "%s" "$RC_CODE" | source; set -e RC_CODE; env -0',
}
FORMAT_OF = {"dash": "sh", "bash": "sh", "zsh": "sh", "fish": "fish"}

# Leftovers of a previous role (and a profile of the user's) that every render must remove.
STALE = {
    "AWS_PROFILE": "stale-profile",
    "AWS_DEFAULT_PROFILE": "stale-default",
    "AWS_SECURITY_TOKEN": "stale-security-token",
    "AWS_SESSION_TOKEN": "stale-session-token",
    "AWS_CREDENTIAL_EXPIRATION": "2000-01-01T00:00:00Z",
    "AWS_ACCOUNT_ID": "999999999999",
    "ROLECALL_PROFILE": "stale",
}


def _need(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")


def _shell_env(aws_home: AwsHome, tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    env = dict(aws_home.env)
    env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8")
    # fish keeps universal variables under XDG dirs: keep them in the test's folder.
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg-config"), XDG_DATA_HOME=str(tmp_path / "xdg-data"))
    env.update(extra)
    return env


def evaluate(shell: str, code: str, env: dict[str, str], then: str | None = None) -> dict[str, str]:
    """Evaluate ``code`` in a real ``shell`` and return the environment a child process then sees."""
    script = EVAL[shell] if then is None else EVAL[shell].replace("env -0", then)
    result = subprocess.run(
        [*SHELLS[shell], script],
        env={**env, "RC_CODE": code},
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stderr == b"", result.stderr.decode(errors="replace")
    if then is not None:
        return {"__stdout__": result.stdout.decode()}
    out: dict[str, str] = {}
    for item in result.stdout.split(b"\0"):
        if item:
            name, _, value = item.partition(b"=")
            out[name.decode()] = value.decode("utf-8", "surrogateescape")
    return out


# --- the variables, in real shells -------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["dash", "bash", "zsh", "fish"])
def test_render_sets_exact_values_and_removes_leftovers(shell: str, aws_home: AwsHome, tmp_path: Path) -> None:
    _need(shell)
    creds = Credentials("AKIDX", 'sec\'ret "$HOME" `id` \\n !x %PATH%', "to\nken", EXPIRY, "123456789012")
    code = export.render(creds, FORMAT_OF[shell], profile="prod", region="eu-west-1")
    seen = evaluate(shell, code, _shell_env(aws_home, tmp_path, STALE))
    assert seen["AWS_ACCESS_KEY_ID"] == "AKIDX"
    assert seen["AWS_SECRET_ACCESS_KEY"] == creds.secret_access_key
    assert seen["AWS_SESSION_TOKEN"] == "to\nken"
    assert seen["AWS_CREDENTIAL_EXPIRATION"] == "2099-11-28T01:02:03Z"
    assert seen["AWS_ACCOUNT_ID"] == "123456789012"
    assert seen["AWS_REGION"] == seen["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert seen["ROLECALL_PROFILE"] == "prod"
    for gone in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"):
        assert gone not in seen


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_long_term_keys_unset_the_previous_token_and_expiry(shell: str, aws_home: AwsHome, tmp_path: Path) -> None:
    _need(shell)
    code = export.render(Credentials("AKIDLONG", "secret"), FORMAT_OF[shell])
    seen = evaluate(shell, code, _shell_env(aws_home, tmp_path, {**STALE, "AWS_REGION": "us-west-2"}))
    assert (seen["AWS_ACCESS_KEY_ID"], seen["AWS_SECRET_ACCESS_KEY"]) == ("AKIDLONG", "secret")
    for gone in (*export.CREDENTIAL_VARS[2:], "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "ROLECALL_PROFILE"):
        assert gone not in seen, gone
    assert seen["AWS_REGION"] == "us-west-2"  # a region is configuration: left alone when none is given


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_unset_previous_false_only_sets(shell: str, aws_home: AwsHome, tmp_path: Path) -> None:
    _need(shell)
    code = export.render(CREDS, FORMAT_OF[shell], unset_previous=False)
    seen = evaluate(shell, code, _shell_env(aws_home, tmp_path, STALE))
    assert seen["AWS_PROFILE"] == "stale-profile"
    assert seen["AWS_SESSION_TOKEN"] == CREDS.session_token


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_profile_only_and_unset(shell: str, aws_home: AwsHome, tmp_path: Path) -> None:
    _need(shell)
    fmt = FORMAT_OF[shell]
    env = _shell_env(aws_home, tmp_path, {**STALE, "AWS_ACCESS_KEY_ID": "OLD", "AWS_SECRET_ACCESS_KEY": "OLD"})
    seen = evaluate(shell, export.render_profile_only("dev", fmt, region="ap-south-1"), env)
    assert (seen["AWS_PROFILE"], seen["ROLECALL_PROFILE"], seen["AWS_REGION"]) == ("dev", "dev", "ap-south-1")
    for gone in (*export.CREDENTIAL_VARS, "AWS_DEFAULT_PROFILE"):
        assert gone not in seen, gone
    env = _shell_env(aws_home, tmp_path, {**STALE, "AWS_ACCESS_KEY_ID": "OLD", "AWS_REGION": "us-east-1"})
    seen = evaluate(shell, export.render_unset(fmt), env)
    for gone in export.UNSET_VARS:
        assert gone not in seen, gone
    assert seen["AWS_REGION"] == "us-east-1"


def test_render_unset_refuses_formats_without_unset() -> None:
    for fmt in ("dotenv", "json", "process"):
        with pytest.raises(InvalidInputError):
            export.render_unset(fmt)
    for fmt in ("json", "process"):
        with pytest.raises(InvalidInputError):
            export.render_profile_only("dev", fmt)
    with pytest.raises(InvalidInputError, match="unknown output format"):
        export.render(CREDS, "yaml")


def test_sh_quoting_survives_zsh_rc_quotes(aws_home: AwsHome, tmp_path: Path) -> None:
    """zsh's RC_QUOTES makes '' inside quotes a quote: the renderer never writes an empty quoted segment."""
    _need("zsh")
    value = "'' a''b '"
    code = export.render(Credentials("K", value), "sh")
    result = subprocess.run(
        ["zsh", "-f", "-c", 'setopt RC_QUOTES; eval "$RC_CODE"; printf %s "$AWS_SECRET_ACCESS_KEY"'],
        env={**_shell_env(aws_home, tmp_path, {}), "RC_CODE": code},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout == value, result.stderr


def test_fish_universal_variable_is_not_erased(aws_home: AwsHome, tmp_path: Path) -> None:
    """`set -e -g`: a universal AWS_PROFILE (shared by all fish sessions) survives a render."""
    _need("fish")
    code = export.render(CREDS, "fish")
    env = _shell_env(aws_home, tmp_path, {})
    script = 'set -U AWS_PROFILE mine; printf "%s" "$RC_CODE" | source; set -q -U AWS_PROFILE; and echo kept'
    result = subprocess.run(
        # Without --no-config: under it fish keeps no universal variables. XDG dirs are the test's own (empty).
        ["fish", "-c", script],
        env={**env, "RC_CODE": code},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout == "kept\n", result.stderr


# --- what AWS tools see ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_botocore_and_aws_cli_see_the_exported_keys(shell: str, aws_home: AwsHome, tmp_path: Path) -> None:
    """After a render, botocore resolves exactly the new keys (not the stale AWS_SECURITY_TOKEN it would prefer,
    not the stale AWS_PROFILE, which names a profile that does not exist and would make it fail)."""
    _need(shell)
    code = export.render(CREDS, FORMAT_OF[shell], profile="prod", region="eu-west-1")
    probe = (
        "import botocore.session, json; c = botocore.session.Session().get_credentials().get_frozen_credentials(); "
        "print(json.dumps([c.access_key, c.secret_key, c.token]))"
    )
    quoted = export.quote_fish(probe) if shell == "fish" else export.quote_sh(probe)
    env = _shell_env(aws_home, tmp_path, STALE)
    out = evaluate(shell, code, env, then=f"{sys.executable} -c {quoted}")["__stdout__"]
    assert json.loads(out) == [CREDS.access_key_id, CREDS.secret_access_key, CREDS.session_token]

    seen = evaluate(shell, code, env)
    listing = run_aws(["configure", "list"], env=seen)
    assert listing.returncode == 0, listing.stderr
    lines = {line.split()[0]: line.split()[1:] for line in listing.stdout.splitlines()[2:] if line.strip()}
    assert lines["profile"][0] == "<not"  # "<not set>": no leftover profile
    assert lines["access_key"] == ["****************3456", "env"]
    assert lines["region"][:2] == ["eu-west-1", "env"]


# --- property tests: any value survives every format -------------------------------------------------------

_SPECIAL = " '\"\n\r\t$`\\%!#&|;<>()[]{}*?~^=,:é€ß日本😀\u2018\u2019\u201a\u201b\x01\x7f\u00a0"
_values = st.one_of(
    st.text(alphabet=st.sampled_from(_SPECIAL), max_size=12),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
    st.text(alphabet=st.sampled_from("abc'\"\\$\n"), max_size=8),
)
_creds = st.builds(
    Credentials,
    _values.filter(bool),
    _values,
    st.one_of(st.none(), _values),
    st.one_of(st.none(), st.just(EXPIRY)),
    st.one_of(st.none(), st.just("123456789012")),
)


def _expected(creds: Credentials, profile: str, region: str) -> dict[str, str]:
    sets, _ = export.env_changes(creds, profile=profile, region=region)
    return dict(sets)


@pytest.mark.parametrize("shell", ["dash", "bash", "zsh", "fish"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(creds=_creds, profile=_values.filter(bool), region=_values.filter(bool))
def test_property_values_survive_real_shells(
    shell: str, creds: Credentials, profile: str, region: str, aws_home: AwsHome, tmp_path: Path
) -> None:
    _need(shell)
    code = export.render(creds, FORMAT_OF[shell], profile=profile, region=region)
    seen = evaluate(shell, code, _shell_env(aws_home, tmp_path, STALE))
    expected = _expected(creds, profile, region)
    assert {name: seen.get(name) for name in export.MANAGED_VARS if name in seen} == expected


def _parse_powershell(code: str) -> tuple[dict[str, str], list[str]]:
    """PowerShell's rules for what the renderer writes: ``$Env:N = '...'`` where ``'``, U+2018, U+2019, U+201A
    and U+201B all quote, and two quote characters in a row inside the string stand for the second one."""
    quotes = "'\u2018\u2019\u201a\u201b"
    sets: dict[str, str] = {}
    unsets: list[str] = []
    pos = 0
    while pos < len(code):
        if code.startswith("Remove-Item -Path Env:", pos):
            end = code.index(" -ErrorAction SilentlyContinue\n", pos)
            unsets.append(code[pos + len("Remove-Item -Path Env:") : end])
            pos = end + len(" -ErrorAction SilentlyContinue\n")
            continue
        assert code.startswith("$Env:", pos)
        eq = code.index(" = ", pos)
        name = code[pos + 5 : eq]
        pos = eq + 3
        assert code[pos] in quotes
        pos += 1
        value = []
        while True:
            char = code[pos]
            if char in quotes:
                if pos + 1 < len(code) and code[pos + 1] in quotes:
                    value.append(code[pos + 1])
                    pos += 2
                    continue
                pos += 1
                break
            value.append(char)
            pos += 1
        assert code[pos] == "\n"
        pos += 1
        sets[name] = "".join(value)
    return sets, unsets


@settings(max_examples=300, deadline=None)
@given(creds=_creds, profile=_values.filter(bool), region=_values.filter(bool))
def test_property_powershell_quoting(creds: Credentials, profile: str, region: str) -> None:
    if not all(_expected(creds, profile, region).values()):
        # Assigning '' to an environment variable removes it on Windows: refused rather than silently lost.
        with pytest.raises(InvalidInputError, match="is empty"):
            export.render(creds, "powershell", profile=profile, region=region)
        return
    sets, unsets = _parse_powershell(export.render(creds, "powershell", profile=profile, region=region))
    assert sets == _expected(creds, profile, region)
    assert unsets == export.env_changes(creds, profile=profile, region=region)[1]


_CMD_REFUSED = set('%!"')


def _parse_cmd(code: str) -> dict[str, str]:
    """cmd.exe's ``set "NAME=value"``: the value runs from the first ``=`` to the last ``"`` of the line, and
    inside the quotes ``^ & | < > ( )`` are literal. ``%``/``!`` expansion is not modelled: the renderer
    refuses those characters, which this parser asserts."""
    out: dict[str, str] = {}
    for line in code.splitlines():
        assert line.startswith('set "') and line.endswith('"')
        name, _, value = line[5:-1].partition("=")
        assert not (_CMD_REFUSED & set(value))
        if value:
            out[name] = value
    return out


@settings(max_examples=300, deadline=None)
@given(creds=_creds, profile=_values.filter(bool), region=_values.filter(bool))
def test_property_cmd_sets_or_refuses(creds: Credentials, profile: str, region: str) -> None:
    expected = _expected(creds, profile, region)
    representable = all(
        v and not (_CMD_REFUSED & set(v)) and all(0x20 <= ord(c) <= 0x7E for c in v) for v in expected.values()
    )
    if not representable:
        with pytest.raises(InvalidInputError):
            export.render(creds, "cmd", profile=profile, region=region)
        return
    assert _parse_cmd(export.render(creds, "cmd", profile=profile, region=region)) == expected


@settings(max_examples=300, deadline=None)
@given(creds=_creds, profile=_values.filter(bool), region=_values.filter(bool))
def test_property_dotenv_read_back_by_python_dotenv(creds: Credentials, profile: str, region: str) -> None:
    from dotenv import dotenv_values

    expected = _expected(creds, profile, region)
    if any("$" in v for v in expected.values()):
        with pytest.raises(InvalidInputError, match=r"contains '\$'"):
            export.render(creds, "dotenv", profile=profile, region=region)
        return
    text = export.render(creds, "dotenv", profile=profile, region=region)
    # interpolate=True is python-dotenv's default: the renderer must be safe under it.
    assert dict(dotenv_values(stream=io.StringIO(text))) == expected


@settings(max_examples=500, deadline=None)
@given(value=st.text())
def test_property_json_string_is_json_dumps(value: str) -> None:
    assert export.json_string(value) == json.dumps(value)
    assert export.json_string(value, ensure_ascii=False) == json.dumps(value, ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(creds=_creds)
def test_property_json_and_process_byte_exact(creds: Credentials) -> None:
    doc: dict[str, object] = {"AccessKeyId": creds.access_key_id, "SecretAccessKey": creds.secret_access_key}
    if creds.session_token is not None:
        doc["SessionToken"] = creds.session_token
    if creds.expiration is not None:
        doc["Expiration"] = "2099-11-28T01:02:03Z"
    # `aws sts assume-role --query Credentials`: indent 4, non-ASCII as is.
    assert export.render(creds, "json") == json.dumps(doc, indent=4, ensure_ascii=False) + "\n"
    process: dict[str, object] = {"Version": 1, **doc}
    if creds.account_id:
        process["AccountId"] = creds.account_id
    # `aws configure export-credentials --format process`: json.dumps(indent=2).
    assert export.render(creds, "process") == json.dumps(process, indent=2) + "\n"


# --- credential_process: botocore's real ProcessProvider and the real AWS CLI ------------------------------


def _process_profile(aws_home: AwsHome, tmp_path: Path, creds: Credentials) -> None:
    out = tmp_path / "process.json"
    out.write_text(export.render(creds, "process"))
    command = f"{sys.executable} -c \"import sys; sys.stdout.write(open('{out}').read())\""
    aws_home.write_config(f"[profile proc]\ncredential_process = {command}\nregion = us-east-1\n")


@pytest.mark.parametrize("expiry", [EXPIRY, None])
def test_process_output_accepted_by_botocore(expiry: datetime | None, aws_home: AwsHome, tmp_path: Path) -> None:
    import botocore.session

    creds = Credentials("ASIAPROC", "proc-secret", "proc-token", expiry, "123456789012")
    _process_profile(aws_home, tmp_path, creds)
    resolved = botocore.session.Session(profile="proc").get_credentials()
    assert resolved is not None
    assert resolved.method == "custom-process"
    frozen = resolved.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("ASIAPROC", "proc-secret", "proc-token")
    assert getattr(resolved, "_expiry_time", None) == expiry
    assert frozen.account_id == "123456789012"


def test_process_output_accepted_by_aws_cli(aws_home: AwsHome, tmp_path: Path) -> None:
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    _process_profile(aws_home, tmp_path, Credentials("ASIAPROCCLI9876", "s", "t", future))
    listing = run_aws(["configure", "list", "--profile", "proc"], env=aws_home.env)
    assert listing.returncode == 0, listing.stderr
    assert "****************9876 custom-process" in " ".join(listing.stdout.split())


def test_no_secret_in_refusal_messages() -> None:
    secret = "se%cret-value"
    with pytest.raises(InvalidInputError) as caught:
        export.render(Credentials("AKID", secret), "cmd")
    assert secret not in caught.value.message and secret not in (caught.value.hint or "")
    assert "AWS_SECRET_ACCESS_KEY" in caught.value.message
    with pytest.raises(InvalidInputError, match="NUL"):
        export.render(Credentials("AKID", "a\x00b"), "sh")


def test_export_stays_off_heavy_imports() -> None:
    """The renderers are on the fast path: rendering every format imports none of the slow modules."""
    code = (
        "import sys; from datetime import datetime, timezone; from rolecall import export; "
        "from rolecall.credentials import Credentials; "
        "c = Credentials('A', 'B', 'C', datetime(2030, 1, 1, tzinfo=timezone.utc), '1'); "
        "[export.render(c, f, profile='p', region='r') for f in export.FORMATS]; "
        "print(sorted(m for m in ('re', 'json', 'typing', 'dataclasses', 'pathlib', 'shlex', 'enum') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=os.environ)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_leftover_aws_profile_breaks_botocore_unless_unset(aws_home: AwsHome, tmp_path: Path) -> None:
    """Why render unsets AWS_PROFILE: with the keys exported but a stale profile name left, botocore fails."""
    _need("bash")
    probe = export.quote_sh(
        "import botocore.session; print(botocore.session.Session().get_credentials().get_frozen_credentials()[0])"
    )
    env = _shell_env(aws_home, tmp_path, {"AWS_PROFILE": "stale-profile"})
    for unset_previous, expected in ((False, "ProfileNotFound"), (True, CREDS.access_key_id)):
        code = export.render(CREDS, "sh", unset_previous=unset_previous)
        result = subprocess.run(
            ["bash", "--norc", "--noprofile", "-c", f'eval "$RC_CODE"; {sys.executable} -c {probe} 2>&1'],
            env={**env, "RC_CODE": code},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert expected in result.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_render_assignments_sets_and_unsets_any_variables(shell: str, aws_home: AwsHome, tmp_path: Path) -> None:
    _need(shell)
    assignments = [
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:4711/c/x?y=1&z='2'"),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok $x `y`"),
    ]
    code = export.render_assignments(assignments, FORMAT_OF[shell], unset=["AWS_ACCESS_KEY_ID", "AWS_PROFILE"])
    env = _shell_env(aws_home, tmp_path, {"AWS_ACCESS_KEY_ID": "OLD", "AWS_PROFILE": "p"})
    seen = evaluate(shell, code, env)
    assert {name: seen[name] for name, _ in assignments} == dict(assignments)
    assert "AWS_ACCESS_KEY_ID" not in seen and "AWS_PROFILE" not in seen


def test_render_assignments_refuses_bad_names_and_non_shell_formats() -> None:
    for name in ("", "1X", "A-B", "A B", "X;rm", "É"):
        with pytest.raises(InvalidInputError, match="not a valid environment variable name"):
            export.render_assignments([(name, "v")], "sh")
    with pytest.raises(InvalidInputError):
        export.render_assignments([("A", "v")], "process")
    assert export.render_assignments([("A_1", "v")], "dotenv", unset=["B"]) == 'A_1="v"\n'


def test_json_format_is_byte_for_byte_what_aws_sts_assume_role_prints(
    sandbox: Sandbox,  # noqa: F811 - the fixture
    aws_home: AwsHome,
) -> None:
    """The oracle is the real AWS CLI: `aws sts assume-role --query Credentials` against the local STS."""
    env = seeded_env(sandbox, aws_home)
    role = sandbox.role_arn("readonly")
    result = run_aws(
        ["sts", "assume-role", "--role-arn", role, "--role-session-name", "oracle", "--query", "Credentials"], env
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    creds = Credentials(
        doc["AccessKeyId"], doc["SecretAccessKey"], doc["SessionToken"], parse_timestamp(doc["Expiration"])
    )
    assert export.render(creds, "json") == result.stdout
